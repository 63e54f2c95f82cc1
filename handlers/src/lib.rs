//! `handlers`: the entry points of the KYC kit around one application.
//!
//! It holds the `kyc` command-line tool's commands as library functions (so they are tested
//! without spawning processes), the verification service, and the platforms it runs on: the
//! embedded engines (feature `local`: `kyc serve`, `kyc verify`) and AWS (feature `aws`: the
//! Lambda functions). Each binary's `main` is the composition root: it reads its configuration,
//! picks adapters and calls into here. Nothing here holds domain rules; those live in
//! `kyc-core`.
//!
//! | feature | what it adds | links |
//! |---|---|---|
//! | `local` (default) | [`cli`], [`local`], [`serve`], the `kyc` binary | kyc-local: dlib, OpenBLAS, Tesseract, SQLite |
//! | `aws` (default) | [`aws`], [`lambda`], the `api`, `ocr` and `sanctions` Lambda binaries | kyc-aws: the AWS SDK |
//! | `test-util` | [`testing`]: an in-memory platform over kyc-core's fakes | — |
//!
//! The Lambda binaries are built with `--no-default-features --features aws` (see
//! `cargo xtask dist`), so they never link the local engines.

pub mod app;
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "local")]
pub mod cli;
#[cfg(feature = "aws")]
pub mod lambda;
#[cfg(feature = "local")]
pub mod local;
pub mod media;
pub mod screening;
#[cfg(feature = "local")]
pub mod serve;
pub mod service;
pub mod system;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
