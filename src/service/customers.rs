//! Storefront customer users, as administrators manage them in the back
//! office (Customers → Customer Users).

use super::actor::Actor;
use super::audit::{self, AuditEvent};
use super::auth::hash_password;
use super::users::{validate_email, validate_password, validate_username};
use super::{mail, now, OnUnique, ServiceError};
use crate::state::AppState;
use crate::store;
use crate::store::audit::NewEntry;

pub const USERNAME_TAKEN: &str = "A customer user with this user name already exists.";

#[derive(Debug, Clone)]
pub struct CustomerForm {
    pub organization_id: Option<i64>,
    pub username: String,
    pub email: String,
    pub password: String,
    pub language: String,
}

pub async fn create(state: &AppState, actor: &Actor, form: CustomerForm) -> Result<i64, ServiceError> {
    actor.require_admin()?;
    let organization_id = actor.organization_for(form.organization_id)?;
    let username = form.username.trim();
    validate_username(username)?;
    validate_email(form.email.trim())?;
    validate_password(&form.password)?;
    if !mail::is_language(&form.language) {
        return Err(ServiceError::invalid("language", "Choose one of the listed languages."));
    }
    let hash = hash_password(form.password.clone()).await?;
    let new = store::customer_users::NewCustomerUser {
        organization_id,
        username,
        email: form.email.trim(),
        password_hash: &hash,
        language: &form.language,
    };
    let mut tx = state.db.write().await?;
    let id = store::customer_users::insert(&mut tx, &new, now()).await.on_unique("username", USERNAME_TAKEN)?;
    let detail = format!("customer user \"{username}\" (id {id})");
    audit::record(&mut tx, &NewEntry { detail: &detail, ..audit::by(actor, AuditEvent::CustomerUserCreated, now()) })
        .await?;
    tx.commit().await?;
    tracing::info!(customer_user_id = id, actor = actor.user_id, "customer user created");
    Ok(id)
}

/// Enables or disables a customer user of the administrator's organizations;
/// a disabled customer's applications get no more tokens.
pub async fn set_enabled(state: &AppState, actor: &Actor, id: i64, enabled: bool) -> Result<(), ServiceError> {
    actor.require_admin()?;
    match store::customer_users::find(&state.db, id).await? {
        Some(c) if actor.organization_ids.contains(&c.organization_id) => {}
        _ => return Err(ServiceError::NotFound("The customer user")),
    }
    let mut tx = state.db.write().await?;
    store::customer_users::set_enabled(&mut tx, id, enabled, now()).await?;
    // A disabled person is signed out everywhere, not only refused next time.
    let ended = if enabled { 0 } else { store::sessions::customer::delete_all_of_customer(&mut tx, id).await? };
    let detail = format!(
        "customer user id {id} {}",
        if enabled { "enabled".to_owned() } else { format!("disabled; {ended} session(s) ended") }
    );
    audit::record(&mut tx, &NewEntry { detail: &detail, ..audit::by(actor, AuditEvent::CustomerUserUpdated, now()) })
        .await?;
    tx.commit().await?;
    tracing::info!(customer_user_id = id, enabled, actor = actor.user_id, "customer user enabled/disabled");
    Ok(())
}

/// Creates a customer user from the command line (no actor): in the named
/// organization, or the first one.
pub async fn create_from_cli(
    state: &AppState,
    organization: Option<&str>,
    username: &str,
    email: &str,
    password: &str,
) -> Result<store::customer_users::CustomerUser, ServiceError> {
    let username = username.trim();
    validate_username(username)?;
    validate_email(email.trim())?;
    validate_password(password)?;
    let org = match organization {
        Some(name) => store::organizations::find_by_name(&state.db, name)
            .await?
            .ok_or_else(|| ServiceError::invalid("organization", format!("There is no organization \"{name}\".")))?,
        None => store::organizations::first(&state.db).await?.ok_or_else(|| {
            ServiceError::invalid(
                "organization",
                "There is no organization yet; start the server once or create a user first.",
            )
        })?,
    };
    let hash = hash_password(password.to_owned()).await?;
    let new = store::customer_users::NewCustomerUser {
        organization_id: org.id,
        username,
        email: email.trim(),
        password_hash: &hash,
        language: "en",
    };
    let mut tx = state.db.write().await?;
    let id = store::customer_users::insert(&mut tx, &new, now()).await.on_unique("username", USERNAME_TAKEN)?;
    let detail = format!("customer user \"{username}\" (id {id}); from the command line");
    let entry = NewEntry {
        customer_user_id: Some(id),
        detail: &detail,
        ..audit::entry(AuditEvent::CustomerUserCreated, now())
    };
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    tracing::info!(customer_user_id = id, "customer user created from the command line");
    store::customer_users::find(&state.db, id).await?.ok_or(ServiceError::NotFound("The customer user"))
}
