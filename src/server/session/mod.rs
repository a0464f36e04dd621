//! Back-office and storefront sessions for the HTML pages: the middleware
//! every page and server function passes through, who is signed in, and
//! where a sign-in may send the browser next.
//!
//! The middleware ([`layer`]) reads the session cookies into the
//! [`CurrentUser`] and [`CurrentCustomer`] request extensions, keeps a CSRF
//! cookie and derives from it the [`CsrfToken`] every form must echo,
//! refuses cross-origin writes, and sends anonymous visitors of `/admin` and
//! `/account` pages to their login page. The rest lives beside it:
//!
//! - `cookies.rs`: Postern's cookies ([`SiteCookie`], `__Host-` names over
//!   https), reading them and setting them;
//! - `csrf.rs`: the CSRF token, bound to the sessions, and the cross-origin check;
//! - `sign_in.rs`: `POST /admin/login` and `POST /login`, one per side,
//!   rate limited (see [`crate::limits`]) and audited;
//! - `sign_out.rs`: `POST /admin/logout` and `POST /logout`.
//!
//! The login and logout handlers are plain form handlers, so they work
//! without JavaScript.

mod cookies;
mod csrf;
mod end_session;
mod sign_in;
mod sign_out;

pub use cookies::{cookie, SiteCookie};
pub use csrf::CsrfToken;
pub use end_session::{backoffice as backoffice_end_session, storefront as storefront_end_session};
pub use sign_in::{customer_login, login};
pub use sign_out::{customer_logout, logout};

use crate::service;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

pub const LOGIN_PATH: &str = "/admin/login";
pub const STOREFRONT_LOGIN_PATH: &str = "/login";
/// Where a customer lands after signing in with nothing else to do.
pub const STOREFRONT_HOME: &str = "/account/applications";

pub use crate::request::{CurrentCustomer, CurrentUser};

/// True for a path under the back office that needs a login to view.
fn needs_login(path: &str) -> bool {
    (path == "/admin" || path.starts_with("/admin/"))
        && path != LOGIN_PATH
        && !path.starts_with("/admin/rpc/")
        // The authorization endpoint checks the request before asking anyone to log in.
        && path != "/admin/oauth2-token/authorize"
        // Signing out needs no sign-in.
        && path != crate::model::paths::BACKOFFICE_END_SESSION
}

/// True for a storefront page that needs a customer login to view.
fn needs_customer_login(path: &str) -> bool {
    path == "/account" || path.starts_with("/account/") || path == "/oauth2-token/consent"
}

/// The middleware for every HTML page and server function.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && csrf::cross_origin(req.headers(), &state.site.public_url) {
        return (StatusCode::FORBIDDEN, "Cross-site requests are not accepted.").into_response();
    }
    let secure = state.site.secure_cookies;
    let csrf_name = SiteCookie::Csrf.name(secure);
    let existing = cookie(req.headers(), csrf_name).filter(|v| csrf::is_csrf_token(v)).map(str::to_owned);
    let new_csrf = existing.is_none().then(|| service::random::token(32));
    let session = cookie(req.headers(), SiteCookie::Session.name(secure)).map(str::to_owned);
    let customer_session = cookie(req.headers(), SiteCookie::CustomerSession.name(secure)).map(str::to_owned);
    let csrf = CsrfToken::derive(
        existing.as_deref().or(new_csrf.as_deref()).unwrap_or_default(),
        session.as_deref(),
        customer_session.as_deref(),
    );

    let user = match &session {
        // A failed lookup was logged where it happened; the visitor is treated as logged out.
        Some(value) => service::auth::session_user(&state, value).await.unwrap_or_default(),
        None => None,
    };
    let customer = match &customer_session {
        Some(value) => service::auth::customer_session_user(&state, value).await.unwrap_or_default(),
        None => None,
    };
    let path = req.uri().path().to_owned();
    let get = req.method() == Method::GET;
    let target = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let redirect_param = query_value(req.uri().query(), "redirect");
    // An authentication request with prompt=login or max_age asks a
    // signed-in person to sign in again: the login page shows its form.
    let again = query_value(req.uri().query(), "prompt").as_deref() == Some("login");
    let mut response = if get && user.is_none() && needs_login(&path) {
        Redirect::to(&format!("{LOGIN_PATH}?redirect={}", urlencode(&target))).into_response()
    } else if get && customer.is_none() && needs_customer_login(&path) {
        Redirect::to(&format!("{STOREFRONT_LOGIN_PATH}?redirect={}", urlencode(&target))).into_response()
    } else if get && user.is_some() && path == LOGIN_PATH && !again {
        Redirect::to(safe_redirect(redirect_param.as_deref())).into_response()
    } else if get && customer.is_some() && path == STOREFRONT_LOGIN_PATH && !again {
        Redirect::to(safe_storefront_redirect(redirect_param.as_deref())).into_response()
    } else {
        let at = crate::request::SignedInAt {
            user: user.as_ref().map(|s| s.signed_in_at),
            customer: customer.as_ref().map(|s| s.signed_in_at),
        };
        req.extensions_mut().insert(at);
        req.extensions_mut().insert(CurrentUser(user.map(|s| s.person)));
        req.extensions_mut().insert(CurrentCustomer(customer.map(|s| s.person)));
        req.extensions_mut().insert(csrf);
        next.run(req).await
    };
    if let Some(token) = new_csrf.filter(|_| !cookies::sets_cookie(&response, csrf_name)) {
        response.headers_mut().append(header::SET_COOKIE, cookies::set_cookie(csrf_name, &token, None, secure));
    }
    let headers = response.headers_mut();
    if path.starts_with("/admin")
        || path.starts_with("/account")
        || path.starts_with("/oauth2-token")
        || path == STOREFRONT_LOGIN_PATH
    {
        // Pages of a logged-in person must not be kept by shared caches or the back button.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// One parameter of a query string.
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query?)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// One value, percent-encoded for a query string
/// (`application/x-www-form-urlencoded`: a space becomes `+`).
pub(crate) fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A local path without tricks: no scheme-relative `//`, no backslash
/// (browsers read it as `/`), in the path part.
fn plain_local_path(target: &str) -> bool {
    let path = target.split('?').next().unwrap_or("");
    path.starts_with('/') && !path.contains("//") && !target.contains('\\') && !target.chars().any(char::is_control)
}

/// Only local back-office paths are followed after login (no open redirect).
pub fn safe_redirect(target: Option<&str>) -> &str {
    match target {
        Some(t)
            if (t == "/admin" || t.starts_with("/admin/") || t.starts_with("/admin?"))
                && plain_local_path(t)
                && !t.starts_with(LOGIN_PATH) =>
        {
            t
        }
        _ => "/admin",
    }
}

/// Only the storefront's own pages and authorization endpoint are followed
/// after the storefront login.
pub fn safe_storefront_redirect(target: Option<&str>) -> &str {
    match target {
        Some(t)
            if (t.starts_with("/oauth2-token/authorize?")
                || t.starts_with("/oauth2-token/consent?")
                || t == "/account"
                || t.starts_with("/account/"))
                && plain_local_path(t) =>
        {
            t
        }
        _ => STOREFRONT_HOME,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_admin_paths_are_followed() {
        assert_eq!(safe_redirect(Some("/admin/users?page=2")), "/admin/users?page=2");
        for evil in ["https://evil.example", "//evil.example", "/admin//evil", "/\\evil", "/adminevil", "/admin/login"]
        {
            assert_eq!(safe_redirect(Some(evil)), "/admin", "{evil}");
        }
        // An authorization request whose query carries an unencoded URI is still local.
        let authorize = "/admin/oauth2-token/authorize?client_id=a&redirect_uri=https://app.example/cb";
        assert_eq!(safe_redirect(Some(authorize)), authorize);
        assert_eq!(
            safe_storefront_redirect(Some("/oauth2-token/authorize?client_id=a")),
            "/oauth2-token/authorize?client_id=a"
        );
        for evil in ["//evil.example/oauth2-token/authorize?", "/admin", "https://evil.example", "/account/\\evil"] {
            assert_eq!(safe_storefront_redirect(Some(evil)), STOREFRONT_HOME, "{evil}");
        }
    }

    #[test]
    fn redirect_targets_are_form_encoded() {
        assert_eq!(urlencode("/admin/x?a=b c&d=é/~*"), "%2Fadmin%2Fx%3Fa%3Db+c%26d%3D%C3%A9%2F%7E*");
    }
}
