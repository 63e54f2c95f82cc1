//! The DynamoDB session, OCR-data and task stores against LocalStack: conditional writes,
//! replayed steps recognised, TTL attributes, expiry, erasure.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::common::now;
use aws_sdk_dynamodb::types::AttributeValue;
use kyc_aws::dynamo::{
    DynamoOcrData, DynamoSessionStore, DynamoTaskStore, TaskStoreError, TTL_ATTRIBUTE,
};
use kyc_core::model::{Timestamp, VerificationId};
use kyc_core::ports::fakes::SeededRandom;
use kyc_core::ports::{PortError, SessionStore, Version};
use kyc_core::session::{ReadOutcome, Session, State, Step, StepKey, Transition};
use kyc_core::tasks::{TaskChange, TaskId, TaskStatus};
use kyc_tests::provision::{self, TableSpec};
use kyc_tests::unique;

fn key(s: &str) -> StepKey {
    StepKey::parse(s).unwrap()
}

fn random_id() -> VerificationId {
    let n = (u128::from(std::process::id()) << 64) | now().millis() as u128;
    VerificationId::from_random_bytes(n.to_le_bytes())
}

fn frame(nonce: &str, id: &str) -> Step {
    Step::AcceptFrame {
        nonce: key(nonce),
        frame_id: key(id),
    }
}

fn frames(s: &Session) -> u16 {
    match s.state() {
        State::LivenessChallenged { frames, .. } => *frames,
        other => panic!("not challenged: {:?}", other.name()),
    }
}

fn accepted_frames(s: &Session) -> Vec<String> {
    s.history()
        .iter()
        .filter_map(|st| match st {
            Step::AcceptFrame { frame_id, .. } => Some(frame_id.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

async fn raw_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: (&str, &str),
) -> HashMap<String, AttributeValue> {
    client
        .get_item()
        .table_name(table)
        .key(key.0, AttributeValue::S(key.1.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("the item exists")
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap(),
        other => panic!("{name} is not a number: {other:?}"),
    }
}

#[tokio::test]
async fn a_replayed_upload_or_frame_is_recognised_and_concurrent_saves_have_one_winner() {
    let client = provision::client().await;
    let table = provision::create(&client, &TableSpec::sessions(unique("sessions")))
        .await
        .unwrap();
    let store =
        DynamoSessionStore::with_retention(client.clone(), &table.name, Duration::from_secs(3600));
    let t0 = now();
    let id = random_id();
    let session = Session::start(id, key("upload-1"), t0, t0.plus_millis(900_000));
    assert_eq!(store.save(&session, None).await, Ok(Version(1)));

    // The same upload again: the step is a replay and a second creation is refused.
    let (mut loaded, v1) = store.load(&id).await.unwrap().unwrap();
    assert_eq!((&loaded, v1), (&session, Version(1)));
    let upload = Step::UploadDocument {
        idempotency_key: key("upload-1"),
    };
    assert_eq!(loaded.apply(upload, t0), Ok(Transition::Replayed));
    // Writing exactly the stored item again (a retried call) is recognised as done…
    assert_eq!(store.save(&session, None).await, Ok(Version(1)));
    // …while a second upload building its own session for the same id is refused.
    let replay = Session::start(
        id,
        key("upload-1"),
        t0.plus_millis(7),
        t0.plus_millis(900_007),
    );
    assert_eq!(store.save(&replay, None).await, Err(PortError::Conflict));
    assert_eq!(
        store.load(&id).await,
        Ok(Some((session.clone(), Version(1))))
    );

    for step in [
        Step::ReadDocument {
            outcome: ReadOutcome::Readable,
        },
        Step::IssueChallenge { nonce: key("n1") },
        frame("n1", "f1"),
    ] {
        loaded.apply(step, t0).unwrap();
    }
    let v2 = store.save(&loaded, Some(v1)).await.unwrap();
    assert_eq!(v2, Version(2));

    // A replayed frame changes nothing, so there is nothing to save.
    let (mut again, v) = store.load(&id).await.unwrap().unwrap();
    assert_eq!(again.apply(frame("n1", "f1"), t0), Ok(Transition::Replayed));
    assert_eq!((frames(&again), v), (1, v2));

    // Two writers add different frames from the same version: exactly one wins.
    let (mut a, mut b) = (again.clone(), again.clone());
    a.apply(frame("n1", "f2"), t0).unwrap();
    b.apply(frame("n1", "f3"), t0).unwrap();
    let (ra, rb) = tokio::join!(store.save(&a, Some(v2)), store.save(&b, Some(v2)));
    let outcomes = [ra.clone(), rb.clone()];
    assert_eq!(
        outcomes.iter().filter(|r| **r == Ok(Version(3))).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|r| **r == Err(PortError::Conflict))
            .count(),
        1
    );
    let (stored, v3) = store.load(&id).await.unwrap().unwrap();
    assert_eq!((frames(&stored), v3), (2, Version(3)));
    let winner = if ra.is_ok() { "f2" } else { "f3" };
    assert_eq!(accepted_frames(&stored), vec!["f1", winner]);

    // The loser reloads, re-applies its frame and saves on the new version.
    let loser = if ra.is_ok() { "f3" } else { "f2" };
    let (mut retry, v) = store.load(&id).await.unwrap().unwrap();
    retry.apply(frame("n1", loser), t0).unwrap();
    assert_eq!(store.save(&retry, Some(v)).await, Ok(Version(4)));
    let (fin, _) = store.load(&id).await.unwrap().unwrap();
    let mut got = accepted_frames(&fin);
    got.sort();
    assert_eq!(got, vec!["f1", "f2", "f3"], "each frame exactly once");

    // The TTL is the deadline plus the retention, in epoch seconds.
    let item = raw_item(&client, &table.name, ("verificationId", id.as_str())).await;
    let deadline_secs = (t0.millis() + 900_000 + 3_600_000 + 999) / 1000;
    assert_eq!(number(&item, TTL_ATTRIBUTE), deadline_secs);
    assert_eq!(number(&item, "version"), 4);
    assert_eq!(
        provision::ttl_attribute(&client, &table.name)
            .await
            .unwrap()
            .as_deref(),
        Some(TTL_ATTRIBUTE)
    );

    // Erasure: deleted, loads as nothing, deleting again is fine, a stale save conflicts.
    store.delete(&id).await.unwrap();
    store.delete(&id).await.unwrap();
    assert_eq!(store.load(&id).await, Ok(None));
    assert_eq!(
        store.save(&fin, Some(Version(4))).await,
        Err(PortError::Conflict)
    );
    provision::delete(&client, &table.name).await.unwrap();
}

#[tokio::test]
async fn a_decided_session_records_its_outcome_and_a_broken_item_is_an_integrity_failure() {
    let client = provision::client().await;
    let table = provision::create(&client, &TableSpec::sessions(unique("sessions")))
        .await
        .unwrap();
    let store = DynamoSessionStore::new(client.clone(), &table.name);
    let t0 = now();
    let id = random_id();
    let mut s = Session::start(id, key("u"), t0, t0.plus_millis(60_000));
    store.save(&s, None).await.unwrap();
    s.apply(
        Step::ReadDocument {
            outcome: ReadOutcome::Unreadable,
        },
        t0,
    )
    .unwrap();
    s.apply(
        Step::Decide {
            outcome: kyc_core::session::Outcome::Rejected,
            policy_version: kyc_core::session::PolicyVersion::parse("2026-05").unwrap(),
        },
        t0,
    )
    .unwrap();
    store.save(&s, Some(Version(1))).await.unwrap();
    let item = raw_item(&client, &table.name, ("verificationId", id.as_str())).await;
    assert_eq!(
        item.get("state"),
        Some(&AttributeValue::S("decided".into()))
    );
    assert_eq!(
        item.get("outcome"),
        Some(&AttributeValue::S("rejected".into()))
    );

    client
        .update_item()
        .table_name(&table.name)
        .key("verificationId", AttributeValue::S(id.as_str().into()))
        .update_expression("SET #s = :bad")
        .expression_attribute_names("#s", "session")
        .expression_attribute_values(":bad", AttributeValue::S("{\"not\":1}".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(store.load(&id).await, Err(PortError::Integrity));
    provision::delete(&client, &table.name).await.unwrap();
}

#[tokio::test]
async fn ocr_data_round_trips_expires_before_the_sweeper_and_is_erased() {
    let client = provision::client().await;
    let table = provision::create(&client, &TableSpec::ocr_data(unique("ocr")))
        .await
        .unwrap();
    assert!(table.stream_arn.is_some(), "KycOcrData has a stream");
    let repo = DynamoOcrData::new(client.clone(), &table.name);
    let t0 = now();
    let (a, b) = (random_id(), VerificationId::from_random_bytes([9; 16]));
    let record = serde_json::json!({"fields": {"surname": "ERIKSSON", "birthDate": "1974-08-12"}});
    repo.put(&a, &record, t0, t0.plus_millis(3_600_000))
        .await
        .unwrap();
    let back: Option<serde_json::Value> = repo.get(&a, t0).await.unwrap();
    assert_eq!(back.as_ref(), Some(&record));

    let item = raw_item(&client, &table.name, ("verificationId", a.as_str())).await;
    assert_eq!(
        number(&item, TTL_ATTRIBUTE),
        (t0.millis() + 3_600_000 + 999) / 1000
    );
    assert_eq!(number(&item, "createdAt"), t0.millis());

    // Expired (but not yet swept): the item is there, the record is not returned.
    repo.put(&b, &record, t0, t0.plus_millis(2_000))
        .await
        .unwrap();
    let later = Timestamp::from_millis((t0.millis() + 2_000 + 999) / 1000 * 1000);
    let expired: Option<serde_json::Value> = repo.get(&b, later).await.unwrap();
    assert_eq!(expired, None);
    raw_item(&client, &table.name, ("verificationId", b.as_str())).await;
    assert!(matches!(
        repo.put(&b, &record, t0, t0).await,
        Err(PortError::Rejected { .. })
    ));

    // A record of another type is an integrity failure, never a panic.
    assert_eq!(repo.get::<u32>(&a, t0).await, Err(PortError::Integrity));

    assert!(repo.delete(&a).await.unwrap());
    assert!(!repo.delete(&a).await.unwrap());
    assert_eq!(repo.get::<serde_json::Value>(&a, t0).await, Ok(None));
    assert_eq!(
        provision::ttl_attribute(&client, &table.name)
            .await
            .unwrap()
            .as_deref(),
        Some(TTL_ATTRIBUTE)
    );
    provision::delete(&client, &table.name).await.unwrap();
}

async fn task_board_rules_hold(store: &DynamoTaskStore) {
    let t0 = now();
    let a = store
        .create("alice", "  write the report ", t0)
        .await
        .unwrap();
    let b = store
        .create("alice", "review", t0.plus_millis(1))
        .await
        .unwrap();
    store.create("bob", "other", t0).await.unwrap();
    assert_eq!(a.title, "write the report");
    assert_eq!((a.status, a.version), (TaskStatus::Todo, Version(1)));
    assert_eq!(store.get(&a.id).await, Ok(Some(a.clone())));
    assert_eq!(
        store.list_for_owner("alice").await,
        Ok(vec![a.clone(), b.clone()])
    );
    assert_eq!(store.list_for_owner("carol").await, Ok(vec![]));

    let done = TaskChange {
        status: Some(TaskStatus::Done),
        ..TaskChange::default()
    };
    let a2 = store
        .update(&a.id, Version(1), &done, t0.plus_millis(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a2.status, a2.version, a2.title.as_str(), a2.updated_at),
        (
            TaskStatus::Done,
            Version(2),
            "write the report",
            t0.plus_millis(5)
        )
    );
    let rename = TaskChange {
        title: Some("renamed".into()),
        ..TaskChange::default()
    };
    assert_eq!(
        store.update(&a.id, Version(1), &rename, t0).await,
        Err(TaskStoreError::Port(PortError::Conflict))
    );
    assert_eq!(store.get(&a.id).await, Ok(Some(a2.clone())));
    let a3 = store
        .update(&a.id, Version(2), &rename, t0.plus_millis(9))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a3.title.as_str(), a3.status, a3.version),
        ("renamed", TaskStatus::Done, Version(3))
    );

    let ghost = TaskId::parse(&"0".repeat(32)).unwrap();
    assert_eq!(
        store
            .update(&ghost, Version(1), &TaskChange::default(), t0)
            .await,
        Ok(None)
    );
    assert_eq!(store.delete(&ghost, Version(1)).await, Ok(false));
    assert_eq!(
        store.delete(&b.id, Version(2)).await,
        Err(PortError::Conflict)
    );
    assert_eq!(store.delete(&b.id, Version(1)).await, Ok(true));
    assert_eq!(store.get(&b.id).await, Ok(None));
    assert_eq!(store.list_for_owner("alice").await, Ok(vec![a3]));

    for (owner, title) in [("alice", "   "), ("alice", "a\u{0}b"), ("a b", "t")] {
        assert!(matches!(
            store.create(owner, title, t0).await,
            Err(TaskStoreError::Invalid(_))
        ));
    }
    let bad = TaskChange {
        title: Some(String::new()),
        ..TaskChange::default()
    };
    assert!(matches!(
        store.update(&a.id, Version(3), &bad, t0).await,
        Err(TaskStoreError::Invalid(_))
    ));
}

#[tokio::test]
async fn tasks_follow_the_boards_rules_listed_by_scan() {
    let client = provision::client().await;
    let table = provision::create(&client, &TableSpec::tasks(unique("tasks")))
        .await
        .unwrap();
    let store = DynamoTaskStore::new(client.clone(), &table.name, Arc::new(SeededRandom::new(1)));
    task_board_rules_hold(&store).await;
    provision::delete(&client, &table.name).await.unwrap();
}

#[tokio::test]
async fn tasks_follow_the_boards_rules_listed_by_an_owner_index() {
    let client = provision::client().await;
    let spec = TableSpec::tasks(unique("tasks")).with_index("owner-index", "owner");
    let table = provision::create(&client, &spec).await.unwrap();
    let store = DynamoTaskStore::new(client.clone(), &table.name, Arc::new(SeededRandom::new(2)))
        .with_owner_index("owner-index");
    task_board_rules_hold(&store).await;
    provision::delete(&client, &table.name).await.unwrap();
}
