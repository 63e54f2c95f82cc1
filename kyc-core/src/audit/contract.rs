//! A conformance check of the [`AuditLog`] port (feature `test-util`): adapters run
//! [`check`] against a fresh store in their own tests, so every adapter is held to the same
//! MUST rules.

use super::{
    verify_chain_for, Actor, AuditLog, DetailKey, EventDraft, EventKind, PersonalData, Salt,
};
use crate::model::{Timestamp, VerificationId};

/// Runs the port's rules against `log`, using the (unused) verification `id`, and returns the
/// first rule broken. It covers append order and links, reading in order, reading an unknown
/// verification, redaction (idempotent, head kept, no salt or values left). Concurrent-append
/// conflicts need a store-specific race and are tested by each adapter.
pub async fn check<L: AuditLog + ?Sized>(log: &L, id: VerificationId) -> Result<(), String> {
    let empty = log
        .read(id)
        .await
        .map_err(|e| format!("read of an empty chain: {e}"))?;
    if !empty.is_empty() {
        return Err("read MUST return no events for an unknown verification".into());
    }
    let actor = Actor::parse("contract").map_err(|e| e.to_string())?;
    let mut personal = PersonalData::new();
    let key = DetailKey::parse("surname").map_err(|e| e.to_string())?;
    personal
        .insert(key, "CONTRACT-CHECK")
        .map_err(|e| e.to_string())?;
    let kinds = [
        EventKind::DocumentUploaded,
        EventKind::DocumentRead,
        EventKind::LivenessChallengeIssued,
    ];
    let mut written = Vec::new();
    for (i, kind) in kinds.into_iter().enumerate() {
        let mut d = EventDraft::new(id, kind, Timestamp::from_secs(1_779_341_048), actor.clone())
            .with_detail("step", i as i64)
            .map_err(|e| e.to_string())?;
        if kind == EventKind::DocumentRead {
            d = d.with_personal(personal.clone(), Salt::from_bytes([0x42; 16]));
        }
        let e = log
            .append(d)
            .await
            .map_err(|e| format!("append {i}: {e}"))?;
        if e.seq() != i as u64 {
            return Err(format!("append MUST assign sequence {i}, got {}", e.seq()));
        }
        written.push(e);
    }
    let head = written.last().map(|e| e.head());
    let read = log.read(id).await.map_err(|e| format!("read: {e}"))?;
    if read != written {
        return Err("read MUST return exactly the appended events in order".into());
    }
    verify_chain_for(id, &read, head).map_err(|e| format!("stored chain: {e}"))?;
    let changed = log.redact(id).await.map_err(|e| format!("redact: {e}"))?;
    if changed != 1 {
        return Err(format!("redact MUST report 1 changed event, got {changed}"));
    }
    let again = log
        .redact(id)
        .await
        .map_err(|e| format!("redact again: {e}"))?;
    if again != 0 {
        return Err(format!(
            "redact MUST be idempotent, second call changed {again}"
        ));
    }
    let read = log.read(id).await.map_err(|e| format!("read: {e}"))?;
    verify_chain_for(id, &read, head).map_err(|e| format!("redacted chain: {e}"))?;
    if read.len() != written.len() || read.iter().any(|e| e.personal().is_some()) {
        return Err("redact MUST keep every event and drop every personal part".into());
    }
    Ok(())
}

/// Polls a future that never waits (in-memory fakes) to completion, for tests without an
/// async runtime.
#[cfg(test)]
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..1_000 {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("future did not complete");
}
