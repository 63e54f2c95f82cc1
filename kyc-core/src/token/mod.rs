//! The verified-identity token: an ES256 JWT that an approved verification yields and that
//! other applications (the SecureTask board first) verify with the published JWKS.
//!
//! This module holds everything but the elliptic-curve arithmetic: the [claims](VerifiedIdentityClaims)
//! and their [validation](validate), the JWS compact serialisation ([`signing_input`],
//! [`assemble`], [`UnverifiedToken::parse`]), the key set ([`Jwk`], [`Jwks`]), and the two
//! ports that do the cryptography: [`TokenSigner`] (AWS KMS, or a local key) and
//! [`TokenVerifier`] (an ECDSA library over a [`Jwks`]).
//!
//! Issuing: `VerifiedIdentityClaims::for_session` → [`issue`] (header, signing input, the
//! signer's signature, the compact token). Verifying: [`UnverifiedToken::parse`] →
//! [`UnverifiedToken::verify`] (signature through the verifier port, then [`validate`]).

pub mod base64url;
mod claims;
#[cfg(any(test, feature = "test-util"))]
mod fake;
mod jwk;
mod jwt;

use std::future::Future;

pub use claims::{
    validate, AssuranceLevel, Audience, IssuerConfig, VerifiedIdentityClaims, MAX_LIFETIME_SECS,
    MAX_NAME_LEN,
};
#[cfg(any(test, feature = "test-util"))]
pub use fake::FakeTokenKey;
pub use jwk::{Jwk, Jwks, MAX_KEYS};
pub use jwt::{
    assemble, ecdsa_der_to_raw, signing_input, JwtHeader, UnverifiedToken, MAX_HEADER_LEN,
    MAX_TOKEN_LEN,
};

/// Why a token could not be made, parsed or accepted. Messages never echo token contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Only approved verifications yield tokens.
    #[error("verification is not approved")]
    NotApproved,
    /// The session's checks do not support any assurance level.
    #[error("verification checks do not support a token")]
    InsufficientAssurance,
    /// An issuer setting is out of bounds.
    #[error("token {what} setting is invalid")]
    InvalidConfig {
        /// Which setting.
        what: &'static str,
    },
    /// The header or claims could not be encoded.
    #[error("token could not be encoded")]
    Encoding,
    /// The token is longer than accepted.
    #[error("token is longer than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// A part of the token is not what it must be.
    #[error("token {what} is malformed")]
    Malformed {
        /// `structure`, `header`, `claims` or `signature`.
        what: &'static str,
    },
    /// The header names an algorithm other than ES256 (`none` included).
    #[error("token algorithm is not supported")]
    UnsupportedAlgorithm,
    /// No published key has the token's key id.
    #[error("token signing key is unknown")]
    UnknownKey,
    /// The signature does not verify.
    #[error("token signature is invalid")]
    BadSignature,
    /// The issuer is not the expected one.
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// The expected audience is not among the token's audiences.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// The token has expired.
    #[error("token has expired")]
    Expired,
    /// The token is not valid yet.
    #[error("token is not valid yet")]
    NotYetValid,
    /// `exp` is not after `iat`, or `nbf` is after `exp`.
    #[error("token times are inconsistent")]
    InconsistentTimes,
    /// The token lives longer than 24 hours.
    #[error("token lifetime is too long")]
    LifetimeTooLong,
}

/// Why the signer could not sign.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// A transient failure (throttling, timeout): retrying may succeed.
    #[error("token signing key is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A permanent failure (permissions, disabled or wrong key type).
    #[error("token signing failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The header or claims could not be encoded.
    #[error("token could not be encoded")]
    Encoding,
}

/// The signing port: holds the private key (in AWS KMS, or a local key file) and never lets
/// it out.
///
/// Adapters: `KmsTokenSigner` (KMS `Sign` with `ECDSA_SHA_256` over a locally computed SHA-256, `MessageType: DIGEST`, then
/// [`ecdsa_der_to_raw`]), `LocalTokenSigner`, and `FakeTokenKey` for tests (feature
/// `test-util`).
pub trait TokenSigner: Send + Sync {
    /// The key id (`kid`) of the signing key. MUST be stable for the key's lifetime and equal
    /// to the `kid` of [`public_key`](Self::public_key) (the RFC 7638 thumbprint is a good
    /// choice, see [`Jwk::p256_thumbprint`]).
    fn key_id(&self) -> &str;

    /// Signs `signing_input` with ECDSA over P-256 and SHA-256 (ES256).
    ///
    /// - MUST return the 64-byte raw signature `r || s` (each 32 bytes, big-endian,
    ///   left-padded with zeros), never DER.
    /// - MUST hash the input itself (the input is the ASCII signing input, not a digest).
    /// - MUST return [`SignError::Unavailable`] for transient failures and
    ///   [`SignError::Failed`] for permanent ones; the error MUST NOT contain key material.
    fn sign(
        &self,
        signing_input: &[u8],
    ) -> impl Future<Output = Result<[u8; 64], SignError>> + Send;

    /// The public key to publish in the JWKS. MUST NOT expose private key material: no
    /// method of an adapter returns it, and its `Debug` does not print it.
    fn public_key(&self) -> impl Future<Output = Result<Jwk, SignError>> + Send;
}

/// The verification port: checks an ES256 signature with a published key.
pub trait TokenVerifier: Send + Sync {
    /// Verifies `signature` (raw `r || s`) over `signing_input` with the P-256 key named
    /// `kid`, ECDSA with SHA-256.
    ///
    /// - MUST return `Ok(())` only if the signature verifies with that key.
    /// - MUST return [`TokenError::UnknownKey`] when no key has this id (after refreshing the
    ///   key set at most once per interval, so unknown ids cannot force refetches).
    /// - MUST return [`TokenError::BadSignature`] for every other failure (`r` or `s` zero or
    ///   out of range, point not on the curve, mismatch).
    fn verify(
        &self,
        kid: &str,
        signing_input: &[u8],
        signature: &[u8; 64],
    ) -> Result<(), TokenError>;
}

/// Signs `claims` with `signer` and returns the compact token.
pub async fn issue<S: TokenSigner + ?Sized>(
    signer: &S,
    claims: &VerifiedIdentityClaims,
) -> Result<String, SignError> {
    let header = JwtHeader::es256(signer.key_id());
    let input = signing_input(&header, claims).map_err(|_| SignError::Encoding)?;
    let signature = signer.sign(input.as_bytes()).await?;
    Ok(assemble(&input, &signature))
}
