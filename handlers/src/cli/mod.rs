//! The `kyc` command-line tool: argument definitions and one module per command group.

use clap::{Parser, Subcommand};
use kyc_core::ports::Clock;

pub mod document;
pub mod face;
pub mod mrz;
pub mod sanctions;
pub mod serve;

/// The KYC kit's command-line tool.
#[derive(Debug, Parser)]
#[command(name = "kyc", version, about = "Identity verification (KYC) kit", long_about = None, args_override_self = true)]
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
    /// Faces: compare two photos with the local face engine.
    #[command(subcommand)]
    Face(face::FaceCommand),
    /// Identity documents: OCR with the embedded engine, synthetic samples.
    #[command(subcommand)]
    Document(document::DocumentCommand),
    /// Serve the whole API and its page on the embedded engines.
    Serve(serve::ServeArgs),
    /// One offline verification of a document photo and a selfie (no liveness).
    Verify(serve::VerifyArgs),
}

/// How a command that ran to the end came out; the binary turns it into the exit status
/// (errors, `Err` from [`run`], exit with 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The command succeeded: exit status 0.
    Success,
    /// The command printed its result, and the result is negative: exit status 1 (e.g. an MRZ
    /// whose check digits fail).
    Negative,
}

impl Outcome {
    /// The process exit status.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Negative => 1,
        }
    }
}

/// Runs a parsed command, writing its output to `out`. Time comes from `clock` (the binary
/// passes the system clock, tests a fake).
pub fn run(
    cli: Cli,
    clock: &dyn Clock,
    stdin: &mut dyn std::io::BufRead,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Mrz(cmd) => mrz::run(cmd, clock, stdin, out),
        Command::Sanctions(cmd) => sanctions::run(cmd, out).map(|()| Outcome::Success),
        Command::Face(cmd) => face::run(cmd, out),
        Command::Document(cmd) => document::run(cmd, clock, out),
        Command::Serve(args) => serve::run_serve(args, out),
        Command::Verify(args) => serve::run_verify(args, out),
    }
}
