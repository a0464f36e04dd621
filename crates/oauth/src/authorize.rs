//! The authorization request (RFC 6749 §4.1.1, §4.1.2.1, RFC 7636 §4.3):
//! which failures show an error page (the redirect URI cannot be trusted)
//! and which go back to the client as `error`, `error_description`, `state`.

use super::error::ErrorCode;
use super::grant::GrantType;
use super::oidc::{self, ClaimsRequest, Prompt};
use super::pkce::CodeChallenge;
use super::redirect_uri;
use super::scope::Scope;
use crate::Side;
use url::Url;

/// What the authorization endpoint needs to know of the client named by
/// `client_id` (looked up by the caller).
#[derive(Debug, Clone)]
pub struct AuthorizingClient {
    pub client_id: String,
    pub name: String,
    pub active: bool,
    pub side: Side,
    pub grant_type: GrantType,
    pub confidential: bool,
    pub skip_consent: bool,
    pub redirect_uris: Vec<String>,
}

/// A request that passed every check: what the login and consent pages act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Scope,
    pub state: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    /// OpenID Connect Core §3.1.2.1 (also honoured without `openid`: they
    /// say how to treat the person, whatever the token is for).
    pub authentication: Authentication,
}

/// The authentication request's parameters (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Authentication {
    /// Echoed in the ID token (only with `openid`).
    pub nonce: Option<String>,
    pub prompt: Prompt,
    /// Seconds since the person signed in beyond which they sign in again.
    pub max_age: Option<i64>,
    /// The user name to fill in on the login page.
    pub login_hint: Option<String>,
    /// An ID token Postern issued, naming the person expected (checked by
    /// the caller, which has the keys).
    pub id_token_hint: Option<String>,
    /// The languages the person prefers, in order (`ui_locales`).
    pub ui_locales: Vec<String>,
    pub claims: Option<ClaimsRequest>,
}

impl Eq for Authentication {}

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Shown to the person; never a redirect (RFC 6749 §4.1.2.1).
    Page(&'static str),
    /// The client is of the other side: the endpoint does not exist for it
    /// (docs/architecture.md#two-sides-two-issuers).
    NotFound,
    /// Sent back to the client's redirect URI.
    Redirect { redirect_uri: String, error: ErrorCode, description: String, state: Option<String> },
}

/// Longest `state` carried back; longer ones are refused rather than cut.
pub const MAX_STATE: usize = 1024;

/// The parameters as they arrived (`None`: absent; a parameter given twice
/// is `Err(name)` from [`single`]).
#[derive(Debug, Clone, Default)]
pub struct RawRequest<'a> {
    pub client_id: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub response_type: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub state: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub prompt: Option<&'a str>,
    pub max_age: Option<&'a str>,
    pub login_hint: Option<&'a str>,
    pub id_token_hint: Option<&'a str>,
    pub ui_locales: Option<&'a str>,
    pub claims: Option<&'a str>,
    pub display: Option<&'a str>,
    pub response_mode: Option<&'a str>,
    /// Present means refused: Postern takes no request objects or
    /// registration parameter (Core §6, §7.2).
    pub request: Option<&'a str>,
    pub request_uri: Option<&'a str>,
    pub registration: Option<&'a str>,
}

/// The one value of `name` in `pairs`; an empty value counts as absent.
/// RFC 6749 §3.1: parameters MUST NOT be included more than once.
pub fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, String> {
    let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
    match (values.next(), values.next()) {
        (Some(_), Some(_)) => Err(name.to_owned()),
        (Some(v), None) if !v.is_empty() => Ok(Some(v)),
        _ => Ok(None),
    }
}

/// Checks an authorization request for an endpoint of side `side`.
/// `client` is the application `raw.client_id` names, if any.
pub fn validate(
    raw: &RawRequest<'_>,
    client: Option<&AuthorizingClient>,
    side: Side,
) -> Result<AuthorizationRequest, AuthorizeError> {
    if raw.client_id.is_none() {
        return Err(AuthorizeError::Page("The request has no client_id."));
    }
    let client = match client {
        Some(c) if c.side != side => return Err(AuthorizeError::NotFound),
        Some(c) if c.active => c,
        _ => return Err(AuthorizeError::Page("The application is unknown or inactive.")),
    };
    let redirect_uri = redirect_uri::resolve(raw.redirect_uri, &client.redirect_uris).map_err(|e| match e {
        redirect_uri::RedirectError::Missing => {
            AuthorizeError::Page("The request has no redirect_uri, and the application registered several.")
        }
        redirect_uri::RedirectError::Mismatch => {
            AuthorizeError::Page("The redirect_uri is not one the application registered.")
        }
    })?;
    // From here on the redirect URI is trusted.
    let state = raw.state.map(str::to_owned);
    let back = |error: ErrorCode, description: &str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description: description.to_owned(),
        state: state.clone().filter(|s| s.len() <= MAX_STATE),
    };
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
        return Err(back(ErrorCode::InvalidRequest, "state is longer than 1024 characters."));
    }
    match raw.response_type {
        None => return Err(back(ErrorCode::InvalidRequest, "response_type is required.")),
        Some("code") => {}
        Some(_) => return Err(back(ErrorCode::UnsupportedResponseType, "Only response_type=code is supported.")),
    }
    if client.grant_type != GrantType::AuthorizationCode {
        return Err(back(
            ErrorCode::UnauthorizedClient,
            "The application is not registered for the authorization code grant.",
        ));
    }
    let code_challenge = CodeChallenge::from_request(raw.code_challenge, raw.code_challenge_method)
        .map_err(|e| back(ErrorCode::InvalidRequest, &e.to_string()))?;
    // RFC 9700 §2.1.1: public clients must use PKCE.
    if code_challenge.is_none() && !client.confidential {
        return Err(back(ErrorCode::InvalidRequest, "code_challenge (S256) is required for public clients."));
    }
    let authentication = authentication(raw).map_err(|(code, description)| back(code, &description))?;
    let mut scope = Scope::parse(raw.scope.unwrap_or(""))
        .and_then(|s| s.granted_for(client.side))
        .map_err(|e| back(ErrorCode::InvalidScope, &e.description))?;
    // Core §5.5: a claim asked for by name is asked of the person through
    // the scope that releases it (the consent page lists that scope).
    if let Some(claims) = authentication.claims.as_ref().filter(|_| scope.is_openid()) {
        let named = claims.scopes().collect::<Vec<_>>().join(" ");
        if let Ok(more) = Scope::parse(&named).and_then(|s| s.granted_for(client.side)) {
            scope = scope.union(&more);
        }
    }
    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        scope,
        state,
        code_challenge,
        authentication,
    })
}

/// Checks the OpenID Connect parameters of a request whose redirect URI is
/// trusted; an error goes back to it.
fn authentication(raw: &RawRequest<'_>) -> Result<Authentication, (ErrorCode, String)> {
    let invalid = |description: String| (ErrorCode::InvalidRequest, description);
    if raw.request.is_some() {
        return Err((ErrorCode::RequestNotSupported, "Request objects (request) are not supported.".into()));
    }
    if raw.request_uri.is_some() {
        return Err((ErrorCode::RequestUriNotSupported, "request_uri is not supported.".into()));
    }
    if raw.registration.is_some() {
        return Err((ErrorCode::RegistrationNotSupported, "The registration parameter is not supported.".into()));
    }
    match raw.response_mode {
        None | Some("query") => {}
        Some(other) => return Err(invalid(format!("response_mode \"{other}\" is not supported; only query is."))),
    }
    if raw.nonce.is_some_and(|n| n.len() > oidc::MAX_NONCE) {
        return Err(invalid(format!("nonce is longer than {} characters.", oidc::MAX_NONCE)));
    }
    if raw.login_hint.is_some_and(|h| h.len() > oidc::MAX_LOGIN_HINT) {
        return Err(invalid(format!("login_hint is longer than {} characters.", oidc::MAX_LOGIN_HINT)));
    }
    if raw.id_token_hint.is_some_and(|h| h.len() > 16 * 1024) {
        return Err(invalid("id_token_hint is too long.".into()));
    }
    oidc::check_display(raw.display).map_err(invalid)?;
    let prompt = Prompt::parse(raw.prompt).map_err(invalid)?;
    let max_age = oidc::parse_max_age(raw.max_age).map_err(invalid)?;
    let claims = raw.claims.map(ClaimsRequest::parse).transpose().map_err(invalid)?;
    let ui_locales = raw
        .ui_locales
        .unwrap_or("")
        .split(' ')
        .filter(|l| !l.is_empty() && l.len() <= 35)
        .take(10)
        .map(str::to_owned)
        .collect();
    Ok(Authentication {
        nonce: raw.nonce.map(str::to_owned),
        prompt,
        max_age,
        login_hint: raw.login_hint.map(str::to_owned),
        id_token_hint: raw.id_token_hint.map(str::to_owned),
        ui_locales,
        claims,
    })
}

/// The redirect back to the client (RFC 6749 §4.1.2 / §4.1.2.1): `pairs`
/// are added to the redirect URI's query, keeping the query it had.
pub fn redirect_url(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    match Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs {
                    query.append_pair(k, v);
                }
            }
            url.into()
        }
        // Registered URIs are checked URLs; this only keeps the function total.
        Err(_) => redirect_uri.to_owned(),
    }
}

impl AuthorizeError {
    /// Where a `Redirect` error sends the browser, with `iss` (RFC 9207
    /// §2: every authorization response, error responses included).
    pub fn location(&self, issuer: &str) -> Option<String> {
        match self {
            AuthorizeError::Redirect { redirect_uri, error, description, state } => {
                let mut pairs = vec![("error", error.as_str()), ("error_description", description.as_str())];
                if let Some(s) = state {
                    pairs.push(("state", s.as_str()));
                }
                pairs.push(("iss", issuer));
                Some(redirect_url(redirect_uri, &pairs))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client() -> AuthorizingClient {
        AuthorizingClient {
            client_id: "abc".into(),
            name: "Shop app".into(),
            active: true,
            side: Side::Storefront,
            grant_type: GrantType::AuthorizationCode,
            confidential: false,
            skip_consent: false,
            redirect_uris: vec!["https://app.example.com/cb".into()],
        }
    }

    fn raw() -> RawRequest<'static> {
        RawRequest {
            client_id: Some("abc"),
            redirect_uri: Some("https://app.example.com/cb"),
            response_type: Some("code"),
            scope: Some("profile"),
            state: Some("xyz"),
            code_challenge: Some(CHALLENGE),
            code_challenge_method: Some("S256"),
            ..RawRequest::default()
        }
    }

    fn redirected(err: AuthorizeError) -> (ErrorCode, Option<String>) {
        match err {
            AuthorizeError::Redirect { error, state, .. } => (error, state),
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    #[test]
    fn a_good_request_passes() {
        let ok = validate(&raw(), Some(&client()), Side::Storefront).unwrap();
        assert_eq!(ok.redirect_uri, "https://app.example.com/cb");
        assert_eq!(ok.state.as_deref(), Some("xyz"));
        assert!(ok.scope.contains("profile"));
        // Omitted redirect_uri with exactly one registered.
        let omitted = RawRequest { redirect_uri: None, ..raw() };
        assert!(validate(&omitted, Some(&client()), Side::Storefront).is_ok());
    }

    #[test]
    fn untrusted_redirects_get_a_page_never_a_redirect() {
        let c = client();
        assert!(matches!(
            validate(&RawRequest { client_id: None, ..raw() }, Some(&c), Side::Storefront),
            Err(AuthorizeError::Page(_))
        ));
        assert!(matches!(validate(&raw(), None, Side::Storefront), Err(AuthorizeError::Page(_))));
        let inactive = AuthorizingClient { active: false, ..client() };
        assert!(matches!(validate(&raw(), Some(&inactive), Side::Storefront), Err(AuthorizeError::Page(_))));
        let evil = RawRequest { redirect_uri: Some("https://evil.example/cb"), ..raw() };
        assert!(matches!(validate(&evil, Some(&c), Side::Storefront), Err(AuthorizeError::Page(_))));
        let two = AuthorizingClient {
            redirect_uris: vec!["https://a.example/cb".into(), "https://b.example/cb".into()],
            ..client()
        };
        let omitted = RawRequest { redirect_uri: None, ..raw() };
        assert!(matches!(validate(&omitted, Some(&two), Side::Storefront), Err(AuthorizeError::Page(_))));
        assert_eq!(validate(&raw(), Some(&c), Side::BackOffice), Err(AuthorizeError::NotFound));
    }

    #[test]
    fn later_errors_go_back_with_the_state() {
        let c = client();
        let cases = [
            (RawRequest { response_type: None, ..raw() }, ErrorCode::InvalidRequest),
            (RawRequest { response_type: Some("token"), ..raw() }, ErrorCode::UnsupportedResponseType),
            (RawRequest { code_challenge: None, code_challenge_method: None, ..raw() }, ErrorCode::InvalidRequest),
            (RawRequest { code_challenge_method: Some("plain"), ..raw() }, ErrorCode::InvalidRequest),
            (RawRequest { code_challenge: Some("short"), ..raw() }, ErrorCode::InvalidRequest),
            (RawRequest { scope: Some("users:read"), ..raw() }, ErrorCode::InvalidScope),
            (RawRequest { prompt: Some("none login"), ..raw() }, ErrorCode::InvalidRequest),
            (RawRequest { max_age: Some("-5"), ..raw() }, ErrorCode::InvalidRequest),
            (RawRequest { claims: Some("{nope"), ..raw() }, ErrorCode::InvalidRequest),
            (RawRequest { display: Some("tv"), ..raw() }, ErrorCode::InvalidRequest),
            (RawRequest { response_mode: Some("fragment"), ..raw() }, ErrorCode::InvalidRequest),
            (RawRequest { request: Some("eyJ..."), ..raw() }, ErrorCode::RequestNotSupported),
            (RawRequest { request_uri: Some("https://x"), ..raw() }, ErrorCode::RequestUriNotSupported),
            (RawRequest { registration: Some("{}"), ..raw() }, ErrorCode::RegistrationNotSupported),
        ];
        for (request, code) in cases {
            assert_eq!(
                redirected(validate(&request, Some(&c), Side::Storefront).unwrap_err()),
                (code, Some("xyz".into()))
            );
        }
        let cc = AuthorizingClient { grant_type: GrantType::ClientCredentials, ..client() };
        assert_eq!(
            redirected(validate(&raw(), Some(&cc), Side::Storefront).unwrap_err()).0,
            ErrorCode::UnauthorizedClient
        );
        // A confidential client may skip PKCE.
        let confidential = AuthorizingClient { confidential: true, ..client() };
        let no_pkce = RawRequest { code_challenge: None, code_challenge_method: None, ..raw() };
        assert!(validate(&no_pkce, Some(&confidential), Side::Storefront).is_ok());
    }

    #[test]
    fn an_authentication_request_keeps_its_parameters_and_claims_add_their_scope() {
        let request = RawRequest {
            scope: Some("openid"),
            nonce: Some("n-0S6"),
            prompt: Some("login consent"),
            max_age: Some("60"),
            login_hint: Some("ada"),
            ui_locales: Some("de-CH fr"),
            claims: Some(r#"{"userinfo":{"email":{"essential":true}}}"#),
            display: Some("popup"),
            ..raw()
        };
        let ok = validate(&request, Some(&client()), Side::Storefront).unwrap();
        assert_eq!(ok.scope.to_string(), "email openid");
        let a = ok.authentication;
        assert_eq!(a.nonce.as_deref(), Some("n-0S6"));
        assert!(a.prompt.login && a.prompt.consent);
        assert_eq!(a.max_age, Some(60));
        assert_eq!(a.login_hint.as_deref(), Some("ada"));
        assert_eq!(a.ui_locales, ["de-CH", "fr"]);
        // Without openid, a claims request adds nothing.
        let plain = RawRequest { scope: Some("profile"), ..request };
        assert_eq!(validate(&plain, Some(&client()), Side::Storefront).unwrap().scope.to_string(), "profile");
    }

    #[test]
    fn error_redirects_keep_the_registered_query_and_encode_values() {
        let err = AuthorizeError::Redirect {
            redirect_uri: "https://app.example.com/cb?tenant=7".into(),
            error: ErrorCode::AccessDenied,
            description: "The user said no.".into(),
            state: Some("a b&c".into()),
        };
        assert_eq!(
            err.location("https://auth.example.com/admin").unwrap(),
            "https://app.example.com/cb?tenant=7&error=access_denied&error_description=The+user+said+no.&state=a+b%26c\
             &iss=https%3A%2F%2Fauth.example.com%2Fadmin"
        );
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let pairs = vec![
            ("client_id".to_string(), "a".to_string()),
            ("client_id".to_string(), "b".to_string()),
            ("state".to_string(), String::new()),
        ];
        assert_eq!(single(&pairs, "client_id"), Err("client_id".to_string()));
        assert_eq!(single(&pairs, "state"), Ok(None));
        assert_eq!(single(&pairs, "scope"), Ok(None));
    }
}
