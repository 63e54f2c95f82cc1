//! The embedded platform of `kyc serve` and `kyc verify`: kyc-local's adapters (SQLite, the
//! encrypted file store, dlib, Tesseract, the local key ring, the outbox) and the built-in
//! sanctions index, with every blocking engine call moved off the async runtime's threads.
//!
//! The local engines do their work when their port futures are polled; [`Offload`] polls them
//! on tokio's blocking pool instead, so a 200 ms face analysis never stalls the threads that
//! accept connections.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use anyhow::Context as _;
use kyc_core::audit::{AuditEvent, AuditLog, AuditLogError, EventDraft};
use kyc_core::model::{Image, Timestamp, VerificationId};
use kyc_core::ports::{
    Clock, DocumentReader, DocumentReading, DocumentStore, DomainEvent, EventPublisher,
    FaceAnalysis, FaceAnalyzer, FaceComparer, FaceComparison, FaceError, ObjectKey, PortError,
    RandomSource, ReadError, SessionStore, Version,
};
use kyc_core::sanctions::{
    SanctionsIndex, SanctionsScreener, ScreenOptions, ScreeningError, ScreeningQuery,
    ScreeningResult,
};
use kyc_core::session::{Session, StateName};
use kyc_core::token::Jwks;
use kyc_local::events::SqliteEventPublisher;
use kyc_local::face::DlibFaceEngine;
use kyc_local::ocr::{ReaderConfig, TesseractDocumentReader};
use kyc_local::signing::{LocalKeyRing, LocalTokenSigner};
use kyc_local::storage::{
    DataDir, EncryptedFileStore, LocalStores, OsRandom, SqliteAuditLog, SqliteOcrData,
    SqliteSessionStore,
};

use crate::service::{DocumentRecord, Platform, RecordStore};
use crate::system::SystemClock;

/// Runs a future that completes without waiting (the local adapters' futures do their work
/// when first polled) on the current thread.
fn run_now<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// A blocking adapter whose port futures run on tokio's blocking pool.
#[derive(Debug)]
pub struct Offload<T>(pub Arc<T>);

impl<T> Clone for Offload<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Send + Sync + 'static> Offload<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        Self(Arc::new(inner))
    }

    async fn run<R: Send + 'static>(&self, f: impl FnOnce(&T) -> R + Send + 'static, lost: R) -> R {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .unwrap_or(lost)
    }
}

fn worker_lost() -> PortError {
    PortError::Unavailable { backend: "worker" }
}

impl<T: DocumentStore + 'static> DocumentStore for Offload<T> {
    fn put(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> impl Future<Output = Result<(), PortError>> + Send {
        let key = key.clone();
        self.run(
            move |s| run_now(s.put(&key, bytes, content_type)),
            Err(worker_lost()),
        )
    }
    fn get(
        &self,
        key: &ObjectKey,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, PortError>> + Send {
        let key = key.clone();
        self.run(move |s| run_now(s.get(&key)), Err(worker_lost()))
    }
    fn delete(&self, key: &ObjectKey) -> impl Future<Output = Result<(), PortError>> + Send {
        let key = key.clone();
        self.run(move |s| run_now(s.delete(&key)), Err(worker_lost()))
    }
    fn delete_all(
        &self,
        id: &VerificationId,
    ) -> impl Future<Output = Result<usize, PortError>> + Send {
        let id = *id;
        self.run(move |s| run_now(s.delete_all(&id)), Err(worker_lost()))
    }
}

impl<T: SessionStore + 'static> SessionStore for Offload<T> {
    fn load(
        &self,
        id: &VerificationId,
    ) -> impl Future<Output = Result<Option<(Session, Version)>, PortError>> + Send {
        let id = *id;
        self.run(move |s| run_now(s.load(&id)), Err(worker_lost()))
    }
    fn save(
        &self,
        session: &Session,
        expected: Option<Version>,
    ) -> impl Future<Output = Result<Version, PortError>> + Send {
        let session = session.clone();
        self.run(
            move |s| run_now(s.save(&session, expected)),
            Err(worker_lost()),
        )
    }
    fn delete(&self, id: &VerificationId) -> impl Future<Output = Result<(), PortError>> + Send {
        let id = *id;
        self.run(move |s| run_now(s.delete(&id)), Err(worker_lost()))
    }
}

fn audit_lost() -> AuditLogError {
    AuditLogError::Unavailable("worker lost".into())
}

impl<T: AuditLog + 'static> AuditLog for Offload<T> {
    fn append(
        &self,
        draft: EventDraft,
    ) -> impl Future<Output = Result<AuditEvent, AuditLogError>> + Send {
        let inner = self.0.clone();
        async move {
            tokio::task::spawn_blocking(move || run_now(inner.append(draft)))
                .await
                .unwrap_or_else(|_| Err(audit_lost()))
        }
    }
    fn read(
        &self,
        verification_id: VerificationId,
    ) -> impl Future<Output = Result<Vec<AuditEvent>, AuditLogError>> + Send {
        let inner = self.0.clone();
        async move {
            tokio::task::spawn_blocking(move || run_now(inner.read(verification_id)))
                .await
                .unwrap_or_else(|_| Err(audit_lost()))
        }
    }
    fn redact(
        &self,
        verification_id: VerificationId,
    ) -> impl Future<Output = Result<usize, AuditLogError>> + Send {
        let inner = self.0.clone();
        async move {
            tokio::task::spawn_blocking(move || run_now(inner.redact(verification_id)))
                .await
                .unwrap_or_else(|_| Err(audit_lost()))
        }
    }
}

impl<T: DocumentReader + 'static> DocumentReader for Offload<T> {
    fn read(
        &self,
        image: &Image,
    ) -> impl Future<Output = Result<DocumentReading, ReadError>> + Send {
        let image = image.clone();
        self.run(
            move |s| run_now(s.read(&image)),
            Err(ReadError::Backend(worker_lost())),
        )
    }
}

impl<T: FaceAnalyzer + 'static> FaceAnalyzer for Offload<T> {
    fn analyze(
        &self,
        image: &Image,
    ) -> impl Future<Output = Result<FaceAnalysis, FaceError>> + Send {
        let image = image.clone();
        self.run(
            move |s| run_now(s.analyze(&image)),
            Err(FaceError::Backend(worker_lost())),
        )
    }
}

impl<T: FaceComparer + 'static> FaceComparer for Offload<T> {
    fn compare(
        &self,
        reference: &Image,
        probe: &Image,
    ) -> impl Future<Output = Result<FaceComparison, FaceError>> + Send {
        let (reference, probe) = (reference.clone(), probe.clone());
        self.run(
            move |s| run_now(s.compare(&reference, &probe)),
            Err(FaceError::Backend(worker_lost())),
        )
    }
}

impl<T: SanctionsScreener + 'static> SanctionsScreener for Offload<T> {
    fn screen(
        &self,
        query: &ScreeningQuery,
        opts: &ScreenOptions,
    ) -> impl Future<Output = Result<ScreeningResult, ScreeningError>> + Send {
        let (query, opts) = (query.clone(), *opts);
        self.run(
            move |s| run_now(s.screen(&query, &opts)),
            Err(ScreeningError::Unavailable),
        )
    }
}

impl<T: EventPublisher + 'static> EventPublisher for Offload<T> {
    fn publish(&self, event: &DomainEvent) -> impl Future<Output = Result<(), PortError>> + Send {
        let event = event.clone();
        self.run(move |s| run_now(s.publish(&event)), Err(worker_lost()))
    }
}

/// OCR records in SQLite, sealed with the data directory's master key.
#[derive(Debug, Clone)]
pub struct LocalRecords(pub SqliteOcrData);

impl RecordStore for LocalRecords {
    async fn put(
        &self,
        id: &VerificationId,
        record: &DocumentRecord,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), PortError> {
        self.0
            .put(id, record, now, expires_at)
            .map_err(PortError::from)
    }
    async fn get(
        &self,
        id: &VerificationId,
        now: Timestamp,
    ) -> Result<Option<DocumentRecord>, PortError> {
        self.0.get(id, now).map_err(PortError::from)
    }
    async fn delete(&self, id: &VerificationId) -> Result<(), PortError> {
        self.0.delete(id).map(|_| ()).map_err(PortError::from)
    }
}

impl<T: RecordStore + 'static> RecordStore for Offload<T> {
    fn put(
        &self,
        id: &VerificationId,
        record: &DocumentRecord,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<(), PortError>> + Send {
        let (id, record) = (*id, record.clone());
        self.run(
            move |s| run_now(s.put(&id, &record, now, expires_at)),
            Err(worker_lost()),
        )
    }
    fn get(
        &self,
        id: &VerificationId,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<DocumentRecord>, PortError>> + Send {
        let id = *id;
        self.run(move |s| run_now(s.get(&id, now)), Err(worker_lost()))
    }
    fn delete(&self, id: &VerificationId) -> impl Future<Output = Result<(), PortError>> + Send {
        let id = *id;
        self.run(move |s| run_now(s.delete(&id)), Err(worker_lost()))
    }
}

/// Where `kyc serve` finds its engines and lists.
#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    /// A directory of sanctions list files (searched recursively); `None` uses the default
    /// (`$KYC_SHARED_DATA/sanctions`, else `../shared/data/sanctions`).
    pub lists: Option<PathBuf>,
    /// How database commits wait for the disk.
    pub durability: kyc_local::storage::Durability,
}

/// Every embedded adapter.
pub struct LocalPlatform {
    objects: Offload<EncryptedFileStore>,
    sessions: Offload<SqliteSessionStore>,
    audit: Offload<SqliteAuditLog>,
    records: Offload<LocalRecords>,
    reader: Offload<TesseractDocumentReader>,
    faces: Offload<DlibFaceEngine>,
    screener: Offload<SanctionsIndex>,
    signer: LocalTokenSigner,
    events: Offload<SqliteEventPublisher>,
    keys: LocalKeyRing,
    clock: Arc<SystemClock>,
    random: OsRandom,
    idempotency_secret: [u8; 32],
    observes_eyes_and_smile: bool,
    /// The sanctions lists loaded: (list name, entities) for the startup log line.
    pub lists: Vec<(String, usize)>,
    db: kyc_local::storage::Database,
}

/// How long stored images and frames are kept: as long as their session
/// ([`SqliteSessionStore::DEFAULT_RETENTION`] after its deadline), so that a purged
/// verification leaves no image behind and a kept one has all of its images.
pub const IMAGE_RETENTION: std::time::Duration = SqliteSessionStore::DEFAULT_RETENTION;

/// What one retention pass removed (counts only: it is logged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retained {
    /// Sessions deleted.
    pub sessions: usize,
    /// Document records (the fields read) deleted.
    pub records: usize,
    /// Audit events whose personal part was redacted.
    pub audit_redacted: usize,
    /// Images and frames deleted.
    pub objects: usize,
}

impl std::fmt::Debug for LocalPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalPlatform").finish_non_exhaustive()
    }
}

impl LocalPlatform {
    /// Opens (creating on first use) the data directory and starts the engines. Blocking:
    /// loads the face and OCR models and indexes the sanctions lists.
    pub fn open(data_dir: &Path, options: &LocalOptions) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir).context("creating the data directory")?;
        let clock = Arc::new(SystemClock::default());
        let stores =
            LocalStores::open_with(&DataDir::new(data_dir), clock.clone(), options.durability)
                .context("opening the data directory")?;
        let faces = DlibFaceEngine::open_default()
            .context("the face engine cannot start (run `cargo xtask setup`)")?;
        let reader = TesseractDocumentReader::new(&ReaderConfig::from_env(), clock.clone())
            .context("the OCR engine cannot start (run `cargo xtask setup`)")?;
        let lists_dir = options
            .lists
            .clone()
            .or_else(crate::screening::lists::default_lists_dir)
            .context("no sanctions lists: pass --lists DIR (or set KYC_SHARED_DATA)")?;
        let indexed = crate::screening::lists::load_and_index(&lists_dir)
            .context("loading the sanctions lists")?;
        if indexed.lists.is_empty() {
            anyhow::bail!("no sanctions list file was recognised in the lists directory");
        }
        let lists = indexed
            .lists
            .iter()
            .map(|l| (l.list.to_string(), l.stats.entities))
            .collect();
        let idempotency_secret = load_or_create_secret(&data_dir.join("idempotency.key"))?;
        let signer = stores.keys.signer();
        let observes_eyes_and_smile = faces.has_68_landmarks();
        Ok(Self {
            observes_eyes_and_smile,
            db: stores.db.clone(),
            objects: Offload::new(stores.objects),
            sessions: Offload::new(stores.sessions),
            audit: Offload::new(stores.audit),
            records: Offload::new(LocalRecords(stores.ocr)),
            reader: Offload::new(reader),
            faces: Offload::new(faces),
            screener: Offload::new(indexed.index),
            signer,
            events: Offload::new(stores.events),
            keys: stores.keys,
            clock,
            random: OsRandom,
            idempotency_secret,
            lists,
        })
    }

    /// The secret that derives verification ids from idempotency keys.
    pub fn idempotency_secret(&self) -> [u8; 32] {
        self.idempotency_secret
    }

    /// The gestures the face engine can observe: blinks and smiles need the optional 68-point
    /// landmark model; head turns and nods need only the 5-point one.
    pub fn observable_gestures(&self) -> Vec<kyc_core::liveness::Gesture> {
        use kyc_core::liveness::Gesture;
        Gesture::ALL
            .into_iter()
            .filter(|g| {
                self.observes_eyes_and_smile || !matches!(g, Gesture::Blink | Gesture::Smile)
            })
            .collect()
    }

    /// Removes what has outlived its retention at `now`: sessions (their deadline plus the
    /// retention), document records past their expiry, the personal parts of audit events
    /// past theirs, and images and frames stored more than [`IMAGE_RETENTION`] ago. Blocking;
    /// `kyc serve` runs it at start-up and hourly.
    pub fn purge_expired(&self, now: Timestamp) -> anyhow::Result<Retained> {
        let purged = self
            .db
            .purge_expired(now)
            .context("purging expired records")?;
        let keep_ms = i64::try_from(IMAGE_RETENTION.as_millis()).unwrap_or(i64::MAX);
        let objects = self
            .objects
            .0
            .purge_older_than(now.plus_millis(keep_ms.saturating_neg()))
            .context("purging expired images")?;
        Ok(Retained {
            sessions: purged.sessions,
            records: purged.ocr_records,
            audit_redacted: purged.audit_events_redacted,
            objects,
        })
    }

    /// The current time of the platform's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Verifications whose document was uploaded but not read (work a restart interrupted).
    pub fn unread_documents(&self) -> Vec<VerificationId> {
        self.sessions
            .0
            .ids_in_state_blocking(StateName::DocumentUploaded)
            .unwrap_or_else(|e| {
                // The sweep runs again after the next missed document; say why this one found
                // nothing rather than look like an empty queue.
                tracing::warn!(error = %e, "listing unread documents failed");
                Vec::new()
            })
    }
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<[u8; 32]> {
    use std::io::Write as _;
    if let Ok(bytes) = std::fs::read(path) {
        return <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| anyhow::anyhow!("the idempotency key file is damaged"));
    }
    let mut secret = [0u8; 32];
    OsRandom.fill_bytes(&mut secret);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .context("creating the idempotency key file")?;
    f.write_all(&secret)?;
    f.sync_all()?;
    Ok(secret)
}

impl Platform for LocalPlatform {
    type Objects = Offload<EncryptedFileStore>;
    type Sessions = Offload<SqliteSessionStore>;
    type Audit = Offload<SqliteAuditLog>;
    type Records = Offload<LocalRecords>;
    type Reader = Offload<TesseractDocumentReader>;
    type Faces = Offload<DlibFaceEngine>;
    type Screener = Offload<SanctionsIndex>;
    type Signer = LocalTokenSigner;
    type Events = Offload<SqliteEventPublisher>;

    fn objects(&self) -> &Self::Objects {
        &self.objects
    }
    fn sessions(&self) -> &Self::Sessions {
        &self.sessions
    }
    fn audit(&self) -> &Self::Audit {
        &self.audit
    }
    fn records(&self) -> &Self::Records {
        &self.records
    }
    fn reader(&self) -> &Self::Reader {
        &self.reader
    }
    fn faces(&self) -> &Self::Faces {
        &self.faces
    }
    fn screener(&self) -> &Self::Screener {
        &self.screener
    }
    fn signer(&self) -> &Self::Signer {
        &self.signer
    }
    fn events(&self) -> &Self::Events {
        &self.events
    }
    fn clock(&self) -> &dyn Clock {
        &*self.clock
    }
    fn random(&self) -> &dyn RandomSource {
        &self.random
    }
    fn jwks(&self) -> impl Future<Output = Result<Jwks, PortError>> + Send {
        std::future::ready(Ok(self.keys.jwks(self.clock.now())))
    }
}
