//! Tolerant parsing of OCR output: find the MRZ lines among other text, repair their length and
//! the characters whose class the position dictates, then let the check digits decide between
//! the plausible OCR confusions. The steps are described in the `mrz` module documentation
//! ("Tolerant mode"); every reading returned passes every check digit.

use serde::Serialize;

use super::check::is_mrz_char;
use super::layout::{CharClass, Layout, Span};
use super::record::{check_one, number_parts};
use super::{strict, CheckField, MrzError, MrzField, MrzFormat, MrzRecord};
use crate::model::Date;

/// The largest text [`parse_tolerant`] accepts, in bytes (a full page of OCR text is far less).
pub const MAX_TOLERANT_INPUT: usize = 256 * 1024;

/// What cleaning turns a character that is no MRZ character into.
const UNREADABLE: u8 = b'?';
/// How far a line's length may be from its format's and still be repaired.
const LENGTH_SLACK: usize = 3;
/// How many windows of lines are tried.
const MAX_WINDOWS: usize = 8;
/// How many combinations of line-length repairs are tried per window.
const MAX_LENGTH_COMBOS: usize = 32;
/// How many variants of one field are evaluated, and how many passing ones are kept.
const MAX_FIELD_EVALS: usize = 20_000;
const MAX_FIELD_VARIANTS: usize = 64;
/// How many combinations of field variants are evaluated against the composite.
const MAX_COMBOS: usize = 4096;
/// How many check evaluations one call may spend in all (bounds the time hostile input takes).
const EVALUATION_BUDGET: usize = 400_000;
/// How many passing readings are returned at most.
const MAX_CANDIDATES: usize = 64;
/// The longest stray prefix or suffix cut off at an unreadable mark.
const MAX_STRAY: usize = 6;

/// The kind of a tolerant-mode correction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CorrectionKind {
    /// A filler inserted or removed, or a stray character dropped at a line end, to give the
    /// line its length. The position is where the line changed.
    LineLength,
    /// A character replaced by its look-alike of the class the position requires (`O`→`0` in
    /// a date, `0`→`O` in a name).
    CharacterClass,
    /// `K`, `X` or `C` in a run of fillers read as `<`.
    Filler,
    /// A character changed because the check digits proved the reading wrong and the change
    /// makes them pass.
    CheckDigit,
    /// An unreadable character where no check digit applies, replaced by `<`.
    Unreadable,
}

/// One change tolerant mode made: where and why, never which characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Correction {
    /// The field the position belongs to.
    pub field: MrzField,
    /// The line (from 1).
    pub line: usize,
    /// The position in the line (from 1).
    pub position: usize,
    /// Why the character changed.
    pub kind: CorrectionKind,
}

/// One reading of the zone with the corrections that led to it.
///
/// `Debug` is redacting: the record shows only its format and checks.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The reading.
    pub record: MrzRecord,
    /// Every change made to the OCR text, in position order.
    pub corrections: Vec<Correction>,
}

/// The result of [`parse_tolerant`].
///
/// Either `candidates` holds every reading whose check digits all pass (fewest check-digit
/// corrections first) and `best_effort` is `None`, or no reading passes, `candidates` is
/// empty and `best_effort` holds the reading after the safe repairs, its failing checks marked.
#[derive(Clone, Debug, PartialEq)]
pub struct TolerantParse {
    /// Every reading that passes every check digit. Never one that fails a check.
    pub candidates: Vec<Candidate>,
    /// More than one reading passes: the caller must not pick one blindly.
    pub ambiguous: bool,
    /// When nothing passes: the best reading, with failing checks.
    pub best_effort: Option<Candidate>,
    /// The search hit one of its bounds: there may be passing readings that were not tried.
    pub truncated: bool,
}

impl TolerantParse {
    /// The one passing reading, when there is exactly one.
    pub fn unique(&self) -> Option<&MrzRecord> {
        match self.candidates.as_slice() {
            [one] => Some(&one.record),
            _ => None,
        }
    }

    /// The issuing state every passing reading agrees on (`None` when nothing passes, a
    /// reading has no issuing state, or the readings disagree). Readers use it to pick the
    /// date order of the printed fields before the MRZ itself is settled.
    pub fn agreed_issuing_state(&self) -> Option<crate::model::CountryCode> {
        let mut states = self
            .candidates
            .iter()
            .map(|c| c.record.document_fields().issuing_state.map(|f| f.value));
        let first = states.next()??;
        states.all(|s| s == Some(first)).then_some(first)
    }
}

/// Reads an MRZ from OCR text (lines separated by line breaks, other text around them allowed),
/// repairing what the format and the check digits can prove. See the [`mrz`](super) module
/// documentation ("Tolerant mode") for the steps and [`TolerantParse`] for the result.
///
/// Errors: [`MrzError::Empty`] for blank text, [`MrzError::InputTooLarge`] above
/// [`MAX_TOLERANT_INPUT`], [`MrzError::NotFound`] when no group of lines looks like an MRZ.
///
/// ```
/// use kyc_core::model::Date;
/// let ocr = "PASSPORT  PASSEPORT\n\
///            P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<< \n\
///            L898902C36UT07408122F12O4159ZE184226B<<<<<1O |\n";
/// let read = kyc_core::mrz::parse_tolerant(ocr, Date::parse("2010-01-01").unwrap()).unwrap();
/// let record = read.unique().unwrap();
/// assert!(record.is_valid());
/// assert_eq!(record.nationality(), "UTO");
/// assert_eq!(record.expiry_date().unwrap().to_string(), "2012-04-15");
/// ```
pub fn parse_tolerant(text: &str, reference: Date) -> Result<TolerantParse, MrzError> {
    if text.len() > MAX_TOLERANT_INPUT {
        return Err(MrzError::InputTooLarge {
            max_bytes: MAX_TOLERANT_INPUT,
        });
    }
    if text.trim().is_empty() {
        return Err(MrzError::Empty);
    }
    let lines: Vec<OcrLine> = text.lines().filter_map(OcrLine::clean).collect();
    let windows = find_windows(&lines);
    if windows.is_empty() {
        return Err(MrzError::NotFound);
    }
    let mut fallback: Option<Outcome> = None;
    let mut budget = Budget(EVALUATION_BUDGET);
    for window in &windows {
        let mut outcome = read_window(&lines, window, reference, &mut budget);
        if budget.0 == 0 {
            outcome.truncated = true;
        }
        if !outcome.candidates.is_empty() {
            return Ok(outcome.finish());
        }
        let better = match (&fallback, &outcome.best_effort) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(f), Some((fails, _))) => f.best_effort.as_ref().is_none_or(|(g, _)| fails < g),
        };
        if better {
            fallback = Some(outcome);
        }
    }
    match fallback {
        Some(outcome) => Ok(outcome.finish()),
        None => Err(MrzError::NotFound),
    }
}

/// [`parse_tolerant`] over lines given separately.
pub fn parse_tolerant_lines<S: AsRef<str>>(
    lines: &[S],
    reference: Date,
) -> Result<TolerantParse, MrzError> {
    let mut text = String::new();
    for l in lines {
        text.push_str(l.as_ref());
        text.push('\n');
        if text.len() > MAX_TOLERANT_INPUT {
            return Err(MrzError::InputTooLarge {
                max_bytes: MAX_TOLERANT_INPUT,
            });
        }
    }
    parse_tolerant(&text, reference)
}

/// One OCR line after cleaning: the whole line and the variants without a stray prefix or
/// suffix.
struct OcrLine {
    variants: Vec<Vec<u8>>,
}

impl OcrLine {
    fn clean(raw: &str) -> Option<Self> {
        let mut v = Vec::with_capacity(raw.len().min(64));
        for c in raw.chars() {
            if c.is_whitespace() {
                continue;
            }
            v.push(match c {
                'A'..='Z' | '0'..='9' | '<' => c as u8,
                'a'..='z' => c.to_ascii_uppercase() as u8,
                '«' | '‹' | '〈' | '＜' | '⟨' => b'<',
                _ => UNREADABLE,
            });
            if v.len() > 60 {
                return None; // far longer than any MRZ line
            }
        }
        let full = strip_unreadable(&v).to_vec();
        let front = cut_front(&full);
        let back = cut_back(&full);
        let both = front.as_deref().and_then(cut_back);
        let mut variants: Vec<Vec<u8>> = Vec::with_capacity(4);
        for v in [Some(full), front, back, both].into_iter().flatten() {
            if !v.is_empty() && !variants.contains(&v) {
                variants.push(v);
            }
        }
        let line = Self { variants };
        line.looks_like_mrz().then_some(line)
    }

    fn looks_like_mrz(&self) -> bool {
        self.variants.iter().any(|v| {
            let fillers = v.iter().filter(|&&c| c == b'<').count();
            let digits = v.iter().filter(|c| c.is_ascii_digit()).count();
            let unreadable = v.iter().filter(|&&c| c == UNREADABLE).count();
            (30 - LENGTH_SLACK..=44 + LENGTH_SLACK).contains(&v.len())
                && unreadable <= 4
                && (fillers >= 1 || digits >= 6)
        })
    }

    /// The variant closest in length to `len`, when it is within the slack.
    fn fitting(&self, len: usize) -> Option<&[u8]> {
        self.variants
            .iter()
            .filter(|v| v.len().abs_diff(len) <= LENGTH_SLACK)
            .min_by_key(|v| v.len().abs_diff(len))
            .map(Vec::as_slice)
    }
}

/// `s` without a stray prefix of at most [`MAX_STRAY`] characters ending at an unreadable mark.
fn cut_front(s: &[u8]) -> Option<Vec<u8>> {
    let i = s
        .iter()
        .take(MAX_STRAY + 1)
        .position(|&c| c == UNREADABLE)?;
    Some(strip_unreadable(s.get(i..)?).to_vec())
}

/// `s` without a stray suffix of at most [`MAX_STRAY`] characters starting at an unreadable
/// mark.
fn cut_back(s: &[u8]) -> Option<Vec<u8>> {
    let i = s
        .iter()
        .rev()
        .take(MAX_STRAY + 1)
        .position(|&c| c == UNREADABLE)?;
    Some(strip_unreadable(s.get(..s.len().checked_sub(i + 1)?)?).to_vec())
}

fn strip_unreadable(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| c != UNREADABLE).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&c| c != UNREADABLE)
        .map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or(&[])
}

/// A group of consecutive MRZ-like lines and the line length they fit.
struct Window {
    first: usize,
    count: usize,
    length: usize,
}

fn find_windows(lines: &[OcrLine]) -> Vec<Window> {
    let mut out = Vec::new();
    for end in (0..lines.len()).rev() {
        let fits = |count: usize, length: usize| {
            end + 1 >= count
                && lines
                    .get(end + 1 - count..=end)
                    .is_some_and(|w| w.iter().all(|l| l.fitting(length).is_some()))
        };
        if fits(3, 30) {
            out.push(Window {
                first: end - 2,
                count: 3,
                length: 30,
            });
        }
        for length in [44, 36] {
            if fits(2, length) {
                out.push(Window {
                    first: end - 1,
                    count: 2,
                    length,
                });
            }
        }
        if out.len() >= MAX_WINDOWS {
            out.truncate(MAX_WINDOWS);
            break;
        }
    }
    out
}

/// A working copy of the zone: the concatenated lines and the corrections made so far
/// (absolute position, kind).
#[derive(Clone)]
struct Grid {
    layout: &'static Layout,
    bytes: Vec<u8>,
    fixes: Vec<(usize, CorrectionKind)>,
}

/// The passing readings of one window, or its best effort (number of failing checks, reading).
struct Outcome {
    candidates: Vec<Candidate>,
    best_effort: Option<(usize, Candidate)>,
    truncated: bool,
}

/// The check evaluations a call may still spend.
struct Budget(usize);

impl Budget {
    /// Takes one evaluation; `false` when none is left.
    fn spend(&mut self) -> bool {
        match self.0.checked_sub(1) {
            Some(left) => {
                self.0 = left;
                true
            }
            None => false,
        }
    }
}

impl Outcome {
    fn finish(mut self) -> TolerantParse {
        self.candidates.sort_by(|a, b| {
            let key = |c: &Candidate| {
                let searched = c
                    .corrections
                    .iter()
                    .filter(|k| k.kind == CorrectionKind::CheckDigit)
                    .count();
                (searched, c.corrections.len())
            };
            key(a)
                .cmp(&key(b))
                .then_with(|| a.record.lines().cmp(b.record.lines()))
        });
        let mut truncated = self.truncated;
        if self.candidates.len() > MAX_CANDIDATES {
            self.candidates.truncate(MAX_CANDIDATES);
            truncated = true;
        }
        let has_candidates = !self.candidates.is_empty();
        TolerantParse {
            ambiguous: self.candidates.len() > 1,
            candidates: self.candidates,
            best_effort: if has_candidates {
                None
            } else {
                self.best_effort.map(|(_, c)| c)
            },
            truncated,
        }
    }
}

fn read_window(
    lines: &[OcrLine],
    window: &Window,
    reference: Date,
    budget: &mut Budget,
) -> Outcome {
    let mut outcome = Outcome {
        candidates: Vec::new(),
        best_effort: None,
        truncated: false,
    };
    let chosen: Vec<&[u8]> = (window.first..window.first + window.count)
        .filter_map(|i| lines.get(i)?.fitting(window.length))
        .collect();
    let first_byte = chosen
        .first()
        .and_then(|l| l.first())
        .copied()
        .unwrap_or(b'<');
    let Some(format) = MrzFormat::detect(window.count, window.length, first_byte) else {
        return outcome;
    };
    let layout = format.layout();
    // The name line (line 1 of two-line zones, line 3 of TD1) has no check digit.
    let name_line = layout.name.start / layout.line_length;
    let per_line: Vec<Vec<(Vec<u8>, Vec<usize>)>> = chosen
        .iter()
        .enumerate()
        .map(|(i, l)| length_variants(l, layout.line_length, i != name_line))
        .collect();
    let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
    for variants in &per_line {
        let mut next = Vec::new();
        for c in &combos {
            for i in 0..variants.len() {
                let mut c = c.clone();
                c.push(i);
                next.push(c);
            }
        }
        if next.len() > MAX_LENGTH_COMBOS {
            next.truncate(MAX_LENGTH_COMBOS);
            outcome.truncated = true;
        }
        combos = next;
    }
    for combo in combos {
        let mut grid = Grid {
            layout,
            bytes: Vec::with_capacity(layout.total_len()),
            fixes: Vec::new(),
        };
        for (line, &i) in combo.iter().enumerate() {
            let Some((bytes, inserted)) = per_line.get(line).and_then(|v| v.get(i)) else {
                continue;
            };
            let offset = line * layout.line_length;
            grid.fixes.extend(
                inserted
                    .iter()
                    .map(|&p| (offset + p, CorrectionKind::LineLength)),
            );
            grid.bytes.extend_from_slice(bytes);
        }
        if grid.bytes.len() != layout.total_len() {
            continue;
        }
        repair_grid(grid, reference, &mut outcome, budget);
    }
    outcome
}

/// The ways to give `line` the length `len`, with the positions (in the new line) that changed.
fn length_variants(line: &[u8], len: usize, checked: bool) -> Vec<(Vec<u8>, Vec<usize>)> {
    let mut out: Vec<(Vec<u8>, Vec<usize>)> = Vec::new();
    let l = line.len();
    if l == len {
        return vec![(line.to_vec(), Vec::new())];
    }
    // Filler runs as (start, length), last first.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < l {
        if line.get(i) == Some(&b'<') {
            let start = i;
            while line.get(i) == Some(&b'<') {
                i += 1;
            }
            runs.push((start, i - start));
        } else {
            i += 1;
        }
    }
    runs.reverse();
    if l < len {
        let d = len - l;
        let mut at_end = line.to_vec();
        at_end.resize(len, b'<');
        out.push((at_end, (l..len).collect()));
        if checked {
            for &(start, n) in runs.iter().take(8) {
                let at = start + n;
                let mut v = line.get(..at).unwrap_or(&[]).to_vec();
                v.resize(at + d, b'<');
                v.extend_from_slice(line.get(at..).unwrap_or(&[]));
                out.push((v, (at..at + d).collect()));
            }
        }
    } else {
        let d = l - len;
        let trailing = line.iter().rev().take_while(|&&c| c == b'<').count();
        if trailing >= d {
            out.push((line.get(..len).unwrap_or(&[]).to_vec(), vec![len - 1]));
        }
        if checked {
            for &(start, _) in runs.iter().take(8).filter(|(_, n)| *n >= d) {
                let mut v = line.get(..start).unwrap_or(&[]).to_vec();
                v.extend_from_slice(line.get(start + d..).unwrap_or(&[]));
                out.push((v, vec![start.min(len - 1)]));
            }
        }
        out.push((line.get(d..).unwrap_or(&[]).to_vec(), vec![0]));
        out.push((line.get(..len).unwrap_or(&[]).to_vec(), vec![len - 1]));
    }
    let mut seen: Vec<Vec<u8>> = Vec::new();
    out.retain(|(v, _)| {
        if v.len() != len || seen.contains(v) {
            return false;
        }
        seen.push(v.clone());
        true
    });
    out
}

/// The class of characters position `pos` may hold (TD1's long-number check digit, in the
/// optional data, is a digit).
fn class_at(layout: &Layout, bytes: &[u8], pos: usize) -> CharClass {
    field_of(layout, bytes, pos).class()
}

/// The field of `pos`, taking TD1's long document number into account.
fn field_of(layout: &Layout, bytes: &[u8], pos: usize) -> MrzField {
    let n = number_parts(layout, bytes);
    if n.overflow.contains(&pos) {
        MrzField::DocumentNumber
    } else if !n.overflow.is_empty() && pos == n.check {
        MrzField::CheckDigit(CheckField::DocumentNumber)
    } else {
        layout.field_at(pos)
    }
}

/// The digit a letter stands for where only digits may be.
fn as_digit(c: u8) -> Option<u8> {
    Some(match c {
        b'O' | b'Q' | b'D' => b'0',
        b'I' | b'L' => b'1',
        b'Z' => b'2',
        b'S' => b'5',
        b'G' => b'6',
        b'B' => b'8',
        _ => return None,
    })
}

/// The letter a digit stands for where only letters may be.
fn as_letter(c: u8) -> Option<u8> {
    Some(match c {
        b'0' => b'O',
        b'1' => b'I',
        b'2' => b'Z',
        b'5' => b'S',
        b'6' => b'G',
        b'8' => b'B',
        _ => return None,
    })
}

/// Digits OCR confuses with each other (symmetric).
fn digit_confusions(c: u8) -> &'static [u8] {
    match c {
        b'0' => b"689",
        b'1' => b"47",
        b'2' => b"7",
        b'3' => b"589",
        b'4' => b"19",
        b'5' => b"36",
        b'6' => b"058",
        b'7' => b"12",
        b'8' => b"0369",
        b'9' => b"0348",
        _ => b"",
    }
}

/// Letters OCR confuses with a digit or with each other, for letter-or-digit positions.
fn alnum_confusions(c: u8) -> &'static [u8] {
    match c {
        b'0' => b"689OQD",
        b'1' => b"47IL",
        b'2' => b"7Z",
        b'5' => b"36S",
        b'6' => b"058G",
        b'8' => b"0369B",
        b'O' => b"0QD",
        b'Q' => b"0OD",
        b'D' => b"0OQ",
        b'I' => b"1L",
        b'L' => b"1I",
        b'Z' => b"2",
        b'S' => b"5",
        b'G' => b"6",
        b'B' => b"8",
        b'K' | b'X' | b'C' => b"<",
        _ => digit_confusions(c),
    }
}

const DIGITS_AND_FILLER: &[u8] = b"0123456789<";
const ALL_MRZ: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<";

/// The characters tried in place of `c` at a position of class `class`.
fn alternatives(class: CharClass, c: u8) -> &'static [u8] {
    match class {
        CharClass::Digit if c == UNREADABLE || c.is_ascii_uppercase() => DIGITS_AND_FILLER,
        CharClass::Digit => digit_confusions(c),
        CharClass::AlphaNum if c == UNREADABLE => ALL_MRZ,
        CharClass::AlphaNum => alnum_confusions(c),
        CharClass::Alpha | CharClass::Sex => b"",
    }
}

/// Step 4: look-alikes by position class, fillers read as letters.
fn repair_classes(grid: &mut Grid) {
    let layout = grid.layout;
    // A TD1 long number's overflow decides which optional-data position is its check digit;
    // a misread filler there would move it, so that region is left to the check digits.
    let overflow_region = if number_parts(layout, &grid.bytes).overflow.is_empty() {
        0..0
    } else {
        layout.optional_data.range()
    };
    for pos in 0..grid.bytes.len() {
        let Some(c) = grid.bytes.get(pos).copied() else {
            continue;
        };
        if overflow_region.contains(&pos) {
            continue;
        }
        let new = match class_at(layout, &grid.bytes, pos) {
            CharClass::Digit => as_digit(c),
            CharClass::Alpha => as_letter(c),
            CharClass::AlphaNum | CharClass::Sex => None,
        };
        if let (Some(new), Some(slot)) = (new, grid.bytes.get_mut(pos)) {
            *slot = new;
            grid.fixes.push((pos, CorrectionKind::CharacterClass));
        }
    }
    // Names: after `<<`, never the first letter of the given names.
    let name = layout.name;
    let separator = grid
        .bytes
        .get(name.range())
        .and_then(|f| f.windows(2).position(|w| w == b"<<"))
        .map(|s| name.start + s + 2);
    repair_trailing_fillers(grid, name, 2, separator);
    // Codes and document numbers: after one `<` (`D<K` is `D<<`; both are left-aligned and
    // padded with fillers, so nothing follows a filler). Not the optional data: its format is
    // the issuer's, and `K` versus `<` is invisible to its check digit.
    for span in [
        layout.issuing_state,
        layout.nationality,
        layout.document_number,
    ] {
        repair_trailing_fillers(grid, span, 1, None);
    }
}

fn is_misread_filler(c: u8) -> bool {
    matches!(c, b'K' | b'X' | b'C')
}

/// Reads as `<` every `K`, `X` or `C` of `span` that follows at least `fillers_before` fillers
/// and after which the field holds only fillers (or more such letters), except at `protect`.
fn repair_trailing_fillers(
    grid: &mut Grid,
    span: Span,
    fillers_before: usize,
    protect: Option<usize>,
) {
    for pos in span.start + fillers_before..span.end() {
        let Some(&c) = grid.bytes.get(pos) else {
            return;
        };
        let after_fillers = grid
            .bytes
            .get(pos - fillers_before..pos)
            .is_some_and(|b| b.iter().all(|&x| x == b'<'));
        let only_fillers_follow = grid
            .bytes
            .get(pos..span.end())
            .is_some_and(|rest| rest.iter().all(|&r| r == b'<' || is_misread_filler(r)));
        if is_misread_filler(c) && after_fillers && only_fillers_follow && protect != Some(pos) {
            set(&mut grid.bytes, pos, b'<');
            grid.fixes.push((pos, CorrectionKind::Filler));
        }
    }
}

/// The field checks of a layout (the composite aside).
fn field_checks(layout: &Layout) -> impl Iterator<Item = CheckField> + '_ {
    [
        CheckField::DocumentNumber,
        CheckField::BirthDate,
        CheckField::ExpiryDate,
    ]
    .into_iter()
    .chain(layout.optional_data_check.map(|_| CheckField::OptionalData))
}

/// The positions a field check covers, its digit included.
fn check_positions(layout: &Layout, bytes: &[u8], field: CheckField) -> Vec<usize> {
    match field {
        CheckField::DocumentNumber => {
            let n = number_parts(layout, bytes);
            n.main.range().chain(n.overflow).chain([n.check]).collect()
        }
        CheckField::BirthDate => layout
            .birth_date
            .range()
            .chain([layout.birth_date_check])
            .collect(),
        CheckField::ExpiryDate => layout
            .expiry_date
            .range()
            .chain([layout.expiry_date_check])
            .collect(),
        CheckField::OptionalData => layout
            .optional_data
            .range()
            .chain(layout.optional_data_check)
            .collect(),
        CheckField::Composite => match layout.composite {
            Some((spans, pos)) => spans.iter().flat_map(|s| s.range()).chain([pos]).collect(),
            None => Vec::new(),
        },
    }
}

type Variant = Vec<(usize, u8)>;

/// Step 5 for one check: the smallest sets of changes (one, else two) that make it pass.
/// Returns the variants and whether the search was cut short.
fn search_check(
    layout: &Layout,
    bytes: &mut [u8],
    check: CheckField,
    positions: &[usize],
    budget: &mut Budget,
) -> (Vec<Variant>, bool) {
    let options: Vec<(usize, &'static [u8])> = positions
        .iter()
        .filter_map(|&p| {
            let a = alternatives(class_at(layout, bytes, p), *bytes.get(p)?);
            (!a.is_empty()).then_some((p, a))
        })
        .collect();
    let passes = |b: &[u8]| check_one(layout, b, check) == Some(true);
    let mut found = Vec::new();
    let mut evals = 0usize;
    for &(p, alts) in &options {
        let Some(old) = bytes.get(p).copied() else {
            continue;
        };
        for &a in alts {
            if !budget.spend() {
                let (v, _) = cap(found);
                return (v, true);
            }
            set(bytes, p, a);
            if passes(bytes) {
                found.push(vec![(p, a)]);
            }
            set(bytes, p, old);
        }
    }
    if !found.is_empty() {
        return cap(found);
    }
    for (i, &(p, alts_p)) in options.iter().enumerate() {
        let Some(old_p) = bytes.get(p).copied() else {
            continue;
        };
        for &a in alts_p {
            set(bytes, p, a);
            for &(q, alts_q) in options.iter().skip(i + 1) {
                let Some(old_q) = bytes.get(q).copied() else {
                    continue;
                };
                for &b in alts_q {
                    evals += 1;
                    if evals > MAX_FIELD_EVALS || !budget.spend() {
                        set(bytes, p, old_p);
                        let (v, _) = cap(found);
                        return (v, true);
                    }
                    set(bytes, q, b);
                    if passes(bytes) {
                        found.push(vec![(p, a), (q, b)]);
                    }
                    set(bytes, q, old_q);
                }
            }
            set(bytes, p, old_p);
        }
    }
    cap(found)
}

fn cap(mut found: Vec<Variant>) -> (Vec<Variant>, bool) {
    let truncated = found.len() > MAX_FIELD_VARIANTS;
    found.truncate(MAX_FIELD_VARIANTS);
    (found, truncated)
}

fn set(bytes: &mut [u8], pos: usize, c: u8) {
    if let Some(slot) = bytes.get_mut(pos) {
        *slot = c;
    }
}

/// Steps 4 and 5 on one grid; passing readings and the best effort go into `outcome`.
fn repair_grid(mut grid: Grid, reference: Date, outcome: &mut Outcome, budget: &mut Budget) {
    let layout = grid.layout;
    repair_classes(&mut grid);
    // Positions some check covers; unreadable marks elsewhere become fillers.
    let mut covered = vec![false; grid.bytes.len()];
    for check in field_checks(layout).chain([CheckField::Composite]) {
        for p in check_positions(layout, &grid.bytes, check) {
            if let Some(c) = covered.get_mut(p) {
                *c = true;
            }
        }
    }
    for (pos, c) in grid.bytes.iter_mut().enumerate() {
        if *c == UNREADABLE && !covered.get(pos).copied().unwrap_or(false) {
            *c = b'<';
            grid.fixes.push((pos, CorrectionKind::Unreadable));
        }
    }
    // The best effort: this reading, unreadable marks as fillers.
    let mut effort = grid.clone();
    for (pos, c) in effort.bytes.iter_mut().enumerate() {
        if !is_mrz_char(*c) {
            *c = b'<';
            effort.fixes.push((pos, CorrectionKind::Unreadable));
        }
    }
    if let Some(candidate) = build(&effort, reference) {
        let fails = candidate.record.checks().failures();
        if fails == 0 {
            push_candidate(outcome, candidate);
            return;
        }
        if outcome.best_effort.as_ref().is_none_or(|(f, _)| fails < *f) {
            outcome.best_effort = Some((fails, candidate));
        }
    }

    // Per failing field check, its minimal passing variants.
    let mut per_check: Vec<Vec<Variant>> = Vec::new();
    for check in field_checks(layout) {
        if check_one(layout, &grid.bytes, check) == Some(true) {
            per_check.push(vec![Vec::new()]);
            continue;
        }
        let positions = check_positions(layout, &grid.bytes, check);
        let (variants, truncated) =
            search_check(layout, &mut grid.bytes, check, &positions, budget);
        outcome.truncated |= truncated;
        if variants.is_empty() {
            return;
        }
        per_check.push(variants);
    }
    // Combine them; the composite decides.
    let mut combos: Vec<Variant> = vec![Vec::new()];
    for variants in &per_check {
        let mut next = Vec::new();
        'outer: for c in &combos {
            for v in variants {
                if next.len() >= MAX_COMBOS {
                    outcome.truncated = true;
                    break 'outer;
                }
                let mut c = c.clone();
                c.extend_from_slice(v);
                next.push(c);
            }
        }
        combos = next;
    }
    let composite_only: Vec<usize> = match layout.composite {
        Some(_) => {
            let mut field_covered = vec![false; grid.bytes.len()];
            for check in field_checks(layout) {
                for p in check_positions(layout, &grid.bytes, check) {
                    if let Some(c) = field_covered.get_mut(p) {
                        *c = true;
                    }
                }
            }
            check_positions(layout, &grid.bytes, CheckField::Composite)
                .into_iter()
                .filter(|&p| !field_covered.get(p).copied().unwrap_or(true))
                .collect()
        }
        None => Vec::new(),
    };
    let mut passing: Vec<Variant> = Vec::new();
    for combo in &combos {
        if !budget.spend() {
            outcome.truncated = true;
            break;
        }
        let mut bytes = grid.bytes.clone();
        for &(p, c) in combo {
            set(&mut bytes, p, c);
        }
        if check_one(layout, &bytes, CheckField::Composite) != Some(false) {
            passing.push(combo.clone());
        }
    }
    if passing.is_empty() && !composite_only.is_empty() {
        for combo in combos.iter().take(MAX_COMBOS / 16) {
            let mut bytes = grid.bytes.clone();
            for &(p, c) in combo {
                set(&mut bytes, p, c);
            }
            let (variants, truncated) =
                search_composite_once(layout, &mut bytes, &composite_only, budget);
            outcome.truncated |= truncated;
            for v in variants {
                let mut c = combo.clone();
                c.extend(v);
                passing.push(c);
            }
        }
    }
    for combo in passing {
        if outcome.candidates.len() >= 2 * MAX_CANDIDATES {
            outcome.truncated = true;
            break;
        }
        let mut g = grid.clone();
        for &(p, c) in &combo {
            set(&mut g.bytes, p, c);
            g.fixes.push((p, CorrectionKind::CheckDigit));
        }
        if let Some(candidate) = build(&g, reference) {
            push_candidate(outcome, candidate);
        }
    }
}

/// One change among the positions only the composite covers.
fn search_composite_once(
    layout: &Layout,
    bytes: &mut [u8],
    positions: &[usize],
    budget: &mut Budget,
) -> (Vec<Variant>, bool) {
    let mut found = Vec::new();
    for &p in positions {
        let Some(old) = bytes.get(p).copied() else {
            continue;
        };
        for &a in alternatives(class_at(layout, bytes, p), old) {
            if !budget.spend() {
                let (v, _) = cap(found);
                return (v, true);
            }
            set(bytes, p, a);
            if check_one(layout, bytes, CheckField::Composite) == Some(true) {
                found.push(vec![(p, a)]);
            }
            set(bytes, p, old);
        }
    }
    cap(found)
}

/// The candidate a finished grid reads as, through the strict parser.
fn build(grid: &Grid, reference: Date) -> Option<Candidate> {
    let layout = grid.layout;
    let len = layout.line_length;
    let lines: Vec<&str> = grid
        .bytes
        .chunks(len)
        .map(|l| std::str::from_utf8(l).unwrap_or(""))
        .collect();
    let record = strict::parse(&lines, reference).ok()?;
    if record.format() != layout.format {
        return None;
    }
    let mut fixes = grid.fixes.clone();
    fixes.sort_unstable();
    // The same fix twice at one position is one correction (different kinds stay apart).
    fixes.dedup_by(|later, earlier| later.0 == earlier.0 && later.1 == earlier.1);
    let corrections = fixes
        .into_iter()
        .map(|(pos, kind)| Correction {
            field: field_of(layout, &grid.bytes, pos),
            line: pos / len + 1,
            position: pos % len + 1,
            kind,
        })
        .collect();
    Some(Candidate {
        record,
        corrections,
    })
}

fn push_candidate(outcome: &mut Outcome, candidate: Candidate) {
    // Never a reading that fails a check.
    if !candidate.record.is_valid() {
        return;
    }
    if let Some(existing) = outcome
        .candidates
        .iter_mut()
        .find(|c| c.record == candidate.record)
    {
        if candidate.corrections.len() < existing.corrections.len() {
            *existing = candidate;
        }
        return;
    }
    outcome.candidates.push(candidate);
}

#[cfg(test)]
mod tests {
    use super::super::testgen::{any_spec, reference};
    use super::super::{char_value, parse};
    use super::*;
    use proptest::prelude::*;

    const TD3: [&str; 2] = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    const TD1: [&str; 3] = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    const MRVB: [&str; 2] = [
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "L8988901C4XXX4009078F9612109<<<<<<<<",
    ];

    fn today() -> Date {
        Date::from_ymd(2010, 1, 1).unwrap()
    }

    fn strict(lines: &[&str]) -> MrzRecord {
        parse(lines, today()).unwrap()
    }

    fn tolerant(text: &str) -> TolerantParse {
        parse_tolerant(text, today()).unwrap()
    }

    fn kinds(c: &Candidate) -> Vec<CorrectionKind> {
        c.corrections.iter().map(|c| c.kind).collect()
    }

    #[test]
    fn clean_mrz_is_read_without_corrections() {
        let t = tolerant(&TD3.join("\n"));
        assert!(!t.ambiguous && t.best_effort.is_none());
        assert_eq!(t.candidates.len(), 1);
        assert_eq!(t.candidates[0].record, strict(&TD3));
        assert!(t.candidates[0].corrections.is_empty());
    }

    #[test]
    fn spaces_lowercase_and_guillemets_are_cleaned() {
        let text = "  p<uto ERIKSSON«<ANNA<MARIA <<<<<<<<<<<<<<<<<<< \r\n\
                    L898902C36 UTO7408122F 1204159ZE184226B<<<<<10  ";
        let t = tolerant(text);
        assert_eq!(t.unique(), Some(&strict(&TD3)));
    }

    #[test]
    fn mrz_lines_are_found_among_other_ocr_lines() {
        let text = format!(
            "REPUBLIC OF UTOPIA\nPASSPORT / PASSEPORT\nSurname ERIKSSON\n\
             Given names ANNA MARIA\nDate of birth 12 AUG 1974\n\n{}\n~\n{}\n' .\n",
            TD3[0], TD3[1]
        );
        assert_eq!(tolerant(&text).unique(), Some(&strict(&TD3)));
        let text = format!(
            "IDENTITY CARD\n{}\n{}\n{}\nthank you",
            TD1[0], TD1[1], TD1[2]
        );
        assert_eq!(tolerant(&text).unique(), Some(&strict(&TD1)));
    }

    #[test]
    fn stray_characters_around_a_line_are_dropped() {
        let text = format!("MRZ: {}\n{} |7", TD3[0], TD3[1]);
        assert_eq!(tolerant(&text).unique(), Some(&strict(&TD3)));
    }

    #[test]
    fn letters_in_digit_positions_and_digits_in_letter_positions_are_swapped() {
        // Birth date with O and I, nationality with a zero, composite read as O.
        let text = "P<UT0ERIKSS0N<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
                    L898902C36UT07408I22F1204159ZE184226B<<<<<1O";
        let t = tolerant(text);
        let c = &t.candidates[0];
        assert_eq!(t.unique(), Some(&strict(&TD3)));
        assert!(kinds(c)
            .iter()
            .all(|k| *k == CorrectionKind::CharacterClass));
        let fields: Vec<MrzField> = c.corrections.iter().map(|c| c.field).collect();
        assert!(fields.contains(&MrzField::IssuingState));
        assert!(fields.contains(&MrzField::Name));
        assert!(fields.contains(&MrzField::BirthDate));
        assert!(fields.contains(&MrzField::CheckDigit(CheckField::Composite)));
        assert!(c.corrections.contains(&Correction {
            field: MrzField::BirthDate,
            line: 2,
            position: 18,
            kind: CorrectionKind::CharacterClass
        }));
    }

    #[test]
    fn fillers_read_as_letters_are_restored_but_an_initial_is_kept() {
        let text = "P<UTOERIKSSON<<ANNA<MARIA<<<<<K<<<<<<<<X<<<<\n\
                    L898902C36UTO7408122F1204159ZE184226B<<X<<10";
        let t = tolerant(text);
        // The name's fillers by rule; the optional data's `X` because its check digit failed
        // (other single changes may pass too: the result then says so).
        let c = t
            .candidates
            .iter()
            .find(|c| c.record == strict(&TD3))
            .unwrap();
        assert_eq!(t.ambiguous, t.candidates.len() > 1);
        assert!(kinds(c).contains(&CorrectionKind::Filler));
        assert!(kinds(c).contains(&CorrectionKind::CheckDigit));
        // A one-letter given name right after `<<` is a name, not a filler.
        let initial = "P<UTOERIKSSON<<C<<<<<<<<<<<<<<<<<<<<<<<<<<<<\n".to_string() + TD3[1];
        let t = tolerant(&initial);
        assert_eq!(t.unique().map(MrzRecord::given_names), Some("C"));
    }

    #[test]
    fn missing_or_extra_fillers_are_repaired() {
        // One filler missing in line 2's personal number run, one extra at line 1's end.
        let short = TD3[1].replacen("B<<<<<1", "B<<<<1", 1);
        let long = format!("{}<", TD3[0]);
        let t = tolerant(&format!("{long}\n{short}"));
        assert!(
            t.candidates.iter().any(|c| c.record == strict(&TD3)),
            "{t:?}"
        );
        assert!(t
            .candidates
            .iter()
            .all(|c| kinds(c).contains(&CorrectionKind::LineLength)));
        // A TD1 name line one filler short.
        let t = tolerant(&format!("{}\n{}\n{}", TD1[0], TD1[1], &TD1[2][..29]));
        assert_eq!(t.unique(), Some(&strict(&TD1)));
    }

    #[test]
    fn a_misread_digit_is_found_by_the_check_digits() {
        // `8` read as `3` in the document number.
        let bad = TD3[1].replacen("L898902C3", "L893902C3", 1);
        let t = tolerant(&format!("{}\n{bad}", TD3[0]));
        assert!(t.candidates.iter().any(|c| c.record == strict(&TD3)));
        assert!(t.candidates.iter().all(|c| c.record.is_valid()));
        let c = t
            .candidates
            .iter()
            .find(|c| c.record == strict(&TD3))
            .unwrap();
        assert_eq!(
            c.corrections,
            vec![Correction {
                field: MrzField::DocumentNumber,
                line: 2,
                position: 4,
                kind: CorrectionKind::CheckDigit
            }]
        );
    }

    #[test]
    fn several_passing_readings_are_all_returned_and_flagged() {
        // Visas have no composite: single misreadings in the number often have more than
        // one repair. Find one among every single confusion of the specimen's number.
        let mut seen_ambiguous = false;
        for pos in 0..9 {
            let original = MRVB[1].as_bytes()[pos];
            for bad in misreadings(CharClass::AlphaNum, original) {
                let mut l2 = MRVB[1].as_bytes().to_vec();
                l2[pos] = bad;
                let l2 = String::from_utf8(l2).unwrap();
                let t = tolerant(&format!("{}\n{l2}", MRVB[0]));
                assert!(t.candidates.iter().all(|c| c.record.is_valid()));
                assert_eq!(t.ambiguous, t.candidates.len() > 1);
                let delta = char_value(original)
                    .unwrap()
                    .abs_diff(char_value(bad).unwrap());
                if !delta.is_multiple_of(10) {
                    assert!(t.candidates.iter().any(|c| c.record == strict(&MRVB)));
                }
                seen_ambiguous |= t.ambiguous;
            }
        }
        assert!(seen_ambiguous);
    }

    #[test]
    fn when_nothing_passes_the_best_effort_carries_its_failing_checks() {
        let bad = TD3[1].replacen("7408122", "7#0##2#", 1);
        let t = tolerant(&format!("{}\n{bad}", TD3[0]));
        assert!(t.candidates.is_empty() && !t.ambiguous);
        let best = t.best_effort.unwrap();
        assert!(!best.record.is_valid());
        assert!(!best.record.checks().birth_date);
        assert_eq!(best.record.birth_date(), None);
        assert_eq!(best.record.document_number(), "L898902C3");
        assert!(kinds(&best).contains(&CorrectionKind::Unreadable));
    }

    #[test]
    fn unusable_texts_get_errors() {
        assert_eq!(parse_tolerant("", today()), Err(MrzError::Empty));
        assert_eq!(parse_tolerant(" \n\t", today()), Err(MrzError::Empty));
        assert_eq!(
            parse_tolerant("hello\nworld", today()),
            Err(MrzError::NotFound)
        );
        assert_eq!(parse_tolerant(TD3[0], today()), Err(MrzError::NotFound));
        let huge = "<".repeat(MAX_TOLERANT_INPUT + 1);
        assert_eq!(
            parse_tolerant(&huge, today()),
            Err(MrzError::InputTooLarge {
                max_bytes: MAX_TOLERANT_INPUT
            })
        );
    }

    #[test]
    fn lines_given_separately_are_read_like_text() {
        let t = parse_tolerant_lines(&TD1, today()).unwrap();
        assert_eq!(t.unique(), Some(&strict(&TD1)));
    }

    #[test]
    fn debug_output_is_redacted() {
        let t = tolerant(&TD3.join("\n"));
        let dbg = format!("{t:?}");
        assert!(
            !dbg.contains("ERIKSSON") && !dbg.contains("L898902C3"),
            "{dbg}"
        );
    }

    #[test]
    fn confusion_tables_are_symmetric() {
        for c in b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".iter().copied() {
            for &d in digit_confusions(c) {
                assert!(
                    digit_confusions(d).contains(&c),
                    "{} {}",
                    c as char,
                    d as char
                );
            }
            for &d in alnum_confusions(c).iter().filter(|&&d| d != b'<') {
                assert!(
                    alnum_confusions(d).contains(&c),
                    "{} {}",
                    c as char,
                    d as char
                );
            }
            if let Some(d) = as_digit(c) {
                assert!(alnum_confusions(d).contains(&c));
            }
        }
    }

    /// What OCR may read in place of `t` at a position of `class` such that the pipeline can
    /// get back to `t`: a letter in a digit position is first replaced by its look-alike digit,
    /// then that digit's confusions are tried; anything else must list `t` among its
    /// alternatives.
    fn misreadings(class: CharClass, t: u8) -> Vec<u8> {
        ALL_MRZ
            .iter()
            .copied()
            .filter(|&x| {
                x != t
                    && match (class, as_digit(x)) {
                        (CharClass::Digit, Some(d)) => {
                            d == t || alternatives(class, d).contains(&t)
                        }
                        _ => alternatives(class, x).contains(&t),
                    }
            })
            .collect()
    }

    /// One OCR misreading of a valid MRZ that the documented repairs can undo: a confusion in
    /// a checked field (not one a check digit is blind to), a digit read in a letter position,
    /// a letter read in a digit position, a filler read as `K` at the end of the name, or one
    /// filler lost at the end of the name line.
    fn corrupt(lines: &[String], format: MrzFormat, pick: usize, choice: usize) -> Option<String> {
        let layout = format.layout();
        let len = layout.line_length;
        let mut raw = lines.concat().into_bytes();
        let pos = pick % raw.len();
        let c = raw[pos];
        let field = field_of(layout, &raw, pos);
        let covered = {
            let mut all = Vec::new();
            for check in field_checks(layout).chain([CheckField::Composite]) {
                all.extend(check_positions(layout, &raw, check));
            }
            all.contains(&pos)
        };
        let options: Vec<u8> = match field.class() {
            class @ (CharClass::Digit | CharClass::AlphaNum) if covered => misreadings(class, c),
            CharClass::Alpha if c != b'<' => b"0125680"
                .iter()
                .copied()
                .filter(|&d| as_letter(d) == Some(c))
                .collect(),
            CharClass::Alpha if field == MrzField::Name => {
                // The last filler of the name line, read as K, when the repair rule applies.
                let name = layout.name;
                let sep = raw[name.range()].windows(2).position(|w| w == b"<<");
                let end = name.end() - 1;
                if raw[end - 2..=end] == *b"<<<" && sep.map(|s| name.start + s + 2) != Some(end) {
                    raw[end] = b'K';
                    return Some(
                        raw.chunks(len)
                            .map(|l| String::from_utf8_lossy(l))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                }
                return None;
            }
            _ => Vec::new(),
        };
        if options.is_empty() {
            // Lose the last filler of the name line instead, when it ends with one.
            let name_line = layout.name.start / len;
            let mut out: Vec<String> = lines.to_vec();
            if out[name_line].ends_with("<<") {
                out[name_line].pop();
                return Some(out.join("\n"));
            }
            return None;
        }
        let new = options[choice % options.len()];
        let delta = char_value(c)?.abs_diff(char_value(new)?);
        if delta.is_multiple_of(10) && covered {
            return None; // invisible to every check digit
        }
        raw[pos] = new;
        Some(
            raw.chunks(len)
                .map(|l| String::from_utf8_lossy(l))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn one_ocr_misreading_is_repaired_to_include_the_original(
            spec in any_spec(),
            pick in any::<usize>(),
            choice in any::<usize>(),
        ) {
            let lines = spec.lines();
            let original = parse(&lines, reference()).unwrap();
            let text = corrupt(&lines, spec.format, pick, choice);
            prop_assume!(text.is_some());
            let text = text.unwrap();
            let t = parse_tolerant(&text, reference()).unwrap();
            prop_assert!(t.candidates.iter().all(|c| c.record.is_valid()));
            prop_assert!(
                t.candidates.iter().any(|c| c.record == original),
                "not repaired: {:?}", t
            );
        }

        #[test]
        fn random_damage_never_yields_a_failing_candidate(
            spec in any_spec(),
            damage in prop::collection::vec((any::<usize>(), "[A-Z0-9<#]"), 1..4),
        ) {
            let lines = spec.lines();
            let len = spec.format.line_length();
            let mut raw = lines.concat().into_bytes();
            let n = raw.len();
            for (pos, c) in &damage {
                raw[pos % n] = c.as_bytes()[0];
            }
            let text = raw.chunks(len).map(|l| String::from_utf8_lossy(l)).collect::<Vec<_>>().join("\n");
            if let Ok(t) = parse_tolerant(&text, reference()) {
                prop_assert!(t.candidates.iter().all(|c| c.record.is_valid()));
                prop_assert_eq!(t.ambiguous, t.candidates.len() > 1);
                prop_assert_eq!(t.candidates.is_empty(), t.best_effort.is_some());
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
            if let Ok(t) = parse_tolerant(&text, reference()) {
                prop_assert!(t.candidates.iter().all(|c| c.record.is_valid()));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_tolerant(&text, reference());
        }

        #[test]
        fn mrz_shaped_noise_never_panics(
            lines in prop::collection::vec("[A-Z0-9<KXC«O ]{25,48}", 1..5),
        ) {
            if let Ok(t) = parse_tolerant(&lines.join("\n"), reference()) {
                prop_assert!(t.candidates.iter().all(|c| c.record.is_valid()));
            }
        }
    }
}
