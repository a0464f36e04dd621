//! The first start: when the database has no user at all, the default
//! organization and an administrator in it.

use super::users::{create_user, NewUserInput};
use super::{random, ServiceError};
use crate::state::AppState;
use crate::store;

/// The organization made on first start.
pub const DEFAULT_ORGANIZATION: &str = "Default";

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
    let created = create_user(
        state,
        NewUserInput {
            username: &username,
            email: &email,
            password: &password,
            role_id: Some(store::roles::ADMINISTRATOR),
            organization: Some(DEFAULT_ORGANIZATION),
        },
    )
    .await;
    match created {
        Ok(_) => Ok(Some(FirstAdmin { username, password, generated })),
        // Several instances started at once on an empty PostgreSQL database:
        // the other one's administrator (or organization) won the unique
        // index. There is a first user now; this instance has nothing to do.
        Err(_) if store::users::count(&state.db).await? > 0 => Ok(None),
        Err(err) => Err(err),
    }
}
