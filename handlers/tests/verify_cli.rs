//! `kyc verify`: one offline verification through the service on the embedded engines, with a
//! generated passport page carrying a real face photo and real selfies.

use std::path::{Path, PathBuf};

use clap::Parser as _;
use handlers::cli::{run, Cli, Outcome};
use kyc_core::model::Timestamp;
use kyc_core::ports::Clock;
use serde_json::Value;

struct Now;
impl Clock for Now {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64,
        )
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn faces() -> PathBuf {
    repo().join(".kyc-cache/assets/faces")
}

/// A TD3 page whose portrait is `photo` (the generator picks among the photos of a directory).
fn document_with(photo: &str, dir: &Path) -> PathBuf {
    use kyc_local::docgen::{DocFormat, DocSpec, Fonts, Generator, Variant};
    let only = dir.join("face");
    std::fs::create_dir_all(&only).unwrap();
    std::fs::copy(faces().join(photo), only.join(photo))
        .expect("test photos are installed by `cargo xtask setup`");
    let generator = Generator::new(Fonts::system().expect("system fonts")).with_faces_from(&only);
    assert_eq!(generator.face_count(), 1);
    let spec = DocSpec::new(5, DocFormat::Td3, Now.now().date()).with_variant(Variant {
        dpi: 300,
        blur_sigma: 0.0,
        rotation_deg: 0.0,
        jpeg_quality: Some(88),
    });
    let doc = generator.generate(&spec).unwrap();
    let path = dir.join("document.jpg");
    std::fs::write(&path, doc.bytes).unwrap();
    path
}

fn verify(document: &Path, selfie: &Path) -> (Outcome, Value) {
    let lists = repo().join("../shared/data/sanctions");
    let cli = Cli::parse_from([
        "kyc".as_ref(),
        "verify".as_ref(),
        "--document".as_ref(),
        document.as_os_str(),
        "--selfie".as_ref(),
        selfie.as_os_str(),
        "--lists".as_ref(),
        lists.as_os_str(),
        "--json".as_ref(),
    ]);
    let mut out = Vec::new();
    let outcome = run(cli, &Now, &mut std::io::empty(), &mut out).expect("kyc verify runs");
    (outcome, serde_json::from_slice(&out).expect("JSON output"))
}

#[test]
fn the_holder_matches_and_someone_else_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let document = document_with("obama.jpg", dir.path());

    let (outcome, same) = verify(&document, &faces().join("obama2.jpg"));
    assert_eq!(same["faceMatch"]["match"], true, "{same:#}");
    assert!(same["faceMatch"]["similarity"].as_f64().unwrap() >= 85.0);
    assert!(same["document"]["fields"]["surname"].is_object());
    assert_eq!(same["document"]["evidence"]["mrzStatus"], "valid");
    assert_eq!(same["sanctions"]["status"], "clear");
    assert_eq!(same["liveness"], Value::Null);
    // Nothing is wrong with a valid, unexpired document of an adult who matches.
    assert_eq!(same["status"], "approved", "{same:#}");
    assert_eq!(outcome, Outcome::Success);

    let (outcome, other) = verify(&document, &faces().join("biden.jpg"));
    assert_eq!(other["faceMatch"]["match"], false);
    assert_eq!(other["status"], "rejected");
    assert!(other["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "FACE_MISMATCH"));
    assert_eq!(outcome, Outcome::Negative);
}

#[test]
fn a_file_that_is_not_an_image_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("doc.jpg");
    std::fs::write(&bogus, b"<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap();
    let cli = Cli::parse_from([
        "kyc".as_ref(),
        "verify".as_ref(),
        "--document".as_ref(),
        bogus.as_os_str(),
        "--selfie".as_ref(),
        faces().join("obama2.jpg").as_os_str(),
    ]);
    let err = run(cli, &Now, &mut std::io::empty(), &mut Vec::new()).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("the document"), "{msg}");
    assert!(!msg.contains("svg"), "{msg}");
}
