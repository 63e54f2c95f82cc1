//! Document fields read by OCR (printed text, Textract, Tesseract) or decoded from the MRZ,
//! normalised into one [`DocumentFields`] record with a confidence and a source per field.
//!
//! - [`textract`]: typed models of Textract AnalyzeID and AnalyzeDocument (FORMS) responses,
//!   parsing from bytes, and their reduction to labelled values.
//! - [`normalise_pairs`]: the engine-independent normaliser of labelled values (label synonyms
//!   in several languages via [`classify_label`], dates via [`parse_printed_date`], names,
//!   numbers, countries, sex) into a [`NormalisedDocument`] with warnings.
//! - [`cross_check`] and [`merge`]: printed fields against the MRZ, and the final record.

mod assess;
mod countries;
mod crosscheck;
mod dates;
mod fields;
mod labels;
mod normalise;
pub mod textract;

pub use assess::{assess, DocumentAssessment, MrzStatus, REQUIRED_FIELDS};
pub use crosscheck::{cross_check, merge, CrossCheck, Evidence};
pub use dates::{
    format_date, parse_leading_date, parse_printed_date, DateError, DateFormat, DateOrder,
    DateRole, PrintedDate, MAX_DATE_LEN,
};
pub use fields::{DocumentFields, Field, FieldName, FieldSource};
pub use labels::{classify_label, LabelKind};
pub use normalise::{
    normalise_pairs, AmbiguousDate, DocumentExtras, DocumentKind, KeyValue, NormaliseHints,
    NormalisedDocument, Warning, WarningReason, MAX_PAIRS, MAX_VALUE_LEN,
};
