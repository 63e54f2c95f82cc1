//! `MemoryAuditLog`: an in-memory [`AuditLog`] for tests (feature `test-util`), with the same
//! conditional-append rule as the real adapters and a hook to make a competing writer win.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{next_event, AuditEvent, AuditLog, AuditLogError, ChainHead, EventDraft};
use crate::model::VerificationId;

/// An in-memory audit log. Deterministic: never use it in production.
#[derive(Debug, Default)]
pub struct MemoryAuditLog {
    chains: Mutex<HashMap<VerificationId, Vec<AuditEvent>>>,
    racers: Mutex<Vec<EventDraft>>,
}

impl MemoryAuditLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next `append` lose a race: after it has read the head, `competitor` is
    /// appended by "another writer", so its conditional write fails with
    /// [`AuditLogError::Conflict`]. Several calls queue several races.
    pub fn race_next_append(&self, competitor: EventDraft) {
        lock(&self.racers).push(competitor);
    }

    /// Replaces the stored chain of a verification (to simulate tampering in tests).
    pub fn overwrite(&self, verification_id: VerificationId, events: Vec<AuditEvent>) {
        lock(&self.chains).insert(verification_id, events);
    }

    fn head(&self, id: VerificationId) -> Option<ChainHead> {
        lock(&self.chains)
            .get(&id)
            .and_then(|c| c.last())
            .map(AuditEvent::head)
    }

    /// The conditional write: stores `event` only if its sequence number is the next free one.
    fn put_if_absent(&self, event: AuditEvent) -> Result<AuditEvent, AuditLogError> {
        let mut chains = lock(&self.chains);
        let chain = chains.entry(event.verification_id()).or_default();
        if chain.len() as u64 != event.seq() {
            return Err(AuditLogError::Conflict);
        }
        chain.push(event.clone());
        Ok(event)
    }

    fn append_now(&self, draft: EventDraft) -> Result<AuditEvent, AuditLogError> {
        let head = self.head(draft.verification_id);
        let event = next_event(head, draft)?;
        let competitor = {
            let mut r = lock(&self.racers);
            (!r.is_empty()).then(|| r.remove(0))
        };
        if let Some(c) = competitor {
            // The other writer read the same head and wrote first.
            let theirs = next_event(head, c)?;
            self.put_if_absent(theirs)?;
        }
        self.put_if_absent(event)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AuditLog for MemoryAuditLog {
    fn append(
        &self,
        draft: EventDraft,
    ) -> impl std::future::Future<Output = Result<AuditEvent, AuditLogError>> + Send {
        std::future::ready(self.append_now(draft))
    }

    fn read(
        &self,
        verification_id: VerificationId,
    ) -> impl std::future::Future<Output = Result<Vec<AuditEvent>, AuditLogError>> + Send {
        let events = lock(&self.chains)
            .get(&verification_id)
            .cloned()
            .unwrap_or_default();
        std::future::ready(Ok(events))
    }

    fn redact(
        &self,
        verification_id: VerificationId,
    ) -> impl std::future::Future<Output = Result<usize, AuditLogError>> + Send {
        let mut chains = lock(&self.chains);
        let mut changed = 0;
        if let Some(chain) = chains.get_mut(&verification_id) {
            for e in chain.iter_mut().filter(|e| e.personal().is_some()) {
                *e = e.redacted();
                changed += 1;
            }
        }
        std::future::ready(Ok(changed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::contract::block_on;
    use crate::audit::{append_with_retry, verify_chain_for, Actor, EventKind, PersonalData, Salt};
    use crate::model::Timestamp;

    fn draft(id: VerificationId, kind: EventKind) -> EventDraft {
        EventDraft::new(
            id,
            kind,
            Timestamp::from_secs(1_779_341_048),
            Actor::parse("test").unwrap(),
        )
    }

    #[test]
    fn the_memory_log_meets_the_port_contract() {
        let log = MemoryAuditLog::new();
        block_on(crate::audit::contract::check(
            &log,
            VerificationId::from_random_bytes([4; 16]),
        ))
        .unwrap();
    }

    #[test]
    fn a_writer_that_loses_the_race_gets_a_conflict_and_the_chain_does_not_fork() {
        let log = MemoryAuditLog::new();
        let id = VerificationId::from_random_bytes([1; 16]);
        block_on(log.append(draft(id, EventKind::DocumentUploaded))).unwrap();
        log.race_next_append(draft(id, EventKind::DocumentRead));
        let lost = block_on(log.append(draft(id, EventKind::FaceMatched)));
        assert!(matches!(lost, Err(AuditLogError::Conflict)));
        let events = block_on(log.read(id)).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].kind(), EventKind::DocumentRead);
        assert!(verify_chain_for(id, &events, None).is_ok());
    }

    #[test]
    fn append_with_retry_wins_after_lost_races_and_gives_up_after_the_cap() {
        let log = MemoryAuditLog::new();
        let id = VerificationId::from_random_bytes([2; 16]);
        for _ in 0..2 {
            log.race_next_append(draft(id, EventKind::FrameAccepted));
        }
        let e = block_on(append_with_retry(&log, draft(id, EventKind::Decided), 3)).unwrap();
        assert_eq!((e.seq(), e.kind()), (2, EventKind::Decided));

        for _ in 0..3 {
            log.race_next_append(draft(id, EventKind::FrameAccepted));
        }
        let r = block_on(append_with_retry(&log, draft(id, EventKind::Erased), 3));
        assert!(matches!(r, Err(AuditLogError::Conflict)));
        assert!(r.unwrap_err().is_retryable());
        let events = block_on(log.read(id)).unwrap();
        assert!(verify_chain_for(id, &events, None).is_ok());
        assert_eq!(events.len(), 6);
    }

    #[test]
    fn redaction_is_idempotent_and_keeps_the_head() {
        let log = MemoryAuditLog::new();
        let id = VerificationId::from_random_bytes([3; 16]);
        let mut p = PersonalData::new();
        p.insert(crate::audit::DetailKey::parse("surname").unwrap(), "X")
            .unwrap();
        let d = draft(id, EventKind::DocumentRead).with_personal(p, Salt::from_bytes([5; 16]));
        let e = block_on(log.append(d)).unwrap();
        assert_eq!(block_on(log.redact(id)).unwrap(), 1);
        assert_eq!(block_on(log.redact(id)).unwrap(), 0);
        let events = block_on(log.read(id)).unwrap();
        assert_eq!(verify_chain_for(id, &events, Some(e.head())), Ok(e.head()));
    }
}
