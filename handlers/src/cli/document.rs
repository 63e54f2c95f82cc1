//! `kyc document read` (Tesseract OCR of an identity-document photo, assessed by kyc-core:
//! printed fields, the MRZ repaired by its check digits, the cross-check, the merged record)
//! and `kyc document sample` (a synthetic document to try the reader on).

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Subcommand;
use kyc_core::document::{assess, DocumentAssessment, Evidence, MrzStatus, REQUIRED_FIELDS};
use kyc_core::model::Timestamp;
use kyc_core::ports::Clock;
use kyc_local::docgen::{DocFormat, DocSpec, Generator, Variant};
use kyc_local::ocr::{ReaderConfig, TesseractDocumentReader};
use serde_json::{json, Value};

use super::Outcome;

/// The largest image file read.
const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

/// `kyc document …`. `Debug` hides the paths (a file name may hold a name).
#[derive(Subcommand)]
pub enum DocumentCommand {
    /// Read an identity-document photo (JPEG or PNG) with the embedded Tesseract engine.
    #[command(after_help = "\
Exit status:
  0  the document was read: the MRZ passes every check digit and agrees with the printed
     fields, and the surname, birth date, document number and expiry date are known
  1  the document was read but the result is not conclusive: no MRZ, an MRZ failing its
     checks or ambiguous, printed fields disagreeing with it, or a required field missing
  2  the image cannot be read (not a JPEG or PNG, too large, broken) or the engine is not
     installed (run `cargo xtask setup`)

The engine needs Debian's tesseract-ocr and the eng model with the legacy engine in
$KYC_MODELS_DIR/tessdata (default .kyc-cache/models/tessdata), both installed by
`cargo xtask setup`.")]
    Read {
        /// The image file.
        image: PathBuf,
        /// Print JSON (`{"fields", "mrz", "evidence"}`) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write a synthetic identity document (fictitious data, valid MRZ) to try the reader on;
    /// prints what it shows.
    Sample {
        /// Where to write the image (JPEG when the name ends in .jpg or .jpeg, else PNG).
        #[arg(long)]
        out: PathBuf,
        /// The layout: td1 (ID card) or td3 (passport page).
        #[arg(long, default_value = "td3")]
        format: DocFormat,
        /// The seed of the fictitious identity and the layout choices.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Resolution in dots per inch (100–1200).
        #[arg(long, default_value_t = 300)]
        dpi: u32,
        /// Rotation in degrees, counter-clockwise (−45–45).
        #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
        rotation: f32,
        /// Gaussian blur in pixels (0–3).
        #[arg(long, default_value_t = 0.0)]
        blur: f32,
        /// JPEG quality (1–100) when writing a JPEG.
        #[arg(long, default_value_t = 85)]
        quality: u8,
        /// Print JSON (the ground truth) instead of text.
        #[arg(long)]
        json: bool,
    },
}

impl std::fmt::Debug for DocumentCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read { json, .. } => f
                .debug_struct("Read")
                .field("image", &"<redacted>")
                .field("json", json)
                .finish(),
            Self::Sample { format, seed, .. } => f
                .debug_struct("Sample")
                .field("out", &"<redacted>")
                .field("format", format)
                .field("seed", seed)
                .finish_non_exhaustive(),
        }
    }
}

/// A clock stopped at the instant the command started (the reader wants a shared clock; the
/// command reads the caller's once).
struct Stopped(Timestamp);

impl Clock for Stopped {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// Runs `kyc document …`; "today" (date rules, two-digit years) is `clock`'s current date.
pub fn run(
    cmd: DocumentCommand,
    clock: &dyn Clock,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Outcome> {
    match cmd {
        DocumentCommand::Read { image, json } => {
            let bytes = read_image(&image)?;
            let now = clock.now();
            let reader =
                TesseractDocumentReader::new(&ReaderConfig::from_env(), Arc::new(Stopped(now)))
                    .context("the OCR engine is not available")?;
            let reading = reader
                .read_bytes(&bytes, now.date())
                .context("the document could not be read")?;
            let assessment = assess(&reading, now.date());
            if json {
                serde_json::to_writer_pretty(&mut *out, &to_json(&assessment)?)
                    .context("writing the output")?;
                writeln!(out).context("writing the output")?;
            } else {
                write_text(&assessment, out).context("writing the output")?;
            }
            Ok(if conclusive(&assessment) {
                Outcome::Success
            } else {
                Outcome::Negative
            })
        }
        DocumentCommand::Sample {
            out: path,
            format,
            seed,
            dpi,
            rotation,
            blur,
            quality,
            json,
        } => {
            let jpeg = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg"));
            let variant = Variant {
                dpi,
                blur_sigma: blur,
                rotation_deg: rotation,
                jpeg_quality: jpeg.then_some(quality),
            };
            let spec = DocSpec::new(seed, format, clock.now().date()).with_variant(variant);
            let generator =
                Generator::system().context("the document generator is not available")?;
            let doc = generator
                .generate(&spec)
                .context("generating the document")?;
            std::fs::write(&path, &doc.bytes).context("writing the image")?;
            if json {
                serde_json::to_writer_pretty(&mut *out, &doc.truth)
                    .context("writing the output")?;
                writeln!(out).context("writing the output")?;
            } else {
                let t = &doc.truth;
                let name = match t.format {
                    DocFormat::Td1 => "TD1 identity card",
                    DocFormat::Td3 => "TD3 passport page",
                };
                writeln!(
                    out,
                    "{name}, {} x {} px, fictitious data:",
                    doc.width, doc.height
                )?;
                for (label, value) in [
                    ("surname", t.surname.clone()),
                    ("given names", t.given_names.clone()),
                    ("birth date", t.birth_date.to_string()),
                    ("document number", t.document_number.clone()),
                    ("expiry date", t.expiry_date.to_string()),
                    ("nationality", t.nationality.clone()),
                    ("sex", t.sex.code().to_string()),
                ] {
                    writeln!(out, "  {label:<16} {value}")?;
                }
                for line in &t.mrz {
                    writeln!(out, "  {line}")?;
                }
            }
            Ok(Outcome::Success)
        }
    }
}

fn read_image(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path).context("opening the image file")?;
    let mut bytes = Vec::new();
    file.take(MAX_IMAGE_BYTES + 1)
        .read_to_end(&mut bytes)
        .context("reading the image file")?;
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        bail!("the image is larger than {} MiB", MAX_IMAGE_BYTES >> 20);
    }
    Ok(bytes)
}

/// Valid MRZ, no disagreement, every required field present.
fn conclusive(a: &DocumentAssessment) -> bool {
    a.mrz_status == MrzStatus::Valid
        && a.evidence.iter().all(|(_, e)| e != Evidence::Disagree)
        && a.missing(REQUIRED_FIELDS).is_empty()
}

/// `{"fields", "mrz", "evidence"}`: the merged record, the MRZ reading used (or null) and how
/// it was established.
fn to_json(a: &DocumentAssessment) -> anyhow::Result<Value> {
    let whole = serde_json::to_value(a).context("serialising the assessment")?;
    let get = |k: &str| whole.get(k).cloned().unwrap_or(Value::Null);
    Ok(json!({
        "fields": get("fields"),
        "mrz": get("mrz"),
        "evidence": {
            "mrzStatus": get("mrzStatus"),
            "mrzCandidates": get("mrzCandidates"),
            "mrzCorrections": get("mrzCorrections"),
            "crossCheck": get("evidence"),
            "warnings": get("warnings"),
        },
    }))
}

fn write_text(a: &DocumentAssessment, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let status = match a.mrz_status {
        MrzStatus::Valid => "MRZ valid",
        MrzStatus::Ambiguous => "MRZ AMBIGUOUS (several readings pass its checks)",
        MrzStatus::Invalid => "MRZ INVALID (check digits fail)",
        MrzStatus::Absent => "no MRZ found",
    };
    let format = a
        .mrz
        .as_ref()
        .map_or(String::new(), |m| format!("{} ", m.format()));
    writeln!(out, "{format}{status}")?;
    let f = &a.fields;
    let row = |v: Option<(String, f32, kyc_core::document::FieldSource)>| {
        v.map_or("(not read)".to_string(), |(value, c, s)| {
            let source = match s {
                kyc_core::document::FieldSource::Mrz => "mrz",
                kyc_core::document::FieldSource::Printed => "printed",
                kyc_core::document::FieldSource::MrzAndPrinted => "mrz+printed",
            };
            format!("{value}  ({source}, {c:.0})")
        })
    };
    macro_rules! field {
        ($f:expr, $show:expr) => {
            $f.as_ref()
                .map(|x| ($show(&x.value), x.confidence, x.source))
        };
    }
    let rows = [
        (
            "surname",
            field!(f.surname, |v: &kyc_core::model::PersonName| v
                .as_str()
                .to_string()),
        ),
        (
            "given names",
            field!(f.given_names, |v: &kyc_core::model::PersonName| v
                .as_str()
                .to_string()),
        ),
        (
            "birth date",
            field!(f.birth_date, |v: &kyc_core::model::BirthDate| v
                .date()
                .to_string()),
        ),
        (
            "document number",
            field!(f.document_number, |v: &kyc_core::model::DocumentNumber| v
                .as_str()
                .to_string()),
        ),
        (
            "expiry date",
            field!(f.expiry_date, |v: &kyc_core::model::ExpiryDate| v
                .date()
                .to_string()),
        ),
        (
            "nationality",
            field!(f.nationality, |v: &kyc_core::model::CountryCode| v
                .alpha3()
                .to_string()),
        ),
        (
            "issuing state",
            field!(f.issuing_state, |v: &kyc_core::model::CountryCode| v
                .alpha3()
                .to_string()),
        ),
        (
            "sex",
            field!(f.sex, |v: &kyc_core::model::Sex| v.code().to_string()),
        ),
    ];
    for (label, value) in rows {
        writeln!(out, "  {label:<16} {}", row(value))?;
    }
    let disagree: Vec<&str> = a
        .evidence
        .iter()
        .filter(|(_, e)| *e == Evidence::Disagree)
        .map(|(f, _)| f.as_str())
        .collect();
    if !disagree.is_empty() {
        writeln!(
            out,
            "  printed and MRZ disagree on: {}",
            disagree.join(", ")
        )?;
    }
    let missing: Vec<&str> = a
        .missing(REQUIRED_FIELDS)
        .iter()
        .map(|f| f.as_str())
        .collect();
    if !missing.is_empty() {
        writeln!(out, "  missing: {}", missing.join(", "))?;
    }
    Ok(())
}
