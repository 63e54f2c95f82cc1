//! `kyc serve` (the API and the page on the embedded engines) and `kyc verify` (one offline
//! verification through the same service: document reading, screening, face match, decision).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Args;
use kyc_core::model::Image;
use kyc_core::session::FaceMatchFinding;
use serde_json::json;

use super::Outcome;
use crate::app::RateLimit;
use crate::local::{LocalOptions, LocalPlatform};
use crate::media::{self, Limits};
use crate::serve::{serve, shutdown_signal, ConnectionLimits, ServeOptions};
use crate::service::{Service, ServiceConfig};

/// The defaults of `kyc serve`'s limits.
const LIMITS: ConnectionLimits = ConnectionLimits::DEFAULT;

/// `kyc serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The data directory (created on first use; keep it private: it holds the keys).
    #[arg(long, default_value = ".kyc-data")]
    pub data_dir: PathBuf,
    /// A directory of sanctions list files (default: $KYC_SHARED_DATA/sanctions, else
    /// ../shared/data/sanctions).
    #[arg(long)]
    pub lists: Option<PathBuf>,
    /// An origin allowed by CORS (repeatable; `*` for any).
    #[arg(long = "cors-origin")]
    pub cors_origins: Vec<String>,
    /// Requests per second per client (0 disables the limit).
    #[arg(long, default_value_t = 50.0)]
    pub rate_limit: f64,
    /// Burst size per client.
    #[arg(long, default_value_t = 100.0)]
    pub rate_burst: f64,
    /// The gestures liveness challenges draw from, comma-separated (blink, turnLeft,
    /// turnRight, lookUp, nod, smile); default: all the face engine can observe.
    #[arg(long, value_delimiter = ',')]
    pub gestures: Option<Vec<kyc_core::liveness::Gesture>>,
    /// `normal`: a stored upload survives a crash of this process, and a power loss or OS
    /// crash may undo the last commits (never a middle one: the database keeps commit order);
    /// `full`: every answered request survives a power loss, at about 40 % of the upload
    /// throughput on a disk with 2 ms fsyncs.
    #[arg(long, default_value = "normal", value_parser = ["full", "normal"])]
    pub durability: String,
    /// Connections served at once (further ones wait until one closes).
    #[arg(long, default_value_t = LIMITS.max_connections as u64,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub max_connections: u64,
    /// Requests with a body (POST) in progress at once; more get 503 with Retry-After.
    #[arg(long, default_value_t = LIMITS.max_body_requests as u64,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_body_requests: u64,
    /// Seconds a client may take to send a request's headers (and an idle connection may
    /// stay open).
    #[arg(long, default_value_t = LIMITS.header_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout: u64,
    /// Seconds a request may take, from its headers to its answer (a slow upload included).
    #[arg(long, default_value_t = LIMITS.request_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout: u64,
}

/// `kyc verify`. `Debug` hides the paths.
#[derive(Args)]
pub struct VerifyArgs {
    /// The identity document photo (JPEG or PNG).
    #[arg(long)]
    pub document: PathBuf,
    /// The selfie (JPEG or PNG).
    #[arg(long)]
    pub selfie: PathBuf,
    /// A directory of sanctions list files (default as for `kyc serve`).
    #[arg(long)]
    pub lists: Option<PathBuf>,
    /// Print the decision document as JSON.
    #[arg(long)]
    pub json: bool,
}

impl std::fmt::Debug for VerifyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyArgs")
            .field("json", &self.json)
            .finish_non_exhaustive()
    }
}

/// Runs `kyc serve` until SIGINT/SIGTERM; prints `listening on http://ADDR` when ready.
pub fn run_serve(args: ServeArgs, out: &mut dyn std::io::Write) -> anyhow::Result<Outcome> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KYC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let opts = ServeOptions {
        addr: args.addr,
        data_dir: args.data_dir,
        lists: args.lists,
        cors_origins: args.cors_origins,
        rate_limit: (args.rate_limit > 0.0).then(|| RateLimit {
            per_second: args.rate_limit,
            burst: args.rate_burst.max(1.0),
            ..RateLimit::default()
        }),
        gestures: args.gestures,
        durability: if args.durability == "normal" {
            kyc_local::storage::Durability::Normal
        } else {
            kyc_local::storage::Durability::Full
        },
        limits: ConnectionLimits {
            // Both within the flags' ranges.
            max_connections: args.max_connections as usize,
            max_body_requests: args.max_body_requests as usize,
            header_timeout: Duration::from_secs(args.header_timeout),
            request_timeout: Duration::from_secs(args.request_timeout),
        },
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(serve(
        opts,
        |addr| {
            let _ = writeln!(out, "listening on http://{addr}");
            let _ = out.flush();
        },
        shutdown_signal(),
    ))?;
    Ok(Outcome::Success)
}

/// Runs `kyc verify`: exit 0 approved, 1 rejected or review.
pub fn run_verify(args: VerifyArgs, out: &mut dyn std::io::Write) -> anyhow::Result<Outcome> {
    let document = read_image(&args.document, "the document")?;
    let selfie = read_image(&args.selfie, "the selfie")?;
    let dir = tempfile::tempdir().context("creating a scratch directory")?;
    let platform = LocalPlatform::open(
        dir.path(),
        &LocalOptions {
            lists: args.lists,
            durability: kyc_local::storage::Durability::Normal,
        },
    )?;
    let config = ServiceConfig::new(platform.idempotency_secret(), "kyc-verify")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let service = Service::new(Arc::new(platform), config);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let v = rt
        .block_on(service.verify_offline(&document, &selfie))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let face = crate::service::view::face_match_view(
        &v.face_match,
        kyc_core::facematch::FaceMatchPolicy::single_image()
            .settings()
            .threshold
            .value(),
    );
    let codes: Vec<serde_json::Value> = v
        .decision
        .reasons
        .iter()
        .map(|r| serde_json::to_value(r.code).unwrap_or_default())
        .collect();
    let doc = json!({
        "status": v.decision.status,
        "reasons": codes,
        "policyVersion": v.decision.policy_version,
        "document": v.record.view,
        "liveness": null,
        "faceMatch": face,
        "sanctions": {
            "status": v.screening.status,
            "matches": v.screening.matches,
            "listVersion": v.screening.list_version,
        },
    });
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &doc).context("writing the output")?;
        writeln!(out)?;
    } else {
        writeln!(out, "status: {}", v.decision.status)?;
        for c in &codes {
            writeln!(out, "  reason: {}", c.as_str().unwrap_or_default())?;
        }
        if let FaceMatchFinding::Compared(o) = &v.face_match {
            writeln!(
                out,
                "face match: similarity {:.1} (threshold {})",
                o.similarity.value(),
                o.threshold.value()
            )?;
        }
        writeln!(out, "sanctions: {} match(es)", v.screening.matches.len())?;
    }
    Ok(
        if v.decision.status == kyc_core::decision::Status::Approved {
            Outcome::Success
        } else {
            Outcome::Negative
        },
    )
}

fn read_image(path: &Path, what: &str) -> anyhow::Result<Image> {
    use std::io::Read as _;
    let limits = Limits::DOCUMENT;
    let file = std::fs::File::open(path).with_context(|| format!("opening {what}"))?;
    let mut bytes = Vec::new();
    file.take(limits.max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {what}"))?;
    let clean = media::sanitize(&bytes, &limits).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    if clean.bytes.is_empty() {
        bail!("{what} is empty");
    }
    Image::parse(clean.bytes, usize::MAX)
        .map_err(|_| anyhow::anyhow!("{what} is not a JPEG or PNG image"))
}
