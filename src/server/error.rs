//! Where protocol and API errors become HTTP responses: status codes,
//! `WWW-Authenticate`, `Cache-Control`. Internals are logged, never sent.

use crate::oauth::{ErrorCode, OAuthError};
use crate::service::access::AccessError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// RFC 6749 §5.2 error response; `basic_auth` adds the `WWW-Authenticate`
/// challenge a client that used HTTP Basic must get with a 401.
pub fn oauth_error(err: &OAuthError, basic_auth: bool) -> Response {
    let status = match err.code {
        ErrorCode::InvalidClient | ErrorCode::NoEncryptionKey => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::TemporarilyUnavailable => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut body = json!({ "error": err.code.as_str(), "error_description": err.description });
    if let Some(hint) = &err.hint {
        body["hint"] = json!(hint);
    }
    let mut response = (status, no_store(), axum::Json(body)).into_response();
    if let Some(seconds) = err.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if err.code == ErrorCode::InvalidClient && basic_auth {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"OAuth\""));
    }
    response
}

/// An RFC 6749 error with a status of the HTTP layer's own (405, 413, 415).
pub fn oauth_error_with_status(status: StatusCode, description: &'static str) -> Response {
    let body = json!({ "error": "invalid_request", "error_description": description });
    (status, no_store(), axum::Json(body)).into_response()
}

/// RFC 6749 §5.1: token responses must not be cached.
pub fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

pub const JSON_API: &str = "application/vnd.api+json";

/// A JSON:API error document.
pub fn json_api_error(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = json!({ "errors": [{ "status": status.as_u16().to_string(), "title": title, "detail": detail }] });
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON_API))], body.to_string()).into_response()
}

/// RFC 6750 §3: the challenge for a refused bearer token.
pub fn access_error(err: &AccessError) -> Response {
    let (status, challenge, detail) = match err {
        AccessError::Missing => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"Postern\"".to_owned(),
            "Send an access token in the Authorization header: \"Authorization: Bearer <token>\".",
        ),
        AccessError::InvalidToken(why) => (
            StatusCode::UNAUTHORIZED,
            format!("Bearer realm=\"Postern\", error=\"invalid_token\", error_description=\"{why}\""),
            *why,
        ),
        AccessError::InsufficientScope(scope) => (
            StatusCode::FORBIDDEN,
            format!("Bearer realm=\"Postern\", error=\"insufficient_scope\", scope=\"{scope}\""),
            "The access token does not carry the scope this API needs.",
        ),
        AccessError::Internal => {
            return json_api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
                "An internal error occurred; it has been logged.",
            )
        }
        AccessError::Unavailable => {
            let mut response = json_api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "The server cannot complete requests at the moment; try again shortly.",
            );
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
    };
    let title = if status == StatusCode::FORBIDDEN { "Forbidden" } else { "Unauthorized" };
    let mut response = json_api_error(status, title, detail);
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}
