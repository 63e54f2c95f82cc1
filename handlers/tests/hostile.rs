//! A corpus of hostile requests against one running `kyc serve` (rate limit off): empty and
//! truncated bodies, decompression bombs, polyglots, disguised files, wrong content types,
//! malformed, deeply nested and oversized JSON (with an honest length and chunked), invalid
//! base64, unknown, malformed and path-traversing ids, stale nonces, hostile headers, wrong
//! methods and routes, a reused idempotency key.
//!
//! Every request must get a 4xx problem document (`application/problem+json` with `type`,
//! `title`, `status` and `requestId`) that does not echo what was sent; afterwards the server
//! still answers `/healthz`, its log holds none of the distinctive strings sent, its memory has
//! not grown with repetition, and the only stored objects added are the accepted uploads'.
//!
//! Requests that are not well-formed HTTP (a garbage request line, an invalid header name,
//! too many headers) never reach the application: hyper answers them 400 or 431 with an empty
//! body. They are sent too, and checked for that status, but they are not problem documents.

mod common;

use std::time::{Duration, Instant};

use common::*;
use image::RgbImage;
use serde_json::{json, Value};

/// A string no response or log line may contain.
const CANARY: &str = "CANARY-7f3a91";

/// One hostile request and the status it must get.
struct Case {
    name: &'static str,
    request: Request,
    status: u16,
    /// Problem `type` suffix expected, when it is worth pinning.
    code: Option<&'static str>,
    /// Strings the answer must not contain (besides the canary).
    secrets: Vec<String>,
}

fn case(name: &'static str, status: u16, code: Option<&'static str>, request: Request) -> Case {
    Case {
        name,
        request,
        status,
        code,
        secrets: Vec::new(),
    }
}

impl Case {
    fn secret(mut self, s: impl Into<String>) -> Self {
        self.secrets.push(s.into());
        self
    }
}

/// Sends a case and checks the problem document; returns it.
fn check(server: &Server, c: &Case) -> Value {
    let r = server.send(&c.request);
    let p = assert_problem(&r, c.status, c.name);
    if let Some(code) = c.code {
        assert_eq!(
            p["type"],
            format!("urn:kyc-kit:problem:{code}"),
            "{}: {p}",
            c.name
        );
    }
    let text = r.text();
    for s in std::iter::once(CANARY).chain(c.secrets.iter().map(String::as_str)) {
        assert!(
            !text.contains(s),
            "{}: the answer echoes the input: {text}",
            c.name
        );
    }
    assert!(text.len() < 1024, "{}: a long problem document", c.name);
    p
}

// ------------------------------------------------------------------------------------------
// Hostile files.

/// A noisy picture (so a JPEG of it has some weight).
fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) as u8;
        image::Rgb([v, v.wrapping_add(x as u8), (y as u8) ^ v])
    })
}

fn small_jpeg() -> Vec<u8> {
    jpeg(&picture(320, 240), 80)
}

fn small_png() -> Vec<u8> {
    png(&picture(320, 240))
}

/// A PNG chunk with its CRC.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len())
        .expect("a small chunk")
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out
}

/// A valid PNG whose IHDR is replaced by one declaring `w` × `h` (CRC correct).
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let valid = small_png();
    let mut ihdr = valid[16..29].to_vec();
    ihdr[..4].copy_from_slice(&w.to_be_bytes());
    ihdr[4..8].copy_from_slice(&h.to_be_bytes());
    let mut out = valid[..8].to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend_from_slice(&valid[33..]);
    out
}

/// A valid PNG with an `acTL` chunk after IHDR: an animated PNG.
fn animated_png() -> Vec<u8> {
    let valid = small_png();
    let mut out = valid[..33].to_vec();
    out.extend(chunk(b"acTL", &[0, 0, 0, 2, 0, 0, 0, 0]));
    out.extend_from_slice(&valid[33..]);
    out
}

/// A valid PNG with one bit of its IHDR CRC flipped.
fn png_bad_crc() -> Vec<u8> {
    let mut out = small_png();
    out[29] ^= 1;
    out
}

/// A JPEG whose SOF declares `w` × `h`.
fn jpeg_declaring(w: u16, h: u16) -> Vec<u8> {
    let mut out = small_jpeg();
    let sof = out
        .windows(2)
        .position(|p| p == [0xFF, 0xC0])
        .expect("a baseline SOF");
    out[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    out
}

/// A stored (uncompressed) ZIP archive of one file.
fn zip(name: &str, data: &[u8]) -> Vec<u8> {
    let crc = crc32fast::hash(data);
    let n = u16::try_from(name.len()).expect("a short name");
    let len = u32::try_from(data.len()).expect("small data");
    let mut out = Vec::new();
    out.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    let central = out.len();
    out.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&[0; 12]);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(name.as_bytes());
    let size = u32::try_from(out.len() - central).expect("small");
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&u32::try_from(central).expect("small").to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// A 1 × 1 GIF89a.
fn gif() -> Vec<u8> {
    let mut g = b"GIF89a\x01\0\x01\0\x80\0\0".to_vec();
    g.extend_from_slice(&[0, 0, 0, 0xFF, 0xFF, 0xFF]);
    g.extend_from_slice(b"\x21\xF9\x04\x01\0\0\0\0");
    g.extend_from_slice(b"\x2C\0\0\0\0\x01\0\x01\0\0");
    g.extend_from_slice(b"\x02\x02\x44\x01\0\x3B");
    g
}

fn html() -> Vec<u8> {
    format!("<!DOCTYPE html><html><body><script>alert('{CANARY}')</script></body></html>")
        .into_bytes()
}

fn svg() -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" \
         height=\"400\"><script>alert('{CANARY}')</script></svg>"
    )
    .into_bytes()
}

/// `depth` nested arrays inside the given field.
fn nested(field: &str, depth: usize) -> Vec<u8> {
    format!("{{\"{field}\":{}{}}}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

// ------------------------------------------------------------------------------------------
// Requests.

fn raw_upload(content_type: &str, body: Body) -> Request {
    Request::new("POST", "/v1/upload-id")
        .header("content-type", content_type)
        .body(body)
}

fn json_bytes(path: &str, body: Vec<u8>) -> Request {
    Request::new("POST", path)
        .header("content-type", "application/json")
        .body(Body::Sized(body))
}

fn multipart(boundary: Option<&str>, parts: &[(&str, &[u8])], close: bool) -> Request {
    let b = "hostile-boundary";
    let mut body = Vec::new();
    for (name, data) in parts {
        body.extend_from_slice(
            format!("--{b}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    if close {
        body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    }
    let ct = match boundary {
        Some(x) => format!("multipart/form-data; boundary={x}"),
        None => "multipart/form-data".to_owned(),
    };
    raw_upload(&ct, Body::Sized(body))
}

fn frame(id: &str, nonce: &str, frame_id: &str, captured_at: &str, image: &str) -> Request {
    Request::json(
        "/v1/submit-frame",
        &json!({
            "verificationId": id,
            "nonce": nonce,
            "frameId": frame_id,
            "capturedAt": captured_at,
            "image": image,
        }),
    )
}

/// The cases that need no particular server state, so they can be sent again and again.
fn stateless_cases() -> Vec<Case> {
    let unknown = "0b6e4a52-3c1f-4d8e-9a7b-5f2c1d0e9a88";
    let nonce = "0123456789abcdef0123456789abcdef";
    let now = rfc3339(now_ms());
    let jpeg_b64 = b64(&small_jpeg());
    let big_json = |field: &str, n: usize| {
        let mut v = format!("{{\"{field}\":\"").into_bytes();
        v.extend(std::iter::repeat_n(b'A', n));
        v.extend_from_slice(b"\"}");
        v
    };
    let eleven_mib = vec![0xFFu8; 11 * 1024 * 1024];
    let fifteen_mb = big_json("image", 15_000_000);
    let jpeg = small_jpeg();
    let mut truncated = jpeg.clone();
    truncated.truncate(jpeg.len() / 2);
    let mut polyglot = jpeg.clone();
    polyglot.extend(zip(&format!("{CANARY}.txt"), CANARY.as_bytes()));
    let mut png_html = small_png();
    png_html.extend(html());
    let mut non_utf8 = b"{\"verificationId\":\"".to_vec();
    non_utf8.extend_from_slice(&[0xC3, 0x28, 0xFF, 0xFE]);
    non_utf8.extend_from_slice(b"\"}");
    let sized = |b: Vec<u8>| Body::Sized(b);

    vec![
        // Empty bodies and missing types.
        case(
            "empty JPEG body",
            400,
            Some("empty-body"),
            raw_upload("image/jpeg", sized(Vec::new())),
        ),
        case(
            "upload without a content type",
            415,
            Some("unsupported-content-type"),
            Request::new("POST", "/v1/upload-id").body(sized(small_jpeg())),
        ),
        case(
            "empty start-liveness",
            400,
            Some("invalid-json"),
            json_bytes("/v1/start-liveness", Vec::new()),
        ),
        case(
            "empty submit-frame",
            400,
            Some("invalid-json"),
            json_bytes("/v1/submit-frame", Vec::new()),
        ),
        case(
            "empty ips",
            400,
            Some("invalid-json"),
            json_bytes("/v1/ips", Vec::new()),
        ),
        // Broken and dangerous images.
        case(
            "truncated JPEG",
            422,
            Some("image-truncated"),
            raw_upload("image/jpeg", sized(truncated)),
        ),
        case(
            "PNG declaring 100,000 x 100,000",
            422,
            None,
            raw_upload("image/png", sized(png_declaring(100_000, 100_000))),
        ),
        case(
            "JPEG declaring 65,000 x 65,000",
            422,
            None,
            raw_upload("image/jpeg", sized(jpeg_declaring(65_000, 65_000))),
        ),
        case(
            "JPEG too small to hold a document",
            422,
            None,
            raw_upload("image/jpeg", sized(jpeg_declaring(40, 30))),
        ),
        case(
            "JPEG+ZIP polyglot",
            422,
            None,
            raw_upload("image/jpeg", sized(polyglot)),
        ),
        case(
            "PNG+HTML polyglot",
            422,
            None,
            raw_upload("image/png", sized(png_html)),
        ),
        case(
            "animated PNG",
            422,
            None,
            raw_upload("image/png", sized(animated_png())),
        ),
        case(
            "PNG with a bad CRC",
            422,
            None,
            raw_upload("image/png", sized(png_bad_crc())),
        ),
        case(
            "HTML disguised as image/jpeg",
            415,
            None,
            raw_upload("image/jpeg", sized(html())),
        ),
        case(
            "SVG disguised as image/png",
            415,
            None,
            raw_upload("image/png", sized(svg())),
        ),
        case(
            "GIF disguised as image/jpeg",
            415,
            None,
            raw_upload("image/jpeg", sized(gif())),
        ),
        // Content types.
        case(
            "GIF as image/gif",
            415,
            Some("unsupported-content-type"),
            raw_upload("image/gif", sized(gif())),
        ),
        case(
            "SVG as image/svg+xml",
            415,
            Some("unsupported-content-type"),
            raw_upload("image/svg+xml", sized(svg())),
        ),
        case(
            "text/plain upload",
            415,
            Some("unsupported-content-type"),
            raw_upload("text/plain", sized(CANARY.as_bytes().to_vec())),
        ),
        case(
            "form-encoded upload",
            415,
            Some("unsupported-content-type"),
            raw_upload(
                "application/x-www-form-urlencoded",
                sized(format!("image={CANARY}").into_bytes()),
            ),
        ),
        case(
            "start-liveness as image/jpeg",
            415,
            Some("unsupported-content-type"),
            Request::new("POST", "/v1/start-liveness")
                .header("content-type", "image/jpeg")
                .body(sized([&[0xFF, 0xD8, 0xFF][..], CANARY.as_bytes()].concat())),
        ),
        case(
            "submit-frame as text/plain",
            415,
            Some("unsupported-content-type"),
            Request::new("POST", "/v1/submit-frame")
                .header("content-type", "text/plain")
                .body(sized(CANARY.as_bytes().to_vec())),
        ),
        case(
            "non-ASCII content type",
            415,
            None,
            raw_upload("image/jp\u{e9}g", sized(small_jpeg())),
        ),
        // Malformed JSON.
        case(
            "unknown JSON field",
            400,
            Some("invalid-json"),
            Request::json("/v1/upload-id", &json!({"image": jpeg_b64, CANARY: 1})),
        ),
        case(
            "wrong JSON type",
            400,
            Some("invalid-json"),
            Request::json("/v1/start-liveness", &json!({"verificationId": 12345})),
        ),
        case(
            "JSON array instead of object",
            400,
            None,
            Request::json("/v1/ips", &json!([CANARY, CANARY])),
        ),
        case(
            "duplicate JSON field",
            400,
            Some("invalid-json"),
            json_bytes(
                "/v1/start-liveness",
                format!("{{\"verificationId\":\"{unknown}\",\"verificationId\":\"{CANARY}\"}}")
                    .into_bytes(),
            ),
        ),
        case(
            "JSON that is not UTF-8",
            400,
            Some("invalid-json"),
            json_bytes("/v1/start-liveness", non_utf8),
        ),
        case(
            "JSON nested 10,000 deep (start-liveness: over its 16 KiB)",
            413,
            Some("body-too-large"),
            json_bytes("/v1/start-liveness", nested("verificationId", 10_000)),
        ),
        case(
            "JSON nested 7,000 deep (start-liveness)",
            400,
            Some("invalid-json"),
            json_bytes("/v1/start-liveness", nested("verificationId", 7_000)),
        ),
        case(
            "JSON nested 10,000 deep (upload)",
            400,
            Some("invalid-json"),
            json_bytes("/v1/upload-id", nested("image", 10_000)),
        ),
        case(
            "JSON nested 10,000 deep (ips)",
            400,
            Some("invalid-json"),
            json_bytes("/v1/ips", "[".repeat(10_000).into_bytes()),
        ),
        // Oversized bodies.
        case(
            "17 KB start-liveness, honest length",
            413,
            Some("body-too-large"),
            json_bytes("/v1/start-liveness", big_json("verificationId", 17_000)),
        ),
        case(
            "17 KB start-liveness, chunked",
            413,
            Some("body-too-large"),
            Request::new("POST", "/v1/start-liveness")
                .header("content-type", "application/json")
                .body(Body::Chunked(big_json("verificationId", 17_000))),
        ),
        case(
            "15 MB JSON upload, honest length",
            413,
            Some("body-too-large"),
            json_bytes("/v1/upload-id", fifteen_mb.clone()),
        ),
        case(
            "15 MB JSON upload, chunked",
            413,
            Some("body-too-large"),
            Request::new("POST", "/v1/upload-id")
                .header("content-type", "application/json")
                .body(Body::Chunked(fifteen_mb)),
        ),
        case(
            "11 MiB JPEG body, honest length",
            413,
            Some("body-too-large"),
            raw_upload("image/jpeg", sized(eleven_mib.clone())),
        ),
        case(
            "11 MiB JPEG body, chunked",
            413,
            Some("body-too-large"),
            raw_upload("image/jpeg", Body::Chunked(eleven_mib)),
        ),
        case(
            "declared length of a terabyte",
            413,
            Some("body-too-large"),
            raw_upload("image/jpeg", Body::Declared(1 << 40, small_jpeg())),
        ),
        case(
            "3 MB frame",
            413,
            None,
            json_bytes("/v1/submit-frame", big_json("image", 3_000_000)),
        ),
        // Base64.
        case(
            "invalid base64",
            400,
            None,
            Request::json("/v1/upload-id", &json!({"image": format!("!!{CANARY}!!")})),
        ),
        case(
            "base64 of HTML",
            415,
            None,
            Request::json("/v1/upload-id", &json!({"image": b64(&html())})),
        ),
        case(
            "data URL of another type",
            415,
            None,
            Request::json(
                "/v1/upload-id",
                &json!({"image": format!("data:text/html;base64,{}", b64(&html()))}),
            ),
        ),
        case(
            "data URL of SVG",
            415,
            None,
            Request::json(
                "/v1/upload-id",
                &json!({"image": format!("data:image/svg+xml;base64,{}", b64(&svg()))}),
            ),
        ),
        case(
            "invalid base64 selfie",
            400,
            None,
            Request::json(
                "/v1/ips",
                &json!({"source": format!("%%{CANARY}"), "target": jpeg_b64}),
            ),
        ),
        case(
            "ips without a face",
            422,
            Some("no-face"),
            Request::json("/v1/ips", &json!({"source": jpeg_b64, "target": jpeg_b64})),
        ),
        // Unknown and malformed ids, path traversal.
        case(
            "unknown verification",
            404,
            Some("verification-not-found"),
            Request::get(&format!("/v1/verify/{unknown}")),
        ),
        case(
            "start-liveness for an unknown verification",
            404,
            Some("verification-not-found"),
            Request::json("/v1/start-liveness", &json!({"verificationId": unknown})),
        ),
        case(
            "erase an unknown verification",
            404,
            Some("verification-not-found"),
            Request::new("DELETE", &format!("/v1/verifications/{unknown}")),
        ),
        case(
            "frame for an unknown verification",
            404,
            Some("verification-not-found"),
            frame(unknown, nonce, "f1", &now, &jpeg_b64),
        ),
        case(
            "malformed id in the path",
            404,
            Some("not-found"),
            Request::get(&format!("/v1/verify/{CANARY}")),
        ),
        case(
            "a JSON array where an object is expected",
            400,
            Some("invalid-json"),
            Request::json("/v1/ips", &json!([CANARY, CANARY])),
        ),
        case(
            "malformed id in JSON",
            400,
            Some("invalid-field"),
            Request::json("/v1/start-liveness", &json!({"verificationId": CANARY})),
        ),
        case(
            "encoded path traversal",
            404,
            None,
            Request::get("/v1/verify/..%2F..%2Fetc%2Fpasswd"),
        )
        .secret("passwd"),
        case(
            "raw path traversal",
            404,
            None,
            Request::get("/v1/verify/../../etc/passwd"),
        )
        .secret("passwd"),
        case(
            "traversal in an erasure",
            404,
            None,
            Request::new("DELETE", "/v1/verifications/%2e%2e%2f%2e%2e%2fobjects"),
        )
        .secret("objects"),
        case(
            "NUL in an id",
            404,
            None,
            Request::get(&format!("/v1/verify/{unknown}%00")),
        ),
        case(
            "frame id with a path",
            400,
            Some("invalid-field"),
            frame(unknown, nonce, "../../../etc/passwd", &now, &jpeg_b64),
        )
        .secret("passwd"),
        case(
            "frame id too long",
            400,
            Some("invalid-field"),
            frame(unknown, nonce, &"f".repeat(65), &now, &jpeg_b64),
        ),
        case(
            "empty frame id",
            400,
            Some("invalid-field"),
            frame(unknown, nonce, "", &now, &jpeg_b64),
        ),
        case(
            "malformed nonce",
            400,
            Some("invalid-field"),
            frame(unknown, CANARY, "f1", &now, &jpeg_b64),
        ),
        case(
            "malformed capture time",
            400,
            Some("invalid-field"),
            frame(unknown, nonce, "f1", CANARY, &jpeg_b64),
        ),
        // Headers.
        case(
            "idempotency key of 300 characters",
            400,
            Some("invalid-field"),
            raw_upload("image/jpeg", sized(small_jpeg()))
                .header("idempotency-key", format!("{CANARY}{}", "k".repeat(300))),
        ),
        case(
            "idempotency key of 8 KiB",
            400,
            Some("invalid-field"),
            raw_upload("image/jpeg", sized(small_jpeg()))
                .header("idempotency-key", format!("{CANARY}{}", "k".repeat(8192))),
        ),
        case(
            "non-ASCII idempotency key",
            400,
            Some("invalid-field"),
            raw_upload("image/jpeg", sized(small_jpeg()))
                .header("idempotency-key", format!("cl\u{e9}-{CANARY}")),
        ),
        case(
            "non-ASCII request id",
            400,
            Some("empty-body"),
            raw_upload("image/jpeg", sized(Vec::new()))
                .header("x-request-id", format!("\u{fc}{CANARY}")),
        ),
        // Methods and routes.
        case(
            "PUT upload",
            405,
            Some("method-not-allowed"),
            Request::new("PUT", "/v1/upload-id")
                .header("content-type", "image/jpeg")
                .body(sized(small_jpeg())),
        ),
        case(
            "GET upload",
            405,
            Some("method-not-allowed"),
            Request::get("/v1/upload-id"),
        ),
        case(
            "PATCH a verification",
            405,
            Some("method-not-allowed"),
            Request::new("PATCH", &format!("/v1/verify/{unknown}")),
        ),
        case(
            "POST to an erasure path",
            405,
            Some("method-not-allowed"),
            Request::new("POST", &format!("/v1/verifications/{unknown}")),
        ),
        case(
            "DELETE healthz",
            405,
            Some("method-not-allowed"),
            Request::new("DELETE", "/healthz"),
        ),
        case(
            "OPTIONS without CORS",
            405,
            Some("method-not-allowed"),
            Request::new("OPTIONS", "/v1/upload-id"),
        ),
        case(
            "TRACE",
            405,
            Some("method-not-allowed"),
            Request::new("TRACE", "/"),
        ),
        case(
            "unknown route",
            404,
            Some("not-found"),
            Request::get("/v2/verify"),
        ),
        case(
            "admin route",
            404,
            Some("not-found"),
            Request::new("POST", "/admin/config"),
        ),
        case(
            "verify without an id",
            404,
            Some("not-found"),
            Request::get("/v1/verify"),
        ),
        // Multipart.
        case(
            "multipart without a boundary",
            400,
            Some("invalid-multipart"),
            multipart(None, &[("image", &jpeg)], true),
        ),
        case(
            "multipart without an image part",
            400,
            Some("invalid-field"),
            multipart(
                Some("hostile-boundary"),
                &[("note", CANARY.as_bytes())],
                true,
            ),
        ),
        case(
            "multipart cut short",
            400,
            Some("invalid-multipart"),
            multipart(
                Some("hostile-boundary"),
                &[("note", CANARY.as_bytes())],
                false,
            ),
        ),
        case(
            "multipart image that is HTML",
            415,
            None,
            multipart(Some("hostile-boundary"), &[("image", &html())], true),
        ),
        case(
            "15 MB multipart, chunked",
            413,
            Some("body-too-large"),
            chunked(multipart(
                Some("hostile-boundary"),
                &[("note", &vec![b'x'; 15_000_000]), ("image", &jpeg)],
                true,
            )),
        ),
    ]
}

/// The same request with its body sent chunked (no length announced).
fn chunked(mut r: Request) -> Request {
    if let Body::Sized(b) = std::mem::replace(&mut r.body, Body::None) {
        r.body = Body::Chunked(b);
    }
    r
}

#[test]
fn hostile_requests_get_problem_documents_and_leave_the_server_well() {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let data = tmp.path().join("data");
    let server = Server::start(&data, &[]);
    let cases = stateless_cases();

    // A verification whose document is read, for the cases that need one.
    let doc = readable_document(tmp.path());
    let before = object_files(&data);
    let key = format!("hostile-{}", unique());
    let r =
        server.send(&raw_upload("image/jpeg", Body::Sized(doc)).header("idempotency-key", &key));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["verificationId"]
        .as_str()
        .expect("an id")
        .to_owned();
    let accepted_uploads = 1;
    poll_verification(&server, &id, Duration::from_secs(120), |d| {
        d["state"] == "documentRead"
    });
    let (rss_start, _) = server.memory_kib();

    // Round 1 of the stateless corpus, and the stateful cases.
    let mut sent = 0;
    for c in &cases {
        check(&server, c);
        sent += 1;
    }
    let now = || rfc3339(now_ms());
    let jpeg_b64 = b64(&small_jpeg());
    let stateful = vec![
        case(
            "same key, another image",
            422,
            Some("idempotency-key-reused"),
            raw_upload("image/jpeg", Body::Sized(small_jpeg())).header("idempotency-key", &key),
        ),
        case(
            "frame before start-liveness",
            409,
            Some("invalid-state"),
            frame(
                &id,
                "0123456789abcdef0123456789abcdef",
                "early",
                &now(),
                &jpeg_b64,
            ),
        ),
    ];
    for c in &stateful {
        check(&server, c);
        sent += 1;
    }
    let first = start(&server, &id);
    let second = start(&server, &id);
    assert_ne!(first, second);
    let stale = vec![
        case(
            "frame with a stale nonce",
            409,
            Some("stale-challenge"),
            frame(&id, &first, "replayed", &now(), &jpeg_b64),
        ),
        case(
            "frame id traversal on a live challenge",
            400,
            Some("invalid-field"),
            frame(&id, &second, "..%2F..%2Fobjects", &now(), &jpeg_b64),
        )
        .secret("objects"),
        case(
            "frame that is HTML on a live challenge",
            415,
            None,
            frame(
                &id,
                &second,
                "html",
                &now(),
                &format!("data:text/html;base64,{}", b64(&html())),
            ),
        ),
        case(
            "frame that is a polyglot on a live challenge",
            422,
            None,
            frame(
                &id,
                &second,
                "polyglot",
                &now(),
                &b64(&[small_jpeg(), zip("a.txt", CANARY.as_bytes())].concat()),
            ),
        ),
        case(
            "frame captured a day early",
            422,
            Some("frame-rejected"),
            frame(
                &id,
                &second,
                "early",
                &rfc3339(now_ms() - 86_400_000),
                &jpeg_b64,
            ),
        ),
    ];
    for c in &stale {
        check(&server, c);
        sent += 1;
    }
    start(&server, &id);
    let limit = case(
        "a fourth challenge",
        409,
        Some("challenge-limit"),
        Request::json("/v1/start-liveness", &json!({"verificationId": id})),
    );
    check(&server, &limit);
    sent += 1;
    // Requests that are not well-formed HTTP: hyper answers them before the application sees
    // them, with an empty body (no problem document); the server must refuse them and go on.
    for (name, raw, status) in protocol_cases() {
        let r = send_raw(server.addr, &raw);
        assert_eq!(r.status, status, "{name}: {}", r.text());
        sent += 1;
    }
    // A malformed chunked body reaches the application, which answers a problem document.
    let bad_chunk = send_raw(
        server.addr,
        b"POST /v1/start-liveness HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
          transfer-encoding: chunked\r\nconnection: close\r\n\r\nzz\r\n",
    );
    assert!(
        bad_chunk.status == 400
            && bad_chunk.header("content-type") == Some("application/problem+json")
            && bad_chunk
                .text()
                .contains("urn:kyc-kit:problem:malformed-body"),
        "malformed chunk: {} {}",
        bad_chunk.status,
        bad_chunk.text()
    );
    sent += 1;
    let (rss_round1, _) = server.memory_kib();

    // Rounds 2 to 16: memory must stop growing with repetition.
    let mut rss_round10 = 0;
    for round in 2..=16 {
        for c in &cases {
            check(&server, c);
            sent += 1;
        }
        if round == 10 {
            rss_round10 = server.memory_kib().0;
        }
    }
    let (rss_round16, peak) = server.memory_kib();

    let health = server.send(&Request::get("/healthz"));
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    let added = object_files(&data).difference(&before).count();
    assert_eq!(
        added, accepted_uploads,
        "only the accepted upload is stored"
    );
    assert!(
        object_files(&data).iter().all(|f| f.ends_with(".obj")),
        "a temporary file is left"
    );

    let mib = |kib: u64| kib as f64 / 1024.0;
    let distinct = cases.len() + stateful.len() + stale.len() + 1;
    println!(
        "{distinct} distinct hostile requests, {sent} sent in {:.1} s; RSS {:.0} MiB after the \
         document was read, {:.0} MiB after round 1, {:.0} MiB after round 10, {:.0} MiB after \
         round 16; peak {:.0} MiB",
        t0.elapsed().as_secs_f64(),
        mib(rss_start),
        mib(rss_round1),
        mib(rss_round10),
        mib(rss_round16),
        mib(peak)
    );
    assert!(distinct >= 40);
    // Bounded means: repeating the same requests stops costing memory. The first rounds grow
    // the allocator's per-thread arenas (each keeps what the largest bodies it served needed);
    // measured, the growth stops by round 10 and stays flat over 3,000 more requests. Rounds
    // 11 to 16 (over 500 requests) may add at most 8 MiB.
    assert!(
        rss_round16 <= rss_round10 + 8 * 1024,
        "RSS grew from {rss_round10} KiB to {rss_round16} KiB over six more rounds"
    );
    // And the level it settles at: each request holds at most one body read to its endpoint's
    // limit (at most 14 MB, the JSON upload) and one copy of it, under 28 MiB; the runtime's
    // worker and blocking threads each keep an allocator arena, and measured, the level settles
    // 80 to 100 MiB over the footprint with one document read. 160 MiB leaves room for about
    // two more arenas holding the largest body twice.
    assert!(
        rss_round16 <= rss_start + 160 * 1024,
        "RSS grew from {rss_start} KiB to {rss_round16} KiB"
    );

    let log = server.log();
    assert!(
        !log.contains(CANARY),
        "the server's log holds a string a request sent"
    );
    assert!(
        !log.contains("passwd"),
        "the server's log holds a path a request sent"
    );
    let (status, _) = server.stop();
    assert!(status.success(), "kyc serve exited with {status}");
}

/// Requests hyper refuses itself, with the status it answers.
fn protocol_cases() -> Vec<(&'static str, Vec<u8>, u16)> {
    let many_headers: Vec<u8> = (0..200)
        .flat_map(|i| format!("x-h{i}: v\r\n").into_bytes())
        .collect();
    vec![
        ("malformed request line", b"GARBAGE\r\n\r\n".to_vec(), 400),
        (
            "invalid header name",
            b"GET /healthz HTTP/1.1\r\nhost: x\r\nbad header: v\r\nconnection: close\r\n\r\n"
                .to_vec(),
            400,
        ),
        (
            "200 headers",
            [
                &b"GET /healthz HTTP/1.1\r\nhost: x\r\n"[..],
                &many_headers,
                b"connection: close\r\n\r\n",
            ]
            .concat(),
            431,
        ),
    ]
}

/// A generated identity document with a face (docgen's default faces), as a JPEG.
fn readable_document(dir: &std::path::Path) -> Vec<u8> {
    use kyc_local::docgen::{DocFormat, DocSpec, Fonts, Generator, Variant};
    let faces = dir.join("faces");
    std::fs::create_dir_all(&faces).expect("a faces directory");
    std::fs::write(faces.join("biden.jpg"), face_photo("biden.jpg")).expect("copying");
    let generator =
        Generator::new(Fonts::system().expect("the document fonts")).with_faces_from(&faces);
    let today = kyc_core::model::Timestamp::from_millis(now_ms()).date();
    let spec = DocSpec::new(91, DocFormat::Td3, today).with_variant(Variant {
        jpeg_quality: Some(90),
        ..Variant::CLEAN
    });
    generator.generate(&spec).expect("a document").bytes
}

/// Starts a liveness challenge; returns its nonce.
fn start(server: &Server, id: &str) -> String {
    let r = server.send(&Request::json(
        "/v1/start-liveness",
        &json!({ "verificationId": id }),
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["challenge"]["nonce"]
        .as_str()
        .expect("a nonce")
        .to_owned()
}
