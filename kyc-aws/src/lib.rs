//! AWS adapters of the KYC kit: every kyc-core port that AWS serves, on the official AWS SDK
//! for Rust.
//!
//! | Port | Adapter | Service |
//! |---|---|---|
//! | `DocumentStore` | [`s3::S3DocumentStore`] | S3 with SSE-KMS, presigned URLs |
//! | `SessionStore` | [`dynamo::DynamoSessionStore`] | DynamoDB `sessions` |
//! | `AuditLog` | [`dynamo::DynamoAuditLog`] | DynamoDB `KycAuditLog` |
//! | (OCR data, tasks) | [`dynamo::DynamoOcrData`], [`dynamo::DynamoTaskStore`] | DynamoDB |
//! | `FaceAnalyzer`, `FaceComparer` | [`rekognition::RekognitionFaceEngine`] | Rekognition |
//! | `DocumentReader` | [`textract::TextractDocumentReader`] | Textract |
//! | `TokenSigner` | [`kms::KmsTokenSigner`] | KMS (ES256, key never leaves KMS) |
//! | `EventPublisher` | [`sns::SnsEventPublisher`] | SNS |
//!
//! Plus configuration loading from SSM Parameter Store and Secrets Manager ([`params`]),
//! CloudWatch metrics as Embedded Metric Format log lines ([`metrics`]), and the resilience
//! pieces every adapter shares ([`config`]: retries with backoff and jitter, timeouts;
//! [`breaker`]: a circuit breaker; [`error`]: retryable-or-not classification).
//!
//! Errors never carry the service's raw message (which may echo request content) or personal
//! data: adapters map SDK errors to kyc-core's `PortError` with fixed texts.

pub mod breaker;
pub mod config;
pub mod dynamo;
pub mod error;
pub mod kms;
pub mod metrics;
pub mod params;
pub mod rekognition;
pub mod s3;
pub mod sns;
pub mod textract;

/// Test support shared by the unit tests of several modules.
#[cfg(test)]
pub(crate) mod testing {
    /// Runs a future to completion on a fresh current-thread Tokio runtime (the SDK needs
    /// Tokio's timers even against a replay client).
    pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
            .block_on(f)
    }
}
