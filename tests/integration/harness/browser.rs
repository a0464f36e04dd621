//! A browser without JavaScript: pages, forms and cookies, and signing in
//! to the back office.

use super::{Response, TestApp, ADMIN_PASSWORD};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use postern::server::session::SiteCookie;

/// The value of the `csrf_token` field of a page's first form.
pub fn csrf_field(html: &str) -> String {
    let field =
        html.split("name=\"csrf_token\" value=\"").nth(1).and_then(|rest| rest.split('"').next()).map(str::to_owned);
    field.unwrap_or_else(|| panic!("the page has a csrf_token field: {html}"))
}

/// The value of the cookie `name` that `response` sets.
pub fn cookie_value(response: &Response, name: &str) -> Option<String> {
    let cookie = response.set_cookie(name)?;
    Some(cookie.split(';').next().unwrap().trim_start_matches(&format!("{name}=")).to_owned())
}

/// The name of `cookie` in this app (`__Host-` names over https).
fn name(app: &TestApp, cookie: SiteCookie) -> &'static str {
    cookie.name(app.state.site.secure_cookies)
}

/// The CSRF cookie and the hidden field value of the login page.
pub async fn login_form(app: &TestApp) -> (String, String) {
    let page = app.get("/admin/login").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = name(app, SiteCookie::Csrf);
    let cookie = page.set_cookie(csrf).expect("the login page sets a CSRF cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    (cookie_value(&page, csrf).unwrap(), csrf_field(&page.body))
}

/// POSTs the back-office login form with the CSRF cookie `csrf_cookie`.
pub async fn post_login(app: &TestApp, csrf_cookie: &str, fields: &str) -> Response {
    app.send(
        Request::post("/admin/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("{}={csrf_cookie}", name(app, SiteCookie::Csrf)))
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
    let response =
        post_login(app, &cookie, &format!("username={username}&password={password}&csrf_token={field}")).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.header("location"), Some("/admin"));
    let session = response.set_cookie(name(app, SiteCookie::Session)).expect("a session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    // The browser keeps the CSRF cookie the sign-in renewed.
    let csrf = name(app, SiteCookie::Csrf);
    let renewed = cookie_value(&response, csrf).expect("the sign-in renews the CSRF cookie");
    assert_ne!(renewed, cookie);
    format!("{csrf}={renewed}; {}", session.split(';').next().unwrap())
}

/// The CSRF token of a signed-in browser's cookies, as its pages carry it
/// (derived from the CSRF cookie and the sessions; plain or `__Host-` names).
pub fn csrf_of(cookies: &str) -> String {
    let exact = |name: &str| cookies.split(';').map(str::trim).find_map(|c| c.strip_prefix(name)?.strip_prefix('='));
    let value = |name: &str| exact(&format!("__Host-{name}")).or_else(|| exact(name));
    let csrf = value("postern_csrf").expect("a CSRF cookie");
    postern::server::session::CsrfToken::derive(csrf, value("postern_session"), value("postern_customer_session")).0
}

/// A GET with the browser's cookies.
pub async fn get(app: &TestApp, uri: &str, cookies: &str) -> Response {
    app.send(Request::get(uri).header(header::COOKIE, cookies).body(Body::empty()).unwrap()).await
}

/// A form POST with the browser's cookies.
pub async fn post_form(app: &TestApp, uri: &str, cookies: &str, body: &str) -> Response {
    app.send(
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookies)
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

/// `s` percent-encoded as a form value.
pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).unwrap()[1..].to_owned()
}

/// The names and values of a page's hidden form fields.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.split("name=\"").nth(1)?.split('"').next()?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), value.replace("&amp;", "&").replace("&quot;", "\"")))
        })
        .collect()
}
