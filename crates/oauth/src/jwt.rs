//! JWT access tokens (RFC 9068, RS256) and the keys that sign and verify
//! them. Parsing a key is done once, when it is loaded; nothing here reads
//! files or the clock.

use super::oidc::IdTokenClaims;
use super::sign_in_mark::MarkKey;
use super::OAuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// RFC 9068 §2.1: the `typ` header of a JWT access token.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// The `typ` of an ID token (RFC 7519 §5.1; OpenID Connect sets none, and
/// `JWT` is what every relying party accepts), so that an ID token never
/// passes for an access token (RFC 8725 §3.11).
pub const ID_TOKEN_TYP: &str = "JWT";

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Why a key could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the private key is not an RSA private key in PEM form (PKCS#1 or PKCS#8)")]
    BadPrivateKey,
    #[error("the public key is not an RSA public key in PEM form (SPKI or PKCS#1)")]
    BadPublicKey,
    #[error("the public key does not belong to the private key")]
    Mismatch,
    #[error("the RSA key is {0} bits; at least 2048 are required")]
    TooShort(usize),
}

/// The public half of a signing key as a JWK (RFC 7517), with its `kid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicJwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

/// A key that verifies tokens.
#[derive(Clone)]
pub struct VerifyingKey {
    pub jwk: PublicJwk,
    decoding: DecodingKey,
}

impl VerifyingKey {
    pub fn from_public_pem(public_pem: &str) -> Result<Self, KeyError> {
        let public = RsaPublicKey::from_public_key_pem(public_pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(public_pem))
            .map_err(|_| KeyError::BadPublicKey)?;
        Self::from_rsa(&public)
    }

    fn from_rsa(public: &RsaPublicKey) -> Result<Self, KeyError> {
        let bits = public.size() * 8;
        if bits < 2048 {
            return Err(KeyError::TooShort(bits));
        }
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|_| KeyError::BadPublicKey)?;
        let kid = thumbprint(&n, &e);
        Ok(Self { jwk: PublicJwk { kty: "RSA", use_: "sig", alg: "RS256", kid, n, e }, decoding })
    }

    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey").field("kid", &self.jwk.kid).finish()
    }
}

/// RFC 7638 JWK thumbprint: base64url(SHA-256 of the canonical JWK).
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A private key that signs tokens, with its public half. The key is
/// parsed once, here; signing only does the RSA operation.
pub struct SigningKey {
    private: PKey<Private>,
    /// The base64url JOSE header of every access token it signs (RS256, `at+jwt`, its `kid`).
    header: String,
    /// The header of every ID token it signs (RS256, `JWT`, its `kid`).
    id_header: String,
    /// The secret of the `signed_in_after` marks, derived from the private
    /// key so that every instance serving this key has the same one.
    mark_key: MarkKey,
    pub verifying: VerifyingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.verifying.jwk.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a key pair, checking that the public key belongs to the private one.
    pub fn from_pem(private_pem: &str, public_pem: &str) -> Result<Self, KeyError> {
        let private = RsaPrivateKey::from_pkcs8_pem(private_pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(private_pem))
            .map_err(|_| KeyError::BadPrivateKey)?;
        let verifying = VerifyingKey::from_public_pem(public_pem)?;
        let derived = VerifyingKey::from_rsa(&private.to_public_key())?;
        if derived.jwk != verifying.jwk {
            return Err(KeyError::Mismatch);
        }
        // OpenSSL keeps the parsed key (CRT values, Montgomery constants) and
        // signs with its assembly bignum code, faster than ring's (figures in
        // bench/results/); jsonwebtoken 9 would also parse the DER again for
        // every token.
        let der = rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(&private).map_err(|_| KeyError::BadPrivateKey)?;
        let private = PKey::private_key_from_pkcs8(der.as_bytes()).map_err(|_| KeyError::BadPrivateKey)?;
        let header = |typ: &str| {
            let mut header = Header::new(Algorithm::RS256);
            header.typ = Some(typ.to_owned());
            header.kid = Some(verifying.kid().to_owned());
            serde_json::to_vec(&header).map(|json| URL_SAFE_NO_PAD.encode(json)).map_err(|_| KeyError::BadPrivateKey)
        };
        let (header, id_header) = (header(ACCESS_TOKEN_TYP)?, header(ID_TOKEN_TYP)?);
        let mut derive = Sha256::new();
        derive.update(b"postern signed_in_after key v1");
        derive.update(der.as_bytes());
        let mark_key = MarkKey::new(derive.finalize().into());
        Ok(Self { private, header, id_header, mark_key, verifying })
    }

    pub fn kid(&self) -> &str {
        self.verifying.kid()
    }

    /// The key of the `signed_in_after` marks ([`crate::sign_in_mark`]).
    pub fn mark_key(&self) -> &MarkKey {
        &self.mark_key
    }

    /// Signs an access token: RS256, `typ: at+jwt`, this key's `kid`.
    pub fn sign(&self, claims: &AccessTokenClaims) -> Result<String, OAuthError> {
        self.sign_with(&self.header, claims)
    }

    /// Signs an OpenID Connect ID token: RS256, `typ: JWT`, this key's `kid`.
    pub fn sign_id_token(&self, claims: &IdTokenClaims) -> Result<String, OAuthError> {
        self.sign_with(&self.id_header, claims)
    }

    fn sign_with(&self, header: &str, claims: &impl Serialize) -> Result<String, OAuthError> {
        let claims = serde_json::to_vec(claims).map_err(|_| OAuthError::server_error())?;
        let modulus = self.private.size();
        let mut token = String::with_capacity(header.len() + claims.len() * 4 / 3 + modulus * 4 / 3 + 8);
        token.push_str(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
        let signature = Signer::new(MessageDigest::sha256(), &self.private)
            .and_then(|mut signer| signer.sign_oneshot_to_vec(token.as_bytes()))
            .map_err(|_| OAuthError::server_error())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }
}

/// What a resource server expects of a token (RFC 9068 §4).
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
}

/// Why a token was refused; all of them answer `invalid_token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT access token")]
    Malformed,
    #[error("the token was signed by an unknown key")]
    UnknownKey,
    #[error("the token signature is invalid")]
    BadSignature,
    #[error("the token is not for this API")]
    WrongAudience,
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
}

/// Seconds of clock difference tolerated for `nbf`.
const NBF_LEEWAY: i64 = 30;

/// Verifies an access token at time `now` against the keys that may have
/// signed it.
pub fn verify<'k>(
    token: &str,
    keys: impl IntoIterator<Item = &'k VerifyingKey>,
    expect: &Expectations<'_>,
    now: i64,
) -> Result<AccessTokenClaims, TokenError> {
    verify_keyed(token, keys, expect, now).map(|(claims, _)| claims)
}

/// [`verify`], also giving the `kid` of the key that signed the token.
pub fn verify_keyed<'k>(
    token: &str,
    keys: impl IntoIterator<Item = &'k VerifyingKey>,
    expect: &Expectations<'_>,
    now: i64,
) -> Result<(AccessTokenClaims, String), TokenError> {
    // RFC 9068 §4: the resource server MUST check `typ` and refuse "none" and other algorithms.
    let (claims, kid) = decode_signed::<AccessTokenClaims>(token, keys, ACCESS_TOKEN_TYP)?;
    check(&claims, expect, now)?;
    Ok((claims, kid))
}

/// Verifies an ID token Postern issued that comes back as a hint
/// (`id_token_hint` of an authentication or logout request, OpenID Connect
/// Core §3.1.2.1, RP-Initiated Logout §2): signed by one of `keys`, issued
/// by `issuer`. An expired one is still a good hint: it names the person
/// and the client, it grants nothing.
pub fn verify_id_token_hint<'k>(
    token: &str,
    keys: impl IntoIterator<Item = &'k VerifyingKey>,
    issuer: &str,
) -> Result<IdTokenClaims, TokenError> {
    let (claims, _) = decode_signed::<IdTokenClaims>(token, keys, ID_TOKEN_TYP)?;
    if claims.iss != issuer {
        return Err(TokenError::WrongIssuer);
    }
    Ok(claims)
}

/// The claims of a token of type `typ`, RS256, signed by the one of `keys`
/// its `kid` names, with that `kid`. Nothing else is checked here: time is
/// the caller's (`now`), as are issuer and audience.
fn decode_signed<'k, T: serde::de::DeserializeOwned>(
    token: &str,
    keys: impl IntoIterator<Item = &'k VerifyingKey>,
    typ: &str,
) -> Result<(T, String), TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.alg != Algorithm::RS256 || header.typ.as_deref() != Some(typ) {
        return Err(TokenError::Malformed);
    }
    let kid = header.kid.ok_or(TokenError::UnknownKey)?;
    let key = keys.into_iter().find(|k| k.kid() == kid).ok_or(TokenError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::RS256);
    // jsonwebtoken would read the clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<T>(token, &key.decoding, &validation).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
        _ => TokenError::Malformed,
    })?;
    Ok((data.claims, kid))
}

/// The checks of a token's claims at time `now` (after its signature).
pub fn check(claims: &AccessTokenClaims, expect: &Expectations<'_>, now: i64) -> Result<(), TokenError> {
    if claims.iss != expect.issuer {
        return Err(TokenError::WrongIssuer);
    }
    if claims.aud != expect.audience {
        return Err(TokenError::WrongAudience);
    }
    if claims.exp <= now {
        return Err(TokenError::Expired);
    }
    if claims.nbf > now + NBF_LEEWAY {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    use std::sync::OnceLock;

    /// One 2048-bit key pair for all tests in this binary (generation is slow).
    pub(crate) fn test_pems() -> &'static (String, String) {
        static PEMS: OnceLock<(String, String)> = OnceLock::new();
        PEMS.get_or_init(|| {
            let private = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
            let private_pem = private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
            let public_pem = private.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
            (private_pem, public_pem)
        })
    }

    fn key() -> SigningKey {
        let (private, public) = test_pems();
        SigningKey::from_pem(private, public).unwrap()
    }

    fn claims(now: i64) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: "http://localhost/admin".into(),
            sub: "1".into(),
            aud: "http://localhost/api".into(),
            client_id: "client".into(),
            scope: "users:read".into(),
            jti: "jti-1".into(),
            iat: now,
            nbf: now,
            exp: now + 3600,
        }
    }

    fn expect() -> Expectations<'static> {
        Expectations { issuer: "http://localhost/admin", audience: "http://localhost/api" }
    }

    #[test]
    fn signed_token_verifies_until_it_expires() {
        let key = key();
        let token = key.sign(&claims(1_000)).unwrap();
        let got = verify(&token, [&key.verifying], &expect(), 1_000).unwrap();
        assert_eq!(got, claims(1_000));
        assert_eq!(verify(&token, [&key.verifying], &expect(), 4_599).unwrap().jti, "jti-1");
        assert_eq!(verify(&token, [&key.verifying], &expect(), 4_600), Err(TokenError::Expired));
    }

    /// RSASSA-PKCS1-v1_5 is deterministic: the token must be byte for byte
    /// what jsonwebtoken makes from the same key, header and claims.
    #[test]
    fn signing_matches_jsonwebtoken_byte_for_byte() {
        let (private_pem, _) = test_pems();
        let key = key();
        let claims = claims(1_700_000_000);
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(ACCESS_TOKEN_TYP.to_owned());
        header.kid = Some(key.kid().to_owned());
        let reference = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(key.sign(&claims).unwrap(), reference);
    }

    #[test]
    fn header_has_typ_and_kid() {
        let key = key();
        let token = key.sign(&claims(0)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        assert_eq!(key.kid().len(), 43, "a base64url SHA-256 thumbprint");
    }

    #[test]
    fn tampered_token_is_refused() {
        let key = key();
        let token = key.sign(&claims(0)).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut evil = claims(0);
        evil.sub = "2".into();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&evil).unwrap());
        let forged = parts.join(".");
        assert_eq!(verify(&forged, [&key.verifying], &expect(), 10), Err(TokenError::BadSignature));
    }

    #[test]
    fn audience_and_issuer_are_checked() {
        let key = key();
        let token = key.sign(&claims(0)).unwrap();
        let storefront = Expectations { audience: "http://localhost/storefront/api", ..expect() };
        assert_eq!(verify(&token, [&key.verifying], &storefront, 10), Err(TokenError::WrongAudience));
        let other = Expectations { issuer: "http://localhost", ..expect() };
        assert_eq!(verify(&token, [&key.verifying], &other, 10), Err(TokenError::WrongIssuer));
    }

    #[test]
    fn unsigned_and_garbage_tokens_are_malformed() {
        let key = key();
        // alg "none" with typ at+jwt and an empty signature.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(0)).unwrap());
        let none = format!("{header}.{body}.");
        assert_eq!(verify(&none, [&key.verifying], &expect(), 10), Err(TokenError::Malformed));
        assert_eq!(verify("garbage", [&key.verifying], &expect(), 10), Err(TokenError::Malformed));
    }

    #[test]
    fn an_id_token_is_not_an_access_token_and_comes_back_as_a_hint() {
        use crate::oidc::{id_token_claims, IdTokenContext, Person};
        let key = key();
        let person = Person {
            sub: "1".into(),
            username: "ada".into(),
            email: "ada@example.com".into(),
            language: "en".into(),
            updated_at: 0,
        };
        let ctx = IdTokenContext {
            issuer: "http://localhost/admin",
            client_id: "client",
            now: 0,
            lifetime: 300,
            auth_time: Some(0),
            nonce: None,
            access_token: "at",
        };
        let id_claims = id_token_claims(&person, &crate::scope::Scope::parse("openid").unwrap(), &ctx);
        let id_token = key.sign_id_token(&id_claims).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&id_token).unwrap().typ.as_deref(), Some("JWT"));
        assert_eq!(verify(&id_token, [&key.verifying], &expect(), 10), Err(TokenError::Malformed));
        // Long expired, still a hint of who and for which client.
        let hint = verify_id_token_hint(&id_token, [&key.verifying], "http://localhost/admin").unwrap();
        assert_eq!((hint.sub.as_str(), hint.aud.as_str()), ("1", "client"));
        assert_eq!(
            verify_id_token_hint(&id_token, [&key.verifying], "http://localhost").unwrap_err(),
            TokenError::WrongIssuer
        );
        let access = key.sign(&claims(0)).unwrap();
        assert_eq!(
            verify_id_token_hint(&access, [&key.verifying], "http://localhost/admin"),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn key_from_another_pair_is_unknown() {
        let key = key();
        let token = key.sign(&claims(0)).unwrap();
        assert_eq!(verify(&token, std::iter::empty(), &expect(), 10), Err(TokenError::UnknownKey));
    }

    #[test]
    fn mismatched_pair_is_refused() {
        let (private, _) = test_pems();
        let other = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let other_public = other.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
        assert_eq!(SigningKey::from_pem(private, &other_public).unwrap_err(), KeyError::Mismatch);
        assert_eq!(SigningKey::from_pem("nope", &other_public).unwrap_err(), KeyError::BadPrivateKey);
    }
}
