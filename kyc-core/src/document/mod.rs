//! Document fields read by OCR (printed text, Textract, Tesseract) or decoded from the MRZ,
//! normalised into one [`DocumentFields`] record with a confidence and a source per field.

mod fields;

pub use fields::{DocumentFields, Field, FieldSource};
