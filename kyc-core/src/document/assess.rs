//! Assessment of one document reading: the MRZ is read tolerantly from the OCR text, printed
//! dates left ambiguous are settled against it, printed fields are cross-checked against it and
//! merged into the final record. The result feeds the decision engine and `kyc document read`.

use serde::Serialize;

use super::{cross_check, merge, CrossCheck, DocumentFields, FieldName, Warning};
use crate::model::Date;
use crate::mrz::{self, MrzRecord};
use crate::ports::DocumentReading;

/// What the MRZ step established.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MrzStatus {
    /// Exactly one reading passes every check digit (after any repair).
    Valid,
    /// Several readings pass; the printed fields did not single one out.
    Ambiguous,
    /// An MRZ was found but no reading passes every check digit.
    Invalid,
    /// No MRZ was found.
    Absent,
}

/// The outcome of reading one document.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentAssessment {
    /// The merged, final record.
    pub fields: DocumentFields,
    /// The MRZ reading used (the unique passing one, the one the printed fields single out
    /// among several, or the best effort with failing checks), if an MRZ was found.
    pub mrz: Option<MrzRecord>,
    /// What the MRZ step established.
    pub mrz_status: MrzStatus,
    /// How many MRZ readings pass every check digit.
    pub mrz_candidates: usize,
    /// Check-digit repairs applied to the OCR text of the MRZ used (count only).
    pub mrz_corrections: usize,
    /// Printed fields against the MRZ, per field.
    pub evidence: CrossCheck,
    /// Non-fatal problems of the printed reading (field names and reasons, no values).
    pub warnings: Vec<Warning>,
}

impl DocumentAssessment {
    /// The fields among `required` that the merged record lacks.
    pub fn missing(&self, required: &[FieldName]) -> Vec<FieldName> {
        let present = self.fields.present();
        required
            .iter()
            .copied()
            .filter(|f| !present.contains(f))
            .collect()
    }
}

/// The fields a verification needs by default: name, date of birth, document number, expiry.
pub const REQUIRED_FIELDS: &[FieldName] = &[
    FieldName::Surname,
    FieldName::BirthDate,
    FieldName::DocumentNumber,
    FieldName::ExpiryDate,
];

/// Assesses a reading as of `reference` (today's date, for two-digit-year resolution).
pub fn assess(reading: &DocumentReading, reference: Date) -> DocumentAssessment {
    let mut printed = reading.printed.clone();
    let parsed = reading
        .mrz_text
        .as_deref()
        .and_then(|text| mrz::parse_tolerant(text, reference).ok());

    let (status, chosen, passing, corrections) = match &parsed {
        None => (MrzStatus::Absent, None, 0, 0),
        Some(p) => match p.candidates.len() {
            0 => match &p.best_effort {
                Some(c) => (MrzStatus::Invalid, Some(c), 0, c.corrections.len()),
                None => (MrzStatus::Absent, None, 0, 0),
            },
            1 => {
                let c = &p.candidates[0];
                (MrzStatus::Valid, Some(c), 1, c.corrections.len())
            }
            n => {
                // Let the printed zone break the tie: the reading it agrees with on the most
                // fields, if that reading is the only one with that many agreements.
                let scored: Vec<(usize, &mrz::Candidate)> = p
                    .candidates
                    .iter()
                    .map(|c| (agreements(&printed.fields, &c.record.document_fields()), c))
                    .collect();
                let best = scored.iter().map(|(s, _)| *s).max().unwrap_or(0);
                let top: Vec<&mrz::Candidate> = scored
                    .iter()
                    .filter(|(s, _)| *s == best)
                    .map(|(_, c)| *c)
                    .collect();
                match top.as_slice() {
                    [one] => (MrzStatus::Valid, Some(*one), n, one.corrections.len()),
                    _ => (MrzStatus::Ambiguous, top.first().copied(), n, 0),
                }
            }
        },
    };

    let mrz_fields = chosen
        .map(|c| c.record.document_fields())
        .unwrap_or_default();
    printed.resolve_ambiguities(&mrz_fields);
    let evidence = cross_check(&printed.fields, &mrz_fields);
    // One guided change is proven by the check digits (field and composite). Several guided
    // changes can conspire to pass them (e.g. a data digit and the composite digit together),
    // so such a reading counts only where the printed zone confirms every field it changed.
    let status = match chosen {
        Some(c) if status == MrzStatus::Valid && !repairs_confirmed(c, &evidence) => {
            MrzStatus::Ambiguous
        }
        _ => status,
    };
    let fields = merge(&printed.fields, &mrz_fields, &evidence);
    DocumentAssessment {
        fields,
        mrz: chosen.map(|c| c.record.clone()),
        mrz_status: status,
        mrz_candidates: passing,
        mrz_corrections: corrections,
        evidence,
        warnings: printed.warnings,
    }
}

fn repairs_confirmed(candidate: &mrz::Candidate, evidence: &CrossCheck) -> bool {
    use crate::mrz::{CorrectionKind, MrzField};
    let guided: Vec<MrzField> = candidate
        .corrections
        .iter()
        .filter(|c| c.kind == CorrectionKind::CheckDigit)
        .map(|c| c.field)
        .collect();
    if guided.len() <= 1 {
        return true;
    }
    let agrees = |e: Option<super::Evidence>| e == Some(super::Evidence::Agree);
    guided.iter().all(|f| match f {
        MrzField::BirthDate => agrees(evidence.birth_date),
        MrzField::ExpiryDate => agrees(evidence.expiry_date),
        MrzField::DocumentNumber => agrees(evidence.document_number),
        // Changed check digits and optional data are confirmed through the fields they cover.
        MrzField::CheckDigit(_) | MrzField::OptionalData | MrzField::OptionalData2 => true,
        _ => false,
    })
}

fn agreements(printed: &DocumentFields, mrz: &DocumentFields) -> usize {
    cross_check(printed, mrz)
        .iter()
        .filter(|(_, e)| *e == super::Evidence::Agree)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{normalise_pairs, KeyValue, NormaliseHints};

    const TD3: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

    fn reference() -> Date {
        Date::from_ymd(2010, 1, 1).unwrap()
    }

    fn printed(pairs: &[(&str, &str)]) -> crate::document::NormalisedDocument {
        let pairs: Vec<KeyValue> = pairs
            .iter()
            .map(|(k, v)| KeyValue {
                key: (*k).to_string(),
                value: (*v).to_string(),
                normalized: None,
                confidence: 95.0,
            })
            .collect();
        normalise_pairs(&pairs, &NormaliseHints::new(reference()))
    }

    fn reading(pairs: &[(&str, &str)], mrz: Option<&str>) -> DocumentReading {
        DocumentReading {
            printed: printed(pairs),
            mrz_text: mrz.map(str::to_string),
        }
    }

    #[test]
    fn agreeing_printed_fields_and_mrz_merge_into_one_record() {
        let r = reading(
            &[
                ("Surname", "Eriksson"),
                ("Date of birth", "12.08.1974"),
                ("Passport No", "L898902C3"),
            ],
            Some(TD3),
        );
        let a = assess(&r, reference());
        assert_eq!(a.mrz_status, MrzStatus::Valid);
        assert_eq!(a.evidence.disagreeing(), vec![]);
        assert_eq!(
            a.fields.surname.as_ref().unwrap().value.as_str(),
            "Eriksson"
        );
        assert_eq!(
            a.fields
                .expiry_date
                .as_ref()
                .unwrap()
                .value
                .date()
                .to_string(),
            "2012-04-15"
        );
        assert!(a.missing(REQUIRED_FIELDS).is_empty());
    }

    #[test]
    fn an_ocr_damaged_mrz_is_repaired_and_counts_as_valid() {
        let damaged = TD3.replace("7408122", "74O8l22");
        let a = assess(&reading(&[], Some(&damaged)), reference());
        assert_eq!(a.mrz_status, MrzStatus::Valid);
        assert!(a.mrz_corrections > 0);
        assert_eq!(
            a.fields.birth_date.unwrap().value.date().to_string(),
            "1974-08-12"
        );
    }

    #[test]
    fn a_printed_value_that_contradicts_the_mrz_is_recorded() {
        let r = reading(&[("Passport No", "X1234567")], Some(TD3));
        let a = assess(&r, reference());
        assert_eq!(a.evidence.disagreeing(), vec![FieldName::DocumentNumber]);
        assert_eq!(
            a.fields.document_number.unwrap().value.as_str(),
            "L898902C3"
        );
    }

    #[test]
    fn a_repair_needing_several_guided_changes_is_not_trusted_without_the_printed_zone() {
        // The month 08 misread as 05: the repair that makes the check digits pass changes two
        // characters (another digit and the composite), which check digits cannot prove.
        let damaged = TD3.replace("7408122F", "7405122F");
        let a = assess(&reading(&[], Some(&damaged)), reference());
        assert_ne!(a.mrz_status, MrzStatus::Valid);
    }

    #[test]
    fn no_mrz_text_means_absent_and_missing_fields_are_listed() {
        let a = assess(&reading(&[("Surname", "Eriksson")], None), reference());
        assert_eq!(a.mrz_status, MrzStatus::Absent);
        assert!(a.mrz.is_none());
        assert_eq!(a.missing(REQUIRED_FIELDS).len(), 3);
    }

    #[test]
    fn an_mrz_failing_several_checks_is_never_valid_and_never_dropped() {
        // Three check digits wrong: more than any repair may change.
        let bad = TD3.replace(
            "L898902C36UTO7408122F1204159",
            "L898902C33UTO7408127F1204154",
        );
        let a = assess(&reading(&[], Some(&bad)), reference());
        // Repairs may find readings that pass, but none the check digits alone prove.
        assert_ne!(a.mrz_status, MrzStatus::Valid);
        assert_ne!(a.mrz_status, MrzStatus::Absent);
        assert!(a.mrz.is_some());
    }
}
