//! `cargo xtask dist`: builds each Lambda handler for `provided.al2023` on arm64 and packs it as
//! `target/dist/<handler>.zip` holding one executable named `bootstrap`.
//!
//! The handler names come from `stackgen handlers` (the stack and the artefacts cannot drift
//! apart); each must be a binary of the `handlers` crate. The zips are deterministic (stored,
//! fixed timestamps), so their content hash, which `stackgen deploy` uses as the artefact
//! prefix, changes only when a binary does. Target: `$KYC_DIST_TARGET`, default
//! `aarch64-unknown-linux-gnu`.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// Builds and packs every handler.
pub fn run(root: &Path, cargo: &dyn Fn() -> Command) -> Result<()> {
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
    let bins: Vec<String> = meta["packages"]
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
        .collect();
    let missing: Vec<&String> = names.iter().filter(|n| !bins.contains(n)).collect();
    if !missing.is_empty() {
        bail!(
            "the handlers crate has no Lambda binary for: {} (each handler of the stack is a `[[bin]]` of `handlers` with that name)",
            missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    let target =
        std::env::var("KYC_DIST_TARGET").unwrap_or_else(|_| "aarch64-unknown-linux-gnu".into());
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "--locked",
        "-p",
        "handlers",
        "--target",
        &target,
    ]);
    for n in &names {
        build.args(["--bin", n]);
    }
    let status = build.status().context("building the handlers")?;
    if !status.success() {
        bail!("building the handlers for {target} failed");
    }
    let dist = root.join("target/dist");
    std::fs::create_dir_all(&dist)?;
    for n in &names {
        let bin = root.join("target").join(&target).join("release").join(n);
        let bytes = std::fs::read(&bin).with_context(|| format!("reading {}", bin.display()))?;
        let zip = zip_single("bootstrap", &bytes, 0o755);
        std::fs::write(dist.join(format!("{n}.zip")), zip)?;
        eprintln!("    target/dist/{n}.zip");
    }
    Ok(())
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

/// A zip archive holding one stored (uncompressed) file with Unix `mode`, with fixed
/// timestamps (1980-01-01) so the same input always gives the same bytes.
pub fn zip_single(name: &str, data: &[u8], mode: u32) -> Vec<u8> {
    let crc = crc32(data);
    let size = data.len() as u32;
    let name_len = name.len() as u16;
    let (time, date) = (0u16, (1u16 << 5) | 1);
    let mut out = Vec::with_capacity(data.len() + 128);
    // Local file header.
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    out.extend_from_slice(&20u16.to_le_bytes()); // version needed
    out.extend_from_slice(&0u16.to_le_bytes()); // flags
    out.extend_from_slice(&0u16.to_le_bytes()); // stored
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(&date.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // extra
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    let central = out.len() as u32;
    // Central directory entry.
    out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    out.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by Unix
    out.extend_from_slice(&20u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(&date.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // extra
    out.extend_from_slice(&0u16.to_le_bytes()); // comment
    out.extend_from_slice(&0u16.to_le_bytes()); // disk
    out.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    out.extend_from_slice(&((0o100_000 | mode) << 16).to_le_bytes()); // regular file + mode
    out.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    out.extend_from_slice(name.as_bytes());
    let central_size = out.len() as u32 - central;
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::{crc32, zip_single};

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
}
