//! The Rekognition adapter against responses in Rekognition's real shapes, replayed through the
//! SDK by `StaticReplayClient` (no emulator serves Rekognition): DetectFaces and CompareFaces
//! mapping, the pose sign convention, retries, error mapping, the circuit breaker, Face Liveness,
//! and hostile input that must never reach the service. Fixtures: `tests/fixtures/rekognition/`.

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_rekognition::config::{BehaviorVersion, Region};
use aws_smithy_http_client::test_util::{NeverClient, ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::http::HttpClient;
use aws_smithy_types::body::SdkBody;
use kyc_aws::breaker::{BreakerSettings, BreakerState, CircuitBreaker};
use kyc_aws::config::Resilience;
use kyc_aws::rekognition::{
    head_pose_from_rekognition, image_from_bytes, synthetic_jpeg, ImageRejection,
    LivenessConfidencePolicy, LivenessError, LivenessOutput, LivenessSessionId,
    LivenessSessionRequest, LivenessSessionStatus, LivenessVerdict, ReferenceImage,
    RekognitionFaceEngine, MAX_IMAGE_BYTES,
};
use kyc_core::decision::{DecisionPolicy, Evidence, ReasonCode};
use kyc_core::model::{Date, Image, Threshold, Timestamp};
use kyc_core::ports::fakes::FakeClock;
use kyc_core::ports::{FaceAnalyzer, FaceComparer, FaceError, PortError};
use serde_json::Value;

const ENDPOINT: &str = "https://rekognition.eu-west-1.amazonaws.com/";
const SESSION: &str = "3f4d1c2a-9b8e-4a7d-8c6b-5e4f3a2b1c0d";

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/rekognition/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

fn event(status: u16, body: String) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri(ENDPOINT)
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(body))
            .unwrap(),
    )
}

fn ok(name: &str) -> ReplayEvent {
    event(200, fixture(name))
}

fn err(status: u16, name: &str) -> ReplayEvent {
    event(status, fixture(name))
}

/// Fast retries (1–5 ms backoff) so the tests take milliseconds, with the adapter's real
/// retry mode and timeouts.
fn resilience(max_attempts: u32) -> Resilience {
    Resilience {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        connect_timeout: Duration::from_millis(500),
        attempt_timeout: Duration::from_millis(300),
        operation_timeout: Duration::from_secs(3),
    }
}

fn client(http: impl HttpClient + 'static, r: Resilience) -> aws_sdk_rekognition::Client {
    let config = aws_sdk_rekognition::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .http_client(http)
        .retry_config(r.retry_config())
        .timeout_config(r.timeout_config())
        .build();
    aws_sdk_rekognition::Client::from_conf(config)
}

struct Harness {
    engine: RekognitionFaceEngine,
    replay: StaticReplayClient,
    clock: Arc<FakeClock>,
}

impl Harness {
    /// An engine whose breaker opens after 2 transient failures for 10 s.
    fn new(events: Vec<ReplayEvent>, max_attempts: u32) -> Self {
        let replay = StaticReplayClient::new(events);
        let clock = Arc::new(FakeClock::at(Timestamp::from_secs(1_800_000_000)));
        let breaker = CircuitBreaker::new(
            "rekognition",
            BreakerSettings {
                failure_threshold: 2,
                cool_down: Duration::from_secs(10),
            },
            clock.clone(),
        );
        let engine =
            RekognitionFaceEngine::new(client(replay.clone(), resilience(max_attempts)), breaker);
        Self {
            engine,
            replay,
            clock,
        }
    }

    fn requests(&self) -> usize {
        self.replay.actual_requests().count()
    }

    /// Each request's `X-Amz-Target` header and JSON body.
    fn sent(&self) -> Vec<(String, Value)> {
        self.replay
            .actual_requests()
            .map(|r| {
                let target = r.headers().get("x-amz-target").unwrap_or("").to_owned();
                let body = serde_json::from_slice(r.body().bytes().unwrap_or(b"null"))
                    .expect("a JSON request body");
                (target, body)
            })
            .collect()
    }
}

fn photo() -> Image {
    image_from_bytes(&synthetic_jpeg(640, 480, None)).unwrap()
}

fn portrait() -> Image {
    image_from_bytes(&synthetic_jpeg(600, 800, None)).unwrap()
}

fn unavailable() -> FaceError {
    FaceError::Backend(PortError::Unavailable {
        backend: "rekognition",
    })
}

// ---------------------------------------------------------------- DetectFaces

#[tokio::test]
async fn a_frontal_face_maps_to_quality_and_observation_and_asks_for_all_attributes() {
    let h = Harness::new(vec![ok("detect_frontal.json")], 1);
    let image = photo();
    let a = h.engine.analyze(&image).await.unwrap();
    let q = a.quality;
    assert_eq!(q.face_count, 1);
    assert_eq!((q.image_width_px, q.image_height_px), (640, 480));
    assert_eq!((q.face_width_px, q.face_height_px), (192, 250)); // 0.30 × 640, 0.52 × 480
    assert!((q.confidence.value() - 0.9999).abs() < 1e-4);
    assert!((q.brightness.unwrap().value() - 0.784).abs() < 1e-4);
    assert!((q.sharpness.unwrap().value() - 0.869).abs() < 1e-4);
    let o = a.observation.unwrap();
    assert_eq!(
        (o.pose.yaw(), o.pose.pitch(), o.pose.roll()),
        (1.9, -2.4, 0.8)
    );
    assert!(o.eyes_open.unwrap().value() > 0.98);
    assert!(o.smile.unwrap().value() < 0.1); // Value false at 93.1 %
    assert_eq!(o.bounding_box.left(), 0.35);
    assert!(o.embedding.is_none());

    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    let (target, body) = &sent[0];
    assert_eq!(target, "RekognitionService.DetectFaces");
    assert_eq!(body["Attributes"], serde_json::json!(["ALL"]));
    let bytes = body["Image"]["Bytes"]
        .as_str()
        .expect("image bytes, not S3");
    assert_eq!(
        aws_smithy_types::base64::decode(bytes).unwrap(),
        image.bytes()
    );
    let req = h.replay.actual_requests().next().unwrap();
    assert_eq!(
        req.headers().get("content-type"),
        Some("application/x-amz-json-1.1")
    );
    assert!(req.uri().starts_with(ENDPOINT), "{}", req.uri());
}

#[tokio::test]
async fn turned_and_raised_heads_follow_kyc_cores_sign_convention() {
    // (fixture, yaw sign, pitch sign): the person's own left is yaw > 0, looking up pitch > 0.
    let cases = [
        ("detect_turned_left.json", 1.0, 0.0),
        ("detect_turned_right.json", -1.0, 0.0),
        ("detect_looking_up.json", 0.0, 1.0),
    ];
    for (name, yaw_sign, pitch_sign) in cases {
        let h = Harness::new(vec![ok(name)], 1);
        let o = h
            .engine
            .analyze(&photo())
            .await
            .unwrap()
            .observation
            .unwrap();
        let (yaw, pitch) = (o.pose.yaw(), o.pose.pitch());
        if yaw_sign != 0.0 {
            assert!(yaw * yaw_sign > 30.0, "{name}: yaw {yaw}");
            assert!(pitch.abs() < 5.0, "{name}: pitch {pitch}");
        }
        if pitch_sign != 0.0 {
            assert!(pitch * pitch_sign > 20.0, "{name}: pitch {pitch}");
            assert!(yaw.abs() < 5.0, "{name}: yaw {yaw}");
        }
    }
}

/// AWS's published example responses carry landmarks with each pose; their geometry, read in an
/// unmirrored image, must agree with the mapping's signs (see the module documentation).
#[test]
fn aws_documented_examples_agree_with_the_pose_mapping() {
    let doc: Value = serde_json::from_str(&fixture("aws_documented_examples.json")).unwrap();
    let faces = doc["FaceDetails"].as_array().unwrap();
    assert_eq!(faces.len(), 3);
    let mut pitch_vs_ratio = Vec::new();
    let mut turned = 0;
    for f in faces {
        let num = |v: &Value| v.as_f64().unwrap() as f32;
        let p = &f["Pose"];
        let pose = head_pose_from_rekognition(num(&p["Yaw"]), num(&p["Pitch"]), num(&p["Roll"]));
        // Landmarks in the published order: eye, eye, nose, mouth corner, mouth corner.
        let lm: Vec<(f32, f32)> = f["Landmarks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (num(&l["X"]), num(&l["Y"])))
            .collect();
        let (left_eye, right_eye, nose) = (lm[0], lm[1], lm[2]);
        let eyes_mid = (
            (left_eye.0 + right_eye.0) / 2.0,
            (left_eye.1 + right_eye.1) / 2.0,
        );
        let mouth_mid_y = (lm[3].1 + lm[4].1) / 2.0;
        // Yaw: turned to the person's own left (yaw > 0) moves the nose to the image's right.
        if pose.yaw().abs() >= 10.0 {
            turned += 1;
            let offset = nose.0 - eyes_mid.0;
            assert_eq!(
                pose.yaw() > 0.0,
                offset > 0.0,
                "yaw {} nose offset {offset}",
                pose.yaw()
            );
        }
        // Roll: a tilt towards the person's own left shoulder lowers the image-right eye.
        assert!(pose.roll() > 0.0);
        assert!(right_eye.1 > left_eye.1, "roll {}", pose.roll());
        // Pitch: looking down lengthens eye-to-nose relative to nose-to-mouth.
        let ratio = (nose.1 - eyes_mid.1) / (mouth_mid_y - nose.1);
        pitch_vs_ratio.push((pose.pitch(), ratio));
    }
    assert_eq!(turned, 2, "two examples are turned by 10 degrees or more");
    pitch_vs_ratio.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(
        pitch_vs_ratio.windows(2).all(|w| w[1].1 < w[0].1),
        "the ratio falls as pitch rises: {pitch_vs_ratio:?}"
    );
    assert!(pitch_vs_ratio[0].0 < 0.0 && pitch_vs_ratio[2].0 > 0.0);
}

#[tokio::test]
async fn aws_documented_examples_go_through_the_adapter() {
    let h = Harness::new(vec![ok("aws_documented_examples.json")], 1);
    let d = h.engine.detect(&photo()).await.unwrap();
    assert_eq!(d.analysis.quality.face_count, 3);
    assert_eq!(d.faces.len(), 3);
    // The largest box is the first IndexFaces face (0.25 × 0.3348), turned to its own right.
    let o = d.analysis.observation.unwrap();
    assert!((o.pose.yaw() - -24.438_663).abs() < 1e-3);
    assert_eq!(o.eyes_open, None, "the examples carry no EyesOpen");
}

#[tokio::test]
async fn closed_eyes_are_a_low_eyes_open_probability() {
    let h = Harness::new(vec![ok("detect_eyes_closed.json")], 1);
    let o = h
        .engine
        .analyze(&photo())
        .await
        .unwrap()
        .observation
        .unwrap();
    let eyes = o.eyes_open.unwrap().value();
    assert!(eyes < 0.05, "{eyes}"); // Value false at 96.2 %
}

#[tokio::test]
async fn no_face_is_an_observation_not_an_error() {
    let h = Harness::new(vec![ok("detect_no_face.json")], 1);
    let a = h.engine.analyze(&photo()).await.unwrap();
    assert_eq!(a.quality.face_count, 0);
    assert_eq!(a.quality.image_width_px, 640);
    assert!(a.observation.is_none());
}

#[tokio::test]
async fn with_two_faces_the_larger_is_the_main_face_and_both_count() {
    let h = Harness::new(vec![ok("detect_two_faces.json")], 1);
    let d = h.engine.detect(&photo()).await.unwrap();
    assert_eq!(d.analysis.quality.face_count, 2);
    let o = d.analysis.observation.unwrap();
    assert_eq!(
        o.bounding_box.left(),
        0.45,
        "the 0.28 × 0.50 face, not the small one"
    );
    assert_eq!(o.pose.yaw(), 4.5);
    assert!(o.smile.unwrap().value() > 0.9);
    assert!((d.mouth_open.unwrap().value() - 0.8).abs() < 1e-4);
    assert!(d.faces[0].size() > d.faces[1].size());
    // The quality gate (not the adapter) refuses several faces.
    let gate = kyc_core::facematch::check_quality(
        &d.analysis.quality,
        &kyc_core::facematch::FaceMatchPolicy::default(),
    );
    assert!(gate.is_err());
}

// ---------------------------------------------------------------- CompareFaces

#[tokio::test]
async fn a_match_reports_rekognitions_similarity_and_sends_threshold_zero() {
    let h = Harness::new(vec![ok("compare_match.json")], 1);
    let (reference, probe) = (portrait(), photo());
    let c = h.engine.compare(&reference, &probe).await.unwrap();
    assert!((c.similarity.value() - 99.41).abs() < 1e-4);
    assert!(c.similarity.meets(Threshold::DEFAULT));
    assert_eq!(c.probe.face_count, 1);
    assert_eq!(c.probe.face_width_px, 192);
    assert_eq!(c.probe.pose.yaw(), 3.1);
    assert_eq!(c.reference.face_count, 1);
    assert_eq!(
        (c.reference.image_width_px, c.reference.image_height_px),
        (600, 800)
    );
    // 0.4125 × 600: the f32 nearest 0.4125 is a hair below it, so 247.49…, rounded to 247.
    assert_eq!(c.reference.face_width_px, 247);

    let sent = h.sent();
    let (target, body) = &sent[0];
    assert_eq!(target, "RekognitionService.CompareFaces");
    assert_eq!(body["SimilarityThreshold"].as_f64(), Some(0.0));
    assert_eq!(body["QualityFilter"], "NONE");
    let decode = |v: &Value| aws_smithy_types::base64::decode(v.as_str().unwrap()).unwrap();
    assert_eq!(decode(&body["SourceImage"]["Bytes"]), reference.bytes());
    assert_eq!(decode(&body["TargetImage"]["Bytes"]), probe.bytes());
}

#[tokio::test]
async fn a_non_match_still_reports_its_similarity() {
    let h = Harness::new(vec![ok("compare_non_match.json")], 1);
    let c = h.engine.compare(&portrait(), &photo()).await.unwrap();
    assert!((c.similarity.value() - 4.87).abs() < 1e-4);
    assert!(!c.similarity.meets(Threshold::DEFAULT));
}

#[tokio::test]
async fn no_face_in_either_image_is_no_face_detected() {
    // Rekognition's documented answer when the source or target has no face.
    let h = Harness::new(
        vec![
            err(400, "error_invalid_parameter.json"),
            ok("compare_empty_target.json"),
        ],
        3,
    );
    for _ in 0..2 {
        assert_eq!(
            h.engine.compare(&portrait(), &photo()).await,
            Err(FaceError::NoFaceDetected)
        );
    }
    assert_eq!(h.requests(), 2, "InvalidParameterException is not retried");
    assert_eq!(
        h.engine.breaker().state(),
        BreakerState::Closed { failures: 0 }
    );
}

// ---------------------------------------------------------------- retries and errors

#[tokio::test]
async fn throttling_is_retried_until_success() {
    let h = Harness::new(
        vec![
            err(400, "error_throttling.json"),
            err(400, "error_provisioned_throughput.json"),
            ok("detect_frontal.json"),
        ],
        3,
    );
    let a = h.engine.analyze(&photo()).await.unwrap();
    assert_eq!(a.quality.face_count, 1);
    assert_eq!(h.requests(), 3);
    assert_eq!(
        h.engine.breaker().state(),
        BreakerState::Closed { failures: 0 }
    );
}

#[tokio::test]
async fn a_persistent_server_error_is_unavailable_after_the_retries() {
    let h = Harness::new(
        vec![
            err(500, "error_internal.json"),
            err(500, "error_internal.json"),
            err(500, "error_internal.json"),
        ],
        3,
    );
    let e = h.engine.analyze(&photo()).await.unwrap_err();
    assert_eq!(e, unavailable());
    assert!(matches!(&e, FaceError::Backend(p) if p.is_retryable()));
    assert_eq!(h.requests(), 3, "every attempt was made");
    assert_eq!(
        h.engine.breaker().state(),
        BreakerState::Closed { failures: 1 },
        "one failed call, however many attempts"
    );
}

#[tokio::test]
async fn invalid_images_are_not_retried_and_do_not_count_against_the_service() {
    let h = Harness::new(
        vec![
            err(500, "error_internal.json"),
            err(400, "error_invalid_image_format.json"),
            err(400, "error_image_too_large.json"),
            err(400, "error_invalid_image_format.json"),
        ],
        1,
    );
    assert_eq!(h.engine.analyze(&photo()).await, Err(unavailable()));
    assert_eq!(
        h.engine.breaker().state(),
        BreakerState::Closed { failures: 1 }
    );
    assert_eq!(
        h.engine.analyze(&photo()).await,
        Err(FaceError::InvalidImage)
    );
    assert_eq!(
        h.engine.breaker().state(),
        BreakerState::Closed { failures: 0 },
        "the service answered: it is healthy"
    );
    assert_eq!(
        h.engine.analyze(&photo()).await,
        Err(FaceError::InvalidImage)
    );
    assert_eq!(
        h.engine.compare(&portrait(), &photo()).await,
        Err(FaceError::InvalidImage)
    );
    assert_eq!(h.requests(), 4);
}

#[tokio::test]
async fn access_denied_is_a_misconfiguration_not_an_outage() {
    let h = Harness::new(vec![err(400, "error_access_denied.json")], 3);
    let e = h.engine.analyze(&photo()).await.unwrap_err();
    assert!(
        matches!(
            &e,
            FaceError::Backend(PortError::Misconfigured {
                backend: "rekognition",
                ..
            })
        ),
        "{e:?}"
    );
    assert_eq!(h.requests(), 1);
}

#[tokio::test]
async fn a_hung_service_times_out_as_unavailable() {
    let never = NeverClient::new();
    let clock = Arc::new(FakeClock::at(Timestamp::from_secs(1_800_000_000)));
    let engine = RekognitionFaceEngine::new(
        client(never.clone(), resilience(2)),
        CircuitBreaker::new("rekognition", BreakerSettings::default(), clock),
    );
    let started = std::time::Instant::now();
    assert_eq!(engine.analyze(&photo()).await, Err(unavailable()));
    assert_eq!(never.num_calls(), 2, "each attempt timed out");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        engine.breaker().state(),
        BreakerState::Closed { failures: 1 }
    );
}

#[tokio::test]
async fn errors_never_echo_the_service_message() {
    let marker = "ALICE EXAMPLE 1987-05-04";
    let body = |code: &str| format!(r#"{{"__type":"{code}","Message":"{marker}"}}"#);
    let h = Harness::new(
        vec![
            event(400, body("InvalidImageFormatException")),
            event(500, body("InternalServerError")),
            event(400, body("AccessDeniedException")),
            event(400, body("SessionNotFoundException")),
        ],
        1,
    );
    let mut texts = Vec::new();
    for _ in 0..3 {
        let e = h.engine.analyze(&photo()).await.unwrap_err();
        texts.push(format!("{e} {e:?}"));
    }
    let id = LivenessSessionId::parse(SESSION).unwrap();
    let e = h.engine.liveness_session_results(&id).await.unwrap_err();
    assert_eq!(e, LivenessError::SessionNotFound);
    texts.push(format!("{e} {e:?}"));
    for t in texts {
        assert!(!t.contains("ALICE") && !t.contains("1987"), "{t}");
    }
}

// ---------------------------------------------------------------- circuit breaker

#[tokio::test]
async fn the_breaker_opens_after_repeated_failures_and_closes_after_a_good_probe() {
    let h = Harness::new(
        vec![
            err(500, "error_internal.json"),
            err(500, "error_internal.json"),
            err(400, "error_throttling.json"),
            err(400, "error_throttling.json"),
            ok("detect_frontal.json"),
            ok("compare_match.json"),
        ],
        2,
    );
    // Two calls, each retried once: the breaker opens after the second.
    assert_eq!(h.engine.analyze(&photo()).await, Err(unavailable()));
    assert_eq!(h.engine.analyze(&photo()).await, Err(unavailable()));
    assert_eq!(h.requests(), 4);
    assert!(matches!(
        h.engine.breaker().state(),
        BreakerState::Open { .. }
    ));

    // While open, every operation fails fast: the replay client sees nothing more.
    assert_eq!(h.engine.analyze(&photo()).await, Err(unavailable()));
    assert_eq!(
        h.engine.compare(&portrait(), &photo()).await,
        Err(unavailable())
    );
    let id = LivenessSessionId::parse(SESSION).unwrap();
    assert_eq!(
        h.engine.liveness_session_results(&id).await,
        Err(LivenessError::Backend(PortError::Unavailable {
            backend: "rekognition"
        }))
    );
    h.clock.advance_millis(9_999);
    assert_eq!(h.engine.analyze(&photo()).await, Err(unavailable()));
    assert_eq!(h.requests(), 4, "no request while the breaker is open");

    // After the cool-down one probe goes through; its success closes the breaker.
    h.clock.advance_millis(1);
    assert_eq!(
        h.engine.analyze(&photo()).await.unwrap().quality.face_count,
        1
    );
    assert_eq!(
        h.engine.breaker().state(),
        BreakerState::Closed { failures: 0 }
    );
    assert!(h.engine.compare(&portrait(), &photo()).await.is_ok());
    assert_eq!(h.requests(), 6);
}

// ---------------------------------------------------------------- hostile input

#[tokio::test]
async fn hostile_images_are_refused_before_any_request() {
    let h = Harness::new(Vec::new(), 3);
    // Raw bytes: a precise reason for each.
    assert_eq!(image_from_bytes(b"").unwrap_err(), ImageRejection::Empty);
    assert_eq!(
        image_from_bytes(b"%PDF-1.7 not an image").unwrap_err(),
        ImageRejection::NotJpegOrPng
    );
    let mut oversized = synthetic_jpeg(4000, 3000, None);
    oversized.resize(MAX_IMAGE_BYTES + 1, 0xAB);
    assert_eq!(
        image_from_bytes(&oversized).unwrap_err(),
        ImageRejection::TooLarge {
            max: MAX_IMAGE_BYTES
        }
    );

    // Images that kyc-core accepted (by magic bytes, under a larger limit) but Rekognition
    // cannot take: InvalidImage, and nothing is sent.
    let big = Image::parse(oversized, 8 * 1024 * 1024).unwrap();
    let junk = Image::parse(vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J'], 1024).unwrap();
    let truncated_png =
        Image::parse(vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A], 64).unwrap();
    for bad in [&big, &junk, &truncated_png] {
        assert_eq!(h.engine.analyze(bad).await, Err(FaceError::InvalidImage));
        assert_eq!(
            h.engine.compare(bad, &photo()).await,
            Err(FaceError::InvalidImage)
        );
        assert_eq!(
            h.engine.compare(&photo(), bad).await,
            Err(FaceError::InvalidImage)
        );
    }

    // Below Rekognition's 80-pixel minimum: no face, as the dlib engine says of tiny images.
    let tiny = image_from_bytes(&synthetic_jpeg(64, 64, None)).unwrap();
    let a = h.engine.analyze(&tiny).await.unwrap();
    assert_eq!((a.quality.face_count, a.quality.image_width_px), (0, 64));
    assert_eq!(
        h.engine.compare(&tiny, &photo()).await,
        Err(FaceError::NoFaceDetected)
    );

    assert_eq!(h.requests(), 0, "nothing reached Rekognition");
    assert_eq!(
        h.engine.breaker().state(),
        BreakerState::Closed { failures: 0 }
    );
}

#[test]
fn debug_output_never_shows_image_bytes() {
    let image = photo();
    let d = format!("{image:?}");
    assert_eq!(d, format!("Image(Jpeg, {} bytes)", image.bytes().len()));
    let r = ReferenceImage::Bytes(image);
    assert!(!format!("{r:?}").contains("255"), "{r:?}");
}

// ---------------------------------------------------------------- Face Liveness

#[tokio::test]
async fn a_liveness_session_is_created_with_the_requested_settings() {
    let h = Harness::new(vec![ok("liveness_create.json")], 1);
    let request = LivenessSessionRequest::new()
        .with_request_token("attempt-7f3a")
        .unwrap()
        .with_audit_images(2)
        .with_output(LivenessOutput {
            bucket: "kyc-live-frames-dev".to_owned(),
            key_prefix: Some("liveness/".to_owned()),
        })
        .with_kms_key("alias/kyc-dev");
    let id = h.engine.create_liveness_session(&request).await.unwrap();
    assert_eq!(id.as_str(), SESSION);

    let sent = h.sent();
    let (target, body) = &sent[0];
    assert_eq!(target, "RekognitionService.CreateFaceLivenessSession");
    assert_eq!(body["ClientRequestToken"], "attempt-7f3a");
    assert_eq!(body["KmsKeyId"], "alias/kyc-dev");
    assert_eq!(body["Settings"]["AuditImagesLimit"], 2);
    assert_eq!(
        body["Settings"]["OutputConfig"]["S3Bucket"],
        "kyc-live-frames-dev"
    );
    assert_eq!(body["Settings"]["OutputConfig"]["S3KeyPrefix"], "liveness/");
}

#[tokio::test]
async fn liveness_results_become_verdicts_the_decision_engine_accepts() {
    let h = Harness::new(
        vec![
            ok("liveness_succeeded.json"),
            ok("liveness_low_confidence.json"),
            ok("liveness_in_progress.json"),
            ok("liveness_expired.json"),
            err(400, "error_session_not_found.json"),
        ],
        1,
    );
    let id = LivenessSessionId::parse(SESSION).unwrap();
    let policy = LivenessConfidencePolicy::default();
    let today = Date::parse("2027-01-15").unwrap();
    let liveness_reasons = |v: LivenessVerdict| {
        let evidence = Evidence {
            liveness: v.evidence(),
            ..Evidence::default()
        };
        let d = DecisionPolicy::default().decide(&evidence, today);
        let codes: Vec<ReasonCode> = d.reasons.iter().map(|r| r.code).collect();
        (
            codes.contains(&ReasonCode::LivenessPending),
            codes.contains(&ReasonCode::LivenessFailed),
        )
    };

    let r = h.engine.liveness_session_results(&id).await.unwrap();
    assert_eq!(r.status, LivenessSessionStatus::Succeeded);
    assert!((r.confidence.unwrap().value() - 0.9764).abs() < 1e-5);
    assert_eq!(r.audit_image_count, 2);
    assert!(matches!(&r.reference_image, Some(ReferenceImage::Bytes(i)) if i.bytes().len() == 17));
    let debug = format!("{r:?}");
    assert!(
        !debug.contains("/9j/") && !debug.contains("255, 216"),
        "{debug}"
    );
    assert_eq!(policy.evaluate(&r), LivenessVerdict::Live);
    assert_eq!(liveness_reasons(policy.evaluate(&r)), (false, false));

    let r = h.engine.liveness_session_results(&id).await.unwrap();
    assert_eq!(policy.evaluate(&r), LivenessVerdict::NotLive);
    assert_eq!(liveness_reasons(LivenessVerdict::NotLive), (false, true));
    assert_eq!(
        r.reference_image,
        Some(ReferenceImage::S3 {
            bucket: "kyc-live-frames-dev".to_owned(),
            key: format!("liveness/{SESSION}/reference.jpg"),
        })
    );

    let r = h.engine.liveness_session_results(&id).await.unwrap();
    assert_eq!(policy.evaluate(&r), LivenessVerdict::Pending);
    assert_eq!(liveness_reasons(LivenessVerdict::Pending), (true, false));

    let r = h.engine.liveness_session_results(&id).await.unwrap();
    assert_eq!(policy.evaluate(&r), LivenessVerdict::Expired);
    assert_eq!(liveness_reasons(LivenessVerdict::Expired), (false, true));

    assert_eq!(
        h.engine.liveness_session_results(&id).await,
        Err(LivenessError::SessionNotFound)
    );
    let sent = h.sent();
    assert!(sent.iter().all(
        |(t, b)| t == "RekognitionService.GetFaceLivenessSessionResults"
            && b["SessionId"] == SESSION
    ));
}

#[tokio::test]
async fn a_result_for_another_session_is_refused() {
    let h = Harness::new(vec![ok("liveness_succeeded.json")], 1);
    let other = LivenessSessionId::parse("00000000-0000-4000-8000-000000000000").unwrap();
    assert_eq!(
        h.engine.liveness_session_results(&other).await,
        Err(LivenessError::UnexpectedResponse)
    );
}

#[tokio::test]
async fn liveness_throttling_is_retried() {
    let h = Harness::new(
        vec![
            err(400, "error_throttling.json"),
            ok("liveness_create.json"),
        ],
        2,
    );
    let id = h
        .engine
        .create_liveness_session(&LivenessSessionRequest::new())
        .await
        .unwrap();
    assert_eq!(id.as_str(), SESSION);
    assert_eq!(h.requests(), 2);
    let (_, body) = &h.sent()[1];
    assert_eq!(body["Settings"]["AuditImagesLimit"], 0);
    assert!(body.get("ClientRequestToken").is_none());
}
