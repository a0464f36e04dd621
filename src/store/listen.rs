//! Hearing the other instances (PostgreSQL only): every write that makes
//! something kept in memory stale sends a notification on
//! [`CHANGES_CHANNEL`] with its commit ([`Write::commit`](super::Write::commit));
//! each instance listens on a connection of its own and moves its
//! [`Changes`] on for each, so that every cache in every instance drops
//! what it kept within the notification's delivery time (milliseconds).
//!
//! A listener that is not connected cannot know what it missed. So:
//! - an instance starts *untrusted* (its caches unused) and trusts its
//!   caches only once it is subscribed;
//! - it sends itself a heartbeat through the pool every [`HEARTBEAT`] on
//!   the same channel; when its own heartbeat has not come back within
//!   [`DEAF_AFTER`] (a dropped or silently dead connection, a restarted
//!   server), it distrusts its caches at once, drops the listener and
//!   connects again, and trusts them again only once subscribed anew —
//!   with a new generation, so nothing kept before the outage is served.
//!
//! The result: a revocation committed on one instance is honoured by every
//! instance within the delivery time when all is well, and within
//! [`DEAF_AFTER`] at worst, by reading the database instead of the cache.

use super::{Changes, Db, CHANGES_CHANNEL};
use sqlx::postgres::{PgListener, PgPool};
use std::sync::Arc;
use std::time::Duration;

/// The payload of a notification that announces a change.
pub const CHANGE: &str = "change";
/// How often an instance sends itself a heartbeat.
pub const HEARTBEAT: Duration = Duration::from_millis(250);
/// How long without its own heartbeat before an instance stops trusting
/// what it keeps.
pub const DEAF_AFTER: Duration = Duration::from_millis(900);
/// How long to wait before connecting again after a failure.
const RETRY: Duration = Duration::from_millis(250);

/// Starts listening, on PostgreSQL; nothing to do on SQLite (one process
/// tells its caches itself).
pub fn spawn(db: &Db) {
    let Some(pool) = db.postgres().cloned() else { return };
    let changes = Arc::clone(db.changes());
    let beat = format!("beat:{:016x}", rand::random::<u64>());
    tokio::spawn(heartbeat(pool.clone(), beat.clone()));
    tokio::spawn(listen(pool, changes, beat));
}

/// Sends this instance's heartbeat on the channel, for its own listener.
async fn heartbeat(pool: PgPool, beat: String) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANGES_CHANNEL).bind(&beat).execute(&pool).await {
            tracing::debug!(error = %e, "could not send the change listener's heartbeat");
        }
    }
}

async fn listen(pool: PgPool, changes: Arc<Changes>, beat: String) {
    let mut was_listening = false;
    loop {
        if pool.is_closed() {
            return;
        }
        match subscribe(&pool).await {
            Ok(mut listener) => {
                changes.trust_again();
                if was_listening {
                    tracing::info!("hearing other instances' changes again; caches in use again");
                } else {
                    tracing::info!(channel = CHANGES_CHANNEL, "listening for other instances' changes");
                }
                was_listening = true;
                let why = hear(&mut listener, &changes, &beat).await;
                changes.distrust();
                tracing::warn!(reason = %why, "cannot hear other instances' changes: caches unused until reconnected");
            }
            Err(e) => {
                changes.distrust();
                tracing::warn!(error = %e, "cannot listen for other instances' changes: caches unused, retrying");
            }
        }
        tokio::time::sleep(RETRY).await;
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANGES_CHANNEL).await?;
    Ok(listener)
}

/// Moves `changes` on for every change heard, until the connection is lost
/// or this instance's heartbeat stops coming back; returns why.
async fn hear(listener: &mut PgListener, changes: &Changes, beat: &str) -> String {
    loop {
        // A timed-out wait is abandoned with its listener (the caller
        // connects anew), never resumed.
        match tokio::time::timeout(DEAF_AFTER, next_own_beat_or_change(listener, changes, beat)).await {
            Ok(Ok(())) => continue,
            Ok(Err(why)) => return why,
            Err(_) => return format!("no heartbeat came back within {} ms", DEAF_AFTER.as_millis()),
        }
    }
}

/// Waits for this instance's own heartbeat, announcing every change heard
/// meanwhile.
async fn next_own_beat_or_change(listener: &mut PgListener, changes: &Changes, beat: &str) -> Result<(), String> {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                let payload = notification.payload();
                if payload == beat {
                    return Ok(());
                }
                if !payload.starts_with("beat:") {
                    changes.publish();
                }
            }
            Ok(None) => return Err("the connection was lost".into()),
            Err(e) => return Err(e.to_string()),
        }
    }
}
