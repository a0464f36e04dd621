//! The `email_outbox` table: every email Postern writes, and what became of it.

use super::{run, run_write, Source};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Email {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// `stored`, `queued`, `sent` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

pub async fn insert(
    db: impl Into<Source<'_>>,
    recipient: &str,
    subject: &str,
    body: &str,
    status: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = run_write!(db, |c| {
        sqlx::query_as(
            "INSERT INTO email_outbox (recipient, subject, body, status, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(recipient)
        .bind(subject)
        .bind(body)
        .bind(status)
        .bind(now)
        .fetch_one(&mut *c)
        .await?
    });
    Ok(id)
}

pub async fn mark_sent(db: impl Into<Source<'_>>, id: i64, now: i64) -> Result<(), sqlx::Error> {
    run_write!(db, |c| {
        sqlx::query("UPDATE email_outbox SET status = 'sent', error = NULL, sent_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

pub async fn mark_failed(db: impl Into<Source<'_>>, id: i64, error: &str) -> Result<(), sqlx::Error> {
    run_write!(db, |c| {
        sqlx::query("UPDATE email_outbox SET status = 'failed', error = $1 WHERE id = $2")
            .bind(error)
            .bind(id)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

/// The newest messages first.
pub async fn list(db: impl Into<Source<'_>>, limit: i64, offset: i64) -> Result<Vec<Email>, sqlx::Error> {
    run!(db, |c| sqlx::query_as(
        "SELECT id, recipient, subject, body, status, error, created_at, sent_at FROM email_outbox
         ORDER BY id DESC LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *c)
    .await)
}

pub async fn count(db: impl Into<Source<'_>>) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = run!(db, |c| sqlx::query_as("SELECT COUNT(*) FROM email_outbox").fetch_one(&mut *c).await?);
    Ok(n)
}
