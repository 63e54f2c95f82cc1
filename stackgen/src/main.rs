//! The `stackgen` command line: synth, diff and deploy of the KYC kit's stacks.
fn main() {}
