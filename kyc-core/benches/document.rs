//! Benchmarks of document reading: Textract responses parsed from bytes and normalised into
//! one record (AnalyzeID, and a two-page FORMS response of 223 blocks), and the pair
//! normaliser alone.
#![allow(missing_docs)] // criterion macros generate undocumented items
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kyc_core::document::textract::{
    normalise_analyze_document, normalise_analyze_id, parse_analyze_document, parse_analyze_id,
};
use kyc_core::document::{normalise_pairs, KeyValue, NormaliseHints};
use kyc_core::model::Date;

const ANALYZE_ID: &[u8] = include_bytes!("../tests/data/textract/analyze_id_us_passport.json");
const FORMS: &[u8] = include_bytes!("../tests/data/textract/forms_de_id_card.json");

fn hints() -> NormaliseHints {
    NormaliseHints::new(Date::from_ymd(2026, 1, 15).expect("valid date"))
}

fn textract(c: &mut Criterion) {
    let hints = hints();
    let blocks = parse_analyze_document(FORMS)
        .expect("fixture parses")
        .blocks
        .len();
    let mut g = c.benchmark_group("textract");
    g.throughput(Throughput::Elements(1));
    g.bench_function("analyze_id_parse_and_normalise", |b| {
        b.iter(|| {
            let r = parse_analyze_id(black_box(ANALYZE_ID)).expect("fixture parses");
            normalise_analyze_id(&r, &hints)
        })
    });
    g.bench_function(format!("forms_{blocks}_blocks_parse_and_normalise"), |b| {
        b.iter(|| {
            let r = parse_analyze_document(black_box(FORMS)).expect("fixture parses");
            normalise_analyze_document(&r, &hints)
        })
    });
    let parsed = parse_analyze_document(FORMS).expect("fixture parses");
    g.bench_function(format!("forms_{blocks}_blocks_normalise_only"), |b| {
        b.iter(|| normalise_analyze_document(black_box(&parsed), &hints))
    });
    g.finish();
}

fn pairs(c: &mut Criterion) {
    let hints = hints();
    let pairs = [
        KeyValue::new("Name / Surname / Nom", "MUSTERMANN", 97.0),
        KeyValue::new("Vornamen / Given names / Prénoms", "ERIKA", 96.0),
        KeyValue::new(
            "Geburtstag / Date of birth / Date de naissance",
            "12.08.1964",
            95.0,
        ),
        KeyValue::new(
            "Staatsangehörigkeit / Nationality / Nationalité",
            "DEUTSCH",
            94.0,
        ),
        KeyValue::new(
            "Gültig bis / Date of expiry / Date d'expiration",
            "01.08.2031",
            93.0,
        ),
        KeyValue::new(
            "Geburtsort / Place of birth / Lieu de naissance",
            "BERLIN",
            92.0,
        ),
        KeyValue::new(
            "Augenfarbe / Colour of eyes / Couleur des yeux",
            "GRÜN",
            92.0,
        ),
        KeyValue::new("Behörde / Authority / Autorité", "STADT KÖLN", 91.0),
    ];
    let mut g = c.benchmark_group("normalise");
    g.throughput(Throughput::Elements(1));
    g.bench_function("eight_pairs", |b| {
        b.iter(|| normalise_pairs(black_box(&pairs), &hints))
    });
    g.finish();
}

criterion_group!(benches, textract, pairs);
criterion_main!(benches);
