//! What every request handler and server function shares.

use crate::config::Config;
use crate::keys::KeyStore;
use crate::oauth::scope::ClientKind;
use crate::store::Db;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub keys: Arc<KeyStore>,
    pub limits: Arc<crate::limits::RateLimits>,
    pub leptos_options: LeptosOptions,
    pub site: Arc<Site>,
    /// SMTP delivery; `None` keeps emails in the outbox only.
    pub mailer: Option<Arc<crate::service::mail::Mailer>>,
}

/// Issuers and audiences, computed once from the public URL (SPEC §4, §7).
#[derive(Debug, Clone)]
pub struct Site {
    pub backoffice_issuer: String,
    pub storefront_issuer: String,
    pub backoffice_audience: String,
    pub storefront_audience: String,
    /// The base URL, without a trailing slash.
    pub public_url: String,
    /// True when the public URL is https: cookies get `Secure`.
    pub secure_cookies: bool,
}

impl Site {
    pub fn new(config: &Config) -> Self {
        let base = config.public_url();
        Self {
            backoffice_issuer: format!("{base}/admin"),
            storefront_issuer: base.clone(),
            backoffice_audience: format!("{base}/api"),
            storefront_audience: format!("{base}/storefront/api"),
            secure_cookies: base.starts_with("https://"),
            public_url: base,
        }
    }

    pub fn issuer(&self, kind: ClientKind) -> &str {
        match kind {
            ClientKind::BackOffice => &self.backoffice_issuer,
            ClientKind::Storefront => &self.storefront_issuer,
        }
    }

    pub fn audience(&self, kind: ClientKind) -> &str {
        match kind {
            ClientKind::BackOffice => &self.backoffice_audience,
            ClientKind::Storefront => &self.storefront_audience,
        }
    }
}

impl AppState {
    pub fn new(db: Db, config: Config, keys: KeyStore) -> Self {
        let leptos_options = config.leptos_options();
        let site = Arc::new(Site::new(&config));
        let mailer = match crate::service::mail::Mailer::from_config(&config.smtp) {
            Ok(mailer) => mailer.map(Arc::new),
            Err(problem) => {
                tracing::error!(%problem, "SMTP is not usable; emails stay in the outbox");
                None
            }
        };
        let limits = Arc::new(crate::limits::RateLimits::new(&config.rate_limits));
        Self { db, config: Arc::new(config), keys: Arc::new(keys), limits, leptos_options, site, mailer }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
