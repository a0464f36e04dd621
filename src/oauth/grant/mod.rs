//! The grants Postern offers, one module each (RFC 6749 §4).

pub mod authorization_code;
pub mod client_credentials;

use super::scope::ClientKind;

/// The grant an application was registered for (fixed after creation,
/// docs/architecture.md#applications).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    ClientCredentials,
    AuthorizationCode,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::AuthorizationCode => "authorization_code",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "client_credentials" => Some(GrantType::ClientCredentials),
            "authorization_code" => Some(GrantType::AuthorizationCode),
            _ => None,
        }
    }
}

/// What the core needs to know of a registered application.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client_id: String,
    pub active: bool,
    pub grant_type: GrantType,
    pub kind: ClientKind,
    pub confidential: bool,
    /// SHA-256 of the secret; `None` for public clients.
    pub secret_hash: Option<Vec<u8>>,
    /// The subject of client_credentials tokens: the owner, as `sub`.
    pub owner_subject: Option<String>,
}
