//! Headers every response gets (RFC 9700 §4.2, §4.16; SECURITY.md): the Content
//! Security Policy of the pages, `X-Content-Type-Options`, `Referrer-Policy`,
//! HSTS on HTTPS; the client's address for rate limits and the audit log; and
//! CORS for the endpoints browser applications call.

use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};

/// The policy of every other HTML answer (error pages): no script at all.
const STATIC_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub use crate::request::ClientIp;

fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let value = headers.get_all("x-forwarded-for").iter().next_back()?.to_str().ok()?;
    value.rsplit(',').next()?.trim().parse().ok()
}

/// The outermost layer: finds the client's address, and adds the security
/// headers to whatever the inner layers answered.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let ip = if state.config.server.trust_forwarded_for { forwarded_for(req.headers()).or(peer) } else { peer };
    if let Some(ip) = ip {
        req.extensions_mut().insert(ClientIp(ip));
    }
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Not `no-referrer`: browsers then send `Origin: null` on our own form
    // posts, which the CSRF check must refuse.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if state.site.secure_cookies {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    let html =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if html {
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(STATIC_POLICY));
        }
        // No page of Postern may be framed (clickjacking of the login and consent forms).
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

/// CORS for the token and revocation endpoints: only the origins of
/// `server.cors_origins`, no cookies. A preflight from another origin gets
/// 403 and no CORS headers, so the browser refuses the call.
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let allowed = origin.as_deref().filter(|o| state.config.server.cors_origins.iter().any(|a| a == o));
    if req.method() == Method::OPTIONS {
        // The UserInfo endpoints take GET too (OpenID Connect Core §5.3.1).
        let path = req.uri().path();
        let userinfo =
            path == crate::model::paths::BACKOFFICE_USERINFO || path == crate::model::paths::STOREFRONT_USERINFO;
        let methods = if userinfo { "GET, POST" } else { "POST" };
        let wants = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| m.to_str().ok())
            .is_some_and(|m| methods.split(", ").any(|allowed| allowed == m));
        let (Some(origin), true) = (allowed, wants) else {
            let mut response =
                super::error::oauth_error_with_status(StatusCode::FORBIDDEN, "This origin may not call this endpoint.");
            response.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
            return response;
        };
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        allow_origin(headers, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type"));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        return response;
    }
    let allowed = allowed.map(str::to_owned);
    let mut response = next.run(req).await;
    if let Some(origin) = allowed {
        allow_origin(response.headers_mut(), &origin);
    }
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

fn allow_origin(headers: &mut HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers
            .insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("www-authenticate, retry-after"));
    }
}

/// Public documents (metadata, JWKS): any origin may read them.
pub async fn public_cors(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_forwarded_address_is_the_one_the_proxy_saw() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1, 203.0.113.7"));
        assert_eq!(forwarded_for(&headers), Some("203.0.113.7".parse().unwrap()));
        headers.insert("x-forwarded-for", HeaderValue::from_static("spoofed, not-an-ip"));
        assert_eq!(forwarded_for(&headers), None);
    }
}
