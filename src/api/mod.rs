//! Server functions and the types they share with the browser. Each server
//! function is a public HTTP endpoint (under `/admin/rpc/`) and checks the
//! session and permission itself, first thing.

pub mod applications;
pub mod audit;
pub mod configuration;
pub mod dashboard;
pub mod oauth;
pub mod people;
pub mod session;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// The errors server functions answer, shown to people as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Your session has ended. Please log in again.")]
    Unauthenticated,
    #[error("You do not have permission to do this.")]
    Forbidden,
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0} was not found.")]
    NotFound(String),
    #[error("An internal error occurred; it has been logged.")]
    Internal,
    /// The server cannot reach its database for a moment (503).
    #[error("The server cannot reach its database at the moment. Try again shortly.")]
    Unavailable,
    /// The call itself failed (network, server unreachable, bad encoding).
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // On the server this is a request that could not be read (bad
        // encoding, missing or malformed arguments, wrong method): the
        // caller's fault, so a 4xx — server_fn would answer 500.
        #[cfg(feature = "ssr")]
        {
            use axum::http::StatusCode;
            let status = match &value {
                ServerFnErrorErr::Args(_)
                | ServerFnErrorErr::MissingArg(_)
                | ServerFnErrorErr::Deserialization(_)
                | ServerFnErrorErr::Request(_) => Some(StatusCode::BAD_REQUEST),
                ServerFnErrorErr::UnsupportedRequestMethod(_) => Some(StatusCode::METHOD_NOT_ALLOWED),
                ServerFnErrorErr::Registration(_) => Some(StatusCode::NOT_FOUND),
                _ => None,
            };
            if let Some(status) = status {
                guard::set_status(status);
            }
        }
        AppError::Transport(value.to_string())
    }
}

/// A service failure as the caller sees it, with its HTTP status set on
/// the response here, so that `?` in a server function answers 422, 403,
/// 404, 503 (with `Retry-After`) or 500 as the failure says — a conversion
/// that dropped the status would turn every refusal into a 500.
#[cfg(feature = "ssr")]
impl From<crate::service::ServiceError> for AppError {
    fn from(err: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError;
        use axum::http::StatusCode;
        guard::set_status(match &err {
            ServiceError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::Forbidden => StatusCode::FORBIDDEN,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceError::Busy => {
                guard::retry_after(2);
                StatusCode::SERVICE_UNAVAILABLE
            }
            ServiceError::Unavailable => {
                guard::retry_after(1);
                StatusCode::SERVICE_UNAVAILABLE
            }
        });
        match err {
            ServiceError::Invalid { field, message } => {
                AppError::Invalid { field: field.into(), message: message.into_owned() }
            }
            ServiceError::NotFound(what) => AppError::NotFound(what.into()),
            ServiceError::Forbidden => AppError::Forbidden,
            ServiceError::Internal(_) => AppError::Internal,
            ServiceError::Unavailable => AppError::Unavailable,
            // Only password hashing is ever busy: shown beside the password field.
            ServiceError::Busy => {
                AppError::Invalid { field: "password".into(), message: ServiceError::Busy.to_string() }
            }
        }
    }
}

/// A database failure in a server function: logged, answered 500 without details.
#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        if crate::store::is_unstorable_input(&err) {
            guard::set_status(axum::http::StatusCode::BAD_REQUEST);
            return AppError::Invalid { field: "input".into(), message: crate::service::UNSTORABLE.into() };
        }
        if crate::store::is_transient(&err) {
            tracing::warn!(error = %err, "server function: the database cannot serve the request now (503)");
            guard::set_status(axum::http::StatusCode::SERVICE_UNAVAILABLE);
            guard::retry_after(1);
            return AppError::Unavailable;
        }
        tracing::error!(error = %err, "server function: database error");
        guard::set_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        AppError::Internal
    }
}

/// The logged-in user as the pages see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub is_admin: bool,
    pub role: Option<String>,
    pub permissions: crate::permissions::Permissions,
    /// The language the person reads (a BCP 47 primary tag).
    pub language: String,
}

/// An organization in a choice list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationOption {
    pub id: i64,
    pub name: String,
}

/// Time as the back office shows it: `YYYY-MM-DD HH:MM UTC`.
#[cfg(feature = "ssr")]
pub(crate) use crate::dates::display as display_time;

/// Server-side helpers every server function starts with.
#[cfg(feature = "ssr")]
pub(crate) mod guard {
    use super::{AppError, SessionUser};
    use crate::request::{CsrfToken, CurrentUser};
    use crate::state::AppState;
    use axum::http::request::Parts;
    use leptos::prelude::use_context;

    pub fn set_status(status: axum::http::StatusCode) {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            options.set_status(status);
        }
    }

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or(AppError::Internal)
    }

    pub fn csrf_token() -> Option<String> {
        use_context::<Parts>().and_then(|p| p.extensions.get::<CsrfToken>().map(|t| t.0.clone()))
    }

    pub fn optional_user() -> Option<SessionUser> {
        let parts = use_context::<Parts>()?;
        let user = parts.extensions.get::<CurrentUser>()?.0.as_ref()?;
        Some(SessionUser {
            id: user.id,
            username: user.username.clone(),
            email: user.email.clone(),
            is_admin: user.is_admin,
            role: user.role.clone(),
            permissions: user.permissions(),
            language: user.language.clone(),
        })
    }

    /// The logged-in user as an [`Actor`](crate::service::actor::Actor)
    /// (permissions and organizations), or 401.
    pub async fn actor() -> Result<crate::service::actor::Actor, AppError> {
        let parts = use_context::<Parts>();
        let user = parts.as_ref().and_then(|p| p.extensions.get::<CurrentUser>()).and_then(|u| u.0.clone());
        let Some(user) = user else {
            set_status(axum::http::StatusCode::UNAUTHORIZED);
            return Err(AppError::Unauthenticated);
        };
        crate::service::actor::Actor::load(&state()?, &user, client_ip()).await.map_err(service_error)
    }

    /// The address of the browser, as the HTTP layer found it.
    pub fn client_ip() -> Option<String> {
        use_context::<Parts>().and_then(|p| p.extensions.get::<crate::request::ClientIp>().map(|ip| ip.0.to_string()))
    }

    /// The logged-in storefront customer user, or 401.
    pub fn customer() -> Result<crate::store::customer_users::CustomerUser, AppError> {
        use crate::request::CurrentCustomer;
        use_context::<Parts>().and_then(|p| p.extensions.get::<CurrentCustomer>().and_then(|c| c.0.clone())).ok_or_else(
            || {
                set_status(axum::http::StatusCode::UNAUTHORIZED);
                AppError::Unauthenticated
            },
        )
    }

    /// The logged-in user, or 401.
    pub fn user() -> Result<SessionUser, AppError> {
        optional_user().ok_or_else(|| {
            set_status(axum::http::StatusCode::UNAUTHORIZED);
            AppError::Unauthenticated
        })
    }

    /// Checks the CSRF token a mutating call carries (400 if it does not match).
    pub fn check_csrf(presented: &str) -> Result<(), AppError> {
        let ok = use_context::<Parts>()
            .and_then(|p| p.extensions.get::<CsrfToken>().map(|t| t.verify(presented)))
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            set_status(axum::http::StatusCode::BAD_REQUEST);
            Err(AppError::Invalid {
                field: "csrf_token".into(),
                message: "The form expired. Reload the page and try again.".into(),
            })
        }
    }

    /// A service failure as the caller sees it, with the matching status
    /// (the conversion sets it; kept for `map_err` chains).
    pub fn service_error(err: crate::service::ServiceError) -> AppError {
        err.into()
    }

    /// Asks the client to try again after `seconds`.
    pub fn retry_after(seconds: u32) {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string()) {
                options.insert_header(axum::http::header::RETRY_AFTER, value);
            }
        }
    }

    /// A validation error for one field (422).
    pub fn invalid(field: &str, message: &str) -> AppError {
        set_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        AppError::Invalid { field: field.into(), message: message.into() }
    }
}
