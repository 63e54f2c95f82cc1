//! `cargo xtask bench serve` and `cargo xtask bench lambda`: the figures of issue 7, measured
//! end to end on release builds and printed against their targets (`--json` for machines).
//!
//! - `bench serve [--connections N] [--warmup S] [--duration S] [--ready-timeout S]
//!   [--bin PATH] [--json] [--check] [-- SERVE_ARGS...]` builds `kyc` (`cargo build --release -p handlers --bin
//!   kyc`), writes a ~200 KB JPEG of a synthetic identity document with `kyc document sample`,
//!   starts `kyc serve --addr 127.0.0.1:PORT --data-dir TMP` (ready once it printed
//!   `listening on http://ADDR` and `GET /healthz` answers 200), loads `POST /v1/upload-id`
//!   (raw `image/jpeg`, a fresh `Idempotency-Key` per request) from 16 keep-alive connections
//!   for a 3 s warm-up and a 10 s measured window, samples the server's resident memory every
//!   100 ms (and reads its `VmHWM` at the end), then stops it with SIGTERM and requires exit
//!   status 0 within 10 s. Targets: ≥ 300 req/s and p99 ≤ 50 ms. What follows `--` is added to
//!   `kyc serve`'s arguments (its per-client rate limit would otherwise answer most of a load
//!   that comes from one address with 429). The uploads are stored: a run writes about 1 GB
//!   under the temporary directory (`$TMPDIR`), removed at the end.
//! - `bench lambda [--runs N] [--timeout S] [--bin PATH] [--json] [--check]` builds the API
//!   Lambda binary ([`lambda::API_BUILD`]), reports the size of its `bootstrap` zip as
//!   `cargo xtask dist` packs it (target ≤ 8 MB), and times it from process start to its first
//!   `GET /2018-06-01/runtime/invocation/next` against a mock Lambda Runtime API on loopback
//!   (20 runs: min, median, p90; target ≤ 30 ms). Each run then hands the binary an API Gateway
//!   REST event for `GET /healthz` and requires a 200 response posted back, which proves the
//!   binary was really ready.
//! - `bench NAME` (or `bench` alone) runs the criterion benches (`cargo bench`).
//!
//! `--bin PATH` skips the build and uses that binary. A missing binary, a server that does not
//! come up, failed requests (any status but the expected one, or a transport error), or an
//! unclean shutdown end the command with a non-zero status and the server's stderr; a missed
//! target is printed as `MISSED` and fails the command only with `--check` (the figures depend
//! on the machine and on what else runs on it).

pub mod lambda;
pub mod load;
pub mod serve;

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// Builds one binary with `cargo` and the given arguments (which must name it with `--bin`),
/// and returns the path of the executable cargo reports.
fn build_binary(cargo: &dyn Fn() -> Command, args: &[&str], bin: &str) -> Result<PathBuf> {
    eprintln!("==> cargo {}", args.join(" "));
    let out = cargo()
        .args(args)
        .arg("--message-format=json-render-diagnostics")
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo build")?;
    if !out.status.success() {
        bail!("cargo {} failed ({})", args.join(" "), out.status);
    }
    executable_from_messages(&String::from_utf8_lossy(&out.stdout), bin).with_context(|| {
        format!(
            "cargo {} reported no executable named `{bin}`",
            args.join(" ")
        )
    })
}

/// The `executable` of the last `compiler-artifact` message for binary `bin` in cargo's JSON
/// messages.
fn executable_from_messages(messages: &str, bin: &str) -> Option<PathBuf> {
    messages
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == bin)
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|x| x == "bin"))
        })
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// Parses `--flag value` options: the flags a command accepts, with their values so far.
struct Flags<'a> {
    args: &'a [String],
    usage: &'static str,
}

impl<'a> Flags<'a> {
    fn new(args: &'a [String], usage: &'static str) -> Self {
        Self { args, usage }
    }

    /// Checks every argument is one of `switches` (no value) or `valued` (one value).
    fn check(&self, switches: &[&str], valued: &[&str]) -> Result<()> {
        let mut i = 0;
        while let Some(a) = self.args.get(i) {
            if valued.contains(&a.as_str()) {
                if self.args.get(i + 1).is_none() {
                    bail!("{a} needs a value\nusage: {}", self.usage);
                }
                i += 2;
            } else if switches.contains(&a.as_str()) {
                i += 1;
            } else {
                bail!("unknown argument `{a}`\nusage: {}", self.usage);
            }
        }
        Ok(())
    }

    fn switch(&self, name: &str) -> bool {
        self.args.iter().any(|a| a == name)
    }

    fn value(&self, name: &str) -> Option<&'a str> {
        self.args
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.args.get(i + 1))
            .map(String::as_str)
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("{name} wants a number, got `{v}`")),
        }
    }

    fn seconds(&self, name: &str, default: f64) -> Result<Duration> {
        let s: f64 = self.number(name, default)?;
        if !(0.0..=3600.0).contains(&s) {
            bail!("{name} wants seconds between 0 and 3600, got {s}");
        }
        Ok(Duration::from_secs_f64(s))
    }
}

/// A directory under the system's temporary directory, removed with everything in it when
/// dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("kyc-bench-{what}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `ETXTBSY`: the executable is open for writing somewhere.
const TEXT_FILE_BUSY: i32 = 26;

/// Spawns `cmd`, retrying for up to a second while the executable is "text file busy".
///
/// A binary written a moment ago (the Lambda bench's `bootstrap`, a test's stand-in script) can
/// be refused by `exec` even after its writer closed it: a process forked by another thread
/// during the write inherits the write descriptor until its own `exec` closes it. That window
/// is short, so a bounded retry ends it; any other error, or one that lasts, is returned.
fn spawn_past_text_busy(cmd: &mut Command) -> std::io::Result<Child> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(TEXT_FILE_BUSY) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// A child process that is killed (SIGKILL) and reaped if it is still running when dropped, so
/// a failing benchmark never leaves a server behind.
struct Running {
    child: Child,
    /// Where its stderr (and maybe its stdout) goes.
    log: PathBuf,
}

impl Running {
    /// Spawns `cmd` with stdin closed and stderr written to the file `log` (stdout too when
    /// `with_stdout`; otherwise stdout is left as `cmd` has it).
    fn spawn(cmd: &mut Command, log: &Path, with_stdout: bool) -> Result<Self> {
        let file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        if with_stdout {
            cmd.stdout(file.try_clone().context("sharing the log file")?);
        }
        cmd.stdin(Stdio::null()).stderr(file);
        let child = spawn_past_text_busy(cmd)
            .with_context(|| format!("starting {:?}", cmd.get_program()))?;
        Ok(Self {
            child,
            log: log.to_path_buf(),
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has ended.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last lines of its log, for an error message.
    fn log_tail(&self) -> String {
        tail(&self.log, 30)
    }

    /// Sends SIGTERM and waits up to `grace` for the process to end; its status and how long
    /// it took.
    fn terminate(&mut self, grace: Duration) -> Result<(ExitStatus, Duration)> {
        let sent = Instant::now();
        // std cannot send SIGTERM and the workspace forbids `unsafe` (libc); kill(1) can.
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .context("running kill -TERM")?;
        if !status.success() {
            bail!("kill -TERM {} failed ({status})", self.pid());
        }
        loop {
            if let Some(status) = self.exited() {
                return Ok((status, sent.elapsed()));
            }
            if sent.elapsed() > grace {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!(
                    "the process did not exit within {:.0} s of SIGTERM (killed)\n{}",
                    grace.as_secs_f64(),
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last `lines` lines of a text file (empty when it cannot be read); reads at most the
/// last 64 KB.
fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut bytes = Vec::new();
    let _ = f.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    let from = all.len().saturating_sub(lines);
    let shown = all.get(from..).unwrap_or_default().join("\n");
    if shown.is_empty() {
        "(the process wrote nothing to stderr)".into()
    } else {
        format!("--- the process's output (last lines) ---\n{shown}")
    }
}

/// A field of `/proc/PID/status` in kB (`VmRSS`, `VmHWM`, …), `None` once the process is gone.
fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kb(&text, field)
}

fn parse_status_kb(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        let mut parts = rest.split_whitespace();
        let n = parts.next()?.parse().ok()?;
        (parts.next() == Some("kB")).then_some(n)
    })
}

/// Samples a process's `VmRSS` on a thread until stopped; keeps the largest value seen.
struct RssSampler {
    stop: std::sync::mpsc::Sender<()>,
    handle: std::thread::JoinHandle<(u64, usize)>,
}

impl RssSampler {
    fn start(pid: u32, every: Duration) -> Self {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            let (mut peak, mut samples) = (0, 0);
            loop {
                if let Some(kb) = proc_status_kb(pid, "VmRSS") {
                    peak = peak.max(kb);
                    samples += 1;
                }
                match stopped.recv_timeout(every) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    _ => return (peak, samples),
                }
            }
        });
        Self { stop, handle }
    }

    /// Stops sampling: the largest `VmRSS` seen in kB, and how many samples were taken.
    fn finish(self) -> (u64, usize) {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or((0, 0))
    }
}

/// Reads lines from a child's stdout on a thread until one contains `needle`, then passes the
/// rest of that line on and keeps draining the pipe (so the child never blocks writing).
fn watch_stdout(
    stdout: impl Read + Send + 'static,
    needle: &'static str,
) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let mut found = false;
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            if !found {
                if let Some(at) = line.find(needle) {
                    found = true;
                    let rest = line.get(at + needle.len()..).unwrap_or_default();
                    let _ = tx.send(rest.trim().to_string());
                }
            }
            line.clear();
        }
    });
    rx
}

/// Prints `met` or `MISSED` for a target.
fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Holds a freshly written script open for writing (what a concurrently forked child does
    /// by accident), so `exec` says "text file busy"; the spawn must wait it out, and must give
    /// up when the writer never lets go.
    #[test]
    fn a_text_file_busy_executable_is_retried_until_its_writer_closes() {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("kyc-xtask-etxtbsy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("busy.sh");
        let mut writer = std::fs::File::create(&script).unwrap();
        writer.write_all(b"#!/bin/sh\nexit 0\n").unwrap();
        writer.flush().unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

        let held = Command::new(&script).spawn().unwrap_err();
        assert_eq!(held.raw_os_error(), Some(TEXT_FILE_BUSY), "{held}");
        let held_throughout = spawn_past_text_busy(&mut Command::new(&script)).unwrap_err();
        assert_eq!(held_throughout.raw_os_error(), Some(TEXT_FILE_BUSY));

        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(writer);
        });
        let mut child = spawn_past_text_busy(&mut Command::new(&script)).unwrap();
        assert!(child.wait().unwrap().success());
        release.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_executable_is_found_in_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"kyc-core","kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","target":{"name":"stackgen","kind":["bin"]},"executable":"/t/release/stackgen"}
not json
{"reason":"compiler-artifact","target":{"name":"kyc","kind":["bin"]},"executable":"/t/release/kyc"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable_from_messages(messages, "kyc"),
            Some(PathBuf::from("/t/release/kyc"))
        );
        assert_eq!(executable_from_messages(messages, "api"), None);
        assert_eq!(executable_from_messages(messages, "kyc-core"), None);
    }

    #[test]
    fn flags_take_values_and_reject_strangers() {
        let args: Vec<String> = ["--runs", "5", "--json", "--timeout", "1.5"]
            .map(String::from)
            .to_vec();
        let f = Flags::new(&args, "u");
        f.check(&["--json"], &["--runs", "--timeout"]).unwrap();
        assert!(f.switch("--json") && !f.switch("--check"));
        assert_eq!(f.number("--runs", 20).unwrap(), 5);
        assert_eq!(f.number("--other", 20).unwrap(), 20);
        assert_eq!(
            f.seconds("--timeout", 9.0).unwrap(),
            Duration::from_millis(1500)
        );
        let err = f.check(&[], &["--runs", "--timeout"]).unwrap_err();
        assert!(err.to_string().contains("unknown argument `--json`"));
        let args: Vec<String> = vec!["--runs".into()];
        assert!(Flags::new(&args, "u")
            .check(&[], &["--runs"])
            .unwrap_err()
            .to_string()
            .contains("needs a value"));
        let args: Vec<String> = ["--runs", "many"].map(String::from).to_vec();
        assert!(Flags::new(&args, "u").number("--runs", 1u32).is_err());
        let args: Vec<String> = ["--warmup", "-1"].map(String::from).to_vec();
        assert!(Flags::new(&args, "u").seconds("--warmup", 1.0).is_err());
    }

    #[test]
    fn proc_status_fields_are_read_in_kilobytes() {
        let status = "Name:\tkyc\nVmHWM:\t  123456 kB\nVmRSS:\t   98765 kB\nThreads:\t4\n";
        assert_eq!(parse_status_kb(status, "VmHWM"), Some(123_456));
        assert_eq!(parse_status_kb(status, "VmRSS"), Some(98_765));
        assert_eq!(parse_status_kb(status, "VmSwap"), None);
        assert_eq!(parse_status_kb(status, "Threads"), None);
        // This test process has a resident set.
        assert!(proc_status_kb(std::process::id(), "VmRSS").is_some_and(|kb| kb > 100));
    }

    #[test]
    fn a_dropped_process_is_killed_and_its_stderr_is_kept() {
        let dir = TempDir::new("test-running").unwrap();
        let err = dir.path().join("err.log");
        let mut p = Running::spawn(
            Command::new("sh").args(["-c", "echo starting >&2; exec sleep 30"]),
            &err,
            false,
        )
        .unwrap();
        let pid = p.pid();
        std::thread::sleep(Duration::from_millis(200));
        assert!(p.exited().is_none());
        assert!(p.log_tail().contains("starting"));
        drop(p);
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
        let path = dir.path().to_path_buf();
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn sigterm_reports_the_exit_status_and_a_stubborn_process_is_killed() {
        let dir = TempDir::new("test-term").unwrap();
        let err = dir.path().join("err.log");
        let mut clean = Running::spawn(
            Command::new("sh").args(["-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"]),
            &err,
            false,
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let (status, took) = clean.terminate(Duration::from_secs(5)).unwrap();
        assert!(status.success(), "{status}");
        assert!(took < Duration::from_secs(2));
        let mut stubborn = Running::spawn(
            Command::new("sh").args([
                "-c",
                "echo ignoring >&2; trap '' TERM; while :; do sleep 0.05; done",
            ]),
            &err,
            false,
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let e = stubborn
            .terminate(Duration::from_millis(300))
            .unwrap_err()
            .to_string();
        assert!(e.contains("did not exit within"), "{e}");
        assert!(e.contains("ignoring"), "{e}");
        assert!(stubborn.exited().is_some());
    }

    #[test]
    fn the_sampler_sees_a_growing_process() {
        // A process that starts small, grows by 40 MB, says so, then sleeps.
        let dir = TempDir::new("test-rss").unwrap();
        let mut p = Running::spawn(
            Command::new("python3")
                .args([
                    "-c",
                    "import time; time.sleep(0.3); b = bytearray(40 << 20); \
                     print('grown', flush=True); time.sleep(30)",
                ])
                .stdout(Stdio::piped()),
            &dir.path().join("err.log"),
            false,
        )
        .unwrap();
        let sampler = RssSampler::start(p.pid(), Duration::from_millis(20));
        let grown = watch_stdout(p.child.stdout.take().unwrap(), "grown");
        grown.recv_timeout(Duration::from_secs(20)).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let (peak, samples) = sampler.finish();
        let hwm = proc_status_kb(p.pid(), "VmHWM").unwrap();
        assert!(samples >= 5, "{samples}");
        assert!(peak > 40 * 1024, "{peak} kB");
        // Both readings are approximate by a few pages (per-CPU counters).
        assert!(hwm + 1024 >= peak, "{hwm} < {peak}");
        assert!(p.exited().is_none());
    }

    #[test]
    fn the_stdout_watcher_passes_on_the_rest_of_the_line() {
        let input = b"starting\nlistening on http://127.0.0.1:8080 \nmore\n".to_vec();
        let rx = watch_stdout(std::io::Cursor::new(input), "listening on http://");
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(2)).unwrap(),
            "127.0.0.1:8080"
        );
        let rx = watch_stdout(std::io::Cursor::new(b"nothing\n".to_vec()), "listening");
        assert!(rx.recv_timeout(Duration::from_secs(2)).is_err());
    }
}
