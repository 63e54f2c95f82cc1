//! `SnsEventPublisher` against LocalStack: events published to a topic arrive in subscribed SQS
//! queues (raw delivery and SNS's envelope) with their attributes, a filter policy on the
//! `kind` attribute selects events, and a missing topic is a misconfiguration.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use kyc_aws::sns::SnsEventPublisher;
use kyc_core::decision::Status;
use kyc_core::model::{Timestamp, VerificationId};
use kyc_core::ports::{DomainEvent, EventKind, EventPublisher, PortError};
use kyc_tests::{localstack, unique};
use sha2::{Digest as _, Sha256};

struct Fixture {
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    topic_arn: String,
}

async fn fixture() -> Fixture {
    let cfg = localstack().sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&cfg);
    let topic_arn = sns
        .create_topic()
        .name(unique("events"))
        .send()
        .await
        .expect("topic")
        .topic_arn
        .expect("arn");
    Fixture {
        sns,
        sqs: aws_sdk_sqs::Client::new(&cfg),
        topic_arn,
    }
}

impl Fixture {
    /// A queue subscribed to the topic; returns its URL.
    async fn subscribed_queue(&self, raw: bool, filter_policy: Option<&str>) -> String {
        let url = self
            .sqs
            .create_queue()
            .queue_name(unique("events-q"))
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("url");
        let arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("queue arn");
        let mut sub = self
            .sns
            .subscribe()
            .topic_arn(&self.topic_arn)
            .protocol("sqs")
            .endpoint(arn)
            .attributes("RawMessageDelivery", raw.to_string());
        if let Some(p) = filter_policy {
            sub = sub.attributes("FilterPolicy", p);
        }
        sub.send().await.expect("subscribe");
        url
    }

    /// Receives until `n` messages arrived or `within` passed; deletes what it received.
    async fn receive(&self, url: &str, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        let mut got = Vec::new();
        while got.len() < n && Instant::now() < deadline {
            let out = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive");
            for m in out.messages() {
                let attributes = m
                    .message_attributes()
                    .map(|a| {
                        a.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_owned())))
                            .collect()
                    })
                    .unwrap_or_default();
                got.push(Received {
                    body: m.body().unwrap_or_default().to_owned(),
                    attributes,
                });
                if let Some(h) = m.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(url)
                        .receipt_handle(h)
                        .send()
                        .await
                        .expect("delete message");
                }
            }
        }
        got
    }
}

struct Received {
    body: String,
    attributes: HashMap<String, String>,
}

fn events() -> Vec<DomainEvent> {
    let id = VerificationId::parse(&uuid_like()).unwrap();
    let at = Timestamp::from_millis(1_779_341_048_000);
    vec![
        DomainEvent {
            verification_id: id,
            kind: EventKind::DocumentUploaded,
            at,
            status: None,
        },
        DomainEvent {
            verification_id: id,
            kind: EventKind::LivenessCompleted,
            at: at.plus_millis(5_000),
            status: None,
        },
        DomainEvent {
            verification_id: id,
            kind: EventKind::Decided,
            at: at.plus_millis(9_000),
            status: Some(Status::Approved),
        },
    ]
}

/// A fresh UUID-shaped id per call (from the hash of a unique name).
fn uuid_like() -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&Sha256::digest(unique("evt").as_bytes())[..16]);
    VerificationId::from_random_bytes(b).as_str().to_owned()
}

fn sorted(mut v: Vec<DomainEvent>) -> Vec<DomainEvent> {
    v.sort_by_key(|e| e.at);
    v
}

#[tokio::test]
async fn published_events_arrive_in_a_raw_delivery_queue_with_their_attributes() {
    let f = fixture().await;
    let url = f.subscribed_queue(true, None).await;
    let publisher = SnsEventPublisher::new(f.sns.clone(), f.topic_arn.clone());
    for e in events() {
        publisher.publish(&e).await.expect("publish");
    }
    let got = f.receive(&url, 3, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 3, "every event delivered");
    let mut seen = Vec::new();
    for m in &got {
        let e: DomainEvent = serde_json::from_str(&m.body).expect("the body is the event");
        let kind = serde_json::to_value(e.kind).unwrap();
        assert_eq!(m.attributes.get("kind").map(String::as_str), kind.as_str());
        assert_eq!(
            m.attributes.get("verificationId").map(String::as_str),
            Some(e.verification_id.as_str())
        );
        seen.push(e);
    }
    assert_eq!(sorted(seen), events_with_id(&got));
}

/// The expected events, with the id the received ones carry (each test makes its own).
fn events_with_id(got: &[Received]) -> Vec<DomainEvent> {
    let id = serde_json::from_str::<DomainEvent>(&got[0].body)
        .unwrap()
        .verification_id;
    sorted(
        events()
            .into_iter()
            .map(|mut e| {
                e.verification_id = id;
                e
            })
            .collect(),
    )
}

#[tokio::test]
async fn without_raw_delivery_the_event_arrives_inside_the_sns_envelope() {
    let f = fixture().await;
    let url = f.subscribed_queue(false, None).await;
    let publisher = SnsEventPublisher::new(f.sns.clone(), f.topic_arn.clone());
    let event = events().pop().unwrap();
    publisher.publish(&event).await.unwrap();
    let got = f.receive(&url, 1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    let envelope: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], f.topic_arn.as_str());
    let inner: DomainEvent =
        serde_json::from_str(envelope["Message"].as_str().expect("message")).unwrap();
    assert_eq!(inner, event);
    assert_eq!(envelope["MessageAttributes"]["kind"]["Value"], "decided");
    assert_eq!(
        envelope["MessageAttributes"]["verificationId"]["Value"],
        event.verification_id.as_str()
    );
}

#[tokio::test]
async fn a_filter_policy_on_the_kind_attribute_selects_decisions() {
    let f = fixture().await;
    let all = f.subscribed_queue(true, None).await;
    let decisions = f
        .subscribed_queue(true, Some(r#"{"kind":["decided"]}"#))
        .await;
    let publisher = SnsEventPublisher::new(f.sns.clone(), f.topic_arn.clone());
    for e in events() {
        publisher.publish(&e).await.unwrap();
    }
    // Once the unfiltered queue has all three, the filtered one has had time for its one.
    assert_eq!(f.receive(&all, 3, Duration::from_secs(20)).await.len(), 3);
    let got = f.receive(&decisions, 3, Duration::from_secs(3)).await;
    assert_eq!(got.len(), 1, "only the decision");
    let e: DomainEvent = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(e.kind, EventKind::Decided);
    assert_eq!(e.status, Some(Status::Approved));
}

#[tokio::test]
async fn publishing_to_a_missing_topic_is_a_misconfiguration() {
    let f = fixture().await;
    let missing = f.topic_arn.replace("events-", "absent-");
    let publisher = SnsEventPublisher::new(f.sns.clone(), missing);
    let err = publisher.publish(&events()[0]).await.unwrap_err();
    assert!(
        matches!(err, PortError::Misconfigured { backend: "sns", .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}
