//! Random but plausible identities for synthetic documents (names with diacritics, dates,
//! document numbers, nationalities, sex) and their ICAO 9303 machine-readable zones, with
//! check digits computed here (over [`kyc_core::mrz::check_digit`]) from the fields.

use kyc_core::model::{Date, Sex};
use kyc_core::mrz::check_digit;
use kyc_core::text::to_mrz_name;

use super::rng::SeedRng;

/// The two layouts the generator draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocFormat {
    /// ID-1 card (85.6 × 54 mm), three MRZ lines of 30 characters.
    Td1,
    /// Passport data page (125 × 88 mm), two MRZ lines of 44 characters.
    Td3,
}

impl std::str::FromStr for DocFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "td1" => Ok(Self::Td1),
            "td3" => Ok(Self::Td3),
            _ => Err("expected one of: td1, td3".to_string()),
        }
    }
}

/// The truth about one synthetic document: what a perfect reader returns. Synthetic data,
/// never a real person's, so `Debug` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// The layout.
    pub format: DocFormat,
    /// Surname as printed (uppercase, may hold diacritics and hyphens).
    pub surname: String,
    /// Given names as printed, space separated.
    pub given_names: String,
    /// Date of birth.
    pub birth_date: Date,
    /// Document number (letters and digits, 9 characters).
    pub document_number: String,
    /// Date of expiry.
    pub expiry_date: Date,
    /// Date of issue.
    pub issue_date: Date,
    /// Nationality, ISO 3166 alpha-3.
    pub nationality: String,
    /// Issuing state, ISO 3166 alpha-3.
    pub issuing_state: String,
    /// Sex.
    pub sex: Sex,
    /// Place of birth (printed on passports).
    pub place_of_birth: String,
    /// The MRZ lines.
    pub mrz: Vec<String>,
}

const SURNAMES: &[&str] = &[
    "MÜLLER",
    "GONZÁLEZ",
    "LEFÈVRE",
    "NOWAK",
    "DVOŘÁK",
    "JOHANSSON",
    "ROSSI",
    "MARTIN",
    "GARCÍA",
    "SCHMIDT",
    "KOWALSKI",
    "NIELSEN",
    "FERREIRA",
    "BERNARD",
    "JANSSEN",
    "HÄMÄLÄINEN",
    "MOREAU",
    "COSTA",
    "PETERSEN",
    "WÓJCIK",
    "SILVA",
    "DUBOIS",
    "LINDQVIST",
    "NÉMETH",
    "HORVÁTH",
    "BAKER",
    "FISCHER",
    "ÖZTÜRK",
    "SANTOS",
    "VAN DAM",
    "GARCÍA-LÓPEZ",
    "ERIKSSON",
    "KRÓL",
    "BRANDT",
    "CARVALHO",
    "ŠIMEK",
    "NAVARRO",
    "LAURENT",
    "MEYER",
];

const GIVEN: &[&str] = &[
    "ANNA",
    "MARIA",
    "JOSÉ",
    "FRANÇOIS",
    "BJÖRN",
    "ŁUKASZ",
    "ZOË",
    "HÉLÈNE",
    "JÜRGEN",
    "SØREN",
    "INÊS",
    "JOÃO",
    "MARTA",
    "PETER",
    "ELENA",
    "LUCÍA",
    "TOMÁŠ",
    "AGNIESZKA",
    "OLIVER",
    "CHLOÉ",
    "MATTHIAS",
    "SOFIA",
    "ÅSA",
    "DAVID",
    "EMMA",
    "LUKAS",
    "NOÉMIE",
    "ANDRÉ",
    "KAROLINA",
    "MIKAEL",
    "RENÉE",
    "PAUL",
    "CLARA",
    "IGNACIO",
    "LEA",
];

const PLACES: &[&str] = &[
    "LYON",
    "MÜNCHEN",
    "SEVILLA",
    "KRAKÓW",
    "GÖTEBORG",
    "PORTO",
    "NAPOLI",
    "GENT",
    "BRNO",
    "AARHUS",
    "TAMPERE",
    "CORK",
    "GRAZ",
    "DEBRECEN",
    "UTRECHT",
    "BERGEN",
    "ZÜRICH",
];

/// Nationalities drawn (alpha-3; Germany's MRZ code is `D`).
const COUNTRIES: &[&str] = &[
    "FRA", "DEU", "ESP", "ITA", "NLD", "POL", "SWE", "PRT", "AUT", "BEL", "IRL", "CZE", "FIN",
    "NOR", "DNK", "CHE", "HUN", "GBR", "CAN", "BRA",
];

/// Letters used in document numbers: issuers avoid the ones that look like digits.
const NUMBER_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRTUVWXYZ";

fn date_between(rng: &mut SeedRng, from: Date, to: Date) -> Date {
    let (a, b) = (from.days_since_epoch(), to.days_since_epoch());
    Date::from_days_since_epoch(rng.range(a, b)).unwrap_or(from)
}

fn shift_years(d: Date, years: i32) -> Date {
    let y = (i32::from(d.year()) + years).clamp(1, 9999);
    let y = u16::try_from(y).unwrap_or(2000);
    // 29 February moves to the 28th in a year without it.
    Date::from_ymd(y, d.month(), d.day())
        .or_else(|_| Date::from_ymd(y, d.month(), 28))
        .unwrap_or(d)
}

/// The MRZ code of a country: `D` for Germany, the alpha-3 code otherwise.
fn mrz_country(alpha3: &str) -> String {
    let code = if alpha3 == "DEU" { "D" } else { alpha3 };
    pad(code, 3)
}

fn pad(s: &str, len: usize) -> String {
    let mut out: String = s.chars().take(len).collect();
    while out.chars().count() < len {
        out.push('<');
    }
    out
}

fn yymmdd(d: Date) -> String {
    format!("{:02}{:02}{:02}", d.year() % 100, d.month(), d.day())
}

fn digit(data: &str) -> String {
    check_digit(data).map_or_else(|| "<".to_string(), |d| d.to_string())
}

/// The MRZ name field: surname, `<<`, given names, every space or hyphen a `<`, apostrophes
/// dropped (ICAO 9303 Part 3), padded or truncated to `len`.
fn mrz_name(surname: &str, given: &str, len: usize) -> String {
    let clean = |s: &str| to_mrz_name(&s.replace('\'', ""));
    let mut s = clean(surname);
    if !given.is_empty() {
        s.push_str("<<");
        s.push_str(&clean(given));
    }
    pad(&s, len)
}

impl Identity {
    /// A random identity of `format`, with dates plausible as of `today`.
    pub fn random(rng: &mut SeedRng, format: DocFormat, today: Date) -> Self {
        let surname = (*rng.pick(SURNAMES).unwrap_or(&"MARTIN")).to_string();
        let mut given = (*rng.pick(GIVEN).unwrap_or(&"ANNA")).to_string();
        if rng.chance(0.4) {
            let second = *rng.pick(GIVEN).unwrap_or(&"MARIA");
            if second != given {
                given.push(' ');
                given.push_str(second);
            }
        }
        let birth_date = date_between(rng, shift_years(today, -85), shift_years(today, -18));
        let expiry_date = date_between(
            rng,
            today.add_days(30).unwrap_or(today),
            shift_years(today, 9),
        );
        let issue_date = shift_years(expiry_date, -10)
            .add_days(1)
            .unwrap_or(expiry_date);
        let nationality = (*rng.pick(COUNTRIES).unwrap_or(&"FRA")).to_string();
        let issuing_state = if rng.chance(0.85) {
            nationality.clone()
        } else {
            (*rng.pick(COUNTRIES).unwrap_or(&"FRA")).to_string()
        };
        let sex = match rng.below(20) {
            0 => Sex::Unspecified,
            n if n % 2 == 0 => Sex::Female,
            _ => Sex::Male,
        };
        let mut number = String::new();
        let letters = 1 + rng.below(2);
        for i in 0..9 {
            let c = if i < letters || (i == 6 && rng.chance(0.3)) {
                char::from(*rng.pick(NUMBER_LETTERS).unwrap_or(&b'X'))
            } else {
                char::from(b'0' + u8::try_from(rng.below(10)).unwrap_or(0))
            };
            number.push(c);
        }
        let place_of_birth = (*rng.pick(PLACES).unwrap_or(&"LYON")).to_string();
        let mut id = Self {
            format,
            surname,
            given_names: given,
            birth_date,
            document_number: number,
            expiry_date,
            issue_date,
            nationality,
            issuing_state,
            sex,
            place_of_birth,
            mrz: Vec::new(),
        };
        id.mrz = id.encode_mrz(rng.chance(0.5));
        id
    }

    /// The MRZ lines for these fields; `filler_check` writes `<` rather than `0` as the
    /// check digit of an empty TD3 personal number (both are ICAO-conformant).
    pub fn encode_mrz(&self, filler_check: bool) -> Vec<String> {
        let number = pad(&self.document_number, 9);
        let number_cd = digit(&number);
        let birth = yymmdd(self.birth_date);
        let birth_cd = digit(&birth);
        let expiry = yymmdd(self.expiry_date);
        let expiry_cd = digit(&expiry);
        let sex = self.sex.mrz_char();
        let state = mrz_country(&self.issuing_state);
        let nat = mrz_country(&self.nationality);
        match self.format {
            DocFormat::Td1 => {
                let optional1 = pad("", 15);
                let optional2 = pad("", 11);
                let l1 = format!("I<{state}{number}{number_cd}{optional1}");
                let head = format!("{birth}{birth_cd}{sex}{expiry}{expiry_cd}{nat}{optional2}");
                let composite_data = format!(
                    "{}{}{}{}",
                    l1.get(5..30).unwrap_or(""),
                    head.get(0..7).unwrap_or(""),
                    head.get(8..15).unwrap_or(""),
                    head.get(18..29).unwrap_or("")
                );
                let l2 = format!("{head}{}", digit(&composite_data));
                let l3 = mrz_name(&self.surname, &self.given_names, 30);
                vec![l1, l2, l3]
            }
            DocFormat::Td3 => {
                let l1 = format!(
                    "P<{state}{}",
                    mrz_name(&self.surname, &self.given_names, 39)
                );
                let personal = pad("", 14);
                let personal_cd = if filler_check {
                    "<".to_string()
                } else {
                    digit(&personal)
                };
                let head = format!(
                    "{number}{number_cd}{nat}{birth}{birth_cd}{sex}{expiry}{expiry_cd}{personal}{personal_cd}"
                );
                let composite_data = format!(
                    "{}{}{}",
                    head.get(0..10).unwrap_or(""),
                    head.get(13..20).unwrap_or(""),
                    head.get(21..43).unwrap_or("")
                );
                let l2 = format!("{head}{}", digit(&composite_data));
                vec![l1, l2]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::from_ymd(2026, 3, 1).unwrap()
    }

    #[test]
    fn generated_mrzs_parse_strictly_with_every_check_passing() {
        for seed in 0..200 {
            let mut rng = SeedRng::new(seed);
            let format = if seed % 2 == 0 {
                DocFormat::Td1
            } else {
                DocFormat::Td3
            };
            let id = Identity::random(&mut rng, format, today());
            let record = kyc_core::mrz::parse(&id.mrz, today()).unwrap();
            assert!(record.is_valid(), "seed {seed}: {:?}", id.mrz);
            assert_eq!(record.document_number(), id.document_number);
            assert_eq!(record.birth_date(), Some(id.birth_date));
            assert_eq!(record.expiry_date(), Some(id.expiry_date));
            assert_eq!(record.sex(), Some(id.sex));
            let fields = record.document_fields();
            assert_eq!(fields.nationality.unwrap().value.alpha3(), id.nationality);
        }
    }

    #[test]
    fn the_icao_td3_specimen_is_reproduced() {
        let id = Identity {
            format: DocFormat::Td3,
            surname: "ERIKSSON".into(),
            given_names: "ANNA MARIA".into(),
            birth_date: Date::from_ymd(1974, 8, 12).unwrap(),
            document_number: "L898902C3".into(),
            expiry_date: Date::from_ymd(2012, 4, 15).unwrap(),
            issue_date: Date::from_ymd(2002, 4, 16).unwrap(),
            nationality: "UTO".into(),
            issuing_state: "UTO".into(),
            sex: Sex::Female,
            place_of_birth: String::new(),
            mrz: Vec::new(),
        };
        let mut lines = id.encode_mrz(false);
        // The specimen carries optional data; put it in to compare the rest byte for byte.
        lines[1].replace_range(28..43, "ZE184226B<<<<<1");
        let composite = digit(&format!(
            "{}{}{}",
            &lines[1][0..10],
            &lines[1][13..20],
            &lines[1][21..43]
        ));
        lines[1].replace_range(43..44, &composite);
        assert_eq!(lines[0], "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<");
        assert_eq!(lines[1], "L898902C36UTO7408122F1204159ZE184226B<<<<<10");
    }

    #[test]
    fn names_are_transliterated_for_the_mrz() {
        assert_eq!(mrz_name("O'NEILL", "ZOË", 12), "ONEILL<<ZOE<");
        assert_eq!(
            mrz_name("GARCÍA-LÓPEZ", "JOSÉ", 30),
            pad("GARCIA<LOPEZ<<JOSE", 30)
        );
        assert_eq!(mrz_country("DEU"), "D<<");
    }
}
