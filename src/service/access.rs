//! Checking a bearer token presented to the APIs (RFC 6750, RFC 9068 §4):
//! signature, issuer, audience, expiry, and its record in the database
//! (both remembered between calls, see [`VerifiedTokens`] and [`TokenStatuses`]).

use super::memo::Memo;
use crate::oauth::jwt::{self, AccessTokenClaims, Expectations, TokenError};
use crate::oauth::scope::ClientKind;
use crate::state::AppState;
use crate::store;
use std::sync::Arc;

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

/// Tokens whose signature has been verified, by the SHA-256 of the token.
/// The RSA verification is the dearest part of an API call and a client
/// sends the same token for its whole life; the claims are still checked
/// (expiry, issuer, audience) on every call, and an entry counts only while
/// the key that signed it is in the key ring.
pub struct VerifiedTokens(Memo<[u8; 32], Arc<(AccessTokenClaims, String)>>);

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self(Memo::new(REMEMBERED_TOKENS))
    }
}

/// At most this many tokens are remembered (each table); then it starts afresh.
const REMEMBERED_TOKENS: usize = 20_000;

impl VerifiedTokens {
    /// [`jwt::verify`] against the state's key ring, remembered.
    pub fn verify(
        &self,
        state: &AppState,
        token: &str,
        expect: &Expectations<'_>,
        now: i64,
    ) -> Result<AccessTokenClaims, TokenError> {
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let ring = state.keys.ring();
        let window = key_window(state);
        if let Some(entry) = self.0.get(&digest) {
            let (claims, kid) = &*entry;
            if ring.verifying(now, window).any(|k| k.kid() == kid) {
                jwt::check(claims, expect, now)?;
                return Ok(claims.clone());
            }
        }
        let (claims, kid) = jwt::verify_keyed(token, ring.verifying(now, window), expect, now)?;
        // Nothing makes a valid signature invalid: no generation to respect.
        self.0.put(self.0.generation(), digest, Arc::new((claims.clone(), kid)));
        Ok(claims)
    }

    /// Forgets tokens that have expired (periodic pruning).
    pub fn remove_expired(&self, now: i64) {
        self.0.retain(|_, entry| entry.0.exp > now);
    }
}

/// The database's word on tokens (revoked? application active? user
/// enabled?), by `jti`. Every change that can make a token unusable —
/// revocation, a deactivated or deleted application, a disabled person —
/// empties it after its commit ([`AppState::access_changed`]), so the next
/// call reads the database again; until then an API call needs no query to
/// know its token is still good.
pub struct TokenStatuses(Memo<String, (i64, store::tokens::TokenStatus)>);

impl Default for TokenStatuses {
    fn default() -> Self {
        Self(Memo::new(REMEMBERED_TOKENS))
    }
}

impl TokenStatuses {
    pub async fn get(
        &self,
        db: &store::Db,
        claims: &AccessTokenClaims,
    ) -> Result<Option<store::tokens::TokenStatus>, sqlx::Error> {
        if let Some((_, status)) = self.0.get(&claims.jti) {
            return Ok(Some(status));
        }
        let as_of = self.0.generation();
        let status = store::tokens::status(db, &claims.jti).await?;
        if let Some(status) = &status {
            self.0.put(as_of, claims.jti.clone(), (claims.exp, status.clone()));
        }
        Ok(status)
    }

    pub fn forget_all(&self) {
        self.0.forget_all();
    }

    /// Forgets tokens that have expired (periodic pruning).
    pub fn remove_expired(&self, now: i64) {
        self.0.retain(|_, (exp, _)| *exp > now);
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
pub async fn authorize(
    state: &AppState,
    authorization: Option<&str>,
    kind: ClientKind,
    scope: &'static str,
    now: i64,
) -> Result<Access, AccessError> {
    let token = bearer(authorization)?;
    let expect = Expectations { issuer: state.site.issuer(kind), audience: state.site.audience(kind), kind };
    let claims = state.verified.verify(state, token, &expect, now)?;

    let status = state.token_statuses.get(&state.db, &claims).await.map_err(|e| {
        tracing::error!(error = %e, "API: token lookup failed");
        AccessError::Internal
    })?;
    let Some(status) = status else {
        return Err(AccessError::InvalidToken("The access token is not known."));
    };
    if status.revoked {
        return Err(AccessError::InvalidToken("The access token has been revoked."));
    }
    if !status.application_active {
        return Err(AccessError::InvalidToken("The application of this access token is inactive."));
    }
    if !status.subject_enabled {
        return Err(AccessError::InvalidToken("The user of this access token is disabled."));
    }
    if !status.subject_belongs {
        // Organizations are walls: a token reaches only an organization its
        // person belongs to, checked on every call (docs in SECURITY.md).
        return Err(AccessError::InvalidToken("The user of this access token does not belong to its organization."));
    }
    if status.kind != kind.as_str() {
        return Err(AccessError::InvalidToken("The access token is not valid for this API."));
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
