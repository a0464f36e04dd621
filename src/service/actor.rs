//! The back-office user a request acts for: who, what their role allows,
//! and which organizations they work in.

use super::ServiceError;
use crate::permissions::Permissions;
use crate::state::AppState;
use crate::store::{self, users::User};

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub permissions: Permissions,
    pub organization_ids: Vec<i64>,
}

impl Actor {
    pub async fn load(state: &AppState, user: &User) -> Result<Actor, ServiceError> {
        let organization_ids = store::organizations::of_user(&state.db, user.id).await?.into_iter().map(|o| o.id).collect();
        Ok(Actor { user_id: user.id, permissions: user.permissions(), organization_ids })
    }

    /// Administrators only; others are refused (403).
    pub fn require_admin(&self) -> Result<(), ServiceError> {
        if self.permissions.administrator {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }
}
