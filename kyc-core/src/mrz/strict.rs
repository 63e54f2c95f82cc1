//! Strict parsing: lines that are exactly an MRZ (surrounding whitespace aside), refused with a
//! precise [`MrzError`] otherwise. Designed for speed: one pass over the bytes with a lookup
//! table, no regular expressions, one allocation for the lines and one per text field.

use super::check::is_mrz_char;
use super::{MrzError, MrzFormat, MrzRecord};
use crate::model::Date;

/// Parses MRZ lines strictly.
///
/// Each line may have whitespace around it (it is trimmed) but nothing else: exactly 2 lines
/// of 36 or 44 characters or 3 lines of 30, only `A-Z 0-9 <`. The format is decided by the
/// shape and, for two-line zones, by the document code (`V` = visa). Two-digit years are
/// resolved against `reference` (normally today; see the module docs, "Dates").
///
/// Failing check digits are **not** an error: they are recorded in [`MrzRecord::checks`] and
/// make [`MrzRecord::is_valid`] false; use [`MrzRecord::require_valid`] to refuse them.
///
/// ```
/// use kyc_core::model::Date;
/// use kyc_core::mrz::{self, MrzError};
/// let today = Date::parse("2010-01-01").unwrap();
/// let td1 = [
///     "I<UTOD231458907<<<<<<<<<<<<<<<",
///     "7408122F1204159UTO<<<<<<<<<<<6",
///     "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
/// ];
/// let r = mrz::parse(&td1, today).unwrap().require_valid().unwrap();
/// assert_eq!(r.document_number(), "D23145890");
/// assert_eq!(
///     mrz::parse(&td1[..2], today).unwrap_err(),
///     MrzError::WrongLineCount { found: 2 }
/// );
/// ```
pub fn parse<S: AsRef<str>>(lines: &[S], reference: Date) -> Result<MrzRecord, MrzError> {
    let count = lines.len();
    let first = lines.first().map(|l| l.as_ref().trim()).unwrap_or("");
    if first.is_empty() && lines.iter().all(|l| l.as_ref().trim().is_empty()) {
        return Err(MrzError::Empty);
    }
    let expected = match count {
        3 => 30,
        2 => {
            let second = lines.get(1).map(|l| l.as_ref().trim()).unwrap_or("");
            match (char_len(first), char_len(second)) {
                (l @ (36 | 44), _) | (_, l @ (36 | 44)) => l,
                (30, 30) => return Err(MrzError::WrongLineCount { found: 2 }),
                _ => return Err(MrzError::UnknownFormat),
            }
        }
        found => return Err(MrzError::WrongLineCount { found }),
    };
    let mut raw = String::with_capacity(expected * count);
    for (i, line) in lines.iter().enumerate() {
        let line = line.as_ref().trim();
        let found = char_len(line);
        if found != expected {
            return Err(MrzError::WrongLineLength {
                line: i + 1,
                expected,
                found,
            });
        }
        if let Some(position) = line
            .chars()
            .position(|c| !c.is_ascii() || !is_mrz_char(c as u8))
        {
            return Err(MrzError::InvalidCharacter {
                line: i + 1,
                position: position + 1,
            });
        }
        raw.push_str(line);
    }
    let code = raw.as_bytes().first().copied().unwrap_or(b'<');
    let format = MrzFormat::detect(count, expected, code).ok_or(MrzError::UnknownFormat)?;
    Ok(MrzRecord::from_validated(format, raw, reference))
}

/// Parses a text holding the MRZ lines separated by line breaks (blank lines ignored), strictly
/// as [`parse`] does.
///
/// ```
/// use kyc_core::model::Date;
/// let text = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
///             L898902C36UTO7408122F1204159ZE184226B<<<<<10\n";
/// let r = kyc_core::mrz::parse_str(text, Date::parse("2010-01-01").unwrap()).unwrap();
/// assert!(r.is_valid());
/// ```
pub fn parse_str(text: &str, reference: Date) -> Result<MrzRecord, MrzError> {
    let mut lines = [""; 3];
    let mut count = 0usize;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(slot) = lines.get_mut(count) {
            *slot = line;
        }
        count += 1;
    }
    match count {
        0 => Err(MrzError::Empty),
        2 | 3 => parse(lines.get(..count).unwrap_or(&[]), reference),
        found => Err(MrzError::WrongLineCount { found }),
    }
}

/// The length of `s` in characters (bytes when it is ASCII, the common case).
fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> Date {
        Date::parse("2024-06-01").unwrap()
    }

    const TD3: [&str; 2] = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ];

    #[test]
    fn malformed_shapes_get_precise_errors() {
        let e = |lines: &[&str]| parse(lines, today()).unwrap_err();
        assert_eq!(e(&[]), MrzError::Empty);
        assert_eq!(e(&["", "  "]), MrzError::Empty);
        assert_eq!(e(&[TD3[0]]), MrzError::WrongLineCount { found: 1 });
        assert_eq!(
            e(&[TD3[0], TD3[1], TD3[1], TD3[1]]),
            MrzError::WrongLineCount { found: 4 }
        );
        assert_eq!(
            e(&[TD3[0], &TD3[1][..43]]),
            MrzError::WrongLineLength {
                line: 2,
                expected: 44,
                found: 43
            }
        );
        assert_eq!(
            e(&[&TD3[0][..40], TD3[1]]),
            MrzError::WrongLineLength {
                line: 1,
                expected: 44,
                found: 40
            }
        );
        assert_eq!(e(&["ABC", "DEF"]), MrzError::UnknownFormat);
        assert_eq!(
            e(&[TD3[0], TD3[1], TD3[1]]),
            MrzError::WrongLineLength {
                line: 1,
                expected: 30,
                found: 44
            }
        );
    }

    #[test]
    fn invalid_characters_are_located_without_being_echoed() {
        let lower = TD3[1].replacen('L', "l", 1);
        let err = parse(&[TD3[0], lower.as_str()], today()).unwrap_err();
        assert_eq!(
            err,
            MrzError::InvalidCharacter {
                line: 2,
                position: 1
            }
        );
        assert_eq!(
            err.to_string(),
            "mrz line 2 has a character that is not allowed at position 1"
        );
        let accented = TD3[0].replacen("ERIKSSON", "ÉRIKSSON", 1);
        assert_eq!(
            parse(&[accented.as_str(), TD3[1]], today()).unwrap_err(),
            MrzError::InvalidCharacter {
                line: 1,
                position: 6
            }
        );
        let spaced = TD3[0].replacen("<<ANNA", "< ANNA", 1);
        assert_eq!(
            parse(&[spaced.as_str(), TD3[1]], today()).unwrap_err(),
            MrzError::InvalidCharacter {
                line: 1,
                position: 15
            }
        );
    }

    #[test]
    fn surrounding_whitespace_and_blank_lines_are_ignored_by_parse_str() {
        let text = format!("\r\n  {}  \r\n\n{}\r\n\n", TD3[0], TD3[1]);
        assert!(parse_str(&text, today()).unwrap().is_valid());
        assert_eq!(parse_str(" \n\n", today()).unwrap_err(), MrzError::Empty);
        assert_eq!(
            parse_str("A\nB\nC\nD\nE", today()).unwrap_err(),
            MrzError::WrongLineCount { found: 5 }
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_lines(lines in prop::collection::vec("\\PC{0,50}", 0..5)) {
            let _ = parse(&lines, today());
        }

        #[test]
        fn parse_never_panics_on_mrz_shaped_noise(
            lines in prop::sample::select(vec![(3usize, 30usize), (2, 36), (2, 44)])
                .prop_flat_map(|(n, len)| prop::collection::vec(
                    prop::collection::vec(prop::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<<<<<<<<".to_vec()), len),
                    n,
                ))
        ) {
            let lines: Vec<String> = lines.into_iter().map(|l| String::from_utf8(l).unwrap()).collect();
            let r = parse(&lines, today()).unwrap();
            prop_assert_eq!(r.lines().collect::<Vec<_>>(), lines.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert_eq!(r.is_valid(), r.validate().is_ok());
        }

        #[test]
        fn parse_str_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_str(&text, today());
        }
    }
}
