//! Identifiers: `VerificationId` (a UUID chosen by the server from the `RandomSource` port).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ValueError;

/// The identifier of one verification: a UUID, kept in its lowercase hyphenated form.
///
/// ```
/// use kyc_core::model::VerificationId;
/// let id = VerificationId::from_random_bytes([0xAB; 16]);
/// assert_eq!(id.as_str(), "abababab-abab-4bab-abab-abababababab");
/// assert_eq!(VerificationId::parse(&id.as_str().to_uppercase()).unwrap(), id);
/// assert!(VerificationId::parse("../../etc/passwd").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VerificationId([u8; 36]);

impl VerificationId {
    /// A version-4 UUID from 16 random bytes (the version and variant bits are set here).
    pub fn from_random_bytes(mut b: [u8; 16]) -> Self {
        b[6] = (b[6] & 0x0F) | 0x40;
        b[8] = (b[8] & 0x3F) | 0x80;
        let mut out = [0u8; 36];
        let mut j = 0;
        for (i, byte) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                out[j] = b'-';
                j += 1;
            }
            out[j] = HEX[usize::from(byte >> 4)];
            out[j + 1] = HEX[usize::from(byte & 0x0F)];
            j += 2;
        }
        Self(out)
    }

    /// Parses a hyphenated UUID (any case); the result is lowercase.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "verification id";
        let b = s.as_bytes();
        if b.len() != 36 {
            return Err(ValueError::Malformed {
                what: WHAT,
                expected: "a hyphenated UUID",
            });
        }
        let mut out = [0u8; 36];
        for (i, &c) in b.iter().enumerate() {
            out[i] = if matches!(i, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return Err(ValueError::Malformed {
                        what: WHAT,
                        expected: "a hyphenated UUID",
                    });
                }
                c
            } else if c.is_ascii_hexdigit() {
                c.to_ascii_lowercase()
            } else {
                return Err(ValueError::InvalidCharacter { what: WHAT });
            };
        }
        Ok(Self(out))
    }

    /// The lowercase hyphenated form.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits and hyphens are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Display for VerificationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for VerificationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerificationId({})", self.as_str())
    }
}

impl std::str::FromStr for VerificationId {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for VerificationId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for VerificationId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn random_ids_round_trip_through_text(bytes in any::<[u8; 16]>()) {
            let id = VerificationId::from_random_bytes(bytes);
            prop_assert_eq!(VerificationId::parse(id.as_str()).unwrap(), id);
            prop_assert_eq!(&id.as_str()[14..15], "4");
        }

        #[test]
        fn parse_never_panics(s in ".{0,64}") {
            let _ = VerificationId::parse(&s);
        }
    }
}
