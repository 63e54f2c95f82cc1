//! The sanctions benchmark over the shared data (`../shared/data/sanctions`): name-bench F1 at
//! the engine's default threshold, UN positives top-1 rates, the false-alert rate on the
//! synthetic negatives against OFAC SDN + OFAC consolidated + UN loaded together, latency per
//! screening, a large synthetic corpus, load and index time and resident memory.
//!
//! The quality functions are also used by the tests (on samples, in debug builds); timings are
//! only meaningful from `kyc sanctions bench` in a release build.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use kyc_core::sanctions::{
    country_from_text, csv_records, name_similarity_as, prepare_name, BirthDateFact, Entity,
    ListKind, ListVersion, NameKind, SanctionsIndex, Schema, ScreenOptions, ScreeningQuery,
    DEFAULT_THRESHOLD,
};
use serde::Serialize;

use super::lists;

/// The shared data directory: `$KYC_SHARED_DATA`, else `../shared/data` relative to the current
/// directory, when it exists.
pub fn default_data_dir() -> Option<PathBuf> {
    std::env::var_os("KYC_SHARED_DATA")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::iter::once(PathBuf::from("../shared/data")))
        .find(|p| p.is_dir())
}

/// Precision, recall and F1 of the name matcher on labelled pairs.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NameBenchFigures {
    /// Pairs scored.
    pub cases: usize,
    /// Threshold applied (0–100).
    pub threshold: f32,
    /// True positives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// False negatives.
    pub fn_: usize,
    /// True negatives.
    pub tn: usize,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

/// Scores every pair of name-bench `cases.csv` (`case_group,schema,name1,name2,is_match,…`)
/// with the schema of the row, at the default threshold.
pub fn name_bench(cases_csv: &str) -> NameBenchFigures {
    let mut f = NameBenchFigures {
        threshold: DEFAULT_THRESHOLD,
        ..NameBenchFigures::default()
    };
    let mut rows = csv_records(cases_csv);
    let header = rows.next().unwrap_or_default();
    let col = |n: &str| header.iter().position(|h| h == n);
    let (Some(cs), Some(c1), Some(c2), Some(cm)) =
        (col("schema"), col("name1"), col("name2"), col("is_match"))
    else {
        return f;
    };
    for r in rows {
        let get = |i: usize| r.get(i).map_or("", String::as_str);
        let schema = match get(cs) {
            "Person" => Schema::Person,
            "Vessel" => Schema::Vessel,
            _ => Schema::Organisation,
        };
        let score = name_similarity_as(get(c1), get(c2), schema) * 100.0;
        let predicted = score >= DEFAULT_THRESHOLD;
        let actual = get(cm).eq_ignore_ascii_case("true");
        f.cases += 1;
        match (predicted, actual) {
            (true, true) => f.tp += 1,
            (true, false) => f.fp += 1,
            (false, true) => f.fn_ += 1,
            (false, false) => f.tn += 1,
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    f.precision = ratio(f.tp, f.tp + f.fp);
    f.recall = ratio(f.tp, f.tp + f.fn_);
    f.f1 = if f.precision + f.recall > 0.0 {
        2.0 * f.precision * f.recall / (f.precision + f.recall)
    } else {
        0.0
    };
    f
}

/// Reads screening-bench queries: name, date of birth (year or date) and nationality (code or
/// country name).
pub fn bench_queries(csv: &str) -> Vec<ScreeningQuery> {
    let mut rows = csv_records(csv);
    let header = rows.next().unwrap_or_default();
    let col = |n: &str| header.iter().position(|h| h == n);
    let (Some(cn), cd, cc) = (col("full_name"), col("date_of_birth"), col("nationality")) else {
        return Vec::new();
    };
    rows.map(|r| {
        let get = |i: Option<usize>| i.and_then(|i| r.get(i)).map_or("", String::as_str);
        ScreeningQuery {
            name: get(Some(cn)).to_string(),
            birth_date: BirthDateFact::parse(get(cd)),
            nationality: country_from_text(get(cc)),
        }
    })
    .collect()
}

/// Top-1 rates on the UN positives.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PositivesFigures {
    /// Rows in each file.
    pub rows: usize,
    /// Rows whose listed person could be identified (by the untreated name, exactly, and the
    /// date of birth when several share it); the rates are over these.
    pub labelled: usize,
    /// Share of untreated queries whose listed person is the top result.
    pub untreated_top1: f64,
    /// Share of treated queries whose listed person is the top result.
    pub treated_top1: f64,
    /// Share of untreated queries whose listed person scores at or above the threshold.
    pub untreated_alerted: f64,
    /// Share of treated queries whose listed person scores at or above the threshold.
    pub treated_alerted: f64,
}

/// The listed person each untreated row names: the one UN entity with a name made of exactly
/// the same tokens (and, when several, the one whose date of birth allows the row's year).
pub fn un_ground_truth(entities: &[Entity], untreated: &[ScreeningQuery]) -> Vec<Option<String>> {
    let key = |s: &str| -> Vec<String> {
        let mut t: Vec<String> = prepare_name(s).tokens.into_iter().map(|t| t.text).collect();
        t.sort();
        t
    };
    let mut by_name: std::collections::HashMap<Vec<String>, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, e) in entities.iter().enumerate() {
        for n in &e.names {
            if n.kind == NameKind::OriginalScript {
                continue;
            }
            let v = by_name.entry(key(&n.text)).or_default();
            if !v.contains(&i) {
                v.push(i);
            }
        }
    }
    untreated
        .iter()
        .map(|q| {
            let found = by_name.get(&key(&q.name))?;
            let pick: Vec<&usize> = if found.len() == 1 {
                found.iter().collect()
            } else {
                let (qa, qb) = q.birth_date?.year_span();
                found
                    .iter()
                    .filter(|&&i| {
                        entities.get(i).is_some_and(|e| {
                            e.birth_dates.iter().any(|d| {
                                let (a, b) = d.year_span();
                                qa <= b && a <= qb
                            })
                        })
                    })
                    .collect()
            };
            match pick.as_slice() {
                [one] => entities.get(**one).map(|e| e.id.clone()),
                _ => None,
            }
        })
        .collect()
}

/// Screens the positives against an index of the UN list and counts top-1 hits.
pub fn un_positives(
    index: &SanctionsIndex,
    untreated: &[ScreeningQuery],
    treated: &[ScreeningQuery],
) -> PositivesFigures {
    let truth = un_ground_truth(index.entities(), untreated);
    let opts = ScreenOptions {
        include_near_misses: true,
        max_results: 5,
        ..ScreenOptions::default()
    };
    let mut f = PositivesFigures {
        rows: untreated.len(),
        ..PositivesFigures::default()
    };
    let (mut u1, mut t1, mut ua, mut ta) = (0usize, 0usize, 0usize, 0usize);
    for (i, want) in truth.iter().enumerate() {
        let Some(want) = want else { continue };
        f.labelled += 1;
        let check = |q: Option<&ScreeningQuery>| -> (bool, bool) {
            let Some(q) = q else { return (false, false) };
            let r = index.screen(q, &opts);
            let top = r.matches.first().is_some_and(|m| &m.entity_id == want);
            let alerted = r.matches.iter().any(|m| &m.entity_id == want && m.is_match);
            (top, alerted)
        };
        let (ut, ual) = check(untreated.get(i));
        let (tt, tal) = check(treated.get(i));
        u1 += usize::from(ut);
        t1 += usize::from(tt);
        ua += usize::from(ual);
        ta += usize::from(tal);
    }
    let rate = |n: usize| {
        if f.labelled == 0 {
            0.0
        } else {
            n as f64 / f.labelled as f64
        }
    };
    f.untreated_top1 = rate(u1);
    f.treated_top1 = rate(t1);
    f.untreated_alerted = rate(ua);
    f.treated_alerted = rate(ta);
    f
}

/// False alerts on the negatives and the latency of each screening.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NegativesFigures {
    /// Queries screened.
    pub queries: usize,
    /// Queries with at least one result at or above the threshold.
    pub alerts: usize,
    /// `alerts / queries`.
    pub alert_rate: f64,
    /// Median time per screening, microseconds (fastest of [`TIMING_RUNS`] runs of each query,
    /// which removes time slices lost to other processes on a shared machine).
    pub p50_micros: f64,
    /// 99th percentile time per screening, microseconds (fastest of the runs).
    pub p99_micros: f64,
    /// Median of the first run of each query, microseconds (includes preemption).
    pub first_run_p50_micros: f64,
    /// 99th percentile of the first run of each query, microseconds (includes preemption).
    pub first_run_p99_micros: f64,
}

/// How many queries raise at least one alert (no timing).
pub fn alerts(index: &SanctionsIndex, queries: &[ScreeningQuery]) -> usize {
    let opts = ScreenOptions::default();
    queries
        .iter()
        .filter(|q| index.screen(q, &opts).has_match())
        .count()
}

/// How many times each query is timed.
pub const TIMING_RUNS: usize = 3;

/// Screens every query, counting alerts and timing each one on the calling thread.
pub fn negatives(index: &SanctionsIndex, queries: &[ScreeningQuery]) -> NegativesFigures {
    let opts = ScreenOptions::default();
    let mut best = Vec::with_capacity(queries.len());
    let mut first = Vec::with_capacity(queries.len());
    let mut alerts = 0;
    for q in queries {
        let mut fastest = Duration::MAX;
        for run in 0..TIMING_RUNS {
            let t = Instant::now();
            let r = index.screen(q, &opts);
            let took = t.elapsed();
            if run == 0 {
                first.push(took);
                alerts += usize::from(r.has_match());
            }
            fastest = fastest.min(took);
        }
        best.push(fastest);
    }
    let (p50, p99) = percentiles(&mut best);
    let (f50, f99) = percentiles(&mut first);
    NegativesFigures {
        queries: queries.len(),
        alerts,
        alert_rate: if queries.is_empty() {
            0.0
        } else {
            alerts as f64 / queries.len() as f64
        },
        p50_micros: p50,
        p99_micros: p99,
        first_run_p50_micros: f50,
        first_run_p99_micros: f99,
    }
}

fn percentiles(times: &mut [Duration]) -> (f64, f64) {
    if times.is_empty() {
        return (0.0, 0.0);
    }
    times.sort_unstable();
    let at = |p: f64| {
        let i = ((times.len() as f64 - 1.0) * p).round() as usize;
        times
            .get(i.min(times.len() - 1))
            .map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    (at(0.50), at(0.99))
}

/// A deterministic synthetic corpus of persons built from the name parts of the negatives
/// (a SplitMix64 sequence picks first, middle and last names and a birth year).
pub fn synthetic_corpus(queries_csv: &[&str], n: usize) -> Vec<Entity> {
    let mut firsts: Vec<String> = Vec::new();
    let mut middles: Vec<String> = Vec::new();
    let mut lasts: Vec<String> = Vec::new();
    for csv in queries_csv {
        let mut rows = csv_records(csv);
        let header = rows.next().unwrap_or_default();
        let col = |name: &str| header.iter().position(|h| h == name);
        let (Some(f), Some(m), Some(l)) = (col("first_name"), col("middle_name"), col("last_name"))
        else {
            continue;
        };
        for r in rows {
            for (i, v) in [(f, &mut firsts), (m, &mut middles), (l, &mut lasts)] {
                if let Some(s) = r.get(i).filter(|s| !s.is_empty()) {
                    v.push(s.clone());
                }
            }
        }
    }
    for v in [&mut firsts, &mut middles, &mut lasts] {
        v.sort();
        v.dedup();
    }
    if firsts.is_empty() || lasts.is_empty() {
        return Vec::new();
    }
    let mut state: u64 = 0x5EED;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let pick = |v: &Vec<String>, r: u64| v.get((r % v.len().max(1) as u64) as usize).cloned();
    (0..n)
        .map(|i| {
            let mut e = Entity::new(format!("SYN-{i}"), ListKind::OpenSanctions, Schema::Person);
            let mut name = pick(&firsts, next()).unwrap_or_default();
            if next() % 3 == 0 {
                if let Some(m) = pick(&middles, next()) {
                    name.push(' ');
                    name.push_str(&m);
                }
            }
            name.push(' ');
            name.push_str(&pick(&lasts, next()).unwrap_or_default());
            e.add_name(&name, NameKind::Primary);
            e.add_birth_date(BirthDateFact::Year {
                year: 1930 + (next() % 80) as u16,
            });
            e
        })
        .collect()
}

/// The large-corpus figures.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyntheticFigures {
    /// Names in the corpus.
    pub names: usize,
    /// Time to build its index, milliseconds.
    pub build_millis: f64,
    /// Queries screened.
    pub queries: usize,
    /// Median time per screening, microseconds.
    pub p50_micros: f64,
    /// 99th percentile time per screening, microseconds.
    pub p99_micros: f64,
    /// 99th percentile of first runs, microseconds.
    pub first_run_p99_micros: f64,
    /// Resident memory high-water mark after building it, MiB.
    pub peak_rss_mib: f64,
}

/// Load and memory figures of the shared lists.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoadFigures {
    /// Lists loaded (code and entity count).
    pub lists: Vec<(String, usize)>,
    /// Entities and names indexed.
    pub entities: usize,
    /// Names indexed.
    pub names: usize,
    /// Time to read, parse and index every list in the directory, milliseconds.
    pub load_and_index_millis: f64,
    /// Resident memory after loading (VmRSS), MiB.
    pub rss_mib: f64,
    /// Resident memory high-water mark so far (VmHWM), MiB.
    pub peak_rss_mib: f64,
    /// Version of the lists screened against for the negatives.
    pub list_version: Option<ListVersion>,
}

/// Everything `kyc sanctions bench` prints.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BenchReport {
    /// The default threshold (0–100).
    pub threshold: f32,
    /// Name-bench figures.
    pub name_bench: NameBenchFigures,
    /// UN positives against the UN list.
    pub un_positives: PositivesFigures,
    /// Negatives against OFAC SDN 2021 + OFAC consolidated + UN 2026.
    pub negatives: NegativesFigures,
    /// Loading.
    pub load: LoadFigures,
    /// The large synthetic corpus.
    pub synthetic: SyntheticFigures,
}

impl BenchReport {
    /// The report as text, one figure per line, with the targets.
    pub fn to_text(&self) -> String {
        let n = &self.name_bench;
        let p = &self.un_positives;
        let g = &self.negatives;
        let l = &self.load;
        let s = &self.synthetic;
        let mut t = String::new();
        let mut line = |x: String| {
            t.push_str(&x);
            t.push('\n');
        };
        line(format!("default threshold: {}", self.threshold));
        line(format!(
            "name-bench ({} pairs): F1 {:.3} (target >= 0.85), precision {:.3}, recall {:.3} [tp {} fp {} fn {} tn {}]",
            n.cases, n.f1, n.precision, n.recall, n.tp, n.fp, n.fn_, n.tn
        ));
        line(format!(
            "UN positives ({} rows, {} labelled): top-1 untreated {:.1}% (target >= 99%), treated {:.1}% (target >= 95%); alerted untreated {:.1}%, treated {:.1}%",
            p.rows, p.labelled, p.untreated_top1 * 100.0, p.treated_top1 * 100.0,
            p.untreated_alerted * 100.0, p.treated_alerted * 100.0
        ));
        line(format!(
            "negatives vs OFAC SDN + OFAC consolidated + UN: {} of {} alerted = {:.3}% (target <= 0.5%)",
            g.alerts, g.queries, g.alert_rate * 100.0
        ));
        line(format!(
            "latency per screening (name + DOB + nationality, one thread, fastest of {TIMING_RUNS} runs): p50 {:.1} us (target <= 100), p99 {:.1} us (target <= 1000); first runs only: p50 {:.1} us, p99 {:.1} us",
            g.p50_micros, g.p99_micros, g.first_run_p50_micros, g.first_run_p99_micros
        ));
        line(format!(
            "load + index of every list in the directory: {:.0} ms (target <= 2000) for {} entities / {} names; {}",
            l.load_and_index_millis,
            l.entities,
            l.names,
            l.lists
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        line(format!(
            "resident memory after loading: {:.1} MiB (peak {:.1} MiB; target <= 300)",
            l.rss_mib, l.peak_rss_mib
        ));
        line(format!(
            "synthetic corpus of {} names: index built in {:.0} ms; {} queries p50 {:.1} us, p99 {:.1} us (target <= 5000; first runs p99 {:.1} us); peak memory {:.1} MiB",
            s.names, s.build_millis, s.queries, s.p50_micros, s.p99_micros, s.first_run_p99_micros, s.peak_rss_mib
        ));
        if let Some(v) = &l.list_version {
            line(format!("list version: {v}"));
        }
        t
    }
}

/// Reads `/proc/self/status` for VmRSS and VmHWM in MiB (zero where unavailable).
pub fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn read(p: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
}

/// Runs every benchmark over `data` (the shared data directory).
pub fn run(data: &Path, synthetic_names: usize) -> anyhow::Result<BenchReport> {
    let s = data.join("sanctions");
    let mut report = BenchReport {
        threshold: DEFAULT_THRESHOLD,
        ..BenchReport::default()
    };
    report.name_bench = name_bench(&read(&s.join("name-bench/cases.csv"))?);

    // Load + index of the whole directory (what `kyc sanctions screen` does).
    let all = lists::load_and_index(&s)?;
    let (rss, hwm) = memory_mib();
    report.load = LoadFigures {
        lists: all
            .lists
            .iter()
            .map(|l| (l.list.code().to_string(), l.stats.entities))
            .collect(),
        entities: all.index.stats().entities,
        names: all.index.stats().names,
        load_and_index_millis: all.elapsed.as_secs_f64() * 1e3,
        rss_mib: rss,
        peak_rss_mib: hwm,
        list_version: None,
    };

    // The negatives are screened against OFAC SDN 2021 + OFAC consolidated + UN 2026.
    let mut three = Vec::new();
    for sub in ["ofac-sdn-2021", "ofac-cons-2025", "un-2026"] {
        let d = lists::load_directory(&s.join(sub))?;
        three.extend(d.lists.into_iter().map(|l| l.list));
    }
    let un_only: Vec<_> = three
        .iter()
        .filter(|l| l.list == ListKind::UnConsolidated)
        .cloned()
        .collect();
    let index = SanctionsIndex::build(three);
    report.load.list_version = Some(index.version().clone());
    let neg_global = read(&s.join("screening-bench/negatives_global.csv"))?;
    let neg_us = read(&s.join("screening-bench/negatives_us.csv"))?;
    let mut queries = bench_queries(&neg_global);
    queries.extend(bench_queries(&neg_us));
    report.negatives = negatives(&index, &queries);

    let un_index = SanctionsIndex::build(un_only);
    let untreated = bench_queries(&read(
        &s.join("screening-bench/positives_un_untreated.csv"),
    )?);
    let treated = bench_queries(&read(&s.join("screening-bench/positives_un_treated.csv"))?);
    report.un_positives = un_positives(&un_index, &untreated, &treated);
    drop(index);
    drop(un_index);
    drop(all);

    if synthetic_names > 0 {
        let corpus = synthetic_corpus(&[&neg_global, &neg_us], synthetic_names);
        let names = corpus.len();
        let t = Instant::now();
        let big = SanctionsIndex::from_entities(corpus, ListVersion::of_parts(&[b"synthetic"]));
        let build = t.elapsed();
        let sample: Vec<ScreeningQuery> = queries.iter().step_by(50).cloned().collect();
        let figures = negatives(&big, &sample);
        report.synthetic = SyntheticFigures {
            names,
            build_millis: build.as_secs_f64() * 1e3,
            queries: figures.queries,
            p50_micros: figures.p50_micros,
            p99_micros: figures.p99_micros,
            first_run_p99_micros: figures.first_run_p99_micros,
            peak_rss_mib: memory_mib().1,
        };
    }
    Ok(report)
}
