//! `DocumentStore`: where uploaded document images, live frames and raw OCR output are kept
//! (S3 with SSE-KMS in AWS; an encrypted file store locally).

use std::fmt;
use std::future::Future;

use super::PortError;
use crate::model::VerificationId;

/// What an object is; each kind has its own prefix (and, in AWS, its own bucket and lifecycle).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// An uploaded identity-document image: `kyc-id-uploads/{verificationId}.jpg`.
    IdUpload,
    /// A live frame: `kyc-live-frames/{verificationId}/{frameId}.jpg`.
    LiveFrame,
    /// The raw OCR output: `kyc-ocr-raw/{verificationId}.json`.
    OcrRaw,
}

impl ObjectKind {
    /// The prefix of this kind's objects (the bucket name's stem in AWS).
    pub fn prefix(self) -> &'static str {
        match self {
            Self::IdUpload => "kyc-id-uploads",
            Self::LiveFrame => "kyc-live-frames",
            Self::OcrRaw => "kyc-ocr-raw",
        }
    }
}

/// The key of one stored object, built only from validated parts so it can never escape its
/// prefix (no `..`, no `/` from user input).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    kind: ObjectKind,
    path: String,
}

impl ObjectKey {
    /// `kyc-id-uploads/{id}.jpg`.
    pub fn id_upload(id: &VerificationId) -> Self {
        Self {
            kind: ObjectKind::IdUpload,
            path: format!("{id}.jpg"),
        }
    }

    /// `kyc-live-frames/{id}/{frame}.jpg`; `frame_id` must be 1–64 characters of
    /// `A-Za-z0-9_-` (it comes from the client).
    pub fn live_frame(id: &VerificationId, frame_id: &str) -> Option<Self> {
        let ok = (1..=64).contains(&frame_id.len())
            && frame_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self {
            kind: ObjectKind::LiveFrame,
            path: format!("{id}/{frame_id}.jpg"),
        })
    }

    /// `kyc-ocr-raw/{id}.json`.
    pub fn ocr_raw(id: &VerificationId) -> Self {
        Self {
            kind: ObjectKind::OcrRaw,
            path: format!("{id}.json"),
        }
    }

    /// The kind.
    pub fn kind(&self) -> ObjectKind {
        self.kind
    }

    /// The key inside the kind's bucket/prefix, e.g. `{id}/{frame}.jpg`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full key with the prefix, e.g. `kyc-live-frames/{id}/{frame}.jpg`.
    pub fn full(&self) -> String {
        format!("{}/{}", self.kind.prefix(), self.path)
    }
}

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectKey({})", self.full())
    }
}

/// Encrypted storage of verification objects.
pub trait DocumentStore: Send + Sync {
    /// Stores `bytes` under `key`, encrypted at rest. MUST be atomic: after `Ok`, a `get`
    /// returns exactly these bytes; after `Err` or a crash, either the old object or nothing is
    /// visible, never a partial one. Overwriting an existing key replaces it.
    fn put(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// MUST return `Ok(None)` when no object exists under `key`, and
    /// `Err(PortError::Integrity)` when the stored bytes fail authentication (tampering).
    fn get(
        &self,
        key: &ObjectKey,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, PortError>> + Send;

    /// Deletes the object; MUST succeed (`Ok`) when it does not exist (erasure is idempotent).
    fn delete(&self, key: &ObjectKey) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Deletes every object of the verification (all kinds); MUST be idempotent. Returns how many
    /// objects were deleted.
    fn delete_all(
        &self,
        id: &VerificationId,
    ) -> impl Future<Output = Result<usize, PortError>> + Send;
}
