//! Printed fields against the MRZ: [`cross_check`] records, per field, whether the two readings
//! agree, and [`merge`] builds the final record from both.
//!
//! Names are compared in their ICAO 9303 transliteration ([`crate::text::mrz_name_variants`]),
//! letters only (fillers, spaces, hyphens and apostrophes are ignored, since states differ in
//! how they write them). An MRZ name may be truncated when the name area is full: when the MRZ
//! names fill exactly the capacity of a name area (30 characters in TD1, 31 in TD2 and MRV-B,
//! 39 in TD3 and MRV-A), an MRZ name that is a prefix of the printed one agrees. Dates, codes,
//! the document number and sex are compared by value.

use serde::{Deserialize, Serialize};

use super::{DocumentFields, Field, FieldName, FieldSource};
use crate::model::PersonName;
use crate::text::{mrz_name_variants, to_mrz_name};

/// What the printed zone and the MRZ say about one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Evidence {
    /// Both were read and they agree.
    Agree,
    /// Both were read and they differ.
    Disagree,
    /// Only the printed zone holds the field.
    OnlyPrinted,
    /// Only the MRZ holds the field.
    OnlyMrz,
}

/// The evidence per field; a field read by neither is absent (`None`, left out of JSON).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossCheck {
    /// Surname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<Evidence>,
    /// Given names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_names: Option<Evidence>,
    /// Date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Evidence>,
    /// Document number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_number: Option<Evidence>,
    /// Date of expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<Evidence>,
    /// Nationality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<Evidence>,
    /// Issuing state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_state: Option<Evidence>,
    /// Sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Evidence>,
}

impl CrossCheck {
    /// The evidence for one field (`None` for fields outside [`DocumentFields`]).
    pub fn get(&self, field: FieldName) -> Option<Evidence> {
        match field {
            FieldName::Surname => self.surname,
            FieldName::GivenNames => self.given_names,
            FieldName::BirthDate => self.birth_date,
            FieldName::DocumentNumber => self.document_number,
            FieldName::ExpiryDate => self.expiry_date,
            FieldName::Nationality => self.nationality,
            FieldName::IssuingState => self.issuing_state,
            FieldName::Sex => self.sex,
            _ => None,
        }
    }

    /// Every field with evidence, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (FieldName, Evidence)> + '_ {
        FieldName::CORE
            .into_iter()
            .filter_map(|f| self.get(f).map(|e| (f, e)))
    }

    /// The fields where printed zone and MRZ disagree.
    pub fn disagreeing(&self) -> Vec<FieldName> {
        self.iter()
            .filter(|(_, e)| *e == Evidence::Disagree)
            .map(|(f, _)| f)
            .collect()
    }

    /// The fields where both readings agree.
    pub fn agreeing(&self) -> Vec<FieldName> {
        self.iter()
            .filter(|(_, e)| *e == Evidence::Agree)
            .map(|(f, _)| f)
            .collect()
    }
}

/// Capacities of the MRZ name area: TD1, TD2 / MRV-B, TD3 / MRV-A.
const NAME_AREA_CAPACITIES: [usize; 3] = [30, 31, 39];

fn evidence<T>(
    printed: &Option<Field<T>>,
    mrz: &Option<Field<T>>,
    same: impl FnOnce(&T, &T) -> bool,
) -> Option<Evidence> {
    match (printed, mrz) {
        (None, None) => None,
        (Some(_), None) => Some(Evidence::OnlyPrinted),
        (None, Some(_)) => Some(Evidence::OnlyMrz),
        (Some(p), Some(m)) => Some(if same(&p.value, &m.value) {
            Evidence::Agree
        } else {
            Evidence::Disagree
        }),
    }
}

fn letters(s: &str) -> String {
    s.chars().filter(char::is_ascii_uppercase).collect()
}

/// Whether the MRZ names fill a name area exactly, so they may have been cut.
fn may_be_truncated(mrz: &DocumentFields) -> bool {
    let surname = mrz
        .surname
        .as_ref()
        .map(|f| to_mrz_name(f.value.as_str()).len())
        .unwrap_or(0);
    let given = mrz
        .given_names
        .as_ref()
        .map(|f| 2 + to_mrz_name(f.value.as_str()).len())
        .unwrap_or(0);
    NAME_AREA_CAPACITIES.contains(&(surname + given))
}

fn names_agree(printed: &PersonName, mrz: &PersonName, truncated: bool) -> bool {
    let m = letters(&to_mrz_name(mrz.as_str()));
    if m.is_empty() {
        return false;
    }
    mrz_name_variants(printed.as_str()).iter().any(|v| {
        let p = letters(v);
        p == m || (truncated && p.starts_with(&m))
    })
}

/// Compares the printed fields with the fields decoded from the MRZ.
///
/// ```
/// use kyc_core::document::{cross_check, DocumentFields, Evidence, Field, FieldSource};
/// use kyc_core::model::PersonName;
/// let name = |s: &str, src| Some(Field::new(PersonName::parse(s).unwrap(), s, 95.0, src));
/// let printed = DocumentFields { surname: name("Müller", FieldSource::Printed), ..Default::default() };
/// let mrz = DocumentFields { surname: name("MUELLER", FieldSource::Mrz), ..Default::default() };
/// let check = cross_check(&printed, &mrz);
/// assert_eq!(check.surname, Some(Evidence::Agree));
/// assert_eq!(check.birth_date, None);
/// ```
pub fn cross_check(printed: &DocumentFields, mrz: &DocumentFields) -> CrossCheck {
    let truncated = may_be_truncated(mrz);
    CrossCheck {
        surname: evidence(&printed.surname, &mrz.surname, |p, m| {
            names_agree(p, m, truncated)
        }),
        given_names: evidence(&printed.given_names, &mrz.given_names, |p, m| {
            names_agree(p, m, truncated)
        }),
        birth_date: evidence(&printed.birth_date, &mrz.birth_date, |p, m| p == m),
        document_number: evidence(&printed.document_number, &mrz.document_number, |p, m| {
            p == m
        }),
        expiry_date: evidence(&printed.expiry_date, &mrz.expiry_date, |p, m| p == m),
        nationality: evidence(&printed.nationality, &mrz.nationality, |p, m| p == m),
        issuing_state: evidence(&printed.issuing_state, &mrz.issuing_state, |p, m| p == m),
        sex: evidence(&printed.sex, &mrz.sex, |p, m| p == m),
    }
}

/// Which reading's value and text an agreeing field keeps.
#[derive(Clone, Copy, PartialEq)]
enum Keep {
    /// The printed one (names: diacritics, spacing and untruncated).
    Printed,
    /// The MRZ one.
    Mrz,
}

/// The confidence at which an MRZ value is certain: its check digit passed.
const CHECKED: f32 = 100.0;

fn merge_field<T: Clone>(
    printed: &Option<Field<T>>,
    mrz: &Option<Field<T>>,
    evidence: Option<Evidence>,
    keep: Keep,
) -> Option<Field<T>> {
    match (printed, mrz) {
        (None, None) => None,
        (Some(p), None) => Some(p.clone()),
        (None, Some(m)) => Some(m.clone()),
        (Some(p), Some(m)) if evidence == Some(Evidence::Agree) => {
            let base = if keep == Keep::Printed { p } else { m };
            Some(Field::new(
                base.value.clone(),
                base.original.clone(),
                p.confidence.max(m.confidence),
                FieldSource::MrzAndPrinted,
            ))
        }
        (Some(p), Some(m)) => {
            // Disagreement: a checked MRZ value wins, otherwise the more confident one (the
            // MRZ on a tie: its layout is fixed, the printed reading depends on labels).
            if m.confidence >= CHECKED || m.confidence >= p.confidence {
                Some(m.clone())
            } else {
                Some(p.clone())
            }
        }
    }
}

/// The final record: fields that agree become [`FieldSource::MrzAndPrinted`] with the higher
/// confidence (names keep their printed form, other fields the MRZ one); on disagreement the
/// MRZ value wins when its confidence is 100 (check digit passed), else the more confident
/// one, and the disagreement stays recorded in `check`; a field read by one side only is
/// taken as it is.
pub fn merge(printed: &DocumentFields, mrz: &DocumentFields, check: &CrossCheck) -> DocumentFields {
    DocumentFields {
        surname: merge_field(&printed.surname, &mrz.surname, check.surname, Keep::Printed),
        given_names: merge_field(
            &printed.given_names,
            &mrz.given_names,
            check.given_names,
            Keep::Printed,
        ),
        birth_date: merge_field(
            &printed.birth_date,
            &mrz.birth_date,
            check.birth_date,
            Keep::Mrz,
        ),
        document_number: merge_field(
            &printed.document_number,
            &mrz.document_number,
            check.document_number,
            Keep::Mrz,
        ),
        expiry_date: merge_field(
            &printed.expiry_date,
            &mrz.expiry_date,
            check.expiry_date,
            Keep::Mrz,
        ),
        nationality: merge_field(
            &printed.nationality,
            &mrz.nationality,
            check.nationality,
            Keep::Mrz,
        ),
        issuing_state: merge_field(
            &printed.issuing_state,
            &mrz.issuing_state,
            check.issuing_state,
            Keep::Mrz,
        ),
        sex: merge_field(&printed.sex, &mrz.sex, check.sex, Keep::Mrz),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BirthDate, CountryCode, Date, DocumentNumber, ExpiryDate, Sex};
    use proptest::prelude::*;

    fn name(s: &str, c: f32, src: FieldSource) -> Option<Field<PersonName>> {
        Some(Field::new(PersonName::parse(s).unwrap(), s, c, src))
    }

    fn date(y: u16, m: u8, d: u8) -> Date {
        Date::from_ymd(y, m, d).unwrap()
    }

    fn printed() -> DocumentFields {
        let p = FieldSource::Printed;
        DocumentFields {
            surname: name("Eriksson", 97.0, p),
            given_names: name("Anna María", 95.0, p),
            birth_date: Some(Field::new(
                BirthDate::new(date(1974, 8, 12)),
                "12 AUG/AOÛT 74",
                93.0,
                p,
            )),
            document_number: Some(Field::new(
                DocumentNumber::parse("L898902C3").unwrap(),
                "L898902C3",
                96.0,
                p,
            )),
            expiry_date: Some(Field::new(
                ExpiryDate::new(date(2032, 4, 15)),
                "15 APR/AVR 32",
                92.0,
                p,
            )),
            nationality: Some(Field::new(
                CountryCode::parse("UTO").unwrap(),
                "Utopian",
                90.0,
                p,
            )),
            issuing_state: None,
            sex: Some(Field::new(Sex::Female, "F", 99.0, p)),
        }
    }

    fn mrz() -> DocumentFields {
        let m = FieldSource::Mrz;
        DocumentFields {
            surname: name("ERIKSSON", 90.0, m),
            given_names: name("ANNA MARIA", 90.0, m),
            birth_date: Some(Field::new(
                BirthDate::new(date(1974, 8, 12)),
                "740812",
                100.0,
                m,
            )),
            document_number: Some(Field::new(
                DocumentNumber::parse("L898902C3").unwrap(),
                "L898902C3",
                100.0,
                m,
            )),
            expiry_date: Some(Field::new(
                ExpiryDate::new(date(2032, 4, 16)),
                "320416",
                100.0,
                m,
            )),
            nationality: None,
            issuing_state: Some(Field::new(
                CountryCode::parse("UTO").unwrap(),
                "UTO",
                90.0,
                m,
            )),
            sex: Some(Field::new(Sex::Female, "F", 90.0, m)),
        }
    }

    #[test]
    fn evidence_is_recorded_per_field() {
        let c = cross_check(&printed(), &mrz());
        assert_eq!(c.surname, Some(Evidence::Agree));
        assert_eq!(c.given_names, Some(Evidence::Agree));
        assert_eq!(c.birth_date, Some(Evidence::Agree));
        assert_eq!(c.document_number, Some(Evidence::Agree));
        assert_eq!(c.expiry_date, Some(Evidence::Disagree));
        assert_eq!(c.nationality, Some(Evidence::OnlyPrinted));
        assert_eq!(c.issuing_state, Some(Evidence::OnlyMrz));
        assert_eq!(c.sex, Some(Evidence::Agree));
        assert_eq!(c.disagreeing(), vec![FieldName::ExpiryDate]);
        let json = serde_json::to_value(c).unwrap();
        assert_eq!(json["expiryDate"], "disagree");
        assert_eq!(json["issuingState"], "onlyMrz");
        let none = cross_check(&DocumentFields::default(), &DocumentFields::default());
        assert_eq!(serde_json::to_string(&none).unwrap(), "{}");
    }

    #[test]
    fn merging_prefers_checked_mrz_values_and_printed_names() {
        let (p, m) = (printed(), mrz());
        let c = cross_check(&p, &m);
        let merged = merge(&p, &m, &c);
        let given = merged.given_names.unwrap();
        assert_eq!(given.value.as_str(), "Anna María");
        assert_eq!(given.source, FieldSource::MrzAndPrinted);
        assert_eq!(given.confidence, 95.0);
        let birth = merged.birth_date.unwrap();
        assert_eq!(birth.source, FieldSource::MrzAndPrinted);
        assert_eq!(birth.confidence, 100.0);
        // Disagreement: the MRZ passed its check digit.
        let exp = merged.expiry_date.unwrap();
        assert_eq!(exp.value.date(), date(2032, 4, 16));
        assert_eq!(exp.source, FieldSource::Mrz);
        assert_eq!(merged.nationality.unwrap().source, FieldSource::Printed);
        assert_eq!(merged.issuing_state.unwrap().source, FieldSource::Mrz);
    }

    #[test]
    fn an_unchecked_disagreement_goes_to_the_more_confident_reading() {
        let mut p = printed();
        let mut m = mrz();
        p.sex = Some(Field::new(Sex::Male, "M", 99.0, FieldSource::Printed));
        m.sex = Some(Field::new(Sex::Female, "F", 60.0, FieldSource::Mrz));
        let c = cross_check(&p, &m);
        assert_eq!(c.sex, Some(Evidence::Disagree));
        assert_eq!(merge(&p, &m, &c).sex.unwrap().value, Sex::Male);
        m.sex = Some(Field::new(Sex::Female, "F", 99.0, FieldSource::Mrz));
        assert_eq!(merge(&p, &m, &c).sex.unwrap().value, Sex::Female);
    }

    #[test]
    fn names_follow_icao_transliteration() {
        let check = |printed: &str, mrz: &str| {
            let p = DocumentFields {
                surname: name(printed, 90.0, FieldSource::Printed),
                ..Default::default()
            };
            let m = DocumentFields {
                surname: name(mrz, 90.0, FieldSource::Mrz),
                ..Default::default()
            };
            cross_check(&p, &m).surname
        };
        assert_eq!(check("Müller", "MULLER"), Some(Evidence::Agree));
        assert_eq!(check("Müller", "MUELLER"), Some(Evidence::Agree));
        assert_eq!(
            check("O'Brien-Smith", "OBRIEN SMITH"),
            Some(Evidence::Agree)
        );
        assert_eq!(check("Strauß", "STRAUSS"), Some(Evidence::Agree));
        assert_eq!(check("Müller", "MILLER"), Some(Evidence::Disagree));
        // Not truncated: the area is not full, so a prefix is a different name.
        assert_eq!(check("Johnson", "JOHN"), Some(Evidence::Disagree));
    }

    #[test]
    fn a_truncated_mrz_name_agrees_with_the_full_printed_one() {
        // TD3: 39 characters of names. Surname 25 letters + "<<" + 12 given-name characters.
        let surname = "Wolfeschlegelsteinhausen";
        let p = DocumentFields {
            surname: name(&format!("{surname}b"), 90.0, FieldSource::Printed),
            given_names: name("Hubert Blaine Charles", 90.0, FieldSource::Printed),
            ..Default::default()
        };
        let m = DocumentFields {
            surname: name(
                &format!("{}B", surname.to_uppercase()),
                90.0,
                FieldSource::Mrz,
            ),
            given_names: name("HUBERT BLAIN", 90.0, FieldSource::Mrz),
            ..Default::default()
        };
        assert_eq!(to_mrz_name("WOLFESCHLEGELSTEINHAUSENB").len() + 2 + 12, 39);
        let c = cross_check(&p, &m);
        assert_eq!(c.surname, Some(Evidence::Agree));
        assert_eq!(c.given_names, Some(Evidence::Agree));
        let merged = merge(&p, &m, &c);
        assert_eq!(
            merged.given_names.unwrap().value.as_str(),
            "Hubert Blaine Charles"
        );
    }

    #[test]
    fn a_french_identity_card_read_by_textract_agrees_with_its_mrz() {
        use crate::document::textract;
        use crate::document::NormaliseHints;
        let bytes = include_bytes!("../../tests/data/textract/forms_fr_id_card.json");
        let response = textract::parse_analyze_document(bytes).unwrap();
        let hints = NormaliseHints::new(date(2026, 1, 15));
        let printed = textract::normalise_analyze_document(&response, &hints).fields;
        // What the MRZ parser decodes from the card's three lines (check digits pass).
        let m = FieldSource::Mrz;
        let fra = CountryCode::parse("FRA").unwrap();
        let mrz = DocumentFields {
            surname: name("MARTIN", 95.0, m),
            given_names: name("CAMILLE ROSE", 95.0, m),
            birth_date: Some(Field::new(
                BirthDate::new(date(1980, 1, 12)),
                "800112",
                100.0,
                m,
            )),
            document_number: Some(Field::new(
                DocumentNumber::parse("X4RTBPFW4").unwrap(),
                "X4RTBPFW4",
                100.0,
                m,
            )),
            expiry_date: Some(Field::new(
                ExpiryDate::new(date(2031, 2, 11)),
                "310211",
                100.0,
                m,
            )),
            nationality: Some(Field::new(fra, "FRA", 95.0, m)),
            issuing_state: Some(Field::new(fra, "FRA", 95.0, m)),
            sex: Some(Field::new(Sex::Female, "F", 95.0, m)),
        };
        let evidence = cross_check(&printed, &mrz);
        assert!(evidence.disagreeing().is_empty());
        let fields = merge(&printed, &mrz, &evidence);
        insta::assert_json_snapshot!(serde_json::json!({ "fields": fields, "evidence": evidence }));
    }

    fn arb_fields(src: FieldSource) -> impl Strategy<Value = DocumentFields> {
        (
            proptest::option::of("[A-Za-z]{1,12}"),
            proptest::option::of(0i64..20_000),
            proptest::option::of(0.0f32..=100.0),
        )
            .prop_map(move |(n, d, c)| {
                let c = c.unwrap_or(50.0);
                DocumentFields {
                    surname: n.map(|n| Field::new(PersonName::parse(&n).unwrap(), n, c, src)),
                    birth_date: d.map(|d| {
                        Field::new(
                            BirthDate::new(Date::from_days_since_epoch(d).unwrap()),
                            "",
                            c,
                            src,
                        )
                    }),
                    ..Default::default()
                }
            })
    }

    proptest! {
        #[test]
        fn merge_keeps_every_field_read_by_either_side(
            p in arb_fields(FieldSource::Printed),
            m in arb_fields(FieldSource::Mrz),
        ) {
            let c = cross_check(&p, &m);
            let merged = merge(&p, &m, &c);
            prop_assert_eq!(merged.surname.is_some(), p.surname.is_some() || m.surname.is_some());
            prop_assert_eq!(c.surname.is_some(), merged.surname.is_some());
            prop_assert_eq!(merged.birth_date.is_some(), p.birth_date.is_some() || m.birth_date.is_some());
            // Agreement is symmetric for equal-valued dates.
            if let (Some(a), Some(b)) = (&p.birth_date, &m.birth_date) {
                prop_assert_eq!(c.birth_date == Some(Evidence::Agree), a.value == b.value);
            }
        }
    }
}
