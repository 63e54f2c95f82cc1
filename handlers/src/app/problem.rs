//! Errors as RFC 9457 problem documents (`application/problem+json`): a stable `type`
//! (`urn:kyc-kit:problem:<code>`), a fixed `title` per code, the status, and the request id.
//! Never a stack trace, a backend message or personal data.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::media::MediaError;
use crate::service::ServiceError;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable kebab-case code (the `type` suffix).
    pub code: &'static str,
    /// A fixed, human-readable summary of the code.
    pub title: &'static str,
    /// Optional fixed detail (never input-derived).
    pub detail: Option<String>,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after: Option<u32>,
}

/// The problem document's JSON.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProblemBody {
    /// `urn:kyc-kit:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// More about this occurrence, when there is something safe to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request id (also in the `x-request-id` header and the server's log lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    /// A problem with a code and title.
    pub const fn new(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        Self {
            status,
            code,
            title,
            detail: None,
            retry_after: None,
        }
    }

    /// With a detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// With `Retry-After`.
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// 400 for a request body that is not the JSON expected.
    pub fn bad_json() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-json",
            "The request body is not the JSON this endpoint expects",
        )
    }

    /// 400 for a `multipart/form-data` body that cannot be parsed (no boundary, cut short,
    /// malformed part headers).
    pub fn bad_multipart() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-multipart",
            "The request body is not a valid multipart form",
        )
    }

    /// 400 for an invalid field.
    pub fn invalid_field(field: &'static str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-field",
            "A request field is missing or invalid",
        )
        .detail(format!("field: {field}"))
    }

    /// 404 for unknown routes and ids.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "No such resource")
    }

    /// 413.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "The request body is larger than this endpoint accepts",
        )
        .detail(format!("limit: {limit} bytes"))
    }

    /// 415.
    pub fn unsupported_content_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-content-type",
            "The request's content type is not accepted by this endpoint",
        )
    }

    /// 500, without anything about the cause.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error",
            "The server failed to handle the request",
        )
    }

    /// The response, with the request id when known.
    pub fn into_response_with(self, request_id: Option<&str>) -> Response {
        let body = ProblemBody {
            kind: format!("urn:kyc-kit:problem:{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            request_id: request_id.map(str::to_owned),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut r = (self.status, bytes).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}

tokio::task_local! {
    /// The id of the request being handled (set by the app's request layer around each
    /// request), so every problem document carries it.
    pub static REQUEST_ID: String;
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let id = REQUEST_ID.try_with(Clone::clone).ok();
        self.into_response_with(id.as_deref())
    }
}

impl From<MediaError> for Problem {
    fn from(e: MediaError) -> Self {
        let (status, title) = match e {
            MediaError::TooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "The image is larger than this endpoint accepts",
            ),
            MediaError::UnsupportedType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The image is not a JPEG or PNG",
            ),
            MediaError::InvalidBase64 => (StatusCode::BAD_REQUEST, "The image is not valid base64"),
            MediaError::Empty => (StatusCode::BAD_REQUEST, "The image is empty"),
            _ => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "The image is not acceptable",
            ),
        };
        Self::new(status, e.code(), title).detail(e.to_string())
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        use StatusCode as S;
        match e {
            ServiceError::NotFound => Self::new(
                S::NOT_FOUND,
                "verification-not-found",
                "No verification with this id",
            ),
            ServiceError::Erased => Self::new(
                S::GONE,
                "verification-erased",
                "The verification's data were erased",
            ),
            ServiceError::Expired => Self::new(
                S::CONFLICT,
                "verification-expired",
                "The verification's deadline has passed",
            ),
            ServiceError::DocumentPending => Self::new(
                S::CONFLICT,
                "document-pending",
                "The document is still being read; retry shortly",
            )
            .retry_after(1),
            ServiceError::InvalidState(state) => Self::new(
                S::CONFLICT,
                "invalid-state",
                "This step is not allowed in the verification's current state",
            )
            .detail(format!("state: {state}")),
            ServiceError::StaleChallenge => Self::new(
                S::CONFLICT,
                "stale-challenge",
                "The nonce is not the open liveness challenge's",
            ),
            ServiceError::ChallengeLimit => Self::new(
                S::CONFLICT,
                "challenge-limit",
                "No more liveness challenges may be issued",
            ),
            ServiceError::FrameRejected(code) => Self::new(
                S::UNPROCESSABLE_ENTITY,
                "frame-rejected",
                "The frame was refused by the liveness check",
            )
            .detail(format!("reason: {code}")),
            ServiceError::InvalidFrameId => Self::invalid_field("frameId"),
            ServiceError::IdempotencyKeyReused => Self::new(
                S::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "The Idempotency-Key was already used for a different request",
            ),
            ServiceError::InvalidImage => Self::new(
                S::UNPROCESSABLE_ENTITY,
                "image-undecodable",
                "The image could not be decoded",
            ),
            ServiceError::NoFace => Self::new(
                S::UNPROCESSABLE_ENTITY,
                "no-face",
                "No face was found in an image",
            ),
            ServiceError::FaceQuality(code) => Self::new(
                S::UNPROCESSABLE_ENTITY,
                "face-quality",
                "A face did not pass the quality gate",
            )
            .detail(format!("reason: {code}")),
            ServiceError::Busy => Self::new(
                S::CONFLICT,
                "busy",
                "The verification is being changed by another request; retry",
            )
            .retry_after(1),
            ServiceError::Unavailable => Self::new(
                S::SERVICE_UNAVAILABLE,
                "unavailable",
                "A backend is temporarily unavailable; retry later",
            )
            .retry_after(2),
            ServiceError::Backend | ServiceError::Internal(_) => Self::internal(),
        }
    }
}
