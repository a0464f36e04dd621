//! Organizations are walls, and no role lends more authority than it has
//! (SECURITY.md, "Isolation model"): who may authorize which application,
//! what a token reaches when its person's memberships change, who may let
//! an application skip consent or act as someone else, what revocation
//! revokes, what every authorization response carries, and which privilege
//! changes the audit log records. Each test fails on the code before the
//! fix it guards.

use crate::harness::browser::{csrf_of, get, hidden_fields, login, login_as, urlencode};
use crate::harness::oauth::{
    answer, create_app, grant_error, http, query_param, visit, App, AppSpec, Landing, CALLBACK,
};
use crate::harness::rpc::{id_of, rpc_form, rpc_json};
use crate::harness::{TestApp, ADMIN_PASSWORD};
use axum::http::StatusCode;
use oauth2::basic::BasicErrorResponseType;
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, RefreshToken, Scope, TokenResponse};
use postern::model::Side;
use postern::model::Subject;
use postern::store::roles;
use serde_json::{json, Value};

const BACKOFFICE_ISSUER: &str = "http://postern.test/admin";

/// A public back-office application of the organization "Default", owned by the admin.
async fn default_public_app(app: &TestApp, name: &str) -> App {
    create_app(
        app,
        AppSpec {
            name,
            side: Side::BackOffice,
            owner: Subject::User(app.admin_id),
            confidential: false,
            skip_consent: false,
            redirect_uris: vec![CALLBACK.into()],
        },
    )
    .await
}

fn user_form(csrf: &str, id: i64, username: &str, organization_ids: Vec<i64>) -> Value {
    json!({ "form": {
        "csrf_token": csrf, "id": id, "username": username, "email": format!("{username}@example.com"),
        "password": "", "role_id": roles::DEVELOPER, "language": "en", "organization_ids": organization_ids, "enabled": true
    } })
}

/// Moves `user_id` out of "Default" into a new organization the admin creates
/// (through the back office, as an administrator would).
async fn move_out_of_default(app: &TestApp, admin_cookies: &str, user_id: i64, username: &str, new_org: &str) {
    let csrf = csrf_of(admin_cookies);
    let created =
        rpc_form(app, admin_cookies, "create_organization", &format!("csrf_token={csrf}&name={new_org}")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let org = postern::store::organizations::find_by_name(&app.state.db, new_org).await.unwrap().unwrap().id;
    let saved = rpc_json(app, admin_cookies, "save_user", user_form(&csrf, user_id, username, vec![org])).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
}

#[tokio::test]
async fn a_person_of_another_organization_cannot_authorize_its_application_nor_read_it() {
    let app = TestApp::new().await;
    let public = default_public_app(&app, "Directory browser").await;
    // Bob's only organization is "Elsewhere".
    app.create_user("bob", Some(roles::DEVELOPER), "Elsewhere").await;
    let bob = login_as(&app, "bob", ADMIN_PASSWORD).await;

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _state) = public
        .client()
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("users:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    // Before the fix: the consent page, Grant, a code, a token, and
    // GET /api/users listed the users of "Default" to Bob.
    let back = match visit(&app, url.as_str(), &bob).await {
        Landing::Back(location) => location,
        Landing::Consent { fields, .. } => {
            let location = answer(&app, Side::BackOffice, &fields, "grant", &bob).await;
            if let Some(code) = query_param(&location, "code") {
                let token = public
                    .client()
                    .exchange_code(AuthorizationCode::new(code))
                    .set_pkce_verifier(verifier)
                    .request_async(&http(&app))
                    .await
                    .unwrap();
                let read = app.api("/api/users", token.access_token().secret()).await;
                panic!("Bob of Elsewhere authorized a Default application and read: {} {}", read.status, read.body);
            }
            location
        }
    };
    assert_eq!(query_param(&back, "error").as_deref(), Some("access_denied"), "{back}");
    assert!(query_param(&back, "error_description").unwrap().contains("organization"), "{back}");
    assert_eq!(query_param(&back, "iss").as_deref(), Some(BACKOFFICE_ISSUER));
    assert!(query_param(&back, "code").is_none());
    let codes: (i64,) = sql!(app.state.db, |c| sqlx::query_as("SELECT COUNT(*) FROM oauth_authorization_codes")
        .fetch_one(&mut *c)
        .await?);
    assert_eq!(codes.0, 0, "no code was issued to Bob");
}

#[tokio::test]
async fn leaving_the_organization_stops_codes_refresh_tokens_and_access_tokens_at_once() {
    let app = TestApp::new().await;
    let admin = login(&app).await;
    let public = default_public_app(&app, "Team dashboard").await;
    let carol_id = app.create_user("carol", Some(roles::DEVELOPER), "Default").await;
    let carol = login_as(&app, "carol", ADMIN_PASSWORD).await;
    let client = public.client();
    let http = http(&app);

    // A full grant while Carol belongs to Default, and a second code not redeemed yet.
    let mut codes = Vec::new();
    let mut verifiers = Vec::new();
    for _ in 0..2 {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _) = client
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("users:read".into()))
            .set_pkce_challenge(challenge)
            .url();
        let back = match visit(&app, url.as_str(), &carol).await {
            Landing::Consent { fields, .. } => answer(&app, Side::BackOffice, &fields, "grant", &carol).await,
            Landing::Back(location) => location,
        };
        codes.push(query_param(&back, "code").unwrap_or_else(|| panic!("a code: {back}")));
        verifiers.push(verifier);
    }
    let token = client
        .exchange_code(AuthorizationCode::new(codes.remove(0)))
        .set_pkce_verifier(verifiers.remove(0))
        .request_async(&http)
        .await
        .unwrap();
    let access = token.access_token().secret().clone();
    assert_eq!(app.api("/api/users", &access).await.status, StatusCode::OK);

    // A client_credentials application of Dave, also of Default.
    let dave_id = app.create_user("dave", Some(roles::DEVELOPER), "Default").await;
    let (dave_client, dave_secret) = app.create_app_for(dave_id, app.organization_id, "Dave's sync").await;
    let cc = format!("grant_type=client_credentials&client_id={dave_client}&client_secret={dave_secret}");
    let dave_token = app.token_form(&cc).await.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.api("/api/users", &dave_token).await.status, StatusCode::OK);

    move_out_of_default(&app, &admin, carol_id, "carol", "CarolTeam").await;
    move_out_of_default(&app, &admin, dave_id, "dave", "DaveTeam").await;

    let refused = app.api("/api/users", &access).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "the access token stops at once: {}", refused.body);
    assert!(refused.header("www-authenticate").unwrap().contains("invalid_token"));
    let refresh = client
        .exchange_refresh_token(&RefreshToken::new(token.refresh_token().unwrap().secret().clone()))
        .request_async(&http)
        .await;
    assert_eq!(grant_error(refresh), BasicErrorResponseType::InvalidGrant, "the refresh token stops");
    let late = client
        .exchange_code(AuthorizationCode::new(codes.remove(0)))
        .set_pkce_verifier(verifiers.remove(0))
        .request_async(&http)
        .await;
    assert_eq!(grant_error(late), BasicErrorResponseType::InvalidGrant, "a code issued before stops");

    assert_eq!(app.api("/api/users", &dave_token).await.status, StatusCode::UNAUTHORIZED, "the owner's token stops");
    let denied = app.token_form(&cc).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED, "{}", denied.body);
    assert_eq!(denied.json()["error"], "invalid_client");
}

#[tokio::test]
async fn the_consent_page_says_exactly_what_the_application_will_read() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let public = default_public_app(&app, "Reader").await;
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = public
        .client()
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("users:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let Landing::Consent { page, .. } = visit(&app, url.as_str(), &cookies).await else { panic!("consent expected") };
    assert!(
        page.body.contains("Read the users of Default as you can see them: user names, email addresses"),
        "{}",
        page.body
    );
    assert!(page.body.contains("only while you belong to it"), "{}", page.body);
}

#[tokio::test]
async fn only_administrators_let_applications_skip_consent_and_never_public_ones_by_default() {
    let app = TestApp::new().await;
    app.create_user("dev", Some(roles::DEVELOPER), "Default").await;
    let dev = login_as(&app, "dev", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&dev);
    let new = |csrf: &str, scope: &str, confidential: bool, skip: bool, owner: Option<i64>| {
        json!({ "form": {
            "csrf_token": csrf, "scope": scope, "organization_id": null, "owner_id": owner, "name": format!("App {scope} {confidential} {skip} {owner:?}"),
            "active": true, "grant_type": "authorization_code", "redirect_uris": CALLBACK, "confidential": confidential, "skip_consent": skip
        } })
    };
    let refused = rpc_json(&app, &dev, "create_application", new(&csrf, "Mine", true, true, None)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.json()["Invalid"]["field"], "skip_consent");
    let created = rpc_json(&app, &dev, "create_application", new(&csrf, "Mine", true, false, None)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = id_of(&app, created.json()["client_id"].as_str().unwrap()).await;
    let edit = json!({ "form": { "csrf_token": csrf, "id": id, "name": "Mine now", "active": true, "redirect_uris": CALLBACK, "skip_consent": true } });
    let refused = rpc_json(&app, &dev, "update_application", edit).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.json()["Invalid"]["field"], "skip_consent");

    // An administrator: a confidential client may skip, a public one may not.
    let admin = login(&app).await;
    let csrf = csrf_of(&admin);
    assert_eq!(
        rpc_json(&app, &admin, "create_application", new(&csrf, "BackOffice", true, true, None)).await.status,
        StatusCode::OK
    );
    let refused = rpc_json(&app, &admin, "create_application", new(&csrf, "BackOffice", false, true, None)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.json()["Invalid"]["field"], "skip_consent");
    // The command line goes through the same rule.
    let cli = postern::service::applications::create(
        &app.state,
        postern::service::applications::NewApplicationInput {
            organization_id: app.organization_id,
            name: "CLI public".into(),
            active: true,
            grant_type: postern::oauth::grant::GrantType::AuthorizationCode,
            side: Side::BackOffice,
            owner: Some(Subject::User(app.admin_id)),
            confidential: false,
            skip_consent: true,
            redirect_uris: vec![CALLBACK.into()],
            post_logout_redirect_uris: vec![],
        },
    )
    .await;
    assert!(matches!(cli, Err(postern::service::ServiceError::Invalid { field: "skip_consent", .. })), "{cli:?}");

    // Unless the configuration allows it.
    let allowing = TestApp::with_config(|c| c.tokens.public_clients_may_skip_consent = true).await;
    let admin = login(&allowing).await;
    let csrf = csrf_of(&admin);
    let ok = rpc_json(&allowing, &admin, "create_application", new(&csrf, "BackOffice", false, true, None)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[tokio::test]
async fn nobody_makes_an_application_act_as_someone_with_more_authority() {
    let app = TestApp::new().await;
    let manager_id = app.create_user("manager", Some(2), "Default").await;
    let manager = login_as(&app, "manager", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&manager);
    let form = |owner: i64, name: &str| {
        json!({ "form": {
            "csrf_token": csrf, "scope": "BackOffice", "organization_id": null, "owner_id": owner, "name": name,
            "active": true, "grant_type": "client_credentials", "redirect_uris": "", "confidential": true, "skip_consent": false
        } })
    };
    let refused = rpc_json(&app, &manager, "create_application", form(app.admin_id, "Acts as admin")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.json()["Invalid"]["field"], "owner_id");
    let ok = rpc_json(&app, &manager, "create_application", form(manager_id, "Acts as me")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // The admin's own application: visible and editable by the manager, but
    // a new secret would be a way to get tokens that act as the admin.
    let (client_id, secret) = app.create_app("Admin's sync").await;
    let id = id_of(&app, &client_id).await;
    let refused =
        rpc_form(&app, &manager, "regenerate_application_secret", &format!("csrf_token={csrf}&id={id}")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let still =
        app.token_form(&format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}")).await;
    assert_eq!(still.status, StatusCode::OK, "the secret is unchanged");
}

#[tokio::test]
async fn administrators_reach_only_into_organizations_they_administer() {
    let app = TestApp::new().await;
    // An organization administrator: a role with the administrator flag,
    // not the built-in Administrator; their only organization is Default.
    let org_admin_role = postern::store::roles::insert(
        &app.state.db,
        &postern::store::roles::RoleFields {
            name: "Organization administrator".into(),
            description: String::new(),
            administrator: true,
            app_view: postern::permissions::Level::Organization,
            app_create: postern::permissions::Level::Organization,
            app_edit: postern::permissions::Level::Organization,
            app_delete: postern::permissions::Level::Organization,
        },
        0,
    )
    .await
    .unwrap();
    app.create_user("orgadmin", Some(org_admin_role), "Default").await;
    let admin = login_as(&app, "orgadmin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&admin);
    // Eve belongs to Default and to Other.
    let eve = app.create_user("eve", Some(roles::DEVELOPER), "Other").await;
    let mut w = app.state.db.write().await.unwrap();
    postern::store::organizations::add_member(&mut w, app.organization_id, eve).await.unwrap();
    w.commit().await.unwrap();
    let mut change = user_form(&csrf, eve, "eve", vec![app.organization_id]);
    change["form"]["email"] = json!("eve@attacker.example");
    let refused = rpc_json(&app, &admin, "save_user", change).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("do not administer"), "{}", refused.body);
    let stored = postern::store::users::find(&app.state.db, eve).await.unwrap().unwrap();
    assert_eq!(stored.email, "eve@example.com", "nothing changed");

    // A role held in Other is not theirs to change; installation-wide objects neither.
    let role = json!({ "form": { "csrf_token": csrf, "id": roles::DEVELOPER, "name": "Developer", "description": "", "administrator": true,
        "view": "Organization", "create": "Organization", "edit": "Organization", "delete": "Organization" } });
    let refused = rpc_json(&app, &admin, "save_role", role.clone()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(!postern::store::roles::find(&app.state.db, roles::DEVELOPER).await.unwrap().unwrap().administrator);
    let audit = rpc_json(&app, &admin, "audit_log", json!({ "query": { "page": 1 } })).await;
    assert_eq!(audit.status, StatusCode::FORBIDDEN, "{}", audit.body);
    assert_eq!(rpc_form(&app, &admin, "outbox", "page=1").await.status, StatusCode::FORBIDDEN);
    let email = json!({ "form": { "csrf_token": csrf, "language": "en", "subject": "Hi", "body": "Hello {{username}}", "override_recipient": "me@attacker.example" } });
    assert_eq!(rpc_json(&app, &admin, "save_email_configuration", email).await.status, StatusCode::FORBIDDEN);

    // The installation's administrator (built-in role) reaches all of it,
    // though their own memberships are only Default.
    let root = login(&app).await;
    let audit = rpc_json(&app, &root, "audit_log", json!({ "query": { "page": 1 } })).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let mut change = user_form(&csrf_of(&root), eve, "eve", vec![app.organization_id]);
    change["form"]["email"] = json!("eve@new.example");
    assert_eq!(rpc_json(&app, &root, "save_user", change).await.status, StatusCode::OK);
    let memberships = postern::store::organizations::of_user(&app.state.db, eve).await.unwrap();
    assert_eq!(memberships.len(), 2, "her membership in Other is kept");
}

#[tokio::test]
async fn revoking_an_authorization_voids_its_unredeemed_codes() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let public = default_public_app(&app, "Slow app").await;
    let client = public.client();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("users:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let Landing::Consent { fields, .. } = visit(&app, url.as_str(), &cookies).await else { panic!("consent expected") };
    let back = answer(&app, Side::BackOffice, &fields, "grant", &cookies).await;
    let code = query_param(&back, "code").unwrap();

    let id = id_of(&app, &public.client_id).await;
    let csrf = csrf_of(&cookies);
    let revoked = rpc_form(
        &app,
        &cookies,
        "revoke_authorization",
        &format!("side=BackOffice&application_id={id}&csrf_token={csrf}"),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let late =
        client.exchange_code(AuthorizationCode::new(code)).set_pkce_verifier(verifier).request_async(&http(&app)).await;
    assert_eq!(
        grant_error(late),
        BasicErrorResponseType::InvalidGrant,
        "the code in flight died with the authorization"
    );
}

#[tokio::test]
async fn a_new_client_secret_revokes_what_the_old_one_obtained() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let (token, client_id) = app.access_token("Leaky").await;
    assert_eq!(app.api("/api/users", &token).await.status, StatusCode::OK);
    let id = id_of(&app, &client_id).await;
    let regenerated =
        rpc_form(&app, &cookies, "regenerate_application_secret", &format!("csrf_token={}&id={id}", csrf_of(&cookies)))
            .await;
    assert_eq!(regenerated.status, StatusCode::OK, "{}", regenerated.body);
    assert_eq!(
        app.api("/api/users", &token).await.status,
        StatusCode::UNAUTHORIZED,
        "the old secret's token is revoked"
    );
}

#[tokio::test]
async fn a_new_password_or_a_disabled_account_ends_every_session() {
    let app = TestApp::new().await;
    let admin = login(&app).await;
    let csrf = csrf_of(&admin);
    let ann = app.create_user("ann", Some(roles::DEVELOPER), "Default").await;
    let signed_in = |cookies: String| {
        let app = &app;
        async move { get(app, "/admin", &cookies).await.status == StatusCode::OK }
    };
    let session = login_as(&app, "ann", ADMIN_PASSWORD).await;
    assert!(signed_in(session.clone()).await);
    let mut reset = user_form(&csrf, ann, "ann", vec![app.organization_id]);
    reset["form"]["password"] = json!("a brand new password");
    assert_eq!(rpc_json(&app, &admin, "save_user", reset).await.status, StatusCode::OK);
    assert!(!signed_in(session).await, "the session opened with the old password has ended");

    let session = login_as(&app, "ann", "a brand new password").await;
    assert!(signed_in(session.clone()).await);
    let mut disable = user_form(&csrf, ann, "ann", vec![app.organization_id]);
    disable["form"]["enabled"] = json!(false);
    assert_eq!(rpc_json(&app, &admin, "save_user", disable).await.status, StatusCode::OK);
    let mut enable = user_form(&csrf, ann, "ann", vec![app.organization_id]);
    enable["form"]["enabled"] = json!(true);
    assert_eq!(rpc_json(&app, &admin, "save_user", enable).await.status, StatusCode::OK);
    assert!(!signed_in(session).await, "re-enabling does not bring the old session back");
}

#[tokio::test]
async fn every_authorization_response_names_its_issuer_and_anonymous_errors_stay_here() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let public = default_public_app(&app, "Native tool").await;
    let endpoint = "/admin/oauth2-token/authorize";
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let base = format!(
        "client_id={}&redirect_uri={}&state=s1&code_challenge={}&code_challenge_method=S256",
        public.client_id,
        urlencode(CALLBACK),
        challenge.as_str()
    );

    // An error after sign-in goes back to the application, with iss.
    let response = get(&app, &format!("{endpoint}?{base}&response_type=code&scope=storefront:orders"), &cookies).await;
    let location = response.header("location").unwrap();
    assert_eq!(query_param(location, "error").as_deref(), Some("invalid_scope"));
    assert_eq!(query_param(location, "iss").as_deref(), Some(BACKOFFICE_ISSUER), "{location}");

    // Before anyone signed in, the same error is a page: no redirect for
    // strangers to bounce visitors through (RFC 9700 §4.11.2).
    let response = get(&app, &format!("{endpoint}?{base}&response_type=code&scope=storefront:orders"), "").await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "{}", response.body);
    assert!(response.header("location").is_none());

    // Cancel carries iss too.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let client = public.client();
    let (url, _) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("users:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let Landing::Consent { fields, .. } = visit(&app, url.as_str(), &cookies).await else { panic!("consent expected") };
    let cancelled = answer(&app, Side::BackOffice, &fields, "deny", &cookies).await;
    assert_eq!(query_param(&cancelled, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&cancelled, "iss").as_deref(), Some(BACKOFFICE_ISSUER));
}

#[tokio::test]
async fn a_public_client_on_a_loopback_redirect_is_asked_again() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let loopback = "http://127.0.0.1/callback";
    let native = create_app(
        &app,
        AppSpec {
            name: "CLI tool",
            side: Side::BackOffice,
            owner: Subject::User(app.admin_id),
            confidential: false,
            skip_consent: false,
            redirect_uris: vec![loopback.into()],
        },
    )
    .await;
    let url = |challenge: &str| {
        format!(
            "/admin/oauth2-token/authorize?response_type=code&client_id={}&redirect_uri={}&scope=users%3Aread&code_challenge={challenge}&code_challenge_method=S256",
            native.client_id,
            urlencode("http://127.0.0.1:40123/callback")
        )
    };
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let first = get(&app, &url(challenge.as_str()), &cookies).await;
    let consent = first.header("location").unwrap().to_owned();
    assert!(consent.contains("/oauth2-token/consent?"), "{consent}");
    let page = get(&app, &consent, &cookies).await;
    let fields = hidden_fields(&page.body);
    let back = answer(&app, Side::BackOffice, &fields, "grant", &cookies).await;
    assert!(back.starts_with("http://127.0.0.1:40123/callback?code="), "{back}");

    // Remembered consent, yet any program on the device could be asking: ask again (RFC 8252 §8.6).
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let again = get(&app, &url(challenge.as_str()), &cookies).await;
    assert!(again.header("location").unwrap().contains("/oauth2-token/consent?"), "{:?}", again.header("location"));
}

#[tokio::test]
async fn privilege_changes_are_audited() {
    let app = TestApp::new().await;
    let admin = login(&app).await;
    let csrf = csrf_of(&admin);
    let role = json!({ "form": { "csrf_token": csrf, "id": null, "name": "Auditor", "description": "", "administrator": false,
        "view": "Organization", "create": "None", "edit": "None", "delete": "None" } });
    assert_eq!(rpc_json(&app, &admin, "save_role", role).await.status, StatusCode::OK);
    let auditor: (i64,) = sql!(app.state.db, |c| sqlx::query_as("SELECT id FROM roles WHERE name = 'Auditor'")
        .fetch_one(&mut *c)
        .await?);
    let promote = json!({ "form": { "csrf_token": csrf, "id": auditor.0, "name": "Auditor", "description": "", "administrator": true,
        "view": "Organization", "create": "None", "edit": "None", "delete": "None" } });
    assert_eq!(rpc_json(&app, &admin, "save_role", promote).await.status, StatusCode::OK);
    assert_eq!(
        rpc_form(&app, &admin, "create_organization", &format!("csrf_token={csrf}&name=Branch")).await.status,
        StatusCode::OK
    );
    let branch = postern::store::organizations::find_by_name(&app.state.db, "Branch").await.unwrap().unwrap().id;
    let frank = app.create_user("frank", Some(roles::DEVELOPER), "Default").await;
    assert_eq!(
        rpc_json(&app, &admin, "save_user", user_form(&csrf, frank, "frank", vec![app.organization_id, branch]))
            .await
            .status,
        StatusCode::OK
    );
    let email = json!({ "form": { "csrf_token": csrf, "language": "en", "subject": "New application", "body": "Hello {{username}}",
        "override_recipient": "security@example.com" } });
    let saved = rpc_json(&app, &admin, "save_email_configuration", email).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let entries: Vec<(String, String)> =
        sql!(app.state.db, |c| sqlx::query_as("SELECT event, detail FROM audit_log WHERE user_id = $1 ORDER BY id")
            .bind(app.admin_id)
            .fetch_all(&mut *c)
            .await?);
    let find = |event: &str| entries.iter().filter(|(e, _)| e == event).map(|(_, d)| d.clone()).collect::<Vec<_>>();
    assert!(find("role.created").iter().any(|d| d.contains("\"Auditor\": administrator no")), "{entries:?}");
    assert!(
        find("role.updated")
            .iter()
            .any(|d| d.contains("administrator no") && d.contains("→ \"Auditor\": administrator yes")),
        "{entries:?}"
    );
    assert!(find("organization.created").iter().any(|d| d.contains("\"Branch\"")), "{entries:?}");
    assert!(find("user.updated").iter().any(|d| d.contains("organizations Default → Branch, Default")), "{entries:?}");
    assert!(
        find("settings.updated")
            .iter()
            .any(|d| d.contains("override recipient none (each owner) → \"security@example.com\"")),
        "{entries:?}"
    );
}
