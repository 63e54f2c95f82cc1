//! Test-only: proptest strategies that build valid MRZs of every format from chosen fields,
//! with their own encoder (written from ICAO 9303, independent of the parser's tables), so a
//! parse can be compared with what was generated.

use proptest::prelude::*;

use super::{check_digit, MrzFormat};
use crate::model::{Date, Sex};

/// The reference date every generated MRZ is resolved against.
pub(crate) fn reference() -> Date {
    Date::from_ymd(2024, 6, 1).unwrap_or_else(|_| unreachable!())
}

/// The fields of one generated MRZ, as the parser should report them.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub format: MrzFormat,
    pub code: String,
    pub state: String,
    pub surname: Vec<String>,
    pub given: Vec<String>,
    pub number: String,
    pub nationality: String,
    pub birth: Date,
    pub sex: Sex,
    pub expiry: Date,
    pub optional: String,
    pub optional2: String,
    /// Write `<` rather than `0` as the check digit of an empty TD3 personal number.
    pub filler_check: bool,
}

fn pad(s: &str, len: usize) -> String {
    let mut out = s.to_string();
    while out.len() < len {
        out.push('<');
    }
    out
}

fn digit(data: &str) -> String {
    check_digit(data).map_or("?".into(), |d| d.to_string())
}

fn yymmdd(d: Date) -> String {
    format!("{:02}{:02}{:02}", d.year() % 100, d.month(), d.day())
}

impl Spec {
    /// The name field content (without padding).
    pub fn name_field(&self) -> String {
        let mut s = self.surname.join("<");
        if !self.given.is_empty() {
            s.push_str("<<");
            s.push_str(&self.given.join("<"));
        }
        s
    }

    /// The MRZ lines.
    pub fn lines(&self) -> Vec<String> {
        let sex = self.sex.mrz_char().to_string();
        let (birth, expiry) = (yymmdd(self.birth), yymmdd(self.expiry));
        let (bd, ed) = (digit(&birth), digit(&expiry));
        match self.format {
            MrzFormat::Td1 => {
                let (number, number_check, opt1) = if self.number.len() > 9 {
                    let (main, rest) = self.number.split_at(9);
                    let overflow = format!("{rest}{}<{}", digit(&self.number), self.optional);
                    (main.to_string(), "<".to_string(), pad(&overflow, 15))
                } else {
                    (
                        pad(&self.number, 9),
                        digit(&pad(&self.number, 9)),
                        pad(&self.optional, 15),
                    )
                };
                let l1 = format!(
                    "{}{}{number}{number_check}{opt1}",
                    pad(&self.code, 2),
                    pad(&self.state, 3)
                );
                let mut l2 = format!(
                    "{birth}{bd}{sex}{expiry}{ed}{}{}",
                    pad(&self.nationality, 3),
                    pad(&self.optional2, 11)
                );
                let composite = format!("{}{}{}{}", &l1[5..30], &l2[0..7], &l2[8..15], &l2[18..29]);
                l2.push_str(&digit(&composite));
                vec![l1, l2, pad(&self.name_field(), 30)]
            }
            _ => {
                let len = self.format.line_length();
                let l1 = format!(
                    "{}{}{}",
                    pad(&self.code, 2),
                    pad(&self.state, 3),
                    pad(&self.name_field(), len - 5)
                );
                let number = pad(&self.number, 9);
                let head = format!(
                    "{number}{}{}{birth}{bd}{sex}{expiry}{ed}",
                    digit(&number),
                    pad(&self.nationality, 3)
                );
                let l2 = match self.format {
                    MrzFormat::Td3 => {
                        let opt = pad(&self.optional, 14);
                        let od = if self.filler_check && self.optional.is_empty() {
                            "<".to_string()
                        } else {
                            digit(&opt)
                        };
                        let body = format!("{head}{opt}{od}");
                        let composite =
                            format!("{}{}{}", &body[0..10], &body[13..20], &body[21..43]);
                        format!("{body}{}", digit(&composite))
                    }
                    MrzFormat::Td2 => {
                        let body = format!("{head}{}", pad(&self.optional, 7));
                        let composite =
                            format!("{}{}{}", &body[0..10], &body[13..20], &body[21..35]);
                        format!("{body}{}", digit(&composite))
                    }
                    MrzFormat::MrvA => format!("{head}{}", pad(&self.optional, 16)),
                    MrzFormat::MrvB | MrzFormat::Td1 => format!("{head}{}", pad(&self.optional, 8)),
                };
                vec![l1, l2]
            }
        }
    }

    /// The document code as the parser reports it (fillers trimmed).
    pub fn code_trimmed(&self) -> String {
        self.code.trim_end_matches('<').to_string()
    }
}

fn word(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Z]{{1,{max}}}")).unwrap_or_else(|_| unreachable!())
}

fn alnum(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "([A-Z0-9]([A-Z0-9<]{{0,{}}}[A-Z0-9])?)?",
        max.saturating_sub(2)
    ))
    .unwrap_or_else(|_| unreachable!())
}

fn country() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["UTO", "D", "FRA", "GBR", "NLD", "XXA", "CHE", "KEN"])
        .prop_map(str::to_string)
}

fn date_in(from_days: i64, to_days: i64) -> impl Strategy<Value = Date> {
    let base = reference().days_since_epoch();
    (from_days..=to_days)
        .prop_map(move |d| Date::from_days_since_epoch(base + d).unwrap_or_else(reference))
}

/// Valid MRZs of `format`.
pub(crate) fn spec(format: MrzFormat) -> impl Strategy<Value = Spec> {
    let code = match format {
        MrzFormat::Td3 => prop::sample::select(vec!["P", "P<", "PD", "PO"]),
        MrzFormat::Td1 | MrzFormat::Td2 => prop::sample::select(vec!["I", "I<", "ID", "AC", "C"]),
        MrzFormat::MrvA | MrzFormat::MrvB => prop::sample::select(vec!["V", "V<", "VD"]),
    };
    let (opt_max, long_numbers) = match format {
        MrzFormat::Td1 => (15, true),
        MrzFormat::Td2 => (7, false),
        MrzFormat::Td3 => (14, false),
        MrzFormat::MrvA => (16, false),
        MrzFormat::MrvB => (8, false),
    };
    let number = if long_numbers {
        prop_oneof![3 => "[A-Z0-9]{1,9}", 1 => "[A-Z0-9]{10,13}"].boxed()
    } else {
        "[A-Z0-9]{1,9}".boxed()
    };
    let name_len = format.line_length() - if format == MrzFormat::Td1 { 0 } else { 5 };
    (
        code,
        country(),
        prop::collection::vec(word(10), 1..=3),
        prop::collection::vec(word(9), 0..=3),
        number,
        country(),
        date_in(-36_000, 0),
        prop::sample::select(vec![Sex::Male, Sex::Female, Sex::Unspecified]),
        date_in(-17_000, 18_000),
        alnum(opt_max),
        alnum(11),
        any::<bool>(),
    )
        .prop_map(
            move |(
                code,
                state,
                surname,
                given,
                number,
                nationality,
                birth,
                sex,
                expiry,
                optional,
                optional2,
                filler_check,
            )| {
                // A long TD1 number takes room from the optional data.
                let mut optional = optional;
                if number.len() > 9 {
                    optional.truncate(15usize.saturating_sub(number.len() - 9 + 2));
                    optional = optional.trim_end_matches('<').to_string();
                }
                Spec {
                    format,
                    code: code.to_string(),
                    state,
                    surname,
                    given,
                    number,
                    nationality,
                    birth,
                    sex,
                    expiry,
                    optional,
                    optional2: if format == MrzFormat::Td1 {
                        optional2
                    } else {
                        String::new()
                    },
                    filler_check,
                }
            },
        )
        .prop_filter("name fits its field", move |s| {
            s.name_field().len() <= name_len
        })
        .prop_filter("expiry inside the window", |s| {
            let y = i32::from(s.expiry.year()) - i32::from(reference().year());
            (-49..=50).contains(&y)
        })
}

/// Valid MRZs of any format.
pub(crate) fn any_spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        spec(MrzFormat::Td1),
        spec(MrzFormat::Td2),
        spec(MrzFormat::Td3),
        spec(MrzFormat::MrvA),
        spec(MrzFormat::MrvB),
    ]
}
