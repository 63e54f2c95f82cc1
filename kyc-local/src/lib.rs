//! `kyc-local`: the embedded adapters of the KYC kit, for one machine with no cloud.
//!
//! Each module implements kyc-core ports with a local engine: `storage` (SQLite for sessions,
//! audit log, OCR data and tasks; an encrypted filesystem object store), `face` (dlib: detection,
//! landmarks, embeddings), `ocr` (Tesseract: printed fields and the MRZ band), `signing` (a local
//! ES256 key with rotation), `events` (an in-process publisher with a durable outbox).
//! `docgen` draws synthetic identity documents (TD1, TD3) with their ground truth for tests,
//! benchmarks and demos.
//!
//! What it must never do: download anything at run time (models and packages are installed by
//! `cargo xtask setup`), or let personal data reach a log line or an error message.
//! A missing model or package is reported with what to install and how.

pub mod config;
pub mod docgen;
pub mod events;
pub mod face;
pub mod ocr;
pub mod signing;
pub mod storage;
