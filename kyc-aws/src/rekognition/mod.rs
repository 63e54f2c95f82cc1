//! Amazon Rekognition adapter: [`RekognitionFaceEngine`] implements kyc-core's `FaceAnalyzer`
//! (DetectFaces) and `FaceComparer` (CompareFaces), and drives Face Liveness sessions
//! ([`liveness`]). It is the AWS sibling of kyc-local's dlib engine and behaves like it at the
//! port: no face is an observation for `analyze` and an error for `compare`, the largest face is
//! the main face, and the face count is reported so the policy's quality gate decides.
//!
//! # Service calls and IAM
//!
//! | Method | Rekognition operation | IAM action |
//! |---|---|---|
//! | [`FaceAnalyzer::analyze`], [`RekognitionFaceEngine::detect`] | `DetectFaces` with `Attributes: ["ALL"]` | `rekognition:DetectFaces` |
//! | [`FaceComparer::compare`] | `CompareFaces` with `SimilarityThreshold: 0`, `QualityFilter: NONE` | `rekognition:CompareFaces` |
//! | [`RekognitionFaceEngine::create_liveness_session`] | `CreateFaceLivenessSession` | `rekognition:CreateFaceLivenessSession` |
//! | [`RekognitionFaceEngine::liveness_session_results`] | `GetFaceLivenessSessionResults` | `rekognition:GetFaceLivenessSessionResults` |
//!
//! Images are sent as bytes, never as S3 references, so the role needs no S3 read access for
//! these calls. A liveness session with an S3 output also needs `s3:PutObject` on that bucket
//! (and `kms:GenerateDataKey` on its key) for the calling role; the browser that streams the
//! video needs `rekognition:StartFaceLivenessSession`, which this adapter never calls.
//!
//! # Before a request: image checks
//!
//! Every image passes [`check_image`] first: Rekognition takes at most 5 MB of image bytes
//! ([`MAX_IMAGE_BYTES`]) and only JPEG or PNG, so an oversized image or one whose header cannot
//! be read is [`FaceError::InvalidImage`] **without a request** (no bill, no breaker count).
//! Images smaller than 80 pixels a side ([`MIN_IMAGE_SIDE`], below Rekognition's minimum) are
//! reported as holding no face, as the dlib engine does for tiny images. The header also gives
//! the image's size in pixels, which Rekognition does not return: face boxes come back as
//! fractions of the image, and `FaceQuality` wants pixels. For a JPEG with an Exif orientation
//! the displayed size is used (sides swapped for quarter turns), since AWS documents that box
//! coordinates then refer to the orientation-corrected image
//! (<https://docs.aws.amazon.com/rekognition/latest/dg/images-orientation.html>).
//! Callers holding raw bytes can use [`image_from_bytes`], whose [`ImageRejection`] says which
//! rule failed.
//!
//! # Mapping DetectFaces
//!
//! - `face_count` = the number of `FaceDetails`; the main face is the largest box.
//! - `Confidence`, `Quality.Brightness`, `Quality.Sharpness` (0–100) become 0–1 probabilities.
//! - `EyesOpen`, `Smile` (`{Value, Confidence}`) become the probability that the attribute holds
//!   ([`attribute_probability`]); `MouthOpen` likewise, reported in [`Detection::mouth_open`]
//!   because kyc-core's `FaceObservation` has no field for it. Rekognition gives no embedding.
//! - `Pose` becomes kyc-core's `HeadPose` through [`head_pose_from_rekognition`].
//!
//! # Pose sign convention (AWS's documentation is not conclusive)
//!
//! kyc-core's `HeadPose` says yaw > 0 when the person turns to **their own left**, pitch > 0 when
//! they **look up**, roll > 0 when the head tilts towards their own left shoulder, and declares
//! that this is Rekognition's orientation. What AWS publishes:
//!
//! - The API reference's `Pose` page
//!   (<https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Pose.html>) gives only
//!   the range, −180 to 180, for each angle: **no sign convention**.
//! - An answer on AWS re:Post
//!   (<https://repost.aws/questions/QUpMr97ckeQ4ixqY9idkU0fQ/head-pose-unit-of-yaw-pitch-roll-point-of-view>)
//!   says the angles are measured with the camera as the point of reference, negative yaw when
//!   "the camera is facing left" and negative pitch when "the camera is facing up". It does not
//!   say whose left, so it does not settle the sign either.
//! - AWS's own example responses (the `DetectFaces` and `IndexFaces` examples of the API
//!   reference, also shipped in botocore's `examples-1.json`) carry five landmarks with each
//!   pose. Read geometrically they agree with kyc-core's convention: the face with yaw −24.4 has
//!   its nose left of the eyes' midpoint in the image (an unmirrored person turned to their own
//!   right), the face with yaw +13.7 has it to the right; the eye-to-nose over nose-to-mouth
//!   ratio falls as pitch rises (−9.7 → 2.0, −4.7 → 1.5, +4.1 → 1.2: looking down lengthens the
//!   upper part); and for all three positive rolls the eye on the image's right is the lower
//!   one. (A third face with yaw +6.7 has its nose centred within noise. The examples' landmark
//!   *labels* are garbled; their order is the usual eyes, nose, mouth corners.)
//!
//! The mapping is therefore the identity, in one function, [`head_pose_from_rekognition`];
//! `tests/rekognition.rs` checks it against AWS's examples (fixture
//! `aws_documented_examples.json`) and through recorded-shape responses for a frontal face and
//! a head turned left, turned right and looking up. **Those turned-head responses were written
//! in Rekognition's shape under this convention, not captured from the live service** (this
//! workspace has no AWS account): they pin the adapter's mapping, not the service's behaviour.
//! Capture real responses of a person turning (the web demo against a real account) to confirm;
//! should they disagree, change only [`head_pose_from_rekognition`].
//!
//! # Mapping CompareFaces, and calibration
//!
//! `SimilarityThreshold` is sent as 0 so that a non-matching face still reports its similarity
//! (Rekognition's default, 80, would hide it), and `QualityFilter` as `NONE` so the kit's own
//! quality gate, not Rekognition's, decides. See [`comparison_from_compare_faces`] for how the
//! main face, the face counts and the two `FaceQuality`s are taken; note that CompareFaces
//! reports only the source image's largest face and no pose or light for it.
//!
//! The similarity is reported unchanged: it is already on kyc-core's 0–100 scale. The kit's
//! default threshold 85 is therefore Rekognition's similarity 85: stricter than CompareFaces'
//! own default of 80, looser than the 99 AWS suggests where a false match is very costly
//! (public-safety uses). The dlib engine maps its embedding distance so that its 85 falls
//! between its same-person and different-person ranges; the two engines agree on the operating
//! point's intent, not on measured error rates, which each deployment should measure.
//!
//! # Errors
//!
//! | Cause | `analyze` / `compare` | Breaker |
//! |---|---|---|
//! | Image over 5 MB, unreadable header; `InvalidImageFormatException`, `ImageTooLargeException` | `FaceError::InvalidImage` | not counted (no request, or the service is healthy) |
//! | `InvalidParameterException` from DetectFaces (only the image can be invalid) | `FaceError::InvalidImage` | not counted |
//! | `InvalidParameterException` from CompareFaces (AWS: "if no faces are detected in the source or target images") | `FaceError::NoFaceDetected` | not counted |
//! | No source face, or no target face in the answer | `FaceError::NoFaceDetected` | not counted |
//! | `ThrottlingException`, `ProvisionedThroughputExceededException`, `InternalServerError`, 5xx, timeouts, connection failures | `FaceError::Backend(PortError::Unavailable)` after the SDK's retries | counted |
//! | Breaker open | `FaceError::Backend(PortError::Unavailable)`, no request | – |
//! | `AccessDeniedException` | `FaceError::Backend(PortError::Misconfigured)` | not counted |
//!
//! Error values never carry the service's message (it can echo request content) nor any image
//! data; `Debug` of every type here shows no image bytes.
//!
//! # Resilience
//!
//! Every call goes through the SDK client's retry and timeout configuration (build the client
//! from [`crate::config::AwsSettings::load`], which applies [`crate::config::Resilience`]:
//! standard retries with backoff and full jitter, connect, attempt and operation timeouts), and
//! then through a [`CircuitBreaker`]: after repeated transient failures (each already retried by
//! the SDK) calls fail fast for the cool-down, without reaching Rekognition, which is billed
//! per call and is throttling or down.

mod image_check;
pub mod liveness;
mod mapping;

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_rekognition::types::{
    Attribute, CreateFaceLivenessSessionRequestSettings, Image as RekognitionImage,
    LivenessOutputConfig, QualityFilter,
};
use aws_sdk_rekognition::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::Blob;
use kyc_core::model::Image;
use kyc_core::ports::{
    Clock, FaceAnalysis, FaceAnalyzer, FaceComparer, FaceComparison, FaceError, PortError,
};

use crate::breaker::{BreakerError, BreakerSettings, CircuitBreaker};
use crate::error::{classify, to_port_error};

pub use image_check::{
    check_image, image_from_bytes, synthetic_jpeg, ImageInfo, ImageRejection, MAX_IMAGE_BYTES,
    MIN_IMAGE_SIDE,
};
pub use liveness::{
    LivenessConfidencePolicy, LivenessError, LivenessOutput, LivenessSessionId,
    LivenessSessionRequest, LivenessSessionResult, LivenessSessionStatus, LivenessVerdict,
    ReferenceImage,
};
pub use mapping::{
    attribute_probability, comparison_from_compare_faces, detection_from_face_details,
    head_pose_from_rekognition, Detection,
};

/// The backend name in `PortError`s and the breaker.
pub const BACKEND: &str = "rekognition";

/// Rekognition behind kyc-core's face ports, with a circuit breaker. Cheap to clone (the SDK
/// client and the breaker share their state).
#[derive(Clone, Debug)]
pub struct RekognitionFaceEngine {
    client: Client,
    breaker: CircuitBreaker,
}

/// A Rekognition call's SDK error.
type Sdk<E> = SdkError<E, HttpResponse>;

impl RekognitionFaceEngine {
    /// An engine on `client` (built with the retry and timeout settings of
    /// [`crate::config::AwsSettings`]) guarded by `breaker`.
    pub fn new(client: Client, breaker: CircuitBreaker) -> Self {
        Self { client, breaker }
    }

    /// An engine on a client from `config` ([`crate::config::AwsSettings::load`]) with the
    /// default breaker (5 transient failures open it for 30 s).
    pub fn from_config(config: &SdkConfig, clock: Arc<dyn Clock>) -> Self {
        Self::new(
            Client::new(config),
            CircuitBreaker::new(BACKEND, BreakerSettings::default(), clock),
        )
    }

    /// The circuit breaker (to read its state, e.g. for a health endpoint).
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// Runs a call under the breaker; transient failures (after the SDK's retries) count.
    async fn guarded<T, E: ProvideErrorMetadata>(
        &self,
        call: impl std::future::Future<Output = Result<T, Sdk<E>>>,
    ) -> Result<T, BreakerError<Sdk<E>>> {
        self.breaker
            .call(call, |e: &Sdk<E>| classify(e).is_retryable())
            .await
    }

    /// DetectFaces with all attributes: the port's analysis plus every face box and the main
    /// face's mouth-open probability.
    pub async fn detect(&self, image: &Image) -> Result<Detection, FaceError> {
        let info = check_image(image).map_err(|_| FaceError::InvalidImage)?;
        if !info.is_analysable() {
            return Ok(Detection::empty(&info));
        }
        let call = self
            .client
            .detect_faces()
            .image(rekognition_image(image))
            .attributes(Attribute::All)
            .send();
        match self.guarded(call).await {
            Ok(out) => Ok(detection_from_face_details(out.face_details(), &info)),
            Err(BreakerError::Open(p)) => Err(FaceError::Backend(p)),
            Err(BreakerError::Inner(e)) => Err(match code(&e) {
                Some(
                    "InvalidImageFormatException"
                    | "ImageTooLargeException"
                    | "InvalidParameterException",
                ) => FaceError::InvalidImage,
                _ => FaceError::Backend(to_port_error(BACKEND, &e)),
            }),
        }
    }

    /// CompareFaces of the largest face of `reference` (the source image) with the faces of
    /// `probe` (the target image).
    async fn compare_faces(
        &self,
        reference: &Image,
        probe: &Image,
    ) -> Result<FaceComparison, FaceError> {
        let ref_info = check_image(reference).map_err(|_| FaceError::InvalidImage)?;
        let probe_info = check_image(probe).map_err(|_| FaceError::InvalidImage)?;
        if !ref_info.is_analysable() || !probe_info.is_analysable() {
            return Err(FaceError::NoFaceDetected);
        }
        let call = self
            .client
            .compare_faces()
            .source_image(rekognition_image(reference))
            .target_image(rekognition_image(probe))
            .similarity_threshold(0.0)
            .quality_filter(QualityFilter::None)
            .send();
        match self.guarded(call).await {
            Ok(out) => comparison_from_compare_faces(&out, &ref_info, &probe_info),
            Err(BreakerError::Open(p)) => Err(FaceError::Backend(p)),
            Err(BreakerError::Inner(e)) => Err(match code(&e) {
                Some("InvalidParameterException") => FaceError::NoFaceDetected,
                Some("InvalidImageFormatException" | "ImageTooLargeException") => {
                    FaceError::InvalidImage
                }
                _ => FaceError::Backend(to_port_error(BACKEND, &e)),
            }),
        }
    }

    /// Creates a Face Liveness session; its id goes to the browser, which streams the video.
    pub async fn create_liveness_session(
        &self,
        request: &LivenessSessionRequest,
    ) -> Result<LivenessSessionId, LivenessError> {
        let mut settings = CreateFaceLivenessSessionRequestSettings::builder()
            .audit_images_limit(i32::from(request.audit_images_limit()));
        if let Some(out) = request.output() {
            let config = LivenessOutputConfig::builder()
                .s3_bucket(out.bucket.clone())
                .set_s3_key_prefix(out.key_prefix.clone())
                .build()
                .map_err(|_| {
                    LivenessError::Backend(PortError::Misconfigured {
                        backend: BACKEND,
                        reason: "the liveness output bucket is not set".to_owned(),
                    })
                })?;
            settings = settings.output_config(config);
        }
        let call = self
            .client
            .create_face_liveness_session()
            .settings(settings.build())
            .set_client_request_token(request.request_token().map(str::to_owned))
            .set_kms_key_id(request.kms_key_id().map(str::to_owned))
            .send();
        match self.guarded(call).await {
            Ok(out) => LivenessSessionId::parse(out.session_id())
                .map_err(|_| LivenessError::UnexpectedResponse),
            Err(BreakerError::Open(p)) => Err(LivenessError::Backend(p)),
            Err(BreakerError::Inner(e)) => Err(LivenessError::Backend(to_port_error(BACKEND, &e))),
        }
    }

    /// Fetches a Face Liveness session's result. Apply a [`LivenessConfidencePolicy`] to it for
    /// the verdict.
    pub async fn liveness_session_results(
        &self,
        session: &LivenessSessionId,
    ) -> Result<LivenessSessionResult, LivenessError> {
        use aws_sdk_rekognition::types::LivenessSessionStatus as S;
        let call = self
            .client
            .get_face_liveness_session_results()
            .session_id(session.as_str())
            .send();
        let out = match self.guarded(call).await {
            Ok(out) => out,
            Err(BreakerError::Open(p)) => return Err(LivenessError::Backend(p)),
            Err(BreakerError::Inner(e)) => {
                return Err(match code(&e) {
                    Some("SessionNotFoundException") => LivenessError::SessionNotFound,
                    _ => LivenessError::Backend(to_port_error(BACKEND, &e)),
                })
            }
        };
        let status = match out.status() {
            S::Created => LivenessSessionStatus::Created,
            S::InProgress => LivenessSessionStatus::InProgress,
            S::Succeeded => LivenessSessionStatus::Succeeded,
            S::Failed => LivenessSessionStatus::Failed,
            S::Expired => LivenessSessionStatus::Expired,
            _ => return Err(LivenessError::UnexpectedResponse),
        };
        let session_id = LivenessSessionId::parse(out.session_id())
            .map_err(|_| LivenessError::UnexpectedResponse)?;
        if session_id != *session {
            return Err(LivenessError::UnexpectedResponse);
        }
        let confidence = out
            .confidence()
            .filter(|c| !c.is_nan())
            .and_then(|c| kyc_core::liveness::Probability::from_percent(c.clamp(0.0, 100.0)).ok());
        let reference_image = out.reference_image().and_then(|r| {
            if let Some(b) = r.bytes() {
                Image::parse(b.as_ref().to_vec(), MAX_IMAGE_BYTES)
                    .ok()
                    .map(ReferenceImage::Bytes)
            } else {
                r.s3_object().and_then(|o| {
                    Some(ReferenceImage::S3 {
                        bucket: o.bucket()?.to_owned(),
                        key: o.name()?.to_owned(),
                    })
                })
            }
        });
        Ok(LivenessSessionResult {
            session_id,
            status,
            confidence,
            reference_image,
            audit_image_count: out.audit_images().len(),
        })
    }
}

/// The service error code, when the service answered with one.
fn code<E: ProvideErrorMetadata>(e: &Sdk<E>) -> Option<&str> {
    e.as_service_error().and_then(ProvideErrorMetadata::code)
}

fn rekognition_image(image: &Image) -> RekognitionImage {
    RekognitionImage::builder()
        .bytes(Blob::new(image.bytes().to_vec()))
        .build()
}

impl FaceAnalyzer for RekognitionFaceEngine {
    /// DetectFaces with all attributes ([`RekognitionFaceEngine::detect`], without the extras).
    async fn analyze(&self, image: &Image) -> Result<FaceAnalysis, FaceError> {
        self.detect(image).await.map(|d| d.analysis)
    }
}

impl FaceComparer for RekognitionFaceEngine {
    /// CompareFaces with threshold 0: `reference` is the source image, `probe` the target.
    async fn compare(&self, reference: &Image, probe: &Image) -> Result<FaceComparison, FaceError> {
        self.compare_faces(reference, probe).await
    }
}
