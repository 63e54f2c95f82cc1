//! The `kyc` command-line tool: parses arguments and runs one command; errors print as one line
//! on stderr with a non-zero exit.

use clap::Parser;
use kyc_core::model::Timestamp;
use kyc_core::ports::Clock;

/// The operating system's wall clock. A one-shot command reads it once or twice, so the
/// port's "never backwards" rule needs no monotonic correction here.
struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::from_millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }
}

fn main() -> std::process::ExitCode {
    // The OCR and face engines' native libraries size their thread pools when they are loaded,
    // from the environment; `kyc serve` needs them to leave a core to the requests.
    if std::env::args().nth(1).as_deref() == Some("serve") {
        if let Some(err) = handlers::serve::reexec_with_engine_threads() {
            eprintln!("error: {err}");
            return std::process::ExitCode::from(2);
        }
    }
    let cli = handlers::cli::Cli::parse();
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match handlers::cli::run(cli, &SystemClock, &mut stdin, &mut out) {
        Ok(outcome) => std::process::ExitCode::from(outcome.exit_code()),
        Err(e) => {
            // `{:#}` joins the context chain on one line; no message here carries personal data.
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
