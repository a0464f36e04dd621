//! The authorization endpoint's work (RFC 6749 §4.1, RFC 7636): check the
//! request, send the person to the login page or the consent page, remember
//! consent, and issue single-use codes (stored only as their SHA-256).

use super::audit::{self, AuditEvent};
use super::words::{self, ConsentWords};
use super::{random, ServiceError};
use crate::model::Side;
use crate::model::Subject;
use crate::oauth::authorize::{self, AuthorizationRequest, AuthorizeError, AuthorizingClient, RawRequest};
use crate::oauth::scope::{self, Scope, SCOPES};
use crate::oauth::secret::hash_secret;
use crate::oauth::sign_in_mark::MarkKey;
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
    /// Nobody of this side is logged in, or the request wants the person to
    /// sign in again: the login page (it names the application).
    Login(SignIn),
    /// Ask the person.
    Consent(Prompt),
}

/// How the login page is shown for an authorization request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignIn {
    /// Sign in again although signed in (`prompt=login`, `max_age`, another
    /// person named by the request): the request comes back with this
    /// `signed_in_after` mark, which a sign-in after it satisfies (see
    /// [`crate::oauth::sign_in_mark`]).
    pub again: Option<String>,
    /// The user name to fill in (`login_hint`).
    pub login_hint: Option<String>,
}

/// The person signed in on the request's side, and when they signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedIn {
    pub subject: Subject,
    /// The session's start: the ID token's `auth_time`.
    pub at: i64,
}

/// Postern's own parameter on an authorization request it sends back to
/// itself after a sign-in that the request asked for (see [`SignIn::again`]).
pub const SIGNED_IN_AFTER: &str = "signed_in_after";

/// The key of the `signed_in_after` marks: the active signing key's, shared
/// by every instance serving it. Without a signing key (tokens cannot be
/// issued then anyway) a key of this process's own keeps the flow working.
fn mark_key(state: &AppState) -> MarkKey {
    static UNSHARED: std::sync::LazyLock<MarkKey> = std::sync::LazyLock::new(|| {
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        MarkKey::new(secret)
    });
    match state.keys.signing_key() {
        Some(key) => key.mark_key().clone(),
        None => UNSHARED.clone(),
    }
}

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub application: String,
    pub organization: String,
    /// The page's words, in the person's language (or the request's `ui_locales`).
    pub words: &'static ConsentWords,
    /// Each scope asked for, and exactly what it will let the application
    /// read, as the person, in this organization.
    pub scopes: Vec<(&'static str, String)>,
}

/// The parameters of an authorization request, as sent; repeated ones are
/// refused (RFC 6749 §3.1). OAuth's, then OpenID Connect Core §3.1.2.1's,
/// then Postern's own.
const PARAMETERS: [&str; 21] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "prompt",
    "max_age",
    "login_hint",
    "id_token_hint",
    "ui_locales",
    "claims",
    "claims_locales",
    "display",
    "acr_values",
    "response_mode",
    "request",
    "request_uri",
    SIGNED_IN_AFTER,
];

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
    /// The `signed_in_after` mark as sent: once opened, a sign-in after its
    /// time satisfies `prompt=login` and `max_age`.
    signed_in_after: Option<String>,
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
        nonce: value("nonce"),
        prompt: value("prompt"),
        max_age: value("max_age"),
        login_hint: value("login_hint"),
        id_token_hint: value("id_token_hint"),
        ui_locales: value("ui_locales"),
        claims: value("claims"),
        display: value("display"),
        response_mode: value("response_mode"),
        request: value("request"),
        request_uri: value("request_uri"),
        registration: value("registration"),
    };
    let signed_in_after = value(SIGNED_IN_AFTER).map(str::to_owned);
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
        signed_in_after,
    }))
}

/// What the consent page asks, in the person's language (`language`) or
/// the first of the request's `ui_locales` that Postern has.
fn prompt(checked: &Checked, language: &str) -> Prompt {
    let words = words::consent(&checked.request.authentication.ui_locales, language);
    let side = checked.client.side;
    Prompt {
        application: checked.client.name.clone(),
        organization: checked.organization.clone(),
        words,
        scopes: SCOPES
            .iter()
            .filter(|d| d.kind == side && checked.request.scope.contains(d.name))
            .map(|d| {
                let reach = words.reach(side, d.name, &checked.organization);
                (d.name, reach.unwrap_or_else(|| d.description.to_owned()))
            })
            .collect(),
    }
}

/// `GET …/authorize`: what to show or where to go, for the person signed
/// in on this side (`signed`), if any.
pub async fn authorize(
    state: &AppState,
    side: Side,
    pairs: &[(String, String)],
    signed: Option<SignedIn>,
    now: i64,
) -> Result<Outcome, ServiceError> {
    let checked = match check(state, side, pairs).await? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused.answer(signed.is_some())),
    };
    let authentication = &checked.request.authentication;
    let silent = authentication.prompt.none;
    let mark = || mark_key(state).seal(side, &checked.client.client_id, now);
    let sign_in = |again: Option<String>| {
        if silent {
            return Outcome::Redirect(checked.error(state, ErrorCode::LoginRequired, "The user is not signed in."));
        }
        Outcome::Login(SignIn { again, login_hint: authentication.login_hint.clone() })
    };
    let Some(signed) = signed else {
        // The sign-in this leads to satisfies prompt=login and max_age (even
        // max_age=0): the request comes back marked with its time.
        let asks = authentication.prompt.forces_login() || authentication.max_age.is_some();
        return Ok(sign_in(if asks { mark() } else { None }));
    };
    if let Some(refused) = outsider(state, &checked, signed.subject).await? {
        return Ok(refused);
    }
    let hinted = match hinted_subject(state, &checked, now) {
        Ok(hinted) => hinted,
        Err(location) => return Ok(Outcome::Redirect(location)),
    };
    if let Some(why) = sign_in_again(state, &checked, signed, hinted.as_deref(), now) {
        tracing::info!(client_id = %checked.client.client_id, subject = ?signed.subject, why, "the authorization request asks for a new sign-in");
        return Ok(sign_in(mark()));
    }
    let ask = authentication.prompt.consent
        || !(checked.client.skip_consent || remembered(state, &checked, signed.subject).await?);
    if ask {
        if silent {
            return Ok(Outcome::Redirect(checked.error(
                state,
                ErrorCode::ConsentRequired,
                "The user has not consented to this request.",
            )));
        }
        return Ok(Outcome::Consent(prompt(&checked, "en")));
    }
    issue(state, &checked, signed, now).await.map(Outcome::Redirect)
}

/// Why the person must sign in again before this request, if they must:
/// `prompt=login` or `select_account`, a session older than `max_age`, or
/// another person than the one the request names (`id_token_hint`, a
/// `claims` request for a `sub`). A sign-in after the request asked for
/// it satisfies all of these.
fn sign_in_again(
    state: &AppState,
    checked: &Checked,
    signed: SignedIn,
    hinted: Option<&str>,
    now: i64,
) -> Option<&'static str> {
    // Only a mark this server sealed for this client in the last few minutes
    // counts: an old, made-up or borrowed one cannot stand for a new sign-in.
    let side = checked.client.side;
    let opened = checked
        .signed_in_after
        .as_deref()
        .and_then(|mark| mark_key(state).open(side, &checked.client.client_id, mark, now));
    if opened.is_some_and(|after| signed.at >= after) {
        return None;
    }
    let authentication = &checked.request.authentication;
    let sub = signed.subject.sub();
    if authentication.prompt.forces_login() {
        Some("prompt")
    } else if authentication.max_age.is_some_and(|max| now - signed.at > max) {
        Some("max_age")
    } else if hinted.is_some_and(|h| h != sub) {
        Some("id_token_hint names another person")
    } else if authentication.claims.as_ref().and_then(|c| c.required_sub()).is_some_and(|s| s != sub) {
        Some("the claims request names another person")
    } else {
        None
    }
}

/// The `sub` of the request's `id_token_hint`, if it has one: an ID token
/// this issuer signed (expired or not). Anything else goes back as
/// `invalid_request` (the `Err` is the redirect).
fn hinted_subject(state: &AppState, checked: &Checked, now: i64) -> Result<Option<String>, String> {
    let Some(hint) = checked.request.authentication.id_token_hint.as_deref() else {
        return Ok(None);
    };
    match super::oidc::verify_hint(state, checked.client.side, hint, now) {
        Ok(claims) => Ok(Some(claims.sub)),
        Err(err) => {
            tracing::info!(client_id = %checked.client.client_id, error = %err, "id_token_hint refused");
            Err(checked.error(state, ErrorCode::InvalidRequest, "id_token_hint is not an ID token this issuer signed."))
        }
    }
}

impl Checked {
    /// An error sent back to the request's (trusted) redirect URI.
    fn error(&self, state: &AppState, error: ErrorCode, description: &str) -> String {
        let err = AuthorizeError::Redirect {
            redirect_uri: self.request.redirect_uri.clone(),
            error,
            description: description.to_owned(),
            state: self.request.state.clone(),
        };
        err.location(state.site.issuer(self.client.side)).unwrap_or_default()
    }
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
    language: &str,
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
    Ok(Ok(prompt(&checked, language)))
}

/// `POST …/authorize`: the person's answer on the consent page.
pub async fn decide(
    state: &AppState,
    side: Side,
    pairs: &[(String, String)],
    signed: SignedIn,
    approve: bool,
    now: i64,
) -> Result<Outcome, ServiceError> {
    let subject = signed.subject;
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
    issue(state, &checked, signed, now).await.map(Outcome::Redirect)
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
async fn issue(state: &AppState, checked: &Checked, signed: SignedIn, now: i64) -> Result<String, ServiceError> {
    let code = random::token(32);
    let request = &checked.request;
    let scope = request.scope.to_string();
    let subject = signed.subject;
    let authentication = &request.authentication;
    // The nonce and the claims request are for the ID token only.
    let openid = request.scope.is_openid();
    let claims = authentication.claims.as_ref().filter(|_| openid).map(|c| c.to_json());
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
            oidc: store::grants::Authenticated {
                nonce: authentication.nonce.as_deref().filter(|_| openid),
                auth_time: Some(signed.at),
                claims: claims.as_deref(),
            },
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
    /// The application signs the person in (OpenID Connect `openid`).
    pub signs_in: bool,
    pub granted_at: i64,
    pub last_used_at: Option<i64>,
}

pub async fn authorized_applications(
    state: &AppState,
    subject: Subject,
    now: i64,
) -> Result<Vec<Authorized>, ServiceError> {
    let rows = store::grants::authorized_by(&state.db, subject, now).await?;
    let side = match subject {
        Subject::User(_) => Side::BackOffice,
        Subject::Customer(_) => Side::Storefront,
    };
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
                    .map(|s| scope::definition(side, s).map_or_else(|| s.to_owned(), |d| d.description.to_owned()))
                    .collect(),
                signs_in: scope.is_openid(),
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
