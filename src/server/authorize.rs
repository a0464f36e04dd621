//! The authorization endpoints (RFC 6749 §3.1, §4.1.1, §4.1.2) as plain form
//! handlers, so the flow works without JavaScript: `GET …/authorize` decides
//! between an error page, the login page, the consent page and the redirect
//! back; `POST …/authorize` takes the consent page's answer. Back office under
//! the `/admin` prefix, storefront at the root.

use super::session::{urlencode, CsrfToken, CurrentCustomer, CurrentUser, LOGIN_PATH, STOREFRONT_LOGIN_PATH};
use crate::model::Side;
use crate::model::Subject;
use crate::request::SignedInAt;
use crate::service::authorization::{self, Outcome, SignIn, SignedIn, SIGNED_IN_AFTER};
use crate::service::{self, ServiceError};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

/// Where each side's endpoints and pages live.
struct Paths {
    authorize: &'static str,
    consent: &'static str,
    login: &'static str,
}

fn paths(side: Side) -> Paths {
    match side {
        Side::BackOffice => Paths {
            authorize: "/admin/oauth2-token/authorize",
            consent: "/admin/oauth2-token/consent",
            login: LOGIN_PATH,
        },
        Side::Storefront => Paths {
            authorize: "/oauth2-token/authorize",
            consent: "/oauth2-token/consent",
            login: STOREFRONT_LOGIN_PATH,
        },
    }
}

pub async fn backoffice(State(state): State<AppState>, req: Request) -> Response {
    authorization_request(state, Side::BackOffice, req).await
}

pub async fn storefront(State(state): State<AppState>, req: Request) -> Response {
    authorization_request(state, Side::Storefront, req).await
}

pub async fn backoffice_decision(State(state): State<AppState>, req: Request) -> Response {
    decide(state, Side::BackOffice, req).await
}

pub async fn storefront_decision(State(state): State<AppState>, req: Request) -> Response {
    decide(state, Side::Storefront, req).await
}

/// The person logged in on `side`, if any, and when they signed in.
pub(crate) fn signed(req: &Request, side: Side) -> Option<SignedIn> {
    let at = req.extensions().get::<SignedInAt>().copied().unwrap_or_default();
    let (subject, at) = match side {
        Side::BackOffice => (req.extensions().get::<CurrentUser>()?.0.as_ref().map(|u| Subject::User(u.id))?, at.user?),
        Side::Storefront => {
            (req.extensions().get::<CurrentCustomer>()?.0.as_ref().map(|c| Subject::Customer(c.id))?, at.customer?)
        }
    };
    Some(SignedIn { subject, at })
}

fn encode(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

async fn authorization_request(state: AppState, side: Side, req: Request) -> Response {
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(req.uri().query().unwrap_or("")) else {
        return error_page(StatusCode::BAD_REQUEST, "The request's query string is malformed.");
    };
    let signed = signed(&req, side);
    respond(side, &pairs, authorization::authorize(&state, side, &pairs, signed, service::now()).await)
}

/// The login page for an authorization request, which comes back to the
/// authorization endpoint once the person has signed in. A request that
/// asked for a new sign-in comes back with `signed_in_after` instead of
/// `prompt=login`, so that the new sign-in satisfies it.
fn login_location(side: Side, pairs: &[(String, String)], sign_in: &SignIn) -> String {
    let paths = paths(side);
    let mut request = authorization::request_pairs(pairs);
    if let Some(mark) = &sign_in.again {
        request.retain(|(k, _)| k != SIGNED_IN_AFTER);
        for (_, v) in request.iter_mut().filter(|(k, _)| k == "prompt") {
            let kept: Vec<&str> =
                v.split(' ').filter(|p| !p.is_empty() && *p != "login" && *p != "select_account").collect();
            *v = kept.join(" ");
        }
        request.retain(|(k, v)| !(k == "prompt" && v.is_empty()));
        request.push((SIGNED_IN_AFTER.to_owned(), mark.clone()));
    }
    let back = format!("{}?{}", paths.authorize, encode(&request));
    let mut location = format!("{}?redirect={}", paths.login, urlencode(&back));
    if sign_in.again.is_some() {
        location.push_str("&prompt=login");
    }
    if let Some(hint) = &sign_in.login_hint {
        location.push_str("&login_hint=");
        location.push_str(&urlencode(hint));
    }
    location
}

fn respond(side: Side, pairs: &[(String, String)], outcome: Result<Outcome, ServiceError>) -> Response {
    let paths = paths(side);
    let query = encode(&authorization::request_pairs(pairs));
    match outcome {
        Ok(Outcome::Page(message)) => error_page(StatusCode::BAD_REQUEST, &message),
        Ok(Outcome::NotFound) => error_page(StatusCode::NOT_FOUND, "There is nothing at this address."),
        Ok(Outcome::Redirect(location)) => Redirect::to(&location).into_response(),
        Ok(Outcome::Login(sign_in)) => Redirect::to(&login_location(side, pairs, &sign_in)).into_response(),
        Ok(Outcome::Consent(_)) => Redirect::to(&format!("{}?{query}", paths.consent)).into_response(),
        Err(ServiceError::Unavailable) => unavailable_page(),
        Err(err) => {
            tracing::error!(error = %err, "authorization endpoint failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The request could not be completed. Please try again in a moment.",
            )
        }
    }
}

/// Largest consent form we read.
const MAX_FORM_BYTES: usize = 16 * 1024;

async fn decide(state: AppState, side: Side, req: Request) -> Response {
    let csrf = req.extensions().get::<CsrfToken>().cloned();
    let signed = signed(&req, side);
    let Ok(body) = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES).await else {
        return error_page(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
    };
    let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if !csrf.is_some_and(|c| c.verify(field("csrf_token").unwrap_or(""))) {
        return error_page(
            StatusCode::FORBIDDEN,
            "The consent form expired. Go back to the application and start signing in again.",
        );
    }
    let pairs = authorization::request_pairs(&form);
    let Some(signed) = signed else {
        // The session ended while the page was open: sign in, then see the request again.
        return respond(side, &pairs, Ok(Outcome::Login(SignIn::default())));
    };
    let approve = match field("decision") {
        Some("grant") => true,
        Some("deny") => false,
        _ => return error_page(StatusCode::BAD_REQUEST, "Choose Grant or Cancel."),
    };
    respond(side, &pairs, authorization::decide(&state, side, &pairs, signed, approve, service::now()).await)
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page of a request that found the database unreachable: 503, try
/// again in a second.
pub fn unavailable_page() -> Response {
    let mut page = error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The server cannot reach its database at the moment. Please try again in a moment.",
    );
    page.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    page
}

/// A small server-rendered page for a request that cannot go back to the
/// application (RFC 6749 §4.1.2.1: never redirect to an untrusted URI).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = if status == StatusCode::NOT_FOUND { "Page not found" } else { "Authorization failed" };
    message_page(
        status,
        title,
        message,
        "If an application sent you here, go back to it and try again, or tell its developers.",
        None,
    )
}

/// A page with a status, a title, a message, a note and an optional link
/// (`(href, text)`), without any script. Everything is escaped here.
pub fn message_page(
    status: StatusCode,
    title: &str,
    message: &str,
    note: &str,
    link: Option<(&str, &str)>,
) -> Response {
    let link = link
        .map(|(href, text)| {
            format!(
                r#"<a class="mt-6 text-sm font-semibold text-indigo-600 hover:text-indigo-500" href="{}">{}</a>"#,
                escape(href),
                escape(text)
            )
        })
        .unwrap_or_default();
    let html = format!(
        r#"<!DOCTYPE html><html lang="en" class="h-full bg-slate-50"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} · Postern</title>
<link rel="stylesheet" href="{stylesheet}"><link rel="icon" type="image/svg+xml" href="/favicon.svg"></head>
<body class="h-full text-slate-800 antialiased"><main class="flex min-h-full flex-col items-center justify-center px-6 py-24 text-center">
<p class="text-sm font-semibold text-red-600">{code}</p>
<h1 class="mt-2 text-2xl font-bold tracking-tight text-slate-900">{title}</h1>
<p role="alert" class="mt-4 max-w-md text-slate-600">{message}</p>
<p class="mt-6 max-w-md text-sm text-slate-500">{note}</p>{link}
</main></body></html>"#,
        code = status.as_u16(),
        stylesheet = super::assets::stylesheet(),
        title = escape(title),
        message = escape(message),
        note = escape(note),
    );
    let mut response = (status, html).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}
