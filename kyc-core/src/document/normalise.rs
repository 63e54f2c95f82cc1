//! The generic key/value normaliser shared by every OCR engine: labelled values read from a
//! document (Textract FORMS pairs, AnalyzeID fields, Tesseract lines split at their label) in,
//! one [`NormalisedDocument`] out: typed fields with a confidence each
//! ([`FieldSource::Printed`]), the extra printed fields, dates whose day/month order could not
//! be settled, and warnings (field name + reason, never a value).
//!
//! Rules, in order:
//! - every key goes through [`classify_label`](super::classify_label); unknown labels are
//!   skipped silently (documents print many fields this record does not hold), labels naming
//!   several fields (or whose languages disagree) are skipped with a warning; a bare `Code`
//!   is the issuing-state code only when the document also has a document-type label (the
//!   `Type` box it sits next to on ICAO data pages);
//! - the issuing country (from the hints, else the issuing state read from the document, else
//!   the nationality read from it) decides the day/month order of numeric dates
//!   ([`DateOrder::for_country`]);
//! - several values for one field: the most confident wins (the first on a tie) and, when the
//!   values differ, a [`WarningReason::Conflict`] is recorded;
//! - values that cannot be parsed are dropped with [`WarningReason::Unparseable`]; a document
//!   number that is really a label, a date or has no digit is dropped with
//!   [`WarningReason::NotADocumentNumber`]; a birth date in the future, an issue date in the
//!   future or a date before 1850 is dropped with [`WarningReason::Implausible`];
//! - a date that reads both ways is not guessed: it goes to
//!   [`NormalisedDocument::ambiguous_dates`] with [`WarningReason::AmbiguousDate`]
//!   (see [`NormalisedDocument::resolve_ambiguities`] to settle it with the MRZ);
//! - a date only valid against the expected order keeps 80 % of its confidence
//!   ([`WarningReason::DateOrderUnexpected`]); an issuing state found inside the issuing
//!   authority's text keeps 80 % too.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::countries::{find_country_name, parse_country, CountryProblem};
use super::dates::{parse_leading_date, parse_printed_date, DateOrder, DateRole, PrintedDate};
use super::labels::{classify, Classified, LabelKind};
use super::{DocumentFields, Field, FieldName, FieldSource};
use crate::model::{BirthDate, CountryCode, Date, DocumentNumber, ExpiryDate, PersonName, Sex};
use crate::text;

/// The most pairs looked at; the rest are ignored with [`WarningReason::TooManyPairs`].
pub const MAX_PAIRS: usize = 1000;
/// The longest value looked at, in bytes; longer ones are dropped as unparseable.
pub const MAX_VALUE_LEN: usize = 1000;

/// Confidence kept (as a factor) when a value had to be read in a less certain way.
const PENALTY: f32 = 0.8;

/// One labelled value as an OCR engine read it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyValue {
    /// The label as printed (`"Nom / Surname"`, `"DATE_OF_BIRTH"`).
    pub key: String,
    /// The value as printed.
    pub value: String,
    /// A normalised form of the value given by the engine, preferred for dates when it parses
    /// (Textract AnalyzeID's `NormalizedValue`, e.g. `1980-01-12T00:00:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalized: Option<String>,
    /// The engine's confidence, 0–100.
    pub confidence: f32,
}

impl KeyValue {
    /// A pair without an engine-normalised value.
    pub fn new(key: impl Into<String>, value: impl Into<String>, confidence: f32) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            normalized: None,
            confidence,
        }
    }
}

impl fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyValue")
            .field("key", &"<redacted>")
            .field("value", &"<redacted>")
            .field("confidence", &self.confidence)
            .finish()
    }
}

/// What the caller knows about the document before reading it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormaliseHints {
    /// "Today": two-digit years are resolved against it, birth dates after it are refused.
    pub reference_date: Date,
    /// The issuing country, when known (from the MRZ, the upload form or the document type);
    /// it decides the day/month order of numeric dates.
    pub issuing_country: Option<CountryCode>,
    /// Forces the day/month order, overriding the country's.
    pub date_order: Option<DateOrder>,
}

impl NormaliseHints {
    /// Hints with only a reference date.
    pub fn new(reference_date: Date) -> Self {
        Self {
            reference_date,
            issuing_country: None,
            date_order: None,
        }
    }

    /// The same hints with the issuing country.
    pub fn with_issuing_country(mut self, country: CountryCode) -> Self {
        self.issuing_country = Some(country);
        self
    }

    /// The same hints with a forced day/month order.
    pub fn with_date_order(mut self, order: DateOrder) -> Self {
        self.date_order = Some(order);
        self
    }
}

/// The kind of an identity document, as read from its type field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum DocumentKind {
    /// A passport (ICAO code `P…`).
    Passport,
    /// A national identity card (`I…`, `A…`, `C…`).
    IdentityCard,
    /// A driving licence.
    DrivingLicence,
    /// A residence permit.
    ResidencePermit,
    /// A visa (`V…`).
    Visa,
    /// Something else.
    Other,
}

impl DocumentKind {
    /// Reads a printed document type: an ICAO document code or words in several languages.
    ///
    /// ```
    /// use kyc_core::document::DocumentKind;
    /// assert_eq!(DocumentKind::parse("P"), DocumentKind::Passport);
    /// assert_eq!(DocumentKind::parse("DRIVER LICENSE FRONT"), DocumentKind::DrivingLicence);
    /// assert_eq!(DocumentKind::parse("Carte nationale d'identité"), DocumentKind::IdentityCard);
    /// ```
    pub fn parse(s: &str) -> Self {
        let f = text::fold(s);
        let f = f.trim_matches(|c: char| !c.is_alphanumeric());
        if f.len() <= 2 && f.chars().all(|c| c.is_ascii_uppercase() || c == '<') {
            return match f.chars().next() {
                Some('P') => Self::Passport,
                Some('I' | 'A' | 'C') => Self::IdentityCard,
                Some('V') => Self::Visa,
                Some('D') if f == "DL" => Self::DrivingLicence,
                _ => Self::Other,
            };
        }
        let has = |words: &[&str]| words.iter().any(|w| f.contains(w));
        if has(&[
            "DRIVER",
            "DRIVING",
            "PERMIS DE CONDUIRE",
            "FUHRERSCHEIN",
            "PERMISO DE CONDUC",
            "PATENTE",
            "RIJBEWIJS",
            "CARTA DE CONDUCAO",
            "PRAWO JAZDY",
            "KORKORT",
            "KORTTI",
        ]) {
            Self::DrivingLicence
        } else if has(&[
            "RESIDEN",
            "AUFENTHALT",
            "SEJOUR",
            "SOGGIORNO",
            "VERBLIJF",
            "RESIDENCIA",
        ]) {
            Self::ResidencePermit
        } else if has(&[
            "PASSPORT",
            "PASSEPORT",
            "REISEPASS",
            "PASAPORTE",
            "PASSAPORTO",
            "PASPOORT",
            "PASZPORT",
            "PASSAPORTE",
            "PASS",
        ]) {
            Self::Passport
        } else if has(&[
            "IDENTITY",
            "IDENTITE",
            "IDENTIDAD",
            "IDENTITA",
            "PERSONALAUSWEIS",
            "IDENTITEITSKAART",
            "DOWOD OSOBISTY",
            "ID CARD",
            "DNI",
            "IDENTIFICATION",
        ]) {
            Self::IdentityCard
        } else if has(&["VISA", "VISUM", "VISTO"]) {
            Self::Visa
        } else {
            Self::Other
        }
    }
}

/// Printed fields that [`DocumentFields`] does not hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentExtras {
    /// The kind of document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_type: Option<Field<DocumentKind>>,
    /// The date of issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_date: Option<Field<Date>>,
    /// The place of birth, as printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_birth: Option<Field<String>>,
    /// A personal identification number, as printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_number: Option<Field<String>>,
    /// The issuing authority, as printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_authority: Option<Field<String>>,
    /// The text of the machine-readable zone, lines separated by `\n`, for the MRZ parser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrz_text: Option<Field<String>>,
}

/// A date whose day and month could be either way round.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmbiguousDate {
    /// Which field.
    pub field: FieldName,
    /// The reading with the day first.
    pub day_first: Date,
    /// The reading with the month first.
    pub month_first: Date,
    /// The text as read.
    pub original: String,
    /// The engine's confidence in the text, 0–100.
    pub confidence: f32,
}

impl fmt::Debug for AmbiguousDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmbiguousDate")
            .field("field", &self.field)
            .field("readings", &"<redacted>")
            .field("confidence", &self.confidence)
            .finish()
    }
}

/// Why a warning was raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum WarningReason {
    /// The value could not be parsed for this field.
    Unparseable,
    /// Several different values were read for the field; the most confident was kept.
    Conflict,
    /// The date reads both day-first and month-first.
    AmbiguousDate,
    /// The date only makes sense against the expected day/month order.
    DateOrderUnexpected,
    /// The value is not plausible for the field (a birth date in the future…).
    Implausible,
    /// The value of a document-number field is a label, a date or has no digit.
    NotADocumentNumber,
    /// The value is a field label rather than a value.
    LabelAsValue,
    /// A label names several fields at once.
    AmbiguousLabel,
    /// The expiry date is not after the birth date.
    ExpiryBeforeBirth,
    /// More pairs than [`MAX_PAIRS`]; the rest were ignored.
    TooManyPairs,
    /// A relationship of the OCR output points to a block that does not exist or has the
    /// wrong type.
    BrokenRelationship,
    /// Two blocks of the OCR output share an identifier; the first was kept.
    DuplicateBlockId,
    /// A key or value was too long and was dropped.
    Oversized,
}

impl WarningReason {
    fn describe(self) -> &'static str {
        match self {
            Self::Unparseable => "value could not be parsed",
            Self::Conflict => "conflicting values were read",
            Self::AmbiguousDate => "day and month order is ambiguous",
            Self::DateOrderUnexpected => "date only reads against the expected order",
            Self::Implausible => "value is not plausible",
            Self::NotADocumentNumber => "value is not a document number",
            Self::LabelAsValue => "value is a label",
            Self::AmbiguousLabel => "label names several fields",
            Self::ExpiryBeforeBirth => "expiry date is not after the birth date",
            Self::TooManyPairs => "too many key/value pairs",
            Self::BrokenRelationship => "broken relationship in the ocr output",
            Self::DuplicateBlockId => "duplicate block id in the ocr output",
            Self::Oversized => "key or value too long",
        }
    }
}

/// A non-fatal problem met while reading: which field (when it concerns one) and why. Never
/// holds a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// The field concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldName>,
    /// What happened.
    pub reason: WarningReason,
}

impl Warning {
    /// A warning about a field.
    pub fn field(field: FieldName, reason: WarningReason) -> Self {
        Self {
            field: Some(field),
            reason,
        }
    }

    /// A warning about the input as a whole.
    pub fn general(reason: WarningReason) -> Self {
        Self {
            field: None,
            reason,
        }
    }
}

impl fmt::Display for Warning {
    /// `birthDate: day and month order is ambiguous`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{field}: {}", self.reason.describe()),
            None => f.write_str(self.reason.describe()),
        }
    }
}

/// The result of normalising the fields read from one document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NormalisedDocument {
    /// The fields, each [`FieldSource::Printed`].
    pub fields: DocumentFields,
    /// Printed fields outside [`DocumentFields`].
    pub extras: DocumentExtras,
    /// Dates left out of `fields` because day and month could be either way round.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ambiguous_dates: Vec<AmbiguousDate>,
    /// Non-fatal problems, in the order met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

impl NormalisedDocument {
    /// Settles ambiguous dates with the dates of another reading of the same document (the
    /// MRZ): a reading equal to the other date is taken, with its confidence. Dates that stay
    /// ambiguous are kept.
    pub fn resolve_ambiguities(&mut self, other: &DocumentFields) {
        let mut still = Vec::new();
        for amb in std::mem::take(&mut self.ambiguous_dates) {
            let target = match amb.field {
                FieldName::BirthDate => other.birth_date.as_ref().map(|f| f.value.date()),
                FieldName::ExpiryDate => other.expiry_date.as_ref().map(|f| f.value.date()),
                _ => None,
            };
            let chosen = target.filter(|t| *t == amb.day_first || *t == amb.month_first);
            match (amb.field, chosen) {
                (FieldName::BirthDate, Some(d)) if self.fields.birth_date.is_none() => {
                    self.fields.birth_date = Some(Field::new(
                        BirthDate::new(d),
                        amb.original,
                        amb.confidence,
                        FieldSource::Printed,
                    ));
                }
                (FieldName::ExpiryDate, Some(d)) if self.fields.expiry_date.is_none() => {
                    self.fields.expiry_date = Some(Field::new(
                        ExpiryDate::new(d),
                        amb.original,
                        amb.confidence,
                        FieldSource::Printed,
                    ));
                }
                _ => still.push(amb),
            }
        }
        self.ambiguous_dates = still;
    }

    /// The record as canonical pairs (English labels, normalised values, the confidences
    /// kept): normalising them again gives the same fields.
    pub fn to_pairs(&self) -> Vec<KeyValue> {
        let mut out = Vec::new();
        let f = &self.fields;
        let mut push = |key: &str, value: String, confidence: f32| {
            out.push(KeyValue::new(key, value, confidence));
        };
        if let Some(x) = &f.surname {
            push("Surname", x.value.as_str().to_string(), x.confidence);
        }
        if let Some(x) = &f.given_names {
            push("Given names", x.value.as_str().to_string(), x.confidence);
        }
        if let Some(x) = &f.birth_date {
            push("Date of birth", x.value.date().to_string(), x.confidence);
        }
        if let Some(x) = &f.document_number {
            push(
                "Document number",
                x.value.as_str().to_string(),
                x.confidence,
            );
        }
        if let Some(x) = &f.expiry_date {
            push("Date of expiry", x.value.date().to_string(), x.confidence);
        }
        if let Some(x) = &f.nationality {
            push("Nationality", x.value.alpha3().to_string(), x.confidence);
        }
        if let Some(x) = &f.issuing_state {
            push("Issuing state", x.value.alpha3().to_string(), x.confidence);
        }
        if let Some(x) = &f.sex {
            push("Sex", x.value.code().to_string(), x.confidence);
        }
        let e = &self.extras;
        if let Some(x) = &e.document_type {
            push(
                "Document type",
                kind_word(x.value).to_string(),
                x.confidence,
            );
        }
        if let Some(x) = &e.issue_date {
            push("Date of issue", x.value.to_string(), x.confidence);
        }
        if let Some(x) = &e.place_of_birth {
            push("Place of birth", x.value.clone(), x.confidence);
        }
        if let Some(x) = &e.personal_number {
            push("Personal number", x.value.clone(), x.confidence);
        }
        if let Some(x) = &e.issuing_authority {
            push("Issuing authority", x.value.clone(), x.confidence);
        }
        if let Some(x) = &e.mrz_text {
            push("MRZ", x.value.clone(), x.confidence);
        }
        out
    }
}

fn kind_word(k: DocumentKind) -> &'static str {
    match k {
        DocumentKind::Passport => "PASSPORT",
        DocumentKind::IdentityCard => "IDENTITY CARD",
        DocumentKind::DrivingLicence => "DRIVING LICENCE",
        DocumentKind::ResidencePermit => "RESIDENCE PERMIT",
        DocumentKind::Visa => "VISA",
        DocumentKind::Other => "OTHER",
    }
}

/// Candidates for one field, in the order read.
struct Slot<T> {
    name: FieldName,
    candidates: Vec<Field<T>>,
    /// When two values count as the same (no conflict).
    same: fn(&T, &T) -> bool,
}

impl<T: PartialEq> Slot<T> {
    fn new(name: FieldName) -> Self {
        Self {
            name,
            candidates: Vec::new(),
            same: |a, b| a == b,
        }
    }
}

impl Slot<PersonName> {
    /// Names that differ only in case or diacritics do not conflict.
    fn names(name: FieldName) -> Self {
        Self {
            name,
            candidates: Vec::new(),
            same: |a, b| a.folded() == b.folded(),
        }
    }
}

impl<T> Slot<T> {
    fn push(&mut self, value: T, original: &str, confidence: f32) {
        self.candidates.push(Field::new(
            value,
            original,
            confidence,
            FieldSource::Printed,
        ));
    }

    /// The most confident candidate (first on a tie); a conflict warning when values differ.
    fn pick(self, warnings: &mut Vec<Warning>) -> Option<Field<T>> {
        let mut best: Option<Field<T>> = None;
        let mut conflict = false;
        for c in self.candidates {
            match &mut best {
                None => best = Some(c),
                Some(b) => {
                    if !(self.same)(&b.value, &c.value) {
                        conflict = true;
                    }
                    if c.confidence > b.confidence {
                        *b = c;
                    }
                }
            }
        }
        if conflict {
            warnings.push(Warning::field(self.name, WarningReason::Conflict));
        }
        best
    }
}

/// One pair after its label was understood.
struct Labelled<'a> {
    kind: LabelKind,
    pair: &'a KeyValue,
}

/// Normalises labelled values read from one document into one record.
///
/// ```
/// use kyc_core::document::{normalise_pairs, KeyValue, NormaliseHints};
/// use kyc_core::model::Date;
/// let pairs = [
///     KeyValue::new("Nom / Surname", "MARTIN", 95.0),
///     KeyValue::new("Prénom(s) / Given names", "Maëlys, Gaëlle", 93.0),
///     KeyValue::new("Date de naiss. / Date of birth", "13 07 1990", 91.0),
///     KeyValue::new("Sexe / Sex", "F", 99.0),
///     KeyValue::new("Nationalité / Nationality", "Française", 97.0),
/// ];
/// let doc = normalise_pairs(&pairs, &NormaliseHints::new(Date::from_ymd(2026, 1, 15).unwrap()));
/// let f = &doc.fields;
/// assert_eq!(f.given_names.as_ref().unwrap().value.folded(), "MAELYS GAELLE");
/// assert_eq!(f.given_names.as_ref().unwrap().original, "Maëlys, Gaëlle");
/// assert_eq!(f.nationality.as_ref().unwrap().value.alpha3(), "FRA");
/// assert_eq!(f.birth_date.as_ref().unwrap().value.date().to_string(), "1990-07-13");
/// ```
pub fn normalise_pairs(pairs: &[KeyValue], hints: &NormaliseHints) -> NormalisedDocument {
    let mut warnings = Vec::new();
    let pairs = if pairs.len() > MAX_PAIRS {
        warnings.push(Warning::general(WarningReason::TooManyPairs));
        pairs.get(..MAX_PAIRS).unwrap_or(pairs)
    } else {
        pairs
    };
    let us_numbering = hints.issuing_country.map(|c| c.alpha3() == "USA") == Some(true);
    let classes: Vec<Classified> = pairs
        .iter()
        .map(|pair| classify(&pair.key, us_numbering))
        .collect();
    // A bare `Code` is the issuing-state code of an ICAO data page, where it sits next to the
    // document type (`Type`); without that context it may be any code and is left alone.
    let data_page = classes.contains(&Classified::Field(LabelKind::DocumentType));
    let mut labelled = Vec::with_capacity(pairs.len());
    for (pair, class) in pairs.iter().zip(classes) {
        let kind = match class {
            Classified::Field(kind) => kind,
            Classified::Weak(kind) if data_page => kind,
            Classified::Mixed => {
                warnings.push(Warning::general(WarningReason::AmbiguousLabel));
                continue;
            }
            Classified::Weak(_) | Classified::Unknown => continue,
        };
        if pair.value.len() > MAX_VALUE_LEN {
            warnings.push(Warning::field(field_of(kind), WarningReason::Oversized));
        } else if !pair.value.trim().is_empty()
            || pair
                .normalized
                .as_deref()
                .is_some_and(|n| !n.trim().is_empty())
        {
            labelled.push(Labelled { kind, pair });
        }
    }
    let mut n = Normaliser {
        hints,
        warnings,
        ambiguous: Vec::new(),
        order: hints.date_order,
    };
    n.run(&labelled)
}

struct Normaliser<'h> {
    hints: &'h NormaliseHints,
    warnings: Vec<Warning>,
    ambiguous: Vec<AmbiguousDate>,
    order: Option<DateOrder>,
}

fn field_of(kind: LabelKind) -> FieldName {
    match kind {
        LabelKind::Surname => FieldName::Surname,
        LabelKind::GivenNames | LabelKind::MiddleName => FieldName::GivenNames,
        LabelKind::BirthDate | LabelKind::BirthDateAndPlace => FieldName::BirthDate,
        LabelKind::PlaceOfBirth => FieldName::PlaceOfBirth,
        LabelKind::DocumentNumber => FieldName::DocumentNumber,
        LabelKind::PersonalNumber => FieldName::PersonalNumber,
        LabelKind::ExpiryDate => FieldName::ExpiryDate,
        LabelKind::IssueDate => FieldName::IssueDate,
        LabelKind::Nationality => FieldName::Nationality,
        LabelKind::Sex => FieldName::Sex,
        LabelKind::IssuingState => FieldName::IssuingState,
        LabelKind::IssuingAuthority => FieldName::IssuingAuthority,
        LabelKind::DocumentType => FieldName::DocumentType,
        LabelKind::Mrz => FieldName::Mrz,
    }
}

/// Trims whitespace and the separators OCR leaves around values (`: DUPONT`, `- 12.01.1980`).
fn clean(value: &str) -> &str {
    value
        .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | ';' | '-' | '–' | '|'))
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ':' | ';' | '|' | ','))
}

/// A name with commas between given names turned into spaces.
fn name_text(value: &str) -> String {
    clean(value)
        .split([',', ' '])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_label(value: &str) -> bool {
    // Numbers are never labels here, even though `1` or `4b` are label numbering.
    value.chars().any(char::is_alphabetic) && matches!(classify(value, false), Classified::Field(_))
}

/// A name value that is really a label: a name label (`Surname`, `Prénoms`), or a label of
/// several words (`Date of birth`). Single words that label other fields are real surnames
/// too often (`Land`, `Born`, `Code`) to be refused.
fn is_name_label(value: &str) -> bool {
    match classify(value, false) {
        Classified::Field(LabelKind::Surname | LabelKind::GivenNames | LabelKind::MiddleName) => {
            value.chars().any(char::is_alphabetic)
        }
        Classified::Field(_) => value.split_whitespace().count() >= 2,
        Classified::Weak(_) | Classified::Mixed | Classified::Unknown => false,
    }
}

impl Normaliser<'_> {
    fn warn(&mut self, field: FieldName, reason: WarningReason) {
        let w = Warning::field(field, reason);
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    fn of<'a, 'b>(
        labelled: &'b [Labelled<'a>],
        kinds: &'b [LabelKind],
    ) -> impl Iterator<Item = &'b Labelled<'a>> + 'b {
        labelled.iter().filter(move |l| kinds.contains(&l.kind))
    }

    fn run(&mut self, labelled: &[Labelled<'_>]) -> NormalisedDocument {
        let mut fields = DocumentFields::default();
        let mut extras = DocumentExtras::default();

        // Countries first: the issuing state decides the order of numeric dates.
        fields.issuing_state = self.country(labelled, LabelKind::IssuingState);
        fields.nationality = self.country(labelled, LabelKind::Nationality);
        extras.issuing_authority = self.plain(labelled, LabelKind::IssuingAuthority);
        if fields.issuing_state.is_none() {
            if let Some(a) = &extras.issuing_authority {
                if let Some(code) = find_country_name(&a.value) {
                    fields.issuing_state = Some(Field::new(
                        code,
                        a.original.clone(),
                        a.confidence * PENALTY,
                        FieldSource::Printed,
                    ));
                }
            }
        }
        if self.order.is_none() {
            // The holder's nationality is usually the issuer's too; a fallback only.
            let country = self
                .hints
                .issuing_country
                .or(fields.issuing_state.as_ref().map(|f| f.value))
                .or(fields.nationality.as_ref().map(|f| f.value));
            self.order = country.and_then(|c| DateOrder::for_country(c.alpha3()));
        }

        fields.surname = self.name(labelled, LabelKind::Surname, FieldName::Surname);
        fields.given_names = self.given_names(labelled);
        fields.document_number = self.document_number(labelled);
        fields.sex = self.sex(labelled);

        let (birth, place) = self.birth(labelled);
        fields.birth_date = birth;
        fields.expiry_date = self
            .date(
                labelled,
                LabelKind::ExpiryDate,
                FieldName::ExpiryDate,
                DateRole::Future,
            )
            .map(|f| map_field(f, ExpiryDate::new));
        extras.issue_date = self.date(
            labelled,
            LabelKind::IssueDate,
            FieldName::IssueDate,
            DateRole::Past,
        );
        extras.place_of_birth = place;
        extras.personal_number = self.plain(labelled, LabelKind::PersonalNumber);
        extras.mrz_text = self.mrz(labelled);
        extras.document_type = self.document_type(labelled);

        if let (Some(b), Some(e)) = (&fields.birth_date, &fields.expiry_date) {
            if e.value.date() <= b.value.date() {
                self.warn(FieldName::ExpiryDate, WarningReason::ExpiryBeforeBirth);
            }
        }

        NormalisedDocument {
            fields,
            extras,
            ambiguous_dates: std::mem::take(&mut self.ambiguous),
            warnings: std::mem::take(&mut self.warnings),
        }
    }

    fn country(
        &mut self,
        labelled: &[Labelled<'_>],
        kind: LabelKind,
    ) -> Option<Field<CountryCode>> {
        let name = field_of(kind);
        let mut slot = Slot::new(name);
        for l in Self::of(labelled, &[kind]) {
            let v = clean(&l.pair.value);
            match parse_country(v) {
                Ok(code) => slot.push(code, v, l.pair.confidence),
                Err(CountryProblem::Conflict) => self.warn(name, WarningReason::Conflict),
                Err(CountryProblem::Unknown) => self.warn(name, WarningReason::Unparseable),
            }
        }
        slot.pick(&mut self.warnings)
    }

    fn plain(&mut self, labelled: &[Labelled<'_>], kind: LabelKind) -> Option<Field<String>> {
        let mut slot = Slot::new(field_of(kind));
        for l in Self::of(labelled, &[kind]) {
            let v = clean(&l.pair.value);
            if !v.is_empty() {
                slot.push(v.to_string(), v, l.pair.confidence);
            }
        }
        slot.pick(&mut self.warnings)
    }

    fn parse_name(&mut self, value: &str, name: FieldName) -> Option<PersonName> {
        let text = name_text(value);
        if is_name_label(&text) {
            self.warn(name, WarningReason::LabelAsValue);
            return None;
        }
        match PersonName::parse(&text) {
            Ok(n) => Some(n),
            Err(_) => {
                self.warn(name, WarningReason::Unparseable);
                None
            }
        }
    }

    fn name(
        &mut self,
        labelled: &[Labelled<'_>],
        kind: LabelKind,
        name: FieldName,
    ) -> Option<Field<PersonName>> {
        let mut slot = Slot::names(name);
        for l in Self::of(labelled, &[kind]) {
            if let Some(n) = self.parse_name(&l.pair.value, name) {
                slot.push(n, clean(&l.pair.value), l.pair.confidence);
            }
        }
        slot.pick(&mut self.warnings)
    }

    fn given_names(&mut self, labelled: &[Labelled<'_>]) -> Option<Field<PersonName>> {
        let given = self.name(labelled, LabelKind::GivenNames, FieldName::GivenNames);
        let middle = self.name(labelled, LabelKind::MiddleName, FieldName::GivenNames);
        match (given, middle) {
            (Some(g), Some(m)) => {
                let words: Vec<&str> = g.value.folded().split(' ').collect();
                if m.value.folded().split(' ').all(|w| words.contains(&w)) {
                    return Some(g);
                }
                let joined = format!("{} {}", g.value.as_str(), m.value.as_str());
                match PersonName::parse(&joined) {
                    Ok(n) if !is_name_label(n.as_str()) => Some(Field::new(
                        n,
                        format!("{} {}", g.original, m.original),
                        g.confidence.min(m.confidence),
                        FieldSource::Printed,
                    )),
                    _ => {
                        self.warn(FieldName::GivenNames, WarningReason::Unparseable);
                        Some(g)
                    }
                }
            }
            (g, None) => g,
            (None, m) => m,
        }
    }

    fn document_number(&mut self, labelled: &[Labelled<'_>]) -> Option<Field<DocumentNumber>> {
        let name = FieldName::DocumentNumber;
        let mut slot = Slot::new(name);
        let reference = self.hints.reference_date;
        for l in Self::of(labelled, &[LabelKind::DocumentNumber]) {
            let v = clean(&l.pair.value);
            let looks_like_date = |s: &str| {
                parse_printed_date(s, DateRole::Past, None, reference).is_ok()
                    || parse_printed_date(s, DateRole::Future, None, reference).is_ok()
            };
            if is_label(v) || looks_like_date(v) || !v.chars().any(|c| c.is_ascii_digit()) {
                self.warn(name, WarningReason::NotADocumentNumber);
                continue;
            }
            match DocumentNumber::parse(v) {
                // The normalised form is checked too, so that it reads back the same.
                Ok(n)
                    if n.as_str().len() < 4
                        || looks_like_date(n.as_str())
                        || is_label(n.as_str()) =>
                {
                    self.warn(name, WarningReason::NotADocumentNumber)
                }
                Ok(n) => slot.push(n, v, l.pair.confidence),
                Err(_) => self.warn(name, WarningReason::Unparseable),
            }
        }
        slot.pick(&mut self.warnings)
    }

    fn sex(&mut self, labelled: &[Labelled<'_>]) -> Option<Field<Sex>> {
        let mut slot = Slot::new(FieldName::Sex);
        for l in Self::of(labelled, &[LabelKind::Sex]) {
            let v = clean(&l.pair.value);
            match Sex::parse(v) {
                Ok(s) => slot.push(s, v, l.pair.confidence),
                Err(_) => self.warn(FieldName::Sex, WarningReason::Unparseable),
            }
        }
        slot.pick(&mut self.warnings)
    }

    /// Birth and issue dates lie in the past; no date on a document is before 1850.
    fn plausible(&self, date: Date, role: DateRole) -> bool {
        date.year() >= 1850 && (role == DateRole::Future || date <= self.hints.reference_date)
    }

    /// Reads one date candidate into the slot (or the ambiguity list).
    fn read_date(
        &mut self,
        slot: &mut Slot<Date>,
        read: Option<PrintedDate>,
        original: &str,
        confidence: f32,
        role: DateRole,
    ) {
        let name = slot.name;
        let Some(read) = read else {
            self.warn(name, WarningReason::Unparseable);
            return;
        };
        match read {
            PrintedDate::Exact(d) => {
                if self.plausible(d, role) {
                    slot.push(d, original, confidence);
                } else {
                    self.warn(name, WarningReason::Implausible);
                }
            }
            PrintedDate::AgainstOrder(d) => {
                if self.plausible(d, role) {
                    self.warn(name, WarningReason::DateOrderUnexpected);
                    slot.push(d, original, confidence * PENALTY);
                } else {
                    self.warn(name, WarningReason::Implausible);
                }
            }
            PrintedDate::Ambiguous {
                day_first,
                month_first,
            } => {
                match (
                    self.plausible(day_first, role),
                    self.plausible(month_first, role),
                ) {
                    (true, true) => {
                        self.warn(name, WarningReason::AmbiguousDate);
                        self.ambiguous.push(AmbiguousDate {
                            field: name,
                            day_first,
                            month_first,
                            original: original.to_string(),
                            confidence: clamp_confidence(confidence),
                        });
                    }
                    (true, false) => slot.push(day_first, original, confidence),
                    (false, true) => slot.push(month_first, original, confidence),
                    (false, false) => self.warn(name, WarningReason::Implausible),
                }
            }
        }
    }

    /// A date from the engine's normalised form when it is an ISO date, else from the text.
    fn parse_pair_date(&self, pair: &KeyValue, role: DateRole) -> Option<PrintedDate> {
        if let Some(d) = pair.normalized.as_deref().and_then(iso_prefix) {
            return Some(PrintedDate::Exact(d));
        }
        parse_printed_date(
            clean(&pair.value),
            role,
            self.order,
            self.hints.reference_date,
        )
        .ok()
    }

    fn date(
        &mut self,
        labelled: &[Labelled<'_>],
        kind: LabelKind,
        name: FieldName,
        role: DateRole,
    ) -> Option<Field<Date>> {
        let mut slot = Slot::new(name);
        for l in Self::of(labelled, &[kind]) {
            let read = self.parse_pair_date(l.pair, role);
            self.read_date(
                &mut slot,
                read,
                clean(&l.pair.value),
                l.pair.confidence,
                role,
            );
        }
        let picked = slot.pick(&mut self.warnings);
        if picked.is_some() {
            // A date that was also read unambiguously needs no ambiguity record.
            self.ambiguous.retain(|a| a.field != name);
        }
        picked
    }

    fn birth(
        &mut self,
        labelled: &[Labelled<'_>],
    ) -> (Option<Field<BirthDate>>, Option<Field<String>>) {
        let name = FieldName::BirthDate;
        let role = DateRole::Past;
        let mut slot = Slot::new(name);
        let mut places = Slot::new(FieldName::PlaceOfBirth);
        for l in Self::of(
            labelled,
            &[LabelKind::BirthDate, LabelKind::BirthDateAndPlace],
        ) {
            let v = clean(&l.pair.value);
            if l.kind == LabelKind::BirthDateAndPlace {
                match parse_leading_date(v, role, self.order, self.hints.reference_date) {
                    Some((d, place)) => {
                        self.read_date(&mut slot, Some(d), v, l.pair.confidence, role);
                        let place = clean(place);
                        if !place.is_empty() {
                            places.push(place.to_string(), place, l.pair.confidence);
                        }
                    }
                    None => self.warn(name, WarningReason::Unparseable),
                }
            } else {
                let read = self.parse_pair_date(l.pair, role);
                self.read_date(&mut slot, read, v, l.pair.confidence, role);
            }
        }
        for l in Self::of(labelled, &[LabelKind::PlaceOfBirth]) {
            let v = clean(&l.pair.value);
            if !v.is_empty() {
                places.push(v.to_string(), v, l.pair.confidence);
            }
        }
        let birth = slot.pick(&mut self.warnings);
        if birth.is_some() {
            self.ambiguous.retain(|a| a.field != name);
        }
        (
            birth.map(|f| map_field(f, BirthDate::new)),
            places.pick(&mut self.warnings),
        )
    }

    fn mrz(&mut self, labelled: &[Labelled<'_>]) -> Option<Field<String>> {
        let mut slot = Slot::new(FieldName::Mrz);
        for l in Self::of(labelled, &[LabelKind::Mrz]) {
            let lines: Vec<String> = l
                .pair
                .value
                .lines()
                .map(|line| line.split_whitespace().collect::<String>())
                .filter(|line| !line.is_empty())
                .collect();
            if !lines.is_empty() {
                slot.push(lines.join("\n"), l.pair.value.trim(), l.pair.confidence);
            }
        }
        slot.pick(&mut self.warnings)
    }

    fn document_type(&mut self, labelled: &[Labelled<'_>]) -> Option<Field<DocumentKind>> {
        let mut slot = Slot::new(FieldName::DocumentType);
        for l in Self::of(labelled, &[LabelKind::DocumentType]) {
            let v = clean(&l.pair.value);
            slot.push(DocumentKind::parse(v), v, l.pair.confidence);
        }
        slot.pick(&mut self.warnings)
    }
}

/// `1980-01-12` or `1980-01-12T00:00:00` (Textract's normalised dates).
pub(crate) fn iso_prefix(s: &str) -> Option<Date> {
    let s = s.trim();
    let head = s.get(..10)?;
    let rest = &s[10..];
    if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
        return None;
    }
    Date::parse(head).ok()
}

/// Confidence clamped into 0–100 as [`Field::new`] does (NaN becomes 0).
fn clamp_confidence(c: f32) -> f32 {
    if c.is_nan() {
        0.0
    } else {
        c.clamp(0.0, 100.0)
    }
}

fn map_field<T, U>(f: Field<T>, map: impl FnOnce(T) -> U) -> Field<U> {
    Field {
        value: map(f.value),
        original: f.original,
        confidence: f.confidence,
        source: f.source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hints() -> NormaliseHints {
        NormaliseHints::new(Date::from_ymd(2026, 1, 15).unwrap())
    }

    fn kv(k: &str, v: &str, c: f32) -> KeyValue {
        KeyValue::new(k, v, c)
    }

    fn iso(f: &Option<Field<BirthDate>>) -> Option<String> {
        f.as_ref().map(|f| f.value.date().to_string())
    }

    #[test]
    fn a_german_identity_card_is_normalised() {
        let pairs = [
            kv("Name / Surname / Nom", "MUSTERMANN", 97.5),
            kv("Vornamen / Given names / Prénoms", "ERIKA", 96.0),
            kv(
                "Geburtstag / Date of birth / Date de naissance",
                "12.08.1964",
                95.0,
            ),
            kv(
                "Staatsangehörigkeit / Nationality / Nationalité",
                "DEUTSCH",
                94.0,
            ),
            kv(
                "Gültig bis / Date of expiry / Date d'expiration",
                "01.08.2031",
                93.0,
            ),
            kv(
                "Geburtsort / Place of birth / Lieu de naissance",
                "BERLIN",
                92.0,
            ),
        ];
        let doc = normalise_pairs(&pairs, &hints());
        let f = &doc.fields;
        assert_eq!(f.surname.as_ref().unwrap().value.as_str(), "MUSTERMANN");
        assert_eq!(iso(&f.birth_date).as_deref(), Some("1964-08-12"));
        assert_eq!(
            f.expiry_date.as_ref().unwrap().value.date().to_string(),
            "2031-08-01"
        );
        assert_eq!(f.nationality.as_ref().unwrap().value.alpha3(), "DEU");
        assert_eq!(f.surname.as_ref().unwrap().source, FieldSource::Printed);
        assert_eq!(f.surname.as_ref().unwrap().confidence, 97.5);
        assert_eq!(doc.extras.place_of_birth.as_ref().unwrap().value, "BERLIN");
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    }

    #[test]
    fn ambiguous_dates_are_kept_apart_and_settled_by_the_mrz() {
        let pairs = [kv("DOB", "03/04/1980", 90.0), kv("EXP", "05/06/2030", 91.0)];
        let mut doc = normalise_pairs(&pairs, &hints());
        assert!(doc.fields.birth_date.is_none());
        assert_eq!(doc.ambiguous_dates.len(), 2);
        assert!(doc.warnings.contains(&Warning::field(
            FieldName::BirthDate,
            WarningReason::AmbiguousDate
        )));
        let mrz = DocumentFields {
            birth_date: Some(Field::new(
                BirthDate::new(Date::from_ymd(1980, 3, 4).unwrap()),
                "800304",
                100.0,
                FieldSource::Mrz,
            )),
            ..DocumentFields::default()
        };
        doc.resolve_ambiguities(&mrz);
        assert_eq!(iso(&doc.fields.birth_date).as_deref(), Some("1980-03-04"));
        assert_eq!(doc.fields.birth_date.as_ref().unwrap().confidence, 90.0);
        assert_eq!(
            doc.fields.birth_date.as_ref().unwrap().original,
            "03/04/1980"
        );
        assert_eq!(doc.ambiguous_dates.len(), 1);
        assert_eq!(doc.ambiguous_dates[0].field, FieldName::ExpiryDate);
    }

    #[test]
    fn the_issuing_country_settles_the_order() {
        let pairs = [kv("DOB", "03/04/1980", 90.0)];
        let us = hints().with_issuing_country(CountryCode::parse("USA").unwrap());
        let doc = normalise_pairs(&pairs, &us);
        assert_eq!(iso(&doc.fields.birth_date).as_deref(), Some("1980-03-04"));
        // The country read from the document works too.
        let pairs = [kv("DOB", "03/04/1980", 90.0), kv("Country", "FRA", 90.0)];
        let doc = normalise_pairs(&pairs, &hints());
        assert_eq!(iso(&doc.fields.birth_date).as_deref(), Some("1980-04-03"));
        // An explicit order wins over the country.
        let forced = us.with_date_order(DateOrder::DayFirst);
        let doc = normalise_pairs(&[kv("DOB", "03/04/1980", 90.0)], &forced);
        assert_eq!(iso(&doc.fields.birth_date).as_deref(), Some("1980-04-03"));
    }

    #[test]
    fn a_birth_date_reading_in_the_future_is_not_ambiguous() {
        // 2025-12-01 is in the past, 2025-01-12 too: ambiguous. 12/01/2026 → Dec 1 2026 is in
        // the future, so only 12 January 2026 remains.
        let doc = normalise_pairs(&[kv("DOB", "12/01/2026", 90.0)], &hints());
        assert_eq!(iso(&doc.fields.birth_date).as_deref(), Some("2026-01-12"));
        assert!(doc.ambiguous_dates.is_empty());
    }

    #[test]
    fn dates_against_the_order_lose_confidence() {
        let us = hints().with_issuing_country(CountryCode::parse("USA").unwrap());
        let doc = normalise_pairs(&[kv("DOB", "13/04/1980", 90.0)], &us);
        let b = doc.fields.birth_date.unwrap();
        assert_eq!(b.value.date().to_string(), "1980-04-13");
        assert_eq!(b.confidence, 72.0);
        assert!(doc.warnings.contains(&Warning::field(
            FieldName::BirthDate,
            WarningReason::DateOrderUnexpected
        )));
    }

    #[test]
    fn conflicting_values_keep_the_most_confident_and_warn() {
        let pairs = [
            kv("Surname", "DUPONT", 80.0),
            kv("Nom", "DUPOND", 95.0),
            kv("Last name", "DUPOND", 60.0),
            kv("Sex", "M", 90.0),
            kv("Sexe", "M", 99.0),
        ];
        let doc = normalise_pairs(&pairs, &hints());
        let s = doc.fields.surname.unwrap();
        assert_eq!(s.value.as_str(), "DUPOND");
        assert_eq!(s.confidence, 95.0);
        assert_eq!(doc.fields.sex.unwrap().confidence, 99.0);
        assert_eq!(
            doc.warnings,
            vec![Warning::field(FieldName::Surname, WarningReason::Conflict)]
        );
    }

    #[test]
    fn names_differing_only_in_case_or_accents_do_not_conflict() {
        let pairs = [kv("Surname", "Lefèvre", 80.0), kv("Nom", "LEFEVRE", 95.0)];
        let doc = normalise_pairs(&pairs, &hints());
        assert_eq!(doc.fields.surname.unwrap().value.as_str(), "LEFEVRE");
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    }

    #[test]
    fn a_us_passport_with_trilingual_labels_is_normalised() {
        let pairs = [
            kv("Type / Type / Tipo", "P", 99.0),
            kv("Code / Code / Código", "USA", 98.0),
            kv(
                "Passport No. / No. du Passeport / No. del Pasaporte",
                "571234560",
                97.0,
            ),
            kv("Surname / Nom / Apellidos", "SPECIMEN", 96.0),
            kv(
                "Nationality / Nationalité / Nacionalidad",
                "UNITED STATES OF AMERICA",
                95.0,
            ),
            kv("Sex / Sexe / Sexo", "F", 99.0),
        ];
        let doc = normalise_pairs(&pairs, &hints());
        let f = &doc.fields;
        assert_eq!(
            f.document_number.as_ref().unwrap().value.as_str(),
            "571234560"
        );
        assert_eq!(f.issuing_state.as_ref().unwrap().value.alpha3(), "USA");
        assert_eq!(f.nationality.as_ref().unwrap().value.alpha3(), "USA");
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    }

    #[test]
    fn a_bare_code_is_the_issuing_state_only_next_to_a_document_type() {
        let page = [kv("Type", "P", 99.0), kv("Code", "FRA", 98.0)];
        let doc = normalise_pairs(&page, &hints());
        assert_eq!(doc.fields.issuing_state.unwrap().value.alpha3(), "FRA");
        // Elsewhere `Code` may be any code: a postal code read as a country would be wrong.
        let elsewhere = [kv("Surname", "DUPONT", 99.0), kv("Code", "FRA", 98.0)];
        let doc = normalise_pairs(&elsewhere, &hints());
        assert!(doc.fields.issuing_state.is_none());
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    }

    #[test]
    fn a_label_whose_languages_disagree_is_skipped_with_a_warning() {
        let pairs = [kv("Passport No. / Nationalité", "571234560", 97.0)];
        let doc = normalise_pairs(&pairs, &hints());
        assert!(doc.fields.document_number.is_none());
        assert!(doc.fields.nationality.is_none());
        assert_eq!(
            doc.warnings,
            vec![Warning::general(WarningReason::AmbiguousLabel)]
        );
    }

    #[test]
    fn surnames_that_happen_to_be_other_labels_are_kept() {
        for name in ["Land", "Born", "Code"] {
            let doc = normalise_pairs(&[kv("Surname", name, 90.0)], &hints());
            assert_eq!(doc.fields.surname.unwrap().value.as_str(), name);
        }
        for label in ["Given names", "Nom", "Date of birth"] {
            let doc = normalise_pairs(&[kv("Surname", label, 90.0)], &hints());
            assert!(doc.fields.surname.is_none(), "{label}");
        }
    }

    #[test]
    fn document_numbers_that_are_labels_or_dates_are_refused() {
        for bad in ["Passport No.", "12.01.1980", "PASSPORT", "12", "AB/CD 12"] {
            let doc = normalise_pairs(&[kv("Document No.", bad, 90.0)], &hints());
            assert!(doc.fields.document_number.is_none(), "{bad}");
            assert_eq!(doc.warnings.len(), 1, "{bad}");
        }
        let doc = normalise_pairs(&[kv("Document No.", "T22 000-129", 90.0)], &hints());
        assert_eq!(
            doc.fields.document_number.unwrap().value.as_str(),
            "T22000129"
        );
    }

    #[test]
    fn middle_names_are_appended_to_given_names() {
        let pairs = [
            kv("FIRST_NAME", "JOHN", 99.0),
            kv("MIDDLE_NAME", "MICHAEL", 95.0),
            kv("LAST_NAME", "DOE", 99.0),
        ];
        let doc = normalise_pairs(&pairs, &hints());
        let g = doc.fields.given_names.unwrap();
        assert_eq!(g.value.as_str(), "JOHN MICHAEL");
        assert_eq!(g.confidence, 95.0);
    }

    #[test]
    fn date_and_place_of_birth_are_split() {
        let doc = normalise_pairs(
            &[kv(
                "3. Date et lieu de naissance",
                "13.01.1980 LYON 3E (69)",
                88.0,
            )],
            &hints(),
        );
        assert_eq!(iso(&doc.fields.birth_date).as_deref(), Some("1980-01-13"));
        assert_eq!(doc.extras.place_of_birth.unwrap().value, "LYON 3E (69)");
    }

    #[test]
    fn implausible_and_unparseable_values_are_dropped_with_warnings() {
        let pairs = [
            kv("DOB", "12.01.2030", 90.0),
            kv("Sex", "Q", 90.0),
            kv("Nationality", "Atlantis", 90.0),
            kv("Surname", "1234", 90.0),
            kv("Given names", "Surname", 90.0),
            kv("Surname and given names", "X Y", 90.0),
        ];
        let doc = normalise_pairs(&pairs, &hints());
        assert!(doc.fields.is_empty());
        let reasons: Vec<_> = doc.warnings.iter().map(|w| (w.field, w.reason)).collect();
        assert!(reasons.contains(&(Some(FieldName::BirthDate), WarningReason::Implausible)));
        assert!(reasons.contains(&(Some(FieldName::Sex), WarningReason::Unparseable)));
        assert!(reasons.contains(&(Some(FieldName::Nationality), WarningReason::Unparseable)));
        assert!(reasons.contains(&(Some(FieldName::Surname), WarningReason::Unparseable)));
        assert!(reasons.contains(&(Some(FieldName::GivenNames), WarningReason::LabelAsValue)));
        assert!(reasons.contains(&(None, WarningReason::AmbiguousLabel)));
    }

    #[test]
    fn the_issuing_state_can_come_from_the_authority() {
        let doc = normalise_pairs(
            &[kv("Authority", "United States Department of State", 90.0)],
            &hints(),
        );
        let s = doc.fields.issuing_state.unwrap();
        assert_eq!(s.value.alpha3(), "USA");
        assert_eq!(s.confidence, 72.0);
    }

    #[test]
    fn textract_normalised_dates_are_preferred() {
        let mut p = kv("DATE_OF_BIRTH", "garbled 1 2 3", 90.0);
        p.normalized = Some("1980-01-12T00:00:00".into());
        let doc = normalise_pairs(&[p], &hints());
        let b = doc.fields.birth_date.unwrap();
        assert_eq!(b.value.date().to_string(), "1980-01-12");
        assert_eq!(b.original, "garbled 1 2 3");
    }

    #[test]
    fn warnings_and_debug_output_hold_no_values() {
        let pairs = [
            kv("Surname", "SECRETNAMEA", 90.0),
            kv("Nom", "SECRETNAME", 95.0),
        ];
        let doc = normalise_pairs(&pairs, &hints());
        let all = format!("{doc:?} {:?} {}", pairs[0], doc.warnings[0]);
        assert!(!all.contains("SECRET"), "{all}");
        assert_eq!(
            doc.warnings[0].to_string(),
            "surname: conflicting values were read"
        );
    }

    #[test]
    fn too_many_pairs_are_cut() {
        let pairs = vec![kv("Sex", "F", 90.0); MAX_PAIRS + 5];
        let doc = normalise_pairs(&pairs, &hints());
        assert!(doc
            .warnings
            .contains(&Warning::general(WarningReason::TooManyPairs)));
        assert!(doc.fields.sex.is_some());
    }

    #[test]
    fn document_kinds_are_recognised() {
        assert_eq!(
            DocumentKind::parse("Reisepass / Passport"),
            DocumentKind::Passport
        );
        assert_eq!(DocumentKind::parse("ID"), DocumentKind::IdentityCard);
        assert_eq!(
            DocumentKind::parse("PERSONALAUSWEIS"),
            DocumentKind::IdentityCard
        );
        assert_eq!(
            DocumentKind::parse("Aufenthaltstitel"),
            DocumentKind::ResidencePermit
        );
        assert_eq!(DocumentKind::parse("V"), DocumentKind::Visa);
        assert_eq!(DocumentKind::parse("lorem"), DocumentKind::Other);
    }

    const LABELS: &[&str] = &[
        "Surname",
        "Nom / Surname",
        "Given names",
        "Prénom(s)",
        "MIDDLE_NAME",
        "DOB",
        "Date of birth",
        "Date et lieu de naissance",
        "Place of birth",
        "Document No.",
        "Personal No.",
        "Date of expiry",
        "Date of issue",
        "Nationality",
        "Sex",
        "Code",
        "Authority",
        "Type",
        "MRZ",
        "Height",
        "4b.",
        "Nom Prénom",
    ];

    const VALUES: &[&str] = &[
        "DUPONT",
        "Jean-Pierre, Marie",
        "Müller",
        "12.01.1980",
        "03/04/1980",
        "12 JAN/JAN 80",
        "1980-01-12",
        "12.01.1980 PARIS",
        "31.02.1980",
        "01.01.2030",
        "L898902C3",
        "T22000129",
        "FRA",
        "FRANÇAISE",
        "D",
        "British Citizen",
        "M",
        "F",
        "X",
        "P",
        "PASSPORT",
        "Stadt Köln",
        "P<UTOERIKSSON<<ANNA<MARIA",
        "",
        "   ",
        "Surname",
        "1234",
        "<<<",
        "12 FOO 1980",
    ];

    fn pair() -> impl Strategy<Value = KeyValue> {
        (
            prop_oneof![
                proptest::sample::select(LABELS).prop_map(str::to_string),
                "\\PC{0,20}",
            ],
            prop_oneof![
                proptest::sample::select(VALUES).prop_map(str::to_string),
                "\\PC{0,30}",
            ],
            0.0f32..=100.0,
        )
            .prop_map(|(k, v, c)| KeyValue::new(k, v, c))
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent(pairs in proptest::collection::vec(pair(), 0..14)) {
            let once = normalise_pairs(&pairs, &hints());
            let twice = normalise_pairs(&once.to_pairs(), &hints());
            // Values and confidences are stable; the original text becomes the canonical one.
            prop_assert_eq!(
                serde_json::to_value(twice.to_pairs()).unwrap(),
                serde_json::to_value(once.to_pairs()).unwrap()
            );
            // The only warning that can come back is about the values themselves.
            prop_assert!(
                twice.warnings.iter().all(|w| w.reason == WarningReason::ExpiryBeforeBirth),
                "{:?}", twice.warnings
            );
        }

        #[test]
        fn the_pair_normaliser_never_panics(
            pairs in proptest::collection::vec(
                ("\\PC{0,40}", "\\PC{0,60}", proptest::option::of("\\PC{0,20}"), proptest::num::f32::ANY),
                0..10,
            ),
            us in any::<bool>(),
        ) {
            let pairs: Vec<KeyValue> = pairs
                .into_iter()
                .map(|(k, v, n, c)| KeyValue { key: k, value: v, normalized: n, confidence: c })
                .collect();
            let mut h = hints();
            if us {
                h = h.with_issuing_country(CountryCode::parse("USA").unwrap());
            }
            let doc = normalise_pairs(&pairs, &h);
            for f in [&doc.fields.surname, &doc.fields.given_names].into_iter().flatten() {
                prop_assert!((0.0..=100.0).contains(&f.confidence));
            }
        }
    }
}
