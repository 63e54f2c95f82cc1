//! Issuing a liveness [`Challenge`]: a random sequence of gestures bound to a nonce, with a
//! deadline and a minimum frame count, under a versioned [`ChallengePolicy`].

use serde::{Deserialize, Serialize};

use super::policy::{check_version, PolicyError};
use super::time::rfc3339;
use super::{Gesture, Nonce};
use crate::model::Timestamp;
use crate::ports::RandomSource;

/// The most gestures a challenge may hold.
pub const MAX_GESTURES: usize = 8;

/// Everything [`ChallengePolicy`] holds, as plain public fields; [`ChallengePolicy::new`] checks
/// them. JSON field names are camelCase; every field is required.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChallengeSettings {
    /// Recorded in every challenge; change it whenever a value changes.
    pub version: String,
    /// Fewest gestures per challenge. Default 2.
    pub min_gestures: u8,
    /// Most gestures per challenge (≤ [`MAX_GESTURES`]). Default 4.
    pub max_gestures: u8,
    /// The gestures a challenge draws from, each at most once in this list. Default: all six.
    /// Leave out gestures the deployed face engine cannot observe (e.g. `blink` and `smile`
    /// need eyes-open and smile probabilities).
    pub gestures: Vec<Gesture>,
    /// Time from issue to deadline, in milliseconds (5 s to 10 min). Default 60 000 (one minute).
    pub ttl_ms: i64,
    /// Frames needed whatever the number of gestures. Default 5.
    pub min_frames_base: u32,
    /// Further frames needed per gesture (≥ 2: a neutral and a triggered frame). Default 3.
    /// With the defaults a challenge of 2 to 4 gestures asks for 11 to 17 frames.
    pub min_frames_per_gesture: u32,
}

impl Default for ChallengeSettings {
    fn default() -> Self {
        Self {
            version: ChallengePolicy::DEFAULT_VERSION.to_owned(),
            min_gestures: 2,
            max_gestures: 4,
            gestures: Gesture::ALL.to_vec(),
            ttl_ms: 60_000,
            min_frames_base: 5,
            min_frames_per_gesture: 3,
        }
    }
}

/// The checked, versioned rules for issuing challenges.
///
/// ```
/// use kyc_core::liveness::{ChallengePolicy, ChallengeSettings, Gesture};
/// let p = ChallengePolicy::default();
/// assert_eq!(p.version(), "challenge-2026.11");
/// assert_eq!(p.min_frames_for(3), 14);
///
/// let mut s = ChallengeSettings::default();
/// s.gestures = vec![Gesture::Blink]; // one gesture cannot make 2 without a repeat
/// assert!(ChallengePolicy::new(s).is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ChallengeSettings", into = "ChallengeSettings")]
pub struct ChallengePolicy(ChallengeSettings);

impl ChallengePolicy {
    /// The version of the default settings.
    pub const DEFAULT_VERSION: &'static str = "challenge-2026.11";

    /// Checks the settings: 1 ≤ min ≤ max ≤ [`MAX_GESTURES`]; a non-empty gesture set without
    /// duplicates, with at least two gestures when a challenge can hold more than one (so no
    /// gesture ever follows itself); ttl between 5 s and 10 min; at least 2 frames per gesture.
    pub fn new(settings: ChallengeSettings) -> Result<Self, PolicyError> {
        check_version(&settings.version)?;
        let (min, max) = (
            usize::from(settings.min_gestures),
            usize::from(settings.max_gestures),
        );
        if min == 0 || min > max || max > MAX_GESTURES {
            return Err(PolicyError::OutOfRange {
                setting: "minGestures",
                expected: "1 <= minGestures <= maxGestures <= 8",
            });
        }
        let g = &settings.gestures;
        if g.is_empty() {
            return Err(PolicyError::InvalidGestureSet {
                expected: "must not be empty",
            });
        }
        if g.iter()
            .enumerate()
            .any(|(i, a)| g.iter().skip(i + 1).any(|b| a == b))
        {
            return Err(PolicyError::InvalidGestureSet {
                expected: "must not repeat a gesture",
            });
        }
        if max > 1 && g.len() < 2 {
            return Err(PolicyError::InvalidGestureSet {
                expected: "must hold at least two gestures when a challenge can hold several",
            });
        }
        if !(5_000..=600_000).contains(&settings.ttl_ms) {
            return Err(PolicyError::OutOfRange {
                setting: "ttlMs",
                expected: "5000 to 600000 milliseconds",
            });
        }
        if settings.min_frames_per_gesture < 2 || settings.min_frames_per_gesture > 100 {
            return Err(PolicyError::OutOfRange {
                setting: "minFramesPerGesture",
                expected: "2 to 100",
            });
        }
        if settings.min_frames_base > 1000 {
            return Err(PolicyError::OutOfRange {
                setting: "minFramesBase",
                expected: "0 to 1000",
            });
        }
        Ok(Self(settings))
    }

    /// The settings.
    pub fn settings(&self) -> &ChallengeSettings {
        &self.0
    }

    /// The version string recorded in every challenge.
    pub fn version(&self) -> &str {
        &self.0.version
    }

    /// The minimum frame count of a challenge with `gestures` gestures.
    pub fn min_frames_for(&self, gestures: usize) -> u32 {
        let n = u32::try_from(gestures).unwrap_or(u32::MAX);
        self.0
            .min_frames_base
            .saturating_add(self.0.min_frames_per_gesture.saturating_mul(n))
    }
}

impl TryFrom<ChallengeSettings> for ChallengePolicy {
    type Error = PolicyError;
    fn try_from(s: ChallengeSettings) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<ChallengePolicy> for ChallengeSettings {
    fn from(p: ChallengePolicy) -> Self {
        p.0
    }
}

/// One issued challenge, as the server stores it.
///
/// JSON (camelCase): the API fields `nonce` (32 lowercase hex digits), `gestures`, `expiresAt`
/// (RFC 3339), `minFrames`, plus the server-side `issuedAt` (RFC 3339) and `policyVersion`.
/// [`Challenge::to_api`] gives exactly the API shape for `POST /v1/start-liveness`.
///
/// ```
/// use kyc_core::liveness::{Challenge, ChallengePolicy};
/// use kyc_core::model::Timestamp;
/// use kyc_core::ports::fakes::SeededRandom;
///
/// let issued = Timestamp::from_secs(1_795_000_000);
/// let c = Challenge::issue(&ChallengePolicy::default(), &SeededRandom::new(7), issued);
/// assert!((2..=4).contains(&c.gestures().len()));
/// assert!(c.gestures().windows(2).all(|w| w[0] != w[1]));
/// assert_eq!(c.expires_at(), issued.plus_millis(60_000));
///
/// let api = serde_json::to_value(c.to_api()).unwrap();
/// let mut keys: Vec<_> = api.as_object().unwrap().keys().cloned().collect();
/// keys.sort();
/// assert_eq!(keys, ["expiresAt", "gestures", "minFrames", "nonce"]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ChallengeRepr", into = "ChallengeRepr")]
pub struct Challenge {
    nonce: Nonce,
    gestures: Vec<Gesture>,
    issued_at: Timestamp,
    expires_at: Timestamp,
    min_frames: u32,
    policy_version: String,
}

impl Challenge {
    /// Issues a challenge at `issued_at` (the caller's [`crate::ports::Clock`]): draws the nonce
    /// (16 bytes), then the number of gestures uniformly in `minGestures..=maxGestures`, then
    /// each gesture uniformly among the allowed ones except the one before it.
    pub fn issue<R: RandomSource + ?Sized>(
        policy: &ChallengePolicy,
        rng: &R,
        issued_at: Timestamp,
    ) -> Self {
        let s = policy.settings();
        let nonce = Nonce::generate(rng);
        let span = u32::from(s.max_gestures.saturating_sub(s.min_gestures)) + 1;
        let count = usize::from(s.min_gestures) + rng.below(span) as usize;
        let allowed = &s.gestures;
        let mut gestures: Vec<Gesture> = Vec::with_capacity(count);
        let mut prev: Option<usize> = None;
        for _ in 0..count {
            let pick = match prev {
                None => rng.below(len_u32(allowed.len())) as usize,
                Some(p) => {
                    // Draw among the others, then step over the previous one.
                    let i = rng.below(len_u32(allowed.len().saturating_sub(1)).max(1)) as usize;
                    if i >= p && allowed.len() > 1 {
                        i + 1
                    } else {
                        i
                    }
                }
            };
            let Some(g) = allowed.get(pick) else { break };
            gestures.push(*g);
            prev = Some(pick);
        }
        Self {
            nonce,
            min_frames: policy.min_frames_for(gestures.len()),
            gestures,
            issued_at,
            expires_at: issued_at.plus_millis(s.ttl_ms),
            policy_version: s.version.clone(),
        }
    }

    /// A challenge with the given gestures, for tests that need a particular sequence.
    #[cfg(any(test, feature = "test-util"))]
    pub fn fixed(
        nonce: Nonce,
        gestures: &[Gesture],
        issued_at: Timestamp,
        policy: &ChallengePolicy,
    ) -> Self {
        Self {
            nonce,
            gestures: gestures.to_vec(),
            issued_at,
            expires_at: issued_at.plus_millis(policy.settings().ttl_ms),
            min_frames: policy.min_frames_for(gestures.len()),
            policy_version: policy.version().to_owned(),
        }
    }

    /// The nonce every frame must carry.
    pub fn nonce(&self) -> &Nonce {
        &self.nonce
    }

    /// The gestures, in the order they must be performed.
    pub fn gestures(&self) -> &[Gesture] {
        &self.gestures
    }

    /// When the challenge was issued (server clock).
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// The deadline (server clock): issued-at plus the policy's ttl.
    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    /// The fewest frames that can pass.
    pub fn min_frames(&self) -> u32 {
        self.min_frames
    }

    /// The version of the [`ChallengePolicy`] that issued it.
    pub fn policy_version(&self) -> &str {
        &self.policy_version
    }

    /// Whether `now` is past the deadline.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now > self.expires_at
    }

    /// The API view `{"nonce", "gestures", "expiresAt", "minFrames"}`.
    pub fn to_api(&self) -> ChallengeView {
        ChallengeView {
            nonce: self.nonce,
            gestures: self.gestures.clone(),
            expires_at: self.expires_at,
            min_frames: self.min_frames,
        }
    }
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX).max(1)
}

/// The challenge as the client sees it: `{"nonce", "gestures", "expiresAt", "minFrames"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChallengeView {
    /// 32 lowercase hex digits, sent back with every frame.
    pub nonce: Nonce,
    /// The gestures, in order.
    pub gestures: Vec<Gesture>,
    /// The deadline, RFC 3339.
    #[serde(with = "rfc3339")]
    pub expires_at: Timestamp,
    /// The fewest frames that can pass.
    pub min_frames: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChallengeRepr {
    nonce: Nonce,
    gestures: Vec<Gesture>,
    #[serde(with = "rfc3339")]
    expires_at: Timestamp,
    min_frames: u32,
    #[serde(with = "rfc3339")]
    issued_at: Timestamp,
    policy_version: String,
}

impl TryFrom<ChallengeRepr> for Challenge {
    type Error = PolicyError;
    fn try_from(r: ChallengeRepr) -> Result<Self, Self::Error> {
        check_version(&r.policy_version)?;
        if r.gestures.is_empty() || r.gestures.len() > MAX_GESTURES {
            return Err(PolicyError::InvalidGestureSet {
                expected: "of a challenge must number 1 to 8",
            });
        }
        if r.gestures.windows(2).any(|w| w.first() == w.get(1)) {
            return Err(PolicyError::InvalidGestureSet {
                expected: "of a challenge must not repeat immediately",
            });
        }
        if r.expires_at <= r.issued_at {
            return Err(PolicyError::OutOfRange {
                setting: "expiresAt",
                expected: "after issuedAt",
            });
        }
        Ok(Self {
            nonce: r.nonce,
            gestures: r.gestures,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
            min_frames: r.min_frames,
            policy_version: r.policy_version,
        })
    }
}

impl From<Challenge> for ChallengeRepr {
    fn from(c: Challenge) -> Self {
        Self {
            nonce: c.nonce,
            gestures: c.gestures,
            expires_at: c.expires_at,
            min_frames: c.min_frames,
            issued_at: c.issued_at,
            policy_version: c.policy_version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::fakes::SeededRandom;
    use proptest::prelude::*;

    fn issued() -> Timestamp {
        Timestamp::from_millis(1_795_000_000_000)
    }

    #[test]
    fn challenge_json_has_the_api_fields_and_the_stored_ones() {
        let c = Challenge::issue(
            &ChallengePolicy::default(),
            &SeededRandom::new(42),
            issued(),
        );
        insta::assert_json_snapshot!("stored_challenge", c);
        insta::assert_json_snapshot!("api_challenge", c.to_api());
        let back: Challenge = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        let view: ChallengeView =
            serde_json::from_str(&serde_json::to_string(&c.to_api()).unwrap()).unwrap();
        assert_eq!(view, c.to_api());
    }

    #[test]
    fn default_challenge_policy_snapshot_documents_its_values() {
        insta::assert_json_snapshot!("default_challenge_policy", ChallengePolicy::default());
    }

    #[test]
    fn stored_challenges_with_broken_invariants_are_refused() {
        let c = Challenge::issue(&ChallengePolicy::default(), &SeededRandom::new(1), issued());
        let mut v = serde_json::to_value(&c).unwrap();
        v["gestures"] = serde_json::json!(["blink", "blink"]);
        assert!(serde_json::from_value::<Challenge>(v.clone()).is_err());
        v["gestures"] = serde_json::json!([]);
        assert!(serde_json::from_value::<Challenge>(v.clone()).is_err());
        v["gestures"] = serde_json::json!(["blink", "nod"]);
        v["expiresAt"] = v["issuedAt"].clone();
        assert!(serde_json::from_value::<Challenge>(v).is_err());
    }

    #[test]
    fn a_policy_of_two_gestures_alternates_them() {
        let s = ChallengeSettings {
            gestures: vec![Gesture::TurnLeft, Gesture::TurnRight],
            min_gestures: 4,
            max_gestures: 4,
            ..ChallengeSettings::default()
        };
        let p = ChallengePolicy::new(s).unwrap();
        let c = Challenge::issue(&p, &SeededRandom::new(3), issued());
        assert_eq!(c.gestures().len(), 4);
        assert!(c.gestures().windows(2).all(|w| w[0] != w[1]));
        assert_eq!(c.min_frames(), 5 + 3 * 4);
    }

    #[test]
    fn every_gesture_and_length_turns_up_over_many_seeds() {
        let p = ChallengePolicy::default();
        let mut seen = [0u32; 6];
        let mut lengths = [0u32; 5];
        for seed in 0..600 {
            let c = Challenge::issue(&p, &SeededRandom::new(seed), issued());
            for g in c.gestures() {
                seen[g.index()] += 1;
            }
            lengths[c.gestures().len()] += 1;
        }
        assert!(seen.iter().all(|&n| n > 100), "{seen:?}");
        assert!(lengths[2..=4].iter().all(|&n| n > 120), "{lengths:?}");
    }

    #[test]
    fn invalid_challenge_settings_are_refused() {
        let bad: Vec<fn(&mut ChallengeSettings)> = vec![
            |s| s.min_gestures = 0,
            |s| s.min_gestures = 5,
            |s| s.max_gestures = 9,
            |s| s.gestures.clear(),
            |s| s.gestures = vec![Gesture::Nod, Gesture::Nod],
            |s| s.ttl_ms = 1_000,
            |s| s.min_frames_per_gesture = 1,
            |s| s.version = "x".repeat(65),
        ];
        for break_it in bad {
            let mut s = ChallengeSettings::default();
            break_it(&mut s);
            assert!(ChallengePolicy::new(s).is_err());
        }
        let one = ChallengeSettings {
            gestures: vec![Gesture::Smile],
            min_gestures: 1,
            max_gestures: 1,
            ..ChallengeSettings::default()
        };
        assert!(ChallengePolicy::new(one).is_ok());
    }

    proptest! {
        #[test]
        fn any_seed_gives_two_to_four_gestures_without_immediate_repeats(seed in any::<u64>()) {
            let c = Challenge::issue(&ChallengePolicy::default(), &SeededRandom::new(seed), issued());
            prop_assert!((2..=4).contains(&c.gestures().len()));
            prop_assert!(c.gestures().windows(2).all(|w| w[0] != w[1]));
            prop_assert_eq!(c.min_frames(), 5 + 3 * c.gestures().len() as u32);
            prop_assert!(c.expires_at() > c.issued_at());
        }

        #[test]
        fn any_valid_policy_gives_challenges_within_its_bounds(
            seed in any::<u64>(),
            min in 1u8..=8,
            extra in 0u8..=7,
            mask in 3u8..64,
        ) {
            let gestures: Vec<Gesture> =
                Gesture::ALL.into_iter().filter(|g| mask & (1 << g.index()) != 0).collect();
            let s = ChallengeSettings {
                min_gestures: min,
                max_gestures: (min + extra).min(8),
                gestures: gestures.clone(),
                ..ChallengeSettings::default()
            };
            if let Ok(p) = ChallengePolicy::new(s) {
                let c = Challenge::issue(&p, &SeededRandom::new(seed), issued());
                prop_assert!(c.gestures().len() >= usize::from(min));
                prop_assert!(c.gestures().len() <= usize::from((min + extra).min(8)));
                prop_assert!(c.gestures().iter().all(|g| gestures.contains(g)));
                prop_assert!(c.gestures().windows(2).all(|w| w[0] != w[1]));
            }
        }
    }
}
