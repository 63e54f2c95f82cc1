//! Building the shared SDK configuration: region, credentials, an optional endpoint override
//! (LocalStack), and the resilience settings every client gets.
//!
//! # Retries and timeouts
//!
//! Every client uses the SDK's *standard* retry mode: exponential backoff with full jitter
//! (`delay = random(0, min(initial * 2^attempt, max))`), retrying throttling errors, 5xx
//! answers, timeouts and connection failures, with a client-side retry quota so a failing
//! service is not hammered. On top of that every call has a connect timeout, a per-attempt
//! timeout and an overall operation timeout, so no Lambda invocation waits on a hung socket
//! for its whole budget. The defaults ([`Resilience::default`]) suit synchronous API calls;
//! [`Resilience::background`] suits stream and queue consumers with longer budgets.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

/// Retry and timeout settings applied to every SDK client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resilience {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// The base of the exponential backoff.
    pub initial_backoff: Duration,
    /// The longest single backoff.
    pub max_backoff: Duration,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for one attempt (request sent, response read).
    pub attempt_timeout: Duration,
    /// Time for the whole call, retries and backoff included.
    pub operation_timeout: Duration,
}

impl Default for Resilience {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(15),
        }
    }
}

impl Resilience {
    /// Longer budgets for background consumers (streams, queues, batch jobs).
    pub fn background() -> Self {
        Self {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(60),
        }
    }

    /// The SDK retry configuration (standard mode: backoff with full jitter).
    pub fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts.max(1))
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff)
    }

    /// The SDK timeout configuration.
    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }
}

/// Where and how to reach AWS.
#[derive(Clone, Debug)]
pub struct AwsSettings {
    /// The region; `None` takes it from the environment (`AWS_REGION`, profile).
    pub region: Option<String>,
    /// An endpoint override for every service (LocalStack: `http://127.0.0.1:4566`).
    pub endpoint: Option<String>,
    /// Static credentials (LocalStack's `test`/`test`); `None` uses the default chain
    /// (Lambda's role credentials from the environment).
    pub static_credentials: Option<(String, String)>,
    /// Retries and timeouts.
    pub resilience: Resilience,
}

impl AwsSettings {
    /// Real AWS: region and credentials from the environment, default resilience.
    pub fn from_env() -> Self {
        Self {
            region: None,
            endpoint: None,
            static_credentials: None,
            resilience: Resilience::default(),
        }
    }

    /// An emulator at `endpoint` (LocalStack) with its static test credentials in `us-east-1`.
    pub fn emulator(endpoint: impl Into<String>) -> Self {
        Self {
            region: Some("us-east-1".to_owned()),
            endpoint: Some(endpoint.into()),
            static_credentials: Some(("test".to_owned(), "test".to_owned())),
            resilience: Resilience::default(),
        }
    }

    /// The same settings with other resilience settings.
    pub fn with_resilience(mut self, resilience: Resilience) -> Self {
        self.resilience = resilience;
        self
    }

    /// Whether an endpoint override is set (S3 then needs path-style addressing).
    pub fn is_emulator(&self) -> bool {
        self.endpoint.is_some()
    }

    /// Loads the shared SDK configuration.
    pub async fn load(&self) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(self.resilience.retry_config())
            .timeout_config(self.resilience.timeout_config());
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint) = &self.endpoint {
            loader = loader.endpoint_url(endpoint.clone());
        }
        if let Some((id, secret)) = &self.static_credentials {
            loader = loader.credentials_provider(Credentials::new(
                id.clone(),
                secret.clone(),
                None,
                None,
                "kyc-static",
            ));
        }
        loader.load().await
    }
}

/// An S3 client for `config`: path-style addressing against an emulator (LocalStack serves
/// buckets under its one host name), virtual-hosted style against AWS.
pub fn s3_client(config: &SdkConfig, emulator: bool) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(emulator)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_budget_fits_inside_a_synchronous_api_call() {
        let r = Resilience::default();
        assert!(r.max_attempts >= 2, "retries are on");
        assert!(r.attempt_timeout < r.operation_timeout);
        assert!(
            r.operation_timeout <= Duration::from_secs(29),
            "API Gateway's limit is 29 s"
        );
        let rc = r.retry_config();
        assert_eq!(rc.max_attempts(), r.max_attempts);
        assert_eq!(rc.initial_backoff(), r.initial_backoff);
        let tc = r.timeout_config();
        assert_eq!(tc.connect_timeout(), Some(r.connect_timeout));
        assert_eq!(tc.operation_timeout(), Some(r.operation_timeout));
    }

    #[test]
    fn zero_attempts_is_clamped_to_one() {
        let r = Resilience {
            max_attempts: 0,
            ..Resilience::default()
        };
        assert_eq!(r.retry_config().max_attempts(), 1);
    }

    #[test]
    fn emulator_settings_use_static_credentials_and_a_region() {
        let s = AwsSettings::emulator("http://127.0.0.1:4566");
        assert!(s.is_emulator());
        assert_eq!(s.region.as_deref(), Some("us-east-1"));
        assert!(!AwsSettings::from_env().is_emulator());
    }
}
