//! `SqliteEventPublisher`: the [`EventPublisher`] port as an in-process bus with a durable
//! outbox in SQLite, so that no published event is lost across a crash or restart.
//!
//! `publish` inserts the event into the `outbox` table and returns once the commit is on disk
//! (the database runs with `synchronous = FULL`). Delivery is separate and runtime-free: the
//! server calls [`SqliteEventPublisher::deliver_pending`] in a loop (say every 100 ms, and
//! right after a publish if it likes), which hands each pending event, oldest first, to every
//! subscriber and marks it delivered once all of them accepted it.
//!
//! Guarantees: **at least once** per subscriber. An event is marked delivered only after every
//! subscriber returned `Ok`, so a crash or a failing subscriber means it is delivered again
//! later, to every subscriber; subscribers de-duplicate by (verification id, kind, at). A
//! failed event does not hold back the ones after it, so order is by publication except for
//! retries. After `max_attempts` failed rounds an event is set aside as a dead letter (kept in
//! the table, counted by [`dead_letters`](SqliteEventPublisher::dead_letters)). With no
//! subscriber registered nothing is delivered: events wait in the outbox.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use kyc_core::model::Timestamp;
use kyc_core::ports::{Clock, DomainEvent, EventPublisher, PortError};
use rusqlite::params;

use crate::storage::{Database, StoreError};

/// A subscriber failed to handle an event (it will be offered again).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event handler failed")]
pub struct HandlerError;

/// Receives published events. Handlers run on the thread that calls
/// [`SqliteEventPublisher::deliver_pending`]; they may publish events themselves, but must not
/// call `deliver_pending` (rounds do not overlap, so that would wait for itself).
pub trait Subscriber: Send + Sync {
    /// Handles one event. MUST be idempotent (events can arrive more than once). A panic
    /// counts as a failure.
    fn handle(&self, event: &DomainEvent) -> Result<(), HandlerError>;
}

impl<F> Subscriber for F
where
    F: Fn(&DomainEvent) -> Result<(), HandlerError> + Send + Sync,
{
    fn handle(&self, event: &DomainEvent) -> Result<(), HandlerError> {
        self(event)
    }
}

/// What one delivery round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Events every subscriber accepted, now marked delivered.
    pub delivered: usize,
    /// Events some subscriber refused, to be offered again.
    pub failed: usize,
    /// Events set aside as dead letters in this round (too many failures, or unreadable).
    pub dead: usize,
}

/// The in-process publisher with its outbox (see the module docs). `Send + Sync`; blocking:
/// call it from a blocking thread (see [`Database`]).
pub struct SqliteEventPublisher {
    db: Database,
    clock: Arc<dyn Clock>,
    subscribers: RwLock<Vec<Arc<dyn Subscriber>>>,
    delivering: Mutex<()>,
    max_attempts: u32,
    #[cfg(test)]
    crash_after_handling: std::sync::atomic::AtomicBool,
}

impl fmt::Debug for SqliteEventPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self
            .subscribers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("SqliteEventPublisher")
            .field("subscribers", &n)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl SqliteEventPublisher {
    /// How many failed rounds an event gets before it becomes a dead letter, unless configured.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

    /// A publisher on `db` dating events' publication with `clock`.
    pub fn new(db: Database, clock: Arc<dyn Clock>) -> Self {
        Self::with_max_attempts(db, clock, Self::DEFAULT_MAX_ATTEMPTS)
    }

    /// A publisher that gives each event `max_attempts` (at least 1) delivery rounds.
    pub fn with_max_attempts(db: Database, clock: Arc<dyn Clock>, max_attempts: u32) -> Self {
        Self {
            db,
            clock,
            subscribers: RwLock::new(Vec::new()),
            delivering: Mutex::new(()),
            max_attempts: max_attempts.max(1),
            #[cfg(test)]
            crash_after_handling: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Adds a subscriber; it receives every event delivered from now on, including events
    /// published before (and not yet delivered), e.g. before a restart.
    pub fn subscribe(&self, subscriber: impl Subscriber + 'static) {
        self.subscribers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(subscriber));
    }

    /// [`EventPublisher::publish`], blocking: the event is durable when this returns `Ok`.
    pub fn publish_blocking(&self, event: &DomainEvent) -> Result<(), StoreError> {
        let body = serde_json::to_string(event).map_err(|_| StoreError::Encoding {
            what: "domain event",
        })?;
        self.db.with(|c| {
            c.prepare_cached("INSERT INTO outbox (body, published_at) VALUES (?1, ?2)")?
                .execute(params![body, self.clock.now().millis()])?;
            Ok(())
        })
    }

    /// Offers up to `limit` pending events, oldest first, to every subscriber, and records the
    /// outcome (see the module docs). Rounds do not overlap: a second caller waits.
    pub fn deliver_pending(&self, limit: usize) -> Result<Delivery, StoreError> {
        let _round = self
            .delivering
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let subscribers: Vec<Arc<dyn Subscriber>> = self
            .subscribers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if subscribers.is_empty() {
            return Ok(Delivery::default());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let batch: Vec<(i64, String, i64)> = self.db.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, body, attempts FROM outbox
                 WHERE delivered_at IS NULL AND dead = 0 ORDER BY id LIMIT ?1",
            )?;
            let rows = st.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })?;
        let mut report = Delivery::default();
        for (id, body, attempts) in batch {
            let Ok(event) = serde_json::from_str::<DomainEvent>(&body) else {
                self.mark_dead(id)?;
                report.dead += 1;
                continue;
            };
            // Every subscriber gets the event, even after one failed, so that one broken
            // subscriber does not starve the others; the retry goes to all of them.
            let mut accepted = true;
            for s in &subscribers {
                let handled = catch_unwind(AssertUnwindSafe(|| s.handle(&event)));
                accepted &= matches!(handled, Ok(Ok(())));
            }
            #[cfg(test)]
            if self
                .crash_after_handling
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                return Err(StoreError::Io {
                    what: "simulated crash",
                    source: std::io::Error::other("simulated crash"),
                });
            }
            if accepted {
                self.db.with(|c| {
                    c.prepare_cached("UPDATE outbox SET delivered_at = ?2 WHERE id = ?1")?
                        .execute(params![id, self.clock.now().millis()])?;
                    Ok(())
                })?;
                report.delivered += 1;
            } else if attempts.saturating_add(1) >= i64::from(self.max_attempts) {
                self.mark_dead(id)?;
                report.dead += 1;
            } else {
                self.db.with(|c| {
                    c.prepare_cached("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1")?
                        .execute([id])?;
                    Ok(())
                })?;
                report.failed += 1;
            }
        }
        Ok(report)
    }

    fn mark_dead(&self, id: i64) -> Result<(), StoreError> {
        self.db.with(|c| {
            c.prepare_cached("UPDATE outbox SET dead = 1, attempts = attempts + 1 WHERE id = ?1")?
                .execute([id])?;
            Ok(())
        })
    }

    /// How many events wait for delivery.
    pub fn pending(&self) -> Result<usize, StoreError> {
        self.count("delivered_at IS NULL AND dead = 0")
    }

    /// How many events were set aside as dead letters.
    pub fn dead_letters(&self) -> Result<usize, StoreError> {
        self.count("dead = 1")
    }

    fn count(&self, condition: &str) -> Result<usize, StoreError> {
        let n: i64 = self.db.with(|c| {
            Ok(c.query_row(
                &format!("SELECT COUNT(*) FROM outbox WHERE {condition}"),
                [],
                |r| r.get(0),
            )?)
        })?;
        usize::try_from(n).map_err(|_| StoreError::Integrity)
    }

    /// Deletes delivered events delivered before `cutoff`; returns how many.
    pub fn purge_delivered(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        self.db.with(|c| {
            Ok(
                c.prepare_cached("DELETE FROM outbox WHERE delivered_at < ?1")?
                    .execute([cutoff.millis()])?,
            )
        })
    }
}

impl EventPublisher for SqliteEventPublisher {
    async fn publish(&self, event: &DomainEvent) -> Result<(), PortError> {
        Ok(self.publish_blocking(event)?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::storage::test_support::block_on;
    use kyc_core::decision::Status;
    use kyc_core::model::VerificationId;
    use kyc_core::ports::fakes::FakeClock;
    use kyc_core::ports::EventKind;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    fn event(b: u8, kind: EventKind) -> DomainEvent {
        DomainEvent {
            verification_id: VerificationId::from_random_bytes([b; 16]),
            kind,
            at: T0,
            status: None,
        }
    }

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
        fn open(&self) -> SqliteEventPublisher {
            let db = Database::open(&self.dir.path().join("kyc.sqlite3")).unwrap();
            SqliteEventPublisher::with_max_attempts(db, self.clock.clone(), 3)
        }
    }

    fn recorder() -> (Arc<Mutex<Vec<DomainEvent>>>, impl Subscriber + 'static) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        (seen, move |e: &DomainEvent| {
            sink.lock().unwrap().push(e.clone());
            Ok(())
        })
    }

    #[test]
    fn published_events_reach_every_subscriber_in_order_once() {
        let fx = Fixture::new();
        let bus = fx.open();
        let (a, sub_a) = recorder();
        let (b, sub_b) = recorder();
        bus.subscribe(sub_a);
        bus.subscribe(sub_b);
        let events = [
            event(1, EventKind::DocumentUploaded),
            event(1, EventKind::DocumentRead),
            DomainEvent {
                status: Some(Status::Approved),
                ..event(1, EventKind::Decided)
            },
        ];
        for e in &events {
            block_on(bus.publish(e)).unwrap();
        }
        assert_eq!(bus.pending().unwrap(), 3);
        let d = bus.deliver_pending(100).unwrap();
        assert_eq!(
            d,
            Delivery {
                delivered: 3,
                ..Delivery::default()
            }
        );
        assert_eq!(bus.deliver_pending(100).unwrap(), Delivery::default());
        assert_eq!(*a.lock().unwrap(), events);
        assert_eq!(*b.lock().unwrap(), events);
    }

    #[test]
    fn an_event_published_before_a_crash_is_delivered_after_the_restart() {
        let fx = Fixture::new();
        {
            let bus = fx.open();
            block_on(bus.publish(&event(2, EventKind::LivenessStarted))).unwrap();
            // The process dies here: nothing was delivered.
        }
        let bus = fx.open();
        let (seen, sub) = recorder();
        bus.subscribe(sub);
        assert_eq!(bus.deliver_pending(10).unwrap().delivered, 1);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![event(2, EventKind::LivenessStarted)]
        );
    }

    #[test]
    fn a_crash_after_handling_but_before_marking_redelivers_the_event() {
        let fx = Fixture::new();
        let (seen, sub) = recorder();
        {
            let bus = fx.open();
            bus.subscribe(sub);
            block_on(bus.publish(&event(3, EventKind::Erased))).unwrap();
            bus.crash_after_handling.store(true, Ordering::SeqCst);
            assert!(bus.deliver_pending(10).is_err());
        }
        let bus = fx.open();
        let (again, sub) = recorder();
        bus.subscribe(sub);
        assert_eq!(bus.deliver_pending(10).unwrap().delivered, 1);
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert_eq!(again.lock().unwrap().len(), 1, "at least once");
    }

    #[test]
    fn a_failing_subscriber_gets_the_event_again_until_it_becomes_a_dead_letter() {
        let fx = Fixture::new();
        let bus = fx.open();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        bus.subscribe(move |e: &DomainEvent| {
            c.fetch_add(1, Ordering::SeqCst);
            if e.kind == EventKind::DocumentRead {
                Err(HandlerError)
            } else {
                Ok(())
            }
        });
        block_on(bus.publish(&event(4, EventKind::DocumentRead))).unwrap();
        block_on(bus.publish(&event(4, EventKind::LivenessStarted))).unwrap();
        let first = bus.deliver_pending(10).unwrap();
        assert_eq!((first.delivered, first.failed, first.dead), (1, 1, 0));
        assert_eq!(bus.deliver_pending(10).unwrap().failed, 1);
        assert_eq!(bus.deliver_pending(10).unwrap().dead, 1);
        assert_eq!(bus.deliver_pending(10).unwrap(), Delivery::default());
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(
            (bus.pending().unwrap(), bus.dead_letters().unwrap()),
            (0, 1)
        );
    }

    #[test]
    fn a_panicking_subscriber_counts_as_a_failure_and_others_still_receive_the_event() {
        let fx = Fixture::new();
        let bus = fx.open();
        bus.subscribe(|_: &DomainEvent| -> Result<(), HandlerError> { panic!("handler bug") });
        let (seen, sub) = recorder();
        bus.subscribe(sub);
        block_on(bus.publish(&event(5, EventKind::DocumentUploaded))).unwrap();
        assert_eq!(bus.deliver_pending(10).unwrap().failed, 1);
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn without_subscribers_events_wait_in_the_outbox() {
        let fx = Fixture::new();
        let bus = fx.open();
        block_on(bus.publish(&event(6, EventKind::DocumentUploaded))).unwrap();
        assert_eq!(bus.deliver_pending(10).unwrap(), Delivery::default());
        assert_eq!(bus.pending().unwrap(), 1);
    }

    #[test]
    fn a_subscriber_may_publish_and_the_new_event_is_delivered_in_a_later_round() {
        let fx = Fixture::new();
        let bus = Arc::new(fx.open());
        let inner = Arc::downgrade(&bus);
        let (seen, sub) = recorder();
        bus.subscribe(sub);
        bus.subscribe(move |e: &DomainEvent| {
            if e.kind == EventKind::DocumentUploaded {
                if let Some(bus) = inner.upgrade() {
                    bus.publish_blocking(&DomainEvent {
                        kind: EventKind::DocumentRead,
                        ..e.clone()
                    })
                    .map_err(|_| HandlerError)?;
                }
            }
            Ok(())
        });
        block_on(bus.publish(&event(7, EventKind::DocumentUploaded))).unwrap();
        assert_eq!(bus.deliver_pending(10).unwrap().delivered, 1);
        assert_eq!(bus.deliver_pending(10).unwrap().delivered, 1);
        let kinds: Vec<_> = seen.lock().unwrap().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [EventKind::DocumentUploaded, EventKind::DocumentRead]
        );
    }

    #[test]
    fn delivered_events_are_purged_after_the_cutoff_and_pending_ones_kept() {
        let fx = Fixture::new();
        let bus = fx.open();
        let (_, sub) = recorder();
        block_on(bus.publish(&event(8, EventKind::DocumentUploaded))).unwrap();
        bus.subscribe(sub);
        bus.deliver_pending(10).unwrap();
        block_on(bus.publish(&event(8, EventKind::DocumentRead))).unwrap();
        fx.clock.advance_millis(1);
        assert_eq!(bus.purge_delivered(T0).unwrap(), 0);
        assert_eq!(bus.purge_delivered(fx.clock.now()).unwrap(), 1);
        assert_eq!(bus.pending().unwrap(), 1);
    }

    #[test]
    fn concurrent_publishers_lose_nothing() {
        let fx = Fixture::new();
        let bus = fx.open();
        std::thread::scope(|s| {
            for t in 0..4u8 {
                let bus = &bus;
                s.spawn(move || {
                    for _ in 0..25 {
                        bus.publish_blocking(&event(t, EventKind::DocumentUploaded))
                            .unwrap();
                    }
                });
            }
        });
        let count = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&count);
        bus.subscribe(move |_: &DomainEvent| {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        while bus.deliver_pending(30).unwrap().delivered > 0 {}
        assert_eq!(count.load(Ordering::SeqCst), 100);
        assert_eq!(bus.pending().unwrap(), 0);
    }
}
