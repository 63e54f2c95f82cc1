//! The calibration from dlib embedding distance to the kit's 0–100 similarity: a monotone
//! piecewise-linear map through fixed knots, so that the default threshold 85 sits at distance
//! 0.50 (see the module docs of [`crate::face`] for the reasons).

use kyc_core::model::Similarity;

/// The knots `(distance, similarity)` of the map, distances strictly increasing and
/// similarities strictly decreasing; beyond the last knot the similarity is 0.
///
/// - `(0.00, 100)`: identical embeddings.
/// - `(0.40, 93)`: the top of the same-person range seen with dlib's ResNet model
///   (0.33–0.41 for the same person in different photos).
/// - `(0.50, 85)`: the default threshold; half-way between that range's top (0.41) and the
///   lowest different-person distance seen (0.585), a margin of about 0.09 either side.
/// - `(0.60, 50)`: dlib's own decision distance 0.6, the coin toss of a looser system.
/// - `(0.70, 20)`, `(0.90, 0)`: clearly different people fall quickly to 0, as Rekognition's
///   `CompareFaces` similarity does.
pub const KNOTS: [(f32, f32); 6] = [
    (0.00, 100.0),
    (0.40, 93.0),
    (0.50, 85.0),
    (0.60, 50.0),
    (0.70, 20.0),
    (0.90, 0.0),
];

/// The distance that maps to the default threshold 85.
pub const DISTANCE_AT_DEFAULT_THRESHOLD: f32 = 0.50;

/// The similarity for a Euclidean distance between two 128-d dlib embeddings: 100 at 0,
/// decreasing, 85 at 0.50, 0 from 0.90 on. NaN and negative distances (never produced by an
/// embedding) give 0 and 100 respectively.
///
/// ```
/// use kyc_local::face::calibration::similarity_from_distance;
/// assert_eq!(similarity_from_distance(0.0).value(), 100.0);
/// assert_eq!(similarity_from_distance(0.5).value(), 85.0);
/// assert!((similarity_from_distance(0.55).value() - 67.5).abs() < 1e-3);
/// assert_eq!(similarity_from_distance(1.3).value(), 0.0);
/// ```
pub fn similarity_from_distance(distance: f32) -> Similarity {
    if distance.is_nan() {
        return Similarity::ZERO;
    }
    let mut previous = KNOTS[0];
    if distance <= previous.0 {
        return Similarity::MAX;
    }
    for knot in KNOTS.iter().skip(1) {
        let (d1, s1) = *knot;
        if distance == d1 {
            return Similarity::saturating(s1);
        }
        if distance < d1 {
            let (d0, s0) = previous;
            let t = (distance - d0) / (d1 - d0);
            return Similarity::saturating(s0 + t * (s1 - s0));
        }
        previous = *knot;
    }
    Similarity::ZERO
}

/// The inverse map: the largest distance whose similarity is at least `similarity` (on the
/// knots' segments), for documentation and for choosing thresholds. A similarity of 0 gives
/// the last knot's distance.
///
/// ```
/// use kyc_local::face::calibration::distance_for_similarity;
/// assert_eq!(distance_for_similarity(85.0), 0.5);
/// assert_eq!(distance_for_similarity(100.0), 0.0);
/// ```
pub fn distance_for_similarity(similarity: f32) -> f32 {
    let s = if similarity.is_nan() {
        0.0
    } else {
        similarity.clamp(0.0, 100.0)
    };
    let mut previous = KNOTS[0];
    for knot in KNOTS.iter().skip(1) {
        let (d1, s1) = *knot;
        if s == s1 {
            return d1;
        }
        if s > s1 {
            let (d0, s0) = previous;
            let t = (s0 - s) / (s0 - s1);
            return d0 + t * (d1 - d0);
        }
        previous = *knot;
    }
    previous.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyc_core::model::Threshold;
    use proptest::prelude::*;

    #[test]
    fn knots_are_ordered_and_span_the_scale() {
        assert_eq!(KNOTS[0], (0.0, 100.0));
        assert_eq!(KNOTS[KNOTS.len() - 1].1, 0.0);
        for w in KNOTS.windows(2) {
            assert!(w[0].0 < w[1].0, "{w:?}");
            assert!(w[0].1 > w[1].1, "{w:?}");
        }
    }

    #[test]
    fn the_default_threshold_sits_at_distance_one_half() {
        let t = Threshold::DEFAULT.value();
        assert_eq!(t, 85.0);
        assert_eq!(
            similarity_from_distance(DISTANCE_AT_DEFAULT_THRESHOLD).value(),
            t
        );
        assert_eq!(distance_for_similarity(t), DISTANCE_AT_DEFAULT_THRESHOLD);
        assert!(similarity_from_distance(0.499).meets(Threshold::DEFAULT));
        assert!(!similarity_from_distance(0.501).meets(Threshold::DEFAULT));
    }

    #[test]
    fn the_published_ranges_fall_on_the_right_side_of_the_threshold() {
        // Same person in different photos: 0.33–0.41; different people: 0.585 and more.
        for d in [0.33, 0.37, 0.41] {
            assert!(similarity_from_distance(d).value() >= 92.0, "{d}");
        }
        for d in [0.585, 0.6, 0.75, 1.0] {
            assert!(similarity_from_distance(d).value() < 60.0, "{d}");
        }
        assert_eq!(similarity_from_distance(0.6).value(), 50.0);
    }

    #[test]
    fn odd_distances_give_the_ends_of_the_scale() {
        assert_eq!(similarity_from_distance(f32::NAN).value(), 0.0);
        assert_eq!(similarity_from_distance(-1.0).value(), 100.0);
        assert_eq!(similarity_from_distance(f32::INFINITY).value(), 0.0);
        assert_eq!(distance_for_similarity(0.0), 0.9);
        assert_eq!(distance_for_similarity(f32::NAN), 0.9);
    }

    proptest! {
        #[test]
        fn similarity_never_increases_with_distance(a in 0.0f32..2.0, b in 0.0f32..2.0) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(similarity_from_distance(lo).value() >= similarity_from_distance(hi).value());
        }

        #[test]
        fn the_inverse_round_trips_on_the_scale(s in 0.5f32..100.0) {
            let d = distance_for_similarity(s);
            let back = similarity_from_distance(d).value();
            prop_assert!((back - s).abs() < 1e-3, "{s} -> {d} -> {back}");
        }
    }
}
