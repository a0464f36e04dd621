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

/// Counts one request of `key` if the schedule allows it: `None` when it
/// was counted, otherwise how long (µs) until it would be. GCRA: the next
/// arrival time moves `interval` on for each request and may run at most
/// `tolerance` ahead of now. `ON CONFLICT DO UPDATE` locks the row and
/// reads its newest version, so that two instances counting the same key
/// at the same moment both count.
pub async fn take(
    pool: &PgPool,
    key: &[u8],
    interval: i64,
    tolerance: i64,
    shift: i64,
) -> Result<Option<i64>, sqlx::Error> {
    const SQL: &str = concat!(
        "WITH clock AS (SELECT ",
        now!("$4"),
        " AS now),
         taken AS (
             INSERT INTO rate_limits AS r (key, tat) SELECT $1, now + $2 FROM clock
             ON CONFLICT (key) DO UPDATE SET tat = greatest(r.tat, EXCLUDED.tat - $2) + $2
             WHERE greatest(r.tat, EXCLUDED.tat - $2) - (EXCLUDED.tat - $2) <= $3
             RETURNING r.tat)
         SELECT EXISTS (SELECT 1 FROM taken), (SELECT now FROM clock), (SELECT tat FROM rate_limits WHERE key = $1)"
    );
    let (taken, now, seen): (bool, i64, Option<i64>) =
        sqlx::query_as(SQL).bind(key).bind(interval).bind(tolerance).bind(shift).fetch_one(pool).await?;
    Ok((!taken).then(|| wait(seen, now, interval, tolerance)))
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

/// How long a refused request waits: until the schedule is `tolerance`
/// ahead of now. The row read after the refusal may be older than the one
/// that refused (another instance counted in between); then at least one
/// interval.
fn wait(seen: Option<i64>, now: i64, interval: i64, tolerance: i64) -> i64 {
    seen.map_or(interval, |tat| tat - now - tolerance).max(1)
}
