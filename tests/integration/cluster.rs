//! Three release binaries on one PostgreSQL database, as behind a load
//! balancer (README "Several instances on PostgreSQL"): started at the same
//! instant on an empty database, a code obtained through one instance's
//! pages and redeemed and refreshed at the others, a refresh-token replay,
//! a revocation and a deactivation seen everywhere (the time printed), a key
//! rotation reaching all three, and a kill -9 under load. Only on the test
//! script's PostgreSQL cluster (`POSTERN_TEST_POSTGRES`); on SQLite it
//! returns at once.

use crate::crash::{form, http, jti_of, Answer, CALLBACK};
use crate::harness::browser::{csrf_field, csrf_of};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ADMIN_PASSWORD: &str = "cluster-test admin password";
const KEY_SECRET: &str = "the cluster test's key secret, long enough";
/// The load balancer's URL: the issuer every instance puts in its tokens.
const PUBLIC_URL: &str = "http://auth.cluster.test";
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

struct Node {
    name: &'static str,
    dir: PathBuf,
    database: String,
    addr: SocketAddr,
    child: Option<Child>,
}

impl Node {
    fn new(name: &'static str, root: &Path, database: &str) -> Self {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        // Keys are reloaded every second, so a rotation shows within the
        // test. The token limits are on but out of reach of the load below
        // (each request is still counted in the shared schedules); five
        // failed sign-ins hold an account, on whichever instances they land.
        std::fs::write(
            dir.join("postern.toml"),
            "[maintenance]\nkey_reload_interval = 1\n\n[rate_limits]\n\
             token_per_client = { burst = 1000000, per_minute = 60000000 }\n\
             token_per_ip = { burst = 1000000, per_minute = 60000000 }\n\
             login_per_account = { burst = 5, per_minute = 1 }\n",
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Node { name, dir, database: database.to_owned(), addr: SocketAddr::from(([127, 0, 0, 1], port)), child: None }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_postern"));
        command
            .current_dir(&self.dir)
            .env("POSTERN_CONFIG", self.dir.join("postern.toml"))
            .env("POSTERN_DATABASE_URL", &self.database)
            .env("POSTERN_KEY_SECRET", KEY_SECRET)
            .env("POSTERN_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("POSTERN_PUBLIC_URL", PUBLIC_URL)
            .env("POSTERN_LOG", "warn")
            .env("LEPTOS_SITE_ADDR", self.addr.to_string())
            .stdin(Stdio::null());
        command
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("server.log")).unwrap();
        self.child = Some(self.command().arg("serve").stdout(log.try_clone().unwrap()).stderr(log).spawn().unwrap());
    }

    async fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            if let Ok(answer) = http(self.addr, "GET", "/health", &[], "").await {
                if answer.status == 200 {
                    return;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(60), "{} never became ready: {}", self.name, self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    fn kill_9(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().unwrap();
        assert!(out.status.success(), "postern {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    async fn post(&self, path: &str, body: &str) -> Answer {
        http(self.addr, "POST", path, &[FORM], body).await.unwrap()
    }

    async fn api(&self, token: &str) -> u16 {
        let bearer = format!("Bearer {token}");
        http(self.addr, "GET", "/api/users", &[("Authorization", &bearer)], "").await.map(|a| a.status).unwrap_or(0)
    }

    async fn jwks_kids(&self) -> Vec<String> {
        let jwks = http(self.addr, "GET", "/.well-known/jwks.json", &[], "").await.unwrap().json();
        let mut kids: Vec<String> =
            jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect();
        kids.sort();
        kids
    }

    /// Posts the back office's sign-in form with `password` for `admin`.
    async fn sign_in(&self, password: &str) -> Answer {
        let page = http(self.addr, "GET", "/admin/login", &[], "").await.unwrap();
        let csrf = page.cookies().into_iter().find(|c| c.starts_with("postern_csrf=")).unwrap();
        let body = form(&[("username", "admin"), ("password", password), ("csrf_token", &csrf_field(&page.body))]);
        http(self.addr, "POST", "/admin/login", &[FORM, ("Cookie", &csrf)], &body).await.unwrap()
    }

    /// Signs in to the back office: the Cookie header and the CSRF token.
    async fn login(&self) -> (String, String) {
        let signed_in = self.sign_in(ADMIN_PASSWORD).await;
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        let session = signed_in.cookies().into_iter().find(|c| c.starts_with("postern_session=")).unwrap();
        let csrf = signed_in.cookies().into_iter().find(|c| c.starts_with("postern_csrf=")).unwrap();
        let cookies = format!("{csrf}; {session}");
        let token = csrf_of(&cookies);
        (cookies, token)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn pkce() -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier: String = (0..64).map(|_| (b'a' + rand::random::<u8>() % 26) as char).collect();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Polls until `check` holds on every node; the time it took.
async fn everywhere(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{what}: not seen within {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_on_one_database_behave_as_one_server() {
    let Ok(server) = std::env::var("POSTERN_TEST_POSTGRES") else { return };
    if server.is_empty() {
        return;
    }
    let database = crate::harness::fresh_postgres_database(&server).await;
    let root = tempfile::tempdir().unwrap();
    let mut nodes = [
        Node::new("a", root.path(), &database),
        Node::new("b", root.path(), &database),
        Node::new("c", root.path(), &database),
    ];

    // Three at the same instant, on an empty database.
    for node in nodes.iter_mut() {
        node.spawn();
    }
    let started = Instant::now();
    for node in &nodes {
        node.wait_ready().await;
    }
    let db = postern::store::open(&database, 2).await.unwrap();
    let count = async |sql: &str| -> i64 {
        let sql = sql.to_owned();
        async {
            Ok::<_, sqlx::Error>(postern::store::run!(&db, |c| sqlx::query_scalar(&sql).fetch_one(&mut *c).await?))
        }
        .await
        .unwrap()
    };
    let migrations = count("SELECT COUNT(*) FROM _sqlx_migrations").await;
    let files = std::fs::read_dir("migrations/postgres").unwrap().count() as i64;
    let keys = count("SELECT COUNT(*) FROM signing_keys").await;
    let admins = count("SELECT COUNT(*) FROM users").await;
    println!(
        "three instances started at once: all ready after {:?}; migrations applied {migrations} (of {files}, each once), signing keys {keys}, administrators {admins}",
        started.elapsed()
    );
    assert_eq!((migrations, keys, admins), (files, 1, 1));
    let kids = nodes[0].jwks_kids().await;
    for node in &nodes[1..] {
        assert_eq!(node.jwks_kids().await, kids, "{}'s JWKS is the same", node.name);
    }
    let [a, b, c] = &mut nodes;

    // A code through A's pages, redeemed at B, refreshed at C.
    let app: serde_json::Value = serde_json::from_str(&a.cli(&[
        "app",
        "create",
        "--owner",
        "admin",
        "--name",
        "Cluster",
        "--grant",
        "authorization_code",
        "--redirect-uri",
        CALLBACK,
        "--skip-consent",
        "--json",
    ]))
    .unwrap();
    let (client_id, secret) = (app["client_id"].as_str().unwrap(), app["client_secret"].as_str().unwrap());
    let (cookies, _) = a.login().await;
    let (verifier, challenge) = pkce();
    let query = form(&[
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("state", "s1"),
        ("scope", "users:read"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let back = http(a.addr, "GET", &format!("/admin/oauth2-token/authorize?{query}"), &[("Cookie", &cookies)], "")
        .await
        .unwrap();
    let location = back.header("location").unwrap_or_default().to_owned();
    assert!(location.starts_with(CALLBACK), "A redirects back with a code: {} {location} {}", back.status, back.body);
    let code = url::Url::parse(&location).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let credentials = format!("client_id={client_id}&client_secret={secret}");
    let redeemed = b
        .post(
            "/oauth2-token",
            &format!("grant_type=authorization_code&code={code}&redirect_uri={CALLBACK}&code_verifier={verifier}&{credentials}"),
        )
        .await;
    assert_eq!(redeemed.status, 200, "B redeems A's code: {}", redeemed.body);
    let first_refresh = redeemed.json()["refresh_token"].as_str().unwrap().to_owned();
    let refreshed =
        c.post("/oauth2-token", &format!("grant_type=refresh_token&refresh_token={first_refresh}&{credentials}")).await;
    assert_eq!(refreshed.status, 200, "C refreshes: {}", refreshed.body);
    let second_refresh = refreshed.json()["refresh_token"].as_str().unwrap().to_owned();
    let access = refreshed.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(a.api(&access).await, 200);

    // The rotated-out refresh token replayed at A revokes the family everywhere.
    let replay =
        a.post("/oauth2-token", &format!("grant_type=refresh_token&refresh_token={first_refresh}&{credentials}")).await;
    assert_eq!((replay.status, replay.json()["error"].as_str()), (400, Some("invalid_grant")), "{}", replay.body);
    let after = c
        .post("/oauth2-token", &format!("grant_type=refresh_token&refresh_token={second_refresh}&{credentials}"))
        .await;
    assert_eq!(after.json()["error"], "invalid_grant", "the newest refresh token died with its family: {}", after.body);
    let took = everywhere("the family's access token refused", Duration::from_secs(1), async || {
        a.api(&access).await == 401 && b.api(&access).await == 401 && c.api(&access).await == 401
    })
    .await;
    println!("refresh-token replay at A: the family's access token refused by A, B and C after {took:?}");

    // A revocation at B, seen by A and C (which have the token in memory).
    let svc: serde_json::Value = serde_json::from_str(&a.cli(&[
        "app",
        "create",
        "--owner",
        "admin",
        "--name",
        "Service",
        "--grant",
        "client_credentials",
        "--json",
    ]))
    .unwrap();
    let (svc_id, svc_secret) =
        (svc["client_id"].as_str().unwrap().to_owned(), svc["client_secret"].as_str().unwrap().to_owned());
    let svc_credentials = format!("client_id={svc_id}&client_secret={svc_secret}");
    let issue = async |node: &Node| -> String {
        let answer = node.post("/oauth2-token", &format!("grant_type=client_credentials&{svc_credentials}")).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()["access_token"].as_str().unwrap().to_owned()
    };
    let token = issue(&*a).await;
    for node in [&*a, &*b, &*c] {
        assert_eq!(node.api(&token).await, 200);
    }
    assert_eq!(b.post("/oauth2-token/revoke", &format!("token={token}&{svc_credentials}")).await.status, 200);
    let took = everywhere("revocation at B", Duration::from_secs(1), async || {
        a.api(&token).await == 401 && c.api(&token).await == 401
    })
    .await;
    println!("revocation at B: refused by A and C after {took:?}");

    // A deactivation through A's back office, seen by B and C.
    let token = issue(&*c).await;
    for node in [&*a, &*b, &*c] {
        assert_eq!(node.api(&token).await, 200);
    }
    let app_id = count(&format!("SELECT id FROM oauth_applications WHERE client_id = '{svc_id}'")).await;
    let (cookies, csrf) = a.login().await;
    let body = form(&[("csrf_token", &csrf), ("id", &app_id.to_string()), ("active", "false")]);
    let deactivated =
        http(a.addr, "POST", "/admin/rpc/set_application_active", &[FORM, ("Cookie", &cookies)], &body).await.unwrap();
    assert_eq!(deactivated.status, 200, "{}", deactivated.body);
    let took = everywhere("deactivation through A's back office", Duration::from_secs(1), async || {
        b.api(&token).await == 401 && c.api(&token).await == 401
    })
    .await;
    println!("deactivation through A's back office: refused by B and C after {took:?}");

    // `keys rotate` against the database reaches all three.
    let before = a.jwks_kids().await;
    let rotated = b.cli(&["keys", "rotate"]);
    assert!(rotated.contains("new signing key"), "{rotated}");
    let took = everywhere("the rotation", Duration::from_secs(5), async || {
        let (x, y, z) = (a.jwks_kids().await, b.jwks_kids().await, c.jwks_kids().await);
        x.len() == before.len() + 1 && x == y && y == z
    })
    .await;
    println!("keys rotate: every instance publishes the new key after {took:?}");

    // Failed sign-ins spread over the three hold the account as on one:
    // five failures in all, then even the right password waits.
    for node in [&*a, &*b, &*c].into_iter().cycle().take(5) {
        let failed = node.sign_in("not the password").await;
        assert_eq!(failed.header("location"), Some("/admin/login?error=invalid_credentials"), "{}", node.name);
    }
    for node in [&*a, &*b, &*c] {
        let held = node.sign_in(ADMIN_PASSWORD).await;
        assert_eq!(held.status, 429, "{} holds the account after five failures on three instances", node.name);
    }
    println!("five failed sign-ins spread over three instances: the account is held on all three");

    // kill -9 one instance under token and back-office load: the others
    // keep answering and every acknowledged write is in the database. The
    // back office runs on A's session, on every instance (sessions live in
    // the database).
    let worker: serde_json::Value = serde_json::from_str(&a.cli(&[
        "app",
        "create",
        "--owner",
        "admin",
        "--name",
        "Loaded",
        "--grant",
        "client_credentials",
        "--json",
    ]))
    .unwrap();
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        worker["client_id"].as_str().unwrap(),
        worker["client_secret"].as_str().unwrap()
    );
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let survivors_failed = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for (n, addr) in [a.addr, b.addr, c.addr].into_iter().cycle().take(6).enumerate() {
        let (body, acknowledged, failed, stop) =
            (body.clone(), Arc::clone(&acknowledged), Arc::clone(&survivors_failed), Arc::clone(&stop));
        let killed = n % 3 == 2;
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match http(addr, "POST", "/oauth2-token", &[FORM], &body).await {
                    Ok(answer) if answer.status == 200 => {
                        acknowledged.lock().unwrap().push(jti_of(answer.json()["access_token"].as_str().unwrap()))
                    }
                    other if !killed => failed.lock().unwrap().push(format!("{addr}: {other:?}")),
                    _ => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }));
    }
    let created = Arc::new(Mutex::new(Vec::new()));
    for (n, addr) in [a.addr, b.addr, c.addr].into_iter().enumerate() {
        let (cookies, csrf, created, failed, stop) =
            (cookies.clone(), csrf.clone(), Arc::clone(&created), Arc::clone(&survivors_failed), Arc::clone(&stop));
        load.push(tokio::spawn(async move {
            let headers = [("Content-Type", "application/json"), ("Cookie", cookies.as_str())];
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                k += 1;
                let name = format!("Under load {n}.{k}");
                let create = serde_json::json!({ "form": {
                    "csrf_token": csrf, "scope": "Mine", "organization_id": null, "owner_id": null,
                    "name": name, "active": true, "grant_type": "client_credentials", "redirect_uris": "",
                    "confidential": true, "skip_consent": false,
                }});
                match http(addr, "POST", "/admin/rpc/create_application", &headers, &create.to_string()).await {
                    Ok(answer) if answer.status == 200 => created.lock().unwrap().push(name),
                    other if n != 2 => failed.lock().unwrap().push(format!("{addr} back office: {other:?}")),
                    _ => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    c.kill_9();
    let at_kill = acknowledged.lock().unwrap().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let failed = survivors_failed.lock().unwrap().clone();
    let mut lost = 0;
    for jti in &acknowledged {
        if count(&format!("SELECT COUNT(*) FROM oauth_access_tokens WHERE jti = '{jti}'")).await != 1 {
            lost += 1;
        }
    }
    let created = created.lock().unwrap().clone();
    for name in &created {
        if count(&format!("SELECT COUNT(*) FROM oauth_applications WHERE name = '{name}'")).await != 1 {
            lost += 1;
        }
    }
    println!(
        "kill -9 of C under load: {} tokens and {} applications acknowledged ({at_kill} tokens before the kill), {} requests to A and B failed, {lost} acknowledged writes lost",
        acknowledged.len(),
        created.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "A and B kept answering: {:?}", &failed[..failed.len().min(5)]);
    assert!(acknowledged.len() > at_kill, "tokens were issued after the kill");
    assert!(created.len() > 3, "the back office kept creating applications");
    assert_eq!(lost, 0);
}
