//! The public keys that verify tokens, in the JSON Web Key shape of RFC 7517: [`Jwk`] (one
//! P-256 signing key) and [`Jwks`] (the set served at `/.well-known/jwks.json`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

use super::claims::MAX_NAME_LEN;
use super::{base64url, TokenError};

/// The most keys a [`Jwks`] holds (more are refused when parsing).
pub const MAX_KEYS: usize = 64;

/// A P-256 public key for ES256 signatures:
/// `{"kty":"EC","crv":"P-256","x":"…","y":"…","kid":"…","alg":"ES256","use":"sig"}`.
///
/// Parsing checks the shape (`kty` `EC`, `crv` `P-256`, 32-byte coordinates, a `kid`, `alg`
/// and `use` absent or `ES256` / `sig`) and refuses any key that carries private material
/// (`d`). Whether the point lies on the curve is checked by the verifier adapter's ECDSA
/// library when it builds the key.
///
/// ```
/// use kyc_core::token::Jwk;
/// // RFC 7517, appendix A.1.
/// let json = r#"{"kty":"EC","crv":"P-256",
///   "x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
///   "y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"enc","kid":"1"}"#;
/// assert!(serde_json::from_str::<Jwk>(json).is_err()); // an encryption key, not for tokens
/// let json = json.replace("enc", "sig");
/// let key: Jwk = serde_json::from_str(&json).unwrap();
/// assert_eq!(key.kid(), "1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jwk {
    kid: String,
    x: [u8; 32],
    y: [u8; 32],
}

impl Jwk {
    /// A key from its affine coordinates (big-endian, 32 bytes each) and key id.
    pub fn p256(kid: &str, x: [u8; 32], y: [u8; 32]) -> Result<Self, TokenError> {
        if kid.is_empty() || kid.len() > MAX_NAME_LEN {
            return Err(TokenError::InvalidConfig { what: "key id" });
        }
        Ok(Self {
            kid: kid.to_owned(),
            x,
            y,
        })
    }
    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The x coordinate.
    pub fn x(&self) -> &[u8; 32] {
        &self.x
    }
    /// The y coordinate.
    pub fn y(&self) -> &[u8; 32] {
        &self.y
    }
    /// The SEC 1 uncompressed point `0x04 || x || y`, as ECDSA libraries import it.
    pub fn sec1_uncompressed(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 0x04;
        out[1..33].copy_from_slice(&self.x);
        out[33..].copy_from_slice(&self.y);
        out
    }

    /// The RFC 7638 thumbprint of a P-256 key (SHA-256 of
    /// `{"crv":"P-256","kty":"EC","x":"…","y":"…"}`, base64url): a good key id.
    pub fn p256_thumbprint(x: &[u8; 32], y: &[u8; 32]) -> String {
        let json = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            base64url::encode(x),
            base64url::encode(y)
        );
        base64url::encode(&sha2::Sha256::digest(json.as_bytes()))
    }
}

#[derive(Serialize)]
struct JwkOut<'a> {
    kty: &'static str,
    crv: &'static str,
    x: String,
    y: String,
    kid: &'a str,
    alg: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
}

impl Serialize for Jwk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        JwkOut {
            kty: "EC",
            crv: "P-256",
            x: base64url::encode(&self.x),
            y: base64url::encode(&self.y),
            kid: &self.kid,
            alg: "ES256",
            use_: "sig",
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
struct JwkIn {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    d: Option<serde::de::IgnoredAny>,
}

impl JwkIn {
    fn into_jwk(self) -> Result<Jwk, &'static str> {
        if self.d.is_some() {
            return Err("key holds private material");
        }
        if self.kty != "EC" || self.crv.as_deref() != Some("P-256") {
            return Err("key is not a P-256 key");
        }
        if self.alg.as_deref().is_some_and(|a| a != "ES256")
            || self.use_.as_deref().is_some_and(|u| u != "sig")
        {
            return Err("key is not an ES256 signing key");
        }
        let coord = |c: Option<String>| -> Option<[u8; 32]> {
            base64url::decode(&c?).ok()?.try_into().ok()
        };
        let (x, y) = coord(self.x)
            .zip(coord(self.y))
            .ok_or("key coordinates are malformed")?;
        let kid = self.kid.ok_or("key has no key id")?;
        Jwk::p256(&kid, x, y).map_err(|_| "key id is malformed")
    }
}

impl<'de> Deserialize<'de> for Jwk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        JwkIn::deserialize(d)?
            .into_jwk()
            .map_err(serde::de::Error::custom)
    }
}

/// A JSON Web Key Set: `{"keys": [...]}`.
///
/// Parsing keeps the usable ES256 keys and skips the others (RSA keys, encryption keys, other
/// curves) so that a verifier can read a shared set; it refuses the whole set if any key holds
/// private material or if it has more than [`MAX_KEYS`] entries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The key with this id.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

impl<'de> Deserialize<'de> for Jwks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            keys: Vec<JwkIn>,
        }
        let raw = Raw::deserialize(d)?;
        if raw.keys.len() > MAX_KEYS {
            return Err(serde::de::Error::custom("key set has too many keys"));
        }
        if raw.keys.iter().any(|k| k.d.is_some()) {
            return Err(serde::de::Error::custom("key holds private material"));
        }
        Ok(Self {
            keys: raw
                .keys
                .into_iter()
                .filter_map(|k| k.into_jwk().ok())
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> Jwk {
        let x: [u8; 32] = std::array::from_fn(|i| i as u8);
        let y: [u8; 32] = std::array::from_fn(|i| i as u8 + 32);
        Jwk::p256("k1", x, y).unwrap()
    }

    #[test]
    fn a_key_set_serialises_in_the_rfc_7517_shape() {
        let set = Jwks { keys: vec![key()] };
        insta::assert_json_snapshot!("jwks", set);
        let back: Jwks = serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
        assert_eq!(back, set);
    }

    #[test]
    fn the_thumbprint_matches_an_independent_computation() {
        // Computed with Python's hashlib and base64 over the RFC 7638 member order.
        let k = key();
        assert_eq!(
            Jwk::p256_thumbprint(k.x(), k.y()),
            "0r62zgBj277RicA3LnaBKQ5_9RCDIomrlbpWjO0QTG0"
        );
    }

    #[test]
    fn unusable_keys_are_skipped_and_private_keys_refused() {
        let good = serde_json::to_value(key()).unwrap();
        let rsa = serde_json::json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r"});
        let short =
            serde_json::json!({"kty": "EC", "crv": "P-256", "x": "AAEC", "y": "AAEC", "kid": "s"});
        let p384 =
            serde_json::json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA", "kid": "p"});
        let set: Jwks =
            serde_json::from_value(serde_json::json!({"keys": [rsa, good, short, p384]})).unwrap();
        assert_eq!(set.keys, vec![key()]);
        assert_eq!(set.find("k1"), Some(&key()));
        assert_eq!(set.find("r"), None);

        let mut private = serde_json::to_value(key()).unwrap();
        private["d"] = serde_json::json!("c2VjcmV0");
        assert!(
            serde_json::from_value::<Jwks>(serde_json::json!({"keys": [private.clone()]})).is_err()
        );
        let err = serde_json::from_value::<Jwk>(private)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("c2VjcmV0"), "{err}");
    }

    #[test]
    fn the_sec1_point_is_prefixed_with_four() {
        let p = key().sec1_uncompressed();
        assert_eq!(p[0], 4);
        assert_eq!(&p[1..33], key().x());
        assert_eq!(&p[33..], key().y());
    }

    proptest! {
        #[test]
        fn hostile_key_sets_never_panic(s in ".{0,300}") {
            let _ = serde_json::from_str::<Jwks>(&s);
            let _ = serde_json::from_str::<Jwk>(&s);
        }
    }
}
