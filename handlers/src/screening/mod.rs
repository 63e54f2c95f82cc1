//! Sanctions screening adapters: loading list files from a directory (each recognised by its
//! content), the benchmark over the shared data, and the third-party HTTP screening provider.
//! The matching itself is `kyc_core::sanctions`.

pub mod bench;
pub mod lists;
pub mod provider;
