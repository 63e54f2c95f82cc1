//! Benchmarks of liveness verification and face-match aggregation: what one verify call costs
//! for a typical challenge and for the largest frame count the default policy admits.
#![allow(missing_docs)] // criterion macros generate undocumented items
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kyc_core::facematch::{aggregate, Aggregation};
use kyc_core::liveness::synth::Performer;
use kyc_core::liveness::{
    verify, Challenge, ChallengePolicy, Gesture, LivenessPolicy, LivenessTracker, Nonce,
};
use kyc_core::model::{Similarity, Timestamp};

fn challenge() -> Challenge {
    Challenge::fixed(
        Nonce::from_bytes([7; 16]),
        &[
            Gesture::TurnLeft,
            Gesture::Blink,
            Gesture::Smile,
            Gesture::Nod,
        ],
        Timestamp::from_secs(1_795_000_000),
        &ChallengePolicy::default(),
    )
}

fn liveness(c: &mut Criterion) {
    let ch = challenge();
    let policy = LivenessPolicy::default();
    let typical = Performer::for_challenge(&ch).performs_challenge().frames();
    let largest = Performer::for_challenge(&ch)
        .every_ms(100)
        .performs_challenge()
        .rests(150)
        .frames();
    let largest = &largest[..150];

    c.bench_function("liveness::verify 4 gestures, 27 frames", |b| {
        b.iter(|| {
            verify(
                black_box(&ch),
                black_box(&typical),
                &policy,
                ch.expires_at(),
            )
        })
    });
    c.bench_function("liveness::verify 4 gestures, 150 frames", |b| {
        b.iter(|| verify(black_box(&ch), black_box(largest), &policy, ch.expires_at()))
    });
    c.bench_function(
        "liveness::LivenessTracker submit 27 frames + outcome",
        |b| {
            b.iter(|| {
                let mut t = LivenessTracker::new(ch.clone(), policy.clone());
                for f in &typical {
                    let _ = t.submit(f.clone());
                }
                t.outcome(ch.expires_at())
            })
        },
    );
}

fn facematch(c: &mut Criterion) {
    let sims: Vec<Similarity> = (0..150)
        .map(|i| Similarity::saturating(80.0 + (i % 17) as f32))
        .collect();
    c.bench_function("facematch::aggregate median of 150", |b| {
        b.iter(|| aggregate(Aggregation::Median, black_box(&sims)))
    });
}

criterion_group!(benches, liveness, facematch);
criterion_main!(benches);
