//! The `stackgen` command line: synth, diff, deploy and delete of the KYC kit's stacks.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use stackgen::deploy::{self, Clients, Options, Outcome};
use stackgen::stack::Env;
use stackgen::synth::{self, Format, Target};

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
        /// aws (everything) or localstack (leaves out what LocalStack on the host cannot run).
        #[arg(long, default_value = "aws")]
        target: Target,
    },
    /// Create or update the stack through a change set, showing stack events as they happen.
    Deploy(Remote),
    /// Show the change set a deployment would execute, then discard it.
    Diff(Remote),
    /// Delete the stack and wait until it is gone.
    Delete(Remote),
    /// List the handler names (one function and one `<name>.zip` artefact each).
    Handlers,
}

#[derive(Args)]
struct Remote {
    /// dev, stage or prod.
    #[arg(long)]
    env: Env,
    /// An endpoint URL for every AWS service (e.g. LocalStack's).
    #[arg(long)]
    endpoint_url: Option<String>,
    /// aws or localstack.
    #[arg(long, default_value = "aws")]
    target: Target,
    /// Stack name (default: kyc-<env>).
    #[arg(long)]
    stack_name: Option<String>,
    /// Region (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// Artefacts bucket (default: kyc-<env>-artifacts-<account>-<region>, created if missing).
    #[arg(long)]
    artifacts_bucket: Option<String>,
    /// Directory of the `<handler>.zip` files built by `cargo xtask dist`.
    #[arg(long, default_value = "target/dist")]
    dist: PathBuf,
    /// A template parameter, KEY=VALUE (repeatable), e.g. AlarmEmail=ops@example.com.
    #[arg(long = "parameter")]
    parameters: Vec<String>,
    /// Seconds between polls.
    #[arg(long, default_value_t = 5)]
    poll: u64,
}

impl Remote {
    fn options(&self) -> Result<Options> {
        let mut o = Options::new(self.env);
        o.target = self.target;
        o.endpoint_url = self.endpoint_url.clone();
        if let Some(n) = &self.stack_name {
            o.stack_name = n.clone();
        }
        if let Some(r) = &self.region {
            o.region = r.clone();
        }
        o.artifacts_bucket = self.artifacts_bucket.clone();
        o.dist_dir = self.dist.clone();
        o.poll = Duration::from_secs(self.poll.max(1));
        for p in &self.parameters {
            let Some((k, v)) = p.split_once('=') else {
                bail!("a parameter is KEY=VALUE");
            };
            o.parameters.push((k.to_string(), v.to_string()));
        }
        Ok(o)
    }
}

/// LocalStack takes its static `test` credentials; AWS the default credential chain.
async fn clients(o: &Options) -> Clients {
    if o.target == Target::LocalStack {
        Clients::for_emulator(o).await
    } else {
        Clients::new(o).await
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn print_changes(changes: &[deploy::Change]) {
    eprintln!("change set: {} change(s)", changes.len());
    for c in changes {
        eprintln!("  {c}");
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Synth {
            env,
            out,
            format,
            target,
        } => {
            let envs: Vec<Env> = match env {
                Some(e) => vec![e],
                None => Env::ALL.to_vec(),
            };
            for env in envs {
                match &out {
                    Some(dir) => {
                        let path = synth::write(env, target.features(), format, dir)?;
                        eprintln!("wrote {}", path.display());
                    }
                    None => {
                        let text = synth::render(env, target.features(), format)?;
                        print!("{text}");
                    }
                }
            }
            Ok(())
        }
        Command::Handlers => {
            for h in stackgen::stack::functions::Handler::ALL {
                println!("{}", h.name());
            }
            Ok(())
        }
        Command::Deploy(r) => {
            let o = r.options()?;
            runtime()?.block_on(async {
                let c = clients(&o).await;
                let outcome = deploy::deploy(&c, &o, &mut print_changes, &mut |e| eprintln!("{e}"))
                    .await
                    .with_context(|| format!("deploying {}", o.stack_name))?;
                match outcome {
                    Outcome::Deployed { status, changes } => {
                        eprintln!("{}: {status} ({} change(s))", o.stack_name, changes.len())
                    }
                    Outcome::NoChanges => eprintln!("{}: no changes", o.stack_name),
                }
                Ok(())
            })
        }
        Command::Diff(r) => {
            let o = r.options()?;
            runtime()?.block_on(async {
                let c = clients(&o).await;
                let changes = deploy::diff(&c, &o)
                    .await
                    .with_context(|| format!("diffing {}", o.stack_name))?;
                for ch in &changes {
                    println!("{ch}");
                }
                eprintln!("{}: {} change(s)", o.stack_name, changes.len());
                Ok(())
            })
        }
        Command::Delete(r) => {
            let o = r.options()?;
            runtime()?.block_on(async {
                let c = clients(&o).await;
                deploy::delete(&c, &o, &mut |e| eprintln!("{e}"))
                    .await
                    .with_context(|| format!("deleting {}", o.stack_name))?;
                eprintln!("{}: deleted", o.stack_name);
                Ok(())
            })
        }
    }
}
