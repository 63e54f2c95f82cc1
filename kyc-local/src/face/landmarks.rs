//! Measures derived from facial landmarks, in pure arithmetic on pixel coordinates: head pose
//! from dlib's 5 points, eye aspect ratio and smile from its 68 points.
//!
//! # Head pose from 5 points
//!
//! dlib's 5-point model gives the two corners of each eye and the base of the nose
//! (subnasale). With `E` the distance between the eye centres (mean of each eye's corners), and
//! the nose offset `(u, v)` from the eye midpoint expressed in the frame of the eye line (`u`
//! along it, towards the image's right for an upright face; `v` perpendicular, downwards):
//!
//! - **roll** = angle of the eye line (from the image-left eye to the image-right eye) against
//!   the horizontal, with y pointing down: positive when the face turns clockwise in the image,
//!   i.e. the head tilts towards the person's own left shoulder.
//! - **yaw** = `atan((u / E) / NOSE_DEPTH)`: the nose base stands in front of the eyes by about
//!   `NOSE_DEPTH` × `E` (anthropometric average ≈ 0.35), so turning by θ moves it sideways by
//!   `NOSE_DEPTH · E · sin θ` while the eye distance shrinks to `E · cos θ`. The nose moves
//!   towards the image's right when the person turns to their own left: yaw > 0.
//! - **pitch**: the vertical ratio `r = v / E` (with `E` corrected for the yaw's foreshortening)
//!   is `H·cos p − NOSE_DEPTH·sin p` for a head pitched up by `p`, where `H` =
//!   [`FRONTAL_NOSE_DROP`] is the ratio of a frontal face (0.74–0.75 measured on the frontal
//!   test portraits). Looking up shortens the eyes-to-nose distance: pitch > 0. For `r ≤ H`
//!   (looking up) the engine inverts that curve exactly: `p = acos(r / R) − atan2(NOSE_DEPTH, H)`
//!   with `R = √(H² + NOSE_DEPTH²)`. Looking down, the curve peaks at `p ≈ −25°` and cannot tell
//!   a strong downward look from a milder one, so for `r > H` the engine uses the first-order
//!   inversion `p = atan((H − r) / NOSE_DEPTH)`, which has the same slope at 0 and keeps the
//!   estimate monotone.
//!
//! This is the sign convention of [`kyc_core::liveness::HeadPose`]. Accuracy: the constants are
//! population averages, so expect ±10° on yaw and pitch within ±30° (worse beyond, and pitch
//! also varies between faces by several degrees); roll is as good as the eye corners, about ±3°.
//! Enough for a liveness gesture (turn left/right, nod) and for the quality gate's limits, not
//! for measuring angles.
//!
//! # Eyes and smile from 68 points
//!
//! Only when the optional 68-point model is installed (its training data restricts commercial
//! use). The **eye aspect ratio** (Soukupová and Čech, 2016) of each eye is
//! `(|p2 − p6| + |p3 − p5|) / (2 |p1 − p4|)`; about 0.3 open, below 0.2 closed. The probability
//! that the eyes are open maps the mean of both eyes linearly from 0.15 (0) to 0.25 (1). The
//! **smile** measure is the mouth width (corners 49–55) over the jaw width (points 1–17),
//! mapped linearly from 0.40 (0) to 0.50 (1): smiling pulls the mouth corners apart.

/// A point in pixel coordinates (x to the right, y down).
pub type Point = (f32, f32);

/// Depth of the nose base in front of the eye corners, as a fraction of the eye distance.
pub const NOSE_DEPTH: f32 = 0.35;

/// Vertical distance from the eye line to the nose base in a frontal face, as a fraction of the
/// eye distance (measured on dlib's 5 points of frontal portraits: 0.74–0.75).
pub const FRONTAL_NOSE_DROP: f32 = 0.75;

/// dlib's 5 points, as its model orders them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FivePoints {
    /// Points 0 and 1: the outer and inner corner of the eye on the image's right (the
    /// person's left eye in an unmirrored image).
    pub right_eye: [Point; 2],
    /// Points 2 and 3: the outer and inner corner of the eye on the image's left.
    pub left_eye: [Point; 2],
    /// Point 4: the base of the nose.
    pub nose: Point,
}

impl FivePoints {
    /// The points from dlib's order; `None` unless there are exactly 5.
    pub fn from_slice(points: &[Point]) -> Option<Self> {
        match points {
            [a, b, c, d, e] => Some(Self {
                right_eye: [*a, *b],
                left_eye: [*c, *d],
                nose: *e,
            }),
            _ => None,
        }
    }

    /// The centres of the image-left and image-right eyes.
    pub fn eye_centres(&self) -> (Point, Point) {
        (
            mid(self.left_eye[0], self.left_eye[1]),
            mid(self.right_eye[0], self.right_eye[1]),
        )
    }

    /// The distance between the eye centres, in pixels.
    pub fn eye_distance(&self) -> f32 {
        let (l, r) = self.eye_centres();
        dist(l, r)
    }
}

/// Yaw, pitch and roll in degrees (sign convention of `kyc_core::liveness::HeadPose`), or
/// `None` when the eyes coincide.
pub fn head_pose(p: &FivePoints) -> Option<(f32, f32, f32)> {
    let (l, r) = p.eye_centres();
    let (dx, dy) = (r.0 - l.0, r.1 - l.1);
    let e = (dx * dx + dy * dy).sqrt();
    if !(e.is_finite() && e > 1e-3) {
        return None;
    }
    let roll = dy.atan2(dx);
    let m = mid(l, r);
    let (nx, ny) = (p.nose.0 - m.0, p.nose.1 - m.1);
    // Rotate the nose offset into the eye line's frame.
    let (c, s) = (roll.cos(), roll.sin());
    let u = nx * c + ny * s;
    let v = -nx * s + ny * c;
    let yaw = ((u / e) / NOSE_DEPTH).atan();
    // Undo the foreshortening of the eye distance by the yaw before reading the pitch.
    let ratio = (v / e) * yaw.cos();
    let pitch = if ratio <= FRONTAL_NOSE_DROP {
        let radius = FRONTAL_NOSE_DROP.hypot(NOSE_DEPTH);
        (ratio / radius).clamp(-1.0, 1.0).acos() - NOSE_DEPTH.atan2(FRONTAL_NOSE_DROP)
    } else {
        ((FRONTAL_NOSE_DROP - ratio) / NOSE_DEPTH).atan()
    };
    let deg = |a: f32| a.to_degrees().clamp(-180.0, 180.0);
    Some((deg(yaw), deg(pitch), deg(roll)))
}

/// The eye aspect ratio of one eye from its six 68-model points (p1…p6 in order).
pub fn eye_aspect_ratio(eye: &[Point]) -> Option<f32> {
    let [p1, p2, p3, p4, p5, p6] = eye else {
        return None;
    };
    let width = dist(*p1, *p4);
    if width <= 1e-3 {
        return None;
    }
    Some((dist(*p2, *p6) + dist(*p3, *p5)) / (2.0 * width))
}

/// The probability that the eyes are open, from the 68 points; `None` unless there are 68.
pub fn eyes_open(points: &[Point]) -> Option<f32> {
    if points.len() != 68 {
        return None;
    }
    let right = eye_aspect_ratio(points.get(36..42)?)?;
    let left = eye_aspect_ratio(points.get(42..48)?)?;
    Some(ramp((right + left) / 2.0, 0.15, 0.25))
}

/// The probability of a smile, from the 68 points; `None` unless there are 68.
pub fn smile(points: &[Point]) -> Option<f32> {
    if points.len() != 68 {
        return None;
    }
    let jaw = dist(*points.first()?, *points.get(16)?);
    if jaw <= 1e-3 {
        return None;
    }
    let mouth = dist(*points.get(48)?, *points.get(54)?);
    Some(ramp(mouth / jaw, 0.40, 0.50))
}

fn ramp(x: f32, zero: f32, one: f32) -> f32 {
    ((x - zero) / (one - zero)).clamp(0.0, 1.0)
}

fn mid(a: Point, b: Point) -> Point {
    ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0)
}

fn dist(a: Point, b: Point) -> f32 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A frontal face: eye centres 100 px apart, nose base 75 px below their midpoint.
    fn frontal() -> FivePoints {
        FivePoints {
            right_eye: [(170.0, 100.0), (130.0, 100.0)],
            left_eye: [(30.0, 100.0), (70.0, 100.0)],
            nose: (100.0, 175.0),
        }
    }

    fn map(p: FivePoints, f: impl Fn(Point) -> Point) -> FivePoints {
        FivePoints {
            right_eye: [f(p.right_eye[0]), f(p.right_eye[1])],
            left_eye: [f(p.left_eye[0]), f(p.left_eye[1])],
            nose: f(p.nose),
        }
    }

    #[test]
    fn a_frontal_face_has_no_yaw_pitch_or_roll() {
        let (yaw, pitch, roll) = head_pose(&frontal()).unwrap();
        assert!(yaw.abs() < 0.01 && pitch.abs() < 0.01 && roll.abs() < 0.01);
    }

    #[test]
    fn nose_towards_the_image_right_is_a_turn_to_the_persons_left() {
        let mut p = frontal();
        p.nose.0 += 20.0;
        let (yaw, _, _) = head_pose(&p).unwrap();
        // atan(0.2 / 0.35) ≈ 29.7°
        assert!((yaw - 29.74).abs() < 0.1, "{yaw}");
    }

    #[test]
    fn a_shorter_nose_drop_is_looking_up() {
        let mut p = frontal();
        p.nose.1 -= 15.0; // r = 0.60
        let (_, up, _) = head_pose(&p).unwrap();
        p.nose.1 += 30.0;
        let (_, down, _) = head_pose(&p).unwrap();
        // Up: acos(0.60 / 0.8276) − atan2(0.35, 0.75) ≈ 18.5°; down: atan(−0.15 / 0.35) ≈ −23.2°.
        assert!(
            (up - 18.5).abs() < 0.2 && (down + 23.2).abs() < 0.1,
            "{up} {down}"
        );
        p.nose.1 += 30.0;
        let (_, further_down, _) = head_pose(&p).unwrap();
        assert!(further_down < down, "{further_down}");
    }

    #[test]
    fn clockwise_rotation_in_the_image_is_positive_roll_and_keeps_yaw() {
        let a = 20f32.to_radians();
        let (c, s) = (a.cos(), a.sin());
        // Clockwise on screen (y down) about (100, 100).
        let p = map(frontal(), |(x, y)| {
            let (dx, dy) = (x - 100.0, y - 100.0);
            (100.0 + dx * c - dy * s, 100.0 + dx * s + dy * c)
        });
        let (yaw, pitch, roll) = head_pose(&p).unwrap();
        assert!((roll - 20.0).abs() < 0.01, "{roll}");
        assert!(yaw.abs() < 0.01 && pitch.abs() < 0.01, "{yaw} {pitch}");
    }

    #[test]
    fn coinciding_eyes_give_no_pose() {
        let p = FivePoints {
            right_eye: [(1.0, 1.0); 2],
            left_eye: [(1.0, 1.0); 2],
            nose: (1.0, 2.0),
        };
        assert_eq!(head_pose(&p), None);
        assert_eq!(FivePoints::from_slice(&[(0.0, 0.0); 4]), None);
    }

    #[test]
    fn eye_aspect_ratio_separates_open_from_closed() {
        let open = [
            (0.0, 0.0),
            (3.0, -3.0),
            (7.0, -3.0),
            (10.0, 0.0),
            (7.0, 3.0),
            (3.0, 3.0),
        ];
        let shut = [
            (0.0, 0.0),
            (3.0, -0.5),
            (7.0, -0.5),
            (10.0, 0.0),
            (7.0, 0.5),
            (3.0, 0.5),
        ];
        assert!((eye_aspect_ratio(&open).unwrap() - 0.6).abs() < 1e-6);
        assert!(eye_aspect_ratio(&shut).unwrap() < 0.15);
        let mut points = vec![(0.0, 0.0); 68];
        points[16] = (100.0, 0.0);
        points[36..42].copy_from_slice(&open);
        points[42..48].copy_from_slice(&open);
        assert_eq!(eyes_open(&points), Some(1.0));
        points[36..42].copy_from_slice(&shut);
        points[42..48].copy_from_slice(&shut);
        assert_eq!(eyes_open(&points), Some(0.0));
        assert_eq!(eyes_open(&points[..5]), None);
    }

    #[test]
    fn a_wider_mouth_is_more_of_a_smile() {
        let mut points = vec![(0.0, 0.0); 68];
        points[16] = (100.0, 0.0);
        points[48] = (30.0, 80.0);
        points[54] = (70.0, 80.0);
        assert_eq!(smile(&points), Some(0.0));
        points[48] = (24.0, 80.0);
        points[54] = (76.0, 80.0);
        assert_eq!(smile(&points), Some(1.0));
    }

    proptest! {
        #[test]
        fn pose_is_finite_and_in_range_for_any_points(
            v in proptest::collection::vec((-1e4f32..1e4, -1e4f32..1e4), 5),
        ) {
            if let Some((y, p, r)) = FivePoints::from_slice(&v).as_ref().and_then(head_pose) {
                for a in [y, p, r] {
                    prop_assert!(a.is_finite() && (-180.0..=180.0).contains(&a));
                }
            }
        }

        #[test]
        fn pitch_decreases_as_the_nose_drops(a in 0.0f32..2.0, b in 0.0f32..2.0) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let pitch = |r: f32| {
                let mut p = frontal();
                p.nose.1 = 100.0 + 100.0 * r;
                head_pose(&p).unwrap().1
            };
            prop_assert!(pitch(lo) >= pitch(hi), "{lo} {hi}");
        }

        #[test]
        fn mirroring_flips_yaw_and_roll_but_not_pitch(
            nx in -30f32..30.0, ny in 40f32..80.0, tilt in -8f32..8.0,
        ) {
            let mut p = frontal();
            p.nose = (100.0 + nx, 100.0 + ny);
            p.right_eye[0].1 += tilt;
            p.right_eye[1].1 += tilt;
            // Mirror about x = 100: the eyes swap sides, as a detector would see them.
            let m = |(x, y): Point| (200.0 - x, y);
            let q = FivePoints {
                right_eye: [m(p.left_eye[0]), m(p.left_eye[1])],
                left_eye: [m(p.right_eye[0]), m(p.right_eye[1])],
                nose: m(p.nose),
            };
            let (y1, p1, r1) = head_pose(&p).unwrap();
            let (y2, p2, r2) = head_pose(&q).unwrap();
            prop_assert!((y1 + y2).abs() < 1e-3 && (r1 + r2).abs() < 1e-3 && (p1 - p2).abs() < 1e-3);
        }
    }
}
