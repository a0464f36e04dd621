//! Scopes (RFC 6749 §3.3): syntax, the scopes Postern knows, and which of
//! them an application of each kind may be granted.

use super::OAuthError;
use crate::Side;
use std::collections::BTreeSet;
use std::fmt;

/// A scope Postern can grant, with the words shown to people on consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeDefinition {
    pub name: &'static str,
    pub kind: Side,
    pub description: &'static str,
    /// Granted when a request names no scope (RFC 6749 §3.3). The OpenID
    /// Connect scopes are not: an ID token is asked for, never imposed.
    pub default: bool,
    /// Only for a person's token (authorization code): a client acting as
    /// itself has no one to sign in or describe.
    pub person_only: bool,
}

const fn scope(name: &'static str, kind: Side, description: &'static str) -> ScopeDefinition {
    ScopeDefinition { name, kind, description, default: false, person_only: true }
}

/// The OpenID Connect scope that asks for an ID token (Core §3.1.2.1).
pub const OPENID: &str = "openid";

/// Every scope Postern knows, per side (a name may be on both). An empty
/// request gets the side's default scopes.
pub const SCOPES: &[ScopeDefinition] = &[
    ScopeDefinition {
        name: "users:read",
        kind: Side::BackOffice,
        description: "Read the users of your organization",
        default: true,
        person_only: false,
    },
    scope(OPENID, Side::BackOffice, "Sign you in with your Postern account"),
    scope("profile", Side::BackOffice, "Know your user name and language"),
    scope("email", Side::BackOffice, "Know your email address"),
    scope("offline_access", Side::BackOffice, "Keep its access while you are away"),
    ScopeDefinition {
        name: "profile",
        kind: Side::Storefront,
        description: "Read your customer profile",
        default: true,
        person_only: false,
    },
    scope(OPENID, Side::Storefront, "Sign you in with your customer account"),
    scope("email", Side::Storefront, "Know your email address"),
    // OpenID Connect Core §11: every code grant gets a refresh token; asking
    // for it by name is accepted, and shown on the consent page.
    scope("offline_access", Side::Storefront, "Keep its access while you are away"),
];

/// The names of the scopes of one side (RFC 8414 `scopes_supported`).
pub fn names(kind: Side) -> Vec<&'static str> {
    SCOPES.iter().filter(|s| s.kind == kind).map(|s| s.name).collect()
}

/// The definition of `name` on side `kind`.
pub fn definition(kind: Side, name: &str) -> Option<&'static ScopeDefinition> {
    SCOPES.iter().find(|s| s.kind == kind && s.name == name)
}

/// A set of scope tokens, kept sorted so that equal sets print equally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Parses a space-delimited scope string (RFC 6749 §3.3).
    pub fn parse(raw: &str) -> Result<Self, OAuthError> {
        let mut set = BTreeSet::new();
        for token in raw.split(' ').filter(|t| !t.is_empty()) {
            // scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
            let valid = token.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
            if !valid || token.len() > 128 {
                return Err(OAuthError::invalid_scope("The scope parameter is malformed."));
            }
            set.insert(token.to_owned());
        }
        Ok(Scope(set))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// Every scope in `self` or `other`.
    pub fn union(&self, other: &Scope) -> Scope {
        Scope(self.0.union(&other.0).cloned().collect())
    }

    /// True when every scope of `self` is in `other`.
    pub fn is_subset(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The scope granted to an application of `kind` that asked for `self`:
    /// everything of that kind when nothing was asked, otherwise exactly what
    /// was asked, provided each scope is known for that kind.
    pub fn granted_for(&self, kind: Side) -> Result<Scope, OAuthError> {
        if self.is_empty() {
            return Ok(Scope(
                SCOPES.iter().filter(|s| s.kind == kind && s.default).map(|s| s.name.to_owned()).collect(),
            ));
        }
        for name in self.iter() {
            if !SCOPES.iter().any(|s| s.kind == kind && s.name == name) {
                let known: Vec<&str> = SCOPES.iter().filter(|s| s.kind == kind).map(|s| s.name).collect();
                return Err(OAuthError::invalid_scope(format!(
                    "The scope \"{name}\" is not available to this application."
                ))
                .with_hint(format!("Known scopes: {}.", known.join(", "))));
            }
        }
        Ok(self.clone())
    }

    /// [`Scope::granted_for`] for a token that acts as the application
    /// itself (client credentials): the scopes that describe a person are
    /// refused.
    pub fn granted_to_client(&self, kind: Side) -> Result<Scope, OAuthError> {
        if let Some(name) = self.iter().find(|n| definition(kind, n).is_some_and(|d| d.person_only)) {
            return Err(OAuthError::invalid_scope(format!(
                "The scope \"{name}\" needs a person who signs in (the authorization code grant)."
            )));
        }
        self.granted_for(kind)
    }

    /// True when an ID token is asked for (OpenID Connect Core §3.1.2.1).
    pub fn is_openid(&self) -> bool {
        self.contains(OPENID)
    }
}

/// A scope as stored (space-delimited): decoded with its syntax checked,
/// so a damaged row is an error where it is read, not an empty scope.
impl TryFrom<String> for Scope {
    type Error = OAuthError;
    fn try_from(stored: String) -> Result<Self, Self::Error> {
        Scope::parse(&stored)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn parses_space_delimited_and_deduplicates() {
        let s = Scope::parse("b a  b").unwrap();
        assert_eq!(s.to_string(), "a b");
    }

    #[test]
    fn rejects_forbidden_characters() {
        for bad in ["a\"b", "a\\b", "caf\u{e9}", "tab\there"] {
            let err = Scope::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidScope, "{bad:?}");
        }
    }

    #[test]
    fn empty_request_gets_the_kinds_default_scopes() {
        let granted = Scope::default().granted_for(Side::BackOffice).unwrap();
        assert_eq!(granted.to_string(), "users:read");
        let granted = Scope::default().granted_for(Side::Storefront).unwrap();
        assert_eq!(granted.to_string(), "profile");
    }

    #[test]
    fn openid_scopes_are_asked_for_never_imposed_and_need_a_person() {
        let granted = Scope::parse("openid email").unwrap().granted_for(Side::BackOffice).unwrap();
        assert!(granted.is_openid());
        assert!(!Scope::default().granted_for(Side::Storefront).unwrap().is_openid());
        let err = Scope::parse("openid").unwrap().granted_to_client(Side::BackOffice).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert!(err.description.contains("openid"), "{}", err.description);
        assert!(Scope::parse("users:read").unwrap().granted_to_client(Side::BackOffice).is_ok());
        assert!(Scope::parse("profile").unwrap().granted_to_client(Side::Storefront).is_ok());
        assert!(Scope::parse("profile").unwrap().granted_to_client(Side::BackOffice).is_err());
    }

    #[test]
    fn a_scope_of_the_other_side_is_refused() {
        let err = Scope::parse("users:read").unwrap().granted_for(Side::Storefront).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert!(err.description.contains("users:read"));
    }
}
