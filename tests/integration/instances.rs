//! Several instances on one PostgreSQL database, as behind a load balancer
//! (docs/architecture.md#many-instances). These tests need two instances
//! on one database, which only PostgreSQL serves: on SQLite they return at
//! once, and the test script runs them on its throw-away PostgreSQL cluster.

use crate::harness::{Response, TestApp};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
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
