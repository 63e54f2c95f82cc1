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
