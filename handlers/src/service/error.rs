//! `ServiceError`: why a service operation failed, named for outcomes the HTTP layer maps to
//! problem documents. Messages carry no personal data and no backend text.

use kyc_core::model::ValueError;
use kyc_core::ports::PortError;
use kyc_core::session::{SessionError, StateName};

/// Why a service operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// No verification with that id.
    #[error("verification not found")]
    NotFound,
    /// The verification's data were erased.
    #[error("verification was erased")]
    Erased,
    /// The verification's deadline passed.
    #[error("verification has expired")]
    Expired,
    /// The document is still being read; try again shortly.
    #[error("the document is still being read")]
    DocumentPending,
    /// The step is not allowed in the verification's state.
    #[error("not allowed while the verification is {0}")]
    InvalidState(StateName),
    /// The nonce is not the open challenge's.
    #[error("the liveness challenge is not the open one")]
    StaleChallenge,
    /// The challenge limit was reached.
    #[error("no more liveness challenges may be issued")]
    ChallengeLimit,
    /// The frame was refused by the liveness tracker (the code says why).
    #[error("frame refused: {0}")]
    FrameRejected(&'static str),
    /// The frame id is not 1–64 characters of `A-Za-z0-9_-`.
    #[error("invalid frame id")]
    InvalidFrameId,
    /// An idempotency key was reused with a different request.
    #[error("idempotency key was already used for a different request")]
    IdempotencyKeyReused,
    /// The image could not be decoded.
    #[error("the image could not be decoded")]
    InvalidImage,
    /// No face was found where one is needed.
    #[error("no face detected")]
    NoFace,
    /// A face failed the quality gate (the code says why).
    #[error("face quality insufficient: {0}")]
    FaceQuality(&'static str),
    /// Too many concurrent writers on one verification.
    #[error("the verification is busy; retry")]
    Busy,
    /// A backend is temporarily unavailable.
    #[error("a backend is temporarily unavailable")]
    Unavailable,
    /// A backend is misconfigured or refused the request.
    #[error("a backend failed")]
    Backend,
    /// A value could not be built (never input-derived: those are validated earlier).
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl ServiceError {
    /// Whether retrying the same request later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable | Self::Busy | Self::DocumentPending)
    }
}

impl From<PortError> for ServiceError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Unavailable { .. } | PortError::Conflict => Self::Unavailable,
            _ => Self::Backend,
        }
    }
}

impl From<ValueError> for ServiceError {
    fn from(_: ValueError) -> Self {
        Self::Internal("value")
    }
}

impl From<SessionError> for ServiceError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::InvalidTransition { from, .. } => Self::InvalidState(from),
            SessionError::Expired => Self::Expired,
            SessionError::Erased => Self::Erased,
            SessionError::KeyReused { .. } => Self::IdempotencyKeyReused,
            SessionError::StaleChallenge => Self::StaleChallenge,
            SessionError::ChallengeLimitReached { .. } => Self::ChallengeLimit,
            SessionError::TooManyFrames { .. } => Self::FrameRejected("TOO_MANY_FRAMES"),
            SessionError::NoFrames => Self::FrameRejected("TOO_FEW_FRAMES"),
            _ => Self::InvalidState(StateName::Decided),
        }
    }
}
