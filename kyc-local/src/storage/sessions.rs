//! `SqliteSessionStore`: the [`SessionStore`] port on SQLite, with optimistic concurrency
//! through a version column and conditional statements.

use std::time::Duration;

use kyc_core::model::VerificationId;
use kyc_core::ports::{PortError, SessionStore, Version};
use kyc_core::session::Session;
use rusqlite::{params, OptionalExtension as _};

use super::{Database, StoreError};

/// Sessions in the `sessions` table: the session as JSON, its version, and when it may be
/// purged (its deadline plus the retention, see [`Database::purge_expired`]).
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
    retention: Duration,
}

impl SqliteSessionStore {
    /// How long a session is kept after its deadline unless configured otherwise: 30 days.
    pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

    /// A store on `db` with the default retention.
    pub fn new(db: Database) -> Self {
        Self::with_retention(db, Self::DEFAULT_RETENTION)
    }

    /// A store on `db` that lets [`Database::purge_expired`] remove a session `retention`
    /// after its deadline (`Session::expires_at`).
    pub fn with_retention(db: Database, retention: Duration) -> Self {
        Self { db, retention }
    }

    /// [`SessionStore::load`], blocking.
    pub fn load_blocking(
        &self,
        id: &VerificationId,
    ) -> Result<Option<(Session, Version)>, StoreError> {
        let row: Option<(String, i64)> = self.db.with(|c| {
            Ok(
                c.prepare_cached("SELECT body, version FROM sessions WHERE verification_id = ?1")?
                    .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?,
            )
        })?;
        row.map(|(body, version)| {
            let session: Session =
                serde_json::from_str(&body).map_err(|_| StoreError::Integrity)?;
            let version = u64::try_from(version).map_err(|_| StoreError::Integrity)?;
            if session.verification_id() != *id {
                return Err(StoreError::Integrity);
            }
            Ok((session, Version(version)))
        })
        .transpose()
    }

    /// The ids of the sessions currently in `state` (a server resumes the work a restart
    /// interrupted, e.g. documents uploaded but not yet read), oldest update first.
    pub fn ids_in_state_blocking(
        &self,
        state: kyc_core::session::StateName,
    ) -> Result<Vec<VerificationId>, StoreError> {
        let ids: Vec<String> = self.db.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT verification_id FROM sessions
                 WHERE json_extract(body, '$.state.state') = ?1 ORDER BY updated_at",
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
        let body =
            serde_json::to_string(session).map_err(|_| StoreError::Encoding { what: "session" })?;
        let id = session.verification_id();
        let updated_at = session.updated_at().millis();
        let retention_ms = i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        let purge_after = session.expires_at().millis().saturating_add(retention_ms);
        match expected {
            None => {
                let inserted = self.db.with(|c| {
                    Ok(c.prepare_cached(
                        "INSERT INTO sessions (verification_id, version, body, updated_at, purge_after)
                         VALUES (?1, 1, ?2, ?3, ?4) ON CONFLICT (verification_id) DO NOTHING",
                    )?
                    .execute(params![id.as_str(), body, updated_at, purge_after])?)
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
                        "UPDATE sessions SET version = ?3, body = ?4, updated_at = ?5, purge_after = ?6
                         WHERE verification_id = ?1 AND version = ?2",
                    )?
                    .execute(params![id.as_str(), current, next, body, updated_at, purge_after])?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::test_support::block_on;
    use kyc_core::model::Timestamp;
    use kyc_core::session::{ReadOutcome, Step, StepKey};

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    fn session(b: u8) -> Session {
        Session::start(
            VerificationId::from_random_bytes([b; 16]),
            StepKey::parse("upload-1").unwrap(),
            T0,
            T0.plus_millis(900_000),
        )
    }

    fn store() -> SqliteSessionStore {
        SqliteSessionStore::new(Database::open_in_memory().unwrap())
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
    fn a_corrupt_row_is_an_integrity_failure() {
        let s = store();
        let session = session(4);
        block_on(s.save(&session, None)).unwrap();
        s.db.with(|c| {
            c.execute("UPDATE sessions SET body = '{\"not\":\"a session\"}'", [])?;
            Ok(())
        })
        .unwrap();
        assert_eq!(
            block_on(s.load(&session.verification_id())),
            Err(PortError::Integrity)
        );
    }

    #[test]
    fn concurrent_writers_from_one_version_produce_exactly_one_winner() {
        let s = store();
        let session = session(5);
        block_on(s.save(&session, None)).unwrap();
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
        let (_, v) = block_on(s.load(&session.verification_id()))
            .unwrap()
            .unwrap();
        assert_eq!(v, Version(2));
    }
}
