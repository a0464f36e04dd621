//! OpenID Connect Core 1.0 on top of the authorization code flow: the
//! authentication request's own parameters (§3.1.2.1), the `claims`
//! request (§5.5), the claims each scope releases (§5.4), and the ID
//! token's claims (§2, §3.1.3.6). Pure, like the rest of this crate.

use crate::jwt::Alg;
use crate::scope::Scope;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha512};
use std::collections::BTreeMap;

/// Longest `nonce` stored with a code (the column's limit).
pub const MAX_NONCE: usize = 1024;
/// Longest `login_hint` (a user name is at most 255 characters).
pub const MAX_LOGIN_HINT: usize = 255;
/// Longest `claims` request kept (the column's limit).
pub const MAX_CLAIMS: usize = 8192;

/// The claims each OpenID Connect scope releases (Core §5.4), as far as
/// Postern knows them of a person: no full name, no birthdate, no
/// address or phone number, so neither is claimed.
pub const SCOPE_CLAIMS: &[(&str, &[&str])] =
    &[("profile", &["preferred_username", "locale", "updated_at"]), ("email", &["email", "email_verified"])];

/// Every claim an ID token or the UserInfo endpoint may carry
/// (Discovery §3 `claims_supported`).
pub const CLAIMS_SUPPORTED: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "azp",
    "at_hash",
    "preferred_username",
    "locale",
    "updated_at",
    "email",
    "email_verified",
];

/// The `prompt` values (Core §3.1.2.1), as a set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

/// The `prompt` values Postern acts on (Discovery `prompt_values_supported`).
pub const PROMPT_VALUES: &[&str] = &["none", "login", "consent", "select_account"];

impl Prompt {
    /// Parses the space-delimited `prompt` parameter. `none` with any other
    /// value is an error (§3.1.2.1), and so is a value Postern does not know.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let mut prompt = Prompt::default();
        for value in raw.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => prompt.select_account = true,
                other => {
                    return Err(format!("prompt \"{other}\" is not supported (none, login, consent, select_account)."))
                }
            }
        }
        if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
            return Err("prompt=none cannot be combined with other values.".into());
        }
        Ok(prompt)
    }

    /// True when the person must sign in again: `login`, and
    /// `select_account` (Postern keeps one session a side, so choosing
    /// another account means signing in as it).
    pub fn forces_login(&self) -> bool {
        self.login || self.select_account
    }
}

/// Parses `max_age` (Core §3.1.2.1): seconds, a non-negative integer.
pub fn parse_max_age(raw: Option<&str>) -> Result<Option<i64>, String> {
    match raw {
        None => Ok(None),
        Some(v) if !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()) => Ok(v.parse().ok()),
        Some(_) => Err("max_age must be a number of seconds (a non-negative integer).".into()),
    }
}

/// `display` (Core §3.1.2.1): accepted; the pages fit every screen.
pub fn check_display(raw: Option<&str>) -> Result<(), String> {
    match raw {
        None | Some("page" | "popup" | "touch" | "wap") => Ok(()),
        Some(other) => Err(format!("display \"{other}\" is not one of page, popup, touch, wap.")),
    }
}

/// One requested claim (§5.5.1): `null`, or `essential`, `value`, `values`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaimRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub essential: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
}

/// The `claims` request parameter (Core §5.5), as checked: the claims
/// asked for in the ID token and from the UserInfo endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaimsRequest {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub userinfo: BTreeMap<String, ClaimRequest>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub id_token: BTreeMap<String, ClaimRequest>,
}

impl ClaimsRequest {
    /// Parses the JSON of the `claims` parameter. Members other than
    /// `userinfo` and `id_token` are ignored (§5.5); each claim is `null`
    /// or an object.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > MAX_CLAIMS {
            return Err(format!("claims is longer than {MAX_CLAIMS} characters."));
        }
        let bad = |why: &str| format!("claims is not a valid claims request (OpenID Connect Core §5.5): {why}.");
        let value: Value = serde_json::from_str(raw).map_err(|_| bad("not JSON"))?;
        let Value::Object(top) = value else { return Err(bad("not a JSON object")) };
        let member = |name: &str| -> Result<BTreeMap<String, ClaimRequest>, String> {
            match top.get(name) {
                None | Some(Value::Null) => Ok(BTreeMap::new()),
                Some(Value::Object(claims)) => claims
                    .iter()
                    .map(|(claim, request)| {
                        let request = match request {
                            Value::Null => ClaimRequest::default(),
                            Value::Object(_) => serde_json::from_value(request.clone())
                                .map_err(|_| bad(&format!("{name}.{claim} is malformed")))?,
                            _ => return Err(bad(&format!("{name}.{claim} is neither null nor an object"))),
                        };
                        Ok((claim.clone(), request))
                    })
                    .collect(),
                Some(_) => Err(bad(&format!("{name} is not an object"))),
            }
        };
        Ok(ClaimsRequest { userinfo: member("userinfo")?, id_token: member("id_token")? })
    }

    /// The scopes whose claims were asked for by name: they are asked of
    /// the person on the consent page like the scopes of the request.
    pub fn scopes(&self) -> impl Iterator<Item = &'static str> + '_ {
        SCOPE_CLAIMS
            .iter()
            .filter(|(_, claims)| {
                claims.iter().any(|c| self.userinfo.contains_key(*c) || self.id_token.contains_key(*c))
            })
            .map(|(scope, _)| *scope)
    }

    /// The `sub` the request insists on (§5.5.1: only that person may be
    /// answered for), if any.
    pub fn required_sub(&self) -> Option<&str> {
        [&self.id_token, &self.userinfo].into_iter().find_map(|m| m.get("sub")?.value.as_ref()?.as_str())
    }

    /// As stored with the code and the grant (compact JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What Postern knows of a person, for their claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub sub: String,
    pub username: String,
    pub email: String,
    /// A BCP 47 language tag.
    pub language: String,
    pub updated_at: i64,
}

impl Person {
    /// The claims `scope` releases about this person (Core §5.4), `sub` first.
    pub fn claims(&self, scope: &Scope) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::String(self.sub.clone()));
        if scope.contains("profile") {
            claims.insert("preferred_username".into(), Value::String(self.username.clone()));
            claims.insert("locale".into(), Value::String(self.language.clone()));
            claims.insert("updated_at".into(), Value::from(self.updated_at));
        }
        if scope.contains("email") {
            claims.insert("email".into(), Value::String(self.email.clone()));
            // Postern does not confirm addresses by mail: an administrator typed it.
            claims.insert("email_verified".into(), Value::Bool(false));
        }
        claims
    }
}

/// The claims of an ID token (Core §2). The person's claims are added
/// beside these ([`IdTokenClaims::person`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The client the token was issued to (§2), equal to `aud`.
    pub azp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// `preferred_username`, `email`, … as the scope releases them.
    #[serde(flatten)]
    pub person: Map<String, Value>,
}

/// Core §3.1.3.6 `at_hash`: the left half of the hash of the access
/// token's ASCII, base64url, with the hash of the ID token's `alg`: SHA-256
/// for RS256 and ES256, SHA-512 for EdDSA on Ed25519 (the hash Ed25519
/// signs with, as Core's errata set 2 and the relying-party libraries read it).
pub fn at_hash(access_token: &str, alg: Alg) -> String {
    match alg {
        Alg::RS256 | Alg::ES256 => URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]),
        Alg::EdDSA => URL_SAFE_NO_PAD.encode(&Sha512::digest(access_token.as_bytes())[..32]),
    }
}

/// The facts of one ID token that do not come from the person.
#[derive(Debug, Clone)]
pub struct IdTokenContext<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub now: i64,
    pub lifetime: i64,
    pub auth_time: Option<i64>,
    pub nonce: Option<&'a str>,
    pub access_token: &'a str,
    /// The algorithm of the key that signs the ID token (for `at_hash`).
    pub alg: Alg,
}

/// The ID token for `person`, releasing what `scope` allows.
pub fn id_token_claims(person: &Person, scope: &Scope, ctx: &IdTokenContext<'_>) -> IdTokenClaims {
    let mut claims = person.claims(scope);
    claims.remove("sub");
    IdTokenClaims {
        iss: ctx.issuer.to_owned(),
        sub: person.sub.clone(),
        aud: ctx.client_id.to_owned(),
        exp: ctx.now + ctx.lifetime,
        iat: ctx.now,
        auth_time: ctx.auth_time,
        nonce: ctx.nonce.map(str::to_owned),
        azp: ctx.client_id.to_owned(),
        at_hash: Some(at_hash(ctx.access_token, ctx.alg)),
        person: claims,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_sha256() {
        // OpenID Connect Core's example (§A.3): this access token's at_hash.
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", Alg::RS256), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", Alg::ES256), "77QmUPtjPfzWtF2AnpK9RQ");
        // SHA-512 for Ed25519: 32 of its 64 bytes.
        assert_eq!(at_hash("token", Alg::EdDSA).len(), 43);
    }

    #[test]
    fn prompt_none_stands_alone_and_unknown_values_are_refused() {
        assert_eq!(Prompt::parse(None).unwrap(), Prompt::default());
        let p = Prompt::parse(Some("login consent")).unwrap();
        assert!(p.login && p.consent && !p.none && p.forces_login());
        assert!(Prompt::parse(Some("none")).unwrap().none);
        assert!(Prompt::parse(Some("none login")).is_err());
        assert!(Prompt::parse(Some("create")).unwrap_err().contains("create"));
        assert!(Prompt::parse(Some("select_account")).unwrap().forces_login());
    }

    #[test]
    fn max_age_is_a_non_negative_integer() {
        assert_eq!(parse_max_age(Some("0")), Ok(Some(0)));
        assert_eq!(parse_max_age(Some("3600")), Ok(Some(3600)));
        assert_eq!(parse_max_age(None), Ok(None));
        for bad in ["-1", "1.5", "abc", "", "99999999999"] {
            assert!(parse_max_age(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_claims_request_names_scopes_and_a_required_sub() {
        let request = ClaimsRequest::parse(
            r#"{"userinfo":{"email":{"essential":true},"nickname":null},"id_token":{"sub":{"value":"42"}},"other":1}"#,
        )
        .unwrap();
        assert_eq!(request.scopes().collect::<Vec<_>>(), ["email"]);
        assert_eq!(request.required_sub(), Some("42"));
        assert_eq!(request.userinfo["email"].essential, Some(true));
        let stored = request.to_json();
        assert_eq!(ClaimsRequest::parse(&stored).unwrap(), request);
        for bad in ["[]", "nope", r#"{"userinfo":[]}"#, r#"{"id_token":{"email":true}}"#] {
            assert!(ClaimsRequest::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_release_their_claims_only() {
        let person = Person {
            sub: "7".into(),
            username: "ada".into(),
            email: "ada@example.com".into(),
            language: "en".into(),
            updated_at: 100,
        };
        let none = person.claims(&Scope::parse("openid").unwrap());
        assert_eq!(none.keys().collect::<Vec<_>>(), ["sub"]);
        let all = person.claims(&Scope::parse("openid profile email").unwrap());
        assert_eq!(all["preferred_username"], "ada");
        assert_eq!(all["email"], "ada@example.com");
        assert_eq!(all["email_verified"], false);
        let ctx = IdTokenContext {
            issuer: "https://auth.example.com",
            client_id: "app",
            now: 1_000,
            lifetime: 300,
            auth_time: Some(900),
            nonce: Some("n-0S6_WzA2Mj"),
            access_token: "token",
            alg: Alg::RS256,
        };
        let token =
            serde_json::to_value(id_token_claims(&person, &Scope::parse("openid email").unwrap(), &ctx)).unwrap();
        assert_eq!(token["aud"], "app");
        assert_eq!(token["exp"], 1_300);
        assert_eq!(token["auth_time"], 900);
        assert_eq!(token["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(token["email"], "ada@example.com");
        assert!(token.get("preferred_username").is_none());
        assert_eq!(token["at_hash"], at_hash("token", Alg::RS256));
    }
}
