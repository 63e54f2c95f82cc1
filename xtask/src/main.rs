//! Project automation, `cargo xtask <task>` (matklad's pattern): the jobs people repeat, in Rust,
//! with no tools beyond cargo.
//!
//! Tasks:
//! - `ci`: everything CI checks, in order: formatting, the core-purity invariant, generated code
//!   up to date, clippy with warnings as errors, every test (unit, property, snapshot, doc, and
//!   the LocalStack deploy with LocalStack started once around the tests), the template gates
//!   (cfn-lint, checkov) and the workflow lint. It is the README's test command and what
//!   `.ci/run` runs. Tools are installed idempotently into `.kyc-cache/`.
//! - `core-purity`: proves `kyc-core` does not depend on any I/O crate (`cargo tree`).
//! - `bench [NAME]`: runs the criterion benchmarks in release mode and prints their figures.
//! - `bench serve|lambda`: the HTTP figures, end to end on release builds: uploads per second,
//!   latency and peak memory of `kyc serve`; the API Lambda's zip size and time to ready (see
//!   the `bench` module).
//! - `setup`: installs the Debian packages and fetches the models and test assets the embedded
//!   engines need (idempotent); `ci` runs it first.
//! - `codegen [--check]`: generates stackgen's resource types from `stackgen/schemas/`.
//! - `schemas [TYPE...]`: copies resource schemas from the pinned cfn-lint into `stackgen/schemas/`.
//! - `lint-templates`: cfn-lint and checkov on the synthesised templates.
//! - `lint-workflows`: actionlint on `.github/workflows/`.
//! - `localstack install|up|down|status|env`: the emulator on the host (`localstack/launch.sh`).
//! - `dist`: each Lambda handler as a `bootstrap` zip in `target/dist/`.

mod bench;
mod codegen;
mod dist;
mod tools;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

mod setup;

/// Crate-name prefixes that `kyc-core` must never reach: runtimes, SDKs, HTTP, storage, engines.
const FORBIDDEN_IN_CORE: &[&str] = &[
    "tokio",
    "aws-",
    "aws_",
    "lambda",
    "reqwest",
    "hyper",
    "rusqlite",
    "libsqlite3",
    "dlib",
    "tesseract",
    "leptess",
    "axum",
    "mio",
    "image",
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("core-purity") => core_purity(),
        Some("bench") => match args.get(1).map(String::as_str) {
            Some("serve") => bench::serve::run(&root(), &cargo, &args[2..]),
            Some("lambda") => bench::lambda::run(&cargo, &args[2..]),
            _ => bench(&args[1..]),
        },
        Some("setup") => setup::run(),
        Some("codegen") => codegen::run(&root(), args.iter().any(|a| a == "--check")),
        Some("schemas") => tools::refresh_schemas(&root(), &args[1..]),
        Some("lint-templates") => tools::lint_templates(&root(), &cargo),
        Some("lint-workflows") => tools::lint_workflows(&root()),
        Some("localstack") => match args.get(1).map(String::as_str) {
            Some(task @ ("install" | "up" | "down" | "status" | "env")) => {
                tools::localstack(&root(), task)
            }
            _ => bail!("usage: cargo xtask localstack install|up|down|status|env"),
        },
        Some("dist") => dist::run(&root(), &cargo, &args[1..]),
        Some("serve") => serve(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <serve [ARGS]|ci|core-purity|bench [NAME|serve|lambda]|setup|codegen [--check]|schemas|lint-templates|lint-workflows|localstack CMD|dist [--strict]>"
            );
            bail!("unknown or missing task")
        }
    }
}

/// `cargo xtask serve [ARGS]`: the README's first command. Installs what the embedded engines
/// need (`setup`: Debian packages, models), builds `kyc` in release mode and replaces this
/// process with `kyc serve --addr 127.0.0.1:8080 --data-dir .kyc-data ARGS` (later flags win),
/// which prints the URL when it listens. The sanctions lists default to `../shared/data`.
fn serve(args: &[String]) -> Result<()> {
    let root = root();
    timed("setup", setup::run)?;
    run(
        "cargo build --release -p handlers --features local --bin kyc",
        cargo()
            .args(["build", "--release", "--locked", "-p", "handlers"])
            .args([
                "--no-default-features",
                "--features",
                "local",
                "--bin",
                "kyc",
            ]),
    )?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let mut cmd = Command::new(target.join("release").join("kyc"));
    cmd.current_dir(&root)
        .args(["serve", "--addr", "127.0.0.1:8080", "--data-dir"])
        .arg(root.join(".kyc-data"))
        .args(args);
    let shared = root.join("../shared/data");
    if std::env::var_os("KYC_SHARED_DATA").is_none() && shared.is_dir() {
        cmd.env("KYC_SHARED_DATA", shared);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let err = cmd.exec();
        bail!("starting kyc serve: {err}");
    }
    #[cfg(not(unix))]
    run("kyc serve", &mut cmd)
}

/// The workspace root (xtask lives one level below it).
fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(what: &str, cmd: &mut Command) -> Result<()> {
    eprintln!("==> {what}");
    let status = cmd.status().with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

fn timed<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let start = std::time::Instant::now();
    let out = f();
    eprintln!("    [{what}: {:.1} s]", start.elapsed().as_secs_f64());
    out
}

fn ci() -> Result<()> {
    let root = root();
    timed("setup", setup::run)?;
    run(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;
    core_purity()?;
    eprintln!("==> generated resource types up to date");
    codegen::run(&root, true)?;
    timed("clippy", || {
        run(
            "cargo clippy",
            cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ]),
        )
    })?;
    timed("lint tools install", || tools::lint_venv(&root).map(|_| ()))?;
    {
        // LocalStack runs once around the tests and is stopped (by PID) even when they fail.
        let localstack = timed("LocalStack install and start", || {
            tools::LocalStack::start(&root)
        })?;
        timed("cargo test", || {
            run(
                "cargo test",
                cargo()
                    .args(["test", "--workspace", "--all-targets", "--locked"])
                    .env("KYC_LOCALSTACK_ENDPOINT", &localstack.endpoint)
                    .env("KYC_LOCALSTACK_LOG", &localstack.log),
            )
        })?;
        run(
            "cargo test --doc",
            cargo().args(["test", "--workspace", "--doc", "--locked"]),
        )?;
    }
    timed("template gates", || tools::lint_templates(&root, &cargo))?;
    timed("workflow lint", || tools::lint_workflows(&root))?;
    eprintln!("==> all checks passed");
    Ok(())
}

fn core_purity() -> Result<()> {
    eprintln!("==> kyc-core purity (cargo tree)");
    let out = cargo()
        .args([
            "tree",
            "-p",
            "kyc-core",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--locked",
        ])
        .output()
        .context("running cargo tree")?;
    if !out.status.success() {
        bail!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tree = String::from_utf8(out.stdout).context("cargo tree output is not UTF-8")?;
    let offenders: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| FORBIDDEN_IN_CORE.iter().any(|p| name.starts_with(p)))
        .collect();
    if !offenders.is_empty() {
        bail!(
            "kyc-core must do no I/O, but depends on: {}",
            offenders.join(", ")
        );
    }
    let count = tree.lines().count();
    eprintln!("    kyc-core reaches {count} crates, none of them I/O");
    Ok(())
}

fn bench(args: &[String]) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["bench", "--workspace", "--locked"]);
    if let Some(name) = args.first() {
        cmd.args(["--bench", name]);
    }
    run("cargo bench", &mut cmd)
}

#[cfg(test)]
mod tests {
    use super::FORBIDDEN_IN_CORE;

    #[test]
    fn forbidden_list_names_the_invariant_crates() {
        for needle in [
            "tokio",
            "aws-",
            "lambda",
            "reqwest",
            "hyper",
            "rusqlite",
            "dlib",
            "tesseract",
        ] {
            assert!(FORBIDDEN_IN_CORE.contains(&needle), "{needle}");
        }
    }
}
