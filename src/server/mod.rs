//! The HTTP layer (axum): the router, the RFC endpoints, the API, the
//! session middleware, and the mapping of errors to responses.

pub mod api;
pub mod authorize;
pub mod discovery;
pub mod error;
pub mod headers;
pub mod session;
pub mod token;

pub use headers::ClientIp;

use crate::app::{shell, App};
use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// Builds the whole application: protocol endpoints, API, back office.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let pages = Router::new()
        .route(session::LOGIN_PATH, post(session::login))
        .route("/admin/logout", post(session::logout))
        .route(session::STOREFRONT_LOGIN_PATH, post(session::customer_login))
        .route("/logout", post(session::customer_logout))
        .route("/admin/oauth2-token/authorize", get(authorize::backoffice).post(authorize::backoffice_decision))
        .route("/oauth2-token/authorize", get(authorize::storefront).post(authorize::storefront_decision))
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), session::layer));
    // Browser applications of the configured origins may call these (CORS).
    let cors = Router::new()
        .route(discovery::TOKEN_PATH, post(token::token).fallback(token::method_not_allowed))
        .route(discovery::REVOKE_PATH, post(token::revoke).fallback(token::method_not_allowed))
        .layer(axum::middleware::from_fn_with_state(state.clone(), headers::cors));
    let public = Router::new()
        .route(discovery::METADATA_PATH, get(discovery::storefront_metadata))
        .route(&format!("{}/admin", discovery::METADATA_PATH), get(discovery::backoffice_metadata))
        .route(discovery::JWKS_PATH, get(discovery::jwks))
        .layer(axum::middleware::from_fn(headers::public_cors));
    let protocol = Router::new()
        .merge(cors)
        .merge(public)
        .route(discovery::INTROSPECT_PATH, post(token::introspect).fallback(token::method_not_allowed))
        .route("/api/users", get(api::list_users))
        .route("/api/users/{id}", get(api::get_user))
        .route("/storefront/api/customerusers/mine", get(api::my_customer_user))
        .route("/healthz", get(health));
    protocol
        .merge(pages)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(state.clone(), headers::layer))
        .with_state(state)
}

/// `GET /healthz`: 200 when the database answers.
async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> (axum::http::StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(&state.db).await {
        Ok(_) => (axum::http::StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
