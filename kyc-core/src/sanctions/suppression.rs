//! False-positive suppression: a reviewer's decision that a screening result is "not a match"
//! for a customer, tied to the entity and the version of its list. Later screenings of the
//! same customer honour it (the result stays visible, marked suppressed and not a match) until
//! the list changes, when the entity is shown for review again. Every decision applied is
//! returned so the caller records it (audit log).

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::engine::ScreeningResult;
use super::model::{ListKind, ListVersion};
use crate::model::Timestamp;

/// The longest customer, entity or reviewer identifier accepted.
pub const MAX_ID_LEN: usize = 200;

/// A reviewer's "not a match" decision.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suppression {
    /// The customer (e.g. the verification id); an identifier, not a name.
    pub customer_id: String,
    /// The list of the entity.
    pub list: ListKind,
    /// The list's own id of the entity.
    pub entity_id: String,
    /// The version of the list the decision was made on.
    pub list_version: ListVersion,
    /// Who decided (an identifier).
    pub reviewer: String,
    /// When.
    pub decided_at: Timestamp,
}

impl fmt::Debug for Suppression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Suppression")
            .field("list", &self.list)
            .field("entity_id", &self.entity_id)
            .field("list_version", &self.list_version)
            .field("decided_at", &self.decided_at)
            .finish_non_exhaustive()
    }
}

/// What a suppressed result carries: who decided, when, on which list version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuppressionNote {
    /// Who decided.
    pub reviewer: String,
    /// When.
    pub decided_at: Timestamp,
    /// The list version the decision holds for.
    pub list_version: ListVersion,
}

/// Why a decision could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SuppressionError {
    /// A required identifier is empty.
    #[error("{what} is empty")]
    Empty {
        /// Which one.
        what: &'static str,
    },
    /// An identifier is too long.
    #[error("{what} is longer than {MAX_ID_LEN} characters")]
    TooLong {
        /// Which one.
        what: &'static str,
    },
}

type Key = (String, ListKind, String, ListVersion);

/// The decisions in force, looked up by (customer, list, entity, list version).
#[derive(Clone, Debug, Default)]
pub struct Suppressions {
    by_key: HashMap<Key, Suppression>,
}

impl Suppressions {
    /// No decisions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a decision (a later decision for the same key replaces the earlier one).
    pub fn record(&mut self, s: Suppression) -> Result<(), SuppressionError> {
        for (what, v) in [
            ("customer id", &s.customer_id),
            ("entity id", &s.entity_id),
            ("reviewer", &s.reviewer),
        ] {
            if v.trim().is_empty() {
                return Err(SuppressionError::Empty { what });
            }
            if v.chars().count() > MAX_ID_LEN {
                return Err(SuppressionError::TooLong { what });
            }
        }
        let key = (
            s.customer_id.clone(),
            s.list,
            s.entity_id.clone(),
            s.list_version.clone(),
        );
        self.by_key.insert(key, s);
        Ok(())
    }

    /// Every decision, in no particular order.
    pub fn decisions(&self) -> impl Iterator<Item = &Suppression> {
        self.by_key.values()
    }

    /// Marks the results this customer has decisions for (same entity, same list version) as
    /// suppressed and not a match, and returns the decisions applied, for the record.
    ///
    /// ```
    /// use kyc_core::model::Timestamp;
    /// use kyc_core::sanctions::*;
    /// let mut e = Entity::new("7", ListKind::UnConsolidated, Schema::Person);
    /// e.add_name("Jane Example", NameKind::Primary);
    /// let version = ListVersion::of_parts(&[b"un"]);
    /// let index = SanctionsIndex::from_entities(vec![e], version.clone());
    /// let query = ScreeningQuery::by_name("Jane Example");
    /// let mut s = Suppressions::new();
    /// s.record(Suppression { customer_id: "cust-1".into(), list: ListKind::UnConsolidated,
    ///     entity_id: "7".into(), list_version: version, reviewer: "rev-9".into(),
    ///     decided_at: Timestamp::from_secs(1) }).unwrap();
    /// let mut r = index.screen(&query, &ScreenOptions::default());
    /// assert_eq!(s.apply("cust-1", &mut r).len(), 1);
    /// assert!(!r.has_match());
    /// let mut other = index.screen(&query, &ScreenOptions::default());
    /// assert!(s.apply("cust-2", &mut other).is_empty());
    /// assert!(other.has_match());
    /// ```
    pub fn apply(&self, customer_id: &str, result: &mut ScreeningResult) -> Vec<Suppression> {
        let mut applied = Vec::new();
        for m in &mut result.matches {
            let key = (
                customer_id.to_string(),
                m.list,
                m.entity_id.clone(),
                m.list_version.clone(),
            );
            if let Some(s) = self.by_key.get(&key) {
                m.is_match = false;
                m.suppressed = Some(SuppressionNote {
                    reviewer: s.reviewer.clone(),
                    decided_at: s.decided_at,
                    list_version: s.list_version.clone(),
                });
                applied.push(s.clone());
            }
        }
        applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sanctions::{
        Entity, LoadedList, NameKind, SanctionsIndex, Schema, ScreenOptions, ScreeningQuery,
    };

    fn list(bytes: &[u8]) -> LoadedList {
        let mut e = Entity::new("42", ListKind::OfacSdn, Schema::Person);
        e.add_name("DOE, John Michael", NameKind::Primary);
        LoadedList::new(ListKind::OfacSdn, vec![e], 0, &[bytes])
    }

    fn decision(version: &ListVersion) -> Suppression {
        Suppression {
            customer_id: "verif-1".into(),
            list: ListKind::OfacSdn,
            entity_id: "42".into(),
            list_version: version.clone(),
            reviewer: "reviewer-7".into(),
            decided_at: Timestamp::from_secs(1_700_000_000),
        }
    }

    #[test]
    fn a_decision_holds_for_its_customer_until_the_list_changes() {
        let v1 = list(b"v1");
        let mut s = Suppressions::new();
        s.record(decision(&v1.version)).unwrap();
        let q = ScreeningQuery::by_name("John Doe");
        let opts = ScreenOptions::default();

        let index = SanctionsIndex::build(vec![v1]);
        let mut r = index.screen(&q, &opts);
        let applied = s.apply("verif-1", &mut r);
        assert_eq!(applied.len(), 1);
        assert!(!r.matches[0].is_match);
        assert_eq!(
            r.matches[0]
                .suppressed
                .as_ref()
                .map(|n| n.reviewer.as_str()),
            Some("reviewer-7")
        );

        // A new version of the list: the entity is shown for review again.
        let index = SanctionsIndex::build(vec![list(b"v2")]);
        let mut r = index.screen(&q, &opts);
        assert!(s.apply("verif-1", &mut r).is_empty());
        assert!(r.matches[0].is_match);
    }

    #[test]
    fn incomplete_decisions_are_refused_and_debug_hides_the_customer() {
        let mut s = Suppressions::new();
        let mut d = decision(&ListVersion::of_parts(&[b"x"]));
        assert!(!format!("{d:?}").contains("verif-1"));
        d.reviewer = " ".into();
        assert_eq!(
            s.record(d.clone()),
            Err(SuppressionError::Empty { what: "reviewer" })
        );
        d.reviewer = "r".repeat(MAX_ID_LEN + 1);
        assert_eq!(
            s.record(d),
            Err(SuppressionError::TooLong { what: "reviewer" })
        );
        assert_eq!(s.decisions().count(), 0);
    }
}
