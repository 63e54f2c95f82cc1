//! Helpers shared by the suite's modules.

use std::time::{SystemTime, UNIX_EPOCH};

use kyc_core::model::Timestamp;

/// The wall-clock instant: items written to LocalStack carry real TTLs, so tests use real time.
pub fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    Timestamp::from_millis(i64::try_from(ms).unwrap())
}
