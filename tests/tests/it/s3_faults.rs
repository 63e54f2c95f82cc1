//! `S3DocumentStore` behind the fault proxy: throttling (`SlowDown`), 500 answers and dropped
//! connections on PUT and GET are retried by the SDK and succeed; faults that persist surface
//! as the retryable `PortError::Unavailable` after the configured number of attempts.

use std::time::Duration;

use http::Method;
use kyc_aws::config::{s3_client, AwsSettings, Resilience};
use kyc_aws::s3::{Buckets, S3DocumentStore};
use kyc_core::model::VerificationId;
use kyc_core::ports::{DocumentStore, ObjectKey, PortError};
use kyc_tests::faults::{Fault, FaultProxy, Matcher};
use kyc_tests::{localstack, unique};
use sha2::{Digest as _, Sha256};

const ATTEMPTS: u32 = 4;

/// Quick retries so the persistent-fault cases end fast.
fn resilience() -> Resilience {
    Resilience {
        max_attempts: ATTEMPTS,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..Resilience::default()
    }
}

struct Fixture {
    proxy: FaultProxy,
    store: S3DocumentStore,
    id: VerificationId,
}

/// Buckets and a key made directly in LocalStack; a store whose client goes through a fresh
/// proxy.
async fn fixture() -> Fixture {
    let ls = localstack();
    let direct = ls.sdk_config().await;
    let s3 = s3_client(&direct, true);
    let key_arn = aws_sdk_kms::Client::new(&direct)
        .create_key()
        .send()
        .await
        .expect("key")
        .key_metadata
        .and_then(|m| m.arn)
        .expect("arn");
    let buckets = Buckets {
        id_uploads: unique("fault-up"),
        live_frames: unique("fault-frames"),
        ocr_raw: unique("fault-ocr"),
    };
    for b in [&buckets.id_uploads, &buckets.live_frames, &buckets.ocr_raw] {
        s3.create_bucket().bucket(b).send().await.expect("bucket");
    }
    let proxy = FaultProxy::start(&ls.endpoint).await.expect("proxy");
    let through = AwsSettings::emulator(proxy.endpoint.clone())
        .with_resilience(resilience())
        .load()
        .await;
    let mut seed = [0u8; 16];
    seed.copy_from_slice(&Sha256::digest(unique("fault-id").as_bytes())[..16]);
    Fixture {
        proxy,
        store: S3DocumentStore::new(s3_client(&through, true), buckets, key_arn),
        id: VerificationId::from_random_bytes(seed),
    }
}

#[tokio::test]
async fn slow_down_and_500_on_put_are_retried_and_the_object_is_stored() {
    let f = fixture().await;
    let key = ObjectKey::id_upload(&f.id);
    f.proxy
        .inject(Matcher::Method(Method::PUT), Fault::s3_slow_down(), 1);
    f.proxy
        .inject(Matcher::Method(Method::PUT), Fault::s3_internal_error(), 1);
    f.store
        .put(&key, b"image".to_vec(), "image/jpeg")
        .await
        .expect("retried past SlowDown and a 500");
    let stats = f.proxy.stats();
    assert_eq!((stats.injected, stats.forwarded), (2, 1));
    assert_eq!(f.store.get(&key).await, Ok(Some(b"image".to_vec())));
}

#[tokio::test]
async fn slow_down_and_500_on_get_are_retried_and_the_bytes_are_read() {
    let f = fixture().await;
    let key = ObjectKey::ocr_raw(&f.id);
    f.store
        .put(&key, b"{\"ok\":true}".to_vec(), "application/json")
        .await
        .unwrap();
    f.proxy
        .inject(Matcher::Method(Method::GET), Fault::s3_internal_error(), 1);
    f.proxy
        .inject(Matcher::Method(Method::GET), Fault::s3_slow_down(), 1);
    assert_eq!(f.store.get(&key).await, Ok(Some(b"{\"ok\":true}".to_vec())));
    assert_eq!(f.proxy.stats().injected, 2);
}

#[tokio::test]
async fn a_dropped_connection_is_retried_on_put_and_get() {
    let f = fixture().await;
    let key = ObjectKey::live_frame(&f.id, "frame-1").unwrap();
    f.proxy.inject(Matcher::Method(Method::PUT), Fault::Drop, 1);
    f.store
        .put(&key, vec![1, 2, 3], "image/jpeg")
        .await
        .expect("retried after the drop");
    f.proxy.inject(Matcher::Method(Method::GET), Fault::Drop, 1);
    assert_eq!(f.store.get(&key).await, Ok(Some(vec![1, 2, 3])));
    assert_eq!(f.proxy.stats().injected, 2);
}

#[tokio::test]
async fn persistent_throttling_on_put_is_a_retryable_unavailable_error() {
    let f = fixture().await;
    f.proxy
        .inject_always(Matcher::Method(Method::PUT), Fault::s3_slow_down());
    let err = f
        .store
        .put(&ObjectKey::id_upload(&f.id), vec![1], "image/jpeg")
        .await
        .unwrap_err();
    assert_eq!(err, PortError::Unavailable { backend: "s3" });
    assert!(err.is_retryable());
    assert_eq!(
        f.proxy.stats().received,
        u64::from(ATTEMPTS),
        "every attempt was made, no more"
    );
    assert_eq!(f.proxy.stats().forwarded, 0);
}

#[tokio::test]
async fn persistent_server_errors_on_get_are_a_retryable_unavailable_error() {
    let f = fixture().await;
    let key = ObjectKey::id_upload(&f.id);
    f.store.put(&key, vec![1], "image/jpeg").await.unwrap();
    f.proxy
        .inject_always(Matcher::Method(Method::GET), Fault::s3_internal_error());
    let err = f.store.get(&key).await.unwrap_err();
    assert_eq!(err, PortError::Unavailable { backend: "s3" });
    assert!(err.is_retryable());
    assert!(
        !err.to_string().contains("internal error"),
        "no S3 text: {err}"
    );
    f.proxy.clear();
    assert_eq!(f.store.get(&key).await, Ok(Some(vec![1])), "recovers");
}

#[tokio::test]
async fn persistently_dropped_connections_during_erasure_are_a_retryable_error() {
    let f = fixture().await;
    f.store
        .put(&ObjectKey::id_upload(&f.id), vec![1], "image/jpeg")
        .await
        .unwrap();
    f.proxy.inject_always(Matcher::Any, Fault::Drop);
    let err = f.store.delete_all(&f.id).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    f.proxy.clear();
    assert_eq!(
        f.store.delete_all(&f.id).await,
        Ok(1),
        "a later retry erases"
    );
}
