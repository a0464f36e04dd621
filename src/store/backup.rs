//! Online backup of a SQLite database (`postern backup`,
//! README.md#backups): `VACUUM INTO` copies the database as one
//! read transaction sees it, so writers (token issuance) go on meanwhile,
//! and the copy is a consistent, compact database file.

use super::{run, Db};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;

/// Every table Postern keeps, parents before children (the order a copy
/// can be filled in without breaking a foreign key).
pub const TABLES: &[&str] = &[
    "organizations",
    "roles",
    "users",
    "user_organizations",
    "customer_users",
    "oauth_applications",
    "oauth_application_redirect_uris",
    "oauth_grants",
    "oauth_access_tokens",
    "oauth_authorization_codes",
    "oauth_refresh_tokens",
    "oauth_consents",
    "sessions",
    "customer_sessions",
    "settings",
    "email_outbox",
    "audit_log",
];

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
    /// Rows per table, in [`TABLES`] order.
    pub counts: Vec<(&'static str, i64)>,
}

/// Checks a SQLite copy: its integrity, and how many rows each table holds.
pub async fn check_copy(file: &Path) -> Result<CopyCheck, sqlx::Error> {
    let mut conn = SqliteConnectOptions::new().filename(file).read_only(true).connect().await?;
    let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await?;
    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut conn).await?;
        counts.push((*table, n));
    }
    conn.close().await?;
    Ok(CopyCheck { integrity: lines.join("\n"), counts })
}
