//! The `users` table: back-office users, with their role's permissions.

use super::{run, run_write, Held, PersonTable, Source, Write};
use crate::permissions::{Level, Permissions};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    /// True when the user's role is an administrator role.
    pub is_admin: bool,
    pub enabled: bool,
    pub created_at: i64,
    pub role_id: Option<i64>,
    pub role: Option<String>,
    pub language: String,
    pub app_view: Level,
    pub app_create: Level,
    pub app_edit: Level,
    pub app_delete: Level,
}

impl User {
    pub fn permissions(&self) -> Permissions {
        Permissions {
            administrator: self.is_admin,
            view: self.app_view,
            create: self.app_create,
            edit: self.app_edit,
            delete: self.app_delete,
        }
    }
}

/// The columns of [`User`], over `users u LEFT JOIN roles r`.
pub const COLUMNS: &str = "u.id, u.username, u.email, COALESCE(r.administrator, FALSE) AS is_admin, u.enabled,
     u.created_at, u.role_id, r.name AS role, u.language, COALESCE(r.app_view, 0) AS app_view,
     COALESCE(r.app_create, 0) AS app_create, COALESCE(r.app_edit, 0) AS app_edit,
     COALESCE(r.app_delete, 0) AS app_delete";
pub const FROM: &str = "users u LEFT JOIN roles r ON r.id = u.role_id";

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role_id: Option<i64>,
    pub language: &'a str,
}

/// Adds a user; their id is one no user ever had (see [`PersonTable::insert`]).
pub async fn insert(db: impl Into<Source<'_>>, user: &NewUser<'_>, now: i64) -> Result<i64, sqlx::Error> {
    let mut held = Held::default();
    let source: Source<'_> = db.into();
    let conn = source.conn(&mut held).await?;
    let sql = PersonTable::Users
        .insert(conn.engine(), "username, email, password_hash, role_id, language, enabled, created_at, updated_at")
        + "$1, $2, $3, $4, $5, TRUE, $6, $6) RETURNING id";
    let row: (i64,) = run!(Source::Conn(conn), |c| sqlx::query_as(&sql)
        .bind(user.username)
        .bind(user.email)
        .bind(user.password_hash)
        .bind(user.role_id)
        .bind(user.language)
        .bind(now)
        .fetch_one(&mut *c)
        .await?);
    Ok(row.0)
}

/// The editable fields of a user.
pub struct UserChanges<'a> {
    pub email: &'a str,
    pub role_id: Option<i64>,
    pub language: &'a str,
    pub enabled: bool,
}

/// Changes a user; a disabled user's tokens stop at once (the caches follow).
pub async fn update(w: &mut Write, id: i64, changes: &UserChanges<'_>, now: i64) -> Result<bool, sqlx::Error> {
    w.makes_stale().await?;
    let affected = run!(w, |c| sqlx::query(
        "UPDATE users SET email = $1, role_id = $2, language = $3, enabled = $4, updated_at = $5 WHERE id = $6"
    )
    .bind(changes.email)
    .bind(changes.role_id)
    .bind(changes.language)
    .bind(changes.enabled)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(affected == 1)
}

pub async fn set_password(
    db: impl Into<Source<'_>>,
    id: i64,
    password_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    run_write!(db, |c| {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

/// Enabled users whose role is an administrator role.
pub async fn count_enabled_admins(db: impl Into<Source<'_>>) -> Result<i64, sqlx::Error> {
    let row: (i64,) = run!(db, |c| sqlx::query_as(
        "SELECT COUNT(*) FROM users u JOIN roles r ON r.id = u.role_id WHERE u.enabled AND r.administrator",
    )
    .fetch_one(&mut *c)
    .await?);
    Ok(row.0)
}

pub async fn count(db: impl Into<Source<'_>>) -> Result<i64, sqlx::Error> {
    let row: (i64,) = run!(db, |c| sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&mut *c).await?);
    Ok(row.0)
}

/// A user by user name, regardless of case.
pub async fn find_by_username(db: impl Into<Source<'_>>, username: &str) -> Result<Option<User>, sqlx::Error> {
    if !super::storable(username) {
        return Ok(None);
    }
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE lower(u.username) = lower($1)");
    run!(db, |c| sqlx::query_as(&sql).bind(username).fetch_optional(&mut *c).await)
}

pub async fn find(db: impl Into<Source<'_>>, id: i64) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE u.id = $1");
    run!(db, |c| sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await)
}

/// The user and password hash for a login attempt (the user name matched
/// regardless of case).
pub async fn find_for_login(db: impl Into<Source<'_>>, username: &str) -> Result<Option<(User, String)>, sqlx::Error> {
    if !super::storable(username) {
        return Ok(None);
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        password_hash: String,
    }
    let sql = format!("SELECT {COLUMNS}, u.password_hash FROM {FROM} WHERE lower(u.username) = lower($1)");
    let row: Option<Row> = run!(db, |c| sqlx::query_as(&sql).bind(username).fetch_optional(&mut *c).await?);
    Ok(row.map(|r| (r.user, r.password_hash)))
}

/// One page of the users of an organization, by username (regardless of
/// case), and how many there are in all (one statement; a second only for a
/// page past the end).
pub async fn page_in_organization(
    db: &super::Db,
    organization_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64), sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        total: i64,
    }
    let sql = format!(
        "SELECT {COLUMNS}, COUNT(*) OVER () AS total FROM {FROM} WHERE EXISTS (
             SELECT 1 FROM user_organizations uo WHERE uo.user_id = u.id AND uo.organization_id = $1)
         ORDER BY lower(u.username) LIMIT $2 OFFSET $3"
    );
    let rows: Vec<Row> =
        run!(db, |c| sqlx::query_as(&sql).bind(organization_id).bind(limit).bind(offset).fetch_all(&mut *c).await?);
    let total = match rows.first() {
        Some(row) => row.total,
        None if offset == 0 => 0,
        None => count_in_organization(db, organization_id).await?,
    };
    Ok((rows.into_iter().map(|r| r.user).collect(), total))
}

/// Every user who shares an organization with `viewer_id`, by username, with
/// the names (comma-separated) and ids of their organizations.
pub async fn list_visible_to(
    db: impl Into<Source<'_>>,
    viewer_id: i64,
) -> Result<Vec<(User, String, Vec<i64>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        organizations: String,
        organization_ids: String,
    }
    // The names in order of name: an aggregate's own ORDER BY (SQLite 3.44+,
    // as bundled), since PostgreSQL does not promise to keep a subquery's.
    let sql = format!(
        "SELECT {COLUMNS},
                COALESCE((SELECT string_agg(o.name, ', ' ORDER BY o.name) FROM organizations o
                    JOIN user_organizations uo ON uo.organization_id = o.id WHERE uo.user_id = u.id), '')
                    AS organizations,
                COALESCE((SELECT string_agg(CAST(organization_id AS TEXT), ',') FROM user_organizations
                    WHERE user_id = u.id), '')
                    AS organization_ids
         FROM {FROM}
         WHERE EXISTS (SELECT 1 FROM user_organizations mine JOIN user_organizations theirs
                           ON theirs.organization_id = mine.organization_id
                       WHERE mine.user_id = $1 AND theirs.user_id = u.id)
         ORDER BY lower(u.username)"
    );
    let rows: Vec<Row> = run!(db, |c| sqlx::query_as(&sql).bind(viewer_id).fetch_all(&mut *c).await?);
    Ok(rows
        .into_iter()
        .map(|r| {
            let ids = r.organization_ids.split(',').filter_map(|id| id.parse().ok()).collect();
            (r.user, r.organizations, ids)
        })
        .collect())
}

pub async fn count_in_organization(db: impl Into<Source<'_>>, organization_id: i64) -> Result<i64, sqlx::Error> {
    let row: (i64,) =
        run!(db, |c| sqlx::query_as("SELECT COUNT(*) FROM user_organizations WHERE organization_id = $1")
            .bind(organization_id)
            .fetch_one(&mut *c)
            .await?);
    Ok(row.0)
}

pub async fn find_in_organization(
    db: impl Into<Source<'_>>,
    organization_id: i64,
    user_id: i64,
) -> Result<Option<User>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE u.id = $1 AND EXISTS (
             SELECT 1 FROM user_organizations uo WHERE uo.user_id = u.id AND uo.organization_id = $2)"
    );
    run!(db, |c| sqlx::query_as(&sql).bind(user_id).bind(organization_id).fetch_optional(&mut *c).await)
}
