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

/// An organization with its member and application counts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrganizationSummary {
    pub id: i64,
    pub name: String,
    pub users: i64,
    pub customer_users: i64,
    pub applications: i64,
    pub created_at: i64,
}

/// The organizations `user_id` belongs to, with counts.
pub async fn summaries_of_user(db: impl SqliteExecutor<'_>, user_id: i64) -> Result<Vec<OrganizationSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id, o.name,
                (SELECT COUNT(*) FROM user_organizations m WHERE m.organization_id = o.id) AS users,
                (SELECT COUNT(*) FROM customer_users c WHERE c.organization_id = o.id) AS customer_users,
                (SELECT COUNT(*) FROM oauth_applications a WHERE a.organization_id = o.id) AS applications,
                o.created_at
         FROM organizations o JOIN user_organizations uo ON uo.organization_id = o.id
         WHERE uo.user_id = ? ORDER BY o.name COLLATE NOCASE",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Replaces the organizations of a user.
pub async fn set_memberships(conn: &mut sqlx::SqliteConnection, user_id: i64, organization_ids: &[i64]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM user_organizations WHERE user_id = ?").bind(user_id).execute(&mut *conn).await?;
    for id in organization_ids {
        add_member(&mut *conn, *id, user_id).await?;
    }
    Ok(())
}
