//! The gesture state machines: one [`Detector`] per gesture, and the [`Sequencer`] that asks for
//! the challenge's gestures one after another.
//!
//! Every gesture is a move from a **neutral** state to a **triggered** state of one signal:
//!
//! | gesture     | signal      | neutral                     | triggered                    | seen when             |
//! |-------------|-------------|-----------------------------|------------------------------|-----------------------|
//! | `turnLeft`  | yaw         | \|yaw\| ≤ neutralYawDeg     | yaw ≥ turnYawDeg             | triggered             |
//! | `turnRight` | yaw         | \|yaw\| ≤ neutralYawDeg     | yaw ≤ −turnYawDeg            | triggered             |
//! | `lookUp`    | pitch       | \|pitch\| ≤ neutralPitchDeg | pitch ≥ lookUpPitchDeg       | triggered             |
//! | `nod`       | pitch       | \|pitch\| ≤ neutralPitchDeg | pitch ≤ −nodPitchDeg         | back to neutral       |
//! | `blink`     | eyes open   | p ≥ eyesOpenMin             | p ≤ eyesClosedMax            | back to neutral       |
//! | `smile`     | smile       | p ≤ smileNeutralMax         | p ≥ smileMin                 | triggered             |
//!
//! A detector moves `Idle → Armed` on a neutral frame, `Armed → seen` on a triggered frame (for
//! `nod` and `blink`: `Armed → Triggered → seen` when the signal is neutral again). After a
//! gesture is seen its detector is `Idle` and needs a new neutral frame before it can count
//! again. Because triggered and neutral thresholds are kept apart (the policy refuses less than
//! 5° / 0.1 of hysteresis), jitter around either threshold cannot count a gesture twice, and a
//! constant signal can never count at all.
//!
//! The sequencer arms gesture *i* only on a frame, from the one on which gesture *i − 1* was
//! seen, that is neutral for **both** gestures' signals: a held pose cannot satisfy two
//! consecutive gestures. (A frame on which a turn, a look up or a smile is seen is never neutral
//! for it; the frame that completes a blink or a nod is, and may arm the next gesture.)

use super::policy::GestureThresholds;
use super::{FaceObservation, FrameId, Gesture};
use crate::model::Timestamp;

/// The signals of one frame with exactly one usable face.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Signals {
    pub(crate) yaw: f32,
    pub(crate) pitch: f32,
    pub(crate) eyes_open: Option<f32>,
    pub(crate) smile: Option<f32>,
}

impl Signals {
    pub(crate) fn of(face: &FaceObservation) -> Self {
        Self {
            yaw: face.pose.yaw(),
            pitch: face.pose.pitch(),
            eyes_open: face.eyes_open.map(|p| p.value()),
            smile: face.smile.map(|p| p.value()),
        }
    }
}

/// Whether the frame is neutral for the gesture's signal (`None`: the signal is missing).
pub(crate) fn neutral(g: Gesture, s: &Signals, t: &GestureThresholds) -> Option<bool> {
    match g {
        Gesture::TurnLeft | Gesture::TurnRight => Some(s.yaw.abs() <= t.neutral_yaw_deg),
        Gesture::LookUp | Gesture::Nod => Some(s.pitch.abs() <= t.neutral_pitch_deg),
        Gesture::Blink => s.eyes_open.map(|p| p >= t.eyes_open_min),
        Gesture::Smile => s.smile.map(|p| p <= t.smile_neutral_max),
    }
}

/// Whether the frame shows the gesture's triggered state (`None`: the signal is missing).
pub(crate) fn triggered(g: Gesture, s: &Signals, t: &GestureThresholds) -> Option<bool> {
    match g {
        Gesture::TurnLeft => Some(s.yaw >= t.turn_yaw_deg),
        Gesture::TurnRight => Some(s.yaw <= -t.turn_yaw_deg),
        Gesture::LookUp => Some(s.pitch >= t.look_up_pitch_deg),
        Gesture::Nod => Some(s.pitch <= -t.nod_pitch_deg),
        Gesture::Blink => s.eyes_open.map(|p| p <= t.eyes_closed_max),
        Gesture::Smile => s.smile.map(|p| p >= t.smile_min),
    }
}

/// Gestures that are only complete once the signal is back to neutral.
fn completes_on_return(g: Gesture) -> bool {
    matches!(g, Gesture::Blink | Gesture::Nod)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Armed,
    Triggered,
}

/// The state machine of one gesture.
#[derive(Clone, Debug)]
pub(crate) struct Detector {
    gesture: Gesture,
    phase: Phase,
}

impl Detector {
    pub(crate) fn new(gesture: Gesture) -> Self {
        Self {
            gesture,
            phase: Phase::Idle,
        }
    }

    /// Feeds one frame; `may_arm` is an extra condition for leaving `Idle`. Returns whether the
    /// gesture is seen on this frame.
    pub(crate) fn step(&mut self, s: &Signals, t: &GestureThresholds, may_arm: bool) -> bool {
        let g = self.gesture;
        match self.phase {
            Phase::Idle => {
                if may_arm && neutral(g, s, t) == Some(true) {
                    self.phase = Phase::Armed;
                }
                false
            }
            Phase::Armed => {
                if triggered(g, s, t) != Some(true) {
                    return false;
                }
                if completes_on_return(g) {
                    self.phase = Phase::Triggered;
                    false
                } else {
                    self.phase = Phase::Idle;
                    true
                }
            }
            Phase::Triggered => {
                if neutral(g, s, t) == Some(true) {
                    // This frame is neutral, so it also arms the next occurrence.
                    self.phase = Phase::Armed;
                    true
                } else {
                    false
                }
            }
        }
    }
}

/// Where and when a gesture was seen.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sighting {
    pub(crate) frame_id: FrameId,
    pub(crate) at: Timestamp,
}

/// Detects the challenge's gestures in order.
#[derive(Clone, Debug)]
pub(crate) struct Sequencer {
    gestures: Vec<Gesture>,
    current: Option<Detector>,
    seen: Vec<Sighting>,
}

impl Sequencer {
    pub(crate) fn new(gestures: &[Gesture]) -> Self {
        Self {
            gestures: gestures.to_vec(),
            current: gestures.first().copied().map(Detector::new),
            seen: Vec::with_capacity(gestures.len()),
        }
    }

    /// The gesture expected next, if any.
    pub(crate) fn next(&self) -> Option<Gesture> {
        self.current.as_ref().map(|d| d.gesture)
    }

    /// The sightings so far, in challenge order.
    pub(crate) fn seen(&self) -> &[Sighting] {
        &self.seen
    }

    pub(crate) fn feed(&mut self, s: &Signals, t: &GestureThresholds, id: &FrameId, at: Timestamp) {
        let prev = self
            .seen
            .len()
            .checked_sub(1)
            .and_then(|i| self.gestures.get(i))
            .copied();
        let Some(det) = self.current.as_mut() else {
            return;
        };
        let may_arm = prev.is_none_or(|p| neutral(p, s, t) == Some(true));
        if det.step(s, t, may_arm) {
            let done = det.gesture;
            self.seen.push(Sighting {
                frame_id: id.clone(),
                at,
            });
            self.current = self
                .gestures
                .get(self.seen.len())
                .copied()
                .map(Detector::new);
            // A gesture completed by a return to neutral (blink, nod) leaves a frame that is
            // neutral for it; if it is neutral for the next gesture too, it arms that one.
            if let Some(next) = self.current.as_mut() {
                next.step(s, t, neutral(done, s, t) == Some(true));
            }
        }
    }
}

/// Free-running detectors of every gesture, counting occurrences in any order (to tell a
/// gesture performed out of order from one never performed).
#[derive(Clone, Debug)]
pub(crate) struct Counter {
    detectors: [Detector; 6],
    counts: [u32; 6],
}

impl Counter {
    pub(crate) fn new() -> Self {
        Self {
            detectors: Gesture::ALL.map(Detector::new),
            counts: [0; 6],
        }
    }

    pub(crate) fn feed(&mut self, s: &Signals, t: &GestureThresholds) {
        for (det, count) in self.detectors.iter_mut().zip(self.counts.iter_mut()) {
            if det.step(s, t, true) {
                *count += 1;
            }
        }
    }

    pub(crate) fn count(&self, g: Gesture) -> u32 {
        self.counts.get(g.index()).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn yaw(y: f32) -> Signals {
        Signals {
            yaw: y,
            pitch: 0.0,
            eyes_open: Some(0.9),
            smile: Some(0.1),
        }
    }

    fn eyes(p: f32) -> Signals {
        Signals {
            eyes_open: Some(p),
            ..yaw(0.0)
        }
    }

    fn count(g: Gesture, frames: &[Signals]) -> u32 {
        let t = GestureThresholds::default();
        let mut c = Counter::new();
        for s in frames {
            c.feed(s, &t);
        }
        c.count(g)
    }

    #[test]
    fn a_turn_needs_a_neutral_frame_before_the_turned_one() {
        assert_eq!(count(Gesture::TurnLeft, &[yaw(30.0), yaw(30.0)]), 0);
        assert_eq!(count(Gesture::TurnLeft, &[yaw(0.0), yaw(30.0)]), 1);
        assert_eq!(count(Gesture::TurnRight, &[yaw(0.0), yaw(30.0)]), 0);
        assert_eq!(count(Gesture::TurnRight, &[yaw(0.0), yaw(-30.0)]), 1);
    }

    #[test]
    fn jitter_around_the_turn_threshold_counts_once() {
        let mut frames = vec![yaw(0.0)];
        for i in 0..40 {
            frames.push(yaw(if i % 2 == 0 { 24.0 } else { 26.0 }));
        }
        assert_eq!(count(Gesture::TurnLeft, &frames), 1);
    }

    #[test]
    fn jitter_around_the_neutral_threshold_never_counts() {
        let frames: Vec<_> = (0..40)
            .map(|i| yaw(if i % 2 == 0 { 9.0 } else { 11.0 }))
            .collect();
        assert_eq!(count(Gesture::TurnLeft, &frames), 0);
    }

    #[test]
    fn a_blink_counts_only_when_the_eyes_reopen() {
        assert_eq!(count(Gesture::Blink, &[eyes(0.9), eyes(0.1)]), 0);
        assert_eq!(count(Gesture::Blink, &[eyes(0.9), eyes(0.1), eyes(0.9)]), 1);
        assert_eq!(
            count(
                Gesture::Blink,
                &[eyes(0.9), eyes(0.1), eyes(0.9), eyes(0.1), eyes(0.9)]
            ),
            2
        );
        // Half-closed eyes never count.
        assert_eq!(count(Gesture::Blink, &[eyes(0.9), eyes(0.5), eyes(0.9)]), 0);
    }

    #[test]
    fn missing_signals_neither_arm_nor_trigger() {
        let none = Signals {
            eyes_open: None,
            ..yaw(0.0)
        };
        assert_eq!(count(Gesture::Blink, &[none, none, none]), 0);
        assert_eq!(
            count(
                Gesture::Blink,
                &[eyes(0.9), none, eyes(0.1), none, eyes(0.9)]
            ),
            1
        );
    }

    #[test]
    fn a_held_pose_does_not_satisfy_the_next_gesture() {
        let t = GestureThresholds::default();
        let id = FrameId::parse("f").unwrap();
        let mut seq = Sequencer::new(&[Gesture::TurnLeft, Gesture::LookUp]);
        let diagonal = Signals {
            pitch: 30.0,
            ..yaw(30.0)
        };
        for s in [yaw(0.0), diagonal, diagonal, diagonal, diagonal] {
            seq.feed(&s, &t, &id, Timestamp::from_millis(0));
        }
        assert_eq!(seq.seen().len(), 1);
        assert_eq!(seq.next(), Some(Gesture::LookUp));
        for s in [yaw(0.0), diagonal] {
            seq.feed(&s, &t, &id, Timestamp::from_millis(0));
        }
        assert_eq!(seq.seen().len(), 2);
        assert_eq!(seq.next(), None);
    }

    proptest! {
        #[test]
        fn a_constant_signal_never_counts_any_gesture(
            y in -180.0f32..180.0, p in -180.0f32..180.0,
            e in proptest::option::of(0.0f32..=1.0), sm in proptest::option::of(0.0f32..=1.0),
            n in 1usize..60,
        ) {
            let s = Signals { yaw: y, pitch: p, eyes_open: e, smile: sm };
            let frames = vec![s; n];
            for g in Gesture::ALL {
                prop_assert_eq!(count(g, &frames), 0);
            }
        }

        #[test]
        fn jitter_of_any_amplitude_below_the_hysteresis_counts_at_most_once(
            centre in 0.0f32..60.0,
            amp in 0.0f32..4.9,
            phases in proptest::collection::vec(any::<bool>(), 1..80),
        ) {
            let mut frames = vec![yaw(0.0)];
            frames.extend(phases.iter().map(|up| yaw(if *up { centre + amp / 2.0 } else { centre - amp / 2.0 })));
            prop_assert!(count(Gesture::TurnLeft, &frames) <= 1);
        }
    }
}
