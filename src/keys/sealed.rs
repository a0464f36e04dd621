//! Private signing keys sealed for the database (docs/architecture.md#signing-keys).
//!
//! On PostgreSQL the signing keys live in the database, so that every
//! instance signs with the same key and a rotation reaches all of them. The
//! private key is sealed with a secret the database never sees
//! (`POSTERN_KEY_SECRET`): a copy of the database alone signs nothing.
//!
//! Format, version 1: `b"PK1" || salt (16) || nonce (12) || AES-256-GCM
//! ciphertext and tag`. The AES key is Argon2id(secret, salt) — the secret
//! may be a passphrase — and the `kid` is the associated data, so a sealed
//! key moved to another row does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use std::fmt;

const MAGIC: &[u8; 3] = b"PK1";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;

/// The shortest secret accepted: 16 characters still leave a passphrase
/// guessable, but Argon2id makes each guess cost; generate one with
/// `openssl rand -base64 32`.
pub const MIN_SECRET_LEN: usize = 16;

/// The key-encryption secret. Never printed: `Debug` says only its length.
#[derive(Clone)]
pub struct KeySecret(String);

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeySecret({} characters)", self.0.chars().count())
    }
}

/// Why a secret or a sealed key was refused. The messages name what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the key secret is {0} characters long; it must have at least {MIN_SECRET_LEN} (make one with `openssl rand -base64 32`)")]
    TooShort(usize),
    #[error("the signing key {kid} does not open with this POSTERN_KEY_SECRET: it was sealed with another secret (restore the secret it was made with, or `postern keys generate --force` to replace every key)")]
    WrongSecret { kid: String },
    #[error("the signing key {kid} is not sealed in a format this version of Postern reads")]
    Format { kid: String },
    #[error("sealing the key failed: {0}")]
    Crypto(String),
}

impl KeySecret {
    /// A secret as configured; surrounding whitespace (a file's final
    /// newline) is not part of it.
    pub fn new(secret: &str) -> Result<Self, SealError> {
        let secret = secret.trim();
        let len = secret.chars().count();
        if len < MIN_SECRET_LEN {
            return Err(SealError::TooShort(len));
        }
        Ok(Self(secret.to_owned()))
    }

    fn cipher(&self, salt: &[u8]) -> Result<Aes256Gcm, SealError> {
        let mut key = [0u8; 32];
        argon2::Argon2::default()
            .hash_password_into(self.0.as_bytes(), salt, &mut key)
            .map_err(|e| SealError::Crypto(e.to_string()))?;
        Aes256Gcm::new_from_slice(&key).map_err(|e| SealError::Crypto(e.to_string()))
    }

    /// Seals `private_pem` for the row of `kid`.
    pub fn seal(&self, kid: &str, private_pem: &str) -> Result<Vec<u8>, SealError> {
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher(&salt)?
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: private_pem.as_bytes(), aad: kid.as_bytes() })
            .map_err(|e| SealError::Crypto(e.to_string()))?;
        Ok([&MAGIC[..], &salt, &nonce, &ciphertext].concat())
    }

    /// Opens what [`KeySecret::seal`] made for `kid`.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<String, SealError> {
        let format = || SealError::Format { kid: kid.to_owned() };
        let rest = sealed.strip_prefix(&MAGIC[..]).ok_or_else(format)?;
        if rest.len() < SALT_LEN + NONCE_LEN + 16 {
            return Err(format());
        }
        let (salt, rest) = rest.split_at(SALT_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let plain = self
            .cipher(salt)?
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: kid.as_bytes() })
            .map_err(|_| SealError::WrongSecret { kid: kid.to_owned() })?;
        String::from_utf8(plain).map_err(|_| format())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n";

    #[test]
    fn a_sealed_key_opens_with_its_secret_and_kid_only() {
        let secret = KeySecret::new("correct horse battery staple").unwrap();
        let sealed = secret.seal("kid-1", PEM).unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"not a re"), "the PEM is not in the clear");
        assert_eq!(secret.open("kid-1", &sealed).unwrap(), PEM);

        let other = KeySecret::new("another secret of some length").unwrap();
        assert_eq!(other.open("kid-1", &sealed), Err(SealError::WrongSecret { kid: "kid-1".into() }));
        // Moved to another row: the kid is authenticated too.
        assert_eq!(secret.open("kid-2", &sealed), Err(SealError::WrongSecret { kid: "kid-2".into() }));
        // Each seal is fresh (salt and nonce), so equal keys do not look equal.
        assert_ne!(secret.seal("kid-1", PEM).unwrap(), sealed);
    }

    #[test]
    fn damaged_or_foreign_bytes_are_a_format_error_not_a_panic() {
        let secret = KeySecret::new("correct horse battery staple").unwrap();
        for bytes in [&b""[..], b"PK1", b"PK2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &[0u8; 64]] {
            assert_eq!(secret.open("k", bytes), Err(SealError::Format { kid: "k".into() }));
        }
        let mut sealed = secret.seal("k", PEM).unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(secret.open("k", &sealed), Err(SealError::WrongSecret { kid: "k".into() }));
    }

    #[test]
    fn short_secrets_are_refused_and_debug_never_shows_the_secret() {
        assert_eq!(KeySecret::new("  short\n").unwrap_err(), SealError::TooShort(5));
        let secret = KeySecret::new("correct horse battery staple\n").unwrap();
        let shown = format!("{secret:?}");
        assert!(!shown.contains("horse") && shown.contains("28 characters"), "{shown}");
    }
}
