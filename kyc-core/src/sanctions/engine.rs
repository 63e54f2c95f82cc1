//! The built-in screening engine: [`SanctionsIndex`] holds loaded lists with every name
//! prepared once and a candidate index (exact token, phonetic key and joined-token keys with
//! inverse document frequencies), so a query looks at a few dozen names instead of the whole
//! corpus. It scores the candidates with the name matcher, applies date of birth and
//! nationality as qualifiers, and explains every result.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use serde::Serialize;

use super::matcher::{compare, describe, round3, NameAlignment};
use super::model::{BirthDateFact, Entity, ListKind, ListVersion, LoadedList, NameKind, Schema};
use super::normalize::{prepare_name, PreparedName, TokenClass};
use crate::model::{CountryCode, Threshold};

/// The engine's one default alert threshold on the 0–100 scale: a result at or above it is a
/// match that needs review. It is fixed here, documented, and not tuned per run.
pub const DEFAULT_THRESHOLD: f32 = 75.0;

/// How far below the threshold a near miss may be and still be reported with `--all`.
pub const NEAR_MISS_MARGIN: f32 = 20.0;

/// How many candidate names (chosen by the index) are scored in full per query.
const CANDIDATES_SCORED: usize = 48;

/// The default threshold as a [`Threshold`].
pub fn default_threshold() -> Threshold {
    Threshold::parse(DEFAULT_THRESHOLD).unwrap_or_default()
}

/// Who or what is screened. Personal data: `Debug` shows only which fields are present.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ScreeningQuery {
    /// The full name as written (any script, any order, "LAST, First" accepted).
    pub name: String,
    /// Date of birth (full date, month or year).
    pub birth_date: Option<BirthDateFact>,
    /// Nationality.
    pub nationality: Option<CountryCode>,
}

impl ScreeningQuery {
    /// A query by name only.
    pub fn by_name(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

impl fmt::Debug for ScreeningQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScreeningQuery")
            .field("name", &"<redacted>")
            .field("birth_date", &self.birth_date.map(|_| "<redacted>"))
            .field("nationality", &self.nationality)
            .finish()
    }
}

/// Options of one screening.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScreenOptions {
    /// Alert threshold (0–100).
    pub threshold: Threshold,
    /// Also return near misses (within [`NEAR_MISS_MARGIN`] below the threshold), marked
    /// `match: false`.
    pub include_near_misses: bool,
    /// At most this many results.
    pub max_results: usize,
}

impl Default for ScreenOptions {
    fn default() -> Self {
        Self {
            threshold: default_threshold(),
            include_near_misses: false,
            max_results: 20,
        }
    }
}

/// The effect of one qualifier on a score.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QualifierEffect {
    /// `birthDate`, `nationality` or `schema`.
    pub qualifier: &'static str,
    /// Points added to (or, negative, taken from) the name score.
    pub effect: f32,
    /// What was found, without the values ("same year, day and month swapped").
    pub detail: &'static str,
}

/// Why a result scored what it scored.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// The list name that matched best.
    pub matched_name: String,
    /// Its kind (primary, alias, weak alias…).
    pub name_kind: NameKind,
    /// The name similarity alone, 0–100.
    pub name_score: f32,
    /// Token-by-token alignment of the query name with the list name.
    pub alignment: NameAlignment,
    /// Adjustment for matching a weak alias, in points (0 when not).
    #[serde(skip_serializing_if = "is_zero")]
    pub weak_alias_effect: f32,
    /// Date of birth, nationality and schema effects.
    pub qualifiers: Vec<QualifierEffect>,
}

fn is_zero(v: &f32) -> bool {
    *v == 0.0
}

impl fmt::Debug for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Explanation")
            .field("name_kind", &self.name_kind)
            .field("name_score", &self.name_score)
            .field("alignment", &self.alignment)
            .field("qualifiers", &self.qualifiers)
            .finish_non_exhaustive()
    }
}

/// One screening result.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Match {
    /// The list's own identifier of the entity.
    pub entity_id: String,
    /// The list.
    pub list: ListKind,
    /// The entity's primary name.
    pub name: String,
    /// Person, organisation, vessel or aircraft.
    pub schema: Schema,
    /// Final score, 0–100.
    pub score: f32,
    /// Version of the list the entity came from (what a reviewer's decision is tied to).
    pub list_version: ListVersion,
    /// Set when a reviewer decided earlier that this entity is not this customer, for this
    /// version of the list: the result is then not a match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<super::suppression::SuppressionNote>,
    /// At or above the threshold.
    #[serde(rename = "match")]
    pub is_match: bool,
    /// Why.
    pub explanation: Explanation,
}

impl fmt::Debug for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Match")
            .field("entity_id", &self.entity_id)
            .field("list", &self.list)
            .field("score", &self.score)
            .field("is_match", &self.is_match)
            .field("explanation", &self.explanation)
            .finish_non_exhaustive()
    }
}

/// The outcome of one screening.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScreeningResult {
    /// Results, best first: matches, then near misses when asked for.
    pub matches: Vec<Match>,
    /// The version of the lists screened against.
    pub list_version: ListVersion,
    /// The threshold applied.
    pub threshold: f32,
}

impl ScreeningResult {
    /// Whether any result reached the threshold.
    pub fn has_match(&self) -> bool {
        self.matches.iter().any(|m| m.is_match)
    }
}

/// A fast, non-cryptographic hasher for the index (keys are not attacker-chosen in a way
/// that matters: a collision only adds a candidate).
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            for (d, s) in b.iter_mut().zip(chunk) {
                *d = *s;
            }
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(b))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

fn key_hash(tag: u8, text: &str) -> u64 {
    let mut h = FxHasher(u64::from(tag).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    h.write(text.as_bytes());
    h.write_u64(text.len() as u64);
    h.finish()
}

const TAG_TEXT: u8 = 1;
const TAG_KEY: u8 = 2;

struct IndexedName {
    entity: u32,
    name: u16,
    prepared: PreparedName,
}

/// Counts of an index build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexStats {
    /// Entities indexed.
    pub entities: usize,
    /// Names indexed.
    pub names: usize,
    /// Distinct index keys.
    pub keys: usize,
    /// Total postings.
    pub postings: usize,
}

/// Loaded lists with their candidate index: the built-in screening engine.
pub struct SanctionsIndex {
    entities: Vec<Entity>,
    /// Version of each source list, and for each entity the index of its source.
    sources: Vec<ListVersion>,
    entity_source: Vec<u16>,
    names: Vec<IndexedName>,
    postings: FxMap<u64, Vec<u32>>,
    version: ListVersion,
    stats: IndexStats,
}

impl fmt::Debug for SanctionsIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SanctionsIndex")
            .field("version", &self.version)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl SanctionsIndex {
    /// Builds the index over loaded lists. The version is the combination of the lists'
    /// versions.
    pub fn build(lists: Vec<LoadedList>) -> Self {
        let version = ListVersion::combine(lists.iter().map(|l| &l.version));
        let mut sources = Vec::new();
        let mut entity_source = Vec::new();
        let mut entities = Vec::new();
        for l in lists {
            let si = u16::try_from(sources.len()).unwrap_or(u16::MAX);
            sources.push(l.version);
            entity_source.extend(std::iter::repeat_n(si, l.entities.len()));
            entities.extend(l.entities);
        }
        let mut index = Self::from_entities(entities, version);
        index.sources = sources;
        index.entity_source = entity_source;
        index
    }

    /// Builds the index over entities of one source with a given version.
    pub fn from_entities(entities: Vec<Entity>, version: ListVersion) -> Self {
        let mut names = Vec::new();
        let mut postings: FxMap<u64, Vec<u32>> = FxMap::default();
        for (ei, e) in entities.iter().enumerate() {
            let Ok(ei) = u32::try_from(ei) else { break };
            for (ni, n) in e.names.iter().enumerate().take(usize::from(u16::MAX)) {
                let prepared = prepare_name(&n.text);
                if prepared.is_empty_of_names() {
                    continue;
                }
                let Ok(id) = u32::try_from(names.len()) else {
                    break;
                };
                for k in index_keys(&prepared) {
                    let list = postings.entry(k).or_default();
                    if list.last() != Some(&id) {
                        list.push(id);
                    }
                }
                names.push(IndexedName {
                    entity: ei,
                    name: ni as u16,
                    prepared,
                });
            }
        }
        for p in postings.values_mut() {
            p.sort_unstable();
            p.dedup();
            p.shrink_to_fit();
        }
        let stats = IndexStats {
            entities: entities.len(),
            names: names.len(),
            keys: postings.len(),
            postings: postings.values().map(Vec::len).sum(),
        };
        Self {
            entity_source: vec![0; entities.len()],
            sources: vec![version.clone()],
            entities,
            names,
            postings,
            version,
            stats,
        }
    }

    /// The version of the lists in the index.
    pub fn version(&self) -> &ListVersion {
        &self.version
    }

    /// Counts of the build.
    pub fn stats(&self) -> IndexStats {
        self.stats
    }

    /// The indexed entities.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// Screens one query.
    ///
    /// ```
    /// use kyc_core::sanctions::{load_ofac, OfacFiles, ListKind, SanctionsIndex, ScreeningQuery, ScreenOptions};
    /// let sdn = b"2674,\"ABBAS, Abu\",\"individual\",\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 10 Dec 1948.\"\r\n";
    /// let list = load_ofac(OfacFiles { primary: sdn, ..Default::default() }, ListKind::OfacSdn).unwrap();
    /// let index = SanctionsIndex::build(vec![list]);
    /// let r = index.screen(&ScreeningQuery::by_name("Abu Abbas"), &ScreenOptions::default());
    /// assert_eq!(r.matches[0].entity_id, "2674");
    /// assert!(r.matches[0].is_match);
    /// ```
    pub fn screen(&self, query: &ScreeningQuery, opts: &ScreenOptions) -> ScreeningResult {
        let threshold = opts.threshold.value();
        let floor = if opts.include_near_misses {
            (threshold - NEAR_MISS_MARGIN).max(1.0)
        } else {
            threshold
        };
        let q = prepare_name(&query.name);
        let mut best: FxMap<u32, Scored> = FxMap::default();
        if !q.is_empty_of_names() {
            for ni in self.candidates(&q) {
                let Some(n) = self.names.get(ni as usize) else {
                    continue;
                };
                let Some(e) = self.entities.get(n.entity as usize) else {
                    continue;
                };
                let name_score = compare(&q, &n.prepared, e.schema).score * 100.0;
                let kind = e.names.get(usize::from(n.name)).map(|x| x.kind);
                let weak = if kind == Some(NameKind::WeakAlias) {
                    -0.15 * name_score
                } else {
                    0.0
                };
                // Cheap bound first: qualifiers add at most 12 points.
                if name_score + weak + 12.0 < floor {
                    continue;
                }
                let quals = qualifiers(query, e);
                let total = name_score + weak + quals.iter().map(|q| q.effect).sum::<f32>();
                let candidate = Scored {
                    total: total.clamp(0.0, 100.0),
                    name: ni,
                    name_score,
                    qualifiers: quals,
                    weak,
                };
                match best.get_mut(&n.entity) {
                    Some(b)
                        if (b.total, b.name_score) >= (candidate.total, candidate.name_score) => {}
                    Some(b) => *b = candidate,
                    None => {
                        best.insert(n.entity, candidate);
                    }
                }
            }
        }
        let mut scored: Vec<(u32, Scored)> =
            best.into_iter().filter(|(_, v)| v.total >= floor).collect();
        scored.sort_by(|a, b| {
            b.1.total
                .total_cmp(&a.1.total)
                .then(b.1.name_score.total_cmp(&a.1.name_score))
                .then(a.0.cmp(&b.0))
        });
        scored.truncate(opts.max_results);
        let matches = scored
            .into_iter()
            .filter_map(|(ei, sc)| {
                let Scored {
                    total,
                    name: ni,
                    name_score,
                    qualifiers,
                    weak,
                } = sc;
                let e = self.entities.get(ei as usize)?;
                let n = self.names.get(ni as usize)?;
                let en = e.names.get(usize::from(n.name))?;
                let al = compare(&q, &n.prepared, e.schema);
                let score = round1(total);
                let source = self.entity_source.get(ei as usize).copied().unwrap_or(0);
                let list_version = self
                    .sources
                    .get(usize::from(source))
                    .unwrap_or(&self.version)
                    .clone();
                Some(Match {
                    entity_id: e.id.clone(),
                    list: e.list,
                    name: e.primary_name().to_string(),
                    schema: e.schema,
                    score,
                    list_version,
                    suppressed: None,
                    is_match: score >= threshold,
                    explanation: Explanation {
                        matched_name: en.text.clone(),
                        name_kind: en.kind,
                        name_score: round1(name_score),
                        alignment: describe(&q, &n.prepared, &al),
                        weak_alias_effect: round1(weak),
                        qualifiers,
                    },
                })
            })
            .collect();
        ScreeningResult {
            matches,
            list_version: self.version.clone(),
            threshold,
        }
    }

    /// The names worth scoring for a query, best first by shared rare keys.
    fn candidates(&self, q: &PreparedName) -> Vec<u32> {
        let n_names = self.names.len().max(1) as f32;
        let common = (self.names.len() / 200).max(300);
        // (keys of one query token, weight)
        let mut groups: Vec<Vec<(u64, f32)>> = Vec::new();
        let toks: Vec<_> = q
            .tokens
            .iter()
            .filter(|t| matches!(t.class, TokenClass::Name | TokenClass::Generic))
            .collect();
        for t in &toks {
            let mut g = vec![(key_hash(TAG_TEXT, &t.text), 1.0)];
            if t.key.len() >= 2 {
                g.push((key_hash(TAG_KEY, &t.key), 0.8));
            }
            groups.push(g);
        }
        for w in toks.windows(2) {
            if let [a, b] = w {
                let joined = format!("{}{}", a.text, b.text);
                groups.push(vec![(key_hash(TAG_TEXT, &joined), 1.0)]);
            }
        }
        // Rare keys first: they insert candidates. Keys more common than `common` only add to
        // candidates already found (by binary search in their sorted postings), so a query
        // never walks a long posting list unless it has nothing rarer.
        let mut keyed: Vec<(&[u32], u16, f32)> = Vec::new();
        for (gi, g) in groups.iter().enumerate() {
            for &(k, w) in g {
                if let Some(list) = self.postings.get(&k) {
                    let idf = (1.0 + n_names / list.len() as f32).ln() * w;
                    keyed.push((list.as_slice(), gi as u16 + 1, idf));
                }
            }
        }
        keyed.sort_by_key(|(list, _, _)| list.len());
        let mut acc: FxMap<u32, (f32, u16)> = FxMap::default();
        for (i, &(list, gi, idf)) in keyed.iter().enumerate() {
            if list.len() <= common || (i == 0 && acc.is_empty()) {
                add_postings(&mut acc, list, gi, idf);
            } else {
                for (id, e) in acc.iter_mut() {
                    if e.1 != gi && list.binary_search(id).is_ok() {
                        e.0 += idf;
                        e.1 = gi;
                    }
                }
            }
        }
        let mut c: Vec<(u32, f32)> = acc.into_iter().map(|(id, (s, _))| (id, s)).collect();
        if c.len() > CANDIDATES_SCORED {
            c.select_nth_unstable_by(CANDIDATES_SCORED - 1, |a, b| {
                b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
            });
            c.truncate(CANDIDATES_SCORED);
        }
        c.into_iter().map(|(id, _)| id).collect()
    }
}

/// The best-scoring name of one entity during a screening.
struct Scored {
    total: f32,
    name: u32,
    name_score: f32,
    qualifiers: Vec<QualifierEffect>,
    weak: f32,
}

fn add_postings(acc: &mut FxMap<u32, (f32, u16)>, list: &[u32], group: u16, idf: f32) {
    for &id in list {
        let e = acc.entry(id).or_insert((0.0, 0));
        if e.1 != group {
            e.0 += idf;
            e.1 = group;
        }
    }
}

/// The index keys of a list name: each name token's text and phonetic key, and adjacent name
/// tokens joined (so "JANDANIEL" finds "JAN DANIEL").
fn index_keys(p: &PreparedName) -> Vec<u64> {
    let toks: Vec<_> = p
        .tokens
        .iter()
        .filter(|t| matches!(t.class, TokenClass::Name | TokenClass::Generic))
        .collect();
    let mut keys = Vec::with_capacity(toks.len() * 3);
    for t in &toks {
        keys.push(key_hash(TAG_TEXT, &t.text));
        if t.key.len() >= 2 {
            keys.push(key_hash(TAG_KEY, &t.key));
        }
    }
    for w in toks.windows(2) {
        if let [a, b] = w {
            keys.push(key_hash(TAG_TEXT, &format!("{}{}", a.text, b.text)));
        }
    }
    keys
}

fn round1(v: f32) -> f32 {
    (v * 10.0).round() / 10.0
}

/// Date of birth, nationality and schema as qualifiers of a name match.
pub(crate) fn qualifiers(q: &ScreeningQuery, e: &Entity) -> Vec<QualifierEffect> {
    let mut out = Vec::new();
    if let Some(qd) = q.birth_date {
        if e.schema != Schema::Person {
            out.push(QualifierEffect {
                qualifier: "schema",
                effect: -10.0,
                detail: "query has a date of birth, list entity is not a person",
            });
        } else if let Some((effect, detail)) = e
            .birth_dates
            .iter()
            .map(|f| birth_date_effect(qd, *f))
            .max_by(|a, b| a.0.total_cmp(&b.0))
        {
            out.push(QualifierEffect {
                qualifier: "birthDate",
                effect,
                detail,
            });
        }
    }
    if let Some(qn) = q.nationality {
        if !e.nationalities.is_empty() {
            let same = e.nationalities.contains(&qn);
            out.push(QualifierEffect {
                qualifier: "nationality",
                effect: if same { 4.0 } else { -8.0 },
                detail: if same {
                    "same nationality"
                } else {
                    "different nationality"
                },
            });
        }
    }
    for x in &mut out {
        x.effect = round3(x.effect);
    }
    out
}

/// The effect of a date of birth on the score: positive when it agrees, negative the further
/// it is off. Day and month swapped and one component off by one count as likely typos.
pub(crate) fn birth_date_effect(q: BirthDateFact, f: BirthDateFact) -> (f32, &'static str) {
    if let (BirthDateFact::Exact { date: a }, BirthDateFact::Exact { date: b }) = (q, f) {
        let (ya, ma, da) = (a.year(), a.month(), a.day());
        let (yb, mb, db) = (b.year(), b.month(), b.day());
        if a == b {
            return (8.0, "same date of birth");
        }
        if ya == yb && ma == db && da == mb {
            return (4.0, "same year, day and month swapped");
        }
        let off_by_one = (ya == yb && ma == mb && da.abs_diff(db) == 1)
            || (ya == yb && da == db && ma.abs_diff(mb) == 1)
            || (ma == mb && da == db && ya.abs_diff(yb) == 1);
        if off_by_one {
            return (2.0, "one component off by one");
        }
        if ya == yb {
            return (0.0, "same year, different day");
        }
        return year_distance_effect(ya.abs_diff(yb));
    }
    let month_of = |x: BirthDateFact| match x {
        BirthDateFact::Exact { date } => Some((date.year(), date.month())),
        BirthDateFact::Month { year, month } => Some((year, month)),
        _ => None,
    };
    if matches!(f, BirthDateFact::Month { .. }) || matches!(q, BirthDateFact::Month { .. }) {
        if let (Some(x), Some(y)) = (month_of(q), month_of(f)) {
            if x == y {
                return (5.0, "same month of birth");
            }
        }
    }
    let (qa, qb) = q.year_span();
    let (fa, fb) = f.year_span();
    if qa <= fb && fa <= qb {
        let detail = match f {
            BirthDateFact::Circa { .. } => "year within the approximate year",
            BirthDateFact::Range { .. } => "year within the range",
            _ => "same year of birth",
        };
        return (4.0, detail);
    }
    let gap = if qb < fa {
        fa - qb
    } else {
        qa.saturating_sub(fb)
    };
    year_distance_effect(gap)
}

fn year_distance_effect(gap: u16) -> (f32, &'static str) {
    match gap {
        0 => (0.0, "same year"),
        1 => (-8.0, "year of birth differs by one"),
        2..=3 => (-15.0, "year of birth differs by two or three"),
        _ => (-30.0, "different year of birth"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Date;

    fn exact(y: u16, m: u8, d: u8) -> BirthDateFact {
        BirthDateFact::Exact {
            date: Date::from_ymd(y, m, d).unwrap(),
        }
    }

    #[test]
    fn birth_dates_raise_or_lower_the_score_by_how_well_they_agree() {
        let listed = exact(1962, 11, 23);
        assert_eq!(birth_date_effect(exact(1962, 11, 23), listed).0, 8.0);
        assert_eq!(birth_date_effect(exact(1962, 11, 22), listed).0, 2.0);
        assert_eq!(birth_date_effect(exact(1963, 11, 23), listed).0, 2.0);
        assert_eq!(
            birth_date_effect(exact(1962, 1, 5), exact(1962, 5, 1)).1,
            "same year, day and month swapped"
        );
        assert_eq!(birth_date_effect(exact(1962, 3, 1), listed).0, 0.0);
        assert_eq!(birth_date_effect(exact(1964, 3, 1), listed).0, -15.0);
        assert_eq!(birth_date_effect(exact(1990, 3, 1), listed).0, -30.0);
        let year = BirthDateFact::Year { year: 1962 };
        assert_eq!(birth_date_effect(year, listed).0, 4.0);
        assert_eq!(
            birth_date_effect(exact(1961, 5, 5), BirthDateFact::Circa { year: 1962 }).1,
            "year within the approximate year"
        );
        assert_eq!(
            birth_date_effect(
                year,
                BirthDateFact::Range {
                    from: 1957,
                    to: 1959
                }
            )
            .0,
            -15.0
        );
    }

    #[test]
    fn query_debug_output_is_redacted() {
        let q = ScreeningQuery {
            name: "Secret Person".into(),
            birth_date: Some(exact(1980, 1, 1)),
            nationality: None,
        };
        let d = format!("{q:?}");
        assert!(!d.contains("Secret") && !d.contains("1980"));
    }
}
