//! The `postern` binary itself: its commands, first start and refusal to
//! start on a database it cannot migrate. Each test runs in its own folder,
//! where the defaults put everything under `var/`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const OVERRIDES: &[&str] = &[
    "POSTERN_CONFIG",
    "POSTERN_DATABASE_URL",
    "POSTERN_PRIVATE_KEY",
    "POSTERN_PUBLIC_KEY",
    "POSTERN_ADMIN_PASSWORD",
    "POSTERN_PUBLIC_URL",
    "LEPTOS_SITE_ADDR",
];

fn postern(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_postern"));
    command.current_dir(dir).env("POSTERN_LOG", "warn").stdin(Stdio::null());
    for name in OVERRIDES {
        command.env_remove(name);
    }
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    postern(dir).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn keys_generate_protects_the_private_key_and_never_overwrites_silently() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &["keys", "generate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("var/oauth_private.key"));
    let private = dir.path().join("var/oauth_private.key");
    assert_eq!(std::fs::metadata(&private).unwrap().permissions().mode() & 0o777, 0o600);
    let before = std::fs::read(&private).unwrap();

    let again = run(dir.path(), &["keys", "generate"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_eq!(std::fs::read(&private).unwrap(), before, "the key was left alone");

    let forced = run(dir.path(), &["keys", "generate", "--force"]);
    assert!(forced.status.success());
    assert_ne!(std::fs::read(&private).unwrap(), before);
}

#[test]
fn user_and_app_create_print_their_secrets_once() {
    let dir = tempfile::tempdir().unwrap();
    let user = run(
        dir.path(),
        &["user", "create", "--username", "bob", "--email", "bob@example.com", "--organization", "Acme"],
    );
    assert!(user.status.success(), "{}", stderr(&user));
    let out = stdout(&user);
    let password = out.lines().find_map(|l| l.strip_prefix("Password: ")).expect("a generated password is printed");
    assert!(password.split_whitespace().next().unwrap().len() >= 20);

    let app = run(
        dir.path(),
        &["app", "create", "--owner", "bob", "--name", "Bob's sync", "--grant", "client_credentials", "--json"],
    );
    assert!(app.status.success(), "{}", stderr(&app));
    let created: serde_json::Value = serde_json::from_str(&stdout(&app)).unwrap();
    assert_eq!(created["client_id"].as_str().unwrap().len(), 32);
    assert_eq!(created["client_secret"].as_str().unwrap().len(), 43);
    assert_eq!(created["organization"], "Acme");

    let twice =
        run(dir.path(), &["app", "create", "--owner", "bob", "--name", "Bob's sync", "--grant", "client_credentials"]);
    assert!(!twice.status.success());
    assert!(stderr(&twice).contains("The application with the given name already exists."), "{}", stderr(&twice));

    let ghost = run(dir.path(), &["app", "create", "--owner", "ghost", "--name", "X", "--grant", "client_credentials"]);
    assert!(!ghost.status.success());
    assert!(stderr(&ghost).contains("no back-office user \"ghost\""), "{}", stderr(&ghost));
}

#[test]
fn user_create_reads_a_password_from_stdin_and_checks_the_email() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = postern(dir.path())
        .args(["user", "create", "--username", "carol", "--email", "carol@example.com", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a chosen password\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(!stdout(&output).contains("Password:"), "a chosen password is not echoed");

    let bad = run(dir.path(), &["user", "create", "--username", "dave", "--email", "not-an-email"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("not a valid email"), "{}", stderr(&bad));
}

#[test]
fn first_start_creates_an_admin_and_says_how_to_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = postern(dir.path())
        .arg("serve")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Postern is listening");
        lines.push(line);
        if done {
            break;
        }
    }
    child.kill().unwrap();
    let stderr_text = {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut s).unwrap();
        s
    };
    child.wait().unwrap();
    let out = lines.join("\n");
    assert!(out.contains(&format!("Log in at  http://127.0.0.1:{port}/admin/login")), "{out}");
    assert!(out.contains("User name  admin"), "{out}");
    let password = lines.iter().find_map(|l| l.trim().strip_prefix("Password   ")).unwrap();
    let password = password.split_whitespace().next().unwrap();
    assert!(stderr_text.contains("no signing keys"), "missing keys are reported: {stderr_text}");

    // The printed password is the admin's.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut config = postern::config::Config::default();
        config.database.url = format!("sqlite://{}", dir.path().join("var/postern.db").display());
        let db = postern::store::open(&config.database.url, 1).await.unwrap();
        let keys = postern::keys::KeyStore::load(&config.keys);
        let state = postern::state::AppState::new(db, config, keys);
        let session = postern::service::auth::login(&state, "admin", password).await;
        assert!(session.is_ok_and(|s| s.user.is_admin));
    });
}

#[test]
fn a_database_that_cannot_be_migrated_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var")).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // A table in the way of the first migration.
        let url = format!("sqlite://{}", dir.path().join("var/postern.db").display());
        let db = postern::store::open(&url, 1).await.unwrap();
        sql!(db, |c| sqlx::query("CREATE TABLE organizations (something TEXT)")
            .execute(&mut *c)
            .await?
            .rows_affected());
        db.close().await;
    });
    let output = postern(dir.path()).arg("serve").env("LEPTOS_SITE_ADDR", "127.0.0.1:0").output().unwrap();
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("could not be brought up to date"), "{err}");
    assert!(err.contains("did not start"), "{err}");
    assert!(!stdout(&output).contains("listening"));
}

#[test]
fn authorization_code_apps_and_customer_users_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let user = run(
        dir.path(),
        &["user", "create", "--username", "erin", "--email", "erin@example.com", "--organization", "Shop Co"],
    );
    assert!(user.status.success(), "{}", stderr(&user));

    // A public client may not skip consent (anyone can use its client ID)
    // unless the configuration allows it: the command line says so.
    let refused = run(
        dir.path(),
        &[
            "app",
            "create",
            "--owner",
            "erin",
            "--name",
            "Console",
            "--grant",
            "authorization_code",
            "--redirect-uri",
            "https://console.example.com/cb",
            "--public",
            "--skip-consent",
            "--json",
        ],
    );
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("A public client cannot skip user consent"), "{}", stderr(&refused));

    // A public back-office app with two redirect URIs.
    let app = run(
        dir.path(),
        &[
            "app",
            "create",
            "--owner",
            "erin",
            "--name",
            "Console",
            "--grant",
            "authorization_code",
            "--redirect-uri",
            "https://console.example.com/cb",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--post-logout-redirect-uri",
            "https://console.example.com/signed-out",
            "--public",
            "--json",
        ],
    );
    assert!(app.status.success(), "{}", stderr(&app));
    let created: serde_json::Value = serde_json::from_str(&stdout(&app)).unwrap();
    assert_eq!(created["grant_type"], "authorization_code");
    assert_eq!(created["kind"], "backoffice");
    assert!(created["client_secret"].is_null(), "a public client has no secret");
    assert_eq!(created["redirect_uris"], serde_json::json!(["https://console.example.com/cb", "http://127.0.0.1/cb"]));
    assert_eq!(created["post_logout_redirect_uris"], serde_json::json!(["https://console.example.com/signed-out"]));

    // Post-logout redirect URIs are checked like redirect URIs, and only
    // authorization_code applications have them.
    let bad = run(
        dir.path(),
        &[
            "app",
            "create",
            "--owner",
            "erin",
            "--name",
            "Bad logout",
            "--grant",
            "authorization_code",
            "--redirect-uri",
            "https://console.example.com/cb",
            "--post-logout-redirect-uri",
            "javascript:alert(1)",
        ],
    );
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("is not allowed for redirect URLs"), "{}", stderr(&bad));
    let machine = run(
        dir.path(),
        &[
            "app",
            "create",
            "--owner",
            "erin",
            "--name",
            "Machine",
            "--grant",
            "client_credentials",
            "--post-logout-redirect-uri",
            "https://console.example.com/signed-out",
        ],
    );
    assert!(!machine.status.success());
    assert!(
        stderr(&machine).contains("--post-logout-redirect-uri are for --grant authorization_code"),
        "{}",
        stderr(&machine)
    );

    // authorization_code needs a redirect URI; the service's message says so.
    let none = run(
        dir.path(),
        &["app", "create", "--owner", "erin", "--name", "No callback", "--grant", "authorization_code"],
    );
    assert!(!none.status.success());
    assert!(stderr(&none).contains("At least one redirect URL should be specified."), "{}", stderr(&none));

    // A customer user, then a storefront app owned by them.
    let customer = run(dir.path(), &["customer", "create", "--username", "frank", "--email", "frank@example.com"]);
    assert!(customer.status.success(), "{}", stderr(&customer));
    let out = stdout(&customer);
    assert!(out.contains("Created storefront customer user \"frank\""), "{out}");
    assert!(out.contains("Password: "), "a generated password is shown once: {out}");
    let shop = run(
        dir.path(),
        &[
            "app",
            "create",
            "--customer",
            "frank",
            "--name",
            "Shop app",
            "--grant",
            "authorization_code",
            "--redirect-uri",
            "https://shop.example.com/cb",
            "--json",
        ],
    );
    assert!(shop.status.success(), "{}", stderr(&shop));
    let shop: serde_json::Value = serde_json::from_str(&stdout(&shop)).unwrap();
    assert_eq!(shop["kind"], "storefront");
    assert_eq!(shop["organization"], "Shop Co");
    assert_eq!(shop["client_secret"].as_str().unwrap().len(), 43, "confidential by default");

    let both = run(
        dir.path(),
        &["app", "create", "--owner", "erin", "--customer", "frank", "--name", "X", "--grant", "client_credentials"],
    );
    assert!(!both.status.success(), "one owner only");
    let ghost =
        run(dir.path(), &["app", "create", "--customer", "ghost", "--name", "X", "--grant", "client_credentials"]);
    assert!(stderr(&ghost).contains("no customer user \"ghost\""), "{}", stderr(&ghost));
    let taken = run(dir.path(), &["customer", "create", "--username", "FRANK", "--email", "f2@example.com"]);
    assert!(!taken.status.success());
    assert!(stderr(&taken).contains("already exists"), "{}", stderr(&taken));
}

#[test]
fn keys_rotate_keeps_the_old_public_key_and_cleanup_reports_what_it_removed() {
    let dir = tempfile::tempdir().unwrap();
    let rotate_first = run(dir.path(), &["keys", "rotate"]);
    assert!(rotate_first.status.success(), "{}", stderr(&rotate_first));
    assert!(stdout(&rotate_first).contains("There was no usable key before"), "{}", stdout(&rotate_first));
    let public = dir.path().join("var/oauth_public.key");
    let before = std::fs::read_to_string(&public).unwrap();

    let rotated = run(dir.path(), &["keys", "rotate"]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let out = stdout(&rotated);
    assert!(out.contains("still verifies the tokens it signed, and stays in the JWKS"), "{out}");
    assert!(out.contains("no restart is needed"), "{out}");
    let retired: Vec<_> =
        std::fs::read_dir(dir.path().join("var/retired_keys")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(std::fs::read_to_string(&retired[0]).unwrap(), before, "the old public key, kept as it was");
    assert_ne!(std::fs::read_to_string(&public).unwrap(), before);

    let cleanup = run(dir.path(), &["cleanup"]);
    assert!(cleanup.status.success(), "{}", stderr(&cleanup));
    assert!(
        stdout(&cleanup).contains("0 access tokens") && stdout(&cleanup).contains("0 retired keys"),
        "{}",
        stdout(&cleanup)
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("var/retired_keys")).unwrap().count(),
        1,
        "its tokens may still be alive"
    );

    // Both rotations are in the audit log.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = postern::store::open(&format!("sqlite://{}", dir.path().join("var/postern.db").display()), 1)
            .await
            .unwrap();
        let filter = postern::store::audit::Filter { event: Some("key.rotated"), ..Default::default() };
        let (rows, total) = postern::store::audit::search(&db, &filter, 10, 0).await.unwrap();
        assert_eq!(total, 2);
        assert!(rows[0].detail.contains("retired kid"), "{:?}", rows[0]);
    });
}

/// `postern backup` on PostgreSQL makes nothing and says what to do
/// instead: pg_dump, and the key secret kept beside the dump.
#[tokio::test]
async fn backup_on_postgresql_points_to_pg_dump_and_the_key_secret() {
    let Ok(server) = std::env::var("POSTERN_TEST_POSTGRES") else { return };
    if server.is_empty() {
        return;
    }
    let url = crate::harness::fresh_postgres_database(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let out = postern(dir.path()).env("POSTERN_DATABASE_URL", &url).args(["backup", "copy.db"]).output().unwrap();
    assert!(!out.status.success(), "no backup was made: {}", stdout(&out));
    let message = stderr(&out);
    assert!(message.contains("pg_dump --format=custom"), "{message}");
    assert!(message.contains("POSTERN_KEY_SECRET"), "{message}");
    assert!(!dir.path().join("copy.db").exists());
}

/// A backup of a database that does not exist makes nothing (and creates
/// no empty database on the way).
#[test]
fn backup_of_a_missing_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["backup", "copy.db"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("there is no database at var/postern.db"), "{}", stderr(&out));
    assert!(!dir.path().join("var/postern.db").exists() && !dir.path().join("copy.db").exists());
}
