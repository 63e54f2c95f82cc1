//! Countries as printed on documents: codes (`FRA`, `D`, `USA`, `U.S.A.`) and names or
//! nationality adjectives in several languages for the common issuers (`DEUTSCH`,
//! `FRANÇAISE`, `BRITISH CITIZEN`, `UNITED STATES OF AMERICA`, `ESPAÑOLA`…).

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::model::CountryCode;
use crate::text;

/// Why a printed country could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CountryProblem {
    /// Neither a code nor a known name.
    Unknown,
    /// The parts of a bilingual value name different countries.
    Conflict,
}

/// Names and adjectives, folded, with the alpha-3 code they stand for.
#[rustfmt::skip]
const NAMES: &[(&str, &[&str])] = &[
    ("DEU", &["GERMANY", "GERMAN", "DEUTSCHLAND", "DEUTSCH", "DEUTSCHE",
        "BUNDESREPUBLIK DEUTSCHLAND", "FEDERAL REPUBLIC OF GERMANY", "ALLEMAGNE", "ALLEMANDE",
        "ALLEMAND", "REPUBLIQUE FEDERALE D ALLEMAGNE", "ALEMANIA", "ALEMANA", "ALEMAN", "GERMANIA",
        "TEDESCA", "TEDESCO", "DUITSLAND", "DUITSE", "ALEMANHA", "ALEMA", "NIEMCY", "NIEMIECKIE"]),
    ("FRA", &["FRANCE", "FRENCH", "FRANCAISE", "FRANCAIS", "REPUBLIQUE FRANCAISE", "FRANKREICH",
        "FRANZOSISCH", "FRANCIA", "FRANCESA", "FRANCES", "FRANCESE", "FRANKRIJK", "FRANSE",
        "FRANCA", "FRANCUSKIE"]),
    ("GBR", &["UNITED KINGDOM", "UK", "GREAT BRITAIN", "BRITISH", "BRITISH CITIZEN",
        "UNITED KINGDOM OF GREAT BRITAIN AND NORTHERN IRELAND", "ROYAUME UNI", "BRITANNIQUE",
        "VEREINIGTES KONIGREICH", "BRITISCH", "REINO UNIDO", "BRITANICA", "BRITANICO",
        "BRITANNICA", "REGNO UNITO", "VERENIGD KONINKRIJK", "BRITS"]),
    ("USA", &["UNITED STATES", "UNITED STATES OF AMERICA", "AMERICAN", "ETATS UNIS",
        "ETATS UNIS D AMERIQUE", "AMERICAINE", "AMERICAIN", "VEREINIGTE STAATEN",
        "VEREINIGTE STAATEN VON AMERIKA", "AMERIKANISCH", "ESTADOS UNIDOS",
        "ESTADOS UNIDOS DE AMERICA", "ESTADOUNIDENSE", "STATI UNITI", "STATUNITENSE"]),
    ("ESP", &["SPAIN", "SPANISH", "ESPANA", "REINO DE ESPANA", "ESPANOLA", "ESPANOL", "ESPAGNE",
        "ESPAGNOLE", "SPANIEN", "SPANISCH", "SPAGNA", "SPAGNOLA", "SPANJE", "ESPANHA"]),
    ("ITA", &["ITALY", "ITALIAN", "ITALIA", "REPUBBLICA ITALIANA", "ITALIANA", "ITALIANO",
        "ITALIE", "ITALIENNE", "ITALIEN", "ITALIENISCH", "ITALIAANSE"]),
    ("NLD", &["NETHERLANDS", "THE NETHERLANDS", "DUTCH", "NEDERLAND", "NEDERLANDSE",
        "KONINKRIJK DER NEDERLANDEN", "PAYS BAS", "NEERLANDAISE", "NIEDERLANDE", "NIEDERLANDISCH",
        "PAISES BAJOS", "NEERLANDESA", "PAESI BASSI", "OLANDESE"]),
    ("BEL", &["BELGIUM", "BELGIAN", "BELGIQUE", "BELGE", "BELGIE", "BELGISCHE", "BELGIEN",
        "BELGISCH", "BELGICA", "BELGA"]),
    ("CHE", &["SWITZERLAND", "SWISS", "SUISSE", "SCHWEIZ", "SCHWEIZER", "SCHWEIZERISCH",
        "SVIZZERA", "SVIZZERO", "SUIZA", "SUIZO"]),
    ("AUT", &["AUSTRIA", "AUSTRIAN", "OSTERREICH", "REPUBLIK OSTERREICH", "OSTERREICHISCH",
        "AUTRICHE", "AUTRICHIENNE", "AUSTRIACA", "AUSTRIACO"]),
    ("PRT", &["PORTUGAL", "PORTUGUESE", "PORTUGUESA", "PORTUGUES", "PORTUGAISE", "PORTUGIESISCH",
        "PORTOGHESE"]),
    ("POL", &["POLAND", "POLISH", "POLSKA", "RZECZPOSPOLITA POLSKA", "POLSKIE", "POLOGNE",
        "POLONAISE", "POLEN", "POLNISCH", "POLONIA", "POLACA"]),
    ("IRL", &["IRELAND", "IRISH", "EIRE", "EIREANNACH", "IRLANDE", "IRLANDAISE", "IRLAND",
        "IRISCH"]),
    ("LUX", &["LUXEMBOURG", "LUXEMBOURGEOISE", "LUXEMBURG", "LUXEMBURGISCH"]),
    ("DNK", &["DENMARK", "DANISH", "DANMARK", "DANSK"]),
    ("SWE", &["SWEDEN", "SWEDISH", "SVERIGE", "SVENSK"]),
    ("NOR", &["NORWAY", "NORWEGIAN", "NORGE", "NORSK"]),
    ("FIN", &["FINLAND", "FINNISH", "SUOMI", "SUOMEN", "SUOMALAINEN"]),
    ("GRC", &["GREECE", "GREEK", "HELLENIC REPUBLIC", "HELLAS", "ELLAS"]),
    ("CAN", &["CANADA", "CANADIAN", "CANADIENNE", "CANADIEN"]),
    ("MEX", &["MEXICO", "MEXICAN", "MEXICANA", "MEXICANO"]),
    ("BRA", &["BRAZIL", "BRAZILIAN", "BRASIL", "BRASILEIRA", "BRASILEIRO"]),
    ("CHN", &["CHINA", "CHINESE", "PEOPLE S REPUBLIC OF CHINA"]),
    ("JPN", &["JAPAN", "JAPANESE"]),
    ("IND", &["INDIA", "INDIAN", "REPUBLIC OF INDIA"]),
    ("TUR", &["TURKEY", "TURKIYE", "TURKISH", "TURK"]),
    ("ROU", &["ROMANIA", "ROMANIAN", "ROMANA"]),
    ("UKR", &["UKRAINE", "UKRAINIAN", "UKRAINA"]),
    ("RUS", &["RUSSIA", "RUSSIAN FEDERATION", "RUSSIAN"]),
    ("AUS", &["AUSTRALIA", "AUSTRALIAN"]),
];

static BY_NAME: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    let mut m = HashMap::new();
    for (code, names) in NAMES {
        for n in *names {
            m.insert(*n, *code);
        }
    }
    m
});

/// Folded words of a printed country with dots removed (`U.S.A.` → `USA`) and other
/// punctuation turned into spaces.
fn canonical(s: &str) -> String {
    let folded = text::fold(s);
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c == '.' {
            continue;
        }
        if c.is_alphanumeric() {
            out.push(c);
        } else {
            out.push(' ');
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn one(part: &str) -> Option<CountryCode> {
    let c = canonical(part);
    if c.is_empty() {
        return None;
    }
    if let Some(code) = BY_NAME.get(c.as_str()) {
        return CountryCode::parse(code).ok();
    }
    if c.len() <= 3 {
        return CountryCode::parse(&c).ok();
    }
    None
}

/// Reads a printed nationality or issuing state: a code, or a known name, possibly in two
/// languages separated by `/` (all parts that are recognised must agree).
pub(crate) fn parse_country(value: &str) -> Result<CountryCode, CountryProblem> {
    if value.len() > 200 {
        return Err(CountryProblem::Unknown);
    }
    let mut found: Option<CountryCode> = None;
    for part in value.split(['/', '|']) {
        if let Some(code) = one(part) {
            match found {
                Some(prev) if prev != code => return Err(CountryProblem::Conflict),
                _ => found = Some(code),
            }
        }
    }
    found.ok_or(CountryProblem::Unknown)
}

/// Finds a country named inside a longer text such as an issuing authority
/// (`UNITED STATES DEPARTMENT OF STATE`): the longest known name made of whole words. Codes
/// are not searched for (too many short words look like codes).
pub(crate) fn find_country_name(text: &str) -> Option<CountryCode> {
    if text.len() > 200 {
        return None;
    }
    let c = canonical(text);
    let words: Vec<&str> = c.split(' ').filter(|w| !w.is_empty()).collect();
    let mut best: Option<(usize, &str)> = None;
    for i in 0..words.len() {
        for len in (1..=8.min(words.len() - i)).rev() {
            let phrase = words[i..i + len].join(" ");
            if let Some(code) = BY_NAME.get(phrase.as_str()) {
                // Two-letter names (UK) are too easily found by accident.
                if phrase.len() > 2 && best.is_none_or(|(l, _)| len > l) {
                    best = Some((len, code));
                }
                break;
            }
        }
    }
    best.and_then(|(_, code)| CountryCode::parse(code).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> Option<String> {
        parse_country(s).ok().map(|c| c.alpha3().to_string())
    }

    #[test]
    fn every_name_maps_to_a_valid_code() {
        for (c, names) in NAMES {
            assert!(CountryCode::parse(c).is_ok(), "{c}");
            for n in *names {
                assert_eq!(canonical(n), *n, "names are stored canonical: {n}");
                assert_eq!(code(n).as_deref(), Some(*c), "{n}");
            }
        }
    }

    #[test]
    fn codes_names_and_bilingual_values_are_read() {
        let cases = [
            ("FRA", "FRA"),
            ("D", "DEU"),
            ("U.S.A.", "USA"),
            ("us", "USA"),
            ("Deutsch", "DEU"),
            ("FRANÇAISE", "FRA"),
            ("Française / French", "FRA"),
            ("BRITISH CITIZEN", "GBR"),
            ("United States of America", "USA"),
            ("ESPAÑOLA", "ESP"),
            ("Österreich", "AUT"),
            ("UTO", "UTO"),
        ];
        for (s, want) in cases {
            assert_eq!(code(s).as_deref(), Some(want), "{s}");
        }
        assert_eq!(
            parse_country("Française / German"),
            Err(CountryProblem::Conflict)
        );
        assert_eq!(parse_country("Atlantis"), Err(CountryProblem::Unknown));
        assert_eq!(parse_country(""), Err(CountryProblem::Unknown));
        assert_eq!(parse_country("ZZZ"), Err(CountryProblem::Unknown));
    }

    #[test]
    fn a_country_is_found_inside_an_authority() {
        let f = |s: &str| find_country_name(s).map(|c| c.alpha3().to_string());
        assert_eq!(
            f("United States Department of State").as_deref(),
            Some("USA")
        );
        assert_eq!(f("Bundesrepublik Deutschland").as_deref(), Some("DEU"));
        assert_eq!(f("Stadt Köln"), None);
        assert_eq!(f("Préfecture de police"), None);
        assert_eq!(f("UK passport office"), None);
    }
}
