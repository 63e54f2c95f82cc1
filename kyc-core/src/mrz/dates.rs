//! MRZ dates (`YYMMDD`) and the choice of their century against a reference date passed in by
//! the caller (kyc-core reads no clock).
//!
//! - A **date of birth** is never after the reference date: it is the latest date with those
//!   digits that is on or before the reference (so a person is between 0 and 99 years old).
//! - A **date of expiry** may lie in the future: its year is the one with those two digits in
//!   the window from `reference.year - 49` to `reference.year + 50` inclusive
//!   ([`EXPIRY_WINDOW_YEARS`] ahead). No travel document is valid for more than a few decades,
//!   and one expired for more than 49 years is read as expiring in the future: both far outside
//!   anything a verification accepts.
//!
//! Digits that do not make a calendar date (`<<<<<<` for an unknown date, `830000`, a month 13,
//! 29 February of a common year, letters) give `None`; the check digit is still verified over
//! the characters as written (see the module docs).

use crate::model::Date;

/// How many years after the reference date an expiry date may lie.
pub const EXPIRY_WINDOW_YEARS: u16 = 50;

/// The two-digit year, month and day of six MRZ digits, or `None` when any is not a digit.
fn digits(raw: &[u8]) -> Option<(u16, u8, u8)> {
    let [y1, y2, m1, m2, d1, d2] = *raw else {
        return None;
    };
    let d = |b: u8| b.is_ascii_digit().then(|| b - b'0');
    let yy = u16::from(d(y1)? * 10 + d(y2)?);
    Some((yy, d(m1)? * 10 + d(m2)?, d(d1)? * 10 + d(d2)?))
}

/// The date of birth written `raw` (`YYMMDD`), never after `reference`.
pub(crate) fn birth_date(raw: &[u8], reference: Date) -> Option<Date> {
    let (yy, month, day) = digits(raw)?;
    let century = reference.year() - reference.year() % 100;
    let mut year = century + yy;
    if (year, month, day) > (reference.year(), reference.month(), reference.day()) {
        year = year.checked_sub(100)?;
    }
    Date::from_ymd(year, month, day).ok()
}

/// The date of expiry written `raw` (`YYMMDD`), in the window
/// `reference.year - 49 ..= reference.year + 50`.
pub(crate) fn expiry_date(raw: &[u8], reference: Date) -> Option<Date> {
    let (yy, month, day) = digits(raw)?;
    let r = i32::from(reference.year());
    let window = i32::from(EXPIRY_WINDOW_YEARS);
    let mut year = r - r % 100 + i32::from(yy);
    if year > r + window {
        year -= 100;
    } else if year <= r - window {
        year += 100;
    }
    Date::from_ymd(u16::try_from(year).ok()?, month, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn birth_dates_are_never_after_the_reference() {
        let today = d("2026-03-15");
        assert_eq!(birth_date(b"740812", today), Some(d("1974-08-12")));
        assert_eq!(birth_date(b"260315", today), Some(d("2026-03-15")));
        assert_eq!(birth_date(b"260316", today), Some(d("1926-03-16")));
        assert_eq!(birth_date(b"000101", today), Some(d("2000-01-01")));
        assert_eq!(birth_date(b"991231", today), Some(d("1999-12-31")));
    }

    #[test]
    fn expiry_window_edges_are_fifty_years_ahead_and_forty_nine_behind() {
        let today = d("2026-03-15");
        assert_eq!(expiry_date(b"760101", today), Some(d("2076-01-01")));
        assert_eq!(expiry_date(b"761231", today), Some(d("2076-12-31")));
        assert_eq!(expiry_date(b"770101", today), Some(d("1977-01-01")));
        assert_eq!(expiry_date(b"120415", today), Some(d("2012-04-15")));
        assert_eq!(expiry_date(b"260314", today), Some(d("2026-03-14")));
        // Across a century boundary of the reference.
        let late = d("2099-06-01");
        assert_eq!(expiry_date(b"050101", late), Some(d("2105-01-01")));
        assert_eq!(expiry_date(b"500101", late), Some(d("2050-01-01")));
        assert_eq!(expiry_date(b"490101", late), Some(d("2149-01-01")));
    }

    #[test]
    fn unknown_or_impossible_dates_have_no_value() {
        let today = d("2026-03-15");
        for raw in [
            b"<<<<<<".as_slice(),
            b"83<<<<",
            b"830000",
            b"831301",
            b"830230",
            b"8302",
            b"83O212",
        ] {
            assert_eq!(birth_date(raw, today), None);
            assert_eq!(expiry_date(raw, today), None);
        }
    }

    #[test]
    fn leap_days_depend_on_the_chosen_century() {
        let today = d("2026-03-15");
        assert_eq!(birth_date(b"000229", today), Some(d("2000-02-29")));
        // 1900 was not a leap year: the century is chosen first, then the date is refused.
        assert_eq!(birth_date(b"000229", d("1999-12-31")), None);
    }

    #[test]
    fn references_near_year_one_do_not_underflow() {
        let early = d("0001-06-01");
        assert_eq!(birth_date(b"990101", early), None);
        assert_eq!(birth_date(b"010101", early), Some(d("0001-01-01")));
        assert_eq!(
            expiry_date(b"990101", d("9999-01-01")),
            Some(d("9999-01-01"))
        );
        assert_eq!(expiry_date(b"000101", d("9999-01-01")), None);
    }

    proptest! {
        #[test]
        fn century_resolution_recovers_every_date_inside_its_window(
            days_back in 0i64..36_500,
            days_ahead in -17_000i64..18_000,
            today_days in 0i64..40_000,
        ) {
            let today = Date::from_days_since_epoch(today_days).unwrap();
            let yymmdd = |x: Date| format!("{:02}{:02}{:02}", x.year() % 100, x.month(), x.day());
            let born = today.add_days(-days_back).unwrap();
            if born.years_until(today) < 99 {
                prop_assert_eq!(birth_date(yymmdd(born).as_bytes(), today), Some(born));
            }
            let expires = today.add_days(days_ahead).unwrap();
            let y = i32::from(expires.year()) - i32::from(today.year());
            if (-49..=50).contains(&y) {
                prop_assert_eq!(expiry_date(yymmdd(expires).as_bytes(), today), Some(expires));
            }
        }

        #[test]
        fn resolved_birth_dates_are_never_after_the_reference(raw in "[0-9<]{6}", today_days in 0i64..40_000) {
            let today = Date::from_days_since_epoch(today_days).unwrap();
            if let Some(b) = birth_date(raw.as_bytes(), today) {
                prop_assert!(b <= today);
            }
        }
    }
}
