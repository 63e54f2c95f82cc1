//! The two ports every service needs: time and randomness. kyc-core never reads the system
//! clock or an OS random source itself.

use crate::model::Timestamp;

/// The current time.
pub trait Clock: Send + Sync {
    /// MUST return the current instant in UTC. Successive calls MUST NOT go backwards within one
    /// process (adapters use a monotonic correction if the wall clock steps back).
    fn now(&self) -> Timestamp;
}

/// A source of unpredictable bytes (challenge nonces, gesture choice, identifiers).
pub trait RandomSource: Send + Sync {
    /// MUST fill `buf` completely with bytes from a cryptographically secure generator
    /// (production adapters use the OS generator). It cannot fail: an adapter whose generator
    /// is unavailable MUST abort the process rather than return predictable bytes.
    fn fill_bytes(&self, buf: &mut [u8]);

    /// A uniformly distributed integer in `0..bound` (`bound` > 0), without modulo bias.
    fn below(&self, bound: u32) -> u32 {
        assert!(bound > 0, "bound must be positive");
        let zone = u32::MAX - (u32::MAX % bound);
        loop {
            let mut b = [0u8; 4];
            self.fill_bytes(&mut b);
            let v = u32::from_le_bytes(b);
            if v < zone {
                return v % bound;
            }
        }
    }
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

impl<T: RandomSource + ?Sized> RandomSource for &T {
    fn fill_bytes(&self, buf: &mut [u8]) {
        (**self).fill_bytes(buf)
    }
}

impl<T: Clock + ?Sized> Clock for std::sync::Arc<T> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

impl<T: RandomSource + ?Sized> RandomSource for std::sync::Arc<T> {
    fn fill_bytes(&self, buf: &mut [u8]) {
        (**self).fill_bytes(buf)
    }
}
