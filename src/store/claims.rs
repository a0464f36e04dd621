//! What OpenID Connect says of a person (ID tokens, UserInfo): one row of
//! `users` or `customer_users`, whichever the subject is.

use super::{run, Source};
use crate::model::Subject;

/// A person as their claims describe them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    pub username: String,
    pub email: String,
    pub language: String,
    pub updated_at: i64,
    pub enabled: bool,
}

pub async fn person(db: impl Into<Source<'_>>, subject: Subject) -> Result<Option<PersonRow>, sqlx::Error> {
    let (sql, id) = match subject {
        Subject::User(id) => ("SELECT username, email, language, updated_at, enabled FROM users WHERE id = $1", id),
        Subject::Customer(id) => {
            ("SELECT username, email, language, updated_at, enabled FROM customer_users WHERE id = $1", id)
        }
    };
    run!(db, |c| sqlx::query_as(sql).bind(id).fetch_optional(&mut *c).await)
}
