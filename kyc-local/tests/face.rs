//! The dlib face engine on real photos (fetched by `cargo xtask setup`): same-person pairs
//! match and different-person pairs do not at the default threshold, the quality gate refuses
//! group photos, faceless and hostile images are handled, and the head-pose sign convention
//! holds on a mirrored photo. Prints the distance/similarity table.
//!
//! These tests need the models and photos: without them they fail, saying to run
//! `cargo xtask setup`.

use std::io::Cursor;
use std::sync::OnceLock;

use image::{imageops, ImageFormat, RgbImage};
use kyc_core::facematch::{check_quality, FaceMatchPolicy, QualityRejection};
use kyc_core::model::{Image, Threshold};
use kyc_core::ports::{FaceAnalysis, FaceAnalyzer, FaceComparer, FaceError};
use kyc_local::face::{compare_analyses, DlibFaceEngine, Inspection};

const MAX_BYTES: usize = 50 << 20;

fn engine() -> &'static DlibFaceEngine {
    static ENGINE: OnceLock<DlibFaceEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        DlibFaceEngine::open_default()
            .unwrap_or_else(|e| panic!("the face engine cannot start: {e}"))
    })
}

fn photo_bytes(name: &str) -> Vec<u8> {
    let path = kyc_local::config::assets_dir().join("faces").join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "face photo {} is missing ({e}): run `cargo xtask setup` first",
            path.display()
        )
    })
}

fn photo(name: &str) -> Image {
    Image::parse(photo_bytes(name), MAX_BYTES).unwrap()
}

fn rgb(name: &str) -> RgbImage {
    image::load_from_memory(&photo_bytes(name))
        .unwrap()
        .into_rgb8()
}

fn png(img: &RgbImage) -> Image {
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    Image::parse(bytes, MAX_BYTES).unwrap()
}

fn inspect(image: &Image) -> Inspection {
    engine().inspect(image).unwrap()
}

/// One labelled face: a name for the table and its analysis.
struct Face {
    label: String,
    analysis: FaceAnalysis,
}

fn face(label: &str, image: &Image) -> Face {
    let analysis = engine().analyze_blocking(image).unwrap();
    assert_eq!(
        analysis.quality.face_count, 1,
        "{label} should hold exactly one face"
    );
    Face {
        label: label.to_owned(),
        analysis,
    }
}

/// The faces of a group photo, each cut out with a margin of half the box on every side.
fn group_crops(name: &str) -> Vec<Face> {
    let full = rgb(name);
    let found = inspect(&png(&full));
    let (w, h) = (full.width() as f32, full.height() as f32);
    let mut faces = Vec::new();
    for (i, b) in found.faces.iter().enumerate() {
        let x0 = ((b.left() - b.width() / 2.0) * w).max(0.0) as u32;
        let y0 = ((b.top() - b.height() / 2.0) * h).max(0.0) as u32;
        let x1 = (((b.left() + 1.5 * b.width()) * w) as u32).min(full.width());
        let y1 = (((b.top() + 1.5 * b.height()) * h) as u32).min(full.height());
        let crop = imageops::crop_imm(&full, x0, y0, x1 - x0, y1 - y0).to_image();
        let label = format!("{name}#{i}");
        let analysis = engine().analyze_blocking(&png(&crop)).unwrap();
        // A crop may show a sliver of a neighbour's face; the main face is the one cut out.
        assert!(
            analysis.quality.face_count >= 1,
            "{label}: no face in the crop"
        );
        faces.push(Face { label, analysis });
    }
    faces
}

fn obama_faces() -> Vec<Face> {
    [
        "obama.jpg",
        "obama2.jpg",
        "obama3.jpg",
        "obama_partial_face.jpg",
        "obama_partial_face2.jpg",
    ]
    .iter()
    .map(|n| face(n, &photo(n)))
    .collect()
}

fn threshold() -> Threshold {
    FaceMatchPolicy::single_image().settings().threshold
}

fn print_row(kind: &str, a: &Face, b: &Face, distance: f32, similarity: f32, ok: bool) {
    println!(
        "{kind:<9} {:<26} {:<26} distance {distance:.3}  similarity {similarity:5.1}  {}",
        a.label,
        b.label,
        if ok { "ok" } else { "WRONG" }
    );
}

#[test]
fn every_same_person_pair_of_real_photos_matches() {
    let faces = obama_faces();
    let policy = FaceMatchPolicy::single_image();
    let mut wrong = Vec::new();
    println!("same person (threshold {}):", threshold().value());
    for (i, a) in faces.iter().enumerate() {
        for b in &faces[i + 1..] {
            let (d, s) = compare_analyses(&a.analysis, &b.analysis).unwrap();
            let ok = policy.is_match(s);
            print_row("same", a, b, d, s.value(), ok);
            if !ok {
                wrong.push(format!("{} / {}", a.label, b.label));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "same-person pairs below the threshold: {wrong:?}"
    );
}

#[test]
fn every_different_person_pair_does_not_match() {
    let policy = FaceMatchPolicy::single_image();
    let obama = face("obama.jpg", &photo("obama.jpg"));
    let biden = face("biden.jpg", &photo("biden.jpg"));
    let mut pairs: Vec<(&Face, &Face)> = vec![(&obama, &biden)];
    let groups: Vec<Vec<Face>> = [
        "t1.jpg",
        "sample1.jpg",
        "sample3.jpg",
        "sample4.jpg",
        "sample5.jpg",
        "sample6.jpg",
    ]
    .iter()
    .map(|n| group_crops(n))
    .collect();
    for g in &groups {
        assert!(g.len() >= 2, "{}: fewer than two faces", g[0].label);
        for (i, a) in g.iter().enumerate() {
            pairs.push((&obama, a));
            pairs.push((&biden, a));
            for b in &g[i + 1..] {
                pairs.push((a, b));
            }
        }
    }
    println!("different people (threshold {}):", threshold().value());
    let mut wrong = Vec::new();
    let mut closest = f32::INFINITY;
    for (a, b) in &pairs {
        let (d, s) = compare_analyses(&a.analysis, &b.analysis).unwrap();
        let ok = !policy.is_match(s);
        print_row("different", a, b, d, s.value(), ok);
        closest = closest.min(d);
        if !ok {
            wrong.push(format!("{} / {}", a.label, b.label));
        }
    }
    println!(
        "{} different-person pairs, closest distance {closest:.3}",
        pairs.len()
    );
    assert!(pairs.len() >= 40, "{}", pairs.len());
    assert!(
        wrong.is_empty(),
        "different-person pairs above the threshold: {wrong:?}"
    );
}

#[test]
fn the_port_compares_the_same_person_as_a_match_and_reports_both_qualities() {
    let c = block_on(engine().compare(&photo("obama.jpg"), &photo("obama2.jpg"))).unwrap();
    println!(
        "obama.jpg / obama2.jpg via the port: similarity {}",
        c.similarity
    );
    assert!(c.similarity.meets(threshold()));
    assert_eq!((c.reference.face_count, c.probe.face_count), (1, 1));
    assert_eq!(
        (c.reference.image_width_px, c.reference.image_height_px),
        (910, 1137)
    );
    let policy = FaceMatchPolicy::single_image();
    assert_eq!(check_quality(&c.reference, &policy), Ok(()));
    assert_eq!(check_quality(&c.probe, &policy), Ok(()));
}

#[test]
fn a_group_photo_is_refused_by_the_quality_gate_as_several_faces() {
    let analysis = block_on(engine().analyze(&photo("t1.jpg"))).unwrap();
    let count = analysis.quality.face_count;
    println!("t1.jpg: {count} faces");
    assert!(count >= 2, "{count}");
    assert_eq!(
        check_quality(&analysis.quality, &FaceMatchPolicy::single_image()),
        Err(QualityRejection::MultipleFaces { count })
    );
}

#[test]
fn a_picture_without_a_face_is_an_observation_for_the_analyser_and_an_error_for_the_comparer() {
    // A smooth gradient with a few shapes: nothing face-like. HOG finds nothing, so the CNN
    // fallback runs too.
    let plain = RgbImage::from_fn(800, 600, |x, y| {
        let v = (x * 255 / 800) as u8;
        if (300..500).contains(&x) && (200..260).contains(&y) {
            image::Rgb([20, 120, 200])
        } else {
            image::Rgb([v, v / 2, 255 - v])
        }
    });
    let image = png(&plain);
    let i = inspect(&image);
    assert_eq!(i.analysis.quality.face_count, 0);
    assert_eq!(i.analysis.observation, None);
    assert_eq!(i.detector, None);
    assert_eq!(
        check_quality(&i.analysis.quality, &FaceMatchPolicy::single_image()),
        Err(QualityRejection::NoFaceDetected)
    );
    assert_eq!(
        engine().compare_blocking(&photo("obama.jpg"), &image),
        Err(FaceError::NoFaceDetected)
    );
    assert_eq!(
        engine().compare_blocking(&image, &photo("obama.jpg")),
        Err(FaceError::NoFaceDetected)
    );
}

#[test]
fn hostile_images_are_invalid_without_panic_or_huge_allocation() {
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let obama = photo_bytes("obama.jpg");
    cases.push(("truncated jpeg", obama[..obama.len() / 3].to_vec()));
    cases.push(("jpeg header only", obama[..600].to_vec()));
    cases.push(("png 100000 x 100000", png_header(100_000, 100_000)));
    cases.push(("png 0 x 0", png_header(0, 0)));
    cases.push(("png 70000 x 1", png_header(70_000, 1)));
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut noise = vec![0xFF, 0xD8, 0xFF];
    noise.extend((0..4096).map(|_| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as u8
    }));
    cases.push(("random bytes after a jpeg signature", noise.clone()));
    noise[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    cases.push(("random bytes after a png signature", noise));
    for (what, bytes) in cases {
        let image = Image::parse(bytes, MAX_BYTES).unwrap();
        let start = std::time::Instant::now();
        let result = engine().analyze_blocking(&image);
        println!("{what}: {result:?} in {:?}", start.elapsed());
        assert_eq!(result, Err(FaceError::InvalidImage), "{what}");
    }
}

#[test]
fn mirroring_a_photo_flips_the_sign_of_yaw_and_roll() {
    for name in ["obama2.jpg", "biden.jpg"] {
        let original = rgb(name);
        let mirrored = imageops::flip_horizontal(&original);
        let pose = |img: &RgbImage| {
            inspect(&png(img))
                .analysis
                .observation
                .expect("a face")
                .pose
        };
        let (a, b) = (pose(&original), pose(&mirrored));
        println!(
            "{name}: yaw {:.1} / mirrored {:.1}, pitch {:.1} / {:.1}, roll {:.1} / {:.1}",
            a.yaw(),
            b.yaw(),
            a.pitch(),
            b.pitch(),
            a.roll(),
            b.roll()
        );
        assert!(
            a.yaw().abs() > 5.0,
            "{name}: the photo should show a turned head"
        );
        assert!(a.yaw().signum() != b.yaw().signum(), "{name}");
        assert!((a.yaw() + b.yaw()).abs() < 6.0, "{name}");
        assert!((a.pitch() - b.pitch()).abs() < 6.0, "{name}");
        assert!((a.roll() + b.roll()).abs() < 4.0, "{name}");
    }
}

#[test]
fn a_head_turned_to_the_persons_right_has_negative_yaw() {
    // obama2.jpg: Obama, speaking, has turned his head to his own right (towards the image's
    // left edge); biden.jpg: Biden has turned to his own left.
    let yaw = |n: &str| {
        inspect(&photo(n))
            .analysis
            .observation
            .expect("a face")
            .pose
            .yaw()
    };
    assert!(yaw("obama2.jpg") < -10.0, "{}", yaw("obama2.jpg"));
    assert!(yaw("biden.jpg") > 10.0, "{}", yaw("biden.jpg"));
}

#[test]
fn quality_measures_are_in_range_and_follow_the_image() {
    let sharp = rgb("obama.jpg");
    let blurred = imageops::blur(&sharp, 4.0);
    let dark = RgbImage::from_fn(sharp.width(), sharp.height(), |x, y| {
        let p = sharp.get_pixel(x, y).0;
        image::Rgb([p[0] / 4, p[1] / 4, p[2] / 4])
    });
    let q = |img: &RgbImage| inspect(&png(img)).analysis.quality;
    let (qs, qb, qd) = (q(&sharp), q(&blurred), q(&dark));
    println!(
        "sharpness {:?} / blurred {:?}; brightness {:?} / darkened {:?}",
        qs.sharpness, qb.sharpness, qs.brightness, qd.brightness
    );
    let v = |p: Option<kyc_core::liveness::Probability>| p.expect("measured").value();
    assert!(v(qs.sharpness) > 0.6 && v(qb.sharpness) < 0.3);
    assert!(v(qd.brightness) < v(qs.brightness) / 2.0);
    assert!(
        qs.face_width_px >= 200 && qs.face_width_px < 400,
        "{}",
        qs.face_width_px
    );
    assert_eq!(qs.confidence.value(), 0.99);
    let obs = inspect(&photo("obama.jpg")).analysis.observation.unwrap();
    let b = obs.bounding_box;
    assert!(b.left() > 0.3 && b.left() + b.width() < 0.8, "{b:?}");
    assert_eq!(obs.embedding.map(|e| e.values().len()), Some(128));
    assert_eq!(obs.eyes_open.is_some(), engine().has_68_landmarks());
    assert_eq!(obs.smile.is_some(), engine().has_68_landmarks());
}

#[test]
fn a_sideways_phone_photo_is_turned_upright_by_its_exif_orientation() {
    // The pixels stored rotated a quarter turn, with EXIF orientation 6 ("rotate 90° clockwise
    // to display"), as phones write them.
    let upright = rgb("obama.jpg");
    let stored = imageops::rotate270(&upright);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92)
        .encode_image(&stored)
        .unwrap();
    let tiff: [u8; 26] = [
        b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0,
    ];
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&u16::try_from(2 + 6 + tiff.len()).unwrap().to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let mut with_exif = jpeg[..2].to_vec();
    with_exif.extend_from_slice(&app1);
    with_exif.extend_from_slice(&jpeg[2..]);
    let i = inspect(&Image::parse(with_exif, MAX_BYTES).unwrap());
    assert_eq!(i.analysis.quality.face_count, 1);
    assert_eq!(
        (
            i.analysis.quality.image_width_px,
            i.analysis.quality.image_height_px
        ),
        (upright.width(), upright.height())
    );
}

/// `img` rotated clockwise (on screen) by `degrees` about its centre, nearest neighbour, grey
/// outside.
fn rotate_clockwise(img: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, c) = degrees.to_radians().sin_cos();
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        // Inverse rotation: where this output pixel comes from.
        let (sx, sy) = (cx + dx * c + dy * s, cy - dx * s + dy * c);
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
            *img.get_pixel(sx as u32, sy as u32)
        } else {
            image::Rgb([128, 128, 128])
        }
    })
}

#[test]
fn a_tilted_face_that_hog_misses_is_found_by_the_cnn_with_positive_roll() {
    // HOG's frontal detector misses faces tilted this far; the CNN fallback finds them. A
    // clockwise tilt on screen is the head leaning towards the person's own left shoulder.
    let tilted = rotate_clockwise(&rgb("obama.jpg"), 55.0);
    let i = inspect(&png(&tilted));
    let roll = i.analysis.observation.as_ref().map(|o| o.pose.roll());
    println!(
        "obama.jpg tilted 55° clockwise: {:?}, roll {roll:?}",
        i.detector
    );
    assert_eq!(i.detector, Some(kyc_local::face::Detector::Cnn));
    assert_eq!(i.analysis.quality.face_count, 1);
    let roll = roll.unwrap();
    assert!((roll - 55.0).abs() < 8.0, "{roll}");
    // And it is still Obama.
    let upright = face("obama.jpg", &photo("obama.jpg"));
    let (d, s) = compare_analyses(&upright.analysis, &i.analysis).unwrap();
    println!("upright / tilted: distance {d:.3}, similarity {s}");
    assert!(s.meets(threshold()));
}

fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let idat = [
        b'I', b'D', b'A', b'T', 0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for chunk in [&ihdr[..], &idat[..]] {
        png.extend_from_slice(&u32::try_from(chunk.len() - 4).unwrap().to_be_bytes());
        png.extend_from_slice(chunk);
        png.extend_from_slice(&crc32(chunk).to_be_bytes());
    }
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Polls a future that never waits (the engine's futures do their work on the first poll).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
