//! The dashboard's figures and the signing-key status
//! (docs/architecture.md#signing-keys).

use super::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The state of the signing keys as the back office shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysView {
    /// The `kid` of the active signing key, if any.
    pub active_kid: Option<String>,
    /// Its algorithm (RS256, ES256 or EdDSA).
    pub active_alg: Option<String>,
    /// `keys::MISSING_KEYS_WARNING`, word for word, when there is no usable key.
    pub missing_warning: Option<String>,
    /// Why the keys could not be loaded; only administrators see it.
    pub detail: Option<String>,
    /// A warning when the private key can be read by other users.
    pub exposed_warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub organizations: Vec<String>,
    pub keys: KeysView,
    pub applications: i64,
    pub active_applications: i64,
    pub live_tokens: i64,
    pub token_endpoint: String,
    pub backoffice_issuer: String,
}

#[server(prefix = "/admin/rpc", endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    use super::guard;
    use crate::store;
    let user = guard::user()?;
    let state = guard::state()?;
    let organizations = store::organizations::of_user(&state.db, user.id).await?.into_iter().map(|o| o.name).collect();
    let (applications, active_applications) = store::applications::count(&state.db, user.id).await?;
    let live_tokens = store::tokens::count_live(&state.db, crate::service::now()).await?;
    let keys = keys_view(&state, user.is_admin);
    let base = &state.site.public_url;
    Ok(Dashboard {
        organizations,
        keys,
        applications,
        active_applications,
        live_tokens,
        token_endpoint: format!("{base}/oauth2-token"),
        backoffice_issuer: state.site.backoffice_issuer.clone(),
    })
}

/// The keys' state for a page; `admin` adds why they could not be loaded.
#[cfg(feature = "ssr")]
pub(crate) fn keys_view(state: &crate::state::AppState, admin: bool) -> KeysView {
    let health = state.keys.health();
    KeysView {
        active_alg: health.active_alg.map(str::to_owned),
        missing_warning: health.active_kid.is_none().then(|| crate::keys::MISSING_KEYS_WARNING.to_owned()),
        detail: if admin { health.problem.clone() } else { None },
        exposed_warning: health.private_key_exposed.then(|| {
            format!(
                "The private key {} can be read by other users of this machine. Restrict it: chmod 600 {}",
                state.config.keys.private_key.display(),
                state.config.keys.private_key.display()
            )
        }),
        active_kid: health.active_kid,
    }
}
