//! Postern's shared vocabulary: what the server and the browser both name.
//!
//! The two sides ([`Side`]), the grant an application is registered for
//! ([`GrantType`]), who a grant belongs to ([`Subject`]), what a role allows
//! ([`permissions`]) and the fixed paths ([`paths`]). No I/O and no
//! dependency but serde: this crate is compiled into the WASM bundle too.
//! With the `sqlx` feature the stored forms decode straight into these
//! types, so an unknown stored value is an error at the store boundary, not
//! a default somewhere above it.

pub mod audit;
pub mod paths;
pub mod permissions;

#[cfg(feature = "sqlx")]
mod stored;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A stored or submitted value that names none of the variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a known {what}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

impl UnknownValue {
    fn new(what: &'static str, value: &str) -> Self {
        // Bounded: the value may be anything a client sent.
        Self { what, value: value.chars().take(64).collect() }
    }
}

/// Which side an application, its tokens, a sign-in and a page belong to
/// (docs/architecture.md#two-sides-two-issuers): the back office (`/admin`,
/// back-office users) or the storefront (customer users).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    BackOffice,
    Storefront,
}

impl Side {
    pub const ALL: [Side; 2] = [Side::BackOffice, Side::Storefront];

    /// The stored form (`oauth_applications.kind`) and the log name.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::BackOffice => "backoffice",
            Side::Storefront => "storefront",
        }
    }

    /// The authorization endpoint of this side.
    pub fn authorize_path(self) -> &'static str {
        match self {
            Side::BackOffice => paths::BACKOFFICE_AUTHORIZE,
            Side::Storefront => paths::STOREFRONT_AUTHORIZE,
        }
    }

    /// The sign-in page of this side.
    pub fn login_path(self) -> &'static str {
        match self {
            Side::BackOffice => paths::BACKOFFICE_LOGIN,
            Side::Storefront => paths::STOREFRONT_LOGIN,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Side {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "backoffice" => Ok(Side::BackOffice),
            "storefront" => Ok(Side::Storefront),
            other => Err(UnknownValue::new("side", other)),
        }
    }
}

/// The grant an application was registered for, fixed after creation
/// (RFC 6749 §4.1 and §4.4; docs/architecture.md#applications).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantType {
    ClientCredentials,
    AuthorizationCode,
}

impl GrantType {
    /// The RFC 6749 name, which is also the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::AuthorizationCode => "authorization_code",
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GrantType {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "client_credentials" => Ok(GrantType::ClientCredentials),
            "authorization_code" => Ok(GrantType::AuthorizationCode),
            other => Err(UnknownValue::new("grant type", other)),
        }
    }
}

/// Who a code, grant, consent or token acts for: a back-office user or a
/// storefront customer user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Subject {
    User(i64),
    Customer(i64),
}

impl Subject {
    /// From the two nullable columns every table that names a subject has;
    /// `None` unless exactly one is set.
    pub fn from_columns(user_id: Option<i64>, customer_user_id: Option<i64>) -> Option<Self> {
        match (user_id, customer_user_id) {
            (Some(id), None) => Some(Subject::User(id)),
            (None, Some(id)) => Some(Subject::Customer(id)),
            _ => None,
        }
    }

    pub fn user_id(self) -> Option<i64> {
        match self {
            Subject::User(id) => Some(id),
            Subject::Customer(_) => None,
        }
    }

    pub fn customer_user_id(self) -> Option<i64> {
        match self {
            Subject::Customer(id) => Some(id),
            Subject::User(_) => None,
        }
    }

    /// The side whose people this subject is one of.
    pub fn side(self) -> Side {
        match self {
            Subject::User(_) => Side::BackOffice,
            Subject::Customer(_) => Side::Storefront,
        }
    }

    /// The tokens' `sub` claim.
    pub fn sub(self) -> String {
        match self {
            Subject::User(id) | Subject::Customer(id) => id.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_round_trip_and_unknown_values_are_errors() {
        for side in Side::ALL {
            assert_eq!(side.as_str().parse::<Side>(), Ok(side));
        }
        for grant in [GrantType::ClientCredentials, GrantType::AuthorizationCode] {
            assert_eq!(grant.as_str().parse::<GrantType>(), Ok(grant));
        }
        let err = "BackOffice".parse::<Side>().unwrap_err();
        assert_eq!(err.to_string(), "\"BackOffice\" is not a known side");
        assert!("password".parse::<GrantType>().is_err());
        assert_eq!("x".repeat(1000).parse::<Side>().unwrap_err().value.len(), 64);
    }

    #[test]
    fn a_subject_needs_exactly_one_column() {
        assert_eq!(Subject::from_columns(Some(1), None), Some(Subject::User(1)));
        assert_eq!(Subject::from_columns(None, Some(2)), Some(Subject::Customer(2)));
        assert_eq!(Subject::from_columns(Some(1), Some(2)), None);
        assert_eq!(Subject::from_columns(None, None), None);
        assert_eq!(Subject::Customer(2).side(), Side::Storefront);
    }
}
