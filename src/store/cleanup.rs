//! Removing what can no longer be used (docs/architecture.md#housekeeping):
//! expired codes, tokens, grants and sessions. The audit log is never touched.
//! Rows go in batches, so that a large backlog never holds the write lock
//! (SQLite) or its rows' locks (PostgreSQL) for long.

use super::run;

/// Rows per DELETE.
const BATCH: i64 = 1000;

/// How long a redeemed code is kept after it expired, so that a replay in
/// that time is still recognised (and revokes its tokens).
pub const USED_CODE_GRACE: i64 = 24 * 3600;

/// How many rows of each kind were removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub authorization_codes: u64,
    pub access_tokens: u64,
    pub refresh_tokens: u64,
    pub grants: u64,
    pub sessions: u64,
}

impl Removed {
    pub fn total(&self) -> u64 {
        self.authorization_codes + self.access_tokens + self.refresh_tokens + self.grants + self.sessions
    }
}

/// Deletes in batches of [`BATCH`], each its own short write (on SQLite
/// taking the write turn, so that the token path waits for at most one
/// batch). `condition` reads its values as `$1, $2, …`, in the order of
/// `binds`.
async fn in_batches(
    db: &super::Db,
    table: &str,
    key: &str,
    condition: &str,
    binds: &[i64],
) -> Result<u64, sqlx::Error> {
    let sql = format!("DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} LIMIT {BATCH})");
    let mut removed = 0;
    loop {
        let mut w = db.write().await?;
        let done = run!(&mut w, |c| {
            let mut query = sqlx::query(&sql);
            for value in binds {
                query = query.bind(*value);
            }
            query.execute(&mut *c).await?.rows_affected()
        });
        w.commit().await?;
        removed += done;
        if done < BATCH as u64 {
            return Ok(removed);
        }
    }
}

/// Removes everything that expired before `now`.
pub async fn remove_expired(db: &super::Db, now: i64) -> Result<Removed, sqlx::Error> {
    let authorization_codes = in_batches(
        db,
        "oauth_authorization_codes",
        "code_hash",
        "(used_at IS NULL AND expires_at <= $1) OR expires_at <= $2",
        &[now, now - USED_CODE_GRACE],
    )
    .await?;
    let refresh_tokens = in_batches(db, "oauth_refresh_tokens", "token_hash", "expires_at <= $1", &[now]).await?;
    // A grant goes when it can issue nothing more (expired or revoked) and
    // none of its tokens is alive; its access-token records go with it.
    let grants = in_batches(
        db,
        "oauth_grants",
        "id",
        "(expires_at <= $1 OR revoked_at IS NOT NULL)
         AND NOT EXISTS (SELECT 1 FROM oauth_access_tokens t
                         WHERE t.grant_id = oauth_grants.id AND t.expires_at > $2)
         AND NOT EXISTS (SELECT 1 FROM oauth_refresh_tokens r
                         WHERE r.grant_id = oauth_grants.id AND r.expires_at > $3)",
        &[now, now, now],
    )
    .await?;
    let access_tokens = in_batches(db, "oauth_access_tokens", "jti", "expires_at <= $1", &[now]).await?;
    let sessions = in_batches(db, "sessions", "token_hash", "expires_at <= $1", &[now]).await?
        + in_batches(db, "customer_sessions", "token_hash", "expires_at <= $1", &[now]).await?;
    Ok(Removed { authorization_codes, access_tokens, refresh_tokens, grants, sessions })
}
