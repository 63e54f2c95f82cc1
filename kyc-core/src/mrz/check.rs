//! ICAO 9303 check digits: character values (`0`–`9` their value, `A`=10 … `Z`=35, filler `<`
//! = 0), weights 7, 3, 1 repeating, the digit is the weighted sum modulo 10.

/// Value of every byte in check-digit arithmetic; `NONE` for bytes outside `A-Z 0-9 <`.
const NONE: u8 = u8::MAX;
static VALUES: [u8; 256] = {
    let mut t = [NONE; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t[b'<' as usize] = 0;
    t
};

const WEIGHTS: [u32; 3] = [7, 3, 1];

/// The value of an MRZ character in check-digit arithmetic (`<` = 0, `0`–`9`, `A` = 10 …
/// `Z` = 35), or `None` for a character an MRZ never holds.
///
/// ```
/// use kyc_core::mrz::char_value;
/// assert_eq!(char_value(b'<'), Some(0));
/// assert_eq!(char_value(b'7'), Some(7));
/// assert_eq!(char_value(b'Z'), Some(35));
/// assert_eq!(char_value(b'a'), None);
/// ```
pub fn char_value(b: u8) -> Option<u8> {
    match VALUES[usize::from(b)] {
        NONE => None,
        v => Some(v),
    }
}

/// Whether `b` is one of the MRZ characters `A-Z 0-9 <`.
pub(crate) fn is_mrz_char(b: u8) -> bool {
    VALUES[usize::from(b)] != NONE
}

/// The weighted sum of `parts` read as one string (the weights continue across parts), or
/// `None` when a byte is not an MRZ character.
pub(crate) fn weighted_sum<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Option<u32> {
    let mut sum = 0u32;
    let mut w = 0usize;
    for part in parts {
        for &b in part {
            let v = VALUES[usize::from(b)];
            if v == NONE {
                return None;
            }
            sum += u32::from(v) * WEIGHTS[w];
            w = if w == 2 { 0 } else { w + 1 };
        }
    }
    Some(sum)
}

/// Whether the check character `check` matches `parts`. A filler `<` in the check position
/// counts as 0, so it passes exactly when the computed digit is 0 (ICAO allows `<` for an
/// all-filler optional-data field, and some states write it for unknown dates).
pub(crate) fn verify<'a>(parts: impl IntoIterator<Item = &'a [u8]>, check: u8) -> bool {
    let Some(sum) = weighted_sum(parts) else {
        return false;
    };
    let digit = (sum % 10) as u8;
    match check {
        b'0'..=b'9' => check - b'0' == digit,
        b'<' => digit == 0,
        _ => false,
    }
}

/// The ICAO 9303 check digit (0–9) of `data`, or `None` when `data` holds a character that an
/// MRZ never holds (lowercase, spaces, punctuation…).
///
/// ```
/// use kyc_core::mrz::check_digit;
/// assert_eq!(check_digit("L898902C3"), Some(6));
/// assert_eq!(check_digit("740812"), Some(2));
/// assert_eq!(check_digit("<<<<<<<<<<<<<<"), Some(0));
/// assert_eq!(check_digit("l898902c3"), None);
/// ```
pub fn check_digit(data: &str) -> Option<u8> {
    weighted_sum([data.as_bytes()]).map(|s| (s % 10) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn icao_specimen_check_digits_are_reproduced() {
        assert_eq!(check_digit("L898902C3"), Some(6));
        assert_eq!(check_digit("740812"), Some(2));
        assert_eq!(check_digit("120415"), Some(9));
        assert_eq!(check_digit("ZE184226B<<<<<"), Some(1));
        assert_eq!(check_digit("D23145890734"), Some(9));
    }

    #[test]
    fn weights_continue_across_parts() {
        let whole = weighted_sum([b"L898902C36".as_slice(), b"7408122"]);
        assert_eq!(whole, weighted_sum([b"L898902C367408122".as_slice()]));
    }

    #[test]
    fn filler_in_check_position_counts_as_zero() {
        assert!(verify([b"<<<<<<<<<<<<<<".as_slice()], b'<'));
        assert!(verify([b"<<<<<<<<<<<<<<".as_slice()], b'0'));
        assert!(!verify([b"ZE184226B<<<<<".as_slice()], b'<'));
        assert!(!verify([b"740812".as_slice()], b'X'));
    }

    #[test]
    fn characters_outside_the_mrz_set_have_no_value() {
        for b in [b'a', b' ', b'-', 0u8, 0xC3, b'?'] {
            assert_eq!(char_value(b), None);
            assert!(!is_mrz_char(b));
        }
    }

    /// Changes whose value difference is a multiple of 10 (`0`/`A`, `1`/`B`, `6`/`G`, `1`/`L`…)
    /// are invisible to a 7-3-1 check digit: a property of ICAO 9303, not of this code.
    #[test]
    fn check_digit_blind_spots_are_what_the_arithmetic_predicts() {
        assert_eq!(check_digit("AB1G"), check_digit("AB16"));
        assert_eq!(check_digit("L1"), check_digit("LL"));
        assert_ne!(check_digit("AB1O"), check_digit("AB10"));
    }

    proptest! {
        #[test]
        fn computed_check_digit_verifies(data in "[A-Z0-9<]{0,40}") {
            let d = check_digit(&data).unwrap();
            prop_assert!(verify([data.as_bytes()], b'0' + d));
            for other in (0..10u8).filter(|&o| o != d) {
                prop_assert!(!verify([data.as_bytes()], b'0' + other));
            }
        }

        #[test]
        fn any_detectable_single_change_is_detected(
            data in "[A-Z0-9<]{1,30}",
            pos in any::<prop::sample::Index>(),
            replacement in "[A-Z0-9<]",
        ) {
            let mut bytes = data.into_bytes();
            let i = pos.index(bytes.len());
            let new = replacement.as_bytes()[0];
            let (a, b) = (char_value(bytes[i]).unwrap(), char_value(new).unwrap());
            prop_assume!(!a.abs_diff(b).is_multiple_of(10));
            let d = weighted_sum([bytes.as_slice()]).unwrap() % 10;
            bytes[i] = new;
            prop_assert!(!verify([bytes.as_slice()], b'0' + d as u8));
        }
    }
}
