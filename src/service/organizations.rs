//! Organizations, as administrators create them in User Management. Who
//! belongs to which is written with the users (`super::users`); the one made
//! on first start is `super::bootstrap`.

use super::actor::Actor;
use super::audit::{self, AuditEvent};
use super::{now, OnUnique, ServiceError};
use crate::state::AppState;
use crate::store;
use crate::store::audit::NewEntry;

pub const ORGANIZATION_TAKEN: &str = "An organization with this name already exists.";

/// Creates an organization; the administrator who creates it joins it.
pub async fn create_organization(state: &AppState, actor: &Actor, name: &str) -> Result<i64, ServiceError> {
    actor.require_admin()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control) {
        return Err(ServiceError::invalid("name", "The organization name must be 1 to 255 characters."));
    }
    let mut tx = state.db.write().await?;
    let id = store::organizations::insert(&mut tx, name, now()).await.on_unique("name", ORGANIZATION_TAKEN)?;
    store::organizations::add_member(&mut tx, id, actor.user_id).await?;
    let detail = format!("organization id {id} \"{name}\"; its creator {} joined it", actor.username);
    audit::record(&mut tx, &NewEntry { detail: &detail, ..audit::by(actor, AuditEvent::OrganizationCreated, now()) })
        .await?;
    tx.commit().await?;
    tracing::info!(organization_id = id, actor = actor.user_id, "organization created");
    Ok(id)
}
