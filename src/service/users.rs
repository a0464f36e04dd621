//! Back-office users and organizations: creation, and the first admin.

use super::auth::hash_password;
use super::{now, random, ServiceError};
use crate::state::AppState;
use crate::store::{self, users::User};

/// The organization made on first start.
pub const DEFAULT_ORGANIZATION: &str = "Default";

pub struct NewUserInput<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub is_admin: bool,
    /// Organization name; created if missing. `None`: the first organization.
    pub organization: Option<&'a str>,
}

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
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
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
    let mut tx = state.db.begin().await?;
    let organization_id = match input.organization {
        Some(name) => match store::organizations::find_by_name(&mut *tx, name).await? {
            Some(org) => org.id,
            None => {
                if name.trim().is_empty() || name.chars().count() > 255 {
                    return Err(ServiceError::invalid("organization", "The organization name must be 1 to 255 characters."));
                }
                store::organizations::insert(&mut *tx, name, now).await?
            }
        },
        None => match store::organizations::first(&mut *tx).await? {
            Some(org) => org.id,
            None => store::organizations::insert(&mut *tx, DEFAULT_ORGANIZATION, now).await?,
        },
    };
    let new = store::users::NewUser { username: input.username, email: input.email, password_hash: &hash, is_admin: input.is_admin };
    let id = match store::users::insert(&mut *tx, &new, now).await {
        Ok(id) => id,
        Err(e) if store::is_unique_violation(&e) => {
            return Err(ServiceError::invalid("username", "A user with this user name already exists."))
        }
        Err(e) => return Err(e.into()),
    };
    store::organizations::add_member(&mut *tx, organization_id, id).await?;
    tx.commit().await?;
    store::users::find(&state.db, id).await?.ok_or(ServiceError::NotFound("The user"))
}

/// The first administrator, made when the database has no user at all.
pub struct FirstAdmin {
    pub username: String,
    pub password: String,
    /// True when the password was generated (and must be shown once).
    pub generated: bool,
}

/// Makes the default organization and an administrator if there are no
/// users yet. The password comes from `POSTERN_ADMIN_PASSWORD` or is generated.
pub async fn bootstrap(state: &AppState, password: Option<String>) -> Result<Option<FirstAdmin>, ServiceError> {
    if store::users::count(&state.db).await? > 0 {
        return Ok(None);
    }
    let generated = password.is_none();
    let password = password.unwrap_or_else(random::password);
    let username = std::env::var("POSTERN_ADMIN_USERNAME").unwrap_or_else(|_| "admin".into());
    let email = std::env::var("POSTERN_ADMIN_EMAIL").unwrap_or_else(|_| "admin@example.com".into());
    create_user(
        state,
        NewUserInput { username: &username, email: &email, password: &password, is_admin: true, organization: Some(DEFAULT_ORGANIZATION) },
    )
    .await?;
    Ok(Some(FirstAdmin { username, password, generated }))
}
