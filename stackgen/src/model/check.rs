//! Schema constraints on literal property values, checked when a resource is added to a
//! template (so a bad value is reported where it was built, with its property path).
//!
//! The generated resource types carry the constraints of the CloudFormation resource schemas:
//! string length and pattern, numeric range, list length. Values given as intrinsic functions
//! are only known at deploy time and are not checked here.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use regex::Regex;

use super::iam::PolicyDocument;
use super::node::Node;
use super::val::Val;

/// The constraints of one property, as written in its resource schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constraint {
    /// Shortest allowed string, in characters.
    pub min_len: Option<usize>,
    /// Longest allowed string, in characters.
    pub max_len: Option<usize>,
    /// ECMA-262 pattern the string must match (checked when the Rust regex engine accepts it).
    pub pattern: Option<&'static str>,
    /// Smallest allowed number.
    pub minimum: Option<f64>,
    /// Largest allowed number.
    pub maximum: Option<f64>,
    /// Fewest list items.
    pub min_items: Option<usize>,
    /// Most list items.
    pub max_items: Option<usize>,
    /// Constraints on each list item or map value.
    pub items: Option<&'static Constraint>,
}

impl Constraint {
    /// No constraint.
    pub const NONE: Constraint = Constraint {
        min_len: None,
        max_len: None,
        pattern: None,
        minimum: None,
        maximum: None,
        min_items: None,
        max_items: None,
        items: None,
    };
}

/// One broken constraint: where, and which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Property path from the resource, e.g. `Properties.BucketName`.
    pub path: String,
    /// The rule that was broken, e.g. `longer than 63 characters`.
    pub rule: String,
}

/// Collects violations while a value is walked.
#[derive(Debug, Default)]
pub struct Validator {
    path: Vec<String>,
    violations: Vec<Violation>,
}

impl Validator {
    /// A validator with an empty path.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks `value` (under property `name`) against `constraint`.
    pub fn check<T: Check + ?Sized>(&mut self, name: &str, value: &T, constraint: &Constraint) {
        self.path.push(name.to_string());
        value.check(constraint, self);
        self.path.pop();
    }

    /// Records a violation at the current path.
    pub fn fail(&mut self, rule: impl Into<String>) {
        self.violations.push(Violation {
            path: self.path.join("."),
            rule: rule.into(),
        });
    }

    /// The violations found so far.
    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }
}

/// Something whose literal value can be checked against a constraint.
pub trait Check {
    /// Checks the value, recording violations in `v`.
    fn check(&self, c: &Constraint, v: &mut Validator);
}

/// Checks `s` against the ECMA-262 `pattern`. Patterns the Rust engine cannot compile (lookaround,
/// back-references) are not checked here; cfn-lint checks them in CI.
fn matches_pattern(pattern: &'static str, s: &str) -> Option<bool> {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Option<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut guard = match cache.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let re = guard
        .entry(pattern)
        .or_insert_with(|| Regex::new(pattern).ok());
    re.as_ref().map(|re| re.is_match(s))
}

impl Check for Val<String> {
    fn check(&self, c: &Constraint, v: &mut Validator) {
        let Val::Lit(s) = self else { return };
        let len = s.chars().count();
        if let Some(min) = c.min_len {
            if len < min {
                v.fail(format!("shorter than {min} characters"));
            }
        }
        if let Some(max) = c.max_len {
            if len > max {
                v.fail(format!("longer than {max} characters"));
            }
        }
        if let Some(p) = c.pattern {
            if matches_pattern(p, s) == Some(false) {
                v.fail(format!("does not match the pattern {p}"));
            }
        }
    }
}

fn check_number(x: f64, c: &Constraint, v: &mut Validator) {
    if let Some(min) = c.minimum {
        if x < min {
            v.fail(format!("below the minimum {min}"));
        }
    }
    if let Some(max) = c.maximum {
        if x > max {
            v.fail(format!("above the maximum {max}"));
        }
    }
}

impl Check for Val<i64> {
    fn check(&self, c: &Constraint, v: &mut Validator) {
        if let Val::Lit(x) = self {
            // Schema bounds are far below 2^53, so the conversion is exact where it matters.
            check_number(*x as f64, c, v);
        }
    }
}

impl Check for Val<f64> {
    fn check(&self, c: &Constraint, v: &mut Validator) {
        if let Val::Lit(x) = self {
            if !x.is_finite() {
                v.fail("not a finite number");
            }
            check_number(*x, c, v);
        }
    }
}

impl Check for Val<bool> {
    fn check(&self, _: &Constraint, _: &mut Validator) {}
}

impl Check for Node {
    fn check(&self, _: &Constraint, _: &mut Validator) {}
}

impl Check for PolicyDocument {
    fn check(&self, _: &Constraint, _: &mut Validator) {}
}

impl<T: Check> Check for Option<T> {
    fn check(&self, c: &Constraint, v: &mut Validator) {
        if let Some(x) = self {
            x.check(c, v);
        }
    }
}

impl<T: Check> Check for Box<T> {
    fn check(&self, c: &Constraint, v: &mut Validator) {
        (**self).check(c, v);
    }
}

impl<T: Check> Check for Vec<T> {
    fn check(&self, c: &Constraint, v: &mut Validator) {
        if let Some(min) = c.min_items {
            if self.len() < min {
                v.fail(format!("fewer than {min} items"));
            }
        }
        if let Some(max) = c.max_items {
            if self.len() > max {
                v.fail(format!("more than {max} items"));
            }
        }
        let item = c.items.unwrap_or(&Constraint::NONE);
        for (i, x) in self.iter().enumerate() {
            v.check(&i.to_string(), x, item);
        }
    }
}

impl<T: Check> Check for BTreeMap<String, T> {
    fn check(&self, c: &Constraint, v: &mut Validator) {
        let item = c.items.unwrap_or(&Constraint::NONE);
        for (k, x) in self {
            v.check(k, x, item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: Constraint = Constraint {
        min_len: Some(3),
        max_len: Some(5),
        pattern: Some("^[a-z]+$"),
        ..Constraint::NONE
    };

    fn violations<T: Check>(value: &T, c: &Constraint) -> Vec<Violation> {
        let mut v = Validator::new();
        v.check("Name", value, c);
        v.into_violations()
    }

    #[test]
    fn a_string_within_its_constraints_passes() {
        assert!(violations(&Val::from("abcd"), &NAME).is_empty());
    }

    #[test]
    fn too_long_and_badly_shaped_strings_are_reported_with_their_path() {
        let found = violations(&Val::from("ABCDEFG"), &NAME);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().all(|f| f.path == "Name"));
    }

    #[test]
    fn intrinsic_values_are_not_checked_before_deploy() {
        let v: Val<String> = Val::Fn(super::super::val::Intrinsic::Ref("X".into()));
        assert!(violations(&v, &NAME).is_empty());
    }

    #[test]
    fn numbers_outside_the_range_are_reported() {
        let c = Constraint {
            minimum: Some(128.0),
            maximum: Some(10240.0),
            ..Constraint::NONE
        };
        assert_eq!(violations(&Val::from(64i64), &c).len(), 1);
        assert!(violations(&Val::from(1024i64), &c).is_empty());
    }

    #[test]
    fn list_items_are_checked_with_their_index_in_the_path() {
        static ITEM: Constraint = Constraint {
            max_len: Some(2),
            ..Constraint::NONE
        };
        let c = Constraint {
            max_items: Some(1),
            items: Some(&ITEM),
            ..Constraint::NONE
        };
        let found = violations(&vec![Val::from("ok"), Val::from("long")], &c);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[1].path, "Name.1");
    }
}
