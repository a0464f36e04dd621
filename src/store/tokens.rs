//! The `oauth_access_tokens` table: every issued access token by `jti`.

use super::applications::{usable_with, WITH_OWNER};
use super::sqlite_handle::{Handle, Value};
use super::{run, run_write, Engine, Source, Write};
use crate::model::audit::AuditEvent;
use crate::model::{GrantType, Side};
use crate::oauth::access_token::TokenRecord;
use std::collections::HashSet;
use std::sync::LazyLock;

pub struct NewAccessToken<'a> {
    pub jti: &'a str,
    pub application_id: i64,
    pub grant_type: GrantType,
    pub user_id: Option<i64>,
    pub customer_user_id: Option<i64>,
    pub scope: &'a str,
    pub issued_at: i64,
    pub expires_at: i64,
    /// The grant (authorization code redemption) it came from, if any.
    pub grant_id: Option<i64>,
}

pub async fn insert(db: impl Into<Source<'_>>, t: &NewAccessToken<'_>) -> Result<(), sqlx::Error> {
    run_write!(db, |c| sqlx::query(
        "INSERT INTO oauth_access_tokens
             (jti, application_id, grant_type, user_id, customer_user_id, scope, issued_at, expires_at, grant_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(())
}

/// An access token of the client_credentials grant, ready to be recorded
/// with its audit entry, and what its client was authenticated with.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub jti: String,
    pub application_id: i64,
    pub application_name: String,
    pub client_id: String,
    /// The secret hash the request was checked against (`None`: public client).
    pub secret_hash: Option<Vec<u8>>,
    pub user_id: Option<i64>,
    pub customer_user_id: Option<i64>,
    pub username: Option<String>,
    pub scope: String,
    pub issued_at: i64,
    pub expires_at: i64,
    /// The audit entry's detail.
    pub detail: String,
}

/// Records client_credentials tokens and their audit entries in the
/// caller's transaction: two statements for the whole batch, which SQLite
/// runs in one call to its connection's thread.
///
/// A token is recorded only if, as of this transaction, its application
/// still exists, is active, still has the secret the request was checked
/// against, and its owner is enabled: the write itself is the last check,
/// so nothing is issued after a deactivation (or a new secret, or a
/// disabled owner) is committed, whatever the caller read before. Returns
/// the `jti`s recorded; the others were refused, and have no audit entry.
pub async fn record_issued(w: &mut Write, batch: &[IssuedToken]) -> Result<HashSet<String>, sqlx::Error> {
    let mut recorded = HashSet::new();
    if batch.is_empty() {
        return Ok(recorded);
    }
    w.relies_on_access().await?;
    // One statement per call on PostgreSQL; SQLite steps through several.
    let together = w.engine() == Engine::Sqlite;
    // The VALUES lists' columns are named column1, column2, … by both engines.
    let tokens_tail = format!(") AS v, {WITH_OWNER} WHERE {} RETURNING jti", usable_with("v.column2", "v.column8"));
    let event = AuditEvent::TokenIssued.as_str();
    for part in batch.chunks(ROWS_PER_CALL) {
        run!(&mut *w, |c| {
            let mut query = sqlx::QueryBuilder::new(format!(
                "{TOKEN_INSERT}
                 SELECT v.column1, v.column2, 'client_credentials', v.column3, v.column4, v.column5, v.column6, v.column7
                 FROM ("
            ));
            query.push_values(part, |mut row, t| {
                row.push_bind(&t.jti)
                    .push_bind(t.application_id)
                    .push_bind(t.user_id)
                    .push_bind(t.customer_user_id)
                    .push_bind(&t.scope)
                    .push_bind(t.issued_at)
                    .push_bind(t.expires_at)
                    .push_bind(&t.secret_hash);
            });
            query.push(&tokens_tail);
            // The audit entries of the tokens the first statement recorded.
            let mut audit = if together {
                query.push("; ");
                None
            } else {
                Some(sqlx::QueryBuilder::new(""))
            };
            let entries = audit.as_mut().unwrap_or(&mut query);
            entries.push(AUDIT_INSERT);
            entries.push(" SELECT v.column1, ");
            entries.push_bind(event);
            entries.push(", v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, v.column8 FROM (");
            entries.push_values(part, |mut row, t| {
                row.push_bind(t.issued_at)
                    .push_bind(t.user_id)
                    .push_bind(t.customer_user_id)
                    .push_bind(t.username.as_deref())
                    .push_bind(t.application_id)
                    .push_bind(&t.application_name)
                    .push_bind(&t.client_id)
                    .push_bind(&t.detail)
                    .push_bind(&t.jti);
            });
            entries.push(") AS v WHERE EXISTS (SELECT 1 FROM oauth_access_tokens t WHERE t.jti = v.column9)");
            // Each batch size is another statement. The small ones, the
            // batches of a server that is not saturated, stay prepared:
            // compiling both statements again took a tenth of the server's
            // CPU at half load. Big ones are rare, their preparation is
            // shared by many tokens, and a cache of hundreds of sizes per
            // connection cost tens of megabytes.
            let prepared = part.len() <= PREPARED_ROWS;
            let jtis = query.build_query_scalar::<String>().persistent(prepared).fetch_all(&mut *c).await?;
            if let Some(mut audit) = audit {
                audit.build().persistent(prepared).execute(&mut *c).await?;
            }
            recorded.extend(jtis);
        });
    }
    Ok(recorded)
}

/// [`record_issued`] on SQLite's C API, in a transaction of
/// [`super::Db::write_on_handle`]: the same rows and the same last check,
/// one token at a time (SQLite steps a prepared statement per row in
/// microseconds; nothing crosses to another thread).
pub(crate) fn record_issued_on(h: &Handle<'_>, batch: &[IssuedToken]) -> Result<HashSet<String>, sqlx::Error> {
    let mut recorded = HashSet::new();
    if batch.is_empty() {
        return Ok(recorded);
    }
    static TOKEN: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{TOKEN_INSERT} SELECT ?1, ?2, 'client_credentials', ?3, ?4, ?5, ?6, ?7
             FROM {WITH_OWNER} WHERE {} RETURNING jti",
            usable_with("?2", "?8")
        )
    });
    static AUDIT: LazyLock<String> =
        LazyLock::new(|| format!("{AUDIT_INSERT} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    let mut token = h.prepare(&TOKEN)?;
    let mut audit = h.prepare(&AUDIT)?;
    let event = AuditEvent::TokenIssued.as_str();
    for t in batch {
        token.bind(&[
            t.jti.as_str().into(),
            t.application_id.into(),
            t.user_id.into(),
            t.customer_user_id.into(),
            t.scope.as_str().into(),
            t.issued_at.into(),
            t.expires_at.into(),
            t.secret_hash.as_deref().map_or(Value::Null, Value::Blob),
        ])?;
        // A row back: the token's application could still issue it.
        if !token.step()? {
            continue;
        }
        while token.step()? {}
        audit.bind(&[
            t.issued_at.into(),
            event.into(),
            t.user_id.into(),
            t.customer_user_id.into(),
            t.username.as_deref().into(),
            t.application_id.into(),
            t.application_name.as_str().into(),
            t.client_id.as_str().into(),
            t.detail.as_str().into(),
        ])?;
        audit.step()?;
        recorded.insert(t.jti.clone());
    }
    Ok(recorded)
}

/// The columns a client_credentials token is recorded with, in the order
/// both ways of recording it give them.
const TOKEN_INSERT: &str = "INSERT INTO oauth_access_tokens
    (jti, application_id, grant_type, user_id, customer_user_id, scope, issued_at, expires_at)";

/// The columns of a token's audit entry, likewise.
const AUDIT_INSERT: &str = "INSERT INTO audit_log
    (at, event, user_id, customer_user_id, username, application_id, application_name, client_id, detail)";

/// Batches of at most this many tokens keep their statements prepared.
const PREPARED_ROWS: usize = 8;

/// Tokens per call: 17 bound values each, and SQLite binds at most 32,766
/// per call (PostgreSQL 65,535 per statement).
const ROWS_PER_CALL: usize = 1_000;

/// Whether a token may still be used: its record, its application and its user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenStatus {
    pub revoked: bool,
    pub application_active: bool,
    pub organization_id: i64,
    pub side: Side,
    pub user_id: Option<i64>,
    pub customer_user_id: Option<i64>,
    /// False when the token's user exists and is disabled.
    pub subject_enabled: bool,
    /// False when the token's user no longer belongs to the organization of
    /// its application (a membership removed, a customer moved).
    pub subject_belongs: bool,
}

impl TokenStatus {
    /// The record as the protocol core decides on it.
    pub fn record(&self) -> TokenRecord {
        TokenRecord {
            revoked: self.revoked,
            application_active: self.application_active,
            side: self.side,
            subject_enabled: self.subject_enabled,
            subject_belongs: self.subject_belongs,
        }
    }
}

pub async fn status(db: impl Into<Source<'_>>, jti: &str) -> Result<Option<TokenStatus>, sqlx::Error> {
    let sql = format!(
        "SELECT t.revoked_at IS NOT NULL AS revoked, a.active AS application_active, a.organization_id, a.kind AS side,
                t.user_id, t.customer_user_id, COALESCE(u.enabled, c.enabled, TRUE) AS subject_enabled,
                {} AS subject_belongs
         FROM oauth_access_tokens t
         JOIN oauth_applications a ON a.id = t.application_id
         LEFT JOIN users u ON u.id = t.user_id
         LEFT JOIN customer_users c ON c.id = t.customer_user_id
         WHERE t.jti = $1",
        super::organizations::belongs("t.user_id", "t.customer_user_id", "a.organization_id")
    );
    run!(db, |c| sqlx::query_as(&sql).bind(jti).fetch_optional(&mut *c).await)
}

pub async fn revoke(w: &mut Write, jti: &str, now: i64) -> Result<bool, sqlx::Error> {
    w.makes_stale().await?;
    let done = run!(w, |c| sqlx::query(
        "UPDATE oauth_access_tokens SET revoked_at = $1 WHERE jti = $2 AND revoked_at IS NULL"
    )
    .bind(now)
    .bind(jti)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// Tokens issued and not yet expired or revoked.
pub async fn count_live(db: impl Into<Source<'_>>, now: i64) -> Result<i64, sqlx::Error> {
    let row: (i64,) = run!(db, |c| sqlx::query_as(
        "SELECT COUNT(*) FROM oauth_access_tokens WHERE expires_at > $1 AND revoked_at IS NULL"
    )
    .bind(now)
    .fetch_one(&mut *c)
    .await?);
    Ok(row.0)
}
