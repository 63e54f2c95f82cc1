//! `kyc-core`: the pure domain library of the KYC kit.
//!
//! It holds the rules of an identity verification (MRZ parsing, OCR field normalisation,
//! liveness challenges and their verification, face-match policy, sanctions name matching, the
//! decision engine, the verification state machine, the tamper-evident audit model and token
//! claims) and the **ports** through which everything else reaches it.
//!
//! What it must never do: I/O of any kind (files, network, processes, environment), reading the
//! clock or drawing randomness. Time comes through [`ports::Clock`], randomness through
//! [`ports::RandomSource`]; everything else through the other ports. Because of that, every
//! function here is deterministic and cannot fail for reasons outside its input. CI proves with
//! `cargo tree` that this crate never depends on tokio, the AWS SDK, Lambda, HTTP clients,
//! SQLite, dlib or Tesseract.
//!
//! Personal data (names, document numbers, dates of birth, MRZ lines, images) never appears in an
//! error message or a `Debug` output of this crate.

pub mod audit;
pub mod decision;
pub mod document;
pub mod facematch;
pub mod liveness;
pub mod model;
pub mod mrz;
pub mod ports;
pub mod sanctions;
pub mod session;
pub mod tasks;
pub mod text;
pub mod token;
