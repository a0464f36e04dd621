//! Protocol errors, named by their RFC 6749 §5.2 wire codes.
//!
//! `Display` of [`ErrorCode`] is the code itself; only the HTTP layer
//! (`server::error`) decides the status code and headers.

use std::borrow::Cow;
use std::fmt;

/// The `error` member of an RFC 6749 §5.2 error response (plus Oro's
/// `no_encryption_key`, which tells a client that the server has no keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the person (or their consent page) said no.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: only `response_type=code` is offered.
    UnsupportedResponseType,
    /// The server has no usable signing key (docs/architecture.md#signing-keys).
    NoEncryptionKey,
    /// Something failed on our side; the description never says what.
    ServerError,
    /// RFC 6749 §4.1.2.1's code for a server that cannot take the request
    /// now: answered with 429 and `Retry-After` when a rate limit is reached.
    TemporarilyUnavailable,
    /// The same wire code, `temporarily_unavailable`, for a server that
    /// cannot reach its database for a moment: answered with 503 and
    /// `Retry-After`.
    Unavailable,
    /// RFC 7009 §2.2.1: `token_type_hint` names a type this server does not revoke.
    UnsupportedTokenType,
    /// OpenID Connect Core §3.1.2.6: `prompt=none`, and nobody is signed in
    /// (or not recently enough, or not the person the request names).
    LoginRequired,
    /// `prompt=none`, and the person has not consented to this request.
    ConsentRequired,
    /// `prompt=none`, and the request needs the person in another way.
    InteractionRequired,
    /// Core §6: request objects (`request`) are not offered.
    RequestNotSupported,
    /// Core §6: `request_uri` is not offered.
    RequestUriNotSupported,
    /// Core §7.2: `registration` is not offered.
    RegistrationNotSupported,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::NoEncryptionKey => "no_encryption_key",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable | ErrorCode::Unavailable => "temporarily_unavailable",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::RegistrationNotSupported => "registration_not_supported",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answered to a client: the code, a human-readable description
/// (RFC 6749 `error_description`) and an optional `hint` (Oro's extra member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    pub hint: Option<Cow<'static, str>>,
    /// Seconds until a rate-limited client may try again (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self { code, description: description.into(), hint: None, retry_after: None }
    }

    pub fn with_hint(mut self, hint: impl Into<Cow<'static, str>>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// The one message for every client authentication failure, so that a
    /// caller cannot tell an unknown client from a wrong secret.
    pub fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "Client authentication failed.")
    }

    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    pub fn no_encryption_key() -> Self {
        Self::new(ErrorCode::NoEncryptionKey, "The authorization server has no signing key configured.")
            .with_hint("Ask the administrator to run `postern keys generate`.")
    }

    /// A rate limit was reached; try again in `seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        let mut err = Self::new(
            ErrorCode::TemporarilyUnavailable,
            format!("Too many requests; try again in {seconds} second{}.", if seconds == 1 { "" } else { "s" }),
        );
        err.retry_after = Some(seconds);
        err
    }

    /// The server cannot serve the request at the moment (its database is
    /// unreachable or restarting); the same request may succeed in `seconds`.
    pub fn unavailable(seconds: u64) -> Self {
        let mut err = Self::new(
            ErrorCode::Unavailable,
            "The authorization server cannot complete requests at the moment; try again shortly.",
        );
        err.retry_after = Some(seconds);
        err
    }

    pub fn server_error() -> Self {
        Self::new(ErrorCode::ServerError, "The authorization server could not complete the request.")
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_wire_code() {
        assert_eq!(ErrorCode::InvalidClient.to_string(), "invalid_client");
        assert_eq!(ErrorCode::UnsupportedGrantType.to_string(), "unsupported_grant_type");
        assert_eq!(ErrorCode::NoEncryptionKey.to_string(), "no_encryption_key");
    }
}
