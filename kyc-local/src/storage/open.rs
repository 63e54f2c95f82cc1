//! [`LocalStores`]: every local store of one data directory, opened together the way a server
//! starts: master key loaded (or created), database migrated with it, object debris recovered,
//! signing keys loaded (or created) and retired ones pruned.

use std::sync::Arc;

use kyc_core::ports::Clock;

use super::{
    DataDir, Database, Durability, EncryptedFileStore, MasterKey, Recovered, SqliteAuditLog,
    SqliteOcrData, SqliteSessionStore, SqliteTaskStore, StoreError,
};
use crate::events::SqliteEventPublisher;
use crate::signing::LocalKeyRing;

/// The local adapters of one data directory, with default retentions.
///
/// ```
/// use std::sync::Arc;
/// use kyc_core::model::{Timestamp, VerificationId};
/// use kyc_core::ports::{fakes::FakeClock, ObjectKey};
/// use kyc_local::storage::{DataDir, LocalStores};
///
/// let dir = tempfile::tempdir()?;
/// let clock = Arc::new(FakeClock::at(Timestamp::from_secs(1_779_341_048)));
/// let stores = LocalStores::open(&DataDir::new(dir.path()), clock)?;
/// let key = ObjectKey::id_upload(&VerificationId::from_random_bytes([1; 16]));
/// stores.objects.put_blocking(&key, b"jpeg bytes", "image/jpeg")?;
/// assert_eq!(stores.objects.get_blocking(&key)?.as_deref(), Some(&b"jpeg bytes"[..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct LocalStores {
    /// The database they share (for [`Database::purge_expired`]).
    pub db: Database,
    /// Sessions ([`SessionStore`](kyc_core::ports::SessionStore)).
    pub sessions: SqliteSessionStore,
    /// The audit log ([`AuditLog`](kyc_core::audit::AuditLog)).
    pub audit: SqliteAuditLog,
    /// OCR data.
    pub ocr: SqliteOcrData,
    /// SecureTask tasks.
    pub tasks: SqliteTaskStore,
    /// Document images, frames and raw OCR output
    /// ([`DocumentStore`](kyc_core::ports::DocumentStore)).
    pub objects: EncryptedFileStore,
    /// Domain events ([`EventPublisher`](kyc_core::ports::EventPublisher)).
    pub events: SqliteEventPublisher,
    /// The token signing keys ([`TokenSigner`](kyc_core::token::TokenSigner) through
    /// [`LocalKeyRing::signer`], [`TokenVerifier`](kyc_core::token::TokenVerifier), JWKS).
    pub keys: LocalKeyRing,
    /// What the start-up recovery of the object store cleaned up (worth a log line).
    pub recovered: Recovered,
}

impl LocalStores {
    /// Opens (creating on first use) every store of `dir`. Blocking.
    pub fn open(dir: &DataDir, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        Self::open_with(dir, clock, Durability::Full)
    }

    /// [`open`](Self::open) with the given database durability.
    pub fn open_with(
        dir: &DataDir,
        clock: Arc<dyn Clock>,
        durability: Durability,
    ) -> Result<Self, StoreError> {
        // The key first: migrating a database from before sessions were sealed needs it.
        let key = MasterKey::load_or_create(&dir.master_key())?;
        let db = Database::open_with_key(&dir.database(), durability, &key)?;
        let objects =
            EncryptedFileStore::open(&dir.objects(), db.clone(), key.clone(), clock.clone())?;
        let recovered = objects.recover()?;
        let keys = LocalKeyRing::open(&dir.signing_keys(), clock.now())?;
        Ok(Self {
            sessions: SqliteSessionStore::new(db.clone(), key.clone()),
            audit: SqliteAuditLog::new(db.clone(), key.clone()),
            ocr: SqliteOcrData::new(db.clone(), key),
            tasks: SqliteTaskStore::new(db.clone()),
            events: SqliteEventPublisher::new(db.clone(), clock),
            objects,
            keys,
            recovered,
            db,
        })
    }
}
