//! Benchmarks of the local stores on a real data directory (fsync on every commit): audit
//! appends, session saves and loads (a bare session, and one carrying liveness findings with face
//! embeddings), encrypted object puts and gets, outbox publishing, ES256 signing.
//! Each prints p50/p95 latencies from its own timed samples, then runs criterion.
#![allow(missing_docs)] // criterion macros generate undocumented items

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use kyc_core::audit::{Actor, DetailKey, DetailValue, EventDraft, EventKind, PersonalData, Salt};
use kyc_core::liveness::synth::Performer;
use kyc_core::liveness::{Challenge, ChallengePolicy};
use kyc_core::model::{Timestamp, VerificationId};
use kyc_core::ports::fakes::FakeClock;
use kyc_core::ports::fakes::SeededRandom;
use kyc_core::ports::{DomainEvent, EventKind as DomainKind, ObjectKey, Version};
use kyc_core::session::{ReadOutcome, Session, Step, StepKey};
use kyc_core::token::TokenVerifier as _;
use kyc_local::storage::{DataDir, LocalStores};

const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

/// Times `n` runs of `f` (after a short warm-up) and prints p50, p95 and the rate at p50.
fn percentiles(name: &str, n: usize, mut f: impl FnMut(usize)) {
    for i in 0..n.min(10) {
        f(i);
    }
    let mut samples: Vec<Duration> = (0..n)
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed()
        })
        .collect();
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let (p50, p95) = (at(0.50), at(0.95));
    println!(
        "{name}: p50 {:.3} ms, p95 {:.3} ms ({:.0}/s at p50, n={n})",
        p50.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        1.0 / p50.as_secs_f64()
    );
}

fn draft(id: VerificationId, i: usize) -> EventDraft {
    let mut p = PersonalData::new();
    p.insert(DetailKey::parse("surname").unwrap(), "ERIKSSON")
        .unwrap();
    EventDraft::new(
        id,
        EventKind::FrameAccepted,
        T0,
        Actor::parse("bench").unwrap(),
    )
    .with_detail("similarity", DetailValue::float(91.5).unwrap())
    .unwrap()
    .with_personal(p, Salt::from_bytes([i as u8; 16]))
}

/// A session as it is mid-liveness: document read, a challenge open, and the frames admitted
/// for it (each with a 128-d face embedding), about the size the service saves per frame.
fn session_with_findings(id: VerificationId) -> Session {
    let mut s = Session::start(
        id,
        StepKey::parse("k").unwrap(),
        T0,
        T0.plus_millis(900_000),
    );
    s.apply(
        Step::ReadDocument {
            outcome: ReadOutcome::Readable,
        },
        T0,
    )
    .unwrap();
    let challenge = Challenge::issue(&ChallengePolicy::default(), &SeededRandom::new(1), T0);
    let frames = Performer::for_challenge(&challenge)
        .seed(2)
        .performs_challenge()
        .frames();
    let f = s.findings_mut();
    f.upload_digest = Some("ab".repeat(32));
    f.challenge = Some(challenge);
    f.frames = frames;
    s
}

fn stores(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let s = LocalStores::open(&DataDir::new(dir.path()), Arc::new(FakeClock::at(T0))).unwrap();

    let id = VerificationId::from_random_bytes([1; 16]);
    percentiles("audit append (personal part, fsync)", 300, |i| {
        s.audit.append_blocking(draft(id, i)).unwrap();
    });
    percentiles("audit read + decrypt (chain of 310)", 30, |_| {
        black_box(s.audit.read_blocking(id).unwrap());
    });

    let session = Session::start(
        VerificationId::from_random_bytes([2; 16]),
        StepKey::parse("k").unwrap(),
        T0,
        T0.plus_millis(900_000),
    );
    s.sessions.save_blocking(&session, None).unwrap();
    let mut version = Version(1);
    percentiles("session save (conditional update)", 300, |_| {
        version = s.sessions.save_blocking(&session, Some(version)).unwrap();
    });
    percentiles("session load", 300, |_| {
        black_box(
            s.sessions
                .load_blocking(&session.verification_id())
                .unwrap(),
        );
    });

    let rich = session_with_findings(VerificationId::from_random_bytes([5; 16]));
    let rich_id = rich.verification_id();
    println!(
        "session with findings: {} frames, {} bytes of JSON",
        rich.findings().frames.len(),
        serde_json::to_vec(&rich).unwrap().len()
    );
    s.sessions.save_blocking(&rich, None).unwrap();
    let mut rich_version = Version(1);
    percentiles(
        "session with findings: save (conditional update)",
        300,
        |_| {
            rich_version = s.sessions.save_blocking(&rich, Some(rich_version)).unwrap();
        },
    );
    percentiles("session with findings: load", 300, |_| {
        black_box(s.sessions.load_blocking(&rich_id).unwrap());
    });

    for (label, len) in [("100 KB", 100 * 1024), ("1 MB", 1024 * 1024)] {
        let bytes = vec![0xA5u8; len];
        let key = ObjectKey::id_upload(&VerificationId::from_random_bytes([3; 16]));
        percentiles(
            &format!("object put {label} (encrypt, 2 fsyncs, commit)"),
            60,
            |_| s.objects.put_blocking(&key, &bytes, "image/jpeg").unwrap(),
        );
        percentiles(&format!("object get {label} (read, decrypt)"), 60, |_| {
            black_box(s.objects.get_blocking(&key).unwrap());
        });
    }

    let event = DomainEvent {
        verification_id: id,
        kind: DomainKind::DocumentRead,
        at: T0,
        status: None,
    };
    percentiles("outbox publish (durable)", 300, |_| {
        s.events.publish_blocking(&event).unwrap();
    });

    let signer = s.keys.signer();
    let input = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0";
    percentiles("es256 sign", 300, |_| {
        black_box(signer.sign_blocking(input).unwrap());
    });
    let sig = signer.sign_blocking(input).unwrap();
    let kid = kyc_core::token::TokenSigner::key_id(&signer).to_owned();
    percentiles("es256 verify", 300, |_| {
        s.keys.verify(&kid, input, &sig).unwrap();
    });

    let mut g = c.benchmark_group("local stores");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    let mut i = 0;
    g.bench_function("audit append", |b| {
        b.iter(|| {
            i += 1;
            s.audit.append_blocking(draft(id, i)).unwrap()
        })
    });
    let bytes = vec![0xA5u8; 1024 * 1024];
    let key = ObjectKey::id_upload(&VerificationId::from_random_bytes([4; 16]));
    g.bench_function("session with findings: load", |b| {
        b.iter(|| s.sessions.load_blocking(&rich_id).unwrap())
    });
    g.bench_function("session with findings: save + load", |b| {
        b.iter(|| {
            rich_version = s.sessions.save_blocking(&rich, Some(rich_version)).unwrap();
            s.sessions.load_blocking(&rich_id).unwrap()
        })
    });
    g.bench_function("object put 1 MB", |b| {
        b.iter(|| s.objects.put_blocking(&key, &bytes, "image/jpeg").unwrap())
    });
    g.bench_function("object get 1 MB", |b| {
        b.iter(|| s.objects.get_blocking(&key).unwrap())
    });
    g.bench_function("es256 sign", |b| {
        b.iter(|| signer.sign_blocking(input).unwrap())
    });
    g.finish();
}

criterion_group!(benches, stores);
criterion_main!(benches);
