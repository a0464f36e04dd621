//! The `signing_keys` table (PostgreSQL only; SQLite keeps its keys in
//! files): one active key, sealed, and the public halves of retired ones.

use super::{run, run_write, Source};

/// A key as stored. `private_sealed` is `None` once the key is retired.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub public_pem: String,
    pub private_sealed: Option<Vec<u8>>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// Every key, the active one first, then the retired ones newest first.
pub async fn list(db: impl Into<Source<'_>>) -> Result<Vec<KeyRow>, sqlx::Error> {
    run!(db, |c| sqlx::query_as(
        "SELECT kid, public_pem, private_sealed, created_at, retired_at FROM signing_keys
         ORDER BY retired_at IS NOT NULL, retired_at DESC, kid"
    )
    .fetch_all(&mut *c)
    .await)
}

/// What identifies the key set cheaply: each kid with its retirement.
pub async fn fingerprint(db: impl Into<Source<'_>>) -> Result<Vec<(String, Option<i64>)>, sqlx::Error> {
    run!(db, |c| sqlx::query_as("SELECT kid, retired_at FROM signing_keys ORDER BY kid").fetch_all(&mut *c).await)
}

/// Adds a new active key (`private_sealed` set). Fails with a unique
/// violation when there is an active key already.
pub async fn insert_active(
    db: impl Into<Source<'_>>,
    kid: &str,
    algorithm: &str,
    public_pem: &str,
    private_sealed: &[u8],
    now: i64,
) -> Result<(), sqlx::Error> {
    run_write!(db, |c| sqlx::query(
        "INSERT INTO signing_keys (kid, algorithm, public_pem, private_sealed, created_at) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(kid)
    .bind(algorithm)
    .bind(public_pem)
    .bind(private_sealed)
    .bind(now)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(())
}

/// Retires the active key, dropping its private half; returns its kid.
pub async fn retire_active(db: impl Into<Source<'_>>, now: i64) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = run_write!(db, |c| sqlx::query_as(
        "UPDATE signing_keys SET retired_at = $1, private_sealed = NULL WHERE retired_at IS NULL RETURNING kid"
    )
    .bind(now)
    .fetch_optional(&mut *c)
    .await?);
    Ok(row.map(|r| r.0))
}

/// Removes every key (`keys generate --force`); returns how many.
pub async fn delete_all(db: impl Into<Source<'_>>) -> Result<u64, sqlx::Error> {
    Ok(run_write!(db, |c| sqlx::query("DELETE FROM signing_keys").execute(&mut *c).await?.rows_affected()))
}

/// Removes retired keys retired at or before `cutoff`; returns how many.
pub async fn delete_retired_before(db: impl Into<Source<'_>>, cutoff: i64) -> Result<u64, sqlx::Error> {
    Ok(run_write!(db, |c| sqlx::query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at <= $1")
        .bind(cutoff)
        .execute(&mut *c)
        .await?
        .rows_affected()))
}
