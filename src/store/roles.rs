//! The `roles` table: named sets of permissions given to back-office users.

use crate::permissions::Level;
use sqlx::SqliteExecutor;

/// The built-in Administrator role (cannot be changed or deleted).
pub const ADMINISTRATOR: i64 = 1;
/// The role new users get unless told otherwise: their own applications.
pub const DEVELOPER: i64 = 3;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Role {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub administrator: bool,
    pub app_view: Level,
    pub app_create: Level,
    pub app_edit: Level,
    pub app_delete: Level,
    pub built_in: bool,
    /// How many users have the role.
    pub users: i64,
}

const SELECT: &str = "SELECT r.id, r.name, r.description, r.administrator, r.app_view, r.app_create, r.app_edit,
        r.app_delete, r.built_in, (SELECT COUNT(*) FROM users u WHERE u.role_id = r.id) AS users
     FROM roles r";

/// A role's fields as written.
#[derive(Debug, Clone)]
pub struct RoleFields {
    pub name: String,
    pub description: String,
    pub administrator: bool,
    pub app_view: Level,
    pub app_create: Level,
    pub app_edit: Level,
    pub app_delete: Level,
}

pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<Role>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} ORDER BY r.id")).fetch_all(db).await
}

pub async fn find(db: impl SqliteExecutor<'_>, id: i64) -> Result<Option<Role>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} WHERE r.id = ?")).bind(id).fetch_optional(db).await
}

pub async fn insert(db: impl SqliteExecutor<'_>, role: &RoleFields, now: i64) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO roles (name, description, administrator, app_view, app_create, app_edit, app_delete, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&role.name)
    .bind(&role.description)
    .bind(role.administrator)
    .bind(role.app_view)
    .bind(role.app_create)
    .bind(role.app_edit)
    .bind(role.app_delete)
    .bind(now)
    .bind(now)
    .fetch_one(db)
    .await?;
    Ok(id)
}

/// Updates a role that is not built in.
pub async fn update(db: impl SqliteExecutor<'_>, id: i64, role: &RoleFields, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE roles SET name = ?, description = ?, administrator = ?, app_view = ?, app_create = ?, app_edit = ?,
             app_delete = ?, updated_at = ?
         WHERE id = ? AND built_in = 0",
    )
    .bind(&role.name)
    .bind(&role.description)
    .bind(role.administrator)
    .bind(role.app_view)
    .bind(role.app_create)
    .bind(role.app_edit)
    .bind(role.app_delete)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a role that is not built in and that no user has.
pub async fn delete_unused(db: impl SqliteExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM roles WHERE id = ? AND built_in = 0 AND NOT EXISTS (SELECT 1 FROM users WHERE role_id = ?)",
    )
    .bind(id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
