//! People in the back office (administrators only): back-office users and
//! their roles and organizations, roles and their permissions, organizations,
//! and storefront customer users.

use super::{AppError, OrganizationOption};
use crate::permissions::Level;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleOption {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub role_id: Option<i64>,
    pub role: Option<String>,
    pub language: String,
    pub enabled: bool,
    pub organizations: String,
    /// Only those the viewing administrator is in.
    pub organization_ids: Vec<i64>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPage {
    pub users: Vec<UserRow>,
    pub roles: Vec<RoleOption>,
    pub organizations: Vec<OrganizationOption>,
    /// (code, name)
    pub languages: Vec<(String, String)>,
}

/// Create (no `id`) or edit a back-office user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserForm {
    pub csrf_token: String,
    pub id: Option<i64>,
    pub username: String,
    pub email: String,
    /// Required to create; empty on edit keeps the current one.
    pub password: String,
    pub role_id: Option<i64>,
    pub language: String,
    pub organization_ids: Vec<i64>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub administrator: bool,
    pub view: Level,
    pub create: Level,
    pub edit: Level,
    pub delete: Level,
    pub built_in: bool,
    pub users: i64,
}

/// Create (no `id`) or edit a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleForm {
    pub csrf_token: String,
    pub id: Option<i64>,
    pub name: String,
    pub description: String,
    pub administrator: bool,
    pub view: Level,
    pub create: Level,
    pub edit: Level,
    pub delete: Level,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationRow {
    pub id: i64,
    pub name: String,
    pub users: i64,
    pub customer_users: i64,
    pub applications: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub id: i64,
    pub organization: String,
    pub username: String,
    pub email: String,
    pub language: String,
    pub enabled: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomersPage {
    pub customers: Vec<CustomerRow>,
    pub organizations: Vec<OrganizationOption>,
    pub languages: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerForm {
    pub csrf_token: String,
    pub organization_id: Option<i64>,
    pub username: String,
    pub email: String,
    pub password: String,
    pub language: String,
}

#[cfg(feature = "ssr")]
fn languages() -> Vec<(String, String)> {
    crate::service::mail::LANGUAGES.iter().map(|(c, n)| (c.to_string(), n.to_string())).collect()
}

#[cfg(feature = "ssr")]
async fn organizations_of(state: &crate::state::AppState, user_id: i64) -> Result<Vec<OrganizationOption>, AppError> {
    Ok(crate::store::organizations::of_user(&state.db, user_id)
        .await?
        .into_iter()
        .map(|o| OrganizationOption { id: o.id, name: o.name })
        .collect())
}

#[server(prefix = "/admin/rpc", endpoint = "users")]
pub async fn get_users() -> Result<UsersPage, AppError> {
    use super::guard;
    use crate::store;
    let actor = guard::actor().await?;
    actor.require_admin()?;
    let state = guard::state()?;
    let users = store::users::list_visible_to(&state.db, actor.user_id)
        .await?
        .into_iter()
        .map(|(u, organizations, ids)| UserRow {
            id: u.id,
            username: u.username,
            email: u.email,
            role_id: u.role_id,
            role: u.role,
            language: u.language,
            enabled: u.enabled,
            organizations,
            organization_ids: ids.into_iter().filter(|id| actor.organization_ids.contains(id)).collect(),
            created_at: super::display_time(u.created_at),
        })
        .collect();
    let roles =
        store::roles::list(&state.db).await?.into_iter().map(|r| RoleOption { id: r.id, name: r.name }).collect();
    Ok(UsersPage {
        users,
        roles,
        organizations: organizations_of(&state, actor.user_id).await?,
        languages: languages(),
    })
}

#[server(prefix = "/admin/rpc", endpoint = "save_user", input = Json)]
pub async fn save_user(form: UserForm) -> Result<(), AppError> {
    use super::guard;
    use crate::service::users;
    let actor = guard::actor().await?;
    guard::check_csrf(&form.csrf_token)?;
    let state = guard::state()?;
    let input = users::UserForm {
        username: form.username,
        email: form.email,
        password: form.password,
        role_id: form.role_id,
        language: form.language,
        organization_ids: form.organization_ids,
        enabled: form.enabled,
    };
    match form.id {
        None => users::create_by_admin(&state, &actor, input).await.map(|_| ()),
        Some(id) => users::update_by_admin(&state, &actor, id, input).await,
    }
    .map_err(guard::service_error)
}

#[server(prefix = "/admin/rpc", endpoint = "roles")]
pub async fn get_roles() -> Result<Vec<RoleRow>, AppError> {
    use super::guard;
    guard::actor().await?.require_admin()?;
    let state = guard::state()?;
    Ok(crate::store::roles::list(&state.db)
        .await?
        .into_iter()
        .map(|r| RoleRow {
            id: r.id,
            name: r.name,
            description: r.description,
            administrator: r.administrator,
            view: r.app_view,
            create: r.app_create,
            edit: r.app_edit,
            delete: r.app_delete,
            built_in: r.built_in,
            users: r.users,
        })
        .collect())
}

#[server(prefix = "/admin/rpc", endpoint = "save_role", input = Json)]
pub async fn save_role(form: RoleForm) -> Result<(), AppError> {
    use super::guard;
    use crate::service::roles;
    let actor = guard::actor().await?;
    guard::check_csrf(&form.csrf_token)?;
    let state = guard::state()?;
    let input = roles::RoleForm {
        name: form.name,
        description: form.description,
        administrator: form.administrator,
        view: form.view,
        create: form.create,
        edit: form.edit,
        delete: form.delete,
    };
    match form.id {
        None => roles::create_role(&state, &actor, input).await.map(|_| ()),
        Some(id) => roles::update_role(&state, &actor, id, input).await,
    }
    .map_err(guard::service_error)
}

#[server(prefix = "/admin/rpc", endpoint = "delete_role")]
pub async fn delete_role(csrf_token: String, id: i64) -> Result<(), AppError> {
    use super::guard;
    let actor = guard::actor().await?;
    guard::check_csrf(&csrf_token)?;
    let state = guard::state()?;
    crate::service::roles::delete_role(&state, &actor, id).await.map_err(guard::service_error)
}

#[server(prefix = "/admin/rpc", endpoint = "organizations")]
pub async fn get_organizations() -> Result<Vec<OrganizationRow>, AppError> {
    use super::guard;
    let admin = guard::actor().await?;
    admin.require_admin()?;
    let state = guard::state()?;
    Ok(crate::store::organizations::summaries_of_user(&state.db, admin.user_id)
        .await?
        .into_iter()
        .map(|o| OrganizationRow {
            id: o.id,
            name: o.name,
            users: o.users,
            customer_users: o.customer_users,
            applications: o.applications,
            created_at: super::display_time(o.created_at),
        })
        .collect())
}

#[server(prefix = "/admin/rpc", endpoint = "create_organization")]
pub async fn create_organization(csrf_token: String, name: String) -> Result<(), AppError> {
    use super::guard;
    let actor = guard::actor().await?;
    guard::check_csrf(&csrf_token)?;
    let state = guard::state()?;
    crate::service::organizations::create_organization(&state, &actor, &name)
        .await
        .map(|_| ())
        .map_err(guard::service_error)
}

#[server(prefix = "/admin/rpc", endpoint = "customer_users")]
pub async fn get_customer_users() -> Result<CustomersPage, AppError> {
    use super::guard;
    let admin = guard::actor().await?;
    admin.require_admin()?;
    let state = guard::state()?;
    let customers = crate::store::customer_users::list_visible_to(&state.db, admin.user_id)
        .await?
        .into_iter()
        .map(|c| CustomerRow {
            id: c.id,
            organization: c.organization,
            username: c.username,
            email: c.email,
            language: c.language,
            enabled: c.enabled,
            created_at: super::display_time(c.created_at),
        })
        .collect();
    Ok(CustomersPage {
        customers,
        organizations: organizations_of(&state, admin.user_id).await?,
        languages: languages(),
    })
}

#[server(prefix = "/admin/rpc", endpoint = "create_customer_user", input = Json)]
pub async fn create_customer_user(form: CustomerForm) -> Result<(), AppError> {
    use super::guard;
    use crate::service::customers;
    let actor = guard::actor().await?;
    guard::check_csrf(&form.csrf_token)?;
    let state = guard::state()?;
    let input = customers::CustomerForm {
        organization_id: form.organization_id,
        username: form.username,
        email: form.email,
        password: form.password,
        language: form.language,
    };
    customers::create(&state, &actor, input).await.map(|_| ()).map_err(guard::service_error)
}

#[server(prefix = "/admin/rpc", endpoint = "set_customer_user_enabled")]
pub async fn set_customer_user_enabled(csrf_token: String, id: i64, enabled: bool) -> Result<(), AppError> {
    use super::guard;
    let actor = guard::actor().await?;
    guard::check_csrf(&csrf_token)?;
    let state = guard::state()?;
    crate::service::customers::set_enabled(&state, &actor, id, enabled).await.map_err(guard::service_error)
}
