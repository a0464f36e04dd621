//! The authorization request (RFC 6749 §4.1.1, §4.1.2.1, RFC 7636 §4.3):
//! which failures show an error page (the redirect URI cannot be trusted)
//! and which go back to the client as `error`, `error_description`, `state`.

use super::error::ErrorCode;
use super::grant::GrantType;
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
}

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
    let scope = Scope::parse(raw.scope.unwrap_or(""))
        .and_then(|s| s.granted_for(client.side))
        .map_err(|e| back(ErrorCode::InvalidScope, &e.description))?;
    Ok(AuthorizationRequest { client_id: client.client_id.clone(), redirect_uri, scope, state, code_challenge })
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
