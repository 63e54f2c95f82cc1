//! Where the embedded engines find their models and keep their data.

use std::path::PathBuf;

/// The cache directory that `cargo xtask setup` fills: `$KYC_CACHE_DIR`, else `.kyc-cache` in
/// the current directory's workspace root (the nearest ancestor holding `Cargo.lock`), else
/// `.kyc-cache` in the current directory.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KYC_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .unwrap_or(&cwd)
        .join(".kyc-cache")
}

/// The models directory: `$KYC_MODELS_DIR`, else `<cache>/models`.
pub fn models_dir() -> PathBuf {
    std::env::var_os("KYC_MODELS_DIR").map_or_else(|| cache_dir().join("models"), PathBuf::from)
}

/// Test and benchmark assets fetched at setup time (face photos): `<cache>/assets`.
pub fn assets_dir() -> PathBuf {
    cache_dir().join("assets")
}
