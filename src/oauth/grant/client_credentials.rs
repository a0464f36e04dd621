//! The client credentials grant (RFC 6749 §4.4): authenticate the client,
//! check it may use this grant, decide the scope and the token's claims.

use super::{GrantType, RegisteredClient};
use crate::oauth::client_auth::ClientCredentials;
use crate::oauth::jwt::AccessTokenClaims;
use crate::oauth::scope::Scope;
use crate::oauth::{ErrorCode, OAuthError};

/// Checks the presented credentials against the registered client
/// (RFC 6749 §2.3.1, §3.2.1). Every failure is the same `invalid_client`.
pub fn authenticate(client: &RegisteredClient, presented: &ClientCredentials) -> Result<(), OAuthError> {
    if !client.active {
        return Err(OAuthError::invalid_client());
    }
    if client.confidential {
        let (Some(secret), Some(hash)) = (&presented.secret, &client.secret_hash) else {
            return Err(OAuthError::invalid_client());
        };
        if !secret.matches(hash) {
            return Err(OAuthError::invalid_client());
        }
    } else if presented.secret.is_some() {
        // A public client has no secret; one that sends one is confused or an impostor.
        return Err(OAuthError::invalid_client());
    }
    Ok(())
}

/// The facts a token needs that do not come from the client record.
#[derive(Debug, Clone)]
pub struct TokenContext<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub jti: String,
    pub now: i64,
    pub lifetime: i64,
}

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
    let scope = requested.granted_for(client.kind)?;
    Ok(AccessTokenClaims {
        iss: ctx.issuer.to_owned(),
        sub,
        aud: ctx.audience.to_owned(),
        client_id: client.client_id.clone(),
        scope: scope.to_string(),
        jti: ctx.jti,
        iat: ctx.now,
        nbf: ctx.now,
        exp: ctx.now + ctx.lifetime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::client_auth::AuthMethod;
    use crate::oauth::scope::ClientKind;
    use crate::oauth::secret::ClientSecret;

    fn client() -> RegisteredClient {
        RegisteredClient {
            client_id: "cid".into(),
            active: true,
            grant_type: GrantType::ClientCredentials,
            kind: ClientKind::BackOffice,
            confidential: true,
            secret_hash: Some(ClientSecret::new("right").hash().to_vec()),
            owner_subject: Some("7".into()),
        }
    }

    fn presented(secret: Option<&str>) -> ClientCredentials {
        ClientCredentials {
            client_id: "cid".into(),
            secret: secret.map(ClientSecret::new),
            method: AuthMethod::ClientSecretPost,
        }
    }

    fn ctx() -> TokenContext<'static> {
        TokenContext { issuer: "iss", audience: "aud", jti: "j".into(), now: 100, lifetime: 3600 }
    }

    #[test]
    fn right_secret_authenticates() {
        assert!(authenticate(&client(), &presented(Some("right"))).is_ok());
    }

    #[test]
    fn wrong_missing_or_inactive_is_invalid_client() {
        for (c, p) in [
            (client(), presented(Some("wrong"))),
            (client(), presented(None)),
            (RegisteredClient { active: false, ..client() }, presented(Some("right"))),
        ] {
            assert_eq!(authenticate(&c, &p).unwrap_err().code, ErrorCode::InvalidClient);
        }
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
