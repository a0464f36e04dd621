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
}

/// Every scope Postern knows. An empty request gets all scopes of the kind.
pub const SCOPES: &[ScopeDefinition] = &[
    ScopeDefinition { name: "users:read", kind: Side::BackOffice, description: "Read the users of your organization" },
    ScopeDefinition { name: "profile", kind: Side::Storefront, description: "Read your customer profile" },
];

/// The names of the scopes of one side (RFC 8414 `scopes_supported`).
pub fn names(kind: Side) -> Vec<&'static str> {
    SCOPES.iter().filter(|s| s.kind == kind).map(|s| s.name).collect()
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
            return Ok(Scope(SCOPES.iter().filter(|s| s.kind == kind).map(|s| s.name.to_owned()).collect()));
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
    fn a_scope_of_the_other_side_is_refused() {
        let err = Scope::parse("profile").unwrap().granted_for(Side::BackOffice).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert!(err.description.contains("profile"));
    }
}
