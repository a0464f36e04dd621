//! What a client reads to configure itself: RFC 8414 metadata for each issuer
//! (docs/architecture.md#two-sides-two-issuers), and the JWKS (RFC 7517) of
//! every key that may still verify a live token.

use crate::model::Side;
use crate::service::access::key_window;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use crate::model::paths::{
    INTROSPECT as INTROSPECT_PATH, JWKS as JWKS_PATH, REVOKE as REVOKE_PATH, TOKEN as TOKEN_PATH,
};
/// RFC 8414 §3: the metadata of the storefront issuer; the back office's
/// inserts `/admin` after it (§3.1).
pub const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

/// RFC 8414 §2, exactly what Postern does.
#[derive(Debug, Serialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    pub scopes_supported: Vec<&'static str>,
    pub response_types_supported: [&'static str; 1],
    pub response_modes_supported: [&'static str; 1],
    pub grant_types_supported: [&'static str; 3],
    pub token_endpoint_auth_methods_supported: [&'static str; 3],
    pub revocation_endpoint_auth_methods_supported: [&'static str; 3],
    pub introspection_endpoint_auth_methods_supported: [&'static str; 2],
    pub code_challenge_methods_supported: [&'static str; 1],
    /// RFC 9207: authorization responses carry `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    /// OpenID Connect Discovery 1.0 §3 (the same in both documents, so
    /// that a client reading either learns the same).
    pub userinfo_endpoint: String,
    pub end_session_endpoint: String,
    pub subject_types_supported: [&'static str; 1],
    /// The algorithm of the active key, which signs ID tokens and access
    /// tokens alike (RS256 unless `keys generate --alg` chose another).
    pub id_token_signing_alg_values_supported: [&'static str; 1],
    pub claims_supported: &'static [&'static str],
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    pub prompt_values_supported: &'static [&'static str],
    pub display_values_supported: [&'static str; 4],
    pub claim_types_supported: [&'static str; 1],
    pub frontchannel_logout_supported: bool,
    pub backchannel_logout_supported: bool,
}

pub fn metadata(state: &AppState, kind: Side) -> Metadata {
    let base = &state.site.public_url;
    use crate::model::paths;
    let (authorize, userinfo, end_session) = match kind {
        Side::BackOffice => (paths::BACKOFFICE_AUTHORIZE, paths::BACKOFFICE_USERINFO, paths::BACKOFFICE_END_SESSION),
        Side::Storefront => (paths::STOREFRONT_AUTHORIZE, paths::STOREFRONT_USERINFO, paths::STOREFRONT_END_SESSION),
    };
    let client_auth = ["client_secret_basic", "client_secret_post", "none"];
    Metadata {
        issuer: state.site.issuer(kind).to_owned(),
        authorization_endpoint: format!("{base}{authorize}"),
        token_endpoint: format!("{base}{TOKEN_PATH}"),
        jwks_uri: format!("{base}{JWKS_PATH}"),
        revocation_endpoint: format!("{base}{REVOKE_PATH}"),
        introspection_endpoint: format!("{base}{INTROSPECT_PATH}"),
        scopes_supported: crate::oauth::scope::names(kind),
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: ["authorization_code", "client_credentials", "refresh_token"],
        token_endpoint_auth_methods_supported: client_auth,
        revocation_endpoint_auth_methods_supported: client_auth,
        introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        code_challenge_methods_supported: ["S256"],
        authorization_response_iss_parameter_supported: true,
        userinfo_endpoint: format!("{base}{userinfo}"),
        end_session_endpoint: format!("{base}{end_session}"),
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: [state.keys.signing_key().map(|k| k.alg()).unwrap_or_default().name()],
        claims_supported: crate::oauth::oidc::CLAIMS_SUPPORTED,
        claims_parameter_supported: true,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        prompt_values_supported: crate::oauth::oidc::PROMPT_VALUES,
        display_values_supported: ["page", "popup", "touch", "wap"],
        claim_types_supported: ["normal"],
        frontchannel_logout_supported: false,
        backchannel_logout_supported: false,
    }
}

fn cacheable(max_age: u32, body: impl Serialize) -> Response {
    let cache =
        HeaderValue::from_str(&format!("public, max-age={max_age}")).unwrap_or(HeaderValue::from_static("no-cache"));
    ([(header::CACHE_CONTROL, cache)], axum::Json(body)).into_response()
}

/// `GET /.well-known/oauth-authorization-server`: the storefront issuer.
pub async fn storefront_metadata(State(state): State<AppState>) -> Response {
    cacheable(300, metadata(&state, Side::Storefront))
}

/// `GET /.well-known/openid-configuration`: the storefront issuer's
/// OpenID Provider configuration (Discovery 1.0 §4).
pub async fn storefront_openid_configuration(State(state): State<AppState>) -> Response {
    cacheable(300, metadata(&state, Side::Storefront))
}

/// `GET /admin/.well-known/openid-configuration`: the back-office issuer's
/// (Discovery §4.1: the issuer, `…/admin`, then the well-known name).
pub async fn backoffice_openid_configuration(State(state): State<AppState>) -> Response {
    cacheable(300, metadata(&state, Side::BackOffice))
}

/// `GET /.well-known/oauth-authorization-server/admin`: the back-office
/// issuer (RFC 8414 §3.1: the issuer's path after the well-known name).
pub async fn backoffice_metadata(State(state): State<AppState>) -> Response {
    cacheable(300, metadata(&state, Side::BackOffice))
}

#[derive(Serialize)]
struct Jwks<'a> {
    keys: Vec<&'a crate::oauth::jwt::PublicJwk>,
}

/// `GET /.well-known/jwks.json`: the signing key, then the retired keys
/// whose tokens may still be alive. Cached a minute: a client that meets an
/// unknown `kid` after a rotation fetches it again.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let ring = state.keys.ring();
    let keys = ring.verifying(crate::service::now(), key_window(&state)).map(|k| &k.jwk).collect();
    cacheable(60, Jwks { keys })
}
