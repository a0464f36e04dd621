//! Back-office login: passwords (argon2id, off the async threads) and
//! sessions (a random cookie; only its SHA-256 is stored).

use super::{now, random, ServiceError};
use crate::oauth::secret::hash_secret;
use crate::state::AppState;
use crate::store::{self, customer_users::CustomerUser, users::User};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::OnceLock;

/// Hashes a password with argon2id (PHC string).
pub async fn hash_password(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(ServiceError::internal)?
    .map_err(|e| ServiceError::internal(std::io::Error::other(e.to_string())))
}

/// Checks a password against a PHC hash, in constant time, off the async threads.
async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so that a
/// failed login takes as long whether or not the user name is known.
fn decoy_hash() -> String {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY
        .get_or_init(|| {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            Argon2::default()
                .hash_password(random::password().as_bytes(), &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
        .clone()
}

/// Why a login failed. One message for all of them: the page must not tell
/// whether the account exists.
pub const LOGIN_FAILED: &str = "Invalid user name or password.";

/// A new session: the cookie value (shown to the browser only) and its user.
pub struct NewSession {
    pub cookie_value: String,
    pub user: User,
    pub max_age: i64,
}

/// Checks a password against the account found (or a decoy when none was),
/// so that failing takes as long whether or not the user name exists.
async fn check_password<T>(found: Option<(T, String)>, password: &str) -> Result<Option<T>, ServiceError> {
    let (account, hash) = match found {
        Some((account, hash)) => (Some(account), hash),
        None => (None, tokio::task::spawn_blocking(decoy_hash).await.map_err(ServiceError::internal)?),
    };
    let ok = verify_password(password.to_owned(), hash).await;
    Ok(account.filter(|_| ok))
}

fn plausible(username: &str, password: &str) -> bool {
    !username.is_empty() && username.len() <= 255 && password.len() <= 1024
}

/// Checks the credentials and opens a session.
pub async fn login(state: &AppState, username: &str, password: &str) -> Result<NewSession, ServiceError> {
    let fail = || ServiceError::invalid("password", LOGIN_FAILED);
    if !plausible(username, password) {
        return Err(fail());
    }
    let found = store::users::find_for_login(&state.db, username).await?;
    let user = match check_password(found, password).await? {
        Some(user) if user.enabled => user,
        _ => {
            tracing::info!(username = %username.chars().take(64).collect::<String>(), "back-office login failed");
            return Err(fail());
        }
    };
    let cookie_value = random::token(32);
    let now = now();
    let max_age = state.config.tokens.session_lifetime;
    store::sessions::insert(&state.db, &hash_secret(&cookie_value), user.id, now, now + max_age).await?;
    tracing::info!(user_id = user.id, username = %user.username, "back-office login");
    Ok(NewSession { cookie_value, user, max_age })
}

/// A new storefront session.
pub struct NewCustomerSession {
    pub cookie_value: String,
    pub customer: CustomerUser,
    pub max_age: i64,
}

/// The storefront login (`/login`): the same rules for customer users.
pub async fn login_customer(state: &AppState, username: &str, password: &str) -> Result<NewCustomerSession, ServiceError> {
    let fail = || ServiceError::invalid("password", LOGIN_FAILED);
    if !plausible(username, password) {
        return Err(fail());
    }
    let found = store::customer_users::find_for_login(&state.db, username).await?;
    let customer = match check_password(found, password).await? {
        Some(customer) if customer.enabled => customer,
        _ => {
            tracing::info!(username = %username.chars().take(64).collect::<String>(), "storefront login failed");
            return Err(fail());
        }
    };
    let cookie_value = random::token(32);
    let now = now();
    let max_age = state.config.tokens.session_lifetime;
    store::sessions::customer::insert(&state.db, &hash_secret(&cookie_value), customer.id, now, now + max_age).await?;
    tracing::info!(customer_user_id = customer.id, username = %customer.username, "storefront login");
    Ok(NewCustomerSession { cookie_value, customer, max_age })
}

/// The customer user of a storefront session cookie, if it is live.
pub async fn customer_session_user(state: &AppState, cookie_value: &str) -> Result<Option<CustomerUser>, ServiceError> {
    if cookie_value.len() > 128 {
        return Ok(None);
    }
    Ok(store::sessions::customer::find_user(&state.db, &hash_secret(cookie_value), now()).await?)
}

pub async fn logout_customer(state: &AppState, cookie_value: &str) -> Result<(), ServiceError> {
    store::sessions::customer::delete(&state.db, &hash_secret(cookie_value)).await?;
    Ok(())
}

/// The user of a session cookie, if it is live.
pub async fn session_user(state: &AppState, cookie_value: &str) -> Result<Option<User>, ServiceError> {
    if cookie_value.len() > 128 {
        return Ok(None);
    }
    Ok(store::sessions::find_user(&state.db, &hash_secret(cookie_value), now()).await?)
}

pub async fn logout(state: &AppState, cookie_value: &str) -> Result<(), ServiceError> {
    store::sessions::delete(&state.db, &hash_secret(cookie_value)).await?;
    Ok(())
}
