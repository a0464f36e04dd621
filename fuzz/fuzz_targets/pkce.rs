//! PKCE (RFC 7636): reading the challenge pair, and verification.
//!
//! Input: three lines — challenge, method, verifier (a missing line is an
//! absent parameter).
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use postern_oauth::pkce::{well_formed, CodeChallenge};
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(3, '\n');
    let (challenge, method, verifier) = (lines.next(), lines.next(), lines.next().unwrap_or(""));
    if let Ok(Some(stored)) = CodeChallenge::from_request(challenge, method) {
        assert!(well_formed(stored.as_str()));
        // A verifier matches only if its S256 is the challenge.
        if stored.verify(verifier) {
            assert_eq!(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())), stored.as_str());
        }
    }
    // And the verifier's own S256 challenge always accepts it, when well formed.
    let own = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let own = CodeChallenge::from_request(Some(&own), Some("S256")).unwrap().unwrap();
    assert_eq!(own.verify(verifier), well_formed(verifier));
});
