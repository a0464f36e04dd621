//! Parsing a token request (RFC 6749 §3.2, §4.4.2) from its body, form or
//! JSON (accepted beside RFC 6749's form encoding; README: Using it), into
//! a [`TokenRequest`].

use super::client_auth::{client_credentials, ClientCredentials};
use super::scope::Scope;
use super::OAuthError;
use std::collections::BTreeMap;

/// Request parameters, each present at most once, empty values dropped
/// (RFC 6749 §3.1: "sent without a value MUST be treated as if they were
/// omitted").
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

/// Largest body we parse; the HTTP layer refuses larger ones before reading.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn insert(&mut self, name: String, value: String) -> Result<(), OAuthError> {
        if self.0.contains_key(&name) {
            // RFC 6749 §3.2: parameters MUST NOT be included more than once.
            return Err(OAuthError::invalid_request(format!(
                "The parameter \"{}\" is included more than once.",
                printable(&name)
            )));
        }
        // RFC 6749 Appendix A: every parameter of these endpoints is printable
        // (VSCHAR, NQCHAR or a URI reference). A control character is no
        // value we could have issued or registered, and NUL cannot even be
        // stored in PostgreSQL's text: refused here, the same on both engines.
        if name.chars().chain(value.chars()).any(|c| c.is_ascii_control()) {
            return Err(OAuthError::invalid_request(format!(
                "The parameter \"{}\" contains a control character.",
                printable(&name)
            )));
        }
        if !value.is_empty() {
            self.0.insert(name, value);
        }
        Ok(())
    }

    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn from_form(body: &[u8]) -> Result<Self, OAuthError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
            OAuthError::invalid_request("The request body is not valid application/x-www-form-urlencoded.")
        })?;
        let mut params = Params::default();
        for (name, value) in pairs {
            params.insert(name, value)?;
        }
        Ok(params)
    }

    /// Parses an `application/json` body: one object whose members are strings.
    pub fn from_json(body: &[u8]) -> Result<Self, OAuthError> {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| OAuthError::invalid_request("The request body is not valid JSON."))?;
        let serde_json::Value::Object(object) = value else {
            return Err(OAuthError::invalid_request("The request body must be a JSON object."));
        };
        let mut params = Params::default();
        for (name, value) in object {
            match value {
                serde_json::Value::String(s) => params.insert(name, s)?,
                serde_json::Value::Null => {}
                _ => {
                    return Err(OAuthError::invalid_request(format!(
                        "The parameter \"{}\" must be a string.",
                        printable(&name)
                    )))
                }
            }
        }
        Ok(params)
    }
}

/// A parameter name safe to echo in an error description.
fn printable(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// What the client asks for, by grant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantRequest {
    /// RFC 6749 §4.4.2.
    ClientCredentials { scope: Scope },
    /// RFC 6749 §4.1.3, RFC 7636 §4.5.
    AuthorizationCode { code: String, redirect_uri: Option<String>, code_verifier: Option<String> },
    /// RFC 6749 §6: `scope` may narrow the grant's scope; `None` keeps it.
    RefreshToken { refresh_token: String, scope: Option<Scope> },
}

/// Longest code, refresh token or verifier we look at; ours are 43 characters.
const MAX_TOKEN_LEN: usize = 512;

fn required(params: &Params, name: &'static str) -> Result<String, OAuthError> {
    let value = params
        .get(name)
        .ok_or_else(|| OAuthError::invalid_request(format!("The request is missing the {name} parameter.")))?;
    if value.len() > MAX_TOKEN_LEN {
        // Not one we issued: the grant is invalid, whatever it is.
        return Err(OAuthError::invalid_grant(format!("The {name} is not valid.")));
    }
    Ok(value.to_owned())
}

/// A parsed token request: who is asking and for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub client: ClientCredentials,
    pub grant: GrantRequest,
}

impl TokenRequest {
    /// Builds the request from its parameters and Authorization header.
    ///
    /// Order of checks: grant_type present and supported, then client
    /// credentials present (RFC 6749 §5.2: a missing client_id, like any
    /// missing parameter, is invalid_request),
    /// then the grant's own parameters.
    pub fn parse(params: &Params, authorization: Option<&str>) -> Result<Self, OAuthError> {
        let grant_type = params
            .get("grant_type")
            .ok_or_else(|| OAuthError::invalid_request("The request is missing the grant_type parameter."))?;
        let grant = match grant_type {
            "client_credentials" => GrantRequest::ClientCredentials { scope: requested_scope(params)? },
            "authorization_code" => GrantRequest::AuthorizationCode {
                code: required(params, "code")?,
                redirect_uri: params.get("redirect_uri").map(str::to_owned),
                code_verifier: params.get("code_verifier").map(str::to_owned),
            },
            "refresh_token" => GrantRequest::RefreshToken {
                refresh_token: required(params, "refresh_token")?,
                scope: match (params.get("scope"), params.get("scopes")) {
                    (None, None) => None,
                    _ => Some(requested_scope(params)?),
                },
            },
            other => {
                return Err(OAuthError::new(
                    super::ErrorCode::UnsupportedGrantType,
                    format!("The grant type \"{}\" is not supported.", printable(other)),
                )
                .with_hint("Supported grant types: client_credentials, authorization_code, refresh_token."))
            }
        };
        let client = client_credentials(authorization, params.get("client_id"), params.get("client_secret"))?;
        Ok(TokenRequest { client, grant })
    }
}

/// `scope` (RFC 6749) or `scopes` (Oro's documentation); both only if equal.
fn requested_scope(params: &Params) -> Result<Scope, OAuthError> {
    match (params.get("scope"), params.get("scopes")) {
        (Some(a), Some(b)) if a != b => {
            Err(OAuthError::invalid_request("The parameters \"scope\" and \"scopes\" disagree; send one of them."))
        }
        (Some(s), _) | (None, Some(s)) => Scope::parse(s),
        (None, None) => Ok(Scope::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_auth::AuthMethod;
    use crate::ErrorCode;

    #[test]
    fn form_and_json_give_the_same_request() {
        let form = Params::from_form(b"grant_type=client_credentials&client_id=app&client_secret=s&scope=users%3Aread")
            .unwrap();
        let json = Params::from_json(
            br#"{"grant_type":"client_credentials","client_id":"app","client_secret":"s","scope":"users:read"}"#,
        )
        .unwrap();
        assert_eq!(form, json);
        let req = TokenRequest::parse(&form, None).unwrap();
        assert_eq!(req.client.client_id, "app");
        assert_eq!(req.client.method, AuthMethod::ClientSecretPost);
        let GrantRequest::ClientCredentials { scope } = req.grant else { panic!("{:?}", req.grant) };
        assert_eq!(scope.to_string(), "users:read");
    }

    #[test]
    fn duplicated_parameter_is_invalid_request() {
        let err = Params::from_form(b"grant_type=client_credentials&grant_type=client_credentials").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("grant_type"));
    }

    #[test]
    fn empty_values_count_as_omitted() {
        let params = Params::from_form(b"grant_type=client_credentials&client_id=").unwrap();
        let err = TokenRequest::parse(&params, None).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("client_id"));
    }
    #[test]
    fn control_characters_are_invalid_request_in_any_body() {
        for body in [&b"grant_type=client_credentials&client_id=a%00b"[..], b"client_id=x&scope=a%0Ab", b"na%00me=v"] {
            let err = Params::from_form(body).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequest, "{}", String::from_utf8_lossy(body));
            assert!(err.description.contains("control character"));
            assert!(!err.description.contains('\0'), "the description never echoes the character");
        }
        let err = Params::from_json(b"{\"client_id\": \"a\\u0000b\"}").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        // Printable Unicode stays allowed (a name, a state value).
        assert!(Params::from_form("state=%C3%A9t%C3%A9".as_bytes()).is_ok());
    }

    #[test]
    fn json_must_be_an_object_of_strings() {
        assert_eq!(Params::from_json(b"[1,2]").unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(Params::from_json(b"{\"client_id\": 12}").unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(Params::from_json(b"{not json").unwrap_err().code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn missing_and_unsupported_grant_types() {
        let err = TokenRequest::parse(&Params::from_form(b"client_id=a").unwrap(), None).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        let err =
            TokenRequest::parse(&Params::from_form(b"grant_type=password&client_id=a").unwrap(), None).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnsupportedGrantType);
    }

    #[test]
    fn scopes_is_accepted_as_oro_names_it() {
        let params = Params::from_form(b"grant_type=client_credentials&client_id=a&scopes=users%3Aread").unwrap();
        let GrantRequest::ClientCredentials { scope } = TokenRequest::parse(&params, None).unwrap().grant else {
            panic!("not client_credentials")
        };
        assert!(scope.contains("users:read"));
        let params = Params::from_form(b"grant_type=client_credentials&client_id=a&scopes=x&scope=y").unwrap();
        assert_eq!(TokenRequest::parse(&params, None).unwrap_err().code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn code_and_refresh_grants_name_their_missing_parameter() {
        let params = Params::from_form(b"grant_type=authorization_code&client_id=a").unwrap();
        let err = TokenRequest::parse(&params, None).unwrap_err();
        assert_eq!(
            (err.code, err.description.as_ref()),
            (ErrorCode::InvalidRequest, "The request is missing the code parameter.")
        );
        let params = Params::from_form(b"grant_type=refresh_token&client_id=a").unwrap();
        assert!(TokenRequest::parse(&params, None).unwrap_err().description.contains("refresh_token"));
        let params = Params::from_form(
            b"grant_type=authorization_code&client_id=a&code=c&redirect_uri=https%3A%2F%2Fx&code_verifier=v",
        )
        .unwrap();
        let req = TokenRequest::parse(&params, None).unwrap();
        assert_eq!(req.client.method, AuthMethod::None);
        assert_eq!(
            req.grant,
            GrantRequest::AuthorizationCode {
                code: "c".into(),
                redirect_uri: Some("https://x".into()),
                code_verifier: Some("v".into())
            }
        );
        let params = Params::from_form(b"grant_type=refresh_token&client_id=a&refresh_token=r").unwrap();
        assert_eq!(
            TokenRequest::parse(&params, None).unwrap().grant,
            GrantRequest::RefreshToken { refresh_token: "r".into(), scope: None }
        );
    }

    #[test]
    fn control_characters_are_not_echoed() {
        let err = Params::from_form(b"a%0Ab=1&a%0Ab=2").unwrap_err();
        assert!(!err.description.contains('\n'));
    }
}
