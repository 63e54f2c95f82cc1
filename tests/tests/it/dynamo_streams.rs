//! DynamoDB Streams against LocalStack (Streams v2, served by DynamoDB Local): writes through
//! the adapters, the stream read back with `aws-sdk-dynamodbstreams` (DescribeStream →
//! GetShardIterator TRIM_HORIZON → GetRecords, polled with a deadline), parsed into domain
//! events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::now;
use aws_sdk_dynamodb::types::StreamViewType;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use kyc_aws::dynamo::streams::{events_from_record, ChangeEvent, StreamSource};
use kyc_aws::dynamo::{DynamoOcrData, DynamoSessionStore, DynamoTaskStore};
use kyc_core::decision::Status;
use kyc_core::model::VerificationId;
use kyc_core::ports::fakes::SeededRandom;
use kyc_core::ports::{DomainEvent, EventKind, SessionStore, Version};
use kyc_core::session::{
    Outcome, PolicyVersion, ReadOutcome, ScreeningOutcome, Session, Step, StepKey,
};
use kyc_core::tasks::{TaskChange, TaskEventKind, TaskStatus};
use kyc_tests::provision::{self, TableSpec};
use kyc_tests::{localstack, unique};

async fn streams_client() -> aws_sdk_dynamodbstreams::Client {
    aws_sdk_dynamodbstreams::Client::new(&localstack().sdk_config().await)
}

/// Reads `want` records from every shard of the stream, from the trim horizon, polling until
/// they are there or 30 s have passed (then it fails with what it got).
async fn read_stream(arn: &str, want: usize) -> Vec<Record> {
    let client = streams_client().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let desc = client
        .describe_stream()
        .stream_arn(arn)
        .send()
        .await
        .unwrap();
    let shards: Vec<String> = desc
        .stream_description()
        .map(|d| {
            d.shards()
                .iter()
                .filter_map(|s| s.shard_id().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(!shards.is_empty(), "the stream has shards");
    let mut iterators = Vec::new();
    for shard in shards {
        let it = client
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap();
        iterators.extend(it.shard_iterator().map(str::to_owned));
    }
    let mut records = Vec::new();
    while records.len() < want {
        assert!(
            Instant::now() < deadline,
            "only {} of {want} stream records arrived within 30 s",
            records.len()
        );
        let mut next = Vec::new();
        for it in iterators {
            let out = client
                .get_records()
                .shard_iterator(it)
                .send()
                .await
                .unwrap();
            records.extend(out.records().iter().cloned());
            next.extend(out.next_shard_iterator().map(str::to_owned));
        }
        iterators = next;
        if records.len() < want {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    records
}

fn parse_all(source: StreamSource, records: &[Record]) -> Vec<ChangeEvent> {
    records
        .iter()
        .flat_map(|r| events_from_record(source, r).expect("a record of our own table parses"))
        .collect()
}

#[tokio::test]
async fn ocr_data_writes_come_back_from_the_stream_as_document_read_events() {
    let client = provision::client().await;
    let table = provision::create(&client, &TableSpec::ocr_data(unique("ocr-stream")))
        .await
        .unwrap();
    let repo = DynamoOcrData::new(client.clone(), &table.name);
    let (a, b) = (
        VerificationId::from_random_bytes([1; 16]),
        VerificationId::from_random_bytes([2; 16]),
    );
    let t = now();
    let record = serde_json::json!({"surname": "ERIKSSON"});
    let expiry = t.plus_millis(3_600_000);
    repo.put(&a, &record, t, expiry).await.unwrap();
    repo.put(&b, &record, t.plus_millis(1), expiry)
        .await
        .unwrap();
    repo.put(&a, &record, t.plus_millis(2), expiry)
        .await
        .unwrap();
    assert!(repo.delete(&b).await.unwrap());

    let records = read_stream(table.stream_arn.as_deref().unwrap(), 4).await;
    let events = parse_all(StreamSource::OcrData, &records);
    let read = |id, ms| {
        ChangeEvent::Verification(DomainEvent {
            verification_id: id,
            kind: EventKind::DocumentRead,
            at: t.plus_millis(ms),
            status: None,
        })
    };
    assert_eq!(events, vec![read(a, 0), read(b, 1), read(a, 2)]);
    assert!(!format!("{events:?}").contains("ERIKSSON"));
    provision::delete(&client, &table.name).await.unwrap();
}

#[tokio::test]
async fn task_changes_come_back_from_the_stream_as_task_events() {
    let client = provision::client().await;
    let table = provision::create(&client, &TableSpec::tasks(unique("tasks-stream")))
        .await
        .unwrap();
    let store = DynamoTaskStore::new(client.clone(), &table.name, Arc::new(SeededRandom::new(3)));
    let t = now();
    let task = store.create("alice", "secret plans", t).await.unwrap();
    let done = TaskChange {
        status: Some(TaskStatus::Done),
        ..TaskChange::default()
    };
    store
        .update(&task.id, Version(1), &done, t.plus_millis(10))
        .await
        .unwrap()
        .unwrap();
    assert!(store.delete(&task.id, Version(2)).await.unwrap());

    let records = read_stream(table.stream_arn.as_deref().unwrap(), 3).await;
    let events = parse_all(StreamSource::Tasks, &records);
    let got: Vec<_> = events
        .iter()
        .map(|e| match e {
            ChangeEvent::Task(t) => (
                t.kind,
                t.task_id.clone(),
                t.owner.as_str(),
                t.version,
                t.status,
            ),
            ChangeEvent::Verification(_) => panic!("a task stream yields task events"),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                TaskEventKind::Created,
                task.id.clone(),
                "alice",
                1,
                Some(TaskStatus::Todo)
            ),
            (
                TaskEventKind::Updated,
                task.id.clone(),
                "alice",
                2,
                Some(TaskStatus::Done)
            ),
            (TaskEventKind::Deleted, task.id.clone(), "alice", 2, None),
        ]
    );
    assert!(matches!(&events[1], ChangeEvent::Task(e) if e.at == t.plus_millis(10)));
    assert!(!format!("{events:?}").contains("secret"));
    provision::delete(&client, &table.name).await.unwrap();
}

#[tokio::test]
async fn session_state_changes_come_back_from_a_session_stream_as_pipeline_events() {
    let client = provision::client().await;
    let spec = TableSpec {
        stream: Some(StreamViewType::NewAndOldImages),
        ..TableSpec::sessions(unique("sessions-stream"))
    };
    let table = provision::create(&client, &spec).await.unwrap();
    let store = DynamoSessionStore::new(client.clone(), &table.name);
    let key = |s: &str| StepKey::parse(s).unwrap();
    let t = now();
    let id = VerificationId::from_random_bytes([3; 16]);
    let mut s = Session::start(id, key("u"), t, t.plus_millis(900_000));
    let mut v = store.save(&s, None).await.unwrap();
    let steps = [
        Step::ReadDocument {
            outcome: ReadOutcome::Readable,
        },
        Step::IssueChallenge { nonce: key("n") },
        Step::AcceptFrame {
            nonce: key("n"),
            frame_id: key("f"),
        },
        Step::CompleteLiveness {
            nonce: key("n"),
            passed: true,
        },
        Step::MatchFace { matched: true },
        Step::Screen {
            outcome: ScreeningOutcome::Clear,
        },
        Step::Decide {
            outcome: Outcome::Approved,
            policy_version: PolicyVersion::parse("2026-05").unwrap(),
        },
    ];
    for (i, step) in steps.into_iter().enumerate() {
        s.apply(step, t.plus_millis(i as i64 + 1)).unwrap();
        v = store.save(&s, Some(v)).await.unwrap();
    }
    assert_eq!(v, Version(8));

    let records = read_stream(table.stream_arn.as_deref().unwrap(), 8).await;
    let events = parse_all(StreamSource::Sessions, &records);
    let got: Vec<_> = events
        .iter()
        .map(|e| match e {
            ChangeEvent::Verification(d) => {
                assert_eq!(d.verification_id, id);
                (d.kind, d.status)
            }
            ChangeEvent::Task(_) => panic!("a session stream yields verification events"),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (EventKind::DocumentUploaded, None),
            (EventKind::DocumentRead, None),
            (EventKind::LivenessStarted, None),
            (EventKind::LivenessCompleted, None),
            (EventKind::Decided, Some(Status::Approved)),
        ]
    );
    provision::delete(&client, &table.name).await.unwrap();
}
