//! The back-office user a request acts for: who, what their role allows,
//! and which organizations they work in.

use super::ServiceError;
use crate::permissions::Permissions;
use crate::state::AppState;
use crate::store::{self, users::User};

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    /// The address the request came from, for the audit log.
    pub ip: Option<String>,
    pub permissions: Permissions,
    pub organization_ids: Vec<i64>,
    /// True for holders of the built-in Administrator role: the
    /// installation's administrators. Only they reach installation-wide
    /// objects (email configuration, the outbox, the audit log), roles held
    /// outside their organizations, and the accounts of people who also
    /// belong to organizations they are not in. Other roles with the
    /// administrator flag administer their own organizations only.
    pub installation_admin: bool,
}

impl Actor {
    pub async fn load(state: &AppState, user: &User, ip: Option<String>) -> Result<Actor, ServiceError> {
        let organization_ids: Vec<i64> =
            store::organizations::of_user(&state.db, user.id).await?.into_iter().map(|o| o.id).collect();
        let installation_admin = user.is_admin && user.role_id == Some(store::roles::ADMINISTRATOR);
        Ok(Actor {
            installation_admin,
            user_id: user.id,
            username: user.username.clone(),
            ip,
            permissions: user.permissions(),
            organization_ids,
        })
    }

    /// The organization a new record goes to: the one asked for if it is
    /// one of the actor's (another's id gets the same answer as a missing
    /// one), or the actor's only organization when none was asked for.
    pub fn organization_for(&self, requested: Option<i64>) -> Result<i64, ServiceError> {
        match (requested, self.organization_ids.as_slice()) {
            (None, [only]) => Ok(*only),
            (None, _) => Err(ServiceError::invalid("organization_id", "Choose an organization.")),
            (Some(id), orgs) if orgs.contains(&id) => Ok(id),
            (Some(_), _) => Err(ServiceError::invalid("organization_id", "Choose one of your organizations.")),
        }
    }

    /// The installation's administrators only: installation-wide objects
    /// (email configuration and outbox, the audit log) reach into every
    /// organization, so an administrator of some organizations may neither
    /// change nor read them (403).
    pub fn require_installation_admin(&self) -> Result<(), ServiceError> {
        self.require_admin()?;
        if self.installation_admin {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// Whether `user`'s authority does not exceed the actor's: no role can
    /// lend itself more authority than it has, so an actor may not make an
    /// application act as such a person (owner, new secret).
    pub fn outranks_or_equals(&self, user: &Permissions) -> bool {
        if self.permissions.administrator {
            return true;
        }
        !user.administrator
            && user.view <= self.permissions.view
            && user.create <= self.permissions.create
            && user.edit <= self.permissions.edit
            && user.delete <= self.permissions.delete
    }

    /// Administrators only; others are refused (403).
    pub fn require_admin(&self) -> Result<(), ServiceError> {
        if self.permissions.administrator {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// The applications grid of `scope` (My User, System, Storefront) may be
    /// opened by this actor; others are refused (403).
    pub fn require_grid(&self, scope: crate::permissions::GridScope) -> Result<(), ServiceError> {
        if self.permissions.can_open(scope) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }
}
