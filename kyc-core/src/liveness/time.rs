//! RFC 3339 timestamps for the liveness JSON (`expiresAt`, `capturedAt`, …): a parser for
//! untrusted input and the serde helper used by the liveness types.
//!
//! The parser would sit naturally on [`Timestamp`] itself; it lives here until the model grows
//! one, and is public so the HTTP layer can parse the client's `capturedAt` the same way.

use crate::model::{Date, Timestamp, ValueError};

/// The longest accepted timestamp text.
const MAX_LEN: usize = 40;

/// Parses an RFC 3339 date-time (`2026-11-21T05:24:08.123Z`, `2026-11-21T06:24:08+01:00`):
/// `T`/`t` or a space between date and time, seconds 00–59, an optional fraction of 1–9 digits
/// (kept to the millisecond, rounded down) and `Z`/`z` or a `±HH:MM` offset.
///
/// ```
/// use kyc_core::liveness::parse_rfc3339;
/// use kyc_core::model::Timestamp;
/// let t = parse_rfc3339("2026-05-21T07:24:08.123+02:00").unwrap();
/// assert_eq!(t, Timestamp::from_millis(1_779_341_048_123));
/// assert_eq!(parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
/// assert!(parse_rfc3339("2026-05-21 25:00:00Z").is_err());
/// ```
pub fn parse_rfc3339(s: &str) -> Result<Timestamp, ValueError> {
    const WHAT: &str = "timestamp";
    let malformed = ValueError::Malformed {
        what: WHAT,
        expected: "RFC 3339, e.g. 2026-11-21T05:24:08.000Z",
    };
    let out_of_range = ValueError::OutOfRange { what: WHAT };
    if s.len() > MAX_LEN {
        return Err(ValueError::TooLong {
            what: WHAT,
            max: MAX_LEN,
        });
    }
    let b = s.as_bytes();
    let date = s
        .get(..10)
        .ok_or(malformed.clone())
        .and_then(|d| Date::parse(d).map_err(|_| malformed.clone()))?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return Err(malformed);
    }
    let (hour, minute, second) = match (
        digits(b, 11, 2),
        b.get(13),
        digits(b, 14, 2),
        b.get(16),
        digits(b, 17, 2),
    ) {
        (Some(h), Some(b':'), Some(m), Some(b':'), Some(sec)) => (h, m, sec),
        _ => return Err(malformed),
    };
    if hour > 23 || minute > 59 || second > 59 {
        return Err(out_of_range);
    }
    let mut i = 19;
    let mut millis: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(c - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 9 {
            return Err(malformed);
        }
        for _ in n..3 {
            millis *= 10;
        }
    }
    let offset_minutes: i64 = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() => {
            let (oh, om) = match (digits(b, i + 1, 2), b.get(i + 3), digits(b, i + 4, 2)) {
                (Some(oh), Some(b':'), Some(om)) => (oh, om),
                _ => return Err(malformed),
            };
            if oh > 23 || om > 59 {
                return Err(out_of_range);
            }
            let m = i64::from(oh * 60 + om);
            if *sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return Err(malformed),
    };
    let seconds_of_day = i64::from(hour * 3600 + minute * 60 + second);
    let ms = date.days_since_epoch() * 86_400_000 + seconds_of_day * 1000 + millis
        - offset_minutes * 60_000;
    Ok(Timestamp::from_millis(ms))
}

/// `n` ASCII digits at `at`, as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let slice = b.get(at..at.checked_add(n)?)?;
    slice.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Serde helper: a [`Timestamp`] as an RFC 3339 string (`#[serde(with = "rfc3339")]`).
pub(crate) mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::model::Timestamp;

    pub(crate) fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fractions_and_offsets_are_understood() {
        let base = parse_rfc3339("2026-11-21T05:24:08Z").unwrap();
        assert_eq!(
            parse_rfc3339("2026-11-21T05:24:08.5Z").unwrap(),
            base.plus_millis(500)
        );
        assert_eq!(
            parse_rfc3339("2026-11-21T05:24:08.123456789Z").unwrap(),
            base.plus_millis(123)
        );
        assert_eq!(parse_rfc3339("2026-11-21t05:24:08z").unwrap(), base);
        assert_eq!(parse_rfc3339("2026-11-21T00:24:08-05:00").unwrap(), base);
        assert_eq!(base.to_rfc3339(), "2026-11-21T05:24:08.000Z");
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for s in [
            "",
            "2026-11-21",
            "2026-11-21T05:24Z",
            "2026-11-21T05:24:60Z",
            "2026-11-21T05:24:08.Z",
            "2026-11-21T05:24:08.1234567890Z",
            "2026-11-21T05:24:08",
            "2026-11-21T05:24:08+0100",
            "2026-11-21T05:24:08+24:00",
            "2026-02-30T05:24:08Z",
            "2026-11-21T05:24:08Zjunk",
            "2026-11-21T05:24:08.000Z2026-11-21T05:24:08.000Z",
            "２０２６-11-21T05:24:08Z",
        ] {
            assert!(parse_rfc3339(s).is_err(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,48}") {
            let _ = parse_rfc3339(&s);
        }

        #[test]
        fn rendering_then_parsing_gives_the_same_instant(
            ms in -62_135_596_800_000i64..253_402_300_799_999,
        ) {
            let t = Timestamp::from_millis(ms);
            prop_assert_eq!(parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
        }
    }
}
