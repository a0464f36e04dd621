//! Whether an issued access token is still good (RFC 9068 §4, RFC 7662
//! `active`), given its record: the one definition the APIs and the
//! introspection endpoint share. The signature and the claims are
//! `jwt`'s; this is what the database knows beyond them.

use crate::Side;

/// What the store knows of an issued access token, as of now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRecord {
    pub revoked: bool,
    pub application_active: bool,
    /// The side of its application.
    pub side: Side,
    /// False when its person exists and is disabled.
    pub subject_enabled: bool,
    /// False when its person no longer belongs to its application's
    /// organization.
    pub subject_belongs: bool,
}

impl TokenRecord {
    /// `None` when the token may be used on `side`'s API; otherwise why not,
    /// in words fit for `WWW-Authenticate`'s `error_description`.
    pub fn refusal(&self, side: Side) -> Option<&'static str> {
        if self.revoked {
            return Some("The access token has been revoked.");
        }
        if !self.application_active {
            return Some("The application of this access token is inactive.");
        }
        if !self.subject_enabled {
            return Some("The user of this access token is disabled.");
        }
        if !self.subject_belongs {
            // Organizations are walls: a token reaches only an organization
            // its person belongs to, checked on every call (SECURITY.md).
            return Some("The user of this access token does not belong to its organization.");
        }
        if self.side != side {
            return Some("The access token is not valid for this API.");
        }
        None
    }

    pub fn is_live(&self, side: Side) -> bool {
        self.refusal(side).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: TokenRecord = TokenRecord {
        revoked: false,
        application_active: true,
        side: Side::BackOffice,
        subject_enabled: true,
        subject_belongs: true,
    };

    #[test]
    fn a_token_is_live_only_while_every_part_of_it_is() {
        assert!(GOOD.is_live(Side::BackOffice));
        for (record, why) in [
            (TokenRecord { revoked: true, ..GOOD }, "revoked"),
            (TokenRecord { application_active: false, ..GOOD }, "inactive"),
            (TokenRecord { subject_enabled: false, ..GOOD }, "disabled"),
            (TokenRecord { subject_belongs: false, ..GOOD }, "does not belong"),
        ] {
            assert!(record.refusal(Side::BackOffice).unwrap().contains(why), "{why}");
        }
        assert!(!GOOD.is_live(Side::Storefront), "a back-office token is not a storefront one");
    }
}
