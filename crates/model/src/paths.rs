//! The paths both the server's router and the browser's pages name.

/// The back office's sign-in page.
pub const BACKOFFICE_LOGIN: &str = "/admin/login";
/// The storefront's sign-in page.
pub const STOREFRONT_LOGIN: &str = "/login";
/// Where a storefront customer lands after signing in.
pub const STOREFRONT_HOME: &str = "/account/applications";
/// The back office's authorization endpoint (RFC 6749 §3.1).
pub const BACKOFFICE_AUTHORIZE: &str = "/admin/oauth2-token/authorize";
/// The storefront's authorization endpoint (RFC 6749 §3.1).
pub const STOREFRONT_AUTHORIZE: &str = "/oauth2-token/authorize";
/// The token endpoint (RFC 6749 §3.2), shared by both sides.
pub const TOKEN: &str = "/oauth2-token";
/// RFC 7009 revocation, shared by both sides.
pub const REVOKE: &str = "/oauth2-token/revoke";
/// RFC 7662 introspection, shared by both sides.
pub const INTROSPECT: &str = "/oauth2-token/introspect";
/// The JWKS with every key that verifies tokens.
pub const JWKS: &str = "/.well-known/jwks.json";
/// The back office's OpenID Connect UserInfo endpoint (Core §5.3).
pub const BACKOFFICE_USERINFO: &str = "/admin/oauth2-token/userinfo";
/// The storefront's UserInfo endpoint.
pub const STOREFRONT_USERINFO: &str = "/oauth2-token/userinfo";
/// The back office's end-session endpoint (RP-Initiated Logout 1.0 §2).
pub const BACKOFFICE_END_SESSION: &str = "/admin/oauth2-token/logout";
/// The storefront's end-session endpoint.
pub const STOREFRONT_END_SESSION: &str = "/oauth2-token/logout";
/// OpenID Connect Discovery 1.0 §4: the configuration of the storefront
/// issuer; the back office's is under its issuer's path, `/admin`.
pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
