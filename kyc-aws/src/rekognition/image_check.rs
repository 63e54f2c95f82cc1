//! The checks an image passes before it is sent to Rekognition: its type by magic bytes, the
//! 5 MB limit on image bytes, and a header that gives its dimensions (and, for JPEG, the Exif
//! orientation), so a damaged or disguised file is refused without a billed request.
//!
//! Only headers are read, never pixels: a JPEG's markers up to its frame header (SOF), a PNG's
//! `IHDR` chunk. Every read is bounds-checked; nothing here can panic on any input.

use kyc_core::model::{Image, ImageType, ValueError};

/// The largest image Rekognition accepts as bytes in a request: 5 MB (5,242,880 bytes, the
/// `ImageBlob` limit of the service model).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// The smallest width and height Rekognition analyses: 80 pixels ("Guidelines and quotas in
/// Amazon Rekognition"). Smaller images are reported as holding no face without a request.
pub const MIN_IMAGE_SIDE: u32 = 80;

/// Why an image cannot be sent to Rekognition. Messages name the rule, never the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageRejection {
    /// No bytes at all.
    #[error("the image is empty")]
    Empty,
    /// The magic bytes are neither JPEG's nor PNG's.
    #[error("the image is not a JPEG or PNG file")]
    NotJpegOrPng,
    /// More bytes than Rekognition accepts in a request.
    #[error("the image is larger than {max} bytes")]
    TooLarge {
        /// The limit, [`MAX_IMAGE_BYTES`].
        max: usize,
    },
    /// The header is truncated or damaged: the dimensions cannot be read.
    #[error("the image header is damaged or truncated")]
    Unreadable,
}

/// What the header of an accepted image says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// The file type.
    pub kind: ImageType,
    /// Width in pixels as displayed (after the Exif orientation is applied).
    pub width: u32,
    /// Height in pixels as displayed (after the Exif orientation is applied).
    pub height: u32,
    /// The Exif orientation tag (1–8), 1 when absent or unreadable.
    pub exif_orientation: u8,
}

impl ImageInfo {
    /// Whether both sides reach Rekognition's minimum ([`MIN_IMAGE_SIDE`]).
    pub fn is_analysable(&self) -> bool {
        self.width.min(self.height) >= MIN_IMAGE_SIDE
    }
}

/// Parses untrusted bytes into an [`Image`] that Rekognition can take, with a precise reason
/// when it cannot (for callers that hold raw bytes, e.g. an upload handler).
///
/// ```
/// use kyc_aws::rekognition::{image_from_bytes, ImageRejection};
/// assert_eq!(image_from_bytes(b"").unwrap_err(), ImageRejection::Empty);
/// assert_eq!(image_from_bytes(b"GIF89a").unwrap_err(), ImageRejection::NotJpegOrPng);
/// assert_eq!(image_from_bytes(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap_err(), ImageRejection::Unreadable);
/// ```
pub fn image_from_bytes(bytes: &[u8]) -> Result<Image, ImageRejection> {
    let image = Image::parse(bytes.to_vec(), MAX_IMAGE_BYTES).map_err(|e| match e {
        ValueError::Empty { .. } => ImageRejection::Empty,
        ValueError::TooLong { .. } => ImageRejection::TooLarge {
            max: MAX_IMAGE_BYTES,
        },
        _ => ImageRejection::NotJpegOrPng,
    })?;
    check_image(&image)?;
    Ok(image)
}

/// Checks an [`Image`] (already recognised as JPEG or PNG) against Rekognition's byte limit
/// and reads its header.
pub fn check_image(image: &Image) -> Result<ImageInfo, ImageRejection> {
    let bytes = image.bytes();
    if bytes.is_empty() {
        return Err(ImageRejection::Empty);
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ImageRejection::TooLarge {
            max: MAX_IMAGE_BYTES,
        });
    }
    let (width, height, orientation) = match image.kind() {
        ImageType::Png => png_size(bytes).map(|(w, h)| (w, h, 1)),
        ImageType::Jpeg => jpeg_header(bytes),
    }
    .ok_or(ImageRejection::Unreadable)?;
    // Orientations 5 to 8 turn the image by a quarter: width and height swap on display.
    let (width, height) = if (5..=8).contains(&orientation) {
        (height, width)
    } else {
        (width, height)
    };
    Ok(ImageInfo {
        kind: image.kind(),
        width,
        height,
        exif_orientation: orientation,
    })
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(s.try_into().ok()?))
}

/// Width and height from the PNG `IHDR` chunk (which must come first).
fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.get(12..16)? != b"IHDR" || be32(b, 8)? != 13 {
        return None;
    }
    let (w, h) = (be32(b, 16)?, be32(b, 20)?);
    // The PNG specification caps each side at 2^31 - 1; zero is invalid.
    let ok = |v: u32| (1..=i32::MAX as u32).contains(&v);
    (ok(w) && ok(h)).then_some((w, h))
}

/// Width, height and Exif orientation of a JPEG, from its markers up to the frame header.
fn jpeg_header(b: &[u8]) -> Option<(u32, u32, u8)> {
    if b.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2usize;
    let mut orientation = 1u8;
    loop {
        // Markers start with 0xFF, possibly padded with more 0xFF fill bytes.
        if *b.get(at)? != 0xFF {
            return None;
        }
        while *b.get(at)? == 0xFF {
            at = at.checked_add(1)?;
        }
        let marker = *b.get(at)?;
        at = at.checked_add(1)?;
        match marker {
            // Standalone markers without a length: TEM and the restart markers.
            0x01 | 0xD0..=0xD7 => continue,
            // End of image or start of scan before any frame header: no dimensions.
            0xD9 | 0xDA | 0x00 => return None,
            _ => {}
        }
        let len = usize::from(be16(b, at)?);
        if len < 2 {
            return None;
        }
        let body = b.get(at.checked_add(2)?..at.checked_add(len)?)?;
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            let height = u32::from(be16(body, 1)?);
            let width = u32::from(be16(body, 3)?);
            // A height of 0 defers to a DNL marker; Rekognition's decoders may not: refuse.
            return (width > 0 && height > 0).then_some((width, height, orientation));
        }
        if marker == 0xE1 {
            if let Some(o) = body.strip_prefix(b"Exif\0\0").and_then(exif_orientation) {
                orientation = o;
            }
        }
        at = at.checked_add(len)?;
    }
}

/// The orientation tag (0x0112) of IFD0 in an Exif TIFF structure, when it is 1 to 8.
fn exif_orientation(tiff: &[u8]) -> Option<u8> {
    let little = match tiff.get(..4)? {
        [b'I', b'I', 42, 0] => true,
        [b'M', b'M', 0, 42] => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let s = tiff.get(at..at.checked_add(2)?)?;
        let a = [*s.first()?, *s.get(1)?];
        Some(if little {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let a: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    (0..count).find_map(|i| {
        let entry = ifd.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        // Tag 0x0112, type SHORT (3): the value sits in the first two bytes of the value field.
        if u16_at(entry)? != 0x0112 || u16_at(entry.checked_add(2)?)? != 3 {
            return None;
        }
        let v = u16_at(entry.checked_add(8)?)?;
        u8::try_from(v).ok().filter(|o| (1..=8).contains(o))
    })
}

/// A minimal, valid-header JPEG of the given size (a frame header and nothing to decode): for
/// tests of the checks and of adapters that never decode pixels.
pub fn synthetic_jpeg(width: u16, height: u16, exif_orientation: Option<u8>) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8];
    if let Some(o) = exif_orientation {
        // APP1 "Exif\0\0" + big-endian TIFF with one IFD0 entry: orientation.
        let mut tiff = vec![b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 1];
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0]);
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        let mut seg = b"Exif\0\0".to_vec();
        seg.extend_from_slice(&tiff);
        b.extend_from_slice(&[0xFF, 0xE1]);
        b.extend_from_slice(
            &u16::try_from(seg.len() + 2)
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        b.extend_from_slice(&seg);
    }
    // SOF0: length 11, precision 8, height, width, 1 component.
    b.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8]);
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&[1, 1, 0x11, 0]);
    b.extend_from_slice(&[0xFF, 0xD9]);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn jpeg_and_png_dimensions_are_read_from_their_headers() {
        let j = image_from_bytes(&synthetic_jpeg(640, 480, None)).unwrap();
        let info = check_image(&j).unwrap();
        assert_eq!(
            (info.kind, info.width, info.height),
            (ImageType::Jpeg, 640, 480)
        );
        assert_eq!(info.exif_orientation, 1);
        let p = check_image(&image_from_bytes(&png(1280, 720)).unwrap()).unwrap();
        assert_eq!((p.kind, p.width, p.height), (ImageType::Png, 1280, 720));
    }

    #[test]
    fn a_quarter_turn_exif_orientation_swaps_the_displayed_sides() {
        for (o, expected) in [
            (1, (640, 480)),
            (3, (640, 480)),
            (6, (480, 640)),
            (8, (480, 640)),
        ] {
            let img = image_from_bytes(&synthetic_jpeg(640, 480, Some(o))).unwrap();
            let info = check_image(&img).unwrap();
            assert_eq!((info.width, info.height), expected, "orientation {o}");
            assert_eq!(info.exif_orientation, o);
        }
    }

    #[test]
    fn little_endian_exif_is_read_too() {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 34];
        b.extend_from_slice(b"Exif\0\0");
        b.extend_from_slice(&[b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0]);
        b.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&synthetic_jpeg(300, 200, None)[2..]);
        let info = check_image(&image_from_bytes(&b).unwrap()).unwrap();
        assert_eq!(
            (info.exif_orientation, info.width, info.height),
            (6, 200, 300)
        );
    }

    #[test]
    fn hostile_bytes_are_refused_with_a_reason() {
        assert_eq!(image_from_bytes(&[]).unwrap_err(), ImageRejection::Empty);
        assert_eq!(
            image_from_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap_err(),
            ImageRejection::NotJpegOrPng
        );
        let mut huge = synthetic_jpeg(4000, 3000, None);
        huge.resize(MAX_IMAGE_BYTES + 1, 0);
        assert_eq!(
            image_from_bytes(&huge).unwrap_err(),
            ImageRejection::TooLarge {
                max: MAX_IMAGE_BYTES
            }
        );
        // JPEG magic followed by junk, a truncated frame header, a zero height.
        for junk in [
            vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00],
            synthetic_jpeg(640, 480, None)[..10].to_vec(),
            synthetic_jpeg(640, 0, None),
            vec![0xFF, 0xD8, 0xFF, 0xDA, 0, 2],
        ] {
            assert_eq!(
                image_from_bytes(&junk).unwrap_err(),
                ImageRejection::Unreadable
            );
        }
        let mut bad_png = png(0, 10);
        assert_eq!(
            image_from_bytes(&bad_png).unwrap_err(),
            ImageRejection::Unreadable
        );
        bad_png.truncate(18);
        assert_eq!(
            image_from_bytes(&bad_png).unwrap_err(),
            ImageRejection::Unreadable
        );
    }

    #[test]
    fn rejection_messages_name_the_rule_only() {
        assert_eq!(
            ImageRejection::TooLarge { max: 5 }.to_string(),
            "the image is larger than 5 bytes"
        );
    }

    #[test]
    fn tiny_images_are_not_analysable() {
        let info = check_image(&image_from_bytes(&synthetic_jpeg(79, 400, None)).unwrap()).unwrap();
        assert!(!info.is_analysable());
        let info = check_image(&image_from_bytes(&synthetic_jpeg(80, 80, None)).unwrap()).unwrap();
        assert!(info.is_analysable());
    }

    proptest! {
        #[test]
        fn any_bytes_after_a_jpeg_or_png_signature_never_panic(
            jpeg in any::<bool>(),
            tail in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let mut b = if jpeg {
                vec![0xFF, 0xD8, 0xFF]
            } else {
                vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]
            };
            b.extend_from_slice(&tail);
            if let Ok(img) = image_from_bytes(&b) {
                let info = check_image(&img).unwrap();
                prop_assert!(info.width > 0 && info.height > 0);
            }
        }

        #[test]
        fn mutated_headers_never_panic(
            flips in proptest::collection::vec((0usize..80, any::<u8>()), 1..8),
            o in 0u8..10,
        ) {
            let mut b = synthetic_jpeg(500, 400, Some(o));
            for (at, v) in flips {
                if let Some(x) = b.get_mut(at) {
                    *x = v;
                }
            }
            let _ = image_from_bytes(&b);
        }
    }
}
