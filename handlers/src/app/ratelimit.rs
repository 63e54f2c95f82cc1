//! Per-client rate limiting for `kyc serve` (in AWS, API Gateway's usage plan throttles): a
//! token bucket per client IP address, refilled continuously; a client over its budget gets a
//! 429 problem with `Retry-After`. The table of buckets is bounded: when full, idle buckets
//! are dropped first, and a client that still finds no room shares one overflow bucket.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Problem;

/// A rate limit: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second per client.
    pub per_second: f64,
    /// Bucket size.
    pub burst: f64,
    /// Most clients tracked at once.
    pub max_clients: usize,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 50.0,
            burst: 100.0,
            max_clients: 10_000,
        }
    }
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets.
pub struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<Option<IpAddr>, Bucket>>,
}

impl Limiter {
    /// An empty limiter.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `client`; `Err(seconds to wait)` when none is left.
    pub fn take(&self, client: Option<IpAddr>, now: Instant) -> Result<(), u32> {
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let l = &self.limit;
        if !map.contains_key(&client) && map.len() >= l.max_clients {
            let full = l.burst;
            let rate = l.per_second;
            map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < full
            });
        }
        let key = if map.contains_key(&client) || map.len() < l.max_clients {
            client
        } else {
            None
        };
        let b = map.entry(key).or_insert(Bucket {
            tokens: l.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * l.per_second).min(l.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - b.tokens) / l.per_second).ceil();
            Err(wait.clamp(1.0, 3600.0) as u32)
        }
    }
}

/// The middleware.
pub async fn layer(State(limiter): State<Arc<Limiter>>, req: Request, next: Next) -> Response {
    let client = super::client_addr(&req).map(|a| a.ip());
    match limiter.take(client, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests from this client; slow down",
        )
        .retry_after(wait)
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter(max_clients: usize) -> Limiter {
        Limiter::new(RateLimit {
            per_second: 10.0,
            burst: 3.0,
            max_clients,
        })
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_for_refill() {
        let l = limiter(10);
        let t = Instant::now();
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..3 {
            assert_eq!(l.take(ip, t), Ok(()));
        }
        assert_eq!(l.take(ip, t), Err(1));
        assert_eq!(l.take(ip, t + Duration::from_millis(150)), Ok(()));
    }

    #[test]
    fn clients_have_separate_buckets() {
        let l = limiter(10);
        let t = Instant::now();
        for _ in 0..3 {
            l.take(Some(IpAddr::from([10, 0, 0, 1])), t).unwrap();
        }
        assert!(l.take(Some(IpAddr::from([10, 0, 0, 1])), t).is_err());
        assert!(l.take(Some(IpAddr::from([10, 0, 0, 2])), t).is_ok());
    }

    #[test]
    fn the_table_stays_bounded_under_many_clients() {
        let l = limiter(100);
        let t = Instant::now();
        for i in 0..10_000u32 {
            let _ = l.take(Some(IpAddr::from(i.to_be_bytes())), t);
        }
        assert!(l.buckets.lock().unwrap().len() <= 101);
    }
}
