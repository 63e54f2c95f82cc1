//! The operating system's clock and random generator as kyc-core ports, for the platforms that
//! do not get them from kyc-local (the AWS platform of the Lambda functions).

use std::sync::atomic::{AtomicI64, Ordering};

use kyc_core::model::Timestamp;
use kyc_core::ports::{Clock, RandomSource};

/// The wall clock, never running backwards within the process.
#[derive(Debug, Default)]
pub struct SystemClock {
    last: AtomicI64,
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let prev = self.last.fetch_max(ms, Ordering::Relaxed);
        Timestamp::from_millis(ms.max(prev))
    }
}

/// The operating system's random generator. Per the port's contract it aborts the process if
/// the generator fails, rather than return predictable bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&self, buf: &mut [u8]) {
        if getrandom::fill(buf).is_err() {
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_never_runs_backwards() {
        let c = SystemClock::default();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        assert!(a.millis() > 1_700_000_000_000);
    }

    #[test]
    fn random_bytes_differ_between_draws() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        OsRandom.fill_bytes(&mut a);
        OsRandom.fill_bytes(&mut b);
        assert_ne!(a, b);
    }
}
