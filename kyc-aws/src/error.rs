//! Classifying SDK errors: retryable or not, and into kyc-core's `PortError` with fixed texts.
//!
//! The service's own message is never copied: it can echo request content (a key, an item, a
//! name). Only the error *code* (e.g. `ThrottlingException`) is looked at, and it is kept out
//! of messages too; [`ErrorSummary`] gives callers a PII-free line for their logs.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use kyc_core::ports::PortError;

/// How a failed call should be treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Failure {
    /// Throttling, a 5xx answer, a timeout or a connection failure: retry later.
    Transient,
    /// A conditional write's condition did not hold (optimistic concurrency).
    ConditionFailed,
    /// The named resource (table, bucket, key, topic, parameter) does not exist.
    NotFound,
    /// The caller lacks permission, or the key or resource is disabled.
    Denied,
    /// The request itself is invalid (validation, bad image, too large): retrying cannot help.
    Invalid,
}

impl Failure {
    /// Whether retrying the same call later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Transient)
    }
}

/// Error codes that mean "slow down" or "try again" across AWS services.
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "TransactionInProgressException",
    "TransactionConflictException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerErrorException",
    "InternalServiceError",
    "InternalServiceErrorException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "ProvisionedThroughputExceeded",
];

const CONDITION_CODES: &[&str] = &[
    "ConditionalCheckFailedException",
    "PreconditionFailed",
    "TransactionCanceledException",
];

const NOT_FOUND_CODES: &[&str] = &[
    "ResourceNotFoundException",
    "NoSuchBucket",
    "NoSuchKey",
    "NotFound",
    "NotFoundException",
    "ParameterNotFound",
    "ParametersNotFound",
];

const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "AuthorizationErrorException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "DisabledException",
    "KMSInvalidStateException",
    "KeyUnavailableException",
    "DecryptionFailure",
    "InvalidKeyUsageException",
];

/// Classifies an error code and HTTP status (either may be missing).
pub fn classify_code(code: Option<&str>, status: Option<u16>) -> Failure {
    if let Some(code) = code {
        if TRANSIENT_CODES.contains(&code) {
            return Failure::Transient;
        }
        if CONDITION_CODES.contains(&code) {
            return Failure::ConditionFailed;
        }
        if NOT_FOUND_CODES.contains(&code) {
            return Failure::NotFound;
        }
        if DENIED_CODES.contains(&code) {
            return Failure::Denied;
        }
    }
    match status {
        Some(429) | Some(500..=599) => Failure::Transient,
        Some(401) | Some(403) => Failure::Denied,
        Some(404) => Failure::NotFound,
        Some(409) | Some(412) => Failure::ConditionFailed,
        // A service error without a recognised code or status: assume the request is at fault.
        _ => Failure::Invalid,
    }
}

/// Classifies an SDK error.
pub fn classify<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Failure {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Failure::Transient
        }
        SdkError::ConstructionFailure(_) => Failure::Invalid,
        SdkError::ServiceError(service) => {
            classify_code(service.err().code(), Some(service.raw().status().as_u16()))
        }
        // SdkError is non-exhaustive: an unknown kind is most likely transport trouble.
        _ => Failure::Transient,
    }
}

/// The `PortError` for a failure of `backend`.
pub fn port_error(backend: &'static str, failure: Failure) -> PortError {
    match failure {
        Failure::Transient => PortError::Unavailable { backend },
        Failure::ConditionFailed => PortError::Conflict,
        Failure::NotFound => PortError::Misconfigured {
            backend,
            reason: "a configured resource does not exist".to_owned(),
        },
        Failure::Denied => PortError::Misconfigured {
            backend,
            reason: "access was denied or the key is not usable".to_owned(),
        },
        Failure::Invalid => PortError::Rejected {
            backend,
            reason: "the request was invalid",
        },
    }
}

/// Classifies an SDK error and maps it to a `PortError` of `backend`.
pub fn to_port_error<E: ProvideErrorMetadata>(
    backend: &'static str,
    err: &SdkError<E, HttpResponse>,
) -> PortError {
    port_error(backend, classify(err))
}

/// A PII-free description of an SDK error for log lines: the kind, the error code and the
/// HTTP status, never the message.
pub struct ErrorSummary<'a, E>(pub &'a SdkError<E, HttpResponse>);

impl<E: ProvideErrorMetadata> fmt::Display for ErrorSummary<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            SdkError::TimeoutError(_) => f.write_str("timeout"),
            SdkError::DispatchFailure(_) => f.write_str("dispatch failure"),
            SdkError::ResponseError(_) => f.write_str("unreadable response"),
            SdkError::ConstructionFailure(_) => f.write_str("request construction failure"),
            SdkError::ServiceError(s) => write!(
                f,
                "service error {} (HTTP {})",
                s.err().code().unwrap_or("without code"),
                s.raw().status().as_u16()
            ),
            _ => f.write_str("unknown SDK error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_transient() {
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
            "SlowDown",
        ] {
            assert_eq!(
                classify_code(Some(code), Some(400)),
                Failure::Transient,
                "{code}"
            );
        }
        assert_eq!(classify_code(None, Some(503)), Failure::Transient);
        assert_eq!(
            classify_code(Some("Whatever"), Some(500)),
            Failure::Transient
        );
        assert_eq!(classify_code(None, Some(429)), Failure::Transient);
    }

    #[test]
    fn client_errors_are_not_retryable() {
        assert_eq!(
            classify_code(Some("ValidationException"), Some(400)),
            Failure::Invalid
        );
        assert_eq!(
            classify_code(Some("InvalidImageFormatException"), Some(400)),
            Failure::Invalid
        );
        assert_eq!(
            classify_code(Some("ConditionalCheckFailedException"), Some(400)),
            Failure::ConditionFailed
        );
        assert_eq!(
            classify_code(Some("AccessDeniedException"), Some(400)),
            Failure::Denied
        );
        assert_eq!(
            classify_code(Some("ResourceNotFoundException"), Some(400)),
            Failure::NotFound
        );
        assert!(!Failure::Invalid.is_retryable());
        assert!(Failure::Transient.is_retryable());
    }

    #[test]
    fn port_errors_keep_the_retryable_classification() {
        for f in [
            Failure::Transient,
            Failure::ConditionFailed,
            Failure::NotFound,
            Failure::Denied,
            Failure::Invalid,
        ] {
            let e = port_error("s3", f);
            assert_eq!(
                e.is_retryable(),
                matches!(f, Failure::Transient | Failure::ConditionFailed),
                "{f:?}"
            );
        }
    }
}
