//! What a face analyser reports for one submitted frame: [`FrameObservation`] and, for its
//! main face, [`FaceObservation`]. The Rekognition and dlib adapters produce these; kyc-core
//! never sees the image.

use serde::{Deserialize, Serialize};

use super::time::rfc3339;
use super::{Embedding, FaceBox, FrameId, HeadPose, Nonce, Probability};
use crate::model::Timestamp;

/// One analysed frame.
///
/// JSON (camelCase): `frameId`, `nonce`, `capturedAt` and `receivedAt` (RFC 3339),
/// `faceCount`, `face` (or `null`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrameObservation {
    /// The client's id for the frame.
    pub frame_id: FrameId,
    /// The nonce the frame was submitted with.
    pub nonce: Nonce,
    /// When the client says it captured the frame (client clock).
    #[serde(with = "rfc3339")]
    pub captured_at: Timestamp,
    /// When the server received it (server clock).
    #[serde(with = "rfc3339")]
    pub received_at: Timestamp,
    /// How many faces the analyser found.
    pub face_count: u32,
    /// The main (largest) face, when there is at least one.
    pub face: Option<FaceObservation>,
}

/// The measurements of one face in one frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaceObservation {
    /// Detection confidence, 0–1 (Rekognition's `Confidence` / 100).
    pub confidence: Probability,
    /// Head pose in degrees; see [`HeadPose`] for the sign convention.
    pub pose: HeadPose,
    /// Probability that the eyes are open, when the engine reports it. From Rekognition's
    /// `EyesOpen {Value, Confidence}`: `Confidence/100` when `Value` is true, else
    /// `1 - Confidence/100`.
    #[serde(default)]
    pub eyes_open: Option<Probability>,
    /// Probability of a smile, when the engine reports it (Rekognition's `Smile`, mapped as
    /// above).
    #[serde(default)]
    pub smile: Option<Probability>,
    /// Where the face is, in normalised image coordinates.
    pub bounding_box: FaceBox,
    /// A feature vector for continuity checks, when the engine has one (dlib does,
    /// Rekognition's DetectFaces does not).
    #[serde(default)]
    pub embedding: Option<Embedding>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> FrameObservation {
        FrameObservation {
            frame_id: FrameId::parse("f-1").unwrap(),
            nonce: Nonce::from_bytes([1; 16]),
            captured_at: Timestamp::from_millis(1_795_000_000_250),
            received_at: Timestamp::from_millis(1_795_000_000_400),
            face_count: 1,
            face: Some(FaceObservation {
                confidence: Probability::parse(0.99).unwrap(),
                pose: HeadPose::new(12.5, -3.0, 1.0).unwrap(),
                eyes_open: Some(Probability::parse(0.9).unwrap()),
                smile: None,
                bounding_box: FaceBox::new(0.3, 0.2, 0.4, 0.5).unwrap(),
                embedding: Some(Embedding::new(vec![0.5, -0.25]).unwrap()),
            }),
        }
    }

    #[test]
    fn frame_json_shape_is_stable() {
        insta::assert_json_snapshot!("frame_observation", frame());
    }

    #[test]
    fn frame_round_trips_through_json() {
        let f = frame();
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<FrameObservation>(&json).unwrap(), f);
    }

    #[test]
    fn frame_debug_shows_no_embedding_values() {
        let d = format!("{:?}", frame());
        assert!(d.contains("Embedding(<2 dimensions>)"), "{d}");
        assert!(!d.contains("0.25"), "{d}");
    }

    #[test]
    fn frame_json_with_invalid_values_is_refused() {
        let mut v = serde_json::to_value(frame()).unwrap();
        v["face"]["eyesOpen"] = serde_json::json!(1.5);
        assert!(serde_json::from_value::<FrameObservation>(v.clone()).is_err());
        v["face"]["eyesOpen"] = serde_json::json!(0.5);
        v["frameId"] = serde_json::json!("a/b");
        assert!(serde_json::from_value::<FrameObservation>(v.clone()).is_err());
        v["frameId"] = serde_json::json!("ok");
        v["capturedAt"] = serde_json::json!(1_795_000_000_250i64);
        assert!(serde_json::from_value::<FrameObservation>(v).is_err());
    }
}
