//! Abuse of the sign-in forms and the token endpoint
//! (docs/configuration.md#rate_limits): a caller held back by the rate limits
//! cannot grow the audit log by asking again and again, cannot lock an
//! account's owner out from elsewhere, and cannot escape the per-address limit
//! by rotating through its IPv6 `/64`.
//!
//! Requests carry the peer address the listener would report
//! (`ConnectInfo`), as in production.

use crate::harness::browser::{csrf_field, urlencode};
use crate::harness::{Response, TestApp, ADMIN_PASSWORD};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use postern::config::Limit;
use std::net::SocketAddr;

/// The login page's CSRF cookie and the token its form carries.
pub(crate) async fn login_form(app: &TestApp) -> (String, String) {
    let page = app.get("/admin/login").await;
    let cookie = page
        .set_cookie("postern_csrf")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("postern_csrf=")
        .to_owned();
    (cookie, csrf_field(&page.body))
}

pub(crate) fn from(mut request: Request<Body>, ip: &str) -> Request<Body> {
    request.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip.parse().unwrap(), 40000)));
    request
}

pub(crate) async fn sign_in(
    app: &TestApp,
    form: &(String, String),
    username: &str,
    password: &str,
    ip: &str,
) -> Response {
    let (cookie, token) = form;
    let request = Request::post("/admin/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("postern_csrf={cookie}"))
        .body(Body::from(format!(
            "username={}&password={}&csrf_token={token}",
            urlencode(username),
            urlencode(password)
        )))
        .unwrap();
    app.send(from(request, ip)).await
}

async fn audit_rows(app: &TestApp) -> i64 {
    sql!(app.state.db, |c| sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(&mut *c).await?)
}

/// ITEM 3a: 200 wrong passwords from one address. The limits refuse most of
/// them without checking anything; those refusals are written once a
/// minute per refusing limit, so the log grows by the account's burst (the
/// passwords actually checked) and a couple of entries, not by 200.
#[tokio::test]
async fn many_refused_sign_ins_write_a_bounded_number_of_audit_entries() {
    const ATTEMPTS: usize = 200;
    const ACCOUNT_BURST: u32 = 10;
    let app = TestApp::with_config(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.login_per_account = Limit { burst: ACCOUNT_BURST, per_minute: 6 };
        c.rate_limits.login_per_ip = Limit { burst: 30, per_minute: 60 };
    })
    .await;
    let form = login_form(&app).await;
    let before = audit_rows(&app).await;
    let mut refused = 0;
    for n in 0..ATTEMPTS {
        let response = sign_in(&app, &form, "admin", &format!("guess {n}"), "198.51.100.66").await;
        match response.status {
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(response.header("retry-after").is_some());
                assert!(response.body.contains("Too many sign-in attempts."), "{}", response.body);
                refused += 1;
            }
            StatusCode::SEE_OTHER => {
                assert_eq!(response.header("location"), Some("/admin/login?error=invalid_credentials"));
            }
            other => panic!("attempt {n}: {other} {}", response.body),
        }
    }
    let written = audit_rows(&app).await - before;
    println!("sign-in attempts: {ATTEMPTS}, refused by the limit: {refused}, audit rows written: {written}");
    assert!(refused >= ATTEMPTS - ACCOUNT_BURST as usize - 2, "most attempts are refused: {refused}");
    // The passwords checked (at most the account's burst, plus what refilled
    // meanwhile), one entry for the account's refusals, one for the address's.
    assert!(written <= i64::from(ACCOUNT_BURST) + 3, "{written} audit rows for {ATTEMPTS} attempts");
    let refusals: Vec<(String, String)> = sql!(app.state.db, |c| {
        sqlx::query_as("SELECT username, detail FROM audit_log WHERE event = 'login.failed' AND detail LIKE '%refused without checking%' ORDER BY id").fetch_all(&mut *c).await?
    });
    assert_eq!(refusals.len(), 2, "one note per refusing limit (the account, then the address): {refusals:?}");
    assert!(refusals.iter().all(|(user, _)| user == "admin"));
    assert!(
        refusals[0].1.contains("further refusals by this limit in the next minute are not recorded"),
        "{}",
        refusals[0].1
    );
}

/// ITEM 3c: failures from one address hold back that address's attempts on
/// the account, not its owner elsewhere.
#[tokio::test]
async fn an_account_held_by_failures_from_one_address_still_opens_from_another() {
    let app = TestApp::with_config(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.login_per_account = Limit { burst: 3, per_minute: 1 };
    })
    .await;
    let form = login_form(&app).await;
    for _ in 0..3 {
        let failed = sign_in(&app, &form, "admin", "not the password", "192.0.2.66").await;
        assert_eq!(failed.header("location"), Some("/admin/login?error=invalid_credentials"));
    }
    let held = sign_in(&app, &form, "admin", ADMIN_PASSWORD, "192.0.2.66").await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "the guessing address is held back");
    assert!(held.set_cookie("postern_session").is_none());

    let owner = sign_in(&app, &form, "admin", ADMIN_PASSWORD, "203.0.113.5").await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER, "{}", owner.body);
    assert_eq!(owner.header("location"), Some("/admin"));
    assert!(owner.set_cookie("postern_session").is_some(), "the owner signs in from another address");

    // An IPv6 guesser is one caller across its /64: its neighbour addresses
    // are held too, another network is not.
    for _ in 0..3 {
        sign_in(&app, &form, "admin", "not the password", "2001:db8:66:1::1").await;
    }
    let neighbour = sign_in(&app, &form, "admin", ADMIN_PASSWORD, "2001:db8:66:1::2").await;
    assert_eq!(neighbour.status, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = sign_in(&app, &form, "admin", ADMIN_PASSWORD, "2001:db8:77:1::1").await;
    assert_eq!(elsewhere.header("location"), Some("/admin"));
}

/// ITEM 3d: the login form's per-address limit counts an IPv6 host by
/// itself and its /64 at 8 times the budget; IPv4 one address at a time.
#[tokio::test]
async fn ipv6_hosts_are_limited_by_address_and_by_their_64() {
    let app = TestApp::with_config(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.login_per_ip = Limit { burst: 2, per_minute: 1 };
    })
    .await;
    let form = login_form(&app).await;
    // Unknown user names: only the per-address limit is at play.
    let mut n = 0;
    let mut attempt = |ip: &'static str| {
        n += 1;
        let username = format!("nobody{n}");
        let (app, form) = (&app, &form);
        async move { sign_in(app, form, &username, "guess", ip).await.status }
    };
    assert_eq!(attempt("2001:db8:1:2::1").await, StatusCode::SEE_OTHER);
    assert_eq!(attempt("2001:db8:1:2::1").await, StatusCode::SEE_OTHER);
    assert_eq!(attempt("2001:db8:1:2::1").await, StatusCode::TOO_MANY_REQUESTS, "one host: the configured burst");
    // Its neighbours are not held back by it …
    for host in [
        "2001:db8:1:2::2",
        "2001:db8:1:2::3",
        "2001:db8:1:2::4",
        "2001:db8:1:2::5",
        "2001:db8:1:2::6",
        "2001:db8:1:2::7",
        "2001:db8:1:2::8",
    ] {
        assert_eq!(attempt(host).await, StatusCode::SEE_OTHER, "{host}");
        assert_eq!(attempt(host).await, StatusCode::SEE_OTHER, "{host}");
    }
    // … but rotating addresses ends at 8 × 2 attempts for the whole /64.
    assert_eq!(attempt("2001:db8:1:2::9").await, StatusCode::TOO_MANY_REQUESTS, "the /64's budget is spent");
    assert_eq!(attempt("2001:db8:1:3::9").await, StatusCode::SEE_OTHER, "another /64 is not affected");
    // IPv4: each address on its own; its IPv4-mapped form is the same address.
    assert_eq!(attempt("198.51.100.1").await, StatusCode::SEE_OTHER);
    assert_eq!(attempt("198.51.100.1").await, StatusCode::SEE_OTHER);
    assert_eq!(attempt("::ffff:198.51.100.1").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(attempt("198.51.100.2").await, StatusCode::SEE_OTHER);
}

/// ITEM 3d: the same rule at the token endpoint.
#[tokio::test]
async fn the_token_endpoint_limits_ipv6_hosts_by_address_and_by_their_64() {
    let app = TestApp::with_config(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.token_per_ip = Limit { burst: 1, per_minute: 1 };
    })
    .await;
    let token = |ip: String| {
        let request = Request::post("/oauth2-token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("grant_type=client_credentials&client_id=nobody&client_secret=guess"))
            .unwrap();
        let app = &app;
        async move { app.send(from(request, &ip)).await.status }
    };
    assert_eq!(token("2001:db8:5:6::1".into()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(token("2001:db8:5:6::1".into()).await, StatusCode::TOO_MANY_REQUESTS, "one host: the configured burst");
    for host in 2..=8 {
        assert_eq!(token(format!("2001:db8:5:6::{host}")).await, StatusCode::UNAUTHORIZED, "host {host}");
    }
    assert_eq!(token("2001:db8:5:6::9".into()).await, StatusCode::TOO_MANY_REQUESTS, "8 hosts spent the /64's budget");
    assert_eq!(token("2001:db8:5:7::1".into()).await, StatusCode::UNAUTHORIZED, "another /64 is not affected");
}
