//! Amazon Textract as kyc-core's `DocumentReader`: [`TextractDocumentReader`] sends the document
//! image to `AnalyzeID` and/or `AnalyzeDocument` (feature `FORMS`), converts the SDK's output
//! into kyc-core's Textract model ([`convert`]) and lets kyc-core normalise it
//! (`kyc_core::document::textract`) into a [`DocumentReading`]: the printed fields and the text
//! of the machine-readable zone. kyc-core then parses, repairs and cross-checks the MRZ
//! (`kyc_core::document::assess`); this adapter only reads.
//!
//! # Which calls ([`TextractMode`])
//!
//! | mode | calls | works on | MRZ from | list price per document¹ |
//! |---|---|---|---|---|
//! | [`Forms`](TextractMode::Forms) (default) | `AnalyzeDocument` with `FORMS` | any document, any language Textract reads | the `LINE` blocks that look like an MRZ | $0.05 (first million pages a month, then $0.04) |
//! | [`AnalyzeId`](TextractMode::AnalyzeId) | `AnalyzeID` | US passports and US driver's licences only | the `MRZ_CODE` field, else the page's lines | $0.025 (first 100,000 pages a month, then $0.01) |
//! | [`Both`](TextractMode::Both) | `AnalyzeID`, then `AnalyzeDocument` `FORMS` | any; the best evidence on US documents | `MRZ_CODE`, else either response's lines | the sum: $0.075 |
//!
//! ¹ us-east-1 list prices when this was written, one page per image; check the Textract
//! pricing page. A failed call is not billed; a retried one is billed once per success.
//!
//! `Forms` is the default because the kit reads identity documents of every country:
//! `AnalyzeID` only knows US documents and reads others poorly, while `FORMS` pairs any printed
//! label with its value (kyc-core's label tables know them in a dozen languages) and returns
//! every line of text, which holds the MRZ. `AnalyzeId` suits a US-only deployment (half the
//! price, dates already normalised); `Both` pays for both readings of every document and merges
//! them: the labelled values of both go through one normalisation, where the more confident
//! value of a field wins and disagreements are recorded as conflicts. In `Both` the calls are
//! made one after the other (the first failure ends the read without paying for the second),
//! and the whole read is one call of the circuit breaker.
//!
//! The MRZ's issuing state, when every valid reading of the MRZ agrees on it, decides the
//! day/month order of printed numeric dates (the printed fields are normalised again with it),
//! as the local Tesseract reader does.
//!
//! # Limits checked before any request
//!
//! Synchronous Textract calls take JPEG or PNG bytes of at most 10 MB ([`MAX_IMAGE_BYTES`]).
//! [`Image`] guarantees the type by magic bytes; a larger image is refused here with
//! [`ReadError::InvalidImage`] and nothing is sent. Pixel dimensions (Textract accepts at most
//! 10,000 px a side) are the upload check's business; Textract's own refusal maps as below.
//!
//! # Error mapping
//!
//! | Textract says | [`ReadError`] | breaker |
//! |---|---|---|
//! | `UnsupportedDocumentException`, `BadDocumentException`, `InvalidParameterException`, `InvalidS3ObjectException` | `InvalidImage` | healthy |
//! | `DocumentTooLargeException` (the bytes passed our 10 MB check, so it is the pixel size or the service's own byte limit: the photo is readable but too large for it) | `PoorQuality` | healthy |
//! | `ThrottlingException`, `ProvisionedThroughputExceededException`, `LimitExceededException`, `InternalServerError`, other 5xx, timeouts, connection failures | `Backend(PortError::Unavailable)` after the SDK's retries | failure |
//! | `AccessDeniedException`, bad credentials | `Backend(PortError::Misconfigured)` | healthy |
//! | a success whose body cannot be parsed (malformed or truncated JSON) | `Backend(PortError::Rejected)` ("the response could not be read"), not retried | healthy |
//! | the breaker is open | `Backend(PortError::Unavailable)`, nothing sent | — |
//!
//! The service's messages are never copied into errors (they may echo the request); only the
//! error code is looked at. Nothing read from the document reaches an error or a `Debug`
//! output.
//!
//! # Resilience
//!
//! Every call goes through the SDK client built from the shared `SdkConfig`
//! ([`crate::config::AwsSettings::load`]): standard retries with backoff and jitter, connect,
//! attempt and operation timeouts. Around them, the [`CircuitBreaker`] fails reads fast after
//! repeated transient failures (Textract is billed per call and a throttling service is not
//! helped by more calls). A read abandoned midway (its future dropped) counts as a transient
//! failure, so an abandoned half-open probe cannot leave the breaker waiting for ever.
//!
//! # The raw response
//!
//! [`TextractDocumentReader::analyze`] returns the responses along with the reading;
//! [`TextractResponses::to_json_bytes`] gives the object stored as `kyc-ocr-raw/{id}.json`:
//! `{"AnalyzeID": <response>, "AnalyzeDocument": <response>}` (only the calls made), each
//! response in Textract's wire shape, which kyc-core's `parse_analyze_id` /
//! `parse_analyze_document` read back ([`TextractResponses::from_json_slice`] reads the whole
//! object).
//!
//! # IAM
//!
//! `textract:AnalyzeID` and/or `textract:AnalyzeDocument` (per mode) on `*`: the synchronous
//! analysis actions have no resource type.

pub mod convert;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_textract::primitives::Blob;
use aws_sdk_textract::types::{Document, FeatureType};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use kyc_core::document::textract::{
    key_value_pairs, normalise_analyze_document, normalise_analyze_id, AnalyzeDocumentResponse,
    AnalyzeIdResponse, TextractError, MAX_RESPONSE_BYTES,
};
use kyc_core::document::{normalise_pairs, FieldName, NormaliseHints, NormalisedDocument};
use kyc_core::model::{CountryCode, Date, Image, ValueError};
use kyc_core::ports::{Clock, DocumentReader, DocumentReading, PortError, ReadError};
use serde::{Deserialize, Serialize};

use crate::breaker::{CallOutcome, CircuitBreaker};
use crate::error::{classify_code, port_error, to_port_error};

/// The backend name in errors and the breaker.
pub const BACKEND: &str = "textract";

/// The largest image sent, in bytes: Textract's limit for JPEG and PNG in synchronous calls.
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// Which Textract calls read a document (see the module documentation for coverage and cost).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TextractMode {
    /// `AnalyzeID` only: US passports and driver's licences.
    AnalyzeId,
    /// `AnalyzeDocument` with `FORMS` only: any document.
    #[default]
    Forms,
    /// Both calls, their readings merged.
    Both,
}

impl TextractMode {
    /// Whether `AnalyzeID` is called.
    pub fn calls_analyze_id(self) -> bool {
        matches!(self, Self::AnalyzeId | Self::Both)
    }

    /// Whether `AnalyzeDocument` (FORMS) is called.
    pub fn calls_forms(self) -> bool {
        matches!(self, Self::Forms | Self::Both)
    }

    /// The IAM actions the mode needs.
    pub fn iam_actions(self) -> &'static [&'static str] {
        match self {
            Self::AnalyzeId => &["textract:AnalyzeID"],
            Self::Forms => &["textract:AnalyzeDocument"],
            Self::Both => &["textract:AnalyzeID", "textract:AnalyzeDocument"],
        }
    }

    /// The configuration spelling: `analyze-id`, `forms` or `both`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AnalyzeId => "analyze-id",
            Self::Forms => "forms",
            Self::Both => "both",
        }
    }
}

impl fmt::Display for TextractMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TextractMode {
    type Err = ValueError;

    /// ```
    /// use kyc_aws::textract::TextractMode;
    /// assert_eq!("forms".parse::<TextractMode>().unwrap(), TextractMode::Forms);
    /// assert_eq!("Analyze-ID".parse::<TextractMode>().unwrap(), TextractMode::AnalyzeId);
    /// assert!("all".parse::<TextractMode>().unwrap_err().to_string().contains("analyze-id, forms or both"));
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        [Self::AnalyzeId, Self::Forms, Self::Both]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or(ValueError::Unknown {
                what: "textract mode",
                allowed: "analyze-id, forms or both",
            })
    }
}

/// The responses of the calls made for one document, in kyc-core's wire-shape model.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextractResponses {
    /// The `AnalyzeID` response, when called.
    #[serde(rename = "AnalyzeID", default, skip_serializing_if = "Option::is_none")]
    pub analyze_id: Option<AnalyzeIdResponse>,
    /// The `AnalyzeDocument` (FORMS) response, when called.
    #[serde(
        rename = "AnalyzeDocument",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub analyze_document: Option<AnalyzeDocumentResponse>,
}

impl fmt::Debug for TextractResponses {
    /// Counts only: the responses hold what was read on the document.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TextractResponses")
            .field(
                "analyze_id_documents",
                &self.analyze_id.as_ref().map(|r| r.identity_documents.len()),
            )
            .field(
                "analyze_document_blocks",
                &self.analyze_document.as_ref().map(|r| r.blocks.len()),
            )
            .finish()
    }
}

impl TextractResponses {
    /// The stored form: `{"AnalyzeID": …, "AnalyzeDocument": …}`, each response in Textract's
    /// wire shape (PascalCase members, enumeration values as sent).
    pub fn to_json(&self) -> serde_json::Value {
        // Plain structs with string keys: serialising cannot fail (non-finite numbers, which
        // JSON lacks, are written as null).
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// [`to_json`](Self::to_json) as bytes, for the `kyc-ocr-raw/{id}.json` object.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Reads a stored object back. Errors say where, never what.
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self, TextractError> {
        let max = 2 * MAX_RESPONSE_BYTES;
        if bytes.len() > max {
            return Err(TextractError::TooLarge { max });
        }
        serde_json::from_slice(bytes).map_err(|e| {
            let (line, column) = (e.line(), e.column());
            match e.classify() {
                serde_json::error::Category::Data => {
                    TextractError::UnexpectedShape { line, column }
                }
                _ => TextractError::InvalidJson { line, column },
            }
        })
    }

    /// The reading of these responses as of `today`: printed fields normalised by kyc-core,
    /// the MRZ text, and the printed fields normalised again with the MRZ's issuing state when
    /// it is certain. Pure: the same responses give the same reading.
    pub fn reading(&self, today: Date) -> DocumentReading {
        let hints = NormaliseHints::new(today);
        let first = self.normalise(&hints);
        let doc = match first
            .extras
            .mrz_text
            .as_ref()
            .and_then(|m| issuing_state(&m.value, today))
        {
            Some(state) => self.normalise(&hints.with_issuing_country(state)),
            None => first,
        };
        let mut reading = DocumentReading::from(doc);
        reading.mrz_text = reading.mrz_text.filter(|t| !t.trim().is_empty());
        reading
    }

    /// The responses normalised with `hints` into one record.
    pub fn normalise(&self, hints: &NormaliseHints) -> NormalisedDocument {
        match (&self.analyze_id, &self.analyze_document) {
            (None, None) => NormalisedDocument::default(),
            (Some(id), None) => normalise_analyze_id(id, hints),
            (None, Some(forms)) => normalise_analyze_document(forms, hints),
            (Some(id), Some(forms)) => merge(id, forms, hints),
        }
    }
}

/// The `Both` reading: AnalyzeID's record, as canonical pairs (its first and middle names
/// already joined, its dates already settled), and the FORMS pairs go through one
/// normalisation, where the more confident value of a field wins and differing values are
/// recorded as conflicts. AnalyzeID's pairs come first, so they win ties.
fn merge(
    id: &AnalyzeIdResponse,
    forms: &AnalyzeDocumentResponse,
    hints: &NormaliseHints,
) -> NormalisedDocument {
    let id_doc = normalise_analyze_id(id, hints);
    let (forms_pairs, mut warnings) = key_value_pairs(&forms.blocks);
    let mut pairs = id_doc.to_pairs();
    pairs.extend(forms_pairs);
    let mut doc = normalise_pairs(&pairs, hints);
    if doc.extras.mrz_text.is_none() {
        // Neither holds a labelled MRZ (AnalyzeID's record has its page's MRZ-like lines
        // already): FORMS's lines that look like one.
        doc.extras.mrz_text = normalise_analyze_document(forms, hints).extras.mrz_text;
    }
    // A date AnalyzeID left ambiguous stays known as such unless the merge settled the field.
    for amb in id_doc.ambiguous_dates {
        let settled = match amb.field {
            FieldName::BirthDate => doc.fields.birth_date.is_some(),
            FieldName::ExpiryDate => doc.fields.expiry_date.is_some(),
            FieldName::IssueDate => doc.extras.issue_date.is_some(),
            _ => false,
        };
        if !settled && !doc.ambiguous_dates.iter().any(|a| a.field == amb.field) {
            doc.ambiguous_dates.push(amb);
        }
    }
    // Structural problems of the FORMS response first, then AnalyzeID's, then the merge's.
    for w in id_doc.warnings.into_iter().chain(doc.warnings) {
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }
    doc.warnings = warnings;
    doc
}

/// The issuing state of an MRZ text, when every reading that passes its check digits agrees.
fn issuing_state(mrz_text: &str, today: Date) -> Option<CountryCode> {
    kyc_core::mrz::parse_tolerant(mrz_text, today)
        .ok()?
        .agreed_issuing_state()
}

/// What Textract made of one document: the reading and the responses it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct TextractAnalysis {
    /// The reading handed to kyc-core.
    pub reading: DocumentReading,
    /// The responses, for the `kyc-ocr-raw/{id}.json` object.
    pub responses: TextractResponses,
}

/// The Textract document reader.
#[derive(Clone)]
pub struct TextractDocumentReader {
    client: aws_sdk_textract::Client,
    mode: TextractMode,
    breaker: CircuitBreaker,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for TextractDocumentReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TextractDocumentReader")
            .field("mode", &self.mode)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

impl TextractDocumentReader {
    /// A reader on a client built from the shared configuration (retries and timeouts of
    /// [`crate::config::AwsSettings`]). `clock` gives "today" for the date rules of the printed
    /// fields; `breaker` guards the calls (usually
    /// `CircuitBreaker::new(BACKEND, BreakerSettings::default(), clock)`).
    pub fn new(
        config: &SdkConfig,
        mode: TextractMode,
        breaker: CircuitBreaker,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::from_client(aws_sdk_textract::Client::new(config), mode, breaker, clock)
    }

    /// A reader on a given client (whose configuration must carry the retry and timeout
    /// settings).
    pub fn from_client(
        client: aws_sdk_textract::Client,
        mode: TextractMode,
        breaker: CircuitBreaker,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            client,
            mode,
            breaker,
            clock,
        }
    }

    /// The mode.
    pub fn mode(&self) -> TextractMode {
        self.mode
    }

    /// The circuit breaker guarding the calls.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// Reads a document and keeps the responses. See the module documentation for the calls
    /// made and the errors.
    pub async fn analyze(&self, image: &Image) -> Result<TextractAnalysis, ReadError> {
        if image.bytes().len() > MAX_IMAGE_BYTES {
            return Err(ReadError::InvalidImage);
        }
        self.breaker.acquire().map_err(ReadError::Backend)?;
        let mut guard = Guarded {
            breaker: &self.breaker,
            reported: false,
        };
        let result = self.call(image).await;
        guard.report(match &result {
            Err(e) if is_transient(e) => CallOutcome::Transient,
            _ => CallOutcome::Healthy,
        });
        let responses = result?;
        let reading = responses.reading(self.clock.now().date());
        Ok(TextractAnalysis { reading, responses })
    }

    /// Checks untrusted bytes (JPEG or PNG by magic bytes, at most [`MAX_IMAGE_BYTES`]) and
    /// reads them; [`ReadError::InvalidImage`] without a request when they do not pass.
    pub async fn analyze_bytes(
        &self,
        bytes: impl Into<Arc<[u8]>>,
    ) -> Result<TextractAnalysis, ReadError> {
        let image = Image::parse(bytes, MAX_IMAGE_BYTES).map_err(|_| ReadError::InvalidImage)?;
        self.analyze(&image).await
    }

    async fn call(&self, image: &Image) -> Result<TextractResponses, ReadError> {
        let document = Document::builder()
            .bytes(Blob::new(image.bytes().to_vec()))
            .build();
        let mut responses = TextractResponses::default();
        if self.mode.calls_analyze_id() {
            let output = self
                .client
                .analyze_id()
                .document_pages(document.clone())
                .send()
                .await
                .map_err(|e| read_error(&e))?;
            responses.analyze_id = Some(convert::analyze_id_response(&output));
        }
        if self.mode.calls_forms() {
            let output = self
                .client
                .analyze_document()
                .document(document)
                .feature_types(FeatureType::Forms)
                .send()
                .await
                .map_err(|e| read_error(&e))?;
            responses.analyze_document = Some(convert::analyze_document_response(&output));
        }
        Ok(responses)
    }
}

impl DocumentReader for TextractDocumentReader {
    fn read(
        &self,
        image: &Image,
    ) -> impl std::future::Future<Output = Result<DocumentReading, ReadError>> + Send {
        let image = image.clone();
        async move { self.analyze(&image).await.map(|a| a.reading) }
    }
}

/// A call admitted by the breaker, whose outcome must be reported. A read abandoned before it
/// finished (its future dropped: a caller's timeout, a Lambda deadline) is reported as a
/// transient failure when the guard drops; otherwise a half-open breaker whose probe was
/// abandoned would wait for that report for ever and refuse every later read.
struct Guarded<'a> {
    breaker: &'a CircuitBreaker,
    reported: bool,
}

impl Guarded<'_> {
    fn report(&mut self, outcome: CallOutcome) {
        self.reported = true;
        self.breaker.record(outcome);
    }
}

impl Drop for Guarded<'_> {
    fn drop(&mut self) {
        if !self.reported {
            self.breaker.record(CallOutcome::Transient);
        }
    }
}

/// Whether a read error counts as a failure of the service for the breaker.
fn is_transient(e: &ReadError) -> bool {
    matches!(e, ReadError::Backend(PortError::Unavailable { .. }))
}

/// Textract's codes for a request whose document it cannot use.
const INVALID_DOCUMENT_CODES: &[&str] = &[
    "UnsupportedDocumentException",
    "BadDocumentException",
    "InvalidParameterException",
    "InvalidS3ObjectException",
];

/// Maps an SDK error of a Textract call (see the table in the module documentation).
pub fn read_error<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> ReadError {
    let SdkError::ServiceError(service) = err else {
        return ReadError::Backend(to_port_error(BACKEND, err));
    };
    let status = service.raw().status().as_u16();
    match service.err().code() {
        Some(code) if INVALID_DOCUMENT_CODES.contains(&code) => ReadError::InvalidImage,
        Some("DocumentTooLargeException") => ReadError::PoorQuality,
        // An answer without an error code and with a success status is a body the SDK could
        // not parse: retrying gets the same body.
        None if (200..300).contains(&status) => ReadError::Backend(PortError::Rejected {
            backend: BACKEND,
            reason: "the response could not be read",
        }),
        code => ReadError::Backend(port_error(BACKEND, classify_code(code, Some(status)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_name_their_calls_and_actions() {
        assert!(TextractMode::default().calls_forms());
        assert!(!TextractMode::default().calls_analyze_id());
        assert!(TextractMode::Both.calls_forms() && TextractMode::Both.calls_analyze_id());
        assert_eq!(TextractMode::Both.iam_actions().len(), 2);
        for m in [
            TextractMode::AnalyzeId,
            TextractMode::Forms,
            TextractMode::Both,
        ] {
            assert_eq!(m.to_string().parse::<TextractMode>().unwrap(), m);
        }
        assert!(" BOTH ".parse::<TextractMode>().is_ok());
        assert!("".parse::<TextractMode>().is_err());
    }

    #[test]
    fn no_responses_read_as_nothing() {
        let r = TextractResponses::default().reading(Date::from_ymd(2026, 1, 15).unwrap());
        assert_eq!(r, DocumentReading::default());
        assert_eq!(TextractResponses::default().to_json_bytes(), b"{}");
    }

    #[test]
    fn stored_objects_that_are_not_responses_are_refused_without_echo() {
        let e = TextractResponses::from_json_slice(
            br#"{"AnalyzeID": {"IdentityDocuments": "SECRET"}}"#,
        )
        .unwrap_err();
        assert!(matches!(e, TextractError::UnexpectedShape { .. }));
        assert!(!format!("{e} {e:?}").contains("SECRET"));
        let e = TextractResponses::from_json_slice(b"{\"AnalyzeDocument\": {\"Blocks\": [SECRET")
            .unwrap_err();
        assert!(matches!(e, TextractError::InvalidJson { .. }));
        let big = vec![b' '; 2 * MAX_RESPONSE_BYTES + 1];
        assert!(matches!(
            TextractResponses::from_json_slice(&big),
            Err(TextractError::TooLarge { .. })
        ));
    }
}
