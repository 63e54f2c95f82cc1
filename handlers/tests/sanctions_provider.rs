//! The HTTP screening provider against a stub server started in the test on 127.0.0.1: request
//! shape and credentials, mapping of hits to the match model, and each failure mode.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use handlers::screening::provider::{ApiKey, HttpProviderConfig, HttpSanctionsScreener};
use kyc_core::model::Timestamp;
use kyc_core::sanctions::{
    BirthDateFact, ListKind, SanctionsScreener, ScreenOptions, ScreeningError, ScreeningQuery,
    Suppression, Suppressions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the stub answers: status, body, and a delay before answering.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

/// Starts a stub API that answers every request with `reply` and records the requests it got
/// (head and body). Returns its base URL.
async fn stub(reply: Reply, seen: Arc<Mutex<Vec<(String, String)>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Bounded: a test never makes more than a few requests.
        for _ in 0..8 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let reply = reply.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head, body) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let head = text[..end].to_string();
                        let len = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            let body =
                                String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                            break (head, body);
                        }
                    }
                };
                seen.lock().unwrap().push((head, body));
                tokio::time::sleep(reply.delay).await;
                let response = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                    reply.status,
                    reply.body.len(),
                    reply.body
                );
                let _ = sock.write_all(response.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

const HITS: &str = r#"{"code": 200, "status": "success", "content": {"data": {"id": 991, "ref": "r-1", "total_hits": 2, "hits": [
  {"doc": {"id": "ZXC123", "name": "Abdul Qadir Noorzai", "entity_type": "person",
           "aka": [{"name": "Abdul Qadeer Nurzai"}, {"name": "عبد القادر نورزی"}],
           "fields": [{"name": "Date of Birth", "value": "1966"}, {"name": "Nationality", "value": "Afghanistan"}],
           "sources": ["un-sc-sanctions"], "types": ["sanction"], "last_updated_utc": "2026-01-05T10:00:00Z"},
   "match_types": ["name_exact"], "score": 1.7},
  {"doc": {"id": 4455, "name": "Noorzai Trading LLC", "entity_type": "organisation", "aka": [], "fields": []},
   "match_types": ["name_fuzzy"], "score": 0.4}
]}}}"#;

fn screener(url: String, timeout: Duration) -> HttpSanctionsScreener {
    let mut config = HttpProviderConfig::new(url, ApiKey::new("test-key-123"));
    config.timeout = timeout;
    HttpSanctionsScreener::new(config).unwrap()
}

fn query() -> ScreeningQuery {
    ScreeningQuery {
        name: "Abdul Qadeer Noorzai".into(),
        birth_date: BirthDateFact::parse("1966-03-01"),
        nationality: kyc_core::sanctions::country_from_text("AF"),
    }
}

#[tokio::test]
async fn hits_are_mapped_to_the_match_model_and_rescored() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = stub(
        Reply {
            status: 200,
            body: HITS.into(),
            delay: Duration::ZERO,
        },
        seen.clone(),
    )
    .await;
    let s = screener(url, Duration::from_secs(5));
    let opts = ScreenOptions {
        include_near_misses: true,
        ..ScreenOptions::default()
    };
    let r = s.screen(&query(), &opts).await.unwrap();
    let top = &r.matches[0];
    assert_eq!(top.entity_id, "ZXC123");
    assert_eq!(top.list, ListKind::Provider);
    assert!(top.is_match);
    assert!(top
        .explanation
        .qualifiers
        .iter()
        .any(|q| q.qualifier == "birthDate"));
    assert!(r
        .matches
        .iter()
        .all(|m| m.entity_id != "4455" || !m.is_match));

    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let (head, body) = &requests[0];
    assert!(head.starts_with("POST /searches HTTP/1.1"), "{head}");
    assert!(head
        .to_ascii_lowercase()
        .contains("authorization: token test-key-123"));
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["search_term"], "Abdul Qadeer Noorzai");
    assert_eq!(body["filters"]["birth_year"], 1966);
    assert_eq!(body["filters"]["types"][0], "sanction");

    // A reviewer's decision on the provider's record is honoured in the next screening.
    let mut decisions = Suppressions::new();
    decisions
        .record(Suppression {
            customer_id: "verif-77".into(),
            list: top.list,
            entity_id: top.entity_id.clone(),
            list_version: top.list_version.clone(),
            reviewer: "reviewer-1".into(),
            decided_at: Timestamp::from_secs(1_780_000_000),
        })
        .unwrap();
    let mut again = s.screen(&query(), &opts).await.unwrap();
    let applied = decisions.apply("verif-77", &mut again);
    assert_eq!(applied.len(), 1);
    assert!(!again.has_match());
}

#[tokio::test]
async fn each_failure_maps_to_its_error() {
    let cases = [
        (401, "{}", ScreeningError::Unauthorized),
        (403, "{}", ScreeningError::Unauthorized),
        (422, "{}", ScreeningError::Rejected),
        (500, "{}", ScreeningError::Unavailable),
        (429, "{}", ScreeningError::Unavailable),
        (200, "not json", ScreeningError::InvalidResponse),
        (200, r#"{"content": {}}"#, ScreeningError::InvalidResponse),
    ];
    for (status, body, want) in cases {
        let url = stub(
            Reply {
                status,
                body: body.into(),
                delay: Duration::ZERO,
            },
            Arc::default(),
        )
        .await;
        let got = screener(url, Duration::from_secs(5))
            .screen(&query(), &ScreenOptions::default())
            .await
            .unwrap_err();
        assert_eq!(got, want, "status {status}");
        assert!(!got.to_string().contains("Noorzai"));
    }
}

#[tokio::test]
async fn a_slow_provider_times_out_and_a_closed_port_is_unavailable() {
    let url = stub(
        Reply {
            status: 200,
            body: HITS.into(),
            delay: Duration::from_secs(3),
        },
        Arc::default(),
    )
    .await;
    let got = screener(url, Duration::from_millis(200))
        .screen(&query(), &ScreenOptions::default())
        .await
        .unwrap_err();
    assert_eq!(got, ScreeningError::TimedOut);
    assert!(got.is_retryable());

    // A port that was bound and released: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let got = screener(format!("http://127.0.0.1:{port}"), Duration::from_secs(2))
        .screen(&query(), &ScreenOptions::default())
        .await
        .unwrap_err();
    assert_eq!(got, ScreeningError::Unavailable);
}
