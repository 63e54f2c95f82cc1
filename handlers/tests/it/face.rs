//! `kyc face compare`: JSON and text output on real photos (fetched by `cargo xtask setup`),
//! the one-line errors for images without exactly one face or that cannot be decoded, and the
//! built binary's exit statuses, including the message when the models are missing.

use std::path::PathBuf;
use std::process::Command;

use clap::Parser;
use handlers::cli::{run, Cli, Outcome};
use kyc_core::model::Timestamp;
use kyc_core::ports::fakes::FakeClock;

fn photo(name: &str) -> String {
    let path = kyc_local::config::assets_dir().join("faces").join(name);
    assert!(
        path.is_file(),
        "face photo {} is missing: run `cargo xtask setup` first",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// A scratch file for this test process.
fn scratch(name: &str, bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("kyc-face-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

fn faceless_png() -> String {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    scratch("faceless.png", &bytes)
}

/// Runs `kyc <args>`; returns the outcome (or the one-line error) and stdout.
fn kyc(args: &[&str]) -> (Result<Outcome, String>, String) {
    let cli = Cli::try_parse_from(std::iter::once("kyc").chain(args.iter().copied())).unwrap();
    let clock = FakeClock::at(Timestamp::from_secs(1_800_000_000));
    let mut out = Vec::new();
    let result = run(cli, &clock, &mut "".as_bytes(), &mut out).map_err(|e| format!("{e:#}"));
    (result, String::from_utf8(out).unwrap())
}

#[test]
fn the_same_person_matches_and_prints_the_product_json() {
    let (a, b) = (photo("obama.jpg"), photo("obama2.jpg"));
    let (result, out) = kyc(&["face", "compare", &a, &b, "--json"]);
    assert_eq!(result, Ok(Outcome::Success));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["match"], true);
    assert_eq!(v["threshold"], 85.0);
    assert_eq!(v["faces"], serde_json::json!({"a": 1, "b": 1}));
    let s = v["similarity"].as_f64().unwrap();
    assert!((85.0..=100.0).contains(&s), "{s}");
    insta::assert_snapshot!("obama_obama2_json", out);
}

#[test]
fn different_people_do_not_match_with_a_negative_outcome() {
    let (a, b) = (photo("obama.jpg"), photo("biden.jpg"));
    let (result, out) = kyc(&["face", "compare", &a, &b]);
    assert_eq!(result, Ok(Outcome::Negative));
    assert!(out.starts_with("no match: similarity "), "{out}");
    insta::assert_snapshot!("obama_biden_text", out);
}

#[test]
fn a_group_photo_is_refused_naming_the_image_and_the_count() {
    let (a, b) = (photo("obama.jpg"), photo("t1.jpg"));
    let (result, out) = kyc(&["face", "compare", &a, &b]);
    assert_eq!(
        result,
        Err("image B holds 6 faces, exactly one is needed".into())
    );
    assert!(out.is_empty());
}

#[test]
fn an_image_without_a_face_is_refused() {
    let (a, b) = (faceless_png(), photo("obama.jpg"));
    let (result, out) = kyc(&["face", "compare", &a, &b, "--json"]);
    assert_eq!(result, Err("image A holds no face".into()));
    assert!(out.is_empty());
}

#[test]
fn unreadable_images_are_refused_without_echoing_the_path() {
    let obama = photo("obama.jpg");
    let garbage = scratch("garbage.jpg", &[0xFF, 0xD8, 0xFF, 0x00, 0x13, 0x37]);
    let text = scratch("secret-name.jpg", b"hello");
    let missing = "/nonexistent/secret-name.jpg";
    for (a, b, expected) in [
        (&obama, &garbage, "image B could not be decoded"),
        (&text, &obama, "image A is not a JPEG or PNG image"),
        (&obama, &missing.to_string(), "opening image B"),
    ] {
        let (result, _) = kyc(&["face", "compare", a, b]);
        let e = result.unwrap_err();
        assert!(e.starts_with(expected), "{e}");
        assert!(!e.contains("secret"), "{e}");
    }
}

/// The built binary: 0 for a match, 1 for no match, 2 with one line on stderr otherwise,
/// including when the models are not installed.
#[test]
fn binary_exit_statuses_and_stderr() {
    let empty_models = PathBuf::from(scratch("keep", b"")).with_file_name("no-models");
    std::fs::create_dir_all(empty_models.join("dlib")).unwrap();
    let cases: [(&[String], Option<&PathBuf>, i32, &str); 4] = [
        (&[photo("obama.jpg"), photo("obama3.jpg")], None, 0, ""),
        (&[photo("obama.jpg"), photo("biden.jpg")], None, 1, ""),
        (
            &[photo("sample1.jpg"), photo("obama.jpg")],
            None,
            2,
            "error: image A holds 4 faces, exactly one is needed\n",
        ),
        (
            &[photo("obama.jpg"), photo("obama2.jpg")],
            Some(&empty_models),
            2,
            "cargo xtask setup",
        ),
    ];
    for (files, models, code, stderr) in cases {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kyc"));
        cmd.args(["face", "compare"]).args(files);
        if let Some(dir) = models {
            cmd.env("KYC_MODELS_DIR", dir);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(code), "{files:?}: {err}");
        assert!(err.contains(stderr), "{err}");
        assert!(err.lines().count() <= 1, "{err}");
        if code == 2 {
            assert!(out.stdout.is_empty());
        }
    }
}
