//! Server-generated identifiers and secrets, from the OS's CSPRNG.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use std::fmt::Write;

/// `bytes` random bytes as URL-safe base64 without padding.
pub fn token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// An access token's identifier (`jti`, RFC 7519 §4.1.7): a UUID of
/// version 7 (RFC 9562 §5.7), 48 bits of Unix milliseconds, then 74 random
/// bits. As unique as a random one, and ordered by time: the tokens that
/// one commit records sit side by side in `oauth_access_tokens`' key and
/// by-application index, a page or two for a whole batch, where random
/// identifiers dirtied a page of each B-tree per token
/// (docs/architecture.md#the-write-ahead-log).
pub fn token_id() -> String {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes[6..]);
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    // 8-4-4-4-12 hexadecimal digits, written straight into one string.
    let mut id = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        let _ = write!(id, "{byte:02x}");
    }
    id
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

    #[test]
    fn token_ids_are_version_7_uuids_that_sort_by_time() {
        let first = super::token_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let ids: Vec<String> = (0..1000).map(|_| super::token_id()).collect();
        for id in &ids {
            let groups: Vec<&str> = id.split('-').collect();
            assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{id}");
            assert!(id.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-'), "{id}");
            assert!(groups[2].starts_with('7'), "version 7: {id}");
            assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"), "RFC 9562 variant: {id}");
            assert!(id.as_str() > first.as_str(), "{id} was made after {first}");
        }
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "no identifier repeats");
        // The first 48 bits are the time in milliseconds.
        let millis = u64::from_str_radix(&ids[0].replace('-', "")[..12], 16).unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        assert!(now - millis < 60_000, "{millis} is not about now ({now})");
    }
}
