//! Face ports: `FaceAnalyzer` (one image → faces, pose, eyes, smile, quality; it is also the
//! liveness frame analyser) and `FaceComparer` (two images → similarity on the 0–100 scale).
//! Rekognition (DetectFaces, CompareFaces) in AWS; dlib locally.

use std::future::Future;

use super::PortError;
use crate::facematch::FaceQuality;
use crate::liveness::FaceObservation;
use crate::model::{Image, Similarity};

/// What a face engine saw in one image.
#[derive(Clone, Debug, PartialEq)]
pub struct FaceAnalysis {
    /// The measures the quality gate needs (face count, confidence, pose, size, light).
    pub quality: FaceQuality,
    /// The main face's per-frame observation for liveness (`None` when no face was found).
    pub observation: Option<FaceObservation>,
}

/// The result of comparing two images.
#[derive(Clone, Debug, PartialEq)]
pub struct FaceComparison {
    /// Similarity of the main faces, 0–100, on the engine's documented calibration (the
    /// default threshold 85 means the same thing for every engine).
    pub similarity: Similarity,
    /// Quality measures of the reference image's face.
    pub reference: FaceQuality,
    /// Quality measures of the probe image's face.
    pub probe: FaceQuality,
}

/// Why a face operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaceError {
    /// The image could not be decoded.
    #[error("the image could not be decoded")]
    InvalidImage,
    /// No face was found where one is required (for comparison).
    #[error("no face detected")]
    NoFaceDetected,
    /// The backend failed.
    #[error(transparent)]
    Backend(#[from] PortError),
}

/// Analyses faces in one image.
pub trait FaceAnalyzer: Send + Sync {
    /// MUST return `Ok` for every decodable image, with `quality.face_count` = the number of
    /// faces found (0 included: no face is an observation, not an error) and `observation` for
    /// the largest face. `Err(InvalidImage)` only when the image cannot be decoded.
    fn analyze(
        &self,
        image: &Image,
    ) -> impl Future<Output = Result<FaceAnalysis, FaceError>> + Send;
}

/// Compares the main face of two images.
pub trait FaceComparer: Send + Sync {
    /// MUST return `Err(NoFaceDetected)` when either image has no face; when an image has
    /// several faces it compares the largest and reports the count in its `FaceQuality`, so the
    /// policy's quality gate (not the adapter) decides.
    fn compare(
        &self,
        reference: &Image,
        probe: &Image,
    ) -> impl Future<Output = Result<FaceComparison, FaceError>> + Send;
}
