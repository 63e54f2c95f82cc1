//! The database schema as versioned migrations, embedded as SQL. Each runs once, in order, in
//! the same transaction as the row that records it in `schema_migrations`; a migration is never
//! edited once released (a change is a new migration).
//!
//! Times are milliseconds since the Unix epoch (kyc-core's `Timestamp`), identifiers are the
//! canonical strings of kyc-core's types, and tables are `STRICT` so SQLite refuses values of
//! the wrong type.
//!
//! Most migrations are SQL only. One that must rewrite stored rows in a way SQL cannot (sealing
//! them with the master key) has a Rust step between its SQL steps; it runs in the same
//! transaction, so a crash or an error anywhere in the migration leaves the previous schema and
//! its rows as they were.

use rusqlite::Transaction;

use super::{sessions, MasterKey, StoreError};

/// One migration: its version (from 1, without gaps), a name, and its steps, run in order.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) steps: &'static [Step],
}

/// A migration step that rewrites stored rows; it gets the master key when the database was
/// opened with one, and returns how many rows it rewrote.
pub(crate) type Rewrite = fn(&Transaction<'_>, Option<&MasterKey>) -> Result<usize, StoreError>;

/// One step of a migration.
pub(crate) enum Step {
    /// SQL statements.
    Sql(&'static str),
    /// Rust that rewrites stored rows (see [`Rewrite`]).
    Rewrite(Rewrite),
}

/// Every migration, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "sessions",
        steps: &[Step::Sql(
            "
CREATE TABLE sessions (
    verification_id TEXT PRIMARY KEY,
    version         INTEGER NOT NULL CHECK (version >= 1),
    body            TEXT NOT NULL,     -- kyc_core::session::Session as JSON
    updated_at      INTEGER NOT NULL,
    purge_after     INTEGER NOT NULL   -- the session's deadline plus the retention
) STRICT;
CREATE INDEX sessions_by_purge_after ON sessions (purge_after);
",
        )],
    },
    Migration {
        version: 2,
        name: "audit_events",
        steps: &[Step::Sql(
            "
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
",
        )],
    },
    Migration {
        version: 3,
        name: "ocr_data",
        steps: &[Step::Sql(
            "
CREATE TABLE ocr_data (
    verification_id TEXT PRIMARY KEY,
    sealed          BLOB NOT NULL,     -- the JSON record, sealed
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX ocr_data_by_expires_at ON ocr_data (expires_at);
",
        )],
    },
    Migration {
        version: 4,
        name: "tasks",
        steps: &[Step::Sql(
            "
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
",
        )],
    },
    Migration {
        version: 5,
        name: "objects",
        steps: &[Step::Sql(
            "
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
",
        )],
    },
    Migration {
        version: 6,
        name: "outbox",
        steps: &[Step::Sql(
            "
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    body         TEXT NOT NULL,        -- kyc_core::ports::DomainEvent as JSON
    published_at INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    delivered_at INTEGER,
    dead         INTEGER NOT NULL DEFAULT 0 CHECK (dead IN (0, 1))
) STRICT;
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL AND dead = 0;
",
        )],
    },
    Migration {
        version: 7,
        name: "sessions_sealed",
        // The session body becomes a sealed BLOB (the old column is TEXT in a STRICT table, so
        // the table is rebuilt), and the state's name moves to a plain column for the queries
        // that must not open bodies. The old table is renamed first so that the new one keeps
        // its plain name; its rows are sealed by `sessions::seal_plain_sessions`.
        steps: &[
            Step::Sql(
                "
ALTER TABLE sessions RENAME TO sessions_plain;
CREATE TABLE sessions (
    verification_id TEXT PRIMARY KEY,
    version         INTEGER NOT NULL CHECK (version >= 1),
    state           TEXT,              -- the state's name (StateName), e.g. documentUploaded;
                                       -- NULL only for a migrated body that was not a session
    sealed          BLOB NOT NULL,     -- kyc_core::session::Session as JSON, sealed
    updated_at      INTEGER NOT NULL,
    purge_after     INTEGER NOT NULL   -- the session's deadline plus the retention
) STRICT;
",
            ),
            Step::Rewrite(sessions::seal_plain_sessions),
            Step::Sql(
                "
DROP TABLE sessions_plain;
CREATE INDEX sessions_by_purge_after ON sessions (purge_after);
CREATE INDEX sessions_by_state ON sessions (state, updated_at);
",
            ),
        ],
    },
];

/// The newest schema version this program knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_start_at_one_and_have_no_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
        assert_eq!(latest(), MIGRATIONS.len() as i64);
    }

    /// The schema the migrations produce, as SQLite records it: a released migration must
    /// never change, so any difference here is either a new migration or a mistake.
    #[test]
    fn the_migrated_schema_is_as_recorded() {
        let db = crate::storage::Database::open_in_memory().unwrap();
        let schema: Vec<String> = db
            .with(|c| {
                let mut st = c.prepare(
                    "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name",
                )?;
                let rows = st.query_map([], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .unwrap();
        insta::assert_snapshot!("schema", schema.join(";\n\n"));
    }
}
