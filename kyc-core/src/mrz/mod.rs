//! Machine-readable zones of travel documents (ICAO 9303): strict parsing of the five formats
//! (TD1, TD2, TD3, MRV-A, MRV-B), every check digit, century resolution against a reference
//! date, and a tolerant mode for OCR output that repairs what the check digits can prove.
//!
//! # Strict parsing
//! [`parse`] (lines) and [`parse_str`] (text) accept exactly an MRZ and refuse anything else
//! with a precise [`MrzError`] (`WrongLineCount`, `WrongLineLength { line, expected, found }`,
//! `UnknownFormat`, `InvalidCharacter { line, position }`; lines and positions from 1, never the
//! character itself). Failing check digits are not a parse error: the [`MrzRecord`] carries
//! [`Checks`] (one outcome per check digit), [`MrzRecord::is_valid`] is true only when all pass,
//! and [`MrzRecord::validate`] / [`MrzRecord::require_valid`] turn the first failure into
//! [`MrzError::CheckDigitMismatch`].
//!
//! # Check digits
//! Weights 7-3-1, `<` = 0, `A` = 10 … `Z` = 35 ([`check_digit`]). Per format:
//!
//! | format | document number | birth | expiry | optional data | composite over |
//! |---|---|---|---|---|---|
//! | TD1 | yes (long numbers too) | yes | yes | no | line 1 pos 6–30, line 2 pos 1–7, 9–15, 19–29 |
//! | TD2 | yes | yes | yes | no | line 2 pos 1–10, 14–20, 22–35 |
//! | TD3 | yes | yes | yes | yes (personal number) | line 2 pos 1–10, 14–20, 22–43 |
//! | MRV-A, MRV-B | yes | yes | yes | no | none |
//!
//! # Quirks handled
//! - **Germany** writes `D<<` as issuing state and nationality: the record keeps `D`, and
//!   [`MrzRecord::document_fields`] reads it as `DEU` through [`CountryCode::parse`].
//! - **`<` in a check-digit position** counts as 0 (its character value), so it passes exactly
//!   when the computed digit is 0: the ICAO rule for an empty TD3 personal number, and what
//!   some states print for unknown dates. Anywhere else it fails like any wrong digit.
//! - **TD1 long document numbers**: `<` in the number's check position and a non-filler at the
//!   start of the optional data mean the number continues there; its check digit is the last
//!   character before the next `<`, and the optional data is what follows.
//! - **Unknown or incomplete dates** (`<<<<<<`, `83<<<<`, month `00`, letters): the date is
//!   `None` and its check is still *computed over the characters as written*, fillers counting
//!   0. It is therefore recorded as passed when the characters carry a correct check digit (the
//!   zone is intact, the date is simply not known) and as failed otherwise; it is never "not
//!   applicable". A caller that needs the date tests the `Option`, not the check.
//!
//! # Dates
//! Two-digit years are resolved against a reference date passed in (kyc-core reads no clock):
//! a birth date is the latest matching date on or before the reference; an expiry date lies
//! between 49 years before and [`EXPIRY_WINDOW_YEARS`] (50) years after the reference year.
//!
//! # Tolerant mode
//! [`parse_tolerant`] takes raw OCR text, finds the MRZ lines among the others, repairs what
//! is safe and returns **every** reading whose check digits all pass, with the corrections
//! that led to it (field, line and position, never characters) and an `ambiguous` flag when
//! there are several (see [`TolerantParse`]). It never returns a reading that fails a check;
//! when none passes, it gives the best-effort reading with its failing checks marked instead.
//! The steps, in order:
//! 1. **Cleaning.** Whitespace is removed, letters uppercased, `«` `‹` `〈` `＜` read as `<`;
//!    any other character becomes an *unreadable* mark. Unreadable marks at the ends of a line
//!    are dropped, and a short stray prefix or suffix (up to 6 characters) cut off by one is a
//!    variant the length repair may choose.
//! 2. **Finding the zone.** Lines that look like MRZ lines (27–47 characters, at most 4
//!    unreadable, a filler or several digits) are grouped into windows of 3 consecutive such
//!    lines of about 30 characters (TD1) or 2 of about 36 (TD2, MRV-B) or 44 (TD3, MRV-A),
//!    ±3; windows nearest the end of the text are tried first (the zone is at the bottom of a
//!    document), at most 8 of them, and the first that yields a passing reading wins.
//! 3. **Length.** A line up to 3 characters too short or too long gets fillers inserted into
//!    or removed from one of its filler runs, or stray characters dropped at one end. Lines no
//!    check digit covers (the name lines) are only repaired at their end; on checked lines
//!    every filler run is tried and the check digits choose.
//! 4. **Character classes.** Where only digits may stand (dates, check digits) `O Q D`→`0`,
//!    `I L`→`1`, `Z`→`2`, `S`→`5`, `G`→`6`, `B`→`8`; where only letters may stand (codes,
//!    states, names) the reverse. `K`, `X` or `C` in a trailing run of fillers is read as `<`:
//!    in the name after `<<` (never the first letter of the given names), in a country code or
//!    a document number after `<`. Optional data is left to the check digits (its format is
//!    the issuer's).
//! 5. **Check digits.** For every check that fails, the positions of its field (and the digit
//!    itself) are tried with their plausible confusions (digit↔digit such as `8`↔`3`,
//!    letter↔digit in document numbers and optional data, `K X C`→`<`, anything for an
//!    unreadable mark): first one change, then two, keeping every variant that makes the check
//!    pass with the fewest changes. Variants of the failing fields are combined and kept when
//!    the composite passes; if none does, one change in the positions only the composite
//!    covers (optional data, the composite digit) is tried. The search is bounded; the result
//!    says when a bound was hit (`truncated`).
//!
//! Unreadable marks no check digit covers (in names) become `<`. A 7-3-1 check digit cannot
//! see a change by a multiple of 10 in character value (`0`/`A`, `1`/`B`/`L`, `6`/`G`, `<`/`K`
//! …): such a misreading in a document number or optional data passes every check and is
//! returned as read. Inputs above [`MAX_TOLERANT_INPUT`] bytes are refused.
//!
//! # Personal data
//! [`MrzRecord`], [`Candidate`] and [`TolerantParse`] have redacting `Debug` implementations;
//! errors and corrections carry lines, positions and field names only.
//!
//! [`CountryCode::parse`]: crate::model::CountryCode::parse

mod check;
mod dates;
mod error;
mod layout;
mod record;
mod strict;
mod tolerant;

pub use check::{char_value, check_digit};
pub use dates::EXPIRY_WINDOW_YEARS;
pub use error::MrzError;
pub use layout::{CheckField, MrzField, MrzFormat};
pub use record::{Checks, MrzRecord, CONFIDENCE_CHECKED, CONFIDENCE_FAILED, CONFIDENCE_UNCHECKED};
pub use strict::{parse, parse_str};
pub use tolerant::{
    parse_tolerant, parse_tolerant_lines, Candidate, Correction, CorrectionKind, TolerantParse,
    MAX_TOLERANT_INPUT,
};

#[cfg(test)]
pub(crate) mod testgen;

#[cfg(test)]
mod tests {
    use super::testgen::{any_spec, reference, Spec};
    use super::*;
    use crate::model::{Date, Sex};
    use proptest::prelude::*;

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    /// ICAO 9303 specimens are read with the reference date of their issue era.
    fn specimen(lines: &[&str]) -> MrzRecord {
        parse(lines, date("2010-01-01")).unwrap()
    }

    const TD3: [&str; 2] = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    const TD1: [&str; 3] = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    const TD1_LONG_NUMBER: [&str; 3] = [
        "I<UTOD23145890<7349<<<<<<<<<<<",
        "3407127M9507122UTO<<<<<<<<<<<2",
        "STEVENSON<<PETER<JOHN<<<<<<<<<",
    ];
    const TD2: [&str; 2] = [
        "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "D231458907UTO7408122F1204159<<<<<<<6",
    ];
    const MRVA: [&str; 2] = [
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
    ];
    const MRVB: [&str; 2] = [
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "L8988901C4XXX4009078F9612109<<<<<<<<",
    ];

    #[test]
    fn icao_td3_specimen_is_read_field_by_field() {
        let r = specimen(&TD3);
        assert_eq!(r.format(), MrzFormat::Td3);
        assert_eq!(r.document_code(), "P");
        assert_eq!(r.issuing_state(), "UTO");
        assert_eq!(r.surname(), "ERIKSSON");
        assert_eq!(r.given_names(), "ANNA MARIA");
        assert_eq!(r.document_number(), "L898902C3");
        assert_eq!(r.nationality(), "UTO");
        assert_eq!(r.birth_date(), Some(date("1974-08-12")));
        assert_eq!(r.sex(), Some(Sex::Female));
        assert_eq!(r.expiry_date(), Some(date("2012-04-15")));
        assert_eq!(r.optional_data(), "ZE184226B");
        assert_eq!(r.optional_data_2(), None);
        assert_eq!(
            *r.checks(),
            Checks {
                document_number: true,
                birth_date: true,
                expiry_date: true,
                optional_data: Some(true),
                composite: Some(true),
            }
        );
        assert!(r.is_valid());
    }

    #[test]
    fn icao_td1_specimen_is_read_field_by_field() {
        let r = specimen(&TD1);
        assert_eq!(r.format(), MrzFormat::Td1);
        assert_eq!((r.document_code(), r.issuing_state()), ("I", "UTO"));
        assert_eq!(r.document_number(), "D23145890");
        assert_eq!((r.surname(), r.given_names()), ("ERIKSSON", "ANNA MARIA"));
        assert_eq!(r.birth_date(), Some(date("1974-08-12")));
        assert_eq!(r.expiry_date(), Some(date("2012-04-15")));
        assert_eq!((r.optional_data(), r.optional_data_2()), ("", Some("")));
        assert_eq!(r.checks().optional_data, None);
        assert_eq!(r.checks().composite, Some(true));
        assert!(r.is_valid());
    }

    #[test]
    fn td1_long_document_number_continues_into_the_optional_data() {
        let r = specimen(&TD1_LONG_NUMBER);
        assert_eq!(r.document_number(), "D23145890734");
        assert_eq!(r.optional_data(), "");
        assert_eq!((r.surname(), r.given_names()), ("STEVENSON", "PETER JOHN"));
        assert_eq!(r.birth_date(), Some(date("1934-07-12")));
        assert!(r.is_valid(), "{:?}", r.checks());
        // The overflow's own check digit is verified: change it and only that check fails
        // (plus the composite, which covers the whole line).
        let broken = TD1_LONG_NUMBER[0].replacen("7349", "7348", 1);
        let r = specimen(&[&broken, TD1_LONG_NUMBER[1], TD1_LONG_NUMBER[2]]);
        assert!(!r.checks().document_number);
        assert!(r.checks().birth_date && r.checks().expiry_date);
        assert_eq!(r.checks().composite, Some(false));
    }

    #[test]
    fn long_number_with_optional_data_after_it_keeps_both() {
        let l1 = "I<UTOD23145890<7349<AB12<<<<<<";
        let mut l2 = "3407127M9507122UTO<<<<<<<<<<<".to_string();
        let composite = format!("{}{}{}{}", &l1[5..30], &l2[0..7], &l2[8..15], &l2[18..29]);
        l2.push_str(&check_digit(&composite).unwrap().to_string());
        let r = specimen(&[l1, &l2, TD1_LONG_NUMBER[2]]);
        assert_eq!(r.document_number(), "D23145890734");
        assert_eq!(r.optional_data(), "AB12");
        assert!(r.is_valid());
    }

    #[test]
    fn icao_td2_specimen_is_read_field_by_field() {
        let r = specimen(&TD2);
        assert_eq!(r.format(), MrzFormat::Td2);
        assert_eq!(r.document_number(), "D23145890");
        assert_eq!((r.surname(), r.given_names()), ("ERIKSSON", "ANNA MARIA"));
        assert_eq!(r.birth_date(), Some(date("1974-08-12")));
        assert_eq!(r.expiry_date(), Some(date("2012-04-15")));
        assert_eq!(r.optional_data(), "");
        assert!(r.is_valid());
    }

    #[test]
    fn icao_visa_specimens_have_no_composite() {
        for lines in [&MRVA[..], &MRVB[..]] {
            let r = specimen(lines);
            assert!(r.format().is_visa());
            assert_eq!(r.document_code(), "V");
            assert_eq!(r.document_number(), "L8988901C");
            assert_eq!(r.nationality(), "XXX");
            assert_eq!(r.birth_date(), Some(date("1940-09-07")));
            assert_eq!(r.expiry_date(), Some(date("1996-12-10")));
            assert_eq!(r.checks().composite, None);
            assert_eq!(r.checks().optional_data, None);
            assert!(r.is_valid());
        }
        assert_eq!(specimen(&MRVA).format(), MrzFormat::MrvA);
        assert_eq!(specimen(&MRVA).optional_data(), "6ZE184226B");
        assert_eq!(specimen(&MRVB).format(), MrzFormat::MrvB);
    }

    #[test]
    fn failing_check_is_reported_by_validate_not_by_parse() {
        let bad = TD3[1].replacen("7408122", "7408123", 1);
        let r = specimen(&[TD3[0], &bad]);
        assert!(!r.is_valid());
        assert!(!r.checks().birth_date);
        assert_eq!(r.checks().composite, Some(false));
        assert_eq!(
            r.validate(),
            Err(MrzError::CheckDigitMismatch {
                field: CheckField::BirthDate
            })
        );
        assert_eq!(
            r.clone().require_valid().unwrap_err().to_string(),
            "the birth date check digit does not match"
        );
    }

    #[test]
    fn germany_writes_d_with_fillers_for_state_and_nationality() {
        let spec = Spec {
            state: "D".into(),
            nationality: "D".into(),
            ..sample_spec()
        };
        let lines = spec.lines();
        assert!(lines[0].starts_with("P<D<<"));
        let r = parse(&lines, reference()).unwrap();
        assert_eq!((r.issuing_state(), r.nationality()), ("D", "D"));
        let f = r.document_fields();
        assert_eq!(f.issuing_state.unwrap().value.alpha3(), "DEU");
        assert_eq!(f.nationality.unwrap().value.alpha3(), "DEU");
    }

    #[test]
    fn filler_as_personal_number_check_digit_is_accepted_only_when_empty() {
        let spec = Spec {
            optional: String::new(),
            filler_check: true,
            ..sample_spec()
        };
        let lines = spec.lines();
        assert_eq!(&lines[1][42..43], "<");
        let r = parse(&lines, reference()).unwrap();
        assert_eq!(r.checks().optional_data, Some(true));
        assert!(r.is_valid());
        // `<` for a non-empty personal number whose digit is not 0 fails.
        let mut l2 = TD3[1].as_bytes().to_vec();
        l2[42] = b'<';
        let r = specimen(&[TD3[0], std::str::from_utf8(&l2).unwrap()]);
        assert_eq!(r.checks().optional_data, Some(false));
    }

    #[test]
    fn unknown_dates_are_none_and_their_check_covers_the_characters() {
        // Birth date entirely unknown: `<<<<<<` with check digit `<` (both value 0).
        let mut l2 = TD3[1].to_string();
        l2.replace_range(13..20, "<<<<<<<");
        let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
        l2.replace_range(43..44, &check_digit(&composite).unwrap().to_string());
        let r = specimen(&[TD3[0], &l2]);
        assert_eq!(r.birth_date(), None);
        assert!(r.checks().birth_date);
        assert!(r.is_valid());
        // Day and month unknown, with a digit that does not match the characters: None, failed.
        l2.replace_range(13..20, "74<<<<3");
        let r = specimen(&[TD3[0], &l2]);
        assert_eq!(r.birth_date(), None);
        assert!(!r.checks().birth_date);
        // Month 00 with a correct check digit: None, passed.
        let raw = "740012";
        l2.replace_range(13..20, &format!("{raw}{}", check_digit(raw).unwrap()));
        let r = specimen(&[TD3[0], &l2]);
        assert_eq!(r.birth_date(), None);
        assert!(r.checks().birth_date);
    }

    #[test]
    fn fillers_inside_names_become_spaces() {
        let spec = Spec {
            surname: vec!["VAN".into(), "DER".into(), "BERG".into()],
            given: vec!["JAN".into(), "PIETER".into()],
            ..sample_spec()
        };
        let r = parse(&spec.lines(), reference()).unwrap();
        assert_eq!(r.surname(), "VAN DER BERG");
        assert_eq!(r.given_names(), "JAN PIETER");
    }

    #[test]
    fn sex_filler_and_x_are_unspecified_and_others_unknown() {
        let mut l2 = TD3[1].to_string();
        for (c, expected) in [
            ("<", Some(Sex::Unspecified)),
            ("X", Some(Sex::Unspecified)),
            ("M", Some(Sex::Male)),
            ("Q", None),
        ] {
            l2.replace_range(20..21, c);
            assert_eq!(specimen(&[TD3[0], &l2]).sex(), expected);
        }
    }

    #[test]
    fn debug_output_never_shows_fields_or_lines() {
        let r = specimen(&TD3);
        let dbg = format!("{r:?} {:?}", r.document_fields());
        for secret in [
            "ERIKSSON",
            "ANNA",
            "L898902C3",
            "740812",
            "1974",
            "ZE184226B",
        ] {
            assert!(!dbg.contains(secret), "{secret} leaked into {dbg}");
        }
        assert!(dbg.contains("Td3"));
    }

    #[test]
    fn document_fields_carry_mrz_source_and_check_based_confidence() {
        use crate::document::FieldSource;
        let f = specimen(&TD3).document_fields();
        let surname = f.surname.unwrap();
        assert_eq!(surname.value.as_str(), "ERIKSSON");
        assert_eq!(surname.source, FieldSource::Mrz);
        assert_eq!(surname.confidence, CONFIDENCE_UNCHECKED);
        assert_eq!(f.given_names.unwrap().value.as_str(), "ANNA MARIA");
        let number = f.document_number.unwrap();
        assert_eq!(number.value.as_str(), "L898902C3");
        assert_eq!(number.confidence, CONFIDENCE_CHECKED);
        assert_eq!(f.birth_date.unwrap().value.date(), date("1974-08-12"));
        assert_eq!(f.expiry_date.unwrap().value.date(), date("2012-04-15"));
        assert_eq!(f.sex.unwrap().value, Sex::Female);
        assert_eq!(f.nationality.unwrap().value.alpha3(), "UTO");

        let bad = TD3[1].replacen("L898902C36", "L898902C37", 1);
        let f = specimen(&[TD3[0], &bad]).document_fields();
        assert_eq!(f.document_number.unwrap().confidence, CONFIDENCE_FAILED);
        assert_eq!(f.birth_date.unwrap().confidence, CONFIDENCE_CHECKED);

        let long = specimen(&TD1_LONG_NUMBER).document_fields();
        let number = long.document_number.unwrap();
        assert_eq!(number.value.as_str(), "D23145890734");
        assert_eq!(number.original, "D23145890734");
        // No given names: no field rather than an empty name.
        let spec = Spec {
            given: Vec::new(),
            ..sample_spec()
        };
        let f = parse(&spec.lines(), reference()).unwrap().document_fields();
        assert!(f.given_names.is_none() && f.surname.is_some());
    }

    #[test]
    fn json_shape_matches_the_product_contract() {
        insta::assert_json_snapshot!("td3_specimen", specimen(&TD3));
        insta::assert_json_snapshot!("td1_specimen", specimen(&TD1));
        let bad = TD2[1].replacen("7408122", "7408127", 1);
        insta::assert_json_snapshot!("td2_failing_birth_check", specimen(&[TD2[0], &bad]));
        insta::assert_json_snapshot!("mrvb_specimen", specimen(&MRVB));
    }

    /// The vectors generated by `tests/data/mrz/generate_vectors.py` with the independent
    /// PyPI `mrz` package: valid MRZs of every format, wrong check digits, changed data,
    /// wrong lengths, missing lines and invalid characters.
    #[test]
    fn independent_vectors_are_read_as_the_other_implementation_reads_them() {
        use serde_json::{json, Value};
        const VECTORS: &str = include_str!("../../tests/data/mrz/vectors.jsonl");
        let error_json = |e: MrzError| match e {
            MrzError::WrongLineLength {
                line,
                expected,
                found,
            } => {
                json!({"kind": "WrongLineLength", "line": line, "expected": expected, "found": found})
            }
            MrzError::WrongLineCount { found } => json!({"kind": "WrongLineCount", "found": found}),
            MrzError::InvalidCharacter { line, position } => {
                json!({"kind": "InvalidCharacter", "line": line, "position": position})
            }
            other => json!({"kind": other.to_string()}),
        };
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for row in VECTORS.lines() {
            let v: Value = serde_json::from_str(row).unwrap();
            let id = v["id"].as_str().unwrap();
            let reference = date(v["reference"].as_str().unwrap());
            let lines: Vec<&str> = v["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect();
            let expect = &v["expect"];
            match parse(&lines, reference) {
                Ok(r) => {
                    let got = serde_json::to_value(&r).unwrap();
                    if expect.get("fields").is_some() {
                        assert_eq!(&got, expect, "{id}");
                    } else {
                        for key in ["valid", "format", "checks"] {
                            assert_eq!(got[key], expect[key], "{id}: {key}");
                        }
                    }
                    assert_eq!(r.is_valid(), r.validate().is_ok(), "{id}");
                }
                Err(e) => assert_eq!(error_json(e), expect["error"], "{id}"),
            }
            let kind = if expect.get("error").is_some() {
                "error".to_string()
            } else {
                format!("{}-{}", v["format"].as_str().unwrap(), expect["valid"])
            };
            *counts.entry(kind).or_default() += 1;
        }
        // Every format, valid and invalid, and refused inputs are represented.
        for format in MrzFormat::ALL {
            assert!(counts.get(&format!("{format}-true")).copied().unwrap_or(0) >= 20);
            assert!(counts.get(&format!("{format}-false")).copied().unwrap_or(0) >= 4);
        }
        assert!(
            counts.get("error").copied().unwrap_or(0) >= 50,
            "{counts:?}"
        );
    }

    fn sample_spec() -> Spec {
        Spec {
            format: MrzFormat::Td3,
            code: "P".into(),
            state: "UTO".into(),
            surname: vec!["ERIKSSON".into()],
            given: vec!["ANNA".into(), "MARIA".into()],
            number: "L898902C3".into(),
            nationality: "UTO".into(),
            birth: date("1974-08-12"),
            sex: Sex::Female,
            expiry: date("2027-04-15"),
            optional: "ZE184226B".into(),
            optional2: String::new(),
            filler_check: false,
        }
    }

    /// The positions a check covers (data and digit) in a valid record, by the record's layout.
    fn checked_positions(r: &MrzRecord) -> Vec<(usize, CheckField)> {
        let layout = r.format().layout();
        let n = record::number_parts(layout, r.lines().collect::<String>().as_bytes());
        let mut out: Vec<(usize, CheckField)> = n
            .main
            .range()
            .chain(n.overflow)
            .chain([n.check])
            .map(|p| (p, CheckField::DocumentNumber))
            .collect();
        out.extend(
            layout
                .birth_date
                .range()
                .chain([layout.birth_date_check])
                .map(|p| (p, CheckField::BirthDate)),
        );
        out.extend(
            layout
                .expiry_date
                .range()
                .chain([layout.expiry_date_check])
                .map(|p| (p, CheckField::ExpiryDate)),
        );
        if let Some(c) = layout.optional_data_check {
            out.extend(
                layout
                    .optional_data
                    .range()
                    .chain([c])
                    .map(|p| (p, CheckField::OptionalData)),
            );
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn generated_mrzs_parse_back_to_their_fields(spec in any_spec()) {
            let lines = spec.lines();
            let r = parse(&lines, reference()).unwrap();
            prop_assert_eq!(r.format(), spec.format);
            prop_assert!(r.is_valid(), "{:?}", r.checks());
            prop_assert_eq!(r.document_code(), spec.code_trimmed());
            prop_assert_eq!(r.issuing_state(), &spec.state);
            prop_assert_eq!(r.surname(), spec.surname.join(" "));
            prop_assert_eq!(r.given_names(), spec.given.join(" "));
            prop_assert_eq!(r.document_number(), &spec.number);
            prop_assert_eq!(r.nationality(), &spec.nationality);
            prop_assert_eq!(r.birth_date(), Some(spec.birth));
            prop_assert_eq!(r.sex(), Some(spec.sex));
            prop_assert_eq!(r.expiry_date(), Some(spec.expiry));
            prop_assert_eq!(r.optional_data(), &spec.optional);
            let expected2 = (spec.format == MrzFormat::Td1).then(|| spec.optional2.clone());
            prop_assert_eq!(r.optional_data_2().map(str::to_string), expected2);
            prop_assert_eq!(r.lines().collect::<Vec<_>>(), lines.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert_eq!(parse_str(&lines.join("\n"), reference()).unwrap(), r);
        }

        /// Any change in a checked field that a 7-3-1 digit can see (value difference not a
        /// multiple of 10) makes that field's check fail, and the composite too where there
        /// is one.
        #[test]
        fn changing_one_checked_character_is_detected(
            spec in any_spec(),
            pick in any::<prop::sample::Index>(),
            choice in any::<prop::sample::Index>(),
        ) {
            let lines = spec.lines();
            let r = parse(&lines, reference()).unwrap();
            let mut raw = lines.concat().into_bytes();
            // Replacements a 7-3-1 digit can see; the `<` that marks a TD1 long number changes
            // the structure, not a value, so it is left alone.
            let replacements = |old: u8| -> Vec<u8> {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
                    .iter()
                    .copied()
                    .filter(|&new| {
                        let (a, b) = (char_value(old).unwrap(), char_value(new).unwrap());
                        !a.abs_diff(b).is_multiple_of(10)
                            && !(spec.format == MrzFormat::Td1 && (old == b'<' || new == b'<'))
                    })
                    .collect()
            };
            let positions: Vec<(usize, CheckField)> = checked_positions(&r)
                .into_iter()
                .filter(|&(p, _)| !replacements(raw[p]).is_empty())
                .collect();
            let (pos, field) = positions[pick.index(positions.len())];
            let options = replacements(raw[pos]);
            let new = options[choice.index(options.len())];
            raw[pos] = new;
            let len = spec.format.line_length();
            let changed: Vec<String> = raw.chunks(len).map(|l| String::from_utf8(l.to_vec()).unwrap()).collect();
            let r = parse(&changed, reference()).unwrap();
            prop_assert_eq!(r.checks().get(field), Some(false));
            prop_assert!(r.checks().composite != Some(true));
            prop_assert!(!r.is_valid());
            prop_assert!(r.validate().is_err());
        }
    }
}
