//! `SnsEventPublisher`: kyc-core's `EventPublisher` port on an Amazon SNS topic (the stack's
//! `topics/events`).
//!
//! # Message shape
//!
//! The body is the [`DomainEvent`] as JSON (`{"verificationId":…,"kind":…,"at":…,"status":…}`,
//! identifiers and outcomes only, never personal data). Two message attributes let subscribers
//! filter without parsing the body: `kind` (e.g. `decided`, the event kind's JSON name) and
//! `verificationId`, both of data type `String`. With raw message delivery an SQS subscriber
//! receives the body and the attributes as they are; without it, inside SNS's JSON envelope
//! (`Message`, `MessageAttributes`).
//!
//! Delivery is at least once: `publish` returns `Ok` once SNS has accepted (stored) the message;
//! subscribers de-duplicate by (verification id, kind, at) as the port says.
//!
//! # IAM actions
//!
//! `sns:Publish` on the topic; the topic is encrypted with the data key, so also
//! `kms:GenerateDataKey` (and `kms:Decrypt`) on it.
//!
//! # Errors
//!
//! Through [`crate::error`] with backend `sns`: throttling, 5xx, timeouts and dropped
//! connections are the retryable [`PortError::Unavailable`] (after the SDK's retries); a missing
//! topic or denied access is [`PortError::Misconfigured`]. SNS's messages are never copied.

use std::fmt;

use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;
use kyc_core::ports::{DomainEvent, EventKind, EventPublisher, PortError};

use crate::error::to_port_error;

/// The backend name in this adapter's errors.
pub const BACKEND: &str = "sns";

/// The `kind` attribute's value: the event kind's JSON name.
pub fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::DocumentUploaded => "documentUploaded",
        EventKind::DocumentRead => "documentRead",
        EventKind::LivenessStarted => "livenessStarted",
        EventKind::LivenessCompleted => "livenessCompleted",
        EventKind::Decided => "decided",
        EventKind::Erased => "erased",
    }
}

/// Publishes domain events to one SNS topic. Cheap to clone.
#[derive(Clone)]
pub struct SnsEventPublisher {
    client: Client,
    topic_arn: String,
}

impl fmt::Debug for SnsEventPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnsEventPublisher")
            .field("topic_arn", &self.topic_arn)
            .finish_non_exhaustive()
    }
}

impl SnsEventPublisher {
    /// A publisher to `topic_arn`. Build `client` from [`crate::config::AwsSettings::load`] so
    /// it carries the shared retries and timeouts.
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    /// The topic.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, PortError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|_| PortError::Rejected {
            backend: BACKEND,
            reason: "the message attributes could not be built",
        })
}

impl EventPublisher for SnsEventPublisher {
    async fn publish(&self, event: &DomainEvent) -> Result<(), PortError> {
        let body = serde_json::to_string(event).map_err(|_| PortError::Rejected {
            backend: BACKEND,
            reason: "the event could not be encoded",
        })?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(body)
            .message_attributes("kind", string_attribute(kind_name(event.kind))?)
            .message_attributes(
                "verificationId",
                string_attribute(event.verification_id.as_str())?,
            )
            .send()
            .await
            .map_err(|e| to_port_error(BACKEND, &e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_sdk_sns::config::retry::RetryConfig;
    use aws_sdk_sns::config::{BehaviorVersion, Region};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;
    use kyc_core::decision::Status;
    use kyc_core::model::{Timestamp, VerificationId};

    fn publisher(status: u16, body: &str) -> (SnsEventPublisher, StaticReplayClient) {
        let http = StaticReplayClient::new(vec![ReplayEvent::new(
            http::Request::builder()
                .uri("https://sns.us-east-1.amazonaws.com/")
                .body(SdkBody::empty())
                .unwrap(),
            http::Response::builder()
                .status(status)
                .header("content-type", "text/xml")
                .body(SdkBody::from(body.to_owned()))
                .unwrap(),
        )]);
        let conf = aws_sdk_sns::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::for_tests())
            .retry_config(RetryConfig::disabled())
            .http_client(http.clone())
            .build();
        (
            SnsEventPublisher::new(Client::from_conf(conf), "arn:aws:sns:us-east-1:0:events"),
            http,
        )
    }

    fn event() -> DomainEvent {
        DomainEvent {
            verification_id: VerificationId::from_random_bytes([3; 16]),
            kind: EventKind::Decided,
            at: Timestamp::from_millis(1_779_341_048_123),
            status: Some(Status::Approved),
        }
    }

    use crate::testing::block_on;

    #[test]
    fn kind_names_are_the_json_names() {
        for kind in [
            EventKind::DocumentUploaded,
            EventKind::DocumentRead,
            EventKind::LivenessStarted,
            EventKind::LivenessCompleted,
            EventKind::Decided,
            EventKind::Erased,
        ] {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind_name(kind))
            );
        }
    }

    #[test]
    fn publish_sends_the_json_event_and_its_attributes() {
        let ok = "<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>";
        let (p, http) = publisher(200, ok);
        block_on(p.publish(&event())).expect("published");
        let sent = http.actual_requests().next().unwrap();
        let form = std::str::from_utf8(sent.body().bytes().unwrap()).unwrap();
        let pairs: Vec<(String, String)> = form
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), percent_decode(v)))
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("Action").as_deref(), Some("Publish"));
        let message: DomainEvent = serde_json::from_str(&get("Message").unwrap()).unwrap();
        assert_eq!(message, event());
        let attrs: Vec<(String, String)> = (1..=2)
            .map(|i| {
                (
                    get(&format!("MessageAttributes.entry.{i}.Name")).unwrap(),
                    get(&format!("MessageAttributes.entry.{i}.Value.StringValue")).unwrap(),
                )
            })
            .collect();
        assert!(
            attrs.contains(&("kind".into(), "decided".into())),
            "{attrs:?}"
        );
        assert!(attrs.contains(&(
            "verificationId".into(),
            event().verification_id.as_str().into()
        )));
    }

    #[test]
    fn a_missing_topic_is_a_misconfiguration_and_throttling_is_retryable() {
        let not_found = "<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error></ErrorResponse>";
        let (p, _) = publisher(404, not_found);
        let err = block_on(p.publish(&event())).unwrap_err();
        assert!(
            matches!(err, PortError::Misconfigured { backend: "sns", .. }),
            "{err:?}"
        );
        let throttled = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>";
        let (p, _) = publisher(400, throttled);
        let err = block_on(p.publish(&event())).unwrap_err();
        assert_eq!(err, PortError::Unavailable { backend: "sns" });
        assert!(err.is_retryable());
    }

    fn percent_decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' if i + 2 < b.len() => {
                    let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 3;
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).unwrap()
    }
}
