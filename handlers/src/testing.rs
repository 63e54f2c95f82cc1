//! An in-memory [`Platform`] over kyc-core's fakes, for tests of anything built on the
//! [`Service`]: the Lambda handler functions, the router. Deterministic: a fake clock, seeded
//! randomness, a fixed document reading, a scripted face engine, a small sanctions list.
//!
//! Available to this crate's tests and, with the feature `test-util`, to other crates'.
//!
//! ```
//! use handlers::testing::TestPlatform;
//! let service = TestPlatform::new().into_service();
//! assert_eq!(service.platform().events.events().len(), 0);
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use kyc_core::audit::MemoryAuditLog;
use kyc_core::document::{normalise_pairs, KeyValue, NormaliseHints};
use kyc_core::model::{Timestamp, VerificationId};
use kyc_core::ports::fakes::{
    FakeClock, FixedDocumentReader, InMemoryDocumentStore, InMemorySessionStore,
    RecordingPublisher, ScriptedFaceEngine, SeededRandom,
};
use kyc_core::ports::{Clock, DocumentReading, PortError, RandomSource};
use kyc_core::sanctions::{
    load_opensanctions_simple, SanctionsIndex, SanctionsScreener, ScreenOptions, ScreeningError,
    ScreeningQuery, ScreeningResult,
};
use kyc_core::token::{FakeTokenKey, Jwks, TokenSigner as _};

use crate::service::{DocumentRecord, Platform, RecordStore, Service, ServiceConfig};

/// 2026-05-01T00:00:00Z, where the test clock starts.
pub const START: Timestamp = Timestamp::from_millis(1_777_593_600_000);

/// The MRZ of ICAO Doc 9303's specimen passport (Anna Maria Eriksson, Utopia, born
/// 1974-08-12), with an expiry of 2032-04-15 so it is valid at [`START`].
pub const SPECIMEN_MRZ: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
                                L898902C36UTO7408122F3204153ZE184226B<<<<<16";

/// A sanctions list (OpenSanctions' simple CSV) on which the specimen's holder is not.
pub const CLEAR_LIST: &str = "id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,emails,dataset,first_seen,last_seen,last_change\r\n\
    T-1,Person,Viktor Example,V. Example,1961-02-03,ru,,,,,,Test list,,,\r\n\
    T-2,Organization,Example Trading LLC,,,,,,,,,Test list,,,\r\n";

/// A sanctions list on which the specimen's holder is.
pub const LISTED: &str = "id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,emails,dataset,first_seen,last_seen,last_change\r\n\
    T-1,Person,Viktor Example,V. Example,1961-02-03,ru,,,,,,Test list,,,\r\n\
    T-9,Person,Anna Maria Eriksson,,1974-08-12,,,,,,,Test list,,,\r\n";

/// What the reader returns for the specimen: its MRZ and its printed surname.
pub fn specimen_reading() -> DocumentReading {
    DocumentReading {
        printed: normalise_pairs(
            &[KeyValue::new("Surname", "Eriksson", 96.0)],
            &NormaliseHints::new(START.date()),
        ),
        mrz_text: Some(SPECIMEN_MRZ.to_owned()),
    }
}

/// The index of a list given as OpenSanctions' simple CSV. Panics on a malformed list (test
/// input).
pub fn index_of(csv: &str) -> SanctionsIndex {
    match load_opensanctions_simple(csv.as_bytes()) {
        Ok(list) => SanctionsIndex::build(vec![list]),
        Err(e) => panic!("test list does not load: {e}"),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// OCR records in memory, with the expiry contract of the real stores. Can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryRecords {
    records: Mutex<HashMap<VerificationId, (DocumentRecord, Timestamp)>>,
    failures: Mutex<VecDeque<PortError>>,
    puts: Mutex<usize>,
}

impl MemoryRecords {
    /// The next call fails with `err` (calls after it fail with the errors queued after it).
    pub fn fail_next(&self, err: PortError) {
        lock(&self.failures).push_back(err);
    }

    /// How many records were written (replacements included).
    pub fn puts(&self) -> usize {
        *lock(&self.puts)
    }

    fn failure(&self) -> Result<(), PortError> {
        lock(&self.failures).pop_front().map_or(Ok(()), Err)
    }
}

impl RecordStore for MemoryRecords {
    async fn put(
        &self,
        id: &VerificationId,
        record: &DocumentRecord,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), PortError> {
        self.failure()?;
        if expires_at <= now {
            return Err(PortError::Rejected {
                backend: "memory",
                reason: "expiry is not after now",
            });
        }
        *lock(&self.puts) += 1;
        lock(&self.records).insert(*id, (record.clone(), expires_at));
        Ok(())
    }

    async fn get(
        &self,
        id: &VerificationId,
        now: Timestamp,
    ) -> Result<Option<DocumentRecord>, PortError> {
        self.failure()?;
        Ok(lock(&self.records)
            .get(id)
            .filter(|(_, expires)| now < *expires)
            .map(|(r, _)| r.clone()))
    }

    async fn delete(&self, id: &VerificationId) -> Result<(), PortError> {
        self.failure()?;
        lock(&self.records).remove(id);
        Ok(())
    }
}

/// The built-in engine over a test list, whose calls can be scripted to fail.
#[derive(Debug)]
pub struct TestScreener {
    index: SanctionsIndex,
    script: Mutex<VecDeque<Option<ScreeningError>>>,
    calls: Mutex<usize>,
}

impl TestScreener {
    /// A screener over `index`.
    pub fn new(index: SanctionsIndex) -> Self {
        Self {
            index,
            script: Mutex::new(VecDeque::new()),
            calls: Mutex::new(0),
        }
    }

    /// The next calls, in order: `None` screens, `Some(e)` fails with `e`; after the script,
    /// every call screens.
    pub fn script(&self, outcomes: impl IntoIterator<Item = Option<ScreeningError>>) {
        lock(&self.script).extend(outcomes);
    }

    /// How many screenings were asked for.
    pub fn calls(&self) -> usize {
        *lock(&self.calls)
    }
}

impl SanctionsScreener for TestScreener {
    async fn screen(
        &self,
        query: &ScreeningQuery,
        opts: &ScreenOptions,
    ) -> Result<ScreeningResult, ScreeningError> {
        *lock(&self.calls) += 1;
        if let Some(Some(e)) = lock(&self.script).pop_front() {
            return Err(e);
        }
        Ok(self.index.screen(query, opts))
    }
}

/// Every adapter in memory. The fields are public so a test can script and inspect them.
#[derive(Debug)]
pub struct TestPlatform {
    /// Images and frames.
    pub objects: InMemoryDocumentStore,
    /// Sessions.
    pub sessions: InMemorySessionStore,
    /// The audit chain.
    pub audit: MemoryAuditLog,
    /// OCR records.
    pub records: MemoryRecords,
    /// The reader: the same reading for every image.
    pub reader: FixedDocumentReader,
    /// Faces: unknown images have none; script with `on_analyze` / `on_compare`.
    pub faces: ScriptedFaceEngine,
    /// Sanctions screening.
    pub screener: TestScreener,
    /// The token key.
    pub signer: FakeTokenKey,
    /// Published events.
    pub events: RecordingPublisher,
    /// The clock, at [`START`] until moved.
    pub clock: FakeClock,
    /// Seeded randomness.
    pub random: SeededRandom,
}

impl Default for TestPlatform {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPlatform {
    /// The specimen's reading, [`CLEAR_LIST`], the clock at [`START`].
    pub fn new() -> Self {
        Self {
            objects: InMemoryDocumentStore::new(),
            sessions: InMemorySessionStore::new(),
            audit: MemoryAuditLog::new(),
            records: MemoryRecords::default(),
            reader: FixedDocumentReader::new(specimen_reading()),
            faces: ScriptedFaceEngine::new(),
            screener: TestScreener::new(index_of(CLEAR_LIST)),
            signer: FakeTokenKey::new("test-key", 7),
            events: RecordingPublisher::new(),
            clock: FakeClock::at(START),
            random: SeededRandom::new(7),
        }
    }

    /// The same platform whose reader returns `reading` for every image.
    pub fn with_reading(mut self, reading: DocumentReading) -> Self {
        self.reader = FixedDocumentReader::new(reading);
        self
    }

    /// The same platform screening against `csv` (OpenSanctions' simple CSV).
    pub fn with_list(mut self, csv: &str) -> Self {
        self.screener = TestScreener::new(index_of(csv));
        self
    }

    /// A service over this platform (idempotency secret `[7; 32]`, actor `test`).
    pub fn into_service(self) -> Service<Self> {
        match ServiceConfig::new([7; 32], "test") {
            Ok(config) => Service::new(Arc::new(self), config),
            Err(e) => panic!("test service settings: {e}"),
        }
    }
}

impl Platform for TestPlatform {
    type Objects = InMemoryDocumentStore;
    type Sessions = InMemorySessionStore;
    type Audit = MemoryAuditLog;
    type Records = MemoryRecords;
    type Reader = FixedDocumentReader;
    type Faces = ScriptedFaceEngine;
    type Screener = TestScreener;
    type Signer = FakeTokenKey;
    type Events = RecordingPublisher;

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
        &self.clock
    }
    fn random(&self) -> &dyn RandomSource {
        &self.random
    }
    async fn jwks(&self) -> Result<Jwks, PortError> {
        let key = self
            .signer
            .public_key()
            .await
            .map_err(|_| PortError::Unavailable { backend: "memory" })?;
        Ok(Jwks { keys: vec![key] })
    }
}
