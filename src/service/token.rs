//! The token endpoint's work (RFC 6749 §3.2, §4, §6): authenticate the
//! client, let the grant's pure rules decide (`oauth::grant::*`), sign the
//! token and record it. One function per grant: [`client_credentials`],
//! [`redeem_code`], [`refresh`].

use super::audit::{self, AuditEvent};
use super::{oidc, random};
use crate::cache::clients::Client;
use crate::model::{GrantType, Subject};
use crate::oauth::client_auth::{self, ClientCredentials};
use crate::oauth::grant::authorization_code::{self, Redemption};
use crate::oauth::grant::refresh_token::{self, Refreshed};
use crate::oauth::grant::{self as grants, client_credentials as cc, RegisteredClient, TokenContext};
use crate::oauth::jwt::{AccessTokenClaims, SigningKey};
use crate::oauth::scope::Scope;
use crate::oauth::secret::hash_secret;
use crate::oauth::token_request::{GrantRequest, Params, TokenRequest};
use crate::oauth::OAuthError;
use crate::state::AppState;
use crate::store::applications::ClientRecord;
use crate::store::audit::NewEntry;
use crate::store::{self, Write};
use serde::Serialize;
use std::sync::Arc;

/// RFC 6749 §5.1 successful response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub token_type: &'static str,
    pub expires_in: i64,
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
    /// OpenID Connect Core §3.1.3.3: when the grant's scope has `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// A database failure on a protocol endpoint: logged here, answered as
/// RFC 6749 `server_error` without details.
pub(crate) fn internal(err: sqlx::Error) -> OAuthError {
    if crate::store::is_unstorable_input(&err) {
        return OAuthError::invalid_request("A parameter contains a character that cannot be stored (NUL).");
    }
    if crate::store::is_transient(&err) {
        tracing::warn!(error = %err, "token endpoint: the database cannot serve the request now (503)");
        return OAuthError::unavailable(1);
    }
    tracing::error!(error = %err, "token endpoint: database error");
    OAuthError::server_error()
}

/// Handles one token request given its parameters and Authorization header.
pub async fn exchange(
    state: &AppState,
    params: &Params,
    authorization: Option<&str>,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let request = TokenRequest::parse(params, authorization)?;
    let key = state.keys.signing_key().ok_or_else(OAuthError::no_encryption_key)?;
    let found = authenticate(state, &request.client).await?;
    let response = match request.grant {
        GrantRequest::ClientCredentials { scope } => client_credentials(state, &key, &found, &scope, now).await,
        GrantRequest::AuthorizationCode { code, redirect_uri, code_verifier } => {
            grants::require_code_grant(&found.registered)?;
            let redemption = Redemption {
                client_id: &found.registered.client_id,
                redirect_uri: redirect_uri.as_deref(),
                code_verifier: code_verifier.as_deref(),
            };
            redeem_code(state, &key, &found, &code, &redemption, now).await
        }
        GrantRequest::RefreshToken { refresh_token, scope } => {
            grants::require_code_grant(&found.registered)?;
            refresh(state, &key, &found, &refresh_token, scope.as_ref(), now).await
        }
        // The request parser knows only the grants above.
        _ => Err(OAuthError::new(crate::oauth::ErrorCode::UnsupportedGrantType, "This grant type is not supported.")),
    }?;
    if found.claim_touch(now) {
        store::applications::touch_last_used(&state.db, found.record.id, now).await.map_err(internal)?;
    }
    Ok(response)
}

/// Authenticates the client of a token, revocation or introspection
/// request (RFC 6749 §2.3, `oauth::client_auth`) and counts the request
/// against its rate limit.
pub async fn authenticate(state: &AppState, credentials: &ClientCredentials) -> Result<Arc<Client>, OAuthError> {
    let found = state
        .caches
        .clients
        .find(&state.db, &credentials.client_id)
        .await
        .map_err(internal)?
        .ok_or_else(OAuthError::invalid_client)?;
    client_auth::authenticate(&found.registered, credentials)?;
    state
        .limits
        .token_request_of(&found.record.client_id, &state.clock)
        .await
        .map_err(|wait| OAuthError::rate_limited(wait.seconds()))?;
    Ok(found)
}

/// The issuer, audience, identifier, time and lifetime of a new access token.
fn context<'s>(state: &'s AppState, client: &RegisteredClient, now: i64) -> TokenContext<'s> {
    TokenContext {
        issuer: state.site.issuer(client.side),
        audience: state.site.audience(client.side),
        jti: random::token_id(),
        now,
        lifetime: state.config.tokens.access_token_lifetime,
    }
}

/// RFC 6749 §4.4: a token acting as the application's owner. Recorded by
/// the group-commit writer, whose write is the last check.
async fn client_credentials(
    state: &AppState,
    key: &SigningKey,
    found: &Client,
    scope: &Scope,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let (record, client) = (&found.record, &found.registered);
    let claims = cc::grant(client, scope, context(state, client, now))?;
    let issued = store::tokens::IssuedToken {
        jti: claims.jti.clone(),
        application_id: record.id,
        application_name: record.name.clone(),
        client_id: record.client_id.clone(),
        secret_hash: record.secret_hash.clone(),
        user_id: record.owner_user_id,
        customer_user_id: record.owner_customer_user_id,
        username: record.owner_username.clone(),
        scope: claims.scope.clone(),
        issued_at: claims.iat,
        expires_at: claims.exp,
        detail: format!("grant client_credentials; scope \"{}\"; jti {}", claims.scope, claims.jti),
    };
    // Recorded and signed side by side: the answer waits for whichever is
    // last, not for both in turn (at half load the group commit's wait is
    // as long as the signature). Should signing fail, the row stays, for a
    // token nobody received: the audit log says "issued" one time too many.
    let pending = state.token_writer.submit(issued).await.map_err(internal)?;
    let access_token = key.sign(&claims)?;
    if !pending.recorded().await.map_err(internal)? {
        return Err(changed_behind_our_back(state));
    }
    tracing::info!(client_id = %claims.client_id, sub = %claims.sub, jti = %claims.jti, grant = "client_credentials", "access token issued");
    Ok(TokenResponse {
        token_type: "Bearer",
        expires_in: claims.exp - claims.iat,
        access_token,
        refresh_token: None,
        scope: claims.scope,
        id_token: None,
    })
}

/// The write that records a token found its application deactivated,
/// deleted, given a new secret or its owner unable to act, after this
/// request read it: refuse. A change committed through this process has
/// already moved the caches on; one made by another process (the command
/// line, an operator's SQL) is learnt here, so the caches drop it too.
fn changed_behind_our_back(state: &AppState) -> OAuthError {
    state.db.changes().publish();
    OAuthError::invalid_client()
}

/// Refuses (`invalid_client`) when the application cannot get tokens any
/// more (see [`changed_behind_our_back`]): checked in the transaction that
/// issues the token, once it holds the write lock, so that nothing is
/// issued after such a change is committed.
async fn client_still_usable(state: &AppState, w: &mut Write, record: &ClientRecord) -> Result<(), OAuthError> {
    if store::applications::still_usable(&mut *w, record.id, record.secret_hash.as_deref()).await.map_err(internal)? {
        return Ok(());
    }
    Err(changed_behind_our_back(state))
}

/// An access token and a refresh token for `subject` with `scope`, and the
/// writes that record them in the caller's transaction.
struct Pair {
    claims: AccessTokenClaims,
    access_token: String,
    refresh_token: String,
    refresh_expires_at: i64,
}

impl Pair {
    fn mint(
        state: &AppState,
        key: &SigningKey,
        client: &RegisteredClient,
        subject: Subject,
        scope: &Scope,
        now: i64,
    ) -> Result<Self, OAuthError> {
        let claims = grants::access_token_claims(client, subject.sub(), scope, context(state, client, now));
        let access_token = key.sign(&claims)?;
        Ok(Pair {
            claims,
            access_token,
            refresh_token: random::token(32),
            refresh_expires_at: now + state.config.tokens.refresh_token_lifetime,
        })
    }

    /// Records both tokens of `grant_id` and the audit entry (never the
    /// tokens themselves: the jti, and the refresh token's SHA-256).
    async fn store(
        &self,
        w: &mut Write,
        record: &ClientRecord,
        subject: Subject,
        grant_id: i64,
        grant: GrantType,
        how: &str,
    ) -> Result<(), sqlx::Error> {
        let claims = &self.claims;
        let detail = format!("grant {how}; scope \"{}\"; jti {}; grant id {grant_id}", claims.scope, claims.jti);
        let entry = NewEntry {
            user_id: subject.user_id(),
            customer_user_id: subject.customer_user_id(),
            application_id: Some(record.id),
            detail: &detail,
            ..audit::entry(AuditEvent::TokenIssued, claims.iat)
        };
        audit::record(&mut *w, &entry).await?;
        let token = store::tokens::NewAccessToken {
            jti: &claims.jti,
            application_id: record.id,
            grant_type: grant,
            user_id: subject.user_id(),
            customer_user_id: subject.customer_user_id(),
            scope: &claims.scope,
            issued_at: claims.iat,
            expires_at: claims.exp,
            grant_id: Some(grant_id),
        };
        store::tokens::insert(&mut *w, &token).await?;
        store::grants::insert_refresh_token(
            w,
            &hash_secret(&self.refresh_token),
            grant_id,
            claims.iat,
            self.refresh_expires_at,
        )
        .await
    }

    /// The ID token beside this pair, when `scope` has `openid`.
    async fn id_token(
        &self,
        state: &AppState,
        key: &SigningKey,
        client: &RegisteredClient,
        subject: Subject,
        scope: &Scope,
        authentication: oidc::Authentication<'_>,
    ) -> Result<Option<String>, OAuthError> {
        if !scope.is_openid() {
            return Ok(None);
        }
        let (side, client_id, now) = (client.side, client.client_id.as_str(), self.claims.iat);
        oidc::id_token(state, key, side, client_id, subject, scope, authentication, &self.access_token, now)
            .await
            .map(Some)
    }

    fn response(self, id_token: Option<String>) -> TokenResponse {
        TokenResponse {
            token_type: "Bearer",
            expires_in: self.claims.exp - self.claims.iat,
            access_token: self.access_token,
            refresh_token: Some(self.refresh_token),
            scope: self.claims.scope,
            id_token,
        }
    }
}

/// Records `token.reuse_detected` for the grant `grant_id`.
async fn reuse_entry(w: &mut Write, grant_id: i64, detail: &str, now: i64) -> Result<(), sqlx::Error> {
    let Some(grant) = store::grants::find_grant(&mut *w, grant_id).await? else { return Ok(()) };
    let entry = NewEntry {
        user_id: grant.user_id,
        customer_user_id: grant.customer_user_id,
        application_id: Some(grant.application_id),
        detail,
        ..audit::entry(AuditEvent::TokenReuseDetected, now)
    };
    audit::record(&mut *w, &entry).await
}

/// A replayed code: revoke what its first redemption issued (RFC 6749 §4.1.2).
async fn revoke_code_grant(state: &AppState, code_hash: &[u8], now: i64) -> Result<(), OAuthError> {
    let mut w = state.db.write().await.map_err(internal)?;
    if let Some(grant_id) = store::grants::revoke_grant_of_code(&mut w, code_hash, now).await.map_err(internal)? {
        tracing::warn!(grant_id, "authorization code replayed: its tokens are revoked");
        let detail = format!("authorization code used twice; grant id {grant_id} and its tokens revoked");
        reuse_entry(&mut w, grant_id, &detail, now).await.map_err(internal)?;
    }
    w.commit().await.map_err(internal)
}

/// RFC 6749 §4.1.3: exchanges a code for an access token and a refresh token.
async fn redeem_code(
    state: &AppState,
    key: &SigningKey,
    found: &Client,
    code: &str,
    redemption: &Redemption<'_>,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let (record, client) = (&found.record, &found.registered);
    let code_hash = hash_secret(code);
    let stored = store::grants::find_code(&state.db, &code_hash)
        .await
        .map_err(internal)?
        .ok_or_else(|| OAuthError::invalid_grant("The authorization code is not valid."))?;
    let issued = stored.issued();
    let subject = match authorization_code::redeem(&issued, redemption, now) {
        Ok(subject) => subject,
        Err(authorization_code::Refusal::Refuse(err)) => return Err(err),
        Err(authorization_code::Refusal::Replay(err)) => {
            revoke_code_grant(state, &code_hash, now).await?;
            return Err(err);
        }
    };
    let pair = Pair::mint(state, key, client, subject, &issued.scope, now)?;
    let authentication = oidc::Authentication { auth_time: stored.auth_time, nonce: stored.nonce.as_deref() };
    let id_token = pair.id_token(state, key, client, subject, &issued.scope, authentication).await?;

    let mut w = state.db.write().await.map_err(internal)?;
    if !store::grants::claim_code(&mut w, &code_hash, now).await.map_err(internal)? {
        // Another request redeemed it between our read and now.
        drop(w);
        revoke_code_grant(state, &code_hash, now).await?;
        return Err(OAuthError::invalid_grant(
            "The authorization code has already been used; the tokens issued for it are revoked.",
        ));
    }
    client_still_usable(state, &mut w, record).await?;
    let grant = store::grants::NewGrant {
        application_id: record.id,
        subject,
        scope: &pair.claims.scope,
        auth_time: stored.auth_time,
        claims: stored.claims.as_deref(),
        now,
        expires_at: pair.refresh_expires_at,
    };
    let grant_id = store::grants::insert_grant(&mut w, &grant).await.map_err(internal)?;
    store::grants::set_code_grant(&mut w, &code_hash, grant_id).await.map_err(internal)?;
    pair.store(&mut w, record, subject, grant_id, GrantType::AuthorizationCode, "authorization_code")
        .await
        .map_err(internal)?;
    w.commit().await.map_err(internal)?;
    tracing::info!(client_id = %client.client_id, sub = %pair.claims.sub, jti = %pair.claims.jti, grant_id, grant = "authorization_code", id_token = id_token.is_some(), "access token issued");
    Ok(pair.response(id_token))
}

/// A spent refresh token came back: revoke its whole grant (RFC 9700
/// §4.14.2) and answer `invalid_grant`.
async fn reuse(state: &AppState, grant_id: i64, now: i64) -> Result<TokenResponse, OAuthError> {
    let mut w = state.db.write().await.map_err(internal)?;
    if store::grants::revoke_grant(&mut w, grant_id, "refresh_reuse", now).await.map_err(internal)? {
        tracing::warn!(grant_id, "a rotated refresh token was presented again: the grant is revoked");
        let detail = format!("spent refresh token presented again; grant id {grant_id} and its tokens revoked");
        reuse_entry(&mut w, grant_id, &detail, now).await.map_err(internal)?;
    }
    w.commit().await.map_err(internal)?;
    Err(refresh_token::reuse_error())
}

/// RFC 6749 §6 with rotation (RFC 9700 §4.14.2): the presented refresh
/// token is spent, a new one replaces it; presenting a spent one revokes
/// the grant. The rules are `oauth::grant::refresh_token`'s.
async fn refresh(
    state: &AppState,
    key: &SigningKey,
    found: &Client,
    refresh_token: &str,
    requested: Option<&Scope>,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let (record, client) = (&found.record, &found.registered);
    let token_hash = hash_secret(refresh_token);
    let stored = store::grants::find_refresh_token(&state.db, &token_hash)
        .await
        .map_err(internal)?
        .ok_or_else(|| OAuthError::invalid_grant("The refresh token is not valid."))?;
    let Refreshed { subject, scope } = match refresh_token::refresh(&stored.stored(), &client.client_id, requested, now)
    {
        Ok(refreshed) => refreshed,
        Err(refresh_token::Refusal::Refuse(err)) => return Err(err),
        Err(refresh_token::Refusal::Reuse(_)) => return reuse(state, stored.grant_id, now).await,
    };
    let pair = Pair::mint(state, key, client, subject, &scope, now)?;
    // OpenID Connect Core §12.2: the original auth_time, a new iat, no nonce.
    let authentication = oidc::Authentication { auth_time: stored.auth_time, nonce: None };
    let id_token = pair.id_token(state, key, client, subject, &scope, authentication).await?;

    let mut w = state.db.write().await.map_err(internal)?;
    if !store::grants::claim_refresh_token(&mut w, &token_hash, now).await.map_err(internal)? {
        drop(w);
        // Spent by a concurrent request (a reuse), or revoked meanwhile.
        let again = store::grants::find_refresh_token(&state.db, &token_hash).await.map_err(internal)?;
        return match again {
            Some(r) if r.rotated_at.is_some() && !r.grant_revoked => reuse(state, r.grant_id, now).await,
            _ => Err(OAuthError::invalid_grant("The refresh token has been revoked.")),
        };
    }
    client_still_usable(state, &mut w, record).await?;
    pair.store(&mut w, record, subject, stored.grant_id, GrantType::AuthorizationCode, "refresh_token")
        .await
        .map_err(internal)?;
    w.commit().await.map_err(internal)?;
    tracing::info!(client_id = %client.client_id, sub = %pair.claims.sub, jti = %pair.claims.jti, grant_id = stored.grant_id, grant = "refresh_token", id_token = id_token.is_some(), "access token issued");
    Ok(pair.response(id_token))
}
