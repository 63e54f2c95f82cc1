//! `S3DocumentStore::presign_post` against LocalStack (S3 signature validation on): a browser's
//! multipart form upload within the size limit is stored and readable; an empty one or one over
//! the limit, with another content type, key or bucket, a policy that is not the signed
//! document, no signature, or an expired policy is refused and stores nothing. (LocalStack does
//! not verify POST policy signatures: see `a_policy_that_is_not_the_signed_document_is_refused`.)

use std::time::Duration;

use aws_sdk_s3::types::ServerSideEncryption;
use kyc_aws::s3::{Buckets, PresignedPost, S3DocumentStore};
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

async fn fixture() -> Fixture {
    let cfg = localstack().sdk_config().await;
    let kms = aws_sdk_kms::Client::new(&cfg);
    let key_arn = kms
        .create_key()
        .description("kyc s3 post test data key")
        .send()
        .await
        .expect("create key")
        .key_metadata
        .and_then(|m| m.arn)
        .expect("key arn");
    let buckets = Buckets {
        id_uploads: unique("post-up"),
        live_frames: unique("post-frames"),
        ocr_raw: unique("post-ocr"),
    };
    let store = S3DocumentStore::from_sdk_config(&cfg, true, buckets.clone(), key_arn.clone());
    let s3 = kyc_aws::config::s3_client(&cfg, true);
    for b in [&buckets.id_uploads, &buckets.live_frames, &buckets.ocr_raw] {
        s3.create_bucket().bucket(b).send().await.expect("bucket");
    }
    Fixture {
        store,
        s3,
        key_arn,
        buckets,
    }
}

fn new_id() -> VerificationId {
    let mut b = [0u8; 16];
    b.copy_from_slice(&Sha256::digest(unique("post-id").as_bytes())[..16]);
    VerificationId::from_random_bytes(b)
}

/// Sends `fields` then `file` as a `multipart/form-data` POST to `url` (reqwest is built
/// without its `multipart` feature: the body is written here). Returns the status and body.
async fn send_form(url: &str, fields: &[(String, String)], file: &[u8]) -> (u16, String) {
    let boundary = format!("----kyc{}", unique("b").replace('-', ""));
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"id.jpg\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .post(url)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("post the form");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// `post`'s fields with `name` set to `value`.
fn with_field(post: &PresignedPost, name: &str, value: &str) -> Vec<(String, String)> {
    let mut fields = post.fields.clone();
    let slot = fields
        .iter_mut()
        .find(|(k, _)| k == name)
        .expect("the field is in the form");
    slot.1 = value.to_owned();
    fields
}

async fn post_for(f: &Fixture, key: &ObjectKey, max: u64, ttl: Duration) -> PresignedPost {
    f.store
        .presign_post(key, "image/jpeg", max, ttl)
        .await
        .expect("presign post")
}

/// Standard (padded) base64, through kyc-core's URL-safe alphabet.
fn standard_base64_decode(s: &str) -> Vec<u8> {
    let url = s.trim_end_matches('=').replace('+', "-").replace('/', "_");
    kyc_core::token::base64url::decode(&url).expect("base64")
}

fn standard_base64_encode(bytes: &[u8]) -> String {
    let mut s = kyc_core::token::base64url::encode(bytes)
        .replace('-', "+")
        .replace('_', "/");
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    s
}

fn jpeg(len: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.resize(len, 0x42);
    b
}

#[tokio::test]
async fn a_file_within_the_limit_is_stored_encrypted_and_readable() {
    let f = fixture().await;
    let key = ObjectKey::id_upload(&new_id());
    let post = post_for(&f, &key, 1000, Duration::from_secs(60)).await;
    let (status, body) = send_form(&post.url, &post.fields, &jpeg(1000)).await;
    assert!(status == 204 || status == 201, "{status}: {body}");
    assert_eq!(f.store.get(&key).await, Ok(Some(jpeg(1000))));
    let head =
        f.s3.head_object()
            .bucket(&f.buckets.id_uploads)
            .key(key.path())
            .send()
            .await
            .expect("head");
    assert_eq!(head.content_type(), Some("image/jpeg"));
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(head.ssekms_key_id(), Some(f.key_arn.as_str()));
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_as_too_large() {
    let f = fixture().await;
    let key = ObjectKey::id_upload(&new_id());
    let post = post_for(&f, &key, 1000, Duration::from_secs(60)).await;
    let (status, body) = send_form(&post.url, &post.fields, &jpeg(1001)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("EntityTooLarge"), "{body}");
    assert_eq!(f.store.get(&key).await, Ok(None));

    // The limit itself is accepted.
    let (status, body) = send_form(&post.url, &post.fields, &jpeg(1000)).await;
    assert!(status == 204 || status == 201, "{status}: {body}");
}

#[tokio::test]
async fn an_empty_file_is_refused_as_too_small() {
    let f = fixture().await;
    let key = ObjectKey::id_upload(&new_id());
    let post = post_for(&f, &key, 1000, Duration::from_secs(60)).await;
    let (status, body) = send_form(&post.url, &post.fields, b"").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("EntityTooSmall"), "{body}");
    assert_eq!(f.store.get(&key).await, Ok(None));
}

#[tokio::test]
async fn another_content_type_or_key_is_refused() {
    let f = fixture().await;
    let key = ObjectKey::id_upload(&new_id());
    let post = post_for(&f, &key, 1000, Duration::from_secs(60)).await;

    let html = with_field(&post, "Content-Type", "text/html");
    let (status, body) = send_form(&post.url, &html, b"<script>").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(f.store.get(&key).await, Ok(None));

    let other = ObjectKey::id_upload(&new_id());
    let elsewhere = with_field(&post, "key", other.path());
    let (status, body) = send_form(&post.url, &elsewhere, &jpeg(10)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(f.store.get(&other).await, Ok(None));

    // The same form to another bucket (the live frames') is refused too.
    let frames_url = post
        .url
        .replace(&f.buckets.id_uploads, &f.buckets.live_frames);
    assert_ne!(frames_url, post.url);
    let (status, body) = send_form(&frames_url, &post.fields, &jpeg(10)).await;
    assert_eq!(status, 403, "{body}");
    assert!(f
        .s3
        .list_objects_v2()
        .bucket(&f.buckets.live_frames)
        .send()
        .await
        .unwrap()
        .contents()
        .is_empty());
}

/// LocalStack checks a POST policy's expiration and conditions but not its signature (its
/// `validate_post_policy` leaves "validate the signature" to do): a rewritten, well-formed
/// policy or a changed signature is accepted there, where S3 answers 403
/// `SignatureDoesNotMatch`. The signature itself is checked against AWS's published example
/// in kyc-aws's unit tests. What LocalStack does refuse is a policy field that is not the
/// base64 of a JSON document, as a signature mismatch.
#[tokio::test]
async fn a_policy_that_is_not_the_signed_document_is_refused() {
    let f = fixture().await;
    let key = ObjectKey::id_upload(&new_id());
    let post = post_for(&f, &key, 1000, Duration::from_secs(60)).await;

    let policy = post.field("policy").unwrap();
    let json = String::from_utf8(standard_base64_decode(policy)).unwrap();
    let widened = json.replace(",1000]", ",100000]");
    assert_ne!(widened, json);
    // The rewritten policy with a stray byte: no longer a JSON document.
    let forged_policy = standard_base64_encode(format!("{widened}}}").as_bytes());
    let forged = with_field(&post, "policy", &forged_policy);
    let (status, body) = send_form(&post.url, &forged, &jpeg(5000)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    assert_eq!(f.store.get(&key).await, Ok(None));

    // A form without its signature is refused (400 InvalidArgument, as S3 does).
    let unsigned: Vec<(String, String)> = post
        .fields
        .iter()
        .filter(|(k, _)| k != "x-amz-signature")
        .cloned()
        .collect();
    let (status, body) = send_form(&post.url, &unsigned, &jpeg(10)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("X-Amz-Signature"), "{body}");
    assert_eq!(f.store.get(&key).await, Ok(None));

    // The untouched form still works: the refusals were the tampering's.
    let (status, body) = send_form(&post.url, &post.fields, &jpeg(10)).await;
    assert!(status == 204 || status == 201, "{status}: {body}");
}

#[tokio::test]
async fn an_expired_policy_is_refused() {
    let f = fixture().await;
    let key = ObjectKey::id_upload(&new_id());
    let post = post_for(&f, &key, 1000, Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, body) = send_form(&post.url, &post.fields, &jpeg(10)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Policy expired"), "{body}");
    assert_eq!(f.store.get(&key).await, Ok(None));
}
