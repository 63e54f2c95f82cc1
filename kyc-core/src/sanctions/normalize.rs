//! Name normalisation for matching: transliteration of non-Latin scripts to Latin letters,
//! case and diacritic folding, tokenisation (hyphens, "LAST, First", "p.l.c." and initials),
//! token classes (titles, particles, legal forms, generic words) with their weights, multi-word
//! legal forms folded to one code, and a phonetic key per token.
//!
//! Arabic and Persian letters and Hangul syllables are transliterated here (abjad scripts do
//! not write short vowels, so such tokens are marked and compared on their consonants); every
//! other script goes through the `deunicode` tables (Cyrillic, Greek, CJK, Devanagari, Latin
//! diacritics…).

/// What role a token plays in a name; the role sets its weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TokenClass {
    /// An ordinary name part.
    Name,
    /// A particle (al, bin, van, von, de…).
    Particle,
    /// A title or honorific (Mr, Dr, Sheikh, Haji…).
    Title,
    /// A legal form (LLC, LTD, GMBH, JSC…), multi-word forms folded to one code.
    LegalForm,
    /// A generic organisation word (GROUP, HOLDING, INTERNATIONAL…).
    Generic,
    /// A stop word (THE, OF, AND…).
    Stop,
    /// A number (digits or a roman numeral); numbers tell entities apart.
    Number,
}

impl TokenClass {
    /// The weight of a token of this class in the name score.
    pub fn weight(self) -> f32 {
        match self {
            Self::Name => 1.0,
            Self::Generic => 0.5,
            // Series numbers and vintages (fund VII/VIII, trust 2004-1/2004-2, vessel 5/6)
            // tell related entities apart, but a screening should still surface the sibling for
            // review: a differing number costs a little, it does not hide the match.
            Self::Number => 0.3,
            Self::Particle => 0.25,
            Self::LegalForm => 0.2,
            Self::Stop => 0.1,
            Self::Title => 0.0,
        }
    }
}

/// One normalised token. Part of a name, so `Debug` shows only its class.
#[derive(Clone, PartialEq)]
pub struct Token {
    /// Uppercase ASCII letters and digits.
    pub text: String,
    /// Phonetic key (consonant skeleton): see [`phonetic_key`].
    pub key: String,
    /// Its class.
    pub class: TokenClass,
    /// Written in an abjad script (Arabic, Persian): short vowels are missing.
    pub abjad: bool,
    /// Which letters A–Z and digits (folded onto bits 26–31) the token holds: a cheap lower
    /// bound on the edit distance between two tokens.
    pub letters: u32,
    /// For a token transliterated from a run of syllabic or logographic characters (Han,
    /// Hangul, Kana) written without spaces: those characters. Two such tokens are compared on
    /// the characters, since different characters often share a transliteration.
    pub glyphs: Option<String>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token(<redacted>, {:?})", self.class)
    }
}

impl std::fmt::Debug for PreparedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.tokens.iter().map(|t| t.class))
            .finish()
    }
}

impl Token {
    /// The weight of this token in the name score.
    pub fn weight(&self) -> f32 {
        self.class.weight()
    }
}

/// A name ready for matching. `Debug` shows only the token classes.
#[derive(Clone, PartialEq, Default)]
pub struct PreparedName {
    /// Its tokens in order (titles included, weight 0).
    pub tokens: Vec<Token>,
}

impl PreparedName {
    /// Whether the name has nothing that can identify anyone: no token of class `Name` or
    /// `Number` (e.g. "CORP", "THE", "MR").
    pub fn is_empty_of_names(&self) -> bool {
        !self
            .tokens
            .iter()
            .any(|t| matches!(t.class, TokenClass::Name | TokenClass::Number))
    }

    /// Total weight.
    pub fn weight(&self) -> f32 {
        self.tokens.iter().map(Token::weight).sum()
    }
}

/// The longest name (in characters) that is normalised; the rest is ignored.
pub const MAX_NAME_CHARS: usize = 300;

/// Normalises a name into tokens.
///
/// ```
/// use kyc_core::sanctions::{prepare_name, TokenClass};
/// let n = prepare_name("Mr. AL-ZAWAHIRI, Ayman");
/// let t: Vec<(&str, TokenClass)> = n.tokens.iter().map(|t| (t.text.as_str(), t.class)).collect();
/// assert_eq!(t, vec![("MR", TokenClass::Title), ("AL", TokenClass::Particle),
///     ("ZAWAHIRI", TokenClass::Name), ("AYMAN", TokenClass::Name)]);
/// assert_eq!(prepare_name("Ротенберг").tokens[0].text, "ROTENBERG");
/// assert_eq!(prepare_name("HSBC Holdings p.l.c.").tokens[2].text, "PLC");
/// ```
pub fn prepare_name(raw: &str) -> PreparedName {
    let latin = latinize(raw);
    let mut words: Vec<Word> = Vec::new();
    split_words(&latin, &mut words);
    let words = fold_numbers(fold_phrases(words));
    let mut tokens: Vec<Token> = words
        .into_iter()
        .map(|w| {
            let class = match w.glyphs {
                Some(_) => TokenClass::Name,
                None => classify(&w.text),
            };
            let key = phonetic_key(&w.text);
            Token {
                letters: letter_mask(&w.text),
                text: w.text,
                key,
                class,
                abjad: w.abjad,
                glyphs: w.glyphs,
            }
        })
        .collect();
    // A name made only of titles keeps them as names ("DOCTOR" the nickname).
    if tokens.iter().all(|t| t.class == TokenClass::Title) {
        for t in &mut tokens {
            t.class = TokenClass::Name;
        }
    }
    PreparedName { tokens }
}

/// The set of letters (bits 0–25) and digits (bits 26–31, folded) in a token.
pub(crate) fn letter_mask(t: &str) -> u32 {
    t.bytes().fold(0u32, |m, b| match b {
        b'A'..=b'Z' => m | 1 << (b - b'A'),
        b'0'..=b'9' => m | 1 << (26 + (b - b'0') % 6),
        _ => m,
    })
}

/// Marker written before a word from an abjad script during transliteration.
const ABJAD_MARK: char = '\u{1}';
/// Marker written before the transliteration of a syllabic character, followed by the
/// character itself and [`GLYPH_END`].
const GLYPH_MARK: char = '\u{2}';
/// See [`GLYPH_MARK`].
const GLYPH_END: char = '\u{3}';

/// A word on its way to becoming a token.
#[derive(Clone, Debug, PartialEq)]
struct Word {
    text: String,
    abjad: bool,
    glyphs: Option<String>,
}

impl Word {
    fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            abjad: false,
            glyphs: None,
        }
    }
}

fn is_syllabic(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7A3)
}

/// Transliterates to uppercase Latin letters, digits, and separators. Words from an abjad
/// script are prefixed with [`ABJAD_MARK`].
fn latinize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 8);
    let mut chars = raw.chars().take(MAX_NAME_CHARS).peekable();
    let mut prev_arabic = false;
    let mut prev_syllabic = false;
    while let Some(c) = chars.next() {
        if c.is_ascii() {
            prev_arabic = false;
            if prev_syllabic {
                out.push(' ');
                prev_syllabic = false;
            }
            out.push(if c.is_ascii_control() {
                ' '
            } else {
                c.to_ascii_uppercase()
            });
            continue;
        }
        if let Some(latin) = arabic(c) {
            if prev_syllabic {
                out.push(' ');
                prev_syllabic = false;
            }
            let word_start = !prev_arabic;
            if word_start {
                out.push(' ');
                out.push(ABJAD_MARK);
                // The article "al-" written joined: ال + letters.
                if (c == 'ا' || c == 'ٱ') && chars.peek() == Some(&'ل') {
                    chars.next();
                    if chars.peek().is_some_and(|n| arabic(*n).is_some()) {
                        out.push_str("AL ");
                        out.push(ABJAD_MARK);
                    } else {
                        out.push_str("AL");
                    }
                    prev_arabic = true;
                    continue;
                }
            }
            let letter = match (c, word_start) {
                ('و', true) => "W",
                ('ي' | 'ی' | 'ئ', true) => "Y",
                _ => latin,
            };
            out.push_str(letter);
            prev_arabic = true;
            continue;
        }
        prev_arabic = false;
        // A run of syllabic characters without spaces is one word ("习近平" is Xi Jinping's
        // whole name, "近平" his given name): each character is marked so the word keeps them.
        let syllable = hangul(c).or_else(|| {
            is_syllabic(c)
                .then(|| deunicode::deunicode_char(c))
                .flatten()
                .map(|s| s.trim().to_ascii_uppercase())
        });
        if let Some(s) = syllable {
            if !prev_syllabic {
                out.push(' ');
            }
            out.push(GLYPH_MARK);
            out.push(c);
            out.push(GLYPH_END);
            out.push_str(&s);
            prev_syllabic = true;
            continue;
        }
        if prev_syllabic {
            out.push(' ');
            prev_syllabic = false;
        }
        if let Some(s) = deunicode::deunicode_char(c) {
            // CJK ideographs come out as syllables with a trailing space: keep them apart.
            for d in s.chars() {
                out.push(d.to_ascii_uppercase());
            }
        } else {
            out.push(' ');
        }
    }
    out
}

/// Arabic and Persian letters; `None` for anything else. Vowel marks become vowels, other marks
/// and the tatweel disappear.
fn arabic(c: char) -> Option<&'static str> {
    Some(match c {
        'ا' | 'أ' | 'آ' | 'ٱ' | 'ى' | 'ة' => "A",
        'إ' => "I",
        'ء' | 'ـ' | 'ْ' | 'ّ' | 'ً' | 'ٌ' | 'ٍ' | 'ٰ' => "",
        'َ' => "A",
        'ِ' => "I",
        'ُ' => "U",
        'ؤ' | 'و' => "U",
        'ئ' | 'ي' | 'ی' | 'ې' => "I",
        'ب' => "B",
        'پ' => "P",
        'ت' | 'ط' => "T",
        'ث' => "TH",
        'ج' => "J",
        'چ' => "CH",
        'ح' | 'ه' | 'ھ' | 'ۀ' => "H",
        'خ' => "KH",
        'د' | 'ض' => "D",
        'ذ' => "DH",
        'ر' => "R",
        'ز' | 'ظ' => "Z",
        'ژ' => "ZH",
        'س' | 'ص' => "S",
        'ش' => "SH",
        'ع' => "A",
        'غ' => "GH",
        'ف' => "F",
        'ق' => "Q",
        'ك' | 'ک' => "K",
        'گ' => "G",
        'ل' => "L",
        'م' => "M",
        'ن' => "N",
        '٠'..='٩' => {
            const D: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
            D.get((c as usize).saturating_sub('٠' as usize))
                .copied()
                .unwrap_or("")
        }
        _ => return None,
    })
}

/// A Hangul syllable in Revised Romanisation, uppercase; `None` for other characters.
fn hangul(c: char) -> Option<String> {
    // Revised Romanisation, except where names are conventionally spelt otherwise: initial
    // ㄱ as K (Kim, Kang), ㅓ as O and ㅡ as U (Jong, Un).
    const INITIAL: [&str; 19] = [
        "K", "KK", "N", "D", "TT", "R", "M", "B", "PP", "S", "SS", "", "J", "JJ", "CH", "K", "T",
        "P", "H",
    ];
    const MEDIAL: [&str; 21] = [
        "A", "AE", "YA", "YAE", "O", "E", "YO", "YE", "O", "WA", "WAE", "OE", "YO", "U", "WO",
        "WE", "WI", "YU", "U", "UI", "I",
    ];
    const FINAL: [&str; 28] = [
        "", "K", "K", "K", "N", "N", "N", "T", "L", "K", "M", "L", "L", "L", "P", "L", "M", "P",
        "P", "T", "T", "NG", "T", "T", "K", "T", "P", "T",
    ];
    let v = (c as u32).checked_sub(0xAC00)?;
    if v >= 11_172 {
        return None;
    }
    let (l, m, t) = (v / 588, (v % 588) / 28, v % 28);
    let mut s = String::new();
    s.push_str(INITIAL.get(l as usize)?);
    s.push_str(MEDIAL.get(m as usize)?);
    s.push_str(FINAL.get(t as usize)?);
    Some(s)
}

/// Splits transliterated text into words. Hyphens, commas, slashes, brackets and other
/// punctuation separate words; apostrophes join ("KY'ONG" → "KYONG"); single letters written
/// with full stops and no spaces ("P.L.C.", "U.S.A.") are joined into one word.
fn split_words(latin: &str, out: &mut Vec<Word>) {
    let mut cur = String::new();
    let mut abjad = false;
    let mut glyphs: Option<String> = None;
    let mut dotted: Option<String> = None;
    let flush =
        |cur: &mut String, abjad: &mut bool, glyphs: &mut Option<String>, out: &mut Vec<Word>| {
            if !cur.is_empty() {
                out.push(Word {
                    text: std::mem::take(cur),
                    abjad: *abjad,
                    glyphs: glyphs.take(),
                });
            }
            *abjad = false;
            *glyphs = None;
        };
    let chars: Vec<char> = latin.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            'A'..='Z' | '0'..='9' => cur.push(c),
            'a'..='z' => cur.push(c.to_ascii_uppercase()),
            ABJAD_MARK => abjad = true,
            GLYPH_MARK => {
                if glyphs.is_none() {
                    flush(&mut cur, &mut abjad, &mut glyphs, out);
                }
                if let Some(&g) = chars.get(i + 1) {
                    glyphs.get_or_insert_with(String::new).push(g);
                }
                if chars.get(i + 2) == Some(&GLYPH_END) {
                    i += 2;
                }
            }
            '\'' | '`' | '’' | 'ʼ' | 'ʻ' | '‘' => {}
            '.' => {
                // "P.L.C." : a one-letter word followed directly by a letter.
                let next_is_letter = chars.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic());
                let next_next_ends = chars.get(i + 2).is_none_or(|n| !n.is_ascii_alphanumeric());
                if cur.len() == 1 && (dotted.is_some() || (next_is_letter && next_next_ends)) {
                    let d = dotted.get_or_insert_with(String::new);
                    d.push_str(&cur);
                    cur.clear();
                    if !next_is_letter || !next_next_ends {
                        if let Some(d) = dotted.take() {
                            out.push(Word::plain(d));
                        }
                    }
                } else {
                    if let Some(d) = dotted.take() {
                        out.push(Word::plain(d));
                    }
                    flush(&mut cur, &mut abjad, &mut glyphs, out);
                }
            }
            _ => {
                if let Some(mut d) = dotted.take() {
                    d.push_str(&cur);
                    cur.clear();
                    out.push(Word::plain(d));
                }
                flush(&mut cur, &mut abjad, &mut glyphs, out);
            }
        }
        i += 1;
    }
    if let Some(mut d) = dotted.take() {
        d.push_str(&cur);
        cur.clear();
        out.push(Word::plain(d));
    }
    flush(&mut cur, &mut abjad, &mut glyphs, out);
}

/// Multi-word legal forms and their codes, longest first.
const PHRASES: &[(&[&str], &str)] = &[
    (&["GESELLSCHAFT", "MIT", "BESCHRANKTER", "HAFTUNG"], "GMBH"),
    (&["SOCIETATEA", "CU", "RASPUNDERE", "LIMITATA"], "SRL"),
    (&["SOCIETA", "A", "RESPONSABILITA", "LIMITATA"], "SRL"),
    (&["SOCIETE", "A", "RESPONSABILITE", "LIMITEE"], "SARL"),
    (&["AKTSIONERNOE", "OBSHCHESTVO"], "AO"),
    (
        &["OBSHCHESTVO", "S", "OGRANICHENNOY", "OTVETSTVENNOSTYU"],
        "OOO",
    ),
    (&["PUBLIC", "JOINT", "STOCK", "COMPANY"], "PJSC"),
    (&["CLOSED", "JOINT", "STOCK", "COMPANY"], "CJSC"),
    (&["OPEN", "JOINT", "STOCK", "COMPANY"], "OJSC"),
    (&["LIMITED", "LIABILITY", "COMPANY"], "LLC"),
    (&["LIMITED", "LIABILITY", "PARTNERSHIP"], "LLP"),
    (&["PUBLIC", "LIMITED", "COMPANY"], "PLC"),
    (&["JOINT", "STOCK", "COMPANY"], "JSC"),
    (&["SOCIEDAD", "ANONIMA"], "SA"),
    (&["SOCIETE", "ANONYME"], "SA"),
    (&["SP", "Z", "OO"], "SPZOO"),
    (&["CO", "LTD"], "COLTD"),
    (&["S", "A"], "SA"),
    (&["S", "L"], "SL"),
];

fn fold_phrases(words: Vec<Word>) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::with_capacity(words.len());
    let mut i = 0;
    'outer: while i < words.len() {
        for (phrase, code) in PHRASES {
            let n = phrase.len();
            if let Some(window) = words.get(i..i + n) {
                if window.iter().zip(phrase.iter()).all(|(w, p)| w.text == *p) {
                    out.push(Word::plain(*code));
                    i += n;
                    continue 'outer;
                }
            }
        }
        if let Some(w) = words.get(i) {
            let mut w = w.clone();
            w.text = canonical_word(&w.text).to_string();
            out.push(w);
        }
        i += 1;
    }
    out
}

/// Number words and ordinals as digits: "FORTY FOUR", "FORTY-FOUR" → "44", "FIRST", "1ST" → "1".
fn fold_numbers(words: Vec<Word>) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::with_capacity(words.len());
    let mut i = 0;
    while let Some(w) = words.get(i) {
        if let Some(tens) = tens_word(&w.text) {
            let unit = words
                .get(i + 1)
                .and_then(|n| unit_word(&n.text))
                .filter(|u| *u < 10);
            match unit {
                Some(u) => {
                    out.push(Word::plain((tens + u).to_string()));
                    i += 2;
                }
                None => {
                    out.push(Word::plain(tens.to_string()));
                    i += 1;
                }
            }
            continue;
        }
        if let Some(u) = unit_word(&w.text) {
            out.push(Word::plain(u.to_string()));
        } else if let Some(n) = ordinal_digits(&w.text) {
            out.push(Word::plain(n));
        } else {
            out.push(w.clone());
        }
        i += 1;
    }
    out
}

fn unit_word(w: &str) -> Option<u32> {
    const UNITS: [&str; 20] = [
        "ZERO",
        "ONE",
        "TWO",
        "THREE",
        "FOUR",
        "FIVE",
        "SIX",
        "SEVEN",
        "EIGHT",
        "NINE",
        "TEN",
        "ELEVEN",
        "TWELVE",
        "THIRTEEN",
        "FOURTEEN",
        "FIFTEEN",
        "SIXTEEN",
        "SEVENTEEN",
        "EIGHTEEN",
        "NINETEEN",
    ];
    const ORDINALS: [&str; 11] = [
        "", "FIRST", "SECOND", "THIRD", "FOURTH", "FIFTH", "SIXTH", "SEVENTH", "EIGHTH", "NINTH",
        "TENTH",
    ];
    UNITS
        .iter()
        .position(|u| *u == w)
        .or_else(|| ORDINALS.iter().skip(1).position(|u| *u == w).map(|p| p + 1))
        .and_then(|p| u32::try_from(p).ok())
}

fn tens_word(w: &str) -> Option<u32> {
    Some(match w {
        "TWENTY" => 20,
        "THIRTY" => 30,
        "FORTY" | "FOURTY" => 40,
        "FIFTY" => 50,
        "SIXTY" => 60,
        "SEVENTY" => 70,
        "EIGHTY" => 80,
        "NINETY" => 90,
        _ => return None,
    })
}

/// "1ST", "2ND", "3RD", "4TH" → the digits.
fn ordinal_digits(w: &str) -> Option<String> {
    let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = w.get(digits.len()..)?;
    (!digits.is_empty()
        && digits.len() <= 6
        && digits.bytes().all(|b| b.is_ascii_digit())
        && matches!(suffix, "ST" | "ND" | "RD" | "TH"))
    .then(|| digits.to_string())
}

/// Folds spelled-out legal forms to their codes (LIMITED → LTD, CORPORATION → CORP…) and a few
/// abbreviations to their words.
fn canonical_word(w: &str) -> &str {
    match w {
        "INTL" => "INTERNATIONAL",
        "LIMITED" => "LTD",
        "CORPORATION" => "CORP",
        "INCORPORATED" => "INC",
        "COMPANY" => "CO",
        "AKTIENGESELLSCHAFT" => "AG",
        "GESELLSCHAFT" => "GES",
        "AKTSIONERNOE" | "AKTSIONERNOYE" => "AO",
        "OBSHCHESTVO" => "OBSHCHESTVO",
        _ => w,
    }
}

fn classify(w: &str) -> TokenClass {
    if w.bytes().all(|b| b.is_ascii_digit()) || is_roman_numeral(w) {
        return TokenClass::Number;
    }
    match w {
        "MR" | "MRS" | "MS" | "MISS" | "MME" | "MLLE" | "DR" | "PROF" | "SIR" | "DAME" | "LORD"
        | "HERR" | "FRAU" | "SHEIKH" | "SHAIKH" | "SHAYKH" | "SHEIK" | "SHK" | "HAJI" | "HAJJI"
        | "ALHAJI" | "ALHAJ" | "HADJI" | "HAJ" | "MULLAH" | "MULLA" | "MAULAVI" | "MAWLAWI"
        | "MAULVI" | "MOULAVI" | "MAWLAVI" | "QARI" | "GEN" | "GENERAL" | "COL" | "COLONEL"
        | "CAPT" | "CAPTAIN" | "MAJ" | "LT" | "SGT" | "ENG" | "ENGR" | "IMAM" | "DOCTOR" => {
            TokenClass::Title
        }
        "AL" | "EL" | "UL" | "UD" | "BIN" | "BEN" | "IBN" | "BINT" | "BENT" | "VAN" | "VON"
        | "DER" | "DEN" | "DE" | "DA" | "DI" | "DO" | "DOS" | "DAS" | "DEL" | "DELLA" | "LA"
        | "LE" | "LES" | "DU" | "TER" | "TEN" | "Y" | "OULD" | "BA" | "BU" => TokenClass::Particle,
        "LTD" | "LLC" | "LLP" | "LP" | "INC" | "CORP" | "CO" | "COLTD" | "GMBH" | "AG" | "KG"
        | "SA" | "SL" | "SAS" | "SARL" | "SRL" | "SPA" | "PLC" | "PJSC" | "JSC" | "OJSC"
        | "CJSC" | "OAO" | "ZAO" | "OOO" | "PAO" | "AO" | "TOO" | "BV" | "NV" | "AB" | "AS"
        | "ASA" | "OY" | "OYJ" | "KFT" | "ZRT" | "DOO" | "SPZOO" | "SDN" | "BHD" | "PTE"
        | "PVT" | "PTY" | "FZE" | "FZCO" | "FZC" | "DMCC" | "EOOD" | "OOD" | "AD" | "SE"
        | "GES" | "OBSHCHESTVO" | "CIA" | "LDA" | "LTDA" | "SAC" | "EIRL" => TokenClass::LegalForm,
        "GROUP" | "HOLDING" | "HOLDINGS" | "INTERNATIONAL" | "TRADING" | "INDUSTRIES"
        | "INDUSTRIAL" | "ENTERPRISE" | "ENTERPRISES" | "SERVICES" | "GLOBAL" | "PARTNERS" => {
            TokenClass::Generic
        }
        "THE" | "OF" | "AND" | "FOR" | "ET" | "UND" | "E" => TokenClass::Stop,
        _ => TokenClass::Name,
    }
}

fn is_roman_numeral(w: &str) -> bool {
    matches!(
        w,
        "II" | "III" | "IV" | "VI" | "VII" | "VIII" | "IX" | "XII" | "XIII" | "XIV" | "XV"
    )
}

/// A phonetic key: the first letter (vowels as `A`), then the consonants with common spelling
/// variants merged (PH→F, C/Q→K, X→KS, Z→S, W→V, J→Y, SCH→S, the H of a digraph dropped), doubled
/// letters collapsed and vowels (with Y) dropped. `MOHAMMED`, `MUHAMMAD` and `MOHAMAD` share
/// `MHMD`; `SCHULZE` and `SCHOLZ` share `SLS`. Digits are kept as they are.
///
/// ```
/// use kyc_core::sanctions::phonetic_key;
/// assert_eq!(phonetic_key("MOHAMMED"), phonetic_key("MUHAMMAD"));
/// assert_eq!(phonetic_key("YOUSSEF"), phonetic_key("JUSUF"));
/// assert_ne!(phonetic_key("KADYROV"), phonetic_key("ASELDEROV"));
/// ```
pub fn phonetic_key(w: &str) -> String {
    let b = w.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut last: u8 = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(b' ');
        let next = b.get(i + 1).copied().unwrap_or(b' ');
        let mapped: u8 = match c {
            b'Y' if i == 0 => b'Y',
            b'A' | b'E' | b'I' | b'O' | b'U' | b'Y' => {
                if i == 0 {
                    b'A'
                } else {
                    last = b'*';
                    i += 1;
                    continue;
                }
            }
            b'P' if next == b'H' => {
                i += 1;
                b'F'
            }
            b'S' if next == b'C' && b.get(i + 2) == Some(&b'H') => {
                i += 2;
                b'S'
            }
            b'C' if next == b'H' => {
                i += 1;
                b'X'
            }
            b'C' | b'Q' => b'K',
            b'Z' => b'S',
            b'W' => b'V',
            b'J' => b'Y',
            // An H that ends a digraph (KH, SH, CH, TH, DH, GH, PH, ZH) is dropped; any other
            // H is a consonant (MOHAMED, AHMAD, and abjad spellings such as MHMD).
            b'H' if i > 0
                && matches!(
                    b.get(i - 1).copied(),
                    Some(b'K' | b'S' | b'C' | b'T' | b'D' | b'G' | b'P' | b'Z')
                ) =>
            {
                i += 1;
                continue;
            }
            b'X' => {
                if last != b'K' {
                    out.push('K');
                }
                last = b'K';
                b'S'
            }
            _ => c,
        };
        if mapped != last {
            out.push(char::from(mapped));
        }
        last = mapped;
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(s: &str) -> Vec<String> {
        prepare_name(s).tokens.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn scripts_are_transliterated_to_latin_tokens() {
        assert_eq!(texts("Ротенберг Аркадий"), vec!["ROTENBERG", "ARKADII"]);
        assert_eq!(texts("Ηλίας Παπαδόπουλος"), vec!["ELIAS", "PAPADOPOULOS"]);
        assert_eq!(texts("Erdoğan Müller"), vec!["ERDOGAN", "MULLER"]);
        assert_eq!(texts("习近平"), vec!["XIJINPING"]);
        assert_eq!(texts("김정은"), vec!["KIMJONGUN"]);
        assert_eq!(texts("明宗 怡君 李"), vec!["MINGZONG", "YIJUN", "LI"]);
        assert_eq!(
            prepare_name("高石").tokens[0].glyphs.as_deref(),
            Some("高石")
        );
        assert_eq!(
            texts("عبد الفتاح السيسي"),
            vec!["ABD", "AL", "FTAH", "AL", "SISI"]
        );
        assert!(prepare_name("محمد").tokens[0].abjad);
    }

    #[test]
    fn punctuation_hyphens_apostrophes_and_dotted_letters_are_handled() {
        assert_eq!(texts("RA KY'ONG-SU"), vec!["RA", "KYONG", "SU"]);
        assert_eq!(
            texts("HSBC Holdings p.l.c."),
            vec!["HSBC", "HOLDINGS", "PLC"]
        );
        assert_eq!(texts("A. Khamenei"), vec!["A", "KHAMENEI"]);
        assert_eq!(texts("CECOEX, S.A."), vec!["CECOEX", "SA"]);
        assert_eq!(
            texts("FABERLIC EUROPE Sp. z o.o."),
            vec!["FABERLIC", "EUROPE", "SPZOO"]
        );
        assert_eq!(
            texts("TACTICAL MISSILES CORPORATION JOINT STOCK COMPANY"),
            vec!["TACTICAL", "MISSILES", "CORP", "JSC"]
        );
        assert_eq!(
            texts("Bowne Global Solutions II, Inc."),
            vec!["BOWNE", "GLOBAL", "SOLUTIONS", "II", "INC"]
        );
    }

    #[test]
    fn debug_output_of_a_prepared_name_hides_it() {
        let d = format!("{:?}", prepare_name("Secret Person LLC"));
        assert!(!d.to_uppercase().contains("SECRET"), "{d}");
        assert!(d.contains("LegalForm"));
    }

    #[test]
    fn bare_suffixes_and_titles_hold_no_name() {
        assert!(prepare_name("CORP").is_empty_of_names());
        assert!(prepare_name("The Ltd.").is_empty_of_names());
        assert!(!prepare_name("EMMA LLC").is_empty_of_names());
        assert_eq!(prepare_name("DOCTOR").tokens[0].class, TokenClass::Name);
    }

    proptest! {
        #[test]
        fn any_text_prepares_without_panicking(s in "\\PC{0,80}") {
            let n = prepare_name(&s);
            for t in &n.tokens {
                prop_assert!(!t.text.is_empty());
                prop_assert!(t.text.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
            }
        }

        #[test]
        fn preparing_is_idempotent_on_its_output(s in "\\PC{0,60}") {
            let once: Vec<String> = prepare_name(&s).tokens.into_iter().map(|t| t.text).collect();
            let joined = once.join(" ");
            let twice: Vec<String> = prepare_name(&joined).tokens.into_iter().map(|t| t.text).collect();
            prop_assert_eq!(once, twice);
        }
    }
}
