//! Benchmarks of the audit chain, the session state machine and token parsing.
#![allow(missing_docs)] // criterion macros generate undocumented items
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kyc_core::audit::{
    next_event, verify_chain, Actor, AuditChain, DetailKey, DetailValue, EventDraft, EventKind,
    PersonalData, Salt,
};
use kyc_core::model::{Timestamp, VerificationId};
use kyc_core::session::{ReadOutcome, Session, Step, StepKey};
use kyc_core::token::{assemble, signing_input, JwtHeader, UnverifiedToken};

fn draft(id: VerificationId, i: usize) -> EventDraft {
    let mut p = PersonalData::new();
    p.insert(DetailKey::parse("surname").unwrap(), "ERIKSSON")
        .unwrap();
    p.insert(DetailKey::parse("birth_date").unwrap(), "1974-08-12")
        .unwrap();
    EventDraft::new(
        id,
        EventKind::ALL[i % EventKind::ALL.len()],
        Timestamp::from_millis(1_779_341_048_000 + i as i64),
        Actor::parse("kyc-serve").unwrap(),
    )
    .with_detail("similarity", DetailValue::float(91.5).unwrap())
    .unwrap()
    .with_detail("match", true)
    .unwrap()
    .with_detail("frames", 12)
    .unwrap()
    .with_detail("policy_version", DetailValue::text("2026-05").unwrap())
    .unwrap()
    .with_personal(p, Salt::from_bytes([i as u8; 16]))
}

fn audit(c: &mut Criterion) {
    let id = VerificationId::from_random_bytes([1; 16]);
    let mut chain = AuditChain::new(id);
    for i in 0..100 {
        chain.append(draft(id, i)).unwrap();
    }
    let head = chain.head();
    let d = draft(id, 7);
    c.bench_function("audit::next_event (4 details + personal part)", |b| {
        b.iter(|| next_event(black_box(head), black_box(d.clone())))
    });
    c.bench_function("audit::verify_chain (100 events)", |b| {
        b.iter(|| verify_chain(black_box(chain.events()), head))
    });
    let json = serde_json::to_string(chain.events()).unwrap();
    c.bench_function("audit: parse + verify stored JSON (100 events)", |b| {
        b.iter(|| {
            let events: Vec<kyc_core::audit::AuditEvent> =
                serde_json::from_str(black_box(&json)).unwrap();
            verify_chain(&events, head)
        })
    });
}

fn session_and_token(c: &mut Criterion) {
    let t0 = Timestamp::from_secs(1_779_341_048);
    let key = |s: &str| StepKey::parse(s).unwrap();
    let mut s = Session::start(
        VerificationId::from_random_bytes([2; 16]),
        key("idem"),
        t0,
        t0.plus_millis(900_000),
    );
    s.apply(
        Step::ReadDocument {
            outcome: ReadOutcome::Readable,
        },
        t0,
    )
    .unwrap();
    s.apply(Step::IssueChallenge { nonce: key("n1") }, t0)
        .unwrap();
    for i in 0..30 {
        let frame = Step::AcceptFrame {
            nonce: key("n1"),
            frame_id: key(&format!("f{i}")),
        };
        s.apply(frame, t0).unwrap();
    }
    let replay = Step::AcceptFrame {
        nonce: key("n1"),
        frame_id: key("f29"),
    };
    c.bench_function("session::apply (replay after 30 frames)", |b| {
        b.iter(|| {
            let mut s = s.clone();
            s.apply(black_box(replay.clone()), t0)
        })
    });

    let claims = serde_json::from_str(
        r#"{"iss":"https://kyc.example","sub":"01010101-0101-4101-8101-010101010101",
        "aud":"securetask","iat":1779341048,"nbf":1779341048,"exp":1779344648,
        "jti":"wVwCiewtCpFn7I5loY3rvg","acr":"kyc:document+liveness+facematch+sanctions",
        "verification_id":"01010101-0101-4101-8101-010101010101","policy_version":"2026-05"}"#,
    )
    .unwrap();
    let input = signing_input(&JwtHeader::es256("k1"), &claims).unwrap();
    let token = assemble(&input, &[7; 64]);
    c.bench_function("token::UnverifiedToken::parse", |b| {
        b.iter(|| UnverifiedToken::parse(black_box(&token)))
    });
}

criterion_group!(benches, audit, session_and_token);
criterion_main!(benches);
