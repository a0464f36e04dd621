//! The `settings` table: configuration edited in the back office.

use sqlx::SqliteExecutor;

pub async fn get(db: impl SqliteExecutor<'_>, key: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT value FROM settings WHERE key = ?").bind(key).fetch_optional(db).await?;
    Ok(row.map(|r| r.0))
}

/// Writes a setting; an empty value removes it (the built-in default applies).
pub async fn put(db: impl SqliteExecutor<'_>, key: &str, value: &str, now: i64) -> Result<(), sqlx::Error> {
    if value.is_empty() {
        sqlx::query("DELETE FROM settings WHERE key = ?").bind(key).execute(db).await?;
    } else {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(db)
        .await?;
    }
    Ok(())
}
