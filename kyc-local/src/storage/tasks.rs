//! `SqliteTaskStore`: the tasks of the SecureTask board (the reference app that accepts
//! verification tokens), with optimistic concurrency like the sessions. The model and its
//! validation rules are kyc-core's ([`kyc_core::tasks`]), shared with the DynamoDB store.

use kyc_core::model::{Timestamp, ValueError};
use kyc_core::ports::Version;
use rusqlite::{params, OptionalExtension as _, Row};

pub use kyc_core::tasks::{
    Task, TaskChange, TaskId, TaskStatus, UnknownStatus, MAX_OWNER_LEN, MAX_TITLE_CHARS,
};

use super::crypto::OsRandom;
use super::{Database, StoreError};

/// Tasks in the `tasks` table. Blocking: call from a blocking thread (see [`Database`]).
#[derive(Clone, Debug)]
pub struct SqliteTaskStore {
    db: Database,
}

const COLUMNS: &str = "id, owner, title, status, created_at, updated_at, version";

impl SqliteTaskStore {
    /// A store on `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Creates a `todo` task for `owner`. [`StoreError::Invalid`] for an empty or overlong
    /// owner or title, or a title with control characters.
    pub fn create(&self, owner: &str, title: &str, now: Timestamp) -> Result<Task, StoreError> {
        let task = Task::new(TaskId::generate(&OsRandom), owner, title, now).map_err(invalid)?;
        self.db.with(|c| {
            c.prepare_cached(&format!(
                "INSERT INTO tasks ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)"
            ))?
            .execute(params![
                task.id.as_str(),
                task.owner,
                task.title,
                task.status.as_str(),
                now.millis(),
                now.millis(),
            ])?;
            Ok(())
        })?;
        Ok(task)
    }

    /// The task, or `None`.
    pub fn get(&self, id: &TaskId) -> Result<Option<Task>, StoreError> {
        self.db.with(|c| {
            c.prepare_cached(&format!("SELECT {COLUMNS} FROM tasks WHERE id = ?1"))?
                .query_row([id.as_str()], row_to_task)
                .optional()?
                .transpose()
        })
    }

    /// The tasks of `owner`, oldest first.
    pub fn list_for_owner(&self, owner: &str) -> Result<Vec<Task>, StoreError> {
        self.db.with(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM tasks WHERE owner = ?1 ORDER BY created_at, id"
            ))?;
            let rows = st.query_map([owner], row_to_task)?;
            rows.map(|r| r?).collect()
        })
    }

    /// Applies `change` if the stored version is still `expected`, and returns the new task.
    /// `Ok(None)` if there is no such task; [`StoreError::Conflict`] (nothing changed) if the
    /// task changed since `expected`.
    pub fn update(
        &self,
        id: &TaskId,
        expected: Version,
        change: &TaskChange,
        now: Timestamp,
    ) -> Result<Option<Task>, StoreError> {
        let title = change
            .title
            .as_deref()
            .map(kyc_core::tasks::normalize_title)
            .transpose()
            .map_err(invalid)?;
        let version = i64::try_from(expected.0).map_err(|_| StoreError::Conflict)?;
        self.db.write(|tx| {
            let updated = tx
                .prepare_cached(
                    "UPDATE tasks SET title = COALESCE(?3, title), status = COALESCE(?4, status),
                       updated_at = ?5, version = version + 1
                     WHERE id = ?1 AND version = ?2",
                )?
                .execute(params![
                    id.as_str(),
                    version,
                    title,
                    change.status.map(TaskStatus::as_str),
                    now.millis(),
                ])?;
            let task = tx
                .prepare_cached(&format!("SELECT {COLUMNS} FROM tasks WHERE id = ?1"))?
                .query_row([id.as_str()], row_to_task)
                .optional()?
                .transpose()?;
            match (updated, task) {
                (1, Some(t)) => Ok(Some(t)),
                (_, None) => Ok(None),
                (_, Some(_)) => Err(StoreError::Conflict),
            }
        })
    }

    /// Deletes the task if its version is still `expected`; returns whether it was deleted.
    /// `Ok(false)` if there is no such task, [`StoreError::Conflict`] if it changed.
    pub fn delete(&self, id: &TaskId, expected: Version) -> Result<bool, StoreError> {
        let version = i64::try_from(expected.0).map_err(|_| StoreError::Conflict)?;
        self.db.write(|tx| {
            let deleted = tx
                .prepare_cached("DELETE FROM tasks WHERE id = ?1 AND version = ?2")?
                .execute(params![id.as_str(), version])?;
            if deleted == 1 {
                return Ok(true);
            }
            let exists = tx
                .prepare_cached("SELECT 1 FROM tasks WHERE id = ?1")?
                .exists([id.as_str()])?;
            if exists {
                Err(StoreError::Conflict)
            } else {
                Ok(false)
            }
        })
    }
}

/// The refused value's role, as [`StoreError::Invalid`].
fn invalid(e: ValueError) -> StoreError {
    let what = match e {
        ValueError::Empty { what }
        | ValueError::TooLong { what, .. }
        | ValueError::InvalidCharacter { what }
        | ValueError::OutOfRange { what }
        | ValueError::Malformed { what, .. }
        | ValueError::Unknown { what, .. } => what,
        _ => "task",
    };
    StoreError::Invalid { what }
}

fn row_to_task(r: &Row<'_>) -> rusqlite::Result<Result<Task, StoreError>> {
    let id: String = r.get(0)?;
    let status: String = r.get(3)?;
    let version: i64 = r.get(6)?;
    let owner: String = r.get(1)?;
    let title: String = r.get(2)?;
    let (created, updated): (i64, i64) = (r.get(4)?, r.get(5)?);
    Ok((|| {
        Ok(Task {
            id: TaskId::parse(&id).map_err(|_| StoreError::Integrity)?,
            owner,
            title,
            status: status.parse().map_err(|_| StoreError::Integrity)?,
            created_at: Timestamp::from_millis(created),
            updated_at: Timestamp::from_millis(updated),
            version: Version(u64::try_from(version).map_err(|_| StoreError::Integrity)?),
        })
    })())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    fn store() -> SqliteTaskStore {
        SqliteTaskStore::new(Database::open_in_memory().unwrap())
    }

    #[test]
    fn a_created_task_reads_back_and_lists_under_its_owner_only() {
        let s = store();
        let a = s.create("alice", "  write the report ", T0).unwrap();
        let b = s.create("alice", "review", T0.plus_millis(1)).unwrap();
        s.create("bob", "other", T0).unwrap();
        assert_eq!(a.title, "write the report");
        assert_eq!((a.status, a.version), (TaskStatus::Todo, Version(1)));
        assert_eq!(s.get(&a.id).unwrap(), Some(a.clone()));
        assert_eq!(s.list_for_owner("alice").unwrap(), vec![a, b]);
        assert!(s.list_for_owner("carol").unwrap().is_empty());
    }

    #[test]
    fn an_update_from_a_stale_version_is_a_conflict_and_changes_nothing() {
        let s = store();
        let t = s.create("alice", "task", T0).unwrap();
        let done = TaskChange {
            status: Some(TaskStatus::Done),
            ..TaskChange::default()
        };
        let t2 = s
            .update(&t.id, Version(1), &done, T0.plus_millis(5))
            .unwrap()
            .unwrap();
        assert_eq!(
            (t2.status, t2.version, t2.title.as_str()),
            (TaskStatus::Done, Version(2), "task")
        );
        assert_eq!(t2.updated_at, T0.plus_millis(5));
        let rename = TaskChange {
            title: Some("renamed".into()),
            ..TaskChange::default()
        };
        assert!(matches!(
            s.update(&t.id, Version(1), &rename, T0),
            Err(StoreError::Conflict)
        ));
        assert_eq!(s.get(&t.id).unwrap(), Some(t2));
    }

    #[test]
    fn missing_tasks_update_and_delete_to_nothing_and_stale_deletes_conflict() {
        let s = store();
        let ghost = TaskId::parse(&"0".repeat(32)).unwrap();
        assert_eq!(
            s.update(&ghost, Version(1), &TaskChange::default(), T0)
                .unwrap(),
            None
        );
        assert!(!s.delete(&ghost, Version(1)).unwrap());
        let t = s.create("alice", "task", T0).unwrap();
        assert!(matches!(
            s.delete(&t.id, Version(2)),
            Err(StoreError::Conflict)
        ));
        assert!(s.delete(&t.id, Version(1)).unwrap());
        assert_eq!(s.get(&t.id).unwrap(), None);
    }

    #[test]
    fn bad_titles_and_owners_are_refused() {
        let s = store();
        for title in ["", "   ", "a\u{0}b", &"x".repeat(MAX_TITLE_CHARS + 1)] {
            assert!(matches!(
                s.create("alice", title, T0),
                Err(StoreError::Invalid { .. })
            ));
        }
        for owner in ["", "a b", &"o".repeat(MAX_OWNER_LEN + 1)] {
            assert!(matches!(
                s.create(owner, "t", T0),
                Err(StoreError::Invalid { .. })
            ));
        }
        assert!(s.create("alice", &"é".repeat(MAX_TITLE_CHARS), T0).is_ok());
    }

    #[test]
    fn statuses_round_trip_and_unknown_names_list_the_allowed_ones() {
        for st in [TaskStatus::Todo, TaskStatus::Doing, TaskStatus::Done] {
            assert_eq!(st.as_str().parse::<TaskStatus>(), Ok(st));
        }
        let e = "finished".parse::<TaskStatus>().unwrap_err().to_string();
        assert!(e.contains("todo, doing, done"));
    }

    proptest! {
        #[test]
        fn any_title_is_stored_as_given_or_refused(title in ".{0,250}") {
            let s = store();
            if let Ok(t) = s.create("alice", &title, T0) {
                prop_assert_eq!(s.get(&t.id).unwrap().unwrap().title, title.trim());
            }
        }
    }
}
