//! DynamoDB Stream records → domain events: the Lambda event JSON (`{"Records": [...]}`, what
//! a stream-triggered function receives) and the `aws-sdk-dynamodbstreams` `Record` (what a
//! poller reads with `GetRecords`) both become [`ChangeEvent`]s.
//!
//! | Table | Operation | Event |
//! |---|---|---|
//! | `KycOcrData` | `INSERT`, `MODIFY` | [`EventKind::DocumentRead`] at the record's `createdAt` |
//! | `KycOcrData` | `REMOVE` | none (expiry or erasure; erasure is announced by its own event) |
//! | `sessions` | `INSERT`, or `MODIFY` that changes `state` | the event of the new state (below) |
//! | `tasks` | `INSERT` / `MODIFY` / `REMOVE` | [`TaskEvent`] `created` / `updated` / `deleted` |
//! | `KycAuditLog` | any | none (the audit log is not a source of events) |
//!
//! Session states map to [`EventKind`]s: `documentUploaded` → `DocumentUploaded`,
//! `documentRead` and `documentUnreadable` → `DocumentRead`, `livenessChallenged` →
//! `LivenessStarted`, `livenessCompleted` → `LivenessCompleted`, `decided` → `Decided` (with
//! the item's `outcome` as status), `erased` → `Erased`; `faceMatched` and `expired` have no
//! event. A session `MODIFY` needs the old image to see whether the state changed (stream
//! view `NEW_AND_OLD_IMAGES`); without it the record is refused
//! ([`StreamError::MissingImage`]) rather than guessed at. Task deletions need the old image
//! too.
//!
//! Only identifiers, timestamps, states and statuses are read from the images: the OCR record
//! and task titles (personal data, user text) are never copied into events, errors or `Debug`
//! output. Hostile or malformed input is refused with a [`StreamError`] naming what was wrong,
//! never with a panic and never echoing the input.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use aws_sdk_dynamodbstreams::types::{AttributeValue, OperationType, Record};
use kyc_core::decision::Status;
use kyc_core::model::{Timestamp, VerificationId};
use kyc_core::ports::{DomainEvent, EventKind};
use kyc_core::tasks::{check_owner, TaskEvent, TaskEventKind, TaskId, TaskStatus};
use serde::de::IgnoredAny;
use serde::Deserialize;

/// Which table a stream belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamSource {
    /// `KycOcrData`.
    OcrData,
    /// `sessions`.
    Sessions,
    /// `tasks`.
    Tasks,
    /// `KycAuditLog`.
    AuditLog,
}

impl StreamSource {
    /// The source of a table named as the stack names it (`kyc-<env>-KycOcrData`…) or by its
    /// bare name (`KycOcrData`).
    ///
    /// ```
    /// use kyc_aws::dynamo::streams::StreamSource;
    /// assert_eq!(StreamSource::from_table_name("kyc-prod-tasks"), Some(StreamSource::Tasks));
    /// assert_eq!(StreamSource::from_table_name("kyc-prod-tasks-old"), None);
    /// ```
    pub fn from_table_name(table: &str) -> Option<Self> {
        let bare = table.rsplit_once('-').map_or(table, |(_, t)| t);
        if table != bare && !table.starts_with("kyc-") {
            return None;
        }
        match bare {
            "KycOcrData" => Some(Self::OcrData),
            "sessions" => Some(Self::Sessions),
            "tasks" => Some(Self::Tasks),
            "KycAuditLog" => Some(Self::AuditLog),
            _ => None,
        }
    }

    /// The source named by a stream (or table) ARN:
    /// `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`.
    pub fn from_arn(arn: &str) -> Option<Self> {
        let resource = arn.splitn(6, ':').nth(5)?;
        let name = resource.strip_prefix("table/")?.split('/').next()?;
        Self::from_table_name(name)
    }
}

/// A domain event read from a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeEvent {
    /// A verification event (for the events topic).
    Verification(DomainEvent),
    /// A task-board change (for the task topic and the WebSocket fan-out).
    Task(TaskEvent),
}

/// Why a stream event or record was refused. Messages name the part that was wrong, never
/// its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The Lambda event is not JSON of the stream event's shape.
    #[error("stream event is malformed (line {line}, column {column})")]
    Malformed {
        /// Where the parser stopped.
        line: usize,
        /// Where the parser stopped.
        column: usize,
    },
    /// The record's operation is not `INSERT`, `MODIFY` or `REMOVE`.
    #[error("stream record has an unknown operation")]
    UnknownOperation,
    /// The record lacks its `dynamodb` part.
    #[error("stream record has no change data")]
    MissingChange,
    /// The record lacks an image its operation needs.
    #[error("stream record lacks its {image}")]
    MissingImage {
        /// `NewImage` or `OldImage`.
        image: &'static str,
    },
    /// An attribute the event needs is missing.
    #[error("stream record lacks attribute {name}")]
    MissingAttribute {
        /// The attribute.
        name: &'static str,
    },
    /// An attribute the event needs has the wrong type or an invalid value.
    #[error("stream record attribute {name} is invalid")]
    InvalidAttribute {
        /// The attribute.
        name: &'static str,
    },
    /// The record's source table is not known (and was not given).
    #[error("stream record comes from an unknown table")]
    UnknownSource,
}

// ---------------------------------------------------------------------------------------------
// The one internal form both inputs are brought to.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Insert,
    Modify,
    Remove,
}

impl Op {
    fn parse(name: &str) -> Result<Self, StreamError> {
        match name {
            "INSERT" => Ok(Self::Insert),
            "MODIFY" => Ok(Self::Modify),
            "REMOVE" => Ok(Self::Remove),
            _ => Err(StreamError::UnknownOperation),
        }
    }
}

/// The scalar attributes of an image (the rest is never needed).
#[derive(Clone, Default, PartialEq, Eq)]
struct Image(BTreeMap<String, Scalar>);

#[derive(Clone, PartialEq, Eq)]
enum Scalar {
    S(String),
    N(String),
    Other,
}

impl Image {
    fn s(&self, name: &'static str) -> Result<&str, StreamError> {
        match self.0.get(name) {
            Some(Scalar::S(v)) => Ok(v),
            Some(_) => Err(StreamError::InvalidAttribute { name }),
            None => Err(StreamError::MissingAttribute { name }),
        }
    }

    fn opt_s(&self, name: &'static str) -> Result<Option<&str>, StreamError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(_) => self.s(name).map(Some),
        }
    }

    fn n<T: std::str::FromStr>(&self, name: &'static str) -> Result<T, StreamError> {
        match self.0.get(name) {
            Some(Scalar::N(v)) => v
                .parse()
                .map_err(|_| StreamError::InvalidAttribute { name }),
            Some(_) => Err(StreamError::InvalidAttribute { name }),
            None => Err(StreamError::MissingAttribute { name }),
        }
    }

    fn opt_n<T: std::str::FromStr>(&self, name: &'static str) -> Result<Option<T>, StreamError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(_) => self.n(name).map(Some),
        }
    }
}

struct Change {
    op: Op,
    keys: Image,
    new: Option<Image>,
    old: Option<Image>,
    approximate: Option<Timestamp>,
}

impl Change {
    fn new_image(&self) -> Result<&Image, StreamError> {
        self.new
            .as_ref()
            .ok_or(StreamError::MissingImage { image: "NewImage" })
    }

    fn old_image(&self) -> Result<&Image, StreamError> {
        self.old
            .as_ref()
            .ok_or(StreamError::MissingImage { image: "OldImage" })
    }

    /// A key attribute, from the keys or else the image.
    fn key_s<'a>(&'a self, image: &'a Image, name: &'static str) -> Result<&'a str, StreamError> {
        match self.keys.opt_s(name)? {
            Some(v) => Ok(v),
            None => image.s(name),
        }
    }

    /// A millisecond timestamp attribute of `image`, else the record's approximate time.
    fn at(&self, image: &Image, name: &'static str) -> Result<Timestamp, StreamError> {
        match image.opt_n::<i64>(name)? {
            Some(ms) => Ok(Timestamp::from_millis(ms)),
            None => self
                .approximate
                .ok_or(StreamError::MissingAttribute { name }),
        }
    }

    fn events(&self, source: StreamSource) -> Result<Vec<ChangeEvent>, StreamError> {
        match source {
            StreamSource::OcrData => self.ocr_events(),
            StreamSource::Sessions => self.session_events(),
            StreamSource::Tasks => self.task_events().map(|e| vec![ChangeEvent::Task(e)]),
            StreamSource::AuditLog => Ok(Vec::new()),
        }
    }

    fn ocr_events(&self) -> Result<Vec<ChangeEvent>, StreamError> {
        if self.op == Op::Remove {
            return Ok(Vec::new());
        }
        let image = self.new_image()?;
        Ok(vec![ChangeEvent::Verification(DomainEvent {
            verification_id: verification_id(self.key_s(image, "verificationId")?)?,
            kind: EventKind::DocumentRead,
            at: self.at(image, "createdAt")?,
            status: None,
        })])
    }

    fn session_events(&self) -> Result<Vec<ChangeEvent>, StreamError> {
        let image = match self.op {
            Op::Remove => return Ok(Vec::new()),
            Op::Insert => self.new_image()?,
            Op::Modify => {
                let (new, old) = (self.new_image()?, self.old_image()?);
                if new.s("state")? == old.s("state")? {
                    return Ok(Vec::new());
                }
                new
            }
        };
        let (kind, status) = match image.s("state")? {
            "documentUploaded" => (EventKind::DocumentUploaded, None),
            "documentRead" | "documentUnreadable" => (EventKind::DocumentRead, None),
            "livenessChallenged" => (EventKind::LivenessStarted, None),
            "livenessCompleted" => (EventKind::LivenessCompleted, None),
            "decided" => {
                let status = match image.s("outcome")? {
                    "approved" => Status::Approved,
                    "rejected" => Status::Rejected,
                    "review" => Status::Review,
                    _ => return Err(StreamError::InvalidAttribute { name: "outcome" }),
                };
                (EventKind::Decided, Some(status))
            }
            "erased" => (EventKind::Erased, None),
            "faceMatched" | "expired" => return Ok(Vec::new()),
            _ => return Err(StreamError::InvalidAttribute { name: "state" }),
        };
        Ok(vec![ChangeEvent::Verification(DomainEvent {
            verification_id: verification_id(self.key_s(image, "verificationId")?)?,
            kind,
            at: self.at(image, "updatedAt")?,
            status,
        })])
    }

    fn task_events(&self) -> Result<TaskEvent, StreamError> {
        let (kind, image) = match self.op {
            Op::Insert => (TaskEventKind::Created, self.new_image()?),
            Op::Modify => (TaskEventKind::Updated, self.new_image()?),
            Op::Remove => (TaskEventKind::Deleted, self.old_image()?),
        };
        let owner = image.s("owner")?;
        check_owner(owner).map_err(|_| StreamError::InvalidAttribute { name: "owner" })?;
        let status = match kind {
            TaskEventKind::Deleted => None,
            _ => Some(
                image
                    .s("status")?
                    .parse::<TaskStatus>()
                    .map_err(|_| StreamError::InvalidAttribute { name: "status" })?,
            ),
        };
        let at = match (kind, self.approximate) {
            // A deletion happened when the record was written, not at the last update.
            (TaskEventKind::Deleted, Some(t)) => t,
            _ => self.at(image, "updatedAt")?,
        };
        Ok(TaskEvent {
            kind,
            task_id: TaskId::parse(self.key_s(image, "taskId")?)
                .map_err(|_| StreamError::InvalidAttribute { name: "taskId" })?,
            owner: owner.to_owned(),
            version: image.n("version")?,
            status,
            at,
        })
    }
}

fn verification_id(s: &str) -> Result<VerificationId, StreamError> {
    VerificationId::parse(s).map_err(|_| StreamError::InvalidAttribute {
        name: "verificationId",
    })
}

// ---------------------------------------------------------------------------------------------
// The Lambda event JSON.

/// A DynamoDB Stream event as Lambda delivers it: `{"Records": [...]}`.
#[derive(Deserialize)]
pub struct LambdaStreamEvent {
    /// The records, in stream order.
    #[serde(rename = "Records")]
    pub records: Vec<LambdaRecord>,
}

impl fmt::Debug for LambdaStreamEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaStreamEvent")
            .field("records", &self.records)
            .finish()
    }
}

impl LambdaStreamEvent {
    /// Parses the event JSON.
    ///
    /// ```
    /// use kyc_aws::dynamo::streams::{ChangeEvent, LambdaStreamEvent};
    /// let json = br#"{"Records":[{"eventName":"INSERT",
    ///   "eventSourceARN":"arn:aws:dynamodb:eu-west-1:123456789012:table/kyc-dev-KycOcrData/stream/2026-05-01T00:00:00.000",
    ///   "dynamodb":{"Keys":{"verificationId":{"S":"0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"}},
    ///     "NewImage":{"verificationId":{"S":"0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"},
    ///                 "createdAt":{"N":"1779341048000"},"record":{"S":"{}"}},
    ///     "SequenceNumber":"100","StreamViewType":"NEW_IMAGE"}}]}"#;
    /// let event = LambdaStreamEvent::parse(json).unwrap();
    /// let events = event.events(None).unwrap();
    /// assert!(matches!(&events[0], ChangeEvent::Verification(e) if e.at.millis() == 1_779_341_048_000));
    /// assert!(LambdaStreamEvent::parse(b"{\"Records\": 5}").is_err());
    /// ```
    pub fn parse(json: &[u8]) -> Result<Self, StreamError> {
        serde_json::from_slice(json).map_err(|e| StreamError::Malformed {
            line: e.line(),
            column: e.column(),
        })
    }

    /// Every record's events, in order. Each record's source is `source` if given, else the
    /// table named by its `eventSourceARN`. The first refused record fails the whole batch;
    /// use [`LambdaRecord::events`] to handle records one by one (partial batch failures).
    pub fn events(&self, source: Option<StreamSource>) -> Result<Vec<ChangeEvent>, StreamError> {
        let mut out = Vec::new();
        for r in &self.records {
            let src = source
                .or_else(|| r.source())
                .ok_or(StreamError::UnknownSource)?;
            out.extend(r.events(src)?);
        }
        Ok(out)
    }
}

/// One record of a [`LambdaStreamEvent`]. Its `Debug` shows the operation and sequence
/// number only: images may hold personal data.
#[derive(Deserialize)]
pub struct LambdaRecord {
    #[serde(rename = "eventID", default)]
    event_id: Option<String>,
    #[serde(rename = "eventName", default)]
    event_name: Option<String>,
    #[serde(rename = "eventSourceARN", default)]
    event_source_arn: Option<String>,
    #[serde(default)]
    dynamodb: Option<LambdaChange>,
}

impl fmt::Debug for LambdaRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaRecord")
            .field("event_name", &self.event_name)
            .field("sequence_number", &self.sequence_number())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct LambdaChange {
    #[serde(rename = "ApproximateCreationDateTime", default)]
    approximate: Option<f64>,
    #[serde(rename = "Keys", default)]
    keys: Option<HashMap<String, LambdaAttr>>,
    #[serde(rename = "NewImage", default)]
    new_image: Option<HashMap<String, LambdaAttr>>,
    #[serde(rename = "OldImage", default)]
    old_image: Option<HashMap<String, LambdaAttr>>,
    #[serde(rename = "SequenceNumber", default)]
    sequence_number: Option<String>,
}

/// An attribute value in DynamoDB's JSON form; only strings and numbers are kept.
#[derive(Deserialize)]
enum LambdaAttr {
    S(String),
    N(String),
    B(IgnoredAny),
    #[serde(rename = "BOOL")]
    Bool(IgnoredAny),
    #[serde(rename = "NULL")]
    Null(IgnoredAny),
    M(IgnoredAny),
    L(IgnoredAny),
    #[serde(rename = "SS")]
    Ss(IgnoredAny),
    #[serde(rename = "NS")]
    Ns(IgnoredAny),
    #[serde(rename = "BS")]
    Bs(IgnoredAny),
}

fn lambda_image(m: &HashMap<String, LambdaAttr>) -> Image {
    Image(
        m.iter()
            .map(|(k, v)| {
                let v = match v {
                    LambdaAttr::S(s) => Scalar::S(s.clone()),
                    LambdaAttr::N(n) => Scalar::N(n.clone()),
                    _ => Scalar::Other,
                };
                (k.clone(), v)
            })
            .collect(),
    )
}

/// Epoch seconds (possibly fractional) as a timestamp, if representable.
fn from_epoch_secs(secs: f64) -> Option<Timestamp> {
    let ms = (secs * 1000.0).round();
    (ms.is_finite() && ms.abs() < 9.0e15).then(|| Timestamp::from_millis(ms as i64))
}

impl LambdaRecord {
    /// The record's id (`eventID`), if present.
    pub fn event_id(&self) -> Option<&str> {
        self.event_id.as_deref()
    }

    /// The stream sequence number (the item identifier of a partial batch failure).
    pub fn sequence_number(&self) -> Option<&str> {
        self.dynamodb
            .as_ref()
            .and_then(|d| d.sequence_number.as_deref())
    }

    /// The table named by the record's `eventSourceARN`, if it is one of the stack's.
    pub fn source(&self) -> Option<StreamSource> {
        self.event_source_arn
            .as_deref()
            .and_then(StreamSource::from_arn)
    }

    /// The record's events, read as a record of `source`'s stream.
    pub fn events(&self, source: StreamSource) -> Result<Vec<ChangeEvent>, StreamError> {
        let op = Op::parse(
            self.event_name
                .as_deref()
                .ok_or(StreamError::UnknownOperation)?,
        )?;
        let d = self.dynamodb.as_ref().ok_or(StreamError::MissingChange)?;
        Change {
            op,
            keys: d.keys.as_ref().map(lambda_image).unwrap_or_default(),
            new: d.new_image.as_ref().map(lambda_image),
            old: d.old_image.as_ref().map(lambda_image),
            approximate: d.approximate.and_then(from_epoch_secs),
        }
        .events(source)
    }
}

// ---------------------------------------------------------------------------------------------
// The SDK's record.

fn sdk_image(m: &HashMap<String, AttributeValue>) -> Image {
    Image(
        m.iter()
            .map(|(k, v)| {
                let v = match v {
                    AttributeValue::S(s) => Scalar::S(s.clone()),
                    AttributeValue::N(n) => Scalar::N(n.clone()),
                    _ => Scalar::Other,
                };
                (k.clone(), v)
            })
            .collect(),
    )
}

/// The events of a record read with `aws-sdk-dynamodbstreams` (`GetRecords`) from `source`'s
/// stream.
pub fn events_from_record(
    source: StreamSource,
    record: &Record,
) -> Result<Vec<ChangeEvent>, StreamError> {
    let op = match record.event_name() {
        Some(OperationType::Insert) => Op::Insert,
        Some(OperationType::Modify) => Op::Modify,
        Some(OperationType::Remove) => Op::Remove,
        _ => return Err(StreamError::UnknownOperation),
    };
    let d = record.dynamodb().ok_or(StreamError::MissingChange)?;
    Change {
        op,
        keys: d.keys().map(sdk_image).unwrap_or_default(),
        new: d.new_image().map(sdk_image),
        old: d.old_image().map(sdk_image),
        approximate: d
            .approximate_creation_date_time()
            .and_then(|t| t.to_millis().ok())
            .map(Timestamp::from_millis),
    }
    .events(source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const VID: &str = "0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3";
    const TID: &str = "0123456789abcdef0123456789abcdef";
    const ARN_OCR: &str =
        "arn:aws:dynamodb:eu-west-1:123456789012:table/kyc-dev-KycOcrData/stream/2026-05-01T00:00:00.000";

    fn record(name: &str, arn: &str, change: serde_json::Value) -> serde_json::Value {
        json!({"eventID": "1", "eventName": name, "eventVersion": "1.1",
               "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1",
               "eventSourceARN": arn, "dynamodb": change})
    }

    fn parse(records: Vec<serde_json::Value>) -> LambdaStreamEvent {
        LambdaStreamEvent::parse(json!({ "Records": records }).to_string().as_bytes()).unwrap()
    }

    fn ocr_change(created: &str) -> serde_json::Value {
        json!({"ApproximateCreationDateTime": 1779341050.0,
               "Keys": {"verificationId": {"S": VID}},
               "NewImage": {"verificationId": {"S": VID}, "createdAt": {"N": created},
                            "record": {"S": "{\"surname\":\"ERIKSSON\"}"},
                            "expiresAt": {"N": "1779344648"},
                            "nested": {"M": {"x": {"L": [{"BOOL": true}, {"NULL": true}]}}}},
               "SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_IMAGE"})
    }

    fn task_image(version: u64, status: &str) -> serde_json::Value {
        json!({"taskId": {"S": TID}, "owner": {"S": "alice"}, "title": {"S": "secret plans"},
               "status": {"S": status}, "createdAt": {"N": "1779341048000"},
               "updatedAt": {"N": (1_779_341_048_000u64 + version).to_string()},
               "version": {"N": version.to_string()}})
    }

    fn session_image(state: &str, outcome: Option<&str>) -> serde_json::Value {
        let mut img = json!({"verificationId": {"S": VID}, "state": {"S": state},
                             "updatedAt": {"N": "1779341049000"}, "version": {"N": "2"},
                             "session": {"S": "{}"}});
        if let Some(o) = outcome {
            img["outcome"] = json!({"S": o});
        }
        img
    }

    #[test]
    fn an_ocr_insert_becomes_document_read_without_personal_data() {
        let ev = parse(vec![record("INSERT", ARN_OCR, ocr_change("1779341048000"))]);
        let events = ev.events(None).unwrap();
        let expected = DomainEvent {
            verification_id: VerificationId::parse(VID).unwrap(),
            kind: EventKind::DocumentRead,
            at: Timestamp::from_millis(1_779_341_048_000),
            status: None,
        };
        assert_eq!(events, vec![ChangeEvent::Verification(expected)]);
        assert!(!format!("{events:?}{ev:?}").contains("ERIKSSON"));
        assert_eq!(ev.records[0].sequence_number(), Some("111"));
        assert_eq!(ev.records[0].event_id(), Some("1"));
    }

    #[test]
    fn ocr_modify_counts_and_remove_is_silent() {
        let ev = parse(vec![
            record("MODIFY", ARN_OCR, ocr_change("5")),
            record(
                "REMOVE",
                ARN_OCR,
                json!({"Keys": {"verificationId": {"S": VID}}}),
            ),
        ]);
        let events = ev.events(None).unwrap();
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn task_changes_become_task_events_without_titles() {
        let arn = "arn:aws:dynamodb:eu-west-1:1:table/kyc-dev-tasks/stream/x";
        let ev = parse(vec![
            record(
                "INSERT",
                arn,
                json!({"Keys": {"taskId": {"S": TID}}, "NewImage": task_image(1, "todo")}),
            ),
            record(
                "MODIFY",
                arn,
                json!({"Keys": {"taskId": {"S": TID}}, "NewImage": task_image(2, "done"),
                       "OldImage": task_image(1, "todo")}),
            ),
            record(
                "REMOVE",
                arn,
                json!({"ApproximateCreationDateTime": 1779341099.5,
                       "Keys": {"taskId": {"S": TID}}, "OldImage": task_image(2, "done")}),
            ),
        ]);
        let events = ev.events(None).unwrap();
        let kinds: Vec<_> = events
            .iter()
            .map(|e| match e {
                ChangeEvent::Task(t) => (t.kind, t.version, t.status, t.at.millis()),
                ChangeEvent::Verification(_) => panic!("not a task event"),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                (
                    TaskEventKind::Created,
                    1,
                    Some(TaskStatus::Todo),
                    1_779_341_048_001
                ),
                (
                    TaskEventKind::Updated,
                    2,
                    Some(TaskStatus::Done),
                    1_779_341_048_002
                ),
                (TaskEventKind::Deleted, 2, None, 1_779_341_099_500),
            ]
        );
        assert!(!format!("{events:?}").contains("secret"));
    }

    #[test]
    fn session_state_changes_become_events_and_repeats_do_not() {
        let arn = "arn:aws:dynamodb:eu-west-1:1:table/kyc-dev-sessions/stream/x";
        let ev = parse(vec![
            record(
                "INSERT",
                arn,
                json!({"NewImage": session_image("documentUploaded", None)}),
            ),
            record(
                "MODIFY",
                arn,
                json!({"NewImage": session_image("livenessChallenged", None),
                       "OldImage": session_image("livenessChallenged", None)}),
            ),
            record(
                "MODIFY",
                arn,
                json!({"NewImage": session_image("decided", Some("review")),
                       "OldImage": session_image("faceMatched", None)}),
            ),
        ]);
        let events = ev.events(None).unwrap();
        let got: Vec<_> = events
            .iter()
            .map(|e| match e {
                ChangeEvent::Verification(d) => (d.kind, d.status),
                ChangeEvent::Task(_) => panic!("not a verification event"),
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (EventKind::DocumentUploaded, None),
                (EventKind::Decided, Some(Status::Review))
            ]
        );
        let no_old = parse(vec![record(
            "MODIFY",
            arn,
            json!({"NewImage": session_image("erased", None)}),
        )]);
        assert_eq!(
            no_old.events(None),
            Err(StreamError::MissingImage { image: "OldImage" })
        );
    }

    #[test]
    fn broken_records_are_refused_with_the_part_that_was_wrong() {
        let cases = [
            (
                record("UPSERT", ARN_OCR, ocr_change("1")),
                StreamError::UnknownOperation,
            ),
            (
                record("INSERT", ARN_OCR, ocr_change("soon")),
                StreamError::InvalidAttribute { name: "createdAt" },
            ),
            (
                record("INSERT", ARN_OCR, json!({"Keys": {}})),
                StreamError::MissingImage { image: "NewImage" },
            ),
            (
                record(
                    "INSERT",
                    ARN_OCR,
                    json!({"NewImage": {"verificationId": {"S": "../../etc"}}}),
                ),
                StreamError::InvalidAttribute {
                    name: "verificationId",
                },
            ),
            (
                record(
                    "INSERT",
                    ARN_OCR,
                    json!({"NewImage": {"verificationId": {"N": "1"}}}),
                ),
                StreamError::InvalidAttribute {
                    name: "verificationId",
                },
            ),
            (
                record(
                    "INSERT",
                    "arn:aws:dynamodb:x:1:table/other/stream/y",
                    ocr_change("1"),
                ),
                StreamError::UnknownSource,
            ),
            (
                json!({"eventName": "INSERT", "eventSourceARN": ARN_OCR}),
                StreamError::MissingChange,
            ),
        ];
        for (rec, err) in cases {
            assert_eq!(parse(vec![rec]).events(None), Err(err.clone()), "{err}");
        }
    }

    #[test]
    fn malformed_json_is_refused_without_echoing_it() {
        for bad in [
            &b"not json"[..],
            b"{}",
            b"{\"Records\": [1]}",
            b"{\"Records\": [{\"dynamodb\": {\"NewImage\": {\"a\": {\"S\": 5}}}}]}",
            b"{\"Records\": [{\"dynamodb\": {\"NewImage\": {\"a\": {\"S\": \"x\", \"N\": \"1\"}}}}]}",
            b"{\"Records\": [{\"dynamodb\": {\"NewImage\": {\"a\": {\"Q\": \"SECRET\"}}}}]}",
        ] {
            let err = LambdaStreamEvent::parse(bad).unwrap_err();
            assert!(matches!(err, StreamError::Malformed { .. }));
            assert!(!err.to_string().contains("SECRET"));
        }
        let deep = format!(
            "{{\"Records\":[{{\"dynamodb\":{{\"NewImage\":{{\"a\":{}1{}}}}}}}]}}",
            "{\"L\":[".repeat(5000),
            "]}".repeat(5000)
        );
        // Deep nesting inside an attribute that is never needed is skipped without recursion.
        let ev = LambdaStreamEvent::parse(deep.as_bytes()).unwrap();
        assert_eq!(ev.events(None), Err(StreamError::UnknownSource));
        assert_eq!(
            ev.events(Some(StreamSource::OcrData)),
            Err(StreamError::UnknownOperation)
        );
        // Deep nesting where structure is expected hits the parser's recursion limit.
        let deep_records = format!("{{\"Records\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
        assert!(LambdaStreamEvent::parse(deep_records.as_bytes()).is_err());
    }

    #[test]
    fn sources_are_recognised_by_table_name_and_arn() {
        assert_eq!(StreamSource::from_arn(ARN_OCR), Some(StreamSource::OcrData));
        assert_eq!(
            StreamSource::from_arn("arn:aws:dynamodb:x:1:table/KycAuditLog"),
            Some(StreamSource::AuditLog)
        );
        assert_eq!(
            StreamSource::from_table_name("sessions"),
            Some(StreamSource::Sessions)
        );
        assert_eq!(StreamSource::from_table_name("other-sessions"), None);
        assert_eq!(StreamSource::from_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(StreamSource::from_arn(""), None);
    }

    #[test]
    fn sdk_records_map_like_lambda_records() {
        let image: HashMap<String, AttributeValue> = [
            ("verificationId", AttributeValue::S(VID.into())),
            ("createdAt", AttributeValue::N("1779341048000".into())),
            ("record", AttributeValue::S("{\"surname\":\"X\"}".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let rec = Record::builder()
            .event_name(OperationType::Insert)
            .dynamodb(
                aws_sdk_dynamodbstreams::types::StreamRecord::builder()
                    .set_new_image(Some(image))
                    .build(),
            )
            .build();
        let events = events_from_record(StreamSource::OcrData, &rec).unwrap();
        assert!(matches!(&events[..], [ChangeEvent::Verification(e)]
            if e.kind == EventKind::DocumentRead && e.at.millis() == 1_779_341_048_000));
        let empty = Record::builder().build();
        assert_eq!(
            events_from_record(StreamSource::OcrData, &empty),
            Err(StreamError::UnknownOperation)
        );
    }

    fn arb_attr() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            ".{0,40}".prop_map(|s| json!({"S": s})),
            ".{0,20}".prop_map(|s| json!({"N": s})),
            any::<i64>().prop_map(|n| json!({"N": n.to_string()})),
            any::<bool>().prop_map(|b| json!({"BOOL": b})),
            Just(json!({"NULL": true})),
            Just(json!({"M": {}})),
            Just(json!({"S": VID})),
        ]
    }

    fn arb_image() -> impl Strategy<Value = serde_json::Value> {
        let names = prop_oneof![
            Just("verificationId".to_owned()),
            Just("taskId".to_owned()),
            Just("owner".to_owned()),
            Just("status".to_owned()),
            Just("state".to_owned()),
            Just("outcome".to_owned()),
            Just("createdAt".to_owned()),
            Just("updatedAt".to_owned()),
            Just("version".to_owned()),
            "[a-zA-Z]{1,8}",
        ];
        proptest::collection::btree_map(names, arb_attr(), 0..8)
            .prop_map(|m| serde_json::to_value(m).unwrap_or_default())
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(ev) = LambdaStreamEvent::parse(&bytes) {
                let _ = ev.events(None);
            }
        }

        #[test]
        fn arbitrary_strings_never_panic_the_parser(s in ".{0,300}") {
            let _ = LambdaStreamEvent::parse(s.as_bytes());
        }

        #[test]
        fn well_shaped_records_with_hostile_contents_never_panic(
            name in prop_oneof![Just("INSERT"), Just("MODIFY"), Just("REMOVE"), Just("X")],
            new in proptest::option::of(arb_image()),
            old in proptest::option::of(arb_image()),
            keys in proptest::option::of(arb_image()),
            approx in proptest::option::of(any::<f64>()),
        ) {
            let mut change = json!({});
            if let Some(v) = new { change["NewImage"] = v; }
            if let Some(v) = old { change["OldImage"] = v; }
            if let Some(v) = keys { change["Keys"] = v; }
            if let Some(a) = approx.filter(|a| a.is_finite()) {
                change["ApproximateCreationDateTime"] = json!(a);
            }
            let ev = parse(vec![json!({"eventName": name, "dynamodb": change})]);
            for source in [StreamSource::OcrData, StreamSource::Sessions, StreamSource::Tasks, StreamSource::AuditLog] {
                if let Ok(events) = ev.events(Some(source)) {
                    for e in events {
                        // Whatever came in, only validated identifiers come out.
                        if let ChangeEvent::Task(t) = e {
                            prop_assert!(TaskId::parse(t.task_id.as_str()).is_ok());
                            prop_assert!(check_owner(&t.owner).is_ok());
                        }
                    }
                }
            }
        }
    }
}
