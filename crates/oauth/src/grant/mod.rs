//! The grants Postern offers, one module each (RFC 6749 §4), and what they
//! share: the registered client and the one builder of access-token claims.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

use crate::jwt::AccessTokenClaims;
use crate::scope::Scope;
pub use crate::{GrantType, Side};

/// What the core needs to know of a registered application.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client_id: String,
    /// The application is active and its owner (if any) is enabled and
    /// still a member of its organization: it may get tokens. The store
    /// computes it with the same SQL the token's own write checks again.
    pub issues_tokens: bool,
    pub grant_type: GrantType,
    pub side: Side,
    pub confidential: bool,
    /// SHA-256 of the secret; `None` for public clients.
    pub secret_hash: Option<Vec<u8>>,
    /// The subject of client_credentials tokens: the owner, as `sub`.
    pub owner_subject: Option<String>,
}

/// The person a code or refresh token acts for, as the store found them
/// when it read the token: whether their account is enabled and whether
/// they still belong to the application's organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// `None` when the stored row names nobody (or both kinds) — not ours.
    pub subject: Option<crate::Subject>,
    pub enabled: bool,
    /// Organizations are walls: a token reaches only where its person is.
    pub belongs: bool,
}

impl Holder {
    /// The subject, if it may still act: RFC 6749 §5.2 `invalid_grant`
    /// otherwise, with `words` naming the token ("The account that
    /// authorized this code", "The account of this grant").
    pub(crate) fn may_act(&self, words: HolderWords) -> Result<crate::Subject, crate::OAuthError> {
        let subject = self.subject.ok_or_else(|| crate::OAuthError::invalid_grant(words.unknown))?;
        if !self.enabled {
            return Err(crate::OAuthError::invalid_grant(words.disabled));
        }
        if !self.belongs {
            return Err(crate::OAuthError::invalid_grant(words.outsider));
        }
        Ok(subject)
    }
}

/// How a grant names its token in the descriptions of [`Holder::may_act`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct HolderWords {
    pub unknown: &'static str,
    pub disabled: &'static str,
    pub outsider: &'static str,
}

/// The facts an access token needs that do not come from the grant.
#[derive(Debug, Clone)]
pub struct TokenContext<'a> {
    /// The issuer of the client's side (RFC 9068 §2.2 `iss`).
    pub issuer: &'a str,
    /// The API of the client's side (RFC 9068 §2.2 `aud`).
    pub audience: &'a str,
    pub jti: String,
    pub now: i64,
    /// Seconds the token lives.
    pub lifetime: i64,
}

/// The claims of an access token for `client` acting as `sub` with `scope`
/// (RFC 9068 §2.2): the one place they are put together, for every grant.
pub fn access_token_claims(
    client: &RegisteredClient,
    sub: String,
    scope: &Scope,
    ctx: TokenContext<'_>,
) -> AccessTokenClaims {
    AccessTokenClaims {
        iss: ctx.issuer.to_owned(),
        sub,
        aud: ctx.audience.to_owned(),
        client_id: client.client_id.clone(),
        scope: scope.to_string(),
        jti: ctx.jti,
        iat: ctx.now,
        nbf: ctx.now,
        exp: ctx.now + ctx.lifetime,
    }
}

/// Only applications registered for the authorization code grant may redeem
/// codes and refresh tokens (RFC 6749 §5.2 `unauthorized_client`; the grant
/// is fixed at creation, docs/architecture.md#applications).
pub fn require_code_grant(client: &RegisteredClient) -> Result<(), crate::OAuthError> {
    if client.grant_type == GrantType::AuthorizationCode {
        Ok(())
    } else {
        Err(crate::OAuthError::new(
            crate::ErrorCode::UnauthorizedClient,
            "This application is not registered for the authorization code grant.",
        ))
    }
}
