//! The closed set of [`Gesture`]s a liveness challenge asks for.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::ValueError;

/// One gesture of a challenge. In JSON and in [`std::str::FromStr`] each gesture is its
/// lowerCamelCase name: `blink`, `turnLeft`, `turnRight`, `lookUp`, `nod`, `smile`.
///
/// "Left" and "right" are the person's own (see [`super::HeadPose`] for the sign convention).
///
/// ```
/// use kyc_core::liveness::Gesture;
/// assert_eq!("turnLeft".parse::<Gesture>().unwrap(), Gesture::TurnLeft);
/// assert_eq!(serde_json::to_string(&Gesture::LookUp).unwrap(), "\"lookUp\"");
/// let err = "wave".parse::<Gesture>().unwrap_err().to_string();
/// assert!(err.contains("blink, turnLeft, turnRight, lookUp, nod, smile"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Gesture {
    /// Close both eyes, then open them again.
    Blink,
    /// Turn the head to the person's own left (yaw goes positive).
    TurnLeft,
    /// Turn the head to the person's own right (yaw goes negative).
    TurnRight,
    /// Tilt the head back and look up (pitch goes positive).
    LookUp,
    /// Lower the chin, then raise it again (pitch goes negative, then back to neutral).
    Nod,
    /// Smile (after a neutral expression).
    Smile,
}

impl Gesture {
    /// Every gesture, in declaration order.
    pub const ALL: [Gesture; 6] = [
        Gesture::Blink,
        Gesture::TurnLeft,
        Gesture::TurnRight,
        Gesture::LookUp,
        Gesture::Nod,
        Gesture::Smile,
    ];

    const ALLOWED: &'static str = "blink, turnLeft, turnRight, lookUp, nod, smile";

    /// The JSON name (`turnLeft`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blink => "blink",
            Self::TurnLeft => "turnLeft",
            Self::TurnRight => "turnRight",
            Self::LookUp => "lookUp",
            Self::Nod => "nod",
            Self::Smile => "smile",
        }
    }

    /// A short English prompt for the person (user interfaces usually translate their own).
    pub fn instruction(self) -> &'static str {
        match self {
            Self::Blink => "Blink slowly",
            Self::TurnLeft => "Turn your head to your left",
            Self::TurnRight => "Turn your head to your right",
            Self::LookUp => "Look up",
            Self::Nod => "Nod: lower your chin, then raise it",
            Self::Smile => "Smile",
        }
    }

    /// Position in [`Gesture::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Gesture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Gesture {
    type Err = ValueError;

    /// Accepts the lowerCamelCase name, case-insensitively, and the kebab/snake spellings
    /// (`turn-left`, `TURN_LEFT`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect();
        Self::ALL
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(&key))
            .ok_or(ValueError::Unknown {
                what: "gesture",
                allowed: Self::ALLOWED,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_gesture_round_trips_through_its_name_and_json() {
        for g in Gesture::ALL {
            assert_eq!(g.as_str().parse::<Gesture>().unwrap(), g);
            let json = serde_json::to_string(&g).unwrap();
            assert_eq!(json, format!("\"{}\"", g.as_str()));
            assert_eq!(serde_json::from_str::<Gesture>(&json).unwrap(), g);
            assert_eq!(Gesture::ALL[g.index()], g);
        }
    }

    #[test]
    fn kebab_and_snake_spellings_are_understood() {
        assert_eq!("turn-left".parse::<Gesture>().unwrap(), Gesture::TurnLeft);
        assert_eq!("LOOK_UP".parse::<Gesture>().unwrap(), Gesture::LookUp);
        assert_eq!(" Nod ".parse::<Gesture>().unwrap(), Gesture::Nod);
    }

    #[test]
    fn unknown_gesture_error_lists_the_allowed_values_and_not_the_input() {
        let e = "jump".parse::<Gesture>().unwrap_err().to_string();
        assert!(e.contains("allowed: blink, turnLeft"), "{e}");
        assert!(!e.contains("jump"));
    }

    proptest! {
        #[test]
        fn parsing_any_string_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<Gesture>();
        }
    }
}
