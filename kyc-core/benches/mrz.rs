//! Benchmarks of MRZ parsing: strict parsing of valid TD3 and TD1 zones (the figure to watch is
//! lines per second per core) and tolerant parsing of OCR-damaged TD3 zones.
#![allow(missing_docs)] // criterion macros generate undocumented items

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kyc_core::model::Date;
use kyc_core::mrz;

fn digit(s: &str) -> char {
    char::from(b'0' + mrz::check_digit(s).unwrap_or(0))
}

/// `n` valid TD3 zones with varied numbers, dates and names.
fn td3_zones(n: usize) -> Vec<[String; 2]> {
    (0..n)
        .map(|i| {
            let names = [
                "ERIKSSON<<ANNA<MARIA",
                "MUSTERMANN<<ERIKA",
                "VAN<DER<BERG<<JAN<PIETER",
            ];
            let line1 = format!("P<UTO{:<<39}", names[i % names.len()]);
            let number = format!("L{:08}", (i * 7919) % 100_000_000);
            let birth = format!("{:02}{:02}{:02}", 40 + i % 60, 1 + i % 12, 1 + i % 28);
            let expiry = format!("{:02}{:02}{:02}", 25 + i % 10, 1 + (i / 7) % 12, 1 + i % 28);
            let personal = format!("{:<<14}", format!("ZE{}", i % 10_000));
            let body = format!(
                "{number}{}UTO{birth}{}F{expiry}{}{personal}{}",
                digit(&number),
                digit(&birth),
                digit(&expiry),
                digit(&personal)
            );
            let composite = format!("{}{}{}", &body[0..10], &body[13..20], &body[21..43]);
            let line2 = format!("{body}{}", digit(&composite));
            [line1, line2]
        })
        .collect()
}

/// OCR damage the tolerant parser repairs: letter/digit look-alikes, fillers read as K, a
/// lost filler, a misread digit caught by the check digits, junk around the lines.
fn damage(zone: &[String; 2], i: usize) -> String {
    let (mut l1, mut l2) = (zone[0].clone(), zone[1].clone());
    match i % 4 {
        0 => {
            l1 = l1.replacen("UTO", "UT0", 1);
            l2.replace_range(15..16, "O");
        }
        1 => {
            l1.replace_range(40..41, "K");
            l2 = l2.replacen("<<", "<", 1);
        }
        2 => {
            let c = if &l2[3..4] == "8" { "3" } else { "8" };
            l2.replace_range(3..4, c);
        }
        _ => {
            l1 = format!("' {l1} |");
            l2 = l2.replacen('<', "«", 2);
        }
    }
    format!("PASSPORT\n{l1}\n{l2}\n")
}

fn strict(c: &mut Criterion) {
    let today = Date::from_ymd(2026, 1, 1).unwrap_or_else(|_| unreachable!());
    let zones = td3_zones(1024);
    let mut g = c.benchmark_group("mrz strict");
    g.throughput(Throughput::Elements(2 * zones.len() as u64));
    g.bench_function("TD3 lines", |b| {
        b.iter(|| {
            let mut valid = 0usize;
            for z in &zones {
                if let Ok(r) = mrz::parse(black_box(z), today) {
                    valid += usize::from(r.is_valid());
                }
            }
            assert_eq!(valid, zones.len());
            valid
        })
    });
    let td1 = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    g.throughput(Throughput::Elements(3));
    g.bench_function("TD1 lines", |b| {
        b.iter(|| mrz::parse(black_box(&td1), today).map(|r| r.is_valid()))
    });
    g.finish();
}

fn tolerant(c: &mut Criterion) {
    let today = Date::from_ymd(2026, 1, 1).unwrap_or_else(|_| unreachable!());
    let texts: Vec<String> = td3_zones(64)
        .iter()
        .enumerate()
        .map(|(i, z)| damage(z, i))
        .collect();
    let mut g = c.benchmark_group("mrz tolerant");
    g.throughput(Throughput::Elements(2 * texts.len() as u64));
    g.bench_function("damaged TD3 lines", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for t in &texts {
                if let Ok(p) = mrz::parse_tolerant(black_box(t), today) {
                    found += usize::from(!p.candidates.is_empty());
                }
            }
            assert_eq!(found, texts.len());
            found
        })
    });
    g.finish();
}

criterion_group!(benches, strict, tolerant);
criterion_main!(benches);
