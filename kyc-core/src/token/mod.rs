//! Token claims (in progress).
