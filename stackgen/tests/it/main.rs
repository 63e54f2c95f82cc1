//! Integration tests of stackgen: snapshots and determinism of the three templates, the IAM
//! walk, each function's grants against the code paths that need them, validation against the
//! CloudFormation resource schemas, and the LocalStack deploy.

mod access;
mod deploy;
mod iam_walk;
mod schema;
mod synth;

use stackgen::stack::{Env, Features};
use stackgen::synth::{render, Format};

/// The JSON template of `env`, parsed.
pub fn template(env: Env) -> serde_json::Value {
    let text = render(env, Features::ALL, Format::Json).expect("template renders");
    serde_json::from_str(&text).expect("template is JSON")
}
