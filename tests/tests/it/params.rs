//! Configuration against LocalStack: the kit's parameters read from SSM Parameter Store by path
//! (more than one page), a missing one named in the error, and Secrets Manager secrets read into
//! a redacting wrapper with a short cache.

use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use kyc_aws::params::{
    names, parameters_by_path, KycResources, ParameterPath, ParamsError, Secrets,
};
use kyc_core::ports::PortError;
use kyc_tests::{localstack, unique};

async fn ssm() -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&localstack().sdk_config().await)
}

async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&localstack().sdk_config().await)
}

/// A fresh `/kyc/<unique>/` path.
fn fresh_path() -> ParameterPath {
    ParameterPath::for_env(&unique("env")).expect("path")
}

/// The value the stack would write for `relative`.
fn value_of(relative: &str) -> String {
    if relative.ends_with("-arn") || relative == names::EVENTS_TOPIC {
        format!("arn:aws:test:us-east-1:000000000000:{relative}")
    } else {
        format!("kyc-test-{}", relative.replace('/', "-"))
    }
}

async fn put(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::String)
        .send()
        .await
        .expect("put parameter");
}

async fn put_all(ssm: &aws_sdk_ssm::Client, path: &ParameterPath, except: &[&str]) {
    for rel in names::REQUIRED.iter().filter(|r| !except.contains(r)) {
        put(ssm, &path.name(rel), &value_of(rel)).await;
    }
}

#[tokio::test]
async fn every_parameter_is_read_across_pages_into_typed_resources() {
    let ssm = ssm().await;
    let path = fresh_path();
    put_all(&ssm, &path, &[]).await;
    put(
        &ssm,
        &path.name(names::WEBSOCKET_ENDPOINT),
        "wss://ws.example/prod",
    )
    .await;
    // Deeper and unrelated parameters under the path are ignored.
    put(&ssm, &path.name("extra/deeper/thing"), "ignored").await;

    let r = KycResources::load(&ssm, &path).await.expect("load");
    assert_eq!(r.buckets.id_uploads, "kyc-test-buckets-id-uploads");
    assert_eq!(r.buckets.live_frames, "kyc-test-buckets-live-frames");
    assert_eq!(r.buckets.ocr_raw, "kyc-test-buckets-ocr-raw");
    assert_eq!(r.tables.audit_log, "kyc-test-tables-audit-log");
    assert_eq!(r.tables.ocr_data, "kyc-test-tables-ocr-data");
    assert_eq!(r.tables.sessions, "kyc-test-tables-sessions");
    assert_eq!(r.tables.tasks, "kyc-test-tables-tasks");
    assert_eq!(r.tables.connections, "kyc-test-tables-connections");
    assert_eq!(r.events_topic_arn, value_of(names::EVENTS_TOPIC));
    assert_eq!(r.keys.data_key_arn, value_of(names::DATA_KEY_ARN));
    assert_eq!(r.keys.signing_key_arn, value_of(names::SIGNING_KEY_ARN));
    assert_eq!(
        r.screening_secret_arn,
        value_of(names::SCREENING_SECRET_ARN)
    );
    assert_eq!(r.endpoints.rest_api, "kyc-test-endpoints-rest-api");
    assert_eq!(
        r.endpoints.websocket.as_deref(),
        Some("wss://ws.example/prod")
    );
}

#[tokio::test]
async fn a_path_with_many_parameters_is_read_page_by_page() {
    let ssm = ssm().await;
    let path = fresh_path();
    for i in 0..27 {
        put(&ssm, &path.name(&format!("many/p{i:02}")), &format!("v{i}")).await;
    }
    // The service really pages: one call returns ten and a continuation token.
    let first = ssm
        .get_parameters_by_path()
        .path(path.as_str().trim_end_matches('/'))
        .recursive(true)
        .max_results(10)
        .send()
        .await
        .unwrap();
    assert_eq!(first.parameters().len(), 10);
    assert!(first.next_token().is_some());
    let all = parameters_by_path(&ssm, &path).await.expect("read");
    assert_eq!(all.len(), 27, "three pages of at most ten");
    assert_eq!(
        all.get(&path.name("many/p26")).map(String::as_str),
        Some("v26")
    );
}

#[tokio::test]
async fn a_missing_parameter_is_named_in_the_error() {
    let ssm = ssm().await;
    let path = fresh_path();
    put_all(&ssm, &path, &[names::SESSIONS_TABLE]).await;
    let err = KycResources::load(&ssm, &path).await.unwrap_err();
    assert_eq!(
        err,
        ParamsError::Missing {
            names: vec![path.name("tables/sessions")]
        }
    );
    assert_eq!(
        err.to_string(),
        format!("missing parameters: {}tables/sessions", path.as_str())
    );
    // Without the optional WebSocket endpoint the rest loads.
    put(&ssm, &path.name(names::SESSIONS_TABLE), "sessions").await;
    let r = KycResources::load(&ssm, &path).await.expect("now complete");
    assert_eq!(r.endpoints.websocket, None);
}

#[tokio::test]
async fn an_empty_path_names_every_required_parameter() {
    let ssm = ssm().await;
    let err = KycResources::load(&ssm, &fresh_path()).await.unwrap_err();
    match err {
        ParamsError::Missing { names } => assert_eq!(names.len(), names::REQUIRED.len()),
        other => panic!("expected missing parameters, got {other:?}"),
    }
}

#[tokio::test]
async fn a_secret_is_read_redacted_and_cached_for_its_ttl() {
    let sm = secrets_client().await;
    let name = format!("kyc/{}/screening-provider-key", unique("env"));
    let arn = sm
        .create_secret()
        .name(&name)
        .secret_string("first-api-key")
        .send()
        .await
        .expect("create secret")
        .arn
        .expect("arn");
    let secrets = Secrets::new(sm.clone(), Duration::from_millis(800));
    let v = secrets.get(&arn).await.expect("read");
    assert_eq!(v.expose(), "first-api-key");
    assert!(!format!("{v:?} {v} {secrets:?}").contains("first-api-key"));

    sm.put_secret_value()
        .secret_id(&arn)
        .secret_string("rotated-api-key")
        .send()
        .await
        .expect("rotate");
    assert_eq!(
        secrets.get(&arn).await.unwrap().expose(),
        "first-api-key",
        "cached"
    );
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        secrets.get(&arn).await.unwrap().expose(),
        "rotated-api-key",
        "refetched after the TTL"
    );

    sm.put_secret_value()
        .secret_id(&arn)
        .secret_string("third-api-key")
        .send()
        .await
        .unwrap();
    secrets.invalidate(&arn);
    assert_eq!(secrets.get(&arn).await.unwrap().expose(), "third-api-key");
}

#[tokio::test]
async fn a_missing_or_binary_secret_is_a_misconfiguration() {
    let sm = secrets_client().await;
    let secrets = Secrets::new(sm.clone(), Secrets::DEFAULT_TTL);
    let missing = format!("kyc/{}/absent", unique("env"));
    let err = secrets.get(&missing).await.unwrap_err();
    assert!(
        matches!(
            err,
            PortError::Misconfigured {
                backend: "secretsmanager",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains(&missing), "no echo of the id");

    let binary = sm
        .create_secret()
        .name(format!("kyc/{}/binary", unique("env")))
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(vec![0, 1, 2]))
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let err = secrets.get(&binary).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "secretsmanager is misconfigured: the secret holds no string value"
    );
}
