//! `cargo xtask dist [--strict]`: builds the Lambda functions for `provided.al2023` and packs
//! one `target/dist/<handler>.zip` per handler of the stack, each holding an executable named
//! `bootstrap`.
//!
//! The handler names come from `stackgen handlers` (the stack and the artefacts cannot drift
//! apart). Several handlers run the same binary ([`binary_of`]): the five API handlers
//! (`upload-id`, `liveness`, `verify`, `erasure`, `jwks`) are the `api` binary, which serves
//! the whole router (API Gateway sends each only its own routes, and each function's role
//! allows only what its routes do); `ocr` and `sanctions` are their own binaries. A handler
//! with no binary yet is listed on stderr and skipped; `--strict` makes that an error.
//!
//! The binaries are built with `--no-default-features --features aws` (no dlib, Tesseract or
//! SQLite is linked) in the `lambda` profile (release, no debug information, symbols
//! stripped). The `sanctions` zip also carries the sanctions list files under `lists/`
//! (`$KYC_DIST_LISTS`, else the shared data's `sanctions/` folder without its `*-bench`
//! benchmark folders), which the function indexes at cold start.
//!
//! The zips are deterministic (sorted entries, fixed timestamps, deflate at a fixed level), so
//! their content hash, which `stackgen deploy` uses as the artefact prefix, changes only when
//! their content does. Target: `$KYC_DIST_TARGET`, default `aarch64-unknown-linux-gnu` (the
//! stack's functions run on arm64); a binary that needs a newer glibc than al2023's 2.34 is
//! reported.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The handlers served by the `api` binary.
pub const API_HANDLERS: [&str; 5] = ["upload-id", "liveness", "verify", "erasure", "jwks"];

/// The glibc of `provided.al2023`.
const AL2023_GLIBC: (u32, u32) = (2, 34);

/// The Cargo profile of the Lambda binaries.
const PROFILE: &str = "lambda";

/// The binary of the `handlers` crate that a handler runs: `api` for the API handlers, else
/// the binary of the handler's own name.
pub fn binary_of(handler: &str) -> &str {
    if API_HANDLERS.contains(&handler) {
        "api"
    } else {
        handler
    }
}

/// What will be packed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// `(handler, binary)` for every handler with a binary, in the stack's order.
    pub artefacts: Vec<(String, String)>,
    /// Handlers without a binary.
    pub missing: Vec<String>,
}

impl Plan {
    /// The plan for `handlers` given the crate's binaries.
    pub fn new(handlers: &[String], binaries: &[String]) -> Self {
        let mut plan = Self::default();
        for h in handlers {
            let bin = binary_of(h);
            if binaries.iter().any(|b| b == bin) {
                plan.artefacts.push((h.clone(), bin.to_owned()));
            } else {
                plan.missing.push(h.clone());
            }
        }
        plan
    }

    /// The binaries to build, each once, sorted.
    pub fn binaries(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self.artefacts.iter().map(|(_, b)| b.as_str()).collect();
        set.into_iter().collect()
    }
}

/// Builds and packs every handler that has a binary.
pub fn run(root: &Path, cargo: &dyn Fn() -> Command, args: &[String]) -> Result<()> {
    let strict = args.iter().any(|a| a == "--strict");
    if let Some(unknown) = args.iter().find(|a| *a != "--strict") {
        bail!("unknown argument {unknown:?}; usage: cargo xtask dist [--strict]");
    }
    let out = cargo()
        .args([
            "run", "--quiet", "--locked", "-p", "stackgen", "--", "handlers",
        ])
        .output()
        .context("running stackgen handlers")?;
    if !out.status.success() {
        bail!(
            "stackgen handlers failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let meta = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1", "--locked"])
        .output()
        .context("running cargo metadata")?;
    let meta: Value = serde_json::from_slice(&meta.stdout).context("cargo metadata output")?;
    let plan = Plan::new(&names, &handler_binaries(&meta));
    let target_dir = meta["target_directory"]
        .as_str()
        .map_or_else(|| root.join("target"), PathBuf::from);
    let target =
        std::env::var("KYC_DIST_TARGET").unwrap_or_else(|_| "aarch64-unknown-linux-gnu".into());
    check_target_installed(&target)?;
    // For this machine's own triple, no `--target`: the build is then the one `cargo xtask
    // bench lambda` measures (same profile, same directory).
    let native = host_triple().as_deref() == Some(target.as_str());
    let mut build = cargo();
    build.args([
        "build",
        "--locked",
        "--profile",
        PROFILE,
        "-p",
        "handlers",
        "--no-default-features",
        "--features",
        "aws",
    ]);
    if !native {
        build.args(["--target", &target]);
    }
    for b in plan.binaries() {
        build.args(["--bin", b]);
    }
    eprintln!(
        "==> building {} for {target} (--no-default-features --features aws)",
        plan.binaries().join(", ")
    );
    let status = build.status().context("building the handlers")?;
    if !status.success() {
        bail!("building the handlers for {target} failed");
    }
    let lists = lists_dir(root);
    let list_files = match &lists {
        Some(dir) => collect_lists(dir)?,
        None => Vec::new(),
    };
    let dist = target_dir.join("dist");
    std::fs::create_dir_all(&dist)?;
    let mut problems = Vec::new();
    for (handler, bin) in &plan.artefacts {
        let path = if native {
            target_dir.join(PROFILE).join(bin)
        } else {
            target_dir.join(&target).join(PROFILE).join(bin)
        };
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        if let Some((major, minor)) = max_glibc(&bytes) {
            if (major, minor) > AL2023_GLIBC {
                problems.push(format!(
                    "{bin} needs glibc {major}.{minor}, newer than provided.al2023's {}.{}",
                    AL2023_GLIBC.0, AL2023_GLIBC.1
                ));
            }
        }
        let mut entries = vec![Entry {
            name: "bootstrap".into(),
            data: bytes,
            mode: 0o755,
        }];
        if bin == "sanctions" {
            if list_files.is_empty() {
                problems.push("sanctions.zip carries no sanctions lists: set KYC_DIST_LISTS (or configure KYC_SCREENING_API_URL on the function)".into());
            }
            entries.extend(list_files.iter().map(|(name, data)| Entry {
                name: format!("lists/{name}"),
                data: data.clone(),
                mode: 0o644,
            }));
        }
        let zip = zip(&entries);
        let file = dist.join(format!("{handler}.zip"));
        std::fs::write(&file, &zip)?;
        eprintln!(
            "    {} ({bin}, {:.2} MB)",
            file.display(),
            zip.len() as f64 / 1_000_000.0
        );
    }
    for p in &problems {
        eprintln!("warning: {p}");
    }
    if !plan.missing.is_empty() {
        eprintln!(
            "warning: no Lambda binary yet for: {} (not packed)",
            plan.missing.join(", ")
        );
    }
    if strict && (!plan.missing.is_empty() || !problems.is_empty()) {
        bail!("--strict: some handlers were not packed or need attention (see above)");
    }
    Ok(())
}

/// The binary targets of the `handlers` package in `cargo metadata` output.
fn handler_binaries(meta: &Value) -> Vec<String> {
    meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["name"] == "handlers")
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|x| x == "bin"))
        })
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect()
}

/// The host's target triple (`rustc -vV`).
fn host_triple() -> Option<String> {
    let out = Command::new("rustc").arg("-vV").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
}

/// Fails with a clear message when the target's standard library is not installed.
fn check_target_installed(target: &str) -> Result<()> {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .context("running rustc --print sysroot")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !sysroot.join("lib/rustlib").join(target).is_dir() {
        bail!(
            "the Rust standard library for {target} is not installed (`rustup target add {target}`, and a linker for it); \
             KYC_DIST_TARGET=x86_64-unknown-linux-gnu builds for x86_64 functions instead"
        );
    }
    Ok(())
}

/// Where the sanctions lists to ship are: `$KYC_DIST_LISTS`, else the shared data's.
fn lists_dir(root: &Path) -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("KYC_DIST_LISTS") {
        return Some(PathBuf::from(d));
    }
    let shared = std::env::var_os("KYC_SHARED_DATA")
        .map_or_else(|| root.join("../shared/data"), PathBuf::from)
        .join("sanctions");
    shared.is_dir().then_some(shared)
}

/// Every file under `dir` (relative `/`-separated name, bytes), sorted, skipping hidden files
/// and folders named `*-bench` (benchmark data, not lists).
pub fn collect_lists(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, Vec<u8>)>, depth: u32) -> Result<()> {
        if depth > 8 {
            return Ok(());
        }
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .collect::<std::io::Result<_>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = e.path();
            let rel_name = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let kind = e.file_type()?;
            if kind.is_dir() {
                if !name.ends_with("-bench") {
                    walk(&path, &rel_name, out, depth + 1)?;
                }
            } else if kind.is_file() {
                out.push((rel_name, std::fs::read(&path)?));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out, 0)?;
    Ok(out)
}

/// The newest `GLIBC_x.y` symbol version an ELF binary names (its version needs), if any.
pub fn max_glibc(bytes: &[u8]) -> Option<(u32, u32)> {
    const TAG: &[u8] = b"GLIBC_";
    let mut best = None;
    let mut i = 0;
    while let Some(pos) = bytes.get(i..)?.windows(TAG.len()).position(|w| w == TAG) {
        let start = i + pos + TAG.len();
        let digits: Vec<u8> = bytes
            .get(start..)?
            .iter()
            .take(12)
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .copied()
            .collect();
        let text = String::from_utf8_lossy(&digits);
        let mut parts = text.split('.');
        if let (Some(Ok(major)), Some(Ok(minor))) = (
            parts.next().map(str::parse::<u32>),
            parts.next().map(str::parse::<u32>),
        ) {
            best = best.max(Some((major, minor)));
        }
        i = start;
    }
    best
}

fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc = table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

/// One file of a zip.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its path in the archive (`/`-separated).
    pub name: String,
    /// Its content.
    pub data: Vec<u8>,
    /// Its Unix permissions.
    pub mode: u32,
}

/// A zip archive of `entries` in the given order: each deflated (level 9) unless storing is
/// smaller, with Unix modes and fixed timestamps (1980-01-01), so the same input always gives
/// the same bytes.
pub fn zip(entries: &[Entry]) -> Vec<u8> {
    let (time, date) = (0u16, (1u16 << 5) | 1);
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let crc = crc32(&e.data);
        let deflated = miniz_oxide::deflate::compress_to_vec(&e.data, 9);
        let (method, body): (u16, &[u8]) = if deflated.len() < e.data.len() {
            (8, &deflated)
        } else {
            (0, &e.data)
        };
        let offset = out.len() as u32;
        let name = e.name.as_bytes();
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&time.to_le_bytes());
        out.extend_from_slice(&date.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // extra
        out.extend_from_slice(name);
        out.extend_from_slice(body);
        // Central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by Unix
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&time.to_le_bytes());
        central.extend_from_slice(&date.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(body.len() as u32).to_le_bytes());
        central.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&((0o100_000 | e.mode) << 16).to_le_bytes()); // file + mode
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    // End of central directory.
    let n = entries.len() as u16;
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A zip archive holding one file (as [`zip`]).
pub fn zip_single(name: &str, data: &[u8], mode: u32) -> Vec<u8> {
    zip(&[Entry {
        name: name.to_owned(),
        data: data.to_vec(),
        mode,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_zip_holds_the_file_and_is_deterministic() {
        let a = zip_single("bootstrap", b"hello", 0o755);
        assert_eq!(a, zip_single("bootstrap", b"hello", 0o755));
        assert_eq!(&a[..4], b"PK\x03\x04");
        assert!(a.windows(5).any(|w| w == b"hello"));
        assert_eq!(&a[a.len() - 22..a.len() - 18], b"PK\x05\x06");
    }

    #[test]
    fn compressible_files_are_deflated_and_inflate_back() {
        let data = b"sanctions list line\n".repeat(500);
        let z = zip(&[
            Entry {
                name: "bootstrap".into(),
                data: b"x".to_vec(),
                mode: 0o755,
            },
            Entry {
                name: "lists/un/list.xml".into(),
                data: data.clone(),
                mode: 0o644,
            },
        ]);
        assert!(z.len() < data.len() / 4);
        // The second local header: method 8, then the deflated body inflates to the file.
        let second = z
            .windows(4)
            .enumerate()
            .filter(|(_, w)| *w == b"PK\x03\x04")
            .nth(1)
            .unwrap()
            .0;
        assert_eq!(u16::from_le_bytes([z[second + 8], z[second + 9]]), 8);
        let csize = u32::from_le_bytes(z[second + 18..second + 22].try_into().unwrap()) as usize;
        let name_len = u16::from_le_bytes([z[second + 26], z[second + 27]]) as usize;
        let body = &z[second + 30 + name_len..second + 30 + name_len + csize];
        assert_eq!(miniz_oxide::inflate::decompress_to_vec(body).unwrap(), data);
        // Two entries in the end record.
        assert_eq!(u16::from_le_bytes([z[z.len() - 12], z[z.len() - 11]]), 2);
    }

    #[test]
    fn the_api_binary_serves_the_five_api_handlers_and_the_rest_are_reported() {
        let handlers = names(&[
            "upload-id",
            "liveness",
            "verify",
            "erasure",
            "jwks",
            "tasks",
            "authorizer",
            "ws-connection",
            "ocr",
            "sanctions",
            "task-events",
            "task-push",
        ]);
        let plan = Plan::new(&handlers, &names(&["kyc", "api", "ocr", "sanctions"]));
        assert_eq!(
            plan.artefacts
                .iter()
                .map(|(h, b)| format!("{h}:{b}"))
                .collect::<Vec<_>>(),
            vec![
                "upload-id:api",
                "liveness:api",
                "verify:api",
                "erasure:api",
                "jwks:api",
                "ocr:ocr",
                "sanctions:sanctions"
            ]
        );
        assert_eq!(
            plan.missing,
            names(&[
                "tasks",
                "authorizer",
                "ws-connection",
                "task-events",
                "task-push"
            ])
        );
        assert_eq!(plan.binaries(), vec!["api", "ocr", "sanctions"]);
        let later = Plan::new(&names(&["tasks"]), &names(&["tasks"]));
        assert_eq!(later.artefacts, vec![("tasks".into(), "tasks".into())]);
    }

    #[test]
    fn the_newest_glibc_version_named_is_found() {
        let elf = b"\x7fELF....GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_PRIVATE\0GLIBC_2.17\0GLIBC_2.";
        assert_eq!(max_glibc(elf), Some((2, 34)));
        assert_eq!(max_glibc(b"no versions"), None);
        assert_eq!(max_glibc(b"GLIBC_2.36"), Some((2, 36)));
    }

    #[test]
    fn list_collection_skips_benchmarks_and_hidden_files() {
        let dir = std::env::temp_dir().join(format!("kyc-dist-lists-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("un-2026")).unwrap();
        std::fs::create_dir_all(dir.join("screening-bench")).unwrap();
        std::fs::write(dir.join("un-2026/UN.xml"), "<x/>").unwrap();
        std::fs::write(dir.join("screening-bench/neg.csv"), "a").unwrap();
        std::fs::write(dir.join(".hidden"), "h").unwrap();
        std::fs::write(dir.join("eu.xml"), "<e/>").unwrap();
        let files = collect_lists(&dir).unwrap();
        let got: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(got, vec!["eu.xml", "un-2026/UN.xml"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
