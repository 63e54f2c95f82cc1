//! The name matcher: token similarity (exact, phonetic key, edit distance, consonant skeleton
//! for abjad scripts, initials, joined/split tokens), a greedy alignment that tolerates
//! reordering and missing middle names, and a weighted score on 0–1 with the alignment kept for
//! the explanation.
//!
//! The score of two names is symmetric (it is computed in a canonical order), never above the
//! score of a name with itself (1.0), and 0 when either name holds no name token (a bare "CORP").

use std::fmt;

use serde::Serialize;

use super::model::Schema;
use super::normalize::{phonetic_key, prepare_name, PreparedName, Token, TokenClass};

/// How two tokens were found alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TokenMatch {
    /// Same letters.
    Exact,
    /// Same phonetic key (spelling variant).
    Phonetic,
    /// Close in edit distance (typo).
    Fuzzy,
    /// Same consonants, one side written without short vowels (Arabic, Persian).
    Consonants,
    /// An initial and a name that starts with it.
    Initial,
    /// Two tokens on one side written as one on the other ("JanDaniel", "Siemens AG").
    Joined,
}

/// Tokens per name that take part in matching; the rest of a very long name is ignored.
const MAX_TOKENS: usize = 16;

/// One aligned pair: token ranges (start, length) on each side.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Pair {
    pub a: (u8, u8),
    pub b: (u8, u8),
    pub sim: f32,
    pub how: TokenMatch,
}

/// The result of comparing two prepared names.
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct Alignment {
    pub score: f32,
    pub pairs: Vec<Pair>,
    /// Why the score was lowered after alignment, if it was.
    pub single_token: bool,
    /// Tokens on both sides that found no counterpart (weight): a conflict, not an omission.
    pub conflict: f32,
    /// Pairs aligned across a patronymic particle (A bin B against B bin A).
    pub crossed_patronymic: bool,
}

/// Similarity of two names on 0–1 (1 = same name), compared as person names. Convenience over
/// [`prepare_name`]; see [`name_similarity_as`] for other kinds of entity.
///
/// ```
/// use kyc_core::sanctions::name_similarity;
/// assert_eq!(name_similarity("PUTIN, Vladimir", "Vladimir Putin"), 1.0);
/// assert!(name_similarity("Olaf Schulze", "Olaf Scholz") > 0.8);
/// assert!(name_similarity("Barack Obama", "Michelle Obama") < 0.6);
/// assert!(name_similarity("EMMA LLC", "Emma Daniels") < 0.8);
/// assert_eq!(name_similarity("CORP", "CORP"), 0.0);
/// ```
pub fn name_similarity(a: &str, b: &str) -> f32 {
    compare(&prepare_name(a), &prepare_name(b), Schema::Person).score
}

/// Similarity of two names of the given kind of entity, on 0–1.
///
/// Person names often omit middle names, so a name whose every token is found in a longer one
/// still scores high; in the name of an organisation or vessel every word distinguishes, so
/// extra words cost more.
///
/// ```
/// use kyc_core::sanctions::{name_similarity_as, Schema};
/// let (a, b) = ("Banco Santander S.A.", "Banco Santander Chile S.A.");
/// assert!(name_similarity_as(a, b, Schema::Organisation) < name_similarity_as(a, b, Schema::Person));
/// ```
pub fn name_similarity_as(a: &str, b: &str, schema: Schema) -> f32 {
    compare(&prepare_name(a), &prepare_name(b), schema).score
}

/// Compares two prepared names as names of the given kind of entity.
pub(crate) fn compare(a: &PreparedName, b: &PreparedName, schema: Schema) -> Alignment {
    if a.is_empty_of_names() || b.is_empty_of_names() {
        return Alignment::default();
    }
    // Canonical order makes the score symmetric whatever the tie-breaks of the alignment.
    if canonical_swap(a, b) {
        let mut al = align(b, a, schema);
        for p in &mut al.pairs {
            std::mem::swap(&mut p.a, &mut p.b);
        }
        al
    } else {
        align(a, b, schema)
    }
}

fn canonical_swap(a: &PreparedName, b: &PreparedName) -> bool {
    let ta = a.tokens.iter().map(|t| t.text.as_str());
    let tb = b.tokens.iter().map(|t| t.text.as_str());
    ta.cmp(tb) == std::cmp::Ordering::Greater
}

fn align(a: &PreparedName, b: &PreparedName, schema: Schema) -> Alignment {
    let at = a
        .tokens
        .get(..a.tokens.len().min(MAX_TOKENS))
        .unwrap_or(&[]);
    let bt = b
        .tokens
        .get(..b.tokens.len().min(MAX_TOKENS))
        .unwrap_or(&[]);
    let (pat_a, pat_b) = (patronymic_at(at), patronymic_at(bt));
    let mut pool: Vec<Pair> = Vec::with_capacity(at.len() * bt.len() + 8);
    for (i, x) in at.iter().enumerate() {
        if x.weight() == 0.0 {
            continue;
        }
        for (j, y) in bt.iter().enumerate() {
            if y.weight() == 0.0 {
                continue;
            }
            let (sim, how) = token_similarity(x, y);
            if sim > 0.0 {
                pool.push(Pair {
                    a: (i as u8, 1),
                    b: (j as u8, 1),
                    sim,
                    how,
                });
            }
        }
    }
    joined_pairs(at, bt, false, &mut pool);
    joined_pairs(bt, at, true, &mut pool);
    pool.sort_by(|p, q| {
        q.sim
            .total_cmp(&p.sim)
            .then((p.a.1 + p.b.1).cmp(&(q.a.1 + q.b.1)))
            .then(p.a.cmp(&q.a))
            .then(p.b.cmp(&q.b))
    });
    let mut used_a = [false; MAX_TOKENS];
    let mut used_b = [false; MAX_TOKENS];
    let mut pairs = Vec::new();
    for p in pool {
        let ra = usize::from(p.a.0)..usize::from(p.a.0 + p.a.1);
        let rb = usize::from(p.b.0)..usize::from(p.b.0 + p.b.1);
        let free_a = used_a.get(ra.clone()).is_some_and(|s| s.iter().all(|u| !u));
        let free_b = used_b.get(rb.clone()).is_some_and(|s| s.iter().all(|u| !u));
        if free_a && free_b {
            for u in used_a.get_mut(ra).into_iter().flatten() {
                *u = true;
            }
            for u in used_b.get_mut(rb).into_iter().flatten() {
                *u = true;
            }
            pairs.push(p);
        }
    }
    let (wa, wb) = (total_weight(at), total_weight(bt));
    let mut ma = 0.0f32;
    let mut mb = 0.0f32;
    let mut crossed_patronymic = false;
    for p in &pairs {
        let mut c = contribution(p.sim);
        // "A bin B" names A, son of B: matching A to the other name's B is not a match.
        if let (Some(ka), Some(kb)) = (pat_a, pat_b) {
            if (usize::from(p.a.0) < ka) != (usize::from(p.b.0) < kb)
                && usize::from(p.a.0) != ka
                && usize::from(p.b.0) != kb
            {
                c *= 0.3;
                crossed_patronymic = true;
            }
        }
        ma += c * range_weight(at, p.a);
        mb += c * range_weight(bt, p.b);
    }
    let cov_a = if wa > 0.0 { ma / wa } else { 0.0 };
    let cov_b = if wb > 0.0 { mb / wb } else { 0.0 };
    let (hi, lo) = (cov_a.max(cov_b), cov_a.min(cov_b));
    // How much the shorter side's coverage counts against the longer side's leftovers.
    let lenient = match schema {
        Schema::Person => 0.8,
        Schema::Organisation | Schema::Vessel | Schema::Aircraft => 0.55,
    };
    let mut score = hi * (lenient + (1.0 - lenient) * lo);
    // Name tokens left over on *both* sides are a conflict (another surname), not an omission.
    let conflict = (wa - ma).min(wb - mb).max(0.0);
    let smaller = wa.min(wb);
    if smaller > 0.0 {
        score -= 0.5 * conflict / smaller;
    }
    let names_a = at.iter().filter(|t| t.class == TokenClass::Name).count();
    let names_b = bt.iter().filter(|t| t.class == TokenClass::Name).count();
    // One name token against several is weak evidence, unless it is those tokens written
    // together ("XIJINPING" for "Xi Jinping").
    let joined = pairs.iter().any(|p| p.how == TokenMatch::Joined);
    let single_token = names_a.min(names_b) == 1 && names_a.max(names_b) > 1 && !joined;
    if single_token {
        score *= 0.88;
    }
    Alignment {
        score: score.clamp(0.0, 1.0),
        pairs,
        single_token,
        conflict,
        crossed_patronymic,
    }
}

/// Position of the first patronymic particle (bin, ibn, ben, bint) that has a name on either
/// side of it.
fn patronymic_at(t: &[Token]) -> Option<usize> {
    t.iter().enumerate().find_map(|(i, tok)| {
        (i > 0
            && i + 1 < t.len()
            && matches!(tok.text.as_str(), "BIN" | "IBN" | "BEN" | "BINT" | "BENT"))
        .then_some(i)
    })
}

fn total_weight(t: &[Token]) -> f32 {
    t.iter().map(Token::weight).sum()
}

fn range_weight(t: &[Token], (start, len): (u8, u8)) -> f32 {
    t.get(usize::from(start)..usize::from(start + len))
        .map_or(0.0, |s| s.iter().map(Token::weight).sum())
}

/// How much an aligned pair counts, from its similarity: full value from 0.8 up, falling to
/// nothing at 0.55 (two different names that share some letters count for nothing).
fn contribution(sim: f32) -> f32 {
    if sim >= 0.8 {
        sim
    } else {
        ((sim - 0.55) / 0.25 * 0.8).max(0.0)
    }
}

/// Adds pairs where two or three adjacent tokens of `many` written together match one token of
/// `one` ("Jan Daniel" / "JanDaniel", "van der bilt" / "vanderbilt").
fn joined_pairs(many: &[Token], one: &[Token], swapped: bool, pool: &mut Vec<Pair>) {
    let mut joined: Vec<u8> = Vec::with_capacity(48);
    for n in 2..=3usize {
        for (i, w) in many.windows(n).enumerate() {
            if w.iter().any(|t| t.weight() == 0.0) {
                continue;
            }
            let len: usize = w.iter().map(|t| t.text.len()).sum();
            let first = w.first().and_then(|t| t.text.as_bytes().first()).copied();
            let mut built = false;
            for (j, z) in one.iter().enumerate() {
                if z.text.len().abs_diff(len) > 2 || z.text.as_bytes().first().copied() != first {
                    continue;
                }
                if !built {
                    joined.clear();
                    for t in w {
                        joined.extend_from_slice(t.text.as_bytes());
                    }
                    built = true;
                }
                let mut sim = edit_similarity(&joined, z.text.as_bytes());
                // Written without short vowels, the join is compared on its consonants.
                if sim < 0.85 && (z.abjad || w.iter().any(|t| t.abjad)) {
                    let key = std::str::from_utf8(&joined)
                        .map(phonetic_key)
                        .unwrap_or_default();
                    if key.len() >= 3 && key == z.key {
                        sim = 0.9;
                    }
                }
                if sim >= 0.85 {
                    let (pa, pb) = ((i as u8, n as u8), (j as u8, 1));
                    let (a, b) = if swapped { (pb, pa) } else { (pa, pb) };
                    pool.push(Pair {
                        a,
                        b,
                        sim,
                        how: TokenMatch::Joined,
                    });
                }
            }
        }
    }
}

/// Similarity of two tokens on 0–1 and how it was found.
pub(crate) fn token_similarity(x: &Token, y: &Token) -> (f32, TokenMatch) {
    if let (Some(gx), Some(gy)) = (&x.glyphs, &y.glyphs) {
        // Same script: compare the characters, since different characters are different
        // syllables even when they transliterate alike (石/市 both "SHI").
        if gx == gy {
            return (1.0, TokenMatch::Exact);
        }
        let (cx, cy): (Vec<char>, Vec<char>) = (gx.chars().collect(), gy.chars().collect());
        if cx.len() != cy.len() || cx.is_empty() {
            return (0.0, TokenMatch::Fuzzy);
        }
        let same = cx.iter().zip(&cy).filter(|(a, b)| a == b).count();
        return (same as f32 / cx.len() as f32, TokenMatch::Fuzzy);
    }
    if x.text == y.text {
        return (1.0, TokenMatch::Exact);
    }
    if x.class == TokenClass::Number || y.class == TokenClass::Number {
        return (0.0, TokenMatch::Fuzzy);
    }
    let (xb, yb) = (x.text.as_bytes(), y.text.as_bytes());
    if xb.len() == 1 || yb.len() == 1 {
        let initial = xb.first() == yb.first();
        return if initial {
            (0.8, TokenMatch::Initial)
        } else {
            (0.0, TokenMatch::Initial)
        };
    }
    // Lower bound on the edit distance: the length difference, and the letters only one side
    // has (one edit fixes at most one such letter on each side). Below 0.55 a pair counts for
    // nothing, so the exact distance is not worth computing.
    let longest = xb.len().max(yb.len());
    let only_x = (x.letters & !y.letters).count_ones() as usize;
    let only_y = (y.letters & !x.letters).count_ones() as usize;
    let lower = xb.len().abs_diff(yb.len()).max(only_x).max(only_y);
    let edit = if (lower as f32) > 0.45 * longest as f32 {
        0.0
    } else {
        edit_similarity(xb, yb)
    };
    let mut best = (edit, TokenMatch::Fuzzy);
    // A key of two consonants says less: it counts only when the words also start alike
    // (JOHN/JUAN, EL/AL), not for YUN/JIAN, which share "YN" through J→Y.
    let vowel = |c: Option<&u8>| matches!(c, Some(b'A' | b'E' | b'I' | b'O' | b'U'));
    let same_start = xb.first() == yb.first() || (vowel(xb.first()) && vowel(yb.first()));
    if x.key == y.key && (x.key.len() >= 3 || (x.key.len() == 2 && same_start)) {
        let s = if x.key.len() >= 3 { 0.9 } else { 0.85 };
        if best.0 < s {
            best = (s, TokenMatch::Phonetic);
        }
    } else if (x.abjad || y.abjad) && x.key.len() >= 2 && y.key.len() >= 2 {
        let s = 0.9 * edit_similarity(x.key.as_bytes(), y.key.as_bytes());
        if s > best.0 {
            best = (s, TokenMatch::Consonants);
        }
    }
    best
}

/// 1 − (optimal string alignment distance ÷ longer length), on at most 64 bytes of each.
pub(crate) fn edit_similarity(a: &[u8], b: &[u8]) -> f32 {
    let a = a.get(..a.len().min(64)).unwrap_or(a);
    let b = b.get(..b.len().min(64)).unwrap_or(b);
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let d = osa_distance(a, b);
    1.0 - d as f32 / longest as f32
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions), for inputs of
/// at most 64 bytes.
fn osa_distance(a: &[u8], b: &[u8]) -> usize {
    let n = b.len().min(64);
    let mut rows = [[0u8; 65]; 3];
    for (j, p) in rows[0].iter_mut().enumerate().take(n + 1) {
        *p = j as u8;
    }
    // rows[(i + 1) % 3] is row i - 1, rows[i % 3] row i, rows[(i + 2) % 3] row i - 2.
    for (i, &ca) in a.iter().enumerate().take(64).map(|(i, c)| (i + 1, c)) {
        let (cur_i, prev_i, prev2_i) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        let mut cur = rows[cur_i];
        let prev = &rows[prev_i];
        let prev2 = &rows[prev2_i];
        cur[0] = i as u8;
        for j in 1..=n {
            let cb = b[j - 1];
            let cost = u8::from(ca != cb);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && ca == b[j - 2] && a[i - 2] == cb {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
        }
        rows[cur_i] = cur;
    }
    usize::from(rows[a.len().min(64) % 3][n])
}

/// The alignment of one query name with one list name, for explanations.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenAlignment {
    /// Query token(s).
    pub query: String,
    /// List token(s).
    pub list: String,
    /// Their similarity, 0–1.
    pub similarity: f32,
    /// How they were found alike.
    #[serde(rename = "match")]
    pub how: TokenMatch,
}

impl fmt::Debug for TokenAlignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TokenAlignment(<redacted>, {:?}, {})",
            self.how, self.similarity
        )
    }
}

/// The per-token detail of a name comparison.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NameAlignment {
    /// Aligned tokens, in query order.
    pub tokens: Vec<TokenAlignment>,
    /// Query tokens left unmatched (titles are not listed).
    pub unmatched_query: Vec<String>,
    /// List tokens left unmatched.
    pub unmatched_list: Vec<String>,
    /// Notes on adjustments (`single name token`, `unmatched number`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<&'static str>,
}

impl fmt::Debug for NameAlignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NameAlignment")
            .field("tokens", &self.tokens)
            .field("unmatched_query", &self.unmatched_query.len())
            .field("unmatched_list", &self.unmatched_list.len())
            .field("notes", &self.notes)
            .finish()
    }
}

/// Spells an alignment out with the token texts.
pub(crate) fn describe(q: &PreparedName, l: &PreparedName, al: &Alignment) -> NameAlignment {
    let text = |t: &[Token], (s, n): (u8, u8)| -> String {
        t.get(usize::from(s)..usize::from(s + n))
            .map(|s| {
                s.iter()
                    .map(|t| t.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    let mut pairs = al.pairs.clone();
    pairs.sort_by_key(|p| p.a.0);
    let mut used_q = vec![false; q.tokens.len()];
    let mut used_l = vec![false; l.tokens.len()];
    let mut tokens = Vec::new();
    for p in &pairs {
        for k in usize::from(p.a.0)..usize::from(p.a.0 + p.a.1) {
            if let Some(u) = used_q.get_mut(k) {
                *u = true;
            }
        }
        for k in usize::from(p.b.0)..usize::from(p.b.0 + p.b.1) {
            if let Some(u) = used_l.get_mut(k) {
                *u = true;
            }
        }
        tokens.push(TokenAlignment {
            query: text(&q.tokens, p.a),
            list: text(&l.tokens, p.b),
            similarity: round3(p.sim),
            how: p.how,
        });
    }
    let unmatched = |t: &[Token], used: &[bool]| -> Vec<String> {
        t.iter()
            .zip(used)
            .filter(|(t, u)| !**u && t.class != TokenClass::Title)
            .map(|(t, _)| t.text.clone())
            .collect()
    };
    let mut notes = Vec::new();
    if al.single_token {
        notes.push("single name token on one side");
    }
    if al.conflict > 0.0 {
        notes.push("tokens on both sides without counterpart");
    }
    if al.crossed_patronymic {
        notes.push("names aligned across a patronymic particle");
    }
    NameAlignment {
        tokens,
        unmatched_query: unmatched(&q.tokens, &used_q),
        unmatched_list: unmatched(&l.tokens, &used_l),
        notes,
    }
}

/// Rounds to three decimals (stable output for explanations and snapshots).
pub(crate) fn round3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sim(a: &str, b: &str) -> f32 {
        name_similarity(a, b)
    }

    #[test]
    fn reordering_case_accents_and_titles_do_not_matter() {
        assert_eq!(sim("PUTIN, Vladimir", "vladimir putin"), 1.0);
        assert_eq!(sim("Mr. Recep Tayyip Erdoğan", "Recep Tayyip Erdogan"), 1.0);
        assert_eq!(sim("François Hollande", "Francois Hollande"), 1.0);
    }

    #[test]
    fn missing_middle_names_cost_little_and_a_wrong_surname_costs_much() {
        assert!(
            sim(
                "SHER ABBAS STANEKZAI",
                "SHER MOHAMMAD ABBAS STANEKZAI PADSHAH KHAN"
            ) > 0.85
        );
        assert!(
            sim(
                "RUSTAM MAGOMEDOVICH KADYROV",
                "RUSTAM MAGOMEDOVICH ASELDEROV"
            ) < 0.8
        );
        assert!(sim("Barack Obama", "George Hussein Onyango Obama") < 0.6);
    }

    #[test]
    fn typos_initials_and_joined_tokens_are_tolerated() {
        assert!(sim("Kim Joonng-un", "Kim Jong-un") > 0.85);
        assert!(sim("A. Khamenei", "Ali Khamenei") > 0.8);
        assert_eq!(sim("Siemens AG", "SiemensAG"), 1.0);
        assert_eq!(sim("Jan Daniel Bothma", "JanDaniel Bothma"), 1.0);
        assert!(sim("Wallmart Inc.", "Walmart Inc.") > 0.85);
    }

    #[test]
    fn bare_legal_forms_never_match_and_suffixes_do_not_carry_a_match() {
        assert_eq!(sim("CORP", "CORP"), 0.0);
        assert_eq!(sim("LLC", "EMMA LLC"), 0.0);
        assert!(sim("EMMA LLC", "Emma Daniels") < 0.8);
        assert!(sim("Microsoft Corporation", "Microsoft Corp.") > 0.99);
    }

    #[test]
    fn number_words_are_read_as_numbers() {
        assert_eq!(sim("Brigade Forty-Four", "Brigade 44"), 1.0);
        assert_eq!(
            sim("1st International Bank", "First International Bank"),
            1.0
        );
    }

    #[test]
    fn a_patronymic_reversal_is_not_a_match() {
        assert!(sim("AHMAD BIN HASAN AL-UBAIDI", "HASAN BIN AHMAD AL-UBAIDI") < 0.6);
    }

    #[test]
    fn syllabic_characters_that_transliterate_alike_are_still_different() {
        assert!(sim("高石早苗", "高市早苗") < 0.8);
        assert!(sim("习近平", "Xi Jinping") > 0.95);
    }

    #[test]
    fn osa_distance_counts_transpositions_once() {
        assert_eq!(osa_distance(b"ABCD", b"ABDC"), 1);
        assert_eq!(osa_distance(b"", b"ABC"), 3);
        assert_eq!(osa_distance(b"KITTEN", b"SITTING"), 3);
    }

    fn name() -> impl Strategy<Value = String> {
        proptest::collection::vec("[A-Z]{1,9}", 1..5).prop_map(|v| v.join(" "))
    }

    proptest! {
        #[test]
        fn score_is_symmetric(a in name(), b in name()) {
            prop_assert_eq!(sim(&a, &b), sim(&b, &a));
        }

        #[test]
        fn score_never_exceeds_the_exact_match_score(a in name(), b in name()) {
            let s = sim(&a, &b);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert!(s <= sim(&a, &a));
        }

        #[test]
        fn a_name_matches_itself_fully(a in name()) {
            prop_assume!(!prepare_name(&a).is_empty_of_names());
            prop_assert_eq!(sim(&a, &a), 1.0);
        }

        #[test]
        fn more_edits_never_raise_the_score(
            a in proptest::collection::vec("[A-Z]{4,9}", 2..4),
            pos in any::<proptest::sample::Index>(),
            c1 in "[0-9]", c2 in "[0-9]",
        ) {
            // Replacing letters with digits (which match nothing) one after the other: each step
            // moves the name further away and the score must not go up.
            let original = a.join(" ");
            let flat: Vec<char> = original.chars().collect();
            let letters: Vec<usize> = flat.iter().enumerate().filter(|(_, c)| c.is_ascii_alphabetic()).map(|(i, _)| i).collect();
            let i = letters[pos.index(letters.len())];
            let mut one = flat.clone();
            one[i] = c1.chars().next().unwrap_or('0');
            let j = letters[(pos.index(letters.len()) + 1) % letters.len()];
            let mut two = one.clone();
            two[j] = c2.chars().next().unwrap_or('0');
            let (one, two): (String, String) = (one.into_iter().collect(), two.into_iter().collect());
            let (s1, s2) = (sim(&original, &one), sim(&original, &two));
            prop_assert!(s1 <= 1.0 + f32::EPSILON);
            prop_assert!(s2 <= s1 + 1e-6, "{} then {}", s1, s2);
        }

        #[test]
        fn arbitrary_text_never_panics(a in "\\PC{0,60}", b in "\\PC{0,60}") {
            let s = sim(&a, &b);
            prop_assert!((0.0..=1.0).contains(&s));
        }
    }
}
