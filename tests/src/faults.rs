//! A loopback HTTP proxy that stands between an SDK client and LocalStack and injects faults:
//! throttling answers, 5xx answers and dropped connections, either *before* forwarding (the
//! backend never sees the request) or *after* forwarding (the backend applied it, the client
//! sees a failure: the ambiguous case retries must survive).
//!
//! Requests are forwarded unchanged, `Host` included, so SigV4 signatures (which cover the
//! host the client signed for: the proxy's) still verify in LocalStack.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

type Body = http_body_util::combinators::BoxBody<Bytes, hyper::Error>;

/// Which requests a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    /// Every request.
    Any,
    /// JSON-protocol operations whose `X-Amz-Target` ends with `.{op}` (e.g. `PutItem`).
    Target(&'static str),
    /// Requests with this method (e.g. `PUT` for S3 uploads).
    Method(http::Method),
}

impl Matcher {
    fn matches<B>(&self, req: &Request<B>) -> bool {
        match self {
            Self::Any => true,
            Self::Target(op) => req
                .headers()
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.rsplit('.').next() == Some(op)),
            Self::Method(m) => req.method() == m,
        }
    }
}

/// A fault to inject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status, content type and body instead of forwarding.
    Answer {
        /// HTTP status.
        status: u16,
        /// `Content-Type` of the body.
        content_type: &'static str,
        /// The body.
        body: String,
    },
    /// Forward the request (the backend applies it), then answer with this status instead of
    /// the backend's answer.
    AnswerAfterForwarding {
        /// HTTP status.
        status: u16,
        /// `Content-Type` of the body.
        content_type: &'static str,
        /// The body.
        body: String,
    },
    /// Close the connection without answering (before forwarding).
    Drop,
}

impl Fault {
    /// DynamoDB throttling: 400 `ProvisionedThroughputExceededException`.
    pub fn dynamodb_throttling() -> Self {
        Self::Answer {
            status: 400,
            content_type: "application/x-amz-json-1.0",
            body: r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#.to_owned(),
        }
    }

    /// A JSON-protocol 500 `InternalServerError` (DynamoDB, KMS, SNS…).
    pub fn json_internal_error() -> Self {
        Self::Answer {
            status: 500,
            content_type: "application/x-amz-json-1.0",
            body: r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#.to_owned(),
        }
    }

    /// The same 500, but only after the backend applied the request.
    pub fn json_internal_error_after_forwarding() -> Self {
        match Self::json_internal_error() {
            Self::Answer {
                status,
                content_type,
                body,
            } => Self::AnswerAfterForwarding {
                status,
                content_type,
                body,
            },
            other => other,
        }
    }

    /// S3 throttling: 503 `SlowDown`.
    pub fn s3_slow_down() -> Self {
        Self::Answer {
            status: 503,
            content_type: "application/xml",
            body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>".to_owned(),
        }
    }

    /// S3 500 `InternalError`.
    pub fn s3_internal_error() -> Self {
        Self::Answer {
            status: 500,
            content_type: "application/xml",
            body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>FAULT</RequestId></Error>".to_owned(),
        }
    }
}

/// What the proxy has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received.
    pub received: u64,
    /// Requests forwarded to the backend (including those answered with a fault afterwards).
    pub forwarded: u64,
    /// Faults injected.
    pub injected: u64,
}

#[derive(Debug)]
struct Rule {
    matcher: Matcher,
    fault: Fault,
    remaining: Option<u64>,
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<Rule>,
    stats: Stats,
}

/// The proxy. It runs on the Tokio runtime it was started on until that runtime ends.
#[derive(Clone)]
pub struct FaultProxy {
    /// The proxy's endpoint, to give SDK clients instead of the backend's.
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let upstream: Arc<str> = Arc::from(upstream.trim_end_matches('/'));
        let state = Arc::new(Mutex::new(State::default()));
        let client: Client<_, Incoming> = Client::builder(TokioExecutor::new()).build_http();
        let st = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (st, upstream, client) = (st.clone(), upstream.clone(), client.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let (st, upstream, client) = (st.clone(), upstream.clone(), client.clone());
                        async move { handle(req, &st, &upstream, &client).await }
                    });
                    // A dropped connection ends here with an error; that is the point.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { endpoint, state })
    }

    /// Injects `fault` into the next `times` matching requests.
    pub fn inject(&self, matcher: Matcher, fault: Fault, times: u64) {
        self.lock().rules.push(Rule {
            matcher,
            fault,
            remaining: Some(times),
        });
    }

    /// Injects `fault` into every matching request until [`clear`](Self::clear).
    pub fn inject_always(&self, matcher: Matcher, fault: Fault) {
        self.lock().rules.push(Rule {
            matcher,
            fault,
            remaining: None,
        });
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// What the proxy has done so far.
    pub fn stats(&self) -> Stats {
        self.lock().stats
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn answer(status: u16, content_type: &'static str, body: String) -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    r
}

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

async fn handle(
    req: Request<Incoming>,
    state: &Mutex<State>,
    upstream: &str,
    client: &Client<hyper_util::client::legacy::connect::HttpConnector, Incoming>,
) -> Result<Response<Body>, Dropped> {
    let fault = {
        let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
        st.stats.received += 1;
        let hit = st
            .rules
            .iter_mut()
            .find(|r| r.remaining != Some(0) && r.matcher.matches(&req));
        let fault = hit.map(|r| {
            if let Some(n) = r.remaining.as_mut() {
                *n -= 1;
            }
            r.fault.clone()
        });
        if fault.is_some() {
            st.stats.injected += 1;
        }
        if !matches!(fault, Some(Fault::Answer { .. } | Fault::Drop)) {
            st.stats.forwarded += 1;
        }
        fault
    };
    match fault {
        Some(Fault::Answer {
            status,
            content_type,
            body,
        }) => {
            // Read the request body first so the client is not cut off mid-upload.
            let _ = req.into_body().collect().await;
            Ok(answer(status, content_type, body))
        }
        Some(Fault::Drop) => Err(Dropped),
        after => {
            let (mut parts, body) = req.into_parts();
            let path = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".to_owned());
            parts.uri = match format!("{upstream}{path}").parse() {
                Ok(uri) => uri,
                Err(_) => return Ok(answer(502, "text/plain", "bad upstream URI".to_owned())),
            };
            let resp = match client.request(Request::from_parts(parts, body)).await {
                Ok(resp) => resp,
                Err(_) => return Ok(answer(502, "text/plain", "upstream unreachable".to_owned())),
            };
            if let Some(Fault::AnswerAfterForwarding {
                status,
                content_type,
                body,
            }) = after
            {
                let _ = resp.into_body().collect().await;
                return Ok(answer(status, content_type, body));
            }
            Ok(resp.map(BodyExt::boxed))
        }
    }
}
