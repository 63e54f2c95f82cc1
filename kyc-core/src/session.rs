//! The verification session state machine: from document upload to decision, with idempotent
//! steps, a deadline that wins over every step of an unfinished session, liveness
//! re-challenges, erasure, and a serialisable form for storage.
//!
//! # States
//!
//! ```text
//! documentUploaded ──readDocument(readable)──▶ documentRead ──issueChallenge──▶ livenessChallenged
//!        │                                                                      │  ▲   │ acceptFrame
//!        └─readDocument(unreadable)─▶ documentUnreadable                        │  └───┘ issueChallenge
//!                                            │                  completeLiveness│        (replaces it)
//!                                            │                                  ▼
//!                                            │         livenessCompleted{passed} ──issueChallenge
//!                                            │                  │ (passed)           (if failed)
//!                                            │                  ▼ matchFace
//!                                            │           faceMatched{matched}
//!                                            ▼                  ▼
//!                  decide ──────────▶ decided{approved|rejected|review} ──resolveReview (review only)
//!
//! any state ──erase──▶ erased          any unfinished state ──(now ≥ expiresAt)──▶ expired
//! ```
//!
//! **Screening** is recorded beside the main state rather than as a state of its own: in AWS
//! it is triggered by the stream of the OCR table as soon as the document is read, so it runs
//! concurrently with liveness. `screen` is accepted once, in any state from `documentRead` up
//! to the decision.
//!
//! **Approval** requires every check: document read, liveness passed, face matched, screening
//! recorded ([`SessionError::ChecksIncomplete`] otherwise). Rejection or review may be decided
//! from `documentUnreadable`, `livenessCompleted` or `faceMatched`.
//!
//! **Liveness re-challenges**: a new `issueChallenge` replaces an unfinished challenge (frames
//! for the old nonce are then refused with [`SessionError::StaleChallenge`]) or follows a
//! failed one, up to [`MAX_CHALLENGES`] challenges per session. A passed liveness is never
//! re-challenged.
//!
//! **Idempotency**: every step has a key (the upload's `Idempotency-Key`, the challenge nonce,
//! the frame id, or the step name for steps that happen once). Applying a step whose key was
//! already applied returns [`Transition::Replayed`] and changes nothing if it is the same step,
//! and [`SessionError::KeyReused`] if it differs.
//!
//! **Expiry wins**: in an unfinished session (not decided, not erased), any step at or after
//! `expiresAt` (even a replay) moves the session to `expired` and returns
//! [`SessionError::Expired`]; callers persist the session after an error too. A decided session
//! is finished, so its deadline no longer applies. Erasure is allowed from every state,
//! including `expired`, and `erased` absorbs every later step.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::audit::EventKind;
use crate::model::{Timestamp, ValueError, VerificationId};

/// The most liveness challenges one session may be issued.
pub const MAX_CHALLENGES: u8 = 3;
/// The most frames accepted for one challenge.
pub const MAX_FRAMES_PER_CHALLENGE: u16 = 64;
/// The longest [`StepKey`] (bytes).
pub const MAX_STEP_KEY_LEN: usize = 128;
/// The longest [`PolicyVersion`] (bytes).
pub const MAX_POLICY_VERSION_LEN: usize = 64;

macro_rules! ascii_newtype {
    ($(#[$doc:meta])* $t:ident, $what:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $t(String);

        impl $t {
            /// Parses 1 to the maximum number of printable ASCII characters without spaces.
            pub fn parse(s: &str) -> Result<Self, ValueError> {
                if s.is_empty() {
                    return Err(ValueError::Empty { what: $what });
                }
                if s.len() > $max {
                    return Err(ValueError::TooLong { what: $what, max: $max });
                }
                if !s.bytes().all(|c| c.is_ascii_graphic()) {
                    return Err(ValueError::InvalidCharacter { what: $what });
                }
                Ok(Self(s.to_owned()))
            }
            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($t), self.0)
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

ascii_newtype!(
    /// The idempotency key of a step: an upload's `Idempotency-Key`, a challenge nonce or a
    /// frame id (1 to 128 printable ASCII characters, no spaces). Never personal data.
    StepKey,
    "step key",
    MAX_STEP_KEY_LEN
);

ascii_newtype!(
    /// The version of the decision policy that decided (`2026-05`, `v3`): 1 to 64 printable
    /// ASCII characters, no spaces.
    PolicyVersion,
    "policy version",
    MAX_POLICY_VERSION_LEN
);

/// The outcome of a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Every check passed: a token may be issued.
    Approved,
    /// The verification failed.
    Rejected,
    /// A person must look at it.
    Review,
}

impl Outcome {
    /// The wire name (`approved`, `rejected`, `review`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Review => "review",
        }
    }
}

/// Whether usable fields were read from the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReadOutcome {
    /// Fields were read and validated.
    Readable,
    /// Nothing usable could be read.
    Unreadable,
}

/// The result of sanctions screening, as far as the session is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ScreeningOutcome {
    /// No match at or above the alert threshold.
    Clear,
    /// At least one possible match.
    PossibleMatch,
}

/// The state of a session. Serialised with a `state` tag: `{"state": "faceMatched",
/// "matched": true}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "state",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum State {
    /// The document image was stored.
    DocumentUploaded,
    /// Fields were read from the document.
    DocumentRead,
    /// Nothing usable could be read from the document.
    DocumentUnreadable,
    /// A liveness challenge is open.
    LivenessChallenged {
        /// The nonce of the open challenge.
        nonce: StepKey,
        /// Frames accepted for it so far.
        frames: u16,
    },
    /// The last challenge was evaluated.
    LivenessCompleted {
        /// Whether it passed.
        passed: bool,
    },
    /// The document portrait was compared with the live frames.
    FaceMatched {
        /// Whether they matched.
        matched: bool,
    },
    /// The verification was decided.
    Decided {
        /// The outcome.
        outcome: Outcome,
        /// The policy that decided.
        policy_version: PolicyVersion,
    },
    /// The deadline passed before a decision.
    Expired {
        /// The state it expired in.
        from: StateName,
    },
    /// The verification's data were erased.
    Erased,
}

impl State {
    /// The state's name.
    pub fn name(&self) -> StateName {
        match self {
            Self::DocumentUploaded => StateName::DocumentUploaded,
            Self::DocumentRead => StateName::DocumentRead,
            Self::DocumentUnreadable => StateName::DocumentUnreadable,
            Self::LivenessChallenged { .. } => StateName::LivenessChallenged,
            Self::LivenessCompleted { .. } => StateName::LivenessCompleted,
            Self::FaceMatched { .. } => StateName::FaceMatched,
            Self::Decided { .. } => StateName::Decided,
            Self::Expired { .. } => StateName::Expired,
            Self::Erased => StateName::Erased,
        }
    }
}

/// The name of a [`State`], for errors and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StateName {
    /// [`State::DocumentUploaded`].
    DocumentUploaded,
    /// [`State::DocumentRead`].
    DocumentRead,
    /// [`State::DocumentUnreadable`].
    DocumentUnreadable,
    /// [`State::LivenessChallenged`].
    LivenessChallenged,
    /// [`State::LivenessCompleted`].
    LivenessCompleted,
    /// [`State::FaceMatched`].
    FaceMatched,
    /// [`State::Decided`].
    Decided,
    /// [`State::Expired`].
    Expired,
    /// [`State::Erased`].
    Erased,
}

impl StateName {
    /// The wire name, e.g. `livenessChallenged`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DocumentUploaded => "documentUploaded",
            Self::DocumentRead => "documentRead",
            Self::DocumentUnreadable => "documentUnreadable",
            Self::LivenessChallenged => "livenessChallenged",
            Self::LivenessCompleted => "livenessCompleted",
            Self::FaceMatched => "faceMatched",
            Self::Decided => "decided",
            Self::Expired => "expired",
            Self::Erased => "erased",
        }
    }
}

impl fmt::Display for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A command that moves a session. Serialised with a `step` tag:
/// `{"step": "acceptFrame", "nonce": "…", "frameId": "…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "step",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Step {
    /// The upload that created the session (only ever a replay). Key: the `Idempotency-Key`.
    UploadDocument {
        /// The upload's idempotency key.
        idempotency_key: StepKey,
    },
    /// The document was read. Once per session.
    ReadDocument {
        /// Whether usable fields were read.
        outcome: ReadOutcome,
    },
    /// A liveness challenge was issued. Key: the nonce.
    IssueChallenge {
        /// The challenge nonce.
        nonce: StepKey,
    },
    /// A frame was accepted for the open challenge. Key: the frame id.
    AcceptFrame {
        /// The challenge the frame answers.
        nonce: StepKey,
        /// The frame id.
        frame_id: StepKey,
    },
    /// The open challenge was evaluated. Key: the nonce.
    CompleteLiveness {
        /// The challenge evaluated.
        nonce: StepKey,
        /// Whether it passed.
        passed: bool,
    },
    /// The face match ran. Once per session.
    MatchFace {
        /// Whether the faces matched.
        matched: bool,
    },
    /// Sanctions screening ran. Once per session.
    Screen {
        /// Its outcome.
        outcome: ScreeningOutcome,
    },
    /// The decision engine decided. Once per session.
    Decide {
        /// The outcome.
        outcome: Outcome,
        /// The policy that decided.
        policy_version: PolicyVersion,
    },
    /// A reviewer resolved a `review` decision (to approved or rejected). Once per session.
    ResolveReview {
        /// The final outcome (not `review`).
        outcome: Outcome,
        /// The policy under which the reviewer decided.
        policy_version: PolicyVersion,
    },
    /// The verification's data were erased. Once per session.
    Erase,
}

/// The name of a [`Step`], for errors and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StepName {
    /// [`Step::UploadDocument`].
    UploadDocument,
    /// [`Step::ReadDocument`].
    ReadDocument,
    /// [`Step::IssueChallenge`].
    IssueChallenge,
    /// [`Step::AcceptFrame`].
    AcceptFrame,
    /// [`Step::CompleteLiveness`].
    CompleteLiveness,
    /// [`Step::MatchFace`].
    MatchFace,
    /// [`Step::Screen`].
    Screen,
    /// [`Step::Decide`].
    Decide,
    /// [`Step::ResolveReview`].
    ResolveReview,
    /// [`Step::Erase`].
    Erase,
}

impl StepName {
    /// The wire name, e.g. `acceptFrame`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UploadDocument => "uploadDocument",
            Self::ReadDocument => "readDocument",
            Self::IssueChallenge => "issueChallenge",
            Self::AcceptFrame => "acceptFrame",
            Self::CompleteLiveness => "completeLiveness",
            Self::MatchFace => "matchFace",
            Self::Screen => "screen",
            Self::Decide => "decide",
            Self::ResolveReview => "resolveReview",
            Self::Erase => "erase",
        }
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Step {
    /// The step's name.
    pub fn name(&self) -> StepName {
        match self {
            Self::UploadDocument { .. } => StepName::UploadDocument,
            Self::ReadDocument { .. } => StepName::ReadDocument,
            Self::IssueChallenge { .. } => StepName::IssueChallenge,
            Self::AcceptFrame { .. } => StepName::AcceptFrame,
            Self::CompleteLiveness { .. } => StepName::CompleteLiveness,
            Self::MatchFace { .. } => StepName::MatchFace,
            Self::Screen { .. } => StepName::Screen,
            Self::Decide { .. } => StepName::Decide,
            Self::ResolveReview { .. } => StepName::ResolveReview,
            Self::Erase => StepName::Erase,
        }
    }

    /// The idempotency key: the step name and, for repeatable steps, their own key.
    pub fn key(&self) -> (StepName, Option<&StepKey>) {
        let own = match self {
            Self::UploadDocument { idempotency_key } => Some(idempotency_key),
            Self::IssueChallenge { nonce } | Self::CompleteLiveness { nonce, .. } => Some(nonce),
            Self::AcceptFrame { frame_id, .. } => Some(frame_id),
            _ => None,
        };
        (self.name(), own)
    }

    /// The audit event kind that records this step.
    pub fn event_kind(&self) -> EventKind {
        match self {
            Self::UploadDocument { .. } => EventKind::DocumentUploaded,
            Self::ReadDocument {
                outcome: ReadOutcome::Readable,
            } => EventKind::DocumentRead,
            Self::ReadDocument {
                outcome: ReadOutcome::Unreadable,
            } => EventKind::DocumentUnreadable,
            Self::IssueChallenge { .. } => EventKind::LivenessChallengeIssued,
            Self::AcceptFrame { .. } => EventKind::FrameAccepted,
            Self::CompleteLiveness { .. } => EventKind::LivenessEvaluated,
            Self::MatchFace { .. } => EventKind::FaceMatched,
            Self::Screen { .. } => EventKind::SanctionsScreened,
            Self::Decide { .. } => EventKind::Decided,
            Self::ResolveReview { .. } => EventKind::ReviewResolved,
            Self::Erase => EventKind::Erased,
        }
    }
}

/// What [`Session::apply`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The step was applied (`from` and `to` may be equal: an accepted frame, a screening).
    Applied {
        /// The state before.
        from: StateName,
        /// The state after.
        to: StateName,
    },
    /// The same step was already applied; nothing changed.
    Replayed,
}

/// Why a step was refused. Messages hold state and step names only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The step is not allowed in the current state.
    #[error("step {step} is not allowed in state {from}")]
    InvalidTransition {
        /// The current state.
        from: StateName,
        /// The refused step.
        step: StepName,
    },
    /// The session's deadline has passed (it is now `expired`).
    #[error("verification session has expired")]
    Expired,
    /// The session was erased.
    #[error("verification session has been erased")]
    Erased,
    /// A step with the same key was applied earlier with different content.
    #[error("step {step} was already applied with different content")]
    KeyReused {
        /// The refused step.
        step: StepName,
    },
    /// The step names a challenge that is not the open one (replaced or unknown).
    #[error("liveness challenge is not the open one")]
    StaleChallenge,
    /// No further liveness challenge may be issued.
    #[error("at most {max} liveness challenges may be issued")]
    ChallengeLimitReached {
        /// The limit.
        max: u8,
    },
    /// No further frame may be accepted for the open challenge.
    #[error("at most {max} frames may be accepted per challenge")]
    TooManyFrames {
        /// The limit.
        max: u16,
    },
    /// Liveness cannot pass without a single accepted frame.
    #[error("liveness cannot pass without accepted frames")]
    NoFrames,
    /// Approval requires document, liveness, face match and screening to have passed.
    #[error("approval requires every check to have passed")]
    ChecksIncomplete,
    /// A review can only be resolved to approved or rejected.
    #[error("a review must be resolved to approved or rejected")]
    ReviewUnresolved,
}

/// Which checks a session has passed, kept beside the state (the decided state forgets how it
/// got there). The token's assurance level is derived from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checks {
    /// Usable fields were read from the document.
    pub document_read: bool,
    /// A liveness challenge passed.
    pub liveness_passed: bool,
    /// The document portrait matched the live frames.
    pub face_matched: bool,
    /// The screening outcome, once screened.
    pub screening: Option<ScreeningOutcome>,
}

impl Checks {
    /// Whether every check needed for approval has passed.
    pub fn all_passed(&self) -> bool {
        self.document_read && self.liveness_passed && self.face_matched && self.screening.is_some()
    }
}

/// What the steps of a session found, kept with it so that any stateless worker (a Lambda
/// function, a restarted server) can continue the verification: the open liveness challenge
/// and the frames analysed for it, the liveness and face-match outcomes, the screening
/// summary and the decision. It holds no document fields (those are personal data and live in
/// the OCR record store); the frame observations may carry face embeddings, so stores keep
/// sessions encrypted at rest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Findings {
    /// SHA-256 (hex) of the stored document image, so a replayed upload with the same
    /// idempotency key but other bytes is recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_digest: Option<String>,
    /// The open (or last) liveness challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<crate::liveness::Challenge>,
    /// The frames admitted for that challenge, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<crate::liveness::FrameObservation>,
    /// The outcome of the last evaluated challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<crate::liveness::LivenessOutcome>,
    /// The face-match outcome, or the quality gate's refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_match: Option<FaceMatchFinding>,
    /// The screening summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screening: Option<ScreeningFinding>,
    /// The decision, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<crate::decision::Decision>,
}

impl Findings {
    /// Whether nothing was found yet (such a session stores no `findings` member).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What the face match found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum FaceMatchFinding {
    /// Faces were compared.
    Compared(crate::facematch::FaceMatchOutcome),
    /// The quality gate refused the images; the codes say why.
    QualityRejected {
        /// The rejection codes (e.g. `noFaceDetected`).
        reasons: Vec<String>,
    },
}

/// What sanctions screening found: the status and the matching list entries (list data, not
/// the person's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScreeningFinding {
    /// The evidence the decision engine sees.
    pub status: crate::decision::SanctionsEvidence,
    /// The entries at or above the alert threshold, best first.
    pub matches: Vec<ScreeningMatch>,
    /// The content hash of the lists screened (empty when screening failed).
    pub list_version: String,
}

/// One list entry that matched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScreeningMatch {
    /// The list's own identifier of the entry.
    pub entity_id: String,
    /// The list (e.g. `ofac-sdn`).
    pub list: String,
    /// The entry's name as the list spells it.
    pub name: String,
    /// The match score, 0–100.
    pub score: f32,
}

/// One verification's session.
///
/// ```
/// use kyc_core::model::{Timestamp, VerificationId};
/// use kyc_core::session::{ReadOutcome, Session, SessionError, Step, StepKey, Transition};
/// let t0 = Timestamp::from_secs(1_779_341_048);
/// let mut s = Session::start(
///     VerificationId::from_random_bytes([1; 16]),
///     StepKey::parse("upload-key-1").unwrap(),
///     t0,
///     t0.plus_millis(15 * 60 * 1000),
/// );
/// let read = Step::ReadDocument { outcome: ReadOutcome::Readable };
/// assert!(matches!(s.apply(read.clone(), t0), Ok(Transition::Applied { .. })));
/// assert_eq!(s.apply(read, t0), Ok(Transition::Replayed));
/// let late = t0.plus_millis(15 * 60 * 1000);
/// let nonce = StepKey::parse("n-1").unwrap();
/// assert_eq!(s.apply(Step::IssueChallenge { nonce }, late), Err(SessionError::Expired));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    verification_id: VerificationId,
    created_at: Timestamp,
    expires_at: Timestamp,
    updated_at: Timestamp,
    state: State,
    checks: Checks,
    challenges_issued: u8,
    history: Vec<Step>,
    #[serde(default, skip_serializing_if = "Findings::is_empty")]
    findings: Findings,
}

impl Session {
    /// A session created by an upload with the given idempotency key, to be finished before
    /// `expires_at`.
    pub fn start(
        verification_id: VerificationId,
        idempotency_key: StepKey,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Self {
        Self {
            verification_id,
            created_at: now,
            expires_at,
            updated_at: now,
            state: State::DocumentUploaded,
            checks: Checks::default(),
            challenges_issued: 0,
            history: vec![Step::UploadDocument { idempotency_key }],
            findings: Findings::default(),
        }
    }

    /// The verification.
    pub fn verification_id(&self) -> VerificationId {
        self.verification_id
    }
    /// When the session was created.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
    /// The deadline for a decision.
    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
    /// When a step last changed the session.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }
    /// The checks passed so far.
    pub fn checks(&self) -> &Checks {
        &self.checks
    }
    /// How many liveness challenges were issued.
    pub fn challenges_issued(&self) -> u8 {
        self.challenges_issued
    }
    /// What the steps found.
    pub fn findings(&self) -> &Findings {
        &self.findings
    }
    /// The findings, to record what a step found next to applying it.
    pub fn findings_mut(&mut self) -> &mut Findings {
        &mut self.findings
    }
    /// The steps applied, oldest first.
    pub fn history(&self) -> &[Step] {
        &self.history
    }
    /// The decision, once decided.
    pub fn outcome(&self) -> Option<Outcome> {
        match &self.state {
            State::Decided { outcome, .. } => Some(*outcome),
            _ => None,
        }
    }
    /// The deciding policy, once decided.
    pub fn policy_version(&self) -> Option<&PolicyVersion> {
        match &self.state {
            State::Decided { policy_version, .. } => Some(policy_version),
            _ => None,
        }
    }

    /// Whether the deadline still applies (neither decided, nor expired, nor erased).
    pub fn is_unfinished(&self) -> bool {
        !matches!(
            self.state,
            State::Decided { .. } | State::Expired { .. } | State::Erased
        )
    }

    /// Moves an unfinished session past its deadline to `expired`; returns whether it did (for
    /// sweepers).
    pub fn expire_if_due(&mut self, now: Timestamp) -> bool {
        if self.is_unfinished() && now >= self.expires_at {
            let from = self.state.name();
            self.state = State::Expired { from };
            self.updated_at = now;
            true
        } else {
            false
        }
    }

    /// Applies a step at instant `now` (see the module documentation for the rules).
    ///
    /// On `Err(SessionError::Expired)` the session has moved to `expired`: persist it.
    /// On any other error nothing changed.
    pub fn apply(&mut self, step: Step, now: Timestamp) -> Result<Transition, SessionError> {
        if self.state == State::Erased {
            return if step == Step::Erase {
                Ok(Transition::Replayed)
            } else {
                Err(SessionError::Erased)
            };
        }
        let from = self.state.name();
        if step == Step::Erase {
            self.state = State::Erased;
            self.history.push(step);
            self.updated_at = now;
            return Ok(Transition::Applied {
                from,
                to: StateName::Erased,
            });
        }
        if matches!(self.state, State::Expired { .. }) || self.expire_if_due(now) {
            return Err(SessionError::Expired);
        }
        let key = step.key();
        if let Some(done) = self.history.iter().find(|s| s.key() == key) {
            return if *done == step {
                Ok(Transition::Replayed)
            } else {
                Err(SessionError::KeyReused { step: key.0 })
            };
        }
        let next = self.next(&step)?;
        let to = next.name();
        self.state = next;
        self.history.push(step);
        self.updated_at = now;
        Ok(Transition::Applied { from, to })
    }

    /// The state `step` leads to, recording checks and counters; errors change nothing.
    fn next(&mut self, step: &Step) -> Result<State, SessionError> {
        let invalid = SessionError::InvalidTransition {
            from: self.state.name(),
            step: step.name(),
        };
        match (&self.state, step) {
            (State::DocumentUploaded, Step::ReadDocument { outcome }) => Ok(match outcome {
                ReadOutcome::Readable => {
                    self.checks.document_read = true;
                    State::DocumentRead
                }
                ReadOutcome::Unreadable => State::DocumentUnreadable,
            }),
            (
                State::DocumentRead
                | State::LivenessChallenged { .. }
                | State::LivenessCompleted { passed: false },
                Step::IssueChallenge { nonce },
            ) => {
                if self.challenges_issued >= MAX_CHALLENGES {
                    return Err(SessionError::ChallengeLimitReached {
                        max: MAX_CHALLENGES,
                    });
                }
                self.challenges_issued += 1;
                Ok(State::LivenessChallenged {
                    nonce: nonce.clone(),
                    frames: 0,
                })
            }
            (
                State::LivenessChallenged {
                    nonce: open,
                    frames,
                },
                Step::AcceptFrame { nonce, .. },
            ) => {
                if open != nonce {
                    return Err(SessionError::StaleChallenge);
                }
                if *frames >= MAX_FRAMES_PER_CHALLENGE {
                    return Err(SessionError::TooManyFrames {
                        max: MAX_FRAMES_PER_CHALLENGE,
                    });
                }
                Ok(State::LivenessChallenged {
                    nonce: open.clone(),
                    frames: frames + 1,
                })
            }
            (
                State::LivenessChallenged {
                    nonce: open,
                    frames,
                },
                Step::CompleteLiveness { nonce, passed },
            ) => {
                if open != nonce {
                    return Err(SessionError::StaleChallenge);
                }
                if *passed && *frames == 0 {
                    return Err(SessionError::NoFrames);
                }
                self.checks.liveness_passed = *passed;
                Ok(State::LivenessCompleted { passed: *passed })
            }
            (State::LivenessCompleted { passed: true }, Step::MatchFace { matched }) => {
                self.checks.face_matched = *matched;
                Ok(State::FaceMatched { matched: *matched })
            }
            (
                State::DocumentRead
                | State::LivenessChallenged { .. }
                | State::LivenessCompleted { .. }
                | State::FaceMatched { .. },
                Step::Screen { outcome },
            ) => {
                self.checks.screening = Some(*outcome);
                Ok(self.state.clone())
            }
            (
                State::DocumentUnreadable
                | State::LivenessCompleted { .. }
                | State::FaceMatched { .. },
                Step::Decide {
                    outcome,
                    policy_version,
                },
            ) => {
                if *outcome == Outcome::Approved && !self.checks.all_passed() {
                    return Err(SessionError::ChecksIncomplete);
                }
                Ok(State::Decided {
                    outcome: *outcome,
                    policy_version: policy_version.clone(),
                })
            }
            (
                State::Decided {
                    outcome: Outcome::Review,
                    ..
                },
                Step::ResolveReview {
                    outcome,
                    policy_version,
                },
            ) => match outcome {
                Outcome::Review => Err(SessionError::ReviewUnresolved),
                Outcome::Approved if !self.checks.all_passed() => {
                    Err(SessionError::ChecksIncomplete)
                }
                _ => Ok(State::Decided {
                    outcome: *outcome,
                    policy_version: policy_version.clone(),
                }),
            },
            _ => Err(invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);
    const TTL: i64 = 15 * 60 * 1000;

    fn key(s: &str) -> StepKey {
        StepKey::parse(s).unwrap()
    }
    fn policy() -> PolicyVersion {
        PolicyVersion::parse("2026-05").unwrap()
    }
    fn session() -> Session {
        Session::start(
            VerificationId::from_random_bytes([1; 16]),
            key("idem-1"),
            T0,
            T0.plus_millis(TTL),
        )
    }
    fn frame(nonce: &str, id: &str) -> Step {
        Step::AcceptFrame {
            nonce: key(nonce),
            frame_id: key(id),
        }
    }

    /// Drives a session through the happy path up to (not including) the decision.
    fn ready_to_decide() -> Session {
        let mut s = session();
        for step in [
            Step::ReadDocument {
                outcome: ReadOutcome::Readable,
            },
            Step::Screen {
                outcome: ScreeningOutcome::Clear,
            },
            Step::IssueChallenge { nonce: key("n1") },
            frame("n1", "f1"),
            frame("n1", "f2"),
            Step::CompleteLiveness {
                nonce: key("n1"),
                passed: true,
            },
            Step::MatchFace { matched: true },
        ] {
            s.apply(step, T0).unwrap();
        }
        s
    }

    #[test]
    fn the_happy_path_reaches_approved() {
        let mut s = ready_to_decide();
        assert!(s.checks().all_passed());
        let t = s
            .apply(
                Step::Decide {
                    outcome: Outcome::Approved,
                    policy_version: policy(),
                },
                T0,
            )
            .unwrap();
        assert_eq!(
            t,
            Transition::Applied {
                from: StateName::FaceMatched,
                to: StateName::Decided
            }
        );
        assert_eq!(s.outcome(), Some(Outcome::Approved));
        assert_eq!(s.policy_version(), Some(&policy()));
    }

    #[test]
    fn approval_without_every_check_is_refused() {
        let mut s = session();
        s.apply(
            Step::ReadDocument {
                outcome: ReadOutcome::Unreadable,
            },
            T0,
        )
        .unwrap();
        let approve = Step::Decide {
            outcome: Outcome::Approved,
            policy_version: policy(),
        };
        assert_eq!(s.apply(approve, T0), Err(SessionError::ChecksIncomplete));
        // Without screening, even a matched face cannot be approved.
        let mut s = ready_to_decide();
        s.checks.screening = None;
        let approve = Step::Decide {
            outcome: Outcome::Approved,
            policy_version: policy(),
        };
        assert_eq!(s.apply(approve, T0), Err(SessionError::ChecksIncomplete));
        assert_eq!(s.state().name(), StateName::FaceMatched);
    }

    #[test]
    fn a_step_out_of_order_names_state_and_step_only() {
        let mut s = session();
        let err = s.apply(Step::MatchFace { matched: true }, T0).unwrap_err();
        assert_eq!(
            err,
            SessionError::InvalidTransition {
                from: StateName::DocumentUploaded,
                step: StepName::MatchFace
            }
        );
        assert_eq!(
            err.to_string(),
            "step matchFace is not allowed in state documentUploaded"
        );
    }

    #[test]
    fn replaying_a_step_changes_nothing_and_a_conflicting_one_is_refused() {
        let mut s = ready_to_decide();
        let before = s.clone();
        assert_eq!(s.apply(frame("n1", "f1"), T0), Ok(Transition::Replayed));
        assert_eq!(
            s.apply(
                Step::UploadDocument {
                    idempotency_key: key("idem-1")
                },
                T0
            ),
            Ok(Transition::Replayed)
        );
        assert_eq!(s, before);
        assert_eq!(
            s.apply(Step::MatchFace { matched: false }, T0),
            Err(SessionError::KeyReused {
                step: StepName::MatchFace
            })
        );
        assert_eq!(
            s.apply(
                Step::UploadDocument {
                    idempotency_key: key("idem-2")
                },
                T0
            ),
            Err(SessionError::InvalidTransition {
                from: StateName::FaceMatched,
                step: StepName::UploadDocument
            })
        );
        assert_eq!(s, before);
    }

    #[test]
    fn expiry_wins_over_every_step_even_a_replay() {
        let mut s = ready_to_decide();
        let at_deadline = T0.plus_millis(TTL);
        assert_eq!(
            s.apply(frame("n1", "f1"), at_deadline),
            Err(SessionError::Expired)
        );
        assert_eq!(
            s.state(),
            &State::Expired {
                from: StateName::FaceMatched
            }
        );
        // Still expired later, whatever the step and even with an earlier clock.
        let decide = Step::Decide {
            outcome: Outcome::Rejected,
            policy_version: policy(),
        };
        assert_eq!(s.apply(decide, T0), Err(SessionError::Expired));
        // One millisecond before the deadline it still works.
        let mut s = ready_to_decide();
        let decide = Step::Decide {
            outcome: Outcome::Rejected,
            policy_version: policy(),
        };
        assert!(s.apply(decide, at_deadline.plus_millis(-1)).is_ok());
    }

    #[test]
    fn a_decided_session_ignores_its_deadline_and_can_be_erased_after_it() {
        let mut s = ready_to_decide();
        let decide = Step::Decide {
            outcome: Outcome::Review,
            policy_version: policy(),
        };
        s.apply(decide.clone(), T0).unwrap();
        let late = T0.plus_millis(2 * TTL);
        assert_eq!(s.apply(decide, late), Ok(Transition::Replayed));
        assert!(!s.expire_if_due(late));
        let resolve = Step::ResolveReview {
            outcome: Outcome::Approved,
            policy_version: policy(),
        };
        assert!(s.apply(resolve, late).is_ok());
        assert_eq!(s.outcome(), Some(Outcome::Approved));
        assert!(s.apply(Step::Erase, late).is_ok());
        assert_eq!(s.apply(Step::Erase, late), Ok(Transition::Replayed));
        assert_eq!(
            s.apply(Step::MatchFace { matched: true }, late),
            Err(SessionError::Erased)
        );
    }

    #[test]
    fn a_review_cannot_be_resolved_to_review() {
        let mut s = ready_to_decide();
        s.apply(
            Step::Decide {
                outcome: Outcome::Review,
                policy_version: policy(),
            },
            T0,
        )
        .unwrap();
        let again = Step::ResolveReview {
            outcome: Outcome::Review,
            policy_version: policy(),
        };
        assert_eq!(s.apply(again, T0), Err(SessionError::ReviewUnresolved));
    }

    #[test]
    fn an_expired_session_can_still_be_erased() {
        let mut s = session();
        assert!(s.expire_if_due(T0.plus_millis(TTL)));
        assert_eq!(
            s.apply(Step::Erase, T0.plus_millis(TTL)),
            Ok(Transition::Applied {
                from: StateName::Expired,
                to: StateName::Erased
            })
        );
    }

    #[test]
    fn a_new_challenge_replaces_the_open_one_up_to_the_cap() {
        let mut s = session();
        s.apply(
            Step::ReadDocument {
                outcome: ReadOutcome::Readable,
            },
            T0,
        )
        .unwrap();
        s.apply(Step::IssueChallenge { nonce: key("n1") }, T0)
            .unwrap();
        s.apply(frame("n1", "f1"), T0).unwrap();
        s.apply(Step::IssueChallenge { nonce: key("n2") }, T0)
            .unwrap();
        // Frames for the replaced challenge are refused; replays of old ones are still replays.
        assert_eq!(
            s.apply(frame("n1", "f9"), T0),
            Err(SessionError::StaleChallenge)
        );
        assert_eq!(s.apply(frame("n1", "f1"), T0), Ok(Transition::Replayed));
        // Liveness cannot pass without frames for the open challenge.
        let pass = Step::CompleteLiveness {
            nonce: key("n2"),
            passed: true,
        };
        assert_eq!(s.apply(pass, T0), Err(SessionError::NoFrames));
        let fail = Step::CompleteLiveness {
            nonce: key("n2"),
            passed: false,
        };
        s.apply(fail, T0).unwrap();
        s.apply(Step::IssueChallenge { nonce: key("n3") }, T0)
            .unwrap();
        assert_eq!(
            s.apply(Step::IssueChallenge { nonce: key("n4") }, T0),
            Err(SessionError::ChallengeLimitReached {
                max: MAX_CHALLENGES
            })
        );
        assert_eq!(s.challenges_issued(), MAX_CHALLENGES);
    }

    #[test]
    fn a_passed_liveness_is_not_re_challenged() {
        let mut s = ready_to_decide();
        assert_eq!(
            s.apply(Step::IssueChallenge { nonce: key("n9") }, T0),
            Err(SessionError::InvalidTransition {
                from: StateName::FaceMatched,
                step: StepName::IssueChallenge
            })
        );
    }

    #[test]
    fn frames_per_challenge_are_capped() {
        let mut s = session();
        s.apply(
            Step::ReadDocument {
                outcome: ReadOutcome::Readable,
            },
            T0,
        )
        .unwrap();
        s.apply(Step::IssueChallenge { nonce: key("n1") }, T0)
            .unwrap();
        for i in 0..MAX_FRAMES_PER_CHALLENGE {
            s.apply(frame("n1", &format!("f{i}")), T0).unwrap();
        }
        assert_eq!(
            s.apply(frame("n1", "one-more"), T0),
            Err(SessionError::TooManyFrames {
                max: MAX_FRAMES_PER_CHALLENGE
            })
        );
    }

    #[test]
    fn steps_map_to_audit_event_kinds() {
        assert_eq!(
            Step::ReadDocument {
                outcome: ReadOutcome::Unreadable
            }
            .event_kind(),
            EventKind::DocumentUnreadable
        );
        assert_eq!(frame("n", "f").event_kind(), EventKind::FrameAccepted);
        assert_eq!(Step::Erase.event_kind(), EventKind::Erased);
    }

    #[test]
    fn stored_session_json_is_stable() {
        let mut s = ready_to_decide();
        s.apply(
            Step::Decide {
                outcome: Outcome::Approved,
                policy_version: policy(),
            },
            T0.plus_millis(5000),
        )
        .unwrap();
        insta::assert_json_snapshot!("decided_session", s);
        let back: Session = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    fn arb_step() -> impl Strategy<Value = Step> {
        let k = |n: u8| prop::sample::select((0..n).map(|i| format!("k{i}")).collect::<Vec<_>>());
        let outcome =
            prop::sample::select(vec![Outcome::Approved, Outcome::Rejected, Outcome::Review]);
        prop_oneof![
            1 => k(3).prop_map(|i| Step::UploadDocument { idempotency_key: key(&i) }),
            2 => prop::bool::weighted(0.8).prop_map(|r| Step::ReadDocument {
                outcome: if r { ReadOutcome::Readable } else { ReadOutcome::Unreadable }
            }),
            2 => k(4).prop_map(|n| Step::IssueChallenge { nonce: key(&n) }),
            4 => (k(4), k(8)).prop_map(|(n, f)| frame(&n, &f)),
            2 => (k(4), prop::bool::weighted(0.7))
                .prop_map(|(n, passed)| Step::CompleteLiveness { nonce: key(&n), passed }),
            2 => prop::bool::weighted(0.7).prop_map(|matched| Step::MatchFace { matched }),
            2 => any::<bool>().prop_map(|c| Step::Screen {
                outcome: if c { ScreeningOutcome::Clear } else { ScreeningOutcome::PossibleMatch }
            }),
            2 => outcome.clone().prop_map(|outcome| Step::Decide { outcome, policy_version: policy() }),
            1 => outcome.prop_map(|outcome| Step::ResolveReview { outcome, policy_version: policy() }),
            // Rare, or it would end most sequences early.
            1 => prop::bool::weighted(0.2).prop_map(|e| if e {
                Step::Erase
            } else {
                Step::UploadDocument { idempotency_key: key("idem-1") }
            }),
        ]
    }

    /// Mostly a few seconds between steps, sometimes minutes (so some sessions expire).
    fn arb_delay() -> impl Strategy<Value = i64> {
        prop_oneof![12 => 0i64..15_000, 1 => 0i64..600_000]
    }

    /// Points a frame or completion at the open challenge when `aim` is set, so that random
    /// sequences get past liveness often enough to reach every state.
    fn aimed(step: Step, aim: bool, s: &Session) -> Step {
        let State::LivenessChallenged { nonce: open, .. } = s.state() else {
            return step;
        };
        match step {
            Step::AcceptFrame { frame_id, .. } if aim => Step::AcceptFrame {
                nonce: open.clone(),
                frame_id,
            },
            Step::CompleteLiveness { passed, .. } if aim => Step::CompleteLiveness {
                nonce: open.clone(),
                passed,
            },
            other => other,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_step_sequences_keep_every_invariant(
            steps in proptest::collection::vec(
                (arb_step(), prop::bool::weighted(0.8), arb_delay()), 0..80),
        ) {
            let mut s = session();
            let mut now = T0;
            for (step, aim, dt) in steps {
                let step = aimed(step, aim, &s);
                now = now.plus_millis(dt);
                let before = s.clone();
                let result = s.apply(step.clone(), now);

                // Errors change nothing, except expiry, which moves to `expired`.
                match result {
                    Err(SessionError::Expired) => {
                        prop_assert!(matches!(s.state(), State::Expired { .. }), "not expired");
                        prop_assert!(before.is_unfinished() || matches!(before.state(), State::Expired { .. }), "finished session expired");
                    }
                    Err(_) | Ok(Transition::Replayed) => prop_assert_eq!(&s, &before),
                    Ok(Transition::Applied { from, to }) => {
                        prop_assert_eq!(from, before.state().name());
                        prop_assert_eq!(to, s.state().name());
                        prop_assert_eq!(s.history().last(), Some(&step));
                        prop_assert_eq!(s.history().len(), before.history().len() + 1);
                    }
                }
                // Expiry wins: an unfinished session never accepts a step at or after its deadline.
                if before.is_unfinished() && now >= s.expires_at() && step != Step::Erase {
                    prop_assert_eq!(result, Err(SessionError::Expired));
                }
                // Erased absorbs; expired only leaves to erased.
                if before.state() == &State::Erased {
                    prop_assert_eq!(s.state(), &State::Erased);
                }
                if matches!(before.state(), State::Expired { .. }) {
                    prop_assert!(matches!(s.state(), State::Expired { .. } | State::Erased), "left expired");
                }
                // Bounds and approval rule.
                prop_assert!(s.challenges_issued() <= MAX_CHALLENGES);
                if let State::LivenessChallenged { frames, .. } = s.state() {
                    prop_assert!(*frames <= MAX_FRAMES_PER_CHALLENGE);
                }
                if s.outcome() == Some(Outcome::Approved) {
                    prop_assert!(s.checks().all_passed());
                }
                prop_assert!(s.history().len() <= 2 + MAX_CHALLENGES as usize * (2 + MAX_FRAMES_PER_CHALLENGE as usize) + 6);
                // Serialisation round-trips.
                let back: Session = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
                prop_assert_eq!(&back, &s);
                // Replaying any applied step is idempotent while the session is live.
                if s.is_unfinished() && now < s.expires_at() || matches!(s.state(), State::Decided { .. }) {
                    for done in s.history().to_vec() {
                        let mut again = s.clone();
                        prop_assert_eq!(again.apply(done, now), Ok(Transition::Replayed));
                        prop_assert_eq!(&again, &s);
                    }
                }
            }
        }

        #[test]
        fn hostile_session_json_never_panics(s in ".{0,300}") {
            let _ = serde_json::from_str::<Session>(&s);
            let _ = serde_json::from_str::<Step>(&s);
            let _ = StepKey::parse(&s);
        }
    }
}
