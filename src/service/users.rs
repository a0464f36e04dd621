//! Back-office users: the rules for user names, emails and passwords (shared
//! with customer users), creation from the command line and the first start,
//! and what administrators do to users in User Management. Roles are
//! `super::roles`, organizations `super::organizations`, the first start
//! `super::bootstrap`.

use super::actor::Actor;
use super::audit::{self, AuditEvent};
use super::auth::hash_password;
use super::bootstrap::DEFAULT_ORGANIZATION;
use super::{mail, now, OnUnique, ServiceError};
use crate::state::AppState;
use crate::store::audit::NewEntry;
use crate::store::{self, users::User};

pub struct NewUserInput<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub role_id: Option<i64>,
    /// Organization name; created if missing. `None`: the first organization.
    pub organization: Option<&'a str>,
}

pub const USERNAME_TAKEN: &str = "A user with this user name already exists.";
pub const LAST_ADMIN: &str = "At least one enabled administrator must remain.";

pub fn validate_username(username: &str) -> Result<(), ServiceError> {
    if username.is_empty() {
        return Err(ServiceError::invalid("username", "The user name must not be empty."));
    }
    if username.chars().count() > 255 {
        return Err(ServiceError::invalid("username", "The user name must be at most 255 characters."));
    }
    if username.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ServiceError::invalid("username", "The user name must not contain spaces."));
    }
    Ok(())
}

pub fn validate_email(email: &str) -> Result<(), ServiceError> {
    let valid = email.len() <= 255
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        });
    if valid {
        Ok(())
    } else {
        Err(ServiceError::invalid("email", "This is not a valid email address."))
    }
}

pub fn validate_password(password: &str) -> Result<(), ServiceError> {
    if password.chars().count() < 8 {
        return Err(ServiceError::invalid("password", "The password must be at least 8 characters."));
    }
    if password.len() > 1024 {
        return Err(ServiceError::invalid("password", "The password must be at most 1024 bytes."));
    }
    Ok(())
}

/// Creates a back-office user in an organization, in one transaction.
pub async fn create_user(state: &AppState, input: NewUserInput<'_>) -> Result<User, ServiceError> {
    validate_username(input.username)?;
    validate_email(input.email)?;
    validate_password(input.password)?;
    let hash = hash_password(input.password.to_owned()).await?;
    let now = now();
    let mut tx = state.db.write().await?;
    let organization_id = match input.organization {
        Some(name) => match store::organizations::find_by_name(&mut tx, name).await? {
            Some(org) => org.id,
            None => {
                if name.trim().is_empty() || name.chars().count() > 255 {
                    return Err(ServiceError::invalid(
                        "organization",
                        "The organization name must be 1 to 255 characters.",
                    ));
                }
                store::organizations::insert(&mut tx, name, now).await?
            }
        },
        None => match store::organizations::first(&mut tx).await? {
            Some(org) => org.id,
            None => store::organizations::insert(&mut tx, DEFAULT_ORGANIZATION, now).await?,
        },
    };
    let new = store::users::NewUser {
        username: input.username,
        email: input.email,
        password_hash: &hash,
        role_id: input.role_id,
        language: "en",
    };
    let id = store::users::insert(&mut tx, &new, now).await.on_unique("username", USERNAME_TAKEN)?;
    store::organizations::add_member(&mut tx, organization_id, id).await?;
    let detail = format!("user \"{}\" (id {id}); from the command line or the first start", input.username);
    let entry = NewEntry { user_id: Some(id), detail: &detail, ..audit::entry(AuditEvent::UserCreated, now) };
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    store::users::find(&state.db, id).await?.ok_or(ServiceError::NotFound("The user"))
}

/// A user as an administrator creates or edits them.
#[derive(Debug, Clone)]
pub struct UserForm {
    pub username: String,
    pub email: String,
    /// Required on creation; empty on edit keeps the password.
    pub password: String,
    pub role_id: Option<i64>,
    pub language: String,
    pub organization_ids: Vec<i64>,
    pub enabled: bool,
}

async fn check_user_form(state: &AppState, actor: &Actor, form: &UserForm) -> Result<(), ServiceError> {
    validate_email(form.email.trim())?;
    if !mail::is_language(&form.language) {
        return Err(ServiceError::invalid("language", "Choose one of the listed languages."));
    }
    if let Some(role) = form.role_id {
        if store::roles::find(&state.db, role).await?.is_none() {
            return Err(ServiceError::invalid("role_id", "Choose one of the listed roles."));
        }
    }
    if form.organization_ids.is_empty() {
        return Err(ServiceError::invalid("organization_ids", "Choose at least one organization."));
    }
    if form.organization_ids.iter().any(|id| !actor.organization_ids.contains(id)) {
        return Err(ServiceError::invalid("organization_ids", "Choose among your organizations."));
    }
    Ok(())
}

/// Creates a back-office user (administrators only).
pub async fn create_by_admin(state: &AppState, actor: &Actor, form: UserForm) -> Result<i64, ServiceError> {
    actor.require_admin()?;
    let username = form.username.trim();
    validate_username(username)?;
    check_user_form(state, actor, &form).await?;
    validate_password(&form.password)?;
    let hash = hash_password(form.password.clone()).await?;
    let now = now();
    let mut tx = state.db.write().await?;
    let new = store::users::NewUser {
        username,
        email: form.email.trim(),
        password_hash: &hash,
        role_id: form.role_id,
        language: &form.language,
    };
    let id = store::users::insert(&mut tx, &new, now).await.on_unique("username", USERNAME_TAKEN)?;
    if !form.enabled {
        store::users::update(
            &mut tx,
            id,
            &store::users::UserChanges {
                email: new.email,
                role_id: form.role_id,
                language: &form.language,
                enabled: false,
            },
            now,
        )
        .await?;
    }
    store::organizations::set_memberships(&mut tx, id, &form.organization_ids).await?;
    let organizations = store::organizations::names(&mut tx, &form.organization_ids).await?;
    let detail = format!(
        "user \"{username}\" (id {id}), role {}, organizations {}{}",
        role_name(state, form.role_id).await?,
        organizations.join(", "),
        if form.enabled { "" } else { ", disabled" }
    );
    audit::record(&mut tx, &NewEntry { detail: &detail, ..audit::by(actor, AuditEvent::UserCreated, now) }).await?;
    tx.commit().await?;
    tracing::info!(user_id = id, actor = actor.user_id, "back-office user created");
    Ok(id)
}

/// Edits a user who shares an organization with the administrator. Their
/// memberships in organizations the administrator is not in are kept. Nobody
/// can remove the last enabled administrator.
pub async fn update_by_admin(state: &AppState, actor: &Actor, id: i64, form: UserForm) -> Result<(), ServiceError> {
    actor.require_admin()?;
    let current: Vec<i64> = store::organizations::of_user(&state.db, id).await?.into_iter().map(|o| o.id).collect();
    if !current.iter().any(|o| actor.organization_ids.contains(o)) {
        return Err(ServiceError::NotFound("The user"));
    }
    check_user_form(state, actor, &form).await?;
    let before = store::users::find(&state.db, id).await?.ok_or(ServiceError::NotFound("The user"))?;
    let outside: Vec<i64> = current.iter().copied().filter(|o| !actor.organization_ids.contains(o)).collect();
    // Organizations are walls: the account itself (email, password, role,
    // language, enabled) is shared by every organization the person is in,
    // so only an administrator of all of them, or of the installation, may
    // change it. Anyone else may only change the person's memberships in
    // their own organizations.
    let account_changes = form.email.trim() != before.email
        || form.role_id != before.role_id
        || form.language != before.language
        || form.enabled != before.enabled
        || !form.password.is_empty();
    if account_changes && !outside.is_empty() && !actor.installation_admin {
        return Err(ServiceError::invalid(
            "organization_ids",
            "This user also belongs to organizations you do not administer: only their memberships in your organizations can be changed here.",
        ));
    }
    let hash = if form.password.is_empty() {
        None
    } else {
        validate_password(&form.password)?;
        Some(hash_password(form.password.clone()).await?)
    };
    let before_organizations = store::organizations::names(&state.db, &current).await?;
    let mut memberships = outside;
    memberships.extend(&form.organization_ids);
    let now = now();
    let mut tx = state.db.write().await?;
    let changes = store::users::UserChanges {
        email: form.email.trim(),
        role_id: form.role_id,
        language: &form.language,
        enabled: form.enabled,
    };
    if !store::users::update(&mut tx, id, &changes, now).await? {
        return Err(ServiceError::NotFound("The user"));
    }
    if let Some(hash) = &hash {
        store::users::set_password(&mut tx, id, hash, now).await?;
    }
    store::organizations::set_memberships(&mut tx, id, &memberships).await?;
    if store::users::count_enabled_admins(&mut tx).await? == 0 {
        // Dropping the transaction rolls everything back.
        return Err(ServiceError::invalid(if form.enabled { "role_id" } else { "enabled" }, LAST_ADMIN));
    }
    // A new password or a disabled account signs the person out everywhere:
    // whoever knew the old password keeps no session opened with it.
    let ended =
        if hash.is_some() || !form.enabled { store::sessions::delete_all_of_user(&mut tx, id).await? } else { 0 };
    let organizations = store::organizations::names(&mut tx, &memberships).await?;
    let detail = format!(
        "user id {id}: email {}, role {} → {}, organizations {} → {}, {}{}{}",
        changes.email,
        before.role.as_deref().unwrap_or("none"),
        role_name(state, form.role_id).await?,
        before_organizations.join(", "),
        organizations.join(", "),
        if form.enabled { "enabled" } else { "disabled" },
        if hash.is_some() { ", password changed" } else { "" },
        if ended > 0 { format!("; {ended} session(s) ended") } else { String::new() }
    );
    audit::record(&mut tx, &NewEntry { detail: &detail, ..audit::by(actor, AuditEvent::UserUpdated, now) }).await?;
    tx.commit().await?;
    tracing::info!(user_id = id, actor = actor.user_id, "back-office user edited");
    Ok(())
}

/// A role's name for the audit log.
async fn role_name(state: &AppState, role_id: Option<i64>) -> Result<String, ServiceError> {
    Ok(match role_id {
        Some(id) => store::roles::find(&state.db, id).await?.map_or_else(|| format!("#{id}"), |r| r.name),
        None => "none".to_owned(),
    })
}
