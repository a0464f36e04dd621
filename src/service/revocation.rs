//! RFC 7009 token revocation and RFC 7662 token introspection, with the
//! client authentication of the token endpoint. A client learns about,
//! and revokes, only the tokens issued to it. The requests are parsed by
//! `oauth::revocation`; whether a token is live is decided by
//! `oauth::access_token` and `oauth::grant::refresh_token`.

use super::audit::{self, AuditEvent};
use super::token::{authenticate, internal};
use crate::oauth::client_auth::client_credentials;
use crate::oauth::grant::refresh_token;
use crate::oauth::jwt::Expectations;
use crate::oauth::revocation::{TokenQuery, TokenTypeHint};
use crate::oauth::secret::hash_secret;
use crate::oauth::token_request::Params;
use crate::oauth::{ErrorCode, OAuthError};
use crate::state::AppState;
use crate::store;
use crate::store::audit::NewEntry;
use serde::Serialize;

/// What a token turned out to be, if it is one of the caller's.
enum Found {
    Access { claims: crate::oauth::jwt::AccessTokenClaims, status: store::tokens::TokenStatus },
    Refresh(store::grants::RefreshRecord),
}

/// Looks the token up as the hint says first, then as the other type
/// (RFC 7009 §2.1). Tokens of other clients are not found.
async fn find(
    state: &AppState,
    client: &crate::oauth::grant::RegisteredClient,
    query: &TokenQuery<'_>,
    now: i64,
) -> Result<Option<Found>, OAuthError> {
    for kind in query.lookup_order() {
        let found = match kind {
            TokenTypeHint::AccessToken if query.may_be_access_token() => {
                find_access(state, client, query.token, now).await?
            }
            TokenTypeHint::AccessToken => None,
            TokenTypeHint::RefreshToken => find_refresh(state, client, query.token).await?,
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

async fn find_access(
    state: &AppState,
    client: &crate::oauth::grant::RegisteredClient,
    token: &str,
    now: i64,
) -> Result<Option<Found>, OAuthError> {
    let side = client.side;
    let expect = Expectations { issuer: state.site.issuer(side), audience: state.site.audience(side) };
    let window = super::access::key_window(state);
    let Ok(claims) = state.caches.verified.verify(&state.keys.ring(), window, token, &expect, now) else {
        return Ok(None);
    };
    if claims.client_id != client.client_id {
        return Ok(None);
    }
    let status = store::tokens::status(&state.db, &claims.jti).await.map_err(internal)?;
    Ok(status.map(|status| Found::Access { claims, status }))
}

async fn find_refresh(
    state: &AppState,
    client: &crate::oauth::grant::RegisteredClient,
    token: &str,
) -> Result<Option<Found>, OAuthError> {
    let record = store::grants::find_refresh_token(&state.db, &hash_secret(token)).await.map_err(internal)?;
    Ok(record.filter(|r| r.client_id == client.client_id).map(Found::Refresh))
}

/// RFC 7009: revokes an access token (that one only) or a refresh token
/// (its whole grant: every refresh and access token issued from it). An
/// unknown, expired or foreign token is answered like a revoked one.
pub async fn revoke(
    state: &AppState,
    params: &Params,
    authorization: Option<&str>,
    now: i64,
) -> Result<(), OAuthError> {
    let query = TokenQuery::revocation(params)?;
    let credentials = client_credentials(authorization, params.get("client_id"), params.get("client_secret"))?;
    let caller = authenticate(state, &credentials).await?;
    let (record, client) = (&caller.record, &caller.registered);
    let Some(found) = find(state, client, &query, now).await? else {
        tracing::info!(client_id = %client.client_id, "revocation: token unknown, expired or not this client's");
        return Ok(());
    };
    let mut tx = state.db.write().await.map_err(internal)?;
    let (detail, user_id, customer_user_id) = match &found {
        Found::Access { claims, status } => {
            if !store::tokens::revoke(&mut tx, &claims.jti, now).await.map_err(internal)? {
                return Ok(());
            }
            (format!("access token jti {}", claims.jti), status.user_id, status.customer_user_id)
        }
        Found::Refresh(r) => {
            if !store::grants::revoke_grant(&mut tx, r.grant_id, "client", now).await.map_err(internal)? {
                return Ok(());
            }
            let subject = r.subject();
            (
                format!("refresh token; grant id {} and its tokens revoked", r.grant_id),
                subject.and_then(|s| s.user_id()),
                subject.and_then(|s| s.customer_user_id()),
            )
        }
    };
    let entry = NewEntry {
        user_id,
        customer_user_id,
        application_id: Some(record.id),
        detail: &detail,
        ..audit::entry(AuditEvent::TokenRevoked, now)
    };
    audit::record(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(client_id = %client.client_id, %detail, "token revoked by its client");
    Ok(())
}

/// RFC 7662 §2.2 response. Inactive tokens get `{"active": false}` only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// RFC 7662: what a confidential client may know about one of its tokens.
pub async fn introspect(
    state: &AppState,
    params: &Params,
    authorization: Option<&str>,
    now: i64,
) -> Result<Introspection, OAuthError> {
    let query = TokenQuery::introspection(params)?;
    let credentials = client_credentials(authorization, params.get("client_id"), params.get("client_secret"))?;
    let caller = authenticate(state, &credentials).await?;
    let client = &caller.registered;
    if !client.confidential {
        // RFC 7662 §4: the endpoint must not become a token-scanning oracle
        // for anyone who knows a public client_id.
        return Err(OAuthError::new(ErrorCode::InvalidClient, "Only confidential clients may use introspection."));
    }
    let inactive = Introspection::default();
    let Some(found) = find(state, client, &query, now).await? else { return Ok(inactive) };
    Ok(match found {
        Found::Access { claims, status } => {
            if !status.record().is_live(client.side) {
                return Ok(inactive);
            }
            Introspection {
                active: true,
                scope: Some(claims.scope),
                client_id: Some(claims.client_id),
                token_type: Some("Bearer"),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                nbf: Some(claims.nbf),
                sub: Some(claims.sub),
                aud: Some(claims.aud),
                iss: Some(claims.iss),
                jti: Some(claims.jti),
            }
        }
        Found::Refresh(r) => {
            let Some(subject) = r.subject().filter(|_| refresh_token::is_live(&r.stored(), now)) else {
                return Ok(inactive);
            };
            Introspection {
                active: true,
                scope: Some(r.scope.to_string()),
                client_id: Some(r.client_id),
                token_type: Some("refresh_token"),
                exp: Some(r.expires_at),
                iat: Some(r.issued_at),
                sub: Some(subject.sub()),
                iss: Some(state.site.issuer(client.side).to_owned()),
                ..Introspection::default()
            }
        }
    })
}
