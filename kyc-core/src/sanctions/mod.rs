//! Sanctions screening: list loaders into one entity model, name normalisation and
//! transliteration, a fuzzy, explainable matcher with a candidate index, and the
//! [`SanctionsScreener`] port.
//!
//! Everything here is pure: loaders take bytes (the caller reads the files), the matcher takes a
//! query and returns scored matches with explanations. Each loaded list carries a
//! [`ListVersion`] (a content hash) recorded with every screening result.
//!
//! # How a score is made
//! 1. Both names are normalised ([`prepare_name`]): transliterated to Latin letters, folded,
//!    split into tokens with a class (name, particle, title, legal form, generic word, number)
//!    and a phonetic key.
//! 2. Tokens are aligned greedily by similarity, whatever their order (exact, phonetic key,
//!    edit distance, consonants for abjad scripts, initials, two or three tokens written as
//!    one). The name score is the weighted coverage of the better-covered side, lowered by
//!    what the other side leaves unmatched (a little for persons, who often omit middle names;
//!    more for organisations and vessels), by tokens left over on *both* sides (a different
//!    surname), by names aligned across a patronymic particle, and for a single name token
//!    against several. A name made only of legal forms or titles scores 0.
//! 3. In a screening, date of birth and nationality adjust the name score (0–100) in points,
//!    and a weak alias counts 15 % less; see [`QualifierEffect`].
//! 4. A result is a match at or above [`DEFAULT_THRESHOLD`] (75), the one documented default.
//!
//! # Figures
//! `kyc sanctions bench` (in `handlers`) prints the quality and speed figures over the shared
//! benchmark data; the quality figures are also asserted by the tests of `handlers`.

mod country;
mod country_names;
mod csv;
mod engine;
mod eu;
mod matcher;
mod model;
mod normalize;
mod ofac;
mod opensanctions;
mod port;
mod sniff;
mod suppression;
mod uk;
mod un;
mod xml;

pub use country::country_from_text;
pub use engine::{
    default_threshold, Explanation, IndexStats, Match, QualifierEffect, SanctionsIndex,
    ScreenOptions, ScreeningQuery, ScreeningResult, DEFAULT_THRESHOLD, NEAR_MISS_MARGIN,
};
pub use eu::load_eu;
pub use matcher::{name_similarity, name_similarity_as, NameAlignment, TokenAlignment, TokenMatch};
pub use model::{
    BirthDateFact, Entity, EntityName, Identifier, ListKind, ListVersion, LoadError, LoadStats,
    LoadedList, NameKind, Schema, MAX_LIST_BYTES,
};
pub use normalize::{phonetic_key, prepare_name, PreparedName, Token, TokenClass, MAX_NAME_CHARS};
pub use ofac::{load_ofac, OfacFiles};
pub use opensanctions::{load_opensanctions_ftm, load_opensanctions_simple};
pub use port::{SanctionsScreener, ScreeningError};
pub use sniff::{sniff, ListFileKind, SNIFF_BYTES};
pub use suppression::{Suppression, SuppressionError, SuppressionNote, Suppressions, MAX_ID_LEN};
pub use uk::load_uk;
pub use un::load_un;

/// Reads CSV text (RFC 4180: quoted fields, `""` escapes, CRLF or LF) into records of fields.
/// Tolerant: it never fails. For the benchmark and fixture files that sit next to the lists.
///
/// ```
/// let rows: Vec<Vec<String>> = kyc_core::sanctions::csv_records("a,\"b, c\"\r\n1,2").collect();
/// assert_eq!(rows, vec![vec!["a".to_string(), "b, c".to_string()], vec!["1".to_string(), "2".to_string()]]);
/// ```
pub fn csv_records(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    csv::records(text).map(|r| r.fields)
}
