//! A circuit breaker for the metered AI services (Rekognition, Textract).
//!
//! After `failure_threshold` consecutive transient failures the breaker *opens*: calls fail at
//! once with `PortError::Unavailable` for `cool_down`, without reaching the service (which is
//! throttling us or down, and is billed per call). Then it is *half-open*: one probe call is let
//! through; its success closes the breaker, its failure opens it for another `cool_down`.
//! Only transient failures count: a rejected image says nothing about the service's health.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kyc_core::model::Timestamp;
use kyc_core::ports::{Clock, PortError};

/// The breaker's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive transient failures that open the breaker.
    pub failure_threshold: u32,
    /// How long the breaker stays open before letting a probe through.
    pub cool_down: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// Where the breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls pass; counts consecutive transient failures.
    Closed {
        /// Consecutive transient failures so far.
        failures: u32,
    },
    /// Calls fail fast until the instant.
    Open {
        /// When a probe may go through.
        until: Timestamp,
    },
    /// One probe is in flight; other calls fail fast.
    HalfOpen,
}

/// What a guarded call came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// The service answered (successfully, or by rejecting the request as invalid).
    Healthy,
    /// A transient failure: throttling, 5xx, timeout, connection.
    Transient,
}

/// The circuit breaker. Cheap to clone (shared state).
#[derive(Clone)]
pub struct CircuitBreaker {
    backend: &'static str,
    settings: BreakerSettings,
    clock: Arc<dyn Clock>,
    state: Arc<Mutex<BreakerState>>,
}

impl std::fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("backend", &self.backend)
            .field("settings", &self.settings)
            .field("state", &self.state())
            .finish()
    }
}

impl CircuitBreaker {
    /// A closed breaker for `backend`.
    pub fn new(backend: &'static str, settings: BreakerSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            backend,
            settings,
            clock,
            state: Arc::new(Mutex::new(BreakerState::Closed { failures: 0 })),
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks to make a call. `Err(Unavailable)` when the breaker is open (or a half-open probe
    /// is already in flight); otherwise the caller makes the call and reports its outcome with
    /// [`record`](Self::record).
    pub fn acquire(&self) -> Result<(), PortError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match *state {
            BreakerState::Closed { .. } => Ok(()),
            BreakerState::Open { until } if self.clock.now() >= until => {
                *state = BreakerState::HalfOpen;
                Ok(())
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen => Err(PortError::Unavailable {
                backend: self.backend,
            }),
        }
    }

    /// Reports the outcome of a call made after [`acquire`](Self::acquire).
    pub fn record(&self, outcome: CallOutcome) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let open = BreakerState::Open {
            until: self.clock.now().plus_millis(
                i64::try_from(self.settings.cool_down.as_millis()).unwrap_or(i64::MAX / 2),
            ),
        };
        *state = match (*state, outcome) {
            (_, CallOutcome::Healthy) => BreakerState::Closed { failures: 0 },
            (BreakerState::HalfOpen, CallOutcome::Transient) => open,
            (BreakerState::Closed { failures }, CallOutcome::Transient) => {
                let failures = failures.saturating_add(1);
                if failures >= self.settings.failure_threshold.max(1) {
                    open
                } else {
                    BreakerState::Closed { failures }
                }
            }
            // A late report from a call that started before the breaker opened.
            (s @ BreakerState::Open { .. }, CallOutcome::Transient) => s,
        };
    }

    /// Runs `call` under the breaker. `is_transient` says whether its error counts as a
    /// transient failure.
    pub async fn call<T, E, F>(
        &self,
        call: F,
        is_transient: impl Fn(&E) -> bool,
    ) -> Result<T, BreakerError<E>>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        self.acquire().map_err(BreakerError::Open)?;
        // If the caller drops this future mid-call (its own timeout, a Lambda deadline), the
        // guard counts a transient failure: otherwise an abandoned half-open probe would leave
        // the breaker refusing every later call.
        let mut guard = Pending {
            breaker: self,
            done: false,
        };
        let result = call.await;
        let outcome = match &result {
            Err(e) if is_transient(e) => CallOutcome::Transient,
            _ => CallOutcome::Healthy,
        };
        guard.done = true;
        self.record(outcome);
        result.map_err(BreakerError::Inner)
    }
}

/// Records a transient failure when a guarded call is abandoned before it finishes.
struct Pending<'a> {
    breaker: &'a CircuitBreaker,
    done: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.breaker.record(CallOutcome::Transient);
        }
    }
}

/// The error of a call made through [`CircuitBreaker::call`].
#[derive(Debug)]
pub enum BreakerError<E> {
    /// The breaker was open: the call was not made.
    Open(PortError),
    /// The call was made and failed.
    Inner(E),
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyc_core::ports::fakes::FakeClock;
    use std::future::Future as _;

    fn breaker(clock: Arc<FakeClock>) -> CircuitBreaker {
        CircuitBreaker::new(
            "rekognition",
            BreakerSettings {
                failure_threshold: 3,
                cool_down: Duration::from_secs(10),
            },
            clock,
        )
    }

    #[test]
    fn opens_after_consecutive_transient_failures_and_closes_after_a_good_probe() {
        let clock = Arc::new(FakeClock::at(Timestamp::from_secs(1_800_000_000)));
        let b = breaker(clock.clone());
        for _ in 0..2 {
            b.acquire().unwrap();
            b.record(CallOutcome::Transient);
        }
        assert_eq!(b.state(), BreakerState::Closed { failures: 2 });
        b.acquire().unwrap();
        b.record(CallOutcome::Transient);
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        assert_eq!(
            b.acquire(),
            Err(PortError::Unavailable {
                backend: "rekognition"
            })
        );
        clock.advance_millis(9_999);
        assert!(b.acquire().is_err(), "still cooling down");
        clock.advance_millis(1);
        b.acquire().expect("the probe goes through");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.acquire().is_err(), "only one probe at a time");
        b.record(CallOutcome::Healthy);
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
    }

    #[test]
    fn an_abandoned_probe_does_not_leave_the_breaker_half_open() {
        let clock = Arc::new(FakeClock::at(Timestamp::from_secs(1_800_000_000)));
        let b = breaker(clock.clone());
        for _ in 0..3 {
            b.record(CallOutcome::Transient);
        }
        clock.advance_millis(10_000);
        {
            // Poll the probe once (it is pending forever), then drop it.
            let mut probe = std::pin::pin!(b.call(
                std::future::pending::<Result<(), PortError>>(),
                PortError::is_retryable
            ));
            let waker = std::task::Waker::noop();
            let mut cx = std::task::Context::from_waker(waker);
            assert!(probe.as_mut().poll(&mut cx).is_pending());
            assert_eq!(b.state(), BreakerState::HalfOpen);
        }
        assert!(
            matches!(b.state(), BreakerState::Open { .. }),
            "the abandoned probe counts as a failure and re-opens the breaker"
        );
        clock.advance_millis(10_000);
        assert!(
            b.acquire().is_ok(),
            "a new probe is allowed after the cool-down"
        );
    }

    #[test]
    fn a_failed_probe_reopens_and_a_success_resets_the_count() {
        let clock = Arc::new(FakeClock::at(Timestamp::from_secs(1_800_000_000)));
        let b = breaker(clock.clone());
        b.record(CallOutcome::Transient);
        b.record(CallOutcome::Transient);
        b.record(CallOutcome::Healthy);
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
        for _ in 0..3 {
            b.record(CallOutcome::Transient);
        }
        clock.advance_millis(10_000);
        b.acquire().unwrap();
        b.record(CallOutcome::Transient);
        assert!(
            matches!(b.state(), BreakerState::Open { until } if until == clock.now().plus_millis(10_000))
        );
    }
}
