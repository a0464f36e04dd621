//! The token endpoint's work (SPEC §4): authenticate the client, run the
//! grant, sign the token and record it.

use crate::oauth::grant::{client_credentials, GrantType, RegisteredClient};
use crate::oauth::scope::ClientKind;
use crate::oauth::token_request::{GrantRequest, Params, TokenRequest};
use crate::oauth::OAuthError;
use crate::state::AppState;
use crate::store;
use serde::Serialize;

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

    let record = store::applications::find_client(&state.db, &request.client.client_id)
        .await
        .map_err(internal)?
        .ok_or_else(OAuthError::invalid_client)?;
    let client = registered_client(&record);
    client_credentials::authenticate(&client, &request.client)?;
    if !record.owner_enabled {
        // The owner's account is disabled: nothing may act as it.
        return Err(OAuthError::invalid_client());
    }

    match request.grant {
        GrantRequest::ClientCredentials { scope } => {
            let ctx = client_credentials::TokenContext {
                issuer: state.site.issuer(client.kind),
                audience: state.site.audience(client.kind),
                jti: crate::service::random::token(16),
                now,
                lifetime: state.config.tokens.access_token_lifetime,
            };
            let claims = client_credentials::grant(&client, &scope, ctx)?;
            let access_token = key.sign(&claims)?;
            store::tokens::insert(
                &state.db,
                &store::tokens::NewAccessToken {
                    jti: &claims.jti,
                    application_id: record.id,
                    grant_type: GrantType::ClientCredentials.as_str(),
                    user_id: record.owner_user_id,
                    customer_user_id: record.owner_customer_user_id,
                    scope: &claims.scope,
                    issued_at: claims.iat,
                    expires_at: claims.exp,
                },
            )
            .await
            .map_err(internal)?;
            if record.last_used_at.is_none_or(|t| t <= now - store::applications::LAST_USED_PRECISION) {
                store::applications::touch_last_used(&state.db, record.id, now).await.map_err(internal)?;
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
    }
}

fn registered_client(record: &store::applications::ClientRecord) -> RegisteredClient {
    let kind = ClientKind::parse(&record.kind).unwrap_or(ClientKind::BackOffice);
    RegisteredClient {
        client_id: record.client_id.clone(),
        active: record.active,
        // The schema's CHECK admits only the two known values.
        grant_type: GrantType::parse(&record.grant_type).unwrap_or(GrantType::AuthorizationCode),
        kind,
        confidential: record.confidential,
        secret_hash: record.secret_hash.clone(),
        owner_subject: record
            .owner_user_id
            .or(record.owner_customer_user_id)
            .map(|id| id.to_string()),
    }
}
