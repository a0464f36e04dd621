//! What every request handler and server function shares.

use crate::config::Config;
use crate::keys::KeyStore;
use crate::model::Side;
use crate::store::Db;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Cloned for every request (axum's `State`, each middleware): one shared
/// allocation, so a clone is one reference count, not one per part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The parts of [`AppState`], reached through it (`state.db`, `state.keys`, …).
pub struct Shared {
    pub db: Db,
    pub config: Arc<Config>,
    pub keys: Arc<KeyStore>,
    pub limits: Arc<crate::limits::RateLimits>,
    /// The time the rate limits go by (a manual one in tests).
    pub clock: crate::clock::Clock,
    /// Applications, verified tokens and token statuses kept in memory; they
    /// follow the database's change signal by themselves.
    pub caches: Arc<crate::cache::Caches>,
    /// Group commit of client_credentials tokens.
    pub token_writer: Arc<crate::store::token_writer::TokenWriter>,
    pub leptos_options: LeptosOptions,
    pub site: Arc<Site>,
    /// SMTP delivery; `None` keeps emails in the outbox only.
    pub mailer: Option<Arc<crate::mailer::Mailer>>,
}

/// Issuers and audiences, computed once from the public URL (RFC 9068 §2.2,
/// docs/architecture.md#two-sides-two-issuers).
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

    pub fn issuer(&self, kind: Side) -> &str {
        match kind {
            Side::BackOffice => &self.backoffice_issuer,
            Side::Storefront => &self.storefront_issuer,
        }
    }

    pub fn audience(&self, kind: Side) -> &str {
        match kind {
            Side::BackOffice => &self.backoffice_audience,
            Side::Storefront => &self.storefront_audience,
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, config: Config, keys: KeyStore) -> Self {
        Self::with_clock(db, config, keys, crate::clock::Clock::system())
    }

    /// [`AppState::new`] with the rate limits going by `clock` (a manual one in tests).
    pub fn with_clock(db: Db, config: Config, keys: KeyStore, clock: crate::clock::Clock) -> Self {
        let leptos_options = config.leptos_options();
        let site = Arc::new(Site::new(&config));
        let mailer = match crate::mailer::Mailer::from_config(&config.smtp) {
            Ok(mailer) => mailer.map(Arc::new),
            Err(problem) => {
                tracing::error!(%problem, "SMTP is not usable; emails stay in the outbox");
                None
            }
        };
        let limits = Arc::new(crate::limits::RateLimits::new(&config.rate_limits, db.postgres().cloned()));
        let caches = Arc::new(crate::cache::Caches::new(db.changes()));
        let token_writer = Arc::new(crate::store::token_writer::TokenWriter::new(db.clone()));
        Self(Arc::new(Shared {
            db,
            config: Arc::new(config),
            keys: Arc::new(keys),
            limits,
            clock,
            caches,
            token_writer,
            leptos_options,
            site,
            mailer,
        }))
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
