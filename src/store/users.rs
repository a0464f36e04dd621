//! The `users` table: back-office users.

use sqlx::SqliteExecutor;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub is_admin: bool,
    pub enabled: bool,
    pub created_at: i64,
}

const COLUMNS: &str = "id, username, email, is_admin, enabled, created_at";

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
}

pub async fn insert(db: impl SqliteExecutor<'_>, user: &NewUser<'_>, now: i64) -> Result<i64, sqlx::Error> {
    let row: (i64,) = sqlx::query_as(
        "INSERT INTO users (username, email, password_hash, is_admin, enabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, 1, ?, ?) RETURNING id",
    )
    .bind(user.username)
    .bind(user.email)
    .bind(user.password_hash)
    .bind(user.is_admin)
    .bind(now)
    .bind(now)
    .fetch_one(db)
    .await?;
    Ok(row.0)
}

pub async fn count(db: impl SqliteExecutor<'_>) -> Result<i64, sqlx::Error> {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(db).await?;
    Ok(row.0)
}

pub async fn find_by_username(db: impl SqliteExecutor<'_>, username: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE username = ?"))
        .bind(username)
        .fetch_optional(db)
        .await
}

pub async fn find(db: impl SqliteExecutor<'_>, id: i64) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = ?")).bind(id).fetch_optional(db).await
}

/// The user and password hash for a login attempt.
pub async fn find_for_login(
    db: impl SqliteExecutor<'_>,
    username: &str,
) -> Result<Option<(User, String)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        password_hash: String,
    }
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS}, password_hash FROM users WHERE username = ?"))
        .bind(username)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| (r.user, r.password_hash)))
}

/// One page of the users of an organization, by username.
pub async fn list_in_organization(
    db: impl SqliteExecutor<'_>,
    organization_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<User>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users u WHERE EXISTS (
             SELECT 1 FROM user_organizations uo WHERE uo.user_id = u.id AND uo.organization_id = ?)
         ORDER BY username LIMIT ? OFFSET ?"
    ))
    .bind(organization_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

pub async fn count_in_organization(db: impl SqliteExecutor<'_>, organization_id: i64) -> Result<i64, sqlx::Error> {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM user_organizations WHERE organization_id = ?")
        .bind(organization_id)
        .fetch_one(db)
        .await?;
    Ok(row.0)
}

pub async fn find_in_organization(
    db: impl SqliteExecutor<'_>,
    organization_id: i64,
    user_id: i64,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users u WHERE u.id = ? AND EXISTS (
             SELECT 1 FROM user_organizations uo WHERE uo.user_id = u.id AND uo.organization_id = ?)"
    ))
    .bind(user_id)
    .bind(organization_id)
    .fetch_optional(db)
    .await
}
