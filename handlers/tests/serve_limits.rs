//! `kyc serve` faces its clients directly, with no gateway to cut slow or idle connections:
//! a client that never finishes its headers is disconnected, a request whose body stalls gets
//! a 408 problem, a `POST` beyond `--max-body-requests` in progress is shed with a 503, and
//! connections beyond `--max-connections` wait until one closes. The server is started with a
//! 1 s header timeout, a 2 s request timeout, 1 `POST` in progress and 4 connections.
//!
//! Time is only asserted in the direction the design guarantees (a connection is not cut, nor
//! a waiting one served, before the timeout), so a slow machine cannot make it flake.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

/// Reads until the server closes the connection; fails if it has not within `limit`.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Vec<u8> {
    stream.set_read_timeout(Some(limit)).expect("read timeout");
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        panic!("the server did not close the connection within {limit:?}: {e}");
    }
    raw
}

#[test]
fn slow_and_idle_clients_are_cut_off_and_connections_are_bounded() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let server = Server::start(
        &tmp.path().join("data"),
        &[
            "--header-timeout",
            "1",
            "--request-timeout",
            "2",
            "--max-connections",
            "4",
            "--max-body-requests",
            "1",
        ],
    );
    let addr = server.addr;

    // Headers that never end: the connection is closed after the header timeout, unanswered.
    let started = Instant::now();
    let mut slow = TcpStream::connect(addr).expect("connecting");
    slow.write_all(b"POST /v1/upload-id HTTP/1.1\r\nHost: kyc\r\nContent-Type: image/jpeg\r\n")
        .expect("writing part of the headers");
    let raw = read_until_closed(&mut slow, Duration::from_secs(30));
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(
        parse_response(&raw).is_none_or(|r| r.status >= 400),
        "a half-sent request is never served"
    );

    // A body that stalls after its first bytes: a 408 problem after the request timeout.
    let started = Instant::now();
    let mut stalled = TcpStream::connect(addr).expect("connecting");
    stalled
        .write_all(
            b"POST /v1/upload-id HTTP/1.1\r\nHost: kyc\r\nContent-Type: image/jpeg\r\n\
              Content-Length: 200000\r\nConnection: close\r\n\r\n\xff\xd8\xff\xe0",
        )
        .expect("writing the head and a few bytes");
    // While it holds the one slot for requests with a body, another POST is shed with a 503
    // (once the server has admitted the stalled one), and a GET still answers.
    let start_liveness = || {
        server.send(
            &Request::new("POST", "/v1/start-liveness")
                .header("content-type", "application/json")
                .body(Body::Sized(b"{}".to_vec())),
        )
    };
    let shed = (0..30)
        .map(|_| {
            let r = start_liveness();
            if r.status != 503 {
                std::thread::sleep(Duration::from_millis(30));
            }
            r
        })
        .find(|r| r.status == 503)
        .expect("a POST shed while the stalled upload held the slot");
    assert_eq!(
        assert_problem(&shed, 503, "a POST beyond the limit")["type"],
        "urn:kyc-kit:problem:overloaded"
    );
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert_eq!(server.send(&Request::get("/healthz")).status, 200);
    let raw = read_until_closed(&mut stalled, Duration::from_secs(30));
    assert!(started.elapsed() >= Duration::from_millis(1900));
    let r = parse_response(&raw).expect("an answer to the stalled upload");
    let p = assert_problem(&r, 408, "a stalled body");
    assert_eq!(p["type"], "urn:kyc-kit:problem:request-timeout");
    // The timed-out request gave its slot back.
    assert_problem(&start_liveness(), 400, "a POST after the slot was freed");

    // Four connections that send nothing take every slot: a fifth request waits in the
    // backlog until the header timeout frees one, and is then served.
    let idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(addr).expect("connecting"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let health = server.send(&Request::get("/healthz"));
    assert_eq!(health.status, 200, "{}", health.text());
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "served after {:?}, while four idle connections held every slot",
        started.elapsed()
    );
    for mut c in idle {
        read_until_closed(&mut c, Duration::from_secs(30));
    }

    // The server is still healthy and stops cleanly.
    assert_eq!(server.send(&Request::get("/healthz")).status, 200);
    let (status, _) = server.stop();
    assert!(status.success(), "kyc serve exited with {status}");
}
