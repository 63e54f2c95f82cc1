//! The versioned [`LivenessPolicy`] that decides whether a sequence of frames shows the
//! challenged gestures: gesture thresholds with hysteresis, frame rules and face-continuity
//! limits, each with a documented default; and the [`PolicyError`] of every liveness policy.

use serde::{Deserialize, Serialize};

/// Why a policy's settings were refused. Messages name the setting, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A number is outside the range the setting allows.
    #[error("{setting} is out of range (expected {expected})")]
    OutOfRange {
        /// The setting, as named in JSON.
        setting: &'static str,
        /// The rule it breaks.
        expected: &'static str,
    },
    /// A trigger threshold sits too close to its neutral threshold: jitter could count twice.
    #[error("{setting} leaves too little hysteresis ({expected})")]
    NoHysteresis {
        /// The setting, as named in JSON.
        setting: &'static str,
        /// The rule it breaks.
        expected: &'static str,
    },
    /// The version string is empty, too long or holds other characters than `A-Z a-z 0-9 . _ -`.
    #[error("policy version must be 1 to 64 characters from A-Z a-z 0-9 . _ -")]
    InvalidVersion,
    /// The set of gestures a challenge may draw from is unusable.
    #[error("gestures {expected}")]
    InvalidGestureSet {
        /// The rule it breaks.
        expected: &'static str,
    },
}

pub(crate) fn check_version(v: &str) -> Result<(), PolicyError> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    ok.then_some(()).ok_or(PolicyError::InvalidVersion)
}

pub(crate) fn check_range(
    setting: &'static str,
    v: f32,
    lo: f32,
    hi: f32,
    expected: &'static str,
) -> Result<(), PolicyError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(PolicyError::OutOfRange { setting, expected })
    }
}

/// The smallest gap, in degrees, between a neutral band and its trigger threshold.
pub const MIN_ANGLE_HYSTERESIS_DEG: f32 = 5.0;
/// The smallest gap between a "neutral" and a "triggered" probability threshold.
pub const MIN_PROBABILITY_HYSTERESIS: f32 = 0.1;

/// Thresholds of the gesture detectors. Every gesture needs a **neutral** frame (inside the
/// neutral band) followed by a **triggered** frame (beyond the trigger threshold); the gap
/// between the two is the hysteresis that keeps jitter around one threshold from counting twice.
/// Angles follow the sign convention of [`super::HeadPose`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GestureThresholds {
    /// A head is neutral for turns when |yaw| ≤ this. Default 10°.
    pub neutral_yaw_deg: f32,
    /// `turnLeft` triggers at yaw ≥ this, `turnRight` at yaw ≤ −this. Default 25°.
    pub turn_yaw_deg: f32,
    /// A head is neutral for `lookUp` and `nod` when |pitch| ≤ this. Default 10°.
    pub neutral_pitch_deg: f32,
    /// `lookUp` triggers at pitch ≥ this. Default 20°.
    pub look_up_pitch_deg: f32,
    /// `nod` goes down at pitch ≤ −this, and completes when the head is back in the neutral
    /// band. Default 15°.
    pub nod_pitch_deg: f32,
    /// Eyes count as open at an eyes-open probability ≥ this. Default 0.7.
    pub eyes_open_min: f32,
    /// Eyes count as closed at an eyes-open probability ≤ this. Default 0.3.
    pub eyes_closed_max: f32,
    /// A face counts as not smiling at a smile probability ≤ this. Default 0.3.
    pub smile_neutral_max: f32,
    /// `smile` triggers at a smile probability ≥ this. Default 0.7.
    pub smile_min: f32,
}

impl Default for GestureThresholds {
    fn default() -> Self {
        Self {
            neutral_yaw_deg: 10.0,
            turn_yaw_deg: 25.0,
            neutral_pitch_deg: 10.0,
            look_up_pitch_deg: 20.0,
            nod_pitch_deg: 15.0,
            eyes_open_min: 0.7,
            eyes_closed_max: 0.3,
            smile_neutral_max: 0.3,
            smile_min: 0.7,
        }
    }
}

/// Rules on the frames themselves: how many, when, and how many faces they show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrameRules {
    /// At most this many frames per challenge; later ones are refused. Default 150.
    pub max_frames: u32,
    /// A face counts only with a detection confidence ≥ this (0–1); a frame whose one face is
    /// below it counts as a frame without a face. Default 0.9.
    pub min_face_confidence: f32,
    /// At most this fraction of the frames may show no face. Default 0.15.
    pub max_no_face_fraction: f32,
    /// At most this fraction of the frames may show several faces. Default 0.05 (so with fewer
    /// than 20 frames, none may).
    pub max_multiple_faces_fraction: f32,
    /// Tolerance, in milliseconds, between the client's clock (`capturedAt`) and the server's
    /// (`issuedAt`, `expiresAt`, `receivedAt`). Default 3000 ms.
    pub max_clock_skew_ms: i64,
    /// A frame may still be received this many milliseconds after the deadline (upload time).
    /// Default 5000 ms.
    pub late_grace_ms: i64,
    /// At most this many milliseconds between the capture times of consecutive frames (a longer
    /// gap could hide a swap of faces). Default 3000 ms.
    pub max_frame_gap_ms: i64,
}

impl Default for FrameRules {
    fn default() -> Self {
        Self {
            max_frames: 150,
            min_face_confidence: 0.9,
            max_no_face_fraction: 0.15,
            max_multiple_faces_fraction: 0.05,
            max_clock_skew_ms: 3_000,
            late_grace_ms: 5_000,
            max_frame_gap_ms: 3_000,
        }
    }
}

/// Limits that make a sequence of frames one continuous face, and the smallest motion that
/// tells a live face from a still picture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContinuityLimits {
    /// Largest move of the face-box centre between consecutive faces, in normalised image
    /// units (1.0 = the image width/height). Default 0.25.
    pub max_centre_shift: f32,
    /// Largest ratio between the sizes (√area) of consecutive face boxes, ≥ 1. Default 1.5.
    pub max_size_ratio: f32,
    /// Largest cosine distance between embeddings of consecutive faces, and between any face and
    /// the first one, when the engine reports embeddings (0–2). Default 0.4. Engines differ:
    /// each adapter documents the value it was calibrated with.
    pub max_embedding_distance: f32,
    /// Frames whose yaw, pitch and roll all vary less than this (degrees, max − min) …
    /// Default 0.5°.
    pub still_pose_deg: f32,
    /// … whose eyes-open and smile probabilities vary less than this … Default 0.02.
    pub still_probability: f32,
    /// … and whose face box moves and resizes less than this (normalised) show no motion at all:
    /// a still picture. Default 0.005.
    pub still_box: f32,
}

impl Default for ContinuityLimits {
    fn default() -> Self {
        Self {
            max_centre_shift: 0.25,
            max_size_ratio: 1.5,
            max_embedding_distance: 0.4,
            still_pose_deg: 0.5,
            still_probability: 0.02,
            still_box: 0.005,
        }
    }
}

/// Everything [`LivenessPolicy`] holds, as plain public fields; [`LivenessPolicy::new`] checks
/// them. JSON field names are camelCase; every field is required.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LivenessSettings {
    /// Recorded with every outcome; change it whenever a value changes.
    pub version: String,
    /// Gesture thresholds.
    pub thresholds: GestureThresholds,
    /// Frame rules.
    pub frames: FrameRules,
    /// Face-continuity and stillness limits.
    pub continuity: ContinuityLimits,
}

impl Default for LivenessSettings {
    fn default() -> Self {
        Self {
            version: LivenessPolicy::DEFAULT_VERSION.to_owned(),
            thresholds: GestureThresholds::default(),
            frames: FrameRules::default(),
            continuity: ContinuityLimits::default(),
        }
    }
}

/// The checked, versioned rules of [`super::verify`].
///
/// ```
/// use kyc_core::liveness::{LivenessPolicy, LivenessSettings};
/// let p = LivenessPolicy::default();
/// assert_eq!(p.version(), "liveness-2026.11");
///
/// let mut s = LivenessSettings::default();
/// s.version = "liveness-strict-1".into();
/// s.thresholds.turn_yaw_deg = 30.0;
/// assert!(LivenessPolicy::new(s.clone()).is_ok());
/// s.thresholds.turn_yaw_deg = 12.0; // only 2° above the neutral band: jitter would count
/// assert!(LivenessPolicy::new(s).is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LivenessSettings", into = "LivenessSettings")]
pub struct LivenessPolicy(LivenessSettings);

impl LivenessPolicy {
    /// The version of the default settings.
    pub const DEFAULT_VERSION: &'static str = "liveness-2026.11";

    /// Checks the settings: angles within 1–90°, each trigger at least
    /// [`MIN_ANGLE_HYSTERESIS_DEG`] beyond its neutral band, probabilities in 0–1 with
    /// [`MIN_PROBABILITY_HYSTERESIS`] between neutral and triggered, fractions in 0–1, positive
    /// times and limits.
    pub fn new(settings: LivenessSettings) -> Result<Self, PolicyError> {
        check_version(&settings.version)?;
        let t = &settings.thresholds;
        const DEG: &str = "1 to 90 degrees";
        check_range("neutralYawDeg", t.neutral_yaw_deg, 1.0, 90.0, DEG)?;
        check_range("turnYawDeg", t.turn_yaw_deg, 1.0, 90.0, DEG)?;
        check_range("neutralPitchDeg", t.neutral_pitch_deg, 1.0, 90.0, DEG)?;
        check_range("lookUpPitchDeg", t.look_up_pitch_deg, 1.0, 90.0, DEG)?;
        check_range("nodPitchDeg", t.nod_pitch_deg, 1.0, 90.0, DEG)?;
        const ANGLE_GAP: &str = "at least 5 degrees beyond the neutral band";
        for (setting, neutral, trigger) in [
            ("turnYawDeg", t.neutral_yaw_deg, t.turn_yaw_deg),
            ("lookUpPitchDeg", t.neutral_pitch_deg, t.look_up_pitch_deg),
            ("nodPitchDeg", t.neutral_pitch_deg, t.nod_pitch_deg),
        ] {
            if trigger - neutral < MIN_ANGLE_HYSTERESIS_DEG {
                return Err(PolicyError::NoHysteresis {
                    setting,
                    expected: ANGLE_GAP,
                });
            }
        }
        const PROB: &str = "0 to 1";
        check_range("eyesOpenMin", t.eyes_open_min, 0.0, 1.0, PROB)?;
        check_range("eyesClosedMax", t.eyes_closed_max, 0.0, 1.0, PROB)?;
        check_range("smileNeutralMax", t.smile_neutral_max, 0.0, 1.0, PROB)?;
        check_range("smileMin", t.smile_min, 0.0, 1.0, PROB)?;
        const PROB_GAP: &str = "at least 0.1 between the neutral and the triggered threshold";
        if t.eyes_open_min - t.eyes_closed_max < MIN_PROBABILITY_HYSTERESIS {
            return Err(PolicyError::NoHysteresis {
                setting: "eyesClosedMax",
                expected: PROB_GAP,
            });
        }
        if t.smile_min - t.smile_neutral_max < MIN_PROBABILITY_HYSTERESIS {
            return Err(PolicyError::NoHysteresis {
                setting: "smileMin",
                expected: PROB_GAP,
            });
        }

        let f = &settings.frames;
        if !(1..=10_000).contains(&f.max_frames) {
            return Err(PolicyError::OutOfRange {
                setting: "maxFrames",
                expected: "1 to 10000",
            });
        }
        check_range("minFaceConfidence", f.min_face_confidence, 0.0, 1.0, PROB)?;
        check_range("maxNoFaceFraction", f.max_no_face_fraction, 0.0, 1.0, PROB)?;
        check_range(
            "maxMultipleFacesFraction",
            f.max_multiple_faces_fraction,
            0.0,
            1.0,
            PROB,
        )?;
        const MS: &str = "0 to 600000 milliseconds";
        for (setting, v) in [
            ("maxClockSkewMs", f.max_clock_skew_ms),
            ("lateGraceMs", f.late_grace_ms),
        ] {
            if !(0..=600_000).contains(&v) {
                return Err(PolicyError::OutOfRange {
                    setting,
                    expected: MS,
                });
            }
        }
        if !(1..=600_000).contains(&f.max_frame_gap_ms) {
            return Err(PolicyError::OutOfRange {
                setting: "maxFrameGapMs",
                expected: "1 to 600000 milliseconds",
            });
        }

        let c = &settings.continuity;
        check_range(
            "maxCentreShift",
            c.max_centre_shift,
            0.001,
            3.0,
            "0.001 to 3",
        )?;
        check_range("maxSizeRatio", c.max_size_ratio, 1.0, 100.0, "1 to 100")?;
        check_range(
            "maxEmbeddingDistance",
            c.max_embedding_distance,
            0.0,
            2.0,
            "0 to 2",
        )?;
        check_range("stillPoseDeg", c.still_pose_deg, 0.0, 90.0, "0 to 90")?;
        check_range("stillProbability", c.still_probability, 0.0, 1.0, PROB)?;
        check_range("stillBox", c.still_box, 0.0, 1.0, PROB)?;
        Ok(Self(settings))
    }

    /// The settings.
    pub fn settings(&self) -> &LivenessSettings {
        &self.0
    }

    /// The version string recorded with every outcome.
    pub fn version(&self) -> &str {
        &self.0.version
    }

    pub(crate) fn thresholds(&self) -> &GestureThresholds {
        &self.0.thresholds
    }

    pub(crate) fn frames(&self) -> &FrameRules {
        &self.0.frames
    }

    pub(crate) fn continuity(&self) -> &ContinuityLimits {
        &self.0.continuity
    }
}

impl TryFrom<LivenessSettings> for LivenessPolicy {
    type Error = PolicyError;
    fn try_from(s: LivenessSettings) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<LivenessPolicy> for LivenessSettings {
    fn from(p: LivenessPolicy) -> Self {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_are_valid_and_snapshot_documents_them() {
        let p = LivenessPolicy::new(LivenessSettings::default()).unwrap();
        assert_eq!(p, LivenessPolicy::default());
        insta::assert_json_snapshot!("default_liveness_policy", p);
    }

    #[test]
    fn policy_round_trips_through_json() {
        let p = LivenessPolicy::default();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<LivenessPolicy>(&json).unwrap(), p);
    }

    #[test]
    fn json_with_a_broken_value_or_unknown_field_is_refused() {
        let mut v = serde_json::to_value(LivenessPolicy::default()).unwrap();
        v["thresholds"]["eyesClosedMax"] = serde_json::json!(0.65);
        let e = serde_json::from_value::<LivenessPolicy>(v.clone()).unwrap_err();
        assert!(e.to_string().contains("hysteresis"), "{e}");
        v["thresholds"]["eyesClosedMax"] = serde_json::json!(0.3);
        v["frames"]["maxFrame"] = serde_json::json!(3);
        assert!(serde_json::from_value::<LivenessPolicy>(v).is_err());
    }

    #[test]
    fn each_broken_setting_is_named_in_the_error() {
        type Breakage = fn(&mut LivenessSettings);
        let cases: Vec<(Breakage, &str)> = vec![
            (|s| s.version = String::new(), "version"),
            (|s| s.version = "has space".into(), "version"),
            (|s| s.thresholds.neutral_yaw_deg = f32::NAN, "neutralYawDeg"),
            (|s| s.thresholds.turn_yaw_deg = 95.0, "turnYawDeg"),
            (|s| s.thresholds.look_up_pitch_deg = 12.0, "lookUpPitchDeg"),
            (|s| s.thresholds.nod_pitch_deg = 14.0, "nodPitchDeg"),
            (|s| s.thresholds.smile_min = 0.35, "smileMin"),
            (|s| s.thresholds.eyes_open_min = 1.5, "eyesOpenMin"),
            (|s| s.frames.max_frames = 0, "maxFrames"),
            (
                |s| s.frames.max_no_face_fraction = -0.1,
                "maxNoFaceFraction",
            ),
            (|s| s.frames.late_grace_ms = -1, "lateGraceMs"),
            (|s| s.frames.max_frame_gap_ms = 0, "maxFrameGapMs"),
            (|s| s.continuity.max_size_ratio = 0.9, "maxSizeRatio"),
            (
                |s| s.continuity.max_embedding_distance = 3.0,
                "maxEmbeddingDistance",
            ),
        ];
        for (break_it, name) in cases {
            let mut s = LivenessSettings::default();
            break_it(&mut s);
            let e = LivenessPolicy::new(s).unwrap_err().to_string();
            assert!(e.contains(name), "{name}: {e}");
        }
    }
}
