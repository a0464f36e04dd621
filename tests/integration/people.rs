//! User Management and customers through their server functions:
//! administrators only, bad input answered beside the field, nothing
//! half-written, and no way to lock every administrator out.

use crate::harness::browser::{csrf_of, login, login_as};
use crate::harness::rpc::{rpc_form, rpc_json};
use crate::harness::{TestApp, ADMIN_PASSWORD};
use axum::http::StatusCode;
use postern::store::roles;
use serde_json::{json, Value};

fn user_form(csrf: &str, id: Option<i64>, username: &str, organization_ids: Vec<i64>) -> Value {
    json!({ "form": {
        "csrf_token": csrf, "id": id, "username": username, "email": format!("{username}@example.com"),
        "password": if id.is_some() { "" } else { "a-good-password" }, "role_id": roles::DEVELOPER, "language": "en",
        "organization_ids": organization_ids, "enabled": true
    } })
}

async fn users(app: &TestApp) -> i64 {
    sql!(app.state.db, |c| sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM users").fetch_one(&mut *c).await?).0
}

fn field(response: &crate::harness::Response) -> String {
    response.json()["Invalid"]["field"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn administrators_create_and_edit_users_and_bad_input_changes_nothing() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    let org = app.organization_id;
    let foreign = postern::store::organizations::insert(&app.state.db, "Not mine", 0).await.unwrap();

    let created = rpc_json(&app, &cookies, "save_user", user_form(&csrf, None, "ann", vec![org])).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let before = users(&app).await;
    let mut weak = user_form(&csrf, None, "bob", vec![org]);
    weak["form"]["password"] = json!("short");
    let mut bad_email = user_form(&csrf, None, "bob", vec![org]);
    bad_email["form"]["email"] = json!("bob@");
    let mut bad_role = user_form(&csrf, None, "bob", vec![org]);
    bad_role["form"]["role_id"] = json!(999);
    for (body, expected) in [
        (user_form(&csrf, None, "ANN", vec![org]), "username"),
        (user_form(&csrf, None, "", vec![org]), "username"),
        (user_form(&csrf, None, &"b".repeat(256), vec![org]), "username"),
        (user_form(&csrf, None, "bob", vec![]), "organization_ids"),
        (user_form(&csrf, None, "bob", vec![foreign]), "organization_ids"),
        (weak, "password"),
        (bad_email, "email"),
        (bad_role, "role_id"),
    ] {
        let response = rpc_json(&app, &cookies, "save_user", body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
        assert_eq!(field(&response), expected, "{}", response.body);
    }
    assert_eq!(users(&app).await, before, "nothing was stored");

    // The new user logs in; disabling them ends that.
    let ann = postern::store::users::find_by_username(&app.state.db, "ann").await.unwrap().unwrap();
    assert_eq!(ann.role.as_deref(), Some("Developer"));
    let mut disable = user_form(&csrf, Some(ann.id), "ann", vec![org]);
    disable["form"]["enabled"] = json!(false);
    assert_eq!(rpc_json(&app, &cookies, "save_user", disable).await.status, StatusCode::OK);
    assert!(!postern::store::users::find(&app.state.db, ann.id).await.unwrap().unwrap().enabled);

    // The last enabled administrator cannot be disabled or demoted, even by themselves.
    let mut demote = user_form(&csrf, Some(app.admin_id), "admin", vec![org]);
    demote["form"]["role_id"] = json!(roles::DEVELOPER);
    let refused = rpc_json(&app, &cookies, "save_user", demote).await;
    assert_eq!(
        (refused.status, field(&refused)),
        (StatusCode::UNPROCESSABLE_ENTITY, "role_id".into()),
        "{}",
        refused.body
    );
    let admin = postern::store::users::find(&app.state.db, app.admin_id).await.unwrap().unwrap();
    assert!(admin.is_admin && admin.enabled, "the refused edit changed nothing");

    // A user the administrator shares no organization with is not theirs to edit.
    let stranger = app.create_user("stranger", Some(roles::DEVELOPER), "Not mine").await;
    let response = rpc_json(&app, &cookies, "save_user", user_form(&csrf, Some(stranger), "stranger", vec![org])).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let listed = rpc_form(&app, &cookies, "users", "").await.json();
    let names: Vec<&str> =
        listed["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "ann"]);
}

#[tokio::test]
async fn only_administrators_reach_user_management() {
    let app = TestApp::new().await;
    app.create_user("manager", Some(2), "Default").await;
    let cookies = login_as(&app, "manager", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&cookies);
    for endpoint in ["users", "roles", "organizations", "customer_users", "outbox"] {
        let response = rpc_form(&app, &cookies, endpoint, "page=1").await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{endpoint}: {}", response.body);
    }
    let before = users(&app).await;
    let response =
        rpc_json(&app, &cookies, "save_user", user_form(&csrf, None, "mallory", vec![app.organization_id])).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(users(&app).await, before);
    let response = rpc_form(&app, &cookies, "create_organization", &format!("csrf_token={csrf}&name=Mine")).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn roles_are_validated_and_protected() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    let role = |id: Option<i64>, name: &str, administrator: bool| {
        json!({ "form": { "csrf_token": csrf, "id": id, "name": name, "description": "", "administrator": administrator,
            "view": "Organization", "create": "None", "edit": "None", "delete": "None" } })
    };
    let created = rpc_json(&app, &cookies, "save_role", role(None, "Auditor", false)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    for (body, expected) in [
        (role(None, "viewer", false), "name"),
        (role(None, "", false), "name"),
        (role(Some(roles::ADMINISTRATOR), "Boss", false), "name"),
    ] {
        let response = rpc_json(&app, &cookies, "save_role", body).await;
        assert_eq!(
            (response.status, field(&response)),
            (StatusCode::UNPROCESSABLE_ENTITY, expected.into()),
            "{}",
            response.body
        );
    }
    let all = rpc_form(&app, &cookies, "roles", "").await.json();
    let auditor = all.as_array().unwrap().iter().find(|r| r["name"] == "Auditor").unwrap()["id"].as_i64().unwrap();
    assert_eq!(
        all.as_array().unwrap().iter().find(|r| r["id"] == roles::ADMINISTRATOR).unwrap()["name"],
        "Administrator"
    );

    // In use → refused; unused → deleted; the built-in Administrator never.
    app.create_user("aud", Some(auditor), "Default").await;
    let response = rpc_form(&app, &cookies, "delete_role", &format!("csrf_token={csrf}&id={auditor}")).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("1 user(s) have this role"), "{}", response.body);
    let response =
        rpc_form(&app, &cookies, "delete_role", &format!("csrf_token={csrf}&id={}", roles::ADMINISTRATOR)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let response = rpc_form(&app, &cookies, "delete_role", &format!("csrf_token={csrf}&id=4")).await;
    assert_eq!(response.status, StatusCode::OK, "the unused Viewer role can go: {}", response.body);
}

#[tokio::test]
async fn organizations_and_customer_users() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    let ok = rpc_form(&app, &cookies, "create_organization", &format!("csrf_token={csrf}&name=Acme")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    for name in ["Acme", "", "%20%20"] {
        let response = rpc_form(&app, &cookies, "create_organization", &format!("csrf_token={csrf}&name={name}")).await;
        assert_eq!((response.status, field(&response)), (StatusCode::UNPROCESSABLE_ENTITY, "name".into()), "{name:?}");
    }
    let orgs = rpc_form(&app, &cookies, "organizations", "").await.json();
    assert_eq!(orgs.as_array().unwrap().len(), 2, "the creator joined Acme: {orgs}");

    let customer = |org: Option<i64>, username: &str| {
        json!({ "form": { "csrf_token": csrf, "organization_id": org, "username": username, "email": format!("{username}@shop.example"),
            "password": "shopper-password", "language": "fr" } })
    };
    let ok = rpc_json(&app, &cookies, "create_customer_user", customer(Some(app.organization_id), "shopper")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    for (body, expected) in [
        (customer(Some(app.organization_id), "SHOPPER"), "username"),
        (customer(None, "other"), "organization_id"),
        (customer(Some(9999), "other"), "organization_id"),
    ] {
        let response = rpc_json(&app, &cookies, "create_customer_user", body).await;
        assert_eq!(
            (response.status, field(&response)),
            (StatusCode::UNPROCESSABLE_ENTITY, expected.into()),
            "{}",
            response.body
        );
    }
    let page = rpc_form(&app, &cookies, "customer_users", "").await.json();
    assert_eq!(page["customers"].as_array().unwrap().len(), 1);
    let id = page["customers"][0]["id"].as_i64().unwrap();

    // A storefront application acting for the customer works until the customer is disabled.
    let form = json!({ "form": {
        "csrf_token": csrf, "scope": "Storefront", "organization_id": app.organization_id, "owner_id": id, "name": "Shop sync",
        "active": true, "grant_type": "client_credentials", "redirect_uris": "", "confidential": true, "skip_consent": false
    } });
    let created = rpc_json(&app, &cookies, "create_application", form).await.json();
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap()
    );
    let token = app.token_form(&body).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    assert_eq!(
        crate::harness::claims(token.json()["access_token"].as_str().unwrap())["aud"],
        "http://postern.test/storefront/api"
    );
    let off =
        rpc_form(&app, &cookies, "set_customer_user_enabled", &format!("csrf_token={csrf}&id={id}&enabled=false"))
            .await;
    assert_eq!(off.status, StatusCode::OK);
    assert_eq!(app.token_form(&body).await.status, StatusCode::UNAUTHORIZED);
    // The email went to the customer, in their language's template (French falls back to English).
    let (recipient,): (String,) =
        sql!(app.state.db, |c| sqlx::query_as("SELECT recipient FROM email_outbox ORDER BY id DESC LIMIT 1")
            .fetch_one(&mut *c)
            .await?);
    assert_eq!(recipient, "shopper@shop.example");
}

#[tokio::test]
async fn applications_pages_warn_about_missing_or_exposed_keys() {
    let app = TestApp::without_keys().await;
    let cookies = login(&app).await;
    for scope in ["Mine", "BackOffice", "Storefront"] {
        let meta = rpc_form(&app, &cookies, "application_grid", &format!("scope={scope}")).await.json();
        assert_eq!(
            meta["keys"]["missing_warning"],
            "OAuth authorization is not available as encryption keys configuration was not complete. Please contact your administrator."
        );
    }

    // A private key readable by others gets its own warning.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = (dir.path().join("private.key"), dir.path().join("public.key"));
    let paths = postern::config::KeysConfig {
        private_key: private.clone(),
        public_key: public.clone(),
        retired_dir: None,
        ..Default::default()
    };
    postern::keys::generate(&paths, false, Default::default()).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644)).unwrap();
    let app = TestApp::with_config(|c| {
        c.keys.private_key = private.clone();
        c.keys.public_key = public.clone();
    })
    .await;
    let cookies = login(&app).await;
    let meta = rpc_form(&app, &cookies, "application_grid", "scope=Mine").await.json();
    assert!(meta["keys"]["missing_warning"].is_null());
    assert!(meta["keys"]["exposed_warning"].as_str().unwrap().contains("can be read by other users"), "{meta}");
}

/// A person's id is an ID token's `sub`, never given to someone else
/// (OpenID Connect Core §2): with the newest user or customer user gone,
/// the next one gets a new id, not theirs (SQLite would reuse it by
/// itself; PostgreSQL's identity columns do not).
#[tokio::test]
async fn a_deleted_persons_id_is_never_given_again() {
    let app = TestApp::new().await;
    app.create_user("first", Some(roles::DEVELOPER), "Default").await;
    let newest = app.create_user("second", Some(roles::DEVELOPER), "Default").await;
    sql!(app.state.db, |c| sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(newest)
        .execute(&mut *c)
        .await?
        .rows_affected());
    let next = app.create_user("third", Some(roles::DEVELOPER), "Default").await;
    assert!(next > newest, "user {next} was given after user {newest} was deleted");

    let customer = |username: &'static str| postern::store::customer_users::NewCustomerUser {
        organization_id: app.organization_id,
        username,
        email: "shopper@example.com",
        password_hash: "not a hash",
        language: "en",
    };
    let db = &app.state.db;
    postern::store::customer_users::insert(db, &customer("shopper"), 0).await.unwrap();
    let newest = postern::store::customer_users::insert(db, &customer("buyer"), 0).await.unwrap();
    sql!(app.state.db, |c| sqlx::query("DELETE FROM customer_users WHERE id = $1")
        .bind(newest)
        .execute(&mut *c)
        .await?
        .rows_affected());
    let next = postern::store::customer_users::insert(db, &customer("client"), 0).await.unwrap();
    assert!(next > newest, "customer user {next} was given after customer user {newest} was deleted");
}
