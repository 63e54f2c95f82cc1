//! The ports one verification service needs, bundled: a [`Platform`] is the set of adapters a
//! composition root (`kyc serve`, a Lambda function's `main`, `kyc verify`) hands the service.
//! Plus the one port kyc-core does not define: [`RecordStore`], the structured OCR record.

use std::future::Future;

use kyc_core::audit::AuditLog;
use kyc_core::decision::DocumentEvidence;
use kyc_core::model::{Date, Timestamp, VerificationId};
use kyc_core::ports::{
    Clock, DocumentReader, DocumentStore, EventPublisher, FaceAnalyzer, FaceComparer, PortError,
    RandomSource, SessionStore,
};
use kyc_core::sanctions::SanctionsScreener;
use kyc_core::token::{Jwks, TokenSigner};
use serde::{Deserialize, Serialize};

/// The structured result of reading one document: what the decision document shows under
/// `document`, the evidence the decision engine needs, and the subject screened. **Personal
/// data**: stored encrypted (`KycOcrData` in AWS, sealed SQLite locally), never logged; its
/// `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentRecord {
    /// The document view (`{"fields", "mrz", "evidence"}`, as `kyc document read --json`).
    pub view: serde_json::Value,
    /// The decision engine's summary.
    pub evidence: DocumentEvidence,
    /// Whether anything usable was read.
    pub readable: bool,
    /// Who to screen.
    pub subject: Subject,
}

impl std::fmt::Debug for DocumentRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentRecord")
            .field("readable", &self.readable)
            .finish_non_exhaustive()
    }
}

/// The person to screen, as read from the document.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// Given names and surname, as read (empty when no name was read).
    pub name: String,
    /// Date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    /// Nationality, ISO alpha-3 or ICAO code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
}

/// Stores the [`DocumentRecord`] of each verification until it expires.
pub trait RecordStore: Send + Sync {
    /// Stores (or replaces) the record of `id`, kept until `expires_at`.
    fn put(
        &self,
        id: &VerificationId,
        record: &DocumentRecord,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// The record, `None` when absent or expired.
    fn get(
        &self,
        id: &VerificationId,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<DocumentRecord>, PortError>> + Send;
    /// Deletes the record; `Ok` when absent.
    fn delete(&self, id: &VerificationId) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Every adapter the service uses.
pub trait Platform: Send + Sync + 'static {
    /// Images and frames.
    type Objects: DocumentStore;
    /// Sessions.
    type Sessions: SessionStore;
    /// The audit chain.
    type Audit: AuditLog;
    /// OCR records.
    type Records: RecordStore;
    /// Document reading.
    type Reader: DocumentReader;
    /// Face analysis and comparison.
    type Faces: FaceAnalyzer + FaceComparer;
    /// Sanctions screening.
    type Screener: SanctionsScreener;
    /// Token signing.
    type Signer: TokenSigner;
    /// Domain events.
    type Events: EventPublisher;

    /// Images and frames.
    fn objects(&self) -> &Self::Objects;
    /// Sessions.
    fn sessions(&self) -> &Self::Sessions;
    /// The audit chain.
    fn audit(&self) -> &Self::Audit;
    /// OCR records.
    fn records(&self) -> &Self::Records;
    /// Document reading.
    fn reader(&self) -> &Self::Reader;
    /// Face analysis and comparison.
    fn faces(&self) -> &Self::Faces;
    /// Sanctions screening.
    fn screener(&self) -> &Self::Screener;
    /// Token signing.
    fn signer(&self) -> &Self::Signer;
    /// Domain events.
    fn events(&self) -> &Self::Events;
    /// The clock.
    fn clock(&self) -> &dyn Clock;
    /// Randomness.
    fn random(&self) -> &dyn RandomSource;
    /// The published key set (every key whose tokens may still be valid).
    fn jwks(&self) -> impl Future<Output = Result<Jwks, PortError>> + Send;
}
