//! The one entity model every list loader produces: [`Entity`] with its names, dates of birth,
//! nationalities, identifiers and programmes, plus [`LoadedList`] (entities, counts and the
//! content hash that becomes the `listVersion`).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{CountryCode, Date};

/// The list an entity was published on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ListKind {
    /// OFAC Specially Designated Nationals and Blocked Persons.
    #[serde(rename = "OFAC-SDN")]
    OfacSdn,
    /// OFAC consolidated (non-SDN) lists.
    #[serde(rename = "OFAC-CONS")]
    OfacConsolidated,
    /// UN Security Council consolidated list.
    #[serde(rename = "UN-SC")]
    UnConsolidated,
    /// EU financial sanctions files (FSF).
    #[serde(rename = "EU-FSF")]
    EuFinancial,
    /// UK sanctions list.
    #[serde(rename = "UK-SL")]
    UkSanctions,
    /// An OpenSanctions export (its entities name their source datasets in `programs`).
    #[serde(rename = "OPENSANCTIONS")]
    OpenSanctions,
    /// A third-party screening provider (results only, no list file).
    #[serde(rename = "PROVIDER")]
    Provider,
}

impl ListKind {
    /// The stable code used in JSON output (`OFAC-SDN`, `UN-SC`, …).
    pub fn code(self) -> &'static str {
        match self {
            Self::OfacSdn => "OFAC-SDN",
            Self::OfacConsolidated => "OFAC-CONS",
            Self::UnConsolidated => "UN-SC",
            Self::EuFinancial => "EU-FSF",
            Self::UkSanctions => "UK-SL",
            Self::OpenSanctions => "OPENSANCTIONS",
            Self::Provider => "PROVIDER",
        }
    }
}

impl fmt::Display for ListKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What kind of thing an entity is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Schema {
    /// A natural person.
    Person,
    /// A company, organisation, group or other legal entity.
    Organisation,
    /// A ship.
    Vessel,
    /// An aircraft.
    Aircraft,
}

/// How a name relates to its entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NameKind {
    /// The name the list files the entity under.
    Primary,
    /// A strong alias (a.k.a., good-quality alias).
    Alias,
    /// A weak alias (OFAC weak a.k.a., UN low-quality alias): a nickname or fragment that alone
    /// identifies little.
    WeakAlias,
    /// A former name (f.k.a.).
    Former,
    /// The name in its original, non-Latin script.
    OriginalScript,
}

/// One name of an entity.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityName {
    /// The name as published.
    pub text: String,
    /// Its relation to the entity.
    pub kind: NameKind,
}

impl EntityName {
    /// A name of the given kind.
    pub fn new(text: impl Into<String>, kind: NameKind) -> Self {
        Self {
            text: text.into(),
            kind,
        }
    }
}

impl fmt::Debug for EntityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntityName({:?}, <redacted>)", self.kind)
    }
}

/// A published date of birth with its precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "precision", rename_all = "camelCase")]
pub enum BirthDateFact {
    /// A full date.
    Exact {
        /// The date.
        date: Date,
    },
    /// A month of a year.
    Month {
        /// The year.
        year: u16,
        /// The month, 1–12.
        month: u8,
    },
    /// A year.
    Year {
        /// The year.
        year: u16,
    },
    /// About a year ("circa 1962", UN `APPROXIMATELY`).
    Circa {
        /// The year.
        year: u16,
    },
    /// Some time within a span of years, inclusive ("1957 to 1959", UN `BETWEEN`).
    Range {
        /// First year.
        from: u16,
        /// Last year.
        to: u16,
    },
}

impl BirthDateFact {
    /// Reads a date of birth as customer records write it: `YYYY-MM-DD` (month and day may
    /// have one digit), `YYYY-MM` or `YYYY`. `None` for anything else or an impossible date.
    ///
    /// ```
    /// use kyc_core::sanctions::BirthDateFact;
    /// assert_eq!(BirthDateFact::parse("1969-7-16").map(|d| d.year_span()), Some((1969, 1969)));
    /// assert_eq!(BirthDateFact::parse("1965"), Some(BirthDateFact::Year { year: 1965 }));
    /// assert_eq!(BirthDateFact::parse("1965-02-30"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.trim().split('-').collect();
        let num = |t: &str, max_len: usize| -> Option<u16> {
            (!t.is_empty() && t.len() <= max_len && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse().ok())
                .flatten()
        };
        let year = parts
            .first()
            .filter(|y| y.len() == 4)
            .and_then(|y| num(y, 4))
            .filter(|y| (1000..=2999).contains(y))?;
        match parts.as_slice() {
            [_] => Some(Self::Year { year }),
            [_, m] => {
                let month = u8::try_from(num(m, 2)?)
                    .ok()
                    .filter(|m| (1..=12).contains(m))?;
                Some(Self::Month { year, month })
            }
            [_, m, d] => {
                let date = Date::from_ymd(
                    year,
                    u8::try_from(num(m, 2)?).ok()?,
                    u8::try_from(num(d, 2)?).ok()?,
                )
                .ok()?;
                Some(Self::Exact { date })
            }
            _ => None,
        }
    }

    /// The inclusive span of years this fact allows (circa widens by one year either side).
    pub fn year_span(self) -> (u16, u16) {
        match self {
            Self::Exact { date } => (date.year(), date.year()),
            Self::Month { year, .. } | Self::Year { year } => (year, year),
            Self::Circa { year } => (year.saturating_sub(1), year.saturating_add(1)),
            Self::Range { from, to } => (from.min(to), from.max(to)),
        }
    }
}

/// An identifying document or number (passport, national id, registration number…).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    /// What kind of identifier, as the list words it (`Passport`, `National ID No.`…).
    pub kind: String,
    /// The number as published.
    pub number: String,
    /// The issuing country, when known.
    pub country: Option<CountryCode>,
}

impl fmt::Debug for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identifier({}, <redacted>)", self.kind)
    }
}

/// One listed entity, whatever list it came from.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entity {
    /// The list's own identifier (OFAC ent_num, UN DATAID, EU logical id, UK unique id,
    /// OpenSanctions id).
    pub id: String,
    /// The list it is published on.
    pub list: ListKind,
    /// Person, organisation, vessel or aircraft.
    pub schema: Schema,
    /// Its names; the first is the primary name.
    pub names: Vec<EntityName>,
    /// Published dates of birth (persons).
    pub birth_dates: Vec<BirthDateFact>,
    /// Nationalities and citizenships.
    pub nationalities: Vec<CountryCode>,
    /// Passports and other identifiers.
    pub identifiers: Vec<Identifier>,
    /// Sanctions programmes (or source datasets).
    pub programs: Vec<String>,
}

impl Entity {
    /// An entity with no names or facts yet.
    pub fn new(id: impl Into<String>, list: ListKind, schema: Schema) -> Self {
        Self {
            id: id.into(),
            list,
            schema,
            names: Vec::new(),
            birth_dates: Vec::new(),
            nationalities: Vec::new(),
            identifiers: Vec::new(),
            programs: Vec::new(),
        }
    }

    /// The primary name (the first one), or an empty string when the entity has none.
    pub fn primary_name(&self) -> &str {
        self.names.first().map_or("", |n| n.text.as_str())
    }

    /// Adds a name unless the entity already has the same text.
    pub fn add_name(&mut self, text: &str, kind: NameKind) {
        let t = collapse_spaces(text);
        if !t.is_empty() && !self.names.iter().any(|n| n.text == t) {
            self.names.push(EntityName::new(t, kind));
        }
    }

    /// Adds a nationality once.
    pub fn add_nationality(&mut self, c: CountryCode) {
        if !self.nationalities.contains(&c) {
            self.nationalities.push(c);
        }
    }

    /// Adds a date of birth once.
    pub fn add_birth_date(&mut self, d: BirthDateFact) {
        if !self.birth_dates.contains(&d) {
            self.birth_dates.push(d);
        }
    }
}

impl fmt::Debug for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entity")
            .field("id", &self.id)
            .field("list", &self.list)
            .field("schema", &self.schema)
            .field("names", &self.names.len())
            .field("birth_dates", &self.birth_dates.len())
            .field("nationalities", &self.nationalities)
            .finish_non_exhaustive()
    }
}

/// Collapses runs of whitespace into single spaces and trims.
pub(crate) fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The version of a list (or of several loaded together): `sha256:` and 64 hex digits of the
/// content hash. Recorded with every screening so it can be re-run exactly.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListVersion(String);

impl ListVersion {
    /// The version of some content: the SHA-256 of the parts, each prefixed by its length so
    /// that moving bytes between parts changes the hash.
    pub fn of_parts(parts: &[&[u8]]) -> Self {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        Self(format!("sha256:{}", hex::encode(h.finalize())))
    }

    /// The version of several lists loaded together; independent of their order.
    pub fn combine<'a>(versions: impl IntoIterator<Item = &'a ListVersion>) -> Self {
        let mut v: Vec<&str> = versions.into_iter().map(|v| v.0.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        if let [one] = v.as_slice() {
            return Self((*one).to_string());
        }
        let parts: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
        Self::of_parts(&parts)
    }

    /// Accepts a version as printed (`sha256:` and 64 lowercase hex digits).
    pub fn parse(s: &str) -> Option<Self> {
        let hexpart = s.strip_prefix("sha256:")?;
        (hexpart.len() == 64
            && hexpart
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| Self(s.to_string()))
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ListVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Counts of what a load found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadStats {
    /// Entities loaded.
    pub entities: usize,
    /// Of which persons.
    pub persons: usize,
    /// Of which organisations.
    pub organisations: usize,
    /// Of which vessels and aircraft.
    pub vessels_and_aircraft: usize,
    /// Names of all kinds.
    pub names: usize,
    /// Weak aliases among them.
    pub weak_aliases: usize,
    /// Names in original script among them.
    pub original_script_names: usize,
    /// Dates of birth.
    pub birth_dates: usize,
    /// Rows or records skipped because they were malformed.
    pub skipped_records: usize,
}

impl LoadStats {
    /// Counts the entities.
    pub fn count(entities: &[Entity], skipped_records: usize) -> Self {
        let mut s = Self {
            skipped_records,
            ..Self::default()
        };
        for e in entities {
            s.entities += 1;
            match e.schema {
                Schema::Person => s.persons += 1,
                Schema::Organisation => s.organisations += 1,
                Schema::Vessel | Schema::Aircraft => s.vessels_and_aircraft += 1,
            }
            s.names += e.names.len();
            s.weak_aliases += e
                .names
                .iter()
                .filter(|n| n.kind == NameKind::WeakAlias)
                .count();
            s.original_script_names += e
                .names
                .iter()
                .filter(|n| n.kind == NameKind::OriginalScript)
                .count();
            s.birth_dates += e.birth_dates.len();
        }
        s
    }
}

/// One list, loaded: its entities, counts and version.
#[derive(Clone, Debug)]
pub struct LoadedList {
    /// Which list.
    pub list: ListKind,
    /// The entities, in file order.
    pub entities: Vec<Entity>,
    /// What the load found.
    pub stats: LoadStats,
    /// The content hash of the input.
    pub version: ListVersion,
}

impl LoadedList {
    /// Wraps loaded entities with their counts and the version of the input parts.
    pub fn new(list: ListKind, entities: Vec<Entity>, skipped: usize, parts: &[&[u8]]) -> Self {
        let stats = LoadStats::count(&entities, skipped);
        Self {
            list,
            entities,
            stats,
            version: ListVersion::of_parts(parts),
        }
    }
}

/// Why a list could not be loaded. Messages name the format and position, never the content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The input is larger than the loaders accept.
    #[error("list file is larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit.
        max_bytes: usize,
    },
    /// The input is not in the expected format at all.
    #[error("input is not a {format} file")]
    NotThisFormat {
        /// The expected format.
        format: &'static str,
    },
    /// The input is in the expected format but broken at a position.
    #[error("{format} file is malformed at {position}")]
    Malformed {
        /// The format.
        format: &'static str,
        /// Line or byte offset, as the format counts.
        position: String,
    },
    /// The input held no entity.
    #[error("{format} file holds no entity")]
    NoEntities {
        /// The format.
        format: &'static str,
    },
}

/// The largest list file the loaders accept (the full OpenSanctions export is far larger than
/// any official list; split it or use `targets.simple.csv`).
pub const MAX_LIST_BYTES: usize = 2 << 30;

/// Decodes list bytes as UTF-8, falling back to Latin-1 (older OFAC files) when they are not.
/// A leading byte-order mark and trailing DOS end-of-file bytes (0x1A) are dropped.
pub(crate) fn decode_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let mut b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    while let [rest @ .., 0x1A] = b {
        b = rest;
    }
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(b.iter().map(|&c| char::from(c)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_versions_are_stable_and_combine_in_any_order() {
        let a = ListVersion::of_parts(&[b"abc"]);
        let b = ListVersion::of_parts(&[b"ab", b"c"]);
        assert_ne!(a, b, "part boundaries count");
        assert_eq!(a, ListVersion::of_parts(&[b"abc"]));
        assert_eq!(
            ListVersion::combine([&a, &b]),
            ListVersion::combine([&b, &a])
        );
        assert_eq!(ListVersion::combine([&a]), a);
        assert_eq!(ListVersion::parse(a.as_str()), Some(a));
        assert_eq!(ListVersion::parse("sha256:xyz"), None);
    }

    #[test]
    fn debug_output_of_an_entity_hides_its_names() {
        let mut e = Entity::new("1", ListKind::OfacSdn, Schema::Person);
        e.add_name("SECRET, Name", NameKind::Primary);
        assert!(!format!("{e:?}").contains("SECRET"));
    }

    #[test]
    fn latin1_and_dos_eof_are_decoded() {
        assert_eq!(decode_text(b"caf\xe9\x1a"), "café");
        assert_eq!(decode_text(b"\xEF\xBB\xBFok"), "ok");
    }
}
