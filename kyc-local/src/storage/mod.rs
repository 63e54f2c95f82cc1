//! Local storage: one SQLite database for sessions, the audit log, OCR data, tasks, object
//! records and the event outbox, and an encrypted file store for document images and frames.
//!
//! # Layout of a data directory
//!
//! ```text
//! <data dir>/              owner-only (0700) when created here
//!   kyc.sqlite3            the database (WAL mode; -wal and -shm beside it), 0600
//!   master.key             the master key that wraps every data key, 0600
//!   objects/               encrypted objects, one file per object, random names
//!   objects/*.tmp          debris of interrupted writes, removed by recover()
//!   signing/               the token signing keys (see crate::signing)
//! ```
//!
//! # Threading
//!
//! Everything here blocks: SQLite calls and file I/O. The kyc-core port implementations do the
//! blocking work inside the futures they return, so an async server runs them on a blocking
//! thread (tokio's `spawn_blocking`); each type also offers the same operations as plain
//! methods. All types are `Send + Sync` and cheap to clone ([`Database`] is one connection
//! behind a mutex).
//!
//! # Personal data at rest
//!
//! Personal values are sealed before they reach the database or the disk (AES-256-GCM with a
//! data key per record, wrapped by the [`MasterKey`]): object contents, OCR records, the
//! personal parts of audit events, and sessions (whose findings hold face embeddings; only
//! their id, version, state name and times are plain columns). Tasks and outbox events hold no
//! personal data. Errors and `Debug` outputs never contain stored values.

mod audit;
pub mod crypto;
mod db;
mod error;
pub(crate) mod fs;
mod migrations;
mod objects;
mod ocr;
mod open;
mod retention;
mod sessions;
mod tasks;

pub use audit::SqliteAuditLog;
pub use crypto::{MasterKey, OsRandom};
pub use db::{Database, Durability, BUSY_TIMEOUT};
pub use error::StoreError;
pub use objects::{EncryptedFileStore, Recovered};
pub use ocr::SqliteOcrData;
pub use open::LocalStores;
pub use retention::Purged;
pub use sessions::SqliteSessionStore;
pub use tasks::{
    SqliteTaskStore, Task, TaskChange, TaskId, TaskStatus, UnknownStatus, MAX_OWNER_LEN,
    MAX_TITLE_CHARS,
};

use std::path::{Path, PathBuf};

/// The database file's name in a data directory.
pub const DATABASE_FILE: &str = "kyc.sqlite3";
/// The master key file's name in a data directory.
pub const MASTER_KEY_FILE: &str = "master.key";
/// The object directory's name in a data directory.
pub const OBJECTS_DIR: &str = "objects";

/// The paths of a data directory's parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data directory at `root` (nothing is created until a part is opened).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The database file.
    pub fn database(&self) -> PathBuf {
        self.root.join(DATABASE_FILE)
    }

    /// The master key file.
    pub fn master_key(&self) -> PathBuf {
        self.root.join(MASTER_KEY_FILE)
    }

    /// The object directory.
    pub fn objects(&self) -> PathBuf {
        self.root.join(OBJECTS_DIR)
    }

    /// The directory of the token signing keys.
    pub fn signing_keys(&self) -> PathBuf {
        self.root.join("signing")
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    /// Polls a future that never waits (the blocking adapters) to completion.
    pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("a blocking adapter's future was pending"),
        }
    }

    /// Whether `haystack` holds `needle` anywhere.
    pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// Whether the database file `kyc.sqlite3` in `dir` or its WAL holds `needle` anywhere.
    pub(crate) fn database_files_contain(dir: &std::path::Path, needle: &[u8]) -> bool {
        ["kyc.sqlite3", "kyc.sqlite3-wal"]
            .iter()
            .any(|name| std::fs::read(dir.join(name)).is_ok_and(|bytes| contains(&bytes, needle)))
    }
}
