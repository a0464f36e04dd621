//! The `oauth_access_tokens` table: every issued access token by `jti`.

use sqlx::SqliteExecutor;

pub struct NewAccessToken<'a> {
    pub jti: &'a str,
    pub application_id: i64,
    pub grant_type: &'a str,
    pub user_id: Option<i64>,
    pub customer_user_id: Option<i64>,
    pub scope: &'a str,
    pub issued_at: i64,
    pub expires_at: i64,
    /// The grant (authorization code redemption) it came from, if any.
    pub grant_id: Option<i64>,
}

pub async fn insert(db: impl SqliteExecutor<'_>, t: &NewAccessToken<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_access_tokens
             (jti, application_id, grant_type, user_id, customer_user_id, scope, issued_at, expires_at, grant_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.jti)
    .bind(t.application_id)
    .bind(t.grant_type)
    .bind(t.user_id)
    .bind(t.customer_user_id)
    .bind(t.scope)
    .bind(t.issued_at)
    .bind(t.expires_at)
    .bind(t.grant_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether a token may still be used: its record, its application and its user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenStatus {
    pub revoked: bool,
    pub application_active: bool,
    pub organization_id: i64,
    pub kind: String,
    pub user_id: Option<i64>,
    pub customer_user_id: Option<i64>,
    /// False when the token's user exists and is disabled.
    pub subject_enabled: bool,
}

pub async fn status(db: impl SqliteExecutor<'_>, jti: &str) -> Result<Option<TokenStatus>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.revoked_at IS NOT NULL AS revoked, a.active AS application_active, a.organization_id, a.kind,
                t.user_id, t.customer_user_id, COALESCE(u.enabled, c.enabled, 1) AS subject_enabled
         FROM oauth_access_tokens t
         JOIN oauth_applications a ON a.id = t.application_id
         LEFT JOIN users u ON u.id = t.user_id
         LEFT JOIN customer_users c ON c.id = t.customer_user_id
         WHERE t.jti = ?",
    )
    .bind(jti)
    .fetch_optional(db)
    .await
}

pub async fn revoke(db: impl SqliteExecutor<'_>, jti: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE oauth_access_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL")
        .bind(now)
        .bind(jti)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Tokens issued and not yet expired or revoked.
pub async fn count_live(db: impl SqliteExecutor<'_>, now: i64) -> Result<i64, sqlx::Error> {
    let row: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM oauth_access_tokens WHERE expires_at > ? AND revoked_at IS NULL")
            .bind(now)
            .fetch_one(db)
            .await?;
    Ok(row.0)
}
