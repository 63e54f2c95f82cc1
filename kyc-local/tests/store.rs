//! Integration tests of the local stores through the kyc-core ports only, on a real data
//! directory: a verification's life from upload to erasure, concurrent audit writers on
//! several connections, and a restart in the middle.

use std::sync::{Arc, Mutex};

use kyc_core::audit::{
    append_with_retry, verify_chain_for, Actor, AuditLog, DetailKey, EventDraft, EventKind,
    PersonalData, Salt,
};
use kyc_core::model::{Timestamp, VerificationId};
use kyc_core::ports::fakes::FakeClock;
use kyc_core::ports::{
    DocumentStore, DomainEvent, EventKind as DomainKind, EventPublisher, ObjectKey, SessionStore,
};
use kyc_core::session::{ReadOutcome, Session, Step, StepKey};
use kyc_core::token::TokenSigner as _;
use kyc_local::events::HandlerError;
use kyc_local::storage::{DataDir, Database, LocalStores, MasterKey, SqliteAuditLog};

const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

/// Polls a future of the blocking adapters (they never wait) to completion.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("a blocking adapter's future was pending"),
    }
}

/// A pipeline step written against the ports only, as the services will be.
async fn upload<S, L, D, P>(
    sessions: &S,
    audit: &L,
    objects: &D,
    events: &P,
    id: VerificationId,
    image: Vec<u8>,
) where
    S: SessionStore,
    L: AuditLog,
    D: DocumentStore,
    P: EventPublisher,
{
    let session = Session::start(
        id,
        StepKey::parse("upload").unwrap(),
        T0,
        T0.plus_millis(900_000),
    );
    objects
        .put(&ObjectKey::id_upload(&id), image, "image/jpeg")
        .await
        .unwrap();
    sessions.save(&session, None).await.unwrap();
    let mut personal = PersonalData::new();
    personal
        .insert(DetailKey::parse("surname").unwrap(), "ERIKSSON")
        .unwrap();
    let draft = EventDraft::new(
        id,
        EventKind::DocumentUploaded,
        T0,
        Actor::parse("it").unwrap(),
    )
    .with_personal(personal, Salt::from_bytes([1; 16]));
    append_with_retry(audit, draft, 3).await.unwrap();
    let event = DomainEvent {
        verification_id: id,
        kind: DomainKind::DocumentUploaded,
        at: T0,
        status: None,
    };
    events.publish(&event).await.unwrap();
}

#[test]
fn a_verification_survives_a_restart_and_is_erased_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path().join("data"));
    let clock = Arc::new(FakeClock::at(T0));
    let id = VerificationId::from_random_bytes([7; 16]);
    let head = {
        let s = LocalStores::open(&data, clock.clone()).unwrap();
        block_on(upload(
            &s.sessions,
            &s.audit,
            &s.objects,
            &s.events,
            id,
            b"jpeg".to_vec(),
        ));
        let frame = ObjectKey::live_frame(&id, "frame-1").unwrap();
        block_on(s.objects.put(&frame, b"frame".to_vec(), "image/jpeg")).unwrap();
        block_on(s.audit.read(id)).unwrap().last().unwrap().head()
        // Dropped without delivering the event: a crash.
    };

    let s = LocalStores::open(&data, clock.clone()).unwrap();
    assert_eq!(s.recovered, Default::default());
    let (session, version) = block_on(s.sessions.load(&id)).unwrap().unwrap();
    assert_eq!(session.verification_id(), id);
    assert_eq!(
        block_on(s.objects.get(&ObjectKey::id_upload(&id))).unwrap(),
        Some(b"jpeg".to_vec())
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    s.events
        .subscribe(move |e: &DomainEvent| -> Result<(), HandlerError> {
            sink.lock().unwrap().push(e.kind);
            Ok(())
        });
    assert_eq!(s.events.deliver_pending(10).unwrap().delivered, 1);
    assert_eq!(*seen.lock().unwrap(), [DomainKind::DocumentUploaded]);

    // Erasure: objects, session, personal audit values; the chain keeps verifying.
    let mut session = session;
    session
        .apply(
            Step::ReadDocument {
                outcome: ReadOutcome::Readable,
            },
            T0,
        )
        .unwrap();
    block_on(s.sessions.save(&session, Some(version))).unwrap();
    assert_eq!(block_on(s.objects.delete_all(&id)).unwrap(), 2);
    assert_eq!(block_on(s.audit.redact(id)).unwrap(), 1);
    block_on(s.sessions.delete(&id)).unwrap();
    let events = block_on(s.audit.read(id)).unwrap();
    assert!(events.iter().all(|e| e.personal().is_none()));
    assert_eq!(verify_chain_for(id, &events, Some(head)), Ok(head));
    let leftovers = std::fs::read_dir(data.objects()).unwrap().count();
    assert_eq!(leftovers, 0);
    // Tokens from the same data directory's key verify with its JWKS.
    let signer = s.keys.signer();
    assert_eq!(
        s.keys.jwks(T0).find(signer.key_id()),
        Some(&block_on(signer.public_key()).unwrap())
    );
}

/// Several threads, some sharing a connection and some with their own, append to one chain:
/// every append lands exactly once and the chain verifies.
#[test]
fn concurrent_audit_writers_on_several_connections_never_fork_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kyc.sqlite3");
    let key = MasterKey::from_bytes([3; 32]);
    let shared = SqliteAuditLog::new(Database::open(&path).unwrap(), key.clone());
    let id = VerificationId::from_random_bytes([9; 16]);
    let (threads, per_thread) = (6usize, 25usize);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let log = if t % 2 == 0 {
                shared.clone()
            } else {
                SqliteAuditLog::new(Database::open(&path).unwrap(), key.clone())
            };
            scope.spawn(move || {
                for i in 0..per_thread {
                    let draft = EventDraft::new(
                        id,
                        EventKind::FrameAccepted,
                        T0.plus_millis(i as i64),
                        Actor::parse("writer").unwrap(),
                    )
                    .with_detail("thread", t as i64)
                    .unwrap()
                    .with_detail("i", i as i64)
                    .unwrap();
                    block_on(append_with_retry(&log, draft, 10)).unwrap();
                }
            });
        }
    });
    let events = block_on(shared.read(id)).unwrap();
    assert_eq!(events.len(), threads * per_thread);
    assert!(verify_chain_for(id, &events, None).is_ok());
    let mut pairs: Vec<(i64, i64)> = events
        .iter()
        .map(|e| {
            let n = |k: &str| match e.details().get(k) {
                Some(kyc_core::audit::DetailValue::Int(v)) => *v,
                other => panic!("detail {k}: {other:?}"),
            };
            (n("thread"), n("i"))
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    assert_eq!(
        pairs.len(),
        threads * per_thread,
        "no append lost or doubled"
    );
}
