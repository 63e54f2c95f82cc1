//! Calendar dates and instants without a clock: `Date` (proleptic Gregorian, no time zone),
//! the personal `BirthDate` and the document's `ExpiryDate`, and `Timestamp` (milliseconds since
//! the Unix epoch, as given by the `Clock` port).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ValueError;

/// A calendar date (year 1..=9999) without a time zone.
///
/// ```
/// use kyc_core::model::Date;
/// let d = Date::parse("1974-08-12").unwrap();
/// assert_eq!((d.year(), d.month(), d.day()), (1974, 8, 12));
/// assert_eq!(d.to_string(), "1974-08-12");
/// assert!(Date::parse("2023-02-29").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Builds a date from its parts, refusing impossible ones (month 13, 30 February, year 0).
    pub fn from_ymd(year: u16, month: u8, day: u8) -> Result<Self, ValueError> {
        const WHAT: &str = "date";
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return Err(ValueError::OutOfRange { what: WHAT });
        }
        if day > days_in_month(year, month) {
            return Err(ValueError::OutOfRange { what: WHAT });
        }
        Ok(Self { year, month, day })
    }

    /// Parses the ISO 8601 calendar form `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "date";
        const EXPECTED: &str = "YYYY-MM-DD";
        let b = s.trim().as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(ValueError::Malformed {
                what: WHAT,
                expected: EXPECTED,
            });
        }
        let num = |r: std::ops::Range<usize>| -> Result<u16, ValueError> {
            let mut v: u16 = 0;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return Err(ValueError::Malformed {
                        what: WHAT,
                        expected: EXPECTED,
                    });
                }
                v = v * 10 + u16::from(c - b'0');
            }
            Ok(v)
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        Self::from_ymd(y, m as u8, d as u8)
    }

    /// The year (1..=9999).
    pub fn year(self) -> u16 {
        self.year
    }
    /// The month (1..=12).
    pub fn month(self) -> u8 {
        self.month
    }
    /// The day of the month (1..=31).
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days-from-civil algorithm (public-domain arithmetic).
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let m = i64::from(self.month);
        let d = i64::from(self.day);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01, if it lies in years 1..=9999.
    pub fn from_days_since_epoch(days: i64) -> Option<Self> {
        let z = days.checked_add(719_468)?;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        let year = u16::try_from(y).ok()?;
        Self::from_ymd(year, m as u8, d as u8).ok()
    }

    /// The date `n` days later (or earlier for negative `n`), if it exists.
    pub fn add_days(self, n: i64) -> Option<Self> {
        Self::from_days_since_epoch(self.days_since_epoch().checked_add(n)?)
    }

    /// Whole years from `self` to `on` (an age when `self` is a birth date).
    pub fn years_until(self, on: Date) -> i32 {
        let mut years = i32::from(on.year) - i32::from(self.year);
        if (on.month, on.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }
}

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// The number of days of `month` (1..=12) in `year`.
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl std::str::FromStr for Date {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A date of birth: personal data, so its `Debug` is redacted.
///
/// ```
/// use kyc_core::model::{BirthDate, Date};
/// let b = BirthDate::new(Date::parse("1974-08-12").unwrap());
/// assert_eq!(format!("{b:?}"), "BirthDate(<redacted>)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BirthDate(Date);

impl BirthDate {
    /// Wraps a date as a date of birth.
    pub fn new(date: Date) -> Self {
        Self(date)
    }
    /// Parses `YYYY-MM-DD` and refuses a birth date after `today`.
    pub fn parse(s: &str, today: Date) -> Result<Self, ValueError> {
        let d = Date::parse(s)?;
        if d > today {
            return Err(ValueError::OutOfRange {
                what: "date of birth",
            });
        }
        Ok(Self(d))
    }
    /// The date.
    pub fn date(self) -> Date {
        self.0
    }
}

impl fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BirthDate(<redacted>)")
    }
}

/// The last day a document is valid.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExpiryDate(Date);

impl ExpiryDate {
    /// Wraps a date as an expiry date.
    pub fn new(date: Date) -> Self {
        Self(date)
    }
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        Date::parse(s).map(Self)
    }
    /// The date.
    pub fn date(self) -> Date {
        self.0
    }
    /// A document is expired the day after its expiry date.
    pub fn is_expired_on(self, today: Date) -> bool {
        today > self.0
    }
}

impl fmt::Debug for ExpiryDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExpiryDate({})", self.0)
    }
}

/// An instant: milliseconds since 1970-01-01T00:00:00Z, as read from the `Clock` port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// An instant from milliseconds since the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    /// An instant from whole seconds since the epoch.
    pub const fn from_secs(s: i64) -> Self {
        Self(s.saturating_mul(1000))
    }
    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }
    /// Whole seconds since the epoch (rounded down).
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }
    /// The instant `ms` milliseconds later (saturating).
    pub const fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }
    /// The UTC calendar date of this instant.
    pub fn date(self) -> Date {
        let days = self.0.div_euclid(86_400_000);
        Date::from_days_since_epoch(days).unwrap_or(if days < 0 {
            Date {
                year: 1,
                month: 1,
                day: 1,
            }
        } else {
            Date {
                year: 9999,
                month: 12,
                day: 31,
            }
        })
    }
    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-21T05:24:08.000Z`.
    pub fn to_rfc3339(self) -> String {
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let (h, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
        let (m, rest) = (rest / 60_000, rest % 60_000);
        let (s, ms) = (rest / 1000, rest % 1000);
        format!("{}T{h:02}:{m:02}:{s:02}.{ms:03}Z", self.date())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn impossible_dates_are_refused() {
        assert!(Date::from_ymd(2023, 2, 29).is_err());
        assert!(Date::from_ymd(2024, 2, 29).is_ok());
        assert!(Date::from_ymd(1900, 2, 29).is_err());
        assert!(Date::from_ymd(2000, 2, 29).is_ok());
        assert!(Date::from_ymd(2024, 13, 1).is_err());
        assert!(Date::from_ymd(0, 1, 1).is_err());
        assert!(Date::parse("2024-1-01").is_err());
        assert!(Date::parse("2024-01-0x").is_err());
        assert!(Date::parse("").is_err());
    }

    #[test]
    fn epoch_days_match_known_values() {
        assert_eq!(Date::from_ymd(1970, 1, 1).unwrap().days_since_epoch(), 0);
        assert_eq!(
            Date::from_ymd(2000, 3, 1).unwrap().days_since_epoch(),
            11_017
        );
        assert_eq!(Date::from_ymd(1969, 12, 31).unwrap().days_since_epoch(), -1);
    }

    #[test]
    fn timestamps_render_as_rfc3339() {
        assert_eq!(
            Timestamp::from_millis(0).to_rfc3339(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::from_millis(1_779_341_048_123).to_rfc3339(),
            "2026-05-21T05:24:08.123Z"
        );
    }

    #[test]
    fn birth_date_debug_is_redacted_and_future_births_refused() {
        let today = Date::from_ymd(2026, 11, 21).unwrap();
        let b = BirthDate::parse("1980-01-12", today).unwrap();
        assert!(!format!("{b:?}").contains("1980"));
        assert!(BirthDate::parse("2027-01-01", today).is_err());
    }

    #[test]
    fn age_counts_whole_years() {
        let b = Date::from_ymd(2000, 6, 15).unwrap();
        assert_eq!(b.years_until(Date::from_ymd(2018, 6, 14).unwrap()), 17);
        assert_eq!(b.years_until(Date::from_ymd(2018, 6, 15).unwrap()), 18);
    }

    proptest! {
        #[test]
        fn days_round_trip(days in -719_162i64..2_932_896) {
            let d = Date::from_days_since_epoch(days).unwrap();
            prop_assert_eq!(d.days_since_epoch(), days);
            prop_assert_eq!(Date::parse(&d.to_string()).unwrap(), d);
        }
    }
}
