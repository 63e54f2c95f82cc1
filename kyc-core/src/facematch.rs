//! Face-match policy: the quality gate every face image passes before it is compared
//! ([`check_quality`]), the aggregation of per-frame similarities ([`aggregate`]) and the
//! decision ([`evaluate`]), all under a versioned [`FaceMatchPolicy`].
//!
//! The engines (Rekognition CompareFaces, dlib embeddings mapped to a calibrated similarity)
//! report a [`FaceQuality`] per image and a [`Similarity`] per comparison; everything here is
//! pure arithmetic on those numbers.
//!
//! ```
//! use kyc_core::facematch::{evaluate, FaceMatchPolicy, FaceQuality, FrameComparison};
//! use kyc_core::model::Similarity;
//!
//! let policy = FaceMatchPolicy::default(); // median of at least 3 frames, threshold 85
//! let id_portrait = FaceQuality::frontal(1, 240, 300, 1200, 800);
//! let frames: Vec<FrameComparison> = [91.0, 88.5, 79.0, 93.2]
//!     .iter()
//!     .map(|s| FrameComparison {
//!         quality: FaceQuality::frontal(1, 320, 400, 1280, 720),
//!         similarity: Similarity::parse(*s).unwrap(),
//!     })
//!     .collect();
//! let outcome = evaluate(&policy, &id_portrait, &frames).unwrap();
//! assert!(outcome.matched);
//! assert_eq!(outcome.similarity.value(), 89.75); // median of 79, 88.5, 91, 93.2
//! assert_eq!(outcome.frames_compared, 4);
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::liveness::{HeadPose, Probability};
use crate::model::{Similarity, Threshold, ValueError};

/// What a face engine reports about the main face of one image.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaceQuality {
    /// How many faces the engine found.
    pub face_count: u32,
    /// Detection confidence of the main face, 0–1 (Rekognition's `Confidence` / 100).
    pub confidence: Probability,
    /// Head pose of the main face (sign convention of [`HeadPose`]).
    pub pose: HeadPose,
    /// Width of the main face's box, in pixels.
    pub face_width_px: u32,
    /// Height of the main face's box, in pixels.
    pub face_height_px: u32,
    /// Width of the image, in pixels.
    pub image_width_px: u32,
    /// Height of the image, in pixels.
    pub image_height_px: u32,
    /// Brightness of the face region, 0–1 (Rekognition's `Quality.Brightness` / 100), if
    /// measured.
    #[serde(default)]
    pub brightness: Option<Probability>,
    /// Sharpness of the face region, 0–1 (Rekognition's `Quality.Sharpness` / 100; other engines
    /// map their own measure), if measured.
    #[serde(default)]
    pub sharpness: Option<Probability>,
}

impl FaceQuality {
    /// A confidently detected frontal face of the given size in an image of the given size,
    /// without brightness or sharpness measurements: a starting point for adapters and tests.
    pub fn frontal(
        face_count: u32,
        face_width_px: u32,
        face_height_px: u32,
        image_width_px: u32,
        image_height_px: u32,
    ) -> Self {
        Self {
            face_count,
            confidence: Probability::ONE,
            pose: HeadPose::FRONTAL,
            face_width_px,
            face_height_px,
            image_width_px,
            image_height_px,
            brightness: None,
            sharpness: None,
        }
    }
}

/// A head-pose axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PoseAxis {
    /// Turning left/right.
    Yaw,
    /// Looking up/down.
    Pitch,
    /// Tilting towards a shoulder.
    Roll,
}

impl fmt::Display for PoseAxis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Yaw => "yaw",
            Self::Pitch => "pitch",
            Self::Roll => "roll",
        })
    }
}

/// Why an image failed the quality gate. JSON: `{"reason": "MULTIPLE_FACES", "count": 2}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum QualityRejection {
    /// No face was found.
    #[error("no face was detected")]
    NoFaceDetected,
    /// More than one face was found.
    #[error("several faces were detected ({count}) where one was expected")]
    MultipleFaces {
        /// How many.
        count: u32,
    },
    /// The face was detected with too little confidence.
    #[error("the face was detected with too little confidence")]
    LowConfidence,
    /// The face is too small (in pixels, or as a share of the image).
    #[error("the face is too small")]
    FaceTooSmall,
    /// The head is turned or tilted too far.
    #[error("the head is turned too far ({axis})")]
    PoseOutOfRange {
        /// The axis beyond its limit (the first of yaw, pitch, roll).
        axis: PoseAxis,
    },
    /// The face is too dark.
    #[error("the face is too dark")]
    TooDark,
    /// The face is too bright.
    #[error("the face is too bright")]
    TooBright,
    /// The face is too blurry.
    #[error("the face is too blurry")]
    TooBlurry,
}

impl QualityRejection {
    /// The JSON code (`NO_FACE_DETECTED`).
    pub fn code(self) -> &'static str {
        match self {
            Self::NoFaceDetected => "NO_FACE_DETECTED",
            Self::MultipleFaces { .. } => "MULTIPLE_FACES",
            Self::LowConfidence => "LOW_CONFIDENCE",
            Self::FaceTooSmall => "FACE_TOO_SMALL",
            Self::PoseOutOfRange { .. } => "POSE_OUT_OF_RANGE",
            Self::TooDark => "TOO_DARK",
            Self::TooBright => "TOO_BRIGHT",
            Self::TooBlurry => "TOO_BLURRY",
        }
    }
}

/// How per-frame similarities become one. JSON and [`std::str::FromStr`]: `mean`, `median`,
/// `min`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Aggregation {
    /// The arithmetic mean.
    Mean,
    /// The median (the mean of the two middle values for an even count): robust to one bad
    /// frame either way.
    Median,
    /// The lowest: every frame must match.
    Min,
}

impl Aggregation {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Median => "median",
            Self::Min => "min",
        }
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Aggregation {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Mean, Self::Median, Self::Min]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(ValueError::Unknown {
                what: "aggregation method",
                allowed: "mean, median, min",
            })
    }
}

/// Aggregates similarities; `None` when there are none. The result always lies between the
/// lowest and the highest input.
///
/// ```
/// use kyc_core::facematch::{aggregate, Aggregation};
/// use kyc_core::model::Similarity;
/// let s: Vec<_> = [90.0, 70.0, 95.0].iter().map(|v| Similarity::parse(*v).unwrap()).collect();
/// assert_eq!(aggregate(Aggregation::Min, &s).unwrap().value(), 70.0);
/// assert_eq!(aggregate(Aggregation::Median, &s).unwrap().value(), 90.0);
/// assert_eq!(aggregate(Aggregation::Mean, &s).unwrap().value(), 85.0);
/// assert!(aggregate(Aggregation::Mean, &[]).is_none());
/// ```
pub fn aggregate(method: Aggregation, similarities: &[Similarity]) -> Option<Similarity> {
    let mut v: Vec<f32> = similarities.iter().map(|s| s.value()).collect();
    v.sort_by(f32::total_cmp);
    let (lo, hi) = (*v.first()?, *v.last()?);
    let n = v.len();
    let value = match method {
        Aggregation::Min => lo,
        Aggregation::Mean => {
            let sum: f64 = v.iter().map(|x| f64::from(*x)).sum();
            (sum / n as f64) as f32
        }
        Aggregation::Median => {
            let upper = *v.get(n / 2)?;
            if n % 2 == 1 {
                upper
            } else {
                let lower = *v.get(n / 2 - 1)?;
                ((f64::from(lower) + f64::from(upper)) / 2.0) as f32
            }
        }
    };
    // Rounding must never take the result outside the inputs' range.
    Some(Similarity::saturating(value.clamp(lo, hi)))
}

/// Limits of the quality gate. Brightness and sharpness limits are optional, and apply only to
/// images whose engine reports the measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QualityLimits {
    /// Lowest detection confidence, 0–1. Default 0.9.
    pub min_confidence: f32,
    /// Largest |yaw|, degrees. Default 30.
    pub max_yaw_deg: f32,
    /// Largest |pitch|, degrees. Default 25.
    pub max_pitch_deg: f32,
    /// Largest |roll|, degrees. Default 30.
    pub max_roll_deg: f32,
    /// Smallest side of the face box, pixels. Default 80 (CompareFaces and dlib both degrade
    /// well before faces this small).
    pub min_face_px: u32,
    /// Smallest face-box width as a share of the image width, 0–1. Default 0.05.
    pub min_face_fraction: f32,
    /// Lowest brightness, 0–1, or none. Default 0.15.
    pub min_brightness: Option<f32>,
    /// Highest brightness, 0–1, or none. Default 0.95.
    pub max_brightness: Option<f32>,
    /// Lowest sharpness, 0–1, or none. Default none (sharpness scales differ between engines;
    /// set it per engine).
    pub min_sharpness: Option<f32>,
}

impl Default for QualityLimits {
    fn default() -> Self {
        Self {
            min_confidence: 0.9,
            max_yaw_deg: 30.0,
            max_pitch_deg: 25.0,
            max_roll_deg: 30.0,
            min_face_px: 80,
            min_face_fraction: 0.05,
            min_brightness: Some(0.15),
            max_brightness: Some(0.95),
            min_sharpness: None,
        }
    }
}

/// Everything [`FaceMatchPolicy`] holds, as plain public fields; [`FaceMatchPolicy::new`]
/// checks them. JSON field names are camelCase; every field is required.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaceMatchSettings {
    /// Recorded with every outcome; change it whenever a value changes.
    pub version: String,
    /// The aggregated similarity must reach this. Default 85 ([`Threshold::DEFAULT`]).
    pub threshold: Threshold,
    /// How per-frame similarities are aggregated. Default [`Aggregation::Median`].
    pub method: Aggregation,
    /// Fewest frames that must pass the quality gate and be compared. Default 3 (1 in
    /// [`FaceMatchPolicy::single_image`]).
    pub min_frames_compared: u32,
    /// The quality gate.
    pub quality: QualityLimits,
}

impl Default for FaceMatchSettings {
    fn default() -> Self {
        Self {
            version: FaceMatchPolicy::DEFAULT_VERSION.to_owned(),
            threshold: Threshold::DEFAULT,
            method: Aggregation::Median,
            min_frames_compared: 3,
            quality: QualityLimits::default(),
        }
    }
}

/// Why face-match settings were refused. Messages name the setting, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaceMatchPolicyError {
    /// A number is outside the range the setting allows.
    #[error("{setting} is out of range (expected {expected})")]
    OutOfRange {
        /// The setting, as named in JSON.
        setting: &'static str,
        /// The rule it breaks.
        expected: &'static str,
    },
    /// The version string is empty, too long or holds other characters than `A-Z a-z 0-9 . _ -`.
    #[error("policy version must be 1 to 64 characters from A-Z a-z 0-9 . _ -")]
    InvalidVersion,
}

/// The checked, versioned face-match policy.
///
/// ```
/// use kyc_core::facematch::{Aggregation, FaceMatchPolicy, FaceMatchSettings};
/// use kyc_core::model::Threshold;
///
/// let p = FaceMatchPolicy::default();
/// assert_eq!(p.version(), "facematch-2026.11");
/// assert_eq!(p.settings().threshold, Threshold::DEFAULT);
///
/// let strict = FaceMatchPolicy::new(FaceMatchSettings {
///     version: "facematch-strict-1".into(),
///     threshold: Threshold::parse(92.0).unwrap(),
///     method: Aggregation::Min,
///     ..FaceMatchSettings::default()
/// });
/// assert!(strict.is_ok());
///
/// let mut broken = FaceMatchSettings::default();
/// broken.quality.max_yaw_deg = -5.0;
/// assert!(FaceMatchPolicy::new(broken).is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FaceMatchSettings", into = "FaceMatchSettings")]
pub struct FaceMatchPolicy(FaceMatchSettings);

impl FaceMatchPolicy {
    /// The version of the default settings.
    pub const DEFAULT_VERSION: &'static str = "facematch-2026.11";
    /// The version of [`FaceMatchPolicy::single_image`].
    pub const SINGLE_IMAGE_VERSION: &'static str = "facematch-2026.11-single";

    /// Checks the settings: confidence and fractions in 0–1, pose limits in (0, 180],
    /// `minFaceFraction` ≤ 1, brightness limits in 0–1 with min < max, sharpness in 0–1,
    /// `minFramesCompared` in 1..=1000. The threshold is valid by its type.
    pub fn new(settings: FaceMatchSettings) -> Result<Self, FaceMatchPolicyError> {
        let v = &settings.version;
        let version_ok = !v.is_empty()
            && v.len() <= 64
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !version_ok {
            return Err(FaceMatchPolicyError::InvalidVersion);
        }
        if !(1..=1000).contains(&settings.min_frames_compared) {
            return Err(FaceMatchPolicyError::OutOfRange {
                setting: "minFramesCompared",
                expected: "1 to 1000",
            });
        }
        let q = &settings.quality;
        let range = |setting, v: f32, lo: f32, hi: f32, expected| {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                Err(FaceMatchPolicyError::OutOfRange { setting, expected })
            }
        };
        range("minConfidence", q.min_confidence, 0.0, 1.0, "0 to 1")?;
        const POSE: &str = "more than 0 and at most 180 degrees";
        for (setting, v) in [
            ("maxYawDeg", q.max_yaw_deg),
            ("maxPitchDeg", q.max_pitch_deg),
            ("maxRollDeg", q.max_roll_deg),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 180.0) {
                return Err(FaceMatchPolicyError::OutOfRange {
                    setting,
                    expected: POSE,
                });
            }
        }
        if q.min_face_px > 100_000 {
            return Err(FaceMatchPolicyError::OutOfRange {
                setting: "minFacePx",
                expected: "0 to 100000",
            });
        }
        range("minFaceFraction", q.min_face_fraction, 0.0, 1.0, "0 to 1")?;
        for (setting, v) in [
            ("minBrightness", q.min_brightness),
            ("maxBrightness", q.max_brightness),
            ("minSharpness", q.min_sharpness),
        ] {
            if let Some(v) = v {
                range(setting, v, 0.0, 1.0, "0 to 1")?;
            }
        }
        if let (Some(lo), Some(hi)) = (q.min_brightness, q.max_brightness) {
            if lo >= hi {
                return Err(FaceMatchPolicyError::OutOfRange {
                    setting: "maxBrightness",
                    expected: "above minBrightness",
                });
            }
        }
        Ok(Self(settings))
    }

    /// The policy for one image against one image (`POST /v1/ips`, `kyc face compare`):
    /// the defaults with `minFramesCompared` 1, version [`Self::SINGLE_IMAGE_VERSION`].
    pub fn single_image() -> Self {
        Self(FaceMatchSettings {
            version: Self::SINGLE_IMAGE_VERSION.to_owned(),
            min_frames_compared: 1,
            ..FaceMatchSettings::default()
        })
    }

    /// The settings.
    pub fn settings(&self) -> &FaceMatchSettings {
        &self.0
    }

    /// The version string recorded with every outcome.
    pub fn version(&self) -> &str {
        &self.0.version
    }

    /// Whether one similarity reaches the threshold.
    pub fn is_match(&self, similarity: Similarity) -> bool {
        similarity.meets(self.0.threshold)
    }
}

impl TryFrom<FaceMatchSettings> for FaceMatchPolicy {
    type Error = FaceMatchPolicyError;
    fn try_from(s: FaceMatchSettings) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<FaceMatchPolicy> for FaceMatchSettings {
    fn from(p: FaceMatchPolicy) -> Self {
        p.0
    }
}

/// The quality gate: the first failed check, in this order: face count, confidence, size,
/// pose (yaw, pitch, roll), brightness, sharpness.
///
/// ```
/// use kyc_core::facematch::{check_quality, FaceMatchPolicy, FaceQuality, QualityRejection};
/// let p = FaceMatchPolicy::default();
/// assert_eq!(check_quality(&FaceQuality::frontal(1, 200, 240, 1280, 720), &p), Ok(()));
/// assert_eq!(
///     check_quality(&FaceQuality::frontal(2, 200, 240, 1280, 720), &p),
///     Err(QualityRejection::MultipleFaces { count: 2 })
/// );
/// ```
pub fn check_quality(q: &FaceQuality, policy: &FaceMatchPolicy) -> Result<(), QualityRejection> {
    let lim = &policy.settings().quality;
    match q.face_count {
        0 => return Err(QualityRejection::NoFaceDetected),
        1 => {}
        count => return Err(QualityRejection::MultipleFaces { count }),
    }
    if q.confidence.value() < lim.min_confidence {
        return Err(QualityRejection::LowConfidence);
    }
    let side = q.face_width_px.min(q.face_height_px);
    let share = if q.image_width_px == 0 {
        0.0
    } else {
        q.face_width_px as f32 / q.image_width_px as f32
    };
    if side < lim.min_face_px || share < lim.min_face_fraction {
        return Err(QualityRejection::FaceTooSmall);
    }
    for (axis, angle, max) in [
        (PoseAxis::Yaw, q.pose.yaw(), lim.max_yaw_deg),
        (PoseAxis::Pitch, q.pose.pitch(), lim.max_pitch_deg),
        (PoseAxis::Roll, q.pose.roll(), lim.max_roll_deg),
    ] {
        if angle.abs() > max {
            return Err(QualityRejection::PoseOutOfRange { axis });
        }
    }
    if let Some(b) = q.brightness.map(Probability::value) {
        if lim.min_brightness.is_some_and(|min| b < min) {
            return Err(QualityRejection::TooDark);
        }
        if lim.max_brightness.is_some_and(|max| b > max) {
            return Err(QualityRejection::TooBright);
        }
    }
    if let (Some(s), Some(min)) = (q.sharpness, lim.min_sharpness) {
        if s.value() < min {
            return Err(QualityRejection::TooBlurry);
        }
    }
    Ok(())
}

/// One live frame compared with the reference (ID portrait): its quality and the engine's
/// similarity.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrameComparison {
    /// The frame's face quality.
    pub quality: FaceQuality,
    /// The similarity between the frame's face and the reference face.
    pub similarity: Similarity,
}

/// The face-match result.
///
/// JSON (camelCase): the decision document's `similarity`, `threshold`, `framesCompared`, plus
/// `framesRejected`, `matched`, `method`, `policyVersion` and `rejections` (the distinct
/// quality rejections of the frames left out, in order of first occurrence).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaceMatchOutcome {
    /// The aggregated similarity.
    pub similarity: Similarity,
    /// The threshold it was held against.
    pub threshold: Threshold,
    /// Frames that passed the quality gate and were aggregated.
    pub frames_compared: u32,
    /// Frames left out by the quality gate.
    pub frames_rejected: u32,
    /// Whether the similarity reaches the threshold.
    pub matched: bool,
    /// The aggregation used.
    pub method: Aggregation,
    /// The policy version.
    pub policy_version: String,
    /// The distinct reasons frames were left out.
    pub rejections: Vec<QualityRejection>,
}

/// Why no face-match outcome could be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaceMatchError {
    /// The reference image (ID portrait) failed the quality gate.
    #[error("the reference face failed the quality gate: {0}")]
    ReferenceRejected(QualityRejection),
    /// Too few frames passed the quality gate.
    #[error("{compared} frames passed the quality gate, {required} are needed")]
    TooFewFrames {
        /// Frames that passed.
        compared: u32,
        /// Frames left out.
        rejected: u32,
        /// The policy's minimum.
        required: u32,
        /// The distinct reasons frames were left out.
        rejections: Vec<QualityRejection>,
    },
}

/// Gates the reference and every frame, aggregates the similarities of the frames that pass and
/// holds the result against the threshold.
pub fn evaluate(
    policy: &FaceMatchPolicy,
    reference: &FaceQuality,
    frames: &[FrameComparison],
) -> Result<FaceMatchOutcome, FaceMatchError> {
    check_quality(reference, policy).map_err(FaceMatchError::ReferenceRejected)?;
    let mut kept = Vec::with_capacity(frames.len());
    let mut rejections: Vec<QualityRejection> = Vec::new();
    let mut rejected: u32 = 0;
    for f in frames {
        match check_quality(&f.quality, policy) {
            Ok(()) => kept.push(f.similarity),
            Err(r) => {
                rejected = rejected.saturating_add(1);
                if !rejections.contains(&r) {
                    rejections.push(r);
                }
            }
        }
    }
    let s = policy.settings();
    let compared = u32::try_from(kept.len()).unwrap_or(u32::MAX);
    let similarity = match aggregate(s.method, &kept) {
        Some(sim) if compared >= s.min_frames_compared => sim,
        _ => {
            return Err(FaceMatchError::TooFewFrames {
                compared,
                rejected,
                required: s.min_frames_compared,
                rejections,
            })
        }
    };
    Ok(FaceMatchOutcome {
        similarity,
        threshold: s.threshold,
        frames_compared: compared,
        frames_rejected: rejected,
        matched: similarity.meets(s.threshold),
        method: s.method,
        policy_version: s.version.clone(),
        rejections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn good() -> FaceQuality {
        FaceQuality {
            face_count: 1,
            confidence: Probability::parse(0.99).unwrap(),
            pose: HeadPose::new(5.0, -3.0, 2.0).unwrap(),
            face_width_px: 240,
            face_height_px: 300,
            image_width_px: 1280,
            image_height_px: 720,
            brightness: Some(Probability::parse(0.6).unwrap()),
            sharpness: Some(Probability::parse(0.7).unwrap()),
        }
    }

    fn sims(values: &[f32]) -> Vec<Similarity> {
        values
            .iter()
            .map(|v| Similarity::parse(*v).unwrap())
            .collect()
    }

    fn frame(similarity: f32) -> FrameComparison {
        FrameComparison {
            quality: good(),
            similarity: Similarity::parse(similarity).unwrap(),
        }
    }

    fn gate(change: impl FnOnce(&mut FaceQuality)) -> Result<(), QualityRejection> {
        let mut q = good();
        change(&mut q);
        let policy = FaceMatchPolicy::new(FaceMatchSettings {
            quality: QualityLimits {
                min_sharpness: Some(0.3),
                ..QualityLimits::default()
            },
            ..FaceMatchSettings::default()
        })
        .unwrap();
        check_quality(&q, &policy)
    }

    #[test]
    fn a_good_face_passes_the_gate() {
        assert_eq!(gate(|_| {}), Ok(()));
    }

    #[test]
    fn an_image_without_a_face_is_rejected() {
        assert_eq!(
            gate(|q| q.face_count = 0),
            Err(QualityRejection::NoFaceDetected)
        );
    }

    #[test]
    fn an_image_with_several_faces_is_rejected_with_the_count() {
        assert_eq!(
            gate(|q| q.face_count = 3),
            Err(QualityRejection::MultipleFaces { count: 3 })
        );
    }

    #[test]
    fn a_doubtful_detection_is_rejected() {
        assert_eq!(
            gate(|q| q.confidence = Probability::parse(0.8).unwrap()),
            Err(QualityRejection::LowConfidence)
        );
    }

    #[test]
    fn a_face_too_small_in_pixels_or_in_share_of_the_image_is_rejected() {
        assert_eq!(
            gate(|q| q.face_height_px = 60),
            Err(QualityRejection::FaceTooSmall)
        );
        assert_eq!(
            gate(|q| q.image_width_px = 6000),
            Err(QualityRejection::FaceTooSmall)
        );
        assert_eq!(
            gate(|q| q.image_width_px = 0),
            Err(QualityRejection::FaceTooSmall)
        );
    }

    #[test]
    fn a_turned_or_tilted_head_is_rejected_naming_the_axis() {
        for (pose, axis) in [
            ((-31.0, 0.0, 0.0), PoseAxis::Yaw),
            ((0.0, 26.0, 0.0), PoseAxis::Pitch),
            ((0.0, 0.0, -40.0), PoseAxis::Roll),
        ] {
            assert_eq!(
                gate(|q| q.pose = HeadPose::new(pose.0, pose.1, pose.2).unwrap()),
                Err(QualityRejection::PoseOutOfRange { axis })
            );
        }
    }

    #[test]
    fn a_dark_a_glaring_and_a_blurry_face_are_rejected() {
        let p = |v: f32| Some(Probability::parse(v).unwrap());
        assert_eq!(
            gate(|q| q.brightness = p(0.1)),
            Err(QualityRejection::TooDark)
        );
        assert_eq!(
            gate(|q| q.brightness = p(0.97)),
            Err(QualityRejection::TooBright)
        );
        assert_eq!(
            gate(|q| q.sharpness = p(0.2)),
            Err(QualityRejection::TooBlurry)
        );
    }

    #[test]
    fn unmeasured_brightness_and_sharpness_are_not_held_against_the_face() {
        assert_eq!(
            gate(|q| {
                q.brightness = None;
                q.sharpness = None;
            }),
            Ok(())
        );
    }

    #[test]
    fn optional_limits_left_out_are_not_applied() {
        let policy = FaceMatchPolicy::new(FaceMatchSettings {
            quality: QualityLimits {
                min_brightness: None,
                max_brightness: None,
                min_sharpness: None,
                ..QualityLimits::default()
            },
            ..FaceMatchSettings::default()
        })
        .unwrap();
        let mut q = good();
        q.brightness = Some(Probability::ZERO);
        q.sharpness = Some(Probability::ZERO);
        assert_eq!(check_quality(&q, &policy), Ok(()));
    }

    #[test]
    fn rejections_serialise_with_a_screaming_reason_and_messages_are_lowercase() {
        let r = QualityRejection::MultipleFaces { count: 2 };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"reason":"MULTIPLE_FACES","count":2}"#
        );
        let all = [
            QualityRejection::NoFaceDetected,
            r,
            QualityRejection::LowConfidence,
            QualityRejection::FaceTooSmall,
            QualityRejection::PoseOutOfRange {
                axis: PoseAxis::Pitch,
            },
            QualityRejection::TooDark,
            QualityRejection::TooBright,
            QualityRejection::TooBlurry,
        ];
        for r in all {
            let v = serde_json::to_value(r).unwrap();
            assert_eq!(v["reason"], r.code());
            assert_eq!(serde_json::from_value::<QualityRejection>(v).unwrap(), r);
            let msg = r.to_string();
            assert!(!msg.ends_with('.') && msg.chars().next().unwrap().is_lowercase());
        }
    }

    #[test]
    fn aggregation_names_parse_and_unknown_ones_list_the_allowed() {
        assert_eq!(
            "Median".parse::<Aggregation>().unwrap(),
            Aggregation::Median
        );
        let e = "avg".parse::<Aggregation>().unwrap_err().to_string();
        assert!(e.contains("mean, median, min"), "{e}");
    }

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let s = sims(&[80.0, 90.0, 70.0, 100.0]);
        assert_eq!(aggregate(Aggregation::Median, &s).unwrap().value(), 85.0);
    }

    #[test]
    fn evaluate_leaves_out_poor_frames_and_records_why() {
        let mut turned = frame(40.0);
        turned.quality.pose = HeadPose::new(38.0, 0.0, 0.0).unwrap();
        let mut empty = frame(0.0);
        empty.quality.face_count = 0;
        let frames = [frame(91.0), turned, frame(88.0), empty, frame(86.0), empty];
        let o = evaluate(&FaceMatchPolicy::default(), &good(), &frames).unwrap();
        assert!(o.matched);
        assert_eq!(o.frames_compared, 3);
        assert_eq!(o.frames_rejected, 3);
        assert_eq!(o.similarity.value(), 88.0);
        assert_eq!(
            o.rejections,
            [
                QualityRejection::PoseOutOfRange {
                    axis: PoseAxis::Yaw
                },
                QualityRejection::NoFaceDetected
            ]
        );
        insta::assert_json_snapshot!("facematch_outcome", o);
    }

    #[test]
    fn evaluate_refuses_a_poor_reference_and_too_few_frames() {
        let mut reference = good();
        reference.face_count = 2;
        assert_eq!(
            evaluate(&FaceMatchPolicy::default(), &reference, &[frame(99.0); 3]),
            Err(FaceMatchError::ReferenceRejected(
                QualityRejection::MultipleFaces { count: 2 }
            ))
        );
        let e = evaluate(&FaceMatchPolicy::default(), &good(), &[frame(99.0); 2]).unwrap_err();
        assert!(matches!(
            e,
            FaceMatchError::TooFewFrames {
                compared: 2,
                required: 3,
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "2 frames passed the quality gate, 3 are needed"
        );
        assert!(evaluate(&FaceMatchPolicy::single_image(), &good(), &[frame(99.0)]).is_ok());
    }

    #[test]
    fn the_threshold_is_inclusive_and_min_is_strict() {
        let min = FaceMatchPolicy::new(FaceMatchSettings {
            method: Aggregation::Min,
            ..FaceMatchSettings::default()
        })
        .unwrap();
        let o = evaluate(&min, &good(), &[frame(85.0), frame(99.0), frame(97.0)]).unwrap();
        assert!(o.matched);
        let o = evaluate(&min, &good(), &[frame(84.9), frame(99.0), frame(97.0)]).unwrap();
        assert!(!o.matched);
        assert_eq!(o.method, Aggregation::Min);
    }

    #[test]
    fn default_policy_snapshot_documents_its_values_and_round_trips() {
        let p = FaceMatchPolicy::default();
        insta::assert_json_snapshot!("default_facematch_policy", p);
        let back: FaceMatchPolicy =
            serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
        assert_eq!(
            FaceMatchPolicy::new(FaceMatchSettings::default()).unwrap(),
            p
        );
        assert_eq!(
            FaceMatchPolicy::single_image()
                .settings()
                .min_frames_compared,
            1
        );
    }

    #[test]
    fn broken_settings_are_refused_by_name() {
        type Breakage = fn(&mut FaceMatchSettings);
        let cases: Vec<(Breakage, &str)> = vec![
            (|s| s.version = " ".into(), "version"),
            (|s| s.min_frames_compared = 0, "minFramesCompared"),
            (|s| s.quality.min_confidence = 1.5, "minConfidence"),
            (|s| s.quality.max_yaw_deg = 0.0, "maxYawDeg"),
            (|s| s.quality.max_pitch_deg = f32::NAN, "maxPitchDeg"),
            (|s| s.quality.max_roll_deg = 200.0, "maxRollDeg"),
            (|s| s.quality.min_face_fraction = 2.0, "minFaceFraction"),
            (|s| s.quality.min_brightness = Some(-0.1), "minBrightness"),
            (|s| s.quality.min_brightness = Some(0.96), "maxBrightness"),
            (|s| s.quality.min_sharpness = Some(1.1), "minSharpness"),
        ];
        for (break_it, name) in cases {
            let mut s = FaceMatchSettings::default();
            break_it(&mut s);
            let e = FaceMatchPolicy::new(s).unwrap_err().to_string();
            assert!(e.contains(name), "{name}: {e}");
        }
        let mut v = serde_json::to_value(FaceMatchPolicy::default()).unwrap();
        v["threshold"] = serde_json::json!(101);
        assert!(serde_json::from_value::<FaceMatchPolicy>(v).is_err());
    }

    fn any_similarities() -> impl Strategy<Value = Vec<Similarity>> {
        proptest::collection::vec(0.0f32..=100.0, 1..40).prop_map(|v| {
            v.into_iter()
                .map(|x| Similarity::parse(x).unwrap())
                .collect()
        })
    }

    proptest! {
        #[test]
        fn min_median_and_mean_stay_within_the_inputs(s in any_similarities()) {
            let min = aggregate(Aggregation::Min, &s).unwrap().value();
            let median = aggregate(Aggregation::Median, &s).unwrap().value();
            let mean = aggregate(Aggregation::Mean, &s).unwrap().value();
            let max = s.iter().map(|x| x.value()).fold(0.0f32, f32::max);
            prop_assert!(min <= median && median <= max);
            prop_assert!(min <= mean && mean <= max);
        }

        #[test]
        fn adding_a_frame_below_threshold_never_raises_min(
            s in any_similarities(),
            low in 0.0f32..85.0,
        ) {
            let before = aggregate(Aggregation::Min, &s).unwrap();
            let mut more = s.clone();
            more.push(Similarity::parse(low).unwrap());
            let after = aggregate(Aggregation::Min, &more).unwrap();
            prop_assert!(after <= before);
            prop_assert!(!after.meets(Threshold::DEFAULT));
        }

        #[test]
        fn aggregation_ignores_the_order_of_frames(s in any_similarities(), seed in any::<u64>()) {
            let mut shuffled = s.clone();
            let n = shuffled.len();
            shuffled.rotate_left((seed % n as u64) as usize);
            shuffled.reverse();
            for m in [Aggregation::Mean, Aggregation::Median, Aggregation::Min] {
                let (a, b) = (aggregate(m, &s).unwrap(), aggregate(m, &shuffled).unwrap());
                prop_assert!((a.value() - b.value()).abs() < 1e-3);
            }
        }

        #[test]
        fn the_gate_never_panics_and_a_pass_respects_every_limit(
            count in 0u32..4,
            conf in 0.0f32..=1.0,
            (yaw, pitch, roll) in (-180.0f32..=180.0, -180.0f32..=180.0, -180.0f32..=180.0),
            (fw, fh, iw, ih) in (0u32..5000, 0u32..5000, 0u32..8000, 0u32..8000),
            bright in proptest::option::of(0.0f32..=1.0),
            sharp in proptest::option::of(0.0f32..=1.0),
        ) {
            let q = FaceQuality {
                face_count: count,
                confidence: Probability::parse(conf).unwrap(),
                pose: HeadPose::new(yaw, pitch, roll).unwrap(),
                face_width_px: fw,
                face_height_px: fh,
                image_width_px: iw,
                image_height_px: ih,
                brightness: bright.map(|b| Probability::parse(b).unwrap()),
                sharpness: sharp.map(|b| Probability::parse(b).unwrap()),
            };
            let p = FaceMatchPolicy::default();
            if check_quality(&q, &p).is_ok() {
                let lim = &p.settings().quality;
                prop_assert_eq!(count, 1);
                prop_assert!(conf >= lim.min_confidence);
                prop_assert!(yaw.abs() <= lim.max_yaw_deg && pitch.abs() <= lim.max_pitch_deg);
                prop_assert!(fw.min(fh) >= lim.min_face_px);
            }
        }
    }
}
