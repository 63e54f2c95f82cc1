//! Personal values read from identity documents: `DocumentNumber`, `PersonName`, `Sex`.
//! Every type holding personal data has a redacting `Debug`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ValueError;
use crate::text;

/// A document number: 1 to 24 characters `A-Z0-9` (24 allows TD1 numbers that overflow into
/// the optional data). Spaces and hyphens used as separators on printed documents are removed,
/// lowercase letters are uppercased, MRZ fillers `<` at the end are trimmed.
///
/// ```
/// use kyc_core::model::DocumentNumber;
/// let n = DocumentNumber::parse(" l898-902c3 ").unwrap();
/// assert_eq!(n.as_str(), "L898902C3");
/// assert_eq!(format!("{n:?}"), "DocumentNumber(<redacted>)");
/// assert!(DocumentNumber::parse("AB/12").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocumentNumber(String);

impl DocumentNumber {
    /// The longest accepted document number.
    pub const MAX_LEN: usize = 24;

    /// Parses an untrusted document number.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "document number";
        let s = s.trim().trim_end_matches('<');
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                ' ' | '-' => {}
                'A'..='Z' | '0'..='9' => out.push(c),
                'a'..='z' => out.push(c.to_ascii_uppercase()),
                _ => return Err(ValueError::InvalidCharacter { what: WHAT }),
            }
            if out.len() > Self::MAX_LEN {
                return Err(ValueError::TooLong {
                    what: WHAT,
                    max: Self::MAX_LEN,
                });
            }
        }
        if out.is_empty() {
            return Err(ValueError::Empty { what: WHAT });
        }
        Ok(Self(out))
    }

    /// The normalised number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DocumentNumber(<redacted>)")
    }
}

impl Serialize for DocumentNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DocumentNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One name of a person as printed (a surname, or the given names together), kept in its
/// original script with whitespace collapsed, plus its folded form for comparisons.
///
/// ```
/// use kyc_core::model::PersonName;
/// let n = PersonName::parse("  Müller-Lüdenscheidt ").unwrap();
/// assert_eq!(n.as_str(), "Müller-Lüdenscheidt");
/// assert_eq!(n.folded(), "MULLER-LUDENSCHEIDT");
/// assert_eq!(format!("{n:?}"), "PersonName(<redacted>)");
/// assert!(PersonName::parse("1234").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName {
    original: String,
    folded: String,
}

impl PersonName {
    /// The longest accepted name, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Parses an untrusted name: it must hold at least one letter, no digits, no control
    /// characters, and at most [`Self::MAX_CHARS`] characters.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "name";
        let mut original = String::with_capacity(s.len());
        let mut count = 0usize;
        let mut has_letter = false;
        for word in s.split_whitespace() {
            if !original.is_empty() {
                original.push(' ');
                count += 1;
            }
            for c in word.chars() {
                if c.is_control()
                    || c.is_numeric()
                    || matches!(
                        c,
                        '<' | '>'
                            | '{'
                            | '}'
                            | '\\'
                            | '/'
                            | '@'
                            | '#'
                            | '$'
                            | '%'
                            | '*'
                            | '='
                            | '|'
                            | '~'
                            | '^'
                            | '_'
                    )
                {
                    return Err(ValueError::InvalidCharacter { what: WHAT });
                }
                has_letter |= c.is_alphabetic();
                original.push(c);
                count += 1;
            }
            if count > Self::MAX_CHARS {
                return Err(ValueError::TooLong {
                    what: WHAT,
                    max: Self::MAX_CHARS,
                });
            }
        }
        if original.is_empty() {
            return Err(ValueError::Empty { what: WHAT });
        }
        if !has_letter {
            return Err(ValueError::InvalidCharacter { what: WHAT });
        }
        let folded = text::fold(&original);
        Ok(Self { original, folded })
    }

    /// The name as printed (whitespace collapsed).
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Uppercase, diacritics removed, ligatures expanded: the form names are compared in.
    pub fn folded(&self) -> &str {
        &self.folded
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(<redacted>)")
    }
}

impl Serialize for PersonName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.original)
    }
}

impl<'de> Deserialize<'de> for PersonName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Sex as recorded on travel documents (ICAO 9303: `M`, `F`, or `<`/`X` for unspecified).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    /// `M`.
    #[serde(rename = "M")]
    Male,
    /// `F`.
    #[serde(rename = "F")]
    Female,
    /// `X` (printed) or `<` (MRZ).
    #[serde(rename = "X")]
    Unspecified,
}

impl Sex {
    /// Parses a code or a word as printed on documents in several languages
    /// (`M`, `F`, `X`, `<`, `MALE`, `FEMALE`, `MASCULIN`, `FÉMININ`, `MÄNNLICH`, `WEIBLICH`, `H`, `W`…).
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let folded = text::fold(s.trim());
        let first = folded
            .split(['/', ' '])
            .find(|w| !w.is_empty())
            .unwrap_or("");
        match first {
            "M" | "MALE" | "MAN" | "MASCULIN" | "MASCULINO" | "MANNLICH" | "H" | "HOMME"
            | "HOMBRE" | "MASCHILE" => Ok(Self::Male),
            "F" | "FEMALE" | "WOMAN" | "FEMININ" | "FEMENINO" | "FEMININO" | "WEIBLICH" | "W"
            | "FEMME" | "MUJER" | "FEMMINILE" => Ok(Self::Female),
            "X" | "<" | "U" | "UNSPECIFIED" | "NONBINARY" | "DIVERS" => Ok(Self::Unspecified),
            _ => Err(ValueError::Unknown {
                what: "sex",
                allowed: "M, F, X or <",
            }),
        }
    }

    /// The one-letter code used in printed fields and JSON (`M`, `F`, `X`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Male => "M",
            Self::Female => "F",
            Self::Unspecified => "X",
        }
    }

    /// The MRZ character (`M`, `F`, `<`).
    pub fn mrz_char(self) -> char {
        match self {
            Self::Male => 'M',
            Self::Female => 'F',
            Self::Unspecified => '<',
        }
    }
}

impl std::str::FromStr for Sex {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sex_words_in_several_languages_are_understood() {
        assert_eq!(Sex::parse("F").unwrap(), Sex::Female);
        assert_eq!(Sex::parse("Féminin").unwrap(), Sex::Female);
        assert_eq!(Sex::parse("M/M").unwrap(), Sex::Male);
        assert_eq!(Sex::parse("<").unwrap(), Sex::Unspecified);
        let err = Sex::parse("Q").unwrap_err().to_string();
        assert!(err.contains("allowed"), "{err}");
    }

    #[test]
    fn errors_never_echo_the_input() {
        let e = DocumentNumber::parse("SECRET!123").unwrap_err().to_string();
        assert!(!e.contains("SECRET"));
        let e = PersonName::parse("Anna<Maria").unwrap_err().to_string();
        assert!(!e.contains("Anna"));
    }

    #[test]
    fn overlong_values_are_refused() {
        assert!(DocumentNumber::parse(&"A".repeat(25)).is_err());
        assert!(PersonName::parse(&"a".repeat(201)).is_err());
        assert!(PersonName::parse(&"a".repeat(200)).is_ok());
    }

    proptest! {
        #[test]
        fn document_number_parse_is_idempotent(s in "[A-Za-z0-9 -]{0,30}") {
            if let Ok(n) = DocumentNumber::parse(&s) {
                prop_assert_eq!(DocumentNumber::parse(n.as_str()).unwrap(), n);
            }
        }

        #[test]
        fn name_parse_is_idempotent(s in "\\PC{0,80}") {
            if let Ok(n) = PersonName::parse(&s) {
                let again = PersonName::parse(n.as_str()).unwrap();
                prop_assert_eq!(again.folded(), n.folded());
                prop_assert_eq!(again, n);
            }
        }
    }
}
