//! `S3DocumentStore`: kyc-core's `DocumentStore` port on Amazon S3, with SSE-KMS under the
//! customer-managed data key, SHA-256 checksums, erasure of every object version, and short-lived
//! presigned URLs.
//!
//! # Layout
//!
//! One bucket per [`ObjectKind`] ([`Buckets`]), as the stack creates them
//! (`kyc-<env>-id-uploads-…`, `kyc-<env>-live-frames-…`, `kyc-<env>-ocr-raw-…`); the key inside
//! the bucket is [`ObjectKey::path`]. The plan's layout `kyc-id-uploads/{verificationId}.jpg`,
//! `kyc-live-frames/{verificationId}/{frameId}.jpg` and `kyc-ocr-raw/{verificationId}.json` reads
//! as bucket/key. The uploads bucket's OCR trigger has no key filter (every `ObjectCreated`
//! event invokes the OCR function), so the upload key `{verificationId}.jpg` at the bucket's root
//! always triggers it.
//!
//! # Service calls and the IAM actions they need
//!
//! | Method | S3 calls | IAM actions |
//! |---|---|---|
//! | `put` | PutObject (SSE-KMS, `x-amz-checksum-sha256`) | `s3:PutObject`, `kms:GenerateDataKey` on the data key |
//! | `get` | GetObject (checksum mode on) | `s3:GetObject`, `kms:Decrypt` on the data key |
//! | `delete`, `delete_all` | ListObjectVersions, DeleteObjects (every version and delete marker) | `s3:ListBucketVersions`, `s3:DeleteObject`, `s3:DeleteObjectVersion` |
//! | `presign_get`, `presign_put` | none (signed locally); the URL's user then needs what `get`/`put` need, held by the signer's role | as `get` / `put` |
//!
//! # Behaviour
//!
//! - `put` encrypts with SSE-KMS under the configured key (the stack's buckets also default to
//!   it, with bucket keys) and sends the SHA-256 of the bytes, which S3 checks before storing.
//! - `get` asks for the stored checksum and the SDK verifies the body against it while reading;
//!   a mismatch is [`PortError::Integrity`]. A missing object (or one whose current version is a
//!   delete marker) is `Ok(None)`. A connection lost while the body is read is
//!   [`PortError::Unavailable`] (the SDK retries the request, not a half-read body).
//! - The buckets are versioned, so a plain DeleteObject would only hide the data behind a delete
//!   marker. `delete` and `delete_all` remove every version and delete marker of the
//!   verification's keys (erasure means erasure), in pages of up to 1000. Both are idempotent.
//! - Presigned URLs live at most [`MAX_PRESIGN_TTL`] (5 minutes); a longer expiry is refused
//!   ([`PresignError::InvalidExpiry`]). A presigned PUT binds the content type only: the
//!   buckets' CORS rules allow no other request header from browsers, and the bucket's default
//!   encryption (SSE-KMS with the data key) applies to such uploads. It does not bound the
//!   upload's size (a query-signed PUT cannot; check the size when the object is processed).
//!
//! # Errors
//!
//! SDK errors go through [`crate::error::to_port_error`] with backend `s3`: throttling
//! (`SlowDown`), 5xx, timeouts and dropped connections become the retryable
//! [`PortError::Unavailable`] (after the SDK's own retries); a missing bucket or denied access
//! becomes [`PortError::Misconfigured`]. Neither S3's messages nor object keys or contents ever
//! appear in an error.

use std::fmt;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, Delete, ObjectIdentifier, ServerSideEncryption,
};
use aws_sdk_s3::Client;
use kyc_core::model::VerificationId;
use kyc_core::ports::{DocumentStore, ObjectKey, ObjectKind, PortError};
use sha2::{Digest as _, Sha256};

use crate::error::{classify_code, port_error, to_port_error, Failure};

/// The backend name in this adapter's errors.
pub const BACKEND: &str = "s3";

/// The longest expiry of a presigned URL.
pub const MAX_PRESIGN_TTL: Duration = Duration::from_secs(300);

/// The bucket of each object kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buckets {
    /// Identity-document uploads (`buckets/id-uploads`).
    pub id_uploads: String,
    /// Live frames (`buckets/live-frames`).
    pub live_frames: String,
    /// Raw OCR output (`buckets/ocr-raw`).
    pub ocr_raw: String,
}

impl Buckets {
    /// The bucket that holds objects of `kind`.
    pub fn of(&self, kind: ObjectKind) -> &str {
        match kind {
            ObjectKind::IdUpload => &self.id_uploads,
            ObjectKind::LiveFrame => &self.live_frames,
            ObjectKind::OcrRaw => &self.ocr_raw,
        }
    }
}

/// Why a presigned URL was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PresignError {
    /// The expiry is zero or longer than [`MAX_PRESIGN_TTL`].
    #[error("presigned url expiry must be between 1 and {max_secs} seconds")]
    InvalidExpiry {
        /// The longest accepted expiry, in seconds.
        max_secs: u64,
    },
    /// The SDK could not build the request (e.g. no credentials could be loaded).
    #[error("presigned url could not be built")]
    Build,
}

/// A presigned request: what a client must send to read or write one object without AWS
/// credentials of its own.
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    /// `GET` or `PUT`.
    pub method: &'static str,
    /// The URL, signature in the query string. It is a bearer credential until it expires:
    /// hand it to the one client it is for, and never log it (`Debug` leaves the query out).
    pub url: String,
    /// Headers the client must send unchanged (they are covered by the signature), e.g.
    /// `content-type` for a PUT.
    pub headers: Vec<(String, String)>,
    /// How long the URL is valid from its signing.
    pub expires_in: Duration,
}

impl fmt::Debug for PresignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let without_query = self.url.split('?').next().unwrap_or_default();
        f.debug_struct("PresignedRequest")
            .field("method", &self.method)
            .field("url", &format_args!("{without_query}?<signature>"))
            .field("headers", &self.headers)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The `DocumentStore` on S3. Cheap to clone (the SDK client is shared).
#[derive(Clone)]
pub struct S3DocumentStore {
    client: Client,
    buckets: Buckets,
    kms_key: String,
}

impl fmt::Debug for S3DocumentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3DocumentStore")
            .field("buckets", &self.buckets)
            .field("kms_key", &self.kms_key)
            .finish_non_exhaustive()
    }
}

impl S3DocumentStore {
    /// A store over `buckets` that encrypts with the KMS key `kms_key` (an ARN: the stack's
    /// `keys/data-key-arn`). Build `client` with [`crate::config::s3_client`] so it carries the
    /// shared retries and timeouts.
    pub fn new(client: Client, buckets: Buckets, kms_key: impl Into<String>) -> Self {
        Self {
            client,
            buckets,
            kms_key: kms_key.into(),
        }
    }

    /// The buckets.
    pub fn buckets(&self) -> &Buckets {
        &self.buckets
    }

    /// A presigned GET of `key`, valid for `ttl` (1 second to 5 minutes).
    pub async fn presign_get(
        &self,
        key: &ObjectKey,
        ttl: Duration,
    ) -> Result<PresignedRequest, PresignError> {
        let config = presigning_config(ttl)?;
        let req = self
            .client
            .get_object()
            .bucket(self.buckets.of(key.kind()))
            .key(key.path())
            .presigned(config)
            .await
            .map_err(|_| PresignError::Build)?;
        Ok(presigned("GET", &req, ttl))
    }

    /// A presigned PUT of `key` with `content_type`, valid for `ttl` (1 second to 5 minutes).
    /// The client must send the returned headers (the content type) exactly.
    pub async fn presign_put(
        &self,
        key: &ObjectKey,
        content_type: &'static str,
        ttl: Duration,
    ) -> Result<PresignedRequest, PresignError> {
        let config = presigning_config(ttl)?;
        let req = self
            .client
            .put_object()
            .bucket(self.buckets.of(key.kind()))
            .key(key.path())
            .content_type(content_type)
            .presigned(config)
            .await
            .map_err(|_| PresignError::Build)?;
        Ok(presigned("PUT", &req, ttl))
    }

    /// Deletes every version and delete marker of the keys in `bucket` that start with `prefix`
    /// and satisfy `keep`; returns how many of those keys had a current (visible) object.
    async fn purge(
        &self,
        bucket: &str,
        prefix: &str,
        keep: impl Fn(&str) -> bool,
    ) -> Result<usize, PortError> {
        let mut visible = 0;
        let mut key_marker: Option<String> = None;
        let mut version_marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(bucket)
                .prefix(prefix)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| to_port_error(BACKEND, &e))?;
            let mut doomed = Vec::new();
            for v in page.versions() {
                if let Some(key) = v.key().filter(|k| keep(k)) {
                    if v.is_latest() == Some(true) {
                        visible += 1;
                    }
                    doomed.push(identifier(key, v.version_id())?);
                }
            }
            for m in page.delete_markers() {
                if let Some(key) = m.key().filter(|k| keep(k)) {
                    doomed.push(identifier(key, m.version_id())?);
                }
            }
            self.delete_batch(bucket, doomed).await?;
            if page.is_truncated() != Some(true) {
                return Ok(visible);
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
            if key_marker.is_none() {
                // A truncated page without a marker would loop forever: treat it as the end.
                return Ok(visible);
            }
        }
    }

    /// One DeleteObjects call (at most 1000 identifiers: one listing page).
    async fn delete_batch(
        &self,
        bucket: &str,
        objects: Vec<ObjectIdentifier>,
    ) -> Result<(), PortError> {
        if objects.is_empty() {
            return Ok(());
        }
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|_| invalid_request())?;
        let out = self
            .client
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| to_port_error(BACKEND, &e))?;
        // Per-object failures come back in a 200 answer. An object or version that is already
        // gone is what we wanted.
        // Per-object failures without a recognised code (S3 lists only a few) are taken as
        // transient; a permanent one (access denied) wins over transient ones, as retrying
        // cannot fix it.
        let worst = out
            .errors()
            .iter()
            .filter(|e| !matches!(e.code(), Some("NoSuchKey" | "NoSuchVersion")))
            .map(|e| match classify_code(e.code(), None) {
                Failure::Invalid => Failure::Transient,
                f => f,
            })
            .min_by_key(|f| f.is_retryable());
        match worst {
            None => Ok(()),
            Some(f) => Err(port_error(BACKEND, f)),
        }
    }
}

fn invalid_request() -> PortError {
    PortError::Rejected {
        backend: BACKEND,
        reason: "the request could not be built",
    }
}

fn identifier(key: &str, version: Option<&str>) -> Result<ObjectIdentifier, PortError> {
    ObjectIdentifier::builder()
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .build()
        .map_err(|_| invalid_request())
}

fn presigning_config(ttl: Duration) -> Result<PresigningConfig, PresignError> {
    let invalid = PresignError::InvalidExpiry {
        max_secs: MAX_PRESIGN_TTL.as_secs(),
    };
    if ttl < Duration::from_secs(1) || ttl > MAX_PRESIGN_TTL {
        return Err(invalid);
    }
    PresigningConfig::expires_in(ttl).map_err(|_| invalid)
}

fn presigned(
    method: &'static str,
    req: &aws_sdk_s3::presigning::PresignedRequest,
    ttl: Duration,
) -> PresignedRequest {
    PresignedRequest {
        method,
        url: req.uri().to_owned(),
        headers: req
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        expires_in: ttl,
    }
}

/// Whether a body-read failure is the SDK's checksum validation refusing the bytes (as opposed
/// to the connection failing mid-body). The error type is `aws-smithy-checksums`'; the workspace
/// must use the version aws-sdk-s3 uses, or the downcast never matches (the unit test
/// `a_body_that_does_not_match_its_stored_checksum_is_an_integrity_error` then fails).
fn is_checksum_mismatch(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<aws_smithy_checksums::body::validate::Error>()
            .is_some()
        {
            return true;
        }
        cur = e.source();
    }
    false
}

impl DocumentStore for S3DocumentStore {
    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), PortError> {
        let checksum = aws_smithy_types::base64::encode(Sha256::digest(&bytes));
        self.client
            .put_object()
            .bucket(self.buckets.of(key.kind()))
            .key(key.path())
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(&self.kms_key)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(checksum)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| to_port_error(BACKEND, &e))?;
        Ok(())
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, PortError> {
        let out = self
            .client
            .get_object()
            .bucket(self.buckets.of(key.kind()))
            .key(key.path())
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(to_port_error(BACKEND, &e)),
        };
        match out.body.collect().await {
            Ok(bytes) => Ok(Some(bytes.into_bytes().to_vec())),
            Err(e) if is_checksum_mismatch(&e) => Err(PortError::Integrity),
            Err(_) => Err(PortError::Unavailable { backend: BACKEND }),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), PortError> {
        let path = key.path();
        self.purge(self.buckets.of(key.kind()), path, |k| k == path)
            .await
            .map(drop)
    }

    async fn delete_all(&self, id: &VerificationId) -> Result<usize, PortError> {
        let upload = ObjectKey::id_upload(id);
        let ocr = ObjectKey::ocr_raw(id);
        let frames = format!("{id}/");
        let mut n = 0;
        for key in [&upload, &ocr] {
            let path = key.path();
            n += self
                .purge(self.buckets.of(key.kind()), path, |k| k == path)
                .await?;
        }
        n += self
            .purge(&self.buckets.live_frames, &frames, |_| true)
            .await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_sdk_s3::config::{BehaviorVersion, Region};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;

    fn store(events: Vec<ReplayEvent>) -> (S3DocumentStore, StaticReplayClient) {
        let http = StaticReplayClient::new(events);
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::for_tests())
            .force_path_style(true)
            .http_client(http.clone())
            .build();
        let buckets = Buckets {
            id_uploads: "up".into(),
            live_frames: "frames".into(),
            ocr_raw: "ocr".into(),
        };
        (
            S3DocumentStore::new(Client::from_conf(conf), buckets, "arn:aws:kms:key"),
            http,
        )
    }

    fn request() -> http::Request<SdkBody> {
        http::Request::builder()
            .uri("https://s3.us-east-1.amazonaws.com/")
            .body(SdkBody::empty())
            .unwrap()
    }

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> http::Response<SdkBody> {
        let mut b = http::Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(SdkBody::from(body.to_owned())).unwrap()
    }

    fn id() -> VerificationId {
        VerificationId::from_random_bytes([7; 16])
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_body_that_does_not_match_its_stored_checksum_is_an_integrity_error() {
        let wrong = aws_smithy_types::base64::encode(Sha256::digest(b"other bytes"));
        let (store, _) = store(vec![ReplayEvent::new(
            request(),
            answer(200, &[("x-amz-checksum-sha256", &wrong)], "the bytes"),
        )]);
        let got = block_on(store.get(&ObjectKey::id_upload(&id())));
        assert_eq!(got, Err(PortError::Integrity));
    }

    #[test]
    fn a_body_that_matches_its_stored_checksum_is_returned() {
        let right = aws_smithy_types::base64::encode(Sha256::digest(b"the bytes"));
        let (store, http) = store(vec![ReplayEvent::new(
            request(),
            answer(200, &[("x-amz-checksum-sha256", &right)], "the bytes"),
        )]);
        let got = block_on(store.get(&ObjectKey::ocr_raw(&id())));
        assert_eq!(got, Ok(Some(b"the bytes".to_vec())));
        let sent = http.actual_requests().next().unwrap();
        assert_eq!(
            sent.uri().split('?').next(),
            Some(format!("https://s3.us-east-1.amazonaws.com/ocr/{}.json", id()).as_str())
        );
        assert_eq!(
            sent.headers().get("x-amz-checksum-mode"),
            Some("ENABLED"),
            "checksum validation is requested"
        );
    }

    #[test]
    fn a_missing_object_is_none_and_a_missing_bucket_is_a_misconfiguration() {
        let no_key =
            "<Error><Code>NoSuchKey</Code><Message>The key k does not exist</Message></Error>";
        let no_bucket = "<Error><Code>NoSuchBucket</Code><Message>bucket up</Message></Error>";
        let (store, _) = store(vec![
            ReplayEvent::new(request(), answer(404, &[], no_key)),
            ReplayEvent::new(request(), answer(404, &[], no_bucket)),
        ]);
        let key = ObjectKey::id_upload(&id());
        assert_eq!(block_on(store.get(&key)), Ok(None));
        let err = block_on(store.get(&key)).unwrap_err();
        assert!(matches!(
            err,
            PortError::Misconfigured { backend: "s3", .. }
        ));
        assert!(!err.to_string().contains("bucket up"), "no service text");
    }

    #[test]
    fn put_sends_sse_kms_with_the_key_and_the_sha256_of_the_bytes() {
        let (store, http) = store(vec![ReplayEvent::new(request(), answer(200, &[], ""))]);
        let key = ObjectKey::live_frame(&id(), "f-1").unwrap();
        block_on(store.put(&key, b"frame".to_vec(), "image/jpeg")).unwrap();
        let sent = http.actual_requests().next().unwrap();
        let h = sent.headers();
        assert_eq!(h.get("x-amz-server-side-encryption"), Some("aws:kms"));
        assert_eq!(
            h.get("x-amz-server-side-encryption-aws-kms-key-id"),
            Some("arn:aws:kms:key")
        );
        let expected = aws_smithy_types::base64::encode(Sha256::digest(b"frame"));
        assert_eq!(h.get("x-amz-checksum-sha256"), Some(expected.as_str()));
        assert_eq!(h.get("content-type"), Some("image/jpeg"));
        assert_eq!(
            sent.uri().split('?').next(),
            Some(format!("https://s3.us-east-1.amazonaws.com/frames/{}/f-1.jpg", id()).as_str())
        );
    }

    #[test]
    fn a_partial_delete_failure_is_reported_and_already_gone_versions_are_not() {
        let listing = format!(
            "<ListVersionsResult><IsTruncated>false</IsTruncated>\
             <Version><Key>{0}.jpg</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest></Version>\
             </ListVersionsResult>",
            id()
        );
        let gone =
            "<DeleteResult><Error><Key>k</Key><Code>NoSuchVersion</Code></Error></DeleteResult>";
        let denied =
            "<DeleteResult><Error><Key>k</Key><Code>AccessDenied</Code></Error></DeleteResult>";
        let (store, _) = store(vec![
            ReplayEvent::new(request(), answer(200, &[], &listing)),
            ReplayEvent::new(request(), answer(200, &[], gone)),
            ReplayEvent::new(request(), answer(200, &[], &listing)),
            ReplayEvent::new(request(), answer(200, &[], denied)),
        ]);
        let key = ObjectKey::id_upload(&id());
        assert_eq!(block_on(store.delete(&key)), Ok(()));
        assert!(matches!(
            block_on(store.delete(&key)),
            Err(PortError::Misconfigured { .. })
        ));
    }

    #[test]
    fn expiries_beyond_five_minutes_or_below_a_second_are_refused() {
        let (store, _) = store(vec![]);
        let key = ObjectKey::id_upload(&id());
        for ttl in [
            Duration::ZERO,
            Duration::from_millis(999),
            Duration::from_secs(301),
            Duration::from_secs(7 * 86_400),
        ] {
            assert_eq!(
                block_on(store.presign_get(&key, ttl)),
                Err(PresignError::InvalidExpiry { max_secs: 300 }),
                "{ttl:?}"
            );
            assert_eq!(
                block_on(store.presign_put(&key, "image/jpeg", ttl)),
                Err(PresignError::InvalidExpiry { max_secs: 300 })
            );
        }
        let ok = block_on(store.presign_get(&key, MAX_PRESIGN_TTL)).unwrap();
        assert!(ok.url.contains("X-Amz-Expires=300"), "signed for 300 s");
    }

    #[test]
    fn a_presigned_request_never_prints_its_signature() {
        let (store, _) = store(vec![]);
        let key = ObjectKey::id_upload(&id());
        let req = block_on(store.presign_put(&key, "image/jpeg", Duration::from_secs(60))).unwrap();
        assert_eq!(req.method, "PUT");
        assert!(req
            .headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "image/jpeg"));
        assert!(req.url.contains("X-Amz-Signature="));
        let shown = format!("{req:?}");
        assert!(!shown.contains("X-Amz-Signature"), "{shown}");
        assert!(
            shown.contains(&format!("/up/{}.jpg?<signature>", id())),
            "{shown}"
        );
    }

    #[test]
    fn each_kind_has_its_bucket() {
        let b = Buckets {
            id_uploads: "a".into(),
            live_frames: "b".into(),
            ocr_raw: "c".into(),
        };
        assert_eq!(b.of(ObjectKind::IdUpload), "a");
        assert_eq!(b.of(ObjectKind::LiveFrame), "b");
        assert_eq!(b.of(ObjectKind::OcrRaw), "c");
    }
}
