//! Country names and codes as sanctions lists and customer records write them ("Korea, North",
//! "Iran (Islamic Republic of)", "af", "RUS") turned into [`CountryCode`].

use super::country_names::COUNTRY_NAMES;
use crate::model::CountryCode;

/// Reads a country from an English name, an ISO 3166-1 alpha-2/alpha-3 code or an ICAO code.
/// Returns `None` when it is none of those (the lists also say "possibly Palestinian" or
/// "na"; the first is read, the second is not a country).
///
/// ```
/// use kyc_core::sanctions::country_from_text;
/// assert_eq!(country_from_text("Korea, North").unwrap().alpha3(), "PRK");
/// assert_eq!(country_from_text("af").unwrap().alpha3(), "AFG");
/// assert_eq!(country_from_text("Iran (Islamic Republic of)").unwrap().alpha3(), "IRN");
/// assert!(country_from_text("Atlantis").is_none());
/// ```
pub fn country_from_text(s: &str) -> Option<CountryCode> {
    let t = s.trim();
    if t.is_empty() || t.len() > 120 {
        return None;
    }
    if t.len() <= 3 && t.bytes().all(|b| b.is_ascii_alphabetic()) {
        if t.eq_ignore_ascii_case("na") {
            return None;
        }
        return CountryCode::parse(t).ok();
    }
    let folded = fold_country(t);
    let key = folded
        .strip_prefix("POSSIBLY ")
        .or_else(|| folded.strip_prefix("PROBABLY "))
        .unwrap_or(&folded);
    lookup(key).or_else(|| key.strip_prefix("THE ").and_then(lookup))
}

fn lookup(key: &str) -> Option<CountryCode> {
    COUNTRY_NAMES
        .binary_search_by(|(name, _)| (*name).cmp(key))
        .ok()
        .and_then(|i| COUNTRY_NAMES.get(i))
        .and_then(|(_, a3)| CountryCode::parse(a3).ok())
}

fn fold_country(s: &str) -> String {
    let f = crate::text::fold(s);
    let spaced: String = f
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_table_is_sorted_and_every_code_is_valid() {
        assert!(COUNTRY_NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        for (name, a3) in COUNTRY_NAMES {
            assert!(CountryCode::parse(a3).is_ok(), "{name}");
        }
    }

    #[test]
    fn list_spellings_of_countries_are_read() {
        for (s, a3) in [
            ("Russian Federation", "RUS"),
            ("Russia", "RUS"),
            ("Congo, Democratic Republic of the", "COD"),
            ("possibly Palestinian", "PSE"),
            ("The Gambia", "GMB"),
            ("Côte d'Ivoire", "CIV"),
            ("Turkey", "TUR"),
            ("Burma", "MMR"),
            ("GB", "GBR"),
        ] {
            assert_eq!(
                country_from_text(s).map(|c| c.alpha3().to_string()),
                Some(a3.to_string()),
                "{s}"
            );
        }
        assert_eq!(country_from_text("na"), None);
    }
}
