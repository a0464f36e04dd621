//! The `settings` table: configuration edited in the back office.

use super::{run, run_write, Source};

pub async fn get(db: impl Into<Source<'_>>, key: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = run!(db, |c| sqlx::query_as("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *c)
        .await?);
    Ok(row.map(|r| r.0))
}

/// Writes a setting; an empty value removes it (the built-in default applies).
pub async fn put(db: impl Into<Source<'_>>, key: &str, value: &str, now: i64) -> Result<(), sqlx::Error> {
    run_write!(db, |c| {
        if value.is_empty() {
            sqlx::query("DELETE FROM settings WHERE key = $1").bind(key).execute(&mut *c).await?;
        } else {
            // An upsert both engines read alike (`excluded` is the proposed row).
            sqlx::query(
                "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(value)
            .bind(now)
            .execute(&mut *c)
            .await?;
        }
    });
    Ok(())
}
