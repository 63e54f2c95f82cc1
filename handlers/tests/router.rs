//! Router tests without sockets (`oneshot`): every endpoint and its error paths, on the real
//! embedded platform (SQLite, the encrypted file store, dlib, Tesseract, the sanctions lists
//! of ../shared/data) in a temporary data directory. The document worker is not running here,
//! so a document stays unread until a test reads it through the service.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use handlers::app::{self, AppSettings, RateLimit};
use handlers::local::{LocalOptions, LocalPlatform};
use handlers::service::{Service, ServiceConfig};
use kyc_core::model::VerificationId;
use serde_json::{json, Value};
use tower::ServiceExt as _;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn face(name: &str) -> Vec<u8> {
    let p = repo().join(".kyc-cache/assets/faces").join(name);
    std::fs::read(&p).unwrap_or_else(|_| {
        panic!("missing test photo {name}: run `cargo xtask setup` (it installs the face photos)")
    })
}

/// A synthetic TD3 passport page (JPEG) with a real face photo and a valid MRZ.
fn document_jpeg(seed: u64) -> Vec<u8> {
    use kyc_local::docgen::{DocFormat, DocSpec, Generator, Variant};
    let today = kyc_core::model::Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    )
    .date();
    let spec = DocSpec::new(seed, DocFormat::Td3, today).with_variant(Variant {
        dpi: 300,
        blur_sigma: 0.0,
        rotation_deg: 0.0,
        jpeg_quality: Some(85),
    });
    Generator::system()
        .expect("the document generator needs the system fonts (cargo xtask setup)")
        .generate(&spec)
        .expect("document generated")
        .bytes
}

struct Fixture {
    _dir: tempfile::TempDir,
    service: Service<LocalPlatform>,
}

/// One platform for the whole file (opening it loads the models and indexes the lists).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let lists = repo().join("../shared/data/sanctions");
        assert!(
            lists.is_dir(),
            "the sanctions lists are missing at {} (../shared/data)",
            lists.display()
        );
        let platform = LocalPlatform::open(
            dir.path(),
            &LocalOptions {
                lists: Some(lists),
                durability: kyc_local::storage::Durability::Full,
            },
        )
        .expect("the embedded platform starts (run `cargo xtask setup`)");
        let config = ServiceConfig::new(platform.idempotency_secret(), "router-test").unwrap();
        Fixture {
            service: Service::new(Arc::new(platform), config),
            _dir: dir,
        }
    })
}

fn router_with(settings: &AppSettings) -> Router {
    app::router(fixture().service.clone(), None, settings)
}

fn router() -> Router {
    router_with(&AppSettings::default())
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Asserts a problem document with `code` and `status`.
    fn problem(&self, status: u16, code: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.headers.get(header::CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
        let v = self.json();
        assert_eq!(v["type"], format!("urn:kyc-kit:problem:{code}"));
        assert_eq!(v["status"], status);
        assert!(v["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(v["requestId"].as_str().is_some_and(|t| !t.is_empty()));
    }
}

async fn send(r: &Router, req: Request<Body>) -> Answer {
    let res = r.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn post(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

fn post_json(path: &str, v: &Value) -> Request<Body> {
    post(path, "application/json", serde_json::to_vec(v).unwrap())
}

fn get(path: &str) -> Request<Body> {
    Request::builder().uri(path).body(Body::empty()).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn upload(r: &Router, image: &[u8], key: &str) -> Answer {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/upload-id")
        .header(header::CONTENT_TYPE, "image/jpeg")
        .header("idempotency-key", key)
        .body(Body::from(image.to_vec()))
        .unwrap();
    send(r, req).await
}

fn unique_key(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[tokio::test]
async fn health_and_openapi_answer() {
    let r = router();
    let a = send(&r, get("/healthz")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json(), json!({"status": "ok"}));
    let a = send(&r, get("/openapi.json")).await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json();
    for path in [
        "/v1/upload-id",
        "/v1/start-liveness",
        "/v1/submit-frame",
        "/v1/verify/{verificationId}",
        "/v1/ips",
        "/v1/verifications/{verificationId}",
        "/.well-known/jwks.json",
        "/healthz",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}

#[test]
fn the_openapi_document_is_unchanged() {
    // An API change is a visible diff here.
    let doc = serde_json::to_value(handlers::app::openapi::document()).unwrap();
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let r = router();
    send(&r, get("/nope")).await.problem(404, "not-found");
    send(&r, get("/v1/upload-id"))
        .await
        .problem(405, "method-not-allowed");
    let del = Request::builder()
        .method(Method::DELETE)
        .uri("/healthz")
        .body(Body::empty())
        .unwrap();
    send(&r, del).await.problem(405, "method-not-allowed");
}

#[tokio::test]
async fn an_upload_is_stored_once_per_idempotency_key() {
    let r = router();
    let key = unique_key("up");
    let doc = face("obama.jpg");
    let first = upload(&r, &doc, &key).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let id = first.json()["verificationId"].as_str().unwrap().to_owned();
    VerificationId::parse(&id).unwrap();
    assert!(first.json()["expiresAt"].as_str().unwrap().ends_with('Z'));
    let again = upload(&r, &doc, &key).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.json()["verificationId"], id.as_str());
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    // The same key with another image is refused.
    upload(&r, &face("biden.jpg"), &key)
        .await
        .problem(422, "idempotency-key-reused");
    // Without a key, every upload is a new verification.
    let req = || post("/v1/upload-id", "image/jpeg", doc.clone());
    let a = send(&r, req()).await.json()["verificationId"].clone();
    let b = send(&r, req()).await.json()["verificationId"].clone();
    assert_ne!(a, b);
}

#[tokio::test]
async fn uploads_come_as_raw_json_or_multipart() {
    let r = router();
    let doc = face("obama2.jpg");
    let a = send(&r, post_json("/v1/upload-id", &json!({"image": b64(&doc)}))).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let data_url = format!("data:image/jpeg;base64,{}", b64(&doc));
    let a = send(&r, post_json("/v1/upload-id", &json!({"image": data_url}))).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let boundary = "XyZbOuNdArY";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"d.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&doc);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let a = send(
        &r,
        post(
            "/v1/upload-id",
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        ),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
}

#[tokio::test]
async fn bad_uploads_are_problems_that_never_echo_input() {
    let r = router();
    send(&r, post("/v1/upload-id", "image/jpeg", Vec::new()))
        .await
        .problem(400, "empty-body");
    send(
        &r,
        post(
            "/v1/upload-id",
            "image/jpeg",
            b"<html><script>alert(1)</script></html>".to_vec(),
        ),
    )
    .await
    .problem(415, "unsupported-media-type");
    send(&r, post("/v1/upload-id", "text/plain", b"hello".to_vec()))
        .await
        .problem(415, "unsupported-content-type");
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&[8, 2, 0, 0, 0]);
    let crc = crc32fast::hash(&bomb[12..29]);
    bomb.extend_from_slice(&crc.to_be_bytes());
    let a = send(&r, post("/v1/upload-id", "image/png", bomb)).await;
    a.problem(422, "image-dimensions-too-large");
    let doc = face("obama.jpg");
    send(
        &r,
        post("/v1/upload-id", "image/jpeg", doc[..doc.len() / 2].to_vec()),
    )
    .await
    .problem(422, "image-truncated");
    let secret = "SECRET-MARKER-7731";
    let a = send(&r, post_json("/v1/upload-id", &json!({"image": secret}))).await;
    a.problem(400, "invalid-base64");
    assert!(!String::from_utf8_lossy(&a.body).contains(secret));
    let a = send(
        &r,
        post_json("/v1/upload-id", &json!({"image": b64(&doc), secret: 1})),
    )
    .await;
    a.problem(400, "invalid-json");
    assert!(!String::from_utf8_lossy(&a.body).contains(secret));
    let nested = "[".repeat(100_000);
    send(&r, post("/v1/upload-id", "application/json", nested))
        .await
        .problem(400, "invalid-json");
    let too_big = vec![b'A'; 20 * 1024 * 1024];
    send(&r, post("/v1/upload-id", "image/jpeg", too_big))
        .await
        .problem(413, "body-too-large");
    let bad_key = Request::builder()
        .method(Method::POST)
        .uri("/v1/upload-id")
        .header(header::CONTENT_TYPE, "image/jpeg")
        .header("idempotency-key", "x".repeat(500))
        .body(Body::from(doc.clone()))
        .unwrap();
    send(&r, bad_key).await.problem(400, "invalid-field");
}

#[tokio::test]
async fn liveness_waits_for_the_document_then_issues_a_challenge() {
    let r = router();
    let up = upload(&r, &document_jpeg(11), &unique_key("live")).await;
    let id = up.json()["verificationId"].as_str().unwrap().to_owned();
    let start = || post_json("/v1/start-liveness", &json!({"verificationId": id}));
    let a = send(&r, start()).await;
    a.problem(409, "document-pending");
    assert_eq!(a.headers.get(header::RETRY_AFTER).unwrap(), "1");
    // The worker's job, done here.
    let vid = VerificationId::parse(&id).unwrap();
    let svc = &fixture().service;
    assert!(
        svc.read_document(&vid).await.unwrap(),
        "the generated document was read"
    );
    let a = send(&r, start()).await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let c = &a.json()["challenge"];
    let nonce = c["nonce"].as_str().unwrap().to_owned();
    assert_eq!(nonce.len(), 32);
    assert!(c["gestures"].as_array().unwrap().len() >= 2);
    assert!(c["minFrames"].as_u64().unwrap() >= 1);

    // A frame of the open challenge is accepted once; its replay changes nothing.
    let now = handlers::service::view::rfc3339(kyc_core::model::Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    ));
    let frame = |frame_id: &str, nonce: &str| {
        post_json(
            "/v1/submit-frame",
            &json!({"verificationId": id, "nonce": nonce, "frameId": frame_id,
                    "capturedAt": now, "image": b64(&face("obama2.jpg"))}),
        )
    };
    let a = send(&r, frame("f-1", &nonce)).await;
    assert_eq!(
        a.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.json()["replayed"], false);
    let a = send(&r, frame("f-1", &nonce)).await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    assert_eq!(a.json()["replayed"], true);
    // A new challenge makes the old nonce stale.
    let a = send(&r, start()).await;
    assert_eq!(a.status, StatusCode::OK);
    send(&r, frame("f-2", &nonce))
        .await
        .problem(409, "stale-challenge");
    // Malformed frames.
    send(&r, frame("../etc/passwd", &nonce))
        .await
        .problem(400, "invalid-field");
    send(&r, frame("f-3", "not-a-nonce"))
        .await
        .problem(400, "invalid-field");
    let bad_time = post_json(
        "/v1/submit-frame",
        &json!({"verificationId": id, "nonce": nonce, "frameId": "f-4",
                "capturedAt": "yesterday", "image": b64(&face("obama2.jpg"))}),
    );
    send(&r, bad_time).await.problem(400, "invalid-field");

    let doc = send(&r, get(&format!("/v1/verify/{id}"))).await;
    assert_eq!(doc.status, StatusCode::OK);
    let d = doc.json();
    assert_eq!(d["status"], "pending");
    assert_eq!(d["state"], "livenessChallenged");
    assert!(d["document"]["fields"].is_object());
    assert_eq!(doc.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_problems() {
    let r = router();
    let unknown = VerificationId::from_random_bytes([9; 16]);
    send(&r, get(&format!("/v1/verify/{unknown}")))
        .await
        .problem(404, "verification-not-found");
    send(&r, get("/v1/verify/not-an-id"))
        .await
        .problem(404, "not-found");
    send(&r, get("/v1/verify/..%2F..%2Fetc"))
        .await
        .problem(404, "not-found");
    send(
        &r,
        post_json("/v1/start-liveness", &json!({"verificationId": "x"})),
    )
    .await
    .problem(400, "invalid-field");
    send(
        &r,
        post_json(
            "/v1/start-liveness",
            &json!({"verificationId": unknown.to_string()}),
        ),
    )
    .await
    .problem(404, "verification-not-found");
    send(&r, post_json("/v1/start-liveness", &json!({"id": 1})))
        .await
        .problem(400, "invalid-json");
    send(&r, post("/v1/start-liveness", "text/plain", "{}"))
        .await
        .problem(415, "unsupported-content-type");
    let del = Request::builder()
        .method(Method::DELETE)
        .uri(format!("/v1/verifications/{unknown}"))
        .body(Body::empty())
        .unwrap();
    send(&r, del).await.problem(404, "verification-not-found");
}

#[tokio::test]
async fn erasure_removes_the_verification() {
    let r = router();
    let up = upload(&r, &face("obama3.jpg"), &unique_key("erase")).await;
    let id = up.json()["verificationId"].as_str().unwrap().to_owned();
    let del = || {
        Request::builder()
            .method(Method::DELETE)
            .uri(format!("/v1/verifications/{id}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&r, del()).await.status, StatusCode::NO_CONTENT);
    assert_eq!(send(&r, del()).await.status, StatusCode::NO_CONTENT);
    send(&r, get(&format!("/v1/verify/{id}")))
        .await
        .problem(410, "verification-erased");
    let vid = VerificationId::parse(&id).unwrap();
    use handlers::service::Platform as _;
    use kyc_core::ports::DocumentStore as _;
    let stored = fixture()
        .service
        .platform()
        .objects()
        .get(&kyc_core::ports::ObjectKey::id_upload(&vid))
        .await
        .unwrap();
    assert!(stored.is_none(), "the document image survived erasure");
}

#[tokio::test]
async fn id_plus_selfie_matches_the_same_person_only() {
    let r = router();
    let ips = |a: &str, b: &str| {
        post_json(
            "/v1/ips",
            &json!({"source": b64(&face(a)), "target": b64(&face(b))}),
        )
    };
    let same = send(&r, ips("obama2.jpg", "obama.jpg")).await;
    assert_eq!(
        same.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&same.body)
    );
    assert_eq!(same.json()["match"], true);
    assert_eq!(same.json()["threshold"], 85.0);
    let other = send(&r, ips("biden.jpg", "obama.jpg")).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.json()["match"], false);
    assert!(other.json()["similarity"].as_f64().unwrap() < 85.0);
    send(
        &r,
        post_json("/v1/ips", &json!({"source": "!!", "target": "!!"})),
    )
    .await
    .problem(400, "invalid-base64");
}

#[tokio::test]
async fn the_jwks_lists_the_signing_key() {
    let a = send(&router(), get("/.well-known/jwks.json")).await;
    assert_eq!(a.status, StatusCode::OK);
    let keys = a.json()["keys"].as_array().unwrap().clone();
    assert!(!keys.is_empty());
    assert_eq!(keys[0]["kty"], "EC");
    assert_eq!(keys[0]["crv"], "P-256");
    assert!(
        keys[0].get("d").is_none(),
        "a private key must never be published"
    );
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let r = router();
    let req = Request::builder()
        .uri("/nope")
        .header("x-request-id", "client-id-123")
        .body(Body::empty())
        .unwrap();
    let a = send(&r, req).await;
    assert_eq!(a.headers.get("x-request-id").unwrap(), "client-id-123");
    assert_eq!(a.json()["requestId"], "client-id-123");
    let req = Request::builder()
        .uri("/healthz")
        .header("x-request-id", "bad id with spaces")
        .body(Body::empty())
        .unwrap();
    let a = send(&r, req).await;
    let id = a.headers.get("x-request-id").unwrap().to_str().unwrap();
    assert_ne!(id, "bad id with spaces");
    assert!(!id.is_empty());
}

#[tokio::test]
async fn cors_follows_the_configuration() {
    let r = router_with(&AppSettings {
        cors_origins: vec!["https://app.example.com".into()],
        ..AppSettings::default()
    });
    let pre = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/v1/upload-id")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(Body::empty())
            .unwrap()
    };
    let ok = send(&r, pre("https://app.example.com")).await;
    assert_eq!(
        ok.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
        "https://app.example.com"
    );
    let other = send(&r, pre("https://evil.example.net")).await;
    assert!(other
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
    // Without configuration there are no CORS headers at all.
    let none = send(&router(), pre("https://app.example.com")).await;
    assert!(none
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}

#[tokio::test]
async fn a_client_over_its_rate_limit_gets_429() {
    let r = router_with(&AppSettings {
        rate_limit: Some(RateLimit {
            per_second: 0.5,
            burst: 3.0,
            max_clients: 10,
        }),
        ..AppSettings::default()
    });
    for _ in 0..3 {
        assert_eq!(send(&r, get("/healthz")).await.status, StatusCode::OK);
    }
    let a = send(&r, get("/healthz")).await;
    a.problem(429, "rate-limited");
    assert!(a.headers.get(header::RETRY_AFTER).is_some());
}

/// The retention pass of `kyc serve` on its own platform (a purge in the future would take
/// the shared fixture's verifications with it): nothing of a live verification goes, and once
/// its session's retention has passed, the session and the image go (the record sooner).
#[tokio::test]
async fn the_retention_pass_purges_only_what_has_expired() {
    use handlers::local::{Retained, IMAGE_RETENTION};
    use handlers::service::Platform as _;
    use kyc_core::ports::{DocumentStore as _, ObjectKey};

    let dir = tempfile::tempdir().expect("temp dir");
    let platform = Arc::new(
        LocalPlatform::open(
            dir.path(),
            &LocalOptions {
                lists: Some(repo().join("../shared/data/sanctions")),
                durability: kyc_local::storage::Durability::Normal,
            },
        )
        .expect("the embedded platform starts"),
    );
    let config = ServiceConfig::new(platform.idempotency_secret(), "retention-test").unwrap();
    let service = Service::new(platform.clone(), config);
    let r = app::router(service.clone(), None, &AppSettings::default());
    let up = upload(&r, &document_jpeg(21), "retention-1").await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.json());
    let id = up.json()["verificationId"].as_str().unwrap().to_owned();
    let vid = VerificationId::parse(&id).unwrap();
    let key = ObjectKey::id_upload(&vid);
    assert!(
        service.read_document(&vid).await.unwrap(),
        "the document was read"
    );

    let purge = |at: kyc_core::model::Timestamp| {
        let p = platform.clone();
        async move {
            tokio::task::spawn_blocking(move || p.purge_expired(at))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let now = platform.now();
    assert_eq!(purge(now).await, Retained::default());
    let retention_ms = IMAGE_RETENTION.as_millis() as i64;
    // A day before the session's retention ends (it counts from the session's 30-minute
    // deadline), the session and the image are still there; the fields read (personal data,
    // kept 7 days) are gone.
    let early = purge(now.plus_millis(retention_ms - 24 * 3600 * 1000)).await;
    assert_eq!(early.sessions, 0, "{early:?}");
    assert_eq!(early.objects, 0, "{early:?}");
    assert_eq!(early.records, 1, "{early:?}");
    let got = send(&r, get(&format!("/v1/verify/{id}"))).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.json());
    assert!(platform.objects().get(&key).await.unwrap().is_some());

    let late = purge(now.plus_millis(retention_ms + 24 * 3600 * 1000)).await;
    assert_eq!(late.sessions, 1, "{late:?}");
    assert_eq!(late.records, 0, "{late:?}");
    assert!(late.objects >= 1, "{late:?}");
    assert!(
        platform.objects().get(&key).await.unwrap().is_none(),
        "the document image outlived its retention"
    );
    send(&r, get(&format!("/v1/verify/{id}")))
        .await
        .problem(404, "verification-not-found");
    // A second pass finds nothing more.
    assert_eq!(
        purge(now.plus_millis(retention_ms + 24 * 3600 * 1000)).await,
        Retained::default()
    );
}
