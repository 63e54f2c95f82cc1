//! Validated values of the liveness check: the challenge [`Nonce`], the client-chosen
//! [`FrameId`], and the measurements a face analyser reports for one face ([`Probability`],
//! [`HeadPose`], [`FaceBox`], [`Embedding`]).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::ValueError;
use crate::ports::RandomSource;

/// The secret that binds frames to one challenge: 128 random bits, written as 32 lowercase
/// hexadecimal digits.
///
/// Equality is checked in constant time (the comparison does not stop at the first differing
/// byte), so a client cannot learn a nonce byte by byte from response times. `Debug` shows only
/// the first four digits.
///
/// ```
/// use kyc_core::liveness::Nonce;
/// let n = Nonce::from_bytes([0xAB; 16]);
/// assert_eq!(n.to_string(), "abababababababababababababababab");
/// assert_eq!(Nonce::parse("ABABABABABABABABABABABABABABABAB").unwrap(), n);
/// assert_eq!(format!("{n:?}"), "Nonce(abab…)");
/// assert!(Nonce::parse("abab").is_err());
/// ```
#[derive(Clone, Copy)]
pub struct Nonce([u8; Nonce::BYTES]);

impl Nonce {
    /// Length in bytes (128 bits).
    pub const BYTES: usize = 16;

    /// A nonce from 16 bytes (from a [`RandomSource`] in production).
    pub const fn from_bytes(bytes: [u8; Self::BYTES]) -> Self {
        Self(bytes)
    }

    /// Draws a fresh nonce from the random source.
    pub fn generate<R: RandomSource + ?Sized>(rng: &R) -> Self {
        let mut b = [0u8; Self::BYTES];
        rng.fill_bytes(&mut b);
        Self(b)
    }

    /// Parses 32 hexadecimal digits (either case) from untrusted input.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "nonce";
        if s.len() != Self::BYTES * 2 {
            return Err(ValueError::Malformed {
                what: WHAT,
                expected: "32 hexadecimal digits",
            });
        }
        let mut out = [0u8; Self::BYTES];
        hex::decode_to_slice(s, &mut out)
            .map_err(|_| ValueError::InvalidCharacter { what: WHAT })?;
        Ok(Self(out))
    }

    /// The 32 lowercase hexadecimal digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Compares two nonces in constant time.
    pub fn ct_eq(&self, other: &Self) -> bool {
        let diff = self
            .0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

impl PartialEq for Nonce {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other)
    }
}

impl Eq for Nonce {}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.to_hex();
        write!(f, "Nonce({}…)", h.get(..4).unwrap_or_default())
    }
}

impl std::str::FromStr for Nonce {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Nonce {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Nonce {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The client's name for one submitted frame: 1 to 64 characters from `A-Z a-z 0-9 . _ - :`.
///
/// Frames are idempotent per id: the same id submitted twice is one frame.
///
/// ```
/// use kyc_core::liveness::FrameId;
/// assert_eq!(FrameId::parse("frame-0007").unwrap().as_str(), "frame-0007");
/// assert!(FrameId::parse("").is_err());
/// assert!(FrameId::parse("../etc").is_err());
/// assert!(FrameId::parse(&"a".repeat(65)).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FrameId(String);

impl FrameId {
    /// The longest accepted frame id.
    pub const MAX_LEN: usize = 64;

    /// Parses an untrusted frame id.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "frame id";
        if s.is_empty() {
            return Err(ValueError::Empty { what: WHAT });
        }
        if s.len() > Self::MAX_LEN {
            return Err(ValueError::TooLong {
                what: WHAT,
                max: Self::MAX_LEN,
            });
        }
        if s == "." || s == ".." || s.contains("..") {
            return Err(ValueError::InvalidCharacter { what: WHAT });
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
        {
            return Err(ValueError::InvalidCharacter { what: WHAT });
        }
        Ok(Self(s.to_owned()))
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FrameId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FrameId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FrameId({})", self.0)
    }
}

impl std::str::FromStr for FrameId {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for FrameId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FrameId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A probability or confidence between 0 and 1 (inclusive), never NaN.
///
/// Engines that report percentages (AWS Rekognition's `Confidence`, `Brightness`, `Sharpness`)
/// use [`Probability::from_percent`].
///
/// ```
/// use kyc_core::liveness::Probability;
/// assert_eq!(Probability::from_percent(99.5).unwrap().value(), 0.995);
/// assert!(Probability::parse(1.01).is_err());
/// assert!(Probability::parse(f32::NAN).is_err());
/// ```
#[derive(Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Probability(f32);

impl Probability {
    /// Certainly not.
    pub const ZERO: Self = Self(0.0);
    /// Certainly.
    pub const ONE: Self = Self(1.0);

    /// Accepts a value in 0..=1.
    pub fn parse(v: f32) -> Result<Self, ValueError> {
        if v.is_finite() && (0.0..=1.0).contains(&v) {
            Ok(Self(v))
        } else {
            Err(ValueError::OutOfRange {
                what: "probability",
            })
        }
    }

    /// Accepts a percentage in 0..=100.
    pub fn from_percent(v: f32) -> Result<Self, ValueError> {
        Self::parse(v / 100.0)
    }

    /// The value in 0..=1.
    pub fn value(self) -> f32 {
        self.0
    }
}

impl fmt::Debug for Probability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Probability {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f32(self.0)
    }
}

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(f32::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The orientation of a head, in degrees, each angle in -180..=180.
///
/// **Sign convention** (the one AWS Rekognition's `Pose` appears to use: AWS's reference gives
/// only the ranges, and the landmarks in its example responses agree with these signs; the
/// kyc-aws mapping `head_pose_from_rekognition` is the one place to change if recordings of
/// real turned heads disagree), stated in terms of the person in front of the camera, in an
/// unmirrored camera image:
///
/// - `yaw` > 0: the person turns their head to **their own left** (in an unmirrored image the
///   face then points towards the image's right edge); `yaw` < 0: to their own right.
/// - `pitch` > 0: the person **looks up** (chin up); `pitch` < 0: looks down.
/// - `roll` > 0: the head tilts towards **the person's own left shoulder** (clockwise in the
///   unmirrored image); `roll` < 0: towards the right shoulder.
///
/// Adapters whose engine uses another convention (dlib's `solvePnP`-based estimates, for example)
/// convert to this one; each adapter's tests pin the sign with a turned-head fixture. Frames
/// must not be mirrored by the client (browsers mirror the preview, not the captured frame,
/// unless told to).
///
/// ```
/// use kyc_core::liveness::HeadPose;
/// let p = HeadPose::new(30.0, -5.0, 0.0).unwrap();
/// assert_eq!(p.yaw(), 30.0); // turned to the person's own left
/// assert!(HeadPose::new(181.0, 0.0, 0.0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PoseRepr", into = "PoseRepr")]
pub struct HeadPose {
    yaw: f32,
    pitch: f32,
    roll: f32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoseRepr {
    yaw: f32,
    pitch: f32,
    roll: f32,
}

impl TryFrom<PoseRepr> for HeadPose {
    type Error = ValueError;
    fn try_from(r: PoseRepr) -> Result<Self, Self::Error> {
        Self::new(r.yaw, r.pitch, r.roll)
    }
}

impl From<HeadPose> for PoseRepr {
    fn from(p: HeadPose) -> Self {
        Self {
            yaw: p.yaw,
            pitch: p.pitch,
            roll: p.roll,
        }
    }
}

impl HeadPose {
    /// Looking straight at the camera.
    pub const FRONTAL: Self = Self {
        yaw: 0.0,
        pitch: 0.0,
        roll: 0.0,
    };

    /// A pose from yaw, pitch and roll in degrees; each must be finite and within -180..=180.
    pub fn new(yaw: f32, pitch: f32, roll: f32) -> Result<Self, ValueError> {
        let ok = |v: f32| v.is_finite() && (-180.0..=180.0).contains(&v);
        if ok(yaw) && ok(pitch) && ok(roll) {
            Ok(Self { yaw, pitch, roll })
        } else {
            Err(ValueError::OutOfRange { what: "head pose" })
        }
    }

    /// Degrees; positive when the person turns to their own left.
    pub fn yaw(self) -> f32 {
        self.yaw
    }

    /// Degrees; positive when the person looks up.
    pub fn pitch(self) -> f32 {
        self.pitch
    }

    /// Degrees; positive when the head tilts towards the person's own left shoulder.
    pub fn roll(self) -> f32 {
        self.roll
    }
}

/// Where a face lies in the image, in coordinates normalised to the image size: `left` and `top`
/// of the box as fractions of the image width and height, `width` and `height` likewise.
///
/// As with AWS Rekognition's `BoundingBox`, a box may extend a little past the image edges, so
/// `left`/`top` are accepted in -1..=2 and `width`/`height` from [`FaceBox::MIN_SIDE`] to 2.
///
/// ```
/// use kyc_core::liveness::FaceBox;
/// let b = FaceBox::new(0.25, 0.2, 0.5, 0.6).unwrap();
/// assert_eq!(b.centre(), (0.5, 0.5));
/// assert!(FaceBox::new(0.1, 0.1, 0.0, 0.3).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BoxRepr", into = "BoxRepr")]
pub struct FaceBox {
    left: f32,
    top: f32,
    width: f32,
    height: f32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BoxRepr {
    left: f32,
    top: f32,
    width: f32,
    height: f32,
}

impl TryFrom<BoxRepr> for FaceBox {
    type Error = ValueError;
    fn try_from(r: BoxRepr) -> Result<Self, Self::Error> {
        Self::new(r.left, r.top, r.width, r.height)
    }
}

impl From<FaceBox> for BoxRepr {
    fn from(b: FaceBox) -> Self {
        Self {
            left: b.left,
            top: b.top,
            width: b.width,
            height: b.height,
        }
    }
}

impl FaceBox {
    /// A box of half the image's width and height in its middle.
    pub const CENTRED: Self = Self {
        left: 0.25,
        top: 0.25,
        width: 0.5,
        height: 0.5,
    };

    /// The smallest accepted width or height (a ten-thousandth of the image).
    pub const MIN_SIDE: f32 = 1e-4;

    /// A box from its normalised left, top, width and height.
    pub fn new(left: f32, top: f32, width: f32, height: f32) -> Result<Self, ValueError> {
        let pos = |v: f32| v.is_finite() && (-1.0..=2.0).contains(&v);
        let len = |v: f32| v.is_finite() && (Self::MIN_SIDE..=2.0).contains(&v);
        if pos(left) && pos(top) && len(width) && len(height) {
            Ok(Self {
                left,
                top,
                width,
                height,
            })
        } else {
            Err(ValueError::OutOfRange { what: "face box" })
        }
    }

    /// Left edge, as a fraction of the image width.
    pub fn left(self) -> f32 {
        self.left
    }
    /// Top edge, as a fraction of the image height.
    pub fn top(self) -> f32 {
        self.top
    }
    /// Width, as a fraction of the image width.
    pub fn width(self) -> f32 {
        self.width
    }
    /// Height, as a fraction of the image height.
    pub fn height(self) -> f32 {
        self.height
    }

    /// The centre `(x, y)`.
    pub fn centre(self) -> (f32, f32) {
        (self.left + self.width / 2.0, self.top + self.height / 2.0)
    }

    /// The linear size of the box: the square root of its area.
    pub fn size(self) -> f32 {
        (self.width * self.height).sqrt()
    }
}

/// A face embedding (a feature vector from the face engine, e.g. dlib's 128 numbers), used only
/// to check that consecutive frames show the same face.
///
/// Biometric data: `Debug` shows only the dimension.
///
/// ```
/// use kyc_core::liveness::Embedding;
/// let a = Embedding::new(vec![1.0, 0.0]).unwrap();
/// let b = Embedding::new(vec![0.0, 2.0]).unwrap();
/// assert_eq!(a.cosine_distance(&b), Some(1.0));
/// assert_eq!(format!("{a:?}"), "Embedding(<2 dimensions>)");
/// assert!(Embedding::new(vec![0.0, 0.0]).is_err());
/// ```
#[derive(Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

impl Embedding {
    /// The largest accepted dimension.
    pub const MAX_DIMENSIONS: usize = 4096;

    /// An embedding of 1 to 4096 finite values, not all zero.
    pub fn new(values: Vec<f32>) -> Result<Self, ValueError> {
        const WHAT: &str = "embedding";
        if values.is_empty() {
            return Err(ValueError::Empty { what: WHAT });
        }
        if values.len() > Self::MAX_DIMENSIONS {
            return Err(ValueError::TooLong {
                what: WHAT,
                max: Self::MAX_DIMENSIONS,
            });
        }
        if !values.iter().all(|v| v.is_finite()) || norm(&values) <= f64::MIN_POSITIVE {
            return Err(ValueError::OutOfRange { what: WHAT });
        }
        Ok(Self(values))
    }

    /// The values.
    pub fn values(&self) -> &[f32] {
        &self.0
    }

    /// The cosine distance `1 - cos θ` in 0..=2, or `None` when the dimensions differ.
    pub fn cosine_distance(&self, other: &Self) -> Option<f32> {
        if self.0.len() != other.0.len() {
            return None;
        }
        let dot: f64 = self
            .0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum();
        let cos = dot / (norm(&self.0) * norm(&other.0));
        Some((1.0 - cos).clamp(0.0, 2.0) as f32)
    }
}

fn norm(v: &[f32]) -> f64 {
    v.iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt()
}

impl fmt::Debug for Embedding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Embedding(<{} dimensions>)", self.0.len())
    }
}

impl Serialize for Embedding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Embedding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(Vec::<f32>::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::fakes::SeededRandom;
    use proptest::prelude::*;

    #[test]
    fn nonces_from_the_same_seed_are_equal_and_from_others_differ() {
        let a = Nonce::generate(&SeededRandom::new(1));
        let b = Nonce::generate(&SeededRandom::new(1));
        let c = Nonce::generate(&SeededRandom::new(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_hex().len(), 32);
        assert!(a
            .to_hex()
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn nonce_differing_only_in_the_last_byte_is_not_equal() {
        let mut bytes = [7u8; 16];
        let a = Nonce::from_bytes(bytes);
        bytes[15] = 8;
        assert!(!a.ct_eq(&Nonce::from_bytes(bytes)));
    }

    #[test]
    fn nonce_serialises_as_hex_and_refuses_junk() {
        let n = Nonce::from_bytes([0x0F; 16]);
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, "\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\"");
        assert_eq!(serde_json::from_str::<Nonce>(&json).unwrap(), n);
        assert!(serde_json::from_str::<Nonce>("\"zz0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\"").is_err());
    }

    #[test]
    fn frame_id_errors_never_echo_the_input() {
        let e = FrameId::parse("secret value!").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn embedding_debug_never_shows_values() {
        let e = Embedding::new(vec![0.123_456, 0.5]).unwrap();
        assert!(!format!("{e:?}").contains("0.12"));
    }

    #[test]
    fn embeddings_of_different_dimensions_have_no_distance() {
        let a = Embedding::new(vec![1.0, 0.0]).unwrap();
        let b = Embedding::new(vec![1.0, 0.0, 0.0]).unwrap();
        assert_eq!(a.cosine_distance(&b), None);
        assert_eq!(a.cosine_distance(&a), Some(0.0));
    }

    #[test]
    fn out_of_range_measurements_are_refused() {
        assert!(HeadPose::new(f32::NAN, 0.0, 0.0).is_err());
        assert!(HeadPose::new(0.0, f32::INFINITY, 0.0).is_err());
        assert!(FaceBox::new(0.0, 0.0, 2.5, 0.1).is_err());
        assert!(FaceBox::new(0.0, 0.0, 1e-30, 1e-30).is_err());
        assert!(FaceBox::new(-3.0, 0.0, 0.5, 0.1).is_err());
        assert!(serde_json::from_str::<HeadPose>(r#"{"yaw":200,"pitch":0,"roll":0}"#).is_err());
        assert!(Embedding::new(vec![f32::NAN]).is_err());
        assert!(Embedding::new(vec![1.0; 4097]).is_err());
    }

    proptest! {
        #[test]
        fn nonce_parse_never_panics_and_round_trips(s in "\\PC{0,40}") {
            if let Ok(n) = Nonce::parse(&s) {
                prop_assert_eq!(Nonce::parse(&n.to_hex()).unwrap(), n);
            }
        }

        #[test]
        fn frame_id_parse_never_panics_and_round_trips(s in "\\PC{0,80}") {
            if let Ok(id) = FrameId::parse(&s) {
                prop_assert_eq!(FrameId::parse(id.as_str()).unwrap(), id);
            }
        }

        #[test]
        fn cosine_distance_is_symmetric_and_bounded(
            a in proptest::collection::vec(-10.0f32..10.0, 4),
            b in proptest::collection::vec(-10.0f32..10.0, 4),
        ) {
            if let (Ok(a), Ok(b)) = (Embedding::new(a), Embedding::new(b)) {
                let (x, y) = (a.cosine_distance(&b).unwrap(), b.cosine_distance(&a).unwrap());
                prop_assert!((x - y).abs() < 1e-6);
                prop_assert!((0.0..=2.0).contains(&x));
            }
        }
    }
}
