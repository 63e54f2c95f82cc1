//! The canonical byte encoding of an audit event (format 1) and of a personal part: the exact
//! bytes the hash chain commits to. Never JSON: fixed field order, fixed-width integers and
//! length-prefixed variable fields, so the encoding does not depend on any serialiser.
//!
//! # Event, format 1
//!
//! ```text
//! u8      0x01                      format
//! u64 BE  seq
//! lp      verification id           36 ASCII bytes, lowercase hyphenated UUID
//! lp      kind                      wire name, e.g. "face_matched"
//! i64 BE  occurred_at               milliseconds since the Unix epoch
//! lp      actor
//! u32 BE  n                         number of details, then n times, in key byte order:
//!   lp      key
//!   u8      type                    0x01 bool | 0x02 int | 0x03 float | 0x04 text
//!   ...     value                   bool: 1 byte 0x00/0x01; int: i64 BE;
//!                                   float: IEEE 754 binary64 bits, u64 BE; text: lp
//! u8      0x00 | 0x01               personal digest absent | present, then
//!   [32]    digest                  (only when present)
//! ```
//!
//! `lp` is a `u32` big-endian byte length followed by that many bytes (UTF-8 for text).
//! Every variable-length field carries its length and the detail list its count, so the
//! encoding is prefix-free and therefore injective: two different events never share an
//! encoding, and no byte can be moved from one field to its neighbour (`("ab","c")` and
//! `("a","bc")` encode differently).
//!
//! The chain hash of an event is `SHA-256(prev_hash || encoding)` where `prev_hash` is the
//! 32-byte hash of the previous event (32 zero bytes for the first one). Neither the event's
//! own `hash`, its `prev_hash` (it is hashed in front, not inside) nor the personal values
//! themselves are part of the encoding.
//!
//! # Personal part
//!
//! ```text
//! digest = SHA-256( "kyc-audit/personal/v1"   21 ASCII bytes, a domain tag
//!                || salt                      16 bytes
//!                || u32 BE n || n times (lp key || lp value), in key byte order )
//! ```

use sha2::Digest as _;

use super::event::{AuditEvent, DetailValue, Hash256, PersonalData, Salt};

/// The domain tag in front of every personal digest.
pub const PERSONAL_TAG: &[u8; 21] = b"kyc-audit/personal/v1";

/// Anything the encoder writes to: a byte vector or a running hash.
trait Sink {
    fn put(&mut self, b: &[u8]);

    fn lp(&mut self, b: &[u8]) {
        // Every encoded field is bounded far below 4 GiB by its type's limits; saturating keeps
        // the encoder total even so.
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        self.put(&len.to_be_bytes());
        self.put(b);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

impl Sink for sha2::Sha256 {
    fn put(&mut self, b: &[u8]) {
        self.update(b);
    }
}

fn write_event(e: &AuditEvent, out: &mut impl Sink) {
    out.put(&[e.format]);
    out.put(&e.seq.to_be_bytes());
    out.lp(e.verification_id.as_str().as_bytes());
    out.lp(e.kind.as_str().as_bytes());
    out.put(&e.occurred_at.millis().to_be_bytes());
    out.lp(e.actor.as_str().as_bytes());
    let n = u32::try_from(e.details.len()).unwrap_or(u32::MAX);
    out.put(&n.to_be_bytes());
    for (k, v) in e.details.iter() {
        out.lp(k.as_str().as_bytes());
        match v {
            DetailValue::Bool(b) => out.put(&[0x01, u8::from(*b)]),
            DetailValue::Int(i) => {
                out.put(&[0x02]);
                out.put(&i.to_be_bytes());
            }
            DetailValue::Float(f) => {
                out.put(&[0x03]);
                out.put(&f.value().to_bits().to_be_bytes());
            }
            DetailValue::Text(t) => {
                out.put(&[0x04]);
                out.lp(t.as_str().as_bytes());
            }
        }
    }
    match &e.personal_digest {
        None => out.put(&[0x00]),
        Some(d) => {
            out.put(&[0x01]);
            out.put(d.as_bytes());
        }
    }
}

/// The canonical encoding of `event` (see the module documentation).
pub fn encode(event: &AuditEvent) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    write_event(event, &mut out);
    out
}

/// `SHA-256(prev_hash || encode(event))`, computed without building the encoding in memory.
pub fn chain_hash(prev_hash: &Hash256, event: &AuditEvent) -> Hash256 {
    let mut h = sha2::Sha256::new();
    h.update(prev_hash.as_bytes());
    write_event(event, &mut h);
    Hash256::from_bytes(h.finalize().into())
}

/// The salted digest of a personal part (see the module documentation).
pub fn personal_digest(salt: &Salt, fields: &PersonalData) -> Hash256 {
    let mut h = sha2::Sha256::new();
    h.put(PERSONAL_TAG);
    h.put(salt.as_bytes());
    let n = u32::try_from(fields.len()).unwrap_or(u32::MAX);
    h.put(&n.to_be_bytes());
    for (k, v) in fields.iter() {
        h.lp(k.as_str().as_bytes());
        h.lp(v.as_bytes());
    }
    Hash256::from_bytes(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::{Actor, DetailKey, EventDraft, EventKind, PersonalData};
    use crate::audit::next_event;
    use crate::model::{Timestamp, VerificationId};
    use proptest::prelude::*;

    fn vid() -> VerificationId {
        VerificationId::from_random_bytes([0x5A; 16])
    }

    fn event_with(details: &[(&str, DetailValue)], actor: &str) -> AuditEvent {
        let mut d = EventDraft::new(
            vid(),
            EventKind::Decided,
            Timestamp::from_millis(1_779_341_048_123),
            Actor::parse(actor).unwrap(),
        );
        for (k, v) in details {
            d = d.with_detail(k, v.clone()).unwrap();
        }
        next_event(None, d).unwrap()
    }

    #[test]
    fn the_hash_is_sha256_of_prev_hash_and_the_encoding() {
        let e = event_with(&[("reason", DetailValue::text("OK").unwrap())], "svc");
        let mut input = Hash256::ZERO.as_bytes().to_vec();
        input.extend_from_slice(&encode(&e));
        assert_eq!(e.hash(), Hash256::sha256_of(&[&input]));
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let a = event_with(&[("ab", DetailValue::text("c").unwrap())], "svc");
        let b = event_with(&[("a", DetailValue::text("bc").unwrap())], "svc");
        assert_ne!(encode(&a), encode(&b));
        // A detail key cannot absorb the actor either.
        let c = event_with(&[("x", DetailValue::text("").unwrap())], "svc");
        let d = event_with(&[("x", DetailValue::text("").unwrap())], "svcx");
        assert_ne!(encode(&c), encode(&d));
    }

    #[test]
    fn detail_types_are_distinguished() {
        let a = event_with(&[("v", DetailValue::Int(1))], "svc");
        let b = event_with(&[("v", DetailValue::Bool(true))], "svc");
        let c = event_with(&[("v", DetailValue::float(1.0).unwrap())], "svc");
        let d = event_with(&[("v", DetailValue::text("1").unwrap())], "svc");
        let all = [encode(&a), encode(&b), encode(&c), encode(&d)];
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                assert_ne!(all[i], all[j]);
            }
        }
    }

    #[test]
    fn personal_digest_depends_on_salt_and_boundaries() {
        let mut p1 = PersonalData::new();
        p1.insert(DetailKey::parse("ab").unwrap(), "c").unwrap();
        let mut p2 = PersonalData::new();
        p2.insert(DetailKey::parse("a").unwrap(), "bc").unwrap();
        let s = Salt::from_bytes([1; 16]);
        assert_ne!(personal_digest(&s, &p1), personal_digest(&s, &p2));
        assert_ne!(
            personal_digest(&s, &p1),
            personal_digest(&Salt::from_bytes([2; 16]), &p1)
        );
    }

    #[test]
    fn canonical_encoding_is_stable() {
        let mut p = PersonalData::new();
        p.insert(DetailKey::parse("surname").unwrap(), "ERIKSSON")
            .unwrap();
        let draft = EventDraft::new(
            vid(),
            EventKind::FaceMatched,
            Timestamp::from_millis(1_779_341_048_123),
            Actor::parse("face-worker").unwrap(),
        )
        .with_detail("match", true)
        .unwrap()
        .with_detail("similarity", DetailValue::float(91.5).unwrap())
        .unwrap()
        .with_detail("frames", 12)
        .unwrap()
        .with_detail("policy_version", DetailValue::text("2026-05").unwrap())
        .unwrap()
        .with_personal(p, Salt::from_bytes([0x11; 16]));
        let e = next_event(None, draft).unwrap();
        let hex = hex::encode(encode(&e));
        // One line per 32 bytes so a format change shows where it happened.
        let lines: Vec<&str> = hex
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        insta::assert_snapshot!(
            "canonical_event_v1",
            format!("{}\nhash {}", lines.join("\n"), e.hash())
        );
    }

    fn arb_value() -> impl Strategy<Value = DetailValue> {
        prop_oneof![
            any::<bool>().prop_map(DetailValue::Bool),
            any::<i64>().prop_map(DetailValue::Int),
            (-1e9f64..1e9).prop_map(|f| DetailValue::float(f).unwrap()),
            "[ -~]{0,8}".prop_map(|s| DetailValue::text(&s).unwrap()),
        ]
    }

    fn arb_details() -> impl Strategy<Value = Vec<(String, DetailValue)>> {
        proptest::collection::vec(("[a-c][a-c.]{0,3}", arb_value()), 0..4)
    }

    /// The parts of an event, drawn from small sets so that equal parts are frequent.
    type Parts = (
        u64,
        u8,
        usize,
        i64,
        String,
        Vec<(String, DetailValue)>,
        Option<u8>,
    );

    fn arb_parts() -> impl Strategy<Value = Parts> {
        (
            0u64..3,
            0u8..2,
            0usize..3,
            -1i64..2,
            "[a-c]{1,4}",
            arb_details(),
            proptest::option::of(0u8..2),
        )
    }

    fn build((seq, id, kind, at, actor, details, digest): &Parts) -> AuditEvent {
        let mut d = EventDraft::new(
            VerificationId::from_random_bytes([*id; 16]),
            EventKind::ALL[*kind],
            Timestamp::from_millis(*at),
            Actor::parse(actor).unwrap(),
        );
        for (k, v) in details {
            d = d.with_detail(k, v.clone()).unwrap();
        }
        let mut e = next_event(None, d).unwrap();
        e.seq = *seq;
        e.personal_digest = digest.map(|b| Hash256::from_bytes([b; 32]));
        e
    }

    proptest! {
        #[test]
        fn different_events_have_different_encodings(a in arb_parts(), b in arb_parts()) {
            let (ea, eb) = (build(&a), build(&b));
            // The encoding holds every field but the two hashes and the clear personal part.
            let same = ea.seq == eb.seq
                && ea.verification_id == eb.verification_id
                && ea.kind == eb.kind
                && ea.occurred_at == eb.occurred_at
                && ea.actor == eb.actor
                && ea.details == eb.details
                && ea.personal_digest == eb.personal_digest;
            prop_assert_eq!(same, encode(&ea) == encode(&eb));
        }
    }
}
