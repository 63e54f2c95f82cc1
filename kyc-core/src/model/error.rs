//! The one error type of the domain-value constructors. Messages name the value's role and never
//! echo the input, because the input is usually personal data.

/// Why an untrusted string could not become a domain value.
///
/// The message says which value was refused and why, never what the input was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The input was empty (or only whitespace / filler).
    #[error("{what} is empty")]
    Empty {
        /// Which value was being parsed.
        what: &'static str,
    },
    /// The input was longer than the value allows.
    #[error("{what} is longer than {max} characters")]
    TooLong {
        /// Which value was being parsed.
        what: &'static str,
        /// The largest accepted length.
        max: usize,
    },
    /// The input holds a character that the value never contains.
    #[error("{what} contains a character that is not allowed")]
    InvalidCharacter {
        /// Which value was being parsed.
        what: &'static str,
    },
    /// The input is a number or date outside the accepted range.
    #[error("{what} is out of range")]
    OutOfRange {
        /// Which value was being parsed.
        what: &'static str,
    },
    /// The input does not have the expected shape.
    #[error("{what} is not in the expected format ({expected})")]
    Malformed {
        /// Which value was being parsed.
        what: &'static str,
        /// A description of the accepted format.
        expected: &'static str,
    },
    /// The input is not one of a closed set of values.
    #[error("{what} is not a known value; allowed: {allowed}")]
    Unknown {
        /// Which value was being parsed.
        what: &'static str,
        /// The accepted values, or a description of them.
        allowed: &'static str,
    },
}
