//! Checking a bearer token presented to the APIs (RFC 6750, RFC 9068 §4):
//! signature, issuer, audience, expiry, and its record in the database
//! (both remembered between calls, see `crate::cache::tokens`), judged by
//! `oauth::access_token`.

use crate::model::Side;
use crate::oauth::jwt::{AccessTokenClaims, Expectations, TokenError};
use crate::state::AppState;

/// A token the API accepted.
#[derive(Debug, Clone)]
pub struct Access {
    pub claims: AccessTokenClaims,
    pub organization_id: i64,
    pub user_id: Option<i64>,
    pub customer_user_id: Option<i64>,
}

/// Why a request was refused; the HTTP layer turns it into 401/403.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// No `Authorization: Bearer` header (RFC 6750 §3.1: no error code).
    #[error("the request has no bearer token")]
    Missing,
    #[error("{0}")]
    InvalidToken(&'static str),
    /// The token lacks a scope the API needs (RFC 6750 §3.1).
    #[error("the token lacks the scope {0}")]
    InsufficientScope(&'static str),
    #[error("internal error")]
    Internal,
    /// The database cannot serve the lookup at the moment (503).
    #[error("the database cannot serve the request now")]
    Unavailable,
}

impl From<TokenError> for AccessError {
    fn from(err: TokenError) -> Self {
        AccessError::InvalidToken(match err {
            TokenError::Malformed => "The access token is malformed.",
            TokenError::UnknownKey | TokenError::BadSignature => "The access token signature is invalid.",
            TokenError::WrongAudience | TokenError::WrongIssuer => "The access token is not valid for this API.",
            TokenError::Expired => "The access token has expired.",
            TokenError::NotYetValid => "The access token is not valid yet.",
        })
    }
}

/// How long a retired key keeps verifying after its rotation: the longest
/// an access token it signed can live, plus the time the server may take to
/// notice the rotation, plus a minute of clock slack.
pub fn key_window(state: &AppState) -> i64 {
    state.config.tokens.access_token_lifetime + state.config.maintenance.key_reload_interval as i64 + 60
}

/// Extracts the token from an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, AccessError> {
    let header = header.ok_or(AccessError::Missing)?;
    let (scheme, token) = header.trim().split_once(' ').ok_or(AccessError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AccessError::Missing);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AccessError::InvalidToken("The access token is empty."));
    }
    Ok(token)
}

/// Verifies a token for the API of `kind` at time `now`, requiring `scope`.
pub async fn accept_bearer(
    state: &AppState,
    authorization: Option<&str>,
    kind: Side,
    scope: &'static str,
    now: i64,
) -> Result<Access, AccessError> {
    let token = bearer(authorization)?;
    let expect = Expectations { issuer: state.site.issuer(kind), audience: state.site.audience(kind) };
    let claims = state.caches.verified.verify(&state.keys.ring(), key_window(state), token, &expect, now)?;

    let status = state.caches.token_statuses.get(&state.db, &claims).await.map_err(|e| {
        if crate::store::is_transient(&e) {
            tracing::warn!(error = %e, "API: the database cannot serve the token lookup now (503)");
            return AccessError::Unavailable;
        }
        tracing::error!(error = %e, "API: token lookup failed");
        AccessError::Internal
    })?;
    let Some(status) = status else {
        return Err(AccessError::InvalidToken("The access token is not known."));
    };
    if let Some(why) = status.record().refusal(kind) {
        return Err(AccessError::InvalidToken(why));
    }
    if !claims.scope.split(' ').any(|s| s == scope) {
        return Err(AccessError::InsufficientScope(scope));
    }
    Ok(Access {
        claims,
        organization_id: status.organization_id,
        user_id: status.user_id,
        customer_user_id: status.customer_user_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_required() {
        assert_eq!(bearer(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer(Some("bearer   abc ")), Ok("abc"));
        assert_eq!(bearer(None), Err(AccessError::Missing));
        assert_eq!(bearer(Some("Basic YTpi")), Err(AccessError::Missing));
        assert!(matches!(bearer(Some("Bearer  ")), Err(AccessError::Missing | AccessError::InvalidToken(_))));
    }
}
