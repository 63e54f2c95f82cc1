//! Loaders of OpenSanctions exports, which cover many more lists than the official files:
//! `entities.ftm.json` (one FollowTheMoney entity per line: `id`, `schema`, `properties` with
//! `name`, `alias`, `weakAlias`, `previousName`, `birthDate`, `nationality`, `citizenship`,
//! `passportNumber`, `idNumber`…, `datasets`, `target`) and `targets.simple.csv` (`id`,
//! `schema`, `name`, `aliases`, `birth_date`, `countries`, `identifiers`, `sanctions`,
//! `dataset`…, several values separated by `;`).
//!
//! Only entities that can be screened are loaded (persons, organisations, companies, legal
//! entities, public bodies, vessels, airplanes); relations, addresses and sanctions records in
//! the JSON export are skipped, and so are entities marked `"target": false`.

use serde_json::Value;

use super::country::country_from_text;
use super::csv::records;
use super::model::{
    decode_text, BirthDateFact, Entity, Identifier, ListKind, LoadError, LoadedList, NameKind,
    Schema, MAX_LIST_BYTES,
};

const FTM: &str = "OpenSanctions FtM JSON";
const SIMPLE: &str = "OpenSanctions targets.simple.csv";

fn schema_of(s: &str) -> Option<Schema> {
    Some(match s {
        "Person" => Schema::Person,
        "Organization" | "Company" | "LegalEntity" | "PublicBody" => Schema::Organisation,
        "Vessel" => Schema::Vessel,
        "Airplane" => Schema::Aircraft,
        _ => return None,
    })
}

/// Loads `entities.ftm.json` (JSON lines). Lines that are not JSON objects are skipped and
/// counted; input in which no line is an entity is refused.
///
/// ```
/// use kyc_core::sanctions::load_opensanctions_ftm;
/// let lines = br#"{"id": "NK-1", "schema": "Person", "properties": {"name": ["Jane Example"], "birthDate": ["1961-02"], "nationality": ["ru"]}, "datasets": ["eu_fsf"], "target": true}
/// {"id": "addr-1", "schema": "Address", "properties": {"full": ["1 Street"]}}"#;
/// let list = load_opensanctions_ftm(lines).unwrap();
/// assert_eq!(list.entities.len(), 1);
/// assert_eq!(list.entities[0].programs, vec!["eu_fsf"]);
/// ```
pub fn load_opensanctions_ftm(bytes: &[u8]) -> Result<LoadedList, LoadError> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(LoadError::TooLarge {
            max_bytes: MAX_LIST_BYTES,
        });
    }
    let text = decode_text(bytes);
    let mut entities = Vec::new();
    let mut skipped = 0;
    let mut any_json = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            skipped += 1;
            continue;
        };
        any_json = true;
        match ftm_entity(&v) {
            Some(e) => entities.push(e),
            None => {
                // Non-target schemas and non-targets are not errors.
                if v.get("schema").and_then(Value::as_str).is_none() {
                    skipped += 1;
                }
            }
        }
    }
    if entities.is_empty() {
        return Err(if any_json {
            LoadError::NoEntities { format: FTM }
        } else {
            LoadError::NotThisFormat { format: FTM }
        });
    }
    Ok(LoadedList::new(
        ListKind::OpenSanctions,
        entities,
        skipped,
        &[bytes],
    ))
}

fn strings<'a>(props: &'a Value, key: &str) -> impl Iterator<Item = &'a str> + 'a {
    props
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn ftm_entity(v: &Value) -> Option<Entity> {
    let id = v.get("id")?.as_str()?.trim();
    if id.is_empty() || id.len() > 200 {
        return None;
    }
    let schema = schema_of(v.get("schema")?.as_str()?)?;
    if v.get("target").and_then(Value::as_bool) == Some(false) {
        return None;
    }
    let props = v.get("properties")?;
    let mut e = Entity::new(id, ListKind::OpenSanctions, schema);
    for n in strings(props, "name") {
        let kind = if e.names.is_empty() {
            NameKind::Primary
        } else {
            NameKind::Alias
        };
        e.add_name(n, kind);
    }
    if e.names.is_empty() {
        let parts: Vec<&str> = ["firstName", "middleName", "fatherName", "lastName"]
            .iter()
            .filter_map(|k| strings(props, k).next())
            .collect();
        e.add_name(&parts.join(" "), NameKind::Primary);
    }
    if e.names.is_empty() {
        return None;
    }
    for n in strings(props, "alias") {
        e.add_name(n, NameKind::Alias);
    }
    for n in strings(props, "previousName") {
        e.add_name(n, NameKind::Former);
    }
    for n in strings(props, "weakAlias") {
        e.add_name(n, NameKind::WeakAlias);
    }
    for d in strings(props, "birthDate") {
        if let Some(d) = BirthDateFact::parse(d.get(..10.min(d.len())).unwrap_or(d)) {
            e.add_birth_date(d);
        }
    }
    for c in strings(props, "nationality").chain(strings(props, "citizenship")) {
        if let Some(cc) = country_from_text(c) {
            e.add_nationality(cc);
        }
    }
    for (key, kind) in [
        ("passportNumber", "Passport"),
        ("idNumber", "National ID"),
        ("registrationNumber", "Registration Number"),
        ("imoNumber", "IMO"),
    ] {
        for n in strings(props, key) {
            if n.len() <= 64 {
                e.identifiers.push(Identifier {
                    kind: kind.to_string(),
                    number: n.to_string(),
                    country: None,
                });
            }
        }
    }
    e.programs = v
        .get("datasets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    Some(e)
}

/// Loads `targets.simple.csv`. Its `countries` column mixes nationality with other country
/// links, so it is not read as nationality (a wrong nationality would lower true matches).
///
/// ```
/// use kyc_core::sanctions::load_opensanctions_simple;
/// let csv = "id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,emails,dataset,first_seen,last_seen,last_change\r\n\
///   NK-1,Person,Jane Example,Jane Exemple;J. Example,1961-02-03;1962,ru,,P123,,,,EU FSF,,,\r\n";
/// let list = load_opensanctions_simple(csv.as_bytes()).unwrap();
/// assert_eq!(list.entities[0].names.len(), 3);
/// assert_eq!(list.entities[0].birth_dates.len(), 2);
/// ```
pub fn load_opensanctions_simple(bytes: &[u8]) -> Result<LoadedList, LoadError> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(LoadError::TooLarge {
            max_bytes: MAX_LIST_BYTES,
        });
    }
    let text = decode_text(bytes);
    let mut rows = records(&text);
    let header = rows
        .next()
        .ok_or(LoadError::NotThisFormat { format: SIMPLE })?;
    let col = |n: &str| header.fields.iter().position(|f| f.trim() == n);
    let (Some(c_id), Some(c_schema), Some(c_name)) = (col("id"), col("schema"), col("name")) else {
        return Err(LoadError::NotThisFormat { format: SIMPLE });
    };
    let (c_aliases, c_birth, c_ids, c_dataset) = (
        col("aliases"),
        col("birth_date"),
        col("identifiers"),
        col("dataset"),
    );
    let multi = |r: &super::csv::Record, c: Option<usize>| -> Vec<String> {
        c.map(|i| r.get(i))
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut entities = Vec::new();
    let mut skipped = 0;
    for r in rows {
        let id = r.get(c_id).trim();
        let Some(schema) = schema_of(r.get(c_schema).trim()) else {
            skipped += 1;
            continue;
        };
        if id.is_empty() || id.len() > 200 {
            skipped += 1;
            continue;
        }
        let mut e = Entity::new(id, ListKind::OpenSanctions, schema);
        e.add_name(r.get(c_name), NameKind::Primary);
        if e.names.is_empty() {
            skipped += 1;
            continue;
        }
        for a in multi(&r, c_aliases) {
            e.add_name(&a, NameKind::Alias);
        }
        for d in multi(&r, c_birth) {
            if let Some(d) = BirthDateFact::parse(&d) {
                e.add_birth_date(d);
            }
        }
        for n in multi(&r, c_ids) {
            if n.len() <= 64 {
                e.identifiers.push(Identifier {
                    kind: "Identifier".to_string(),
                    number: n,
                    country: None,
                });
            }
        }
        e.programs = multi(&r, c_dataset);
        entities.push(e);
    }
    if entities.is_empty() {
        return Err(LoadError::NoEntities { format: SIMPLE });
    }
    Ok(LoadedList::new(
        ListKind::OpenSanctions,
        entities,
        skipped,
        &[bytes],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FTM_SAMPLE: &str = r#"{"id": "NK-abc", "schema": "Person", "caption": "Ivan Example", "properties": {"name": ["Ivan Example"], "alias": ["Иван Пример"], "weakAlias": ["Vanya"], "previousName": ["Ivan Old"], "birthDate": ["1961-02-03", "1962"], "nationality": ["ru"], "citizenship": ["ua"], "passportNumber": ["750123456"]}, "datasets": ["eu_fsf", "gb_hmt_sanctions"], "target": true}
{"id": "NK-def", "schema": "Company", "properties": {"name": ["Example Holdings LLC"], "registrationNumber": ["123"]}, "datasets": ["us_ofac_sdn"], "target": true}
{"id": "NK-rel", "schema": "Person", "properties": {"name": ["Related Person"]}, "target": false}
{"id": "san-1", "schema": "Sanction", "properties": {"program": ["X"]}}
{"id": "NK-parts", "schema": "Person", "properties": {"firstName": ["Anna"], "lastName": ["Beispiel"]}}
not json
"#;

    #[test]
    fn an_ftm_sample_loads_targets_only() {
        let list = load_opensanctions_ftm(FTM_SAMPLE.as_bytes()).unwrap();
        let ids: Vec<&str> = list.entities.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["NK-abc", "NK-def", "NK-parts"]);
        assert_eq!(list.stats.skipped_records, 1, "the line that is not JSON");
        let p = &list.entities[0];
        let kinds: Vec<NameKind> = p.names.iter().map(|n| n.kind).collect();
        assert_eq!(
            kinds,
            vec![
                NameKind::Primary,
                NameKind::Alias,
                NameKind::Former,
                NameKind::WeakAlias
            ]
        );
        assert_eq!(p.birth_dates.len(), 2);
        assert_eq!(p.nationalities.len(), 2);
        assert_eq!(p.programs, vec!["eu_fsf", "gb_hmt_sanctions"]);
        assert_eq!(list.entities[1].schema, Schema::Organisation);
        assert_eq!(list.entities[2].primary_name(), "Anna Beispiel");
    }

    #[test]
    fn text_that_is_not_json_lines_is_refused() {
        assert!(matches!(
            load_opensanctions_ftm(b"id,schema\r\n"),
            Err(LoadError::NotThisFormat { .. })
        ));
        assert!(matches!(
            load_opensanctions_simple(b"full_name\r\nX\r\n"),
            Err(LoadError::NotThisFormat { .. })
        ));
    }

    proptest! {
        #[test]
        fn hostile_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = load_opensanctions_ftm(&b);
            let _ = load_opensanctions_simple(&b);
        }

        #[test]
        fn mangled_samples_never_panic(cut in 0usize..1100, flip in 0usize..1100, byte in any::<u8>()) {
            let mut b = FTM_SAMPLE.as_bytes().to_vec();
            if let Some(x) = b.get_mut(flip) { *x = byte; }
            b.truncate(cut);
            let _ = load_opensanctions_ftm(&b);
        }
    }
}
