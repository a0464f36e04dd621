//! The authorization code flow end to end, with a real OAuth client library
//! (the `oauth2` crate) as the third-party application and a cookie-carrying
//! "browser" for the login and consent forms: PKCE, refresh rotation and reuse
//! detection, code replay, the error rules of RFC 6749 §4.1.2.1 (as SECURITY.md
//! decides them), consent (cancel, skip, remembered, revoked), and the two
//! sides' APIs.

use crate::harness::browser::{csrf_field, csrf_of, get, login, post_form, urlencode};
use crate::harness::oauth::{
    answer, authorize_and_grant, backoffice_app, create_app, grant_error, http, path_of, query_param, visit, App,
    AppSpec, Landing, CALLBACK,
};
use crate::harness::rpc::rpc_form;
use crate::harness::{TestApp, ADMIN_PASSWORD};
use axum::http::StatusCode;
use oauth2::basic::BasicErrorResponseType;
use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    Scope, TokenResponse,
};
use postern::model::Side;
use postern::model::Subject;

const CUSTOMER_PASSWORD: &str = "customer password 1";

async fn customer(app: &TestApp, username: &str) -> i64 {
    postern::service::customers::create_from_cli(
        &app.state,
        None,
        username,
        &format!("{username}@example.com"),
        CUSTOMER_PASSWORD,
    )
    .await
    .unwrap()
    .id
}

async fn storefront_public_app(app: &TestApp, owner: i64, name: &str) -> App {
    create_app(
        app,
        AppSpec {
            name,
            side: Side::Storefront,
            owner: Subject::Customer(owner),
            confidential: false,
            skip_consent: false,
            redirect_uris: vec![CALLBACK.into()],
        },
    )
    .await
}

/// Logs a customer user in on `/login`; returns the Cookie header.
async fn customer_login(app: &TestApp, username: &str) -> String {
    let page = app.get("/login").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.set_cookie("postern_csrf").unwrap().split(';').next().unwrap().to_owned();
    let token = csrf_field(&page.body);
    let response = post_form(
        app,
        "/login",
        &csrf,
        &format!("username={username}&password={}&csrf_token={token}", urlencode(CUSTOMER_PASSWORD)),
    )
    .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let session = response.set_cookie("postern_customer_session").expect("a storefront session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    // The sign-in renews the CSRF cookie; the browser keeps the new one.
    let csrf = response.set_cookie("postern_csrf").expect("a renewed CSRF cookie");
    format!("{}; {}", csrf.split(';').next().unwrap(), session.split(';').next().unwrap())
}

/// A page's HTML without Leptos' hydration markers, as a person reads the text.
fn text(html: &str) -> String {
    html.replace("<!>", "").replace("&quot;", "\"")
}

async fn api_status(app: &TestApp, uri: &str, token: &str) -> StatusCode {
    app.api(uri, token).await.status
}

#[tokio::test]
async fn backoffice_code_flow_with_pkce_then_refresh_rotation_and_reuse_detection() {
    let app = TestApp::new().await;
    let third_party = backoffice_app(&app, "Reporting tool").await;
    let client = third_party.client();
    let http = http(&app);
    let cookies = login(&app).await;

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("users:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let Landing::Consent { page, fields } = visit(&app, url.as_str(), &cookies).await else {
        panic!("a first authorization asks for consent");
    };
    assert!(text(&page.body).contains("\"Reporting tool\" wants to access your account."), "{}", page.body);
    assert!(page.body.contains("Read the users of Default as you can see them"), "the scope in plain words, exactly");
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self' 'nonce-"), "{policy}");
    let back = answer(&app, Side::BackOffice, &fields, "grant", &cookies).await;
    assert_eq!(query_param(&back, "state").as_deref(), Some(state.secret().as_str()));
    assert_eq!(query_param(&back, "iss").as_deref(), Some("http://postern.test/admin"), "RFC 9207 issuer");
    let code = query_param(&back, "code").unwrap();

    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let access = token.access_token().secret().clone();
    let claims = crate::harness::claims(&access);
    assert_eq!(claims["sub"], app.admin_id.to_string());
    assert_eq!(claims["aud"], "http://postern.test/api");
    assert_eq!(claims["client_id"], third_party.client_id);
    assert_eq!(token.expires_in(), Some(std::time::Duration::from_secs(3600)));
    assert_eq!(api_status(&app, "/api/users", &access).await, StatusCode::OK, "works on its own API");
    assert_eq!(
        api_status(&app, "/storefront/api/customerusers/mine", &access).await,
        StatusCode::UNAUTHORIZED,
        "not on the other"
    );

    // Rotation: each refresh gives a new refresh token; the old one is spent.
    let first_refresh = token.refresh_token().expect("a refresh token").clone();
    let refreshed = client.exchange_refresh_token(&first_refresh).request_async(&http).await.unwrap();
    let second_refresh = refreshed.refresh_token().unwrap().clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    let second_access = refreshed.access_token().secret().clone();
    assert_eq!(api_status(&app, "/api/users", &second_access).await, StatusCode::OK);

    // Reuse of the spent one: refused, and the whole family dies with it.
    let reuse = client.exchange_refresh_token(&first_refresh).request_async(&http).await;
    assert_eq!(grant_error(reuse), BasicErrorResponseType::InvalidGrant);
    let after = client.exchange_refresh_token(&second_refresh).request_async(&http).await;
    assert_eq!(grant_error(after), BasicErrorResponseType::InvalidGrant, "the newest refresh token is revoked too");
    assert_eq!(api_status(&app, "/api/users", &access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(api_status(&app, "/api/users", &second_access).await, StatusCode::UNAUTHORIZED);

    // Consent was remembered: the next request for the same scope goes straight back.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("users:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    assert!(matches!(visit(&app, url.as_str(), &cookies).await, Landing::Back(_)), "not asked again");
}

#[tokio::test]
async fn storefront_public_client_uses_pkce_and_its_token_fits_only_the_storefront_api() {
    let app = TestApp::new().await;
    let shopper = customer(&app, "shopper").await;
    let third_party = storefront_public_app(&app, shopper, "Shop companion").await;
    assert!(third_party.secret.is_none(), "a public client has no secret");
    let client = third_party.client();
    let http = http(&app);

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
    // Not logged in: the storefront login page, naming the application, then back.
    let response = app.get(&path_of(url.as_str())).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let login_url = response.header("location").unwrap().to_owned();
    assert!(login_url.starts_with("/login?redirect=%2Foauth2-token%2Fauthorize"), "{login_url}");
    let login_page = app.get(&login_url).await;
    assert!(text(&login_page.body).contains("Sign in to continue to \"Shop companion\"."), "{}", login_page.body);

    let cookies = customer_login(&app, "shopper").await;
    let code = authorize_and_grant(&app, url.as_str(), &state, Side::Storefront, &cookies).await;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let access = token.access_token().secret().clone();
    assert_eq!(crate::harness::claims(&access)["iss"], "http://postern.test");
    let mine = app.api("/storefront/api/customerusers/mine", &access).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.json()["data"]["attributes"]["username"], "shopper");
    assert_eq!(mine.json()["data"]["id"], shopper.to_string());
    assert_eq!(
        api_status(&app, "/api/users", &access).await,
        StatusCode::UNAUTHORIZED,
        "a storefront token on the back-office API"
    );

    // A back-office token on the storefront API: 401 as well.
    let (backoffice_token, _) = app.access_token("Back-office app").await;
    assert_eq!(
        api_status(&app, "/storefront/api/customerusers/mine", &backoffice_token).await,
        StatusCode::UNAUTHORIZED
    );
    // A back-office user's session does not count on the storefront.
    let admin = login(&app).await;
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
    let response = get(&app, &path_of(url.as_str()), &admin).await;
    assert!(response.header("location").unwrap().starts_with("/login?"), "the storefront asks a customer to sign in");
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_the_tokens_of_its_first_use() {
    let app = TestApp::new().await;
    let third_party = backoffice_app(&app, "Replay target").await;
    let client = third_party.client();
    let http = http(&app);
    let cookies = login(&app).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
    let code = authorize_and_grant(&app, url.as_str(), &state, Side::BackOffice, &cookies).await;
    let verifier_again = PkceCodeVerifier::new(verifier.secret().clone());
    let token = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let access = token.access_token().secret().clone();
    assert_eq!(api_status(&app, "/api/users", &access).await, StatusCode::OK);

    let replay =
        client.exchange_code(AuthorizationCode::new(code)).set_pkce_verifier(verifier_again).request_async(&http).await;
    assert_eq!(grant_error(replay), BasicErrorResponseType::InvalidGrant);
    assert_eq!(
        api_status(&app, "/api/users", &access).await,
        StatusCode::UNAUTHORIZED,
        "the first use's access token is revoked"
    );
    let refresh = client.exchange_refresh_token(token.refresh_token().unwrap()).request_async(&http).await;
    assert_eq!(grant_error(refresh), BasicErrorResponseType::InvalidGrant, "and its refresh token");
}

#[tokio::test]
async fn wrong_verifier_wrong_redirect_uri_and_foreign_client_are_invalid_grant() {
    let app = TestApp::new().await;
    let third_party = create_app(
        &app,
        AppSpec {
            name: "Two callbacks",
            side: Side::BackOffice,
            owner: Subject::User(app.admin_id),
            confidential: true,
            skip_consent: true,
            redirect_uris: vec![CALLBACK.into(), "https://app.example.com/other".into()],
        },
    )
    .await;
    let other = backoffice_app(&app, "Someone else").await;
    let client = third_party.client();
    let http = http(&app);
    let cookies = login(&app).await;

    // Wrong verifier.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
    let code = authorize_and_grant(&app, url.as_str(), &state, Side::BackOffice, &cookies).await;
    let (_, wrong) = PkceCodeChallenge::new_random_sha256();
    let result =
        client.exchange_code(AuthorizationCode::new(code.clone())).set_pkce_verifier(wrong).request_async(&http).await;
    assert_eq!(grant_error(result), BasicErrorResponseType::InvalidGrant);
    // No verifier at all for a code that had a challenge.
    let result = client.exchange_code(AuthorizationCode::new(code.clone())).request_async(&http).await;
    assert_eq!(grant_error(result), BasicErrorResponseType::InvalidGrant);

    // Another registered redirect URI than the one the code was issued for.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
    let code = authorize_and_grant(&app, url.as_str(), &state, Side::BackOffice, &cookies).await;
    let result = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().clone()))
        .set_redirect_uri(std::borrow::Cow::Owned(RedirectUrl::new("https://app.example.com/other".into()).unwrap()))
        .request_async(&http)
        .await;
    assert_eq!(grant_error(result), BasicErrorResponseType::InvalidGrant);
    // Another client presenting this client's code.
    let result = other
        .client()
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().clone()))
        .request_async(&http)
        .await;
    assert_eq!(grant_error(result), BasicErrorResponseType::InvalidGrant);
    // None of these spent the code: the rightful request still works.
    client.exchange_code(AuthorizationCode::new(code)).set_pkce_verifier(verifier).request_async(&http).await.unwrap();
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    let app = TestApp::new().await;
    let third_party = backoffice_app(&app, "Slow app").await;
    let cookies = login(&app).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = third_party.client().authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
    let code = authorize_and_grant(&app, url.as_str(), &state, Side::BackOffice, &cookies).await;
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={}&client_id={}&client_secret={}",
        urlencode(CALLBACK),
        verifier.secret(),
        third_party.client_id,
        third_party.secret.clone().unwrap()
    );
    let params = postern::oauth::token_request::Params::from_form(form.as_bytes()).unwrap();
    let lifetime = app.state.config.tokens.authorization_code_lifetime;
    assert_eq!(lifetime, 600);
    let later = postern::service::now() + lifetime + 1;
    let err = postern::service::token::exchange(&app.state, &params, None, later).await.unwrap_err();
    assert_eq!(err.code, postern::oauth::ErrorCode::InvalidGrant);
    assert!(err.description.contains("expired"), "{}", err.description);
    // Within its lifetime the same code works.
    let ok = postern::service::token::exchange(&app.state, &params, None, postern::service::now() + lifetime - 5).await;
    assert!(ok.is_ok(), "{ok:?}");
}

/// Each error rule of an authorization request (RFC 6749 §4.1.2.1, RFC 7636
/// §4.4.1), checked on the endpoint's answer.
#[tokio::test]
async fn every_authorization_request_error_rule() {
    // The public client below skips consent so that its redirects show the
    // rules directly: allowed here by configuration (it is off by default).
    let app = TestApp::with_config(|c| c.tokens.public_clients_may_skip_consent = true).await;
    let cookies = login(&app).await;
    let confidential = backoffice_app(&app, "Rules").await;
    let public = create_app(
        &app,
        AppSpec {
            name: "Rules public",
            side: Side::BackOffice,
            owner: Subject::User(app.admin_id),
            confidential: false,
            skip_consent: true,
            redirect_uris: vec!["http://127.0.0.1:8080/cb".into()],
        },
    )
    .await;
    let several = create_app(
        &app,
        AppSpec {
            name: "Several",
            side: Side::BackOffice,
            owner: Subject::User(app.admin_id),
            confidential: true,
            skip_consent: true,
            redirect_uris: vec![CALLBACK.into(), "https://app.example.com/two".into()],
        },
    )
    .await;
    let shopper = customer(&app, "rules-shopper").await;
    let storefront = storefront_public_app(&app, shopper, "Rules storefront").await;
    let (cc_id, _) = app.create_app("Machine").await;
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let endpoint = "/admin/oauth2-token/authorize";
    let cb = urlencode(CALLBACK);

    // Error pages, never a redirect.
    for (query, status, words) in [
        (String::new(), StatusCode::BAD_REQUEST, "no client_id"),
        (
            format!("response_type=code&client_id=unknown&redirect_uri={cb}"),
            StatusCode::BAD_REQUEST,
            "unknown or inactive",
        ),
        (
            format!(
                "response_type=code&client_id={}&redirect_uri={}",
                confidential.client_id,
                urlencode("https://evil.example/cb")
            ),
            StatusCode::BAD_REQUEST,
            "not one the application registered",
        ),
        (
            format!("response_type=code&client_id={}&redirect_uri={cb}x", confidential.client_id),
            StatusCode::BAD_REQUEST,
            "not one the application registered",
        ),
        (format!("response_type=code&client_id={}", several.client_id), StatusCode::BAD_REQUEST, "registered several"),
        (
            format!("response_type=code&client_id={}&client_id=x&redirect_uri={cb}", confidential.client_id),
            StatusCode::BAD_REQUEST,
            "more than once",
        ),
        (
            format!("response_type=code&client_id={}&redirect_uri={cb}", storefront.client_id),
            StatusCode::NOT_FOUND,
            "nothing at this address",
        ),
    ] {
        let response = get(&app, &format!("{endpoint}?{query}"), &cookies).await;
        assert_eq!(response.status, status, "{query}: {}", response.body);
        assert!(response.header("location").is_none(), "{query}: never a redirect");
        assert!(response.body.contains(words), "{query}: {}", response.body);
    }
    // A back-office client on the storefront endpoint: 404 as well.
    let response = get(
        &app,
        &format!("/oauth2-token/authorize?response_type=code&client_id={}&redirect_uri={cb}", confidential.client_id),
        "",
    )
    .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);

    // Errors after the redirect URI is trusted: back to it with error and state.
    let base = |client: &str| format!("client_id={client}&redirect_uri={cb}&state=s1");
    for (query, error) in [
        (base(&confidential.client_id), "invalid_request"),
        (format!("{}&response_type=token", base(&confidential.client_id)), "unsupported_response_type"),
        (format!("{}&response_type=code&scope=storefront:orders", base(&confidential.client_id)), "invalid_scope"),
        (format!("{}&response_type=code&code_challenge={CHALLENGE}", base(&confidential.client_id)), "invalid_request"),
        (
            format!(
                "{}&response_type=code&code_challenge={CHALLENGE}&code_challenge_method=plain",
                base(&confidential.client_id)
            ),
            "invalid_request",
        ),
        (
            format!(
                "{}&response_type=code&code_challenge=short&code_challenge_method=S256",
                base(&confidential.client_id)
            ),
            "invalid_request",
        ),
        (
            format!("{}&response_type=code&scope=users%3Aread&scope=users%3Aread", base(&confidential.client_id)),
            "invalid_request",
        ),
    ] {
        let response = get(&app, &format!("{endpoint}?{query}"), &cookies).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{query}: {}", response.body);
        let location = response.header("location").unwrap();
        assert!(location.starts_with(CALLBACK), "{location}");
        assert_eq!(query_param(location, "error").as_deref(), Some(error), "{query}");
        assert!(query_param(location, "error_description").is_some());
        assert_eq!(query_param(location, "state").as_deref(), Some("s1"), "{query}");
    }
    // A public client must send a challenge.
    let response = get(
        &app,
        &format!(
            "{endpoint}?response_type=code&client_id={}&redirect_uri={}&state=p",
            public.client_id,
            urlencode("http://127.0.0.1:8080/cb")
        ),
        &cookies,
    )
    .await;
    let location = response.header("location").unwrap();
    assert_eq!(query_param(location, "error").as_deref(), Some("invalid_request"));
    assert!(query_param(location, "error_description").unwrap().contains("code_challenge"));
    // Loopback: the port is ignored, the rest must match; the code goes to the port asked for.
    let response = get(&app, &format!("{endpoint}?response_type=code&client_id={}&redirect_uri={}&code_challenge={CHALLENGE}&code_challenge_method=S256", public.client_id, urlencode("http://127.0.0.1:53123/cb")), &cookies).await;
    let location = response.header("location").unwrap();
    assert!(location.starts_with("http://127.0.0.1:53123/cb?code="), "{location}");
    // Omitted redirect_uri with exactly one registered: allowed.
    let response = get(
        &app,
        &format!(
            "{endpoint}?response_type=code&client_id={}&code_challenge={CHALLENGE}&code_challenge_method=S256",
            public.client_id
        ),
        &cookies,
    )
    .await;
    assert!(response.header("location").unwrap().starts_with("http://127.0.0.1:8080/cb?code="));
    // A client_credentials application may not use this flow.
    let response = get(&app, &format!("{endpoint}?response_type=code&client_id={cc_id}&state=c"), &cookies).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "it has no redirect URI to trust: {}", response.body);
}

#[tokio::test]
async fn cancel_skip_consent_and_revoking_an_authorized_application() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let asks = backoffice_app(&app, "Asks first").await;
    let trusted = create_app(
        &app,
        AppSpec {
            name: "First party",
            side: Side::BackOffice,
            owner: Subject::User(app.admin_id),
            confidential: true,
            skip_consent: true,
            redirect_uris: vec![CALLBACK.into()],
        },
    )
    .await;
    let http = http(&app);

    // Cancel → access_denied with the state; no consent is remembered.
    let (url, state) = asks.client().authorize_url(CsrfToken::new_random).url();
    let Landing::Consent { fields, .. } = visit(&app, url.as_str(), &cookies).await else { panic!("consent expected") };
    let back = answer(&app, Side::BackOffice, &fields, "deny", &cookies).await;
    assert_eq!(query_param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&back, "state").as_deref(), Some(state.secret().as_str()));
    assert!(query_param(&back, "code").is_none());
    assert!(matches!(visit(&app, url.as_str(), &cookies).await, Landing::Consent { .. }), "asked again after Cancel");

    // A consent form without the CSRF token gives no code.
    let without: Vec<_> = fields.iter().filter(|(k, _)| k != "csrf_token").cloned().collect();
    let mut form = without.clone();
    form.push(("decision".into(), "grant".into()));
    let response =
        post_form(&app, "/admin/oauth2-token/authorize", &cookies, &serde_urlencoded::to_string(&form).unwrap()).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.header("location").is_none());

    // Skip consent: straight back with a code.
    let (url, state) = trusted.client().authorize_url(CsrfToken::new_random).url();
    let Landing::Back(back) = visit(&app, url.as_str(), &cookies).await else {
        panic!("no consent page for a skip-consent app")
    };
    assert_eq!(query_param(&back, "state").as_deref(), Some(state.secret().as_str()));
    let code = query_param(&back, "code").unwrap();
    let token = trusted.client().exchange_code(AuthorizationCode::new(code)).request_async(&http).await.unwrap();

    // Grant the other one, then both are on the Authorized applications list.
    let (url, state) = asks.client().authorize_url(CsrfToken::new_random).url();
    let code = authorize_and_grant(&app, url.as_str(), &state, Side::BackOffice, &cookies).await;
    let asks_token = asks.client().exchange_code(AuthorizationCode::new(code)).request_async(&http).await.unwrap();
    let listed = rpc_form(&app, &cookies, "authorized_applications", "side=BackOffice").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let names: Vec<String> =
        listed.json().as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["Asks first", "First party"]);
    let asks_id = listed.json()[0]["application_id"].as_i64().unwrap();

    // Revoking needs the CSRF token, then kills that grant's refresh and access tokens only.
    let csrf = csrf_of(&cookies);
    let refused = rpc_form(
        &app,
        &cookies,
        "revoke_authorization",
        &format!("side=BackOffice&application_id={asks_id}&csrf_token=nope"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let revoked = rpc_form(
        &app,
        &cookies,
        "revoke_authorization",
        &format!("side=BackOffice&application_id={asks_id}&csrf_token={csrf}"),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let refresh = asks.client().exchange_refresh_token(asks_token.refresh_token().unwrap()).request_async(&http).await;
    assert_eq!(grant_error(refresh), BasicErrorResponseType::InvalidGrant);
    assert_eq!(api_status(&app, "/api/users", asks_token.access_token().secret()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api_status(&app, "/api/users", token.access_token().secret()).await,
        StatusCode::OK,
        "the other grant lives on"
    );
    // And consent is asked again.
    assert!(matches!(visit(&app, url.as_str(), &cookies).await, Landing::Consent { .. }));
}

#[tokio::test]
async fn disabled_customers_and_inactive_applications_cannot_redeem_or_refresh() {
    let app = TestApp::new().await;
    let owner = customer(&app, "app-owner").await;
    let shopper = customer(&app, "soon-disabled").await;
    let third_party = storefront_public_app(&app, owner, "Storefront app").await;
    let client = third_party.client();
    let http = http(&app);
    let cookies = customer_login(&app, "soon-disabled").await;
    let issue = || async {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge).url();
        (authorize_and_grant(&app, url.as_str(), &state, Side::Storefront, &cookies).await, verifier)
    };
    let (code, verifier) = issue().await;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let (pending_code, pending_verifier) = issue().await;

    let mut w = app.state.db.write().await.unwrap();
    postern::store::customer_users::set_enabled(&mut w, shopper, false, postern::service::now()).await.unwrap();
    w.commit().await.unwrap();
    let refresh = client.exchange_refresh_token(token.refresh_token().unwrap()).request_async(&http).await;
    assert_eq!(grant_error(refresh), BasicErrorResponseType::InvalidGrant);
    let redeem = client
        .exchange_code(AuthorizationCode::new(pending_code))
        .set_pkce_verifier(pending_verifier)
        .request_async(&http)
        .await;
    assert_eq!(grant_error(redeem), BasicErrorResponseType::InvalidGrant);
    // The disabled customer's session is gone too.
    let response = get(&app, "/account/applications", &cookies).await;
    assert!(response.header("location").unwrap().starts_with("/login"), "signed out");

    let mut w = app.state.db.write().await.unwrap();
    postern::store::customer_users::set_enabled(&mut w, shopper, true, postern::service::now()).await.unwrap();
    w.commit().await.unwrap();
    // The application's owner disabled: it may not act any more (invalid_client).
    let mut w = app.state.db.write().await.unwrap();
    postern::store::customer_users::set_enabled(&mut w, owner, false, postern::service::now()).await.unwrap();
    w.commit().await.unwrap();
    let refresh = client.exchange_refresh_token(token.refresh_token().unwrap()).request_async(&http).await;
    assert_eq!(grant_error(refresh), BasicErrorResponseType::InvalidClient);
    let mut w = app.state.db.write().await.unwrap();
    postern::store::customer_users::set_enabled(&mut w, owner, true, postern::service::now()).await.unwrap();
    w.commit().await.unwrap();
    let id =
        postern::store::applications::find_client(&app.state.db, &third_party.client_id).await.unwrap().unwrap().id;
    let mut w = app.state.db.write().await.unwrap();
    postern::store::applications::set_active(&mut w, id, false, postern::service::now()).await.unwrap();
    w.commit().await.unwrap();
    let refresh = client.exchange_refresh_token(token.refresh_token().unwrap()).request_async(&http).await;
    match refresh {
        Err(RequestTokenError::ServerResponse(e)) => assert_eq!(e.error(), &BasicErrorResponseType::InvalidClient),
        other => panic!("an inactive application is invalid_client: {other:?}"),
    }
}

#[tokio::test]
async fn client_credentials_gets_no_refresh_token_and_refresh_needs_the_right_client() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Machine").await;
    let response =
        app.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")).await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.json().get("refresh_token").is_none());
    // A client_credentials application cannot present a refresh token at all.
    let response = app
        .token_form(&format!("grant_type=refresh_token&refresh_token=abc&client_id={id}&client_secret={secret}"))
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.json()["error"], "unauthorized_client");

    // A refresh token presented by another client is invalid_grant, and is not spent by it.
    let third_party = backoffice_app(&app, "Owner of the token").await;
    let other = backoffice_app(&app, "Not the owner").await;
    let cookies = login(&app).await;
    let (url, state) = third_party.client().authorize_url(CsrfToken::new_random).url();
    let code = authorize_and_grant(&app, url.as_str(), &state, Side::BackOffice, &cookies).await;
    let http = http(&app);
    let token = third_party.client().exchange_code(AuthorizationCode::new(code)).request_async(&http).await.unwrap();
    let refresh: &RefreshToken = token.refresh_token().unwrap();
    let stolen = other.client().exchange_refresh_token(refresh).request_async(&http).await;
    assert_eq!(grant_error(stolen), BasicErrorResponseType::InvalidGrant);
    // Wider scope than granted: invalid_scope.
    let wider = third_party
        .client()
        .exchange_refresh_token(refresh)
        .add_scope(Scope::new("profile".into()))
        .request_async(&http)
        .await;
    assert_eq!(grant_error(wider), BasicErrorResponseType::InvalidScope);
    third_party.client().exchange_refresh_token(refresh).request_async(&http).await.unwrap();
}

#[tokio::test]
async fn storefront_login_failures_look_the_same_and_the_page_works_without_javascript() {
    let app = TestApp::new().await;
    customer(&app, "real-customer").await;
    let page = app.get("/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("action=\"/login\""), "a plain form: {}", page.body);
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self' 'nonce-"), "{policy}");
    let csrf = page.set_cookie("postern_csrf").unwrap().split(';').next().unwrap().to_owned();
    let token = csrf_field(&page.body);
    let mut locations = Vec::new();
    for username in ["real-customer", "nobody-here"] {
        let response = post_form(
            &app,
            "/login",
            &csrf,
            &format!("username={username}&password=wrong-password&csrf_token={token}"),
        )
        .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER);
        assert!(response.set_cookie("postern_customer_session").is_none());
        locations.push(response.header("location").unwrap().to_owned());
    }
    assert_eq!(locations[0], locations[1], "the answer does not tell whether the account exists");
    // Back-office users cannot sign in to the storefront, and customers not to the back office.
    let response = post_form(
        &app,
        "/login",
        &csrf,
        &format!("username=admin&password={}&csrf_token={token}", urlencode(ADMIN_PASSWORD)),
    )
    .await;
    assert!(response.set_cookie("postern_customer_session").is_none());
    let response = post_form(
        &app,
        "/admin/login",
        &csrf,
        &format!("username=real-customer&password={}&csrf_token={token}", urlencode(CUSTOMER_PASSWORD)),
    )
    .await;
    assert!(response.set_cookie("postern_session").is_none());
}
