//! Front-end hosting: a private S3 bucket served by CloudFront through origin access control.

use super::storage::Store;
use super::{arn, data_retention, EnvConfig};
use crate::model::iam::{PolicyDocument, Principal, Statement};
use crate::model::template::{Handle, ModelError, Template};
use crate::model::val::{sub, Str, Val};
use crate::resources::{cloudfront, s3};

/// AWS managed cache policy `Managed-CachingOptimized`.
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/// AWS managed response headers policy `Managed-SecurityHeadersPolicy`.
const SECURITY_HEADERS: &str = "67f7725c-6f97-4210-82d7-5512b31e9d03";

/// The bucket, the origin access control, the distribution and the bucket policy.
pub fn build(
    t: &mut Template,
    cfg: &EnvConfig,
    store: &Store,
) -> Result<Handle<cloudfront::Distribution>, ModelError> {
    let bucket = {
        use s3::bucket::*;
        t.add_with(
            "FrontendBucket",
            s3::Bucket::new()
                .bucket_name(sub(
                    &format!(
                        "{}-${{AWS::AccountId}}-${{AWS::Region}}",
                        cfg.name("frontend")
                    ),
                    [],
                ))
                .versioning_configuration(VersioningConfiguration::new(
                    VersioningConfigurationStatus::Enabled,
                ))
                .bucket_encryption(BucketEncryption::new(vec![ServerSideEncryptionRule::new()
                    .server_side_encryption_by_default(ServerSideEncryptionByDefault::new(
                        SSEAlgorithm::Aes256,
                    ))]))
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::new()
                        .block_public_acls(true)
                        .block_public_policy(true)
                        .ignore_public_acls(true)
                        .restrict_public_buckets(true),
                )
                .ownership_controls(OwnershipControls::new(vec![OwnershipControlsRule::new()
                    .object_ownership(ObjectOwnership::BucketOwnerEnforced)]))
                .logging_configuration(
                    LoggingConfiguration::new()
                        .destination_bucket_name(store.log_bucket.to_ref())
                        .log_file_prefix("s3/frontend/"),
                ),
            data_retention(cfg),
        )?
    };
    let oac = t.add(
        "FrontendOriginAccessControl",
        cloudfront::OriginAccessControl::new(
            cloudfront::origin_access_control::OriginAccessControlConfig::new(
                cfg.name("frontend-oac"),
                "s3",
                "always",
                "sigv4",
            )
            .description("CloudFront signs its requests to the front-end bucket"),
        ),
    )?;
    let distribution = {
        use cloudfront::distribution::*;
        let origin_id = "frontend-bucket";
        let config = DistributionConfig::new(
            DefaultCacheBehavior::new(origin_id, ViewerProtocolPolicy::RedirectToHttps)
                .cache_policy_id(CACHING_OPTIMIZED)
                .response_headers_policy_id(SECURITY_HEADERS)
                .compress(true)
                .allowed_methods([Str::from("GET"), Str::from("HEAD")]),
            true,
        )
        .comment(format!("KYC kit {} front end", cfg.env))
        .default_root_object("index.html")
        .http_version(HttpVersion::Http2and3)
        .price_class(PriceClass::PriceClass100)
        .origins([Origin::new(bucket.regional_domain_name(), origin_id)
            .origin_access_control_id(oac.id())
            .s3_origin_config(S3OriginConfig::new().origin_access_identity(""))])
        .logging(
            Logging::new()
                .bucket(store.log_bucket.regional_domain_name())
                .prefix("cloudfront/"),
        )
        .viewer_certificate(ViewerCertificate::new().cloud_front_default_certificate(true));
        t.add_with(
            "FrontendDistribution",
            cloudfront::Distribution::new(config),
            crate::model::template::Attributes::new()
                .checkov_skip("CKV_AWS_68", "CLOUDFRONT-scoped web ACLs can only be created in us-east-1; the distribution serves static files, and the API it calls has its own web ACL")
                .checkov_skip("CKV_AWS_174", "the kit ships no custom domain; the default *.cloudfront.net certificate fixes the TLS policy, and a custom domain with TLSv1.2_2021 is set by operators"),
        )?
    };
    let doc = PolicyDocument::new([
        Statement::allow(["s3:GetObject"])?
            .sid("CloudFrontReadsThroughOriginAccessControl")
            .principal(Principal::service("cloudfront.amazonaws.com"))?
            .on([sub("${Bucket}/*", [("Bucket", bucket.arn())])])
            .condition(
                "StringEquals",
                "AWS:SourceArn",
                [arn(
                    "cloudfront::${AWS::AccountId}:distribution/${Distribution}",
                    [("Distribution", distribution.to_ref())],
                )],
            ),
        Statement::deny_service("s3")?
            .sid("DenyRequestsWithoutTls")
            .on([bucket.arn(), sub("${Bucket}/*", [("Bucket", bucket.arn())])])
            .condition("Bool", "aws:SecureTransport", [Str::from("false")]),
    ])?;
    t.add(
        "FrontendBucketPolicy",
        s3::BucketPolicy::new(bucket.to_ref(), doc),
    )?;
    let _: Option<Val<bool>> = None;
    Ok(distribution)
}
