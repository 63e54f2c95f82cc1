//! `kyc serve`: the whole API on the embedded platform, with the document worker that does in
//! one process what the S3 event and the OCR stream do in AWS (read the uploaded document,
//! then screen the name read), graceful shutdown and the page at `/`.
//!
//! Uploads answer as soon as the image is stored; the worker reads documents in the order
//! they came. The queue is bounded: when it is full (or the process stopped), the documents
//! still waiting are found again by their session state, at start-up and every few seconds.

use std::net::SocketAddr;
use std::path::PathBuf;
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
/// How often the worker looks for documents that missed the queue.
const SWEEP: Duration = Duration::from_secs(5);

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
}

/// Opens the platform, binds, prints `listening on http://ADDR` to `ready` and serves until
/// `shutdown` resolves; in-flight requests finish, then the worker stops.
pub async fn serve(
    opts: ServeOptions,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let data_dir = opts.data_dir.clone();
    let lists = opts.lists.clone();
    let platform = tokio::task::spawn_blocking(move || {
        LocalPlatform::open(&data_dir, &LocalOptions { lists })
    })
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
    let hook: app::UploadHook = Arc::new(move |id| {
        // A full queue is fine: the sweep finds the document by its state.
        let _ = hook_tx.try_send(id);
    });
    let worker = tokio::spawn(worker(service.clone(), platform, rx));

    let settings = AppSettings {
        cors_origins: opts.cors_origins.clone(),
        rate_limit: opts.rate_limit.clone(),
        index_html: Some(INDEX_HTML),
    };
    let router = app::router(service, Some(hook), &settings);
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .context("binding the listen address")?;
    let addr = listener.local_addr()?;
    ready(addr);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving")?;
    drop(tx);
    worker.abort();
    let _ = worker.await;
    tracing::info!("stopped");
    Ok(())
}

async fn worker(
    service: Service<LocalPlatform>,
    platform: Arc<LocalPlatform>,
    mut rx: mpsc::Receiver<VerificationId>,
) {
    loop {
        let next = tokio::time::timeout(SWEEP, rx.recv()).await;
        let ids = match next {
            Ok(Some(id)) => vec![id],
            Ok(None) => return,
            Err(_) => {
                let p = platform.clone();
                tokio::task::spawn_blocking(move || p.unread_documents())
                    .await
                    .unwrap_or_default()
            }
        };
        for id in ids {
            process(&service, &id).await;
        }
    }
}

/// Reads one document and screens its holder; failures are logged (never with the document's
/// content) and left for the sweep.
async fn process(service: &Service<LocalPlatform>, id: &VerificationId) {
    match service.read_document(id).await {
        Ok(true) => {
            if let Err(e) = service.screen(id, true).await {
                tracing::warn!(error = %e, "screening failed");
            }
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "document reading failed"),
    }
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
