//! Benchmarks of the Tesseract reader on generated documents (TD1 and TD3, 200–600 dpi, blur,
//! rotation, JPEG): the whole read (target ≤ 1.5 s) and the MRZ band alone (decode, analysis,
//! both recognisers on the band; target ≤ 300 ms), with p50/p95 over 24 different documents,
//! then criterion's figures for one passport page. Run on one core:
//! `OMP_THREAD_LIMIT=1 taskset -c 0 cargo bench -p kyc-local --bench ocr`. Needs
//! `cargo xtask setup`.
#![allow(missing_docs)] // criterion macros generate undocumented items

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use kyc_core::model::{Date, Timestamp};
use kyc_core::ports::Clock;
use kyc_local::docgen::{DocFormat, DocSpec, GeneratedDocument, Generator, Variant};
use kyc_local::ocr::{decode, prepare, ReaderConfig, TesseractDocumentReader};

struct Fixed;
impl Clock for Fixed {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(1_772_323_200_000)
    }
}

fn today() -> Date {
    Fixed.now().date()
}

fn setup() -> (Vec<GeneratedDocument>, TesseractDocumentReader) {
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        eprintln!("note: OMP_THREAD_LIMIT is not set; Tesseract may use more than one core");
    }
    let generator = Generator::system()
        .unwrap_or_else(|e| panic!("the generator needs its fonts ({e}); run `cargo xtask setup`"));
    let reader = TesseractDocumentReader::new(&ReaderConfig::from_env(), Arc::new(Fixed))
        .unwrap_or_else(|e| panic!("the reader is not installed ({e}); run `cargo xtask setup`"));
    let docs = (0..24u64)
        .map(|seed| {
            let spec = DocSpec::random(500 + seed, today());
            generator
                .generate(&spec)
                .unwrap_or_else(|e| panic!("generating: {e}"))
        })
        .collect();
    (docs, reader)
}

fn percentiles(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "{name}: n={} p50={:.0} ms p95={:.0} ms max={:.0} ms",
        times.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    );
}

fn spread(c: &mut Criterion) {
    let (docs, reader) = setup();
    let time = |f: &dyn Fn(&GeneratedDocument)| -> Vec<Duration> {
        docs.iter()
            .map(|d| {
                let t = Instant::now();
                f(d);
                t.elapsed()
            })
            .collect()
    };
    // Warm-up: the first recognition allocates Tesseract's buffers.
    let _ = reader.read_bytes(&docs[0].bytes, today());
    percentiles(
        "document read (24 documents, 200-600 dpi)",
        time(&|d| {
            black_box(reader.read_bytes(&d.bytes, today()).ok());
        }),
    );
    percentiles(
        "MRZ band alone (decode, analysis, band OCR)",
        time(&|d| {
            black_box(reader.read_mrz_bytes(&d.bytes, today()).ok());
        }),
    );
    percentiles(
        "decode and page analysis only",
        time(&|d| {
            let gray = decode::decode_gray(&d.bytes, &decode::DecodeLimits::default());
            black_box(gray.map(|g| prepare(&g).mrz).ok());
        }),
    );

    let generator = Generator::system().unwrap_or_else(|e| panic!("{e}"));
    let passport = generator
        .generate(
            &DocSpec::new(7, DocFormat::Td3, today()).with_variant(Variant {
                dpi: 300,
                blur_sigma: 0.5,
                rotation_deg: 2.0,
                jpeg_quality: Some(80),
            }),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("ocr");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("read TD3 300 dpi", |b| {
        b.iter(|| black_box(reader.read_bytes(&passport.bytes, today()).ok()))
    });
    g.bench_function("MRZ band TD3 300 dpi", |b| {
        b.iter(|| black_box(reader.read_mrz_bytes(&passport.bytes, today()).ok()))
    });
    g.finish();
}

criterion_group!(benches, spread);
criterion_main!(benches);
