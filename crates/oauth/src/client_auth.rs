//! Client authentication (RFC 6749 §2.3), for every endpoint that takes it
//! (token, revocation, introspection): which credentials the client
//! presented and how ([`client_credentials`]), and whether they prove it is
//! the registered client and that it may still get tokens ([`authenticate`]).

use super::grant::RegisteredClient;
use super::secret::ClientSecret;
use super::OAuthError;
use base64::Engine;

/// How the client presented its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// RFC 6749 §2.3.1, HTTP Basic (`client_secret_basic`).
    ClientSecretBasic,
    /// RFC 6749 §2.3.1, in the request body (`client_secret_post`).
    ClientSecretPost,
    /// A public client: only `client_id` (RFC 6749 §2.3, `none`).
    None,
}

/// The client identifier and secret a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<ClientSecret>,
    pub method: AuthMethod,
}

/// Longest client_id we look up; anything longer cannot be one of ours.
pub const MAX_CLIENT_ID_LEN: usize = 255;

/// Parses an `Authorization: Basic …` header value into id and secret.
///
/// RFC 6749 §2.3.1: both are `application/x-www-form-urlencoded` before
/// being joined with ':' and base64-encoded.
pub fn parse_basic(header: &str) -> Result<(String, ClientSecret), OAuthError> {
    let malformed = || OAuthError::invalid_client().with_hint("The Basic authorization header is malformed.");
    let (scheme, rest) = header.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_request(
            "Only HTTP Basic authentication is accepted in the Authorization header.",
        ));
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok((id, ClientSecret::new(secret)))
}

fn form_decode(s: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={s}")).ok()?;
    match pairs.as_slice() {
        [(_, v)] => Some(v.clone()),
        [] => Some(String::new()),
        _ => None,
    }
}

/// Combines the Authorization header with `client_id`/`client_secret` from
/// the body into the one set of credentials the request uses.
pub fn client_credentials(
    authorization: Option<&str>,
    body_client_id: Option<&str>,
    body_client_secret: Option<&str>,
) -> Result<ClientCredentials, OAuthError> {
    let creds = match authorization {
        Some(header) => {
            let (client_id, secret) = parse_basic(header)?;
            // RFC 6749 §2.3: a client MUST NOT use more than one authentication method.
            if body_client_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "The client used more than one authentication method (HTTP Basic and client_secret).",
                ));
            }
            if body_client_id.is_some_and(|id| id != client_id) {
                return Err(OAuthError::invalid_request(
                    "The client_id in the body differs from the one in the Authorization header.",
                ));
            }
            ClientCredentials { client_id, secret: Some(secret), method: AuthMethod::ClientSecretBasic }
        }
        None => {
            let client_id = body_client_id
                .ok_or_else(|| OAuthError::invalid_request("The request is missing the client_id parameter."))?;
            match body_client_secret {
                Some(secret) => ClientCredentials {
                    client_id: client_id.to_owned(),
                    secret: Some(ClientSecret::new(secret)),
                    method: AuthMethod::ClientSecretPost,
                },
                None => ClientCredentials { client_id: client_id.to_owned(), secret: None, method: AuthMethod::None },
            }
        }
    };
    if creds.client_id.len() > MAX_CLIENT_ID_LEN {
        return Err(OAuthError::invalid_client());
    }
    Ok(creds)
}

/// Checks the presented credentials against the registered client
/// (RFC 6749 §2.3.1, §3.2.1) and that it may still get tokens (it is active
/// and its owner may act in its organization). Every failure is the same
/// `invalid_client`: a caller learns nothing about which part was wrong.
pub fn authenticate(client: &RegisteredClient, presented: &ClientCredentials) -> Result<(), OAuthError> {
    if !client.issues_tokens {
        return Err(OAuthError::invalid_client());
    }
    if client.confidential {
        let (Some(secret), Some(hash)) = (&presented.secret, &client.secret_hash) else {
            return Err(OAuthError::invalid_client());
        };
        if !secret.matches(hash) {
            return Err(OAuthError::invalid_client());
        }
    } else if presented.secret.is_some() {
        // A public client has no secret; one that sends one is confused or an impostor.
        return Err(OAuthError::invalid_client());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::{GrantType, Side};
    use crate::ErrorCode;

    fn registered(confidential: bool) -> RegisteredClient {
        RegisteredClient {
            client_id: "cid".into(),
            issues_tokens: true,
            grant_type: GrantType::ClientCredentials,
            side: Side::BackOffice,
            confidential,
            secret_hash: confidential.then(|| ClientSecret::new("right").hash().to_vec()),
            owner_subject: Some("7".into()),
        }
    }

    fn presented(secret: Option<&str>) -> ClientCredentials {
        ClientCredentials {
            client_id: "cid".into(),
            secret: secret.map(ClientSecret::new),
            method: if secret.is_some() { AuthMethod::ClientSecretPost } else { AuthMethod::None },
        }
    }

    #[test]
    fn the_right_secret_authenticates_a_confidential_client() {
        assert!(authenticate(&registered(true), &presented(Some("right"))).is_ok());
    }

    #[test]
    fn a_wrong_or_missing_secret_or_a_client_that_may_not_get_tokens_is_invalid_client() {
        let stopped = RegisteredClient { issues_tokens: false, ..registered(true) };
        for (client, creds) in [
            (registered(true), presented(Some("wrong"))),
            (registered(true), presented(None)),
            (stopped, presented(Some("right"))),
            (registered(false), presented(Some("anything"))),
        ] {
            assert_eq!(authenticate(&client, &creds).unwrap_err().code, ErrorCode::InvalidClient);
        }
        assert!(authenticate(&registered(false), &presented(None)).is_ok(), "a public client sends only its id");
    }
    use base64::engine::general_purpose::STANDARD;

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        // RFC 6749 §2.3.1: "%3A" in the id stands for ':'.
        let (id, secret) = parse_basic(&basic("my%3Aapp", "p%2Bss+word")).unwrap();
        assert_eq!(id, "my:app");
        assert_eq!(secret.expose(), "p+ss word");
    }

    #[test]
    fn scheme_is_case_insensitive() {
        let header = basic("app", "secret").replacen("Basic", "bAsIc", 1);
        assert_eq!(parse_basic(&header).unwrap().0, "app");
    }

    #[test]
    fn malformed_basic_is_invalid_client() {
        for header in ["Basic", "Basic !!!notbase64", "Basic Zm9v" /* "foo", no colon */] {
            assert_eq!(parse_basic(header).unwrap_err().code, ErrorCode::InvalidClient, "{header}");
        }
    }

    #[test]
    fn bearer_on_the_token_endpoint_is_invalid_request() {
        let err = client_credentials(Some("Bearer abc"), None, None).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn missing_client_id_is_invalid_request() {
        let err = client_credentials(None, None, Some("secret")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("client_id"));
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let err = client_credentials(Some(&basic("app", "s")), None, Some("s")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        let err = client_credentials(Some(&basic("app", "s")), Some("other"), None).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn method_is_recorded() {
        let c = client_credentials(Some(&basic("app", "s")), Some("app"), None).unwrap();
        assert_eq!(c.method, AuthMethod::ClientSecretBasic);
        let c = client_credentials(None, Some("app"), Some("s")).unwrap();
        assert_eq!(c.method, AuthMethod::ClientSecretPost);
        let c = client_credentials(None, Some("app"), None).unwrap();
        assert_eq!(c.method, AuthMethod::None);
        assert!(c.secret.is_none());
    }

    #[test]
    fn overlong_client_id_is_invalid_client_without_lookup() {
        let long = "a".repeat(MAX_CLIENT_ID_LEN + 1);
        let err = client_credentials(None, Some(&long), Some("s")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidClient);
    }
}
