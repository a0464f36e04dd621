//! Back-office sessions and CSRF protection for the HTML pages.
//!
//! A middleware reads the session cookie into a [`CurrentUser`] request
//! extension, keeps a CSRF token cookie (double submit, compared in constant
//! time), refuses cross-origin writes, and sends anonymous visitors of
//! `/admin` pages to the login page. `POST /admin/login` and
//! `POST /admin/logout` are plain form handlers, so they work without
//! JavaScript.

use crate::service::audit::{self, AuditEvent};
use crate::service::{self, ServiceError};
use crate::store::audit::NewEntry;
use crate::state::AppState;
use crate::store::customer_users::CustomerUser;
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
pub const CUSTOMER_SESSION_COOKIE: &str = "postern_customer_session";
pub const STOREFRONT_LOGIN_PATH: &str = "/login";
/// Where a customer lands after signing in with nothing else to do.
pub const STOREFRONT_HOME: &str = "/account/applications";

/// The logged-in back-office user, if any (request extension).
#[derive(Debug, Clone, Default)]
pub struct CurrentUser(pub Option<User>);

/// The logged-in storefront customer user, if any (request extension).
#[derive(Debug, Clone, Default)]
pub struct CurrentCustomer(pub Option<CustomerUser>);

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
    (path == "/admin" || path.starts_with("/admin/"))
        && path != LOGIN_PATH
        && !path.starts_with("/admin/rpc/")
        // The authorization endpoint checks the request before asking anyone to log in.
        && path != "/admin/oauth2-token/authorize"
}

/// True for a storefront page that needs a customer login to view.
fn needs_customer_login(path: &str) -> bool {
    path == "/account" || path.starts_with("/account/") || path == "/oauth2-token/consent"
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
    let customer = match cookie(req.headers(), CUSTOMER_SESSION_COOKIE) {
        Some(value) => service::auth::customer_session_user(&state, value).await.unwrap_or_default(),
        None => None,
    };
    let path = req.uri().path().to_owned();
    let get = req.method() == Method::GET;
    let target = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let redirect_param = query_value(req.uri().query(), "redirect");
    let mut response = if get && user.is_none() && needs_login(&path) {
        Redirect::to(&format!("{LOGIN_PATH}?redirect={}", urlencode(&target))).into_response()
    } else if get && customer.is_none() && needs_customer_login(&path) {
        Redirect::to(&format!("{STOREFRONT_LOGIN_PATH}?redirect={}", urlencode(&target))).into_response()
    } else if get && user.is_some() && path == LOGIN_PATH {
        Redirect::to(safe_redirect(redirect_param.as_deref())).into_response()
    } else if get && customer.is_some() && path == STOREFRONT_LOGIN_PATH {
        Redirect::to(safe_storefront_redirect(redirect_param.as_deref())).into_response()
    } else {
        req.extensions_mut().insert(CurrentUser(user));
        req.extensions_mut().insert(CurrentCustomer(customer));
        req.extensions_mut().insert(csrf);
        next.run(req).await
    };
    if let Some(token) = new_csrf {
        response.headers_mut().append(header::SET_COOKIE, set_cookie(CSRF_COOKIE, &token, None, state.site.secure_cookies));
    }
    let headers = response.headers_mut();
    if path.starts_with("/admin") || path.starts_with("/account") || path.starts_with("/oauth2-token") || path == STOREFRONT_LOGIN_PATH {
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

/// One value, percent-encoded for a query string.
pub(crate) fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|e| e[1..].to_owned()).unwrap_or_default()
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
        Some(t) if (t == "/admin" || t.starts_with("/admin/") || t.starts_with("/admin?"))
            && plain_local_path(t) && !t.starts_with(LOGIN_PATH) => t,
        _ => "/admin",
    }
}

/// Only the storefront's own pages and authorization endpoint are followed
/// after the storefront login.
pub fn safe_storefront_redirect(target: Option<&str>) -> &str {
    match target {
        Some(t) if (t.starts_with("/oauth2-token/authorize?") || t.starts_with("/oauth2-token/consent?")
            || t == "/account" || t.starts_with("/account/")) && plain_local_path(t) => t,
        _ => STOREFRONT_HOME,
    }
}

/// A successful sign-in.
struct SignedIn {
    cookie_value: String,
    max_age: i64,
    user_id: Option<i64>,
    customer_user_id: Option<i64>,
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

/// The two login forms: the back office's and the storefront's.
#[derive(Debug, Clone, Copy)]
enum Door {
    BackOffice,
    Storefront,
}

impl Door {
    fn login_path(self) -> &'static str {
        match self {
            Door::BackOffice => LOGIN_PATH,
            Door::Storefront => STOREFRONT_LOGIN_PATH,
        }
    }

    fn cookie(self) -> &'static str {
        match self {
            Door::BackOffice => SESSION_COOKIE,
            Door::Storefront => CUSTOMER_SESSION_COOKIE,
        }
    }

    /// Where a login goes next: the local page it came from, or home.
    fn next(self, target: Option<&str>) -> &str {
        match self {
            Door::BackOffice => safe_redirect(target),
            Door::Storefront => safe_storefront_redirect(target),
        }
    }

    fn back_to_login(self, error: &str, redirect: Option<&str>) -> Response {
        let mut location = format!("{}?error={error}", self.login_path());
        if let Some(r) = redirect.filter(|r| self.next(Some(r)) == *r) {
            location.push_str("&redirect=");
            location.push_str(&urlencode(r));
        }
        Redirect::to(&location).into_response()
    }

    /// Checks the credentials and opens a session.
    async fn sign_in(self, state: &AppState, username: &str, password: &str) -> Result<SignedIn, ServiceError> {
        Ok(match self {
            Door::BackOffice => {
                let s = service::auth::login(state, username, password).await?;
                SignedIn { cookie_value: s.cookie_value, max_age: s.max_age, user_id: Some(s.user.id), customer_user_id: None }
            }
            Door::Storefront => {
                let s = service::auth::login_customer(state, username, password).await?;
                SignedIn { cookie_value: s.cookie_value, max_age: s.max_age, user_id: None, customer_user_id: Some(s.customer.id) }
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Door::BackOffice => "back office",
            Door::Storefront => "storefront",
        }
    }

    /// The rate-limit key of an account at this door.
    fn account_key(self, username: &str) -> String {
        format!("{}:{}", self.name(), audit::clip(username).to_lowercase())
    }

    /// 429 with `Retry-After`, as a page a person can read.
    fn too_many_attempts(self, wait: crate::limits::RetryAfter) -> Response {
        let seconds = wait.seconds();
        let mut response = super::authorize::message_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts",
            &format!("Too many sign-in attempts. Try again in {seconds} second{}.", if seconds == 1 { "" } else { "s" }),
            "Sign-in attempts are limited per account and per network address to stop password guessing.",
            Some((self.login_path(), "Back to sign-in")),
        );
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        response
    }

    async fn sign_out(self, state: &AppState, cookie_value: &str) -> Result<(), ServiceError> {
        match self {
            Door::BackOffice => service::auth::logout(state, cookie_value).await,
            Door::Storefront => service::auth::logout_customer(state, cookie_value).await,
        }
    }
}

/// `POST /admin/login`: the back-office login form.
pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    form_login(&state, req, Door::BackOffice).await
}

/// `POST /login`: the storefront login form (customer users).
pub async fn customer_login(State(state): State<AppState>, req: Request) -> Response {
    form_login(&state, req, Door::Storefront).await
}

async fn form_login(state: &AppState, req: Request, door: Door) -> Response {
    let csrf = req.extensions().get::<CsrfToken>().cloned();
    let ip = req.extensions().get::<super::ClientIp>().copied();
    let Ok(body) = axum::body::to_bytes(req.into_body(), 8 * 1024).await else {
        return door.back_to_login("invalid_request", None);
    };
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return door.back_to_login("invalid_request", None);
    };
    let redirect = form.redirect.as_deref();
    if !csrf.is_some_and(|c| c.verify(&form.csrf_token)) {
        return door.back_to_login("csrf", redirect);
    }
    let username = form.username.trim();
    let now = std::time::Instant::now();
    let ip_text = ip.map(|ip| ip.0.to_string());
    let failed = |detail: String| {
        let ip_text = ip_text.clone();
        let username = audit::clip(username).to_owned();
        async move {
            let entry = NewEntry {
                username: Some(&username),
                ip: ip_text.as_deref(),
                detail: &detail,
                ..audit::entry(AuditEvent::LoginFailed, service::now())
            };
            audit::note(&state.db, &entry).await;
        }
    };
    // Every attempt counts against the address; only failures against the account.
    let limited = match ip {
        Some(ip) => state.limits.login_per_ip.check(&ip.key(), now),
        None => Ok(()),
    }
    .and_then(|()| state.limits.login_per_account.peek(&door.account_key(username), now));
    if let Err(wait) = limited {
        tracing::warn!(username = %audit::clip(username), ip = ip_text.as_deref().unwrap_or(""), door = door.name(), "sign-in refused: rate limit reached");
        failed(format!("{}: refused without checking the password (too many attempts)", door.name())).await;
        return door.too_many_attempts(wait);
    }
    match door.sign_in(state, username, &form.password).await {
        Ok(signed_in) => {
            let detail = door.name().to_owned();
            let entry = NewEntry {
                user_id: signed_in.user_id,
                customer_user_id: signed_in.customer_user_id,
                ip: ip_text.as_deref(),
                detail: &detail,
                ..audit::entry(AuditEvent::LoginSucceeded, service::now())
            };
            audit::note(&state.db, &entry).await;
            let mut response = Redirect::to(door.next(redirect)).into_response();
            let cookie = set_cookie(door.cookie(), &signed_in.cookie_value, Some(signed_in.max_age), state.site.secure_cookies);
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        Err(ServiceError::Invalid { .. }) => {
            let _ = state.limits.login_per_account.check(&door.account_key(username), now);
            failed(format!("{}: wrong user name or password, or the account is disabled", door.name())).await;
            door.back_to_login("invalid_credentials", redirect)
        }
        Err(_) => door.back_to_login("unavailable", redirect),
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/logout`: ends the back-office session.
pub async fn logout(State(state): State<AppState>, req: Request) -> Response {
    form_logout(&state, req, Door::BackOffice).await
}

/// `POST /logout`: ends the storefront session.
pub async fn customer_logout(State(state): State<AppState>, req: Request) -> Response {
    form_logout(&state, req, Door::Storefront).await
}

async fn form_logout(state: &AppState, req: Request, door: Door) -> Response {
    let csrf = req.extensions().get::<CsrfToken>().cloned();
    let session = cookie(req.headers(), door.cookie()).map(str::to_owned);
    let user_id = req.extensions().get::<CurrentUser>().map(|u| u.0.as_ref().map(|u| u.id));
    let customer_user_id = req.extensions().get::<CurrentCustomer>().map(|c| c.0.as_ref().map(|c| c.id));
    let ip = req.extensions().get::<super::ClientIp>().map(|ip| ip.0.to_string());
    let body = axum::body::to_bytes(req.into_body(), 4 * 1024).await.unwrap_or_default();
    let form = serde_urlencoded::from_bytes::<LogoutForm>(&body).unwrap_or(LogoutForm { csrf_token: String::new() });
    if !csrf.is_some_and(|c| c.verify(&form.csrf_token)) {
        return Redirect::to(door.next(None)).into_response();
    }
    if let Some(value) = session {
        if door.sign_out(state, &value).await.is_ok() {
            let entry = NewEntry {
                user_id: user_id.flatten().filter(|_| matches!(door, Door::BackOffice)),
                customer_user_id: customer_user_id.flatten().filter(|_| matches!(door, Door::Storefront)),
                ip: ip.as_deref(),
                detail: door.name(),
                ..audit::entry(AuditEvent::Logout, service::now())
            };
            if entry.user_id.is_some() || entry.customer_user_id.is_some() {
                audit::note(&state.db, &entry).await;
            }
        }
    }
    let mut response = Redirect::to(&format!("{}?logged_out=1", door.login_path())).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(door.cookie(), "", Some(0), state.site.secure_cookies));
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
        // An authorization request whose query carries an unencoded URI is still local.
        let authorize = "/admin/oauth2-token/authorize?client_id=a&redirect_uri=https://app.example/cb";
        assert_eq!(safe_redirect(Some(authorize)), authorize);
        assert_eq!(safe_storefront_redirect(Some("/oauth2-token/authorize?client_id=a")), "/oauth2-token/authorize?client_id=a");
        for evil in ["//evil.example/oauth2-token/authorize?", "/admin", "https://evil.example", "/account/\\evil"] {
            assert_eq!(safe_storefront_redirect(Some(evil)), STOREFRONT_HOME, "{evil}");
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
