//! Loader of the UN Security Council consolidated list XML (`CONSOLIDATED_LIST` with
//! `INDIVIDUALS` and `ENTITIES`): names from `FIRST_NAME`…`FOURTH_NAME`, original-script names,
//! aliases with their quality (`Good`/`a.k.a.` strong, `Low` weak, `f.k.a.` former), dates of
//! birth `EXACT` / `APPROXIMATELY` / `BETWEEN`, nationalities and documents.

use super::country::country_from_text;
use super::model::{
    decode_text, BirthDateFact, Entity, Identifier, ListKind, LoadError, LoadedList, NameKind,
    Schema, MAX_LIST_BYTES,
};
use super::xml::{self, Element};
use crate::model::Date;

const FORMAT: &str = "UN consolidated XML";

/// Loads the UN consolidated list. The entity id is the `DATAID`; the reference number
/// (`QDi.001`…) is kept as an identifier of kind `UN reference number`.
///
/// ```
/// use kyc_core::sanctions::load_un;
/// let xml = br#"<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID>
///   <FIRST_NAME>ERIC</FIRST_NAME><SECOND_NAME>BADEGE</SECOND_NAME>
///   <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><YEAR>1971</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
/// </INDIVIDUAL></INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>"#;
/// let list = load_un(xml).unwrap();
/// assert_eq!(list.entities[0].primary_name(), "ERIC BADEGE");
/// assert_eq!(list.stats.birth_dates, 1);
/// ```
pub fn load_un(bytes: &[u8]) -> Result<LoadedList, LoadError> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(LoadError::TooLarge {
            max_bytes: MAX_LIST_BYTES,
        });
    }
    let text = decode_text(bytes);
    let root = xml::parse(&text, FORMAT)?;
    if root.name != "CONSOLIDATED_LIST" {
        return Err(LoadError::NotThisFormat { format: FORMAT });
    }
    let mut entities = Vec::new();
    let mut skipped = 0;
    let groups = [
        ("INDIVIDUALS", "INDIVIDUAL", Schema::Person),
        ("ENTITIES", "ENTITY", Schema::Organisation),
    ];
    for (group, item, schema) in groups {
        for g in root.all(group) {
            for el in g.all(item) {
                match entity(el, schema) {
                    Some(e) => entities.push(e),
                    None => skipped += 1,
                }
            }
        }
    }
    if entities.is_empty() {
        return Err(LoadError::NoEntities { format: FORMAT });
    }
    Ok(LoadedList::new(
        ListKind::UnConsolidated,
        entities,
        skipped,
        &[bytes],
    ))
}

fn entity(el: &Element, schema: Schema) -> Option<Entity> {
    let id = el.child_text("DATAID");
    if id.is_empty() || id.len() > 40 {
        return None;
    }
    let mut e = Entity::new(id, ListKind::UnConsolidated, schema);
    let name: Vec<&str> = ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"]
        .iter()
        .map(|n| el.child_text(n))
        .filter(|t| !t.is_empty())
        .collect();
    if name.is_empty() {
        return None;
    }
    e.add_name(&name.join(" "), NameKind::Primary);
    e.add_name(
        el.child_text("NAME_ORIGINAL_SCRIPT"),
        NameKind::OriginalScript,
    );
    let list_type = el.child_text("UN_LIST_TYPE");
    if !list_type.is_empty() {
        e.programs.push(list_type.to_string());
    }
    let reference = el.child_text("REFERENCE_NUMBER");
    if !reference.is_empty() {
        e.identifiers.push(Identifier {
            kind: "UN reference number".to_string(),
            number: reference.to_string(),
            country: None,
        });
    }
    for alias in el.all("INDIVIDUAL_ALIAS").chain(el.all("ENTITY_ALIAS")) {
        let kind = match alias.child_text("QUALITY").to_ascii_lowercase().as_str() {
            "low" => NameKind::WeakAlias,
            "f.k.a." => NameKind::Former,
            _ => NameKind::Alias,
        };
        e.add_name(alias.child_text("ALIAS_NAME"), kind);
        if let Ok(d) = Date::parse(alias.child_text("DATE_OF_BIRTH")) {
            e.add_birth_date(BirthDateFact::Exact { date: d });
        }
    }
    for nat in el.all("NATIONALITY") {
        for v in nat.all("VALUE") {
            if let Some(c) = country_from_text(v.text.trim()) {
                e.add_nationality(c);
            }
        }
    }
    for dob in el.all("INDIVIDUAL_DATE_OF_BIRTH") {
        if let Some(d) = birth_date(dob) {
            e.add_birth_date(d);
        }
    }
    for doc in el.all("INDIVIDUAL_DOCUMENT") {
        let number = doc.child_text("NUMBER");
        if number.is_empty() || number.len() > 64 {
            continue;
        }
        let country = [
            doc.child_text("ISSUING_COUNTRY"),
            doc.child_text("COUNTRY_OF_ISSUE"),
        ]
        .into_iter()
        .find_map(country_from_text);
        let kind = doc.child_text("TYPE_OF_DOCUMENT");
        e.identifiers.push(Identifier {
            kind: if kind.is_empty() { "Document" } else { kind }.to_string(),
            number: number.to_string(),
            country,
        });
    }
    Some(e)
}

fn year(s: &str) -> Option<u16> {
    s.trim()
        .parse::<u16>()
        .ok()
        .filter(|y| (1000..=2999).contains(y))
}

fn birth_date(el: &Element) -> Option<BirthDateFact> {
    let kind = el.child_text("TYPE_OF_DATE").to_ascii_uppercase();
    let date = Date::parse(el.child_text("DATE")).ok();
    let y = year(el.child_text("YEAR")).or(date.map(Date::year));
    match kind.as_str() {
        "BETWEEN" => {
            let (from, to) = (
                year(el.child_text("FROM_YEAR"))?,
                year(el.child_text("TO_YEAR"))?,
            );
            Some(BirthDateFact::Range {
                from: from.min(to),
                to: from.max(to),
            })
        }
        "APPROXIMATELY" => Some(BirthDateFact::Circa { year: y? }),
        _ => match date {
            Some(date) => Some(BirthDateFact::Exact { date }),
            None => Some(BirthDateFact::Year { year: y? }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:09.554Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>6908555</DATAID>
      <FIRST_NAME>ABDUL</FIRST_NAME><SECOND_NAME>SATTAR</SECOND_NAME><THIRD_NAME/>
      <UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>QDi.999</REFERENCE_NUMBER>
      <NAME_ORIGINAL_SCRIPT>عبد الستار</NAME_ORIGINAL_SCRIPT>
      <NATIONALITY><VALUE>Afghanistan</VALUE><VALUE>Iran (Islamic Republic of)</VALUE></NATIONALITY>
      <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Abdul Satar</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Sattar</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ALIAS><QUALITY/><ALIAS_NAME/></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1964-03-01</DATE></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE><YEAR>1966</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1969</FROM_YEAR><TO_YEAR>1967</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>OR 123</NUMBER><ISSUING_COUNTRY>Pakistan</ISSUING_COUNTRY></INDIVIDUAL_DOCUMENT>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY><DATAID>1</DATAID><FIRST_NAME>ACME &amp; SONS</FIRST_NAME>
      <ENTITY_ALIAS><QUALITY>f.k.a.</QUALITY><ALIAS_NAME>OLD ACME</ALIAS_NAME></ENTITY_ALIAS></ENTITY>
    <ENTITY><DATAID>2</DATAID></ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>"#;

    #[test]
    fn a_un_sample_loads_with_all_facts() {
        let list = load_un(SAMPLE.as_bytes()).unwrap();
        assert_eq!(list.stats.entities, 2);
        assert_eq!(list.stats.skipped_records, 1, "an entity without a name");
        let p = &list.entities[0];
        let names: Vec<(&str, NameKind)> =
            p.names.iter().map(|n| (n.text.as_str(), n.kind)).collect();
        assert_eq!(
            names,
            vec![
                ("ABDUL SATTAR", NameKind::Primary),
                ("عبد الستار", NameKind::OriginalScript),
                ("Abdul Satar", NameKind::Alias),
                ("Sattar", NameKind::WeakAlias),
            ]
        );
        assert_eq!(
            p.birth_dates,
            vec![
                BirthDateFact::Exact {
                    date: Date::from_ymd(1964, 3, 1).unwrap()
                },
                BirthDateFact::Circa { year: 1966 },
                BirthDateFact::Range {
                    from: 1967,
                    to: 1969
                },
            ]
        );
        let nat: Vec<&str> = p.nationalities.iter().map(|c| c.alpha3()).collect();
        assert_eq!(nat, vec!["AFG", "IRN"]);
        assert_eq!(p.identifiers.len(), 2);
        let org = &list.entities[1];
        assert_eq!(org.schema, Schema::Organisation);
        assert_eq!(org.primary_name(), "ACME & SONS");
        assert_eq!(org.names[1].kind, NameKind::Former);
    }

    #[test]
    fn other_xml_is_refused() {
        assert_eq!(
            load_un(b"<export/>").unwrap_err(),
            LoadError::NotThisFormat { format: FORMAT }
        );
        assert!(load_un(b"<CONSOLIDATED_LIST></CONSOLIDATED_LIST>").is_err());
    }

    proptest! {
        #[test]
        fn hostile_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = load_un(&b);
        }

        #[test]
        fn truncated_and_mangled_samples_never_panic(cut in 0usize..2600, flip in 0usize..2600, byte in any::<u8>()) {
            let mut b = SAMPLE.as_bytes().to_vec();
            if let Some(x) = b.get_mut(flip) { *x = byte; }
            b.truncate(cut);
            let _ = load_un(&b);
        }
    }
}
