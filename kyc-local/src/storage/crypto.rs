//! Encryption at rest: the [`MasterKey`] kept in an owner-only file, and the envelope format
//! that seals each object (and each stored personal record) under its own random data key.
//!
//! # Envelope format, version 1
//!
//! ```text
//! offset  size  field
//!      0     4  magic "KYCE"
//!      4     1  format version (1)
//!      5     8  master key id (first 8 bytes of SHA-256("kyc-local/master-key-id" || key))
//!     13    12  nonce of the key wrap
//!     25    48  data key wrapped with AES-256-GCM under the master key (32 bytes + 16-byte tag)
//!     73    12  nonce of the data
//!     85     …  data encrypted with AES-256-GCM under the data key, followed by its 16-byte tag
//! ```
//!
//! Both encryptions authenticate, as associated data, the header bytes before their own
//! output followed by the caller's *context*: for an object its full [`ObjectKey`] path, for a
//! personal record the table and verification it belongs to. A ciphertext moved to another
//! key or row, a changed header byte, a wrapped key from another envelope or a different
//! master key all fail authentication, which the stores report as
//! [`PortError::Integrity`](kyc_core::ports::PortError::Integrity).
//!
//! A fresh data key per envelope means a nonce is never reused under one key however many
//! objects are written; the wrap nonces under the master key are random (96 bits), which is
//! safe for far more envelopes than one machine writes.
//!
//! [`ObjectKey`]: kyc_core::ports::ObjectKey

use std::fmt;
use std::path::Path;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use kyc_core::ports::RandomSource;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::{fs as sfs, StoreError};

const MAGIC: &[u8; 4] = b"KYCE";
const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const WRAPPED_LEN: usize = 32 + TAG_LEN;
const WRAP_NONCE_AT: usize = 5 + KEY_ID_LEN;
const WRAPPED_AT: usize = WRAP_NONCE_AT + NONCE_LEN;
const DATA_NONCE_AT: usize = WRAPPED_AT + WRAPPED_LEN;
/// The length of an envelope's header (everything before the encrypted data).
pub const HEADER_LEN: usize = DATA_NONCE_AT + NONCE_LEN;
/// How many bytes an envelope adds to its plaintext.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

const KEY_FILE_MAGIC: &[u8; 8] = b"KYCMKEY1";
const KEY_FILE_LEN: usize = KEY_FILE_MAGIC.len() + 32;

/// Fills `buf` from the operating system's generator.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), StoreError> {
    getrandom::fill(buf).map_err(|_| StoreError::Random)
}

/// `n` random bytes as lowercase hex (file names, identifiers).
pub(crate) fn random_hex(n: usize) -> Result<String, StoreError> {
    let mut b = vec![0u8; n];
    fill_random(&mut b)?;
    Ok(hex_lower(&b))
}

fn hex_lower(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(DIGITS[usize::from(x >> 4)]));
        s.push(char::from(DIGITS[usize::from(x & 0xf)]));
    }
    s
}

/// The operating system's random generator as a [`RandomSource`] (challenge nonces, token ids,
/// audit salts). Per the port's contract it aborts the process if the generator fails, rather
/// than return predictable bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&self, buf: &mut [u8]) {
        if fill_random(buf).is_err() {
            std::process::abort();
        }
    }
}

/// The key that wraps every data key. It lives in an owner-only file (`0600`) in the data
/// directory, is created on first use, and is refused if group or others can access the file.
/// Its `Debug` shows only its id.
#[derive(Clone)]
pub struct MasterKey {
    key: Zeroizing<[u8; 32]>,
    id: [u8; KEY_ID_LEN],
}

impl MasterKey {
    /// Loads the key from `path`, creating it (32 random bytes behind a format tag, mode
    /// `0600`, written atomically) if the file does not exist.
    ///
    /// Errors: [`StoreError::InsecurePermissions`] if group or others can access the file,
    /// [`StoreError::Malformed`] if it is not a key file, [`StoreError::Io`] otherwise.
    pub fn load_or_create(path: &Path) -> Result<Self, StoreError> {
        const WHAT: &str = "master key file";
        let dir = path.parent().ok_or(StoreError::Invalid {
            what: "master key path",
        })?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or(StoreError::Invalid {
                what: "master key path",
            })?;
        if !path.exists() {
            sfs::ensure_private_dir(dir)?;
            let mut bytes = Zeroizing::new([0u8; KEY_FILE_LEN]);
            bytes[..KEY_FILE_MAGIC.len()].copy_from_slice(KEY_FILE_MAGIC);
            fill_random(&mut bytes[KEY_FILE_MAGIC.len()..])?;
            // A concurrent creator may win; then its key is the one read below.
            sfs::create_atomic_no_clobber(dir, name, &bytes[..])?;
        }
        sfs::check_private_file(path, WHAT)?;
        let bytes = Zeroizing::new(
            sfs::read_bounded(path, KEY_FILE_LEN as u64)
                .map_err(|_| StoreError::Malformed { what: WHAT })?
                .ok_or(StoreError::Malformed { what: WHAT })?,
        );
        if bytes.len() != KEY_FILE_LEN || !bytes.starts_with(KEY_FILE_MAGIC) {
            return Err(StoreError::Malformed { what: WHAT });
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&bytes[KEY_FILE_MAGIC.len()..]);
        Ok(Self::from_zeroizing(key))
    }

    /// A key from raw bytes (tests, or a key kept elsewhere).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self::from_zeroizing(Zeroizing::new(bytes))
    }

    fn from_zeroizing(key: Zeroizing<[u8; 32]>) -> Self {
        let digest = Sha256::new()
            .chain_update(b"kyc-local/master-key-id")
            .chain_update(&key[..])
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Self { key, id }
    }

    /// The key's public identifier (stored in every envelope, so that a future rotation can
    /// tell which master key sealed it).
    pub fn id(&self) -> String {
        hex_lower(&self.id)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.key).into())
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(id {}, <secret>)", self.id())
    }
}

/// Seals `plaintext` in a version-1 envelope under a fresh data key wrapped by `master`,
/// binding `context` (see the module docs).
pub fn seal(master: &MasterKey, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut data_key = Zeroizing::new([0u8; 32]);
    fill_random(&mut data_key[..])?;
    let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&master.id);
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    out.extend_from_slice(&nonce);
    let aad = [&out[..WRAP_NONCE_AT], context].concat();
    let wrapped = master
        .cipher()
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &data_key[..],
                aad: &aad,
            },
        )
        .map_err(|_| StoreError::Encoding { what: "data key" })?;
    out.extend_from_slice(&wrapped);
    fill_random(&mut nonce)?;
    out.extend_from_slice(&nonce);
    let aad = [&out[..HEADER_LEN], context].concat();
    let sealed = Aes256Gcm::new((&*data_key).into())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| StoreError::Encoding { what: "data" })?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens an envelope made by [`seal`] with the same `master` and `context`. Any other input
/// (truncated, unknown version, another master key, a changed byte, another context) gives
/// [`StoreError::Integrity`].
pub fn open(master: &MasterKey, context: &[u8], envelope: &[u8]) -> Result<Vec<u8>, StoreError> {
    let header = envelope.get(..HEADER_LEN).ok_or(StoreError::Integrity)?;
    if envelope.len() < OVERHEAD
        || header.get(..4) != Some(&MAGIC[..])
        || header.get(4) != Some(&VERSION)
        || header.get(5..WRAP_NONCE_AT) != Some(&master.id[..])
    {
        return Err(StoreError::Integrity);
    }
    let wrap_nonce = header
        .get(WRAP_NONCE_AT..WRAPPED_AT)
        .ok_or(StoreError::Integrity)?;
    let wrapped = header
        .get(WRAPPED_AT..DATA_NONCE_AT)
        .ok_or(StoreError::Integrity)?;
    let data_nonce = header
        .get(DATA_NONCE_AT..HEADER_LEN)
        .ok_or(StoreError::Integrity)?;
    let aad = [header.get(..WRAP_NONCE_AT).unwrap_or_default(), context].concat();
    let data_key = Zeroizing::new(
        master
            .cipher()
            .decrypt(
                Nonce::from_slice(wrap_nonce),
                Payload {
                    msg: wrapped,
                    aad: &aad,
                },
            )
            .map_err(|_| StoreError::Integrity)?,
    );
    let cipher = Aes256Gcm::new_from_slice(&data_key).map_err(|_| StoreError::Integrity)?;
    let aad = [header, context].concat();
    cipher
        .decrypt(
            Nonce::from_slice(data_nonce),
            Payload {
                msg: envelope.get(HEADER_LEN..).unwrap_or_default(),
                aad: &aad,
            },
        )
        .map_err(|_| StoreError::Integrity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(b: u8) -> MasterKey {
        MasterKey::from_bytes([b; 32])
    }

    #[test]
    fn a_sealed_envelope_opens_with_the_same_key_and_context_only() {
        let sealed = seal(&key(1), b"ctx-a", b"secret bytes").unwrap();
        assert_eq!(sealed.len(), b"secret bytes".len() + OVERHEAD);
        assert_eq!(open(&key(1), b"ctx-a", &sealed).unwrap(), b"secret bytes");
        assert!(matches!(
            open(&key(1), b"ctx-b", &sealed),
            Err(StoreError::Integrity)
        ));
        assert!(matches!(
            open(&key(2), b"ctx-a", &sealed),
            Err(StoreError::Integrity)
        ));
    }

    #[test]
    fn two_seals_of_the_same_data_differ() {
        let a = seal(&key(1), b"c", b"same").unwrap();
        let b = seal(&key(1), b"c", b"same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn a_wrapped_key_cannot_be_moved_to_another_envelope() {
        let a = seal(&key(1), b"c", b"first").unwrap();
        let mut b = seal(&key(1), b"c", b"second").unwrap();
        b[WRAP_NONCE_AT..DATA_NONCE_AT].copy_from_slice(&a[WRAP_NONCE_AT..DATA_NONCE_AT]);
        assert!(matches!(
            open(&key(1), b"c", &b),
            Err(StoreError::Integrity)
        ));
    }

    #[test]
    fn the_master_key_file_is_created_once_owner_only_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("master.key");
        let k1 = MasterKey::load_or_create(&path).unwrap();
        let k2 = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(k1.id(), k2.id());
        let sealed = seal(&k1, b"c", b"x").unwrap();
        assert_eq!(open(&k2, b"c", &sealed).unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_master_key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        MasterKey::load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKey::load_or_create(&path).unwrap_err();
        assert!(matches!(err, StoreError::InsecurePermissions { .. }));
        assert!(err.to_string().contains("chmod 600"));
    }

    #[test]
    fn a_file_that_is_not_a_master_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        sfs::create_atomic_no_clobber(dir.path(), "master.key", b"not a key").unwrap();
        assert!(matches!(
            MasterKey::load_or_create(&path),
            Err(StoreError::Malformed { .. })
        ));
    }

    #[test]
    fn the_debug_form_shows_no_key_material() {
        let k = key(0xAB);
        let dbg = format!("{k:?}");
        assert!(dbg.contains(&k.id()));
        assert!(!dbg.to_lowercase().contains("abab"));
    }

    proptest! {
        #[test]
        fn hostile_envelopes_never_open_and_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..200)
        ) {
            prop_assert!(open(&key(1), b"c", &bytes).is_err());
        }

        #[test]
        fn any_single_changed_byte_is_detected(
            data in proptest::collection::vec(any::<u8>(), 0..64),
            pos in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let mut sealed = seal(&key(7), b"ctx", &data).unwrap();
            let i = pos.index(sealed.len());
            sealed[i] ^= flip;
            prop_assert!(matches!(open(&key(7), b"ctx", &sealed), Err(StoreError::Integrity)));
        }
    }
}
