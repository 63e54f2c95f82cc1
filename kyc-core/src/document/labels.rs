//! Field labels as printed on identity documents, in several languages: which field a key such
//! as `Nom / Surname`, `4b.`, `Date of birth / Date de naissance` or `Pass-Nr.` names.
//!
//! Matching is done on a canonical form: folded ([`crate::text::fold`]), accents that OCR
//! read as characters of their own (`Nationalit´e`) dropped, punctuation turned into spaces,
//! short parenthesised endings dropped (`Prénom(s)`), every spelling of "number" (`No.`, `N°`,
//! `Nº`, `N.º`, `n°`, `Nr.`, `Núm.`, `Number`, `Numéro`, `Nummer`, `#`, and the endings of
//! `Passnr`, `Reisepassnummer`) reduced to `NO`, and numbering (`1.`, `4a.`) set aside.
//!
//! A label is split into its parts at `/`, `|`, `\` and line breaks (`Passport No. / No. du
//! Passeport / No. del Pasaporte`: one part per language). The words of each part must be
//! covered completely by synonyms from the tables below (a bilingual label without a slash,
//! `NOM SURNAME`, is one part covered by two synonyms); connecting words (`and`, `et`, `und`…)
//! between synonyms are allowed. Then:
//! - the parts that are understood must **agree**: when they name different fields the label is
//!   refused as ambiguous (`Classified::Mixed`) rather than one of them picked, since a value
//!   put in the wrong field is worse than a field left to the MRZ or another reading. The one
//!   exception is "date" + "place of birth", which together name the combined field;
//! - parts that are not understood (a language without tables, OCR noise) are tolerated next to
//!   a part that is, but a part that labels a field this record does not hold (`Address`,
//!   `Postal code`, `Height`, `Signature`, or a bare `Date`: `Date / Place of birth`) makes the
//!   label ambiguous;
//! - a few words name a field only in context: a bare `Code` (`Código`, `Codice`, `Kode`,
//!   `Kod`) is the issuing-state code of an ICAO data page, next to `Type`, but the same word
//!   labels postal, restriction or security codes elsewhere. Such a word names the field only
//!   when the label repeats it in two languages or more (`Code / Code / Código`,
//!   `Kode / Code`); alone it is `Classified::Weak`, which the normaliser accepts only when the
//!   same document also has a document-type label. [`classify_label`] answers `None` for it.
//!   Longer phrases (`Code of issuing State`, `Código del país emisor`) are unambiguous.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::text;

/// The field a printed label names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum LabelKind {
    /// Surname / family name.
    Surname,
    /// Given names.
    GivenNames,
    /// A middle name printed apart from the given names (appended to them).
    MiddleName,
    /// Date of birth.
    BirthDate,
    /// Date and place of birth in one field.
    BirthDateAndPlace,
    /// Place of birth.
    PlaceOfBirth,
    /// Document number.
    DocumentNumber,
    /// Personal identification number.
    PersonalNumber,
    /// Date of expiry.
    ExpiryDate,
    /// Date of issue.
    IssueDate,
    /// Nationality.
    Nationality,
    /// Sex.
    Sex,
    /// Issuing state or country code.
    IssuingState,
    /// Issuing authority.
    IssuingAuthority,
    /// Kind of document.
    DocumentType,
    /// The machine-readable zone.
    Mrz,
}

/// How a label was understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Classified {
    /// It names one field.
    Field(LabelKind),
    /// It names this field only next to context (a bare `Code`: the issuing-state code when
    /// the document also has a document-type label).
    Weak(LabelKind),
    /// Its words or parts name several different fields.
    Mixed,
    /// Not a known label.
    Unknown,
}

/// The longest label (in words) that is looked at; longer keys are not labels.
const MAX_LABEL_WORDS: usize = 24;
/// The longest synonym, in words.
const MAX_PHRASE_WORDS: usize = 6;
/// The characters that separate the languages of a multilingual label.
const PART_SEPARATORS: [char; 5] = ['/', '|', '\\', '\n', '\r'];
/// Accents that OCR sometimes reads as characters of their own, next to the letter they belong
/// to; they are dropped rather than split the word.
const SPACING_ACCENTS: [char; 14] = [
    '´', '`', '¨', '^', '˜', '~', '¸', 'ˆ', '˚', 'ˇ', '˘', '˙', '˝', '¯',
];
/// The mask bit of a label of a field this record does not hold (`Address`, `Height`).
const OTHER: u32 = 1 << 31;

/// Which field `label` names, if it is a known label in one of the supported languages.
/// `us_numbering` selects the AAMVA meaning of the numbering `4d` (licence number) and `15`
/// (sex) used on US driving licences instead of the EU one (`4d` personal number, `5` licence
/// number). Multilingual labels are split at `/` and line breaks and their parts must agree
/// (parts that name different fields are refused, parts in languages without tables are
/// tolerated); a bare `Code` names nothing on its own, since it may be a postal or any other
/// code: it names the issuing state when repeated in several languages (`Code / Code /
/// Código`), and [`normalise_pairs`](super::normalise_pairs) also takes it next to a
/// document-type label (`Type`), as on ICAO data pages.
///
/// ```
/// use kyc_core::document::{classify_label, LabelKind};
/// assert_eq!(classify_label("Nom / Surname", false), Some(LabelKind::Surname));
/// assert_eq!(classify_label("4b.", false), Some(LabelKind::ExpiryDate));
/// assert_eq!(classify_label("Date of birth / Date de naissance", false), Some(LabelKind::BirthDate));
/// assert_eq!(classify_label("Pass-Nr.", false), Some(LabelKind::DocumentNumber));
/// assert_eq!(
///     classify_label("Passport No. / No. du Passeport / No. del Pasaporte", false),
///     Some(LabelKind::DocumentNumber)
/// );
/// assert_eq!(classify_label("Code / Code / Código", false), Some(LabelKind::IssuingState));
/// assert_eq!(classify_label("Code", false), None); // postal code? restriction code?
/// assert_eq!(classify_label("Nom Prénom", false), None); // two fields in one label
/// assert_eq!(classify_label("Surname / Prénoms", false), None); // parts that disagree
/// assert_eq!(classify_label("Height", false), None);
/// ```
pub fn classify_label(label: &str, us_numbering: bool) -> Option<LabelKind> {
    match classify(label, us_numbering) {
        Classified::Field(k) => Some(k),
        Classified::Weak(_) | Classified::Mixed | Classified::Unknown => None,
    }
}

pub(crate) fn classify(label: &str, us_numbering: bool) -> Classified {
    // Labels are short; a long key is a sentence or garbage.
    if label.len() > 200 {
        return Classified::Unknown;
    }
    let parts: Vec<Vec<String>> = label
        .split(PART_SEPARATORS)
        .map(canonical_words)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.iter().map(Vec::len).sum::<usize>() > MAX_LABEL_WORDS {
        return Classified::Unknown;
    }
    let mut numbering: Option<&str> = None;
    // Fields named by the parts understood, strong and weak.
    let mut kinds = 0u32;
    let mut strong_parts = 0usize;
    let mut weak_pieces = 0usize;
    let mut unknown_parts = 0usize;
    let mut other = false;
    for part in &parts {
        let mut rest: Vec<&str> = Vec::with_capacity(part.len());
        for w in part {
            if is_numbering(w) {
                numbering.get_or_insert(w);
            } else {
                rest.push(w);
            }
        }
        if rest.is_empty() {
            continue;
        }
        match segment(&rest) {
            None => unknown_parts += 1,
            Some(cover) => {
                other |= (cover.strong | cover.weak) & OTHER != 0;
                kinds |= (cover.strong | cover.weak) & !OTHER;
                if cover.strong & !OTHER != 0 {
                    strong_parts += 1;
                } else {
                    weak_pieces += cover.weak_pieces;
                }
            }
        }
    }
    if kinds == 0 {
        // A label of another field (`Height`), or words not understood: numbering alone may
        // still name the field.
        return match numbering {
            Some(n) if !other => numbered(n, us_numbering)
                .map(Classified::Field)
                .unwrap_or(Classified::Unknown),
            _ => Classified::Unknown,
        };
    }
    if other {
        return Classified::Mixed;
    }
    match from_mask(kinds) {
        Classified::Field(k) if strong_parts > 0 || weak_pieces >= 2 => Classified::Field(k),
        Classified::Field(k) if unknown_parts == 0 => Classified::Weak(k),
        Classified::Field(_) => Classified::Unknown,
        c => c,
    }
}

/// The canonical words of a label.
pub(crate) fn canonical_words(label: &str) -> Vec<String> {
    let stripped = drop_short_parentheses(label);
    let mut kept = String::with_capacity(stripped.len());
    let mut chars = stripped.chars().peekable();
    while let Some(c) = chars.next() {
        if SPACING_ACCENTS.contains(&c) {
            continue;
        }
        // `N.º` (Portuguese, Spanish) is one word, `Nº`.
        if c == '.'
            && kept.ends_with(['N', 'n'])
            && chars.peek().is_some_and(|n| matches!(n, 'º' | '°'))
        {
            continue;
        }
        kept.push(c);
    }
    let stripped = kept;
    let folded = text::fold(&stripped);
    let mut spaced = String::with_capacity(folded.len() + 4);
    for c in folded.chars() {
        if c == '#' {
            spaced.push_str(" # ");
        } else if c.is_alphanumeric() {
            spaced.push(c);
        } else {
            spaced.push(' ');
        }
    }
    let mut out = Vec::new();
    for w in spaced.split_whitespace() {
        if is_number_word(w) {
            out.push("NO".to_string());
        } else if let Some(stem) = number_compound(w) {
            // `PASSNR`, `REISEPASSNUMMER`: the thing numbered, then "number".
            out.push(stem.to_string());
            out.push("NO".to_string());
        } else {
            out.push(w.to_string());
        }
    }
    out
}

/// The stem of a compound ending in "number" (`PASSNR` → `PASS`, `AUSWEISNUMMER` →
/// `AUSWEIS`), when the stem is a word of its own (three letters or more).
fn number_compound(w: &str) -> Option<&str> {
    ["NUMMER", "NR"].iter().find_map(|suffix| {
        w.strip_suffix(suffix)
            .filter(|stem| stem.chars().count() >= 3 && stem.chars().all(char::is_alphabetic))
    })
}

/// `Prénom(s)` → `Prénom`, `Né(e) le` → `Né le`: parenthesised endings of up to three letters.
fn drop_short_parentheses(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '(' {
            let inner: String = s[i + 1..].chars().take(5).collect();
            if let Some(close) = inner.find(')') {
                let body = &inner[..close];
                if (1..=3).contains(&body.chars().count()) && body.chars().all(char::is_alphabetic)
                {
                    for _ in 0..=body.chars().count() {
                        chars.next();
                    }
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

fn is_number_word(w: &str) -> bool {
    matches!(
        w,
        "N" | "NO"
            | "NR"
            | "NRO"
            | "NBR"
            | "NUM"
            | "NUMBER"
            | "NUMERO"
            | "NUMMER"
            | "NUMER"
            | "NUMBERS"
            | "#"
    )
}

/// `1`, `4`, `4A`, `12`: the numbering of fields on driving licences (ISO/IEC 18013, EU
/// directive, AAMVA).
fn is_numbering(w: &str) -> bool {
    let b = w.as_bytes();
    match b {
        [d] => d.is_ascii_digit(),
        [d, x] => d.is_ascii_digit() && (x.is_ascii_digit() || x.is_ascii_uppercase()),
        [d1, d2, x] => d1.is_ascii_digit() && d2.is_ascii_digit() && x.is_ascii_uppercase(),
        _ => false,
    }
}

fn numbered(n: &str, us: bool) -> Option<LabelKind> {
    Some(match (n, us) {
        ("1", _) => LabelKind::Surname,
        ("2", _) => LabelKind::GivenNames,
        ("3", false) => LabelKind::BirthDateAndPlace,
        ("3", true) => LabelKind::BirthDate,
        ("4A", _) => LabelKind::IssueDate,
        ("4B", _) => LabelKind::ExpiryDate,
        ("4C", _) => LabelKind::IssuingAuthority,
        ("4D", false) => LabelKind::PersonalNumber,
        ("4D", true) => LabelKind::DocumentNumber,
        ("5", false) => LabelKind::DocumentNumber,
        ("15", true) => LabelKind::Sex,
        _ => return None,
    })
}

/// Words that may join two synonyms in one label.
fn is_connector(w: &str) -> bool {
    matches!(
        w,
        "AND" | "ET" | "UND" | "Y" | "E" | "EN" | "I" | "OG" | "OCH" | "JA" | "OR" | "OU"
    )
}

/// What one synonym names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    /// This field, wherever it is printed.
    Field(LabelKind),
    /// This field only when repeated in several languages or next to context (`Code`).
    Weak(LabelKind),
    /// A field this record does not hold (`Address`, `Postal code`).
    Other,
}

/// A complete cover of one part's words by synonyms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cover {
    /// Synonyms used.
    pieces: usize,
    /// Synonyms used that are weak.
    weak_pieces: usize,
    /// The fields named by strong synonyms ([`OTHER`] for the other fields).
    strong: u32,
    /// The fields named by weak synonyms.
    weak: u32,
}

/// Covers `words` with synonyms (fewest pieces first, the first found on a tie) and reports
/// which fields they name; `None` when they cannot all be covered.
fn segment(words: &[&str]) -> Option<Cover> {
    let n = words.len();
    // best[i]: the best cover of words[..i].
    let mut best: Vec<Option<Cover>> = vec![None; n + 1];
    if let Some(first) = best.first_mut() {
        *first = Some(Cover::default());
    }
    let table = &*SYNONYMS;
    let mut phrase = String::new();
    for i in 0..n {
        let Some(cover) = best.get(i).copied().flatten() else {
            continue;
        };
        let mut relax = |j: usize, cand: Cover| {
            if let Some(slot) = best.get_mut(j) {
                if slot.is_none_or(|b| cand.pieces < b.pieces) {
                    *slot = Some(cand);
                }
            }
        };
        if i > 0 && words.get(i).is_some_and(|w| is_connector(w)) {
            relax(i + 1, cover);
        }
        phrase.clear();
        for len in 1..=MAX_PHRASE_WORDS.min(n - i) {
            let Some(w) = words.get(i + len - 1) else {
                break;
            };
            if len > 1 {
                phrase.push(' ');
            }
            phrase.push_str(w);
            let Some(entry) = table.get(phrase.as_str()) else {
                continue;
            };
            let mut next = Cover {
                pieces: cover.pieces + 1,
                ..cover
            };
            match *entry {
                Entry::Field(k) => next.strong |= bit(k),
                Entry::Other => next.strong |= OTHER,
                Entry::Weak(k) => {
                    next.weak |= bit(k);
                    next.weak_pieces += 1;
                }
            }
            relax(i + len, next);
        }
    }
    best.last()
        .copied()
        .flatten()
        .filter(|c| c.strong | c.weak != 0)
}

fn bit(k: LabelKind) -> u32 {
    1 << (k as u32)
}

fn from_mask(mask: u32) -> Classified {
    let birth = bit(LabelKind::BirthDate)
        | bit(LabelKind::PlaceOfBirth)
        | bit(LabelKind::BirthDateAndPlace);
    if mask & !birth == 0
        && mask & bit(LabelKind::BirthDate) != 0
        && mask & !bit(LabelKind::BirthDate) != 0
    {
        return Classified::Field(LabelKind::BirthDateAndPlace);
    }
    if mask & !birth == 0 && mask & bit(LabelKind::BirthDateAndPlace) != 0 {
        return Classified::Field(LabelKind::BirthDateAndPlace);
    }
    if mask.count_ones() == 1 {
        return ALL_KINDS
            .iter()
            .find(|k| bit(**k) == mask)
            .map(|k| Classified::Field(*k))
            .unwrap_or(Classified::Unknown);
    }
    Classified::Mixed
}

const ALL_KINDS: [LabelKind; 16] = [
    LabelKind::Surname,
    LabelKind::GivenNames,
    LabelKind::MiddleName,
    LabelKind::BirthDate,
    LabelKind::BirthDateAndPlace,
    LabelKind::PlaceOfBirth,
    LabelKind::DocumentNumber,
    LabelKind::PersonalNumber,
    LabelKind::ExpiryDate,
    LabelKind::IssueDate,
    LabelKind::Nationality,
    LabelKind::Sex,
    LabelKind::IssuingState,
    LabelKind::IssuingAuthority,
    LabelKind::DocumentType,
    LabelKind::Mrz,
];

/// The synonym tables, written as printed; they are canonicalised when first used.
#[rustfmt::skip]
const SYNONYM_TABLE: &[(LabelKind, &[&str])] = &[
    (LabelKind::Surname, &[
        // en, AAMVA
        "Surname", "Surnames", "Last name", "Last names", "Family name", "Family names",
        "Primary identifier", "LN",
        // fr, de, es, it
        "Nom", "Nom de famille", "Nom patronymique",
        "Name", "Nachname", "Familienname",
        "Apellidos", "Apellido",
        "Cognome",
        // nl, pt, pl, sv, no, da, fi
        "Achternaam", "Geslachtsnaam",
        "Sobrenome", "Apelido", "Apelidos",
        "Nazwisko",
        "Efternamn", "Etternavn", "Efternavn", "Sukunimi",
    ]),
    (LabelKind::GivenNames, &[
        // en, AAMVA
        "Given names", "Given name", "First name", "First names", "Forenames", "Forename",
        "Christian names", "Secondary identifier", "FN",
        // fr, de, es, it
        "Prénoms", "Prénom",
        "Vornamen", "Vorname",
        "Nombres", "Nombre",
        "Nome", "Nomi",
        // nl, pt, pl, sv, no/da, fi
        "Voornamen", "Voornaam",
        "Nomes", "Nome próprio",
        "Imiona", "Imię",
        "Förnamn", "Fornavn", "Etunimet",
    ]),
    (LabelKind::MiddleName, &["Middle name", "Middle names", "Middle initial"]),
    (LabelKind::BirthDate, &[
        // en
        "DOB", "Date of birth", "Birth date", "Birthdate", "Birthday", "Born",
        // fr, de, es, it
        "Date de naissance", "Date de naiss", "Né le", "Née le",
        "Geburtsdatum", "Geboren am", "Geburtstag",
        "Fecha de nacimiento", "Fecha nacimiento", "Fecha de nac",
        "Data di nascita", "Nato il", "Nata il",
        // nl, pt, pl, sv, no/da, fi
        "Geboortedatum",
        "Data de nascimento",
        "Data urodzenia",
        "Födelsedatum", "Fødselsdato", "Syntymäaika",
    ]),
    (LabelKind::BirthDateAndPlace, &[
        "Date and place of birth", "Date et lieu de naissance", "Geburtstag und ort",
        "Geburtsdatum und ort", "Fecha y lugar de nacimiento", "Data e luogo di nascita",
        "Datum en plaats van geboorte", "Data e local de nascimento", "Data i miejsce urodzenia",
    ]),
    (LabelKind::PlaceOfBirth, &[
        "Place of birth", "Birthplace", "Birth place", "Lieu de naissance", "Geburtsort",
        "Lugar de nacimiento", "Luogo di nascita", "Geboorteplaats", "Plaats van geboorte",
        "Local de nascimento", "Naturalidade", "Miejsce urodzenia", "Födelseort", "Fødested",
    ]),
    // Every spelling of "number" is reduced to "No" before matching.
    (LabelKind::DocumentNumber, &[
        // en, AAMVA
        "No", "Document no", "Doc no", "Passport no", "Pass no", "Card no", "ID no",
        "ID card no", "Identity card no", "Licence no", "License no", "Lic no",
        "Driver license no", "Drivers license no", "Driving licence no", "DL", "DL no", "DLN",
        // fr
        "No du document", "No de document", "No de la carte", "No de carte", "No du passeport",
        "No de passeport", "Passeport no", "No du titre",
        // de
        "Ausweisnummer", "Ausweis no", "Dokumentennummer", "Dokumentnummer", "Passnummer",
        "Kartennummer", "Reisepass no", "Führerscheinnummer",
        // es
        "No de documento", "No del documento", "No documento", "No de pasaporte",
        "Pasaporte no", "No soporte", "No de soporte",
        // it
        "No di documento", "No passaporto", "No carta",
        // nl, pt, pl
        "Documentnummer", "Paspoortnummer", "Documentnr",
        "No do documento", "No do passaporte",
        "No dokumentu", "No paszportu", "Seria i no",
        // Passport numbers as printed on ICAO data pages ("number" in any spelling, `Nº`,
        // `n.`, `Núm.`, `Nr.`, `-nummer`, is `No`).
        // en, fr
        "Passport card no", "Travel document no",
        "No passeport",
        // es
        "No del pasaporte", "No pasaporte",
        // pt
        "Passaporte no", "No de passaporte", "No passaporte",
        // it
        "Passaporto no", "No del passaporto", "No di passaporto",
        // de, nl, sv/no/da, fi
        "Reisepassnummer", "Paspoort no", "No paspoort", "Pas no", "Passin no",
        // pl, cs/sk, ro, hr, hu, tr
        "Numer paszportu", "Číslo pasu", "Číslo dokladu", "No pașaportului", "Broj putovnice",
        "Útlevélszám", "Pasaport no",
    ]),
    (LabelKind::PersonalNumber, &[
        "Personal no", "Personal identification no", "Personal code", "Personal ID no",
        "No personnel", "No d identification", "Personnummer", "Personenkennziffer", "DNI",
        "NIE", "NIF", "PESEL", "Codice fiscale", "BSN", "Burgerservicenummer", "Persoonsnummer",
        "Henkilötunnus", "Fødselsnummer", "CPR",
    ]),
    (LabelKind::ExpiryDate, &[
        // en
        "Date of expiry", "Expiry date", "Expiry", "Expires", "Expires on", "Expiration",
        "Expiration date", "Exp", "Exp date", "Valid until", "Valid thru", "Valid through",
        "Valid to", "Date of expiration",
        // fr
        "Date d'expiration", "Date d'expir", "Expire le", "Valable jusqu'au", "Valable jusqu'à",
        "Fin de validité", "Date de fin de validité",
        // de, es
        "Gültig bis", "Ablaufdatum",
        "Fecha de caducidad", "Caducidad", "Fecha de validez", "Válido hasta", "Validez",
        "Fecha de vencimiento",
        // it, nl, pt
        "Scadenza", "Data di scadenza", "Valido fino al",
        "Geldig tot", "Vervaldatum", "Geldig tot en met",
        "Data de validade", "Válido até", "Validade",
        // pl, sv, no/da, fi
        "Data ważności", "Ważny do", "Termin ważności",
        "Giltig till", "Gyldig til", "Voimassa",
    ]),
    (LabelKind::IssueDate, &[
        // en
        "Date of issue", "Issue date", "Issued", "Issued on", "ISS", "Date issued",
        // fr, de, es, it
        "Date de délivrance", "Délivré le", "Délivrée le", "Date d'émission",
        "Ausstellungsdatum", "Ausgestellt am", "Datum",
        "Fecha de expedición", "Fecha de emisión", "Expedición",
        "Data di rilascio", "Rilasciato il", "Data di emissione",
        // nl, pt, pl, sv, da, no
        "Datum van afgifte", "Afgiftedatum",
        "Data de emissão", "Data de expedição",
        "Data wydania",
        "Utfärdandedatum", "Udstedelsesdato", "Utstedt",
    ]),
    (LabelKind::Nationality, &[
        "Nationality", "Citizenship", "Nationalité", "Staatsangehörigkeit", "Nationalität",
        "Nacionalidad", "Nazionalità", "Cittadinanza", "Nationaliteit", "Nacionalidade",
        "Obywatelstwo", "Narodowość", "Nationalitet", "Medborgarskap", "Statsborgerskab",
        "Statsborgerskap", "Kansalaisuus",
    ]),
    (LabelKind::Sex, &[
        "Sex", "Gender", "Sexe", "Geschlecht", "Sexo", "Sesso", "Geslacht", "Płeć", "Kön",
        "Køn", "Kjønn", "Sukupuoli",
    ]),
    (LabelKind::IssuingState, &[
        // en
        "Issuing state", "Issuing country", "Country of issue", "State of issue",
        "Country code", "Code of issuing state", "Code of the issuing state",
        "Issuing state code", "Issuing country code", "Country",
        // fr
        "Pays", "Code pays", "Code du pays", "Pays émetteur", "Pays de délivrance",
        "Code de l'État émetteur", "Code de l'État d'émission", "Code du pays émetteur",
        "État émetteur",
        // de, nl
        "Ausstellungsstaat", "Ausstellender Staat", "Staat", "Land", "Landcode",
        "Code van het land van afgifte", "Code land van afgifte",
        // es, it
        "País", "Código de país", "Código del país", "País emisor", "País de expedición",
        "Código del país emisor", "Código del Estado emisor", "Código de país emisor",
        "Paese", "Codice paese", "Stato", "Codice del paese", "Codice dello Stato",
        // pt, pl, sv
        "Código do país", "Código do país emissor", "Código do Estado emissor",
        "Kod państwa", "Kod kraju",
        "Landskod",
    ]),
    (LabelKind::IssuingAuthority, &[
        "Authority", "Issuing authority", "Issued by", "Issuing office",
        "Autorité", "Autorité de délivrance", "Délivré par", "Délivrée par",
        "Behörde", "Ausstellende Behörde",
        "Autoridad", "Autoridad de expedición", "Expedido por",
        "Autorità", "Autorità di rilascio", "Rilasciato da",
        "Instantie", "Afgegeven door",
        "Autoridade", "Autoridade emissora", "Emitido por",
        "Organ wydający", "Wydany przez",
        "Myndighet", "Utfärdad av",
    ]),
    (LabelKind::DocumentType, &[
        "Type", "Typ", "Tipo", "Document type", "Type of document", "Type de document",
        "Dokumententyp", "Dokumenttyp", "Tipo de documento", "Tipo di documento",
        "Documenttype", "Soort document", "Rodzaj dokumentu", "ID type",
    ]),
    (LabelKind::Mrz, &["MRZ", "MRZ code", "Machine readable zone"]),
];

/// Words that name a field only when a label repeats them in several languages
/// (`Code / Code / Código`) or next to context; see the module docs.
#[rustfmt::skip]
const WEAK_TABLE: &[(LabelKind, &[&str])] = &[
    // en/fr/nl, es/pt, it, de/da, pl/cs, fi
    (LabelKind::IssuingState, &["Code", "Código", "Codice", "Kode", "Kod", "Koodi"]),
];

/// Labels of fields this record does not hold; a label that pairs one of these with a field
/// label is ambiguous (`Code / Postal code`, `Name / Address`).
#[rustfmt::skip]
const OTHER_TABLE: &[&str] = &[
    // postal codes
    "Postal code", "Post code", "Postcode", "ZIP", "ZIP code", "Code postal", "Postleitzahl",
    "PLZ", "Código postal", "Codice postale", "CAP", "Kod pocztowy",
    // other codes and numbers
    "Restriction code", "Restrictions", "Endorsements", "Security code", "Access code",
    "Card access no", "Area code", "Code restrictions",
    // address
    "Address", "Adresse", "Anschrift", "Wohnort", "Domicile", "Domicilio", "Dirección",
    "Indirizzo", "Adres", "Endereço", "Residence", "Résidence", "Place of residence",
    // a date of an unstated kind (`Date / Place of birth` must not become the place of birth)
    "Date", "Fecha", "Data",
    // body and signature
    "Height", "Taille", "Größe", "Estatura", "Altura", "Statura", "Lengte",
    "Eyes", "Eye colour", "Eye color", "Couleur des yeux", "Augenfarbe",
    "Signature", "Signature of holder", "Signature du titulaire", "Unterschrift", "Firma",
    "Firma del titular", "Handtekening", "Assinatura",
];

/// Canonical synonym → what it names.
static SYNONYMS: LazyLock<HashMap<String, Entry>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for (entry, w) in entries() {
        map.insert(canonical_words(w).join(" "), entry);
    }
    map
});

/// Every synonym of the three tables with what it names.
fn entries() -> impl Iterator<Item = (Entry, &'static str)> {
    let fields = SYNONYM_TABLE
        .iter()
        .flat_map(|(k, ws)| ws.iter().map(move |w| (Entry::Field(*k), *w)));
    let weak = WEAK_TABLE
        .iter()
        .flat_map(|(k, ws)| ws.iter().map(move |w| (Entry::Weak(*k), *w)));
    let other = OTHER_TABLE.iter().map(|w| (Entry::Other, *w));
    fields.chain(weak).chain(other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn class(s: &str) -> Option<LabelKind> {
        classify_label(s, false)
    }

    #[test]
    fn no_synonym_names_two_fields() {
        let mut seen: HashMap<String, Entry> = HashMap::new();
        for (entry, w) in entries() {
            let c = canonical_words(w).join(" ");
            assert!(!c.is_empty(), "{w}");
            if let Some(prev) = seen.insert(c.clone(), entry) {
                assert_eq!(prev, entry, "{w} ({c})");
            }
            assert!(c.split(' ').count() <= MAX_PHRASE_WORDS, "{w}");
        }
    }

    #[test]
    fn every_synonym_is_recognised_alone() {
        for (entry, w) in entries() {
            let want = match entry {
                Entry::Field(k) => Classified::Field(k),
                Entry::Weak(k) => Classified::Weak(k),
                Entry::Other => Classified::Unknown,
            };
            assert_eq!(classify(w, false), want, "{w}");
        }
    }

    #[test]
    fn the_labels_of_a_us_passport_are_all_recognised() {
        // As printed on the data page (and read by Textract FORMS).
        let cases = [
            ("Type / Type / Tipo", LabelKind::DocumentType),
            ("Code / Code / Código", LabelKind::IssuingState),
            (
                "Passport No. / No. du Passeport / No. del Pasaporte",
                LabelKind::DocumentNumber,
            ),
            ("Surname / Nom / Apellidos", LabelKind::Surname),
            ("Given Names / Prénoms / Nombres", LabelKind::GivenNames),
            (
                "Nationality / Nationalité / Nacionalidad",
                LabelKind::Nationality,
            ),
            (
                "Date of birth / Date de naissance / Fecha de nacimiento",
                LabelKind::BirthDate,
            ),
            (
                "Place of birth / Lieu de naissance / Lugar de nacimiento",
                LabelKind::PlaceOfBirth,
            ),
            ("Sex / Sexe / Sexo", LabelKind::Sex),
            (
                "Date of issue / Date de délivrance / Fecha de expedición",
                LabelKind::IssueDate,
            ),
            (
                "Date of expiration / Date d'expiration / Fecha de caducidad",
                LabelKind::ExpiryDate,
            ),
            (
                "Authority / Autorité / Autoridad",
                LabelKind::IssuingAuthority,
            ),
        ];
        for (s, want) in cases {
            assert_eq!(class(s), Some(want), "{s}");
            // OCR keeps the languages on separate lines, or loses the accents.
            assert_eq!(class(&s.replace(" / ", "\n")), Some(want), "{s}");
            assert_eq!(class(&text::fold(s)), Some(want), "{s}");
        }
    }

    #[test]
    fn passport_number_labels_in_many_languages_are_recognised() {
        for s in [
            "Passport No.",
            "Passport number",
            "PASSPORT #",
            "No. du passeport",
            "N° du passeport",
            "n° de passeport",
            "Numéro de passeport",
            "No. del pasaporte",
            "Núm. de pasaporte",
            "Número del pasaporte",
            "Pasaporte Nº",
            "Passaporte nº",
            "Passaporte N.º",
            "N.º do passaporte",
            "Número do passaporte",
            "Passaporto n.",
            "N. passaporto",
            "Numero di passaporto",
            "Pass-Nr.",
            "Passnummer",
            "Reisepassnummer",
            "Reisepass-Nr.",
            "Paspoortnummer",
            "Paspoortnr.",
            "Paspoort nr.",
            "Passnr",
            "Passin numero",
            "Nr paszportu",
            "Numer paszportu",
            "Číslo pasu",
            "Pass-Nr. / Passport No. / N° du passeport",
            "Paspoortnummer / Passport No. / No. du passeport",
            "Nº do passaporte / Passport No. / N° du passeport",
            "Numero passaporto / Passport No. / N° du passeport",
            "Nº de pasaporte\nPassport No.",
        ] {
            assert_eq!(class(s), Some(LabelKind::DocumentNumber), "{s}");
        }
    }

    #[test]
    fn accents_read_as_characters_of_their_own_are_dropped() {
        assert_eq!(
            class("Nationalit´e / Nationality"),
            Some(LabelKind::Nationality)
        );
        assert_eq!(class("C´odigo / Code"), Some(LabelKind::IssuingState));
        assert_eq!(class("Pr¨enoms"), Some(LabelKind::GivenNames));
    }

    #[test]
    fn a_bare_code_names_the_issuing_state_only_in_several_languages() {
        for s in [
            "Code / Code / Código",
            "CODE / CODE / CÓDIGO",
            "Code / Code / Codigo",
            "Kode / Code / Code",
            "Código / Code",
            "Codice / Code / Code",
            "Code\nCode",
            // The slashes lost by OCR: still three languages.
            "Code Code Código",
        ] {
            assert_eq!(
                classify(s, false),
                Classified::Field(LabelKind::IssuingState),
                "{s}"
            );
        }
        for s in ["Code", "CODE:", "Código", "Kod"] {
            assert_eq!(
                classify(s, false),
                Classified::Weak(LabelKind::IssuingState),
                "{s}"
            );
            assert_eq!(class(s), None, "{s}");
        }
        // Other codes are not the issuing state.
        for s in [
            "Postal code",
            "Code postal / Postal code",
            "Código postal",
            "ZIP code",
            "Restriction code",
            "Security code",
        ] {
            assert_eq!(classify(s, false), Classified::Unknown, "{s}");
        }
        assert_eq!(classify("Code / Postal code", false), Classified::Mixed);
        // One `Code` next to words not understood is not enough.
        assert_eq!(classify("Code / Κωδικός", false), Classified::Unknown);
        // Longer phrases say what they are.
        for s in [
            "Code of Issuing State / Code de l'État émetteur / Código del país emisor",
            "Issuing State Code",
            "Código del país emisor",
            "Codice del paese / Code of issuing State",
            "Code van het land van afgifte",
            "Code / Code of issuing State",
        ] {
            assert_eq!(class(s), Some(LabelKind::IssuingState), "{s}");
        }
    }

    #[test]
    fn parts_that_disagree_are_refused() {
        for s in [
            "Surname / Prénoms",
            "Passport No. / Nationalité",
            "Date of issue / Date d'expiration",
            "Nom / Nationality / Apellidos",
            "Name / Address",
            "Code / Nationality",
            "Sex / Height",
            "Date / Place of birth",
        ] {
            assert_eq!(classify(s, false), Classified::Mixed, "{s}");
        }
        // Except the two halves of "date and place of birth".
        assert_eq!(
            class("Date of birth / Lieu de naissance"),
            Some(LabelKind::BirthDateAndPlace)
        );
    }

    #[test]
    fn parts_in_languages_without_tables_are_tolerated() {
        assert_eq!(class("Επώνυμο / Surname / Nom"), Some(LabelKind::Surname));
        assert_eq!(class("Фамилия / Surname"), Some(LabelKind::Surname));
        assert_eq!(
            class("Útlevél szám xyz / Passport No."),
            Some(LabelKind::DocumentNumber)
        );
        // Nothing understood: nothing named.
        assert_eq!(classify("Επώνυμο / Фамилия", false), Classified::Unknown);
        assert_eq!(classify(" / / ", false), Classified::Unknown);
        // Numbering still names the field when the words do not.
        assert_eq!(class("1. / Επώνυμο"), Some(LabelKind::Surname));
    }

    #[test]
    fn bilingual_and_numbered_labels_are_recognised() {
        let cases = [
            ("Nom / Surname", LabelKind::Surname),
            ("NOM\nSURNAME", LabelKind::Surname),
            ("1. Name / Surname / Nom", LabelKind::Surname),
            ("Prénom(s) / Given names", LabelKind::GivenNames),
            ("Vornamen / Given names / Prénoms", LabelKind::GivenNames),
            ("Date of birth / Date de naissance", LabelKind::BirthDate),
            ("Né(e) le", LabelKind::BirthDate),
            (
                "Geburtstag / Date of birth / Date de naissance",
                LabelKind::BirthDate,
            ),
            ("3. Date et lieu de naissance", LabelKind::BirthDateAndPlace),
            (
                "Date and place of birth / Date et lieu de naissance",
                LabelKind::BirthDateAndPlace,
            ),
            (
                "Date of birth / Place of birth",
                LabelKind::BirthDateAndPlace,
            ),
            ("Passport No. / No. du Passeport", LabelKind::DocumentNumber),
            ("N° du document", LabelKind::DocumentNumber),
            ("Nº do documento", LabelKind::DocumentNumber),
            ("Document number", LabelKind::DocumentNumber),
            ("DOCUMENT_NUMBER", LabelKind::DocumentNumber),
            ("LIC#", LabelKind::DocumentNumber),
            ("4d DLN", LabelKind::DocumentNumber),
            ("4a.", LabelKind::IssueDate),
            ("4b. Gültig bis", LabelKind::ExpiryDate),
            ("Date of expiry / Date d'expiration", LabelKind::ExpiryDate),
            (
                "Gültig bis / Date of expiry / Date d'expiration",
                LabelKind::ExpiryDate,
            ),
            (
                "Staatsangehörigkeit / Nationality / Nationalité",
                LabelKind::Nationality,
            ),
            ("Sexe / Sex", LabelKind::Sex),
            ("Type / Type", LabelKind::DocumentType),
            (
                "Code of Issuing State / Code de l'État émetteur",
                LabelKind::IssuingState,
            ),
            ("Authority / Autorité", LabelKind::IssuingAuthority),
            ("EXPIRATION_DATE", LabelKind::ExpiryDate),
            ("MRZ_CODE", LabelKind::Mrz),
            ("ID_TYPE", LabelKind::DocumentType),
        ];
        for (s, want) in cases {
            assert_eq!(class(s), Some(want), "{s}");
        }
    }

    #[test]
    fn us_numbering_differs_from_the_eu_one() {
        assert_eq!(classify_label("4d", true), Some(LabelKind::DocumentNumber));
        assert_eq!(classify_label("4d", false), Some(LabelKind::PersonalNumber));
        assert_eq!(classify_label("5.", false), Some(LabelKind::DocumentNumber));
        assert_eq!(classify_label("5", true), None);
        assert_eq!(classify_label("15 SEX", true), Some(LabelKind::Sex));
        assert_eq!(classify_label("3", true), Some(LabelKind::BirthDate));
    }

    #[test]
    fn labels_that_name_nothing_or_several_fields_are_refused() {
        assert_eq!(classify("Nom Prénom", false), Classified::Mixed);
        assert_eq!(
            classify("Surname and given names", false),
            Classified::Mixed
        );
        for s in [
            "",
            "Height",
            "HGT",
            "Eyes",
            "STATE_NAME",
            "Signature",
            "Nom d'usage",
            "and",
        ] {
            assert_eq!(classify(s, false), Classified::Unknown, "{s}");
        }
        assert_eq!(classify(&"Name ".repeat(40), false), Classified::Unknown);
        assert_eq!(classify(&"x".repeat(500), false), Classified::Unknown);
    }

    fn strong_synonyms_of(kind: LabelKind) -> Vec<&'static str> {
        SYNONYM_TABLE
            .iter()
            .filter(|(k, _)| *k == kind)
            .flat_map(|(_, ws)| ws.iter().copied())
            .collect()
    }

    fn arb_part_separator() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![" / ", "/", "\n", " | ", "\r\n"])
    }

    proptest! {
        #[test]
        fn arbitrary_labels_never_panic(s in "\\PC{0,250}") {
            let _ = classify(&s, false);
            let _ = classify(&s, true);
        }

        #[test]
        fn labels_of_separators_accents_and_numbers_never_panic(
            s in "[/|\\\\\n\r .()º°´¨#N0-9a-zA-Zéó]{0,120}"
        ) {
            let _ = classify(&s, false);
        }

        #[test]
        fn parts_that_agree_name_their_field(
            kind in prop::sample::select(ALL_KINDS.to_vec()),
            picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..4),
            sep in arb_part_separator(),
        ) {
            let words = strong_synonyms_of(kind);
            prop_assume!(!words.is_empty());
            let label = picks
                .iter()
                .map(|i| *i.get(&words))
                .collect::<Vec<_>>()
                .join(sep);
            prop_assert_eq!(classify(&label, false), Classified::Field(kind), "{}", label);
        }

        #[test]
        fn parts_that_name_different_fields_are_refused(
            a in prop::sample::select(ALL_KINDS.to_vec()),
            b in prop::sample::select(ALL_KINDS.to_vec()),
            i in any::<prop::sample::Index>(),
            j in any::<prop::sample::Index>(),
            sep in arb_part_separator(),
        ) {
            let birth = [LabelKind::BirthDate, LabelKind::PlaceOfBirth, LabelKind::BirthDateAndPlace];
            prop_assume!(a != b && !(birth.contains(&a) && birth.contains(&b)));
            let (wa, wb) = (strong_synonyms_of(a), strong_synonyms_of(b));
            prop_assume!(!wa.is_empty() && !wb.is_empty());
            let label = format!("{}{sep}{}", i.get(&wa), j.get(&wb));
            prop_assert_eq!(classify(&label, false), Classified::Mixed, "{}", label);
        }
    }
}
