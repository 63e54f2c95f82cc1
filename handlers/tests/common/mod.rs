//! Support shared by the tests that run `kyc serve` as a child process: starting it on a free
//! port of a private data directory, stopping it with SIGTERM, a small raw HTTP/1.1 client (raw
//! so that hostile requests reach the server exactly as written), and the test photos.

#![allow(dead_code)] // each test binary uses a part of it

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The workspace root (the parent of the `handlers` crate).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The asset and model cache `cargo xtask setup` fills (`$KYC_CACHE_DIR`, else the
/// workspace's `.kyc-cache`).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("KYC_CACHE_DIR").map_or_else(|| workspace().join(".kyc-cache"), PathBuf::from)
}

/// The shared data (sanctions lists): `$KYC_SHARED_DATA`, else `<repo>/../shared/data`.
pub fn shared_data() -> PathBuf {
    std::env::var_os("KYC_SHARED_DATA").map_or_else(
        || workspace().join("..").join("shared").join("data"),
        PathBuf::from,
    )
}

/// A test photo of the asset cache (`obama.jpg`, `biden.jpg`, …).
pub fn face_photo(name: &str) -> Vec<u8> {
    let path = cache_dir().join("assets").join("faces").join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "test photo {} missing ({e}); run `cargo xtask setup`",
            path.display()
        )
    })
}

/// A running `kyc serve`. Dropping it sends SIGTERM (then SIGKILL if it hangs);
/// [`Server::stop`] does the same and returns the exit status.
pub struct Server {
    child: Option<Child>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Its log (stderr).
    pub log_path: PathBuf,
    /// How long it took from spawn to `listening on`.
    pub startup: Duration,
}

impl Server {
    /// Starts `kyc serve --addr 127.0.0.1:0 --data-dir DATA --rate-limit 0 EXTRA…` and waits
    /// for the address it prints.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        std::fs::create_dir_all(data_dir).expect("creating the data directory");
        let log_path = data_dir.with_extension(format!("{}.log", unique()));
        let log = std::fs::File::create(&log_path).expect("creating the log file");
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kyc"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0", "--rate-limit", "0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("KYC_CACHE_DIR", cache_dir())
            .env("KYC_SHARED_DATA", shared_data())
            .env("KYC_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawning kyc serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(a) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(a.trim().to_owned());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(300)) {
            Ok(a) => a
                .parse()
                .expect("a socket address after `listening on http://`"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "kyc serve did not start; its log:\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
        };
        Server {
            child: Some(child),
            addr,
            data_dir: data_dir.to_path_buf(),
            log_path,
            startup: started.elapsed(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The resident set size and its peak, in KiB (`VmRSS`, `VmHWM` of /proc/PID/status).
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("reading /proc/PID/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
                .expect("a memory figure")
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Sends a request to this server.
    pub fn send(&self, req: &Request) -> Response {
        send(self.addr, req)
    }

    /// SIGTERM, then waits (up to 30 s) for the exit; returns the status and how long it took.
    pub fn stop(mut self) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("a running server");
        let t = Instant::now();
        terminate(&mut child, Duration::from_secs(30))
            .map(|s| (s, t.elapsed()))
            .unwrap_or_else(|| panic!("kyc serve did not stop within 30 s of SIGTERM"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if terminate(&mut child, Duration::from_secs(10)).is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// SIGTERM (through `kill`, the tests have no libc), then waits up to `patience`.
fn terminate(child: &mut Child, patience: Duration) -> Option<ExitStatus> {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + patience;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => return None,
        }
    }
}

/// A process-unique number (for file names and keys).
pub fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{t:x}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// How the body is sent.
#[derive(Clone, Debug)]
pub enum Body {
    /// No body and no length header.
    None,
    /// With an honest `Content-Length`.
    Sized(Vec<u8>),
    /// `Transfer-Encoding: chunked`, in chunks of at most 64 KiB.
    Chunked(Vec<u8>),
    /// A `Content-Length` header with this value, then the bytes as they are (a lie).
    Declared(u64, Vec<u8>),
}

/// One request, written byte for byte as given (the path is not normalised).
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: String,
    /// The request target, raw.
    pub path: String,
    /// Extra headers (values are raw bytes, so they may be non-ASCII).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Body,
}

impl Request {
    /// A request without headers or body.
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: Body::None,
        }
    }

    /// `GET path`.
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    /// `POST path` with a JSON body.
    pub fn json(path: &str, body: &Value) -> Self {
        Self::new("POST", path)
            .header("content-type", "application/json")
            .body(Body::Sized(body.to_string().into_bytes()))
    }

    /// With a header.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_owned(), value.as_ref().to_vec()));
        self
    }

    /// With a body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    fn head(&self, addr: SocketAddr) -> Vec<u8> {
        let mut h = format!(
            "{} {} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n",
            self.method, self.path
        )
        .into_bytes();
        for (name, value) in &self.headers {
            h.extend_from_slice(name.as_bytes());
            h.extend_from_slice(b": ");
            h.extend_from_slice(value);
            h.extend_from_slice(b"\r\n");
        }
        match &self.body {
            Body::None => {}
            Body::Sized(b) => {
                h.extend_from_slice(format!("content-length: {}\r\n", b.len()).as_bytes())
            }
            Body::Declared(n, _) => {
                h.extend_from_slice(format!("content-length: {n}\r\n").as_bytes())
            }
            Body::Chunked(_) => h.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        }
        h.extend_from_slice(b"\r\n");
        h
    }

    fn payload(&self) -> Vec<u8> {
        match &self.body {
            Body::None => Vec::new(),
            Body::Sized(b) | Body::Declared(_, b) => b.clone(),
            Body::Chunked(b) => {
                let mut out = Vec::with_capacity(b.len() + b.len() / 1000 + 16);
                for chunk in b.chunks(64 * 1024) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
                out
            }
        }
    }
}

/// A response.
#[derive(Clone, Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// How long the exchange took.
    pub elapsed: Duration,
}

impl Response {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (panics with the status and body otherwise).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "status {} with a body that is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text, for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `req` on a new connection (`connection: close`) and reads the whole response. The
/// body is written from another thread, so a server that answers before reading it all
/// (413 on a declared length) is read rather than deadlocked on.
pub fn send(addr: SocketAddr, req: &Request) -> Response {
    let t = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connecting to kyc serve");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("read timeout");
    let mut writer = stream.try_clone().expect("cloning the socket");
    let head = req.head(addr);
    let payload = req.payload();
    let sender = std::thread::spawn(move || {
        // The server may close before reading everything: write errors are expected then.
        let _ = writer.write_all(&head);
        let _ = writer.write_all(&payload);
        let _ = writer.flush();
    });
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if raw.is_empty() => {
                panic!("no response to {} {}: {e}", req.method, short(&req.path))
            }
            Err(_) => break,
        }
    }
    let _ = sender.join();
    let mut r = parse_response(&raw)
        .unwrap_or_else(|| panic!("malformed response to {} {}", req.method, short(&req.path)));
    r.elapsed = t.elapsed();
    r
}

/// Sends raw bytes as a whole request (for requests that are not well-formed HTTP) and reads
/// the response.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Response {
    let t = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connecting to kyc serve");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    let _ = stream.write_all(bytes);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let mut r = parse_response(&raw).expect("a response to a raw request");
    r.elapsed = t.elapsed();
    r
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Parses a raw HTTP/1.1 response (a head, then a sized, chunked or closed body).
pub fn parse_response(raw: &[u8]) -> Option<Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(raw.get(..end)?).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = raw.get(end + 4..)?;
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        match headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
        {
            Some(n) => rest.get(..n)?.to_vec(),
            None => rest.to_vec(),
        }
    };
    Some(Response {
        status,
        headers,
        body,
        elapsed: Duration::ZERO,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(rest.get(..eol)?).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = rest.get(eol + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// The `.obj` and `.tmp` files of the encrypted object store.
pub fn object_files(data_dir: &Path) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(data_dir.join("objects"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".obj") || n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

/// Encodes an RGB image as a JPEG of the given quality.
pub fn jpeg(img: &image::RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .expect("encoding a JPEG");
    out
}

/// Encodes an RGB image as a PNG.
pub fn png(img: &image::RgbImage) -> Vec<u8> {
    use image::ImageEncoder as _;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ColorType::Rgb8,
        )
        .expect("encoding a PNG");
    out
}

/// Standard base64.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Milliseconds since the epoch as RFC 3339 (UTC, milliseconds).
pub fn rfc3339(ms: i64) -> String {
    let t = kyc_core::model::Timestamp::from_millis(ms);
    let d = t.date();
    let m = ms.rem_euclid(86_400_000);
    format!(
        "{d}T{:02}:{:02}:{:02}.{:03}Z",
        m / 3_600_000,
        (m / 60_000) % 60,
        (m / 1000) % 60,
        m % 1000
    )
}

/// The wall clock in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Asserts that `r` is a problem document with status `status` and returns it.
pub fn assert_problem(r: &Response, status: u16, what: &str) -> Value {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{what}"
    );
    let p = r.json();
    assert!(
        p["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:kyc-kit:problem:")),
        "{what}: {p}"
    );
    assert!(
        p["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{what}: {p}"
    );
    assert_eq!(p["status"].as_u64(), Some(u64::from(status)), "{what}: {p}");
    assert!(
        p["requestId"].as_str().is_some_and(|t| !t.is_empty()),
        "{what}: {p}"
    );
    p
}

/// Polls `GET /v1/verify/{id}` until `done` holds (or panics after `patience`).
pub fn poll_verification(
    server: &Server,
    id: &str,
    patience: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + patience;
    loop {
        let r = server.send(&Request::get(&format!("/v1/verify/{id}")));
        assert_eq!(r.status, 200, "GET /v1/verify: {}", r.text());
        let doc = r.json();
        if done(&doc) {
            return doc;
        }
        assert!(
            Instant::now() < deadline,
            "verification not done in time; last state {}",
            doc["state"]
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
