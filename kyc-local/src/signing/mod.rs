//! Local ES256 signing of verification tokens: a key ring in the data directory with
//! rotation ([`LocalKeyRing`]), the [`TokenSigner`] of its active key ([`LocalTokenSigner`]),
//! and [`TokenVerifier`]s over the ring and over any published key set ([`JwksVerifier`]).
//!
//! # Files
//!
//! ```text
//! <data dir>/signing/            owner-only (0700) when created here
//!   keyring.json                 which keys exist, when each was created and deactivated
//!   es256-<ms>-<random>.pem      one PKCS#8 PEM private key per key, mode 0600
//! ```
//!
//! A key file that group or others can access is refused. A key's id (`kid`) is the RFC 7638
//! thumbprint of its public key, checked against the ring file when the key is loaded.
//!
//! # Rotation
//!
//! [`LocalKeyRing::rotate`] creates a new active key and deactivates the old one, which stops
//! signing at once but stays in the JWKS until every token it signed has expired: it is
//! *retired* `retire_after` after its deactivation (by default the longest token lifetime,
//! 24 hours, plus 5 minutes of clock leeway), and then removed from the ring and the disk.
//! A crash during rotation leaves either the old ring or the new one (the new key's file is
//! written before the ring file that names it; an unnamed key file is removed on open).
//!
//! One process owns a key directory; others load a copy when they open it.

mod verifier;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use kyc_core::model::Timestamp;
use kyc_core::token::{Jwk, Jwks, SignError, TokenError, TokenSigner, TokenVerifier};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::storage::crypto::random_hex;
use crate::storage::StoreError;
pub use verifier::JwksVerifier;

const RING_FILE: &str = "keyring.json";
const RING_VERSION: u32 = 1;
const MAX_RING_FILE: u64 = 1024 * 1024;
const MAX_KEY_FILE: u64 = 16 * 1024;
const KEY_WHAT: &str = "signing key file";
const RING_WHAT: &str = "signing key ring file";

/// How long a deactivated key stays published unless configured otherwise: the longest token
/// lifetime kyc-core allows plus 5 minutes of leeway for clock skew.
pub const DEFAULT_RETIRE_AFTER: Duration =
    Duration::from_secs(kyc_core::token::MAX_LIFETIME_SECS as u64 + 300);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RingFile {
    version: u32,
    keys: Vec<RingEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RingEntry {
    kid: String,
    file: String,
    created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deactivated_at: Option<Timestamp>,
}

/// One key pair, loaded.
struct KeyMaterial {
    kid: String,
    signing: SigningKey,
    verifying: VerifyingKey,
    jwk: Jwk,
    active: AtomicBool,
}

struct Loaded {
    entry: RingEntry,
    key: Arc<KeyMaterial>,
}

/// The ring of signing keys in a directory: one active key, and deactivated keys kept until
/// they retire. `Send + Sync`; its methods block on file I/O (they run rarely: at start-up, on
/// rotation, and `signer` which does none).
pub struct LocalKeyRing {
    dir: PathBuf,
    retire_after: Duration,
    keys: RwLock<Vec<Loaded>>,
}

impl fmt::Debug for LocalKeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("LocalKeyRing")
            .field(
                "kids",
                &keys.iter().map(|k| &k.entry.kid).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl LocalKeyRing {
    /// Opens the ring in `dir` with [`DEFAULT_RETIRE_AFTER`], creating its first key at `now`
    /// if there is none. See [`open_with`](Self::open_with).
    pub fn open(dir: &Path, now: Timestamp) -> Result<Self, StoreError> {
        Self::open_with(dir, now, DEFAULT_RETIRE_AFTER)
    }

    /// Opens the ring in `dir`, creating the directory and a first key if needed, and removes
    /// keys retired at `now` (deactivated more than `retire_after` ago) and key files the ring
    /// does not name. `retire_after` MUST be at least the longest lifetime of the tokens signed
    /// plus the verifiers' leeway.
    ///
    /// Errors: [`StoreError::InsecurePermissions`] for a key file group or others can access,
    /// [`StoreError::Malformed`] for a ring or key file that does not parse or does not match.
    pub fn open_with(
        dir: &Path,
        now: Timestamp,
        retire_after: Duration,
    ) -> Result<Self, StoreError> {
        crate::storage::fs::ensure_private_dir(dir)?;
        let ring_path = dir.join(RING_FILE);
        let entries = match crate::storage::fs::read_bounded(&ring_path, MAX_RING_FILE) {
            Ok(Some(bytes)) => parse_ring(&bytes)?,
            Ok(None) => Vec::new(),
            Err(StoreError::Integrity) => return Err(StoreError::Malformed { what: RING_WHAT }),
            Err(e) => return Err(e),
        };
        let mut keys = Vec::with_capacity(entries.len());
        for entry in entries {
            let key = load_key(dir, &entry)?;
            keys.push(Loaded { entry, key });
        }
        let ring = Self {
            dir: dir.to_path_buf(),
            retire_after,
            keys: RwLock::new(keys),
        };
        ring.remove_unnamed_files()?;
        if ring.read().is_empty() {
            ring.rotate(now)?;
        } else {
            ring.prune(now)?;
        }
        Ok(ring)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Loaded>> {
        self.keys.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The signer of the active key. Take a fresh one for each token: a signer whose key has
    /// been rotated out refuses to sign (so that no token outlives its key's publication).
    pub fn signer(&self) -> LocalTokenSigner {
        let keys = self.read();
        let active = keys.iter().find(|k| k.entry.deactivated_at.is_none());
        // `open` and `rotate` guarantee exactly one active key; the fallback never runs.
        let key = active.or(keys.last()).map(|k| Arc::clone(&k.key));
        LocalTokenSigner { key }
    }

    /// The active key's id.
    pub fn active_kid(&self) -> Option<String> {
        self.signer().key.map(|k| k.kid.clone())
    }

    /// Makes a new active key at `now`, deactivates the previous one (it stays published
    /// until it retires), and removes the keys retired at `now`. Returns the new signer.
    pub fn rotate(&self, now: Timestamp) -> Result<LocalTokenSigner, StoreError> {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        let signing = generate()?;
        let pem = signing
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| StoreError::Encoding {
                what: "signing key",
            })?;
        let key = Arc::new(material(signing)?);
        let file = format!("es256-{}-{}.pem", now.millis().max(0), random_hex(8)?);
        if !crate::storage::fs::create_atomic_no_clobber(&self.dir, &file, pem.as_bytes())? {
            return Err(StoreError::Conflict);
        }
        let entry = RingEntry {
            kid: key.kid.clone(),
            file,
            created_at: now,
            deactivated_at: None,
        };
        let mut next: Vec<RingEntry> = keys.iter().map(|k| k.entry.clone()).collect();
        for e in next.iter_mut().filter(|e| e.deactivated_at.is_none()) {
            e.deactivated_at = Some(now);
        }
        next.retain(|e| !self.retired(e, now));
        next.push(entry.clone());
        if let Err(e) = self.write_ring(&next) {
            let _ = std::fs::remove_file(self.dir.join(&entry.file));
            return Err(e);
        }
        for k in keys.iter_mut().filter(|k| k.entry.deactivated_at.is_none()) {
            k.entry.deactivated_at = Some(now);
            k.key.active.store(false, Ordering::SeqCst);
        }
        let (kept, retired): (Vec<_>, Vec<_>) =
            keys.drain(..).partition(|k| !self.retired(&k.entry, now));
        *keys = kept;
        keys.push(Loaded {
            entry,
            key: Arc::clone(&key),
        });
        drop(keys);
        self.remove_files(&retired)?;
        Ok(LocalTokenSigner { key: Some(key) })
    }

    /// Removes the keys retired at `now` from the ring and the disk; returns how many.
    pub fn prune(&self, now: Timestamp) -> Result<usize, StoreError> {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        if !keys.iter().any(|k| self.retired(&k.entry, now)) {
            return Ok(0);
        }
        let next: Vec<RingEntry> = keys
            .iter()
            .map(|k| k.entry.clone())
            .filter(|e| !self.retired(e, now))
            .collect();
        self.write_ring(&next)?;
        let (kept, retired): (Vec<_>, Vec<_>) =
            keys.drain(..).partition(|k| !self.retired(&k.entry, now));
        *keys = kept;
        drop(keys);
        self.remove_files(&retired)?;
        Ok(retired.len())
    }

    /// The key set to publish at `now`: the active key and the deactivated keys not yet
    /// retired, newest first.
    pub fn jwks(&self, now: Timestamp) -> Jwks {
        let keys = self.read();
        Jwks {
            keys: keys
                .iter()
                .rev()
                .filter(|k| !self.retired(&k.entry, now))
                .map(|k| k.key.jwk.clone())
                .collect(),
        }
    }

    fn retired(&self, e: &RingEntry, now: Timestamp) -> bool {
        let after = i64::try_from(self.retire_after.as_millis()).unwrap_or(i64::MAX);
        e.deactivated_at
            .is_some_and(|d| now >= d.plus_millis(after))
    }

    fn write_ring(&self, entries: &[RingEntry]) -> Result<(), StoreError> {
        let ring = RingFile {
            version: RING_VERSION,
            keys: entries.to_vec(),
        };
        let json = serde_json::to_vec_pretty(&ring)
            .map_err(|_| StoreError::Encoding { what: RING_WHAT })?;
        crate::storage::fs::write_atomic(&self.dir, RING_FILE, &json)
    }

    fn remove_files(&self, retired: &[Loaded]) -> Result<(), StoreError> {
        for k in retired {
            crate::storage::fs::remove_if_exists(&self.dir.join(&k.entry.file))?;
        }
        Ok(())
    }

    /// Removes key files (and temporary files) that the ring does not name: debris of a
    /// rotation interrupted before its ring file was written.
    fn remove_unnamed_files(&self) -> Result<(), StoreError> {
        let named: Vec<String> = self.read().iter().map(|k| k.entry.file.clone()).collect();
        let entries = std::fs::read_dir(&self.dir).map_err(StoreError::io("list signing keys"))?;
        for entry in entries {
            let entry = entry.map_err(StoreError::io("list signing keys"))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let debris = (valid_key_file_name(&name) && !named.contains(&name))
                || name.ends_with(crate::storage::fs::TEMP_SUFFIX);
            if debris {
                crate::storage::fs::remove_if_exists(&entry.path())?;
            }
        }
        Ok(())
    }
}

/// Verifies with every key in the ring (active and deactivated, until pruned). Tokens signed
/// by a retired key have expired, and `validate` refuses them anyway.
impl TokenVerifier for LocalKeyRing {
    fn verify(
        &self,
        kid: &str,
        signing_input: &[u8],
        signature: &[u8; 64],
    ) -> Result<(), TokenError> {
        let keys = self.read();
        let key = keys
            .iter()
            .find(|k| k.entry.kid == kid)
            .ok_or(TokenError::UnknownKey)?;
        verifier::verify_with(&key.key.verifying, signing_input, signature)
    }
}

/// The [`TokenSigner`] of one key of a [`LocalKeyRing`] (from [`LocalKeyRing::signer`]).
/// Signing is deterministic ECDSA (RFC 6979) over SHA-256 and needs no randomness. Once its
/// key is rotated out it refuses to sign with [`SignError::Unavailable`]: take a new signer
/// from the ring and retry. Its `Debug` shows only the key id.
#[derive(Clone)]
pub struct LocalTokenSigner {
    key: Option<Arc<KeyMaterial>>,
}

impl fmt::Debug for LocalTokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalTokenSigner({:?}, <private key>)", self.key_id())
    }
}

/// Why a signer refused.
#[derive(Debug, thiserror::Error)]
enum SignerError {
    #[error("signing key was rotated out; take the ring's new signer")]
    Rotated,
    #[error("key ring has no signing key")]
    NoKey,
    #[error("ecdsa signing failed")]
    Ecdsa,
}

impl LocalTokenSigner {
    /// Signs `input` now, blocking (ECDSA is fast: no I/O).
    pub fn sign_blocking(&self, input: &[u8]) -> Result<[u8; 64], SignError> {
        let key = self
            .key
            .as_ref()
            .ok_or_else(|| SignError::Failed(Box::new(SignerError::NoKey)))?;
        if !key.active.load(Ordering::SeqCst) {
            return Err(SignError::Unavailable(Box::new(SignerError::Rotated)));
        }
        let sig: Signature = key
            .signing
            .try_sign(input)
            .map_err(|_| SignError::Failed(Box::new(SignerError::Ecdsa)))?;
        Ok(sig.to_bytes().into())
    }

    /// The public key of this signer.
    pub fn jwk(&self) -> Option<&Jwk> {
        self.key.as_ref().map(|k| &k.jwk)
    }
}

impl TokenSigner for LocalTokenSigner {
    fn key_id(&self) -> &str {
        self.key.as_ref().map_or("", |k| k.kid.as_str())
    }

    async fn sign(&self, signing_input: &[u8]) -> Result<[u8; 64], SignError> {
        self.sign_blocking(signing_input)
    }

    async fn public_key(&self) -> Result<Jwk, SignError> {
        self.jwk()
            .cloned()
            .ok_or_else(|| SignError::Failed(Box::new(SignerError::NoKey)))
    }
}

fn generate() -> Result<SigningKey, StoreError> {
    // A uniformly random 32-byte string is a valid scalar except with probability ~2^-32.
    for _ in 0..16 {
        let mut bytes = Zeroizing::new([0u8; 32]);
        crate::storage::crypto::fill_random(&mut bytes[..])?;
        if let Ok(k) = SigningKey::from_bytes(&(*bytes).into()) {
            return Ok(k);
        }
    }
    Err(StoreError::Random)
}

fn material(signing: SigningKey) -> Result<KeyMaterial, StoreError> {
    let verifying = *signing.verifying_key();
    let point = verifying.to_encoded_point(false);
    let coord = |c: Option<&p256::FieldBytes>| -> Result<[u8; 32], StoreError> {
        c.and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .ok_or(StoreError::Malformed { what: KEY_WHAT })
    };
    let (x, y) = (coord(point.x())?, coord(point.y())?);
    let kid = Jwk::p256_thumbprint(&x, &y);
    let jwk = Jwk::p256(&kid, x, y).map_err(|_| StoreError::Malformed { what: KEY_WHAT })?;
    Ok(KeyMaterial {
        kid,
        signing,
        verifying,
        jwk,
        active: AtomicBool::new(true),
    })
}

fn valid_key_file_name(name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix("es256-")
        .and_then(|r| r.strip_suffix(".pem"))
    else {
        return false;
    };
    let Some((ms, random)) = rest.split_once('-') else {
        return false;
    };
    !ms.is_empty()
        && ms.len() <= 19
        && ms.bytes().all(|b| b.is_ascii_digit())
        && random.len() == 16
        && random
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn parse_ring(bytes: &[u8]) -> Result<Vec<RingEntry>, StoreError> {
    let malformed = StoreError::Malformed { what: RING_WHAT };
    let ring: RingFile = serde_json::from_slice(bytes).map_err(|_| malformed)?;
    let active = ring
        .keys
        .iter()
        .filter(|e| e.deactivated_at.is_none())
        .count();
    let ok = ring.version == RING_VERSION
        && active == 1
        && ring.keys.iter().all(|e| valid_key_file_name(&e.file));
    if ok {
        Ok(ring.keys)
    } else {
        Err(StoreError::Malformed { what: RING_WHAT })
    }
}

fn load_key(dir: &Path, entry: &RingEntry) -> Result<Arc<KeyMaterial>, StoreError> {
    let path = dir.join(&entry.file);
    crate::storage::fs::check_private_file(&path, KEY_WHAT)?;
    let bytes = crate::storage::fs::read_bounded(&path, MAX_KEY_FILE)
        .map_err(|_| StoreError::Malformed { what: KEY_WHAT })?
        .ok_or(StoreError::Malformed { what: KEY_WHAT })?;
    let pem = Zeroizing::new(
        String::from_utf8(bytes).map_err(|_| StoreError::Malformed { what: KEY_WHAT })?,
    );
    let signing =
        SigningKey::from_pkcs8_pem(&pem).map_err(|_| StoreError::Malformed { what: KEY_WHAT })?;
    let key = material(signing)?;
    if key.kid != entry.kid {
        return Err(StoreError::Malformed { what: KEY_WHAT });
    }
    key.active
        .store(entry.deactivated_at.is_none(), Ordering::SeqCst);
    Ok(Arc::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::test_support::block_on;
    use kyc_core::model::VerificationId;
    use kyc_core::ports::fakes::SeededRandom;
    use kyc_core::session::{
        Outcome, PolicyVersion, ReadOutcome, ScreeningOutcome, Session, Step, StepKey,
    };
    use kyc_core::token::{issue, IssuerConfig, UnverifiedToken, VerifiedIdentityClaims};

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);
    const HOUR: i64 = 3_600_000;

    fn approved_session() -> Session {
        let key = |s: &str| StepKey::parse(s).unwrap();
        let mut s = Session::start(
            VerificationId::from_random_bytes([0x21; 16]),
            key("idem"),
            T0,
            T0.plus_millis(900_000),
        );
        for step in [
            Step::ReadDocument {
                outcome: ReadOutcome::Readable,
            },
            Step::Screen {
                outcome: ScreeningOutcome::Clear,
            },
            Step::IssueChallenge { nonce: key("n") },
            Step::AcceptFrame {
                nonce: key("n"),
                frame_id: key("f"),
            },
            Step::CompleteLiveness {
                nonce: key("n"),
                passed: true,
            },
            Step::MatchFace { matched: true },
            Step::Decide {
                outcome: Outcome::Approved,
                policy_version: PolicyVersion::parse("2026-05").unwrap(),
            },
        ] {
            s.apply(step, T0).unwrap();
        }
        s
    }

    fn token(signer: &LocalTokenSigner, now: Timestamp) -> String {
        let config = IssuerConfig::new("https://kyc.example", "securetask", 3600).unwrap();
        let claims = VerifiedIdentityClaims::for_session(
            &approved_session(),
            &config,
            now,
            &SeededRandom::new(1),
        )
        .unwrap();
        block_on(issue(signer, &claims)).unwrap()
    }

    fn check(
        token: &str,
        verifier: &(impl TokenVerifier + ?Sized),
        now: Timestamp,
    ) -> Result<VerifiedIdentityClaims, TokenError> {
        UnverifiedToken::parse(token)?.verify(
            verifier,
            "https://kyc.example",
            "securetask",
            now,
            Duration::from_secs(30),
        )
    }

    /// What a relying party does: fetch the JWKS as JSON and verify with it.
    fn published(ring: &LocalKeyRing, now: Timestamp) -> JwksVerifier {
        let json = serde_json::to_string(&ring.jwks(now)).unwrap();
        JwksVerifier::new(&serde_json::from_str(&json).unwrap())
    }

    #[test]
    fn an_issued_token_verifies_with_the_published_jwk() {
        let dir = tempfile::tempdir().unwrap();
        let ring = LocalKeyRing::open(dir.path(), T0).unwrap();
        let signer = ring.signer();
        let t = token(&signer, T0);
        let claims = check(&t, &published(&ring, T0), T0).unwrap();
        assert_eq!(claims.verification_id, approved_session().verification_id());
        assert_eq!(check(&t, &ring, T0).map(|c| c.jti), Ok(claims.jti));
        let jwk = block_on(signer.public_key()).unwrap();
        assert_eq!(jwk.kid(), signer.key_id());
        assert_eq!(jwk.kid(), Jwk::p256_thumbprint(jwk.x(), jwk.y()));
        assert_eq!(ring.jwks(T0).keys, vec![jwk]);
    }

    #[test]
    fn a_changed_token_or_another_rings_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let ring = LocalKeyRing::open(dir.path(), T0).unwrap();
        let stranger = LocalKeyRing::open(other.path(), T0).unwrap();
        let t = token(&ring.signer(), T0);
        assert_eq!(
            check(&t, &stranger, T0).unwrap_err(),
            TokenError::UnknownKey
        );
        let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
        let forged = token(&stranger.signer(), T0);
        parts[2] = forged.rsplit('.').next().unwrap().to_owned();
        assert_eq!(
            check(&parts.join("."), &ring, T0).unwrap_err(),
            TokenError::BadSignature
        );
    }

    #[test]
    fn the_key_is_kept_in_an_owner_only_pkcs8_file_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let kid = LocalKeyRing::open(dir.path(), T0)
            .unwrap()
            .active_kid()
            .unwrap();
        let reopened = LocalKeyRing::open(dir.path(), T0.plus_millis(HOUR)).unwrap();
        assert_eq!(reopened.active_kid(), Some(kid));
        let pem: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "pem"))
            .collect();
        assert_eq!(pem.len(), 1);
        let text = std::fs::read_to_string(&pem[0]).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&pem[0]).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&pem[0], std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                LocalKeyRing::open(dir.path(), T0),
                Err(StoreError::InsecurePermissions { .. })
            ));
        }
    }

    #[test]
    fn rotation_keeps_old_tokens_verifiable_until_the_old_key_retires() {
        let dir = tempfile::tempdir().unwrap();
        let retire = Duration::from_secs(2 * 3600);
        let ring = LocalKeyRing::open_with(dir.path(), T0, retire).unwrap();
        let old_signer = ring.signer();
        let old_token = token(&old_signer, T0);
        let rotated_at = T0.plus_millis(HOUR / 2);
        let new_signer = ring.rotate(rotated_at).unwrap();
        assert_ne!(new_signer.key_id(), old_signer.key_id());
        assert_eq!(ring.signer().key_id(), new_signer.key_id());
        let new_token = token(&ring.signer(), rotated_at);

        // Both keys are published until the old one retires.
        let jwks = ring.jwks(rotated_at);
        assert_eq!(jwks.keys.len(), 2);
        assert_eq!(jwks.keys[0].kid(), new_signer.key_id());
        assert!(check(&old_token, &published(&ring, rotated_at), T0).is_ok());
        assert!(check(&new_token, &published(&ring, rotated_at), rotated_at).is_ok());

        // A restart keeps the rotated ring.
        let ring = LocalKeyRing::open_with(dir.path(), rotated_at, retire).unwrap();
        assert_eq!(ring.jwks(rotated_at).keys.len(), 2);
        let just_before = rotated_at.plus_millis(2 * HOUR - 1);
        assert_eq!(ring.jwks(just_before).keys.len(), 2);
        assert_eq!(ring.prune(just_before).unwrap(), 0);

        let retired_at = rotated_at.plus_millis(2 * HOUR);
        assert_eq!(ring.jwks(retired_at).keys.len(), 1);
        assert_eq!(ring.prune(retired_at).unwrap(), 1);
        assert_eq!(
            check(&old_token, &ring, T0).unwrap_err(),
            TokenError::UnknownKey
        );
        assert!(check(&new_token, &ring, rotated_at).is_ok());
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 2, "the ring file and the active key only");
    }

    #[test]
    fn a_signer_whose_key_was_rotated_out_refuses_to_sign() {
        let dir = tempfile::tempdir().unwrap();
        let ring = LocalKeyRing::open(dir.path(), T0).unwrap();
        let old = ring.signer();
        ring.rotate(T0.plus_millis(1)).unwrap();
        let err = old.sign_blocking(b"input").unwrap_err();
        assert!(matches!(err, SignError::Unavailable(_)));
        assert!(ring.signer().sign_blocking(b"input").is_ok());
    }

    #[test]
    fn a_key_file_left_by_an_interrupted_rotation_is_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let kid = LocalKeyRing::open(dir.path(), T0).unwrap().active_kid();
        let stray = dir.path().join("es256-1-0123456789abcdef.pem");
        std::fs::write(&stray, "debris").unwrap();
        std::fs::write(dir.path().join("abc.tmp"), "debris").unwrap();
        let ring = LocalKeyRing::open(dir.path(), T0).unwrap();
        assert_eq!(ring.active_kid(), kid);
        assert!(!stray.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_ring_file_that_names_another_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        LocalKeyRing::open(dir.path(), T0).unwrap();
        let path = dir.path().join(RING_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut ring: RingFile = serde_json::from_str(&text).unwrap();
        ring.keys[0].kid = "someone-else".into();
        std::fs::write(&path, serde_json::to_vec(&ring).unwrap()).unwrap();
        assert!(matches!(
            LocalKeyRing::open(dir.path(), T0),
            Err(StoreError::Malformed { .. })
        ));
        std::fs::write(&path, b"{not json").unwrap();
        assert!(matches!(
            LocalKeyRing::open(dir.path(), T0),
            Err(StoreError::Malformed { .. })
        ));
    }

    #[test]
    fn debug_output_shows_no_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let ring = LocalKeyRing::open(dir.path(), T0).unwrap();
        let signer = ring.signer();
        let dbg = format!("{signer:?} {ring:?}");
        assert!(dbg.contains(signer.key_id()));
        let pem = signer.key.as_ref().unwrap().signing.to_bytes();
        let hex: String = pem.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!dbg.contains(&hex[..16]));
    }

    proptest::proptest! {
        #[test]
        fn hostile_ring_files_and_names_never_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            name in ".{0,60}",
        ) {
            let _ = parse_ring(&bytes);
            let _ = valid_key_file_name(&name);
        }
    }

    #[test]
    fn key_file_names_are_checked() {
        assert!(valid_key_file_name(
            "es256-1779341048000-0123456789abcdef.pem"
        ));
        for bad in [
            "es256-1-0123456789abcdef.pem/../x",
            "../es256-1-0123456789abcdef.pem",
            "es256--0123456789abcdef.pem",
            "es256-1-0123456789ABCDEF.pem",
            "es256-1-0123.pem",
            "keyring.json",
        ] {
            assert!(!valid_key_file_name(bad), "{bad}");
        }
    }
}
