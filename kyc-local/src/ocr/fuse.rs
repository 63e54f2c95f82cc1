//! Fusion of two readings of the MRZ band. Tesseract's two recognisers fail in complementary
//! ways on OCR-B: the legacy classifier reads the `<` fillers and the line lengths right but
//! confuses letters whose OCR-B shapes differ from its training (`M`→`H`, `W`→`N`, `Q`→`G`,
//! `5`→`S`); the LSTM reads letters and digits right but turns filler runs into `K`, `L`, `C`,
//! `X` and varies their length. Each line of the legacy reading is aligned with the matching
//! line of the LSTM reading (weighted edit distance, filler look-alikes cheap), and the fused
//! line keeps the legacy skeleton — its fillers, digits and length — with the LSTM's letter
//! where both read a letter; the other engine's character becomes an alternative for the
//! variants that kyc-core's parser and the check digits judge. The check digits in kyc-core then judge the
//! result; nothing here knows the MRZ's field layout.

/// Characters the LSTM tends to read a `<` as.
const FILLER_LOOKALIKES: &[u8] = b"KLCX<";
/// The MRZ line lengths (TD1, TD2/MRV-B, TD3/MRV-A).
const LINE_LENGTHS: [usize; 3] = [30, 36, 44];
/// The longest line aligned (longer text is not an MRZ line).
const MAX_LINE: usize = 64;

fn clean(line: &str) -> Vec<u8> {
    line.bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| b.to_ascii_uppercase())
        .take(MAX_LINE)
        .collect()
}

fn mrz_lines(text: &str) -> Vec<Vec<u8>> {
    text.lines().map(clean).filter(|l| l.len() >= 10).collect()
}

fn alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn sub_cost(g: u8, s: u8) -> u32 {
    if g == s {
        0
    } else if g == b'<' && FILLER_LOOKALIKES.contains(&s) {
        1
    } else {
        4
    }
}

fn gap_cost(c: u8) -> u32 {
    if FILLER_LOOKALIKES.contains(&c) {
        2
    } else {
        3
    }
}

/// One column of an alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Both(u8, u8),
    LegacyOnly(u8),
    LstmOnly(u8),
}

/// Global alignment of `g` and `s` (Needleman–Wunsch with the costs above).
fn align(g: &[u8], s: &[u8]) -> Vec<Column> {
    let (n, m) = (g.len(), s.len());
    let w = m + 1;
    let mut cost = vec![0u32; (n + 1) * w];
    // Every index below is within the table and the lines by construction; the accessors
    // keep that from ever becoming a panic.
    let at =
        |cost: &[u32], i: usize, j: usize| cost.get(i * w + j).copied().unwrap_or(u32::MAX / 4);
    let gc = |i: usize| g.get(i).copied().unwrap_or(b'<');
    let sc = |j: usize| s.get(j).copied().unwrap_or(b'<');
    for i in 1..=n {
        let v = at(&cost, i - 1, 0) + gap_cost(gc(i - 1));
        if let Some(c) = cost.get_mut(i * w) {
            *c = v;
        }
    }
    for j in 1..=m {
        let v = at(&cost, 0, j - 1) + gap_cost(sc(j - 1));
        if let Some(c) = cost.get_mut(j) {
            *c = v;
        }
    }
    for i in 1..=n {
        for j in 1..=m {
            let diag = at(&cost, i - 1, j - 1) + sub_cost(gc(i - 1), sc(j - 1));
            let up = at(&cost, i - 1, j) + gap_cost(gc(i - 1));
            let left = at(&cost, i, j - 1) + gap_cost(sc(j - 1));
            if let Some(c) = cost.get_mut(i * w + j) {
                *c = diag.min(up).min(left);
            }
        }
    }
    let mut out = Vec::with_capacity(n.max(m));
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        let here = at(&cost, i, j);
        if i > 0 && j > 0 && here == at(&cost, i - 1, j - 1) + sub_cost(gc(i - 1), sc(j - 1)) {
            out.push(Column::Both(gc(i - 1), sc(j - 1)));
            i -= 1;
            j -= 1;
        } else if i > 0 && here == at(&cost, i - 1, j) + gap_cost(gc(i - 1)) {
            out.push(Column::LegacyOnly(gc(i - 1)));
            i -= 1;
        } else if j > 0 {
            out.push(Column::LstmOnly(sc(j - 1)));
            j -= 1;
        } else {
            // Unreachable with consistent costs; stop rather than loop.
            break;
        }
    }
    out.reverse();
    out
}

/// The cost of aligning two lines, per character of the longer one.
fn line_distance(g: &[u8], s: &[u8]) -> f32 {
    let cost: u32 = align(g, s)
        .iter()
        .map(|c| match *c {
            Column::Both(a, b) => sub_cost(a, b),
            Column::LegacyOnly(a) => gap_cost(a),
            Column::LstmOnly(b) => gap_cost(b),
        })
        .sum();
    cost as f32 / g.len().max(s.len()).max(1) as f32
}

/// For each legacy line, the LSTM line read from the same place: in order when both readings
/// have as many lines, else the closest unused line in reading order (none when every
/// candidate is too different).
fn match_lines(g: &[Vec<u8>], s: &[Vec<u8>]) -> Vec<Option<usize>> {
    if g.len() == s.len() {
        return (0..g.len()).map(Some).collect();
    }
    let mut next = 0;
    g.iter()
        .map(|gl| {
            let best = (next..s.len())
                .filter_map(|j| s.get(j).map(|sl| (j, line_distance(gl, sl))))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .filter(|(_, d)| *d <= 2.0);
            if let Some((j, _)) = best {
                next = j + 1;
            }
            best.map(|(j, _)| j)
        })
        .collect()
}

fn target_length(len: usize) -> usize {
    LINE_LENGTHS
        .iter()
        .copied()
        .min_by_key(|t| t.abs_diff(len))
        .unwrap_or(len)
}

/// A fused line and, for each position where the engines read different letters or digits,
/// the position, the rejected alternative and whether a digit is involved (those come first
/// when variants are built: the check digits can judge them).
fn fuse_line(g: &[u8], s: &[u8]) -> (Vec<u8>, Vec<(usize, u8, bool)>) {
    let target = target_length(g.len());
    let mut surplus = g.len() as i64 - target as i64;
    let mut out = Vec::with_capacity(g.len());
    let mut alternatives = Vec::new();
    let mut columns = align(g, s);
    // One LSTM letter against two legacy characters (the legacy engine split a wide letter,
    // `M`→`14`) on a line that is too long: the letter.
    let mut i = 0;
    while surplus > 0 && i + 1 < columns.len() {
        let merged = match (columns.get(i), columns.get(i + 1)) {
            (Some(Column::Both(a, b)), Some(Column::LegacyOnly(c)))
            | (Some(Column::LegacyOnly(c)), Some(Column::Both(a, b)))
                if alnum(*a) && alnum(*c) && b.is_ascii_uppercase() && !a.is_ascii_uppercase() =>
            {
                Some(*b)
            }
            _ => None,
        };
        if let Some(letter) = merged {
            columns.splice(i..i + 2, [Column::Both(letter, letter)]);
            surplus -= 1;
        }
        i += 1;
    }
    // An LSTM character is trusted where the engines agree on a neighbouring letter or digit;
    // inside its garbled filler runs (`<<<6` read `LKLKS`) it is not.
    let agrees = |k: Option<usize>| {
        k.and_then(|k| columns.get(k))
            .is_some_and(|c| matches!(c, Column::Both(x, y) if x == y && alnum(*x)))
    };
    let trusted: Vec<bool> = (0..columns.len())
        .map(|k| agrees(k.checked_sub(1)) || agrees(Some(k + 1)))
        .collect();
    for (k, col) in columns.into_iter().enumerate() {
        match col {
            Column::Both(a, b) => {
                // The LSTM's letter where both read a letter and it is trusted (OCR-B `M`,
                // `W`, `Q` defeat the legacy classifier); otherwise the legacy engine (its
                // fillers, and digits: both engines confuse `5`/`S`, `0`/`O`, `1`/`L`, and
                // the check digits judge the alternative).
                let digit = a.is_ascii_digit() || b.is_ascii_digit();
                let letters = a.is_ascii_uppercase() && b.is_ascii_uppercase();
                if a != b && letters && trusted.get(k).copied().unwrap_or(false) {
                    alternatives.push((out.len(), a, digit));
                    out.push(b);
                } else {
                    if a != b && alnum(a) && alnum(b) {
                        alternatives.push((out.len(), b, digit));
                    }
                    out.push(a);
                }
            }
            Column::LegacyOnly(a) => {
                // A character only the legacy engine saw (a letter split in two): dropped when
                // the line is too long and the LSTM saw nothing there.
                if alnum(a) && surplus > 0 {
                    surplus -= 1;
                } else {
                    out.push(a);
                }
            }
            Column::LstmOnly(b) => {
                // A letter or digit the legacy engine missed, when its line is too short.
                if alnum(b) && !FILLER_LOOKALIKES.contains(&b) && surplus < 0 {
                    out.push(b);
                    surplus += 1;
                }
            }
        }
    }
    (out, alternatives)
}

/// Fuses the legacy reading with the LSTM reading of the same band, line by line; lines are
/// matched in order when both readings have the same number of MRZ-like lines, else the
/// legacy reading is returned unchanged.
pub fn fuse(legacy: &str, lstm: &str) -> String {
    fuse_variants(legacy, lstm, 1)
        .into_iter()
        .next()
        .unwrap_or_else(|| legacy.to_string())
}

/// The fused reading first, then up to `max − 1` variants taking the other engine's character
/// at positions where the engines disagree: on a digit (`8`/`B`, `5`/`S`, `0`/`D`: the check
/// digits tell which is right), then on a letter (`IRL`/`IRE` in a country code: only one is a
/// code). Variants are ordered by how many positions they change, fewest first; at most 6
/// disagreements are varied, digits first.
pub fn fuse_variants(legacy: &str, lstm: &str, max: usize) -> Vec<String> {
    let g = mrz_lines(legacy);
    let s = mrz_lines(lstm);
    if g.is_empty() {
        return vec![legacy.to_string()];
    }
    let partners = match_lines(&g, &s);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut alternatives: Vec<(usize, usize, u8, bool)> = Vec::new();
    for (i, (gl, partner)) in g.iter().zip(partners).enumerate() {
        let Some(sl) = partner.and_then(|j| s.get(j)) else {
            lines.push(gl.clone());
            continue;
        };
        let (line, alts) = fuse_line(gl, sl);
        alternatives.extend(alts.into_iter().map(|(pos, c, digit)| (i, pos, c, digit)));
        lines.push(line);
    }
    // Digit disagreements first (stable: reading order within each kind).
    alternatives.sort_by_key(|a| !a.3);
    alternatives.truncate(6);
    let mut masks: Vec<u32> = (0..(1u32 << alternatives.len())).collect();
    masks.sort_by_key(|m| m.count_ones());
    masks
        .into_iter()
        .take(max.max(1))
        .map(|mask| {
            let mut variant = lines.clone();
            for (k, &(line, pos, c, _)) in alternatives.iter().enumerate() {
                if mask & (1 << k) != 0 {
                    if let Some(b) = variant.get_mut(line).and_then(|l| l.get_mut(pos)) {
                        *b = c;
                    }
                }
            }
            let mut text = variant
                .iter()
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect::<Vec<_>>()
                .join("\n");
            text.push('\n');
            text
        })
        .collect()
}

/// The reading with the one place where `value` (a printed document number, say) appears
/// with one or two characters different replaced by `value` itself; `None` when it appears
/// exactly, nowhere, or in more than one place. The MRZ repeats the printed number verbatim,
/// and the check digits then decide whether the printed reading is the right one.
pub fn with_printed_value(reading: &str, value: &str) -> Option<String> {
    let value: Vec<u8> = value.bytes().filter(|b| alnum(*b)).collect();
    if value.len() < 6 || value.len() > MAX_LINE {
        return None;
    }
    let mut lines: Vec<Vec<u8>> = reading.lines().map(clean).collect();
    let mut hits: Vec<(usize, usize)> = Vec::new();
    for (li, line) in lines.iter().enumerate() {
        for (start, window) in line.windows(value.len()).enumerate() {
            let diff = window.iter().zip(&value).filter(|(a, b)| a != b).count();
            if diff == 0 {
                return None;
            }
            if diff <= 2 {
                hits.push((li, start));
            }
        }
    }
    let [(li, start)] = hits.as_slice() else {
        return None;
    };
    let line = lines.get_mut(*li)?;
    line.get_mut(*start..*start + value.len())?
        .copy_from_slice(&value);
    let mut text = lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    text.push('\n');
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn letters_come_from_the_lstm_and_fillers_from_the_legacy_engine() {
        let legacy = "I<CZER39S178503<<<<<<<<<<<<<<<\n7012060H3302093CZE<<<<<<<<<<<6\nLINDGVIST<<HIKAEL<<<<<<<<<<<<<\n";
        let lstm = "I<KCZER395178503<<<<<<<<<K<<K<LK<LKKLK\n7012060M3302093CZE<LKLLKLLLLKLKLKS\nLINDQVIST<K<<MIKAEL<<L<LL<CLLKLCLLLKLKL\n";
        assert_eq!(
            fuse(legacy, lstm),
            "I<CZER39S178503<<<<<<<<<<<<<<<\n7012060M3302093CZE<<<<<<<<<<<6\nLINDQVIST<<MIKAEL<<<<<<<<<<<<<\n"
        );
    }

    #[test]
    fn a_letter_split_in_two_by_the_legacy_engine_is_joined_when_the_line_is_too_long() {
        let legacy = "6012188142712309CAN<<<<<<<<<<<4";
        let lstm = "6012188M2712309CAN<LKLKKLLLLLL<4";
        assert_eq!(fuse(legacy, lstm), "6012188M2712309CAN<<<<<<<<<<<4\n");
    }

    #[test]
    fn readings_with_different_line_counts_are_matched_line_by_line() {
        let legacy = "P<HUNSIMEK<<PAUL<<<<<<<<<<<<<<<<<<<<<<<<<<<<\nRN12036979HUN6704104M2904249<<<<<<<<<<<<<<<6\n";
        assert_eq!(
            fuse(legacy, "RW12036979HUN6704104M2904249<<<<<<KKLLLKKH"),
            "P<HUNSIMEK<<PAUL<<<<<<<<<<<<<<<<<<<<<<<<<<<<\nRW12036979HUN6704104M2904249<<<<<<<<<<<<<<<6\n"
        );
        assert_eq!(fuse(legacy, "SOMETHING ELSE ENTIRELY"), legacy);
        assert_eq!(fuse("", "ABC"), "");
    }

    #[test]
    fn digit_disagreements_give_variants_fewest_changes_first() {
        let v = fuse_variants("R39S17850<<", "R395178S0<<", 10);
        assert_eq!(v.len(), 4);
        assert_eq!(v[0], "R39S17850<<\n");
        assert!(v[1..3].contains(&"R39517850<<\n".to_string()));
        assert_eq!(v[3], "R395178S0<<\n");
    }

    #[test]
    fn a_printed_number_replaces_its_near_copy_in_the_reading() {
        let reading = "I<NORX003465042<<<<<<<<<<<<<<<\n6211109M3501151NOR<<<<<<<<<<<6\n";
        assert_eq!(
            with_printed_value(reading, "X00346E04").as_deref(),
            Some("I<NORX00346E042<<<<<<<<<<<<<<<\n6211109M3501151NOR<<<<<<<<<<<6\n")
        );
        // Already there, too different, or too short: nothing to offer.
        assert_eq!(with_printed_value(reading, "X00346504"), None);
        assert_eq!(with_printed_value(reading, "ABCDEFGHI"), None);
        assert_eq!(with_printed_value(reading, "X0"), None);
    }

    proptest! {
        #[test]
        fn fusion_never_panics_and_keeps_line_counts(a in "[A-Z0-9<\n ]{0,200}", b in "\\PC{0,200}") {
            let fused = fuse(&a, &b);
            let n = mrz_lines(&a).len();
            if n > 0 && n == mrz_lines(&b).len() {
                prop_assert_eq!(fused.lines().count(), n);
            }
        }

        #[test]
        fn printed_substitution_never_panics(a in "\\PC{0,120}", b in "\\PC{0,40}") {
            let _ = with_printed_value(&a, &b);
        }

        #[test]
        fn fusing_a_reading_with_itself_changes_nothing(line in "[A-Z0-9<]{30}") {
            prop_assert_eq!(fuse(&line, &line), format!("{line}\n"));
        }
    }
}
