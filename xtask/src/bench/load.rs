//! A small HTTP/1.1 load generator (no `oha`/`wrk` needed): N workers, each on its own
//! keep-alive connection, send requests back to back for a warm-up and then a measured window,
//! and every latency of the window is kept, so the percentiles are exact.
//!
//! Each request is built by a closure from its sequence number, so every request can carry its
//! own `Idempotency-Key`. A request counts when it *starts* inside the measured window; the
//! window's length is taken from its start to the end of the last counted request, so requests
//! in flight at the end are neither lost nor counted against a shorter time.
//!
//! Transport failures are counted apart from HTTP statuses: `connect` (the connection could not
//! be opened), `io` (the connection failed or closed before a whole response arrived) and
//! `timeout` (no whole response within the per-request timeout). A connection the server closed
//! between requests (`Connection: close`, idle timeout) is reopened without counting an error.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::Method;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

/// One request to send: what the per-request closure returns.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path and query, starting with `/`.
    pub path: String,
    /// Extra headers (`Host` and `Content-Length` are set by the generator).
    pub headers: Vec<(&'static str, String)>,
    /// The body (cheap to clone: one shared buffer serves every request).
    pub body: Bytes,
}

impl Request {
    /// A request with no headers and an empty body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Bytes) -> Self {
        self.body = body;
        self
    }
}

/// Builds the request with the given sequence number (0, 1, 2, … across all workers, warm-up
/// included).
pub type MakeRequest = dyn Fn(u64) -> Request + Send + Sync;

/// How to load the server.
#[derive(Clone, Debug)]
pub struct Options {
    /// The server.
    pub addr: SocketAddr,
    /// Concurrent workers, one connection each.
    pub connections: usize,
    /// Requests before the measured window (not counted).
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// The longest wait for one whole response (connecting included).
    pub timeout: Duration,
}

/// Transport failures, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransportErrors {
    /// The connection could not be opened.
    pub connect: u64,
    /// The connection failed or closed before a whole response arrived.
    pub io: u64,
    /// No whole response within the timeout.
    pub timeout: u64,
}

impl TransportErrors {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.connect + self.io + self.timeout
    }

    fn add(&mut self, other: &Self) {
        self.connect += other.connect;
        self.io += other.io;
        self.timeout += other.timeout;
    }
}

/// Exact order statistics of a set of durations (nearest-rank percentiles).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// How many samples.
    pub count: usize,
    /// The smallest.
    pub min: Duration,
    /// The median (nearest rank).
    pub p50: Duration,
    /// The 90th percentile (nearest rank).
    pub p90: Duration,
    /// The 99th percentile (nearest rank).
    pub p99: Duration,
    /// The largest.
    pub max: Duration,
    /// The arithmetic mean.
    pub mean: Duration,
}

impl Summary {
    /// The summary of `samples`, or `None` when there are none.
    pub fn of(mut samples: Vec<Duration>) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let total: Duration = samples.iter().sum();
        let count = samples.len();
        Some(Self {
            count,
            min: samples[0],
            p50: percentile(&samples, 50),
            p90: percentile(&samples, 90),
            p99: percentile(&samples, 99),
            max: samples[count - 1],
            mean: total / u32::try_from(count).unwrap_or(u32::MAX),
        })
    }

    /// The figures in milliseconds, as JSON.
    pub fn to_json_ms(self) -> Value {
        json!({
            "count": self.count,
            "min": ms(self.min),
            "p50": ms(self.p50),
            "p90": ms(self.p90),
            "p99": ms(self.p99),
            "max": ms(self.max),
            "mean": ms(self.mean),
        })
    }
}

/// The `p`th percentile of sorted, non-empty `samples` by nearest rank: the smallest sample
/// such that at least `p` percent of the samples are less than or equal to it. Integer
/// arithmetic, so no rounding can move the rank.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let n = sorted.len();
    let rank = (p * n).div_ceil(100);
    sorted[rank.clamp(1, n) - 1]
}

/// A duration in milliseconds, rounded to microseconds.
pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Workers (one connection each).
    pub connections: usize,
    /// From the start of the window to the end of the last counted request.
    pub elapsed: Duration,
    /// Latencies of the counted requests that got a whole response (any status).
    pub latency: Option<Summary>,
    /// Counted responses per status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Counted transport failures.
    pub errors: TransportErrors,
    /// Connections opened (successfully) during the whole run, warm-up included
    /// (`connections` when the server keeps every connection alive).
    pub connections_opened: u64,
}

impl Report {
    /// Counted requests that got a response.
    pub fn responses(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Responses per second over the window.
    pub fn requests_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.responses() as f64 / secs
        } else {
            0.0
        }
    }

    /// Responses whose status is not `expected`, plus transport failures.
    pub fn failures(&self, expected: u16) -> u64 {
        let wrong: u64 = self
            .statuses
            .iter()
            .filter(|(s, _)| **s != expected)
            .map(|(_, n)| n)
            .sum();
        wrong + self.errors.total()
    }

    /// Counted responses whose status is in `class` (2 for 2xx, …).
    pub fn status_class(&self, class: u16) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| **s / 100 == class)
            .map(|(_, n)| n)
            .sum()
    }

    /// The figures as JSON (latencies in milliseconds).
    pub fn to_json(&self) -> Value {
        json!({
            "connections": self.connections,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "responses": self.responses(),
            "requests_per_second": (self.requests_per_second() * 10.0).round() / 10.0,
            "latency_ms": self.latency.map(|l| l.to_json_ms()),
            "statuses": self.statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "errors": {
                "connect": self.errors.connect,
                "io": self.errors.io,
                "timeout": self.errors.timeout,
            },
            "connections_opened": self.connections_opened,
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  requests     {} in {:.2} s over {} connections",
            self.responses(),
            self.elapsed.as_secs_f64(),
            self.connections
        )?;
        writeln!(f, "  throughput   {:.1} req/s", self.requests_per_second())?;
        match &self.latency {
            Some(l) => writeln!(
                f,
                "  latency      p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
                ms(l.p50),
                ms(l.p90),
                ms(l.p99),
                ms(l.max)
            )?,
            None => writeln!(f, "  latency      no responses")?,
        }
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        writeln!(
            f,
            "  statuses     2xx {}  3xx {}  4xx {}  5xx {}  ({})",
            self.status_class(2),
            self.status_class(3),
            self.status_class(4),
            self.status_class(5),
            if statuses.is_empty() {
                "none".to_string()
            } else {
                statuses.join(", ")
            }
        )?;
        write!(
            f,
            "  errors       connect {}  io {}  timeout {}  (connections opened: {})",
            self.errors.connect, self.errors.io, self.errors.timeout, self.connections_opened
        )
    }
}

/// What one worker saw in the window.
#[derive(Default)]
struct WorkerStats {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, u64>,
    errors: TransportErrors,
    connections_opened: u64,
    last_end: Option<Instant>,
}

/// The instants that bound the run.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

/// Runs the load and reports what the measured window saw. Needs a tokio runtime with the
/// `time` and `net` drivers.
pub async fn run(opts: &Options, make: Arc<MakeRequest>) -> Report {
    let seq = Arc::new(AtomicU64::new(0));
    let now = Instant::now();
    let window = Window {
        start: now + opts.warmup,
        end: now + opts.warmup + opts.duration,
    };
    let workers: Vec<_> = (0..opts.connections.max(1))
        .map(|_| {
            let make = Arc::clone(&make);
            let seq = Arc::clone(&seq);
            let (addr, timeout) = (opts.addr, opts.timeout);
            tokio::spawn(async move { worker(addr, timeout, window, &*make, &seq).await })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut statuses = BTreeMap::new();
    let mut errors = TransportErrors::default();
    let mut connections_opened = 0;
    let mut last_end = window.start;
    for w in workers {
        // A worker never panics on server behaviour; a panic in the request closure is a bug
        // of the caller and is passed on.
        let stats = match w.await {
            Ok(stats) => stats,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => continue,
        };
        latencies.extend(stats.latencies);
        for (s, n) in stats.statuses {
            *statuses.entry(s).or_insert(0) += n;
        }
        errors.add(&stats.errors);
        connections_opened += stats.connections_opened;
        if let Some(end) = stats.last_end {
            last_end = last_end.max(end);
        }
    }
    Report {
        connections: opts.connections.max(1),
        elapsed: last_end.saturating_duration_since(window.start),
        latency: Summary::of(latencies),
        statuses,
        errors,
        connections_opened,
    }
}

/// Why one attempt failed.
enum Failure {
    Io,
    Timeout,
}

async fn worker(
    addr: SocketAddr,
    timeout: Duration,
    window: Window,
    make: &MakeRequest,
    seq: &AtomicU64,
) -> WorkerStats {
    let mut stats = WorkerStats::default();
    let mut conn: Option<SendRequest<Full<Bytes>>> = None;
    loop {
        let started = Instant::now();
        if started >= window.end {
            break;
        }
        let counted = started >= window.start;
        // Reuse the connection while the server keeps it; reopen it (not an error) when the
        // server closed it between requests.
        let reusable = match conn.as_mut() {
            Some(sender) => matches!(
                tokio::time::timeout(timeout, sender.ready()).await,
                Ok(Ok(()))
            ),
            None => false,
        };
        if !reusable {
            conn = None;
            match tokio::time::timeout(timeout, connect(addr)).await {
                Ok(Some(sender)) => {
                    stats.connections_opened += 1;
                    conn = Some(sender);
                }
                Ok(None) | Err(_) => {
                    if counted {
                        stats.errors.connect += 1;
                        stats.last_end = Some(Instant::now());
                    }
                    // Do not spin on a server that refuses connections.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(sender) = conn.as_mut() else {
            continue;
        };
        let request = build(make(seq.fetch_add(1, Ordering::Relaxed)), addr);
        let started = Instant::now();
        let counted = started >= window.start && started < window.end;
        let outcome = match tokio::time::timeout(timeout, exchange(sender, request)).await {
            Ok(Ok(status)) => Ok(status),
            Ok(Err(f)) => Err(f),
            Err(_) => Err(Failure::Timeout),
        };
        let ended = Instant::now();
        if outcome.is_err() {
            conn = None;
        }
        if !counted {
            continue;
        }
        stats.last_end = Some(ended);
        match outcome {
            Ok(status) => {
                stats.latencies.push(ended - started);
                *stats.statuses.entry(status).or_insert(0) += 1;
            }
            Err(Failure::Io) => stats.errors.io += 1,
            Err(Failure::Timeout) => stats.errors.timeout += 1,
        }
    }
    stats
}

/// Opens one HTTP/1.1 connection; its driver runs as its own task.
async fn connect(addr: SocketAddr) -> Option<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(async move {
        // The connection ends when either side closes it; the worker sees that as a failed
        // request or a closed sender.
        let _ = connection.await;
    });
    Some(sender)
}

fn build(r: Request, addr: SocketAddr) -> Option<hyper::Request<Full<Bytes>>> {
    let mut b = hyper::Request::builder()
        .method(r.method)
        .uri(r.path)
        .header(hyper::header::HOST, addr.to_string());
    for (name, value) in r.headers {
        b = b.header(name, value);
    }
    b.body(Full::new(r.body)).ok()
}

/// Sends one request and reads the whole response; the status when it all arrived.
async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Option<hyper::Request<Full<Bytes>>>,
) -> Result<u16, Failure> {
    // A request the closure built wrong (an invalid header) never leaves; it is counted with
    // the I/O failures so it cannot go unnoticed.
    let request = request.ok_or(Failure::Io)?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|_| Failure::Io)?;
    let status = response.status().as_u16();
    response
        .into_body()
        .collect()
        .await
        .map_err(|_| Failure::Io)?;
    Ok(status)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::convert::Infallible;
    use std::future::Future;
    use std::sync::atomic::AtomicUsize;

    use hyper::body::Incoming;
    use hyper::service::service_fn;
    use hyper::{Response, StatusCode};
    use tokio::net::TcpListener;

    use super::*;

    /// How the test server treats connections.
    #[derive(Clone, Copy, PartialEq)]
    pub(crate) enum Mode {
        /// Keep-alive.
        KeepAlive,
        /// Answer, then close (`Connection: close`).
        CloseAfterEach,
        /// Accept, read a little, then drop the socket without answering.
        Drop,
    }

    /// A tiny server on a free loopback port; `handle` answers each request. Runs until the
    /// runtime ends.
    pub(crate) async fn serve<F, Fut>(mode: Mode, handle: F) -> (SocketAddr, Arc<AtomicUsize>)
    where
        F: Fn(hyper::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                count.fetch_add(1, Ordering::Relaxed);
                if mode == Mode::Drop {
                    let mut buf = [0u8; 64];
                    let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut buf).await;
                    drop(stream);
                    continue;
                }
                let handle = handle.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let handle = handle.clone();
                        async move {
                            let mut resp = handle(req).await;
                            if mode == Mode::CloseAfterEach {
                                resp.headers_mut().insert(
                                    hyper::header::CONNECTION,
                                    hyper::header::HeaderValue::from_static("close"),
                                );
                            }
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (addr, accepted)
    }

    fn status(code: u16) -> Response<Full<Bytes>> {
        let mut r = Response::new(Full::new(Bytes::from_static(b"ok")));
        *r.status_mut() = StatusCode::from_u16(code).unwrap();
        r
    }

    /// The header value as a number, 0 when absent.
    fn number(req: &hyper::Request<Incoming>, name: &str) -> u64 {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    fn options(addr: SocketAddr, connections: usize, duration_ms: u64) -> Options {
        Options {
            addr,
            connections,
            warmup: Duration::from_millis(100),
            duration: Duration::from_millis(duration_ms),
            timeout: Duration::from_secs(2),
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn ms_of(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn percentiles_are_nearest_rank_of_the_samples() {
        let s = Summary::of((1..=100).rev().map(ms_of).collect()).unwrap();
        assert_eq!(
            (s.count, s.min, s.p50, s.p90, s.p99, s.max),
            (100, ms_of(1), ms_of(50), ms_of(90), ms_of(99), ms_of(100))
        );
        assert_eq!(s.mean, Duration::from_micros(50_500));
        let one = Summary::of(vec![ms_of(7)]).unwrap();
        assert_eq!((one.p50, one.p99, one.max), (ms_of(7), ms_of(7), ms_of(7)));
        let s = Summary::of((1..=20).map(ms_of).collect()).unwrap();
        assert_eq!((s.p50, s.p90), (ms_of(10), ms_of(18)));
        assert_eq!(Summary::of(Vec::new()), None);
    }

    #[test]
    fn injected_latency_shows_in_the_percentiles() {
        rt().block_on(async {
            // Every fifth request is held 40 ms: p50 is fast, p90 and above are slow.
            let (addr, accepted) = serve(Mode::KeepAlive, |req| async move {
                let delay = number(&req, "x-delay-ms");
                tokio::time::sleep(Duration::from_millis(delay)).await;
                status(200)
            })
            .await;
            let make: Arc<MakeRequest> = Arc::new(|seq| {
                let delay = if seq % 5 == 4 { 40 } else { 0 };
                Request::new(Method::GET, "/").header("x-delay-ms", delay.to_string())
            });
            let report = run(&options(addr, 1, 600), make).await;
            let l = report.latency.unwrap();
            assert!(l.p50 < ms_of(20), "p50 {:?}", l.p50);
            assert!(l.p90 >= ms_of(40), "p90 {:?}", l.p90);
            assert!(l.p99 >= ms_of(40) && l.max >= ms_of(40));
            assert!(l.max < ms_of(500), "max {:?}", l.max);
            // One in five held 40 ms bounds the throughput of one connection near 125/s.
            assert!(report.requests_per_second() < 140.0);
            assert!(report.responses() >= 20, "{report}");
            assert_eq!(report.statuses.get(&200), Some(&report.responses()));
            assert_eq!(report.errors, TransportErrors::default());
            assert_eq!(report.connections_opened, 1);
            assert_eq!(accepted.load(Ordering::Relaxed), 1);
            // The window ends with the last request that started in it.
            assert!(report.elapsed >= ms_of(600) && report.elapsed < ms_of(1100));
        });
    }

    #[test]
    fn concurrent_workers_each_keep_one_connection() {
        rt().block_on(async {
            let (addr, accepted) = serve(Mode::KeepAlive, |_| async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                status(201)
            })
            .await;
            let make: Arc<MakeRequest> = Arc::new(|seq| {
                Request::new(Method::POST, "/v1/upload-id")
                    .header("idempotency-key", format!("k-{seq}"))
                    .body(Bytes::from_static(&[0u8; 4096]))
            });
            let report = run(&options(addr, 4, 400), make).await;
            assert_eq!(accepted.load(Ordering::Relaxed), 4);
            assert_eq!(report.connections_opened, 4);
            // Four connections of ~10 ms requests: about 400 req/s, where one connection could
            // not pass 100.
            assert!(report.requests_per_second() > 120.0, "{report}");
            assert_eq!(report.failures(201), 0);
        });
    }

    #[test]
    fn statuses_are_counted_per_code_and_class() {
        rt().block_on(async {
            let (addr, _) = serve(Mode::KeepAlive, |req| async move {
                status(number(&req, "x-status") as u16)
            })
            .await;
            let make: Arc<MakeRequest> = Arc::new(|seq| {
                let code = match seq % 4 {
                    0 => 503,
                    1 => 404,
                    _ => 200,
                };
                Request::new(Method::GET, "/").header("x-status", code.to_string())
            });
            let report = run(&options(addr, 1, 200), make).await;
            let n = report.responses();
            let get = |s| report.statuses.get(&s).copied().unwrap_or(0);
            // One worker sends consecutive sequence numbers, so each code's share is exact
            // up to the ends of the window.
            assert!(get(503).abs_diff(n / 4) <= 1, "{report}");
            assert!(get(404).abs_diff(n / 4) <= 1, "{report}");
            assert_eq!(get(200) + get(404) + get(503), n);
            assert_eq!(report.status_class(5), get(503));
            assert_eq!(report.status_class(4), get(404));
            assert_eq!(report.failures(200), get(404) + get(503));
            assert_eq!(report.errors.total(), 0);
            let text = report.to_string();
            assert!(text.contains(&format!("5xx {}", get(503))), "{text}");
            assert!(text.contains(&format!("503: {}", get(503))), "{text}");
            let json = report.to_json();
            assert_eq!(json["statuses"]["503"], get(503));
            assert_eq!(json["responses"], n);
        });
    }

    #[test]
    fn a_server_closing_each_connection_costs_reconnects_not_errors() {
        rt().block_on(async {
            let (addr, accepted) = serve(Mode::CloseAfterEach, |_| async { status(200) }).await;
            let make: Arc<MakeRequest> = Arc::new(|_| Request::new(Method::GET, "/healthz"));
            let report = run(&options(addr, 2, 300), make).await;
            assert!(report.responses() > 10, "{report}");
            assert_eq!(report.errors, TransportErrors::default(), "{report}");
            // Every request (warm-up included) needed its own connection.
            assert!(report.connections_opened > report.responses());
            assert_eq!(
                accepted.load(Ordering::Relaxed) as u64,
                report.connections_opened
            );
        });
    }

    #[test]
    fn a_server_dropping_connections_gives_io_errors_and_no_latencies() {
        rt().block_on(async {
            let (addr, _) = serve(Mode::Drop, |_| async { status(200) }).await;
            let make: Arc<MakeRequest> = Arc::new(|_| Request::new(Method::GET, "/"));
            let report = run(&options(addr, 2, 200), make).await;
            assert_eq!(report.responses(), 0);
            assert_eq!(report.latency, None);
            assert!(report.errors.io > 0, "{report}");
            assert_eq!(report.failures(200), report.errors.total());
            assert!(report.to_string().contains("no responses"));
        });
    }

    #[test]
    fn a_refused_connection_is_a_connect_error_and_the_run_still_ends() {
        rt().block_on(async {
            // A port that was just free: nothing listens there.
            let addr = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            let make: Arc<MakeRequest> = Arc::new(|_| Request::new(Method::GET, "/"));
            let started = Instant::now();
            let report = run(&options(addr, 2, 200), make).await;
            assert!(started.elapsed() < Duration::from_secs(2));
            assert_eq!(report.responses(), 0);
            assert!(report.errors.connect > 0, "{report}");
            assert_eq!(report.errors.io + report.errors.timeout, 0);
            assert_eq!(report.connections_opened, 0);
        });
    }

    #[test]
    fn a_response_slower_than_the_timeout_is_a_timeout() {
        rt().block_on(async {
            let (addr, _) = serve(Mode::KeepAlive, |_| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                status(200)
            })
            .await;
            let make: Arc<MakeRequest> = Arc::new(|_| Request::new(Method::GET, "/"));
            let mut opts = options(addr, 1, 300);
            opts.warmup = Duration::ZERO;
            opts.timeout = Duration::from_millis(100);
            let report = run(&opts, make).await;
            assert_eq!(report.responses(), 0);
            assert!(report.errors.timeout >= 2, "{report}");
        });
    }
}
