//! Signing in: the two login forms (one per [`Side`]), `POST /admin/login`
//! for the back office and `POST /login` for the storefront. Each checks the
//! CSRF token, the rate limits (per address, and per account from that
//! address; see [`crate::limits`]) and the password, writes the audit log,
//! and opens a session with a fresh CSRF cookie. A refusal by a limit is
//! written to the audit log once a minute per refusing key, and failures
//! that checked a password each.

use super::cookies::set_cookie;
use super::{safe_redirect, safe_storefront_redirect, urlencode, CsrfToken, SiteCookie};
use super::{LOGIN_PATH, STOREFRONT_LOGIN_PATH};
use crate::model::Side;
use crate::server::ClientIp;
use crate::service::audit::{self, AuditEvent};
use crate::service::{self, ServiceError};
use crate::state::AppState;
use crate::store::audit::NewEntry;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// A successful sign-in.
pub(super) struct SignedIn {
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
    /// `login` when an authentication request asked a signed-in person to
    /// sign in again: a failed attempt keeps showing the form.
    prompt: Option<String>,
}

/// What a login form does differently on each [`Side`]: its page, its
/// cookie, where it may send the person next, how it checks the password.
pub(super) trait SignInSide: Copy {
    fn side(self) -> Side;

    fn login_path(self) -> &'static str {
        match self.side() {
            Side::BackOffice => LOGIN_PATH,
            Side::Storefront => STOREFRONT_LOGIN_PATH,
        }
    }

    fn cookie(self) -> SiteCookie {
        match self.side() {
            Side::BackOffice => SiteCookie::Session,
            Side::Storefront => SiteCookie::CustomerSession,
        }
    }

    /// Where a login goes next: the local page it came from, or home.
    fn next(self, target: Option<&str>) -> &str {
        match self.side() {
            Side::BackOffice => safe_redirect(target),
            Side::Storefront => safe_storefront_redirect(target),
        }
    }

    /// Back to the form with `error`; `again` shows it also to a person
    /// still signed in (an authentication request's `prompt=login`).
    fn back_to_login(self, error: &str, redirect: Option<&str>, again: bool) -> Response {
        let mut location = format!("{}?error={error}", self.login_path());
        if let Some(r) = redirect.filter(|r| self.next(Some(r)) == *r) {
            location.push_str("&redirect=");
            location.push_str(&urlencode(r));
        }
        if again {
            location.push_str("&prompt=login");
        }
        Redirect::to(&location).into_response()
    }

    /// Checks the credentials and opens a session.
    async fn sign_in(self, state: &AppState, username: &str, password: &str) -> Result<SignedIn, ServiceError> {
        Ok(match self.side() {
            Side::BackOffice => {
                let s = service::auth::login(state, username, password).await?;
                SignedIn {
                    cookie_value: s.cookie_value,
                    max_age: s.max_age,
                    user_id: Some(s.user.id),
                    customer_user_id: None,
                }
            }
            Side::Storefront => {
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
        match self.side() {
            Side::BackOffice => "back office",
            Side::Storefront => "storefront",
        }
    }

    /// The rate-limit key of an account on this side, for failures from
    /// `ip`: the account *and* the address (see [`crate::limits::account_key`]),
    /// so that failures from one address hold back only that address's
    /// attempts on the account, and a stranger cannot keep its owner out.
    fn account_key(self, username: &str, ip: Option<ClientIp>) -> String {
        let account = format!("{}:{}", self.name(), audit::clip(username).to_lowercase());
        crate::limits::account_key(&account, ip.map(|ip| ip.0))
    }

    /// 429 with `Retry-After`, as a page a person can read.
    fn too_many_attempts(self, wait: crate::limits::RetryAfter) -> Response {
        let seconds = wait.seconds();
        let mut response = crate::server::authorize::message_page(
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
        let mut response = crate::server::authorize::message_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Server busy",
            "The server is busy checking other sign-ins. Try again in a moment.",
            "Passwords are checked a few at a time, so that a flood of sign-ins cannot slow down everything else.",
            Some((self.login_path(), "Back to sign-in")),
        );
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        response
    }
}

impl SignInSide for Side {
    fn side(self) -> Side {
        self
    }
}

/// `POST /admin/login`: the back-office login form.
pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    form_login(&state, req, Side::BackOffice).await
}

/// `POST /login`: the storefront login form (customer users).
pub async fn customer_login(State(state): State<AppState>, req: Request) -> Response {
    form_login(&state, req, Side::Storefront).await
}

async fn form_login(state: &AppState, req: Request, side: Side) -> Response {
    let csrf = req.extensions().get::<CsrfToken>().cloned();
    let ip = req.extensions().get::<ClientIp>().copied();
    let Ok(body) = axum::body::to_bytes(req.into_body(), 8 * 1024).await else {
        return side.back_to_login("invalid_request", None, false);
    };
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return side.back_to_login("invalid_request", None, false);
    };
    let redirect = form.redirect.as_deref();
    // After a refusal the form shows again, also to a person still signed in.
    let again = form.prompt.as_deref() == Some("login");
    if !csrf.is_some_and(|c| c.verify(&form.csrf_token)) {
        return side.back_to_login("csrf", redirect, again);
    }
    let username = form.username.trim();
    let now = state.clock.now();
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
    let account_key = side.account_key(username, ip);
    let limited = match ip {
        Some(ip) => state
            .limits
            .sign_in_from(ip.0, &state.clock)
            .await
            .map_err(|r| (format!("login address {}", r.key), r.wait)),
        None => Ok(()),
    };
    let limited = match limited {
        Ok(()) => state
            .limits
            .sign_in_allowed(&account_key, &state.clock)
            .await
            .map_err(|wait| (format!("login account {account_key}"), wait)),
        refused => refused,
    };
    if let Err((refused_by, wait)) = limited {
        tracing::warn!(username = %audit::clip(username), ip = ip_text.as_deref().unwrap_or(""), side = side.name(), limit = %refused_by, "sign-in refused: rate limit reached");
        // Refused without any work: noted once a minute per refusing key,
        // so that asking again and again cannot grow the audit log.
        if state.limits.note_refusal(&refused_by, now) {
            failed(format!(
                "{}: refused without checking the password (too many attempts); further refusals by this limit in the next minute are not recorded",
                side.name()
            ))
            .await;
        }
        return side.too_many_attempts(wait);
    }
    match side.sign_in(state, username, &form.password).await {
        Ok(signed_in) => {
            let detail = side.name().to_owned();
            let entry = NewEntry {
                user_id: signed_in.user_id,
                customer_user_id: signed_in.customer_user_id,
                ip: ip_text.as_deref(),
                detail: &detail,
                ..audit::entry(AuditEvent::LoginSucceeded, service::now())
            };
            audit::note(&state.db, &entry).await;
            let secure = state.site.secure_cookies;
            let mut response = Redirect::to(side.next(redirect)).into_response();
            let cookie =
                set_cookie(side.cookie().name(secure), &signed_in.cookie_value, Some(signed_in.max_age), secure);
            response.headers_mut().append(header::SET_COOKIE, cookie);
            // A new CSRF cookie too: whatever token was seen before the
            // sign-in (the login page is public) is of no use after it.
            let csrf = set_cookie(SiteCookie::Csrf.name(secure), &service::random::token(32), None, secure);
            response.headers_mut().append(header::SET_COOKIE, csrf);
            response
        }
        Err(ServiceError::Invalid { .. }) => {
            state.limits.sign_in_failed(&account_key, &state.clock).await;
            failed(format!("{}: wrong user name or password, or the account is disabled", side.name())).await;
            side.back_to_login("invalid_credentials", redirect, again)
        }
        // Nothing was checked: neither a failure nor worth an audit entry.
        Err(ServiceError::Busy) => side.server_busy(),
        Err(_) => side.back_to_login("unavailable", redirect, again),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_busy_page_is_a_429_with_retry_after_that_says_why() {
        let response = Side::BackOffice.server_busy();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("2"));
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("The server is busy checking other sign-ins. Try again in a moment."), "{body}");
        assert!(body.contains("href=\"/admin/login\""), "{body}");
    }
}
