//! Hostile input to the Tesseract reader: arbitrary bytes, broken and oversized images never
//! panic and are refused as `InvalidImage` (or `PoorQuality` when too small); a decodable image
//! of noise is read (to nothing much) rather than refused. Needs `cargo xtask setup`.

use std::sync::Arc;

use image::ImageEncoder;
use kyc_core::model::{Date, Timestamp};
use kyc_core::ports::{Clock, ReadError};
use kyc_local::ocr::{ReaderConfig, TesseractDocumentReader};
use proptest::prelude::*;

struct Fixed;
impl Clock for Fixed {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(1_772_323_200_000)
    }
}

fn today() -> Date {
    Fixed.now().date()
}

fn reader() -> &'static TesseractDocumentReader {
    static READER: std::sync::OnceLock<TesseractDocumentReader> = std::sync::OnceLock::new();
    READER.get_or_init(|| {
        TesseractDocumentReader::new(&ReaderConfig::from_env(), Arc::new(Fixed)).unwrap_or_else(
            |e| panic!("the Tesseract reader is not installed ({e}); run `cargo xtask setup`"),
        )
    })
}

fn png_gray(w: u32, h: u32, mut f: impl FnMut(u32, u32) -> u8) -> Vec<u8> {
    let mut px = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            px.push(f(x, y));
        }
    }
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&px, w, h, image::ColorType::L8)
        .unwrap();
    out
}

/// CRC-32 (IEEE) for crafting PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header claims `w × h` pixels, with a correct IHDR checksum and a tiny body.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    out.extend(13u32.to_be_bytes());
    out.extend(&ihdr);
    out.extend(crc32(&ihdr).to_be_bytes());
    // An IDAT of a few compressed zero bytes, then IEND.
    let idat = [
        b'I', b'D', b'A', b'T', 0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
    ];
    out.extend(9u32.to_be_bytes());
    out.extend(idat);
    out.extend(crc32(&idat).to_be_bytes());
    out.extend(0u32.to_be_bytes());
    out.extend(b"IEND");
    out.extend(crc32(b"IEND").to_be_bytes());
    out
}

#[test]
fn a_decompression_bomb_is_refused_before_decoding() {
    let started = std::time::Instant::now();
    assert_eq!(
        reader().read_bytes(&png_claiming(60_000, 60_000), today()),
        Err(ReadError::InvalidImage)
    );
    assert_eq!(
        reader().read_bytes(&png_claiming(11_000, 11_000), today()),
        Err(ReadError::InvalidImage)
    );
    assert!(started.elapsed().as_secs() < 2);
}

#[test]
fn broken_images_are_invalid_and_tiny_ones_poor_quality() {
    let r = reader();
    let good = png_gray(400, 300, |x, y| ((x ^ y) & 0xFF) as u8);
    // Cut before the end of the image data (a PNG cut inside its trailer still decodes).
    for cut in [8, 33, 100, good.len() / 2] {
        let result = r.read_bytes(&good[..cut], today());
        assert!(
            matches!(result, Err(ReadError::InvalidImage)),
            "cut at {cut}: {result:?}"
        );
    }
    assert_eq!(
        r.read_bytes(b"GIF89a....", today()),
        Err(ReadError::InvalidImage)
    );
    assert_eq!(
        r.read_bytes(&[0xFF, 0xD8, 0xFF], today()),
        Err(ReadError::InvalidImage)
    );
    assert_eq!(
        r.read_bytes(&png_gray(120, 90, |_, _| 128), today()),
        Err(ReadError::PoorQuality)
    );
}

#[test]
fn noise_is_read_to_nothing_rather_than_refused() {
    let mut state = 0x1234_5678u32;
    let noise = png_gray(640, 480, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state & 0xFF) as u8
    });
    let reading = reader().read_bytes(&noise, today()).unwrap();
    let pairs = reading.printed.to_pairs();
    assert!(
        reading.printed.fields.surname.is_none(),
        "{:?}",
        pairs
            .iter()
            .map(|p| (&p.key, &p.value, p.confidence))
            .collect::<Vec<_>>()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let result = reader().read_bytes(&bytes, today());
        prop_assert!(matches!(result, Err(ReadError::InvalidImage | ReadError::PoorQuality) | Ok(_)));
    }

    #[test]
    fn corrupted_pngs_never_panic(flips in proptest::collection::vec((0usize..2000, any::<u8>()), 1..20)) {
        let mut png = png_gray(300, 220, |x, y| if (x / 10 + y / 10) % 2 == 0 { 30 } else { 220 });
        for (at, b) in flips {
            let at = at % png.len();
            png[at] = b;
        }
        let _ = reader().read_bytes(&png, today());
    }
}
