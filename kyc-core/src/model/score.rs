//! Scores on the 0–100 scale shared by every face engine: `Similarity` and `Threshold`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ValueError;

/// A similarity between 0 and 100 (inclusive), never NaN.
///
/// ```
/// use kyc_core::model::{Similarity, Threshold};
/// let s = Similarity::parse(91.5).unwrap();
/// assert!(s.meets(Threshold::DEFAULT));
/// assert!(Similarity::parse(100.1).is_err());
/// assert!(Similarity::parse(f32::NAN).is_err());
/// ```
#[derive(Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Similarity(f32);

impl Similarity {
    /// The lowest similarity.
    pub const ZERO: Self = Self(0.0);
    /// The highest similarity.
    pub const MAX: Self = Self(100.0);

    /// Accepts a value in 0..=100.
    pub fn parse(v: f32) -> Result<Self, ValueError> {
        if v.is_finite() && (0.0..=100.0).contains(&v) {
            Ok(Self(v))
        } else {
            Err(ValueError::OutOfRange { what: "similarity" })
        }
    }

    /// Clamps any finite value into 0..=100 (NaN becomes 0): for engine outputs that may
    /// overshoot by rounding.
    pub fn saturating(v: f32) -> Self {
        if v.is_nan() {
            Self(0.0)
        } else {
            Self(v.clamp(0.0, 100.0))
        }
    }

    /// The value in 0..=100.
    pub fn value(self) -> f32 {
        self.0
    }

    /// Whether this similarity reaches the threshold.
    pub fn meets(self, t: Threshold) -> bool {
        self.0 >= t.0
    }
}

impl fmt::Debug for Similarity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Similarity({})", self.0)
    }
}

impl fmt::Display for Similarity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

impl Serialize for Similarity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f32(self.0)
    }
}

impl<'de> Deserialize<'de> for Similarity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(f32::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A decision threshold on the 0–100 scale.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
pub struct Threshold(f32);

impl Threshold {
    /// The default face-match threshold: 85.
    pub const DEFAULT: Self = Self(85.0);

    /// Accepts a value in 0..=100.
    pub fn parse(v: f32) -> Result<Self, ValueError> {
        if v.is_finite() && (0.0..=100.0).contains(&v) {
            Ok(Self(v))
        } else {
            Err(ValueError::OutOfRange { what: "threshold" })
        }
    }

    /// The value in 0..=100.
    pub fn value(self) -> f32 {
        self.0
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Debug for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Threshold({})", self.0)
    }
}

impl Serialize for Threshold {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f32(self.0)
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(f32::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn saturating_always_yields_a_valid_similarity(v in proptest::num::f32::ANY) {
            let s = Similarity::saturating(v);
            prop_assert!(Similarity::parse(s.value()).is_ok());
        }
    }

    #[test]
    fn threshold_boundary_is_inclusive() {
        assert!(Similarity::parse(85.0).unwrap().meets(Threshold::DEFAULT));
        assert!(!Similarity::parse(84.99).unwrap().meets(Threshold::DEFAULT));
    }
}
