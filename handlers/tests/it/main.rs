//! Integration tests of the `kyc` command-line tool: one module per command group, each
//! calling `handlers::cli::run` as a library (with a fake clock) and, where exit statuses and
//! stderr matter, the built binary.

mod document;
mod face;
mod mrz;
