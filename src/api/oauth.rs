//! Server functions of the authorization code flow's pages: the login
//! pages' context, the consent page, and each person's "Authorized
//! applications". The forms themselves post to plain handlers
//! (`crate::server::authorize`, `crate::server::session`), so they work
//! without JavaScript.

use super::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Which side a page belongs to (one enum for the whole tree).
pub use crate::model::Side;

/// What a login page needs: its CSRF token and, when it was reached from
/// an authorization request, the application's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInView {
    pub csrf_token: String,
    pub application: Option<String>,
}

#[server(prefix = "/admin/rpc", endpoint = "sign_in_context")]
pub async fn sign_in_context(side: Side, redirect: String) -> Result<SignInView, AppError> {
    use super::guard;
    let state = guard::state()?;
    let csrf_token = guard::csrf_token().unwrap_or_default();
    // "/admin/oauth2-token/authorize?client_id=…" or the consent page of the same side.
    let (path, query) = redirect.split_once('?').unwrap_or((redirect.as_str(), ""));
    let consent = side.authorize_path().replace("/authorize", "/consent");
    let mut application = None;
    if path == side.authorize_path() || path == consent {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        if let Ok(Some(client_id)) = crate::oauth::authorize::single(&pairs, "client_id") {
            if client_id.len() <= crate::oauth::client_auth::MAX_CLIENT_ID_LEN {
                application = crate::store::applications::find_authorizing(&state.db, client_id)
                    .await?
                    .filter(|a| a.active && a.side == side)
                    .map(|a| a.name);
            }
        }
    }
    Ok(SignInView { csrf_token, application })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeView {
    pub name: String,
    pub description: String,
}

/// The consent page: the question, and the form that answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentView {
    pub application: String,
    pub organization: String,
    pub scopes: Vec<ScopeView>,
    /// Who is signed in (user name).
    pub account: String,
    pub csrf_token: String,
    /// The authorization request, carried to the answer as hidden fields.
    pub params: Vec<(String, String)>,
    pub action: String,
    /// The page's words in the person's language (`language`, a BCP 47 tag).
    pub language: String,
    pub words: ConsentText,
}

/// The consent page's own words, filled in (see `service::words`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentText {
    pub question: String,
    pub signed_in_as: String,
    pub application_of: String,
    pub it_will: String,
    pub nothing: String,
    pub walls: String,
    pub revoke: String,
    pub cancel: String,
    pub grant: String,
    pub working: String,
}

#[server(prefix = "/admin/rpc", endpoint = "consent")]
pub async fn consent_context(side: Side, query: String) -> Result<ConsentView, AppError> {
    use super::guard;
    use crate::service::authorization::{self, Outcome};
    let state = guard::state()?;
    let (account, subject, language) = match side {
        Side::BackOffice => {
            let user = guard::user()?;
            (user.username, crate::model::Subject::User(user.id), user.language)
        }
        Side::Storefront => {
            let customer = guard::customer()?;
            (customer.username, crate::model::Subject::Customer(customer.id), customer.language)
        }
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.trim_start_matches('?'))
        .map_err(|_| guard::invalid("request", "The authorization request is malformed."))?;
    let params = authorization::request_pairs(&pairs);
    let prompt = authorization::consent_prompt(&state, side, &params, Some(subject), &language);
    match prompt.await.map_err(guard::service_error)? {
        Ok(prompt) => Ok(ConsentView {
            language: prompt.words.language.to_owned(),
            words: {
                let w = prompt.words;
                ConsentText {
                    question: w.question.replace("{application}", &prompt.application),
                    signed_in_as: w.signed_in_as.to_owned(),
                    application_of: w.application_of.to_owned(),
                    it_will: w.it_will.to_owned(),
                    nothing: w.nothing.to_owned(),
                    walls: w.walls.replace("{organization}", &prompt.organization),
                    revoke: w.revoke.to_owned(),
                    cancel: w.cancel.to_owned(),
                    grant: w.grant.to_owned(),
                    working: w.working.to_owned(),
                }
            },
            application: prompt.application,
            organization: prompt.organization,
            scopes: prompt
                .scopes
                .iter()
                .map(|(name, reach)| ScopeView { name: (*name).to_owned(), description: reach.clone() })
                .collect(),
            account,
            csrf_token: guard::csrf_token().unwrap_or_default(),
            params,
            action: side.authorize_path().to_owned(),
        }),
        Err(Outcome::Page(message)) => Err(guard::invalid("request", &message)),
        Err(_) => Err(guard::invalid(
            "request",
            "This authorization request can no longer be completed. Go back to the application and start again.",
        )),
    }
}

/// An application the signed-in person authorized.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AuthorizedView {
    pub application_id: i64,
    pub name: String,
    pub organization: String,
    pub scopes: Vec<String>,
    /// It signs the person in (OpenID Connect).
    pub signs_in: bool,
    pub granted_at: String,
    pub last_used_at: Option<String>,
}

#[cfg(feature = "ssr")]
fn current_subject(side: Side) -> Result<crate::model::Subject, AppError> {
    use super::guard;
    use crate::model::Subject;
    Ok(match side {
        Side::BackOffice => Subject::User(guard::user()?.id),
        Side::Storefront => Subject::Customer(guard::customer()?.id),
    })
}

#[server(prefix = "/admin/rpc", endpoint = "authorized_applications")]
pub async fn authorized_applications(side: Side) -> Result<Vec<AuthorizedView>, AppError> {
    use super::{display_time, guard};
    let state = guard::state()?;
    let subject = current_subject(side)?;
    let list = crate::service::authorization::authorized_applications(&state, subject, crate::service::now())
        .await
        .map_err(guard::service_error)?;
    Ok(list
        .into_iter()
        .map(|a| AuthorizedView {
            application_id: a.application_id,
            name: a.name,
            organization: a.organization,
            scopes: a.scopes,
            signs_in: a.signs_in,
            granted_at: display_time(a.granted_at),
            last_used_at: a.last_used_at.map(display_time),
        })
        .collect())
}

/// Revokes an authorization: forgets the consent and kills its refresh and
/// access tokens.
#[server(prefix = "/admin/rpc", endpoint = "revoke_authorization")]
pub async fn revoke_authorization(side: Side, application_id: i64, csrf_token: String) -> Result<(), AppError> {
    use super::guard;
    let state = guard::state()?;
    let subject = current_subject(side)?;
    guard::check_csrf(&csrf_token)?;
    crate::service::authorization::revoke(&state, subject, application_id, crate::service::now())
        .await
        .map_err(guard::service_error)
}

/// The signed-in customer user, for the storefront pages' header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAccountView {
    pub username: String,
    pub email: String,
    pub organization: String,
    pub csrf_token: String,
}

#[server(prefix = "/admin/rpc", endpoint = "customer_account")]
pub async fn customer_account() -> Result<CustomerAccountView, AppError> {
    use super::guard;
    let customer = guard::customer()?;
    Ok(CustomerAccountView {
        username: customer.username,
        email: customer.email,
        organization: customer.organization,
        csrf_token: guard::csrf_token().unwrap_or_default(),
    })
}
