//! `kyc sanctions screen` over the small list fixtures of the repository (OFAC SDN and
//! consolidated CSV sets, UN XML), run as library calls.

use std::path::PathBuf;

use clap::Parser;
use handlers::cli::{run, Cli};
use handlers::screening::lists::load_directory;
use kyc_core::sanctions::ListKind;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kyc-core/tests/data/sanctions")
}

fn kyc(args: &[&str]) -> anyhow::Result<String> {
    let mut argv = vec!["kyc"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv)?;
    let mut out = Vec::new();
    let clock =
        kyc_core::ports::fakes::FakeClock::at(kyc_core::model::Timestamp::from_secs(1_795_000_000));
    run(cli, &clock, &mut std::io::empty(), &mut out)?;
    Ok(String::from_utf8(out)?)
}

fn screen_json(args: &[&str]) -> serde_json::Value {
    let dir = fixtures();
    let dir = dir.to_str().unwrap_or_default();
    let mut all = vec!["sanctions", "screen", "--lists", dir, "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&kyc(&all).unwrap()).unwrap()
}

#[test]
fn the_list_directory_is_recognised_by_content_and_grouped() {
    let d = load_directory(&fixtures()).unwrap();
    let mut kinds: Vec<(ListKind, usize)> = d
        .lists
        .iter()
        .map(|l| (l.list.list, l.list.stats.entities))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            (ListKind::OfacSdn, 5),
            (ListKind::OfacConsolidated, 1),
            (ListKind::UnConsolidated, 3),
            (ListKind::EuFinancial, 2),
            (ListKind::UkSanctions, 2),
            (ListKind::OpenSanctions, 2),
            (ListKind::OpenSanctions, 2),
        ]
    );
    assert!(d.failed.is_empty());
}

#[test]
fn a_listed_person_is_found_with_an_explanation() {
    let v = screen_json(&[
        "--name",
        "Rustam Karimov",
        "--dob",
        "1971-03-14",
        "--nationality",
        "UZ",
    ]);
    let m = &v["matches"][0];
    assert_eq!(m["entityId"], "1001");
    assert_eq!(m["list"], "OFAC-SDN");
    assert_eq!(m["match"], true);
    assert!(v["listVersion"].as_str().unwrap().starts_with("sha256:"));
    insta::assert_json_snapshot!("karimov_explanation", m);
}

#[test]
fn reordered_transliterated_and_misspelt_names_are_found() {
    let v = screen_json(&["--name", "Yousef Abdul Rahman Al Hashimi", "--dob", "1962"]);
    assert_eq!(v["matches"][0]["entityId"], "1003");
    let v = screen_json(&["--name", "عبد القادر نورزی"]);
    assert_eq!(v["matches"][0]["entityId"], "9000001");
    let v = screen_json(&[
        "--name",
        "NURZAI, Abdul Qadeer",
        "--nationality",
        "Afghanistan",
    ]);
    assert_eq!(v["matches"][0]["entityId"], "9000001");
    insta::assert_json_snapshot!("nurzai_explanation", v["matches"][0]["explanation"]);
}

#[test]
fn eu_uk_and_opensanctions_entries_are_screened_too() {
    for (name, list, id) in [
        ("Dmitry Volkov", "EU-FSF", "9501"),
        ("Дмитрий Волков", "EU-FSF", "9501"),
        ("Chidi Emeka Okonkwo", "UK-SL", "15001"),
        ("Hana Example", "OPENSANCTIONS", "NK-test-001"),
        ("Tomasz Przykład", "OPENSANCTIONS", "NK-test-101"),
    ] {
        let v = screen_json(&["--name", name]);
        assert_eq!(v["matches"][0]["list"], list, "{name}");
        assert_eq!(v["matches"][0]["entityId"], id, "{name}");
    }
}

#[test]
fn a_company_suffix_alone_does_not_make_a_match() {
    let v = screen_json(&["--name", "Emma Daniels"]);
    assert_eq!(v["matches"].as_array().map(Vec::len), Some(0));
    let v = screen_json(&["--name", "Emma Daniels", "--all"]);
    let near = v["matches"].as_array().unwrap();
    assert!(near.iter().all(|m| m["match"] == false));
    let v = screen_json(&["--name", "LLC"]);
    assert_eq!(v["matches"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_date_of_birth_far_off_lowers_the_score_below_the_threshold() {
    let near = screen_json(&["--name", "Kim Chol Su", "--dob", "1970-05-12"]);
    assert_eq!(near["matches"][0]["match"], true);
    let far = screen_json(&[
        "--name",
        "Kim Chol Su",
        "--dob",
        "1995-01-01",
        "--nationality",
        "FR",
    ]);
    assert_eq!(far["matches"].as_array().map(Vec::len), Some(0));
}

#[test]
fn text_output_names_the_match_and_the_version() {
    let dir = fixtures();
    let out = kyc(&[
        "sanctions",
        "screen",
        "--name",
        "Maria Garcia Lopez",
        "--lists",
        dir.to_str().unwrap_or_default(),
    ])
    .unwrap();
    assert!(out.contains("OFAC-CONS"), "{out}");
    assert!(out.contains("list version sha256:"), "{out}");
}

#[test]
fn bad_arguments_give_one_line_errors_without_echoing_them() {
    let dir = fixtures();
    let dir = dir.to_str().unwrap_or_default();
    let e = kyc(&[
        "sanctions",
        "screen",
        "--name",
        "X",
        "--dob",
        "SECRET-1",
        "--lists",
        dir,
    ])
    .unwrap_err()
    .to_string();
    assert!(e.contains("--dob") && !e.contains("SECRET"), "{e}");
    let e = kyc(&[
        "sanctions",
        "screen",
        "--name",
        "X",
        "--nationality",
        "Atlantis",
        "--lists",
        dir,
    ])
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("--nationality") && !e.contains("Atlantis"),
        "{e}"
    );
    let e = kyc(&[
        "sanctions",
        "screen",
        "--name",
        "X",
        "--lists",
        "/nonexistent/lists",
    ])
    .unwrap_err()
    .to_string();
    assert!(e.contains("does not exist"), "{e}");
    let empty = std::env::temp_dir().join(format!("kyc-empty-lists-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let e = kyc(&[
        "sanctions",
        "screen",
        "--name",
        "X",
        "--lists",
        empty.to_str().unwrap_or_default(),
    ])
    .unwrap_err()
    .to_string();
    let _ = std::fs::remove_dir(&empty);
    assert!(format!("{e:#}").contains("no sanctions list file"), "{e}");
}
