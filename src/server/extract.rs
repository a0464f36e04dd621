//! Typed extractors for the RFC endpoints and the bearer-protected APIs:
//! each handler names what it needs in its signature, and the reading,
//! limiting and refusing happens here, once.
//!
//! - [`ProtocolRequest`]: a token, revocation or introspection request —
//!   counted against the caller's address, body read as form or JSON
//!   (≤ 16 KiB), refused with RFC 6749 error JSON (429, 413, 415, 400, 401).
//! - [`Bearer`]: an access token accepted by one API (RFC 6750 §2.1 header
//!   only), refused with 401/403 and `WWW-Authenticate` (RFC 6750 §3).

use super::error::{access_error, oauth_error, oauth_error_with_status};
use super::headers::ClientIp;
use crate::model::Side;
use crate::oauth::client_auth::parse_basic;
use crate::oauth::token_request::{Params, MAX_BODY_BYTES};
use crate::oauth::{ErrorCode, OAuthError};
use crate::service;
use crate::service::access::{self, Access, AccessError};
use crate::service::audit::{self, AuditEvent};
use crate::state::AppState;
use crate::store::audit::NewEntry;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::Response;
use std::marker::PhantomData;

/// A parsed protocol request: its parameters and `Authorization` header.
pub struct ProtocolRequest {
    pub params: Params,
    authorization: Option<String>,
    ip: Option<ClientIp>,
}

impl FromRequest<AppState> for ProtocolRequest {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let ip = req.extensions().get::<ClientIp>().copied();
        if let Some(ip) = ip {
            // Per address, and per IPv6 /64 (crate::limits::AddressLimiter).
            if let Err(refused) = state.limits.token_request_from(ip.0, &state.clock).await {
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
        let Ok(bytes) = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES).await else {
            return Err(oauth_error_with_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is larger than 16 KiB.",
            ));
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
}

impl ProtocolRequest {
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    /// Answers an error; a failed client authentication is counted in the
    /// audit log (with the client_id presented, never the secret).
    pub async fn refuse(&self, state: &AppState, endpoint: &str, err: OAuthError) -> Response {
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

/// Which API a bearer token is presented to: its side and the scope it needs.
pub trait Api: Send + Sync + 'static {
    const SIDE: Side;
    const SCOPE: &'static str;
}

/// The back-office API (`/api/users`).
pub struct UsersApi;
impl Api for UsersApi {
    const SIDE: Side = Side::BackOffice;
    const SCOPE: &'static str = "users:read";
}

/// The storefront API (`/storefront/api/customerusers/mine`).
pub struct ProfileApi;
impl Api for ProfileApi {
    const SIDE: Side = Side::Storefront;
    const SCOPE: &'static str = "profile";
}

/// An access token `A` accepts (`service::access::accept_bearer`).
pub struct Bearer<A: Api>(pub Access, pub PhantomData<A>);

impl<A: Api> FromRequestParts<AppState> for Bearer<A> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let query = parts.uri.query();
        if query.is_some_and(|q| q.split('&').any(|p| p.split('=').next() == Some("access_token"))) {
            // RFC 6750 §2.1 only: the query parameter of RFC 6750 §2.3 leaks the
            // token into logs and history (RFC 9700 §4.3), so it is refused.
            return Err(access_error(&AccessError::InvalidToken(
                "Access tokens in the query string are not accepted; use the Authorization header.",
            )));
        }
        let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        match access::accept_bearer(state, authorization, A::SIDE, A::SCOPE, service::now()).await {
            Ok(access) => Ok(Bearer(access, PhantomData)),
            Err(err) => Err(access_error(&err)),
        }
    }
}
