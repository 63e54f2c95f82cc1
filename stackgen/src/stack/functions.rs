//! One Lambda function per handler, each with its own role whose policy is generated from the
//! handler's declared needs ([`access`]: exact actions on exact resources), a dead-letter queue,
//! a KMS-encrypted log group with retention, and X-Ray tracing; plus the event wiring (S3 → OCR,
//! streams → sanctions and task events, SNS → task push).

use super::access::{self, Bucket, Target};
use super::storage::{self, Store};
use super::{arn, data_retention, EnvConfig};
use crate::model::iam::{IamError, PolicyDocument, Statement};
use crate::model::template::{Attributes, Handle, ModelError, ParameterHandle, Template};
use crate::model::val::{pseudo, sub, Str};
use crate::resources::{apigatewayv2, iam, lambda, logs, s3, sns, sqs};

/// The handlers, each deployed as its own function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Handler {
    /// `POST /v1/upload-id`.
    UploadId,
    /// `POST /v1/start-liveness`, `POST /v1/submit-frame`.
    Liveness,
    /// `GET /v1/verify/{id}`, `POST /v1/ips`.
    Verify,
    /// `DELETE /v1/verifications/{id}`.
    Erasure,
    /// `GET /.well-known/jwks.json`.
    Jwks,
    /// `/v1/tasks…`.
    Tasks,
    /// The token authorizer of the REST and WebSocket APIs.
    Authorizer,
    /// WebSocket `$connect`, `$disconnect`, `$default`.
    WsConnection,
    /// S3 ObjectCreated on ID uploads → document reading.
    Ocr,
    /// `KycOcrData` stream → sanctions screening.
    Sanctions,
    /// Tasks stream → the task events topic.
    TaskEvents,
    /// Task events topic → every connected WebSocket client.
    TaskPush,
}

impl Handler {
    /// Every handler.
    pub const ALL: [Handler; 12] = [
        Handler::UploadId,
        Handler::Liveness,
        Handler::Verify,
        Handler::Erasure,
        Handler::Jwks,
        Handler::Tasks,
        Handler::Authorizer,
        Handler::WsConnection,
        Handler::Ocr,
        Handler::Sanctions,
        Handler::TaskEvents,
        Handler::TaskPush,
    ];

    /// The kebab-case name: function `kyc-<env>-<name>`, artefact `<name>.zip`.
    pub fn name(self) -> &'static str {
        match self {
            Handler::UploadId => "upload-id",
            Handler::Liveness => "liveness",
            Handler::Verify => "verify",
            Handler::Erasure => "erasure",
            Handler::Jwks => "jwks",
            Handler::Tasks => "tasks",
            Handler::Authorizer => "authorizer",
            Handler::WsConnection => "ws-connection",
            Handler::Ocr => "ocr",
            Handler::Sanctions => "sanctions",
            Handler::TaskEvents => "task-events",
            Handler::TaskPush => "task-push",
        }
    }

    fn logical(self) -> &'static str {
        match self {
            Handler::UploadId => "UploadId",
            Handler::Liveness => "Liveness",
            Handler::Verify => "Verify",
            Handler::Erasure => "Erasure",
            Handler::Jwks => "Jwks",
            Handler::Tasks => "Tasks",
            Handler::Authorizer => "Authorizer",
            Handler::WsConnection => "WsConnection",
            Handler::Ocr => "Ocr",
            Handler::Sanctions => "Sanctions",
            Handler::TaskEvents => "TaskEvents",
            Handler::TaskPush => "TaskPush",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Handler::UploadId => "Checks and stores an uploaded identity document image",
            Handler::Liveness => "Issues liveness challenges and receives frames",
            Handler::Verify => "Face match and the decision document; the ID plus selfie API",
            Handler::Erasure => "Erases a verification's images and personal data",
            Handler::Jwks => "Publishes the public keys of verification tokens",
            Handler::Tasks => "The SecureTask board API",
            Handler::Authorizer => "Accepts only valid verification tokens",
            Handler::WsConnection => "Tracks task board WebSocket connections",
            Handler::Ocr => "Reads an uploaded document (Textract) into KycOcrData",
            Handler::Sanctions => "Screens new OCR records against sanctions lists",
            Handler::TaskEvents => "Publishes task changes to the task events topic",
            Handler::TaskPush => "Pushes task events to connected clients",
        }
    }

    /// Served by the `api` binary (the one HTTP application behind `lambda_http`), which reads
    /// `KYC_CORS_ORIGINS` for the headers of its answers.
    pub fn is_api(self) -> bool {
        matches!(
            self,
            Handler::UploadId
                | Handler::Liveness
                | Handler::Verify
                | Handler::Erasure
                | Handler::Jwks
        )
    }

    fn is_worker(self) -> bool {
        matches!(
            self,
            Handler::Ocr | Handler::Sanctions | Handler::TaskEvents | Handler::TaskPush
        )
    }
}

/// The deployed functions.
pub struct Functions {
    functions: Vec<(Handler, Handle<lambda::Function>)>,
}

impl Functions {
    /// The function of a handler.
    pub fn get(&self, h: Handler) -> Option<&Handle<lambda::Function>> {
        self.functions.iter().find(|(x, _)| *x == h).map(|(_, f)| f)
    }

    /// Every `(handler, function)`.
    pub fn all(&self) -> &[(Handler, Handle<lambda::Function>)] {
        &self.functions
    }
}

fn objects(bucket_arn: Str) -> Str {
    sub("${Bucket}/*", [("Bucket", bucket_arn)])
}

/// The function's own resources, for the targets that name them.
struct Own<'a> {
    log_group: &'a Handle<logs::LogGroup>,
    dlq: &'a Handle<sqs::Queue>,
}

/// The ARNs of a target; empty when the stack has no such resource (no WebSocket API).
fn arns(
    target: Target,
    cfg: &EnvConfig,
    s: &Store,
    ws_api: Option<&Handle<apigatewayv2::Api>>,
    own: &Own<'_>,
) -> Vec<Str> {
    let bucket = |b: Bucket| match b {
        Bucket::IdUploads => s.uploads_arn(),
        Bucket::LiveFrames => s.frames.arn(),
        Bucket::OcrRaw => s.ocr_raw.arn(),
    };
    match target {
        Target::OwnLogGroup => vec![own.log_group.arn()],
        Target::OwnDeadLetterQueue => vec![own.dlq.arn()],
        Target::DataKey => vec![s.key.arn()],
        Target::SigningKey => vec![s.signing_key.arn()],
        Target::Listing(b) => vec![bucket(b)],
        Target::Objects(b) => vec![objects(bucket(b))],
        Target::Items(t) => vec![s.table(t).arn()],
        Target::Stream(t) => vec![sub("${Table}/stream/*", [("Table", s.table(t).arn())])],
        Target::EventsTopic => vec![s.events_topic.to_ref()],
        Target::TaskTopic => vec![s.task_topic.to_ref()],
        Target::StreamFailures => vec![s.stream_failures.arn()],
        Target::ScreeningSecret => vec![s.screening_secret.to_ref()],
        Target::IdempotencySecret => vec![s.idempotency_secret.to_ref()],
        // GetParametersByPath is authorised on the hierarchy without its trailing slash.
        Target::Parameters => vec![arn(
            &format!(
                "ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{}",
                cfg.parameter_hierarchy()
            ),
            [],
        )],
        Target::WebSocketConnections => ws_api
            .map(|api| {
                arn(
                    "execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/prod/POST/@connections/*",
                    [("Api", api.to_ref())],
                )
            })
            .into_iter()
            .collect(),
        Target::Any(_) => Vec::new(),
    }
}

/// A handler's role policy, generated from its declared needs ([`access`]).
fn statements(
    h: Handler,
    cfg: &EnvConfig,
    s: &Store,
    ws_api: Option<&Handle<apigatewayv2::Api>>,
    own: &Own<'_>,
) -> Result<Vec<Statement>, IamError> {
    let mut out = Vec::new();
    for (actions, targets) in access::grouped(h) {
        let statement = Statement::allow(actions)?;
        match targets.as_slice() {
            [Target::Any(reason)] => out.push(statement.on_any_resource(reason)),
            _ => {
                let resources: Vec<Str> = targets
                    .iter()
                    .flat_map(|t| arns(*t, cfg, s, ws_api, own))
                    .collect();
                if !resources.is_empty() {
                    out.push(statement.on(resources));
                }
            }
        }
    }
    Ok(out)
}

/// Every function with its role, log group and dead-letter queue.
pub fn build(
    t: &mut Template,
    cfg: &EnvConfig,
    store: &Store,
    artifacts_bucket: &ParameterHandle,
    artifacts_prefix: &ParameterHandle,
    ws_api: Option<&Handle<apigatewayv2::Api>>,
) -> Result<Functions, ModelError> {
    use lambda::function::*;
    let mut functions = Vec::new();
    for h in Handler::ALL {
        let id = h.logical();
        let size = if h.is_worker() {
            cfg.worker_function
        } else {
            cfg.api_function
        };
        let log_group = t.add_with(
            &format!("{id}LogGroup"),
            logs::LogGroup::new()
                .log_group_name(format!("/kyc/{}/{}", cfg.env, h.name()))
                .retention_in_days(cfg.log_retention_days)
                .kms_key_id(store.key.arn()),
            data_retention(cfg),
        )?;
        let dlq = storage::queue(
            t,
            cfg,
            &format!("{id}DeadLetterQueue"),
            &format!("dlq-{}", h.name()),
            &store.key,
        )?;
        let statements = statements(
            h,
            cfg,
            store,
            ws_api,
            &Own {
                log_group: &log_group,
                dlq: &dlq,
            },
        )?;
        let role = t.add(
            &format!("{id}Role"),
            iam::Role::new(PolicyDocument::assume_role_by("lambda.amazonaws.com")?)
                .description(format!("Least privilege for kyc-{}-{}", cfg.env, h.name()))
                .policies([iam::role::Policy::new(
                    PolicyDocument::new(statements)?,
                    format!("{}-least-privilege", h.name()),
                )]),
        )?;
        let mut env_vars: Vec<(String, Str)> = vec![
            ("KYC_ENV".into(), Str::from(cfg.env.as_str())),
            (
                "KYC_METRICS_NAMESPACE".into(),
                Str::from(cfg.metrics_namespace()),
            ),
            (
                "KYC_PARAMETER_PATH".into(),
                Str::from(format!("{}/", cfg.parameter_hierarchy())),
            ),
        ];
        if h.is_api() {
            // API Gateway answers the preflight (`api.rs`); the function's own answers need the
            // same origin, or a browser on the front end reads none of them.
            env_vars.push(("KYC_CORS_ORIGINS".into(), Str::from(cfg.frontend_origin)));
        }
        let function = lambda::Function::new(
            Code::new().s3_bucket(artifacts_bucket.to_ref()).s3_key(sub(
                &format!("${{Prefix}}/{}.zip", h.name()),
                [("Prefix", artifacts_prefix.to_ref())],
            )),
            role.arn(),
        )
        .function_name(cfg.name(h.name()))
        .description(h.description())
        .runtime(Runtime::ProvidedAl2023)
        .architectures([Architectures::Arm64.into()])
        .handler("bootstrap")
        .memory_size(size.memory_mb)
        .timeout(size.timeout_s)
        .reserved_concurrent_executions(size.reserved_concurrency)
        .tracing_config(TracingConfig::new().mode(Mode::Active))
        .dead_letter_config(DeadLetterConfig::new().target_arn(dlq.arn()))
        .kms_key_arn(store.key.arn())
        .environment(
            Environment::new().variables(crate::model::node::Node::Map(
                env_vars
                    .into_iter()
                    .map(|(k, v)| (k, crate::model::val::ToNode::to_node(&v)))
                    .collect(),
            )),
        )
        .logging_config(
            LoggingConfig::new()
                .log_group(log_group.to_ref())
                .log_format(LogFormat::Json),
        );
        let f = t.add_with(
            &format!("{id}Function"),
            function,
            Attributes::new()
                .checkov_skip("CKV_AWS_117", "the functions reach only AWS APIs (TLS, IAM-authenticated); there is no private resource to reach, and a VPC would add NAT cost and cold-start latency without narrowing access"),
        )?;
        functions.push((h, f));
    }
    Ok(Functions { functions })
}

/// Event wiring: S3 → OCR (and the uploads bucket itself), streams → sanctions and task events,
/// SNS → task push.
pub fn wire_events(
    t: &mut Template,
    cfg: &EnvConfig,
    store: &Store,
    fns: &Functions,
) -> Result<Handle<s3::Bucket>, ModelError> {
    use lambda::event_source_mapping::*;
    let missing = || ModelError::DanglingReference {
        from: "event wiring".into(),
        target: "a handler function".into(),
    };
    let ocr = fns.get(Handler::Ocr).ok_or_else(missing)?;
    let s3_invoke = t.add(
        "OcrFromUploadsPermission",
        lambda::Permission::new("lambda:InvokeFunction", ocr.arn(), "s3.amazonaws.com")
            .source_account(pseudo::account_id())
            .source_arn(store.uploads_arn()),
    )?;
    let uploads = storage::uploads_bucket(
        t,
        cfg,
        store,
        Some((ocr.arn(), data_retention(cfg).depends_on(&s3_invoke))),
    )?;
    for (id, handler, table) in [
        ("SanctionsFromOcrStream", Handler::Sanctions, &store.ocr),
        (
            "TaskEventsFromTasksStream",
            Handler::TaskEvents,
            &store.tasks,
        ),
    ] {
        let f = fns.get(handler).ok_or_else(missing)?;
        t.add(
            id,
            lambda::EventSourceMapping::new(f.to_ref())
                .event_source_arn(table.stream_arn())
                .starting_position("LATEST")
                .batch_size(10u32)
                .maximum_retry_attempts(3u32)
                .bisect_batch_on_function_error(true)
                .function_response_types([Val::Lit(FunctionResponseTypes::ReportBatchItemFailures)])
                .destination_config(
                    DestinationConfig::new()
                        .on_failure(OnFailure::new().destination(store.stream_failures.arn())),
                ),
        )?;
    }
    let push = fns.get(Handler::TaskPush).ok_or_else(missing)?;
    t.add(
        "TaskPushFromTopicPermission",
        lambda::Permission::new("lambda:InvokeFunction", push.arn(), "sns.amazonaws.com")
            .source_arn(store.task_topic.to_ref()),
    )?;
    t.add(
        "TaskPushSubscription",
        sns::Subscription::new("lambda", store.task_topic.to_ref()).endpoint(push.arn()),
    )?;
    Ok(uploads)
}

use crate::model::val::Val;
