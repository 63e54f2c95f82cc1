//! Configuration at start-up: the kit's resource names from SSM Parameter Store
//! ([`KycResources::load`]) and secrets from Secrets Manager ([`Secrets`]).
//!
//! # Parameters
//!
//! The stack writes one `String` parameter per resource under `/kyc/<env>/` (see
//! `stackgen/src/stack/storage.rs`, `parameters()`); every function gets that path as
//! `KYC_PARAMETER_PATH`. [`KycResources::load`] reads the whole path with
//! `GetParametersByPath` (recursive, 10 per page, every page) and builds a typed
//! [`KycResources`]; a missing parameter is an error that names every missing one
//! ([`ParamsError::Missing`]), so a half-deployed stack fails at start-up with a clear reason
//! rather than at the first request. Unknown parameters under the path are ignored.
//!
//! # Secrets
//!
//! [`Secrets::get`] reads a secret's string with `GetSecretValue` into a [`SecretString`],
//! whose `Debug` and `Display` print `<redacted>` and whose memory is zeroed on drop, and keeps
//! it for a short time ([`Secrets::DEFAULT_TTL`]) so a warm Lambda does not call Secrets Manager
//! per request while a rotated secret is still picked up within minutes.
//!
//! # IAM actions
//!
//! `ssm:GetParametersByPath` on `arn:aws:ssm:<region>:<account>:parameter/kyc/<env>`;
//! `secretsmanager:GetSecretValue` on the secret (and `kms:Decrypt` on its key).
//!
//! # Errors
//!
//! Service failures map through [`crate::error`] (backends `ssm` and `secretsmanager`):
//! throttling and outages are the retryable [`PortError::Unavailable`], a missing secret or a
//! denied call is [`PortError::Misconfigured`]. No parameter value and no secret ever appears
//! in an error; parameter *names* do (they are configuration, not data).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use kyc_core::ports::PortError;
use zeroize::Zeroizing;

use crate::error::to_port_error;
use crate::s3::Buckets;

/// The backend name of parameter errors.
pub const SSM_BACKEND: &str = "ssm";
/// The backend name of secret errors.
pub const SECRETS_BACKEND: &str = "secretsmanager";

/// The environment variable that holds the parameter path (`/kyc/<env>/`).
pub const PATH_VARIABLE: &str = "KYC_PARAMETER_PATH";

/// The longest parameter name SSM accepts (the path included).
const MAX_NAME_LEN: usize = 1011;
/// The longest value of a standard parameter.
const MAX_VALUE_LEN: usize = 4096;

/// Why the configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamsError {
    /// The path is not of the form `/a/b/` (letters, digits, `_`, `.`, `-` between slashes).
    #[error("parameter path must look like /kyc/<env>/")]
    InvalidPath,
    /// `KYC_PARAMETER_PATH` is not set.
    #[error("{PATH_VARIABLE} is not set")]
    NoPath,
    /// Required parameters are missing (full names, sorted).
    #[error("missing parameters: {}", names.join(", "))]
    Missing {
        /// The full names of the missing parameters.
        names: Vec<String>,
    },
    /// Parameters whose value is empty, too long, has control characters, or is not an ARN
    /// where one is required (full names, sorted).
    #[error("invalid values in parameters: {}", names.join(", "))]
    Invalid {
        /// The full names of the invalid parameters.
        names: Vec<String>,
    },
    /// Parameter Store could not be read.
    #[error("parameters could not be read: {0}")]
    Backend(#[source] PortError),
}

impl ParamsError {
    /// Whether loading again later can succeed (only transient backend failures).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Backend(e) if e.is_retryable())
    }
}

/// A validated parameter path: starts and ends with `/`, e.g. `/kyc/dev/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ParameterPath(String);

impl ParameterPath {
    /// Checks `s`: `/`, then one or more segments of `A-Za-z0-9_.-` (not only dots) each
    /// followed by `/`; not under the reserved `/aws` or `/ssm` prefixes; at most 1011
    /// characters.
    ///
    /// ```
    /// use kyc_aws::params::ParameterPath;
    /// assert_eq!(ParameterPath::parse("/kyc/dev/").unwrap().as_str(), "/kyc/dev/");
    /// assert!(ParameterPath::parse("/kyc/dev").is_err()); // no trailing slash
    /// assert!(ParameterPath::parse("/kyc//dev/").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, ParamsError> {
        let inner = s
            .strip_prefix('/')
            .and_then(|r| r.strip_suffix('/'))
            .ok_or(ParamsError::InvalidPath)?;
        let segment_ok = |seg: &str| {
            !seg.is_empty()
                && !seg.bytes().all(|b| b == b'.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        };
        let first = inner.split('/').next().unwrap_or_default();
        if s.len() > MAX_NAME_LEN
            || !inner.split('/').all(segment_ok)
            || first.eq_ignore_ascii_case("aws")
            || first.eq_ignore_ascii_case("ssm")
        {
            return Err(ParamsError::InvalidPath);
        }
        Ok(Self(s.to_owned()))
    }

    /// `/kyc/<env>/`, the stack's path for environment `env`.
    pub fn for_env(env: &str) -> Result<Self, ParamsError> {
        Self::parse(&format!("/kyc/{env}/"))
    }

    /// The path in [`PATH_VARIABLE`].
    pub fn from_env() -> Result<Self, ParamsError> {
        let s = std::env::var(PATH_VARIABLE).map_err(|_| ParamsError::NoPath)?;
        Self::parse(&s)
    }

    /// The path, with its trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The full name of the parameter `relative` under this path.
    pub fn name(&self, relative: &str) -> String {
        format!("{}{relative}", self.0)
    }
}

/// The kit's DynamoDB tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    /// `KycAuditLog` (`tables/audit-log`).
    pub audit_log: String,
    /// `KycOcrData` (`tables/ocr-data`).
    pub ocr_data: String,
    /// Verification sessions (`tables/sessions`).
    pub sessions: String,
    /// Task board tasks (`tables/tasks`).
    pub tasks: String,
    /// Task board WebSocket connections (`tables/connections`).
    pub connections: String,
}

/// The kit's KMS keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// The customer-managed data key (`keys/data-key-arn`).
    pub data_key_arn: String,
    /// The ES256 token-signing key (`keys/signing-key-arn`).
    pub signing_key_arn: String,
}

/// The kit's public endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// The REST API's base URL (`endpoints/rest-api`).
    pub rest_api: String,
    /// The WebSocket API's URL (`endpoints/websocket`), when the stack has one.
    pub websocket: Option<String>,
}

/// Every resource a handler may need, as the stack published them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KycResources {
    /// The three data buckets.
    pub buckets: Buckets,
    /// The tables.
    pub tables: Tables,
    /// The verification events topic's ARN (`topics/events`).
    pub events_topic_arn: String,
    /// The keys.
    pub keys: Keys,
    /// The screening provider's API key secret (`secrets/screening-provider-key-arn`).
    pub screening_secret_arn: String,
    /// The endpoints.
    pub endpoints: Endpoints,
}

/// The parameter names under the path, as the stack writes them.
pub mod names {
    /// `buckets/id-uploads`.
    pub const ID_UPLOADS_BUCKET: &str = "buckets/id-uploads";
    /// `buckets/live-frames`.
    pub const LIVE_FRAMES_BUCKET: &str = "buckets/live-frames";
    /// `buckets/ocr-raw`.
    pub const OCR_RAW_BUCKET: &str = "buckets/ocr-raw";
    /// `tables/audit-log`.
    pub const AUDIT_LOG_TABLE: &str = "tables/audit-log";
    /// `tables/ocr-data`.
    pub const OCR_DATA_TABLE: &str = "tables/ocr-data";
    /// `tables/sessions`.
    pub const SESSIONS_TABLE: &str = "tables/sessions";
    /// `tables/tasks`.
    pub const TASKS_TABLE: &str = "tables/tasks";
    /// `tables/connections`.
    pub const CONNECTIONS_TABLE: &str = "tables/connections";
    /// `topics/events`.
    pub const EVENTS_TOPIC: &str = "topics/events";
    /// `keys/data-key-arn`.
    pub const DATA_KEY_ARN: &str = "keys/data-key-arn";
    /// `keys/signing-key-arn`.
    pub const SIGNING_KEY_ARN: &str = "keys/signing-key-arn";
    /// `secrets/screening-provider-key-arn`.
    pub const SCREENING_SECRET_ARN: &str = "secrets/screening-provider-key-arn";
    /// `endpoints/rest-api`.
    pub const REST_API_ENDPOINT: &str = "endpoints/rest-api";
    /// `endpoints/websocket` (optional: only stacks with the task board's WebSocket API).
    pub const WEBSOCKET_ENDPOINT: &str = "endpoints/websocket";

    /// Every required name.
    pub const REQUIRED: [&str; 13] = [
        ID_UPLOADS_BUCKET,
        LIVE_FRAMES_BUCKET,
        OCR_RAW_BUCKET,
        AUDIT_LOG_TABLE,
        OCR_DATA_TABLE,
        SESSIONS_TABLE,
        TASKS_TABLE,
        CONNECTIONS_TABLE,
        EVENTS_TOPIC,
        DATA_KEY_ARN,
        SIGNING_KEY_ARN,
        SCREENING_SECRET_ARN,
        REST_API_ENDPOINT,
    ];
}

/// Reads values out of the fetched parameters, remembering what is missing or invalid.
struct Reader<'a> {
    path: &'a ParameterPath,
    values: &'a BTreeMap<String, String>,
    missing: Vec<String>,
    invalid: Vec<String>,
}

impl Reader<'_> {
    fn optional(&mut self, relative: &str) -> Option<String> {
        let name = self.path.name(relative);
        let value = self.values.get(&name)?;
        let ok = !value.trim().is_empty()
            && value.len() <= MAX_VALUE_LEN
            && !value.chars().any(char::is_control);
        if !ok {
            self.invalid.push(name);
            return Some(String::new());
        }
        Some(value.clone())
    }

    fn required(&mut self, relative: &str) -> String {
        self.optional(relative).unwrap_or_else(|| {
            self.missing.push(self.path.name(relative));
            String::new()
        })
    }

    fn arn(&mut self, relative: &str) -> String {
        let v = self.required(relative);
        if !v.is_empty() && !v.starts_with("arn:") {
            self.invalid.push(self.path.name(relative));
        }
        v
    }
}

impl KycResources {
    /// Builds the resources from fetched parameters (full name → value). Fails with every
    /// missing name, then with every invalid one.
    pub fn from_parameters(
        path: &ParameterPath,
        values: &BTreeMap<String, String>,
    ) -> Result<Self, ParamsError> {
        use names::*;
        let mut r = Reader {
            path,
            values,
            missing: Vec::new(),
            invalid: Vec::new(),
        };
        let resources = Self {
            buckets: Buckets {
                id_uploads: r.required(ID_UPLOADS_BUCKET),
                live_frames: r.required(LIVE_FRAMES_BUCKET),
                ocr_raw: r.required(OCR_RAW_BUCKET),
            },
            tables: Tables {
                audit_log: r.required(AUDIT_LOG_TABLE),
                ocr_data: r.required(OCR_DATA_TABLE),
                sessions: r.required(SESSIONS_TABLE),
                tasks: r.required(TASKS_TABLE),
                connections: r.required(CONNECTIONS_TABLE),
            },
            events_topic_arn: r.arn(EVENTS_TOPIC),
            keys: Keys {
                data_key_arn: r.arn(DATA_KEY_ARN),
                signing_key_arn: r.arn(SIGNING_KEY_ARN),
            },
            screening_secret_arn: r.arn(SCREENING_SECRET_ARN),
            endpoints: Endpoints {
                rest_api: r.required(REST_API_ENDPOINT),
                websocket: r.optional(WEBSOCKET_ENDPOINT),
            },
        };
        if !r.missing.is_empty() {
            r.missing.sort();
            return Err(ParamsError::Missing { names: r.missing });
        }
        if !r.invalid.is_empty() {
            r.invalid.sort();
            r.invalid.dedup();
            return Err(ParamsError::Invalid { names: r.invalid });
        }
        Ok(resources)
    }

    /// Reads every parameter under `path` and builds the resources.
    pub async fn load(
        client: &aws_sdk_ssm::Client,
        path: &ParameterPath,
    ) -> Result<Self, ParamsError> {
        let values = parameters_by_path(client, path)
            .await
            .map_err(ParamsError::Backend)?;
        Self::from_parameters(path, &values)
    }
}

/// Every parameter under `path` (recursively), full name → value, following every page.
/// `SecureString` values are decrypted (which needs `kms:Decrypt` on their key).
pub async fn parameters_by_path(
    client: &aws_sdk_ssm::Client,
    path: &ParameterPath,
) -> Result<BTreeMap<String, String>, PortError> {
    // The hierarchy without its trailing slash, as IAM's resource ARN names it.
    let hierarchy = path.as_str().trim_end_matches('/');
    let mut pages = client
        .get_parameters_by_path()
        .path(hierarchy)
        .recursive(true)
        .with_decryption(true)
        .max_results(10)
        .into_paginator()
        .send();
    let mut out = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| to_port_error(SSM_BACKEND, &e))?;
        for p in page.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                out.insert(name.to_owned(), value.to_owned());
            }
        }
    }
    Ok(out)
}

/// A secret value. `Debug` and `Display` never print it; its memory is zeroed when dropped.
/// Read it with [`expose`](Self::expose) at the one place that needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps `value`.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

struct Cached {
    fetched: Instant,
    value: SecretString,
}

/// Secrets Manager reads with a small time-to-live cache per secret id.
pub struct Secrets {
    client: aws_sdk_secretsmanager::Client,
    ttl: Duration,
    cache: Mutex<HashMap<String, Cached>>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Secrets {
    /// How long a secret is kept by default.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

    /// A reader that keeps each secret for `ttl` (zero: never cached). Build `client` from
    /// [`crate::config::AwsSettings::load`] so it carries the shared retries and timeouts.
    pub fn new(client: aws_sdk_secretsmanager::Client, ttl: Duration) -> Self {
        Self {
            client,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current string value of `secret_id` (ARN or name): from the cache when fetched less
    /// than the TTL ago, else from Secrets Manager. A binary secret is
    /// [`PortError::Misconfigured`].
    pub async fn get(&self, secret_id: &str) -> Result<SecretString, PortError> {
        if let Some(c) = self.cache().get(secret_id) {
            if c.fetched.elapsed() < self.ttl {
                return Ok(c.value.clone());
            }
        }
        let out = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| to_port_error(SECRETS_BACKEND, &e))?;
        let value = SecretString::new(out.secret_string.ok_or(PortError::Misconfigured {
            backend: SECRETS_BACKEND,
            reason: "the secret holds no string value".to_owned(),
        })?);
        if !self.ttl.is_zero() {
            self.cache().insert(
                secret_id.to_owned(),
                Cached {
                    fetched: Instant::now(),
                    value: value.clone(),
                },
            );
        }
        Ok(value)
    }

    /// Forgets the cached value of `secret_id` (e.g. after the provider refused the key).
    pub fn invalidate(&self, secret_id: &str) {
        self.cache().remove(secret_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn path() -> ParameterPath {
        ParameterPath::for_env("dev").unwrap()
    }

    fn complete() -> BTreeMap<String, String> {
        names::REQUIRED
            .iter()
            .map(|rel| {
                let value = if rel.ends_with("-arn") || *rel == names::EVENTS_TOPIC {
                    format!("arn:aws:x:us-east-1:000000000000:{rel}")
                } else {
                    format!("value-of-{}", rel.replace('/', "-"))
                };
                (path().name(rel), value)
            })
            .collect()
    }

    #[test]
    fn a_complete_set_of_parameters_becomes_typed_resources() {
        let mut values = complete();
        values.insert("/kyc/dev/something/else".into(), "ignored".into());
        values.insert(
            "/kyc/dev/endpoints/websocket".into(),
            "wss://ws.example".into(),
        );
        let r = KycResources::from_parameters(&path(), &values).unwrap();
        assert_eq!(r.buckets.id_uploads, "value-of-buckets-id-uploads");
        assert_eq!(r.buckets.live_frames, "value-of-buckets-live-frames");
        assert_eq!(r.tables.sessions, "value-of-tables-sessions");
        assert_eq!(r.tables.audit_log, "value-of-tables-audit-log");
        assert_eq!(
            r.keys.signing_key_arn,
            "arn:aws:x:us-east-1:000000000000:keys/signing-key-arn"
        );
        assert_eq!(r.endpoints.rest_api, "value-of-endpoints-rest-api");
        assert_eq!(r.endpoints.websocket.as_deref(), Some("wss://ws.example"));
    }

    #[test]
    fn every_missing_parameter_is_named() {
        let mut values = complete();
        values.remove("/kyc/dev/tables/sessions");
        values.remove("/kyc/dev/buckets/ocr-raw");
        let err = KycResources::from_parameters(&path(), &values).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing parameters: /kyc/dev/buckets/ocr-raw, /kyc/dev/tables/sessions"
        );
        assert!(!err.is_retryable());
        let none = KycResources::from_parameters(&path(), &BTreeMap::new()).unwrap_err();
        assert!(matches!(none, ParamsError::Missing { names } if names.len() == 13));
    }

    #[test]
    fn invalid_values_are_named_but_never_shown() {
        let mut values = complete();
        values.insert(
            "/kyc/dev/keys/data-key-arn".into(),
            "not-an-arn-SECRETISH".into(),
        );
        values.insert("/kyc/dev/tables/tasks".into(), "   ".into());
        values.insert("/kyc/dev/tables/ocr-data".into(), "a\u{0}b".into());
        let err = KycResources::from_parameters(&path(), &values).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid values in parameters: /kyc/dev/keys/data-key-arn, /kyc/dev/tables/ocr-data, /kyc/dev/tables/tasks"
        );
        assert!(!format!("{err:?}").contains("SECRETISH"));
    }

    #[test]
    fn paths_are_checked() {
        for good in ["/kyc/dev/", "/a/", "/kyc/prod-eu.1/x_y/"] {
            assert_eq!(ParameterPath::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "/",
            "//",
            "kyc/dev/",
            "/kyc/dev",
            "/kyc//dev/",
            "/kyc/d v/",
            "/aws/x/",
            "/SSM/x/",
            "/kyc/../",
        ] {
            assert_eq!(
                ParameterPath::parse(bad),
                Err(ParamsError::InvalidPath),
                "{bad:?}"
            );
        }
        assert_eq!(path().name("tables/sessions"), "/kyc/dev/tables/sessions");
    }

    proptest! {
        #[test]
        fn path_parsing_never_panics_and_accepts_only_slash_framed_paths(s in "\\PC{0,40}") {
            if let Ok(p) = ParameterPath::parse(&s) {
                prop_assert!(p.as_str().starts_with('/') && p.as_str().ends_with('/'));
                prop_assert!(!p.as_str().contains("//"));
            }
        }

        #[test]
        fn slash_framed_segment_paths_are_accepted(s in "/([a-z0-9_-][a-z0-9_.-]{0,8}/){1,5}") {
            prop_assert_eq!(ParameterPath::parse(&s).map(|p| p.as_str().to_owned()), Ok(s));
        }

        #[test]
        fn resources_from_arbitrary_parameters_never_panic(
            entries in proptest::collection::btree_map("\\PC{0,30}", "\\PC{0,30}", 0..20)
        ) {
            let _ = KycResources::from_parameters(&path(), &entries);
        }
    }

    #[test]
    fn a_secret_never_prints() {
        let s = SecretString::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "SecretString(<redacted>)");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(s.expose(), "hunter2");
    }
}
