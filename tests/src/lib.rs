//! The KYC kit's integration suite and its fixtures.
//!
//! - [`localstack()`]: the one LocalStack every test of a binary shares. It is, in order: the
//!   instance named by `KYC_LOCALSTACK_ENDPOINT` (what `cargo xtask ci` starts once per run);
//!   a container started through testcontainers when a Docker engine answers; the host-mode
//!   launcher `localstack/launch.sh up` otherwise (these machines have no Docker engine). If
//!   none can be reached it panics with the reason: the suite never passes by skipping.
//! - [`faults::FaultProxy`]: a loopback HTTP proxy in front of LocalStack that injects
//!   throttling, 5xx answers and dropped connections, before or after forwarding.
//! - [`unique`]: resource names that do not collide between tests and runs.

pub mod faults;
pub mod provision;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kyc_aws::config::AwsSettings;
use testcontainers_modules::localstack::LocalStack as LocalStackImage;
use testcontainers_modules::testcontainers::runners::SyncRunner;
use testcontainers_modules::testcontainers::{Container, ImageExt};

/// The LocalStack image tag used with Docker: the release `localstack/requirements.txt` pins
/// (`localstack-core` 2026.3.0, which LocalStack tags `2026.03.0`). `KYC_LOCALSTACK_IMAGE_TAG`
/// overrides it.
pub const LOCALSTACK_IMAGE_TAG: &str = "2026.03.0";

/// How the fixture reached LocalStack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `KYC_LOCALSTACK_ENDPOINT` named a running instance.
    Environment,
    /// A container started through testcontainers (a Docker engine answered).
    Container,
    /// `localstack/launch.sh up` on the host (left running for the next binary; stop it with
    /// `cargo xtask localstack down`).
    HostLauncher,
}

/// A reachable LocalStack.
pub struct LocalStack {
    /// Its endpoint, e.g. `http://127.0.0.1:4566`.
    pub endpoint: String,
    /// How it was reached.
    pub origin: Origin,
    // Kept alive for the whole test binary (statics are never dropped; testcontainers' own
    // clean-up removes the container when the process ends).
    _container: Option<Container<LocalStackImage>>,
}

impl LocalStack {
    /// SDK settings for this instance (static test credentials, `us-east-1`).
    pub fn settings(&self) -> AwsSettings {
        AwsSettings::emulator(self.endpoint.clone())
    }

    /// The loaded SDK configuration.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        self.settings().load().await
    }
}

static LOCALSTACK: OnceLock<LocalStack> = OnceLock::new();

/// The shared LocalStack; started on first use. Panics (failing the test loudly) when it cannot
/// be reached or started.
pub fn localstack() -> &'static LocalStack {
    // On a thread of its own: callers are often async tests, and both the warm-up and
    // testcontainers' synchronous runner drive a runtime of their own, which cannot be started
    // from inside the caller's.
    LOCALSTACK.get_or_init(
        || match std::thread::spawn(|| start().and_then(warm_up)).join() {
            Ok(Ok(ls)) => ls,
            Ok(Err(why)) => panic!(
                "LocalStack is required by this suite and could not be reached or started: {why}"
            ),
            Err(_) => panic!("LocalStack is required by this suite and starting it panicked"),
        },
    )
}

fn start() -> Result<LocalStack, String> {
    if let Ok(endpoint) = std::env::var("KYC_LOCALSTACK_ENDPOINT") {
        return connect(&endpoint, Duration::from_secs(60))
            .map_err(|e| format!("KYC_LOCALSTACK_ENDPOINT is set but {e}"));
    }
    if docker_available() {
        return start_container();
    }
    start_host()
}

/// Makes the first DynamoDB call with a generous deadline. LocalStack starts DynamoDB Local (a
/// JVM) on first use, which takes seconds on a busy machine; without this, whichever test
/// happens to come first would spend its own short timeouts on that start.
fn warm_up(ls: LocalStack) -> Result<LocalStack, String> {
    let settings = ls.settings().with_resilience(kyc_aws::config::Resilience {
        max_attempts: 3,
        attempt_timeout: Duration::from_secs(60),
        operation_timeout: Duration::from_secs(150),
        ..kyc_aws::config::Resilience::background()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no runtime for the warm-up: {e}"))?;
    runtime.block_on(async {
        let ddb = aws_sdk_dynamodb::Client::new(&settings.load().await);
        ddb.list_tables().send().await.map_err(|e| {
            format!(
                "DynamoDB in LocalStack did not answer: {}",
                kyc_aws::error::ErrorSummary(&e)
            )
        })
    })?;
    Ok(ls)
}

/// Connects to a running LocalStack at `endpoint`, waiting up to `within` for its health check.
pub fn connect(endpoint: &str, within: Duration) -> Result<LocalStack, String> {
    let endpoint = endpoint.trim_end_matches('/').to_owned();
    wait_healthy(&endpoint, within).map_err(|e| format!("{endpoint} is not healthy: {e}"))?;
    Ok(LocalStack {
        endpoint,
        origin: Origin::Environment,
        _container: None,
    })
}

/// Whether a Docker engine answers (`DOCKER_HOST`, or the default socket).
pub fn docker_available() -> bool {
    if let Ok(host) = std::env::var("DOCKER_HOST") {
        if let Some(path) = host.strip_prefix("unix://") {
            return std::os::unix::net::UnixStream::connect(path).is_ok();
        }
        return !host.is_empty();
    }
    std::os::unix::net::UnixStream::connect("/var/run/docker.sock").is_ok()
}

fn start_container() -> Result<LocalStack, String> {
    let container = LocalStackImage::default()
        .with_tag(
            std::env::var("KYC_LOCALSTACK_IMAGE_TAG")
                .unwrap_or_else(|_| LOCALSTACK_IMAGE_TAG.to_owned()),
        )
        .with_env_var("SERVICES", "s3,dynamodb,dynamodbstreams,sns,sqs,kms,ssm,secretsmanager,cloudwatch,logs,sts,iam,cloudformation")
        .with_env_var("S3_SKIP_SIGNATURE_VALIDATION", "0")
        .with_env_var("DISABLE_EVENTS", "1")
        .start()
        .map_err(|e| format!("testcontainers could not start LocalStack: {e}"))?;
    let host = container
        .get_host()
        .map_err(|e| format!("testcontainers: no host for LocalStack: {e}"))?;
    let port = container
        .get_host_port_ipv4(4566)
        .map_err(|e| format!("testcontainers: port 4566 not mapped: {e}"))?;
    let endpoint = format!("http://{host}:{port}");
    wait_healthy(&endpoint, Duration::from_secs(90))?;
    Ok(LocalStack {
        endpoint,
        origin: Origin::Container,
        _container: Some(container),
    })
}

/// The repository root (this crate is `<root>/tests`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

fn start_host() -> Result<LocalStack, String> {
    let launcher = repo_root().join("localstack/launch.sh");
    eprintln!(
        "no KYC_LOCALSTACK_ENDPOINT and no Docker engine: starting LocalStack with {launcher:?}"
    );
    let out = Command::new(&launcher)
        .arg("up")
        .output()
        .map_err(|e| format!("could not run {launcher:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{launcher:?} up failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let endpoint = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .find(|l| l.starts_with("http://"))
        .map(str::to_owned)
        .ok_or_else(|| format!("{launcher:?} up printed no endpoint"))?;
    wait_healthy(&endpoint, Duration::from_secs(60))?;
    Ok(LocalStack {
        endpoint,
        origin: Origin::HostLauncher,
        _container: None,
    })
}

/// Polls `/_localstack/health` until it answers 200 or `within` passes.
fn wait_healthy(endpoint: &str, within: Duration) -> Result<(), String> {
    let url = format!("{endpoint}/_localstack/health");
    let deadline = Instant::now() + within;
    let mut last = String::new();
    while Instant::now() < deadline {
        match http_get_status(&url) {
            Ok(200) => return Ok(()),
            Ok(s) => last = format!("HTTP {s}"),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(format!(
        "{url} did not answer 200 within {within:?} (last: {last})"
    ))
}

/// A minimal blocking HTTP/1.1 GET over loopback (no proxy, no TLS): the fixture must not
/// depend on the machine's proxy settings, which point at a dead proxy for LocalStack's sake.
fn http_get_status(url: &str) -> Result<u16, String> {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| "only http:// endpoints are supported".to_owned())?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = std::net::TcpStream::connect(authority).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).map_err(|e| e.to_string())?;
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "not an HTTP answer".to_owned())
}

/// A resource name unique to this process and call: `{prefix}-{pid}-{time}-{n}`, lowercase,
/// valid for buckets, tables, topics, queues and parameter paths.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() % 100_000_000)
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{t}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_that_does_not_answer_is_an_error_not_a_skip() {
        // A port nobody listens on: bind one, note it, release it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let err = connect(
            &format!("http://127.0.0.1:{port}"),
            Duration::from_millis(600),
        )
        .err()
        .expect("nothing listens there");
        assert!(err.contains("not healthy"), "{err}");
    }

    #[test]
    fn unique_names_differ_and_are_valid_bucket_names() {
        let (a, b) = (unique("kyc-t"), unique("kyc-t"));
        assert_ne!(a, b);
        for n in [a, b] {
            assert!(n.len() <= 63, "{n}");
            assert!(n
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'));
        }
    }
}
