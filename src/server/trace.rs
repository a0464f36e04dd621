//! One span per HTTP request: every request gets an id of Postern's own
//! (`x-request-id`, also sent back on the response), and everything logged
//! while it is handled carries the id, the method and the path. The query
//! string is never logged: it can carry authorization codes and state.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, Response};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Span;

/// The header that carries the request id, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: a random prefix chosen when the process starts, then a
/// counter (`Zx3q-kLm-1`, `Zx3q-kLm-2`, …), so that ids are unique within a
/// process and, with the prefix, across restarts.
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        static PREFIX: OnceLock<String> = OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let prefix = PREFIX.get_or_init(|| crate::service::random::token(6));
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{prefix}-{n}")).ok().map(RequestId::new)
    }
}

/// Drops an `x-request-id` the client sent: the ids in the log are
/// Postern's, so a client can neither reuse another request's id nor write
/// what it likes into every line logged for its request.
pub fn forget_sent_id(mut request: Request<Body>) -> Request<Body> {
    request.headers_mut().remove(REQUEST_ID);
    request
}

/// The span of one request: its id, method and path (without the query).
pub fn span(request: &Request<Body>) -> Span {
    let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
    tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path())
}

/// Logs the answer's status and how long it took (debug: the default
/// filter keeps quiet about requests that went well or were refused as
/// they should be; errors are logged where they happen).
pub fn response(response: &Response<Body>, latency: Duration, _span: &Span) {
    tracing::debug!(status = response.status().as_u16(), ?latency, "response");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_share_the_process_prefix_and_never_repeat() {
        let request = Request::new(Body::empty());
        let a = MakeId.make_request_id(&request).unwrap();
        let b = MakeId.make_request_id(&request).unwrap();
        let (a, b) = (a.header_value().to_str().unwrap(), b.header_value().to_str().unwrap());
        assert_ne!(a, b);
        let prefix = |id: &str| id.rsplit_once('-').map(|(p, _)| p.to_owned()).unwrap();
        assert_eq!(prefix(a), prefix(b));
        assert_eq!(prefix(a).len(), 8, "{a}");
    }

    #[test]
    fn a_sent_id_is_forgotten() {
        let request = Request::builder().header("x-request-id", "chosen by the client").body(Body::empty()).unwrap();
        assert!(forget_sent_id(request).headers().get(REQUEST_ID).is_none());
    }
}
