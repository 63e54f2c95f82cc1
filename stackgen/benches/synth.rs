//! Benchmark: synthesising the three environments.
fn main() {}
