//! Keys, buckets, tables, queues, topics, the secrets (the screening provider's key, the
//! idempotency secret) and the SSM parameters.

use super::access::Table;
use super::{arn, data_retention, EnvConfig};
use crate::model::iam::{IamError, PolicyDocument, Principal, Statement};
use crate::model::node::Node;
use crate::model::template::{
    Attributes, ConditionHandle, Handle, ModelError, ParameterHandle, Template,
};
use crate::model::val::{pseudo, sub, Str, Val};
use crate::resources::{dynamodb, kms, s3, secretsmanager, sns, sqs, ssm};

/// In a key policy, `Resource: "*"` means the key the policy is attached to.
const KEY_POLICY_SELF: &str = "in a key policy, * means this key and nothing else";

/// The stateful part of the stack, used by the functions, APIs and alarms.
pub struct Store {
    /// The customer-managed data key (S3, DynamoDB, SQS, SNS, logs, secret, function env).
    pub key: Handle<kms::Key>,
    /// The asymmetric key that signs verification tokens (ES256); its private half never
    /// leaves KMS.
    pub signing_key: Handle<kms::Key>,
    /// The server-access-log bucket.
    pub log_bucket: Handle<s3::Bucket>,
    /// ID uploads (created after the OCR function: it triggers it).
    pub uploads_name: Str,
    /// Live frames.
    pub frames: Handle<s3::Bucket>,
    /// Raw OCR output.
    pub ocr_raw: Handle<s3::Bucket>,
    /// `KycAuditLog`.
    pub audit: Handle<dynamodb::Table>,
    /// `KycOcrData`.
    pub ocr: Handle<dynamodb::Table>,
    /// Verification sessions.
    pub sessions: Handle<dynamodb::Table>,
    /// Task board tasks.
    pub tasks: Handle<dynamodb::Table>,
    /// Task board WebSocket connections.
    pub connections: Handle<dynamodb::Table>,
    /// Verification events.
    pub events_topic: Handle<sns::Topic>,
    /// Alarm notifications.
    pub alarms_topic: Handle<sns::Topic>,
    /// Task changes, fanned out to connected clients.
    pub task_topic: Handle<sns::Topic>,
    /// Where stream batches go after their retries fail.
    pub stream_failures: Handle<sqs::Queue>,
    /// The screening provider's API key.
    pub screening_secret: Handle<secretsmanager::Secret>,
    /// The secret under which the API derives verification ids from `Idempotency-Key`s
    /// (generated; every instance of the API reads the same one).
    pub idempotency_secret: Handle<secretsmanager::Secret>,
}

impl Store {
    /// ARN of the uploads bucket, built from its name (no reference, so no dependency cycle
    /// between the bucket, its trigger and the function's role).
    pub fn uploads_arn(&self) -> Str {
        arn("s3:::${Name}", [("Name", self.uploads_name.clone())])
    }

    /// One of the tables.
    pub fn table(&self, t: Table) -> &Handle<dynamodb::Table> {
        match t {
            Table::Sessions => &self.sessions,
            Table::OcrData => &self.ocr,
            Table::AuditLog => &self.audit,
            Table::Tasks => &self.tasks,
            Table::Connections => &self.connections,
        }
    }
}

fn root() -> Principal {
    Principal::Aws(arn("iam::${AWS::AccountId}:root", []))
}

fn key_admin() -> Result<Statement, IamError> {
    Ok(Statement::allow([
        "kms:CancelKeyDeletion",
        "kms:CreateAlias",
        "kms:DeleteAlias",
        "kms:DescribeKey",
        "kms:DisableKey",
        "kms:DisableKeyRotation",
        "kms:EnableKey",
        "kms:EnableKeyRotation",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListAliases",
        "kms:ListGrants",
        "kms:ListKeyPolicies",
        "kms:ListResourceTags",
        "kms:PutKeyPolicy",
        "kms:RevokeGrant",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateAlias",
        "kms:UpdateKeyDescription",
    ])?
    .sid("KeyAdministrationByTheAccount")
    .principal(root())?
    .on_any_resource(KEY_POLICY_SELF))
}

fn data_key_policy() -> Result<PolicyDocument, IamError> {
    PolicyDocument::new([
        key_admin()?,
        // Lets IAM policies grant use of the key; each function role names exactly what it may do.
        Statement::allow([
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
        ])?
        .sid("UseThroughIamPolicies")
        .principal(root())?
        .on_any_resource(KEY_POLICY_SELF),
        Statement::allow([
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
        ])?
        .sid("CloudWatchLogsOfThisAccount")
        .principal(Principal::Service(sub(
            "logs.${AWS::Region}.amazonaws.com",
            [],
        )))?
        .on_any_resource(KEY_POLICY_SELF)
        .condition(
            "ArnLike",
            "kms:EncryptionContext:aws:logs:arn",
            [arn(
                "logs:${AWS::Region}:${AWS::AccountId}:log-group:/kyc/*",
                [],
            )],
        ),
        Statement::allow(["kms:Decrypt", "kms:GenerateDataKey"])?
            .sid("AlarmsToTheEncryptedTopic")
            .principal(Principal::service("cloudwatch.amazonaws.com"))?
            .on_any_resource(KEY_POLICY_SELF)
            .condition("StringEquals", "aws:SourceAccount", [pseudo::account_id()]),
    ])
}

fn signing_key_policy() -> Result<PolicyDocument, IamError> {
    PolicyDocument::new([
        key_admin()?,
        Statement::allow(["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"])?
            .sid("UseThroughIamPolicies")
            .principal(root())?
            .on_any_resource(KEY_POLICY_SELF),
    ])
}

fn tls_only(bucket: &Handle<s3::Bucket>) -> Result<Statement, IamError> {
    Ok(Statement::deny_service("s3")?
        .sid("DenyRequestsWithoutTls")
        .on([bucket.arn(), sub("${Bucket}/*", [("Bucket", bucket.arn())])])
        .condition("Bool", "aws:SecureTransport", [Str::from("false")]))
}

fn bucket_name(cfg: &EnvConfig, suffix: &str) -> Str {
    sub(
        &format!("{}-${{AWS::AccountId}}-${{AWS::Region}}", cfg.name(suffix)),
        [],
    )
}

fn public_access_block() -> s3::bucket::PublicAccessBlockConfiguration {
    s3::bucket::PublicAccessBlockConfiguration::new()
        .block_public_acls(true)
        .block_public_policy(true)
        .ignore_public_acls(true)
        .restrict_public_buckets(true)
}

fn lifecycle(expire_days: u32, noncurrent_days: u32) -> s3::bucket::LifecycleConfiguration {
    use s3::bucket::*;
    LifecycleConfiguration::new(vec![Rule::new(RuleStatus::Enabled)
        .id("expire-personal-data")
        .expiration_in_days(expire_days)
        .noncurrent_version_expiration(NoncurrentVersionExpiration::new(noncurrent_days))
        .abort_incomplete_multipart_upload(AbortIncompleteMultipartUpload::new(1u32))])
}

/// A bucket for personal data: versioned, SSE-KMS with the data key and bucket keys, expiring,
/// private, logged, TLS only.
// Each argument is one decision about the bucket; a builder would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn data_bucket(
    t: &mut Template,
    cfg: &EnvConfig,
    id: &str,
    suffix: &str,
    key: &Handle<kms::Key>,
    log_bucket: &Handle<s3::Bucket>,
    expire_days: u32,
    notification: Option<s3::bucket::NotificationConfiguration>,
    attrs: Attributes,
) -> Result<Handle<s3::Bucket>, ModelError> {
    use s3::bucket::*;
    let mut bucket = s3::Bucket::new()
        .bucket_name(bucket_name(cfg, suffix))
        .versioning_configuration(VersioningConfiguration::new(
            VersioningConfigurationStatus::Enabled,
        ))
        .bucket_encryption(BucketEncryption::new(vec![ServerSideEncryptionRule::new()
            .bucket_key_enabled(true)
            .server_side_encryption_by_default(
                ServerSideEncryptionByDefault::new(SSEAlgorithm::AwsKms)
                    .kms_master_key_id(key.arn()),
            )]))
        .lifecycle_configuration(lifecycle(expire_days, cfg.noncurrent_expiry_days))
        .public_access_block_configuration(public_access_block())
        .ownership_controls(OwnershipControls::new(vec![
            OwnershipControlsRule::new().object_ownership(ObjectOwnership::BucketOwnerEnforced)
        ]))
        .logging_configuration(
            LoggingConfiguration::new()
                .destination_bucket_name(log_bucket.to_ref())
                .log_file_prefix(format!("s3/{suffix}/")),
        )
        .cors_configuration(CorsConfiguration::new(vec![CorsRule::new(
            vec![Val::Lit(AllowedMethods::Put), Val::Lit(AllowedMethods::Get)],
            vec![Str::from(cfg.frontend_origin)],
        )
        .allowed_headers([Str::from("content-type"), Str::from("content-md5")])
        .max_age(3000u32)]));
    if let Some(n) = notification {
        bucket = bucket.notification_configuration(n);
    }
    let h = t.add_with(id, bucket, attrs)?;
    t.add(
        &format!("{id}Policy"),
        s3::BucketPolicy::new(h.to_ref(), PolicyDocument::new([tls_only(&h)?])?),
    )?;
    Ok(h)
}

// Each argument is one decision about the table; a builder would only rename them.
#[allow(clippy::too_many_arguments)]
fn table(
    t: &mut Template,
    cfg: &EnvConfig,
    id: &str,
    name: &str,
    key: &Handle<kms::Key>,
    hash: &str,
    range: Option<(&str, dynamodb::table::AttributeType)>,
    ttl: bool,
    stream: Option<&str>,
) -> Result<Handle<dynamodb::Table>, ModelError> {
    use dynamodb::table::*;
    let mut schema = vec![Node::map([
        ("AttributeName", Node::str(hash)),
        ("KeyType", Node::str("HASH")),
    ])];
    let mut attrs = vec![AttributeDefinition::new(hash, AttributeType::S)];
    if let Some((r, ty)) = range {
        schema.push(Node::map([
            ("AttributeName", Node::str(r)),
            ("KeyType", Node::str("RANGE")),
        ]));
        attrs.push(AttributeDefinition::new(r, ty));
    }
    let mut tbl = dynamodb::Table::new(Node::List(schema))
        .table_name(cfg.name(name))
        .attribute_definitions(attrs)
        .billing_mode("PAY_PER_REQUEST")
        .sse_specification(
            SSESpecification::new(true)
                .sse_type(SSEType::Kms)
                .kms_master_key_id(key.arn()),
        )
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::new()
                .point_in_time_recovery_enabled(cfg.point_in_time_recovery),
        )
        .deletion_protection_enabled(cfg.retain_data);
    if ttl {
        tbl = tbl.time_to_live_specification(
            TimeToLiveSpecification::new(true).attribute_name("expiresAt"),
        );
    }
    if let Some(view) = stream {
        tbl = tbl.stream_specification(StreamSpecification::new(view));
    }
    t.add_with(id, tbl, data_retention(cfg))
}

fn topic(
    t: &mut Template,
    cfg: &EnvConfig,
    id: &str,
    name: &str,
    key: &Handle<kms::Key>,
) -> Result<Handle<sns::Topic>, ModelError> {
    t.add(
        id,
        sns::Topic::new()
            .topic_name(cfg.name(name))
            .kms_master_key_id(key.arn()),
    )
}

/// A KMS-encrypted queue that keeps messages for 14 days.
pub(crate) fn queue(
    t: &mut Template,
    cfg: &EnvConfig,
    id: &str,
    name: &str,
    key: &Handle<kms::Key>,
) -> Result<Handle<sqs::Queue>, ModelError> {
    t.add(
        id,
        sqs::Queue::new()
            .queue_name(cfg.name(name))
            .kms_master_key_id(key.arn())
            .kms_data_key_reuse_period_seconds(300u32)
            .message_retention_period(1_209_600u32),
    )
}

/// Keys, the log bucket, the frames and OCR buckets, tables, topics, the failure queue, the secret.
pub fn build(
    t: &mut Template,
    cfg: &EnvConfig,
    alarm_email: &ParameterHandle,
    has_alarm_email: &ConditionHandle,
) -> Result<Store, ModelError> {
    use kms::key::*;
    let key = t.add_with(
        "DataKey",
        kms::Key::new()
            .description(format!("KYC kit {} data key", cfg.env))
            .enable_key_rotation(true)
            .key_policy(data_key_policy()?),
        data_retention(cfg),
    )?;
    t.add(
        "DataKeyAlias",
        kms::Alias::new(format!("alias/{}-data", cfg.stack_name()), key.to_ref()),
    )?;
    let signing_key = t.add_with(
        "TokenSigningKey",
        kms::Key::new()
            .description(format!("KYC kit {} verification-token signing key (ES256)", cfg.env))
            .key_spec(KeySpec::EccNistP256)
            .key_usage(KeyUsage::SignVerify)
            .key_policy(signing_key_policy()?),
        data_retention(cfg).checkov_skip(
            "CKV_AWS_7",
            "asymmetric signing keys cannot rotate automatically; tokens carry a key id so a new key is introduced beside the old one",
        ),
    )?;
    t.add(
        "TokenSigningKeyAlias",
        kms::Alias::new(
            format!("alias/{}-token-signing", cfg.stack_name()),
            signing_key.to_ref(),
        ),
    )?;

    let log_bucket = {
        use s3::bucket::*;
        let h = t.add_with(
            "AccessLogBucket",
            s3::Bucket::new()
                .bucket_name(bucket_name(cfg, "access-logs"))
                .versioning_configuration(VersioningConfiguration::new(
                    VersioningConfigurationStatus::Enabled,
                ))
                .bucket_encryption(BucketEncryption::new(vec![ServerSideEncryptionRule::new()
                    .server_side_encryption_by_default(ServerSideEncryptionByDefault::new(
                        SSEAlgorithm::Aes256,
                    ))]))
                .lifecycle_configuration(lifecycle(
                    cfg.log_retention_days,
                    cfg.noncurrent_expiry_days,
                ))
                .public_access_block_configuration(public_access_block())
                .ownership_controls(OwnershipControls::new(vec![OwnershipControlsRule::new()
                    .object_ownership(ObjectOwnership::BucketOwnerPreferred)])),
            data_retention(cfg).checkov_skip(
                "CKV_AWS_18",
                "this is the access-log bucket; logging it into itself would loop",
            ),
        )?;
        let doc = PolicyDocument::new([
            Statement::allow(["s3:PutObject"])?
                .sid("S3ServerAccessLogs")
                .principal(Principal::service("logging.s3.amazonaws.com"))?
                .on([sub("${Bucket}/s3/*", [("Bucket", h.arn())])])
                .condition("StringEquals", "aws:SourceAccount", [pseudo::account_id()]),
            tls_only(&h)?,
        ])?;
        t.add(
            "AccessLogBucketPolicy",
            s3::BucketPolicy::new(h.to_ref(), doc),
        )?;
        h
    };

    let frames = data_bucket(
        t,
        cfg,
        "LiveFramesBucket",
        "live-frames",
        &key,
        &log_bucket,
        cfg.image_expiry_days,
        None,
        data_retention(cfg),
    )?;
    let ocr_raw = data_bucket(
        t,
        cfg,
        "OcrRawBucket",
        "ocr-raw",
        &key,
        &log_bucket,
        cfg.ocr_raw_expiry_days,
        None,
        data_retention(cfg),
    )?;

    let audit = table(
        t,
        cfg,
        "AuditLogTable",
        "KycAuditLog",
        &key,
        "verificationId",
        Some(("seq", dynamodb::table::AttributeType::N)),
        true,
        None,
    )?;
    let ocr = table(
        t,
        cfg,
        "OcrDataTable",
        "KycOcrData",
        &key,
        "verificationId",
        None,
        true,
        Some("NEW_IMAGE"),
    )?;
    let sessions = table(
        t,
        cfg,
        "SessionsTable",
        "sessions",
        &key,
        "verificationId",
        None,
        true,
        None,
    )?;
    let tasks = table(
        t,
        cfg,
        "TasksTable",
        "tasks",
        &key,
        "taskId",
        None,
        false,
        Some("NEW_AND_OLD_IMAGES"),
    )?;
    let connections = table(
        t,
        cfg,
        "ConnectionsTable",
        "connections",
        &key,
        "connectionId",
        None,
        true,
        None,
    )?;

    let events_topic = topic(t, cfg, "EventsTopic", "events", &key)?;
    let alarms_topic = topic(t, cfg, "AlarmsTopic", "alarms", &key)?;
    let task_topic = topic(t, cfg, "TaskEventsTopic", "task-events", &key)?;
    t.add_with(
        "AlarmEmailSubscription",
        sns::Subscription::new("email", alarms_topic.to_ref()).endpoint(alarm_email.to_ref()),
        Attributes::new().condition(has_alarm_email),
    )?;
    let stream_failures = queue(t, cfg, "StreamFailuresQueue", "stream-failures", &key)?;

    let screening_secret = t.add_with(
        "ScreeningProviderSecret",
        secretsmanager::Secret::new()
            .name(format!("kyc/{}/screening-provider-key", cfg.env))
            .description("API key of the third-party sanctions screening provider (set by operators; a random placeholder until then)")
            .kms_key_id(key.arn())
            .generate_secret_string(
                secretsmanager::secret::GenerateSecretString::new()
                    .password_length(48u32)
                    .exclude_punctuation(true),
            ),
        data_retention(cfg),
    )?;
    let idempotency_secret = t.add_with(
        "IdempotencySecret",
        secretsmanager::Secret::new()
            .name(format!("kyc/{}/idempotency-key", cfg.env))
            .description("Turns an upload's Idempotency-Key into its verification id (read by the API functions at cold start; never leaves them)")
            .kms_key_id(key.arn())
            .generate_secret_string(
                secretsmanager::secret::GenerateSecretString::new()
                    .password_length(64u32)
                    .exclude_punctuation(true),
            ),
        data_retention(cfg),
    )?;

    Ok(Store {
        key,
        signing_key,
        log_bucket,
        uploads_name: bucket_name(cfg, "id-uploads"),
        frames,
        ocr_raw,
        audit,
        ocr,
        sessions,
        tasks,
        connections,
        events_topic,
        alarms_topic,
        task_topic,
        stream_failures,
        screening_secret,
        idempotency_secret,
    })
}

/// The ID uploads bucket; with `ocr_trigger`, ObjectCreated events invoke the OCR function.
pub fn uploads_bucket(
    t: &mut Template,
    cfg: &EnvConfig,
    store: &Store,
    ocr_trigger: Option<(Str, Attributes)>,
) -> Result<Handle<s3::Bucket>, ModelError> {
    use s3::bucket::*;
    // With a trigger, the caller's attributes make the bucket wait for the invoke permission.
    let (notification, attrs) = match ocr_trigger {
        Some((function_arn, attrs)) => (
            Some(NotificationConfiguration::new().lambda_configurations([
                LambdaConfiguration::new("s3:ObjectCreated:*", function_arn),
            ])),
            attrs,
        ),
        None => (None, data_retention(cfg)),
    };
    data_bucket(
        t,
        cfg,
        "IdUploadsBucket",
        "id-uploads",
        &store.key,
        &store.log_bucket,
        cfg.image_expiry_days,
        notification,
        attrs,
    )
}

/// The parameter (under `/kyc/<env>/`) naming the idempotency secret: the name the `api`
/// function reads (`handlers::aws::IDEMPOTENCY_SECRET_ARN`).
pub const IDEMPOTENCY_SECRET_PARAMETER: &str = "secrets/idempotency-key-arn";

/// SSM parameters with the names and endpoints the handlers read at start-up.
pub fn parameters(
    t: &mut Template,
    cfg: &EnvConfig,
    store: &Store,
    apis: &super::api::Apis,
) -> Result<(), ModelError> {
    let mut entries: Vec<(&str, &str, Str)> = vec![
        (
            "ParamIdUploadsBucket",
            "buckets/id-uploads",
            store.uploads_name.clone(),
        ),
        (
            "ParamLiveFramesBucket",
            "buckets/live-frames",
            store.frames.to_ref(),
        ),
        (
            "ParamOcrRawBucket",
            "buckets/ocr-raw",
            store.ocr_raw.to_ref(),
        ),
        (
            "ParamAuditLogTable",
            "tables/audit-log",
            store.audit.to_ref(),
        ),
        ("ParamOcrDataTable", "tables/ocr-data", store.ocr.to_ref()),
        (
            "ParamSessionsTable",
            "tables/sessions",
            store.sessions.to_ref(),
        ),
        ("ParamTasksTable", "tables/tasks", store.tasks.to_ref()),
        (
            "ParamConnectionsTable",
            "tables/connections",
            store.connections.to_ref(),
        ),
        (
            "ParamEventsTopic",
            "topics/events",
            store.events_topic.to_ref(),
        ),
        ("ParamDataKeyArn", "keys/data-key-arn", store.key.arn()),
        (
            "ParamSigningKeyArn",
            "keys/signing-key-arn",
            store.signing_key.arn(),
        ),
        (
            "ParamScreeningSecretArn",
            "secrets/screening-provider-key-arn",
            store.screening_secret.to_ref(),
        ),
        (
            "ParamIdempotencySecretArn",
            IDEMPOTENCY_SECRET_PARAMETER,
            store.idempotency_secret.to_ref(),
        ),
        (
            "ParamRestApiEndpoint",
            "endpoints/rest-api",
            apis.rest_url.clone(),
        ),
    ];
    if let Some(ws) = &apis.websocket_url {
        entries.push(("ParamWebSocketEndpoint", "endpoints/websocket", ws.clone()));
    }
    for (id, path, value) in entries {
        t.add(
            id,
            ssm::Parameter::new(ssm::parameter::Type::String, value)
                .name(format!("{}/{path}", cfg.parameter_hierarchy()))
                .description(format!("KYC kit {}: {path}", cfg.env)),
        )?;
    }
    Ok(())
}
