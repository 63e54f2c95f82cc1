//! `DynamoAuditLog`: the [`AuditLog`] port on `KycAuditLog`, one item per event, appended with
//! a conditional write on the next sequence number so that concurrent writers can never fork
//! a chain.

use std::time::Duration;

use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use aws_sdk_dynamodb::Client;
use kyc_core::audit::{
    next_event, AuditEvent, AuditLog, AuditLogError, ChainHead, EventDraft, Hash256,
};
use kyc_core::model::VerificationId;
use kyc_core::ports::PortError;

use super::{
    get_n, get_opt_n, get_opt_s, get_s, n, port_error, put_failure, s, ttl_secs, update_failure,
    Item, WriteFailure, TTL_ATTRIBUTE,
};

/// The audit log in DynamoDB.
///
/// # Item (one per event)
///
/// | attribute | type | value |
/// |---|---|---|
/// | `verificationId` | S | partition key: one chain per verification |
/// | `seq` | N | sort key: the event's sequence number (0, 1, 2…) |
/// | `event` | S | the event as kyc-core's JSON (lossless: exactly what is hashed and verified) **without** its personal part |
/// | `personal` | S | the personal part (salt and values) as JSON, until redacted |
/// | `hash` | S | the event's chain hash (lowercase hex), to recognise the event without decoding it |
/// | `kind` | S | the event kind (`document_read`…) |
/// | `occurredAt` | N | milliseconds since the epoch |
/// | `expiresAt` | N | TTL, epoch seconds, **the same for the whole chain** |
///
/// Only `personal` holds personal values; it is protected by the table's KMS encryption and
/// removed by [`redact`](AuditLog::redact) (the salted digest stays inside `event`, so the
/// chain still verifies). The whole chain shares one `expiresAt`: the first event sets it to
/// its `occurredAt` plus the configured retention and every later event copies the head's,
/// so expiry never removes a prefix of a chain (which would read as tampering).
///
/// # Append
///
/// 1. `Query` the head: `verificationId = :id`, `ScanIndexForward = false`, `Limit = 1`,
///    `ConsistentRead = true`.
/// 2. [`next_event`] builds the event that follows it.
/// 3. `PutItem` with `ConditionExpression = attribute_not_exists(seq)` and
///    `ReturnValuesOnConditionCheckFailure = ALL_OLD`.
///
/// If the condition fails and the stored event has this event's hash, the stored event *is*
/// this one: the SDK retried a write whose first attempt landed (an ambiguous 500 or
/// timeout), and the append succeeds without storing anything twice. Otherwise another writer
/// took the sequence number: [`AuditLogError::Conflict`], nothing stored; callers retry with
/// [`append_with_retry`](kyc_core::audit::append_with_retry). (If the service returns no item
/// with the failure, a consistent `GetItem` of that sequence number decides instead.) So even
/// across ambiguous failures an event is stored once: no duplicate, no loss.
///
/// # Calls and IAM actions
///
/// `append`: `Query`, `PutItem` (and `GetItem` in the fallback above). `read`: `Query`
/// (consistent, ascending, paginated). `redact`: `Query`, then one `UpdateItem` per event that
/// still has a personal part (`REMOVE personal` with `ConditionExpression =
/// attribute_exists(personal)`). IAM: `dynamodb:Query`, `dynamodb:PutItem`,
/// `dynamodb:GetItem`, `dynamodb:UpdateItem` on the table, and use of its KMS key.
///
/// # Errors
///
/// Throttling, 5xx, timeouts, connection failures → [`AuditLogError::Unavailable`]; a lost
/// race → [`AuditLogError::Conflict`]; missing table, denied access, invalid request, an item
/// that does not decode → [`AuditLogError::Storage`]. The sources are kyc-core `PortError`s
/// with fixed texts, never the service's message.
#[derive(Clone, Debug)]
pub struct DynamoAuditLog {
    client: Client,
    table: String,
    retention: Duration,
}

/// The head of a stored chain and the chain's TTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StoredHead {
    head: ChainHead,
    expires_at: Option<i64>,
}

impl DynamoAuditLog {
    /// How long a chain is kept after its first event unless configured otherwise: five years
    /// (a common record-keeping period for customer due diligence).
    pub const DEFAULT_RETENTION: Duration = Duration::from_secs(5 * 365 * 24 * 3600);

    /// A log on `table` with the default retention.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self::with_retention(client, table, Self::DEFAULT_RETENTION)
    }

    /// A log whose chains expire `retention` after their first event.
    pub fn with_retention(client: Client, table: impl Into<String>, retention: Duration) -> Self {
        Self {
            client,
            table: table.into(),
            retention,
        }
    }

    async fn head(&self, id: VerificationId) -> Result<Option<StoredHead>, PortError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("verificationId = :id")
            .expression_attribute_values(":id", s(id.as_str()))
            .projection_expression("#seq, #hash, #ttl")
            .expression_attribute_names("#seq", "seq")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(&e))?;
        out.items()
            .first()
            .map(|item| {
                Ok(StoredHead {
                    head: ChainHead {
                        seq: get_n(item, "seq")?,
                        hash: Hash256::parse_hex(get_s(item, "hash")?)
                            .map_err(|_| PortError::Integrity)?,
                    },
                    expires_at: get_opt_n(item, TTL_ATTRIBUTE)?,
                })
            })
            .transpose()
    }

    /// The stored hash of event `seq`, read consistently (the fallback when a failed condition
    /// came back without the stored item).
    async fn stored_hash(&self, id: VerificationId, seq: u64) -> Result<Option<String>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("verificationId", s(id.as_str()))
            .key("seq", n(seq))
            .projection_expression("#hash")
            .expression_attribute_names("#hash", "hash")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(&e))?;
        Ok(out
            .item()
            .and_then(|i| get_s(i, "hash").ok())
            .map(str::to_owned))
    }

    async fn append_event(&self, draft: EventDraft) -> Result<AuditEvent, AuditLogError> {
        let id = draft.verification_id;
        let stored = self.head(id).await.map_err(audit_error)?;
        let retention = i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        let expires_at = stored
            .and_then(|h| h.expires_at)
            .unwrap_or_else(|| ttl_secs(draft.occurred_at.plus_millis(retention)));
        let event = next_event(stored.map(|h| h.head), draft)?;
        let item = encode(&event, expires_at).map_err(audit_error)?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#seq)")
            .expression_attribute_names("#seq", "seq")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let stored_hash = match put {
            Ok(_) => return Ok(event),
            Err(e) => match put_failure(e) {
                WriteFailure::Condition(Some(old)) => get_s(&old, "hash").ok().map(str::to_owned),
                WriteFailure::Condition(None) => self
                    .stored_hash(id, event.seq())
                    .await
                    .map_err(audit_error)?,
                WriteFailure::Other(e) => return Err(audit_error(e)),
            },
        };
        if stored_hash.as_deref() == Some(event.hash().to_hex().as_str()) {
            // Our own earlier attempt landed: the event is stored exactly once.
            Ok(event)
        } else {
            Err(AuditLogError::Conflict)
        }
    }

    /// Every item of a chain in ascending `seq`, read consistently, page by page.
    async fn items(&self, id: VerificationId, only_personal: bool) -> Result<Vec<Item>, PortError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("verificationId = :id")
                .expression_attribute_values(":id", s(id.as_str()))
                .scan_index_forward(true)
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            if only_personal {
                q = q
                    .filter_expression("attribute_exists(#personal)")
                    .projection_expression("#seq")
                    .expression_attribute_names("#personal", "personal")
                    .expression_attribute_names("#seq", "seq");
            }
            let out = q.send().await.map_err(|e| port_error(&e))?;
            items.extend_from_slice(out.items());
            match out.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(items),
            }
        }
    }

    async fn read_chain(&self, id: VerificationId) -> Result<Vec<AuditEvent>, AuditLogError> {
        let items = self.items(id, false).await.map_err(audit_error)?;
        items
            .iter()
            .map(|item| decode(id, item).map_err(audit_error))
            .collect()
    }

    async fn redact_chain(&self, id: VerificationId) -> Result<usize, AuditLogError> {
        let items = self.items(id, true).await.map_err(audit_error)?;
        let mut changed = 0;
        for item in items {
            let seq: u64 = get_n(&item, "seq").map_err(audit_error)?;
            let out = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("verificationId", s(id.as_str()))
                .key("seq", n(seq))
                .update_expression("REMOVE #personal")
                .condition_expression("attribute_exists(#personal)")
                .expression_attribute_names("#personal", "personal")
                .send()
                .await;
            match out {
                Ok(_) => changed += 1,
                // Redacted meanwhile by another caller (or by our own retried attempt): the
                // event is in its redacted form either way.
                Err(e) => match update_failure(e) {
                    WriteFailure::Condition(_) => {}
                    WriteFailure::Other(e) => return Err(audit_error(e)),
                },
            }
        }
        Ok(changed)
    }
}

/// The item of `event` in a chain expiring at `expires_at` (epoch seconds).
fn encode(event: &AuditEvent, expires_at: i64) -> Result<Item, PortError> {
    let unencodable = || PortError::Rejected {
        backend: super::BACKEND,
        reason: "the audit event could not be encoded",
    };
    let mut body = serde_json::to_value(event).map_err(|_| unencodable())?;
    let personal = body
        .as_object_mut()
        .ok_or_else(unencodable)?
        .remove("personal");
    let mut item: Item = [
        ("verificationId", s(event.verification_id().as_str())),
        ("seq", n(event.seq())),
        ("event", s(body.to_string())),
        ("hash", s(event.hash().to_hex())),
        ("kind", s(event.kind().as_str())),
        ("occurredAt", n(event.occurred_at().millis())),
        (TTL_ATTRIBUTE, n(expires_at)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(p) = personal {
        item.insert("personal".to_owned(), s(p.to_string()));
    }
    Ok(item)
}

/// The event stored in `item`, which must belong to chain `id` and hold the event its key and
/// `hash` name.
fn decode(id: VerificationId, item: &Item) -> Result<AuditEvent, PortError> {
    let mut body: serde_json::Value =
        serde_json::from_str(get_s(item, "event")?).map_err(|_| PortError::Integrity)?;
    if let Some(p) = get_opt_s(item, "personal")? {
        let part: serde_json::Value = serde_json::from_str(p).map_err(|_| PortError::Integrity)?;
        body.as_object_mut()
            .ok_or(PortError::Integrity)?
            .insert("personal".to_owned(), part);
    }
    let event: AuditEvent = serde_json::from_value(body).map_err(|_| PortError::Integrity)?;
    let key_matches = event.verification_id() == id
        && get_s(item, "verificationId")? == id.as_str()
        && get_n::<u64>(item, "seq")? == event.seq()
        && get_s(item, "hash")? == event.hash().to_hex();
    if key_matches {
        Ok(event)
    } else {
        Err(PortError::Integrity)
    }
}

/// The audit log's error for a port failure.
fn audit_error(e: PortError) -> AuditLogError {
    match e {
        PortError::Conflict => AuditLogError::Conflict,
        e if e.is_retryable() => AuditLogError::Unavailable(Box::new(e)),
        e => AuditLogError::Storage(Box::new(e)),
    }
}

impl AuditLog for DynamoAuditLog {
    async fn append(&self, draft: EventDraft) -> Result<AuditEvent, AuditLogError> {
        self.append_event(draft).await
    }

    async fn read(
        &self,
        verification_id: VerificationId,
    ) -> Result<Vec<AuditEvent>, AuditLogError> {
        self.read_chain(verification_id).await
    }

    async fn redact(&self, verification_id: VerificationId) -> Result<usize, AuditLogError> {
        self.redact_chain(verification_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;
    use kyc_core::audit::{Actor, DetailKey, DetailValue, EventKind, PersonalData, Salt};
    use kyc_core::model::Timestamp;
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    fn id() -> VerificationId {
        VerificationId::from_random_bytes([7; 16])
    }

    fn event_with_personal() -> AuditEvent {
        let mut p = PersonalData::new();
        p.insert(DetailKey::parse("surname").unwrap(), "MUSTERMANN")
            .unwrap();
        let draft = EventDraft::new(
            id(),
            EventKind::DocumentRead,
            T0,
            Actor::parse("ocr-worker").unwrap(),
        )
        .with_detail("similarity", DetailValue::float(0.1 + 0.2).unwrap())
        .unwrap()
        .with_detail("frames", 12)
        .unwrap()
        .with_personal(p, Salt::from_bytes([3; 16]));
        next_event(None, draft).unwrap()
    }

    #[test]
    fn an_event_round_trips_losslessly_and_keeps_personal_values_out_of_the_body() {
        let e = event_with_personal();
        let item = encode(&e, 42).unwrap();
        assert!(!get_s(&item, "event").unwrap().contains("MUSTERMANN"));
        assert!(get_s(&item, "event").unwrap().contains("personalDigest"));
        assert!(get_s(&item, "personal").unwrap().contains("MUSTERMANN"));
        assert_eq!(get_n::<i64>(&item, TTL_ATTRIBUTE), Ok(42));
        let back = decode(id(), &item).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.canonical_bytes(), e.canonical_bytes());
    }

    #[test]
    fn a_redacted_item_decodes_to_the_redacted_event() {
        let e = event_with_personal();
        let mut item = encode(&e, 42).unwrap();
        item.remove("personal");
        let back = decode(id(), &item).unwrap();
        assert!(back.is_redacted());
        assert_eq!(back, e.redacted());
    }

    #[test]
    fn an_item_under_another_key_or_hash_is_an_integrity_failure() {
        let e = event_with_personal();
        let item = encode(&e, 42).unwrap();
        let other = VerificationId::from_random_bytes([8; 16]);
        assert_eq!(decode(other, &item), Err(PortError::Integrity));
        let mut moved = item.clone();
        moved.insert("seq".into(), n(5));
        assert_eq!(decode(id(), &moved), Err(PortError::Integrity));
        let mut rehashed = item.clone();
        rehashed.insert("hash".into(), s(Hash256::ZERO.to_hex()));
        assert_eq!(decode(id(), &rehashed), Err(PortError::Integrity));
        let mut swapped = item;
        swapped.insert("personal".into(), s("{\"salt\":\"00\",\"fields\":{}}"));
        assert_eq!(decode(id(), &swapped), Err(PortError::Integrity));
    }

    #[test]
    fn port_failures_map_to_the_audit_logs_outcomes() {
        assert!(matches!(
            audit_error(PortError::Conflict),
            AuditLogError::Conflict
        ));
        let u = audit_error(PortError::Unavailable {
            backend: "dynamodb",
        });
        assert!(matches!(u, AuditLogError::Unavailable(_)) && u.is_retryable());
        let s = audit_error(PortError::Integrity);
        assert!(matches!(s, AuditLogError::Storage(_)) && !s.is_retryable());
    }

    proptest! {
        #[test]
        fn hostile_items_never_panic_the_decoder(
            body in ".{0,200}",
            personal in proptest::option::of(".{0,100}"),
            seq in ".{0,8}",
        ) {
            let mut item = encode(&event_with_personal(), 1).unwrap();
            item.insert("event".into(), s(body));
            match personal {
                Some(p) => { item.insert("personal".into(), s(p)); }
                None => { item.remove("personal"); }
            }
            item.insert("seq".into(), AttributeValue::N(seq));
            prop_assert!(decode(id(), &item).is_err());
        }
    }
}
