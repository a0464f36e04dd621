//! The `organizations` table.

use sqlx::SqliteExecutor;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Organization {
    pub id: i64,
    pub name: String,
}

pub async fn insert(db: impl SqliteExecutor<'_>, name: &str, now: i64) -> Result<i64, sqlx::Error> {
    let row: (i64,) = sqlx::query_as("INSERT INTO organizations (name, created_at) VALUES (?, ?) RETURNING id")
        .bind(name)
        .bind(now)
        .fetch_one(db)
        .await?;
    Ok(row.0)
}

pub async fn find_by_name(db: impl SqliteExecutor<'_>, name: &str) -> Result<Option<Organization>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM organizations WHERE name = ?").bind(name).fetch_optional(db).await
}

pub async fn first(db: impl SqliteExecutor<'_>) -> Result<Option<Organization>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM organizations ORDER BY id LIMIT 1").fetch_optional(db).await
}

/// The organizations a back-office user belongs to, by name.
pub async fn of_user(db: impl SqliteExecutor<'_>, user_id: i64) -> Result<Vec<Organization>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id, o.name FROM organizations o
         JOIN user_organizations uo ON uo.organization_id = o.id
         WHERE uo.user_id = ? ORDER BY o.name",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

pub async fn add_member(db: impl SqliteExecutor<'_>, organization_id: i64, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT OR IGNORE INTO user_organizations (user_id, organization_id) VALUES (?, ?)")
        .bind(user_id)
        .bind(organization_id)
        .execute(db)
        .await?;
    Ok(())
}
