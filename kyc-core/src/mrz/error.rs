//! `MrzError`: why MRZ lines could not be read, or why a read MRZ is not valid. Messages name
//! lines, positions and fields, never the characters (they are personal data).

use super::CheckField;

/// Why MRZ lines were refused. Lines and positions count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MrzError {
    /// No line (or only blank lines) was given.
    #[error("no mrz lines were given")]
    Empty,
    /// The number of lines fits no format: TD1 has 3 lines, the others 2.
    #[error("an mrz has 2 lines (TD2, TD3, visas) or 3 lines (TD1), found {found}")]
    WrongLineCount {
        /// How many non-blank lines were given.
        found: usize,
    },
    /// A line does not have the length the format requires.
    #[error("mrz line {line} has {found} characters, expected {expected}")]
    WrongLineLength {
        /// The line (from 1).
        line: usize,
        /// The length the format requires.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// The lines fit no format's shape (2×36, 2×44 or 3×30).
    #[error("the lines match no mrz format (3x30, 2x36 or 2x44 characters)")]
    UnknownFormat,
    /// A character outside `A-Z 0-9 <` (lowercase letters included).
    #[error("mrz line {line} has a character that is not allowed at position {position}")]
    InvalidCharacter {
        /// The line (from 1).
        line: usize,
        /// The position in the line (from 1, counted in characters).
        position: usize,
    },
    /// A check digit does not match its field (from `MrzRecord::validate`).
    #[error("the {field} check digit does not match")]
    CheckDigitMismatch {
        /// The field whose check failed.
        field: CheckField,
    },
    /// Tolerant mode found nothing that looks like MRZ lines in the text.
    #[error("no mrz was found in the text")]
    NotFound,
    /// Tolerant mode refuses texts larger than this many bytes.
    #[error("the text is larger than {max_bytes} bytes")]
    InputTooLarge {
        /// The largest accepted text.
        max_bytes: usize,
    },
}
