//! The Lambda functions' handler functions, tested directly with event fixtures; each binary
//! (`src/bin/{api,ocr,sanctions}.rs`) only wires them to the runtime.
//!
//! | function | event | handler |
//! |---|---|---|
//! | `api` (deployed as `upload-id`, `liveness`, `verify`, `erasure`, `jwks`) | API Gateway REST proxy | [`api::service`]: the HTTP application behind `lambda_http` |
//! | `ocr` | S3 ObjectCreated on the uploads bucket | [`ocr::handle`]: reads the document |
//! | `sanctions` | DynamoDB Stream of `KycOcrData` | [`sanctions::handle`]: screens, partial batch failures |
//!
//! # Logs
//!
//! One JSON object per line ([`init_tracing`]), with no personal data: no names, no document
//! fields, no object keys and no verification ids (an id is a capability: it reads the
//! decision document). A verification is referred to by [`tag`], a short one-way digest of its
//! id that an operator holding the id can recompute to find its lines.

pub mod api;
pub mod ocr;
pub mod sanctions;

use kyc_core::model::VerificationId;
use sha2::{Digest as _, Sha256};

/// Installs the JSON log subscriber: level from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else
/// `info`; no timestamps (Lambda stamps each line) and no ANSI colours. Safe to call twice.
pub fn init_tracing() {
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL").map(|l| l.to_ascii_lowercase()))
        .unwrap_or_else(|_| "info".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .without_time()
        .with_env_filter(filter)
        .try_init();
}

/// A short, one-way reference to a verification for log lines: the first 12 hex digits of the
/// SHA-256 of `kyc-log-tag\0` and its id.
///
/// ```
/// use handlers::lambda::tag;
/// use kyc_core::model::VerificationId;
/// let id = VerificationId::from_random_bytes([7; 16]);
/// assert_eq!(tag(&id).len(), 12);
/// assert!(!id.as_str().contains(&tag(&id)));
/// ```
pub fn tag(id: &VerificationId) -> String {
    let mut h = Sha256::new();
    h.update(b"kyc-log-tag\0");
    h.update(id.as_str().as_bytes());
    hex::encode(&h.finalize()[..6])
}
