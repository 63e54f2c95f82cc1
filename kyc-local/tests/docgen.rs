//! The synthetic document generator: deterministic from its seed, image sizes that follow the
//! resolution, a ground truth whose MRZ passes every check, and the degradations applied.
//! Needs the fonts installed by `cargo xtask setup`.

use kyc_core::model::{Date, ImageType};
use kyc_local::docgen::{DocFormat, DocSpec, Generator, Variant};

fn generator() -> Generator {
    Generator::system()
        .unwrap_or_else(|e| panic!("the generator needs its fonts ({e}); run `cargo xtask setup`"))
}

fn today() -> Date {
    Date::from_ymd(2026, 3, 1).unwrap()
}

#[test]
fn the_same_seed_gives_the_same_document() {
    let g = generator();
    let spec = DocSpec::random(3, today());
    let a = g.generate(&spec).unwrap();
    let b = g.generate(&spec).unwrap();
    assert_eq!(a.bytes, b.bytes);
    assert_eq!(a.truth, b.truth);
    let other = g.generate(&DocSpec::random(4, today())).unwrap();
    assert_ne!(a.truth, other.truth);
}

#[test]
fn the_page_size_follows_the_format_and_resolution() {
    let g = generator();
    for (format, w_mm, h_mm) in [
        (DocFormat::Td1, 85.6 + 12.0, 54.0 + 12.0),
        (DocFormat::Td3, 125.0 + 14.0, 88.0 + 14.0),
    ] {
        for dpi in [200u32, 600] {
            let spec = DocSpec::new(1, format, today()).with_variant(Variant {
                dpi,
                ..Variant::CLEAN
            });
            let doc = g.generate(&spec).unwrap();
            let expect = |mm: f64| (mm * f64::from(dpi) / 25.4).round() as u32;
            assert_eq!(
                (doc.width, doc.height),
                (expect(w_mm), expect(h_mm)),
                "{format:?} {dpi}"
            );
            assert_eq!(doc.image_type, ImageType::Png);
            let decoded = image::load_from_memory(&doc.bytes).unwrap();
            assert_eq!(decoded.width(), doc.width);
        }
    }
}

#[test]
fn the_ground_truth_mrz_is_valid_and_matches_the_fields() {
    let g = generator();
    for seed in 0..20 {
        let doc = g.generate(&DocSpec::random(seed, today())).unwrap();
        let record = kyc_core::mrz::parse(&doc.truth.mrz, today()).unwrap();
        assert!(record.is_valid());
        assert_eq!(record.document_number(), doc.truth.document_number);
        assert_eq!(record.birth_date(), Some(doc.truth.birth_date));
        let lines = match doc.truth.format {
            DocFormat::Td1 => 3,
            DocFormat::Td3 => 2,
        };
        assert_eq!(doc.truth.mrz.len(), lines);
    }
}

#[test]
fn jpeg_quality_blur_and_rotation_change_the_image() {
    let g = generator();
    let base = DocSpec::new(9, DocFormat::Td1, today()).with_variant(Variant {
        dpi: 200,
        ..Variant::CLEAN
    });
    let clean = g.generate(&base).unwrap();
    let jpeg = g
        .generate(&base.with_variant(Variant {
            jpeg_quality: Some(60),
            ..base.variant
        }))
        .unwrap();
    assert_eq!(jpeg.image_type, ImageType::Jpeg);
    assert!(jpeg.bytes.len() < clean.bytes.len());
    for variant in [
        Variant {
            blur_sigma: 1.0,
            ..base.variant
        },
        Variant {
            rotation_deg: 5.0,
            ..base.variant
        },
    ] {
        let changed = g.generate(&base.with_variant(variant)).unwrap();
        assert_ne!(changed.bytes, clean.bytes);
        assert_eq!(changed.truth, clean.truth);
    }
}

#[test]
fn face_photos_are_used_when_present_and_a_placeholder_otherwise() {
    let dir = std::env::temp_dir().join(format!("kyc-docgen-faces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut face = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut face),
        &[90u8; 60 * 80 * 3],
        60,
        80,
        image::ColorType::Rgb8,
    )
    .unwrap();
    std::fs::write(dir.join("face.png"), face).unwrap();
    std::fs::write(dir.join("broken.jpg"), b"not a jpeg").unwrap();
    let fonts = kyc_local::docgen::Fonts::system().unwrap();
    let with_faces = Generator::new(fonts).with_faces_from(&dir);
    assert_eq!(with_faces.face_count(), 2);
    let spec = DocSpec::new(2, DocFormat::Td3, today());
    for seed in 0..4 {
        // Either photo may be picked; a broken one falls back to the placeholder.
        with_faces.generate(&DocSpec { seed, ..spec }).unwrap();
    }
    let none = Generator::new(kyc_local::docgen::Fonts::system().unwrap())
        .with_faces_from(&dir.join("missing"));
    assert_eq!(none.face_count(), 0);
    none.generate(&spec).unwrap();
    std::fs::remove_dir_all(&dir).ok();
}
