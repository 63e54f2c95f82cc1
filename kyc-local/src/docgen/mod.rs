//! A generator of synthetic identity documents for tests, benchmarks and demos: a TD1 card or
//! a TD3 passport data page with printed labels and values, a face photo and an OCR-B
//! machine-readable zone with valid check digits, degraded like a scan or a phone photo
//! (resolution, blur, rotation, JPEG quality). Everything is deterministic from a seed; the
//! ground truth comes with the image.
//!
//! ```no_run
//! use kyc_local::docgen::{DocSpec, Generator};
//! use kyc_core::model::Date;
//! let generator = Generator::system()?;
//! let spec = DocSpec::random(42, Date::from_ymd(2026, 3, 1)?);
//! let doc = generator.generate(&spec)?;
//! std::fs::write("sample.jpg", &doc.bytes)?;
//! println!("{}", doc.truth.mrz.join("\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Fonts: DejaVu Sans for the printed zone, OCR-B for the MRZ (Debian `fonts-dejavu-core`,
//! `fonts-ocr-b`, installed by `cargo xtask setup`). Face photos: any JPEG or PNG in
//! `<assets>/faces/` (fetched by the setup), else a drawn placeholder, so the generator works
//! without them.

mod identity;
mod render;
mod rng;
mod text;

use std::path::{Path, PathBuf};

use kyc_core::model::{Date, ImageType};

pub use identity::{DocFormat, Identity};
pub use render::{LabelSet, LABEL_SETS};
pub use rng::SeedRng;
pub use text::Fonts;

/// Why a document could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocgenError {
    /// A font file is missing or unreadable.
    #[error("font {path} is missing or unreadable; run `cargo xtask setup` (Debian fonts-dejavu-core, fonts-ocr-b)")]
    FontMissing {
        /// The file looked for.
        path: PathBuf,
    },
    /// The image could not be encoded.
    #[error("the image could not be encoded")]
    Encode,
    /// The variant asks for something out of range.
    #[error("the variant is out of range: {what}")]
    BadVariant {
        /// Which setting.
        what: &'static str,
    },
}

/// How the document is degraded, as if scanned or photographed.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    /// Resolution in dots per inch (100–1200).
    pub dpi: u32,
    /// Gaussian blur, standard deviation in pixels (0–3).
    pub blur_sigma: f32,
    /// Rotation in degrees, counter-clockwise (−45–45).
    pub rotation_deg: f32,
    /// JPEG quality (1–100), or `None` for PNG.
    pub jpeg_quality: Option<u8>,
}

impl Variant {
    /// A clean 300 dpi PNG.
    pub const CLEAN: Variant = Variant {
        dpi: 300,
        blur_sigma: 0.0,
        rotation_deg: 0.0,
        jpeg_quality: None,
    };

    fn validate(&self) -> Result<(), DocgenError> {
        if !(100..=1200).contains(&self.dpi) {
            return Err(DocgenError::BadVariant { what: "dpi" });
        }
        if !(0.0..=3.0).contains(&self.blur_sigma) {
            return Err(DocgenError::BadVariant { what: "blur" });
        }
        if !(-45.0..=45.0).contains(&self.rotation_deg) {
            return Err(DocgenError::BadVariant { what: "rotation" });
        }
        if self.jpeg_quality.is_some_and(|q| !(1..=100).contains(&q)) {
            return Err(DocgenError::BadVariant {
                what: "jpeg quality",
            });
        }
        Ok(())
    }
}

/// Everything that decides one document.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocSpec {
    /// The seed of the identity, the layout choices and the noise.
    pub seed: u64,
    /// The layout.
    pub format: DocFormat,
    /// The degradation.
    pub variant: Variant,
    /// "Today" for the dates (birth dates before it, expiry after it).
    pub today: Date,
}

impl DocSpec {
    /// A document of `format`, clean, from `seed`.
    pub fn new(seed: u64, format: DocFormat, today: Date) -> Self {
        Self {
            seed,
            format,
            variant: Variant::CLEAN,
            today,
        }
    }

    /// A random document from `seed`: either format, 200–600 dpi, blur up to 1 px, rotation
    /// up to ±5°, JPEG quality 60–95 (one in five a PNG).
    pub fn random(seed: u64, today: Date) -> Self {
        let mut rng = SeedRng::new(seed ^ 0x005E_ED0F_D0C5);
        let format = if rng.chance(0.5) {
            DocFormat::Td1
        } else {
            DocFormat::Td3
        };
        let variant = Variant {
            dpi: u32::try_from(rng.range(200, 600)).unwrap_or(300),
            blur_sigma: rng.uniform(0.0, 1.0),
            rotation_deg: rng.uniform(-5.0, 5.0),
            jpeg_quality: if rng.chance(0.2) {
                None
            } else {
                u8::try_from(rng.range(60, 95)).ok()
            },
        };
        Self {
            seed,
            format,
            variant,
            today,
        }
    }

    /// The same document with another variant.
    pub fn with_variant(mut self, variant: Variant) -> Self {
        self.variant = variant;
        self
    }
}

/// A generated document: the encoded image and what it shows. `Debug` leaves out the bytes.
#[derive(Clone)]
pub struct GeneratedDocument {
    /// The encoded image (JPEG or PNG).
    pub bytes: Vec<u8>,
    /// Its type.
    pub image_type: ImageType,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The ground truth.
    pub truth: Identity,
    /// The printed labels used.
    pub labels: &'static LabelSet,
    /// The spec it was made from.
    pub spec: DocSpec,
}

impl std::fmt::Debug for GeneratedDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedDocument")
            .field("bytes", &self.bytes.len())
            .field("image_type", &self.image_type)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("truth", &self.truth)
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

/// Draws synthetic documents.
#[derive(Debug)]
pub struct Generator {
    fonts: Fonts,
    faces: Vec<PathBuf>,
}

impl Generator {
    /// A generator with the system fonts and the face photos found in `<assets>/faces/`
    /// (none is fine: a placeholder is drawn).
    pub fn system() -> Result<Self, DocgenError> {
        Ok(Self::new(Fonts::system()?).with_faces_from(&crate::config::assets_dir().join("faces")))
    }

    /// A generator with the given fonts and no face photos.
    pub fn new(fonts: Fonts) -> Self {
        Self {
            fonts,
            faces: Vec::new(),
        }
    }

    /// Uses the JPEG and PNG files directly in `dir` as face photos (sorted by name, so the
    /// choice per seed is stable); a missing directory means none.
    pub fn with_faces_from(mut self, dir: &Path) -> Self {
        let mut faces: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                            matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png")
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        faces.sort();
        self.faces = faces;
        self
    }

    /// How many face photos are available.
    pub fn face_count(&self) -> usize {
        self.faces.len()
    }

    /// Generates the document `spec` describes.
    pub fn generate(&self, spec: &DocSpec) -> Result<GeneratedDocument, DocgenError> {
        spec.variant.validate()?;
        let mut rng = SeedRng::new(spec.seed);
        let truth = Identity::random(&mut rng, spec.format, spec.today);
        let face = self.pick_face(&mut rng);
        let drawn = render::draw(
            &self.fonts,
            &truth,
            face.as_deref(),
            &spec.variant,
            &mut rng,
        );
        let page = drawn
            .page
            .rotate(spec.variant.rotation_deg, &render::SCANNER_BED)
            .gaussian_blur(spec.variant.blur_sigma);
        let (width, height) = (page.width(), page.height());
        let (bytes, image_type) = encode(page, spec.variant.jpeg_quality)?;
        Ok(GeneratedDocument {
            bytes,
            image_type,
            width: u32::try_from(width).unwrap_or(u32::MAX),
            height: u32::try_from(height).unwrap_or(u32::MAX),
            truth,
            labels: drawn.labels,
            spec: *spec,
        })
    }

    fn pick_face(&self, rng: &mut SeedRng) -> Option<Vec<u8>> {
        let path = rng.pick(&self.faces)?;
        std::fs::read(path).ok()
    }
}

fn encode(
    page: crate::ocr::raster::Raster,
    jpeg_quality: Option<u8>,
) -> Result<(Vec<u8>, ImageType), DocgenError> {
    use image::ImageEncoder;
    let (w, h) = (
        u32::try_from(page.width()).map_err(|_| DocgenError::Encode)?,
        u32::try_from(page.height()).map_err(|_| DocgenError::Encode)?,
    );
    let mut out = Vec::new();
    match jpeg_quality {
        Some(q) => {
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q)
                .write_image(page.data(), w, h, image::ColorType::Rgb8)
                .map_err(|_| DocgenError::Encode)?;
            Ok((out, ImageType::Jpeg))
        }
        None => {
            image::codecs::png::PngEncoder::new(&mut out)
                .write_image(page.data(), w, h, image::ColorType::Rgb8)
                .map_err(|_| DocgenError::Encode)?;
            Ok((out, ImageType::Png))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::from_ymd(2026, 3, 1).unwrap()
    }

    #[test]
    fn random_specs_stay_within_the_issue_ranges() {
        for seed in 0..500 {
            let s = DocSpec::random(seed, today());
            assert!((200..=600).contains(&s.variant.dpi));
            assert!((0.0..=1.0).contains(&s.variant.blur_sigma));
            assert!(s.variant.rotation_deg.abs() <= 5.0);
            assert!(s.variant.jpeg_quality.is_none_or(|q| q >= 60));
            assert!(s.variant.validate().is_ok());
        }
    }

    #[test]
    fn out_of_range_variants_are_refused() {
        let bad = Variant {
            dpi: 5,
            ..Variant::CLEAN
        };
        assert!(matches!(
            bad.validate(),
            Err(DocgenError::BadVariant { what: "dpi" })
        ));
        let bad = Variant {
            blur_sigma: f32::NAN,
            ..Variant::CLEAN
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn format_names_parse() {
        assert_eq!("TD1".parse::<DocFormat>(), Ok(DocFormat::Td1));
        assert_eq!("td3".parse::<DocFormat>(), Ok(DocFormat::Td3));
        assert!("td2".parse::<DocFormat>().is_err());
    }
}
