//! Recognises a list file by its content (never by its name): OFAC legacy CSV parts, UN
//! consolidated XML, EU financial sanctions XML, UK sanctions list CSV, OpenSanctions FtM JSON
//! lines and `targets.simple.csv`.

use super::csv::records;
use super::model::decode_text;

/// What a list file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListFileKind {
    /// OFAC primary file (`sdn.csv`, `cons_prim.csv`): 12 columns.
    OfacPrimary,
    /// OFAC aliases (`alt.csv`): 5 columns, type `aka`/`fka`/`nka`.
    OfacAliases,
    /// OFAC addresses (`add.csv`): 6 columns.
    OfacAddresses,
    /// OFAC remarks continuations (`sdn_comments.csv`): 2 columns.
    OfacComments,
    /// UN Security Council consolidated list XML.
    UnXml,
    /// EU financial sanctions files XML (`export` of `sanctionEntity`).
    EuXml,
    /// UK sanctions list CSV (consolidated list of targets, `Name 6`, `Group ID`…).
    UkCsv,
    /// OpenSanctions entities in FollowTheMoney JSON lines.
    OpenSanctionsFtm,
    /// OpenSanctions `targets.simple.csv`.
    OpenSanctionsSimpleCsv,
}

/// How many leading bytes [`sniff`] looks at; read at least this much of a file.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Recognises a list file from its first bytes (at least [`SNIFF_BYTES`] when the file is
/// that long). Returns `None` for anything else (benchmark CSVs, notes, images…).
///
/// ```
/// use kyc_core::sanctions::{sniff, ListFileKind};
/// assert_eq!(sniff(b"36,12,\"aka\",\"AERO-CARIBBEAN\",-0- \r\n"), Some(ListFileKind::OfacAliases));
/// assert_eq!(sniff(b"<?xml version=\"1.0\"?><CONSOLIDATED_LIST>"), Some(ListFileKind::UnXml));
/// assert_eq!(sniff(b"full_name,first_name\r\n"), None);
/// ```
pub fn sniff(head: &[u8]) -> Option<ListFileKind> {
    let head = head.get(..head.len().min(SNIFF_BYTES)).unwrap_or(head);
    let text = decode_text(head);
    let t = text.trim_start();
    if t.starts_with('<') {
        if t.contains("<CONSOLIDATED_LIST") {
            return Some(ListFileKind::UnXml);
        }
        if t.contains("<export") && (t.contains("sanctionEntity") || t.contains("fsd")) {
            return Some(ListFileKind::EuXml);
        }
        return None;
    }
    if t.starts_with('{') {
        let first = t.lines().next().unwrap_or("");
        let is_ftm = first.contains("\"schema\"")
            && first.contains("\"properties\"")
            && first.contains("\"id\"");
        return is_ftm.then_some(ListFileKind::OpenSanctionsFtm);
    }
    // Only complete records count: the last one in the window may be cut.
    let complete = match t.rfind('\n') {
        Some(p) => t.get(..p).unwrap_or(""),
        None => t,
    };
    let mut recs = records(complete);
    let first = recs.next()?;
    let f0 = first.get(0).trim();
    if f0.eq_ignore_ascii_case("id")
        && first.fields.iter().any(|f| f == "schema")
        && first.fields.iter().any(|f| f == "name")
    {
        return Some(ListFileKind::OpenSanctionsSimpleCsv);
    }
    let uk_header = |r: &super::csv::Record| {
        r.fields.iter().any(|f| f.trim() == "Name 6")
            && r.fields.iter().any(|f| f.trim() == "Group ID")
    };
    if f0 == "Last Updated" || uk_header(&first) {
        let is_uk = uk_header(&first) || recs.next().is_some_and(|r| uk_header(&r));
        return is_uk.then_some(ListFileKind::UkCsv);
    }
    if f0.is_empty() || !f0.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match first.fields.len() {
        12 => Some(ListFileKind::OfacPrimary),
        5 if matches!(
            first.get(2).trim().to_ascii_lowercase().as_str(),
            "aka" | "fka" | "nka" | "weak aka"
        ) =>
        {
            Some(ListFileKind::OfacAliases)
        }
        6 => Some(ListFileKind::OfacAddresses),
        2 => Some(ListFileKind::OfacComments),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_kind_of_list_file_is_recognised() {
        let cases: [(&[u8], Option<ListFileKind>); 9] = [
            (b"36,\"AEROCARIBBEAN AIRLINES\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n", Some(ListFileKind::OfacPrimary)),
            (b"36,25,-0- ,\"Havana\",\"Cuba\",-0- \r\n", Some(ListFileKind::OfacAddresses)),
            (b"28263,\"hn'; Linked To: LAZARUS GROUP.\"\r\n", Some(ListFileKind::OfacComments)),
            (b"<?xml version=\"1.0\"?>\n<export xmlns=\"http://eu.europa.ec/fpi/fsd/export\"><sanctionEntity/>", Some(ListFileKind::EuXml)),
            (b"Last Updated,28/02/2026\r\nName 6,Name 1,Name 2,Group Type,Group ID\r\n", Some(ListFileKind::UkCsv)),
            (b"{\"id\": \"NK-1\", \"schema\": \"Person\", \"properties\": {}}\n", Some(ListFileKind::OpenSanctionsFtm)),
            (b"id,schema,name,aliases,birth_date\r\n", Some(ListFileKind::OpenSanctionsSimpleCsv)),
            (b"case_group,schema,name1,name2,is_match\n", None),
            (b"<html><body/></html>", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff(bytes), want);
        }
    }

    proptest! {
        #[test]
        fn hostile_bytes_are_refused_without_panicking(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = sniff(&b);
        }
    }
}
