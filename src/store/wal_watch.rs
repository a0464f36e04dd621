//! Hearing another process's writes to the same SQLite database (the
//! command line, an operator's `sqlite3` session, a second server) at the
//! cost of one small read per check, with no query and no trip to SQLite's
//! worker thread.
//!
//! In WAL mode every connection to a database shares the wal-index, the
//! `-shm` file beside it. Its header holds `iChange`, a counter that each
//! committed write transaction moves on by one ("WAL-mode File Format",
//! <https://www.sqlite.org/walformat.html> §2.2: "iChange: Incremented with
//! each transaction"); it is what `PRAGMA data_version` compares. Reading
//! those four bytes (`pread`, from the page cache every SQLite connection
//! maps) tells whether anybody committed since the last look.
//!
//! This process's own commits move the counter too. [`Write::commit`] knows
//! them exactly: it reads the counter while it still holds SQLite's write
//! lock (no other commit can come in between), so the counter after its
//! commit is that value plus one. Any other value means somebody else
//! wrote: [`WalWatch::changed_elsewhere`] says so and the caller moves the
//! change signal on ([`super::Changes`]), exactly as a commit of this
//! process would.
//!
//! The `-shm` file lasts as long as any connection to the database is open;
//! the watch holds a connection of its own for that reason, so the file it
//! reads is the one every writer updates.
//!
//! [`Write::commit`]: super::Write::commit

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where `iChange` lies in the first copy of the wal-index header
/// (native byte order, 4 bytes).
const ICHANGE_OFFSET: u64 = 8;

/// No counter seen yet (any real one differs: counters are 32-bit).
const UNSEEN: u64 = u64::MAX;

pub struct WalWatch {
    shm: File,
    path: PathBuf,
    /// The counter as this process last accounted for it.
    expected: AtomicU64,
    /// Keeps the `-shm` file in place (see the module documentation).
    _held: SqliteConnection,
}

impl std::fmt::Debug for WalWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalWatch").field("shm", &self.path).finish_non_exhaustive()
    }
}

impl WalWatch {
    /// Watches the database of `options` (a file in WAL mode). `None` when
    /// there is nothing to watch (an in-memory database) or the wal-index
    /// cannot be read; the caller then has only its own commits to go by.
    pub async fn open(options: &SqliteConnectOptions) -> Option<WalWatch> {
        let file = options.get_filename();
        if !super::on_disk(options) {
            return None;
        }
        let mut held = match SqliteConnection::connect_with(options).await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "cannot hold a connection to watch other processes' writes");
                return None;
            }
        };
        // A read in WAL mode maps the wal-index (and creates it if needed).
        if let Err(e) = sqlx::query("SELECT COUNT(*) FROM sqlite_master").execute(&mut held).await {
            tracing::warn!(error = %e, "cannot read the database to watch other processes' writes");
            return None;
        }
        let mut path = file.as_os_str().to_owned();
        path.push("-shm");
        let path = PathBuf::from(path);
        let shm = match File::open(&path) {
            Ok(shm) => shm,
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "cannot read SQLite's wal-index: other processes' writes are not heard");
                return None;
            }
        };
        let watch = WalWatch { shm, path, expected: AtomicU64::new(UNSEEN), _held: held };
        let start = watch.counter()?;
        watch.expected.store(start, Ordering::Release);
        Some(watch)
    }

    /// The wal-index's `iChange` now; `None` if it cannot be read (then
    /// every check reports a change, which costs reads, never freshness).
    fn counter(&self) -> Option<u64> {
        let mut bytes = [0u8; 4];
        self.shm.read_exact_at(&mut bytes, ICHANGE_OFFSET).ok()?;
        Some(u64::from(u32::from_ne_bytes(bytes)))
    }

    /// The count of commits to the database by anyone, this process
    /// included, as the wal-index says now: what was read at one value is
    /// current for as long as the value stays. `None` if it cannot be read.
    pub fn commits(&self) -> Option<u64> {
        self.counter()
    }

    /// Whether anybody but this process committed since the last check.
    /// `publish` runs before the new counter is recorded, so that a
    /// concurrent check that finds the counter recorded also finds the
    /// change published.
    pub fn changed_elsewhere(&self, publish: impl FnOnce()) {
        let now = self.counter().unwrap_or(UNSEEN);
        if now != self.expected.load(Ordering::Acquire) || now == UNSEEN {
            publish();
            self.expected.store(now, Ordering::Release);
        }
    }

    /// The counter while this process holds SQLite's write lock, before its
    /// commit: checks for others' commits (`publish`), and returns what the
    /// counter is before this commit.
    pub fn before_commit(&self, publish: impl FnOnce()) -> Option<u64> {
        let now = self.counter();
        if now.is_none_or(|n| n != self.expected.load(Ordering::Acquire)) {
            publish();
        }
        now
    }

    /// After this process's commit: the counter moved on by exactly one.
    pub fn committed(&self, before: Option<u64>) {
        let after = before.map_or(UNSEEN, |n| u64::from((n as u32).wrapping_add(1)));
        self.expected.store(after, Ordering::Release);
    }
}
