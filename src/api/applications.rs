//! OAuth applications on the back office: the signed-in user's own
//! applications (My User → OAuth Applications) and creating one.

use super::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// One row of an applications grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRow {
    pub id: i64,
    pub organization: String,
    pub name: String,
    pub client_id: String,
    pub active: bool,
    pub grant_type: String,
    pub confidential: bool,
    /// RFC 3339, or `None` when never used.
    pub last_used_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationOption {
    pub id: i64,
    pub name: String,
}

/// What My User's applications section needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyApplications {
    pub organizations: Vec<OrganizationOption>,
    pub applications: Vec<ApplicationRow>,
}

/// The Add Application form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApplicationForm {
    pub csrf_token: String,
    /// Required only when the user belongs to several organizations.
    pub organization_id: Option<i64>,
    pub name: String,
    pub active: bool,
    /// `client_credentials` or `authorization_code`.
    pub grant_type: String,
    /// One URL per line (authorization_code only).
    pub redirect_uris: String,
    pub confidential: bool,
    pub skip_consent: bool,
}

/// The credentials of a new application, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedCredentials {
    pub name: String,
    pub client_id: String,
    pub client_secret: Option<String>,
}

#[server(prefix = "/admin/rpc", endpoint = "my_applications")]
pub async fn get_my_applications() -> Result<MyApplications, AppError> {
    use super::guard;
    use crate::store;
    let user = guard::user()?;
    let state = guard::state()?;
    let organizations = store::organizations::of_user(&state.db, user.id)
        .await?
        .into_iter()
        .map(|o| OrganizationOption { id: o.id, name: o.name })
        .collect();
    let applications = store::applications::list_owned_by_user(&state.db, user.id)
        .await?
        .into_iter()
        .map(|a| ApplicationRow {
            id: a.id,
            organization: a.organization,
            name: a.name,
            client_id: a.client_id,
            active: a.active,
            grant_type: a.grant_type,
            confidential: a.confidential,
            last_used_at: a.last_used_at.map(crate::server::api::rfc3339),
        })
        .collect();
    Ok(MyApplications { organizations, applications })
}

#[server(prefix = "/admin/rpc", endpoint = "create_my_application", input = Json)]
pub async fn create_my_application(form: NewApplicationForm) -> Result<CreatedCredentials, AppError> {
    use super::guard;
    use crate::oauth::grant::GrantType;
    use crate::service::applications::{self, NewApplicationInput, Owner};
    use crate::store;
    let user = guard::user()?;
    guard::check_csrf(&form.csrf_token)?;
    let state = guard::state()?;
    let organizations = store::organizations::of_user(&state.db, user.id).await?;
    let organization = match (form.organization_id, organizations.as_slice()) {
        (None, [only]) => only.clone(),
        (None, _) => return Err(guard::invalid("organization_id", "Choose an organization.")),
        (Some(id), orgs) => orgs
            .iter()
            .find(|o| o.id == id)
            .cloned()
            // Another organization's id: the same answer as a missing one, nothing stored.
            .ok_or_else(|| guard::invalid("organization_id", "Choose one of your organizations."))?,
    };
    let grant_type = GrantType::parse(&form.grant_type)
        .ok_or_else(|| guard::invalid("grant_type", "Choose client_credentials or authorization_code."))?;
    let redirect_uris: Vec<String> = match grant_type {
        GrantType::AuthorizationCode => {
            form.redirect_uris.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
        }
        GrantType::ClientCredentials => Vec::new(),
    };
    let name = form.name.trim().to_owned();
    let created = applications::create(
        &state,
        NewApplicationInput {
            organization_id: organization.id,
            name: name.clone(),
            active: form.active,
            grant_type,
            owner: Some(Owner::User(user.id)),
            confidential: form.confidential || grant_type == GrantType::ClientCredentials,
            skip_consent: form.skip_consent,
            redirect_uris,
        },
    )
    .await
    .map_err(guard::service_error)?;
    Ok(CreatedCredentials {
        name,
        client_id: created.client_id,
        client_secret: created.client_secret.map(|s| s.expose().to_owned()),
    })
}
