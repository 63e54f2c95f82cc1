//! Decoding an uploaded document photo with limits: the type from the magic bytes, the
//! dimensions read from the header and checked before any pixel is decoded, the decoder's own
//! allocation limit as a second guard (decompression bombs), and the result as gray levels.

use kyc_core::model::ImageType;
use kyc_core::ports::ReadError;

use super::raster::Raster;

/// Limits applied before and while decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// The longest side accepted, in pixels.
    pub max_side: u32,
    /// The most pixels accepted (width × height).
    pub max_pixels: u64,
    /// The shortest side worth reading; smaller images are [`ReadError::PoorQuality`].
    pub min_side: u32,
}

impl Default for DecodeLimits {
    /// 12 000 px per side, 50 megapixels, at least 200 px.
    fn default() -> Self {
        Self {
            max_side: 12_000,
            max_pixels: 50_000_000,
            min_side: 200,
        }
    }
}

/// Decodes `bytes` (JPEG or PNG, recognised by magic bytes) into a gray raster.
///
/// Errors: [`ReadError::InvalidImage`] for anything that is not a decodable JPEG or PNG within
/// the limits (the header's dimensions are checked before decoding); [`ReadError::PoorQuality`]
/// for an image smaller than `min_side`.
pub fn decode_gray(bytes: &[u8], limits: &DecodeLimits) -> Result<Raster, ReadError> {
    let format = match ImageType::sniff(bytes) {
        Some(ImageType::Jpeg) => image::ImageFormat::Jpeg,
        Some(ImageType::Png) => image::ImageFormat::Png,
        None => return Err(ReadError::InvalidImage),
    };
    let reader = || image::io::Reader::with_format(std::io::Cursor::new(bytes), format);
    let (w, h) = reader()
        .into_dimensions()
        .map_err(|_| ReadError::InvalidImage)?;
    if w == 0 || h == 0 || w > limits.max_side || h > limits.max_side {
        return Err(ReadError::InvalidImage);
    }
    if u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(ReadError::InvalidImage);
    }
    if w.min(h) < limits.min_side {
        return Err(ReadError::PoorQuality);
    }
    let mut decoder = reader();
    let mut l = image::io::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    // Room for the decoded pixels in their widest form (16-bit RGBA) and the gray copy.
    l.max_alloc = Some(limits.max_pixels.saturating_mul(10));
    decoder.limits(l);
    let decoded = decoder.decode().map_err(|_| ReadError::InvalidImage)?;
    let gray = decoded.into_luma8();
    let (gw, gh) = (gray.width() as usize, gray.height() as usize);
    Raster::from_vec(gw, gh, 1, gray.into_raw()).ok_or(ReadError::InvalidImage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::ImageEncoder;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let pixels = vec![200u8; (w * h) as usize];
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(&pixels, w, h, image::ColorType::L8)
            .unwrap();
        out
    }

    #[test]
    fn a_small_png_decodes_to_gray() {
        let r = decode_gray(&png(300, 250), &DecodeLimits::default()).unwrap();
        assert_eq!((r.width(), r.height(), r.channels()), (300, 250, 1));
    }

    #[test]
    fn garbage_and_truncated_images_are_invalid() {
        let limits = DecodeLimits::default();
        assert_eq!(decode_gray(b"hello", &limits), Err(ReadError::InvalidImage));
        assert_eq!(decode_gray(&[], &limits), Err(ReadError::InvalidImage));
        let mut truncated = png(300, 300);
        truncated.truncate(60);
        assert_eq!(
            decode_gray(&truncated, &limits),
            Err(ReadError::InvalidImage)
        );
        assert_eq!(
            decode_gray(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0], &limits),
            Err(ReadError::InvalidImage)
        );
    }

    #[test]
    fn a_header_claiming_huge_dimensions_is_refused_before_decoding() {
        // A valid PNG signature and IHDR claiming 100 000 × 100 000 pixels, no data.
        let mut bomb = png(300, 300);
        // IHDR width and height are at bytes 16..24.
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert_eq!(
            decode_gray(&bomb, &DecodeLimits::default()),
            Err(ReadError::InvalidImage)
        );
        let tight = DecodeLimits {
            max_pixels: 1000,
            ..DecodeLimits::default()
        };
        assert_eq!(
            decode_gray(&png(300, 300), &tight),
            Err(ReadError::InvalidImage)
        );
    }

    #[test]
    fn a_tiny_image_is_poor_quality() {
        assert_eq!(
            decode_gray(&png(50, 400), &DecodeLimits::default()),
            Err(ReadError::PoorQuality)
        );
    }
}
