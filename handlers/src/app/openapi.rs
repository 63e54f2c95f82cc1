//! The OpenAPI document, generated from the handlers' annotations and the request and
//! response types (utoipa), served at `/openapi.json` and snapshot-tested.

use axum::Json;
use utoipa::OpenApi;

use super::problem::ProblemBody;
use super::routes;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "kyc-kit",
        description = "Identity verification: document upload and reading, liveness challenges, face match, sanctions screening, decisions and signed verification tokens. Errors are `application/problem+json` (RFC 9457) with a stable `type` (`urn:kyc-kit:problem:<code>`).",
        license(name = "Apache-2.0")
    ),
    paths(
        routes::upload_id,
        routes::start_liveness,
        routes::submit_frame,
        routes::verify,
        routes::ips,
        routes::erase,
        routes::jwks,
        routes::healthz,
    ),
    components(schemas(
        ProblemBody,
        routes::UploadResponse,
        routes::UploadJson,
        routes::StartLiveness,
        routes::StartLivenessResponse,
        routes::SubmitFrame,
        routes::SubmitFrameResponse,
        routes::IpsRequest,
        routes::IpsResponse,
        routes::Health,
    ))
)]
pub struct ApiDoc;

/// The document as JSON.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// `GET /openapi.json`.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
