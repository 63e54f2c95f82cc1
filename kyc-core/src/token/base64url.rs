//! Base64url without padding (RFC 4648 §5, as JWS uses it): an encoder and a strict decoder
//! that accepts exactly one spelling of every byte string.

/// Why a string is not canonical unpadded base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Base64Error {
    /// A character outside `A-Z a-z 0-9 - _` (padding `=` included).
    #[error("base64url text contains a character that is not allowed")]
    InvalidCharacter,
    /// A length no byte string encodes to (4n + 1 characters).
    #[error("base64url text has an impossible length")]
    InvalidLength,
    /// The unused low bits of the last character are not zero (a second spelling).
    #[error("base64url text is not canonical")]
    NonCanonical,
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Encodes without padding.
///
/// ```
/// use kyc_core::token::base64url;
/// assert_eq!(base64url::encode(b"\xfb\xff"), "-_8");
/// assert_eq!(base64url::decode("-_8").unwrap(), b"\xfb\xff");
/// assert!(base64url::decode("-_9").is_err()); // non-zero unused bits
/// ```
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = (n >> (18 - 6 * i)) & 0x3F;
            out.push(char::from(ALPHABET[idx as usize]));
        }
    }
    out
}

fn value(c: u8) -> Result<u32, Base64Error> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return Err(Base64Error::InvalidCharacter),
    };
    Ok(u32::from(v))
}

/// Decodes strictly: no padding, no whitespace, no other alphabet, zero unused bits.
pub fn decode(s: &str) -> Result<Vec<u8>, Base64Error> {
    let s = s.as_bytes();
    if s.len() % 4 == 1 {
        return Err(Base64Error::InvalidLength);
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        let keep = chunk.len() - 1; // 4 chars: 3 bytes, 3 chars: 2 bytes, 2 chars: 1 byte
        let unused = match chunk.len() {
            2 => n & 0xFFFF,
            3 => n & 0xFF,
            _ => 0,
        };
        if unused != 0 {
            return Err(Base64Error::NonCanonical);
        }
        out.extend_from_slice(&bytes[1..1 + keep]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_4648_vectors_encode_without_padding() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), enc);
            assert_eq!(decode(enc).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn other_spellings_are_refused() {
        assert_eq!(decode("Zg=="), Err(Base64Error::InvalidCharacter));
        assert_eq!(decode("Zm9v+A"), Err(Base64Error::InvalidCharacter));
        assert_eq!(decode("Zm 9"), Err(Base64Error::InvalidCharacter));
        assert_eq!(decode("Zm9vY"), Err(Base64Error::InvalidLength));
        assert_eq!(decode("Zh"), Err(Base64Error::NonCanonical));
        assert_eq!(decode("Zm9"), Err(Base64Error::NonCanonical));
    }

    proptest! {
        #[test]
        fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let e = encode(&bytes);
            prop_assert!(!e.contains('='));
            prop_assert_eq!(decode(&e).unwrap(), bytes);
        }

        #[test]
        fn a_decoded_string_re_encodes_to_itself(s in "[A-Za-z0-9_=+/ -]{0,40}") {
            if let Ok(bytes) = decode(&s) {
                prop_assert_eq!(encode(&bytes), s);
            }
        }
    }
}
