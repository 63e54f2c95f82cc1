//! Dates as printed on identity documents: numeric (`12.01.1980`, `12/01/1980`, `01/12/1980`,
//! `1980-01-12`, `19800112`), with month names or abbreviations in several languages
//! (`12 JAN 1980`, `12 JANV/JAN 80`, `12. Januar 1980`, `12 de enero de 1980`, `JAN 12, 1980`),
//! two-digit years resolved against a reference date, and day/month order taken from the
//! issuing country.
//!
//! # Day/month ambiguity
//!
//! `03/04/1980` is 3 April in most of the world and 4 March in the United States. When the
//! order is known (from the issuing country or an explicit hint) that order is used. When it is
//! not known and both readings are valid and different, the parser does **not** guess: it
//! returns [`PrintedDate::Ambiguous`] with both readings, and the normaliser leaves the field
//! empty, records both readings and warns, so that a later cross-check against the MRZ (or a
//! human) can settle it. A reading is never ambiguous when the day is above 12 or day and month
//! are equal. When the order is known but only the other reading is a valid date (`13/04/1980`
//! on a US document), that reading is returned as [`PrintedDate::AgainstOrder`] so the caller
//! can lower its confidence.

use std::fmt;

use crate::model::Date;
use crate::text;

/// The longest text accepted as a date.
pub const MAX_DATE_LEN: usize = 64;

/// The order of day and month in numeric dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DateOrder {
    /// `DD.MM.YYYY` (most of the world).
    DayFirst,
    /// `MM/DD/YYYY` (United States and a few others).
    MonthFirst,
    /// `YY.MM.DD` when the year has two digits (China, Japan, Korea, Hungary, Lithuania…).
    /// Four-digit years in front are recognised whatever the order.
    YearFirst,
}

impl DateOrder {
    /// The order used on documents of an issuing country given by its alpha-3 code, when it is
    /// known to be consistent. `None` for countries whose documents mix orders (Canada).
    ///
    /// ```
    /// use kyc_core::document::DateOrder;
    /// assert_eq!(DateOrder::for_country("USA"), Some(DateOrder::MonthFirst));
    /// assert_eq!(DateOrder::for_country("DEU"), Some(DateOrder::DayFirst));
    /// assert_eq!(DateOrder::for_country("CAN"), None);
    /// ```
    pub fn for_country(alpha3: &str) -> Option<Self> {
        match alpha3 {
            // The United States, its territories and the states in free association with it,
            // and the Philippines print month first.
            "USA" | "ASM" | "GUM" | "MNP" | "PRI" | "VIR" | "UMI" | "FSM" | "MHL" | "PLW"
            | "PHL" => Some(Self::MonthFirst),
            "CHN" | "JPN" | "KOR" | "PRK" | "TWN" | "HUN" | "LTU" | "MNG" => Some(Self::YearFirst),
            // Canadian documents use several orders.
            "CAN" => None,
            _ => Some(Self::DayFirst),
        }
    }
}

/// What a date is for: decides how two-digit years are resolved and which readings are
/// plausible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateRole {
    /// A date in the past (birth): a two-digit year is put in the century that makes the date
    /// no later than the reference date.
    Past,
    /// A date that may lie in the future (expiry): a two-digit year is put within 50 years
    /// either side of the reference date.
    Future,
}

/// The result of reading a printed date.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrintedDate {
    /// Exactly one reading.
    Exact(Date),
    /// The expected day/month order gives an impossible date, the other order a valid one.
    AgainstOrder(Date),
    /// Day and month can be read both ways and nothing says which is meant.
    Ambiguous {
        /// The reading with the day first.
        day_first: Date,
        /// The reading with the month first.
        month_first: Date,
    },
}

impl PrintedDate {
    /// The date when there is exactly one reading (exact or against the expected order).
    pub fn single(self) -> Option<Date> {
        match self {
            Self::Exact(d) | Self::AgainstOrder(d) => Some(d),
            Self::Ambiguous { .. } => None,
        }
    }
}

impl fmt::Debug for PrintedDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Dates of birth are personal data.
        match self {
            Self::Exact(_) => f.write_str("Exact(<redacted>)"),
            Self::AgainstOrder(_) => f.write_str("AgainstOrder(<redacted>)"),
            Self::Ambiguous { .. } => f.write_str("Ambiguous(<redacted>)"),
        }
    }
}

/// Why a printed date could not be read. Never echoes the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// Nothing but whitespace and punctuation.
    #[error("date is empty")]
    Empty,
    /// Longer than [`MAX_DATE_LEN`].
    #[error("date is longer than {MAX_DATE_LEN} characters")]
    TooLong,
    /// A word that is not a month name in any known language.
    #[error("date contains a word that is not a month")]
    UnknownWord,
    /// Two month names that name different months.
    #[error("date names two different months")]
    ConflictingMonths,
    /// Not one of the recognised layouts.
    #[error("date is not in a recognised format")]
    Malformed,
    /// The layout is right but the day, month or year is impossible.
    #[error("date is out of range")]
    OutOfRange,
}

/// Reads a printed date.
///
/// `order` is the day/month order expected on the document (see [`DateOrder::for_country`]);
/// `reference` is "today" as given by the caller (two-digit years are resolved against it).
///
/// ```
/// use kyc_core::document::{parse_printed_date, DateOrder, DateRole, PrintedDate};
/// use kyc_core::model::Date;
/// let today = Date::from_ymd(2026, 1, 15).unwrap();
/// let d = |y, m, d| Date::from_ymd(y, m, d).unwrap();
/// let read = |s, o| parse_printed_date(s, DateRole::Past, o, today).unwrap();
/// assert_eq!(read("12.01.1980", Some(DateOrder::DayFirst)), PrintedDate::Exact(d(1980, 1, 12)));
/// assert_eq!(read("01/12/1980", Some(DateOrder::MonthFirst)), PrintedDate::Exact(d(1980, 1, 12)));
/// assert_eq!(read("12 JANV/JAN 80", None), PrintedDate::Exact(d(1980, 1, 12)));
/// assert_eq!(read("12. Januar 1980", None), PrintedDate::Exact(d(1980, 1, 12)));
/// assert_eq!(
///     read("03/04/1980", None),
///     PrintedDate::Ambiguous { day_first: d(1980, 4, 3), month_first: d(1980, 3, 4) },
/// );
/// ```
pub fn parse_printed_date(
    s: &str,
    role: DateRole,
    order: Option<DateOrder>,
    reference: Date,
) -> Result<PrintedDate, DateError> {
    if s.len() > MAX_DATE_LEN {
        return Err(DateError::TooLong);
    }
    let tokens = tokenize(s)?;
    let mut numbers: Vec<&str> = Vec::with_capacity(3);
    let mut month: Option<u8> = None;
    let mut previous_was_number = false;
    for tok in &tokens {
        match tok {
            Token::Number(n) => {
                numbers.push(n);
                previous_was_number = true;
            }
            Token::Word(w) => {
                if let Some(m) = month_number(w) {
                    match month {
                        Some(seen) if seen != m => return Err(DateError::ConflictingMonths),
                        _ => month = Some(m),
                    }
                } else if !(is_filler(w) || previous_was_number && is_ordinal_suffix(w)) {
                    return Err(DateError::UnknownWord);
                }
                previous_was_number = false;
            }
        }
    }
    if numbers.is_empty() && month.is_none() {
        return Err(DateError::Empty);
    }
    let reading = match month {
        Some(m) => named_month(&numbers, m)?,
        None => numeric(&numbers, order)?,
    };
    reading.resolve(role, order, reference)
}

/// Reads a date at the start of `s` followed by other text, as in "date and place of birth"
/// fields (`12.01.1980 PARIS`). Returns the date and the rest of the text, trimmed (possibly
/// empty), or `None` when no leading run of at most five words is a date.
pub fn parse_leading_date(
    s: &str,
    role: DateRole,
    order: Option<DateOrder>,
    reference: Date,
) -> Option<(PrintedDate, &str)> {
    let s = s.trim();
    // Byte offsets where each of the first words ends.
    let mut ends = Vec::with_capacity(6);
    let mut in_word = false;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if in_word {
                ends.push(i);
                if ends.len() == 5 {
                    break;
                }
            }
            in_word = false;
        } else {
            in_word = true;
        }
    }
    if in_word && ends.len() < 5 {
        ends.push(s.len());
    }
    for &end in ends.iter().rev() {
        let (head, rest) = s.split_at(end);
        if let Ok(d) = parse_printed_date(head, role, order, reference) {
            return Some((d, rest.trim()));
        }
    }
    None
}

/// The layouts [`format_date`] can print; every one of them is read back by
/// [`parse_printed_date`] (two-digit years within the window of the role).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateFormat {
    /// `1980-01-12`.
    Iso,
    /// `12.01.1980`.
    DotsDayMonthYear,
    /// `12/01/1980`.
    SlashesDayMonthYear,
    /// `01/12/1980`.
    SlashesMonthDayYear,
    /// `12.01.80`.
    DotsDayMonthShortYear,
    /// `19800112`.
    Compact,
    /// `12 JAN 1980`.
    DayMonthAbbrevYear,
    /// `12 JAN/JAN 80` (British passports: two languages, two-digit year).
    DayBilingualMonthShortYear,
    /// `12 JANV/JAN 1980` (French passports).
    DayFrenchEnglishMonthYear,
    /// `12. Januar 1980`.
    GermanLong,
    /// `12 de enero de 1980`.
    SpanishLong,
    /// `January 12, 1980`.
    EnglishMonthDayYear,
}

impl DateFormat {
    /// Every layout.
    pub const ALL: [DateFormat; 12] = [
        Self::Iso,
        Self::DotsDayMonthYear,
        Self::SlashesDayMonthYear,
        Self::SlashesMonthDayYear,
        Self::DotsDayMonthShortYear,
        Self::Compact,
        Self::DayMonthAbbrevYear,
        Self::DayBilingualMonthShortYear,
        Self::DayFrenchEnglishMonthYear,
        Self::GermanLong,
        Self::SpanishLong,
        Self::EnglishMonthDayYear,
    ];

    /// The day/month order a reader must expect to read this layout back unambiguously.
    pub fn order(self) -> DateOrder {
        match self {
            Self::SlashesMonthDayYear => DateOrder::MonthFirst,
            _ => DateOrder::DayFirst,
        }
    }

    /// Whether the layout prints only two digits of the year.
    pub fn has_short_year(self) -> bool {
        matches!(
            self,
            Self::DotsDayMonthShortYear | Self::DayBilingualMonthShortYear
        )
    }
}

const EN_ABBREV: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const FR_ABBREV: [&str; 12] = [
    "JANV", "FÉVR", "MARS", "AVR", "MAI", "JUIN", "JUIL", "AOÛT", "SEPT", "OCT", "NOV", "DÉC",
];
const DE_LONG: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const ES_LONG: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];
const EN_LONG: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Prints `date` in one of the layouts found on documents.
///
/// ```
/// use kyc_core::document::{format_date, DateFormat};
/// use kyc_core::model::Date;
/// let d = Date::from_ymd(1980, 1, 12).unwrap();
/// assert_eq!(format_date(d, DateFormat::DayBilingualMonthShortYear), "12 JAN/JAN 80");
/// assert_eq!(format_date(d, DateFormat::SlashesMonthDayYear), "01/12/1980");
/// ```
pub fn format_date(date: Date, format: DateFormat) -> String {
    let (y, m, d) = (date.year(), date.month(), date.day());
    let mi = usize::from(m.saturating_sub(1)).min(11);
    match format {
        DateFormat::Iso => date.to_string(),
        DateFormat::DotsDayMonthYear => format!("{d:02}.{m:02}.{y:04}"),
        DateFormat::SlashesDayMonthYear => format!("{d:02}/{m:02}/{y:04}"),
        DateFormat::SlashesMonthDayYear => format!("{m:02}/{d:02}/{y:04}"),
        DateFormat::DotsDayMonthShortYear => format!("{d:02}.{m:02}.{:02}", y % 100),
        DateFormat::Compact => format!("{y:04}{m:02}{d:02}"),
        DateFormat::DayMonthAbbrevYear => format!("{d:02} {} {y:04}", EN_ABBREV[mi]),
        DateFormat::DayBilingualMonthShortYear => {
            format!("{d:02} {}/{} {:02}", EN_ABBREV[mi], EN_ABBREV[mi], y % 100)
        }
        DateFormat::DayFrenchEnglishMonthYear => {
            format!("{d:02} {}/{} {y:04}", FR_ABBREV[mi], EN_ABBREV[mi])
        }
        DateFormat::GermanLong => format!("{d}. {} {y:04}", DE_LONG[mi]),
        DateFormat::SpanishLong => format!("{d} de {} de {y:04}", ES_LONG[mi]),
        DateFormat::EnglishMonthDayYear => format!("{} {d}, {y:04}", EN_LONG[mi]),
    }
}

enum Token {
    Number(String),
    Word(String),
}

fn tokenize(s: &str) -> Result<Vec<Token>, DateError> {
    let folded = text::fold(s);
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut current_is_digit = false;
    let flush = |cur: &mut String, is_digit: bool, tokens: &mut Vec<Token>| {
        if !cur.is_empty() {
            let t = std::mem::take(cur);
            tokens.push(if is_digit {
                Token::Number(t)
            } else {
                Token::Word(t)
            });
        }
    };
    for c in folded.chars() {
        let class = if c.is_ascii_digit() {
            Some(true)
        } else if c.is_alphabetic() {
            Some(false)
        } else {
            None
        };
        match class {
            Some(is_digit) => {
                if !current.is_empty() && is_digit != current_is_digit {
                    flush(&mut current, current_is_digit, &mut tokens);
                }
                current_is_digit = is_digit;
                current.push(c);
            }
            None => flush(&mut current, current_is_digit, &mut tokens),
        }
        if tokens.len() > 10 {
            return Err(DateError::Malformed);
        }
    }
    flush(&mut current, current_is_digit, &mut tokens);
    if tokens.is_empty() {
        return Err(DateError::Empty);
    }
    Ok(tokens)
}

/// Month names and abbreviations, folded (uppercase, no diacritics), month by month: English,
/// French, German, Spanish, Italian, Portuguese, Dutch, Scandinavian, Polish (nominative and
/// genitive).
#[rustfmt::skip]
const MONTHS: [&[&str]; 12] = [
    &["JAN", "JANUARY", "JANV", "JANVIER", "JANUAR", "JANNER", "ENE", "ENERO", "GEN", "GENNAIO",
      "JANEIRO", "JANUARI", "STY", "STYCZEN", "STYCZNIA"],
    &["FEB", "FEBRUARY", "FEV", "FEVR", "FEVRIER", "FEBRUAR", "FEBRERO", "FEBBRAIO", "FEVEREIRO",
      "FEBRUARI", "LUT", "LUTY", "LUTEGO"],
    &["MAR", "MARCH", "MARS", "MARZ", "MAERZ", "MARZO", "MARCO", "MAART", "MRT", "MARZEC",
      "MARCA"],
    &["APR", "APRIL", "AVR", "AVRIL", "ABR", "ABRIL", "APRILE", "KWI", "KWIECIEN", "KWIETNIA"],
    &["MAY", "MAI", "MAYO", "MAG", "MAGGIO", "MAIO", "MEI", "MAJ", "MAJA"],
    &["JUN", "JUNE", "JUIN", "JUNI", "JUNIO", "GIU", "GIUGNO", "JUNHO", "CZE", "CZERWIEC",
      "CZERWCA"],
    &["JUL", "JULY", "JUIL", "JUILLET", "JULI", "JULIO", "LUG", "LUGLIO", "JULHO", "LIP", "LIPIEC",
      "LIPCA"],
    &["AUG", "AUGUST", "AOUT", "AGO", "AGOSTO", "AUGUSTUS", "SIE", "SIERPIEN", "SIERPNIA"],
    &["SEP", "SEPT", "SEPTEMBER", "SEPTEMBRE", "SEPTIEMBRE", "SET", "SETTEMBRE", "SETEMBRO", "WRZ",
      "WRZESIEN", "WRZESNIA"],
    &["OCT", "OCTOBER", "OCTOBRE", "OCTUBRE", "OKT", "OKTOBER", "OTT", "OTTOBRE", "OUT", "OUTUBRO",
      "PAZ", "PAZDZIERNIK", "PAZDZIERNIKA"],
    &["NOV", "NOVEMBER", "NOVEMBRE", "NOVIEMBRE", "NOVEMBRO", "LIS", "LISTOPAD", "LISTOPADA"],
    &["DEC", "DECEMBER", "DECEMBRE", "DEZ", "DEZEMBER", "DIC", "DICIEMBRE", "DICEMBRE", "DEZEMBRO",
      "DES", "DESEMBER", "GRU", "GRUDZIEN", "GRUDNIA"],
];

fn month_number(word: &str) -> Option<u8> {
    (1u8..)
        .zip(MONTHS)
        .find(|(_, names)| names.contains(&word))
        .map(|(m, _)| m)
}

/// Words that may sit between the parts of a date ("12 de enero de 1980", "the 12th of").
fn is_filler(word: &str) -> bool {
    matches!(
        word,
        "DE" | "DEL" | "OF" | "THE" | "LE" | "AM" | "IL" | "EL" | "DO" | "DI"
    )
}

fn is_ordinal_suffix(word: &str) -> bool {
    matches!(word, "ST" | "ND" | "RD" | "TH" | "ER")
}

/// A year as printed: four digits, or two to be resolved.
#[derive(Clone, Copy)]
enum Year {
    Full(u16),
    Short(u16),
}

/// Day/month/year components before validation.
enum Raw {
    /// One reading.
    One { year: Year, month: u16, day: u16 },
    /// Day and month could be either way round: `(a, b)` as printed, `a` first.
    Swappable { year: Year, a: u16, b: u16 },
}

fn number(s: &str, max_len: usize) -> Result<u16, DateError> {
    if s.is_empty() || s.len() > max_len {
        return Err(DateError::Malformed);
    }
    s.parse::<u16>().map_err(|_| DateError::Malformed)
}

fn year_token(s: &str) -> Result<Year, DateError> {
    match s.len() {
        4 => Ok(Year::Full(number(s, 4)?)),
        2 => Ok(Year::Short(number(s, 2)?)),
        _ => Err(DateError::Malformed),
    }
}

fn named_month(numbers: &[&str], month: u8) -> Result<Raw, DateError> {
    let [a, b] = numbers else {
        return Err(DateError::Malformed);
    };
    let (day, year) = if a.len() == 4 { (b, a) } else { (a, b) };
    Ok(Raw::One {
        year: year_token(year)?,
        month: u16::from(month),
        day: number(day, 2)?,
    })
}

fn numeric(numbers: &[&str], order: Option<DateOrder>) -> Result<Raw, DateError> {
    let split;
    let numbers: &[&str] = match numbers {
        [compact] if compact.len() == 8 => {
            let (y, rest) = compact.split_at(4);
            let (m, d) = rest.split_at(2);
            let (yv, mv, dv) = (number(y, 4)?, number(m, 2)?, number(d, 2)?);
            if (1800..=2199).contains(&yv) && (1..=12).contains(&mv) && (1..=31).contains(&dv) {
                return Ok(Raw::One {
                    year: Year::Full(yv),
                    month: mv,
                    day: dv,
                });
            }
            let (a, rest) = compact.split_at(2);
            let (b, y) = rest.split_at(2);
            split = [a, b, y];
            &split
        }
        other => other,
    };
    let [a, b, c] = numbers else {
        return Err(DateError::Malformed);
    };
    let year_first = a.len() == 4
        || (a.len() <= 2 && c.len() <= 2 && order == Some(DateOrder::YearFirst))
        || (a.len() == 2 && c.len() <= 2 && number(a, 2)? > 31);
    if year_first {
        if b.len() > 2 || c.len() > 2 {
            return Err(DateError::Malformed);
        }
        return Ok(Raw::One {
            year: year_token(a)?,
            month: number(b, 2)?,
            day: number(c, 2)?,
        });
    }
    Ok(Raw::Swappable {
        year: year_token(c)?,
        a: number(a, 2)?,
        b: number(b, 2)?,
    })
}

fn build(year: Year, month: u16, day: u16, role: DateRole, reference: Date) -> Option<Date> {
    let (month, day) = (u8::try_from(month).ok()?, u8::try_from(day).ok()?);
    match year {
        Year::Full(y) => Date::from_ymd(y, month, day).ok(),
        Year::Short(yy) => {
            let century = reference.year() / 100 * 100;
            let this = century + yy;
            match role {
                DateRole::Past => {
                    // The latest century that does not put the date after the reference.
                    match Date::from_ymd(this, month, day) {
                        Ok(d) if d <= reference => Some(d),
                        _ => Date::from_ymd(this.checked_sub(100)?, month, day).ok(),
                    }
                }
                DateRole::Future => {
                    let ry = reference.year();
                    let y = if this > ry.saturating_add(50) {
                        this.checked_sub(100)?
                    } else if this.saturating_add(50) <= ry {
                        this + 100
                    } else {
                        this
                    };
                    Date::from_ymd(y, month, day).ok()
                }
            }
        }
    }
}

impl Raw {
    fn resolve(
        self,
        role: DateRole,
        order: Option<DateOrder>,
        reference: Date,
    ) -> Result<PrintedDate, DateError> {
        match self {
            Raw::One { year, month, day } => build(year, month, day, role, reference)
                .map(PrintedDate::Exact)
                .ok_or(DateError::OutOfRange),
            Raw::Swappable { year, a, b } => {
                let day_first = build(year, b, a, role, reference);
                let month_first = build(year, a, b, role, reference);
                let result = match (order, day_first, month_first) {
                    (_, None, None) => return Err(DateError::OutOfRange),
                    (Some(DateOrder::DayFirst), Some(d), _)
                    | (Some(DateOrder::MonthFirst), _, Some(d)) => PrintedDate::Exact(d),
                    (Some(DateOrder::DayFirst), None, Some(d))
                    | (Some(DateOrder::MonthFirst), Some(d), None) => PrintedDate::AgainstOrder(d),
                    (_, Some(d), None) | (_, None, Some(d)) => PrintedDate::Exact(d),
                    (_, Some(d1), Some(d2)) if d1 == d2 => PrintedDate::Exact(d1),
                    (_, Some(day_first), Some(month_first)) => PrintedDate::Ambiguous {
                        day_first,
                        month_first,
                    },
                };
                Ok(result)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> Date {
        Date::from_ymd(2026, 1, 15).unwrap()
    }

    fn d(y: u16, m: u8, day: u8) -> Date {
        Date::from_ymd(y, m, day).unwrap()
    }

    fn past(s: &str, order: Option<DateOrder>) -> Result<PrintedDate, DateError> {
        parse_printed_date(s, DateRole::Past, order, today())
    }

    fn future(s: &str, order: Option<DateOrder>) -> Result<PrintedDate, DateError> {
        parse_printed_date(s, DateRole::Future, order, today())
    }

    #[test]
    fn numeric_dates_follow_the_expected_order() {
        let day_first = Some(DateOrder::DayFirst);
        let month_first = Some(DateOrder::MonthFirst);
        assert_eq!(
            past("03.04.1980", day_first),
            Ok(PrintedDate::Exact(d(1980, 4, 3)))
        );
        assert_eq!(
            past("03/04/1980", month_first),
            Ok(PrintedDate::Exact(d(1980, 3, 4)))
        );
        assert_eq!(
            past("03-04-1980", day_first),
            Ok(PrintedDate::Exact(d(1980, 4, 3)))
        );
        assert_eq!(
            past("1980-04-03", month_first),
            Ok(PrintedDate::Exact(d(1980, 4, 3)))
        );
        assert_eq!(
            past("1980.04.03.", None),
            Ok(PrintedDate::Exact(d(1980, 4, 3)))
        );
        assert_eq!(
            past("19800403", None),
            Ok(PrintedDate::Exact(d(1980, 4, 3)))
        );
        assert_eq!(
            past("03041980", day_first),
            Ok(PrintedDate::Exact(d(1980, 4, 3)))
        );
    }

    #[test]
    fn day_month_ambiguity_without_an_order_keeps_both_readings() {
        assert_eq!(
            past("03/04/1980", None),
            Ok(PrintedDate::Ambiguous {
                day_first: d(1980, 4, 3),
                month_first: d(1980, 3, 4)
            })
        );
        // Unambiguous when the day is above 12 or both parts are equal.
        assert_eq!(
            past("13/04/1980", None),
            Ok(PrintedDate::Exact(d(1980, 4, 13)))
        );
        assert_eq!(
            past("04/13/1980", None),
            Ok(PrintedDate::Exact(d(1980, 4, 13)))
        );
        assert_eq!(
            past("05/05/1980", None),
            Ok(PrintedDate::Exact(d(1980, 5, 5)))
        );
    }

    #[test]
    fn a_date_that_only_reads_against_the_expected_order_is_flagged() {
        assert_eq!(
            past("13/04/1980", Some(DateOrder::MonthFirst)),
            Ok(PrintedDate::AgainstOrder(d(1980, 4, 13)))
        );
        assert_eq!(
            past("04/13/1980", Some(DateOrder::DayFirst)),
            Ok(PrintedDate::AgainstOrder(d(1980, 4, 13)))
        );
        assert_eq!(past("13/13/1980", None), Err(DateError::OutOfRange));
    }

    #[test]
    fn month_names_in_several_languages_are_read() {
        let cases = [
            "12 JAN 1980",
            "12 JAN/JAN 80",
            "12 JANV/JAN 1980",
            "12 janv. 1980",
            "12 janvier 1980",
            "12. Januar 1980",
            "12 Jänner 1980",
            "12 de enero de 1980",
            "12 GEN 1980",
            "12 gennaio 1980",
            "12 januari 1980",
            "12 de janeiro de 1980",
            "12 stycznia 1980",
            "January 12, 1980",
            "JAN 12 1980",
            "12th of January 1980",
            "1980 JAN 12",
            "12-JAN-1980",
            "12JAN1980",
        ];
        for s in cases {
            assert_eq!(past(s, None), Ok(PrintedDate::Exact(d(1980, 1, 12))), "{s}");
        }
        let others = [
            ("3 MRT 1980", d(1980, 3, 3)),
            ("3 MÄR 1980", d(1980, 3, 3)),
            ("3 März 1980", d(1980, 3, 3)),
            ("3 MAI 1980", d(1980, 5, 3)),
            ("3 OKT 1980", d(1980, 10, 3)),
            ("3 DEZ 1980", d(1980, 12, 3)),
            ("3 DIC 1980", d(1980, 12, 3)),
            ("3 ENE 1980", d(1980, 1, 3)),
            ("3 AOÛT 1980", d(1980, 8, 3)),
            ("3 FÉVR. 1980", d(1980, 2, 3)),
            ("1er mai 1980", d(1980, 5, 1)),
        ];
        for (s, want) in others {
            assert_eq!(past(s, None), Ok(PrintedDate::Exact(want)), "{s}");
        }
    }

    #[test]
    fn bad_dates_are_refused_with_a_reason() {
        assert_eq!(past("", None), Err(DateError::Empty));
        assert_eq!(past(" ./- ", None), Err(DateError::Empty));
        assert_eq!(past("12 FOO 1980", None), Err(DateError::UnknownWord));
        assert_eq!(
            past("12 JAN/FEB 1980", None),
            Err(DateError::ConflictingMonths)
        );
        assert_eq!(past("31 FEB 1980", None), Err(DateError::OutOfRange));
        assert_eq!(past("12 1980", None), Err(DateError::Malformed));
        assert_eq!(past("1/2/3/4", None), Err(DateError::Malformed));
        assert_eq!(past("12/01/198", None), Err(DateError::Malformed));
        assert_eq!(past(&"1".repeat(65), None), Err(DateError::TooLong));
        assert_eq!(past("120180", None), Err(DateError::Malformed));
    }

    #[test]
    fn two_digit_years_depend_on_the_role() {
        // Birth: never after the reference date.
        let dm = Some(DateOrder::DayFirst);
        assert_eq!(past("12.01.80", dm), Ok(PrintedDate::Exact(d(1980, 1, 12))));
        assert_eq!(past("14.01.26", dm), Ok(PrintedDate::Exact(d(2026, 1, 14))));
        assert_eq!(past("16.01.26", dm), Ok(PrintedDate::Exact(d(1926, 1, 16))));
        // Expiry: within fifty years either side.
        assert_eq!(
            future("16.01.26", dm),
            Ok(PrintedDate::Exact(d(2026, 1, 16)))
        );
        assert_eq!(
            future("01.01.35", dm),
            Ok(PrintedDate::Exact(d(2035, 1, 1)))
        );
        assert_eq!(
            future("01.01.80", dm),
            Ok(PrintedDate::Exact(d(1980, 1, 1)))
        );
        assert_eq!(
            future("01.01.76", dm),
            Ok(PrintedDate::Exact(d(2076, 1, 1)))
        );
        // Year first when the first part cannot be a day, or when the country says so.
        assert_eq!(
            past("80.01.12", None),
            Ok(PrintedDate::Exact(d(1980, 1, 12)))
        );
        assert_eq!(
            past("12.01.10", Some(DateOrder::YearFirst)),
            Ok(PrintedDate::Exact(d(2012, 1, 10)))
        );
    }

    #[test]
    fn a_leading_date_is_split_from_the_place_that_follows() {
        let (date, rest) = parse_leading_date(
            "13.01.1980 SAINT-ÉTIENNE (42)",
            DateRole::Past,
            None,
            today(),
        )
        .unwrap();
        assert_eq!(date, PrintedDate::Exact(d(1980, 1, 13)));
        assert_eq!(rest, "SAINT-ÉTIENNE (42)");
        let (date, rest) =
            parse_leading_date("12 JAN 1980 PARIS", DateRole::Past, None, today()).unwrap();
        assert_eq!(date, PrintedDate::Exact(d(1980, 1, 12)));
        assert_eq!(rest, "PARIS");
        let (_, rest) = parse_leading_date("12.01.1980", DateRole::Past, None, today()).unwrap();
        assert_eq!(rest, "");
        assert!(parse_leading_date("PARIS 12.01.1980", DateRole::Past, None, today()).is_none());
    }

    #[test]
    fn debug_of_a_printed_date_is_redacted() {
        let dbg = format!("{:?}", PrintedDate::Exact(d(1980, 1, 12)));
        assert!(!dbg.contains("1980"), "{dbg}");
    }

    #[test]
    fn no_month_word_names_two_months() {
        for (i, names) in MONTHS.iter().enumerate() {
            for n in *names {
                assert_eq!(month_number(n), Some(i as u8 + 1), "{n}");
                assert_eq!(text::fold(n), *n, "{n} is stored folded");
            }
        }
        for (i, n) in EN_ABBREV
            .iter()
            .chain(&FR_ABBREV)
            .chain(&DE_LONG)
            .chain(&ES_LONG)
            .chain(&EN_LONG)
            .enumerate()
        {
            assert_eq!(
                month_number(&text::fold(n)),
                Some((i % 12) as u8 + 1),
                "{n}"
            );
        }
    }

    #[test]
    fn countries_give_the_order() {
        assert_eq!(DateOrder::for_country("PHL"), Some(DateOrder::MonthFirst));
        assert_eq!(DateOrder::for_country("FRA"), Some(DateOrder::DayFirst));
        assert_eq!(DateOrder::for_country("JPN"), Some(DateOrder::YearFirst));
    }

    fn any_date() -> impl Strategy<Value = Date> {
        // 1900-01-01 ..= 2099-12-31
        (-25_567i64..47_482).prop_map(|n| Date::from_days_since_epoch(n).unwrap())
    }

    proptest! {
        #[test]
        fn every_printed_format_reads_back(date in any_date(), fi in 0usize..DateFormat::ALL.len()) {
            let format = DateFormat::ALL[fi];
            let reference = today();
            let printed = format_date(date, format);
            for role in [DateRole::Past, DateRole::Future] {
                // Two-digit years only read back inside the window of the role.
                let in_window = match role {
                    DateRole::Past => date <= reference
                        && date > Date::from_ymd(reference.year() - 100, reference.month(), reference.day()).unwrap(),
                    DateRole::Future => date.year() + 50 > reference.year()
                        && date.year() <= reference.year() + 50,
                };
                if format.has_short_year() && !in_window {
                    continue;
                }
                let read = parse_printed_date(&printed, role, Some(format.order()), reference);
                prop_assert_eq!(read, Ok(PrintedDate::Exact(date)), "{} {:?}", printed, format);
            }
        }

        #[test]
        fn the_date_parser_never_panics(s in "\\PC{0,80}", o in 0usize..4) {
            let order = [None, Some(DateOrder::DayFirst), Some(DateOrder::MonthFirst), Some(DateOrder::YearFirst)][o];
            let _ = parse_printed_date(&s, DateRole::Past, order, today());
            let _ = parse_printed_date(&s, DateRole::Future, order, today());
            let _ = parse_leading_date(&s, DateRole::Past, order, today());
        }

        #[test]
        fn digit_soup_never_panics(s in "[0-9 ./-]{0,24}") {
            let _ = parse_printed_date(&s, DateRole::Future, None, Date::from_ymd(9999, 12, 31).unwrap());
            let _ = parse_printed_date(&s, DateRole::Past, None, Date::from_ymd(1, 1, 1).unwrap());
        }
    }
}
