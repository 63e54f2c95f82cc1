//! Rekognition Face Liveness: typed values for `CreateFaceLivenessSession` and
//! `GetFaceLivenessSessionResults`, and the confidence policy that turns a session's result into
//! kyc-core's [`LivenessEvidence`].
//!
//! # Flow
//!
//! 1. The server creates a session ([`RekognitionFaceEngine::create_liveness_session`]) and
//!    hands its [`LivenessSessionId`] to the browser.
//! 2. The browser streams the selfie video to Rekognition itself (AWS Amplify's
//!    `FaceLivenessDetector`, with credentials allowed `rekognition:StartFaceLivenessSession`);
//!    no frame passes through the kit.
//! 3. The server fetches the result ([`RekognitionFaceEngine::liveness_session_results`]) and
//!    applies a [`LivenessConfidencePolicy`]: the [`LivenessVerdict`] gives the decision engine
//!    its `Option<LivenessEvidence>` (`None` while the session is still open).
//!
//! # The policy
//!
//! Rekognition answers a confidence from 0 to 100 that the person was live, and leaves the cut
//! to the customer. The kit's default pass mark is **90** ([`LivenessConfidencePolicy::DEFAULT_PERCENT`]):
//! strict, because a false accept in identity verification costs more than a retry. Set it from
//! your own false-accept and false-reject measurements. The verdicts:
//!
//! | session status | confidence | verdict | evidence |
//! |---|---|---|---|
//! | `CREATED`, `IN_PROGRESS` | – | [`LivenessVerdict::Pending`] | `None` (decision: pending) |
//! | `SUCCEEDED` | ≥ pass mark | [`LivenessVerdict::Live`] | `passed: true` |
//! | `SUCCEEDED` | < pass mark or missing | [`LivenessVerdict::NotLive`] | `passed: false` |
//! | `FAILED` | – | [`LivenessVerdict::Failed`] | `passed: false` |
//! | `EXPIRED` | – | [`LivenessVerdict::Expired`] | `passed: false` |
//!
//! A failed or expired session is final for *that* session: the user may be offered a new one.
//!
//! [`RekognitionFaceEngine::create_liveness_session`]: super::RekognitionFaceEngine::create_liveness_session
//! [`RekognitionFaceEngine::liveness_session_results`]: super::RekognitionFaceEngine::liveness_session_results

use std::fmt;

use kyc_core::decision::LivenessEvidence;
use kyc_core::liveness::Probability;
use kyc_core::model::{Image, ValueError};
use kyc_core::ports::PortError;

/// A Face Liveness session id: a UUID in lowercase hexadecimal (36 characters), as Rekognition
/// issues them. `Debug` shows only its first 8 characters (the id lets a browser stream into
/// the session).
///
/// ```
/// use kyc_aws::rekognition::LivenessSessionId;
/// let id = LivenessSessionId::parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0").unwrap();
/// assert_eq!(format!("{id:?}"), "LivenessSessionId(0f1e2d3c…)");
/// assert!(LivenessSessionId::parse("../../etc/passwd").is_err());
/// assert!(LivenessSessionId::parse("0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LivenessSessionId(String);

impl LivenessSessionId {
    /// Parses an untrusted session id: `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
    /// (the pattern of the service model).
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const MALFORMED: ValueError = ValueError::Malformed {
            what: "liveness session id",
            expected: "a lowercase UUID",
        };
        if s.len() != 36 {
            return Err(MALFORMED);
        }
        let ok = s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(MALFORMED)
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LivenessSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for LivenessSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "LivenessSessionId({}…)",
            self.0.get(..8).unwrap_or_default()
        )
    }
}

/// Where Rekognition stores a session's reference and audit images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LivenessOutput {
    /// The S3 bucket.
    pub bucket: String,
    /// A key prefix, if any.
    pub key_prefix: Option<String>,
}

/// The settings of a new Face Liveness session.
///
/// ```
/// use kyc_aws::rekognition::LivenessSessionRequest;
/// let r = LivenessSessionRequest::new()
///     .with_request_token("verif-42_attempt-1").unwrap()
///     .with_audit_images(9);
/// assert_eq!(r.audit_images_limit(), 4); // Rekognition's maximum
/// assert!(LivenessSessionRequest::new().with_request_token("a b").is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LivenessSessionRequest {
    request_token: Option<String>,
    audit_images_limit: u8,
    output: Option<LivenessOutput>,
    kms_key_id: Option<String>,
}

impl LivenessSessionRequest {
    /// The largest number of audit images Rekognition returns.
    pub const MAX_AUDIT_IMAGES: u8 = 4;

    /// No idempotency token, no audit images, images returned as bytes, AWS-owned encryption.
    pub fn new() -> Self {
        Self::default()
    }

    /// An idempotency token (1–64 characters from `A-Z a-z 0-9 - _`): the same token returns the
    /// same session. Use one per liveness *attempt*, not per verification, or a user who
    /// retries gets the finished session back.
    pub fn with_request_token(mut self, token: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "liveness request token";
        if token.is_empty() {
            return Err(ValueError::Empty { what: WHAT });
        }
        if token.len() > 64 {
            return Err(ValueError::TooLong {
                what: WHAT,
                max: 64,
            });
        }
        if !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ValueError::InvalidCharacter { what: WHAT });
        }
        self.request_token = Some(token.to_owned());
        Ok(self)
    }

    /// How many audit images to keep, capped at [`Self::MAX_AUDIT_IMAGES`].
    pub fn with_audit_images(mut self, n: u8) -> Self {
        self.audit_images_limit = n.min(Self::MAX_AUDIT_IMAGES);
        self
    }

    /// Store the reference and audit images in S3 instead of returning their bytes.
    pub fn with_output(mut self, output: LivenessOutput) -> Self {
        self.output = Some(output);
        self
    }

    /// Encrypt the stored images with this KMS key.
    pub fn with_kms_key(mut self, key_id: impl Into<String>) -> Self {
        self.kms_key_id = Some(key_id.into());
        self
    }

    /// The idempotency token, if any.
    pub fn request_token(&self) -> Option<&str> {
        self.request_token.as_deref()
    }

    /// The number of audit images asked for (0–4).
    pub fn audit_images_limit(&self) -> u8 {
        self.audit_images_limit
    }

    /// The S3 output, if any.
    pub fn output(&self) -> Option<&LivenessOutput> {
        self.output.as_ref()
    }

    /// The KMS key, if any.
    pub fn kms_key_id(&self) -> Option<&str> {
        self.kms_key_id.as_deref()
    }
}

/// A session's state, as Rekognition reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LivenessSessionStatus {
    /// Created; the browser has not started streaming.
    Created,
    /// The browser is streaming or Rekognition is analysing.
    InProgress,
    /// Analysed: the confidence is available.
    Succeeded,
    /// The check could not be completed (e.g. the user left, or the video was unusable).
    Failed,
    /// The session was not completed in time.
    Expired,
}

/// A session's reference image: a high-quality frame of the face, for comparison with the
/// document portrait. Personal data: `Debug` never shows the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReferenceImage {
    /// Returned inline (no S3 output configured).
    Bytes(Image),
    /// Stored by Rekognition in S3.
    S3 {
        /// The bucket.
        bucket: String,
        /// The object key.
        key: String,
    },
}

/// The result of one Face Liveness session.
#[derive(Clone, Debug, PartialEq)]
pub struct LivenessSessionResult {
    /// The session.
    pub session_id: LivenessSessionId,
    /// Its state.
    pub status: LivenessSessionStatus,
    /// Rekognition's confidence that the person was live, 0–1 (its 0–100 score / 100), once
    /// the session has succeeded.
    pub confidence: Option<Probability>,
    /// The reference image, when Rekognition returned one.
    pub reference_image: Option<ReferenceImage>,
    /// How many audit images came back (their content is not kept by the adapter).
    pub audit_image_count: usize,
}

/// What a session's result means for the verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LivenessVerdict {
    /// The session is still open: no evidence yet.
    Pending,
    /// Succeeded with a confidence at or above the pass mark.
    Live,
    /// Succeeded below the pass mark (or without a confidence).
    NotLive,
    /// The session failed.
    Failed,
    /// The session expired.
    Expired,
}

impl LivenessVerdict {
    /// The decision engine's evidence: `None` while pending, else whether liveness passed.
    ///
    /// ```
    /// use kyc_aws::rekognition::LivenessVerdict;
    /// assert_eq!(LivenessVerdict::Pending.evidence(), None);
    /// assert!(LivenessVerdict::Live.evidence().unwrap().passed);
    /// assert!(!LivenessVerdict::Expired.evidence().unwrap().passed);
    /// ```
    pub fn evidence(self) -> Option<LivenessEvidence> {
        match self {
            Self::Pending => None,
            Self::Live => Some(LivenessEvidence { passed: true }),
            Self::NotLive | Self::Failed | Self::Expired => {
                Some(LivenessEvidence { passed: false })
            }
        }
    }

    /// A stable code for logs and audit records (`LIVE`, `NOT_LIVE`…).
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Live => "LIVE",
            Self::NotLive => "NOT_LIVE",
            Self::Failed => "FAILED",
            Self::Expired => "EXPIRED",
        }
    }
}

/// The pass mark applied to Rekognition's liveness confidence.
///
/// ```
/// use kyc_aws::rekognition::LivenessConfidencePolicy;
/// let p = LivenessConfidencePolicy::default();
/// assert_eq!(p.pass_mark_percent(), 90.0);
/// assert!(LivenessConfidencePolicy::new(101.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LivenessConfidencePolicy {
    pass_mark: Probability,
}

impl Default for LivenessConfidencePolicy {
    fn default() -> Self {
        Self {
            pass_mark: Probability::from_percent(Self::DEFAULT_PERCENT).unwrap_or(Probability::ONE),
        }
    }
}

impl LivenessConfidencePolicy {
    /// The default pass mark, on Rekognition's 0–100 scale.
    pub const DEFAULT_PERCENT: f32 = 90.0;

    /// A policy passing sessions whose confidence reaches `percent` (0–100, inclusive).
    pub fn new(percent: f32) -> Result<Self, ValueError> {
        let pass_mark = Probability::from_percent(percent).map_err(|_| ValueError::OutOfRange {
            what: "liveness pass mark",
        })?;
        Ok(Self { pass_mark })
    }

    /// The pass mark on the 0–100 scale.
    pub fn pass_mark_percent(&self) -> f32 {
        self.pass_mark.value() * 100.0
    }

    /// The verdict for a session's result (see the table in the module documentation).
    pub fn evaluate(&self, result: &LivenessSessionResult) -> LivenessVerdict {
        match result.status {
            LivenessSessionStatus::Created | LivenessSessionStatus::InProgress => {
                LivenessVerdict::Pending
            }
            LivenessSessionStatus::Failed => LivenessVerdict::Failed,
            LivenessSessionStatus::Expired => LivenessVerdict::Expired,
            LivenessSessionStatus::Succeeded => match result.confidence {
                Some(c) if c >= self.pass_mark => LivenessVerdict::Live,
                _ => LivenessVerdict::NotLive,
            },
        }
    }
}

/// Why a Face Liveness call failed. Messages never carry the service's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LivenessError {
    /// Rekognition does not know the session (never created, or deleted after its retention).
    #[error("the liveness session was not found")]
    SessionNotFound,
    /// Rekognition answered with something this adapter cannot read (an unknown status, a
    /// malformed session id).
    #[error("rekognition answered with an unexpected liveness result")]
    UnexpectedResponse,
    /// The call failed (throttling, outage, permissions, breaker open).
    #[error(transparent)]
    Backend(#[from] PortError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn result(status: LivenessSessionStatus, confidence: Option<f32>) -> LivenessSessionResult {
        LivenessSessionResult {
            session_id: LivenessSessionId::parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0").unwrap(),
            status,
            confidence: confidence.map(|c| Probability::from_percent(c).unwrap()),
            reference_image: None,
            audit_image_count: 0,
        }
    }

    #[test]
    fn the_pass_mark_is_inclusive() {
        let p = LivenessConfidencePolicy::default();
        use LivenessSessionStatus::*;
        assert_eq!(
            p.evaluate(&result(Succeeded, Some(90.0))),
            LivenessVerdict::Live
        );
        assert_eq!(
            p.evaluate(&result(Succeeded, Some(89.99))),
            LivenessVerdict::NotLive
        );
        assert_eq!(
            p.evaluate(&result(Succeeded, None)),
            LivenessVerdict::NotLive
        );
    }

    #[test]
    fn open_sessions_are_pending_and_closed_ones_are_final() {
        let p = LivenessConfidencePolicy::new(50.0).unwrap();
        use LivenessSessionStatus::*;
        assert_eq!(p.evaluate(&result(Created, None)), LivenessVerdict::Pending);
        assert_eq!(
            p.evaluate(&result(InProgress, None)),
            LivenessVerdict::Pending
        );
        // A failed or expired session never passes, whatever confidence came with it.
        assert_eq!(
            p.evaluate(&result(Failed, Some(99.0))),
            LivenessVerdict::Failed
        );
        assert_eq!(
            p.evaluate(&result(Expired, Some(99.0))),
            LivenessVerdict::Expired
        );
        assert_eq!(LivenessVerdict::Failed.code(), "FAILED");
    }

    #[test]
    fn request_tokens_follow_the_service_pattern() {
        let ok = LivenessSessionRequest::new().with_request_token(&"a".repeat(64));
        assert!(ok.is_ok());
        for bad in ["", "with space", "slash/", &"a".repeat(65)] {
            assert!(
                LivenessSessionRequest::new()
                    .with_request_token(bad)
                    .is_err(),
                "{bad}"
            );
        }
        let e = LivenessSessionRequest::new()
            .with_request_token("secret value")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    proptest! {
        #[test]
        fn session_id_parse_never_panics_and_round_trips(s in "\\PC{0,40}") {
            if let Ok(id) = LivenessSessionId::parse(&s) {
                prop_assert_eq!(LivenessSessionId::parse(id.as_str()).unwrap(), id);
                prop_assert_eq!(s.len(), 36);
            }
        }

        #[test]
        fn a_higher_pass_mark_never_turns_a_failure_into_a_pass(
            c in 0.0f32..=100.0,
            lo in 0.0f32..=100.0,
            hi in 0.0f32..=100.0,
        ) {
            let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
            let r = result(LivenessSessionStatus::Succeeded, Some(c));
            let strict = LivenessConfidencePolicy::new(hi).unwrap().evaluate(&r);
            let lenient = LivenessConfidencePolicy::new(lo).unwrap().evaluate(&r);
            if strict == LivenessVerdict::Live {
                prop_assert_eq!(lenient, LivenessVerdict::Live);
            }
        }
    }
}
