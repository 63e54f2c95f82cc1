//! `JwksVerifier`: the [`TokenVerifier`] port over a set of published P-256 keys, with the
//! `p256` crate's ECDSA (ES256: SHA-256, raw `r || s` signatures).

use std::fmt;

use kyc_core::token::{Jwk, Jwks, TokenError, TokenVerifier};
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};

/// Verifies ES256 signatures with the keys of a [`Jwks`] (a relying party such as the
/// SecureTask board builds one from the issuer's `/.well-known/jwks.json`). Keys whose point is
/// not on the curve are left out when it is built.
#[derive(Clone, Default)]
pub struct JwksVerifier {
    keys: Vec<(String, VerifyingKey)>,
}

impl JwksVerifier {
    /// A verifier for the usable keys of `jwks`.
    pub fn new(jwks: &Jwks) -> Self {
        Self {
            keys: jwks.keys.iter().filter_map(verifying_key).collect(),
        }
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl fmt::Debug for JwksVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|(kid, _)| kid))
            .finish()
    }
}

/// The verifying key of a JWK, or `None` if its point is not on P-256.
pub(crate) fn verifying_key(jwk: &Jwk) -> Option<(String, VerifyingKey)> {
    VerifyingKey::from_sec1_bytes(&jwk.sec1_uncompressed())
        .ok()
        .map(|k| (jwk.kid().to_owned(), k))
}

/// ES256 verification of `signature` over `input` with `key`.
pub(crate) fn verify_with(
    key: &VerifyingKey,
    input: &[u8],
    signature: &[u8; 64],
) -> Result<(), TokenError> {
    let sig = Signature::from_slice(signature).map_err(|_| TokenError::BadSignature)?;
    key.verify(input, &sig)
        .map_err(|_| TokenError::BadSignature)
}

impl TokenVerifier for JwksVerifier {
    fn verify(
        &self,
        kid: &str,
        signing_input: &[u8],
        signature: &[u8; 64],
    ) -> Result<(), TokenError> {
        let (_, key) = self
            .keys
            .iter()
            .find(|(k, _)| k == kid)
            .ok_or(TokenError::UnknownKey)?;
        verify_with(key, signing_input, signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer as _;
    use p256::ecdsa::SigningKey;
    use proptest::prelude::*;

    fn key() -> (SigningKey, Jwk) {
        let sk = SigningKey::from_bytes(&[0x11; 32].into()).unwrap();
        let point = sk.verifying_key().to_encoded_point(false);
        let x: [u8; 32] = point.x().unwrap().as_slice().try_into().unwrap();
        let y: [u8; 32] = point.y().unwrap().as_slice().try_into().unwrap();
        let jwk = Jwk::p256(&Jwk::p256_thumbprint(&x, &y), x, y).unwrap();
        (sk, jwk)
    }

    fn verifier(jwk: Jwk) -> JwksVerifier {
        JwksVerifier::new(&Jwks { keys: vec![jwk] })
    }

    #[test]
    fn a_signature_verifies_only_with_its_key_and_input() {
        let (sk, jwk) = key();
        let sig: Signature = sk.sign(b"input");
        let raw: [u8; 64] = sig.to_bytes().into();
        let v = verifier(jwk.clone());
        assert_eq!(v.verify(jwk.kid(), b"input", &raw), Ok(()));
        assert_eq!(
            v.verify(jwk.kid(), b"other", &raw),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            v.verify("nope", b"input", &raw),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn zero_and_out_of_range_scalars_are_bad_signatures() {
        let (_, jwk) = key();
        let v = verifier(jwk.clone());
        for raw in [[0u8; 64], [0xFF; 64]] {
            assert_eq!(
                v.verify(jwk.kid(), b"input", &raw),
                Err(TokenError::BadSignature)
            );
        }
    }

    #[test]
    fn a_key_whose_point_is_not_on_the_curve_is_left_out() {
        let jwk = Jwk::p256("off-curve", [1; 32], [2; 32]).unwrap();
        let v = verifier(jwk);
        assert!(v.is_empty());
        assert_eq!(
            v.verify("off-curve", b"x", &[1; 64]),
            Err(TokenError::UnknownKey)
        );
    }

    proptest! {
        #[test]
        fn random_signatures_never_verify_and_never_panic(
            sig in proptest::collection::vec(any::<u8>(), 64),
            input in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let (_, jwk) = key();
            let raw: [u8; 64] = sig.try_into().unwrap();
            prop_assert!(verifier(jwk.clone()).verify(jwk.kid(), &input, &raw).is_err());
        }
    }
}
