//! Smoke test of the `api` Lambda function under `cargo lambda watch` (PyPI `cargo-lambda`,
//! installed by `cargo xtask setup` into `<cache>/venv-lambda`): the emulator serves the Lambda
//! Runtime API, the real `api` binary runs against it, an API Gateway REST proxy event for
//! `GET /healthz` is sent with `cargo lambda invoke --data-file`, and the same path through the
//! emulator's function URL; both must answer 200, an unknown path 404.
//!
//! The emulator runs with `--only-lambda-apis` and the test starts the binary Cargo built for
//! it (`CARGO_BIN_EXE_api`) with the environment the emulator asks for: letting the emulator
//! `cargo run` the function would build the AWS SDK a second time with another feature set,
//! and each build would invalidate the other's artefacts in the shared target directory.
//!
//! The function gets every resource name from the environment (no SSM) and an emulator
//! endpoint that nothing listens on: `/healthz` touches no backend, so no AWS is needed. Fails
//! loudly when cargo-lambda is missing.
#![cfg(feature = "aws")]

use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the emulator and the function may take to be ready.
const START_BUDGET: Duration = Duration::from_secs(120);
/// How long one `cargo lambda invoke` may wait for its answer.
const INVOKE_BUDGET: Duration = Duration::from_secs(20);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `$KYC_CARGO_LAMBDA`, else `<cache>/venv-lambda/bin/cargo-lambda`.
fn cargo_lambda() -> PathBuf {
    if let Some(p) = std::env::var_os("KYC_CARGO_LAMBDA") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("KYC_CACHE_DIR")
        .map_or_else(|| workspace().join(".kyc-cache"), PathBuf::from);
    let bin = cache.join("venv-lambda/bin/cargo-lambda");
    assert!(
        bin.is_file(),
        "cargo-lambda is not installed at {}: run `cargo xtask setup` (or set KYC_CARGO_LAMBDA)",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The function's environment: what the emulator asks for, every resource name, an
/// idempotency secret, an AWS endpoint nothing listens on.
fn function_env(port: u16) -> Vec<(&'static str, String)> {
    let arn =
        |service: &str, rest: &str| format!("arn:aws:{service}:us-east-1:000000000000:{rest}");
    vec![
        (
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        ),
        ("AWS_LAMBDA_FUNCTION_NAME", "_".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "1".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".to_owned()),
        ("KYC_BUCKETS_ID_UPLOADS", "kyc-smoke-id-uploads".to_owned()),
        (
            "KYC_BUCKETS_LIVE_FRAMES",
            "kyc-smoke-live-frames".to_owned(),
        ),
        ("KYC_BUCKETS_OCR_RAW", "kyc-smoke-ocr-raw".to_owned()),
        ("KYC_TABLES_AUDIT_LOG", "kyc-smoke-KycAuditLog".to_owned()),
        ("KYC_TABLES_OCR_DATA", "kyc-smoke-KycOcrData".to_owned()),
        ("KYC_TABLES_SESSIONS", "kyc-smoke-sessions".to_owned()),
        ("KYC_TABLES_TASKS", "kyc-smoke-tasks".to_owned()),
        ("KYC_TABLES_CONNECTIONS", "kyc-smoke-connections".to_owned()),
        ("KYC_TOPICS_EVENTS", arn("sns", "kyc-smoke-events")),
        ("KYC_KEYS_DATA_KEY_ARN", arn("kms", "key/data")),
        ("KYC_KEYS_SIGNING_KEY_ARN", arn("kms", "key/signing")),
        (
            "KYC_SECRETS_SCREENING_PROVIDER_KEY_ARN",
            arn("secretsmanager", "secret:screening"),
        ),
        (
            "KYC_ENDPOINTS_REST_API",
            "https://api.example.invalid/prod".to_owned(),
        ),
        ("KYC_IDEMPOTENCY_SECRET", "5a".repeat(32)),
        (
            "KYC_AWS_ENDPOINT",
            format!("http://127.0.0.1:{}", free_port()),
        ),
    ]
}

/// A child process in its own process group, stopped with the whole group when dropped; its
/// output goes to a log file read back for failure messages.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn start(name: &str, mut cmd: Command) -> Self {
        let log = std::env::temp_dir().join(format!("kyc-{name}-{}.log", std::process::id()));
        let out = std::fs::File::create(&log).expect("a log file");
        let err = out.try_clone().expect("a log file");
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt as _;
            cmd.process_group(0);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        Self { child, log }
    }

    fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        if let Ok(None) = self.child.try_wait() {
            #[cfg(unix)]
            let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// `cargo lambda invoke --data-file <event>`: its JSON output, or why it failed. It waits for
/// a function to take the invocation, so it is bounded here (a function that exited would
/// leave it waiting forever).
fn invoke(port: u16, event: &Path) -> Result<serde_json::Value, String> {
    let mut child = Command::new(cargo_lambda())
        .args(["lambda", "invoke", "--invoke-address", "127.0.0.1"])
        .args([
            "--invoke-port",
            &port.to_string(),
            "--output-format",
            "json",
        ])
        .arg("--data-file")
        .arg(event)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo lambda invoke did not run: {e}"))?;
    let deadline = Instant::now() + INVOKE_BUDGET;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "cargo lambda invoke took more than {INVOKE_BUDGET:?}"
                ));
            }
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("cargo lambda invoke output: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo lambda invoke failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// Waits until the emulator accepts connections on `port`.
fn wait_for_port(port: u16) -> bool {
    let deadline = Instant::now() + START_BUDGET;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// `GET` on the emulator's function URL: the status line and the body.
fn function_url_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::Write as _;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        s,
        "GET /lambda-url/_{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    s.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_owned());
    Ok((status, body))
}

#[test]
fn the_api_function_answers_healthz_under_cargo_lambda_watch() {
    let port = free_port();
    let mut watch = Command::new(cargo_lambda());
    watch
        .args([
            "lambda",
            "watch",
            "--only-lambda-apis",
            "--invoke-address",
            "127.0.0.1",
        ])
        .args(["--invoke-port", &port.to_string()])
        .current_dir(workspace());
    let watch = Process::start("lambda-watch", watch);
    // The function exits when the Runtime API refuses it, so it starts once the emulator
    // listens.
    assert!(
        wait_for_port(port),
        "the emulator did not listen within {START_BUDGET:?}:\n{}",
        watch.log()
    );
    let mut function = Command::new(env!("CARGO_BIN_EXE_api"));
    function.env_clear().envs(function_env(port));
    let function = Process::start("lambda-api", function);
    let logs = || {
        format!(
            "--- watch ---\n{}\n--- function ---\n{}",
            watch.log(),
            function.log()
        )
    };

    let event =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lambda/apigw-rest-healthz.json");
    let start = Instant::now();
    let answer = loop {
        match invoke(port, &event) {
            Ok(answer) => break answer,
            Err(e) if start.elapsed() > START_BUDGET => {
                panic!("no answer within {START_BUDGET:?}: {e}\n{}", logs())
            }
            // The emulator or the function is still starting.
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    };
    assert_eq!(answer["statusCode"], 200, "{answer}\n{}", logs());
    let body: serde_json::Value =
        serde_json::from_str(answer["body"].as_str().unwrap_or_default()).unwrap_or_default();
    assert_eq!(body, serde_json::json!({"status": "ok"}));

    let (status, body) = function_url_get(port, "/healthz").expect("the function URL answers");
    assert_eq!(status, 200, "{body}\n{}", logs());
    assert!(body.contains("\"ok\""), "{body}");
    let (status, _) = function_url_get(port, "/v1/nothing").expect("the function URL answers");
    assert_eq!(status, 404);
    // The function logged each request as one JSON line, without the event's contents.
    let log = function.log();
    assert!(
        log.lines().filter(|l| l.starts_with('{')).count() >= 3,
        "{log}"
    );
    assert!(!log.contains("198.51.100.7"), "{log}");
}
