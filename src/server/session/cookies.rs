//! Postern's cookies: their names ([`SiteCookie`], with the `__Host-` prefix
//! over https), reading one from the `Cookie` headers, and writing the
//! `Set-Cookie` header that sets or clears one.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use cookie::Cookie;

/// Postern's cookies, by what they hold.
///
/// When the site is served over https (`Site::secure_cookies`) their names
/// carry the `__Host-` prefix (RFC 6265bis §4.1.3.2): a browser then keeps
/// such a cookie only if it was set with `Secure`, `Path=/` and no `Domain`,
/// over https, so a sibling subdomain or a plain-http page on the network
/// path cannot set or shadow it (cookie tossing, which would let an
/// attacker plant a CSRF cookie or a session of their own). Over plain http
/// (development, the tests on loopback) browsers refuse `__Host-` cookies,
/// so the plain names are used there. Only the name of the current scheme
/// is read: after a move to https, cookies under the old names are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteCookie {
    /// The back-office session.
    Session,
    /// The storefront (customer user) session.
    CustomerSession,
    /// The random value the CSRF token is derived from.
    Csrf,
}

impl SiteCookie {
    /// The cookie's name over https (`secure`) or plain http.
    pub const fn name(self, secure: bool) -> &'static str {
        match (self, secure) {
            (SiteCookie::Session, false) => "postern_session",
            (SiteCookie::Session, true) => "__Host-postern_session",
            (SiteCookie::CustomerSession, false) => "postern_customer_session",
            (SiteCookie::CustomerSession, true) => "__Host-postern_customer_session",
            (SiteCookie::Csrf, false) => "postern_csrf",
            (SiteCookie::Csrf, true) => "__Host-postern_csrf",
        }
    }
}

/// The value of one cookie from the `Cookie` headers (the first one of that
/// name), as sent: not percent-decoded.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}

/// The `Set-Cookie` header of a cookie for the whole site, for scripts out
/// of reach (`HttpOnly`), sent on top-level navigations from other sites
/// but not on their subrequests or posts (`SameSite=Lax`). Without
/// `max_age` it lasts as long as the browser session; `Some(0)` clears it.
///
/// Written by hand rather than with the `cookie` crate, which puts `Path`
/// after `Secure`: this keeps the header as it has always been sent.
pub(super) fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether `response` already sets the cookie `name` (the sign-in sets a
/// fresh CSRF cookie; the middleware must not add a second one).
pub(super) fn sets_cookie(response: &Response, name: &str) -> bool {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| Cookie::parse(v).ok())
        .any(|c| c.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::{IntoResponse, Redirect};

    #[test]
    fn cookie_lookup_handles_several_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; postern_session=abc; b=2"));
        assert_eq!(cookie(&headers, SiteCookie::Session.name(false)), Some("abc"));
        assert_eq!(cookie(&headers, SiteCookie::Session.name(true)), None, "over https only the __Host- name counts");
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn cookie_names_carry_the_host_prefix_over_https_only() {
        for (cookie, plain) in [
            (SiteCookie::Session, "postern_session"),
            (SiteCookie::CustomerSession, "postern_customer_session"),
            (SiteCookie::Csrf, "postern_csrf"),
        ] {
            assert_eq!(cookie.name(false), plain);
            assert_eq!(cookie.name(true), format!("__Host-{plain}"));
        }
        // What a __Host- cookie needs (RFC 6265bis §4.1.3.2): Secure, Path=/, no Domain.
        let secure = set_cookie(SiteCookie::Csrf.name(true), "v", None, true);
        let secure = secure.to_str().unwrap();
        assert!(
            secure.starts_with("__Host-postern_csrf=v;") && secure.contains("; Secure") && secure.contains("Path=/;"),
            "{secure}"
        );
        assert!(!secure.to_ascii_lowercase().contains("domain="), "{secure}");
        let plain = set_cookie(SiteCookie::Csrf.name(false), "v", None, false);
        assert!(!plain.to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn a_response_that_sets_the_csrf_cookie_is_recognised() {
        let mut response = Redirect::to("/admin").into_response();
        assert!(!sets_cookie(&response, "postern_csrf"));
        response.headers_mut().append(header::SET_COOKIE, set_cookie("postern_csrf_other", "x", None, false));
        assert!(!sets_cookie(&response, "postern_csrf"));
        response.headers_mut().append(header::SET_COOKIE, set_cookie("postern_csrf", "x", None, false));
        assert!(sets_cookie(&response, "postern_csrf"));
    }
}
