//! The `stackgen` command line: synth, diff and deploy of the KYC kit's stacks.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use stackgen::stack::Env;
use stackgen::synth::{self, Format};

/// Generate, review and deploy the KYC kit's CloudFormation stacks.
#[derive(Parser)]
#[command(name = "stackgen", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the template of an environment (or print it when no --out is given).
    Synth {
        /// dev, stage or prod (all three when omitted).
        #[arg(long)]
        env: Option<Env>,
        /// Directory to write `kyc-<env>.<yaml|json>` into.
        #[arg(long)]
        out: Option<PathBuf>,
        /// yaml or json.
        #[arg(long, default_value = "yaml")]
        format: Format,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Synth { env, out, format } => {
            let envs: Vec<Env> = match env {
                Some(e) => vec![e],
                None => Env::ALL.to_vec(),
            };
            for env in envs {
                match &out {
                    Some(dir) => {
                        let path = synth::write(env, format, dir)?;
                        eprintln!("wrote {}", path.display());
                    }
                    None => {
                        let text = synth::render(env, stackgen::stack::Features::ALL, format)?;
                        print!("{text}");
                    }
                }
            }
            Ok(())
        }
    }
}
