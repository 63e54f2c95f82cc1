//! The values of an audit event: [`Hash256`], [`EventKind`], [`Actor`], the non-personal
//! [`Details`], the [`PersonalData`] kept only as a salted digest once redacted, the caller's
//! [`EventDraft`] and the chained [`AuditEvent`] itself.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::document::DocumentFields;
use crate::model::{Timestamp, ValueError, VerificationId};
use crate::ports::RandomSource;

use super::canonical;

/// The one event format this crate writes and verifies (the leading byte of the canonical
/// encoding, and the `format` field of the stored JSON).
pub const FORMAT_V1: u8 = 1;

/// The most entries of [`Details`] or of [`PersonalData`] in one event.
pub const MAX_ENTRIES: usize = 32;
/// The longest [`DetailKey`] (bytes).
pub const MAX_KEY_LEN: usize = 64;
/// The longest text detail value (bytes).
pub const MAX_DETAIL_TEXT_LEN: usize = 256;
/// The longest personal value (bytes).
pub const MAX_PERSONAL_VALUE_LEN: usize = 1024;
/// The longest [`Actor`] name (bytes).
pub const MAX_ACTOR_LEN: usize = 64;

// ---------------------------------------------------------------------------------------------
// Hash256

/// A SHA-256 value: an event's hash, the previous event's hash, or the digest of a personal
/// part. Serialised as 64 lowercase hex digits (uppercase is refused, so every value has one
/// spelling).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash256([u8; 32]);

impl Hash256 {
    /// Thirty-two zero bytes: the `prev_hash` of the first event of every chain.
    pub const ZERO: Self = Self([0; 32]);

    /// Wraps raw digest bytes.
    pub const fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    /// The raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64-digit lowercase hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 64 lowercase hex digits.
    pub fn parse_hex(s: &str) -> Result<Self, ValueError> {
        parse_lower_hex::<32>(s, "hash").map(Self)
    }

    /// SHA-256 over the concatenation of `parts`.
    #[cfg(test)]
    pub(crate) fn sha256_of(parts: &[&[u8]]) -> Self {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        for p in parts {
            h.update(p);
        }
        Self(h.finalize().into())
    }
}

fn parse_lower_hex<const N: usize>(s: &str, what: &'static str) -> Result<[u8; N], ValueError> {
    if s.len() != 2 * N {
        return Err(ValueError::Malformed {
            what,
            expected: "lowercase hex of the right length",
        });
    }
    if !s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ValueError::InvalidCharacter { what });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|_| ValueError::Malformed {
        what,
        expected: "lowercase hex of the right length",
    })?;
    Ok(out)
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash256({})", self.to_hex())
    }
}

impl fmt::Display for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Hash256 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_hex(&s).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// EventKind

/// Which pipeline step an event records. A closed set; the wire name (serde name, and the
/// bytes committed by the canonical encoding) is given for each variant and never changes.
/// Adding a variant is compatible with existing chains; renaming one is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// `document_uploaded`: the document image was accepted and stored.
    DocumentUploaded,
    /// `document_read`: fields (and the MRZ, if any) were read from the document.
    DocumentRead,
    /// `document_unreadable`: no usable fields could be read.
    DocumentUnreadable,
    /// `liveness_challenge_issued`: a liveness challenge (nonce, gestures, deadline) was issued.
    LivenessChallengeIssued,
    /// `frame_accepted`: a liveness frame was accepted for analysis.
    FrameAccepted,
    /// `frame_rejected`: a liveness frame was refused (late, wrong nonce, unusable).
    FrameRejected,
    /// `liveness_evaluated`: the gesture sequence was evaluated (passed or failed).
    LivenessEvaluated,
    /// `face_matched`: the document portrait was compared with the live frames.
    FaceMatched,
    /// `sanctions_screened`: the document holder was screened against sanctions lists.
    SanctionsScreened,
    /// `decided`: the decision engine decided (approved, rejected or review).
    Decided,
    /// `review_resolved`: a human reviewer resolved a verification held for review.
    ReviewResolved,
    /// `token_issued`: a verified-identity token was issued.
    TokenIssued,
    /// `expired`: the verification expired before it was decided.
    Expired,
    /// `erased`: the personal data of the verification were erased.
    Erased,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 14] = [
        Self::DocumentUploaded,
        Self::DocumentRead,
        Self::DocumentUnreadable,
        Self::LivenessChallengeIssued,
        Self::FrameAccepted,
        Self::FrameRejected,
        Self::LivenessEvaluated,
        Self::FaceMatched,
        Self::SanctionsScreened,
        Self::Decided,
        Self::ReviewResolved,
        Self::TokenIssued,
        Self::Expired,
        Self::Erased,
    ];

    /// The wire name (the serde name), e.g. `"document_uploaded"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DocumentUploaded => "document_uploaded",
            Self::DocumentRead => "document_read",
            Self::DocumentUnreadable => "document_unreadable",
            Self::LivenessChallengeIssued => "liveness_challenge_issued",
            Self::FrameAccepted => "frame_accepted",
            Self::FrameRejected => "frame_rejected",
            Self::LivenessEvaluated => "liveness_evaluated",
            Self::FaceMatched => "face_matched",
            Self::SanctionsScreened => "sanctions_screened",
            Self::Decided => "decided",
            Self::ReviewResolved => "review_resolved",
            Self::TokenIssued => "token_issued",
            Self::Expired => "expired",
            Self::Erased => "erased",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventKind {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(ValueError::Unknown {
                what: "audit event kind",
                allowed: "document_uploaded, document_read, document_unreadable, \
                          liveness_challenge_issued, frame_accepted, frame_rejected, \
                          liveness_evaluated, face_matched, sanctions_screened, decided, \
                          review_resolved, token_issued, expired, erased",
            })
    }
}

// ---------------------------------------------------------------------------------------------
// Actor, keys, values

/// The service that recorded an event (`upload-api`, `ocr-worker`, `kyc-serve`…): 1 to 64
/// characters among `a-z`, `0-9`, `-`, `_`, `.`.
///
/// ```
/// use kyc_core::audit::Actor;
/// assert!(Actor::parse("ocr-worker").is_ok());
/// assert!(Actor::parse("OCR Worker").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Actor(String);

impl Actor {
    /// Parses a service name.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        check_name(
            s,
            "actor",
            MAX_ACTOR_LEN,
            |c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.'),
        )?;
        Ok(Self(s.to_owned()))
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_name(
    s: &str,
    what: &'static str,
    max: usize,
    allowed: impl Fn(u8) -> bool,
) -> Result<(), ValueError> {
    if s.is_empty() {
        return Err(ValueError::Empty { what });
    }
    if s.len() > max {
        return Err(ValueError::TooLong { what, max });
    }
    if !s.bytes().all(allowed) {
        return Err(ValueError::InvalidCharacter { what });
    }
    Ok(())
}

/// The key of a detail or of a personal value: 1 to 64 characters among `a-z`, `0-9`, `_`,
/// `.`, starting with a letter (`similarity`, `policy_version`, `reason.0`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DetailKey(String);

impl DetailKey {
    /// Parses a key.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "detail key";
        check_name(
            s,
            WHAT,
            MAX_KEY_LEN,
            |c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.'),
        )?;
        if !s.as_bytes().first().is_some_and(u8::is_ascii_lowercase) {
            return Err(ValueError::Malformed {
                what: WHAT,
                expected: "a key starting with a letter",
            });
        }
        Ok(Self(s.to_owned()))
    }
    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A short printable-ASCII text detail (reason codes, policy and list versions): 0 to 256
/// characters in `0x20..=0x7E`. It is for codes, never for free text about the person.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DetailText(String);

impl DetailText {
    /// Parses a text detail.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "detail text";
        if s.len() > MAX_DETAIL_TEXT_LEN {
            return Err(ValueError::TooLong {
                what: WHAT,
                max: MAX_DETAIL_TEXT_LEN,
            });
        }
        if !s.bytes().all(|c| (0x20..=0x7E).contains(&c)) {
            return Err(ValueError::InvalidCharacter { what: WHAT });
        }
        Ok(Self(s.to_owned()))
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A finite `f64` (no NaN, no infinity), so that every value has one JSON form and one
/// canonical encoding.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
pub struct FiniteFloat(f64);

impl FiniteFloat {
    /// Accepts a finite number; `-0.0` becomes `0.0` (one encoding per value).
    pub fn parse(v: f64) -> Result<Self, ValueError> {
        if v == 0.0 {
            Ok(Self(0.0))
        } else if v.is_finite() {
            Ok(Self(v))
        } else {
            Err(ValueError::OutOfRange { what: "number" })
        }
    }
    /// The number.
    pub fn value(self) -> f64 {
        self.0
    }
}

macro_rules! string_newtype_serde {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($t), self.0)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    )*};
}
string_newtype_serde!(Actor, DetailKey, DetailText);

impl fmt::Debug for FiniteFloat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for FiniteFloat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

impl<'de> Deserialize<'de> for FiniteFloat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(f64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// One non-personal detail value. In JSON it is the bare scalar (`true`, `3`, `91.5`,
/// `"FACE_MISMATCH"`); an integer literal reads as [`DetailValue::Int`], a number with a
/// fraction or exponent as [`DetailValue::Float`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DetailValue {
    /// A flag (`"match": true`).
    Bool(bool),
    /// An integer (`"frames": 12`).
    Int(i64),
    /// A finite number (`"similarity": 91.5`).
    Float(FiniteFloat),
    /// A code (`"reason": "FACE_MISMATCH"`, `"policy_version": "2026-05"`).
    Text(DetailText),
}

impl DetailValue {
    /// A text value, if `s` is short printable ASCII.
    pub fn text(s: &str) -> Result<Self, ValueError> {
        DetailText::parse(s).map(Self::Text)
    }
    /// A number value, if `v` is finite.
    pub fn float(v: f64) -> Result<Self, ValueError> {
        FiniteFloat::parse(v).map(Self::Float)
    }
}

impl From<bool> for DetailValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<i64> for DetailValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<u32> for DetailValue {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}
impl From<i32> for DetailValue {
    fn from(v: i32) -> Self {
        Self::Int(i64::from(v))
    }
}

/// The non-personal details of an event: at most 32 entries, ordered by key (so their
/// encoding never depends on insertion order).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Details(BTreeMap<DetailKey, DetailValue>);

impl Details {
    /// No details.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds or replaces an entry; refuses a 33rd key.
    pub fn insert(&mut self, key: DetailKey, value: DetailValue) -> Result<(), ValueError> {
        if self.0.len() >= MAX_ENTRIES && !self.0.contains_key(&key) {
            return Err(ValueError::TooLong {
                what: "details",
                max: MAX_ENTRIES,
            });
        }
        self.0.insert(key, value);
        Ok(())
    }
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&DetailValue> {
        self.0
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }
    /// The entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&DetailKey, &DetailValue)> {
        self.0.iter()
    }
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Details {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<DetailKey, DetailValue>::deserialize(d)?;
        if map.len() > MAX_ENTRIES {
            return Err(serde::de::Error::custom("too many details"));
        }
        Ok(Self(map))
    }
}

// ---------------------------------------------------------------------------------------------
// Personal part

/// Personal values recorded with an event (document fields relevant to the step): at most 32
/// entries of at most 1024 bytes each, ordered by key. `Debug` shows only how many there are.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonalData(BTreeMap<DetailKey, String>);

impl PersonalData {
    /// No values.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a value; refuses an oversized value or a 33rd key.
    pub fn insert(&mut self, key: DetailKey, value: &str) -> Result<(), ValueError> {
        if value.len() > MAX_PERSONAL_VALUE_LEN {
            return Err(ValueError::TooLong {
                what: "personal value",
                max: MAX_PERSONAL_VALUE_LEN,
            });
        }
        if self.0.len() >= MAX_ENTRIES && !self.0.contains_key(&key) {
            return Err(ValueError::TooLong {
                what: "personal data",
                max: MAX_ENTRIES,
            });
        }
        self.0.insert(key, value.to_owned());
        Ok(())
    }

    /// The document fields that were read, under the keys `surname`, `given_names`,
    /// `birth_date`, `document_number`, `expiry_date`, `nationality`, `issuing_state`, `sex`
    /// (normalised values; dates `YYYY-MM-DD`; countries alpha-3; sex `F`/`M`/`X`).
    pub fn from_document_fields(f: &DocumentFields) -> Self {
        let mut out = BTreeMap::new();
        let mut put = |k: &str, v: Option<String>| {
            if let (Ok(k), Some(v)) = (DetailKey::parse(k), v) {
                // Every normalised document value is far shorter than the limit.
                if v.len() <= MAX_PERSONAL_VALUE_LEN {
                    out.insert(k, v);
                }
            }
        };
        put(
            "surname",
            f.surname.as_ref().map(|x| x.value.as_str().to_owned()),
        );
        put(
            "given_names",
            f.given_names.as_ref().map(|x| x.value.as_str().to_owned()),
        );
        put(
            "birth_date",
            f.birth_date.as_ref().map(|x| x.value.date().to_string()),
        );
        put(
            "document_number",
            f.document_number
                .as_ref()
                .map(|x| x.value.as_str().to_owned()),
        );
        put(
            "expiry_date",
            f.expiry_date.as_ref().map(|x| x.value.date().to_string()),
        );
        put(
            "nationality",
            f.nationality.as_ref().map(|x| x.value.alpha3().to_owned()),
        );
        put(
            "issuing_state",
            f.issuing_state
                .as_ref()
                .map(|x| x.value.alpha3().to_owned()),
        );
        put("sex", f.sex.as_ref().map(|x| x.value.code().to_owned()));
        Self(out)
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v.as_str())
    }
    /// The entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&DetailKey, &str)> {
        self.0.iter().map(|(k, v)| (k, v.as_str()))
    }
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for PersonalData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalData(<{} redacted>)", self.0.len())
    }
}

impl<'de> Deserialize<'de> for PersonalData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<DetailKey, String>::deserialize(d)?;
        if map.len() > MAX_ENTRIES || map.values().any(|v| v.len() > MAX_PERSONAL_VALUE_LEN) {
            return Err(serde::de::Error::custom("personal data too large"));
        }
        Ok(Self(map))
    }
}

/// The per-event salt of a personal digest: 16 unpredictable bytes from the caller's
/// [`RandomSource`]. It is erased together with the personal values, so that the digest that
/// stays in the chain cannot be tested against guesses (a date of birth has few values).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Salt([u8; 16]);

impl Salt {
    /// A salt from given bytes (tests, replays).
    pub const fn from_bytes(b: [u8; 16]) -> Self {
        Self(b)
    }
    /// A fresh salt from the random source.
    pub fn generate(rng: &(impl RandomSource + ?Sized)) -> Self {
        let mut b = [0u8; 16];
        rng.fill_bytes(&mut b);
        Self(b)
    }
    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Salt(<redacted>)")
    }
}

impl Serialize for Salt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for Salt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_lower_hex::<16>(&s, "salt")
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

/// The personal part of an event in clear: the salt and the values. The chain commits only to
/// its [`digest`](Self::digest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalPart {
    /// The per-event salt.
    pub salt: Salt,
    /// The values.
    pub fields: PersonalData,
}

impl PersonalPart {
    /// The salted digest the chain commits to (see [`canonical`](super::canonical)).
    pub fn digest(&self) -> Hash256 {
        canonical::personal_digest(&self.salt, &self.fields)
    }
}

// ---------------------------------------------------------------------------------------------
// Draft and event

/// What a service wants to record; [`next_event`](super::next_event) or
/// [`AuditChain::append`](super::AuditChain::append) turn it into a chained [`AuditEvent`].
///
/// ```
/// use kyc_core::audit::{Actor, EventDraft, EventKind};
/// use kyc_core::model::{Timestamp, VerificationId};
/// let draft = EventDraft::new(
///     VerificationId::from_random_bytes([7; 16]),
///     EventKind::FaceMatched,
///     Timestamp::from_secs(1_779_341_048),
///     Actor::parse("face-worker").unwrap(),
/// )
/// .with_detail("similarity", kyc_core::audit::DetailValue::float(91.5).unwrap())
/// .unwrap()
/// .with_detail("match", true)
/// .unwrap();
/// assert_eq!(draft.details.len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EventDraft {
    /// The verification the event belongs to (and whose chain it joins).
    pub verification_id: VerificationId,
    /// The step.
    pub kind: EventKind,
    /// When the step happened (from the `Clock` port).
    pub occurred_at: Timestamp,
    /// The service recording it.
    pub actor: Actor,
    /// Non-personal details, stored and chained in clear.
    pub details: Details,
    /// Personal values, chained only through their salted digest.
    pub personal: Option<PersonalPart>,
}

impl EventDraft {
    /// A draft without details or personal part.
    pub fn new(
        verification_id: VerificationId,
        kind: EventKind,
        occurred_at: Timestamp,
        actor: Actor,
    ) -> Self {
        Self {
            verification_id,
            kind,
            occurred_at,
            actor,
            details: Details::new(),
            personal: None,
        }
    }

    /// Adds a detail under `key` (see [`DetailKey`] for the allowed keys).
    pub fn with_detail(
        mut self,
        key: &str,
        value: impl Into<DetailValue>,
    ) -> Result<Self, ValueError> {
        self.details.insert(DetailKey::parse(key)?, value.into())?;
        Ok(self)
    }

    /// Attaches personal values with their salt.
    pub fn with_personal(mut self, fields: PersonalData, salt: Salt) -> Self {
        self.personal = Some(PersonalPart { salt, fields });
        self
    }
}

/// One event of a verification's audit chain, as stored (JSON, camelCase keys, hashes as
/// lowercase hex, `occurredAt` in milliseconds since the epoch).
///
/// Only [`next_event`](super::next_event) (and deserialisation) creates events, so the fields
/// are read through accessors. `personalDigest` is present when the step recorded personal
/// values; `personal` holds them in clear until the event is [redacted](Self::redacted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditEvent {
    pub(crate) format: u8,
    pub(crate) seq: u64,
    pub(crate) verification_id: VerificationId,
    pub(crate) kind: EventKind,
    pub(crate) occurred_at: Timestamp,
    pub(crate) actor: Actor,
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub(crate) details: Details,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) personal_digest: Option<Hash256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) personal: Option<PersonalPart>,
    pub(crate) prev_hash: Hash256,
    pub(crate) hash: Hash256,
}

impl AuditEvent {
    /// The format version (always [`FORMAT_V1`] for events this crate writes).
    pub fn format(&self) -> u8 {
        self.format
    }
    /// The position in the chain, from 0.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// The verification (and chain) it belongs to.
    pub fn verification_id(&self) -> VerificationId {
        self.verification_id
    }
    /// The step.
    pub fn kind(&self) -> EventKind {
        self.kind
    }
    /// When the step happened.
    pub fn occurred_at(&self) -> Timestamp {
        self.occurred_at
    }
    /// The service that recorded it.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
    /// The non-personal details.
    pub fn details(&self) -> &Details {
        &self.details
    }
    /// The digest of the personal part, if the step recorded one (kept after redaction).
    pub fn personal_digest(&self) -> Option<Hash256> {
        self.personal_digest
    }
    /// The personal part in clear, unless redacted.
    pub fn personal(&self) -> Option<&PersonalPart> {
        self.personal.as_ref()
    }
    /// The previous event's hash ([`Hash256::ZERO`] for the first event).
    pub fn prev_hash(&self) -> Hash256 {
        self.prev_hash
    }
    /// `SHA-256(prev_hash || canonical bytes)`.
    pub fn hash(&self) -> Hash256 {
        self.hash
    }
    /// The canonical encoding this event's hash commits to.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        canonical::encode(self)
    }

    /// The form kept for long-term retention: the personal part (values and salt) dropped, its
    /// digest kept, so the chain still verifies. Idempotent.
    pub fn redacted(&self) -> AuditEvent {
        AuditEvent {
            personal: None,
            ..self.clone()
        }
    }

    /// Whether the event carried personal values that have been dropped.
    pub fn is_redacted(&self) -> bool {
        self.personal_digest.is_some() && self.personal.is_none()
    }

    /// The chain head this event forms (its sequence number and hash).
    pub fn head(&self) -> super::ChainHead {
        super::ChainHead {
            seq: self.seq,
            hash: self.hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn event_kind_names_round_trip_through_serde_and_from_str() {
        for k in EventKind::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<EventKind>(&json).unwrap(), k);
            assert_eq!(k.as_str().parse::<EventKind>().unwrap(), k);
        }
        assert!("DocumentUploaded".parse::<EventKind>().is_err());
    }

    #[test]
    fn hashes_are_lowercase_hex_only() {
        let h = Hash256::from_bytes([0xAB; 32]);
        assert_eq!(Hash256::parse_hex(&h.to_hex()).unwrap(), h);
        assert!(Hash256::parse_hex(&h.to_hex().to_uppercase()).is_err());
        assert!(Hash256::parse_hex("ab").is_err());
        assert!(Hash256::parse_hex(&"é".repeat(32)).is_err());
    }

    #[test]
    fn keys_actors_and_texts_are_checked() {
        assert!(DetailKey::parse("policy_version").is_ok());
        assert!(DetailKey::parse("reason.0").is_ok());
        assert!(DetailKey::parse("0reason").is_err());
        assert!(DetailKey::parse("Reason").is_err());
        assert!(DetailKey::parse("").is_err());
        assert!(DetailKey::parse(&"a".repeat(65)).is_err());
        assert!(Actor::parse("kyc-serve").is_ok());
        assert!(Actor::parse("kyc serve").is_err());
        assert!(DetailText::parse("FACE_MISMATCH").is_ok());
        assert!(DetailText::parse("line\nbreak").is_err());
        assert!(DetailText::parse(&"x".repeat(257)).is_err());
        assert!(DetailValue::float(f64::NAN).is_err());
        assert!(DetailValue::float(f64::INFINITY).is_err());
    }

    #[test]
    fn detail_values_keep_their_type_through_json() {
        let values = [
            DetailValue::Bool(true),
            DetailValue::Int(-3),
            DetailValue::float(91.5).unwrap(),
            DetailValue::float(2.0).unwrap(),
            DetailValue::text("FACE_MISMATCH").unwrap(),
            DetailValue::text("12").unwrap(),
        ];
        for v in values {
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<DetailValue>(&json).unwrap(), v);
        }
        assert!(serde_json::from_str::<DetailValue>("null").is_err());
        assert!(serde_json::from_str::<DetailValue>("[1]").is_err());
    }

    #[test]
    fn details_and_personal_data_refuse_a_33rd_key() {
        let mut d = Details::new();
        let mut p = PersonalData::new();
        for i in 0..MAX_ENTRIES {
            let k = DetailKey::parse(&format!("k{i}")).unwrap();
            d.insert(k.clone(), DetailValue::Int(1)).unwrap();
            p.insert(k, "v").unwrap();
        }
        let extra = DetailKey::parse("extra").unwrap();
        assert!(d.insert(extra.clone(), DetailValue::Int(1)).is_err());
        assert!(p.insert(extra, "v").is_err());
        // Replacing an existing key is still allowed.
        assert!(d
            .insert(DetailKey::parse("k0").unwrap(), DetailValue::Int(2))
            .is_ok());
        let key = DetailKey::parse("k0").unwrap();
        assert!(p.insert(key, &"x".repeat(1025)).is_err());
    }

    #[test]
    fn personal_values_never_reach_debug_output() {
        let mut p = PersonalData::new();
        p.insert(DetailKey::parse("surname").unwrap(), "MUSTERMANN")
            .unwrap();
        let part = PersonalPart {
            salt: Salt::from_bytes([9; 16]),
            fields: p,
        };
        let dbg = format!("{part:?}");
        assert!(!dbg.contains("MUSTERMANN"), "{dbg}");
        assert!(!dbg.contains("0909"), "{dbg}");
    }

    #[test]
    fn document_fields_become_personal_values_under_fixed_keys() {
        use crate::document::{Field, FieldSource};
        use crate::model::{BirthDate, Date, PersonName};
        let fields = DocumentFields {
            surname: Some(Field::new(
                PersonName::parse("ERIKSSON").unwrap(),
                "ERIKSSON",
                99.0,
                FieldSource::Mrz,
            )),
            birth_date: Some(Field::new(
                BirthDate::new(Date::from_ymd(1974, 8, 12).unwrap()),
                "740812",
                99.0,
                FieldSource::Mrz,
            )),
            ..Default::default()
        };
        let p = PersonalData::from_document_fields(&fields);
        assert_eq!(p.len(), 2);
        assert_eq!(p.get("surname"), Some("ERIKSSON"));
        assert_eq!(p.get("birth_date"), Some("1974-08-12"));
    }

    proptest! {
        #[test]
        fn hostile_json_never_panics_the_value_parsers(s in ".{0,200}") {
            let _ = serde_json::from_str::<DetailValue>(&s);
            let _ = serde_json::from_str::<Details>(&s);
            let _ = serde_json::from_str::<PersonalData>(&s);
            let _ = serde_json::from_str::<AuditEvent>(&s);
            let _ = Hash256::parse_hex(&s);
            let _ = DetailKey::parse(&s);
        }
    }
}
