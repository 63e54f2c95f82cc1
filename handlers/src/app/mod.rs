//! The HTTP application: one axum router over a [`Service`], the same under `kyc serve` (the
//! embedded platform) and inside Lambda (`lambda_http`, the AWS platform).
//!
//! Cross-cutting layers, outermost first: a request id (`x-request-id`, taken from the client
//! when it is a short token, else generated) that every log line of the request carries and
//! every problem document repeats; a trace span per request (method, route template, status,
//! latency — never the path's ids or any body); panics caught as a 500 problem; CORS from
//! configuration; optional per-client rate limiting, an optional bound on each request's
//! time, a slow body included (408 past it), and an optional bound on `POST`s in progress (503
//! past it; all three in `kyc serve`). Unknown routes and methods answer problem documents too.

pub mod openapi;
pub mod problem;
mod ratelimit;
pub mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use kyc_core::model::VerificationId;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use problem::Problem;
pub use ratelimit::RateLimit;

use crate::service::{Platform, Service};

/// What happens after a new upload (the embedded server queues the document for reading; in
/// AWS the S3 event does it and there is no hook).
pub type UploadHook = Arc<dyn Fn(VerificationId) + Send + Sync>;

/// Settings of the HTTP layer.
#[derive(Clone, Debug, Default)]
pub struct AppSettings {
    /// Origins allowed by CORS (exact, e.g. `https://app.example.com`); empty: no CORS
    /// headers (same-origin only). `*` allows any origin (no credentials are used).
    pub cors_origins: Vec<String>,
    /// Per-client rate limit, if any.
    pub rate_limit: Option<RateLimit>,
    /// The page served at `/` (the embedded server's), if any.
    pub index_html: Option<&'static str>,
    /// How long a request may take, from its headers to its answer (reading a slow body
    /// included): past it, a 408 problem. `None`: no bound (Lambda, where API Gateway bounds
    /// requests).
    pub request_timeout: Option<std::time::Duration>,
    /// How many requests with a body (`POST`) may be in progress at once; more get a 503
    /// `overloaded` problem with `Retry-After`. This bounds the memory bodies can take (each is
    /// read whole, up to its endpoint's limit). `None`: no bound (Lambda: one request per
    /// instance).
    pub max_body_requests: Option<usize>,
}

/// The state every handler shares.
pub struct App<P: Platform> {
    /// The verification service.
    pub service: Service<P>,
    /// Called after a new (not replayed) upload.
    pub on_upload: Option<UploadHook>,
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The router with every endpoint and layer.
pub fn router<P: Platform>(
    service: Service<P>,
    on_upload: Option<UploadHook>,
    settings: &AppSettings,
) -> Router {
    let app = Arc::new(App { service, on_upload });
    let mut r = Router::new()
        .route("/v1/upload-id", post(routes::upload_id::<P>))
        .route("/v1/start-liveness", post(routes::start_liveness::<P>))
        .route("/v1/submit-frame", post(routes::submit_frame::<P>))
        .route("/v1/verify/{id}", get(routes::verify::<P>))
        .route("/v1/ips", post(routes::ips::<P>))
        .route("/v1/verifications/{id}", delete(routes::erase::<P>))
        .route("/.well-known/jwks.json", get(routes::jwks::<P>))
        .route("/healthz", get(routes::healthz))
        .route("/openapi.json", get(openapi::serve));
    if let Some(page) = settings.index_html {
        r = r.route("/", get(move || async move { Html(page) }));
    }
    let mut r = r
        .fallback(|| async { Problem::not_found() })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "This method is not allowed on this resource",
            )
        })
        .with_state(app)
        .layer(CatchPanicLayer::custom(|_| {
            Problem::internal().into_response()
        }));
    if let Some(limit) = settings.request_timeout {
        r = r.layer(middleware::from_fn_with_state(limit, request_timeout));
    }
    if let Some(n) = settings.max_body_requests {
        let slots = Arc::new(tokio::sync::Semaphore::new(n.max(1)));
        r = r.layer(middleware::from_fn_with_state(slots, body_requests));
    }
    if let Some(limit) = settings.rate_limit.clone() {
        r = r.layer(middleware::from_fn_with_state(
            Arc::new(ratelimit::Limiter::new(limit)),
            ratelimit::layer,
        ));
    }
    if let Some(cors) = cors(&settings.cors_origins) {
        r = r.layer(cors);
    }
    r.layer(middleware::from_fn(request_context))
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
                REQUEST_ID.clone(),
            ])
            .expose_headers([REQUEST_ID.clone(), header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Answers 408 when the request (a slow body, a stalled client) takes longer than `limit`.
/// The handler's future is dropped, as when a client disconnects.
async fn request_timeout(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    req: Request,
    next: middleware::Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "request-timeout",
            "The request took too long",
        )
        .into_response(),
    }
}

/// Admits a `POST` only while fewer than the configured number are in progress; sheds the
/// rest with a 503 problem rather than queueing their bodies in memory. Other methods carry no
/// body and pass (health checks keep answering under load).
async fn body_requests(
    axum::extract::State(slots): axum::extract::State<Arc<tokio::sync::Semaphore>>,
    req: Request,
    next: middleware::Next,
) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    match slots.try_acquire() {
        Ok(_slot) => next.run(req).await,
        Err(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "Too many requests are in progress; retry shortly",
        )
        .retry_after(1)
        .into_response(),
    }
}

/// The client's address, when the server knows it (`kyc serve` does; Lambda does not).
pub fn client_addr(req: &Request) -> Option<SocketAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// Request id (in scope for problem documents), trace span and the request's log line.
async fn request_context(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|s| {
            (1..=64).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(new_request_id, str::to_owned);
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID.clone(), v);
    }
    let method = req.method().clone();
    let route = route_template(req.uri().path());
    let span = tracing::info_span!("request", request_id = %id, %method, route = %route);
    let start = Instant::now();
    let mut response = problem::REQUEST_ID
        .scope(
            id.clone(),
            tracing::Instrument::instrument(next.run(req), span.clone()),
        )
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), v);
    }
    let status = response.status().as_u16();
    let _enter = span.enter();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(status, ms, "request failed");
    } else {
        tracing::info!(status, ms, "request");
    }
    response
}

/// The route of a path for log lines: the template of a known route (a path may hold a
/// verification id, which is not personal but is a capability), else `(unmatched)` (an unknown
/// path is whatever the client typed).
fn route_template(path: &str) -> &'static str {
    const ROUTES: [&str; 8] = [
        "/",
        "/v1/upload-id",
        "/v1/start-liveness",
        "/v1/submit-frame",
        "/v1/ips",
        "/.well-known/jwks.json",
        "/healthz",
        "/openapi.json",
    ];
    if let Some(r) = ROUTES.iter().find(|r| **r == path) {
        return r;
    }
    if path.starts_with("/v1/verify/") {
        return "/v1/verify/{id}";
    }
    if path.starts_with("/v1/verifications/") {
        return "/v1/verifications/{id}";
    }
    "(unmatched)"
}

fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    format!("{:x}-{:x}-{n:x}", t, std::process::id())
}

#[cfg(test)]
mod tests {
    use super::route_template;

    #[test]
    fn log_lines_name_routes_never_ids_or_unknown_paths() {
        assert_eq!(route_template("/v1/upload-id"), "/v1/upload-id");
        assert_eq!(route_template("/healthz"), "/healthz");
        assert_eq!(
            route_template("/v1/verify/01010101-0101-4101-8101-010101010101"),
            "/v1/verify/{id}"
        );
        assert_eq!(
            route_template("/v1/verifications/x"),
            "/v1/verifications/{id}"
        );
        assert_eq!(route_template("/v1/upload-id/SECRET"), "(unmatched)");
        assert_eq!(route_template("/wp-admin?q=SECRET"), "(unmatched)");
    }
}
