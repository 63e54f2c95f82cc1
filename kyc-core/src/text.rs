//! Text folding shared by OCR normalisation, MRZ cross-checks and name matching: Unicode
//! compatibility decomposition, diacritics removed, ligatures and special letters expanded
//! (ß→SS, Æ→AE, Ø→O, Œ→OE, Ł→L, Đ→D, Þ→TH), uppercase, whitespace collapsed.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Folds `s` for comparison; idempotent (`fold(fold(s)) == fold(s)`).
///
/// ```
/// assert_eq!(kyc_core::text::fold("  Ståle  Øvregård "), "STALE OVREGARD");
/// assert_eq!(kyc_core::text::fold("Straße"), "STRASSE");
/// ```
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'ß' | 'ẞ' => out.push_str("SS"),
            'æ' | 'Æ' => out.push_str("AE"),
            'œ' | 'Œ' => out.push_str("OE"),
            'ø' | 'Ø' => out.push('O'),
            'ł' | 'Ł' => out.push('L'),
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('D'),
            'þ' | 'Þ' => out.push_str("TH"),
            'ı' => out.push('I'),
            _ => out.extend(c.to_uppercase()),
        }
    }
    // Uppercasing can itself produce decomposable characters in rare scripts; one more pass
    // keeps the function idempotent.
    if !out.is_ascii() {
        let again: String = out.nfkd().filter(|c| !is_combining_mark(*c)).collect();
        if again != out {
            return fold(&again);
        }
    }
    out
}

/// ICAO 9303 Part 3 transliteration of a folded Latin name into MRZ characters: letters kept,
/// every other character (space, hyphen, apostrophe) becomes a filler `<`. German umlauts are
/// also commonly written `AE`/`OE`/`UE`; see [`mrz_name_variants`].
pub fn to_mrz_name(s: &str) -> String {
    fold(s)
        .chars()
        .map(|c| if c.is_ascii_uppercase() { c } else { '<' })
        .collect()
}

/// The MRZ spellings a printed Latin name may legitimately have: the plain folded form and,
/// when the name holds `Ä Ö Ü Å`, the ICAO alternatives `AE OE UE AA`.
pub fn mrz_name_variants(s: &str) -> Vec<String> {
    let mut v = vec![to_mrz_name(s)];
    if s.chars()
        .any(|c| matches!(c, 'ä' | 'Ä' | 'ö' | 'Ö' | 'ü' | 'Ü' | 'å' | 'Å'))
    {
        let expanded: String = s
            .chars()
            .map(|c| match c {
                'ä' | 'Ä' => "AE".to_string(),
                'ö' | 'Ö' => "OE".to_string(),
                'ü' | 'Ü' => "UE".to_string(),
                'å' | 'Å' => "AA".to_string(),
                other => other.to_string(),
            })
            .collect();
        v.push(to_mrz_name(&expanded));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mrz_names_use_fillers_and_icao_variants() {
        assert_eq!(to_mrz_name("Anna-Maria"), "ANNA<MARIA");
        assert_eq!(
            mrz_name_variants("Müller"),
            vec!["MULLER".to_string(), "MUELLER".to_string()]
        );
    }

    proptest! {
        #[test]
        fn fold_is_idempotent(s in "\\PC{0,40}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once);
        }
    }
}
