//! One Tesseract instance (through the `tesseract` crate's plumbing, which exposes the C API
//! with `&mut self` methods), fed gray rasters, returning plain text or TSV (word boxes with
//! confidences). Instances are created once and reused: loading the model is the slow part.

use std::ffi::CString;
use std::path::Path;

use tesseract::plumbing::tesseract_sys::{
    TessOcrEngineMode, TessOcrEngineMode_OEM_LSTM_ONLY, TessOcrEngineMode_OEM_TESSERACT_ONLY,
    TessPageSegMode, TessPageSegMode_PSM_SINGLE_BLOCK, TessPageSegMode_PSM_SPARSE_TEXT,
};
use tesseract::plumbing::TessBaseApi;

use super::raster::Raster;

/// Which recogniser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recogniser {
    /// The LSTM line recogniser (printed text). Note the `tesseract` crate's trap: its
    /// `OcrEngineMode::Default` is not the LSTM, and `TesseractOnly` is the legacy engine.
    Lstm,
    /// The legacy character classifier (the MRZ: better on OCR-B fillers).
    Legacy,
}

impl Recogniser {
    fn oem(self) -> TessOcrEngineMode {
        match self {
            Self::Lstm => TessOcrEngineMode_OEM_LSTM_ONLY,
            Self::Legacy => TessOcrEngineMode_OEM_TESSERACT_ONLY,
        }
    }
}

/// How Tesseract segments the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segmentation {
    /// Text anywhere, in no particular order (`--psm 11`): document pages.
    Sparse,
    /// One uniform block of text (`--psm 6`): the MRZ band.
    Block,
}

impl Segmentation {
    fn psm(self) -> TessPageSegMode {
        match self {
            Self::Sparse => TessPageSegMode_PSM_SPARSE_TEXT,
            Self::Block => TessPageSegMode_PSM_SINGLE_BLOCK,
        }
    }
}

/// Why Tesseract could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The model could not be loaded.
    #[error("tesseract could not load the model")]
    Init,
    /// A setting was refused.
    #[error("tesseract refused a setting")]
    Setting,
    /// Recognition failed.
    #[error("tesseract recognition failed")]
    Recognise,
}

/// A Tesseract instance with its model loaded.
pub struct Engine {
    api: TessBaseApi,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

impl Engine {
    /// Loads `<datapath>/eng.traineddata` for `recogniser`.
    pub fn new(datapath: &Path, recogniser: Recogniser) -> Result<Self, EngineError> {
        let path =
            CString::new(datapath.to_string_lossy().as_bytes()).map_err(|_| EngineError::Init)?;
        let lang = CString::new("eng").map_err(|_| EngineError::Init)?;
        let mut api = TessBaseApi::create();
        api.init_4(Some(&path), Some(&lang), recogniser.oem())
            .map_err(|_| EngineError::Init)?;
        let mut engine = Self { api };
        // Keep Tesseract's diagnostics off stderr.
        engine.set("debug_file", "/dev/null")?;
        Ok(engine)
    }

    /// Sets a Tesseract variable.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), EngineError> {
        let n = CString::new(name).map_err(|_| EngineError::Setting)?;
        let v = CString::new(value).map_err(|_| EngineError::Setting)?;
        self.api
            .set_variable(&n, &v)
            .map_err(|_| EngineError::Setting)
    }

    fn load(&mut self, image: &Raster, seg: Segmentation, ppi: i32) -> Result<(), EngineError> {
        let gray;
        let image = if image.channels() == 1 {
            image
        } else {
            gray = image.to_gray();
            &gray
        };
        let w = i32::try_from(image.width()).map_err(|_| EngineError::Recognise)?;
        let h = i32::try_from(image.height()).map_err(|_| EngineError::Recognise)?;
        if w < 8 || h < 8 {
            return Err(EngineError::Recognise);
        }
        self.api.set_page_seg_mode(seg.psm());
        self.api
            .set_image(image.data(), w, h, 1, w)
            .map_err(|_| EngineError::Recognise)?;
        self.api.set_source_resolution(ppi);
        self.api.recognize().map_err(|_| EngineError::Recognise)
    }

    /// Recognises `image` and returns its text, lines separated by `\n`.
    pub fn text(
        &mut self,
        image: &Raster,
        seg: Segmentation,
        ppi: i32,
    ) -> Result<String, EngineError> {
        self.load(image, seg, ppi)?;
        let text = self
            .api
            .get_utf8_text()
            .map_err(|_| EngineError::Recognise)?;
        Ok(text.as_ref().to_string_lossy().into_owned())
    }

    /// Recognises `image` and returns Tesseract's TSV (one row per page, block, paragraph,
    /// line and word, with boxes and confidences).
    pub fn tsv(
        &mut self,
        image: &Raster,
        seg: Segmentation,
        ppi: i32,
    ) -> Result<String, EngineError> {
        self.load(image, seg, ppi)?;
        let tsv = self
            .api
            .get_tsv_text(0)
            .map_err(|_| EngineError::Recognise)?;
        Ok(tsv.as_ref().to_string_lossy().into_owned())
    }
}
