//! The dlib face engine: [`DlibFaceEngine`] implements kyc-core's `FaceAnalyzer` (quality
//! measures and per-frame liveness observations) and `FaceComparer` (a calibrated 0–100
//! similarity) on one machine, with models installed by `cargo xtask setup`.
//!
//! # Pipeline
//!
//! 1. **Decode** ([`decode`]): the header's dimensions are checked against
//!    [`DecodeLimits`] (12,000 px a side, 40 MP) before any pixel is decoded; the decoder runs
//!    under a 512 MiB allocation limit; JPEG EXIF orientation is applied. Anything that fails is
//!    `FaceError::InvalidImage`.
//! 2. **Detect**: dlib's HOG detector on a copy downscaled to about 1 MP
//!    ([`EngineSettings::detection_pixels`]); when it finds nothing, the CNN (mmod) detector on a
//!    copy of about 0.3 MP ([`EngineSettings::cnn_pixels`]): HOG misses tilted and grey faces
//!    that the CNN finds, at about six times the cost. The largest face is the main face.
//! 3. **Align** with the 5-point landmark model, and **embed**: dlib's ResNet model gives 128
//!    numbers per face chip (150 px, aligned on the landmarks, no jitter).
//! 4. **Measure** ([`landmarks`], [`measure`]): head pose from the 5 points, brightness and
//!    sharpness of the face box, face and image size; eyes-open and smile only when the optional
//!    68-point model is installed (`KYC_FACE_LANDMARKS_68=1 cargo xtask setup`; **its training
//!    data, iBUG 300-W, restricts commercial use**, so it is off by default and those fields are
//!    `None` without it).
//!
//! Detection confidence: the wrapper gives boxes without scores, so the engine reports 0.99 for a
//! face whose landmarks are geometrically plausible and 0.5 otherwise (see
//! `engine::plausibility`).
//!
//! # Calibration: from embedding distance to similarity
//!
//! dlib compares faces by the Euclidean distance `d` between embeddings. The kit's policies use
//! a 0–100 similarity with default threshold 85 (the same number as for AWS Rekognition's
//! `CompareFaces`), so the engine maps `d` through fixed knots ([`calibration::KNOTS`]) with
//! straight lines between them:
//!
//! | distance `d` | similarity | why |
//! |---|---|---|
//! | 0.00 | 100 | identical embeddings |
//! | 0.40 | 93 | top of the same-person range seen with this model (0.33–0.41) |
//! | **0.50** | **85** | **the default threshold** |
//! | 0.60 | 50 | dlib's customary decision distance |
//! | 0.70 | 20 | |
//! | ≥ 0.90 | 0 | clearly different people |
//!
//! **Why 0.50 → 85.** On these models, the same person in different photos gave distances
//! 0.33–0.41 and different people 0.585 or more (two near misses under 0.6 were low-quality
//! or look-alike faces). dlib's usual threshold 0.6 is too loose for identity verification: it
//! accepts those near misses. 0.50 lies half-way between the two ranges, a margin of about 0.09
//! on each side, and is the distance at which the default threshold is met: `d ≤ 0.50` ⇔
//! similarity ≥ 85. The steep segment from 0.50 to 0.60 (85 → 50) makes the similarity fall
//! quickly in the region where errors happen, and a stricter policy threshold moves the cut
//! towards smaller distances (90 ↔ 0.4375, 93 ↔ 0.40). The map is monotone decreasing and
//! continuous; [`calibration::distance_for_similarity`] is its inverse. The integration tests
//! print the distance and similarity of every pair of real photos they check.
//!
//! # Quality measures
//!
//! `FaceQuality` carries: the face count; the confidence above; the head pose; the main face's
//! box size in pixels of the original image; the image size; brightness (mean luma of the face
//! box, 0–1) and sharpness (variance of the Laplacian of the face box resized to 128 px,
//! mapped to `V / (V + 100)`, 0–1) — see [`measure`].
//!
//! # Concurrency and blocking
//!
//! Each dlib model sits behind a mutex (they are `Send`, not `Sync`), so the engine is
//! `Send + Sync`. Its work is blocking: the `*_blocking` methods run on the calling thread and the
//! port implementations run them when their future is polled (poll it on a blocking thread).

pub mod calibration;
pub mod decode;
mod engine;
pub mod landmarks;
pub mod measure;

pub use decode::DecodeLimits;
pub use engine::{
    compare_analyses, embedding_distance, Detector, DlibFaceEngine, EngineSettings, Inspection,
    ModelError, MODEL_CNN_DETECTOR, MODEL_ENCODER, MODEL_LANDMARKS_5, MODEL_LANDMARKS_68,
};
