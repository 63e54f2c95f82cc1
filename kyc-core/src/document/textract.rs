//! Amazon Textract responses: typed models of `AnalyzeID` and `AnalyzeDocument` (FORMS) in their
//! wire shape (PascalCase keys, as in the `textract` 2018-06-27 service model), parsing from
//! bytes, and their reduction to labelled values for [`normalise_pairs`].
//!
//! The models are forward compatible: unknown keys are ignored, enumerations keep values they
//! do not know (`Other(String)`), and every member is optional or defaults to empty, so a
//! response from a newer Textract still parses. Parsing is pure; the adapter that called
//! Textract hands over the bytes.
//!
//! Text read from documents is personal data: the `Debug` output of these types redacts it,
//! and [`TextractError`] never echoes the input.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::normalise::iso_prefix;
use super::{
    normalise_pairs, KeyValue, NormaliseHints, NormalisedDocument, Warning, WarningReason,
};

/// The largest response accepted, in bytes (a one-page identity document yields well under
/// 1 MiB).
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// The most words joined into one key or value.
pub const MAX_WORDS_PER_TEXT: usize = 64;
/// The longest key or value text built from words, in bytes.
pub const MAX_TEXT_LEN: usize = 1000;
/// The most VALUE blocks followed from one key (Textract links a key to one value).
const MAX_VALUE_TARGETS: usize = 4;

/// Why a Textract response could not be parsed. Never holds any of the response's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextractError {
    /// More than [`MAX_RESPONSE_BYTES`].
    #[error("textract response is larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// Not JSON (or truncated).
    #[error("textract response is not valid json (line {line}, column {column})")]
    InvalidJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// JSON, but a member has the wrong type (a string where a list is expected…).
    #[error("textract response does not have the expected shape (line {line}, column {column})")]
    UnexpectedShape {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
}

fn parse<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, TextractError> {
    if bytes.len() > MAX_RESPONSE_BYTES {
        return Err(TextractError::TooLarge {
            max: MAX_RESPONSE_BYTES,
        });
    }
    // serde_json's own messages may quote the input; only its position is kept.
    serde_json::from_slice(bytes).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        match e.classify() {
            serde_json::error::Category::Data => TextractError::UnexpectedShape { line, column },
            _ => TextractError::InvalidJson { line, column },
        }
    })
}

/// Parses an `AnalyzeID` response.
///
/// ```
/// use kyc_core::document::textract::parse_analyze_id;
/// let r = parse_analyze_id(br#"{"IdentityDocuments": [], "AnalyzeIDModelVersion": "1.0"}"#).unwrap();
/// assert!(r.identity_documents.is_empty());
/// let e = parse_analyze_id(b"{\"IdentityDocuments\": \"SECRET\"}").unwrap_err();
/// assert!(!e.to_string().contains("SECRET"));
/// ```
pub fn parse_analyze_id(bytes: &[u8]) -> Result<AnalyzeIdResponse, TextractError> {
    parse(bytes)
}

/// Parses an `AnalyzeDocument` response (any feature types; FORMS is the one used here).
pub fn parse_analyze_document(bytes: &[u8]) -> Result<AnalyzeDocumentResponse, TextractError> {
    parse(bytes)
}

/// Declares a string enumeration of the service model that keeps unknown values.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know, kept as written.
            Other(String),
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $( $wire => Self::$variant, )+
                    _ => Self::Other(s),
                }
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                match v {
                    $( $name::$variant => $wire.to_string(), )+
                    $name::Other(s) => s,
                }
            }
        }
    };
}

open_enum! {
    /// `BlockType`.
    BlockType {
        /// `PAGE`.
        Page = "PAGE",
        /// `LINE`.
        Line = "LINE",
        /// `WORD`.
        Word = "WORD",
        /// `KEY_VALUE_SET`.
        KeyValueSet = "KEY_VALUE_SET",
        /// `SELECTION_ELEMENT`.
        SelectionElement = "SELECTION_ELEMENT",
        /// `TABLE`.
        Table = "TABLE",
        /// `CELL`.
        Cell = "CELL",
        /// `MERGED_CELL`.
        MergedCell = "MERGED_CELL",
        /// `TITLE`.
        Title = "TITLE",
        /// `QUERY`.
        Query = "QUERY",
        /// `QUERY_RESULT`.
        QueryResult = "QUERY_RESULT",
        /// `SIGNATURE`.
        Signature = "SIGNATURE",
    }
}

open_enum! {
    /// `EntityType` of a block.
    EntityType {
        /// `KEY`: the label of a key/value set.
        Key = "KEY",
        /// `VALUE`: the value of a key/value set.
        Value = "VALUE",
        /// `COLUMN_HEADER` (tables).
        ColumnHeader = "COLUMN_HEADER",
    }
}

open_enum! {
    /// `RelationshipType`.
    RelationshipType {
        /// `VALUE`: from a key to its value.
        Value = "VALUE",
        /// `CHILD`: to the words (or lines) a block is made of.
        Child = "CHILD",
        /// `COMPLEX_FEATURES`.
        ComplexFeatures = "COMPLEX_FEATURES",
        /// `MERGED_CELL`.
        MergedCell = "MERGED_CELL",
        /// `TITLE`.
        Title = "TITLE",
        /// `ANSWER` (queries).
        Answer = "ANSWER",
        /// `TABLE`.
        Table = "TABLE",
    }
}

open_enum! {
    /// `TextType`.
    TextType {
        /// `PRINTED`.
        Printed = "PRINTED",
        /// `HANDWRITING`.
        Handwriting = "HANDWRITING",
    }
}

open_enum! {
    /// `SelectionStatus`.
    SelectionStatus {
        /// `SELECTED`.
        Selected = "SELECTED",
        /// `NOT_SELECTED`.
        NotSelected = "NOT_SELECTED",
    }
}

/// `ValueType` of a normalised AnalyzeID value. The service model says `DATE`; responses have
/// been seen with `Date`, so it is matched case-insensitively (and written back as read).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum ValueType {
    /// A date, as written (`DATE` or `Date`).
    Date(String),
    /// Another type, as written.
    Other(String),
}

impl From<String> for ValueType {
    fn from(s: String) -> Self {
        if s.eq_ignore_ascii_case("date") {
            Self::Date(s)
        } else {
            Self::Other(s)
        }
    }
}

impl From<ValueType> for String {
    fn from(v: ValueType) -> String {
        match v {
            ValueType::Date(s) | ValueType::Other(s) => s,
        }
    }
}

/// `DocumentMetadata`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentMetadata {
    /// `Pages`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
}

/// The response of `AnalyzeID`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AnalyzeIdResponse {
    /// `IdentityDocuments`: one per page analysed.
    #[serde(default)]
    pub identity_documents: Vec<IdentityDocument>,
    /// `DocumentMetadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_metadata: Option<DocumentMetadata>,
    /// `AnalyzeIDModelVersion`.
    #[serde(
        rename = "AnalyzeIDModelVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub analyze_id_model_version: Option<String>,
}

/// `IdentityDocument`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityDocument {
    /// `DocumentIndex` (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_index: Option<u32>,
    /// `IdentityDocumentFields`.
    #[serde(default)]
    pub identity_document_fields: Vec<IdentityDocumentField>,
    /// `Blocks`: the text of the page, as in text detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks: Option<Vec<Block>>,
}

/// `IdentityDocumentField`: a normalised field type and the value read for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityDocumentField {
    /// `Type`: the field type (`FIRST_NAME`, `DATE_OF_BIRTH`…) in `Text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<AnalyzeIdDetections>,
    /// `ValueDetection`: the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_detection: Option<AnalyzeIdDetections>,
}

/// `AnalyzeIDDetections`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AnalyzeIdDetections {
    /// `Text` (required by the model; empty when missing).
    #[serde(default)]
    pub text: String,
    /// `NormalizedValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalized_value: Option<NormalizedValue>,
    /// `Confidence`, 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

impl fmt::Debug for AnalyzeIdDetections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnalyzeIdDetections")
            .field("text", &"<redacted>")
            .field("normalized_value", &self.normalized_value)
            .field("confidence", &self.confidence)
            .finish()
    }
}

/// `NormalizedValue`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NormalizedValue {
    /// `Value` (dates as `YYYY-MM-DDTHH:MM:SS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `ValueType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_type: Option<ValueType>,
}

impl fmt::Debug for NormalizedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NormalizedValue")
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .field("value_type", &self.value_type)
            .finish()
    }
}

/// The response of `AnalyzeDocument`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AnalyzeDocumentResponse {
    /// `DocumentMetadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_metadata: Option<DocumentMetadata>,
    /// `Blocks`.
    #[serde(default)]
    pub blocks: Vec<Block>,
    /// `AnalyzeDocumentModelVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analyze_document_model_version: Option<String>,
}

/// `Block`: a page, line, word, key/value set, selection element, table cell…
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Block {
    /// `BlockType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_type: Option<BlockType>,
    /// `Confidence`, 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// `Text` (lines and words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `TextType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_type: Option<TextType>,
    /// `RowIndex` (cells).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_index: Option<u32>,
    /// `ColumnIndex` (cells).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_index: Option<u32>,
    /// `RowSpan` (cells).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_span: Option<u32>,
    /// `ColumnSpan` (cells).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_span: Option<u32>,
    /// `Geometry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<Geometry>,
    /// `Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `Relationships`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationships: Vec<Relationship>,
    /// `EntityTypes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entity_types: Vec<EntityType>,
    /// `SelectionStatus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_status: Option<SelectionStatus>,
    /// `Page` (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

impl fmt::Debug for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Block")
            .field("block_type", &self.block_type)
            .field("id", &self.id)
            .field("confidence", &self.confidence)
            .field("text", &self.text.as_ref().map(|_| "<redacted>"))
            .field("entity_types", &self.entity_types)
            .field("relationships", &self.relationships)
            .field("page", &self.page)
            .finish_non_exhaustive()
    }
}

impl Block {
    fn is(&self, t: &BlockType) -> bool {
        self.block_type.as_ref() == Some(t)
    }

    fn has_entity(&self, e: &EntityType) -> bool {
        self.entity_types.contains(e)
    }

    fn ids<'a>(&'a self, t: &'a RelationshipType) -> impl Iterator<Item = &'a str> + 'a {
        self.relationships
            .iter()
            .filter(move |r| &r.r#type == t)
            .flat_map(|r| r.ids.iter().map(String::as_str))
    }
}

/// `Relationship`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Relationship {
    /// `Type`.
    #[serde(default = "unknown_relationship")]
    pub r#type: RelationshipType,
    /// `Ids`.
    #[serde(default)]
    pub ids: Vec<String>,
}

fn unknown_relationship() -> RelationshipType {
    RelationshipType::Other(String::new())
}

/// `Geometry`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Geometry {
    /// `BoundingBox`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box: Option<BoundingBox>,
    /// `Polygon`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub polygon: Vec<Point>,
    /// `RotationAngle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_angle: Option<f32>,
}

/// `BoundingBox`, as ratios of the page size.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BoundingBox {
    /// `Width`.
    #[serde(default)]
    pub width: f32,
    /// `Height`.
    #[serde(default)]
    pub height: f32,
    /// `Left`.
    #[serde(default)]
    pub left: f32,
    /// `Top`.
    #[serde(default)]
    pub top: f32,
}

/// `Point`, as ratios of the page size.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Point {
    /// `X`.
    #[serde(default)]
    pub x: f32,
    /// `Y`.
    #[serde(default)]
    pub y: f32,
}

/// The labelled values of an AnalyzeID response: each field's type as the key, its value text,
/// a normalised date when Textract gave one, and the lower of the type and value confidences.
/// The fields of every identity document are returned in order (front and back of one card).
pub fn analyze_id_pairs(response: &AnalyzeIdResponse) -> Vec<KeyValue> {
    let mut out = Vec::new();
    for doc in &response.identity_documents {
        for field in &doc.identity_document_fields {
            let (Some(t), Some(v)) = (&field.r#type, &field.value_detection) else {
                continue;
            };
            if v.text.trim().is_empty() {
                continue;
            }
            let normalized = v
                .normalized_value
                .as_ref()
                .filter(|n| matches!(n.value_type, Some(ValueType::Date(_))))
                .and_then(|n| n.value.as_deref())
                .filter(|s| iso_prefix(s).is_some())
                .map(str::to_string);
            let confidence = match (t.confidence, v.confidence) {
                (Some(a), Some(b)) => a.min(b),
                (None, Some(c)) | (Some(c), None) => c,
                (None, None) => 0.0,
            };
            out.push(KeyValue {
                key: t.text.clone(),
                value: v.text.clone(),
                normalized,
                confidence,
            });
            if out.len() >= super::MAX_PAIRS {
                return out;
            }
        }
    }
    out
}

/// Normalises an AnalyzeID response into one record (all identity documents together). The
/// MRZ text is the `MRZ_CODE` field when there is one, else the lines of the documents' blocks
/// that look like an MRZ.
pub fn normalise_analyze_id(
    response: &AnalyzeIdResponse,
    hints: &NormaliseHints,
) -> NormalisedDocument {
    let mut doc = normalise_pairs(&analyze_id_pairs(response), hints);
    for blocks in response
        .identity_documents
        .iter()
        .filter_map(|d| d.blocks.as_deref())
    {
        fill_mrz_from_lines(&mut doc, blocks);
    }
    doc
}

/// Sets the MRZ text from the lines that look like one, unless it is already known.
fn fill_mrz_from_lines(doc: &mut NormalisedDocument, blocks: &[Block]) {
    if doc.extras.mrz_text.is_some() {
        return;
    }
    if let Some(text) = mrz_text(blocks) {
        let confidence = blocks
            .iter()
            .filter(|b| b.is(&BlockType::Line) && b.text.as_deref().is_some_and(is_mrz_line))
            .filter_map(|b| b.confidence)
            .fold(100.0f32, f32::min);
        doc.extras.mrz_text = Some(super::Field::new(
            text.clone(),
            text,
            confidence,
            super::FieldSource::Printed,
        ));
    }
}

/// Blocks by id; the first of duplicated ids wins.
struct Index<'a> {
    by_id: HashMap<&'a str, &'a Block>,
}

/// Resolves KEY → VALUE → WORD relationships of a FORMS response into labelled values.
///
/// A key's text is its CHILD words, in order; its value is the CHILD words of every VALUE
/// block its VALUE relationship points to. Only one level is followed (a CHILD of a key or
/// value must be a WORD, a VALUE target must be a `KEY_VALUE_SET` block of entity `VALUE`), so
/// cycles cannot loop; ids that point nowhere or to the wrong kind of block are skipped with
/// [`WarningReason::BrokenRelationship`]; duplicated ids keep the first block
/// ([`WarningReason::DuplicateBlockId`]). The confidence of a pair is the lowest of the key
/// set's, the value set's and the value words'.
pub fn key_value_pairs(blocks: &[Block]) -> (Vec<KeyValue>, Vec<Warning>) {
    let mut warnings = Vec::new();
    let warn = |w: Warning, warnings: &mut Vec<Warning>| {
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    };
    let mut index = Index {
        by_id: HashMap::with_capacity(blocks.len()),
    };
    for b in blocks {
        if let Some(id) = b.id.as_deref() {
            match index.by_id.entry(id) {
                Entry::Vacant(e) => {
                    e.insert(b);
                }
                Entry::Occupied(_) => warn(
                    Warning::general(WarningReason::DuplicateBlockId),
                    &mut warnings,
                ),
            }
        }
    }
    let mut pairs = Vec::new();
    for key in blocks {
        if !(key.is(&BlockType::KeyValueSet) && key.has_entity(&EntityType::Key)) {
            continue;
        }
        if pairs.len() >= super::MAX_PAIRS {
            warn(Warning::general(WarningReason::TooManyPairs), &mut warnings);
            break;
        }
        let mut broken = false;
        let mut oversized = false;
        let Some((key_text, _)) = index.words(key, &mut broken, &mut oversized) else {
            if broken {
                warn(
                    Warning::general(WarningReason::BrokenRelationship),
                    &mut warnings,
                );
            }
            if oversized {
                warn(Warning::general(WarningReason::Oversized), &mut warnings);
            }
            continue;
        };
        let mut value_text = String::new();
        let mut confidence = key.confidence.unwrap_or(0.0);
        for id in key.ids(&RelationshipType::Value).take(MAX_VALUE_TARGETS) {
            match index.by_id.get(id) {
                Some(v) if v.is(&BlockType::KeyValueSet) && v.has_entity(&EntityType::Value) => {
                    if let Some((text, word_conf)) = index.words(v, &mut broken, &mut oversized) {
                        if !value_text.is_empty() {
                            value_text.push(' ');
                        }
                        value_text.push_str(&text);
                        confidence = confidence.min(v.confidence.unwrap_or(0.0)).min(word_conf);
                    }
                }
                _ => broken = true,
            }
        }
        if value_text.len() > MAX_TEXT_LEN {
            oversized = true;
            value_text.clear();
        }
        if broken {
            warn(
                Warning::general(WarningReason::BrokenRelationship),
                &mut warnings,
            );
        }
        if oversized {
            warn(Warning::general(WarningReason::Oversized), &mut warnings);
        }
        if !value_text.is_empty() {
            pairs.push(KeyValue::new(key_text, value_text, confidence));
        }
    }
    (pairs, warnings)
}

impl Index<'_> {
    /// The CHILD words of a block joined by spaces, with their lowest confidence; `None` when
    /// there are none.
    fn words(
        &self,
        block: &Block,
        broken: &mut bool,
        oversized: &mut bool,
    ) -> Option<(String, f32)> {
        let mut text = String::new();
        let mut confidence = f32::INFINITY;
        for id in block.ids(&RelationshipType::Child).take(MAX_WORDS_PER_TEXT) {
            match self.by_id.get(id) {
                Some(w) if w.is(&BlockType::Word) => {
                    let t = w.text.as_deref().unwrap_or("").trim();
                    if t.is_empty() {
                        continue;
                    }
                    if text.len() + t.len() + 1 > MAX_TEXT_LEN {
                        *oversized = true;
                        return None;
                    }
                    if !text.is_empty() {
                        text.push(' ');
                    }
                    text.push_str(t);
                    confidence = confidence.min(w.confidence.unwrap_or(0.0));
                }
                // Check boxes carry no text; other kinds of children are not followed.
                Some(w) if w.is(&BlockType::SelectionElement) => {}
                _ => *broken = true,
            }
        }
        (!text.is_empty()).then_some((text, confidence))
    }
}

/// Whether a line of text looks like a line of a machine-readable zone: 30 to 44 characters
/// of `A-Z 0-9 <` (spaces ignored) with at least one filler.
fn is_mrz_line(line: &str) -> bool {
    let mut n = 0usize;
    let mut fillers = 0usize;
    for c in line.chars() {
        match c {
            ' ' => {}
            '<' => {
                n += 1;
                fillers += 1;
            }
            'A'..='Z' | '0'..='9' => n += 1,
            _ => return false,
        }
    }
    (30..=44).contains(&n) && fillers > 0
}

/// The lines of text that look like an MRZ (consecutive `LINE` blocks of 30–44 MRZ
/// characters), joined with `\n`, spaces removed, for the MRZ parser; `None` when fewer than
/// two such lines are found.
pub fn mrz_text(blocks: &[Block]) -> Option<String> {
    let mut best: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for b in blocks.iter().filter(|b| b.is(&BlockType::Line)) {
        match b.text.as_deref() {
            Some(t) if t.len() <= 200 && is_mrz_line(t) => {
                run.push(t.chars().filter(|c| *c != ' ').collect());
            }
            _ => {
                if run.len() > best.len() {
                    best = std::mem::take(&mut run);
                }
                run.clear();
            }
        }
    }
    if run.len() > best.len() {
        best = run;
    }
    (best.len() >= 2).then(|| best.join("\n"))
}

/// Normalises an AnalyzeDocument (FORMS) response into one record; structural problems of the
/// response come first in the warnings. The MRZ text is taken from the pairs when labelled,
/// else from the lines that look like an MRZ.
pub fn normalise_analyze_document(
    response: &AnalyzeDocumentResponse,
    hints: &NormaliseHints,
) -> NormalisedDocument {
    let (pairs, mut warnings) = key_value_pairs(&response.blocks);
    let mut doc = normalise_pairs(&pairs, hints);
    fill_mrz_from_lines(&mut doc, &response.blocks);
    warnings.append(&mut doc.warnings);
    doc.warnings = warnings;
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CountryCode, Date};
    use proptest::prelude::*;

    fn hints() -> NormaliseHints {
        NormaliseHints::new(Date::from_ymd(2026, 1, 15).unwrap())
    }

    const US_PASSPORT: &[u8] =
        include_bytes!("../../tests/data/textract/analyze_id_us_passport.json");
    const US_LICENCE: &[u8] =
        include_bytes!("../../tests/data/textract/analyze_id_us_driver_license.json");
    const FR_ID: &[u8] = include_bytes!("../../tests/data/textract/forms_fr_id_card.json");
    const DE_ID: &[u8] = include_bytes!("../../tests/data/textract/forms_de_id_card.json");
    const US_FORMS: &[u8] = include_bytes!("../../tests/data/textract/forms_us_state_id.json");
    const MESSY: &[u8] = include_bytes!("../../tests/data/textract/forms_messy.json");
    const US_PASSPORT_FORMS: &[u8] =
        include_bytes!("../../tests/data/textract/forms_us_passport.json");

    fn snapshot_id(bytes: &[u8], hints: &NormaliseHints) -> NormalisedDocument {
        let r = parse_analyze_id(bytes).unwrap();
        // Round trip: what is parsed serialises back to an equal response.
        let again = parse_analyze_id(&serde_json::to_vec(&r).unwrap()).unwrap();
        assert_eq!(again, r);
        normalise_analyze_id(&r, hints)
    }

    fn snapshot_forms(bytes: &[u8], hints: &NormaliseHints) -> NormalisedDocument {
        let r = parse_analyze_document(bytes).unwrap();
        let again = parse_analyze_document(&serde_json::to_vec(&r).unwrap()).unwrap();
        assert_eq!(again, r);
        normalise_analyze_document(&r, hints)
    }

    #[test]
    fn analyze_id_us_passport() {
        let doc = snapshot_id(US_PASSPORT, &hints());
        insta::assert_json_snapshot!(doc);
    }

    #[test]
    fn analyze_id_us_driver_license() {
        let doc = snapshot_id(US_LICENCE, &hints());
        insta::assert_json_snapshot!(doc);
    }

    #[test]
    fn forms_french_identity_card_with_bilingual_labels() {
        let doc = snapshot_forms(FR_ID, &hints());
        insta::assert_json_snapshot!(doc);
    }

    #[test]
    fn forms_german_identity_card_with_dotted_dates() {
        let doc = snapshot_forms(DE_ID, &hints());
        insta::assert_json_snapshot!(doc);
    }

    #[test]
    fn forms_us_document_with_month_first_dates() {
        let us = hints().with_issuing_country(CountryCode::parse("USA").unwrap());
        let doc = snapshot_forms(US_FORMS, &us);
        insta::assert_json_snapshot!(doc);
    }

    #[test]
    fn forms_us_document_without_a_country_hint_keeps_dates_ambiguous() {
        let doc = snapshot_forms(US_FORMS, &hints());
        assert!(doc.fields.birth_date.is_none());
        insta::assert_json_snapshot!(doc);
    }

    #[test]
    fn forms_us_passport_with_trilingual_labels() {
        let doc = snapshot_forms(US_PASSPORT_FORMS, &hints());
        let f = &doc.fields;
        // Every printed field is read, the number and the issuing-state code included.
        assert_eq!(
            f.document_number.as_ref().unwrap().value.as_str(),
            "571234560"
        );
        assert_eq!(f.issuing_state.as_ref().unwrap().value.alpha3(), "USA");
        insta::assert_json_snapshot!(doc);
    }

    #[test]
    fn forms_messy_response_with_duplicates_and_broken_relationships() {
        let doc = snapshot_forms(MESSY, &hints());
        insta::assert_json_snapshot!(doc);
    }

    #[test]
    fn date_value_types_in_either_case_are_used() {
        let json = br#"{"IdentityDocuments": [{"DocumentIndex": 1, "IdentityDocumentFields": [
            {"Type": {"Text": "DATE_OF_BIRTH", "Confidence": 99.0},
             "ValueDetection": {"Text": "8 MAR 1985", "Confidence": 98.0,
               "NormalizedValue": {"Value": "1985-03-08T00:00:00", "ValueType": "DATE"}}},
            {"Type": {"Text": "EXPIRATION_DATE"},
             "ValueDetection": {"Text": "8 MAR 2031", "Confidence": 97.0,
               "NormalizedValue": {"Value": "2031-03-08T00:00:00", "ValueType": "Date"}}},
            {"Type": {"Text": "DATE_OF_ISSUE"},
             "ValueDetection": {"Text": "8 MAR 2021", "Confidence": 97.0,
               "NormalizedValue": {"Value": "2021-03-08T00:00:00", "ValueType": "TIMESTAMP"}}}
        ]}]}"#;
        let r = parse_analyze_id(json).unwrap();
        let pairs = analyze_id_pairs(&r);
        assert_eq!(pairs[0].normalized.as_deref(), Some("1985-03-08T00:00:00"));
        assert_eq!(pairs[0].confidence, 98.0);
        assert_eq!(pairs[1].normalized.as_deref(), Some("2031-03-08T00:00:00"));
        assert_eq!(pairs[2].normalized, None);
        let vt = &r.identity_documents[0].identity_document_fields[1]
            .value_detection
            .as_ref()
            .unwrap()
            .normalized_value
            .as_ref()
            .unwrap()
            .value_type;
        assert_eq!(vt, &Some(ValueType::Date("Date".into())));
        assert_eq!(serde_json::to_value(vt).unwrap(), "Date");
    }

    #[test]
    fn unknown_members_and_enum_values_do_not_break_parsing() {
        let json = br#"{"Blocks": [{"BlockType": "LAYOUT_FIGURE", "Id": "a", "FutureThing": {"x": 1},
            "EntityTypes": ["SEMI_STRUCTURED_TABLE"], "Relationships": [{"Type": "NEW_KIND", "Ids": ["b"]}]}],
            "HumanLoopActivationOutput": {"HumanLoopArn": "arn"}, "NewTopLevel": [1, 2]}"#;
        let r = parse_analyze_document(json).unwrap();
        let b = &r.blocks[0];
        assert_eq!(b.block_type, Some(BlockType::Other("LAYOUT_FIGURE".into())));
        assert_eq!(
            b.entity_types,
            vec![EntityType::Other("SEMI_STRUCTURED_TABLE".into())]
        );
        assert_eq!(
            b.relationships[0].r#type,
            RelationshipType::Other("NEW_KIND".into())
        );
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["Blocks"][0]["BlockType"], "LAYOUT_FIGURE");
    }

    #[test]
    fn errors_say_where_but_never_what() {
        let e = parse_analyze_document(b"{\"Blocks\": [{\"Confidence\": \"JOHN SMITH\"}]}")
            .unwrap_err();
        assert!(
            matches!(e, TextractError::UnexpectedShape { line: 1, .. }),
            "{e:?}"
        );
        assert!(!e.to_string().contains("JOHN"), "{e}");
        let e = parse_analyze_id(b"{\"IdentityDocuments\": [ JOHN").unwrap_err();
        assert!(matches!(e, TextractError::InvalidJson { .. }));
        assert!(!format!("{e} {e:?}").contains("JOHN"));
        let big = vec![b' '; MAX_RESPONSE_BYTES + 1];
        assert_eq!(
            parse_analyze_id(&big).unwrap_err(),
            TextractError::TooLarge {
                max: MAX_RESPONSE_BYTES
            }
        );
        assert!(matches!(
            parse_analyze_id(b"").unwrap_err(),
            TextractError::InvalidJson { .. }
        ));
    }

    #[test]
    fn debug_output_redacts_text() {
        let r = parse_analyze_document(MESSY).unwrap();
        let dbg = format!("{r:?}");
        let id = parse_analyze_id(US_PASSPORT).unwrap();
        let dbg2 = format!("{id:?}");
        for secret in ["DUPONT", "MARTIN", "1974", "SAMPLE"] {
            assert!(!dbg.contains(secret), "{secret}");
            assert!(!dbg2.contains(secret), "{secret}");
        }
    }

    fn word(id: &str, text: &str) -> Block {
        Block {
            block_type: Some(BlockType::Word),
            id: Some(id.into()),
            text: Some(text.into()),
            confidence: Some(99.0),
            ..Block::default()
        }
    }

    fn kvs(id: &str, entity: EntityType, rels: Vec<(RelationshipType, Vec<&str>)>) -> Block {
        Block {
            block_type: Some(BlockType::KeyValueSet),
            id: Some(id.into()),
            confidence: Some(90.0),
            entity_types: vec![entity],
            relationships: rels
                .into_iter()
                .map(|(t, ids)| Relationship {
                    r#type: t,
                    ids: ids.into_iter().map(String::from).collect(),
                })
                .collect(),
            ..Block::default()
        }
    }

    #[test]
    fn cycles_and_self_references_terminate() {
        use RelationshipType::{Child, Value};
        let blocks = vec![
            // A key whose value is itself, a key whose child is a key, a value pointing back.
            kvs(
                "k1",
                EntityType::Key,
                vec![(Child, vec!["w1"]), (Value, vec!["k1", "v1"])],
            ),
            kvs(
                "v1",
                EntityType::Value,
                vec![(Child, vec!["w2", "k1", "v1"]), (Value, vec!["k1"])],
            ),
            kvs(
                "k2",
                EntityType::Key,
                vec![(Child, vec!["k2", "w1"]), (Value, vec!["v2"])],
            ),
            kvs("v2", EntityType::Value, vec![(Child, vec!["missing"])]),
            word("w1", "Sex"),
            word("w2", "F"),
        ];
        let (pairs, warnings) = key_value_pairs(&blocks);
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].key, "Sex");
        assert_eq!(pairs[0].value, "F");
        assert_eq!(
            warnings,
            vec![Warning::general(WarningReason::BrokenRelationship)]
        );
    }

    #[test]
    fn analyze_id_takes_the_mrz_from_its_lines_when_no_field_holds_it() {
        let mut r = parse_analyze_id(US_PASSPORT).unwrap();
        let from_field = normalise_analyze_id(&r, &hints()).extras.mrz_text.unwrap();
        for doc in &mut r.identity_documents {
            doc.identity_document_fields
                .retain(|f| f.r#type.as_ref().is_some_and(|t| t.text != "MRZ_CODE"));
        }
        let from_lines = normalise_analyze_id(&r, &hints()).extras.mrz_text.unwrap();
        assert_eq!(from_lines.value, from_field.value);
        assert!(from_lines.confidence < 100.0);
    }

    #[test]
    fn a_hostile_response_with_many_keys_sharing_one_long_value_is_bounded() {
        use RelationshipType::{Child, Value};
        let mut blocks: Vec<Block> = (0..MAX_WORDS_PER_TEXT * 2)
            .map(|i| word(&format!("w{i}"), "AB"))
            .collect();
        let children: Vec<String> = (0..MAX_WORDS_PER_TEXT * 2)
            .map(|i| format!("w{i}"))
            .collect();
        let children: Vec<&str> = children.iter().map(String::as_str).collect();
        blocks.push(kvs("v", EntityType::Value, vec![(Child, children)]));
        for i in 0..10_000 {
            blocks.push(kvs(
                &format!("k{i}"),
                EntityType::Key,
                vec![(Child, vec!["w0"]), (Value, vec!["v"; 50])],
            ));
        }
        let bytes = serde_json::to_vec(&AnalyzeDocumentResponse {
            blocks,
            ..Default::default()
        })
        .unwrap();
        assert!(bytes.len() < MAX_RESPONSE_BYTES);
        let r = parse_analyze_document(&bytes).unwrap();
        let (pairs, warnings) = key_value_pairs(&r.blocks);
        assert_eq!(pairs.len(), crate::document::MAX_PAIRS);
        assert!(warnings.contains(&Warning::general(WarningReason::TooManyPairs)));
        // Only the first words of the value are joined.
        assert_eq!(
            pairs[0].value.split(' ').count(),
            MAX_VALUE_TARGETS * MAX_WORDS_PER_TEXT
        );
        let doc = normalise_analyze_document(&r, &hints());
        assert!(doc.fields.is_empty());
    }

    #[test]
    fn mrz_lines_are_found_among_the_lines() {
        let line = |t: &str| Block {
            block_type: Some(BlockType::Line),
            text: Some(t.into()),
            confidence: Some(97.0),
            ..Block::default()
        };
        let blocks = vec![
            line("REPUBLIQUE FRANCAISE"),
            line("IDFRAMARTIN<<<<<<<<<<<<<<<<<<<<<<<<<<<"),
            line("8806923102858CAMILLE<<ROSE<8001125F0"),
            line("Signature"),
        ];
        let text = mrz_text(&blocks).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(mrz_text(&blocks[..2]).is_none());
    }

    fn arb_block() -> impl Strategy<Value = Block> {
        let ids = proptest::sample::select(vec!["a", "b", "c", "d", "e", "f"]);
        let rel = (
            prop_oneof![
                Just(RelationshipType::Child),
                Just(RelationshipType::Value),
                Just(RelationshipType::Other("X".into()))
            ],
            proptest::collection::vec(ids.clone(), 0..4),
        )
            .prop_map(|(t, ids)| Relationship {
                r#type: t,
                ids: ids.into_iter().map(String::from).collect(),
            });
        (
            prop_oneof![
                Just(Some(BlockType::KeyValueSet)),
                Just(Some(BlockType::Word)),
                Just(Some(BlockType::Line)),
                Just(Some(BlockType::SelectionElement)),
                Just(None)
            ],
            proptest::option::of(ids),
            proptest::collection::vec(
                prop_oneof![Just(EntityType::Key), Just(EntityType::Value)],
                0..2,
            ),
            proptest::collection::vec(rel, 0..3),
            proptest::option::of("\\PC{0,12}"),
            proptest::option::of(proptest::num::f32::ANY),
        )
            .prop_map(
                |(block_type, id, entity_types, relationships, text, confidence)| Block {
                    block_type,
                    id: id.map(String::from),
                    entity_types,
                    relationships,
                    text,
                    confidence,
                    ..Block::default()
                },
            )
    }

    proptest! {
        #[test]
        fn the_json_parsers_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_analyze_id(&bytes);
            let _ = parse_analyze_document(&bytes);
        }

        #[test]
        fn the_json_parsers_never_panic_on_mutated_fixtures(
            cut in 0usize..4000,
            flip in 0usize..4000,
            byte in any::<u8>(),
        ) {
            for fixture in [US_PASSPORT, FR_ID] {
                let mut v = fixture.to_vec();
                let i = flip % v.len();
                v[i] = byte;
                v.truncate(cut.max(1).min(v.len()));
                if let Ok(r) = parse_analyze_document(&v) {
                    let _ = normalise_analyze_document(&r, &hints());
                }
                if let Ok(r) = parse_analyze_id(&v) {
                    let _ = normalise_analyze_id(&r, &hints());
                }
            }
        }

        #[test]
        fn relationship_resolution_never_panics_or_loops(blocks in proptest::collection::vec(arb_block(), 0..24)) {
            let (pairs, _) = key_value_pairs(&blocks);
            prop_assert!(pairs.len() <= blocks.len());
            for p in &pairs {
                prop_assert!(!p.key.is_empty() && !p.value.is_empty());
            }
            let r = AnalyzeDocumentResponse { blocks, ..Default::default() };
            let bytes = serde_json::to_vec(&r).unwrap();
            let parsed = parse_analyze_document(&bytes).unwrap();
            let _ = normalise_analyze_document(&parsed, &hints());
        }
    }
}
