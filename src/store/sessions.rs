//! The `sessions` table: back-office logins, by the SHA-256 of their cookie.

use super::users::User;
use super::{run, run_write, Source};

pub async fn insert(
    db: impl Into<Source<'_>>,
    token_hash: &[u8],
    user_id: i64,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    run_write!(db, |c| {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user_id)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

/// A signed-in person and when they signed in (the session's start: the
/// OpenID Connect `auth_time`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Signed<T> {
    #[sqlx(flatten)]
    pub person: T,
    pub signed_in_at: i64,
}

/// The enabled user of a live session.
pub async fn find_user(
    db: impl Into<Source<'_>>,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<Signed<User>>, sqlx::Error> {
    let sql = format!(
        "SELECT {}, s.created_at AS signed_in_at FROM sessions s JOIN users u ON u.id = s.user_id
         LEFT JOIN roles r ON r.id = u.role_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.enabled",
        super::users::COLUMNS
    );
    run!(db, |c| sqlx::query_as(&sql).bind(token_hash).bind(now).fetch_optional(&mut *c).await)
}

pub async fn delete(db: impl Into<Source<'_>>, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    run_write!(db, |c| {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *c).await?;
    });
    Ok(())
}

/// Ends every session of a user (a new password, a disabled account).
/// Returns how many were open.
pub async fn delete_all_of_user(db: impl Into<Source<'_>>, user_id: i64) -> Result<u64, sqlx::Error> {
    Ok(run_write!(db, |c| sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?
        .rows_affected()))
}

/// Storefront logins (`customer_sessions`), the same way.
pub mod customer {
    use super::Signed;
    use crate::store::customer_users::{CustomerUser, SELECT};
    use crate::store::{run, run_write, Source};

    pub async fn insert(
        db: impl Into<Source<'_>>,
        token_hash: &[u8],
        customer_user_id: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        run_write!(db, |c| {
            sqlx::query(
                "INSERT INTO customer_sessions (token_hash, customer_user_id, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash)
            .bind(customer_user_id)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// The enabled customer user of a live session.
    pub async fn find_user(
        db: impl Into<Source<'_>>,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<Signed<CustomerUser>>, sqlx::Error> {
        let select = SELECT.replacen("SELECT ", "SELECT s.created_at AS signed_in_at, ", 1);
        let sql = format!(
            "{select} JOIN customer_sessions s ON s.customer_user_id = c.id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND c.enabled"
        );
        run!(db, |c| sqlx::query_as(&sql).bind(token_hash).bind(now).fetch_optional(&mut *c).await)
    }

    /// Ends every session of a customer user (a disabled account).
    pub async fn delete_all_of_customer(db: impl Into<Source<'_>>, customer_user_id: i64) -> Result<u64, sqlx::Error> {
        Ok(run_write!(db, |c| sqlx::query("DELETE FROM customer_sessions WHERE customer_user_id = $1")
            .bind(customer_user_id)
            .execute(&mut *c)
            .await?
            .rows_affected()))
    }

    pub async fn delete(db: impl Into<Source<'_>>, token_hash: &[u8]) -> Result<(), sqlx::Error> {
        run_write!(db, |c| {
            sqlx::query("DELETE FROM customer_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }
}
