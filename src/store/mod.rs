//! Persistence: the SQLite pool, migrations, and one module per table.
//! This is the only place SQL is written.

pub mod applications;
pub mod audit;
pub mod cleanup;
pub mod customer_users;
pub mod grants;
pub mod organizations;
pub mod outbox;
pub mod roles;
pub mod sessions;
pub mod settings;
pub mod tokens;
pub mod users;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

pub type Db = SqlitePool;

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the database URL {url:?} is not a valid SQLite URL: {source}")]
    BadUrl { url: String, source: sqlx::Error },
    #[error("cannot create the database folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    #[error("cannot open the database {url:?}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("the database schema could not be brought up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens (creating if needed) the SQLite database in WAL mode with foreign keys on.
pub async fn open(url: &str, max_connections: u32) -> Result<Db, OpenError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|source| OpenError::BadUrl { url: url.to_owned(), source })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let file = options.get_filename();
    if let Some(parent) =
        file.parent().filter(|p| !p.as_os_str().is_empty() && file != std::path::Path::new(":memory:"))
    {
        std::fs::create_dir_all(parent)
            .map_err(|source| OpenError::Folder { path: parent.display().to_string(), source })?;
    }
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options)
        .await
        .map_err(|source| OpenError::Connect { url: url.to_owned(), source })
}

/// Begins a transaction that will write: `BEGIN IMMEDIATE` takes SQLite's
/// write lock at once (waiting in the busy handler if another connection
/// holds it). A deferred transaction that reads first and writes later can
/// instead fail with SQLITE_BUSY when another write commits in between,
/// which no busy handler retries; under concurrent back-office writes that
/// was a 500 instead of a wait.
pub async fn begin_write(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// Applies the migrations in `migrations/` (embedded at build time).
pub async fn migrate(db: &Db) -> Result<(), OpenError> {
    sqlx::migrate!("./migrations").run(db).await?;
    Ok(())
}

/// True when the error is a UNIQUE constraint violation (a 4xx, not a 5xx).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
