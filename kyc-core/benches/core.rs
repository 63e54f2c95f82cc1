//! Benchmarks of kyc-core (skeleton).
#![allow(missing_docs)] // criterion macros generate undocumented items
use criterion::{criterion_group, criterion_main, Criterion};

fn fold(c: &mut Criterion) {
    c.bench_function("text::fold", |b| {
        b.iter(|| kyc_core::text::fold(std::hint::black_box("Ståle Øvregård")))
    });
}

criterion_group!(benches, fold);
criterion_main!(benches);
