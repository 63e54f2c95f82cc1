//! Quality figures over the shared data (`$KYC_SHARED_DATA` or `../shared/data` next to the
//! workspace): name-bench F1, UN positives top-1 rates and the false-alert rate on a
//! deterministic sample of the negatives. Timing figures are printed by `kyc sanctions bench`
//! (release build), never asserted here. When the directory is absent the tests say so and do
//! nothing else.

use std::path::PathBuf;

use handlers::screening::bench;
use handlers::screening::lists::load_directory;
use kyc_core::sanctions::{ListKind, SanctionsIndex};

fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("KYC_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
        .join("sanctions");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "shared data not found at {}: test did not run",
            dir.display()
        );
        None
    }
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn name_bench_f1_reaches_the_target_at_the_default_threshold() {
    let Some(s) = shared() else { return };
    let f = bench::name_bench(&read(s.join("name-bench/cases.csv")));
    println!("{f:?}");
    assert_eq!(f.cases, 826);
    assert!(f.f1 >= 0.85, "F1 {}", f.f1);
}

#[test]
fn listed_un_persons_come_first() {
    let Some(s) = shared() else { return };
    let un = load_directory(&s.join("un-2026")).unwrap();
    let index = SanctionsIndex::build(un.lists.into_iter().map(|l| l.list).collect());
    let untreated =
        bench::bench_queries(&read(s.join("screening-bench/positives_un_untreated.csv")));
    let treated = bench::bench_queries(&read(s.join("screening-bench/positives_un_treated.csv")));
    let f = bench::un_positives(&index, &untreated, &treated);
    println!("{f:?}");
    assert!(f.labelled >= 670, "{f:?}");
    assert!(f.untreated_top1 >= 0.99, "{f:?}");
    assert!(f.treated_top1 >= 0.95, "{f:?}");
}

#[test]
fn few_synthetic_negatives_raise_an_alert() {
    let Some(s) = shared() else { return };
    let mut lists = Vec::new();
    for sub in ["ofac-sdn-2021", "ofac-cons-2025", "un-2026"] {
        lists.extend(
            load_directory(&s.join(sub))
                .unwrap()
                .lists
                .into_iter()
                .map(|l| l.list),
        );
    }
    let kinds: Vec<ListKind> = lists.iter().map(|l| l.list).collect();
    assert!(kinds.contains(&ListKind::OfacConsolidated) && kinds.contains(&ListKind::OfacSdn));
    let index = SanctionsIndex::build(lists);
    // Every 40th query of each file: 2,500 of them, the same ones every run. (The rows are one
    // line each; sampling lines first keeps the debug build fast.)
    let mut sample = Vec::new();
    for f in ["negatives_global.csv", "negatives_us.csv"] {
        let text = read(s.join("screening-bench").join(f));
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let sampled: Vec<&str> = std::iter::once(header).chain(lines.step_by(40)).collect();
        sample.extend(bench::bench_queries(&sampled.join("\n")));
    }
    assert_eq!(sample.len(), 2_500);
    let t0 = std::time::Instant::now();
    let alerts = bench::alerts(&index, &sample);
    println!("alerts {alerts} of {} in {:?}", sample.len(), t0.elapsed());
    assert!(alerts * 200 <= sample.len(), "{alerts} alerts");
}

#[test]
fn the_whole_shared_directory_loads_with_the_expected_counts() {
    let Some(s) = shared() else { return };
    let d = load_directory(&s).unwrap();
    let count = |k: ListKind| {
        d.lists
            .iter()
            .find(|l| l.list.list == k)
            .map(|l| l.list.stats)
    };
    let sdn = count(ListKind::OfacSdn).unwrap();
    assert_eq!((sdn.entities, sdn.persons), (8976, 4620));
    assert!(sdn.birth_dates > 4000 && sdn.weak_aliases > 2000, "{sdn:?}");
    let un = count(ListKind::UnConsolidated).unwrap();
    assert_eq!((un.persons, un.organisations), (730, 273));
    assert!(un.original_script_names >= 336, "{un:?}");
    assert!(count(ListKind::OfacConsolidated).unwrap().entities > 400);
    assert!(d.failed.is_empty(), "{:?}", d.failed);
}
