//! The API function's service (`lambda_http` request → stage stripped → the router) driven
//! with API Gateway REST proxy events, and the three functions carrying one verification from
//! upload to screening on the in-memory platform.
#![cfg(feature = "aws")]

use base64::Engine as _;
use handlers::lambda::{api, ocr, sanctions};
use handlers::service::Service;
use handlers::testing::TestPlatform;
use serde_json::{json, Value};
use tower::ServiceExt as _;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn fixture_text(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/lambda/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The REST proxy fixture turned into another request of the same shape.
fn rest_event(method: &str, path: &str, content_type: Option<&str>, body: Option<&[u8]>) -> Value {
    let mut e: Value = serde_json::from_str(&fixture_text("apigw-rest-healthz.json")).unwrap();
    e["httpMethod"] = json!(method);
    e["path"] = json!(path);
    e["resource"] = json!("/{proxy+}");
    e["pathParameters"] = json!({"proxy": path.trim_start_matches('/')});
    e["requestContext"]["httpMethod"] = json!(method);
    e["requestContext"]["resourcePath"] = json!("/{proxy+}");
    e["requestContext"]["path"] = json!(format!("/prod{path}"));
    if let Some(ct) = content_type {
        e["headers"]["Content-Type"] = json!(ct);
        e["multiValueHeaders"]["Content-Type"] = json!([ct]);
    }
    if let Some(b) = body {
        e["body"] = json!(base64::engine::general_purpose::STANDARD.encode(b));
        e["isBase64Encoded"] = json!(true);
    }
    e
}

/// Sends an API Gateway event through the function's service; the status and the JSON body.
async fn call(service: &Service<TestPlatform>, event: &Value) -> (u16, Option<String>, Value) {
    let request = lambda_http::request::from_str(&event.to_string()).expect("a proxy event");
    let router = api::router(service.clone(), &api::settings(None));
    let response = api::service(router).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, content_type, body)
}

/// A real 320 × 240 greyscale JPEG.
fn jpeg() -> Vec<u8> {
    let pixels: Vec<u8> = (0..320u32 * 240).map(|i| (i % 251) as u8).collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode(&pixels, 320, 240, image::ColorType::L8)
        .unwrap();
    out
}

#[test]
fn the_rest_healthz_event_answers_200_through_the_prod_stage() {
    let service = TestPlatform::new().into_service();
    block_on(async {
        let event: Value = serde_json::from_str(&fixture_text("apigw-rest-healthz.json")).unwrap();
        let (status, _, body) = call(&service, &event).await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({"status": "ok"}));
    });
}

#[test]
fn unknown_routes_and_ids_answer_problem_documents() {
    let service = TestPlatform::new().into_service();
    block_on(async {
        let (status, ct, body) =
            call(&service, &rest_event("GET", "/v1/nothing", None, None)).await;
        assert_eq!(status, 404);
        assert_eq!(ct.as_deref(), Some("application/problem+json"));
        assert!(body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:kyc-kit:problem:"));
        let unknown = "/v1/verify/0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3";
        let (status, _, _) = call(&service, &rest_event("GET", unknown, None, None)).await;
        assert_eq!(status, 404);
    });
}

#[test]
fn the_three_functions_carry_a_verification_from_upload_to_screening() {
    let service = TestPlatform::new().into_service();
    block_on(async {
        let upload = rest_event("POST", "/v1/upload-id", Some("image/jpeg"), Some(&jpeg()));
        let (status, _, body) = call(&service, &upload).await;
        assert_eq!(status, 201, "{body}");
        let id = body["verificationId"].as_str().unwrap().to_owned();

        let s3 = fixture_text("s3-object-created.json")
            .replace("11111111-1111-4111-8111-111111111111", &id);
        let report = ocr::handle_json(&service, serde_json::from_str(&s3).unwrap())
            .await
            .unwrap();
        assert_eq!(report.read, 1);

        let stream = fixture_text("dynamodb-ocr-batch.json")
            .replace("11111111-1111-4111-8111-111111111111", &id);
        let report = sanctions::handle(&service, serde_json::from_str(&stream).unwrap()).await;
        assert!(report.response.batch_item_failures.is_empty());

        let (status, _, doc) = call(
            &service,
            &rest_event("GET", &format!("/v1/verify/{id}"), None, None),
        )
        .await;
        assert_eq!(status, 200, "{doc}");
        assert_eq!(doc["state"], "documentRead");
        assert_eq!(doc["status"], "pending");
        assert_eq!(doc["sanctions"]["status"], "clear");
        assert_eq!(
            doc["document"]["mrz"]["fields"]["documentNumber"],
            "L898902C3"
        );
        assert_eq!(doc["document"]["mrz"]["valid"], true);
    });
}
