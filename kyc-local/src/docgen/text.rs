//! Text rendering for the generator: glyph outlines from OpenType fonts (`ab_glyph`), blended
//! into an RGB [`Raster`] with their coverage. Proportional text with kerning, and fixed-pitch
//! text (the MRZ's 2.54 mm character pitch) with each glyph centred in its cell.

use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};

use super::DocgenError;
use crate::ocr::raster::Raster;

/// The fonts a document is drawn with.
pub struct Fonts {
    /// Regular text (labels).
    pub regular: FontVec,
    /// Bold text (values, headers).
    pub bold: FontVec,
    /// OCR-B for the machine-readable zone.
    pub ocr_b: FontVec,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fonts")
    }
}

/// Where Debian installs the fonts (`fonts-dejavu-core`, `fonts-ocr-b`).
pub const DEJAVU_DIR: &str = "/usr/share/fonts/truetype/dejavu";
/// Where Debian's `fonts-ocr-b` puts OCR-B.
pub const OCR_B_DIR: &str = "/usr/share/fonts/opentype/ocr-b";

impl Fonts {
    /// Loads DejaVu Sans (regular, bold) and OCR-B from Debian's locations, or from
    /// `$KYC_FONTS_DIR` when it is set (the three files `DejaVuSans.ttf`,
    /// `DejaVuSans-Bold.ttf`, `OCRB.otf` directly inside it).
    pub fn system() -> Result<Self, DocgenError> {
        let (dejavu, ocrb) = match std::env::var_os("KYC_FONTS_DIR") {
            Some(dir) => (PathBuf::from(&dir), PathBuf::from(dir)),
            None => (PathBuf::from(DEJAVU_DIR), PathBuf::from(OCR_B_DIR)),
        };
        Ok(Self {
            regular: load(&dejavu.join("DejaVuSans.ttf"))?,
            bold: load(&dejavu.join("DejaVuSans-Bold.ttf"))?,
            ocr_b: load(&ocrb.join("OCRB.otf"))?,
        })
    }
}

fn load(path: &Path) -> Result<FontVec, DocgenError> {
    let bytes = std::fs::read(path).map_err(|_| DocgenError::FontMissing {
        path: path.to_path_buf(),
    })?;
    FontVec::try_from_vec(bytes).map_err(|_| DocgenError::FontMissing {
        path: path.to_path_buf(),
    })
}

/// Draws `text` with its baseline at `y` starting at `x` (pixels), in `color`; returns the
/// advance width.
pub fn draw_text(
    canvas: &mut Raster,
    font: &FontVec,
    px: f32,
    x: f32,
    y: f32,
    color: [u8; 3],
    text: &str,
) -> f32 {
    let scaled = font.as_scaled(PxScale::from(px));
    let mut caret = x;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(PxScale::from(px), ab_glyph::point(caret, y));
        blit(canvas, font, glyph, color);
        caret += scaled.h_advance(id);
        prev = Some(id);
    }
    caret - x
}

/// Draws `text` with a fixed `pitch` (pixels per character), each glyph centred in its cell;
/// the first cell starts at `x`, the baseline is at `y`.
#[allow(clippy::too_many_arguments)]
pub fn draw_monospace(
    canvas: &mut Raster,
    font: &FontVec,
    px: f32,
    pitch: f32,
    x: f32,
    y: f32,
    color: [u8; 3],
    text: &str,
) {
    let scaled = font.as_scaled(PxScale::from(px));
    for (i, c) in text.chars().enumerate() {
        let id = scaled.glyph_id(c);
        let advance = scaled.h_advance(id);
        let left = x + pitch * i as f32 + (pitch - advance) / 2.0;
        let glyph = id.with_scale_and_position(PxScale::from(px), ab_glyph::point(left, y));
        blit(canvas, font, glyph, color);
    }
}

fn blit(canvas: &mut Raster, font: &FontVec, glyph: ab_glyph::Glyph, color: [u8; 3]) {
    let Some(outlined) = font.outline_glyph(glyph) else {
        return;
    };
    let bounds = outlined.px_bounds();
    let (w, h) = (canvas.width() as i64, canvas.height() as i64);
    let channels = canvas.channels();
    let data = canvas.data_mut();
    outlined.draw(|gx, gy, coverage| {
        let px = bounds.min.x as i64 + i64::from(gx);
        let py = bounds.min.y as i64 + i64::from(gy);
        if px < 0 || py < 0 || px >= w || py >= h {
            return;
        }
        let Ok(at) = usize::try_from((py * w + px) * channels as i64) else {
            return;
        };
        let a = coverage.clamp(0.0, 1.0);
        for (c, &target) in color.iter().enumerate().take(channels) {
            if let Some(p) = data.get_mut(at + c) {
                *p = (f32::from(*p) * (1.0 - a) + f32::from(target) * a).round() as u8;
            }
        }
    });
}
