//! The `rate_limits` table (PostgreSQL only): the rate limits' schedules,
//! shared by every instance on the database (see `crate::limits`). Times
//! are microseconds since the Unix epoch on the *database's* clock, so that
//! instances whose clocks disagree still count on one time line; `shift`
//! moves that clock forward (a test's manual clock, zero otherwise).

use sqlx::PgPool;

/// The ledger's current time in microseconds, plus the shift bound as
/// parameter `$p`.
macro_rules! now {
    ($p:literal) => {
        concat!("(floor(extract(epoch FROM clock_timestamp()) * 1000000))::bigint + ", $p, "::bigint")
    };
}

/// One key of a batch: how many requests it asks to count, and its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub key: Vec<u8>,
    pub wants: i32,
    /// Microseconds between two requests at the sustained rate.
    pub interval: i64,
    /// How far (µs) the schedule may run ahead of now.
    pub tolerance: i64,
}

/// Counts a batch in one round trip (the function `postern_rate_take` of
/// the migration): per ask, how many of its requests were counted and,
/// when not all, how long (µs) the next one waits. The asks must be sorted
/// by key (rows are locked in that order). GCRA per key: each request moves
/// the next arrival time `interval` on, at most `tolerance` ahead of now;
/// the row lock makes two instances counting one key at once both count.
pub async fn take(pool: &PgPool, asks: &[Ask], shift: i64) -> Result<Vec<(i32, i64)>, sqlx::Error> {
    let keys: Vec<Vec<u8>> = asks.iter().map(|a| a.key.clone()).collect();
    let wants: Vec<i32> = asks.iter().map(|a| a.wants).collect();
    let intervals: Vec<i64> = asks.iter().map(|a| a.interval).collect();
    let tolerances: Vec<i64> = asks.iter().map(|a| a.tolerance).collect();
    let rows: Vec<(i32, i32, i64)> =
        sqlx::query_as("SELECT i, granted, wait FROM postern_rate_take($1, $2, $3, $4, $5) ORDER BY i")
            .bind(keys)
            .bind(wants)
            .bind(intervals)
            .bind(tolerances)
            .bind(shift)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|(_, granted, wait)| (granted, wait)).collect())
}

/// Whether a request of `key` would be counted now, counting nothing:
/// `None` if so, otherwise how long (µs) until it would be.
pub async fn peek(pool: &PgPool, key: &[u8], tolerance: i64, shift: i64) -> Result<Option<i64>, sqlx::Error> {
    const SQL: &str = concat!("SELECT tat, ", now!("$2"), " FROM rate_limits WHERE key = $1");
    let row: Option<(i64, i64)> = sqlx::query_as(SQL).bind(key).bind(shift).fetch_optional(pool).await?;
    Ok(row.and_then(|(tat, now)| (tat - now > tolerance).then(|| tat - now - tolerance)))
}

/// Deletes the schedules that are back to a whole allowance (a key without
/// a row behaves exactly like one whose time has passed).
pub async fn remove_refilled(pool: &PgPool) -> Result<u64, sqlx::Error> {
    const SQL: &str = concat!("DELETE FROM rate_limits WHERE tat < ", now!("0"));
    Ok(sqlx::query(SQL).execute(pool).await?.rows_affected())
}
