//! The HTTP layer (axum): the router, the RFC endpoints, the API, the
//! session middleware, the request span and id, and the mapping of errors
//! to responses.

pub mod assets;
pub mod authorize;
pub mod discovery;
pub mod error;
pub mod extract;
pub mod headers;
pub mod resource_api;
pub mod session;
pub mod token;
pub mod trace;
pub mod userinfo;

pub use headers::ClientIp;

use crate::app::{shell, App};
use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use std::sync::LazyLock;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// The back office's route list, generated once per process.
///
/// Generating it runs the app with resource loading switched off through a
/// process-wide flag in `leptos_server` (`SuppressResourceLoad`): a page that
/// starts loading a resource on another thread at that moment waits forever
/// (leptos-rs/leptos#4773). One generation, before any router exists, means
/// no page can ever be rendering while it runs — however many routers a
/// process builds (the test suite builds one per test).
static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(App));

/// Builds the whole application: protocol endpoints, API, back office.
pub fn router(state: AppState) -> Router {
    let routes = ROUTES.clone();
    let options = state.leptos_options.clone();
    assets::Assets::find(&options).install();
    let pages = Router::new()
        .route(session::LOGIN_PATH, post(session::login))
        .route("/admin/logout", post(session::logout))
        .route(session::STOREFRONT_LOGIN_PATH, post(session::customer_login))
        .route("/logout", post(session::customer_logout))
        .route("/admin/oauth2-token/authorize", get(authorize::backoffice).post(authorize::backoffice_decision))
        .route("/oauth2-token/authorize", get(authorize::storefront).post(authorize::storefront_decision))
        .route(
            crate::model::paths::BACKOFFICE_END_SESSION,
            get(session::backoffice_end_session).post(session::backoffice_end_session),
        )
        .route(
            crate::model::paths::STOREFRONT_END_SESSION,
            get(session::storefront_end_session).post(session::storefront_end_session),
        )
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), session::layer));
    // Browser applications of the configured origins may call these (CORS).
    let cors = Router::new()
        .route(discovery::TOKEN_PATH, post(token::token).fallback(token::method_not_allowed))
        .route(discovery::REVOKE_PATH, post(token::revoke).fallback(token::method_not_allowed))
        .route(crate::model::paths::BACKOFFICE_USERINFO, get(userinfo::backoffice).post(userinfo::backoffice))
        .route(crate::model::paths::STOREFRONT_USERINFO, get(userinfo::storefront).post(userinfo::storefront))
        .layer(axum::middleware::from_fn_with_state(state.clone(), headers::cors));
    let public = Router::new()
        .route(discovery::METADATA_PATH, get(discovery::storefront_metadata))
        .route(&format!("{}/admin", discovery::METADATA_PATH), get(discovery::backoffice_metadata))
        .route(discovery::JWKS_PATH, get(discovery::jwks))
        .route(crate::model::paths::OPENID_CONFIGURATION, get(discovery::storefront_openid_configuration))
        .route(
            &format!("/admin{}", crate::model::paths::OPENID_CONFIGURATION),
            get(discovery::backoffice_openid_configuration),
        )
        .layer(axum::middleware::from_fn(headers::public_cors));
    let protocol = Router::new()
        .merge(cors)
        .merge(public)
        .route(discovery::INTROSPECT_PATH, post(token::introspect).fallback(token::method_not_allowed))
        .route("/api/users", get(resource_api::list_users))
        .route("/api/users/{id}", get(resource_api::get_user))
        .route("/storefront/api/customerusers/mine", get(resource_api::my_customer_user))
        .route("/healthz", get(health))
        .route("/health", get(readiness));
    protocol
        .merge(pages)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(assets::cache_headers))
        .layer(axum::middleware::from_fn(body_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), headers::layer))
        // Outermost: an id of our own for every request, its span around
        // everything else, and the id sent back (`x-request-id`).
        .layer(
            tower::ServiceBuilder::new()
                .map_request(trace::forget_sent_id)
                .layer(SetRequestIdLayer::new(trace::REQUEST_ID, trace::MakeId))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(trace::span)
                        .on_request(())
                        .on_response(trace::response)
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::new(trace::REQUEST_ID)),
        )
        .with_state(state)
}

/// The largest request body any route takes. Routes that read a form
/// themselves set smaller bounds (the protocol endpoints 16 KiB, sign-in
/// 8 KiB); server functions and pages get this one.
pub const MAX_REQUEST_BODY: usize = 64 * 1024;

/// Bounds every request body: a declared length over the bound is refused
/// before anything reads it (413; RFC 6749 error JSON on the protocol
/// endpoints), and a body without a declared length stops being read at
/// the bound.
async fn body_limit(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BODY as u64) {
        let status = axum::http::StatusCode::PAYLOAD_TOO_LARGE;
        return match req.uri().path() {
            discovery::TOKEN_PATH | discovery::REVOKE_PATH | discovery::INTROSPECT_PATH => {
                error::oauth_error_with_status(status, "The request body is larger than 16 KiB.")
            }
            _ => (status, "The request body is larger than 64 KiB.").into_response(),
        };
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, MAX_REQUEST_BODY));
    next.run(axum::extract::Request::from_parts(parts, body)).await
}

/// `GET /health`: readiness, for a load balancer. 200 when this instance can
/// serve — the database answers, its schema is this build's (or a newer
/// one's, during an upgrade), a signing key is loaded and, on PostgreSQL,
/// the change notifications are connected (else the caches are off and
/// another instance's revocation could not reach this one at once) — and
/// 503 otherwise. The JSON says which check failed, and nothing secret.
async fn readiness(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use crate::store::{Engine, Schema};
    use axum::response::IntoResponse;
    let mut ready = true;
    let mut fail = |ok: bool| {
        ready &= ok;
    };
    let database = match crate::store::ping(&state.db).await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unavailable");
            "unavailable"
        }
    };
    fail(database == "ok");
    let migrations = match crate::store::schema(&state.db).await {
        Ok(Schema::Current) => "current",
        Ok(Schema::Ahead) => "ahead (a newer Postern migrated this database)",
        Ok(Schema::Behind) => "behind",
        Err(_) => "unknown",
    };
    fail(migrations == "current" || migrations.starts_with("ahead"));
    let kid = state.keys.signing_key().map(|k| k.kid().to_owned());
    fail(kid.is_some());
    let notifications = match state.db.engine() {
        Engine::Sqlite => "not needed (SQLite: one instance)",
        Engine::Postgres if crate::store::Changes::trusted(state.db.changes().generation()) => "connected",
        Engine::Postgres => "disconnected (caches off until reconnected)",
    };
    fail(!notifications.starts_with("disconnected"));
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not ready" },
        "engine": state.db.engine().name(),
        "database": database,
        "migrations": migrations,
        "signing_key": kid.as_deref().unwrap_or("none"),
        "notifications": notifications,
    });
    let status = if ready { axum::http::StatusCode::OK } else { axum::http::StatusCode::SERVICE_UNAVAILABLE };
    (status, [(axum::http::header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

/// `GET /healthz`: liveness, 200 when the database answers.
async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> (axum::http::StatusCode, &'static str) {
    match crate::store::ping(&state.db).await {
        Ok(_) => (axum::http::StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
