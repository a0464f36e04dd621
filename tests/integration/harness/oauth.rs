//! A third-party application in the authorization code flow: registered
//! in the database, driven with a real OAuth client library (the `oauth2`
//! crate) whose HTTP goes through the router in process, and a browser that
//! signs in, sees the consent page and answers it.

use super::browser::{get, hidden_fields, post_form};
use super::{Response, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, RedirectUrl, RequestTokenError, TokenUrl,
};
use postern::model::Side;
use postern::model::Subject;
use postern::oauth::grant::GrantType;
use postern::service::applications::NewApplicationInput;
use tower::ServiceExt;

const BASE: &str = "http://postern.test";
pub const CALLBACK: &str = "https://app.example.com/callback";

pub type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The oauth2 crate's HTTP client: requests go through the router in process.
pub fn http(
    app: &TestApp,
) -> impl Fn(
    oauth2::HttpRequest,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, std::io::Error>> + Send>> {
    let router = app.router.clone();
    move |request: oauth2::HttpRequest| {
        let router = router.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut builder = Request::builder()
                .method(parts.method)
                .uri(parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let response = router.oneshot(builder.body(Body::from(body)).unwrap()).await.unwrap();
            let mut out = oauth2::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                out = out.header(name, value);
            }
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            Ok(out.body(bytes.to_vec()).unwrap())
        })
    }
}

pub struct App {
    pub client_id: String,
    pub secret: Option<String>,
    side: Side,
}

impl App {
    pub fn client(&self) -> Client {
        let authorize = match self.side {
            Side::BackOffice => "/admin/oauth2-token/authorize",
            Side::Storefront => "/oauth2-token/authorize",
        };
        let mut client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(AuthUrl::new(format!("{BASE}{authorize}")).unwrap())
            .set_token_uri(TokenUrl::new(format!("{BASE}/oauth2-token")).unwrap())
            .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
        if let Some(secret) = &self.secret {
            client = client.set_client_secret(ClientSecret::new(secret.clone()));
        }
        client
    }
}

pub struct AppSpec<'a> {
    pub name: &'a str,
    pub side: Side,
    pub owner: Subject,
    pub confidential: bool,
    pub skip_consent: bool,
    pub redirect_uris: Vec<String>,
}

pub async fn create_app(app: &TestApp, spec: AppSpec<'_>) -> App {
    let organization_id = match spec.owner {
        Subject::Customer(id) => {
            postern::store::customer_users::find(&app.state.db, id).await.unwrap().unwrap().organization_id
        }
        Subject::User(_) => app.organization_id,
    };
    let created = postern::service::applications::create(
        &app.state,
        NewApplicationInput {
            organization_id,
            name: spec.name.into(),
            active: true,
            grant_type: GrantType::AuthorizationCode,
            side: spec.side,
            owner: Some(spec.owner),
            confidential: spec.confidential,
            skip_consent: spec.skip_consent,
            redirect_uris: spec.redirect_uris,
            post_logout_redirect_uris: vec![],
        },
    )
    .await
    .unwrap();
    App { client_id: created.client_id, secret: created.client_secret.map(|s| s.expose().to_owned()), side: spec.side }
}

pub async fn backoffice_app(app: &TestApp, name: &str) -> App {
    create_app(
        app,
        AppSpec {
            name,
            side: Side::BackOffice,
            owner: Subject::User(app.admin_id),
            confidential: true,
            skip_consent: false,
            redirect_uris: vec![CALLBACK.into()],
        },
    )
    .await
}

pub fn path_of(url: &str) -> String {
    url.strip_prefix(BASE).unwrap_or(url).to_owned()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).unwrap();
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// What the browser ends on after GET of an authorization URL.
pub enum Landing {
    /// The consent page: its path and query, and its hidden fields.
    Consent { page: Response, fields: Vec<(String, String)> },
    /// Redirected back to the application.
    Back(String),
}

pub async fn visit(app: &TestApp, authorize_url: &str, cookies: &str) -> Landing {
    let response = get(app, &path_of(authorize_url), cookies).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let location = response.header("location").unwrap().to_owned();
    if location.starts_with(CALLBACK) {
        return Landing::Back(location);
    }
    assert!(location.contains("/oauth2-token/consent?"), "{location}");
    let page = get(app, &location, cookies).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let fields = hidden_fields(&page.body);
    Landing::Consent { page, fields }
}

/// Answers the consent page; returns where the browser is sent.
pub async fn answer(app: &TestApp, side: Side, fields: &[(String, String)], decision: &str, cookies: &str) -> String {
    let mut form = fields.to_vec();
    form.push(("decision".into(), decision.into()));
    let action = match side {
        Side::BackOffice => "/admin/oauth2-token/authorize",
        Side::Storefront => "/oauth2-token/authorize",
    };
    let response = post_form(app, action, cookies, &serde_urlencoded::to_string(&form).unwrap()).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    response.header("location").unwrap().to_owned()
}

/// Authorize → consent → Grant; returns the code (after checking `state`).
pub async fn authorize_and_grant(app: &TestApp, url: &str, state: &CsrfToken, side: Side, cookies: &str) -> String {
    let back = match visit(app, url, cookies).await {
        Landing::Consent { fields, .. } => answer(app, side, &fields, "grant", cookies).await,
        Landing::Back(location) => location,
    };
    assert!(back.starts_with(CALLBACK), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some(state.secret().as_str()));
    query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"))
}

pub fn grant_error<T>(
    result: Result<T, RequestTokenError<impl std::error::Error, oauth2::basic::BasicErrorResponse>>,
) -> BasicErrorResponseType {
    match result {
        Err(RequestTokenError::ServerResponse(e)) => e.error().clone(),
        Err(other) => panic!("expected an OAuth error response, got {other:?}"),
        Ok(_) => panic!("expected an error, got a token"),
    }
}
