//! `S3DocumentStore`: kyc-core's `DocumentStore` port on Amazon S3, with SSE-KMS under the
//! customer-managed data key, SHA-256 checksums, erasure of every object version, and short-lived
//! presigned URLs and size-bounded presigned POST uploads.
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
//! | `presign_post` | none (the policy is signed locally with the credentials provider's credentials); the upload then needs what `put` needs, held by the signer's role | as `put` |
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
//!   encryption (SSE-KMS with the data key) applies to such uploads. A query-signed PUT cannot
//!   bound the upload's size: browsers upload with `presign_post` instead.
//! - A presigned POST ([`PresignedPost`]) is a signed policy (SigV4, expiring within
//!   [`MAX_PRESIGN_TTL`]) that pins the bucket, the exact key, the exact content type, SSE-KMS
//!   under the data key and `content-length-range` `[1, max_bytes]` (`max_bytes` at most
//!   [`MAX_POST_UPLOAD_BYTES`]): S3 refuses a larger or empty file (`EntityTooLarge` /
//!   `EntityTooSmall`, 400), any other field value (403) and an expired or tampered policy
//!   (403). The store needs the SDK configuration's credentials provider for it
//!   ([`S3DocumentStore::from_sdk_config`]), as the SDK client does not expose its own.
//!   LocalStack (the test suite's emulator) checks the policy's expiry and conditions but not
//!   its signature: a well-formed rewritten policy or a changed signature passes there; the
//!   signature is tested against AWS's published example instead.
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

use aws_credential_types::provider::{ProvideCredentials as _, SharedCredentialsProvider};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, Delete, ObjectIdentifier, ServerSideEncryption,
};
use aws_sdk_s3::Client;
use kyc_core::model::{Date, VerificationId};
use kyc_core::ports::{DocumentStore, ObjectKey, ObjectKind, PortError};
use sha2::{Digest as _, Sha256};

use crate::error::{classify_code, port_error, to_port_error, Failure};

/// The backend name in this adapter's errors.
pub const BACKEND: &str = "s3";

/// The longest expiry of a presigned URL or POST policy.
pub const MAX_PRESIGN_TTL: Duration = Duration::from_secs(300);

/// The largest upload a presigned POST accepts (10 MiB): a phone camera's ID photo or a live
/// frame, JPEG-compressed, is well under it; anything larger is refused by S3 before it is
/// stored.
pub const MAX_POST_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

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
    /// The upload size limit is zero or larger than [`MAX_POST_UPLOAD_BYTES`].
    #[error("upload size limit must be between 1 and {max_bytes} bytes")]
    InvalidSize {
        /// The largest accepted limit, in bytes.
        max_bytes: u64,
    },
    /// The SDK could not build the request (e.g. no credentials or no region could be loaded).
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

/// A presigned POST: the form a browser sends (`multipart/form-data`, to [`url`](Self::url)) to
/// upload one object of a bounded size without AWS credentials of its own.
///
/// Send every field of [`fields`](Self::fields) unchanged, in order, then the file last as
/// the `file` field (S3 ignores fields after it). The policy pins bucket, key, content type,
/// encryption and the size range, so a changed field is refused (403), and a file outside
/// `1..=max_bytes` bytes is refused with `EntityTooLarge`/`EntityTooSmall` (400).
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedPost {
    /// The bucket's URL, the form's `action`.
    pub url: String,
    /// The form fields, in order: `key`, `Content-Type`, the encryption fields,
    /// `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-security-token` (with
    /// temporary credentials), `policy`, `x-amz-signature`. The policy and signature are a
    /// bearer credential until the policy expires: hand them to the one client they are for,
    /// and never log them (`Debug` leaves them and the credential fields out).
    pub fields: Vec<(String, String)>,
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
    /// How long the policy is valid from its signing.
    pub expires_in: Duration,
}

/// Form fields whose values `Debug` hides: the signature, what it signs, and the credentials.
const SECRET_FIELDS: [&str; 4] = [
    "policy",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
];

impl fmt::Debug for PresignedPost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| {
                let hidden = SECRET_FIELDS.iter().any(|s| k.eq_ignore_ascii_case(s));
                (k.as_str(), if hidden { "<redacted>" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("PresignedPost")
            .field("url", &self.url)
            .field("fields", &fields)
            .field("max_bytes", &self.max_bytes)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl PresignedPost {
    /// The value of the form field `name` (field names compare case-insensitively, as S3's do).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The `DocumentStore` on S3. Cheap to clone (the SDK client is shared).
#[derive(Clone)]
pub struct S3DocumentStore {
    client: Client,
    buckets: Buckets,
    kms_key: String,
    /// The credentials that sign POST policies (the SDK client does not expose its own).
    credentials: Option<SharedCredentialsProvider>,
}

impl fmt::Debug for S3DocumentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3DocumentStore")
            .field("buckets", &self.buckets)
            .field("kms_key", &self.kms_key)
            .field("signs_post_policies", &self.credentials.is_some())
            .finish_non_exhaustive()
    }
}

impl S3DocumentStore {
    /// A store over `buckets` that encrypts with the KMS key `kms_key` (an ARN: the stack's
    /// `keys/data-key-arn`). Build `client` with [`crate::config::s3_client`] so it carries the
    /// shared retries and timeouts.
    ///
    /// A store made this way cannot sign POST policies ([`Self::presign_post`] is
    /// [`PresignError::Build`]) until it is given the credentials provider of the SDK
    /// configuration `client` was built from ([`Self::with_credentials_provider`]), or is made
    /// by [`Self::from_sdk_config`].
    pub fn new(client: Client, buckets: Buckets, kms_key: impl Into<String>) -> Self {
        Self {
            client,
            buckets,
            kms_key: kms_key.into(),
            credentials: None,
        }
    }

    /// A store whose client is [`crate::config::s3_client`]`(config, emulator)` and whose POST
    /// policies are signed with `config`'s credentials provider.
    pub fn from_sdk_config(
        config: &aws_config::SdkConfig,
        emulator: bool,
        buckets: Buckets,
        kms_key: impl Into<String>,
    ) -> Self {
        let store = Self::new(crate::config::s3_client(config, emulator), buckets, kms_key);
        match config.credentials_provider() {
            Some(provider) => store.with_credentials_provider(provider),
            None => store,
        }
    }

    /// The same store, signing POST policies with credentials from `provider` (the one of the
    /// SDK configuration the client was built from: the SDK client does not expose its own).
    pub fn with_credentials_provider(mut self, provider: SharedCredentialsProvider) -> Self {
        self.credentials = Some(provider);
        self
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

    /// A presigned POST of `key` with `content_type`, at most `max_bytes` bytes (1 to
    /// [`MAX_POST_UPLOAD_BYTES`]), valid for `ttl` (1 second to 5 minutes).
    ///
    /// The policy pins the bucket, the exact key, the exact content type, SSE-KMS under the
    /// store's key and `content-length-range` `[1, max_bytes]`; it is signed with SigV4 (the
    /// signing key derived from the date, region and service `s3`) with the credentials of the
    /// client's configuration, at the time of its time source. With temporary credentials the
    /// upload also fails once they expire, whichever comes first.
    pub async fn presign_post(
        &self,
        key: &ObjectKey,
        content_type: &'static str,
        max_bytes: u64,
        ttl: Duration,
    ) -> Result<PresignedPost, PresignError> {
        // Validates the expiry too.
        let config = presigning_config(ttl)?;
        if max_bytes == 0 || max_bytes > MAX_POST_UPLOAD_BYTES {
            return Err(PresignError::InvalidSize {
                max_bytes: MAX_POST_UPLOAD_BYTES,
            });
        }
        let conf = self.client.config();
        let region = conf.region().ok_or(PresignError::Build)?.to_string();
        let credentials = self
            .credentials
            .as_ref()
            .ok_or(PresignError::Build)?
            .provide_credentials()
            .await
            .map_err(|_| PresignError::Build)?;
        let now = conf
            .time_source()
            .map_or_else(std::time::SystemTime::now, |t| t.now());
        let bucket = self.buckets.of(key.kind());
        // The bucket's URL as the SDK resolves it (endpoint override, path or virtual-hosted
        // style): a presigned bucket-level request's URL without its query.
        let listing = self
            .client
            .list_object_versions()
            .bucket(bucket)
            .presigned(config)
            .await
            .map_err(|_| PresignError::Build)?;
        let url = listing
            .uri()
            .split('?')
            .next()
            .unwrap_or_default()
            .to_owned();
        let form = PostForm {
            bucket,
            key: key.path(),
            content_type,
            kms_key: &self.kms_key,
            max_bytes,
            access_key_id: credentials.access_key_id(),
            secret_access_key: credentials.secret_access_key(),
            session_token: credentials.session_token(),
            region: &region,
            now,
            ttl,
        };
        Ok(PresignedPost {
            url,
            fields: form.fields().ok_or(PresignError::Build)?,
            max_bytes,
            expires_in: ttl,
        })
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

/// Everything a POST policy and its form are made of.
struct PostForm<'a> {
    bucket: &'a str,
    key: &'a str,
    content_type: &'a str,
    kms_key: &'a str,
    max_bytes: u64,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: Option<&'a str>,
    region: &'a str,
    now: std::time::SystemTime,
    ttl: Duration,
}

impl PostForm<'_> {
    /// The form fields, policy and signature included; `None` if the clock is before 1970 or
    /// past the year 9999.
    fn fields(&self) -> Option<Vec<(String, String)>> {
        let (date, time) = utc(self.now)?;
        let (exp_date, exp_time) = utc(self.now.checked_add(self.ttl)?)?;
        let amz_date = format!(
            "{:04}{:02}{:02}T{time}Z",
            date.year(),
            date.month(),
            date.day()
        )
        .replace(':', "");
        let scope_date = amz_date.get(..8)?;
        let credential = format!(
            "{}/{scope_date}/{}/s3/aws4_request",
            self.access_key_id, self.region
        );
        let expiration = format!(
            "{:04}-{:02}-{:02}T{exp_time}.000Z",
            exp_date.year(),
            exp_date.month(),
            exp_date.day()
        );
        // Every field the form carries (besides the policy and signature themselves) must be
        // matched by a condition, or S3 refuses the upload.
        let mut fields: Vec<(String, String)> = vec![
            ("key".into(), self.key.into()),
            ("Content-Type".into(), self.content_type.into()),
            ("x-amz-server-side-encryption".into(), "aws:kms".into()),
            (
                "x-amz-server-side-encryption-aws-kms-key-id".into(),
                self.kms_key.into(),
            ),
            ("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()),
            ("x-amz-credential".into(), credential),
            ("x-amz-date".into(), amz_date),
        ];
        if let Some(token) = self.session_token {
            fields.push(("x-amz-security-token".into(), token.into()));
        }
        let mut conditions = vec![serde_json::json!({ "bucket": self.bucket })];
        conditions.extend(
            fields
                .iter()
                .map(|(k, v)| serde_json::json!({ k.as_str(): v })),
        );
        conditions.push(serde_json::json!([
            "content-length-range",
            1,
            self.max_bytes
        ]));
        let policy = serde_json::json!({ "expiration": expiration, "conditions": conditions });
        let policy = aws_smithy_types::base64::encode(policy.to_string());
        let signature = post_signature(self.secret_access_key, self.now, self.region, &policy);
        fields.push(("policy".into(), policy));
        fields.push(("x-amz-signature".into(), signature));
        Some(fields)
    }
}

/// The SigV4 signature of a base64 POST policy: HMAC-SHA256, keyed with the signing key of the
/// day of `at` in `region` for `s3`, of the policy's base64 text; lowercase hex.
fn post_signature(
    secret_access_key: &str,
    at: std::time::SystemTime,
    region: &str,
    policy_base64: &str,
) -> String {
    let key = aws_sigv4::sign::v4::generate_signing_key(secret_access_key, at, region, "s3");
    aws_sigv4::sign::v4::calculate_signature(key, policy_base64.as_bytes())
}

/// The UTC date and `HH:MM:SS` time of `t`; `None` before 1970 or outside [`Date`]'s range.
fn utc(t: std::time::SystemTime) -> Option<(Date, String)> {
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    let days = i64::try_from(secs / 86_400).ok()?;
    let date = Date::from_days_since_epoch(days)?;
    let s = secs % 86_400;
    Some((
        date,
        format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60),
    ))
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

    use crate::testing::block_on;

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

    /// The example of AWS's documentation "Example: Browser-Based Upload using HTTP POST (Using
    /// AWS Signature Version 4)": its base64 policy, credentials and stated signature.
    #[test]
    fn the_post_signature_matches_the_aws_documentation_example() {
        let policy = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
        let at = std::time::UNIX_EPOCH + Duration::from_secs(1_451_347_200); // 2015-12-29
        assert_eq!(
            post_signature(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                at,
                "us-east-1",
                policy
            ),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
        // The signing key depends on the day: the same policy signed a day later differs.
        let next_day = at + Duration::from_secs(86_400);
        assert_ne!(
            post_signature(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                next_day,
                "us-east-1",
                policy
            ),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
    }

    /// 2000-02-29T23:59:58Z: a leap day, two seconds before the next day.
    const LEAP_DAY_NEARLY_MIDNIGHT: u64 = 951_868_798;

    fn post_store(session_token: Option<&str>, secs: u64) -> S3DocumentStore {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::for_tests())
            .force_path_style(true)
            .endpoint_url("http://127.0.0.1:4566")
            .time_source(aws_smithy_async::time::StaticTimeSource::new(
                std::time::UNIX_EPOCH + Duration::from_secs(secs),
            ))
            .http_client(StaticReplayClient::new(vec![]))
            .build();
        let buckets = Buckets {
            id_uploads: "up".into(),
            live_frames: "frames".into(),
            ocr_raw: "ocr".into(),
        };
        S3DocumentStore::new(Client::from_conf(conf), buckets, "arn:aws:kms:key")
            .with_credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDPOST",
                "post-secret",
                session_token.map(str::to_owned),
                None,
                "test",
            )))
    }

    fn decoded_policy(post: &PresignedPost) -> serde_json::Value {
        let b64 = post.field("policy").expect("a policy field");
        let json = aws_smithy_types::base64::decode(b64).expect("base64");
        serde_json::from_slice(&json).expect("json")
    }

    #[test]
    fn the_post_policy_pins_bucket_key_type_encryption_size_and_credentials() {
        let store = post_store(Some("session-token"), LEAP_DAY_NEARLY_MIDNIGHT);
        let post = block_on(store.presign_post(
            &ObjectKey::id_upload(&id()),
            "image/jpeg",
            5_000_000,
            Duration::from_secs(300),
        ))
        .unwrap();
        assert_eq!(post.url, "http://127.0.0.1:4566/up/");
        assert_eq!(post.max_bytes, 5_000_000);
        // The expiration is 5 minutes after signing, on the next day; the credential scope is
        // the day of signing.
        insta::assert_json_snapshot!(decoded_policy(&post));
        let names: Vec<&str> = post.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "Content-Type",
                "x-amz-server-side-encryption",
                "x-amz-server-side-encryption-aws-kms-key-id",
                "x-amz-algorithm",
                "x-amz-credential",
                "x-amz-date",
                "x-amz-security-token",
                "policy",
                "x-amz-signature"
            ]
        );
        assert_eq!(post.field("key"), Some(format!("{}.jpg", id()).as_str()));
        assert_eq!(post.field("x-amz-date"), Some("20000229T235958Z"));
        assert_eq!(
            post.field("x-amz-credential"),
            Some("AKIDPOST/20000229/eu-west-1/s3/aws4_request")
        );
        assert_eq!(post.field("x-amz-security-token"), Some("session-token"));
        // The signature is the documented algorithm over the base64 policy, recomputed here
        // from the signing-key chain with HMAC-SHA256 written out.
        let hmac = |key: &[u8], data: &[u8]| -> Vec<u8> {
            // HMAC per RFC 2104 with SHA-256 (block size 64).
            let mut k = [0u8; 64];
            if key.len() > 64 {
                k[..32].copy_from_slice(&Sha256::digest(key));
            } else {
                k[..key.len()].copy_from_slice(key);
            }
            let inner: Vec<u8> = k
                .iter()
                .map(|b| b ^ 0x36)
                .chain(data.iter().copied())
                .collect();
            let outer: Vec<u8> = k
                .iter()
                .map(|b| b ^ 0x5c)
                .chain(Sha256::digest(&inner))
                .collect();
            Sha256::digest(&outer).to_vec()
        };
        let mut key = hmac(b"AWS4post-secret", b"20000229");
        for part in ["eu-west-1", "s3", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let expected: String = hmac(&key, post.field("policy").unwrap().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(post.field("x-amz-signature"), Some(expected.as_str()));
    }

    #[test]
    fn without_a_session_token_the_post_has_no_token_field_or_condition() {
        let store = post_store(None, 1_700_000_000);
        let post = block_on(store.presign_post(
            &ObjectKey::live_frame(&id(), "f-1").unwrap(),
            "image/png",
            1,
            Duration::from_secs(1),
        ))
        .unwrap();
        assert_eq!(post.field("x-amz-security-token"), None);
        assert!(!decoded_policy(&post).to_string().contains("security-token"));
        assert_eq!(post.url, "http://127.0.0.1:4566/frames/");
        assert_eq!(
            post.field("key"),
            Some(format!("{}/f-1.jpg", id()).as_str())
        );
    }

    #[test]
    fn post_expiries_and_size_limits_out_of_range_are_refused() {
        let store = post_store(None, 1_700_000_000);
        let key = ObjectKey::id_upload(&id());
        let post = |max, ttl| block_on(store.presign_post(&key, "image/jpeg", max, ttl));
        let minute = Duration::from_secs(60);
        for ttl in [
            Duration::ZERO,
            Duration::from_millis(999),
            Duration::from_secs(301),
        ] {
            assert_eq!(
                post(1000, ttl),
                Err(PresignError::InvalidExpiry { max_secs: 300 })
            );
        }
        let too_big = PresignError::InvalidSize {
            max_bytes: MAX_POST_UPLOAD_BYTES,
        };
        assert_eq!(post(0, minute), Err(too_big.clone()));
        assert_eq!(
            post(MAX_POST_UPLOAD_BYTES + 1, minute),
            Err(too_big.clone())
        );
        assert_eq!(
            too_big.to_string(),
            "upload size limit must be between 1 and 10485760 bytes"
        );
        assert!(post(MAX_POST_UPLOAD_BYTES, MAX_PRESIGN_TTL).is_ok());
    }

    #[test]
    fn a_store_without_a_credentials_provider_cannot_sign_a_post() {
        let (store, _) = store(vec![]);
        let got = block_on(store.presign_post(
            &ObjectKey::id_upload(&id()),
            "image/jpeg",
            10,
            Duration::from_secs(60),
        ));
        assert_eq!(got, Err(PresignError::Build));
    }

    #[test]
    fn a_presigned_post_never_prints_its_signature_policy_or_credentials() {
        let store = post_store(Some("session-token"), 1_700_000_000);
        let post = block_on(store.presign_post(
            &ObjectKey::id_upload(&id()),
            "image/jpeg",
            10,
            Duration::from_secs(60),
        ))
        .unwrap();
        let shown = format!("{post:?}");
        for secret in [
            "policy",
            "x-amz-signature",
            "x-amz-credential",
            "x-amz-security-token",
        ] {
            let value = post.field(secret).unwrap();
            assert!(!shown.contains(value), "{secret} shown: {shown}");
        }
        assert!(!shown.contains("AKIDPOST"), "{shown}");
        assert!(!shown.contains("post-secret"), "{shown}");
        assert!(shown.contains("image/jpeg"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn utc_formats_dates_and_times_and_refuses_times_before_1970() {
        let (date, time) =
            utc(std::time::UNIX_EPOCH + Duration::from_secs(LEAP_DAY_NEARLY_MIDNIGHT)).unwrap();
        assert_eq!((date.year(), date.month(), date.day()), (2000, 2, 29));
        assert_eq!(time, "23:59:58");
        let (date, time) = utc(std::time::UNIX_EPOCH).unwrap();
        assert_eq!(
            (date.year(), date.month(), date.day(), time.as_str()),
            (1970, 1, 1, "00:00:00")
        );
        assert_eq!(utc(std::time::UNIX_EPOCH - Duration::from_secs(1)), None);
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
