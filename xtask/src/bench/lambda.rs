//! `cargo xtask bench lambda`: the API Lambda binary's `bootstrap` zip size and its time from
//! process start to ready, measured against a mock Lambda Runtime API on loopback (see the
//! module docs of `bench` for the flags).
//!
//! "Ready" is the moment the binary first asks the Runtime API for work
//! (`GET /2018-06-01/runtime/invocation/next`): the platform would hand it the first event
//! then. Each run proves that moment real by answering with an API Gateway REST proxy event for
//! `GET /healthz` and requiring a 200 response posted back to
//! `/2018-06-01/runtime/invocation/{id}/response`. The binary runs with a cleared environment
//! holding only what Lambda sets ([`LAMBDA_ENV`] plus the per-run values) and
//! `AWS_ENDPOINT_URL` pointing at the mock, so it cannot reach AWS; any request it makes
//! besides the Runtime API's is listed in the output.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use super::load::{ms, Summary};
use super::{build_binary, verdict, Flags, Running, TempDir};

/// The API Lambda binary of the `handlers` crate.
pub const API_BIN: &str = "api";
/// How it is built for the benchmark (for this machine, so it can run here; `cargo xtask dist`
/// builds the same binary for arm64).
pub const API_BUILD: &[&str] = &[
    "build",
    "--profile",
    "lambda",
    "--locked",
    "-p",
    "handlers",
    "--no-default-features",
    "--features",
    "aws",
    "--bin",
    API_BIN,
];

/// The environment Lambda gives the API function (`provided.al2023`, the stack's `dev`
/// settings), with fake credentials. The benchmark adds `AWS_LAMBDA_RUNTIME_API`,
/// `AWS_ENDPOINT_URL` (the mock) and `LAMBDA_TASK_ROOT` (the directory holding `bootstrap`).
/// Extend it as the function's configuration grows (stackgen's `functions.rs` sets the
/// `KYC_*` variables).
pub const LAMBDA_ENV: &[(&str, &str)] = &[
    ("AWS_LAMBDA_FUNCTION_NAME", "kyc-dev-api"),
    ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
    ("AWS_LAMBDA_LOG_GROUP_NAME", "/kyc/dev/api"),
    (
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
    ),
    ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
    ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
    ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
    ("_HANDLER", "bootstrap"),
    ("AWS_REGION", "eu-west-1"),
    ("AWS_DEFAULT_REGION", "eu-west-1"),
    ("AWS_ACCESS_KEY_ID", "AKIDBENCHMARKFAKE000"),
    ("AWS_SECRET_ACCESS_KEY", "benchmark-fake-secret-key"),
    ("AWS_SESSION_TOKEN", "benchmark-fake-session-token"),
    ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
    ("LANG", "en_US.UTF-8"),
    ("TZ", ":UTC"),
    ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
    ("KYC_ENV", "dev"),
    ("KYC_METRICS_NAMESPACE", "KYC/dev"),
    ("KYC_PARAMETER_PATH", "/kyc/dev/"),
    // The resource names as variables (`handlers::aws::env_name`): with every required one
    // set, the function reads no SSM parameter at cold start.
    ("KYC_BUCKETS_ID_UPLOADS", "kyc-dev-id-uploads-123456789012"),
    (
        "KYC_BUCKETS_LIVE_FRAMES",
        "kyc-dev-live-frames-123456789012",
    ),
    ("KYC_BUCKETS_OCR_RAW", "kyc-dev-ocr-raw-123456789012"),
    ("KYC_TABLES_AUDIT_LOG", "kyc-dev-KycAuditLog"),
    ("KYC_TABLES_OCR_DATA", "kyc-dev-KycOcrData"),
    ("KYC_TABLES_SESSIONS", "kyc-dev-sessions"),
    ("KYC_TABLES_TASKS", "kyc-dev-tasks"),
    ("KYC_TABLES_CONNECTIONS", "kyc-dev-connections"),
    (
        "KYC_TOPICS_EVENTS",
        "arn:aws:sns:eu-west-1:123456789012:kyc-dev-events",
    ),
    (
        "KYC_KEYS_DATA_KEY_ARN",
        "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-4000-8000-000000000001",
    ),
    (
        "KYC_KEYS_SIGNING_KEY_ARN",
        "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-4000-8000-000000000002",
    ),
    (
        "KYC_SECRETS_SCREENING_PROVIDER_KEY_ARN",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kyc-dev-screening-AbCdEf",
    ),
    (
        "KYC_ENDPOINTS_REST_API",
        "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod",
    ),
    (
        "KYC_IDEMPOTENCY_SECRET",
        "7f3c1a9e5d2b8f4061c7e3a95b0d2f8e4a6c1b3d5e7f9a0b2c4d6e8f0a1b3c5d",
    ),
];

/// The zip size target, bytes.
pub const TARGET_ZIP_BYTES: u64 = 8 * 1024 * 1024;
/// The start-to-ready target (judged on the p90 of the runs), milliseconds.
pub const TARGET_READY_MS: f64 = 30.0;

/// The Runtime API's version prefix.
const RUNTIME: &str = "/2018-06-01/runtime/";
/// The stage of the REST API (stackgen's `api::STAGE`).
const STAGE: &str = "prod";

const USAGE: &str =
    "cargo xtask bench lambda [--runs N] [--timeout S] [--bin PATH] [--json] [--check]";

/// The benchmark's settings.
#[derive(Clone, Debug)]
pub struct LambdaOptions {
    /// How many cold starts to time.
    pub runs: usize,
    /// The longest one run may take (start, event, response).
    pub timeout: Duration,
    /// A binary to use instead of building one.
    pub bin: Option<PathBuf>,
    /// Print JSON instead of text.
    pub json: bool,
    /// Fail when a target is missed.
    pub check: bool,
}

impl LambdaOptions {
    fn parse(args: &[String]) -> Result<Self> {
        let f = Flags::new(args, USAGE);
        f.check(&["--json", "--check"], &["--runs", "--timeout", "--bin"])?;
        let runs = f.number("--runs", 20usize)?;
        if !(1..=1000).contains(&runs) {
            bail!("--runs wants 1 to 1000, got {runs}");
        }
        Ok(Self {
            runs,
            timeout: f.seconds("--timeout", 10.0)?,
            bin: f.value("--bin").map(PathBuf::from),
            json: f.switch("--json"),
            check: f.switch("--check"),
        })
    }
}

/// What one cold start showed.
#[derive(Clone, Debug)]
pub struct ColdStart {
    /// From spawning the process to its first `next`.
    pub ready: Duration,
    /// The status code of the response it posted for `GET /healthz`.
    pub status: u16,
    /// Requests it made that the Runtime API does not serve (`METHOD path`).
    pub unexpected: Vec<String>,
}

/// What the benchmark measured.
#[derive(Clone, Debug)]
pub struct LambdaFigures {
    /// Bytes of the binary.
    pub binary_bytes: u64,
    /// Bytes of its `bootstrap` zip.
    pub zip_bytes: u64,
    /// Every run, in order.
    pub runs: Vec<ColdStart>,
    /// Start-to-ready over the runs.
    pub ready: Summary,
}

impl LambdaFigures {
    fn zip_met(&self) -> bool {
        self.zip_bytes <= TARGET_ZIP_BYTES
    }

    fn ready_met(&self) -> bool {
        ms(self.ready.p90) <= TARGET_READY_MS
    }

    fn unexpected(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .runs
            .iter()
            .flat_map(|r| r.unexpected.iter().map(String::as_str))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The figures as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "binary": API_BIN,
            "binary_bytes": self.binary_bytes,
            "zip_bytes": self.zip_bytes,
            "start_to_ready_ms": {
                "min": ms(self.ready.min),
                "median": ms(self.ready.p50),
                "p90": ms(self.ready.p90),
                "max": ms(self.ready.max),
                "runs": self.runs.iter().map(|r| ms(r.ready)).collect::<Vec<_>>(),
            },
            "healthz_statuses": self.runs.iter().map(|r| r.status).collect::<Vec<_>>(),
            "unexpected_requests": self.unexpected(),
            "targets": {
                "zip_bytes": { "target": TARGET_ZIP_BYTES, "met": self.zip_met() },
                "start_to_ready_p90_ms": { "target": TARGET_READY_MS, "met": self.ready_met() },
            },
        })
    }
}

impl std::fmt::Display for LambdaFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        writeln!(
            f,
            "API Lambda `{API_BIN}` ({} build for this machine)",
            std::env::consts::ARCH
        )?;
        writeln!(f, "  binary       {:.2} MB", mib(self.binary_bytes))?;
        writeln!(
            f,
            "  zip          {:.2} MB (`bootstrap`, deflated, as `cargo xtask dist` packs it); \
             target ≤ {:.0} MB: {}",
            mib(self.zip_bytes),
            mib(TARGET_ZIP_BYTES),
            verdict(self.zip_met())
        )?;
        let r = &self.ready;
        writeln!(
            f,
            "  start→ready  min {:.2} ms  median {:.2} ms  p90 {:.2} ms  max {:.2} ms ({} runs)",
            ms(r.min),
            ms(r.p50),
            ms(r.p90),
            ms(r.max),
            r.count
        )?;
        writeln!(
            f,
            "  target       p90 ≤ {TARGET_READY_MS:.0} ms: {:.2} ms, {}",
            ms(r.p90),
            verdict(self.ready_met())
        )?;
        write!(
            f,
            "  GET /healthz 200 in every run (API Gateway REST event through the mock Runtime API)"
        )?;
        let unexpected = self.unexpected();
        if !unexpected.is_empty() {
            write!(
                f,
                "\n  note         requests outside the Runtime API (answered 500): {}",
                unexpected.join(", ")
            )?;
        }
        Ok(())
    }
}

/// `cargo xtask bench lambda …`.
pub fn run(cargo: &dyn Fn() -> Command, args: &[String]) -> Result<()> {
    let opts = LambdaOptions::parse(args)?;
    let bin = match &opts.bin {
        Some(p) => p.clone(),
        None => build_binary(cargo, API_BUILD, API_BIN)?,
    };
    let figures = measure(&bin, &opts)?;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&figures.to_json())?);
    } else {
        println!("{figures}");
    }
    if opts.check && !(figures.zip_met() && figures.ready_met()) {
        bail!("a target was missed (--check)");
    }
    Ok(())
}

/// Zips the binary as `bootstrap`, then times `opts.runs` cold starts of it.
fn measure(bin: &Path, opts: &LambdaOptions) -> Result<LambdaFigures> {
    let bytes = std::fs::read(bin)
        .with_context(|| format!("no Lambda binary to measure at {}", bin.display()))?;
    let zip_bytes = crate::dist::zip_single("bootstrap", &bytes, 0o755).len() as u64;
    let tmp = TempDir::new("lambda")?;
    let task = tmp.path().join("task");
    std::fs::create_dir_all(&task)?;
    let bootstrap = task.join("bootstrap");
    std::fs::copy(bin, &bootstrap).context("copying the binary as bootstrap")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the mock runtime's runtime")?;
    let mut runs = Vec::with_capacity(opts.runs);
    for n in 0..opts.runs {
        let run = rt
            .block_on(cold_start(&bootstrap, tmp.path(), opts.timeout, n))
            .with_context(|| format!("run {} of {}", n + 1, opts.runs))?;
        runs.push(run);
    }
    let ready = Summary::of(runs.iter().map(|r| r.ready).collect()).context("no runs")?;
    Ok(LambdaFigures {
        binary_bytes: bytes.len() as u64,
        zip_bytes,
        runs,
        ready,
    })
}

/// One request the binary made to the mock.
enum Call {
    /// `GET …/invocation/next`, received at `at`; answer through `reply`.
    Next {
        at: Instant,
        reply: oneshot::Sender<Invocation>,
    },
    /// `POST …/invocation/{id}/response`.
    Response { request_id: String, body: Bytes },
    /// `POST …/invocation/{id}/error` or `POST …/init/error`.
    Error { what: &'static str, body: Bytes },
    /// Anything else (`METHOD path`).
    Unexpected(String),
}

/// An event handed to the binary.
struct Invocation {
    request_id: String,
    body: Bytes,
}

/// A mock Lambda Runtime API on a free loopback port; every request becomes a [`Call`].
struct MockRuntime {
    addr: SocketAddr,
    calls: mpsc::UnboundedReceiver<Call>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for MockRuntime {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl MockRuntime {
    async fn start() -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the mock Runtime API")?;
        let addr = listener.local_addr()?;
        let (tx, calls) = mpsc::unbounded_channel();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let tx = tx.clone();
                        async move { Ok::<_, Infallible>(answer(req, tx).await) }
                    });
                    // The connection ends when the binary exits or is killed.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            calls,
            accept,
        })
    }
}

fn reply(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r
}

async fn answer(
    req: hyper::Request<Incoming>,
    tx: mpsc::UnboundedSender<Call>,
) -> Response<Full<Bytes>> {
    let at = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return reply(StatusCode::BAD_REQUEST, ""),
    };
    let route = path.strip_prefix(RUNTIME).unwrap_or("");
    let invocation = route
        .strip_prefix("invocation/")
        .and_then(|r| r.rsplit_once('/'));
    let call = match (&method, route, invocation) {
        (&Method::GET, "invocation/next", _) => {
            let (reply_tx, reply_rx) = oneshot::channel();
            if tx
                .send(Call::Next {
                    at,
                    reply: reply_tx,
                })
                .is_err()
            {
                return reply(StatusCode::GONE, "");
            }
            return match reply_rx.await {
                Ok(inv) => next_response(inv),
                // The run is over; the binary is being killed.
                Err(_) => reply(StatusCode::GONE, ""),
            };
        }
        (&Method::POST, _, Some((id, "response"))) => Call::Response {
            request_id: id.to_string(),
            body,
        },
        (&Method::POST, _, Some((_, "error"))) => Call::Error {
            what: "an invocation error",
            body,
        },
        (&Method::POST, "init/error", _) => Call::Error {
            what: "an initialisation error",
            body,
        },
        _ => {
            let _ = tx.send(Call::Unexpected(format!("{method} {path}")));
            return reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"message":"not served by the benchmark's mock"}"#,
            );
        }
    };
    let _ = tx.send(call);
    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

/// The Runtime API's answer to `next`: the event and its headers.
fn next_response(inv: Invocation) -> Response<Full<Bytes>> {
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 30_000)
        .unwrap_or(0);
    let mut r = Response::new(Full::new(inv.body));
    let h = r.headers_mut();
    let pairs = [
        ("content-type", "application/json".to_string()),
        ("lambda-runtime-aws-request-id", inv.request_id),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:eu-west-1:123456789012:function:kyc-dev-api".to_string(),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-65a00000-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0"
                .to_string(),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    r
}

/// An API Gateway REST API (v1 payload) proxy event for `GET /healthz` on the `prod` stage.
fn healthz_event(request_id: &str) -> Value {
    json!({
        "resource": "/healthz",
        "path": "/healthz",
        "httpMethod": "GET",
        "headers": {
            "Accept": "application/json",
            "Host": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "User-Agent": "kyc-bench",
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https"
        },
        "multiValueHeaders": {
            "Accept": ["application/json"],
            "Host": ["abcdef1234.execute-api.eu-west-1.amazonaws.com"],
            "User-Agent": ["kyc-bench"],
            "X-Forwarded-For": ["203.0.113.7"],
            "X-Forwarded-Port": ["443"],
            "X-Forwarded-Proto": ["https"]
        },
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": null,
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "resourceId": "a1b2c3",
            "resourcePath": "/healthz",
            "httpMethod": "GET",
            "path": format!("/{STAGE}/healthz"),
            "stage": STAGE,
            "requestId": request_id,
            "extendedRequestId": "bench-extended-id",
            "requestTime": "01/Jan/2025:00:00:00 +0000",
            "requestTimeEpoch": 1_735_689_600_000_u64,
            "protocol": "HTTP/1.1",
            "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "identity": {
                "sourceIp": "203.0.113.7",
                "userAgent": "kyc-bench",
                "accountId": null,
                "apiKey": null,
                "caller": null,
                "user": null,
                "userArn": null,
                "cognitoIdentityId": null,
                "cognitoIdentityPoolId": null,
                "cognitoAuthenticationType": null,
                "cognitoAuthenticationProvider": null
            }
        },
        "body": null,
        "isBase64Encoded": false
    })
}

/// Starts `bootstrap` once against a fresh mock: the time to its first `next`, then one
/// `GET /healthz` event and its response.
async fn cold_start(
    bootstrap: &Path,
    logs: &Path,
    timeout: Duration,
    n: usize,
) -> Result<ColdStart> {
    let mut mock = MockRuntime::start().await?;
    let task = bootstrap.parent().unwrap_or(Path::new("."));
    let mut cmd = Command::new(bootstrap);
    cmd.env_clear()
        .envs(LAMBDA_ENV.iter().copied())
        .env("AWS_LAMBDA_RUNTIME_API", mock.addr.to_string())
        .env("AWS_ENDPOINT_URL", format!("http://{}", mock.addr))
        .env("LAMBDA_TASK_ROOT", task)
        .current_dir(task);
    let started = Instant::now();
    let mut proc = Running::spawn(&mut cmd, &logs.join("bootstrap.log"), true)?;
    let deadline = started + timeout;
    let mut unexpected = Vec::new();

    let (at, reply) = match wait_call(
        &mut mock,
        &mut proc,
        deadline,
        &mut unexpected,
        "its first invocation",
    )
    .await?
    {
        Call::Next { at, reply } => (at, reply),
        Call::Error { what, body } => bail!(
            "the binary reported {what} at start: {}\n{}",
            String::from_utf8_lossy(&body),
            outside(&unexpected, &proc)
        ),
        Call::Response { .. } | Call::Unexpected(_) => {
            bail!("the binary posted a response before asking for an invocation")
        }
    };
    let ready = at.saturating_duration_since(started);
    let request_id = format!("bench-{n:04}-8f4b2e1c");
    let event = serde_json::to_vec(&healthz_event(&request_id))?;
    if reply
        .send(Invocation {
            request_id: request_id.clone(),
            body: Bytes::from(event),
        })
        .is_err()
    {
        bail!(
            "the binary dropped its request for an invocation\n{}",
            proc.log_tail()
        );
    }
    let body = match wait_call(
        &mut mock,
        &mut proc,
        deadline,
        &mut unexpected,
        "the response to GET /healthz",
    )
    .await?
    {
        Call::Response {
            request_id: id,
            body,
        } if id == request_id => body,
        Call::Response { request_id: id, .. } => {
            bail!("the binary answered invocation {id}, not {request_id}")
        }
        Call::Error { what, body } => bail!(
            "the binary reported {what} for GET /healthz: {}\n{}",
            String::from_utf8_lossy(&body),
            outside(&unexpected, &proc)
        ),
        Call::Next { .. } | Call::Unexpected(_) => bail!(
            "the binary asked for the next invocation without answering GET /healthz\n{}",
            proc.log_tail()
        ),
    };
    let response: Value = serde_json::from_slice(&body).with_context(|| {
        format!(
            "the response to GET /healthz is not JSON: {}",
            String::from_utf8_lossy(&body)
        )
    })?;
    let status = response["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .with_context(|| format!("the response to GET /healthz has no statusCode: {response}"))?;
    if status != 200 {
        let hint = if status == 404 {
            "\nhint: lambda_http puts the stage in front of a REST event's path (`/prod/healthz`) \
             unless AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH is set in the function's environment"
        } else {
            ""
        };
        bail!(
            "GET /healthz through the Runtime API answered {status}, not 200: {response}{hint}\n{}",
            outside(&unexpected, &proc)
        );
    }
    // The binary now waits for its next event; the run is over (dropping it kills it).
    drop(proc);
    Ok(ColdStart {
        ready,
        status,
        unexpected,
    })
}

/// The next Runtime API call, listing unexpected requests on the way; fails when the binary
/// exits or the deadline passes first.
async fn wait_call(
    mock: &mut MockRuntime,
    proc: &mut Running,
    deadline: Instant,
    unexpected: &mut Vec<String>,
    waiting_for: &str,
) -> Result<Call> {
    loop {
        tokio::select! {
            call = mock.calls.recv() => match call {
                Some(Call::Unexpected(what)) => unexpected.push(what),
                Some(call) => return Ok(call),
                None => bail!("the mock Runtime API stopped"),
            },
            () = tokio::time::sleep(Duration::from_millis(2)) => {
                if let Some(status) = proc.exited() {
                    bail!(
                        "the binary exited ({status}) before {waiting_for}\n{}",
                        outside(unexpected, proc)
                    );
                }
                if Instant::now() > deadline {
                    bail!(
                        "the binary did not get to {waiting_for} in time\n{}",
                        outside(unexpected, proc)
                    );
                }
            }
        }
    }
}

/// The requests made outside the Runtime API (if any) and the binary's output, for an error.
fn outside(unexpected: &[String], proc: &Running) -> String {
    let mut s = String::new();
    if !unexpected.is_empty() {
        s.push_str(&format!(
            "requests outside the Runtime API (AWS_ENDPOINT_URL points at the mock, which \
             answered 500): {}\n",
            unexpected.join(", ")
        ));
    }
    s.push_str(&proc.log_tail());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shell stand-in for the API binary: the `next`/`response` dance with curl, answering
    /// every event with `STATUS` (200 when the event is `GET /healthz` and the environment is
    /// Lambda's, 400 or 500 otherwise). `PRELUDE` runs first.
    /// A runtime client in sh. Its files carry its pid: every run starts in the same task
    /// directory, and a killed run's `curl` (still waiting on its `next`) would otherwise
    /// truncate the files the next run is reading.
    const STAND_IN: &str = r#"#!/bin/sh
PRELUDE
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while :; do
  curl -sS -f -D "headers.$$" -o "event.$$" "$api/invocation/next" || exit 1
  id=$(tr -d '\r' < "headers.$$" | grep -i '^lambda-runtime-aws-request-id:' | cut -d' ' -f2)
  status=STATUS
  grep -q '"path":"/healthz"' "event.$$" || status=400
  grep -q '"httpMethod":"GET"' "event.$$" || status=400
  [ -n "$HOME" ] && status=500
  [ "$AWS_LAMBDA_FUNCTION_NAME" = kyc-dev-api ] || status=500
  [ "$KYC_ENV" = dev ] || status=500
  [ "$PWD" = "$LAMBDA_TASK_ROOT" ] || status=500
  curl -sS -f -X POST -d "{\"statusCode\":$status,\"body\":\"ok\"}" "$api/invocation/$id/response" >/dev/null || exit 1
done
"#;

    /// Writes a stand-in with the given prelude and status; its path.
    fn stand_in(dir: &Path, prelude: &str, status: u16) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("stand-in.sh");
        let text = STAND_IN
            .replace("PRELUDE", prelude)
            .replace("STATUS", &status.to_string());
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn options(runs: usize) -> LambdaOptions {
        LambdaOptions {
            runs,
            timeout: Duration::from_secs(5),
            bin: None,
            json: false,
            check: false,
        }
    }

    fn failure(prelude: &str, status: u16) -> String {
        let dir = TempDir::new("test-lambda-fail").unwrap();
        let bin = stand_in(dir.path(), prelude, status);
        format!("{:#}", measure(&bin, &options(1)).unwrap_err())
    }

    #[test]
    fn a_stand_in_runtime_client_is_measured_and_answers_healthz() {
        let dir = TempDir::new("test-lambda").unwrap();
        let bin = stand_in(dir.path(), "", 200);
        let f = measure(&bin, &options(3)).unwrap();
        assert_eq!(f.runs.len(), 3);
        assert!(f
            .runs
            .iter()
            .all(|r| r.status == 200 && r.unexpected.is_empty()));
        assert!(f.ready.min > Duration::ZERO && f.ready.max < Duration::from_secs(5));
        let size = std::fs::metadata(&bin).unwrap().len();
        assert_eq!(f.binary_bytes, size);
        // The artefact's zip (`dist::zip`): deflated when that is smaller, never more than
        // the file plus its headers.
        assert!(
            f.zip_bytes > 0 && f.zip_bytes < size + 200,
            "{}",
            f.zip_bytes
        );
        assert!(f.zip_met());
        let text = f.to_string();
        assert!(text.contains("3 runs") && text.contains("p90"), "{text}");
        let json = f.to_json();
        assert_eq!(json["healthz_statuses"], json!([200, 200, 200]));
        assert_eq!(
            json["start_to_ready_ms"]["runs"].as_array().unwrap().len(),
            3
        );
    }

    #[test]
    fn the_time_to_ready_includes_what_the_binary_does_before_asking() {
        let dir = TempDir::new("test-lambda-slow").unwrap();
        let bin = stand_in(dir.path(), "sleep 0.3", 200);
        let f = measure(&bin, &options(2)).unwrap();
        assert!(f.ready.min >= Duration::from_millis(300), "{:?}", f.ready);
        assert!(!f.ready_met());
        assert_eq!(
            f.to_json()["targets"]["start_to_ready_p90_ms"]["met"],
            false
        );
    }

    #[test]
    fn requests_outside_the_runtime_api_are_listed() {
        let dir = TempDir::new("test-lambda-aws").unwrap();
        let bin = stand_in(
            dir.path(),
            r#"curl -s -o /dev/null "$AWS_ENDPOINT_URL/kyc/dev/parameters""#,
            200,
        );
        let f = measure(&bin, &options(1)).unwrap();
        assert_eq!(f.unexpected(), vec!["GET /kyc/dev/parameters"]);
        assert!(f.to_string().contains("GET /kyc/dev/parameters"));
    }

    #[test]
    fn a_404_fails_with_the_stage_hint() {
        let e = failure("", 404);
        assert!(e.contains("answered 404"), "{e}");
        assert!(e.contains("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH"), "{e}");
    }

    #[test]
    fn a_binary_that_exits_at_start_fails_with_its_output() {
        let e = failure("echo 'missing KYC_TABLE' >&2; exit 1", 200);
        assert!(
            e.contains("exited (exit status: 1) before its first invocation"),
            "{e}"
        );
        assert!(e.contains("missing KYC_TABLE"), "{e}");
    }

    #[test]
    fn an_init_error_is_reported_with_its_body() {
        let e = failure(
            r#"curl -s -X POST -d '{"errorType":"Config"}' "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error"; exec sleep 30"#,
            200,
        );
        assert!(e.contains("an initialisation error"), "{e}");
        assert!(e.contains("errorType"), "{e}");
    }

    #[test]
    fn a_binary_that_never_asks_fails_at_the_timeout() {
        let dir = TempDir::new("test-lambda-silent").unwrap();
        let bin = stand_in(dir.path(), "exec sleep 30", 200);
        let mut opts = options(1);
        opts.timeout = Duration::from_millis(300);
        let started = Instant::now();
        let e = format!("{:#}", measure(&bin, &opts).unwrap_err());
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(
            e.contains("did not get to its first invocation in time"),
            "{e}"
        );
    }

    #[test]
    fn an_invocation_error_fails_the_run() {
        let dir = TempDir::new("test-lambda-error").unwrap();
        let path = dir.path().join("stand-in.sh");
        let script = r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
curl -sS -f -D headers -o event "$api/invocation/next" || exit 1
id=$(tr -d '\r' < headers | grep -i '^lambda-runtime-aws-request-id:' | cut -d' ' -f2)
curl -sS -X POST -d '{"errorMessage":"boom"}' "$api/invocation/$id/error"
exec sleep 30
"#;
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = format!("{:#}", measure(&path, &options(1)).unwrap_err());
        assert!(e.contains("an invocation error for GET /healthz"), "{e}");
        assert!(e.contains("boom"), "{e}");
    }

    #[test]
    fn a_missing_binary_fails_loudly() {
        let e = measure(Path::new("/nonexistent/api"), &options(1))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no Lambda binary to measure at /nonexistent/api"),
            "{e}"
        );
    }

    #[test]
    fn the_event_is_a_rest_proxy_event_for_healthz() {
        let e = healthz_event("id-1");
        assert_eq!(e["httpMethod"], "GET");
        assert_eq!(e["path"], "/healthz");
        assert_eq!(e["requestContext"]["stage"], "prod");
        assert_eq!(e["requestContext"]["path"], "/prod/healthz");
        assert_eq!(e["requestContext"]["requestId"], "id-1");
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn options_default_to_twenty_runs() {
        let o = LambdaOptions::parse(&[]).unwrap();
        assert_eq!((o.runs, o.json, o.check), (20, false, false));
        let args: Vec<String> = ["--runs", "0"].map(String::from).to_vec();
        assert!(LambdaOptions::parse(&args).is_err());
        let args: Vec<String> = ["--connections", "4"].map(String::from).to_vec();
        assert!(LambdaOptions::parse(&args).is_err());
    }

    #[test]
    fn the_environment_is_lambdas_and_names_each_variable_once() {
        let mut names: Vec<&str> = LAMBDA_ENV.iter().map(|(k, _)| *k).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
        for needed in [
            "AWS_LAMBDA_FUNCTION_NAME",
            "_HANDLER",
            "AWS_REGION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "KYC_ENV",
        ] {
            assert!(names.contains(&needed), "{needed}");
        }
        assert!(!names.contains(&"AWS_LAMBDA_RUNTIME_API"), "set per run");
        assert_eq!(API_BUILD.last(), Some(&API_BIN));
    }
}
