//! Signing out: `POST /admin/logout` and `POST /logout` end the session of
//! their side (with a valid CSRF token only), write the audit log and clear
//! the session cookie.

use super::cookies::{cookie, set_cookie};
use super::sign_in::SignInSide;
use super::{CsrfToken, CurrentCustomer, CurrentUser};
use crate::model::Side;
use crate::server::ClientIp;
use crate::service::audit::{self, AuditEvent};
use crate::service::{self, ServiceError};
use crate::state::AppState;
use crate::store::audit::NewEntry;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// Ends the session of `side` whose cookie holds `cookie_value`.
pub(super) async fn sign_out(side: Side, state: &AppState, cookie_value: &str) -> Result<(), ServiceError> {
    match side {
        Side::BackOffice => service::auth::logout(state, cookie_value).await,
        Side::Storefront => service::auth::logout_customer(state, cookie_value).await,
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/logout`: ends the back-office session.
pub async fn logout(State(state): State<AppState>, req: Request) -> Response {
    form_logout(&state, req, Side::BackOffice).await
}

/// `POST /logout`: ends the storefront session.
pub async fn customer_logout(State(state): State<AppState>, req: Request) -> Response {
    form_logout(&state, req, Side::Storefront).await
}

async fn form_logout(state: &AppState, req: Request, side: Side) -> Response {
    let csrf = req.extensions().get::<CsrfToken>().cloned();
    let secure = state.site.secure_cookies;
    let session = cookie(req.headers(), side.cookie().name(secure)).map(str::to_owned);
    let user_id = req.extensions().get::<CurrentUser>().map(|u| u.0.as_ref().map(|u| u.id));
    let customer_user_id = req.extensions().get::<CurrentCustomer>().map(|c| c.0.as_ref().map(|c| c.id));
    let ip = req.extensions().get::<ClientIp>().map(|ip| ip.0.to_string());
    let body = axum::body::to_bytes(req.into_body(), 4 * 1024).await.unwrap_or_default();
    let form = serde_urlencoded::from_bytes::<LogoutForm>(&body).unwrap_or(LogoutForm { csrf_token: String::new() });
    if !csrf.is_some_and(|c| c.verify(&form.csrf_token)) {
        return Redirect::to(side.next(None)).into_response();
    }
    if let Some(value) = session {
        if sign_out(side, state, &value).await.is_ok() {
            let entry = NewEntry {
                user_id: user_id.flatten().filter(|_| matches!(side, Side::BackOffice)),
                customer_user_id: customer_user_id.flatten().filter(|_| matches!(side, Side::Storefront)),
                ip: ip.as_deref(),
                detail: side.name(),
                ..audit::entry(AuditEvent::Logout, service::now())
            };
            if entry.user_id.is_some() || entry.customer_user_id.is_some() {
                audit::note(&state.db, &entry).await;
            }
        }
    }
    let mut response = Redirect::to(&format!("{}?logged_out=1", side.login_path())).into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(side.cookie().name(secure), "", Some(0), secure));
    response
}
