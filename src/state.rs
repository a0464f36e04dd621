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
    /// Access tokens whose signature was already verified.
    pub verified: Arc<crate::service::access::VerifiedTokens>,
    /// Whose turn it is to write (see [`AppState::begin_write`]).
    writes: Arc<tokio::sync::Mutex<()>>,
    /// Applications the token endpoint authenticates, kept in memory.
    pub clients: Arc<crate::service::clients::Clients>,
    /// Whether API tokens are revoked, their application active …, kept in memory.
    pub token_statuses: Arc<crate::service::access::TokenStatuses>,
    /// Group commit of client_credentials tokens.
    pub token_writer: Arc<crate::service::token_writer::TokenWriter>,
    pub leptos_options: LeptosOptions,
    pub site: Arc<Site>,
    /// SMTP delivery; `None` keeps emails in the outbox only.
    pub mailer: Option<Arc<crate::service::mail::Mailer>>,
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
        let writes = Arc::new(tokio::sync::Mutex::new(()));
        let verified = Arc::default();
        let clients = Arc::default();
        let token_statuses = Arc::default();
        let token_writer = Arc::new(crate::service::token_writer::TokenWriter::new(db.clone(), Arc::clone(&writes)));
        Self {
            db,
            config: Arc::new(config),
            keys: Arc::new(keys),
            limits,
            verified,
            writes,
            clients,
            token_statuses,
            token_writer,
            leptos_options,
            site,
            mailer,
        }
    }
}

/// A write transaction that holds this process's write turn until it ends.
pub struct WriteTx {
    pub tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::Transaction<'static, sqlx::Sqlite>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl AppState {
    /// Begins a write transaction of the token hot path, one at a time.
    /// SQLite has a single writer; a connection that finds the write lock
    /// taken sleeps in its busy handler (1, 2, 5, 10 … ms), which is what
    /// made the token endpoint's p99 hundreds of milliseconds under load.
    /// Waiting for the turn here costs only the other transaction's time.
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let turn = Arc::clone(&self.writes).lock_owned().await;
        Ok(WriteTx { tx: crate::store::begin_write(&self.db).await?, _turn: turn })
    }
}

impl AppState {
    /// Call after committing anything that can make a client or a token
    /// unusable or usable again: a revocation, an application changed,
    /// deactivated or deleted, a person disabled or enabled. What was kept
    /// in memory of clients and tokens is read from the database again.
    pub fn access_changed(&self) {
        self.clients.forget_all();
        self.token_statuses.forget_all();
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
