//! Secrets at rest and the hashing of bearer secrets.
//!
//! Secrets that must be read back (signing keys, client secrets, stored app
//! passwords, SCIM tokens) are sealed with envelope encryption: each record
//! gets its own AES-256-GCM data key, and that data key is wrapped by the
//! master key (the key-encryption key). Rotating the master key only re-wraps
//! data keys. Secrets that need only be recognised (API tokens, session
//! cookies, one-time tokens) are stored as SHA-256 digests: they are 256-bit
//! random values, so a fast hash is enough and a lookup by digest is cheap.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The key-encryption key. Never printed.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| "is not valid base64".to_owned())?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| "must decode to exactly 32 bytes".to_owned())?;
        Ok(Self(key))
    }

    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Self(key)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// A short fingerprint that identifies the key without revealing it.
    pub fn fingerprint(&self) -> String {
        hex::encode(&Sha256::digest([b"vestibule-master-key-id:".as_slice(), &self.0].concat())[..8])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The sealed text is not in our format.
    #[error("sealed value is malformed")]
    Malformed,
    /// The master key or the ciphertext is wrong.
    #[error("sealed value does not open with this master key")]
    WrongKey,
}

const SEAL_VERSION: &str = "v1";

/// Seals and opens secrets at rest under the master key.
///
/// During a master-key rotation the vault also holds the other key of the
/// pair (`VESTIBULE_MASTER_KEY_PREVIOUS`): it opens records wrapped by either
/// key and always seals with the master key, so nodes restarted one by one
/// keep reading what the others wrote.
#[derive(Clone, Debug)]
pub struct Vault {
    master: MasterKey,
    previous: Option<MasterKey>,
}

/// What [`Vault::rewrap`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Rewrapped {
    /// The record was already wrapped by the master key.
    Current,
    /// The record was wrapped by the previous key: here it is, wrapped by the master key.
    Rewrapped(String),
}

impl Vault {
    pub fn new(master: MasterKey) -> Self {
        Self { master, previous: None }
    }

    /// A vault that seals with `master` and also opens what `previous` wrapped.
    pub fn with_previous(master: MasterKey, previous: Option<MasterKey>) -> Self {
        Self { master, previous }
    }

    pub fn master_fingerprint(&self) -> String {
        self.master.fingerprint()
    }

    pub fn previous_fingerprint(&self) -> Option<String> {
        self.previous.as_ref().map(MasterKey::fingerprint)
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. the record's table and id),
    /// so a sealed value copied to another record does not open there.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let mut data_key = [0u8; 32];
        let mut nonce = [0u8; 12];
        let mut wrap_nonce = [0u8; 12];
        let mut rng = rand::thread_rng();
        rng.fill_bytes(&mut data_key);
        rng.fill_bytes(&mut nonce);
        rng.fill_bytes(&mut wrap_nonce);
        let body = Aes256Gcm::new((&data_key).into())
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let wrapped = self.wrap(&wrap_nonce, &data_key, context);
        [
            SEAL_VERSION.to_owned(),
            URL_SAFE_NO_PAD.encode(wrap_nonce),
            URL_SAFE_NO_PAD.encode(wrapped),
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(body),
        ]
        .join(".")
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let envelope = Envelope::parse(sealed)?;
        let (data_key, _) = self.unwrap(context, &envelope)?;
        Aes256Gcm::new_from_slice(&data_key)
            .expect("32-byte key")
            .decrypt(Nonce::from_slice(&envelope.nonce), Payload { msg: &envelope.body, aad: context.as_bytes() })
            .map_err(|_| SealError::WrongKey)
    }

    /// Re-wraps a record's data key under the master key, leaving its
    /// ciphertext as it is. The body is opened once to prove the record is
    /// whole before anything is written back.
    pub fn rewrap(&self, context: &str, sealed: &str) -> Result<Rewrapped, SealError> {
        let envelope = Envelope::parse(sealed)?;
        let (data_key, by_master) = self.unwrap(context, &envelope)?;
        Aes256Gcm::new_from_slice(&data_key)
            .expect("32-byte key")
            .decrypt(Nonce::from_slice(&envelope.nonce), Payload { msg: &envelope.body, aad: context.as_bytes() })
            .map_err(|_| SealError::WrongKey)?;
        if by_master {
            return Ok(Rewrapped::Current);
        }
        let key: [u8; 32] = data_key.try_into().map_err(|_| SealError::Malformed)?;
        let mut wrap_nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut wrap_nonce);
        let wrapped = self.wrap(&wrap_nonce, &key, context);
        Ok(Rewrapped::Rewrapped(
            [
                SEAL_VERSION.to_owned(),
                URL_SAFE_NO_PAD.encode(wrap_nonce),
                URL_SAFE_NO_PAD.encode(wrapped),
                URL_SAFE_NO_PAD.encode(&envelope.nonce),
                URL_SAFE_NO_PAD.encode(&envelope.body),
            ]
            .join("."),
        ))
    }

    /// The record's data key, and whether the master key (rather than the
    /// previous one) wrapped it.
    fn unwrap(&self, context: &str, envelope: &Envelope) -> Result<(Vec<u8>, bool), SealError> {
        let attempt = |key: &MasterKey| {
            Aes256Gcm::new((&key.0).into())
                .decrypt(Nonce::from_slice(&envelope.wrap_nonce), Payload { msg: &envelope.wrapped, aad: context.as_bytes() })
                .ok()
        };
        let (data_key, by_master) = match attempt(&self.master) {
            Some(k) => (k, true),
            None => (self.previous.as_ref().and_then(attempt).ok_or(SealError::WrongKey)?, false),
        };
        if data_key.len() != 32 {
            return Err(SealError::Malformed);
        }
        Ok((data_key, by_master))
    }

    fn wrap(&self, nonce: &[u8; 12], data_key: &[u8; 32], context: &str) -> Vec<u8> {
        Aes256Gcm::new((&self.master.0).into())
            .encrypt(Nonce::from_slice(nonce), Payload { msg: data_key, aad: context.as_bytes() })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail")
    }
}

/// A sealed value's parts: `v1.<wrap nonce>.<wrapped data key>.<nonce>.<body>`.
struct Envelope {
    wrap_nonce: Vec<u8>,
    wrapped: Vec<u8>,
    nonce: Vec<u8>,
    body: Vec<u8>,
}

impl Envelope {
    fn parse(sealed: &str) -> Result<Self, SealError> {
        let parts: Vec<&str> = sealed.split('.').collect();
        let [version, wrap_nonce, wrapped, nonce, body] = parts.as_slice() else {
            return Err(SealError::Malformed);
        };
        if *version != SEAL_VERSION {
            return Err(SealError::Malformed);
        }
        let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|_| SealError::Malformed);
        let envelope = Self { wrap_nonce: decode(wrap_nonce)?, wrapped: decode(wrapped)?, nonce: decode(nonce)?, body: decode(body)? };
        if envelope.wrap_nonce.len() != 12 || envelope.nonce.len() != 12 {
            return Err(SealError::Malformed);
        }
        Ok(envelope)
    }
}

/// Hex SHA-256 of a bearer secret, the form in which it is stored and looked up.
pub fn digest_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random bearer secret: 32 bytes, URL-safe base64.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let vault = Vault::new(MasterKey::generate());
        let sealed = vault.seal("apps/0oa1/secret", b"s3cr3t");
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(vault.open("apps/0oa1/secret", &sealed).unwrap(), b"s3cr3t");
        assert!(matches!(vault.open("apps/0oa2/secret", &sealed), Err(SealError::WrongKey)));
        let other = Vault::new(MasterKey::generate());
        assert!(matches!(other.open("apps/0oa1/secret", &sealed), Err(SealError::WrongKey)));
        assert!(matches!(vault.open("x", "v1.a.b"), Err(SealError::Malformed)));
        assert!(matches!(vault.open("x", "v1.!.!.!.!"), Err(SealError::Malformed)));
    }

    #[test]
    fn a_rotating_vault_opens_both_keys_and_rewraps_only_the_data_key() {
        let (old, new) = (MasterKey::generate(), MasterKey::generate());
        let sealed_old = Vault::new(old.clone()).seal("ctx", b"payload");
        let rotating = Vault::with_previous(new.clone(), Some(old.clone()));
        assert_eq!(rotating.open("ctx", &sealed_old).unwrap(), b"payload");
        let Rewrapped::Rewrapped(moved) = rotating.rewrap("ctx", &sealed_old).unwrap() else { panic!("old record not rewrapped") };
        // Same ciphertext, new wrapping.
        assert_eq!(moved.rsplitn(3, '.').take(2).collect::<Vec<_>>(), sealed_old.rsplitn(3, '.').take(2).collect::<Vec<_>>());
        assert_ne!(moved, sealed_old);
        assert_eq!(Vault::new(new.clone()).open("ctx", &moved).unwrap(), b"payload");
        assert!(matches!(Vault::new(old.clone()).open("ctx", &moved), Err(SealError::WrongKey)));
        assert_eq!(rotating.rewrap("ctx", &moved).unwrap(), Rewrapped::Current);
        // Bound to its context, and a stranger's key opens nothing.
        assert!(matches!(rotating.rewrap("other", &sealed_old), Err(SealError::WrongKey)));
        let stranger = Vault::new(MasterKey::generate()).seal("ctx", b"x");
        assert!(matches!(rotating.rewrap("ctx", &stranger), Err(SealError::WrongKey)));
        // New records are sealed by the master key only.
        assert!(matches!(Vault::new(old).open("ctx", &rotating.seal("ctx", b"y")), Err(SealError::WrongKey)));
    }

    #[test]
    fn master_keys_round_trip_and_never_print() {
        let key = MasterKey::generate();
        let again = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(key.fingerprint(), again.fingerprint());
        assert_eq!(format!("{key:?}"), "MasterKey([redacted])");
        assert!(MasterKey::from_base64("AAAA").is_err());
    }
}
