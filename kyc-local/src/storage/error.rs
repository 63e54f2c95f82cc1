//! `StoreError`: why a local storage operation failed, and how it maps onto the ports' error
//! shapes (`PortError`, `AuditLogError`).

use std::io;

use kyc_core::audit::AuditLogError;
use kyc_core::ports::PortError;
use rusqlite::ErrorCode;

/// Why a storage operation failed. Messages name the operation or the file's role, never a
/// stored value (SQLite's own messages name tables and columns, never bound values).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite operation failed")]
    Sqlite(#[from] rusqlite::Error),
    /// A filesystem operation failed.
    #[error("filesystem operation failed: {what}")]
    Io {
        /// What was being done, e.g. `write object`.
        what: &'static str,
        /// The cause (std's I/O errors do not carry the path).
        #[source]
        source: io::Error,
    },
    /// A secret file (master key, signing key) is readable or writable by group or others.
    #[error("{what} is accessible to group or others; restrict it to its owner (chmod 600)")]
    InsecurePermissions {
        /// Which file, by role (`master key file`, `signing key file`).
        what: &'static str,
    },
    /// A key or metadata file does not have the expected format.
    #[error("{what} is malformed")]
    Malformed {
        /// Which file, by role.
        what: &'static str,
    },
    /// The database was written by a newer version of this program.
    #[error("database schema version {found} is newer than this program supports ({supported})")]
    SchemaTooNew {
        /// The version found in the database.
        found: i64,
        /// The newest version this program knows.
        supported: i64,
    },
    /// A migration has stored rows to seal and the database was opened without the master key
    /// (see [`Database::open_with_key`](super::Database::open_with_key)); nothing was changed.
    #[error("migrating the database needs the master key to seal stored data")]
    MasterKeyRequired,
    /// A conditional write lost a race (optimistic concurrency); re-read and retry.
    #[error("concurrent update conflict")]
    Conflict,
    /// Stored data failed authentication or decoding (tampering, corruption, wrong key).
    #[error("stored data failed an integrity check")]
    Integrity,
    /// A value could not be encoded for storage.
    #[error("{what} could not be encoded")]
    Encoding {
        /// What was being encoded.
        what: &'static str,
    },
    /// An argument is outside what the store accepts.
    #[error("{what} is invalid")]
    Invalid {
        /// Which argument.
        what: &'static str,
    },
    /// The operating system's random generator failed.
    #[error("the operating system's random generator is unavailable")]
    Random,
}

impl StoreError {
    /// An I/O error with what was being done.
    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| Self::Io { what, source }
    }

    /// Whether repeating the operation later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            PortError::from(self),
            PortError::Unavailable { .. } | PortError::Conflict
        )
    }
}

impl From<&StoreError> for PortError {
    fn from(e: &StoreError) -> Self {
        const SQLITE: &str = "sqlite";
        match e {
            StoreError::Sqlite(err) => match err.sqlite_error_code() {
                Some(
                    ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::DiskFull
                    | ErrorCode::OutOfMemory
                    | ErrorCode::FileLockingProtocolFailed
                    | ErrorCode::OperationInterrupted,
                ) => PortError::Unavailable { backend: SQLITE },
                Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => PortError::Integrity,
                Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
                    PortError::Misconfigured {
                        backend: SQLITE,
                        reason: "the database file cannot be opened for writing".into(),
                    }
                }
                Some(ErrorCode::ConstraintViolation) => PortError::Rejected {
                    backend: SQLITE,
                    reason: "a stored value breaks a table constraint",
                },
                _ => match err {
                    rusqlite::Error::FromSqlConversionFailure(..)
                    | rusqlite::Error::InvalidColumnType(..)
                    | rusqlite::Error::IntegralValueOutOfRange(..) => PortError::Integrity,
                    _ => PortError::Rejected {
                        backend: SQLITE,
                        reason: "the storage operation failed",
                    },
                },
            },
            StoreError::Io { source, .. } => match source.kind() {
                io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                    PortError::Misconfigured {
                        backend: "filesystem",
                        reason: "the data directory is not writable".into(),
                    }
                }
                _ => PortError::Unavailable {
                    backend: "filesystem",
                },
            },
            StoreError::InsecurePermissions { what } => PortError::Misconfigured {
                backend: "filesystem",
                reason: format!("{what} is accessible to group or others"),
            },
            StoreError::Malformed { what } => PortError::Misconfigured {
                backend: "filesystem",
                reason: format!("{what} is malformed"),
            },
            StoreError::SchemaTooNew { .. } | StoreError::MasterKeyRequired => {
                PortError::Misconfigured {
                    backend: SQLITE,
                    reason: e.to_string(),
                }
            }
            StoreError::Conflict => PortError::Conflict,
            StoreError::Integrity => PortError::Integrity,
            StoreError::Encoding { .. } => PortError::Rejected {
                backend: "local-store",
                reason: "a value could not be encoded",
            },
            StoreError::Invalid { .. } => PortError::Rejected {
                backend: "local-store",
                reason: "an argument is invalid",
            },
            StoreError::Random => PortError::Unavailable {
                backend: "os-random",
            },
        }
    }
}

impl From<StoreError> for PortError {
    fn from(e: StoreError) -> Self {
        PortError::from(&e)
    }
}

impl From<StoreError> for AuditLogError {
    fn from(e: StoreError) -> Self {
        match PortError::from(&e) {
            PortError::Conflict => AuditLogError::Conflict,
            PortError::Unavailable { .. } => AuditLogError::Unavailable(Box::new(e)),
            _ => AuditLogError::Storage(Box::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32) -> StoreError {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            Some("UNIQUE constraint failed: t.c".into()),
        ))
    }

    #[test]
    fn busy_and_io_failures_are_retryable_and_corruption_is_an_integrity_failure() {
        assert!(sqlite(rusqlite::ffi::SQLITE_BUSY).is_retryable());
        assert!(sqlite(rusqlite::ffi::SQLITE_IOERR).is_retryable());
        assert_eq!(
            PortError::from(sqlite(rusqlite::ffi::SQLITE_CORRUPT)),
            PortError::Integrity
        );
        assert!(!sqlite(rusqlite::ffi::SQLITE_CONSTRAINT).is_retryable());
        assert!(StoreError::Conflict.is_retryable());
        assert!(!StoreError::Integrity.is_retryable());
    }

    #[test]
    fn audit_errors_keep_the_conflict_and_the_retry_class() {
        assert!(matches!(
            AuditLogError::from(StoreError::Conflict),
            AuditLogError::Conflict
        ));
        assert!(matches!(
            AuditLogError::from(sqlite(rusqlite::ffi::SQLITE_BUSY)),
            AuditLogError::Unavailable(_)
        ));
        assert!(matches!(
            AuditLogError::from(StoreError::Integrity),
            AuditLogError::Storage(_)
        ));
    }

    #[test]
    fn messages_are_lowercase_without_a_full_stop() {
        for e in [
            sqlite(rusqlite::ffi::SQLITE_BUSY),
            StoreError::InsecurePermissions {
                what: "master key file",
            },
            StoreError::Integrity,
            StoreError::MasterKeyRequired,
            StoreError::SchemaTooNew {
                found: 9,
                supported: 6,
            },
        ] {
            let m = e.to_string();
            assert!(m.starts_with(|c: char| c.is_lowercase()), "{m}");
            assert!(!m.ends_with('.'), "{m}");
        }
    }
}
