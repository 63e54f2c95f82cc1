//! The `kyc` command-line tool: parses arguments and runs one command; errors print as one line
//! on stderr with a non-zero exit.

use clap::Parser;
use handlers::system::SystemClock;

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
    match handlers::cli::run(cli, &SystemClock::default(), &mut stdin, &mut out) {
        Ok(outcome) => std::process::ExitCode::from(outcome.exit_code()),
        Err(e) => {
            // `{:#}` joins the context chain on one line; no message here carries personal data.
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
