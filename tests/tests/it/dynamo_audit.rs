//! The DynamoDB audit log against LocalStack: the port's contract, 50 concurrent writers on
//! one chain, one TTL for the whole chain, paginated reads and redaction.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::common::now;
use aws_sdk_dynamodb::types::AttributeValue;
use kyc_aws::dynamo::{DynamoAuditLog, TTL_ATTRIBUTE};
use kyc_core::audit::{
    append_with_retry, verify_chain_for, Actor, AuditLog, DetailKey, DetailValue, EventDraft,
    EventKind, PersonalData, Salt,
};
use kyc_core::model::{Timestamp, VerificationId};
use kyc_tests::provision::{self, TableSpec};
use kyc_tests::unique;

const WRITERS: u32 = 50;

fn draft(id: VerificationId, kind: EventKind, at: Timestamp) -> EventDraft {
    EventDraft::new(id, kind, at, Actor::parse("dynamo-test").unwrap())
}

async fn chain_items(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    id: VerificationId,
) -> Vec<HashMap<String, AttributeValue>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .query()
            .table_name(table)
            .key_condition_expression("verificationId = :id")
            .expression_attribute_values(":id", AttributeValue::S(id.as_str().into()))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return items,
        }
    }
}

#[tokio::test]
async fn the_dynamodb_audit_log_meets_the_port_contract() {
    let client = provision::client().await;
    let table = provision::create(&client, &TableSpec::audit_log(unique("audit")))
        .await
        .unwrap();
    let log = DynamoAuditLog::new(client.clone(), &table.name);
    kyc_core::audit::contract::check(&log, VerificationId::from_random_bytes([4; 16]))
        .await
        .unwrap();
    provision::delete(&client, &table.name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_writers_keep_one_linear_verifiable_chain_sharing_one_ttl() {
    let client = provision::client().await;
    let table = provision::create(&client, &TableSpec::audit_log(unique("audit")))
        .await
        .unwrap();
    let retention = Duration::from_secs(3600);
    let log = Arc::new(DynamoAuditLog::with_retention(
        client.clone(),
        &table.name,
        retention,
    ));
    let id = VerificationId::from_random_bytes([5; 16]);
    let t0 = now();
    let first = log
        .append(draft(id, EventKind::DocumentUploaded, t0))
        .await
        .unwrap();

    let started = std::time::Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let log = log.clone();
        writers.spawn(async move {
            let d = draft(id, EventKind::FrameAccepted, t0.plus_millis(i64::from(w)))
                .with_detail("writer", w)
                .unwrap();
            // Each conflict means another writer's event took that sequence number, so a
            // writer loses at most once per other writer (49 times) and wins by attempt 50.
            append_with_retry(&*log, d, WRITERS).await
        });
    }
    let mut returned = Vec::new();
    while let Some(joined) = writers.join_next().await {
        returned.push(joined.unwrap().expect("every writer succeeds"));
    }
    eprintln!("{WRITERS} concurrent appends took {:?}", started.elapsed());

    let events = log.read(id).await.unwrap();
    assert_eq!(events.len(), 1 + WRITERS as usize);
    let head = verify_chain_for(id, &events, Some(first.head())).unwrap();
    assert_eq!(head.seq, u64::from(WRITERS));
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq(), i as u64, "no gaps");
    }
    // Every writer's event is stored exactly once, as returned to it.
    let mut writers_seen = BTreeSet::new();
    for r in &returned {
        assert_eq!(&events[r.seq() as usize], r);
        match r.details().get("writer") {
            Some(DetailValue::Int(w)) => assert!(writers_seen.insert(*w)),
            other => panic!("writer detail missing: {other:?}"),
        }
    }
    assert_eq!(writers_seen.len(), WRITERS as usize);

    // One TTL for the whole chain, from the first event plus the retention.
    let items = chain_items(&client, &table.name, id).await;
    assert_eq!(items.len(), events.len());
    let expected = (t0.millis() + 3_600_000 + 999) / 1000;
    for item in &items {
        assert_eq!(
            item.get(TTL_ATTRIBUTE),
            Some(&AttributeValue::N(expected.to_string()))
        );
    }
    assert_eq!(
        provision::ttl_attribute(&client, &table.name)
            .await
            .unwrap()
            .as_deref(),
        Some(TTL_ATTRIBUTE)
    );
    provision::delete(&client, &table.name).await.unwrap();
}

#[tokio::test]
async fn long_chains_are_read_and_redacted_across_pages_and_personal_values_leave_no_trace() {
    let client = provision::client().await;
    let table = provision::create(&client, &TableSpec::audit_log(unique("audit")))
        .await
        .unwrap();
    let log = DynamoAuditLog::new(client.clone(), &table.name);
    let id = VerificationId::from_random_bytes([6; 16]);
    let t0 = now();
    // About 33 KB per event: 40 events exceed DynamoDB's 1 MB page.
    let mut personal = PersonalData::new();
    for i in 0..32 {
        let value = format!("{i:02}-{}", "P".repeat(1000));
        personal
            .insert(DetailKey::parse(&format!("field{i}")).unwrap(), &value)
            .unwrap();
    }
    let mut written = Vec::new();
    for i in 0..40u8 {
        let d = draft(id, EventKind::DocumentRead, t0.plus_millis(i64::from(i)))
            .with_personal(personal.clone(), Salt::from_bytes([i; 16]));
        written.push(log.append(d).await.unwrap());
    }
    let first_page = client
        .query()
        .table_name(&table.name)
        .key_condition_expression("verificationId = :id")
        .expression_attribute_values(":id", AttributeValue::S(id.as_str().into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(
        first_page.last_evaluated_key.is_some() && first_page.count < 40,
        "the chain spans more than one page"
    );
    let read = log.read(id).await.unwrap();
    assert_eq!(read, written);
    let head = written.last().map(|e| e.head());

    assert_eq!(log.redact(id).await.unwrap(), 40);
    assert_eq!(log.redact(id).await.unwrap(), 0);
    let redacted = log.read(id).await.unwrap();
    assert!(redacted.iter().all(|e| e.is_redacted()));
    assert_eq!(
        verify_chain_for(id, &redacted, head).unwrap(),
        head.unwrap()
    );
    for item in chain_items(&client, &table.name, id).await {
        assert!(!item.contains_key("personal"));
        assert!(item
            .values()
            .all(|v| !matches!(v, AttributeValue::S(s) if s.contains("PPPP"))));
    }
    provision::delete(&client, &table.name).await.unwrap();
}
