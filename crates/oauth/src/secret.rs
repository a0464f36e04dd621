//! Client secrets and other server-generated bearer secrets: how they are
//! held in memory, hashed for storage and compared.
//!
//! Client secrets carry ≥ 256 bits of randomness, so a single SHA-256 is
//! enough to make a stolen hash useless, and it keeps the token endpoint fast
//! (a password hash such as argon2 would cap its throughput; see
//! docs/architecture.md#applications).

use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// A client secret as presented by a client. Never logged, never serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The clear text, for the one time it is shown to the owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value stored in the database (SHA-256 of the secret).
    pub fn hash(&self) -> [u8; 32] {
        hash_secret(&self.0)
    }

    /// Compares with a stored hash in constant time.
    pub fn matches(&self, stored_hash: &[u8]) -> bool {
        let presented = self.hash();
        // `ct_eq` on slices of different lengths is false, also in constant time.
        presented.as_slice().ct_eq(stored_hash).into()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// SHA-256 of a server-generated secret (client secret, session token, code).
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_same_secret() {
        let secret = ClientSecret::new("s3cr3t-with-enough-entropy");
        let stored = secret.hash();
        assert!(secret.matches(&stored));
        assert!(!ClientSecret::new("s3cr3t-with-enough-entropX").matches(&stored));
        assert!(!secret.matches(&stored[..31]), "a truncated hash never matches");
        assert!(!secret.matches(&[]));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let shown = format!("{:?}", ClientSecret::new("do-not-print-me"));
        assert!(!shown.contains("do-not-print-me"));
    }

    #[test]
    fn hash_is_sha256() {
        // FIPS 180-2 test vector for "abc".
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let got: String = hash_secret("abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, expected);
    }
}
