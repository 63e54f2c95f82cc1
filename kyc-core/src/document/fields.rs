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

/// The name of one field of [`DocumentFields`] (or of the extra printed fields a reader may
/// find), used by warnings and cross-checks instead of the value itself. Serialises as the
/// camelCase JSON key of the field (`"documentNumber"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum FieldName {
    /// [`DocumentFields::surname`].
    Surname,
    /// [`DocumentFields::given_names`].
    GivenNames,
    /// [`DocumentFields::birth_date`].
    BirthDate,
    /// [`DocumentFields::document_number`].
    DocumentNumber,
    /// [`DocumentFields::expiry_date`].
    ExpiryDate,
    /// [`DocumentFields::nationality`].
    Nationality,
    /// [`DocumentFields::issuing_state`].
    IssuingState,
    /// [`DocumentFields::sex`].
    Sex,
    /// The date of issue (an extra printed field).
    IssueDate,
    /// The place of birth (an extra printed field).
    PlaceOfBirth,
    /// A personal identification number distinct from the document number.
    PersonalNumber,
    /// The issuing authority as printed.
    IssuingAuthority,
    /// The kind of document (passport, identity card, driving licence…).
    DocumentType,
    /// The text of the machine-readable zone.
    Mrz,
}

impl FieldName {
    /// The fields of [`DocumentFields`], in declaration order.
    pub const CORE: [FieldName; 8] = [
        FieldName::Surname,
        FieldName::GivenNames,
        FieldName::BirthDate,
        FieldName::DocumentNumber,
        FieldName::ExpiryDate,
        FieldName::Nationality,
        FieldName::IssuingState,
        FieldName::Sex,
    ];

    /// The camelCase name, as in JSON (`"birthDate"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Surname => "surname",
            Self::GivenNames => "givenNames",
            Self::BirthDate => "birthDate",
            Self::DocumentNumber => "documentNumber",
            Self::ExpiryDate => "expiryDate",
            Self::Nationality => "nationality",
            Self::IssuingState => "issuingState",
            Self::Sex => "sex",
            Self::IssueDate => "issueDate",
            Self::PlaceOfBirth => "placeOfBirth",
            Self::PersonalNumber => "personalNumber",
            Self::IssuingAuthority => "issuingAuthority",
            Self::DocumentType => "documentType",
            Self::Mrz => "mrz",
        }
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DocumentFields {
    /// Whether no field at all was read.
    pub fn is_empty(&self) -> bool {
        self.present().is_empty()
    }

    /// The names of the fields that hold a value, in declaration order.
    pub fn present(&self) -> Vec<FieldName> {
        let flags = [
            self.surname.is_some(),
            self.given_names.is_some(),
            self.birth_date.is_some(),
            self.document_number.is_some(),
            self.expiry_date.is_some(),
            self.nationality.is_some(),
            self.issuing_state.is_some(),
            self.sex.is_some(),
        ];
        FieldName::CORE
            .into_iter()
            .zip(flags)
            .filter_map(|(name, set)| set.then_some(name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_serialise_as_their_json_keys() {
        for name in FieldName::CORE {
            let json = serde_json::to_string(&name).unwrap();
            assert_eq!(json, format!("\"{}\"", name.as_str()));
        }
        // The JSON keys of DocumentFields are the same names.
        let fields = DocumentFields {
            sex: Some(Field::new(
                crate::model::Sex::Female,
                "F",
                99.0,
                FieldSource::Printed,
            )),
            ..DocumentFields::default()
        };
        let v = serde_json::to_value(&fields).unwrap();
        assert!(v.get(FieldName::Sex.as_str()).is_some());
        assert!(v.get(FieldName::IssuingState.as_str()).is_some());
        assert_eq!(fields.present(), vec![FieldName::Sex]);
        assert!(!fields.is_empty());
        assert!(DocumentFields::default().is_empty());
    }

    #[test]
    fn field_debug_hides_the_value_and_the_original_text() {
        let f = Field::new("SECRET", "SECRET", f32::NAN, FieldSource::Mrz);
        let dbg = format!("{f:?}");
        assert!(!dbg.contains("SECRET"), "{dbg}");
        assert_eq!(f.confidence, 0.0);
    }
}
