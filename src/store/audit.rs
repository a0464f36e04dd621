//! The `audit_log` table: written by `service::audit`, read by the back
//! office's Audit Log page. Rows are only ever inserted.

use sqlx::{QueryBuilder, Sqlite, SqliteExecutor};

/// One event to record. Every field but `event` is optional; a missing user
/// or application name is looked up from its id.
#[derive(Debug, Clone, Default)]
pub struct NewEntry<'a> {
    pub at: i64,
    pub event: &'a str,
    pub user_id: Option<i64>,
    pub customer_user_id: Option<i64>,
    pub username: Option<&'a str>,
    pub application_id: Option<i64>,
    pub application_name: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub detail: &'a str,
}

pub async fn insert(db: impl SqliteExecutor<'_>, e: &NewEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, event, user_id, customer_user_id, username, application_id, application_name,
                                client_id, ip, detail)
         VALUES (?, ?, ?, ?,
                 COALESCE(?, (SELECT username FROM users WHERE id = ?),
                          (SELECT username FROM customer_users WHERE id = ?)),
                 ?,
                 COALESCE(?, (SELECT name FROM oauth_applications WHERE id = ?)),
                 COALESCE(?, (SELECT client_id FROM oauth_applications WHERE id = ?)), ?, ?)",
    )
    .bind(e.at)
    .bind(e.event)
    .bind(e.user_id)
    .bind(e.customer_user_id)
    .bind(e.username)
    .bind(e.user_id)
    .bind(e.customer_user_id)
    .bind(e.application_id)
    .bind(e.application_name)
    .bind(e.application_id)
    .bind(e.client_id)
    .bind(e.application_id)
    .bind(e.ip)
    .bind(e.detail)
    .execute(db)
    .await?;
    Ok(())
}

/// Inserts several entries in one statement. Unlike [`insert`], names are
/// not looked up: the caller gives them.
pub async fn insert_many(db: impl SqliteExecutor<'_>, entries: &[NewEntry<'_>]) -> Result<(), sqlx::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::<Sqlite>::new(
        "INSERT INTO audit_log (at, event, user_id, customer_user_id, username, application_id, application_name,
                                client_id, ip, detail) ",
    );
    query.push_values(entries, |mut row, e| {
        row.push_bind(e.at)
            .push_bind(e.event)
            .push_bind(e.user_id)
            .push_bind(e.customer_user_id)
            .push_bind(e.username)
            .push_bind(e.application_id)
            .push_bind(e.application_name)
            .push_bind(e.client_id)
            .push_bind(e.ip)
            .push_bind(e.detail);
    });
    // Not kept prepared (see store::tokens::record_issued).
    query.build().persistent(false).execute(db).await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub event: String,
    pub user_id: Option<i64>,
    pub customer_user_id: Option<i64>,
    pub username: Option<String>,
    pub application_id: Option<i64>,
    pub application_name: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub detail: String,
}

/// What the Audit Log page asks for.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    /// From this time (inclusive), Unix seconds.
    pub from: Option<i64>,
    /// Before this time (exclusive).
    pub until: Option<i64>,
    /// An event name, or a prefix ending in '.' ("login." for every login event).
    pub event: Option<&'a str>,
    /// Part of a user name (back office or storefront).
    pub user: Option<&'a str>,
    /// Part of an application name, or its exact client ID.
    pub application: Option<&'a str>,
}

fn like(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

fn push_filter(q: &mut QueryBuilder<'_, Sqlite>, f: &Filter<'_>) {
    q.push(" WHERE 1 = 1");
    if let Some(from) = f.from {
        q.push(" AND at >= ").push_bind(from);
    }
    if let Some(until) = f.until {
        q.push(" AND at < ").push_bind(until);
    }
    match f.event {
        Some(prefix) if prefix.ends_with('.') => {
            q.push(" AND substr(event, 1, ").push_bind(prefix.len() as i64).push(") = ").push_bind(prefix.to_owned());
        }
        Some(event) => {
            q.push(" AND event = ").push_bind(event.to_owned());
        }
        None => {}
    }
    if let Some(user) = f.user {
        q.push(" AND username LIKE ").push_bind(like(user)).push(" ESCAPE '\\'");
    }
    if let Some(app) = f.application {
        q.push(" AND (application_name LIKE ")
            .push_bind(like(app))
            .push(" ESCAPE '\\' OR client_id = ")
            .push_bind(app.to_owned())
            .push(")");
    }
}

/// A page of entries, newest first, and how many match in all.
pub async fn search(
    db: &crate::store::Db,
    filter: &Filter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Entry>, i64), sqlx::Error> {
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT id, at, event, user_id, customer_user_id, username, application_id, application_name, client_id, ip,
                detail FROM audit_log",
    );
    push_filter(&mut q, filter);
    q.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    let rows = q.build_query_as::<Entry>().fetch_all(db).await?;
    let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM audit_log");
    push_filter(&mut count, filter);
    let (total,): (i64,) = count.build_query_as().fetch_one(db).await?;
    Ok((rows, total))
}

/// How many `event` entries there are since `since`.
pub async fn count_since(db: impl SqliteExecutor<'_>, event: &str, since: i64) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE event = ? AND at >= ?")
        .bind(event)
        .bind(since)
        .fetch_one(db)
        .await?;
    Ok(n)
}
