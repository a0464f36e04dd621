//! What the APIs keep of the access tokens presented to them: verified
//! signatures ([`VerifiedTokens`]) and the database's word on each token
//! ([`TokenStatuses`]).

use super::memo::Memo;
use crate::keys::Ring;
use crate::oauth::jwt::{self, AccessTokenClaims, Expectations, TokenError};
use crate::store::{self, Changes};
use std::sync::Arc;

/// At most this many tokens are remembered (each table); then it starts afresh.
const REMEMBERED_TOKENS: usize = 20_000;

/// Tokens whose signature has been verified, by the SHA-256 of the token.
/// The RSA verification is the dearest part of an API call and a client
/// sends the same token for its whole life; the claims are still checked
/// (expiry, issuer, audience) on every call, and an entry counts only while
/// the key that signed it is in the key ring.
pub struct VerifiedTokens(Memo<[u8; 32], Arc<(AccessTokenClaims, String)>>);

impl Default for VerifiedTokens {
    fn default() -> Self {
        // Nothing makes a valid signature invalid: the table follows no change.
        Self(Memo::lasting(REMEMBERED_TOKENS))
    }
}

impl VerifiedTokens {
    /// [`jwt::verify`] against the keys of `ring` that verify at `now`
    /// (retired ones for `window` seconds), remembered.
    pub fn verify(
        &self,
        ring: &Ring,
        window: i64,
        token: &str,
        expect: &Expectations<'_>,
        now: i64,
    ) -> Result<AccessTokenClaims, TokenError> {
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        if let Some(entry) = self.0.get(&digest) {
            let (claims, kid) = &*entry;
            if ring.verifying(now, window).any(|k| k.kid() == kid) {
                jwt::check(claims, expect, now)?;
                return Ok(claims.clone());
            }
        }
        let (claims, kid) = jwt::verify_keyed(token, ring.verifying(now, window), expect, now)?;
        self.0.put(self.0.generation(), digest, Arc::new((claims.clone(), kid)));
        Ok(claims)
    }

    /// Forgets tokens that have expired (periodic pruning).
    pub fn remove_expired(&self, now: i64) {
        self.0.retain(|_, entry| entry.0.exp > now);
    }
}

/// The database's word on tokens (revoked? application active? person
/// enabled and still a member?), by `jti`. The table follows the change
/// signal: every committed change that can make a token unusable drops it,
/// so the next call reads the database again; until then an API call needs
/// no query to know its token is still good. Unknown tokens are not kept.
pub struct TokenStatuses(Memo<String, (i64, store::tokens::TokenStatus)>);

impl TokenStatuses {
    pub fn new(changes: Arc<Changes>) -> Self {
        Self(Memo::following(changes, REMEMBERED_TOKENS))
    }

    pub async fn get(
        &self,
        db: &store::Db,
        claims: &AccessTokenClaims,
    ) -> Result<Option<store::tokens::TokenStatus>, sqlx::Error> {
        if let Some((_, status)) = self.0.get(&claims.jti) {
            return Ok(Some(status));
        }
        let as_of = self.0.generation();
        let status = store::tokens::status(db, &claims.jti).await?;
        if let Some(status) = &status {
            self.0.put(as_of, claims.jti.clone(), (claims.exp, status.clone()));
        }
        Ok(status)
    }

    /// Forgets tokens that have expired (periodic pruning).
    pub fn remove_expired(&self, now: i64) {
        self.0.retain(|_, (exp, _)| *exp > now);
    }
}
