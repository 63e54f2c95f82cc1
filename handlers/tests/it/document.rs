//! `kyc document sample` and `kyc document read`: a generated sample read back (JSON snapshot
//! with the engine's confidences masked), text output, exit outcomes, and the binary's errors
//! for unreadable files and a missing model. Needs `cargo xtask setup` (Tesseract, the model,
//! the fonts).

use std::process::Command;

use clap::Parser;
use handlers::cli::{run, Cli, Outcome};
use kyc_core::model::{Date, Timestamp};
use kyc_core::ports::fakes::FakeClock;

/// Runs `kyc <args>` on 2026-03-01; returns the outcome (or the one-line error) and stdout.
fn kyc(args: &[&str]) -> (Result<Outcome, String>, String) {
    let cli = Cli::try_parse_from(std::iter::once("kyc").chain(args.iter().copied())).unwrap();
    let day = Date::from_ymd(2026, 3, 1).unwrap().days_since_epoch();
    let clock = FakeClock::at(Timestamp::from_secs(day * 86_400 + 12 * 3600));
    let mut out = Vec::new();
    let result = run(cli, &clock, &mut std::io::empty(), &mut out).map_err(|e| format!("{e:#}"));
    (result, String::from_utf8(out).unwrap())
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kyc-document-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn sample(name: &str, extra: &[&str]) -> (std::path::PathBuf, String) {
    let path = temp(name);
    let mut args = vec!["document", "sample", "--out", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (result, out) = kyc(&args);
    assert_eq!(
        result,
        Ok(Outcome::Success),
        "the generator needs the fonts: run `cargo xtask setup`"
    );
    (path, out)
}

/// Replaces every `"confidence"` number by a placeholder (they depend on the engine build).
fn mask_confidences(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "confidence" {
                    *child = serde_json::Value::String("[confidence]".into());
                } else {
                    mask_confidences(child);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_confidences),
        _ => {}
    }
}

#[test]
fn a_sample_prints_its_fictitious_ground_truth() {
    let (_, out) = sample("truth.png", &["--format", "td1", "--seed", "4", "--json"]);
    insta::assert_snapshot!("sample_td1_truth", out);
    let (_, text) = sample("truth.png", &["--format", "td3", "--seed", "4"]);
    insta::assert_snapshot!("sample_td3_text", text);
}

#[test]
fn a_sample_passport_is_read_back_as_json() {
    let (path, truth) = sample(
        "passport.jpg",
        &["--seed", "2", "--rotation", "-2.5", "--json"],
    );
    let truth: serde_json::Value = serde_json::from_str(&truth).unwrap();
    let (result, out) = kyc(&["document", "read", "--json", path.to_str().unwrap()]);
    assert_eq!(
        result,
        Ok(Outcome::Success),
        "the reader needs Tesseract and its model: run `cargo xtask setup`"
    );
    let mut read: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        read["fields"]["documentNumber"]["value"],
        truth["documentNumber"]
    );
    assert_eq!(read["fields"]["birthDate"]["value"], truth["birthDate"]);
    assert_eq!(read["mrz"]["valid"], true);
    mask_confidences(&mut read);
    insta::assert_json_snapshot!("read_td3_sample", read);
}

#[test]
fn text_output_lists_the_merged_fields() {
    let (path, _) = sample("card.png", &["--format", "td1", "--seed", "6"]);
    let (result, out) = kyc(&["document", "read", path.to_str().unwrap()]);
    assert_eq!(result, Ok(Outcome::Success));
    assert!(out.starts_with("TD1 MRZ valid\n"), "{out}");
    assert!(out.contains("document number"));
    assert!(!out.contains("(not read)"), "{out}");
}

#[test]
fn a_page_without_an_mrz_is_read_but_not_conclusive() {
    let path = temp("blank.png");
    let img = image::GrayImage::from_pixel(600, 400, image::Luma([250]));
    img.save(&path).unwrap();
    let (result, out) = kyc(&["document", "read", path.to_str().unwrap()]);
    assert_eq!(result, Ok(Outcome::Negative));
    assert!(out.starts_with("no MRZ found\n"), "{out}");
}

#[test]
fn unreadable_files_are_errors_that_name_no_path() {
    let path = temp("not-an-image.jpg");
    std::fs::write(&path, b"plain text").unwrap();
    let (result, _) = kyc(&["document", "read", path.to_str().unwrap()]);
    let err = result.unwrap_err();
    assert_eq!(
        err,
        "the document could not be read: the image could not be decoded"
    );
    let (result, _) = kyc(&["document", "read", temp("missing.png").to_str().unwrap()]);
    assert!(result.unwrap_err().starts_with("opening the image file"));
}

#[test]
fn the_binary_explains_a_missing_model_and_exits_with_2() {
    let (path, _) = sample("for-binary.png", &["--format", "td1"]);
    let out = Command::new(env!("CARGO_BIN_EXE_kyc"))
        .args(["document", "read", path.to_str().unwrap()])
        .env("KYC_MODELS_DIR", temp("no-models"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: the OCR engine is not available"),
        "{stderr}"
    );
    assert!(stderr.contains("cargo xtask setup"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
}
