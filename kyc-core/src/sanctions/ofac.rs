//! Loader of the OFAC legacy CSV set (SDN: `sdn.csv`, `alt.csv`, `add.csv`, `sdn_comments.csv`;
//! consolidated: `cons_prim.csv`, `cons_alt.csv`, `cons_add.csv`, `cons_comments.csv`).
//!
//! The files have no header row, write nulls as `-0-`, end lines with CRLF and end with a DOS
//! end-of-file byte (0x1A). Dates of birth, nationalities, passports and weak a.k.a.s appear
//! only inside the free-text Remarks column (continued in the comments file when too long), so
//! they are read from there: "DOB 23 Nov 1962", "DOB circa 1962", "DOB 1957 to 1959",
//! "alt. DOB …", "nationality Iran", "citizen Mexico", "Passport 123 (Egypt)", "a.k.a. 'ABU X'".

use std::collections::HashMap;

use super::country::country_from_text;
use super::csv::records;
use super::model::{
    decode_text, BirthDateFact, Entity, Identifier, ListKind, LoadError, LoadedList, NameKind,
    Schema, MAX_LIST_BYTES,
};
use crate::model::Date;

const FORMAT: &str = "OFAC CSV";

/// The files of one OFAC legacy CSV set. Only the primary file is required.
#[derive(Clone, Copy, Debug, Default)]
pub struct OfacFiles<'a> {
    /// `sdn.csv` / `cons_prim.csv`: one row per entity.
    pub primary: &'a [u8],
    /// `alt.csv` / `cons_alt.csv`: aliases.
    pub aliases: Option<&'a [u8]>,
    /// `add.csv` / `cons_add.csv`: addresses (hashed into the version, not used for matching).
    pub addresses: Option<&'a [u8]>,
    /// `sdn_comments.csv` / `cons_comments.csv`: continuations of long Remarks.
    pub comments: Option<&'a [u8]>,
}

/// Loads an OFAC legacy CSV set as the given list (SDN or consolidated).
///
/// Rows with a non-numeric entity number or too few columns are skipped and counted; a primary
/// file with no usable row is an error.
///
/// ```
/// use kyc_core::sanctions::{load_ofac, ListKind, OfacFiles, BirthDateFact};
/// let sdn = b"2674,\"ABBAS, Abu\",\"individual\",\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 10 Dec 1948; nationality Iraq; a.k.a. 'ABU X'.\"\r\n\x1a";
/// let list = load_ofac(OfacFiles { primary: sdn, ..Default::default() }, ListKind::OfacSdn).unwrap();
/// let e = &list.entities[0];
/// assert_eq!(e.id, "2674");
/// assert_eq!(e.names.len(), 2);
/// assert_eq!(e.nationalities[0].alpha3(), "IRQ");
/// assert!(matches!(e.birth_dates[0], BirthDateFact::Exact { .. }));
/// ```
pub fn load_ofac(files: OfacFiles<'_>, list: ListKind) -> Result<LoadedList, LoadError> {
    let parts = [
        files.primary,
        files.aliases.unwrap_or_default(),
        files.addresses.unwrap_or_default(),
        files.comments.unwrap_or_default(),
    ];
    if parts.iter().map(|p| p.len()).sum::<usize>() > MAX_LIST_BYTES {
        return Err(LoadError::TooLarge {
            max_bytes: MAX_LIST_BYTES,
        });
    }
    let mut skipped = 0usize;
    let mut continuation: HashMap<String, String> = HashMap::new();
    if let Some(c) = files.comments {
        for r in records(&decode_text(c)) {
            let id = r.get(0).trim();
            if is_ent_num(id) && r.fields.len() >= 2 {
                continuation.entry(id.to_string()).or_default().push_str(
                    if null(r.get(1)).is_some() {
                        r.get(1)
                    } else {
                        ""
                    },
                );
            } else {
                skipped += 1;
            }
        }
    }
    let mut entities: Vec<Entity> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let primary = decode_text(files.primary);
    for r in records(&primary) {
        let id = r.get(0).trim();
        if !is_ent_num(id) || r.fields.len() < 4 || null(r.get(1)).is_none() {
            skipped += 1;
            continue;
        }
        let schema = match null(r.get(2)).map(str::to_ascii_lowercase).as_deref() {
            Some("individual") => Schema::Person,
            Some("vessel") => Schema::Vessel,
            Some("aircraft") => Schema::Aircraft,
            _ => Schema::Organisation,
        };
        let mut e = Entity::new(id, list, schema);
        e.add_name(r.get(1), NameKind::Primary);
        if let Some(p) = null(r.get(3)) {
            for prog in p.split("] [") {
                let prog = prog.trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace());
                if !prog.is_empty() {
                    e.programs.push(prog.to_string());
                }
            }
        }
        // Untrimmed: a Remarks text cut mid-way may end in the space before its continuation.
        let mut remarks = match null(r.get(11)) {
            Some(_) => r.get(11).to_string(),
            None => String::new(),
        };
        if let Some(more) = continuation.get(id) {
            remarks.push_str(more);
        }
        apply_remarks(&mut e, &remarks);
        if by_id.insert(id.to_string(), entities.len()).is_some() {
            skipped += 1;
            continue;
        }
        entities.push(e);
    }
    if entities.is_empty() {
        return Err(if primary.trim().is_empty() {
            LoadError::NoEntities { format: FORMAT }
        } else {
            LoadError::NotThisFormat { format: FORMAT }
        });
    }
    if let Some(a) = files.aliases {
        for r in records(&decode_text(a)) {
            let id = r.get(0).trim();
            let target = by_id.get(id).and_then(|&i| entities.get_mut(i));
            match (target, null(r.get(3))) {
                (Some(e), Some(name)) => {
                    let kind = match null(r.get(2)).map(|t| t.trim().to_ascii_lowercase()) {
                        Some(t) if t == "fka" => NameKind::Former,
                        Some(t) if t.contains("weak") => NameKind::WeakAlias,
                        _ => NameKind::Alias,
                    };
                    e.add_name(name, kind);
                }
                _ => skipped += 1,
            }
        }
    }
    Ok(LoadedList::new(list, entities, skipped, &parts))
}

fn is_ent_num(s: &str) -> bool {
    !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The field, or `None` for OFAC's null `-0-` and empty fields.
fn null(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty() && t != "-0-").then_some(t)
}

/// Reads the facts of a Remarks text into the entity.
pub(crate) fn apply_remarks(e: &mut Entity, remarks: &str) {
    for item in split_remarks(remarks) {
        let item = item.trim().trim_end_matches('.').trim();
        let item = item.strip_prefix("alt. ").unwrap_or(item).trim();
        if let Some(rest) = item.strip_prefix("a.k.a. ") {
            for name in quoted(rest) {
                e.add_name(name, NameKind::WeakAlias);
            }
        } else if let Some(rest) = item.strip_prefix("f.k.a. ") {
            for name in quoted(rest) {
                e.add_name(name, NameKind::Former);
            }
        } else if let Some(rest) = item.strip_prefix("DOB ") {
            if let Some(d) = parse_dob(rest) {
                e.add_birth_date(d);
            }
        } else if let Some(rest) = item
            .strip_prefix("nationality ")
            .or_else(|| item.strip_prefix("citizen "))
        {
            if let Some(c) = country_from_text(rest) {
                e.add_nationality(c);
            }
        } else if let Some((kind, rest)) = identifier_kind(item) {
            let (number, country) = match rest.rfind(" (") {
                Some(p) if rest.ends_with(')') => (
                    rest.get(..p).unwrap_or(""),
                    rest.get(p + 2..rest.len() - 1).and_then(country_from_text),
                ),
                _ => (rest, None),
            };
            let number = number.trim();
            if !number.is_empty() && number.len() <= 64 {
                e.identifiers.push(Identifier {
                    kind: kind.to_string(),
                    number: number.to_string(),
                    country,
                });
            }
        }
    }
}

/// Splits Remarks on `;` outside single-quoted names.
fn split_remarks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            // A quote opens after a space (or at the start) and closes before a non-letter, so
            // apostrophes inside names ("GAMA'AT", "ABU-'UMAR") do not count.
            b'\'' => {
                if in_quote {
                    let next = b.get(i + 1).copied();
                    if !next.is_some_and(|n| n.is_ascii_alphanumeric()) {
                        in_quote = false;
                    }
                } else {
                    let prev = i.checked_sub(1).and_then(|p| b.get(p)).copied();
                    if prev.is_none_or(|p| p == b' ') {
                        in_quote = true;
                    }
                }
            }
            b';' if !in_quote => {
                out.push(s.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or(""));
    out
}

/// The single-quoted names in `s` (`'ABU X'`), or the whole text when nothing is quoted.
fn quoted(s: &str) -> Vec<&str> {
    let t = s.trim();
    if let Some(inner) = t.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'').unwrap_or(inner);
        return vec![inner.trim()];
    }
    if t.is_empty() {
        Vec::new()
    } else {
        vec![t]
    }
}

const IDENTIFIER_KINDS: &[&str] = &[
    "Passport",
    "Diplomatic Passport",
    "National ID No.",
    "Cedula No.",
    "Identification Number",
    "Registration Number",
    "Registration ID",
    "Tax ID No.",
    "SSN",
    "Driver's License No.",
    "NIT #",
    "RUC #",
    "R.F.C.",
    "C.U.R.P.",
    "Company Number",
    "Business Registration Number",
    "Vessel Registration Identification",
];

fn identifier_kind(item: &str) -> Option<(&'static str, &str)> {
    IDENTIFIER_KINDS.iter().find_map(|k| {
        item.strip_prefix(k)
            .and_then(|r| r.strip_prefix(' '))
            .map(|r| (*k, r.trim()))
    })
}

/// Parses the text after "DOB ": `23 Nov 1962`, `Nov 1962`, `1962`, `circa 1962`,
/// `1957 to 1959`, `01 Jan 1960 to 31 Dec 1962`.
pub(crate) fn parse_dob(s: &str) -> Option<BirthDateFact> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("circa ") {
        let year = parse_date_words(rest)?.0;
        return Some(BirthDateFact::Circa { year });
    }
    if let Some((a, b)) = s.split_once(" to ") {
        let (from, to) = (parse_date_words(a)?.0, parse_date_words(b)?.0);
        return Some(if from == to {
            BirthDateFact::Year { year: from }
        } else {
            BirthDateFact::Range {
                from: from.min(to),
                to: from.max(to),
            }
        });
    }
    let (year, month, day) = parse_date_words(s)?;
    Some(match (month, day) {
        (Some(m), Some(d)) => BirthDateFact::Exact {
            date: Date::from_ymd(year, m, d).ok()?,
        },
        (Some(month), None) => BirthDateFact::Month { year, month },
        _ => BirthDateFact::Year { year },
    })
}

/// `[DD] [Mon] YYYY` → (year, month, day).
fn parse_date_words(s: &str) -> Option<(u16, Option<u8>, Option<u8>)> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let year = |t: &str| -> Option<u16> {
        (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u16>().ok())
            .flatten()
            .filter(|y| (1000..=2999).contains(y))
    };
    match parts.as_slice() {
        [y] => Some((year(y)?, None, None)),
        [m, y] => Some((year(y)?, Some(month(m)?), None)),
        [d, m, y] => {
            let day = d.parse::<u8>().ok().filter(|d| (1..=31).contains(d))?;
            Some((year(y)?, Some(month(m)?), Some(day)))
        }
        _ => None,
    }
}

pub(crate) fn month(s: &str) -> Option<u8> {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let up = s.get(..3)?.to_ascii_uppercase();
    MONTHS
        .iter()
        .position(|m| *m == up)
        .and_then(|p| u8::try_from(p + 1).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dob(s: &str) -> Option<BirthDateFact> {
        parse_dob(s)
    }

    #[test]
    fn remarks_dates_of_birth_keep_their_precision() {
        let d = |y, m, d| Date::from_ymd(y, m, d).unwrap();
        assert_eq!(
            dob("23 Nov 1962"),
            Some(BirthDateFact::Exact {
                date: d(1962, 11, 23)
            })
        );
        assert_eq!(dob("circa 1962"), Some(BirthDateFact::Circa { year: 1962 }));
        assert_eq!(
            dob("1957 to 1959"),
            Some(BirthDateFact::Range {
                from: 1957,
                to: 1959
            })
        );
        assert_eq!(
            dob("01 Jan 1973 to 31 Dec 1973"),
            Some(BirthDateFact::Year { year: 1973 })
        );
        assert_eq!(
            dob("Nov 1962"),
            Some(BirthDateFact::Month {
                year: 1962,
                month: 11
            })
        );
        assert_eq!(dob("1962"), Some(BirthDateFact::Year { year: 1962 }));
        assert_eq!(dob("31 Feb 1962"), None);
        assert_eq!(dob("unknown"), None);
    }

    #[test]
    fn remarks_facts_are_read_into_the_entity() {
        let mut e = Entity::new("1", ListKind::OfacSdn, Schema::Person);
        e.add_name("X, Y", NameKind::Primary);
        apply_remarks(
            &mut e,
            "DOB 1938; alt. DOB 1936; POB Najf Al Ashraf (Najaf), Iraq; nationality Iran; \
             alt. nationality Korea, North; citizen Mexico; Passport 1084010 (Egypt); alt. Passport \
             19820215; a.k.a. 'ABU-'UMAR'; a.k.a. 'THE CHESS PLAYER'; Chief of ISLAMIC GAMA'AT.",
        );
        assert_eq!(e.birth_dates.len(), 2);
        let nat: Vec<&str> = e.nationalities.iter().map(|c| c.alpha3()).collect();
        assert_eq!(nat, vec!["IRN", "PRK", "MEX"]);
        assert_eq!(e.identifiers.len(), 2);
        assert_eq!(
            e.identifiers[0].country.map(|c| c.alpha3().to_string()),
            Some("EGY".into())
        );
        let weak: Vec<&str> = e
            .names
            .iter()
            .filter(|n| n.kind == NameKind::WeakAlias)
            .map(|n| n.text.as_str())
            .collect();
        assert_eq!(weak, vec!["ABU-'UMAR", "THE CHESS PLAYER"]);
    }

    #[test]
    fn a_small_set_loads_with_aliases_comments_and_counts() {
        let sdn = b"36,\"AEROCARIBBEAN AIRLINES\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\
2674,\"ABBAS, Abu\",\"individual\",\"SDGT] [SYRIA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 10 Dec 1948; a.k.a. 'ABU \"\r\n\
x,broken\r\n\x1a";
        let alt = b"36,12,\"aka\",\"AERO-CARIBBEAN\",-0- \r\n2674,13,\"fka\",\"OLD NAME\",-0- \r\n99,14,\"aka\",\"ORPHAN\",-0- \r\n";
        let comments = b"2674,\"ZED'; nationality Iraq.\"\r\n";
        let list = load_ofac(
            OfacFiles {
                primary: sdn,
                aliases: Some(alt),
                addresses: None,
                comments: Some(comments),
            },
            ListKind::OfacSdn,
        )
        .unwrap();
        assert_eq!(list.stats.entities, 2);
        assert_eq!(list.stats.persons, 1);
        assert_eq!(
            list.stats.skipped_records, 2,
            "a broken row and an orphan alias"
        );
        let abbas = &list.entities[1];
        assert_eq!(abbas.programs, vec!["SDGT", "SYRIA"]);
        let names: Vec<(&str, NameKind)> = abbas
            .names
            .iter()
            .map(|n| (n.text.as_str(), n.kind))
            .collect();
        assert_eq!(
            names,
            vec![
                ("ABBAS, Abu", NameKind::Primary),
                ("ABU ZED", NameKind::WeakAlias),
                ("OLD NAME", NameKind::Former)
            ]
        );
        assert_eq!(abbas.nationalities[0].alpha3(), "IRQ");
        assert!(list.version.as_str().starts_with("sha256:"));
    }

    #[test]
    fn input_that_is_not_an_ofac_file_is_refused() {
        let e = load_ofac(
            OfacFiles {
                primary: b"<xml/>",
                ..OfacFiles::default()
            },
            ListKind::OfacSdn,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "input is not a OFAC CSV file");
        assert!(load_ofac(OfacFiles::default(), ListKind::OfacSdn).is_err());
    }

    proptest! {
        #[test]
        fn hostile_bytes_never_panic(
            a in proptest::collection::vec(any::<u8>(), 0..400),
            b in proptest::collection::vec(any::<u8>(), 0..200),
            c in "[0-9,\"';a-zA-Z. -]{0,200}",
        ) {
            let files = OfacFiles { primary: &a, aliases: Some(&b), addresses: Some(&b), comments: Some(c.as_bytes()) };
            let _ = load_ofac(files, ListKind::OfacSdn);
            let files = OfacFiles { primary: c.as_bytes(), aliases: Some(&a), addresses: None, comments: Some(&b) };
            let _ = load_ofac(files, ListKind::OfacConsolidated);
            let mut e = Entity::new("1", ListKind::OfacSdn, Schema::Person);
            apply_remarks(&mut e, &c);
        }
    }
}
