//! Verifying a challenge against the analysed frames: the batch [`verify`], the incremental
//! [`LivenessTracker`] for the server, and the [`LivenessOutcome`] both produce.
//!
//! Both run the same two stages over the frames in submission order:
//!
//! 1. **Admission** of each frame on its own: the nonce matches the challenge's (constant-time),
//!    the frame id is new, the capture time lies in the challenge's window (with the policy's
//!    clock-skew tolerance) and after the previous admitted frame's, the frame arrived before
//!    the deadline plus the upload grace, and the frame limit is not reached. [`verify`] records
//!    a refused frame as a [`Finding`] and leaves it out of the analysis; the tracker refuses it
//!    with a [`FrameRejection`] and does not store it.
//! 2. **Analysis** of the admitted frames: faces per frame, continuity of the face between
//!    frames, the time gap between frames, stillness, and the gestures in order
//!    (see the state machines described in the `detect` module docs).
//!
//! `LivenessTracker::outcome(now)` is always equal to `verify` over the frames the tracker
//! admitted.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::detect::{Counter, Sequencer, Signals};
use super::policy::ContinuityLimits;
use super::time::rfc3339;
use super::{
    Challenge, Embedding, FaceBox, FaceObservation, FrameId, FrameObservation, Gesture,
    LivenessPolicy,
};
use crate::model::Timestamp;

/// A machine-readable reason why a liveness check did not pass. JSON: SCREAMING_SNAKE_CASE
/// (`NONCE_MISMATCH`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum FailureReason {
    /// A frame carried another challenge's nonce (a replayed or stale frame).
    NonceMismatch,
    /// A frame was captured (client clock, beyond the skew tolerance) or received before the
    /// challenge was issued.
    FrameBeforeIssue,
    /// A frame was captured after the deadline (beyond the skew tolerance) or received after the
    /// deadline plus the upload grace.
    FrameAfterDeadline,
    /// A frame's capture time is later than its arrival at the server (beyond the skew
    /// tolerance).
    CapturedAfterReceived,
    /// A frame id was submitted twice.
    DuplicateFrameId,
    /// A frame's capture time is not strictly after the previous frame's.
    NonMonotonicTimestamps,
    /// More frames than the policy allows; the extra ones were ignored.
    TooManyFrames,
    /// Two consecutive frames are further apart in time than the policy allows.
    FrameGapTooLong,
    /// Fewer admitted frames than the challenge's `minFrames`.
    TooFewFrames,
    /// Too many frames without a (confident) face.
    NoFace,
    /// Too many frames with several faces.
    MultipleFaces,
    /// The face jumped, changed size or changed identity (embedding) between frames.
    FaceDiscontinuity,
    /// The frames show no motion at all: a still picture.
    NoMotion,
    /// A challenged gesture was never performed.
    GestureNotSeen,
    /// A challenged gesture was performed, but not where the sequence asked for it.
    GestureOutOfOrder,
    /// The deadline passed before the check could pass.
    Expired,
}

impl FailureReason {
    /// The JSON code (`NONCE_MISMATCH`).
    pub fn code(self) -> &'static str {
        match self {
            Self::NonceMismatch => "NONCE_MISMATCH",
            Self::FrameBeforeIssue => "FRAME_BEFORE_ISSUE",
            Self::FrameAfterDeadline => "FRAME_AFTER_DEADLINE",
            Self::CapturedAfterReceived => "CAPTURED_AFTER_RECEIVED",
            Self::DuplicateFrameId => "DUPLICATE_FRAME_ID",
            Self::NonMonotonicTimestamps => "NON_MONOTONIC_TIMESTAMPS",
            Self::TooManyFrames => "TOO_MANY_FRAMES",
            Self::FrameGapTooLong => "FRAME_GAP_TOO_LONG",
            Self::TooFewFrames => "TOO_FEW_FRAMES",
            Self::NoFace => "NO_FACE",
            Self::MultipleFaces => "MULTIPLE_FACES",
            Self::FaceDiscontinuity => "FACE_DISCONTINUITY",
            Self::NoMotion => "NO_MOTION",
            Self::GestureNotSeen => "GESTURE_NOT_SEEN",
            Self::GestureOutOfOrder => "GESTURE_OUT_OF_ORDER",
            Self::Expired => "EXPIRED",
        }
    }

    /// Whether more frames could still repair this failure (before the deadline).
    pub fn is_repairable(self) -> bool {
        matches!(
            self,
            Self::TooFewFrames
                | Self::NoFace
                | Self::MultipleFaces
                | Self::NoMotion
                | Self::GestureNotSeen
                | Self::GestureOutOfOrder
        )
    }
}

/// Why [`LivenessTracker::submit`] refused a frame. The frame is not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameRejection {
    /// The frame's nonce is not the challenge's.
    #[error("frame belongs to another challenge")]
    NonceMismatch,
    /// The frame id was already submitted (the HTTP layer answers idempotently).
    #[error("frame id was already submitted")]
    DuplicateFrameId,
    /// All gestures were seen and enough frames are in: the challenge takes no more frames.
    #[error("challenge is already complete")]
    ChallengeComplete,
    /// Captured or received before the challenge was issued.
    #[error("frame was captured before the challenge was issued")]
    FrameBeforeIssue,
    /// Captured or received after the deadline.
    #[error("frame was captured or received after the challenge deadline")]
    FrameAfterDeadline,
    /// Capture time later than arrival time.
    #[error("frame capture time is later than its arrival")]
    CapturedAfterReceived,
    /// Capture time not after the previous frame's.
    #[error("frame capture time is not after the previous frame's")]
    NonMonotonicTimestamp,
    /// The frame limit is reached.
    #[error("challenge already holds the most frames allowed ({max})")]
    TooManyFrames {
        /// The policy's limit.
        max: u32,
    },
}

impl FrameRejection {
    /// The failure reason [`verify`] records for a frame refused this way (`None` for
    /// [`FrameRejection::ChallengeComplete`], which only the tracker raises).
    pub fn reason(&self) -> Option<FailureReason> {
        Some(match self {
            Self::NonceMismatch => FailureReason::NonceMismatch,
            Self::DuplicateFrameId => FailureReason::DuplicateFrameId,
            Self::ChallengeComplete => return None,
            Self::FrameBeforeIssue => FailureReason::FrameBeforeIssue,
            Self::FrameAfterDeadline => FailureReason::FrameAfterDeadline,
            Self::CapturedAfterReceived => FailureReason::CapturedAfterReceived,
            Self::NonMonotonicTimestamp => FailureReason::NonMonotonicTimestamps,
            Self::TooManyFrames { .. } => FailureReason::TooManyFrames,
        })
    }
}

/// One failure with the first frame that showed it (when a frame did) and how many frames (or
/// gestures) showed it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Finding {
    /// The reason.
    pub reason: FailureReason,
    /// The first frame that showed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_id: Option<FrameId>,
    /// How many frames (or, for gesture reasons, gestures) showed it.
    pub count: u32,
}

/// Whether and how a challenged gesture was seen. JSON: `seen`, `notSeen`, `outOfOrder`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GestureStatus {
    /// Seen at its place in the sequence.
    Seen,
    /// Performed, but not at its place in the sequence.
    OutOfOrder,
    /// Never performed (or performed fewer times than the challenge asks).
    NotSeen,
}

/// The frame in which a gesture was seen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeenAt {
    /// The frame.
    pub frame_id: FrameId,
    /// Its capture time, RFC 3339.
    #[serde(with = "rfc3339")]
    pub captured_at: Timestamp,
}

/// The result for one gesture of the challenge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GestureResult {
    /// The gesture.
    pub gesture: Gesture,
    /// Seen, out of order, or not seen.
    pub status: GestureStatus,
    /// Where it was seen (only when `status` is `seen`).
    pub seen_at: Option<SeenAt>,
}

/// Frame counts of an outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrameCounts {
    /// Frames given to the check.
    pub submitted: u32,
    /// Frames admitted to the analysis.
    pub admitted: u32,
    /// Admitted frames with exactly one confident face.
    pub one_face: u32,
    /// Admitted frames without a (confident) face.
    pub no_face: u32,
    /// Admitted frames with several faces.
    pub multiple_faces: u32,
}

/// The result of a liveness check.
///
/// JSON (camelCase): `passed`, `decided`, `gestures`, `reasons`, `findings`, `frames`,
/// `policyVersion`, `challengePolicyVersion`; the decision document shows `passed` and
/// `gestures`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LivenessOutcome {
    /// Whether the check passed: no reason at all.
    pub passed: bool,
    /// Whether the result is final: passed, failed for a reason more frames cannot repair, or
    /// past the deadline. An undecided outcome may still pass with more frames.
    pub decided: bool,
    /// One entry per challenged gesture, in challenge order.
    pub gestures: Vec<GestureResult>,
    /// The distinct reasons, sorted; empty when passed.
    pub reasons: Vec<FailureReason>,
    /// The reasons with their first frame and count, in the same order.
    pub findings: Vec<Finding>,
    /// Frame counts.
    pub frames: FrameCounts,
    /// The [`LivenessPolicy`] version.
    pub policy_version: String,
    /// The version of the challenge policy that issued the challenge.
    pub challenge_policy_version: String,
}

impl LivenessOutcome {
    /// Whether the outcome holds this reason.
    pub fn has(&self, reason: FailureReason) -> bool {
        self.reasons.contains(&reason)
    }
}

/// Checks frames against a challenge. `frames` are in submission order; `now` is the server's
/// clock (it decides [`FailureReason::Expired`] and [`LivenessOutcome::decided`]).
///
/// ```
/// use kyc_core::liveness::{verify, Challenge, ChallengePolicy, FailureReason, LivenessPolicy};
/// use kyc_core::model::Timestamp;
/// use kyc_core::ports::fakes::SeededRandom;
///
/// let c = Challenge::issue(&ChallengePolicy::default(), &SeededRandom::new(1), Timestamp::from_secs(1_795_000_000));
/// let outcome = verify(&c, &[], &LivenessPolicy::default(), c.expires_at());
/// assert!(!outcome.passed);
/// assert!(outcome.has(FailureReason::TooFewFrames));
/// assert!(outcome.has(FailureReason::GestureNotSeen));
/// assert!(!outcome.decided); // the deadline has not passed yet
/// ```
pub fn verify(
    challenge: &Challenge,
    frames: &[FrameObservation],
    policy: &LivenessPolicy,
    now: Timestamp,
) -> LivenessOutcome {
    let mut run = Run::new(challenge);
    for f in frames {
        match run.admission(challenge, policy, f) {
            Ok(()) => run.admit(policy, f),
            Err(r) => {
                if let Some(reason) = r.reason() {
                    run.note(reason, Some(&f.frame_id));
                }
            }
        }
    }
    run.outcome(challenge, policy, now, count_u32(frames.len()))
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// How far a challenge has got, after each frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Progress {
    /// Gestures seen in order so far.
    pub gestures_seen: usize,
    /// Gestures in the challenge.
    pub gestures_total: usize,
    /// The gesture to prompt for next, if any.
    pub next_gesture: Option<Gesture>,
    /// Frames admitted so far.
    pub frames_admitted: u32,
    /// The challenge's `minFrames`.
    pub frames_needed: u32,
    /// All gestures seen and enough frames: further frames are refused.
    pub complete: bool,
}

/// Accepts the frames of one challenge one at a time, as the server receives them.
///
/// [`submit`](Self::submit) refuses a frame that could never count (another nonce, a repeated
/// id, out of the time window, not after the previous frame, over the limit, or after the
/// challenge is complete) with a specific [`FrameRejection`], and otherwise returns the
/// [`Progress`]. [`outcome`](Self::outcome) gives the [`LivenessOutcome`] at any time.
///
/// The tracker is not serialisable: a server that keeps state between requests (a Lambda per
/// frame) stores the [`Challenge`] and the admitted [`FrameObservation`]s, both serialisable,
/// and rebuilds the tracker with [`resume`](Self::resume). Checking
/// [`has_frame`](Self::has_frame) before analysing an image saves a face-engine call for a
/// repeated frame id.
///
/// ```
/// use kyc_core::liveness::{synth::Performer, Challenge, ChallengePolicy, LivenessPolicy, LivenessTracker};
/// use kyc_core::model::Timestamp;
/// use kyc_core::ports::fakes::SeededRandom;
///
/// let c = Challenge::issue(&ChallengePolicy::default(), &SeededRandom::new(5), Timestamp::from_secs(1_795_000_000));
/// let mut tracker = LivenessTracker::new(c.clone(), LivenessPolicy::default());
/// for frame in Performer::for_challenge(&c).performs_challenge().frames() {
///     let progress = tracker.submit(frame).unwrap();
///     if progress.complete { break; }
/// }
/// assert!(tracker.outcome(c.expires_at()).passed);
/// ```
#[derive(Clone, Debug)]
pub struct LivenessTracker {
    challenge: Challenge,
    policy: LivenessPolicy,
    run: Run,
    frames: Vec<FrameObservation>,
}

impl LivenessTracker {
    /// A tracker with no frames yet.
    pub fn new(challenge: Challenge, policy: LivenessPolicy) -> Self {
        let run = Run::new(&challenge);
        Self {
            challenge,
            policy,
            run,
            frames: Vec::new(),
        }
    }

    /// Rebuilds a tracker from stored frames (those it admitted before, in order). A frame that
    /// is refused now means the store was altered: the first refusal is returned.
    pub fn resume(
        challenge: Challenge,
        policy: LivenessPolicy,
        frames: impl IntoIterator<Item = FrameObservation>,
    ) -> Result<Self, FrameRejection> {
        let mut t = Self::new(challenge, policy);
        for f in frames {
            t.submit(f)?;
        }
        Ok(t)
    }

    /// Offers one frame.
    pub fn submit(&mut self, frame: FrameObservation) -> Result<Progress, FrameRejection> {
        if !frame.nonce.ct_eq(self.challenge.nonce()) {
            return Err(FrameRejection::NonceMismatch);
        }
        if self.has_frame(&frame.frame_id) {
            return Err(FrameRejection::DuplicateFrameId);
        }
        if self.progress().complete {
            return Err(FrameRejection::ChallengeComplete);
        }
        self.run.admission(&self.challenge, &self.policy, &frame)?;
        self.run.admit(&self.policy, &frame);
        self.frames.push(frame);
        Ok(self.progress())
    }

    /// Whether a frame with this id was admitted.
    pub fn has_frame(&self, id: &FrameId) -> bool {
        self.run.ids.contains(id)
    }

    /// How far the challenge has got.
    pub fn progress(&self) -> Progress {
        let next = self.run.sequencer.next();
        Progress {
            gestures_seen: self.run.sequencer.seen().len(),
            gestures_total: self.challenge.gestures().len(),
            next_gesture: next,
            frames_admitted: self.run.admitted,
            frames_needed: self.challenge.min_frames(),
            complete: next.is_none() && self.run.admitted >= self.challenge.min_frames(),
        }
    }

    /// The outcome so far (equal to [`verify`] over [`frames`](Self::frames)).
    pub fn outcome(&self, now: Timestamp) -> LivenessOutcome {
        self.run
            .outcome(&self.challenge, &self.policy, now, self.run.admitted)
    }

    /// The admitted frames, in order.
    pub fn frames(&self) -> &[FrameObservation] {
        &self.frames
    }

    /// The challenge.
    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    /// The policy.
    pub fn policy(&self) -> &LivenessPolicy {
        &self.policy
    }
}

/// The state shared by [`verify`] and [`LivenessTracker`].
#[derive(Clone, Debug)]
struct Run {
    ids: HashSet<FrameId>,
    last_captured: Option<Timestamp>,
    admitted: u32,
    one_face: u32,
    no_face: u32,
    several: u32,
    first_no_face: Option<FrameId>,
    first_several: Option<FrameId>,
    sequencer: Sequencer,
    counter: Counter,
    prev_face: Option<(FaceBox, Option<Embedding>)>,
    anchor: Option<Embedding>,
    motion: Motion,
    findings: Vec<Finding>,
}

enum Faces<'a> {
    None,
    Several,
    One(&'a FaceObservation),
}

impl Run {
    fn new(challenge: &Challenge) -> Self {
        Self {
            ids: HashSet::new(),
            last_captured: None,
            admitted: 0,
            one_face: 0,
            no_face: 0,
            several: 0,
            first_no_face: None,
            first_several: None,
            sequencer: Sequencer::new(challenge.gestures()),
            counter: Counter::new(),
            prev_face: None,
            anchor: None,
            motion: Motion::default(),
            findings: Vec::new(),
        }
    }

    /// Stage 1: may this frame enter the analysis?
    fn admission(
        &self,
        c: &Challenge,
        policy: &LivenessPolicy,
        f: &FrameObservation,
    ) -> Result<(), FrameRejection> {
        let rules = policy.frames();
        let skew = rules.max_clock_skew_ms;
        if !f.nonce.ct_eq(c.nonce()) {
            return Err(FrameRejection::NonceMismatch);
        }
        if self.ids.contains(&f.frame_id) {
            return Err(FrameRejection::DuplicateFrameId);
        }
        if f.captured_at < c.issued_at().plus_millis(-skew) || f.received_at < c.issued_at() {
            return Err(FrameRejection::FrameBeforeIssue);
        }
        if f.captured_at > c.expires_at().plus_millis(skew)
            || f.received_at > c.expires_at().plus_millis(rules.late_grace_ms)
        {
            return Err(FrameRejection::FrameAfterDeadline);
        }
        if f.captured_at > f.received_at.plus_millis(skew) {
            return Err(FrameRejection::CapturedAfterReceived);
        }
        if self.last_captured.is_some_and(|last| f.captured_at <= last) {
            return Err(FrameRejection::NonMonotonicTimestamp);
        }
        if self.admitted >= rules.max_frames {
            return Err(FrameRejection::TooManyFrames {
                max: rules.max_frames,
            });
        }
        Ok(())
    }

    fn note(&mut self, reason: FailureReason, frame: Option<&FrameId>) {
        note(&mut self.findings, reason, frame);
    }

    /// Stage 2: analyse an admitted frame.
    fn admit(&mut self, policy: &LivenessPolicy, f: &FrameObservation) {
        if let Some(last) = self.last_captured {
            let gap = f.captured_at.millis().saturating_sub(last.millis());
            if gap > policy.frames().max_frame_gap_ms {
                self.note(FailureReason::FrameGapTooLong, Some(&f.frame_id));
            }
        }
        self.ids.insert(f.frame_id.clone());
        self.last_captured = Some(f.captured_at);
        self.admitted = self.admitted.saturating_add(1);

        let faces = match (&f.face, f.face_count) {
            (_, n) if n >= 2 => Faces::Several,
            (Some(face), 1) if face.confidence.value() >= policy.frames().min_face_confidence => {
                Faces::One(face)
            }
            _ => Faces::None,
        };
        match faces {
            Faces::None => {
                self.no_face += 1;
                if self.first_no_face.is_none() {
                    self.first_no_face = Some(f.frame_id.clone());
                }
            }
            Faces::Several => {
                self.several += 1;
                if self.first_several.is_none() {
                    self.first_several = Some(f.frame_id.clone());
                }
            }
            Faces::One(face) => {
                self.one_face += 1;
                if !self.continuous(face, policy.continuity()) {
                    self.note(FailureReason::FaceDiscontinuity, Some(&f.frame_id));
                }
                self.prev_face = Some((face.bounding_box, face.embedding.clone()));
                if self.anchor.is_none() {
                    self.anchor = face.embedding.clone();
                }
                self.motion.add(face);
                let s = Signals::of(face);
                let t = policy.thresholds();
                self.sequencer.feed(&s, t, &f.frame_id, f.captured_at);
                self.counter.feed(&s, t);
            }
        }
    }

    /// Whether `face` continues the previous face (and the first embedding).
    fn continuous(&self, face: &FaceObservation, lim: &ContinuityLimits) -> bool {
        let close = |a: &Embedding, b: &Embedding| {
            a.cosine_distance(b)
                .is_some_and(|d| d <= lim.max_embedding_distance)
        };
        if let (Some(anchor), Some(e)) = (&self.anchor, &face.embedding) {
            if !close(anchor, e) {
                return false;
            }
        }
        let Some((prev_box, prev_emb)) = &self.prev_face else {
            return true;
        };
        let (b, p) = (face.bounding_box, *prev_box);
        let ((x1, y1), (x0, y0)) = (b.centre(), p.centre());
        let shift = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
        let ratio = (b.size() / p.size()).max(p.size() / b.size());
        if !(shift <= lim.max_centre_shift && ratio <= lim.max_size_ratio) {
            return false;
        }
        match (prev_emb, &face.embedding) {
            (Some(a), Some(e)) => close(a, e),
            _ => true,
        }
    }

    fn outcome(
        &self,
        c: &Challenge,
        policy: &LivenessPolicy,
        now: Timestamp,
        submitted: u32,
    ) -> LivenessOutcome {
        let rules = policy.frames();
        let mut findings = self.findings.clone();
        if self.admitted < c.min_frames() {
            note(&mut findings, FailureReason::TooFewFrames, None);
        }
        if self.admitted > 0 {
            let frac = |n: u32| n as f32 / self.admitted as f32;
            if frac(self.no_face) > rules.max_no_face_fraction {
                findings.push(Finding {
                    reason: FailureReason::NoFace,
                    frame_id: self.first_no_face.clone(),
                    count: self.no_face,
                });
            }
            if frac(self.several) > rules.max_multiple_faces_fraction {
                findings.push(Finding {
                    reason: FailureReason::MultipleFaces,
                    frame_id: self.first_several.clone(),
                    count: self.several,
                });
            }
        }
        if self.one_face >= 2 && self.motion.is_still(policy.continuity()) {
            note(&mut findings, FailureReason::NoMotion, None);
        }

        let gestures = self.gesture_results(c);
        for r in &gestures {
            match r.status {
                GestureStatus::Seen => {}
                GestureStatus::NotSeen => note(&mut findings, FailureReason::GestureNotSeen, None),
                GestureStatus::OutOfOrder => {
                    note(&mut findings, FailureReason::GestureOutOfOrder, None)
                }
            }
        }

        let passed = findings.is_empty();
        let late = now > c.expires_at().plus_millis(rules.late_grace_ms);
        if !passed && late {
            note(&mut findings, FailureReason::Expired, None);
        }
        let decided = passed || late || findings.iter().any(|f| !f.reason.is_repairable());
        findings.sort_by_key(|f| f.reason);
        LivenessOutcome {
            passed,
            decided,
            gestures,
            reasons: findings.iter().map(|f| f.reason).collect(),
            findings,
            frames: FrameCounts {
                submitted,
                admitted: self.admitted,
                one_face: self.one_face,
                no_face: self.no_face,
                multiple_faces: self.several,
            },
            policy_version: policy.version().to_owned(),
            challenge_policy_version: c.policy_version().to_owned(),
        }
    }

    /// Seen gestures first; for the rest, whether the gesture was performed anywhere often
    /// enough (out of order) or not (not seen).
    fn gesture_results(&self, c: &Challenge) -> Vec<GestureResult> {
        let seen = self.sequencer.seen();
        c.gestures()
            .iter()
            .enumerate()
            .map(|(i, &g)| {
                if let Some(s) = seen.get(i) {
                    return GestureResult {
                        gesture: g,
                        status: GestureStatus::Seen,
                        seen_at: Some(SeenAt {
                            frame_id: s.frame_id.clone(),
                            captured_at: s.at,
                        }),
                    };
                }
                let needed = c.gestures().iter().take(i + 1).filter(|&&x| x == g).count();
                let performed = self.counter.count(g) as usize;
                GestureResult {
                    gesture: g,
                    status: if performed >= needed {
                        GestureStatus::OutOfOrder
                    } else {
                        GestureStatus::NotSeen
                    },
                    seen_at: None,
                }
            })
            .collect()
    }
}

/// Adds one occurrence of `reason`, keeping the first frame that showed it.
fn note(findings: &mut Vec<Finding>, reason: FailureReason, frame: Option<&FrameId>) {
    match findings.iter_mut().find(|x| x.reason == reason) {
        Some(x) => x.count = x.count.saturating_add(1),
        None => findings.push(Finding {
            reason,
            frame_id: frame.cloned(),
            count: 1,
        }),
    }
}

/// The spread (max − min) of every measurement over the one-face frames.
#[derive(Clone, Debug, Default)]
struct Motion {
    spans: [Span; 8],
}

#[derive(Clone, Copy, Debug, Default)]
struct Span(Option<(f32, f32)>);

impl Span {
    fn add(&mut self, v: f32) {
        self.0 = Some(match self.0 {
            None => (v, v),
            Some((lo, hi)) => (lo.min(v), hi.max(v)),
        });
    }
    fn width(self) -> f32 {
        self.0.map_or(0.0, |(lo, hi)| hi - lo)
    }
}

impl Motion {
    fn add(&mut self, face: &FaceObservation) {
        let (cx, cy) = face.bounding_box.centre();
        let values = [
            Some(face.pose.yaw()),
            Some(face.pose.pitch()),
            Some(face.pose.roll()),
            face.eyes_open.map(|p| p.value()),
            face.smile.map(|p| p.value()),
            Some(cx),
            Some(cy),
            Some(face.bounding_box.size()),
        ];
        for (span, v) in self.spans.iter_mut().zip(values) {
            if let Some(v) = v {
                span.add(v);
            }
        }
    }

    fn is_still(&self, lim: &ContinuityLimits) -> bool {
        let limits = [
            lim.still_pose_deg,
            lim.still_pose_deg,
            lim.still_pose_deg,
            lim.still_probability,
            lim.still_probability,
            lim.still_box,
            lim.still_box,
            lim.still_box,
        ];
        self.spans
            .iter()
            .zip(limits)
            .all(|(s, limit)| s.width() <= limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liveness::synth::Performer;
    use crate::liveness::{ChallengePolicy, HeadPose, Nonce, Probability};
    use crate::ports::fakes::SeededRandom;
    use proptest::prelude::*;
    use Gesture::*;

    fn issued() -> Timestamp {
        Timestamp::from_millis(1_795_000_000_000)
    }

    fn challenge(gestures: &[Gesture]) -> Challenge {
        Challenge::fixed(
            Nonce::from_bytes([0x5A; 16]),
            gestures,
            issued(),
            &ChallengePolicy::default(),
        )
    }

    fn random_challenge(seed: u64) -> Challenge {
        Challenge::issue(
            &ChallengePolicy::default(),
            &SeededRandom::new(seed),
            issued(),
        )
    }

    /// Verifies with the default policy at the deadline.
    fn check(c: &Challenge, frames: &[FrameObservation]) -> LivenessOutcome {
        verify(c, frames, &LivenessPolicy::default(), c.expires_at())
    }

    fn a_person(c: &Challenge) -> Performer {
        Performer::for_challenge(c)
    }

    fn statuses(o: &LivenessOutcome) -> Vec<GestureStatus> {
        o.gestures.iter().map(|g| g.status).collect()
    }

    #[test]
    fn a_person_performing_the_gestures_in_order_passes() {
        let c = challenge(&[TurnLeft, Blink, Smile, Nod]);
        let (frames, segments) = a_person(&c).performs_challenge().into_parts();
        let o = check(&c, &frames);
        assert!(o.passed, "{o:#?}");
        assert!(o.decided);
        assert!(o.reasons.is_empty() && o.findings.is_empty());
        assert_eq!(o.frames.admitted as usize, frames.len());
        assert_eq!(o.frames.one_face, o.frames.admitted);
        // Each gesture was seen inside the frames that performed it (blink and nod complete on
        // the rest frame right after).
        let performed: Vec<_> = segments.iter().filter(|s| s.gesture.is_some()).collect();
        for (result, segment) in o.gestures.iter().zip(performed) {
            assert_eq!(Some(result.gesture), segment.gesture);
            let seen = result.seen_at.as_ref().unwrap();
            let i = frames
                .iter()
                .position(|f| f.frame_id == seen.frame_id)
                .unwrap();
            assert!(
                segment.frames.start <= i && i <= segment.frames.end,
                "{result:?}"
            );
            assert_eq!(frames[i].captured_at, seen.captured_at);
        }
    }

    #[test]
    fn outcome_json_of_a_pass_and_of_a_failure_is_stable() {
        let c = challenge(&[TurnRight, LookUp]);
        let frames = a_person(&c).seed(1).performs_challenge().frames();
        insta::assert_json_snapshot!("outcome_passed", check(&c, &frames));
        let frames = a_person(&c)
            .seed(1)
            .rests(3)
            .performs(LookUp)
            .rests(12)
            .frames();
        insta::assert_json_snapshot!("outcome_failed", check(&c, &frames));
    }

    #[test]
    fn a_missing_gesture_fails_with_gesture_not_seen() {
        let c = challenge(&[Smile, TurnLeft, Blink]);
        let frames = a_person(&c)
            .rests(3)
            .performs(Smile)
            .performs(Blink)
            .rests(10)
            .frames();
        let o = check(&c, &frames);
        assert!(!o.passed);
        assert_eq!(
            statuses(&o),
            [
                GestureStatus::Seen,
                GestureStatus::NotSeen,
                GestureStatus::OutOfOrder
            ]
        );
        assert!(o.has(FailureReason::GestureNotSeen));
    }

    #[test]
    fn gestures_in_the_wrong_order_fail_out_of_order() {
        let c = challenge(&[TurnLeft, TurnRight]);
        let frames = a_person(&c)
            .rests(3)
            .performs(TurnRight)
            .performs(TurnLeft)
            .rests(10)
            .frames();
        let o = check(&c, &frames);
        assert_eq!(o.reasons, [FailureReason::GestureOutOfOrder]);
        assert_eq!(
            statuses(&o),
            [GestureStatus::Seen, GestureStatus::OutOfOrder]
        );
    }

    #[test]
    fn a_repeated_gesture_must_be_performed_twice() {
        let c = challenge(&[TurnLeft, Smile, TurnLeft]);
        let once = a_person(&c)
            .rests(3)
            .performs(TurnLeft)
            .performs(Smile)
            .rests(10)
            .frames();
        assert!(check(&c, &once).has(FailureReason::GestureNotSeen));
        let twice = a_person(&c).performs_challenge().frames();
        assert!(check(&c, &twice).passed);
    }

    #[test]
    fn jitter_around_the_turn_threshold_never_counts_twice() {
        let c = challenge(&[TurnLeft, Smile, TurnLeft]);
        let mut p = a_person(&c).noise(0.0).rests(3).looks(17.0, 0.0);
        for i in 0..12 {
            p = p.looks(if i % 2 == 0 { 26.0 } else { 24.0 }, 0.0);
        }
        // The person comes back, smiles, rests: one turn with jitter, not two turns.
        let frames = p.rests(2).performs(Smile).rests(6).frames();
        let o = check(&c, &frames);
        // Had the jitter counted twice, the last turn would be `outOfOrder`, not `notSeen`.
        assert_eq!(
            statuses(&o),
            [
                GestureStatus::Seen,
                GestureStatus::Seen,
                GestureStatus::NotSeen
            ]
        );
        assert_eq!(o.reasons, [FailureReason::GestureNotSeen]);
    }

    #[test]
    fn a_frame_with_another_challenges_nonce_fails() {
        let c = challenge(&[Blink, Nod]);
        let mut frames = a_person(&c).performs_challenge().frames();
        frames[4].nonce = Nonce::from_bytes([0x5B; 16]);
        let o = check(&c, &frames);
        assert!(!o.passed && o.decided);
        assert_eq!(o.reasons, [FailureReason::NonceMismatch]);
        assert_eq!(o.findings[0].frame_id, Some(frames[4].frame_id.clone()));
        assert_eq!(o.frames.admitted as usize, frames.len() - 1);
    }

    #[test]
    fn a_whole_performance_replayed_from_another_challenge_fails() {
        let old = challenge(&[Blink, Nod]);
        let frames = a_person(&old).performs_challenge().frames();
        let new = Challenge::fixed(
            Nonce::from_bytes([1; 16]),
            &[Blink, Nod],
            issued(),
            &ChallengePolicy::default(),
        );
        let o = check(&new, &frames);
        assert!(!o.passed);
        assert!(o.has(FailureReason::NonceMismatch));
        assert_eq!(o.frames.admitted, 0);
    }

    #[test]
    fn timestamps_out_of_order_fail() {
        let c = challenge(&[TurnLeft, Smile]);
        let mut frames = a_person(&c).performs_challenge().frames();
        let (a, b) = (frames[5].captured_at, frames[6].captured_at);
        frames[5].captured_at = b;
        frames[6].captured_at = a;
        let o = check(&c, &frames);
        assert!(!o.passed && o.decided);
        assert!(o.has(FailureReason::NonMonotonicTimestamps));
    }

    #[test]
    fn two_frames_with_the_same_capture_time_fail() {
        let c = challenge(&[TurnLeft, Smile]);
        let mut frames = a_person(&c).performs_challenge().frames();
        frames[6].captured_at = frames[5].captured_at;
        assert!(check(&c, &frames).has(FailureReason::NonMonotonicTimestamps));
    }

    #[test]
    fn a_repeated_frame_id_fails() {
        let c = challenge(&[TurnLeft, Smile]);
        let mut frames = a_person(&c).performs_challenge().frames();
        frames[7].frame_id = frames[2].frame_id.clone();
        let o = check(&c, &frames);
        assert_eq!(o.reasons, [FailureReason::DuplicateFrameId]);
    }

    #[test]
    fn a_face_swap_fails_on_the_embedding() {
        let c = challenge(&[TurnLeft, Smile]);
        let frames = a_person(&c)
            .rests(3)
            .performs(TurnLeft)
            .swaps_face()
            .performs(Smile)
            .rests(8)
            .frames();
        let o = check(&c, &frames);
        assert!(!o.passed && o.decided);
        assert_eq!(o.reasons, [FailureReason::FaceDiscontinuity]);
    }

    #[test]
    fn a_face_swap_back_to_the_first_face_still_fails() {
        let c = challenge(&[TurnLeft, Smile]);
        let frames = a_person(&c).seed(4).rests(3).performs(TurnLeft).frames();
        let impostor = a_person(&c).seed(5).rests(3).frames();
        let mut all = frames.clone();
        all.extend(a_person(&c).seed(4).performs(Smile).rests(8).frames());
        // Splice an impostor frame in the middle, with a fitting id and time.
        let mut f = impostor[0].clone();
        f.frame_id = FrameId::parse("impostor").unwrap();
        all.insert(5, f);
        let mut t = issued().plus_millis(400);
        for frame in &mut all {
            frame.captured_at = t;
            frame.received_at = t.plus_millis(100);
            t = t.plus_millis(200);
        }
        for (i, frame) in all.iter_mut().enumerate() {
            frame.frame_id = FrameId::parse(&format!("x{i}")).unwrap();
        }
        assert!(check(&c, &all).has(FailureReason::FaceDiscontinuity));
    }

    #[test]
    fn a_face_box_that_teleports_fails_even_without_embeddings() {
        let c = challenge(&[TurnLeft, Smile]);
        let frames = a_person(&c)
            .with_embeddings(false)
            .rests(3)
            .performs(TurnLeft)
            .moves_to(0.9, 0.45)
            .performs(Smile)
            .rests(8)
            .frames();
        assert_eq!(
            check(&c, &frames).reasons,
            [FailureReason::FaceDiscontinuity]
        );
    }

    #[test]
    fn frames_after_the_deadline_fail() {
        let c = challenge(&[Blink, TurnRight]);
        let frames = a_person(&c)
            .starting_at(c.expires_at().plus_millis(-1_000))
            .every_ms(500)
            .performs_challenge()
            .frames();
        let o = check(&c, &frames);
        assert!(!o.passed);
        assert!(o.has(FailureReason::FrameAfterDeadline));
    }

    #[test]
    fn frames_received_long_after_the_deadline_fail_even_with_an_honest_capture_time() {
        let c = challenge(&[Blink, TurnRight]);
        let mut frames = a_person(&c).performs_challenge().frames();
        let last = frames.len() - 1;
        frames[last].received_at = c.expires_at().plus_millis(60_000);
        assert_eq!(
            check(&c, &frames).reasons,
            [FailureReason::FrameAfterDeadline]
        );
    }

    #[test]
    fn frames_captured_before_the_challenge_was_issued_fail() {
        let c = challenge(&[Blink, TurnRight]);
        let frames = a_person(&c)
            .starting_at(c.issued_at().plus_millis(-10_000))
            .performs_challenge()
            .frames();
        let mut frames = frames;
        for f in &mut frames {
            f.received_at = f.received_at.max(c.issued_at());
        }
        assert!(check(&c, &frames).has(FailureReason::FrameBeforeIssue));
    }

    #[test]
    fn a_capture_time_in_the_future_of_its_arrival_fails() {
        let c = challenge(&[Blink, TurnRight]);
        let mut frames = a_person(&c).every_ms(400).performs_challenge().frames();
        let last = frames.last_mut().unwrap();
        last.received_at = last.captured_at.plus_millis(-3_500);
        assert!(last.received_at > c.issued_at());
        assert_eq!(
            check(&c, &frames).reasons,
            [FailureReason::CapturedAfterReceived]
        );
    }

    #[test]
    fn too_few_frames_fail_until_more_arrive() {
        let demanding = ChallengePolicy::new(crate::liveness::ChallengeSettings {
            min_frames_base: 30,
            ..Default::default()
        })
        .unwrap();
        let c = Challenge::fixed(
            Nonce::from_bytes([0x5A; 16]),
            &[LookUp, Smile],
            issued(),
            &demanding,
        );
        let frames = a_person(&c).performs_challenge().frames();
        let frames = &frames[..c.min_frames() as usize - 1];
        let o = verify(&c, frames, &LivenessPolicy::default(), c.issued_at());
        assert_eq!(o.reasons, [FailureReason::TooFewFrames]);
        assert!(!o.decided);
        let late = c.expires_at().plus_millis(5_001);
        let o = verify(&c, frames, &LivenessPolicy::default(), late);
        assert_eq!(
            o.reasons,
            [FailureReason::TooFewFrames, FailureReason::Expired]
        );
        assert!(o.decided);
    }

    #[test]
    fn an_unfinished_challenge_is_undecided_before_the_deadline_and_expired_after() {
        let c = challenge(&[LookUp, Smile]);
        let frames = a_person(&c).rests(3).performs(LookUp).rests(10).frames();
        let before = verify(&c, &frames, &LivenessPolicy::default(), c.issued_at());
        assert!(!before.passed && !before.decided);
        assert_eq!(before.reasons, [FailureReason::GestureNotSeen]);
        let late = c.expires_at().plus_millis(5_001);
        let after = verify(&c, &frames, &LivenessPolicy::default(), late);
        assert!(after.decided);
        assert_eq!(
            after.reasons,
            [FailureReason::GestureNotSeen, FailureReason::Expired]
        );
    }

    #[test]
    fn one_frame_without_a_face_is_tolerated_but_many_are_not() {
        let c = challenge(&[Nod, Smile]);
        let frames = a_person(&c)
            .rests(3)
            .leaves(1)
            .performs_challenge()
            .frames();
        assert!(check(&c, &frames).passed);
        let frames = a_person(&c)
            .rests(3)
            .leaves(6)
            .performs_challenge()
            .frames();
        let o = check(&c, &frames);
        assert_eq!(o.reasons, [FailureReason::NoFace]);
        assert_eq!(o.findings[0].count, 6);
        assert_eq!(o.frames.no_face, 6);
    }

    #[test]
    fn a_low_confidence_face_counts_as_no_face() {
        let c = challenge(&[Nod, Smile]);
        let mut frames = a_person(&c).performs_challenge().frames();
        for f in frames.iter_mut().take(8) {
            if let Some(face) = f.face.as_mut() {
                face.confidence = Probability::parse(0.5).unwrap();
            }
        }
        let o = check(&c, &frames);
        assert!(o.has(FailureReason::NoFace));
        assert_eq!(o.frames.no_face, 8);
    }

    #[test]
    fn a_second_face_in_the_picture_fails() {
        let c = challenge(&[Nod, Smile]);
        let frames = a_person(&c)
            .rests(3)
            .with_company(1)
            .performs_challenge()
            .frames();
        let o = check(&c, &frames);
        assert_eq!(o.reasons, [FailureReason::MultipleFaces]);
        assert_eq!(o.frames.multiple_faces, 1);
    }

    #[test]
    fn a_long_pause_between_frames_fails() {
        let c = challenge(&[Nod, Smile]);
        let mut frames = a_person(&c).performs_challenge().frames();
        for f in frames.iter_mut().skip(6) {
            f.captured_at = f.captured_at.plus_millis(4_000);
            f.received_at = f.received_at.plus_millis(4_000);
        }
        assert_eq!(check(&c, &frames).reasons, [FailureReason::FrameGapTooLong]);
    }

    #[test]
    fn too_many_frames_are_cut_off() {
        let c = challenge(&[Nod, Smile]);
        let frames = a_person(&c)
            .every_ms(100)
            .performs_challenge()
            .rests(150)
            .frames();
        let o = check(&c, &frames);
        assert_eq!(o.reasons, [FailureReason::TooManyFrames]);
        assert_eq!(o.frames.admitted, 150);
    }

    #[test]
    fn a_still_photo_earns_no_motion() {
        let c = challenge(&[Blink, Smile]);
        let face = a_person(&c).rests(1).frames()[0].face.clone().unwrap();
        let frames = a_person(&c).shows(&face, 20).frames();
        let o = check(&c, &frames);
        assert!(!o.passed);
        assert!(o.has(FailureReason::NoMotion));
        assert!(o.has(FailureReason::GestureNotSeen));
    }

    #[test]
    fn a_tracker_refuses_each_kind_of_bad_frame_with_its_own_error() {
        let c = challenge(&[TurnLeft, Blink]);
        let frames = a_person(&c).performs_challenge().frames();
        let mut t = LivenessTracker::new(c.clone(), LivenessPolicy::default());
        t.submit(frames[0].clone()).unwrap();
        t.submit(frames[1].clone()).unwrap();

        assert_eq!(
            t.submit(frames[1].clone()),
            Err(FrameRejection::DuplicateFrameId)
        );
        assert!(t.has_frame(&frames[1].frame_id));

        let mut stale = frames[2].clone();
        stale.nonce = Nonce::from_bytes([9; 16]);
        assert_eq!(t.submit(stale), Err(FrameRejection::NonceMismatch));

        let mut earlier = frames[2].clone();
        earlier.captured_at = frames[0].captured_at;
        assert_eq!(
            t.submit(earlier),
            Err(FrameRejection::NonMonotonicTimestamp)
        );

        let mut late = frames[2].clone();
        late.captured_at = c.expires_at().plus_millis(10_000);
        late.received_at = late.captured_at;
        assert_eq!(t.submit(late), Err(FrameRejection::FrameAfterDeadline));

        let mut early = frames[2].clone();
        early.captured_at = c.issued_at().plus_millis(-60_000);
        assert_eq!(t.submit(early), Err(FrameRejection::FrameBeforeIssue));

        // None of the refused frames was stored.
        assert_eq!(t.frames().len(), 2);
        let p = t.submit(frames[2].clone()).unwrap();
        assert_eq!(p.frames_admitted, 3);
    }

    #[test]
    fn a_tracker_reports_progress_and_closes_when_complete() {
        let c = challenge(&[TurnLeft, Blink]);
        let frames = a_person(&c).performs_challenge().rests(3).frames();
        let mut t = LivenessTracker::new(c.clone(), LivenessPolicy::default());
        assert_eq!(t.progress().next_gesture, Some(TurnLeft));
        let mut accepted = Vec::new();
        let mut refused = Vec::new();
        for f in &frames {
            match t.submit(f.clone()) {
                Ok(p) => accepted.push(p),
                Err(e) => refused.push(e),
            }
        }
        // Progress went TurnLeft → Blink → done, and only the last accepted frame completed it.
        let next: Vec<_> = accepted.iter().map(|p| p.next_gesture).collect();
        assert!(next.contains(&Some(Blink)));
        assert!(accepted.iter().rev().skip(1).all(|p| !p.complete));
        let last = accepted.last().unwrap();
        assert!(last.complete && last.next_gesture.is_none());
        assert!(last.frames_admitted >= c.min_frames());
        assert!(!refused.is_empty());
        assert!(refused
            .iter()
            .all(|e| *e == FrameRejection::ChallengeComplete));
        assert_eq!(accepted.len() + refused.len(), frames.len());
        assert!(t.outcome(c.expires_at()).passed);
        let e = FrameRejection::ChallengeComplete;
        assert_eq!(e.reason(), None);
        assert_eq!(e.to_string(), "challenge is already complete");
    }

    #[test]
    fn a_resumed_tracker_is_the_same_tracker() {
        let c = challenge(&[Smile, Nod, TurnRight]);
        let frames = a_person(&c).rests(3).performs(Smile).performs(Nod).frames();
        let mut t = LivenessTracker::new(c.clone(), LivenessPolicy::default());
        for f in &frames {
            t.submit(f.clone()).unwrap();
        }
        let stored = serde_json::to_string(t.frames()).unwrap();
        let back: Vec<FrameObservation> = serde_json::from_str(&stored).unwrap();
        let r = LivenessTracker::resume(c.clone(), LivenessPolicy::default(), back).unwrap();
        assert_eq!(r.progress(), t.progress());
        assert_eq!(r.progress().next_gesture, Some(TurnRight));
        assert_eq!(r.outcome(c.issued_at()), t.outcome(c.issued_at()));

        let mut tampered = frames.clone();
        tampered.swap(1, 2);
        assert!(LivenessTracker::resume(c, LivenessPolicy::default(), tampered).is_err());
    }

    #[test]
    fn failure_codes_match_their_json() {
        let all = [
            FailureReason::NonceMismatch,
            FailureReason::FrameBeforeIssue,
            FailureReason::FrameAfterDeadline,
            FailureReason::CapturedAfterReceived,
            FailureReason::DuplicateFrameId,
            FailureReason::NonMonotonicTimestamps,
            FailureReason::TooManyFrames,
            FailureReason::FrameGapTooLong,
            FailureReason::TooFewFrames,
            FailureReason::NoFace,
            FailureReason::MultipleFaces,
            FailureReason::FaceDiscontinuity,
            FailureReason::NoMotion,
            FailureReason::GestureNotSeen,
            FailureReason::GestureOutOfOrder,
            FailureReason::Expired,
        ];
        for r in all {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.code()));
            assert_eq!(serde_json::from_str::<FailureReason>(&json).unwrap(), r);
        }
    }

    fn any_face() -> impl Strategy<Value = FaceObservation> {
        (
            (-180.0f32..=180.0, -180.0f32..=180.0, -180.0f32..=180.0),
            proptest::option::of(0.0f32..=1.0),
            proptest::option::of(0.0f32..=1.0),
            (0.0f32..0.5, 0.0f32..0.5, 0.05f32..0.5),
            0.9f32..=1.0,
        )
            .prop_map(
                |((y, p, r), eyes, smile, (l, t, s), conf)| FaceObservation {
                    confidence: Probability::parse(conf).unwrap(),
                    pose: HeadPose::new(y, p, r).unwrap(),
                    eyes_open: eyes.map(|v| Probability::parse(v).unwrap()),
                    smile: smile.map(|v| Probability::parse(v).unwrap()),
                    bounding_box: crate::liveness::FaceBox::new(l, t, s, s).unwrap(),
                    embedding: None,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_challenge_performed_in_order_passes(
            challenge_seed in any::<u64>(),
            person_seed in any::<u64>(),
            noise in 0.0f32..=Performer::MAX_NOISE,
        ) {
            let c = random_challenge(challenge_seed);
            let frames = a_person(&c).seed(person_seed).noise(noise).performs_challenge().frames();
            let o = check(&c, &frames);
            prop_assert!(o.passed, "{:?}", o.findings);
        }

        #[test]
        fn removing_one_gestures_frames_fails_with_gesture_not_seen(
            challenge_seed in any::<u64>(),
            person_seed in any::<u64>(),
            pick in any::<prop::sample::Index>(),
        ) {
            let c = random_challenge(challenge_seed);
            let (frames, segments) = a_person(&c).seed(person_seed).performs_challenge().into_parts();
            let gestures: Vec<_> = segments.iter().filter(|s| s.gesture.is_some()).collect();
            let cut = &gestures[pick.index(gestures.len())].frames;
            let kept: Vec<_> = frames
                .iter()
                .enumerate()
                .filter(|(i, _)| !cut.contains(i))
                .map(|(_, f)| f.clone())
                .collect();
            let o = check(&c, &kept);
            prop_assert!(!o.passed);
            prop_assert!(o.has(FailureReason::GestureNotSeen), "{:?}", o.reasons);
        }

        #[test]
        fn gestures_in_another_order_fail(
            challenge_seed in any::<u64>(),
            person_seed in any::<u64>(),
        ) {
            let c = random_challenge(challenge_seed);
            let mut order = c.gestures().to_vec();
            order.rotate_left(1);
            let frames = a_person(&c).seed(person_seed).rests(2).performs_all(&order).rests(12).frames();
            let o = check(&c, &frames);
            prop_assert!(!o.passed);
            prop_assert!(o.has(FailureReason::GestureOutOfOrder), "{:?}", o.reasons);
            prop_assert!(!o.has(FailureReason::GestureNotSeen), "{:?}", o.reasons);
        }

        #[test]
        fn still_frames_never_pass(
            challenge_seed in any::<u64>(),
            face in any_face(),
            n in 1usize..60,
        ) {
            let c = random_challenge(challenge_seed);
            let frames = a_person(&c).shows(&face, n).frames();
            let o = check(&c, &frames);
            prop_assert!(!o.passed);
            prop_assert!(o.has(FailureReason::GestureNotSeen));
            if n >= 2 {
                prop_assert!(o.has(FailureReason::NoMotion));
            }
        }

        #[test]
        fn arbitrary_frames_never_panic_and_tracker_agrees_with_verify(
            challenge_seed in any::<u64>(),
            faces in proptest::collection::vec((any_face(), 0u32..3, -500i64..1500, any::<bool>()), 0..40),
        ) {
            let c = random_challenge(challenge_seed);
            let mut t = c.issued_at();
            let frames: Vec<FrameObservation> = faces
                .into_iter()
                .enumerate()
                .map(|(i, (face, count, step, own_nonce))| {
                    t = t.plus_millis(step);
                    FrameObservation {
                        frame_id: FrameId::parse(&format!("p{}", i % 30)).unwrap(),
                        nonce: if own_nonce { *c.nonce() } else { Nonce::from_bytes([0; 16]) },
                        captured_at: t,
                        received_at: t.plus_millis(100),
                        face_count: count,
                        face: (count > 0).then_some(face),
                    }
                })
                .collect();
            let batch = check(&c, &frames);
            let mut tracker = LivenessTracker::new(c.clone(), LivenessPolicy::default());
            for f in &frames {
                let _ = tracker.submit(f.clone());
            }
            let again = check(&c, tracker.frames());
            prop_assert_eq!(tracker.outcome(c.expires_at()), again);
            prop_assert!(batch.frames.admitted >= tracker.frames().len() as u32);
            if batch.passed {
                prop_assert!(tracker.outcome(c.expires_at()).passed);
            }
        }
    }
}
