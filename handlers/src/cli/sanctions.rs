//! `kyc sanctions screen` (screen a name against the list files of a directory) and
//! `kyc sanctions bench` (the quality and speed figures over the shared benchmark data).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use kyc_core::sanctions::{country_from_text, BirthDateFact, ScreenOptions, ScreeningQuery};
use serde::Serialize;

use crate::screening::{bench, lists};

/// `kyc sanctions …`
#[derive(Debug, Subcommand)]
pub enum SanctionsCommand {
    /// Screen a name (with optional date of birth and nationality) against sanctions lists.
    Screen(ScreenArgs),
    /// Print the benchmark figures over the shared data (run it in a release build).
    Bench(BenchArgs),
}

/// Arguments of `kyc sanctions screen`.
#[derive(Debug, Args)]
pub struct ScreenArgs {
    /// The full name, any script, any order ("LAST, First" accepted).
    #[arg(long)]
    pub name: String,
    /// Date of birth: YYYY-MM-DD, YYYY-MM or YYYY.
    #[arg(long)]
    pub dob: Option<String>,
    /// Nationality: ISO 3166 alpha-2 or alpha-3 code, or an English country name.
    #[arg(long)]
    pub nationality: Option<String>,
    /// Directory searched recursively for list files (default: $KYC_SHARED_DATA/sanctions or
    /// ../shared/data/sanctions).
    #[arg(long)]
    pub lists: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also show near misses below the threshold (`"match": false`).
    #[arg(long)]
    pub all: bool,
}

/// Arguments of `kyc sanctions bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The shared data directory (holding `sanctions/`); default $KYC_SHARED_DATA or
    /// ../shared/data.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Size of the synthetic corpus for the large-corpus latency figure.
    #[arg(long, default_value_t = 1_000_000)]
    pub synthetic: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kyc sanctions …`.
pub fn run(cmd: SanctionsCommand, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    match cmd {
        SanctionsCommand::Screen(args) => screen(&args, out),
        SanctionsCommand::Bench(args) => {
            let data = match args.data {
                Some(d) => d,
                None => bench::default_data_dir().ok_or_else(|| {
                    anyhow::anyhow!("no shared data directory found: pass --data DIR")
                })?,
            };
            let report = bench::run(&data, args.synthetic)?;
            if args.json {
                serde_json::to_writer_pretty(&mut *out, &report)?;
                writeln!(out)?;
            } else {
                write!(out, "{}", report.to_text())?;
            }
            Ok(())
        }
    }
}

/// The JSON printed by `kyc sanctions screen --json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ScreenOutput<'a> {
    matches: &'a [kyc_core::sanctions::Match],
    list_version: &'a kyc_core::sanctions::ListVersion,
    threshold: f32,
}

/// Parses the query arguments; errors name the argument, never echo it.
pub fn query_from_args(
    name: &str,
    dob: Option<&str>,
    nationality: Option<&str>,
) -> anyhow::Result<ScreeningQuery> {
    if name.trim().is_empty() {
        anyhow::bail!("--name is empty");
    }
    let birth_date = dob
        .map(|d| {
            BirthDateFact::parse(d)
                .ok_or_else(|| anyhow::anyhow!("--dob is not a date (YYYY-MM-DD, YYYY-MM or YYYY)"))
        })
        .transpose()?;
    let nationality = nationality
        .map(|n| {
            country_from_text(n).ok_or_else(|| {
                anyhow::anyhow!("--nationality is not a country code or country name")
            })
        })
        .transpose()?;
    Ok(ScreeningQuery {
        name: name.to_string(),
        birth_date,
        nationality,
    })
}

fn screen(args: &ScreenArgs, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let query = query_from_args(&args.name, args.dob.as_deref(), args.nationality.as_deref())?;
    let dir = match &args.lists {
        Some(d) => d.clone(),
        None => lists::default_lists_dir().ok_or_else(|| {
            anyhow::anyhow!(
                "no sanctions list directory found: pass --lists DIR (or set KYC_SHARED_DATA)"
            )
        })?,
    };
    let loaded = load(&dir)?;
    let opts = ScreenOptions {
        include_near_misses: args.all,
        ..ScreenOptions::default()
    };
    let result = loaded.index.screen(&query, &opts);
    if args.json {
        serde_json::to_writer_pretty(
            &mut *out,
            &ScreenOutput {
                matches: &result.matches,
                list_version: &result.list_version,
                threshold: result.threshold,
            },
        )?;
        writeln!(out)?;
        return Ok(());
    }
    let hits = result.matches.iter().filter(|m| m.is_match).count();
    writeln!(
        out,
        "{hits} match(es) at or above {} (list version {})",
        result.threshold, result.list_version
    )?;
    for m in &result.matches {
        let e = &m.explanation;
        writeln!(
            out,
            "{:>5.1} {} {:<9} {:<10} {}  [matched {:?} name \"{}\", name score {:.1}{}]",
            m.score,
            if m.is_match { "MATCH" } else { "near " },
            m.list.code(),
            m.entity_id,
            m.name,
            e.name_kind,
            e.matched_name,
            e.name_score,
            e.qualifiers
                .iter()
                .map(|q| format!("; {} {:+}: {}", q.qualifier, q.effect, q.detail))
                .collect::<String>()
        )?;
    }
    Ok(())
}

fn load(dir: &Path) -> anyhow::Result<lists::IndexedDirectory> {
    if !dir.is_dir() {
        anyhow::bail!("the sanctions list directory does not exist");
    }
    let loaded = lists::load_and_index(dir).context("loading sanctions lists")?;
    if loaded.lists.is_empty() {
        anyhow::bail!("no sanctions list file found in the list directory");
    }
    for (path, reason) in &loaded.failed {
        eprintln!("warning: skipped {}: {reason}", path.display());
    }
    Ok(loaded)
}
