//! `stackgen`: the typed CloudFormation model of the KYC kit, the dev/stage/prod stacks built
//! with it, and the commands that synthesise, diff and deploy them.
//!
//! It is the only crate that knows CloudFormation, and it depends on no adapter crate.

pub mod deploy;
pub mod model;
pub mod resources;
pub mod stack;
pub mod synth;
