//! OpenID Connect's work beside the code flow (docs/openid-connect.md): the
//! ID token a code or a refresh returns (Core §3.1.3.3, §12.2), the
//! UserInfo endpoint's answer (§5.3), and RP-initiated logout (RP-Initiated
//! Logout 1.0).

use super::access::Access;
use super::ServiceError;
use crate::model::{Side, Subject};
use crate::oauth::jwt::SigningKey;
use crate::oauth::oidc::{self, IdTokenContext, Person};
use crate::oauth::scope::Scope;
use crate::oauth::OAuthError;
use crate::state::AppState;
use crate::store;
use serde_json::{Map, Value};

/// What Postern knows of `subject`, as their claims describe them; `None`
/// when the account is gone or disabled.
pub async fn person(state: &AppState, subject: Subject) -> Result<Option<Person>, sqlx::Error> {
    let Some(row) = store::claims::person(&state.db, subject).await? else { return Ok(None) };
    if !row.enabled {
        return Ok(None);
    }
    Ok(Some(Person {
        sub: subject.sub(),
        username: row.username,
        email: row.email,
        language: row.language,
        updated_at: row.updated_at,
    }))
}

/// An `id_token_hint` (Core §3.1.2.1, RP-Initiated Logout §2) checked: an
/// ID token of `side`'s issuer signed by one of the keys that may still
/// verify tokens at `now`, expired or not.
pub fn verify_hint(
    state: &AppState,
    side: Side,
    hint: &str,
    now: i64,
) -> Result<oidc::IdTokenClaims, crate::oauth::jwt::TokenError> {
    let ring = state.keys.ring();
    let keys = ring.verifying(now, super::access::key_window(state));
    crate::oauth::jwt::verify_id_token_hint(hint, keys, state.site.issuer(side))
}

/// The authentication an ID token reports.
#[derive(Debug, Clone, Copy)]
pub struct Authentication<'a> {
    pub auth_time: Option<i64>,
    /// Only in the ID token of the code's redemption (Core §12.2: not on refresh).
    pub nonce: Option<&'a str>,
}

/// The ID token issued beside `access_token` to `client_id` of `side` for
/// `subject`, releasing what `scope` allows. Lives as long as the access
/// token.
#[allow(clippy::too_many_arguments)]
pub async fn id_token(
    state: &AppState,
    key: &SigningKey,
    side: Side,
    client_id: &str,
    subject: Subject,
    scope: &Scope,
    authentication: Authentication<'_>,
    access_token: &str,
    now: i64,
) -> Result<String, OAuthError> {
    let person = person(state, subject)
        .await
        .map_err(super::token::internal)?
        .ok_or_else(|| OAuthError::invalid_grant("The account of this grant is disabled or deleted."))?;
    let ctx = IdTokenContext {
        issuer: state.site.issuer(side),
        client_id,
        now,
        lifetime: state.config.tokens.access_token_lifetime,
        auth_time: authentication.auth_time,
        nonce: authentication.nonce,
        access_token,
        alg: key.alg(),
    };
    key.sign_id_token(&oidc::id_token_claims(&person, scope, &ctx))
}

/// The UserInfo answer for an accepted access token (Core §5.3.2): `sub`
/// and the claims its scopes release.
pub async fn userinfo(state: &AppState, access: &Access) -> Result<Map<String, Value>, ServiceError> {
    let subject = Subject::from_columns(access.user_id, access.customer_user_id)
        .ok_or(ServiceError::NotFound("The person of this token"))?;
    let person = person(state, subject).await?.ok_or(ServiceError::NotFound("The person of this token"))?;
    let scope = Scope::parse(&access.claims.scope).unwrap_or_default();
    Ok(person.claims(&scope))
}

/// An RP-initiated logout request (RP-Initiated Logout 1.0 §2), as sent.
#[derive(Debug, Clone, Default)]
pub struct LogoutRequest<'a> {
    pub id_token_hint: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// What a logout request leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logout {
    /// Shown to the person; nothing is ended and nobody is redirected.
    Refused(String),
    Accepted(LogoutPlan),
}

/// An accepted logout request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutPlan {
    /// The application that asked, when it is known.
    pub application: Option<String>,
    /// Where to send the browser afterwards (the registered URI with `state`).
    pub back: Option<String>,
    /// The request names the person signed in (a valid `id_token_hint`
    /// with their `sub`): no need to ask them. Otherwise they confirm, so
    /// that no other site can sign them out (§6).
    pub names_the_person: bool,
}

/// Checks a logout request for `side`, with `signed` the person signed in
/// there, if any.
pub async fn end_session(
    state: &AppState,
    side: Side,
    request: &LogoutRequest<'_>,
    signed: Option<Subject>,
    now: i64,
) -> Result<Logout, ServiceError> {
    let refuse = |why: &str| Ok(Logout::Refused(why.to_owned()));
    if request.state.is_some_and(|s| s.len() > crate::oauth::authorize::MAX_STATE) {
        return refuse("The state parameter is longer than 1024 characters.");
    }
    let hint = match request.id_token_hint.map(|hint| verify_hint(state, side, hint, now)) {
        None => None,
        Some(Ok(claims)) => Some(claims),
        Some(Err(err)) => {
            tracing::info!(error = %err, "logout: id_token_hint refused");
            return refuse("The id_token_hint is not an ID token this server issued.");
        }
    };
    let client_id = match (request.client_id, hint.as_ref().map(|h| h.aud.as_str())) {
        (Some(asked), Some(hinted)) if asked != hinted => {
            return refuse("The client_id is not the application the id_token_hint was issued to.")
        }
        (asked, hinted) => asked.or(hinted),
    };
    let client = match client_id {
        Some(id) if id.len() <= crate::oauth::client_auth::MAX_CLIENT_ID_LEN => {
            store::applications::find_authorizing(&state.db, id).await?.filter(|c| c.side == side)
        }
        _ => None,
    };
    if client_id.is_some() && client.is_none() {
        return refuse("The application is unknown.");
    }
    let back = match request.post_logout_redirect_uri {
        None => None,
        Some(uri) => {
            let Some(client) = client.as_ref().filter(|c| c.active) else {
                return refuse("A post_logout_redirect_uri needs the application's client_id or an id_token_hint.");
            };
            let registered = store::applications::post_logout_redirect_uris(&state.db, client.id).await?;
            // Exact match, as for redirect URIs (RFC 9700 §4.1.3).
            if !registered.iter().any(|r| r == uri) {
                return refuse("The post_logout_redirect_uri is not one the application registered.");
            }
            let pairs: Vec<(&str, &str)> = request.state.map(|s| ("state", s)).into_iter().collect();
            Some(crate::oauth::authorize::redirect_url(uri, &pairs))
        }
    };
    let names_the_person = match (&hint, signed) {
        (Some(hint), Some(subject)) => hint.sub == subject.sub(),
        _ => false,
    };
    Ok(Logout::Accepted(LogoutPlan { application: client.map(|c| c.name), back, names_the_person }))
}
