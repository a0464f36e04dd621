//! A Postern instance for one test: its own database and key files.
//! Everything the test modules share is here; they import from `harness`,
//! never from each other: [`browser`] (pages, forms, cookies, signing in),
//! [`rpc`] (the server functions), [`oauth`] (a third-party application in
//! the authorization code flow).
//!
//! The rate limits of a test's instance go by a manual clock
//! ([`postern::clock::Clock::manual`]): no time passes for them until the
//! test calls `app.state.clock.advance(…)`.

pub mod browser;
pub mod oauth;
pub mod rpc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use postern::config::Config;
use postern::keys::KeyStore;
use postern::model::Subject;
use postern::oauth::grant::GrantType;
use postern::service::applications::NewApplicationInput;
use postern::service::users::NewUserInput;
use postern::state::AppState;
use postern::store;
use std::path::PathBuf;
use std::sync::OnceLock;
use tower::ServiceExt;

pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// One key pair for the whole test binary (RSA generation is slow).
fn shared_keys() -> &'static (PathBuf, PathBuf) {
    static KEYS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let paths = postern::config::KeysConfig {
            private_key: dir.join("oauth_private.key"),
            public_key: dir.join("oauth_public.key"),
            retired_dir: None,
            ..Default::default()
        };
        postern::keys::generate(&paths, false, Default::default()).unwrap();
        (paths.private_key, paths.public_key)
    })
}

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub admin_id: i64,
    pub organization_id: i64,
    _dir: tempfile::TempDir,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of a cookie this response sets.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::build(true).await
    }

    pub async fn without_keys() -> Self {
        Self::build(false).await
    }

    /// An app whose configuration `edit` changes first (e.g. SMTP).
    pub async fn with_config(edit: impl FnOnce(&mut Config)) -> Self {
        Self::build_with(true, edit).await
    }

    async fn build(with_keys: bool) -> Self {
        Self::build_with(with_keys, |_| {}).await
    }

    async fn build_with(with_keys: bool, edit: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.database.url = match std::env::var("POSTERN_TEST_POSTGRES") {
            Ok(server) if !server.is_empty() => fresh_postgres_database(&server).await,
            _ => format!("sqlite://{}", dir.path().join("postern.db").display()),
        };
        config.server.public_url = Some("http://postern.test".into());
        if with_keys {
            let (private, public) = shared_keys();
            config.keys.private_key = private.clone();
            config.keys.public_key = public.clone();
        } else {
            config.keys.private_key = dir.path().join("missing_private.key");
            config.keys.public_key = dir.path().join("missing_public.key");
        }
        edit(&mut config);
        let db = store::open(&config.database.url, 4).await.unwrap();
        store::migrate(&db).await.unwrap();
        store::listen::spawn(&db);
        let keys = KeyStore::load(&config.keys);
        let state = AppState::with_clock(db, config, keys, postern::clock::Clock::manual());
        let admin = postern::service::users::create_user(
            &state,
            NewUserInput {
                username: "admin",
                email: "admin@example.com",
                password: ADMIN_PASSWORD,
                role_id: Some(postern::store::roles::ADMINISTRATOR),
                organization: Some("Default"),
            },
        )
        .await
        .unwrap();
        let organization_id = store::organizations::of_user(&state.db, admin.id).await.unwrap()[0].id;
        let router = postern::server::router(state.clone());
        TestApp { state, router, admin_id: admin.id, organization_id, _dir: dir }
    }

    /// Sends `request` and reads the whole answer. An answer that does not
    /// end within 30 s fails the test with the request named (a hang would
    /// otherwise stall the whole suite without saying where).
    pub async fn send(&self, request: Request<Body>) -> Response {
        let what = format!("{} {}", request.method(), request.uri());
        let answer = async {
            let response = self.router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            Response { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
        };
        match tokio::time::timeout(std::time::Duration::from_secs(30), answer).await {
            Ok(response) => response,
            Err(_) => panic!("{what}: no complete answer within 30 s"),
        }
    }

    pub async fn get(&self, uri: &str) -> Response {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    /// A client_credentials application owned by `owner`; returns (client_id, secret).
    pub async fn create_app_for(&self, owner: i64, organization_id: i64, name: &str) -> (String, String) {
        let created = postern::service::applications::create(
            &self.state,
            NewApplicationInput {
                organization_id,
                name: name.into(),
                active: true,
                grant_type: GrantType::ClientCredentials,
                side: postern::model::Side::BackOffice,
                owner: Some(Subject::User(owner)),
                confidential: true,
                skip_consent: false,
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
            },
        )
        .await
        .unwrap();
        (created.client_id, created.client_secret.unwrap().expose().to_owned())
    }

    /// A back-office user with a role, in the organization `organization`
    /// (created if missing); returns their id.
    pub async fn create_user(&self, username: &str, role_id: Option<i64>, organization: &str) -> i64 {
        postern::service::users::create_user(
            &self.state,
            NewUserInput {
                username,
                email: &format!("{username}@example.com"),
                password: ADMIN_PASSWORD,
                role_id,
                organization: Some(organization),
            },
        )
        .await
        .unwrap()
        .id
    }

    pub async fn create_app(&self, name: &str) -> (String, String) {
        self.create_app_for(self.admin_id, self.organization_id, name).await
    }

    /// POSTs a form to the token endpoint.
    pub async fn token_form(&self, body: &str) -> Response {
        self.send(
            Request::post("/oauth2-token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await
    }

    /// A fresh access token for a new application of the admin.
    pub async fn access_token(&self, app_name: &str) -> (String, String) {
        let (id, secret) = self.create_app(app_name).await;
        let response =
            self.token_form(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        (response.json()["access_token"].as_str().unwrap().to_owned(), id)
    }

    pub async fn api(&self, uri: &str, token: &str) -> Response {
        self.send(
            Request::get(uri).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap(),
        )
        .await
    }

    /// Whether this instance runs on PostgreSQL (`POSTERN_TEST_POSTGRES`).
    pub fn on_postgres(&self) -> bool {
        self.state.db.engine() == store::Engine::Postgres
    }

    /// Another instance on this one's database, with its own pool, caches
    /// and change listener (PostgreSQL: several instances behind a load
    /// balancer). It returns once that instance hears the others' changes.
    pub async fn second_instance(&self) -> TestApp {
        let config = (*self.state.config).clone();
        let db = store::open(&config.database.url, 4).await.unwrap();
        store::listen::spawn(&db);
        let keys = KeyStore::load(&config.keys);
        let state = AppState::with_clock(db, config, keys, postern::clock::Clock::manual());
        let router = postern::server::router(state.clone());
        let other = TestApp {
            state,
            router,
            admin_id: self.admin_id,
            organization_id: self.organization_id,
            _dir: tempfile::tempdir().unwrap(),
        };
        other.wait_until_listening().await;
        other
    }

    /// Waits (at most 10 s) until this instance trusts its caches, i.e. it
    /// hears the other instances' changes.
    pub async fn wait_until_listening(&self) {
        let started = std::time::Instant::now();
        while !store::Changes::trusted(self.state.db.changes().generation()) {
            assert!(started.elapsed() < std::time::Duration::from_secs(10), "the change listener never came up");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    pub fn public_key_pem(&self) -> String {
        std::fs::read_to_string(&self.state.config.keys.public_key).unwrap()
    }

    pub fn private_key_pem(&self) -> String {
        std::fs::read_to_string(&self.state.config.keys.private_key).unwrap()
    }
}

/// The claims of a JWT, read without checking anything (for test set-up only).
/// Key files in `dir` (none written yet), for tests that rotate keys as
/// `postern keys` does.
pub fn key_files(dir: &std::path::Path) -> postern::config::KeysConfig {
    postern::config::KeysConfig {
        private_key: dir.join("oauth_private.key"),
        public_key: dir.join("oauth_public.key"),
        retired_dir: None,
        ..Default::default()
    }
}

pub fn claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Verifies `token` as a resource server does, with nothing but the JWKS
/// `jwks`: the key its header's `kid` names, with that key's `alg` (RS256,
/// ES256 or EdDSA, never the token's choice), `issuer` and `audience`. Its
/// claims, or why it does not verify.
pub fn verify_with_jwks(
    jwks: &serde_json::Value,
    token: &str,
    issuer: &str,
    audience: &str,
) -> Result<serde_json::Value, String> {
    let kid = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?.kid.ok_or("the token names no kid")?;
    let keys = jwks["keys"].as_array().ok_or("the JWKS has no keys")?;
    let jwk = keys.iter().find(|k| k["kid"] == kid.as_str()).ok_or_else(|| format!("the JWKS has no key {kid}"))?;
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).map_err(|e| e.to_string())?;
    let alg = match jwk.common.key_algorithm {
        Some(jsonwebtoken::jwk::KeyAlgorithm::RS256) => jsonwebtoken::Algorithm::RS256,
        Some(jsonwebtoken::jwk::KeyAlgorithm::ES256) => jsonwebtoken::Algorithm::ES256,
        Some(jsonwebtoken::jwk::KeyAlgorithm::EdDSA) => jsonwebtoken::Algorithm::EdDSA,
        other => return Err(format!("the key {kid} has the alg {other:?}")),
    };
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    jsonwebtoken::decode(token, &key, &validation).map(|data| data.claims).map_err(|e| e.to_string())
}

/// A new, empty database on the PostgreSQL server `server` (a URL naming
/// its maintenance database, e.g. `postgres://postgres@localhost/postgres`),
/// for one test; the throw-away cluster of the test script goes with them.
pub(crate) async fn fresh_postgres_database(server: &str) -> String {
    use sqlx::Connection;
    let name = format!("postern_test_{:016x}", rand::random::<u64>());
    let mut admin = sqlx::PgConnection::connect(server).await.expect("the test PostgreSQL server answers");
    sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}
