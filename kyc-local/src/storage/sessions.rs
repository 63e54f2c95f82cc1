//! `SqliteSessionStore`: the [`SessionStore`] port on SQLite, with optimistic concurrency
//! through a version column and conditional statements, and the session sealed at rest.

use std::time::Duration;

use kyc_core::model::VerificationId;
use kyc_core::ports::{PortError, SessionStore, Version};
use kyc_core::session::{Session, StateName};
use rusqlite::{params, OptionalExtension as _, Transaction};

use super::crypto::{open, seal};
use super::{Database, MasterKey, StoreError};

/// Sessions in the `sessions` table: the session as JSON sealed with the master key, its
/// version, its state's name, and when it may be purged (its deadline plus the retention, see
/// [`Database::purge_expired`]).
///
/// A session carries its [`Findings`](kyc_core::session::Findings), whose liveness frames hold
/// face embeddings (biometric data), so the body is sealed like OCR records: a fresh data key
/// per save, and the verification id bound as context, so a body copied to another row (or
/// changed, or sealed under another master key) fails to load with
/// [`StoreError::Integrity`]. The plain columns hold no personal data: the verification id,
/// the version, the state's name (for [`ids_in_state_blocking`](Self::ids_in_state_blocking),
/// which never opens a body), and the times.
///
/// Saving is one conditional statement, so two writers that loaded the same version cannot
/// both win: `INSERT … ON CONFLICT DO NOTHING` for a new session, `UPDATE … WHERE version = ?`
/// for an existing one; the loser gets [`PortError::Conflict`] and nothing changes.
///
/// The port methods do blocking SQLite work inside their futures (see [`Database`]); the
/// `*_blocking` methods are the same operations for synchronous callers.
#[derive(Clone, Debug)]
pub struct SqliteSessionStore {
    db: Database,
    key: MasterKey,
    retention: Duration,
}

impl SqliteSessionStore {
    /// How long a session is kept after its deadline unless configured otherwise: 30 days.
    pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

    /// A store on `db` sealing with `key` (the data directory's master key), with the default
    /// retention.
    pub fn new(db: Database, key: MasterKey) -> Self {
        Self::with_retention(db, key, Self::DEFAULT_RETENTION)
    }

    /// A store on `db` sealing with `key` that lets [`Database::purge_expired`] remove a
    /// session `retention` after its deadline (`Session::expires_at`).
    pub fn with_retention(db: Database, key: MasterKey, retention: Duration) -> Self {
        Self { db, key, retention }
    }

    /// [`SessionStore::load`], blocking. [`StoreError::Integrity`] if the stored body fails
    /// authentication (changed, moved from another row, sealed under another key) or is not
    /// this verification's session.
    pub fn load_blocking(
        &self,
        id: &VerificationId,
    ) -> Result<Option<(Session, Version)>, StoreError> {
        let row: Option<(Vec<u8>, i64)> =
            self.db.with(|c| {
                Ok(c.prepare_cached(
                    "SELECT sealed, version FROM sessions WHERE verification_id = ?1",
                )?
                .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
            })?;
        row.map(|(sealed, version)| {
            let json = open(&self.key, &context(id.as_str()), &sealed)?;
            let session: Session =
                serde_json::from_slice(&json).map_err(|_| StoreError::Integrity)?;
            let version = u64::try_from(version).map_err(|_| StoreError::Integrity)?;
            if session.verification_id() != *id {
                return Err(StoreError::Integrity);
            }
            Ok((session, Version(version)))
        })
        .transpose()
    }

    /// The ids of the sessions currently in `state` (a server resumes the work a restart
    /// interrupted, e.g. documents uploaded but not yet read), oldest update first. Reads the
    /// plain `state` column (indexed): no body is opened.
    pub fn ids_in_state_blocking(
        &self,
        state: StateName,
    ) -> Result<Vec<VerificationId>, StoreError> {
        let ids: Vec<String> = self.db.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT verification_id FROM sessions WHERE state = ?1 ORDER BY updated_at",
            )?;
            let rows = stmt.query_map([state.as_str()], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })?;
        ids.iter()
            .map(|s| VerificationId::parse(s).map_err(|_| StoreError::Integrity))
            .collect()
    }

    /// [`SessionStore::save`], blocking.
    pub fn save_blocking(
        &self,
        session: &Session,
        expected: Option<Version>,
    ) -> Result<Version, StoreError> {
        let id = session.verification_id();
        let json =
            serde_json::to_vec(session).map_err(|_| StoreError::Encoding { what: "session" })?;
        let sealed = seal(&self.key, &context(id.as_str()), &json)?;
        let state = session.state().name().as_str();
        let updated_at = session.updated_at().millis();
        let retention_ms = i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        let purge_after = session.expires_at().millis().saturating_add(retention_ms);
        match expected {
            None => {
                let inserted = self.db.with(|c| {
                    Ok(c.prepare_cached(
                        "INSERT INTO sessions
                           (verification_id, version, state, sealed, updated_at, purge_after)
                         VALUES (?1, 1, ?2, ?3, ?4, ?5) ON CONFLICT (verification_id) DO NOTHING",
                    )?
                    .execute(params![
                        id.as_str(),
                        state,
                        sealed,
                        updated_at,
                        purge_after
                    ])?)
                })?;
                if inserted == 1 {
                    Ok(Version(1))
                } else {
                    Err(StoreError::Conflict)
                }
            }
            Some(Version(v)) => {
                let current = i64::try_from(v).map_err(|_| StoreError::Conflict)?;
                let next = current.checked_add(1).ok_or(StoreError::Conflict)?;
                let updated = self.db.with(|c| {
                    Ok(c.prepare_cached(
                        "UPDATE sessions SET version = ?3, state = ?4, sealed = ?5, updated_at = ?6,
                           purge_after = ?7
                         WHERE verification_id = ?1 AND version = ?2",
                    )?
                    .execute(params![
                        id.as_str(),
                        current,
                        next,
                        state,
                        sealed,
                        updated_at,
                        purge_after
                    ])?)
                })?;
                if updated == 1 {
                    Ok(Version(v + 1))
                } else {
                    Err(StoreError::Conflict)
                }
            }
        }
    }

    /// [`SessionStore::delete`], blocking.
    pub fn delete_blocking(&self, id: &VerificationId) -> Result<(), StoreError> {
        self.db.with(|c| {
            c.prepare_cached("DELETE FROM sessions WHERE verification_id = ?1")?
                .execute([id.as_str()])?;
            Ok(())
        })
    }
}

impl SessionStore for SqliteSessionStore {
    async fn load(&self, id: &VerificationId) -> Result<Option<(Session, Version)>, PortError> {
        Ok(self.load_blocking(id)?)
    }

    async fn save(
        &self,
        session: &Session,
        expected: Option<Version>,
    ) -> Result<Version, PortError> {
        Ok(self.save_blocking(session, expected)?)
    }

    async fn delete(&self, id: &VerificationId) -> Result<(), PortError> {
        Ok(self.delete_blocking(id)?)
    }
}

/// The sealing context of a session body: its purpose and its verification id (the row's key).
fn context(id: &str) -> Vec<u8> {
    format!("kyc-local/session/v1\0{id}").into_bytes()
}

/// Migration 7's rewrite: seals each body of the old table `sessions_plain` (plain JSON) into
/// the new `sessions` table under its row's verification id, with the state's name read from
/// it, and every other column as it was.
///
/// A body that is not this row's session is sealed unchanged with a NULL state: it loads as an
/// integrity failure, as it did before, and is purged on time. Without a key, a table with rows
/// fails with [`StoreError::MasterKeyRequired`] (the transaction then changes nothing); an
/// empty one needs no key.
pub(crate) fn seal_plain_sessions(
    tx: &Transaction<'_>,
    key: Option<&MasterKey>,
) -> Result<usize, StoreError> {
    let mut select = tx.prepare(
        "SELECT verification_id, version, body, updated_at, purge_after FROM sessions_plain",
    )?;
    let mut insert = tx.prepare(
        "INSERT INTO sessions (verification_id, version, state, sealed, updated_at, purge_after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut rows = select.query([])?;
    let mut sealed_rows = 0;
    while let Some(row) = rows.next()? {
        let key = key.ok_or(StoreError::MasterKeyRequired)?;
        let id: String = row.get(0)?;
        let version: i64 = row.get(1)?;
        let body: String = row.get(2)?;
        let (updated_at, purge_after): (i64, i64) = (row.get(3)?, row.get(4)?);
        let state = serde_json::from_str::<Session>(&body)
            .ok()
            .filter(|s| s.verification_id().as_str() == id)
            .map(|s| s.state().name().as_str());
        let sealed = seal(key, &context(&id), body.as_bytes())?;
        insert.execute(params![id, version, state, sealed, updated_at, purge_after])?;
        sealed_rows += 1;
    }
    Ok(sealed_rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::crypto::HEADER_LEN;
    use crate::storage::test_support::block_on;
    use kyc_core::liveness::synth::Performer;
    use kyc_core::liveness::{Challenge, ChallengePolicy};
    use kyc_core::model::Timestamp;
    use kyc_core::ports::fakes::SeededRandom;
    use kyc_core::session::{ReadOutcome, Step, StepKey};
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);
    const DEADLINE_MS: i64 = 900_000;
    /// The upload digest of [`rich_session`]: only ever inside a session body, so finding it
    /// in a column or a file means a body is stored in plain.
    const MARKER: &str = "5ea1ed0f5ea1ed0f5ea1ed0f5ea1ed0f5ea1ed0f5ea1ed0f5ea1ed0f5ea1ed0f";

    fn key() -> MasterKey {
        MasterKey::from_bytes([9; 32])
    }

    fn session(b: u8) -> Session {
        Session::start(
            VerificationId::from_random_bytes([b; 16]),
            StepKey::parse("upload-1").unwrap(),
            T0,
            T0.plus_millis(DEADLINE_MS),
        )
    }

    /// A session mid-liveness: document read, a challenge open and its frames, each with a
    /// 128-d face embedding.
    fn rich_session(b: u8) -> Session {
        let mut s = session(b);
        read(&mut s);
        let challenge = Challenge::issue(&ChallengePolicy::default(), &SeededRandom::new(1), T0);
        let frames = Performer::for_challenge(&challenge)
            .performs_challenge()
            .frames();
        let f = s.findings_mut();
        f.upload_digest = Some(MARKER.into());
        f.challenge = Some(challenge);
        f.frames = frames;
        s
    }

    fn read(s: &mut Session) {
        s.apply(
            Step::ReadDocument {
                outcome: ReadOutcome::Readable,
            },
            T0.plus_millis(10),
        )
        .unwrap();
    }

    fn store() -> SqliteSessionStore {
        SqliteSessionStore::new(Database::open_in_memory().unwrap(), key())
    }

    fn raw_row(s: &SqliteSessionStore, id: &VerificationId) -> (Option<String>, Vec<u8>) {
        s.db.with(|c| {
            Ok(c.query_row(
                "SELECT state, sealed FROM sessions WHERE verification_id = ?1",
                [id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap()
    }

    fn set_sealed(s: &SqliteSessionStore, id: &VerificationId, sealed: &[u8]) {
        s.db.with(|c| {
            c.execute(
                "UPDATE sessions SET sealed = ?2 WHERE verification_id = ?1",
                params![id.as_str(), sealed],
            )?;
            Ok(())
        })
        .unwrap();
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        crate::storage::test_support::contains(haystack, needle.as_bytes())
    }

    #[test]
    fn a_created_session_loads_back_at_version_one() {
        let s = store();
        let session = session(1);
        assert_eq!(block_on(s.save(&session, None)), Ok(Version(1)));
        let (loaded, v) = block_on(s.load(&session.verification_id()))
            .unwrap()
            .unwrap();
        assert_eq!((loaded, v), (session, Version(1)));
    }

    #[test]
    fn creating_an_existing_session_is_a_conflict() {
        let s = store();
        block_on(s.save(&session(1), None)).unwrap();
        assert_eq!(
            block_on(s.save(&session(1), None)),
            Err(PortError::Conflict)
        );
    }

    #[test]
    fn an_update_from_a_stale_version_is_a_conflict_and_changes_nothing() {
        let s = store();
        let mut a = session(2);
        block_on(s.save(&a, None)).unwrap();
        let mut b = a.clone();
        a.apply(
            Step::ReadDocument {
                outcome: ReadOutcome::Readable,
            },
            T0,
        )
        .unwrap();
        assert_eq!(block_on(s.save(&a, Some(Version(1)))), Ok(Version(2)));
        b.apply(
            Step::ReadDocument {
                outcome: ReadOutcome::Unreadable,
            },
            T0,
        )
        .unwrap();
        assert_eq!(
            block_on(s.save(&b, Some(Version(1)))),
            Err(PortError::Conflict)
        );
        let (loaded, v) = block_on(s.load(&a.verification_id())).unwrap().unwrap();
        assert_eq!((loaded, v), (a, Version(2)));
        assert_eq!(
            raw_row(&s, &b.verification_id()).0.as_deref(),
            Some("documentRead")
        );
    }

    #[test]
    fn unknown_and_deleted_sessions_load_as_none_and_delete_is_idempotent() {
        let s = store();
        let session = session(3);
        let id = session.verification_id();
        assert_eq!(block_on(s.load(&id)), Ok(None));
        block_on(s.save(&session, None)).unwrap();
        block_on(s.delete(&id)).unwrap();
        block_on(s.delete(&id)).unwrap();
        assert_eq!(block_on(s.load(&id)), Ok(None));
        assert_eq!(
            block_on(s.save(&session, Some(Version(1)))),
            Err(PortError::Conflict)
        );
    }

    #[test]
    fn a_saved_sessions_row_holds_its_body_sealed_and_no_json() {
        let s = store();
        let session = rich_session(4);
        let id = session.verification_id();
        let json = serde_json::to_vec(&session).unwrap();
        assert!(contains(&json, MARKER) && contains(&json, "\"verificationId\""));
        block_on(s.save(&session, None)).unwrap();
        let (state, sealed) = raw_row(&s, &id);
        assert_eq!(state.as_deref(), Some("documentRead"));
        assert!(sealed.starts_with(b"KYCE"));
        for needle in [
            MARKER,
            "\"verificationId\"",
            "\"frames\"",
            "embedding",
            id.as_str(),
        ] {
            assert!(!contains(&sealed, needle), "{needle}");
        }
        let (loaded, _) = s.load_blocking(&id).unwrap().unwrap();
        assert_eq!(loaded, session);
    }

    #[test]
    fn a_body_copied_to_another_verifications_row_fails_to_load_as_an_integrity_error() {
        let s = store();
        let (a, b) = (rich_session(5), rich_session(6));
        block_on(s.save(&a, None)).unwrap();
        block_on(s.save(&b, None)).unwrap();
        let (_, a_sealed) = raw_row(&s, &a.verification_id());
        set_sealed(&s, &b.verification_id(), &a_sealed);
        assert_eq!(
            block_on(s.load(&b.verification_id())),
            Err(PortError::Integrity)
        );
        assert!(matches!(
            s.load_blocking(&b.verification_id()),
            Err(StoreError::Integrity)
        ));
        assert_eq!(s.load_blocking(&a.verification_id()).unwrap().unwrap().0, a);
    }

    #[test]
    fn a_tampered_body_fails_to_load_as_an_integrity_error() {
        let s = store();
        let session = rich_session(7);
        let id = session.verification_id();
        block_on(s.save(&session, None)).unwrap();
        let (_, original) = raw_row(&s, &id);
        // A header byte (the wrapped key), a ciphertext byte, the tag, a truncation.
        for at in [30, HEADER_LEN + 100, original.len() - 1] {
            let mut tampered = original.clone();
            tampered[at] ^= 0x01;
            set_sealed(&s, &id, &tampered);
            assert!(
                matches!(s.load_blocking(&id), Err(StoreError::Integrity)),
                "byte {at}"
            );
        }
        set_sealed(&s, &id, &original[..original.len() - 1]);
        assert!(matches!(s.load_blocking(&id), Err(StoreError::Integrity)));
        set_sealed(&s, &id, &original);
        assert_eq!(s.load_blocking(&id).unwrap().unwrap().0, session);
    }

    #[test]
    fn a_body_sealed_under_another_master_key_fails_to_load() {
        let db = Database::open_in_memory().unwrap();
        let mine = SqliteSessionStore::new(db.clone(), key());
        let other = SqliteSessionStore::new(db, MasterKey::from_bytes([10; 32]));
        let session = session(8);
        other.save_blocking(&session, None).unwrap();
        assert!(matches!(
            mine.load_blocking(&session.verification_id()),
            Err(StoreError::Integrity)
        ));
    }

    #[test]
    fn concurrent_writers_from_one_version_produce_exactly_one_winner() {
        let s = store();
        let mut session = rich_session(9);
        block_on(s.save(&session, None)).unwrap();
        session.findings_mut().upload_digest = Some("next".into());
        let wins: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let (s, session) = (s.clone(), session.clone());
                    scope.spawn(move || s.save_blocking(&session, Some(Version(1))).is_ok())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(wins, 1);
        let (loaded, v) = block_on(s.load(&session.verification_id()))
            .unwrap()
            .unwrap();
        assert_eq!((loaded, v), (session, Version(2)));
    }

    #[test]
    fn writers_on_their_own_connections_from_one_version_produce_exactly_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kyc.sqlite3");
        let first = SqliteSessionStore::new(Database::open(&path).unwrap(), key());
        let session = rich_session(15);
        first.save_blocking(&session, None).unwrap();
        let start = std::sync::Barrier::new(4);
        let winners: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4u8)
                .map(|i| {
                    let (path, start) = (&path, &start);
                    let mut mine = session.clone();
                    mine.findings_mut().upload_digest = Some(format!("writer {i}"));
                    scope.spawn(move || {
                        let s = SqliteSessionStore::new(Database::open(path).unwrap(), key());
                        start.wait();
                        match s.save_blocking(&mine, Some(Version(1))) {
                            Ok(v) => Some((mine, v)),
                            Err(StoreError::Conflict) => None,
                            Err(e) => panic!("unexpected: {e}"),
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().unwrap())
                .collect()
        });
        assert_eq!(winners.len(), 1);
        assert_eq!(
            first.load_blocking(&session.verification_id()).unwrap(),
            winners.into_iter().next()
        );
    }

    #[test]
    fn sessions_are_found_by_their_current_state_oldest_update_first_without_opening_bodies() {
        let s = store();
        let (older, mut moved) = (session(10), session(11));
        let newer = Session::start(
            VerificationId::from_random_bytes([12; 16]),
            StepKey::parse("upload-1").unwrap(),
            T0.plus_millis(5),
            T0.plus_millis(DEADLINE_MS),
        );
        for x in [&newer, &moved, &older] {
            s.save_blocking(x, None).unwrap();
        }
        read(&mut moved);
        s.save_blocking(&moved, Some(Version(1))).unwrap();
        // A body that cannot be opened does not hide its row from the state query.
        set_sealed(&s, &older.verification_id(), b"not an envelope");
        assert_eq!(
            s.ids_in_state_blocking(StateName::DocumentUploaded)
                .unwrap(),
            vec![older.verification_id(), newer.verification_id()]
        );
        assert_eq!(
            s.ids_in_state_blocking(StateName::DocumentRead).unwrap(),
            vec![moved.verification_id()]
        );
        assert_eq!(s.ids_in_state_blocking(StateName::Decided).unwrap(), vec![]);
        let plan: String =
            s.db.with(|c| {
                Ok(c.query_row(
                    "EXPLAIN QUERY PLAN SELECT verification_id FROM sessions
                     WHERE state = 'x' ORDER BY updated_at",
                    [],
                    |r| r.get(3),
                )?)
            })
            .unwrap();
        assert!(plan.contains("sessions_by_state"), "{plan}");
    }

    #[test]
    fn a_sealed_session_is_purged_once_its_deadline_plus_the_retention_has_passed() {
        let db = Database::open_in_memory().unwrap();
        let s = SqliteSessionStore::with_retention(db.clone(), key(), Duration::from_secs(60));
        let session = rich_session(13);
        s.save_blocking(&session, None).unwrap();
        let purge_at = T0.plus_millis(DEADLINE_MS + 60_000);
        assert_eq!(
            db.purge_expired(purge_at.plus_millis(-1)).unwrap().sessions,
            0
        );
        assert!(s
            .load_blocking(&session.verification_id())
            .unwrap()
            .is_some());
        assert_eq!(db.purge_expired(purge_at).unwrap().sessions, 1);
        assert_eq!(s.load_blocking(&session.verification_id()).unwrap(), None);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_in_the_sealed_column_fail_to_load_and_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..400),
            keep_header in any::<bool>(),
        ) {
            let s = store();
            let session = session(14);
            let id = session.verification_id();
            s.save_blocking(&session, None).unwrap();
            let stored = if keep_header {
                // A genuine header (magic, version, key id, wrapped key) so that the bytes
                // reach decryption.
                let (_, sealed) = raw_row(&s, &id);
                [&sealed[..HEADER_LEN], &bytes[..]].concat()
            } else {
                bytes
            };
            set_sealed(&s, &id, &stored);
            prop_assert!(matches!(s.load_blocking(&id), Err(StoreError::Integrity)));
        }
    }

    /// The database schema 6 (the last before sessions were sealed) as the released program
    /// created it, written here literally so that these tests do not depend on the migrations
    /// they test.
    const SCHEMA_6: &str = "
CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT;
CREATE TABLE sessions (
    verification_id TEXT PRIMARY KEY,
    version         INTEGER NOT NULL CHECK (version >= 1),
    body            TEXT NOT NULL,     -- kyc_core::session::Session as JSON
    updated_at      INTEGER NOT NULL,
    purge_after     INTEGER NOT NULL   -- the session's deadline plus the retention
) STRICT;
CREATE INDEX sessions_by_purge_after ON sessions (purge_after);
CREATE TABLE audit_events (
    verification_id TEXT NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq >= 0),
    hash            TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,
    body            TEXT NOT NULL,     -- the event as JSON without its personal part
    personal        BLOB,              -- the personal part, sealed; NULL when none or redacted
    redact_after    INTEGER,           -- when the personal part expires
    PRIMARY KEY (verification_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX audit_events_by_redact_after ON audit_events (redact_after)
    WHERE personal IS NOT NULL;
CREATE TABLE ocr_data (
    verification_id TEXT PRIMARY KEY,
    sealed          BLOB NOT NULL,     -- the JSON record, sealed
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX ocr_data_by_expires_at ON ocr_data (expires_at);
CREATE TABLE tasks (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    title      TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('todo', 'doing', 'done')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1)
) STRICT;
CREATE INDEX tasks_by_owner ON tasks (owner, created_at, id);
CREATE TABLE objects (
    object_key      TEXT PRIMARY KEY,  -- the full ObjectKey, e.g. kyc-id-uploads/{id}.jpg
    verification_id TEXT NOT NULL,
    file_name       TEXT NOT NULL UNIQUE,
    content_type    TEXT NOT NULL,
    stored_len      INTEGER NOT NULL,  -- length of the encrypted file
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX objects_by_verification ON objects (verification_id);
CREATE INDEX objects_by_created_at ON objects (created_at);
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    body         TEXT NOT NULL,        -- kyc_core::ports::DomainEvent as JSON
    published_at INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    delivered_at INTEGER,
    dead         INTEGER NOT NULL DEFAULT 0 CHECK (dead IN (0, 1))
) STRICT;
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL AND dead = 0;
INSERT INTO schema_migrations VALUES
    (1, 'sessions', 0), (2, 'audit_events', 0), (3, 'ocr_data', 0), (4, 'tasks', 0),
    (5, 'objects', 0), (6, 'outbox', 0);
";

    /// A data directory's database at schema 6 holding `sessions` as the old store wrote them
    /// (plain JSON, default retention), plus one row whose body is not a session.
    fn schema_6_database(
        dir: &std::path::Path,
        sessions: &[(&Session, i64)],
    ) -> std::path::PathBuf {
        let path = dir.join("kyc.sqlite3");
        let c = rusqlite::Connection::open(&path).unwrap();
        let mode: String = c
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        c.execute_batch(SCHEMA_6).unwrap();
        let retention_ms = SqliteSessionStore::DEFAULT_RETENTION.as_millis() as i64;
        for (session, version) in sessions {
            c.execute(
                "INSERT INTO sessions (verification_id, version, body, updated_at, purge_after)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    session.verification_id().as_str(),
                    version,
                    serde_json::to_string(session).unwrap(),
                    session.updated_at().millis(),
                    session.expires_at().millis() + retention_ms
                ],
            )
            .unwrap();
        }
        c.execute(
            "INSERT INTO sessions VALUES (?1, 1, '{\"not\":\"a session\"}', 0, 1)",
            [VerificationId::from_random_bytes([99; 16]).as_str()],
        )
        .unwrap();
        path
    }

    fn files_contain(dir: &std::path::Path, needle: &str) -> bool {
        crate::storage::test_support::database_files_contain(dir, needle.as_bytes())
    }

    fn open_v6_as_plain(path: &std::path::Path) -> (i64, Vec<String>) {
        let c = rusqlite::Connection::open(path).unwrap();
        let version = c
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .unwrap();
        let mut st = c
            .prepare("SELECT body FROM sessions ORDER BY verification_id")
            .unwrap();
        let bodies = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        (version, bodies)
    }

    #[test]
    fn a_schema_6_database_is_migrated_to_sealed_sessions_that_load_save_and_purge() {
        let dir = tempfile::tempdir().unwrap();
        let (mut rich, uploaded) = (rich_session(20), session(21));
        let path = schema_6_database(dir.path(), &[(&rich, 3), (&uploaded, 1)]);
        assert!(
            files_contain(dir.path(), MARKER),
            "the fixture holds plain JSON"
        );

        let db = Database::open_with_key(&path, crate::storage::Durability::Full, &key()).unwrap();
        assert_eq!(db.schema_version().unwrap(), 7);
        let s = SqliteSessionStore::new(db.clone(), key());
        let (loaded, v) = s.load_blocking(&rich.verification_id()).unwrap().unwrap();
        assert_eq!((&loaded, v), (&rich, Version(3)));
        assert_eq!(
            s.load_blocking(&uploaded.verification_id()).unwrap(),
            Some((uploaded.clone(), Version(1)))
        );
        // Still conditional: a stale version loses, the current one wins.
        rich.findings_mut().upload_digest = Some("next".into());
        assert!(matches!(
            s.save_blocking(&rich, Some(Version(2))),
            Err(StoreError::Conflict)
        ));
        assert_eq!(
            s.save_blocking(&rich, Some(Version(3))).unwrap(),
            Version(4)
        );
        assert_eq!(
            s.ids_in_state_blocking(StateName::DocumentUploaded)
                .unwrap(),
            vec![uploaded.verification_id()]
        );
        // The row that was not a session is kept, sealed, and still fails to load.
        let odd = VerificationId::from_random_bytes([99; 16]);
        assert_eq!(raw_row(&s, &odd).0, None);
        assert!(matches!(s.load_blocking(&odd), Err(StoreError::Integrity)));

        for needle in [MARKER, "\"verificationId\"", "a session\"}"] {
            assert!(!files_contain(dir.path(), needle), "{needle}");
        }

        // The purge reads the migrated purge_after.
        let retention_ms = SqliteSessionStore::DEFAULT_RETENTION.as_millis() as i64;
        let purged = db
            .purge_expired(T0.plus_millis(DEADLINE_MS + retention_ms))
            .unwrap();
        assert_eq!(purged.sessions, 3);
        assert_eq!(s.load_blocking(&rich.verification_id()).unwrap(), None);
    }

    #[test]
    fn a_data_directory_from_schema_6_opens_with_its_sessions_sealed_under_its_master_key() {
        use crate::storage::{DataDir, LocalStores};
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let key = MasterKey::load_or_create(&data.master_key()).unwrap();
        let rich = rich_session(25);
        schema_6_database(dir.path(), &[(&rich, 2)]);
        let clock = std::sync::Arc::new(kyc_core::ports::fakes::FakeClock::at(T0));
        let stores = LocalStores::open(&data, clock).unwrap();
        assert_eq!(stores.db.schema_version().unwrap(), 7);
        assert_eq!(
            stores
                .sessions
                .load_blocking(&rich.verification_id())
                .unwrap(),
            Some((rich.clone(), Version(2)))
        );
        let (_, sealed) = raw_row(&stores.sessions, &rich.verification_id());
        let json = open(&key, &context(rich.verification_id().as_str()), &sealed).unwrap();
        assert_eq!(json, serde_json::to_vec(&rich).unwrap());
        assert!(!files_contain(dir.path(), MARKER));
    }

    #[test]
    fn reopening_a_migrated_database_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let rich = rich_session(22);
        let path = schema_6_database(dir.path(), &[(&rich, 1)]);
        let full = crate::storage::Durability::Full;
        let db = Database::open_with_key(&path, full, &key()).unwrap();
        let before = raw_row(&SqliteSessionStore::new(db, key()), &rich.verification_id());
        let again = Database::open_with_key(&path, full, &key()).unwrap();
        let s = SqliteSessionStore::new(again.clone(), key());
        assert_eq!(raw_row(&s, &rich.verification_id()), before);
        let migrations: i64 = again
            .with(|c| Ok(c.query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(migrations, 7);
        assert_eq!(
            s.load_blocking(&rich.verification_id()).unwrap().unwrap().0,
            rich
        );
    }

    #[test]
    fn a_migration_that_fails_half_way_leaves_the_old_schema_and_its_rows_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let rich = rich_session(23);
        let path = schema_6_database(dir.path(), &[(&rich, 1)]);
        let before = open_v6_as_plain(&path);
        // Without the key the rewrite fails after the table was renamed and the new one
        // created: the transaction undoes both.
        assert!(matches!(
            Database::open(&path),
            Err(StoreError::MasterKeyRequired)
        ));
        assert_eq!(open_v6_as_plain(&path), before);
        assert_eq!(before.0, 6);
        let db = Database::open_with_key(&path, crate::storage::Durability::Full, &key()).unwrap();
        let s = SqliteSessionStore::new(db, key());
        assert_eq!(
            s.load_blocking(&rich.verification_id()).unwrap().unwrap().0,
            rich
        );
    }

    #[test]
    fn a_schema_6_database_without_sessions_migrates_without_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kyc.sqlite3");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(SCHEMA_6).unwrap();
        drop(c);
        assert_eq!(Database::open(&path).unwrap().schema_version().unwrap(), 7);
    }

    #[test]
    fn a_migrated_database_has_the_schema_of_a_new_one() {
        fn schema(db: &Database) -> Vec<String> {
            db.with(|c| {
                let mut st = c.prepare(
                    "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name",
                )?;
                let rows = st.query_map([], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .unwrap()
            .iter()
            .map(|sql| sql.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
        }
        let dir = tempfile::tempdir().unwrap();
        let path = schema_6_database(dir.path(), &[(&rich_session(24), 1)]);
        let migrated =
            Database::open_with_key(&path, crate::storage::Durability::Full, &key()).unwrap();
        assert_eq!(
            schema(&migrated),
            schema(&Database::open_in_memory().unwrap())
        );
    }
}
