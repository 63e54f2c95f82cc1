//! In-memory fakes of the ports, for tests of code that is generic over them
//! (feature `test-util`). They are deterministic: never use them in production.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use super::{Clock, RandomSource};
use crate::model::Timestamp;

/// A clock that returns a set instant and moves only when told.
#[derive(Debug)]
pub struct FakeClock(AtomicI64);

impl FakeClock {
    /// A clock standing at `t`.
    pub fn at(t: Timestamp) -> Self {
        Self(AtomicI64::new(t.millis()))
    }
    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    /// Sets the clock to `t`.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.millis(), Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

/// A seeded, deterministic byte generator (SplitMix64). Not cryptographically secure.
#[derive(Debug)]
pub struct SeededRandom(AtomicU64);

impl SeededRandom {
    /// A generator with the given seed; the same seed gives the same bytes.
    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }

    fn next_u64(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::SeqCst)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl RandomSource for SeededRandom {
    fn fill_bytes(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_random_is_reproducible_and_below_is_in_range() {
        let (a, b) = (SeededRandom::new(7), SeededRandom::new(7));
        let (mut x, mut y) = ([0u8; 13], [0u8; 13]);
        a.fill_bytes(&mut x);
        b.fill_bytes(&mut y);
        assert_eq!(x, y);
        for _ in 0..1000 {
            assert!(a.below(6) < 6);
        }
    }
}

/// Runs a future to completion on the current thread, for tests of code over the fakes (whose
/// futures are always ready). Busy-polls with a no-op waker: not for real I/O futures.
pub fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

/// A document store in memory. Can be told to fail, to exercise error paths.
#[derive(Debug, Default)]
pub struct InMemoryDocumentStore {
    objects: std::sync::Mutex<std::collections::BTreeMap<String, Vec<u8>>>,
    fail_next: std::sync::Mutex<Option<super::PortError>>,
}

impl InMemoryDocumentStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
    /// The next call fails with `err`.
    pub fn fail_next(&self, err: super::PortError) {
        *lock(&self.fail_next) = Some(err);
    }
    /// The full keys of every stored object, sorted.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.objects).keys().cloned().collect()
    }
    fn take_failure(&self) -> Result<(), super::PortError> {
        lock(&self.fail_next).take().map_or(Ok(()), Err)
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl super::DocumentStore for InMemoryDocumentStore {
    fn put(
        &self,
        key: &super::ObjectKey,
        bytes: Vec<u8>,
        _content_type: &'static str,
    ) -> impl std::future::Future<Output = Result<(), super::PortError>> + Send {
        let r = self.take_failure().map(|()| {
            lock(&self.objects).insert(key.full(), bytes);
        });
        std::future::ready(r)
    }

    fn get(
        &self,
        key: &super::ObjectKey,
    ) -> impl std::future::Future<Output = Result<Option<Vec<u8>>, super::PortError>> + Send {
        let r = self
            .take_failure()
            .map(|()| lock(&self.objects).get(&key.full()).cloned());
        std::future::ready(r)
    }

    fn delete(
        &self,
        key: &super::ObjectKey,
    ) -> impl std::future::Future<Output = Result<(), super::PortError>> + Send {
        let r = self.take_failure().map(|()| {
            lock(&self.objects).remove(&key.full());
        });
        std::future::ready(r)
    }

    fn delete_all(
        &self,
        id: &crate::model::VerificationId,
    ) -> impl std::future::Future<Output = Result<usize, super::PortError>> + Send {
        let r = self.take_failure().map(|()| {
            let mut objects = lock(&self.objects);
            let before = objects.len();
            let id = id.as_str();
            objects.retain(|k, _| {
                let rest = k.split_once('/').map_or("", |(_, r)| r);
                !(rest.starts_with(id)
                    && matches!(rest.as_bytes().get(id.len()), Some(b'/') | Some(b'.')))
            });
            before - objects.len()
        });
        std::future::ready(r)
    }
}

/// An event publisher that records what it was given.
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    events: std::sync::Mutex<Vec<super::DomainEvent>>,
}

impl RecordingPublisher {
    /// A publisher with nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }
    /// Every event published so far, in order.
    pub fn events(&self) -> Vec<super::DomainEvent> {
        lock(&self.events).clone()
    }
}

impl super::EventPublisher for RecordingPublisher {
    fn publish(
        &self,
        event: &super::DomainEvent,
    ) -> impl std::future::Future<Output = Result<(), super::PortError>> + Send {
        lock(&self.events).push(event.clone());
        std::future::ready(Ok(()))
    }
}

/// A document reader that returns a prepared reading for every image.
#[derive(Debug, Default)]
pub struct FixedDocumentReader {
    reading: super::DocumentReading,
}

impl FixedDocumentReader {
    /// A reader that always returns `reading`.
    pub fn new(reading: super::DocumentReading) -> Self {
        Self { reading }
    }
}

impl super::DocumentReader for FixedDocumentReader {
    fn read(
        &self,
        _image: &crate::model::Image,
    ) -> impl std::future::Future<Output = Result<super::DocumentReading, super::ReadError>> + Send
    {
        std::future::ready(Ok(self.reading.clone()))
    }
}

#[cfg(test)]
mod store_tests {
    use super::*;
    use crate::model::VerificationId;
    use crate::ports::{DocumentStore, ObjectKey, PortError};

    #[test]
    fn in_memory_store_round_trips_and_erases_one_verification_only() {
        let store = InMemoryDocumentStore::new();
        let a = VerificationId::from_random_bytes([1; 16]);
        let b = VerificationId::from_random_bytes([2; 16]);
        block_on(store.put(&ObjectKey::id_upload(&a), vec![1], "image/jpeg")).unwrap();
        let frame = ObjectKey::live_frame(&a, "f-1").unwrap();
        block_on(store.put(&frame, vec![2], "image/jpeg")).unwrap();
        block_on(store.put(&ObjectKey::id_upload(&b), vec![3], "image/jpeg")).unwrap();
        assert_eq!(block_on(store.get(&frame)).unwrap(), Some(vec![2]));
        assert_eq!(block_on(store.delete_all(&a)).unwrap(), 2);
        assert_eq!(store.keys(), vec![ObjectKey::id_upload(&b).full()]);
        assert_eq!(block_on(store.delete_all(&a)).unwrap(), 0);
        store.fail_next(PortError::Unavailable { backend: "memory" });
        assert!(block_on(store.get(&frame)).unwrap_err().is_retryable());
    }

    #[test]
    fn frame_ids_cannot_escape_their_prefix() {
        let a = VerificationId::from_random_bytes([1; 16]);
        assert!(ObjectKey::live_frame(&a, "../x").is_none());
        assert!(ObjectKey::live_frame(&a, "").is_none());
        assert!(ObjectKey::live_frame(&a, &"a".repeat(65)).is_none());
    }
}

/// A session store in memory with the same optimistic-concurrency contract as the real ones.
#[derive(Debug, Default)]
pub struct InMemorySessionStore {
    sessions: std::sync::Mutex<
        std::collections::HashMap<crate::model::VerificationId, (crate::session::Session, u64)>,
    >,
}

impl InMemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl super::SessionStore for InMemorySessionStore {
    fn load(
        &self,
        id: &crate::model::VerificationId,
    ) -> impl std::future::Future<
        Output = Result<Option<(crate::session::Session, super::Version)>, super::PortError>,
    > + Send {
        let r = lock(&self.sessions)
            .get(id)
            .map(|(s, v)| (s.clone(), super::Version(*v)));
        std::future::ready(Ok(r))
    }

    fn save(
        &self,
        session: &crate::session::Session,
        expected: Option<super::Version>,
    ) -> impl std::future::Future<Output = Result<super::Version, super::PortError>> + Send {
        let mut map = lock(&self.sessions);
        let id = session.verification_id();
        let current = map.get(&id).map(|(_, v)| *v);
        let r = match (current, expected) {
            (None, None) => {
                map.insert(id, (session.clone(), 1));
                Ok(super::Version(1))
            }
            (Some(cur), Some(super::Version(exp))) if cur == exp => {
                map.insert(id, (session.clone(), cur + 1));
                Ok(super::Version(cur + 1))
            }
            _ => Err(super::PortError::Conflict),
        };
        std::future::ready(r)
    }

    fn delete(
        &self,
        id: &crate::model::VerificationId,
    ) -> impl std::future::Future<Output = Result<(), super::PortError>> + Send {
        lock(&self.sessions).remove(id);
        std::future::ready(Ok(()))
    }
}

type PairSimilarities = std::collections::HashMap<(Vec<u8>, Vec<u8>), crate::model::Similarity>;

/// A face engine driven by a script: each image's bytes map to a prepared analysis, and pairs
/// of images to a similarity. Unknown images have no face.
#[derive(Debug, Default)]
pub struct ScriptedFaceEngine {
    analyses: std::sync::Mutex<std::collections::HashMap<Vec<u8>, super::FaceAnalysis>>,
    similarities: std::sync::Mutex<PairSimilarities>,
}

impl ScriptedFaceEngine {
    /// An engine that knows no images.
    pub fn new() -> Self {
        Self::default()
    }
    /// `image` will be analysed as `analysis`.
    pub fn on_analyze(&self, image: &crate::model::Image, analysis: super::FaceAnalysis) {
        lock(&self.analyses).insert(image.bytes().to_vec(), analysis);
    }
    /// Comparing `a` with `b` (either order) gives `similarity`.
    pub fn on_compare(
        &self,
        a: &crate::model::Image,
        b: &crate::model::Image,
        similarity: crate::model::Similarity,
    ) {
        let mut m = lock(&self.similarities);
        m.insert((a.bytes().to_vec(), b.bytes().to_vec()), similarity);
        m.insert((b.bytes().to_vec(), a.bytes().to_vec()), similarity);
    }

    fn analysis(&self, image: &crate::model::Image) -> super::FaceAnalysis {
        lock(&self.analyses)
            .get(image.bytes())
            .cloned()
            .unwrap_or_else(|| super::FaceAnalysis {
                quality: crate::facematch::FaceQuality::frontal(0, 0, 0, 640, 480),
                observation: None,
            })
    }
}

impl super::FaceAnalyzer for ScriptedFaceEngine {
    fn analyze(
        &self,
        image: &crate::model::Image,
    ) -> impl std::future::Future<Output = Result<super::FaceAnalysis, super::FaceError>> + Send
    {
        std::future::ready(Ok(self.analysis(image)))
    }
}

impl super::FaceComparer for ScriptedFaceEngine {
    fn compare(
        &self,
        reference: &crate::model::Image,
        probe: &crate::model::Image,
    ) -> impl std::future::Future<Output = Result<super::FaceComparison, super::FaceError>> + Send
    {
        let (r, p) = (self.analysis(reference), self.analysis(probe));
        let result = if r.quality.face_count == 0 || p.quality.face_count == 0 {
            Err(super::FaceError::NoFaceDetected)
        } else {
            let key = (reference.bytes().to_vec(), probe.bytes().to_vec());
            let similarity = lock(&self.similarities)
                .get(&key)
                .copied()
                .unwrap_or(crate::model::Similarity::ZERO);
            Ok(super::FaceComparison {
                similarity,
                reference: r.quality,
                probe: p.quality,
            })
        };
        std::future::ready(result)
    }
}

#[cfg(test)]
mod session_and_face_tests {
    use super::*;
    use crate::model::{Image, Similarity, VerificationId};
    use crate::ports::{FaceComparer, FaceError, PortError, SessionStore, Version};
    use crate::session::Session;

    #[test]
    fn session_store_refuses_stale_and_duplicate_writes() {
        let store = InMemorySessionStore::new();
        let id = VerificationId::from_random_bytes([9; 16]);
        let key = crate::session::StepKey::parse("upload-1").unwrap();
        let now = Timestamp::from_secs(1_800_000_000);
        let s = Session::start(id, key, now, now.plus_millis(3_600_000));
        assert_eq!(block_on(store.save(&s, None)).unwrap(), Version(1));
        assert_eq!(block_on(store.save(&s, None)), Err(PortError::Conflict));
        assert_eq!(
            block_on(store.save(&s, Some(Version(1)))).unwrap(),
            Version(2)
        );
        assert_eq!(
            block_on(store.save(&s, Some(Version(1)))),
            Err(PortError::Conflict)
        );
        let (loaded, v) = block_on(store.load(&id)).unwrap().unwrap();
        assert_eq!((loaded, v), (s, Version(2)));
        block_on(store.delete(&id)).unwrap();
        assert!(block_on(store.load(&id)).unwrap().is_none());
    }

    #[test]
    fn scripted_face_engine_reports_no_face_for_unknown_images() {
        let engine = ScriptedFaceEngine::new();
        let a = Image::parse(vec![0xFF, 0xD8, 0xFF, 1], 100).unwrap();
        let b = Image::parse(vec![0xFF, 0xD8, 0xFF, 2], 100).unwrap();
        assert_eq!(
            block_on(engine.compare(&a, &b)),
            Err(FaceError::NoFaceDetected)
        );
        let face = |n| crate::ports::FaceAnalysis {
            quality: crate::facematch::FaceQuality::frontal(n, 200, 200, 640, 480),
            observation: None,
        };
        engine.on_analyze(&a, face(1));
        engine.on_analyze(&b, face(1));
        engine.on_compare(&a, &b, Similarity::parse(91.0).unwrap());
        let c = block_on(engine.compare(&b, &a)).unwrap();
        assert_eq!(c.similarity, Similarity::parse(91.0).unwrap());
    }
}
