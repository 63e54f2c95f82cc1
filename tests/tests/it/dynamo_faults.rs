//! Fault injection in front of LocalStack's DynamoDB (kyc_tests::faults::FaultProxy):
//! throttling and 5xx answers are retried by the SDK; a 500 *after* a write landed is retried
//! without duplicating anything; persistent faults surface as retryable `Unavailable` errors,
//! and once they clear the audit chain is intact, with nothing lost or duplicated.

use std::sync::Arc;
use std::time::Duration;

use crate::common::now;
use kyc_aws::config::{AwsSettings, Resilience};
use kyc_aws::dynamo::{DynamoAuditLog, DynamoOcrData, DynamoSessionStore, DynamoTaskStore};
use kyc_core::audit::{
    append_with_retry, verify_chain_for, Actor, AuditLog, AuditLogError, EventDraft, EventKind,
};
use kyc_core::model::{Timestamp, VerificationId};
use kyc_core::ports::fakes::SeededRandom;
use kyc_core::ports::{PortError, SessionStore, Version};
use kyc_core::session::{ReadOutcome, Session, Step, StepKey};
use kyc_core::tasks::{TaskChange, TaskStatus};
use kyc_tests::faults::{Fault, FaultProxy, Matcher};
use kyc_tests::provision::{self, TableSpec};
use kyc_tests::{localstack, unique};

/// Retries as in production, with short backoffs so the suite stays quick.
fn quick_retries() -> Resilience {
    Resilience {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
        ..Resilience::default()
    }
}

/// A proxy in front of LocalStack and a DynamoDB client that goes through it.
async fn proxied() -> (FaultProxy, aws_sdk_dynamodb::Client) {
    let proxy = FaultProxy::start(&localstack().endpoint).await.unwrap();
    let config = AwsSettings::emulator(proxy.endpoint.clone())
        .with_resilience(quick_retries())
        .load()
        .await;
    (proxy, kyc_aws::dynamo::client(&config))
}

fn draft(id: VerificationId, kind: EventKind, step: i64) -> EventDraft {
    EventDraft::new(
        id,
        kind,
        Timestamp::from_secs(1_779_341_048).plus_millis(step),
        Actor::parse("fault-test").unwrap(),
    )
    .with_detail("step", step)
    .unwrap()
}

fn steps_of(events: &[kyc_core::audit::AuditEvent]) -> Vec<i64> {
    events
        .iter()
        .map(|e| match e.details().get("step") {
            Some(kyc_core::audit::DetailValue::Int(s)) => *s,
            other => panic!("step detail missing: {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn throttling_and_server_errors_on_query_and_put_are_retried_and_the_append_succeeds() {
    let direct = provision::client().await;
    let table = provision::create(&direct, &TableSpec::audit_log(unique("audit-faults")))
        .await
        .unwrap();
    let (proxy, client) = proxied().await;
    let log = DynamoAuditLog::new(client, &table.name);
    let id = VerificationId::from_random_bytes([1; 16]);

    proxy.inject(Matcher::Target("Query"), Fault::dynamodb_throttling(), 2);
    proxy.inject(Matcher::Target("PutItem"), Fault::json_internal_error(), 2);
    let e = log
        .append(draft(id, EventKind::DocumentUploaded, 0))
        .await
        .expect("retried past two throttles and two 500s");
    assert_eq!(proxy.stats().injected, 4);
    proxy.inject(Matcher::Target("PutItem"), Fault::dynamodb_throttling(), 1);
    proxy.inject(Matcher::Target("Query"), Fault::json_internal_error(), 1);
    log.append(draft(id, EventKind::DocumentRead, 1))
        .await
        .unwrap();
    assert_eq!(proxy.stats().injected, 6);

    let events = log.read(id).await.unwrap();
    assert_eq!(steps_of(&events), vec![0, 1]);
    assert_eq!(events[0], e);
    verify_chain_for(id, &events, None).unwrap();
    provision::delete(&direct, &table.name).await.unwrap();
}

#[tokio::test]
async fn a_500_after_the_audit_write_landed_is_retried_without_a_duplicate_event() {
    let direct = provision::client().await;
    let table = provision::create(&direct, &TableSpec::audit_log(unique("audit-faults")))
        .await
        .unwrap();
    let (proxy, client) = proxied().await;
    let log = DynamoAuditLog::new(client, &table.name);
    let id = VerificationId::from_random_bytes([2; 16]);

    let mut returned = Vec::new();
    for step in 0..6 {
        // Every other append: the write lands, the client sees a 500, the SDK retries and
        // the retry's condition fails against the event the first attempt stored.
        if step % 2 == 1 {
            proxy.inject(
                Matcher::Target("PutItem"),
                Fault::json_internal_error_after_forwarding(),
                1,
            );
        }
        let before = proxy.stats();
        let e = log
            .append(draft(id, EventKind::FrameAccepted, step))
            .await
            .expect("an append whose write landed succeeds");
        if step % 2 == 1 {
            let after = proxy.stats();
            assert_eq!(after.injected - before.injected, 1);
            // Query, the landed PutItem, and its retry all reached DynamoDB.
            assert_eq!(after.forwarded - before.forwarded, 3);
        }
        returned.push(e);
    }
    let events = log.read(id).await.unwrap();
    assert_eq!(events, returned, "each event stored exactly once");
    assert_eq!(steps_of(&events), vec![0, 1, 2, 3, 4, 5]);
    verify_chain_for(id, &events, returned.last().map(|e| e.head())).unwrap();
    provision::delete(&direct, &table.name).await.unwrap();
}

#[tokio::test]
async fn session_and_task_writes_that_landed_before_a_500_are_not_reported_as_conflicts() {
    let direct = provision::client().await;
    let sessions = provision::create(&direct, &TableSpec::sessions(unique("sessions-faults")))
        .await
        .unwrap();
    let tasks = provision::create(&direct, &TableSpec::tasks(unique("tasks-faults")))
        .await
        .unwrap();
    let (proxy, client) = proxied().await;
    let store = DynamoSessionStore::new(client.clone(), &sessions.name);
    let board = DynamoTaskStore::new(client, &tasks.name, Arc::new(SeededRandom::new(4)));
    let after = Fault::json_internal_error_after_forwarding;
    let t = now();
    let key = |s: &str| StepKey::parse(s).unwrap();

    let id = VerificationId::from_random_bytes([3; 16]);
    let mut s = Session::start(id, key("u"), t, t.plus_millis(900_000));
    proxy.inject(Matcher::Target("PutItem"), after(), 1);
    assert_eq!(store.save(&s, None).await, Ok(Version(1)));
    s.apply(
        Step::ReadDocument {
            outcome: ReadOutcome::Readable,
        },
        t,
    )
    .unwrap();
    proxy.inject(Matcher::Target("PutItem"), after(), 1);
    assert_eq!(store.save(&s, Some(Version(1))).await, Ok(Version(2)));
    assert_eq!(store.load(&id).await, Ok(Some((s, Version(2)))));

    proxy.inject(Matcher::Target("PutItem"), after(), 1);
    let task = board.create("alice", "plan", t).await.unwrap();
    proxy.inject(Matcher::Target("UpdateItem"), after(), 1);
    let done = TaskChange {
        status: Some(TaskStatus::Done),
        ..TaskChange::default()
    };
    let updated = board
        .update(&task.id, Version(1), &done, t.plus_millis(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (updated.version, updated.status),
        (Version(2), TaskStatus::Done)
    );
    assert_eq!(board.list_for_owner("alice").await, Ok(vec![updated]));
    assert_eq!(proxy.stats().injected, 4);
    provision::delete(&direct, &sessions.name).await.unwrap();
    provision::delete(&direct, &tasks.name).await.unwrap();
}

#[tokio::test]
async fn persistent_faults_are_retryable_unavailable_errors_and_nothing_is_lost_once_they_clear() {
    let direct = provision::client().await;
    let audit = provision::create(&direct, &TableSpec::audit_log(unique("audit-faults")))
        .await
        .unwrap();
    let sessions = provision::create(&direct, &TableSpec::sessions(unique("sessions-faults")))
        .await
        .unwrap();
    let ocr = provision::create(&direct, &TableSpec::ocr_data(unique("ocr-faults")))
        .await
        .unwrap();
    let (proxy, client) = proxied().await;
    let log = DynamoAuditLog::new(client.clone(), &audit.name);
    let store = DynamoSessionStore::new(client.clone(), &sessions.name);
    let repo = DynamoOcrData::new(client, &ocr.name);
    let id = VerificationId::from_random_bytes([4; 16]);
    log.append(draft(id, EventKind::DocumentUploaded, 0))
        .await
        .unwrap();
    log.append(draft(id, EventKind::DocumentRead, 1))
        .await
        .unwrap();

    let unavailable = |r: Result<kyc_core::audit::AuditEvent, AuditLogError>| match r {
        Err(e @ AuditLogError::Unavailable(_)) => {
            assert!(e.is_retryable());
            assert_eq!(e.to_string(), "audit log is unavailable");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    };
    let failed = [
        draft(id, EventKind::LivenessChallengeIssued, 2),
        draft(id, EventKind::FrameAccepted, 3),
        draft(id, EventKind::FrameAccepted, 4),
    ];
    proxy.inject_always(Matcher::Target("PutItem"), Fault::json_internal_error());
    unavailable(log.append(failed[0].clone()).await);
    proxy.clear();
    proxy.inject_always(Matcher::Target("Query"), Fault::dynamodb_throttling());
    unavailable(log.append(failed[1].clone()).await);
    assert!(matches!(
        log.read(id).await,
        Err(AuditLogError::Unavailable(_))
    ));
    proxy.clear();
    proxy.inject_always(Matcher::Any, Fault::Drop);
    unavailable(log.append(failed[2].clone()).await);

    let port_unavailable = PortError::Unavailable {
        backend: "dynamodb",
    };
    assert_eq!(store.load(&id).await, Err(port_unavailable.clone()));
    proxy.clear();
    proxy.inject_always(Matcher::Target("GetItem"), Fault::json_internal_error());
    let got = repo.get::<serde_json::Value>(&id, now()).await;
    assert!(matches!(&got, Err(e) if *e == port_unavailable && e.is_retryable()));
    proxy.clear();
    proxy.inject_always(Matcher::Target("PutItem"), Fault::dynamodb_throttling());
    let s = Session::start(
        id,
        StepKey::parse("u").unwrap(),
        now(),
        now().plus_millis(1000),
    );
    let err = store.save(&s, None).await.unwrap_err();
    assert!(err == port_unavailable && err.is_retryable());

    // The faults clear; the callers retry what failed.
    proxy.clear();
    assert_eq!(
        store.load(&id).await,
        Ok(None),
        "the failed save stored nothing"
    );
    for d in failed {
        append_with_retry(&log, d, 3).await.unwrap();
    }
    let events = log.read(id).await.unwrap();
    assert_eq!(steps_of(&events), vec![0, 1, 2, 3, 4]);
    verify_chain_for(id, &events, None).unwrap();
    provision::delete(&direct, &audit.name).await.unwrap();
    provision::delete(&direct, &sessions.name).await.unwrap();
    provision::delete(&direct, &ocr.name).await.unwrap();
}
