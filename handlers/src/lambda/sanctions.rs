//! The sanctions function: each `INSERT` or `MODIFY` record of the `KycOcrData` stream screens
//! its verification ([`Service::screen`]), with partial batch failure reporting.
//!
//! The stack maps the stream with `ReportBatchItemFailures`, a batch of 10, three retries,
//! bisection on error and a failure destination (`stackgen/src/stack/functions.rs`). The
//! answer lists the sequence number of every record whose screening failed in a way a retry
//! can heal (the provider or a table unavailable, a busy session):
//! `{"batchItemFailures": [{"itemIdentifier": "<SequenceNumber>"}]}`. Lambda retries the
//! stream from the lowest one listed; screening is idempotent, so records already screened are
//! left alone. A failure that cannot heal (a malformed record, a verification erased, expired
//! or gone) is logged and not listed: retrying it would only hold the shard up. `REMOVE`
//! records (expiry, erasure) and records of other tables are skipped.
//!
//! Records are parsed one by one with kyc-aws's stream parser, which reads only identifiers
//! and timestamps: the OCR record in the image (personal data) is never copied, logged or
//! echoed in an error.

use kyc_aws::dynamo::streams::{ChangeEvent, LambdaRecord, StreamSource};
use kyc_core::ports::EventKind;
use serde::{Deserialize, Serialize};

use super::tag;
use crate::service::{Platform, Service};

/// The partial batch response of a stream-triggered function.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResponse {
    /// The records to retry.
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<BatchItemFailure>,
}

/// One record to retry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchItemFailure {
    /// The record's sequence number.
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

impl BatchResponse {
    /// The sequence numbers listed, in order.
    pub fn sequence_numbers(&self) -> Vec<&str> {
        self.batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect()
    }
}

/// What one invocation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SanctionsReport {
    /// The answer to Lambda.
    pub response: BatchResponse,
    /// Records screened (or found already screened).
    pub screened: usize,
    /// Records with nothing to screen (`REMOVE`, other tables).
    pub skipped: usize,
    /// Records that failed for good (logged, not retried).
    pub dropped: usize,
}

/// A record's sequence number read without parsing the rest, for the log line of a record
/// that does not parse (only if it is a short token: it is logged).
fn raw_sequence_number(record: &serde_json::Value) -> Option<&str> {
    record
        .get("dynamodb")?
        .get("SequenceNumber")?
        .as_str()
        .filter(|s| (1..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
}

/// Handles a stream batch (the invocation payload as JSON).
pub async fn handle<P: Platform>(
    service: &Service<P>,
    payload: serde_json::Value,
) -> SanctionsReport {
    let mut report = SanctionsReport::default();
    let records = match payload {
        serde_json::Value::Object(mut m) => match m.remove("Records") {
            Some(serde_json::Value::Array(records)) => records,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    if records.is_empty() {
        tracing::warn!("the payload holds no stream records");
    }
    for (n, raw) in records.into_iter().enumerate() {
        let raw_seq = raw_sequence_number(&raw).map(str::to_owned);
        let record: LambdaRecord = match serde_json::from_value(raw) {
            Ok(r) => r,
            Err(_) => {
                report.dropped += 1;
                tracing::error!(
                    record = n,
                    sequence = raw_seq.as_deref(),
                    "malformed stream record; dropped"
                );
                continue;
            }
        };
        let Some(seq) = record.sequence_number().map(str::to_owned) else {
            report.dropped += 1;
            tracing::error!(
                record = n,
                "stream record without a sequence number; dropped"
            );
            continue;
        };
        if record.source().is_some_and(|s| s != StreamSource::OcrData) {
            report.skipped += 1;
            tracing::warn!(record = n, sequence = %seq, "record of another table; skipped");
            continue;
        }
        let events = match record.events(StreamSource::OcrData) {
            Ok(events) => events,
            Err(e) => {
                report.dropped += 1;
                tracing::error!(record = n, sequence = %seq, error = %e, "malformed stream record; dropped");
                continue;
            }
        };
        let ids: Vec<_> = events
            .into_iter()
            .filter_map(|e| match e {
                ChangeEvent::Verification(d) if d.kind == EventKind::DocumentRead => {
                    Some(d.verification_id)
                }
                _ => None,
            })
            .collect();
        if ids.is_empty() {
            report.skipped += 1;
            tracing::info!(record = n, sequence = %seq, "nothing to screen; skipped");
            continue;
        }
        let mut failed = false;
        for id in ids {
            let reference = tag(&id);
            match service.screen(&id, false).await {
                Ok(()) => {
                    report.screened += 1;
                    tracing::info!(record = n, sequence = %seq, verification = %reference, "screened");
                }
                Err(e) if e.is_retryable() => {
                    failed = true;
                    tracing::warn!(record = n, sequence = %seq, verification = %reference, error = %e, "screening failed; the record will be retried");
                }
                Err(e) => {
                    report.dropped += 1;
                    tracing::error!(record = n, sequence = %seq, verification = %reference, error = %e, "screening failed; dropped");
                }
            }
        }
        if failed {
            report.response.batch_item_failures.push(BatchItemFailure {
                item_identifier: seq,
            });
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_response_has_lambdas_field_names() {
        let r = BatchResponse {
            batch_item_failures: vec![BatchItemFailure {
                item_identifier: "42".into(),
            }],
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"batchItemFailures":[{"itemIdentifier":"42"}]}"#
        );
        assert_eq!(
            serde_json::to_string(&BatchResponse::default()).unwrap(),
            r#"{"batchItemFailures":[]}"#
        );
    }

    #[test]
    fn raw_sequence_numbers_are_logged_only_when_they_look_like_one() {
        let ok = serde_json::json!({"dynamodb": {"SequenceNumber": "1234"}});
        assert_eq!(raw_sequence_number(&ok), Some("1234"));
        let hostile = serde_json::json!({"dynamodb": {"SequenceNumber": "ANNA ERIKSSON"}});
        assert_eq!(raw_sequence_number(&hostile), None);
        assert_eq!(raw_sequence_number(&serde_json::json!([1])), None);
    }
}
