//! The `organizations` table.

use super::{bind_values, run, run_write, Source, Statement, Value, Write};
use crate::model::Subject;

/// SQL: the person in the columns `user` / `customer` (one of them set)
/// belongs to the organization `organization` (a column or expression):
/// a back-office user by membership, a customer user by their one
/// organization. Organizations are walls: a token, code, grant or consent
/// of a person reaches an application only while this holds.
pub(crate) fn belongs(user: &str, customer: &str, organization: &str) -> String {
    format!(
        "(({user} IS NOT NULL AND EXISTS (SELECT 1 FROM user_organizations m
                                          WHERE m.user_id = {user} AND m.organization_id = {organization}))
          OR ({customer} IS NOT NULL AND EXISTS (SELECT 1 FROM customer_users mc
                                                 WHERE mc.id = {customer} AND mc.organization_id = {organization})))"
    )
}

/// Whether `subject` belongs to `organization_id` (see [`belongs`]).
pub async fn subject_belongs(
    db: impl Into<Source<'_>>,
    subject: Subject,
    organization_id: i64,
) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT 1 WHERE {}", belongs("$1", "$2", "$3"));
    let row: Option<(i32,)> = run!(db, |c| sqlx::query_as(&sql)
        .bind(subject.user_id())
        .bind(subject.customer_user_id())
        .bind(organization_id)
        .fetch_optional(&mut *c)
        .await?);
    Ok(row.is_some())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Organization {
    pub id: i64,
    pub name: String,
}

pub async fn insert(db: impl Into<Source<'_>>, name: &str, now: i64) -> Result<i64, sqlx::Error> {
    let row: (i64,) =
        run_write!(db, |c| sqlx::query_as("INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(name)
            .bind(now)
            .fetch_one(&mut *c)
            .await?);
    Ok(row.0)
}

/// The organization of exactly this name (organization names are unique
/// as written, case included, on both engines).
pub async fn find_by_name(db: impl Into<Source<'_>>, name: &str) -> Result<Option<Organization>, sqlx::Error> {
    if !super::storable(name) {
        return Ok(None);
    }
    run!(db, |c| sqlx::query_as("SELECT id, name FROM organizations WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *c)
        .await)
}

pub async fn first(db: impl Into<Source<'_>>) -> Result<Option<Organization>, sqlx::Error> {
    run!(db, |c| sqlx::query_as("SELECT id, name FROM organizations ORDER BY id LIMIT 1").fetch_optional(&mut *c).await)
}

/// The organizations a back-office user belongs to, by name.
pub async fn of_user(db: impl Into<Source<'_>>, user_id: i64) -> Result<Vec<Organization>, sqlx::Error> {
    run!(db, |c| sqlx::query_as(
        "SELECT o.id, o.name FROM organizations o
         JOIN user_organizations uo ON uo.organization_id = o.id
         WHERE uo.user_id = $1 ORDER BY o.name",
    )
    .bind(user_id)
    .fetch_all(&mut *c)
    .await)
}

/// The names of organizations by id, sorted (for audit entries).
pub async fn names(db: impl Into<Source<'_>>, ids: &[i64]) -> Result<Vec<String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Statement::new("SELECT name FROM organizations WHERE id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push_value(Value::Int(*id));
    }
    q.push(") ORDER BY name");
    let rows: Vec<(String,)> = run!(db, |c| bind_values!(sqlx::query_as(&q.sql), &q.values).fetch_all(&mut *c).await?);
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Every organization some holder of role `role_id` belongs to.
pub async fn of_role_holders(db: impl Into<Source<'_>>, role_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = run!(db, |c| {
        sqlx::query_as(
            "SELECT DISTINCT m.organization_id FROM users u JOIN user_organizations m ON m.user_id = u.id
             WHERE u.role_id = $1",
        )
        .bind(role_id)
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Adds a membership; a token of that person in that organization works
/// again at once (the caches follow).
pub async fn add_member(w: &mut Write, organization_id: i64, user_id: i64) -> Result<(), sqlx::Error> {
    w.makes_stale().await?;
    run!(w, |c| {
        sqlx::query("INSERT INTO user_organizations (user_id, organization_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(user_id)
            .bind(organization_id)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

/// An organization with its member and application counts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrganizationSummary {
    pub id: i64,
    pub name: String,
    pub users: i64,
    pub customer_users: i64,
    pub applications: i64,
    pub created_at: i64,
}

/// The organizations `user_id` belongs to, with counts.
pub async fn summaries_of_user(
    db: impl Into<Source<'_>>,
    user_id: i64,
) -> Result<Vec<OrganizationSummary>, sqlx::Error> {
    run!(db, |c| sqlx::query_as(
        "SELECT o.id, o.name,
                (SELECT COUNT(*) FROM user_organizations m WHERE m.organization_id = o.id) AS users,
                (SELECT COUNT(*) FROM customer_users c WHERE c.organization_id = o.id) AS customer_users,
                (SELECT COUNT(*) FROM oauth_applications a WHERE a.organization_id = o.id) AS applications,
                o.created_at
         FROM organizations o JOIN user_organizations uo ON uo.organization_id = o.id
         WHERE uo.user_id = $1 ORDER BY lower(o.name)",
    )
    .bind(user_id)
    .fetch_all(&mut *c)
    .await)
}

/// Replaces the organizations of a user; what a token of theirs reaches
/// changes at once (the caches follow).
pub async fn set_memberships(w: &mut Write, user_id: i64, organization_ids: &[i64]) -> Result<(), sqlx::Error> {
    w.makes_stale().await?;
    run!(&mut *w, |c| {
        sqlx::query("DELETE FROM user_organizations WHERE user_id = $1").bind(user_id).execute(&mut *c).await?;
    });
    for id in organization_ids {
        add_member(w, *id, user_id).await?;
    }
    Ok(())
}
