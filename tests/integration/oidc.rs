//! OpenID Connect as a relying party meets it (docs/openid-connect.md),
//! with a strict OpenID Connect library — the `openidconnect` crate, its
//! default ID token verifier — as the application: discovery from the
//! issuer alone, the code flow with PKCE and a nonce, the ID token
//! (signature against the discovered JWKS, iss, aud, azp, exp, nonce,
//! at_hash), UserInfo, refresh and RP-initiated logout. Once end to end
//! against the release binary over TCP, for both issuers; then case by
//! case in process: `prompt`, `max_age`, `login_hint`, `id_token_hint`,
//! the `claims` request, request objects, nonces, a replayed code,
//! UserInfo's refusals, client credentials, the discovery documents and
//! the logout confirmation page.

use crate::crash::{self, Server};
use crate::harness::browser::csrf_field;
use crate::harness::oauth::{backoffice_app, create_app, query_param, AppSpec, CALLBACK};
use crate::harness::{TestApp, ADMIN_PASSWORD};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdTokenClaims,
    CoreResponseType, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessToken, AuthorizationCode, AuthorizationRequest, ClientId, ClientSecret, CsrfToken, EndSessionUrl,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LoginHint, LogoutRequest, Nonce, NonceVerifier,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardErrorResponse, SubjectIdentifier, TokenResponse,
    UserInfoError,
};
use postern::model::{Side, Subject};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

const BACK_OFFICE_ISSUER: &str = "http://postern.test/admin";
const STOREFRONT_ISSUER: &str = "http://postern.test";
/// Where the applications send the browser after RP-initiated logout.
const SIGNED_OUT: &str = "https://app.example.com/signed-out";
const CUSTOMER_PASSWORD: &str = "customer password 1";
const ADMIN: (&str, &str) = ("admin", ADMIN_PASSWORD);

// ---------------------------------------------------------------------------
// Transport: the router in process, or a release server over TCP.

type HttpFuture = Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, std::io::Error>> + Send>>;
/// The relying party's HTTP client, as `openidconnect` takes one.
type Http = Box<dyn Fn(openidconnect::HttpRequest) -> HttpFuture + Send + Sync>;

/// Where the browser and the relying party send their requests.
#[derive(Clone, Copy)]
enum Via<'a> {
    Router(&'a TestApp),
    Tcp(SocketAddr),
}

/// An answer as the browser reads it.
struct Page {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.location.as_deref().unwrap_or_else(|| panic!("expected a redirect, got {}: {}", self.status, self.body))
    }
}

impl Via<'_> {
    async fn send(self, method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Page {
        let path = local(target);
        match self {
            Via::Router(app) => {
                let mut request = axum::http::Request::builder().method(method).uri(&path);
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
                let answer = app.send(request.body(axum::body::Body::from(body.to_owned())).unwrap()).await;
                let set_cookies = answer
                    .headers
                    .get_all(axum::http::header::SET_COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .map(str::to_owned)
                    .collect();
                Page {
                    status: answer.status.as_u16(),
                    location: answer.header("location").map(str::to_owned),
                    set_cookies,
                    body: answer.body,
                }
            }
            Via::Tcp(addr) => {
                let answer = crash::http(addr, method, &path, headers, body)
                    .await
                    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
                let set_cookies = answer
                    .headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
                    .map(|(_, v)| v.clone())
                    .collect();
                Page {
                    status: answer.status,
                    location: answer.header("location").map(str::to_owned),
                    set_cookies,
                    body: answer.body,
                }
            }
        }
    }

    /// The relying party's HTTP client on this transport.
    fn http(self) -> Http {
        match self {
            Via::Router(app) => Box::new(crate::harness::oauth::http(app)),
            Via::Tcp(addr) => Box::new(move |request| -> HttpFuture { Box::pin(tcp(addr, request)) }),
        }
    }
}

/// One request of the relying party over TCP, to the server at `addr` only.
async fn tcp(
    addr: SocketAddr,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, std::io::Error> {
    use openidconnect::http::header::{CONTENT_LENGTH, HOST};
    let (parts, body) = request.into_parts();
    if parts.uri.authority().map(|a| a.as_str()) != Some(addr.to_string().as_str()) {
        return Err(std::io::Error::other(format!("{} is not the server under test ({addr})", parts.uri)));
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(name, _)| *name != CONTENT_LENGTH && *name != HOST)
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
        .collect();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let answer = crash::http(addr, parts.method.as_str(), path, &headers, &body).await?;
    let mut response = openidconnect::http::Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        // crash::http took the body out of its chunks.
        if !name.eq_ignore_ascii_case("transfer-encoding") && !name.eq_ignore_ascii_case("content-length") {
            response = response.header(name, value);
        }
    }
    response.body(answer.body.into_bytes()).map_err(std::io::Error::other)
}

/// The path and query of `target`, an absolute URL or already a path.
fn local(target: &str) -> String {
    match url::Url::parse(target) {
        Ok(url) => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        },
        Err(_) => target.to_owned(),
    }
}

/// The names and values of a page's hidden form fields, as a browser
/// posts them (HTML character references decoded).
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let attribute = |tag: &str, name: &str| {
        let value = tag.split(&format!(" {name}=\"")).nth(1)?.split('"').next()?;
        Some(unescape(value))
    };
    html.split("<input ")
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .map(|tag| format!(" {tag}"))
        .filter(|tag| tag.contains(" type=\"hidden\""))
        .filter_map(|tag| Some((attribute(&tag, "name")?, attribute(&tag, "value").unwrap_or_default())))
        .collect()
}

/// `text` with its HTML character references (`&amp;`, `&#39;`, `&#x27;`…) decoded.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|end| *end <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let decoded = match &rest[1..end] {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            entity => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `target` (a path of the in-process server) as an absolute URL.
fn absolute(target: &str) -> String {
    if target.starts_with('/') {
        format!("http://postern.test{target}")
    } else {
        target.to_owned()
    }
}

// ---------------------------------------------------------------------------
// The browser: cookies, the login and consent pages.

/// A browser without JavaScript that keeps the cookies it is given.
struct Browser<'a> {
    via: Via<'a>,
    jar: BTreeMap<String, String>,
}

/// Where an authorization request leaves the browser.
enum Stop {
    /// Back at the application: its redirect URI with the answer.
    Back(String),
    /// The login page, at this address.
    Login(String),
    /// The consent page: its HTML and its hidden fields.
    Consent(String, Vec<(String, String)>),
}

impl<'a> Browser<'a> {
    fn new(via: Via<'a>) -> Self {
        Browser { via, jar: BTreeMap::new() }
    }

    /// The Cookie header this browser sends.
    fn cookies(&self) -> String {
        self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(String::as_str)
    }

    fn keep(&mut self, page: &Page) {
        for set in &page.set_cookies {
            let Some((name, value)) = set.split(';').next().and_then(|c| c.split_once('=')) else { continue };
            if value.is_empty() || set.contains("Max-Age=0") {
                self.jar.remove(name.trim());
            } else {
                self.jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    async fn get(&mut self, target: &str) -> Page {
        let cookies = self.cookies();
        let headers: &[(&str, &str)] = if cookies.is_empty() { &[] } else { &[("Cookie", &cookies)] };
        let page = self.via.send("GET", target, headers, "").await;
        self.keep(&page);
        page
    }

    async fn post(&mut self, target: &str, form: &[(String, String)]) -> Page {
        let body = serde_urlencoded::to_string(form).unwrap();
        let cookies = self.cookies();
        let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookies.as_str())];
        let page = self.via.send("POST", target, &headers, &body).await;
        self.keep(&page);
        page
    }

    /// Opens an authorization URL; a consent page is opened too.
    async fn authorize(&mut self, url: &str) -> Stop {
        let answer = self.get(url).await;
        assert_eq!(answer.status, 303, "{url}: {}", answer.body);
        let location = answer.location().to_owned();
        if location.starts_with(CALLBACK) {
            return Stop::Back(location);
        }
        if location.contains("/oauth2-token/consent?") {
            let page = self.get(&location).await;
            assert_eq!(page.status, 200, "{}", page.body);
            let fields = hidden_fields(&page.body);
            return Stop::Consent(page.body, fields);
        }
        assert!(location.starts_with("/admin/login?") || location.starts_with("/login?"), "{location}");
        Stop::Login(location)
    }

    /// The login page at `login`; it must show its form.
    async fn login_page(&mut self, login: &str) -> Page {
        let page = self.get(login).await;
        assert_eq!(page.status, 200, "the login page {login} shows its form: {:?} {}", page.location, page.body);
        page
    }

    /// Signs in on the login page at `login` (`/admin/login` or `/login`,
    /// with the query an authorization request gave it); returns where the
    /// sign-in sends the browser.
    async fn sign_in(&mut self, login: &str, (username, password): (&str, &str)) -> String {
        let page = self.login_page(login).await;
        let hidden = hidden_fields(&page.body);
        let mut form = vec![
            ("username".to_owned(), username.to_owned()),
            ("password".to_owned(), password.to_owned()),
            ("csrf_token".to_owned(), csrf_field(&page.body)),
        ];
        form.extend(hidden.into_iter().filter(|(k, _)| k == "redirect" || k == "prompt"));
        let action = login.split('?').next().unwrap();
        let answer = self.post(action, &form).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        let next = answer.location().to_owned();
        assert!(!next.contains("error="), "signing in as {username} failed: {next}");
        next
    }

    /// Grants the consent page's request; returns the redirect back.
    async fn grant(&mut self, side: Side, fields: &[(String, String)]) -> String {
        let mut form = fields.to_vec();
        form.push(("decision".into(), "grant".into()));
        let answer = self.post(authorize_path(side), &form).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        answer.location().to_owned()
    }

    /// Follows an authorization request to the application: signs in as
    /// `person` and grants consent when asked.
    async fn through(&mut self, side: Side, url: &str, person: (&str, &str)) -> String {
        let mut stop = self.authorize(url).await;
        for _ in 0..3 {
            stop = match stop {
                Stop::Back(back) => return back,
                Stop::Login(login) => {
                    let next = self.sign_in(&login, person).await;
                    self.authorize(&next).await
                }
                Stop::Consent(_, fields) => Stop::Back(self.grant(side, &fields).await),
            };
        }
        panic!("{url}: still no answer after signing in and consenting");
    }
}

fn authorize_path(side: Side) -> &'static str {
    match side {
        Side::BackOffice => "/admin/oauth2-token/authorize",
        Side::Storefront => "/oauth2-token/authorize",
    }
}

fn session_cookie(side: Side) -> &'static str {
    match side {
        Side::BackOffice => "postern_session",
        Side::Storefront => "postern_customer_session",
    }
}

/// The code of a successful authorization response, after checking its
/// `state` and `iss` (RFC 9207).
fn code(back: &str, state: &CsrfToken, issuer: &str) -> String {
    assert!(back.starts_with(CALLBACK), "{back}");
    assert_eq!(query_param(back, "error"), None, "{back}");
    assert_eq!(query_param(back, "state").as_deref(), Some(state.secret().as_str()), "{back}");
    assert_eq!(query_param(back, "iss").as_deref(), Some(issuer), "{back}");
    query_param(back, "code").unwrap_or_else(|| panic!("no code in {back}"))
}

/// Checks an error response: `error`, `state`, `iss`, and no code.
fn assert_error(back: &str, error: &str, state: &CsrfToken, issuer: &str) {
    assert!(back.starts_with(CALLBACK), "{back}");
    assert_eq!(query_param(back, "error").as_deref(), Some(error), "{back}");
    assert_eq!(query_param(back, "state").as_deref(), Some(state.secret().as_str()), "{back}");
    assert_eq!(query_param(back, "iss").as_deref(), Some(issuer), "{back}");
    assert_eq!(query_param(back, "code"), None, "{back}");
}

// ---------------------------------------------------------------------------
// The relying party.

type OidcClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;
type TokenError = RequestTokenError<std::io::Error, StandardErrorResponse<CoreErrorResponseType>>;
type Request<'a> = AuthorizationRequest<'a, CoreAuthDisplay, CoreAuthPrompt, CoreResponseType>;

/// An application configured from its issuer alone (OpenID Connect
/// Discovery 1.0 and RP-Initiated Logout 1.0's `end_session_endpoint`).
struct Rp {
    client: OidcClient,
    http: Http,
    side: Side,
    issuer: String,
    client_id: String,
    end_session: EndSessionUrl,
}

impl Rp {
    async fn discover(via: Via<'_>, side: Side, issuer: &str, client_id: &str, secret: Option<&str>) -> Rp {
        let http = via.http();
        // CoreProviderMetadata with the logout member.
        let metadata = ProviderMetadataWithLogout::discover_async(IssuerUrl::new(issuer.into()).unwrap(), &http)
            .await
            .unwrap_or_else(|e| panic!("discovery of {issuer}: {e:?}"));
        let end_session = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()
            .unwrap_or_else(|| panic!("{issuer} names no end_session_endpoint"));
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client_id.into()),
            secret.map(|s| ClientSecret::new(s.into())),
        )
        .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
        Rp { client, http, side, issuer: issuer.to_owned(), client_id: client_id.to_owned(), end_session }
    }

    /// An authentication request (code, `openid`, a random state and
    /// nonce, PKCE S256) that asks for `scopes` too.
    fn request(&self, scopes: &[&str]) -> (Request<'_>, PkceCodeVerifier) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let request = self
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge)
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())));
        (request, verifier)
    }

    async fn redeem(&self, code: String, verifier: PkceCodeVerifier) -> Result<CoreTokenResponse, TokenError> {
        let exchange =
            self.client.exchange_code(AuthorizationCode::new(code)).expect("discovery named a token endpoint");
        exchange.set_pkce_verifier(verifier).request_async(&self.http).await
    }

    async fn refresh(&self, refresh_token: &RefreshToken) -> Result<CoreTokenResponse, TokenError> {
        let exchange = self.client.exchange_refresh_token(refresh_token).expect("discovery named a token endpoint");
        exchange.request_async(&self.http).await
    }

    /// The claims of `token`'s ID token as the library validates them
    /// (signature against the discovered JWKS, iss, aud, azp, exp, the
    /// nonce by `nonce`), after checking its `at_hash` against the access
    /// token beside it (Core §3.1.3.6).
    fn verify(&self, token: &CoreTokenResponse, nonce: impl NonceVerifier) -> CoreIdTokenClaims {
        let id_token = token.id_token().expect("a token response to an openid request carries an ID token");
        let verifier = self.client.id_token_verifier();
        let claims = id_token.claims(&verifier, nonce).unwrap_or_else(|e| panic!("the ID token does not verify: {e}"));
        let expected = claims.access_token_hash().expect("the ID token has at_hash");
        let actual = openidconnect::AccessTokenHash::from_token(
            token.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(&actual, expected, "at_hash is the access token's");
        claims.clone()
    }

    async fn userinfo(
        &self,
        access: &AccessToken,
        sub: Option<SubjectIdentifier>,
    ) -> Result<CoreUserInfoClaims, UserInfoError<std::io::Error>> {
        let request = self.client.user_info(access.clone(), sub).expect("discovery named a userinfo endpoint");
        request.request_async(&self.http).await
    }
}

/// The OAuth error code of a refused token request.
fn token_error<T: std::fmt::Debug>(result: Result<T, TokenError>) -> CoreErrorResponseType {
    match result {
        Err(RequestTokenError::ServerResponse(e)) => e.error().clone(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

/// The ID token must carry no nonce (none was sent; a refresh).
fn no_nonce(nonce: Option<&Nonce>) -> Result<(), String> {
    match nonce {
        None => Ok(()),
        Some(n) => Err(format!("a nonce nobody sent: {}", n.secret())),
    }
}

/// A whole authentication: the request (asking for `scopes`), the browser
/// through sign-in and consent as `person`, the code redeemed, the ID token
/// validated with the request's nonce.
async fn authenticate(
    browser: &mut Browser<'_>,
    rp: &Rp,
    scopes: &[&str],
    person: (&str, &str),
) -> (CoreTokenResponse, CoreIdTokenClaims) {
    let (request, verifier) = rp.request(scopes);
    let (url, state, nonce) = request.url();
    let back = browser.through(rp.side, url.as_str(), person).await;
    let token = rp.redeem(code(&back, &state, &rp.issuer), verifier).await.unwrap_or_else(|e| panic!("{e:?}"));
    let claims = rp.verify(&token, &nonce);
    (token, claims)
}

fn auth_time(claims: &CoreIdTokenClaims) -> i64 {
    claims.auth_time().expect("the ID token has auth_time").timestamp()
}

fn now() -> i64 {
    postern::service::now()
}

// ---------------------------------------------------------------------------
// In-process set-up.

async fn back_office_rp(app: &TestApp) -> Rp {
    let registered = backoffice_app(app, "Reporting tool").await;
    Rp::discover(
        Via::Router(app),
        Side::BackOffice,
        BACK_OFFICE_ISSUER,
        &registered.client_id,
        registered.secret.as_deref(),
    )
    .await
}

/// A public storefront application of the customer `owner`.
async fn storefront_rp(app: &TestApp, owner: i64) -> Rp {
    let registered = create_app(
        app,
        AppSpec {
            name: "Shop companion",
            side: Side::Storefront,
            owner: Subject::Customer(owner),
            confidential: false,
            skip_consent: false,
            redirect_uris: vec![CALLBACK.into()],
        },
    )
    .await;
    Rp::discover(Via::Router(app), Side::Storefront, STOREFRONT_ISSUER, &registered.client_id, None).await
}

async fn customer(app: &TestApp, username: &str) -> i64 {
    postern::service::customers::create_from_cli(
        &app.state,
        None,
        username,
        &format!("{username}@example.com"),
        CUSTOMER_PASSWORD,
    )
    .await
    .unwrap()
    .id
}

fn sessions_table(side: Side) -> &'static str {
    match side {
        Side::BackOffice => "sessions",
        Side::Storefront => "customer_sessions",
    }
}

/// Moves the start of every session of `side` `seconds` into the past, as
/// if the person had signed in that long ago.
async fn backdate_sessions(app: &TestApp, side: Side, seconds: i64) {
    let sql = format!("UPDATE {} SET created_at = created_at - $1", sessions_table(side));
    let moved = sql!(app.state.db, |c| sqlx::query(&sql).bind(seconds).execute(&mut *c).await?.rows_affected());
    assert!(moved > 0, "a session to backdate");
}

async fn sessions(app: &TestApp, side: Side) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {}", sessions_table(side));
    sql!(app.state.db, |c| sqlx::query_scalar(&sql).fetch_one(&mut *c).await?)
}

/// Registers `uri` as a post-logout redirect URI of the application
/// `client_id`.
async fn register_post_logout(app: &TestApp, client_id: &str, uri: &str) {
    // As the back office's edit dialog does: the application's fields, with the URI added.
    let application = postern::store::applications::find_authorizing(&app.state.db, client_id).await.unwrap().unwrap();
    let admin = postern::store::users::find(&app.state.db, app.admin_id).await.unwrap().unwrap();
    let actor = postern::service::actor::Actor::load(&app.state, &admin, None).await.unwrap();
    let redirect_uris = postern::store::applications::redirect_uris(&app.state.db, application.id).await.unwrap();
    let mut logout =
        postern::store::applications::post_logout_redirect_uris(&app.state.db, application.id).await.unwrap();
    logout.push(uri.to_owned());
    let edit = postern::service::applications::ApplicationEdit {
        name: &application.name,
        active: application.active,
        redirect_uris: &redirect_uris.join("\n"),
        post_logout_redirect_uris: &logout.join("\n"),
        skip_consent: application.skip_consent,
    };
    postern::service::applications::update(&app.state, &actor, application.id, edit).await.unwrap();
}

/// The path and the decoded query parameters of `target`, sorted.
fn request_of(target: &str) -> (String, Vec<(String, String)>) {
    let url = url::Url::parse(&absolute(target)).unwrap();
    let mut pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    pairs.sort();
    (url.path().to_owned(), pairs)
}

/// `uri` without its query parameter `name`.
fn without(url: &url::Url, name: &str) -> url::Url {
    let kept: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != name).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let mut url = url.clone();
    url.query_pairs_mut().clear().extend_pairs(&kept);
    url
}

async fn bearer(app: &TestApp, method: &str, uri: &str, token: &str) -> crate::harness::Response {
    app.send(
        axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("Authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
}

// ---------------------------------------------------------------------------
// The release binary, over TCP.

const DEV_PASSWORD: &str = "a-good-password";
const SHOPPER_PASSWORD: &str = "shopper-password";

/// Calls a back-office server function of the release server; its answer after a 200.
async fn rpc(addr: SocketAddr, cookies: &str, endpoint: &str, input: Option<Value>) -> Value {
    let (content_type, body) = match input {
        Some(input) => ("application/json", input.to_string()),
        None => ("application/x-www-form-urlencoded", String::new()),
    };
    let headers = [("Content-Type", content_type), ("Cookie", cookies)];
    let answer = crash::http(addr, "POST", &format!("/admin/rpc/{endpoint}"), &headers, &body).await.unwrap();
    assert_eq!(answer.status, 200, "{endpoint}: {}", answer.body);
    answer.json()
}

/// An authorization-code application made on the back office's form:
/// its client_id and secret (none for a public client).
async fn create_application(addr: SocketAddr, cookies: &str, form: Value) -> (String, Option<String>) {
    let created = rpc(addr, cookies, "create_application", Some(json!({ "form": form }))).await;
    (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_binary_signs_people_of_both_issuers_in_and_out_for_a_strict_relying_party() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::new(dir.path());
    server.start().await;
    let addr = server.addr;
    let base = format!("http://{addr}");

    // The administrator makes a back-office user, a customer, and an application on each side.
    let (cookies, csrf) = server.login().await;
    let organization_id = rpc(addr, &cookies, "organizations", None).await[0]["id"].as_i64().unwrap();
    let developer = json!({ "form": {
        "csrf_token": csrf, "id": null, "username": "dev", "email": "dev@example.com", "password": DEV_PASSWORD,
        "role_id": postern::store::roles::DEVELOPER, "language": "en", "organization_ids": [organization_id],
        "enabled": true,
    } });
    rpc(addr, &cookies, "save_user", Some(developer)).await;
    let shopper = json!({ "form": {
        "csrf_token": csrf, "organization_id": organization_id, "username": "shopper",
        "email": "shopper@shop.example", "password": SHOPPER_PASSWORD, "language": "en",
    } });
    rpc(addr, &cookies, "create_customer_user", Some(shopper)).await;
    let users = rpc(addr, &cookies, "users", None).await;
    let dev_id = users["users"].as_array().unwrap().iter().find(|u| u["username"] == "dev").unwrap()["id"].clone();
    let customers = rpc(addr, &cookies, "customer_users", None).await;
    let shopper_id = customers["customers"][0]["id"].clone();
    let form = |name: &str, confidential: bool| {
        json!({
            "csrf_token": csrf, "scope": "Mine", "organization_id": null, "owner_id": null, "name": name,
            "active": true, "grant_type": "authorization_code", "redirect_uris": CALLBACK,
            "confidential": confidential, "skip_consent": false, "post_logout_redirect_uris": SIGNED_OUT,
        })
    };
    let reporting = create_application(addr, &cookies, form("Reporting tool", true)).await;
    let mut shop = form("Shop companion", false);
    shop["scope"] = json!("Storefront");
    shop["organization_id"] = json!(organization_id);
    shop["owner_id"] = shopper_id.clone();
    let companion = create_application(addr, &cookies, shop).await;
    assert!(companion.1.is_none(), "a public client has no secret");

    let people = [
        (Side::BackOffice, format!("{base}/admin"), reporting, ("dev", DEV_PASSWORD), "dev@example.com", dev_id),
        (Side::Storefront, base.clone(), companion, ("shopper", SHOPPER_PASSWORD), "shopper@shop.example", shopper_id),
    ];
    for (side, issuer, (client_id, secret), person, email, id) in people {
        let sub = id.as_i64().unwrap().to_string();
        let rp = Rp::discover(Via::Tcp(addr), side, &issuer, &client_id, secret.as_deref()).await;
        let path = if side == Side::BackOffice { "/admin/oauth2-token/logout" } else { "/oauth2-token/logout" };
        assert_eq!(rp.end_session.url().as_str(), format!("{base}{path}"));

        // Sign-in: login page, consent page, back with a code; the ID token as the library checks it.
        let mut browser = Browser::new(Via::Tcp(addr));
        let (token, claims) = authenticate(&mut browser, &rp, &["profile", "email"], person).await;
        assert_eq!(claims.subject().as_str(), sub, "{issuer}: sub is the person's id");
        assert_eq!(claims.issuer().as_str(), issuer);
        assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some(person.0));
        assert_eq!(claims.email().map(|e| e.as_str()), Some(email));
        assert_eq!(claims.email_verified(), Some(false));
        let signed_in_at = auth_time(&claims);
        assert!((now() - 60..=now()).contains(&signed_in_at), "auth_time is the sign-in: {signed_in_at}");

        let info = rp
            .userinfo(token.access_token(), Some(claims.subject().clone()))
            .await
            .unwrap_or_else(|e| panic!("{issuer} UserInfo: {e:?}"));
        assert_eq!(info.subject(), claims.subject());
        assert_eq!(info.preferred_username().map(|u| u.as_str()), Some(person.0));
        assert_eq!(info.email().map(|e| e.as_str()), Some(email));

        // Refresh: a new ID token, the same sign-in, no nonce (Core §12.2).
        let refreshed = rp.refresh(token.refresh_token().expect("a refresh token")).await.unwrap();
        let again = rp.verify(&refreshed, no_nonce);
        assert_eq!(again.subject(), claims.subject());
        assert_eq!(auth_time(&again), signed_in_at, "a refresh keeps auth_time");
        assert!(again.issue_time() >= claims.issue_time());

        // Logout at the discovered endpoint, with the ID token as the hint: at once, back with state.
        let before = browser.cookies();
        assert!(browser.cookie(session_cookie(side)).is_some());
        let state = CsrfToken::new_random();
        let logout = LogoutRequest::from(rp.end_session.clone())
            .set_id_token_hint(refreshed.id_token().unwrap())
            .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(SIGNED_OUT.into()).unwrap())
            .set_state(state.clone())
            .http_get_url();
        let answer = browser.get(logout.as_str()).await;
        assert_eq!(answer.status, 303, "{issuer}: {}", answer.body);
        assert_eq!(answer.location(), format!("{SIGNED_OUT}?state={}", state.secret()));
        assert!(browser.cookie(session_cookie(side)).is_none(), "the session cookie is cleared");

        // The session is over on the server: even its old cookie finds nobody signed in.
        let (request, _) = rp.request(&[]);
        let (url, state, _) = request.add_prompt(CoreAuthPrompt::None).url();
        let answer = Via::Tcp(addr).send("GET", url.as_str(), &[("Cookie", &before)], "").await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        assert_error(answer.location(), "login_required", &state, &issuer);
        println!(
            "{issuer}: {} signed in (sub {sub}, auth_time {signed_in_at}), UserInfo and refresh verified, signed out",
            person.0
        );
    }
}

// ---------------------------------------------------------------------------
// prompt (OpenID Connect Core §3.1.2.1), in process.

#[tokio::test]
async fn prompt_none_when_nobody_is_signed_in_answers_login_required() {
    let app = TestApp::new().await;
    let shopper = customer(&app, "shopper").await;
    for rp in [back_office_rp(&app).await, storefront_rp(&app, shopper).await] {
        let (request, _) = rp.request(&[]);
        let (url, state, _) = request.add_prompt(CoreAuthPrompt::None).url();
        let mut browser = Browser::new(Via::Router(&app));
        let Stop::Back(back) = browser.authorize(url.as_str()).await else {
            panic!("{}: prompt=none shows no page", rp.issuer);
        };
        assert_error(&back, "login_required", &state, &rp.issuer);
    }
}

#[tokio::test]
async fn prompt_none_without_consent_answers_consent_required() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    browser.sign_in("/admin/login", ADMIN).await;
    let (request, _) = rp.request(&["profile"]);
    let (url, state, _) = request.add_prompt(CoreAuthPrompt::None).url();
    let Stop::Back(back) = browser.authorize(url.as_str()).await else { panic!("prompt=none shows no consent page") };
    assert_error(&back, "consent_required", &state, BACK_OFFICE_ISSUER);
}

#[tokio::test]
async fn prompt_none_with_a_session_and_remembered_consent_returns_a_code_at_once() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    let (_, first) = authenticate(&mut browser, &rp, &["profile"], ADMIN).await;

    let (request, verifier) = rp.request(&["profile"]);
    let (url, state, nonce) = request.add_prompt(CoreAuthPrompt::None).url();
    let Stop::Back(back) = browser.authorize(url.as_str()).await else { panic!("prompt=none shows no page") };
    let token = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
    let claims = rp.verify(&token, &nonce);
    assert_eq!(claims.subject(), first.subject());
    assert_eq!(claims.subject().as_str(), app.admin_id.to_string());
    assert_eq!(auth_time(&claims), auth_time(&first), "the same session");
}

#[tokio::test]
async fn prompt_login_shows_the_login_form_to_a_signed_in_person_and_the_new_sign_in_counts() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    browser.sign_in("/admin/login", ADMIN).await;
    backdate_sessions(&app, Side::BackOffice, 60).await;
    let (_, first) = authenticate(&mut browser, &rp, &[], ADMIN).await;
    let first_sign_in = auth_time(&first);
    assert!(now() - first_sign_in >= 60, "auth_time is the session's start, not the code's time");

    let (request, verifier) = rp.request(&[]);
    let (url, state, nonce) = request.add_prompt(CoreAuthPrompt::Login).url();
    let Stop::Login(login) = browser.authorize(url.as_str()).await else {
        panic!("prompt=login asks for a sign-in although signed in");
    };
    assert_eq!(query_param(&absolute(&login), "prompt").as_deref(), Some("login"), "{login}");
    let redirect = query_param(&absolute(&login), "redirect").unwrap();
    assert_eq!(query_param(&absolute(&redirect), "prompt"), None, "it comes back without prompt=login: {redirect}");
    let mark = query_param(&absolute(&redirect), "signed_in_after").unwrap();
    let after: i64 = mark.split_once('.').expect("a sealed mark: time.mac").0.parse().unwrap();
    assert!(after > first_sign_in);
    // Without prompt=login the login page sends a signed-in person on.
    let plain = browser.get("/admin/login").await;
    assert_eq!((plain.status, plain.location()), (303, "/admin"));

    let next = browser.sign_in(&login, ADMIN).await;
    assert_eq!(request_of(&next), request_of(&redirect), "the sign-in goes back to the request");
    let Stop::Back(back) = browser.authorize(&next).await else { panic!("the new sign-in satisfies the request") };
    let token = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
    let claims = rp.verify(&token, &nonce);
    assert_eq!(claims.subject(), first.subject());
    assert!(auth_time(&claims) >= after, "auth_time is the new sign-in: {} < {after}", auth_time(&claims));
    assert!(auth_time(&claims) > first_sign_in);
}

#[tokio::test]
async fn a_request_for_a_new_sign_in_reaching_nobody_signed_in_asks_for_the_password_once() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    for (name, value) in [("prompt", "login"), ("prompt", "select_account"), ("max_age", "0")] {
        browser.jar.clear();
        let (request, verifier) = rp.request(&[]);
        let (url, state, nonce) = request.add_extra_param(name, value).url();
        let Stop::Login(login) = browser.authorize(url.as_str()).await else { panic!("nobody is signed in") };
        let next = browser.sign_in(&login, ADMIN).await;
        let back = match browser.authorize(&next).await {
            Stop::Login(_) => {
                panic!("{name}={value}: the sign-in it led to does not satisfy it; asked again after {next}")
            }
            Stop::Consent(_, fields) => browser.grant(Side::BackOffice, &fields).await,
            Stop::Back(back) => back,
        };
        let token = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
        assert!(now() - auth_time(&rp.verify(&token, &nonce)) <= 5, "{name}={value}: auth_time is the sign-in");
    }
}

/// A browser signed in as the admin a minute ago, who consented to `rp`;
/// the session's start as the ID token says it.
async fn signed_in_a_minute_ago<'a>(app: &'a TestApp, rp: &Rp) -> (Browser<'a>, i64) {
    let mut browser = Browser::new(Via::Router(app));
    browser.sign_in("/admin/login", ADMIN).await;
    backdate_sessions(app, Side::BackOffice, 60).await;
    let (_, claims) = authenticate(&mut browser, rp, &[], ADMIN).await;
    (browser, auth_time(&claims))
}

/// Requests asking for a new sign-in with Postern's own `signed_in_after`
/// mark set to `mark` by whoever holds the browser; what each led to,
/// when it was not the login page.
async fn skipped_sign_ins(browser: &mut Browser<'_>, rp: &Rp, mark: impl ToString) -> Vec<String> {
    let mark = mark.to_string();
    let mut skipped = Vec::new();
    for (name, value) in [("prompt", "login"), ("prompt", "select_account"), ("max_age", "0")] {
        let (request, _) = rp.request(&[]);
        let (url, _, _) = request.add_extra_param(name, value).add_extra_param("signed_in_after", mark.clone()).url();
        match browser.authorize(url.as_str()).await {
            Stop::Login(_) => {}
            Stop::Back(back) => {
                skipped.push(format!("{name}={value}&signed_in_after={mark}: back at once with {back}"))
            }
            Stop::Consent(..) => skipped.push(format!("{name}={value}&signed_in_after={mark}: the consent page")),
        }
    }
    skipped
}

#[tokio::test]
async fn an_old_or_made_up_signed_in_after_does_not_skip_the_new_sign_in() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let (mut browser, _) = signed_in_a_minute_ago(&app, &rp).await;
    for mark in [1, now() - 3_600, now() + 3_600] {
        let skipped = skipped_sign_ins(&mut browser, &rp, mark).await;
        assert!(skipped.is_empty(), "a 60 s old session answered without a new sign-in: {skipped:#?}");
    }
}

#[tokio::test]
async fn a_recent_made_up_signed_in_after_does_not_skip_the_new_sign_in() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let (mut browser, signed_in_at) = signed_in_a_minute_ago(&app, &rp).await;
    // The application knows when the session began: its ID token says so.
    let skipped = skipped_sign_ins(&mut browser, &rp, signed_in_at).await;
    assert!(skipped.is_empty(), "a 60 s old session answered without a new sign-in: {skipped:#?}");

    // A genuine mark, as the login page's address carries it, with its time
    // moved back to the session's start: the seal no longer matches.
    let (request, _) = rp.request(&[]);
    let (url, _, _) = request.add_prompt(CoreAuthPrompt::Login).url();
    let Stop::Login(login) = browser.authorize(url.as_str()).await else { panic!("prompt=login asks for a sign-in") };
    let redirect = query_param(&absolute(&login), "redirect").unwrap();
    let genuine = query_param(&absolute(&redirect), "signed_in_after").unwrap();
    let (_, seal) = genuine.split_once('.').unwrap();
    let skipped = skipped_sign_ins(&mut browser, &rp, format!("{signed_in_at}.{seal}")).await;
    assert!(skipped.is_empty(), "a moved mark passed for a new sign-in: {skipped:#?}");
}

#[tokio::test]
async fn a_mark_given_to_one_application_does_not_skip_the_sign_in_for_another() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let registered = backoffice_app(&app, "Second tool").await;
    let other = Rp::discover(
        Via::Router(&app),
        Side::BackOffice,
        BACK_OFFICE_ISSUER,
        &registered.client_id,
        registered.secret.as_deref(),
    )
    .await;
    let (mut browser, _) = signed_in_a_minute_ago(&app, &rp).await;
    let (_, _) = authenticate(&mut browser, &other, &[], ADMIN).await;
    // A sign-in for the first application's prompt=login request...
    let (request, _) = rp.request(&[]);
    let (url, _, _) = request.add_prompt(CoreAuthPrompt::Login).url();
    let Stop::Login(login) = browser.authorize(url.as_str()).await else { panic!("prompt=login asks for a sign-in") };
    let redirect = query_param(&absolute(&login), "redirect").unwrap();
    let mark = query_param(&absolute(&redirect), "signed_in_after").unwrap();
    let next = browser.sign_in(&login, ADMIN).await;
    assert!(matches!(browser.authorize(&next).await, Stop::Back(_)), "the new sign-in satisfies the first request");
    // ...is a sign-in after the mark, but the mark was given to the first application only. (The
    // session began this very second, so max_age=0 is met by it without any mark.)
    let mut skipped = skipped_sign_ins(&mut browser, &other, &mark).await;
    skipped.retain(|s| !s.starts_with("max_age"));
    assert!(skipped.is_empty(), "another application's mark passed for a new sign-in: {skipped:#?}");
    // And it never stands for a session older than itself.
    backdate_sessions(&app, Side::BackOffice, 120).await;
    let replayed = skipped_sign_ins(&mut browser, &rp, &mark).await;
    assert!(replayed.is_empty(), "a mark older than the session's start passed: {replayed:#?}");
}

#[tokio::test]
async fn prompt_consent_asks_again_although_consent_is_remembered() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    authenticate(&mut browser, &rp, &["email"], ADMIN).await;
    let (request, _) = rp.request(&["email"]);
    let (url, _, _) = request.url();
    assert!(matches!(browser.authorize(url.as_str()).await, Stop::Back(_)), "consent is remembered");

    let (request, verifier) = rp.request(&["email"]);
    let (url, state, nonce) = request.add_prompt(CoreAuthPrompt::Consent).url();
    let Stop::Consent(page, fields) = browser.authorize(url.as_str()).await else {
        panic!("prompt=consent shows the consent page");
    };
    assert!(page.contains("Reporting tool") && page.contains("Know your email address"), "{page}");
    let back = browser.grant(Side::BackOffice, &fields).await;
    let token = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
    assert_eq!(rp.verify(&token, &nonce).email().map(|e| e.as_str()), Some("admin@example.com"));
}

#[tokio::test]
async fn prompt_select_account_lets_the_person_sign_in_as_another_account() {
    let app = TestApp::new().await;
    let ada = app.create_user("ada", Some(postern::store::roles::DEVELOPER), "Default").await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    let (_, admin) = authenticate(&mut browser, &rp, &["profile"], ADMIN).await;
    assert_eq!(admin.subject().as_str(), app.admin_id.to_string());

    let (request, verifier) = rp.request(&["profile"]);
    let (url, state, nonce) = request.add_prompt(CoreAuthPrompt::SelectAccount).url();
    let Stop::Login(login) = browser.authorize(url.as_str()).await else {
        panic!("select_account asks for a sign-in, like login");
    };
    assert_eq!(query_param(&absolute(&login), "prompt").as_deref(), Some("login"), "{login}");
    let next = browser.sign_in(&login, ("ada", ADMIN_PASSWORD)).await;
    let Stop::Consent(_, fields) = browser.authorize(&next).await else { panic!("ada has not consented yet") };
    let back = browser.grant(Side::BackOffice, &fields).await;
    let token = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
    let claims = rp.verify(&token, &nonce);
    assert_eq!(claims.subject().as_str(), ada.to_string(), "the account chosen");
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("ada"));
}

// ---------------------------------------------------------------------------
// max_age, login_hint, id_token_hint.

#[tokio::test]
async fn max_age_asks_an_older_session_to_sign_in_again_and_the_id_token_says_when() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    browser.sign_in("/admin/login", ADMIN).await;
    backdate_sessions(&app, Side::BackOffice, 5).await;
    authenticate(&mut browser, &rp, &[], ADMIN).await;

    // A large max_age: the session is young enough, straight back.
    let (request, verifier) = rp.request(&[]);
    let (url, state, nonce) = request.set_max_age(Duration::from_secs(86_400)).url();
    let Stop::Back(back) = browser.authorize(url.as_str()).await else { panic!("a 5 s old session is < 1 day") };
    let token = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
    let older = auth_time(&rp.verify(&token, &nonce));
    assert!(now() - older >= 5, "auth_time is the session's start");

    // max_age=0: a new sign-in, and the ID token has its time.
    let (request, verifier) = rp.request(&[]);
    let (url, state, nonce) = request.set_max_age(Duration::ZERO).url();
    let Stop::Login(login) = browser.authorize(url.as_str()).await else { panic!("max_age=0 asks for a sign-in") };
    assert_eq!(query_param(&absolute(&login), "prompt").as_deref(), Some("login"), "{login}");
    let next = browser.sign_in(&login, ADMIN).await;
    let Stop::Back(back) = browser.authorize(&next).await else { panic!("the new sign-in satisfies max_age=0") };
    let token = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
    let newer = auth_time(&rp.verify(&token, &nonce));
    assert!(newer > older && now() - newer <= 5, "auth_time {newer} is the new sign-in (the older one {older})");
}

#[tokio::test]
async fn login_hint_fills_in_the_user_name_on_the_login_page() {
    let app = TestApp::new().await;
    let ada = app.create_user("ada", Some(postern::store::roles::DEVELOPER), "Default").await;
    let shopper = customer(&app, "shopper").await;
    for (rp, hint) in [(back_office_rp(&app).await, "ada"), (storefront_rp(&app, shopper).await, "shopper")] {
        let (request, verifier) = rp.request(&[]);
        let (url, state, nonce) = request.set_login_hint(LoginHint::new(hint.into())).url();
        let mut browser = Browser::new(Via::Router(&app));
        let Stop::Login(login) = browser.authorize(url.as_str()).await else { panic!("nobody is signed in") };
        assert_eq!(query_param(&absolute(&login), "login_hint").as_deref(), Some(hint), "{login}");
        let page = browser.login_page(&login).await;
        let input = page.body.split("id=\"username\"").nth(1).and_then(|rest| rest.split('>').next()).unwrap();
        assert!(input.contains(&format!("value=\"{hint}\"")), "the user name input: {input}");

        let password = if rp.side == Side::BackOffice { ADMIN_PASSWORD } else { CUSTOMER_PASSWORD };
        let next = browser.sign_in(&login, (hint, password)).await;
        let back = browser.through(rp.side, &next, (hint, password)).await;
        let token = rp.redeem(code(&back, &state, &rp.issuer), verifier).await.unwrap();
        let expected = if rp.side == Side::BackOffice { ada } else { shopper };
        assert_eq!(rp.verify(&token, &nonce).subject().as_str(), expected.to_string());
    }
}

#[tokio::test]
async fn an_id_token_hint_naming_another_person_needs_a_new_sign_in() {
    let app = TestApp::new().await;
    app.create_user("ada", Some(postern::store::roles::DEVELOPER), "Default").await;
    let rp = back_office_rp(&app).await;
    let mut ada_browser = Browser::new(Via::Router(&app));
    let (ada_token, _) = authenticate(&mut ada_browser, &rp, &[], ("ada", ADMIN_PASSWORD)).await;
    let ada_id_token = ada_token.id_token().unwrap();
    let mut browser = Browser::new(Via::Router(&app));
    let (admin_token, _) = authenticate(&mut browser, &rp, &[], ADMIN).await;

    // The admin is signed in, the hint names ada: prompt=none cannot answer.
    let (request, _) = rp.request(&[]);
    let (url, state, _) = request.add_prompt(CoreAuthPrompt::None).set_id_token_hint(ada_id_token).url();
    let Stop::Back(back) = browser.authorize(url.as_str()).await else { panic!("prompt=none shows no page") };
    assert_error(&back, "login_required", &state, BACK_OFFICE_ISSUER);
    // Without prompt=none: the login page, to sign in as the hinted person.
    let (request, _) = rp.request(&[]);
    let (url, _, _) = request.set_id_token_hint(ada_id_token).url();
    assert!(matches!(browser.authorize(url.as_str()).await, Stop::Login(_)), "a new sign-in");

    // A hint naming the admin: a code at once.
    let (request, verifier) = rp.request(&[]);
    let (url, state, nonce) =
        request.add_prompt(CoreAuthPrompt::None).set_id_token_hint(admin_token.id_token().unwrap()).url();
    let Stop::Back(back) = browser.authorize(url.as_str()).await else { panic!("prompt=none shows no page") };
    let token = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
    assert_eq!(rp.verify(&token, &nonce).subject().as_str(), app.admin_id.to_string());
}

#[tokio::test]
async fn a_malformed_id_token_hint_is_invalid_request() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    let (token, _) = authenticate(&mut browser, &rp, &[], ADMIN).await;
    // Not a JWT; a JWT this issuer signed that is an access token, not an ID token.
    for hint in ["not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", token.access_token().secret()] {
        let (request, _) = rp.request(&[]);
        let (url, state, _) = request.add_extra_param("id_token_hint", hint).url();
        let Stop::Back(back) = browser.authorize(url.as_str()).await else { panic!("{hint}: back with an error") };
        assert_error(&back, "invalid_request", &state, BACK_OFFICE_ISSUER);
    }
}

// ---------------------------------------------------------------------------
// claims, request objects, malformed parameters, nonces.

#[tokio::test]
async fn a_claims_request_for_email_asks_for_the_email_scope_and_userinfo_answers_it() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    browser.sign_in("/admin/login", ADMIN).await;
    let (request, verifier) = rp.request(&[]);
    let (url, state, nonce) = request.add_extra_param("claims", r#"{"userinfo":{"email":null}}"#).url();
    assert_eq!(query_param(url.as_str(), "scope").as_deref(), Some("openid"));
    let Stop::Consent(page, fields) = browser.authorize(url.as_str()).await else { panic!("a consent page") };
    assert!(page.contains("Know your email address"), "the consent page asks for the email scope: {page}");
    let back = browser.grant(Side::BackOffice, &fields).await;
    let token = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
    let mut scopes: Vec<&str> = token.scopes().unwrap().iter().map(|s| s.as_str()).collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["email", "openid"]);
    let claims = rp.verify(&token, &nonce);
    let info = rp.userinfo(token.access_token(), Some(claims.subject().clone())).await.unwrap();
    assert_eq!(info.email().map(|e| e.as_str()), Some("admin@example.com"));
    assert_eq!(info.email_verified(), Some(false));
    assert_eq!(info.preferred_username(), None, "profile was not asked for");
}

#[tokio::test]
async fn request_objects_and_malformed_parameters_go_back_as_their_errors() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    browser.sign_in("/admin/login", ADMIN).await;
    let cases = [
        ("request", "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.", "request_not_supported"),
        ("request_uri", "https://app.example.com/request.jwt", "request_uri_not_supported"),
        ("claims", "{\"userinfo\":", "invalid_request"),
        ("claims", "{\"userinfo\":{\"email\":true}}", "invalid_request"),
        ("max_age", "-1", "invalid_request"),
        ("max_age", "soon", "invalid_request"),
        ("prompt", "none login", "invalid_request"),
        ("prompt", "create", "invalid_request"),
    ];
    for (name, value, error) in cases {
        let (request, _) = rp.request(&[]);
        let (url, state, _) = request.add_extra_param(name, value).url();
        let Stop::Back(back) = browser.authorize(url.as_str()).await else {
            panic!("{name}={value}: back with an error")
        };
        assert_error(&back, error, &state, BACK_OFFICE_ISSUER);
    }
}

#[tokio::test]
async fn the_nonce_comes_back_exactly_and_a_request_without_one_gets_none() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    browser.sign_in("/admin/login", ADMIN).await;
    let sent = "n-0S6 _WzA2Mj+/=&?%#~!*'()\"<>\\ é 中文 😀";
    let (request, verifier) = rp.request(&[]);
    let (generated, state, _) = request.url();
    let url = {
        let mut url = without(&generated, "nonce");
        url.query_pairs_mut().append_pair("nonce", sent);
        url
    };
    let back = browser.through(Side::BackOffice, url.as_str(), ADMIN).await;
    let token = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
    let claims = rp.verify(&token, &Nonce::new(sent.into()));
    assert_eq!(claims.nonce().map(|n| n.secret().as_str()), Some(sent));

    // No nonce: it still works, and the ID token has no nonce claim.
    let (request, verifier) = rp.request(&[]);
    let (url, state, _) = request.url();
    let Stop::Back(back) = browser.authorize(without(&url, "nonce").as_str()).await else {
        panic!("consent is remembered")
    };
    let token = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
    assert!(rp.verify(&token, no_nonce).nonce().is_none());
    assert!(crate::harness::claims(token.id_token().unwrap().to_string().as_str()).get("nonce").is_none());
}

// ---------------------------------------------------------------------------
// Tokens: replay, UserInfo, client credentials.

#[tokio::test]
async fn a_replayed_code_is_invalid_grant_and_the_first_tokens_stop_working() {
    let app = TestApp::new().await;
    let rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    let (request, verifier) = rp.request(&["users:read"]);
    let (url, state, nonce) = request.url();
    let back = browser.through(Side::BackOffice, url.as_str(), ADMIN).await;
    let code = code(&back, &state, BACK_OFFICE_ISSUER);
    let verifier_again = PkceCodeVerifier::new(verifier.secret().clone());
    let token = rp.redeem(code.clone(), verifier).await.unwrap();
    let claims = rp.verify(&token, &nonce);
    let access = token.access_token();
    assert_eq!(app.api("/api/users", access.secret()).await.status, 200);
    assert!(rp.userinfo(access, Some(claims.subject().clone())).await.is_ok());

    assert_eq!(token_error(rp.redeem(code, verifier_again).await), CoreErrorResponseType::InvalidGrant);
    assert_eq!(app.api("/api/users", access.secret()).await.status, 401, "the API refuses the first access token");
    match rp.userinfo(access, None).await {
        Err(UserInfoError::Response(status, _, _)) => assert_eq!(status, 401),
        other => panic!("UserInfo refuses the first access token: {other:?}"),
    }
    let refresh = rp.refresh(token.refresh_token().unwrap()).await;
    assert_eq!(token_error(refresh), CoreErrorResponseType::InvalidGrant, "and its refresh token");
}

#[tokio::test]
async fn userinfo_answers_get_and_post_and_refuses_a_token_without_openid() {
    let app = TestApp::new().await;
    let mut rp = back_office_rp(&app).await;
    let mut browser = Browser::new(Via::Router(&app));
    let (token, claims) = authenticate(&mut browser, &rp, &["profile"], ADMIN).await;
    let userinfo = "/admin/oauth2-token/userinfo";
    for method in ["GET", "POST"] {
        let answer = bearer(&app, method, userinfo, token.access_token().secret()).await;
        assert_eq!(answer.status, 200, "{method}: {}", answer.body);
        assert_eq!(answer.json()["sub"], claims.subject().as_str());
        assert_eq!(answer.json()["preferred_username"], "admin");
        assert!(answer.json().get("email").is_none(), "email was not asked for");
    }

    // An OAuth request without openid: no ID token, and UserInfo says why.
    rp.client = rp.client.disable_openid_scope();
    let (request, verifier) = rp.request(&["users:read"]);
    let (url, state, _) = request.url();
    assert_eq!(query_param(url.as_str(), "scope").as_deref(), Some("users:read"));
    let back = browser.through(Side::BackOffice, url.as_str(), ADMIN).await;
    let plain = rp.redeem(code(&back, &state, BACK_OFFICE_ISSUER), verifier).await.unwrap();
    assert!(plain.id_token().is_none(), "no openid, no ID token");
    assert_eq!(app.api("/api/users", plain.access_token().secret()).await.status, 200, "the token itself is good");
    match rp.userinfo(plain.access_token(), None).await {
        Err(UserInfoError::Response(status, _, _)) => assert_eq!(status, 403),
        other => panic!("UserInfo refuses a token without openid: {other:?}"),
    }
    let answer = bearer(&app, "GET", userinfo, plain.access_token().secret()).await;
    let challenge = answer.header("www-authenticate").unwrap_or_default();
    assert_eq!(answer.status, 403);
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"openid\""),
        "{challenge}"
    );
}

#[tokio::test]
async fn each_userinfo_endpoint_refuses_the_other_issuers_tokens() {
    let app = TestApp::new().await;
    let shopper = customer(&app, "shopper").await;
    let back_office = back_office_rp(&app).await;
    let storefront = storefront_rp(&app, shopper).await;
    let mut admin = Browser::new(Via::Router(&app));
    let (admin_token, _) = authenticate(&mut admin, &back_office, &[], ADMIN).await;
    let mut customer_browser = Browser::new(Via::Router(&app));
    let (shopper_token, shopper_claims) =
        authenticate(&mut customer_browser, &storefront, &["email"], ("shopper", CUSTOMER_PASSWORD)).await;
    assert_eq!(shopper_claims.subject().as_str(), shopper.to_string());
    assert_eq!(shopper_claims.issuer().as_str(), STOREFRONT_ISSUER);

    let own = bearer(&app, "GET", "/oauth2-token/userinfo", shopper_token.access_token().secret()).await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["email"], "shopper@example.com");
    let crossings = [
        ("/oauth2-token/userinfo", admin_token.access_token().secret(), "a back-office token at the storefront"),
        (
            "/admin/oauth2-token/userinfo",
            shopper_token.access_token().secret(),
            "a storefront token at the back office",
        ),
    ];
    for (uri, token, what) in crossings {
        let answer = bearer(&app, "GET", uri, token).await;
        let challenge = answer.header("www-authenticate").unwrap_or_default();
        assert_eq!(answer.status, 401, "{what}: {}", answer.body);
        assert!(challenge.contains("error=\"invalid_token\""), "{what}: {challenge}");
    }
}

#[tokio::test]
async fn client_credentials_cannot_ask_for_openid() {
    let app = TestApp::new().await;
    let (id, secret) = app.create_app("Billing sync").await;
    for scope in ["openid", "openid users:read"] {
        let answer = app
            .token_form(&format!(
                "grant_type=client_credentials&client_id={id}&client_secret={secret}&scope={}",
                crate::harness::browser::urlencode(scope)
            ))
            .await;
        assert_eq!(answer.status, 400, "{scope}: {}", answer.body);
        assert_eq!(answer.json()["error"], "invalid_scope");
        assert!(answer.json().get("id_token").is_none());
    }
}

// ---------------------------------------------------------------------------
// Discovery.

#[tokio::test]
async fn the_discovery_documents_describe_each_issuer_and_agree_with_rfc_8414() {
    let app = TestApp::new().await;
    let documents = [
        (
            "/admin/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server/admin",
            BACK_OFFICE_ISSUER,
            "/admin/oauth2-token",
        ),
        (
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
            STOREFRONT_ISSUER,
            "/oauth2-token",
        ),
    ];
    for (openid, rfc8414, issuer, endpoints) in documents {
        let answer = app.get(openid).await;
        assert_eq!(answer.status, 200, "{openid}: {}", answer.body);
        assert!(answer.header("content-type").unwrap_or_default().starts_with("application/json"));
        let document = answer.json();
        assert_eq!(document["issuer"], issuer);
        assert_eq!(document["authorization_endpoint"], format!("http://postern.test{endpoints}/authorize"));
        assert_eq!(document["token_endpoint"], "http://postern.test/oauth2-token");
        assert_eq!(document["jwks_uri"], "http://postern.test/.well-known/jwks.json");
        assert_eq!(document["userinfo_endpoint"], format!("http://postern.test{endpoints}/userinfo"));
        assert_eq!(document["end_session_endpoint"], format!("http://postern.test{endpoints}/logout"));
        assert_eq!(document["response_types_supported"], json!(["code"]));
        assert_eq!(document["subject_types_supported"], json!(["public"]));
        assert_eq!(document["id_token_signing_alg_values_supported"], json!(["RS256"]));
        assert_eq!(document["claims_parameter_supported"], true);
        assert_eq!(document["request_parameter_supported"], false);
        assert_eq!(document["request_uri_parameter_supported"], false);
        assert_eq!(document["prompt_values_supported"], json!(["none", "login", "consent", "select_account"]));
        let scopes = document["scopes_supported"].as_array().unwrap();
        for scope in ["openid", "profile", "email"] {
            assert!(scopes.contains(&json!(scope)), "{openid}: {scope} in {scopes:?}");
        }
        assert_eq!(scopes.contains(&json!("users:read")), issuer == BACK_OFFICE_ISSUER, "{scopes:?}");
        let claims = document["claims_supported"].as_array().unwrap();
        for claim in ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "preferred_username", "email"]
        {
            assert!(claims.contains(&json!(claim)), "{openid}: {claim} in {claims:?}");
        }

        // The RFC 8414 document of the same issuer says the same of what both describe.
        let metadata = app.get(rfc8414).await.json();
        let (Value::Object(oidc), Value::Object(oauth)) = (&document, &metadata) else { panic!("JSON objects") };
        let shared: Vec<&String> = oidc.keys().filter(|k| oauth.contains_key(*k)).collect();
        for name in ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "scopes_supported"] {
            assert!(shared.iter().any(|k| *k == name), "{rfc8414} has {name}");
        }
        for name in shared {
            assert_eq!(oidc[name], oauth[name], "{openid} and {rfc8414} disagree on {name}");
        }
    }
}

// ---------------------------------------------------------------------------
// RP-initiated logout: the confirmation page.

/// A back-office application with a registered post-logout URI, and the
/// admin signed in.
async fn signed_in_for_logout(app: &TestApp) -> (Rp, Browser<'_>) {
    let rp = back_office_rp(app).await;
    register_post_logout(app, &rp.client_id, SIGNED_OUT).await;
    let mut browser = Browser::new(Via::Router(app));
    browser.sign_in("/admin/login", ADMIN).await;
    assert_eq!(sessions(app, Side::BackOffice).await, 1);
    (rp, browser)
}

fn logout_url(rp: &Rp, post_logout_redirect_uri: &str, state: &str) -> String {
    LogoutRequest::from(rp.end_session.clone())
        .set_client_id(ClientId::new(rp.client_id.clone()))
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(post_logout_redirect_uri.into()).unwrap())
        .set_state(CsrfToken::new(state.into()))
        .http_get_url()
        .to_string()
}

/// The confirmation page of a logout request without a hint: its form's fields.
async fn logout_question(rp: &Rp, browser: &mut Browser<'_>) -> Vec<(String, String)> {
    let page = browser.get(&logout_url(rp, SIGNED_OUT, "s-1")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-testid=\"logout-question\""), "{}", page.body);
    assert!(page.body.contains("Reporting tool"), "it names the application: {}", page.body);
    let fields = hidden_fields(&page.body);
    for name in ["csrf_token", "client_id", "post_logout_redirect_uri", "state"] {
        assert!(fields.iter().any(|(k, _)| k == name), "the form carries {name}: {fields:?}");
    }
    fields
}

#[tokio::test]
async fn logout_to_an_unregistered_uri_is_a_400_page_and_ends_nothing() {
    let app = TestApp::new().await;
    let (rp, mut browser) = signed_in_for_logout(&app).await;
    let (token, _) = authenticate(&mut browser, &rp, &[], ADMIN).await;
    let unregistered = [
        logout_url(&rp, "https://evil.example/", "s"),
        logout_url(&rp, &format!("{SIGNED_OUT}/"), "s"),
        // Even a hint naming the person signed in does not make the URI acceptable.
        LogoutRequest::from(rp.end_session.clone())
            .set_id_token_hint(token.id_token().unwrap())
            .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new("https://evil.example/".into()).unwrap())
            .http_get_url()
            .to_string(),
    ];
    for url in unregistered {
        let page = browser.get(&url).await;
        assert_eq!(page.status, 400, "{url}: {}", page.body);
        assert_eq!(page.location, None, "no redirect");
        assert!(page.body.contains("not one the application registered"), "{}", page.body);
        assert!(page.set_cookies.iter().all(|c| !c.starts_with("postern_session=")), "the cookie stays");
    }
    assert_eq!(sessions(&app, Side::BackOffice).await, 1, "the session goes on");
    let (request, _) = rp.request(&[]);
    let (url, _, _) = request.add_prompt(CoreAuthPrompt::None).url();
    let Stop::Back(back) = browser.authorize(url.as_str()).await else { panic!("prompt=none shows no page") };
    assert!(query_param(&back, "code").is_some(), "still signed in: {back}");
}

#[tokio::test]
async fn logout_without_a_hint_asks_first_and_signing_out_ends_the_session() {
    let app = TestApp::new().await;
    let (rp, mut browser) = signed_in_for_logout(&app).await;
    let fields = logout_question(&rp, &mut browser).await;
    assert_eq!(sessions(&app, Side::BackOffice).await, 1, "asking ends nothing");

    let mut form = fields;
    form.push(("decision".into(), "logout".into()));
    let answer = browser.post("/admin/oauth2-token/logout", &form).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location(), format!("{SIGNED_OUT}?state=s-1"));
    assert!(browser.cookie("postern_session").is_none(), "the session cookie is cleared");
    assert_eq!(sessions(&app, Side::BackOffice).await, 0, "the session row is gone");
    let (request, _) = rp.request(&[]);
    let (url, state, _) = request.add_prompt(CoreAuthPrompt::None).url();
    let Stop::Back(back) = browser.authorize(url.as_str()).await else { panic!("prompt=none shows no page") };
    assert_error(&back, "login_required", &state, BACK_OFFICE_ISSUER);
}

#[tokio::test]
async fn logout_confirmation_stay_keeps_the_session_and_a_post_without_the_token_is_403() {
    let app = TestApp::new().await;
    let (rp, mut browser) = signed_in_for_logout(&app).await;
    let fields = logout_question(&rp, &mut browser).await;

    let mut stay = fields.clone();
    stay.push(("decision".into(), "stay".into()));
    let answer = browser.post("/admin/oauth2-token/logout", &stay).await;
    assert_eq!((answer.status, answer.location.as_deref()), (200, None), "{}", answer.body);
    assert!(answer.body.contains("You are still signed in"), "{}", answer.body);
    assert_eq!(sessions(&app, Side::BackOffice).await, 1);

    let mut forged: Vec<(String, String)> = fields.into_iter().filter(|(k, _)| k != "csrf_token").collect();
    forged.push(("decision".into(), "logout".into()));
    let answer = browser.post("/admin/oauth2-token/logout", &forged).await;
    assert_eq!((answer.status, answer.location.as_deref()), (403, None), "{}", answer.body);
    assert_eq!(sessions(&app, Side::BackOffice).await, 1, "another site's form signs nobody out");
    assert!(browser.cookie("postern_session").is_some());
    let (request, _) = rp.request(&[]);
    let (url, _, _) = request.add_prompt(CoreAuthPrompt::None).url();
    let Stop::Back(back) = browser.authorize(url.as_str()).await else { panic!("prompt=none shows no page") };
    assert_eq!(query_param(&back, "error").as_deref(), Some("consent_required"), "still signed in: {back}");
}
