//! Setup for the Lambda tooling: `cargo-lambda` (its Lambda emulator runs the `api` function in
//! the smoke test `handlers/tests/lambda_watch.rs`), pinned, from PyPI into its own virtual
//! environment `<cache>/venv-lambda`. Idempotent: a venv whose stamp names the pinned version
//! is kept.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Debian packages the venv needs (Debian's Python has `venv` in its own package).
pub const DEBIAN_PACKAGES: &[&str] = &["python3-venv"];

/// The pinned version.
pub const VERSION: &str = "1.9.2";

/// The venv.
pub fn venv(cache: &Path) -> PathBuf {
    cache.join("venv-lambda")
}

/// The `cargo-lambda` executable in the venv.
pub fn executable(cache: &Path) -> PathBuf {
    venv(cache).join("bin/cargo-lambda")
}

/// Installs `cargo-lambda==VERSION` unless the venv already has it.
pub fn run(cache: &Path) -> Result<()> {
    let venv = venv(cache);
    let stamp = venv.join(".cargo-lambda-version");
    if executable(cache).is_file()
        && std::fs::read_to_string(&stamp).ok().as_deref() == Some(VERSION)
    {
        return Ok(());
    }
    eprintln!(
        "==> installing cargo-lambda {VERSION} from PyPI into {}",
        venv.display()
    );
    let status = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .status()
        .context("creating the cargo-lambda venv (python3 with venv is needed)")?;
    if !status.success() {
        bail!("python3 -m venv {} failed ({status})", venv.display());
    }
    let status = Command::new(venv.join("bin/pip"))
        .args(["install", "--disable-pip-version-check", "-q"])
        .arg(format!("cargo-lambda=={VERSION}"))
        .status()
        .context("running pip")?;
    if !status.success() {
        bail!("pip install cargo-lambda=={VERSION} failed ({status})");
    }
    let out = Command::new(executable(cache))
        .args(["lambda", "--version"])
        .output()
        .context("running cargo-lambda")?;
    let printed = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !printed.contains(VERSION) {
        bail!("the installed cargo-lambda does not report version {VERSION}: {printed}");
    }
    std::fs::write(&stamp, VERSION)?;
    Ok(())
}
