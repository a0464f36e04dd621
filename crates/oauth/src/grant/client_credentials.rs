//! The client credentials grant (RFC 6749 §4.4): check the (authenticated)
//! client may use this grant, decide the scope and the token's claims.

pub use super::TokenContext;
use super::{access_token_claims, GrantType, RegisteredClient};
use crate::jwt::AccessTokenClaims;
use crate::scope::Scope;
use crate::{ErrorCode, OAuthError};

/// Decides the access token for an authenticated client (RFC 6749 §4.4.2–4.4.3).
pub fn grant(
    client: &RegisteredClient,
    requested: &Scope,
    ctx: TokenContext<'_>,
) -> Result<AccessTokenClaims, OAuthError> {
    // RFC 6749 §4.4: only confidential clients; and only applications
    // registered for this grant (docs/architecture.md#applications).
    if client.grant_type != GrantType::ClientCredentials || !client.confidential {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "This application is not allowed to use the client_credentials grant.",
        ));
    }
    let sub = client
        .owner_subject
        .clone()
        .ok_or_else(|| OAuthError::new(ErrorCode::UnauthorizedClient, "This application has no owner to act as."))?;
    let scope = requested.granted_to_client(client.side)?;
    Ok(access_token_claims(client, sub, &scope, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ClientSecret;
    use crate::Side;

    fn client() -> RegisteredClient {
        RegisteredClient {
            client_id: "cid".into(),
            issues_tokens: true,
            grant_type: GrantType::ClientCredentials,
            side: Side::BackOffice,
            confidential: true,
            secret_hash: Some(ClientSecret::new("right").hash().to_vec()),
            owner_subject: Some("7".into()),
        }
    }

    fn ctx() -> TokenContext<'static> {
        TokenContext { issuer: "iss", audience: "aud", jti: "j".into(), now: 100, lifetime: 3600 }
    }

    #[test]
    fn token_acts_as_the_owner_for_one_lifetime() {
        let claims = grant(&client(), &Scope::default(), ctx()).unwrap();
        assert_eq!(claims.sub, "7");
        assert_eq!(claims.client_id, "cid");
        assert_eq!(claims.scope, "users:read");
        assert_eq!((claims.iat, claims.nbf, claims.exp), (100, 100, 3700));
    }

    #[test]
    fn authorization_code_app_is_unauthorized_for_this_grant() {
        let c = RegisteredClient { grant_type: GrantType::AuthorizationCode, ..client() };
        assert_eq!(grant(&c, &Scope::default(), ctx()).unwrap_err().code, ErrorCode::UnauthorizedClient);
    }

    #[test]
    fn unknown_scope_is_invalid_scope() {
        let scope = Scope::parse("admin:everything").unwrap();
        assert_eq!(grant(&client(), &scope, ctx()).unwrap_err().code, ErrorCode::InvalidScope);
    }
}
