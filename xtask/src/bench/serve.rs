//! `cargo xtask bench serve`: throughput, latency and memory of `POST /v1/upload-id` with a
//! ~200 KB JPEG on `kyc serve` (see the module docs of `bench` for the steps and the flags).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hyper::body::Bytes;
use hyper::Method;
use serde_json::{json, Value};

use super::load::{self, MakeRequest, Request};
use super::{
    build_binary, proc_status_kb, verdict, watch_stdout, Flags, RssSampler, Running, TempDir,
};

/// How `kyc` is built for the benchmark: the embedded engines only (the AWS side is not part
/// of `kyc serve`).
pub const KYC_BUILD: &[&str] = &[
    "build",
    "--release",
    "--locked",
    "-p",
    "handlers",
    "--no-default-features",
    "--features",
    "local",
    "--bin",
    "kyc",
];

/// The throughput target, requests per second.
pub const TARGET_RPS: f64 = 300.0;
/// The latency target: p99 in milliseconds.
pub const TARGET_P99_MS: f64 = 50.0;
/// The size the upload aims at, in bytes, and how far from it is close enough.
const JPEG_TARGET: usize = 200_000;
const JPEG_TOLERANCE: usize = 20_000;
/// What the server prints on stdout once it accepts connections.
const READY_LINE: &str = "listening on http://";
/// The expected answer to an upload.
const CREATED: u16 = 201;

const USAGE: &str = "cargo xtask bench serve [--connections N] [--warmup S] [--duration S] \
                     [--ready-timeout S] [--bin PATH] [--json] [--check] [-- SERVE_ARGS...]";

/// The benchmark's settings.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Warm-up before the measured window.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// How long the server may take to become ready.
    pub ready_timeout: Duration,
    /// How long it may take to exit after SIGTERM.
    pub stop_timeout: Duration,
    /// A `kyc` binary to use instead of building one.
    pub bin: Option<PathBuf>,
    /// More arguments for `kyc serve` (what follows `--`), e.g. to lift its per-client rate
    /// limit, which a load from one address would otherwise hit.
    pub serve_args: Vec<String>,
    /// Print JSON instead of text.
    pub json: bool,
    /// Fail when a target is missed.
    pub check: bool,
}

impl ServeOptions {
    fn parse(args: &[String]) -> Result<Self> {
        let (args, serve_args) = match args.iter().position(|a| a == "--") {
            Some(at) => (&args[..at], args.get(at + 1..).unwrap_or_default()),
            None => (args, &[][..]),
        };
        let f = Flags::new(args, USAGE);
        f.check(
            &["--json", "--check"],
            &[
                "--connections",
                "--warmup",
                "--duration",
                "--ready-timeout",
                "--bin",
            ],
        )?;
        let connections = f.number("--connections", 16usize)?;
        if !(1..=1024).contains(&connections) {
            bail!("--connections wants 1 to 1024, got {connections}");
        }
        let duration = f.seconds("--duration", 10.0)?;
        if duration.is_zero() {
            bail!("--duration must be more than 0 s");
        }
        Ok(Self {
            connections,
            warmup: f.seconds("--warmup", 3.0)?,
            duration,
            ready_timeout: f.seconds("--ready-timeout", 60.0)?,
            stop_timeout: Duration::from_secs(10),
            bin: f.value("--bin").map(PathBuf::from),
            serve_args: serve_args.to_vec(),
            json: f.switch("--json"),
            check: f.switch("--check"),
        })
    }
}

/// What the benchmark measured.
#[derive(Clone, Debug)]
pub struct ServeFigures {
    /// The load generator's report.
    pub load: load::Report,
    /// Bytes of the uploaded JPEG, and its dimensions.
    pub jpeg_bytes: usize,
    /// Width and height of the uploaded JPEG.
    pub jpeg_size: (u16, u16),
    /// How long the server took to become ready.
    pub ready_after: Duration,
    /// Resident set before the load, kB.
    pub idle_rss_kb: u64,
    /// Largest resident set sampled during the load, kB.
    pub peak_rss_kb: u64,
    /// How many samples that was taken from.
    pub rss_samples: usize,
    /// The kernel's high-water mark of the resident set (`VmHWM`) at the end, kB.
    pub hwm_kb: u64,
    /// How long the server took to exit after SIGTERM.
    pub stopped_after: Duration,
    /// The settings.
    pub options: ServeOptions,
}

impl ServeFigures {
    fn p99_ms(&self) -> Option<f64> {
        self.load.latency.map(|l| load::ms(l.p99))
    }

    fn rps_met(&self) -> bool {
        self.load.requests_per_second() >= TARGET_RPS
    }

    fn p99_met(&self) -> bool {
        self.p99_ms().is_some_and(|p| p <= TARGET_P99_MS)
    }

    /// The figures as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "endpoint": "POST /v1/upload-id",
            "jpeg": {
                "bytes": self.jpeg_bytes,
                "width": self.jpeg_size.0,
                "height": self.jpeg_size.1,
            },
            "warmup_s": self.options.warmup.as_secs_f64(),
            "duration_s": self.options.duration.as_secs_f64(),
            "ready_s": self.ready_after.as_secs_f64(),
            "load": self.load.to_json(),
            "memory_kb": {
                "idle_rss": self.idle_rss_kb,
                "peak_rss_sampled": self.peak_rss_kb,
                "samples": self.rss_samples,
                "vm_hwm": self.hwm_kb,
            },
            "shutdown_s": self.stopped_after.as_secs_f64(),
            "targets": {
                "requests_per_second": { "target": TARGET_RPS, "met": self.rps_met() },
                "p99_ms": { "target": TARGET_P99_MS, "met": self.p99_met() },
            },
        })
    }
}

impl std::fmt::Display for ServeFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let o = &self.options;
        writeln!(
            f,
            "kyc serve: POST /v1/upload-id with a {:.1} KB JPEG ({} x {}), {} connections, \
             {:.1} s warm-up, {:.1} s measured",
            self.jpeg_bytes as f64 / 1000.0,
            self.jpeg_size.0,
            self.jpeg_size.1,
            o.connections,
            o.warmup.as_secs_f64(),
            o.duration.as_secs_f64()
        )?;
        writeln!(f, "{}", self.load)?;
        writeln!(
            f,
            "  target       ≥ {TARGET_RPS:.0} req/s: {:.1} req/s, {}",
            self.load.requests_per_second(),
            verdict(self.rps_met())
        )?;
        match self.p99_ms() {
            Some(p) => writeln!(
                f,
                "  target       p99 ≤ {TARGET_P99_MS:.0} ms: {p:.2} ms, {}",
                verdict(self.p99_met())
            )?,
            None => writeln!(
                f,
                "  target       p99 ≤ {TARGET_P99_MS:.0} ms: no responses, MISSED"
            )?,
        }
        writeln!(
            f,
            "  memory       idle RSS {:.1} MB, peak RSS {:.1} MB ({} samples, every 100 ms), VmHWM {:.1} MB",
            mb(self.idle_rss_kb),
            mb(self.peak_rss_kb),
            self.rss_samples,
            mb(self.hwm_kb)
        )?;
        write!(
            f,
            "  lifecycle    ready after {:.2} s; exit 0 {:.2} s after SIGTERM",
            self.ready_after.as_secs_f64(),
            self.stopped_after.as_secs_f64()
        )
    }
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// `cargo xtask bench serve …`.
pub fn run(root: &Path, cargo: &dyn Fn() -> Command, args: &[String]) -> Result<()> {
    let opts = ServeOptions::parse(args)?;
    let kyc = match &opts.bin {
        Some(p) => p.clone(),
        None => build_binary(cargo, KYC_BUILD, "kyc")?,
    };
    if !kyc.is_file() {
        bail!("no kyc binary at {}", kyc.display());
    }
    let tmp = TempDir::new("serve")?;
    let jpeg = make_jpeg(&kyc, root, tmp.path())?;
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data)?;
    let addr = free_port()?;
    let mut cmd = Command::new(&kyc);
    cmd.current_dir(root)
        .args(["serve", "--addr", &addr.to_string(), "--data-dir"])
        .arg(&data)
        .args(&opts.serve_args);
    eprintln!(
        "==> kyc serve --addr {addr} --data-dir {} {}",
        data.display(),
        opts.serve_args.join(" ")
    );
    let figures = measure(cmd, addr, tmp.path(), jpeg, &opts)?;
    report(&figures)
}

/// Prints the figures; fails when requests failed, or when a target was missed under
/// `--check`.
fn report(figures: &ServeFigures) -> Result<()> {
    if figures.options.json {
        println!("{}", serde_json::to_string_pretty(&figures.to_json())?);
    } else {
        println!("{figures}");
    }
    let failed = figures.load.failures(CREATED);
    if failed > 0 {
        let hint = if figures.load.statuses.contains_key(&429) {
            "\nhint: 429 is the per-client rate limit; lift it with kyc serve's option after `--`"
        } else {
            ""
        };
        bail!(
            "{failed} uploads did not get {CREATED} (see the statuses and errors above); the \
             figures do not measure successful uploads{hint}"
        );
    }
    if figures.load.responses() == 0 {
        bail!("no upload completed in the measured window");
    }
    if figures.options.check && !(figures.rps_met() && figures.p99_met()) {
        bail!("a target was missed (--check)");
    }
    Ok(())
}

/// A loopback address with a port that was free a moment ago.
fn free_port() -> Result<SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?)
}

/// Starts the server with `cmd` (which must make it listen on `addr`, or print where it
/// listens), waits until it is ready, loads it, samples its memory and stops it with SIGTERM.
fn measure(
    mut cmd: Command,
    addr: SocketAddr,
    logs: &Path,
    jpeg: Jpeg,
    opts: &ServeOptions,
) -> Result<ServeFigures> {
    let started = Instant::now();
    let mut server = Running::spawn(
        cmd.stdout(Stdio::piped()),
        &logs.join("server.stderr"),
        false,
    )?;
    let stdout = server
        .child
        .stdout
        .take()
        .context("the server's stdout is not piped")?;
    let printed = watch_stdout(stdout, READY_LINE);
    let addr = wait_ready(&mut server, addr, &printed, started + opts.ready_timeout)?;
    let ready_after = started.elapsed();
    let idle_rss_kb = proc_status_kb(server.pid(), "VmRSS").unwrap_or(0);

    let sampler = RssSampler::start(server.pid(), Duration::from_millis(100));
    let body = Bytes::from(jpeg.bytes);
    let jpeg_bytes = body.len();
    let run_id = std::process::id();
    let make: Arc<MakeRequest> = Arc::new(move |seq| {
        Request::new(Method::POST, "/v1/upload-id")
            .header("content-type", "image/jpeg")
            .header("idempotency-key", format!("bench-{run_id}-{seq}"))
            .body(body.clone())
    });
    let load_opts = load::Options {
        addr,
        connections: opts.connections,
        warmup: opts.warmup,
        duration: opts.duration,
        timeout: Duration::from_secs(30),
    };
    // One thread drives every connection: the generator must leave the cores to the server.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the load generator's runtime")?;
    let report = rt.block_on(load::run(&load_opts, make));
    // The sampler stops first: the high-water mark read after its last sample covers it.
    let (peak_rss_kb, rss_samples) = sampler.finish();
    let hwm_kb = proc_status_kb(server.pid(), "VmHWM").unwrap_or(0);
    if let Some(status) = server.exited() {
        bail!(
            "the server died under load ({status})\n{}",
            server.log_tail()
        );
    }
    let (status, stopped_after) = server.terminate(opts.stop_timeout)?;
    if !status.success() {
        bail!(
            "the server did not exit cleanly after SIGTERM ({status})\n{}",
            server.log_tail()
        );
    }
    Ok(ServeFigures {
        load: report,
        jpeg_bytes,
        jpeg_size: (jpeg.width, jpeg.height),
        ready_after,
        idle_rss_kb,
        peak_rss_kb,
        rss_samples,
        hwm_kb,
        stopped_after,
        options: opts.clone(),
    })
}

/// Waits until the server printed its ready line and `GET /healthz` answers 200 at the address
/// it printed (or `addr` if it printed none that parses); that address.
fn wait_ready(
    server: &mut Running,
    addr: SocketAddr,
    printed: &std::sync::mpsc::Receiver<String>,
    deadline: Instant,
) -> Result<SocketAddr> {
    let mut listening: Option<SocketAddr> = None;
    let mut last = String::from("no ready line on stdout yet");
    loop {
        if let Some(status) = server.exited() {
            bail!(
                "the server exited before it was ready ({status})\n{}",
                server.log_tail()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "the server was not ready in time ({last}); is `{}` printed on stdout and does \
                 GET /healthz answer 200?\n{}",
                READY_LINE,
                server.log_tail()
            );
        }
        if listening.is_none() {
            if let Ok(rest) = printed.try_recv() {
                let text = rest.trim_end_matches('/');
                listening = Some(text.parse().unwrap_or(addr));
            }
        }
        if let Some(at) = listening {
            match http_status(at, "/healthz", Duration::from_secs(1)) {
                Ok(200) => return Ok(at),
                Ok(s) => last = format!("GET /healthz answered {s}"),
                Err(e) => last = format!("GET /healthz failed: {e}"),
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The status of `GET path` on a fresh connection (plain HTTP/1.1, blocking).
fn http_status(addr: SocketAddr, path: &str, timeout: Duration) -> Result<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 32];
    let mut n = 0;
    while n < 12 {
        let got = s.read(&mut head[n..])?;
        if got == 0 {
            break;
        }
        n += got;
    }
    let line = String::from_utf8_lossy(head.get(..n).unwrap_or_default()).to_string();
    line.strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..5))
        .and_then(|c| c.parse().ok())
        .with_context(|| format!("not an HTTP response: {line:?}"))
}

/// The upload.
struct Jpeg {
    bytes: Vec<u8>,
    width: u16,
    height: u16,
}

/// Writes synthetic identity documents with `kyc document sample` (200 dpi, varying JPEG
/// quality) until one is within 20 KB of 200 KB, or keeps the closest.
fn make_jpeg(kyc: &Path, root: &Path, dir: &Path) -> Result<Jpeg> {
    let mut best: Option<Jpeg> = None;
    for quality in [85, 88, 82, 90, 80, 92, 78] {
        let out = dir.join(format!("upload-q{quality}.jpg"));
        let done = Command::new(kyc)
            .current_dir(root)
            .args(["document", "sample", "--seed", "1", "--dpi", "200"])
            .args(["--quality", &quality.to_string(), "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .output()
            .context("running kyc document sample")?;
        if !done.status.success() {
            bail!(
                "kyc document sample failed ({}); run `cargo xtask setup` for its fonts\n{}",
                done.status,
                String::from_utf8_lossy(&done.stderr)
            );
        }
        let bytes = std::fs::read(&out).context("reading the sample document")?;
        let (width, height) = jpeg_dimensions(&bytes)
            .context("kyc document sample did not write a JPEG with a frame header")?;
        let jpeg = Jpeg {
            bytes,
            width,
            height,
        };
        let off = |j: &Jpeg| j.bytes.len().abs_diff(JPEG_TARGET);
        if off(&jpeg) <= JPEG_TOLERANCE {
            return Ok(jpeg);
        }
        if best.as_ref().is_none_or(|b| off(&jpeg) < off(b)) {
            best = Some(jpeg);
        }
    }
    best.context("no sample document was written")
}

/// Width and height from the first frame header of a JPEG, if `bytes` is one: starts with SOI,
/// ends with EOI, and has a well-formed segment chain up to a SOF marker.
fn jpeg_dimensions(bytes: &[u8]) -> Option<(u16, u16)> {
    if bytes.get(..2) != Some(&[0xFF, 0xD8])
        || bytes.get(bytes.len().checked_sub(2)?..) != Some(&[0xFF, 0xD9])
    {
        return None;
    }
    let mut i = 2;
    loop {
        if *bytes.get(i)? != 0xFF {
            return None;
        }
        let mut marker = *bytes.get(i + 1)?;
        while marker == 0xFF {
            i += 1;
            marker = *bytes.get(i + 1)?;
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]));
        if len < 2 {
            return None;
        }
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let h = u16::from_be_bytes([*bytes.get(i + 5)?, *bytes.get(i + 6)?]);
            let w = u16::from_be_bytes([*bytes.get(i + 7)?, *bytes.get(i + 8)?]);
            return (w > 0 && h > 0).then_some((w, h));
        }
        if marker == 0xDA {
            return None;
        }
        i += 2 + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for `kyc serve`: prints the ready line, answers `/healthz`, takes uploads
    /// (201 for a JPEG with a fresh `Idempotency-Key`, 409 for a replayed key, 400 otherwise)
    /// and exits with `exit_code` on SIGTERM.
    const STAND_IN: &str = r#"
import http.server, signal, socketserver, sys, threading
host, port = sys.argv[1].rsplit(":", 1)
exit_code = int(sys.argv[2])
seen = set()
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def answer(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def do_GET(self):
        self.answer(200 if self.path == "/healthz" else 404)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        key = self.headers.get("Idempotency-Key")
        if self.path != "/v1/upload-id" or self.headers.get("Content-Type") != "image/jpeg" or not key or body[:3] != b"\xff\xd8\xff":
            return self.answer(400)
        with lock:
            fresh = key not in seen
            seen.add(key)
        self.answer(201 if fresh else 409)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    # The default listen backlog (5) resets connections when more connect at once.
    request_queue_size = 128
srv = S((host, int(port)), H)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
print("starting", flush=True)
print(f"listening on http://{host}:{port}", flush=True)
srv.serve_forever()
sys.exit(exit_code)
"#;

    fn stand_in(addr: SocketAddr, exit_code: i32) -> Command {
        let mut cmd = Command::new("python3");
        cmd.args(["-c", STAND_IN, &addr.to_string(), &exit_code.to_string()]);
        cmd
    }

    fn options() -> ServeOptions {
        ServeOptions {
            connections: 4,
            warmup: Duration::from_millis(200),
            duration: Duration::from_millis(800),
            ready_timeout: Duration::from_secs(10),
            stop_timeout: Duration::from_secs(5),
            bin: None,
            serve_args: Vec::new(),
            json: false,
            check: false,
        }
    }

    /// A minimal JPEG byte stream: SOI, an APP0 segment, a SOF0 frame header, EOI.
    fn tiny_jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x06, b'J', b'F', b'I', b'F'];
        b.extend([0xFF, 0xC0, 0x00, 0x0B, 0x08]);
        b.extend(h.to_be_bytes());
        b.extend(w.to_be_bytes());
        b.extend([0x01, 0x01, 0x11, 0x00]);
        b.extend([0xFF, 0xD9]);
        b
    }

    fn jpeg() -> Jpeg {
        let mut bytes = tiny_jpeg(640, 480);
        // Pad inside a COM segment so the body is upload-sized.
        let pad = vec![b'x'; 60_000];
        let mut com = vec![0xFF, 0xFE];
        com.extend(u16::try_from(pad.len() + 2).unwrap().to_be_bytes());
        com.extend(pad);
        bytes.splice(2..2, com);
        Jpeg {
            bytes,
            width: 640,
            height: 480,
        }
    }

    #[test]
    fn the_whole_benchmark_runs_against_a_stand_in_server() {
        let dir = TempDir::new("test-serve").unwrap();
        let addr = free_port().unwrap();
        let figures = measure(stand_in(addr, 0), addr, dir.path(), jpeg(), &options()).unwrap();
        let l = &figures.load;
        // Every upload had its own key (a replay would be a 409) and was accepted.
        assert!(l.responses() > 20, "{figures}");
        assert_eq!(l.failures(CREATED), 0, "{figures}");
        assert_eq!(l.connections_opened, 4);
        assert!(figures.idle_rss_kb > 1024 && figures.peak_rss_kb >= figures.idle_rss_kb);
        // The kernel's per-CPU memory counters make both readings approximate by a few pages.
        assert!(figures.hwm_kb + 1024 >= figures.peak_rss_kb, "{figures}");
        assert!(figures.rss_samples >= 5, "{}", figures.rss_samples);
        assert!(figures.stopped_after < Duration::from_secs(3));
        assert_eq!(figures.jpeg_size, (640, 480));
        let text = figures.to_string();
        for needle in ["req/s", "p99", "≥ 300 req/s", "VmHWM", "exit 0"] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
        let json = figures.to_json();
        assert_eq!(json["load"]["responses"], l.responses());
        assert_eq!(json["memory_kb"]["vm_hwm"], figures.hwm_kb);
        assert_eq!(json["jpeg"]["bytes"], figures.jpeg_bytes);
        assert_eq!(
            json["targets"]["requests_per_second"]["met"],
            l.requests_per_second() >= TARGET_RPS
        );
        report(&figures).unwrap();
        let mut strict = figures.clone();
        strict.options.check = true;
        strict.options.json = true;
        // The stand-in is far from 300 uploads per second with a p99 of 50 ms on 4
        // connections only when the machine is busy; either way `--check` follows the figures.
        assert_eq!(
            report(&strict).is_ok(),
            strict.rps_met() && strict.p99_met()
        );
    }

    #[test]
    fn an_unclean_exit_after_sigterm_fails_with_the_status() {
        let dir = TempDir::new("test-serve-exit").unwrap();
        let addr = free_port().unwrap();
        let mut opts = options();
        opts.warmup = Duration::ZERO;
        opts.duration = Duration::from_millis(200);
        let e = measure(stand_in(addr, 3), addr, dir.path(), jpeg(), &opts)
            .unwrap_err()
            .to_string();
        assert!(e.contains("did not exit cleanly"), "{e}");
        assert!(e.contains("exit status: 3"), "{e}");
    }

    #[test]
    fn a_server_that_dies_at_start_fails_with_its_stderr() {
        let dir = TempDir::new("test-serve-dies").unwrap();
        let addr = free_port().unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo 'error: no models in .kyc-cache' >&2; exit 2"]);
        let e = measure(cmd, addr, dir.path(), jpeg(), &options())
            .unwrap_err()
            .to_string();
        assert!(e.contains("exited before it was ready"), "{e}");
        assert!(e.contains("no models in .kyc-cache"), "{e}");
    }

    #[test]
    fn a_server_that_never_gets_ready_fails_at_the_deadline() {
        let dir = TempDir::new("test-serve-silent").unwrap();
        let addr = free_port().unwrap();
        let mut opts = options();
        opts.ready_timeout = Duration::from_millis(500);
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo loading >&2; exec sleep 30"]);
        let started = Instant::now();
        let e = measure(cmd, addr, dir.path(), jpeg(), &opts)
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(e.contains("not ready in time"), "{e}");
        assert!(e.contains("no ready line"), "{e}");
        assert!(e.contains("loading"), "{e}");
    }

    #[test]
    fn failed_uploads_fail_the_command() {
        let dir = TempDir::new("test-serve-fail").unwrap();
        let addr = free_port().unwrap();
        let mut bad = jpeg();
        // Not a JPEG: the stand-in answers 400.
        bad.bytes[0] = 0;
        let figures = measure(stand_in(addr, 0), addr, dir.path(), bad, &options()).unwrap();
        assert!(figures.load.status_class(4) > 0);
        let e = report(&figures).unwrap_err().to_string();
        assert!(e.contains("did not get 201"), "{e}");
        assert!(!e.contains("rate limit"), "{e}");
        let mut limited = figures.clone();
        limited.load.statuses.insert(429, 7);
        let e = report(&limited).unwrap_err().to_string();
        assert!(e.contains("429 is the per-client rate limit"), "{e}");
    }

    #[test]
    fn jpeg_dimensions_come_from_the_frame_header() {
        assert_eq!(jpeg_dimensions(&tiny_jpeg(1000, 700)), Some((1000, 700)));
        assert_eq!(jpeg_dimensions(&jpeg().bytes), Some((640, 480)));
        let mut no_eoi = tiny_jpeg(10, 10);
        no_eoi.truncate(no_eoi.len() - 2);
        assert_eq!(jpeg_dimensions(&no_eoi), None);
        assert_eq!(jpeg_dimensions(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(jpeg_dimensions(&[]), None);
        assert_eq!(jpeg_dimensions(&[0xFF, 0xD8, 0xFF, 0xD9]), None);
        // A segment length pointing past the end.
        assert_eq!(
            jpeg_dimensions(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xF0, 0xFF, 0xD9]),
            None
        );
        assert_eq!(jpeg_dimensions(&tiny_jpeg(0, 10)), None);
    }

    #[test]
    fn options_have_the_issue_defaults_and_reject_nonsense() {
        let o = ServeOptions::parse(&[]).unwrap();
        assert_eq!(
            (o.connections, o.warmup, o.duration, o.json, o.check),
            (
                16,
                Duration::from_secs(3),
                Duration::from_secs(10),
                false,
                false
            )
        );
        let args: Vec<String> = ["--connections", "64", "--duration", "2.5", "--json"]
            .map(String::from)
            .to_vec();
        let o = ServeOptions::parse(&args).unwrap();
        assert_eq!(
            (o.connections, o.duration, o.json),
            (64, Duration::from_millis(2500), true)
        );
        let args: Vec<String> = ["--json", "--", "--rate-limit", "0", "--json"]
            .map(String::from)
            .to_vec();
        let o = ServeOptions::parse(&args).unwrap();
        assert!(o.json);
        assert_eq!(o.serve_args, ["--rate-limit", "0", "--json"]);
        assert!(ServeOptions::parse(&[]).unwrap().serve_args.is_empty());
        for bad in [
            &["--connections", "0"][..],
            &["--duration", "0"],
            &["--runs", "3"],
        ] {
            let args: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
            assert!(ServeOptions::parse(&args).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_health_probe_reads_the_status_line() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for (i, s) in l.incoming().enumerate().take(2) {
                let mut s = s.unwrap();
                let mut buf = [0u8; 256];
                let _ = s.read(&mut buf);
                let reply: &[u8] = if i == 0 {
                    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"
                } else {
                    b"garbage"
                };
                s.write_all(reply).unwrap();
            }
        });
        assert_eq!(
            http_status(addr, "/healthz", Duration::from_secs(2)).unwrap(),
            503
        );
        assert!(http_status(addr, "/healthz", Duration::from_secs(2)).is_err());
    }
}
