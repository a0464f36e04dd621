//! The standard endpoints: RFC 8414 metadata, JWKS and key rotation, RFC 7009
//! revocation and RFC 7662 introspection (also driven by the `oauth2` crate),
//! rate limits, the audit log, cleanup, security headers and CORS.

use crate::harness::browser::{csrf_field, csrf_of, login, login_as, urlencode};
use crate::harness::oauth::{authorize_and_grant, backoffice_app, grant_error, http};
use crate::harness::rpc::{create, form, id_of, rpc_form, rpc_json};
use crate::harness::{claims, verify_with_jwks, Response, TestApp, ADMIN_PASSWORD};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use oauth2::basic::BasicErrorResponseType;
use oauth2::{
    AuthorizationCode, CsrfToken, IntrospectionUrl, PkceCodeChallenge, RevocationUrl, StandardRevocableToken,
    TokenIntrospectionResponse, TokenResponse,
};
use postern::config::Limit;
use postern::model::Side;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;

const BASE: &str = "http://postern.test";

/// A form POST, from `ip` when given (as the server's listener would tell).
async fn post(app: &TestApp, uri: &str, body: &str, basic: Option<(&str, &str)>, ip: Option<&str>) -> Response {
    let mut request = Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some((id, secret)) = basic {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        request = request.header(header::AUTHORIZATION, format!("Basic {encoded}"));
    }
    let mut request = request.body(Body::from(body.to_owned())).unwrap();
    if let Some(ip) = ip {
        request.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip.parse().unwrap(), 40000)));
    }
    app.send(request).await
}

async fn token_for(app: &TestApp, id: &str, secret: &str) -> String {
    let response =
        app.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.json()["access_token"].as_str().unwrap().to_owned()
}

async fn introspect(app: &TestApp, id: &str, secret: &str, token: &str) -> Value {
    let response = post(app, "/oauth2-token/introspect", &format!("token={token}"), Some((id, secret)), None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    response.json()
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// The audit entries of `event`, oldest first.
async fn audit(app: &TestApp, event: &str) -> Vec<postern::store::audit::Entry> {
    let filter = postern::store::audit::Filter { event: Some(event), ..Default::default() };
    let (mut rows, _) = postern::store::audit::search(&app.state.db, &filter, 1000, 0).await.unwrap();
    rows.reverse();
    rows
}

#[tokio::test]
async fn metadata_describes_exactly_the_routes_that_exist() {
    let app = TestApp::new().await;
    let active_kid = app.state.keys.signing_key().unwrap().kid().to_owned();
    for (path, issuer, authorize, scopes) in [
        (
            "/.well-known/oauth-authorization-server",
            BASE.to_owned(),
            "/oauth2-token/authorize",
            json!(["profile", "openid", "email", "offline_access"]),
        ),
        (
            "/.well-known/oauth-authorization-server/admin",
            format!("{BASE}/admin"),
            "/admin/oauth2-token/authorize",
            json!(["users:read", "openid", "profile", "email", "offline_access"]),
        ),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(response.header("access-control-allow-origin"), Some("*"), "public, for browser clients");
        let m = response.json();
        assert_eq!(m["issuer"], issuer.as_str());
        assert_eq!(m["authorization_endpoint"], format!("{BASE}{authorize}"));
        assert_eq!(m["token_endpoint"], format!("{BASE}/oauth2-token"));
        assert_eq!(m["revocation_endpoint"], format!("{BASE}/oauth2-token/revoke"));
        assert_eq!(m["introspection_endpoint"], format!("{BASE}/oauth2-token/introspect"));
        assert_eq!(m["jwks_uri"], format!("{BASE}/.well-known/jwks.json"));
        assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(m["grant_types_supported"], json!(["authorization_code", "client_credentials", "refresh_token"]));
        assert_eq!(m["response_types_supported"], json!(["code"]));
        assert_eq!(
            m["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "none"])
        );
        assert_eq!(m["scopes_supported"], scopes);
        assert_eq!(m["authorization_response_iss_parameter_supported"], true);

        // Every endpoint it names answers as that endpoint (not 404).
        let strip = |key: &str| m[key].as_str().unwrap().strip_prefix(BASE).unwrap().to_owned();
        let page = app.get(&strip("authorization_endpoint")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "the authorize endpoint's own error page");
        assert!(page.body.contains("client_id"), "{}", page.body);
        for key in ["token_endpoint", "revocation_endpoint", "introspection_endpoint"] {
            let response = post(&app, &strip(key), "", None, None).await;
            assert_eq!(response.status, StatusCode::BAD_REQUEST, "{key}: {}", response.body);
            assert_eq!(response.json()["error"], "invalid_request", "{key}");
        }
        let jwks = app.get(&strip("jwks_uri")).await.json();
        assert_eq!(jwks["keys"][0]["kid"], active_kid.as_str());
        assert_eq!(jwks["keys"][0]["alg"], "RS256");
        assert_eq!(jwks["keys"][0]["use"], "sig");
        assert_eq!(jwks["keys"][0]["kty"], "RSA");
    }
    assert_eq!(app.get("/.well-known/oauth-authorization-server/elsewhere").await.status, StatusCode::NOT_FOUND);

    // The issuer is the one tokens carry.
    let (token, _) = app.access_token("Issuer check").await;
    assert_eq!(claims(&token)["iss"], format!("{BASE}/admin"));
}

#[tokio::test]
async fn a_token_signed_before_rotation_verifies_after_it_and_new_tokens_carry_the_new_kid() {
    let dir = tempfile::tempdir().unwrap();
    let paths = crate::harness::key_files(dir.path());
    let first_kid = postern::keys::generate(&paths, false, Default::default()).unwrap();
    let app = TestApp::with_config(|c| c.keys = paths.clone()).await;
    let (id, secret) = app.create_app("Rotating").await;
    let old = token_for(&app, &id, &secret).await;
    assert_eq!(kid(&old), first_kid);

    let now = postern::service::now();
    let rotation = postern::keys::rotate(&paths, None, now).unwrap();
    assert_eq!(rotation.retired_kid.as_deref(), Some(first_kid.as_str()));
    // What the server's periodic look at the files does (every few seconds): no restart.
    assert!(app.state.keys.reload_if_changed());

    let new = token_for(&app, &id, &secret).await;
    assert_eq!(kid(&new), rotation.new_kid, "new tokens carry the new kid");
    let jwks = app.get("/.well-known/jwks.json").await.json();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, [rotation.new_kid.as_str(), first_kid.as_str()], "the active key first, the retired one kept");

    // The old token verifies with nothing but the JWKS, and the API still takes it.
    for token in [&old, &new] {
        verify_with_jwks(&jwks, token, &format!("{BASE}/admin"), &format!("{BASE}/api"))
            .expect("verifies via the JWKS");
        assert_eq!(app.api("/api/users", token).await.status, StatusCode::OK);
    }

    // Once every token the old key signed has expired, it leaves the JWKS and the disk.
    // (The key part of `postern cleanup`, at a time when they have.)
    let window = postern::service::access::key_window(&app.state);
    assert_eq!(
        postern::keys::remove_expired_retired(&paths, now + window - 1, window),
        0,
        "not before its tokens expire"
    );
    assert_eq!(postern::keys::remove_expired_retired(&paths, now + window, window), 1);
    assert!(app.state.keys.reload_if_changed());
    let jwks = app.get("/.well-known/jwks.json").await.json();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], rotation.new_kid.as_str());
    assert_eq!(app.api("/api/users", &old).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.api("/api/users", &new).await.status, StatusCode::OK);
}

/// `postern keys rotate --alg ES256`, then `--alg EdDSA`: each key signs
/// the next tokens, the JWKS publishes it with its `alg` (and keeps the
/// retired ones), a resource server verifies every token from the JWKS
/// alone with jsonwebtoken, the API and introspection take them, and the
/// metadata names the algorithm that signs now.
#[tokio::test]
async fn es256_and_eddsa_keys_sign_tokens_that_verify_from_the_jwks() {
    use postern::oauth::jwt::Alg;
    let dir = tempfile::tempdir().unwrap();
    let paths = crate::harness::key_files(dir.path());
    postern::keys::generate(&paths, false, Alg::RS256).unwrap();
    let app = TestApp::with_config(|c| c.keys = paths.clone()).await;
    let (id, secret) = app.create_app("Curves").await;
    let mut tokens = vec![(Alg::RS256, token_for(&app, &id, &secret).await)];
    for (step, alg) in [Alg::ES256, Alg::EdDSA].into_iter().enumerate() {
        let rotation = postern::keys::rotate(&paths, Some(alg), postern::service::now() + step as i64).unwrap();
        assert_eq!(rotation.new_alg, alg);
        assert!(app.state.keys.reload_if_changed());
        tokens.push((alg, token_for(&app, &id, &secret).await));
        let metadata = app.get("/admin/.well-known/openid-configuration").await.json();
        assert_eq!(metadata["id_token_signing_alg_values_supported"], json!([alg.name()]));
    }
    // Rotating without --alg keeps the current algorithm.
    assert_eq!(postern::keys::rotate(&paths, None, postern::service::now() + 3).unwrap().new_alg, Alg::EdDSA);
    assert!(app.state.keys.reload_if_changed());

    let jwks = app.get("/.well-known/jwks.json").await.json();
    let published: Vec<(&str, &str)> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kty"].as_str().unwrap(), k["alg"].as_str().unwrap()))
        .collect();
    assert_eq!(published, [("OKP", "EdDSA"), ("OKP", "EdDSA"), ("EC", "ES256"), ("RSA", "RS256")]);
    assert_eq!(jwks["keys"][2]["crv"], "P-256");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    for (alg, token) in &tokens {
        assert_eq!(format!("{:?}", jsonwebtoken::decode_header(token).unwrap().alg), alg.name());
        let claims = verify_with_jwks(&jwks, token, &format!("{BASE}/admin"), &format!("{BASE}/api"))
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(claims["client_id"], id.as_str());
        assert_eq!(app.api("/api/users", token).await.status, StatusCode::OK, "{alg}");
        assert_eq!(introspect(&app, &id, &secret, token).await["active"], true, "{alg}");
    }
    // A token whose header claims another algorithm than its key's is refused.
    use base64::Engine as _;
    let (_, ec_token) = &tokens[1];
    let mut parts: Vec<String> = ec_token.split('.').map(str::to_owned).collect();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&parts[0]).unwrap();
    let header = String::from_utf8(header).unwrap().replace("\"ES256\"", "\"EdDSA\"");
    parts[0] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header);
    assert_eq!(app.api("/api/users", &parts.join(".")).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoke_then_introspect_says_inactive_and_the_api_answers_401() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Introspecting").await;
    let (other_id, other_secret) = app.create_app("Someone else").await;
    let token = token_for(&app, &id, &secret).await;
    let jti = claims(&token)["jti"].as_str().unwrap().to_owned();

    let live = introspect(&app, &id, &secret, &token).await;
    assert_eq!(live["active"], true);
    assert_eq!(live["client_id"], id.as_str());
    assert_eq!(live["scope"], "users:read");
    assert_eq!(live["token_type"], "Bearer");
    assert_eq!(live["sub"], app.admin_id.to_string());
    assert_eq!(live["iss"], format!("{BASE}/admin"));
    assert_eq!(live["aud"], format!("{BASE}/api"));
    assert_eq!(live["jti"], jti.as_str());
    assert_eq!(live["exp"].as_i64().unwrap() - live["iat"].as_i64().unwrap(), 3600);

    // Another client learns nothing about it and cannot revoke it.
    assert_eq!(introspect(&app, &other_id, &other_secret, &token).await, json!({ "active": false }));
    let foreign =
        post(&app, "/oauth2-token/revoke", &format!("token={token}"), Some((&other_id, &other_secret)), None).await;
    assert_eq!(foreign.status, StatusCode::OK, "RFC 7009: no hint whether the token exists");
    assert_eq!(introspect(&app, &id, &secret, &token).await["active"], true);

    // Bad requests are told what is wrong.
    let hint = post(
        &app,
        "/oauth2-token/revoke",
        &format!("token={token}&token_type_hint=id_token"),
        Some((&id, &secret)),
        None,
    )
    .await;
    assert_eq!(hint.status, StatusCode::BAD_REQUEST);
    assert_eq!(hint.json()["error"], "unsupported_token_type");
    let wrong = post(&app, "/oauth2-token/revoke", &format!("token={token}"), Some((&id, "wrong")), None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json()["error"], "invalid_client");
    assert_eq!(wrong.header("www-authenticate"), Some("Basic realm=\"OAuth\""));
    let missing = post(&app, "/oauth2-token/introspect", "", Some((&id, &secret)), None).await;
    assert_eq!(missing.json()["error_description"], "The request is missing the token parameter.");
    assert_eq!(introspect(&app, &id, &secret, "not-a-token").await, json!({ "active": false }));

    // The client revokes its token (client_secret_post this time).
    let revoked = post(
        &app,
        "/oauth2-token/revoke",
        &format!("token={token}&token_type_hint=access_token&client_id={id}&client_secret={secret}"),
        None,
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(revoked.body, "");
    assert_eq!(introspect(&app, &id, &secret, &token).await, json!({ "active": false }));
    assert_eq!(app.api("/api/users", &token).await.status, StatusCode::UNAUTHORIZED);
    let again = post(&app, "/oauth2-token/revoke", &format!("token={token}"), Some((&id, &secret)), None).await;
    assert_eq!(again.status, StatusCode::OK, "revoking twice is fine");
    assert_eq!(audit(&app, "token.revoked").await.len(), 1, "but happened once");
}

#[tokio::test]
async fn the_oauth2_crate_revokes_a_refresh_token_and_with_it_the_whole_grant() {
    // The oauth2 crate refuses to send a token to a revocation endpoint over plain HTTP.
    let app = TestApp::with_config(|c| c.server.public_url = Some("https://postern.test".into())).await;
    let third_party = backoffice_app(&app, "Revoker").await;
    let http = http(&app);
    let cookies = login(&app).await;
    let metadata = app.get("/.well-known/oauth-authorization-server/admin").await.json();
    let client = third_party
        .client()
        .set_revocation_url(RevocationUrl::new(metadata["revocation_endpoint"].as_str().unwrap().into()).unwrap())
        .set_introspection_url(
            IntrospectionUrl::new(metadata["introspection_endpoint"].as_str().unwrap().into()).unwrap(),
        );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
    let code = authorize_and_grant(&app, url.as_str(), &state, Side::BackOffice, &cookies).await;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let refresh = token.refresh_token().unwrap().clone();

    let seen = client.introspect(token.access_token()).request_async(&http).await.unwrap();
    assert!(seen.active());
    assert_eq!(seen.client_id().map(|c| c.as_str()), Some(third_party.client_id.as_str()));
    let body = post(
        &app,
        "/oauth2-token/introspect",
        &format!("token={}&token_type_hint=refresh_token", refresh.secret()),
        Some((&third_party.client_id, third_party.secret.as_deref().unwrap())),
        None,
    )
    .await
    .json();
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "refresh_token");
    assert_eq!(body["sub"], app.admin_id.to_string());

    client
        .revoke_token(StandardRevocableToken::RefreshToken(refresh.clone()))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(
        app.api("/api/users", token.access_token().secret()).await.status,
        StatusCode::UNAUTHORIZED,
        "the grant's access token dies too"
    );
    let refreshed = client.exchange_refresh_token(&refresh).request_async(&http).await;
    assert_eq!(grant_error(refreshed), BasicErrorResponseType::InvalidGrant);
    assert!(!client.introspect(token.access_token()).request_async(&http).await.unwrap().active());
    let revoked = audit(&app, "token.revoked").await;
    assert_eq!(revoked.len(), 1);
    assert!(revoked[0].detail.contains("refresh token"), "{}", revoked[0].detail);
    assert!(!revoked[0].detail.contains(refresh.secret()), "never the token itself");
}

#[tokio::test]
async fn token_requests_get_429_after_the_burst_and_service_resumes_after_the_window() {
    let app = TestApp::with_config(|c| {
        c.rate_limits.token_per_client = Limit { burst: 3, per_minute: 60 };
        c.rate_limits.token_per_ip = Limit { burst: 5, per_minute: 60 };
    })
    .await;
    let (id, secret) = app.create_app("Busy").await;
    let (calm_id, calm_secret) = app.create_app("Calm").await;
    let request =
        |id: &str, secret: &str| format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    for _ in 0..3 {
        assert_eq!(app.token_form(&request(&id, &secret)).await.status, StatusCode::OK);
    }
    let limited = app.token_form(&request(&id, &secret)).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.body);
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert_eq!(limited.json()["error"], "temporarily_unavailable");
    assert_eq!(
        app.token_form(&request(&calm_id, &calm_secret)).await.status,
        StatusCode::OK,
        "other clients are not affected"
    );
    app.state.clock.advance(Duration::from_millis(1100));
    assert_eq!(app.token_form(&request(&id, &secret)).await.status, StatusCode::OK, "normal service after the window");

    // Per address: unauthenticated guessing counts too, and only that address is held back.
    for _ in 0..5 {
        let guess = post(&app, "/oauth2-token", &request(&calm_id, "guess"), None, Some("203.0.113.9")).await;
        assert_eq!(guess.status, StatusCode::UNAUTHORIZED);
    }
    let held = post(&app, "/oauth2-token", &request(&calm_id, &calm_secret), None, Some("203.0.113.9")).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(held.header("retry-after").is_some());
    let elsewhere = post(&app, "/oauth2-token", &request(&calm_id, &calm_secret), None, Some("198.51.100.20")).await;
    assert_eq!(elsewhere.status, StatusCode::OK);
    let failures = audit(&app, "client.authentication_failed").await;
    assert_eq!(failures.len(), 5, "failed client authentications are counted");
    assert_eq!(failures[0].client_id.as_deref(), Some(calm_id.as_str()));
    assert_eq!(failures[0].ip.as_deref(), Some("203.0.113.9"));
}

/// The login page's CSRF cookie and field.
async fn login_csrf(app: &TestApp) -> (String, String) {
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

async fn sign_in(app: &TestApp, csrf: &(String, String), username: &str, password: &str, ip: &str) -> Response {
    let (cookie, token) = csrf;
    let mut request = Request::post("/admin/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("postern_csrf={cookie}"))
        .body(Body::from(format!("username={username}&password={}&csrf_token={token}", urlencode(password))))
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip.parse().unwrap(), 40000)));
    app.send(request).await
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_account_and_per_address() {
    let app = TestApp::with_config(|c| {
        c.rate_limits.login_per_account = Limit { burst: 2, per_minute: 60 };
        c.rate_limits.login_per_ip = Limit { burst: 6, per_minute: 1 };
    })
    .await;
    let csrf = login_csrf(&app).await;
    for _ in 0..2 {
        let failed = sign_in(&app, &csrf, "admin", "wrong password", "192.0.2.1").await;
        assert_eq!(failed.header("location"), Some("/admin/login?error=invalid_credentials"));
    }
    // The account is held back for that address, even with the right password …
    let held = sign_in(&app, &csrf, "admin", ADMIN_PASSWORD, "192.0.2.1").await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(held.header("retry-after"), Some("1"));
    assert!(held.body.contains("Too many sign-in attempts. Try again in 1 second."), "{}", held.body);
    assert!(held.header("set-cookie").is_none_or(|c| !c.starts_with("postern_session")));
    // … but failures from one address do not lock the owner out elsewhere.
    let elsewhere = sign_in(&app, &csrf, "admin", ADMIN_PASSWORD, "192.0.2.2").await;
    assert_eq!(elsewhere.header("location"), Some("/admin"), "{}", elsewhere.body);
    app.state.clock.advance(Duration::from_millis(1100));
    let ok = sign_in(&app, &csrf, "admin", ADMIN_PASSWORD, "192.0.2.1").await;
    assert_eq!(ok.header("location"), Some("/admin"), "normal service after the window");

    // One address trying many accounts is held back too (6 attempts, then no more).
    for name in ["amy", "bob", "cyd", "dan", "eli", "fay"] {
        let response = sign_in(&app, &csrf, name, "guess", "192.0.2.3").await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{name}");
    }
    let held = sign_in(&app, &csrf, "eve", "guess", "192.0.2.3").await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS);

    // Failed sign-ins are counted and visible to administrators.
    let failed = audit(&app, "login.failed").await;
    assert_eq!(failed.len(), 10, "2 wrong passwords, 1 held account, 6 guesses, 1 held address");
    assert_eq!(failed[0].username.as_deref(), Some("admin"));
    assert_eq!(failed[0].ip.as_deref(), Some("192.0.2.1"));
    let cookies = login(&app).await;
    let page = rpc_json(&app, &cookies, "audit_log", json!({ "query": { "event": "login.failed" } })).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.json()["failed_logins_24h"], 10);
    assert_eq!(page.json()["total"], 10);
}

#[tokio::test]
async fn the_audit_log_records_each_event_without_secrets_and_filters_them() {
    let app = TestApp::new().await;
    let cookies = login(&app).await; // login.succeeded
    let csrf = csrf_of(&cookies);
    let bad = sign_in(&app, &login_csrf(&app).await, "admin", "nope", "192.0.2.7").await; // login.failed
    assert_eq!(bad.status, StatusCode::SEE_OTHER);

    // application.created (by the admin, in the back office), token.issued, client.authentication_failed.
    let created = create(&app, &cookies, form(&csrf, "Audited app")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let created = created.json();
    let (id, secret) =
        (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap().to_owned());
    let token = token_for(&app, &id, &secret).await;
    app.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret=wrong")).await;
    // token.revoked
    post(&app, "/oauth2-token/revoke", &format!("token={token}"), Some((&id, &secret)), None).await;

    // consent.granted, token.issued (code), token.reuse_detected, consent.revoked.
    let third_party = backoffice_app(&app, "Consented app").await;
    let http = http(&app);
    let client = third_party.client();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
    let code = authorize_and_grant(&app, url.as_str(), &state, Side::BackOffice, &cookies).await;
    let granted = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let first = granted.refresh_token().unwrap().clone();
    client.exchange_refresh_token(&first).request_async(&http).await.unwrap();
    let _ = client.exchange_refresh_token(&first).request_async(&http).await;
    let consented_id = id_of(&app, &third_party.client_id).await;
    let revoked = rpc_form(
        &app,
        &cookies,
        "revoke_authorization",
        &format!("side=BackOffice&application_id={consented_id}&csrf_token={csrf}"),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);

    // application.updated (deactivated), application.deleted, user.created, logout.
    let app_id = id_of(&app, &id).await;
    rpc_form(&app, &cookies, "set_application_active", &format!("csrf_token={csrf}&id={app_id}&active=false")).await;
    let deleted = rpc_form(&app, &cookies, "delete_application", &format!("csrf_token={csrf}&id={app_id}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    app.create_user("auditor", None, "Default").await;

    for (event, expected) in [
        ("login.succeeded", "admin"),
        ("login.failed", "admin"),
        ("application.created", "admin"),
        ("application.updated", "admin"),
        ("application.deleted", "admin"),
        ("token.issued", "admin"),
        ("client.authentication_failed", ""),
        ("token.revoked", "admin"),
        ("consent.granted", "admin"),
        ("consent.revoked", "admin"),
        ("token.reuse_detected", "admin"),
        ("user.created", "auditor"),
    ] {
        let rows = audit(&app, event).await;
        assert!(
            rows.iter().any(|r| r.username.as_deref().unwrap_or("") == expected),
            "{event} by {expected:?}: {rows:?}"
        );
    }
    let issued = audit(&app, "token.issued").await;
    assert_eq!(issued.len(), 3, "client_credentials, code, refresh");
    assert!(
        issued[0].detail.contains("grant client_credentials")
            && issued[0].detail.contains(claims(&token)["jti"].as_str().unwrap())
    );
    assert_eq!(issued[0].client_id.as_deref(), Some(id.as_str()));
    assert_eq!(issued[0].application_name.as_deref(), Some("Audited app"));
    let deleted = audit(&app, "application.deleted").await;
    assert_eq!(deleted[0].application_name.as_deref(), Some("Audited app"), "the name outlives the application");
    assert_eq!(audit(&app, "login.failed").await[0].ip.as_deref(), Some("192.0.2.7"));

    // Never a secret, a password or a token.
    let (all, total) = postern::store::audit::search(&app.state.db, &Default::default(), 1000, 0).await.unwrap();
    assert_eq!(all.len() as i64, total);
    for entry in &all {
        let text = format!("{entry:?}");
        for secret in [secret.as_str(), token.as_str(), first.secret().as_str(), ADMIN_PASSWORD, "nope"] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    // The back office's filters: type (one event or a group), user, application, dates.
    let query = |q: Value| rpc_json(&app, &cookies, "audit_log", json!({ "query": q }));
    let page = query(json!({ "event": "token." })).await.json();
    let events: Vec<&str> = page["rows"].as_array().unwrap().iter().map(|r| r["event"].as_str().unwrap()).collect();
    assert!(events.iter().all(|e| e.starts_with("token.")) && events.len() == 5, "{events:?}");
    let page = query(json!({ "application": "Consented" })).await.json();
    assert!(page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["application"].as_str().unwrap().starts_with("Consented app")));
    assert!(page["total"].as_i64().unwrap() >= 4);
    let page = query(json!({ "user": "auditor" })).await.json();
    assert_eq!(page["total"], 1);
    let today = postern::service::now() / 86_400 * 86_400;
    let day = |t: i64| {
        let d = time_text(t);
        d[..10].to_owned()
    };
    assert_eq!(query(json!({ "from": day(today) })).await.json()["total"], total);
    assert_eq!(query(json!({ "to": day(today - 86_400) })).await.json()["total"], 0);
    let bad = query(json!({ "from": "last week" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("YYYY-MM-DD"), "{}", bad.body);
    let bad = query(json!({ "event": "everything" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Administrators only.
    app.create_user("clerk", None, "Default").await;
    let clerk = login_as(&app, "clerk", ADMIN_PASSWORD).await;
    let refused = rpc_json(&app, &clerk, "audit_log", json!({ "query": {} })).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

fn time_text(unix: i64) -> String {
    postern::dates::rfc3339(unix)
}

#[tokio::test]
async fn cleanup_removes_what_expired_and_keeps_the_audit_log() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let (id, secret) = app.create_app("Short-lived").await;
    let token = token_for(&app, &id, &secret).await;
    let third_party = backoffice_app(&app, "Long-lived").await;
    let http = http(&app);
    let client = third_party.client();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
    let code = authorize_and_grant(&app, url.as_str(), &state, Side::BackOffice, &cookies).await;
    let granted = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let count = |table: &'static str| {
        let db = app.state.db.clone();
        async move {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            sql!(db, |c| sqlx::query_as::<_, (i64,)>(&sql).fetch_one(&mut *c).await?).0
        }
    };
    let audit_before = count("audit_log").await;

    // Now: nothing alive is touched.
    let now = postern::service::now();
    let report = postern::service::cleanup::run(&app.state, now).await.unwrap();
    assert_eq!(report.removed.access_tokens + report.removed.refresh_tokens + report.removed.grants, 0, "{report:?}");
    assert_eq!(app.api("/api/users", &token).await.status, StatusCode::OK);
    assert_eq!(app.api("/api/users", granted.access_token().secret()).await.status, StatusCode::OK);

    // After the access tokens expired: their records go, the refresh family stays.
    let report = postern::service::cleanup::run(&app.state, now + 3601).await.unwrap();
    assert_eq!(report.removed.access_tokens, 2, "{report:?}");
    assert_eq!(report.removed.grants, 0);
    assert_eq!(count("oauth_refresh_tokens").await, 1);
    // After the refresh token expired (30 days): the grant and its code go too; sessions expired long ago.
    let report = postern::service::cleanup::run(&app.state, now + 31 * 24 * 3600).await.unwrap();
    assert_eq!(
        (report.removed.refresh_tokens, report.removed.grants, report.removed.authorization_codes),
        (1, 1, 1),
        "{report:?}"
    );
    assert!(report.removed.sessions >= 1);
    for table in
        ["oauth_access_tokens", "oauth_refresh_tokens", "oauth_grants", "oauth_authorization_codes", "sessions"]
    {
        assert_eq!(count(table).await, 0, "{table}");
    }
    assert_eq!(count("audit_log").await, audit_before, "audit entries stay");
    assert_eq!(count("oauth_applications").await, 2, "applications stay");
}

#[tokio::test]
async fn pages_carry_a_nonce_csp_and_every_response_the_security_headers() {
    let app = TestApp::new().await;
    let page = app.get("/admin/login").await;
    let policy = page.header("content-security-policy").unwrap().to_owned();
    let nonce = policy.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(page.body.contains(&format!("nonce=\"{nonce}\"")), "the inline scripts carry the header's nonce");
    assert!(
        policy.contains("'wasm-unsafe-eval'")
            && policy.contains("frame-ancestors 'none'")
            && policy.contains("object-src 'none'")
    );
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let again = app.get("/admin/login").await;
    assert_ne!(again.header("content-security-policy").unwrap(), policy, "a new nonce per response");

    let error_page = app.get("/oauth2-token/authorize").await;
    assert!(error_page.header("content-security-policy").unwrap().starts_with("default-src 'none'"));
    for response in [
        &page,
        &error_page,
        &app.token_form("grant_type=client_credentials").await,
        &app.get("/.well-known/jwks.json").await,
    ] {
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(response.header("referrer-policy"), Some("same-origin"));
        assert!(response.header("strict-transport-security").is_none(), "not over plain HTTP");
    }
}

#[tokio::test]
async fn https_adds_secure_cookies_and_hsts_and_cors_admits_only_configured_origins() {
    let app = TestApp::with_config(|c| {
        c.server.public_url = Some("https://auth.example.com".into());
        c.server.cors_origins = vec!["https://spa.example.com".into()];
    })
    .await;
    let page = app.get("/admin/login").await;
    assert!(page.set_cookie("__Host-postern_csrf").unwrap().contains("; Secure"), "over https: a __Host- cookie");
    assert_eq!(page.header("strict-transport-security"), Some("max-age=31536000"));

    let preflight = |origin: &'static str, path: &'static str| {
        app.send(
            Request::options(path)
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
                .body(Body::empty())
                .unwrap(),
        )
    };
    for path in ["/oauth2-token", "/oauth2-token/revoke"] {
        let ok = preflight("https://spa.example.com", path).await;
        assert_eq!(ok.status, StatusCode::NO_CONTENT, "{path}");
        assert_eq!(ok.header("access-control-allow-origin"), Some("https://spa.example.com"));
        assert_eq!(ok.header("access-control-allow-methods"), Some("POST"));
        assert!(ok.header("access-control-allow-credentials").is_none(), "no cookies");
        let evil = preflight("https://evil.example", path).await;
        assert_eq!(evil.status, StatusCode::FORBIDDEN);
        assert!(evil.header("access-control-allow-origin").is_none());
    }
    let response = app
        .send(
            Request::post("/oauth2-token")
                .header(header::ORIGIN, "https://spa.example.com")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("grant_type=client_credentials&client_id=x&client_secret=y"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://spa.example.com"),
        "the browser may read the error"
    );
    let introspect = preflight("https://spa.example.com", "/oauth2-token/introspect").await;
    assert!(introspect.header("access-control-allow-origin").is_none(), "introspection is for servers");
}
