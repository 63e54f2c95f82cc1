//! Ports: the traits through which kyc-core reaches the outside world. Adapters in `kyc-aws`
//! and `kyc-local` implement them; in-memory fakes live in `ports::fakes` behind the `test-util`
//! feature. Each method documents what it MUST return in each case.
//!
//! Methods that do I/O return `impl Future + Send` (async without a runtime dependency: the
//! adapters bring tokio); `Clock` and `RandomSource` are synchronous.

mod basics;
mod error;
mod events;
mod face;
#[cfg(any(test, feature = "test-util"))]
pub mod fakes;
mod reader;
mod sessions;
mod store;

pub use basics::{Clock, RandomSource};
pub use error::PortError;
pub use events::{DomainEvent, EventKind, EventPublisher};
pub use face::{FaceAnalysis, FaceAnalyzer, FaceComparer, FaceComparison, FaceError};
pub use reader::{DocumentReader, DocumentReading, ReadError};
pub use sessions::{SessionStore, Version};
pub use store::{DocumentStore, ObjectKey, ObjectKind};

// Ports defined next to their domain model, re-exported here so every port has one home.
pub use crate::audit::AuditLog;
pub use crate::sanctions::SanctionsScreener;
pub use crate::token::{TokenSigner, TokenVerifier};
