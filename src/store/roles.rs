//! The `roles` table: named sets of permissions given to back-office users.

use super::{run, run_write, Source};
use crate::permissions::Level;

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

pub async fn list(db: impl Into<Source<'_>>) -> Result<Vec<Role>, sqlx::Error> {
    let sql = format!("{SELECT} ORDER BY r.id");
    run!(db, |c| sqlx::query_as(&sql).fetch_all(&mut *c).await)
}

pub async fn find(db: impl Into<Source<'_>>, id: i64) -> Result<Option<Role>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    run!(db, |c| sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await)
}

pub async fn insert(db: impl Into<Source<'_>>, role: &RoleFields, now: i64) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = run_write!(db, |c| {
        sqlx::query_as(
            "INSERT INTO roles (name, description, administrator, app_view, app_create, app_edit, app_delete,
                                created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(&role.name)
        .bind(&role.description)
        .bind(role.administrator)
        .bind(role.app_view)
        .bind(role.app_create)
        .bind(role.app_edit)
        .bind(role.app_delete)
        .bind(now)
        .fetch_one(&mut *c)
        .await?
    });
    Ok(id)
}

/// Updates a role that is not built in.
pub async fn update(db: impl Into<Source<'_>>, id: i64, role: &RoleFields, now: i64) -> Result<bool, sqlx::Error> {
    let affected = run_write!(db, |c| {
        sqlx::query(
            "UPDATE roles SET name = $1, description = $2, administrator = $3, app_view = $4, app_create = $5,
                 app_edit = $6, app_delete = $7, updated_at = $8
             WHERE id = $9 AND NOT built_in",
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
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(affected == 1)
}

/// Deletes a role that is not built in and that no user has.
pub async fn delete_unused(db: impl Into<Source<'_>>, id: i64) -> Result<bool, sqlx::Error> {
    let affected = run_write!(db, |c| sqlx::query(
        "DELETE FROM roles WHERE id = $1 AND NOT built_in AND NOT EXISTS (SELECT 1 FROM users WHERE role_id = $1)",
    )
    .bind(id)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(affected == 1)
}
