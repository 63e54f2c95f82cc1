//! The API function: the HTTP application's router behind `lambda_http`, which turns API
//! Gateway proxy events into HTTP requests and the responses back into proxy responses.
//!
//! API Gateway REST events carry the stage (`prod`) in their request context, and
//! `lambda_http` puts it in front of the path (`/prod/healthz`) unless
//! `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set. The router's routes have no stage, so
//! [`strip_stage`] takes it off again: the function answers the same whether or not the
//! variable is set, and under a custom domain (no stage in the path) too.

use std::convert::Infallible;

use axum::Router;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt as _;

use crate::app::{self, AppSettings};
use crate::service::{Platform, Service};

/// The environment variable listing the API's CORS origins, comma-separated.
pub const CORS_VARIABLE: &str = "KYC_CORS_ORIGINS";

/// The CORS origins from a value of [`CORS_VARIABLE`]: comma-separated, blanks dropped.
///
/// ```
/// use handlers::lambda::api::cors_origins;
/// assert_eq!(cors_origins(" https://a.example, ,https://b.example"), vec!["https://a.example", "https://b.example"]);
/// assert!(cors_origins("").is_empty());
/// ```
pub fn cors_origins(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The HTTP layer's settings in Lambda: CORS origins from [`CORS_VARIABLE`]'s value; no
/// per-client rate limit (the stack's usage plan and WAF throttle in front of the function;
/// an instance serves one request at a time), no request timeout (API Gateway's integration
/// timeout and the function's own bound it) and no index page.
pub fn settings(cors: Option<&str>) -> AppSettings {
    AppSettings {
        cors_origins: cors.map(cors_origins).unwrap_or_default(),
        rate_limit: None,
        index_html: None,
        request_timeout: None,
        max_body_requests: None,
    }
}

/// The API function's router: the HTTP application over `service`, with no upload hook (the
/// S3 event starts the reading).
pub fn router<P: Platform>(service: Service<P>, settings: &AppSettings) -> Router {
    app::router(service, None, settings)
}

/// The request's API Gateway stage, unless it is the default one.
fn stage(req: &lambda_http::Request) -> Option<String> {
    let stage = match req.request_context_ref()? {
        RequestContext::ApiGatewayV1(c) => c.stage.clone(),
        RequestContext::ApiGatewayV2(c) => c.stage.clone(),
        // ALB and WebSocket contexts, when their features are on, have no stage in the path.
        #[allow(unreachable_patterns)]
        _ => None,
    }?;
    (!stage.is_empty() && stage != "$default").then_some(stage)
}

/// Removes the API Gateway stage from the front of the request's path (`/prod/v1/ips` →
/// `/v1/ips`, `/prod` → `/`); other requests are unchanged.
pub fn strip_stage(mut req: lambda_http::Request) -> lambda_http::Request {
    let Some(stage) = stage(&req) else {
        return req;
    };
    let uri = req.uri();
    let path = uri.path();
    let prefix = format!("/{stage}");
    let rest = match path.strip_prefix(&prefix) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => return req,
    };
    let path_and_query = match uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    match path_and_query.parse() {
        Ok(pq) => parts.path_and_query = Some(pq),
        Err(_) => return req,
    }
    if let Ok(new_uri) = axum::http::Uri::from_parts(parts) {
        *req.uri_mut() = new_uri;
    }
    req
}

/// The router as the service `lambda_http::run` drives: stage stripped, then routed.
pub fn service(
    router: Router,
) -> impl tower::Service<
    lambda_http::Request,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::ServiceBuilder::new()
        .map_request(strip_stage)
        .service(router)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rest_event(stage: &str, path: &str) -> lambda_http::Request {
        let json = serde_json::json!({
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": "GET",
            "headers": {"Host": "abc.execute-api.eu-west-1.amazonaws.com"},
            "multiValueHeaders": {},
            "queryStringParameters": {"a": "1"},
            "multiValueQueryStringParameters": {"a": ["1"]},
            "pathParameters": {"proxy": path.trim_start_matches('/')},
            "stageVariables": null,
            "requestContext": {
                "accountId": "123456789012", "resourceId": "r1", "stage": stage,
                "requestId": "req-1", "identity": {"sourceIp": "198.51.100.1"},
                "resourcePath": "/{proxy+}", "httpMethod": "GET", "apiId": "abc",
                "path": format!("/{stage}{path}")
            },
            "body": null,
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&json.to_string()).unwrap()
    }

    #[test]
    fn the_rest_stage_is_taken_off_the_path_and_the_query_kept() {
        let req = strip_stage(rest_event("prod", "/healthz"));
        assert_eq!(req.uri().path(), "/healthz");
        assert_eq!(req.uri().query(), Some("a=1"));
        let req = strip_stage(rest_event("prod", "/v1/verify/x"));
        assert_eq!(req.uri().path(), "/v1/verify/x");
    }

    #[test]
    fn paths_that_merely_start_like_the_stage_are_left_alone() {
        // lambda_http put the stage in front: taken off again.
        let req = strip_stage(rest_event("prod", "/production"));
        assert_eq!(req.uri().path(), "/production");
        // Without the stage in front (AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH): unchanged.
        let mut req = rest_event("prod", "/production");
        *req.uri_mut() = "/production".parse().unwrap();
        assert_eq!(strip_stage(req).uri().path(), "/production");
        let mut req = rest_event("prod", "/x");
        *req.uri_mut() = "/prod".parse().unwrap();
        assert_eq!(strip_stage(req).uri().path(), "/");
        let plain = lambda_http::Request::new(lambda_http::Body::Empty);
        assert_eq!(strip_stage(plain).uri().path(), "/");
    }
}
