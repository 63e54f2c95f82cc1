//! Loader of the UK consolidated list of financial sanctions targets in CSV (OFSI's
//! `ConList.csv`): a `Last Updated` line, a header row (`Name 6` surname, `Name 1`…`Name 5`,
//! `Title`, `Name Non-Latin Script`, `DOB` as `dd/mm/yyyy` with `00` for unknown parts,
//! `Nationality` possibly numbered "(1) … (2) …", `Passport Number`, `Group Type`,
//! `Alias Type`, `Alias Quality`, `Regime`, `Group ID`), and one row per name: the rows of one
//! target share its `Group ID`.

use std::collections::HashMap;

use super::country::country_from_text;
use super::csv::{records, Record};
use super::model::{
    decode_text, BirthDateFact, Entity, Identifier, ListKind, LoadError, LoadedList, NameKind,
    Schema, MAX_LIST_BYTES,
};
use crate::model::Date;

const FORMAT: &str = "UK sanctions list CSV";

/// Loads the UK consolidated list CSV. The entity id is the `Group ID`.
///
/// ```
/// use kyc_core::sanctions::load_uk;
/// let csv = "Last Updated,01/02/2026\r\nName 6,Name 1,Name 2,Name 3,Name 4,Name 5,DOB,Nationality,Group Type,Alias Type,Alias Quality,Regime,Group ID\r\n\
///   DOE,John,,,,,00/00/1961,(1) Iran (2) Iraq,Individual,Primary name,,Iran,9001\r\n";
/// let list = load_uk(csv.as_bytes()).unwrap();
/// assert_eq!(list.entities[0].primary_name(), "John DOE");
/// assert_eq!(list.entities[0].nationalities.len(), 2);
/// ```
pub fn load_uk(bytes: &[u8]) -> Result<LoadedList, LoadError> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(LoadError::TooLarge {
            max_bytes: MAX_LIST_BYTES,
        });
    }
    let text = decode_text(bytes);
    let mut rows = records(&text);
    let header = rows
        .by_ref()
        .take(3)
        .find(|r| r.fields.iter().any(|f| f.trim() == "Group ID"))
        .ok_or(LoadError::NotThisFormat { format: FORMAT })?;
    let col = |name: &str| header.fields.iter().position(|f| f.trim() == name);
    let group_col = col("Group ID").ok_or(LoadError::NotThisFormat { format: FORMAT })?;
    let c = Columns {
        names: [
            col("Name 1"),
            col("Name 2"),
            col("Name 3"),
            col("Name 4"),
            col("Name 5"),
            col("Name 6"),
        ],
        non_latin: col("Name Non-Latin Script"),
        dob: col("DOB"),
        nationality: col("Nationality"),
        passport: col("Passport Number"),
        national_id: col("National Identification Number"),
        group_type: col("Group Type"),
        alias_type: col("Alias Type"),
        alias_quality: col("Alias Quality"),
        regime: col("Regime"),
    };
    let mut entities: Vec<Entity> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut skipped = 0;
    for r in rows {
        let id = r.get(group_col).trim();
        if id.is_empty() || id.len() > 40 {
            skipped += 1;
            continue;
        }
        let idx = match by_id.get(id) {
            Some(&i) => i,
            None => {
                let schema = match field(&r, c.group_type).to_ascii_lowercase().as_str() {
                    "individual" => Schema::Person,
                    "ship" => Schema::Vessel,
                    _ => Schema::Organisation,
                };
                by_id.insert(id.to_string(), entities.len());
                entities.push(Entity::new(id, ListKind::UkSanctions, schema));
                entities.len() - 1
            }
        };
        let Some(e) = entities.get_mut(idx) else {
            continue;
        };
        apply_row(e, &r, &c);
    }
    let before = entities.len();
    entities.retain(|e| !e.names.is_empty());
    skipped += before - entities.len();
    for e in &mut entities {
        if let Some(p) = e.names.iter().position(|n| n.kind == NameKind::Primary) {
            e.names.swap(0, p);
        } else if let Some(n) = e.names.first_mut() {
            n.kind = NameKind::Primary;
        }
    }
    if entities.is_empty() {
        return Err(LoadError::NoEntities { format: FORMAT });
    }
    Ok(LoadedList::new(
        ListKind::UkSanctions,
        entities,
        skipped,
        &[bytes],
    ))
}

struct Columns {
    names: [Option<usize>; 6],
    non_latin: Option<usize>,
    dob: Option<usize>,
    nationality: Option<usize>,
    passport: Option<usize>,
    national_id: Option<usize>,
    group_type: Option<usize>,
    alias_type: Option<usize>,
    alias_quality: Option<usize>,
    regime: Option<usize>,
}

fn field(r: &Record, c: Option<usize>) -> &str {
    c.map_or("", |i| r.get(i).trim())
}

fn apply_row(e: &mut Entity, r: &Record, c: &Columns) {
    let name: Vec<&str> = c
        .names
        .iter()
        .map(|&i| field(r, i))
        .filter(|s| !s.is_empty())
        .collect();
    let alias_type = field(r, c.alias_type).to_ascii_lowercase();
    let low = field(r, c.alias_quality).eq_ignore_ascii_case("low");
    let kind = if alias_type == "primary name" {
        NameKind::Primary
    } else if low {
        NameKind::WeakAlias
    } else if alias_type.contains("fka") || alias_type.contains("formerly") {
        NameKind::Former
    } else {
        NameKind::Alias
    };
    if e.names.iter().any(|n| n.kind == NameKind::Primary) && kind == NameKind::Primary {
        e.add_name(&name.join(" "), NameKind::Alias);
    } else {
        e.add_name(&name.join(" "), kind);
    }
    e.add_name(field(r, c.non_latin), NameKind::OriginalScript);
    if let Some(d) = parse_uk_date(field(r, c.dob)) {
        e.add_birth_date(d);
    }
    for n in split_numbered(field(r, c.nationality)) {
        if let Some(cc) = country_from_text(n) {
            e.add_nationality(cc);
        }
    }
    for (col, kind) in [(c.passport, "Passport"), (c.national_id, "National ID")] {
        for number in split_numbered(field(r, col)) {
            if number.len() <= 64 && !e.identifiers.iter().any(|i| i.number == number) {
                e.identifiers.push(Identifier {
                    kind: kind.to_string(),
                    number: number.to_string(),
                    country: None,
                });
            }
        }
    }
    let regime = field(r, c.regime);
    if !regime.is_empty() && !e.programs.iter().any(|p| p == regime) {
        e.programs.push(regime.to_string());
    }
}

/// Splits "(1) Afghanistan (2) Pakistan" into its values; a plain value stays whole.
fn split_numbered(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    if !rest.starts_with('(') {
        return if rest.is_empty() { out } else { vec![rest] };
    }
    while let Some(close) = rest.find(')') {
        let after = rest.get(close + 1..).unwrap_or("");
        let end = after.find(" (").unwrap_or(after.len());
        let v = after.get(..end).unwrap_or("").trim();
        if !v.is_empty() {
            out.push(v);
        }
        rest = after.get(end..).unwrap_or("").trim_start();
        if !rest.starts_with('(') {
            break;
        }
    }
    out
}

/// `dd/mm/yyyy` with `00` for unknown day or month.
fn parse_uk_date(s: &str) -> Option<BirthDateFact> {
    let parts: Vec<&str> = s.split('/').map(str::trim).collect();
    let [d, m, y] = parts.as_slice() else {
        return None;
    };
    let year = y
        .parse::<u16>()
        .ok()
        .filter(|y| (1000..=2999).contains(y))?;
    let month = m.parse::<u8>().ok().filter(|m| (1..=12).contains(m));
    let day = d.parse::<u8>().ok().filter(|d| *d > 0);
    Some(match (month, day) {
        (Some(m), Some(d)) => BirthDateFact::Exact {
            date: Date::from_ymd(year, m, d).ok()?,
        },
        (Some(month), None) => BirthDateFact::Month { year, month },
        _ => BirthDateFact::Year { year },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "Last Updated,15/01/2026\r\n\
Name 6,Name 1,Name 2,Name 3,Name 4,Name 5,Title,Name Non-Latin Script,Non-Latin Script Type,Non-Latin Script Language,DOB,Town of Birth,Country of Birth,Nationality,Passport Number,Passport Details,National Identification Number,National Identification Details,Position,Address 1,Address 2,Address 3,Address 4,Address 5,Address 6,Post/Zip Code,Country,Other Information,Group Type,Alias Type,Alias Quality,Regime,Listed On,UK Sanctions List Date Designated,Last Updated,Group ID\r\n\
HAQQANI,Abdul,Rahim,,,,Maulavi,عبد الرحيم حقاني,Arabic,,00/00/1968,Khost,Afghanistan,(1) Afghanistan (2) Pakistan,\"(1) AA111 (2) BB222\",,,,,,,,,,,,,\"Some, text\",Individual,Primary name,,Afghanistan,01/02/2001,,01/02/2021,7001\r\n\
HAQANI,Abdurrahim,,,,,,,,,00/00/1968,,,,,,,,,,,,,,,,,,Individual,AKA,Good,Afghanistan,01/02/2001,,01/02/2021,7001\r\n\
RAHIM,,,,,,,,,,,,,,,,,,,,,,,,,,,,Individual,AKA,Low,Afghanistan,01/02/2001,,01/02/2021,7001\r\n\
EXAMPLE SHIPPING CO,,,,,,,,,,,,,,,,,,,,,,,,,,,,Entity,Primary name,,Russia,01/03/2022,,01/03/2022,7002\r\n\
,,,,,,,,,,,,,,,,,,,,,,,,,,,,Entity,Primary name,,Russia,01/03/2022,,01/03/2022,7003\r\n";

    #[test]
    fn a_uk_sample_loads_grouped_by_group_id() {
        let list = load_uk(SAMPLE.as_bytes()).unwrap();
        assert_eq!(list.stats.entities, 2);
        assert_eq!(list.stats.skipped_records, 1, "a target without a name");
        let p = &list.entities[0];
        assert_eq!(p.id, "7001");
        let names: Vec<(&str, NameKind)> =
            p.names.iter().map(|n| (n.text.as_str(), n.kind)).collect();
        assert_eq!(
            names,
            vec![
                ("Abdul Rahim HAQQANI", NameKind::Primary),
                ("عبد الرحيم حقاني", NameKind::OriginalScript),
                ("Abdurrahim HAQANI", NameKind::Alias),
                ("RAHIM", NameKind::WeakAlias),
            ]
        );
        assert_eq!(p.birth_dates, vec![BirthDateFact::Year { year: 1968 }]);
        let nat: Vec<&str> = p.nationalities.iter().map(|c| c.alpha3()).collect();
        assert_eq!(nat, vec!["AFG", "PAK"]);
        assert_eq!(p.identifiers.len(), 2);
        assert_eq!(list.entities[1].schema, Schema::Organisation);
    }

    #[test]
    fn dates_with_unknown_parts_keep_their_precision() {
        assert_eq!(
            parse_uk_date("00/05/1970"),
            Some(BirthDateFact::Month {
                year: 1970,
                month: 5
            })
        );
        assert!(matches!(
            parse_uk_date("12/05/1970"),
            Some(BirthDateFact::Exact { .. })
        ));
        assert_eq!(parse_uk_date("31/02/1970"), None);
        assert_eq!(parse_uk_date("1970"), None);
    }

    #[test]
    fn other_csv_is_refused() {
        assert!(matches!(
            load_uk(b"full_name,first_name\r\nA,B\r\n"),
            Err(LoadError::NotThisFormat { .. })
        ));
    }

    proptest! {
        #[test]
        fn hostile_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = load_uk(&b);
        }

        #[test]
        fn mangled_samples_never_panic(cut in 0usize..1400, flip in 0usize..1400, byte in any::<u8>()) {
            let mut b = SAMPLE.as_bytes().to_vec();
            if let Some(x) = b.get_mut(flip) { *x = byte; }
            b.truncate(cut);
            let _ = load_uk(&b);
        }

        #[test]
        fn numbered_values_split_without_panicking(s in "[()0-9 a-zA-Z,]{0,40}") {
            for v in split_numbered(&s) {
                prop_assert!(!v.is_empty());
            }
        }
    }
}
