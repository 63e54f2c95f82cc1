//! Every function's role allows exactly what its code calls. The code paths are written here,
//! independently of `stack/access.rs`, each with the AWS grants it needs and the places in the
//! source that show the calls; the test checks that every cited call is still where it is
//! cited, then compares the union of each function's grants with the policy synthesised for
//! it: a missing grant fails, and so does an extra one. Also here: the idempotency secret, and
//! the parameters the functions read at cold start.
//!
//! The sources of `handlers` and `kyc-aws` are read as text: stackgen depends on neither crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;
use stackgen::stack::Env;

/// Where the source shows a call: file (from the workspace root), the function that makes it,
/// and the call as written there (whitespace does not matter).
type Cite = (&'static str, &'static str, &'static str);

/// A code path and what it needs: `(action, resource)`. A resource is a logical id of the
/// template (`SessionsTable`: its ARN), `Id/*` for every object of a bucket or
/// `Id/stream/*` for a table's streams, `parameter/kyc/{env}` for the parameter path,
/// `{Fn}LogGroup`/`{Fn}DeadLetterQueue` for the function's own, `*` for an unscopable action.
struct CodePath {
    what: &'static str,
    cites: &'static [Cite],
    grants: &'static [(&'static str, &'static str)],
}

const SERVICE: &str = "handlers/src/service/mod.rs";
const ROUTES: &str = "handlers/src/app/routes.rs";
const AWS: &str = "handlers/src/aws.rs";
const SESSIONS: &str = "kyc-aws/src/dynamo/sessions.rs";
const DYNAMO: &str = "kyc-aws/src/dynamo/mod.rs";
const AUDIT: &str = "kyc-aws/src/dynamo/audit.rs";
const OCR_DATA: &str = "kyc-aws/src/dynamo/ocr.rs";
const S3: &str = "kyc-aws/src/s3.rs";
const SNS: &str = "kyc-aws/src/sns.rs";
const KMS: &str = "kyc-aws/src/kms.rs";
const PARAMS: &str = "kyc-aws/src/params.rs";
const REKOGNITION: &str = "kyc-aws/src/rekognition/mod.rs";
const TEXTRACT: &str = "kyc-aws/src/textract/mod.rs";
const FUNCTIONS: &str = "stackgen/src/stack/functions.rs";
const STORAGE: &str = "stackgen/src/stack/storage.rs";

const LAMBDA_PLATFORM: CodePath = CodePath {
    what: "the Lambda service with the function's role: its log group, active tracing, its dead-letter queue, its environment encrypted with the data key",
    cites: &[
        (FUNCTIONS, "build", ".log_group(log_group.to_ref())"),
        (FUNCTIONS, "build", ".tracing_config(TracingConfig::new().mode(Mode::Active))"),
        (FUNCTIONS, "build", ".dead_letter_config(DeadLetterConfig::new().target_arn(dlq.arn()))"),
        (FUNCTIONS, "build", ".kms_key_arn(store.key.arn())"),
    ],
    grants: &[
        ("logs:CreateLogStream", "{Fn}LogGroup"),
        ("logs:PutLogEvents", "{Fn}LogGroup"),
        ("xray:PutTelemetryRecords", "*"),
        ("xray:PutTraceSegments", "*"),
        ("sqs:SendMessage", "{Fn}DeadLetterQueue"),
        ("kms:Decrypt", "DataKey"),
    ],
};

const COLD_START: CodePath = CodePath {
    what: "AwsPlatform::from_env reads every parameter under KYC_PARAMETER_PATH",
    cites: &[
        (FUNCTIONS, "build", "\"KYC_PARAMETER_PATH\".into()"),
        (
            AWS,
            "from_env",
            "parameters_by_path(&aws_sdk_ssm::Client::new(&sdk),p)",
        ),
        (
            PARAMS,
            "parameters_by_path",
            "lethierarchy=path.as_str().trim_end_matches('/');",
        ),
        (
            PARAMS,
            "parameters_by_path",
            ".get_parameters_by_path().path(hierarchy).recursive(true)",
        ),
    ],
    grants: &[("ssm:GetParametersByPath", "parameter/kyc/{env}")],
};

const API_SECRET: CodePath = CodePath {
    what:
        "the api binary will not start without the idempotency secret, whichever routes it serves",
    cites: &[
        (
            "handlers/src/bin/api.rs",
            "main",
            "AwsPlatform::from_env(Function::Api)",
        ),
        (
            AWS,
            "resolve",
            "None=>matchparameters.get(&path.name(IDEMPOTENCY_SECRET_ARN)){",
        ),
        (
            AWS,
            "from_env",
            "IdempotencySource::Secret(arn)=>Some(derive_secret(&secrets.get(arn).await?)?)",
        ),
        (
            AWS,
            "from_env",
            "iffunction==Function::Api&&idempotency_secret.is_none(){",
        ),
        (PARAMS, "get", ".get_secret_value().secret_id(secret_id)"),
    ],
    grants: &[("secretsmanager:GetSecretValue", "IdempotencySecret")],
};

const WORKER_START: CodePath = CodePath {
    what: "the workers never derive verification ids, so they never read the idempotency secret",
    cites: &[
        (
            "handlers/src/bin/ocr.rs",
            "main",
            "AwsPlatform::from_env(Function::Ocr)",
        ),
        (
            "handlers/src/bin/sanctions.rs",
            "main",
            "AwsPlatform::from_env(Function::Sanctions)",
        ),
        (
            AWS,
            "resolve",
            "Noneiffunction!=Function::Api=>IdempotencySource::None",
        ),
    ],
    grants: &[],
};

const SESSION_LOAD: CodePath = CodePath {
    what: "every step loads the session (DynamoSessionStore::load, a consistent GetItem)",
    cites: &[
        (SERVICE, "load_any", "self.platform.sessions().load(id)"),
        (
            SESSIONS,
            "load",
            "get_consistent(&self.client,&self.table,\"verificationId\",id.as_str())",
        ),
        (DYNAMO, "get_consistent", "client.get_item()"),
    ],
    grants: &[("dynamodb:GetItem", "SessionsTable")],
};

const SESSION_SAVE: CodePath = CodePath {
    what: "every change saves the session conditionally on the loaded version",
    cites: &[
        (
            SERVICE,
            "mutate_with",
            "self.platform.sessions().save(&session,Some(version))",
        ),
        (SESSIONS, "save", "self.client.put_item()"),
        (
            SESSIONS,
            "save",
            ".condition_expression(\"version=:expected\")",
        ),
    ],
    grants: &[("dynamodb:PutItem", "SessionsTable")],
};

const AUDIT_APPEND: CodePath = CodePath {
    what: "every recorded step appends to the audit chain: head, conditional write, read-back after an ambiguous failure",
    cites: &[
        (SERVICE, "audit", "append_with_retry(self.platform.audit(),draft"),
        (AUDIT, "append", "self.append_event(draft)"),
        (AUDIT, "append_event", "self.head(id)"),
        (AUDIT, "head", ".query()"),
        (AUDIT, "append_event", ".put_item()"),
        (AUDIT, "append_event", ".stored_hash(id,event.seq())"),
        (AUDIT, "stored_hash", ".get_item()"),
    ],
    grants: &[
        ("dynamodb:Query", "AuditLogTable"),
        ("dynamodb:PutItem", "AuditLogTable"),
        ("dynamodb:GetItem", "AuditLogTable"),
    ],
};

const PUBLISH: CodePath = CodePath {
    what: "Service::publish sends each step's domain event to the events topic, which is encrypted with the data key",
    cites: &[
        (SERVICE, "publish", "self.platform.events().publish(&event)"),
        (SNS, "publish", "self.client.publish().topic_arn(&self.topic_arn)"),
        (STORAGE, "topic", ".kms_master_key_id(key.arn())"),
    ],
    grants: &[("sns:Publish", "EventsTopic"), ("kms:GenerateDataKey", "DataKey")],
};

const DECIDE: CodePath = CodePath {
    what:
        "Service::decide reads the OCR record's evidence, then records and announces the decision",
    cites: &[
        (SERVICE, "decide", "self.platform.records().get(id,now)"),
        (SERVICE, "decide", "self.mutate(id,"),
        (
            SERVICE,
            "decide",
            "self.publish(*id,DomainEventKind::Decided",
        ),
        (AWS, "get", "self.0.get(id,now)"),
        (OCR_DATA, "get", "get_consistent(&self.client,&self.table"),
    ],
    grants: &[("dynamodb:GetItem", "OcrDataTable")],
};

const UPLOAD: CodePath = CodePath {
    what: "POST /v1/upload-id: Service::upload looks for a replayed key's session, stores the image (SSE-KMS), creates the session",
    cites: &[
        (ROUTES, "upload_id", ".service.upload(clean.bytes"),
        (SERVICE, "upload", "self.platform.sessions().load(&id)"),
        (SERVICE, "upload", "self.platform.objects().put(&ObjectKey::id_upload(&id)"),
        (SERVICE, "upload", "self.platform.sessions().save(&session,None)"),
        (SERVICE, "upload", "self.audit(EventDraft::new("),
        (SERVICE, "upload", "self.publish(id,DomainEventKind::DocumentUploaded"),
        (SESSIONS, "save", ".condition_expression(\"attribute_not_exists(verificationId)\")"),
        (S3, "put", "self.client.put_object()"),
        (S3, "put", ".server_side_encryption(ServerSideEncryption::AwsKms)"),
    ],
    grants: &[
        ("dynamodb:GetItem", "SessionsTable"),
        ("dynamodb:PutItem", "SessionsTable"),
        ("s3:PutObject", "IdUploadsBucket/*"),
        ("kms:GenerateDataKey", "DataKey"),
    ],
};

const START_LIVENESS: CodePath = CodePath {
    what: "POST /v1/start-liveness: Service::start_liveness records a challenge (session step, audit, event)",
    cites: &[
        (ROUTES, "start_liveness", ".service.start_liveness(&id)"),
        (SERVICE, "start_liveness", "self.mutate(id,"),
        (SERVICE, "start_liveness", "self.audit(EventDraft::new("),
        (SERVICE, "start_liveness", "self.publish(*id,DomainEventKind::LivenessStarted"),
    ],
    grants: &[],
};

const SUBMIT_FRAME: CodePath = CodePath {
    what: "POST /v1/submit-frame: Service::submit_frame analyses the frame, stores it (SSE-KMS), records it; the last one completes the challenge",
    cites: &[
        (ROUTES, "submit_frame", ".service.submit_frame("),
        (SERVICE, "submit_frame", "self.load(id)"),
        (SERVICE, "submit_frame", "self.platform.faces().analyze(&img)"),
        (SERVICE, "submit_frame", "self.platform.objects().put(&frame_key,image,content_type)"),
        (SERVICE, "submit_frame", "self.mutate(id,"),
        (SERVICE, "submit_frame", "self.after_liveness(id)"),
        (REKOGNITION, "detect", ".detect_faces()"),
        (S3, "put", "self.client.put_object()"),
    ],
    grants: &[
        ("rekognition:DetectFaces", "*"),
        ("s3:PutObject", "LiveFramesBucket/*"),
        ("kms:GenerateDataKey", "DataKey"),
    ],
};

const FACE_MATCH: CodePath = CodePath {
    what: "Service::after_liveness: the face match of the document portrait against the most frontal frames, then the decision",
    cites: &[
        (SERVICE, "after_liveness", "self.publish(*id,DomainEventKind::LivenessCompleted"),
        (SERVICE, "after_liveness", "self.match_face(id,&session)"),
        (SERVICE, "after_liveness", "self.decide(id)"),
        (SERVICE, "match_face", "self.platform.objects().get(&ObjectKey::id_upload(id))"),
        (SERVICE, "match_face", "ObjectKey::live_frame(id,f.frame_id.as_str())"),
        (SERVICE, "match_face", "self.platform.objects().get(&key)"),
        (SERVICE, "match_face", "self.platform.faces().compare(&reference,&probe)"),
        (S3, "get", ".get_object()"),
        (REKOGNITION, "compare_faces", ".compare_faces()"),
    ],
    grants: &[
        ("s3:GetObject", "IdUploadsBucket/*"),
        ("s3:GetObject", "LiveFramesBucket/*"),
        ("rekognition:CompareFaces", "*"),
    ],
};

const VERIFICATION: CodePath = CodePath {
    what: "GET /v1/verify/{id}: Service::verification completes an abandoned challenge, persists an expiry, reads the record",
    cites: &[
        (ROUTES, "verify", ".service.verification(&id)"),
        (SERVICE, "verification", "self.complete_expired_challenge(id)"),
        (SERVICE, "complete_expired_challenge", "self.after_liveness(id)"),
        (SERVICE, "verification", "s.expire_if_due(now);"),
        (SERVICE, "verification", "self.platform.records().get(id,now)"),
        (SERVICE, "verification", "self.token(&session,now)"),
    ],
    grants: &[("dynamodb:GetItem", "OcrDataTable")],
};

const TOKEN: CodePath = CodePath {
    what: "Service::token signs an approved verification's token with the KMS key (its key id from the public key)",
    cites: &[
        (SERVICE, "token", "signer.public_key()"),
        (SERVICE, "token", "signer.sign(input.as_bytes())"),
        (AWS, "connect", "KmsTokenSigner::connect(self.client.clone(),&self.key)"),
        (KMS, "connect", ".get_public_key()"),
        (KMS, "sign", ".sign()"),
    ],
    grants: &[
        ("kms:GetPublicKey", "TokenSigningKey"),
        ("kms:Sign", "TokenSigningKey"),
    ],
};

const IPS: CodePath = CodePath {
    what: "POST /v1/ips: Service::compare compares the selfie with the document",
    cites: &[
        (ROUTES, "ips", ".service.compare("),
        (
            SERVICE,
            "compare",
            "self.platform.faces().compare(document,selfie)",
        ),
        (REKOGNITION, "compare_faces", ".compare_faces()"),
    ],
    grants: &[("rekognition:CompareFaces", "*")],
};

const ERASE: CodePath = CodePath {
    what: "DELETE /v1/verifications/{id}: Service::erase removes every version of the images, the OCR record and the audit chain's personal values",
    cites: &[
        (ROUTES, "erase", ".service.erase(&id)"),
        (SERVICE, "erase", "self.load_any(id)"),
        (SERVICE, "erase", "self.platform.objects().delete_all(id)"),
        (SERVICE, "erase", "self.platform.records().delete(id)"),
        (SERVICE, "erase", "self.mutate_any(id,"),
        (SERVICE, "erase", "self.platform.audit().redact(*id)"),
        (SERVICE, "erase", "self.publish(*id,DomainEventKind::Erased"),
        (S3, "delete_all", "ObjectKey::ocr_raw(id)"),
        (S3, "delete_all", ".purge(&self.buckets.live_frames,&frames,|_|true)"),
        (S3, "purge", ".list_object_versions()"),
        (S3, "purge", "self.delete_batch(bucket,doomed)"),
        (S3, "delete_batch", ".delete_objects()"),
        (AWS, "delete", "self.0.delete(id)"),
        (OCR_DATA, "delete", ".delete_item()"),
        (AUDIT, "redact", "self.redact_chain(verification_id)"),
        (AUDIT, "redact_chain", "self.items(id,true)"),
        (AUDIT, "items", ".query()"),
        (AUDIT, "redact_chain", ".update_item()"),
    ],
    grants: &[
        ("s3:ListBucketVersions", "IdUploadsBucket"),
        ("s3:ListBucketVersions", "LiveFramesBucket"),
        ("s3:ListBucketVersions", "OcrRawBucket"),
        ("s3:DeleteObject", "IdUploadsBucket/*"),
        ("s3:DeleteObject", "LiveFramesBucket/*"),
        ("s3:DeleteObject", "OcrRawBucket/*"),
        ("s3:DeleteObjectVersion", "IdUploadsBucket/*"),
        ("s3:DeleteObjectVersion", "LiveFramesBucket/*"),
        ("s3:DeleteObjectVersion", "OcrRawBucket/*"),
        ("dynamodb:DeleteItem", "OcrDataTable"),
        ("dynamodb:Query", "AuditLogTable"),
        ("dynamodb:UpdateItem", "AuditLogTable"),
    ],
};

const JWKS: CodePath = CodePath {
    what: "GET /.well-known/jwks.json: the signing key's public key",
    cites: &[
        (ROUTES, "jwks", ".platform().jwks()"),
        (AWS, "jwks", "self.signer.public_key()"),
        (KMS, "connect", ".get_public_key()"),
    ],
    grants: &[("kms:GetPublicKey", "TokenSigningKey")],
};

const READ_DOCUMENT: CodePath = CodePath {
    what: "S3 ObjectCreated: Service::read_document reads the image with Textract (forms, the default mode) and stores the OCR record",
    cites: &[
        ("handlers/src/lambda/ocr.rs", "handle", "service.read_document(&id)"),
        (SERVICE, "read_document", "self.load(id)"),
        (SERVICE, "read_document", "self.platform.objects().get(&ObjectKey::id_upload(id))"),
        (SERVICE, "read_document", "self.platform.reader().read(&image)"),
        (SERVICE, "read_document", "self.platform.records().put(id,&record"),
        (SERVICE, "read_document", "self.mutate(id,"),
        (SERVICE, "read_document", "self.publish(*id,DomainEventKind::DocumentRead"),
        (SERVICE, "read_document", "self.decide(id)"),
        (S3, "get", ".get_object()"),
        (TEXTRACT, "call", "ifself.mode.calls_forms(){"),
        (TEXTRACT, "call", ".analyze_document()"),
        (AWS, "put", "self.0.put(id,record,now,expires_at)"),
        (OCR_DATA, "put", ".put_item()"),
    ],
    grants: &[
        ("s3:GetObject", "IdUploadsBucket/*"),
        ("textract:AnalyzeDocument", "*"),
        ("dynamodb:PutItem", "OcrDataTable"),
    ],
};

const ANALYZE_ID: CodePath = CodePath {
    what: "KYC_TEXTRACT_MODE analyze-id or both: TextractDocumentReader also calls AnalyzeID",
    cites: &[
        (AWS, "resolve", "env(TEXTRACT_MODE_VARIABLE)"),
        (TEXTRACT, "call", "ifself.mode.calls_analyze_id(){"),
        (TEXTRACT, "call", ".analyze_id()"),
    ],
    grants: &[("textract:AnalyzeID", "*")],
};

const ASYNC_INVOCATION: CodePath = CodePath {
    what: "invoked asynchronously (S3, SNS): Lambda sends a failed event to the dead-letter queue, which is encrypted with the data key",
    cites: &[
        (STORAGE, "uploads_bucket", "LambdaConfiguration::new(\"s3:ObjectCreated:*\",function_arn)"),
        (FUNCTIONS, "wire_events", "sns::Subscription::new(\"lambda\",store.task_topic.to_ref())"),
        (STORAGE, "queue", ".kms_master_key_id(key.arn())"),
    ],
    grants: &[("kms:GenerateDataKey", "DataKey")],
};

const SCREEN: CodePath = CodePath {
    what: "KycOcrData stream: Service::screen reads the subject from the OCR record, records the screening, may decide",
    cites: &[
        ("handlers/src/lambda/sanctions.rs", "handle", "service.screen(&id,false)"),
        (SERVICE, "screen", "self.load(id)"),
        (SERVICE, "screen", "self.platform.records().get(id,now)"),
        (SERVICE, "screen", "self.platform.screener().screen("),
        (SERVICE, "screen", "self.mutate(id,"),
        (SERVICE, "screen", "self.decide(id)"),
    ],
    grants: &[("dynamodb:GetItem", "OcrDataTable")],
};

const SCREENING_PROVIDER: CodePath = CodePath {
    what: "KYC_SCREENING_API_URL: AwsScreener screens with the third-party provider, its key in the stack's secret",
    cites: &[
        (AWS, "resolve", "secret_arn:resources.screening_secret_arn.clone()"),
        (AWS, "provider_screener", "secrets.get(secret_arn)"),
        (PARAMS, "get", ".get_secret_value().secret_id(secret_id)"),
    ],
    grants: &[("secretsmanager:GetSecretValue", "ScreeningProviderSecret")],
};

const OCR_STREAM: CodePath = CodePath {
    what: "the event source mapping reads the KycOcrData stream with the function's role and sends exhausted batches to the encrypted failure queue",
    cites: &[
        (FUNCTIONS, "wire_events", "(\"SanctionsFromOcrStream\",Handler::Sanctions,&store.ocr)"),
        (FUNCTIONS, "wire_events", ".on_failure(OnFailure::new().destination(store.stream_failures.arn()))"),
        (STORAGE, "queue", ".kms_master_key_id(key.arn())"),
    ],
    grants: &[
        ("dynamodb:DescribeStream", "OcrDataTable/stream/*"),
        ("dynamodb:GetRecords", "OcrDataTable/stream/*"),
        ("dynamodb:GetShardIterator", "OcrDataTable/stream/*"),
        ("dynamodb:ListStreams", "OcrDataTable/stream/*"),
        ("sqs:SendMessage", "StreamFailuresQueue"),
        ("kms:GenerateDataKey", "DataKey"),
    ],
};

const TASKS_STREAM: CodePath = CodePath {
    what: "the event source mapping reads the tasks stream with the function's role and sends exhausted batches to the encrypted failure queue",
    cites: &[
        (FUNCTIONS, "wire_events", "Handler::TaskEvents,&store.tasks,"),
        (FUNCTIONS, "wire_events", ".on_failure(OnFailure::new().destination(store.stream_failures.arn()))"),
        (STORAGE, "queue", ".kms_master_key_id(key.arn())"),
    ],
    grants: &[
        ("dynamodb:DescribeStream", "TasksTable/stream/*"),
        ("dynamodb:GetRecords", "TasksTable/stream/*"),
        ("dynamodb:GetShardIterator", "TasksTable/stream/*"),
        ("dynamodb:ListStreams", "TasksTable/stream/*"),
        ("sqs:SendMessage", "StreamFailuresQueue"),
        ("kms:GenerateDataKey", "DataKey"),
    ],
};

// The task board has no binary yet: its functions keep the grants of its design, with nothing
// to cite. `task_board_paths_are_cited_once_its_binaries_exist` notices when that changes.

const TASK_BOARD_CONFIG: CodePath = CodePath {
    what: "task board (design): the stack's parameters at cold start",
    cites: &[],
    grants: &[("ssm:GetParametersByPath", "parameter/kyc/{env}")],
};

const TASKS_DESIGN: CodePath = CodePath {
    what: "task board (design): the tasks API over DynamoTaskStore",
    cites: &[],
    grants: &[
        ("dynamodb:DeleteItem", "TasksTable"),
        ("dynamodb:GetItem", "TasksTable"),
        ("dynamodb:PutItem", "TasksTable"),
        ("dynamodb:Query", "TasksTable"),
        ("dynamodb:Scan", "TasksTable"),
        ("dynamodb:UpdateItem", "TasksTable"),
    ],
};

const AUTHORIZER_DESIGN: CodePath = CodePath {
    what: "task board (design): the token authorizer checks tokens against the signing key",
    cites: &[],
    grants: &[("kms:GetPublicKey", "TokenSigningKey")],
};

const WS_CONNECTION_DESIGN: CodePath = CodePath {
    what: "task board (design): WebSocket connections come and go",
    cites: &[],
    grants: &[
        ("dynamodb:DeleteItem", "ConnectionsTable"),
        ("dynamodb:PutItem", "ConnectionsTable"),
    ],
};

const TASK_EVENTS_DESIGN: CodePath = CodePath {
    what: "task board (design): task changes go to the task events topic",
    cites: &[],
    grants: &[("sns:Publish", "TaskEventsTopic")],
};

const TASK_PUSH_DESIGN: CodePath = CodePath {
    what: "task board (design): each event is pushed to every connection",
    cites: &[],
    grants: &[
        ("dynamodb:DeleteItem", "ConnectionsTable"),
        ("dynamodb:Scan", "ConnectionsTable"),
        (
            "execute-api:ManageConnections",
            "TaskBoardWebSocketApi/prod/POST/@connections/*",
        ),
    ],
};

/// Each function (by handler name) and the code paths it runs.
const FUNCTION_PATHS: &[(&str, &[&CodePath])] = &[
    (
        "upload-id",
        &[
            &LAMBDA_PLATFORM,
            &COLD_START,
            &API_SECRET,
            &UPLOAD,
            &AUDIT_APPEND,
            &PUBLISH,
        ],
    ),
    (
        "liveness",
        &[
            &LAMBDA_PLATFORM,
            &COLD_START,
            &API_SECRET,
            &START_LIVENESS,
            &SUBMIT_FRAME,
            &SESSION_LOAD,
            &SESSION_SAVE,
            &FACE_MATCH,
            &DECIDE,
            &AUDIT_APPEND,
            &PUBLISH,
        ],
    ),
    (
        "verify",
        &[
            &LAMBDA_PLATFORM,
            &COLD_START,
            &API_SECRET,
            &VERIFICATION,
            &SESSION_LOAD,
            &SESSION_SAVE,
            &FACE_MATCH,
            &DECIDE,
            &AUDIT_APPEND,
            &PUBLISH,
            &TOKEN,
            &IPS,
        ],
    ),
    (
        "erasure",
        &[
            &LAMBDA_PLATFORM,
            &COLD_START,
            &API_SECRET,
            &ERASE,
            &SESSION_LOAD,
            &SESSION_SAVE,
            &AUDIT_APPEND,
            &PUBLISH,
        ],
    ),
    ("jwks", &[&LAMBDA_PLATFORM, &COLD_START, &API_SECRET, &JWKS]),
    (
        "ocr",
        &[
            &LAMBDA_PLATFORM,
            &COLD_START,
            &WORKER_START,
            &ASYNC_INVOCATION,
            &READ_DOCUMENT,
            &ANALYZE_ID,
            &SESSION_LOAD,
            &SESSION_SAVE,
            &DECIDE,
            &AUDIT_APPEND,
            &PUBLISH,
        ],
    ),
    (
        "sanctions",
        &[
            &LAMBDA_PLATFORM,
            &COLD_START,
            &WORKER_START,
            &OCR_STREAM,
            &SCREEN,
            &SCREENING_PROVIDER,
            &SESSION_LOAD,
            &SESSION_SAVE,
            &DECIDE,
            &AUDIT_APPEND,
            &PUBLISH,
        ],
    ),
    (
        "tasks",
        &[&LAMBDA_PLATFORM, &TASK_BOARD_CONFIG, &TASKS_DESIGN],
    ),
    (
        "authorizer",
        &[&LAMBDA_PLATFORM, &TASK_BOARD_CONFIG, &AUTHORIZER_DESIGN],
    ),
    (
        "ws-connection",
        &[&LAMBDA_PLATFORM, &TASK_BOARD_CONFIG, &WS_CONNECTION_DESIGN],
    ),
    (
        "task-events",
        &[
            &LAMBDA_PLATFORM,
            &TASK_BOARD_CONFIG,
            &TASKS_STREAM,
            &TASK_EVENTS_DESIGN,
        ],
    ),
    (
        "task-push",
        &[
            &LAMBDA_PLATFORM,
            &TASK_BOARD_CONFIG,
            &ASYNC_INVOCATION,
            &TASK_PUSH_DESIGN,
        ],
    ),
];

/// The REST routes each API function serves: (function, method, path as the router writes it).
const API_ROUTES: &[(&str, &str, &str)] = &[
    ("upload-id", "POST", "/v1/upload-id"),
    ("liveness", "POST", "/v1/start-liveness"),
    ("liveness", "POST", "/v1/submit-frame"),
    ("verify", "GET", "/v1/verify/{id}"),
    ("verify", "POST", "/v1/ips"),
    ("erasure", "DELETE", "/v1/verifications/{id}"),
    ("jwks", "GET", "/.well-known/jwks.json"),
];

const API_FUNCTIONS: [&str; 5] = ["upload-id", "liveness", "verify", "erasure", "jwks"];

/// The SDK operations the adapters call (as the Rust SDK names them) and the IAM actions each
/// needs.
const OPERATIONS: &[(&str, &[&str])] = &[
    ("analyze_document", &["textract:AnalyzeDocument"]),
    ("analyze_id", &["textract:AnalyzeID"]),
    ("compare_faces", &["rekognition:CompareFaces"]),
    (
        "create_face_liveness_session",
        &["rekognition:CreateFaceLivenessSession"],
    ),
    ("delete_item", &["dynamodb:DeleteItem"]),
    (
        "delete_objects",
        &["s3:DeleteObject", "s3:DeleteObjectVersion"],
    ),
    ("detect_faces", &["rekognition:DetectFaces"]),
    (
        "get_face_liveness_session_results",
        &["rekognition:GetFaceLivenessSessionResults"],
    ),
    ("get_item", &["dynamodb:GetItem"]),
    ("get_object", &["s3:GetObject"]),
    ("get_parameters_by_path", &["ssm:GetParametersByPath"]),
    ("get_public_key", &["kms:GetPublicKey"]),
    ("get_secret_value", &["secretsmanager:GetSecretValue"]),
    ("list_object_versions", &["s3:ListBucketVersions"]),
    ("publish", &["sns:Publish"]),
    ("put_item", &["dynamodb:PutItem"]),
    ("put_object", &["s3:PutObject"]),
    ("query", &["dynamodb:Query"]),
    ("scan", &["dynamodb:Scan"]),
    ("sign", &["kms:Sign"]),
    ("update_item", &["dynamodb:UpdateItem"]),
];

/// Client methods that are not service calls.
const NOT_CALLS: &[&str] = &["clone", "config"];

/// Actions the Lambda service (or a service the code writes to) uses with the role, with no
/// SDK call in the code: logs, traces, dead-letter and failure queues, event source mappings,
/// KMS under what is read and written, and the task board's design.
const WITHOUT_SDK_CALL: &[&str] = &[
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
    "execute-api:ManageConnections",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sqs:SendMessage",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
];

// ---------------------------------------------------------------------------------------------
// Reading the sources.

fn workspace_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The file without its unit tests.
fn non_test_source(path: &str) -> String {
    let text = workspace_file(path);
    match text.find("\n#[cfg(test)]\nmod tests") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The text of the one function `name` in `source` (from its `fn` line to the closing brace at
/// the same indentation), whitespace removed.
fn function_body(path: &str, source: &str, name: &str) -> Result<String, String> {
    let lines: Vec<&str> = source.lines().collect();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(&format!("fn {name}(")) || l.contains(&format!("fn {name}<")))
        .map(|(i, _)| i)
        .collect();
    let [start] = starts.as_slice() else {
        return Err(format!("{path}: {} functions named {name}", starts.len()));
    };
    let indent: String = lines[*start]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    let end_line = format!("{indent}}}");
    let end = lines[*start..]
        .iter()
        .position(|l| *l == end_line)
        .ok_or_else(|| format!("{path}: the end of fn {name} was not found"))?;
    Ok(squeeze(&lines[*start..=start + end].join("\n")))
}

/// Problems with the cites of `paths`: a file, function or call that is not where it is cited.
fn cite_problems(paths: &[&CodePath]) -> Vec<String> {
    let mut sources: BTreeMap<&str, String> = BTreeMap::new();
    let mut problems = Vec::new();
    for p in paths {
        for (file, function, call) in p.cites {
            let source = sources.entry(file).or_insert_with(|| non_test_source(file));
            match function_body(file, source, function) {
                Ok(body) if body.contains(&squeeze(call)) => {}
                Ok(_) => problems.push(format!(
                    "{}: {file} fn {function} no longer calls `{call}`",
                    p.what
                )),
                Err(e) => problems.push(format!("{}: {e}", p.what)),
            }
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Reading the template.

/// A resource value as a short name: logical ids for `Ref` and `GetAtt …Arn`, `Fn::Sub`
/// evaluated with its variables, bucket ARNs built from names replaced by the bucket's id, and
/// the account and region prefixes of SSM and execute-api ARNs dropped.
fn resource_name(v: &Value, buckets: &BTreeMap<String, String>) -> String {
    let s = evaluate(v);
    for (arn, id) in buckets {
        if let Some(rest) = s.strip_prefix(arn.as_str()) {
            if rest.is_empty() || rest.starts_with('/') {
                return format!("{id}{rest}");
            }
        }
    }
    for prefix in [
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:",
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:",
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    s
}

fn evaluate(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next().expect("one key");
            match (k.as_str(), arg) {
                ("Ref", Value::String(id)) => id.clone(),
                ("Fn::GetAtt", Value::Array(a)) if a.len() == 2 && a[1] == "Arn" => {
                    a[0].as_str().expect("logical id").to_owned()
                }
                ("Fn::GetAtt", Value::Array(a)) if a.len() == 2 => {
                    format!("{}.{}", evaluate(&a[0]), evaluate(&a[1]))
                }
                ("Fn::Sub", Value::String(s)) => s.clone(),
                ("Fn::Sub", Value::Array(a)) if a.len() == 2 => {
                    let mut s = evaluate(&a[0]);
                    for (name, value) in a[1].as_object().expect("variables") {
                        s = s.replace(&format!("${{{name}}}"), &evaluate(value));
                    }
                    s
                }
                _ => panic!("unexpected intrinsic {v}"),
            }
        }
        _ => panic!("unexpected resource value {v}"),
    }
}

fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Every function of the template: handler name → (logical id prefix, the (action, resource)
/// pairs its role allows).
fn granted(t: &Value, env: Env) -> BTreeMap<String, (String, BTreeSet<(String, String)>)> {
    let resources = t["Resources"].as_object().expect("resources");
    let buckets: BTreeMap<String, String> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::S3::Bucket")
        .filter_map(|(id, r)| {
            let name = &r["Properties"]["BucketName"];
            (!name.is_null()).then(|| {
                (
                    format!("arn:${{AWS::Partition}}:s3:::{}", evaluate(name)),
                    id.clone(),
                )
            })
        })
        .collect();
    let mut out = BTreeMap::new();
    for (id, r) in resources {
        if r["Type"] != "AWS::Lambda::Function" {
            continue;
        }
        let p = &r["Properties"];
        let handler = p["FunctionName"]
            .as_str()
            .and_then(|n| n.strip_prefix(&format!("kyc-{env}-")))
            .expect("function name")
            .to_owned();
        let prefix = id.strip_suffix("Function").expect("…Function").to_owned();
        let role = evaluate(&p["Role"]);
        let mut pairs = BTreeSet::new();
        for policy in as_list(&resources[&role]["Properties"]["Policies"]) {
            for st in as_list(&policy["PolicyDocument"]["Statement"]) {
                assert_eq!(st["Effect"], "Allow", "{handler}: {st}");
                assert!(st.get("Condition").is_none(), "{handler}: {st}");
                for a in as_list(&st["Action"]) {
                    for res in as_list(&st["Resource"]) {
                        let action = a.as_str().expect("action").to_owned();
                        pairs.insert((action, resource_name(res, &buckets)));
                    }
                }
            }
        }
        out.insert(handler, (prefix, pairs));
    }
    out
}

fn expected(paths: &[&CodePath], prefix: &str, env: Env) -> BTreeSet<(String, String)> {
    paths
        .iter()
        .flat_map(|p| p.grants.iter())
        .map(|(a, r)| {
            let r = r.replace("{Fn}", prefix).replace("{env}", env.as_str());
            ((*a).to_owned(), r)
        })
        .collect()
}

/// Every `.rs` file under `dir` (from the workspace root).
fn rust_files(dir: &str) -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::from(dir)];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(root.join(&d)).expect("source directory") {
            let name = entry.expect("directory entry").file_name();
            let rel = d.join(&name);
            if root.join(&rel).is_dir() {
                todo.push(rel);
            } else if rel.extension().is_some_and(|e| e == "rs") {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// The `client.<operation>()` calls of a source file (tests left out).
fn sdk_calls(path: &str) -> BTreeSet<String> {
    let text = squeeze(&non_test_source(path));
    let mut calls = BTreeSet::new();
    for (i, _) in text.match_indices("client.") {
        let rest = &text[i + "client.".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if !name.is_empty()
            && rest[name.len()..].starts_with("()")
            && !NOT_CALLS.contains(&name.as_str())
        {
            calls.insert(name);
        }
    }
    calls
}

// ---------------------------------------------------------------------------------------------

#[test]
fn every_cited_call_is_still_where_its_code_path_cites_it() {
    let all: Vec<&CodePath> = FUNCTION_PATHS
        .iter()
        .flat_map(|(_, paths)| paths.iter().copied())
        .collect();
    let problems = cite_problems(&all);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_moved_call_is_reported_with_its_code_path() {
    let moved = CodePath {
        what: "a call that is not there",
        cites: &[(SERVICE, "upload", "self.platform.sessions().delete(&id)")],
        grants: &[],
    };
    let absent = CodePath {
        what: "a function that is not there",
        cites: &[(SERVICE, "no_such_operation", "anything")],
        grants: &[],
    };
    let problems = cite_problems(&[&moved, &absent]);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].contains("no longer calls"), "{problems:#?}");
    assert!(problems[1].contains("0 functions named"), "{problems:#?}");
}

#[test]
fn every_function_role_allows_exactly_what_its_code_paths_call() {
    for env in Env::ALL {
        let t = super::template(env);
        let roles = granted(&t, env);
        let declared: BTreeSet<&str> = FUNCTION_PATHS.iter().map(|(h, _)| *h).collect();
        let deployed: BTreeSet<&str> = roles.keys().map(String::as_str).collect();
        assert_eq!(declared, deployed, "{env}: functions");
        for (handler, paths) in FUNCTION_PATHS {
            let (prefix, allowed) = &roles[*handler];
            let needed = expected(paths, prefix, env);
            let missing: Vec<_> = needed.difference(allowed).collect();
            let extra: Vec<_> = allowed.difference(&needed).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{env} {handler}: missing {missing:#?}, not called by any code path {extra:#?}"
            );
        }
    }
}

#[test]
fn the_api_functions_serve_the_routes_their_code_paths_assume() {
    let router = squeeze(&non_test_source("handlers/src/app/mod.rs"));
    for (_, method, path) in API_ROUTES {
        let route = format!("route(\"{path}\",{}(", method.to_lowercase());
        assert!(router.contains(&route), "the router has no {method} {path}");
    }
    let t = super::template(Env::Dev);
    let resources = t["Resources"].as_object().expect("resources");
    let path_of = |mut id: String| {
        let mut parts = Vec::new();
        while let Some(r) = resources.get(&id) {
            let p = &r["Properties"];
            let part = p["PathPart"].as_str().expect("path part");
            // `{verificationId}` in the REST API is the router's `{id}`.
            parts.push(if part.starts_with('{') { "{id}" } else { part });
            match &p["ParentId"] {
                Value::Object(m) if m.contains_key("Ref") => id = evaluate(&p["ParentId"]),
                _ => break,
            }
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    };
    let mut served = BTreeSet::new();
    for r in resources.values() {
        let p = &r["Properties"];
        if r["Type"] != "AWS::ApiGateway::Method" || p["Integration"]["Type"] != "AWS_PROXY" {
            continue;
        }
        let function = evaluate(&p["Integration"]["Uri"]["Fn::Sub"][1]["Function"]);
        let handler = resources[&function]["Properties"]["FunctionName"]
            .as_str()
            .and_then(|n| n.strip_prefix("kyc-dev-"))
            .expect("function name");
        if API_FUNCTIONS.contains(&handler) {
            let method = p["HttpMethod"].as_str().expect("method").to_owned();
            served.insert((
                handler.to_owned(),
                method,
                path_of(evaluate(&p["ResourceId"])),
            ));
        }
    }
    let assumed: BTreeSet<(String, String, String)> = API_ROUTES
        .iter()
        .map(|(h, m, p)| ((*h).to_owned(), (*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(served, assumed);
}

#[test]
fn task_board_paths_are_cited_once_its_binaries_exist() {
    // The functions with uncited (design) paths are exactly those without a binary.
    let manifest = workspace_file("handlers/Cargo.toml");
    for (handler, paths) in FUNCTION_PATHS {
        let uncited = paths.iter().any(|p| p.cites.is_empty());
        let binary = format!("[[bin]]\nname = \"{handler}\"");
        let served_by_api = API_FUNCTIONS.contains(handler);
        let has_binary = served_by_api || manifest.contains(&binary);
        assert_eq!(
            uncited, !has_binary,
            "{handler}: cite its code paths now that it has a binary"
        );
    }
    assert!(manifest.contains("[[bin]]\nname = \"api\""));
}

#[test]
fn the_idempotency_secret_is_generated_published_where_the_api_reads_it_and_readable_only_by_the_api_functions(
) {
    let aws = non_test_source(AWS);
    assert!(
        aws.contains("pub const IDEMPOTENCY_SECRET_ARN: &str = \"secrets/idempotency-key-arn\";"),
        "handlers/src/aws.rs reads another parameter"
    );
    for env in Env::ALL {
        let t = super::template(env);
        let r = &t["Resources"];
        let secret = &r["IdempotencySecret"];
        assert_eq!(secret["Type"], "AWS::SecretsManager::Secret");
        let generate = &secret["Properties"]["GenerateSecretString"];
        // handlers::aws refuses a secret shorter than 32 characters.
        assert!(generate["PasswordLength"].as_u64() >= Some(32), "{env}");
        assert!(secret["Properties"].get("SecretString").is_none(), "{env}");
        assert_eq!(
            evaluate(&secret["Properties"]["KmsKeyId"]),
            "DataKey",
            "{env}"
        );
        let param = r
            .as_object()
            .expect("resources")
            .values()
            .find(|p| {
                p["Type"] == "AWS::SSM::Parameter"
                    && p["Properties"]["Name"] == format!("/kyc/{env}/secrets/idempotency-key-arn")
            })
            .unwrap_or_else(|| panic!("{env}: no parameter names the secret"));
        assert_eq!(evaluate(&param["Properties"]["Value"]), "IdempotencySecret");

        let roles = granted(&t, env);
        for (handler, (_, allowed)) in &roles {
            let reads = allowed.contains(&(
                "secretsmanager:GetSecretValue".to_owned(),
                "IdempotencySecret".to_owned(),
            ));
            let decrypts = allowed.contains(&("kms:Decrypt".to_owned(), "DataKey".to_owned()));
            let api = API_FUNCTIONS.contains(&handler.as_str());
            assert_eq!(reads, api, "{env} {handler}");
            assert!(!api || decrypts, "{env} {handler}: the secret's key");
        }
        // Nothing else in the template names the secret in a policy.
        let text = t.to_string();
        let policies_naming_it = text.matches("{\"Ref\":\"IdempotencySecret\"}").count();
        // Five role statements and the parameter.
        assert_eq!(policies_naming_it, API_FUNCTIONS.len() + 1, "{env}");
    }
}

#[test]
fn every_parameter_the_functions_read_is_published_under_their_path() {
    let params = non_test_source(PARAMS);
    let names_module = params
        .split("pub mod names {")
        .nth(1)
        .and_then(|rest| rest.split("\n}\n").next())
        .expect("kyc_aws::params::names");
    let mut names: Vec<String> = names_module
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .filter(|l| l.contains(": &str = "))
        .filter_map(|l| l.split('"').nth(1).map(str::to_owned))
        .collect();
    names.push("secrets/idempotency-key-arn".to_owned());
    assert!(names.len() >= 15, "{names:?}");
    for env in Env::ALL {
        let t = super::template(env);
        let resources = t["Resources"].as_object().expect("resources");
        let published: BTreeSet<String> = resources
            .values()
            .filter(|r| r["Type"] == "AWS::SSM::Parameter")
            .filter_map(|r| r["Properties"]["Name"].as_str().map(str::to_owned))
            .collect();
        for name in &names {
            let full = format!("/kyc/{env}/{name}");
            assert!(published.contains(&full), "{env}: {full} is not published");
        }
        for r in resources.values() {
            if r["Type"] == "AWS::Lambda::Function" {
                assert_eq!(
                    r["Properties"]["Environment"]["Variables"]["KYC_PARAMETER_PATH"],
                    format!("/kyc/{env}/"),
                    "{env}"
                );
            }
        }
    }
}

#[test]
fn every_aws_call_maps_to_an_iam_action_and_no_role_allows_an_action_nothing_calls() {
    let mut called = BTreeSet::new();
    let mut files = rust_files("kyc-aws/src");
    files.push(AWS.to_owned());
    for file in &files {
        for op in sdk_calls(file) {
            let actions = OPERATIONS
                .iter()
                .find(|(o, _)| *o == op)
                .map(|(_, a)| *a)
                .unwrap_or_else(|| panic!("{file}: client.{op}() has no IAM action listed here"));
            called.extend(actions.iter().copied());
        }
    }
    // The scan sees the calls this file's code paths cite.
    for action in [
        "dynamodb:GetItem",
        "s3:DeleteObjectVersion",
        "kms:Sign",
        "ssm:GetParametersByPath",
    ] {
        assert!(called.contains(action), "{action}: {called:?}");
    }
    for env in Env::ALL {
        let t = super::template(env);
        for (handler, (_, allowed)) in granted(&t, env) {
            for (action, resource) in &allowed {
                assert!(
                    called.contains(action.as_str()) || WITHOUT_SDK_CALL.contains(&action.as_str()),
                    "{env} {handler}: {action} on {resource}, but no code calls it"
                );
            }
        }
    }
}
