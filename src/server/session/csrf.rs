//! CSRF protection for the forms: the [`CsrfToken`] derived from the CSRF
//! cookie and bound to the sessions, its constant-time check, and the
//! refusal of writes from other sites.

pub use crate::request::CsrfToken;
use axum::http::{header, HeaderMap};

/// Whether a CSRF cookie has the shape Postern gives it: 32 random bytes,
/// 43 base64url characters. Any other value is replaced.
pub(super) fn is_csrf_token(value: &str) -> bool {
    value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A write from another site: the browser says so with `Sec-Fetch-Site`, or
/// with an `Origin` that is neither the public URL nor the `Host` asked for.
pub(super) fn cross_origin(headers: &HeaderMap, public_url: &str) -> bool {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|s| s == "cross-site") {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if origin == public_url {
        return false;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    origin.split_once("://").map(|(_, h)| h) != host || origin == "null"
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cross_site_writes_are_detected() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:3000"));
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:3000"));
        assert!(!cross_origin(&headers, "https://auth.example.com"));
        headers.insert(header::ORIGIN, HeaderValue::from_static("https://auth.example.com"));
        assert!(!cross_origin(&headers, "https://auth.example.com"), "behind a proxy: the public URL");
        headers.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(cross_origin(&headers, "https://auth.example.com"));
    }

    #[test]
    fn the_csrf_token_is_bound_to_the_cookie_and_the_sessions() {
        let csrf = "c".repeat(43);
        let anonymous = CsrfToken::derive(&csrf, None, None);
        assert_eq!(anonymous.0, CsrfToken::derive(&csrf, None, None).0, "stable while nothing changes");
        assert!(is_csrf_token(&anonymous.0), "the same shape as the cookie: 43 base64url characters");
        assert_ne!(anonymous.0, csrf, "not the cookie itself");
        let signed_in = CsrfToken::derive(&csrf, Some("session-a"), None);
        let other_session = CsrfToken::derive(&csrf, Some("session-b"), None);
        let customer = CsrfToken::derive(&csrf, None, Some("session-a"));
        let both = CsrfToken::derive(&csrf, Some("session-a"), Some("shop"));
        let other_cookie = CsrfToken::derive(&"d".repeat(43), Some("session-a"), None);
        let all = [&anonymous, &signed_in, &other_session, &customer, &both, &other_cookie];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.0, b.0);
                assert!(!a.verify(&b.0));
            }
        }
        assert!(signed_in.verify(&CsrfToken::derive(&csrf, Some("session-a"), None).0));
        // Lengths are part of the input: moving characters between values changes the token.
        assert_ne!(CsrfToken::derive("ab", Some("c"), None).0, CsrfToken::derive("a", Some("bc"), None).0);
        assert_eq!(CsrfToken::derive(&csrf, Some(""), None).0, anonymous.0, "an empty session cookie is no session");
    }
}
