//! Several instances on one PostgreSQL database, as behind a load balancer
//! (docs/architecture.md#many-instances). These tests need two instances
//! on one database, which only PostgreSQL serves: on SQLite they return at
//! once, and the test script runs them on its throw-away PostgreSQL cluster.

use crate::harness::{Response, TestApp};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use postern::config::Limit;
use std::time::{Duration, Instant};

/// What "at once" means across instances here: the bound.
const WITHIN: Duration = Duration::from_secs(1);

async fn revoke(app: &TestApp, id: &str, secret: &str, token: &str) -> Response {
    app.send(
        Request::post("/oauth2-token/revoke")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}&client_id={id}&client_secret={secret}")))
            .unwrap(),
    )
    .await
}

/// Polls `check` on an instance until it is true; fails after [`WITHIN`].
/// Returns how long it took.
async fn within_a_second(what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < WITHIN, "{what}: not honoured within {WITHIN:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_revocation_on_one_instance_is_honoured_by_another_within_a_second() {
    let a = TestApp::new().await;
    if !a.on_postgres() {
        return;
    }
    let b = a.second_instance().await;
    let (token, id) = a.access_token("Shared").await;
    // B accepts the token and now keeps its status in memory.
    assert_eq!(b.api("/api/users", &token).await.status, StatusCode::OK);
    assert_eq!(b.api("/api/users", &token).await.status, StatusCode::OK);

    // The owner deactivates the application on A …
    let app_id: i64 =
        sql!(a.state.db, |c| sqlx::query_scalar("SELECT id FROM oauth_applications WHERE client_id = $1")
            .bind(&id)
            .fetch_one(&mut *c)
            .await?);
    let mut w = a.state.db.write().await.unwrap();
    assert!(postern::store::applications::set_active(&mut w, app_id, false, postern::service::now()).await.unwrap());
    w.commit().await.unwrap();
    // … and B refuses the token it had accepted.
    let took = within_a_second("deactivation on A, token used on B", async || {
        b.api("/api/users", &token).await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    println!("instance B refused the token of an application deactivated on A after {took:?}");
}

#[tokio::test]
async fn a_token_revoked_on_one_instance_stops_on_the_other() {
    let a = TestApp::new().await;
    if !a.on_postgres() {
        return;
    }
    let b = a.second_instance().await;
    let (id, secret) = a.create_app("Revoking").await;
    let issued = b.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let token = issued.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(b.api("/api/users", &token).await.status, StatusCode::OK, "B keeps the token's status");
    assert_eq!(revoke(&a, &id, &secret, &token).await.status, StatusCode::OK);
    let took = within_a_second("revocation on A, token used on B", async || {
        b.api("/api/users", &token).await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    println!("instance B refused a token revoked on A after {took:?}");
}

#[tokio::test]
async fn an_instance_that_cannot_hear_the_others_serves_nothing_from_memory() {
    let a = TestApp::new().await;
    if !a.on_postgres() {
        return;
    }
    let b = a.second_instance().await;
    let (token, _) = a.access_token("Deaf").await;
    assert_eq!(b.api("/api/users", &token).await.status, StatusCode::OK);

    // Every listening connection on this database is cut (a restarted
    // proxy, a failover): B must stop trusting what it keeps at once.
    let database: String =
        sql!(a.state.db, |c| sqlx::query_scalar("SELECT current_database()").fetch_one(&mut *c).await?);
    let cut: i64 = sql!(a.state.db, |c| sqlx::query_scalar(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE datname = $1 AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()"
    )
    .bind(&database)
    .fetch_one(&mut *c)
    .await?);
    assert!(cut >= 1, "no listening connection found to cut");
    let took = within_a_second("B notices it cannot hear the others", async || {
        !postern::store::Changes::trusted(b.state.db.changes().generation())
    })
    .await;
    println!("instance B distrusted its caches {took:?} after its listener was cut");
    // While deaf it still answers, from the database.
    assert_eq!(b.api("/api/users", &token).await.status, StatusCode::OK);
    // It reconnects and trusts its caches again.
    b.wait_until_listening().await;
    assert_eq!(b.api("/api/users", &token).await.status, StatusCode::OK);
}

fn keys_config(secret: Option<&str>) -> postern::config::KeysConfig {
    postern::config::KeysConfig { secret: secret.map(|s| postern::config::Secret(s.to_owned())), ..Default::default() }
}

const SECRET: &str = "a key secret for the test suite, 44 chars ok";

#[tokio::test]
async fn instances_starting_together_on_an_empty_database_make_one_key_and_share_it() {
    let a = TestApp::new().await;
    if !a.on_postgres() {
        return;
    }
    let paths = keys_config(Some(SECRET));
    // Three instances open their keys at the same instant.
    let db = &a.state.db;
    let now = postern::service::now();
    let (x, y, z) = tokio::join!(
        postern::keys::database::open(&paths, db, now),
        postern::keys::database::open(&paths, db, now),
        postern::keys::database::open(&paths, db, now),
    );
    let kids: Vec<String> = [x, y, z].into_iter().map(|k| k.unwrap().signing_key().unwrap().kid().to_owned()).collect();
    assert!(kids.iter().all(|k| *k == kids[0]), "every instance signs with the same key: {kids:?}");
    let rows: i64 =
        sql!(a.state.db, |c| sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys").fetch_one(&mut *c).await?);
    assert_eq!(rows, 1, "exactly one key was created");
    let sealed: Vec<u8> =
        sql!(a.state.db, |c| sqlx::query_scalar("SELECT private_sealed FROM signing_keys").fetch_one(&mut *c).await?);
    assert!(!String::from_utf8_lossy(&sealed).contains("PRIVATE KEY"), "the private key is not stored in the clear");
}

#[tokio::test]
async fn a_missing_short_or_wrong_key_secret_is_a_clear_error() {
    let a = TestApp::new().await;
    if !a.on_postgres() {
        return;
    }
    let db = &a.state.db;
    let now = postern::service::now();
    let missing = postern::keys::database::open(&keys_config(None), db, now).await.err().unwrap();
    assert!(missing.contains("POSTERN_KEY_SECRET") && missing.contains("backups"), "{missing}");
    let short = postern::keys::database::open(&keys_config(Some("short")), db, now).await.err().unwrap();
    assert!(short.contains("at least 16"), "{short}");

    postern::keys::database::open(&keys_config(Some(SECRET)), db, now).await.unwrap();
    let wrong = keys_config(Some("not the secret the key was sealed with"));
    let refused = postern::keys::database::open(&wrong, db, now).await.err().unwrap();
    assert!(refused.contains("does not open with this POSTERN_KEY_SECRET"), "{refused}");
    // Nor may a rotation with the wrong secret retire the key that works.
    let secret = postern::keys::database::secret(&wrong).unwrap();
    assert!(postern::keys::database::rotate(db, &secret, None, now).await.is_err());
    let active: i64 =
        sql!(a.state.db, |c| sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL")
            .fetch_one(&mut *c)
            .await?);
    assert_eq!(active, 1);
}

#[tokio::test]
async fn a_rotation_reaches_every_instance_and_old_tokens_keep_verifying() {
    let a = TestApp::new().await;
    if !a.on_postgres() {
        return;
    }
    let paths = keys_config(Some(SECRET));
    let db = &a.state.db;
    let now = postern::service::now();
    let first = std::sync::Arc::new(postern::keys::database::open(&paths, db, now).await.unwrap());
    let second = std::sync::Arc::new(postern::keys::database::open(&paths, db, now).await.unwrap());
    let old_kid = first.signing_key().unwrap().kid().to_owned();

    let secret = postern::keys::database::secret(&paths).unwrap();
    let rotation = postern::keys::database::rotate(db, &secret, None, now + 5).await.unwrap();
    assert_eq!(rotation.retired_kid.as_deref(), Some(old_kid.as_str()));
    for keys in [&first, &second] {
        assert!(keys.refresh().await, "the instance notices the rotation");
        assert_eq!(keys.signing_key().unwrap().kid(), rotation.new_kid);
        let verifying: Vec<String> = keys.ring().verifying(now + 5, 3600).map(|k| k.kid().to_owned()).collect();
        assert_eq!(verifying, vec![rotation.new_kid.clone(), old_kid.clone()], "the retired key still verifies");
        assert!(!keys.refresh().await, "nothing changed since");
    }
    // Once its tokens have all expired the retired key goes.
    assert_eq!(postern::keys::database::remove_expired_retired(db, now + 5 + 3600, 3600).await.unwrap(), 1);
    assert!(first.refresh().await);
    assert_eq!(first.ring().verifying(now, 3600).count(), 1);

    // A rotation to an Ed25519 key reaches every instance the same way, its
    // row says its algorithm, and a rotation without --alg keeps it.
    use postern::oauth::jwt::Alg;
    let ed = postern::keys::database::rotate(db, &secret, Some(Alg::EdDSA), now + 10).await.unwrap();
    for keys in [&first, &second] {
        assert!(keys.refresh().await);
        assert_eq!(
            (keys.signing_key().unwrap().kid(), keys.signing_key().unwrap().alg()),
            (ed.new_kid.as_str(), Alg::EdDSA)
        );
    }
    let again = postern::keys::database::rotate(db, &secret, None, now + 15).await.unwrap();
    assert_eq!(again.new_alg, Alg::EdDSA);
    let algorithms: Vec<(String, String)> =
        sql!(a.state.db, |c| sqlx::query_as("SELECT kid, algorithm FROM signing_keys ORDER BY created_at")
            .fetch_all(&mut *c)
            .await?);
    assert_eq!(
        algorithms[algorithms.len() - 2..],
        [(ed.new_kid.clone(), "EdDSA".to_owned()), (again.new_kid.clone(), "EdDSA".to_owned())]
    );
}

#[tokio::test]
async fn health_tells_a_load_balancer_whether_the_instance_can_serve() {
    let a = TestApp::new().await;
    if a.on_postgres() {
        a.wait_until_listening().await;
    }
    let ready = a.get("/health").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    let json = ready.json();
    assert_eq!(json["status"], "ready");
    assert_eq!(json["migrations"], "current");
    assert_eq!(json["database"], "ok");
    assert!(json["signing_key"].as_str().is_some_and(|k| k.len() > 10), "{json}");
    let expected_notifications = if a.on_postgres() { "connected" } else { "not needed (SQLite: one instance)" };
    assert_eq!(json["notifications"], expected_notifications);

    // No signing key: out of rotation, and the answer says why.
    let keyless = TestApp::without_keys().await;
    let not_ready = keyless.get("/health").await;
    assert_eq!(not_ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(not_ready.json()["signing_key"], "none");
    assert_eq!(not_ready.json()["status"], "not ready");
}

/// Three instances of one configuration on one database (rate limits on).
async fn three_instances(edit: impl FnOnce(&mut postern::config::Config)) -> Option<[TestApp; 3]> {
    let a = TestApp::with_config(|c| {
        c.rate_limits.enabled = true;
        edit(c);
    })
    .await;
    if !a.on_postgres() {
        return None;
    }
    let (b, c) = (a.second_instance().await, a.second_instance().await);
    Some([a, b, c])
}

#[tokio::test]
async fn a_client_spreading_its_requests_over_three_instances_gets_the_budget_of_one() {
    // Four requests, then one a minute: no request refills during the test.
    let Some(nodes) = three_instances(|c| c.rate_limits.token_per_client = Limit { burst: 4, per_minute: 1 }).await
    else {
        return;
    };
    let (id, secret) = nodes[0].create_app("Spreading").await;
    let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let mut answers = Vec::new();
    for node in nodes.iter().cycle().take(12) {
        answers.push(node.token_form(&body).await);
    }
    let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429, 429, 429, 429, 429, 429, 429], "one budget for all three");
    for refused in &answers[4..] {
        assert_eq!(refused.header("retry-after"), Some("60"), "the next request of the shared schedule");
        assert_eq!(refused.json()["error"], "temporarily_unavailable");
    }
    // Another client is not held back on any instance.
    let (calm, calm_secret) = nodes[1].create_app("Calm").await;
    for node in &nodes {
        let answer = node
            .token_form(&format!("grant_type=client_credentials&client_id={calm}&client_secret={calm_secret}"))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    // A minute later (on the clock of the instance asked), one more request passes.
    nodes[2].state.clock.advance(Duration::from_secs(61));
    assert_eq!(nodes[2].token_form(&body).await.status, StatusCode::OK);
    assert_eq!(nodes[2].token_form(&body).await.status, StatusCode::TOO_MANY_REQUESTS);
}

/// An unauthenticated token request from `ip`.
async fn guess(node: &TestApp, ip: &str) -> Response {
    let request = Request::post("/oauth2-token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("grant_type=client_credentials&client_id=nobody&client_secret=guess"))
        .unwrap();
    node.send(crate::abuse::from(request, ip)).await
}

#[tokio::test]
async fn an_address_spreading_its_requests_over_three_instances_gets_the_budget_of_one() {
    let Some(nodes) = three_instances(|c| c.rate_limits.token_per_ip = Limit { burst: 3, per_minute: 1 }).await else {
        return;
    };
    let mut statuses = Vec::new();
    for node in nodes.iter().cycle().take(9) {
        statuses.push(guess(node, "192.0.2.80").await.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429, 429, 429, 429], "unauthenticated guesses count everywhere");
    // IPv6: the /64's budget (8 × 3) is shared too, spread over hosts and instances.
    let mut passed = 0;
    for (n, node) in nodes.iter().cycle().take(30).enumerate() {
        if guess(node, &format!("2001:db8:80::{:x}", n + 1)).await.status == StatusCode::UNAUTHORIZED {
            passed += 1;
        }
    }
    assert_eq!(passed, 24, "thirty hosts of one /64 on three instances: the /64's burst");
    assert_eq!(guess(&nodes[0], "192.0.2.81").await.status, StatusCode::UNAUTHORIZED, "other addresses are not held");
}

#[tokio::test]
async fn failed_sign_ins_spread_over_three_instances_hold_the_account_as_on_one() {
    let Some(nodes) = three_instances(|c| c.rate_limits.login_per_account = Limit { burst: 3, per_minute: 1 }).await
    else {
        return;
    };
    use crate::abuse::{login_form, sign_in};
    for node in &nodes {
        let form = login_form(node).await;
        let failed = sign_in(node, &form, "admin", "not the password", "198.51.100.80").await;
        assert_eq!(failed.header("location"), Some("/admin/login?error=invalid_credentials"));
    }
    for node in &nodes {
        let form = login_form(node).await;
        let held = sign_in(node, &form, "admin", crate::harness::ADMIN_PASSWORD, "198.51.100.80").await;
        assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "three failures on three instances hold the address");
        assert!(held.set_cookie("postern_session").is_none());
    }
    let form = login_form(&nodes[1]).await;
    let owner = sign_in(&nodes[1], &form, "admin", crate::harness::ADMIN_PASSWORD, "203.0.113.80").await;
    assert_eq!(owner.header("location"), Some("/admin"), "the owner signs in from elsewhere");
}
