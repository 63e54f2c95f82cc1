//! One typed configuration per environment: names, throttles, retention, deletion policies,
//! alarm thresholds, memory sizes and reserved concurrency.

use std::fmt;
use std::str::FromStr;

/// A deployment environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Env {
    /// Development: short retention, everything deleted with the stack.
    Dev,
    /// Staging: production-like, point-in-time recovery on.
    Stage,
    /// Production: data retained on delete and replace, long retention, strict alarms.
    Prod,
}

impl Env {
    /// Every environment, in promotion order.
    pub const ALL: [Env; 3] = [Env::Dev, Env::Stage, Env::Prod];

    /// `dev`, `stage` or `prod`.
    pub fn as_str(self) -> &'static str {
        match self {
            Env::Dev => "dev",
            Env::Stage => "stage",
            Env::Prod => "prod",
        }
    }

    /// The environment's configuration.
    pub fn config(self) -> EnvConfig {
        match self {
            Env::Dev => EnvConfig::dev(),
            Env::Stage => EnvConfig::stage(),
            Env::Prod => EnvConfig::prod(),
        }
    }
}

impl fmt::Display for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The environment name was not one of `dev`, `stage`, `prod`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown environment; expected one of: dev, stage, prod")]
pub struct UnknownEnv;

impl FromStr for Env {
    type Err = UnknownEnv;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dev" => Ok(Env::Dev),
            "stage" => Ok(Env::Stage),
            "prod" => Ok(Env::Prod),
            _ => Err(UnknownEnv),
        }
    }
}

/// Memory, timeout and reserved concurrency of one Lambda function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSize {
    /// Memory in MiB (128–10240).
    pub memory_mb: u32,
    /// Timeout in seconds.
    pub timeout_s: u32,
    /// Reserved concurrent executions.
    pub reserved_concurrency: u32,
}

/// Alarm thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlarmThresholds {
    /// Function errors in five minutes that raise an alarm.
    pub function_errors: u32,
    /// API 5xx responses in five minutes that raise an alarm.
    pub api_5xx: u32,
    /// API p99 latency in milliseconds that raises an alarm.
    pub api_latency_p99_ms: u32,
    /// `UploadErrors` in five minutes.
    pub upload_errors: u32,
    /// `LivenessFails` in five minutes.
    pub liveness_fails: u32,
    /// `OCRLatency` p90 in milliseconds.
    pub ocr_latency_p90_ms: u32,
    /// `SanctionsFlags` in an hour.
    pub sanctions_flags: u32,
}

/// Everything that differs between environments.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvConfig {
    /// Which environment.
    pub env: Env,
    /// Steady-state REST API rate, requests per second.
    pub api_rate_limit: u32,
    /// REST API burst.
    pub api_burst_limit: u32,
    /// Requests per day per API key.
    pub api_daily_quota: u32,
    /// WAF rate-based rule: requests per five minutes per client IP.
    pub waf_rate_limit: u32,
    /// Origin allowed by CORS (the front end).
    pub frontend_origin: &'static str,
    /// CloudWatch log retention in days (a value CloudWatch accepts).
    pub log_retention_days: u32,
    /// Days before ID uploads and live frames expire.
    pub image_expiry_days: u32,
    /// Days before raw OCR output expires.
    pub ocr_raw_expiry_days: u32,
    /// Days before old object versions expire.
    pub noncurrent_expiry_days: u32,
    /// Keep data stores on stack deletion and replacement (`Retain`).
    pub retain_data: bool,
    /// DynamoDB point-in-time recovery.
    pub point_in_time_recovery: bool,
    /// Size of the request-path functions.
    pub api_function: FunctionSize,
    /// Size of the background functions (OCR, sanctions, fan-out).
    pub worker_function: FunctionSize,
    /// Alarm thresholds.
    pub alarms: AlarmThresholds,
}

impl EnvConfig {
    /// Development.
    pub fn dev() -> Self {
        EnvConfig {
            env: Env::Dev,
            api_rate_limit: 10,
            api_burst_limit: 20,
            api_daily_quota: 10_000,
            waf_rate_limit: 1_000,
            frontend_origin: "http://localhost:8080",
            log_retention_days: 14,
            image_expiry_days: 1,
            ocr_raw_expiry_days: 1,
            noncurrent_expiry_days: 1,
            retain_data: false,
            point_in_time_recovery: false,
            api_function: FunctionSize {
                memory_mb: 512,
                timeout_s: 15,
                reserved_concurrency: 5,
            },
            worker_function: FunctionSize {
                memory_mb: 1024,
                timeout_s: 60,
                reserved_concurrency: 2,
            },
            alarms: AlarmThresholds {
                function_errors: 10,
                api_5xx: 20,
                api_latency_p99_ms: 5_000,
                upload_errors: 50,
                liveness_fails: 100,
                ocr_latency_p90_ms: 20_000,
                sanctions_flags: 50,
            },
        }
    }

    /// Staging.
    pub fn stage() -> Self {
        EnvConfig {
            env: Env::Stage,
            api_rate_limit: 50,
            api_burst_limit: 100,
            api_daily_quota: 100_000,
            waf_rate_limit: 2_000,
            frontend_origin: "https://stage.kyc.example.com",
            log_retention_days: 90,
            image_expiry_days: 7,
            ocr_raw_expiry_days: 7,
            noncurrent_expiry_days: 7,
            retain_data: false,
            point_in_time_recovery: true,
            api_function: FunctionSize {
                memory_mb: 1024,
                timeout_s: 15,
                reserved_concurrency: 20,
            },
            worker_function: FunctionSize {
                memory_mb: 1536,
                timeout_s: 60,
                reserved_concurrency: 10,
            },
            alarms: AlarmThresholds {
                function_errors: 5,
                api_5xx: 10,
                api_latency_p99_ms: 3_000,
                upload_errors: 20,
                liveness_fails: 50,
                ocr_latency_p90_ms: 10_000,
                sanctions_flags: 20,
            },
        }
    }

    /// Production.
    pub fn prod() -> Self {
        EnvConfig {
            env: Env::Prod,
            api_rate_limit: 100,
            api_burst_limit: 200,
            api_daily_quota: 1_000_000,
            waf_rate_limit: 2_000,
            frontend_origin: "https://kyc.example.com",
            log_retention_days: 365,
            image_expiry_days: 30,
            ocr_raw_expiry_days: 30,
            noncurrent_expiry_days: 30,
            retain_data: true,
            point_in_time_recovery: true,
            api_function: FunctionSize {
                memory_mb: 1024,
                timeout_s: 15,
                reserved_concurrency: 100,
            },
            worker_function: FunctionSize {
                memory_mb: 2048,
                timeout_s: 120,
                reserved_concurrency: 50,
            },
            alarms: AlarmThresholds {
                function_errors: 1,
                api_5xx: 5,
                api_latency_p99_ms: 2_000,
                upload_errors: 10,
                liveness_fails: 25,
                ocr_latency_p90_ms: 8_000,
                sanctions_flags: 10,
            },
        }
    }

    /// `kyc-<env>-<suffix>`: the name of a named resource.
    pub fn name(&self, suffix: &str) -> String {
        format!("kyc-{}-{suffix}", self.env)
    }

    /// The stack name, `kyc-<env>`.
    pub fn stack_name(&self) -> String {
        format!("kyc-{}", self.env)
    }

    /// `/kyc/<env>`: the hierarchy of the stack's SSM parameters. The functions get it with a
    /// trailing slash (`KYC_PARAMETER_PATH`); IAM authorises `GetParametersByPath` on it without.
    pub fn parameter_hierarchy(&self) -> String {
        format!("/kyc/{}", self.env)
    }

    /// The custom-metrics namespace, `KYC/<env>`.
    pub fn metrics_namespace(&self) -> String {
        format!("KYC/{}", self.env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_round_trip() {
        for env in Env::ALL {
            assert_eq!(env.as_str().parse::<Env>(), Ok(env));
        }
        assert_eq!("production".parse::<Env>(), Err(UnknownEnv));
    }

    #[test]
    fn prod_retains_data_and_throttles_at_100_rps() {
        let prod = EnvConfig::prod();
        assert!(prod.retain_data);
        assert!(prod.point_in_time_recovery);
        assert_eq!(prod.api_rate_limit, 100);
        assert!(!EnvConfig::dev().retain_data);
    }

    #[test]
    fn names_carry_the_environment() {
        assert_eq!(
            EnvConfig::stage().name("id-uploads"),
            "kyc-stage-id-uploads"
        );
    }
}
