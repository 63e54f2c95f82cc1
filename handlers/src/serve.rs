//! `kyc serve`: the whole API on the embedded platform, with the document worker that does in
//! one process what the S3 event and the OCR stream do in AWS (read the uploaded document,
//! then screen the name read), graceful shutdown and the page at `/`.
//!
//! Uploads answer as soon as the image is stored; the worker reads documents in the order
//! they came. The queue is bounded: documents that missed it (a full queue, a stop, a
//! retryable failure) are found again by their session state — at start-up, and when the
//! worker is next idle after one was missed — rather than by scanning on a timer.
//!
//! A retention pass at start-up and hourly purges expired sessions, document records, the
//! personal parts of old audit events, and images older than
//! [`IMAGE_RETENTION`](crate::local::IMAGE_RETENTION).
//!
//! Connections are served by hyper directly rather than through `axum::serve`, which has no
//! header timeout and no bound on connections: the server faces its clients with no gateway
//! in front (see [`ConnectionLimits`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use kyc_core::model::VerificationId;
use tokio::sync::mpsc;

use crate::app::{self, AppSettings, RateLimit};
use crate::local::{LocalOptions, LocalPlatform};
use crate::service::{Service, ServiceConfig};

/// The page served at `/`.
pub const INDEX_HTML: &str = include_str!("serve_index.html");

/// How many uploaded documents may wait for the worker before new ones wait for the sweep.
const QUEUE: usize = 1024;
/// How long the worker waits idle before it looks for documents that missed the queue (only
/// when one did).
const SWEEP: Duration = Duration::from_secs(5);
/// How often expired sessions, records and images are purged (also once at start-up).
const RETENTION_PASS: Duration = Duration::from_secs(3600);

/// Options of `kyc serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The data directory (database, encrypted objects, keys).
    pub data_dir: PathBuf,
    /// Sanctions lists directory (default: the shared data's).
    pub lists: Option<PathBuf>,
    /// CORS origins.
    pub cors_origins: Vec<String>,
    /// Per-client rate limit (requests per second, burst); `None` disables it.
    pub rate_limit: Option<RateLimit>,
    /// The gestures liveness challenges draw from (default: every gesture the face engine
    /// can observe).
    pub gestures: Option<Vec<kyc_core::liveness::Gesture>>,
    /// How database commits wait for the disk.
    pub durability: kyc_local::storage::Durability,
    /// Bounds on connections and on slow clients.
    pub limits: ConnectionLimits,
}

/// What clients can hold of the server: `kyc serve` faces clients directly, with no load
/// balancer or gateway to cut slow or idle connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections served at once; further ones wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers (also an idle keep-alive
    /// connection's limit); past it, the connection is closed.
    pub header_timeout: Duration,
    /// How long a request may take from its headers to its answer; past it, a 408 problem.
    pub request_timeout: Duration,
    /// `POST`s in progress at once; past it, a 503 problem. With the 13.4 MiB limit of the
    /// largest upload body, the default of 64 bounds buffered bodies to about 860 MiB.
    pub max_body_requests: usize,
}

impl ConnectionLimits {
    /// `kyc serve`'s defaults (its flags' too): 1,024 connections, 64 `POST`s in progress,
    /// 10 s for headers, 120 s per request (the largest upload accepted, a 10 MiB image as
    /// 13.4 MiB of base64 JSON, at about 0.9 Mbit/s).
    pub const DEFAULT: Self = Self {
        max_connections: 1024,
        header_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(120),
        max_body_requests: 64,
    };
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How long a graceful shutdown waits for open connections to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Accepts and serves HTTP/1.1 connections until `shutdown` resolves: at most
/// `max_connections` at once (the next waits in the backlog), each closed when a client is
/// slower than `header_timeout` to send headers. On shutdown it stops accepting, lets open
/// connections finish their requests for up to [`SHUTDOWN_GRACE`], then returns.
async fn serve_connections(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted: wait
                    // a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            router.clone().oneshot(req)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A connection's end (a client gone, a header timeout) is not the server's error.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period; closing them");
    }
}

/// Opens the platform, binds, prints `listening on http://ADDR` to `ready` and serves until
/// `shutdown` resolves; in-flight requests finish, then the worker stops.
pub async fn serve(
    opts: ServeOptions,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let data_dir = opts.data_dir.clone();
    let local = LocalOptions {
        lists: opts.lists.clone(),
        durability: opts.durability,
    };
    let platform = tokio::task::spawn_blocking(move || LocalPlatform::open(&data_dir, &local))
        .await
        .context("starting the engines")??;
    for (list, entities) in &platform.lists {
        tracing::info!(list = %list, entities, "sanctions list loaded");
    }
    let mut config = ServiceConfig::new(platform.idempotency_secret(), "kyc-serve")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let observable = platform.observable_gestures();
    let gestures = opts.gestures.clone().unwrap_or_else(|| observable.clone());
    if let Some(g) = gestures.iter().find(|g| !observable.contains(g)) {
        anyhow::bail!(
            "the face engine cannot observe the gesture {} (it needs the 68-point landmark model)",
            g.as_str()
        );
    }
    let mut settings = config.challenge.settings().clone();
    settings.gestures = gestures;
    config.challenge = kyc_core::liveness::ChallengePolicy::new(settings)
        .map_err(|e| anyhow::anyhow!("liveness gestures: {e}"))?;
    let platform = Arc::new(platform);
    let service = Service::new(platform.clone(), config);

    let (tx, rx) = mpsc::channel::<VerificationId>(QUEUE);
    let hook_tx = tx.clone();
    // Set when a document may be waiting outside the queue; true at start-up (a previous run
    // may have stopped with documents unread).
    let missed = Arc::new(AtomicBool::new(true));
    let hook_missed = missed.clone();
    let hook: app::UploadHook = Arc::new(move |id| {
        // A full queue is fine: the sweep finds the document by its state.
        if hook_tx.try_send(id).is_err() {
            hook_missed.store(true, Ordering::Relaxed);
        }
    });
    let worker = tokio::spawn(worker(service.clone(), platform.clone(), rx, missed));
    let retention = tokio::spawn(retention(platform));

    let settings = AppSettings {
        cors_origins: opts.cors_origins.clone(),
        rate_limit: opts.rate_limit.clone(),
        index_html: Some(INDEX_HTML),
        request_timeout: Some(opts.limits.request_timeout),
        max_body_requests: Some(opts.limits.max_body_requests),
    };
    let router = app::router(service, Some(hook), &settings);
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .context("binding the listen address")?;
    let addr = listener.local_addr()?;
    ready(addr);
    serve_connections(listener, router, opts.limits, shutdown).await;
    drop(tx);
    worker.abort();
    retention.abort();
    let _ = worker.await;
    let _ = retention.await;
    tracing::info!("stopped");
    Ok(())
}

async fn worker(
    service: Service<LocalPlatform>,
    platform: Arc<LocalPlatform>,
    mut rx: mpsc::Receiver<VerificationId>,
    missed: Arc<AtomicBool>,
) {
    loop {
        let next = tokio::time::timeout(SWEEP, rx.recv()).await;
        let ids = match next {
            Ok(Some(id)) => vec![id],
            Ok(None) => return,
            Err(_) if missed.swap(false, Ordering::Relaxed) => {
                let p = platform.clone();
                tokio::task::spawn_blocking(move || p.unread_documents())
                    .await
                    .unwrap_or_default()
            }
            Err(_) => continue,
        };
        for id in ids {
            if !process(&service, &id).await {
                missed.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Purges what has outlived its retention, at start-up and then every [`RETENTION_PASS`].
/// A failed pass is logged and tried again at the next.
async fn retention(platform: Arc<LocalPlatform>) {
    let mut every = tokio::time::interval(RETENTION_PASS);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let p = platform.clone();
        match tokio::task::spawn_blocking(move || p.purge_expired(p.now())).await {
            Ok(Ok(r)) if r == crate::local::Retained::default() => {}
            Ok(Ok(r)) => tracing::info!(
                sessions = r.sessions,
                records = r.records,
                audit_redacted = r.audit_redacted,
                objects = r.objects,
                "retention pass"
            ),
            Ok(Err(e)) => tracing::warn!(error = %e, "retention pass failed"),
            Err(_) => tracing::warn!("retention pass stopped"),
        }
    }
}

/// Reads one document and screens its holder; failures are logged (never with the document's
/// content). Returns false when a retry may succeed (the next sweep will try again).
async fn process(service: &Service<LocalPlatform>, id: &VerificationId) -> bool {
    match service.read_document(id).await {
        Ok(true) => {
            if let Err(e) = service.screen(id, true).await {
                tracing::warn!(error = %e, "screening failed");
            }
            true
        }
        Ok(false) => true,
        Err(e) => {
            tracing::warn!(error = %e, "document reading failed");
            !e.is_retryable()
        }
    }
}

/// The variables that bound the native engines' thread pools (Tesseract's OpenMP, dlib's
/// OpenBLAS), and the value `kyc serve` gives them when the operator has not.
pub const ENGINE_THREAD_VARS: [&str; 2] = ["OMP_THREAD_LIMIT", "OPENBLAS_NUM_THREADS"];

/// Re-executes this program with [`ENGINE_THREAD_VARS`] set to 1 when none of them is set, so
/// one document read or face analysis occupies one core and the others keep serving requests
/// (on 2 cores, unbounded OpenMP threads in Tesseract cut upload throughput by 2.6x and
/// tripled its p99 latency). The libraries read these variables when they are loaded, so
/// setting them later in the process would do nothing. Returns only on failure (or when
/// nothing needs doing: `None`).
pub fn reexec_with_engine_threads() -> Option<std::io::Error> {
    if ENGINE_THREAD_VARS
        .iter()
        .any(|v| std::env::var_os(v).is_some())
    {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => return Some(e),
        };
        let mut cmd = std::process::Command::new(exe);
        cmd.args(std::env::args_os().skip(1));
        for v in ENGINE_THREAD_VARS {
            cmd.env(v, "1");
        }
        Some(cmd.exec())
    }
    #[cfg(not(unix))]
    None
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
