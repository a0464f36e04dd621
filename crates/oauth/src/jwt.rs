//! JWT access tokens (RFC 9068; RS256, ES256 or EdDSA) and the keys that sign and verify
//! them. Parsing a key is done once, when it is loaded; nothing here reads
//! files or the clock.

use super::oidc::IdTokenClaims;
use super::sign_in_mark::MarkKey;
use super::OAuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use openssl::bn::{BigNum, BigNumContext};
use openssl::ecdsa::EcdsaSig;
use openssl::md::Md;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKey, PKeyRef, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use openssl::sign::Signer;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::{Mutex, PoisonError};

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

/// The signature algorithms of Postern's keys. RS256 is the default and
/// what every RFC 9068 resource server and OpenID Connect relying party
/// supports; ES256 (RFC 7518 §3.4, P-256) and EdDSA (RFC 8037, Ed25519)
/// sign many times faster, for those whose clients take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Alg {
    #[default]
    RS256,
    ES256,
    EdDSA,
}

impl Alg {
    pub const ALL: [Alg; 3] = [Alg::RS256, Alg::ES256, Alg::EdDSA];

    /// The JOSE name (`alg`).
    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// The algorithm named `name` (the JOSE names, any case).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name().eq_ignore_ascii_case(name))
    }

    fn jwt(self) -> Algorithm {
        match self {
            Alg::RS256 => Algorithm::RS256,
            Alg::ES256 => Algorithm::ES256,
            Alg::EdDSA => Algorithm::EdDSA,
        }
    }

    fn from_jwt(alg: Algorithm) -> Option<Self> {
        Self::ALL.into_iter().find(|ours| ours.jwt() == alg)
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a key could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the private key is not an RSA, P-256 or Ed25519 private key in PEM form (PKCS#8, or PKCS#1 for RSA)")]
    BadPrivateKey,
    #[error("the public key is not an RSA, P-256 or Ed25519 public key in PEM form (SPKI, or PKCS#1 for RSA)")]
    BadPublicKey,
    #[error("the public key does not belong to the private key")]
    Mismatch,
    #[error("the RSA key is {0} bits; at least 2048 are required")]
    TooShort(usize),
    #[error("the elliptic-curve key is not on P-256 (the only curve of ES256)")]
    OtherCurve,
}

/// The public half of a signing key as a JWK (RFC 7517), with its `kid`:
/// `n` and `e` for RSA (RFC 7518 §6.3), `crv`, `x`, `y` for P-256 (§6.2),
/// `crv` and `x` for Ed25519 (RFC 8037 §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicJwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// A key that verifies tokens.
#[derive(Clone)]
pub struct VerifyingKey {
    pub jwk: PublicJwk,
    pub alg: Alg,
    decoding: DecodingKey,
}

impl VerifyingKey {
    /// An RSA (SPKI or PKCS#1), P-256 or Ed25519 (SPKI) public key.
    pub fn from_public_pem(public_pem: &str) -> Result<Self, KeyError> {
        match PKey::public_key_from_pem(public_pem.as_bytes()) {
            Ok(key) => Self::from_pkey(&key),
            Err(_) => {
                let public = RsaPublicKey::from_pkcs1_pem(public_pem).map_err(|_| KeyError::BadPublicKey)?;
                Self::from_rsa(&public.n().to_bytes_be(), &public.e().to_bytes_be())
            }
        }
    }

    fn from_pkey<T: HasPublic>(key: &PKeyRef<T>) -> Result<Self, KeyError> {
        match key.id() {
            Id::RSA => {
                let rsa = key.rsa().map_err(|_| KeyError::BadPublicKey)?;
                Self::from_rsa(&rsa.n().to_vec(), &rsa.e().to_vec())
            }
            Id::EC => {
                let ec = key.ec_key().map_err(|_| KeyError::BadPublicKey)?;
                if ec.group().curve_name() != Some(Nid::X9_62_PRIME256V1) {
                    return Err(KeyError::OtherCurve);
                }
                let coordinates = || -> Result<(Vec<u8>, Vec<u8>), openssl::error::ErrorStack> {
                    let (mut x, mut y, mut ctx) = (BigNum::new()?, BigNum::new()?, BigNumContext::new()?);
                    ec.public_key().affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)?;
                    Ok((x.to_vec_padded(32)?, y.to_vec_padded(32)?))
                };
                let (x, y) = coordinates().map_err(|_| KeyError::BadPublicKey)?;
                let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
                let decoding = DecodingKey::from_ec_components(&x, &y).map_err(|_| KeyError::BadPublicKey)?;
                let kid = thumbprint(&format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#));
                let jwk =
                    PublicJwk { crv: Some("P-256"), x: Some(x), y: Some(y), ..PublicJwk::new("EC", Alg::ES256, kid) };
                Ok(Self { jwk, alg: Alg::ES256, decoding })
            }
            Id::ED25519 => {
                let x = URL_SAFE_NO_PAD.encode(key.raw_public_key().map_err(|_| KeyError::BadPublicKey)?);
                let decoding = DecodingKey::from_ed_components(&x).map_err(|_| KeyError::BadPublicKey)?;
                let kid = thumbprint(&format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#));
                let jwk = PublicJwk { crv: Some("Ed25519"), x: Some(x), ..PublicJwk::new("OKP", Alg::EdDSA, kid) };
                Ok(Self { jwk, alg: Alg::EdDSA, decoding })
            }
            _ => Err(KeyError::BadPublicKey),
        }
    }

    /// From the big-endian modulus and exponent.
    fn from_rsa(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
        if bits < 2048 {
            return Err(KeyError::TooShort(bits));
        }
        let (n, e) = (URL_SAFE_NO_PAD.encode(n), URL_SAFE_NO_PAD.encode(e));
        let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|_| KeyError::BadPublicKey)?;
        let kid = thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
        Ok(Self {
            jwk: PublicJwk { n: Some(n), e: Some(e), ..PublicJwk::new("RSA", Alg::RS256, kid) },
            alg: Alg::RS256,
            decoding,
        })
    }

    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }
}

impl PublicJwk {
    fn new(kty: &'static str, alg: Alg, kid: String) -> Self {
        Self { kty, use_: "sig", alg: alg.name(), kid, crv: None, n: None, e: None, x: None, y: None }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey").field("kid", &self.jwk.kid).field("alg", &self.alg).finish()
    }
}

/// RFC 7638 JWK thumbprint: base64url(SHA-256 of the canonical JWK, its
/// required members in lexicographic order, no white space).
fn thumbprint(canonical: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A private key that signs tokens, with its public half. The key is
/// parsed once, here; signing only does the signature.
pub struct SigningKey {
    private: PKey<Private>,
    /// The base64url JOSE header of every access token it signs (its `alg`, `at+jwt`, its `kid`).
    header: String,
    /// The header of every ID token it signs (its `alg`, `JWT`, its `kid`).
    id_header: String,
    /// The secret of the `signed_in_after` marks, derived from the private
    /// key so that every instance serving this key has the same one.
    mark_key: MarkKey,
    pub verifying: VerifyingKey,
    /// OpenSSL's signing contexts for this key (RS256, ES256), each set up
    /// once and used again by one signature at a time. Setting one up
    /// (`EVP_DigestSignInit`: fetching the algorithm and the digest from
    /// OpenSSL 3's provider store) made an ES256 signature cost 29.7 µs
    /// on one core against 24.6 µs with a kept context (a throw-away loop,
    /// eight alternated runs); for RS256 the difference is lost in the
    /// signature's 250 µs.
    contexts: Mutex<Vec<PkeyCtx<Private>>>,
}

/// At most this many signing contexts are kept for one key: as many as
/// signatures made at the same moment, which the runtime's threads bound.
const KEPT_CONTEXTS: usize = 64;

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.verifying.jwk.kid)
            .field("alg", &self.verifying.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a key pair (RSA of at least 2048 bits, P-256 or Ed25519; the
    /// algorithm follows from the key), checking that the public key
    /// belongs to the private one.
    pub fn from_pem(private_pem: &str, public_pem: &str) -> Result<Self, KeyError> {
        // OpenSSL keeps the parsed key (for RSA the CRT values and Montgomery
        // constants) and signs with its assembly code, faster than ring's
        // (figures in bench/results/); jsonwebtoken 9 would also parse the
        // DER again for every token.
        let private = PKey::private_key_from_pem(private_pem.as_bytes()).map_err(|_| KeyError::BadPrivateKey)?;
        let verifying = VerifyingKey::from_public_pem(public_pem)?;
        let derived = VerifyingKey::from_pkey(&private).map_err(|e| match e {
            KeyError::BadPublicKey => KeyError::BadPrivateKey,
            other => other,
        })?;
        if derived.jwk != verifying.jwk {
            return Err(KeyError::Mismatch);
        }
        let alg = verifying.alg;
        let header = |typ: &str| {
            let mut header = Header::new(alg.jwt());
            header.typ = Some(typ.to_owned());
            header.kid = Some(verifying.kid().to_owned());
            serde_json::to_vec(&header).map(|json| URL_SAFE_NO_PAD.encode(json)).map_err(|_| KeyError::BadPrivateKey)
        };
        let (header, id_header) = (header(ACCESS_TOKEN_TYP)?, header(ID_TOKEN_TYP)?);
        let der = private.private_key_to_pkcs8().map_err(|_| KeyError::BadPrivateKey)?;
        let mut derive = Sha256::new();
        derive.update(b"postern signed_in_after key v1");
        derive.update(&der);
        let mark_key = MarkKey::new(derive.finalize().into());
        Ok(Self { private, header, id_header, mark_key, verifying, contexts: Mutex::new(Vec::new()) })
    }

    /// A new key pair for `alg` (RSA-2048, P-256 or Ed25519): the private
    /// key as PKCS#8 PEM and the public key as SPKI PEM.
    pub fn generate_pem(alg: Alg) -> Result<(String, String), openssl::error::ErrorStack> {
        let private = match alg {
            Alg::RS256 => PKey::from_rsa(openssl::rsa::Rsa::generate(2048)?)?,
            Alg::ES256 => {
                let group = openssl::ec::EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
                PKey::from_ec_key(openssl::ec::EcKey::generate(&group)?)?
            }
            Alg::EdDSA => PKey::generate_ed25519()?,
        };
        let private_pem = String::from_utf8(private.private_key_to_pem_pkcs8()?).expect("PEM is ASCII");
        let public_pem = String::from_utf8(private.public_key_to_pem()?).expect("PEM is ASCII");
        Ok((private_pem, public_pem))
    }

    pub fn kid(&self) -> &str {
        self.verifying.kid()
    }

    pub fn alg(&self) -> Alg {
        self.verifying.alg
    }

    /// The key of the `signed_in_after` marks ([`crate::sign_in_mark`]).
    pub fn mark_key(&self) -> &MarkKey {
        &self.mark_key
    }

    /// Signs an access token: this key's algorithm, `typ: at+jwt`, its `kid`.
    pub fn sign(&self, claims: &AccessTokenClaims) -> Result<String, OAuthError> {
        self.sign_with(&self.header, claims)
    }

    /// Signs an OpenID Connect ID token: this key's algorithm, `typ: JWT`, its `kid`.
    pub fn sign_id_token(&self, claims: &IdTokenClaims) -> Result<String, OAuthError> {
        self.sign_with(&self.id_header, claims)
    }

    fn sign_with(&self, header: &str, claims: &impl Serialize) -> Result<String, OAuthError> {
        let claims = serde_json::to_vec(claims).map_err(|_| OAuthError::server_error())?;
        let signature_len = self.private.size();
        let mut token = String::with_capacity(header.len() + claims.len() * 4 / 3 + signature_len * 4 / 3 + 8);
        token.push_str(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
        let signature = self.signature(token.as_bytes()).map_err(|_| OAuthError::server_error())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }

    /// The JWS signature of `input` (RFC 7518 §3.3–3.4, RFC 8037 §3.1).
    fn signature(&self, input: &[u8]) -> Result<Vec<u8>, openssl::error::ErrorStack> {
        match self.verifying.alg {
            Alg::RS256 => self.sign_sha256(input),
            Alg::ES256 => {
                // OpenSSL gives DER; JWS wants R and S, 32 bytes each.
                let der = self.sign_sha256(input)?;
                let signature = EcdsaSig::from_der(&der)?;
                let mut raw = signature.r().to_vec_padded(32)?;
                raw.extend(signature.s().to_vec_padded(32)?);
                Ok(raw)
            }
            // Ed25519 signs the message itself, in one pass (no digest to sign).
            Alg::EdDSA => Signer::new_without_digest(&self.private)?.sign_oneshot_to_vec(input),
        }
    }

    /// Signs `input`'s SHA-256 digest with a kept context (RSASSA-PKCS1-v1_5
    /// with SHA-256's DigestInfo, or ECDSA): what `Signer` does, without
    /// setting a context up for every token. A context that failed is
    /// dropped, not kept.
    fn sign_sha256(&self, input: &[u8]) -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let kept = self.contexts.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut context = match kept {
            Some(context) => context,
            None => {
                let mut context = PkeyCtx::new(&self.private)?;
                context.sign_init()?;
                if self.verifying.alg == Alg::RS256 {
                    context.set_rsa_padding(Padding::PKCS1)?;
                }
                context.set_signature_md(Md::sha256())?;
                context
            }
        };
        let mut signature = Vec::new();
        context.sign_to_vec(&Sha256::digest(input), &mut signature)?;
        let mut contexts = self.contexts.lock().unwrap_or_else(PoisonError::into_inner);
        if contexts.len() < KEPT_CONTEXTS {
            contexts.push(context);
        }
        Ok(signature)
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

/// The claims of a token of type `typ` signed by the one of `keys` its
/// `kid` names, with that key's algorithm, and that `kid`. Nothing else is checked here: time is
/// the caller's (`now`), as are issuer and audience.
fn decode_signed<'k, T: serde::de::DeserializeOwned>(
    token: &str,
    keys: impl IntoIterator<Item = &'k VerifyingKey>,
    typ: &str,
) -> Result<(T, String), TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if Alg::from_jwt(header.alg).is_none() || header.typ.as_deref() != Some(typ) {
        return Err(TokenError::Malformed);
    }
    let kid = header.kid.ok_or(TokenError::UnknownKey)?;
    let key = keys.into_iter().find(|k| k.kid() == kid).ok_or(TokenError::UnknownKey)?;
    // The key decides the algorithm, never the token (RFC 8725 §3.1).
    if header.alg != key.alg.jwt() {
        return Err(TokenError::Malformed);
    }
    let mut validation = Validation::new(key.alg.jwt());
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
    use rsa::RsaPrivateKey;
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

    /// The signing contexts are kept and used again, by many threads at
    /// once: every RS256 token is still byte for byte jsonwebtoken's, and
    /// every ES256 token (a fresh random nonce each) still verifies.
    #[test]
    fn kept_signing_contexts_sign_correctly_from_many_threads() {
        let (private_pem, _) = test_pems();
        let rsa = key();
        let (private, public) = SigningKey::generate_pem(Alg::ES256).unwrap();
        let ec = SigningKey::from_pem(&private, &public).unwrap();
        let reference_key = jsonwebtoken::EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap();
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(ACCESS_TOKEN_TYP.to_owned());
        header.kid = Some(rsa.kid().to_owned());
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let (rsa, ec, header, reference_key) = (&rsa, &ec, &header, &reference_key);
                scope.spawn(move || {
                    for i in 0..8 {
                        let claims = claims(1_000 + thread * 100 + i);
                        let reference = jsonwebtoken::encode(header, &claims, reference_key).unwrap();
                        assert_eq!(rsa.sign(&claims).unwrap(), reference, "thread {thread}, token {i}");
                        let token = ec.sign(&claims).unwrap();
                        assert_eq!(verify(&token, [&ec.verifying], &expect(), claims.iat).unwrap(), claims);
                    }
                });
            }
        });
        let kept = |key: &SigningKey| key.contexts.lock().unwrap().len();
        assert!((1..=4).contains(&kept(&rsa)) && (1..=4).contains(&kept(&ec)), "one context per signer at once");
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
            alg: Alg::RS256,
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
    /// ES256 and EdDSA tokens verify here and, from the published JWK
    /// alone, in jsonwebtoken (ring's verifier, not OpenSSL's signer).
    #[test]
    fn es256_and_eddsa_tokens_verify_from_their_jwk() {
        for (alg, kty, signature_len) in [(Alg::ES256, "EC", 64), (Alg::EdDSA, "OKP", 64)] {
            let (private, public) = SigningKey::generate_pem(alg).unwrap();
            let key = SigningKey::from_pem(&private, &public).unwrap();
            assert_eq!(key.alg(), alg);
            let token = key.sign(&claims(1_000)).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!((header.alg, header.kid.as_deref()), (alg.jwt(), Some(key.kid())));
            let signature = URL_SAFE_NO_PAD.decode(token.rsplit('.').next().unwrap()).unwrap();
            assert_eq!(signature.len(), signature_len, "{alg}: the JWS form of the signature");
            assert_eq!(verify(&token, [&key.verifying], &expect(), 1_000).unwrap(), claims(1_000));

            let jwk_json = serde_json::to_value(&key.verifying.jwk).unwrap();
            assert_eq!((jwk_json["kty"].as_str(), jwk_json["alg"].as_str()), (Some(kty), Some(alg.name())));
            assert!(jwk_json.get("n").is_none(), "no RSA members on {kty}");
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk_json).unwrap();
            let mut validation = Validation::new(alg.jwt());
            validation.set_audience(&["http://localhost/api"]);
            validation.validate_exp = false;
            let decoded =
                jsonwebtoken::decode::<AccessTokenClaims>(&token, &DecodingKey::from_jwk(&jwk).unwrap(), &validation);
            assert_eq!(decoded.unwrap().claims, claims(1_000), "{alg}");
        }
    }

    /// The kid is the RFC 7638 thumbprint: RFC 8037 A.3's Ed25519 example.
    #[test]
    fn the_kid_of_an_ed25519_key_is_its_rfc_8037_thumbprint() {
        let x = URL_SAFE_NO_PAD.decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap();
        let key = PKey::public_key_from_raw_bytes(&x, Id::ED25519).unwrap();
        let pem = String::from_utf8(key.public_key_to_pem().unwrap()).unwrap();
        assert_eq!(VerifyingKey::from_public_pem(&pem).unwrap().kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    /// A token may not choose its algorithm: one whose header names another
    /// algorithm than its key's is refused before any signature check.
    #[test]
    fn a_token_whose_alg_is_not_its_keys_is_refused() {
        let rsa = key();
        let (private, public) = SigningKey::generate_pem(Alg::ES256).unwrap();
        let ec = SigningKey::from_pem(&private, &public).unwrap();
        let token = ec.sign(&claims(0)).unwrap();
        let mut header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
        header["kid"] = rsa.kid().into();
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
            token.split_once('.').unwrap().1
        );
        assert_eq!(verify(&forged, [&rsa.verifying, &ec.verifying], &expect(), 10), Err(TokenError::Malformed));
        assert_eq!(verify(&token, [&rsa.verifying, &ec.verifying], &expect(), 10).unwrap().sub, "1");
    }

    #[test]
    fn keys_of_other_curves_and_short_rsa_keys_are_refused() {
        let group = openssl::ec::EcGroup::from_curve_name(Nid::SECP384R1).unwrap();
        let p384 = PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
        let pem = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
        assert_eq!(
            SigningKey::from_pem(
                &pem(p384.private_key_to_pem_pkcs8().unwrap()),
                &pem(p384.public_key_to_pem().unwrap())
            )
            .unwrap_err(),
            KeyError::OtherCurve
        );
        let short = PKey::from_rsa(openssl::rsa::Rsa::generate(1024).unwrap()).unwrap();
        assert_eq!(
            VerifyingKey::from_public_pem(&pem(short.public_key_to_pem().unwrap())).unwrap_err(),
            KeyError::TooShort(1024)
        );
        // An ES256 private key with an Ed25519 public key: not a pair.
        let (ec_private, _) = SigningKey::generate_pem(Alg::ES256).unwrap();
        let (_, ed_public) = SigningKey::generate_pem(Alg::EdDSA).unwrap();
        assert_eq!(SigningKey::from_pem(&ec_private, &ed_public).unwrap_err(), KeyError::Mismatch);
        assert_eq!(Alg::parse("eddsa"), Some(Alg::EdDSA));
        assert_eq!(Alg::parse("HS256"), None);
    }
}
