//! Redeeming an authorization code (RFC 6749 §4.1.3, §10.5, RFC 7636
//! §4.5–4.6): the rules that decide, given the stored code and `now`. Storage
//! (by hash, single use by a conditional update) is the caller's.

use super::{Holder, HolderWords};
use crate::pkce::CodeChallenge;
use crate::scope::Scope;
use crate::{OAuthError, Subject};

/// A code as it was issued.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub client_id: String,
    /// The redirect URI the code was sent to.
    pub redirect_uri: String,
    /// True when the authorization request carried `redirect_uri` (RFC 6749
    /// §4.1.3 then requires the same value in the token request).
    pub redirect_uri_sent: bool,
    pub scope: Scope,
    pub code_challenge: Option<CodeChallenge>,
    pub expires_at: i64,
    /// Set once redeemed.
    pub used: bool,
    /// Who authorized it, as they are now.
    pub holder: Holder,
}

const HOLDER: HolderWords = HolderWords {
    unknown: "The authorization code is not valid.",
    disabled: "The account that authorized this code is disabled.",
    outsider: "The account that authorized this code does not belong to the application's organization.",
};

/// The parts of a token request that concern the code.
#[derive(Debug, Clone, Copy)]
pub struct Redemption<'a> {
    /// The authenticated (or, for public clients, identified) client.
    pub client_id: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// What the caller must do when redemption fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Answer `invalid_grant`.
    Refuse(OAuthError),
    /// A used code came back: answer `invalid_grant` and revoke every token
    /// issued from it (RFC 6749 §4.1.2).
    Replay(OAuthError),
}

/// Checks a redemption; on success, the subject the tokens act for. Every
/// failure is `invalid_grant`; the description says which rule, without
/// revealing another client's data.
pub fn redeem(code: &IssuedCode, request: &Redemption<'_>, now: i64) -> Result<Subject, Refusal> {
    check(code, request, now)?;
    code.holder.may_act(HOLDER).map_err(Refusal::Refuse)
}

fn check(code: &IssuedCode, request: &Redemption<'_>, now: i64) -> Result<(), Refusal> {
    let refuse = |why: &'static str| Err(Refusal::Refuse(OAuthError::invalid_grant(why)));
    if code.client_id != request.client_id {
        return refuse("The authorization code was not issued to this client.");
    }
    if code.used {
        return Err(Refusal::Replay(OAuthError::invalid_grant(
            "The authorization code has already been used; the tokens issued for it are revoked.",
        )));
    }
    if now >= code.expires_at {
        return refuse("The authorization code has expired.");
    }
    match request.redirect_uri {
        Some(uri) if uri != code.redirect_uri => {
            return refuse("redirect_uri does not match the authorization request.")
        }
        None if code.redirect_uri_sent => {
            return refuse("redirect_uri is required: the authorization request had one.")
        }
        _ => {}
    }
    match (&code.code_challenge, request.code_verifier) {
        (Some(challenge), Some(verifier)) if challenge.verify(verifier) => Ok(()),
        (Some(_), Some(_)) => refuse("The code_verifier does not match the code_challenge."),
        (Some(_), None) => refuse("code_verifier is required: the authorization request had a code_challenge."),
        // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a downgrade attempt.
        (None, Some(_)) => refuse("code_verifier was sent, but the authorization request had no code_challenge."),
        (None, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const ISSUED: i64 = 1_800_000_000;

    fn code() -> IssuedCode {
        IssuedCode {
            client_id: "client-a".into(),
            redirect_uri: "https://app.example.com/cb".into(),
            redirect_uri_sent: true,
            scope: Scope::parse("profile").unwrap(),
            code_challenge: Some(CodeChallenge::stored(CHALLENGE.into())),
            expires_at: ISSUED + 600,
            used: false,
            holder: Holder { subject: Some(Subject::User(7)), enabled: true, belongs: true },
        }
    }

    fn request() -> Redemption<'static> {
        Redemption {
            client_id: "client-a",
            redirect_uri: Some("https://app.example.com/cb"),
            code_verifier: Some(VERIFIER),
        }
    }

    fn refused(result: Result<Subject, Refusal>) -> String {
        match result {
            Err(Refusal::Refuse(e)) => e.description.into_owned(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_fresh_code_with_the_right_verifier_is_redeemed() {
        assert_eq!(redeem(&code(), &request(), ISSUED + 1), Ok(Subject::User(7)));
        assert_eq!(redeem(&code(), &request(), ISSUED + 599), Ok(Subject::User(7)));
    }

    #[test]
    fn expiry_is_decided_by_the_given_time() {
        assert!(refused(redeem(&code(), &request(), ISSUED + 600)).contains("expired"));
    }

    #[test]
    fn a_used_code_is_a_replay() {
        let used = IssuedCode { used: true, ..code() };
        assert!(matches!(redeem(&used, &request(), ISSUED + 1), Err(Refusal::Replay(_))));
    }

    #[test]
    fn the_code_is_bound_to_client_redirect_uri_and_challenge() {
        let other_client = Redemption { client_id: "client-b", ..request() };
        assert!(refused(redeem(&code(), &other_client, ISSUED)).contains("not issued to this client"));
        let other_uri = Redemption { redirect_uri: Some("https://app.example.com/cb2"), ..request() };
        assert!(refused(redeem(&code(), &other_uri, ISSUED)).contains("does not match"));
        let no_uri = Redemption { redirect_uri: None, ..request() };
        assert!(refused(redeem(&code(), &no_uri, ISSUED)).contains("required"));
        let omitted_at_authorize = IssuedCode { redirect_uri_sent: false, ..code() };
        assert_eq!(redeem(&omitted_at_authorize, &no_uri, ISSUED), Ok(Subject::User(7)));
        let wrong = Redemption { code_verifier: Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"), ..request() };
        assert!(refused(redeem(&code(), &wrong, ISSUED)).contains("does not match the code_challenge"));
        let missing = Redemption { code_verifier: None, ..request() };
        assert!(refused(redeem(&code(), &missing, ISSUED)).contains("required"));
        let downgrade = IssuedCode { code_challenge: None, ..code() };
        assert!(refused(redeem(&downgrade, &request(), ISSUED)).contains("no code_challenge"));
    }

    #[test]
    fn the_person_who_authorized_must_still_be_enabled_and_a_member() {
        let disabled = IssuedCode { holder: Holder { enabled: false, ..code().holder }, ..code() };
        assert!(refused(redeem(&disabled, &request(), ISSUED)).contains("disabled"));
        let left = IssuedCode { holder: Holder { belongs: false, ..code().holder }, ..code() };
        assert!(refused(redeem(&left, &request(), ISSUED)).contains("does not belong"));
        let nobody = IssuedCode { holder: Holder { subject: None, ..code().holder }, ..code() };
        assert!(refused(redeem(&nobody, &request(), ISSUED)).contains("not valid"));
        // A replay is a replay whoever holds it: its tokens are revoked.
        let replayed = IssuedCode { used: true, ..disabled };
        assert!(matches!(redeem(&replayed, &request(), ISSUED), Err(Refusal::Replay(_))));
    }
}
