//! The authorization endpoint's work (RFC 6749 §4.1, RFC 7636): check the
//! request, send the person to the login page or the consent page, remember
//! consent, and issue single-use codes (stored only as their SHA-256).

use super::audit::{self, AuditEvent};
use super::{random, ServiceError};
use crate::model::Side;
use crate::model::Subject;
use crate::oauth::authorize::{self, AuthorizationRequest, AuthorizeError, AuthorizingClient, RawRequest};
use crate::oauth::scope::{Scope, ScopeDefinition, SCOPES};
use crate::oauth::secret::hash_secret;
use crate::oauth::{redirect_uri, ErrorCode};
use crate::state::AppState;
use crate::store;
use crate::store::audit::NewEntry;

/// What the endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An error page (the redirect URI cannot be trusted); never a redirect.
    Page(String),
    /// The application is of the other side.
    NotFound,
    /// Back to the client (a code, or an error with `state`).
    Redirect(String),
    /// Nobody of this side is logged in: the login page (it names the application).
    Login,
    /// Ask the person.
    Consent(Prompt),
}

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub application: String,
    pub organization: String,
    /// Each scope asked for, and exactly what it will let the application
    /// read, as the person, in this organization.
    pub scopes: Vec<(&'static str, String)>,
}

/// What a scope lets an application of `organization` read, as the person
/// who grants it: the consent page says exactly this.
pub fn reach(scope: &ScopeDefinition, organization: &str) -> String {
    match scope.name {
        "users:read" => format!(
            "Read the users of {organization} as you can see them: user names, email addresses, \
             whether each is enabled or an administrator, and when each was created"
        ),
        "profile" => "Read your customer profile: your user name, email address, organization and language, \
                    whether your account is enabled and when it was created"
            .to_owned(),
        _ => scope.description.to_owned(),
    }
}

/// The parameters of an authorization request, as sent; repeated ones are
/// refused (RFC 6749 §3.1).
const PARAMETERS: [&str; 7] =
    ["client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"];

/// The authorization request's own parameters out of a query or form.
pub fn request_pairs(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs.iter().filter(|(k, _)| PARAMETERS.contains(&k.as_str())).cloned().collect()
}

struct Checked {
    application_id: i64,
    organization_id: i64,
    client: AuthorizingClient,
    organization: String,
    request: AuthorizationRequest,
    redirect_uri_sent: bool,
}

/// A request refused by [`check`].
enum Refused {
    /// What to answer, whoever is signed in.
    Outcome(Outcome),
    /// An error to send back to the (trusted) redirect URI: `location`
    /// carries `error`, `error_description`, `state` and `iss`.
    Back { location: String, description: String },
}

impl Refused {
    /// RFC 9700 §4.11.2: an authorization server that redirects anonymous
    /// visitors with an error is an open redirector for anyone who can
    /// register a client. Before the person has signed in, the error is
    /// shown as a page; once they have, it goes back to the application.
    fn answer(self, signed_in: bool) -> Outcome {
        match self {
            Refused::Outcome(outcome) => outcome,
            Refused::Back { location, .. } if signed_in => Outcome::Redirect(location),
            Refused::Back { description, .. } => {
                Outcome::Page(format!("The application's request cannot be processed: {description}"))
            }
        }
    }
}

fn back(issuer: &str, err: &AuthorizeError) -> Refused {
    match err {
        AuthorizeError::Redirect { description, .. } => {
            Refused::Back { location: err.location(issuer).unwrap_or_default(), description: description.clone() }
        }
        AuthorizeError::Page(message) => Refused::Outcome(Outcome::Page((*message).to_owned())),
        AuthorizeError::NotFound => Refused::Outcome(Outcome::NotFound),
    }
}

/// Runs every check of an authorization request on it (RFC 6749 §4.1.1,
/// §4.1.2.1, RFC 7636 §4.3).
async fn check(
    state: &AppState,
    side: Side,
    pairs: &[(String, String)],
) -> Result<Result<Checked, Refused>, ServiceError> {
    let issuer = state.site.issuer(side);
    let get = |name: &str| authorize::single(pairs, name);
    // A repeated client_id or redirect_uri leaves nothing to trust: an error page.
    let (client_id, redirect_uri) = match (get("client_id"), get("redirect_uri")) {
        (Ok(c), Ok(r)) => (c, r),
        (Err(name), _) | (_, Err(name)) => {
            return Ok(Err(Refused::Outcome(Outcome::Page(format!(
                "The parameter {name} is included more than once."
            )))))
        }
    };
    let mut repeated = None;
    let mut value = |name: &str| {
        get(name).unwrap_or_else(|n| {
            repeated.get_or_insert(n);
            None
        })
    };
    let raw = RawRequest {
        client_id,
        redirect_uri,
        response_type: value("response_type"),
        scope: value("scope"),
        state: value("state"),
        code_challenge: value("code_challenge"),
        code_challenge_method: value("code_challenge_method"),
    };
    let record = match client_id {
        Some(id) if id.len() <= crate::oauth::client_auth::MAX_CLIENT_ID_LEN => {
            store::applications::find_authorizing(&state.db, id).await?
        }
        _ => None,
    };
    let client = match &record {
        Some(r) => Some(AuthorizingClient {
            client_id: r.client_id.clone(),
            name: r.name.clone(),
            active: r.active,
            side: r.side,
            grant_type: r.grant_type,
            confidential: r.confidential,
            skip_consent: r.skip_consent,
            redirect_uris: store::applications::redirect_uris(&state.db, r.id).await?,
        }),
        None => None,
    };
    let result = authorize::validate(&raw, client.as_ref(), side);
    let request = match (result, repeated) {
        (Ok(request), Some(name)) => {
            let repeated = AuthorizeError::Redirect {
                redirect_uri: request.redirect_uri,
                error: ErrorCode::InvalidRequest,
                description: format!("The parameter {name} is included more than once."),
                state: request.state,
            };
            return Ok(Err(back(issuer, &repeated)));
        }
        (Err(err), _) => return Ok(Err(back(issuer, &err))),
        (Ok(request), None) => request,
    };
    let (Some(record), Some(client)) = (record, client) else {
        return Ok(Err(Refused::Outcome(Outcome::Page("The application is unknown or inactive.".into()))));
    };
    Ok(Ok(Checked {
        application_id: record.id,
        organization_id: record.organization_id,
        client,
        organization: record.organization,
        request,
        redirect_uri_sent: redirect_uri.is_some(),
    }))
}

fn prompt(checked: &Checked) -> Prompt {
    Prompt {
        application: checked.client.name.clone(),
        organization: checked.organization.clone(),
        scopes: SCOPES
            .iter()
            .filter(|d| checked.request.scope.contains(d.name))
            .map(|d| (d.name, reach(d, &checked.organization)))
            .collect(),
    }
}

/// `GET …/authorize`: what to show or where to go, for the person logged in
/// on this side (`subject`), if any.
pub async fn authorize(
    state: &AppState,
    side: Side,
    pairs: &[(String, String)],
    subject: Option<Subject>,
    now: i64,
) -> Result<Outcome, ServiceError> {
    let checked = match check(state, side, pairs).await? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused.answer(subject.is_some())),
    };
    let Some(subject) = subject else {
        return Ok(Outcome::Login);
    };
    if let Some(refused) = outsider(state, &checked, subject).await? {
        return Ok(refused);
    }
    if checked.client.skip_consent || remembered(state, &checked, subject).await? {
        return issue(state, &checked, subject, now).await.map(Outcome::Redirect);
    }
    Ok(Outcome::Consent(prompt(&checked)))
}

/// Organizations are walls: a person may authorize only an application of
/// an organization they belong to, since its tokens read that organization
/// as them. Anyone else is sent back with `access_denied` (they have signed
/// in, so the redirect URI is no open redirector for them).
async fn outsider(state: &AppState, checked: &Checked, subject: Subject) -> Result<Option<Outcome>, ServiceError> {
    if store::organizations::subject_belongs(&state.db, subject, checked.organization_id).await? {
        return Ok(None);
    }
    tracing::warn!(client_id = %checked.client.client_id, ?subject, "authorization refused: not a member of the application's organization");
    let denied = AuthorizeError::Redirect {
        redirect_uri: checked.request.redirect_uri.clone(),
        error: ErrorCode::AccessDenied,
        description: "Your account does not belong to the organization of this application.".into(),
        state: checked.request.state.clone(),
    };
    Ok(Some(Outcome::Redirect(denied.location(state.site.issuer(checked.client.side)).unwrap_or_default())))
}

/// The consent page's data for a request (re-checked: the page may be old).
pub async fn consent_prompt(
    state: &AppState,
    side: Side,
    pairs: &[(String, String)],
    subject: Option<Subject>,
) -> Result<Result<Prompt, Outcome>, ServiceError> {
    let checked = match check(state, side, pairs).await? {
        Ok(checked) => checked,
        Err(refused) => return Ok(Err(refused.answer(subject.is_some()))),
    };
    if let Some(subject) = subject {
        if let Some(refused) = outsider(state, &checked, subject).await? {
            return Ok(Err(refused));
        }
    }
    Ok(Ok(prompt(&checked)))
}

/// `POST …/authorize`: the person's answer on the consent page.
pub async fn decide(
    state: &AppState,
    side: Side,
    pairs: &[(String, String)],
    subject: Subject,
    approve: bool,
    now: i64,
) -> Result<Outcome, ServiceError> {
    let checked = match check(state, side, pairs).await? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused.answer(true)),
    };
    if let Some(refused) = outsider(state, &checked, subject).await? {
        return Ok(refused);
    }
    if !approve {
        let denied = AuthorizeError::Redirect {
            redirect_uri: checked.request.redirect_uri.clone(),
            error: ErrorCode::AccessDenied,
            description: "The user denied the request.".into(),
            state: checked.request.state.clone(),
        };
        tracing::info!(client_id = %checked.client.client_id, ?subject, "consent denied");
        return Ok(Outcome::Redirect(denied.location(state.site.issuer(side)).unwrap_or_default()));
    }
    // Remember the union of what was granted before and now.
    let mut scope: Scope = checked.request.scope.clone();
    if let Some(before) = store::grants::consent(&state.db, checked.application_id, subject).await? {
        if let Ok(before) = Scope::parse(&before) {
            scope = scope.union(&before);
        }
    }
    let mut tx = state.db.write().await?;
    store::grants::save_consent(&mut tx, checked.application_id, subject, &scope.to_string(), now).await?;
    let detail = format!("scope \"{}\" (now remembered: \"{scope}\")", checked.request.scope);
    let entry = NewEntry {
        user_id: subject.user_id(),
        customer_user_id: subject.customer_user_id(),
        application_id: Some(checked.application_id),
        detail: &detail,
        ..audit::entry(AuditEvent::ConsentGranted, now)
    };
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    tracing::info!(client_id = %checked.client.client_id, ?subject, scope = %scope, "consent granted");
    issue(state, &checked, subject, now).await.map(Outcome::Redirect)
}

async fn remembered(state: &AppState, checked: &Checked, subject: Subject) -> Result<bool, ServiceError> {
    let Some(granted) = store::grants::consent(&state.db, checked.application_id, subject).await? else {
        return Ok(false);
    };
    // RFC 8252 §8.6: a public client on a loopback or private-use redirect
    // cannot be told from another program on the device; it asks again.
    if !checked.client.confidential && redirect_uri::reaches_any_local_program(&checked.request.redirect_uri) {
        return Ok(false);
    }
    let granted = Scope::parse(&granted).unwrap_or_default();
    Ok(checked.request.scope.iter().all(|s| granted.contains(s)))
}

/// Issues a code and returns the redirect that carries it (with `state`, and
/// `iss` as RFC 9207 asks, against mix-up attacks).
async fn issue(state: &AppState, checked: &Checked, subject: Subject, now: i64) -> Result<String, ServiceError> {
    let code = random::token(32);
    let request = &checked.request;
    let scope = request.scope.to_string();
    store::grants::insert_code(
        &state.db,
        &store::grants::NewCode {
            code_hash: &hash_secret(&code),
            application_id: checked.application_id,
            subject,
            redirect_uri: &request.redirect_uri,
            redirect_uri_sent: checked.redirect_uri_sent,
            scope: &scope,
            code_challenge: request.code_challenge.as_ref().map(|c| c.as_str()),
            created_at: now,
            expires_at: now + state.config.tokens.authorization_code_lifetime,
        },
    )
    .await?;
    tracing::info!(client_id = %checked.client.client_id, ?subject, scope = %scope, "authorization code issued");
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &request.state {
        pairs.push(("state", s.as_str()));
    }
    pairs.push(("iss", state.site.issuer(checked.client.side)));
    Ok(authorize::redirect_url(&request.redirect_uri, &pairs))
}

/// An application a person authorized, for their "Authorized applications" page.
#[derive(Debug, Clone)]
pub struct Authorized {
    pub application_id: i64,
    pub name: String,
    pub organization: String,
    pub scopes: Vec<String>,
    pub granted_at: i64,
    pub last_used_at: Option<i64>,
}

pub async fn authorized_applications(
    state: &AppState,
    subject: Subject,
    now: i64,
) -> Result<Vec<Authorized>, ServiceError> {
    let rows = store::grants::authorized_by(&state.db, subject, now).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let scope = Scope::parse(&row.scope).unwrap_or_default();
            Authorized {
                application_id: row.application_id,
                name: row.name,
                organization: row.organization,
                scopes: scope
                    .iter()
                    .map(|s| {
                        SCOPES.iter().find(|d| d.name == s).map_or_else(|| s.to_owned(), |d| d.description.to_owned())
                    })
                    .collect(),
                granted_at: row.granted_at,
                last_used_at: row.last_used_at,
            }
        })
        .collect())
}

/// Forgets the consent and revokes every grant (refresh and access tokens)
/// `subject` gave the application.
pub async fn revoke(state: &AppState, subject: Subject, application_id: i64, now: i64) -> Result<(), ServiceError> {
    let mut tx = state.db.write().await?;
    // A write first, so that the transaction holds the write lock before it reads.
    let forgotten = store::grants::delete_consent(&mut tx, application_id, subject).await?;
    let revoked = store::grants::revoke_grants_of(&mut tx, application_id, subject, now).await?;
    let codes = store::grants::delete_unredeemed_codes(&mut tx, application_id, subject).await?;
    if revoked == 0 && !forgotten && codes == 0 {
        return Err(ServiceError::NotFound("The authorized application"));
    }
    let detail =
        format!("consent forgotten; {revoked} grant(s) and their tokens revoked; {codes} unredeemed code(s) voided");
    let entry = NewEntry {
        user_id: subject.user_id(),
        customer_user_id: subject.customer_user_id(),
        application_id: Some(application_id),
        detail: &detail,
        ..audit::entry(AuditEvent::ConsentRevoked, now)
    };
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    tracing::info!(application_id, ?subject, grants = revoked, "authorization revoked by the user");
    Ok(())
}
