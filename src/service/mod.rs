//! Orchestration shared by the axum handlers, the server functions and the
//! command line: validate, call the protocol core, write through `store`.

pub mod access;
pub mod actor;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod authorization;
pub mod backup;
pub mod bootstrap;
pub mod cleanup;
pub mod customers;
pub mod mail;
pub mod new_file;
pub mod oidc;
pub mod organizations;
pub mod random;
pub mod revocation;
pub mod roles;
pub mod token;
pub mod transfer;
pub mod users;
pub mod words;

use std::borrow::Cow;

/// The current time in Unix seconds; the one place the clock is read for
/// protocol decisions.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A failure a person can act on, or an internal one that is logged and
/// reported only as "internal error".
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Bad input, with the form field it belongs to.
    #[error("{message}")]
    Invalid { field: &'static str, message: Cow<'static, str> },
    #[error("{0} was not found.")]
    NotFound(&'static str),
    #[error("You do not have permission to do this.")]
    Forbidden,
    #[error("An internal error occurred; it has been logged.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Every password-checking slot stayed taken for a while (see
    /// [`auth`]): nothing was done; the same request may succeed a moment
    /// later. The HTTP layer answers 429 or 503 with `Retry-After`.
    #[error("The server is busy checking other passwords. Try again in a moment.")]
    Busy,
    /// The database cannot serve the request at the moment
    /// ([`crate::store::is_transient`]): 503 with `Retry-After`.
    #[error("The server cannot reach its database at the moment. Try again shortly.")]
    Unavailable,
}

impl ServiceError {
    pub fn invalid(field: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        ServiceError::Invalid { field, message: message.into() }
    }

    /// Logs an internal error once, where it happens, and wraps it.
    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        tracing::error!(error = %err, "internal error");
        ServiceError::Internal(Box::new(err))
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(err: sqlx::Error) -> Self {
        if crate::store::is_unstorable_input(&err) {
            return ServiceError::invalid("input", UNSTORABLE);
        }
        if crate::store::is_transient(&err) {
            tracing::warn!(error = %err, "the database cannot serve the request now (503)");
            return ServiceError::Unavailable;
        }
        ServiceError::internal(err)
    }
}

/// What a person is told when the database refused a character of theirs.
pub const UNSTORABLE: &str = "The input contains a character that cannot be stored (NUL).";

/// Turns a unique-constraint violation into the form error a person can
/// act on, and any other database error into an internal one:
/// `store::users::insert(..).await.on_unique("username", USERNAME_TAKEN)?`.
pub trait OnUnique<T> {
    fn on_unique(self, field: &'static str, message: &'static str) -> Result<T, ServiceError>;
}

impl<T> OnUnique<T> for Result<T, sqlx::Error> {
    fn on_unique(self, field: &'static str, message: &'static str) -> Result<T, ServiceError> {
        self.map_err(|err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => ServiceError::invalid(field, message),
            _ => ServiceError::from(err),
        })
    }
}
