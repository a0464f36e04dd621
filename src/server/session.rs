//! Back-office sessions and CSRF protection for the HTML pages.
//!
//! A middleware reads the session cookie into a [`CurrentUser`] request
//! extension, keeps a CSRF token cookie (double submit, compared in constant
//! time), refuses cross-origin writes, and sends anonymous visitors of
//! `/admin` pages to the login page. `POST /admin/login` and
//! `POST /admin/logout` are plain form handlers, so they work without
//! JavaScript.

use crate::service::{self, ServiceError};
use crate::state::AppState;
use crate::store::users::User;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "postern_session";
pub const CSRF_COOKIE: &str = "postern_csrf";
pub const LOGIN_PATH: &str = "/admin/login";

/// The logged-in back-office user, if any (request extension).
#[derive(Debug, Clone, Default)]
pub struct CurrentUser(pub Option<User>);

/// The CSRF token every form of this browser must echo (request extension).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    /// Constant-time comparison with the token a form sent.
    pub fn verify(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// The value of one cookie from the `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn is_csrf_token(value: &str) -> bool {
    value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// True for a path under the back office that needs a login to view.
fn needs_login(path: &str) -> bool {
    (path == "/admin" || path.starts_with("/admin/")) && path != LOGIN_PATH && !path.starts_with("/admin/rpc/")
}

/// A write from another site: the browser says so with `Sec-Fetch-Site`, or
/// with an `Origin` that is neither the public URL nor the `Host` asked for.
fn cross_origin(headers: &HeaderMap, public_url: &str) -> bool {
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

/// The middleware for every HTML page and server function.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && cross_origin(req.headers(), &state.site.public_url) {
        return (StatusCode::FORBIDDEN, "Cross-site requests are not accepted.").into_response();
    }
    let existing = cookie(req.headers(), CSRF_COOKIE).filter(|v| is_csrf_token(v)).map(str::to_owned);
    let new_csrf = existing.is_none().then(|| service::random::token(32));
    let csrf = CsrfToken(existing.or_else(|| new_csrf.clone()).unwrap_or_default());

    let user = match cookie(req.headers(), SESSION_COOKIE) {
        // A failed lookup was logged where it happened; the visitor is treated as logged out.
        Some(value) => service::auth::session_user(&state, value).await.unwrap_or_default(),
        None => None,
    };
    let path = req.uri().path().to_owned();
    let mut response = if user.is_none() && needs_login(&path) && req.method() == Method::GET {
        let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/admin");
        let location = format!("{LOGIN_PATH}?redirect={}", urlencode(target));
        Redirect::to(&location).into_response()
    } else if user.is_some() && path == LOGIN_PATH && req.method() == Method::GET {
        Redirect::to("/admin").into_response()
    } else {
        req.extensions_mut().insert(CurrentUser(user));
        req.extensions_mut().insert(csrf);
        next.run(req).await
    };
    if let Some(token) = new_csrf {
        response.headers_mut().append(header::SET_COOKIE, set_cookie(CSRF_COOKIE, &token, None, state.site.secure_cookies));
    }
    if path.starts_with("/admin") {
        // Pages of a logged-in user must not be kept by shared caches or the back button.
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|e| e[1..].to_owned()).unwrap_or_default()
}

/// Only local back-office paths are followed after login (no open redirect).
fn safe_redirect(target: Option<&str>) -> &str {
    match target {
        Some(t) if (t == "/admin" || t.starts_with("/admin/") || t.starts_with("/admin?"))
            && !t.contains("//") && !t.contains('\\') && !t.starts_with(LOGIN_PATH) => t,
        _ => "/admin",
    }
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
    redirect: Option<String>,
}

fn back_to_login(error: &str, redirect: Option<&str>) -> Response {
    let mut location = format!("{LOGIN_PATH}?error={error}");
    if let Some(r) = redirect.filter(|r| safe_redirect(Some(r)) == *r) {
        location.push_str("&redirect=");
        location.push_str(&urlencode(r));
    }
    Redirect::to(&location).into_response()
}

/// `POST /admin/login`: the login form.
pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    let csrf = req.extensions().get::<CsrfToken>().cloned();
    let Ok(body) = axum::body::to_bytes(req.into_body(), 8 * 1024).await else {
        return back_to_login("invalid_request", None);
    };
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return back_to_login("invalid_request", None);
    };
    let redirect = form.redirect.as_deref();
    if !csrf.is_some_and(|c| c.verify(&form.csrf_token)) {
        return back_to_login("csrf", redirect);
    }
    match service::auth::login(&state, form.username.trim(), &form.password).await {
        Ok(session) => {
            let mut response = Redirect::to(safe_redirect(redirect)).into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &session.cookie_value, Some(session.max_age), state.site.secure_cookies),
            );
            response
        }
        Err(ServiceError::Invalid { .. }) => back_to_login("invalid_credentials", redirect),
        Err(_) => back_to_login("unavailable", redirect),
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/logout`: ends the session.
pub async fn logout(State(state): State<AppState>, req: Request) -> Response {
    let csrf = req.extensions().get::<CsrfToken>().cloned();
    let session = cookie(req.headers(), SESSION_COOKIE).map(str::to_owned);
    let body = axum::body::to_bytes(req.into_body(), 4 * 1024).await.unwrap_or_default();
    let form = serde_urlencoded::from_bytes::<LogoutForm>(&body).unwrap_or(LogoutForm { csrf_token: String::new() });
    if !csrf.is_some_and(|c| c.verify(&form.csrf_token)) {
        return Redirect::to("/admin").into_response();
    }
    if let Some(value) = session {
        let _ = service::auth::logout(&state, &value).await;
    }
    let mut response = Redirect::to(&format!("{LOGIN_PATH}?logged_out=1")).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0), state.site.secure_cookies));
    response
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_admin_paths_are_followed() {
        assert_eq!(safe_redirect(Some("/admin/users?page=2")), "/admin/users?page=2");
        for evil in ["https://evil.example", "//evil.example", "/admin//evil", "/\\evil", "/adminevil", "/admin/login"] {
            assert_eq!(safe_redirect(Some(evil)), "/admin", "{evil}");
        }
    }

    #[test]
    fn cookie_lookup_handles_several_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; postern_session=abc; b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

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
}
