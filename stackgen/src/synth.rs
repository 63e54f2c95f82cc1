//! Synthesis: the rendered template of an environment, in JSON or YAML, deterministically.

use std::path::{Path, PathBuf};

use crate::model::template::ModelError;
use crate::stack::{self, Env, Features};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Pretty-printed JSON.
    Json,
    /// Block YAML.
    Yaml,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

/// The format was not `json` or `yaml`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format; expected one of: yaml, json")]
pub struct UnknownFormat;

impl std::str::FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Format::Json),
            "yaml" => Ok(Format::Yaml),
            _ => Err(UnknownFormat),
        }
    }
}

/// The template text of `env` for a target with `features`.
pub fn render(env: Env, features: Features, format: Format) -> Result<String, ModelError> {
    let t = stack::build_for(&env.config(), features)?;
    t.check()?;
    let node = t.to_node();
    Ok(match format {
        Format::Json => node.to_json(),
        Format::Yaml => node.to_yaml(),
    })
}

/// Where a template is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// AWS: everything.
    Aws,
    /// LocalStack on the host: see [`crate::stack::LOCALSTACK_EXCLUSIONS`].
    LocalStack,
}

impl Target {
    /// What the target can run.
    pub fn features(self) -> Features {
        match self {
            Target::Aws => Features::ALL,
            Target::LocalStack => Features::LOCALSTACK,
        }
    }
}

/// The target was not `aws` or `localstack`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown target; expected one of: aws, localstack")]
pub struct UnknownTarget;

impl std::str::FromStr for Target {
    type Err = UnknownTarget;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "aws" => Ok(Target::Aws),
            "localstack" => Ok(Target::LocalStack),
            _ => Err(UnknownTarget),
        }
    }
}

/// Writes `kyc-<env>.<ext>` into `dir`; returns the path.
pub fn write(env: Env, features: Features, format: Format, dir: &Path) -> anyhow::Result<PathBuf> {
    use anyhow::Context as _;
    let text = render(env, features, format).context("building the template")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("kyc-{env}.{}", format.extension()));
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
