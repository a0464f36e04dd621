//! The OAuth 2.0 protocol core: parsing and deciding, nothing else.
//!
//! Everything here is pure: no web framework, no database, no async runtime
//! and no clock. The current time is always a parameter (`now`, seconds since
//! the Unix epoch), so expiry rules are tested without sleeping, and the same
//! functions serve the axum handlers, the server functions and the fuzzers.

pub mod access_token;
pub mod authorize;
pub mod client_auth;
pub mod error;
pub mod grant;
pub mod jwt;
pub mod oidc;
pub mod pkce;
pub mod redirect_uri;
pub mod revocation;
pub mod scope;
pub mod secret;
pub mod sign_in_mark;
pub mod token_request;

pub use error::{ErrorCode, OAuthError};
pub use postern_model::{GrantType, Side, Subject};
