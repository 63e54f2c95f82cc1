//! The rare path: an image whose EXIF orientation is 2–8 is decoded, turned upright and encoded
//! again, because stripping the EXIF would otherwise leave it on its side.

use std::io::Cursor;
use std::ops::Range;

use image::codecs::jpeg::JpegEncoder;
use image::{ColorType, DynamicImage, GrayImage, ImageFormat, ImageOutputFormat, RgbImage};

use super::{jpeg, png, Limits, MediaError};

/// JPEG qualities tried in turn until the new encoding fits `max_bytes`.
const JPEG_QUALITIES: [u8; 3] = [92, 85, 75];

/// `stripped` (the walk's output for `original`) upright, as a JPEG carrying the original's ICC
/// profile when the colour model is unchanged.
pub(super) fn jpeg(
    original: &[u8],
    stripped: &[u8],
    layout: &jpeg::Layout,
    limits: &Limits,
) -> Result<Vec<u8>, MediaError> {
    let image = upright(
        decode(stripped, ImageFormat::Jpeg, limits)?,
        layout.info.orientation,
    );
    // Typed buffers: encoding a `DynamicImage` would always write three components.
    let pixels = if matches!(
        image.color(),
        ColorType::L8 | ColorType::L16 | ColorType::La8 | ColorType::La16
    ) {
        Pixels::Grey(image.to_luma8())
    } else {
        Pixels::Colour(image.to_rgb8())
    };
    let components = match pixels {
        Pixels::Grey(_) => 1,
        Pixels::Colour(_) => 3,
    };
    // A CMYK profile would be wrong for the RGB the decoder made of CMYK pixels.
    let icc: &[Range<usize>] = if layout.components == components {
        &layout.icc
    } else {
        &[]
    };
    for quality in JPEG_QUALITIES {
        let mut encoded = Vec::new();
        let mut encoder = JpegEncoder::new_with_quality(&mut encoded, quality);
        match &pixels {
            Pixels::Grey(grey) => encoder.encode_image(grey),
            Pixels::Colour(rgb) => encoder.encode_image(rgb),
        }
        .map_err(|_| MediaError::Malformed)?;
        let mut out = Vec::with_capacity(encoded.len() + icc.iter().map(Range::len).sum::<usize>());
        // After SOI and the encoder's JFIF APP0, which must stay first.
        let at = match encoded.get(2..6) {
            Some(&[0xFF, 0xE0, hi, lo]) => 4 + usize::from(u16::from_be_bytes([hi, lo])),
            _ => 2,
        };
        let (head, tail) = encoded.split_at_checked(at).ok_or(MediaError::Malformed)?;
        out.extend_from_slice(head);
        for range in icc {
            out.extend_from_slice(original.get(range.clone()).unwrap_or_default());
        }
        out.extend_from_slice(tail);
        if out.len() <= limits.max_bytes {
            return Ok(out);
        }
    }
    Err(MediaError::TooLarge {
        limit: limits.max_bytes,
    })
}

/// The pixels a JPEG is encoded from.
enum Pixels {
    Grey(GrayImage),
    Colour(RgbImage),
}

/// `stripped` (the walk's output for `original`) upright, as a PNG carrying the original's
/// colour-space and physical-size chunks.
pub(super) fn png(
    original: &[u8],
    stripped: &[u8],
    layout: &png::Layout,
    limits: &Limits,
) -> Result<Vec<u8>, MediaError> {
    let image = upright(
        decode(stripped, ImageFormat::Png, limits)?,
        layout.info.orientation,
    );
    let mut encoded = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut encoded), ImageOutputFormat::Png)
        .map_err(|_| MediaError::Malformed)?;
    // After the signature (8 bytes) and IHDR (25 bytes), before any PLTE or IDAT.
    if encoded.get(12..16) != Some(b"IHDR".as_slice()) {
        return Err(MediaError::Malformed);
    }
    let (head, tail) = encoded.split_at_checked(33).ok_or(MediaError::Malformed)?;
    let colour = &layout.colour;
    let mut out = Vec::with_capacity(encoded.len() + colour.iter().map(Range::len).sum::<usize>());
    out.extend_from_slice(head);
    for range in colour {
        out.extend_from_slice(original.get(range.clone()).unwrap_or_default());
    }
    out.extend_from_slice(tail);
    if out.len() > limits.max_bytes {
        return Err(MediaError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    Ok(out)
}

/// Decodes with the `image` crate under limits matching the (already checked) header.
fn decode(bytes: &[u8], format: ImageFormat, limits: &Limits) -> Result<DynamicImage, MediaError> {
    let mut decoder_limits = image::io::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_width);
    decoder_limits.max_image_height = Some(limits.max_height);
    // 8 bytes a pixel covers RGBA with 16-bit samples; the rest is the decoders' own tables.
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(1 << 24));
    let mut reader = image::io::Reader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits);
    reader.decode().map_err(|_| MediaError::Malformed)
}

/// Applies EXIF orientation `orientation` (how the stored pixels must be transformed to show
/// upright): 2 mirror, 3 half turn, 4 flip, 5 transpose, 6 quarter turn clockwise, 7 transverse,
/// 8 quarter turn anticlockwise.
pub(super) fn upright(image: DynamicImage, orientation: u8) -> DynamicImage {
    match orientation {
        2 => image.fliph(),
        3 => image.rotate180(),
        4 => image.flipv(),
        5 => image.rotate90().fliph(),
        6 => image.rotate90(),
        7 => image.rotate270().fliph(),
        8 => image.rotate270(),
        _ => image,
    }
}
