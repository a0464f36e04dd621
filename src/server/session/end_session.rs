//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the
//! end-session endpoints, `GET /admin/oauth2-token/logout` and
//! `GET /oauth2-token/logout`. A request whose `id_token_hint` names the
//! person signed in ends their session at once; any other asks them first
//! on a confirmation page (§6: otherwise any site could sign people out),
//! whose form posts back here with the CSRF token. Afterwards the browser
//! goes to the application's registered `post_logout_redirect_uri` (with
//! `state`), or sees a page saying it is signed out.

use super::cookies::{cookie, set_cookie};
use super::sign_in::SignInSide;
use super::sign_out::sign_out;
use super::CsrfToken;
use crate::model::{Side, Subject};
use crate::server::authorize::{error_page, escape, message_page, unavailable_page};
use crate::server::ClientIp;
use crate::service::audit::{self, AuditEvent};
use crate::service::oidc::{self, Logout, LogoutPlan, LogoutRequest};
use crate::service::{self, ServiceError};
use crate::state::AppState;
use crate::store::audit::NewEntry;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// The parameters of a logout request (§2) that are carried through the
/// confirmation form.
const PARAMETERS: [&str; 4] = ["id_token_hint", "client_id", "post_logout_redirect_uri", "state"];

/// Largest confirmation form read (an ID token hint fits easily).
const MAX_FORM_BYTES: usize = 32 * 1024;

pub async fn backoffice(State(state): State<AppState>, req: Request) -> Response {
    end_session(&state, Side::BackOffice, req).await
}

pub async fn storefront(State(state): State<AppState>, req: Request) -> Response {
    end_session(&state, Side::Storefront, req).await
}

fn path(side: Side) -> &'static str {
    match side {
        Side::BackOffice => crate::model::paths::BACKOFFICE_END_SESSION,
        Side::Storefront => crate::model::paths::STOREFRONT_END_SESSION,
    }
}

async fn end_session(state: &AppState, side: Side, req: Request) -> Response {
    let signed = crate::server::authorize::signed(&req, side).map(|s| s.subject);
    let csrf = req.extensions().get::<CsrfToken>().cloned();
    let secure = state.site.secure_cookies;
    let session = cookie(req.headers(), side.cookie().name(secure)).map(str::to_owned);
    let ip = req.extensions().get::<ClientIp>().map(|ip| ip.0.to_string());
    let post = req.method() == Method::POST;
    let pairs: Vec<(String, String)> = if post {
        let Ok(body) = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES).await else {
            return error_page(StatusCode::PAYLOAD_TOO_LARGE, "The logout request is too large.");
        };
        match serde_urlencoded::from_bytes(&body) {
            Ok(pairs) => pairs,
            Err(_) => return error_page(StatusCode::BAD_REQUEST, "The logout form is malformed."),
        }
    } else {
        match serde_urlencoded::from_str(req.uri().query().unwrap_or("")) {
            Ok(pairs) => pairs,
            Err(_) => return error_page(StatusCode::BAD_REQUEST, "The logout request's query string is malformed."),
        }
    };
    let mut values = [None; 4];
    for (slot, name) in values.iter_mut().zip(PARAMETERS) {
        match crate::oauth::authorize::single(&pairs, name) {
            Ok(value) => *slot = value,
            Err(name) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    &format!("The parameter {name} is included more than once."),
                )
            }
        }
    }
    let [id_token_hint, client_id, post_logout_redirect_uri, logout_state] = values;
    let request = LogoutRequest { id_token_hint, client_id, post_logout_redirect_uri, state: logout_state };
    let plan = match oidc::end_session(state, side, &request, signed, service::now()).await {
        Ok(Logout::Accepted(plan)) => plan,
        Ok(Logout::Refused(why)) => return error_page(StatusCode::BAD_REQUEST, &why),
        Err(ServiceError::Unavailable) => return unavailable_page(),
        Err(err) => {
            tracing::error!(error = %err, "end-session endpoint failed");
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, "The request could not be completed.");
        }
    };
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    // Only the confirmation form posts here: a POST must carry its token.
    let confirmed = post && csrf.as_ref().is_some_and(|c| c.verify(field("csrf_token").unwrap_or("")));
    if post && !confirmed {
        return error_page(
            StatusCode::FORBIDDEN,
            "The sign-out form expired. Go back to the application and try again.",
        );
    }
    let Some(subject) = signed else {
        // Nobody to sign out: done already.
        return finish(state, side, &plan, None, ip.as_deref()).await;
    };
    if post && field("decision") == Some("stay") {
        return message_page(
            StatusCode::OK,
            "You are still signed in",
            "You chose to stay signed in.",
            "You can close this page.",
            None,
        );
    }
    if confirmed || plan.names_the_person {
        if let Some(value) = session.as_deref() {
            if let Err(err) = sign_out(side, state, value).await {
                tracing::error!(error = %err, "end-session: the session could not be ended");
                return error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Signing out failed. Please try again in a moment.",
                );
            }
        }
        return finish(state, side, &plan, Some(subject), ip.as_deref()).await;
    }
    let token = csrf.map(|c| c.0).unwrap_or_default();
    confirmation_page(side, &pairs, &plan, &token)
}

/// After the session ended (`ended`: whose), or when there was none: the
/// audit entry, the cleared cookie, and the way back.
async fn finish(state: &AppState, side: Side, plan: &LogoutPlan, ended: Option<Subject>, ip: Option<&str>) -> Response {
    if let Some(subject) = ended {
        let detail = format!(
            "{} (RP-initiated logout{})",
            side.name(),
            plan.application.as_deref().map(|a| format!(" by \"{a}\"")).unwrap_or_default()
        );
        let entry = NewEntry {
            user_id: subject.user_id(),
            customer_user_id: subject.customer_user_id(),
            ip,
            detail: &detail,
            ..audit::entry(AuditEvent::Logout, service::now())
        };
        audit::note(&state.db, &entry).await;
        tracing::info!(
            ?subject,
            application = plan.application.as_deref().unwrap_or(""),
            "signed out at the application's request"
        );
    }
    let mut response = match &plan.back {
        Some(back) => Redirect::to(back).into_response(),
        None => message_page(
            StatusCode::OK,
            "You are signed out",
            match side {
                Side::BackOffice => "You have been signed out of the Postern back office.",
                Side::Storefront => "You have been signed out of your customer account.",
            },
            "You can close this page.",
            Some((side.login_path(), "Sign in again")),
        ),
    };
    if ended.is_some() {
        let secure = state.site.secure_cookies;
        response.headers_mut().append(header::SET_COOKIE, set_cookie(side.cookie().name(secure), "", Some(0), secure));
    }
    response
}

/// Asks the person whether to sign out; the form posts the request back
/// with the CSRF token.
fn confirmation_page(side: Side, pairs: &[(String, String)], plan: &LogoutPlan, csrf_token: &str) -> Response {
    let hidden: String = pairs
        .iter()
        .filter(|(k, _)| PARAMETERS.contains(&k.as_str()))
        .map(|(k, v)| format!(r#"<input type="hidden" name="{}" value="{}">"#, escape(k), escape(v)))
        .collect();
    let asked = match &plan.application {
        Some(app) => format!("\"{}\" asks to sign you out.", escape(app)),
        None => "An application asks to sign you out.".to_owned(),
    };
    let place = match side {
        Side::BackOffice => "the Postern back office",
        Side::Storefront => "your customer account",
    };
    let html = format!(
        r#"<!DOCTYPE html><html lang="en" class="h-full bg-slate-50"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign out? · Postern</title>
<link rel="stylesheet" href="{stylesheet}"><link rel="icon" type="image/svg+xml" href="/favicon.svg"></head>
<body class="h-full text-slate-800 antialiased"><main class="flex min-h-full flex-col items-center justify-center px-6 py-24 text-center">
<h1 class="text-2xl font-bold tracking-tight text-slate-900" data-testid="logout-question">Sign out of {place}?</h1>
<p class="mt-4 max-w-md text-slate-600">{asked}</p>
<form method="post" action="{action}" class="mt-8 flex gap-3">
<input type="hidden" name="csrf_token" value="{csrf}">{hidden}
<button type="submit" name="decision" value="stay" class="rounded-md bg-white px-3 py-2 text-sm font-semibold text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50">Stay signed in</button>
<button type="submit" name="decision" value="logout" class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500">Sign out</button>
</form></main></body></html>"#,
        action = path(side),
        stylesheet = crate::server::assets::stylesheet(),
        csrf = escape(csrf_token),
    );
    let mut response = (StatusCode::OK, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // Browsers hold the redirect after a form's submission to `form-action`
    // too: the answer to "Sign out" goes on to the application's registered
    // URI, so its origin is allowed beside Postern's own.
    let to = plan.back.as_deref().and_then(form_target).unwrap_or_default();
    let policy = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'{to}; \
         frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The CSP source that allows a form's redirect to `uri` (with its leading
/// space): its origin for http(s), its scheme for an app's own scheme.
fn form_target(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    match url.scheme() {
        "http" | "https" => Some(format!(" {}", url.origin().ascii_serialization())),
        scheme => Some(format!(" {scheme}:")),
    }
}
