//! OAuth applications (docs/architecture.md#applications; who may do what:
//! docs/permissions.md): validation, creation with a one-time client secret,
//! and the grid actions (edit, activate/deactivate, delete, regenerate secret),
//! each checked against the actor's permissions.

use super::actor::Actor;
use super::audit::{self, AuditEvent};
use super::{mail, now, random, OnUnique, ServiceError};
use crate::model::{Side, Subject};
use crate::oauth::grant::GrantType;
use crate::oauth::redirect_uri;
use crate::oauth::secret::ClientSecret;
use crate::permissions::{Action, GridScope};
use crate::state::AppState;
use crate::store;
use crate::store::applications::{ApplicationChanges, ApplicationSummary};
use crate::store::audit::NewEntry;

#[derive(Debug, Clone)]
pub struct NewApplicationInput {
    pub organization_id: i64,
    pub name: String,
    pub active: bool,
    pub grant_type: GrantType,
    pub side: Side,
    pub owner: Option<Subject>,
    pub confidential: bool,
    pub skip_consent: bool,
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send people back to (authorization_code
    /// only; none is fine).
    pub post_logout_redirect_uris: Vec<String>,
}

/// A created application and its secret, which exists in clear only here.
#[derive(Debug)]
pub struct CreatedApplication {
    pub id: i64,
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
}

pub const NAME_TAKEN: &str = "The application with the given name already exists.";
pub const NO_REDIRECT_URI: &str = "At least one redirect URL should be specified.";
pub const POST_LOGOUT_NOT_FOR_CLIENT_CREDENTIALS: &str =
    "Only authorization code applications sign people in: a client_credentials application has no post-logout redirect URLs.";

pub const NOT_FOUND: &str = "The OAuth application";
pub const OWNER_OUTRANKS: &str =
    "Choose an owner whose role does not exceed yours: the application's tokens act as its owner.";
pub const SKIP_CONSENT_ADMIN_ONLY: &str =
    "Only administrators can let an application skip user consent: it is a trust decision about a first-party application.";
pub const SKIP_CONSENT_PUBLIC: &str =
    "A public client cannot skip user consent: anyone can use its client ID (the configuration can allow it).";

/// A public client skipping consent lets any program that copies its
/// client ID get a person's authorization silently; refused unless the
/// configuration allows it (`tokens.public_clients_may_skip_consent`).
fn check_skip_consent(state: &AppState, confidential: bool, skip_consent: bool) -> Result<(), ServiceError> {
    if skip_consent && !confidential && !state.config.tokens.public_clients_may_skip_consent {
        return Err(ServiceError::invalid("skip_consent", SKIP_CONSENT_PUBLIC));
    }
    Ok(())
}

/// Checks a name; returns it trimmed.
pub fn validate_name(name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::invalid("name", "The application name must not be empty."));
    }
    if name.chars().count() > 255 {
        return Err(ServiceError::invalid("name", "The application name must be at most 255 characters."));
    }
    if name.chars().any(char::is_control) {
        return Err(ServiceError::invalid("name", "The application name must not contain control characters."));
    }
    Ok(name.to_owned())
}

/// Checks redirect URIs for an authorization_code application.
pub fn validate_redirect_uris(uris: &[String]) -> Result<(), ServiceError> {
    if uris.is_empty() {
        return Err(ServiceError::invalid("redirect_uris", NO_REDIRECT_URI));
    }
    if uris.len() > 20 {
        return Err(ServiceError::invalid("redirect_uris", "At most 20 redirect URLs can be registered."));
    }
    for uri in uris {
        redirect_uri::validate_registered(uri).map_err(|m| ServiceError::invalid("redirect_uris", m))?;
    }
    Ok(())
}

/// Checks post-logout redirect URIs (OpenID Connect RP-Initiated Logout 1.0
/// §3: registered, then matched exactly) for an authorization_code
/// application, by the rules of redirect URIs; none is fine.
pub fn validate_post_logout_redirect_uris(uris: &[String]) -> Result<(), ServiceError> {
    const FIELD: &str = "post_logout_redirect_uris";
    if uris.len() > 20 {
        return Err(ServiceError::invalid(FIELD, "At most 20 post-logout redirect URLs can be registered."));
    }
    for uri in uris {
        redirect_uri::validate_registered(uri).map_err(|m| ServiceError::invalid(FIELD, m))?;
    }
    Ok(())
}

/// The redirect URIs of a form field (either kind): one per line, blanks ignored.
pub fn parse_redirect_uris(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// Checks the input; returns the trimmed name.
pub fn validate(input: &NewApplicationInput) -> Result<String, ServiceError> {
    let name = validate_name(&input.name)?;
    match (input.side, input.owner) {
        (Side::BackOffice, Some(Subject::Customer(_))) => {
            return Err(ServiceError::invalid("owner_id", "A back-office application is owned by a back-office user."))
        }
        (Side::Storefront, Some(Subject::User(_))) => {
            return Err(ServiceError::invalid("owner_id", "A storefront application is owned by a customer user."))
        }
        _ => {}
    }
    match input.grant_type {
        GrantType::ClientCredentials => {
            if input.owner.is_none() {
                return Err(ServiceError::invalid(
                    "owner",
                    "A client_credentials application needs an owner to act as.",
                ));
            }
            if !input.confidential {
                return Err(ServiceError::invalid(
                    "confidential",
                    "A client_credentials application must be a confidential client.",
                ));
            }
        }
        GrantType::AuthorizationCode => {
            validate_redirect_uris(&input.redirect_uris)?;
            validate_post_logout_redirect_uris(&input.post_logout_redirect_uris)?;
        }
    }
    if input.grant_type == GrantType::ClientCredentials && !input.post_logout_redirect_uris.is_empty() {
        return Err(ServiceError::invalid("post_logout_redirect_uris", POST_LOGOUT_NOT_FOR_CLIENT_CREDENTIALS));
    }
    Ok(name)
}

/// Creates the application in one transaction and returns its credentials
/// (from the command line: the audit log names no person).
pub async fn create(state: &AppState, input: NewApplicationInput) -> Result<CreatedApplication, ServiceError> {
    create_as(state, input, None).await
}

/// Creates the application, recording who did it in the same transaction.
async fn create_as(
    state: &AppState,
    input: NewApplicationInput,
    actor: Option<&Actor>,
) -> Result<CreatedApplication, ServiceError> {
    let name = validate(&input)?;
    check_skip_consent(state, input.confidential, input.skip_consent)?;
    let side = input.side;
    let client_id = random::client_id();
    let client_secret = input.confidential.then(|| ClientSecret::new(random::client_secret()));
    let new = store::applications::NewApplication {
        organization_id: input.organization_id,
        name,
        client_id: client_id.clone(),
        secret_hash: client_secret.as_ref().map(ClientSecret::hash),
        active: input.active,
        grant_type: input.grant_type,
        side,
        owner_user_id: match input.owner {
            Some(Subject::User(id)) => Some(id),
            _ => None,
        },
        owner_customer_user_id: match input.owner {
            Some(Subject::Customer(id)) => Some(id),
            _ => None,
        },
        confidential: input.confidential,
        skip_consent: input.skip_consent,
        redirect_uris: input.redirect_uris,
        post_logout_redirect_uris: input.post_logout_redirect_uris,
    };
    let mut tx = state.db.write().await?;
    let id = store::applications::insert(&mut tx, &new, now()).await.on_unique("name", NAME_TAKEN)?;
    let detail = format!(
        "{} application \"{}\", grant {}, {}{}",
        side.as_str(),
        new.name,
        new.grant_type,
        if new.confidential { "confidential" } else { "public" },
        if actor.is_none() { "; from the command line" } else { "" }
    );
    let entry =
        NewEntry { application_id: Some(id), detail: &detail, ..audit_entry(actor, AuditEvent::ApplicationCreated) };
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    tracing::info!(application_id = id, client_id = %client_id, "OAuth application created");
    // Tell the owner (docs/architecture.md#applications). Never blocks or
    // fails the creation.
    match store::applications::find_summary(&state.db, id).await {
        Ok(Some(app)) => mail::application_added(state, &app).await,
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, application_id = id, "could not read the new application for its email"),
    }
    Ok(CreatedApplication { id, client_id, client_secret })
}

/// An Add Application form as a person filled it in, before the
/// organization and owner are resolved against what the actor may use.
#[derive(Debug, Clone)]
pub struct ApplicationRequest {
    pub organization_id: Option<i64>,
    /// A back-office user (back-office grid) or a customer user (storefront
    /// grid); ignored on My User, where the owner is the actor.
    pub owner_id: Option<i64>,
    pub name: String,
    pub active: bool,
    pub grant_type: String,
    pub redirect_uris: String,
    /// One per line, like `redirect_uris`; may be empty.
    pub post_logout_redirect_uris: String,
    pub confidential: bool,
    pub skip_consent: bool,
}

/// Creates an application from a grid, after checking that the actor may
/// create there, in that organization, for that owner.
pub async fn create_in(
    state: &AppState,
    actor: &Actor,
    scope: GridScope,
    request: ApplicationRequest,
) -> Result<CreatedApplication, ServiceError> {
    if !actor.permissions.can_in(scope, Action::Create) {
        return Err(ServiceError::Forbidden);
    }
    if request.skip_consent && !actor.permissions.administrator {
        return Err(ServiceError::invalid("skip_consent", SKIP_CONSENT_ADMIN_ONLY));
    }
    let organization_id = actor.organization_for(request.organization_id)?;
    let grant_type = request
        .grant_type
        .parse::<GrantType>()
        .ok()
        .ok_or_else(|| ServiceError::invalid("grant_type", "Choose client_credentials or authorization_code."))?;
    let (side, owner) = match scope {
        GridScope::Mine => (Side::BackOffice, Some(Subject::User(actor.user_id))),
        GridScope::BackOffice => {
            let owner = match request.owner_id {
                None => actor.user_id,
                Some(id) => match store::users::find_in_organization(&state.db, organization_id, id).await? {
                    // Its client_credentials tokens act as the owner: nobody
                    // may lend an application more authority than their own.
                    Some(user) if user.enabled && !actor.outranks_or_equals(&user.permissions()) => {
                        return Err(ServiceError::invalid("owner_id", OWNER_OUTRANKS))
                    }
                    Some(user) if user.enabled => user.id,
                    _ => return Err(ServiceError::invalid("owner_id", "Choose an active user of the organization.")),
                },
            };
            (Side::BackOffice, Some(Subject::User(owner)))
        }
        GridScope::Storefront => {
            let owner = match request.owner_id {
                None => None,
                Some(id) => match store::customer_users::find(&state.db, id).await? {
                    Some(c) if c.organization_id == organization_id && c.enabled => Some(Subject::Customer(c.id)),
                    _ => {
                        return Err(ServiceError::invalid(
                            "owner_id",
                            "Choose an active customer user of the organization.",
                        ))
                    }
                },
            };
            if owner.is_none() && grant_type == GrantType::ClientCredentials {
                return Err(ServiceError::invalid(
                    "owner_id",
                    "A client_credentials application needs a customer user to act as.",
                ));
            }
            (Side::Storefront, owner)
        }
    };
    let (redirect_uris, post_logout_redirect_uris) = match grant_type {
        GrantType::AuthorizationCode => {
            (parse_redirect_uris(&request.redirect_uris), parse_redirect_uris(&request.post_logout_redirect_uris))
        }
        GrantType::ClientCredentials => (Vec::new(), Vec::new()),
    };
    create_as(
        state,
        NewApplicationInput {
            organization_id,
            name: request.name,
            active: request.active,
            grant_type,
            side,
            owner,
            confidential: request.confidential || grant_type == GrantType::ClientCredentials,
            skip_consent: request.skip_consent && grant_type == GrantType::AuthorizationCode,
            redirect_uris,
            post_logout_redirect_uris,
        },
        Some(actor),
    )
    .await
}

/// An entry by `actor`, or by nobody in particular (the command line).
fn audit_entry(actor: Option<&Actor>, event: AuditEvent) -> NewEntry<'_> {
    match actor {
        Some(actor) => audit::by(actor, event, now()),
        None => audit::entry(event, now()),
    }
}

/// The application `id` if the actor may do `action` to it: one they cannot
/// see is "not found" (its existence is not revealed), one they can see but
/// not change is "forbidden".
pub async fn find_permitted(
    state: &AppState,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<ApplicationSummary, ServiceError> {
    let app = store::applications::find_summary(&state.db, id).await?.ok_or(ServiceError::NotFound(NOT_FOUND))?;
    let storefront = app.side == Side::Storefront;
    let own = app.owner_user_id == Some(actor.user_id);
    if !actor.organization_ids.contains(&app.organization_id)
        || !actor.permissions.allows(Action::View, storefront, own)
    {
        return Err(ServiceError::NotFound(NOT_FOUND));
    }
    if !actor.permissions.allows(action, storefront, own) {
        return Err(ServiceError::Forbidden);
    }
    Ok(app)
}

/// What the Edit dialog changes, as a person filled it in.
#[derive(Debug, Clone, Copy)]
pub struct ApplicationEdit<'a> {
    pub name: &'a str,
    pub active: bool,
    /// One per line (authorization_code only; ignored otherwise).
    pub redirect_uris: &'a str,
    /// One per line, may be empty (authorization_code only; ignored otherwise).
    pub post_logout_redirect_uris: &'a str,
    pub skip_consent: bool,
}

/// Edits name, active, redirect URIs (both kinds) and skip-consent, in one
/// transaction.
pub async fn update(state: &AppState, actor: &Actor, id: i64, edit: ApplicationEdit<'_>) -> Result<(), ServiceError> {
    let ApplicationEdit { name, active, redirect_uris, post_logout_redirect_uris, skip_consent } = edit;
    let app = find_permitted(state, actor, id, Action::Edit).await?;
    let name = validate_name(name)?;
    let code = app.grant_type == GrantType::AuthorizationCode;
    if skip_consent && code && !app.skip_consent {
        if !actor.permissions.administrator {
            return Err(ServiceError::invalid("skip_consent", SKIP_CONSENT_ADMIN_ONLY));
        }
        check_skip_consent(state, app.confidential, true)?;
    }
    if !skip_consent && app.skip_consent && !actor.permissions.administrator {
        // Turning it off is safe, but it is the administrators' decision either way.
        return Err(ServiceError::invalid("skip_consent", SKIP_CONSENT_ADMIN_ONLY));
    }
    let redirect_uris = if code { parse_redirect_uris(redirect_uris) } else { Vec::new() };
    let post_logout_redirect_uris = if code { parse_redirect_uris(post_logout_redirect_uris) } else { Vec::new() };
    if code {
        validate_redirect_uris(&redirect_uris)?;
        validate_post_logout_redirect_uris(&post_logout_redirect_uris)?;
    }
    let changes = ApplicationChanges {
        name,
        active,
        skip_consent: skip_consent && code,
        redirect_uris,
        post_logout_redirect_uris,
    };
    let mut tx = state.db.write().await?;
    if !store::applications::update(&mut tx, id, &changes, now()).await.on_unique("name", NAME_TAKEN)? {
        return Err(ServiceError::NotFound(NOT_FOUND));
    }
    let listed = |uris: &[String]| if uris.is_empty() { "none".to_owned() } else { uris.join(" ") };
    let detail = format!(
        "name \"{}\", {}, redirect URIs: {}, post-logout redirect URIs: {}{}",
        changes.name,
        if changes.active { "active" } else { "inactive" },
        listed(&changes.redirect_uris),
        listed(&changes.post_logout_redirect_uris),
        if changes.skip_consent { ", skips consent" } else { "" }
    );
    let entry = NewEntry {
        application_id: Some(id),
        detail: &detail,
        ..audit::by(actor, AuditEvent::ApplicationUpdated, now())
    };
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    tracing::info!(application_id = id, actor = actor.user_id, "OAuth application edited");
    Ok(())
}

/// Activates or deactivates. A deactivated application's tokens are refused
/// at once: the APIs check the application on every request.
pub async fn set_active(state: &AppState, actor: &Actor, id: i64, active: bool) -> Result<(), ServiceError> {
    find_permitted(state, actor, id, Action::Edit).await?;
    let mut tx = state.db.write().await?;
    if !store::applications::set_active(&mut tx, id, active, now()).await? {
        return Err(ServiceError::NotFound(NOT_FOUND));
    }
    let detail = if active { "activated" } else { "deactivated" };
    let entry =
        NewEntry { application_id: Some(id), detail, ..audit::by(actor, AuditEvent::ApplicationUpdated, now()) };
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    tracing::info!(application_id = id, active, actor = actor.user_id, "OAuth application activation changed");
    Ok(())
}

/// Deletes the application and, with it, the records of its tokens.
pub async fn delete(state: &AppState, actor: &Actor, id: i64) -> Result<(), ServiceError> {
    let app = find_permitted(state, actor, id, Action::Delete).await?;
    let mut tx = state.db.write().await?;
    // Written first, while the application's name can still be looked up.
    let detail = format!("\"{}\" and the records of its tokens", app.name);
    let entry = NewEntry {
        application_id: Some(id),
        application_name: Some(&app.name),
        client_id: Some(&app.client_id),
        detail: &detail,
        ..audit::by(actor, AuditEvent::ApplicationDeleted, now())
    };
    audit::record(&mut tx, &entry).await?;
    if !store::applications::delete(&mut tx, id).await? {
        return Err(ServiceError::NotFound(NOT_FOUND));
    }
    tx.commit().await?;
    tracing::info!(application_id = id, actor = actor.user_id, "OAuth application deleted");
    Ok(())
}

/// Replaces the secret of a confidential client and returns the new one,
/// to be shown once (an addition to Oro's model;
/// docs/architecture.md#applications).
pub async fn regenerate_secret(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<(ApplicationSummary, ClientSecret), ServiceError> {
    let app = find_permitted(state, actor, id, Action::Edit).await?;
    if !app.confidential {
        return Err(ServiceError::invalid("confidential", "A public client has no secret."));
    }
    // A new secret is a new way to get tokens that act as the owner.
    if let Some(owner_id) = app.owner_user_id.filter(|o| *o != actor.user_id) {
        let owner = store::users::find(&state.db, owner_id).await?;
        if owner.is_some_and(|o| !actor.outranks_or_equals(&o.permissions())) {
            return Err(ServiceError::Forbidden);
        }
    }
    let secret = ClientSecret::new(random::client_secret());
    let mut tx = state.db.write().await?;
    if !store::applications::set_secret_hash(&mut tx, id, &secret.hash(), now()).await? {
        return Err(ServiceError::NotFound(NOT_FOUND));
    }
    // Whatever was issued to the holder of the old secret dies with it: a
    // secret is regenerated because it leaked, or may have.
    let revoked = store::grants::revoke_all_of_application(&mut tx, id, "secret_regenerated", now()).await?;
    let detail = format!("client secret regenerated; {revoked} access token(s) and every refresh token revoked");
    let entry = NewEntry {
        application_id: Some(id),
        detail: &detail,
        ..audit::by(actor, AuditEvent::ApplicationUpdated, now())
    };
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    tracing::info!(application_id = id, actor = actor.user_id, "OAuth application secret regenerated");
    Ok((app, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewApplicationInput {
        NewApplicationInput {
            organization_id: 1,
            name: "  Billing sync ".into(),
            active: true,
            grant_type: GrantType::ClientCredentials,
            side: Side::BackOffice,
            owner: Some(Subject::User(1)),
            confidential: true,
            skip_consent: false,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
        }
    }

    fn message(err: ServiceError) -> (&'static str, String) {
        match err {
            ServiceError::Invalid { field, message } => (field, message.into_owned()),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn name_is_trimmed_and_required() {
        assert_eq!(validate(&input()).unwrap(), "Billing sync");
        let (field, _) = message(validate(&NewApplicationInput { name: "   ".into(), ..input() }).unwrap_err());
        assert_eq!(field, "name");
        let long = "x".repeat(256);
        let (field, msg) = message(validate(&NewApplicationInput { name: long, ..input() }).unwrap_err());
        assert_eq!((field, msg.contains("255")), ("name", true));
    }

    #[test]
    fn authorization_code_needs_a_redirect_uri() {
        let code = NewApplicationInput { grant_type: GrantType::AuthorizationCode, ..input() };
        assert_eq!(message(validate(&code).unwrap_err()), ("redirect_uris", NO_REDIRECT_URI.to_string()));
        let bad = NewApplicationInput { redirect_uris: vec!["not a url".into()], ..code.clone() };
        assert_eq!(message(validate(&bad).unwrap_err()).0, "redirect_uris");
        let good = NewApplicationInput { redirect_uris: vec!["https://app.example.com/cb".into()], ..code };
        assert!(validate(&good).is_ok());
    }

    #[test]
    fn post_logout_redirect_uris_are_optional_and_checked_like_redirect_uris() {
        let code = NewApplicationInput {
            grant_type: GrantType::AuthorizationCode,
            redirect_uris: vec!["https://app.example.com/cb".into()],
            ..input()
        };
        assert!(validate(&code).is_ok(), "none is fine");
        let good = NewApplicationInput {
            post_logout_redirect_uris: vec!["https://app.example.com/signed-out".into(), "http://127.0.0.1/bye".into()],
            ..code.clone()
        };
        assert!(validate(&good).is_ok());
        for bad in ["not a url", "ftp://app.example.com/bye", "https://app.example.com/bye#fragment"] {
            let bad = NewApplicationInput { post_logout_redirect_uris: vec![bad.into()], ..code.clone() };
            assert_eq!(message(validate(&bad).unwrap_err()).0, "post_logout_redirect_uris", "{bad:?}");
        }
        let many: Vec<String> = (0..21).map(|i| format!("https://app.example.com/bye/{i}")).collect();
        let (field, msg) =
            message(validate(&NewApplicationInput { post_logout_redirect_uris: many, ..code }).unwrap_err());
        assert_eq!((field, msg.contains("At most 20")), ("post_logout_redirect_uris", true));
        // A client_credentials application signs nobody in.
        let cc = NewApplicationInput { post_logout_redirect_uris: vec!["https://a.example/bye".into()], ..input() };
        assert_eq!(
            message(validate(&cc).unwrap_err()),
            ("post_logout_redirect_uris", POST_LOGOUT_NOT_FOR_CLIENT_CREDENTIALS.to_string())
        );
    }

    #[test]
    fn the_owner_matches_the_kind() {
        let wrong = NewApplicationInput { owner: Some(Subject::Customer(4)), ..input() };
        assert_eq!(message(validate(&wrong).unwrap_err()).0, "owner_id");
        let wrong = NewApplicationInput { side: Side::Storefront, ..input() };
        assert_eq!(message(validate(&wrong).unwrap_err()).0, "owner_id");
    }

    #[test]
    fn redirect_uris_are_one_per_line() {
        assert_eq!(
            parse_redirect_uris(" https://a.example/cb \n\n\thttps://b.example/cb\r\n"),
            ["https://a.example/cb", "https://b.example/cb"]
        );
    }

    #[test]
    fn client_credentials_must_be_confidential() {
        let public = NewApplicationInput { confidential: false, ..input() };
        assert_eq!(message(validate(&public).unwrap_err()).0, "confidential");
    }
}
