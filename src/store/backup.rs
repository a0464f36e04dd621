//! Online backup of a SQLite database (`postern backup`,
//! README.md#backups-and-moving-to-postgresql): `VACUUM INTO` copies the database as one
//! read transaction sees it, so writers (token issuance) go on meanwhile,
//! and the copy is a consistent, compact database file.

use super::{run, transfer, Db};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;

/// Copies the database into the new file `target` (SQLite only).
pub async fn vacuum_into(db: &Db, target: &Path) -> Result<(), sqlx::Error> {
    let target = target.to_string_lossy().into_owned();
    run!(db, |c| sqlx::query("VACUUM INTO $1").bind(&target).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// What a copy holds, read from the file itself (opened read-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyCheck {
    /// `PRAGMA integrity_check`: `ok`, or the problems SQLite found.
    pub integrity: String,
    /// Rows per table, in the order of [`transfer::TABLES`].
    pub counts: Vec<(&'static str, i64)>,
}

/// Checks a SQLite copy: its integrity, and how many rows each table holds.
pub async fn check_copy(file: &Path) -> Result<CopyCheck, sqlx::Error> {
    let mut conn = SqliteConnectOptions::new().filename(file).read_only(true).connect().await?;
    let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await?;
    let mut counts = Vec::with_capacity(transfer::TABLES.len());
    for table in transfer::TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", table.name)).fetch_one(&mut conn).await?;
        counts.push((table.name, n));
    }
    conn.close().await?;
    Ok(CopyCheck { integrity: lines.join("\n"), counts })
}
