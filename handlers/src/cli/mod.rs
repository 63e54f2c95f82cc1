//! The `kyc` command-line tool: argument definitions and one module per command group.

use clap::{Parser, Subcommand};

pub mod mrz;
pub mod sanctions;

/// The KYC kit's command-line tool.
#[derive(Debug, Parser)]
#[command(name = "kyc", version, about = "Identity verification (KYC) kit", long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The command groups of `kyc`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Machine-readable zones of travel documents (ICAO 9303).
    #[command(subcommand)]
    Mrz(mrz::MrzCommand),
    /// Sanctions screening against OFAC, UN, EU, UK and OpenSanctions list files.
    #[command(subcommand)]
    Sanctions(sanctions::SanctionsCommand),
}

/// Runs a parsed command, writing its output to `out`.
pub fn run(
    cli: Cli,
    stdin: &mut dyn std::io::BufRead,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    match cli.command {
        Command::Mrz(cmd) => mrz::run(cmd, stdin, out),
        Command::Sanctions(cmd) => sanctions::run(cmd, out),
    }
}
