//! `SessionStore`: persistence of verification sessions with optimistic concurrency
//! (DynamoDB conditional writes in AWS; SQLite locally).

use std::future::Future;

use super::PortError;
use crate::model::VerificationId;
use crate::session::Session;

/// The stored version of a session, for conditional writes. Starts at 1 and grows by one per
/// successful save.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64);

/// Stores verification sessions.
pub trait SessionStore: Send + Sync {
    /// MUST return `Ok(None)` for an unknown (or erased) verification, else the session and its
    /// current version.
    fn load(
        &self,
        id: &VerificationId,
    ) -> impl Future<Output = Result<Option<(Session, Version)>, PortError>> + Send;

    /// Saves `session`. With `expected = None` it MUST create the session and fail with
    /// `PortError::Conflict` if a *different* one exists; with `Some(v)` it MUST replace it only
    /// if the stored version is still `v`, else fail with `Conflict` and change nothing. Returns
    /// the new version.
    ///
    /// An adapter MAY answer `Ok(Version(1))` to a create whose stored session is exactly the
    /// one being written at version 1: that is the same create retried after its first answer
    /// was lost (an ambiguous timeout), not a second writer. Any other stored session under the
    /// id is a `Conflict`.
    fn save(
        &self,
        session: &Session,
        expected: Option<Version>,
    ) -> impl Future<Output = Result<Version, PortError>> + Send;

    /// Deletes the session (erasure); MUST succeed when it does not exist.
    fn delete(&self, id: &VerificationId) -> impl Future<Output = Result<(), PortError>> + Send;
}
