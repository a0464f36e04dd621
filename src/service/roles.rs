//! Roles, as administrators write them in User Management: create, edit and
//! delete, the limits on who may change a role that people of other
//! organizations hold, and how a role reads in the audit log. What a role
//! allows is `crate::permissions`.

use super::actor::Actor;
use super::audit::{self, AuditEvent};
use super::users::LAST_ADMIN;
use super::{now, OnUnique, ServiceError};
use crate::permissions::Level;
use crate::state::AppState;
use crate::store;
use crate::store::audit::NewEntry;

/// A role's permissions as the audit log writes them.
fn role_detail(fields: &store::roles::RoleFields) -> String {
    let level = |v: Level| v.label();
    format!(
        "\"{}\": administrator {}, view {}, create {}, edit {}, delete {}",
        fields.name,
        if fields.administrator { "yes" } else { "no" },
        level(fields.app_view),
        level(fields.app_create),
        level(fields.app_edit),
        level(fields.app_delete)
    )
}

/// Roles are installation-wide: a change to one reaches every person who
/// holds it. An administrator of some organizations may change a role only
/// when every holder is within them; the installation's administrators may
/// change any.
async fn require_role_within_reach(state: &AppState, actor: &Actor, role_id: i64) -> Result<(), ServiceError> {
    if actor.installation_admin {
        return Ok(());
    }
    let reach = store::organizations::of_role_holders(&state.db, role_id).await?;
    if reach.iter().all(|o| actor.organization_ids.contains(o)) {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "name",
            "People of organizations you do not administer hold this role: only an administrator of all of them can change it.",
        ))
    }
}

/// A role as an administrator writes it.
#[derive(Debug, Clone)]
pub struct RoleForm {
    pub name: String,
    pub description: String,
    pub administrator: bool,
    pub view: Level,
    pub create: Level,
    pub edit: Level,
    pub delete: Level,
}

pub const ROLE_TAKEN: &str = "A role with this name already exists.";

fn role_fields(form: &RoleForm) -> Result<store::roles::RoleFields, ServiceError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ServiceError::invalid("name", "The role name must be 1 to 100 characters."));
    }
    if form.description.chars().count() > 500 {
        return Err(ServiceError::invalid("description", "The description must be at most 500 characters."));
    }
    Ok(store::roles::RoleFields {
        name: name.to_owned(),
        description: form.description.trim().to_owned(),
        administrator: form.administrator,
        app_view: form.view,
        app_create: form.create,
        app_edit: form.edit,
        app_delete: form.delete,
    })
}

pub async fn create_role(state: &AppState, actor: &Actor, form: RoleForm) -> Result<i64, ServiceError> {
    actor.require_admin()?;
    let fields = role_fields(&form)?;
    let now = now();
    let mut tx = state.db.write().await?;
    let id = store::roles::insert(&mut tx, &fields, now).await.on_unique("name", ROLE_TAKEN)?;
    let detail = format!("role id {id} {}", role_detail(&fields));
    audit::record(&mut tx, &NewEntry { detail: &detail, ..audit::by(actor, AuditEvent::RoleCreated, now) }).await?;
    tx.commit().await?;
    tracing::info!(role_id = id, actor = actor.user_id, "role created");
    Ok(id)
}

pub async fn update_role(state: &AppState, actor: &Actor, id: i64, form: RoleForm) -> Result<(), ServiceError> {
    actor.require_admin()?;
    let role = store::roles::find(&state.db, id).await?.ok_or(ServiceError::NotFound("The role"))?;
    if role.built_in {
        return Err(ServiceError::invalid("name", "The built-in Administrator role cannot be changed."));
    }
    require_role_within_reach(state, actor, id).await?;
    let fields = role_fields(&form)?;
    let before = store::roles::RoleFields {
        name: role.name.clone(),
        description: role.description.clone(),
        administrator: role.administrator,
        app_view: role.app_view,
        app_create: role.app_create,
        app_edit: role.app_edit,
        app_delete: role.app_delete,
    };
    let mut tx = state.db.write().await?;
    if !store::roles::update(&mut tx, id, &fields, now()).await.on_unique("name", ROLE_TAKEN)? {
        return Err(ServiceError::NotFound("The role"));
    }
    if store::users::count_enabled_admins(&mut tx).await? == 0 {
        return Err(ServiceError::invalid("administrator", LAST_ADMIN));
    }
    let detail = format!("role id {id} {} → {}; {} holder(s)", role_detail(&before), role_detail(&fields), role.users);
    audit::record(&mut tx, &NewEntry { detail: &detail, ..audit::by(actor, AuditEvent::RoleUpdated, now()) }).await?;
    tx.commit().await?;
    tracing::info!(role_id = id, actor = actor.user_id, "role edited");
    Ok(())
}

pub async fn delete_role(state: &AppState, actor: &Actor, id: i64) -> Result<(), ServiceError> {
    actor.require_admin()?;
    let role = store::roles::find(&state.db, id).await?.ok_or(ServiceError::NotFound("The role"))?;
    if role.built_in {
        return Err(ServiceError::invalid("role", "The built-in Administrator role cannot be deleted."));
    }
    if role.users > 0 {
        return Err(ServiceError::invalid(
            "role",
            format!("{} user(s) have this role; give them another role first.", role.users),
        ));
    }
    let mut tx = state.db.write().await?;
    if !store::roles::delete_unused(&mut tx, id).await? {
        return Err(ServiceError::invalid("role", "The role is in use; give its users another role first."));
    }
    let detail = format!("role id {id} \"{}\"", role.name);
    audit::record(&mut tx, &NewEntry { detail: &detail, ..audit::by(actor, AuditEvent::RoleDeleted, now()) }).await?;
    tx.commit().await?;
    tracing::info!(role_id = id, actor = actor.user_id, "role deleted");
    Ok(())
}
