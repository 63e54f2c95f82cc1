//! The Textract document reader against recorded responses in Textract's wire shape
//! (`tests/fixtures/textract/`, see its README), served by the SDK's replay client: readings of
//! AnalyzeID and FORMS responses, the requests sent, retries, error mapping, the circuit
//! breaker, hostile inputs and the agreement with kyc-core's own parsing and assessment.

use std::sync::Arc;
use std::time::Duration;

use aws_smithy_http_client::test_util::{NeverClient, ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use kyc_aws::breaker::{BreakerSettings, BreakerState, CircuitBreaker};
use kyc_aws::config::{AwsSettings, Resilience};
use kyc_aws::textract::{
    TextractAnalysis, TextractDocumentReader, TextractMode, TextractResponses, BACKEND,
    MAX_IMAGE_BYTES,
};
use kyc_core::document::textract::{
    normalise_analyze_document, normalise_analyze_id, parse_analyze_document, parse_analyze_id,
};
use kyc_core::document::{assess, Evidence, MrzStatus, NormaliseHints, REQUIRED_FIELDS};
use kyc_core::model::{Date, Image, Timestamp};
use kyc_core::ports::fakes::FakeClock;
use kyc_core::ports::{DocumentReader, DocumentReading, PortError, ReadError};
use proptest::prelude::*;
use serde_json::json;

const US_PASSPORT_ID: &[u8] = include_bytes!("fixtures/textract/analyze_id_us_passport.json");
const US_PASSPORT_FORMS: &[u8] = include_bytes!("fixtures/textract/forms_us_passport.json");
const US_LICENCE_ID: &[u8] = include_bytes!("fixtures/textract/analyze_id_us_driver_license.json");
const ES_CARD_FORMS: &[u8] = include_bytes!("fixtures/textract/forms_es_identity_card.json");
const THROTTLING: &[u8] = include_bytes!("fixtures/textract/error_throttling.json");
const THROUGHPUT: &[u8] = include_bytes!("fixtures/textract/error_provisioned_throughput.json");
const INTERNAL: &[u8] = include_bytes!("fixtures/textract/error_internal_server.json");
const UNSUPPORTED: &[u8] = include_bytes!("fixtures/textract/error_unsupported_document.json");
const ACCESS_DENIED: &[u8] = include_bytes!("fixtures/textract/error_access_denied.json");
const TOO_LARGE: &[u8] = include_bytes!("fixtures/textract/error_document_too_large.json");

const PASSPORT_MRZ: &str =
    "P<USASPECIMEN<<AVERY<JORDAN<<<<<<<<<<<<<<<<<\n5712345607USA8802299F3306301<<<<<<<<<<<<<<08";
const ES_MRZ: &str =
    "IDESPBAA123456299999999R<<<<<<\n9007035F3107036ESP<<<<<<<<<<<5\nMORENO<EJEMPLO<<LUCIA<<<<<<<<<";

/// "Today" for every test.
fn today() -> Date {
    Date::from_ymd(2026, 1, 15).unwrap()
}

/// Bytes that pass as a JPEG (the magic bytes are all the adapter checks; Textract decodes).
fn photo() -> Vec<u8> {
    let mut b = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    b.extend((0u8..=255).cycle().take(3000));
    b
}

fn fast_retries() -> Resilience {
    Resilience {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        connect_timeout: Duration::from_secs(1),
        attempt_timeout: Duration::from_secs(2),
        operation_timeout: Duration::from_secs(5),
    }
}

fn no_retries() -> Resilience {
    Resilience {
        max_attempts: 1,
        ..fast_retries()
    }
}

/// The project's real configuration path (AwsSettings::load) with the HTTP client swapped.
async fn sdk_config(
    resilience: Resilience,
    http: impl aws_smithy_runtime_api::client::http::HttpClient + 'static,
) -> aws_config::SdkConfig {
    AwsSettings {
        region: Some("us-east-1".to_owned()),
        endpoint: None,
        static_credentials: Some(("test".to_owned(), "test".to_owned())),
        resilience,
    }
    .load()
    .await
    .into_builder()
    .http_client(http)
    .build()
}

struct Harness {
    reader: TextractDocumentReader,
    replay: StaticReplayClient,
    clock: Arc<FakeClock>,
}

impl Harness {
    async fn new(mode: TextractMode, resilience: Resilience, events: Vec<ReplayEvent>) -> Self {
        Self::with_breaker(mode, resilience, BreakerSettings::default(), events).await
    }

    async fn with_breaker(
        mode: TextractMode,
        resilience: Resilience,
        breaker: BreakerSettings,
        events: Vec<ReplayEvent>,
    ) -> Self {
        let clock = Arc::new(FakeClock::at(Timestamp::from_secs(1_768_435_200))); // 2026-01-15
        let replay = StaticReplayClient::new(events);
        let config = sdk_config(resilience, replay.clone()).await;
        let breaker = CircuitBreaker::new(BACKEND, breaker, clock.clone());
        let reader = TextractDocumentReader::new(&config, mode, breaker, clock.clone());
        Self {
            reader,
            replay,
            clock,
        }
    }

    fn requests(&self) -> usize {
        self.replay.actual_requests().count()
    }

    async fn read(&self) -> Result<TextractAnalysis, ReadError> {
        let image = Image::parse(photo(), MAX_IMAGE_BYTES).unwrap();
        self.reader.analyze(&image).await
    }
}

#[derive(Clone, Copy)]
enum Op {
    AnalyzeId,
    Forms,
}

/// The request the SDK must send for `op` with the test photo: the awsJson1_1 target and
/// content type, and the image bytes (base64) in the body, with FORMS for AnalyzeDocument.
fn expected_request(op: Op) -> http::Request<SdkBody> {
    let bytes = aws_smithy_types::base64::encode(photo());
    let (target, body) = match op {
        Op::AnalyzeId => (
            "Textract.AnalyzeID",
            json!({"DocumentPages": [{"Bytes": bytes}]}),
        ),
        Op::Forms => (
            "Textract.AnalyzeDocument",
            json!({"Document": {"Bytes": bytes}, "FeatureTypes": ["FORMS"]}),
        ),
    };
    http::Request::builder()
        .method("POST")
        .uri("https://textract.us-east-1.amazonaws.com/")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(SdkBody::from(body.to_string()))
        .unwrap()
}

fn response(status: u16, body: &[u8]) -> http::Response<SdkBody> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-requestid", "3f1c2b9e-0000-4000-8000-000000000000")
        .body(SdkBody::from(body.to_vec()))
        .unwrap()
}

fn answer(op: Op, status: u16, body: &[u8]) -> ReplayEvent {
    ReplayEvent::new(expected_request(op), response(status, body))
}

/// The fields a verification uses, as plain JSON, and the MRZ text.
fn summary(reading: &DocumentReading) -> serde_json::Value {
    let f = serde_json::to_value(&reading.printed.fields).unwrap();
    let v = |k: &str| f[k]["value"].clone();
    json!({
        "surname": v("surname"),
        "givenNames": v("givenNames"),
        "birthDate": v("birthDate"),
        "documentNumber": v("documentNumber"),
        "expiryDate": v("expiryDate"),
        "nationality": v("nationality"),
        "sex": v("sex"),
        "mrz": reading.mrz_text,
    })
}

fn unavailable() -> ReadError {
    ReadError::Backend(PortError::Unavailable { backend: BACKEND })
}

#[tokio::test]
async fn a_us_passport_read_by_analyze_id_gives_names_dates_number_and_the_mrz_code() {
    let h = Harness::new(
        TextractMode::AnalyzeId,
        fast_retries(),
        vec![answer(Op::AnalyzeId, 200, US_PASSPORT_ID)],
    )
    .await;
    let a = h.read().await.unwrap();
    assert_eq!(
        summary(&a.reading),
        json!({
            "surname": "SPECIMEN",
            "givenNames": "AVERY JORDAN",
            "birthDate": "1988-02-29",
            "documentNumber": "571234560",
            "expiryDate": "2033-06-30",
            "nationality": null,
            "sex": null,
            "mrz": PASSPORT_MRZ,
        })
    );
    let extras = &a.reading.printed.extras;
    assert_eq!(
        extras.issue_date.as_ref().map(|f| f.value.to_string()),
        Some("2023-07-01".to_owned())
    );
    assert!(a.responses.analyze_document.is_none());
    h.replay.assert_requests_match(&[]);
}

#[tokio::test]
async fn a_driver_licence_takes_its_dates_from_the_normalised_values_of_either_spelling() {
    let h = Harness::new(
        TextractMode::AnalyzeId,
        fast_retries(),
        vec![answer(Op::AnalyzeId, 200, US_LICENCE_ID)],
    )
    .await;
    let a = h.read().await.unwrap();
    // The printed 07/04/1979 reads both ways; NormalizedValue (ValueType "DATE") settles it,
    // and the issue date's ValueType "Date" counts as a date too.
    assert_eq!(
        summary(&a.reading),
        json!({
            "surname": "TAYLOR",
            "givenNames": "QUINN",
            "birthDate": "1979-07-04",
            "documentNumber": "S98765432",
            "expiryDate": "2028-07-04",
            "nationality": null,
            "sex": null,
            "mrz": null,
        })
    );
    assert!(a.reading.printed.ambiguous_dates.is_empty());
    assert_eq!(
        a.reading
            .printed
            .extras
            .issue_date
            .as_ref()
            .map(|f| f.value.to_string()),
        Some("2020-06-15".to_owned())
    );
    h.replay.assert_requests_match(&[]);
}

#[tokio::test]
async fn a_spanish_identity_card_read_by_forms_gives_its_labelled_values_and_mrz_lines() {
    let h = Harness::new(
        TextractMode::Forms,
        fast_retries(),
        vec![answer(Op::Forms, 200, ES_CARD_FORMS)],
    )
    .await;
    let a = h.read().await.unwrap();
    assert_eq!(
        summary(&a.reading),
        json!({
            "surname": "MORENO EJEMPLO",
            "givenNames": "LUCIA",
            "birthDate": "1990-07-03",
            "documentNumber": "BAA123456",
            "expiryDate": "2031-07-03",
            "nationality": "ESP",
            "sex": "F",
            "mrz": ES_MRZ,
        })
    );
    assert!(a.responses.analyze_id.is_none());
    // FeatureTypes ["FORMS"] and the image bytes were sent, to the AnalyzeDocument target.
    h.replay.assert_requests_match(&[]);
}

#[tokio::test]
async fn the_default_mode_is_forms() {
    let h = Harness::new(
        TextractMode::default(),
        fast_retries(),
        vec![answer(Op::Forms, 200, ES_CARD_FORMS)],
    )
    .await;
    h.read().await.unwrap();
    h.replay.assert_requests_match(&[]);
}

#[tokio::test]
async fn both_mode_calls_analyze_id_then_forms_and_merges_the_readings() {
    let h = Harness::new(
        TextractMode::Both,
        fast_retries(),
        vec![
            answer(Op::AnalyzeId, 200, US_PASSPORT_ID),
            answer(Op::Forms, 200, US_PASSPORT_FORMS),
        ],
    )
    .await;
    let a = h.read().await.unwrap();
    assert_eq!(
        summary(&a.reading),
        json!({
            "surname": "SPECIMEN",
            "givenNames": "AVERY JORDAN",
            "birthDate": "1988-02-29",
            "documentNumber": "571234560",
            "expiryDate": "2033-06-30",
            // Only the FORMS reading has these.
            "nationality": "USA",
            "sex": "F",
            "mrz": PASSPORT_MRZ,
        })
    );
    // The two readings agree: no conflict.
    assert!(
        !a.reading
            .printed
            .warnings
            .iter()
            .any(|w| w.reason == kyc_core::document::WarningReason::Conflict),
        "{:?}",
        a.reading.printed.warnings
    );
    let raw = a.responses.to_json();
    assert!(raw.get("AnalyzeID").is_some() && raw.get("AnalyzeDocument").is_some());
    h.replay.assert_requests_match(&[]);
}

#[tokio::test]
async fn both_mode_records_a_disagreement_and_keeps_the_more_confident_value() {
    // FORMS misreads the day of birth (its line and its word); AnalyzeID's reading of it is
    // the more confident one.
    let misread = String::from_utf8(US_PASSPORT_FORMS.to_vec())
        .unwrap()
        .replace("29 Feb 1988", "28 Feb 1988")
        .replace(r#""Text": "29""#, r#""Text": "28""#);
    let hints = NormaliseHints::new(today());
    let confidence_alone = |doc: kyc_core::document::NormalisedDocument| {
        doc.fields.birth_date.map(|f| f.confidence).unwrap()
    };
    let id_alone = confidence_alone(normalise_analyze_id(
        &parse_analyze_id(US_PASSPORT_ID).unwrap(),
        &hints,
    ));
    let forms_alone = confidence_alone(normalise_analyze_document(
        &parse_analyze_document(misread.as_bytes()).unwrap(),
        &hints,
    ));
    assert!(id_alone > forms_alone, "{id_alone} {forms_alone}");

    let h = Harness::new(
        TextractMode::Both,
        fast_retries(),
        vec![
            answer(Op::AnalyzeId, 200, US_PASSPORT_ID),
            answer(Op::Forms, 200, misread.as_bytes()),
        ],
    )
    .await;
    let a = h.read().await.unwrap();
    assert_eq!(summary(&a.reading)["birthDate"], "1988-02-29");
    assert_eq!(
        a.reading.printed.warnings,
        vec![kyc_core::document::Warning::field(
            kyc_core::document::FieldName::BirthDate,
            kyc_core::document::WarningReason::Conflict
        )]
    );
}

#[tokio::test]
async fn both_mode_stops_at_the_first_failure_without_paying_for_the_second_call() {
    let h = Harness::new(
        TextractMode::Both,
        fast_retries(),
        vec![answer(Op::AnalyzeId, 400, UNSUPPORTED)],
    )
    .await;
    assert_eq!(h.read().await.unwrap_err(), ReadError::InvalidImage);
    assert_eq!(h.requests(), 1);
}

#[tokio::test]
async fn the_sdk_output_converts_to_exactly_what_kyc_core_parses_from_the_wire() {
    let h = Harness::new(
        TextractMode::Both,
        fast_retries(),
        vec![
            answer(Op::AnalyzeId, 200, US_PASSPORT_ID),
            answer(Op::Forms, 200, US_PASSPORT_FORMS),
        ],
    )
    .await;
    let a = h.read().await.unwrap();
    // Member for member, the typed SDK output converted equals kyc-core's parse of the bytes.
    assert_eq!(
        a.responses.analyze_id.as_ref(),
        Some(&parse_analyze_id(US_PASSPORT_ID).unwrap())
    );
    assert_eq!(
        a.responses.analyze_document.as_ref(),
        Some(&parse_analyze_document(US_PASSPORT_FORMS).unwrap())
    );
    // The stored object: each response in the wire shape, readable by kyc-core and back.
    let bytes = a.responses.to_json_bytes();
    let raw: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let id_raw = serde_json::to_vec(&raw["AnalyzeID"]).unwrap();
    let forms_raw = serde_json::to_vec(&raw["AnalyzeDocument"]).unwrap();
    assert_eq!(
        parse_analyze_id(&id_raw).unwrap(),
        parse_analyze_id(US_PASSPORT_ID).unwrap()
    );
    assert_eq!(
        parse_analyze_document(&forms_raw).unwrap(),
        parse_analyze_document(US_PASSPORT_FORMS).unwrap()
    );
    assert_eq!(
        TextractResponses::from_json_slice(&bytes).unwrap(),
        a.responses
    );
    // Enumeration values as Textract wrote them, both spellings of ValueType kept.
    let fields = &raw["AnalyzeID"]["IdentityDocuments"][0]["IdentityDocumentFields"];
    let value_types: Vec<&str> = fields
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["ValueDetection"]["NormalizedValue"]["ValueType"].as_str())
        .collect();
    assert_eq!(value_types, ["Date", "DATE", "DATE"]);
    assert_eq!(raw["AnalyzeDocument"]["Blocks"][0]["BlockType"], "PAGE");
    assert!(raw["AnalyzeDocument"]["Blocks"][0]["Geometry"]["Polygon"].is_array());
    // A stored object normalises to the same reading as the live one.
    let stored = TextractResponses::from_json_slice(&bytes).unwrap();
    assert_eq!(stored.reading(today()), a.reading);
}

#[tokio::test]
async fn the_reading_and_kyc_cores_own_parsing_lead_to_the_same_assessment() {
    // The Spanish card through the adapter (SDK → conversion → normalisation) and through
    // kyc-core alone (bytes → parse → normalise): one assessment, a valid MRZ that agrees
    // with every printed field, nothing required missing.
    let h = Harness::new(
        TextractMode::Forms,
        fast_retries(),
        vec![answer(Op::Forms, 200, ES_CARD_FORMS)],
    )
    .await;
    let via_adapter = assess(&h.read().await.unwrap().reading, today());
    let direct = DocumentReading::from(normalise_analyze_document(
        &parse_analyze_document(ES_CARD_FORMS).unwrap(),
        &NormaliseHints::new(today()),
    ));
    assert_eq!(via_adapter, assess(&direct, today()));
    assert_eq!(via_adapter.mrz_status, MrzStatus::Valid);
    assert!(via_adapter.missing(REQUIRED_FIELDS).is_empty());
    let e = &via_adapter.evidence;
    for (name, evidence) in [
        ("surname", e.surname),
        ("birth date", e.birth_date),
        ("document number", e.document_number),
        ("expiry date", e.expiry_date),
        ("nationality", e.nationality),
        ("sex", e.sex),
    ] {
        assert_eq!(evidence, Some(Evidence::Agree), "{name}");
    }

    // The same for the US passport read by AnalyzeID.
    let h = Harness::new(
        TextractMode::AnalyzeId,
        fast_retries(),
        vec![answer(Op::AnalyzeId, 200, US_PASSPORT_ID)],
    )
    .await;
    let via_adapter = assess(&h.read().await.unwrap().reading, today());
    let direct = DocumentReading::from(normalise_analyze_id(
        &parse_analyze_id(US_PASSPORT_ID).unwrap(),
        &NormaliseHints::new(today()),
    ));
    assert_eq!(via_adapter, assess(&direct, today()));
    assert_eq!(via_adapter.mrz_status, MrzStatus::Valid);
    assert!(via_adapter.missing(REQUIRED_FIELDS).is_empty());
    assert_eq!(via_adapter.evidence.document_number, Some(Evidence::Agree));
    assert_eq!(via_adapter.evidence.birth_date, Some(Evidence::Agree));
}

#[tokio::test]
async fn throttling_is_retried_and_then_succeeds() {
    for throttled in [THROTTLING, THROUGHPUT] {
        let h = Harness::new(
            TextractMode::Forms,
            fast_retries(),
            vec![
                answer(Op::Forms, 400, throttled),
                answer(Op::Forms, 200, ES_CARD_FORMS),
            ],
        )
        .await;
        let a = h.read().await.unwrap();
        assert_eq!(summary(&a.reading)["documentNumber"], "BAA123456");
        assert_eq!(h.requests(), 2);
        h.replay.assert_requests_match(&[]);
    }
}

#[tokio::test]
async fn a_persistent_server_error_is_unavailable_once_the_retries_are_spent() {
    let attempts = fast_retries().max_attempts as usize;
    let h = Harness::new(
        TextractMode::Forms,
        fast_retries(),
        (0..attempts)
            .map(|_| answer(Op::Forms, 500, INTERNAL))
            .collect(),
    )
    .await;
    let err = h.read().await.unwrap_err();
    assert_eq!(err, unavailable());
    assert!(matches!(&err, ReadError::Backend(p) if p.is_retryable()));
    assert_eq!(h.requests(), attempts);
    assert_eq!(err.to_string(), "textract is temporarily unavailable");
}

#[tokio::test]
async fn service_refusals_map_to_reader_errors_without_retries() {
    let cases: [(u16, &[u8], ReadError); 4] = [
        (400, UNSUPPORTED, ReadError::InvalidImage),
        (400, TOO_LARGE, ReadError::PoorQuality),
        (
            400,
            ACCESS_DENIED,
            ReadError::Backend(PortError::Misconfigured {
                backend: BACKEND,
                reason: "access was denied or the key is not usable".to_owned(),
            }),
        ),
        (
            400,
            br#"{"__type": "BadDocumentException", "Message": "bad"}"#,
            ReadError::InvalidImage,
        ),
    ];
    for (status, body, expected) in cases {
        let h = Harness::new(
            TextractMode::Forms,
            fast_retries(),
            vec![answer(Op::Forms, status, body)],
        )
        .await;
        let err = h.read().await.unwrap_err();
        assert_eq!(err, expected);
        assert_eq!(h.requests(), 1, "{expected:?} is not retried");
        let text = format!("{err} {err:?}");
        assert!(
            !text.contains("authorized") && !text.contains("format"),
            "{text}"
        );
        // A refused document says nothing about the service's health.
        assert_eq!(
            h.reader.breaker().state(),
            BreakerState::Closed { failures: 0 }
        );
    }
    let h = Harness::new(
        TextractMode::AnalyzeId,
        fast_retries(),
        vec![answer(
            Op::AnalyzeId,
            400,
            br#"{"__type": "InvalidParameterException", "Message": "x"}"#,
        )],
    )
    .await;
    assert_eq!(h.read().await.unwrap_err(), ReadError::InvalidImage);
}

#[tokio::test]
async fn a_service_that_never_answers_times_out_as_unavailable() {
    let never = NeverClient::new();
    let resilience = Resilience {
        max_attempts: 2,
        attempt_timeout: Duration::from_millis(100),
        operation_timeout: Duration::from_millis(400),
        ..fast_retries()
    };
    let clock = Arc::new(FakeClock::at(Timestamp::from_secs(1_768_435_200)));
    let reader = TextractDocumentReader::new(
        &sdk_config(resilience, never.clone()).await,
        TextractMode::Forms,
        CircuitBreaker::new(BACKEND, BreakerSettings::default(), clock.clone()),
        clock,
    );
    let image = Image::parse(photo(), MAX_IMAGE_BYTES).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(reader.read(&image).await.unwrap_err(), unavailable());
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        never.num_calls(),
        2,
        "the timed-out attempt is retried once"
    );
    assert_eq!(
        reader.breaker().state(),
        BreakerState::Closed { failures: 1 }
    );
}

#[tokio::test]
async fn the_breaker_opens_after_repeated_failures_and_closes_after_a_good_probe() {
    let h = Harness::with_breaker(
        TextractMode::Forms,
        no_retries(),
        BreakerSettings {
            failure_threshold: 2,
            cool_down: Duration::from_secs(30),
        },
        vec![
            answer(Op::Forms, 500, INTERNAL),
            answer(Op::Forms, 400, THROTTLING),
            answer(Op::Forms, 200, ES_CARD_FORMS),
            answer(Op::Forms, 200, ES_CARD_FORMS),
        ],
    )
    .await;
    assert_eq!(h.read().await.unwrap_err(), unavailable());
    assert_eq!(h.read().await.unwrap_err(), unavailable());
    assert!(matches!(
        h.reader.breaker().state(),
        BreakerState::Open { .. }
    ));
    // Open: reads fail at once, nothing reaches the service.
    for _ in 0..3 {
        assert_eq!(h.read().await.unwrap_err(), unavailable());
    }
    assert_eq!(h.requests(), 2);
    h.clock.advance_millis(29_999);
    assert_eq!(h.read().await.unwrap_err(), unavailable());
    assert_eq!(h.requests(), 2);
    // After the cool-down one probe goes through; its success closes the breaker.
    h.clock.advance_millis(1);
    h.read().await.expect("the probe succeeds");
    assert_eq!(
        h.reader.breaker().state(),
        BreakerState::Closed { failures: 0 }
    );
    h.read().await.expect("closed again");
    assert_eq!(h.requests(), 4);
    h.replay.assert_requests_match(&[]);
}

#[tokio::test]
async fn a_failed_probe_opens_the_breaker_again() {
    let h = Harness::with_breaker(
        TextractMode::Forms,
        no_retries(),
        BreakerSettings {
            failure_threshold: 1,
            cool_down: Duration::from_secs(10),
        },
        vec![
            answer(Op::Forms, 500, INTERNAL),
            answer(Op::Forms, 500, INTERNAL),
        ],
    )
    .await;
    assert_eq!(h.read().await.unwrap_err(), unavailable());
    h.clock.advance_millis(10_000);
    assert_eq!(h.read().await.unwrap_err(), unavailable());
    assert_eq!(h.requests(), 2);
    assert!(matches!(
        h.reader.breaker().state(),
        BreakerState::Open { .. }
    ));
    assert_eq!(h.read().await.unwrap_err(), unavailable());
    assert_eq!(h.requests(), 2);
}

#[tokio::test]
async fn an_abandoned_probe_does_not_leave_the_breaker_half_open_for_ever() {
    let never = NeverClient::new();
    let clock = Arc::new(FakeClock::at(Timestamp::from_secs(1_768_435_200)));
    let breaker = CircuitBreaker::new(
        BACKEND,
        BreakerSettings {
            failure_threshold: 1,
            cool_down: Duration::from_secs(10),
        },
        clock.clone(),
    );
    let reader = TextractDocumentReader::new(
        &sdk_config(no_retries(), never.clone()).await,
        TextractMode::Forms,
        breaker,
        clock.clone(),
    );
    let image = Image::parse(photo(), MAX_IMAGE_BYTES).unwrap();
    let abandon = || tokio::time::timeout(Duration::from_millis(30), reader.read(&image));
    // A read abandoned by its caller counts as a failure: the breaker opens.
    assert!(abandon().await.is_err());
    assert!(matches!(
        reader.breaker().state(),
        BreakerState::Open { .. }
    ));
    // The probe after the cool-down is abandoned too: the breaker opens again rather than
    // waiting for the probe's outcome, and after another cool-down the next probe is sent.
    clock.advance_millis(10_000);
    assert!(abandon().await.is_err());
    assert_eq!(never.num_calls(), 2);
    assert!(matches!(
        reader.breaker().state(),
        BreakerState::Open { .. }
    ));
    clock.advance_millis(10_000);
    assert!(abandon().await.is_err());
    assert_eq!(never.num_calls(), 3);
}

#[tokio::test]
async fn hostile_images_are_refused_before_any_request() {
    let h = Harness::new(TextractMode::Both, fast_retries(), Vec::new()).await;
    let mut oversized = photo();
    oversized.resize(MAX_IMAGE_BYTES + 1, 0);
    for bytes in [
        Vec::new(),
        b"GIF89a\x01\x00\x01\x00".to_vec(),
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
        b"%PDF-1.7".to_vec(),
        vec![0xFF, 0xD8],
        oversized.clone(),
    ] {
        assert_eq!(
            h.reader.analyze_bytes(bytes).await.unwrap_err(),
            ReadError::InvalidImage
        );
    }
    // An Image accepted under a looser limit elsewhere is still held to Textract's.
    let image = Image::parse(oversized, usize::MAX).unwrap();
    assert_eq!(
        h.reader.read(&image).await.unwrap_err(),
        ReadError::InvalidImage
    );
    assert_eq!(h.requests(), 0);
    assert_eq!(
        h.reader.breaker().state(),
        BreakerState::Closed { failures: 0 }
    );
}

#[tokio::test]
async fn malformed_or_truncated_responses_are_rejected_without_retries() {
    let truncated = &ES_CARD_FORMS[..ES_CARD_FORMS.len() / 2];
    let bodies: [&[u8]; 5] = [
        truncated,
        b"<html>gateway</html>",
        br#"{"Blocks": "JOHN SPECIMEN"}"#,
        br#"{"Blocks": [{"Confidence": "JOHN SPECIMEN"}]}"#,
        b"[1, 2, 3]",
    ];
    for body in bodies {
        let h = Harness::new(
            TextractMode::Forms,
            fast_retries(),
            vec![answer(Op::Forms, 200, body)],
        )
        .await;
        let err = h.read().await.unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::Backend(PortError::Rejected {
                    backend: BACKEND,
                    ..
                })
            ),
            "{err:?}"
        );
        assert!(!err.to_string().contains("JOHN"), "{err}");
        assert!(!format!("{err:?}").contains("JOHN"));
        assert_eq!(h.requests(), 1);
    }
}

#[tokio::test]
async fn an_empty_but_valid_response_reads_as_nothing() {
    for body in [&b"{}"[..], b"", br#"{"Blocks": []}"#] {
        let h = Harness::new(
            TextractMode::Forms,
            fast_retries(),
            vec![answer(Op::Forms, 200, body)],
        )
        .await;
        let a = h.read().await.unwrap();
        assert!(a.reading.printed.fields.is_empty());
        assert_eq!(a.reading.mrz_text, None);
    }
}

#[tokio::test]
async fn nothing_read_from_the_document_shows_in_debug_output() {
    let h = Harness::new(
        TextractMode::Both,
        fast_retries(),
        vec![
            answer(Op::AnalyzeId, 200, US_PASSPORT_ID),
            answer(Op::Forms, 200, US_PASSPORT_FORMS),
        ],
    )
    .await;
    let a = h.read().await.unwrap();
    let debug = format!("{a:?} {:?} {:?}", h.reader, a.responses);
    for secret in [
        "SPECIMEN",
        "AVERY",
        "JORDAN",
        "571234560",
        "1988",
        "2033",
        "P<USA",
        "OREGON",
    ] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_success_body_gives_a_reading_or_a_rejection_never_a_panic(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            (0usize..ES_CARD_FORMS.len(), 0usize..ES_CARD_FORMS.len(), any::<u8>()).prop_map(
                |(cut, flip, byte)| {
                    let mut v = ES_CARD_FORMS.to_vec();
                    v[flip] = byte;
                    v.truncate(cut.max(1));
                    v
                }
            ),
            (0usize..US_PASSPORT_ID.len(), any::<u8>()).prop_map(|(flip, byte)| {
                let mut v = US_PASSPORT_ID.to_vec();
                v[flip] = byte;
                v
            }),
        ],
        mode in prop_oneof![Just(TextractMode::AnalyzeId), Just(TextractMode::Forms)],
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let op = if mode == TextractMode::Forms { Op::Forms } else { Op::AnalyzeId };
        let result = rt.block_on(async {
            let h = Harness::new(mode, no_retries(), vec![answer(op, 200, &body)]).await;
            h.read().await
        });
        prop_assert!(
            matches!(result, Ok(_) | Err(ReadError::Backend(PortError::Rejected { .. }))),
            "{:?}", result.err()
        );
    }
}
