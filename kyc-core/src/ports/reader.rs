//! `DocumentReader`: OCR of an identity-document image (Textract in AWS, Tesseract locally).
//! The reader extracts text; kyc-core interprets it (MRZ parsing and repair, cross-check).

use std::fmt;
use std::future::Future;

use crate::document::NormalisedDocument;
use crate::model::Image;

/// What a reader saw on a document.
#[derive(Clone, Default, PartialEq)]
pub struct DocumentReading {
    /// Printed fields, normalised by `document::normalise_pairs` (`FieldSource::Printed`), with
    /// ambiguous dates and warnings.
    pub printed: NormalisedDocument,
    /// The text of the machine-readable zone as OCR read it (lines separated by `\n`), if a
    /// band was found; possibly with OCR errors, for `mrz::parse_tolerant`.
    pub mrz_text: Option<String>,
}

impl fmt::Debug for DocumentReading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentReading")
            .field("printed", &self.printed)
            .field("mrz_text", &self.mrz_text.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The image could not be decoded or is not a document photo at all.
    #[error("the image could not be decoded")]
    InvalidImage,
    /// The image is too small, too large or too blurred to read.
    #[error("the image quality is too low to read the document")]
    PoorQuality,
    /// The backend failed.
    #[error(transparent)]
    Backend(#[from] super::PortError),
}

/// Reads identity documents.
pub trait DocumentReader: Send + Sync {
    /// MUST return `Ok` with whatever was read (possibly nothing: empty fields, no MRZ) for any
    /// decodable image; `Err(InvalidImage)` only when the image cannot be decoded;
    /// `Err(Backend(Unavailable))` for transient backend failures.
    fn read(
        &self,
        image: &Image,
    ) -> impl Future<Output = Result<DocumentReading, ReadError>> + Send;
}

impl From<crate::document::NormalisedDocument> for DocumentReading {
    fn from(doc: crate::document::NormalisedDocument) -> Self {
        let mrz_text = doc.extras.mrz_text.as_ref().map(|f| f.value.clone());
        Self {
            printed: doc,
            mrz_text,
        }
    }
}
