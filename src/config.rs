//! The server's runtime settings: `Leptos.toml`, overridden by environment
//! variables. This is the one place settings are read; everything else
//! receives a [`Config`].

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where settings are read from when neither `--config` nor `POSTERN_CONFIG` says.
pub const DEFAULT_CONFIG_FILE: &str = "Leptos.toml";

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub keys: KeysConfig,
    pub tokens: TokenConfig,
    pub site: SiteConfig,
    pub smtp: SmtpConfig,
    pub rate_limits: RateLimitConfig,
    pub maintenance: MaintenanceConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on. Env: `LEPTOS_SITE_ADDR`.
    pub site_addr: SocketAddr,
    /// The base URL people and clients use; the storefront issuer, and with
    /// `/admin` the back-office issuer (RFC 8414 §2,
    /// docs/architecture.md#two-sides-two-issuers). Defaults to
    /// `http://<site_addr>`. Env: `POSTERN_PUBLIC_URL`.
    pub public_url: Option<String>,
    /// Origins (`https://app.example.com`) whose browser scripts may call
    /// the token, revocation endpoints (CORS). Env: `POSTERN_CORS_ORIGINS`,
    /// comma-separated.
    pub cors_origins: Vec<String>,
    /// Take the client's address from the last `X-Forwarded-For` entry
    /// (only behind a reverse proxy that sets it). Env: `POSTERN_TRUST_FORWARDED_FOR`.
    pub trust_forwarded_for: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Env: `POSTERN_DATABASE_URL`.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// Env: `POSTERN_PRIVATE_KEY`.
    pub private_key: PathBuf,
    /// Env: `POSTERN_PUBLIC_KEY`.
    pub public_key: PathBuf,
    /// Where `postern keys rotate` keeps the public keys it retired, until
    /// the tokens they signed have expired. Default: `retired_keys/` beside
    /// the private key. Env: `POSTERN_RETIRED_KEYS_DIR`.
    pub retired_dir: Option<PathBuf>,
    /// On PostgreSQL the keys live in the database, their private halves
    /// sealed with a secret: a file holding it (mode 0600), read when
    /// `POSTERN_KEY_SECRET` is not set. Env: `POSTERN_KEY_SECRET_FILE`.
    pub secret_file: Option<PathBuf>,
    /// The secret itself, from `POSTERN_KEY_SECRET` only (never from the
    /// file you might commit).
    #[serde(skip)]
    pub secret: Option<Secret>,
}

/// A secret setting: compared and cloned like a string, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl KeysConfig {
    /// The key-encryption secret: `POSTERN_KEY_SECRET`, else the contents
    /// of `secret_file`; `Ok(None)` when neither is set.
    pub fn secret(&self) -> Result<Option<String>, String> {
        if let Some(secret) = &self.secret {
            return Ok(Some(secret.0.clone()));
        }
        match &self.secret_file {
            Some(path) => std::fs::read_to_string(path)
                .map(Some)
                .map_err(|e| format!("cannot read the key secret file {}: {e}", path.display())),
            None => Ok(None),
        }
    }

    pub fn retired_dir(&self) -> PathBuf {
        self.retired_dir
            .clone()
            .unwrap_or_else(|| self.private_key.parent().unwrap_or_else(|| Path::new("")).join("retired_keys"))
    }
}

/// One rate limit: `burst` requests at once, then `per_minute` a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub burst: u32,
    pub per_minute: u32,
}

/// Rate limits (docs/configuration.md#rate_limits). Refused requests answer
/// 429 with `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Env: `POSTERN_RATE_LIMITS` (`on`/`off`).
    pub enabled: bool,
    /// Token, revocation and introspection requests of one authenticated client.
    pub token_per_client: Limit,
    /// Token, revocation and introspection requests from one IP address.
    pub token_per_ip: Limit,
    /// Failed sign-ins to one account (back office or storefront).
    pub login_per_account: Limit,
    /// Sign-in attempts from one IP address.
    pub login_per_ip: Limit,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            token_per_client: Limit { burst: 100, per_minute: 1200 },
            token_per_ip: Limit { burst: 200, per_minute: 2400 },
            login_per_account: Limit { burst: 10, per_minute: 6 },
            login_per_ip: Limit { burst: 30, per_minute: 60 },
        }
    }
}

/// Periodic housekeeping.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaintenanceConfig {
    /// Seconds between two runs of the cleanup of expired codes, tokens,
    /// sessions and retired keys (`postern cleanup` does one at once).
    /// Env: `POSTERN_CLEANUP_INTERVAL`.
    pub cleanup_interval: u64,
    /// Seconds between two looks at the key files, so that `postern keys
    /// rotate` takes effect without a restart.
    pub key_reload_interval: u64,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        Self { cleanup_interval: 3600, key_reload_interval: 5 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenConfig {
    /// Seconds. Env: `POSTERN_ACCESS_TOKEN_LIFETIME`.
    pub access_token_lifetime: i64,
    /// Seconds. Env: `POSTERN_REFRESH_TOKEN_LIFETIME`.
    pub refresh_token_lifetime: i64,
    /// Seconds. Env: `POSTERN_AUTHORIZATION_CODE_LIFETIME`.
    pub authorization_code_lifetime: i64,
    /// Seconds a back-office login lasts. Env: `POSTERN_SESSION_LIFETIME`.
    pub session_lifetime: i64,
    /// Whether an administrator may let a *public* client skip the consent
    /// page. Off by default: anyone can copy a public client's id, so
    /// skipping consent for it lets any program on the device obtain a
    /// person's authorization silently (RFC 8252 §8.6, RFC 9700 §4.11).
    pub public_clients_may_skip_consent: bool,
}

/// Where the compiled front end is (cargo-leptos output).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    /// Env: `LEPTOS_SITE_ROOT`.
    pub root: String,
    /// Env: `LEPTOS_SITE_PKG_DIR`.
    pub pkg_dir: String,
    /// Env: `LEPTOS_OUTPUT_NAME`.
    pub output_name: String,
}

/// Outgoing email (docs/configuration.md#smtp). Without a host, emails stay
/// in the outbox that
/// administrators read in the back office.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Env: `POSTERN_SMTP_HOST`. Empty: no SMTP.
    pub host: String,
    /// Env: `POSTERN_SMTP_PORT`.
    pub port: u16,
    /// `starttls` (port 587), `tls` (implicit TLS, port 465) or `none`
    /// (plain text; only for a relay on the same machine). Env: `POSTERN_SMTP_TLS`.
    pub tls: SmtpTls,
    /// Env: `POSTERN_SMTP_USERNAME`.
    pub username: String,
    /// Only from the environment, never the file: `POSTERN_SMTP_PASSWORD`.
    #[serde(skip)]
    pub password: String,
    /// The From address. Env: `POSTERN_SMTP_FROM`.
    pub from: String,
    /// Seconds before a delivery attempt gives up.
    pub timeout: u64,
}

/// Prints everything but the password.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "<redacted>" })
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    Starttls,
    Tls,
    None,
}

impl std::str::FromStr for SmtpTls {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "starttls" => Ok(SmtpTls::Starttls),
            "tls" => Ok(SmtpTls::Tls),
            "none" => Ok(SmtpTls::None),
            _ => Err("expected starttls, tls or none".into()),
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: String::new(),
            password: String::new(),
            from: "Postern <postern@localhost>".into(),
            timeout: 30,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: None,
            cors_origins: Vec::new(),
            trust_forwarded_for: false,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: "sqlite://var/postern.db".into(), max_connections: 8 }
    }
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            private_key: "var/oauth_private.key".into(),
            public_key: "var/oauth_public.key".into(),
            retired_dir: None,
            secret_file: None,
            secret: None,
        }
    }
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            access_token_lifetime: 3600,
            refresh_token_lifetime: 30 * 24 * 3600,
            authorization_code_lifetime: 600,
            session_lifetime: 8 * 3600,
            public_clients_may_skip_consent: false,
        }
    }
}

/// The file `cargo leptos build` writes beside the binary with the hashes
/// in the names of the stylesheet, script and WASM it built (its default
/// `hash-file-name`).
pub const HASH_FILE: &str = "hash.txt";

impl Default for SiteConfig {
    fn default() -> Self {
        Self { root: "target/site".into(), pkg_dir: "pkg".into(), output_name: "postern".into() }
    }
}

/// A setting that could not be used, said so a person can fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}={value:?} is not valid: {message}")]
    Env { name: &'static str, value: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Reads `path` (or `Leptos.toml` in the working directory, if present),
    /// then applies environment overrides. A missing default file is fine;
    /// a missing file that was asked for is an error.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let explicit = path.map(Path::to_path_buf).or_else(|| std::env::var_os("POSTERN_CONFIG").map(PathBuf::from));
        let file = explicit.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        let mut config = match std::fs::read_to_string(&file) {
            Ok(text) => Self::parse(&text).map_err(|message| ConfigError::Parse { path: file.clone(), message })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => Config::default(),
            Err(source) => return Err(ConfigError::Read { path: file, source }),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.validate()?;
        Ok(config)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Applies `LEPTOS_*` and `POSTERN_*` overrides read through `var`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parsed<T: std::str::FromStr>(name: &'static str, value: String) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            value.parse().map_err(|e: T::Err| ConfigError::Env { name, value, message: e.to_string() })
        }
        if let Some(v) = var("LEPTOS_SITE_ADDR") {
            self.server.site_addr = parsed("LEPTOS_SITE_ADDR", v)?;
        }
        if let Some(v) = var("POSTERN_PUBLIC_URL") {
            self.server.public_url = Some(v);
        }
        if let Some(v) = var("POSTERN_DATABASE_URL") {
            self.database.url = v;
        }
        if let Some(v) = var("POSTERN_PRIVATE_KEY") {
            self.keys.private_key = v.into();
        }
        if let Some(v) = var("POSTERN_PUBLIC_KEY") {
            self.keys.public_key = v.into();
        }
        if let Some(v) = var("POSTERN_RETIRED_KEYS_DIR") {
            self.keys.retired_dir = Some(v.into());
        }
        if let Some(v) = var("POSTERN_KEY_SECRET") {
            self.keys.secret = Some(Secret(v));
        }
        if let Some(v) = var("POSTERN_KEY_SECRET_FILE") {
            self.keys.secret_file = Some(v.into());
        }
        if let Some(v) = var("POSTERN_CORS_ORIGINS") {
            self.server.cors_origins =
                v.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect();
        }
        if let Some(v) = var("POSTERN_TRUST_FORWARDED_FOR") {
            self.server.trust_forwarded_for = on_off("POSTERN_TRUST_FORWARDED_FOR", v)?;
        }
        if let Some(v) = var("POSTERN_RATE_LIMITS") {
            self.rate_limits.enabled = on_off("POSTERN_RATE_LIMITS", v)?;
        }
        if let Some(v) = var("POSTERN_CLEANUP_INTERVAL") {
            self.maintenance.cleanup_interval = parsed("POSTERN_CLEANUP_INTERVAL", v)?;
        }
        if let Some(v) = var("POSTERN_ACCESS_TOKEN_LIFETIME") {
            self.tokens.access_token_lifetime = parsed("POSTERN_ACCESS_TOKEN_LIFETIME", v)?;
        }
        if let Some(v) = var("POSTERN_REFRESH_TOKEN_LIFETIME") {
            self.tokens.refresh_token_lifetime = parsed("POSTERN_REFRESH_TOKEN_LIFETIME", v)?;
        }
        if let Some(v) = var("POSTERN_AUTHORIZATION_CODE_LIFETIME") {
            self.tokens.authorization_code_lifetime = parsed("POSTERN_AUTHORIZATION_CODE_LIFETIME", v)?;
        }
        if let Some(v) = var("POSTERN_SESSION_LIFETIME") {
            self.tokens.session_lifetime = parsed("POSTERN_SESSION_LIFETIME", v)?;
        }
        if let Some(v) = var("POSTERN_PUBLIC_CLIENTS_MAY_SKIP_CONSENT") {
            self.tokens.public_clients_may_skip_consent = on_off("POSTERN_PUBLIC_CLIENTS_MAY_SKIP_CONSENT", v)?;
        }
        if let Some(v) = var("POSTERN_SMTP_HOST") {
            self.smtp.host = v;
        }
        if let Some(v) = var("POSTERN_SMTP_PORT") {
            self.smtp.port = parsed("POSTERN_SMTP_PORT", v)?;
        }
        if let Some(v) = var("POSTERN_SMTP_TLS") {
            self.smtp.tls = parsed("POSTERN_SMTP_TLS", v)?;
        }
        if let Some(v) = var("POSTERN_SMTP_USERNAME") {
            self.smtp.username = v;
        }
        if let Some(v) = var("POSTERN_SMTP_PASSWORD") {
            self.smtp.password = v;
        }
        if let Some(v) = var("POSTERN_SMTP_FROM") {
            self.smtp.from = v;
        }
        if let Some(v) = var("LEPTOS_SITE_ROOT") {
            self.site.root = v;
        }
        if let Some(v) = var("LEPTOS_SITE_PKG_DIR") {
            self.site.pkg_dir = v;
        }
        if let Some(v) = var("LEPTOS_OUTPUT_NAME") {
            self.site.output_name = v;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let t = &self.tokens;
        for (name, value) in [
            ("tokens.access_token_lifetime", t.access_token_lifetime),
            ("tokens.refresh_token_lifetime", t.refresh_token_lifetime),
            ("tokens.authorization_code_lifetime", t.authorization_code_lifetime),
            ("tokens.session_lifetime", t.session_lifetime),
        ] {
            if !(1..=10 * 365 * 24 * 3600).contains(&value) {
                return Err(ConfigError::Invalid(format!("{name} must be between 1 second and 10 years, not {value}")));
            }
        }
        if let Some(url) = &self.server.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.ends_with('/') {
                return Err(ConfigError::Invalid(format!(
                    "server.public_url must start with http:// or https:// and not end with '/', not {url:?}"
                )));
            }
        }
        if !self.smtp.host.is_empty() && !self.smtp.from.contains('@') {
            return Err(ConfigError::Invalid(format!("smtp.from must be an email address, not {:?}", self.smtp.from)));
        }
        for origin in &self.server.cors_origins {
            if !is_origin(origin) {
                return Err(ConfigError::Invalid(format!(
                    "server.cors_origins: {origin:?} is not an origin like https://app.example.com (scheme, host, optional port; no path)"
                )));
            }
        }
        let limits = &self.rate_limits;
        for (name, limit) in [
            ("token_per_client", limits.token_per_client),
            ("token_per_ip", limits.token_per_ip),
            ("login_per_account", limits.login_per_account),
            ("login_per_ip", limits.login_per_ip),
        ] {
            if limit.burst == 0 || limit.per_minute == 0 {
                return Err(ConfigError::Invalid(format!(
                    "rate_limits.{name} needs burst and per_minute of at least 1 (set rate_limits.enabled = false to turn limits off)"
                )));
            }
        }
        if self.maintenance.cleanup_interval == 0 || self.maintenance.key_reload_interval == 0 {
            return Err(ConfigError::Invalid("maintenance intervals must be at least 1 second".into()));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid("database.max_connections must be at least 1".into()));
        }
        Ok(())
    }

    /// The base URL, without a trailing slash.
    pub fn public_url(&self) -> String {
        self.server.public_url.clone().unwrap_or_else(|| format!("http://{}", self.server.site_addr))
    }

    /// The settings of the back office's rendering. File names carry their
    /// content's hash when the build left its hash file beside the binary
    /// (`hash-files` of cargo-leptos; `server::assets`).
    pub fn leptos_options(&self) -> leptos::config::LeptosOptions {
        let hashed = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(HASH_FILE).is_file()))
            .unwrap_or(false);
        leptos::config::LeptosOptions::builder()
            .output_name(self.site.output_name.as_str())
            .site_root(self.site.root.as_str())
            .site_pkg_dir(self.site.pkg_dir.as_str())
            .site_addr(self.server.site_addr)
            .env(leptos::config::Env::PROD)
            .hash_files(hashed)
            .hash_file(HASH_FILE.into())
            .build()
    }
}

fn on_off(name: &'static str, value: String) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err(ConfigError::Env { name, value, message: "expected on or off".into() }),
    }
}

/// `scheme://host[:port]`, as browsers send it in `Origin`.
fn is_origin(s: &str) -> bool {
    let Ok(url) = url::Url::parse(s) else { return false };
    matches!(url.scheme(), "http" | "https") && url.host_str().is_some() && url.origin().ascii_serialization() == s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn shipped_leptos_toml_parses_and_knows_every_key() {
        let text = include_str!("../Leptos.toml");
        let config = Config::parse(text).expect("Leptos.toml must parse with deny_unknown_fields");
        config.validate().unwrap();
    }

    /// cargo-leptos writes the front end where Cargo.toml says; the server
    /// looks where Leptos.toml says. They must agree, or hydration breaks.
    #[test]
    fn leptos_toml_site_matches_the_cargo_leptos_build_settings() {
        let cargo: toml::Value = toml::from_str(include_str!("../Cargo.toml")).unwrap();
        let build = &cargo["package"]["metadata"]["leptos"];
        let site = Config::parse(include_str!("../Leptos.toml")).unwrap().site;
        assert_eq!(build["output-name"].as_str(), Some(site.output_name.as_str()));
        assert_eq!(build["site-root"].as_str(), Some(site.root.as_str()));
        assert_eq!(build["site-pkg-dir"].as_str(), Some(site.pkg_dir.as_str()));
        let pinned: toml::Value = toml::from_str(include_str!("../.cargo/config.toml")).unwrap();
        assert_eq!(pinned["env"]["LEPTOS_OUTPUT_NAME"].as_str(), Some(site.output_name.as_str()));
        assert_eq!(SiteConfig::default(), site, "the built-in defaults are the shipped file's");
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut config = Config::parse("[keys]\nprivate_key = \"a.key\"\n").unwrap();
        let env: HashMap<&str, &str> = [
            ("POSTERN_PRIVATE_KEY", "/etc/postern/private.pem"),
            ("LEPTOS_SITE_ADDR", "0.0.0.0:8080"),
            ("POSTERN_DATABASE_URL", "sqlite::memory:"),
            ("POSTERN_ACCESS_TOKEN_LIFETIME", "60"),
        ]
        .into();
        config.apply_env(|n| env.get(n).map(|v| v.to_string())).unwrap();
        assert_eq!(config.keys.private_key, PathBuf::from("/etc/postern/private.pem"));
        assert_eq!(config.server.site_addr.to_string(), "0.0.0.0:8080");
        assert_eq!(config.database.url, "sqlite::memory:");
        assert_eq!(config.tokens.access_token_lifetime, 60);
        assert_eq!(config.public_url(), "http://0.0.0.0:8080");
    }

    #[test]
    fn bad_values_say_which_setting() {
        let mut config = Config::default();
        let err = config.apply_env(|n| (n == "POSTERN_ACCESS_TOKEN_LIFETIME").then(|| "soon".to_string())).unwrap_err();
        assert!(err.to_string().contains("POSTERN_ACCESS_TOKEN_LIFETIME"));
        let err = Config::parse("[tokens]\naccess_token_lifetme = 5\n").unwrap_err();
        assert!(err.contains("access_token_lifetme"), "{err}");
        let config = Config::parse("[tokens]\naccess_token_lifetime = 0\n").unwrap();
        assert!(config.validate().unwrap_err().to_string().contains("access_token_lifetime"));
        let config = Config::parse("[server]\ncors_origins = [\"https://app.example.com/cb\"]\n").unwrap();
        assert!(config.validate().unwrap_err().to_string().contains("https://app.example.com/cb"));
        let config = Config::parse("[rate_limits]\nlogin_per_ip = { burst = 0, per_minute = 5 }\n").unwrap();
        assert!(config.validate().unwrap_err().to_string().contains("login_per_ip"));
        let err = Config::default().apply_env(|n| (n == "POSTERN_RATE_LIMITS").then(|| "maybe".into())).unwrap_err();
        assert!(err.to_string().contains("POSTERN_RATE_LIMITS"), "{err}");
    }

    #[test]
    fn cors_origins_and_limits_from_file_and_environment() {
        let mut config = Config::parse(
            "[server]\ncors_origins = [\"https://spa.example.com\", \"http://localhost:5173\"]\n\
             [rate_limits]\ntoken_per_ip = { burst = 5, per_minute = 30 }\n",
        )
        .unwrap();
        config.validate().unwrap();
        assert_eq!(config.server.cors_origins, ["https://spa.example.com", "http://localhost:5173"]);
        assert_eq!(config.rate_limits.token_per_ip, Limit { burst: 5, per_minute: 30 });
        assert_eq!(config.rate_limits.login_per_ip, RateLimitConfig::default().login_per_ip);
        let env: HashMap<&str, &str> =
            [("POSTERN_CORS_ORIGINS", "https://a.example, https://b.example"), ("POSTERN_RATE_LIMITS", "off")].into();
        config.apply_env(|n| env.get(n).map(|v| v.to_string())).unwrap();
        assert_eq!(config.server.cors_origins, ["https://a.example", "https://b.example"]);
        assert!(!config.rate_limits.enabled);
        assert_eq!(config.keys.retired_dir(), PathBuf::from("var/retired_keys"));
    }
}
