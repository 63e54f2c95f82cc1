//! Pure mappings from Rekognition's response shapes (DetectFaces `FaceDetail`, CompareFaces
//! matches) to kyc-core's observations: [`FaceQuality`], [`FaceObservation`], [`Similarity`].
//!
//! Nothing here does I/O; every number from the service is range-checked (NaN, out-of-range
//! and missing values are clamped or left out), so a malformed response cannot panic or yield an
//! invalid kyc-core value.

use aws_sdk_rekognition::operation::compare_faces::CompareFacesOutput;
use aws_sdk_rekognition::types::{BoundingBox, ComparedFace, FaceDetail, ImageQuality, Pose};
use kyc_core::facematch::FaceQuality;
use kyc_core::liveness::{FaceBox, FaceObservation, HeadPose, Probability};
use kyc_core::model::Similarity;
use kyc_core::ports::{FaceAnalysis, FaceComparison, FaceError};

use super::image_check::ImageInfo;

/// Rekognition's `Pose` angles (degrees) as a kyc-core [`HeadPose`]: **the one place where the
/// sign convention is decided**.
///
/// The mapping is the identity: kyc-core's [`HeadPose`] is defined to be Rekognition's
/// orientation (yaw > 0 when the person turns to their own left, pitch > 0 when they look up,
/// roll > 0 towards their own left shoulder). AWS's API reference gives only the ranges, not
/// the signs; the evidence for the orientation, and its limits, are set out in the module
/// documentation of [`crate::rekognition`], and the fixture tests pin it.
///
/// Values are clamped into -180..=180; NaN becomes 0.
///
/// ```
/// use kyc_aws::rekognition::head_pose_from_rekognition;
/// let p = head_pose_from_rekognition(-24.4, -9.7, 4.7);
/// assert_eq!((p.yaw(), p.pitch(), p.roll()), (-24.4, -9.7, 4.7)); // turned to their own right
/// assert_eq!(head_pose_from_rekognition(f32::NAN, 200.0, -190.0).pitch(), 180.0);
/// ```
pub fn head_pose_from_rekognition(yaw: f32, pitch: f32, roll: f32) -> HeadPose {
    let angle = |v: f32| {
        if v.is_nan() {
            0.0
        } else {
            v.clamp(-180.0, 180.0)
        }
    };
    HeadPose::new(angle(yaw), angle(pitch), angle(roll)).unwrap_or(HeadPose::FRONTAL)
}

/// A Rekognition boolean attribute (`EyesOpen`, `Smile`, `MouthOpen`: `{Value, Confidence}`)
/// as the probability that it holds: `Confidence/100` when `Value` is true, `1 - Confidence/100`
/// when false; `None` when the confidence is missing or NaN. (The SDK reads a missing `Value`
/// as false.)
///
/// ```
/// use kyc_aws::rekognition::attribute_probability;
/// assert_eq!(attribute_probability(true, Some(98.0)).unwrap().value(), 0.98);
/// assert!((attribute_probability(false, Some(90.0)).unwrap().value() - 0.1).abs() < 1e-6);
/// assert_eq!(attribute_probability(true, None), None);
/// ```
pub fn attribute_probability(value: bool, confidence: Option<f32>) -> Option<Probability> {
    let c = percent(confidence?)?;
    let p = if value { c } else { 1.0 - c };
    Probability::parse(p.clamp(0.0, 1.0)).ok()
}

/// A percentage as a fraction in 0..=1; `None` for NaN.
fn percent(v: f32) -> Option<f32> {
    (!v.is_nan()).then(|| v.clamp(0.0, 100.0) / 100.0)
}

fn probability(percent_value: Option<f32>) -> Option<Probability> {
    percent_value
        .and_then(percent)
        .and_then(|v| Probability::parse(v).ok())
}

fn finite(v: Option<f32>) -> f32 {
    v.filter(|v| v.is_finite()).unwrap_or(0.0)
}

/// A box's normalised `(left, top, width, height)`; a missing box is an empty one at the origin
/// (its face then measures 0 pixels and fails any size gate).
fn box_parts(b: Option<&BoundingBox>) -> (f32, f32, f32, f32) {
    b.map_or((0.0, 0.0, 0.0, 0.0), |b| {
        (
            finite(b.left()),
            finite(b.top()),
            finite(b.width()).max(0.0),
            finite(b.height()).max(0.0),
        )
    })
}

fn area(b: Option<&BoundingBox>) -> f32 {
    let (_, _, w, h) = box_parts(b);
    w * h
}

/// The box as a kyc-core [`FaceBox`], clamped into the range it accepts.
fn face_box(b: Option<&BoundingBox>) -> FaceBox {
    let (l, t, w, h) = box_parts(b);
    let pos = |v: f32| v.clamp(-1.0, 2.0);
    let len = |v: f32| v.clamp(FaceBox::MIN_SIDE, 2.0);
    FaceBox::new(pos(l), pos(t), len(w), len(h)).unwrap_or(FaceBox::CENTRED)
}

/// A fraction of an image side in whole pixels.
fn pixels(fraction: f32, side: u32) -> u32 {
    let v = (f64::from(fraction) * f64::from(side)).round();
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        v as u32
    }
}

fn pose(p: Option<&Pose>) -> HeadPose {
    p.map_or(HeadPose::FRONTAL, |p| {
        head_pose_from_rekognition(finite(p.yaw()), finite(p.pitch()), finite(p.roll()))
    })
}

fn light(q: Option<&ImageQuality>) -> (Option<Probability>, Option<Probability>) {
    q.map_or((None, None), |q| {
        (probability(q.brightness()), probability(q.sharpness()))
    })
}

/// The quality measures of a face with this box, confidence, pose and light in `image`.
fn quality(
    face_count: usize,
    bounding_box: Option<&BoundingBox>,
    confidence: Option<f32>,
    head: HeadPose,
    quality: Option<&ImageQuality>,
    image: &ImageInfo,
) -> FaceQuality {
    let (_, _, w, h) = box_parts(bounding_box);
    let (brightness, sharpness) = light(quality);
    FaceQuality {
        face_count: u32::try_from(face_count).unwrap_or(u32::MAX),
        confidence: probability(confidence).unwrap_or(Probability::ZERO),
        pose: head,
        face_width_px: pixels(w, image.width),
        face_height_px: pixels(h, image.height),
        image_width_px: image.width,
        image_height_px: image.height,
        brightness,
        sharpness,
    }
}

/// The quality of an image in which no face was found.
pub(crate) fn no_face_quality(image: &ImageInfo) -> FaceQuality {
    FaceQuality {
        face_count: 0,
        confidence: Probability::ZERO,
        pose: HeadPose::FRONTAL,
        face_width_px: 0,
        face_height_px: 0,
        image_width_px: image.width,
        image_height_px: image.height,
        brightness: None,
        sharpness: None,
    }
}

/// What DetectFaces saw in one image, with more than the port's [`FaceAnalysis`] carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// The port's view: quality measures and the main (largest) face's observation.
    pub analysis: FaceAnalysis,
    /// Every face found, largest first, in normalised image coordinates.
    pub faces: Vec<FaceBox>,
    /// Probability that the main face's mouth is open (Rekognition's `MouthOpen`), which
    /// kyc-core's `FaceObservation` has no field for.
    pub mouth_open: Option<Probability>,
}

impl Detection {
    /// The detection of an image without faces.
    pub(crate) fn empty(image: &ImageInfo) -> Self {
        Self {
            analysis: FaceAnalysis {
                quality: no_face_quality(image),
                observation: None,
            },
            faces: Vec::new(),
            mouth_open: None,
        }
    }
}

/// Maps DetectFaces' `FaceDetails` for an image of the given header to a [`Detection`]: the
/// largest face (by box area) is the main face, every face counts.
pub fn detection_from_face_details(faces: &[FaceDetail], image: &ImageInfo) -> Detection {
    let mut order: Vec<&FaceDetail> = faces.iter().collect();
    // Largest first; a stable sort keeps Rekognition's order among equal boxes.
    order.sort_by(|a, b| area(b.bounding_box()).total_cmp(&area(a.bounding_box())));
    let Some(main) = order.first() else {
        return Detection::empty(image);
    };
    let head = pose(main.pose());
    let q = quality(
        faces.len(),
        main.bounding_box(),
        main.confidence(),
        head,
        main.quality(),
        image,
    );
    let yes_no = attribute_probability;
    let observation = FaceObservation {
        confidence: q.confidence,
        pose: head,
        eyes_open: main
            .eyes_open()
            .and_then(|e| yes_no(e.value(), e.confidence())),
        smile: main.smile().and_then(|s| yes_no(s.value(), s.confidence())),
        bounding_box: face_box(main.bounding_box()),
        embedding: None,
    };
    Detection {
        analysis: FaceAnalysis {
            quality: q,
            observation: Some(observation),
        },
        faces: order.iter().map(|f| face_box(f.bounding_box())).collect(),
        mouth_open: main
            .mouth_open()
            .and_then(|m| yes_no(m.value(), m.confidence())),
    }
}

/// Maps a CompareFaces answer (made with `SimilarityThreshold` 0, so every compared target face
/// is in `FaceMatches` with its similarity) to a [`FaceComparison`].
///
/// - The probe's main face is its largest face among `FaceMatches` and `UnmatchedFaces`; its
///   similarity is the one reported with it (0 when it is among the unmatched faces, which with
///   threshold 0 only happens to faces Rekognition did not compare). The probe's face count is
///   the number of faces in both lists.
/// - CompareFaces reports only the largest face of the source (reference) image, with its box
///   and confidence: the reference's `FaceQuality` therefore has `face_count` 1, a frontal pose
///   and no brightness or sharpness. A caller that gates the reference on pose or light runs
///   `analyze` (DetectFaces) on it.
/// - No source face, or no target face at all: [`FaceError::NoFaceDetected`].
pub fn comparison_from_compare_faces(
    out: &CompareFacesOutput,
    reference: &ImageInfo,
    probe: &ImageInfo,
) -> Result<FaceComparison, FaceError> {
    let source = out.source_image_face().ok_or(FaceError::NoFaceDetected)?;
    let candidates: Vec<(&ComparedFace, Option<f32>)> = out
        .face_matches()
        .iter()
        .filter_map(|m| m.face().map(|f| (f, m.similarity())))
        .chain(out.unmatched_faces().iter().map(|f| (f, None)))
        .collect();
    let (main, similarity) = candidates
        .iter()
        .copied()
        .reduce(|best, next| {
            if area(next.0.bounding_box()) > area(best.0.bounding_box()) {
                next
            } else {
                best
            }
        })
        .ok_or(FaceError::NoFaceDetected)?;
    let reference_quality = quality(
        1,
        source.bounding_box(),
        source.confidence(),
        HeadPose::FRONTAL,
        None,
        reference,
    );
    let probe_quality = quality(
        candidates.len(),
        main.bounding_box(),
        main.confidence(),
        pose(main.pose()),
        main.quality(),
        probe,
    );
    Ok(FaceComparison {
        similarity: Similarity::saturating(similarity.unwrap_or(0.0)),
        reference: reference_quality,
        probe: probe_quality,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rekognition::types::{
        CompareFacesMatch, ComparedSourceImageFace, EyeOpen, MouthOpen, Smile,
    };
    use kyc_core::model::ImageType;
    use proptest::prelude::*;

    fn info(width: u32, height: u32) -> ImageInfo {
        ImageInfo {
            kind: ImageType::Jpeg,
            width,
            height,
            exif_orientation: 1,
        }
    }

    fn bbox(l: f32, t: f32, w: f32, h: f32) -> BoundingBox {
        BoundingBox::builder()
            .left(l)
            .top(t)
            .width(w)
            .height(h)
            .build()
    }

    #[test]
    fn the_largest_face_is_the_main_face_and_every_face_counts() {
        let small = FaceDetail::builder()
            .bounding_box(bbox(0.1, 0.1, 0.1, 0.1))
            .confidence(99.0)
            .build();
        let large = FaceDetail::builder()
            .bounding_box(bbox(0.5, 0.2, 0.3, 0.4))
            .confidence(97.5)
            .pose(Pose::builder().yaw(20.0).pitch(-3.0).roll(1.0).build())
            .eyes_open(EyeOpen::builder().value(false).confidence(80.0).build())
            .smile(Smile::builder().value(true).confidence(70.0).build())
            .mouth_open(MouthOpen::builder().value(false).confidence(95.0).build())
            .quality(
                ImageQuality::builder()
                    .brightness(55.0)
                    .sharpness(80.0)
                    .build(),
            )
            .build();
        let d = detection_from_face_details(&[small, large], &info(1000, 500));
        let q = d.analysis.quality;
        assert_eq!(q.face_count, 2);
        assert_eq!((q.face_width_px, q.face_height_px), (300, 200));
        assert_eq!(q.confidence.value(), 0.975);
        assert_eq!(q.brightness.unwrap().value(), 0.55);
        assert_eq!(q.sharpness.unwrap().value(), 0.8);
        let o = d.analysis.observation.unwrap();
        assert_eq!(o.pose.yaw(), 20.0);
        assert!((o.eyes_open.unwrap().value() - 0.2).abs() < 1e-6);
        assert!((o.smile.unwrap().value() - 0.7).abs() < 1e-6);
        assert_eq!(o.bounding_box, FaceBox::new(0.5, 0.2, 0.3, 0.4).unwrap());
        assert!((d.mouth_open.unwrap().value() - 0.05).abs() < 1e-6);
        assert_eq!(d.faces.len(), 2);
        assert!(d.faces[0].size() > d.faces[1].size());
    }

    #[test]
    fn no_faces_is_an_observation_not_an_error() {
        let d = detection_from_face_details(&[], &info(640, 480));
        assert_eq!(d.analysis.quality.face_count, 0);
        assert_eq!(d.analysis.quality.image_width_px, 640);
        assert!(d.analysis.observation.is_none());
    }

    #[test]
    fn malformed_numbers_are_clamped_or_dropped() {
        let f = FaceDetail::builder()
            .bounding_box(bbox(f32::NAN, -5.0, 7.0, f32::INFINITY))
            .confidence(f32::NAN)
            .pose(
                Pose::builder()
                    .yaw(f32::NAN)
                    .pitch(400.0)
                    .roll(-1e9)
                    .build(),
            )
            .eyes_open(EyeOpen::builder().value(true).confidence(f32::NAN).build())
            .quality(ImageQuality::builder().brightness(250.0).build())
            .build();
        let d = detection_from_face_details(&[f], &info(100, 100));
        let q = d.analysis.quality;
        assert_eq!(q.confidence, Probability::ZERO);
        assert_eq!(q.brightness, Some(Probability::ONE));
        assert_eq!(
            (q.pose.yaw(), q.pose.pitch(), q.pose.roll()),
            (0.0, 180.0, -180.0)
        );
        assert_eq!(q.face_height_px, 0);
        let o = d.analysis.observation.unwrap();
        assert_eq!(o.eyes_open, None);
        assert_eq!(o.bounding_box.width(), 2.0);
    }

    fn compared(b: BoundingBox, yaw: f32) -> ComparedFace {
        ComparedFace::builder()
            .bounding_box(b)
            .confidence(99.9)
            .pose(Pose::builder().yaw(yaw).pitch(0.0).roll(0.0).build())
            .build()
    }

    #[test]
    fn comparison_uses_the_largest_target_face_and_counts_them_all() {
        let out = CompareFacesOutput::builder()
            .source_image_face(
                ComparedSourceImageFace::builder()
                    .bounding_box(bbox(0.3, 0.2, 0.4, 0.5))
                    .confidence(99.0)
                    .build(),
            )
            .face_matches(
                CompareFacesMatch::builder()
                    .similarity(12.5)
                    .face(compared(bbox(0.0, 0.0, 0.1, 0.1), 0.0))
                    .build(),
            )
            .face_matches(
                CompareFacesMatch::builder()
                    .similarity(99.2)
                    .face(compared(bbox(0.4, 0.3, 0.3, 0.3), -12.0))
                    .build(),
            )
            .build();
        let c = comparison_from_compare_faces(&out, &info(600, 800), &info(1280, 720)).unwrap();
        assert_eq!(c.similarity.value(), 99.2);
        assert_eq!(c.probe.face_count, 2);
        assert_eq!(c.probe.pose.yaw(), -12.0);
        assert_eq!(c.probe.face_width_px, 384);
        assert_eq!(c.reference.face_count, 1);
        assert_eq!(
            (c.reference.face_width_px, c.reference.face_height_px),
            (240, 400)
        );
    }

    #[test]
    fn a_comparison_without_faces_is_no_face_detected() {
        let out = CompareFacesOutput::builder().build();
        assert_eq!(
            comparison_from_compare_faces(&out, &info(100, 100), &info(100, 100)),
            Err(FaceError::NoFaceDetected)
        );
        let out = CompareFacesOutput::builder()
            .source_image_face(ComparedSourceImageFace::builder().confidence(99.0).build())
            .build();
        assert_eq!(
            comparison_from_compare_faces(&out, &info(100, 100), &info(100, 100)),
            Err(FaceError::NoFaceDetected)
        );
    }

    proptest! {
        #[test]
        fn every_pose_maps_to_a_valid_head_pose(
            y in proptest::num::f32::ANY,
            p in proptest::num::f32::ANY,
            r in proptest::num::f32::ANY,
        ) {
            let h = head_pose_from_rekognition(y, p, r);
            prop_assert!(HeadPose::new(h.yaw(), h.pitch(), h.roll()).is_ok());
            if (-180.0..=180.0).contains(&y) {
                prop_assert_eq!(h.yaw(), y);
            }
        }

        #[test]
        fn any_numbers_in_face_details_give_valid_observations(
            faces in proptest::collection::vec(
                (proptest::array::uniform4(proptest::num::f32::ANY),
                 proptest::array::uniform3(proptest::num::f32::ANY),
                 proptest::num::f32::ANY, any::<bool>()),
                0..5,
            ),
            (w, h) in (0u32..20_000, 0u32..20_000),
        ) {
            let details: Vec<FaceDetail> = faces
                .iter()
                .map(|(b, p, c, open)| {
                    FaceDetail::builder()
                        .bounding_box(bbox(b[0], b[1], b[2], b[3]))
                        .pose(Pose::builder().yaw(p[0]).pitch(p[1]).roll(p[2]).build())
                        .confidence(*c)
                        .eyes_open(EyeOpen::builder().value(*open).confidence(*c).build())
                        .quality(ImageQuality::builder().brightness(*c).sharpness(p[0]).build())
                        .build()
                })
                .collect();
            let d = detection_from_face_details(&details, &info(w, h));
            prop_assert_eq!(d.analysis.quality.face_count as usize, faces.len());
            prop_assert_eq!(d.faces.len(), faces.len());
            if let Some(o) = d.analysis.observation {
                // Every value went through kyc-core's validating constructors.
                let b = o.bounding_box;
                prop_assert!(FaceBox::new(b.left(), b.top(), b.width(), b.height()).is_ok());
                prop_assert!((0.0..=1.0).contains(&o.confidence.value()));
            }
        }

        #[test]
        fn attribute_probabilities_stay_in_range(v in any::<bool>(), c in proptest::num::f32::ANY) {
            if let Some(p) = attribute_probability(v, Some(c)) {
                prop_assert!((0.0..=1.0).contains(&p.value()));
            }
        }
    }
}
