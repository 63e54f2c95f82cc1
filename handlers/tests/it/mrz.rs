//! `kyc mrz parse`: JSON and text output (insta snapshots), exit outcomes, errors, and the
//! built binary's exit statuses and stderr.

use std::io::Write;
use std::process::{Command, Stdio};

use clap::Parser;
use handlers::cli::{run, Cli, Outcome};
use kyc_core::model::{Date, Timestamp};
use kyc_core::ports::fakes::FakeClock;

const TD3: [&str; 2] = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
];
const TD1: [&str; 3] = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
];
const MRVA: [&str; 2] = [
    "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
];

/// Runs `kyc <args>` with `stdin` on 2010-01-01 (the ICAO specimens' era); returns the outcome
/// (or the one-line error) and stdout.
fn kyc(args: &[&str], stdin: &str) -> (Result<Outcome, String>, String) {
    let cli = Cli::try_parse_from(std::iter::once("kyc").chain(args.iter().copied())).unwrap();
    let day = Date::from_ymd(2010, 1, 1).unwrap().days_since_epoch();
    let clock = FakeClock::at(Timestamp::from_secs(day * 86_400 + 12 * 3600));
    let mut out = Vec::new();
    let result = run(cli, &clock, &mut stdin.as_bytes(), &mut out).map_err(|e| format!("{e:#}"));
    (result, String::from_utf8(out).unwrap())
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap()
}

/// Snapshots stdout as printed (field order included) after checking it is one JSON document.
macro_rules! assert_json_output {
    ($name:expr, $out:expr) => {{
        let _: serde_json::Value = json(&$out);
        insta::assert_snapshot!($name, $out);
    }};
}

#[test]
fn td3_from_arguments_prints_the_product_json() {
    let (result, out) = kyc(&["mrz", "parse", "--json", TD3[0], TD3[1]], "");
    assert_eq!(result, Ok(Outcome::Success));
    assert_json_output!("td3_args", out);
}

#[test]
fn td1_from_stdin_is_read_line_by_line() {
    let stdin = format!("{}\r\n{}\n\n{}\n", TD1[0], TD1[1], TD1[2]);
    let (result, out) = kyc(&["mrz", "parse", "--json"], &stdin);
    assert_eq!(result, Ok(Outcome::Success));
    assert_json_output!("td1_stdin", out);
}

#[test]
fn one_argument_may_hold_every_line() {
    let (result, out) = kyc(&["mrz", "parse", "--json", &MRVA.join("\n")], "");
    assert_eq!(result, Ok(Outcome::Success));
    let v = json(&out);
    assert_eq!(v["format"], "MRVA");
    assert!(v["checks"].get("composite").is_none());
}

#[test]
fn failing_check_digits_print_valid_false_with_a_negative_outcome() {
    let bad = TD3[1].replacen("L898902C36", "L898902C35", 1);
    let (result, out) = kyc(&["mrz", "parse", "--json", TD3[0], &bad], "");
    assert_eq!(result, Ok(Outcome::Negative));
    assert_json_output!("td3_failing_document_number", out);
}

#[test]
fn text_output_is_short_and_names_failing_checks() {
    let (result, out) = kyc(&["mrz", "parse", TD3[0], TD3[1]], "");
    assert_eq!(result, Ok(Outcome::Success));
    insta::assert_snapshot!("td3_text", out);
    let bad = TD1[1].replacen("7408122", "7408123", 1);
    let (result, out) = kyc(&["mrz", "parse", TD1[0], &bad, TD1[2]], "");
    assert_eq!(result, Ok(Outcome::Negative));
    insta::assert_snapshot!("td1_text_failing", out);
}

#[test]
fn malformed_input_is_an_error_naming_lines_not_content() {
    let short = &TD3[1][..43];
    let cases: [(&[&str], &str, &str); 5] = [
        (&["mrz", "parse"], "", "invalid mrz: no mrz lines were given"),
        (
            &["mrz", "parse", TD3[0], short],
            "",
            "invalid mrz: mrz line 2 has 43 characters, expected 44",
        ),
        (
            &["mrz", "parse", TD3[0]],
            "",
            "invalid mrz: an mrz has 2 lines (TD2, TD3, visas) or 3 lines (TD1), found 1",
        ),
        (
            &["mrz", "parse", "hello", "world"],
            "",
            "invalid mrz: the lines match no mrz format (3x30, 2x36 or 2x44 characters)",
        ),
        (
            &["mrz", "parse"],
            "p<utoeriksson<<anna<maria<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
            "invalid mrz: mrz line 1 has a character that is not allowed at position 1",
        ),
    ];
    for (args, stdin, message) in cases {
        let (result, out) = kyc(args, stdin);
        assert_eq!(result, Err(message.to_string()));
        assert!(out.is_empty());
    }
}

#[test]
fn parsed_arguments_do_not_show_the_lines_in_debug_output() {
    let cli = Cli::try_parse_from(["kyc", "mrz", "parse", TD3[0], TD3[1]]).unwrap();
    let dbg = format!("{cli:?}");
    assert!(dbg.contains("<2 redacted>"), "{dbg}");
    assert!(
        !dbg.contains("ERIKSSON") && !dbg.contains("L898902C3"),
        "{dbg}"
    );
}

#[test]
fn oversized_or_binary_stdin_is_refused() {
    let (result, _) = kyc(&["mrz", "parse"], &"<".repeat(70_000));
    assert_eq!(result, Err("the input is larger than 64 KiB".to_string()));
    let cli = Cli::try_parse_from(["kyc", "mrz", "parse"]).unwrap();
    let clock = FakeClock::at(Timestamp::from_secs(0));
    let err = run(
        cli,
        &clock,
        &mut [0xff, 0xfe, b'\n'].as_slice(),
        &mut Vec::new(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "the input is not UTF-8 text");
}

/// The built binary: exit statuses 0, 1 and 2, and errors as one line on stderr without any
/// of the input.
#[test]
fn binary_exit_statuses_and_stderr() {
    let exec = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kyc"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };

    let (code, out, err) = exec(&["mrz", "parse", "--json"], &TD3.join("\n"));
    assert_eq!((code, err.as_str()), (Some(0), ""));
    assert_eq!(json(&out)["valid"], true);

    let bad = TD3[1].replacen("7408122", "7408121", 1);
    let (code, out, err) = exec(&["mrz", "parse", "--json", TD3[0], &bad], "");
    assert_eq!((code, err.as_str()), (Some(1), ""));
    assert_eq!(json(&out)["checks"]["birthDate"], false);

    let truncated = format!("{}\n{}", TD3[0], &TD3[1][..40]);
    let (code, out, err) = exec(&["mrz", "parse"], &truncated);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: invalid mrz: mrz line 2 has 40 characters"));
    for secret in ["ERIKSSON", "ANNA", "L898902C3", "740812", "UTO"] {
        assert!(!err.contains(secret), "{secret} in {err}");
    }

    let (code, _, err) = exec(&["mrz", "parse"], "");
    assert_eq!(
        (code, err.as_str()),
        (Some(2), "error: invalid mrz: no mrz lines were given\n")
    );

    let (code, help, _) = exec(&["mrz", "parse", "--help"], "");
    assert_eq!(code, Some(0));
    assert!(help.contains("Exit status:") && help.contains("a check digit fails"));
}
