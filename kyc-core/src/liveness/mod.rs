//! Liveness: randomised, nonce-bound gesture challenges and their verification from the
//! per-frame observations of a face analyser.
//!
//! # Flow
//!
//! 1. `POST /v1/start-liveness`: the server issues a [`Challenge`] with
//!    [`Challenge::issue`]`(&ChallengePolicy, &dyn RandomSource, now)`: 2–4 gestures without
//!    immediate repeats, a 128-bit nonce (32 lowercase hex digits), a deadline (now + ttl) and a
//!    minimum frame count. It stores the challenge (serialisable with the server-side fields) and
//!    answers [`Challenge::to_api`]: `{"nonce", "gestures", "expiresAt", "minFrames"}`.
//! 2. `POST /v1/submit-frame`: for each frame, a face analyser (Rekognition DetectFaces, the
//!    local dlib engine) produces a [`FrameObservation`]; the server feeds it to a
//!    [`LivenessTracker`], which refuses frames that can never count with a [`FrameRejection`]
//!    and reports [`Progress`] (the next gesture to prompt for).
//! 3. `GET /v1/verify/{id}`: [`LivenessTracker::outcome`] (or the batch [`verify`]) gives the
//!    [`LivenessOutcome`]: `passed`, each gesture with the frame that showed it, and
//!    machine-readable [`FailureReason`]s.
//!
//! # Conventions
//!
//! - Angles are degrees; **yaw > 0 when the person turns to their own left, pitch > 0 when they
//!   look up** (see [`HeadPose`]). This is the orientation of AWS Rekognition's `Pose` as AWS
//!   describes it (measured with the camera as the point of reference); AWS does not spell out
//!   the signs in the API reference, so the Rekognition adapter pins them with a turned-head
//!   fixture, as every adapter must.
//! - Probabilities and confidences are 0–1 ([`Probability`]); face boxes are normalised to the
//!   image size ([`FaceBox`]).
//! - Gestures are camelCase in JSON (`turnLeft`); failure reasons SCREAMING_SNAKE_CASE
//!   (`NONCE_MISMATCH`); timestamps RFC 3339 in JSON.
//! - `capturedAt` comes from the client's clock, `receivedAt`, `issuedAt`, `expiresAt` and
//!   `now` from the server's. The policy tolerates [`FrameRules::max_clock_skew_ms`] between the
//!   two; the web component should send `capturedAt` on the server's time base (its clock
//!   corrected by the offset it observes against the server's `Date` header) rather than rely on
//!   the user's clock.
//!
//! # Gesture detection
//!
//! Each gesture is a move from a neutral to a triggered state of one signal, with hysteresis
//! between the two thresholds; gesture *i + 1* can start only from a frame that is neutral for
//! both gestures *i* and *i + 1*. Hence jitter around a threshold never counts twice, a held pose
//! never satisfies two consecutive gestures, and a still picture never passes (it also earns
//! [`FailureReason::NoMotion`]). Signals and thresholds (fields of [`GestureThresholds`]):
//!
//! | gesture     | signal    | neutral                     | triggered              | seen when       |
//! |-------------|-----------|-----------------------------|------------------------|-----------------|
//! | `turnLeft`  | yaw       | \|yaw\| ≤ neutralYawDeg     | yaw ≥ turnYawDeg       | triggered       |
//! | `turnRight` | yaw       | \|yaw\| ≤ neutralYawDeg     | yaw ≤ −turnYawDeg      | triggered       |
//! | `lookUp`    | pitch     | \|pitch\| ≤ neutralPitchDeg | pitch ≥ lookUpPitchDeg | triggered       |
//! | `nod`       | pitch     | \|pitch\| ≤ neutralPitchDeg | pitch ≤ −nodPitchDeg   | back to neutral |
//! | `blink`     | eyes open | p ≥ eyesOpenMin             | p ≤ eyesClosedMax      | back to neutral |
//! | `smile`     | smile     | p ≤ smileNeutralMax         | p ≥ smileMin           | triggered       |
//!
//! # Policies
//!
//! [`ChallengePolicy`] (issuing) and [`LivenessPolicy`] (verifying) are versioned values built
//! from plain settings structs ([`ChallengeSettings`], [`LivenessSettings`]) by validating
//! constructors; their `Default`s are the documented defaults, and their JSON goes through the
//! same validation.

mod challenge;
mod detect;
mod frame;
mod gesture;
mod policy;
#[cfg(any(test, feature = "test-util"))]
pub mod synth;
mod time;
mod values;
mod verify;

pub use challenge::{Challenge, ChallengePolicy, ChallengeSettings, ChallengeView, MAX_GESTURES};
pub use frame::{FaceObservation, FrameObservation};
pub use gesture::Gesture;
pub use policy::{
    ContinuityLimits, FrameRules, GestureThresholds, LivenessPolicy, LivenessSettings, PolicyError,
    MIN_ANGLE_HYSTERESIS_DEG, MIN_PROBABILITY_HYSTERESIS,
};
pub use time::parse_rfc3339;
pub use values::{Embedding, FaceBox, FrameId, HeadPose, Nonce, Probability};
pub use verify::{
    verify, FailureReason, Finding, FrameCounts, FrameRejection, GestureResult, GestureStatus,
    LivenessOutcome, LivenessTracker, Progress, SeenAt,
};
