//! OAuth applications in the back office: the three grids (My User,
//! System → User Management, Customers → Storefront), creating, editing,
//! activating/deactivating, deleting and regenerating a secret. Every
//! function checks the session, the CSRF token of a write, and the actor's
//! permission on the grid and on the row.

use super::dashboard::KeysView;
use super::{AppError, OrganizationOption};
pub use crate::model::GrantType;
use crate::permissions::GridScope;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// One row of an applications grid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ApplicationRow {
    pub id: i64,
    pub organization: String,
    pub name: String,
    pub client_id: String,
    pub active: bool,
    pub grant_type: GrantType,
    pub confidential: bool,
    pub owner: Option<String>,
    /// `YYYY-MM-DD HH:MM UTC`, or `None` when never used.
    pub last_used_at: Option<String>,
    /// What the viewer may do to this row.
    pub can_edit: bool,
    pub can_delete: bool,
}

/// A possible owner in the create dialog of the System and Storefront grids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerOption {
    pub id: i64,
    pub name: String,
    pub organization_id: i64,
}

pub const PAGE_SIZES: &[u32] = &[10, 25, 50, 100];

/// What a grid asks for: filters, sorting and the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridQuery {
    pub scope: GridScope,
    /// Part of the name; empty for all.
    pub name: String,
    pub organization_id: Option<i64>,
    /// `Some(true)` active only, `Some(false)` inactive only.
    pub active: Option<bool>,
    /// `name`, `organization`, `client_id`, `active`, `grant_type`, `owner`,
    /// `last_used_at` or `created_at`.
    pub sort: String,
    pub descending: bool,
    /// From 1.
    pub page: u32,
    pub page_size: u32,
}

impl GridQuery {
    pub fn new(scope: GridScope) -> Self {
        GridQuery {
            scope,
            name: String::new(),
            organization_id: None,
            active: None,
            sort: "name".into(),
            descending: false,
            page: 1,
            page_size: 25,
        }
    }
}

/// One page of a grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridPage {
    pub rows: Vec<ApplicationRow>,
    /// Rows matching the filters, on all pages.
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

/// What a grid's toolbar and dialogs need, whatever the filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridMeta {
    /// The viewer's organizations (the organization column and filter show
    /// only when there are several).
    pub organizations: Vec<OrganizationOption>,
    /// Owners to choose from when creating (System and Storefront grids).
    pub owners: Vec<OwnerOption>,
    pub can_create: bool,
    pub keys: KeysView,
}

/// The Add Application form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApplicationForm {
    pub csrf_token: String,
    pub scope: GridScope,
    /// Required only when the user belongs to several organizations.
    pub organization_id: Option<i64>,
    /// The owner (System: a user, Storefront: a customer user); ignored on My User.
    pub owner_id: Option<i64>,
    pub name: String,
    pub active: bool,
    /// `client_credentials` or `authorization_code`.
    pub grant_type: String,
    /// One URL per line (authorization_code only).
    pub redirect_uris: String,
    /// Where OpenID Connect logout may send people back to: one URL per
    /// line, may be empty (authorization_code only). Absent is empty.
    #[serde(default)]
    pub post_logout_redirect_uris: String,
    pub confidential: bool,
    pub skip_consent: bool,
}

/// The credentials of a new application (or a regenerated secret), shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedCredentials {
    pub name: String,
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// An application as the Edit dialog shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDetails {
    pub id: i64,
    pub organization: String,
    pub name: String,
    pub client_id: String,
    pub active: bool,
    pub grant_type: GrantType,
    pub confidential: bool,
    pub skip_consent: bool,
    pub owner: Option<String>,
    /// One per line.
    pub redirect_uris: String,
    /// One per line; empty when none.
    pub post_logout_redirect_uris: String,
    pub created_at: String,
}

/// The Edit dialog's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditApplicationForm {
    pub csrf_token: String,
    pub id: i64,
    pub name: String,
    pub active: bool,
    pub redirect_uris: String,
    /// One per line; absent is empty (the application then has none).
    #[serde(default)]
    pub post_logout_redirect_uris: String,
    pub skip_consent: bool,
}

#[cfg(feature = "ssr")]
fn sort_column(key: &str) -> Option<crate::store::applications::SortColumn> {
    use crate::store::applications::SortColumn;
    Some(match key {
        "name" => SortColumn::Name,
        "organization" => SortColumn::Organization,
        "client_id" => SortColumn::ClientId,
        "active" => SortColumn::Active,
        "grant_type" => SortColumn::GrantType,
        "owner" => SortColumn::Owner,
        "last_used_at" => SortColumn::LastUsedAt,
        "created_at" => SortColumn::CreatedAt,
        _ => return None,
    })
}

#[server(prefix = "/admin/rpc", endpoint = "applications", input = Json)]
pub async fn list_applications(query: GridQuery) -> Result<GridPage, AppError> {
    use super::guard;
    use crate::permissions::Action;
    use crate::store;
    let actor = guard::actor().await?;
    actor.require_grid(query.scope)?;
    let state = guard::state()?;
    let sort = sort_column(&query.sort).ok_or_else(|| guard::invalid("sort", "Choose a column to sort by."))?;
    if query.name.chars().count() > 255 {
        return Err(guard::invalid("name", "The name filter must be at most 255 characters."));
    }
    let page_size = query.page_size.clamp(1, 100) as i64;
    let page = query.page.max(1) as i64;
    let side = match query.scope {
        GridScope::Storefront => crate::model::Side::Storefront,
        _ => crate::model::Side::BackOffice,
    };
    let search = store::applications::ApplicationQuery {
        viewer_id: actor.user_id,
        side,
        owner_user_id: (query.scope == GridScope::Mine).then_some(actor.user_id),
        name: Some(query.name.trim().to_owned()).filter(|n| !n.is_empty()),
        organization_id: query.organization_id,
        active: query.active,
        sort,
        descending: query.descending,
        limit: page_size,
        offset: (page - 1) * page_size,
    };
    let (apps, total) = store::applications::search(&state.db, &search).await?;
    let perms = actor.permissions;
    let rows = apps
        .into_iter()
        .map(|a| {
            let storefront = a.side == crate::model::Side::Storefront;
            let own = a.owner_user_id == Some(actor.user_id);
            ApplicationRow {
                can_edit: perms.allows(Action::Edit, storefront, own),
                can_delete: perms.allows(Action::Delete, storefront, own),
                id: a.id,
                organization: a.organization,
                name: a.name,
                client_id: a.client_id,
                active: a.active,
                grant_type: a.grant_type,
                confidential: a.confidential,
                owner: a.owner,
                last_used_at: a.last_used_at.map(super::display_time),
            }
        })
        .collect();
    Ok(GridPage { rows, total, page: page as u32, page_size: page_size as u32 })
}

#[server(prefix = "/admin/rpc", endpoint = "application_grid")]
pub async fn get_application_grid(scope: GridScope) -> Result<GridMeta, AppError> {
    use super::guard;
    use crate::permissions::Action;
    use crate::store;
    let actor = guard::actor().await?;
    actor.require_grid(scope)?;
    let state = guard::state()?;
    let perms = actor.permissions;
    let organizations: Vec<OrganizationOption> = store::organizations::of_user(&state.db, actor.user_id)
        .await?
        .into_iter()
        .map(|o| OrganizationOption { id: o.id, name: o.name })
        .collect();
    let can_create = perms.can_in(scope, Action::Create);
    let mut owners = Vec::new();
    if can_create {
        match scope {
            GridScope::Mine => {}
            GridScope::BackOffice => {
                for (user, _, ids) in store::users::list_visible_to(&state.db, actor.user_id).await? {
                    if user.enabled {
                        for org in ids.iter().filter(|o| actor.organization_ids.contains(o)) {
                            owners.push(OwnerOption {
                                id: user.id,
                                name: user.username.clone(),
                                organization_id: *org,
                            });
                        }
                    }
                }
            }
            GridScope::Storefront => {
                for c in store::customer_users::list_visible_to(&state.db, actor.user_id).await? {
                    if c.enabled {
                        owners.push(OwnerOption { id: c.id, name: c.username, organization_id: c.organization_id });
                    }
                }
            }
        }
    }
    Ok(GridMeta { organizations, owners, can_create, keys: super::dashboard::keys_view(&state, perms.administrator) })
}

#[server(prefix = "/admin/rpc", endpoint = "create_application", input = Json)]
pub async fn create_application(form: NewApplicationForm) -> Result<CreatedCredentials, AppError> {
    use super::guard;
    use crate::service::applications::{self, ApplicationRequest};
    let actor = guard::actor().await?;
    guard::check_csrf(&form.csrf_token)?;
    let state = guard::state()?;
    let name = form.name.trim().to_owned();
    let request = ApplicationRequest {
        organization_id: form.organization_id,
        owner_id: form.owner_id,
        name: form.name,
        active: form.active,
        grant_type: form.grant_type,
        redirect_uris: form.redirect_uris,
        post_logout_redirect_uris: form.post_logout_redirect_uris,
        confidential: form.confidential,
        skip_consent: form.skip_consent,
    };
    let created = applications::create_in(&state, &actor, form.scope, request).await.map_err(guard::service_error)?;
    Ok(CreatedCredentials {
        name,
        client_id: created.client_id,
        client_secret: created.client_secret.map(|s| s.expose().to_owned()),
    })
}

#[server(prefix = "/admin/rpc", endpoint = "application")]
pub async fn get_application(id: i64) -> Result<ApplicationDetails, AppError> {
    use super::guard;
    use crate::permissions::Action;
    use crate::service::applications;
    use crate::store;
    let actor = guard::actor().await?;
    let state = guard::state()?;
    let app = applications::find_permitted(&state, &actor, id, Action::View).await.map_err(guard::service_error)?;
    let redirect_uris = store::applications::redirect_uris(&state.db, id).await?.join("\n");
    let post_logout_redirect_uris = store::applications::post_logout_redirect_uris(&state.db, id).await?.join("\n");
    Ok(ApplicationDetails {
        id: app.id,
        organization: app.organization,
        name: app.name,
        client_id: app.client_id,
        active: app.active,
        grant_type: app.grant_type,
        confidential: app.confidential,
        skip_consent: app.skip_consent,
        owner: app.owner,
        redirect_uris,
        post_logout_redirect_uris,
        created_at: super::display_time(app.created_at),
    })
}

#[server(prefix = "/admin/rpc", endpoint = "update_application", input = Json)]
pub async fn update_application(form: EditApplicationForm) -> Result<(), AppError> {
    use super::guard;
    let actor = guard::actor().await?;
    guard::check_csrf(&form.csrf_token)?;
    let state = guard::state()?;
    let edit = crate::service::applications::ApplicationEdit {
        name: &form.name,
        active: form.active,
        redirect_uris: &form.redirect_uris,
        post_logout_redirect_uris: &form.post_logout_redirect_uris,
        skip_consent: form.skip_consent,
    };
    crate::service::applications::update(&state, &actor, form.id, edit).await.map_err(guard::service_error)
}

#[server(prefix = "/admin/rpc", endpoint = "set_application_active")]
pub async fn set_application_active(csrf_token: String, id: i64, active: bool) -> Result<(), AppError> {
    use super::guard;
    let actor = guard::actor().await?;
    guard::check_csrf(&csrf_token)?;
    let state = guard::state()?;
    crate::service::applications::set_active(&state, &actor, id, active).await.map_err(guard::service_error)
}

#[server(prefix = "/admin/rpc", endpoint = "delete_application")]
pub async fn delete_application(csrf_token: String, id: i64) -> Result<(), AppError> {
    use super::guard;
    let actor = guard::actor().await?;
    guard::check_csrf(&csrf_token)?;
    let state = guard::state()?;
    crate::service::applications::delete(&state, &actor, id).await.map_err(guard::service_error)
}

#[server(prefix = "/admin/rpc", endpoint = "regenerate_application_secret")]
pub async fn regenerate_application_secret(csrf_token: String, id: i64) -> Result<CreatedCredentials, AppError> {
    use super::guard;
    let actor = guard::actor().await?;
    guard::check_csrf(&csrf_token)?;
    let state = guard::state()?;
    let (app, secret) =
        crate::service::applications::regenerate_secret(&state, &actor, id).await.map_err(guard::service_error)?;
    Ok(CreatedCredentials { name: app.name, client_id: app.client_id, client_secret: Some(secret.expose().to_owned()) })
}
