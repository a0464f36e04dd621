//! The `oauth_applications` table, its redirect URIs and its post-logout
//! redirect URIs (OpenID Connect RP-Initiated Logout 1.0 §3).

use super::{bind_values, run, run_write, Source, Statement, Value, Write};
use crate::model::{GrantType, Side};

/// A new application, as written in one transaction with its redirect URIs
/// and post-logout redirect URIs.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub organization_id: i64,
    pub name: String,
    pub client_id: String,
    pub secret_hash: Option<[u8; 32]>,
    pub active: bool,
    pub grant_type: GrantType,
    pub side: Side,
    pub owner_user_id: Option<i64>,
    pub owner_customer_user_id: Option<i64>,
    pub confidential: bool,
    pub skip_consent: bool,
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to (exact match).
    pub post_logout_redirect_uris: Vec<String>,
}

/// Inserts the application and its redirect URIs (both kinds) on one
/// connection; call it inside a transaction so that a failure leaves
/// nothing half-written.
pub async fn insert(w: &mut Write, app: &NewApplication, now: i64) -> Result<i64, sqlx::Error> {
    let id = run!(&mut *w, |c| {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO oauth_applications (organization_id, name, client_id, secret_hash, active, grant_type,
                 kind, owner_user_id, owner_customer_user_id, confidential, skip_consent, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(app.organization_id)
        .bind(&app.name)
        .bind(&app.client_id)
        .bind(app.secret_hash.as_ref().map(|h| h.as_slice()))
        .bind(app.active)
        .bind(app.grant_type)
        .bind(app.side)
        .bind(app.owner_user_id)
        .bind(app.owner_customer_user_id)
        .bind(app.confidential)
        .bind(app.skip_consent)
        .bind(now)
        .fetch_one(&mut *c)
        .await?;
        id
    });
    insert_uris(w, UriList::Redirect, id, &app.redirect_uris).await?;
    insert_uris(w, UriList::PostLogout, id, &app.post_logout_redirect_uris).await?;
    Ok(id)
}

/// The two lists of URIs an application registers, each a table of
/// (application_id, position, uri).
#[derive(Debug, Clone, Copy)]
enum UriList {
    /// Where the authorization endpoint may send a code (RFC 6749 §3.1.2).
    Redirect,
    /// Where RP-initiated logout may send the browser back to.
    PostLogout,
}

impl UriList {
    fn table(self) -> &'static str {
        match self {
            UriList::Redirect => "oauth_application_redirect_uris",
            UriList::PostLogout => "oauth_application_post_logout_redirect_uris",
        }
    }
}

async fn insert_uris(w: &mut Write, list: UriList, id: i64, uris: &[String]) -> Result<(), sqlx::Error> {
    let sql = format!("INSERT INTO {} (application_id, position, uri) VALUES ($1, $2, $3)", list.table());
    for (position, uri) in uris.iter().enumerate() {
        run!(&mut *w, |c| sqlx::query(&sql)
            .bind(id)
            .bind(position as i64)
            .bind(uri)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(())
}

/// An application `a` with its owner's account (`u` back office, `c` storefront).
pub(crate) const WITH_OWNER: &str = "oauth_applications a
     LEFT JOIN users u ON u.id = a.owner_user_id
     LEFT JOIN customer_users c ON c.id = a.owner_customer_user_id";

/// `a` may have tokens issued: it is active and its owner (if any) is
/// enabled and still belongs to the application's organization. The one
/// definition of "can this client still get a token", used when a client is
/// read and again by the write that records a token.
pub(crate) fn issues_tokens() -> String {
    format!(
        "a.active AND COALESCE(u.enabled, c.enabled, TRUE)
         AND (COALESCE(a.owner_user_id, a.owner_customer_user_id) IS NULL OR {})",
        super::organizations::belongs("a.owner_user_id", "a.owner_customer_user_id", "a.organization_id")
    )
}

/// `a` is the application `id` and may still have tokens issued to the
/// holder of the secret whose hash is `secret_hash` (SQL expressions): the
/// condition of every write that records a token.
pub(crate) fn usable_with(id: &str, secret_hash: &str) -> String {
    format!("a.id = {id} AND a.secret_hash IS NOT DISTINCT FROM {secret_hash} AND {}", issues_tokens())
}

/// What the token endpoint needs to know of a client.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRecord {
    pub id: i64,
    pub organization_id: i64,
    pub client_id: String,
    pub name: String,
    pub secret_hash: Option<Vec<u8>>,
    pub active: bool,
    pub grant_type: GrantType,
    pub side: Side,
    pub confidential: bool,
    pub owner_user_id: Option<i64>,
    pub owner_customer_user_id: Option<i64>,
    /// The owner's user name (back office or storefront).
    pub owner_username: Option<String>,
    /// [`issues_tokens`] as of this read: active, and its owner (if any)
    /// enabled and still a member of its organization.
    pub issues_tokens: bool,
    pub last_used_at: Option<i64>,
}

pub async fn find_client(db: impl Into<Source<'_>>, client_id: &str) -> Result<Option<ClientRecord>, sqlx::Error> {
    if !super::storable(client_id) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT a.id, a.organization_id, a.client_id, a.name, a.secret_hash, a.active, a.grant_type, a.kind AS side,
                a.confidential, a.owner_user_id, a.owner_customer_user_id,
                COALESCE(u.username, c.username) AS owner_username, ({issues}) AS issues_tokens, a.last_used_at
         FROM {WITH_OWNER}
         WHERE a.client_id = $1",
        issues = issues_tokens()
    );
    run!(db, |c| sqlx::query_as(&sql).bind(client_id).fetch_optional(&mut *c).await)
}

/// Whether, as of the caller's transaction, the application still exists,
/// is active, still has `secret_hash` (what the request was authenticated
/// with) and its owner is enabled. Run inside the write transaction that
/// issues a token, after its first write, so that no change can commit in
/// between.
pub async fn still_usable(w: &mut Write, id: i64, secret_hash: Option<&[u8]>) -> Result<bool, sqlx::Error> {
    w.relies_on_access().await?;
    let sql = format!("SELECT 1 FROM {WITH_OWNER} WHERE {}", usable_with("$1", "$2"));
    let row: Option<(i32,)> =
        run!(&mut *w, |c| sqlx::query_as(&sql).bind(id).bind(secret_hash).fetch_optional(&mut *c).await?);
    Ok(row.is_some())
}

/// What the authorization endpoint and consent page need of an application.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthorizingRecord {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub organization_id: i64,
    pub organization: String,
    pub active: bool,
    pub grant_type: GrantType,
    pub side: Side,
    pub confidential: bool,
    pub skip_consent: bool,
}

pub async fn find_authorizing(
    db: impl Into<Source<'_>>,
    client_id: &str,
) -> Result<Option<AuthorizingRecord>, sqlx::Error> {
    if !super::storable(client_id) {
        return Ok(None);
    }
    run!(db, |c| {
        sqlx::query_as(
        "SELECT a.id, a.client_id, a.name, a.organization_id, o.name AS organization, a.active, a.grant_type, a.kind AS side, a.confidential,
                a.skip_consent
         FROM oauth_applications a JOIN organizations o ON o.id = a.organization_id
         WHERE a.client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(&mut *c)
    .await
    })
}

/// How stale `last_used_at` may get before it is written again.
pub const LAST_USED_PRECISION: i64 = 60;

/// Records that the application was used, at most once a minute, so that a
/// busy client does not turn every token request into two writes (callers
/// skip the call when the row they read is recent; the WHERE guards races).
pub async fn touch_last_used(db: impl Into<Source<'_>>, id: i64, now: i64) -> Result<(), sqlx::Error> {
    run_write!(db, |c| sqlx::query(
        "UPDATE oauth_applications SET last_used_at = $1
         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
    )
    .bind(now)
    .bind(id)
    .bind(now - LAST_USED_PRECISION)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn set_active(w: &mut Write, id: i64, active: bool, now: i64) -> Result<bool, sqlx::Error> {
    w.makes_stale().await?;
    let done = run!(w, |c| sqlx::query("UPDATE oauth_applications SET active = $1, updated_at = $2 WHERE id = $3")
        .bind(active)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done == 1)
}

/// How many applications the organizations of `viewer_id` have, and how many are active.
pub async fn count(db: impl Into<Source<'_>>, viewer_id: i64) -> Result<(i64, i64), sqlx::Error> {
    run!(db, |c| sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN active THEN 1 ELSE 0 END), 0) FROM oauth_applications
         WHERE organization_id IN (SELECT organization_id FROM user_organizations WHERE user_id = $1)",
    )
    .bind(viewer_id)
    .fetch_one(&mut *c)
    .await)
}

/// An application as the back-office grids show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApplicationSummary {
    pub id: i64,
    pub organization_id: i64,
    pub organization: String,
    pub name: String,
    pub client_id: String,
    pub active: bool,
    pub grant_type: GrantType,
    pub side: Side,
    pub confidential: bool,
    pub skip_consent: bool,
    pub owner_user_id: Option<i64>,
    pub owner_customer_user_id: Option<i64>,
    /// The owner's user name, if the application has an owner.
    pub owner: Option<String>,
    /// The owner's email address.
    pub owner_email: Option<String>,
    /// The owner's language, for the email sent on creation.
    pub owner_language: Option<String>,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
}

/// An application with its organization and owner (whichever kind).
const FROM: &str = " FROM oauth_applications a
     JOIN organizations o ON o.id = a.organization_id
     LEFT JOIN users u ON u.id = a.owner_user_id
     LEFT JOIN customer_users c ON c.id = a.owner_customer_user_id";

const SUMMARY_COLUMNS: &str = "SELECT a.id, a.organization_id, o.name AS organization, a.name, a.client_id, a.active,
        a.grant_type, a.kind AS side, a.confidential, a.skip_consent, a.owner_user_id, a.owner_customer_user_id,
        COALESCE(u.username, c.username) AS owner, COALESCE(u.email, c.email) AS owner_email,
        COALESCE(u.language, c.language) AS owner_language, a.last_used_at, a.created_at";

/// The column a grid is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Name,
    Organization,
    ClientId,
    Active,
    GrantType,
    Owner,
    LastUsedAt,
    CreatedAt,
}

impl SortColumn {
    fn sql(self) -> &'static str {
        match self {
            SortColumn::Name => "lower(a.name)",
            SortColumn::Organization => "lower(o.name)",
            SortColumn::ClientId => "a.client_id",
            SortColumn::Active => "CASE WHEN a.active THEN 1 ELSE 0 END",
            SortColumn::GrantType => "a.grant_type",
            SortColumn::Owner => "lower(COALESCE(u.username, c.username))",
            SortColumn::LastUsedAt => "COALESCE(a.last_used_at, 0)",
            SortColumn::CreatedAt => "a.created_at",
        }
    }
}

/// Which applications a grid asks for. Every query is limited to the
/// viewer's organizations.
#[derive(Debug, Clone)]
pub struct ApplicationQuery {
    pub viewer_id: i64,
    pub side: Side,
    /// Only the applications this back-office user owns.
    pub owner_user_id: Option<i64>,
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
    pub organization_id: Option<i64>,
    pub active: Option<bool>,
    pub sort: SortColumn,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
}

fn push_filters<'a>(q: &mut Statement<'a>, query: &'a ApplicationQuery) {
    q.push(" WHERE a.kind = ").push_value(Value::text(query.side.as_str()));
    q.push(" AND a.organization_id IN (SELECT organization_id FROM user_organizations WHERE user_id = ")
        .push_value(Value::Int(query.viewer_id))
        .push(")");
    if let Some(owner) = query.owner_user_id {
        q.push(" AND a.owner_user_id = ").push_value(Value::Int(owner));
    }
    if let Some(name) = &query.name {
        q.push(" AND lower(a.name) LIKE lower(").push_value(Value::containing(name)).push(") ESCAPE '\\'");
    }
    if let Some(org) = query.organization_id {
        q.push(" AND a.organization_id = ").push_value(Value::Int(org));
    }
    if let Some(active) = query.active {
        q.push(" AND a.active = ").push_value(Value::Bool(active));
    }
}

/// One page of a grid, and how many rows match in all.
pub async fn search(db: &super::Db, query: &ApplicationQuery) -> Result<(Vec<ApplicationSummary>, i64), sqlx::Error> {
    let mut count = Statement::new(format!("SELECT COUNT(*){FROM}"));
    push_filters(&mut count, query);
    let mut rows = Statement::new(format!("{SUMMARY_COLUMNS}{FROM}"));
    push_filters(&mut rows, query);
    let direction = if query.descending { "DESC" } else { "ASC" };
    rows.push(&format!(" ORDER BY {} {direction}, a.id {direction}", query.sort.sql()));
    rows.push(" LIMIT ").push_value(Value::Int(query.limit)).push(" OFFSET ").push_value(Value::Int(query.offset));
    run!(db, |c| {
        let (total,): (i64,) = bind_values!(sqlx::query_as(&count.sql), &count.values).fetch_one(&mut *c).await?;
        let page = bind_values!(sqlx::query_as(&rows.sql), &rows.values).fetch_all(&mut *c).await?;
        Ok((page, total))
    })
}

pub async fn find_summary(db: impl Into<Source<'_>>, id: i64) -> Result<Option<ApplicationSummary>, sqlx::Error> {
    let sql = format!("{SUMMARY_COLUMNS}{FROM} WHERE a.id = $1");
    run!(db, |c| sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await)
}

/// The application's redirect URIs, in the order registered.
pub async fn redirect_uris(db: impl Into<Source<'_>>, id: i64) -> Result<Vec<String>, sqlx::Error> {
    uris(db, UriList::Redirect, id).await
}

/// The application's post-logout redirect URIs, in the order registered:
/// where RP-initiated logout may send the browser back to, matched exactly
/// (OpenID Connect RP-Initiated Logout 1.0 §3). Empty when it registered
/// none (or the application does not exist).
pub async fn post_logout_redirect_uris(
    db: impl Into<Source<'_>>,
    application_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    uris(db, UriList::PostLogout, application_id).await
}

async fn uris(db: impl Into<Source<'_>>, list: UriList, id: i64) -> Result<Vec<String>, sqlx::Error> {
    let sql = format!("SELECT uri FROM {} WHERE application_id = $1 ORDER BY position", list.table());
    let rows: Vec<(String,)> = run!(db, |c| sqlx::query_as(&sql).bind(id).fetch_all(&mut *c).await?);
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The editable fields of an application (grant type, kind, owner,
/// organization and confidentiality are fixed at creation).
#[derive(Debug, Clone)]
pub struct ApplicationChanges {
    pub name: String,
    pub active: bool,
    pub skip_consent: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
}

/// Updates the application and replaces its redirect URIs (both kinds);
/// call it inside a transaction.
pub async fn update(w: &mut Write, id: i64, changes: &ApplicationChanges, now: i64) -> Result<bool, sqlx::Error> {
    w.makes_stale().await?;
    let done = run!(&mut *w, |c| sqlx::query(
        "UPDATE oauth_applications SET name = $1, active = $2, skip_consent = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(&changes.name)
    .bind(changes.active)
    .bind(changes.skip_consent)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?
    .rows_affected());
    if done != 1 {
        return Ok(false);
    }
    for (list, uris) in
        [(UriList::Redirect, &changes.redirect_uris), (UriList::PostLogout, &changes.post_logout_redirect_uris)]
    {
        let sql = format!("DELETE FROM {} WHERE application_id = $1", list.table());
        run!(&mut *w, |c| sqlx::query(&sql).bind(id).execute(&mut *c).await?.rows_affected());
        insert_uris(w, list, id, uris).await?;
    }
    Ok(true)
}

/// Replaces the secret hash of a confidential client.
pub async fn set_secret_hash(w: &mut Write, id: i64, hash: &[u8; 32], now: i64) -> Result<bool, sqlx::Error> {
    w.makes_stale().await?;
    let done = run!(w, |c| sqlx::query(
        "UPDATE oauth_applications SET secret_hash = $1, updated_at = $2 WHERE id = $3 AND confidential"
    )
    .bind(hash.as_slice())
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// Deletes the application; its redirect URIs (both kinds) and token records go with it
/// (ON DELETE CASCADE), so its tokens stop working at once.
pub async fn delete(w: &mut Write, id: i64) -> Result<bool, sqlx::Error> {
    w.makes_stale().await?;
    let done = run!(w, |c| sqlx::query("DELETE FROM oauth_applications WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected());
    Ok(done == 1)
}
