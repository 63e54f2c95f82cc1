//! Image-quality measures of a face region for the quality gate: brightness and sharpness, both
//! on a 0–1 scale.
//!
//! - **Brightness**: mean luma (ITU-R BT.601 weights) of the face box, divided by 255.
//! - **Sharpness**: the variance `V` of the 4-neighbour Laplacian of the face box's grey image,
//!   after resizing the box to [`SHARPNESS_SIDE`] pixels square (so the measure does not depend
//!   on the face's size in the photo), mapped to `V / (V + SHARPNESS_HALF)`: 0.5 at
//!   `V = SHARPNESS_HALF`, approaching 1 for crisp detail. Seen on the test photos: portraits
//!   0.58–0.81, faces in group photos 0.27–0.62; obama.jpg blurred with a Gaussian of σ = 4 px
//!   over the whole photo, 0.11. The quality gate's `minSharpness` is off by default; about 0.3
//!   suits this engine.

use image::imageops::{self, FilterType};
use image::{GrayImage, RgbImage};

/// The side of the square the face box is resized to before measuring sharpness.
pub const SHARPNESS_SIDE: u32 = 128;

/// The Laplacian variance that maps to sharpness 0.5.
pub const SHARPNESS_HALF: f64 = 100.0;

/// A face box in pixel coordinates of an image; it may extend past the image's edges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelBox {
    /// Left edge.
    pub left: i64,
    /// Top edge.
    pub top: i64,
    /// Right edge (exclusive).
    pub right: i64,
    /// Bottom edge (exclusive).
    pub bottom: i64,
}

/// The part of the box inside an image of `width` × `height`, as `(x, y, w, h)`, or `None`
/// when nothing is left.
pub fn clip(b: PixelBox, width: u32, height: u32) -> Option<(u32, u32, u32, u32)> {
    let x0 = b.left.clamp(0, i64::from(width));
    let y0 = b.top.clamp(0, i64::from(height));
    let x1 = b.right.clamp(0, i64::from(width));
    let y1 = b.bottom.clamp(0, i64::from(height));
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    Some((
        u32::try_from(x0).ok()?,
        u32::try_from(y0).ok()?,
        u32::try_from(x1 - x0).ok()?,
        u32::try_from(y1 - y0).ok()?,
    ))
}

/// The grey image of the face box, or `None` when the box lies outside the image.
pub fn face_grey(img: &RgbImage, b: PixelBox) -> Option<GrayImage> {
    let (x, y, w, h) = clip(b, img.width(), img.height())?;
    let crop = imageops::crop_imm(img, x, y, w, h).to_image();
    Some(image::DynamicImage::ImageRgb8(crop).into_luma8())
}

/// Mean luma of a grey image, 0–1; `None` for an empty image.
pub fn brightness(grey: &GrayImage) -> Option<f32> {
    let n = u64::from(grey.width()) * u64::from(grey.height());
    if n == 0 {
        return None;
    }
    let sum: u64 = grey.pixels().map(|p| u64::from(p.0[0])).sum();
    Some((sum as f64 / n as f64 / 255.0) as f32)
}

/// The variance of the 4-neighbour Laplacian over the interior of a grey image; `None` when the
/// image is smaller than 3 × 3.
pub fn laplacian_variance(grey: &GrayImage) -> Option<f64> {
    let (w, h) = grey.dimensions();
    if w < 3 || h < 3 {
        return None;
    }
    let at = |x: u32, y: u32| f64::from(grey.get_pixel(x, y).0[0]);
    let (mut sum, mut sum_sq, mut n) = (0.0f64, 0.0f64, 0.0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let l = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4.0 * at(x, y);
            sum += l;
            sum_sq += l * l;
            n += 1.0;
        }
    }
    let mean = sum / n;
    Some((sum_sq / n - mean * mean).max(0.0))
}

/// Sharpness 0–1 of the face's grey image (see the module docs).
pub fn sharpness(grey: &GrayImage) -> Option<f32> {
    if grey.width() < 3 || grey.height() < 3 {
        return None;
    }
    let norm = imageops::resize(grey, SHARPNESS_SIDE, SHARPNESS_SIDE, FilterType::Triangle);
    let v = laplacian_variance(&norm)?;
    Some((v / (v + SHARPNESS_HALF)) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkerboard(side: u32, cell: u32) -> GrayImage {
        GrayImage::from_fn(side, side, |x, y| {
            image::Luma([if (x / cell + y / cell).is_multiple_of(2) {
                30
            } else {
                220
            }])
        })
    }

    #[test]
    fn a_flat_image_has_no_sharpness_and_its_grey_level_as_brightness() {
        let flat = GrayImage::from_pixel(50, 40, image::Luma([51]));
        assert_eq!(sharpness(&flat), Some(0.0));
        assert!((brightness(&flat).unwrap() - 0.2).abs() < 1e-6);
    }

    #[test]
    fn blurring_lowers_sharpness() {
        let sharp = checkerboard(128, 8);
        let blurred = imageops::blur(&sharp, 3.0);
        let (s, b) = (sharpness(&sharp).unwrap(), sharpness(&blurred).unwrap());
        assert!(s > 0.9 && b < s / 2.0, "{s} {b}");
    }

    #[test]
    fn boxes_are_clipped_to_the_image() {
        let b = PixelBox {
            left: -10,
            top: 5,
            right: 30,
            bottom: 500,
        };
        assert_eq!(clip(b, 20, 100), Some((0, 5, 20, 95)));
        let outside = PixelBox {
            left: 40,
            top: 0,
            right: 50,
            bottom: 10,
        };
        assert_eq!(clip(outside, 20, 100), None);
    }

    #[test]
    fn tiny_images_have_no_measure() {
        assert_eq!(sharpness(&GrayImage::new(2, 9)), None);
        assert_eq!(brightness(&GrayImage::new(0, 0)), None);
    }
}
