//! The `customer_users` table: storefront customer users.

use super::{run, Held, PersonTable, Source, Write};

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

/// Adds a customer user; their id is one no customer user ever had (see
/// [`PersonTable::insert`]).
pub async fn insert(db: impl Into<Source<'_>>, user: &NewCustomerUser<'_>, now: i64) -> Result<i64, sqlx::Error> {
    let mut held = Held::default();
    let source: Source<'_> = db.into();
    let conn = source.conn(&mut held).await?;
    let sql = PersonTable::CustomerUsers.insert(
        conn.engine(),
        "organization_id, username, email, password_hash, language, enabled, created_at, updated_at",
    ) + "$1, $2, $3, $4, $5, TRUE, $6, $6) RETURNING id";
    let (id,): (i64,) = run!(Source::Conn(conn), |c| sqlx::query_as(&sql)
        .bind(user.organization_id)
        .bind(user.username)
        .bind(user.email)
        .bind(user.password_hash)
        .bind(user.language)
        .bind(now)
        .fetch_one(&mut *c)
        .await?);
    Ok(id)
}

/// The customer users of the organizations `viewer_id` belongs to.
pub async fn list_visible_to(db: impl Into<Source<'_>>, viewer_id: i64) -> Result<Vec<CustomerUser>, sqlx::Error> {
    let sql = format!(
        "{SELECT} WHERE c.organization_id IN (SELECT organization_id FROM user_organizations WHERE user_id = $1)
         ORDER BY lower(c.username)"
    );
    run!(db, |c| sqlx::query_as(&sql).bind(viewer_id).fetch_all(&mut *c).await)
}

pub async fn find(db: impl Into<Source<'_>>, id: i64) -> Result<Option<CustomerUser>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE c.id = $1");
    run!(db, |c| sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await)
}

/// Enables or disables a customer user; a disabled one's tokens stop at once
/// (the caches follow).
pub async fn set_enabled(w: &mut Write, id: i64, enabled: bool, now: i64) -> Result<bool, sqlx::Error> {
    w.makes_stale().await?;
    let affected = run!(w, |c| sqlx::query("UPDATE customer_users SET enabled = $1, updated_at = $2 WHERE id = $3")
        .bind(enabled)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(affected == 1)
}

/// A customer user and their password hash, by user name regardless of case
/// (for the storefront login).
pub async fn find_for_login(
    db: impl Into<Source<'_>>,
    username: &str,
) -> Result<Option<(CustomerUser, String)>, sqlx::Error> {
    if !super::storable(username) {
        return Ok(None);
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: CustomerUser,
        password_hash: String,
    }
    let select = SELECT.replacen("c.created_at", "c.created_at, c.password_hash", 1);
    let sql = format!("{select} WHERE lower(c.username) = lower($1)");
    let row: Option<Row> = run!(db, |c| sqlx::query_as(&sql).bind(username).fetch_optional(&mut *c).await?);
    Ok(row.map(|r| (r.user, r.password_hash)))
}

/// A customer user by user name, regardless of case.
pub async fn find_by_username(db: impl Into<Source<'_>>, username: &str) -> Result<Option<CustomerUser>, sqlx::Error> {
    if !super::storable(username) {
        return Ok(None);
    }
    let sql = format!("{SELECT} WHERE lower(c.username) = lower($1)");
    run!(db, |c| sqlx::query_as(&sql).bind(username).fetch_optional(&mut *c).await)
}
