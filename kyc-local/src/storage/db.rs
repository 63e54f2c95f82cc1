//! [`Database`]: the one SQLite file of a local installation, opened with WAL, a busy timeout,
//! foreign keys and full fsync on commit, and migrated to the newest schema on open (with the
//! master key when a migration seals stored rows).

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};

use super::migrations::{latest, Step, MIGRATIONS};
use super::{fs as sfs, MasterKey, StoreError};

/// How long a statement waits for another connection's write lock before giving up with a
/// retryable error.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle on the SQLite database, shared by the repositories (`Clone` is cheap: one
/// connection behind a mutex).
///
/// Every method blocks the calling thread on SQLite (and on the mutex while another thread of
/// the process uses the connection). The port implementations built on it do their work inside
/// the future they return, so an async caller runs them on a blocking thread (for tokio,
/// `spawn_blocking`, or `block_in_place`); several processes or handles may open the same file,
/// and WAL lets readers run beside one writer.
///
/// Durability: by default `synchronous = FULL`, so a commit that has returned survives a power
/// loss, not only a process crash. [`Durability::Normal`] (`synchronous = NORMAL`) commits
/// without waiting for the disk: a process crash still loses nothing, and a power loss or OS
/// crash loses at most the last commits — a suffix of the history (WAL keeps commit order), so
/// tables never disagree with each other; the object store's `recover()` removes files whose
/// row was lost.
#[derive(Clone)]
pub struct Database {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Database")
    }
}

/// How a commit waits for the disk (see [`Database`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: a returned commit survives a power loss.
    #[default]
    Full,
    /// `synchronous = NORMAL`: a returned commit survives a process crash; a power loss may
    /// undo the last ones. About 2.7 times the upload throughput of `Full` on a disk whose
    /// fsync takes ~2 ms (see `cargo xtask bench serve`).
    Normal,
}

impl Database {
    /// Opens (creating if needed, with mode `0600` in an owner-only directory) the database at
    /// `path` and applies the migrations it lacks, all in one transaction (an error or a crash
    /// leaves the database as it was). Opening an up-to-date database changes nothing.
    ///
    /// Fails with [`StoreError::SchemaTooNew`] if a newer program wrote it, and with
    /// [`StoreError::MasterKeyRequired`] if a migration has stored rows to seal (open it with
    /// [`open_with_key`](Self::open_with_key) then).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_inner(path, Durability::Full, None)
    }

    /// [`open`](Self::open) with the given durability.
    pub fn open_with(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        Self::open_inner(path, durability, None)
    }

    /// [`open_with`](Self::open_with), giving the migrations the data directory's master key:
    /// a database written before sessions were sealed (schema 6 or older) has its session
    /// bodies sealed with it on open. [`LocalStores`](super::LocalStores) opens the database
    /// this way; use it for any database that may hold data from an older version.
    pub fn open_with_key(
        path: &Path,
        durability: Durability,
        key: &MasterKey,
    ) -> Result<Self, StoreError> {
        Self::open_inner(path, durability, Some(key))
    }

    fn open_inner(
        path: &Path,
        durability: Durability,
        key: Option<&MasterKey>,
    ) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            sfs::ensure_private_dir(dir)?;
        }
        if !path.exists() {
            // Created here, owner-only, so that SQLite's WAL and shared-memory files (which
            // copy the database file's mode) are owner-only too.
            match sfs::create_private(path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(StoreError::io("create database file")(e)),
            }
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Malformed {
                what: "database journal mode",
            });
        }
        let db = Self::configure(conn, key)?;
        if durability == Durability::Normal {
            db.with(|c| Ok(c.pragma_update(None, "synchronous", "NORMAL")?))?;
        }
        Ok(db)
    }

    /// A private in-memory database with the same schema (tests and tools; nothing is kept).
    /// It starts empty, so no migration needs a key.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::configure(Connection::open_in_memory()?, None)
    }

    fn configure(mut conn: Connection, key: Option<&MasterKey>) -> Result<Self, StoreError> {
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // What is deleted or overwritten (an erased record, a purged session, the previous body
        // of a saved session) is zeroed in its page rather than left in free space, where it
        // would outlive an erasure. The zeroed pages reach the database file at the next
        // checkpoint; [`checkpoint`](Self::checkpoint) also drops the WAL's older copies.
        conn.pragma_update(None, "secure_delete", 1)?;
        migrate(&mut conn, key)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The schema version the database is at (the newest applied migration).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )?)
        })
    }

    /// Checkpoints the WAL into the database file and truncates it, so that no older copy of a
    /// page (one holding what was since erased or purged) stays in the WAL. Best effort:
    /// returns `false` when a reader on another connection held it back.
    pub fn checkpoint(&self) -> bool {
        self.with(|c| Ok(checkpoint(c))).unwrap_or(false)
    }

    /// Runs `f` with the connection, holding the handle's lock.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A panic inside `f` cannot leave a transaction open (rusqlite rolls back on drop), so
        // a poisoned lock still guards a usable connection.
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut conn)
    }

    /// Runs `f` in an immediate transaction (the write lock is taken at `BEGIN`, so a
    /// read-then-write cannot fail half-way on another connection's write) and commits it if
    /// `f` succeeds.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
    }
}

/// Applies the missing migrations in one transaction.
///
/// `secure_delete` is on (see [`Database`]): what a migration deletes (a table rebuilt to seal
/// its rows) is overwritten with zeros, not left in free pages. After a migration that rewrote
/// rows, the WAL is checkpointed and truncated, so that the database file holds the zeroed
/// pages and the WAL no older copy.
fn migrate(conn: &mut Connection, key: Option<&MasterKey>) -> Result<(), StoreError> {
    if migrate_in_transaction(conn, key)? > 0 {
        checkpoint(conn);
    }
    Ok(())
}

/// Copies the WAL into the database file and truncates it. Best effort: a reader on another
/// connection can hold the checkpoint back (reported in the pragma's row, or as a busy
/// error); a later checkpoint finishes it. Returns whether it completed.
fn checkpoint(conn: &Connection) -> bool {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    })
    .is_ok_and(|busy| busy == 0)
}

/// The migration transaction; returns how many stored rows the migrations rewrote.
fn migrate_in_transaction(
    conn: &mut Connection,
    key: Option<&MasterKey>,
) -> Result<usize, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        ) STRICT;",
    )?;
    let applied: Vec<(i64, String)> = {
        let mut st = tx.prepare("SELECT version, name FROM schema_migrations ORDER BY version")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let current = applied.last().map_or(0, |(v, _)| *v);
    if current > latest() {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported: latest(),
        });
    }
    let known = applied.iter().enumerate().all(|(i, (v, name))| {
        MIGRATIONS
            .get(i)
            .is_some_and(|m| m.version == *v && m.name == name)
    });
    if !known {
        return Err(StoreError::Malformed {
            what: "database migration history",
        });
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let mut rewritten = 0;
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        for step in m.steps {
            match step {
                Step::Sql(sql) => tx.execute_batch(sql)?,
                Step::Rewrite(rewrite) => rewritten += rewrite(&tx, key)?,
            }
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, now],
        )?;
    }
    tx.commit()?;
    Ok(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_twice_migrates_once_and_keeps_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("kyc.sqlite3");
        let db = Database::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), latest());
        db.with(|c| {
            c.execute(
                "INSERT INTO tasks VALUES ('t', 'o', 'title', 'todo', 1, 1, 1)",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        drop(db);
        let db = Database::open(&path).unwrap();
        let (migrations, tasks): (i64, i64) = db
            .with(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT COUNT(*) FROM schema_migrations), (SELECT COUNT(*) FROM tasks)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .unwrap();
        assert_eq!((migrations, tasks), (latest(), 1));
    }

    #[test]
    fn the_database_runs_in_wal_mode_with_foreign_keys_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("kyc.sqlite3")).unwrap();
        let (mode, fk, sync): (String, i64, i64) = db
            .with(|c| {
                Ok((
                    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?,
                    c.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!((mode.as_str(), fk, sync), ("wal", 1, 2));
    }

    #[test]
    fn normal_durability_commits_without_waiting_for_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kyc.sqlite3");
        let db = Database::open_with(&path, Durability::Normal).unwrap();
        let sync: i64 = db
            .with(|c| Ok(c.query_row("PRAGMA synchronous", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(sync, 1);
        drop(db);
        let again = Database::open_with(&path, Durability::Full).unwrap();
        let sync: i64 = again
            .with(|c| Ok(c.query_row("PRAGMA synchronous", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(sync, 2);
    }

    #[test]
    fn a_database_from_a_newer_program_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kyc.sqlite3");
        let db = Database::open(&path).unwrap();
        db.with(|c| {
            c.execute(
                "INSERT INTO schema_migrations VALUES (?1, 'future', 0)",
                [latest() + 1],
            )?;
            Ok(())
        })
        .unwrap();
        drop(db);
        assert!(matches!(
            Database::open(&path),
            Err(StoreError::SchemaTooNew { found, .. }) if found == latest() + 1
        ));
    }

    #[test]
    fn a_foreign_migration_history_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kyc.sqlite3");
        let db = Database::open(&path).unwrap();
        db.with(|c| {
            c.execute(
                "UPDATE schema_migrations SET name = 'other' WHERE version = 1",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        drop(db);
        assert!(matches!(
            Database::open(&path),
            Err(StoreError::Malformed { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn the_database_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kyc.sqlite3");
        let db = Database::open(&path).unwrap();
        db.with(|c| {
            c.execute(
                "INSERT INTO tasks VALUES ('t', 'o', 'x', 'todo', 1, 1, 1)",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        for name in ["kyc.sqlite3", "kyc.sqlite3-wal"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{name}");
        }
    }
}
