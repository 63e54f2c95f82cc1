//! The [`SanctionsScreener`] port: one trait for every screening provider (the built-in
//! engine over list files, a third-party screening API), so the pipeline does not know which
//! one it talks to. Results always come back in the same match model.

use std::future::Future;

use super::engine::{SanctionsIndex, ScreenOptions, ScreeningQuery, ScreeningResult};

/// Why a screening could not be done. Messages never carry the query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScreeningError {
    /// The provider could not be reached or answered with a server error; retrying later may
    /// work.
    #[error("screening provider is unavailable")]
    Unavailable,
    /// The provider did not answer in time; retrying later may work.
    #[error("screening provider timed out")]
    TimedOut,
    /// The provider refused the credentials.
    #[error("screening provider refused the credentials")]
    Unauthorized,
    /// The provider refused the request as invalid.
    #[error("screening provider rejected the request")]
    Rejected,
    /// The provider's answer could not be understood.
    #[error("screening provider answered in an unexpected format")]
    InvalidResponse,
}

impl ScreeningError {
    /// Whether the same screening may succeed if retried (for queues and dead-letter policies).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable | Self::TimedOut)
    }
}

/// Screens a person or organisation against sanctions lists.
pub trait SanctionsScreener: Send + Sync {
    /// Screens one query.
    ///
    /// MUST return the results best first, each with the list's own entity id, a score on
    /// 0–100, `is_match` set exactly when the score reaches `opts.threshold`, and an
    /// explanation; near misses only when `opts.include_near_misses`; at most
    /// `opts.max_results`. MUST set `list_version` to a value that identifies the data screened
    /// against, so the screening can be re-run. MUST return an error, never an empty result,
    /// when the screening could not be done.
    fn screen(
        &self,
        query: &ScreeningQuery,
        opts: &ScreenOptions,
    ) -> impl Future<Output = Result<ScreeningResult, ScreeningError>> + Send;
}

impl SanctionsScreener for SanctionsIndex {
    fn screen(
        &self,
        query: &ScreeningQuery,
        opts: &ScreenOptions,
    ) -> impl Future<Output = Result<ScreeningResult, ScreeningError>> + Send {
        std::future::ready(Ok(SanctionsIndex::screen(self, query, opts)))
    }
}

impl<T: SanctionsScreener + ?Sized> SanctionsScreener for std::sync::Arc<T> {
    fn screen(
        &self,
        query: &ScreeningQuery,
        opts: &ScreenOptions,
    ) -> impl Future<Output = Result<ScreeningResult, ScreeningError>> + Send {
        (**self).screen(query, opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sanctions::{Entity, ListKind, ListVersion, NameKind, Schema};

    /// Polls a future that is ready at once (the built-in engine never waits).
    fn ready<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => unreachable!("the built-in engine is synchronous"),
        }
    }

    async fn through_the_port<S: SanctionsScreener>(s: &S, q: &ScreeningQuery) -> ScreeningResult {
        s.screen(q, &ScreenOptions::default()).await.unwrap()
    }

    #[test]
    fn the_built_in_engine_screens_through_the_port() {
        let mut e = Entity::new("7", ListKind::UnConsolidated, Schema::Person);
        e.add_name("Jane Example", NameKind::Primary);
        let index = SanctionsIndex::from_entities(vec![e], ListVersion::of_parts(&[b"x"]));
        let r = ready(through_the_port(
            &index,
            &ScreeningQuery::by_name("JANE EXAMPLE"),
        ));
        assert_eq!(r.matches.len(), 1);
        assert!(ScreeningError::Unavailable.is_retryable());
        assert!(!ScreeningError::Unauthorized.is_retryable());
    }
}
