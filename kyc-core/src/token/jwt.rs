//! JWS compact serialisation for ES256 tokens: the header, the signing input, assembling a
//! token, parsing one back (strictly and without panicking on hostile input), and converting
//! the DER ECDSA signatures that key services return into the raw `r || s` form JWS uses.

use serde::{Deserialize, Serialize};

use super::claims::{VerifiedIdentityClaims, MAX_NAME_LEN};
use super::{base64url, TokenError};

/// The longest token accepted by [`UnverifiedToken::parse`] (bytes).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// The longest encoded header accepted (bytes).
pub const MAX_HEADER_LEN: usize = 1024;

/// The JOSE header of a token: `{"alg":"ES256","typ":"JWT","kid":"…"}` (in that order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JwtHeader {
    alg: &'static str,
    typ: &'static str,
    kid: String,
}

impl JwtHeader {
    /// The only algorithm this crate signs with or accepts.
    pub const ALG: &'static str = "ES256";

    /// An ES256 header naming the signing key.
    pub fn es256(kid: &str) -> Self {
        Self {
            alg: Self::ALG,
            typ: "JWT",
            kid: kid.to_owned(),
        }
    }
    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// The header as found in a token, before it is checked.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// `BASE64URL(header) "." BASE64URL(claims)`: the bytes the signer signs.
///
/// ```
/// use kyc_core::token::{signing_input, JwtHeader};
/// # let json = r#"{"iss":"i","sub":"s","aud":"a","iat":100,"nbf":100,"exp":200,"jti":"j",
/// #   "acr":"kyc:document+liveness+facematch",
/// #   "verification_id":"01010101-0101-4101-8101-010101010101","policy_version":"p"}"#;
/// # let claims = serde_json::from_str(json).unwrap();
/// let input = signing_input(&JwtHeader::es256("key-1"), &claims).unwrap();
/// assert!(input.starts_with("eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImtleS0xIn0."));
/// ```
pub fn signing_input(
    header: &JwtHeader,
    claims: &VerifiedIdentityClaims,
) -> Result<String, TokenError> {
    let h = serde_json::to_vec(header).map_err(|_| TokenError::Encoding)?;
    let c = serde_json::to_vec(claims).map_err(|_| TokenError::Encoding)?;
    Ok(format!(
        "{}.{}",
        base64url::encode(&h),
        base64url::encode(&c)
    ))
}

/// The compact token: `signing_input "." BASE64URL(r || s)`.
pub fn assemble(signing_input: &str, signature: &[u8; 64]) -> String {
    format!("{signing_input}.{}", base64url::encode(signature))
}

/// A token split and decoded, its signature not yet verified. Read the claims only through
/// [`UnverifiedToken::verify`] unless you know why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnverifiedToken {
    header: JwtHeader,
    claims: VerifiedIdentityClaims,
    signing_input: String,
    signature: [u8; 64],
}

impl UnverifiedToken {
    /// Parses a compact ES256 token: at most 8 KiB, exactly three canonical base64url parts,
    /// a header with `alg` `ES256`, a `kid`, no `crit`, and `typ` (if any) `JWT`; claims of
    /// the verified-identity shape; a 64-byte signature. Never panics.
    pub fn parse(token: &str) -> Result<Self, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLarge { max: MAX_TOKEN_LEN });
        }
        let malformed = |what| TokenError::Malformed { what };
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("structure"));
        };
        if h.len() > MAX_HEADER_LEN {
            return Err(malformed("header"));
        }
        let header_bytes = base64url::decode(h).map_err(|_| malformed("header"))?;
        let raw: RawHeader =
            serde_json::from_slice(&header_bytes).map_err(|_| malformed("header"))?;
        if raw.alg != JwtHeader::ALG {
            return Err(TokenError::UnsupportedAlgorithm);
        }
        if raw.crit.is_some() {
            return Err(malformed("header"));
        }
        if raw
            .typ
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("JWT"))
        {
            return Err(malformed("header"));
        }
        let kid = raw
            .kid
            .filter(|k| !k.is_empty() && k.len() <= MAX_NAME_LEN)
            .ok_or(malformed("header"))?;
        let claims_bytes = base64url::decode(c).map_err(|_| malformed("claims"))?;
        let claims: VerifiedIdentityClaims =
            serde_json::from_slice(&claims_bytes).map_err(|_| malformed("claims"))?;
        let signature: [u8; 64] = base64url::decode(s)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(malformed("signature"))?;
        Ok(Self {
            header: JwtHeader::es256(&kid),
            claims,
            // The exact bytes that were signed (h and c as received), never a re-encoding.
            signing_input: format!("{h}.{c}"),
            signature,
        })
    }

    /// The header (always ES256).
    pub fn header(&self) -> &JwtHeader {
        &self.header
    }
    /// The signed bytes as received.
    pub fn signing_input(&self) -> &str {
        &self.signing_input
    }
    /// The raw `r || s` signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }
    /// The claims, NOT yet trustworthy: the signature has not been checked.
    pub fn claims_unverified(&self) -> &VerifiedIdentityClaims {
        &self.claims
    }

    /// Verifies the signature through `verifier`, then [validates](super::validate) the
    /// claims, and returns them.
    pub fn verify(
        self,
        verifier: &(impl super::TokenVerifier + ?Sized),
        expected_iss: &str,
        expected_aud: &str,
        now: crate::model::Timestamp,
        leeway: std::time::Duration,
    ) -> Result<VerifiedIdentityClaims, TokenError> {
        verifier.verify(
            self.header.kid(),
            self.signing_input.as_bytes(),
            &self.signature,
        )?;
        super::validate(&self.claims, expected_iss, expected_aud, now, leeway)?;
        Ok(self.claims)
    }
}

/// Converts a DER `ECDSA-Sig-Value` (`SEQUENCE { INTEGER r, INTEGER s }`, as AWS KMS and most
/// crypto libraries return it) into the 64-byte `r || s` form ES256 uses (RFC 7518 §3.4).
/// Refuses anything but a minimal, exactly-sized encoding with `0 < r, s < 2^256`.
pub fn ecdsa_der_to_raw(der: &[u8]) -> Result<[u8; 64], TokenError> {
    let bad = TokenError::Malformed { what: "signature" };
    let rest = match der {
        [0x30, len, rest @ ..] if usize::from(*len) == rest.len() && *len < 0x80 => rest,
        _ => return Err(bad),
    };
    let (r, rest) = der_uint(rest).ok_or(bad)?;
    let (s, rest) = der_uint(rest).ok_or(bad)?;
    if !rest.is_empty() {
        return Err(bad);
    }
    let mut out = [0u8; 64];
    out[32 - r.len()..32].copy_from_slice(r);
    out[64 - s.len()..].copy_from_slice(s);
    Ok(out)
}

/// One positive DER INTEGER of at most 32 significant bytes: its magnitude and what follows.
fn der_uint(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = match b {
        [0x02, len, rest @ ..] if *len < 0x80 => (usize::from(*len), rest),
        _ => return None,
    };
    let value = rest.get(..len)?;
    let after = rest.get(len..)?;
    let magnitude = match value {
        // A leading zero only to clear the sign bit of the next byte (minimal encoding).
        [0x00, next, ..] if *next >= 0x80 => value.get(1..)?,
        [0x00, ..] => return None,
        [first, ..] if *first >= 0x80 => return None, // negative
        [] => return None,
        _ => value,
    };
    if magnitude.len() > 32 || magnitude.iter().all(|&x| x == 0) {
        return None;
    }
    Some((magnitude, after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn claims_json() -> &'static str {
        r#"{"iss":"https://kyc.example","sub":"01010101-0101-4101-8101-010101010101","aud":"securetask","iat":100,"nbf":100,"exp":200,"jti":"abc","acr":"kyc:document+liveness+facematch+sanctions","verification_id":"01010101-0101-4101-8101-010101010101","policy_version":"2026-05"}"#
    }

    fn token_with(header: &str, claims: &str, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            base64url::encode(header.as_bytes()),
            base64url::encode(claims.as_bytes()),
            base64url::encode(sig)
        )
    }

    const HEADER: &str = r#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#;

    #[test]
    fn a_signing_input_parses_back_to_the_same_header_and_claims() {
        let claims: VerifiedIdentityClaims = serde_json::from_str(claims_json()).unwrap();
        let header = JwtHeader::es256("k1");
        let input = signing_input(&header, &claims).unwrap();
        let token = assemble(&input, &[7; 64]);
        let t = UnverifiedToken::parse(&token).unwrap();
        assert_eq!(t.header(), &header);
        assert_eq!(t.claims_unverified(), &claims);
        assert_eq!(t.signing_input(), input);
        assert_eq!(t.signature(), &[7; 64]);
        assert_eq!(
            input.split('.').next(),
            Some(base64url::encode(HEADER.as_bytes()).as_str())
        );
    }

    #[test]
    fn other_algorithms_and_shapes_are_refused() {
        let c = claims_json();
        let sig = [1u8; 64];
        let parse = |t: &str| UnverifiedToken::parse(t);
        assert_eq!(
            parse(&token_with(r#"{"alg":"none","kid":"k1"}"#, c, &sig)),
            Err(TokenError::UnsupportedAlgorithm)
        );
        assert_eq!(
            parse(&token_with(r#"{"alg":"HS256","kid":"k1"}"#, c, &sig)),
            Err(TokenError::UnsupportedAlgorithm)
        );
        let malformed = |what| Err(TokenError::Malformed { what });
        assert_eq!(
            parse(&token_with(r#"{"alg":"ES256"}"#, c, &sig)),
            malformed("header")
        );
        assert_eq!(
            parse(&token_with(
                r#"{"alg":"ES256","kid":"k","crit":["x"]}"#,
                c,
                &sig
            )),
            malformed("header")
        );
        assert_eq!(
            parse(&token_with(
                r#"{"alg":"ES256","kid":"k","typ":"at+jwt"}"#,
                c,
                &sig
            )),
            malformed("header")
        );
        assert_eq!(
            parse(&token_with(HEADER, c, &[1; 63])),
            malformed("signature")
        );
        assert_eq!(parse(&token_with(HEADER, "{}", &sig)), malformed("claims"));
        assert_eq!(parse("a.b"), malformed("structure"));
        assert_eq!(parse("a.b.c.d"), malformed("structure"));
        let padded = token_with(HEADER, c, &sig) + "=";
        assert_eq!(parse(&padded), malformed("signature"));
        assert_eq!(
            parse(&"a".repeat(MAX_TOKEN_LEN + 1)),
            Err(TokenError::TooLarge { max: MAX_TOKEN_LEN })
        );
        // Duplicate claims are ambiguous: refused.
        let dup = claims_json().replacen(
            r#""iss":"https://kyc.example","#,
            r#""iss":"a","iss":"b","#,
            1,
        );
        assert_eq!(parse(&token_with(HEADER, &dup, &sig)), malformed("claims"));
    }

    #[test]
    fn errors_do_not_echo_the_token() {
        let token = token_with(HEADER, r#"{"iss":"SECRET-VALUE"}"#, &[0; 64]);
        let err = UnverifiedToken::parse(&token).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRET"));
    }

    #[test]
    fn der_signatures_become_raw_r_and_s() {
        // r = 0x80.. (needs a leading zero), s = 1.
        let mut der = vec![0x30, 0x26, 0x02, 0x21, 0x00];
        der.extend_from_slice(&[0x80; 32]);
        der.extend_from_slice(&[0x02, 0x01, 0x01]);
        let raw = ecdsa_der_to_raw(&der).unwrap();
        assert_eq!(&raw[..32], &[0x80; 32]);
        assert_eq!(&raw[32..63], &[0; 31]);
        assert_eq!(raw[63], 1);
        // Non-minimal, negative, zero, oversized and trailing-garbage encodings are refused.
        for bad in [
            vec![0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01],
            vec![0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01],
            vec![0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01],
            vec![0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00],
            vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01],
            vec![],
        ] {
            assert!(ecdsa_der_to_raw(&bad).is_err(), "{bad:?}");
        }
        let mut long = vec![0x30, 0x27, 0x02, 0x22, 0x00, 0x80];
        long.extend_from_slice(&[1; 32]);
        long.extend_from_slice(&[0x02, 0x01, 0x01]);
        assert!(ecdsa_der_to_raw(&long).is_err());
    }

    proptest! {
        #[test]
        fn hostile_token_strings_never_panic(s in ".{0,400}") {
            let _ = UnverifiedToken::parse(&s);
        }

        #[test]
        fn hostile_dotted_base64_never_panics(parts in proptest::collection::vec("[A-Za-z0-9_-]{0,80}", 0..5)) {
            let _ = UnverifiedToken::parse(&parts.join("."));
        }

        #[test]
        fn tokens_with_random_json_never_panic(h in ".{0,60}", c in ".{0,200}", sig in proptest::collection::vec(any::<u8>(), 0..70)) {
            let _ = UnverifiedToken::parse(&token_with(&h, &c, &sig));
        }

        #[test]
        fn hostile_der_never_panics(b in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = ecdsa_der_to_raw(&b);
        }

        #[test]
        fn minimal_der_of_any_r_and_s_round_trips(r in any::<[u8; 32]>(), s in any::<[u8; 32]>()) {
            prop_assume!(r.iter().any(|&x| x != 0) && s.iter().any(|&x| x != 0));
            let int = |v: &[u8; 32]| {
                let start = v.iter().position(|&x| x != 0).unwrap_or(31);
                let mut m = v[start..].to_vec();
                if m[0] >= 0x80 { m.insert(0, 0); }
                let mut out = vec![0x02, m.len() as u8];
                out.extend(m);
                out
            };
            let body = [int(&r), int(&s)].concat();
            let der = [vec![0x30, body.len() as u8], body].concat();
            let raw = ecdsa_der_to_raw(&der).unwrap();
            prop_assert_eq!(&raw[..32], &r[..]);
            prop_assert_eq!(&raw[32..], &s[..]);
        }
    }
}
