//! `SqliteAuditLog`: the [`AuditLog`] port on SQLite. One row per event, primary key
//! `(verification_id, seq)`; the personal part of an event is stored sealed in its own column,
//! so that redaction is clearing that column and the rest of the row never holds personal data.

use std::time::Duration;

use kyc_core::audit::{
    next_event, AuditEvent, AuditLog, AuditLogError, ChainHead, EventDraft, Hash256,
};
use kyc_core::model::{Timestamp, VerificationId};
use rusqlite::{params, OptionalExtension as _, Transaction};

use super::crypto::{open, seal};
use super::{Database, MasterKey, StoreError};

/// The audit log in the `audit_events` table.
///
/// **Appending** reads the chain's head, builds the event with [`next_event`] and inserts it,
/// all in one immediate transaction; the insert is additionally guarded by the primary key, so
/// an event can never be overwritten and a writer that computed its event from a stale head
/// gets [`AuditLogError::Conflict`] (it cannot happen between writers using this adapter, whose
/// transactions serialise on SQLite's write lock, but it holds for any writer of the table).
///
/// **Personal parts** are sealed (AES-256-GCM, see [`crypto`](super::crypto)) with the
/// verification, sequence number and hash of their event as context, and expire
/// `personal_retention` after the event ([`Database::purge_expired`] redacts them then).
/// Redacted and expired events keep their digest, so the chain verifies with the same head.
///
/// The port methods block inside their futures (see [`Database`]); the `*_blocking` methods are
/// the same operations for synchronous callers.
#[derive(Clone, Debug)]
pub struct SqliteAuditLog {
    db: Database,
    key: MasterKey,
    personal_retention: Duration,
}

impl SqliteAuditLog {
    /// How long personal parts are kept unless configured otherwise: 30 days.
    pub const DEFAULT_PERSONAL_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

    /// A log on `db` whose personal parts are sealed with `key`.
    pub fn new(db: Database, key: MasterKey) -> Self {
        Self::with_personal_retention(db, key, Self::DEFAULT_PERSONAL_RETENTION)
    }

    /// A log whose personal parts expire `retention` after their event's `occurred_at`.
    pub fn with_personal_retention(db: Database, key: MasterKey, retention: Duration) -> Self {
        Self {
            db,
            key,
            personal_retention: retention,
        }
    }

    /// [`AuditLog::append`], blocking.
    pub fn append_blocking(&self, draft: EventDraft) -> Result<AuditEvent, AuditLogError> {
        let id = draft.verification_id;
        let outcome = self.db.write(|tx| {
            let head = head(tx, id)?;
            match next_event(head, draft) {
                Ok(event) => {
                    self.insert(tx, &event)?;
                    Ok(Ok(event))
                }
                Err(e) => Ok(Err(e)),
            }
        })?;
        Ok(outcome?)
    }

    /// [`AuditLog::read`], blocking.
    pub fn read_blocking(&self, id: VerificationId) -> Result<Vec<AuditEvent>, AuditLogError> {
        let rows: Vec<(i64, String, Option<Vec<u8>>)> = self.db.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT seq, body, personal FROM audit_events
                 WHERE verification_id = ?1 ORDER BY seq",
            )?;
            let rows = st.query_map([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })?;
        let events = rows
            .into_iter()
            .map(|(_, body, personal)| self.decode(id, &body, personal.as_deref()))
            .collect::<Result<_, _>>()?;
        Ok(events)
    }

    /// [`AuditLog::redact`], blocking.
    pub fn redact_blocking(&self, id: VerificationId) -> Result<usize, AuditLogError> {
        Ok(self.db.with(|c| {
            Ok(c.prepare_cached(
                "UPDATE audit_events SET personal = NULL
                 WHERE verification_id = ?1 AND personal IS NOT NULL",
            )?
            .execute([id.as_str()])?)
        })?)
    }

    fn insert(&self, tx: &Transaction<'_>, event: &AuditEvent) -> Result<(), StoreError> {
        let mut value = serde_json::to_value(event).map_err(|_| StoreError::Encoding {
            what: "audit event",
        })?;
        let personal = value
            .as_object_mut()
            .and_then(|o| o.remove("personal"))
            .map(|p| {
                seal(
                    &self.key,
                    &personal_context(event.verification_id(), event.seq(), event.hash()),
                    p.to_string().as_bytes(),
                )
            })
            .transpose()?;
        let retention = i64::try_from(self.personal_retention.as_millis()).unwrap_or(i64::MAX);
        let redact_after = personal
            .as_ref()
            .map(|_| event.occurred_at().millis().saturating_add(retention));
        let seq = i64::try_from(event.seq()).map_err(|_| StoreError::Invalid {
            what: "audit sequence number",
        })?;
        let inserted = tx
            .prepare_cached(
                "INSERT INTO audit_events
                   (verification_id, seq, hash, occurred_at, body, personal, redact_after)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                event.verification_id().as_str(),
                seq,
                event.hash().to_hex(),
                event.occurred_at().millis(),
                value.to_string(),
                personal,
                redact_after,
            ]);
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_primary_key_violation(&e) => Err(StoreError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    fn decode(
        &self,
        id: VerificationId,
        body: &str,
        personal: Option<&[u8]>,
    ) -> Result<AuditEvent, StoreError> {
        let mut value: serde_json::Value =
            serde_json::from_str(body).map_err(|_| StoreError::Integrity)?;
        if let Some(sealed) = personal {
            let field = |k: &str| value.get(k).cloned();
            let seq = field("seq").and_then(|v| v.as_u64());
            let hash =
                field("hash").and_then(|v| v.as_str().and_then(|h| Hash256::parse_hex(h).ok()));
            let (Some(seq), Some(hash)) = (seq, hash) else {
                return Err(StoreError::Integrity);
            };
            let clear = open(&self.key, &personal_context(id, seq, hash), sealed)?;
            let part: serde_json::Value =
                serde_json::from_slice(&clear).map_err(|_| StoreError::Integrity)?;
            value
                .as_object_mut()
                .ok_or(StoreError::Integrity)?
                .insert("personal".into(), part);
        }
        let event: AuditEvent = serde_json::from_value(value).map_err(|_| StoreError::Integrity)?;
        if event.verification_id() != id {
            return Err(StoreError::Integrity);
        }
        Ok(event)
    }
}

/// Redacts every personal part whose retention has ended at `now`; returns how many.
pub(crate) fn redact_expired(tx: &Transaction<'_>, now: Timestamp) -> Result<usize, StoreError> {
    Ok(tx
        .prepare_cached(
            "UPDATE audit_events SET personal = NULL
             WHERE personal IS NOT NULL AND redact_after <= ?1",
        )?
        .execute([now.millis()])?)
}

fn head(tx: &Transaction<'_>, id: VerificationId) -> Result<Option<ChainHead>, StoreError> {
    let row: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT seq, hash FROM audit_events WHERE verification_id = ?1
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(seq, hash)| {
        Ok(ChainHead {
            seq: u64::try_from(seq).map_err(|_| StoreError::Integrity)?,
            hash: Hash256::parse_hex(&hash).map_err(|_| StoreError::Integrity)?,
        })
    })
    .transpose()
}

fn personal_context(id: VerificationId, seq: u64, hash: Hash256) -> Vec<u8> {
    format!(
        "kyc-local/audit-personal/v1\0{id}\0{seq}\0{}",
        hash.to_hex()
    )
    .into_bytes()
}

fn is_primary_key_violation(e: &rusqlite::Error) -> bool {
    e.sqlite_extended_error_code() == Some(rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

impl AuditLog for SqliteAuditLog {
    async fn append(&self, draft: EventDraft) -> Result<AuditEvent, AuditLogError> {
        self.append_blocking(draft)
    }

    async fn read(
        &self,
        verification_id: VerificationId,
    ) -> Result<Vec<AuditEvent>, AuditLogError> {
        self.read_blocking(verification_id)
    }

    async fn redact(&self, verification_id: VerificationId) -> Result<usize, AuditLogError> {
        self.redact_blocking(verification_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::test_support::block_on;
    use kyc_core::audit::{verify_chain_for, Actor, DetailKey, EventKind, PersonalData, Salt};

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    fn log() -> SqliteAuditLog {
        SqliteAuditLog::new(
            Database::open_in_memory().unwrap(),
            MasterKey::from_bytes([9; 32]),
        )
    }

    fn draft(id: VerificationId, kind: EventKind) -> EventDraft {
        EventDraft::new(id, kind, T0, Actor::parse("test").unwrap())
    }

    fn personal_draft(id: VerificationId) -> EventDraft {
        let mut p = PersonalData::new();
        p.insert(DetailKey::parse("surname").unwrap(), "MUSTERMANN")
            .unwrap();
        draft(id, EventKind::DocumentRead).with_personal(p, Salt::from_bytes([3; 16]))
    }

    #[test]
    fn the_sqlite_log_meets_the_port_contract() {
        let log = log();
        block_on(kyc_core::audit::contract::check(
            &log,
            VerificationId::from_random_bytes([4; 16]),
        ))
        .unwrap();
    }

    #[test]
    fn an_event_built_on_a_stale_head_is_a_conflict_and_overwrites_nothing() {
        let log = log();
        let id = VerificationId::from_random_bytes([1; 16]);
        let first = next_event(None, draft(id, EventKind::DocumentUploaded)).unwrap();
        let rival = next_event(None, draft(id, EventKind::DocumentRead)).unwrap();
        log.db.write(|tx| log.insert(tx, &first)).unwrap();
        let lost = log.db.write(|tx| log.insert(tx, &rival));
        assert!(matches!(lost, Err(StoreError::Conflict)));
        assert!(matches!(
            AuditLogError::from(lost.unwrap_err()),
            AuditLogError::Conflict
        ));
        assert_eq!(log.read_blocking(id).unwrap(), vec![first]);
    }

    #[test]
    fn personal_values_are_never_stored_in_clear() {
        let log = log();
        let id = VerificationId::from_random_bytes([2; 16]);
        block_on(log.append(personal_draft(id))).unwrap();
        let (body, personal): (String, Vec<u8>) = log
            .db
            .with(|c| {
                Ok(
                    c.query_row("SELECT body, personal FROM audit_events", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?,
                )
            })
            .unwrap();
        assert!(!body.contains("MUSTERMANN") && body.contains("personalDigest"));
        assert!(!String::from_utf8_lossy(&personal).contains("MUSTERMANN"));
        let events = block_on(log.read(id)).unwrap();
        assert_eq!(
            events[0].personal().unwrap().fields.get("surname"),
            Some("MUSTERMANN")
        );
    }

    #[test]
    fn a_personal_part_moved_to_another_event_is_refused() {
        let log = log();
        let id = VerificationId::from_random_bytes([5; 16]);
        block_on(log.append(personal_draft(id))).unwrap();
        block_on(log.append(personal_draft(id))).unwrap();
        log.db
            .with(|c| {
                c.execute(
                    "UPDATE audit_events SET personal =
                       (SELECT personal FROM audit_events WHERE seq = 0) WHERE seq = 1",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        assert!(matches!(
            block_on(log.read(id)),
            Err(AuditLogError::Storage(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn hostile_stored_rows_are_integrity_failures_never_panics(
            body in ".{0,200}",
            sealed in proptest::option::of(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)),
        ) {
            let log = log();
            let id = VerificationId::from_random_bytes([8; 16]);
            proptest::prop_assert!(log.decode(id, &body, sealed.as_deref()).is_err());
        }
    }

    #[test]
    fn expired_personal_parts_are_redacted_and_the_chain_still_verifies() {
        let log = SqliteAuditLog::with_personal_retention(
            Database::open_in_memory().unwrap(),
            MasterKey::from_bytes([9; 32]),
            Duration::from_secs(60),
        );
        let id = VerificationId::from_random_bytes([6; 16]);
        block_on(log.append(draft(id, EventKind::DocumentUploaded))).unwrap();
        let e = block_on(log.append(personal_draft(id))).unwrap();
        let purge = |now: Timestamp| log.db.write(|tx| redact_expired(tx, now)).unwrap();
        assert_eq!(purge(T0.plus_millis(59_999)), 0);
        assert_eq!(purge(T0.plus_millis(60_000)), 1);
        let events = block_on(log.read(id)).unwrap();
        assert!(events[1].is_redacted());
        assert_eq!(verify_chain_for(id, &events, Some(e.head())), Ok(e.head()));
    }
}
