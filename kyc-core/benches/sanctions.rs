//! Micro-benchmarks of the sanctions matcher and engine on the repository's small fixtures
//! (`cargo bench -p kyc-core --bench sanctions`). The figures of the issue (name-bench F1, UN
//! positives, negatives, latency over the real lists, 1M-name corpus, load time and memory)
//! come from `kyc sanctions bench` over the shared data.
#![allow(missing_docs)] // criterion macros generate undocumented items
use criterion::{criterion_group, criterion_main, Criterion};
use kyc_core::sanctions::{
    load_ofac, load_un, name_similarity, BirthDateFact, ListKind, OfacFiles, SanctionsIndex,
    ScreenOptions, ScreeningQuery,
};

fn matcher(c: &mut Criterion) {
    c.bench_function("sanctions::name_similarity", |b| {
        b.iter(|| {
            name_similarity(
                std::hint::black_box("AL-HASHIMI, Yusuf Abd al-Rahman"),
                std::hint::black_box("Yousef Abdul Rahman Al Hashimi"),
            )
        })
    });
}

fn engine(c: &mut Criterion) {
    let sdn = load_ofac(
        OfacFiles {
            primary: include_bytes!("../tests/data/sanctions/ofac-sdn/sdn.csv"),
            aliases: Some(include_bytes!("../tests/data/sanctions/ofac-sdn/alt.csv")),
            addresses: None,
            comments: Some(include_bytes!(
                "../tests/data/sanctions/ofac-sdn/sdn_comments.csv"
            )),
        },
        ListKind::OfacSdn,
    )
    .expect("fixture loads");
    let un = load_un(include_bytes!(
        "../tests/data/sanctions/un/un_consolidated.xml"
    ))
    .expect("fixture loads");
    let index = SanctionsIndex::build(vec![sdn, un]);
    let q = ScreeningQuery {
        name: "Rustam Karimov".into(),
        birth_date: BirthDateFact::parse("1971-03-14"),
        nationality: None,
    };
    let opts = ScreenOptions::default();
    c.bench_function("sanctions::screen (fixtures)", |b| {
        b.iter(|| index.screen(std::hint::black_box(&q), &opts))
    });
}

criterion_group!(benches, matcher, engine);
criterion_main!(benches);
