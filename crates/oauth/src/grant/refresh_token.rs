//! The refresh token grant (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2): the rules that decide, given the stored refresh
//! token and `now`. Storage (by hash; spending a token is a conditional
//! update, so of two concurrent requests one wins) is the caller's.

use super::{Holder, HolderWords};
use crate::scope::Scope;
use crate::{OAuthError, Subject};

/// A refresh token as it is stored, with its grant.
#[derive(Debug, Clone)]
pub struct StoredRefreshToken {
    /// The client it was issued to.
    pub client_id: String,
    /// The scope of its grant (what the person consented to).
    pub scope: Scope,
    pub expires_at: i64,
    /// Spent: a newer token of the same grant replaced it.
    pub rotated: bool,
    /// Its grant (the whole family) was revoked.
    pub grant_revoked: bool,
    /// Its application is active.
    pub application_active: bool,
    /// Who the grant acts for, as they are now.
    pub holder: Holder,
}

/// What to issue for an accepted refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refreshed {
    pub subject: Subject,
    /// The granted scope, or the narrower one the client asked for.
    pub scope: Scope,
}

/// Why a refresh is refused and what the caller must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Answer `invalid_grant` (or `invalid_scope`).
    Refuse(OAuthError),
    /// A spent token came back (RFC 9700 §4.14.2): revoke the whole grant,
    /// then answer with this error.
    Reuse(OAuthError),
}

const HOLDER: HolderWords = HolderWords {
    unknown: "The refresh token is not valid.",
    disabled: "The account of this grant is disabled.",
    outsider: "The account of this grant no longer belongs to the application's organization.",
};

/// The error of a reuse, once the grant is revoked.
pub fn reuse_error() -> OAuthError {
    OAuthError::invalid_grant("The refresh token has already been used; every token of this grant is now revoked.")
}

/// Decides a refresh by `client_id` (the authenticated client) asking for
/// `requested` (`None`: the whole granted scope) at `now`.
pub fn refresh(
    stored: &StoredRefreshToken,
    client_id: &str,
    requested: Option<&Scope>,
    now: i64,
) -> Result<Refreshed, Refusal> {
    let refuse = |err: OAuthError| Err(Refusal::Refuse(err));
    // RFC 6749 §6: bound to the client it was issued to; another client
    // learns nothing more about it (and cannot revoke its family).
    if stored.client_id != client_id {
        return refuse(OAuthError::invalid_grant("The refresh token was not issued to this client."));
    }
    if stored.grant_revoked {
        return refuse(OAuthError::invalid_grant("The refresh token has been revoked."));
    }
    if stored.rotated {
        return Err(Refusal::Reuse(reuse_error()));
    }
    if now >= stored.expires_at {
        return refuse(OAuthError::invalid_grant("The refresh token has expired."));
    }
    let subject = stored.holder.may_act(HOLDER).map_err(Refusal::Refuse)?;
    // RFC 6749 §6: the scope may be narrowed, never widened.
    let scope = match requested {
        Some(asked) if !asked.is_subset(&stored.scope) => {
            return refuse(OAuthError::invalid_scope("The requested scope is wider than the scope originally granted."))
        }
        Some(asked) if !asked.is_empty() => asked.clone(),
        _ => stored.scope.clone(),
    };
    Ok(Refreshed { subject, scope })
}

/// Whether the token can still be refreshed at `now` (RFC 7662 `active`):
/// the same rules as [`refresh`], without a client to compare or a scope.
pub fn is_live(stored: &StoredRefreshToken, now: i64) -> bool {
    !stored.rotated
        && !stored.grant_revoked
        && now < stored.expires_at
        && stored.application_active
        && stored.holder.subject.is_some()
        && stored.holder.enabled
        && stored.holder.belongs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    const NOW: i64 = 1_800_000_000;

    fn stored() -> StoredRefreshToken {
        StoredRefreshToken {
            client_id: "client-a".into(),
            scope: Scope::parse("profile users:read").unwrap(),
            expires_at: NOW + 3600,
            rotated: false,
            grant_revoked: false,
            application_active: true,
            holder: Holder { subject: Some(Subject::Customer(9)), enabled: true, belongs: true },
        }
    }

    fn refused(result: Result<Refreshed, Refusal>) -> OAuthError {
        match result {
            Err(Refusal::Refuse(e)) => e,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_live_token_refreshes_the_granted_scope_for_its_subject() {
        let done = refresh(&stored(), "client-a", None, NOW).unwrap();
        assert_eq!(done.subject, Subject::Customer(9));
        assert_eq!(done.scope.to_string(), "profile users:read");
        assert!(is_live(&stored(), NOW));
    }

    #[test]
    fn it_is_bound_to_its_client() {
        let err = refused(refresh(&stored(), "client-b", None, NOW));
        assert_eq!(err.code, ErrorCode::InvalidGrant);
        assert!(err.description.contains("not issued to this client"));
    }

    #[test]
    fn a_spent_token_is_a_reuse_but_a_revoked_family_is_only_refused() {
        let spent = StoredRefreshToken { rotated: true, ..stored() };
        assert_eq!(refresh(&spent, "client-a", None, NOW), Err(Refusal::Reuse(reuse_error())));
        assert!(!is_live(&spent, NOW));
        // Once the family is revoked there is nothing left to revoke.
        let revoked = StoredRefreshToken { rotated: true, grant_revoked: true, ..stored() };
        assert!(refused(refresh(&revoked, "client-a", None, NOW)).description.contains("revoked"));
        // Another client presenting a spent token learns nothing and revokes nothing.
        assert!(matches!(refresh(&spent, "client-b", None, NOW), Err(Refusal::Refuse(_))));
    }

    #[test]
    fn expiry_is_decided_by_the_given_time() {
        assert!(refresh(&stored(), "client-a", None, NOW + 3599).is_ok());
        assert!(refused(refresh(&stored(), "client-a", None, NOW + 3600)).description.contains("expired"));
        assert!(!is_live(&stored(), NOW + 3600));
    }

    #[test]
    fn the_scope_may_narrow_never_widen() {
        let narrower = Scope::parse("profile").unwrap();
        assert_eq!(refresh(&stored(), "client-a", Some(&narrower), NOW).unwrap().scope, narrower);
        let wider = Scope::parse("profile users:read admin").unwrap();
        assert_eq!(refused(refresh(&stored(), "client-a", Some(&wider), NOW)).code, ErrorCode::InvalidScope);
        let empty = Scope::default();
        assert_eq!(refresh(&stored(), "client-a", Some(&empty), NOW).unwrap().scope, stored().scope);
    }

    #[test]
    fn the_person_must_still_be_enabled_and_a_member() {
        let disabled = StoredRefreshToken { holder: Holder { enabled: false, ..stored().holder }, ..stored() };
        assert!(refused(refresh(&disabled, "client-a", None, NOW)).description.contains("disabled"));
        assert!(!is_live(&disabled, NOW));
        let left = StoredRefreshToken { holder: Holder { belongs: false, ..stored().holder }, ..stored() };
        assert!(refused(refresh(&left, "client-a", None, NOW)).description.contains("no longer belongs"));
        let inactive_app = StoredRefreshToken { application_active: false, ..stored() };
        assert!(!is_live(&inactive_app, NOW));
    }
}
