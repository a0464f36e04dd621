//! The `oauth_applications` table and its redirect URIs.

use sqlx::{SqliteConnection, SqliteExecutor};

/// A new application, as written in one transaction with its redirect URIs.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub organization_id: i64,
    pub name: String,
    pub client_id: String,
    pub secret_hash: Option<[u8; 32]>,
    pub active: bool,
    pub grant_type: &'static str,
    pub kind: &'static str,
    pub owner_user_id: Option<i64>,
    pub owner_customer_user_id: Option<i64>,
    pub confidential: bool,
    pub skip_consent: bool,
    pub redirect_uris: Vec<String>,
}

/// Inserts the application and its redirect URIs on one connection; call it
/// inside a transaction so that a failure leaves nothing half-written.
pub async fn insert(conn: &mut SqliteConnection, app: &NewApplication, now: i64) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO oauth_applications (organization_id, name, client_id, secret_hash, active, grant_type,
             kind, owner_user_id, owner_customer_user_id, confidential, skip_consent, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(app.organization_id)
    .bind(&app.name)
    .bind(&app.client_id)
    .bind(app.secret_hash.as_ref().map(|h| h.as_slice()))
    .bind(app.active)
    .bind(app.grant_type)
    .bind(app.kind)
    .bind(app.owner_user_id)
    .bind(app.owner_customer_user_id)
    .bind(app.confidential)
    .bind(app.skip_consent)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    for (position, uri) in app.redirect_uris.iter().enumerate() {
        sqlx::query("INSERT INTO oauth_application_redirect_uris (application_id, position, uri) VALUES (?, ?, ?)")
            .bind(id)
            .bind(position as i64)
            .bind(uri)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

/// What the token endpoint needs to know of a client.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRecord {
    pub id: i64,
    pub organization_id: i64,
    pub client_id: String,
    pub secret_hash: Option<Vec<u8>>,
    pub active: bool,
    pub grant_type: String,
    pub kind: String,
    pub confidential: bool,
    pub owner_user_id: Option<i64>,
    pub owner_customer_user_id: Option<i64>,
    /// False when the owner exists and is disabled.
    pub owner_enabled: bool,
    pub last_used_at: Option<i64>,
}

pub async fn find_client(db: impl SqliteExecutor<'_>, client_id: &str) -> Result<Option<ClientRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.organization_id, a.client_id, a.secret_hash, a.active, a.grant_type, a.kind,
                a.confidential, a.owner_user_id, a.owner_customer_user_id,
                COALESCE(u.enabled, c.enabled, 1) AS owner_enabled, a.last_used_at
         FROM oauth_applications a
         LEFT JOIN users u ON u.id = a.owner_user_id
         LEFT JOIN customer_users c ON c.id = a.owner_customer_user_id
         WHERE a.client_id = ?",
    )
    .bind(client_id)
    .fetch_optional(db)
    .await
}

/// How stale `last_used_at` may get before it is written again.
pub const LAST_USED_PRECISION: i64 = 60;

/// Records that the application was used, at most once a minute, so that a
/// busy client does not turn every token request into two writes (callers
/// skip the call when the row they read is recent; the WHERE guards races).
pub async fn touch_last_used(db: impl SqliteExecutor<'_>, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE oauth_applications SET last_used_at = ?
         WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ? - ?)",
    )
    .bind(now)
    .bind(id)
    .bind(now)
    .bind(LAST_USED_PRECISION)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_active(db: impl SqliteExecutor<'_>, id: i64, active: bool, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE oauth_applications SET active = ?, updated_at = ? WHERE id = ?")
        .bind(active)
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count(db: impl SqliteExecutor<'_>) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(active), 0) FROM oauth_applications").fetch_one(db).await
}

/// An application as the back-office grids show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApplicationSummary {
    pub id: i64,
    pub organization: String,
    pub name: String,
    pub client_id: String,
    pub active: bool,
    pub grant_type: String,
    pub confidential: bool,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
}

/// The applications a back-office user owns, by name.
pub async fn list_owned_by_user(
    db: impl SqliteExecutor<'_>,
    user_id: i64,
) -> Result<Vec<ApplicationSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, o.name AS organization, a.name, a.client_id, a.active, a.grant_type, a.confidential,
                a.last_used_at, a.created_at
         FROM oauth_applications a JOIN organizations o ON o.id = a.organization_id
         WHERE a.owner_user_id = ? AND a.kind = 'backoffice'
         ORDER BY a.name COLLATE NOCASE, a.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}
