//! The OCR function: an S3 `ObjectCreated` event on the uploads bucket reads the uploaded
//! document ([`Service::read_document`]), which writes the `KycOcrData` record whose stream
//! then triggers screening.
//!
//! Object keys arrive URL-encoded (`+` for a space, `%XX` for other bytes) and are decoded
//! before anything else. Only a key that is exactly an upload's key, `{verificationId}.jpg` at
//! the bucket's root in canonical form, is read; any other key, a non-`ObjectCreated` record
//! or a payload that is not an S3 notification is skipped with a log line that never shows
//! the key (it holds a verification id, or whatever a hostile writer put there).
//!
//! # Failures and retries
//!
//! S3 invokes the function asynchronously: an error makes Lambda retry the whole event (twice,
//! then the dead-letter queue). So a failure that can heal is returned as the error: a backend
//! that is unavailable, a busy session, and a session not found yet (the upload stores the
//! image before it saves the session, so the event can overtake it). Every record of the event
//! is still attempted first; reading is idempotent, so records already read are left alone on
//! the retry. A failure that cannot heal (an erased or expired verification, an image that does
//! not decode, a misconfigured backend) is logged and the record dropped.

use aws_lambda_events::event::s3::S3Event;
use kyc_core::model::VerificationId;
use kyc_core::ports::ObjectKey;

use super::tag;
use crate::service::{Platform, Service, ServiceError};

/// The longest key looked at (an upload key is 40 characters).
const MAX_KEY_LEN: usize = 1024;

/// What one invocation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OcrReport {
    /// Documents read with something usable.
    pub read: usize,
    /// Documents read with nothing usable (the verification goes on to its decision).
    pub unreadable: usize,
    /// Records that are not an upload's creation.
    pub skipped: usize,
    /// Uploads that failed for good (logged, not retried).
    pub dropped: usize,
    /// Uploads that failed in a way a retry can heal.
    pub retry: usize,
}

/// Decodes an S3 event key: `+` is a space, `%XX` a byte; the result must be UTF-8. `None`
/// for a malformed escape or invalid UTF-8.
///
/// ```
/// use handlers::lambda::ocr::decode_key;
/// assert_eq!(decode_key("a+b%2Fc.jpg").as_deref(), Some("a b/c.jpg"));
/// assert_eq!(decode_key("%zz"), None);
/// ```
pub fn decode_key(key: &str) -> Option<String> {
    let b = key.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = b.get(i + 1).and_then(|&h| char::from(h).to_digit(16))?;
                let lo = b.get(i + 2).and_then(|&l| char::from(l).to_digit(16))?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The verification whose upload `key` (as the event gives it, URL-encoded) is, if it is one.
///
/// ```
/// use handlers::lambda::ocr::upload_id;
/// let id = "0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3";
/// assert!(upload_id(&format!("{id}.jpg")).is_some());
/// assert!(upload_id(&format!("kyc-live-frames/{id}/f1.jpg")).is_none());
/// assert!(upload_id("../etc/passwd").is_none());
/// ```
pub fn upload_id(key: &str) -> Option<VerificationId> {
    if key.len() > MAX_KEY_LEN {
        return None;
    }
    let decoded = decode_key(key)?;
    let id = VerificationId::parse(decoded.strip_suffix(".jpg")?).ok()?;
    (ObjectKey::id_upload(&id).path() == decoded).then_some(id)
}

/// Handles an invocation payload: an S3 event notification, anything else skipped.
pub async fn handle_json<P: Platform>(
    service: &Service<P>,
    payload: serde_json::Value,
) -> Result<OcrReport, ServiceError> {
    match serde_json::from_value::<S3Event>(payload) {
        Ok(event) => handle(service, event).await,
        Err(_) => {
            tracing::warn!("the payload is not an S3 event notification; skipped");
            Ok(OcrReport {
                skipped: 1,
                ..OcrReport::default()
            })
        }
    }
}

/// Handles an S3 event: reads every uploaded document it announces. Returns the first failure
/// a retry can heal, after attempting every record.
pub async fn handle<P: Platform>(
    service: &Service<P>,
    event: S3Event,
) -> Result<OcrReport, ServiceError> {
    let mut report = OcrReport::default();
    let mut first_retryable = None;
    for (n, record) in event.records.iter().enumerate() {
        let created = record
            .event_name
            .as_deref()
            .is_some_and(|e| e.starts_with("ObjectCreated:"));
        let id = record.s3.object.key.as_deref().and_then(upload_id);
        let Some(id) = id.filter(|_| created) else {
            report.skipped += 1;
            tracing::info!(record = n, created, "not an upload's creation; skipped");
            continue;
        };
        let reference = tag(&id);
        match service.read_document(&id).await {
            Ok(true) => {
                report.read += 1;
                tracing::info!(record = n, verification = %reference, "document read");
            }
            Ok(false) => {
                report.unreadable += 1;
                tracing::info!(record = n, verification = %reference, "document unreadable");
            }
            Err(e) if e.is_retryable() || e == ServiceError::NotFound => {
                report.retry += 1;
                tracing::warn!(record = n, verification = %reference, error = %e, "document not read; the event will be retried");
                first_retryable.get_or_insert(e);
            }
            Err(e) => {
                report.dropped += 1;
                tracing::error!(record = n, verification = %reference, error = %e, "document not read; dropped");
            }
        }
    }
    match first_retryable {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ID: &str = "0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3";

    #[test]
    fn upload_keys_are_recognised_encoded_or_not() {
        let id = VerificationId::parse(ID).unwrap();
        assert_eq!(upload_id(&format!("{ID}.jpg")), Some(id));
        assert_eq!(upload_id(&format!("{ID}%2Ejpg")), Some(id));
        assert_eq!(
            upload_id("%30b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3.jpg"),
            Some(id)
        );
    }

    #[test]
    fn keys_that_are_not_canonical_upload_keys_are_refused() {
        for key in [
            format!("{ID}.png"),
            format!("{ID}.jpg.jpg"),
            format!("kyc-id-uploads/{ID}.jpg"),
            format!("/{ID}.jpg"),
            format!("{ID}/frame.jpg"),
            format!("{}.jpg", ID.to_uppercase()),
            format!("{ID}.jpg%00"),
            format!("{ID}+.jpg"),
            format!("..%2F{ID}.jpg"),
            "%".to_owned(),
            "%4".to_owned(),
            "%C3%28.jpg".to_owned(),
            String::new(),
            "a".repeat(5000),
        ] {
            assert_eq!(upload_id(&key), None, "{key}");
        }
    }

    #[test]
    fn decoding_handles_plus_escapes_and_multibyte_text() {
        assert_eq!(decode_key("%E2%82%AC+x").as_deref(), Some("€ x"));
        assert_eq!(decode_key("100%25").as_deref(), Some("100%"));
        assert_eq!(decode_key("%"), None);
        assert_eq!(decode_key("%FF"), None);
    }

    proptest! {
        #[test]
        fn arbitrary_keys_never_panic_and_only_canonical_ones_pass(key in ".{0,80}") {
            if let Some(id) = upload_id(&key) {
                prop_assert_eq!(decode_key(&key), Some(format!("{id}.jpg")));
            }
        }

        #[test]
        fn encoding_then_decoding_is_the_identity(s in ".{0,40}") {
            let encoded: String = s
                .bytes()
                .map(|b| match b {
                    b' ' => "+".to_owned(),
                    b if b.is_ascii_alphanumeric() => char::from(b).to_string(),
                    b => format!("%{b:02X}"),
                })
                .collect();
            prop_assert_eq!(decode_key(&encoded), Some(s));
        }
    }
}
