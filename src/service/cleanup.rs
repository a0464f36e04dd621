//! `postern cleanup` and the server's periodic housekeeping
//! (docs/architecture.md#housekeeping): expired codes, tokens, grants and
//! sessions leave the database, retired keys whose tokens have all expired
//! leave the disk. Audit entries stay.

use crate::state::AppState;
use crate::store::cleanup::{self, Removed};
use std::time::Duration;

/// What one cleanup removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub removed: Removed,
    pub retired_keys: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.removed;
        write!(
            f,
            "{} authorization codes, {} access tokens, {} refresh tokens, {} grants, {} sessions, {} retired keys",
            r.authorization_codes, r.access_tokens, r.refresh_tokens, r.grants, r.sessions, self.retired_keys
        )
    }
}

/// Removes everything expired at `now`.
pub async fn run(state: &AppState, now: i64) -> Result<Report, sqlx::Error> {
    let removed = cleanup::remove_expired(&state.db, now).await?;
    let window = super::access::key_window(state);
    let retired_keys = if state.keys.in_database() {
        crate::keys::database::remove_expired_retired(&state.db, now, window).await? as usize
    } else {
        crate::keys::remove_expired_retired(&state.config.keys, now, window)
    };
    Ok(Report { removed, retired_keys })
}

/// Runs in the server: the cleanup every `maintenance.cleanup_interval`
/// seconds, and a look at the keys (files or database) every `key_reload_interval`.
pub fn spawn_periodic(state: AppState) {
    let keys_state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(keys_state.config.maintenance.key_reload_interval));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            keys_state.keys.refresh().await;
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(state.config.maintenance.cleanup_interval));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            state.limits.remove_refilled(state.clock.now()).await;
            let now = super::now();
            state.caches.remove_expired(now);
            match run(&state, super::now()).await {
                Ok(report) if report.removed.total() > 0 || report.retired_keys > 0 => {
                    tracing::info!(%report, "cleanup: removed expired records")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "cleanup failed; it runs again later"),
            }
        }
    });
}
