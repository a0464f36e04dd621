//! The token endpoint's work (RFC 6749 §3.2, §4, §6): authenticate the client,
//! run the grant, sign the token and record it.

use super::random;
use crate::oauth::client_auth::ClientCredentials;
use crate::oauth::grant::authorization_code::{self, IssuedCode, Redemption, Refusal};
use crate::oauth::grant::{client_credentials, GrantType, RegisteredClient};
use crate::oauth::jwt::{AccessTokenClaims, SigningKey};
use crate::oauth::pkce::CodeChallenge;
use crate::oauth::scope::Scope;
use crate::oauth::secret::hash_secret;
use crate::oauth::token_request::{GrantRequest, Params, TokenRequest};
use crate::oauth::{ErrorCode, OAuthError};
use crate::service::audit::{self, AuditEvent};
use crate::service::clients::Client;
use crate::state::AppState;
use crate::store;
use crate::store::audit::NewEntry;
use crate::store::grants::Subject;
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
}

fn internal(err: sqlx::Error) -> OAuthError {
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
    let (record, client) = (&found.record, &found.registered);

    let response = match request.grant {
        GrantRequest::ClientCredentials { scope } => {
            let ctx = client_credentials::TokenContext {
                issuer: state.site.issuer(client.kind),
                audience: state.site.audience(client.kind),
                jti: crate::service::random::token(16),
                now,
                lifetime: state.config.tokens.access_token_lifetime,
            };
            let claims = client_credentials::grant(client, &scope, ctx)?;
            let access_token = key.sign(&claims)?;
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
            if !state.token_writer.record(issued).await.map_err(internal)? {
                // Deactivated, deleted, given a new secret or its owner
                // disabled after this request read it: refuse, and read it
                // afresh next time.
                state.access_changed();
                return Err(OAuthError::invalid_client());
            }
            tracing::info!(client_id = %claims.client_id, sub = %claims.sub, jti = %claims.jti, grant = "client_credentials", "access token issued");
            Ok(TokenResponse {
                token_type: "Bearer",
                expires_in: claims.exp - claims.iat,
                access_token,
                refresh_token: None,
                scope: claims.scope,
            })
        }
        GrantRequest::AuthorizationCode { code, redirect_uri, code_verifier } => {
            require_code_grant(client)?;
            let redemption = Redemption {
                client_id: &client.client_id,
                redirect_uri: redirect_uri.as_deref(),
                code_verifier: code_verifier.as_deref(),
            };
            redeem_code(state, &key, record, client, &code, &redemption, now).await
        }
        GrantRequest::RefreshToken { refresh_token, scope } => {
            require_code_grant(client)?;
            refresh(state, &key, record, client, &refresh_token, scope, now).await
        }
    }?;
    if found.claim_touch(now) {
        store::applications::touch_last_used(&state.db, record.id, now).await.map_err(internal)?;
    }
    Ok(response)
}

/// Authenticates the client of a token, revocation or introspection
/// request (RFC 6749 §2.3) and counts the request against its rate limit.
pub async fn authenticate(state: &AppState, credentials: &ClientCredentials) -> Result<Arc<Client>, OAuthError> {
    let found = state
        .clients
        .find(&state.db, &credentials.client_id)
        .await
        .map_err(internal)?
        .ok_or_else(OAuthError::invalid_client)?;
    client_credentials::authenticate(&found.registered, credentials)?;
    if !found.record.owner_enabled || !found.record.owner_belongs {
        // The owner's account is disabled, or no longer belongs to the
        // application's organization: nothing may act as it there.
        return Err(OAuthError::invalid_client());
    }
    state
        .limits
        .token_per_client
        .check(&found.record.client_id, std::time::Instant::now())
        .map_err(|wait| OAuthError::rate_limited(wait.seconds()))?;
    Ok(found)
}

/// The audit entry of an issued access token (never the token: its jti).
fn issued<'a>(record: &store::applications::ClientRecord, claims: &AccessTokenClaims, detail: &'a str) -> NewEntry<'a> {
    NewEntry { application_id: Some(record.id), detail, ..audit::entry(AuditEvent::TokenIssued, claims.iat) }
}

/// Refuses (`invalid_client`, nothing written) when the application was
/// deactivated, deleted, given a new secret or its owner disabled after the
/// request authenticated: checked in the transaction that issues the token,
/// once it holds the write lock, so nothing is issued after such a change
/// is committed.
async fn client_still_usable(
    state: &AppState,
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    record: &store::applications::ClientRecord,
) -> Result<(), OAuthError> {
    if store::applications::still_usable(&mut **tx, record.id, record.secret_hash.as_deref()).await.map_err(internal)? {
        return Ok(());
    }
    state.access_changed();
    Err(OAuthError::invalid_client())
}

/// Only applications registered for the authorization code grant may redeem
/// codes and refresh tokens (the grant is fixed at creation:
/// docs/architecture.md#applications).
fn require_code_grant(client: &RegisteredClient) -> Result<(), OAuthError> {
    if client.grant_type == GrantType::AuthorizationCode {
        Ok(())
    } else {
        Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "This application is not registered for the authorization code grant.",
        ))
    }
}

/// What a grant's tokens are issued for.
struct Issue<'a> {
    record: &'a store::applications::ClientRecord,
    client: &'a RegisteredClient,
    subject: Subject,
    scope: String,
    grant_type: GrantType,
}

/// Signs an access token and makes a refresh token (the caller stores both
/// in its transaction).
fn mint(
    state: &AppState,
    key: &SigningKey,
    issue: &Issue<'_>,
    now: i64,
) -> Result<(AccessTokenClaims, String, String), OAuthError> {
    let kind = issue.client.kind;
    let claims = AccessTokenClaims {
        iss: state.site.issuer(kind).to_owned(),
        sub: issue.subject.sub(),
        aud: state.site.audience(kind).to_owned(),
        client_id: issue.client.client_id.clone(),
        scope: issue.scope.clone(),
        jti: random::token(16),
        iat: now,
        nbf: now,
        exp: now + state.config.tokens.access_token_lifetime,
    };
    let access_token = key.sign(&claims)?;
    Ok((claims, access_token, random::token(32)))
}

/// Stores an access token and a refresh token of `grant_id` in `tx`.
async fn store_pair(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    issue: &Issue<'_>,
    claims: &AccessTokenClaims,
    refresh_token: &str,
    grant_id: i64,
    refresh_expires_at: i64,
    grant: &str,
) -> Result<(), sqlx::Error> {
    let detail = format!("grant {grant}; scope \"{}\"; jti {}; grant id {grant_id}", claims.scope, claims.jti);
    let entry = NewEntry {
        user_id: issue.subject.user_id(),
        customer_user_id: issue.subject.customer_user_id(),
        ..issued(issue.record, claims, &detail)
    };
    audit::record(&mut **tx, &entry).await?;
    store::tokens::insert(
        &mut **tx,
        &store::tokens::NewAccessToken {
            jti: &claims.jti,
            application_id: issue.record.id,
            grant_type: issue.grant_type.as_str(),
            user_id: issue.subject.user_id(),
            customer_user_id: issue.subject.customer_user_id(),
            scope: &claims.scope,
            issued_at: claims.iat,
            expires_at: claims.exp,
            grant_id: Some(grant_id),
        },
    )
    .await?;
    store::grants::insert_refresh_token(tx, &hash_secret(refresh_token), grant_id, claims.iat, refresh_expires_at).await
}

fn response(claims: AccessTokenClaims, access_token: String, refresh_token: String) -> TokenResponse {
    TokenResponse {
        token_type: "Bearer",
        expires_in: claims.exp - claims.iat,
        access_token,
        refresh_token: Some(refresh_token),
        scope: claims.scope,
    }
}

/// A replayed code: revoke what its first redemption issued (RFC 6749 §4.1.2).
async fn revoke_code_grant(state: &AppState, code_hash: &[u8], now: i64) -> Result<(), OAuthError> {
    let mut tx = state.begin_write().await.map_err(internal)?;
    // Lock first (a write), then read the grant the first redemption stored.
    sqlx::query("UPDATE oauth_authorization_codes SET used_at = used_at WHERE code_hash = ?")
        .bind(code_hash)
        .execute(&mut **tx)
        .await
        .map_err(internal)?;
    if let Some(grant_id) = store::grants::grant_of_code(&mut **tx, code_hash).await.map_err(internal)? {
        if store::grants::revoke_grant(&mut tx, grant_id, "code_replay", now).await.map_err(internal)? {
            tracing::warn!(grant_id, "authorization code replayed: its tokens are revoked");
            let detail = format!("authorization code used twice; grant id {grant_id} and its tokens revoked");
            reuse_entry(&mut tx, grant_id, &detail, now).await.map_err(internal)?;
        }
    }
    tx.commit().await.map_err(internal)?;
    state.access_changed();
    Ok(())
}

/// Records `token.reuse_detected` for the grant `grant_id`.
async fn reuse_entry(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    grant_id: i64,
    detail: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let Some(grant) = store::grants::find_grant(&mut **tx, grant_id).await? else { return Ok(()) };
    let entry = NewEntry {
        user_id: grant.user_id,
        customer_user_id: grant.customer_user_id,
        application_id: Some(grant.application_id),
        detail,
        ..audit::entry(AuditEvent::TokenReuseDetected, now)
    };
    audit::record(&mut **tx, &entry).await
}

/// RFC 6749 §4.1.3: exchanges a code for an access token and a refresh token.
async fn redeem_code(
    state: &AppState,
    key: &SigningKey,
    record: &store::applications::ClientRecord,
    client: &RegisteredClient,
    code: &str,
    redemption: &Redemption<'_>,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let unknown = || OAuthError::invalid_grant("The authorization code is not valid.");
    let code_hash = hash_secret(code);
    let stored = store::grants::find_code(&state.db, &code_hash).await.map_err(internal)?.ok_or_else(unknown)?;
    let issued = IssuedCode {
        client_id: stored.client_id.clone(),
        redirect_uri: stored.redirect_uri.clone(),
        redirect_uri_sent: stored.redirect_uri_sent,
        scope: Scope::parse(&stored.scope).unwrap_or_default(),
        code_challenge: stored.code_challenge.clone().map(CodeChallenge::stored),
        expires_at: stored.expires_at,
        used: stored.used_at.is_some(),
    };
    match authorization_code::redeem(&issued, redemption, now) {
        Ok(()) => {}
        Err(Refusal::Refuse(err)) => return Err(err),
        Err(Refusal::Replay(err)) => {
            revoke_code_grant(state, &code_hash, now).await?;
            return Err(err);
        }
    }
    let subject = stored.subject().ok_or_else(unknown)?;
    if !stored.subject_enabled {
        return Err(OAuthError::invalid_grant("The account that authorized this code is disabled."));
    }
    if !stored.subject_belongs {
        return Err(OAuthError::invalid_grant(
            "The account that authorized this code does not belong to the application's organization.",
        ));
    }
    let issue =
        Issue { record, client, subject, scope: issued.scope.to_string(), grant_type: GrantType::AuthorizationCode };
    let (claims, access_token, refresh_token) = mint(state, key, &issue, now)?;
    let refresh_expires_at = now + state.config.tokens.refresh_token_lifetime;

    let mut tx = state.begin_write().await.map_err(internal)?;
    if !store::grants::claim_code(&mut tx, &code_hash, now).await.map_err(internal)? {
        // Another request redeemed it between our read and now.
        drop(tx);
        revoke_code_grant(state, &code_hash, now).await?;
        return Err(OAuthError::invalid_grant(
            "The authorization code has already been used; the tokens issued for it are revoked.",
        ));
    }
    client_still_usable(state, &mut tx, record).await?;
    let grant_id = store::grants::insert_grant(&mut **tx, record.id, subject, &issue.scope, now, refresh_expires_at)
        .await
        .map_err(internal)?;
    store::grants::set_code_grant(&mut **tx, &code_hash, grant_id).await.map_err(internal)?;
    store_pair(&mut tx, &issue, &claims, &refresh_token, grant_id, refresh_expires_at, "authorization_code")
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(client_id = %claims.client_id, sub = %claims.sub, jti = %claims.jti, grant_id, grant = "authorization_code", "access token issued");
    Ok(response(claims, access_token, refresh_token))
}

/// RFC 6749 §6 with rotation (RFC 9700 §4.14.2): the presented refresh token
/// is spent, a new one replaces it; presenting a spent one revokes the grant.
async fn refresh(
    state: &AppState,
    key: &SigningKey,
    record: &store::applications::ClientRecord,
    client: &RegisteredClient,
    refresh_token: &str,
    requested: Option<Scope>,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let token_hash = hash_secret(refresh_token);
    let stored = store::grants::find_refresh_token(&state.db, &token_hash)
        .await
        .map_err(internal)?
        .ok_or_else(|| OAuthError::invalid_grant("The refresh token is not valid."))?;
    if stored.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("The refresh token was not issued to this client."));
    }
    if stored.grant_revoked {
        return Err(OAuthError::invalid_grant("The refresh token has been revoked."));
    }
    let reuse = |state: &AppState| {
        let grant_id = stored.grant_id;
        let state = state.clone();
        async move {
            let mut tx = state.begin_write().await.map_err(internal)?;
            if store::grants::revoke_grant(&mut tx, grant_id, "refresh_reuse", now).await.map_err(internal)? {
                tracing::warn!(grant_id, "a rotated refresh token was presented again: the grant is revoked");
                let detail = format!("spent refresh token presented again; grant id {grant_id} and its tokens revoked");
                reuse_entry(&mut tx, grant_id, &detail, now).await.map_err(internal)?;
            }
            tx.commit().await.map_err(internal)?;
            state.access_changed();
            Err::<TokenResponse, _>(OAuthError::invalid_grant(
                "The refresh token has already been used; every token of this grant is now revoked.",
            ))
        }
    };
    if stored.rotated_at.is_some() {
        return reuse(state).await;
    }
    if now >= stored.expires_at {
        return Err(OAuthError::invalid_grant("The refresh token has expired."));
    }
    let subject = stored.subject().ok_or_else(|| OAuthError::invalid_grant("The refresh token is not valid."))?;
    if !stored.subject_enabled {
        return Err(OAuthError::invalid_grant("The account of this grant is disabled."));
    }
    if !stored.subject_belongs {
        return Err(OAuthError::invalid_grant(
            "The account of this grant no longer belongs to the application's organization.",
        ));
    }
    let granted = Scope::parse(&stored.scope).unwrap_or_default();
    let scope = match requested {
        Some(asked) if !asked.is_subset(&granted) => {
            return Err(OAuthError::invalid_scope("The requested scope is wider than the scope originally granted."))
        }
        Some(asked) if !asked.is_empty() => asked,
        _ => granted,
    };
    let issue = Issue { record, client, subject, scope: scope.to_string(), grant_type: GrantType::AuthorizationCode };
    let (claims, access_token, new_refresh_token) = mint(state, key, &issue, now)?;
    let refresh_expires_at = now + state.config.tokens.refresh_token_lifetime;

    let mut tx = state.begin_write().await.map_err(internal)?;
    if !store::grants::claim_refresh_token(&mut tx, &token_hash, now).await.map_err(internal)? {
        drop(tx);
        // Spent by a concurrent request (reuse), or revoked meanwhile.
        let again = store::grants::find_refresh_token(&state.db, &token_hash).await.map_err(internal)?;
        return match again {
            Some(r) if r.rotated_at.is_some() && !r.grant_revoked => reuse(state).await,
            _ => Err(OAuthError::invalid_grant("The refresh token has been revoked.")),
        };
    }
    client_still_usable(state, &mut tx, record).await?;
    store_pair(&mut tx, &issue, &claims, &new_refresh_token, stored.grant_id, refresh_expires_at, "refresh_token")
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(client_id = %claims.client_id, sub = %claims.sub, jti = %claims.jti, grant_id = stored.grant_id, grant = "refresh_token", "access token issued");
    Ok(response(claims, access_token, new_refresh_token))
}
