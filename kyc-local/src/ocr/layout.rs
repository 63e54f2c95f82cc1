//! Key/value pairing by layout: Tesseract's words (TSV: boxes and confidences) are joined into
//! phrases (words on one line separated by ordinary word spacing); a phrase that kyc-core's
//! label classifier recognises is a label, and its value is the nearest non-label phrase just
//! below it (left-aligned or overlapping) or, failing that, to its right on the same line.
//! `Label: value` and `Label value` in one phrase are split. The pairs go to
//! `kyc_core::document::normalise_pairs`; nothing here interprets values.

use kyc_core::document::{classify_label, KeyValue};

/// The most words looked at (a page has a few hundred).
const MAX_WORDS: usize = 5000;
/// Values Tesseract is less sure of than this (0–100) are noise: specks, patterns, photos.
const MIN_VALUE_CONFIDENCE: f32 = 40.0;

/// One recognised word.
#[derive(Clone, PartialEq)]
pub struct Word {
    /// Left edge.
    pub x0: f32,
    /// Top.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom.
    pub y1: f32,
    /// Tesseract's confidence, 0–100.
    pub conf: f32,
    /// The text.
    pub text: String,
}

impl std::fmt::Debug for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Word({}, {}, {}, {})",
            self.x0, self.y0, self.x1, self.y1
        )
    }
}

impl Word {
    fn h(&self) -> f32 {
        (self.y1 - self.y0).max(1.0)
    }
}

/// Parses Tesseract's TSV output: the word rows (level 5) with non-empty text.
pub fn parse_tsv(tsv: &str) -> Vec<Word> {
    let mut words = Vec::new();
    for line in tsv.lines() {
        if words.len() >= MAX_WORDS {
            break;
        }
        let cols: Vec<&str> = line.splitn(12, '\t').collect();
        let [level, _, _, _, _, _, left, top, width, height, conf, text] = cols.as_slice() else {
            continue;
        };
        if level.trim() != "5" {
            continue;
        }
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let num = |s: &str| s.trim().parse::<f32>().ok().filter(|v| v.is_finite());
        let (Some(x), Some(y), Some(w), Some(h), Some(c)) =
            (num(left), num(top), num(width), num(height), num(conf))
        else {
            continue;
        };
        words.push(Word {
            x0: x,
            y0: y,
            x1: x + w,
            y1: y + h,
            conf: c.clamp(0.0, 100.0),
            text: text.to_string(),
        });
    }
    words
}

/// Words on one line, close together.
#[derive(Clone)]
struct Phrase {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    words: Vec<Word>,
}

impl Phrase {
    fn text(&self) -> String {
        self.words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
    fn h(&self) -> f32 {
        (self.y1 - self.y0).max(1.0)
    }
    fn cy(&self) -> f32 {
        (self.y0 + self.y1) / 2.0
    }
    fn conf(&self) -> f32 {
        if self.words.is_empty() {
            return 0.0;
        }
        self.words.iter().map(|w| w.conf).sum::<f32>() / self.words.len() as f32
    }
}

/// Joins words into phrases: a word continues a phrase when it overlaps it vertically by half
/// its height and starts within 1.2 line heights of its end.
fn phrases(words: &[Word]) -> Vec<Phrase> {
    let mut sorted: Vec<&Word> = words.iter().collect();
    sorted.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    let mut out: Vec<Phrase> = Vec::new();
    for w in sorted {
        // The nearest phrase this word can continue.
        let found = out
            .iter_mut()
            .filter(|p| {
                let overlap = p.y1.min(w.y1) - p.y0.max(w.y0);
                let h = p.h().min(w.h());
                if overlap < 0.5 * h {
                    return false;
                }
                // A word starting inside the phrase's box belongs to it (Tesseract's boxes
                // sometimes overlap the next words of the line).
                if w.x0 >= p.x0 && w.x0 < p.x1 {
                    return true;
                }
                let gap = w.x0 - p.x1;
                let line_h = p.h().max(w.h());
                gap > -0.5 * line_h && gap <= 1.2 * line_h
                    // Heights too different are a label next to a value, not one phrase.
                    && p.h() < 1.7 * w.h() && w.h() < 1.7 * p.h()
            })
            .min_by(|a, b| (w.x0 - a.x1).abs().total_cmp(&(w.x0 - b.x1).abs()));
        match found {
            Some(p) => {
                p.x1 = p.x1.max(w.x1);
                p.y0 = p.y0.min(w.y0);
                p.y1 = p.y1.max(w.y1);
                p.words.push(w.clone());
            }
            None => out.push(Phrase {
                x0: w.x0,
                y0: w.y0,
                x1: w.x1,
                y1: w.y1,
                words: vec![w.clone()],
            }),
        }
    }
    out
}

fn letters(s: &str) -> usize {
    s.chars().filter(|c| c.is_alphabetic()).count()
}

/// Lowercase letter groups OCR engines confuse at small sizes (`rn`/`m` above all).
const CONFUSIONS: &[(&str, &str)] = &[
    ("m", "rn"),
    ("m", "n"),
    ("n", "m"),
    ("rn", "m"),
    ("n", "ri"),
    ("ri", "n"),
    ("cl", "d"),
    ("d", "cl"),
    ("vv", "w"),
    ("li", "h"),
    ("h", "li"),
    ("l", "i"),
    ("i", "l"),
    ("t", "rt"),
    ("b", "rb"),
];

/// The label `text` is, read as printed or with one confusion of [`CONFUSIONS`] undone.
fn classify_tolerant(text: &str) -> Option<String> {
    if classify_label(text, false).is_some() {
        return Some(text.to_string());
    }
    // A multilingual label is undone part by part (`label_key`): a confusion applied to the
    // whole could make one part unreadable, and kyc-core tolerates an unreadable part, so
    // "Surname / Date of birth" (two fields) would turn into a date-of-birth label.
    if letters(text) < 4 || text.len() > 80 || text.contains(['/', '|']) {
        return None;
    }
    for (from, to) in CONFUSIONS {
        for (at, _) in text.match_indices(from) {
            let mut candidate = String::with_capacity(text.len() + 2);
            candidate.push_str(text.get(..at).unwrap_or(""));
            candidate.push_str(to);
            candidate.push_str(text.get(at + from.len()..).unwrap_or(""));
            if classify_label(&candidate, false).is_some() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Whether `text` names a field, and the text that does (a part of a bilingual label whose
/// other part was misread still names it; a small-print confusion such as `Surmame` is undone).
fn label_key(text: &str) -> Option<String> {
    let text = text.trim();
    if letters(text) < 2 {
        return None;
    }
    // Field numbering (`4b.`) names a field only with words that name it too: OCR junk with a
    // stray digit must not become a label.
    if text.chars().any(|c| c.is_ascii_digit()) {
        let words: Vec<&str> = text
            .split_whitespace()
            .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
            .collect();
        return label_key(&words.join(" "));
    }
    if let Some(key) = classify_tolerant(text) {
        return Some(key);
    }
    // A multilingual label: undo confusions part by part, then let kyc-core judge the whole
    // (it tolerates a part it cannot read and refuses parts that name different fields).
    if text.contains('/') {
        let joined = text
            .split('/')
            .map(|part| {
                let part = part.trim();
                classify_tolerant(part).unwrap_or_else(|| part.to_owned())
            })
            .collect::<Vec<_>>()
            .join(" / ");
        return classify_label(&joined, false).is_some().then_some(joined);
    }
    None
}

/// What a phrase is.
enum Role {
    /// A label whose value is elsewhere.
    Label(String),
    /// A label with its value in the same phrase.
    Inline(String, String),
    /// Not a label.
    Other,
}

fn role(p: &Phrase) -> Role {
    let text = p.text();
    if let Some(key) = label_key(&text) {
        return Role::Label(key);
    }
    if let Some((left, right)) = text.split_once(':') {
        if let Some(key) = label_key(left) {
            let value = right.trim();
            return if value.is_empty() {
                Role::Label(key)
            } else {
                Role::Inline(key, value.to_string())
            };
        }
    }
    // `Label value`: the longest leading run of words that is a label, the rest its value —
    // when the rest is printed at least as tall (a label's own words, such as the `names` of
    // a split `Given names`, are often only x-height tall).
    let words: Vec<&str> = p.words.iter().map(|w| w.text.as_str()).collect();
    let tallest = |ws: &[Word]| ws.iter().map(Word::h).fold(0.0f32, f32::max);
    for k in (1..words.len()).rev() {
        let head = words.get(..k).map(|h| h.join(" ")).unwrap_or_default();
        let tail = words.get(k..).map(|t| t.join(" ")).unwrap_or_default();
        let (Some(head_words), Some(tail_words)) = (p.words.get(..k), p.words.get(k..)) else {
            continue;
        };
        if tallest(tail_words) < 0.85 * tallest(head_words) {
            continue;
        }
        if let Some(key) = label_key(&head) {
            if label_key(&tail).is_none() {
                return Role::Inline(key, tail);
            }
        }
    }
    Role::Other
}

/// How far `value` is from being `label`'s value (smaller is better), `None` when it cannot be.
fn distance(label: &Phrase, value: &Phrase) -> Option<f32> {
    let h = label.h().max(value.h());
    // Below: starts under the label's middle, within one and a half line heights of its
    // bottom, left-aligned with it or overlapping it horizontally.
    let below_gap = value.y0 - label.y1;
    if value.y0 > label.cy() && below_gap <= 1.5 * h {
        let aligned = (value.x0 - label.x0).abs() <= 1.5 * value.h();
        let overlap = value.x1.min(label.x1) - value.x0.max(label.x0);
        let overlapping = overlap >= 0.5 * (value.x1 - value.x0).min(label.x1 - label.x0);
        if aligned || overlapping {
            return Some(below_gap.max(0.0) + 0.1 * (value.x0 - label.x0).abs());
        }
    }
    // Right: on the same line, after the label, within six line heights.
    let same_line = (value.cy() - label.cy()).abs() <= 0.5 * h;
    let right_gap = value.x0 - label.x1;
    if same_line && right_gap >= -0.2 * h && right_gap <= 6.0 * h {
        // Ranked after any value below.
        return Some(2.0 * h + right_gap);
    }
    None
}

/// The labelled values on a page, from Tesseract's words.
pub fn pair(words: &[Word]) -> Vec<KeyValue> {
    let phrases = phrases(words);
    let roles: Vec<Role> = phrases.iter().map(role).collect();
    let mut pairs = Vec::new();
    let mut wanted: Vec<(usize, String)> = Vec::new();
    for (i, (p, r)) in phrases.iter().zip(&roles).enumerate() {
        match r {
            Role::Inline(key, value) if p.conf() >= MIN_VALUE_CONFIDENCE => {
                pairs.push(KeyValue::new(key.clone(), value.clone(), p.conf()));
            }
            Role::Label(key) => wanted.push((i, key.clone())),
            Role::Inline(..) | Role::Other => {}
        }
    }
    // Every (label, value) candidate, nearest first; each label and each value used once.
    let mut candidates: Vec<(f32, usize, usize)> = Vec::new();
    for (li, (label_index, _)) in wanted.iter().enumerate() {
        let Some(label) = phrases.get(*label_index) else {
            continue;
        };
        for (vi, (value, r)) in phrases.iter().zip(&roles).enumerate() {
            if vi == *label_index
                || !matches!(r, Role::Other)
                || value.conf() < MIN_VALUE_CONFIDENCE
            {
                continue;
            }
            if let Some(d) = distance(label, value) {
                candidates.push((d, li, vi));
            }
        }
    }
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut label_done = vec![false; wanted.len()];
    let mut value_done = vec![false; phrases.len()];
    let mut found: Vec<(usize, KeyValue)> = Vec::new();
    for (_, li, vi) in candidates {
        if label_done.get(li).copied().unwrap_or(true)
            || value_done.get(vi).copied().unwrap_or(true)
        {
            continue;
        }
        let (Some((label_index, key)), Some(value)) = (wanted.get(li), phrases.get(vi)) else {
            continue;
        };
        if let Some(d) = label_done.get_mut(li) {
            *d = true;
        }
        if let Some(d) = value_done.get_mut(vi) {
            *d = true;
        }
        found.push((
            *label_index,
            KeyValue::new(key.clone(), value.text(), value.conf()),
        ));
    }
    // Page order (top to bottom) for a stable result.
    found.sort_by(|a, b| {
        let (pa, pb) = (phrases.get(a.0), phrases.get(b.0));
        let key = |p: Option<&Phrase>| p.map(|p| (p.y0, p.x0)).unwrap_or((0.0, 0.0));
        let (ka, kb) = (key(pa), key(pb));
        ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
    });
    pairs.extend(found.into_iter().map(|(_, kv)| kv));
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(x: f32, y: f32, text: &str, h: f32) -> Word {
        Word {
            x0: x,
            y0: y,
            x1: x + text.chars().count() as f32 * h * 0.6,
            y1: y + h,
            conf: 90.0,
            text: text.to_string(),
        }
    }

    fn words(spec: &[(f32, f32, &str, f32)]) -> Vec<Word> {
        let mut out = Vec::new();
        for &(x, y, text, h) in spec {
            let mut caret = x;
            for part in text.split(' ') {
                let word = w(caret, y, part, h);
                caret = word.x1 + h * 0.35;
                out.push(word);
            }
        }
        out
    }

    fn pairs_of(spec: &[(f32, f32, &str, f32)]) -> Vec<(String, String)> {
        pair(&words(spec))
            .into_iter()
            .map(|kv| (kv.key, kv.value))
            .collect()
    }

    #[test]
    fn values_below_their_labels_are_paired() {
        let got = pairs_of(&[
            (100.0, 100.0, "Surname", 12.0),
            (100.0, 116.0, "CARVALHO", 20.0),
            (100.0, 150.0, "Sex", 12.0),
            (300.0, 150.0, "Nationality", 12.0),
            (100.0, 166.0, "F", 20.0),
            (300.0, 166.0, "BRA", 20.0),
        ]);
        assert_eq!(
            got,
            vec![
                ("Surname".into(), "CARVALHO".into()),
                ("Sex".into(), "F".into()),
                ("Nationality".into(), "BRA".into()),
            ]
        );
    }

    #[test]
    fn values_to_the_right_and_inline_values_are_paired() {
        let got = pairs_of(&[
            (100.0, 100.0, "Date of birth", 14.0),
            (260.0, 100.0, "12.08.1974", 14.0),
            (100.0, 140.0, "Surname: ERIKSSON", 14.0),
        ]);
        assert_eq!(
            got,
            vec![
                ("Surname".into(), "ERIKSSON".into()),
                ("Date of birth".into(), "12.08.1974".into()),
            ]
        );
    }

    #[test]
    fn a_bilingual_label_with_one_misread_half_still_names_its_field() {
        // kyc-core reads the whole bilingual label (the misread half is tolerated); what matters
        // is that the key names the field.
        let key = label_key("Staatsangehdrigkeit / Nationality").expect("a label");
        assert_eq!(
            classify_label(&key, false),
            classify_label("Nationality", false)
        );
        assert!(classify_label("Nationality", false).is_some());
        assert_eq!(label_key("Nom / Surname").as_deref(), Some("Nom / Surname"));
        assert_eq!(label_key("02/01/1982"), None);
        assert_eq!(label_key("CARVALHO"), None);
        assert_eq!(label_key("Surmame").as_deref(), Some("Surname"));
        assert_eq!(label_key("Authonty").as_deref(), Some("Authority"));
        assert_eq!(label_key("MARTIN"), None);
        assert_eq!(label_key("Lie 1,3 AAR wo Eo, Bl"), None);
        assert_eq!(label_key("1. Surname").as_deref(), Some("Surname"));
        assert_eq!(label_key("Surname / Date of birth"), None);
    }

    #[test]
    fn words_inside_an_overlapping_box_join_their_phrase() {
        // Tesseract gave "Nombre" a box reaching over "/ Given"; "names" is x-height only.
        let word = |x0: f32, y0: f32, x1: f32, y1: f32, text: &str| Word {
            x0,
            y0,
            x1,
            y1,
            conf: 95.0,
            text: text.to_string(),
        };
        let words = vec![
            word(568.0, 379.0, 716.0, 396.0, "Nombre"),
            word(649.0, 375.0, 657.0, 405.0, "/"),
            word(666.0, 379.0, 716.0, 396.0, "Given"),
            word(725.0, 383.0, 788.0, 395.0, "names"),
            word(568.0, 403.0, 679.0, 433.0, "CHLOE"),
        ];
        let got: Vec<(String, String)> = pair(&words)
            .into_iter()
            .map(|kv| (kv.key, kv.value))
            .collect();
        assert_eq!(got.len(), 1, "one pair: {got:?}");
        assert_eq!(got[0].1, "CHLOE");
        assert!(got[0].0.starts_with("Nombre"), "{got:?}");
        assert_eq!(
            classify_label(&got[0].0, false),
            classify_label("Nombre", false)
        );
    }

    #[test]
    fn a_value_is_given_to_one_label_only() {
        let got = pairs_of(&[
            (100.0, 100.0, "Surname", 12.0),
            (100.0, 130.0, "Given names", 12.0),
            (100.0, 146.0, "ANNA", 20.0),
        ]);
        assert_eq!(got, vec![("Given names".into(), "ANNA".into())]);
    }

    #[test]
    fn tsv_rows_are_read_and_junk_rows_skipped() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t800\t600\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t20\t50\t12\t91.5\tSurname\n\
                   5\t1\t1\t1\t1\t2\tx\t20\t50\t12\t91.5\tbad\n\
                   5\t1\t1\t1\t1\t3\t10\t20\t50\t12\t91.5\t \n\
                   garbage";
        let words = parse_tsv(tsv);
        assert_eq!(words.len(), 1);
        assert_eq!(words[0].text, "Surname");
        assert_eq!(words[0].x1, 60.0);
    }
}
