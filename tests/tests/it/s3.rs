//! `S3DocumentStore` against LocalStack (S3 signature validation on): round trips under SSE-KMS
//! with the customer key, missing objects, idempotent deletion of every version, erasure of a
//! whole verification across the three buckets, and presigned URLs used by a plain HTTP client
//! (tampered, expired and wrongly used ones refused).

use std::time::Duration;

use aws_sdk_s3::types::{
    BucketVersioningStatus, ChecksumMode, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use kyc_aws::config::s3_client;
use kyc_aws::s3::{Buckets, PresignError, S3DocumentStore, MAX_PRESIGN_TTL};
use kyc_core::model::VerificationId;
use kyc_core::ports::{DocumentStore, ObjectKey};
use kyc_tests::{localstack, unique};
use sha2::{Digest as _, Sha256};

struct Fixture {
    store: S3DocumentStore,
    s3: aws_sdk_s3::Client,
    key_arn: String,
    buckets: Buckets,
}

/// Three fresh buckets (versioned and SSE-KMS by default, like the stack's) and a fresh
/// symmetric KMS key.
async fn fixture() -> Fixture {
    let cfg = localstack().sdk_config().await;
    let s3 = s3_client(&cfg, true);
    let kms = aws_sdk_kms::Client::new(&cfg);
    let key_arn = kms
        .create_key()
        .description("kyc s3 test data key")
        .send()
        .await
        .expect("create key")
        .key_metadata
        .and_then(|m| m.arn)
        .expect("key arn");
    let buckets = Buckets {
        id_uploads: unique("up"),
        live_frames: unique("frames"),
        ocr_raw: unique("ocr"),
    };
    for b in [&buckets.id_uploads, &buckets.live_frames, &buckets.ocr_raw] {
        s3.create_bucket().bucket(b).send().await.expect("bucket");
        s3.put_bucket_versioning()
            .bucket(b)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .expect("versioning");
        let by_default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(&key_arn)
            .build()
            .unwrap();
        s3.put_bucket_encryption()
            .bucket(b)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(by_default)
                            .bucket_key_enabled(true)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("default encryption");
    }
    Fixture {
        store: S3DocumentStore::new(s3.clone(), buckets.clone(), key_arn.clone()),
        s3,
        key_arn,
        buckets,
    }
}

fn new_id() -> VerificationId {
    let mut b = [0u8; 16];
    let seed = unique("id");
    b.copy_from_slice(&Sha256::digest(seed.as_bytes())[..16]);
    VerificationId::from_random_bytes(b)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Every key (with its versions and delete markers) left in `bucket`.
async fn remaining(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let page = s3
        .list_object_versions()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let mut keys: Vec<String> = page
        .versions()
        .iter()
        .filter_map(|v| v.key().map(str::to_owned))
        .chain(
            page.delete_markers()
                .iter()
                .filter_map(|m| m.key().map(|k| format!("{k} (delete marker)"))),
        )
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn an_object_round_trips_encrypted_with_the_customer_key_and_its_sha256() {
    let f = fixture().await;
    let id = new_id();
    let key = ObjectKey::id_upload(&id);
    let bytes = b"\xFF\xD8\xFF\xE0 not really a jpeg".to_vec();
    f.store
        .put(&key, bytes.clone(), "image/jpeg")
        .await
        .expect("put");
    assert_eq!(f.store.get(&key).await, Ok(Some(bytes.clone())));

    let head =
        f.s3.head_object()
            .bucket(&f.buckets.id_uploads)
            .key(format!("{id}.jpg"))
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("head");
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(head.ssekms_key_id(), Some(f.key_arn.as_str()));
    assert_eq!(head.content_type(), Some("image/jpeg"));
    let stored = head
        .checksum_sha256()
        .expect("a SHA-256 checksum is stored");
    let standard_to_url = stored
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_");
    assert_eq!(
        standard_to_url,
        kyc_core::token::base64url::encode(&Sha256::digest(&bytes))
    );

    // Overwriting replaces.
    f.store
        .put(&key, b"second".to_vec(), "image/jpeg")
        .await
        .unwrap();
    assert_eq!(f.store.get(&key).await, Ok(Some(b"second".to_vec())));
}

#[tokio::test]
async fn a_missing_object_is_none_and_deleting_is_idempotent_and_leaves_no_version() {
    let f = fixture().await;
    let id = new_id();
    let key = ObjectKey::ocr_raw(&id);
    assert_eq!(f.store.get(&key).await, Ok(None));
    f.store
        .delete(&key)
        .await
        .expect("deleting nothing is fine");

    f.store
        .put(&key, b"{}".to_vec(), "application/json")
        .await
        .unwrap();
    f.store
        .put(&key, b"{\"v\":2}".to_vec(), "application/json")
        .await
        .unwrap();
    // A neighbour whose key starts with the same characters survives.
    f.s3.put_object()
        .bucket(&f.buckets.ocr_raw)
        .key(format!("{id}.json.bak"))
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    f.store.delete(&key).await.expect("delete");
    assert_eq!(f.store.get(&key).await, Ok(None));
    assert_eq!(
        remaining(&f.s3, &f.buckets.ocr_raw).await,
        vec![format!("{id}.json.bak")],
        "both versions gone, no delete marker left, the neighbour kept"
    );
    f.store.delete(&key).await.expect("again");
}

#[tokio::test]
async fn delete_all_erases_every_object_and_version_of_one_verification_only() {
    let f = fixture().await;
    let (a, b) = (new_id(), new_id());
    let jpeg = "image/jpeg";
    f.store
        .put(&ObjectKey::id_upload(&a), vec![1], jpeg)
        .await
        .unwrap();
    f.store
        .put(&ObjectKey::id_upload(&a), vec![2], jpeg)
        .await
        .unwrap();
    f.store
        .put(&ObjectKey::ocr_raw(&a), vec![3], "application/json")
        .await
        .unwrap();
    for frame in ["f-1", "f-2", "f_3"] {
        let k = ObjectKey::live_frame(&a, frame).unwrap();
        f.store.put(&k, vec![4], jpeg).await.unwrap();
    }
    // An earlier, already deleted frame: only a delete marker over an old version remains.
    let gone = ObjectKey::live_frame(&a, "old").unwrap();
    f.store.put(&gone, vec![5], jpeg).await.unwrap();
    f.s3.delete_object()
        .bucket(&f.buckets.live_frames)
        .key(gone.path())
        .send()
        .await
        .unwrap();
    let b_frame = ObjectKey::live_frame(&b, "f-1").unwrap();
    f.store
        .put(&ObjectKey::id_upload(&b), vec![6], jpeg)
        .await
        .unwrap();
    f.store.put(&b_frame, vec![7], jpeg).await.unwrap();

    assert_eq!(
        f.store.delete_all(&a).await,
        Ok(5),
        "upload, OCR, three frames"
    );
    assert_eq!(f.store.delete_all(&a).await, Ok(0), "idempotent");
    assert_eq!(
        remaining(&f.s3, &f.buckets.id_uploads).await,
        vec![format!("{b}.jpg")]
    );
    assert_eq!(
        remaining(&f.s3, &f.buckets.ocr_raw).await,
        Vec::<String>::new()
    );
    assert_eq!(
        remaining(&f.s3, &f.buckets.live_frames).await,
        vec![format!("{b}/f-1.jpg")]
    );
    assert_eq!(f.store.get(&b_frame).await, Ok(Some(vec![7])));
}

#[tokio::test]
async fn delete_all_follows_the_listing_across_pages() {
    let f = fixture().await;
    let id = new_id();
    // 1005 frames: more than one ListObjectVersions page (1000) and one DeleteObjects batch.
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in 0..15 {
        let (s3, bucket) = (f.s3.clone(), f.buckets.live_frames.clone());
        tasks.spawn(async move {
            for i in (chunk * 67)..((chunk + 1) * 67) {
                s3.put_object()
                    .bucket(&bucket)
                    .key(format!("{id}/frame-{i:04}.jpg"))
                    .body(vec![0u8].into())
                    .send()
                    .await
                    .expect("seed frame");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(f.store.delete_all(&id).await, Ok(1005));
    assert_eq!(
        remaining(&f.s3, &f.buckets.live_frames).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn presigned_get_and_put_work_with_a_plain_http_client() {
    let f = fixture().await;
    let id = new_id();
    let key = ObjectKey::id_upload(&id);
    let put = f
        .store
        .presign_put(&key, "image/jpeg", Duration::from_secs(60))
        .await
        .expect("presign put");
    assert_eq!(put.method, "PUT");
    let mut req = http()
        .put(&put.url)
        .body(b"uploaded by the browser".to_vec());
    for (k, v) in &put.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("put through the presigned url");
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    assert_eq!(
        f.store.get(&key).await,
        Ok(Some(b"uploaded by the browser".to_vec()))
    );
    let head =
        f.s3.head_object()
            .bucket(&f.buckets.id_uploads)
            .key(key.path())
            .send()
            .await
            .unwrap();
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms),
        "the bucket's default encryption applies to presigned uploads"
    );

    let get = f
        .store
        .presign_get(&key, Duration::from_secs(60))
        .await
        .expect("presign get");
    assert_eq!(get.method, "GET");
    let resp = http().get(&get.url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.bytes().await.unwrap().as_ref(),
        b"uploaded by the browser"
    );
}

#[tokio::test]
async fn a_presigned_put_with_another_content_type_is_refused() {
    let f = fixture().await;
    let key = ObjectKey::id_upload(&new_id());
    let put = f
        .store
        .presign_put(&key, "image/jpeg", Duration::from_secs(60))
        .await
        .unwrap();
    let resp = http()
        .put(&put.url)
        .header("content-type", "text/html")
        .body(b"<script>".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(f.store.get(&key).await, Ok(None));
}

#[tokio::test]
async fn a_tampered_presigned_url_is_refused() {
    let f = fixture().await;
    let (a, b) = (new_id(), new_id());
    for id in [&a, &b] {
        f.store
            .put(
                &ObjectKey::id_upload(id),
                b"secret image".to_vec(),
                "image/jpeg",
            )
            .await
            .unwrap();
    }
    let get = f
        .store
        .presign_get(&ObjectKey::id_upload(&a), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(http().get(&get.url).send().await.unwrap().status(), 200);

    // Another object's key under the same signature.
    let other_key = get.url.replace(a.as_str(), b.as_str());
    assert_ne!(other_key, get.url);
    assert_eq!(http().get(&other_key).send().await.unwrap().status(), 403);

    // A changed signature (last hex digit flipped).
    let sig_at = get.url.find("X-Amz-Signature=").expect("signature") + 16;
    let sig_end = get.url[sig_at..]
        .find('&')
        .map_or(get.url.len(), |i| sig_at + i);
    let mut sig = get.url[sig_at..sig_end].to_owned();
    let last = sig.pop().unwrap();
    sig.push(if last == '0' { '1' } else { '0' });
    let forged = format!("{}{sig}{}", &get.url[..sig_at], &get.url[sig_end..]);
    assert_eq!(http().get(&forged).send().await.unwrap().status(), 403);

    // A longer expiry than signed.
    let stretched = get.url.replace("X-Amz-Expires=60", "X-Amz-Expires=300");
    assert_ne!(stretched, get.url);
    assert_eq!(http().get(&stretched).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn an_expired_presigned_url_is_refused() {
    let f = fixture().await;
    let key = ObjectKey::id_upload(&new_id());
    f.store
        .put(&key, vec![1, 2, 3], "image/jpeg")
        .await
        .unwrap();
    let get = f
        .store
        .presign_get(&key, Duration::from_secs(1))
        .await
        .unwrap();
    let put = f
        .store
        .presign_put(&key, "image/jpeg", Duration::from_secs(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(http().get(&get.url).send().await.unwrap().status(), 403);
    let mut req = http().put(&put.url).body(vec![9]);
    for (k, v) in &put.headers {
        req = req.header(k, v);
    }
    assert_eq!(req.send().await.unwrap().status(), 403);
    assert_eq!(
        f.store.get(&key).await,
        Ok(Some(vec![1, 2, 3])),
        "unchanged"
    );
}

#[tokio::test]
async fn an_expiry_over_five_minutes_is_refused_by_the_adapter() {
    let f = fixture().await;
    let key = ObjectKey::id_upload(&new_id());
    let too_long = MAX_PRESIGN_TTL + Duration::from_secs(1);
    let err = f.store.presign_get(&key, too_long).await.unwrap_err();
    assert_eq!(err, PresignError::InvalidExpiry { max_secs: 300 });
    assert_eq!(
        err.to_string(),
        "presigned url expiry must be between 1 and 300 seconds"
    );
    assert!(f
        .store
        .presign_put(&key, "image/jpeg", too_long)
        .await
        .is_err());
}

#[tokio::test]
async fn a_missing_bucket_is_a_misconfiguration_not_a_retry() {
    let f = fixture().await;
    let store = S3DocumentStore::new(
        f.s3.clone(),
        Buckets {
            id_uploads: unique("absent"),
            ..f.buckets.clone()
        },
        f.key_arn.clone(),
    );
    let err = store
        .put(&ObjectKey::id_upload(&new_id()), vec![1], "image/jpeg")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            kyc_core::ports::PortError::Misconfigured { backend: "s3", .. }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}
