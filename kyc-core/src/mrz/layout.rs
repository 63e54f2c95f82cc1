//! The five ICAO 9303 MRZ layouts (TD1, TD2, TD3, MRV-A, MRV-B) as tables of spans over the
//! concatenated lines, the names of their fields and check digits, and the character class each
//! position may hold.

use std::fmt;
use std::ops::Range;

use serde::{Serialize, Serializer};

/// An MRZ format, decided by the number and length of the lines and, for two-line zones, by the
/// document code (`V` = visa).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MrzFormat {
    /// ICAO 9303 Part 5: identity cards, 3 lines of 30 characters.
    Td1,
    /// ICAO 9303 Part 6: 2 lines of 36 characters.
    Td2,
    /// ICAO 9303 Part 4: passports, 2 lines of 44 characters.
    Td3,
    /// ICAO 9303 Part 7: full-size visa, 2 lines of 44 characters, code `V`.
    MrvA,
    /// ICAO 9303 Part 7: small visa, 2 lines of 36 characters, code `V`.
    MrvB,
}

impl MrzFormat {
    /// Every format.
    pub const ALL: [MrzFormat; 5] = [Self::Td1, Self::Td2, Self::Td3, Self::MrvA, Self::MrvB];

    /// The number of lines (3 for TD1, 2 otherwise).
    pub const fn line_count(self) -> usize {
        match self {
            Self::Td1 => 3,
            _ => 2,
        }
    }

    /// The number of characters of each line.
    pub const fn line_length(self) -> usize {
        match self {
            Self::Td1 => 30,
            Self::Td2 | Self::MrvB => 36,
            Self::Td3 | Self::MrvA => 44,
        }
    }

    /// Whether this is a visa format (visas have no composite check digit).
    pub const fn is_visa(self) -> bool {
        matches!(self, Self::MrvA | Self::MrvB)
    }

    /// The name used in JSON and text output: `TD1`, `TD2`, `TD3`, `MRVA`, `MRVB`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Td1 => "TD1",
            Self::Td2 => "TD2",
            Self::Td3 => "TD3",
            Self::MrvA => "MRVA",
            Self::MrvB => "MRVB",
        }
    }

    pub(crate) fn layout(self) -> &'static Layout {
        match self {
            Self::Td1 => &TD1,
            Self::Td2 => &TD2,
            Self::Td3 => &TD3,
            Self::MrvA => &MRVA,
            Self::MrvB => &MRVB,
        }
    }

    /// The format of a zone with `count` lines of `length` characters whose first character is
    /// `first`.
    pub(crate) fn detect(count: usize, length: usize, first: u8) -> Option<Self> {
        match (count, length, first) {
            (3, 30, _) => Some(Self::Td1),
            (2, 36, b'V') => Some(Self::MrvB),
            (2, 36, _) => Some(Self::Td2),
            (2, 44, b'V') => Some(Self::MrvA),
            (2, 44, _) => Some(Self::Td3),
            _ => None,
        }
    }
}

impl fmt::Display for MrzFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for MrzFormat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A check digit of the MRZ, named by the field it protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckField {
    /// The document number (TD1: including the part that overflows into the optional data).
    DocumentNumber,
    /// The date of birth.
    BirthDate,
    /// The date of expiry.
    ExpiryDate,
    /// The optional data / personal number (TD3 only; the other formats have no such check).
    OptionalData,
    /// The composite check digit over the checked fields (not on visas).
    Composite,
}

impl CheckField {
    /// The name used in JSON (`documentNumber`, `birthDate`, `expiryDate`, `optionalData`,
    /// `composite`).
    pub const fn json_name(self) -> &'static str {
        match self {
            Self::DocumentNumber => "documentNumber",
            Self::BirthDate => "birthDate",
            Self::ExpiryDate => "expiryDate",
            Self::OptionalData => "optionalData",
            Self::Composite => "composite",
        }
    }
}

impl fmt::Display for CheckField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DocumentNumber => "document number",
            Self::BirthDate => "birth date",
            Self::ExpiryDate => "expiry date",
            Self::OptionalData => "optional data",
            Self::Composite => "composite",
        })
    }
}

impl Serialize for CheckField {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.json_name())
    }
}

/// The field a position of the MRZ belongs to (used to report tolerant-mode corrections without
/// the characters themselves).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MrzField {
    /// Document code (`P`, `I`, `ID`, `V`…).
    DocumentCode,
    /// Issuing state or organisation.
    IssuingState,
    /// The name field (surname and given names).
    Name,
    /// Document number.
    DocumentNumber,
    /// Nationality.
    Nationality,
    /// Date of birth.
    BirthDate,
    /// Sex.
    Sex,
    /// Date of expiry.
    ExpiryDate,
    /// Optional data (TD3: personal number; TD1: optional data of line 1).
    OptionalData,
    /// TD1 optional data of line 2.
    OptionalData2,
    /// The check digit protecting the named field.
    CheckDigit(CheckField),
}

/// The kind of characters a position may hold; drives the tolerant mode's repairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CharClass {
    /// Digits or `<` (dates, check digits).
    Digit,
    /// Letters or `<` (codes, names, states).
    Alpha,
    /// Letters, digits or `<` (document number, optional data).
    AlphaNum,
    /// `M`, `F`, `X` or `<`.
    Sex,
}

impl MrzField {
    pub(crate) fn class(self) -> CharClass {
        match self {
            Self::DocumentCode | Self::IssuingState | Self::Name | Self::Nationality => {
                CharClass::Alpha
            }
            Self::DocumentNumber | Self::OptionalData | Self::OptionalData2 => CharClass::AlphaNum,
            Self::BirthDate | Self::ExpiryDate | Self::CheckDigit(_) => CharClass::Digit,
            Self::Sex => CharClass::Sex,
        }
    }
}

/// A run of positions in the concatenated lines (line `i` starts at `i * line_length`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub len: usize,
}

impl Span {
    const fn new(start: usize, len: usize) -> Self {
        Self { start, len }
    }
    pub const fn range(self) -> Range<usize> {
        self.start..self.start + self.len
    }
    pub const fn end(self) -> usize {
        self.start + self.len
    }
}

/// Where each field of one format lies, as spans over the concatenated lines.
#[derive(Debug)]
pub(crate) struct Layout {
    pub format: MrzFormat,
    pub line_length: usize,
    pub document_code: Span,
    pub issuing_state: Span,
    pub name: Span,
    pub document_number: Span,
    pub document_number_check: usize,
    pub nationality: Span,
    pub birth_date: Span,
    pub birth_date_check: usize,
    pub sex: usize,
    pub expiry_date: Span,
    pub expiry_date_check: usize,
    pub optional_data: Span,
    pub optional_data_check: Option<usize>,
    pub optional_data_2: Option<Span>,
    /// The spans the composite check digit covers, and its position.
    pub composite: Option<(&'static [Span], usize)>,
}

impl Layout {
    /// The total number of characters (all lines).
    pub const fn total_len(&self) -> usize {
        self.line_length * self.format.line_count()
    }

    /// The field at `pos` by the layout alone (without TD1's long-number overflow).
    pub fn field_at(&self, pos: usize) -> MrzField {
        let within = |s: Span| s.range().contains(&pos);
        if within(self.document_code) {
            MrzField::DocumentCode
        } else if within(self.issuing_state) {
            MrzField::IssuingState
        } else if within(self.name) {
            MrzField::Name
        } else if within(self.document_number) {
            MrzField::DocumentNumber
        } else if pos == self.document_number_check {
            MrzField::CheckDigit(CheckField::DocumentNumber)
        } else if within(self.nationality) {
            MrzField::Nationality
        } else if within(self.birth_date) {
            MrzField::BirthDate
        } else if pos == self.birth_date_check {
            MrzField::CheckDigit(CheckField::BirthDate)
        } else if pos == self.sex {
            MrzField::Sex
        } else if within(self.expiry_date) {
            MrzField::ExpiryDate
        } else if pos == self.expiry_date_check {
            MrzField::CheckDigit(CheckField::ExpiryDate)
        } else if within(self.optional_data) {
            MrzField::OptionalData
        } else if Some(pos) == self.optional_data_check {
            MrzField::CheckDigit(CheckField::OptionalData)
        } else if self.optional_data_2.is_some_and(within) {
            MrzField::OptionalData2
        } else {
            MrzField::CheckDigit(CheckField::Composite)
        }
    }
}

const TD1_COMPOSITE: [Span; 4] = [
    Span::new(5, 25),
    Span::new(30, 7),
    Span::new(38, 7),
    Span::new(48, 11),
];

pub(crate) const TD1: Layout = Layout {
    format: MrzFormat::Td1,
    line_length: 30,
    document_code: Span::new(0, 2),
    issuing_state: Span::new(2, 3),
    document_number: Span::new(5, 9),
    document_number_check: 14,
    optional_data: Span::new(15, 15),
    birth_date: Span::new(30, 6),
    birth_date_check: 36,
    sex: 37,
    expiry_date: Span::new(38, 6),
    expiry_date_check: 44,
    nationality: Span::new(45, 3),
    optional_data_2: Some(Span::new(48, 11)),
    optional_data_check: None,
    composite: Some((&TD1_COMPOSITE, 59)),
    name: Span::new(60, 30),
};

const TD2_COMPOSITE: [Span; 3] = [Span::new(36, 10), Span::new(49, 7), Span::new(57, 14)];

pub(crate) const TD2: Layout = Layout {
    format: MrzFormat::Td2,
    line_length: 36,
    document_code: Span::new(0, 2),
    issuing_state: Span::new(2, 3),
    name: Span::new(5, 31),
    document_number: Span::new(36, 9),
    document_number_check: 45,
    nationality: Span::new(46, 3),
    birth_date: Span::new(49, 6),
    birth_date_check: 55,
    sex: 56,
    expiry_date: Span::new(57, 6),
    expiry_date_check: 63,
    optional_data: Span::new(64, 7),
    optional_data_check: None,
    optional_data_2: None,
    composite: Some((&TD2_COMPOSITE, 71)),
};

const TD3_COMPOSITE: [Span; 3] = [Span::new(44, 10), Span::new(57, 7), Span::new(65, 22)];

pub(crate) const TD3: Layout = Layout {
    format: MrzFormat::Td3,
    line_length: 44,
    document_code: Span::new(0, 2),
    issuing_state: Span::new(2, 3),
    name: Span::new(5, 39),
    document_number: Span::new(44, 9),
    document_number_check: 53,
    nationality: Span::new(54, 3),
    birth_date: Span::new(57, 6),
    birth_date_check: 63,
    sex: 64,
    expiry_date: Span::new(65, 6),
    expiry_date_check: 71,
    optional_data: Span::new(72, 14),
    optional_data_check: Some(86),
    optional_data_2: None,
    composite: Some((&TD3_COMPOSITE, 87)),
};

pub(crate) const MRVA: Layout = Layout {
    format: MrzFormat::MrvA,
    optional_data: Span::new(72, 16),
    optional_data_check: None,
    composite: None,
    ..TD3
};

pub(crate) const MRVB: Layout = Layout {
    format: MrzFormat::MrvB,
    optional_data: Span::new(64, 8),
    composite: None,
    ..TD2
};

#[cfg(test)]
mod tests {
    use super::*;

    /// Every position of every layout belongs to exactly one field, and the spans tile the
    /// lines without overlap.
    #[test]
    fn layouts_cover_every_position_exactly_once() {
        for format in MrzFormat::ALL {
            let l = format.layout();
            let mut owners = vec![0u8; l.total_len()];
            let mut mark = |r: Range<usize>| r.for_each(|i| owners[i] += 1);
            for s in [
                l.document_code,
                l.issuing_state,
                l.name,
                l.document_number,
                l.nationality,
                l.birth_date,
                l.expiry_date,
                l.optional_data,
            ] {
                mark(s.range());
            }
            for p in [
                l.document_number_check,
                l.birth_date_check,
                l.sex,
                l.expiry_date_check,
            ] {
                mark(p..p + 1);
            }
            if let Some(p) = l.optional_data_check {
                mark(p..p + 1);
            }
            if let Some(s) = l.optional_data_2 {
                mark(s.range());
            }
            if let Some((_, p)) = l.composite {
                mark(p..p + 1);
            }
            assert!(owners.iter().all(|&n| n == 1), "{format}: {owners:?}");
        }
    }

    #[test]
    fn visas_have_no_composite_and_the_others_do() {
        for format in MrzFormat::ALL {
            assert_eq!(format.layout().composite.is_none(), format.is_visa());
            assert_eq!(format.layout().format, format);
        }
    }

    #[test]
    fn formats_are_detected_from_shape_and_code() {
        assert_eq!(MrzFormat::detect(3, 30, b'I'), Some(MrzFormat::Td1));
        assert_eq!(MrzFormat::detect(2, 36, b'I'), Some(MrzFormat::Td2));
        assert_eq!(MrzFormat::detect(2, 36, b'V'), Some(MrzFormat::MrvB));
        assert_eq!(MrzFormat::detect(2, 44, b'P'), Some(MrzFormat::Td3));
        assert_eq!(MrzFormat::detect(2, 44, b'V'), Some(MrzFormat::MrvA));
        assert_eq!(MrzFormat::detect(2, 30, b'I'), None);
        assert_eq!(MrzFormat::detect(3, 44, b'P'), None);
    }
}
