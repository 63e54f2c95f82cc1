//! What each function may do: the one declared table of (IAM action, resource, why) per handler,
//! from which [`functions`](super::functions) generates every function role's policy.
//!
//! Each line says which code path needs the grant, so a reviewer can follow it to the call:
//! the verification service (`handlers/src/service/mod.rs`), the platform built at cold start
//! (`handlers/src/aws.rs`), and the kyc-aws adapter whose module docs list the service calls
//! (`kyc-aws/src/…`). Grants the Lambda service itself uses with the function's role (logs,
//! traces, the dead-letter queue, event source mappings) say so. `stackgen/tests/it/access.rs`
//! checks the synthesised policies against an independent list of code paths, each cited at
//! its place in the source, and fails on a missing grant and on an extra one.
//!
//! Key use: every role may `kms:Decrypt` with the data key (environment variables, and every
//! read of something encrypted with it: objects, table items, the secrets). `kms:GenerateDataKey`
//! goes only to roles that write something new under the key: an S3 object (SSE-KMS), a message
//! to the encrypted SNS topic or to an encrypted SQS queue.
//!
//! Handlers whose binary does not exist yet (the task board's: `cargo xtask dist` lists them)
//! keep the grants their design calls for; they are marked as such.

use super::functions::Handler;

/// One of the stack's data buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bucket {
    /// ID uploads (`kyc-<env>-id-uploads-…`).
    IdUploads,
    /// Live frames.
    LiveFrames,
    /// Raw OCR output.
    OcrRaw,
}

/// One of the stack's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Table {
    /// Verification sessions.
    Sessions,
    /// `KycOcrData`.
    OcrData,
    /// `KycAuditLog`.
    AuditLog,
    /// Task board tasks.
    Tasks,
    /// Task board WebSocket connections.
    Connections,
}

/// What a grant applies to, resolved to ARNs by the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The function's own log group.
    OwnLogGroup,
    /// The function's own dead-letter queue.
    OwnDeadLetterQueue,
    /// The customer-managed data key.
    DataKey,
    /// The token-signing key.
    SigningKey,
    /// A bucket itself (listing its object versions).
    Listing(Bucket),
    /// Every object of a bucket.
    Objects(Bucket),
    /// A table's items.
    Items(Table),
    /// A table's streams.
    Stream(Table),
    /// The verification events topic.
    EventsTopic,
    /// The task events topic.
    TaskTopic,
    /// The queue that receives stream batches whose retries failed.
    StreamFailures,
    /// The screening provider's API key.
    ScreeningSecret,
    /// The secret that turns an `Idempotency-Key` into a verification id.
    IdempotencySecret,
    /// The stack's parameter path, `/kyc/<env>` (read with `GetParametersByPath`).
    Parameters,
    /// The WebSocket API's connections (absent when the stack has no WebSocket API).
    WebSocketConnections,
    /// Every resource: for actions that have no resource-level permissions, with the reason.
    Any(&'static str),
}

/// One grant: an exact action on a target, and the code path that needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// The IAM action, e.g. `dynamodb:GetItem`.
    pub action: &'static str,
    /// What it applies to.
    pub on: Target,
    /// Which code path calls it (or which part of the Lambda service uses the role for it).
    pub why: &'static str,
}

const fn need(action: &'static str, on: Target, why: &'static str) -> Need {
    Need { action, on, why }
}

use Bucket::*;
use Target::*;

const DETECT_FACES: &str =
    "DetectFaces works on images, not on a Rekognition resource, and cannot be scoped";
const COMPARE_FACES: &str =
    "CompareFaces works on images, not on a Rekognition resource, and cannot be scoped";
const TEXTRACT: &str =
    "Textract's synchronous analysis actions have no resource type and cannot be scoped";
const XRAY: &str = "X-Ray trace submission has no resource-level permissions";

/// Every function: what the Lambda service does with the role.
const PLATFORM: &[Need] = &[
    need(
        "logs:CreateLogStream",
        OwnLogGroup,
        "Lambda writes the function's log lines to its log group",
    ),
    need(
        "logs:PutLogEvents",
        OwnLogGroup,
        "Lambda writes the function's log lines to its log group",
    ),
    need(
        "xray:PutTelemetryRecords",
        Any(XRAY),
        "active tracing: Lambda sends the function's traces",
    ),
    need("xray:PutTraceSegments", Any(XRAY), "active tracing: Lambda sends the function's traces"),
    need(
        "sqs:SendMessage",
        OwnDeadLetterQueue,
        "Lambda sends a failed asynchronous invocation to the dead-letter queue (it checks this grant when the function is created)",
    ),
    need(
        "kms:Decrypt",
        DataKey,
        "the environment variables are encrypted with the data key; every read of an object, item or secret encrypted with it decrypts too",
    ),
];

/// The functions built by `AwsPlatform::from_env`: the parameters at cold start.
const CONFIG: &[Need] = &[need(
    "ssm:GetParametersByPath",
    Parameters,
    "AwsPlatform::from_env reads every parameter under KYC_PARAMETER_PATH (kyc_aws::params::parameters_by_path, recursive)",
)];

/// The `api` binary (every API handler): it refuses to start without the idempotency secret.
const IDEMPOTENCY: &[Need] = &[need(
    "secretsmanager:GetSecretValue",
    IdempotencySecret,
    "AwsPlatform::from_env(Function::Api) reads the secret named by secrets/idempotency-key-arn at cold start, whichever API route the function serves",
)];

/// Load a session and save it conditionally (`Service::mutate`, `DynamoSessionStore`).
const SESSION_STEP: &[Need] = &[
    need(
        "dynamodb:GetItem",
        Items(Table::Sessions),
        "DynamoSessionStore::load (consistent GetItem) before every change",
    ),
    need(
        "dynamodb:PutItem",
        Items(Table::Sessions),
        "DynamoSessionStore::save: PutItem conditional on the loaded version",
    ),
];

/// Append to the audit chain (`DynamoAuditLog::append`).
const AUDIT_APPEND: &[Need] = &[
    need(
        "dynamodb:Query",
        Items(Table::AuditLog),
        "DynamoAuditLog::append reads the chain's head",
    ),
    need(
        "dynamodb:PutItem",
        Items(Table::AuditLog),
        "DynamoAuditLog::append writes the next event conditionally",
    ),
    need(
        "dynamodb:GetItem",
        Items(Table::AuditLog),
        "DynamoAuditLog::append reads its own event back after an ambiguous failure",
    ),
];

/// Publish a domain event (`Service::publish`, `SnsEventPublisher`).
const PUBLISH: &[Need] = &[
    need(
        "sns:Publish",
        EventsTopic,
        "Service::publish (SnsEventPublisher::publish) announces each step",
    ),
    need(
        "kms:GenerateDataKey",
        DataKey,
        "the events topic is encrypted with the data key",
    ),
];

/// `Service::decide`: the OCR record's evidence, then a session step, audit and publish.
const DECIDE: &[Need] = &[need(
    "dynamodb:GetItem",
    Items(Table::OcrData),
    "Service::decide reads the OCR record's evidence (DynamoOcrData::get)",
)];

/// `Service::match_face`: the document portrait against the best live frames.
const MATCH_FACE: &[Need] = &[
    need(
        "s3:GetObject",
        Objects(IdUploads),
        "Service::match_face reads the document image",
    ),
    need(
        "s3:GetObject",
        Objects(LiveFrames),
        "Service::match_face reads the most frontal frames",
    ),
    need(
        "rekognition:CompareFaces",
        Any(COMPARE_FACES),
        "Service::match_face compares them (RekognitionFaceEngine::compare)",
    ),
];

const UPLOAD_ID: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    IDEMPOTENCY,
    &[
        need(
            "dynamodb:GetItem",
            Items(Table::Sessions),
            "Service::upload looks for the session of a replayed key, and again after losing the conditional create",
        ),
        need(
            "dynamodb:PutItem",
            Items(Table::Sessions),
            "Service::upload creates the session (PutItem if it does not exist)",
        ),
        need(
            "s3:PutObject",
            Objects(IdUploads),
            "Service::upload stores the checked image (S3DocumentStore::put)",
        ),
        need("kms:GenerateDataKey", DataKey, "the image is stored SSE-KMS under the data key"),
    ],
    AUDIT_APPEND,
    PUBLISH,
];

const LIVENESS: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    IDEMPOTENCY,
    SESSION_STEP,
    &[
        need(
            "rekognition:DetectFaces",
            Any(DETECT_FACES),
            "Service::submit_frame analyses each frame (RekognitionFaceEngine::analyze)",
        ),
        need(
            "s3:PutObject",
            Objects(LiveFrames),
            "Service::submit_frame stores the accepted frame",
        ),
        need(
            "kms:GenerateDataKey",
            DataKey,
            "the frame is stored SSE-KMS under the data key",
        ),
    ],
    // The last frame completes the challenge: after_liveness runs the face match and decides.
    MATCH_FACE,
    DECIDE,
    AUDIT_APPEND,
    PUBLISH,
];

const VERIFY: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    IDEMPOTENCY,
    // Service::verification completes an abandoned challenge (face match, decision) and
    // persists an expiry before it answers.
    SESSION_STEP,
    MATCH_FACE,
    DECIDE,
    AUDIT_APPEND,
    PUBLISH,
    &[
        need(
            "kms:GetPublicKey",
            SigningKey,
            "Service::token takes the key id from the signing key's public key (KmsSigner connects on first use)",
        ),
        need("kms:Sign", SigningKey, "Service::token signs an approved verification's token"),
        need(
            "rekognition:CompareFaces",
            Any(COMPARE_FACES),
            "Service::compare (POST /v1/ips) compares the selfie with the document",
        ),
    ],
];

const ERASURE: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    IDEMPOTENCY,
    SESSION_STEP,
    &[
        need(
            "s3:ListBucketVersions",
            Listing(IdUploads),
            "S3DocumentStore::delete_all lists every version of the verification's objects",
        ),
        need(
            "s3:ListBucketVersions",
            Listing(LiveFrames),
            "S3DocumentStore::delete_all lists every version of the verification's objects",
        ),
        need(
            "s3:ListBucketVersions",
            Listing(OcrRaw),
            "S3DocumentStore::delete_all lists every version of the verification's objects",
        ),
        need(
            "s3:DeleteObject",
            Objects(IdUploads),
            "S3DocumentStore::delete_all (DeleteObjects)",
        ),
        need(
            "s3:DeleteObject",
            Objects(LiveFrames),
            "S3DocumentStore::delete_all (DeleteObjects)",
        ),
        need(
            "s3:DeleteObject",
            Objects(OcrRaw),
            "S3DocumentStore::delete_all (DeleteObjects)",
        ),
        need(
            "s3:DeleteObjectVersion",
            Objects(IdUploads),
            "S3DocumentStore::delete_all removes every version",
        ),
        need(
            "s3:DeleteObjectVersion",
            Objects(LiveFrames),
            "S3DocumentStore::delete_all removes every version",
        ),
        need(
            "s3:DeleteObjectVersion",
            Objects(OcrRaw),
            "S3DocumentStore::delete_all removes every version",
        ),
        need(
            "dynamodb:DeleteItem",
            Items(Table::OcrData),
            "Service::erase deletes the OCR record (DynamoOcrData::delete)",
        ),
        need(
            "dynamodb:Query",
            Items(Table::AuditLog),
            "DynamoAuditLog::redact reads the chain",
        ),
        need(
            "dynamodb:UpdateItem",
            Items(Table::AuditLog),
            "DynamoAuditLog::redact removes each event's personal part",
        ),
    ],
    AUDIT_APPEND,
    PUBLISH,
];

const JWKS: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    IDEMPOTENCY,
    &[need(
        "kms:GetPublicKey",
        SigningKey,
        "AwsPlatform::jwks publishes the signing key's public key",
    )],
];

const OCR: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    SESSION_STEP,
    &[
        need(
            "kms:GenerateDataKey",
            DataKey,
            "S3 invokes the function asynchronously: Lambda sends a failed event to the dead-letter queue, which is encrypted with the data key",
        ),
        need(
            "s3:GetObject",
            Objects(IdUploads),
            "Service::read_document reads the uploaded image",
        ),
        need(
            "textract:AnalyzeDocument",
            Any(TEXTRACT),
            "TextractDocumentReader::read in the default mode (forms)",
        ),
        need(
            "textract:AnalyzeID",
            Any(TEXTRACT),
            "TextractDocumentReader::read when KYC_TEXTRACT_MODE is analyze-id or both",
        ),
        need(
            "dynamodb:PutItem",
            Items(Table::OcrData),
            "Service::read_document stores the OCR record (DynamoOcrData::put)",
        ),
    ],
    // An unreadable document is decided at once.
    DECIDE,
    AUDIT_APPEND,
    PUBLISH,
];

const SANCTIONS: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    &[
        need(
            "dynamodb:DescribeStream",
            Stream(Table::OcrData),
            "the event source mapping reads the KycOcrData stream with the function's role",
        ),
        need(
            "dynamodb:GetRecords",
            Stream(Table::OcrData),
            "the event source mapping reads the KycOcrData stream with the function's role",
        ),
        need(
            "dynamodb:GetShardIterator",
            Stream(Table::OcrData),
            "the event source mapping reads the KycOcrData stream with the function's role",
        ),
        need(
            "dynamodb:ListStreams",
            Stream(Table::OcrData),
            "the event source mapping reads the KycOcrData stream with the function's role",
        ),
        need(
            "sqs:SendMessage",
            StreamFailures,
            "the event source mapping sends a batch whose retries failed to the failure queue",
        ),
        need("kms:GenerateDataKey", DataKey, "the failure queue is encrypted with the data key"),
        need(
            "dynamodb:GetItem",
            Items(Table::OcrData),
            "Service::screen reads the subject from the OCR record",
        ),
        need(
            "secretsmanager:GetSecretValue",
            ScreeningSecret,
            "AwsScreener reads the provider's API key when KYC_SCREENING_API_URL selects the third-party provider",
        ),
    ],
    SESSION_STEP,
    // A screening decides when the liveness step has ended.
    DECIDE,
    AUDIT_APPEND,
    PUBLISH,
];

const NOT_YET: &str = "no binary yet (cargo xtask dist lists it): the task board's design";

const TASKS: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    &[
        need("dynamodb:DeleteItem", Items(Table::Tasks), NOT_YET),
        need("dynamodb:GetItem", Items(Table::Tasks), NOT_YET),
        need("dynamodb:PutItem", Items(Table::Tasks), NOT_YET),
        need("dynamodb:Query", Items(Table::Tasks), NOT_YET),
        need("dynamodb:Scan", Items(Table::Tasks), NOT_YET),
        need("dynamodb:UpdateItem", Items(Table::Tasks), NOT_YET),
    ],
];

const AUTHORIZER: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    &[need("kms:GetPublicKey", SigningKey, NOT_YET)],
];

const WS_CONNECTION: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    &[
        need("dynamodb:DeleteItem", Items(Table::Connections), NOT_YET),
        need("dynamodb:PutItem", Items(Table::Connections), NOT_YET),
    ],
];

const TASK_EVENTS: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    &[
        need(
            "dynamodb:DescribeStream",
            Stream(Table::Tasks),
            "the event source mapping reads the tasks stream with the function's role",
        ),
        need(
            "dynamodb:GetRecords",
            Stream(Table::Tasks),
            "the event source mapping reads the tasks stream with the function's role",
        ),
        need(
            "dynamodb:GetShardIterator",
            Stream(Table::Tasks),
            "the event source mapping reads the tasks stream with the function's role",
        ),
        need(
            "dynamodb:ListStreams",
            Stream(Table::Tasks),
            "the event source mapping reads the tasks stream with the function's role",
        ),
        need(
            "sqs:SendMessage",
            StreamFailures,
            "the event source mapping sends a batch whose retries failed to the failure queue",
        ),
        need(
            "kms:GenerateDataKey",
            DataKey,
            "the failure queue and the task events topic are encrypted with the data key",
        ),
        need("sns:Publish", TaskTopic, NOT_YET),
    ],
];

const TASK_PUSH: &[&[Need]] = &[
    PLATFORM,
    CONFIG,
    &[
        need(
            "kms:GenerateDataKey",
            DataKey,
            "SNS invokes the function asynchronously: Lambda sends a failed event to the dead-letter queue, which is encrypted with the data key",
        ),
        need("dynamodb:DeleteItem", Items(Table::Connections), NOT_YET),
        need("dynamodb:Scan", Items(Table::Connections), NOT_YET),
        need("execute-api:ManageConnections", WebSocketConnections, NOT_YET),
    ],
];

/// The declared needs of a handler, in declaration order (an action may be declared more than
/// once on the same target by different code paths).
pub fn needs(h: Handler) -> impl Iterator<Item = &'static Need> {
    let groups: &'static [&'static [Need]] = match h {
        Handler::UploadId => UPLOAD_ID,
        Handler::Liveness => LIVENESS,
        Handler::Verify => VERIFY,
        Handler::Erasure => ERASURE,
        Handler::Jwks => JWKS,
        Handler::Tasks => TASKS,
        Handler::Authorizer => AUTHORIZER,
        Handler::WsConnection => WS_CONNECTION,
        Handler::Ocr => OCR,
        Handler::Sanctions => SANCTIONS,
        Handler::TaskEvents => TASK_EVENTS,
        Handler::TaskPush => TASK_PUSH,
    };
    groups.iter().flat_map(|g| g.iter())
}

/// The grants of a handler as policy statements: each target with the sorted set of its
/// actions, and targets with the same actions in one statement; statements in the order their
/// first target was declared.
pub fn grouped(h: Handler) -> Vec<(Vec<&'static str>, Vec<Target>)> {
    let mut by_target: Vec<(Target, Vec<&'static str>)> = Vec::new();
    for n in needs(h) {
        match by_target.iter_mut().find(|(t, _)| *t == n.on) {
            Some((_, actions)) => actions.push(n.action),
            None => by_target.push((n.on, vec![n.action])),
        }
    }
    let mut out: Vec<(Vec<&'static str>, Vec<Target>)> = Vec::new();
    for (target, mut actions) in by_target {
        actions.sort_unstable();
        actions.dedup();
        match out.iter_mut().find(|(a, _)| *a == actions) {
            // `Any` targets carry their own reason: never merged with another target.
            Some((_, targets))
                if !matches!(target, Any(_)) && !targets.iter().any(|t| matches!(t, Any(_))) =>
            {
                targets.push(target)
            }
            _ => out.push((actions, vec![target])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handler_has_its_logs_traces_dead_letter_queue_and_environment_key() {
        for h in Handler::ALL {
            for p in PLATFORM {
                assert!(needs(h).any(|n| n == p), "{}: {}", h.name(), p.action);
            }
        }
    }

    #[test]
    fn only_the_api_handlers_read_the_idempotency_secret() {
        for h in Handler::ALL {
            let reads = needs(h).any(|n| n.on == IdempotencySecret);
            let api = matches!(
                h,
                Handler::UploadId
                    | Handler::Liveness
                    | Handler::Verify
                    | Handler::Erasure
                    | Handler::Jwks
            );
            assert_eq!(reads, api, "{}", h.name());
        }
    }

    #[test]
    fn every_need_says_why_and_names_an_exact_action() {
        for h in Handler::ALL {
            for n in needs(h) {
                assert!(!n.why.is_empty(), "{}: {}", h.name(), n.action);
                assert!(
                    crate::model::iam::Action::parse(n.action).is_ok(),
                    "{}: {}",
                    n.action,
                    h.name()
                );
            }
        }
    }

    #[test]
    fn targets_with_the_same_actions_share_a_statement_and_wildcards_stay_apart() {
        let erasure = grouped(Handler::Erasure);
        let delete = erasure
            .iter()
            .find(|(a, _)| a.contains(&"s3:DeleteObject"))
            .expect("delete statement");
        assert_eq!(
            delete,
            &(
                vec!["s3:DeleteObject", "s3:DeleteObjectVersion"],
                vec![Objects(IdUploads), Objects(LiveFrames), Objects(OcrRaw)]
            )
        );
        let liveness = grouped(Handler::Liveness);
        let any: Vec<_> = liveness
            .iter()
            .filter(|(_, t)| t.iter().any(|t| matches!(t, Any(_))))
            .collect();
        assert!(any.iter().all(|(_, t)| t.len() == 1), "{any:?}");
        assert_eq!(any.len(), 3, "{any:?}");
    }

    #[test]
    fn no_handler_is_granted_cloudwatch_put_metric_data() {
        // Metrics are Embedded Metric Format log lines (kyc_aws::metrics): no API call.
        for h in Handler::ALL {
            assert!(
                needs(h).all(|n| !n.action.starts_with("cloudwatch:")),
                "{}",
                h.name()
            );
        }
    }
}
