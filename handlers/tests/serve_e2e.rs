//! End to end through `kyc serve` on a real port with real images: generated identity
//! documents carrying a real face photo, uploaded three ways and read; liveness with still
//! photos (rejected) and with a sequence of frames whose measured head pose, eyes and smile
//! change (approved, with a token that verifies against the published JWKS); the "ID plus
//! selfie" endpoint; erasure; and a restart on the same data directory.
//!
//! One server for the whole file, driven step by step by one test (the steps depend on each
//! other, and the restart stops the server). Each step prints its time.
//!
//! # The frames
//!
//! The server measures each frame with the dlib engine (head pose from the 5 landmarks; eyes
//! open and smile from the 68 landmarks). The test measures its candidate frames with the same
//! engine and plans, for the challenge the server issued, a sequence that performs every
//! gesture: a frame neutral for the gesture (and for the one before), then one that triggers it
//! (then one back to neutral for `nod` and `blink`). The candidates are three real photos of
//! the same person reframed to the same face position and size (obama.jpg: frontal and
//! smiling; obama2.jpg: turned a little, not smiling; obama3.jpg: looking up) and affine warps
//! of the first two (a horizontal shear, which moves the nose base sideways against the eyes
//! as a head turn does; a vertical scale, which changes the eyes-to-nose drop as a nod does and
//! closes the eyes' aspect ratio). `smile` and `lookUp` come from the real photos; `turnLeft`,
//! `turnRight`, `nod` and `blink` only from warps. The planned sequence is checked with
//! kyc-core's `LivenessTracker` on the test's own measurements before it is sent.
//!
//! What this shows about the check: it verifies that the challenged gestures appear in order
//! on one continuous face; it does not tell a live face from photos. Unprocessed photos are
//! refused (one photo: no motion; different photos: the face jumps between frames), but the
//! same photos reframed pass a `smile`/`lookUp` challenge, and warps of one photo pass any.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use image::RgbImage;
use kyc_core::liveness::{
    Challenge, ChallengePolicy, FrameId, FrameObservation, Gesture, GestureThresholds,
    LivenessPolicy, LivenessTracker, Nonce,
};
use kyc_core::model::{Image, Timestamp};
use kyc_core::ports::FaceAnalysis;
use kyc_local::docgen::{DocFormat, DocSpec, Fonts, GeneratedDocument, Generator, Variant};
use kyc_local::face::DlibFaceEngine;
use serde_json::{json, Value};

/// The side of a reframed frame, in pixels.
const FRAME_SIDE: u32 = 480;
/// The face box's width in a reframed frame, as a fraction of the frame.
const FACE_FRACTION: f32 = 1.0 / 2.4;

/// Prints how long a step took.
struct Steps {
    start: Instant,
    last: Instant,
}

impl Steps {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            start: now,
            last: now,
        }
    }
    fn done(&mut self, what: &str) {
        let now = Instant::now();
        println!(
            "[{:>6.2} s] {what} ({:.2} s)",
            (now - self.start).as_secs_f64(),
            (now - self.last).as_secs_f64()
        );
        self.last = now;
    }
}

#[test]
fn a_verification_runs_end_to_end_through_kyc_serve() {
    let mut steps = Steps::new();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    // The server loads its engines while the test makes its fixtures.
    let (server, fx) = std::thread::scope(|s| {
        let fixtures = s.spawn(|| Fixtures::make(tmp.path()));
        let server = Server::start(&data, &[]);
        (server, fixtures.join().expect("making the fixtures"))
    });
    println!(
        "kyc serve ready in {:.2} s; {} candidate frames measured",
        server.startup.as_secs_f64(),
        fx.frames.len()
    );
    steps.done("server started and fixtures made");

    // 1. Uploads: raw JPEG (A), JSON base64 PNG (B), multipart JPEG (C).
    let before_a = object_files(&data);
    let key = format!("e2e-{}", unique());
    let a = upload_raw(&server, &fx.doc_a.bytes, "image/jpeg", &key);
    let a_files: Vec<String> = object_files(&data).difference(&before_a).cloned().collect();
    assert_eq!(a_files.len(), 1, "one stored object for the upload");
    let replay = server.send(
        &Request::new("POST", "/v1/upload-id")
            .header("content-type", "image/jpeg")
            .header("idempotency-key", &key)
            .body(Body::Sized(fx.doc_a.bytes.clone())),
    );
    assert_eq!(replay.status, 201, "{}", replay.text());
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json()["verificationId"], a.as_str());
    assert_eq!(
        object_files(&data).len(),
        before_a.len() + 1,
        "a replay stores nothing"
    );
    let b = upload_json(&server, &fx.doc_b.bytes, "image/png");
    let c = upload_multipart(&server, &fx.doc_c.bytes);
    assert!(a != b && b != c && a != c);
    steps.done("three uploads (raw, JSON, multipart) and an idempotent replay");

    for (id, doc) in [(&a, &fx.doc_a), (&b, &fx.doc_b), (&c, &fx.doc_c)] {
        let v = poll_verification(&server, id, Duration::from_secs(120), |d| {
            d["state"] != "documentUploaded"
        });
        assert_eq!(v["state"], "documentRead", "{v}");
        assert_eq!(v["status"], "pending");
        assert_fields_match(&v["document"], doc);
        assert_eq!(v["document"]["mrz"]["valid"], true);
    }
    steps.done("three documents read and matching the generator's ground truth");

    // 2. Liveness with one still photo (B) and with several still photos of the same person
    // (C), side by side.
    let still = face_photo("obama.jpg");
    let stills = [
        face_photo("obama.jpg"),
        face_photo("obama2.jpg"),
        face_photo("obama3.jpg"),
    ];
    let refs: Vec<&[u8]> = stills.iter().map(Vec::as_slice).collect();
    let (b_doc, c_doc) = std::thread::scope(|s| {
        let one = s.spawn(|| liveness_with_stills(&server, &b, &[still.as_slice()]));
        let several = liveness_with_stills(&server, &c, &refs);
        (one.join().expect("the one-photo run"), several)
    });
    let b_reasons = reasons(&b_doc["liveness"]);
    println!("one still photo: liveness reasons {b_reasons:?}");
    assert!(b_reasons.contains(&"NO_MOTION".to_owned()), "{b_doc}");
    println!(
        "several still photos: liveness reasons {:?}",
        reasons(&c_doc["liveness"])
    );
    steps.done("liveness with one still photo and with three still photos rejected");

    // Every challenge the server may issue can be performed by the candidate frames (so the
    // next step does not depend on the draw), and the gestures the real photos show need no
    // warp at all.
    assert_every_challenge_can_be_planned(&fx.frames, &fx.observable);
    steps.done("every possible challenge planned and checked with kyc-core's tracker");

    // 3. Liveness with frames that perform the gestures, to approval and a token.
    let before_frames = object_files(&data);
    let (a_doc, warped, total) = liveness_with_gestures(&server, &a, &fx);
    let a_frames: Vec<String> = object_files(&data)
        .difference(&before_frames)
        .cloned()
        .collect();
    assert_eq!(
        a_frames.len(),
        total,
        "one stored object per accepted frame"
    );
    assert_eq!(a_doc["status"], "approved", "{a_doc}");
    assert_eq!(a_doc["liveness"]["passed"], true);
    assert_eq!(a_doc["faceMatch"]["match"], true);
    assert_eq!(a_doc["sanctions"]["status"], "clear");
    println!(
        "gestures: {total} frames ({warped} warped), face match {} over {} frames",
        a_doc["faceMatch"]["similarity"], a_doc["faceMatch"]["framesCompared"]
    );
    let token = a_doc["token"].as_str().expect("a token").to_owned();
    let jwks = server.send(&Request::get("/.well-known/jwks.json"));
    assert_eq!(jwks.status, 200);
    let claims = verify_token(&token, &jwks.body);
    assert_eq!(claims["verification_id"], a.as_str(), "{claims}");
    steps.done("liveness with gestures approved; token verified with the JWKS");

    // 4. ID plus selfie.
    let same = ips(&server, &face_photo("obama2.jpg"), &fx.doc_a.bytes);
    assert_eq!(same.status, 200, "{}", same.text());
    let same = same.json();
    assert_eq!(same["match"], true, "{same}");
    let other = ips(&server, &face_photo("biden.jpg"), &fx.doc_a.bytes);
    assert_eq!(other.status, 200, "{}", other.text());
    let other = other.json();
    assert_eq!(other["match"], false, "{other}");
    println!(
        "ID plus selfie: same person {} / different person {} (threshold {})",
        same["similarity"], other["similarity"], same["threshold"]
    );
    steps.done("ID plus selfie: same person matches, a different one does not");

    // 5. Erasure.
    let files = object_files(&data);
    assert!(a_files.iter().chain(&a_frames).all(|f| files.contains(f)));
    let del = server.send(&Request::new("DELETE", &format!("/v1/verifications/{a}")));
    assert_eq!(del.status, 204, "{}", del.text());
    assert_problem(
        &server.send(&Request::get(&format!("/v1/verify/{a}"))),
        410,
        "an erased verification",
    );
    let files = object_files(&data);
    for f in a_files.iter().chain(&a_frames) {
        assert!(
            !files.contains(f),
            "an object of the erased verification is left"
        );
    }
    assert!(
        !files.is_empty(),
        "the other verifications' objects are still there"
    );
    let again = server.send(&Request::new("DELETE", &format!("/v1/verifications/{a}")));
    assert_eq!(again.status, 204, "erasure is idempotent");
    steps.done("erasure: 204, then 410, and no object file left");

    // 6. Restart on the same data directory.
    let (status, took) = server.stop();
    assert!(status.success(), "kyc serve exited with {status}");
    println!("stopped by SIGTERM in {:.2} s", took.as_secs_f64());
    let server = Server::start(&data, &[]);
    let b_again = server.send(&Request::get(&format!("/v1/verify/{b}")));
    assert_eq!(b_again.status, 200);
    let b_again = b_again.json();
    assert_eq!(b_again["status"], "rejected");
    assert_eq!(b_again["document"], b_doc["document"]);
    assert_eq!(b_again["liveness"], b_doc["liveness"]);
    assert_problem(
        &server.send(&Request::get(&format!("/v1/verify/{a}"))),
        410,
        "still erased after the restart",
    );
    let jwks = server.send(&Request::get("/.well-known/jwks.json"));
    verify_token(&token, &jwks.body);
    let (status, _) = server.stop();
    assert!(status.success(), "kyc serve exited with {status}");
    steps.done("restart: verifications, erasure and signing key survived");
}

// ------------------------------------------------------------------------------------------
// Fixtures.

struct Fixtures {
    doc_a: GeneratedDocument,
    doc_b: GeneratedDocument,
    doc_c: GeneratedDocument,
    frames: Vec<Frame>,
    /// The gestures the face engine can observe.
    observable: Vec<Gesture>,
}

/// One candidate liveness frame and what the engine measures in it.
struct Frame {
    label: String,
    /// 0 for a reframed real photo; the size of the warp otherwise.
    warp: f32,
    bytes: Vec<u8>,
    analysis: FaceAnalysis,
}

impl Frame {
    fn yaw(&self) -> f32 {
        self.analysis
            .observation
            .as_ref()
            .map_or(f32::NAN, |o| o.pose.yaw())
    }
    fn pitch(&self) -> f32 {
        self.analysis
            .observation
            .as_ref()
            .map_or(f32::NAN, |o| o.pose.pitch())
    }
    fn eyes(&self) -> Option<f32> {
        self.analysis
            .observation
            .as_ref()
            .and_then(|o| o.eyes_open)
            .map(|p| p.value())
    }
    fn smile(&self) -> Option<f32> {
        self.analysis
            .observation
            .as_ref()
            .and_then(|o| o.smile)
            .map(|p| p.value())
    }
    fn usable(&self) -> bool {
        self.analysis.quality.face_count == 1
            && self
                .analysis
                .observation
                .as_ref()
                .is_some_and(|o| o.confidence.value() >= 0.9)
    }
}

impl Fixtures {
    fn make(dir: &Path) -> Fixtures {
        // A generator whose only face photo is obama.jpg.
        let faces = dir.join("faces");
        std::fs::create_dir_all(&faces).expect("a faces directory");
        std::fs::write(faces.join("obama.jpg"), face_photo("obama.jpg")).expect("copying");
        let generator =
            Generator::new(Fonts::system().expect("the document fonts")).with_faces_from(&faces);
        assert_eq!(generator.face_count(), 1);
        let today = Timestamp::from_millis(now_ms()).date();
        let doc = |seed: u64, quality: Option<u8>| {
            let spec = DocSpec::new(seed, DocFormat::Td3, today).with_variant(Variant {
                dpi: 300,
                jpeg_quality: quality,
                ..Variant::CLEAN
            });
            generator.generate(&spec).expect("generating a document")
        };
        let engine = DlibFaceEngine::open(&cache_dir().join("models").join("dlib"))
            .expect("the dlib models (run `cargo xtask setup`)");
        // Without the optional 68-point model there is no eyes-open or smile measure, and
        // `kyc serve` issues only the head-pose gestures.
        let observable = if engine.has_68_landmarks() {
            Gesture::ALL.to_vec()
        } else {
            vec![
                Gesture::TurnLeft,
                Gesture::TurnRight,
                Gesture::LookUp,
                Gesture::Nod,
            ]
        };
        Fixtures {
            observable,
            doc_a: doc(71, Some(90)),
            doc_b: doc(72, None),
            doc_c: doc(73, Some(85)),
            frames: candidate_frames(&engine),
        }
    }
}

fn analyse(engine: &DlibFaceEngine, bytes: &[u8]) -> FaceAnalysis {
    engine
        .analyze_blocking(&Image::parse(bytes.to_vec(), usize::MAX).expect("an image"))
        .expect("analysing a frame")
}

/// Samples `src` at (x, y) bilinearly; grey outside.
fn sample(src: &RgbImage, x: f32, y: f32) -> image::Rgb<u8> {
    let (w, h) = (src.width() as f32, src.height() as f32);
    if !(x >= 0.0 && y >= 0.0 && x < w - 1.0 && y < h - 1.0) {
        return image::Rgb([128, 128, 128]);
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let p = |dx: u32, dy: u32| src.get_pixel(x0 as u32 + dx, y0 as u32 + dy).0;
    let (a, b, c, d) = (p(0, 0), p(1, 0), p(0, 1), p(1, 1));
    let mut out = [0u8; 3];
    for (i, o) in out.iter_mut().enumerate() {
        let top = f32::from(a[i]) * (1.0 - fx) + f32::from(b[i]) * fx;
        let bottom = f32::from(c[i]) * (1.0 - fx) + f32::from(d[i]) * fx;
        *o = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    image::Rgb(out)
}

/// A square frame with the photo's face centred at a fixed size (a camera that follows the
/// face).
fn reframe(engine: &DlibFaceEngine, photo: &[u8]) -> RgbImage {
    let src = image::load_from_memory(photo)
        .expect("decoding a photo")
        .to_rgb8();
    let a = analyse(engine, photo);
    assert_eq!(
        (src.width(), src.height()),
        (a.quality.image_width_px, a.quality.image_height_px),
        "the photo must not depend on its EXIF orientation"
    );
    let b = a.observation.expect("a face in the photo").bounding_box;
    let (cx, cy) = b.centre();
    let (cx, cy) = (cx * src.width() as f32, cy * src.height() as f32);
    let scale = b.width() * src.width() as f32 / FACE_FRACTION / FRAME_SIDE as f32;
    let half = FRAME_SIDE as f32 / 2.0;
    RgbImage::from_fn(FRAME_SIDE, FRAME_SIDE, |x, y| {
        sample(
            &src,
            cx + (x as f32 - half) * scale,
            cy + (y as f32 - half) * scale,
        )
    })
}

/// Inverse-maps every pixel through `f` (destination → source, coordinates centred).
fn warp(src: &RgbImage, f: impl Fn(f32, f32) -> (f32, f32)) -> RgbImage {
    let half = FRAME_SIDE as f32 / 2.0;
    RgbImage::from_fn(src.width(), src.height(), |x, y| {
        let (sx, sy) = f(x as f32 - half, y as f32 - half);
        sample(src, sx + half, sy + half)
    })
}

/// The reframed real photos, and shears and vertical scales of the first two.
fn candidate_frames(engine: &DlibFaceEngine) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut add = |label: String, warp: f32, img: &RgbImage| {
        let bytes = jpeg(img, 90);
        let analysis = analyse(engine, &bytes);
        frames.push(Frame {
            label,
            warp,
            bytes,
            analysis,
        });
    };
    for name in ["obama.jpg", "obama2.jpg", "obama3.jpg"] {
        let framed = reframe(engine, &face_photo(name));
        add(name.to_owned(), 0.0, &framed);
        if name == "obama3.jpg" {
            continue;
        }
        for s in [0.1f32, 0.15, 0.25, 0.35, 0.45] {
            for s in [s, -s] {
                add(
                    format!("{name} shear {s:+}"),
                    s.abs(),
                    &warp(&framed, |x, y| (x + s * y, y)),
                );
            }
        }
        for v in [0.7f32, 0.75, 0.8, 1.15, 1.25, 1.35] {
            add(
                format!("{name} vertical x{v}"),
                (v - 1.0).abs(),
                &warp(&framed, |x, y| (x, y / v)),
            );
        }
    }
    frames.sort_by(|a, b| a.warp.total_cmp(&b.warp));
    for f in &frames {
        println!(
            "  {:<28} yaw {:>6.1} pitch {:>6.1} eyes {:>5} smile {:>5}",
            f.label,
            f.yaw(),
            f.pitch(),
            f.eyes().map_or("-".into(), |v| format!("{v:.2}")),
            f.smile().map_or("-".into(), |v| format!("{v:.2}")),
        );
    }
    frames
}

/// Whether the frame is neutral for `g` (as kyc-core's detectors decide, default thresholds).
fn neutral(g: Gesture, f: &Frame, t: &GestureThresholds) -> bool {
    match g {
        Gesture::TurnLeft | Gesture::TurnRight => f.yaw().abs() <= t.neutral_yaw_deg,
        Gesture::LookUp | Gesture::Nod => f.pitch().abs() <= t.neutral_pitch_deg,
        Gesture::Blink => f.eyes().is_some_and(|p| p >= t.eyes_open_min),
        Gesture::Smile => f.smile().is_some_and(|p| p <= t.smile_neutral_max),
    }
}

/// Whether the frame shows `g`.
fn triggered(g: Gesture, f: &Frame, t: &GestureThresholds) -> bool {
    match g {
        Gesture::TurnLeft => f.yaw() >= t.turn_yaw_deg,
        Gesture::TurnRight => f.yaw() <= -t.turn_yaw_deg,
        Gesture::LookUp => f.pitch() >= t.look_up_pitch_deg,
        Gesture::Nod => f.pitch() <= -t.nod_pitch_deg,
        Gesture::Blink => f.eyes().is_some_and(|p| p <= t.eyes_closed_max),
        Gesture::Smile => f.smile().is_some_and(|p| p >= t.smile_min),
    }
}

/// Indices into `frames` that perform `gestures` in order, at least `min_frames` long.
fn plan(gestures: &[Gesture], frames: &[Frame], min_frames: usize) -> Vec<usize> {
    let t = GestureThresholds::default();
    // Frames are sorted by warp size: the first match is the real photo or the mildest warp.
    let pick = |what: &str, ok: &dyn Fn(&Frame) -> bool| -> usize {
        frames
            .iter()
            .position(|f| f.usable() && ok(f))
            .unwrap_or_else(|| panic!("no candidate frame for {what} in {gestures:?}"))
    };
    let mut seq = Vec::new();
    let mut prev: Option<Gesture> = None;
    for &g in gestures {
        let arm = pick("a neutral frame", &|f| {
            neutral(g, f, &t) && prev.is_none_or(|p| neutral(p, f, &t))
        });
        let trigger = pick("a triggered frame", &|f| triggered(g, f, &t));
        seq.extend([arm, trigger]);
        if matches!(g, Gesture::Nod | Gesture::Blink) {
            seq.push(pick("a return to neutral", &|f| neutral(g, f, &t)));
        }
        prev = Some(g);
    }
    // Fill up to the minimum with the first neutral frame, before any gesture.
    let filler = seq.first().copied().unwrap_or(0);
    let missing = min_frames.saturating_sub(seq.len());
    let mut out = vec![filler; missing];
    out.extend(seq);
    out
}

/// Plans every sequence of 2 to 4 gestures without immediate repeats (what the default
/// challenge policy draws from) and checks each plan with kyc-core's tracker.
fn assert_every_challenge_can_be_planned(frames: &[Frame], observable: &[Gesture]) {
    let policy = ChallengePolicy::default();
    let mut sequences: Vec<Vec<Gesture>> = vec![Vec::new()];
    let mut checked = 0;
    for len in 1..=4 {
        sequences = sequences
            .iter()
            .flat_map(|s| {
                observable
                    .iter()
                    .filter(move |g| s.last() != Some(*g))
                    .map(move |g| [s.as_slice(), &[*g]].concat())
            })
            .collect();
        if len < 2 {
            continue;
        }
        for gestures in &sequences {
            let min = usize::try_from(policy.min_frames_for(gestures.len())).unwrap_or(0);
            let seq = plan(gestures, frames, min);
            let outcome = simulate(gestures, frames, &seq);
            assert!(outcome.passed, "{gestures:?}: {:?}", outcome.reasons);
            let real_only = observable.contains(&Gesture::Smile)
                && gestures
                    .iter()
                    .all(|g| matches!(g, Gesture::Smile | Gesture::LookUp));
            if real_only {
                assert!(
                    seq.iter().all(|&k| frames[k].warp == 0.0),
                    "{gestures:?} needs no warp"
                );
            }
            checked += 1;
        }
    }
    let n = observable.len();
    assert_eq!(checked, n * (n - 1) * (1 + (n - 1) + (n - 1) * (n - 1)));
}

/// Runs the plan through kyc-core's tracker on the test's own measurements.
fn simulate(
    gestures: &[Gesture],
    frames: &[Frame],
    seq: &[usize],
) -> kyc_core::liveness::LivenessOutcome {
    let issued = Timestamp::from_millis(now_ms());
    let nonce = Nonce::from_bytes([7; 16]);
    let challenge = Challenge::fixed(nonce, gestures, issued, &ChallengePolicy::default());
    let mut tracker = LivenessTracker::new(challenge, LivenessPolicy::default());
    for (i, &k) in seq.iter().enumerate() {
        let at = issued.plus_millis(200 * (i as i64 + 1));
        let a = &frames[k].analysis;
        tracker
            .submit(FrameObservation {
                frame_id: FrameId::parse(&format!("sim-{i}")).expect("a frame id"),
                nonce,
                captured_at: at,
                received_at: at,
                face_count: a.quality.face_count,
                face: a.observation.clone(),
            })
            .expect("a planned frame is admitted");
    }
    tracker.outcome(issued.plus_millis(200 * (seq.len() as i64 + 1)))
}

// ------------------------------------------------------------------------------------------
// Steps.

fn upload_raw(server: &Server, bytes: &[u8], content_type: &str, key: &str) -> String {
    let r = server.send(
        &Request::new("POST", "/v1/upload-id")
            .header("content-type", content_type)
            .header("idempotency-key", key)
            .body(Body::Sized(bytes.to_vec())),
    );
    uploaded(&r)
}

fn upload_json(server: &Server, bytes: &[u8], mime: &str) -> String {
    let r = server.send(&Request::json(
        "/v1/upload-id",
        &json!({ "image": format!("data:{mime};base64,{}", b64(bytes)) }),
    ));
    uploaded(&r)
}

/// A multipart form whose image part follows a 3 MiB text part: the endpoint's limit, not a
/// framework default (2 MiB), bounds the form.
fn upload_multipart(server: &Server, bytes: &[u8]) -> String {
    let boundary = format!("kyc-e2e-{}", unique());
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\ncontent-disposition: form-data; name=\"note\"\r\n\r\n").as_bytes(),
    );
    body.resize(body.len() + 3 * 1024 * 1024, b'x');
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\ncontent-disposition: form-data; name=\"image\"; filename=\"id.jpg\"\r\n\
             content-type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = server.send(
        &Request::new("POST", "/v1/upload-id")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::Sized(body)),
    );
    uploaded(&r)
}

fn uploaded(r: &Response) -> String {
    assert_eq!(r.status, 201, "upload: {}", r.text());
    let v = r.json();
    assert!(v["expiresAt"].as_str().is_some_and(|s| s.ends_with('Z')));
    v["verificationId"]
        .as_str()
        .expect("a verification id")
        .to_owned()
}

/// A read name equals the printed one up to folding and the ICAO spellings.
fn same_name(read: &str, truth: &str) -> bool {
    let norm = |s: &str| {
        s.split('<')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let read = norm(&kyc_core::text::to_mrz_name(read));
    kyc_core::text::mrz_name_variants(truth)
        .iter()
        .any(|v| norm(v) == read)
}

fn field(doc: &Value, name: &str) -> String {
    let f = &doc["fields"][name];
    f.get("value")
        .unwrap_or(f)
        .as_str()
        .unwrap_or_else(|| panic!("field {name} missing: {doc}"))
        .to_owned()
}

fn assert_fields_match(doc: &Value, generated: &GeneratedDocument) {
    let t = &generated.truth;
    assert!(same_name(&field(doc, "surname"), &t.surname), "surname");
    assert!(
        same_name(&field(doc, "givenNames"), &t.given_names),
        "given names"
    );
    assert_eq!(field(doc, "birthDate"), t.birth_date.to_string());
    assert_eq!(field(doc, "expiryDate"), t.expiry_date.to_string());
    assert_eq!(field(doc, "documentNumber"), t.document_number);
    assert_eq!(field(doc, "nationality"), t.nationality);
    assert_eq!(field(doc, "sex"), t.sex.code().to_string());
}

fn start_liveness(server: &Server, id: &str) -> Value {
    let r = server.send(&Request::json(
        "/v1/start-liveness",
        &json!({ "verificationId": id }),
    ));
    assert_eq!(r.status, 200, "start-liveness: {}", r.text());
    r.json()["challenge"].clone()
}

/// Submits one frame captured now (strictly after `last`); returns the response.
fn submit(
    server: &Server,
    id: &str,
    nonce: &str,
    n: usize,
    bytes: &[u8],
    last: &mut i64,
) -> Response {
    let at = now_ms().max(*last + 1);
    *last = at;
    server.send(&Request::json(
        "/v1/submit-frame",
        &json!({
            "verificationId": id,
            "nonce": nonce,
            "frameId": format!("frame-{n:03}"),
            "capturedAt": rfc3339(at),
            "image": b64(bytes),
        }),
    ))
}

/// Submits the still photos in turn until the liveness step ends; returns the decision.
fn liveness_with_stills(server: &Server, id: &str, photos: &[&[u8]]) -> Value {
    let challenge = start_liveness(server, id);
    let nonce = challenge["nonce"].as_str().expect("a nonce");
    let mut last = 0;
    let mut sent = 0;
    // Until the step ends with the frame limit, or (on a slow machine) until the deadline
    // refuses frames; then the decision document evaluates the expired challenge.
    for n in 0..200 {
        let r = submit(server, id, nonce, n, photos[n % photos.len()], &mut last);
        if r.status != 202 {
            let p = assert_problem(&r, 422, "a frame after the deadline");
            assert!(
                p["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("FRAME_AFTER_DEADLINE")),
                "{p}"
            );
            break;
        }
        sent += 1;
        if r.json()["livenessDone"] == true {
            break;
        }
    }
    let doc = poll_verification(server, id, Duration::from_secs(90), |d| {
        d["state"] == "decided"
    });
    println!(
        "{sent} still frames for {}: status {} {:?}",
        challenge["gestures"], doc["status"], doc["reasons"]
    );
    assert_eq!(doc["status"], "rejected", "{doc}");
    assert_eq!(doc["liveness"]["passed"], false, "{doc}");
    assert!(
        reasons(doc.get("reasons").unwrap_or(&Value::Null)).contains(&"LIVENESS_FAILED".to_owned()),
        "{doc}"
    );
    assert!(doc.get("token").is_none());
    doc
}

fn reasons(v: &Value) -> Vec<String> {
    let list = v.get("reasons").unwrap_or(v);
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Plans and submits frames that perform the challenge; returns the decision, the number of
/// warped frames and the number of frames.
fn liveness_with_gestures(server: &Server, id: &str, fx: &Fixtures) -> (Value, usize, usize) {
    let challenge = start_liveness(server, id);
    let gestures: Vec<Gesture> =
        serde_json::from_value(challenge["gestures"].clone()).expect("the gestures");
    let min_frames = challenge["minFrames"].as_u64().expect("minFrames") as usize;
    let seq = plan(&gestures, &fx.frames, min_frames);
    let sim = simulate(&gestures, &fx.frames, &seq);
    assert!(
        sim.passed,
        "the planned frames do not pass locally: {:?}",
        sim.reasons
    );
    let labels: Vec<&str> = seq.iter().map(|&k| fx.frames[k].label.as_str()).collect();
    println!("challenge {gestures:?}: frames {labels:?}");
    let nonce = challenge["nonce"].as_str().expect("a nonce");
    let mut last = 0;
    for (n, &k) in seq.iter().enumerate() {
        let r = submit(server, id, nonce, n, &fx.frames[k].bytes, &mut last);
        assert_eq!(r.status, 202, "frame {n}: {}", r.text());
        let done = r.json()["livenessDone"] == true;
        assert_eq!(done, n + 1 == seq.len(), "frame {n}: {}", r.text());
    }
    let doc = poll_verification(server, id, Duration::from_secs(30), |d| {
        d["state"] == "decided"
    });
    let warped = seq.iter().filter(|&&k| fx.frames[k].warp > 0.0).count();
    (doc, warped, seq.len())
}

fn ips(server: &Server, selfie: &[u8], document: &[u8]) -> Response {
    server.send(&Request::json(
        "/v1/ips",
        &json!({ "source": b64(selfie), "target": b64(document) }),
    ))
}

/// Verifies the token's signature with the JWK set and its claims; returns the claims.
fn verify_token(token: &str, jwks: &[u8]) -> Value {
    use kyc_core::token::{Jwks, UnverifiedToken};
    let set: Jwks = serde_json::from_slice(jwks).expect("a JWK set");
    let verifier = kyc_local::signing::JwksVerifier::new(&set);
    assert!(!verifier.is_empty());
    let claims = UnverifiedToken::parse(token)
        .expect("a well-formed token")
        .verify(
            &verifier,
            "kyc-kit",
            "kyc-apps",
            Timestamp::from_millis(now_ms()),
            Duration::from_secs(5),
        )
        .expect("a token that verifies");
    serde_json::to_value(claims).expect("claims as JSON")
}
