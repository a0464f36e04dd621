//! The OAuth application server functions, called as the browser does:
//! creating from each grid, filters, sorting and paging, edit, activate /
//! deactivate, delete, regenerate secret, permissions by role, and the email
//! written on creation.

use crate::harness::browser::{csrf_of, login, login_as};
use crate::harness::rpc::{create, form, id_of, rpc_form, rpc_json};
use crate::harness::{TestApp, ADMIN_PASSWORD};
use axum::http::StatusCode;
use postern::store::roles;
use serde_json::{json, Value};

fn query(scope: &str) -> Value {
    json!({ "scope": scope, "name": "", "organization_id": null, "active": null, "sort": "name", "descending": false, "page": 1, "page_size": 25 })
}

async fn list(app: &TestApp, cookies: &str, query: Value) -> Value {
    let response = rpc_json(app, cookies, "applications", json!({ "query": query })).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.json()
}

fn names(page: &Value) -> Vec<String> {
    page["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
}

async fn count(app: &TestApp) -> i64 {
    sql!(app.state.db, |c| sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM oauth_applications")
        .fetch_one(&mut *c)
        .await?)
    .0
}

async fn token(app: &TestApp, client_id: &str, secret: &str) -> crate::harness::Response {
    app.token_form(&format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}")).await
}

#[tokio::test]
async fn creating_shows_the_secret_once_and_the_secret_works() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let response = create(&app, &cookies, form(&csrf_of(&cookies), "Reporting")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let created = response.json();
    let (id, secret) = (created["client_id"].as_str().unwrap(), created["client_secret"].as_str().unwrap());
    assert_eq!(token(&app, id, secret).await.status, StatusCode::OK);

    let page = list(&app, &cookies, query("Mine")).await;
    assert_eq!(names(&page), ["Reporting"]);
    assert_eq!(page["rows"][0]["owner"], "admin");
    assert_eq!(page["rows"][0]["can_edit"], true);
    assert!(!page.to_string().contains(secret), "the secret is never shown again");
}

#[tokio::test]
async fn bad_input_gets_a_field_error_and_stores_nothing() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    create(&app, &cookies, form(&csrf, "Taken")).await;
    let outsider = app.create_user("outsider", Some(roles::DEVELOPER), "Elsewhere").await;
    let before = count(&app).await;

    let with = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut f = form(&csrf, name);
        edit(&mut f);
        f
    };
    let cases = [
        (form(&csrf, "   "), "name", "must not be empty"),
        (form(&csrf, &"x".repeat(256)), "name", "at most 255"),
        (form(&csrf, "Taken"), "name", "The application with the given name already exists."),
        (
            with("Code app", &|f| f["grant_type"] = json!("authorization_code")),
            "redirect_uris",
            "At least one redirect URL should be specified.",
        ),
        (
            with("Code app", &|f| {
                f["grant_type"] = json!("authorization_code");
                f["redirect_uris"] = json!("not-a-url");
            }),
            "redirect_uris",
            "not a valid absolute URL",
        ),
        (with("Foreign", &|f| f["organization_id"] = json!(9999)), "organization_id", "your organizations"),
        (with("Odd grant", &|f| f["grant_type"] = json!("password")), "grant_type", "Choose"),
        (
            with("Foreign owner", &|f| {
                f["scope"] = json!("BackOffice");
                f["owner_id"] = json!(outsider);
            }),
            "owner_id",
            "user of the organization",
        ),
        (with("No customer", &|f| f["scope"] = json!("Storefront")), "owner_id", "needs a customer user"),
        (form("forged-token", "No CSRF"), "csrf_token", "expired"),
    ];
    for (body, field, message) in cases {
        let response = create(&app, &cookies, body).await;
        assert!(response.status.is_client_error(), "{field}: {} {}", response.status, response.body);
        let error = response.json();
        assert_eq!(error["Invalid"]["field"], field, "{error}");
        assert!(error["Invalid"]["message"].as_str().unwrap().contains(message), "{error}");
    }
    assert_eq!(count(&app).await, before, "nothing was stored");
}

#[tokio::test]
async fn without_a_session_the_server_functions_refuse() {
    let app = TestApp::new().await;
    let response = create(&app, "", form("x", "Anonymous")).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    let response = rpc_json(&app, "", "applications", json!({ "query": query("Mine") })).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn the_grid_filters_sorts_and_pages() {
    let app = TestApp::new().await;
    // A second organization the admin belongs to.
    let other_org = postern::store::organizations::insert(&app.state.db, "Acme", 0).await.unwrap();
    let mut w = app.state.db.write().await.unwrap();
    postern::store::organizations::add_member(&mut w, other_org, app.admin_id).await.unwrap();
    w.commit().await.unwrap();
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    for (name, org) in [
        ("Billing sync", app.organization_id),
        ("Billing export", other_org),
        ("Warehouse", other_org),
        ("Analytics", app.organization_id),
    ] {
        let mut f = form(&csrf, name);
        f["organization_id"] = json!(org);
        let response = create(&app, &cookies, f).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }
    let warehouse = list(&app, &cookies, merged(query("Mine"), json!({ "name": "ware" }))).await;
    assert_eq!(names(&warehouse), ["Warehouse"]);
    let id = warehouse["rows"][0]["id"].as_i64().unwrap();
    let response =
        rpc_form(&app, &cookies, "set_application_active", &format!("csrf_token={csrf}&id={id}&active=false")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);

    assert_eq!(
        names(&list(&app, &cookies, merged(query("Mine"), json!({ "name": "BILLING" }))).await),
        ["Billing export", "Billing sync"]
    );
    assert_eq!(
        names(&list(&app, &cookies, merged(query("Mine"), json!({ "organization_id": other_org }))).await),
        ["Billing export", "Warehouse"]
    );
    assert_eq!(names(&list(&app, &cookies, merged(query("Mine"), json!({ "active": false }))).await), ["Warehouse"]);
    assert_eq!(names(&list(&app, &cookies, merged(query("Mine"), json!({ "active": true }))).await).len(), 3);
    let sorted = list(&app, &cookies, merged(query("Mine"), json!({ "descending": true }))).await;
    assert_eq!(names(&sorted), ["Warehouse", "Billing sync", "Billing export", "Analytics"]);
    let by_org = list(&app, &cookies, merged(query("Mine"), json!({ "sort": "organization" }))).await;
    assert_eq!(by_org["rows"][0]["organization"], "Acme");
    let page2 = list(&app, &cookies, merged(query("Mine"), json!({ "page": 2, "page_size": 3 }))).await;
    assert_eq!((names(&page2), page2["total"].as_i64()), (vec!["Warehouse".to_string()], Some(4)));
    // The System grid shows the same back-office applications; the storefront grid none of them.
    assert_eq!(list(&app, &cookies, query("BackOffice")).await["total"], 4);
    assert_eq!(list(&app, &cookies, query("Storefront")).await["total"], 0);
    let bad = rpc_json(
        &app,
        &cookies,
        "applications",
        json!({ "query": merged(query("Mine"), json!({ "sort": "secret_hash" })) }),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// `base` with the fields of `changes` replaced.
fn merged(mut base: Value, changes: Value) -> Value {
    for (key, value) in changes.as_object().unwrap() {
        base[key] = value.clone();
    }
    base
}

#[tokio::test]
async fn deactivating_and_deleting_stop_tokens_at_once() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    let created = create(&app, &cookies, form(&csrf, "Short-lived")).await.json();
    let (client_id, secret) = (created["client_id"].as_str().unwrap(), created["client_secret"].as_str().unwrap());
    let access = token(&app, client_id, secret).await.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.api("/api/users", &access).await.status, StatusCode::OK);
    let id = id_of(&app, client_id).await;

    let off =
        rpc_form(&app, &cookies, "set_application_active", &format!("csrf_token={csrf}&id={id}&active=false")).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(
        app.api("/api/users", &access).await.status,
        StatusCode::UNAUTHORIZED,
        "the existing token stops at once"
    );
    let refused = token(&app, client_id, secret).await;
    assert_eq!((refused.status, refused.json()["error"].clone()), (StatusCode::UNAUTHORIZED, json!("invalid_client")));

    let on =
        rpc_form(&app, &cookies, "set_application_active", &format!("csrf_token={csrf}&id={id}&active=true")).await;
    assert_eq!(on.status, StatusCode::OK);
    assert_eq!(
        app.api("/api/users", &access).await.status,
        StatusCode::OK,
        "activation lets unexpired tokens work again"
    );

    let deleted = rpc_form(&app, &cookies, "delete_application", &format!("csrf_token={csrf}&id={id}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(app.api("/api/users", &access).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(token(&app, client_id, secret).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(count(&app).await, 0);
    let again = rpc_form(&app, &cookies, "delete_application", &format!("csrf_token={csrf}&id={id}")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn editing_checks_the_input_and_regenerating_replaces_the_secret() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    create(&app, &cookies, form(&csrf, "Other")).await;
    let mut code = form(&csrf, "Web app");
    code["grant_type"] = json!("authorization_code");
    code["redirect_uris"] = json!("https://app.example.com/cb\nhttp://127.0.0.1/cb");
    let created = create(&app, &cookies, code).await.json();
    let id = id_of(&app, created["client_id"].as_str().unwrap()).await;
    let edit = |name: &str, uris: &str| json!({ "form": { "csrf_token": csrf, "id": id, "name": name, "active": true, "redirect_uris": uris, "skip_consent": true } });

    for (body, field) in [
        (edit("Other", "https://app.example.com/cb"), "name"),
        (edit("", "https://x.example/cb"), "name"),
        (edit("Web app", ""), "redirect_uris"),
        (edit("Web app", "ftp://x"), "redirect_uris"),
    ] {
        let response = rpc_json(&app, &cookies, "update_application", body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
        assert_eq!(response.json()["Invalid"]["field"], field);
    }
    let details = rpc_form(&app, &cookies, "application", &format!("id={id}")).await.json();
    assert_eq!(
        (details["name"].clone(), details["skip_consent"].clone()),
        (json!("Web app"), json!(false)),
        "nothing changed"
    );
    assert_eq!(details["redirect_uris"], "https://app.example.com/cb\nhttp://127.0.0.1/cb");

    let ok = rpc_json(&app, &cookies, "update_application", edit("Web app v2", "https://v2.example.com/cb")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let details = rpc_form(&app, &cookies, "application", &format!("id={id}")).await.json();
    assert_eq!(
        (details["name"].clone(), details["redirect_uris"].clone(), details["skip_consent"].clone()),
        (json!("Web app v2"), json!("https://v2.example.com/cb"), json!(true))
    );

    // Regenerate the secret of a client_credentials app: the old one stops, the new one works.
    let cc = create(&app, &cookies, form(&csrf, "Rotating")).await.json();
    let (client_id, old) =
        (cc["client_id"].as_str().unwrap().to_owned(), cc["client_secret"].as_str().unwrap().to_owned());
    let cc_id = id_of(&app, &client_id).await;
    let new = rpc_form(&app, &cookies, "regenerate_application_secret", &format!("csrf_token={csrf}&id={cc_id}"))
        .await
        .json();
    let new = new["client_secret"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(token(&app, &client_id, &old).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(token(&app, &client_id, new).await.status, StatusCode::OK);
}

/// Post-logout redirect URLs (OpenID Connect RP-Initiated Logout 1.0 §3):
/// optional, registered with an authorization code application and edited
/// with it, refused beside their own field by the rules of redirect URLs.
#[tokio::test]
async fn post_logout_redirect_urls_are_registered_read_back_and_checked() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    let code = |name: &str, post_logout: &str| {
        let mut f = form(&csrf, name);
        f["grant_type"] = json!("authorization_code");
        f["redirect_uris"] = json!("https://app.example.com/cb");
        f["post_logout_redirect_uris"] = json!(post_logout);
        f
    };
    let too_many: Vec<String> = (0..21).map(|i| format!("https://app.example.com/bye/{i}")).collect();
    let too_many = too_many.join("\n");
    let before = count(&app).await;
    for (uris, message) in [
        ("not-a-url", "not a valid absolute URL"),
        ("http://app.example.com/bye", "http is allowed only for localhost"),
        ("https://app.example.com/bye#done", "must not contain a fragment"),
        (too_many.as_str(), "At most 20 post-logout redirect URLs"),
    ] {
        let response = create(&app, &cookies, code("Refused", uris)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
        let error = response.json();
        assert_eq!(error["Invalid"]["field"], "post_logout_redirect_uris", "{error}");
        assert!(error["Invalid"]["message"].as_str().unwrap().contains(message), "{error}");
    }
    assert_eq!(count(&app).await, before, "nothing was stored");

    // None is fine; two are read back in order, blank lines dropped.
    let plain = create(&app, &cookies, code("Plain", "")).await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.body);
    let plain_id = id_of(&app, plain.json()["client_id"].as_str().unwrap()).await;
    assert!(postern::store::applications::post_logout_redirect_uris(&app.state.db, plain_id).await.unwrap().is_empty());
    let created =
        create(&app, &cookies, code("Web app", " https://app.example.com/signed-out \n\nhttp://127.0.0.1/bye\n")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = id_of(&app, created.json()["client_id"].as_str().unwrap()).await;
    let stored = postern::store::applications::post_logout_redirect_uris(&app.state.db, id).await.unwrap();
    assert_eq!(stored, ["https://app.example.com/signed-out", "http://127.0.0.1/bye"]);
    let details = |id: i64| {
        let cookies = cookies.clone();
        let app = &app;
        async move { rpc_form(app, &cookies, "application", &format!("id={id}")).await.json() }
    };
    assert_eq!(
        details(id).await["post_logout_redirect_uris"],
        "https://app.example.com/signed-out\nhttp://127.0.0.1/bye"
    );
    assert_eq!(
        details(id).await["redirect_uris"],
        "https://app.example.com/cb",
        "the redirect URLs are their own list"
    );

    // Edited with the application: a bad one is refused beside its field
    // and changes nothing; a good list replaces the old one.
    let edit = |uris: &str| {
        json!({ "form": {
        "csrf_token": csrf, "id": id, "name": "Web app", "active": true,
        "redirect_uris": "https://app.example.com/cb", "post_logout_redirect_uris": uris, "skip_consent": false
    } })
    };
    let refused = rpc_json(&app, &cookies, "update_application", edit("ftp://app.example.com/bye")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.json()["Invalid"]["field"], "post_logout_redirect_uris");
    assert_eq!(postern::store::applications::post_logout_redirect_uris(&app.state.db, id).await.unwrap(), stored);
    let ok = rpc_json(&app, &cookies, "update_application", edit("https://app.example.com/goodbye")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(details(id).await["post_logout_redirect_uris"], "https://app.example.com/goodbye");
    let audited: String = sql!(app.state.db, |c| sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE application_id = $1 ORDER BY id DESC LIMIT 1"
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?);
    assert!(audited.contains("post-logout redirect URIs: https://app.example.com/goodbye"), "{audited}");
    let ok = rpc_json(&app, &cookies, "update_application", edit("")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(details(id).await["post_logout_redirect_uris"], "");

    // A client_credentials application signs nobody in: from the grid the
    // field is ignored, as its (hidden) redirect URLs are.
    let mut machine = form(&csrf, "Machine");
    machine["post_logout_redirect_uris"] = json!("https://app.example.com/bye");
    let machine = create(&app, &cookies, machine).await;
    assert_eq!(machine.status, StatusCode::OK, "{}", machine.body);
    let machine_id = id_of(&app, machine.json()["client_id"].as_str().unwrap()).await;
    assert!(postern::store::applications::post_logout_redirect_uris(&app.state.db, machine_id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn roles_decide_what_a_user_may_do() {
    let app = TestApp::new().await;
    let admin = login(&app).await;
    let (admins_app, _) = app.create_app("Admin's app").await;
    let admins_id = id_of(&app, &admins_app).await;

    // A developer manages only their own applications.
    app.create_user("dev", Some(roles::DEVELOPER), "Default").await;
    let dev = login_as(&app, "dev", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&dev);
    assert_eq!(create(&app, &dev, form(&csrf, "Dev app")).await.status, StatusCode::OK);
    assert_eq!(names(&list(&app, &dev, query("Mine")).await), ["Dev app"]);
    for (endpoint, body) in [
        ("set_application_active", format!("csrf_token={csrf}&id={admins_id}&active=false")),
        ("delete_application", format!("csrf_token={csrf}&id={admins_id}")),
        ("regenerate_application_secret", format!("csrf_token={csrf}&id={admins_id}")),
        ("application", format!("id={admins_id}")),
    ] {
        let response = rpc_form(&app, &dev, endpoint, &body).await;
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "{endpoint}: another user's application is not theirs to see"
        );
    }
    let edit = json!({ "form": { "csrf_token": csrf, "id": admins_id, "name": "Hijacked", "active": false, "redirect_uris": "", "skip_consent": false } });
    assert_eq!(rpc_json(&app, &dev, "update_application", edit).await.status, StatusCode::NOT_FOUND);
    for scope in ["BackOffice", "Storefront"] {
        let response = rpc_json(&app, &dev, "applications", json!({ "query": query(scope) })).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{scope}");
    }
    let page = list(&app, &admin, query("BackOffice")).await;
    assert!(names(&page).contains(&"Admin's app".to_string()), "the admin's application is untouched");
    assert_eq!(page["rows"].as_array().unwrap().iter().find(|r| r["name"] == "Admin's app").unwrap()["active"], true);

    // A viewer sees the organization's applications and may change none.
    app.create_user("viewer", Some(4), "Default").await;
    let viewer = login_as(&app, "viewer", ADMIN_PASSWORD).await;
    let vcsrf = csrf_of(&viewer);
    let meta = rpc_form(&app, &viewer, "application_grid", "scope=BackOffice").await;
    assert_eq!(meta.status, StatusCode::OK, "{}", meta.body);
    assert_eq!(meta.json()["can_create"], false, "no Add Application button");
    let page = list(&app, &viewer, query("BackOffice")).await;
    assert_eq!(page["total"], 2);
    assert!(page["rows"].as_array().unwrap().iter().all(|r| r["can_edit"] == false && r["can_delete"] == false));
    let before = count(&app).await;
    let refused = create(&app, &viewer, merged(form(&vcsrf, "Sneaky"), json!({ "scope": "BackOffice" }))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(create(&app, &viewer, form(&vcsrf, "Sneaky")).await.status, StatusCode::FORBIDDEN);
    let refused =
        rpc_form(&app, &viewer, "set_application_active", &format!("csrf_token={vcsrf}&id={admins_id}&active=false"))
            .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&app).await, before);

    // Without a role, nothing at all.
    app.create_user("nobody", None, "Default").await;
    let nobody = login_as(&app, "nobody", ADMIN_PASSWORD).await;
    assert_eq!(
        rpc_json(&app, &nobody, "applications", json!({ "query": query("Mine") })).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn outbox(app: &TestApp) -> Vec<(String, String, String, String, Option<String>)> {
    sql!(app.state.db, |c| sqlx::query_as(
        "SELECT recipient, subject, body, status, error FROM email_outbox ORDER BY id"
    )
    .fetch_all(&mut *c)
    .await?)
}

#[tokio::test]
async fn creation_writes_an_email_to_the_owner_without_the_secret() {
    let app = TestApp::new().await;
    let cookies = login(&app).await;
    let csrf = csrf_of(&cookies);
    let created = create(&app, &cookies, form(&csrf, "Mailer")).await.json();
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 1);
    let (recipient, subject, body, status, _) = &mails[0];
    assert_eq!(
        (recipient.as_str(), subject.as_str(), status.as_str()),
        ("admin@example.com", "OAuth application added to your account", "stored")
    );
    assert!(body.contains("\"Mailer\"") && body.contains(created["client_id"].as_str().unwrap()), "{body}");
    assert!(!body.contains(created["client_secret"].as_str().unwrap()), "never the secret");

    // The administrator edits the template and sets an override recipient.
    let save = |subject: &str, body: &str, recipient: &str| json!({ "form": { "csrf_token": csrf, "language": "en", "subject": subject, "body": body, "override_recipient": recipient } });
    let bad = rpc_json(&app, &cookies, "save_email_configuration", save("Added {{client_secret}}", "", "")).await;
    assert_eq!(
        (bad.status, bad.json()["Invalid"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("subject"))
    );
    let bad = rpc_json(&app, &cookies, "save_email_configuration", save("", "", "not-an-email")).await;
    assert_eq!(bad.json()["Invalid"]["field"], "override_recipient");
    let ok = rpc_json(
        &app,
        &cookies,
        "save_email_configuration",
        save("New app: {{application_name}}", "ID {{client_id}}", "security@example.com"),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let created = create(&app, &cookies, form(&csrf, "Second")).await.json();
    let (recipient, subject, body, ..) = outbox(&app).await.pop().unwrap();
    assert_eq!((recipient.as_str(), subject.as_str()), ("security@example.com", "New app: Second"));
    assert_eq!(body, format!("ID {}", created["client_id"].as_str().unwrap()));

    // An owner whose language has its own template gets that one.
    rpc_json(&app, &cookies, "save_email_configuration", save("", "", "")).await;
    let de = json!({ "form": { "csrf_token": csrf, "language": "de", "subject": "Neue Anwendung {{application_name}}", "body": "", "override_recipient": "" } });
    assert_eq!(rpc_json(&app, &cookies, "save_email_configuration", de).await.status, StatusCode::OK);
    sql!(app.state.db, |c| sqlx::query("UPDATE users SET language = 'de' WHERE id = $1")
        .bind(app.admin_id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    create(&app, &cookies, form(&csrf, "Dritte")).await;
    let (recipient, subject, body, ..) = outbox(&app).await.pop().unwrap();
    assert_eq!((recipient.as_str(), subject.as_str()), ("admin@example.com", "Neue Anwendung Dritte"));
    assert!(body.contains("Client ID: "), "the body falls back to the built-in English text: {body}");

    // Administrators read the outbox; others may not.
    let page = rpc_form(&app, &cookies, "outbox", "page=1").await;
    assert_eq!(page.json()["total"], 3);
    app.create_user("dev", Some(roles::DEVELOPER), "Default").await;
    let dev = login_as(&app, "dev", ADMIN_PASSWORD).await;
    assert_eq!(rpc_form(&app, &dev, "outbox", "page=1").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_smtp_failure_never_fails_the_creation_and_is_recorded() {
    // An SMTP server that is not there: a port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::with_config(|c| {
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = port;
        c.smtp.tls = postern::config::SmtpTls::None;
        c.smtp.timeout = 5;
    })
    .await;
    let cookies = login(&app).await;
    let response = create(&app, &cookies, form(&csrf_of(&cookies), "Despite SMTP")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let mut last = None;
    for _ in 0..100 {
        let mails = outbox(&app).await;
        if mails[0].3 != "queued" {
            last = Some(mails[0].clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, _, _, status, error) = last.expect("the delivery attempt ends");
    assert_eq!(status, "failed");
    assert!(error.as_deref().is_some_and(|e| e.starts_with("SMTP: ")), "{error:?}");
}
