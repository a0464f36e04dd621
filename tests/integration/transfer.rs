//! `postern export` and `postern import` (issue 19) on one engine: the
//! format describes every column there is, and an import is all or
//! nothing — a file cut short, from a newer Postern, altered, or with a
//! row the database refuses changes nothing, and a database that holds
//! data is refused unless told to merge. The move between engines is
//! `moving.rs`.

use crate::harness::TestApp;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SECRET: &str = "an export test secret, long enough for Argon2";

/// The binary on `dir`'s SQLite database and key files.
fn postern(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_postern"));
    command
        .current_dir(dir)
        .env_remove("POSTERN_CONFIG")
        .env("POSTERN_DATABASE_URL", format!("sqlite://{}", dir.join("postern.db").display()))
        .env("POSTERN_PRIVATE_KEY", dir.join("private.key"))
        .env("POSTERN_PUBLIC_KEY", dir.join("public.key"))
        .env("POSTERN_KEY_SECRET", SECRET)
        .env("POSTERN_LOG", "warn")
        .stdin(Stdio::null());
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    postern(dir).args(args).output().unwrap()
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn refused(out: &Output) -> String {
    assert!(!out.status.success(), "refused: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A folder with a database holding a user, an application and a key,
/// and its export.
fn exported() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    ok(&run(dir.path(), &["keys", "generate"]));
    ok(&run(dir.path(), &["user", "create", "--username", "ada", "--email", "ada@example.com", "--admin"]));
    ok(&run(
        dir.path(),
        &["app", "create", "--owner", "ada", "--name", "Reports", "--grant", "client_credentials", "--json"],
    ));
    let file = dir.path().join("export.jsonl");
    let out = ok(&run(dir.path(), &["export", file.to_str().unwrap()]));
    assert!(
        out.contains("users 1,") && out.contains("oauth_applications 1,") && out.contains("signing_keys 1"),
        "{out}"
    );
    (dir, file)
}

fn lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file).unwrap().lines().map(str::to_owned).collect()
}

fn write_lines(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    file
}

/// The format names every table and column of the schema this build
/// migrates to, on the engine of the test run (a migration that adds a
/// column without the export knowing it fails here, not in a user's move).
#[tokio::test]
async fn the_export_format_describes_every_column_of_the_schema() {
    let app = TestApp::new().await;
    let problems = postern::store::transfer::undescribed(&app.state.db).await.unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn an_import_that_fails_anywhere_changes_nothing() {
    let (source, file) = exported();
    let good = lines(&file);
    let target = tempfile::tempdir().unwrap();
    let t = target.path();

    // Cut short: no last line.
    let cut = write_lines(t, "cut.jsonl", &good[..good.len() - 1]);
    assert!(refused(&run(t, &["import", cut.to_str().unwrap()])).contains("the file is incomplete"));
    // From a newer Postern.
    let mut newer = good.clone();
    newer[0] = newer[0].replace("\"version\":2", "\"version\":3");
    let newer = write_lines(t, "newer.jsonl", &newer);
    let message = refused(&run(t, &["import", newer.to_str().unwrap()]));
    assert!(message.contains("export format 3; this Postern reads format 2"), "{message}");
    // A row taken out (the Viewer role, which nobody has): the counts of
    // the last line disagree.
    let viewer = good.iter().rposition(|l| l.starts_with("{\"roles\":")).unwrap();
    let mut fewer = good.clone();
    fewer.remove(viewer);
    let fewer = write_lines(t, "fewer.jsonl", &fewer);
    let message = refused(&run(t, &["import", fewer.to_str().unwrap()]));
    assert!(message.contains("the last line counts roles: 4, the file holds 3"), "{message}");
    // A value of the wrong kind, late in the file: the rows before it go too.
    let mut wrong = good.clone();
    let app = wrong.iter().position(|l| l.starts_with("{\"oauth_applications\":")).unwrap();
    let mut row: serde_json::Value = serde_json::from_str(&wrong[app]).unwrap();
    row["oauth_applications"][0] = serde_json::json!("seven");
    wrong[app] = row.to_string();
    let wrong = write_lines(t, "wrong.jsonl", &wrong);
    let message = refused(&run(t, &["import", wrong.to_str().unwrap()]));
    assert!(message.contains(&format!("line {}: oauth_applications.id is an integer", app + 1)), "{message}");
    // A row the database refuses (a second application with the same client_id).
    let mut twice = good.clone();
    let app = twice.iter().position(|l| l.starts_with("{\"oauth_applications\":")).unwrap();
    let mut copy: serde_json::Value = serde_json::from_str(&twice[app]).unwrap();
    copy["oauth_applications"][0] = serde_json::json!(99);
    twice.insert(app + 1, copy.to_string());
    let end = twice.len() - 1;
    twice[end] = twice[end].replace("\"oauth_applications\":1", "\"oauth_applications\":2");
    let twice = write_lines(t, "twice.jsonl", &twice);
    let message = refused(&run(t, &["import", twice.to_str().unwrap()]));
    assert!(message.contains("(oauth_applications): the database refused the row"), "{message}");
    assert!(!t.join("private.key").exists(), "no key file is left by a failed import");

    // Nothing of those stayed: the file imports into the same database as
    // into an empty one, and the key files are written.
    let out = ok(&run(t, &["import", file.to_str().unwrap()]));
    assert!(out.contains("users 1,") && out.contains("signing_keys 1"), "{out}");
    assert_eq!(
        std::fs::read(t.join("private.key")).unwrap(),
        std::fs::read(source.path().join("private.key")).unwrap()
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(t.join("private.key")).unwrap().permissions().mode() & 0o777, 0o600);

    // Holding data now: refused without --merge, nothing doubled with it.
    let message = refused(&run(t, &["import", file.to_str().unwrap()]));
    assert!(message.contains("the database already holds organizations, users"), "{message}");
    let merged = ok(&run(t, &["import", "--merge", file.to_str().unwrap()]));
    assert!(merged.contains("Merged:") && merged.contains(" 0 audit or outbox entries were added"), "{merged}");
    let again = ok(&run(t, &["export", t.join("again.jsonl").to_str().unwrap()]));
    assert_eq!(
        again.lines().nth(1),
        ok(&run(source.path(), &["export", t.join("source.jsonl").to_str().unwrap()])).lines().nth(1)
    );
}

#[test]
fn an_export_needs_the_key_secret_and_never_overwrites() {
    let (dir, file) = exported();
    let out = postern(dir.path()).env_remove("POSTERN_KEY_SECRET").args(["export", "other.jsonl"]).output().unwrap();
    assert!(refused(&out).contains("set POSTERN_KEY_SECRET"));
    assert!(!dir.path().join("other.jsonl").exists() && !dir.path().join("other.jsonl.partial").exists());
    let before = std::fs::read(&file).unwrap();
    assert!(refused(&run(dir.path(), &["export", file.to_str().unwrap()])).contains("exists already"));
    assert_eq!(std::fs::read(&file).unwrap(), before);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "it holds hashes");
    // The private key is sealed, never in clear.
    let private = std::fs::read_to_string(dir.path().join("private.key")).unwrap();
    let body: String = private.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!String::from_utf8_lossy(&before).contains(&body[..40]));

    // Another secret does not open it: the import says which secret it needs.
    let target = tempfile::tempdir().unwrap();
    let out = postern(target.path())
        .env("POSTERN_KEY_SECRET", "another secret that is long enough")
        .args(["import", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(refused(&out).contains("does not open with this key secret"));
    assert!(!target.path().join("private.key").exists());
}

/// What export format 2 added (OpenID Connect): columns per table, and the new table.
const ADDED_IN_2: &[(&str, &[&str])] =
    &[("oauth_authorization_codes", &["nonce", "auth_time", "claims"]), ("oauth_grants", &["auth_time", "claims"])];
const TABLE_ADDED_IN_2: &str = "oauth_application_post_logout_redirect_uris";

/// `file`'s lines as a version-1 file says them: the header without what
/// version 2 added, and the last line without the new table.
fn as_version_1(file: &Path) -> Vec<String> {
    let mut v1 = lines(file);
    let mut header: serde_json::Value = serde_json::from_str(&v1[0]).unwrap();
    assert_eq!(header["version"], 2, "this build writes format 2");
    header["version"] = serde_json::json!(1);
    let tables = header["tables"].as_object_mut().unwrap();
    assert!(tables.remove(TABLE_ADDED_IN_2).is_some());
    for (table, added) in ADDED_IN_2 {
        tables[*table].as_array_mut().unwrap().retain(|c| !added.contains(&c.as_str().unwrap()));
    }
    v1[0] = header.to_string();
    let last = v1.len() - 1;
    let mut end: serde_json::Value = serde_json::from_str(&v1[last]).unwrap();
    assert_eq!(end["end"].as_object_mut().unwrap().remove(TABLE_ADDED_IN_2), Some(serde_json::json!(0)));
    v1[last] = end.to_string();
    v1
}

/// A file exported before OpenID Connect (format 1) still imports: the
/// columns format 2 added are NULL, the table it added is empty; a column
/// format 1 had stays required, and a file cannot name what its version
/// does not have.
#[test]
fn a_version_1_file_still_imports() {
    let (_source, file) = exported();
    let mut v1 = as_version_1(&file);
    // A grant and its redeemed code, as format 1 lists their columns.
    let header: serde_json::Value = serde_json::from_str(&v1[0]).unwrap();
    assert_eq!(header["tables"]["oauth_grants"].as_array().unwrap().len(), 9);
    assert_eq!(header["tables"]["oauth_authorization_codes"].as_array().unwrap().len(), 12);
    let grant = serde_json::json!({ "oauth_grants": [1, 1, 1, null, "openid", 100, 4_102_444_800i64, null, null] });
    let code = serde_json::json!({ "oauth_authorization_codes": [
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1, 1, null, "https://reports.example.com/cb", true,
        "openid", null, 100, 160, 150, 1
    ] });
    let after = v1.iter().rposition(|l| l.starts_with("{\"oauth_applications\":")).unwrap();
    v1.insert(after + 1, grant.to_string());
    v1.insert(after + 2, code.to_string());
    let last = v1.len() - 1;
    let mut end: serde_json::Value = serde_json::from_str(&v1[last]).unwrap();
    end["end"]["oauth_grants"] = serde_json::json!(1);
    end["end"]["oauth_authorization_codes"] = serde_json::json!(1);
    v1[last] = end.to_string();

    let target = tempfile::tempdir().unwrap();
    let t = target.path();
    // Refused: a column format 1 had, missing; the table format 2 added, named in a format 1 file.
    let mut no_scope = v1.clone();
    let mut header: serde_json::Value = serde_json::from_str(&v1[0]).unwrap();
    header["tables"]["oauth_grants"].as_array_mut().unwrap().retain(|c| c != "scope");
    no_scope[0] = header.to_string();
    let no_scope = write_lines(t, "no-scope.jsonl", &no_scope);
    let message = refused(&run(t, &["import", no_scope.to_str().unwrap()]));
    assert!(message.contains("line 1: column oauth_grants.scope is missing"), "{message}");
    let mut named = v1.clone();
    let mut header: serde_json::Value = serde_json::from_str(&v1[0]).unwrap();
    header["tables"][TABLE_ADDED_IN_2] = serde_json::json!(["application_id", "position", "uri"]);
    named[0] = header.to_string();
    let named = write_lines(t, "named.jsonl", &named);
    let message = refused(&run(t, &["import", named.to_str().unwrap()]));
    assert!(message.contains(&format!("table {TABLE_ADDED_IN_2} is not part of export format 1")), "{message}");
    // Refused: a format 2 file without a column format 2 added.
    let mut no_nonce = lines(&file);
    let mut header: serde_json::Value = serde_json::from_str(&no_nonce[0]).unwrap();
    header["tables"]["oauth_authorization_codes"].as_array_mut().unwrap().retain(|c| c != "nonce");
    no_nonce[0] = header.to_string();
    let no_nonce = write_lines(t, "no-nonce.jsonl", &no_nonce);
    let message = refused(&run(t, &["import", no_nonce.to_str().unwrap()]));
    assert!(message.contains("column oauth_authorization_codes.nonce is missing"), "{message}");

    let v1 = write_lines(t, "v1.jsonl", &v1);
    let out = ok(&run(t, &["import", v1.to_str().unwrap()]));
    assert!(out.contains("oauth_grants 1,") && out.contains("oauth_authorization_codes 1,"), "{out}");

    // Exported again, in format 2: the grant and code as they were, NULL
    // where format 1 had nothing to say, and the new table empty.
    let again = t.join("again.jsonl");
    ok(&run(t, &["export", again.to_str().unwrap()]));
    let again = lines(&again);
    let header: serde_json::Value = serde_json::from_str(&again[0]).unwrap();
    assert_eq!(header["version"], 2);
    let row = |table: &str| -> serde_json::Map<String, serde_json::Value> {
        let columns = header["tables"][table].as_array().unwrap();
        let line = again.iter().find(|l| l.starts_with(&format!("{{\"{table}\":"))).unwrap();
        let values: serde_json::Value = serde_json::from_str(line).unwrap();
        columns.iter().map(|c| c.as_str().unwrap().to_owned()).zip(values[table].as_array().unwrap().clone()).collect()
    };
    let (grant, code) = (row("oauth_grants"), row("oauth_authorization_codes"));
    assert_eq!(
        (&grant["scope"], &grant["expires_at"]),
        (&serde_json::json!("openid"), &serde_json::json!(4_102_444_800i64))
    );
    assert_eq!((&code["used_at"], &code["grant_id"]), (&serde_json::json!(150), &serde_json::json!(1)));
    for (table, added) in ADDED_IN_2 {
        let row = if *table == "oauth_grants" { &grant } else { &code };
        for column in *added {
            assert_eq!(row[*column], serde_json::Value::Null, "{table}.{column}");
        }
    }
    let end: serde_json::Value = serde_json::from_str(again.last().unwrap()).unwrap();
    assert_eq!(end["end"][TABLE_ADDED_IN_2], 0);
}
