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
    ///
    /// What it removes is zeroed in its pages (`secure_delete`), and the WAL is then
    /// checkpointed and truncated, so that neither the database file nor the WAL keeps a copy of
    /// anything erased or purged since the previous pass (best effort: a reader on another
    /// connection can hold the checkpoint back until the next pass).
    pub fn purge_expired(&self, now: Timestamp) -> Result<Purged, StoreError> {
        let purged = self.write(|tx| {
            let sessions = tx
                .prepare_cached("DELETE FROM sessions WHERE purge_after <= ?1")?
                .execute([now.millis()])?;
            Ok(Purged {
                sessions,
                ocr_records: ocr::purge_expired(tx, now)?,
                audit_events_redacted: audit::redact_expired(tx, now)?,
            })
        })?;
        self.checkpoint();
        Ok(purged)
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

    fn sealed_record(db: &Database, id: &VerificationId) -> Vec<u8> {
        db.with(|c| {
            Ok(c.query_row(
                "SELECT sealed FROM ocr_data WHERE verification_id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )?)
        })
        .unwrap()
    }

    /// Whether the database file or its WAL holds the middle 48 bytes of `sealed`.
    fn on_disk(dir: &std::path::Path, sealed: &[u8]) -> bool {
        let mid = sealed.len() / 2;
        crate::storage::test_support::database_files_contain(dir, &sealed[mid - 24..mid + 24])
    }

    /// An erased record (deleted on request) and a purged one (expired) must leave no copy of
    /// their sealed bytes in the database file or the WAL once a retention pass has run: without
    /// `secure_delete` their cells stay in free space, and without the checkpoint the WAL keeps
    /// older page images. Records small enough for one page and large enough for overflow pages
    /// are both checked, beside a kept record that must still be found.
    #[test]
    fn erased_and_purged_records_leave_no_copy_on_disk_after_a_retention_pass() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("kyc.sqlite3")).unwrap();
        let ocr = SqliteOcrData::new(db.clone(), MasterKey::from_bytes([3; 32]));
        let (long, short) = (T0.plus_millis(100 * HOUR), T0.plus_millis(HOUR));
        let fields = |n: usize| -> Vec<String> { (0..n).map(|i| format!("FIELD{i:05}")).collect() };
        let mut gone = Vec::new();
        for (n, size) in [(1u8, 3), (2, 900)] {
            let erased = VerificationId::from_random_bytes([n; 16]);
            ocr.put(&erased, &fields(size), T0, long).unwrap();
            let expired = VerificationId::from_random_bytes([n + 10; 16]);
            ocr.put(&expired, &fields(size), T0, short).unwrap();
            gone.push((erased, sealed_record(&db, &erased)));
            gone.push((expired, sealed_record(&db, &expired)));
        }
        let kept = VerificationId::from_random_bytes([30; 16]);
        ocr.put(&kept, &fields(900), T0, long).unwrap();
        let kept_sealed = sealed_record(&db, &kept);
        assert!(db.checkpoint());
        for (_, sealed) in &gone {
            assert!(on_disk(dir.path(), sealed), "the scan finds stored records");
        }

        assert!(ocr.delete(&gone[0].0).unwrap());
        assert!(ocr.delete(&gone[2].0).unwrap());
        let purged = db.purge_expired(T0.plus_millis(2 * HOUR)).unwrap();
        assert_eq!(purged.ocr_records, 2);
        for (n, (_, sealed)) in gone.iter().enumerate() {
            assert!(!on_disk(dir.path(), sealed), "record {n} is still on disk");
        }
        assert!(on_disk(dir.path(), &kept_sealed));
        assert!(ocr.get::<Vec<String>>(&kept, T0).unwrap().is_some());
    }
}
