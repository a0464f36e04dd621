//! Server-generated identifiers and secrets, from the OS's CSPRNG.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// `bytes` random bytes as URL-safe base64 without padding.
pub fn token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A client ID: 32 URL-safe characters (docs/architecture.md#applications).
pub fn client_id() -> String {
    token(24)
}

/// A client secret: 256 bits, 43 URL-safe characters (RFC 6749 §10.10;
/// docs/architecture.md#applications).
pub fn client_secret() -> String {
    token(32)
}

/// A password for a generated account: 18 bytes, 24 URL-safe characters.
pub fn password() -> String {
    token(18)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lengths_match_the_spec() {
        assert_eq!(super::client_id().len(), 32);
        assert_eq!(super::client_secret().len(), 43);
        assert_ne!(super::client_secret(), super::client_secret());
        assert!(super::client_id().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
