//! Benchmark: synthesising the three environments (build the typed model, check every
//! reference, render YAML). Target: well under a second for all three.
#![allow(missing_docs)] // criterion macros generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use stackgen::stack::{Env, Features};
use stackgen::synth::{render, Format};

fn all_three() -> usize {
    Env::ALL
        .iter()
        .map(|env| {
            render(*env, Features::ALL, Format::Yaml)
                .map(|t| t.len())
                .unwrap_or(0)
        })
        .sum()
}

fn bench(c: &mut Criterion) {
    c.bench_function("synth dev+stage+prod (yaml)", |b| b.iter(all_three));
    c.bench_function("synth prod (json)", |b| {
        b.iter(|| render(Env::Prod, Features::ALL, Format::Json).map(|t| t.len()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
