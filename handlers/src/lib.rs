//! `handlers`: the entry points of the KYC kit around one application.
//!
//! Today it holds the `kyc` command-line tool's commands as library functions (so they are
//! tested without spawning processes); the HTTP application and the Lambda functions join it.
//! Each binary's `main` is the composition root: it parses arguments, picks adapters and calls
//! into here. Nothing here holds domain rules; those live in `kyc-core`.

pub mod cli;
pub mod media;
pub mod screening;
