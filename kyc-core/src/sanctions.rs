//! TODO(skeleton): sanctions screening (issue 6).
