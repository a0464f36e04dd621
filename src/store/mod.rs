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
pub mod backup;
pub mod changes;
pub mod checkpoint;
pub mod claims;
pub mod cleanup;
pub mod customer_users;
pub mod grants;
pub mod listen;
pub mod organizations;
pub mod outbox;
pub mod rate_limits;
pub mod roles;
pub mod sessions;
pub mod settings;
pub mod signing_keys;
pub(crate) mod sqlite_handle;
pub mod token_writer;
pub mod tokens;
pub mod transfer;
pub mod users;
pub mod wal_watch;

pub use changes::Changes;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The database engine a [`Db`] talks to, chosen by its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `sqlite://…`: the embedded default, one writer at a time.
    Sqlite,
    /// `postgres://…`: for several instances sharing one database.
    Postgres,
}

impl Engine {
    /// The engine a database URL names.
    pub fn of_url(url: &str) -> Engine {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else {
            Engine::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database: the connection pool of its engine, this process's write
/// turn (with, on SQLite, the one connection its writes go through) and
/// the change signal the caches follow. Cheap to clone. Store functions
/// read from `&db` and write through a [`Write`] from [`Db::write`]; one
/// that writes alone may take `&db` and open its own ([`run_write!`]).
///
/// One store function serves both engines: its SQL is written once in the
/// dialect both understand (`$1` parameters, `ON CONFLICT`, `lower()`,
/// `TRUE`/`FALSE`, `IS NOT DISTINCT FROM`), and [`run!`](crate::store::run)
/// runs it on whichever connection the engine gives. Where the engines
/// differ, the function asks [`Db::engine`] or [`Write::engine`].
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    /// SQLite: whose turn it is to write, and the connection every write
    /// of this process goes through (see [`Db::write`]).
    turn: Arc<Mutex<Turn>>,
    /// Who holds `turn` for a write, so that a second write by the same
    /// holder fails instead of waiting for itself (see [`Db::write`]).
    holder: Arc<std::sync::Mutex<Option<Holder>>>,
    changes: Arc<Changes>,
    /// The SQLite log's checkpoints, off the writers' path (see [`checkpoint`]).
    _checkpoints: Option<Arc<checkpoint::Checkpoints>>,
}

impl Db {
    /// `checkpoints`: the SQLite file whose log a task of this handle's
    /// moves into it ([`checkpoint`]).
    fn new(pool: Pool, wal: Option<wal_watch::WalWatch>, checkpoints: Option<&SqliteConnectOptions>) -> Self {
        // On PostgreSQL the caches stay unused until this instance hears the
        // others' changes (see `listen`); on SQLite the wal-index tells of
        // other processes' commits (see `wal_watch`).
        let changes = match pool {
            Pool::Sqlite(_) => Changes::watching(wal),
            Pool::Postgres(_) => Changes::untrusted(),
        };
        let turn = Arc::default();
        let checkpoints = checkpoints.and_then(|options| checkpoint::spawn(options, Arc::clone(&turn))).map(Arc::new);
        Self { pool, turn, holder: Arc::default(), changes: Arc::new(changes), _checkpoints: checkpoints }
    }

    pub fn engine(&self) -> Engine {
        match self.pool {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    /// The PostgreSQL pool, for what only PostgreSQL has (notifications).
    pub fn postgres(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }

    /// What the caches compare against: moves on after every committed
    /// change that can make something kept in memory stale.
    pub fn changes(&self) -> &Arc<Changes> {
        &self.changes
    }

    /// Begins a write transaction, the one way to write.
    ///
    /// On SQLite it waits for this process's write turn first, then takes
    /// SQLite's write lock with `BEGIN IMMEDIATE`:
    /// - SQLite has a single writer; a connection that finds the lock taken
    ///   sleeps in its busy handler (1, 2, 5, 10 … ms), which showed as the
    ///   token endpoint's tail latency under load. Waiting for the turn
    ///   costs only the other transaction's time.
    /// - A deferred transaction that reads first and writes later can fail
    ///   with SQLITE_BUSY when another write commits in between, which no
    ///   busy handler retries; `IMMEDIATE` waits instead.
    ///
    /// The turn comes with the one connection this process writes on (reads
    /// use the pool). Since writes take turns anyway, one connection costs
    /// them nothing, and saves what a pooled one cost every write: the pool
    /// lends its connections in turn, and a SQLite connection empties its
    /// page cache whenever it finds another's commit, so each write read
    /// its pages again and each connection prepared its statements for
    /// itself; `begin_with` makes a second call to SQLite's thread to check
    /// that the custom `BEGIN` began a transaction; the pool pings each
    /// connection given back. Measured on the token endpoint's group commit
    /// at half load (`oha` at 800 tokens/s): SQLite's threads spent 0.35 ms
    /// of CPU per token with the pool, 0.20 ms on one connection
    /// (docs/architecture.md, "The write-ahead log").
    ///
    /// On PostgreSQL writes run side by side (READ COMMITTED) on the pool's
    /// connections; what must not interleave is ordered by
    /// [`Write::makes_stale`] and [`Write::relies_on_access`].
    ///
    /// Never begin a second write while holding one: the turn is not
    /// re-entrant. On SQLite such a write fails at once (an error, logged)
    /// rather than wait for the turn its own caller holds, which would stop
    /// every write of the process for good. The holder is the task (outside
    /// any task, the thread): futures joined within one task count as one,
    /// so they must not write side by side either.
    pub async fn write(&self) -> Result<Write, sqlx::Error> {
        let tx = match &self.pool {
            Pool::Sqlite(pool) => {
                Tx::Sqlite(SqliteTx::begin(self.take_turn().await?, pool.connect_options().as_ref()).await?)
            }
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        };
        Ok(Write { tx, stale: false, access_lock: AccessLock::None, changes: Arc::clone(&self.changes) })
    }

    /// Waits for the SQLite write turn; refuses at once a second write of
    /// its holder (see [`Db::write`]).
    async fn take_turn(&self) -> Result<HeldTurn, sqlx::Error> {
        let me = Holder::current();
        if *lock(&self.holder) == Some(me) {
            tracing::error!("a write began while its caller held one: writes cannot nest");
            return Err(sqlx::Error::Protocol("a write began while its caller held one".to_owned()));
        }
        let guard = Arc::clone(&self.turn).lock_owned().await;
        Ok(HeldTurn::new(guard, Arc::clone(&self.holder), me))
    }

    /// Runs `f` in a write transaction on SQLite's C API, on the calling
    /// thread, with the write turn and the write connection's thread
    /// waiting meanwhile (see [`sqlite_handle`]): for the token writer,
    /// whose transactions are a few rows each. `f` must not change what the
    /// caches keep (nothing here tells them).
    ///
    /// `Ok(None)` when this cannot be done (PostgreSQL, or another process
    /// holds SQLite's write lock, which a worker must not wait for): the
    /// caller writes through [`Db::write`] instead.
    pub(crate) async fn write_on_handle<T>(
        &self,
        f: impl FnOnce(&sqlite_handle::Handle<'_>) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, sqlx::Error> {
        let Pool::Sqlite(pool) = &self.pool else { return Ok(None) };
        let mut turn = self.take_turn().await?;
        let options = pool.connect_options();
        let held: &mut Turn = &mut turn;
        held.ready(&options).await?;
        let conn = held.conn.as_mut().expect("`Turn::ready` leaves the turn connected");
        let mut locked = match conn.lock_handle().await {
            // The connection's thread has ended: `Db::write` connects again.
            Err(sqlx::Error::WorkerCrashed) => return Ok(None),
            locked => locked?,
        };
        // From here on nothing awaits: the transaction is begun and ended
        // before the lock (and the turn) are given back. Should `f` panic,
        // the next write rolls back what is left open (`Turn::open`).
        let h = sqlite_handle::Handle::new(&mut locked);
        held.open = true;
        if !h.try_begin()? {
            held.open = false;
            return Ok(None);
        }
        let done = f(&h).and_then(|value| {
            let mark = self.changes.before_own_commit();
            h.execute(c"COMMIT")?;
            self.changes.after_own_commit(mark);
            Ok(value)
        });
        if done.is_err() && h.in_transaction() {
            let _ = h.execute(c"ROLLBACK");
        }
        held.open = h.in_transaction();
        done.map(Some)
    }

    pub async fn close(&self) {
        if let Some(conn) = self.turn.lock().await.conn.take() {
            let _ = sqlx::Connection::close(conn).await;
        }
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// This process's SQLite write turn, and the connection its writes go
/// through. The log's checkpoints take the turn too ([`checkpoint`]).
#[derive(Default)]
pub struct Turn {
    /// Opened by the first write; opened again when its thread has ended.
    conn: Option<SqliteConnection>,
    /// A transaction may be open on `conn`: one was begun and neither
    /// committed nor rolled back yet (it was dropped where no runtime could
    /// roll it back). The next write rolls it back first.
    open: bool,
}

impl Turn {
    /// Connected, with no transaction left open by an earlier write.
    async fn ready(&mut self, options: &SqliteConnectOptions) -> Result<(), sqlx::Error> {
        if self.open {
            if let Some(conn) = self.conn.as_mut() {
                // "No transaction is active" when SQLite already ended it.
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            }
            self.open = false;
        }
        if self.conn.is_none() {
            self.conn = Some(options.connect().await?);
        }
        Ok(())
    }
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turn").field("connected", &self.conn.is_some()).field("open", &self.open).finish()
    }
}

/// Who holds the write turn: a task, or a thread outside any task (the
/// command line's `block_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    Task(tokio::task::Id),
    Thread(std::thread::ThreadId),
}

impl Holder {
    fn current() -> Self {
        tokio::task::try_id().map_or_else(|| Holder::Thread(std::thread::current().id()), Holder::Task)
    }
}

fn lock(holder: &std::sync::Mutex<Option<Holder>>) -> std::sync::MutexGuard<'_, Option<Holder>> {
    holder.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The write turn held for a write, with who holds it; forgotten when the
/// turn passes on.
struct HeldTurn {
    guard: OwnedMutexGuard<Turn>,
    holder: Arc<std::sync::Mutex<Option<Holder>>>,
}

impl HeldTurn {
    fn new(guard: OwnedMutexGuard<Turn>, holder: Arc<std::sync::Mutex<Option<Holder>>>, me: Holder) -> Self {
        *lock(&holder) = Some(me);
        Self { guard, holder }
    }

    /// The turn no longer counts as its writer's: it is kept only to finish
    /// what the write left (a rollback), and the writer may begin another
    /// write, which waits for it.
    fn disown(&self) {
        *lock(&self.holder) = None;
    }
}

impl Drop for HeldTurn {
    fn drop(&mut self) {
        // Before the guard, a field, lets go of the turn.
        self.disown();
    }
}

impl std::ops::Deref for HeldTurn {
    type Target = Turn;
    fn deref(&self) -> &Turn {
        &self.guard
    }
}

impl std::ops::DerefMut for HeldTurn {
    fn deref_mut(&mut self) -> &mut Turn {
        &mut self.guard
    }
}

enum Tx {
    Sqlite(SqliteTx),
    Postgres(Transaction<'static, Postgres>),
}

/// A write transaction on SQLite, holding the write turn and its
/// connection: `BEGIN IMMEDIATE` and `COMMIT` are one call each to the
/// connection's thread. Dropped uncommitted (an error, a failed statement,
/// a request that went away), it rolls back before the turn passes on.
struct SqliteTx {
    /// `None` once committed.
    turn: Option<HeldTurn>,
}

impl SqliteTx {
    async fn begin(mut turn: HeldTurn, options: &SqliteConnectOptions) -> Result<Self, sqlx::Error> {
        let held = &mut *turn;
        held.ready(options).await?;
        // Marked before the `BEGIN` is sent: if this future is dropped while
        // it runs, the transaction's `Drop` rolls back what it began.
        held.open = true;
        let mut tx = Self { turn: Some(turn) };
        match sqlx::query("BEGIN IMMEDIATE").execute(tx.conn()).await {
            Ok(_) => Ok(tx),
            Err(sqlx::Error::WorkerCrashed) => {
                // The connection's thread has ended (it does not on its own):
                // a new connection, once.
                if let Some(turn) = tx.turn.as_mut() {
                    turn.conn = Some(options.connect().await?);
                }
                sqlx::query("BEGIN IMMEDIATE").execute(tx.conn()).await?;
                Ok(tx)
            }
            Err(e) => Err(e),
        }
    }

    fn conn(&mut self) -> &mut SqliteConnection {
        self.turn
            .as_mut()
            .and_then(|turn| turn.conn.as_mut())
            .expect("a transaction holds its connection until it commits")
    }

    /// Commits, and gives the turn back to the caller to hold until it has
    /// done what must follow the commit before anyone else's.
    async fn commit(mut self) -> Result<HeldTurn, sqlx::Error> {
        // A failed COMMIT leaves the transaction open: dropped, it rolls back.
        sqlx::query("COMMIT").execute(self.conn()).await?;
        let mut turn = self.turn.take().expect("a transaction holds the turn until it commits");
        turn.open = false;
        Ok(turn)
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        let Some(mut turn) = self.turn.take() else { return };
        turn.disown();
        // Without a runtime the process is ending; if it is not, the next
        // write rolls back first (`Turn::open`).
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Some(conn) = turn.conn.as_mut() {
                    // After an error that ended the transaction already,
                    // SQLite answers "no transaction is active".
                    match sqlx::query("ROLLBACK").execute(&mut *conn).await {
                        Err(sqlx::Error::WorkerCrashed) => turn.conn = None,
                        _ => turn.open = false,
                    }
                }
            });
        }
    }
}

/// Which PostgreSQL advisory lock a write holds (see [`Write::makes_stale`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AccessLock {
    None,
    Shared,
    Exclusive,
}

/// The key of the advisory lock that orders changes of access (revocations,
/// deactivations, …) against the writes that record tokens.
const ACCESS_LOCK_KEY: i64 = 0x706f_7374_6572_6e01; // "postern" + 1

/// The channel on which PostgreSQL instances announce committed changes
/// (see [`listen`]).
pub const CHANGES_CHANNEL: &str = "postern_changes";

/// A write transaction (holding, on SQLite, the process's write turn until
/// it ends). Dropped without [`commit`](Write::commit), it rolls back.
pub struct Write {
    tx: Tx,
    /// Set by the store functions whose write can make a cache stale.
    stale: bool,
    access_lock: AccessLock,
    changes: Arc<Changes>,
}

impl Write {
    pub fn engine(&self) -> Engine {
        match self.tx {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Postgres(_) => Engine::Postgres,
        }
    }

    /// The transaction's connection, for the statements of a store function.
    pub fn conn(&mut self) -> Conn<'_> {
        match &mut self.tx {
            Tx::Sqlite(tx) => Conn::Sqlite(tx.conn()),
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    /// Marks this transaction as one that, once committed, makes what the
    /// caches keep stale (on every instance). Called by the store functions
    /// that write such rows, before their first statement, never by their
    /// callers.
    ///
    /// On PostgreSQL it also takes the access lock exclusively, so that no
    /// token is recorded between this change and its commit on the strength
    /// of what it changes: a write that records a token holds the same lock
    /// shared ([`Write::relies_on_access`]). SQLite's single writer gives
    /// that order by itself.
    pub(crate) async fn makes_stale(&mut self) -> Result<(), sqlx::Error> {
        self.stale = true;
        if let Tx::Postgres(tx) = &mut self.tx {
            if self.access_lock != AccessLock::Exclusive {
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(ACCESS_LOCK_KEY).execute(&mut **tx).await?;
                self.access_lock = AccessLock::Exclusive;
            }
        }
        Ok(())
    }

    /// Marks this transaction as one that records a token on the strength of
    /// the application, person and grant it reads in the same transaction:
    /// on PostgreSQL it takes the access lock shared, so that a revocation
    /// or deactivation either commits before this write reads or waits for
    /// it to end. Writes that record tokens do not wait for each other.
    pub(crate) async fn relies_on_access(&mut self) -> Result<(), sqlx::Error> {
        if let Tx::Postgres(tx) = &mut self.tx {
            if self.access_lock == AccessLock::None {
                sqlx::query("SELECT pg_advisory_xact_lock_shared($1)").bind(ACCESS_LOCK_KEY).execute(&mut **tx).await?;
                self.access_lock = AccessLock::Shared;
            }
        }
        Ok(())
    }

    /// Commits; then, if the transaction changed what the caches keep,
    /// tells them (after the commit, so that a read racing it cannot keep
    /// the old row: see `cache::memo`). On PostgreSQL the other instances
    /// are told by a notification sent with the commit.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let Write { mut tx, stale, changes, .. } = self;
        // SQLite (the only engine with a wal-index to watch): still holding
        // its write lock, nobody else can commit until this does, so the
        // counter after it is known.
        let mark = changes.before_own_commit();
        if let (Tx::Postgres(tx), true) = (&mut tx, stale) {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANGES_CHANNEL)
                .bind(listen::CHANGE)
                .execute(&mut **tx)
                .await?;
        }
        // The turn, held until the counter is read again.
        let _turn = match tx {
            Tx::Sqlite(tx) => Some(tx.commit().await?),
            Tx::Postgres(tx) => {
                tx.commit().await?;
                None
            }
        };
        changes.after_own_commit(mark);
        if stale {
            changes.publish();
        }
        Ok(())
    }
}

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Write").field("engine", &self.engine()).field("stale", &self.stale).finish_non_exhaustive()
    }
}

/// A connection of either engine, for the statements of one store function.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    pub fn engine(&self) -> Engine {
        match self {
            Conn::Sqlite(_) => Engine::Sqlite,
            Conn::Postgres(_) => Engine::Postgres,
        }
    }
}

/// The tables whose ids are people's: an ID token's `sub`, which OpenID
/// Connect Core §2 says is never reassigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PersonTable {
    Users,
    CustomerUsers,
}

impl PersonTable {
    fn name(self) -> &'static str {
        match self {
            PersonTable::Users => "users",
            PersonTable::CustomerUsers => "customer_users",
        }
    }

    /// The start of an `INSERT INTO` the table with `columns` and the
    /// start of its `VALUES (`, on `engine`: on SQLite the id is given
    /// explicitly, one past both the largest id there is and the largest
    /// ever given (`id_high_water`, kept by the migration's triggers), since
    /// SQLite would hand a deleted newest row's id to the next one.
    /// PostgreSQL's identity columns never give an id twice by themselves.
    pub(crate) fn insert(self, engine: Engine, columns: &str) -> String {
        let table = self.name();
        match engine {
            Engine::Sqlite => format!(
                "INSERT INTO {table} (id, {columns}) VALUES ((SELECT MAX(x) + 1 FROM (
                     SELECT COALESCE(MAX(id), 0) AS x FROM {table}
                     UNION ALL SELECT last FROM id_high_water WHERE name = '{table}')), "
            ),
            Engine::Postgres => format!("INSERT INTO {table} ({columns}) VALUES ("),
        }
    }
}

/// Where a store function runs its statements: the pool (`&db`, a
/// connection is taken for the function's statements), an open write
/// (`&mut write`), or a connection another store function was given.
pub enum Source<'a> {
    Db(&'a Db),
    Conn(Conn<'a>),
}

impl<'a> From<&'a Db> for Source<'a> {
    fn from(db: &'a Db) -> Self {
        Source::Db(db)
    }
}

impl<'a> From<&'a mut Write> for Source<'a> {
    fn from(w: &'a mut Write) -> Self {
        Source::Conn(w.conn())
    }
}

impl<'a> From<&'a mut SqliteConnection> for Source<'a> {
    fn from(c: &'a mut SqliteConnection) -> Self {
        Source::Conn(Conn::Sqlite(c))
    }
}

impl<'a> From<&'a mut PgConnection> for Source<'a> {
    fn from(c: &'a mut PgConnection) -> Self {
        Source::Conn(Conn::Postgres(c))
    }
}

/// The pool connection a store function holds while its statements run.
#[derive(Default)]
pub struct Held {
    sqlite: Option<PoolConnection<Sqlite>>,
    postgres: Option<PoolConnection<Postgres>>,
}

impl<'a> Source<'a> {
    /// The connection to run on: the one given, or one taken from the pool
    /// into `held` (returned to the pool when `held` is dropped).
    pub async fn conn<'h>(self, held: &'h mut Held) -> Result<Conn<'h>, sqlx::Error>
    where
        'a: 'h,
    {
        Ok(match self {
            Source::Conn(conn) => conn,
            Source::Db(db) => match &db.pool {
                Pool::Sqlite(pool) => Conn::Sqlite(held.sqlite.insert(pool.acquire().await?)),
                Pool::Postgres(pool) => Conn::Postgres(held.postgres.insert(pool.acquire().await?)),
            },
        })
    }
}

/// Runs `$body` with `$c` bound to the connection of `$source` (anything
/// that is a [`Source`]: `&db`, `&mut write`, a connection), once for each
/// engine: the body is the same text, type-checked against SQLite's and
/// PostgreSQL's connection. `?` in the body returns from the store function.
///
/// ```ignore
/// pub async fn find(db: impl Into<Source<'_>>, id: i64) -> Result<Option<Row>, sqlx::Error> {
///     run!(db, |c| sqlx::query_as("SELECT … WHERE id = $1").bind(id).fetch_optional(&mut *c).await)
/// }
/// ```
#[macro_export]
macro_rules! run {
    ($source:expr, |$c:ident| $body:expr) => {{
        let mut held = $crate::store::Held::default();
        let source: $crate::store::Source<'_> = $source.into();
        match source.conn(&mut held).await? {
            $crate::store::Conn::Sqlite($c) => $body,
            $crate::store::Conn::Postgres($c) => $body,
        }
    }};
}
pub use crate::run;

/// [`run!`] for a store function that writes. Given `&db` on SQLite, its
/// statements run in a write of their own ([`Db::write`]: the process's
/// write turn and its connection, not a pooled connection that would take
/// SQLite's lock in its busy handler, against the turn's), committed when
/// the body succeeds; given `&mut write` or a connection, in that
/// transaction; on PostgreSQL, given `&db`, on a pooled connection.
///
/// Never with `&db` while the same task holds a write: the turn is not
/// re-entrant (pass the write instead); on SQLite it fails.
#[macro_export]
macro_rules! run_write {
    ($source:expr, |$c:ident| $body:expr) => {{
        let source: $crate::store::Source<'_> = $source.into();
        match source {
            $crate::store::Source::Db(db) if db.engine() == $crate::store::Engine::Sqlite => {
                let mut write = db.write().await?;
                let done = $crate::run!(&mut write, |$c| $body);
                write.commit().await?;
                done
            }
            source => $crate::run!(source, |$c| $body),
        }
    }};
}
pub use crate::run_write;

/// A value bound to a statement whose text is put together at run time (a
/// grid's filters): [`Statement`] numbers the parameters, [`bind_values!`]
/// binds them on either engine.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Int(i64),
    Text(std::borrow::Cow<'a, str>),
    Bool(bool),
}

impl<'a> Value<'a> {
    pub fn text(text: &'a str) -> Self {
        Value::Text(std::borrow::Cow::Borrowed(text))
    }

    /// A `LIKE … ESCAPE '\'` pattern matching `text` anywhere, with `%`, `_`
    /// and `\` in it taken literally. A NUL (which PostgreSQL's `text` cannot
    /// hold) becomes U+0001: no stored name has control characters, so the
    /// pattern matches nothing on either engine, as it should.
    pub fn containing(text: &str) -> Self {
        let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_").replace('\0', "\u{1}");
        Value::Text(std::borrow::Cow::Owned(format!("%{escaped}%")))
    }
}

/// SQL put together at run time, with its parameters numbered `$1, $2, …`
/// as both engines read them.
#[derive(Debug, Default)]
pub struct Statement<'a> {
    pub sql: String,
    pub values: Vec<Value<'a>>,
}

impl<'a> Statement<'a> {
    pub fn new(sql: impl Into<String>) -> Self {
        Self { sql: sql.into(), values: Vec::new() }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends the placeholder of a new parameter holding `value`.
    pub fn push_value(&mut self, value: Value<'a>) -> &mut Self {
        self.values.push(value);
        self.sql.push('$');
        self.sql.push_str(&self.values.len().to_string());
        self
    }
}

/// Binds a [`Statement`]'s values to `$query` (a `sqlx::query` or
/// `query_as` of either engine).
#[macro_export]
macro_rules! bind_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                $crate::store::Value::Int(v) => query.bind(*v),
                $crate::store::Value::Text(v) => query.bind(v.as_ref()),
                $crate::store::Value::Bool(v) => query.bind(*v),
            };
        }
        query
    }};
}
pub use crate::bind_values;

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the database URL {url:?} is not valid: {source}")]
    BadUrl { url: String, source: sqlx::Error },
    #[error("cannot create the database folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    #[error("cannot open the database {url:?}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("the database schema could not be brought up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens the database the URL names: PostgreSQL for `postgres://…`, else
/// SQLite (created if needed, WAL, foreign keys on).
pub async fn open(url: &str, max_connections: u32) -> Result<Db, OpenError> {
    match Engine::of_url(url) {
        Engine::Postgres => open_postgres(url, max_connections).await,
        Engine::Sqlite => open_sqlite(url, max_connections).await,
    }
}

/// Whether the SQLite database of `options` is a file (not in memory):
/// only a file has a folder, a log to checkpoint and a wal-index to watch.
fn on_disk(options: &SqliteConnectOptions) -> bool {
    let file = options.get_filename();
    file != std::path::Path::new(":memory:") && !file.as_os_str().is_empty()
}

/// The file of a SQLite URL (`None` for PostgreSQL or a URL that does not parse).
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    match Engine::of_url(url) {
        Engine::Sqlite => SqliteConnectOptions::from_str(url).ok().map(|o| o.get_filename().to_path_buf()),
        Engine::Postgres => None,
    }
}

/// How long a SQLite connection waits for another's lock before `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

async fn open_sqlite(url: &str, max_connections: u32) -> Result<Db, OpenError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|source| OpenError::BadUrl { url: url.to_owned(), source })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // A task checkpoints instead of the committing connection.
        .pragma("wal_autocheckpoint", checkpoint::FALLBACK_PAGES.to_string());
    let file = options.get_filename();
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty() && on_disk(&options)) {
        std::fs::create_dir_all(parent)
            .map_err(|source| OpenError::Folder { path: parent.display().to_string(), source })?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections)
        // sqlx pings a connection before lending it, to find a server that
        // hung up: an embedded database has none, and the ping is one more
        // trip to the connection's thread on every request's path.
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await
        .map_err(|source| OpenError::Connect { url: redact(url), source })?;
    let wal = wal_watch::WalWatch::open(&options).await;
    Ok(Db::new(Pool::Sqlite(pool), wal, Some(&options)))
}

async fn open_postgres(url: &str, max_connections: u32) -> Result<Db, OpenError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|source| OpenError::BadUrl { url: redact(url), source })?
        .application_name("postern");
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|source| OpenError::Connect { url: redact(url), source })?;
    Ok(Db::new(Pool::Postgres(pool), None, None))
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Applies the migrations of the database's engine (`migrations/sqlite/`
/// or `migrations/postgres/`, embedded at build time). On PostgreSQL sqlx
/// holds an advisory lock while it migrates, so instances that start
/// together on an empty database migrate it once and all come up.
pub async fn migrate(db: &Db) -> Result<(), OpenError> {
    // On PostgreSQL sqlx holds an advisory lock while it migrates: instances
    // starting together on an empty database migrate once, the others wait
    // and then find nothing left to do.
    let mut migrator = migrations(db.engine());
    // A newer Postern may have migrated further (a rolling upgrade, where
    // an old instance restarts): migrations only add, so this one runs on.
    migrator.set_ignore_missing(true);
    match &db.pool {
        Pool::Sqlite(pool) => migrator.run(pool).await?,
        Pool::Postgres(pool) => migrator.run(pool).await?,
    }
    Ok(())
}

/// This build's migrations for `engine`.
fn migrations(engine: Engine) -> sqlx::migrate::Migrator {
    match engine {
        Engine::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Engine::Postgres => sqlx::migrate!("./migrations/postgres"),
    }
}

/// How the database's schema compares with this build's migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Every migration of this build is applied, and no other.
    Current,
    /// A newer Postern migrated the database further (an upgrade under way).
    Ahead,
    /// Some of this build's migrations are not applied.
    Behind,
}

/// Compares the applied migrations with this build's (for readiness).
pub async fn schema(db: &Db) -> Result<Schema, sqlx::Error> {
    let migrator = migrations(db.engine());
    let applied: Vec<(i64,)> =
        run!(db, |c| sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(&mut *c)
            .await?);
    let applied: std::collections::BTreeSet<i64> = applied.into_iter().map(|r| r.0).collect();
    let ours: std::collections::BTreeSet<i64> =
        migrator.iter().filter(|m| !m.migration_type.is_down_migration()).map(|m| m.version).collect();
    Ok(if !ours.is_subset(&applied) {
        Schema::Behind
    } else if applied.len() > ours.len() {
        Schema::Ahead
    } else {
        Schema::Current
    })
}

/// The newest migration applied to the database (0 before the first).
pub async fn schema_version(db: &Db) -> Result<i64, sqlx::Error> {
    run!(db, |c| sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success = TRUE")
        .fetch_one(&mut *c)
        .await)
}

/// Whether the database answers (`GET /healthz`).
pub async fn ping(db: &Db) -> Result<(), sqlx::Error> {
    run!(db, |c| sqlx::query("SELECT 1").execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Whether `key` can be a stored key. PostgreSQL's `text` cannot hold NUL
/// (it answers SQLSTATE 22021) and every name Postern stores is checked for
/// control characters first, so no stored key contains one: a lookup by such
/// a key finds nothing, on both engines, without asking the database.
pub fn storable(key: &str) -> bool {
    !key.contains('\0')
}

/// True when the database refused a value it cannot store: PostgreSQL's
/// "character not in repertoire" (NUL in text, 22021) or "untranslatable
/// character" (22P05). The input was bad, not the server: a 4xx.
pub fn is_unstorable_input(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05")))
}

/// True when the error is a UNIQUE constraint violation (a 4xx, not a 5xx).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// True when the failure says nothing about the request but that the
/// database cannot serve it at the moment: unreachable or restarting
/// (`08…`, `57P01`–`57P03`, a broken socket), out of connections (`53300`,
/// the pool's wait ran out), or a transaction given up to a concurrent one
/// (`40001` serialization failure, `40P01` deadlock, `55P03` lock not
/// available; SQLite's `SQLITE_BUSY`/`SQLITE_LOCKED` and their extended
/// codes). The same request may succeed a moment later: a 503 with
/// `Retry-After`, never a 500.
pub fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            let code = code.as_ref();
            code.starts_with("08")
                || matches!(code, "40001" | "40P01" | "55P03" | "53300" | "57P01" | "57P02" | "57P03")
                || matches!(code, "5" | "6" | "261" | "262" | "517" | "773")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod transient_tests {
    use super::is_transient;

    #[test]
    fn a_lost_connection_is_transient_a_bad_query_is_not() {
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(is_transient(&sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset))));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
        assert!(!is_transient(&sqlx::Error::ColumnNotFound("x".into())));
    }
}

#[cfg(test)]
mod write_tests {
    use crate::store::Db;
    use sqlx::{ConnectOptions, Connection};

    async fn numbers(db: &Db) -> Result<Vec<i64>, sqlx::Error> {
        crate::store::run!(db, |c| sqlx::query_scalar("SELECT n FROM t ORDER BY n").fetch_all(&mut *c).await)
    }

    async fn create(db: &Db) -> Result<(), sqlx::Error> {
        let mut w = db.write().await?;
        crate::store::run!(&mut w, |c| sqlx::query("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .execute(&mut *c)
            .await
            .map(drop))?;
        w.commit().await
    }

    async fn insert(db: &Db, n: i64, commit: bool) -> Result<(), sqlx::Error> {
        let mut w = db.write().await?;
        crate::store::run!(&mut w, |c| sqlx::query("INSERT INTO t VALUES ($1)")
            .bind(n)
            .execute(&mut *c)
            .await
            .map(drop))?;
        if commit {
            w.commit().await?;
        }
        Ok(())
    }

    /// Every write of a process goes through one SQLite connection: a
    /// write it drops, or one whose statement fails, leaves nothing behind,
    /// does not keep the connection in a transaction, and does not keep
    /// SQLite's write lock from another process; what it commits, the
    /// pool's readers see.
    #[tokio::test]
    async fn a_write_commits_or_leaves_nothing_and_lets_go_of_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/o.db", dir.path().display());
        let db = crate::store::open(&url, 2).await.unwrap();
        create(&db).await.unwrap();

        insert(&db, 1, true).await.unwrap();
        insert(&db, 2, false).await.unwrap();
        // A statement that fails (the key taken), then the write dropped.
        assert!(insert(&db, 1, true).await.is_err());
        insert(&db, 3, true).await.unwrap();
        assert_eq!(numbers(&db).await.unwrap(), [1, 3]);

        // Another process writes after a write of this one was dropped, with
        // nothing more written here: the dropped write let go of the lock.
        insert(&db, 4, false).await.unwrap();
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        let mut other = options.busy_timeout(std::time::Duration::from_secs(2)).connect().await.unwrap();
        let mut tx = other.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO t VALUES (5)").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        insert(&db, 6, true).await.unwrap();
        assert_eq!(numbers(&db).await.unwrap(), [1, 3, 5, 6]);
    }

    /// A second write begun by the holder of a write fails at once, where
    /// it would otherwise wait for ever for the turn it holds (and every
    /// other write of the process behind it); another caller waits for the
    /// turn, and the holder writes again once its write has ended — also
    /// right after one it dropped, whose rollback still holds the turn.
    /// Checked for a task of the runtime and for a thread outside any task
    /// (the command line's).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_begun_inside_a_write_fails_instead_of_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&format!("sqlite://{}/n.db", dir.path().display()), 2).await.unwrap();
        create(&db).await.unwrap();

        async fn nest(db: Db, n: i64) {
            let held = db.write().await.unwrap();
            let nested = tokio::time::timeout(std::time::Duration::from_secs(10), db.write())
                .await
                .expect("the nested write is refused at once, not left waiting");
            assert!(nested.is_err());
            let other = tokio::spawn({
                let db = db.clone();
                async move { insert(&db, n, true).await }
            });
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            assert!(!other.is_finished(), "another caller waits for the turn");
            held.commit().await.unwrap();
            other.await.unwrap().unwrap();
            insert(&db, n + 1, false).await.unwrap();
            insert(&db, n + 2, true).await.unwrap();
        }
        // The test's own body runs outside any task (block_on).
        nest(db.clone(), 10).await;
        tokio::spawn(nest(db.clone(), 20)).await.unwrap();
        assert_eq!(numbers(&db).await.unwrap(), [10, 12, 20, 22]);
    }
}
