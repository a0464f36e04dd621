//! `POST /oauth2-token` (RFC 6749 §3.2, §5), `POST /oauth2-token/revoke`
//! (RFC 7009) and `POST /oauth2-token/introspect` (RFC 7662): read the body
//! as form or JSON, count the request against the caller's address, and
//! answer RFC error JSON.

use super::error::{no_store, oauth_error, oauth_error_with_status};
use super::headers::ClientIp;
use crate::oauth::client_auth::parse_basic;
use crate::oauth::token_request::{Params, MAX_BODY_BYTES};
use crate::oauth::{ErrorCode, OAuthError};
use crate::service;
use crate::service::audit::{self, AuditEvent};
use crate::state::AppState;
use crate::store::audit::NewEntry;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// A parsed protocol request: its parameters and `Authorization` header.
struct ProtocolRequest {
    params: Params,
    authorization: Option<String>,
    ip: Option<ClientIp>,
}

/// Reads the request, or answers the error (413, 415, 429, 400, 401).
async fn read(state: &AppState, req: Request) -> Result<ProtocolRequest, Response> {
    let ip = req.extensions().get::<ClientIp>().copied();
    if let Some(ip) = ip {
        // Per address, and per IPv6 /64 (crate::limits::AddressLimiter).
        if let Err(refused) = state.limits.token_per_ip.check(ip.0, std::time::Instant::now()) {
            tracing::warn!(ip = %ip.0, key = %refused.key, "token endpoints: rate limit reached for this address");
            return Err(oauth_error(&OAuthError::rate_limited(refused.wait.seconds()), false));
        }
    }
    let headers = req.headers();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let authorization = match headers.get(header::AUTHORIZATION).map(|v| v.to_str()) {
        None => None,
        Some(Ok(value)) => Some(value.to_owned()),
        Some(Err(_)) => return Err(oauth_error(&OAuthError::invalid_client(), true)),
    };
    let bytes = match axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Err(oauth_error_with_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is larger than 16 KiB.",
            ))
        }
    };
    let params = match media_type.as_str() {
        "application/x-www-form-urlencoded" => Params::from_form(&bytes),
        "application/json" => Params::from_json(&bytes),
        _ => {
            return Err(oauth_error_with_status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the request as application/x-www-form-urlencoded or application/json.",
            ))
        }
    };
    match params {
        Ok(params) => Ok(ProtocolRequest { params, authorization, ip }),
        Err(err) => Err(oauth_error(&err, authorization.is_some())),
    }
}

impl ProtocolRequest {
    fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    /// Answers an error; a failed client authentication is counted in the
    /// audit log (with the client_id presented, never the secret).
    async fn refuse(&self, state: &AppState, endpoint: &str, err: OAuthError) -> Response {
        if err.code == ErrorCode::InvalidClient {
            let presented = match self.authorization() {
                Some(header) => parse_basic(header).ok().map(|(id, _)| id),
                None => self.params.get("client_id").map(str::to_owned),
            };
            tracing::info!(error = %err, client_id = presented.as_deref().unwrap_or(""), endpoint, "client authentication failed");
            let ip = self.ip.map(|ip| ip.0.to_string());
            let detail = format!("{endpoint}: {}", err.description);
            let entry = NewEntry {
                client_id: presented.as_deref().map(audit::clip),
                ip: ip.as_deref(),
                detail: &detail,
                ..audit::entry(AuditEvent::ClientAuthenticationFailed, service::now())
            };
            audit::note(&state.db, &entry).await;
        }
        oauth_error(&err, self.authorization.is_some())
    }
}

/// `POST /oauth2-token`.
pub async fn token(State(state): State<AppState>, req: Request) -> Response {
    let request = match read(&state, req).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    match service::token::exchange(&state, &request.params, request.authorization(), service::now()).await {
        Ok(response) => (StatusCode::OK, no_store(), axum::Json(response)).into_response(),
        Err(err) => request.refuse(&state, "token", err).await,
    }
}

/// `POST /oauth2-token/revoke` (RFC 7009 §2.2): 200 with an empty body,
/// also for a token that is unknown or already revoked.
pub async fn revoke(State(state): State<AppState>, req: Request) -> Response {
    let request = match read(&state, req).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    match service::lifecycle::revoke(&state, &request.params, request.authorization(), service::now()).await {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(err) => request.refuse(&state, "revocation", err).await,
    }
}

/// `POST /oauth2-token/introspect` (RFC 7662 §2.2).
pub async fn introspect(State(state): State<AppState>, req: Request) -> Response {
    let request = match read(&state, req).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    match service::lifecycle::introspect(&state, &request.params, request.authorization(), service::now()).await {
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
