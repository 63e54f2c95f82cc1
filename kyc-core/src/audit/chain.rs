//! The hash chain: [`ChainHead`], [`next_event`] (the one place events are made),
//! the in-memory [`AuditChain`] builder and the verifier [`verify_chain`].

use serde::{Deserialize, Serialize};

use crate::model::VerificationId;

use super::canonical;
use super::event::{AuditEvent, EventDraft, Hash256, FORMAT_V1};

/// The head of a chain: the sequence number and hash of its last event.
///
/// Holding a head is what makes truncation detectable: a verifier given a head the caller
/// recorded earlier (the last one it wrote, or one published elsewhere) refuses a chain that no
/// longer contains that exact event. Serialised as `{"seq": 3, "hash": "<hex>"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainHead {
    /// The last event's sequence number.
    pub seq: u64,
    /// The last event's hash.
    pub hash: Hash256,
}

/// Why a chain does not verify. Indexes are positions in the slice given to the verifier;
/// nothing from the events' contents is echoed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// There are no events (a verification always starts with one).
    #[error("audit chain is empty")]
    Empty,
    /// The event is in a format this crate does not know.
    #[error("audit event {index} has unsupported format {format}")]
    UnsupportedFormat {
        /// The position of the event.
        index: usize,
        /// The format byte found.
        format: u8,
    },
    /// The event's sequence number is not its position (an event was deleted, inserted or
    /// moved before it).
    #[error("audit event {index} has sequence number {found}, expected {expected}")]
    SequenceGap {
        /// The position of the event.
        index: usize,
        /// The sequence number its position requires.
        expected: u64,
        /// The sequence number it holds.
        found: u64,
    },
    /// The event's `prev_hash` is not the previous event's hash (or not zero for the first).
    #[error("audit event {index} does not link to the event before it")]
    BrokenLink {
        /// The position of the event.
        index: usize,
    },
    /// The event's personal values (or salt) do not match its committed digest, or personal
    /// values are present without a digest.
    #[error("audit event {index} has personal data that does not match its digest")]
    PersonalDigestMismatch {
        /// The position of the event.
        index: usize,
    },
    /// The event's stored hash is not the hash of its contents: it was modified.
    #[error("audit event {index} does not match its hash")]
    HashMismatch {
        /// The position of the event.
        index: usize,
    },
    /// The event belongs to another verification than the chain.
    #[error("audit event {index} belongs to another verification")]
    ForeignEvent {
        /// The position of the event.
        index: usize,
    },
    /// The chain is shorter than the head the caller holds: events were deleted at the end.
    #[error("audit chain has {found} events but the anchor requires at least {required}")]
    Truncated {
        /// The number of events the anchor requires (its `seq` + 1).
        required: u64,
        /// The number of events given.
        found: usize,
    },
    /// The event at the anchor's sequence number is not the anchored event.
    #[error("audit event {seq} is not the anchored head")]
    HeadMismatch {
        /// The anchor's sequence number.
        seq: u64,
    },
    /// The chain cannot grow: the last sequence number is `u64::MAX`.
    #[error("audit chain sequence numbers are exhausted")]
    SequenceExhausted,
}

/// Turns a draft into the event that follows `head` (`None` for the first event of a chain):
/// sequence `head.seq + 1` (or 0), `prev_hash = head.hash` (or [`Hash256::ZERO`]), the personal
/// digest and the chain hash.
///
/// This is all a storage adapter needs for a conditional append: it reads the head, calls
/// this, and writes the event only if no event with that sequence number exists yet (see
/// [`AuditLog`](super::AuditLog)).
///
/// ```
/// use kyc_core::audit::{next_event, verify_chain, Actor, EventDraft, EventKind, Hash256};
/// use kyc_core::model::{Timestamp, VerificationId};
/// let draft = |kind| EventDraft::new(
///     VerificationId::from_random_bytes([1; 16]), kind,
///     Timestamp::from_secs(1_779_341_048), Actor::parse("upload-api").unwrap());
/// let first = next_event(None, draft(EventKind::DocumentUploaded)).unwrap();
/// assert_eq!((first.seq(), first.prev_hash()), (0, Hash256::ZERO));
/// let second = next_event(Some(first.head()), draft(EventKind::DocumentRead)).unwrap();
/// assert_eq!(second.prev_hash(), first.hash());
/// assert_eq!(verify_chain(&[first, second.clone()], None), Ok(second.head()));
/// ```
pub fn next_event(head: Option<ChainHead>, draft: EventDraft) -> Result<AuditEvent, ChainError> {
    let (seq, prev_hash) = match head {
        None => (0, Hash256::ZERO),
        Some(h) => (
            h.seq.checked_add(1).ok_or(ChainError::SequenceExhausted)?,
            h.hash,
        ),
    };
    let mut e = AuditEvent {
        format: FORMAT_V1,
        seq,
        verification_id: draft.verification_id,
        kind: draft.kind,
        occurred_at: draft.occurred_at,
        actor: draft.actor,
        details: draft.details,
        personal_digest: draft.personal.as_ref().map(|p| p.digest()),
        personal: draft.personal,
        prev_hash,
        hash: Hash256::ZERO,
    };
    e.hash = canonical::chain_hash(&prev_hash, &e);
    Ok(e)
}

/// Verifies a whole chain (events in stored order) and returns its head.
///
/// It checks, event by event: the format, that the sequence number equals the position, that
/// `prev_hash` is the previous hash (zero for the first), that clear personal values match
/// their digest, that the stored hash is the hash of the contents, and that every event
/// belongs to the same verification. Any modification, deletion, insertion or reordering of
/// events is reported at the first position where it shows.
///
/// `anchor` is a head the caller recorded earlier: the chain must contain that exact event at
/// that sequence number ([`ChainError::Truncated`] / [`ChainError::HeadMismatch`] otherwise).
/// Events after it are allowed (the chain grew); to demand that nothing was appended, compare
/// the returned head with the anchor.
///
/// What a hash chain cannot show on its own: someone able to write the store can rebuild the
/// whole chain, or append well-formed events at its end. An anchor kept apart from the store
/// detects the former; authenticating the writers is the only defence against the latter.
pub fn verify_chain(
    events: &[AuditEvent],
    anchor: Option<ChainHead>,
) -> Result<ChainHead, ChainError> {
    let first = events.first().map(AuditEvent::verification_id);
    verify(events, anchor, first)
}

/// [`verify_chain`] that also requires every event to belong to `verification_id` (for a chain
/// read back from a store by that id).
pub fn verify_chain_for(
    verification_id: VerificationId,
    events: &[AuditEvent],
    anchor: Option<ChainHead>,
) -> Result<ChainHead, ChainError> {
    verify(events, anchor, Some(verification_id))
}

fn verify(
    events: &[AuditEvent],
    anchor: Option<ChainHead>,
    owner: Option<VerificationId>,
) -> Result<ChainHead, ChainError> {
    let mut prev = Hash256::ZERO;
    for (index, e) in events.iter().enumerate() {
        if e.format != FORMAT_V1 {
            return Err(ChainError::UnsupportedFormat {
                index,
                format: e.format,
            });
        }
        let expected = index as u64;
        if e.seq != expected {
            return Err(ChainError::SequenceGap {
                index,
                expected,
                found: e.seq,
            });
        }
        if e.prev_hash != prev {
            return Err(ChainError::BrokenLink { index });
        }
        if let Some(p) = &e.personal {
            if e.personal_digest != Some(p.digest()) {
                return Err(ChainError::PersonalDigestMismatch { index });
            }
        }
        if canonical::chain_hash(&prev, e) != e.hash {
            return Err(ChainError::HashMismatch { index });
        }
        // After the event's own hash, so that a modified id is reported where it was modified.
        if Some(e.verification_id) != owner {
            return Err(ChainError::ForeignEvent { index });
        }
        prev = e.hash;
    }
    let last = events.last().ok_or(match anchor {
        Some(a) => ChainError::Truncated {
            required: a.seq.saturating_add(1),
            found: 0,
        },
        None => ChainError::Empty,
    })?;
    if let Some(a) = anchor {
        let at = usize::try_from(a.seq).ok().and_then(|i| events.get(i));
        match at {
            None => {
                return Err(ChainError::Truncated {
                    required: a.seq.saturating_add(1),
                    found: events.len(),
                })
            }
            Some(e) if e.hash != a.hash => return Err(ChainError::HeadMismatch { seq: a.seq }),
            Some(_) => {}
        }
    }
    Ok(last.head())
}

/// The audit chain of one verification, built in memory: appends drafts (assigning sequence
/// numbers and hashes) and hands out the events to store.
///
/// ```
/// use kyc_core::audit::{verify_chain, Actor, AuditChain, EventDraft, EventKind};
/// use kyc_core::model::{Timestamp, VerificationId};
/// let id = VerificationId::from_random_bytes([3; 16]);
/// let mut chain = AuditChain::new(id);
/// for kind in [EventKind::DocumentUploaded, EventKind::DocumentRead] {
///     let at = Timestamp::from_secs(1_779_341_048);
///     chain.append(EventDraft::new(id, kind, at, Actor::parse("kyc-serve").unwrap())).unwrap();
/// }
/// assert_eq!(chain.head().unwrap().seq, 1);
/// assert_eq!(verify_chain(chain.events(), chain.head()), Ok(chain.head().unwrap()));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AuditChain {
    verification_id: VerificationId,
    events: Vec<AuditEvent>,
}

impl AuditChain {
    /// An empty chain for `verification_id`.
    pub fn new(verification_id: VerificationId) -> Self {
        Self {
            verification_id,
            events: Vec::new(),
        }
    }

    /// A chain from stored events, verified (against `anchor`, if given) first.
    pub fn from_events(
        verification_id: VerificationId,
        events: Vec<AuditEvent>,
        anchor: Option<ChainHead>,
    ) -> Result<Self, ChainError> {
        if !events.is_empty() || anchor.is_some() {
            verify_chain_for(verification_id, &events, anchor)?;
        }
        Ok(Self {
            verification_id,
            events,
        })
    }

    /// Appends a draft of this chain's verification and returns the new event.
    pub fn append(&mut self, draft: EventDraft) -> Result<&AuditEvent, ChainError> {
        if draft.verification_id != self.verification_id {
            return Err(ChainError::ForeignEvent {
                index: self.events.len(),
            });
        }
        let e = next_event(self.head(), draft)?;
        self.events.push(e);
        self.events.last().ok_or(ChainError::Empty)
    }

    /// The head (`None` while empty).
    pub fn head(&self) -> Option<ChainHead> {
        self.events.last().map(AuditEvent::head)
    }

    /// The verification this chain belongs to.
    pub fn verification_id(&self) -> VerificationId {
        self.verification_id
    }

    /// The events in order.
    pub fn events(&self) -> &[AuditEvent] {
        &self.events
    }

    /// Takes the events out.
    pub fn into_events(self) -> Vec<AuditEvent> {
        self.events
    }

    /// Drops the personal part of every event (erasure); the chain still verifies with the
    /// same head.
    pub fn redact(&mut self) {
        for e in &mut self.events {
            e.personal = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::{
        Actor, DetailKey, DetailValue, EventKind, PersonalData, PersonalPart, Salt,
    };
    use crate::model::Timestamp;
    use proptest::prelude::*;

    fn vid(n: u8) -> VerificationId {
        VerificationId::from_random_bytes([n; 16])
    }

    fn draft(id: VerificationId, i: usize, personal: bool) -> EventDraft {
        let kind = EventKind::ALL[i % EventKind::ALL.len()];
        let mut d = EventDraft::new(
            id,
            kind,
            Timestamp::from_millis(1_779_341_048_000 + i as i64 * 1000),
            Actor::parse("kyc-serve").unwrap(),
        )
        .with_detail("step", i as i64)
        .unwrap()
        .with_detail("score", DetailValue::float(0.5 + i as f64).unwrap())
        .unwrap()
        .with_detail("reason", DetailValue::text("CODE_A").unwrap())
        .unwrap();
        if personal {
            let mut p = PersonalData::new();
            p.insert(DetailKey::parse("surname").unwrap(), "ÅSTRÖM")
                .unwrap();
            p.insert(DetailKey::parse("birth_date").unwrap(), "1974-08-12")
                .unwrap();
            d = d.with_personal(p, Salt::from_bytes([i as u8; 16]));
        }
        d
    }

    fn chain_of(n: usize, personal_mask: u32) -> AuditChain {
        let id = vid(1);
        let mut c = AuditChain::new(id);
        for i in 0..n {
            c.append(draft(id, i, personal_mask & (1 << (i % 32)) != 0))
                .unwrap();
        }
        c
    }

    fn index_of(e: ChainError) -> Option<usize> {
        match e {
            ChainError::UnsupportedFormat { index, .. }
            | ChainError::SequenceGap { index, .. }
            | ChainError::BrokenLink { index }
            | ChainError::PersonalDigestMismatch { index }
            | ChainError::HashMismatch { index }
            | ChainError::ForeignEvent { index } => Some(index),
            _ => None,
        }
    }

    #[test]
    fn an_untouched_chain_verifies_with_and_without_its_anchor() {
        let c = chain_of(5, 0b10110);
        let head = c.head().unwrap();
        assert_eq!(head.seq, 4);
        assert_eq!(verify_chain(c.events(), None), Ok(head));
        assert_eq!(verify_chain(c.events(), Some(head)), Ok(head));
        // An older anchor is fine: the chain grew after it.
        let older = c.events()[2].head();
        assert_eq!(verify_chain(c.events(), Some(older)), Ok(head));
    }

    #[test]
    fn an_empty_chain_does_not_verify() {
        assert_eq!(verify_chain(&[], None), Err(ChainError::Empty));
        let anchor = ChainHead {
            seq: 0,
            hash: Hash256::ZERO,
        };
        assert_eq!(
            verify_chain(&[], Some(anchor)),
            Err(ChainError::Truncated {
                required: 1,
                found: 0
            })
        );
    }

    #[test]
    fn deleting_the_last_event_is_caught_only_with_the_anchor() {
        let c = chain_of(4, 0);
        let head = c.head().unwrap();
        let events = &c.events()[..3];
        assert!(verify_chain(events, None).is_ok());
        assert_eq!(
            verify_chain(events, Some(head)),
            Err(ChainError::Truncated {
                required: 4,
                found: 3
            })
        );
    }

    #[test]
    fn a_rebuilt_chain_is_caught_by_the_anchor() {
        let c = chain_of(3, 0);
        let head = c.head().unwrap();
        // Rewrite history: same number of events, different contents, valid hashes.
        let mut forged = AuditChain::new(vid(1));
        for i in 0..3 {
            forged.append(draft(vid(1), i + 1, false)).unwrap();
        }
        assert!(verify_chain(forged.events(), None).is_ok());
        assert_eq!(
            verify_chain(forged.events(), Some(head)),
            Err(ChainError::HeadMismatch { seq: 2 })
        );
    }

    #[test]
    fn an_event_of_another_verification_is_refused() {
        let mut c = chain_of(2, 0);
        assert_eq!(
            c.append(draft(vid(2), 2, false)).unwrap_err(),
            ChainError::ForeignEvent { index: 2 }
        );
        // A whole chain of another verification verifies alone, not as this one's.
        assert_eq!(
            verify_chain_for(vid(2), c.events(), None),
            Err(ChainError::ForeignEvent { index: 0 })
        );
        // A foreign event spliced in with valid hashes is still caught.
        let mut events = c.events().to_vec();
        let foreign = next_event(Some(c.head().unwrap()), draft(vid(2), 2, false)).unwrap();
        events.push(foreign);
        assert_eq!(
            verify_chain(&events, None),
            Err(ChainError::ForeignEvent { index: 2 })
        );
    }

    #[test]
    fn personal_values_without_a_digest_are_refused() {
        let mut c = chain_of(2, 0);
        let mut events = c.events().to_vec();
        let mut p = PersonalData::new();
        p.insert(DetailKey::parse("surname").unwrap(), "X").unwrap();
        events[1].personal = Some(PersonalPart {
            salt: Salt::from_bytes([0; 16]),
            fields: p,
        });
        assert_eq!(
            verify_chain(&events, None),
            Err(ChainError::PersonalDigestMismatch { index: 1 })
        );
        c.redact();
        assert!(verify_chain(c.events(), None).is_ok());
    }

    #[test]
    fn redaction_keeps_the_head_and_drops_salt_and_values() {
        let mut c = chain_of(4, 0b1111);
        let head = c.head().unwrap();
        c.redact();
        assert_eq!(verify_chain(c.events(), Some(head)), Ok(head));
        for e in c.events() {
            assert!(e.is_redacted());
            let json = serde_json::to_string(e).unwrap();
            assert!(!json.contains("ÅSTRÖM") && !json.contains("1974"), "{json}");
            assert!(!json.contains("salt"), "{json}");
        }
    }

    #[test]
    fn a_tampered_redacted_chain_does_not_verify() {
        let mut c = chain_of(3, 0b111);
        c.redact();
        let mut events = c.into_events();
        events[1].personal_digest = Some(Hash256::from_bytes([7; 32]));
        assert_eq!(
            verify_chain(&events, None),
            Err(ChainError::HashMismatch { index: 1 })
        );
    }

    #[test]
    fn sequence_exhaustion_is_an_error_not_a_wrap() {
        let head = ChainHead {
            seq: u64::MAX,
            hash: Hash256::ZERO,
        };
        assert_eq!(
            next_event(Some(head), draft(vid(1), 0, false)),
            Err(ChainError::SequenceExhausted)
        );
    }

    #[test]
    fn events_round_trip_through_json() {
        let c = chain_of(3, 0b010);
        let json = serde_json::to_string(c.events()).unwrap();
        let back: Vec<AuditEvent> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c.events());
        assert!(verify_chain(&back, c.head()).is_ok());
    }

    #[test]
    fn stored_json_shape_is_stable() {
        let c = chain_of(2, 0b10);
        insta::assert_json_snapshot!("stored_events", c.events());
    }

    #[test]
    fn errors_never_echo_event_contents() {
        let mut c = chain_of(2, 0b11);
        let mut events = c.events().to_vec();
        events[0].details = Default::default();
        let msg = verify_chain(&events, None).unwrap_err().to_string();
        assert_eq!(msg, "audit event 0 does not match its hash");
        c.redact();
        assert!(!format!("{:?}", chain_of(2, 0b11)).contains("ÅSTRÖM"));
    }

    #[test]
    fn every_readable_single_byte_change_of_a_stored_event_is_detected_there() {
        let c = chain_of(3, 0b010);
        let head = c.head().unwrap();
        for (k, redact) in [(1, false), (1, true), (2, false)] {
            let mut events = c.events().to_vec();
            if redact {
                events[k] = events[k].redacted();
            }
            let json = serde_json::to_vec(&events[k]).unwrap();
            let mut changed = 0;
            for at in 0..json.len() {
                for &to in b"0123456789abcdefxyzAF-_.:\" {}[],ntle" {
                    let mut bytes = json.clone();
                    bytes[at] = to;
                    let Ok(e) = serde_json::from_slice::<AuditEvent>(&bytes) else {
                        continue;
                    };
                    if e == events[k] {
                        continue;
                    }
                    changed += 1;
                    let mut tampered = events.clone();
                    tampered[k] = e;
                    let err = verify_chain(&tampered, Some(head)).unwrap_err();
                    assert_eq!(index_of(err), Some(k), "byte {at} -> {to:#x}: {err:?}");
                }
            }
            // Digits, hex digits, letters of codes and keys: hundreds of readable changes.
            assert!(changed > 300, "only {changed} readable changes");
        }
    }

    /// One mutation of a stored chain.
    #[derive(Debug, Clone)]
    enum Tamper {
        /// Change one byte of the JSON of one event.
        Byte { event: usize, at: usize, to: u8 },
        /// Delete one event.
        Delete(usize),
        /// Insert a copy of event `from` before position `at`.
        InsertCopy { from: usize, at: usize },
        /// Insert a well-formed forged event before position `at`.
        InsertForged { at: usize },
        /// Swap two events.
        Swap(usize, usize),
    }

    fn arb_tamper() -> impl Strategy<Value = Tamper> {
        prop_oneof![
            4 => (any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>())
                .prop_map(|(e, a, to)| Tamper::Byte { event: e.index(1 << 16), at: a.index(1 << 16), to }),
            1 => any::<prop::sample::Index>().prop_map(|i| Tamper::Delete(i.index(1 << 16))),
            1 => (any::<prop::sample::Index>(), any::<prop::sample::Index>())
                .prop_map(|(f, a)| Tamper::InsertCopy { from: f.index(1 << 16), at: a.index(1 << 16) }),
            1 => any::<prop::sample::Index>().prop_map(|a| Tamper::InsertForged { at: a.index(1 << 16) }),
            1 => (any::<prop::sample::Index>(), any::<prop::sample::Index>())
                .prop_map(|(a, b)| Tamper::Swap(a.index(1 << 16), b.index(1 << 16))),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn every_single_tamper_is_detected_at_its_position(
            n in 1usize..8,
            mask in any::<u32>(),
            redact_mask in any::<u32>(),
            tamper in arb_tamper(),
        ) {
            let mut c = chain_of(n, mask);
            let head = c.head().unwrap();
            if redact_mask & 1 == 1 {
                c.redact();
            }
            let original = c.into_events();
            let mut events = original.clone();
            // `expected`: the positions at which the verifier may report the tamper.
            let expected: Vec<usize> = match tamper {
                Tamper::Byte { event, at, to } => {
                    let k = event % n;
                    let mut json = serde_json::to_vec(&events[k]).unwrap();
                    let at = at % json.len();
                    if json[at] == to {
                        return Ok(());
                    }
                    json[at] = to;
                    match serde_json::from_slice::<AuditEvent>(&json) {
                        // Unreadable: the store refuses it before the verifier sees it.
                        Err(_) => return Ok(()),
                        // The same value spelt differently (e.g. `1e0` for `1.0`).
                        Ok(e) if e == events[k] => return Ok(()),
                        Ok(e) => events[k] = e,
                    }
                    vec![k]
                }
                Tamper::Delete(i) => {
                    let k = i % n;
                    events.remove(k);
                    // Deleting the last event shows only against the anchor (no index).
                    if k == n - 1 { vec![] } else { vec![k] }
                }
                Tamper::InsertCopy { from, at } => {
                    let (f, k) = (from % n, at % (n + 1));
                    events.insert(k, original[f].clone());
                    // A copy of the event that was already at `k` fits there; the next one
                    // then shows the duplication.
                    vec![k, k + 1]
                }
                Tamper::InsertForged { at } => {
                    let k = at % n; // strictly before the end: appending is legitimate
                    let prev = k.checked_sub(1).map(|p| original[p].head());
                    let forged = next_event(prev, draft(vid(1), 99, false)).unwrap();
                    events.insert(k, forged);
                    // A well-formed forgery shows at the event after it.
                    vec![k + 1]
                }
                Tamper::Swap(a, b) => {
                    let (a, b) = (a % n, b % n);
                    if a == b {
                        return Ok(());
                    }
                    events.swap(a, b);
                    vec![a.min(b)]
                }
            };
            let err = verify_chain(&events, Some(head)).unwrap_err();
            match index_of(err) {
                Some(i) => prop_assert!(expected.contains(&i), "{err:?} not at {expected:?}"),
                None => prop_assert!(
                    expected.is_empty() && matches!(err, ChainError::Truncated { .. }),
                    "{err:?}"
                ),
            }
        }

        #[test]
        fn any_subset_of_redacted_events_still_verifies(
            n in 1usize..10, mask in any::<u32>(), redact in any::<u32>(),
        ) {
            let c = chain_of(n, mask);
            let head = c.head().unwrap();
            let events: Vec<AuditEvent> = c
                .events()
                .iter()
                .enumerate()
                .map(|(i, e)| if redact & (1 << i) != 0 { e.redacted() } else { e.clone() })
                .collect();
            prop_assert_eq!(verify_chain(&events, Some(head)), Ok(head));
        }
    }
}
