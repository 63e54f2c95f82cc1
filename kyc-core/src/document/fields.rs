//! The one record every document reader produces: [`DocumentFields`], each field a typed value
//! with the text it was read from, a confidence (0–100) and its [`FieldSource`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{BirthDate, CountryCode, DocumentNumber, ExpiryDate, PersonName, Sex};

/// Where a field's value was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldSource {
    /// Decoded from the machine-readable zone (check digits apply).
    Mrz,
    /// Read from the printed visual zone (labels and values).
    Printed,
    /// Both sources agreed.
    MrzAndPrinted,
}

/// One field: the typed value, the text it came from (kept for audit and review), how sure the
/// reader was (0–100) and where it came from. Personal data, so `Debug` shows only metadata.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Field<T> {
    /// The normalised value.
    pub value: T,
    /// The text as read, before normalisation.
    pub original: String,
    /// The reader's confidence, 0–100.
    pub confidence: f32,
    /// Where the value was read.
    pub source: FieldSource,
}

impl<T> Field<T> {
    /// A field with its provenance; the confidence is clamped into 0–100 (NaN becomes 0).
    pub fn new(
        value: T,
        original: impl Into<String>,
        confidence: f32,
        source: FieldSource,
    ) -> Self {
        let confidence = if confidence.is_nan() {
            0.0
        } else {
            confidence.clamp(0.0, 100.0)
        };
        Self {
            value,
            original: original.into(),
            confidence,
            source,
        }
    }
}

impl<T> fmt::Debug for Field<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("value", &"<redacted>")
            .field("confidence", &self.confidence)
            .field("source", &self.source)
            .finish()
    }
}

/// The fields of an identity document, each present only when it was read and parsed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentFields {
    /// Primary identifier (surname / family name).
    pub surname: Option<Field<PersonName>>,
    /// Secondary identifier (given names, space separated).
    pub given_names: Option<Field<PersonName>>,
    /// Date of birth.
    pub birth_date: Option<Field<BirthDate>>,
    /// Document number.
    pub document_number: Option<Field<DocumentNumber>>,
    /// Date of expiry.
    pub expiry_date: Option<Field<ExpiryDate>>,
    /// Nationality.
    pub nationality: Option<Field<CountryCode>>,
    /// Issuing state or organisation.
    pub issuing_state: Option<Field<CountryCode>>,
    /// Sex.
    pub sex: Option<Field<Sex>>,
}
