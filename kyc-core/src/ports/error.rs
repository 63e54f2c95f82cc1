//! `PortError`: the failure shape shared by adapter ports, classified so that callers (and
//! Lambda's retries and dead-letter queues) know whether trying again can help.

/// Why an adapter call failed. Messages never carry personal data or the backend's raw text
/// (which may echo request content); the adapter logs details, with PII redacted, itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PortError {
    /// The backend is throttling, timing out or temporarily down; retrying later may succeed.
    #[error("{backend} is temporarily unavailable")]
    Unavailable {
        /// Which backend (e.g. `s3`, `sqlite`, `rekognition`).
        backend: &'static str,
    },
    /// A conditional write lost a race (optimistic concurrency); re-read and retry.
    #[error("concurrent update conflict")]
    Conflict,
    /// The request was refused as invalid by the backend; retrying the same call cannot help.
    #[error("{backend} rejected the request: {reason}")]
    Rejected {
        /// Which backend.
        backend: &'static str,
        /// A fixed description of the reason (never backend text).
        reason: &'static str,
    },
    /// The adapter is misconfigured (missing bucket, key, model file…).
    #[error("{backend} is misconfigured: {reason}")]
    Misconfigured {
        /// Which backend.
        backend: &'static str,
        /// What is wrong, e.g. which setting is missing.
        reason: String,
    },
    /// Stored data failed an integrity check (tampered ciphertext, broken record).
    #[error("stored data failed an integrity check")]
    Integrity,
}

impl PortError {
    /// Whether retrying the same call later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Conflict)
    }
}
