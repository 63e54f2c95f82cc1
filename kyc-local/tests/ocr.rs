//! The Tesseract reader on generated documents: at least 40 pages (TD1 and TD3, 200–600 dpi,
//! blur up to 1 px, rotation up to 5°, JPEG quality 60 and up), with the rates of exact
//! readings printed. Needs `cargo xtask setup` (Tesseract, the eng model with the legacy
//! engine, the fonts); fails with that instruction when they are missing.

use std::sync::Arc;

use kyc_core::document::{assess, MrzStatus};
use kyc_core::model::{Date, Timestamp};
use kyc_core::ports::Clock;
use kyc_core::text::fold;
use kyc_local::docgen::{DocFormat, DocSpec, Generator, Variant};
use kyc_local::ocr::{ReaderConfig, TesseractDocumentReader};

struct Fixed;
impl Clock for Fixed {
    fn now(&self) -> Timestamp {
        // 2026-03-01T00:00:00Z
        Timestamp::from_millis(1_772_323_200_000)
    }
}

fn today() -> Date {
    Fixed.now().date()
}

fn setup() -> (Generator, TesseractDocumentReader) {
    let generator = Generator::system().unwrap_or_else(|e| {
        panic!("the document generator needs its fonts ({e}); run `cargo xtask setup`")
    });
    let reader = TesseractDocumentReader::new(&ReaderConfig::from_env(), Arc::new(Fixed))
        .unwrap_or_else(|e| {
            panic!("the Tesseract reader is not installed ({e}); run `cargo xtask setup`")
        });
    (generator, reader)
}

/// 44 documents spread over the ranges of the issue, extremes included.
fn specs() -> Vec<DocSpec> {
    const DPI: [u32; 6] = [200, 600, 300, 250, 450, 360];
    const BLUR: [f32; 4] = [1.0, 0.0, 0.6, 0.3];
    const QUALITY: [Option<u8>; 5] = [Some(60), Some(75), None, Some(90), Some(68)];
    (0..44u64)
        .map(|i| {
            let format = if i % 2 == 0 {
                DocFormat::Td1
            } else {
                DocFormat::Td3
            };
            let k = i as usize;
            let variant = Variant {
                dpi: DPI[k % DPI.len()],
                blur_sigma: BLUR[(k / 2) % BLUR.len()],
                rotation_deg: ((k * 7) % 11) as f32 - 5.0,
                jpeg_quality: QUALITY[k % QUALITY.len()],
            };
            DocSpec::new(7000 + i, format, today()).with_variant(variant)
        })
        .collect()
}

#[test]
fn generated_documents_are_read_exactly_in_at_least_95_percent_of_cases() {
    let (generator, reader) = setup();
    let specs = specs();
    let total = specs.len();
    assert!(total >= 40);
    let (mut fields_ok, mut mrz_ok, mut printed_exact_names) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    for spec in &specs {
        let doc = generator.generate(spec).expect("generating a document");
        let reading = reader
            .read_bytes(&doc.bytes, today())
            .expect("a generated document decodes");
        let a = assess(&reading, today());
        let t = &doc.truth;
        let f = &a.fields;
        let name = f.surname.as_ref().map(|x| x.value.folded().to_string())
            == Some(fold(&t.surname))
            && f.given_names.as_ref().map(|x| x.value.folded().to_string())
                == Some(fold(&t.given_names));
        let birth = f.birth_date.as_ref().map(|x| x.value.date()) == Some(t.birth_date);
        let number = f
            .document_number
            .as_ref()
            .map(|x| x.value.as_str().to_string())
            == Some(t.document_number.clone());
        let mrz = a.mrz_status == MrzStatus::Valid
            && a.mrz
                .as_ref()
                .is_some_and(|m| m.lines().eq(t.mrz.iter().map(String::as_str)));
        // Informational: the printed surname with its diacritics, as printed.
        if reading
            .printed
            .fields
            .surname
            .as_ref()
            .map(|x| x.original.trim().to_string())
            == Some(t.surname.clone())
        {
            printed_exact_names += 1;
        }
        fields_ok += usize::from(name && birth && number);
        mrz_ok += usize::from(mrz);
        if !(name && birth && number && mrz) {
            failures.push(format!(
                "seed {} {:?} {:?}: name {name} birth {birth} number {number} mrz {mrz} ({:?})",
                spec.seed, spec.format, spec.variant, a.mrz_status
            ));
        }
    }
    let rate = |n: usize| 100.0 * n as f64 / total as f64;
    println!("documents: {total}");
    println!(
        "name, birth date and document number exact: {fields_ok}/{total} ({:.1} %)",
        rate(fields_ok)
    );
    println!(
        "MRZ valid and correct: {mrz_ok}/{total} ({:.1} %)",
        rate(mrz_ok)
    );
    println!(
        "printed surname exact with diacritics: {printed_exact_names}/{total} ({:.1} %)",
        rate(printed_exact_names)
    );
    for f in &failures {
        println!("  miss: {f}");
    }
    assert!(
        rate(fields_ok) >= 95.0,
        "fields exact in {:.1} % of documents",
        rate(fields_ok)
    );
    assert!(
        rate(mrz_ok) >= 95.0,
        "MRZ correct in {:.1} % of documents",
        rate(mrz_ok)
    );
}

#[test]
fn a_clean_passport_page_gives_every_printed_field_and_a_valid_mrz() {
    let (generator, reader) = setup();
    let spec = DocSpec::new(11, DocFormat::Td3, today());
    let doc = generator.generate(&spec).unwrap();
    let reading = reader.read_bytes(&doc.bytes, today()).unwrap();
    let p = &reading.printed.fields;
    assert_eq!(
        p.surname.as_ref().unwrap().value.folded(),
        fold(&doc.truth.surname)
    );
    assert_eq!(
        p.birth_date.as_ref().unwrap().value.date(),
        doc.truth.birth_date
    );
    assert_eq!(
        p.expiry_date.as_ref().unwrap().value.date(),
        doc.truth.expiry_date
    );
    assert_eq!(
        p.nationality.as_ref().unwrap().value.alpha3(),
        doc.truth.nationality
    );
    assert_eq!(p.sex.as_ref().unwrap().value, doc.truth.sex);
    let a = assess(&reading, today());
    assert_eq!(a.mrz_status, MrzStatus::Valid);
    assert!(a
        .mrz
        .unwrap()
        .lines()
        .eq(doc.truth.mrz.iter().map(String::as_str)));
}

#[test]
fn a_page_without_an_mrz_is_read_without_one() {
    let (_, reader) = setup();
    // A white page with a few dark bars: decodable, nothing to read.
    let (w, h) = (800u32, 500u32);
    let mut pixels = vec![255u8; (w * h) as usize];
    for y in 100..110 {
        for x in 100..700 {
            pixels[(y * w + x) as usize] = 0;
        }
    }
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &pixels,
        w,
        h,
        image::ColorType::L8,
    )
    .unwrap();
    let reading = reader.read_bytes(&png, today()).unwrap();
    assert_eq!(reading.mrz_text, None);
    assert_eq!(reading.printed.fields, Default::default());
}

#[test]
fn the_port_reads_through_its_future() {
    let (generator, reader) = setup();
    let doc = generator
        .generate(&DocSpec::new(5, DocFormat::Td1, today()))
        .unwrap();
    let image = kyc_core::model::Image::parse(doc.bytes.clone(), 20 << 20).unwrap();
    let reading = block_on(kyc_core::ports::DocumentReader::read(&reader, &image)).unwrap();
    assert!(reading.mrz_text.is_some());
}

/// Polls a future that completes without waiting (the reader does its work in the first poll).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[test]
fn the_band_alone_matches_the_band_of_the_levelled_page() {
    let (generator, _) = setup();
    for (seed, dpi, rotation) in [(1u64, 600u32, 4.0f32), (2, 200, -3.0), (3, 330, 0.5)] {
        let spec = DocSpec::new(seed, DocFormat::Td3, today()).with_variant(Variant {
            dpi,
            rotation_deg: rotation,
            ..Variant::CLEAN
        });
        let doc = generator.generate(&spec).unwrap();
        let gray = kyc_local::ocr::decode::decode_gray(&doc.bytes, &Default::default()).unwrap();
        let geometry = kyc_local::ocr::analyse(&gray);
        let (x, y, w, h) = geometry.mrz.expect("the MRZ band is found");
        let alone = kyc_local::ocr::band_image(&gray, &geometry).unwrap();
        let page = kyc_local::ocr::prepare(&gray).page.crop(x, y, w, h);
        assert_eq!(
            (alone.width(), alone.height()),
            (page.width(), page.height())
        );
        let diff: u64 = alone
            .data()
            .iter()
            .zip(page.data())
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = diff as f64 / alone.data().len() as f64;
        assert!(mean < 6.0, "seed {seed}: mean difference {mean:.1} levels");
    }
}
