//! Access-token verification (RFC 9068 §4): arbitrary text as a token, and
//! a genuine token with bytes flipped — which must never verify unless it
//! is byte for byte the genuine one.
//!
//! Input: byte 0 even → the rest is the token; odd → the rest is XORed
//! into a token signed with the fixture key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_oauth::jwt::{verify, AccessTokenClaims, Expectations, SigningKey};
use postern_oauth::Side;
use std::sync::OnceLock;

const NOW: i64 = 1_800_000_000;

fn key() -> &'static (SigningKey, String) {
    static KEY: OnceLock<(SigningKey, String)> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = SigningKey::from_pem(include_str!("../fixtures/private.pem"), include_str!("../fixtures/public.pem"))
            .expect("the fixture key pair loads");
        let claims = AccessTokenClaims {
            iss: "http://localhost/admin".into(),
            sub: "1".into(),
            aud: "http://localhost/api".into(),
            client_id: "client".into(),
            scope: "users:read".into(),
            jti: "jti".into(),
            iat: NOW,
            nbf: NOW,
            exp: NOW + 3600,
        };
        let token = key.sign(&claims).unwrap();
        (key, token)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (key, genuine) = key();
    let expect =
        Expectations { issuer: "http://localhost/admin", audience: "http://localhost/api", kind: Side::BackOffice };
    let token = if mode & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let mut bytes = genuine.clone().into_bytes();
        for (i, b) in rest.iter().enumerate() {
            let at = i * 7 % bytes.len();
            bytes[at] ^= b;
        }
        String::from_utf8_lossy(&bytes).into_owned()
    };
    if verify(&token, [&key.verifying], &expect, NOW + 1).is_ok() {
        assert_eq!(&token, genuine, "only the genuine token verifies");
    }
});
