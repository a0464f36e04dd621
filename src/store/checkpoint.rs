//! Moving the SQLite write-ahead log into the database file from a
//! connection of its own, so that requests seldom wait for it.
//!
//! In WAL mode SQLite appends each commit to the `-wal` file; a
//! *checkpoint* copies those pages into the database file, with an `fsync`
//! of each file (<https://www.sqlite.org/wal.html#checkpointing>). By
//! default the connection whose commit takes the log past 1,000 pages runs
//! the checkpoint itself, before its commit returns. On the token path that
//! is the one connection writing every token ([`super::token_writer`]), and
//! on a common disk the two `fsync`s of 4 MB of log take 15–20 ms: every
//! token request in flight waited for them, a few times a second under
//! load (the open-loop p99 in `bench/run`).
//!
//! Here a task checkpoints every [`INTERVAL`] on its own connection with
//! `PRAGMA wal_checkpoint(PASSIVE)`, which takes no lock a writer needs:
//! commits go on while it copies and syncs. The log starts again from its
//! beginning once a checkpoint has copied all of it and no reader still
//! reads it, which under steady load does not happen by itself (every
//! commit adds pages while the task copies). So when the log has grown
//! past [`RESTART_PAGES`], the task holds this process's write turn and
//! runs `wal_checkpoint(RESTART)`: it copies the few pages committed during
//! its own pass and waits (at most [`RESTART_WAIT`]) for the readers of the
//! log to finish, and the next commit starts the log again — a pause of a
//! few milliseconds for the writers instead of the whole copy. Before it
//! holds the turn, passive passes catch up with what was committed during
//! the pass before ([`catch_up`]), so the restart copies a few commits'
//! pages rather than those of a whole pass: at 2,700 tokens/s (oha, open
//! loop, 10 s runs alternated with the build before) the writers' pause fell from a
//! median of 2.6–3.0 ms to 1.5–1.8 ms; most of what remains is the two
//! `fsync`s.
//! The pool's connections checkpoint themselves only once the log reaches
//! [`FALLBACK_PAGES`]: a safety net for when this task cannot keep up,
//! never the usual way.

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::task::AbortHandle;

/// How often the task checkpoints.
pub const INTERVAL: Duration = Duration::from_millis(200);
/// The log length (pages) past which the task makes the log start again.
pub const RESTART_PAGES: i64 = 8_192;
/// How long the restarting checkpoint waits for readers, holding the
/// writers off; when they take longer, it tries again on a later pass.
pub const RESTART_WAIT: Duration = Duration::from_millis(50);
/// The log length (pages) at which a committing connection checkpoints
/// itself (`PRAGMA wal_autocheckpoint`; SQLite's default is 1,000).
pub const FALLBACK_PAGES: u32 = 16_384;
/// At most this many passive passes catch up before a restart.
const CATCH_UP_PASSES: usize = 4;
/// A restart waits for a catch-up pass to find fewer pages than this
/// committed since the pass before (about ten commits of a token batch).
const HELD_PAGES: i64 = 128;
/// How long to wait before opening the connection again after a failure.
const RETRY: Duration = Duration::from_secs(1);

/// The running task; it stops when the last handle to the database goes.
#[derive(Debug)]
pub struct Checkpoints(AbortHandle);

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts checkpointing the database of `options`; `None` for an in-memory
/// database (it has no log). `turn` is the write turn of this process's
/// writers ([`super::Db::write`]).
pub fn spawn(options: &SqliteConnectOptions, turn: Arc<Mutex<super::Turn>>) -> Option<Checkpoints> {
    if !super::on_disk(options) {
        return None;
    }
    let task = tokio::spawn(run(options.clone().busy_timeout(RESTART_WAIT), turn));
    Some(Checkpoints(task.abort_handle()))
}

async fn run(options: SqliteConnectOptions, turn: Arc<Mutex<super::Turn>>) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut conn = match SqliteConnection::connect_with(&options).await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open a connection for WAL checkpoints; commits checkpoint themselves meanwhile");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        loop {
            tick.tick().await;
            let done = match checkpoint(&mut conn, Mode::Passive).await {
                Ok(Progress { log, .. }) if log >= RESTART_PAGES => {
                    // What was committed during that pass, then during the
                    // next, each pass shorter, still without holding anyone.
                    let caught_up = catch_up(&mut conn, log).await;
                    // The pages committed meanwhile, with the writers held
                    // off, so that the next commit starts the log again.
                    let _turn = turn.lock().await;
                    let held = std::time::Instant::now();
                    let done = checkpoint(&mut conn, Mode::Restart).await;
                    tracing::debug!(
                        log,
                        caught_up = ?caught_up.map(|p| p.log),
                        held_ms = held.elapsed().as_secs_f64() * 1e3,
                        "WAL checkpoint restarted the log"
                    );
                    done
                }
                other => other,
            };
            match done {
                Ok(Progress { log, copied }) if copied < log => {
                    // A reader still uses older pages: a later pass copies them.
                    tracing::trace!(log, copied, "WAL checkpoint partly done");
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "WAL checkpoint failed; opening its connection again");
                    break;
                }
            }
        }
        let _ = conn.close().await;
        tokio::time::sleep(RETRY).await;
    }
}

/// Passive passes after the one that found the log long, while each finds
/// more than [`HELD_PAGES`] committed since the pass before (at most
/// [`CATCH_UP_PASSES`]): what the restarting checkpoint then copies with
/// the writers held off is a few commits' pages, not a whole pass's worth.
/// The last pass's progress (`None` when there was none, or it failed: the
/// restart copies the rest).
async fn catch_up(conn: &mut SqliteConnection, mut log: i64) -> Option<Progress> {
    let mut last = None;
    for _ in 0..CATCH_UP_PASSES {
        let pass = checkpoint(conn, Mode::Passive).await.ok()?;
        let committed_meanwhile = pass.log - log;
        (log, last) = (pass.log, Some(pass));
        if committed_meanwhile <= HELD_PAGES {
            break;
        }
    }
    last
}

/// What a checkpoint found and did, in pages (frames) of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Pages in the log.
    pub log: i64,
    /// Of those, the pages now in the database file.
    pub copied: i64,
}

/// How a checkpoint treats the others (<https://www.sqlite.org/pragma.html#pragma_wal_checkpoint>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Copies what no reader still needs; waits for nobody.
    Passive,
    /// Copies everything, then waits (the connection's busy timeout) until
    /// no reader reads the log, so that the next commit starts it again.
    Restart,
}

/// One checkpoint. A `Restart` that could not wait long enough reports the
/// pages it did copy; nothing fails.
pub async fn checkpoint(conn: &mut SqliteConnection, mode: Mode) -> Result<Progress, sqlx::Error> {
    let sql = match mode {
        Mode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
        Mode::Restart => "PRAGMA wal_checkpoint(RESTART)",
    };
    let row = sqlx::query(sql).fetch_one(&mut *conn).await?;
    Ok(Progress { log: row.try_get(1)?, copied: row.try_get(2)? })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::FileExt;

    /// The wal-index header's `mxFrame` (pages in the log) and the
    /// checkpoint information's `nBackfill` (pages copied into the
    /// database file): <https://www.sqlite.org/walformat.html> §2.2–2.3.
    fn log_and_copied(shm: &std::path::Path) -> (u32, u32) {
        let file = std::fs::File::open(shm).unwrap();
        let word = |offset| {
            let mut b = [0u8; 4];
            file.read_exact_at(&mut b, offset).unwrap();
            u32::from_ne_bytes(b)
        };
        (word(16), word(96))
    }

    async fn execute(db: &crate::store::Db, sql: &str) -> Result<(), sqlx::Error> {
        let mut w = db.write().await?;
        crate::store::run!(&mut w, |c| sqlx::query(sql).execute(&mut *c).await.map(drop))?;
        w.commit().await
    }

    async fn count(db: &crate::store::Db) -> Result<i64, sqlx::Error> {
        crate::store::run!(db, |c| sqlx::query_scalar("SELECT COUNT(*) FROM blobs").fetch_one(&mut *c).await)
    }

    #[tokio::test]
    async fn commits_reach_the_database_file_without_a_commit_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/c.db", dir.path().display());
        let db = crate::store::open(&url, 4).await.unwrap();
        execute(&db, "CREATE TABLE blobs (b BLOB)").await.unwrap();
        // 200 commits of a page each: far below the pool's own threshold.
        for _ in 0..200 {
            execute(&db, "INSERT INTO blobs VALUES (zeroblob(3000))").await.unwrap();
        }
        let shm = dir.path().join("c.db-shm");
        let (log, _) = log_and_copied(&shm);
        assert!(log >= 200, "the commits are in the log ({log} pages)");
        let deadline = std::time::Instant::now() + 5 * super::INTERVAL + std::time::Duration::from_secs(2);
        loop {
            let (log, copied) = log_and_copied(&shm);
            if copied == log {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the log was not checkpointed: {copied} of {log} pages copied"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Nothing lost: a new connection sees every row.
        db.close().await;
        drop(db);
        let db = crate::store::open(&url, 1).await.unwrap();
        assert_eq!(count(&db).await.unwrap(), 200);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn under_steady_writes_the_log_starts_again_long_before_the_commits_would_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/c.db", dir.path().display());
        let db = crate::store::open(&url, 4).await.unwrap();
        execute(&db, "CREATE TABLE blobs (b BLOB)").await.unwrap();
        let shm = dir.path().join("c.db-shm");
        // Commits of a page each, one after the other, for twice the pool's
        // own threshold: only the task can keep the log shorter than that.
        let (mut longest, mut restarts, mut last) = (0, 0, 0);
        for _ in 0..2 * super::FALLBACK_PAGES {
            execute(&db, "INSERT INTO blobs VALUES (zeroblob(3000))").await.unwrap();
            let (log, _) = log_and_copied(&shm);
            longest = longest.max(log);
            if log < last {
                restarts += 1;
            }
            last = log;
        }
        assert!(restarts >= 2, "the log started again {restarts} times");
        assert!(
            longest < super::FALLBACK_PAGES,
            "the log grew to {longest} pages, where the committing connection checkpoints"
        );
    }
}
