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
