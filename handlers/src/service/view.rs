//! The decision document (`GET /v1/verify/{id}`) and the "ID plus selfie" result, built from a
//! session, its findings and its OCR record.

use kyc_core::decision::{Evidence, Status};
use kyc_core::document::DocumentAssessment;
use kyc_core::model::{Timestamp, VerificationId};
use kyc_core::session::{FaceMatchFinding, Session, StateName};
use serde::Serialize;
use serde_json::{json, Value};

use super::{evidence_of, DocumentRecord, ServiceConfig};

/// The decision document.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionDocument {
    /// The verification.
    pub verification_id: VerificationId,
    /// `approved`, `rejected`, `review` or `pending`.
    pub status: Status,
    /// Machine-readable reason codes, most severe first.
    pub reasons: Vec<String>,
    /// The decision policy's version.
    pub policy_version: String,
    /// Where the verification is (`documentUploaded`, `livenessChallenged`, `decided`…).
    pub state: StateName,
    /// The verification's deadline, RFC 3339.
    pub expires_at: String,
    /// The document read (fields and MRZ); `null` until it is read.
    pub document: Value,
    /// The liveness outcome; `null` until evaluated.
    pub liveness: Value,
    /// The face match; `null` until it ran.
    pub face_match: Value,
    /// The screening; `null` until it ran.
    pub sanctions: Value,
    /// The signed verification token, for an approved verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The answer of `POST /v1/ips`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IpsResult {
    /// Similarity 0–100 (one decimal).
    pub similarity: f32,
    /// Whether it reaches the threshold.
    #[serde(rename = "match")]
    pub matched: bool,
    /// The threshold.
    pub threshold: f32,
}

/// The `document` part of the decision document: the merged fields, the MRZ and the
/// evidence (as `kyc document read --json`).
pub fn document_view(a: &DocumentAssessment) -> Value {
    let whole = serde_json::to_value(a).unwrap_or(Value::Null);
    let get = |k: &str| whole.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "fields": get("fields"),
        "mrz": get("mrz"),
        "evidence": {
            "mrzStatus": get("mrzStatus"),
            "crossCheck": get("evidence"),
        },
    })
}

pub(super) fn document(
    session: &Session,
    record: Option<&DocumentRecord>,
    config: &ServiceConfig,
    now: Timestamp,
    token: Option<String>,
) -> DecisionDocument {
    let f = session.findings();
    let (status, reasons, policy_version) = match (&f.decision, session.state().name()) {
        (Some(d), _) => (
            d.status,
            d.reasons.iter().map(|r| code(&r.code)).collect(),
            d.policy_version.clone(),
        ),
        (None, StateName::Expired) => (
            Status::Rejected,
            vec!["VERIFICATION_EXPIRED".to_owned()],
            config.decision.version.clone(),
        ),
        (None, _) => {
            // Not decided yet: what the policy says so far (pending reasons included).
            let evidence: Evidence = evidence_of(session, record);
            let d = config.decision.decide(&evidence, now.date());
            // A final status is recorded the moment the policy reaches one, so an undecided
            // verification is pending whatever the policy says of the evidence so far.
            (
                Status::Pending,
                d.reasons.iter().map(|r| code(&r.code)).collect(),
                d.policy_version,
            )
        }
    };
    let liveness = f.liveness.as_ref().map_or(Value::Null, |l| {
        json!({
            "passed": l.passed,
            "gestures": l.gestures.iter().map(|g| json!({"gesture": g.gesture, "status": g.status})).collect::<Vec<_>>(),
            "reasons": l.reasons.iter().map(|r| r.code()).collect::<Vec<_>>(),
            "frames": l.frames.admitted,
        })
    });
    let face_match = f.face_match.as_ref().map_or(Value::Null, |m| {
        face_match_view(m, config.face_match.settings().threshold.value())
    });
    let sanctions = f.screening.as_ref().map_or(Value::Null, |s| {
        json!({
            "status": s.status,
            "matches": s.matches,
            "listVersion": s.list_version,
        })
    });
    DecisionDocument {
        verification_id: session.verification_id(),
        status,
        reasons,
        policy_version,
        state: session.state().name(),
        expires_at: rfc3339(session.expires_at()),
        document: record.map_or(Value::Null, |r| r.view.clone()),
        liveness,
        face_match,
        sanctions,
        token,
    }
}

/// The `faceMatch` part of a decision document (`threshold` is shown when the quality gate
/// refused the images).
pub fn face_match_view(m: &FaceMatchFinding, threshold: f32) -> Value {
    match m {
        FaceMatchFinding::Compared(o) => json!({
            "similarity": (o.similarity.value() * 10.0).round() / 10.0,
            "threshold": o.threshold.value(),
            "framesCompared": o.frames_compared,
            "match": o.matched,
        }),
        FaceMatchFinding::QualityRejected { reasons } => json!({
            "similarity": null,
            "threshold": threshold,
            "framesCompared": 0,
            "match": false,
            "qualityRejected": reasons,
        }),
    }
}

fn code(c: &kyc_core::decision::ReasonCode) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// RFC 3339 with milliseconds, UTC.
pub fn rfc3339(t: Timestamp) -> String {
    let d = t.date();
    let ms = t.millis().rem_euclid(86_400_000);
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}Z",
        d,
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000
    )
}
