//! The OCR and sanctions Lambda handler functions, run directly with event fixtures in the
//! shapes AWS delivers (`tests/fixtures/lambda/`) against a service over the in-memory
//! platform: happy path, redelivery, hostile keys, partial batch failures.
#![cfg(feature = "aws")]

use std::io::Write;
use std::sync::{Arc, Mutex};

use handlers::lambda::{ocr, sanctions};
use handlers::service::{Service, ServiceError};
use handlers::testing::{TestPlatform, LISTED};
use kyc_core::audit::{AuditLog as _, EventKind};
use kyc_core::model::VerificationId;
use kyc_core::ports::{EventKind as DomainEventKind, PortError};
use kyc_core::sanctions::ScreeningError;

/// The placeholders the fixtures use for verification ids.
const PLACEHOLDERS: [&str; 3] = [
    "11111111-1111-4111-8111-111111111111",
    "22222222-2222-4222-8222-222222222222",
    "33333333-3333-4333-8333-333333333333",
];

fn fixture(name: &str, ids: &[VerificationId]) -> serde_json::Value {
    let path = format!(
        "{}/tests/fixtures/lambda/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (placeholder, id) in PLACEHOLDERS.iter().zip(ids) {
        text = text.replace(placeholder, id.as_str());
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A JPEG (by its magic bytes) unique to `n`.
fn jpeg(n: u8) -> Vec<u8> {
    let mut b = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, n,
    ];
    b.resize(512, n);
    b
}

async fn upload(service: &Service<TestPlatform>, n: u8) -> VerificationId {
    service
        .upload(jpeg(n), "image/jpeg", None)
        .await
        .unwrap()
        .verification_id
}

/// Uploads three documents and reads each through its own S3 event.
async fn three_read(service: &Service<TestPlatform>) -> Vec<VerificationId> {
    let mut ids = Vec::new();
    for n in 1..=3 {
        let id = upload(service, n).await;
        let report = ocr::handle_json(service, fixture("s3-object-created.json", &[id]))
            .await
            .unwrap();
        assert_eq!(report.read, 1, "{report:?}");
        ids.push(id);
    }
    ids
}

async fn audit_count(
    service: &Service<TestPlatform>,
    id: &VerificationId,
    kind: EventKind,
) -> usize {
    service
        .platform()
        .audit
        .read(*id)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind() == kind)
        .count()
}

async fn sanctions_status(
    service: &Service<TestPlatform>,
    id: &VerificationId,
) -> serde_json::Value {
    let doc = service.verification(id).await.unwrap();
    doc.sanctions.get("status").cloned().unwrap_or_default()
}

/// Log lines written while `f` runs on this thread.
fn logs_of<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    (out, text)
}

#[test]
fn an_upload_event_reads_the_document_and_the_stream_screens_it() {
    let service = TestPlatform::new().into_service();
    block_on(async {
        let ids = three_read(&service).await;
        for id in &ids {
            assert_eq!(
                service.verification(id).await.unwrap().state.to_string(),
                "documentRead"
            );
            assert_eq!(
                sanctions_status(&service, id).await,
                serde_json::Value::Null
            );
        }
        let report = sanctions::handle(&service, fixture("dynamodb-ocr-batch.json", &ids)).await;
        // A (INSERT), B (MODIFY), C (INSERT) screened; the REMOVE skipped; two malformed
        // records dropped; nothing to retry.
        assert_eq!(report.screened, 3, "{report:?}");
        assert_eq!(report.skipped, 1);
        assert_eq!(report.dropped, 2);
        assert!(report.response.batch_item_failures.is_empty());
        for id in &ids {
            assert_eq!(sanctions_status(&service, id).await, "clear");
            assert_eq!(
                audit_count(&service, id, EventKind::SanctionsScreened).await,
                1
            );
        }
    });
}

#[test]
fn a_listed_holder_is_a_potential_match() {
    let service = TestPlatform::new().with_list(LISTED).into_service();
    block_on(async {
        let ids = three_read(&service).await;
        let report = sanctions::handle(&service, fixture("dynamodb-ocr-batch.json", &ids)).await;
        // Nothing to retry: the finding is recorded (whatever the decision step makes of it).
        assert!(report.response.batch_item_failures.is_empty(), "{report:?}");
        for id in &ids {
            let doc = service.verification(id).await.unwrap();
            assert_eq!(doc.sanctions["status"], "potentialMatch");
            assert_eq!(doc.sanctions["matches"][0]["entityId"], "T-9");
            assert!(doc.reasons.iter().any(|r| r == "SANCTIONS_POTENTIAL_MATCH"));
        }
    });
}

#[test]
fn redelivered_events_change_nothing() {
    let service = TestPlatform::new().into_service();
    block_on(async {
        let ids = three_read(&service).await;
        let first = ids[0];
        let again = ocr::handle_json(&service, fixture("s3-object-created.json", &[first]))
            .await
            .unwrap();
        assert_eq!(again.read, 1, "a read document answers as read");
        let p = service.platform();
        assert_eq!(p.records.puts(), 3, "no second OCR record");
        let read_events = p
            .events
            .events()
            .iter()
            .filter(|e| e.verification_id == first && e.kind == DomainEventKind::DocumentRead)
            .count();
        assert_eq!(read_events, 1);
        let batch = fixture("dynamodb-ocr-batch.json", &ids);
        sanctions::handle(&service, batch.clone()).await;
        let calls = p.screener.calls();
        let again = sanctions::handle(&service, batch).await;
        assert_eq!(again.screened, 3);
        assert!(again.response.batch_item_failures.is_empty());
        assert_eq!(p.screener.calls(), calls, "screened once only");
        for id in &ids {
            assert_eq!(
                audit_count(&service, id, EventKind::SanctionsScreened).await,
                1
            );
            assert_eq!(audit_count(&service, id, EventKind::DocumentRead).await, 1);
        }
    });
}

#[test]
fn hostile_and_foreign_keys_are_skipped_without_being_logged() {
    let service = TestPlatform::new().into_service();
    let (report, logs) = logs_of(|| {
        block_on(async {
            let id = upload(&service, 1).await;
            let report = ocr::handle_json(&service, fixture("s3-hostile-keys.json", &[id]))
                .await
                .unwrap();
            let doc = service.verification(&id).await.unwrap();
            assert_eq!(
                doc.state.to_string(),
                "documentUploaded",
                "nothing was read"
            );
            (report, id)
        })
    });
    let (report, id) = report;
    assert_eq!(report.skipped, 12, "{report:?}");
    assert_eq!(
        report.read + report.unreadable + report.dropped + report.retry,
        0
    );
    assert_eq!(service.platform().records.puts(), 0);
    assert_eq!(logs.lines().count(), 12, "{logs}");
    for needle in [id.as_str(), "passwd", "ERIKSSON", "frame", ".png", "AAAA"] {
        assert!(!logs.contains(needle), "{needle} in {logs}");
    }
}

#[test]
fn a_payload_that_is_not_an_s3_notification_is_skipped() {
    let service = TestPlatform::new().into_service();
    block_on(async {
        for payload in [
            serde_json::json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}),
            serde_json::json!([1, 2]),
            serde_json::json!({"Records": [{"eventName": 5}]}),
        ] {
            let r = ocr::handle_json(&service, payload).await.unwrap();
            assert_eq!(r.skipped, 1);
        }
    });
}

#[test]
fn an_event_ahead_of_its_session_or_a_store_outage_is_retried() {
    let service = TestPlatform::new().into_service();
    block_on(async {
        let unknown = VerificationId::from_random_bytes([9; 16]);
        let err = ocr::handle_json(&service, fixture("s3-object-created.json", &[unknown]))
            .await
            .unwrap_err();
        assert_eq!(err, ServiceError::NotFound);
        let id = upload(&service, 1).await;
        service
            .platform()
            .records
            .fail_next(PortError::Unavailable {
                backend: "dynamodb",
            });
        let err = ocr::handle_json(&service, fixture("s3-object-created.json", &[id]))
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        // Lambda's retry then reads it.
        let r = ocr::handle_json(&service, fixture("s3-object-created.json", &[id]))
            .await
            .unwrap();
        assert_eq!(r.read, 1);
    });
}

#[test]
fn an_erased_verification_is_dropped_not_retried() {
    let service = TestPlatform::new().into_service();
    block_on(async {
        let id = upload(&service, 1).await;
        service.erase(&id).await.unwrap();
        let r = ocr::handle_json(&service, fixture("s3-object-created.json", &[id]))
            .await
            .unwrap();
        assert_eq!(r.dropped, 1);
        let ids = three_read(&service).await;
        service.erase(&ids[1]).await.unwrap();
        let report = sanctions::handle(&service, fixture("dynamodb-ocr-batch.json", &ids)).await;
        assert_eq!(report.screened, 2);
        assert_eq!(report.dropped, 3, "B erased and the two malformed records");
        assert!(report.response.batch_item_failures.is_empty());
    });
}

#[test]
fn a_partial_batch_failure_lists_exactly_the_failed_sequence_numbers() {
    let service = TestPlatform::new().into_service();
    block_on(async {
        let ids = three_read(&service).await;
        // A screens, B's provider call fails, C screens.
        service
            .platform()
            .screener
            .script([None, Some(ScreeningError::Unavailable), None]);
        let report = sanctions::handle(&service, fixture("dynamodb-ocr-batch.json", &ids)).await;
        assert_eq!(
            report.response.sequence_numbers(),
            vec!["111100000000000000000002"]
        );
        assert_eq!(
            serde_json::to_value(&report.response).unwrap(),
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "111100000000000000000002"}]})
        );
        assert_eq!(
            sanctions_status(&service, &ids[1]).await,
            serde_json::Value::Null
        );
        // Lambda retries from B: B is screened, A and C are left as they were.
        let retry = sanctions::handle(&service, fixture("dynamodb-ocr-batch.json", &ids)).await;
        assert!(retry.response.batch_item_failures.is_empty());
        assert_eq!(sanctions_status(&service, &ids[1]).await, "clear");
        assert_eq!(service.platform().screener.calls(), 4);

        // Two failures, one of them a table outage: both listed, in stream order.
        let more = three_read(&service).await;
        service
            .platform()
            .screener
            .script([Some(ScreeningError::TimedOut)]);
        service
            .platform()
            .records
            .fail_next(PortError::Unavailable {
                backend: "dynamodb",
            });
        let report = sanctions::handle(&service, fixture("dynamodb-ocr-batch.json", &more)).await;
        assert_eq!(
            report.response.sequence_numbers(),
            vec!["111100000000000000000001", "111100000000000000000002"]
        );
        assert_eq!(report.screened, 1);
    });
}

#[test]
fn a_payload_without_records_answers_an_empty_batch_response() {
    let service = TestPlatform::new().into_service();
    block_on(async {
        for payload in [
            serde_json::json!({}),
            serde_json::json!({"Records": "x"}),
            serde_json::json!(null),
        ] {
            let r = sanctions::handle(&service, payload).await;
            assert_eq!(r, sanctions::SanctionsReport::default());
        }
    });
}
