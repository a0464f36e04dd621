//! Back-office login: passwords (argon2id, off the async threads, a few at a
//! time) and sessions (a random cookie; only its SHA-256 is stored).
//!
//! Hashing or checking a password with argon2id's default parameters
//! (m = 19 MiB, t = 2, p = 1: OWASP's minimum; RFC 9106 §4 asks for more
//! memory where it can be afforded) costs 19 MiB and tens of milliseconds of
//! a core. The process does at most [`password_slots`] of them at once, so
//! a flood of sign-ins can neither exhaust memory nor starve the token
//! endpoint of CPU; a request that finds every slot taken waits up to
//! [`PASSWORD_WAIT`] and then gets [`ServiceError::Busy`].

use super::{now, random, ServiceError};
use crate::oauth::secret::hash_secret;
use crate::state::AppState;
use crate::store::{self, customer_users::CustomerUser, sessions::Signed, users::User};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a password check waits for a free slot before the caller is
/// told the server is busy.
pub const PASSWORD_WAIT: Duration = Duration::from_secs(2);

/// How many passwords are hashed or checked at once, process-wide: twice
/// the cores (one waiting for each running), at least 2 and at most 8, so
/// at most 8 × 19 MiB = 152 MiB go to argon2.
pub fn password_slots() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (2 * cores).clamp(2, 8)
}

static PASSWORD_WORK: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(password_slots())));

/// A slot of `slots`, waiting at most `wait` for one.
async fn password_slot(slots: &Arc<Semaphore>, wait: Duration) -> Result<OwnedSemaphorePermit, ServiceError> {
    match tokio::time::timeout(wait, Arc::clone(slots).acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        // Err(_) inside: the semaphore was closed, which nothing does.
        Ok(Err(_)) | Err(_) => {
            tracing::warn!(waited_ms = wait.as_millis() as u64, "password check refused: every slot is busy");
            Err(ServiceError::Busy)
        }
    }
}

/// Runs `work` (argon2) on a blocking thread once one of `slots` is free.
/// The slot moves into the blocking task, so it is held until the work
/// ends even if the caller stops waiting (a closed connection drops the
/// request's future, not the thread's work).
async fn with_slot<T: Send + 'static>(
    slots: &Arc<Semaphore>,
    wait: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServiceError> {
    let slot = password_slot(slots, wait).await?;
    tokio::task::spawn_blocking(move || {
        let result = work();
        drop(slot);
        result
    })
    .await
    .map_err(ServiceError::internal)
}

/// Runs argon2 `work` within the process-wide bound.
async fn argon2_work<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ServiceError> {
    with_slot(&PASSWORD_WORK, PASSWORD_WAIT, work).await
}

/// Hashes a password with argon2id (PHC string).
pub async fn hash_password(password: String) -> Result<String, ServiceError> {
    argon2_work(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await?
    .map_err(|e| ServiceError::internal(std::io::Error::other(e.to_string())))
}

/// Checks a password against a PHC hash, in constant time (call on a
/// blocking thread, within a slot).
fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
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
/// [`ServiceError::Busy`] when no slot freed up in time: nothing was
/// checked, and it is no failed attempt.
async fn check_password<T>(found: Option<(T, String)>, password: &str) -> Result<Option<T>, ServiceError> {
    let (account, hash) = match found {
        Some((account, hash)) => (Some(account), Some(hash)),
        None => (None, None),
    };
    let password = password.to_owned();
    let ok = argon2_work(move || verify_password(&password, &hash.unwrap_or_else(decoy_hash))).await?;
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
pub async fn login_customer(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<NewCustomerSession, ServiceError> {
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
pub async fn customer_session_user(
    state: &AppState,
    cookie_value: &str,
) -> Result<Option<Signed<CustomerUser>>, ServiceError> {
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
pub async fn session_user(state: &AppState, cookie_value: &str) -> Result<Option<Signed<User>>, ServiceError> {
    if cookie_value.len() > 128 {
        return Ok(None);
    }
    Ok(store::sessions::find_user(&state.db, &hash_secret(cookie_value), now()).await?)
}

pub async fn logout(state: &AppState, cookie_value: &str) -> Result<(), ServiceError> {
    store::sessions::delete(&state.db, &hash_secret(cookie_value)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn few_passwords_are_checked_at_once() {
        assert!((2..=8).contains(&password_slots()), "{}", password_slots());
    }

    #[tokio::test]
    async fn a_check_waits_briefly_for_a_slot_then_the_server_says_it_is_busy() {
        let slots = Arc::new(Semaphore::new(1));
        let held = password_slot(&slots, Duration::from_millis(10)).await.unwrap();
        let started = Instant::now();
        let busy = with_slot(&slots, Duration::from_millis(50), || ()).await.unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(50), "it waited first");
        assert!(matches!(busy, ServiceError::Busy), "{busy:?}");
        assert_eq!(busy.to_string(), "The server is busy checking other passwords. Try again in a moment.");
        // A slot freed while waiting is taken.
        let freeing = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(held);
        });
        assert_eq!(with_slot(&slots, Duration::from_secs(2), || 7).await.unwrap(), 7);
        freeing.await.unwrap();
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_does_not_free_the_slot_before_the_work_ends() {
        let slots = Arc::new(Semaphore::new(1));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (finish_tx, finish_rx) = std::sync::mpsc::channel::<()>();
        let work = with_slot(&slots, Duration::from_secs(1), move || {
            started_tx.send(()).unwrap();
            finish_rx.recv().unwrap();
        });
        // The caller goes away (a closed connection) while argon2 still runs.
        let given_up = tokio::time::timeout(Duration::from_millis(50), work).await;
        assert!(given_up.is_err());
        started_rx.recv().unwrap();
        assert_eq!(slots.available_permits(), 0, "the running work still holds its slot");
        finish_tx.send(()).unwrap();
        let freed = password_slot(&slots, Duration::from_secs(2)).await;
        assert!(freed.is_ok(), "the slot is back once the work ended");
    }

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(check_password(Some(((), hash.clone())), "correct horse").await.unwrap().is_some());
        assert!(check_password(Some(((), hash)), "wrong horse").await.unwrap().is_none());
        assert!(check_password::<()>(None, "anything").await.unwrap().is_none());
    }
}
