//! `GET /api/users` and `/api/users/{id}`: tokens accepted and refused.

use crate::harness::TestApp;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use postern::oauth::jwt::{AccessTokenClaims, SigningKey};

fn assert_invalid_token(response: &crate::harness::Response) {
    assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{}", response.body);
    let challenge = response.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert_eq!(response.header("content-type"), Some("application/vnd.api+json"));
    assert_eq!(response.json()["errors"][0]["status"], "401");
}

#[tokio::test]
async fn a_token_lists_the_users_of_its_organization_as_json_api() {
    let app = TestApp::new().await;
    // Someone in another organization must not be listed.
    postern::service::users::create_user(
        &app.state,
        postern::service::users::NewUserInput {
            username: "outsider",
            email: "outsider@example.com",
            password: "another password",
            role_id: Some(postern::store::roles::DEVELOPER),
            organization: Some("Other Inc"),
        },
    )
    .await
    .unwrap();
    let (token, _) = app.access_token("Reader").await;
    let response = app.api("/api/users", &token).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.header("content-type"), Some("application/vnd.api+json"));
    let body = response.json();
    let names: Vec<&str> =
        body["data"].as_array().unwrap().iter().map(|u| u["attributes"]["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin"]);
    assert_eq!(body["data"][0]["type"], "users");
    assert_eq!(body["data"][0]["id"], app.admin_id.to_string());
    assert_eq!(body["meta"]["total"], 1);
    assert!(body["data"][0]["attributes"].get("password_hash").is_none());

    let one = app.api(&format!("/api/users/{}", app.admin_id), &token).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["data"]["attributes"]["email"], "admin@example.com");

    let outsider = postern::store::users::find_by_username(&app.state.db, "outsider").await.unwrap().unwrap();
    let hidden = app.api(&format!("/api/users/{}", outsider.id), &token).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "users of other organizations are invisible");
    assert_eq!(app.api("/api/users/not-a-number", &token).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn paging_follows_json_api() {
    let app = TestApp::new().await;
    for i in 0..3 {
        postern::service::users::create_user(
            &app.state,
            postern::service::users::NewUserInput {
                username: &format!("user{i}"),
                email: &format!("user{i}@example.com"),
                password: "long enough password",
                role_id: Some(postern::store::roles::DEVELOPER),
                organization: Some("Default"),
            },
        )
        .await
        .unwrap();
    }
    let (token, _) = app.access_token("Pager").await;
    let page = app.api("/api/users?page%5Bnumber%5D=2&page%5Bsize%5D=3", &token).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = page.json();
    assert_eq!(body["meta"]["total"], 4);
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert!(body["links"]["prev"].is_string());
    assert!(body["links"].get("next").is_none());
    let bad = app.api("/api/users?page%5Bsize%5D=0", &token).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["errors"][0]["status"], "400");
}

#[tokio::test]
async fn missing_garbage_and_query_string_tokens_are_refused() {
    let app = TestApp::new().await;
    let missing = app.get("/api/users").await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert!(missing.header("www-authenticate").unwrap().starts_with("Bearer"));

    assert_invalid_token(&app.api("/api/users", "not.a.jwt").await);

    let (token, _) = app.access_token("Query").await;
    let in_query = app.get(&format!("/api/users?access_token={token}")).await;
    assert_invalid_token(&in_query);
}

#[tokio::test]
async fn revoked_unknown_and_deactivated_tokens_are_refused_at_once() {
    let app = TestApp::new().await;
    let (token, _) = app.access_token("Lifecycle").await;
    assert_eq!(app.api("/api/users", &token).await.status, StatusCode::OK);
    let jti = crate::harness::claims(&token)["jti"].as_str().unwrap().to_owned();

    // The server remembers a token's status between calls; the writes that
    // change one tell the caches when they commit, whoever calls them.
    let mut w = app.state.db.write().await.unwrap();
    postern::store::tokens::revoke(&mut w, &jti, 1).await.unwrap();
    w.commit().await.unwrap();
    assert_invalid_token(&app.api("/api/users", &token).await);

    let (token, _) = app.access_token("Forgotten").await;
    assert_eq!(app.api("/api/users", &token).await.status, StatusCode::OK);
    // SQL outside the store's writes (an operator's): on SQLite the
    // wal-index tells (see writes_by_another_process_show_on_the_next_call);
    // on PostgreSQL only an announced change arrives, as another instance's.
    sql!(app.state.db, |c| sqlx::query("DELETE FROM oauth_access_tokens").execute(&mut *c).await?.rows_affected());
    app.state.db.changes().publish();
    assert_invalid_token(&app.api("/api/users", &token).await);

    let (token2, client_id) = app.access_token("Other").await;
    assert_eq!(app.api("/api/users", &token2).await.status, StatusCode::OK);
    let other = postern::store::applications::find_client(&app.state.db, &client_id).await.unwrap().unwrap();
    let mut w = app.state.db.write().await.unwrap();
    postern::store::applications::set_active(&mut w, other.id, false, 1).await.unwrap();
    w.commit().await.unwrap();
    assert_invalid_token(&app.api("/api/users", &token2).await);
}

/// Signs claims with the server's own key and records them, to test what
/// only time or another side would produce.
async fn forge(app: &TestApp, app_name: &str, edit: impl FnOnce(&mut AccessTokenClaims)) -> String {
    let (token, client_id) = app.access_token(app_name).await;
    let mut claims: AccessTokenClaims = serde_json::from_value(crate::harness::claims(&token)).unwrap();
    assert_eq!(claims.client_id, client_id);
    edit(&mut claims);
    let record = postern::store::applications::find_client(&app.state.db, &client_id).await.unwrap().unwrap();
    postern::store::tokens::insert(
        &app.state.db,
        &postern::store::tokens::NewAccessToken {
            jti: &claims.jti,
            application_id: record.id,
            grant_type: postern::model::GrantType::ClientCredentials,
            user_id: Some(app.admin_id),
            customer_user_id: None,
            scope: &claims.scope,
            issued_at: claims.iat,
            expires_at: claims.exp,
            grant_id: None,
        },
    )
    .await
    .ok();
    let key = SigningKey::from_pem(&app.private_key_pem(), &app.public_key_pem()).unwrap();
    key.sign(&claims).unwrap()
}

#[tokio::test]
async fn expired_and_storefront_tokens_are_refused() {
    let app = TestApp::new().await;
    let expired = forge(&app, "Expired", |c| {
        c.jti = "expired-jti".into();
        c.iat -= 7200;
        c.nbf -= 7200;
        c.exp -= 7200;
    })
    .await;
    let response = app.api("/api/users", &expired).await;
    assert_invalid_token(&response);
    assert!(response.header("www-authenticate").unwrap().contains("expired"));

    let storefront = forge(&app, "Storefront", |c| {
        c.jti = "storefront-jti".into();
        c.iss = "http://postern.test".into();
        c.aud = "http://postern.test/storefront/api".into();
    })
    .await;
    assert_invalid_token(&app.api("/api/users", &storefront).await);
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_refused() {
    let app = TestApp::new().await;
    let (token, _) = app.access_token("Real").await;
    let claims: AccessTokenClaims = serde_json::from_value(crate::harness::claims(&token)).unwrap();
    let (private, public) = SigningKey::generate_pem(postern::oauth::jwt::Alg::RS256).unwrap();
    let other = SigningKey::from_pem(&private, &public).unwrap();
    assert_invalid_token(&app.api("/api/users", &other.sign(&claims).unwrap()).await);
}

#[tokio::test]
async fn insufficient_scope_is_403() {
    let app = TestApp::new().await;
    let token = forge(&app, "Scopeless", |c| {
        c.jti = "no-scope".into();
        c.scope = String::new();
    })
    .await;
    let response = app
        .send(
            Request::get("/api/users")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.header("www-authenticate").unwrap().contains("insufficient_scope"));
}

/// A database that cannot be reached (here: its pool closed, as during a
/// failover or a restart of the database server) is a 503 with
/// `Retry-After` on the token endpoint and the APIs — the same request may
/// succeed a moment later — never a 500 or a refusal of the credentials.
#[tokio::test]
async fn an_unreachable_database_is_a_503_with_retry_after() {
    let app = TestApp::new().await;
    let token = forge(&app, "Forged", |c| c.jti = "never-looked-up".into()).await;
    let (id, secret) = app.create_app("Not yet cached").await;
    app.state.db.close().await;

    let issued = app.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")).await;
    assert_eq!(issued.status, StatusCode::SERVICE_UNAVAILABLE, "{}", issued.body);
    assert_eq!(issued.header("retry-after"), Some("1"));
    assert_eq!(issued.json()["error"], "temporarily_unavailable");

    let api = app.api("/api/users", &token).await;
    assert_eq!(api.status, StatusCode::SERVICE_UNAVAILABLE, "{}", api.body);
    assert_eq!(api.header("retry-after"), Some("1"));
    assert_eq!(api.json()["errors"][0]["status"], "503");
}

/// The APIs keep what they read between calls (token statuses, answers);
/// a write by another process on the same SQLite file — the command line,
/// an operator's SQL — must show on the very next call all the same.
#[tokio::test]
async fn writes_by_another_process_show_on_the_next_call() {
    use sqlx::Connection;
    let app = TestApp::new().await;
    if app.on_postgres() {
        return; // Another process on PostgreSQL: see instances.rs (notifications).
    }
    let (token, _) = app.access_token("Reader").await;
    let names = |response: &crate::harness::Response| -> Vec<String> {
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        let body = response.json();
        body["data"].as_array().unwrap().iter().map(|u| u["attributes"]["username"].as_str().unwrap().into()).collect()
    };
    // Twice: the second answer comes from what the first one read.
    assert_eq!(names(&app.api("/api/users", &token).await), ["admin"]);
    assert_eq!(names(&app.api("/api/users", &token).await), ["admin"]);

    // The command line, another process, makes a user in the organization.
    let url = app.state.config.database.url.clone();
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_postern"))
        .args(["user", "create", "--username", "from-cli", "--email", "cli@example.com", "--organization", "Default"])
        .current_dir(std::env::temp_dir())
        .env("POSTERN_DATABASE_URL", &url)
        .env("POSTERN_LOG", "warn")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert_eq!(names(&app.api("/api/users", &token).await), ["admin", "from-cli"]);

    // An operator's SQL on a connection of its own changes an address...
    let mut operator = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE users SET email = 'moved@example.com' WHERE username = 'from-cli'")
        .execute(&mut operator)
        .await
        .unwrap();
    let listed = app.api("/api/users", &token).await.json();
    assert_eq!(listed["data"][1]["attributes"]["email"], "moved@example.com");
    let one = app.api(&format!("/api/users/{}", app.admin_id), &token).await;
    assert_eq!(one.status, StatusCode::OK);

    // ...and revokes the token: refused on the next call.
    let jti = crate::harness::claims(&token)["jti"].as_str().unwrap().to_owned();
    sqlx::query("UPDATE oauth_access_tokens SET revoked_at = 1 WHERE jti = $1")
        .bind(&jti)
        .execute(&mut operator)
        .await
        .unwrap();
    assert_invalid_token(&app.api("/api/users", &token).await);
    operator.close().await.unwrap();
}
