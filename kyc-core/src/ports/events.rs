//! `EventPublisher`: domain events for other systems (SNS in AWS; an in-process bus with a
//! durable outbox locally). Events carry identifiers and outcomes, never personal data.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::PortError;
use crate::decision::Status;
use crate::model::{Timestamp, VerificationId};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EventKind {
    /// A document image was stored.
    DocumentUploaded,
    /// The document was read.
    DocumentRead,
    /// A liveness challenge was issued.
    LivenessStarted,
    /// The liveness outcome is known.
    LivenessCompleted,
    /// A decision was made (see `status`).
    Decided,
    /// The verification's data was erased.
    Erased,
}

/// One domain event. Contains no personal data by construction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainEvent {
    /// Which verification.
    pub verification_id: VerificationId,
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub at: Timestamp,
    /// The decision status, for `Decided`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<Status>,
}

/// Publishes domain events.
pub trait EventPublisher: Send + Sync {
    /// MUST deliver the event at least once once it returns `Ok` (durable before returning);
    /// subscribers de-duplicate by (verification id, kind, at). `Err` means nothing was
    /// accepted and the caller may retry.
    fn publish(&self, event: &DomainEvent) -> impl Future<Output = Result<(), PortError>> + Send;
}
