//! The back office's server functions, called as its pages call them, and
//! the OAuth applications made through them.

use super::{Response, TestApp};
use axum::body::Body;
use axum::http::{header, Request};
use serde_json::{json, Value};

/// Calls a server function that takes JSON.
pub async fn rpc_json(app: &TestApp, cookies: &str, endpoint: &str, body: Value) -> Response {
    app.send(
        Request::post(format!("/admin/rpc/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, cookies)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// Calls a server function that takes a URL-encoded form (the default).
pub async fn rpc_form(app: &TestApp, cookies: &str, endpoint: &str, body: &str) -> Response {
    app.send(
        Request::post(format!("/admin/rpc/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookies)
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

pub async fn create(app: &TestApp, cookies: &str, form: Value) -> Response {
    rpc_json(app, cookies, "create_application", json!({ "form": form })).await
}

pub fn form(csrf: &str, name: &str) -> Value {
    json!({
        "csrf_token": csrf, "scope": "Mine", "organization_id": null, "owner_id": null, "name": name, "active": true,
        "grant_type": "client_credentials", "redirect_uris": "", "confidential": true, "skip_consent": false
    })
}

pub async fn id_of(app: &TestApp, client_id: &str) -> i64 {
    sql!(app.state.db, |c| sqlx::query_as::<_, (i64,)>("SELECT id FROM oauth_applications WHERE client_id = $1")
        .bind(client_id)
        .fetch_one(&mut *c)
        .await?)
    .0
}
