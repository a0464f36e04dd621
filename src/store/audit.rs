//! The `audit_log` table: written by `service::audit`, read by the back
//! office's Audit Log page. Rows are only ever inserted.

use super::{bind_values, run, run_write, Source, Statement, Value};

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

pub async fn insert(db: impl Into<Source<'_>>, e: &NewEntry<'_>) -> Result<(), sqlx::Error> {
    run_write!(db, |c| {
        sqlx::query(
            "INSERT INTO audit_log (at, event, user_id, customer_user_id, username, application_id, application_name,
                                    client_id, ip, detail)
             VALUES ($1, $2, $3, $4,
                     COALESCE($5, (SELECT username FROM users WHERE id = $3),
                              (SELECT username FROM customer_users WHERE id = $4)),
                     $6,
                     COALESCE($7, (SELECT name FROM oauth_applications WHERE id = $6)),
                     COALESCE($8, (SELECT client_id FROM oauth_applications WHERE id = $6)), $9, $10)",
        )
        .bind(e.at)
        .bind(e.event)
        .bind(e.user_id)
        .bind(e.customer_user_id)
        .bind(e.username)
        .bind(e.application_id)
        .bind(e.application_name)
        .bind(e.client_id)
        .bind(e.ip)
        .bind(e.detail)
        .execute(&mut *c)
        .await?;
    });
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
    /// Part of a user name (back office or storefront), regardless of case.
    pub user: Option<&'a str>,
    /// Part of an application name (regardless of case), or its exact client ID.
    pub application: Option<&'a str>,
}

fn push_filter<'a>(q: &mut Statement<'a>, f: &Filter<'a>) {
    q.push(" WHERE 1 = 1");
    if let Some(from) = f.from {
        q.push(" AND at >= ").push_value(Value::Int(from));
    }
    if let Some(until) = f.until {
        q.push(" AND at < ").push_value(Value::Int(until));
    }
    match f.event {
        Some(prefix) if prefix.ends_with('.') => {
            // substr counts characters on both engines; PostgreSQL's takes an
            // INTEGER length, hence the cast of the BIGINT parameter.
            q.push(" AND substr(event, 1, CAST(")
                .push_value(Value::Int(prefix.chars().count() as i64))
                .push(" AS INTEGER)) = ")
                .push_value(Value::text(prefix));
        }
        Some(event) => {
            q.push(" AND event = ").push_value(Value::text(event));
        }
        None => {}
    }
    // lower() on both sides: SQLite's LIKE ignores (ASCII) case, PostgreSQL's
    // does not.
    if let Some(user) = f.user {
        q.push(" AND lower(username) LIKE lower(").push_value(Value::containing(user)).push(") ESCAPE '\\'");
    }
    if let Some(app) = f.application {
        q.push(" AND (lower(application_name) LIKE lower(")
            .push_value(Value::containing(app))
            .push(") ESCAPE '\\' OR client_id = ")
            .push_value(Value::text(app))
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
    let mut rows = Statement::new(
        "SELECT id, at, event, user_id, customer_user_id, username, application_id, application_name, client_id, ip,
                detail FROM audit_log",
    );
    push_filter(&mut rows, filter);
    rows.push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_value(Value::Int(limit))
        .push(" OFFSET ")
        .push_value(Value::Int(offset));
    let mut count = Statement::new("SELECT COUNT(*) FROM audit_log");
    push_filter(&mut count, filter);
    run!(db, |c| {
        let page: Vec<Entry> = bind_values!(sqlx::query_as(&rows.sql), &rows.values).fetch_all(&mut *c).await?;
        let (total,): (i64,) = bind_values!(sqlx::query_as(&count.sql), &count.values).fetch_one(&mut *c).await?;
        Ok((page, total))
    })
}

/// How many `event` entries there are since `since`.
pub async fn count_since(db: impl Into<Source<'_>>, event: &str, since: i64) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = run!(db, |c| sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE event = $1 AND at >= $2")
        .bind(event)
        .bind(since)
        .fetch_one(&mut *c)
        .await?);
    Ok(n)
}
