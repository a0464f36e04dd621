//! Requests that race (issue 7): the same code or refresh token presented
//! many times at once, two applications created with one name at once, and
//! token requests racing a deactivation. Each runs on a multi-threaded
//! runtime with the requests in flight together.

use crate::harness::browser::{csrf_of, login, urlencode};
use crate::harness::oauth::{authorize_and_grant, backoffice_app, App, CALLBACK};
use crate::harness::rpc::{form, rpc_form, rpc_json};
use crate::harness::TestApp;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use oauth2::{CsrfToken, PkceCodeChallenge};
use postern::model::Side;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

/// POSTs a form to the token endpoint through `router`.
async fn token_request(router: Router, body: String) -> (StatusCode, Value) {
    let request = Request::post("/oauth2-token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Sends `body` `n` times at once; the answers in completion order.
async fn all_at_once(app: &TestApp, n: usize, body: &str) -> Vec<(StatusCode, Value)> {
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (router, body, start) = (app.router.clone(), body.to_owned(), Arc::clone(&start));
        set.spawn(async move {
            start.wait().await;
            token_request(router, body).await
        });
    }
    set.join_all().await
}

async fn scalar(app: &TestApp, sql: &str, bind: &str) -> i64 {
    sql!(app.state.db, |c| sqlx::query_scalar(sql).bind(bind).fetch_one(&mut *c).await?)
}

/// A code of `third_party` with its PKCE verifier.
async fn code_of(app: &TestApp, third_party: &App, cookies: &str) -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = third_party.client().authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
    let code = authorize_and_grant(app, url.as_str(), &state, Side::BackOffice, cookies).await;
    (code, verifier.secret().clone())
}

fn redeem_body(third_party: &App, code: &str, verifier: &str) -> String {
    format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={verifier}&client_id={}&client_secret={}",
        urlencode(CALLBACK),
        third_party.client_id,
        third_party.secret.as_deref().unwrap()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_redeemed_by_20_concurrent_requests_gives_exactly_one_token() {
    let app = TestApp::new().await;
    let third_party = backoffice_app(&app, "Racing redeemer").await;
    let cookies = login(&app).await;
    let (code, verifier) = code_of(&app, &third_party, &cookies).await;

    let answers = all_at_once(&app, 20, &redeem_body(&third_party, &code, &verifier)).await;
    let won: Vec<_> = answers.iter().filter(|(status, _)| *status == StatusCode::OK).collect();
    assert_eq!(won.len(), 1, "exactly one redemption succeeds: {answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != StatusCode::OK) {
        assert_eq!((*status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{body}");
    }
    let client = &third_party.client_id;
    let tokens = "SELECT COUNT(*) FROM oauth_access_tokens t JOIN oauth_applications a ON a.id = t.application_id WHERE a.client_id = $1";
    assert_eq!(scalar(&app, tokens, client).await, 1, "one access token recorded");
    let grants = "SELECT COUNT(*) FROM oauth_grants g JOIN oauth_applications a ON a.id = g.application_id WHERE a.client_id = $1";
    assert_eq!(scalar(&app, grants, client).await, 1, "one grant");
    // The other 19 were replays of a used code: the grant is revoked (RFC 6749 §4.1.2).
    let access = won[0].1["access_token"].as_str().unwrap();
    assert_eq!(app.api("/api/users", access).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_token_used_concurrently_succeeds_at_most_once_and_the_family_is_revoked() {
    let app = TestApp::new().await;
    let third_party = backoffice_app(&app, "Racing refresher").await;
    let cookies = login(&app).await;
    let (code, verifier) = code_of(&app, &third_party, &cookies).await;
    let (status, first) = token_request(app.router.clone(), redeem_body(&third_party, &code, &verifier)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let refresh = first["refresh_token"].as_str().unwrap();
    let secret = third_party.secret.as_deref().unwrap();
    let body = format!(
        "grant_type=refresh_token&refresh_token={refresh}&client_id={}&client_secret={secret}",
        third_party.client_id
    );

    let answers = all_at_once(&app, 10, &body).await;
    let won: Vec<_> = answers.iter().filter(|(status, _)| *status == StatusCode::OK).collect();
    assert!(won.len() <= 1, "at most one rotation succeeds: {answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != StatusCode::OK) {
        assert_eq!((*status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{body}");
    }
    // Family rule (RFC 9700 §4.14.2): the spent token came back, so every
    // token of the grant is revoked — the winner's too.
    assert_eq!(app.api("/api/users", first["access_token"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);
    for (_, body) in &won {
        assert_eq!(
            app.api("/api/users", body["access_token"].as_str().unwrap()).await.status,
            StatusCode::UNAUTHORIZED
        );
        let again = format!(
            "grant_type=refresh_token&refresh_token={}&client_id={}&client_secret={secret}",
            body["refresh_token"].as_str().unwrap(),
            third_party.client_id
        );
        let (status, body) = token_request(app.router.clone(), again).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    }
    let revoked = "SELECT COUNT(*) FROM oauth_grants g JOIN oauth_applications a ON a.id = g.application_id
                   WHERE a.client_id = $1 AND g.revoked_at IS NOT NULL";
    assert_eq!(scalar(&app, revoked, &third_party.client_id).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_applications_created_at_once_with_one_name_give_one_success_and_one_field_error() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    for round in 0..5 {
        let name = format!("Twin {round}");
        let form = json!({ "form": form(&csrf, &name) });
        let start = Arc::new(tokio::sync::Barrier::new(2));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..2 {
            let (app_router, cookies, form, start) =
                (app.router.clone(), cookies.clone(), form.clone(), Arc::clone(&start));
            set.spawn(async move {
                start.wait().await;
                let request = Request::post("/admin/rpc/create_application")
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::COOKIE, cookies)
                    .body(Body::from(form.to_string()))
                    .unwrap();
                let response = app_router.oneshot(request).await.unwrap();
                let status = response.status();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
                (status, String::from_utf8_lossy(&bytes).into_owned())
            });
        }
        let mut answers = set.join_all().await;
        answers.sort_by_key(|(status, _)| *status);
        assert_eq!(answers[0].0, StatusCode::OK, "{answers:?}");
        assert_eq!(answers[1].0, StatusCode::UNPROCESSABLE_ENTITY, "{answers:?}");
        let error: Value = serde_json::from_str(&answers[1].1).unwrap();
        assert_eq!(error["Invalid"]["field"], "name", "{error}");
        assert_eq!(error["Invalid"]["message"], postern::service::applications::NAME_TAKEN);
        let count = scalar(&app, "SELECT COUNT(*) FROM oauth_applications WHERE name = $1", &name).await;
        assert_eq!(count, 1);
    }
    let audited = "SELECT COUNT(*) FROM audit_log WHERE event = $1";
    assert_eq!(scalar(&app, audited, "application.created").await, 5, "the refused twin left no trace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_token_is_issued_after_a_deactivation_is_committed() {
    // Eight clients at full speed outrun the per-client rate limit (burst
    // 100) on a slow machine before the deactivation commits; a 429 is not
    // what this race is about (the limits have their own tests).
    let app = TestApp::with_config(|c| c.rate_limits.enabled = false).await;
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    let created =
        rpc_json(&app, &cookies, "create_application", json!({ "form": form(&csrf, "Switched off") })).await.json();
    let (client_id, secret) =
        (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap().to_owned());
    let id: i64 = sql!(app.state.db, |c| sqlx::query_scalar("SELECT id FROM oauth_applications WHERE client_id = $1")
        .bind(&client_id)
        .fetch_one(&mut *c)
        .await?);
    let body = format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
    let tokens = "SELECT COUNT(*) FROM oauth_access_tokens t JOIN oauth_applications a ON a.id = t.application_id WHERE a.client_id = $1";

    // Eight clients ask for tokens without pause while the owner deactivates the application.
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (router, body, stop) = (app.router.clone(), body.clone(), Arc::clone(&stop));
        clients.spawn(async move {
            let (mut issued, mut refused) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                match token_request(router.clone(), body.clone()).await {
                    (StatusCode::OK, _) => issued += 1,
                    (StatusCode::UNAUTHORIZED, body) if body["error"] == "invalid_client" => refused += 1,
                    other => panic!("unexpected answer {other:?}"),
                }
            }
            (issued, refused)
        });
    }
    while scalar(&app, tokens, &client_id).await < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let off =
        rpc_form(&app, &cookies, "set_application_active", &format!("csrf_token={csrf}&id={id}&active=false")).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let at_commit = scalar(&app, tokens, &client_id).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let (issued, refused) = clients.join_all().await.into_iter().fold((0, 0), |(a, b), (i, r)| (a + i, b + r));

    assert_eq!(scalar(&app, tokens, &client_id).await, at_commit, "no token recorded after the deactivation committed");
    assert_eq!(issued, at_commit, "every token answered is a recorded one, and only those");
    assert!(refused > 0, "requests after the deactivation were refused");
}
