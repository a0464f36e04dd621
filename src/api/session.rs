//! Who is looking at the page, and the CSRF token their forms must carry.

use super::{AppError, SessionUser};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub csrf_token: String,
    pub user: Option<SessionUser>,
}

/// The current viewer; works logged in or not (the login page needs the token).
#[server(prefix = "/admin/rpc", endpoint = "viewer")]
pub async fn get_viewer() -> Result<Viewer, AppError> {
    use super::guard;
    Ok(Viewer { csrf_token: guard::csrf_token().unwrap_or_default(), user: guard::optional_user() })
}
