//! `MrzRecord`, the fields of one parsed MRZ with the outcome of every check digit, and how it
//! is built from validated lines, serialised for the JSON surfaces and turned into
//! [`DocumentFields`].

use std::fmt;
use std::ops::Range;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use super::check::verify;
use super::dates;
use super::layout::{Layout, Span};
use super::{CheckField, MrzError, MrzFormat};
use crate::document::{DocumentFields, Field, FieldSource};
use crate::model::{BirthDate, CountryCode, Date, DocumentNumber, ExpiryDate, PersonName, Sex};

/// The outcome of every check digit of one MRZ (`true` = the digit matches).
///
/// Each check is verified over the characters as written, fillers counting 0: an unknown date
/// written `<<<<<<` with check digit `0` or `<` passes (the characters are intact) although the
/// date itself is `None`. Checks a format does not have are `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checks {
    /// The document number's check digit (TD1: over the whole long number when it overflows).
    pub document_number: bool,
    /// The date of birth's check digit.
    pub birth_date: bool,
    /// The date of expiry's check digit.
    pub expiry_date: bool,
    /// The optional data (personal number) check digit: TD3 only. `<` passes when the field is
    /// empty.
    pub optional_data: Option<bool>,
    /// The composite check digit: every format but the visas.
    pub composite: Option<bool>,
}

impl Checks {
    /// The outcome of one check, `None` when the format has no such check.
    pub fn get(&self, field: CheckField) -> Option<bool> {
        match field {
            CheckField::DocumentNumber => Some(self.document_number),
            CheckField::BirthDate => Some(self.birth_date),
            CheckField::ExpiryDate => Some(self.expiry_date),
            CheckField::OptionalData => self.optional_data,
            CheckField::Composite => self.composite,
        }
    }

    /// Every check the format has, with its outcome, in MRZ order (composite last).
    pub fn iter(&self) -> impl Iterator<Item = (CheckField, bool)> + '_ {
        [
            CheckField::DocumentNumber,
            CheckField::BirthDate,
            CheckField::ExpiryDate,
            CheckField::OptionalData,
            CheckField::Composite,
        ]
        .into_iter()
        .filter_map(|f| self.get(f).map(|ok| (f, ok)))
    }

    /// Whether every check passes.
    pub fn all_pass(&self) -> bool {
        self.iter().all(|(_, ok)| ok)
    }

    /// The first failing check in MRZ order.
    pub fn first_failure(&self) -> Option<CheckField> {
        self.iter().find(|(_, ok)| !ok).map(|(f, _)| f)
    }

    /// How many checks fail.
    pub fn failures(&self) -> usize {
        self.iter().filter(|(_, ok)| !ok).count()
    }
}

/// `{"documentNumber": true, …}` with only the checks the format has.
impl Serialize for Checks {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (field, ok) in self.iter() {
            m.serialize_entry(field.json_name(), &ok)?;
        }
        m.end()
    }
}

/// Where the document number lies: its 9 positions, TD1's overflow into the optional data
/// (empty range otherwise) and the position of its check digit.
pub(crate) struct NumberParts {
    pub main: Span,
    pub overflow: Range<usize>,
    pub check: usize,
    /// Where the optional data starts (after TD1's overflow and its terminating filler).
    pub optional_start: usize,
}

/// TD1 long document numbers: when the check-digit position holds `<` and the optional data
/// starts with a non-filler, the number continues there up to the first `<`; the last character
/// before that filler is the check digit (ICAO 9303 Part 5, note j).
pub(crate) fn number_parts(layout: &Layout, b: &[u8]) -> NumberParts {
    let main = layout.document_number;
    let check = layout.document_number_check;
    let opt = layout.optional_data;
    if layout.format == MrzFormat::Td1
        && b.get(check) == Some(&b'<')
        && b.get(opt.start).is_some_and(|&c| c != b'<')
    {
        let stop = b
            .get(opt.range())
            .and_then(|s| s.iter().position(|&c| c == b'<'))
            .map_or(opt.end(), |i| opt.start + i);
        // `stop > opt.start` because the first optional character is not a filler.
        return NumberParts {
            main,
            overflow: opt.start..stop - 1,
            check: stop - 1,
            optional_start: stop,
        };
    }
    NumberParts {
        main,
        overflow: check..check,
        check,
        optional_start: opt.start,
    }
}

fn bytes(b: &[u8], r: Range<usize>) -> &[u8] {
    b.get(r).unwrap_or(&[])
}

fn at(b: &[u8], pos: usize) -> u8 {
    b.get(pos).copied().unwrap_or(0)
}

/// Verifies one check of the concatenated lines `b` (any bytes; non-MRZ bytes fail).
pub(crate) fn check_one(layout: &Layout, b: &[u8], field: CheckField) -> Option<bool> {
    Some(match field {
        CheckField::DocumentNumber => {
            let n = number_parts(layout, b);
            verify(
                [bytes(b, n.main.range()), bytes(b, n.overflow)],
                at(b, n.check),
            )
        }
        CheckField::BirthDate => verify(
            [bytes(b, layout.birth_date.range())],
            at(b, layout.birth_date_check),
        ),
        CheckField::ExpiryDate => verify(
            [bytes(b, layout.expiry_date.range())],
            at(b, layout.expiry_date_check),
        ),
        CheckField::OptionalData => verify(
            [bytes(b, layout.optional_data.range())],
            at(b, layout.optional_data_check?),
        ),
        CheckField::Composite => {
            let (spans, pos) = layout.composite?;
            verify(spans.iter().map(|s| bytes(b, s.range())), at(b, pos))
        }
    })
}

/// Verifies every check of the concatenated lines `b`.
pub(crate) fn compute_checks(layout: &Layout, b: &[u8]) -> Checks {
    Checks {
        document_number: check_one(layout, b, CheckField::DocumentNumber).unwrap_or(false),
        birth_date: check_one(layout, b, CheckField::BirthDate).unwrap_or(false),
        expiry_date: check_one(layout, b, CheckField::ExpiryDate).unwrap_or(false),
        optional_data: check_one(layout, b, CheckField::OptionalData),
        composite: check_one(layout, b, CheckField::Composite),
    }
}

/// The fields of one MRZ, decoded, with the outcome of every check digit.
///
/// Text fields have their fillers removed (`D<<` → `D`, `ZE184226B<<<<<` → `ZE184226B`);
/// names are split at the first `<<` into surname and given names, single `<` inside a name
/// becoming a space. Dates that are unknown or unreadable are `None`. `Debug` shows only the
/// format and the checks: everything else is personal data.
///
/// ```
/// use kyc_core::model::Date;
/// use kyc_core::mrz;
/// let today = Date::parse("2010-01-01").unwrap();
/// let r = mrz::parse(
///     &[
///         "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
///         "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
///     ],
///     today,
/// )
/// .unwrap();
/// assert!(r.is_valid());
/// assert_eq!(r.format(), mrz::MrzFormat::Td3);
/// assert_eq!((r.surname(), r.given_names()), ("ERIKSSON", "ANNA MARIA"));
/// assert_eq!(r.birth_date().unwrap().to_string(), "1974-08-12");
/// assert_eq!(r.expiry_date().unwrap().to_string(), "2012-04-15");
/// assert!(!format!("{r:?}").contains("ERIKSSON"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct MrzRecord {
    format: MrzFormat,
    raw: String,
    document_code: String,
    issuing_state: String,
    surname: String,
    given_names: String,
    document_number: String,
    nationality: String,
    birth_date: Option<Date>,
    sex: Option<Sex>,
    expiry_date: Option<Date>,
    optional_data: String,
    optional_data_2: Option<String>,
    checks: Checks,
}

/// `s` without fillers at either end.
fn trimmed(s: &[u8]) -> String {
    let start = s.iter().position(|&c| c != b'<').unwrap_or(s.len());
    let end = s.iter().rposition(|&c| c != b'<').map_or(start, |i| i + 1);
    String::from_utf8_lossy(s.get(start..end).unwrap_or(&[])).into_owned()
}

/// The words of `s` (separated by fillers) joined by single spaces.
fn words(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split(|&c| c == b'<').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&String::from_utf8_lossy(w));
    }
    out
}

/// Splits a name field at its first `<<` into (surname, given names).
fn split_name(field: &[u8]) -> (String, String) {
    let sep = field.windows(2).position(|w| w == b"<<");
    match sep {
        Some(i) => (
            words(bytes(field, 0..i)),
            words(bytes(field, i + 2..field.len())),
        ),
        None => (words(field), String::new()),
    }
}

impl MrzRecord {
    /// Builds the record from the concatenated lines, which the caller has validated: right
    /// length for `format`, only `A-Z 0-9 <`.
    pub(crate) fn from_validated(format: MrzFormat, raw: String, reference: Date) -> Self {
        let layout = format.layout();
        let b = raw.as_bytes();
        let span = |s: Span| bytes(b, s.range());
        let number = number_parts(layout, b);
        let document_number = if number.overflow.is_empty() {
            trimmed(span(number.main))
        } else {
            let mut long = span(number.main).to_vec();
            long.extend_from_slice(bytes(b, number.overflow.clone()));
            trimmed(&long)
        };
        let (surname, given_names) = split_name(span(layout.name));
        let sex = match at(b, layout.sex) {
            b'M' => Some(Sex::Male),
            b'F' => Some(Sex::Female),
            b'<' | b'X' => Some(Sex::Unspecified),
            _ => None,
        };
        let checks = compute_checks(layout, b);
        Self {
            format,
            document_code: trimmed(span(layout.document_code)),
            issuing_state: trimmed(span(layout.issuing_state)),
            surname,
            given_names,
            document_number,
            nationality: trimmed(span(layout.nationality)),
            birth_date: dates::birth_date(span(layout.birth_date), reference),
            sex,
            expiry_date: dates::expiry_date(span(layout.expiry_date), reference),
            optional_data: trimmed(bytes(b, number.optional_start..layout.optional_data.end())),
            optional_data_2: layout.optional_data_2.map(|s| trimmed(span(s))),
            checks,
            raw,
        }
    }

    /// The format.
    pub fn format(&self) -> MrzFormat {
        self.format
    }

    /// The MRZ lines as parsed (personal data).
    pub fn lines(&self) -> impl Iterator<Item = &str> + '_ {
        let len = self.format.line_length();
        (0..self.format.line_count()).filter_map(move |i| self.raw.get(i * len..(i + 1) * len))
    }

    /// The document code without fillers (`P`, `I`, `ID`, `AC`, `V`…).
    pub fn document_code(&self) -> &str {
        &self.document_code
    }

    /// The issuing state or organisation as written (`UTO`, `D` for Germany), fillers removed.
    pub fn issuing_state(&self) -> &str {
        &self.issuing_state
    }

    /// The surname (primary identifier), `<` inside it read as a space.
    pub fn surname(&self) -> &str {
        &self.surname
    }

    /// The given names (secondary identifier), space separated; empty when there are none.
    pub fn given_names(&self) -> &str {
        &self.given_names
    }

    /// The document number, fillers removed (TD1: including its overflow into the optional
    /// data).
    pub fn document_number(&self) -> &str {
        &self.document_number
    }

    /// The nationality as written (`UTO`, `D`), fillers removed.
    pub fn nationality(&self) -> &str {
        &self.nationality
    }

    /// The date of birth, `None` when unknown or unreadable.
    pub fn birth_date(&self) -> Option<Date> {
        self.birth_date
    }

    /// The sex (`<` and `X` are [`Sex::Unspecified`]), `None` for any other character.
    pub fn sex(&self) -> Option<Sex> {
        self.sex
    }

    /// The date of expiry, `None` when unknown or unreadable.
    pub fn expiry_date(&self) -> Option<Date> {
        self.expiry_date
    }

    /// The optional data (TD3: personal number; TD1: optional data of line 1, after a long
    /// document number's overflow), fillers at both ends removed.
    pub fn optional_data(&self) -> &str {
        &self.optional_data
    }

    /// The optional data of TD1's second line; `None` in the other formats.
    pub fn optional_data_2(&self) -> Option<&str> {
        self.optional_data_2.as_deref()
    }

    /// The outcome of every check digit.
    pub fn checks(&self) -> &Checks {
        &self.checks
    }

    /// Whether every check digit passes.
    pub fn is_valid(&self) -> bool {
        self.checks.all_pass()
    }

    /// `Ok` when every check digit passes, else [`MrzError::CheckDigitMismatch`] naming the
    /// first failing check in MRZ order.
    pub fn validate(&self) -> Result<(), MrzError> {
        match self.checks.first_failure() {
            None => Ok(()),
            Some(field) => Err(MrzError::CheckDigitMismatch { field }),
        }
    }

    /// The record itself when every check digit passes (see [`Self::validate`]).
    pub fn require_valid(self) -> Result<Self, MrzError> {
        self.validate().map(|()| self)
    }

    fn raw_text(&self, s: Span) -> &str {
        self.raw.get(s.range()).unwrap_or("")
    }

    fn field<T>(&self, value: T, span: Span, confidence: f32) -> Field<T> {
        Field::new(value, self.raw_text(span), confidence, FieldSource::Mrz)
    }

    /// The fields as the shared [`DocumentFields`] record with [`FieldSource::Mrz`]: values
    /// parsed into the domain types (a value the type refuses, such as an unknown country code,
    /// is left out), `original` the MRZ characters of the field. Confidence:
    /// [`CONFIDENCE_CHECKED`] for a field whose own check digit passes,
    /// [`CONFIDENCE_UNCHECKED`] for fields no check digit covers (names, nationality, issuing
    /// state, sex), [`CONFIDENCE_FAILED`] for a field whose check digit fails.
    pub fn document_fields(&self) -> DocumentFields {
        let layout = self.format.layout();
        let checked = |ok: bool| {
            if ok {
                CONFIDENCE_CHECKED
            } else {
                CONFIDENCE_FAILED
            }
        };
        let name_raw = self.raw_text(layout.name);
        let name = |s: &str| {
            PersonName::parse(s)
                .ok()
                .map(|n| Field::new(n, name_raw, CONFIDENCE_UNCHECKED, FieldSource::Mrz))
        };
        let number = number_parts(layout, self.raw.as_bytes());
        let number_original = if number.overflow.is_empty() {
            self.raw_text(number.main).to_string()
        } else {
            let mut s = self.raw_text(number.main).to_string();
            s.push_str(self.raw.get(number.overflow).unwrap_or(""));
            s
        };
        DocumentFields {
            surname: name(&self.surname),
            given_names: name(&self.given_names),
            birth_date: self.birth_date.map(|d| {
                self.field(
                    BirthDate::new(d),
                    layout.birth_date,
                    checked(self.checks.birth_date),
                )
            }),
            document_number: DocumentNumber::parse(&self.document_number).ok().map(|n| {
                Field::new(
                    n,
                    number_original,
                    checked(self.checks.document_number),
                    FieldSource::Mrz,
                )
            }),
            expiry_date: self.expiry_date.map(|d| {
                self.field(
                    ExpiryDate::new(d),
                    layout.expiry_date,
                    checked(self.checks.expiry_date),
                )
            }),
            nationality: CountryCode::parse(&self.nationality)
                .ok()
                .map(|c| self.field(c, layout.nationality, CONFIDENCE_UNCHECKED)),
            issuing_state: CountryCode::parse(&self.issuing_state)
                .ok()
                .map(|c| self.field(c, layout.issuing_state, CONFIDENCE_UNCHECKED)),
            sex: self.sex.map(|s| {
                self.field(
                    s,
                    Span {
                        start: layout.sex,
                        len: 1,
                    },
                    CONFIDENCE_UNCHECKED,
                )
            }),
        }
    }
}

/// Confidence of a field whose own check digit passes.
pub const CONFIDENCE_CHECKED: f32 = 100.0;
/// Confidence of a field no check digit covers: read from a machine-readable font, but nothing
/// proves it intact.
pub const CONFIDENCE_UNCHECKED: f32 = 90.0;
/// Confidence of a field whose check digit fails.
pub const CONFIDENCE_FAILED: f32 = 30.0;

impl fmt::Debug for MrzRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MrzRecord")
            .field("format", &self.format)
            .field("valid", &self.is_valid())
            .field("checks", &self.checks)
            .field("fields", &"<redacted>")
            .finish()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FieldsView<'a> {
    document_code: &'a str,
    issuing_state: &'a str,
    surname: &'a str,
    given_names: &'a str,
    document_number: &'a str,
    nationality: &'a str,
    birth_date: Option<Date>,
    sex: Option<Sex>,
    expiry_date: Option<Date>,
    optional_data: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    optional_data_2: Option<&'a str>,
}

/// The JSON shape of every surface (`kyc mrz parse --json`, the `mrz` object of `kyc document
/// read` and of the decision document): `{"valid", "format", "fields": {…}, "checks": {…}}`,
/// dates as `YYYY-MM-DD` or `null`, sex `M`/`F`/`X` or `null`, text fields without fillers
/// (possibly empty), `optionalData2` only for TD1.
impl Serialize for MrzRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("MrzRecord", 4)?;
        st.serialize_field("valid", &self.is_valid())?;
        st.serialize_field("format", &self.format)?;
        st.serialize_field(
            "fields",
            &FieldsView {
                document_code: &self.document_code,
                issuing_state: &self.issuing_state,
                surname: &self.surname,
                given_names: &self.given_names,
                document_number: &self.document_number,
                nationality: &self.nationality,
                birth_date: self.birth_date,
                sex: self.sex,
                expiry_date: self.expiry_date,
                optional_data: &self.optional_data,
                optional_data_2: self.optional_data_2.as_deref(),
            },
        )?;
        st.serialize_field("checks", &self.checks)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_first_double_filler() {
        assert_eq!(
            split_name(b"ERIKSSON<<ANNA<MARIA<<<<<<"),
            ("ERIKSSON".into(), "ANNA MARIA".into())
        );
        assert_eq!(
            split_name(b"VAN<DER<BERG<<JAN<<<<"),
            ("VAN DER BERG".into(), "JAN".into())
        );
        assert_eq!(
            split_name(b"MADONNA<<<<<<"),
            ("MADONNA".into(), String::new())
        );
        assert_eq!(
            split_name(b"NOFILLERSATALL"),
            ("NOFILLERSATALL".into(), String::new())
        );
        assert_eq!(split_name(b"<<<<<<"), (String::new(), String::new()));
        // Truncated names end without fillers.
        assert_eq!(
            split_name(b"ERIKSSON<<ANNA<MARI"),
            ("ERIKSSON".into(), "ANNA MARI".into())
        );
    }

    #[test]
    fn fillers_are_trimmed_at_both_ends_only() {
        assert_eq!(trimmed(b"D<<"), "D");
        assert_eq!(trimmed(b"<<AB<12<<"), "AB<12");
        assert_eq!(trimmed(b"<<<<"), "");
    }

    #[test]
    fn checks_list_only_what_the_format_has() {
        let c = Checks {
            document_number: true,
            birth_date: false,
            expiry_date: true,
            optional_data: None,
            composite: Some(false),
        };
        assert_eq!(c.first_failure(), Some(CheckField::BirthDate));
        assert_eq!(c.failures(), 2);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"documentNumber":true,"birthDate":false,"expiryDate":true,"composite":false}"#
        );
    }
}
