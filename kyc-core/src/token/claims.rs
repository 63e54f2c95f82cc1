//! The claims of the verified-identity JWT: [`VerifiedIdentityClaims`], built from an approved
//! session with an [`IssuerConfig`], and their [`validate`] check.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::{Timestamp, VerificationId};
use crate::ports::RandomSource;
use crate::session::{Checks, Outcome, PolicyVersion, ScreeningOutcome, Session};

use super::{base64url, TokenError};

/// The longest token lifetime this crate issues or accepts: 24 hours.
pub const MAX_LIFETIME_SECS: u32 = 24 * 60 * 60;
/// The longest issuer, audience or key id (bytes).
pub const MAX_NAME_LEN: usize = 256;

/// How much was verified (the `acr` claim). A closed set; the serde names are given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AssuranceLevel {
    /// `kyc:document+liveness+facematch`: a document was read, liveness passed and the face
    /// matched the document portrait.
    #[serde(rename = "kyc:document+liveness+facematch")]
    DocumentLivenessFaceMatch,
    /// `kyc:document+liveness+facematch+sanctions`: the same, and the holder was screened
    /// against sanctions lists without an unresolved match.
    #[serde(rename = "kyc:document+liveness+facematch+sanctions")]
    DocumentLivenessFaceMatchSanctions,
}

impl AssuranceLevel {
    /// The level a session's checks support, if any.
    pub fn from_checks(c: &Checks) -> Option<Self> {
        if !(c.document_read && c.liveness_passed && c.face_matched) {
            return None;
        }
        Some(match c.screening {
            // An approved session with a possible match was cleared by a reviewer.
            Some(ScreeningOutcome::Clear | ScreeningOutcome::PossibleMatch) => {
                Self::DocumentLivenessFaceMatchSanctions
            }
            None => Self::DocumentLivenessFaceMatch,
        })
    }

    /// The claim value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DocumentLivenessFaceMatch => "kyc:document+liveness+facematch",
            Self::DocumentLivenessFaceMatchSanctions => "kyc:document+liveness+facematch+sanctions",
        }
    }
}

impl fmt::Display for AssuranceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `aud` claim: one audience (as this crate issues it) or several (RFC 7519 allows both).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience, serialised as a string.
    One(String),
    /// Several audiences, serialised as an array.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `aud` is one of the audiences.
    pub fn contains(&self, aud: &str) -> bool {
        match self {
            Self::One(a) => a == aud,
            Self::Many(v) => v.iter().any(|a| a == aud),
        }
    }
}

/// Who issues tokens, for whom, and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerConfig {
    issuer: String,
    audience: String,
    lifetime_secs: u32,
}

impl IssuerConfig {
    /// Checks the settings: non-empty issuer and audience of at most 256 bytes, and a lifetime
    /// of 1 second to 24 hours.
    ///
    /// ```
    /// use kyc_core::token::IssuerConfig;
    /// assert!(IssuerConfig::new("https://kyc.example", "securetask", 3600).is_ok());
    /// assert!(IssuerConfig::new("https://kyc.example", "securetask", 2 * 86_400).is_err());
    /// ```
    pub fn new(issuer: &str, audience: &str, lifetime_secs: u32) -> Result<Self, TokenError> {
        for (v, what) in [(issuer, "issuer"), (audience, "audience")] {
            if v.is_empty() || v.len() > MAX_NAME_LEN || v.chars().any(char::is_control) {
                return Err(TokenError::InvalidConfig { what });
            }
        }
        if lifetime_secs == 0 || lifetime_secs > MAX_LIFETIME_SECS {
            return Err(TokenError::InvalidConfig { what: "lifetime" });
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            lifetime_secs,
        })
    }
    /// The issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// The audience (`aud`).
    pub fn audience(&self) -> &str {
        &self.audience
    }
    /// The lifetime in seconds.
    pub fn lifetime_secs(&self) -> u32 {
        self.lifetime_secs
    }
}

/// The claims of a verified-identity token. Times are NumericDate (whole seconds since the
/// epoch). The subject is the verification id: the token says that verification was approved,
/// and carries no personal data.
///
/// JSON: `iss`, `sub`, `aud`, `iat`, `nbf`, `exp`, `jti`, `acr`, `verification_id`,
/// `policy_version` (private claims in snake case, as OpenID Connect spells its own). Unknown
/// claims in a parsed token are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedIdentityClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the verification id.
    pub sub: String,
    /// Audience.
    pub aud: Audience,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires at (the token is refused at and after this second).
    pub exp: i64,
    /// Unique token id (16 random bytes, base64url).
    pub jti: String,
    /// Assurance level.
    pub acr: AssuranceLevel,
    /// The verification that was approved.
    pub verification_id: VerificationId,
    /// The policy that approved it.
    pub policy_version: PolicyVersion,
}

impl VerifiedIdentityClaims {
    /// The claims for an approved session, issued at `now`, with a `jti` drawn from `rng`.
    ///
    /// Refuses a session that is not approved ([`TokenError::NotApproved`]) or whose checks do
    /// not support an assurance level ([`TokenError::InsufficientAssurance`]).
    pub fn for_session(
        session: &Session,
        config: &IssuerConfig,
        now: Timestamp,
        rng: &(impl RandomSource + ?Sized),
    ) -> Result<Self, TokenError> {
        if session.outcome() != Some(Outcome::Approved) {
            return Err(TokenError::NotApproved);
        }
        let policy_version = session
            .policy_version()
            .cloned()
            .ok_or(TokenError::NotApproved)?;
        let acr = AssuranceLevel::from_checks(session.checks())
            .ok_or(TokenError::InsufficientAssurance)?;
        let mut jti = [0u8; 16];
        rng.fill_bytes(&mut jti);
        let iat = now.secs();
        let id = session.verification_id();
        Ok(Self {
            iss: config.issuer.clone(),
            sub: id.as_str().to_owned(),
            aud: Audience::One(config.audience.clone()),
            iat,
            nbf: iat,
            exp: iat.saturating_add(i64::from(config.lifetime_secs)),
            jti: base64url::encode(&jti),
            acr,
            verification_id: id,
            policy_version,
        })
    }
}

/// Checks the claims of a token whose signature has been verified: issuer, audience, and
/// times at `now` with `leeway` for clock skew (keep it small, e.g. 60 s).
///
/// - [`TokenError::WrongIssuer`], [`TokenError::WrongAudience`];
/// - [`TokenError::InconsistentTimes`] when `exp` is not after `iat`, or `nbf` after `exp`;
/// - [`TokenError::LifetimeTooLong`] when `exp - iat` exceeds 24 hours;
/// - [`TokenError::Expired`] at and after `exp + leeway` (a token whose `exp` is exactly now
///   is expired without leeway);
/// - [`TokenError::NotYetValid`] before `nbf - leeway` or before `iat - leeway`.
///
/// ```
/// use std::time::Duration;
/// use kyc_core::model::Timestamp;
/// use kyc_core::token::{validate, TokenError, VerifiedIdentityClaims};
/// # let json = r#"{"iss":"i","sub":"s","aud":"a","iat":100,"nbf":100,"exp":200,"jti":"j",
/// #   "acr":"kyc:document+liveness+facematch",
/// #   "verification_id":"01010101-0101-4101-8101-010101010101","policy_version":"p"}"#;
/// let claims: VerifiedIdentityClaims = serde_json::from_str(json).unwrap();
/// let at = Timestamp::from_secs;
/// assert_eq!(validate(&claims, "i", "a", at(150), Duration::ZERO), Ok(()));
/// assert_eq!(validate(&claims, "i", "a", at(200), Duration::ZERO), Err(TokenError::Expired));
/// assert_eq!(validate(&claims, "i", "a", at(200), Duration::from_secs(5)), Ok(()));
/// ```
pub fn validate(
    claims: &VerifiedIdentityClaims,
    expected_iss: &str,
    expected_aud: &str,
    now: Timestamp,
    leeway: Duration,
) -> Result<(), TokenError> {
    if claims.iss != expected_iss {
        return Err(TokenError::WrongIssuer);
    }
    if !claims.aud.contains(expected_aud) {
        return Err(TokenError::WrongAudience);
    }
    if claims.exp <= claims.iat || claims.nbf > claims.exp {
        return Err(TokenError::InconsistentTimes);
    }
    if claims.exp.saturating_sub(claims.iat) > i64::from(MAX_LIFETIME_SECS) {
        return Err(TokenError::LifetimeTooLong);
    }
    let ms = |secs: i64| secs.saturating_mul(1000);
    let leeway_ms = i64::try_from(leeway.as_millis()).unwrap_or(i64::MAX);
    let now = now.millis();
    if now >= ms(claims.exp).saturating_add(leeway_ms) {
        return Err(TokenError::Expired);
    }
    let start = claims.nbf.max(claims.iat);
    if now < ms(start).saturating_sub(leeway_ms) {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// A session driven to approval, shared by the token tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    use crate::session::{ReadOutcome, Step, StepKey};

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    pub(crate) fn approved_session() -> Session {
        let key = |s: &str| StepKey::parse(s).unwrap();
        let mut s = Session::start(
            VerificationId::from_random_bytes([0x21; 16]),
            key("idem"),
            T0,
            T0.plus_millis(900_000),
        );
        for step in [
            Step::ReadDocument {
                outcome: ReadOutcome::Readable,
            },
            Step::Screen {
                outcome: ScreeningOutcome::Clear,
            },
            Step::IssueChallenge { nonce: key("n") },
            Step::AcceptFrame {
                nonce: key("n"),
                frame_id: key("f"),
            },
            Step::CompleteLiveness {
                nonce: key("n"),
                passed: true,
            },
            Step::MatchFace { matched: true },
            Step::Decide {
                outcome: Outcome::Approved,
                policy_version: PolicyVersion::parse("2026-05").unwrap(),
            },
        ] {
            s.apply(step, T0).unwrap();
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::approved_session;
    use super::*;
    use crate::ports::fakes::SeededRandom;
    use crate::session::Step;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    fn config() -> IssuerConfig {
        IssuerConfig::new("https://kyc.example", "securetask", 3600).unwrap()
    }

    fn claims() -> VerifiedIdentityClaims {
        VerifiedIdentityClaims::for_session(
            &approved_session(),
            &config(),
            T0,
            &SeededRandom::new(1),
        )
        .unwrap()
    }

    #[test]
    fn claims_of_an_approved_session_have_the_expected_shape() {
        insta::assert_json_snapshot!("verified_identity_claims", claims());
    }

    #[test]
    fn only_approved_sessions_get_claims() {
        let mut s = approved_session();
        s.apply(Step::Erase, T0).unwrap();
        let r = VerifiedIdentityClaims::for_session(&s, &config(), T0, &SeededRandom::new(1));
        assert_eq!(r, Err(TokenError::NotApproved));
    }

    #[test]
    fn issuer_settings_are_bounded() {
        assert!(IssuerConfig::new("", "a", 60).is_err());
        assert!(IssuerConfig::new("i", "", 60).is_err());
        assert!(IssuerConfig::new("i", "a", 0).is_err());
        assert!(IssuerConfig::new("i", "a", MAX_LIFETIME_SECS).is_ok());
        assert!(IssuerConfig::new("i", "a", MAX_LIFETIME_SECS + 1).is_err());
        assert!(IssuerConfig::new("i\n", "a", 60).is_err());
    }

    #[test]
    fn validation_edges_are_exact() {
        let c = claims();
        let v = |now: Timestamp, leeway: u64| {
            validate(
                &c,
                "https://kyc.example",
                "securetask",
                now,
                Duration::from_secs(leeway),
            )
        };
        let exp = Timestamp::from_secs(c.exp);
        assert_eq!(v(T0, 0), Ok(()));
        assert_eq!(v(exp.plus_millis(-1), 0), Ok(()));
        assert_eq!(v(exp, 0), Err(TokenError::Expired));
        assert_eq!(v(exp, 1), Ok(()));
        assert_eq!(v(exp.plus_millis(999), 1), Ok(()));
        assert_eq!(v(exp.plus_millis(1000), 1), Err(TokenError::Expired));
        assert_eq!(v(T0.plus_millis(-1), 0), Err(TokenError::NotYetValid));
        assert_eq!(v(T0.plus_millis(-1000), 1), Ok(()));
        assert_eq!(v(T0.plus_millis(-1001), 1), Err(TokenError::NotYetValid));
        assert_eq!(
            validate(&c, "https://evil.example", "securetask", T0, Duration::ZERO),
            Err(TokenError::WrongIssuer)
        );
        assert_eq!(
            validate(&c, "https://kyc.example", "other", T0, Duration::ZERO),
            Err(TokenError::WrongAudience)
        );
        // A huge leeway does not overflow.
        assert_eq!(v(exp, u64::MAX), Ok(()));
    }

    #[test]
    fn lifetimes_and_time_order_are_checked() {
        let mut c = claims();
        c.exp = c.iat + i64::from(MAX_LIFETIME_SECS) + 1;
        let check = |c: &VerifiedIdentityClaims| {
            validate(c, "https://kyc.example", "securetask", T0, Duration::ZERO)
        };
        assert_eq!(check(&c), Err(TokenError::LifetimeTooLong));
        c.exp = c.iat;
        assert_eq!(check(&c), Err(TokenError::InconsistentTimes));
        let mut c = claims();
        c.nbf = c.exp + 1;
        assert_eq!(check(&c), Err(TokenError::InconsistentTimes));
        let mut c = claims();
        c.iat = i64::MIN;
        assert_eq!(check(&c), Err(TokenError::LifetimeTooLong));
    }

    #[test]
    fn several_audiences_are_accepted() {
        let mut c = claims();
        c.aud = Audience::Many(vec!["x".into(), "securetask".into()]);
        let json = serde_json::to_string(&c).unwrap();
        let back: VerifiedIdentityClaims = serde_json::from_str(&json).unwrap();
        assert_eq!(
            validate(
                &back,
                "https://kyc.example",
                "securetask",
                T0,
                Duration::ZERO
            ),
            Ok(())
        );
    }
}
