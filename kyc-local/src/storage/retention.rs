//! Expiry of stored personal data: [`Database::purge_expired`] removes expired sessions and OCR
//! data and redacts expired personal parts of audit events, in one transaction.

use kyc_core::model::Timestamp;

use super::{audit, ocr, Database, StoreError};

/// What one purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Sessions deleted (their deadline plus the retention had passed).
    pub sessions: usize,
    /// OCR records deleted (expired).
    pub ocr_records: usize,
    /// Audit events whose personal part was redacted (the events themselves are kept: the
    /// audit log keeps a redacted record).
    pub audit_events_redacted: usize,
}

impl Database {
    /// Removes what has expired at `now`: sessions past their `purge_after`, OCR data past its
    /// expiry, and the personal parts of audit events past their retention. Run it
    /// periodically (the server does, e.g. hourly); objects in the file store expire through
    /// [`EncryptedFileStore::purge_older_than`](super::EncryptedFileStore::purge_older_than).
    pub fn purge_expired(&self, now: Timestamp) -> Result<Purged, StoreError> {
        self.write(|tx| {
            let sessions = tx
                .prepare_cached("DELETE FROM sessions WHERE purge_after <= ?1")?
                .execute([now.millis()])?;
            Ok(Purged {
                sessions,
                ocr_records: ocr::purge_expired(tx, now)?,
                audit_events_redacted: audit::redact_expired(tx, now)?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::storage::test_support::block_on;
    use crate::storage::{MasterKey, SqliteAuditLog, SqliteOcrData, SqliteSessionStore};
    use kyc_core::audit::{Actor, AuditLog, DetailKey, EventDraft, EventKind, PersonalData, Salt};
    use kyc_core::model::VerificationId;
    use kyc_core::ports::SessionStore;
    use kyc_core::session::{Session, StepKey};

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);
    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_purge_removes_only_what_has_expired_and_keeps_audit_events_redacted() {
        let db = Database::open_in_memory().unwrap();
        let key = MasterKey::from_bytes([1; 32]);
        let sessions =
            SqliteSessionStore::with_retention(db.clone(), key.clone(), Duration::from_secs(3600));
        let ocr = SqliteOcrData::new(db.clone(), key.clone());
        let audit =
            SqliteAuditLog::with_personal_retention(db.clone(), key, Duration::from_secs(2 * 3600));
        let id = VerificationId::from_random_bytes([1; 16]);
        let session = Session::start(id, StepKey::parse("k").unwrap(), T0, T0.plus_millis(HOUR));
        block_on(sessions.save(&session, None)).unwrap();
        ocr.put(&id, &"fields", T0, T0.plus_millis(HOUR)).unwrap();
        let mut p = PersonalData::new();
        p.insert(DetailKey::parse("surname").unwrap(), "X").unwrap();
        let draft = EventDraft::new(id, EventKind::DocumentRead, T0, Actor::parse("t").unwrap())
            .with_personal(p, Salt::from_bytes([2; 16]));
        block_on(audit.append(draft)).unwrap();

        // Session deadline T0+1h, retention 1h → purged at T0+2h; OCR at T0+1h; audit at T0+2h.
        assert_eq!(db.purge_expired(T0).unwrap(), Purged::default());
        let at_1h = db.purge_expired(T0.plus_millis(HOUR)).unwrap();
        assert_eq!(
            (
                at_1h.sessions,
                at_1h.ocr_records,
                at_1h.audit_events_redacted
            ),
            (0, 1, 0)
        );
        let at_2h = db.purge_expired(T0.plus_millis(2 * HOUR)).unwrap();
        assert_eq!(
            (
                at_2h.sessions,
                at_2h.ocr_records,
                at_2h.audit_events_redacted
            ),
            (1, 0, 1)
        );
        assert_eq!(block_on(sessions.load(&id)), Ok(None));
        let events = block_on(audit.read(id)).unwrap();
        assert_eq!(events.len(), 1);
        assert!(events[0].is_redacted());
    }
}
