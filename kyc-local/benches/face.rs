//! Benchmark of `kyc face compare`'s engine work on one core: two ~1 MP photos decoded,
//! detected (HOG), aligned and embedded, then compared. Target: ≤ 250 ms. Prints p50/p95 over
//! its own timed runs, then runs criterion.
//!
//! One core: OpenBLAS reads `OPENBLAS_NUM_THREADS` when the library loads (before `main`), so
//! the bench re-runs itself with `OPENBLAS_NUM_THREADS=1` (and `OMP_NUM_THREADS`,
//! `RAYON_NUM_THREADS`), pinned to CPU 0 with `taskset` when it is available.
//!
//! Needs `cargo xtask setup` (models and photos); fails saying so otherwise.

use std::io::Cursor;
use std::time::{Duration, Instant};

use criterion::Criterion;
use image::imageops::{self, FilterType};
use kyc_core::model::Image;
use kyc_local::face::DlibFaceEngine;

const ONE_CORE: &str = "KYC_BENCH_ONE_CORE";

fn photo(name: &str) -> Vec<u8> {
    let path = kyc_local::config::assets_dir().join("faces").join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "face photo {} is missing ({e}): run `cargo xtask setup` first",
            path.display()
        )
    })
}

/// `name` resized to about one megapixel, as a JPEG of quality 90.
fn one_megapixel_jpeg(name: &str) -> Image {
    let img = image::load_from_memory(&photo(name)).unwrap().into_rgb8();
    let (w, h) = img.dimensions();
    let f = (1_000_000.0 / (f64::from(w) * f64::from(h))).sqrt();
    let resized = imageops::resize(
        &img,
        (f64::from(w) * f) as u32,
        (f64::from(h) * f) as u32,
        FilterType::Triangle,
    );
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut bytes), 90)
        .encode_image(&resized)
        .unwrap();
    Image::parse(bytes, 50 << 20).unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// User + system CPU time of this process so far (Linux `/proc/self/stat`, 100 ticks a second).
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the whole line (utime, stime) are 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Re-runs this bench with one BLAS thread on CPU 0; returns its exit code.
fn rerun_on_one_core() -> i32 {
    let exe = std::env::current_exe().unwrap();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let taskset = std::process::Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut cmd = if taskset {
        let mut c = std::process::Command::new("taskset");
        c.args(["-c", "0"]).arg(&exe);
        c
    } else {
        std::process::Command::new(&exe)
    };
    let status = cmd
        .args(&args)
        .env(ONE_CORE, "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("OMP_NUM_THREADS", "1")
        .env("RAYON_NUM_THREADS", "1")
        .status()
        .unwrap();
    status.code().unwrap_or(1)
}

fn main() {
    if std::env::var_os(ONE_CORE).is_none() {
        std::process::exit(rerun_on_one_core());
    }
    let engine = DlibFaceEngine::open_default()
        .unwrap_or_else(|e| panic!("the face engine cannot start: {e}"));
    let a = one_megapixel_jpeg("obama.jpg");
    let b = one_megapixel_jpeg("obama3.jpg");
    // Warm up, and check that the work measured is the real one.
    let c = engine.compare_blocking(&a, &b).unwrap();
    assert!(c.similarity.value() >= 85.0, "{:?}", c.similarity);
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs benches without `--bench`: one comparison is the check.
        println!("face bench in test mode: one comparison checked, nothing timed");
        return;
    }

    let cpu_before = process_cpu_time();
    let mut times: Vec<Duration> = (0..30)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(engine.compare_blocking(&a, &b).unwrap());
            start.elapsed()
        })
        .collect();
    let cpu = process_cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    times.sort();
    let start = Instant::now();
    for img in [&a, &b] {
        let limits = kyc_local::face::DecodeLimits::default();
        std::hint::black_box(kyc_local::face::decode::decode_rgb(img, &limits).unwrap());
    }
    let decode = start.elapsed();
    if let Some(cpu) = cpu {
        // On a machine shared with other jobs, wall time includes waiting for the core.
        println!(
            "face compare CPU time: mean {:.1} ms per comparison",
            cpu.as_secs_f64() * 1e3 / 30.0
        );
    }
    println!(
        "face compare, two ~1 MP JPEGs, one core: p50 {:.1} ms, p95 {:.1} ms over 30 runs \
         (decoding both: {:.1} ms; target 250 ms)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        decode.as_secs_f64() * 1e3,
    );

    let mut criterion = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    criterion.bench_function("face_compare_two_1mp_jpegs", |bench| {
        bench.iter(|| engine.compare_blocking(&a, &b).unwrap())
    });
    criterion.final_summary();
}
