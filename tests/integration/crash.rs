//! Crash safety and graceful shutdown of the real binary (issue 7): the
//! release server runs on its own SQLite file under token and back-office
//! write load and is killed with SIGKILL at random moments; after each kill
//! the database must pass `PRAGMA integrity_check` and hold every write that
//! got a success answer, with no half-created application. SIGTERM lets the
//! requests in flight finish.

use crate::harness::browser::{csrf_field, csrf_of, hidden_fields};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADMIN_PASSWORD: &str = "crash-test admin password";
pub(crate) const CALLBACK: &str = "https://app.example.com/callback";

/// An answer read off the wire to its end.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.split(';').next().unwrap_or("").to_owned())
            .collect()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

/// One HTTP/1.1 request on its own connection. `Err` for anything but a
/// complete answer (refused, reset, cut short). `body` is text or bytes.
pub(crate) async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl AsRef<[u8]>,
) -> std::io::Result<Answer> {
    use std::io::{Error, ErrorKind};
    let body = body.as_ref();
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut request = request.into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await?;
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut raw))
        .await
        .map_err(|_| Error::new(ErrorKind::TimedOut, "no answer in 20 s"))?;
    if raw.is_empty() {
        // Closed or reset before a byte of answer (e.g. never accepted).
        read?;
        return Err(Error::new(ErrorKind::ConnectionAborted, "closed without an answer"));
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").ok_or_else(|| Error::new(ErrorKind::UnexpectedEof, "cut short"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::new(ErrorKind::InvalidData, "no status line"))?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).collect();
    let find = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let body = if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = String::new();
        let mut rest = rest;
        loop {
            let (size, after) =
                rest.split_once("\r\n").ok_or_else(|| Error::new(ErrorKind::UnexpectedEof, "chunk cut short"))?;
            let size =
                usize::from_str_radix(size.trim(), 16).map_err(|_| Error::new(ErrorKind::InvalidData, "bad chunk"))?;
            if size == 0 {
                break body;
            }
            if after.len() < size {
                return Err(Error::new(ErrorKind::UnexpectedEof, "chunk cut short"));
            }
            body.push_str(&after[..size]);
            rest = after[size..].trim_start_matches("\r\n");
        }
    } else {
        let length: usize = find("content-length").and_then(|v| v.parse().ok()).unwrap_or(rest.len());
        if rest.len() < length {
            return Err(Error::new(ErrorKind::UnexpectedEof, "body cut short"));
        }
        rest[..length].to_owned()
    };
    Ok(Answer { status, headers, body })
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// The release binary on a folder of its own.
pub(crate) struct Server {
    dir: PathBuf,
    pub addr: SocketAddr,
    child: Option<Child>,
    /// Settings in place of the defaults of [`Server::command`].
    env: Vec<(&'static str, String)>,
}

impl Server {
    /// A server on `dir`'s database and keys, as they are.
    pub fn on(dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Server { dir: dir.to_owned(), addr: SocketAddr::from(([127, 0, 0, 1], port)), child: None, env: Vec::new() }
    }

    /// A server on a new folder, with new keys.
    pub fn new(dir: &Path) -> Self {
        let server = Self::on(dir);
        let keys = server.command().args(["keys", "generate"]).output().unwrap();
        assert!(keys.status.success(), "{}", String::from_utf8_lossy(&keys.stderr));
        server
    }

    /// The server, and its commands, with the environment variable `name`
    /// set to `value` (e.g. `POSTERN_DATABASE_URL`, to run on PostgreSQL).
    pub fn with_env(mut self, name: &'static str, value: &str) -> Self {
        self.env.push((name, value.to_owned()));
        self
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_postern"));
        command
            .current_dir(&self.dir)
            .env_remove("POSTERN_CONFIG")
            .env("POSTERN_DATABASE_URL", format!("sqlite://{}", self.db().display()))
            .env("POSTERN_PRIVATE_KEY", self.dir.join("private.key"))
            .env("POSTERN_PUBLIC_KEY", self.dir.join("public.key"))
            .env("POSTERN_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("POSTERN_PUBLIC_URL", format!("http://{}", self.addr))
            .env("POSTERN_RATE_LIMITS", "off")
            .env("POSTERN_LOG", "warn")
            .env("LEPTOS_SITE_ADDR", self.addr.to_string())
            .envs(self.env.clone())
            .stdin(Stdio::null());
        command
    }

    pub fn db(&self) -> PathBuf {
        self.dir.join("postern.db")
    }

    pub async fn start(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("server.log")).unwrap();
        let child = self.command().arg("serve").stdout(log.try_clone().unwrap()).stderr(log).spawn().unwrap();
        self.child = Some(child);
        let started = Instant::now();
        while http(self.addr, "GET", "/healthz", &[], "").await.map(|a| a.status).ok() != Some(200) {
            assert!(started.elapsed() < Duration::from_secs(30), "the server did not start: {}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    pub fn kill_9(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }

    fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.command().args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Signs in to the back office: the Cookie header and the CSRF token.
    pub async fn login(&self) -> (String, String) {
        let page = http(self.addr, "GET", "/admin/login", &[], "").await.unwrap();
        let csrf = page.cookies().into_iter().find(|c| c.starts_with("postern_csrf=")).unwrap();
        let token = csrf_field(&page.body);
        let body = form(&[("username", "admin"), ("password", ADMIN_PASSWORD), ("csrf_token", &token)]);
        let signed_in = http(
            self.addr,
            "POST",
            "/admin/login",
            &[("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", &csrf)],
            &body,
        )
        .await
        .unwrap();
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        let session = signed_in.cookies().into_iter().find(|c| c.starts_with("postern_session=")).unwrap();
        // The sign-in renews the CSRF cookie, and the token is bound to the session.
        let csrf = signed_in.cookies().into_iter().find(|c| c.starts_with("postern_csrf=")).unwrap();
        let cookies = format!("{csrf}; {session}");
        let token = csrf_of(&cookies);
        (cookies, token)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Writes that got a success answer.
#[derive(Default)]
struct Acknowledged {
    /// (client_id, secret, grant)
    applications: Vec<(String, String, String)>,
    tokens: Vec<String>,
    revoked: Vec<String>,
    /// client_ids the admin granted consent to.
    consents: Vec<String>,
    /// Token requests answered with anything but 200.
    refused: Vec<String>,
}

impl Acknowledged {
    fn snapshot(&self) -> Acknowledged {
        Acknowledged {
            applications: self.applications.clone(),
            tokens: self.tokens.clone(),
            revoked: self.revoked.clone(),
            consents: self.consents.clone(),
            refused: self.refused.clone(),
        }
    }
}

pub(crate) fn jti_of(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

/// Issues tokens without pause; every other one is revoked.
async fn token_load(
    addr: SocketAddr,
    client_id: String,
    secret: String,
    acked: Arc<Mutex<Acknowledged>>,
    revoke: bool,
) {
    let credentials =
        form(&[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_secret", &secret)]);
    let content = [("Content-Type", "application/x-www-form-urlencoded")];
    loop {
        let Ok(answer) = http(addr, "POST", "/oauth2-token", &content, &credentials).await else { return };
        if answer.status != 200 {
            acked.lock().unwrap().refused.push(format!("{} {}", answer.status, answer.body));
            continue;
        }
        let token = answer.json()["access_token"].as_str().unwrap().to_owned();
        let jti = jti_of(&token);
        acked.lock().unwrap().tokens.push(jti.clone());
        if revoke {
            let body = form(&[("token", &token), ("client_id", &client_id), ("client_secret", &secret)]);
            let Ok(answer) = http(addr, "POST", "/oauth2-token/revoke", &content, &body).await else { return };
            if answer.status == 200 {
                acked.lock().unwrap().revoked.push(jti);
            }
        }
    }
}

/// Creates applications in the back office, and consents to the
/// authorization-code ones, without pause.
async fn back_office_load(
    addr: SocketAddr,
    cookies: String,
    csrf: String,
    prefix: String,
    acked: Arc<Mutex<Acknowledged>>,
) {
    for n in 0.. {
        let code_grant = n % 2 == 1;
        let create = serde_json::json!({ "form": {
            "csrf_token": csrf, "scope": "Mine", "organization_id": null, "owner_id": null,
            "name": format!("{prefix} {n}"), "active": true,
            "grant_type": if code_grant { "authorization_code" } else { "client_credentials" },
            "redirect_uris": if code_grant { CALLBACK } else { "" },
            "confidential": true, "skip_consent": false,
        }});
        let headers = [("Content-Type", "application/json"), ("Cookie", cookies.as_str())];
        let Ok(answer) = http(addr, "POST", "/admin/rpc/create_application", &headers, &create.to_string()).await
        else {
            return;
        };
        assert_eq!(answer.status, 200, "{}", answer.body);
        let created = answer.json();
        let client_id = created["client_id"].as_str().unwrap().to_owned();
        let secret = created["client_secret"].as_str().unwrap().to_owned();
        let grant = if code_grant { "authorization_code" } else { "client_credentials" };
        acked.lock().unwrap().applications.push((client_id.clone(), secret, grant.into()));
        if code_grant {
            if consent(addr, &cookies, &client_id).await.is_err() {
                return;
            }
            acked.lock().unwrap().consents.push(client_id);
        }
    }
}

/// The back office's authorization request for `client_id`, by the
/// browser signed in with `cookies`.
pub(crate) async fn authorize(addr: SocketAddr, cookies: &str, client_id: &str) -> std::io::Result<Answer> {
    let query =
        form(&[("response_type", "code"), ("client_id", client_id), ("redirect_uri", CALLBACK), ("state", "s")]);
    http(addr, "GET", &format!("/admin/oauth2-token/authorize?{query}"), &[("Cookie", cookies)], "").await
}

/// Authorize → consent page → grant; the redirect back with the code.
pub(crate) async fn consent(addr: SocketAddr, cookies: &str, client_id: &str) -> Result<String, ()> {
    let cookie = [("Cookie", cookies)];
    let to_consent = authorize(addr, cookies, client_id).await.map_err(|_| ())?;
    let location = to_consent.header("location").ok_or(())?.to_owned();
    let page = http(addr, "GET", &location, &cookie, "").await.map_err(|_| ())?;
    let mut fields = hidden_fields(&page.body);
    fields.push(("decision".into(), "grant".into()));
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&fields).finish();
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookies)];
    let granted = http(addr, "POST", "/admin/oauth2-token/authorize", &headers, &body).await.map_err(|_| ())?;
    match granted.header("location") {
        Some(back) if granted.status == 303 && back.starts_with(CALLBACK) && back.contains("code=") => Ok(back.into()),
        _ => Err(()),
    }
}

/// The checks after a kill, on the database file itself (server stopped).
async fn check_database(db: &Path, acked: &Acknowledged) {
    let mut conn = SqliteConnectOptions::new().filename(db).connect().await.unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.unwrap();
    assert_eq!(integrity, "ok");
    let broken: Vec<(String,)> =
        sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&mut conn).await.unwrap();
    assert!(broken.is_empty(), "foreign keys broken: {broken:?}");
    for (client_id, secret, grant) in &acked.applications {
        let row: Option<(Vec<u8>, String)> =
            sqlx::query_as("SELECT secret_hash, grant_type FROM oauth_applications WHERE client_id = ?")
                .bind(client_id)
                .fetch_optional(&mut conn)
                .await
                .unwrap();
        let (hash, stored_grant) = row.unwrap_or_else(|| panic!("acknowledged application {client_id} is lost"));
        use sha2::Digest;
        assert_eq!(hash, sha2::Sha256::digest(secret.as_bytes()).to_vec(), "its secret is the one shown");
        assert_eq!(&stored_grant, grant);
    }
    // No half-created application: every one has its audit entry, its secret
    // hash when confidential, and a redirect URI when it uses codes.
    let half: Vec<(String,)> = sqlx::query_as(
        "SELECT a.client_id FROM oauth_applications a
         WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.application_id = a.id AND l.event = 'application.created')
            OR (a.confidential AND a.secret_hash IS NULL)
            OR (a.grant_type = 'authorization_code'
                AND NOT EXISTS (SELECT 1 FROM oauth_application_redirect_uris r WHERE r.application_id = a.id))",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(half.is_empty(), "half-created applications: {half:?}");
    for jti in &acked.tokens {
        let found: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM oauth_access_tokens t WHERE t.jti = ?
               AND EXISTS (SELECT 1 FROM audit_log l WHERE l.event = 'token.issued' AND l.detail LIKE '%jti ' || t.jti)",
        )
        .bind(jti)
        .fetch_optional(&mut conn)
        .await
        .unwrap();
        assert!(found.is_some(), "acknowledged token {jti} (or its audit entry) is lost");
    }
    for jti in &acked.revoked {
        let revoked: Option<i64> = sqlx::query_scalar("SELECT revoked_at FROM oauth_access_tokens WHERE jti = ?")
            .bind(jti)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(revoked.is_some(), "acknowledged revocation of {jti} is lost");
    }
    for client_id in &acked.consents {
        let found: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM oauth_consents c JOIN oauth_applications a ON a.id = c.application_id WHERE a.client_id = ?",
        )
        .bind(client_id)
        .fetch_optional(&mut conn)
        .await
        .unwrap();
        assert!(found.is_some(), "acknowledged consent to {client_id} is lost");
    }
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_write_load_loses_no_acknowledged_write() {
    const ROUNDS: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::new(dir.path());
    server.start().await;
    let load_app = server.cli_json(&[
        "app",
        "create",
        "--owner",
        "admin",
        "--name",
        "Load",
        "--grant",
        "client_credentials",
        "--json",
    ]);
    let (client_id, secret) =
        (load_app["client_id"].as_str().unwrap().to_owned(), load_app["client_secret"].as_str().unwrap().to_owned());
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    // Seeded, so that a failure replays with the same kill moments.
    let mut seed: u64 = 0x0C4A_5E5A_FE75;
    for round in 0..ROUNDS {
        let (cookies, csrf) = server.login().await;
        let mut load = tokio::task::JoinSet::new();
        for n in 0..3 {
            load.spawn(token_load(server.addr, client_id.clone(), secret.clone(), Arc::clone(&acked), n == 0));
        }
        load.spawn(back_office_load(server.addr, cookies, csrf, format!("Round {round}"), Arc::clone(&acked)));
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(400 + seed % 1200)).await;
        server.kill_9();
        load.join_all().await;
        let snapshot = {
            let acked = acked.lock().unwrap();
            acked.snapshot()
        };
        assert!(!snapshot.tokens.is_empty() && !snapshot.applications.is_empty(), "the load ran");
        check_database(&server.db(), &snapshot).await;
        server.start().await;
        // The server works on what it found: the newest acknowledged application's secret is accepted.
        let (id, secret, _) = snapshot.applications.last().unwrap();
        let body = form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)]);
        let answer =
            http(server.addr, "POST", "/oauth2-token", &[("Content-Type", "application/x-www-form-urlencoded")], &body)
                .await
                .unwrap();
        assert!(answer.status == 200 || answer.json()["error"] == "unauthorized_client", "{}", answer.body);
    }
    let acked = acked.lock().unwrap();
    println!(
        "kill -9: {ROUNDS} rounds survived; acknowledged and found after restart: {} applications, {} tokens, {} revocations, {} consents; 0 lost",
        acked.applications.len(),
        acked.tokens.len(),
        acked.revoked.len(),
        acked.consents.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_requests_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::new(dir.path());
    server.start().await;
    let app = server.cli_json(&[
        "app",
        "create",
        "--owner",
        "admin",
        "--name",
        "Drain",
        "--grant",
        "client_credentials",
        "--json",
    ]);
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", app["client_id"].as_str().unwrap()),
        ("client_secret", app["client_secret"].as_str().unwrap()),
    ]);
    let signalled: Arc<Mutex<Option<Instant>>> = Arc::default();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (addr, body, signalled) = (server.addr, body.clone(), Arc::clone(&signalled));
        clients.spawn(async move {
            let (mut finished_after_signal, mut refused) = (0, 0);
            loop {
                let sent = Instant::now();
                match http(
                    addr,
                    "POST",
                    "/oauth2-token",
                    &[("Content-Type", "application/x-www-form-urlencoded")],
                    &body,
                )
                .await
                {
                    Ok(answer) => {
                        assert_eq!(answer.status, 200, "{}", answer.body);
                        assert!(answer.json()["access_token"].is_string(), "a complete answer");
                        if signalled.lock().unwrap().is_some_and(|at| sent < at && at < Instant::now()) {
                            finished_after_signal += 1;
                        }
                    }
                    // After the signal no connection is taken (refused, or reset
                    // from the listen queue before a byte of answer). A partial
                    // answer would be an in-flight request cut off.
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::ConnectionRefused
                                | std::io::ErrorKind::ConnectionReset
                                | std::io::ErrorKind::ConnectionAborted
                        ) && signalled.lock().unwrap().is_some() =>
                    {
                        refused += 1;
                        if refused > 3 {
                            return (finished_after_signal, refused);
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(e) => panic!("a request was cut off: {e}"),
                }
                if signalled.lock().unwrap().is_some_and(|at| at.elapsed() > Duration::from_secs(5)) {
                    return (finished_after_signal, refused);
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut child = server.child.take().unwrap();
    *signalled.lock().unwrap() = Some(Instant::now());
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "the server did not stop within 15 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "SIGTERM ends the server cleanly: {status:?}\n{}", server.log());
    let finished: i32 = clients.join_all().await.iter().map(|(finished, _)| finished).sum();
    assert!(finished > 0, "requests in flight when SIGTERM came were answered");
}

/// `postern backup` while tokens and applications are being written (issue
/// 19): no token request fails during it, the copy passes its integrity
/// check, and a server started on the copy (with the same key files) has
/// every write acknowledged before the backup began and serves the clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_restores_into_a_working_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::new(dir.path());
    server.start().await;
    let load_app = server.cli_json(&[
        "app",
        "create",
        "--owner",
        "admin",
        "--name",
        "Load",
        "--grant",
        "client_credentials",
        "--json",
    ]);
    let (client_id, secret) =
        (load_app["client_id"].as_str().unwrap().to_owned(), load_app["client_secret"].as_str().unwrap().to_owned());
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let (cookies, csrf) = server.login().await;
    let mut load = tokio::task::JoinSet::new();
    for n in 0..3 {
        load.spawn(token_load(server.addr, client_id.clone(), secret.clone(), Arc::clone(&acked), n == 0));
    }
    load.spawn(back_office_load(server.addr, cookies, csrf, "Backed up".into(), Arc::clone(&acked)));
    tokio::time::sleep(Duration::from_millis(800)).await;

    let before = acked.lock().unwrap().snapshot();
    let copy = dir.path().join("backup.db");
    let mut command = server.command();
    command.arg("backup").arg(&copy);
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    let took = started.elapsed();
    let during = acked.lock().unwrap().tokens.len() - before.tokens.len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.kill_9();
    load.join_all().await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}{}", stdout, String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("integrity check ok"), "{stdout}");
    let refused = acked.lock().unwrap().refused.clone();
    assert!(refused.is_empty(), "token requests failed during the backup: {:?}", &refused[..refused.len().min(3)]);
    assert!(during > 0, "tokens were issued while the backup ran");
    assert!(!copy.with_extension("db.partial").exists(), "no partial file is left");
    // A second backup to the same name is refused, the first one kept.
    let again = server.command().arg("backup").arg(&copy).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // Restore: the copy as the database of a new folder, with the key files.
    let restored_dir = tempfile::tempdir().unwrap();
    for file in ["private.key", "public.key"] {
        std::fs::copy(dir.path().join(file), restored_dir.path().join(file)).unwrap();
    }
    std::fs::copy(&copy, restored_dir.path().join("postern.db")).unwrap();
    let mut restored = Server::on(restored_dir.path());
    check_database(&restored.db(), &before).await;
    restored.start().await;
    for (id, secret) in [(&client_id, &secret)].into_iter().chain(before.applications.iter().map(|(i, s, _)| (i, s))) {
        let body = form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)]);
        let answer = http(
            restored.addr,
            "POST",
            "/oauth2-token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &body,
        )
        .await
        .unwrap();
        assert!(answer.status == 200 || answer.json()["error"] == "unauthorized_client", "{}", answer.body);
    }
    println!(
        "backup under load: {} in {took:?} ({during} tokens issued meanwhile, 0 requests failed); restored with {} applications and {} tokens acknowledged before it began\n{}",
        copy.display(),
        before.applications.len(),
        before.tokens.len(),
        stdout.lines().take(2).collect::<Vec<_>>().join("\n")
    );
}
