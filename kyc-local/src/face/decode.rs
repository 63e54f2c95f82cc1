//! Decoding of untrusted face images with limits: the header's dimensions are checked before
//! any pixel is decoded, the decoder runs under an allocation limit, and the EXIF orientation of
//! JPEG photos (phones store them sideways) is applied.

use std::io::Cursor;

use image::imageops;
use image::{ImageFormat, RgbImage};
use kyc_core::model::{Image, ImageType};

/// Limits on the images the engine decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest width or height, in pixels. Default 12,000.
    pub max_side: u32,
    /// Largest width × height. Default 40 million (a 40 MP photo: 120 MB as RGB).
    pub max_pixels: u64,
    /// Largest allocation the decoder may make, in bytes. Default 512 MiB.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_side: 12_000,
            max_pixels: 40_000_000,
            max_alloc: 512 * 1024 * 1024,
        }
    }
}

/// Why an image was not decoded (the engine reports every case as `InvalidImage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The header declares a size beyond the limits (or zero).
    #[error("the image dimensions are out of range")]
    Dimensions,
    /// The bytes are not a decodable image of their type.
    #[error("the image could not be decoded")]
    Malformed,
}

/// The width and height the image's header declares, without decoding pixels.
pub fn dimensions(image: &Image) -> Result<(u32, u32), DecodeError> {
    image::io::Reader::with_format(Cursor::new(image.bytes()), format(image.kind()))
        .into_dimensions()
        .map_err(|_| DecodeError::Malformed)
}

/// Decodes the image to 8-bit RGB, upright (EXIF orientation applied), after checking its
/// declared dimensions against `limits`. Alpha is dropped; 16-bit samples are reduced to 8.
pub fn decode_rgb(image: &Image, limits: &DecodeLimits) -> Result<RgbImage, DecodeError> {
    let (w, h) = dimensions(image)?;
    let pixels = u64::from(w) * u64::from(h);
    if w == 0 || h == 0 || w > limits.max_side || h > limits.max_side || pixels > limits.max_pixels
    {
        return Err(DecodeError::Dimensions);
    }
    let mut reader =
        image::io::Reader::with_format(Cursor::new(image.bytes()), format(image.kind()));
    let mut l = image::io::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(limits.max_alloc);
    reader.limits(l);
    // The decoders are written to return errors, but a decoder bug must not take the process
    // down on hostile input: a panic is reported as an undecodable image.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.decode()))
        .map_err(|_| DecodeError::Malformed)?
        .map_err(|_| DecodeError::Malformed)?;
    if decoded.width() != w || decoded.height() != h {
        return Err(DecodeError::Malformed);
    }
    let rgb = decoded.into_rgb8();
    let orientation = match image.kind() {
        ImageType::Jpeg => jpeg_orientation(image.bytes()),
        ImageType::Png => 1,
    };
    Ok(orient(rgb, orientation))
}

fn format(kind: ImageType) -> ImageFormat {
    match kind {
        ImageType::Jpeg => ImageFormat::Jpeg,
        ImageType::Png => ImageFormat::Png,
    }
}

/// Applies an EXIF orientation (1–8) so that the image is upright.
fn orient(img: RgbImage, orientation: u16) -> RgbImage {
    match orientation {
        2 => imageops::flip_horizontal(&img),
        3 => imageops::rotate180(&img),
        4 => imageops::flip_vertical(&img),
        5 => imageops::flip_horizontal(&imageops::rotate90(&img)),
        6 => imageops::rotate90(&img),
        7 => imageops::flip_horizontal(&imageops::rotate270(&img)),
        8 => imageops::rotate270(&img),
        _ => img,
    }
}

/// The EXIF orientation tag (0x0112) of a JPEG's APP1 segment, 1 (upright) when absent or
/// unreadable. Reads only the markers before the first scan.
pub fn jpeg_orientation(bytes: &[u8]) -> u16 {
    exif_segment(bytes)
        .and_then(tiff_orientation)
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1)
}

/// The TIFF payload of the first `Exif\0\0` APP1 segment.
fn exif_segment(bytes: &[u8]) -> Option<&[u8]> {
    let mut i = 2; // after SOI
    loop {
        let marker = bytes.get(i..i + 2)?;
        if marker[0] != 0xFF {
            return None;
        }
        let kind = marker[1];
        // Start of scan or end of image: no EXIF before the pixel data.
        if kind == 0xDA || kind == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]));
        let body = bytes.get(i + 4..(i + 2).checked_add(len)?)?;
        if kind == 0xE1 && body.starts_with(b"Exif\0\0") {
            return body.get(6..);
        }
        i = i.checked_add(2 + len)?;
    }
}

fn tiff_orientation(tiff: &[u8]) -> Option<u16> {
    let little = match tiff.get(0..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at.checked_add(2)?)?;
        Some(if little {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = tiff.get(at..at.checked_add(4)?)?;
        Some(if little {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let entries = usize::from(u16_at(ifd)?);
    for n in 0..entries.min(512) {
        let entry = ifd.checked_add(2 + 12 * n)?;
        if u16_at(entry)? == 0x0112 {
            return u16_at(entry + 8);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn jpeg_with_exif(tiff: &[u8]) -> Vec<u8> {
        let mut body = b"Exif\0\0".to_vec();
        body.extend_from_slice(tiff);
        let len = u16::try_from(body.len() + 2).unwrap();
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        out
    }

    fn tiff(little: bool, orientation: u16) -> Vec<u8> {
        let mut t = Vec::new();
        let w16 = |t: &mut Vec<u8>, v: u16| {
            t.extend_from_slice(&if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            })
        };
        t.extend_from_slice(if little { b"II" } else { b"MM" });
        w16(&mut t, 42);
        t.extend_from_slice(&if little {
            8u32.to_le_bytes()
        } else {
            8u32.to_be_bytes()
        });
        w16(&mut t, 2); // two entries
        for (tag, value) in [(0x010F, 0), (0x0112, orientation)] {
            w16(&mut t, tag);
            w16(&mut t, 3); // SHORT
            t.extend_from_slice(&if little {
                1u32.to_le_bytes()
            } else {
                1u32.to_be_bytes()
            });
            w16(&mut t, value);
            w16(&mut t, 0);
        }
        t
    }

    #[test]
    fn orientation_is_read_in_both_byte_orders() {
        assert_eq!(jpeg_orientation(&jpeg_with_exif(&tiff(true, 6))), 6);
        assert_eq!(jpeg_orientation(&jpeg_with_exif(&tiff(false, 8))), 8);
    }

    #[test]
    fn missing_or_odd_orientation_means_upright() {
        assert_eq!(jpeg_orientation(&[0xFF, 0xD8, 0xFF, 0xDA]), 1);
        assert_eq!(jpeg_orientation(&jpeg_with_exif(&tiff(true, 42))), 1);
        assert_eq!(jpeg_orientation(&jpeg_with_exif(b"XX")), 1);
    }

    #[test]
    fn orientations_turn_the_image_upright() {
        // A 2×1 image: red on the left, blue on the right.
        let mut img = RgbImage::new(2, 1);
        img.put_pixel(0, 0, image::Rgb([255, 0, 0]));
        img.put_pixel(1, 0, image::Rgb([0, 0, 255]));
        let six = orient(img.clone(), 6);
        assert_eq!((six.width(), six.height()), (1, 2));
        assert_eq!(six.get_pixel(0, 0).0, [255, 0, 0]);
        let two = orient(img.clone(), 2);
        assert_eq!(two.get_pixel(0, 0).0, [0, 0, 255]);
        assert_eq!(orient(img.clone(), 1), img);
    }

    #[test]
    fn a_png_declaring_a_huge_size_is_refused_before_decoding() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0]);
        let crc = crc32(&png[12..]);
        png.extend_from_slice(&crc.to_be_bytes());
        // A few bytes of image data (the decoder reads the header up to the first IDAT).
        let idat = [
            b'I', b'D', b'A', b'T', 0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01,
        ];
        png.extend_from_slice(&8u32.to_be_bytes());
        png.extend_from_slice(&idat);
        png.extend_from_slice(&crc32(&idat).to_be_bytes());
        let image = Image::parse(png, 1 << 20).unwrap();
        assert_eq!(dimensions(&image), Ok((100_000, 100_000)));
        assert_eq!(
            decode_rgb(&image, &DecodeLimits::default()),
            Err(DecodeError::Dimensions)
        );
    }

    #[test]
    fn a_small_png_round_trips() {
        let mut img = RgbImage::new(3, 2);
        img.put_pixel(2, 1, image::Rgb([10, 20, 30]));
        let mut bytes = Vec::new();
        image::DynamicImage::ImageRgb8(img.clone())
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        let image = Image::parse(bytes, 1 << 20).unwrap();
        assert_eq!(decode_rgb(&image, &DecodeLimits::default()), Ok(img));
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    proptest! {
        #[test]
        fn random_bytes_after_a_jpeg_or_png_signature_never_panic(
            png in any::<bool>(),
            tail in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let mut bytes = if png {
                b"\x89PNG\r\n\x1a\n".to_vec()
            } else {
                vec![0xFF, 0xD8, 0xFF]
            };
            bytes.extend_from_slice(&tail);
            let image = Image::parse(bytes, 1 << 20).unwrap();
            let _ = decode_rgb(&image, &DecodeLimits::default());
            let _ = jpeg_orientation(image.bytes());
        }
    }
}
