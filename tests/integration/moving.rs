//! Moving an instance to another engine and back (`postern export`,
//! `postern import`): a SQLite instance filled through the real endpoints
//! moves to a fresh PostgreSQL database, and from there to a fresh SQLite
//! folder. After each move the release binary serves what it was given —
//! client secrets, a refresh token, a token signed with a key retired
//! before the move, a revocation, a consent, a session, a password — and
//! every table holds as many rows as before. Only on the test script's
//! PostgreSQL cluster (`POSTERN_TEST_POSTGRES`); without it the test
//! returns at once. It prints the row counts of each step and each check.

use crate::crash::{authorize, consent, form, http, Answer, Server, CALLBACK};
use crate::harness::oauth::query_param;
use crate::harness::rpc::form as application_form;
use crate::harness::verify_with_jwks;
use postern::store::transfer::{SIGNING_KEYS, TABLES};
use postern::store::Engine;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Opens the signing keys in PostgreSQL, and in the export file.
const KEY_SECRET: &str = "the moving test's key secret (44 characters)";
/// One public URL for the three instances: the issuer of every token.
const PUBLIC_URL: &str = "http://auth.moving.test";
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// Rows per table, and the signing keys as `signing_keys`.
type Counts = BTreeMap<String, i64>;

/// An application's credentials.
struct Client {
    id: String,
    secret: String,
}

/// What the test made on the first instance, to be found after each move.
struct Filled {
    back_office: Client,
    storefront: Client,
    /// Confidential, authorization_code; the admin consented to it.
    partner: Client,
    /// The admin's signed-in browser.
    cookies: String,
    /// Signed with the key `keys rotate` retired afterwards.
    signed_before: String,
    revoked: String,
    /// The kids of the JWKS, sorted.
    kids: Vec<String>,
}

async fn post(addr: SocketAddr, path: &str, pairs: &[(&str, &str)]) -> Answer {
    http(addr, "POST", path, &[FORM], &form(pairs)).await.unwrap()
}

async fn client_credentials(addr: SocketAddr, client: &Client) -> Answer {
    post(
        addr,
        "/oauth2-token",
        &[("grant_type", "client_credentials"), ("client_id", &client.id), ("client_secret", &client.secret)],
    )
    .await
}

/// The access token of a 200 answer of the token endpoint.
fn access_token(answer: &Answer) -> String {
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["access_token"].as_str().unwrap().to_owned()
}

/// `GET /api/users` with `token`.
async fn api(addr: SocketAddr, token: &str) -> Answer {
    let bearer = format!("Bearer {token}");
    http(addr, "GET", "/api/users", &[("Authorization", &bearer)], "").await.unwrap()
}

async fn jwks(addr: SocketAddr) -> Value {
    http(addr, "GET", "/.well-known/jwks.json", &[], "").await.unwrap().json()
}

fn kids(jwks: &Value) -> Vec<String> {
    let mut kids: Vec<String> =
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect();
    kids.sort();
    kids
}

/// Calls a back-office server function as its pages do: JSON when it
/// takes a form, else an empty URL-encoded body. Its answer, after a 200.
async fn rpc(addr: SocketAddr, cookies: &str, endpoint: &str, input: Option<Value>) -> Value {
    let (content_type, body) = match input {
        Some(input) => ("application/json", input.to_string()),
        None => (FORM.1, String::new()),
    };
    let headers = [("Content-Type", content_type), ("Cookie", cookies)];
    let answer = http(addr, "POST", &format!("/admin/rpc/{endpoint}"), &headers, &body).await.unwrap();
    assert_eq!(answer.status, 200, "{endpoint}: {}", answer.body);
    answer.json()
}

async fn create_application(addr: SocketAddr, cookies: &str, form: Value) -> Client {
    let created = rpc(addr, cookies, "create_application", Some(json!({ "form": form }))).await;
    Client {
        id: created["client_id"].as_str().unwrap().to_owned(),
        secret: created["client_secret"].as_str().unwrap().to_owned(),
    }
}

/// Fills `a` through its pages' server functions and the OAuth endpoints:
/// people, applications of both sides, a consented code grant, tokens, a
/// revocation and a key rotation. What it made, and the live refresh token.
async fn fill(a: &Server) -> (Filled, String) {
    let (cookies, csrf) = a.login().await;
    let organization_id = rpc(a.addr, &cookies, "organizations", None).await[0]["id"].as_i64().unwrap();
    let developer = json!({ "form": {
        "csrf_token": csrf, "id": null, "username": "dev", "email": "dev@example.com", "password": "a-good-password",
        "role_id": postern::store::roles::DEVELOPER, "language": "en", "organization_ids": [organization_id],
        "enabled": true,
    } });
    rpc(a.addr, &cookies, "save_user", Some(developer)).await;
    let shopper = json!({ "form": {
        "csrf_token": csrf, "organization_id": organization_id, "username": "shopper",
        "email": "shopper@shop.example", "password": "shopper-password", "language": "en",
    } });
    rpc(a.addr, &cookies, "create_customer_user", Some(shopper)).await;
    let customer_id = rpc(a.addr, &cookies, "customer_users", None).await["customers"][0]["id"].as_i64().unwrap();

    let back_office = create_application(a.addr, &cookies, application_form(&csrf, "Billing sync")).await;
    let mut partner = application_form(&csrf, "Partner portal");
    partner["grant_type"] = json!("authorization_code");
    partner["redirect_uris"] = json!(CALLBACK);
    let partner = create_application(a.addr, &cookies, partner).await;
    let mut shop = application_form(&csrf, "Shop sync");
    shop["scope"] = json!("Storefront");
    shop["organization_id"] = json!(organization_id);
    shop["owner_id"] = json!(customer_id);
    let storefront = create_application(a.addr, &cookies, shop).await;

    let back = consent(a.addr, &cookies, &partner.id).await.expect("the admin consents on the consent page");
    let code = query_param(&back, "code").unwrap();
    let redeemed = post(
        a.addr,
        "/oauth2-token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", &partner.id),
            ("client_secret", &partner.secret),
        ],
    )
    .await;
    assert_eq!(api(a.addr, &access_token(&redeemed)).await.status, 200);
    let refresh_token = redeemed.json()["refresh_token"].as_str().unwrap().to_owned();
    access_token(&client_credentials(a.addr, &storefront).await);

    // A token signed with the first key, then a rotation: the first key
    // retires, and keeps verifying the tokens it signed.
    let signed_before = access_token(&client_credentials(a.addr, &back_office).await);
    let rotated = a.command().args(["keys", "rotate"]).output().unwrap();
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let started = Instant::now();
    while kids(&jwks(a.addr).await).len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(15), "A did not pick up the rotated keys");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kids = kids(&jwks(a.addr).await);
    let revoked = access_token(&client_credentials(a.addr, &back_office).await);
    let kid = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    assert_ne!(kid(&revoked), kid(&signed_before), "the new key signs");
    let revocation = post(
        a.addr,
        "/oauth2-token/revoke",
        &[("token", &revoked), ("client_id", &back_office.id), ("client_secret", &back_office.secret)],
    )
    .await;
    assert_eq!(revocation.status, 200, "{}", revocation.body);
    assert_eq!((api(a.addr, &signed_before).await.status, api(a.addr, &revoked).await.status), (200, 401));
    (Filled { back_office, storefront, partner, cookies, signed_before, revoked, kids }, refresh_token)
}

/// What must hold on an instance after a move, each check that held added
/// to `report`; returns the refresh token it handed out in exchange.
async fn check_moved(
    server: &Server,
    on: &str,
    filled: &Filled,
    refresh_token: &str,
    report: &mut Vec<String>,
) -> String {
    let addr = server.addr;
    for (what, client) in [("back-office", &filled.back_office), ("storefront", &filled.storefront)] {
        let answer = client_credentials(addr, client).await;
        assert_eq!(answer.status, 200, "{on}: the {what} application's secret: {}", answer.body);
    }
    report.push(format!("ok  {on}: the secrets of the back-office and storefront applications get tokens (200)"));
    let wrong = Client { id: filled.back_office.id.clone(), secret: "not the secret".into() };
    let refused = client_credentials(addr, &wrong).await;
    assert_eq!(
        (refused.status, refused.json()["error"].as_str()),
        (401, Some("invalid_client")),
        "{on}: {}",
        refused.body
    );
    report.push(format!("ok  {on}: a wrong secret is refused (401 invalid_client)"));

    let refreshed = post(
        addr,
        "/oauth2-token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", &filled.partner.id),
            ("client_secret", &filled.partner.secret),
        ],
    )
    .await;
    assert_eq!(
        api(addr, &access_token(&refreshed)).await.status,
        200,
        "{on}: the refreshed access token opens the API"
    );
    let next = refreshed.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(next, refresh_token, "{on}: the refresh token rotates");
    report.push(format!(
        "ok  {on}: the refresh token from before the move refreshes (200, a new refresh token; the access token opens /api/users)"
    ));

    let jwks = jwks(addr).await;
    assert_eq!(kids(&jwks), filled.kids, "{on}: the JWKS publishes the same keys");
    let issuer = format!("{PUBLIC_URL}/admin");
    let claims = verify_with_jwks(&jwks, &filled.signed_before, &issuer, &format!("{PUBLIC_URL}/api"))
        .unwrap_or_else(|e| panic!("{on}: the token signed before the move does not verify against the JWKS: {e}"));
    assert_eq!(
        api(addr, &filled.signed_before).await.status,
        200,
        "{on}: the token signed before the move opens the API"
    );
    report.push(format!(
        "ok  {on}: the access token signed before the move (jti {}, by the key retired since) verifies against its JWKS of {} keys and opens /api/users",
        claims["jti"].as_str().unwrap_or_default(),
        filled.kids.len()
    ));
    let refused = api(addr, &filled.revoked).await;
    let why = refused.header("www-authenticate").unwrap_or_default();
    assert!(refused.status == 401 && why.contains("has been revoked"), "{on}: {} {why}", refused.status);
    report.push(format!("ok  {on}: the token revoked before the move is refused (401, \"has been revoked\")"));

    let again = authorize(addr, &filled.cookies, &filled.partner.id).await.unwrap();
    let location = again.header("location").unwrap_or_default();
    assert!(
        again.status == 303 && location.starts_with(CALLBACK) && query_param(location, "code").is_some(),
        "{on}: the remembered consent sends the admin straight back with a code: {} {location}",
        again.status
    );
    report.push(format!(
        "ok  {on}: the admin's session from before the move is signed in, and the consent is remembered (straight back with a code)"
    ));
    server.login().await;
    report.push(format!("ok  {on}: the admin signs in with the password set before the move"));
    next
}

/// Rows per table as the database counts them, and the signing keys: rows
/// on PostgreSQL, on SQLite the files in `dir` (the pair, and each retired
/// public key).
async fn counted(url: &str, dir: &Path) -> Counts {
    let db = postern::store::open(url, 1).await.unwrap();
    let mut counts = Counts::new();
    for table in TABLES.iter().chain([&SIGNING_KEYS]).map(|t| t.name) {
        let n: i64 = match (db.engine(), table) {
            (Engine::Sqlite, "signing_keys") => {
                let pair = dir.join("private.key").exists() && dir.join("public.key").exists();
                let retired = std::fs::read_dir(dir.join("retired_keys")).map_or(0, |files| {
                    files.filter(|f| f.as_ref().is_ok_and(|f| f.path().extension().is_some_and(|e| e == "pem"))).count()
                });
                i64::from(pair) + retired as i64
            }
            _ => {
                let sql = format!("SELECT COUNT(*) FROM {table}");
                sql!(db, |c| sqlx::query_scalar(&sql).fetch_one(&mut *c).await?)
            }
        };
        counts.insert(table.to_owned(), n);
    }
    db.close().await;
    counts
}

/// The `table n, table n, …` line of an export's or an import's report.
fn reported_counts(stdout: &str) -> Counts {
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("organizations "))
        .unwrap_or_else(|| panic!("no counts line in: {stdout}"));
    let pair = |pair: &str| {
        let (table, n) = pair.rsplit_once(' ').unwrap_or_else(|| panic!("not `table n`: {pair:?} in {line:?}"));
        (table.to_owned(), n.parse().unwrap_or_else(|_| panic!("not a count: {pair:?} in {line:?}")))
    };
    line.trim().split(", ").map(pair).collect()
}

/// `postern export FILE` or `postern import FILE` with `server`'s
/// settings: its first line, and the counts it printed.
fn transfer(server: &Server, command: &str, file: &Path) -> (String, Counts) {
    let out = server.command().arg(command).arg(file).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "postern {command}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    let first = stdout.lines().next().unwrap_or_default().to_owned();
    let done = if command == "export" { "Exported " } else { "Imported " };
    assert!(first.starts_with(done), "{stdout}");
    (first, reported_counts(&stdout))
}

/// `server` with what the three instances share: the public URL (the
/// issuer of the tokens) and the key secret.
fn sharing(server: Server) -> Server {
    server.with_env("POSTERN_PUBLIC_URL", PUBLIC_URL).with_env("POSTERN_KEY_SECRET", KEY_SECRET)
}

fn sqlite_url(server: &Server) -> String {
    format!("sqlite://{}", server.db().display())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_from_sqlite_to_postgresql_and_back_keeps_clients_tokens_and_consents() {
    let Some(postgres) = std::env::var("POSTERN_TEST_POSTGRES").ok().filter(|s| !s.is_empty()) else {
        println!("moving: skipped, it needs a PostgreSQL server (POSTERN_TEST_POSTGRES; scripts/test sets it)");
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let folder = |name: &str| {
        let dir = root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    };
    let mut checks = Vec::new();
    let mut lines = Vec::new();

    // A: SQLite, filled through the endpoints, then stopped.
    let dir_a = folder("a");
    let mut a = sharing(Server::new(&dir_a));
    a.start().await;
    let (filled, refresh_token) = fill(&a).await;
    a.kill_9();
    let counts_a = counted(&sqlite_url(&a), &dir_a).await;
    for table in [
        "users",
        "customer_users",
        "oauth_applications",
        "oauth_application_redirect_uris",
        "oauth_grants",
        "oauth_access_tokens",
        "oauth_authorization_codes",
        "oauth_refresh_tokens",
        "oauth_consents",
        "sessions",
        "audit_log",
    ] {
        assert!(counts_a[table] > 0, "A has {table} rows to move: {counts_a:?}");
    }
    assert_eq!(counts_a["signing_keys"], 2, "the signing pair and the retired key");

    // A → file.
    let file_a = root.path().join("a.jsonl");
    let (line, exported_a) = transfer(&a, "export", &file_a);
    lines.push(format!("A: postern export  {line}"));
    assert_eq!(exported_a, counts_a, "the export reports every row of A");
    assert_eq!(mode(&file_a), 0o600, "the export holds secrets: only its owner reads it");
    let written = std::fs::read(&file_a).unwrap();
    let again = a.command().arg("export").arg(&file_a).output().unwrap();
    assert!(!again.status.success(), "an export never overwrites a file");
    assert!(String::from_utf8_lossy(&again.stderr).contains("postern: error: "));
    assert_eq!(std::fs::read(&file_a).unwrap(), written);
    checks.push("ok  A: a second export to the same file is refused, the first one kept".to_owned());

    // File → B: a fresh PostgreSQL database.
    let database_b = crate::harness::fresh_postgres_database(&postgres).await;
    let dir_b = folder("b");
    let mut b = sharing(Server::on(&dir_b).with_env("POSTERN_DATABASE_URL", &database_b));
    let (line, imported_b) = transfer(&b, "import", &file_a);
    lines.push(format!("B: postern import  {line}"));
    assert_eq!(imported_b, exported_a, "the import reports what the export did");
    let counts_b = counted(&database_b, &dir_b).await;
    assert_eq!(counts_b, counts_a, "B holds every row of A");
    let refused = b.command().arg("import").arg(&file_a).output().unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "a second import without --merge is refused");
    assert!(stderr.contains("postern: error: the database already holds") && stderr.contains("--merge"), "{stderr}");
    assert_eq!(counted(&database_b, &dir_b).await, counts_b, "the refused import changed nothing");
    checks.push(format!("ok  B: a second import without --merge is refused: {}", stderr.trim()));
    b.start().await;
    let refresh_token = check_moved(&b, "B (PostgreSQL)", &filled, &refresh_token, &mut checks).await;
    b.kill_9();
    let stopped_b = counted(&database_b, &dir_b).await;

    // B → file → C: a fresh SQLite folder, without key files.
    let file_b = root.path().join("b.jsonl");
    let (line, exported_b) = transfer(&b, "export", &file_b);
    lines.push(format!("B: postern export  {line}"));
    assert_eq!(exported_b, stopped_b, "the export reports every row of B");
    let dir_c = folder("c");
    let mut c = sharing(Server::on(&dir_c));
    assert!(!dir_c.join("private.key").exists() && !dir_c.join("public.key").exists());
    let (line, imported_c) = transfer(&c, "import", &file_b);
    lines.push(format!("C: postern import  {line}"));
    assert_eq!(imported_c, exported_b, "the import reports what the export did");
    assert_eq!(mode(&dir_c.join("private.key")), 0o600, "the imported private key is the owner's only");
    let counts_c = counted(&sqlite_url(&c), &dir_c).await;
    assert_eq!(counts_c, stopped_b, "C holds every row of B, and its keys as files");
    checks.push("ok  C: the import wrote the signing pair (private key 0600) and the retired public key".to_owned());
    c.start().await;
    check_moved(&c, "C (SQLite)", &filled, &refresh_token, &mut checks).await;

    let steps: [(&str, &Counts); 8] = [
        ("A SQLite", &counts_a),
        ("export", &exported_a),
        ("import", &imported_b),
        ("B Postgres", &counts_b),
        ("B stopped", &stopped_b),
        ("export", &exported_b),
        ("import", &imported_c),
        ("C SQLite", &counts_c),
    ];
    println!("moving SQLite (A) → PostgreSQL (B) → SQLite (C): rows per table at each step");
    let header: String = steps.iter().map(|(step, _)| format!("{step:>11}")).collect();
    println!("  {:<32}{header}", "table");
    for table in TABLES.iter().chain([&SIGNING_KEYS]).map(|t| t.name) {
        let row: String = steps.iter().map(|(_, counts)| format!("{:>11}", counts[table])).collect();
        println!("  {table:<32}{row}");
    }
    let totals: String = steps.iter().map(|(_, counts)| format!("{:>11}", counts.values().sum::<i64>())).collect();
    println!("  {:<32}{totals}", "total");
    for line in lines.iter().chain(&checks) {
        println!("{line}");
    }
}
