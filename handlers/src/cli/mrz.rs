//! `kyc mrz parse`: reads MRZ lines (arguments or stdin), parses them strictly with today's
//! date as the reference for two-digit years, and prints the record as text or JSON.

use std::io::Read;

use anyhow::Context;
use clap::Subcommand;
use kyc_core::mrz::{self, MrzRecord};
use kyc_core::ports::Clock;

use super::Outcome;

/// The largest input read from stdin.
const MAX_STDIN: u64 = 64 * 1024;

/// `kyc mrz …`. `Debug` hides the lines (personal data).
#[derive(Subcommand)]
pub enum MrzCommand {
    /// Parse MRZ lines (from the arguments, or stdin when none are given).
    #[command(after_help = "\
Exit status:
  0  the MRZ was read and every check digit passes
  1  the MRZ was read but a check digit fails (the output says which; \"valid\": false)
  2  the input is not an MRZ: empty, wrong number or length of lines, unknown format or a
     character outside A-Z 0-9 < (one line on stderr, nothing on stdout)

Two-digit years are read against today's date: a birth date is never in the future, an
expiry date lies within 49 years before and 50 years after this year.")]
    Parse {
        /// The MRZ lines (2 or 3; an argument may also hold several lines separated by line
        /// breaks). Read from stdin, one line per line, when none are given.
        lines: Vec<String>,
        /// Print JSON (`{"valid", "format", "fields", "checks"}`) instead of text.
        #[arg(long)]
        json: bool,
    },
}

impl std::fmt::Debug for MrzCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Parse { lines, json } => f
                .debug_struct("Parse")
                .field("lines", &format_args!("<{} redacted>", lines.len()))
                .field("json", json)
                .finish(),
        }
    }
}

/// Runs `kyc mrz …`; the reference date for two-digit years is `clock`'s current UTC date.
pub fn run(
    cmd: MrzCommand,
    clock: &dyn Clock,
    stdin: &mut dyn std::io::BufRead,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Outcome> {
    match cmd {
        MrzCommand::Parse { lines, json } => {
            let text = if lines.is_empty() {
                read_stdin(stdin)?
            } else {
                lines.join("\n")
            };
            let today = clock.now().date();
            let record = mrz::parse_str(&text, today).context("invalid mrz")?;
            if json {
                serde_json::to_writer_pretty(&mut *out, &record).context("writing the output")?;
                writeln!(out).context("writing the output")?;
            } else {
                write_text(&record, out).context("writing the output")?;
            }
            Ok(if record.is_valid() {
                Outcome::Success
            } else {
                Outcome::Negative
            })
        }
    }
}

fn read_stdin(stdin: &mut dyn std::io::BufRead) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    stdin
        .take(MAX_STDIN + 1)
        .read_to_end(&mut bytes)
        .context("reading stdin")?;
    if bytes.len() as u64 > MAX_STDIN {
        anyhow::bail!("the input is larger than {} KiB", MAX_STDIN / 1024);
    }
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("the input is not UTF-8 text"))
}

fn write_text(r: &MrzRecord, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let failing: Vec<&str> = r
        .checks()
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(f, _)| f.json_name())
        .collect();
    if failing.is_empty() {
        writeln!(out, "{} MRZ, all check digits pass", r.format())?;
    } else {
        writeln!(
            out,
            "{} MRZ, INVALID: check digits failing: {}",
            r.format(),
            failing.join(", ")
        )?;
    }
    let date =
        |d: Option<kyc_core::model::Date>| d.map_or("unknown".to_string(), |d| d.to_string());
    let rows = [
        ("document code", r.document_code().to_string()),
        ("issuing state", r.issuing_state().to_string()),
        ("surname", r.surname().to_string()),
        ("given names", r.given_names().to_string()),
        ("document number", r.document_number().to_string()),
        ("nationality", r.nationality().to_string()),
        ("birth date", date(r.birth_date())),
        ("sex", r.sex().map_or("unknown", |s| s.code()).to_string()),
        ("expiry date", date(r.expiry_date())),
        ("optional data", r.optional_data().to_string()),
    ];
    let rows = rows.into_iter().chain(
        r.optional_data_2()
            .map(|o| ("optional data 2", o.to_string())),
    );
    for (label, value) in rows {
        let value = if value.is_empty() { "(empty)" } else { &value };
        writeln!(out, "  {label:<16} {value}")?;
    }
    let checks: Vec<String> = r
        .checks()
        .iter()
        .map(|(f, ok)| format!("{} {}", f.json_name(), if ok { "ok" } else { "FAILED" }))
        .collect();
    writeln!(out, "  {:<16} {}", "checks", checks.join(", "))
}
