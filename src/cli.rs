//! The command line: `serve` (the default), `keys generate`, `keys rotate`,
//! `user create`, `customer create`, `app create`, `cleanup`. Messages are for people: what happened, what to do next.

use crate::config::Config;
use crate::keys::{self, KeyStore};
use crate::model::Subject;
use crate::oauth::grant::GrantType;
use crate::oauth::jwt::Alg;
use crate::service::applications::NewApplicationInput;
use crate::service::{self, ServiceError};
use crate::state::AppState;
use crate::store;
use axum::serve::ListenerExt as _;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "postern", version, about = "An OAuth 2.0 authorization server with a back office.")]
pub struct Cli {
    /// Settings file (default: Leptos.toml in the working directory, if present).
    #[arg(long, global = true, env = "POSTERN_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage the RSA keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage back-office users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage storefront customer users.
    Customer {
        #[command(subcommand)]
        command: CustomerCommand,
    },
    /// Manage OAuth applications.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Remove expired authorization codes, tokens, grants, sessions and
    /// retired keys now (the server also does it every hour). The audit log stays.
    Cleanup,
    /// Copy the SQLite database into FILE while the server runs (a
    /// consistent, checked copy; token issuance goes on). On PostgreSQL,
    /// says how to use pg_dump.
    Backup {
        /// The new file (never overwritten).
        file: PathBuf,
    },
    /// Write everything the server needs to go on serving to FILE: people,
    /// applications, consents, live grants and tokens, settings, the audit
    /// log and the signing keys (sealed with the key secret). Either engine
    /// imports it (docs/export-format.md). The server may run meanwhile.
    Export {
        /// The new file (never overwritten; mode 0600).
        file: PathBuf,
    },
    /// Read an export into the configured database (created and migrated if
    /// new), all or nothing. Refuses a database that holds data unless
    /// --merge.
    Import {
        /// A file written by `postern export`.
        file: PathBuf,
        /// Add the file's rows to a database that holds data: a row with the
        /// same key is replaced by the file's; audit and outbox entries whose
        /// number is taken are added under a new one.
        #[arg(long)]
        merge: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Generate the signing key pair at the configured paths (or in the
    /// database on PostgreSQL).
    Generate {
        /// Replace existing keys (tokens signed with them stop verifying).
        #[arg(long)]
        force: bool,
        /// RS256 (RSA-2048, the default: every client supports it), ES256
        /// (P-256) or EdDSA (Ed25519): both sign many times faster, but
        /// OpenID Connect relying parties expect RS256 ID tokens unless told.
        #[arg(long, default_value = "RS256", value_parser = parse_alg)]
        alg: Alg,
    },
    /// Make a new key the signing key; the old public key keeps verifying
    /// (and stays in the JWKS) until the tokens it signed have expired.
    /// A running server switches within seconds, without a restart.
    Rotate {
        /// The new key's algorithm (RS256, ES256 or EdDSA); by default the
        /// current key's.
        #[arg(long, value_parser = parse_alg)]
        alg: Option<Alg>,
    },
}

fn parse_alg(name: &str) -> Result<Alg, String> {
    Alg::parse(name).ok_or_else(|| format!("{name} is not one of RS256, ES256, EdDSA"))
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a back-office user; prints a generated password once unless --password-stdin.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Organization name (created if it does not exist); default: the first one.
        #[arg(long)]
        organization: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum CustomerCommand {
    /// Create a storefront customer user; prints a generated password once unless --password-stdin.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Organization name; default: the first one.
        #[arg(long)]
        organization: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GrantArg {
    #[value(name = "client_credentials")]
    ClientCredentials,
    #[value(name = "authorization_code")]
    AuthorizationCode,
}

#[derive(Subcommand, Debug)]
pub enum AppCommand {
    /// Create an OAuth application; prints its client ID and secret once.
    Create {
        /// User name of the back-office user who owns the (back-office) application.
        #[arg(long, required_unless_present = "customer", conflicts_with = "customer")]
        owner: Option<String>,
        /// User name of the customer user who owns the application; makes it a storefront application.
        #[arg(long)]
        customer: Option<String>,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        grant: GrantArg,
        /// A redirect URI (authorization_code; repeat for several).
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// Where OpenID Connect logout may send people back to, matched
        /// exactly (authorization_code; optional; repeat for several).
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (no secret; must use PKCE). authorization_code only.
        #[arg(long)]
        public: bool,
        /// Skip the consent page (trusted first-party application).
        #[arg(long)]
        skip_consent: bool,
        /// Organization name; default: the owner's (first) organization.
        #[arg(long)]
        organization: Option<String>,
        /// Create it inactive.
        #[arg(long)]
        inactive: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => return fail(&format!("cannot load the settings: {e}")),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Keys { command: KeysCommand::Generate { force, alg } } => keys_generate(config, force, alg).await,
            Command::Keys { command: KeysCommand::Rotate { alg } } => keys_rotate(config, alg).await,
            Command::Cleanup => cleanup(config).await,
            Command::Backup { file } => backup(config, &file).await,
            Command::Export { file } => export(config, &file).await,
            Command::Import { file, merge } => import(config, &file, merge).await,
            Command::User { command } => user(config, command).await,
            Command::Customer { command } => customer(config, command).await,
            Command::App { command } => app(config, command).await,
        }
    })
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("POSTERN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,leptos_axum=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

fn fail(message: &str) -> ExitCode {
    eprintln!("postern: error: {message}");
    ExitCode::FAILURE
}

/// Opens and migrates the database; a failed migration stops here. Only the
/// server reads the signing keys.
async fn open_state(config: Config, load_keys: bool) -> Result<AppState, ExitCode> {
    let db =
        store::open(&config.database.url, config.database.max_connections).await.map_err(|e| fail(&e.to_string()))?;
    if let Err(e) = store::migrate(&db).await {
        return Err(fail(&format!("{e}. Postern did not start; the database was left as it was.")));
    }
    let keys = match (load_keys, db.engine()) {
        (false, _) => KeyStore::unloaded(&config.keys),
        (true, store::Engine::Sqlite) => KeyStore::load(&config.keys),
        // Several instances sign with the keys the database holds.
        (true, store::Engine::Postgres) => keys::database::open(&config.keys, &db, service::now())
            .await
            .map_err(|e| fail(&format!("{e}. Postern did not start.")))?,
    };
    Ok(AppState::new(db, config, keys))
}

async fn serve(config: Config) -> ExitCode {
    let addr = config.server.site_addr;
    let state = match open_state(config, true).await {
        Ok(state) => state,
        Err(code) => return code,
    };
    let base = state.config.public_url();
    let admin_password = std::env::var("POSTERN_ADMIN_PASSWORD").ok().filter(|p| !p.is_empty());
    match service::bootstrap::bootstrap(&state, admin_password).await {
        Ok(Some(admin)) => {
            println!(
                "\nFirst start: created the organization \"{}\" and an administrator.",
                service::bootstrap::DEFAULT_ORGANIZATION
            );
            println!("  Log in at  {base}/admin/login");
            println!("  User name  {}", admin.username);
            if admin.generated {
                println!("  Password   {}   (shown only now; set POSTERN_ADMIN_PASSWORD to choose it)", admin.password);
            } else {
                println!("  Password   the value of POSTERN_ADMIN_PASSWORD");
            }
            println!();
        }
        Ok(None) => {}
        Err(e) => return fail(&format!("cannot create the first administrator: {e}")),
    }
    if state.keys.signing_key().is_none() {
        eprintln!(
            "postern: warning: no signing keys at {} / {}; token requests answer no_encryption_key. Run `postern keys generate`.",
            state.config.keys.private_key.display(),
            state.config.keys.public_key.display()
        );
    }
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            return fail(&format!(
                "cannot listen on {addr}: {e}. Is another server using it? Set LEPTOS_SITE_ADDR or server.site_addr in Leptos.toml."
            ))
        }
    };
    // Each response leaves in the write that makes it, not after the
    // client's delayed acknowledgement of the one before (Nagle's
    // algorithm), as browsers and HTTP clients expect of a server.
    let listener = listener.tap_io(|stream| {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY on a connection");
        }
    });
    store::listen::spawn(&state.db);
    service::cleanup::spawn_periodic(state.clone());
    let app = crate::server::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    println!("Postern is listening on http://{addr}  (back office: {base}/admin, token endpoint: {base}/oauth2-token)");
    tracing::info!(%addr, "listening");
    let shutdown = async {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                s.recv().await;
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
        tracing::info!("shutting down: finishing requests in flight");
    };
    match axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("the server stopped: {e}")),
    }
}

/// The database and key secret of `keys generate|rotate` on PostgreSQL;
/// `Ok(None)` on SQLite (the keys are files).
async fn key_database(config: &Config) -> Result<Option<(store::Db, keys::sealed::KeySecret)>, ExitCode> {
    if store::Engine::of_url(&config.database.url) != store::Engine::Postgres {
        return Ok(None);
    }
    let secret = keys::database::secret(&config.keys).map_err(|e| fail(&e))?;
    let db =
        store::open(&config.database.url, config.database.max_connections).await.map_err(|e| fail(&e.to_string()))?;
    store::migrate(&db).await.map_err(|e| fail(&e.to_string()))?;
    Ok(Some((db, secret)))
}

/// What `keys generate` says it made.
fn key_kind(alg: Alg) -> &'static str {
    match alg {
        Alg::RS256 => "an RSA-2048 key pair (RS256)",
        Alg::ES256 => "a P-256 key pair (ES256)",
        Alg::EdDSA => "an Ed25519 key pair (EdDSA)",
    }
}

async fn keys_generate(config: Config, force: bool, alg: Alg) -> ExitCode {
    let database = match key_database(&config).await {
        Ok(database) => database,
        Err(code) => return code,
    };
    if let Some((db, secret)) = database {
        return match keys::database::generate(&db, &secret, force, alg, service::now()).await {
            Ok(kid) => {
                println!(
                    "Generated {} (kid {kid}) in the database, its private key sealed with the key secret.",
                    key_kind(alg)
                );
                println!(
                    "Every running instance signs with it within {} seconds.",
                    config.maintenance.key_reload_interval
                );
                let detail = format!("kid {kid} in the database{}", if force { " (replaced every key)" } else { "" });
                audit_key_event(config, service::audit::AuditEvent::KeyGenerated, &detail).await;
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        };
    }
    match keys::generate(&config.keys, force, alg) {
        Ok(kid) => {
            println!("Generated {} (kid {kid}):", key_kind(alg));
            println!("  private key  {}  (mode 0600)", config.keys.private_key.display());
            println!("  public key   {}", config.keys.public_key.display());
            println!("A running server picks the keys up within a few seconds.");
            let detail = format!("kid {kid}{}", if force { " (replaced the previous key)" } else { "" });
            audit_key_event(config, service::audit::AuditEvent::KeyGenerated, &detail).await;
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

async fn keys_rotate(config: Config, alg: Option<Alg>) -> ExitCode {
    let now = service::now();
    let rotated = match key_database(&config).await {
        Ok(Some((db, secret))) => keys::database::rotate(&db, &secret, alg, now).await,
        Ok(None) => keys::rotate(&config.keys, alg, now),
        Err(code) => return code,
    };
    match rotated {
        Ok(rotation) => {
            println!("The new signing key is {}.", rotation.new_kid);
            println!("It signs with {}.", rotation.new_alg);
            let detail = match (&rotation.retired_kid, &rotation.retired_file) {
                (Some(old), Some(file)) => {
                    let until =
                        now + config.tokens.access_token_lifetime + config.maintenance.key_reload_interval as i64 + 60;
                    println!("The old key {old} still verifies the tokens it signed, and stays in the JWKS,");
                    println!(
                        "until {} (then `postern cleanup` or the server removes it).",
                        crate::dates::rfc3339(until)
                    );
                    println!("  retired public key  {}", file.display());
                    format!("new kid {}; retired kid {old}", rotation.new_kid)
                }
                (Some(old), None) => {
                    let until =
                        now + config.tokens.access_token_lifetime + config.maintenance.key_reload_interval as i64 + 60;
                    println!("The old key {old} still verifies the tokens it signed, and stays in the JWKS of");
                    println!(
                        "every instance until {} (its private half is gone already).",
                        crate::dates::rfc3339(until)
                    );
                    format!("new kid {}; retired kid {old} (database)", rotation.new_kid)
                }
                _ => {
                    println!("There was no usable key before; nothing was retired.");
                    format!("new kid {}; no previous key", rotation.new_kid)
                }
            };
            println!(
                "A running server signs with the new key within {} seconds; no restart is needed.",
                config.maintenance.key_reload_interval
            );
            audit_key_event(config, service::audit::AuditEvent::KeyRotated, &detail).await;
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

/// Records a key event in the audit log; the keys are written either way.
async fn audit_key_event(config: Config, event: service::audit::AuditEvent, detail: &str) {
    match open_state(config, false).await {
        Ok(state) => {
            let entry = store::audit::NewEntry { detail, ..service::audit::entry(event, service::now()) };
            service::audit::note(&state.db, &entry).await;
        }
        Err(_) => {
            eprintln!("postern: warning: the key change could not be written to the audit log (database unavailable)")
        }
    }
}

async fn cleanup(config: Config) -> ExitCode {
    let state = match open_state(config, false).await {
        Ok(state) => state,
        Err(code) => return code,
    };
    match service::cleanup::run(&state, service::now()).await {
        Ok(report) => {
            println!("Removed {report}.");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("the cleanup failed: {e}; nothing was lost, run it again")),
    }
}

/// The database as it is, for a command that copies it (`backup`,
/// `export`): not migrated, and never created — a SQLite file that is not
/// there is an error that names it (`doing`: what there is nothing to do).
async fn open_as_is(config: &Config, doing: &str) -> Result<store::Db, ExitCode> {
    if let Some(database) = store::sqlite_file(&config.database.url).filter(|f| !f.exists()) {
        return Err(fail(&format!(
            "there is no database at {} (database.url, POSTERN_DATABASE_URL): nothing to {doing}",
            database.display()
        )));
    }
    store::open(&config.database.url, 2).await.map_err(|e| fail(&e.to_string()))
}

async fn backup(config: Config, file: &Path) -> ExitCode {
    let db = match open_as_is(&config, "back up").await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let report = match service::backup::backup(&db, &config.database.url, file).await {
        Ok(report) => report,
        Err(e) => return fail(&e.to_string()),
    };
    let rows: i64 = report.check.counts.iter().map(|(_, n)| n).sum();
    println!(
        "Backed up {} to {} in {:.2} s: {:.1} MB, {rows} rows, integrity check ok.",
        store::redact(&config.database.url),
        report.file.display(),
        report.took.as_secs_f64(),
        report.bytes as f64 / 1_000_000.0
    );
    let counts: Vec<String> = report.check.counts.iter().map(|(table, n)| format!("{table} {n}")).collect();
    println!("  {}", counts.join(", "));
    let keys = &config.keys;
    println!(
        "Keep the signing keys with it (they are files, not in the database): {}, {} and the folder {}.",
        keys.private_key.display(),
        keys.public_key.display(),
        keys.retired_dir().display()
    );
    println!(
        "To restore: stop Postern, put the copy at the database's path (and remove the old -wal and -shm files beside it), start Postern."
    );
    ExitCode::SUCCESS
}

/// `table n, table n, …`, as `postern export` and `postern import` print them.
fn counts_line(counts: &[(&str, u64)]) -> String {
    counts.iter().map(|(table, n)| format!("{table} {n}")).collect::<Vec<_>>().join(", ")
}

/// The rows and keys of a count, as a phrase.
fn rows_and_keys(counts: &[(&str, u64)]) -> String {
    let keys = counts.iter().find(|(t, _)| *t == store::transfer::SIGNING_KEYS.name).map_or(0, |(_, n)| *n);
    let rows: u64 = counts.iter().filter(|(t, _)| *t != store::transfer::SIGNING_KEYS.name).map(|(_, n)| n).sum();
    format!("{rows} rows and {keys} signing key{}", if keys == 1 { "" } else { "s" })
}

async fn export(config: Config, file: &Path) -> ExitCode {
    let db = match open_as_is(&config, "export").await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let report = match service::transfer::export(&db, &config.keys, file, service::now()).await {
        Ok(report) => report,
        Err(e) => return fail(&e.to_string()),
    };
    println!(
        "Exported {} to {} in {:.2} s: {:.1} MB, {}.",
        store::redact(&config.database.url),
        report.file.display(),
        report.took.as_secs_f64(),
        report.bytes as f64 / 1_000_000.0,
        rows_and_keys(&report.counts)
    );
    println!("  {}", counts_line(&report.counts));
    println!(
        "It holds password hashes, client-secret hashes and the private signing key sealed with the key secret: \
         keep it as you keep backups (it was written with mode 0600), and the secret apart from it."
    );
    println!("Import it with `postern import {}` and the same key secret.", report.file.display());
    ExitCode::SUCCESS
}

async fn import(config: Config, file: &Path, merge: bool) -> ExitCode {
    let db = match store::open(&config.database.url, 2).await {
        Ok(db) => db,
        Err(e) => return fail(&e.to_string()),
    };
    if let Err(e) = store::migrate(&db).await {
        return fail(&format!("{e}; nothing was imported"));
    }
    let report = match service::transfer::import(&db, &config.keys, file, merge, service::now()).await {
        Ok(report) => report,
        Err(e) => return fail(&e.to_string()),
    };
    println!(
        "Imported {} (exported from {} at {}) into {} in {:.2} s: {}.",
        file.display(),
        report.from_engine,
        crate::dates::display(report.exported_at),
        store::redact(&config.database.url),
        report.took.as_secs_f64(),
        rows_and_keys(&report.counts)
    );
    println!("  {}", counts_line(&report.counts));
    if merge {
        println!(
            "Merged: {} rows were there already; {} audit or outbox entries were added under a new number.",
            report.already_there, report.renumbered
        );
    }
    if report.stored != report.counts {
        println!("The database now holds: {}", counts_line(&report.stored));
    }
    match db.engine() {
        store::Engine::Postgres => println!(
            "Start Postern on it with the same key secret (POSTERN_KEY_SECRET or keys.secret_file): the signing keys stay sealed with it."
        ),
        store::Engine::Sqlite => println!(
            "The signing keys are the files {} and {} (and the folder {}); start Postern.",
            config.keys.private_key.display(),
            config.keys.public_key.display(),
            config.keys.retired_dir().display()
        ),
    }
    ExitCode::SUCCESS
}

fn service_fail(e: ServiceError) -> ExitCode {
    fail(&e.to_string())
}

/// The password to set: read from standard input, or generated (then the
/// caller prints it once). `true` when generated.
fn password(from_stdin: bool) -> Result<(String, bool), ExitCode> {
    if !from_stdin {
        return Ok((service::random::password(), true));
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return Err(fail(&format!("cannot read the password from standard input: {e}")));
    }
    Ok((input.trim_end_matches(['\r', '\n']).to_owned(), false))
}

async fn user(config: Config, command: UserCommand) -> ExitCode {
    let state = match open_state(config, false).await {
        Ok(state) => state,
        Err(code) => return code,
    };
    let UserCommand::Create { username, email, admin, organization, password_stdin } = command;
    let (password, generated) = match password(password_stdin) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let input = service::users::NewUserInput {
        username: &username,
        email: &email,
        password: &password,
        role_id: Some(if admin { store::roles::ADMINISTRATOR } else { store::roles::DEVELOPER }),
        organization: organization.as_deref(),
    };
    match service::users::create_user(&state, input).await {
        Ok(user) => {
            let role = user.role.as_deref().unwrap_or("user").to_lowercase();
            println!("Created back-office {role} \"{}\" <{}>.", user.username, user.email);
            if generated {
                println!("Password: {password}   (shown only now)");
            }
            ExitCode::SUCCESS
        }
        Err(e) => service_fail(e),
    }
}

async fn app(config: Config, command: AppCommand) -> ExitCode {
    let state = match open_state(config, false).await {
        Ok(state) => state,
        Err(code) => return code,
    };
    let AppCommand::Create {
        owner,
        customer,
        name,
        grant,
        redirect_uris,
        post_logout_redirect_uris,
        public,
        skip_consent,
        organization,
        inactive,
        json,
    } = command;
    let grant_type = match grant {
        GrantArg::ClientCredentials => GrantType::ClientCredentials,
        GrantArg::AuthorizationCode => GrantType::AuthorizationCode,
    };
    if grant_type == GrantType::ClientCredentials
        && (public || !redirect_uris.is_empty() || !post_logout_redirect_uris.is_empty())
    {
        return fail("--public, --redirect-uri and --post-logout-redirect-uri are for --grant authorization_code; client_credentials applications are confidential and redirect nowhere");
    }
    let (owner_id, kind, org) = match (owner, customer) {
        (_, Some(customer)) => {
            let found = match store::customer_users::find_by_username(&state.db, &customer).await {
                Ok(Some(c)) => c,
                Ok(None) => {
                    return fail(&format!(
                        "there is no customer user \"{customer}\" (create one with `postern customer create`)"
                    ))
                }
                Err(e) => return service_fail(e.into()),
            };
            if organization.as_ref().is_some_and(|o| o != &found.organization) {
                return fail(&format!("\"{customer}\" belongs to the organization \"{}\"", found.organization));
            }
            let org =
                store::organizations::Organization { id: found.organization_id, name: found.organization.clone() };
            (Subject::Customer(found.id), crate::model::Side::Storefront, org)
        }
        (Some(owner), None) => {
            let owner_user = match store::users::find_by_username(&state.db, &owner).await {
                Ok(Some(user)) => user,
                Ok(None) => {
                    return fail(&format!(
                        "there is no back-office user \"{owner}\" (create one with `postern user create`)"
                    ))
                }
                Err(e) => return service_fail(e.into()),
            };
            let organizations = match store::organizations::of_user(&state.db, owner_user.id).await {
                Ok(orgs) => orgs,
                Err(e) => return service_fail(e.into()),
            };
            let org = match &organization {
                Some(wanted) => organizations.iter().find(|o| &o.name == wanted),
                None => organizations.first(),
            };
            let Some(org) = org.cloned() else {
                return fail(&match organization {
                    Some(o) => format!("\"{owner}\" is not a member of the organization \"{o}\""),
                    None => format!("\"{owner}\" belongs to no organization"),
                });
            };
            (Subject::User(owner_user.id), crate::model::Side::BackOffice, org)
        }
        (None, None) => return fail("name the owner: --owner USER (back office) or --customer USER (storefront)"),
    };
    let input = NewApplicationInput {
        organization_id: org.id,
        name,
        active: !inactive,
        grant_type,
        side: kind,
        owner: Some(owner_id),
        confidential: !public,
        skip_consent,
        redirect_uris,
        post_logout_redirect_uris,
    };
    let display_name = input.name.trim().to_owned();
    let redirect_list = input.redirect_uris.clone();
    let post_logout_list = input.post_logout_redirect_uris.clone();
    match service::applications::create(&state, input).await {
        Ok(created) => {
            let secret = created.client_secret.as_ref().map(|s| s.expose().to_owned());
            if json {
                let out = serde_json::json!({
                    "name": display_name,
                    "organization": org.name,
                    "grant_type": grant_type.as_str(),
                    "kind": kind.as_str(),
                    "redirect_uris": redirect_list,
                    "post_logout_redirect_uris": post_logout_list,
                    "client_id": created.client_id,
                    "client_secret": secret,
                });
                println!("{out}");
            } else {
                let side = match kind {
                    crate::model::Side::BackOffice => "back-office",
                    crate::model::Side::Storefront => "storefront",
                };
                println!(
                    "Created the {side} OAuth application \"{display_name}\" ({}, organization {}).",
                    grant_type.as_str(),
                    org.name
                );
                println!("  Client ID      {}", created.client_id);
                for uri in &redirect_list {
                    println!("  Redirect URI   {uri}");
                }
                for uri in &post_logout_list {
                    println!("  After logout   {uri}");
                }
                if secret.is_none() {
                    println!("  Public client: no secret; it must use PKCE (S256).");
                }
                if let Some(secret) = secret {
                    println!("  Client Secret  {secret}");
                    println!("Copy the secret now: it is stored only as a hash and will not be shown again.");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => service_fail(e),
    }
}

async fn customer(config: Config, command: CustomerCommand) -> ExitCode {
    let state = match open_state(config, false).await {
        Ok(state) => state,
        Err(code) => return code,
    };
    let CustomerCommand::Create { username, email, organization, password_stdin } = command;
    let (password, generated) = match password(password_stdin) {
        Ok(p) => p,
        Err(code) => return code,
    };
    match service::customers::create_from_cli(&state, organization.as_deref(), &username, &email, &password).await {
        Ok(customer) => {
            println!(
                "Created storefront customer user \"{}\" <{}> in the organization {}.",
                customer.username, customer.email, customer.organization
            );
            if generated {
                println!("Password: {password}   (shown only now)");
            }
            println!("They sign in at {}/login.", state.config.public_url());
            ExitCode::SUCCESS
        }
        Err(e) => service_fail(e),
    }
}
