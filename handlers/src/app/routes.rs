//! The endpoint handlers: parse and validate, call the service, map the result. Request bodies
//! are read with an explicit limit and parsed here, so every failure is a problem document.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kyc_core::liveness::{ChallengeView, FrameId, Nonce, Progress};
use kyc_core::model::{Image, Timestamp, VerificationId};
use kyc_core::session::StepKey;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::{Problem, ProblemBody};
use super::App;
use crate::media::{self, Limits};
use crate::service::{view::rfc3339, Platform};

/// Body limit of the small JSON endpoints.
pub const SMALL_JSON: usize = 16 * 1024;

/// `POST /v1/upload-id` answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadResponse {
    /// The new verification (UUID).
    pub verification_id: String,
    /// Its deadline, RFC 3339.
    pub expires_at: String,
}

/// `POST /v1/upload-id` as JSON.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadJson {
    /// The document image, base64 (standard alphabet; a `data:image/...;base64,` prefix is
    /// accepted).
    pub image: String,
}

/// `POST /v1/start-liveness` request.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartLiveness {
    /// The verification.
    pub verification_id: String,
}

/// `POST /v1/start-liveness` answer.
#[derive(Serialize, ToSchema)]
pub struct StartLivenessResponse {
    /// The challenge: `nonce`, `gestures`, `expiresAt`, `minFrames`.
    #[schema(value_type = Object)]
    pub challenge: ChallengeView,
}

/// `POST /v1/submit-frame` request.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmitFrame {
    /// The verification.
    pub verification_id: String,
    /// The challenge nonce.
    pub nonce: String,
    /// The client's id for this frame (1–64 of `A-Za-z0-9_-`); resubmitting it is a no-op.
    pub frame_id: String,
    /// When the client captured the frame, RFC 3339.
    pub captured_at: String,
    /// The frame, JPEG or PNG, base64.
    pub image: String,
}

/// `POST /v1/submit-frame` answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmitFrameResponse {
    /// Always true (errors are problem documents).
    pub accepted: bool,
    /// Whether this frame id had been accepted before (nothing changed).
    pub replayed: bool,
    /// Progress: `gesturesSeen`, `gesturesTotal`, `nextGesture`, `framesAdmitted`,
    /// `framesNeeded`, `complete`.
    #[schema(value_type = Object)]
    pub progress: Progress,
    /// Whether the liveness step is finished (see `GET /v1/verify/{id}`).
    pub liveness_done: bool,
}

/// `POST /v1/ips` request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IpsRequest {
    /// The selfie, base64.
    pub source: String,
    /// The identity document, base64.
    pub target: String,
}

/// `POST /v1/ips` answer.
#[derive(Serialize, ToSchema)]
pub struct IpsResponse {
    /// Similarity 0–100.
    pub similarity: f32,
    /// Whether it reaches the threshold.
    #[serde(rename = "match")]
    pub matched: bool,
    /// The threshold.
    pub threshold: f32,
}

/// `GET /healthz` answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, Problem> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let over_limit = e
            .into_inner()
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some();
        if over_limit {
            Problem::too_large(limit)
        } else {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed-body",
                "The request body could not be read",
            )
        }
    })
}

fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, bytes: &[u8]) -> Result<T, Problem> {
    if !is_json(headers) {
        return Err(Problem::unsupported_content_type());
    }
    // Every request body is an object; serde's derive would also take an array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Problem::bad_json());
    }
    serde_json::from_slice(bytes).map_err(|_| Problem::bad_json())
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_json(headers: &HeaderMap) -> bool {
    content_type(headers) == "application/json"
}

fn verification_id(s: &str, field: &'static str) -> Result<VerificationId, Problem> {
    VerificationId::parse(s).map_err(|_| Problem::invalid_field(field))
}

fn declared_too_large(headers: &HeaderMap, limit: usize) -> Option<Problem> {
    let len = headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse::<u64>()
        .ok()?;
    (len > limit as u64).then(|| Problem::too_large(limit))
}

/// Upload an identity-document image.
#[utoipa::path(post, path = "/v1/upload-id", tag = "verification",
    request_body(description = "The document image: a raw `image/jpeg` or `image/png` body, `multipart/form-data` with an `image` part, or JSON `{\"image\": base64}`", content(
        (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (UploadJson = "application/json"))),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first answer")),
    responses(
        (status = 201, description = "Stored", body = UploadResponse),
        (status = 400, description = "Bad request", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "Too large", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG or PNG", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Image refused or key reused", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn upload_id<P: Platform>(
    State(app): State<Arc<App<P>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let limits = Limits::DOCUMENT;
    // base64 in JSON is 4/3 of the image; multipart adds headers.
    let limit = limits.max_bytes / 3 * 4 + 64 * 1024;
    if let Some(p) = declared_too_large(&headers, limit) {
        return Err(p);
    }
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .filter(|s| s.bytes().all(|b| b.is_ascii_graphic()))
                .and_then(|s| StepKey::parse(s).ok())
                .ok_or(Problem::invalid_field("Idempotency-Key"))?,
        ),
    };
    let ct = content_type(&headers);
    let raw = match ct.as_str() {
        "image/jpeg" | "image/png" => {
            let bytes = read_body(body, limits.max_bytes).await?;
            bytes.to_vec()
        }
        "application/json" => {
            let bytes = read_body(body, limit).await?;
            let req: UploadJson = parse_json(&headers, &bytes)?;
            media::decode_base64(&req.image, limits.max_bytes)?
        }
        "multipart/form-data" => multipart_image(&headers, body, limit).await?,
        _ => return Err(Problem::unsupported_content_type()),
    };
    let clean = media::sanitize(&raw, &limits)?;
    let uploaded = app
        .service
        .upload(clean.bytes, clean.info.kind.mime(), key)
        .await?;
    if !uploaded.replayed {
        if let Some(hook) = &app.on_upload {
            hook(uploaded.verification_id);
        }
    }
    let mut r = (
        StatusCode::CREATED,
        Json(UploadResponse {
            verification_id: uploaded.verification_id.to_string(),
            expires_at: rfc3339(uploaded.expires_at),
        }),
    )
        .into_response();
    if uploaded.replayed {
        r.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(r)
}

async fn multipart_image(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, Problem> {
    use axum::extract::FromRequest;
    use tower::{Layer as _, ServiceExt as _};
    let malformed = Problem::bad_multipart;
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::too_large(limit)
        } else {
            malformed()
        }
    };
    let mut req = axum::http::Request::new(body);
    *req.headers_mut() = headers.clone();
    // `Multipart` reads at most axum's default body limit (2 MiB) unless a `DefaultBodyLimit`
    // layer set another for the request: set this endpoint's.
    let extract = axum::extract::DefaultBodyLimit::max(limit).layer(tower::service_fn(
        |req: axum::extract::Request| async move {
            Ok::<_, std::convert::Infallible>(
                axum::extract::Multipart::from_request(req, &()).await,
            )
        },
    ));
    let mut mp = match extract.oneshot(req).await {
        Ok(Ok(mp)) => mp,
        _ => return Err(malformed()),
    };
    let mut total = 0usize;
    while let Some(field) = mp.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(failed)?;
        total = total.saturating_add(bytes.len());
        if total > limit {
            return Err(Problem::too_large(limit));
        }
        if matches!(name.as_str(), "image" | "document" | "file") {
            return Ok(bytes.to_vec());
        }
    }
    Err(Problem::invalid_field("image"))
}

/// Start (or restart) the liveness challenge.
#[utoipa::path(post, path = "/v1/start-liveness", tag = "verification",
    request_body = StartLiveness,
    responses(
        (status = 200, description = "The challenge", body = StartLivenessResponse),
        (status = 404, description = "Unknown verification", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Not in a state that allows it (e.g. the document is still being read: retry after `Retry-After`)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn start_liveness<P: Platform>(
    State(app): State<Arc<App<P>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StartLivenessResponse>, Problem> {
    let bytes = read_body(body, SMALL_JSON).await?;
    let req: StartLiveness = parse_json(&headers, &bytes)?;
    let id = verification_id(&req.verification_id, "verificationId")?;
    let challenge = app.service.start_liveness(&id).await?;
    Ok(Json(StartLivenessResponse { challenge }))
}

/// Submit one webcam frame for the open challenge.
#[utoipa::path(post, path = "/v1/submit-frame", tag = "verification",
    request_body = SubmitFrame,
    responses(
        (status = 202, description = "Accepted (or replayed)", body = SubmitFrameResponse),
        (status = 409, description = "Stale nonce, expired or wrong state", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Frame refused", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn submit_frame<P: Platform>(
    State(app): State<Arc<App<P>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let limits = Limits::FRAME;
    let limit = limits.max_bytes / 3 * 4 + 4096;
    if let Some(p) = declared_too_large(&headers, limit) {
        return Err(p);
    }
    let bytes = read_body(body, limit).await?;
    let req: SubmitFrame = parse_json(&headers, &bytes)?;
    let id = verification_id(&req.verification_id, "verificationId")?;
    let nonce = Nonce::parse(&req.nonce).map_err(|_| Problem::invalid_field("nonce"))?;
    let frame_id = FrameId::parse(&req.frame_id).map_err(|_| Problem::invalid_field("frameId"))?;
    let captured_at =
        parse_rfc3339(&req.captured_at).ok_or(Problem::invalid_field("capturedAt"))?;
    let raw = media::decode_base64(&req.image, limits.max_bytes)?;
    let clean = media::sanitize(&raw, &limits)?;
    let r = app
        .service
        .submit_frame(
            &id,
            &nonce,
            &frame_id,
            captured_at,
            clean.bytes,
            clean.info.kind.mime(),
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SubmitFrameResponse {
            accepted: true,
            replayed: r.replayed,
            progress: r.progress,
            liveness_done: r.liveness_done,
        }),
    )
        .into_response())
}

/// The decision document.
#[utoipa::path(get, path = "/v1/verify/{verificationId}", tag = "verification",
    params(("verificationId" = String, Path, description = "The verification id")),
    responses(
        (status = 200, description = "The decision document: `verificationId`, `status` (approved, rejected, review, pending), `reasons`, `policyVersion`, `state`, `expiresAt`, `document`, `liveness`, `faceMatch`, `sanctions`, and `token` when approved", body = Object),
        (status = 404, description = "Unknown verification", body = ProblemBody, content_type = "application/problem+json"),
        (status = 410, description = "Erased", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn verify<P: Platform>(
    State(app): State<Arc<App<P>>>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = VerificationId::parse(&id).map_err(|_| Problem::not_found())?;
    let doc = app.service.verification(&id).await?;
    let mut r = Json(doc).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Compare a selfie with an identity document ("ID plus selfie").
#[utoipa::path(post, path = "/v1/ips", tag = "face",
    request_body = IpsRequest,
    responses(
        (status = 200, description = "The comparison", body = IpsResponse),
        (status = 422, description = "No face, several faces or poor quality", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn ips<P: Platform>(
    State(app): State<Arc<App<P>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IpsResponse>, Problem> {
    let limits = Limits::DOCUMENT;
    let limit = 2 * (limits.max_bytes / 3 * 4) + 4096;
    if let Some(p) = declared_too_large(&headers, limit) {
        return Err(p);
    }
    let bytes = read_body(body, limit).await?;
    let req: IpsRequest = parse_json(&headers, &bytes)?;
    let selfie = media::sanitize(
        &media::decode_base64(&req.source, limits.max_bytes)?,
        &limits,
    )?;
    let document = media::sanitize(
        &media::decode_base64(&req.target, limits.max_bytes)?,
        &limits,
    )?;
    let image = |b: Vec<u8>| {
        Image::parse(b, usize::MAX)
            .map_err(|_| Problem::from(crate::media::MediaError::UnsupportedType))
    };
    let r = app
        .service
        .compare(&image(selfie.bytes)?, &image(document.bytes)?)
        .await?;
    Ok(Json(IpsResponse {
        similarity: r.similarity,
        matched: r.matched,
        threshold: r.threshold,
    }))
}

/// Erase a verification's images and personal data.
#[utoipa::path(delete, path = "/v1/verifications/{verificationId}", tag = "verification",
    params(("verificationId" = String, Path, description = "The verification id")),
    responses(
        (status = 204, description = "Erased (also when it already was)"),
        (status = 404, description = "Unknown verification", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn erase<P: Platform>(
    State(app): State<Arc<App<P>>>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id = VerificationId::parse(&id).map_err(|_| Problem::not_found())?;
    app.service.erase(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The public keys of verification tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "tokens",
    responses((status = 200, description = "A JWK set (ES256 keys)", body = Object)))]
pub async fn jwks<P: Platform>(State(app): State<Arc<App<P>>>) -> Result<Response, Problem> {
    let set = app
        .service
        .platform()
        .jwks()
        .await
        .map_err(crate::service::ServiceError::from)?;
    let mut r = Json(set).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(r)
}

/// Liveness of the process.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "Up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)` → a timestamp (milliseconds).
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 || b.len() > 40 || !s.is_ascii() {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let date = kyc_core::model::Date::parse(s.get(0..10)?).ok()?;
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == start {
            return None;
        }
        let frac = s.get(start..end.min(start + 3))?;
        ms = frac.parse::<i64>().ok()? * 10i64.pow(3 - u32::try_from(frac.len()).ok()?);
        i = end;
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if *sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    let days = date.days_since_epoch();
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec.min(59) - offset_min * 60;
    Some(Timestamp::from_millis(
        secs.checked_mul(1000)?.checked_add(ms)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_with_offsets_and_fractions() {
        let t = parse_rfc3339("2026-11-21T10:00:00Z").unwrap();
        assert_eq!(rfc3339(t), "2026-11-21T10:00:00.000Z");
        assert_eq!(
            parse_rfc3339("2026-11-21T11:00:00.5+01:00")
                .unwrap()
                .millis(),
            t.millis() + 500
        );
        assert_eq!(
            parse_rfc3339("2026-11-21T09:30:00.123456-00:30")
                .unwrap()
                .millis(),
            t.millis() + 123
        );
    }

    #[test]
    fn malformed_times_are_refused() {
        for s in [
            "",
            "2026-11-21",
            "2026-11-21T25:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-21T10:00:00",
            "2026-11-21T10:00:00.Z",
            "2026-11-21T10:00:00+1:00",
            "２０２６-11-21T10:00:00Z",
            "2026-11-21T10:00:00Zjunk",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s:?}");
        }
    }
}
