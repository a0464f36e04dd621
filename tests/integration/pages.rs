//! The back office over HTTP, as a browser without JavaScript sees it:
//! login with CSRF, the dashboard and its missing-keys warning, logout.

use crate::harness::{TestApp, ADMIN_PASSWORD};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};

const WARNING: &str = "OAuth authorization is not available as encryption keys configuration was not complete. Please contact your administrator.";

/// The CSRF cookie and the hidden field value of the login page.
async fn login_form(app: &TestApp) -> (String, String) {
    let page = app.get("/admin/login").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let cookie = page.set_cookie("postern_csrf").expect("the login page sets a CSRF cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let value = cookie.split(';').next().unwrap().trim_start_matches("postern_csrf=").to_owned();
    let field = page.body.split("name=\"csrf_token\" value=\"").nth(1).and_then(|rest| rest.split('"').next()).map(str::to_owned);
    let field = field.unwrap_or_else(|| panic!("the login form has a csrf_token field: {}", page.body));
    (value, field)
}

async fn post_login(app: &TestApp, csrf_cookie: &str, fields: &str) -> crate::harness::Response {
    app.send(
        Request::post("/admin/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("postern_csrf={csrf_cookie}"))
            .body(Body::from(fields.to_owned()))
            .unwrap(),
    )
    .await
}

/// Logs in as the admin and returns the Cookie header of the session.
pub async fn login(app: &TestApp) -> String {
    login_as(app, "admin", ADMIN_PASSWORD).await
}

/// Logs in as `username` and returns the Cookie header of the session.
pub async fn login_as(app: &TestApp, username: &str, password: &str) -> String {
    let (cookie, field) = login_form(app).await;
    let response = post_login(app, &cookie, &format!("username={username}&password={password}&csrf_token={field}")).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.header("location"), Some("/admin"));
    let session = response.set_cookie("postern_session").expect("a session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    format!("postern_csrf={cookie}; {}", session.split(';').next().unwrap())
}

async fn get_with(app: &TestApp, uri: &str, cookies: &str) -> crate::harness::Response {
    app.send(Request::get(uri).header(header::COOKIE, cookies).body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_the_login_page() {
    let app = TestApp::new().await;
    let response = app.get("/admin").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.header("location"), Some("/admin/login?redirect=%2Fadmin"));
}

#[tokio::test]
async fn login_page_renders_a_complete_form_without_javascript() {
    let app = TestApp::new().await;
    let (cookie, field) = login_form(&app).await;
    assert_eq!(cookie, field, "the form echoes the CSRF cookie");
    let page = app.get("/admin/login").await;
    assert!(page.body.contains("Sign in to Postern"));
    assert!(page.body.contains("action=\"/admin/login\""));
    assert!(page.body.contains("name=\"username\"") && page.body.contains("name=\"password\""));
}

#[tokio::test]
async fn the_admin_logs_in_and_sees_the_dashboard() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let dashboard = get_with(&app, "/admin", &cookies).await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    assert!(dashboard.body.contains("Dashboard"));
    assert!(dashboard.body.contains("admin@example.com"), "the user menu shows who is logged in");
    assert!(!dashboard.body.contains(WARNING), "keys are present");
    assert_eq!(dashboard.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn dashboard_shows_the_missing_keys_warning_verbatim() {
    let app = TestApp::without_keys().await;
    let cookies = login(&app).await;
    let dashboard = get_with(&app, "/admin", &cookies).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains(WARNING), "{}", dashboard.body);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = TestApp::new().await;
    let (cookie, field) = login_form(&app).await;
    let wrong = post_login(&app, &cookie, &format!("username=admin&password=nope&csrf_token={field}")).await;
    let unknown = post_login(&app, &cookie, &format!("username=ghost&password=nope&csrf_token={field}")).await;
    assert_eq!(wrong.status, StatusCode::SEE_OTHER);
    assert_eq!(wrong.header("location"), Some("/admin/login?error=invalid_credentials"));
    assert_eq!(wrong.header("location"), unknown.header("location"));
    assert!(wrong.set_cookie("postern_session").is_none());
    let page = app.get("/admin/login?error=invalid_credentials").await;
    assert!(page.body.contains("Invalid user name or password."));
}

#[tokio::test]
async fn login_without_the_csrf_token_is_refused() {
    let app = TestApp::new().await;
    let (cookie, _) = login_form(&app).await;
    let response = post_login(&app, &cookie, &format!("username=admin&password={ADMIN_PASSWORD}&csrf_token=forged")).await;
    assert_eq!(response.header("location"), Some("/admin/login?error=csrf"));
    assert!(response.set_cookie("postern_session").is_none());
}

#[tokio::test]
async fn login_follows_only_local_redirects() {
    let app = TestApp::new().await;
    let (cookie, field) = login_form(&app).await;
    let fields = format!("username=admin&password={ADMIN_PASSWORD}&csrf_token={field}&redirect=https%3A%2F%2Fevil.example");
    assert_eq!(post_login(&app, &cookie, &fields).await.header("location"), Some("/admin"));
}

#[tokio::test]
async fn cross_site_form_posts_are_forbidden() {
    let app = TestApp::new().await;
    let (cookie, field) = login_form(&app).await;
    let response = app
        .send(
            Request::post("/admin/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("postern_csrf={cookie}"))
                .header(header::HOST, "postern.test")
                .header(header::ORIGIN, "https://evil.example")
                .body(Body::from(format!("username=admin&password={ADMIN_PASSWORD}&csrf_token={field}")))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = cookies.split(';').next().unwrap().trim_start_matches("postern_csrf=").to_owned();
    let response = app
        .send(
            Request::post("/admin/logout")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &cookies)
                .body(Body::from(format!("csrf_token={csrf}")))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(response.set_cookie("postern_session").unwrap().contains("Max-Age=0"));
    let after = get_with(&app, "/admin", &cookies).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the old session cookie no longer works");
}

#[tokio::test]
async fn server_functions_check_the_session_themselves() {
    let app = TestApp::new().await;
    let response = app
        .send(
            Request::post("/admin/rpc/dashboard")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{}", response.body);
    assert!(response.body.contains("Unauthenticated"), "{}", response.body);
}
