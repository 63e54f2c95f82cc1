//! Loader of the EU Financial Sanctions Files XML (`export` of `sanctionEntity`, namespace
//! `http://eu.europa.ec/fpi/fsd/export`): subject type person/enterprise, `nameAlias` with
//! `wholeName` (or first/middle/last) and `strong`, `citizenship` ISO codes, `birthdate` with
//! `circa`, full date, year/month/day or a year range, `identification` documents and the
//! `regulation` programmes.

use super::model::{
    decode_text, BirthDateFact, Entity, Identifier, ListKind, LoadError, LoadedList, NameKind,
    Schema, MAX_LIST_BYTES,
};
use super::xml::{self, Element};
use crate::model::{CountryCode, Date};

const FORMAT: &str = "EU financial sanctions XML";

/// Loads the EU consolidated financial sanctions list. The entity id is the `logicalId`; the
/// EU reference number is kept as an identifier of kind `EU reference number`.
///
/// ```
/// use kyc_core::sanctions::load_eu;
/// let xml = br#"<export xmlns="http://eu.europa.ec/fpi/fsd/export"><sanctionEntity logicalId="13">
///   <subjectType code="person"/><nameAlias wholeName="Jane Example" strong="true"/>
///   <birthdate circa="false" birthdate="1960-04-10"/></sanctionEntity></export>"#;
/// let list = load_eu(xml).unwrap();
/// assert_eq!(list.entities[0].primary_name(), "Jane Example");
/// assert_eq!(list.stats.birth_dates, 1);
/// ```
pub fn load_eu(bytes: &[u8]) -> Result<LoadedList, LoadError> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(LoadError::TooLarge {
            max_bytes: MAX_LIST_BYTES,
        });
    }
    let text = decode_text(bytes);
    let root = xml::parse(&text, FORMAT)?;
    if root.name != "export" {
        return Err(LoadError::NotThisFormat { format: FORMAT });
    }
    let mut entities = Vec::new();
    let mut skipped = 0;
    for el in root.all("sanctionEntity") {
        match entity(el) {
            Some(e) => entities.push(e),
            None => skipped += 1,
        }
    }
    if entities.is_empty() {
        return Err(LoadError::NoEntities { format: FORMAT });
    }
    Ok(LoadedList::new(
        ListKind::EuFinancial,
        entities,
        skipped,
        &[bytes],
    ))
}

fn entity(el: &Element) -> Option<Entity> {
    let id = el.attr("logicalId").map(str::trim).unwrap_or("");
    if id.is_empty() || id.len() > 40 {
        return None;
    }
    let schema = match el
        .first("subjectType")
        .and_then(|s| s.attr("code"))
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("person") => Schema::Person,
        _ => Schema::Organisation,
    };
    let mut e = Entity::new(id, ListKind::EuFinancial, schema);
    let mut first_strong = true;
    for alias in el.all("nameAlias") {
        let whole = alias.attr("wholeName").map(str::trim).unwrap_or("");
        let name = if whole.is_empty() {
            ["firstName", "middleName", "lastName"]
                .iter()
                .filter_map(|k| alias.attr(k))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            whole.to_string()
        };
        let strong = alias.attr("strong").is_none_or(|s| s != "false");
        let kind = match (strong, first_strong) {
            (true, true) => NameKind::Primary,
            (true, false) => NameKind::Alias,
            (false, _) => NameKind::WeakAlias,
        };
        if strong && !name.is_empty() {
            first_strong = false;
        }
        e.add_name(&name, kind);
    }
    if e.names.is_empty() {
        return None;
    }
    // Make sure the first name is the primary one even when the file lists a weak one first.
    if let Some(p) = e.names.iter().position(|n| n.kind == NameKind::Primary) {
        e.names.swap(0, p);
    } else if let Some(n) = e.names.first_mut() {
        n.kind = NameKind::Primary;
    }
    if let Some(r) = el
        .attr("euReferenceNumber")
        .filter(|r| !r.trim().is_empty())
    {
        e.identifiers.push(Identifier {
            kind: "EU reference number".to_string(),
            number: r.trim().to_string(),
            country: None,
        });
    }
    for reg in el.all("regulation") {
        if let Some(p) = reg
            .attr("programme")
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            if !e.programs.iter().any(|x| x == p) {
                e.programs.push(p.to_string());
            }
        }
    }
    for c in el.all("citizenship") {
        if let Some(cc) = iso2(c) {
            e.add_nationality(cc);
        }
    }
    for b in el.all("birthdate") {
        if let Some(d) = birth_date(b) {
            e.add_birth_date(d);
        }
    }
    for doc in el.all("identification") {
        let number = doc.attr("number").map(str::trim).unwrap_or("");
        if number.is_empty() || number.len() > 64 {
            continue;
        }
        let kind = doc
            .attr("identificationTypeDescription")
            .or_else(|| doc.attr("identificationTypeCode"))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .unwrap_or("Document");
        e.identifiers.push(Identifier {
            kind: kind.to_string(),
            number: number.to_string(),
            country: iso2(doc),
        });
    }
    Some(e)
}

/// The `countryIso2Code` of an element; `00` means unknown.
fn iso2(el: &Element) -> Option<CountryCode> {
    let code = el.attr("countryIso2Code")?.trim();
    if code == "00" || code.is_empty() {
        return None;
    }
    CountryCode::parse(code).ok()
}

fn num<T: std::str::FromStr>(el: &Element, key: &str) -> Option<T> {
    el.attr(key).and_then(|v| v.trim().parse::<T>().ok())
}

fn birth_date(b: &Element) -> Option<BirthDateFact> {
    let circa = b.attr("circa") == Some("true");
    let from: Option<u16> = num(b, "yearRangeFrom");
    let to: Option<u16> = num(b, "yearRangeTo");
    if let (Some(from), Some(to)) = (from, to) {
        if (1000..=2999).contains(&from) && (1000..=2999).contains(&to) {
            return Some(BirthDateFact::Range {
                from: from.min(to),
                to: from.max(to),
            });
        }
    }
    let full = b.attr("birthdate").and_then(|d| Date::parse(d).ok());
    let year: Option<u16> = num::<u16>(b, "year")
        .filter(|y| (1000..=2999).contains(y))
        .or(full.map(Date::year));
    let year = year?;
    if circa {
        return Some(BirthDateFact::Circa { year });
    }
    if let Some(date) = full {
        return Some(BirthDateFact::Exact { date });
    }
    let month: Option<u8> = num(b, "monthOfYear").filter(|m| (1..=12).contains(m));
    let day: Option<u8> = num(b, "dayOfMonth");
    Some(match (month, day) {
        (Some(m), Some(d)) => match Date::from_ymd(year, m, d) {
            Ok(date) => BirthDateFact::Exact { date },
            Err(_) => BirthDateFact::Month { year, month: m },
        },
        (Some(month), None) => BirthDateFact::Month { year, month },
        _ => BirthDateFact::Year { year },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<export xmlns="http://eu.europa.ec/fpi/fsd/export" generationDate="2026-01-01T00:00:00.000+01:00" globalFileId="1">
  <sanctionEntity designationDetails="" unitedNationId="" euReferenceNumber="EU.9001.01" logicalId="9001">
    <regulation regulationType="amendment" programme="RUS" logicalId="1"/>
    <subjectType code="person" classificationCode="P"/>
    <nameAlias firstName="Ivan" middleName="Petrovich" lastName="SIDOROV" wholeName="Ivan Petrovich SIDOROV" gender="M" strong="true" logicalId="2"/>
    <nameAlias wholeName="Иван Петрович Сидоров" nameLanguage="RU" strong="true" logicalId="3"/>
    <nameAlias wholeName="Vanya" strong="false" logicalId="4"/>
    <citizenship countryIso2Code="RU" countryDescription="RUSSIAN FEDERATION" logicalId="5"/>
    <citizenship countryIso2Code="00" countryDescription="UNKNOWN" logicalId="6"/>
    <birthdate circa="false" birthdate="1965-03-12" dayOfMonth="12" monthOfYear="3" year="1965" countryIso2Code="RU" logicalId="7"/>
    <birthdate circa="true" year="1966" logicalId="8"/>
    <birthdate circa="false" yearRangeFrom="1960" yearRangeTo="1962" logicalId="9"/>
    <birthdate circa="false" monthOfYear="3" year="1964" logicalId="10"/>
    <identification identificationTypeCode="passport" identificationTypeDescription="National passport" number="750123456" countryIso2Code="RU" logicalId="11"/>
  </sanctionEntity>
  <sanctionEntity euReferenceNumber="EU.9002.02" logicalId="9002">
    <subjectType code="enterprise" classificationCode="E"/>
    <nameAlias wholeName="Example Trading &amp; Shipping LLC" strong="true" logicalId="12"/>
  </sanctionEntity>
  <sanctionEntity logicalId="9003"><subjectType code="person"/></sanctionEntity>
</export>"#;

    #[test]
    fn an_eu_sample_loads_with_all_facts() {
        let list = load_eu(SAMPLE.as_bytes()).unwrap();
        assert_eq!(list.stats.entities, 2);
        assert_eq!(list.stats.skipped_records, 1);
        let p = &list.entities[0];
        assert_eq!(p.id, "9001");
        assert_eq!(p.programs, vec!["RUS"]);
        let kinds: Vec<NameKind> = p.names.iter().map(|n| n.kind).collect();
        assert_eq!(
            kinds,
            vec![NameKind::Primary, NameKind::Alias, NameKind::WeakAlias]
        );
        assert_eq!(p.nationalities.len(), 1);
        assert_eq!(
            p.birth_dates,
            vec![
                BirthDateFact::Exact {
                    date: Date::from_ymd(1965, 3, 12).unwrap()
                },
                BirthDateFact::Circa { year: 1966 },
                BirthDateFact::Range {
                    from: 1960,
                    to: 1962
                },
                BirthDateFact::Month {
                    year: 1964,
                    month: 3
                },
            ]
        );
        assert_eq!(p.identifiers.len(), 2);
        let org = &list.entities[1];
        assert_eq!(org.schema, Schema::Organisation);
        assert_eq!(org.primary_name(), "Example Trading & Shipping LLC");
    }

    #[test]
    fn other_xml_is_refused() {
        assert!(matches!(
            load_eu(b"<CONSOLIDATED_LIST/>"),
            Err(LoadError::NotThisFormat { .. })
        ));
        assert!(matches!(
            load_eu(b"<export></export>"),
            Err(LoadError::NoEntities { .. })
        ));
    }

    proptest! {
        #[test]
        fn hostile_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = load_eu(&b);
        }

        #[test]
        fn mangled_samples_never_panic(cut in 0usize..2400, flip in 0usize..2400, byte in any::<u8>()) {
            let mut b = SAMPLE.as_bytes().to_vec();
            if let Some(x) = b.get_mut(flip) { *x = byte; }
            b.truncate(cut);
            let _ = load_eu(&b);
        }
    }
}
