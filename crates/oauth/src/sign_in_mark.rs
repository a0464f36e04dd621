//! The `signed_in_after` mark: how an authorization request that asked for a
//! new sign-in (OpenID Connect Core §3.1.2.1 `prompt=login`,
//! `prompt=select_account`, `max_age`) remembers, across the login page,
//! when it asked.
//!
//! The login page sends the person back to the authorization endpoint with
//! the request minus `prompt=login`, plus this mark; a session begun at or
//! after the mark's time then satisfies the request. Whoever holds the
//! browser could otherwise write the mark themselves: the time a session
//! began is public (the ID token's `auth_time`), so a made-up mark equal to
//! it would pass for a new sign-in. The mark therefore carries an
//! HMAC-SHA-256 (RFC 2104) under a key only the server knows, over the time,
//! the side and the client it was given for: `<time>.<base64url mac>`.

use crate::Side;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use std::fmt;

/// Seconds a mark stands: long enough to sign in, short enough that a mark
/// found in the browser's history is soon worth nothing.
pub const LIFETIME: i64 = 600;

/// The secret the marks are sealed with. Every instance serving the same
/// keys derives the same one (see [`crate::jwt::SigningKey::mark_key`]), so a
/// mark given by one instance is honoured by another.
#[derive(Clone)]
pub struct MarkKey([u8; 32]);

impl fmt::Debug for MarkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MarkKey(..)")
    }
}

impl MarkKey {
    pub fn new(secret: [u8; 32]) -> Self {
        Self(secret)
    }

    fn mac(&self, side: Side, client_id: &str, after: i64) -> Option<Vec<u8>> {
        let key = PKey::hmac(&self.0).ok()?;
        let mut signer = Signer::new(MessageDigest::sha256(), &key).ok()?;
        // Each value preceded by its length: no two inputs read the same.
        let mut message = Vec::with_capacity(64 + client_id.len());
        message.extend_from_slice(b"postern signed_in_after v1");
        for part in [side.as_str(), client_id, &after.to_string()] {
            message.extend_from_slice(&(part.len() as u64).to_be_bytes());
            message.extend_from_slice(part.as_bytes());
        }
        signer.sign_oneshot_to_vec(&message).ok()
    }

    /// The mark for a request of `client_id` on `side` asking, at `after`,
    /// for a sign-in. `None` only if OpenSSL cannot compute an HMAC.
    pub fn seal(&self, side: Side, client_id: &str, after: i64) -> Option<String> {
        let mac = self.mac(side, client_id, after)?;
        Some(format!("{after}.{}", URL_SAFE_NO_PAD.encode(mac)))
    }

    /// The time a mark stands for, if this key sealed it for this side and
    /// client and it is at most [`LIFETIME`] seconds old at `now`.
    pub fn open(&self, side: Side, client_id: &str, mark: &str, now: i64) -> Option<i64> {
        let (time, mac) = mark.split_once('.')?;
        // Digits only: "+5" or "05" would read as a number but not as the sealed text.
        if time.is_empty() || time.len() > 19 || !time.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let after: i64 = time.parse().ok()?;
        if after.to_string() != time || after > now || now - after > LIFETIME {
            return None;
        }
        let presented = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let expected = self.mac(side, client_id, after)?;
        (presented.len() == expected.len() && openssl::memcmp::eq(&presented, &expected)).then_some(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_sealed_mark_opens_for_its_side_and_client_only() {
        let key = MarkKey::new([7; 32]);
        let mark = key.seal(Side::BackOffice, "client-a", NOW).unwrap();
        assert!(mark.starts_with(&format!("{NOW}.")), "{mark}");
        assert_eq!(key.open(Side::BackOffice, "client-a", &mark, NOW + 30), Some(NOW));
        assert_eq!(key.open(Side::Storefront, "client-a", &mark, NOW + 30), None, "another side");
        assert_eq!(key.open(Side::BackOffice, "client-b", &mark, NOW + 30), None, "another client");
        assert_eq!(MarkKey::new([8; 32]).open(Side::BackOffice, "client-a", &mark, NOW), None, "another key");
    }

    #[test]
    fn a_made_up_or_altered_mark_is_refused() {
        let key = MarkKey::new([7; 32]);
        let mark = key.seal(Side::BackOffice, "c", NOW).unwrap();
        let (_, mac) = mark.split_once('.').unwrap();
        for forged in [
            NOW.to_string(),
            format!("{}.{mac}", NOW - 60),
            format!("0{NOW}.{mac}"),
            format!("+{NOW}.{mac}"),
            format!("{NOW}.{}", &mac[1..]),
            format!("{NOW}."),
            format!("{NOW}.{mac}A"),
            String::new(),
            ".".into(),
        ] {
            assert_eq!(key.open(Side::BackOffice, "c", &forged, NOW + 1), None, "{forged:?}");
        }
    }

    #[test]
    fn a_mark_stands_for_its_lifetime_and_never_from_the_future() {
        let key = MarkKey::new([7; 32]);
        let mark = key.seal(Side::Storefront, "c", NOW).unwrap();
        assert_eq!(key.open(Side::Storefront, "c", &mark, NOW + LIFETIME), Some(NOW));
        assert_eq!(key.open(Side::Storefront, "c", &mark, NOW + LIFETIME + 1), None, "too old");
        assert_eq!(key.open(Side::Storefront, "c", &mark, NOW - 1), None, "sealed in the future");
    }
}
