//! `SqliteOcrData`: the structured result of reading a verification's document (a record
//! derived from kyc-core's `DocumentAssessment`), kept sealed in SQLite until it expires.
//!
//! There is no kyc-core port for it yet: the repository is generic over the record type,
//! which it stores as JSON.

use kyc_core::model::{Timestamp, VerificationId};
use rusqlite::{params, OptionalExtension as _};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::crypto::{open, seal};
use super::{Database, MasterKey, StoreError};

/// OCR data in the `ocr_data` table: one record per verification, as JSON sealed with the
/// master key (the verification id is the context, so a record cannot be moved to another
/// verification), with an expiry after which it is neither returned nor kept
/// ([`purge_expired`](Self::purge_expired), [`Database::purge_expired`]).
///
/// Blocking: call from a blocking thread (see [`Database`]).
#[derive(Clone, Debug)]
pub struct SqliteOcrData {
    db: Database,
    key: MasterKey,
}

impl SqliteOcrData {
    /// A repository on `db` sealing with `key`.
    pub fn new(db: Database, key: MasterKey) -> Self {
        Self { db, key }
    }

    /// Stores (or replaces) the record of `id`, written at `now` and kept until `expires_at`.
    pub fn put<T: Serialize + ?Sized>(
        &self,
        id: &VerificationId,
        record: &T,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        if expires_at <= now {
            return Err(StoreError::Invalid {
                what: "ocr data expiry",
            });
        }
        let json =
            serde_json::to_vec(record).map_err(|_| StoreError::Encoding { what: "ocr data" })?;
        let sealed = seal(&self.key, &context(id), &json)?;
        self.db.with(|c| {
            c.prepare_cached(
                "INSERT INTO ocr_data (verification_id, sealed, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (verification_id) DO UPDATE SET
                   sealed = excluded.sealed, created_at = excluded.created_at,
                   expires_at = excluded.expires_at",
            )?
            .execute(params![
                id.as_str(),
                sealed,
                now.millis(),
                expires_at.millis()
            ])?;
            Ok(())
        })
    }

    /// The record of `id`, or `None` if there is none or it has expired at `now`.
    /// [`StoreError::Integrity`] if the stored bytes fail authentication or do not decode as
    /// `T`.
    pub fn get<T: DeserializeOwned>(
        &self,
        id: &VerificationId,
        now: Timestamp,
    ) -> Result<Option<T>, StoreError> {
        let sealed: Option<Vec<u8>> = self.db.with(|c| {
            Ok(c.prepare_cached(
                "SELECT sealed FROM ocr_data WHERE verification_id = ?1 AND expires_at > ?2",
            )?
            .query_row(params![id.as_str(), now.millis()], |r| r.get(0))
            .optional()?)
        })?;
        sealed
            .map(|s| {
                let json = open(&self.key, &context(id), &s)?;
                serde_json::from_slice(&json).map_err(|_| StoreError::Integrity)
            })
            .transpose()
    }

    /// Deletes the record of `id`; returns whether there was one (erasure is idempotent).
    pub fn delete(&self, id: &VerificationId) -> Result<bool, StoreError> {
        self.db.with(|c| {
            Ok(
                c.prepare_cached("DELETE FROM ocr_data WHERE verification_id = ?1")?
                    .execute([id.as_str()])?
                    > 0,
            )
        })
    }

    /// Deletes every record expired at `now`; returns how many.
    pub fn purge_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        self.db.write(|tx| purge_expired(tx, now))
    }
}

pub(crate) fn purge_expired(
    tx: &rusqlite::Transaction<'_>,
    now: Timestamp,
) -> Result<usize, StoreError> {
    Ok(tx
        .prepare_cached("DELETE FROM ocr_data WHERE expires_at <= ?1")?
        .execute([now.millis()])?)
}

fn context(id: &VerificationId) -> Vec<u8> {
    format!("kyc-local/ocr-data/v1\0{id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyc_core::document::{assess, DocumentAssessment};
    use kyc_core::ports::DocumentReading;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);
    const MRZ: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

    fn repo() -> SqliteOcrData {
        SqliteOcrData::new(
            Database::open_in_memory().unwrap(),
            MasterKey::from_bytes([5; 32]),
        )
    }

    fn assessment() -> DocumentAssessment {
        let reading = DocumentReading {
            mrz_text: Some(MRZ.into()),
            ..DocumentReading::default()
        };
        assess(&reading, T0.date())
    }

    #[test]
    fn an_assessment_round_trips_as_json_and_is_sealed_at_rest() {
        let r = repo();
        let id = VerificationId::from_random_bytes([1; 16]);
        let a = assessment();
        r.put(&id, &a, T0, T0.plus_millis(3_600_000)).unwrap();
        let back: serde_json::Value = r.get(&id, T0).unwrap().unwrap();
        assert_eq!(back, serde_json::to_value(&a).unwrap());
        assert!(back.to_string().contains("ERIKSSON"));
        let raw: Vec<u8> =
            r.db.with(|c| Ok(c.query_row("SELECT sealed FROM ocr_data", [], |row| row.get(0))?))
                .unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("ERIKSSON"));
    }

    #[test]
    fn an_expired_record_is_not_returned_and_is_purged() {
        let r = repo();
        let (a, b) = (
            VerificationId::from_random_bytes([1; 16]),
            VerificationId::from_random_bytes([2; 16]),
        );
        r.put(&a, &"short", T0, T0.plus_millis(1_000)).unwrap();
        r.put(&b, &"long", T0, T0.plus_millis(10_000)).unwrap();
        let later = T0.plus_millis(1_000);
        assert_eq!(r.get::<String>(&a, later).unwrap(), None);
        assert_eq!(r.purge_expired(later).unwrap(), 1);
        assert_eq!(r.get::<String>(&b, later).unwrap().as_deref(), Some("long"));
        assert_eq!(r.purge_expired(later).unwrap(), 0);
    }

    #[test]
    fn a_record_moved_to_another_verification_is_refused() {
        let r = repo();
        let (a, b) = (
            VerificationId::from_random_bytes([1; 16]),
            VerificationId::from_random_bytes([2; 16]),
        );
        r.put(&a, &"a's data", T0, T0.plus_millis(10_000)).unwrap();
        r.put(&b, &"b's data", T0, T0.plus_millis(10_000)).unwrap();
        r.db.with(|c| {
            c.execute(
                "UPDATE ocr_data SET sealed = (SELECT sealed FROM ocr_data WHERE verification_id = ?1)
                 WHERE verification_id = ?2",
                [a.as_str(), b.as_str()],
            )?;
            Ok(())
        })
        .unwrap();
        assert!(matches!(
            r.get::<String>(&b, T0),
            Err(StoreError::Integrity)
        ));
    }

    #[test]
    fn delete_is_idempotent_and_an_expiry_in_the_past_is_refused() {
        let r = repo();
        let id = VerificationId::from_random_bytes([3; 16]);
        r.put(&id, &1, T0, T0.plus_millis(5)).unwrap();
        assert!(r.delete(&id).unwrap());
        assert!(!r.delete(&id).unwrap());
        assert!(matches!(
            r.put(&id, &1, T0, T0),
            Err(StoreError::Invalid { .. })
        ));
    }
}
