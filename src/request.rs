//! What the HTTP layer learns about a request and hands on in its
//! extensions, for the handlers and the server functions: who is signed in
//! on each side ([`CurrentUser`], [`CurrentCustomer`]), the CSRF token the
//! browser's forms must echo ([`CsrfToken`]) and the caller's address
//! ([`ClientIp`]). Set by `server::session` and `server::headers`; read by
//! `api` without reaching into the HTTP layer.

use crate::store::customer_users::CustomerUser;
use crate::store::users::User;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use subtle::ConstantTimeEq;

/// The logged-in back-office user, if any (request extension).
#[derive(Debug, Clone, Default)]
pub struct CurrentUser(pub Option<User>);

/// The logged-in storefront customer user, if any (request extension).
#[derive(Debug, Clone, Default)]
pub struct CurrentCustomer(pub Option<CustomerUser>);

/// When the person signed in on each side started their session (request
/// extension): the OpenID Connect `auth_time`, for `max_age` and `prompt`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignedInAt {
    pub user: Option<i64>,
    pub customer: Option<i64>,
}

/// The CSRF token every form of this browser must echo (request extension).
///
/// Not the CSRF cookie itself but derived from it and from the session
/// cookies the browser holds (see [`CsrfToken::derive`]): a token that
/// leaked or was seen before a sign-in (the login page is public) is no good
/// once a session exists, and the token of one session never passes for
/// another. The sign-in also replaces the CSRF cookie.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    /// `base64url(SHA-256("postern csrf v1" ‖ csrf ‖ session ‖ customer session))`,
    /// each value preceded by its length so that no two different triples
    /// read the same. A missing session counts as an empty value.
    pub fn derive(csrf_cookie: &str, session: Option<&str>, customer_session: Option<&str>) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"postern csrf v1");
        for part in [csrf_cookie, session.unwrap_or(""), customer_session.unwrap_or("")] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        CsrfToken(URL_SAFE_NO_PAD.encode(hash.finalize()))
    }

    /// Constant-time comparison with the token a form sent.
    pub fn verify(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// The address a request came from (request extension): the peer, or the
/// last `X-Forwarded-For` entry when `server.trust_forwarded_for` is on.
/// The rate limits key it as [`crate::limits::AddressLimiter`] says (IPv4
/// per address; IPv6 per address and per `/64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);
