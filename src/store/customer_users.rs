//! The `customer_users` table: storefront customer users.

use sqlx::SqliteExecutor;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomerUser {
    pub id: i64,
    pub organization_id: i64,
    pub organization: String,
    pub username: String,
    pub email: String,
    pub language: String,
    pub enabled: bool,
    pub created_at: i64,
}

pub(crate) const SELECT: &str =
    "SELECT c.id, c.organization_id, o.name AS organization, c.username, c.email, c.language, c.enabled,
        c.created_at
     FROM customer_users c JOIN organizations o ON o.id = c.organization_id";

pub struct NewCustomerUser<'a> {
    pub organization_id: i64,
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub language: &'a str,
}

pub async fn insert(db: impl SqliteExecutor<'_>, user: &NewCustomerUser<'_>, now: i64) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO customer_users (organization_id, username, email, password_hash, language, enabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
    )
    .bind(user.organization_id)
    .bind(user.username)
    .bind(user.email)
    .bind(user.password_hash)
    .bind(user.language)
    .bind(now)
    .bind(now)
    .fetch_one(db)
    .await?;
    Ok(id)
}

/// The customer users of the organizations `viewer_id` belongs to.
pub async fn list_visible_to(db: impl SqliteExecutor<'_>, viewer_id: i64) -> Result<Vec<CustomerUser>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE c.organization_id IN (SELECT organization_id FROM user_organizations WHERE user_id = ?)
         ORDER BY c.username COLLATE NOCASE"
    ))
    .bind(viewer_id)
    .fetch_all(db)
    .await
}

pub async fn find(db: impl SqliteExecutor<'_>, id: i64) -> Result<Option<CustomerUser>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} WHERE c.id = ?")).bind(id).fetch_optional(db).await
}

/// Enables or disables a customer user; a disabled one's tokens stop at once
/// (the caches follow).
pub async fn set_enabled(w: &mut super::Write, id: i64, enabled: bool, now: i64) -> Result<bool, sqlx::Error> {
    w.makes_stale();
    let done = sqlx::query("UPDATE customer_users SET enabled = ?, updated_at = ? WHERE id = ?")
        .bind(enabled)
        .bind(now)
        .bind(id)
        .execute(w.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A customer user and their password hash, by user name (for the storefront login).
pub async fn find_for_login(
    db: impl SqliteExecutor<'_>,
    username: &str,
) -> Result<Option<(CustomerUser, String)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: CustomerUser,
        password_hash: String,
    }
    let select = SELECT.replacen("c.created_at", "c.created_at, c.password_hash", 1);
    let row: Option<Row> =
        sqlx::query_as(&format!("{select} WHERE c.username = ?")).bind(username).fetch_optional(db).await?;
    Ok(row.map(|r| (r.user, r.password_hash)))
}

pub async fn find_by_username(
    db: impl SqliteExecutor<'_>,
    username: &str,
) -> Result<Option<CustomerUser>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} WHERE c.username = ?")).bind(username).fetch_optional(db).await
}
