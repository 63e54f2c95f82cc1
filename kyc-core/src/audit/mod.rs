//! The tamper-evident audit model: events, their canonical encoding, the per-verification hash
//! chain, its verifier, redaction for long-term retention, and the [`AuditLog`] port.
//!
//! # Model
//!
//! Every pipeline step appends an [`AuditEvent`] to the chain of its verification. An event has
//! a sequence number (from 0), the verification id, a closed [`EventKind`], the instant, the
//! [`Actor`] (service name), non-personal [`Details`] (reason codes, scores, policy and list
//! versions) and, optionally, a [`PersonalPart`]: personal values (e.g. the document fields the
//! step used) with a per-event [`Salt`]. The chain never commits to personal values in clear,
//! only to their salted digest ([`canonical`] documents the exact bytes).
//!
//! `hash = SHA-256(prev_hash || canonical(event))`, where `prev_hash` is the previous event's
//! hash and **32 zero bytes for the first event** of every chain. A per-verification genesis
//! value would add nothing: the verification id is inside every event's encoding, so an event
//! cannot be moved to another chain without changing its hash.
//!
//! # One chain per verification
//!
//! The chain is per verification, not global: appends for different verifications never
//! contend, a chain is one DynamoDB partition (`verificationId` as partition key, `seq` as sort
//! key) read with one Query, and erasure or expiry of one verification touches one chain only.
//! What a global chain would add (ordering across verifications) is not needed by any
//! consumer. All events of one chain must share one retention (`expiresAt` TTL), so that expiry
//! never removes a prefix of a chain (which would read as tampering).
//!
//! # Redaction
//!
//! [`AuditEvent::redacted`] drops the personal values *and their salt* and keeps the digest:
//! the chain still verifies with the same head, and without the salt the digest cannot be
//! tested against guesses of low-entropy values such as a date of birth.
//!
//! # Appending safely from many writers
//!
//! [`next_event`] builds the event that follows a head. A storage adapter appends by reading
//! the head, calling it, and writing conditionally: the write succeeds only if no event with
//! that sequence number exists yet. Two concurrent writers that read the same head compute the
//! same sequence number; exactly one write succeeds and the other gets
//! [`AuditLogError::Conflict`] and retries on the new head ([`append_with_retry`]). So the
//! chain can never fork.

pub mod canonical;
mod chain;
#[cfg(any(test, feature = "test-util"))]
pub mod contract;
mod event;
#[cfg(any(test, feature = "test-util"))]
mod memory;

use std::future::Future;

pub use chain::{next_event, verify_chain, verify_chain_for, AuditChain, ChainError, ChainHead};
pub use event::{
    Actor, AuditEvent, DetailKey, DetailText, DetailValue, Details, EventDraft, EventKind,
    FiniteFloat, Hash256, PersonalData, PersonalPart, Salt, FORMAT_V1, MAX_ACTOR_LEN,
    MAX_DETAIL_TEXT_LEN, MAX_ENTRIES, MAX_KEY_LEN, MAX_PERSONAL_VALUE_LEN,
};
#[cfg(any(test, feature = "test-util"))]
pub use memory::MemoryAuditLog;

use crate::model::VerificationId;

/// Why an [`AuditLog`] operation failed. Messages never carry event contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditLogError {
    /// Another writer appended first: the head moved between reading it and writing. Nothing
    /// was stored; append the same draft again.
    #[error("audit chain head moved during append")]
    Conflict,
    /// The event cannot join the chain (e.g. sequence numbers exhausted).
    #[error("audit event cannot be chained")]
    Chain(#[from] ChainError),
    /// A transient storage failure (throttling, timeout, connection): retrying may succeed.
    #[error("audit log is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A permanent storage failure (permissions, missing table, corrupt record).
    #[error("audit log storage failed")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AuditLogError {
    /// Whether the operation may succeed if repeated (`Conflict`, `Unavailable`).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Conflict | Self::Unavailable(_))
    }
}

/// The audit log port: one append-only hash chain per verification.
///
/// Adapters: `DynamoAuditLog` (kyc-aws) (table `KycAuditLog`, partition key `verificationId`, sort key
/// `seq`, each event one item), `SqliteAuditLog` (primary key `(verification_id, seq)`), and
/// `MemoryAuditLog` for tests (feature `test-util`). `contract::check` exercises the
/// rules below against any adapter.
pub trait AuditLog: Send + Sync {
    /// Appends `draft` to the chain of `draft.verification_id`.
    ///
    /// The adapter MUST read the current head (`None` for a new chain, with a strongly
    /// consistent read), build the event with [`next_event`], and store it only if no event
    /// with its sequence number exists yet, atomically (DynamoDB: `PutItem` with
    /// `ConditionExpression: attribute_not_exists(seq)`; SQL: `INSERT` on the primary key).
    ///
    /// - MUST return `Ok(event)`: exactly the event that was stored.
    /// - MUST return [`AuditLogError::Conflict`] when the conditional write fails because the
    ///   head moved, having stored nothing. It MUST NOT overwrite an event, ever. Callers
    ///   retry with the same draft ([`append_with_retry`]).
    /// - MUST return [`AuditLogError::Chain`] when [`next_event`] refuses the draft.
    /// - MUST return [`AuditLogError::Unavailable`] for transient failures and
    ///   [`AuditLogError::Storage`] for permanent ones. After an ambiguous failure (a timeout
    ///   after the write) the event may be stored; a retry then appends it a second time, so
    ///   appends are at-least-once and consumers tolerate a repeated event.
    fn append(
        &self,
        draft: EventDraft,
    ) -> impl Future<Output = Result<AuditEvent, AuditLogError>> + Send;

    /// Reads the whole chain of a verification.
    ///
    /// - MUST return every stored event of the chain in ascending `seq`, exactly as stored
    ///   (redacted events in their redacted form), with a strongly consistent read.
    /// - MUST return `Ok(vec![])` for a verification without events.
    /// - MUST NOT verify, repair, reorder or filter events: that is the reader's job, with
    ///   [`verify_chain_for`] and the head it holds.
    fn read(
        &self,
        verification_id: VerificationId,
    ) -> impl Future<Output = Result<Vec<AuditEvent>, AuditLogError>> + Send;

    /// Erasure: replaces every event of the chain that still holds a personal part with its
    /// [redacted](AuditEvent::redacted) form.
    ///
    /// - MUST return how many events it changed (`Ok(0)` when there was nothing to redact, so
    ///   it is idempotent).
    /// - MUST NOT change anything else: afterwards the chain verifies with the same head.
    /// - MUST NOT append: the caller records the erasure itself with an
    ///   [`EventKind::Erased`] event.
    fn redact(
        &self,
        verification_id: VerificationId,
    ) -> impl Future<Output = Result<usize, AuditLogError>> + Send;
}

/// Appends `draft`, retrying on [`AuditLogError::Conflict`] up to `max_attempts` times in all
/// (at least once). Other errors are returned at once.
pub async fn append_with_retry<L: AuditLog + ?Sized>(
    log: &L,
    draft: EventDraft,
    max_attempts: u32,
) -> Result<AuditEvent, AuditLogError> {
    let mut attempt = 1;
    loop {
        match log.append(draft.clone()).await {
            Err(AuditLogError::Conflict) if attempt < max_attempts => attempt += 1,
            other => return other,
        }
    }
}
