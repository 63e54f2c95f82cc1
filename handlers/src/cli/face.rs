//! `kyc face compare A B`: compares the faces of two photos with the local dlib engine under the
//! single-image face-match policy, and prints the similarity and the decision as text or JSON.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Subcommand;
use kyc_core::facematch::{check_quality, FaceMatchPolicy, QualityRejection};
use kyc_core::model::Image;
use kyc_core::ports::{FaceAnalysis, FaceError};
use kyc_local::face::{compare_analyses, DlibFaceEngine};
use serde::Serialize;

use super::Outcome;

/// The largest image file read.
pub const MAX_IMAGE_BYTES: u64 = 25 * 1024 * 1024;

/// `kyc face …`. `Debug` hides the file paths (their names may be personal data).
#[derive(Subcommand)]
pub enum FaceCommand {
    /// Compare the faces in two photos (JPEG or PNG), each of which must hold exactly one face.
    #[command(after_help = "\
Exit status:
  0  the faces match: similarity at or above the threshold (85 by default)
  1  the faces do not match (the output says so; \"match\": false)
  2  no decision: an image cannot be read or decoded, holds no face or several faces, or its
     face fails the quality gate (too small, turned too far, too dark…); or the face models are
     not installed (run `cargo xtask setup`). One line on stderr, nothing on stdout.

The similarity (0-100) comes from the distance between dlib's 128-d face embeddings through a
fixed calibration: distance 0.50 is similarity 85 (see kyc_local::face). Models are read from
$KYC_MODELS_DIR/dlib (default .kyc-cache/models/dlib in the workspace).")]
    Compare {
        /// The first photo (e.g. the ID portrait).
        a: PathBuf,
        /// The second photo (e.g. the selfie).
        b: PathBuf,
        /// Print JSON (`{"similarity", "match", "threshold", "faces": {"a", "b"}}`).
        #[arg(long)]
        json: bool,
    },
}

impl std::fmt::Debug for FaceCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Compare { json, .. } => f
                .debug_struct("Compare")
                .field("a", &"<redacted>")
                .field("b", &"<redacted>")
                .field("json", json)
                .finish(),
        }
    }
}

/// The JSON printed by `kyc face compare --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareOutput {
    /// Similarity 0–100, rounded to one decimal.
    pub similarity: f32,
    /// Whether the similarity reaches the threshold.
    #[serde(rename = "match")]
    pub matched: bool,
    /// The policy's threshold.
    pub threshold: f32,
    /// How many faces each image holds (1 for both whenever a result is printed).
    pub faces: FaceCounts,
}

/// Face counts of the two images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FaceCounts {
    /// Faces in image A.
    pub a: u32,
    /// Faces in image B.
    pub b: u32,
}

/// Runs `kyc face …` with the engine whose models are in the default models directory.
pub fn run(cmd: FaceCommand, out: &mut dyn std::io::Write) -> anyhow::Result<Outcome> {
    match cmd {
        FaceCommand::Compare { a, b, json } => {
            let image_a = read_image(&a, "A")?;
            let image_b = read_image(&b, "B")?;
            let engine = DlibFaceEngine::open_default().context("the face engine cannot start")?;
            let result = compare(&engine, &image_a, &image_b)?;
            if json {
                serde_json::to_writer_pretty(&mut *out, &result).context("writing the output")?;
                writeln!(out).context("writing the output")?;
            } else {
                writeln!(
                    out,
                    "{}: similarity {:.1} {} threshold {}",
                    if result.matched { "match" } else { "no match" },
                    result.similarity,
                    if result.matched { ">=" } else { "<" },
                    result.threshold
                )
                .context("writing the output")?;
            }
            Ok(if result.matched {
                Outcome::Success
            } else {
                Outcome::Negative
            })
        }
    }
}

/// Compares the two images under [`FaceMatchPolicy::single_image`]: each must hold exactly one
/// face that passes the quality gate, else an error that names the image.
pub fn compare(engine: &DlibFaceEngine, a: &Image, b: &Image) -> anyhow::Result<CompareOutput> {
    let policy = FaceMatchPolicy::single_image();
    let analysis_a = analyze(engine, a, "A")?;
    let analysis_b = analyze(engine, b, "B")?;
    for (label, analysis) in [("A", &analysis_a), ("B", &analysis_b)] {
        match check_quality(&analysis.quality, &policy) {
            Ok(()) => {}
            Err(QualityRejection::NoFaceDetected) => bail!("image {label} holds no face"),
            Err(QualityRejection::MultipleFaces { count }) => {
                bail!("image {label} holds {count} faces, exactly one is needed")
            }
            Err(other) => bail!("image {label} fails the quality gate: {other}"),
        }
    }
    let (_, similarity) =
        compare_analyses(&analysis_a, &analysis_b).context("the faces could not be compared")?;
    let threshold = policy.settings().threshold;
    Ok(CompareOutput {
        similarity: (similarity.value() * 10.0).round() / 10.0,
        matched: policy.is_match(similarity),
        threshold: threshold.value(),
        faces: FaceCounts {
            a: analysis_a.quality.face_count,
            b: analysis_b.quality.face_count,
        },
    })
}

fn analyze(engine: &DlibFaceEngine, image: &Image, label: &str) -> anyhow::Result<FaceAnalysis> {
    engine.analyze_blocking(image).map_err(|e| match e {
        FaceError::InvalidImage => {
            anyhow::anyhow!(
                "image {label} could not be decoded (or is larger than 12,000 px a side / 40 MP)"
            )
        }
        other => anyhow::Error::new(other).context(format!("analysing image {label}")),
    })
}

fn read_image(path: &Path, label: &str) -> anyhow::Result<Image> {
    let file = std::fs::File::open(path).with_context(|| format!("opening image {label}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_IMAGE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading image {label}"))?;
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        bail!(
            "image {label} is larger than {} MiB",
            MAX_IMAGE_BYTES / (1024 * 1024)
        );
    }
    if bytes.is_empty() {
        bail!("image {label} is empty");
    }
    Image::parse(
        bytes,
        usize::try_from(MAX_IMAGE_BYTES).unwrap_or(usize::MAX),
    )
    .map_err(|_| anyhow::anyhow!("image {label} is not a JPEG or PNG image"))
}
