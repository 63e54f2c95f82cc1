//! Synthetic frames for tests (feature `test-util`): what a face analyser would report while a
//! person in front of the camera rests, performs gestures, leaves the picture or is swapped for
//! someone else, with seeded noise on every measurement.
//!
//! ```
//! use kyc_core::liveness::{synth::Performer, verify, Challenge, ChallengePolicy, Gesture, LivenessPolicy};
//! use kyc_core::model::Timestamp;
//! use kyc_core::ports::fakes::SeededRandom;
//!
//! let c = Challenge::issue(&ChallengePolicy::default(), &SeededRandom::new(9), Timestamp::from_secs(1_795_000_000));
//! let frames = Performer::for_challenge(&c).seed(3).performs_challenge().frames();
//! assert!(verify(&c, &frames, &LivenessPolicy::default(), c.expires_at()).passed);
//! ```
//!
//! The values are chosen against the default [`super::LivenessPolicy`]: rest poses lie well
//! inside the neutral bands, gesture peaks well beyond the triggers, and the approach and
//! return frames halfway between, so that noise up to [`Performer::MAX_NOISE`] never changes
//! which side of a threshold a frame is on.

use std::ops::Range;

use super::{
    Challenge, Embedding, FaceBox, FaceObservation, FrameId, FrameObservation, Gesture, HeadPose,
    Nonce, Probability,
};
use crate::model::Timestamp;
use crate::ports::fakes::SeededRandom;
use crate::ports::RandomSource;

/// Which frames of a performance belong to which gesture (`None`: resting).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The gesture performed, or `None` for rest frames.
    pub gesture: Option<Gesture>,
    /// Indices into the frames.
    pub frames: Range<usize>,
}

/// The expression and head pose aimed at in one frame, before noise.
#[derive(Clone, Copy, Debug)]
struct Target {
    yaw: f32,
    pitch: f32,
    eyes_open: f32,
    smile: f32,
}

/// Used only if noise pushed a box out of the accepted range (it cannot with sane settings).
const FALLBACK_BOX: FaceBox = FaceBox::CENTRED;

const REST: Target = Target {
    yaw: 0.0,
    pitch: 0.0,
    eyes_open: 0.95,
    smile: 0.08,
};

/// Builds the frames of a synthetic person. Frames are captured every 250 ms from 500 ms after
/// the challenge was issued and received 120 ms after capture; ids are `f-000`, `f-001`, ….
#[derive(Debug)]
pub struct Performer {
    nonce: Nonce,
    gestures: Vec<Gesture>,
    min_frames: u32,
    next_at: Timestamp,
    interval_ms: i64,
    latency_ms: i64,
    noise: f32,
    rng: SeededRandom,
    identity: Vec<f32>,
    embeddings: bool,
    centre: (f32, f32),
    size: f32,
    frames: Vec<FrameObservation>,
    segments: Vec<Segment>,
}

impl Performer {
    /// The largest noise factor for which the performance is guaranteed to be read as intended.
    pub const MAX_NOISE: f32 = 1.5;

    /// A person answering `challenge`, with noise factor 1 and seed 0.
    pub fn for_challenge(challenge: &Challenge) -> Self {
        let mut p = Self {
            nonce: *challenge.nonce(),
            gestures: challenge.gestures().to_vec(),
            min_frames: challenge.min_frames(),
            next_at: challenge.issued_at().plus_millis(500),
            interval_ms: 250,
            latency_ms: 120,
            noise: 1.0,
            rng: SeededRandom::new(0),
            identity: Vec::new(),
            embeddings: true,
            centre: (0.5, 0.45),
            size: 0.35,
            frames: Vec::new(),
            segments: Vec::new(),
        };
        p.identity = p.random_identity();
        p
    }

    /// Reseeds the noise and draws a new identity (embedding).
    pub fn seed(mut self, seed: u64) -> Self {
        self.rng = SeededRandom::new(seed);
        self.identity = self.random_identity();
        self
    }

    /// Noise factor: 0 is exact, 1 is ±1.5° on angles, ±0.04 on probabilities.
    pub fn noise(mut self, factor: f32) -> Self {
        self.noise = factor.max(0.0);
        self
    }

    /// Time between captures.
    pub fn every_ms(mut self, ms: i64) -> Self {
        self.interval_ms = ms;
        self
    }

    /// Capture time of the next frame.
    pub fn starting_at(mut self, t: Timestamp) -> Self {
        self.next_at = t;
        self
    }

    /// Frames carry this nonce from now on.
    pub fn with_nonce(mut self, nonce: Nonce) -> Self {
        self.nonce = nonce;
        self
    }

    /// Whether faces carry embeddings (default yes).
    pub fn with_embeddings(mut self, on: bool) -> Self {
        self.embeddings = on;
        self
    }

    /// `n` frames looking straight at the camera.
    pub fn rests(mut self, n: usize) -> Self {
        let start = self.frames.len();
        for _ in 0..n {
            self.push_target(REST);
        }
        self.mark(None, start);
        self
    }

    /// Performs one gesture (approach, two peak frames, return), then rests for one frame.
    pub fn performs(mut self, g: Gesture) -> Self {
        let (approach, peak) = match g {
            Gesture::TurnLeft => (Target { yaw: 17.5, ..REST }, Target { yaw: 38.0, ..REST }),
            Gesture::TurnRight => (Target { yaw: -17.5, ..REST }, Target { yaw: -38.0, ..REST }),
            Gesture::LookUp => (
                Target {
                    pitch: 15.0,
                    ..REST
                },
                Target {
                    pitch: 32.0,
                    ..REST
                },
            ),
            Gesture::Nod => (
                Target {
                    pitch: -12.5,
                    ..REST
                },
                Target {
                    pitch: -28.0,
                    ..REST
                },
            ),
            Gesture::Blink => (
                Target {
                    eyes_open: 0.5,
                    ..REST
                },
                Target {
                    eyes_open: 0.05,
                    ..REST
                },
            ),
            Gesture::Smile => (
                Target { smile: 0.5, ..REST },
                Target {
                    smile: 0.92,
                    ..REST
                },
            ),
        };
        let start = self.frames.len();
        for t in [approach, peak, peak, approach] {
            self.push_target(t);
        }
        self.mark(Some(g), start);
        self.rests(1)
    }

    /// One frame with the head at this yaw and pitch (degrees; noise is added), otherwise at
    /// rest.
    pub fn looks(mut self, yaw: f32, pitch: f32) -> Self {
        let start = self.frames.len();
        self.push_target(Target { yaw, pitch, ..REST });
        self.mark(None, start);
        self
    }

    /// Performs the gestures in the order given.
    pub fn performs_all(self, gestures: &[Gesture]) -> Self {
        gestures.iter().fold(self, |p, g| p.performs(*g))
    }

    /// Rests, performs the challenge's gestures in order, then rests until there are at least
    /// six frames more than the challenge needs (so that a test can remove a gesture's frames
    /// without falling short of `minFrames`).
    pub fn performs_challenge(self) -> Self {
        let gestures = self.gestures.clone();
        let p = self.rests(2).performs_all(&gestures);
        let want = p.min_frames as usize + 6;
        let missing = want.saturating_sub(p.frames.len());
        p.rests(missing)
    }

    /// `n` frames showing exactly this face, without noise: a still picture.
    pub fn shows(mut self, face: &FaceObservation, n: usize) -> Self {
        let start = self.frames.len();
        for _ in 0..n {
            self.push(1, Some(face.clone()));
        }
        self.mark(None, start);
        self
    }

    /// `n` frames in which the analyser finds no face.
    pub fn leaves(mut self, n: usize) -> Self {
        let start = self.frames.len();
        for _ in 0..n {
            self.push(0, None);
        }
        self.mark(None, start);
        self
    }

    /// `n` resting frames in which a second face is also visible.
    pub fn with_company(mut self, n: usize) -> Self {
        let start = self.frames.len();
        for _ in 0..n {
            let face = self.face(REST);
            self.push(2, Some(face));
        }
        self.mark(None, start);
        self
    }

    /// Someone else takes over from the next frame (a new embedding, same place).
    pub fn swaps_face(mut self) -> Self {
        self.identity = self.random_identity();
        self
    }

    /// The face is at this centre (clamped into the image) from the next frame on.
    pub fn moves_to(mut self, x: f32, y: f32) -> Self {
        self.centre = (x.clamp(0.0, 1.0), y.clamp(0.0, 1.0));
        self
    }

    /// The frames.
    pub fn frames(self) -> Vec<FrameObservation> {
        self.frames
    }

    /// The frames and which gesture each run of frames performs.
    pub fn into_parts(self) -> (Vec<FrameObservation>, Vec<Segment>) {
        (self.frames, self.segments)
    }

    fn mark(&mut self, gesture: Option<Gesture>, start: usize) {
        let end = self.frames.len();
        if end > start {
            self.segments.push(Segment {
                gesture,
                frames: start..end,
            });
        }
    }

    /// Uniform in -1..1.
    fn unit(&self) -> f32 {
        let mut b = [0u8; 4];
        self.rng.fill_bytes(&mut b);
        let v = u32::from_le_bytes(b) >> 8;
        v as f32 / (1u32 << 23) as f32 - 1.0
    }

    fn random_identity(&self) -> Vec<f32> {
        (0..128).map(|_| self.unit()).collect()
    }

    fn face(&self, t: Target) -> FaceObservation {
        let n = self.noise;
        let angle = |v: f32| (v + 1.5 * n * self.unit()).clamp(-180.0, 180.0);
        let prob = |v: f32| (v + 0.04 * n * self.unit()).clamp(0.0, 1.0);
        let (yaw, pitch, roll) = (angle(t.yaw), angle(t.pitch), angle(0.0));
        // The head moves the box a little when it turns.
        let cx = self.centre.0 + yaw / 2000.0 + 0.003 * n * self.unit();
        let cy = self.centre.1 - pitch / 2000.0 + 0.003 * n * self.unit();
        let size = self.size * (1.0 + 0.01 * n * self.unit());
        let embedding = if self.embeddings {
            let v = self
                .identity
                .iter()
                .map(|x| x + 0.02 * n * self.unit())
                .collect();
            Embedding::new(v).ok()
        } else {
            None
        };
        FaceObservation {
            confidence: Probability::parse(prob(0.995).max(0.95)).unwrap_or(Probability::ONE),
            pose: HeadPose::new(yaw, pitch, roll).unwrap_or(HeadPose::FRONTAL),
            eyes_open: Probability::parse(prob(t.eyes_open)).ok(),
            smile: Probability::parse(prob(t.smile)).ok(),
            bounding_box: FaceBox::new(cx - size / 2.0, cy - size / 2.0, size, size)
                .unwrap_or(FALLBACK_BOX),
            embedding,
        }
    }

    fn push_target(&mut self, t: Target) {
        let face = self.face(t);
        self.push(1, Some(face));
    }

    fn push(&mut self, face_count: u32, face: Option<FaceObservation>) {
        let i = self.frames.len();
        let at = self.next_at;
        self.next_at = at.plus_millis(self.interval_ms);
        self.frames.push(FrameObservation {
            frame_id: FrameId::parse(&format!("f-{i:03}")).expect("synthetic ids are valid"),
            nonce: self.nonce,
            captured_at: at,
            received_at: at.plus_millis(self.latency_ms),
            face_count,
            face,
        });
    }
}
