//! Persistence: the database handle ([`Db`]), the one way to begin a write
//! ([`Db::write`]), migrations, and one module per table. This is the only
//! place SQL is written.
//!
//! Invalidation is done by the write: a store function whose write can make
//! something kept in memory stale (an application, a person, a membership,
//! a revocation) takes a [`Write`] and marks it ([`Write::makes_stale`]);
//! when that transaction commits, [`Changes`] moves on and every cache
//! (`crate::cache`) drops what it kept. A caller cannot forget to tell the
//! caches, because it does not tell them at all.

pub mod applications;
pub mod audit;
pub mod changes;
pub mod cleanup;
pub mod customer_users;
pub mod grants;
pub mod organizations;
pub mod outbox;
pub mod roles;
pub mod sessions;
pub mod settings;
pub mod token_writer;
pub mod tokens;
pub mod users;

pub use changes::Changes;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The database: the connection pool, this process's write turn and the
/// change signal the caches follow. Cheap to clone. Reads pass `&db` as an
/// executor; writes begin with [`Db::write`].
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
    /// Whose turn it is to write (see [`Db::write`]).
    turn: Arc<Mutex<()>>,
    changes: Arc<Changes>,
}

impl Db {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool, turn: Arc::default(), changes: Arc::default() }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// What the caches compare against: moves on after every committed
    /// change that can make something kept in memory stale.
    pub fn changes(&self) -> &Arc<Changes> {
        &self.changes
    }

    /// Begins a write transaction, the one way to write. It waits for this
    /// process's write turn first, then takes SQLite's write lock with
    /// `BEGIN IMMEDIATE`:
    /// - SQLite has a single writer; a connection that finds the lock taken
    ///   sleeps in its busy handler (1, 2, 5, 10 … ms), which showed as the
    ///   token endpoint's tail latency under load (bench/results/). Waiting
    ///   for the turn costs only the other transaction's time.
    /// - A deferred transaction that reads first and writes later can fail
    ///   with SQLITE_BUSY when another write commits in between, which no
    ///   busy handler retries; `IMMEDIATE` waits instead.
    ///
    /// Never begin a second write while holding one: the turn is not
    /// re-entrant.
    pub async fn write(&self) -> Result<Write, sqlx::Error> {
        let turn = Arc::clone(&self.turn).lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Write { tx, _turn: turn, stale: false, changes: Arc::clone(&self.changes) })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction holding the process's write turn until it ends.
/// Dropped without [`commit`](Write::commit), it rolls back.
pub struct Write {
    tx: Transaction<'static, Sqlite>,
    _turn: OwnedMutexGuard<()>,
    /// Set by the store functions whose write can make a cache stale.
    stale: bool,
    changes: Arc<Changes>,
}

impl Write {
    /// The transaction's connection, for the statements of a store function.
    pub fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.tx
    }

    /// Marks this transaction as one that, once committed, makes what the
    /// caches keep stale. Called by the store functions that write such
    /// rows, never by their callers.
    pub(crate) fn makes_stale(&mut self) {
        self.stale = true;
    }

    /// Commits; then, if the transaction changed what the caches keep,
    /// tells them (after the commit, so that a read racing it cannot keep
    /// the old row: see `cache::memo`).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let Write { tx, _turn, stale, changes } = self;
        tx.commit().await?;
        if stale {
            changes.publish();
        }
        Ok(())
    }
}

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Write").field("stale", &self.stale).finish_non_exhaustive()
    }
}

/// `&mut *write` is the transaction's connection, as for a `Transaction`.
impl std::ops::Deref for Write {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for Write {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

mod executor {
    //! `&Db` reads like `&SqlitePool` (it delegates to the pool).
    use super::Db;
    use futures_core::stream::BoxStream;
    use sqlx::sqlite::{SqliteQueryResult, SqliteRow, SqliteStatement, SqliteTypeInfo};
    use sqlx::{Describe, Either, Execute, Executor, Sqlite};
    use std::future::Future;
    use std::pin::Pin;

    type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

    impl<'c> Executor<'c> for &'c Db {
        type Database = Sqlite;

        fn fetch_many<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxStream<'e, Result<Either<SqliteQueryResult, SqliteRow>, sqlx::Error>>
        where
            'c: 'e,
            E: 'q + Execute<'q, Sqlite>,
        {
            self.pool.fetch_many(query)
        }

        fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<SqliteRow>, sqlx::Error>>
        where
            'c: 'e,
            E: 'q + Execute<'q, Sqlite>,
        {
            self.pool.fetch_optional(query)
        }

        fn prepare_with<'e, 'q: 'e>(
            self,
            sql: &'q str,
            parameters: &'e [SqliteTypeInfo],
        ) -> BoxFuture<'e, Result<SqliteStatement<'q>, sqlx::Error>>
        where
            'c: 'e,
        {
            self.pool.prepare_with(sql, parameters)
        }

        fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Sqlite>, sqlx::Error>>
        where
            'c: 'e,
        {
            self.pool.describe(sql)
        }
    }

    /// `&mut write` runs statements in the write's transaction.
    impl<'c> Executor<'c> for &'c mut super::Write {
        type Database = Sqlite;

        fn fetch_many<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> BoxStream<'e, Result<Either<SqliteQueryResult, SqliteRow>, sqlx::Error>>
        where
            'c: 'e,
            E: 'q + Execute<'q, Sqlite>,
        {
            self.conn().fetch_many(query)
        }

        fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<SqliteRow>, sqlx::Error>>
        where
            'c: 'e,
            E: 'q + Execute<'q, Sqlite>,
        {
            self.conn().fetch_optional(query)
        }

        fn prepare_with<'e, 'q: 'e>(
            self,
            sql: &'q str,
            parameters: &'e [SqliteTypeInfo],
        ) -> BoxFuture<'e, Result<SqliteStatement<'q>, sqlx::Error>>
        where
            'c: 'e,
        {
            self.conn().prepare_with(sql, parameters)
        }

        fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Sqlite>, sqlx::Error>>
        where
            'c: 'e,
        {
            self.conn().describe(sql)
        }
    }
}

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
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options)
        .await
        .map_err(|source| OpenError::Connect { url: url.to_owned(), source })?;
    Ok(Db::new(pool))
}

/// Applies the migrations in `migrations/` (embedded at build time).
pub async fn migrate(db: &Db) -> Result<(), OpenError> {
    sqlx::migrate!("./migrations").run(&db.pool).await?;
    Ok(())
}

/// True when the error is a UNIQUE constraint violation (a 4xx, not a 5xx).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
