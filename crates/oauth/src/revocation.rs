//! The requests of RFC 7009 revocation and RFC 7662 introspection: the
//! token a client asks about and its `token_type_hint`. Both endpoints
//! authenticate the client as the token endpoint does
//! ([`crate::client_auth`]).

use crate::token_request::Params;
use crate::{ErrorCode, OAuthError};

/// RFC 7009 §2.1 / RFC 7662 §2.1 `token_type_hint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTypeHint {
    AccessToken,
    RefreshToken,
}

/// Longest token looked at: our access tokens are about 1 KB, refresh
/// tokens 43 characters; anything longer is answered as unknown.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The token asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenQuery<'a> {
    pub token: &'a str,
    pub hint: Option<TokenTypeHint>,
}

impl<'a> TokenQuery<'a> {
    /// RFC 7009 §2.1-2.2.1: an unknown hint is `unsupported_token_type`.
    pub fn revocation(params: &'a Params) -> Result<Self, OAuthError> {
        parse(params, true)
    }

    /// RFC 7662 §2.1: the endpoint MAY ignore an unknown hint; we do.
    pub fn introspection(params: &'a Params) -> Result<Self, OAuthError> {
        parse(params, false)
    }

    /// The types to look the token up as, the hinted one first (RFC 7009
    /// §2.1: a wrong hint must not make the lookup fail). Tokens that are
    /// too long to be ours are looked up as nothing.
    pub fn lookup_order(&self) -> &'static [TokenTypeHint] {
        if self.token.len() > MAX_TOKEN_LEN {
            return &[];
        }
        match self.hint {
            Some(TokenTypeHint::RefreshToken) => &[TokenTypeHint::RefreshToken, TokenTypeHint::AccessToken],
            _ => &[TokenTypeHint::AccessToken, TokenTypeHint::RefreshToken],
        }
    }

    /// Only a three-part JWS can be one of our access tokens.
    pub fn may_be_access_token(&self) -> bool {
        self.token.bytes().filter(|b| *b == b'.').count() == 2
    }
}

fn parse(params: &Params, strict_hint: bool) -> Result<TokenQuery<'_>, OAuthError> {
    let token = params
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("The request is missing the token parameter."))?;
    let hint = match params.get("token_type_hint") {
        None | Some("") => None,
        Some("access_token") => Some(TokenTypeHint::AccessToken),
        Some("refresh_token") => Some(TokenTypeHint::RefreshToken),
        Some(_) if !strict_hint => None,
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedTokenType,
                "token_type_hint must be access_token or refresh_token.",
            ))
        }
    };
    Ok(TokenQuery { token, hint })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(body: &str) -> Params {
        Params::from_form(body.as_bytes()).unwrap()
    }

    #[test]
    fn token_is_required_and_hints_are_checked_for_revocation_only() {
        let p = params("token_type_hint=access_token");
        assert_eq!(TokenQuery::revocation(&p).unwrap_err().code, ErrorCode::InvalidRequest);
        let p = params("token=");
        assert_eq!(TokenQuery::revocation(&p).unwrap_err().code, ErrorCode::InvalidRequest);
        let p = params("token=a&token_type_hint=refresh_token");
        assert_eq!(
            TokenQuery::revocation(&p).unwrap(),
            TokenQuery { token: "a", hint: Some(TokenTypeHint::RefreshToken) }
        );
        let p = params("token=a&token_type_hint=id_token");
        assert_eq!(TokenQuery::revocation(&p).unwrap_err().code, ErrorCode::UnsupportedTokenType);
        assert_eq!(TokenQuery::introspection(&p).unwrap(), TokenQuery { token: "a", hint: None });
    }

    #[test]
    fn the_hinted_type_is_looked_up_first_and_overlong_tokens_not_at_all() {
        let refresh = TokenQuery { token: "abc", hint: Some(TokenTypeHint::RefreshToken) };
        assert_eq!(refresh.lookup_order(), &[TokenTypeHint::RefreshToken, TokenTypeHint::AccessToken]);
        let unhinted = TokenQuery { token: "abc", hint: None };
        assert_eq!(unhinted.lookup_order()[0], TokenTypeHint::AccessToken);
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(TokenQuery { token: &long, hint: None }.lookup_order().is_empty());
        assert!(TokenQuery { token: "a.b.c", hint: None }.may_be_access_token());
        assert!(!unhinted.may_be_access_token());
    }
}
