//! The decision engine: the evidence of one verification (document validity, liveness, face
//! match, sanctions) in; `approved` / `rejected` / `review` / `pending` out, with
//! machine-readable reason codes and the version of the policy that decided.
//!
//! The engine takes *summaries* of each step's outcome ([`DocumentEvidence`],
//! [`LivenessEvidence`], [`FaceMatchEvidence`], [`SanctionsEvidence`]) so that it does not
//! depend on how each step was computed (Rekognition or dlib, Textract or Tesseract, the
//! built-in screening engine or a third-party API). Every rule is in [`DecisionPolicy::decide`];
//! read it top to bottom.
//!
//! ```
//! use kyc_core::decision::*;
//! use kyc_core::model::{Date, Similarity, Threshold};
//! let today = Date::parse("2026-11-21").unwrap();
//! let evidence = Evidence {
//!     document: Some(DocumentEvidence {
//!         mrz: MrzEvidence::Valid,
//!         expiry: Some(Date::parse("2030-01-01").unwrap()),
//!         birth_date: Some(Date::parse("1990-05-04").unwrap()),
//!         fields_disagreeing: vec![],
//!         required_fields_missing: vec![],
//!     }),
//!     liveness: Some(LivenessEvidence { passed: true }),
//!     face_match: Some(FaceMatchEvidence::Compared {
//!         similarity: Similarity::parse(97.0).unwrap(),
//!         threshold: Threshold::DEFAULT,
//!     }),
//!     sanctions: Some(SanctionsEvidence::Clear),
//! };
//! let d = DecisionPolicy::default().decide(&evidence, today);
//! assert_eq!(d.status, Status::Approved);
//! assert!(d.reasons.is_empty());
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{Date, Similarity, Threshold};

/// The outcome of a verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every required check passed.
    Approved,
    /// Evidence is still missing (a step has not run yet).
    Pending,
    /// A human must look: the evidence is inconclusive.
    Review,
    /// A check failed in a way no reviewer should override.
    Rejected,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Approved => "approved",
            Self::Pending => "pending",
            Self::Review => "review",
            Self::Rejected => "rejected",
        })
    }
}

/// Machine-readable reasons, serialised in `SCREAMING_SNAKE_CASE` (stable API values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ReasonCode {
    /// The document has not been read yet.
    DocumentPending,
    /// No usable field could be read from the document.
    DocumentUnreadable,
    /// The document carries no machine-readable zone and the policy requires one.
    MrzMissing,
    /// An MRZ check digit failed (after any repair).
    MrzCheckFailed,
    /// OCR repair of the MRZ left more than one valid reading.
    MrzAmbiguous,
    /// The document's expiry date has passed.
    DocumentExpired,
    /// The document's expiry date could not be read.
    ExpiryUnknown,
    /// Printed fields and MRZ disagree.
    DocumentFieldsDisagree,
    /// A field the policy requires is missing.
    RequiredFieldMissing,
    /// The holder is younger than the policy's minimum age.
    Underage,
    /// The liveness step has not completed yet.
    LivenessPending,
    /// The liveness challenge was not passed.
    LivenessFailed,
    /// The face comparison has not run yet.
    FaceMatchPending,
    /// The faces compared are below the similarity threshold.
    FaceMismatch,
    /// The images did not pass the quality gate, so no comparison was possible.
    FaceQualityInsufficient,
    /// Screening has not run yet.
    SanctionsPending,
    /// Screening found a possible match above the alert threshold.
    SanctionsPotentialMatch,
    /// A reviewer confirmed a sanctions match.
    SanctionsConfirmedMatch,
    /// Screening could not be performed.
    SanctionsUnavailable,
}

/// What the MRZ step established.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MrzEvidence {
    /// Every check digit passed.
    Valid,
    /// Repair found several readings that all pass.
    Ambiguous,
    /// At least one check digit failed.
    Invalid,
    /// No MRZ was found on the document.
    Absent,
}

/// Summary of document reading and validation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentEvidence {
    /// MRZ outcome.
    pub mrz: MrzEvidence,
    /// The expiry date read (merged record), if any.
    pub expiry: Option<Date>,
    /// The date of birth read (merged record), if any. Used only for the age rule.
    pub birth_date: Option<Date>,
    /// Names of fields (e.g. `"documentNumber"`) where printed text and MRZ disagree.
    pub fields_disagreeing: Vec<String>,
    /// Names of required fields that could not be read.
    pub required_fields_missing: Vec<String>,
}

/// Summary of the liveness step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivenessEvidence {
    /// Whether the challenge was passed.
    pub passed: bool,
}

/// Summary of the face comparison.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum FaceMatchEvidence {
    /// Faces were compared; the aggregated similarity and the threshold it was held to.
    Compared {
        /// Aggregated similarity.
        similarity: Similarity,
        /// Threshold of the face-match policy.
        threshold: Threshold,
    },
    /// The quality gate refused the images.
    QualityRejected,
}

/// Summary of sanctions screening.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SanctionsEvidence {
    /// No result at or above the alert threshold (or all suppressed by a reviewer).
    Clear,
    /// At least one result at or above the alert threshold.
    PotentialMatch,
    /// A reviewer confirmed a match.
    ConfirmedMatch,
    /// The screening provider failed.
    Unavailable,
}

/// Everything known about one verification; `None` means the step has not run yet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Document reading.
    pub document: Option<DocumentEvidence>,
    /// Liveness.
    pub liveness: Option<LivenessEvidence>,
    /// Face match.
    pub face_match: Option<FaceMatchEvidence>,
    /// Sanctions screening.
    pub sanctions: Option<SanctionsEvidence>,
}

/// A reason with the status it pushes the decision to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// The status this reason alone leads to.
    pub effect: Status,
}

/// The decision document's core.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The outcome: the most severe effect among the reasons (`approved` when there are none).
    pub status: Status,
    /// Every reason found, most severe first, then by code.
    pub reasons: Vec<Reason>,
    /// The version of the policy that decided.
    pub policy_version: String,
}

impl Decision {
    /// The reason codes alone, in order.
    pub fn codes(&self) -> Vec<ReasonCode> {
        self.reasons.iter().map(|r| r.code).collect()
    }
}

/// The rules and their parameters, versioned so a decision can be explained later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionPolicy {
    /// Identifies this policy in decision documents and audit events.
    pub version: String,
    /// Whether a document without MRZ can be approved (`false`: it goes to review).
    pub require_mrz: bool,
    /// Whether liveness is required (the offline `kyc verify` runs without it).
    pub require_liveness: bool,
    /// Minimum age in whole years on the decision date, if any.
    pub minimum_age: Option<u8>,
    /// Effect of printed/MRZ disagreement (`review` by default: OCR misreads happen).
    pub disagreement_effect: Status,
    /// Effect of a face-quality rejection (`review` by default: the user may retry).
    pub face_quality_effect: Status,
}

impl Default for DecisionPolicy {
    fn default() -> Self {
        Self {
            version: "decision-2026.11".into(),
            require_mrz: true,
            require_liveness: true,
            minimum_age: Some(18),
            disagreement_effect: Status::Review,
            face_quality_effect: Status::Review,
        }
    }
}

impl DecisionPolicy {
    /// The policy for offline verifications without liveness (`kyc verify`).
    pub fn without_liveness(mut self) -> Self {
        self.require_liveness = false;
        self
    }

    /// Decides on `evidence` as of `today` (the caller's clock, UTC date).
    pub fn decide(&self, evidence: &Evidence, today: Date) -> Decision {
        let mut reasons = Vec::new();
        let mut add = |code, effect| reasons.push(Reason { code, effect });

        match &evidence.document {
            None => add(ReasonCode::DocumentPending, Status::Pending),
            Some(doc) => {
                match doc.mrz {
                    MrzEvidence::Valid => {}
                    MrzEvidence::Ambiguous => add(ReasonCode::MrzAmbiguous, Status::Review),
                    MrzEvidence::Invalid => add(ReasonCode::MrzCheckFailed, Status::Rejected),
                    MrzEvidence::Absent if self.require_mrz => {
                        add(ReasonCode::MrzMissing, Status::Review)
                    }
                    MrzEvidence::Absent => {}
                }
                match doc.expiry {
                    Some(expiry) if today > expiry => {
                        add(ReasonCode::DocumentExpired, Status::Rejected)
                    }
                    Some(_) => {}
                    None => add(ReasonCode::ExpiryUnknown, Status::Review),
                }
                if !doc.fields_disagreeing.is_empty() {
                    add(ReasonCode::DocumentFieldsDisagree, self.disagreement_effect);
                }
                if !doc.required_fields_missing.is_empty() {
                    add(ReasonCode::RequiredFieldMissing, Status::Review);
                }
                if let (Some(min), Some(born)) = (self.minimum_age, doc.birth_date) {
                    if born.years_until(today) < i32::from(min) {
                        add(ReasonCode::Underage, Status::Rejected);
                    }
                }
                if doc.mrz == MrzEvidence::Absent
                    && doc.expiry.is_none()
                    && doc.birth_date.is_none()
                {
                    add(ReasonCode::DocumentUnreadable, Status::Rejected);
                }
            }
        }

        match evidence.liveness {
            None if self.require_liveness => add(ReasonCode::LivenessPending, Status::Pending),
            None => {}
            Some(LivenessEvidence { passed: true }) => {}
            Some(LivenessEvidence { passed: false }) => {
                add(ReasonCode::LivenessFailed, Status::Rejected)
            }
        }

        match evidence.face_match {
            None => add(ReasonCode::FaceMatchPending, Status::Pending),
            Some(FaceMatchEvidence::Compared {
                similarity,
                threshold,
            }) => {
                if !similarity.meets(threshold) {
                    add(ReasonCode::FaceMismatch, Status::Rejected);
                }
            }
            Some(FaceMatchEvidence::QualityRejected) => add(
                ReasonCode::FaceQualityInsufficient,
                self.face_quality_effect,
            ),
        }

        match evidence.sanctions {
            None => add(ReasonCode::SanctionsPending, Status::Pending),
            Some(SanctionsEvidence::Clear) => {}
            Some(SanctionsEvidence::PotentialMatch) => {
                add(ReasonCode::SanctionsPotentialMatch, Status::Review)
            }
            Some(SanctionsEvidence::ConfirmedMatch) => {
                add(ReasonCode::SanctionsConfirmedMatch, Status::Rejected)
            }
            Some(SanctionsEvidence::Unavailable) => {
                add(ReasonCode::SanctionsUnavailable, Status::Review)
            }
        }

        // Most severe first (Rejected > Review > Pending), then by code for a stable order.
        reasons.sort_by(|a, b| b.effect.cmp(&a.effect).then(a.code.cmp(&b.code)));
        reasons.dedup();
        let status = reasons.first().map_or(Status::Approved, |r| r.effect);
        Decision {
            status,
            reasons,
            policy_version: self.version.clone(),
        }
    }
}

impl From<crate::session::Outcome> for Status {
    fn from(o: crate::session::Outcome) -> Self {
        match o {
            crate::session::Outcome::Approved => Self::Approved,
            crate::session::Outcome::Rejected => Self::Rejected,
            crate::session::Outcome::Review => Self::Review,
        }
    }
}

impl Decision {
    /// The session outcome this decision records, or `None` while it is still pending.
    pub fn outcome(&self) -> Option<crate::session::Outcome> {
        match self.status {
            Status::Approved => Some(crate::session::Outcome::Approved),
            Status::Rejected => Some(crate::session::Outcome::Rejected),
            Status::Review => Some(crate::session::Outcome::Review),
            Status::Pending => None,
        }
    }
}

impl From<&crate::liveness::LivenessOutcome> for LivenessEvidence {
    fn from(o: &crate::liveness::LivenessOutcome) -> Self {
        Self { passed: o.passed }
    }
}

impl From<&crate::facematch::FaceMatchOutcome> for FaceMatchEvidence {
    fn from(o: &crate::facematch::FaceMatchOutcome) -> Self {
        Self::Compared {
            similarity: o.similarity,
            threshold: o.threshold,
        }
    }
}

impl FaceMatchEvidence {
    /// The evidence of a face-match evaluation, whether it compared faces or the quality gate
    /// refused the images.
    pub fn from_evaluation(
        r: &Result<crate::facematch::FaceMatchOutcome, crate::facematch::FaceMatchError>,
    ) -> Self {
        match r {
            Ok(o) => o.into(),
            Err(_) => Self::QualityRejected,
        }
    }
}

impl DocumentEvidence {
    /// The evidence of a document assessment; `required` lists the fields the verification
    /// needs (usually [`crate::document::REQUIRED_FIELDS`]).
    pub fn from_assessment(
        a: &crate::document::DocumentAssessment,
        required: &[crate::document::FieldName],
    ) -> Self {
        use crate::document::MrzStatus;
        Self {
            mrz: match a.mrz_status {
                MrzStatus::Valid => MrzEvidence::Valid,
                MrzStatus::Ambiguous => MrzEvidence::Ambiguous,
                MrzStatus::Invalid => MrzEvidence::Invalid,
                MrzStatus::Absent => MrzEvidence::Absent,
            },
            expiry: a.fields.expiry_date.as_ref().map(|f| f.value.date()),
            birth_date: a.fields.birth_date.as_ref().map(|f| f.value.date()),
            fields_disagreeing: a
                .evidence
                .disagreeing()
                .iter()
                .map(|f| f.as_str().to_string())
                .collect(),
            required_fields_missing: a
                .missing(required)
                .iter()
                .map(|f| f.as_str().to_string())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> Date {
        Date::from_ymd(2026, 11, 21).unwrap()
    }

    fn good_document() -> DocumentEvidence {
        DocumentEvidence {
            mrz: MrzEvidence::Valid,
            expiry: Date::from_ymd(2031, 3, 1).ok(),
            birth_date: Date::from_ymd(1990, 1, 1).ok(),
            fields_disagreeing: vec![],
            required_fields_missing: vec![],
        }
    }

    fn complete() -> Evidence {
        Evidence {
            document: Some(good_document()),
            liveness: Some(LivenessEvidence { passed: true }),
            face_match: Some(FaceMatchEvidence::Compared {
                similarity: Similarity::parse(93.0).unwrap(),
                threshold: Threshold::DEFAULT,
            }),
            sanctions: Some(SanctionsEvidence::Clear),
        }
    }

    fn decide(e: &Evidence) -> Decision {
        DecisionPolicy::default().decide(e, today())
    }

    #[test]
    fn complete_good_evidence_is_approved() {
        let d = decide(&complete());
        assert_eq!(d.status, Status::Approved);
        assert_eq!(d.policy_version, "decision-2026.11");
    }

    #[test]
    fn a_read_document_becomes_evidence_the_engine_approves() {
        use crate::document::{assess, normalise_pairs, KeyValue, NormaliseHints, REQUIRED_FIELDS};
        let reading = crate::ports::DocumentReading {
            printed: normalise_pairs(
                &[KeyValue::new("Surname", "Eriksson", 96.0)],
                &NormaliseHints::new(today()),
            ),
            mrz_text: Some(
                "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
                 L898902C36UTO7408122F3204153ZE184226B<<<<<16"
                    .into(),
            ),
        };
        let a = assess(&reading, today());
        let doc = DocumentEvidence::from_assessment(&a, REQUIRED_FIELDS);
        assert_eq!(doc.mrz, MrzEvidence::Valid, "{:?}", a.mrz_status);
        assert!(doc.required_fields_missing.is_empty());
        let mut e = complete();
        e.document = Some(doc);
        assert_eq!(decide(&e).status, Status::Approved);
    }

    #[test]
    fn nothing_known_is_pending_with_every_pending_reason() {
        let d = decide(&Evidence::default());
        assert_eq!(d.status, Status::Pending);
        assert_eq!(
            d.codes(),
            vec![
                ReasonCode::DocumentPending,
                ReasonCode::LivenessPending,
                ReasonCode::FaceMatchPending,
                ReasonCode::SanctionsPending
            ]
        );
    }

    #[test]
    fn expired_document_is_rejected() {
        let mut e = complete();
        e.document.as_mut().unwrap().expiry = Date::from_ymd(2026, 11, 20).ok();
        let d = decide(&e);
        assert_eq!(d.status, Status::Rejected);
        assert_eq!(d.codes(), vec![ReasonCode::DocumentExpired]);
    }

    #[test]
    fn document_expiring_today_is_still_valid() {
        let mut e = complete();
        e.document.as_mut().unwrap().expiry = Some(today());
        assert_eq!(decide(&e).status, Status::Approved);
    }

    #[test]
    fn face_below_threshold_is_rejected_and_at_threshold_approved() {
        let mut e = complete();
        e.face_match = Some(FaceMatchEvidence::Compared {
            similarity: Similarity::parse(84.9).unwrap(),
            threshold: Threshold::DEFAULT,
        });
        assert_eq!(decide(&e).codes(), vec![ReasonCode::FaceMismatch]);
        e.face_match = Some(FaceMatchEvidence::Compared {
            similarity: Similarity::parse(85.0).unwrap(),
            threshold: Threshold::DEFAULT,
        });
        assert_eq!(decide(&e).status, Status::Approved);
    }

    #[test]
    fn sanctions_hit_goes_to_review_and_confirmed_hit_is_rejected() {
        let mut e = complete();
        e.sanctions = Some(SanctionsEvidence::PotentialMatch);
        assert_eq!(decide(&e).status, Status::Review);
        e.sanctions = Some(SanctionsEvidence::ConfirmedMatch);
        assert_eq!(decide(&e).status, Status::Rejected);
    }

    #[test]
    fn a_minor_is_rejected_on_the_day_before_the_eighteenth_birthday() {
        let mut e = complete();
        e.document.as_mut().unwrap().birth_date = Date::from_ymd(2008, 11, 22).ok();
        assert_eq!(decide(&e).codes(), vec![ReasonCode::Underage]);
        e.document.as_mut().unwrap().birth_date = Date::from_ymd(2008, 11, 21).ok();
        assert_eq!(decide(&e).status, Status::Approved);
    }

    #[test]
    fn rejection_outranks_review_and_all_reasons_are_kept() {
        let mut e = complete();
        e.liveness = Some(LivenessEvidence { passed: false });
        e.sanctions = Some(SanctionsEvidence::Unavailable);
        e.document.as_mut().unwrap().fields_disagreeing = vec!["surname".into()];
        let d = decide(&e);
        assert_eq!(d.status, Status::Rejected);
        assert_eq!(
            d.codes(),
            vec![
                ReasonCode::LivenessFailed,
                ReasonCode::DocumentFieldsDisagree,
                ReasonCode::SanctionsUnavailable
            ]
        );
    }

    #[test]
    fn offline_policy_does_not_wait_for_liveness() {
        let mut e = complete();
        e.liveness = None;
        assert_eq!(decide(&e).status, Status::Pending);
        let d = DecisionPolicy::default()
            .without_liveness()
            .decide(&e, today());
        assert_eq!(d.status, Status::Approved);
    }

    #[test]
    fn reason_codes_serialise_as_stable_screaming_snake_case() {
        let d = decide(&Evidence::default());
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["reasons"][0]["code"], "DOCUMENT_PENDING");
        assert_eq!(json["status"], "pending");
    }

    fn arb_evidence() -> impl Strategy<Value = Evidence> {
        let mrz = prop_oneof![
            Just(MrzEvidence::Valid),
            Just(MrzEvidence::Ambiguous),
            Just(MrzEvidence::Invalid),
            Just(MrzEvidence::Absent)
        ];
        let doc = (mrz, any::<bool>(), any::<bool>(), 0u16..3000, 1900u16..2030).prop_map(
            |(mrz, disagree, missing, exp_days, by)| DocumentEvidence {
                mrz,
                expiry: Date::from_ymd(2025, 1, 1)
                    .unwrap()
                    .add_days(i64::from(exp_days)),
                birth_date: Date::from_ymd(by, 6, 1).ok(),
                fields_disagreeing: if disagree {
                    vec!["surname".into()]
                } else {
                    vec![]
                },
                required_fields_missing: if missing { vec!["sex".into()] } else { vec![] },
            },
        );
        let face = prop_oneof![
            (0.0f32..=100.0).prop_map(|s| FaceMatchEvidence::Compared {
                similarity: Similarity::saturating(s),
                threshold: Threshold::DEFAULT
            }),
            Just(FaceMatchEvidence::QualityRejected)
        ];
        let sanctions = prop_oneof![
            Just(SanctionsEvidence::Clear),
            Just(SanctionsEvidence::PotentialMatch),
            Just(SanctionsEvidence::ConfirmedMatch),
            Just(SanctionsEvidence::Unavailable)
        ];
        (
            proptest::option::of(doc),
            proptest::option::of(any::<bool>()),
            proptest::option::of(face),
            proptest::option::of(sanctions),
        )
            .prop_map(|(document, l, face_match, sanctions)| Evidence {
                document,
                liveness: l.map(|passed| LivenessEvidence { passed }),
                face_match,
                sanctions,
            })
    }

    proptest! {
        #[test]
        fn approval_implies_no_reasons_and_reasons_imply_their_worst_effect(e in arb_evidence()) {
            let d = decide(&e);
            let worst = d.reasons.iter().map(|r| r.effect).max();
            prop_assert_eq!(d.status, worst.unwrap_or(Status::Approved));
            prop_assert_eq!(d.status == Status::Approved, d.reasons.is_empty());
        }

        #[test]
        fn adding_a_failure_never_improves_the_outcome(e in arb_evidence()) {
            let before = decide(&e).status;
            let mut worse = e.clone();
            worse.liveness = Some(LivenessEvidence { passed: false });
            let after = decide(&worse).status;
            prop_assert_eq!(after, Status::Rejected);
            prop_assert!(after >= before);
        }
    }
}
