//! `EncryptedFileStore`: the [`DocumentStore`] port on the local filesystem, encrypted at rest,
//! with an index of objects in SQLite and a write protocol that survives a crash at any point.
//!
//! # Write protocol
//!
//! An object is *visible* (returned by `get`, counted by `delete_all`) exactly when a row of the
//! `objects` table names its file. A `put`:
//!
//! 1. seals the bytes in an envelope ([`crypto`](super::crypto); the full object key is the
//!    context, so files cannot be swapped between keys);
//! 2. writes them to a fresh temporary file `objects/<random>.tmp` and fsyncs it;
//! 3. renames it to a fresh, never reused name `objects/<random>.obj` and fsyncs the directory;
//! 4. in one SQLite transaction, points the key's row at the new file (the row is created or
//!    replaced) and reads the name of the file it replaced;
//! 5. removes the replaced file.
//!
//! A crash before step 4 commits leaves the old object visible (or none) and an unreferenced
//! file; a crash after it leaves the new object visible and, at worst, the replaced file
//! unreferenced. Because the file is durable before the row that names it, no row ever names a
//! missing or partial file. `delete` removes the row first and the file second, with the same
//! effect. [`EncryptedFileStore::recover`], run at start-up, removes the debris: temporary
//! files and unreferenced objects (and, should a file have been removed behind the store's
//! back, the row naming it, which it reports).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use kyc_core::model::{Timestamp, VerificationId};
use kyc_core::ports::{Clock, DocumentStore, ObjectKey, PortError};
use rusqlite::{params, OptionalExtension as _};

use super::crypto::{open, random_hex, seal};
use super::fs::{self as sfs, TEMP_SUFFIX};
use super::{Database, MasterKey, StoreError};

const OBJECT_SUFFIX: &str = ".obj";
/// The largest object accepted (document photos and frames are far smaller).
pub const MAX_OBJECT_LEN: usize = 64 * 1024 * 1024;

/// What [`EncryptedFileStore::recover`] cleaned up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Temporary files of interrupted writes, removed.
    pub temp_files: usize,
    /// Object files no row names (interrupted writes, replaced or deleted objects), removed.
    pub orphan_objects: usize,
    /// Rows whose file was missing (removed outside the store), removed; not expected from
    /// the store's own crashes, so worth a warning.
    pub records_without_object: usize,
}

/// The steps of a write where a test can simulate a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    TempWritten,
    Renamed,
    Recorded,
    Unrecorded,
}

/// The encrypted object store. See the module docs for the file format and the protocol.
///
/// One process owns an object directory: [`recover`](Self::recover) assumes no other process
/// writes to it. Within the process, `recover` waits for running writes and holds new ones
/// back while it runs.
///
/// The port methods block inside their futures (see [`Database`]); the `*_blocking` methods are
/// the same operations for synchronous callers.
#[derive(Clone)]
pub struct EncryptedFileStore {
    db: Database,
    key: MasterKey,
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    gate: Arc<RwLock<()>>,
    #[cfg(test)]
    crash_at: Arc<std::sync::Mutex<Option<Step>>>,
}

impl std::fmt::Debug for EncryptedFileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedFileStore")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl EncryptedFileStore {
    /// A store keeping its files in `dir` (created owner-only if missing), its index in `db`,
    /// sealing with `key`, and dating objects with `clock` (for
    /// [`purge_older_than`](Self::purge_older_than)). Call [`recover`](Self::recover) once
    /// before serving.
    pub fn open(
        dir: &Path,
        db: Database,
        key: MasterKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        sfs::ensure_private_dir(dir)?;
        Ok(Self {
            db,
            key,
            dir: dir.to_path_buf(),
            clock,
            gate: Arc::new(RwLock::new(())),
            #[cfg(test)]
            crash_at: Arc::default(),
        })
    }

    /// [`DocumentStore::put`], blocking.
    pub fn put_blocking(
        &self,
        key: &ObjectKey,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<(), StoreError> {
        if bytes.len() > MAX_OBJECT_LEN {
            return Err(StoreError::Invalid {
                what: "object size",
            });
        }
        let verification = verification_of(key)?;
        let full = key.full();
        let sealed = seal(&self.key, &context(&full), bytes)?;
        let stored_len = i64::try_from(sealed.len()).map_err(|_| StoreError::Invalid {
            what: "object size",
        })?;
        let _writing = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        let temp = sfs::write_temp(&self.dir, &sealed)?;
        self.crash_point(Step::TempWritten)?;
        let name = format!("{}{OBJECT_SUFFIX}", random_hex(16)?);
        let path = self.dir.join(&name);
        if let Err(e) = std::fs::rename(&temp, &path) {
            let _ = std::fs::remove_file(&temp);
            return Err(StoreError::io("rename object file")(e));
        }
        let recorded = sfs::sync_dir(&self.dir)
            .and_then(|()| self.crash_point(Step::Renamed))
            .and_then(|()| {
                self.db.write(|tx| {
                    let old: Option<String> = tx
                        .prepare_cached("SELECT file_name FROM objects WHERE object_key = ?1")?
                        .query_row([&full], |r| r.get(0))
                        .optional()?;
                    tx.prepare_cached(
                        "INSERT INTO objects
                           (object_key, verification_id, file_name, content_type, stored_len, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (object_key) DO UPDATE SET
                           file_name = excluded.file_name, content_type = excluded.content_type,
                           stored_len = excluded.stored_len, created_at = excluded.created_at",
                    )?
                    .execute(params![
                        full,
                        verification.as_str(),
                        name,
                        content_type,
                        stored_len,
                        self.clock.now().millis(),
                    ])?;
                    Ok(old)
                })
            });
        let old = match recorded {
            Ok(old) => old,
            Err(e) => {
                // Remove the new file only if the row certainly does not name it (a failed
                // commit may still have committed); otherwise `recover` removes it later.
                if !self.is_crash(&e) && self.file_of(&full).is_ok_and(|f| f != Some(name)) {
                    let _ = std::fs::remove_file(&path);
                }
                return Err(e);
            }
        };
        self.crash_point(Step::Recorded)?;
        if let Some(old) = old {
            // The new object is visible now, so the put has succeeded: a replaced file that
            // cannot be removed is left for `recover`, never reported as a failed put.
            let _ = sfs::remove_if_exists(&self.dir.join(old));
        }
        Ok(())
    }

    /// [`DocumentStore::get`], blocking.
    pub fn get_blocking(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, StoreError> {
        let full = key.full();
        let mut last_seen: Option<String> = None;
        // A concurrent overwrite or delete may remove the file between reading the row and the
        // file; a second look at the row tells that apart from a missing file.
        for _ in 0..3 {
            let row: Option<(String, i64)> = self.db.with(|c| {
                Ok(c.prepare_cached(
                    "SELECT file_name, stored_len FROM objects WHERE object_key = ?1",
                )?
                .query_row([&full], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
            })?;
            let Some((name, stored_len)) = row else {
                return Ok(None);
            };
            if last_seen.as_deref() == Some(name.as_str()) {
                return Err(StoreError::Integrity);
            }
            let len = u64::try_from(stored_len).map_err(|_| StoreError::Integrity)?;
            match sfs::read_bounded(&self.dir.join(&name), len)? {
                Some(sealed) if sealed.len() as u64 == len => {
                    return open(&self.key, &context(&full), &sealed).map(Some);
                }
                Some(_) => return Err(StoreError::Integrity),
                None => last_seen = Some(name),
            }
        }
        Err(StoreError::Integrity)
    }

    /// The content type the object was stored with, if it exists.
    pub fn content_type(&self, key: &ObjectKey) -> Result<Option<String>, StoreError> {
        self.db.with(|c| {
            Ok(
                c.prepare_cached("SELECT content_type FROM objects WHERE object_key = ?1")?
                    .query_row([key.full()], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    /// [`DocumentStore::delete`], blocking.
    pub fn delete_blocking(&self, key: &ObjectKey) -> Result<(), StoreError> {
        let _writing = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        let names = self.db.write(|tx| {
            let name: Option<String> = tx
                .prepare_cached("DELETE FROM objects WHERE object_key = ?1 RETURNING file_name")?
                .query_row([key.full()], |r| r.get(0))
                .optional()?;
            Ok(name.into_iter().collect::<Vec<_>>())
        })?;
        self.remove_files(&names)?;
        Ok(())
    }

    /// [`DocumentStore::delete_all`], blocking.
    pub fn delete_all_blocking(&self, id: &VerificationId) -> Result<usize, StoreError> {
        self.delete_where("verification_id = ?1", id.as_str())
    }

    /// Deletes every object stored before `cutoff` (retention of images and frames); returns
    /// how many.
    pub fn purge_older_than(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        self.delete_where("created_at < ?1", cutoff.millis())
    }

    fn delete_where(
        &self,
        condition: &str,
        arg: impl rusqlite::ToSql,
    ) -> Result<usize, StoreError> {
        let _writing = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        let names = self.db.write(|tx| {
            let mut st = tx.prepare_cached(&format!(
                "DELETE FROM objects WHERE {condition} RETURNING file_name"
            ))?;
            let rows = st.query_map([&arg], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })?;
        self.remove_files(&names)?;
        Ok(names.len())
    }

    /// Removes the files of rows already deleted. The objects are gone once the rows are, so
    /// a file that cannot be removed now is left for `recover` rather than reported.
    fn remove_files(&self, names: &[String]) -> Result<(), StoreError> {
        self.crash_point(Step::Unrecorded)?;
        for name in names {
            let _ = sfs::remove_if_exists(&self.dir.join(name));
        }
        Ok(())
    }

    fn file_of(&self, full_key: &str) -> Result<Option<String>, StoreError> {
        self.db.with(|c| {
            Ok(
                c.prepare_cached("SELECT file_name FROM objects WHERE object_key = ?1")?
                    .query_row([full_key], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    /// Removes what interrupted writes and deletes left behind (see the module docs). Run it
    /// at start-up, and periodically if you like (files that could not be removed at the time
    /// also wait for it); it is idempotent, waits for writes in progress in this process and
    /// holds new ones back while it runs.
    pub fn recover(&self) -> Result<Recovered, StoreError> {
        let _exclusive = self.gate.write().unwrap_or_else(PoisonError::into_inner);
        let mut report = Recovered::default();
        let referenced: HashSet<String> = self.db.with(|c| {
            let mut st = c.prepare_cached("SELECT file_name FROM objects")?;
            let rows = st.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })?;
        let mut present = HashSet::new();
        let entries = std::fs::read_dir(&self.dir).map_err(StoreError::io("list objects"))?;
        for entry in entries {
            let entry = entry.map_err(StoreError::io("list objects"))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.ends_with(TEMP_SUFFIX) {
                report.temp_files += usize::from(sfs::remove_if_exists(&entry.path())?);
            } else if name.ends_with(OBJECT_SUFFIX) {
                if referenced.contains(&name) {
                    present.insert(name);
                } else {
                    report.orphan_objects += usize::from(sfs::remove_if_exists(&entry.path())?);
                }
            }
        }
        let missing: Vec<&String> = referenced.difference(&present).collect();
        if !missing.is_empty() {
            report.records_without_object = self.db.write(|tx| {
                let mut st = tx.prepare_cached("DELETE FROM objects WHERE file_name = ?1")?;
                let mut n = 0;
                for name in &missing {
                    n += st.execute([name])?;
                }
                Ok(n)
            })?;
        }
        sfs::sync_dir(&self.dir)?;
        Ok(report)
    }

    #[cfg(not(test))]
    #[inline]
    fn crash_point(&self, _step: Step) -> Result<(), StoreError> {
        Ok(())
    }

    #[cfg(not(test))]
    #[inline]
    fn is_crash(&self, _e: &StoreError) -> bool {
        false
    }

    #[cfg(test)]
    fn crash_point(&self, step: Step) -> Result<(), StoreError> {
        let mut at = self.crash_at.lock().unwrap_or_else(PoisonError::into_inner);
        if *at == Some(step) {
            *at = None;
            return Err(simulated_crash());
        }
        Ok(())
    }

    #[cfg(test)]
    fn is_crash(&self, e: &StoreError) -> bool {
        matches!(e, StoreError::Io { what: CRASH, .. })
    }

    /// Makes the next write that reaches `step` stop there as if the process had died: no
    /// clean-up of any kind runs.
    #[cfg(test)]
    fn crash_next_at(&self, step: Step) {
        *self.crash_at.lock().unwrap_or_else(PoisonError::into_inner) = Some(step);
    }
}

#[cfg(test)]
const CRASH: &str = "simulated crash";

#[cfg(test)]
fn simulated_crash() -> StoreError {
    StoreError::Io {
        what: CRASH,
        source: std::io::Error::other("simulated crash"),
    }
}

/// The verification an object belongs to: every [`ObjectKey`] path starts with its id.
fn verification_of(key: &ObjectKey) -> Result<VerificationId, StoreError> {
    key.path()
        .get(..36)
        .and_then(|s| VerificationId::parse(s).ok())
        .ok_or(StoreError::Invalid { what: "object key" })
}

fn context(full_key: &str) -> Vec<u8> {
    format!("kyc-local/object/v1\0{full_key}").into_bytes()
}

impl DocumentStore for EncryptedFileStore {
    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), PortError> {
        Ok(self.put_blocking(key, &bytes, content_type)?)
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, PortError> {
        Ok(self.get_blocking(key)?)
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), PortError> {
        Ok(self.delete_blocking(key)?)
    }

    async fn delete_all(&self, id: &VerificationId) -> Result<usize, PortError> {
        Ok(self.delete_all_blocking(id)?)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::storage::crypto::OVERHEAD;
    use crate::storage::test_support::block_on;
    use kyc_core::ports::fakes::FakeClock;
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    struct Fixture {
        dir: tempfile::TempDir,
        clock: Arc<FakeClock>,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                dir: tempfile::tempdir().unwrap(),
                clock: Arc::new(FakeClock::at(T0)),
            }
        }

        /// Opens the store as a freshly started process would.
        fn open(&self) -> EncryptedFileStore {
            let db = Database::open(&self.dir.path().join("kyc.sqlite3")).unwrap();
            EncryptedFileStore::open(
                &self.dir.path().join("objects"),
                db,
                MasterKey::from_bytes([7; 32]),
                self.clock.clone(),
            )
            .unwrap()
        }

        fn files(&self) -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(self.dir.path().join("objects"))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            v
        }
    }

    fn id(b: u8) -> VerificationId {
        VerificationId::from_random_bytes([b; 16])
    }

    /// Every row names a file that exists, and every file is named by a row.
    fn assert_consistent(store: &EncryptedFileStore, fx: &Fixture) {
        let mut rows: Vec<String> = store
            .db
            .with(|c| {
                let mut st = c.prepare("SELECT file_name FROM objects")?;
                let r = st.query_map([], |r| r.get(0))?;
                Ok(r.collect::<Result<_, _>>()?)
            })
            .unwrap();
        rows.sort();
        assert_eq!(rows, fx.files());
    }

    #[test]
    fn an_object_round_trips_and_is_not_stored_in_clear() {
        let fx = Fixture::new();
        let store = fx.open();
        let key = ObjectKey::id_upload(&id(1));
        let secret = b"\xFF\xD8 JPEG bytes with a face".to_vec();
        block_on(store.put(&key, secret.clone(), "image/jpeg")).unwrap();
        assert_eq!(block_on(store.get(&key)), Ok(Some(secret.clone())));
        assert_eq!(
            store.content_type(&key).unwrap().as_deref(),
            Some("image/jpeg")
        );
        let files = fx.files();
        assert_eq!(files.len(), 1);
        let raw = std::fs::read(fx.dir.path().join("objects").join(&files[0])).unwrap();
        assert_eq!(raw.len(), secret.len() + OVERHEAD);
        assert!(!raw.windows(4).any(|w| w == b"JPEG"));
    }

    #[test]
    fn an_overwrite_replaces_the_object_and_its_file() {
        let fx = Fixture::new();
        let store = fx.open();
        let key = ObjectKey::ocr_raw(&id(1));
        block_on(store.put(&key, b"first".to_vec(), "application/json")).unwrap();
        block_on(store.put(&key, b"second".to_vec(), "application/json")).unwrap();
        assert_eq!(block_on(store.get(&key)), Ok(Some(b"second".to_vec())));
        assert_eq!(fx.files().len(), 1);
    }

    #[test]
    fn a_tampered_ciphertext_is_refused() {
        let fx = Fixture::new();
        let store = fx.open();
        let key = ObjectKey::id_upload(&id(2));
        block_on(store.put(&key, vec![0x42; 100], "image/jpeg")).unwrap();
        let path = fx.dir.path().join("objects").join(&fx.files()[0]);
        let mut raw = std::fs::read(&path).unwrap();
        let last = raw.len() - 20;
        raw[last] ^= 1;
        std::fs::write(&path, &raw).unwrap();
        assert_eq!(block_on(store.get(&key)), Err(PortError::Integrity));
        raw.truncate(raw.len() - 1);
        std::fs::write(&path, &raw).unwrap();
        assert_eq!(block_on(store.get(&key)), Err(PortError::Integrity));
    }

    #[test]
    fn ciphertexts_swapped_between_keys_are_refused() {
        let fx = Fixture::new();
        let store = fx.open();
        let (a, b) = (ObjectKey::id_upload(&id(3)), ObjectKey::id_upload(&id(4)));
        block_on(store.put(&a, b"same length A".to_vec(), "image/jpeg")).unwrap();
        block_on(store.put(&b, b"same length B".to_vec(), "image/jpeg")).unwrap();
        store
            .db
            .with(|c| {
                c.execute_batch(
                    "UPDATE objects SET file_name = 'x' || file_name;
                     UPDATE objects SET file_name = (SELECT substr(o.file_name, 2) FROM objects o
                       WHERE o.object_key != objects.object_key);",
                )?;
                Ok(())
            })
            .unwrap();
        assert_eq!(block_on(store.get(&a)), Err(PortError::Integrity));
        assert_eq!(block_on(store.get(&b)), Err(PortError::Integrity));
    }

    #[test]
    fn delete_all_removes_every_kind_of_one_verification_only_and_is_idempotent() {
        let fx = Fixture::new();
        let store = fx.open();
        let (v, other) = (id(5), id(6));
        let keys = [
            ObjectKey::id_upload(&v),
            ObjectKey::ocr_raw(&v),
            ObjectKey::live_frame(&v, "f1").unwrap(),
            ObjectKey::live_frame(&v, "f2").unwrap(),
        ];
        for k in &keys {
            block_on(store.put(k, b"x".to_vec(), "image/jpeg")).unwrap();
        }
        let kept = ObjectKey::id_upload(&other);
        block_on(store.put(&kept, b"y".to_vec(), "image/jpeg")).unwrap();
        assert_eq!(block_on(store.delete_all(&v)), Ok(4));
        assert_eq!(block_on(store.delete_all(&v)), Ok(0));
        for k in &keys {
            assert_eq!(block_on(store.get(k)), Ok(None));
        }
        assert_eq!(block_on(store.get(&kept)), Ok(Some(b"y".to_vec())));
        assert_eq!(fx.files().len(), 1);
        block_on(store.delete(&kept)).unwrap();
        block_on(store.delete(&kept)).unwrap();
        assert!(fx.files().is_empty());
    }

    #[test]
    fn objects_older_than_the_cutoff_are_purged() {
        let fx = Fixture::new();
        let store = fx.open();
        let (old, new) = (ObjectKey::id_upload(&id(7)), ObjectKey::id_upload(&id(8)));
        block_on(store.put(&old, b"old".to_vec(), "image/jpeg")).unwrap();
        fx.clock.advance_millis(10_000);
        block_on(store.put(&new, b"new".to_vec(), "image/jpeg")).unwrap();
        assert_eq!(store.purge_older_than(T0.plus_millis(10_000)).unwrap(), 1);
        assert_eq!(block_on(store.get(&old)), Ok(None));
        assert_eq!(block_on(store.get(&new)), Ok(Some(b"new".to_vec())));
    }

    /// A crash at each step of a put, on a new key and over an existing object: what is visible
    /// after the restart is the old object or the new one (never a partial one, never a
    /// failure), and after `recover` every row has its file and every file its row.
    #[test]
    fn a_crash_at_any_step_of_a_put_leaves_no_visible_orphan_and_no_record_without_its_object() {
        for step in [Step::TempWritten, Step::Renamed, Step::Recorded] {
            for overwrite in [false, true] {
                let fx = Fixture::new();
                let key = ObjectKey::id_upload(&id(9));
                let before = {
                    let store = fx.open();
                    if overwrite {
                        store.put_blocking(&key, b"old", "image/jpeg").unwrap();
                    }
                    store.crash_next_at(step);
                    let crashed = store.put_blocking(&key, b"new", "image/jpeg");
                    assert!(store.is_crash(&crashed.unwrap_err()), "{step:?}");
                    fx.files()
                };
                let store = fx.open();
                let expected: Option<&[u8]> = match (step, overwrite) {
                    (Step::Recorded, _) => Some(b"new"),
                    (_, true) => Some(b"old"),
                    (_, false) => None,
                };
                let seen = store.get_blocking(&key).unwrap();
                assert_eq!(seen.as_deref(), expected, "{step:?} overwrite={overwrite}");
                assert_eq!(before.len(), 1 + usize::from(overwrite), "{step:?}");
                let report = store.recover().unwrap();
                assert_eq!(
                    report.temp_files + report.orphan_objects,
                    usize::from(step != Step::Recorded || overwrite),
                    "{step:?} overwrite={overwrite}"
                );
                assert_eq!(report.records_without_object, 0);
                assert_consistent(&store, &fx);
                assert_eq!(store.get_blocking(&key).unwrap().as_deref(), expected);
                assert!(fx.files().iter().all(|f| f.ends_with(OBJECT_SUFFIX)));
            }
        }
    }

    #[test]
    fn a_crash_between_unrecording_and_removing_the_file_leaves_an_invisible_orphan() {
        let fx = Fixture::new();
        let key = ObjectKey::id_upload(&id(10));
        {
            let store = fx.open();
            store.put_blocking(&key, b"bytes", "image/jpeg").unwrap();
            store.crash_next_at(Step::Unrecorded);
            assert!(store.delete_blocking(&key).is_err());
        }
        let store = fx.open();
        assert_eq!(store.get_blocking(&key).unwrap(), None);
        assert_eq!(store.delete_all_blocking(&id(10)).unwrap(), 0);
        assert_eq!(fx.files().len(), 1);
        assert_eq!(store.recover().unwrap().orphan_objects, 1);
        assert!(fx.files().is_empty());
    }

    #[test]
    fn recover_drops_a_record_whose_file_was_removed_behind_the_stores_back() {
        let fx = Fixture::new();
        let store = fx.open();
        let key = ObjectKey::id_upload(&id(11));
        store.put_blocking(&key, b"bytes", "image/jpeg").unwrap();
        std::fs::remove_file(fx.dir.path().join("objects").join(&fx.files()[0])).unwrap();
        assert!(matches!(
            store.get_blocking(&key),
            Err(StoreError::Integrity)
        ));
        let report = store.recover().unwrap();
        assert_eq!(report.records_without_object, 1);
        assert_eq!(store.get_blocking(&key).unwrap(), None);
        assert_eq!(store.recover().unwrap(), Recovered::default());
    }

    #[test]
    fn concurrent_puts_and_gets_of_one_key_never_see_a_partial_or_failing_object() {
        let fx = Fixture::new();
        let store = fx.open();
        let key = ObjectKey::id_upload(&id(12));
        store.put_blocking(&key, &[0; 64], "image/jpeg").unwrap();
        std::thread::scope(|s| {
            for w in 1..=3u8 {
                let (store, key) = (store.clone(), key.clone());
                s.spawn(move || {
                    for _ in 0..10 {
                        store.put_blocking(&key, &[w; 64], "image/jpeg").unwrap();
                    }
                });
            }
            let (store, key) = (store.clone(), key.clone());
            s.spawn(move || {
                for _ in 0..40 {
                    let got = store.get_blocking(&key).unwrap().unwrap();
                    assert!(got.iter().all(|&b| b == got[0]) && got.len() == 64);
                }
            });
        });
        assert_eq!(fx.files().len(), 1);
        assert_consistent(&store, &fx);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Put {
            key: u8,
            value: u8,
            crash: Option<u8>,
        },
        Delete {
            key: u8,
            crash: bool,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u8..3, any::<u8>(), prop::option::of(0u8..3))
                .prop_map(|(key, value, crash)| Op::Put { key, value, crash }),
            1 => (0u8..3, any::<bool>()).prop_map(|(key, crash)| Op::Delete { key, crash }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Random puts and deletes with crashes (each followed by a restart and `recover`)
        /// keep the store equal to a model in which a put is visible once recorded.
        #[test]
        fn random_operations_with_crashes_match_the_model(ops in prop::collection::vec(op(), 1..10)) {
            let fx = Fixture::new();
            let keys: Vec<ObjectKey> = (0..3).map(|k| ObjectKey::id_upload(&id(k))).collect();
            let mut model: HashMap<u8, u8> = HashMap::new();
            let mut store = fx.open();
            for op in ops {
                let crashed = match op {
                    Op::Put { key, value, crash } => {
                        let step = crash.map(|c| [Step::TempWritten, Step::Renamed, Step::Recorded][usize::from(c)]);
                        if let Some(s) = step { store.crash_next_at(s); }
                        let r = store.put_blocking(&keys[usize::from(key)], &[value; 8], "image/jpeg");
                        if r.is_ok() || step == Some(Step::Recorded) { model.insert(key, value); }
                        step.is_some()
                    }
                    Op::Delete { key, crash } => {
                        if crash { store.crash_next_at(Step::Unrecorded); }
                        let _ = store.delete_blocking(&keys[usize::from(key)]);
                        model.remove(&key);
                        crash
                    }
                };
                if crashed {
                    store = fx.open();
                    store.recover().unwrap();
                    assert_consistent(&store, &fx);
                }
                for (k, key) in keys.iter().enumerate() {
                    let want = model.get(&(k as u8)).map(|v| vec![*v; 8]);
                    prop_assert_eq!(store.get_blocking(key).unwrap(), want);
                }
            }
        }
    }
}
