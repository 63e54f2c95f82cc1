//! `DynamoOcrData`: the structured result of reading a verification's document, one item per
//! verification in `KycOcrData`, expiring through the `expiresAt` TTL. Its stream (`NEW_IMAGE`)
//! triggers sanctions screening ([`super::streams`]).

use aws_sdk_dynamodb::types::ReturnValue;
use aws_sdk_dynamodb::Client;
use kyc_core::model::{Timestamp, VerificationId};
use kyc_core::ports::PortError;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{
    get_consistent, get_n, get_s, n, port_error, s, ttl_instant, ttl_secs, Item, TTL_ATTRIBUTE,
};

/// OCR data in DynamoDB, generic over the record type (stored as JSON), like kyc-local's
/// `SqliteOcrData`.
///
/// # Item
///
/// | attribute | type | value |
/// |---|---|---|
/// | `verificationId` | S | partition key |
/// | `record` | S | the record as JSON: **personal data** (the document fields read) |
/// | `createdAt` | N | when it was written, milliseconds since the epoch |
/// | `expiresAt` | N | TTL, epoch seconds (the given expiry rounded up to the second) |
///
/// The record is personal data: it is protected by the table's encryption at rest with the
/// stack's customer-managed KMS key, access to which is limited to the functions that need
/// it, and it expires. Nothing else in the item is personal.
///
/// DynamoDB's TTL sweeper deletes expired items late (typically within days), so
/// [`get`](Self::get) itself refuses an item whose `expiresAt` has passed: an expired record
/// is never returned.
///
/// # Calls and IAM actions
///
/// `put`: `PutItem` (replaces); `get`: `GetItem` (consistent); `delete`: `DeleteItem` with
/// `ReturnValues = ALL_OLD`. IAM: `dynamodb:PutItem`, `dynamodb:GetItem`,
/// `dynamodb:DeleteItem`, and use of the table's KMS key.
///
/// # Errors
///
/// As in [`super`]; a record that does not decode as the requested type, or an item without
/// its attributes, is [`PortError::Integrity`]; an expiry not after `now` is
/// [`PortError::Rejected`].
#[derive(Clone, Debug)]
pub struct DynamoOcrData {
    client: Client,
    table: String,
}

impl DynamoOcrData {
    /// A repository on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Stores (or replaces) the record of `id`, written at `now` and kept until `expires_at`.
    pub async fn put<T: Serialize + ?Sized>(
        &self,
        id: &VerificationId,
        record: &T,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), PortError> {
        let item = encode(id, record, now, expires_at)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| port_error(&e))?;
        Ok(())
    }

    /// The record of `id`, or `None` if there is none or it has expired at `now`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        id: &VerificationId,
        now: Timestamp,
    ) -> Result<Option<T>, PortError> {
        match get_consistent(&self.client, &self.table, "verificationId", id.as_str()).await? {
            None => Ok(None),
            Some(item) => decode(id, &item, now),
        }
    }

    /// Deletes the record of `id`; returns whether there was one (erasure is idempotent).
    pub async fn delete(&self, id: &VerificationId) -> Result<bool, PortError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("verificationId", s(id.as_str()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| port_error(&e))?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }
}

fn encode<T: Serialize + ?Sized>(
    id: &VerificationId,
    record: &T,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<Item, PortError> {
    if expires_at <= now {
        return Err(PortError::Rejected {
            backend: super::BACKEND,
            reason: "the ocr data would already be expired",
        });
    }
    let json = serde_json::to_string(record).map_err(|_| PortError::Rejected {
        backend: super::BACKEND,
        reason: "the ocr data could not be encoded",
    })?;
    Ok([
        ("verificationId", s(id.as_str())),
        ("record", s(json)),
        ("createdAt", n(now.millis())),
        (TTL_ATTRIBUTE, n(ttl_secs(expires_at))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect())
}

fn decode<T: DeserializeOwned>(
    id: &VerificationId,
    item: &Item,
    now: Timestamp,
) -> Result<Option<T>, PortError> {
    if get_s(item, "verificationId")? != id.as_str() {
        return Err(PortError::Integrity);
    }
    if ttl_instant(get_n::<i64>(item, TTL_ATTRIBUTE)?) <= now {
        return Ok(None);
    }
    serde_json::from_str(get_s(item, "record")?)
        .map(Some)
        .map_err(|_| PortError::Integrity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    fn id() -> VerificationId {
        VerificationId::from_random_bytes([1; 16])
    }

    #[test]
    fn a_record_round_trips_until_its_expiry_second() {
        let item = encode(&id(), &vec!["a", "b"], T0, T0.plus_millis(1_000)).unwrap();
        assert_eq!(get_n::<i64>(&item, "createdAt"), Ok(T0.millis()));
        let back: Option<Vec<String>> = decode(&id(), &item, T0.plus_millis(999)).unwrap();
        assert_eq!(back, Some(vec!["a".to_owned(), "b".to_owned()]));
        let gone: Option<Vec<String>> = decode(&id(), &item, T0.plus_millis(1_000)).unwrap();
        assert_eq!(gone, None);
    }

    #[test]
    fn an_expiry_in_the_past_is_refused_and_a_foreign_item_is_an_integrity_failure() {
        assert!(matches!(
            encode(&id(), &1, T0, T0),
            Err(PortError::Rejected { .. })
        ));
        let item = encode(&id(), &1, T0, T0.plus_millis(5_000)).unwrap();
        let other = VerificationId::from_random_bytes([2; 16]);
        assert_eq!(decode::<i32>(&other, &item, T0), Err(PortError::Integrity));
        assert_eq!(
            decode::<String>(&id(), &item, T0),
            Err(PortError::Integrity)
        );
    }

    proptest! {
        #[test]
        fn hostile_stored_records_never_panic(record in ".{0,200}", ttl in ".{0,12}") {
            let mut item = encode(&id(), &1, T0, T0.plus_millis(5_000)).unwrap();
            item.insert("record".into(), s(record));
            item.insert(TTL_ATTRIBUTE.into(), aws_sdk_dynamodb::types::AttributeValue::N(ttl));
            let _ = decode::<serde_json::Value>(&id(), &item, T0);
        }
    }
}
