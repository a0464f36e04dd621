//! `POST /oauth2-token` (RFC 6749 §3.2, SPEC §4): reads the body as form or
//! JSON and answers the RFC 6749 §5 response.

use super::error::{no_store, oauth_error, oauth_error_with_status};
use crate::oauth::token_request::{Params, MAX_BODY_BYTES};
use crate::service;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return oauth_error_with_status(StatusCode::PAYLOAD_TOO_LARGE, "The request body is larger than 16 KiB."),
    };
    let params = match media_type.as_str() {
        "application/x-www-form-urlencoded" => Params::from_form(&bytes),
        "application/json" => Params::from_json(&bytes),
        _ => {
            return oauth_error_with_status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the request as application/x-www-form-urlencoded or application/json.",
            )
        }
    };
    let authorization = match headers.get(header::AUTHORIZATION).map(|v| v.to_str()) {
        None => None,
        Some(Ok(value)) => Some(value),
        Some(Err(_)) => return oauth_error(&crate::oauth::OAuthError::invalid_client(), true),
    };
    let result = match params {
        Ok(params) => service::token::exchange(&state, &params, authorization, service::now()).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(response) => (StatusCode::OK, no_store(), axum::Json(response)).into_response(),
        Err(err) => {
            if err.code == crate::oauth::ErrorCode::InvalidClient {
                tracing::info!(error = %err, "token request: client authentication failed");
            }
            oauth_error(&err, authorization.is_some())
        }
    }
}

/// Any method but POST (and OPTIONS, later for CORS).
pub async fn method_not_allowed() -> Response {
    let mut response =
        oauth_error_with_status(StatusCode::METHOD_NOT_ALLOWED, "The token endpoint accepts only POST requests.");
    response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
}
