//! Ports: the traits through which kyc-core reaches the outside world. Adapters in `kyc-aws`
//! and `kyc-local` implement them; in-memory fakes live in [`fakes`] behind the `test-util`
//! feature. Each method documents what it MUST return in each case.

mod basics;
#[cfg(any(test, feature = "test-util"))]
pub mod fakes;

pub use basics::{Clock, RandomSource};
