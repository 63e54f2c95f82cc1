//! Untrusted image input for the HTTP API: type by magic bytes, size and dimension limits read
//! from the headers, metadata stripped, EXIF orientation applied, strict base64.
//!
//! Everything here is a pure function over bytes: no I/O, no async, no logging. The router calls
//! [`decode_base64`] (for JSON bodies), then [`sanitize`] before anything is stored, and maps a
//! [`MediaError`] to a problem document with [`MediaError::code`] and [`MediaError::http_status`].
//!
//! # What is accepted
//! Only baseline, extended-sequential and progressive Huffman JPEG with 8-bit samples and 1, 3
//! or 4 components, and PNG (every standard bit depth and colour type, interlaced or not, not
//! animated). The structure is walked segment by segment (JPEG) or chunk by chunk (PNG) without
//! decoding a pixel, so the common path costs a copy of the input (about 20–30 µs for a 200 KB
//! photo in a release build); the limits of [`Limits`] are checked from the header before
//! anything else is looked at (a PNG declaring 100,000 × 100,000 pixels is refused after reading
//! 33 bytes).
//!
//! # What is removed
//! - JPEG: kept are SOI, the first APP0 `JFIF` (rewritten without its thumbnail), APP2
//!   `ICC_PROFILE` chunks, the first APP14 `Adobe` (it says how colours are transformed), DQT,
//!   DHT, DRI, SOF, SOS with its entropy-coded data, and EOI. Dropped are APP1 (EXIF with its GPS
//!   position, camera serial and thumbnail; XMP), every other APPn (Photoshop IRB, MPF, …) and
//!   COM. Fill bytes between segments are dropped.
//! - PNG: kept are IHDR, PLTE, IDAT, IEND and the ancillary chunks that change how pixels look
//!   (tRNS, gAMA, cHRM, sRGB, iCCP, sBIT, bKGD) or their physical size (pHYs), when they appear
//!   before the image data where the format puts them. Dropped are text (tEXt, zTXt, iTXt),
//!   eXIf, tIME and every other ancillary chunk.
//!
//! # Decisions
//! - **Bytes after the end.** Anything after JPEG's EOI or PNG's IEND is refused as
//!   [`MediaError::TrailingData`]: that is where JPEG+ZIP and PNG+HTML polyglots keep their second
//!   file. Two exceptions for JPEG, both dropped by [`sanitize`]: zero bytes (some cameras and
//!   firmware pad files with them; zeros cannot form a second file), and the further images of a
//!   Multi-Picture Format file (an APP2 `MPF` segment in the first image, then bytes starting with
//!   another SOI), which many phone cameras write. PNG has no such habit and gets no tolerance.
//! - **Orientation.** The EXIF orientation (tag 0x0112 of the APP1 `Exif` segment of a JPEG, or
//!   of a PNG's eXIf chunk) is what viewers apply before showing a photo; once the metadata is
//!   stripped it would be lost and the photo would show on its side. When it is 2–8 (a rare
//!   path) the image is decoded with the `image` crate (its own decoder limits set from the
//!   checked header), turned upright and encoded again: JPEG at quality 92 (lower when that does
//!   not fit `max_bytes`), PNG losslessly; the ICC profile or the PNG colour chunks are carried
//!   over. Orientation in XMP is ignored, as browsers ignore it.
//! - **Limits.** Dimensions are refused when either side or the pixel count is over the limit
//!   ([`MediaError::DimensionsTooLarge`]), or when the shorter side is under `min_side`
//!   ([`MediaError::TooSmall`]).
//!
//! What this cannot do: a walk does not look inside the compressed data, so bytes an attacker
//! manages to place in the entropy-coded data, a quantisation table or an ICC profile survive.
//! They cannot make the file a second format (the start and the end are checked), and the API
//! serves stored images with their sniffed type and `nosniff`.

mod base64;
mod exif;
mod jpeg;
mod orient;
mod png;
#[cfg(test)]
mod testkit;

pub use self::base64::decode_base64;

/// The image formats the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageType {
    /// JPEG (JFIF or EXIF), baseline, extended sequential or progressive.
    Jpeg,
    /// PNG, not animated.
    Png,
}

impl ImageType {
    /// The media type of this format, for `Content-Type`.
    ///
    /// ```
    /// assert_eq!(handlers::media::ImageType::Png.mime(), "image/png");
    /// ```
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }
}

/// Bounds on one uploaded image, checked before anything is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest accepted file, in bytes (checked before anything else).
    pub max_bytes: usize,
    /// The widest accepted image, in pixels.
    pub max_width: u32,
    /// The tallest accepted image, in pixels.
    pub max_height: u32,
    /// The most pixels (width × height) accepted.
    pub max_pixels: u64,
    /// The shortest accepted side, in pixels.
    pub min_side: u32,
}

impl Limits {
    /// An identity-document photo or scan: up to 10 MiB, 8000 × 8000 and 40 megapixels, the
    /// shorter side at least 200 pixels.
    ///
    /// Phones' default photos (12 MP, 4032 × 3024; 24 MP, 5712 × 4284) and 600 dpi A4 scans
    /// (4960 × 7016, 35 MP) fit; the full-sensor 48–200 MP modes do not and must be scaled down
    /// by the client (they would not fit 10 MiB either). A side under 200 pixels cannot carry a
    /// readable MRZ (44 characters a line) or a face large enough to compare.
    pub const DOCUMENT: Limits = Limits {
        max_bytes: 10 * 1024 * 1024,
        max_width: 8000,
        max_height: 8000,
        max_pixels: 40_000_000,
        min_side: 200,
    };

    /// A liveness frame from a camera stream: up to 2 MiB, 4096 × 4096 and 12 megapixels, the
    /// shorter side at least 64 pixels.
    ///
    /// Frames are normally 640 × 480 to 1920 × 1080; 64 pixels is about the smallest in which a
    /// face detector still finds a face.
    pub const FRAME: Limits = Limits {
        max_bytes: 2 * 1024 * 1024,
        max_width: 4096,
        max_height: 4096,
        max_pixels: 12_000_000,
        min_side: 64,
    };
}

/// What [`inspect`] learned from an image's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// The format, from the magic bytes and confirmed by the structure.
    pub kind: ImageType,
    /// Width in pixels as stored (before orientation is applied).
    pub width: u32,
    /// Height in pixels as stored (before orientation is applied).
    pub height: u32,
    /// The EXIF orientation, 1..=8; 1 when absent or out of range.
    pub orientation: u8,
}

/// An image that passed [`inspect`] with its metadata removed and its orientation applied.
#[derive(Clone, PartialEq, Eq)]
pub struct Sanitized {
    /// The image to store: the original bytes minus the dropped segments or chunks, or a new
    /// encoding when `reencoded`.
    pub bytes: Vec<u8>,
    /// The info of `bytes` (orientation 1; width and height as displayed).
    pub info: ImageInfo,
    /// Whether the pixels were decoded and encoded again (to apply an EXIF orientation).
    pub reencoded: bool,
}

/// Images are personal data: Debug shows the length, never the bytes.
impl std::fmt::Debug for Sanitized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sanitized")
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("info", &self.info)
            .field("reencoded", &self.reencoded)
            .finish()
    }
}

/// Why an uploaded image (or its base64 text) was refused. Messages never echo the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// Nothing was sent.
    #[error("the image is empty")]
    Empty,
    /// More bytes than the limit (or, for base64, more decoded bytes than the limit).
    #[error("the image is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// Not a JPEG or PNG by its magic bytes, or a kind of JPEG or PNG that is not supported
    /// (arithmetic coding, lossless, hierarchical, 12-bit, unknown critical PNG chunks).
    #[error("the image is not a supported JPEG or PNG")]
    UnsupportedType,
    /// The file ends before its structure does (a cut upload, a missing EOI or IEND).
    #[error("the image is truncated")]
    Truncated,
    /// The structure is broken: bad lengths, bad checksums, segments out of order.
    #[error("the image is malformed")]
    Malformed,
    /// The declared width, height or pixel count is over the limit.
    #[error("the image dimensions exceed the limits")]
    DimensionsTooLarge,
    /// The shorter side is under the limit.
    #[error("the image is too small")]
    TooSmall,
    /// Bytes follow the end of the image (a polyglot file).
    #[error("the image has data after its end")]
    TrailingData,
    /// An animated PNG.
    #[error("animated images are not accepted")]
    Animated,
    /// The base64 text has characters outside the standard alphabet, wrong padding or a
    /// data URL that is not an image's.
    #[error("the base64 text is invalid")]
    InvalidBase64,
}

impl MediaError {
    /// A stable kebab-case identifier, used as the suffix of the problem document's `type`.
    ///
    /// ```
    /// use handlers::media::MediaError;
    /// assert_eq!(MediaError::TooLarge { limit: 1 }.code(), "image-too-large");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty-body",
            Self::TooLarge { .. } => "image-too-large",
            Self::UnsupportedType => "unsupported-media-type",
            Self::Truncated => "image-truncated",
            Self::Malformed => "image-malformed",
            Self::DimensionsTooLarge => "image-dimensions-too-large",
            Self::TooSmall => "image-too-small",
            Self::TrailingData => "image-trailing-data",
            Self::Animated => "animated-image",
            Self::InvalidBase64 => "invalid-base64",
        }
    }

    /// The HTTP status that fits: 413 for too many bytes, 415 for an unsupported type, 400 for
    /// an empty body or invalid base64, 422 for an image whose content is refused.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::UnsupportedType => 415,
            Self::Empty | Self::InvalidBase64 => 400,
            Self::Truncated
            | Self::Malformed
            | Self::DimensionsTooLarge
            | Self::TooSmall
            | Self::TrailingData
            | Self::Animated => 422,
        }
    }
}

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The image type by its magic bytes only (JPEG `FF D8 FF`, PNG's 8-byte signature); `None` for
/// anything else, including a prefix too short to tell.
///
/// ```
/// use handlers::media::{sniff, ImageType};
/// assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(ImageType::Png));
/// assert_eq!(sniff(b"GIF89a"), None);
/// ```
pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
    if bytes.starts_with(JPEG_MAGIC) {
        Some(ImageType::Jpeg)
    } else if bytes.starts_with(PNG_MAGIC) {
        Some(ImageType::Png)
    } else {
        None
    }
}

/// Checks an image's type, size, dimensions and whole structure without decoding a pixel or
/// allocating in proportion to the input.
///
/// Order: empty, `max_bytes`, magic bytes, then the structure walk, in which the dimension
/// limits are checked as soon as the header (SOF, IHDR) is read.
///
/// # Errors
/// Every [`MediaError`] but [`MediaError::InvalidBase64`].
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<ImageInfo, MediaError> {
    match precheck(bytes, limits)? {
        ImageType::Jpeg => jpeg::walk(bytes, limits, None).map(|layout| layout.info),
        ImageType::Png => png::walk(bytes, limits, None).map(|layout| layout.info),
    }
}

/// [`inspect`], then the image without its metadata (see the module docs for what is kept),
/// turned upright when its EXIF orientation says so.
///
/// The result passes [`inspect`] with the same limits, and sanitising it again gives the same
/// bytes.
///
/// # Errors
/// As [`inspect`]; besides, [`MediaError::Malformed`] when an image that must be turned upright
/// does not decode, and [`MediaError::TooLarge`] when its new encoding does not fit `max_bytes`.
pub fn sanitize(bytes: &[u8], limits: &Limits) -> Result<Sanitized, MediaError> {
    let kind = precheck(bytes, limits)?;
    let mut out = Vec::with_capacity(bytes.len());
    let (info, reoriented) = match kind {
        ImageType::Jpeg => {
            let layout = jpeg::walk(bytes, limits, Some(&mut out))?;
            let info = layout.info;
            let reoriented = if info.orientation == 1 {
                None
            } else {
                Some(orient::jpeg(bytes, &out, &layout, limits)?)
            };
            (info, reoriented)
        }
        ImageType::Png => {
            let layout = png::walk(bytes, limits, Some(&mut out))?;
            let info = layout.info;
            let reoriented = if info.orientation == 1 {
                None
            } else {
                Some(orient::png(bytes, &out, &layout, limits)?)
            };
            (info, reoriented)
        }
    };
    match reoriented {
        None => Ok(Sanitized {
            bytes: out,
            info: ImageInfo {
                orientation: 1,
                ..info
            },
            reencoded: false,
        }),
        Some(bytes) => {
            // The new encoding is walked like any input: it must pass, and its info is the
            // truth about it (the sides swapped for orientations 5–8).
            let info = inspect(&bytes, limits)?;
            Ok(Sanitized {
                bytes,
                info,
                reencoded: true,
            })
        }
    }
}

/// The checks before a walk: empty, size, magic bytes (a cut-off magic is a truncation).
fn precheck(bytes: &[u8], limits: &Limits) -> Result<ImageType, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(MediaError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    match sniff(bytes) {
        Some(kind) => Ok(kind),
        None if JPEG_MAGIC.starts_with(bytes) || PNG_MAGIC.starts_with(bytes) => {
            Err(MediaError::Truncated)
        }
        None => Err(MediaError::UnsupportedType),
    }
}

/// The dimension limits, shared by both walks.
fn check_dimensions(width: u32, height: u32, limits: &Limits) -> Result<(), MediaError> {
    if width > limits.max_width
        || height > limits.max_height
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(MediaError::DimensionsTooLarge);
    }
    if width.min(height) < limits.min_side {
        return Err(MediaError::TooSmall);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use image::{DynamicImage, GenericImageView, ImageFormat};
    use proptest::prelude::*;

    fn decode(bytes: &[u8]) -> DynamicImage {
        image::load_from_memory(bytes).expect("image decodes")
    }

    /// Sanitises, then checks the invariants every accepted image must keep: the output passes
    /// `inspect` with the same info, sanitising it again changes nothing.
    fn sanitize_checked(bytes: &[u8], limits: &Limits) -> Result<Sanitized, MediaError> {
        let result = sanitize(bytes, limits);
        if let Ok(clean) = &result {
            assert_eq!(inspect(&clean.bytes, limits), Ok(clean.info));
            assert_eq!(clean.info.orientation, 1);
            let again = sanitize(&clean.bytes, limits).expect("sanitised image passes again");
            assert_eq!(
                again.bytes, clean.bytes,
                "sanitising twice changed the bytes"
            );
            assert!(!again.reencoded);
        }
        result
    }

    #[test]
    fn empty_input_is_refused_as_empty() {
        assert_eq!(inspect(b"", &Limits::DOCUMENT), Err(MediaError::Empty));
        assert_eq!(sanitize(b"", &Limits::FRAME), Err(MediaError::Empty));
    }

    #[test]
    fn a_cut_off_magic_is_truncated_and_other_short_input_unsupported() {
        for short in [&[0xFF][..], &[0xFF, 0xD8], b"\x89PNG\r\n"] {
            assert_eq!(inspect(short, &LOOSE), Err(MediaError::Truncated));
        }
        for short in [&[0x00][..], b"G", &[0xFF, 0xD9], b"\x89PNG\r\n\x1a\x0b"] {
            assert_eq!(inspect(short, &LOOSE), Err(MediaError::UnsupportedType));
        }
    }

    #[test]
    fn size_is_checked_before_anything_else() {
        let limits = Limits {
            max_bytes: 100,
            ..LOOSE
        };
        let garbage = vec![b'x'; 101];
        assert_eq!(
            inspect(&garbage, &limits),
            Err(MediaError::TooLarge { limit: 100 })
        );
        let photo = jpeg(64, 64);
        assert_eq!(
            sanitize(&photo, &limits),
            Err(MediaError::TooLarge { limit: 100 })
        );
        assert!(inspect(&garbage[..100], &limits)
            .is_err_and(|e| e != MediaError::TooLarge { limit: 100 }));
    }

    #[test]
    fn other_formats_and_disguised_text_are_unsupported() {
        let corpus: &[&[u8]] = &[
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04;",
            b"GIF87a\x10\x00\x10\x00",
            b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
            b"<?xml version=\"1.0\"?><svg/>",
            b"<!DOCTYPE html><html><body>photo.jpg</body></html>",
            b"%PDF-1.7\n1 0 obj<<>>endobj",
            b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00",
            b"PK\x03\x04\x14\x00\x00\x00",
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00",
            b"II*\x00\x08\x00\x00\x00",
            b"JFIF\x00 this is photo.jpg, honestly \xff\xd8\xff",
            b"data:image/jpeg;base64,/9j/4AAQSkZJRg==",
            b" \xff\xd8\xff\xe0",
            "\u{feff}\u{ff}\u{d8}".as_bytes(),
        ];
        for bytes in corpus {
            assert_eq!(sniff(bytes), None);
            assert_eq!(
                inspect(bytes, &Limits::DOCUMENT),
                Err(MediaError::UnsupportedType)
            );
            assert_eq!(
                sanitize(bytes, &Limits::DOCUMENT),
                Err(MediaError::UnsupportedType)
            );
        }
    }

    #[test]
    fn real_photos_lose_their_metadata_and_keep_their_pixels() {
        for (name, bytes) in real_photos("jpg") {
            let info = inspect(&bytes, &Limits::DOCUMENT).expect(&name);
            let clean = sanitize_checked(&bytes, &Limits::DOCUMENT).expect(&name);
            assert!(!clean.reencoded, "{name}");
            assert_eq!(
                (clean.info.width, clean.info.height),
                (info.width, info.height)
            );
            assert!(clean.bytes.len() <= bytes.len(), "{name}");
            for gone in [&b"Exif\0"[..], b"http://ns.adobe.com", b"Photoshop 3.0"] {
                assert!(!contains(&clean.bytes, gone), "{name} still holds metadata");
            }
            let (before, after) = (decode(&bytes), decode(&clean.bytes));
            assert_eq!(after.dimensions(), (info.width, info.height), "{name}");
            assert!(
                before.as_bytes() == after.as_bytes(),
                "{name}: pixels changed"
            );
        }
    }

    #[test]
    fn real_pngs_lose_their_text_and_keep_their_pixels_and_colour_profile() {
        for (name, bytes) in real_photos("png") {
            let clean = sanitize_checked(&bytes, &Limits::DOCUMENT).expect(&name);
            let before = chunk_types(&bytes);
            let after = chunk_types(&clean.bytes);
            let kept = [
                "IHDR", "PLTE", "IDAT", "IEND", "iCCP", "pHYs", "gAMA", "sRGB",
            ];
            let want: Vec<String> = before
                .iter()
                .filter(|t| kept.contains(&t.as_str()))
                .cloned()
                .collect();
            assert!(want.len() < before.len(), "{name} had metadata to drop");
            assert_eq!(after, want, "{name}");
            assert!(decode(&bytes).as_bytes() == decode(&clean.bytes).as_bytes());
        }
    }

    #[test]
    fn generated_images_of_every_colour_type_survive_sanitising() {
        let base = picture(50, 30);
        let images = [
            DynamicImage::ImageLuma8(base.to_luma8()),
            DynamicImage::ImageLumaA8(base.to_luma_alpha8()),
            DynamicImage::ImageRgb8(base.to_rgb8()),
            DynamicImage::ImageRgba8(base.to_rgba8()),
            DynamicImage::ImageLuma16(base.to_luma16()),
            DynamicImage::ImageRgb16(base.to_rgb16()),
            DynamicImage::ImageRgba16(base.to_rgba16()),
        ];
        for image in &images {
            let png = encode_png(image);
            let clean = sanitize_checked(&png, &LOOSE).expect("png passes");
            assert_eq!(clean.info.kind, ImageType::Png);
            assert_eq!(clean.bytes, png, "nothing to strip in the encoder's output");
            assert_eq!(decode(&clean.bytes), *image);
        }
        for image in [&images[0], &images[2]] {
            let jpeg = encode_jpeg(image, 80);
            let clean = sanitize_checked(&jpeg, &LOOSE).expect("jpeg passes");
            assert_eq!((clean.info.width, clean.info.height), (50, 30));
            assert_eq!(decode(&clean.bytes).color(), image.color());
            assert!(decode(&clean.bytes).as_bytes() == decode(&jpeg).as_bytes());
        }
    }

    /// Made with libjpeg-turbo 2.1.5's `cjpeg -quality 85` (with `-progressive`, `-grayscale
    /// -progressive`, `-restart 1`, `-arithmetic`) from one 160 × 120 test pattern.
    const PROGRESSIVE: &[u8] = include_bytes!("media/testdata/progressive.jpg");
    const PROGRESSIVE_GREY: &[u8] = include_bytes!("media/testdata/progressive-grey.jpg");
    const RESTART: &[u8] = include_bytes!("media/testdata/restart.jpg");
    const ARITHMETIC: &[u8] = include_bytes!("media/testdata/arithmetic.jpg");

    #[test]
    fn progressive_and_restart_interval_jpegs_pass_unchanged_in_their_pixels() {
        for bytes in [PROGRESSIVE, PROGRESSIVE_GREY, RESTART] {
            let clean = sanitize_checked(bytes, &LOOSE).expect("libjpeg output passes");
            assert_eq!((clean.info.width, clean.info.height), (160, 120));
            assert!(decode(bytes).as_bytes() == decode(&clean.bytes).as_bytes());
            // Turned upright from a progressive or greyscale original.
            let tagged = after_soi(bytes, &[exif_segment(false, Some(8), false)]);
            let clean = sanitize_checked(&tagged, &LOOSE).expect("passes");
            assert!(clean.reencoded);
            assert_eq!(decode(&clean.bytes).dimensions(), (120, 160));
            assert_eq!(
                decode(&clean.bytes).color(),
                decode(bytes).color(),
                "greyscale stays greyscale"
            );
        }
        assert!(
            contains(RESTART, &[0xFF, 0xD3]),
            "the fixture has restart markers"
        );
    }

    #[test]
    fn arithmetic_coded_jpegs_are_unsupported() {
        assert_eq!(
            inspect(ARITHMETIC, &LOOSE),
            Err(MediaError::UnsupportedType)
        );
    }

    #[test]
    fn a_truncated_jpeg_is_refused_at_every_cut_point() {
        let full = after_soi(
            &jpeg(40, 24),
            &[exif_segment(true, Some(6), true), segment(0xFE, b"comment")],
        );
        assert!(inspect(&full, &LOOSE).is_ok());
        for cut in 1..full.len() {
            assert_eq!(
                inspect(&full[..cut], &LOOSE),
                Err(MediaError::Truncated),
                "{cut}"
            );
            assert_eq!(
                sanitize(&full[..cut], &LOOSE),
                Err(MediaError::Truncated),
                "{cut}"
            );
        }
        let (name, photo) = &real_photos("jpg")[0];
        let cuts = (1..4000).chain((4000..photo.len()).step_by(997));
        for cut in cuts.chain(photo.len() - 10..photo.len()) {
            assert_eq!(
                inspect(&photo[..cut], &Limits::DOCUMENT),
                Err(MediaError::Truncated),
                "{name} cut at {cut}"
            );
        }
    }

    #[test]
    fn a_truncated_png_is_refused_at_every_cut_point() {
        let full = after_ihdr(&png(30, 20), &[chunk(b"tEXt", b"Comment\0hello")]);
        assert!(inspect(&full, &LOOSE).is_ok());
        for cut in 1..full.len() {
            assert_eq!(
                inspect(&full[..cut], &LOOSE),
                Err(MediaError::Truncated),
                "{cut}"
            );
        }
    }

    #[test]
    fn dimensions_are_checked_from_the_jpeg_frame_header() {
        let small = jpeg(32, 32);
        let cases = [
            (65535, 65535, MediaError::DimensionsTooLarge),
            (8001, 300, MediaError::DimensionsTooLarge),
            (300, 8001, MediaError::DimensionsTooLarge),
            (7000, 7000, MediaError::DimensionsTooLarge),
            (8000, 199, MediaError::TooSmall),
            (0, 300, MediaError::Malformed),
            (300, 0, MediaError::Malformed),
        ];
        for (width, height, error) in cases {
            let declared = with_declared_size(&small, width, height);
            assert_eq!(
                inspect(&declared, &Limits::DOCUMENT),
                Err(error),
                "{width}x{height}"
            );
        }
        let fits = with_declared_size(&small, 8000, 5000);
        let info = inspect(&fits, &Limits::DOCUMENT).expect("40 MP fits");
        assert_eq!((info.width, info.height), (8000, 5000));
        assert_eq!(
            inspect(&with_declared_size(&small, 63, 100), &Limits::FRAME),
            Err(MediaError::TooSmall)
        );
    }

    #[test]
    fn a_png_declaring_100000_by_100000_pixels_is_refused_from_its_header() {
        let mut header = PNG_MAGIC.to_vec();
        header.extend(chunk(b"IHDR", &ihdr(100_000, 100_000, 8, 6)));
        // Refused from these 33 bytes alone (not as truncated): no IDAT was looked for.
        assert_eq!(
            inspect(&header, &Limits::DOCUMENT),
            Err(MediaError::DimensionsTooLarge)
        );
        assert_eq!(
            sanitize(&header, &Limits::DOCUMENT),
            Err(MediaError::DimensionsTooLarge)
        );
        // The same refusal in front of a real (small) image body.
        let body = png(300, 300);
        let mut bomb = header.clone();
        bomb.extend_from_slice(&body[33..]);
        assert_eq!(
            inspect(&bomb, &Limits::DOCUMENT),
            Err(MediaError::DimensionsTooLarge)
        );
        let mut tiny = PNG_MAGIC.to_vec();
        tiny.extend(chunk(b"IHDR", &ihdr(300, 10, 8, 2)));
        assert_eq!(inspect(&tiny, &Limits::DOCUMENT), Err(MediaError::TooSmall));
    }

    #[test]
    fn a_png_with_a_bad_crc_is_malformed() {
        let good = png(40, 40);
        let mut bad_data = good.clone();
        bad_data[50] ^= 0x01;
        assert_eq!(inspect(&bad_data, &LOOSE), Err(MediaError::Malformed));
        let mut bad_crc = good.clone();
        let last = bad_crc.len() - 1;
        bad_crc[last] ^= 0x80;
        assert_eq!(inspect(&bad_crc, &LOOSE), Err(MediaError::Malformed));
        // A dropped chunk's CRC is checked too.
        let mut text = chunk(b"tEXt", b"Comment\0hi");
        let end = text.len() - 1;
        text[end] ^= 1;
        assert_eq!(
            inspect(&after_ihdr(&good, &[text]), &LOOSE),
            Err(MediaError::Malformed)
        );
    }

    #[test]
    fn a_png_without_iend_is_truncated_and_one_with_bytes_after_it_is_refused() {
        let good = png(40, 40);
        assert_eq!(
            inspect(&good[..good.len() - 12], &LOOSE),
            Err(MediaError::Truncated)
        );
        let mut polyglot = good.clone();
        polyglot.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert_eq!(inspect(&polyglot, &LOOSE), Err(MediaError::TrailingData));
        let mut padded = good.clone();
        padded.push(0);
        assert_eq!(inspect(&padded, &LOOSE), Err(MediaError::TrailingData));
    }

    #[test]
    fn a_jpeg_with_a_zip_appended_is_refused() {
        let mut polyglot = jpeg(64, 64);
        polyglot.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x08\x00payload.html");
        polyglot.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
        assert_eq!(inspect(&polyglot, &LOOSE), Err(MediaError::TrailingData));
        assert_eq!(sanitize(&polyglot, &LOOSE), Err(MediaError::TrailingData));
        // So is a second JPEG appended without a Multi-Picture Format index.
        let mut two = jpeg(64, 64);
        two.extend(jpeg(16, 16));
        assert_eq!(inspect(&two, &LOOSE), Err(MediaError::TrailingData));
    }

    #[test]
    fn zero_padding_and_multi_picture_images_after_a_jpeg_are_dropped() {
        let plain = jpeg(64, 64);
        let mut padded = plain.clone();
        padded.extend_from_slice(&[0; 300]);
        let clean = sanitize_checked(&padded, &LOOSE).expect("zero padding is tolerated");
        assert_eq!(clean.bytes, plain);

        let mpf = segment(0xE2, b"MPF\0MM\0\x2a\0\0\0\x08\0\0");
        let mut multi = after_soi(&plain, &[mpf]);
        multi.extend(jpeg(16, 16));
        let clean = sanitize_checked(&multi, &LOOSE).expect("MPF images are tolerated");
        assert_eq!(clean.bytes, plain, "only the primary image is kept");
        // Not an image after the MPF index: refused.
        let mut fake = after_soi(&plain, &[segment(0xE2, b"MPF\0")]);
        fake.extend_from_slice(b"PK\x03\x04");
        assert_eq!(inspect(&fake, &LOOSE), Err(MediaError::TrailingData));
    }

    #[test]
    fn html_hidden_in_metadata_is_gone_after_sanitising() {
        let html = b"<html><body><script>alert(document.cookie)</script></body></html>";
        let mut jfif_with_thumbnail = b"JFIF\0\x01\x02\0\0\x48\0\x48\x01\x01".to_vec();
        jfif_with_thumbnail.extend_from_slice(b"<sc");
        let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
        xmp.extend_from_slice(html);
        // The encoder's own JFIF segment (bytes 2..20) is replaced by one with a thumbnail.
        let mut without_jfif = jpeg(64, 64);
        without_jfif.drain(2..20);
        let hostile = after_soi(
            &without_jfif,
            &[
                segment(0xE0, &jfif_with_thumbnail),
                segment(0xFE, html),
                segment(0xE1, &xmp),
                segment(0xED, html),
            ],
        );
        assert!(contains_any_case(&hostile, b"<script"));
        let clean = sanitize_checked(&hostile, &LOOSE).expect("the image itself is fine");
        for needle in [&b"<html"[..], b"<script", b"<sc", b"alert"] {
            assert!(!contains_any_case(&clean.bytes, needle));
        }
        // The JFIF header is kept, rewritten without its thumbnail.
        assert_eq!(
            &clean.bytes[2..20],
            b"\xff\xe0\x00\x10JFIF\0\x01\x02\0\0\x48\0\x48\0\0"
        );
        decode(&clean.bytes);
    }

    #[test]
    fn exif_with_a_gps_position_is_gone_after_sanitising() {
        for big_endian in [false, true] {
            let plain = jpeg(64, 48);
            let tagged = after_soi(&plain, &[exif_segment(big_endian, Some(1), true)]);
            assert!(contains(&tagged, GPS_TEXT));
            assert_eq!(inspect(&tagged, &LOOSE).map(|i| i.orientation), Ok(1));
            let clean = sanitize_checked(&tagged, &LOOSE).expect("passes");
            assert!(!clean.reencoded);
            assert!(!contains(&clean.bytes, b"Exif"));
            assert!(!contains(&clean.bytes, GPS_TEXT));
            assert_eq!(clean.bytes, plain);

            let png = png(40, 40);
            let tagged = after_ihdr(&png, &[chunk(b"eXIf", &exif_tiff(big_endian, None, true))]);
            let clean = sanitize_checked(&tagged, &LOOSE).expect("passes");
            assert!(!contains(&clean.bytes, GPS_TEXT));
            assert_eq!(clean.bytes, png);
        }
    }

    /// Where the upright image's pixel (u, v) comes from in the stored `width` × `height` one,
    /// per EXIF orientation (the standard's definitions, independent of the code under test).
    fn stored_position(orientation: u8, u: u32, v: u32, width: u32, height: u32) -> (u32, u32) {
        match orientation {
            1 => (u, v),
            2 => (width - 1 - u, v),
            3 => (width - 1 - u, height - 1 - v),
            4 => (u, height - 1 - v),
            5 => (v, u),
            6 => (v, height - 1 - u),
            7 => (width - 1 - v, height - 1 - u),
            8 => (width - 1 - v, u),
            _ => unreachable!(),
        }
    }

    #[test]
    fn every_jpeg_orientation_is_applied() {
        let (width, height) = (96, 64);
        let stored = quadrants(width, height);
        let plain = encode_jpeg(&DynamicImage::ImageRgb8(stored.clone()), 95);
        for orientation in 1..=8u8 {
            let big_endian = orientation % 2 == 0;
            let tagged = after_soi(
                &plain,
                &[exif_segment(big_endian, Some(u16::from(orientation)), true)],
            );
            assert_eq!(
                inspect(&tagged, &LOOSE).map(|i| i.orientation),
                Ok(orientation)
            );
            let clean = sanitize_checked(&tagged, &LOOSE).expect("passes");
            assert_eq!(clean.reencoded, orientation != 1);
            assert!(!contains(&clean.bytes, GPS_TEXT) && !contains(&clean.bytes, b"Exif"));
            let swapped = orientation >= 5;
            let (w, h) = if swapped {
                (height, width)
            } else {
                (width, height)
            };
            assert_eq!(
                (clean.info.width, clean.info.height),
                (w, h),
                "{orientation}"
            );
            let upright = decode(&clean.bytes).to_rgb8();
            assert_eq!(upright.dimensions(), (w, h));
            // The centre of each displayed quadrant has the colour of the stored pixel it
            // comes from.
            for (u, v) in [
                (w / 4, h / 4),
                (3 * w / 4, h / 4),
                (w / 4, 3 * h / 4),
                (3 * w / 4, 3 * h / 4),
            ] {
                let (x, y) = stored_position(orientation, u, v, width, height);
                let want = stored.get_pixel(x, y).0;
                let got = upright.get_pixel(u, v).0;
                let close = want.iter().zip(got).all(|(a, b)| a.abs_diff(b) < 40);
                assert!(
                    close,
                    "orientation {orientation} at ({u},{v}): {got:?} != {want:?}"
                );
            }
        }
    }

    #[test]
    fn every_png_orientation_is_applied_losslessly() {
        let (width, height) = (7, 5);
        let stored = picture(width, height).to_rgb8();
        let srgb = chunk(b"sRGB", &[0]);
        let plain = after_ihdr(
            &encode_png(&DynamicImage::ImageRgb8(stored.clone())),
            &[srgb],
        );
        for orientation in 1..=8u8 {
            let exif = exif_tiff(orientation % 2 == 1, Some(u16::from(orientation)), false);
            let tagged = after_ihdr(&plain, &[chunk(b"eXIf", &exif)]);
            let clean = sanitize_checked(&tagged, &LOOSE).expect("passes");
            assert_eq!(clean.reencoded, orientation != 1);
            assert!(
                contains(&clean.bytes, b"sRGB"),
                "colour chunks are carried over"
            );
            assert!(!contains(&clean.bytes, b"eXIf"));
            let upright = decode(&clean.bytes).to_rgb8();
            let (w, h) = upright.dimensions();
            assert_eq!((w, h), if orientation >= 5 { (5, 7) } else { (7, 5) });
            for (u, v, pixel) in upright.enumerate_pixels() {
                let (x, y) = stored_position(orientation, u, v, width, height);
                assert_eq!(pixel, stored.get_pixel(x, y), "orientation {orientation}");
            }
        }
    }

    #[test]
    fn a_sixteen_bit_png_with_alpha_is_turned_losslessly() {
        let mut stored = picture(6, 4).to_rgba16();
        for (x, y, pixel) in stored.enumerate_pixels_mut() {
            pixel.0[3] = (x * 10_000 + y * 3_001) as u16;
        }
        let plain = encode_png(&DynamicImage::ImageRgba16(stored.clone()));
        let exif = exif_tiff(true, Some(6), false);
        let clean = sanitize_checked(&after_ihdr(&plain, &[chunk(b"eXIf", &exif)]), &LOOSE)
            .expect("passes");
        let upright = decode(&clean.bytes).to_rgba16();
        assert_eq!(upright.dimensions(), (4, 6));
        for (u, v, pixel) in upright.enumerate_pixels() {
            let (x, y) = stored_position(6, u, v, 6, 4);
            assert_eq!(pixel, stored.get_pixel(x, y));
        }
    }

    #[test]
    fn a_reoriented_jpeg_keeps_its_icc_profile() {
        let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
        icc.extend_from_slice(&[7; 200]);
        let tagged = after_soi(
            &jpeg(80, 40),
            &[exif_segment(false, Some(6), false), segment(0xE2, &icc)],
        );
        let clean = sanitize_checked(&tagged, &LOOSE).expect("passes");
        assert!(clean.reencoded);
        assert!(contains(&clean.bytes, &segment(0xE2, &icc)));
        assert_eq!((clean.info.width, clean.info.height), (40, 80));
    }

    #[test]
    fn an_animated_png_is_refused() {
        let apng = after_ihdr(&png(40, 40), &[chunk(b"acTL", &[0, 0, 0, 2, 0, 0, 0, 0])]);
        assert_eq!(inspect(&apng, &LOOSE), Err(MediaError::Animated));
        let frame = before_iend(&png(40, 40), &[chunk(b"fdAT", &[0, 0, 0, 1])]);
        assert_eq!(sanitize(&frame, &LOOSE), Err(MediaError::Animated));
    }

    #[test]
    fn png_metadata_chunks_are_dropped_and_colour_chunks_kept() {
        let plain = png(40, 40);
        let kept = [
            chunk(b"gAMA", &45455u32.to_be_bytes()),
            chunk(b"pHYs", &[0, 0, 11, 19, 0, 0, 11, 19, 1]),
            chunk(b"sBIT", &[8, 8, 8]),
            chunk(b"bKGD", &[0, 1, 0, 2, 0, 3]),
        ];
        let dropped = [
            chunk(b"tEXt", b"Author\0Jane Doe"),
            chunk(b"zTXt", b"Comment\0\0x"),
            chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x/>"),
            chunk(b"tIME", &[7, 232, 1, 2, 3, 4, 5]),
            chunk(b"eXIf", &exif_tiff(true, Some(1), true)),
            chunk(b"prVt", b"private"),
        ];
        let mut chunks: Vec<Vec<u8>> = kept.to_vec();
        chunks.extend(dropped.iter().cloned());
        let tagged = before_iend(&after_ihdr(&plain, &chunks), &[chunk(b"tEXt", b"Late\0x")]);
        let clean = sanitize_checked(&tagged, &LOOSE).expect("passes");
        assert_eq!(clean.bytes, after_ihdr(&plain, &kept));
        // Colour chunks after the image data are out of place: dropped.
        let late = before_iend(&plain, &[chunk(b"gAMA", &45455u32.to_be_bytes())]);
        assert_eq!(
            sanitize_checked(&late, &LOOSE).map(|s| s.bytes),
            Ok(plain.clone())
        );
    }

    #[test]
    fn broken_png_structures_are_refused() {
        let plain = png(40, 40);
        let idat = plain[33..plain.len() - 12].to_vec();
        let iend = chunk(b"IEND", &[]);
        let build = |chunks: &[Vec<u8>]| {
            let mut out = PNG_MAGIC.to_vec();
            for c in chunks {
                out.extend_from_slice(c);
            }
            out
        };
        let header = chunk(b"IHDR", &ihdr(40, 40, 8, 2));
        assert!(inspect(
            &build(&[header.clone(), idat.clone(), iend.clone()]),
            &LOOSE
        )
        .is_ok());
        let cases: Vec<(Vec<Vec<u8>>, MediaError)> = vec![
            // IHDR not first, twice, bad bit depth, bad colour type, zero width, interlace 2.
            (
                vec![
                    chunk(b"gAMA", &[0; 4]),
                    header.clone(),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::Malformed,
            ),
            (
                vec![header.clone(), header.clone(), idat.clone(), iend.clone()],
                MediaError::Malformed,
            ),
            (
                vec![
                    chunk(b"IHDR", &ihdr(40, 40, 4, 2)),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::Malformed,
            ),
            (
                vec![
                    chunk(b"IHDR", &ihdr(40, 40, 8, 5)),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::Malformed,
            ),
            (
                vec![
                    chunk(b"IHDR", &ihdr(0, 40, 8, 2)),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::Malformed,
            ),
            (
                vec![
                    chunk(b"IHDR", &[0, 0, 0, 40, 0, 0, 0, 40, 8, 2, 0, 0, 2]),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::Malformed,
            ),
            // Palette image without PLTE; PLTE in a grey image; bad PLTE length.
            (
                vec![
                    chunk(b"IHDR", &ihdr(40, 40, 8, 3)),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::Malformed,
            ),
            (
                vec![
                    chunk(b"IHDR", &ihdr(40, 40, 8, 0)),
                    chunk(b"PLTE", &[0; 3]),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::Malformed,
            ),
            (
                vec![
                    chunk(b"IHDR", &ihdr(40, 40, 8, 3)),
                    chunk(b"PLTE", &[0; 4]),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::Malformed,
            ),
            // IDAT split by another chunk; no IDAT; IEND with data.
            (
                vec![
                    header.clone(),
                    idat.clone(),
                    chunk(b"tEXt", b"a\0b"),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::Malformed,
            ),
            (vec![header.clone(), iend.clone()], MediaError::Malformed),
            (
                vec![header.clone(), idat.clone(), chunk(b"IEND", &[0])],
                MediaError::Malformed,
            ),
            // Unknown critical chunk (Apple's CgBI), a chunk type that is not letters.
            (
                vec![
                    chunk(b"CgBI", &[0; 4]),
                    header.clone(),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::Malformed,
            ),
            (
                vec![
                    header.clone(),
                    chunk(b"CgBI", &[0; 4]),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::UnsupportedType,
            ),
            (
                vec![
                    header.clone(),
                    chunk(b"ab1d", &[]),
                    idat.clone(),
                    iend.clone(),
                ],
                MediaError::Malformed,
            ),
        ];
        for (i, (chunks, error)) in cases.iter().enumerate() {
            assert_eq!(inspect(&build(chunks), &LOOSE), Err(*error), "case {i}");
        }
        // A length over 2^31 - 1.
        let mut huge = build(std::slice::from_ref(&header));
        huge.extend_from_slice(&[0x80, 0, 0, 0]);
        huge.extend_from_slice(b"IDAT");
        assert_eq!(inspect(&huge, &LOOSE), Err(MediaError::Malformed));
    }

    #[test]
    fn unsupported_jpeg_processes_are_refused() {
        let plain = jpeg(32, 32);
        let sof = super::testkit::find_segment(&plain, 0xC0);
        for (marker, error) in [
            (0xC1, None),
            (0xC2, None),
            (0xC3, Some(MediaError::UnsupportedType)),
            (0xC5, Some(MediaError::UnsupportedType)),
            (0xC9, Some(MediaError::UnsupportedType)),
            (0xCA, Some(MediaError::UnsupportedType)),
            (0xF7, Some(MediaError::UnsupportedType)),
        ] {
            let mut changed = plain.clone();
            changed[sof + 1] = marker;
            assert_eq!(inspect(&changed, &LOOSE).err(), error, "SOF {marker:02X}");
        }
        let mut twelve_bit = plain.clone();
        twelve_bit[sof + 4] = 12;
        assert_eq!(
            inspect(&twelve_bit, &LOOSE),
            Err(MediaError::UnsupportedType)
        );
    }

    #[test]
    fn broken_jpeg_structures_are_refused() {
        let plain = jpeg(32, 32);
        let sof = super::testkit::find_segment(&plain, 0xC0);
        let sos = super::testkit::find_segment(&plain, 0xDA);
        let dqt = super::testkit::find_segment(&plain, 0xDB);
        let dht = super::testkit::find_segment(&plain, 0xC4);
        let end = plain.len() - 2;
        let splice = |at: usize, remove: usize, insert: &[u8]| {
            let mut out = plain.clone();
            out.splice(at..at + remove, insert.iter().copied());
            out
        };
        let sof_segment = plain[sof..sof + 19].to_vec();
        let cases: Vec<(Vec<u8>, MediaError)> = vec![
            // No EOI; EOI right after SOI; garbage between segments; a second SOI.
            (plain[..end].to_vec(), MediaError::Truncated),
            (vec![0xFF, 0xD8, 0xFF, 0xD9], MediaError::Malformed),
            (splice(sof, 0, b"xx"), MediaError::Malformed),
            (splice(sof, 0, &[0xFF, 0xD8]), MediaError::Malformed),
            // SOS before SOF, a second SOF, a length under 2.
            (splice(sof, 19, &[]), MediaError::Malformed),
            (splice(sos, 0, &sof_segment), MediaError::Malformed),
            (splice(sof + 2, 2, &[0, 1]), MediaError::Malformed),
            // A scan naming a component the frame lacks.
            (splice(sos + 5, 1, &[9]), MediaError::Malformed),
            // Bad quantisation and Huffman table headers.
            (splice(dqt + 4, 1, &[0x24]), MediaError::Malformed),
            (splice(dqt + 4, 1, &[0x04]), MediaError::Malformed),
            (splice(dht + 4, 1, &[0x24]), MediaError::Malformed),
            // A restart marker or DNL between segments, a reserved marker.
            (splice(sof, 0, &[0xFF, 0xD0]), MediaError::Malformed),
            (
                splice(sof, 0, &segment(0xDC, &[0, 32])),
                MediaError::Malformed,
            ),
            (splice(sof, 0, &segment(0x02, &[])), MediaError::Malformed),
            // Arithmetic conditioning tables.
            (
                splice(sof, 0, &segment(0xCC, &[0, 0])),
                MediaError::UnsupportedType,
            ),
        ];
        for (i, (bytes, error)) in cases.iter().enumerate() {
            assert_eq!(inspect(bytes, &LOOSE), Err(*error), "case {i}");
        }
    }

    #[test]
    fn fill_bytes_before_markers_are_accepted_and_dropped() {
        let plain = jpeg(32, 32);
        let sof = super::testkit::find_segment(&plain, 0xC0);
        let end = plain.len() - 2;
        let mut filled = plain.clone();
        filled.splice(end..end, [0xFF, 0xFF, 0xFF]);
        filled.splice(sof..sof, [0xFF, 0xFF]);
        let clean = sanitize_checked(&filled, &LOOSE).expect("fill bytes are allowed");
        assert_eq!(clean.bytes, plain);
    }

    #[test]
    fn sanitized_debug_shows_no_image_bytes() {
        let clean = sanitize(&jpeg(64, 64), &LOOSE).expect("passes");
        let debug = format!("{clean:?}");
        assert!(debug.contains("bytes>"), "{debug}");
        assert!(debug.len() < 200, "{debug}");
    }

    #[test]
    fn error_codes_are_stable_and_statuses_are_client_errors() {
        let all = [
            (MediaError::Empty, "empty-body"),
            (MediaError::TooLarge { limit: 5 }, "image-too-large"),
            (MediaError::UnsupportedType, "unsupported-media-type"),
            (MediaError::Truncated, "image-truncated"),
            (MediaError::Malformed, "image-malformed"),
            (MediaError::DimensionsTooLarge, "image-dimensions-too-large"),
            (MediaError::TooSmall, "image-too-small"),
            (MediaError::TrailingData, "image-trailing-data"),
            (MediaError::Animated, "animated-image"),
            (MediaError::InvalidBase64, "invalid-base64"),
        ];
        for (error, code) in all {
            assert_eq!(error.code(), code);
            assert!((400..500).contains(&error.http_status()));
            let message = error.to_string();
            assert!(!message.ends_with('.') && message.starts_with(char::is_lowercase));
        }
        assert_eq!(MediaError::TooLarge { limit: 5 }.http_status(), 413);
        assert_eq!(MediaError::UnsupportedType.http_status(), 415);
    }

    #[test]
    fn limits_are_consistent() {
        for limits in [Limits::DOCUMENT, Limits::FRAME] {
            assert!(
                u64::from(limits.max_width) * u64::from(limits.max_height) >= limits.max_pixels
            );
            assert!(limits.min_side < limits.max_width.min(limits.max_height));
        }
        assert_eq!(ImageType::Jpeg.mime(), "image/jpeg");
        assert_eq!(sniff(&jpeg(8, 8)), Some(ImageType::Jpeg));
        assert_eq!(
            ImageFormat::from_mime_type(ImageType::Png.mime()),
            Some(ImageFormat::Png)
        );
    }

    /// Random edits of a valid file: overwrite, insert, delete or cut.
    fn mutations() -> impl Strategy<Value = Vec<(u8, usize, u8)>> {
        proptest::collection::vec((0u8..4, any::<usize>(), any::<u8>()), 1..8)
    }

    fn mutate(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)], window: usize) -> Vec<u8> {
        for &(kind, at, value) in edits {
            if bytes.is_empty() {
                break;
            }
            let at = at % bytes.len().min(window);
            match kind {
                0 => bytes[at] = value,
                1 => bytes.insert(at, value),
                2 => {
                    bytes.remove(at);
                }
                _ => bytes.truncate(at),
            }
        }
        bytes
    }

    fn seed_jpeg() -> Vec<u8> {
        let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
        icc.extend_from_slice(&[3; 40]);
        after_soi(
            &jpeg(24, 16),
            &[
                exif_segment(true, Some(6), true),
                segment(0xE2, &icc),
                segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01"),
                segment(0xFE, b"comment"),
            ],
        )
    }

    fn seed_png() -> Vec<u8> {
        after_ihdr(
            &png(12, 9),
            &[
                chunk(b"gAMA", &45455u32.to_be_bytes()),
                chunk(b"eXIf", &exif_tiff(false, Some(8), false)),
                chunk(b"tEXt", b"a\0b"),
            ],
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(
            prefix in prop_oneof![Just(vec![]), Just(vec![0xFF, 0xD8, 0xFF]), Just(PNG_MAGIC.to_vec())],
            body in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let mut bytes = prefix;
            bytes.extend(body);
            let _ = inspect(&bytes, &LOOSE);
            let _ = sanitize_checked(&bytes, &LOOSE);
        }

        #[test]
        fn mutated_images_never_panic_and_what_passes_stays_valid(
            png in any::<bool>(),
            edits in mutations(),
        ) {
            let seed = if png { seed_png() } else { seed_jpeg() };
            let bytes = mutate(seed, &edits, usize::MAX);
            let _ = inspect(&bytes, &LOOSE);
            let _ = sanitize_checked(&bytes, &LOOSE);
        }

        #[test]
        fn sanitizing_is_idempotent_on_generated_images(
            width in 1u32..40,
            height in 1u32..40,
            orientation in 0u16..10,
            png in any::<bool>(),
            big_endian in any::<bool>(),
            comment in any::<bool>(),
        ) {
            let image = picture(width, height);
            let bytes = if png {
                after_ihdr(&encode_png(&image), &[chunk(b"eXIf", &exif_tiff(big_endian, Some(orientation), true))])
            } else {
                let mut segments = vec![exif_segment(big_endian, Some(orientation), true)];
                if comment {
                    segments.push(segment(0xFE, b"<script>"));
                }
                after_soi(&encode_jpeg(&image, 85), &segments)
            };
            let clean = sanitize_checked(&bytes, &LOOSE).expect("generated images pass");
            let swapped = (5..=8).contains(&orientation);
            let want = if swapped { (height, width) } else { (width, height) };
            prop_assert_eq!((clean.info.width, clean.info.height), want);
            prop_assert_eq!(decode(&clean.bytes).dimensions(), want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn mutated_real_photos_never_panic(pick in any::<usize>(), edits in mutations()) {
            let photos = real_photos("jpg");
            let (_, photo) = &photos[pick % photos.len()];
            // Edits land in the headers, where the walk makes its decisions.
            let bytes = mutate(photo.clone(), &edits, 4096);
            let _ = sanitize_checked(&bytes, &Limits::DOCUMENT);
        }
    }
}
