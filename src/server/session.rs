//! Back-office sessions and CSRF protection for the HTML pages.
//!
//! A middleware reads the session cookie into a [`CurrentUser`] request
//! extension, keeps a CSRF cookie and derives from it, bound to the
//! sessions, the [`CsrfToken`] every form must echo (compared in constant
//! time), refuses cross-origin writes, and sends anonymous visitors of
//! `/admin` pages to the login page. `POST /admin/login` and
//! `POST /admin/logout` are plain form handlers, so they work without
//! JavaScript.
//!
//! Over https the cookies are named with the `__Host-` prefix (see
//! [`SiteCookie`]). Sign-in attempts are rate limited (see
//! [`crate::limits`]); a refusal by a limit is written to the audit log once
//! a minute per refusing key, and failures that checked a password each.

use crate::service::audit::{self, AuditEvent};
use crate::service::{self, ServiceError};
use crate::state::AppState;
use crate::store::audit::NewEntry;
use crate::store::customer_users::CustomerUser;
use crate::store::users::User;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const LOGIN_PATH: &str = "/admin/login";
pub const STOREFRONT_LOGIN_PATH: &str = "/login";
/// Where a customer lands after signing in with nothing else to do.
pub const STOREFRONT_HOME: &str = "/account/applications";

/// The logged-in back-office user, if any (request extension).
#[derive(Debug, Clone, Default)]
pub struct CurrentUser(pub Option<User>);

/// The logged-in storefront customer user, if any (request extension).
#[derive(Debug, Clone, Default)]
pub struct CurrentCustomer(pub Option<CustomerUser>);

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

/// Whether `response` already sets the cookie `name` (the sign-in sets a
/// fresh CSRF cookie; the middleware must not add a second one).
fn sets_cookie(response: &Response, name: &str) -> bool {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.strip_prefix(name).is_some_and(|rest| rest.starts_with('=')))
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
    let secure = state.site.secure_cookies;
    let csrf_name = SiteCookie::Csrf.name(secure);
    let existing = cookie(req.headers(), csrf_name).filter(|v| is_csrf_token(v)).map(str::to_owned);
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
    if let Some(token) = new_csrf.filter(|_| !sets_cookie(&response, csrf_name)) {
        response.headers_mut().append(header::SET_COOKIE, set_cookie(csrf_name, &token, None, secure));
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

    fn cookie(self) -> SiteCookie {
        match self {
            Door::BackOffice => SiteCookie::Session,
            Door::Storefront => SiteCookie::CustomerSession,
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
                SignedIn {
                    cookie_value: s.cookie_value,
                    max_age: s.max_age,
                    user_id: Some(s.user.id),
                    customer_user_id: None,
                }
            }
            Door::Storefront => {
                let s = service::auth::login_customer(state, username, password).await?;
                SignedIn {
                    cookie_value: s.cookie_value,
                    max_age: s.max_age,
                    user_id: None,
                    customer_user_id: Some(s.customer.id),
                }
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Door::BackOffice => "back office",
            Door::Storefront => "storefront",
        }
    }

    /// The rate-limit key of an account at this door, for failures from
    /// `ip`: the account *and* the address (see [`crate::limits::account_key`]),
    /// so that failures from one address hold back only that address's
    /// attempts on the account, and a stranger cannot keep its owner out.
    fn account_key(self, username: &str, ip: Option<super::ClientIp>) -> String {
        let account = format!("{}:{}", self.name(), audit::clip(username).to_lowercase());
        crate::limits::account_key(&account, ip.map(|ip| ip.0))
    }

    /// 429 with `Retry-After`, as a page a person can read.
    fn too_many_attempts(self, wait: crate::limits::RetryAfter) -> Response {
        let seconds = wait.seconds();
        let mut response = super::authorize::message_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts",
            &format!(
                "Too many sign-in attempts. Try again in {seconds} second{}.",
                if seconds == 1 { "" } else { "s" }
            ),
            "Sign-in attempts are limited per account and per network address to stop password guessing.",
            Some((self.login_path(), "Back to sign-in")),
        );
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        response
    }

    /// 429 with `Retry-After` when every password-checking slot stayed
    /// busy ([`ServiceError::Busy`]): nothing was checked.
    fn server_busy(self) -> Response {
        let seconds = service::auth::PASSWORD_WAIT.as_secs().max(1);
        let mut response = super::authorize::message_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Server busy",
            "The server is busy checking other sign-ins. Try again in a moment.",
            "Passwords are checked a few at a time, so that a flood of sign-ins cannot slow down everything else.",
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
    // Every attempt counts against the address (and an IPv6 address's /64);
    // only failures against the account, from this address.
    let account_key = door.account_key(username, ip);
    let limited = match ip {
        Some(ip) => {
            state.limits.login_per_ip.check(ip.0, now).map_err(|r| (format!("login address {}", r.key), r.wait))
        }
        None => Ok(()),
    }
    .and_then(|()| {
        state
            .limits
            .login_per_account
            .peek(&account_key, now)
            .map_err(|wait| (format!("login account {account_key}"), wait))
    });
    if let Err((refused_by, wait)) = limited {
        tracing::warn!(username = %audit::clip(username), ip = ip_text.as_deref().unwrap_or(""), door = door.name(), limit = %refused_by, "sign-in refused: rate limit reached");
        // Refused without any work: noted once a minute per refusing key,
        // so that asking again and again cannot grow the audit log.
        if state.limits.note_refusal(&refused_by, now) {
            failed(format!(
                "{}: refused without checking the password (too many attempts); further refusals by this limit in the next minute are not recorded",
                door.name()
            ))
            .await;
        }
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
            let secure = state.site.secure_cookies;
            let mut response = Redirect::to(door.next(redirect)).into_response();
            let cookie =
                set_cookie(door.cookie().name(secure), &signed_in.cookie_value, Some(signed_in.max_age), secure);
            response.headers_mut().append(header::SET_COOKIE, cookie);
            // A new CSRF cookie too: whatever token was seen before the
            // sign-in (the login page is public) is of no use after it.
            let csrf = set_cookie(SiteCookie::Csrf.name(secure), &service::random::token(32), None, secure);
            response.headers_mut().append(header::SET_COOKIE, csrf);
            response
        }
        Err(ServiceError::Invalid { .. }) => {
            let _ = state.limits.login_per_account.check(&account_key, now);
            failed(format!("{}: wrong user name or password, or the account is disabled", door.name())).await;
            door.back_to_login("invalid_credentials", redirect)
        }
        // Nothing was checked: neither a failure nor worth an audit entry.
        Err(ServiceError::Busy) => door.server_busy(),
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
    let secure = state.site.secure_cookies;
    let session = cookie(req.headers(), door.cookie().name(secure)).map(str::to_owned);
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
    response.headers_mut().append(header::SET_COOKIE, set_cookie(door.cookie().name(secure), "", Some(0), secure));
    response
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
    fn cookie_lookup_handles_several_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; postern_session=abc; b=2"));
        assert_eq!(cookie(&headers, SiteCookie::Session.name(false)), Some("abc"));
        assert_eq!(cookie(&headers, SiteCookie::Session.name(true)), None, "over https only the __Host- name counts");
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

    #[test]
    fn a_response_that_sets_the_csrf_cookie_is_recognised() {
        let mut response = Redirect::to("/admin").into_response();
        assert!(!sets_cookie(&response, "postern_csrf"));
        response.headers_mut().append(header::SET_COOKIE, set_cookie("postern_csrf_other", "x", None, false));
        assert!(!sets_cookie(&response, "postern_csrf"));
        response.headers_mut().append(header::SET_COOKIE, set_cookie("postern_csrf", "x", None, false));
        assert!(sets_cookie(&response, "postern_csrf"));
    }

    #[tokio::test]
    async fn the_busy_page_is_a_429_with_retry_after_that_says_why() {
        let response = Door::BackOffice.server_busy();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("2"));
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("The server is busy checking other sign-ins. Try again in a moment."), "{body}");
        assert!(body.contains("href=\"/admin/login\""), "{body}");
    }
}
