//! `KmsTokenSigner` against LocalStack's KMS: a token issued with an ECC_NIST_P256 key verifies
//! with the exported JWK (and KMS itself accepts the signature), a tampered token does not, keys
//! of the wrong kind are refused clearly, and a disabled key fails without a retry.

use std::time::Duration;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use kyc_aws::kms::{KeyError, KmsTokenSigner};
use kyc_core::model::Timestamp;
use kyc_core::token::{
    issue, Jwk, SignError, TokenError, TokenSigner, TokenVerifier, UnverifiedToken,
    VerifiedIdentityClaims,
};
use kyc_tests::{localstack, unique};
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};

const ISSUER: &str = "https://kyc.example";
const AUDIENCE: &str = "securetask";
const IAT: i64 = 1_779_341_048;

/// A verifier over one published key, with the `p256` crate (what relying parties do).
struct OneKey(Jwk);

impl TokenVerifier for OneKey {
    fn verify(&self, kid: &str, input: &[u8], signature: &[u8; 64]) -> Result<(), TokenError> {
        if kid != self.0.kid() {
            return Err(TokenError::UnknownKey);
        }
        let key = VerifyingKey::from_sec1_bytes(&self.0.sec1_uncompressed())
            .map_err(|_| TokenError::BadSignature)?;
        let sig = Signature::from_slice(signature).map_err(|_| TokenError::BadSignature)?;
        key.verify(input, &sig)
            .map_err(|_| TokenError::BadSignature)
    }
}

fn claims() -> VerifiedIdentityClaims {
    serde_json::from_value(serde_json::json!({
        "iss": ISSUER, "sub": "01010101-0101-4101-8101-010101010101", "aud": AUDIENCE,
        "iat": IAT, "nbf": IAT, "exp": IAT + 600, "jti": "AAECAwQFBgcICQoLDA0ODw",
        "acr": "kyc:document+liveness+facematch+sanctions",
        "verification_id": "01010101-0101-4101-8101-010101010101",
        "policy_version": "2026-05"
    }))
    .expect("claims")
}

async fn kms() -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(&localstack().sdk_config().await)
}

async fn create_key(kms: &aws_sdk_kms::Client, spec: KeySpec, usage: KeyUsageType) -> String {
    kms.create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .expect("create key")
        .key_metadata
        .and_then(|m| m.arn)
        .expect("arn")
}

fn verify(token: &str, jwk: &Jwk) -> Result<VerifiedIdentityClaims, TokenError> {
    UnverifiedToken::parse(token)?.verify(
        &OneKey(jwk.clone()),
        ISSUER,
        AUDIENCE,
        Timestamp::from_secs(IAT + 1),
        Duration::from_secs(30),
    )
}

#[tokio::test]
async fn a_token_signed_in_kms_verifies_with_the_exported_jwk() {
    let kms = kms().await;
    let arn = create_key(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let alias = format!("alias/{}", unique("token-signing"));
    kms.create_alias()
        .alias_name(&alias)
        .target_key_id(&arn)
        .send()
        .await
        .expect("alias");

    let signer = KmsTokenSigner::connect(kms.clone(), &alias)
        .await
        .expect("connect");
    assert_eq!(signer.key_arn(), arn, "bound to the key, not the alias");
    let jwk = signer.public_key().await.unwrap();
    assert_eq!(signer.key_id(), jwk.kid());
    assert_eq!(jwk.kid(), Jwk::p256_thumbprint(jwk.x(), jwk.y()));
    let published = serde_json::to_value(&jwk).unwrap();
    assert_eq!(published["kty"], "EC");
    assert_eq!(published["crv"], "P-256");
    assert!(published.get("d").is_none(), "no private material");

    let token = issue(&signer, &claims()).await.expect("issue");
    assert_eq!(verify(&token, &jwk), Ok(claims()));

    // KMS agrees that this is its signature over the token's signing input.
    let parsed = UnverifiedToken::parse(&token).unwrap();
    let der = Signature::from_slice(parsed.signature()).unwrap().to_der();
    let ok = kms
        .verify()
        .key_id(&arn)
        .message(Blob::new(parsed.signing_input().as_bytes()))
        .message_type(MessageType::Raw)
        .signature(Blob::new(der.as_bytes()))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("kms verify");
    assert!(ok.signature_valid());
}

#[tokio::test]
async fn a_tampered_token_or_another_key_is_refused() {
    let kms = kms().await;
    let arn = create_key(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let signer = KmsTokenSigner::connect(kms.clone(), &arn).await.unwrap();
    let jwk = signer.jwk().clone();
    let token = issue(&signer, &claims()).await.unwrap();

    // Claims changed (a longer lifetime), signature kept.
    let mut longer = claims();
    longer.exp += 3600;
    let other = issue(&signer, &longer).await.unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let other_parts: Vec<&str> = other.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], other_parts[1], parts[2]);
    assert_eq!(verify(&forged, &jwk), Err(TokenError::BadSignature));

    // One signature bit flipped.
    let mut sig = kyc_core::token::base64url::decode(parts[2]).unwrap();
    sig[40] ^= 0x01;
    let flipped = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        kyc_core::token::base64url::encode(&sig)
    );
    assert_eq!(verify(&flipped, &jwk), Err(TokenError::BadSignature));

    // Another KMS key's JWK under the same kid does not verify it either.
    let arn2 = create_key(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let other_key = KmsTokenSigner::connect(kms.clone(), &arn2).await.unwrap();
    assert_ne!(other_key.key_id(), signer.key_id());
    let impostor = Jwk::p256(jwk.kid(), *other_key.jwk().x(), *other_key.jwk().y()).unwrap();
    assert_eq!(verify(&token, &impostor), Err(TokenError::BadSignature));
}

#[tokio::test]
async fn inputs_beyond_the_kms_raw_message_limit_are_signed() {
    let kms = kms().await;
    let arn = create_key(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let signer = KmsTokenSigner::connect(kms, &arn).await.unwrap();
    let input = vec![b'a'; 8 * 1024];
    let raw = signer.sign(&input).await.expect("8 KiB signs");
    let key = VerifyingKey::from_sec1_bytes(&signer.jwk().sec1_uncompressed()).unwrap();
    key.verify(&input, &Signature::from_slice(&raw).unwrap())
        .expect("verifies");
}

#[tokio::test]
async fn keys_of_the_wrong_type_are_refused_clearly() {
    let kms = kms().await;
    for (spec, usage, expected) in [
        (
            KeySpec::SymmetricDefault,
            KeyUsageType::EncryptDecrypt,
            "token signing key spec is SYMMETRIC_DEFAULT, expected ECC_NIST_P256",
        ),
        (
            KeySpec::EccNistP384,
            KeyUsageType::SignVerify,
            "token signing key spec is ECC_NIST_P384, expected ECC_NIST_P256",
        ),
        (
            KeySpec::Rsa2048,
            KeyUsageType::SignVerify,
            "token signing key spec is RSA_2048, expected ECC_NIST_P256",
        ),
    ] {
        let arn = create_key(&kms, spec.clone(), usage).await;
        let err = KmsTokenSigner::connect(kms.clone(), &arn)
            .await
            .unwrap_err();
        // AWS refuses GetPublicKey on a symmetric key (UnsupportedOperationException, named
        // `NoPublicKey`); LocalStack answers with the key's spec. Either is a clear refusal.
        if err != KeyError::NoPublicKey {
            assert_eq!(err.to_string(), expected);
        } else {
            assert_eq!(spec, KeySpec::SymmetricDefault);
        }
        assert!(!err.is_retryable(), "{err}");
    }
}

#[tokio::test]
async fn a_missing_or_disabled_key_fails_without_a_retry() {
    let kms = kms().await;
    let err = KmsTokenSigner::connect(kms.clone(), &format!("alias/{}", unique("absent")))
        .await
        .unwrap_err();
    assert!(matches!(err, KeyError::Backend(_)), "{err:?}");
    assert!(!err.is_retryable());

    let arn = create_key(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let signer = KmsTokenSigner::connect(kms.clone(), &arn).await.unwrap();
    kms.disable_key().key_id(&arn).send().await.unwrap();
    let err = signer.sign(b"input").await.unwrap_err();
    assert!(matches!(err, SignError::Failed(_)), "{err:?}");
}
