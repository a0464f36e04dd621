//! OAuth applications (SPEC §2): validation and creation with a one-time
//! client secret.

use super::{now, random, ServiceError};
use crate::oauth::grant::GrantType;
use crate::oauth::redirect_uri;
use crate::oauth::scope::ClientKind;
use crate::oauth::secret::ClientSecret;
use crate::state::AppState;
use crate::store;

/// Who owns an application: a back-office user or a storefront customer user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    User(i64),
    CustomerUser(i64),
}

#[derive(Debug, Clone)]
pub struct NewApplicationInput {
    pub organization_id: i64,
    pub name: String,
    pub active: bool,
    pub grant_type: GrantType,
    pub owner: Option<Owner>,
    pub confidential: bool,
    pub skip_consent: bool,
    pub redirect_uris: Vec<String>,
}

/// A created application and its secret, which exists in clear only here.
#[derive(Debug)]
pub struct CreatedApplication {
    pub id: i64,
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
}

pub const NAME_TAKEN: &str = "The application with the given name already exists.";
pub const NO_REDIRECT_URI: &str = "At least one redirect URL should be specified.";

/// Checks the input; returns the trimmed name.
pub fn validate(input: &NewApplicationInput) -> Result<String, ServiceError> {
    let name = input.name.trim();
    if name.is_empty() {
        return Err(ServiceError::invalid("name", "The application name must not be empty."));
    }
    if name.chars().count() > 255 {
        return Err(ServiceError::invalid("name", "The application name must be at most 255 characters."));
    }
    if name.chars().any(char::is_control) {
        return Err(ServiceError::invalid("name", "The application name must not contain control characters."));
    }
    match input.grant_type {
        GrantType::ClientCredentials => {
            if input.owner.is_none() {
                return Err(ServiceError::invalid("owner", "A client_credentials application needs an owner to act as."));
            }
            if !input.confidential {
                return Err(ServiceError::invalid("confidential", "A client_credentials application must be a confidential client."));
            }
        }
        GrantType::AuthorizationCode => {
            if input.redirect_uris.is_empty() {
                return Err(ServiceError::invalid("redirect_uris", NO_REDIRECT_URI));
            }
            if input.redirect_uris.len() > 20 {
                return Err(ServiceError::invalid("redirect_uris", "At most 20 redirect URLs can be registered."));
            }
            for uri in &input.redirect_uris {
                redirect_uri::validate_registered(uri).map_err(|m| ServiceError::invalid("redirect_uris", m))?;
            }
        }
    }
    Ok(name.to_owned())
}

/// Creates the application in one transaction and returns its credentials.
pub async fn create(state: &AppState, input: NewApplicationInput) -> Result<CreatedApplication, ServiceError> {
    let name = validate(&input)?;
    let kind = match input.owner {
        Some(Owner::CustomerUser(_)) => ClientKind::Storefront,
        _ => ClientKind::BackOffice,
    };
    let client_id = random::client_id();
    let client_secret = input.confidential.then(|| ClientSecret::new(random::client_secret()));
    let new = store::applications::NewApplication {
        organization_id: input.organization_id,
        name,
        client_id: client_id.clone(),
        secret_hash: client_secret.as_ref().map(ClientSecret::hash),
        active: input.active,
        grant_type: input.grant_type.as_str(),
        kind: kind.as_str(),
        owner_user_id: match input.owner {
            Some(Owner::User(id)) => Some(id),
            _ => None,
        },
        owner_customer_user_id: match input.owner {
            Some(Owner::CustomerUser(id)) => Some(id),
            _ => None,
        },
        confidential: input.confidential,
        skip_consent: input.skip_consent,
        redirect_uris: input.redirect_uris,
    };
    let mut tx = state.db.begin().await?;
    let id = match store::applications::insert(&mut tx, &new, now()).await {
        Ok(id) => id,
        Err(e) if store::is_unique_violation(&e) => return Err(ServiceError::invalid("name", NAME_TAKEN)),
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    tracing::info!(application_id = id, client_id = %client_id, "OAuth application created");
    Ok(CreatedApplication { id, client_id, client_secret })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewApplicationInput {
        NewApplicationInput {
            organization_id: 1,
            name: "  Billing sync ".into(),
            active: true,
            grant_type: GrantType::ClientCredentials,
            owner: Some(Owner::User(1)),
            confidential: true,
            skip_consent: false,
            redirect_uris: vec![],
        }
    }

    fn message(err: ServiceError) -> (&'static str, String) {
        match err {
            ServiceError::Invalid { field, message } => (field, message.into_owned()),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn name_is_trimmed_and_required() {
        assert_eq!(validate(&input()).unwrap(), "Billing sync");
        let (field, _) = message(validate(&NewApplicationInput { name: "   ".into(), ..input() }).unwrap_err());
        assert_eq!(field, "name");
        let long = "x".repeat(256);
        let (field, msg) = message(validate(&NewApplicationInput { name: long, ..input() }).unwrap_err());
        assert_eq!((field, msg.contains("255")), ("name", true));
    }

    #[test]
    fn authorization_code_needs_a_redirect_uri() {
        let code = NewApplicationInput { grant_type: GrantType::AuthorizationCode, ..input() };
        assert_eq!(message(validate(&code).unwrap_err()), ("redirect_uris", NO_REDIRECT_URI.to_string()));
        let bad = NewApplicationInput { redirect_uris: vec!["not a url".into()], ..code.clone() };
        assert_eq!(message(validate(&bad).unwrap_err()).0, "redirect_uris");
        let good = NewApplicationInput { redirect_uris: vec!["https://app.example.com/cb".into()], ..code };
        assert!(validate(&good).is_ok());
    }

    #[test]
    fn client_credentials_must_be_confidential() {
        let public = NewApplicationInput { confidential: false, ..input() };
        assert_eq!(message(validate(&public).unwrap_err()).0, "confidential");
    }
}
