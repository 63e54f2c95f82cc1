//! Strict base64 (RFC 4648 standard alphabet) for images sent inside JSON bodies.

use super::MediaError;

/// Not in the alphabet.
const INVALID: u8 = 0xFF;
/// CR or LF: tolerated anywhere, ignored.
const LINE_BREAK: u8 = 0xFE;
/// Each byte's 6-bit value, [`INVALID`] or [`LINE_BREAK`].
const VALUES: [u8; 256] = values();

const fn values() -> [u8; 256] {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut values = [INVALID; 256];
    let mut i = 0;
    while i < alphabet.len() {
        values[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    values[b'\r' as usize] = LINE_BREAK;
    values[b'\n' as usize] = LINE_BREAK;
    values
}

/// The data-URL prefixes accepted before the base64 text (compared without regard to case, as
/// media types are).
const DATA_URL_HEADERS: [&[u8]; 2] = [b"image/jpeg;base64", b"image/png;base64"];

/// Decodes base64 text into at most `max_decoded` bytes.
///
/// - The standard alphabet (`A–Z a–z 0–9 + /`) only: the URL-safe `-` and `_` are refused.
/// - Padding is optional, but when present it must be right (`=` or `==` completing the last
///   group of four); non-zero unused bits in the last group are refused, so every byte string
///   has exactly one accepted encoding (with or without padding).
/// - Line breaks (CR, LF) are ignored wherever they are, because MIME and PEM encoders wrap at 76
///   and 64 characters; any other whitespace (spaces, tabs) is refused: a JSON client has no
///   reason to send it.
/// - An optional `data:image/jpeg;base64,` or `data:image/png;base64,` prefix (as
///   `FileReader.readAsDataURL` and `canvas.toDataURL` produce) is skipped; its type is not
///   trusted (the bytes are sniffed afterwards).
/// - The decoded length is computed from the text's length (minus line breaks and padding) and
///   checked against `max_decoded` before anything is allocated; text more than twice as long
///   as the encoding of `max_decoded` bytes is refused from its length alone, unread.
///
/// ```
/// use handlers::media::{decode_base64, MediaError};
/// assert_eq!(decode_base64("Zm9vYg==", 10), Ok(b"foob".to_vec()));
/// assert_eq!(decode_base64("data:image/png;base64,Zm9vYg", 10), Ok(b"foob".to_vec()));
/// assert_eq!(decode_base64("Zm9vYg==", 3), Err(MediaError::TooLarge { limit: 3 }));
/// ```
///
/// # Errors
/// [`MediaError::Empty`] when there is nothing after the prefix, [`MediaError::TooLarge`] over
/// `max_decoded`, [`MediaError::UnsupportedType`] for a data URL of another media type, and
/// [`MediaError::InvalidBase64`] for anything else that breaks the rules above.
pub fn decode_base64(text: &str, max_decoded: usize) -> Result<Vec<u8>, MediaError> {
    let body = strip_data_url(text.as_bytes())?;
    // Line breaks add a few percent (one or two bytes every 64 or 76); text longer than twice
    // the longest encoding of `max_decoded` bytes is refused without being read.
    let longest = max_decoded.div_ceil(3).saturating_mul(4);
    if body.len() > longest.saturating_mul(2).saturating_add(4) {
        return Err(MediaError::TooLarge { limit: max_decoded });
    }
    // Counted in blocks of 255 with a byte counter, which compiles to wide vector compares.
    let line_breaks: usize = body
        .chunks(255)
        .map(|block| {
            let count = block
                .iter()
                .fold(0u8, |n, &b| n + u8::from(b == b'\r' || b == b'\n'));
            usize::from(count)
        })
        .sum();
    let significant = body.len() - line_breaks;
    if significant == 0 {
        return Err(MediaError::Empty);
    }
    let padding = body
        .iter()
        .rev()
        .filter(|&&b| VALUES[usize::from(b)] != LINE_BREAK)
        .take(3)
        .take_while(|&&b| b == b'=')
        .count();
    let chars = significant - padding;
    let decoded = decoded_length(chars, padding)?;
    if decoded > max_decoded {
        return Err(MediaError::TooLarge { limit: max_decoded });
    }
    let mut out = vec![0; decoded];
    if line_breaks == 0 {
        decode_into(body.get(..chars).unwrap_or_default(), &mut out)?;
    } else {
        let compact: Vec<u8> = body
            .iter()
            .copied()
            .filter(|&b| b != b'\r' && b != b'\n')
            .take(chars)
            .collect();
        decode_into(&compact, &mut out)?;
    }
    Ok(out)
}

/// Skips an accepted data-URL prefix; text that does not start with `data:` is returned whole.
fn strip_data_url(text: &[u8]) -> Result<&[u8], MediaError> {
    match text.get(..5) {
        Some(scheme) if scheme.eq_ignore_ascii_case(b"data:") => {}
        _ => return Ok(text),
    }
    // Media types are short; a comma further away than this is not a data URL header.
    let comma = text
        .iter()
        .take(128)
        .position(|&b| b == b',')
        .ok_or(MediaError::InvalidBase64)?;
    let header = text.get(5..comma).unwrap_or_default();
    if DATA_URL_HEADERS
        .iter()
        .any(|h| header.eq_ignore_ascii_case(h))
    {
        return Ok(text.get(comma + 1..).unwrap_or_default());
    }
    let base64_suffix = header
        .len()
        .checked_sub(7)
        .and_then(|at| header.get(at..))
        .is_some_and(|s| s.eq_ignore_ascii_case(b";base64"));
    Err(if base64_suffix {
        MediaError::UnsupportedType
    } else {
        MediaError::InvalidBase64
    })
}

/// The decoded length of `chars` alphabet characters followed by `padding` `=`, or
/// `InvalidBase64` when that is not a valid shape.
fn decoded_length(chars: usize, padding: usize) -> Result<usize, MediaError> {
    let tail = match (chars % 4, padding) {
        (0, 0) => 0,
        (2, 0 | 2) => 1,
        (3, 0 | 1) => 2,
        _ => return Err(MediaError::InvalidBase64),
    };
    Ok(chars / 4 * 3 + tail)
}

/// Decodes alphabet characters only (no padding, no line breaks) into `out`, which is exactly
/// as long as [`decoded_length`] says.
fn decode_into(chars: &[u8], out: &mut [u8]) -> Result<(), MediaError> {
    let value = |b: u8| u32::from(VALUES[usize::from(b)]);
    let mut groups = chars.chunks_exact(4);
    let mut outputs = out.chunks_exact_mut(3);
    for (group, output) in (&mut groups).zip(&mut outputs) {
        let (a, b, c, d) = (
            value(group[0]),
            value(group[1]),
            value(group[2]),
            value(group[3]),
        );
        // INVALID and LINE_BREAK are the only values with the top bits set.
        if (a | b | c | d) & 0xC0 != 0 {
            return Err(MediaError::InvalidBase64);
        }
        let n = (a << 18) | (b << 12) | (c << 6) | d;
        output.copy_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let tail = outputs.into_remainder();
    match (groups.remainder(), tail) {
        ([], []) => {}
        (&[a, b], [x]) => {
            let (a, b) = (value(a), value(b));
            if (a | b) & 0xC0 != 0 || b & 0x0F != 0 {
                return Err(MediaError::InvalidBase64);
            }
            *x = ((a << 2) | (b >> 4)) as u8;
        }
        (&[a, b, c], [x, y]) => {
            let (a, b, c) = (value(a), value(b), value(c));
            if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 {
                return Err(MediaError::InvalidBase64);
            }
            let n = (a << 10) | (b << 4) | (c >> 2);
            (*x, *y) = ((n >> 8) as u8, n as u8);
        }
        _ => return Err(MediaError::InvalidBase64),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use ::base64::Engine as _;
    use proptest::prelude::*;

    #[test]
    fn rfc_4648_vectors_decode_with_and_without_padding() {
        let vectors: [(&str, &[u8]); 6] = [
            ("Zg==", b"f"),
            ("Zm8=", b"fo"),
            ("Zm9v", b"foo"),
            ("Zm9vYg==", b"foob"),
            ("Zm9vYmE=", b"fooba"),
            ("Zm9vYmFy", b"foobar"),
        ];
        for (text, bytes) in vectors {
            assert_eq!(decode_base64(text, 6).as_deref(), Ok(bytes));
            let unpadded = text.trim_end_matches('=');
            assert_eq!(decode_base64(unpadded, 6).as_deref(), Ok(bytes));
        }
    }

    #[test]
    fn invalid_text_is_refused() {
        for text in [
            "Zm9v!",
            "Zm9v YmFy",
            "Zm9v\tYmFy",
            " Zm9v",
            "Z",
            "Zm9vY",
            "Zg=",
            "Zg===",
            "Zm8==",
            "Zm9v=",
            "=Zm9v",
            "Zm=9v",
            "Zh==",
            "Zm9=",
            "Zm9vYg==Zm9v",
            "==",
            "é",
            "Zm9v\u{0}",
        ] {
            assert_eq!(
                decode_base64(text, 100),
                Err(MediaError::InvalidBase64),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_url_safe_alphabet_is_refused() {
        let bytes = [0xFB, 0xFF, 0xBF];
        assert_eq!(STANDARD.encode(bytes), "+/+/");
        assert_eq!(decode_base64("+/+/", 3), Ok(bytes.to_vec()));
        assert_eq!(decode_base64("-_-_", 3), Err(MediaError::InvalidBase64));
    }

    #[test]
    fn line_breaks_are_ignored_anywhere() {
        assert_eq!(decode_base64("Zm9v\r\nYmFy\n", 6), Ok(b"foobar".to_vec()));
        assert_eq!(decode_base64("\nZm\n9vYg=\n=\n", 6), Ok(b"foob".to_vec()));
        assert_eq!(decode_base64("\r\n\n", 6), Err(MediaError::Empty));
    }

    #[test]
    fn data_urls_of_jpeg_and_png_are_accepted_and_others_refused() {
        assert_eq!(
            decode_base64("data:image/jpeg;base64,Zm9v", 3),
            Ok(b"foo".to_vec())
        );
        assert_eq!(
            decode_base64("DATA:Image/PNG;BASE64,Zm9v", 3),
            Ok(b"foo".to_vec())
        );
        assert_eq!(
            decode_base64("data:image/png;base64,", 3),
            Err(MediaError::Empty)
        );
        for (text, error) in [
            ("data:image/gif;base64,R0lGOD", MediaError::UnsupportedType),
            (
                "data:image/svg+xml;base64,PHN2Zz4=",
                MediaError::UnsupportedType,
            ),
            (
                "data:text/html;base64,PGh0bWw+",
                MediaError::UnsupportedType,
            ),
            ("data:image/png,rawbytes", MediaError::InvalidBase64),
            (
                "data:image/png;charset=utf-8;base64;x,Zm9v",
                MediaError::InvalidBase64,
            ),
            ("data:image/png;base64", MediaError::InvalidBase64),
            ("data:", MediaError::InvalidBase64),
            (" data:image/png;base64,Zm9v", MediaError::InvalidBase64),
        ] {
            assert_eq!(decode_base64(text, 100), Err(error), "{text}");
        }
    }

    #[test]
    fn the_size_bound_is_checked_before_decoding() {
        assert_eq!(decode_base64("", 10), Err(MediaError::Empty));
        assert_eq!(
            decode_base64("Zm9vYmFy", 5),
            Err(MediaError::TooLarge { limit: 5 })
        );
        assert_eq!(decode_base64("Zm9vYmFy", 6), Ok(b"foobar".to_vec()));
        // 40 MB for a 1 MiB bound: refused from its length, before its characters are looked
        // at (read, they would be found invalid, or line breaks only: empty).
        for filler in ["!", "\n"] {
            let huge = filler.repeat(40_000_000);
            assert_eq!(
                decode_base64(&huge, 1 << 20),
                Err(MediaError::TooLarge { limit: 1 << 20 })
            );
        }
        // Line breaks do not count against the bound.
        let wrapped = STANDARD
            .encode([7u8; 300])
            .as_bytes()
            .chunks(76)
            .map(|line| std::str::from_utf8(line).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(decode_base64(&wrapped, 300), Ok(vec![7u8; 300]));
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,200}", max in 0usize..300) {
            if let Ok(bytes) = decode_base64(&text, max) {
                prop_assert!(bytes.len() <= max && !bytes.is_empty());
            }
        }

        #[test]
        fn arbitrary_alphabet_text_never_panics(text in "[A-Za-z0-9+/=\r\n_-]{0,64}") {
            let _ = decode_base64(&text, 64);
        }

        #[test]
        fn what_an_encoder_writes_decodes_back(
            bytes in proptest::collection::vec(any::<u8>(), 1..300),
            padded in any::<bool>(),
            wrap in prop_oneof![Just(0usize), 1usize..100],
            data_url in any::<bool>(),
        ) {
            let mut text = if padded { STANDARD.encode(&bytes) } else { STANDARD_NO_PAD.encode(&bytes) };
            if wrap > 0 {
                text = text
                    .as_bytes()
                    .chunks(wrap)
                    .map(|line| std::str::from_utf8(line).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\n");
            }
            if data_url {
                text.insert_str(0, "data:image/jpeg;base64,");
            }
            prop_assert_eq!(decode_base64(&text, bytes.len()), Ok(bytes.clone()));
            if bytes.len() > 1 {
                prop_assert_eq!(
                    decode_base64(&text, bytes.len() - 1),
                    Err(MediaError::TooLarge { limit: bytes.len() - 1 })
                );
            }
        }

        #[test]
        fn decoding_agrees_with_a_reference_decoder(text in "[A-Za-z0-9+/]{0,40}={0,2}") {
            let reference = STANDARD.decode(&text).ok().or_else(|| STANDARD_NO_PAD.decode(&text).ok());
            let ours = decode_base64(&text, 100).ok();
            // The reference accepts "" (as empty); ours refuses it as `Empty`.
            prop_assert_eq!(ours, reference.filter(|r| !r.is_empty()));
        }
    }
}
