//! The My User applications server functions, called as the browser does.

use crate::harness::TestApp;
use crate::pages::login;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};

fn csrf_of(cookies: &str) -> String {
    cookies.split(';').next().unwrap().trim_start_matches("postern_csrf=").to_owned()
}

async fn create(app: &TestApp, cookies: &str, form: Value) -> crate::harness::Response {
    app.send(
        Request::post("/admin/rpc/create_my_application")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, cookies)
            .body(Body::from(json!({ "form": form }).to_string()))
            .unwrap(),
    )
    .await
}

fn form(csrf: &str, name: &str) -> Value {
    json!({
        "csrf_token": csrf, "organization_id": null, "name": name, "active": true,
        "grant_type": "client_credentials", "redirect_uris": "", "confidential": true, "skip_consent": false
    })
}

async fn count(app: &TestApp) -> i64 {
    sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM oauth_applications").fetch_one(&app.state.db).await.unwrap().0
}

#[tokio::test]
async fn creating_shows_the_secret_once_and_the_secret_works() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let response = create(&app, &cookies, form(&csrf_of(&cookies), "Reporting")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let created = response.json();
    let (id, secret) = (created["client_id"].as_str().unwrap(), created["client_secret"].as_str().unwrap());
    let token = app.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")).await;
    assert_eq!(token.status, StatusCode::OK);

    let list = app
        .send(Request::post("/admin/rpc/my_applications").header(header::COOKIE, &cookies).body(Body::empty()).unwrap())
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.json()["applications"][0]["name"], "Reporting");
    assert!(!list.body.contains(secret), "the secret is never shown again");
}

#[tokio::test]
async fn bad_input_gets_a_field_error_and_stores_nothing() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    create(&app, &cookies, form(&csrf, "Taken")).await;
    let before = count(&app).await;

    let cases = [
        (form(&csrf, "   "), "name", "must not be empty"),
        (form(&csrf, &"x".repeat(256)), "name", "at most 255"),
        (form(&csrf, "Taken"), "name", "The application with the given name already exists."),
        ({ let mut f = form(&csrf, "Code app"); f["grant_type"] = json!("authorization_code"); f }, "redirect_uris", "At least one redirect URL should be specified."),
        ({ let mut f = form(&csrf, "Code app"); f["grant_type"] = json!("authorization_code"); f["redirect_uris"] = json!("not-a-url"); f }, "redirect_uris", "not a valid absolute URL"),
        ({ let mut f = form(&csrf, "Foreign"); f["organization_id"] = json!(9999); f }, "organization_id", "your organizations"),
        ({ let mut f = form(&csrf, "Odd grant"); f["grant_type"] = json!("password"); f }, "grant_type", "Choose"),
        (form("forged-token", "No CSRF"), "csrf_token", "expired"),
    ];
    for (body, field, message) in cases {
        let response = create(&app, &cookies, body).await;
        assert!(response.status.is_client_error(), "{field}: {} {}", response.status, response.body);
        let error = response.json();
        assert_eq!(error["Invalid"]["field"], field, "{error}");
        assert!(error["Invalid"]["message"].as_str().unwrap().contains(message), "{error}");
    }
    assert_eq!(count(&app).await, before, "nothing was stored");
}

#[tokio::test]
async fn without_a_session_the_server_function_refuses() {
    let app = TestApp::new().await;
    let response = create(&app, "", form("x", "Anonymous")).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(count(&app).await, 0);
}
