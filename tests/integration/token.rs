//! `POST /oauth2-token` with client_credentials: every case of RFC 6749 §4.4
//! and §5.2.

use crate::harness::TestApp;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use postern::model::Subject;
use serde_json::Value;

fn assert_error(response: &crate::harness::Response, status: StatusCode, code: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    let body = response.json();
    assert_eq!(body["error"], code, "{body}");
    assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

/// Verifies the JWT with nothing but the public key file, as a resource server would.
fn verify_with_public_key(app: &TestApp, token: &str) -> (jsonwebtoken::Header, Value) {
    let key = DecodingKey::from_rsa_pem(app.public_key_pem().as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["http://postern.test/api"]);
    validation.set_issuer(&["http://postern.test/admin"]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("the JWT verifies with the public key");
    (data.header, data.claims)
}

#[tokio::test]
async fn form_body_returns_a_verifiable_rs256_jwt() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Billing sync").await;
    let response =
        app.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("pragma"), Some("no-cache"));
    let body = response.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("refresh_token").is_none(), "no refresh token for client_credentials");

    let (header, claims) = verify_with_public_key(&app, body["access_token"].as_str().unwrap());
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), app.state.keys.signing_key().map(|k| k.kid().to_owned()).as_deref());
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["sub"], app.admin_id.to_string());
    assert_eq!(claims["scope"], "users:read");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);

    // The application's "last used at" is set.
    let (last_used,): (Option<i64>,) =
        sql!(app.state.db, |c| sqlx::query_as("SELECT last_used_at FROM oauth_applications WHERE client_id = $1")
            .bind(&id)
            .fetch_one(&mut *c)
            .await?);
    assert!(last_used.is_some_and(|t| t >= claims["iat"].as_i64().unwrap()));

    // Recorded by jti, so that it can be revoked.
    let status = postern::store::tokens::status(&app.state.db, claims["jti"].as_str().unwrap()).await.unwrap();
    assert!(status.is_some_and(|s| !s.revoked));
}

#[tokio::test]
async fn json_body_works_the_same() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("JSON client").await;
    let body = serde_json::json!({ "grant_type": "client_credentials", "client_id": id, "client_secret": secret });
    let response = app
        .send(
            Request::post("/oauth2-token")
                .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    verify_with_public_key(&app, response.json()["access_token"].as_str().unwrap());
}

#[tokio::test]
async fn http_basic_credentials_work_and_failures_get_a_basic_challenge() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Basic client").await;
    let send = |credentials: String| {
        app.send(
            Request::post("/oauth2-token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::AUTHORIZATION, format!("Basic {}", STANDARD.encode(credentials)))
                .body(Body::from("grant_type=client_credentials"))
                .unwrap(),
        )
    };
    let ok = send(format!("{id}:{secret}")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    let wrong = send(format!("{id}:not-the-secret")).await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(wrong.header("www-authenticate"), Some("Basic realm=\"OAuth\""));
}

#[tokio::test]
async fn wrong_secret_and_unknown_client_are_401_invalid_client() {
    let app = TestApp::new().await;
    let (id, _) = app.create_app("Victim").await;
    let wrong = app.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret=guess")).await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(wrong.header("www-authenticate").is_none(), "no Basic challenge when Basic was not used");
    let unknown = app.token_form("grant_type=client_credentials&client_id=nobody&client_secret=guess").await;
    assert_error(&unknown, StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(
        wrong.json()["error_description"],
        unknown.json()["error_description"],
        "same answer: no client enumeration"
    );
    let missing_secret = app.token_form(&format!("grant_type=client_credentials&client_id={id}")).await;
    assert_error(&missing_secret, StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn request_errors_are_400_with_their_rfc_code() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Errors").await;
    let cases = [
        ("grant_type=client_credentials&client_secret=x", "invalid_request"),
        (&format!("client_id={id}&client_secret={secret}") as &str, "invalid_request"),
        (
            &format!("grant_type=password&client_id={id}&client_secret={secret}&username=a&password=b"),
            "unsupported_grant_type",
        ),
        (
            &format!(
                "grant_type=client_credentials&grant_type=client_credentials&client_id={id}&client_secret={secret}"
            ),
            "invalid_request",
        ),
        (
            &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}&scope=admin:all"),
            "invalid_scope",
        ),
        (
            &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}&scope=bad\"scope"),
            "invalid_scope",
        ),
        ("%ZZ=1", "invalid_request"),
    ];
    for (body, code) in cases {
        let response = app.token_form(body).await;
        assert_error(&response, StatusCode::BAD_REQUEST, code);
    }
}

#[tokio::test]
async fn oro_scopes_parameter_is_accepted() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Oro style").await;
    let response = app
        .token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}&scopes=users%3Aread"))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.json()["scope"], "users:read");
}

#[tokio::test]
async fn bad_json_wrong_media_type_and_oversized_bodies_are_refused_cleanly() {
    let app = TestApp::new().await;
    let json = |body: &'static str| {
        Request::post("/oauth2-token").header(header::CONTENT_TYPE, "application/json").body(Body::from(body)).unwrap()
    };
    assert_error(&app.send(json("{\"grant_type\":")).await, StatusCode::BAD_REQUEST, "invalid_request");
    assert_error(&app.send(json("{\"client_id\":[1]}")).await, StatusCode::BAD_REQUEST, "invalid_request");
    let text = Request::post("/oauth2-token").header(header::CONTENT_TYPE, "text/plain").body(Body::from("x")).unwrap();
    assert_error(&app.send(text).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request");
    let huge = format!("grant_type=client_credentials&client_id={}", "a".repeat(64 * 1024));
    assert_error(&app.token_form(&huge).await, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request");
    let get = app.get("/oauth2-token").await;
    assert_error(&get, StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
    assert_eq!(get.header("allow"), Some("POST"));
}

#[tokio::test]
async fn two_authentication_methods_at_once_are_refused() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Both").await;
    let response = app
        .send(
            Request::post("/oauth2-token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::AUTHORIZATION, format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))))
                .body(Body::from(format!("grant_type=client_credentials&client_secret={secret}")))
                .unwrap(),
        )
        .await;
    assert_error(&response, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn inactive_application_is_401_invalid_client() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Paused").await;
    let record = postern::store::applications::find_client(&app.state.db, &id).await.unwrap().unwrap();
    let mut w = app.state.db.write().await.unwrap();
    postern::store::applications::set_active(&mut w, record.id, false, 0).await.unwrap();
    w.commit().await.unwrap();
    let response =
        app.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")).await;
    assert_error(&response, StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn disabled_owner_cannot_get_tokens() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Owner gone").await;
    sql!(app.state.db, |c| sqlx::query("UPDATE users SET enabled = FALSE WHERE id = $1")
        .bind(app.admin_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    let response =
        app.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")).await;
    assert_error(&response, StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn authorization_code_application_is_unauthorized_for_client_credentials() {
    let app = TestApp::new().await;
    let created = postern::service::applications::create(
        &app.state,
        postern::service::applications::NewApplicationInput {
            organization_id: app.organization_id,
            name: "Web app".into(),
            active: true,
            grant_type: postern::oauth::grant::GrantType::AuthorizationCode,
            side: postern::model::Side::BackOffice,
            owner: Some(Subject::User(app.admin_id)),
            confidential: true,
            skip_consent: false,
            redirect_uris: vec!["https://app.example.com/callback".into()],
            post_logout_redirect_uris: vec![],
        },
    )
    .await
    .unwrap();
    let secret = created.client_secret.unwrap();
    let response = app
        .token_form(&format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            created.client_id,
            secret.expose()
        ))
        .await;
    assert_error(&response, StatusCode::BAD_REQUEST, "unauthorized_client");
}

#[tokio::test]
async fn without_keys_the_server_answers_no_encryption_key() {
    let app = TestApp::without_keys().await;
    let (id, secret) = app.create_app("No keys").await;
    let response =
        app.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")).await;
    assert_error(&response, StatusCode::UNAUTHORIZED, "no_encryption_key");
}

#[tokio::test]
async fn secrets_are_stored_only_as_hashes() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Hashed").await;
    let (stored,): (Vec<u8>,) =
        sql!(app.state.db, |c| sqlx::query_as("SELECT secret_hash FROM oauth_applications WHERE client_id = $1")
            .bind(&id)
            .fetch_one(&mut *c)
            .await?);
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, secret.as_bytes());
    // Every stored byte of the table, as text (PostgreSQL: whole rows).
    let dump_sql = if app.on_postgres() {
        "SELECT a::text FROM oauth_applications a"
    } else {
        "SELECT quote(secret_hash) FROM oauth_applications"
    };
    let dump: Vec<(String,)> = sql!(app.state.db, |c| sqlx::query_as(dump_sql).fetch_all(&mut *c).await?);
    assert!(dump.iter().all(|(row,)| !row.contains(&secret)));
}

#[tokio::test]
async fn duplicate_name_for_the_same_owner_is_refused() {
    let app = TestApp::new().await;
    app.create_app("Twin").await;
    let err = postern::service::applications::create(
        &app.state,
        postern::service::applications::NewApplicationInput {
            organization_id: app.organization_id,
            name: "Twin".into(),
            active: true,
            grant_type: postern::oauth::grant::GrantType::ClientCredentials,
            side: postern::model::Side::BackOffice,
            owner: Some(Subject::User(app.admin_id)),
            confidential: true,
            skip_consent: false,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "The application with the given name already exists.");
    let (count,): (i64,) =
        sql!(app.state.db, |c| sqlx::query_as("SELECT COUNT(*) FROM oauth_applications").fetch_one(&mut *c).await?);
    assert_eq!(count, 1, "nothing half-written");
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sql!(app.state.db, |c| sqlx::query_scalar(sql).fetch_one(&mut *c).await?)
}

/// The token endpoint keeps applications in memory. A change it did not
/// make itself (another process editing the database) is still caught: the
/// token's own write checks the application, so nothing is issued or
/// recorded, and the application is read afresh next time.
#[tokio::test]
async fn a_change_behind_the_servers_back_issues_no_token() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Remembered").await;
    let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    assert_eq!(app.token_form(&body).await.status, StatusCode::OK, "the application is now in memory");
    let tokens = "SELECT COUNT(*) FROM oauth_access_tokens";
    let issued = "SELECT COUNT(*) FROM audit_log WHERE event = 'token.issued'";

    let set = |sql: String| {
        let (db, id) = (app.state.db.clone(), id.clone());
        async move { sql!(db, |c| sqlx::query(&sql).bind(id).execute(&mut *c).await?.rows_affected()) }
    };
    let zeros = if app.on_postgres() { "decode(repeat('00', 32), 'hex')" } else { "zeroblob(32)" };
    set("UPDATE oauth_applications SET active = FALSE WHERE client_id = $1".into()).await;
    assert_error(&app.token_form(&body).await, StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!((count(&app, tokens).await, count(&app, issued).await), (1, 1), "nothing recorded for the refusal");

    set("UPDATE oauth_applications SET active = TRUE WHERE client_id = $1".into()).await;
    assert_eq!(app.token_form(&body).await.status, StatusCode::OK, "reactivation is seen too");

    set(format!("UPDATE oauth_applications SET secret_hash = {zeros} WHERE client_id = $1")).await;
    assert_error(&app.token_form(&body).await, StatusCode::UNAUTHORIZED, "invalid_client");
    assert_error(&app.token_form(&body).await, StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!((count(&app, tokens).await, count(&app, issued).await), (2, 2));
}

/// Under concurrency the tokens are written in shared transactions: every
/// answered token is recorded once, with its own audit entry naming its
/// application, client and owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_token_requests_are_each_recorded_with_their_audit_entry() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Busy").await;
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let request = Request::post("/oauth2-token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")))
            .unwrap();
        let router = app.router.clone();
        requests.spawn(async move {
            use tower::ServiceExt;
            let response = router.oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            let token: Value = serde_json::from_slice(&body).unwrap();
            crate::harness::claims(token["access_token"].as_str().unwrap())["jti"].as_str().unwrap().to_owned()
        });
    }
    let mut jtis: Vec<String> = requests.join_all().await;
    jtis.sort();
    jtis.dedup();
    assert_eq!(jtis.len(), 40, "40 distinct tokens");
    let mut stored: Vec<String> =
        sql!(app.state.db, |c| sqlx::query_scalar("SELECT jti FROM oauth_access_tokens ORDER BY jti")
            .fetch_all(&mut *c)
            .await?);
    stored.sort();
    assert_eq!(stored, jtis, "every answered token is recorded, nothing else");
    let entries: Vec<(String, String, String, String)> = sql!(app.state.db, |c| {
        sqlx::query_as(
        "SELECT detail, application_name, client_id, username FROM audit_log WHERE event = 'token.issued' ORDER BY detail",
    ).fetch_all(&mut *c).await?
    });
    assert_eq!(entries.len(), 40);
    for (detail, name, client, owner) in &entries {
        assert!(jtis.iter().any(|jti| detail.ends_with(&format!("jti {jti}"))), "{detail}");
        assert_eq!((name.as_str(), client.as_str(), owner.as_str()), ("Busy", id.as_str(), "admin"));
    }
}

/// The tokens of one shared transaction are checked each on its own: when
/// one application was deactivated meanwhile, its token is refused and
/// has no audit entry, and the other's is recorded with its own.
///
/// Both ways a batch is written are checked: a store transaction (as on
/// PostgreSQL, and on SQLite when another process holds the write lock)
/// and the token writer (on SQLite, SQLite's C API on a worker).
#[tokio::test]
async fn a_shared_write_records_only_the_tokens_whose_application_still_issues_them() {
    a_shared_write_records_only_the_usable(false).await;
}

#[tokio::test]
async fn the_token_writer_records_only_the_tokens_whose_application_still_issues_them() {
    a_shared_write_records_only_the_usable(true).await;
}

async fn a_shared_write_records_only_the_usable(through_writer: bool) {
    use postern::store::tokens::record_issued;
    let app = TestApp::new().await;
    let (kept, _) = app.create_app("Kept").await;
    let (dropped, _) = app.create_app("Dropped").await;
    let issued = |client_id: String, jti: &'static str| issued_token(&app, client_id, jti);
    let batch = [issued(kept.clone(), "jti-kept").await, issued(dropped.clone(), "jti-dropped").await];
    sql!(app.state.db, |c| sqlx::query("UPDATE oauth_applications SET active = FALSE WHERE client_id = $1")
        .bind(&dropped)
        .execute(&mut *c)
        .await?
        .rows_affected());

    let recorded = if through_writer {
        let writer = &app.state.token_writer;
        let [kept_token, dropped_token] = batch;
        let (kept_jti, dropped_jti) = (kept_token.jti.clone(), dropped_token.jti.clone());
        // Both handed over before either is waited for.
        let (a, b) = (writer.submit(kept_token).await.unwrap(), writer.submit(dropped_token).await.unwrap());
        let (a, b) = (a.recorded().await.unwrap(), b.recorded().await.unwrap());
        [(a, kept_jti), (b, dropped_jti)].into_iter().filter(|(ok, _)| *ok).map(|(_, jti)| jti).collect()
    } else {
        let mut w = app.state.db.write().await.unwrap();
        let recorded = record_issued(&mut w, &batch).await.unwrap();
        w.commit().await.unwrap();
        recorded
    };

    assert_eq!(recorded, std::collections::HashSet::from(["jti-kept".to_owned()]));
    let stored: Vec<String> =
        sql!(app.state.db, |c| sqlx::query_scalar("SELECT jti FROM oauth_access_tokens").fetch_all(&mut *c).await?);
    assert_eq!(stored, ["jti-kept"]);
    let entries: Vec<(String, String, String)> = sql!(app.state.db, |c| sqlx::query_as(
        "SELECT detail, application_name, client_id FROM audit_log WHERE event = 'token.issued'"
    )
    .fetch_all(&mut *c)
    .await?);
    assert_eq!(entries, [("client_credentials, jti jti-kept".to_owned(), "Kept".to_owned(), kept)]);
}

/// While another process holds SQLite's write lock (the CLI, an operator's
/// `sqlite3`), a token waits for it without stopping the runtime it runs
/// on: the writer does not wait in SQLite's busy handler on a worker, and
/// the token is recorded once the lock is free.
#[tokio::test]
async fn a_token_waits_for_another_process_holding_the_write_lock_without_blocking_the_runtime() {
    use sqlx::{ConnectOptions, Connection};
    use tower::ServiceExt;
    let app = TestApp::new().await;
    if app.on_postgres() {
        return;
    }
    let (client_id, secret) = app.create_app("Waits").await;
    let body = format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
    assert_eq!(app.token_form(&body).await.status, 200);

    let url = &app.state.config.database.url;
    let mut other = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().connect().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
    let request = Request::post("/oauth2-token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let request = tokio::spawn(app.router.clone().oneshot(request));
    // This test's runtime has one thread: had the writer waited in SQLite's
    // busy handler there (5 s), this sleep would end only after it.
    let asleep = std::time::Instant::now();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(asleep.elapsed() < std::time::Duration::from_secs(2), "the runtime was blocked {:?}", asleep.elapsed());
    assert!(!request.is_finished(), "a token was answered while its row could not be written");
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    other.close().await.unwrap();

    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let jti = crate::harness::claims(body["access_token"].as_str().unwrap())["jti"].as_str().unwrap().to_owned();
    let stored: i64 =
        sql!(app.state.db, |c| sqlx::query_scalar("SELECT COUNT(*) FROM oauth_access_tokens WHERE jti = $1")
            .bind(&jti)
            .fetch_one(&mut *c)
            .await?);
    assert_eq!(stored, 1);
}

/// A client_credentials token of the application `client_id`, ready for
/// the token writer, as the token endpoint would hand it over.
async fn issued_token(app: &TestApp, client_id: String, jti: &str) -> postern::store::tokens::IssuedToken {
    let (id, name, secret_hash): (i64, String, Option<Vec<u8>>) = sql!(app.state.db, |c| sqlx::query_as(
        "SELECT id, name, secret_hash FROM oauth_applications WHERE client_id = $1"
    )
    .bind(&client_id)
    .fetch_one(&mut *c)
    .await?);
    postern::store::tokens::IssuedToken {
        detail: format!("client_credentials, jti {jti}"),
        jti: jti.to_owned(),
        application_id: id,
        application_name: name,
        client_id,
        secret_hash,
        user_id: None,
        customer_user_id: None,
        username: None,
        scope: String::new(),
        issued_at: 1_800_000_000,
        expires_at: 1_800_003_600,
    }
}

/// A batch in which one row fails (here a `jti` given twice) is rolled back
/// whole and written again token by token: only the failing token's
/// request gets an error, the others are recorded once, each with one
/// audit entry, and nothing of the failed batch stays behind.
#[tokio::test]
async fn a_failed_batch_is_written_again_token_by_token_and_leaves_nothing_twice() {
    let app = TestApp::new().await;
    let (client_id, _) = app.create_app("Batch").await;
    let writer = postern::store::token_writer::TokenWriter::new(app.state.db.clone());
    let first = issued_token(&app, client_id.clone(), "jti-one").await;
    let again = issued_token(&app, client_id.clone(), "jti-one").await;
    let other = issued_token(&app, client_id, "jti-two").await;
    // Handed over in one poll of this (one-thread) runtime's task: the
    // writer finds all three waiting and takes them as one batch.
    let (a, b, c) = tokio::join!(writer.submit(first), writer.submit(again), writer.submit(other));
    let (a, b, c) = (a.unwrap().recorded().await, b.unwrap().recorded().await, c.unwrap().recorded().await);

    assert!(matches!(a, Ok(true)), "{a:?}");
    match b {
        Err(sqlx::Error::Database(e)) => assert_eq!(e.kind(), sqlx::error::ErrorKind::UniqueViolation, "{e}"),
        other => panic!("the second use of a jti was not refused as a duplicate: {other:?}"),
    }
    assert!(matches!(c, Ok(true)), "{c:?}");
    let tokens: Vec<String> =
        sql!(app.state.db, |c| sqlx::query_scalar("SELECT jti FROM oauth_access_tokens ORDER BY jti")
            .fetch_all(&mut *c)
            .await?);
    assert_eq!(tokens, ["jti-one", "jti-two"]);
    let entries: Vec<String> = sql!(app.state.db, |c| sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE event = 'token.issued' ORDER BY detail"
    )
    .fetch_all(&mut *c)
    .await?);
    assert_eq!(entries, ["client_credentials, jti jti-one", "client_credentials, jti jti-two"]);
}
