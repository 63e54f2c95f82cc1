//! The `kyc` command-line tool: parses arguments and runs one command; errors print as one line
//! on stderr with a non-zero exit.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = handlers::cli::Cli::parse();
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match handlers::cli::run(cli, &mut stdin, &mut out) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` joins the context chain on one line; no message here carries personal data.
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
