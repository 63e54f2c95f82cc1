//! `KmsTokenSigner`: kyc-core's `TokenSigner` port on an asymmetric AWS KMS key (ES256). The
//! private key never leaves KMS: this adapter only ever sees digests, signatures and the public
//! key.
//!
//! # How it signs
//!
//! The signing input (`base64url(header).base64url(claims)`) is hashed here with SHA-256 and
//! KMS `Sign` is called with `MessageType: DIGEST` and `SigningAlgorithm: ECDSA_SHA_256`. KMS
//! accepts at most 4096 bytes of `RAW` message, while a token may be up to 8 KiB
//! ([`kyc_core::token::MAX_TOKEN_LEN`]); signing the digest has no such limit, sends 32 bytes
//! instead of the claims, and yields the same ES256 signature. KMS answers a DER
//! `ECDSA-Sig-Value`, converted to JOSE's raw `r || s` by [`ecdsa_der_to_raw`].
//!
//! # The public key
//!
//! [`KmsTokenSigner::connect`] calls `GetPublicKey` once, checks that the key is an
//! `ECC_NIST_P256` `SIGN_VERIFY` key offering `ECDSA_SHA_256` (anything else is refused with a
//! [`KeyError`] naming what is wrong), decodes the SubjectPublicKeyInfo (algorithm and curve
//! identifiers checked, the point checked to lie on P-256), and caches the resulting [`Jwk`]
//! whose `kid` is its RFC 7638 thumbprint. Signing then uses the key's ARN as `GetPublicKey`
//! returned it, never the alias it may have been configured with: if the alias is moved to
//! another key, this signer keeps signing with the key its published JWK describes.
//!
//! # IAM actions
//!
//! `kms:GetPublicKey` (at start-up) and `kms:Sign` on the signing key (the stack's
//! `keys/signing-key-arn`).
//!
//! # Errors
//!
//! Signing failures map through [`crate::error`]: throttling, `KMSInternalException`,
//! timeouts and connection failures are [`SignError::Unavailable`] (retry later); a disabled
//! key, denied access or a wrong key are [`SignError::Failed`]. Neither KMS's messages nor key
//! material appear in an error.

use std::fmt;

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use aws_sdk_kms::Client;
use kyc_core::ports::PortError;
use kyc_core::token::{ecdsa_der_to_raw, Jwk, SignError, TokenSigner};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::DecodePublicKey as _;
use sha2::{Digest as _, Sha256};

use crate::error::to_port_error;

/// The backend name in this adapter's errors.
pub const BACKEND: &str = "kms";

/// Why a KMS key cannot sign verification tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key is not an `ECC_NIST_P256` key (ES256 needs P-256).
    #[error("token signing key spec is {found}, expected ECC_NIST_P256")]
    WrongKeySpec {
        /// The key's spec as KMS names it (e.g. `RSA_2048`, `SYMMETRIC_DEFAULT`), or `unknown`.
        found: String,
    },
    /// The key is not a `SIGN_VERIFY` key.
    #[error("token signing key usage is {found}, expected SIGN_VERIFY")]
    WrongKeyUsage {
        /// The key's usage as KMS names it (e.g. `ENCRYPT_DECRYPT`), or `unknown`.
        found: String,
    },
    /// The key has no public key: it is a symmetric (or HMAC) key.
    #[error("token signing key has no public key (a symmetric key?), expected an ECC_NIST_P256 SIGN_VERIFY key")]
    NoPublicKey,
    /// The key does not offer `ECDSA_SHA_256`.
    #[error("token signing key does not offer ECDSA_SHA_256")]
    MissingAlgorithm,
    /// The public key is not a valid P-256 SubjectPublicKeyInfo.
    #[error("token signing key's public key is not a valid P-256 key")]
    MalformedPublicKey,
    /// KMS could not be asked (throttled, down, denied, no such key).
    #[error("token signing key could not be read: {0}")]
    Backend(#[source] PortError),
}

impl KeyError {
    /// Whether trying again later can succeed (only transient backend failures).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Backend(e) if e.is_retryable())
    }
}

/// Checks what `GetPublicKey` returned and builds the JWK (kid = RFC 7638 thumbprint).
fn public_jwk(
    spec: Option<&KeySpec>,
    usage: Option<&KeyUsageType>,
    algorithms: &[SigningAlgorithmSpec],
    spki_der: Option<&[u8]>,
) -> Result<Jwk, KeyError> {
    let name = |s: Option<&str>| s.unwrap_or("unknown").to_owned();
    if spec != Some(&KeySpec::EccNistP256) {
        return Err(KeyError::WrongKeySpec {
            found: name(spec.map(KeySpec::as_str)),
        });
    }
    if usage != Some(&KeyUsageType::SignVerify) {
        return Err(KeyError::WrongKeyUsage {
            found: name(usage.map(KeyUsageType::as_str)),
        });
    }
    if !algorithms.contains(&SigningAlgorithmSpec::EcdsaSha256) {
        return Err(KeyError::MissingAlgorithm);
    }
    // Checks the id-ecPublicKey / prime256v1 identifiers and that the point is on the curve.
    let der = spki_der.ok_or(KeyError::MalformedPublicKey)?;
    let key =
        p256::PublicKey::from_public_key_der(der).map_err(|_| KeyError::MalformedPublicKey)?;
    let point = key.to_encoded_point(false);
    let coordinate = |c: Option<&p256::FieldBytes>| -> Result<[u8; 32], KeyError> {
        c.map(|b| (*b).into()).ok_or(KeyError::MalformedPublicKey)
    };
    let (x, y) = (coordinate(point.x())?, coordinate(point.y())?);
    Jwk::p256(&Jwk::p256_thumbprint(&x, &y), x, y).map_err(|_| KeyError::MalformedPublicKey)
}

/// ES256 token signing with a KMS key. Cheap to clone.
#[derive(Clone)]
pub struct KmsTokenSigner {
    client: Client,
    key_arn: String,
    jwk: Jwk,
}

impl fmt::Debug for KmsTokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsTokenSigner")
            .field("key_arn", &self.key_arn)
            .field("kid", &self.jwk.kid())
            .finish_non_exhaustive()
    }
}

impl KmsTokenSigner {
    /// Fetches and checks the public key of `key_id` (an ARN, key id or alias) and returns a
    /// signer bound to that key. Build `client` from [`crate::config::AwsSettings::load`] so it
    /// carries the shared retries and timeouts.
    pub async fn connect(client: Client, key_id: &str) -> Result<Self, KeyError> {
        let out = client
            .get_public_key()
            .key_id(key_id)
            .send()
            .await
            .map_err(|e| {
                // KMS refuses GetPublicKey on symmetric and HMAC keys with this code.
                if e.as_service_error().and_then(ProvideErrorMetadata::code)
                    == Some("UnsupportedOperationException")
                {
                    KeyError::NoPublicKey
                } else {
                    KeyError::Backend(to_port_error(BACKEND, &e))
                }
            })?;
        let jwk = public_jwk(
            out.key_spec(),
            out.key_usage(),
            out.signing_algorithms(),
            out.public_key().map(AsRef::as_ref),
        )?;
        let key_arn = out.key_id().unwrap_or(key_id).to_owned();
        Ok(Self {
            client,
            key_arn,
            jwk,
        })
    }

    /// The ARN of the key that signs.
    pub fn key_arn(&self) -> &str {
        &self.key_arn
    }

    /// The cached public key (the same as [`TokenSigner::public_key`], without a future).
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }
}

fn failed(e: impl std::error::Error + Send + Sync + 'static) -> SignError {
    SignError::Failed(Box::new(e))
}

impl TokenSigner for KmsTokenSigner {
    fn key_id(&self) -> &str {
        self.jwk.kid()
    }

    async fn sign(&self, signing_input: &[u8]) -> Result<[u8; 64], SignError> {
        let digest = Sha256::digest(signing_input);
        let out = self
            .client
            .sign()
            .key_id(&self.key_arn)
            .message(Blob::new(digest.to_vec()))
            .message_type(MessageType::Digest)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| {
                let err = to_port_error(BACKEND, &e);
                if err.is_retryable() {
                    SignError::Unavailable(Box::new(err))
                } else {
                    failed(err)
                }
            })?;
        let der = out.signature().ok_or_else(|| {
            failed(PortError::Rejected {
                backend: BACKEND,
                reason: "no signature was returned",
            })
        })?;
        ecdsa_der_to_raw(der.as_ref()).map_err(failed)
    }

    async fn public_key(&self) -> Result<Jwk, SignError> {
        Ok(self.jwk.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_sdk_kms::config::retry::RetryConfig;
    use aws_sdk_kms::config::{BehaviorVersion, Region};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;
    use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
    use p256::ecdsa::signature::Signer as _;
    use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
    use p256::pkcs8::EncodePublicKey as _;
    use proptest::prelude::*;

    const ARN: &str = "arn:aws:kms:us-east-1:000000000000:key/1234";

    fn signing_key() -> SigningKey {
        SigningKey::from_bytes(&[0x42; 32].into()).unwrap()
    }

    fn spki(key: &SigningKey) -> Vec<u8> {
        key.verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec()
    }

    fn es256_jwk(der: &[u8]) -> Result<Jwk, KeyError> {
        public_jwk(
            Some(&KeySpec::EccNistP256),
            Some(&KeyUsageType::SignVerify),
            &[SigningAlgorithmSpec::EcdsaSha256],
            Some(der),
        )
    }

    fn client(events: Vec<ReplayEvent>) -> (Client, StaticReplayClient) {
        let http = StaticReplayClient::new(events);
        let conf = aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::for_tests())
            .retry_config(RetryConfig::disabled())
            .http_client(http.clone())
            .build();
        (Client::from_conf(conf), http)
    }

    fn request() -> http::Request<SdkBody> {
        http::Request::builder()
            .uri("https://kms.us-east-1.amazonaws.com/")
            .body(SdkBody::empty())
            .unwrap()
    }

    fn answer(status: u16, body: String) -> http::Response<SdkBody> {
        http::Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(body))
            .unwrap()
    }

    fn public_key_answer(spec: &str, usage: &str, der: &[u8]) -> http::Response<SdkBody> {
        answer(
            200,
            serde_json::json!({
                "KeyId": ARN,
                "PublicKey": aws_smithy_types::base64::encode(der),
                "KeySpec": spec,
                "KeyUsage": usage,
                "SigningAlgorithms": ["ECDSA_SHA_256"],
            })
            .to_string(),
        )
    }

    use crate::testing::block_on;

    #[test]
    fn a_p256_public_key_becomes_a_jwk_named_by_its_thumbprint() {
        let key = signing_key();
        let jwk = es256_jwk(&spki(&key)).unwrap();
        let point = key.verifying_key().to_encoded_point(false);
        assert_eq!(jwk.x().as_slice(), point.x().unwrap().as_slice());
        assert_eq!(jwk.y().as_slice(), point.y().unwrap().as_slice());
        assert_eq!(jwk.kid(), Jwk::p256_thumbprint(jwk.x(), jwk.y()));
        assert_eq!(jwk.kid().len(), 43, "base64url of a SHA-256");
    }

    #[test]
    fn keys_of_the_wrong_kind_are_refused_with_a_clear_reason() {
        let der = spki(&signing_key());
        let err = public_jwk(
            Some(&KeySpec::Rsa2048),
            Some(&KeyUsageType::SignVerify),
            &[SigningAlgorithmSpec::RsassaPssSha256],
            Some(&der),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "token signing key spec is RSA_2048, expected ECC_NIST_P256"
        );
        let err = public_jwk(
            Some(&KeySpec::EccNistP256),
            Some(&KeyUsageType::KeyAgreement),
            &[],
            Some(&der),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "token signing key usage is KEY_AGREEMENT, expected SIGN_VERIFY"
        );
        let err = public_jwk(None, None, &[], Some(&der)).unwrap_err();
        assert_eq!(
            err,
            KeyError::WrongKeySpec {
                found: "unknown".into()
            }
        );
        let err = public_jwk(
            Some(&KeySpec::EccNistP256),
            Some(&KeyUsageType::SignVerify),
            &[SigningAlgorithmSpec::EcdsaSha384],
            Some(&der),
        )
        .unwrap_err();
        assert_eq!(err, KeyError::MissingAlgorithm);
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_public_key_on_another_curve_or_off_the_curve_is_refused() {
        // Flip a byte of the point's y coordinate: no longer on the curve.
        let mut der = spki(&signing_key());
        let last = der.len() - 1;
        der[last] ^= 0x01;
        assert_eq!(es256_jwk(&der), Err(KeyError::MalformedPublicKey));
        // Change the curve identifier (prime256v1 ends in 0x07) to another curve.
        let mut der = spki(&signing_key());
        let oid = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
        let at = der.windows(oid.len()).position(|w| w == oid).unwrap();
        der[at + oid.len() - 1] = 0x08;
        assert_eq!(es256_jwk(&der), Err(KeyError::MalformedPublicKey));
        assert_eq!(es256_jwk(&[]), Err(KeyError::MalformedPublicKey));
        let no_key = public_jwk(
            Some(&KeySpec::EccNistP256),
            Some(&KeyUsageType::SignVerify),
            &[SigningAlgorithmSpec::EcdsaSha256],
            None,
        );
        assert_eq!(no_key, Err(KeyError::MalformedPublicKey));
    }

    proptest! {
        #[test]
        fn arbitrary_public_key_bytes_never_panic(der in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = es256_jwk(&der);
        }
    }

    #[test]
    fn connect_binds_the_key_arn_and_signs_a_sha256_digest() {
        let key = signing_key();
        let input = b"header.claims".repeat(700); // over KMS's 4096-byte RAW limit
        let digest = Sha256::digest(&input);
        let sig: Signature = key.sign(&input);
        let der = sig.to_der();
        let (client, http) = client(vec![
            ReplayEvent::new(
                request(),
                public_key_answer("ECC_NIST_P256", "SIGN_VERIFY", &spki(&key)),
            ),
            ReplayEvent::new(
                request(),
                answer(
                    200,
                    serde_json::json!({
                        "KeyId": ARN,
                        "Signature": aws_smithy_types::base64::encode(der.as_bytes()),
                        "SigningAlgorithm": "ECDSA_SHA_256",
                    })
                    .to_string(),
                ),
            ),
        ]);
        let signer = block_on(KmsTokenSigner::connect(
            client,
            "alias/kyc-dev-token-signing",
        ))
        .expect("connect");
        assert_eq!(signer.key_arn(), ARN);
        let raw = block_on(signer.sign(&input)).expect("sign");
        assert_eq!(raw, <[u8; 64]>::from(sig.to_bytes()));
        let vk = VerifyingKey::from_sec1_bytes(&signer.jwk().sec1_uncompressed()).unwrap();
        vk.verify_prehash(&digest, &Signature::from_slice(&raw).unwrap())
            .expect("the raw signature verifies with the published key");

        let sent: Vec<_> = http.actual_requests().collect();
        let body: serde_json::Value =
            serde_json::from_slice(sent[1].body().bytes().unwrap()).unwrap();
        assert_eq!(body["KeyId"], ARN, "the ARN, not the alias");
        assert_eq!(body["MessageType"], "DIGEST");
        assert_eq!(body["SigningAlgorithm"], "ECDSA_SHA_256");
        assert_eq!(
            body["Message"],
            aws_smithy_types::base64::encode(digest.as_slice())
        );
        assert_eq!(block_on(signer.public_key()).unwrap(), *signer.jwk());
        let shown = format!("{signer:?}");
        assert!(shown.contains(ARN) && shown.contains(signer.jwk().kid()));
    }

    #[test]
    fn throttling_is_unavailable_and_a_disabled_key_is_a_failure() {
        let key = signing_key();
        let err_body = |t: &str| {
            serde_json::json!({"__type": t, "message": "key arn:aws:kms:secret-detail"}).to_string()
        };
        let (client, _) = client(vec![
            ReplayEvent::new(
                request(),
                public_key_answer("ECC_NIST_P256", "SIGN_VERIFY", &spki(&key)),
            ),
            ReplayEvent::new(request(), answer(400, err_body("ThrottlingException"))),
            ReplayEvent::new(request(), answer(400, err_body("DisabledException"))),
        ]);
        let signer = block_on(KmsTokenSigner::connect(client, ARN)).unwrap();
        let err = block_on(signer.sign(b"x")).unwrap_err();
        assert!(matches!(err, SignError::Unavailable(_)), "{err:?}");
        let err = block_on(signer.sign(b"x")).unwrap_err();
        assert!(matches!(err, SignError::Failed(_)), "{err:?}");
        assert!(!format!("{err:?}").contains("secret-detail"));
    }

    #[test]
    fn connecting_to_a_symmetric_key_is_refused() {
        let (client, _) = client(vec![ReplayEvent::new(
            request(),
            public_key_answer("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", &[1, 2, 3]),
        )]);
        let err = block_on(KmsTokenSigner::connect(client, ARN)).unwrap_err();
        assert_eq!(
            err,
            KeyError::WrongKeySpec {
                found: "SYMMETRIC_DEFAULT".into()
            }
        );
    }

    #[test]
    fn a_key_without_a_public_key_is_named_as_such() {
        let (client, _) = client(vec![ReplayEvent::new(
            request(),
            answer(
                400,
                r#"{"__type":"UnsupportedOperationException","message":"symmetric"}"#.into(),
            ),
        )]);
        let err = block_on(KmsTokenSigner::connect(client, ARN)).unwrap_err();
        assert_eq!(err, KeyError::NoPublicKey);
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_missing_key_is_a_backend_error_that_is_not_retryable() {
        let (client, _) = client(vec![ReplayEvent::new(
            request(),
            answer(
                400,
                r#"{"__type":"NotFoundException","message":"Key 'alias/secret-name' is gone"}"#
                    .into(),
            ),
        )]);
        let err = block_on(KmsTokenSigner::connect(client, ARN)).unwrap_err();
        assert!(matches!(err, KeyError::Backend(_)), "{err:?}");
        assert!(!err.is_retryable());
        assert!(!err.to_string().contains("secret-name"), "{err}");
    }
}
