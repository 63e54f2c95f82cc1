//! DynamoDB adapters: verification sessions, the structured OCR record (`KycOcrData`), the
//! tamper-evident audit log (`KycAuditLog`), the task board, and the parsing of DynamoDB
//! Stream records into domain events.
//!
//! | Adapter | Port | Table (stack name `kyc-<env>-…`) | Keys | TTL | Stream |
//! |---|---|---|---|---|---|
//! | [`DynamoSessionStore`] | `SessionStore` | `sessions` | `verificationId` | `expiresAt` | — |
//! | [`DynamoOcrData`] | (record store) | `KycOcrData` | `verificationId` | `expiresAt` | `NEW_IMAGE` |
//! | [`DynamoAuditLog`] | `AuditLog` | `KycAuditLog` | `verificationId`, `seq` (N) | `expiresAt` | — |
//! | [`DynamoTaskStore`] | (task board) | `tasks` | `taskId` | — | `NEW_AND_OLD_IMAGES` |
//!
//! The tables, their keys, TTL attribute and streams are created by `stackgen`
//! (`stackgen/src/stack/storage.rs`); [`TableNames::for_env`] gives their names.
//!
//! # Calls, retries and errors
//!
//! Every adapter takes an [`aws_sdk_dynamodb::Client`] built from the shared configuration
//! ([`client`], from [`AwsSettings::load`](crate::config::AwsSettings::load)), so every call
//! has the SDK's standard retries (backoff with jitter on throttling, 5xx, timeouts) and the
//! configured timeouts. Reads that decide a write are strongly consistent (`ConsistentRead`).
//! Failures are mapped with [`crate::error`]: throttling, 5xx, timeouts and connection errors
//! → `PortError::Unavailable` (retryable); a failed condition → `PortError::Conflict`; a
//! missing table or denied access → `PortError::Misconfigured`; a stored item that does not
//! decode → `PortError::Integrity`. The service's own messages, and the items a failed
//! condition returns, never reach an error or a log line.
//!
//! # Ambiguous failures
//!
//! A write whose first attempt landed but whose answer was lost (a timeout, a 500 after the
//! write) is retried by the SDK, and the retry's condition then fails against the adapter's
//! own write. Conditional writes therefore ask for the stored item on failure
//! (`ReturnValuesOnConditionCheckFailure = ALL_OLD`) and treat "the stored item is exactly
//! what this call wrote" as success, not as a conflict: no duplicate, no spurious conflict.
//!
//! # Personal data
//!
//! Sessions hold identifiers, states and step keys, no personal values; OCR records hold the
//! document fields read (personal data); audit events hold personal values only in their
//! personal part (a salted digest stays in the chain after redaction). The tables are
//! encrypted at rest with the stack's customer-managed KMS key (SSE-KMS), and items expire
//! through the `expiresAt` TTL. Attributes outside the JSON bodies hold only identifiers,
//! numbers, hashes, state and status names.

mod audit;
mod ocr;
mod sessions;
pub mod streams;
mod tasks;

pub use audit::DynamoAuditLog;
pub use ocr::DynamoOcrData;
pub use sessions::DynamoSessionStore;
pub use tasks::{DynamoTaskStore, TaskStoreError};

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use kyc_core::model::Timestamp;
use kyc_core::ports::PortError;

/// The backend name in `PortError`s.
pub(crate) const BACKEND: &str = "dynamodb";

/// A DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The name of the TTL attribute of every table with a TTL (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expiresAt";

/// A DynamoDB client for the shared configuration (retries, timeouts, endpoint).
pub fn client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// The names of the stack's tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableNames {
    /// Verification sessions.
    pub sessions: String,
    /// `KycOcrData`.
    pub ocr_data: String,
    /// `KycAuditLog`.
    pub audit_log: String,
    /// Task board tasks.
    pub tasks: String,
}

impl TableNames {
    /// The names `stackgen` gives the tables of environment `env` (`kyc-<env>-<table>`); they
    /// are also published as SSM parameters under `/kyc/<env>/tables/`.
    ///
    /// ```
    /// let t = kyc_aws::dynamo::TableNames::for_env("dev");
    /// assert_eq!(t.audit_log, "kyc-dev-KycAuditLog");
    /// assert_eq!(t.sessions, "kyc-dev-sessions");
    /// ```
    pub fn for_env(env: &str) -> Self {
        let name = |t: &str| format!("kyc-{env}-{t}");
        Self {
            sessions: name("sessions"),
            ocr_data: name("KycOcrData"),
            audit_log: name("KycAuditLog"),
            tasks: name("tasks"),
        }
    }
}

/// The item under a single-attribute key (`verificationId`, `taskId`), read consistently: every
/// read that can precede a conditional write must see the latest write.
pub(crate) async fn get_consistent(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
    value: &str,
) -> Result<Option<Item>, PortError> {
    let out = client
        .get_item()
        .table_name(table)
        .key(key, s(value))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| port_error(&e))?;
    Ok(out.item)
}

/// The TTL value for an instant: epoch seconds, rounded up so the sweeper never removes an
/// item before its time.
pub(crate) fn ttl_secs(t: Timestamp) -> i64 {
    let ms = t.millis();
    ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) != 0)
}

/// The instant a TTL value stands for.
pub(crate) fn ttl_instant(secs: i64) -> Timestamp {
    Timestamp::from_millis(secs.saturating_mul(1000))
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A string attribute of a stored item; a missing or mistyped one is an integrity failure.
pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, PortError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(PortError::Integrity),
    }
}

/// An optional string attribute (absent is `None`; mistyped is an integrity failure).
pub(crate) fn get_opt_s<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>, PortError> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v)),
        Some(_) => Err(PortError::Integrity),
    }
}

/// A whole-number attribute of a stored item.
pub(crate) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, PortError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().map_err(|_| PortError::Integrity),
        _ => Err(PortError::Integrity),
    }
}

/// An optional whole-number attribute.
pub(crate) fn get_opt_n<T: std::str::FromStr>(
    item: &Item,
    name: &str,
) -> Result<Option<T>, PortError> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(|_| PortError::Integrity),
        Some(_) => Err(PortError::Integrity),
    }
}

/// How a conditional write failed.
pub(crate) enum WriteFailure {
    /// The condition did not hold; the stored item, if the service returned it
    /// (`ReturnValuesOnConditionCheckFailure = ALL_OLD`; `None` when there is no item).
    Condition(Option<Item>),
    /// Anything else, classified.
    Other(PortError),
}

/// Splits a conditional write's error into "condition failed (with the stored item)" and the
/// rest. One function per operation: each has its own error enum.
macro_rules! write_failure {
    ($name:ident, $err:ty, $variant:path) => {
        pub(crate) fn $name(
            err: aws_smithy_runtime_api::client::result::SdkError<
                $err,
                aws_smithy_runtime_api::client::orchestrator::HttpResponse,
            >,
        ) -> WriteFailure {
            match err.as_service_error() {
                Some($variant(c)) => WriteFailure::Condition(c.item().cloned()),
                _ => match crate::error::classify(&err) {
                    crate::error::Failure::ConditionFailed => WriteFailure::Condition(None),
                    f => WriteFailure::Other(crate::error::port_error(BACKEND, f)),
                },
            }
        }
    };
}

write_failure!(
    put_failure,
    aws_sdk_dynamodb::operation::put_item::PutItemError,
    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException
);
write_failure!(
    update_failure,
    aws_sdk_dynamodb::operation::update_item::UpdateItemError,
    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException
);
write_failure!(
    delete_failure,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemError,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException
);

/// Maps any SDK error to a `PortError` of this backend.
pub(crate) fn port_error<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(
    err: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> PortError {
    crate::error::to_port_error(BACKEND, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_values_round_up_to_the_next_second() {
        assert_eq!(ttl_secs(Timestamp::from_millis(5_000)), 5);
        assert_eq!(ttl_secs(Timestamp::from_millis(5_001)), 6);
        assert_eq!(ttl_secs(Timestamp::from_millis(5_999)), 6);
        assert_eq!(ttl_secs(Timestamp::from_millis(-1)), 0);
        assert_eq!(ttl_instant(6), Timestamp::from_millis(6_000));
        assert_eq!(ttl_instant(i64::MAX).millis(), i64::MAX);
    }

    #[test]
    fn table_names_follow_the_stack() {
        let t = TableNames::for_env("prod");
        assert_eq!(
            (t.sessions, t.ocr_data, t.audit_log, t.tasks),
            (
                "kyc-prod-sessions".to_owned(),
                "kyc-prod-KycOcrData".to_owned(),
                "kyc-prod-KycAuditLog".to_owned(),
                "kyc-prod-tasks".to_owned()
            )
        );
    }

    #[test]
    fn mistyped_or_missing_attributes_are_integrity_failures() {
        let item: Item = [("a".to_owned(), n(3)), ("b".to_owned(), s("x"))].into();
        assert_eq!(get_n::<u64>(&item, "a"), Ok(3));
        assert_eq!(get_s(&item, "a"), Err(PortError::Integrity));
        assert_eq!(get_n::<u64>(&item, "b"), Err(PortError::Integrity));
        assert_eq!(get_s(&item, "c"), Err(PortError::Integrity));
        assert_eq!(get_opt_s(&item, "c"), Ok(None));
        assert_eq!(get_opt_n::<i64>(&item, "b"), Err(PortError::Integrity));
        assert_eq!(get_opt_n::<i64>(&item, "a"), Ok(Some(3)));
    }
}
