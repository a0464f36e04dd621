//! The authorization code flow's tables: `oauth_authorization_codes`,
//! `oauth_grants` (refresh token families), `oauth_refresh_tokens` and
//! `oauth_consents`. Codes and refresh tokens are found by their SHA-256.

use super::{run, run_write, Source, Write};
use crate::model::Side;
pub use crate::model::Subject;
use crate::oauth::grant::authorization_code::IssuedCode;
use crate::oauth::grant::refresh_token::StoredRefreshToken;
use crate::oauth::grant::Holder;
use crate::oauth::pkce::CodeChallenge;
use crate::oauth::scope::Scope;

/// The SQL condition "belongs to `subject`" on a table with the two
/// columns, with the subject's id as parameter `$n` (bind [`subject_id`]).
fn subject_is(subject: Subject, n: usize) -> String {
    match subject {
        Subject::User(_) => format!("user_id = ${n} AND customer_user_id IS NULL"),
        Subject::Customer(_) => format!("customer_user_id = ${n} AND user_id IS NULL"),
    }
}

/// The id [`subject_is`] compares with.
fn subject_id(subject: Subject) -> i64 {
    match subject {
        Subject::User(id) | Subject::Customer(id) => id,
    }
}

// ---- authorization codes -------------------------------------------------

pub struct NewCode<'a> {
    pub code_hash: &'a [u8],
    pub application_id: i64,
    pub subject: Subject,
    pub redirect_uri: &'a str,
    pub redirect_uri_sent: bool,
    pub scope: &'a str,
    pub code_challenge: Option<&'a str>,
    pub created_at: i64,
    pub expires_at: i64,
    /// OpenID Connect: the request's nonce, when the person signed in, and
    /// the `claims` request (JSON), carried to the ID token.
    pub oidc: Authenticated<'a>,
}

/// What an ID token needs of the authentication behind a code or a grant.
#[derive(Debug, Clone, Copy, Default)]
pub struct Authenticated<'a> {
    pub nonce: Option<&'a str>,
    pub auth_time: Option<i64>,
    pub claims: Option<&'a str>,
}

pub async fn insert_code(db: impl Into<Source<'_>>, code: &NewCode<'_>) -> Result<(), sqlx::Error> {
    run_write!(db, |c| sqlx::query(
        "INSERT INTO oauth_authorization_codes (code_hash, application_id, user_id, customer_user_id, redirect_uri,
             redirect_uri_sent, scope, code_challenge, created_at, expires_at, nonce, auth_time, claims)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(code.code_hash)
    .bind(code.application_id)
    .bind(code.subject.user_id())
    .bind(code.subject.customer_user_id())
    .bind(code.redirect_uri)
    .bind(code.redirect_uri_sent)
    .bind(code.scope)
    .bind(code.code_challenge)
    .bind(code.created_at)
    .bind(code.expires_at)
    .bind(code.oidc.nonce)
    .bind(code.oidc.auth_time)
    .bind(code.oidc.claims)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(())
}

/// A stored code with what the token endpoint needs to decide on it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodeRecord {
    pub application_id: i64,
    pub client_id: String,
    user_id: Option<i64>,
    customer_user_id: Option<i64>,
    pub redirect_uri: String,
    pub redirect_uri_sent: bool,
    #[sqlx(try_from = "String")]
    pub scope: Scope,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// False when the user the code was issued to is now disabled.
    pub subject_enabled: bool,
    /// False when that person no longer belongs to the application's organization.
    pub subject_belongs: bool,
    pub nonce: Option<String>,
    pub auth_time: Option<i64>,
    pub claims: Option<String>,
}

impl CodeRecord {
    pub fn subject(&self) -> Option<Subject> {
        Subject::from_columns(self.user_id, self.customer_user_id)
    }

    /// The code as the protocol core decides on it.
    pub fn issued(&self) -> IssuedCode {
        IssuedCode {
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            redirect_uri_sent: self.redirect_uri_sent,
            scope: self.scope.clone(),
            code_challenge: self.code_challenge.clone().map(CodeChallenge::stored),
            expires_at: self.expires_at,
            used: self.used_at.is_some(),
            holder: Holder { subject: self.subject(), enabled: self.subject_enabled, belongs: self.subject_belongs },
        }
    }
}

pub async fn find_code(db: impl Into<Source<'_>>, code_hash: &[u8]) -> Result<Option<CodeRecord>, sqlx::Error> {
    let sql = format!(
        "SELECT c.application_id, a.client_id, c.user_id, c.customer_user_id, c.redirect_uri, c.redirect_uri_sent,
                c.scope, c.code_challenge, c.expires_at, c.used_at, COALESCE(u.enabled, cu.enabled, FALSE) AS subject_enabled,
                {} AS subject_belongs, c.nonce, c.auth_time, c.claims
         FROM oauth_authorization_codes c
         JOIN oauth_applications a ON a.id = c.application_id
         LEFT JOIN users u ON u.id = c.user_id
         LEFT JOIN customer_users cu ON cu.id = c.customer_user_id
         WHERE c.code_hash = $1",
        super::organizations::belongs("c.user_id", "c.customer_user_id", "a.organization_id")
    );
    run!(db, |c| sqlx::query_as(&sql).bind(code_hash).fetch_optional(&mut *c).await)
}

/// Marks the code used; false when it already was (or is gone). The first
/// statement of the redeeming transaction, so that it takes the write lock
/// before anything is read: of two concurrent redemptions exactly one wins.
/// On PostgreSQL the claim also holds the access lock shared (see
/// [`Write::relies_on_access`]): the redemption records tokens.
pub async fn claim_code(tx: &mut Write, code_hash: &[u8], now: i64) -> Result<bool, sqlx::Error> {
    tx.relies_on_access().await?;
    let done = run!(tx, |c| sqlx::query(
        "UPDATE oauth_authorization_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL"
    )
    .bind(now)
    .bind(code_hash)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(done == 1)
}

pub async fn set_code_grant(db: impl Into<Source<'_>>, code_hash: &[u8], grant_id: i64) -> Result<(), sqlx::Error> {
    run_write!(db, |c| sqlx::query("UPDATE oauth_authorization_codes SET grant_id = $1 WHERE code_hash = $2")
        .bind(grant_id)
        .bind(code_hash)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(())
}

/// The grant a used code started, if any.
/// A replayed code (RFC 6749 §4.1.2): revokes the grant its first
/// redemption created, with every token of it. The code's row is locked
/// first (a write), so that a redemption committing meanwhile is seen.
/// Returns the grant, if there was one still live.
pub async fn revoke_grant_of_code(w: &mut Write, code_hash: &[u8], now: i64) -> Result<Option<i64>, sqlx::Error> {
    run!(&mut *w, |c| sqlx::query("UPDATE oauth_authorization_codes SET used_at = used_at WHERE code_hash = $1")
        .bind(code_hash)
        .execute(&mut *c)
        .await?
        .rows_affected());
    let Some(grant_id) = grant_of_code(&mut *w, code_hash).await? else { return Ok(None) };
    Ok(revoke_grant(w, grant_id, "code_replay", now).await?.then_some(grant_id))
}

pub async fn grant_of_code(db: impl Into<Source<'_>>, code_hash: &[u8]) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(Option<i64>,)> =
        run!(db, |c| sqlx::query_as("SELECT grant_id FROM oauth_authorization_codes WHERE code_hash = $1")
            .bind(code_hash)
            .fetch_optional(&mut *c)
            .await?);
    Ok(row.and_then(|r| r.0))
}

// ---- grants and refresh tokens ------------------------------------------

/// A new grant; `auth_time` and `claims` are kept for the ID tokens of its
/// refreshes (OpenID Connect Core §12.2: the original `auth_time`).
pub struct NewGrant<'a> {
    pub application_id: i64,
    pub subject: Subject,
    pub scope: &'a str,
    pub auth_time: Option<i64>,
    pub claims: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert_grant(db: impl Into<Source<'_>>, grant: &NewGrant<'_>) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = run_write!(db, |c| sqlx::query_as(
        "INSERT INTO oauth_grants (application_id, user_id, customer_user_id, scope, created_at, expires_at,
             auth_time, claims)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(grant.application_id)
    .bind(grant.subject.user_id())
    .bind(grant.subject.customer_user_id())
    .bind(grant.scope)
    .bind(grant.now)
    .bind(grant.expires_at)
    .bind(grant.auth_time)
    .bind(grant.claims)
    .fetch_one(&mut *c)
    .await?);
    Ok(id)
}

pub async fn insert_refresh_token(
    tx: &mut Write,
    token_hash: &[u8],
    grant_id: i64,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    run!(tx, |c| {
        sqlx::query(
            "INSERT INTO oauth_refresh_tokens (token_hash, grant_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(grant_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *c)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE oauth_grants SET expires_at = CASE WHEN expires_at > $1 THEN expires_at ELSE $1 END WHERE id = $2",
        )
        .bind(expires_at)
        .bind(grant_id)
        .execute(&mut *c)
        .await?
        .rows_affected();
    });
    Ok(())
}

/// A refresh token with its grant, application and subject.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshRecord {
    pub grant_id: i64,
    pub application_id: i64,
    pub client_id: String,
    user_id: Option<i64>,
    customer_user_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub scope: Scope,
    pub issued_at: i64,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
    pub grant_revoked: bool,
    pub subject_enabled: bool,
    /// False when the grant's person no longer belongs to the application's organization.
    pub subject_belongs: bool,
    pub application_active: bool,
    pub side: Side,
    /// When the person signed in for the grant's code (OpenID Connect).
    pub auth_time: Option<i64>,
}

impl RefreshRecord {
    pub fn subject(&self) -> Option<Subject> {
        Subject::from_columns(self.user_id, self.customer_user_id)
    }

    /// The token as the protocol core decides on it.
    pub fn stored(&self) -> StoredRefreshToken {
        StoredRefreshToken {
            client_id: self.client_id.clone(),
            scope: self.scope.clone(),
            expires_at: self.expires_at,
            rotated: self.rotated_at.is_some(),
            grant_revoked: self.grant_revoked,
            application_active: self.application_active,
            holder: Holder { subject: self.subject(), enabled: self.subject_enabled, belongs: self.subject_belongs },
        }
    }
}

pub async fn find_refresh_token(
    db: impl Into<Source<'_>>,
    token_hash: &[u8],
) -> Result<Option<RefreshRecord>, sqlx::Error> {
    let sql = format!(
        "SELECT r.grant_id, g.application_id, a.client_id, g.user_id, g.customer_user_id, g.scope, r.issued_at,
                r.expires_at, r.rotated_at, g.revoked_at IS NOT NULL AS grant_revoked,
                COALESCE(u.enabled, cu.enabled, FALSE) AS subject_enabled, {} AS subject_belongs,
                a.active AS application_active, a.kind AS side, g.auth_time
         FROM oauth_refresh_tokens r
         JOIN oauth_grants g ON g.id = r.grant_id
         JOIN oauth_applications a ON a.id = g.application_id
         LEFT JOIN users u ON u.id = g.user_id
         LEFT JOIN customer_users cu ON cu.id = g.customer_user_id
         WHERE r.token_hash = $1",
        super::organizations::belongs("g.user_id", "g.customer_user_id", "a.organization_id")
    );
    run!(db, |c| sqlx::query_as(&sql).bind(token_hash).fetch_optional(&mut *c).await)
}

/// Marks a refresh token rotated; false when it already was, or when its
/// grant has been revoked meanwhile (first statement of the transaction, as
/// [`claim_code`]).
pub async fn claim_refresh_token(tx: &mut Write, token_hash: &[u8], now: i64) -> Result<bool, sqlx::Error> {
    tx.relies_on_access().await?;
    let done = run!(tx, |c| sqlx::query(
        "UPDATE oauth_refresh_tokens SET rotated_at = $1
         WHERE token_hash = $2 AND rotated_at IS NULL AND expires_at > $1
           AND grant_id IN (SELECT id FROM oauth_grants WHERE revoked_at IS NULL)",
    )
    .bind(now)
    .bind(token_hash)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// Whose a grant is.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GrantOwner {
    pub application_id: i64,
    pub user_id: Option<i64>,
    pub customer_user_id: Option<i64>,
}

pub async fn find_grant(db: impl Into<Source<'_>>, grant_id: i64) -> Result<Option<GrantOwner>, sqlx::Error> {
    run!(db, |c| sqlx::query_as("SELECT application_id, user_id, customer_user_id FROM oauth_grants WHERE id = $1")
        .bind(grant_id)
        .fetch_optional(&mut *c)
        .await)
}

/// Revokes a grant and every access token issued from it; refresh tokens
/// die with it (they are checked against the grant). Returns whether it was live.
pub async fn revoke_grant(tx: &mut Write, grant_id: i64, reason: &str, now: i64) -> Result<bool, sqlx::Error> {
    tx.makes_stale().await?;
    let done = run!(tx, |c| {
        let done = sqlx::query(
            "UPDATE oauth_grants SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(grant_id)
        .execute(&mut *c)
        .await?
        .rows_affected();
        sqlx::query("UPDATE oauth_access_tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(grant_id)
            .execute(&mut *c)
            .await?
            .rows_affected();
        done
    });
    Ok(done == 1)
}

/// Revokes every grant `subject` gave `application_id`, with their access
/// tokens; returns how many grants were live.
pub async fn revoke_grants_of(
    tx: &mut Write,
    application_id: i64,
    subject: Subject,
    now: i64,
) -> Result<u64, sqlx::Error> {
    tx.makes_stale().await?;
    let grants = format!("SELECT id FROM oauth_grants WHERE application_id = $2 AND {}", subject_is(subject, 3));
    let tokens =
        format!("UPDATE oauth_access_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND grant_id IN ({grants})");
    let revoke = format!(
        "UPDATE oauth_grants SET revoked_at = $1, revoked_reason = 'user' WHERE revoked_at IS NULL AND id IN ({grants})"
    );
    let done = run!(tx, |c| {
        sqlx::query(&tokens)
            .bind(now)
            .bind(application_id)
            .bind(subject_id(subject))
            .execute(&mut *c)
            .await?
            .rows_affected();
        sqlx::query(&revoke)
            .bind(now)
            .bind(application_id)
            .bind(subject_id(subject))
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(done)
}

/// Deletes the codes `subject` was issued for `application_id` and has not
/// redeemed: revoking an authorization must not leave a code in flight
/// that still turns into tokens. Returns how many.
pub async fn delete_unredeemed_codes(
    db: impl Into<Source<'_>>,
    application_id: i64,
    subject: Subject,
) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "DELETE FROM oauth_authorization_codes WHERE application_id = $1 AND {} AND used_at IS NULL",
        subject_is(subject, 2)
    );
    let done = run!(db, |c| sqlx::query(&sql)
        .bind(application_id)
        .bind(subject_id(subject))
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done)
}

/// Revokes every grant and access token of an application (a new client
/// secret: what was issued to the holder of the old one dies with it) and
/// deletes its unredeemed codes. Returns the access tokens revoked.
pub async fn revoke_all_of_application(
    tx: &mut Write,
    application_id: i64,
    reason: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    tx.makes_stale().await?;
    let tokens = run!(tx, |c| {
        let tokens = sqlx::query(
            "UPDATE oauth_access_tokens SET revoked_at = $1 WHERE application_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(application_id)
        .execute(&mut *c)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE oauth_grants SET revoked_at = $1, revoked_reason = $2 WHERE application_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(application_id)
        .execute(&mut *c)
        .await?.rows_affected();
        sqlx::query("DELETE FROM oauth_authorization_codes WHERE application_id = $1 AND used_at IS NULL")
            .bind(application_id)
            .execute(&mut *c)
            .await?
            .rows_affected();
        tokens
    });
    Ok(tokens)
}

// ---- consents ------------------------------------------------------------

/// The scope `subject` last granted `application_id`, if remembered.
pub async fn consent(
    db: impl Into<Source<'_>>,
    application_id: i64,
    subject: Subject,
) -> Result<Option<String>, sqlx::Error> {
    let sql = format!("SELECT scope FROM oauth_consents WHERE application_id = $1 AND {}", subject_is(subject, 2));
    let row: Option<(String,)> = run!(db, |c| sqlx::query_as(&sql)
        .bind(application_id)
        .bind(subject_id(subject))
        .fetch_optional(&mut *c)
        .await?);
    Ok(row.map(|r| r.0))
}

/// Remembers (replacing) the scope `subject` granted `application_id`.
pub async fn save_consent(
    tx: &mut Write,
    application_id: i64,
    subject: Subject,
    scope: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    delete_consent(&mut *tx, application_id, subject).await?;
    run!(tx, |c| sqlx::query(
        "INSERT INTO oauth_consents (application_id, user_id, customer_user_id, scope, granted_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(application_id)
    .bind(subject.user_id())
    .bind(subject.customer_user_id())
    .bind(scope)
    .bind(now)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn delete_consent(
    db: impl Into<Source<'_>>,
    application_id: i64,
    subject: Subject,
) -> Result<bool, sqlx::Error> {
    let sql = format!("DELETE FROM oauth_consents WHERE application_id = $1 AND {}", subject_is(subject, 2));
    let done = run!(db, |c| sqlx::query(&sql)
        .bind(application_id)
        .bind(subject_id(subject))
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done > 0)
}

/// An application a person has authorized: a remembered consent, a live
/// grant (refresh tokens), or both.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Authorized {
    pub application_id: i64,
    pub name: String,
    pub organization: String,
    /// The remembered scope, or the union the live grants carry.
    pub scope: String,
    pub granted_at: i64,
    pub last_used_at: Option<i64>,
    pub remembered: bool,
    pub live_grants: i64,
}

pub async fn authorized_by(
    db: impl Into<Source<'_>>,
    subject: Subject,
    now: i64,
) -> Result<Vec<Authorized>, sqlx::Error> {
    let sql = format!(
        "WITH live AS (
             SELECT application_id, COUNT(*) AS n, MIN(created_at) AS first, string_agg(scope, ' ') AS scopes
             FROM oauth_grants
             WHERE {subject} AND revoked_at IS NULL AND expires_at > $2
             GROUP BY application_id
         ),
         mine AS (
             SELECT application_id, scope, granted_at FROM oauth_consents WHERE {subject}
         ),
         ids AS (SELECT application_id FROM live UNION SELECT application_id FROM mine)
         SELECT a.id AS application_id, a.name, o.name AS organization,
                COALESCE(mine.scope, live.scopes, '') AS scope,
                COALESCE(mine.granted_at, live.first, 0) AS granted_at,
                a.last_used_at, mine.application_id IS NOT NULL AS remembered, COALESCE(live.n, 0) AS live_grants
         FROM ids
         JOIN oauth_applications a ON a.id = ids.application_id
         JOIN organizations o ON o.id = a.organization_id
         LEFT JOIN live ON live.application_id = ids.application_id
         LEFT JOIN mine ON mine.application_id = ids.application_id
         ORDER BY lower(a.name), a.id",
        subject = subject_is(subject, 1)
    );
    run!(db, |c| sqlx::query_as(&sql).bind(subject_id(subject)).bind(now).fetch_all(&mut *c).await)
}
