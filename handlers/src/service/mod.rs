//! The verification service: the pipeline of PRODUCT.md as operations over the ports of a
//! [`Platform`]. The HTTP application, the Lambda functions and `kyc verify` call these; the
//! rules they apply live in kyc-core (session state machine, liveness tracker, face-match
//! policy, decision policy, token claims); this module only sequences them and persists.
//!
//! Every operation that changes a session loads it, applies kyc-core steps, and saves it with
//! optimistic concurrency (retrying from a fresh load when another writer won), so concurrent
//! requests and redelivered events never fork a verification.

mod error;
mod platform;
pub mod view;

use std::sync::Arc;

use kyc_core::audit::{append_with_retry, Actor, AuditLog as _, EventDraft, PersonalData, Salt};
use kyc_core::decision::{
    DecisionPolicy, DocumentEvidence, Evidence, FaceMatchEvidence, LivenessEvidence,
    SanctionsEvidence,
};
use kyc_core::document::{assess, DocumentAssessment, FieldName, REQUIRED_FIELDS};
use kyc_core::facematch::{evaluate, FaceMatchPolicy, FrameComparison};
use kyc_core::liveness::{
    Challenge, ChallengePolicy, ChallengeView, FrameId, FrameObservation, LivenessPolicy,
    LivenessTracker, Nonce, Progress,
};
use kyc_core::model::{Image, Timestamp, VerificationId};
use kyc_core::ports::{
    DocumentReader as _, DocumentStore, DomainEvent, EventKind as DomainEventKind, EventPublisher,
    FaceAnalyzer, FaceComparer, FaceError, ObjectKey, PortError, ReadError, SessionStore, Version,
};
use kyc_core::sanctions::{
    country_from_text, BirthDateFact, SanctionsScreener as _, ScreenOptions, ScreeningQuery,
};
use kyc_core::session::{
    FaceMatchFinding, Outcome, PolicyVersion, ReadOutcome, ScreeningFinding, ScreeningMatch,
    ScreeningOutcome, Session, SessionError, StateName, Step, StepKey, Transition,
};
use kyc_core::token::{
    assemble, signing_input, IssuerConfig, JwtHeader, TokenSigner, VerifiedIdentityClaims,
};
use sha2::{Digest as _, Sha256};

pub use error::ServiceError;
pub use platform::{DocumentRecord, Platform, RecordStore, Subject};
pub use view::{DecisionDocument, IpsResult};

/// How many times a lost optimistic-concurrency race is retried from a fresh load.
const SAVE_ATTEMPTS: usize = 8;
/// How many times an audit append is retried after the chain head moved.
const AUDIT_ATTEMPTS: u32 = 8;
/// Frames compared with the document portrait.
const FRAMES_TO_COMPARE: usize = 3;

/// The service's settings: the versioned policies and lifetimes.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// How long a verification may take from upload to decision (ms).
    pub session_ttl_ms: i64,
    /// How long personal data (the OCR record) is kept (ms).
    pub record_ttl_ms: i64,
    /// Liveness challenges.
    pub challenge: ChallengePolicy,
    /// Liveness verification.
    pub liveness: LivenessPolicy,
    /// Face match against live frames.
    pub face_match: FaceMatchPolicy,
    /// The decision rules.
    pub decision: DecisionPolicy,
    /// Sanctions screening options.
    pub screening: ScreenOptions,
    /// Token issuer, audience and lifetime.
    pub issuer: IssuerConfig,
    /// Secret that turns an `Idempotency-Key` into a verification id (so the id cannot be
    /// guessed from a key).
    pub idempotency_secret: [u8; 32],
    /// Who records audit events (e.g. `kyc-serve`, `lambda-api`).
    pub actor: Actor,
}

impl ServiceConfig {
    /// The defaults with the given idempotency secret and audit actor.
    pub fn new(idempotency_secret: [u8; 32], actor: &str) -> Result<Self, ServiceError> {
        Ok(Self {
            session_ttl_ms: 30 * 60 * 1000,
            record_ttl_ms: 7 * 24 * 3600 * 1000,
            challenge: ChallengePolicy::default(),
            liveness: LivenessPolicy::default(),
            face_match: FaceMatchPolicy::default(),
            decision: DecisionPolicy::default(),
            screening: ScreenOptions::default(),
            issuer: IssuerConfig::new("kyc-kit", "kyc-apps", 3600)
                .map_err(|_| ServiceError::Internal("token issuer settings"))?,
            idempotency_secret,
            actor: Actor::parse(actor).map_err(|_| ServiceError::Internal("audit actor"))?,
        })
    }
}

/// The answer to an upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    /// The verification.
    pub verification_id: VerificationId,
    /// Its deadline.
    pub expires_at: Timestamp,
    /// Whether this was a replay of an earlier upload (same key, same image).
    pub replayed: bool,
}

/// The answer to a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameAccepted {
    /// Whether the frame was already accepted earlier (same id).
    pub replayed: bool,
    /// Progress through the challenge.
    pub progress: Progress,
    /// Whether the liveness step is finished (passed or failed).
    pub liveness_done: bool,
}

/// The result of [`Service::verify_offline`].
#[derive(Clone, Debug)]
pub struct OfflineVerification {
    /// The decision (policy without liveness).
    pub decision: kyc_core::decision::Decision,
    /// What was read.
    pub record: DocumentRecord,
    /// The face match of the document portrait and the selfie.
    pub face_match: FaceMatchFinding,
    /// The screening.
    pub screening: ScreeningFinding,
}

/// The verification service over one platform.
pub struct Service<P: Platform> {
    platform: Arc<P>,
    config: ServiceConfig,
}

impl<P: Platform> Clone for Service<P> {
    fn clone(&self) -> Self {
        Self {
            platform: self.platform.clone(),
            config: self.config.clone(),
        }
    }
}

impl<P: Platform> Service<P> {
    /// A service over `platform`.
    pub fn new(platform: Arc<P>, config: ServiceConfig) -> Self {
        Self { platform, config }
    }

    /// The platform.
    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// The settings.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    fn now(&self) -> Timestamp {
        self.platform.clock().now()
    }

    /// The verification id for an upload: derived from the idempotency key under the secret,
    /// or random without a key.
    fn id_for(&self, key: Option<&StepKey>) -> VerificationId {
        let mut bytes = [0u8; 16];
        match key {
            Some(k) => {
                let mut h = Sha256::new();
                h.update(b"kyc-upload-id-v1\0");
                h.update(self.config.idempotency_secret);
                h.update(k.as_str().as_bytes());
                let d = h.finalize();
                bytes.copy_from_slice(&d[..16]);
            }
            None => self.platform.random().fill_bytes(&mut bytes),
        }
        VerificationId::from_random_bytes(bytes)
    }

    /// Step 1: stores a checked, metadata-free document image under a new verification.
    /// The same key with the same image returns the first answer; with another image it is
    /// [`ServiceError::IdempotencyKeyReused`].
    pub async fn upload(
        &self,
        image: Vec<u8>,
        content_type: &'static str,
        idempotency_key: Option<StepKey>,
    ) -> Result<Uploaded, ServiceError> {
        let now = self.now();
        let digest = hex::encode(Sha256::digest(&image));
        let id = self.id_for(idempotency_key.as_ref());
        let key = match idempotency_key {
            Some(k) => k,
            None => StepKey::parse(&format!("auto-{}", &digest[..32]))
                .map_err(|_| ServiceError::Internal("upload key"))?,
        };
        if let Some((existing, _)) = self.platform.sessions().load(&id).await? {
            return self.replayed_upload(&existing, &key, &digest);
        }
        self.platform
            .objects()
            .put(&ObjectKey::id_upload(&id), image, content_type)
            .await?;
        let mut session = Session::start(
            id,
            key.clone(),
            now,
            now.plus_millis(self.config.session_ttl_ms),
        );
        session.findings_mut().upload_digest = Some(digest.clone());
        match self.platform.sessions().save(&session, None).await {
            Ok(_) => {}
            Err(PortError::Conflict) => {
                // Another request with the same key won the race.
                let (existing, _) = self
                    .platform
                    .sessions()
                    .load(&id)
                    .await?
                    .ok_or(ServiceError::Unavailable)?;
                return self.replayed_upload(&existing, &key, &digest);
            }
            Err(e) => return Err(e.into()),
        }
        self.audit(EventDraft::new(
            id,
            kyc_core::audit::EventKind::DocumentUploaded,
            now,
            self.config.actor.clone(),
        ))
        .await?;
        self.publish(id, DomainEventKind::DocumentUploaded, None)
            .await;
        Ok(Uploaded {
            verification_id: id,
            expires_at: session.expires_at(),
            replayed: false,
        })
    }

    fn replayed_upload(
        &self,
        existing: &Session,
        key: &StepKey,
        digest: &str,
    ) -> Result<Uploaded, ServiceError> {
        let same_key = matches!(
            existing.history().first(),
            Some(Step::UploadDocument { idempotency_key }) if idempotency_key == key
        );
        if !same_key || existing.findings().upload_digest.as_deref() != Some(digest) {
            return Err(ServiceError::IdempotencyKeyReused);
        }
        if existing.state().name() == StateName::Erased {
            return Err(ServiceError::Erased);
        }
        Ok(Uploaded {
            verification_id: existing.verification_id(),
            expires_at: existing.expires_at(),
            replayed: true,
        })
    }

    /// Step 2: reads the uploaded document (the OCR worker; in AWS the S3 event's function).
    /// Idempotent: a session past `documentUploaded` is left alone. Returns whether it read
    /// anything usable.
    pub async fn read_document(&self, id: &VerificationId) -> Result<bool, ServiceError> {
        let (session, _) = self.load(id).await?;
        if session.state().name() != StateName::DocumentUploaded {
            return Ok(session.checks().document_read);
        }
        let bytes = self
            .platform
            .objects()
            .get(&ObjectKey::id_upload(id))
            .await?
            .ok_or(ServiceError::NotFound)?;
        let image = Image::parse(bytes, usize::MAX).map_err(|_| ServiceError::InvalidImage)?;
        let now = self.now();
        let reading = match self.platform.reader().read(&image).await {
            Ok(r) => Some(r),
            Err(ReadError::InvalidImage | ReadError::PoorQuality) => None,
            Err(ReadError::Backend(e)) => return Err(e.into()),
            Err(_) => None,
        };
        let assessment = reading.as_ref().map(|r| assess(r, now.date()));
        let record = assessment
            .as_ref()
            .map_or_else(unreadable_record, record_of);
        self.platform
            .records()
            .put(id, &record, now, now.plus_millis(self.config.record_ttl_ms))
            .await?;
        let outcome = if record.readable {
            ReadOutcome::Readable
        } else {
            ReadOutcome::Unreadable
        };
        let applied = self
            .mutate(id, |s, now| {
                s.apply(Step::ReadDocument { outcome }, now)
                    .map(|t| matches!(t, Transition::Applied { .. }))
            })
            .await?;
        if applied {
            let mut draft = EventDraft::new(
                *id,
                Step::ReadDocument { outcome }.event_kind(),
                now,
                self.config.actor.clone(),
            );
            if let Some(a) = &assessment {
                draft = draft.with_personal(
                    PersonalData::from_document_fields(&a.fields),
                    Salt::generate(self.platform.random()),
                );
            }
            self.audit(draft).await?;
            self.publish(*id, DomainEventKind::DocumentRead, None).await;
        }
        if !record.readable {
            self.decide(id).await?;
        }
        Ok(record.readable)
    }

    /// Step 5: screens the subject read from the document (in AWS: the `KycOcrData` stream's
    /// function). Idempotent: a screened session is left alone. A provider failure is an
    /// error (the caller retries), unless `record_failure` is set, in which case it is recorded
    /// as `Unavailable` evidence (the decision goes to review).
    pub async fn screen(
        &self,
        id: &VerificationId,
        record_failure: bool,
    ) -> Result<(), ServiceError> {
        let (session, _) = self.load(id).await?;
        if session.findings().screening.is_some() || !session.checks().document_read {
            return Ok(());
        }
        let now = self.now();
        let record = self
            .platform
            .records()
            .get(id, now)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let finding = match self
            .platform
            .screener()
            .screen(&query_of(&record.subject), &self.config.screening)
            .await
        {
            Ok(result) => finding_of(&result),
            Err(_) if record_failure => unavailable_finding(),
            Err(_) => return Err(ServiceError::Unavailable),
        };
        let step_outcome = match finding.status {
            SanctionsEvidence::Clear => Some(ScreeningOutcome::Clear),
            SanctionsEvidence::PotentialMatch | SanctionsEvidence::ConfirmedMatch => {
                Some(ScreeningOutcome::PossibleMatch)
            }
            SanctionsEvidence::Unavailable => None,
        };
        let matches = u32::try_from(finding.matches.len()).unwrap_or(u32::MAX);
        let applied = self
            .mutate(id, |s, now| {
                if s.findings().screening.is_some() {
                    return Ok(false);
                }
                if let Some(outcome) = step_outcome {
                    s.apply(Step::Screen { outcome }, now)?;
                }
                s.findings_mut().screening = Some(finding.clone());
                Ok(true)
            })
            .await?;
        if applied {
            let draft = EventDraft::new(
                *id,
                kyc_core::audit::EventKind::SanctionsScreened,
                now,
                self.config.actor.clone(),
            )
            .with_detail("matches", matches)
            .map_err(|_| ServiceError::Internal("audit detail"))?;
            self.audit(draft).await?;
            self.decide(id).await?;
        }
        Ok(())
    }

    /// Step 3a: issues a liveness challenge (replacing an open one).
    pub async fn start_liveness(&self, id: &VerificationId) -> Result<ChallengeView, ServiceError> {
        let policy = self.config.challenge.clone();
        let random = self.platform.random();
        let mut issued = None;
        self.mutate(id, |s, now| {
            if s.state().name() == StateName::DocumentUploaded {
                return Err(SessionError::InvalidTransition {
                    from: StateName::DocumentUploaded,
                    step: kyc_core::session::StepName::IssueChallenge,
                });
            }
            let c = Challenge::issue(&policy, random, now);
            let nonce = StepKey::parse(&c.nonce().to_string()).map_err(|_| {
                SessionError::InvalidTransition {
                    from: s.state().name(),
                    step: kyc_core::session::StepName::IssueChallenge,
                }
            })?;
            s.apply(Step::IssueChallenge { nonce }, now)?;
            let f = s.findings_mut();
            f.challenge = Some(c.clone());
            f.frames.clear();
            f.liveness = None;
            issued = Some(c);
            Ok(())
        })
        .await
        .map_err(|e| match e {
            ServiceError::InvalidState(StateName::DocumentUploaded) => {
                ServiceError::DocumentPending
            }
            other => other,
        })?;
        let c = issued.ok_or(ServiceError::Internal("challenge"))?;
        self.audit(EventDraft::new(
            *id,
            kyc_core::audit::EventKind::LivenessChallengeIssued,
            c.issued_at(),
            self.config.actor.clone(),
        ))
        .await?;
        self.publish(*id, DomainEventKind::LivenessStarted, None)
            .await;
        Ok(c.to_api())
    }

    /// Step 3b: one frame of the open challenge. The image must already be checked and
    /// stripped. When the challenge completes (or its deadline passed), liveness is evaluated
    /// and, if it passed, the face match runs.
    pub async fn submit_frame(
        &self,
        id: &VerificationId,
        nonce: &Nonce,
        frame_id: &FrameId,
        captured_at: Timestamp,
        image: Vec<u8>,
        content_type: &'static str,
    ) -> Result<FrameAccepted, ServiceError> {
        let (session, _) = self.load(id).await?;
        let now = self.now();
        let challenge = self.open_challenge(&session, nonce, now)?;
        if let Some(done) = self.frame_replay(&session, frame_id) {
            return Ok(done);
        }
        let frame_key =
            ObjectKey::live_frame(id, frame_id.as_str()).ok_or(ServiceError::InvalidFrameId)?;
        let img =
            Image::parse(image.clone(), usize::MAX).map_err(|_| ServiceError::InvalidImage)?;
        let analysis = match self.platform.faces().analyze(&img).await {
            Ok(a) => a,
            Err(FaceError::InvalidImage) => return Err(ServiceError::InvalidImage),
            Err(FaceError::Backend(e)) => return Err(e.into()),
            Err(_) => return Err(ServiceError::InvalidImage),
        };
        let observation = FrameObservation {
            frame_id: frame_id.clone(),
            nonce: *nonce,
            captured_at,
            received_at: now,
            face_count: analysis.quality.face_count,
            face: analysis.observation,
        };
        // Check admission against the stored frames before anything is stored.
        let mut tracker = LivenessTracker::resume(
            challenge.clone(),
            self.config.liveness.clone(),
            session.findings().frames.iter().cloned(),
        )
        .map_err(|_| ServiceError::Internal("stored frames"))?;
        tracker.submit(observation.clone()).map_err(|r| {
            ServiceError::FrameRejected(r.reason().map_or("CHALLENGE_COMPLETE", |r| r.code()))
        })?;
        self.platform
            .objects()
            .put(&frame_key, image, content_type)
            .await?;
        let nonce_key =
            StepKey::parse(&nonce.to_string()).map_err(|_| ServiceError::Internal("nonce"))?;
        let frame_step_key =
            StepKey::parse(frame_id.as_str()).map_err(|_| ServiceError::InvalidFrameId)?;
        let liveness = self.config.liveness.clone();
        let mut result = None;
        self.mutate(id, |s, now| {
            let t = s.apply(
                Step::AcceptFrame {
                    nonce: nonce_key.clone(),
                    frame_id: frame_step_key.clone(),
                },
                now,
            )?;
            let mut tracker = LivenessTracker::resume(
                challenge.clone(),
                liveness.clone(),
                s.findings().frames.iter().cloned(),
            )
            .map_err(|_| SessionError::StaleChallenge)?;
            let replayed = matches!(t, Transition::Replayed);
            let progress = if replayed {
                tracker.progress()
            } else {
                let p = tracker
                    .submit(observation.clone())
                    .map_err(|_| SessionError::StaleChallenge)?;
                s.findings_mut().frames.push(observation.clone());
                p
            };
            let mut done = false;
            if progress.complete
                || tracker.frames().len()
                    >= usize::from(kyc_core::session::MAX_FRAMES_PER_CHALLENGE)
            {
                let outcome = tracker.outcome(now);
                s.apply(
                    Step::CompleteLiveness {
                        nonce: nonce_key.clone(),
                        passed: outcome.passed,
                    },
                    now,
                )?;
                s.findings_mut().liveness = Some(outcome);
                done = true;
            }
            result = Some(FrameAccepted {
                replayed,
                progress,
                liveness_done: done,
            });
            Ok(())
        })
        .await?;
        let result = result.ok_or(ServiceError::Internal("frame"))?;
        if !result.replayed {
            self.audit(
                EventDraft::new(
                    *id,
                    kyc_core::audit::EventKind::FrameAccepted,
                    now,
                    self.config.actor.clone(),
                )
                .with_detail("faces", observation.face_count)
                .map_err(|_| ServiceError::Internal("audit detail"))?,
            )
            .await?;
        }
        if result.liveness_done {
            self.after_liveness(id).await?;
        }
        Ok(result)
    }

    fn open_challenge(
        &self,
        session: &Session,
        nonce: &Nonce,
        now: Timestamp,
    ) -> Result<Challenge, ServiceError> {
        match session.state().name() {
            StateName::Erased => return Err(ServiceError::Erased),
            StateName::Expired => return Err(ServiceError::Expired),
            _ if now >= session.expires_at() && session.is_unfinished() => {
                return Err(ServiceError::Expired)
            }
            _ => {}
        }
        let challenge = session
            .findings()
            .challenge
            .clone()
            .ok_or(ServiceError::InvalidState(session.state().name()))?;
        if !challenge.nonce().ct_eq(nonce) {
            return Err(ServiceError::StaleChallenge);
        }
        Ok(challenge)
    }

    fn frame_replay(&self, session: &Session, frame_id: &FrameId) -> Option<FrameAccepted> {
        let f = session.findings();
        if !f.frames.iter().any(|o| &o.frame_id == frame_id) {
            return None;
        }
        let challenge = f.challenge.clone()?;
        let tracker = LivenessTracker::resume(
            challenge,
            self.config.liveness.clone(),
            f.frames.iter().cloned(),
        )
        .ok()?;
        Some(FrameAccepted {
            replayed: true,
            progress: tracker.progress(),
            liveness_done: f.liveness.is_some(),
        })
    }

    /// Evaluates an open challenge whose deadline passed (a client that stopped sending).
    async fn complete_expired_challenge(&self, id: &VerificationId) -> Result<(), ServiceError> {
        let liveness = self.config.liveness.clone();
        let completed = self
            .mutate(id, |s, now| {
                let Some(challenge) = s.findings().challenge.clone() else {
                    return Ok(false);
                };
                if s.state().name() != StateName::LivenessChallenged || !challenge.is_expired(now) {
                    return Ok(false);
                }
                let outcome =
                    kyc_core::liveness::verify(&challenge, &s.findings().frames, &liveness, now);
                let nonce = StepKey::parse(&challenge.nonce().to_string())
                    .map_err(|_| SessionError::StaleChallenge)?;
                s.apply(
                    Step::CompleteLiveness {
                        nonce,
                        passed: outcome.passed,
                    },
                    now,
                )?;
                s.findings_mut().liveness = Some(outcome);
                Ok(true)
            })
            .await?;
        if completed {
            self.after_liveness(id).await?;
        }
        Ok(())
    }

    async fn after_liveness(&self, id: &VerificationId) -> Result<(), ServiceError> {
        let (session, _) = self.load(id).await?;
        let now = self.now();
        let passed = session
            .findings()
            .liveness
            .as_ref()
            .is_some_and(|l| l.passed);
        self.audit(
            EventDraft::new(
                *id,
                kyc_core::audit::EventKind::LivenessEvaluated,
                now,
                self.config.actor.clone(),
            )
            .with_detail("passed", passed)
            .map_err(|_| ServiceError::Internal("audit detail"))?,
        )
        .await?;
        self.publish(*id, DomainEventKind::LivenessCompleted, None)
            .await;
        if passed {
            self.match_face(id, &session).await?;
        }
        self.decide(id).await
    }

    /// Step 4: compares the document portrait with the best live frames.
    async fn match_face(&self, id: &VerificationId, session: &Session) -> Result<(), ServiceError> {
        let reference = self
            .platform
            .objects()
            .get(&ObjectKey::id_upload(id))
            .await?
            .ok_or(ServiceError::NotFound)?;
        let reference =
            Image::parse(reference, usize::MAX).map_err(|_| ServiceError::InvalidImage)?;
        // The most frontal frames with exactly one face.
        let mut frames: Vec<&FrameObservation> = session
            .findings()
            .frames
            .iter()
            .filter(|f| f.face_count == 1 && f.face.is_some())
            .collect();
        frames.sort_by(|a, b| {
            let tilt = |f: &FrameObservation| {
                f.face
                    .as_ref()
                    .map_or(f32::MAX, |o| o.pose.yaw().abs() + o.pose.pitch().abs())
            };
            tilt(a).total_cmp(&tilt(b))
        });
        let mut comparisons = Vec::new();
        let mut reference_quality = None;
        for f in frames.into_iter().take(FRAMES_TO_COMPARE) {
            let Some(key) = ObjectKey::live_frame(id, f.frame_id.as_str()) else {
                continue;
            };
            let Some(bytes) = self.platform.objects().get(&key).await? else {
                continue;
            };
            let Ok(probe) = Image::parse(bytes, usize::MAX) else {
                continue;
            };
            match self.platform.faces().compare(&reference, &probe).await {
                Ok(c) => {
                    reference_quality.get_or_insert(c.reference);
                    comparisons.push(FrameComparison {
                        quality: c.probe,
                        similarity: c.similarity,
                    });
                }
                Err(FaceError::NoFaceDetected | FaceError::InvalidImage) => {}
                Err(FaceError::Backend(e)) => return Err(e.into()),
                Err(_) => {}
            }
        }
        let finding = match reference_quality {
            Some(q) => match evaluate(&self.config.face_match, &q, &comparisons) {
                Ok(o) => FaceMatchFinding::Compared(o),
                Err(e) => FaceMatchFinding::QualityRejected {
                    reasons: vec![e.to_string()],
                },
            },
            None => FaceMatchFinding::QualityRejected {
                reasons: vec!["no face could be compared".into()],
            },
        };
        let matched = matches!(&finding, FaceMatchFinding::Compared(o) if o.matched);
        let applied = self
            .mutate(id, |s, now| {
                if s.findings().face_match.is_some() {
                    return Ok(false);
                }
                s.apply(Step::MatchFace { matched }, now)?;
                s.findings_mut().face_match = Some(finding.clone());
                Ok(true)
            })
            .await?;
        if applied {
            let mut draft = EventDraft::new(
                *id,
                kyc_core::audit::EventKind::FaceMatched,
                self.now(),
                self.config.actor.clone(),
            )
            .with_detail("match", matched)
            .map_err(|_| ServiceError::Internal("audit detail"))?;
            if let FaceMatchFinding::Compared(o) = &finding {
                draft = draft
                    .with_detail(
                        "similarity",
                        kyc_core::audit::DetailValue::float(f64::from(o.similarity.value()))
                            .map_err(|_| ServiceError::Internal("audit detail"))?,
                    )
                    .map_err(|_| ServiceError::Internal("audit detail"))?;
            }
            self.audit(draft).await?;
        }
        Ok(())
    }

    /// Step 6: decides when the evidence allows (nothing pending), and records it.
    pub async fn decide(&self, id: &VerificationId) -> Result<(), ServiceError> {
        let now = self.now();
        let record = self.platform.records().get(id, now).await?;
        let policy = self.config.decision.clone();
        let mut decided = None;
        self.mutate(id, |s, now| {
            if s.findings().decision.is_some() || !s.is_unfinished() {
                return Ok(());
            }
            // The state machine decides only after the document proved unreadable or the
            // liveness step ended; evidence found earlier (a screening hit) waits for it.
            if !matches!(
                s.state().name(),
                StateName::DocumentUnreadable
                    | StateName::LivenessCompleted
                    | StateName::FaceMatched
            ) {
                return Ok(());
            }
            let mut decision = policy.decide(&evidence_of(s, record.as_ref()), now.date());
            let Some(outcome) = decision.outcome() else {
                return Ok(());
            };
            // A final decision lists what decided it, not the steps it made unnecessary.
            decision
                .reasons
                .retain(|r| r.effect != kyc_core::decision::Status::Pending);
            let policy_version = PolicyVersion::parse(&decision.policy_version)
                .map_err(|_| SessionError::ChecksIncomplete)?;
            // A session may only be approved when every check passed in the state machine.
            let outcome = if outcome == Outcome::Approved && !s.checks().all_passed() {
                Outcome::Review
            } else {
                outcome
            };
            s.apply(
                Step::Decide {
                    outcome,
                    policy_version,
                },
                now,
            )?;
            s.findings_mut().decision = Some(decision);
            decided = Some(outcome);
            Ok(())
        })
        .await?;
        if let Some(outcome) = decided {
            self.audit(
                EventDraft::new(
                    *id,
                    kyc_core::audit::EventKind::Decided,
                    now,
                    self.config.actor.clone(),
                )
                .with_detail(
                    "status",
                    kyc_core::audit::DetailValue::text(outcome.as_str())
                        .map_err(|_| ServiceError::Internal("audit detail"))?,
                )
                .map_err(|_| ServiceError::Internal("audit detail"))?,
            )
            .await?;
            self.publish(*id, DomainEventKind::Decided, Some(outcome.into()))
                .await;
        }
        Ok(())
    }

    /// The decision document. Moves the verification on first where time alone decides (an
    /// abandoned challenge, an expired session).
    pub async fn verification(
        &self,
        id: &VerificationId,
    ) -> Result<DecisionDocument, ServiceError> {
        let (session, _) = self.load(id).await?;
        let now = self.now();
        if session.state().name() == StateName::Erased {
            return Err(ServiceError::Erased);
        }
        if session.state().name() == StateName::LivenessChallenged
            && session
                .findings()
                .challenge
                .as_ref()
                .is_some_and(|c| c.is_expired(now))
        {
            self.complete_expired_challenge(id).await?;
        }
        if session.is_unfinished() && now >= session.expires_at() {
            // Persist the expiry (the state machine moves it on any step).
            let _ = self
                .mutate(id, |s, now| {
                    s.expire_if_due(now);
                    Ok(())
                })
                .await;
        }
        let (session, _) = self.load(id).await?;
        let record = self.platform.records().get(id, now).await?;
        let token = match session.outcome() {
            Some(Outcome::Approved) => Some(self.token(&session, now).await?),
            _ => None,
        };
        Ok(view::document(
            &session,
            record.as_ref(),
            &self.config,
            now,
            token,
        ))
    }

    async fn token(&self, session: &Session, now: Timestamp) -> Result<String, ServiceError> {
        let claims = VerifiedIdentityClaims::for_session(
            session,
            &self.config.issuer,
            now,
            self.platform.random(),
        )
        .map_err(|_| ServiceError::Internal("token claims"))?;
        let signer = self.platform.signer();
        // The key id from the public key: a signer that connects lazily (KMS) knows it only
        // after its first call.
        let key = signer
            .public_key()
            .await
            .map_err(|_| ServiceError::Unavailable)?;
        let input = signing_input(&JwtHeader::es256(key.kid()), &claims)
            .map_err(|_| ServiceError::Internal("token encoding"))?;
        let signature = signer
            .sign(input.as_bytes())
            .await
            .map_err(|_| ServiceError::Unavailable)?;
        Ok(assemble(&input, &signature))
    }

    /// The "ID plus selfie" comparison: no storage, the single-image policy.
    pub async fn compare(
        &self,
        selfie: &Image,
        document: &Image,
    ) -> Result<IpsResult, ServiceError> {
        let policy = FaceMatchPolicy::single_image();
        let c = match self.platform.faces().compare(document, selfie).await {
            Ok(c) => c,
            Err(FaceError::NoFaceDetected) => return Err(ServiceError::NoFace),
            Err(FaceError::InvalidImage) => return Err(ServiceError::InvalidImage),
            Err(FaceError::Backend(e)) => return Err(e.into()),
            Err(_) => return Err(ServiceError::InvalidImage),
        };
        for q in [&c.reference, &c.probe] {
            if let Err(r) = kyc_core::facematch::check_quality(q, &policy) {
                return Err(ServiceError::FaceQuality(r.code()));
            }
        }
        Ok(IpsResult {
            similarity: (c.similarity.value() * 10.0).round() / 10.0,
            matched: policy.is_match(c.similarity),
            threshold: policy.settings().threshold.value(),
        })
    }

    /// One offline verification without liveness (`kyc verify`): the document is read and
    /// assessed, its holder screened, its portrait compared with the selfie under the
    /// single-image policy, and the decision policy without liveness decides. Nothing is
    /// stored.
    pub async fn verify_offline(
        &self,
        document: &Image,
        selfie: &Image,
    ) -> Result<OfflineVerification, ServiceError> {
        let now = self.now();
        let reading = match self.platform.reader().read(document).await {
            Ok(r) => Some(r),
            Err(ReadError::Backend(e)) => return Err(e.into()),
            Err(_) => None,
        };
        let record = reading
            .as_ref()
            .map_or_else(unreadable_record, |r| record_of(&assess(r, now.date())));
        let screening = if record.readable && !record.subject.name.is_empty() {
            let result = self
                .platform
                .screener()
                .screen(&query_of(&record.subject), &self.config.screening)
                .await
                .map_err(|_| ServiceError::Unavailable)?;
            finding_of(&result)
        } else {
            unavailable_finding()
        };
        let policy = FaceMatchPolicy::single_image();
        let face_match = match self.platform.faces().compare(document, selfie).await {
            Ok(c) => match evaluate(
                &policy,
                &c.reference,
                &[FrameComparison {
                    quality: c.probe,
                    similarity: c.similarity,
                }],
            ) {
                Ok(o) => FaceMatchFinding::Compared(o),
                Err(e) => FaceMatchFinding::QualityRejected {
                    reasons: vec![e.to_string()],
                },
            },
            Err(FaceError::Backend(e)) => return Err(e.into()),
            Err(_) => FaceMatchFinding::QualityRejected {
                reasons: vec!["no face detected".into()],
            },
        };
        let evidence = Evidence {
            document: Some(record.evidence.clone()),
            liveness: None,
            face_match: Some(match &face_match {
                FaceMatchFinding::Compared(o) => FaceMatchEvidence::from(o),
                FaceMatchFinding::QualityRejected { .. } => FaceMatchEvidence::QualityRejected,
            }),
            sanctions: Some(screening.status),
        };
        let decision = self
            .config
            .decision
            .clone()
            .without_liveness()
            .decide(&evidence, now.date());
        Ok(OfflineVerification {
            decision,
            record,
            face_match,
            screening,
        })
    }

    /// Erasure: images, frames, the OCR record and the audit log's personal values go; the
    /// session stays as `erased` (no personal data) so the id answers 410 afterwards.
    pub async fn erase(&self, id: &VerificationId) -> Result<(), ServiceError> {
        let (_, _) = self.load_any(id).await?;
        self.platform.objects().delete_all(id).await?;
        self.platform.records().delete(id).await?;
        let now = self.now();
        let applied = self
            .mutate_any(id, |s, now| {
                let t = s.apply(Step::Erase, now);
                let f = s.findings_mut();
                f.frames.clear();
                f.challenge = None;
                f.upload_digest = None;
                f.screening = None;
                Ok(matches!(t, Ok(Transition::Applied { .. })))
            })
            .await?;
        self.platform
            .audit()
            .redact(*id)
            .await
            .map_err(|_| ServiceError::Unavailable)?;
        if applied {
            self.audit(EventDraft::new(
                *id,
                kyc_core::audit::EventKind::Erased,
                now,
                self.config.actor.clone(),
            ))
            .await?;
            self.publish(*id, DomainEventKind::Erased, None).await;
        }
        Ok(())
    }

    // ----------------------------------------------------------------------------------------

    async fn load(&self, id: &VerificationId) -> Result<(Session, Version), ServiceError> {
        let (s, v) = self.load_any(id).await?;
        if s.state().name() == StateName::Erased {
            return Err(ServiceError::Erased);
        }
        Ok((s, v))
    }

    async fn load_any(&self, id: &VerificationId) -> Result<(Session, Version), ServiceError> {
        self.platform
            .sessions()
            .load(id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Load, change, save with the loaded version; from the top again when another writer
    /// won. A session error is saved too when it moved the session (expiry wins).
    async fn mutate<T>(
        &self,
        id: &VerificationId,
        change: impl FnMut(&mut Session, Timestamp) -> Result<T, SessionError>,
    ) -> Result<T, ServiceError> {
        self.mutate_with(id, false, change).await
    }

    /// [`mutate`](Self::mutate) that also works on an erased session.
    async fn mutate_any<T>(
        &self,
        id: &VerificationId,
        change: impl FnMut(&mut Session, Timestamp) -> Result<T, SessionError>,
    ) -> Result<T, ServiceError> {
        self.mutate_with(id, true, change).await
    }

    async fn mutate_with<T>(
        &self,
        id: &VerificationId,
        erased_too: bool,
        mut change: impl FnMut(&mut Session, Timestamp) -> Result<T, SessionError>,
    ) -> Result<T, ServiceError> {
        for _ in 0..SAVE_ATTEMPTS {
            let (mut session, version) = if erased_too {
                self.load_any(id).await?
            } else {
                self.load(id).await?
            };
            let before = session.clone();
            let now = self.now();
            let result = change(&mut session, now);
            if session != before {
                match self.platform.sessions().save(&session, Some(version)).await {
                    Ok(_) => {}
                    Err(PortError::Conflict) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            return result.map_err(ServiceError::from);
        }
        Err(ServiceError::Busy)
    }

    async fn audit(&self, draft: EventDraft) -> Result<(), ServiceError> {
        append_with_retry(self.platform.audit(), draft, AUDIT_ATTEMPTS)
            .await
            .map(|_| ())
            .map_err(|_| ServiceError::Unavailable)
    }

    /// Events are notifications: a failure to publish is logged, not fatal (the audit log is
    /// the record).
    async fn publish(
        &self,
        id: VerificationId,
        kind: DomainEventKind,
        status: Option<kyc_core::decision::Status>,
    ) {
        let event = DomainEvent {
            verification_id: id,
            kind,
            at: self.now(),
            status,
        };
        if let Err(e) = self.platform.events().publish(&event).await {
            tracing::warn!(error = %e, "domain event not published");
        }
    }
}

/// The decision engine's view of a session and its record.
fn evidence_of(s: &Session, record: Option<&DocumentRecord>) -> Evidence {
    let f = s.findings();
    Evidence {
        document: record.map(|r| r.evidence.clone()),
        liveness: f
            .liveness
            .as_ref()
            .map(|l| LivenessEvidence { passed: l.passed }),
        face_match: f.face_match.as_ref().map(|m| match m {
            FaceMatchFinding::Compared(o) => FaceMatchEvidence::from(o),
            FaceMatchFinding::QualityRejected { .. } => FaceMatchEvidence::QualityRejected,
        }),
        sanctions: f.screening.as_ref().map(|x| x.status),
    }
}

/// The record of an assessment.
pub fn record_of(a: &DocumentAssessment) -> DocumentRecord {
    let evidence = DocumentEvidence::from_assessment(a, REQUIRED_FIELDS);
    let f = &a.fields;
    let name = [
        f.given_names.as_ref().map(|n| n.value.as_str().to_owned()),
        f.surname.as_ref().map(|n| n.value.as_str().to_owned()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let readable = a.mrz.is_some() || !a.fields.present().is_empty();
    DocumentRecord {
        view: view::document_view(a),
        evidence,
        readable,
        subject: Subject {
            name,
            birth_date: f.birth_date.as_ref().map(|d| d.value.date()),
            nationality: f.nationality.as_ref().map(|c| c.value.to_string()),
        },
    }
}

fn unreadable_record() -> DocumentRecord {
    DocumentRecord {
        view: serde_json::json!({"fields": {}, "mrz": null}),
        evidence: DocumentEvidence {
            mrz: kyc_core::decision::MrzEvidence::Absent,
            expiry: None,
            birth_date: None,
            fields_disagreeing: Vec::new(),
            required_fields_missing: REQUIRED_FIELDS
                .iter()
                .map(|f: &FieldName| f.as_str().to_owned())
                .collect(),
        },
        readable: false,
        subject: Subject::default(),
    }
}

/// The screening summary of a result: the entries at or above the alert threshold.
fn finding_of(result: &kyc_core::sanctions::ScreeningResult) -> ScreeningFinding {
    let matches: Vec<ScreeningMatch> = result
        .matches
        .iter()
        .filter(|m| m.is_match)
        .map(|m| ScreeningMatch {
            entity_id: m.entity_id.clone(),
            list: m.list.to_string(),
            name: m.name.clone(),
            score: m.score,
        })
        .collect();
    ScreeningFinding {
        status: if matches.is_empty() {
            SanctionsEvidence::Clear
        } else {
            SanctionsEvidence::PotentialMatch
        },
        matches,
        list_version: result.list_version.as_str().to_owned(),
    }
}

/// Screening that could not run (the decision goes to review).
fn unavailable_finding() -> ScreeningFinding {
    ScreeningFinding {
        status: SanctionsEvidence::Unavailable,
        matches: Vec::new(),
        list_version: String::new(),
    }
}

fn query_of(s: &Subject) -> ScreeningQuery {
    ScreeningQuery {
        name: s.name.clone(),
        birth_date: s.birth_date.map(|date| BirthDateFact::Exact { date }),
        nationality: s.nationality.as_deref().and_then(country_from_text),
    }
}
