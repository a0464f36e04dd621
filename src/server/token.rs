//! `POST /oauth2-token` (RFC 6749 §3.2, §5), `POST /oauth2-token/revoke`
//! (RFC 7009) and `POST /oauth2-token/introspect` (RFC 7662). The request
//! is read by [`ProtocolRequest`] (`server::extract`); errors are RFC JSON.

use super::error::{no_store, oauth_error_with_status};
use super::extract::ProtocolRequest;
use crate::service;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// `POST /oauth2-token`.
pub async fn token(State(state): State<AppState>, request: ProtocolRequest) -> Response {
    match service::token::exchange(&state, &request.params, request.authorization(), service::now()).await {
        Ok(response) => (StatusCode::OK, no_store(), axum::Json(response)).into_response(),
        Err(err) => request.refuse(&state, "token", err).await,
    }
}

/// `POST /oauth2-token/revoke` (RFC 7009 §2.2): 200 with an empty body,
/// also for a token that is unknown or already revoked.
pub async fn revoke(State(state): State<AppState>, request: ProtocolRequest) -> Response {
    match service::revocation::revoke(&state, &request.params, request.authorization(), service::now()).await {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(err) => request.refuse(&state, "revocation", err).await,
    }
}

/// `POST /oauth2-token/introspect` (RFC 7662 §2.2).
pub async fn introspect(State(state): State<AppState>, request: ProtocolRequest) -> Response {
    match service::revocation::introspect(&state, &request.params, request.authorization(), service::now()).await {
        Ok(answer) => (StatusCode::OK, no_store(), axum::Json(answer)).into_response(),
        Err(err) => request.refuse(&state, "introspection", err).await,
    }
}

/// Any method but POST (and OPTIONS, answered by the CORS layer).
pub async fn method_not_allowed() -> Response {
    let mut response =
        oauth_error_with_status(StatusCode::METHOD_NOT_ALLOWED, "This endpoint accepts only POST requests.");
    response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
}
