//! `FakeTokenKey`: a deterministic stand-in for an ES256 key pair in tests (feature
//! `test-util`). Its "signatures" are SHA-256 based and its public key is not a curve point:
//! it exercises the token plumbing, never the cryptography. Never use it in production.

use std::fmt;

use sha2::{Digest as _, Sha256};

use super::{Jwk, SignError, TokenError, TokenSigner, TokenVerifier};

/// A fake signing key that is both a [`TokenSigner`] and a [`TokenVerifier`].
#[derive(Clone)]
pub struct FakeTokenKey {
    kid: String,
    secret: [u8; 32],
}

impl FakeTokenKey {
    /// A fake key with this id, derived from `seed`.
    pub fn new(kid: &str, seed: u64) -> Self {
        let secret = Sha256::digest(seed.to_be_bytes()).into();
        Self {
            kid: kid.to_owned(),
            secret,
        }
    }

    fn mac(&self, input: &[u8]) -> [u8; 64] {
        let r: [u8; 32] = Sha256::new()
            .chain_update(b"fake-es256")
            .chain_update(self.secret)
            .chain_update(input)
            .finalize()
            .into();
        let s: [u8; 32] = Sha256::new()
            .chain_update(r)
            .chain_update(self.secret)
            .finalize()
            .into();
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&r);
        out[32..].copy_from_slice(&s);
        out
    }
}

impl fmt::Debug for FakeTokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FakeTokenKey({:?}, <secret>)", self.kid)
    }
}

impl TokenSigner for FakeTokenKey {
    fn key_id(&self) -> &str {
        &self.kid
    }

    fn sign(
        &self,
        signing_input: &[u8],
    ) -> impl std::future::Future<Output = Result<[u8; 64], SignError>> + Send {
        std::future::ready(Ok(self.mac(signing_input)))
    }

    fn public_key(&self) -> impl std::future::Future<Output = Result<Jwk, SignError>> + Send {
        let x: [u8; 32] = Sha256::digest(self.secret).into();
        let y: [u8; 32] = Sha256::digest(x).into();
        std::future::ready(Jwk::p256(&self.kid, x, y).map_err(|e| SignError::Failed(e.into())))
    }
}

impl TokenVerifier for FakeTokenKey {
    fn verify(
        &self,
        kid: &str,
        signing_input: &[u8],
        signature: &[u8; 64],
    ) -> Result<(), TokenError> {
        if kid != self.kid {
            return Err(TokenError::UnknownKey);
        }
        if self.mac(signing_input) != *signature {
            return Err(TokenError::BadSignature);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::audit::contract::block_on;
    use crate::model::Timestamp;
    use crate::ports::fakes::SeededRandom;
    use crate::token::{issue, IssuerConfig, UnverifiedToken, VerifiedIdentityClaims};

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    fn token(key: &FakeTokenKey) -> (String, VerifiedIdentityClaims) {
        let session = crate::token::claims::tests_support::approved_session();
        let config = IssuerConfig::new("https://kyc.example", "securetask", 600).unwrap();
        let claims =
            VerifiedIdentityClaims::for_session(&session, &config, T0, &SeededRandom::new(3))
                .unwrap();
        (block_on(issue(key, &claims)).unwrap(), claims)
    }

    fn verify(
        t: &str,
        key: &FakeTokenKey,
        now: Timestamp,
    ) -> Result<VerifiedIdentityClaims, TokenError> {
        UnverifiedToken::parse(t)?.verify(
            key,
            "https://kyc.example",
            "securetask",
            now,
            Duration::from_secs(30),
        )
    }

    #[test]
    fn an_issued_token_verifies_and_yields_its_claims() {
        let key = FakeTokenKey::new("k1", 1);
        let (t, claims) = token(&key);
        assert_eq!(verify(&t, &key, T0), Ok(claims));
        assert_eq!(
            verify(&t, &key, T0.plus_millis(630_000)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_changed_claim_or_another_key_is_refused() {
        let key = FakeTokenKey::new("k1", 1);
        let (t, _) = token(&key);
        // Swap the claims for other valid claims: the signature no longer matches.
        let (other, _) = token(&FakeTokenKey::new("k1", 2));
        let mut parts: Vec<&str> = t.split('.').collect();
        let other_parts: Vec<&str> = other.split('.').collect();
        parts[2] = other_parts[2];
        assert_eq!(
            verify(&parts.join("."), &key, T0),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(&t, &FakeTokenKey::new("k2", 1), T0),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn the_fake_key_never_prints_its_secret() {
        let key = FakeTokenKey::new("k1", 1);
        assert_eq!(format!("{key:?}"), "FakeTokenKey(\"k1\", <secret>)");
        let jwk = block_on(key.public_key()).unwrap();
        assert_eq!(jwk.kid(), "k1");
    }
}
