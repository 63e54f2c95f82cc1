//! `kyc mrz parse`. (Skeleton: the MRZ owner fills this in.)

use clap::Subcommand;

/// `kyc mrz …`
#[derive(Debug, Subcommand)]
pub enum MrzCommand {
    /// Parse MRZ lines (from the arguments, or stdin when none are given).
    Parse {
        /// The MRZ lines.
        lines: Vec<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `kyc mrz …`.
pub fn run(
    cmd: MrzCommand,
    _stdin: &mut dyn std::io::BufRead,
    _out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    match cmd {
        MrzCommand::Parse { .. } => anyhow::bail!("not yet implemented"),
    }
}
