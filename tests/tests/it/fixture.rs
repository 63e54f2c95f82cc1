//! The fixtures themselves: LocalStack is reachable, and the fault proxy forwards, injects and
//! counts.

use kyc_aws::config::{AwsSettings, Resilience};
use kyc_tests::faults::{Fault, FaultProxy, Matcher};
use kyc_tests::localstack;

fn no_retries() -> Resilience {
    Resilience {
        max_attempts: 1,
        ..Resilience::default()
    }
}

#[test]
fn localstack_is_reachable_and_healthy() {
    let ls = localstack();
    assert!(ls.endpoint.starts_with("http://"), "{}", ls.endpoint);
}

#[tokio::test]
async fn the_proxy_forwards_unchanged_and_injects_counted_faults() {
    let ls = localstack();
    let proxy = FaultProxy::start(&ls.endpoint).await.unwrap();
    let cfg = AwsSettings::emulator(proxy.endpoint.clone())
        .with_resilience(no_retries())
        .load()
        .await;
    let ddb = aws_sdk_dynamodb::Client::new(&cfg);
    ddb.list_tables()
        .send()
        .await
        .expect("forwarded through the proxy");
    assert_eq!(proxy.stats().forwarded, 1);

    proxy.inject(
        Matcher::Target("ListTables"),
        Fault::dynamodb_throttling(),
        1,
    );
    let err = ddb.list_tables().send().await.expect_err("throttled");
    assert_eq!(
        kyc_aws::error::classify(&err),
        kyc_aws::error::Failure::Transient
    );
    proxy.inject(Matcher::Any, Fault::Drop, 1);
    let err = ddb.list_tables().send().await.expect_err("dropped");
    assert!(kyc_aws::error::classify(&err).is_retryable());
    let stats = proxy.stats();
    assert_eq!((stats.received, stats.forwarded, stats.injected), (3, 1, 2));

    // With retries on, the same faults are absorbed.
    let cfg = AwsSettings::emulator(proxy.endpoint.clone()).load().await;
    let ddb = aws_sdk_dynamodb::Client::new(&cfg);
    proxy.inject(
        Matcher::Target("ListTables"),
        Fault::json_internal_error(),
        2,
    );
    ddb.list_tables()
        .send()
        .await
        .expect("retried past two 500s");
    assert_eq!(proxy.stats().injected, 4);
}

#[tokio::test]
async fn s3_signatures_still_verify_through_the_proxy() {
    let ls = localstack();
    let proxy = FaultProxy::start(&ls.endpoint).await.unwrap();
    let cfg = AwsSettings::emulator(proxy.endpoint.clone()).load().await;
    let s3 = kyc_aws::config::s3_client(&cfg, true);
    let bucket = kyc_tests::unique("fixture");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    proxy.inject(Matcher::Method(http::Method::PUT), Fault::s3_slow_down(), 1);
    s3.put_object()
        .bucket(&bucket)
        .key("k")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .expect("retried past SlowDown");
    assert_eq!(proxy.stats().injected, 1);
}
