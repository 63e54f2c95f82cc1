//! Test support for the media tests: images generated with `image`, segments and chunks
//! spliced into them, EXIF structures, and the real photos of the asset cache.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageOutputFormat, Rgb, RgbImage};

use super::Limits;

/// Limits that only bound sizes loosely, for small generated images.
pub(crate) const LOOSE: Limits = Limits {
    max_bytes: 1 << 24,
    max_width: 10_000,
    max_height: 10_000,
    max_pixels: 50_000_000,
    min_side: 1,
};

/// Four solid quadrants of distinct colours (top-left red, top-right green, bottom-left blue,
/// bottom-right white), so that every flip and turn is told apart.
pub(crate) fn quadrants(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        quadrant_colour(x * 2 >= width, y * 2 >= height)
    })
}

/// The colour of the quadrant (right?, bottom?) in [`quadrants`].
pub(crate) fn quadrant_colour(right: bool, bottom: bool) -> Rgb<u8> {
    match (right, bottom) {
        (false, false) => Rgb([220, 20, 20]),
        (true, false) => Rgb([20, 200, 20]),
        (false, true) => Rgb([20, 20, 220]),
        (true, true) => Rgb([240, 240, 240]),
    }
}

/// A smooth RGB picture with some texture, `width` × `height`.
pub(crate) fn picture(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        Rgb([
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
            ((x ^ y) & 0xFF) as u8,
        ])
    }))
}

/// `image` encoded as JPEG (baseline, JFIF) at `quality`, greyscale when `image` is.
pub(crate) fn encode_jpeg(image: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode(
            image.as_bytes(),
            image.width(),
            image.height(),
            image.color(),
        )
        .expect("test image encodes");
    out
}

/// A generated JPEG, `width` × `height`.
pub(crate) fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encode_jpeg(&picture(width, height), 90)
}

/// `image` encoded as PNG.
pub(crate) fn encode_png(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), ImageOutputFormat::Png)
        .expect("test image encodes");
    out
}

/// A generated RGB PNG, `width` × `height`.
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    encode_png(&picture(width, height))
}

/// A JPEG marker segment with its length.
pub(crate) fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let length = u16::try_from(payload.len() + 2).expect("segment fits");
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&length.to_be_bytes());
    s.extend_from_slice(payload);
    s
}

/// `jpeg` with `segments` inserted right after SOI.
pub(crate) fn after_soi(jpeg: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for s in segments {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// The offset of the first segment with `marker` in a generated JPEG (walking lengths).
pub(crate) fn find_segment(jpeg: &[u8], marker: u8) -> usize {
    let mut pos = 2;
    loop {
        assert_eq!(jpeg[pos], 0xFF, "test JPEG walk lost its way");
        if jpeg[pos + 1] == marker {
            return pos;
        }
        assert_ne!(jpeg[pos + 1], 0xDA, "marker not before the scan");
        pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
    }
}

/// `jpeg` with its frame header declaring `width` × `height` (the data is left as it is).
pub(crate) fn with_declared_size(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let sof = find_segment(jpeg, 0xC0);
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

/// A marker text placed in the GPS directory of [`exif_tiff`], to check it is gone.
pub(crate) const GPS_TEXT: &[u8] = b"GPSDATUM-52.5163N-13.3777E";

/// A TIFF structure as cameras write it: IFD0 with make, orientation (when `Some`) and a GPS
/// pointer (when `gps`), and a GPS directory holding latitude reference and [`GPS_TEXT`].
pub(crate) fn exif_tiff(big_endian: bool, orientation: Option<u16>, gps: bool) -> Vec<u8> {
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut entries: Vec<(u16, u16, u32, [u8; 4])> = vec![(0x010F, 2, 4, *b"Cam\0")];
    if let Some(o) = orientation {
        let v = u16b(o);
        entries.push((0x0112, 3, 1, [v[0], v[1], 0, 0]));
    }
    // IFD0: 8 (header) + 2 + 12 n + 4; the GPS directory follows.
    let gps_at = 8 + 2 + 12 * (entries.len() as u32 + u32::from(gps)) + 4;
    if gps {
        entries.push((0x8825, 4, 1, u32b(gps_at)));
    }
    let mut t = Vec::new();
    t.extend_from_slice(if big_endian { b"MM\0\x2a" } else { b"II\x2a\0" });
    t.extend_from_slice(&u32b(8));
    t.extend_from_slice(&u16b(entries.len() as u16));
    for (tag, typ, count, value) in &entries {
        t.extend_from_slice(&u16b(*tag));
        t.extend_from_slice(&u16b(*typ));
        t.extend_from_slice(&u32b(*count));
        t.extend_from_slice(value);
    }
    t.extend_from_slice(&u32b(0));
    if gps {
        // Two entries: GPSLatitudeRef "N", GPSMapDatum pointing at the text after the IFD.
        let text_at = gps_at + 2 + 2 * 12 + 4;
        t.extend_from_slice(&u16b(2));
        t.extend_from_slice(&u16b(0x0001));
        t.extend_from_slice(&u16b(2));
        t.extend_from_slice(&u32b(2));
        t.extend_from_slice(b"N\0\0\0");
        t.extend_from_slice(&u16b(0x0012));
        t.extend_from_slice(&u16b(2));
        t.extend_from_slice(&u32b(GPS_TEXT.len() as u32));
        t.extend_from_slice(&u32b(text_at));
        t.extend_from_slice(&u32b(0));
        t.extend_from_slice(GPS_TEXT);
    }
    t
}

/// A JPEG APP1 EXIF segment around [`exif_tiff`].
pub(crate) fn exif_segment(big_endian: bool, orientation: Option<u16>, gps: bool) -> Vec<u8> {
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(exif_tiff(big_endian, orientation, gps));
    segment(0xE1, &payload)
}

/// A PNG chunk with its length and CRC.
pub(crate) fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = u32::try_from(data.len())
        .expect("chunk fits")
        .to_be_bytes()
        .to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend_from_slice(&crc32fast::hash(&c[4..]).to_be_bytes());
    c
}

/// The bytes of an IHDR chunk's data.
pub(crate) fn ihdr(width: u32, height: u32, depth: u8, colour_type: u8) -> Vec<u8> {
    let mut d = width.to_be_bytes().to_vec();
    d.extend_from_slice(&height.to_be_bytes());
    d.extend_from_slice(&[depth, colour_type, 0, 0, 0]);
    d
}

/// `png` with `chunks` inserted right after IHDR.
pub(crate) fn after_ihdr(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = png[..33].to_vec();
    for c in chunks {
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&png[33..]);
    out
}

/// `png` with `chunks` inserted right before IEND.
pub(crate) fn before_iend(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let at = png.len() - 12;
    let mut out = png[..at].to_vec();
    for c in chunks {
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&png[at..]);
    out
}

/// Whether `needle` occurs in `haystack`.
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether `needle` occurs in `haystack`, ignoring ASCII case (for HTML).
pub(crate) fn contains_any_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The chunk types of a well-formed PNG, in order.
pub(crate) fn chunk_types(png: &[u8]) -> Vec<String> {
    let mut types = Vec::new();
    let mut pos = 8;
    while pos + 8 <= png.len() {
        let length = u32::from_be_bytes(png[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        types.push(String::from_utf8_lossy(&png[pos + 4..pos + 8]).into_owned());
        pos += 12 + length;
    }
    types
}

/// The photos of the asset cache (`cargo xtask setup` fetches them): every `.jpg` or `.png`
/// in `<cache>/assets/faces`, sorted by name. Fails loudly when there are none.
pub(crate) fn real_photos(extension: &str) -> Vec<(String, Vec<u8>)> {
    let dir = kyc_local::config::assets_dir().join("faces");
    let mut photos: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{} is missing ({e}): run `cargo xtask setup` or set KYC_CACHE_DIR",
                dir.display()
            )
        })
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .map(|p| {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&p).expect("photo is readable"))
        })
        .collect();
    photos.sort();
    assert!(
        !photos.is_empty(),
        "no .{extension} photos in {}: run `cargo xtask setup`",
        dir.display()
    );
    photos
}
