//! Signing keys in the database (PostgreSQL; docs/architecture.md#signing-keys).
//!
//! Every instance reads the same rows, so they all sign with the one active
//! key and publish the same JWKS; `postern keys generate|rotate` against the
//! database reaches every instance within `maintenance.key_reload_interval`.
//! The private halves are sealed with the key secret (`sealed`); a retired
//! key keeps only its public half.

use super::sealed::{KeySecret, SealError};
use super::{new_pair, read, write, GenerateError, KeyStore, RetiredKey, Rotation};
use crate::config::KeysConfig;
use crate::oauth::jwt::{Alg, SigningKey, VerifyingKey};
use crate::store::{self, signing_keys, Db};
use std::sync::{Arc, Mutex};

/// The database and the secret that opens its keys.
pub(super) struct Database {
    db: Db,
    secret: KeySecret,
    /// The rows as last loaded, to notice a change cheaply.
    seen: Mutex<Option<Fingerprint>>,
}

/// Each key's kid and retirement time, as [`signing_keys::fingerprint`] reads them.
type Fingerprint = Vec<(String, Option<i64>)>;

impl KeyStore {
    /// A store whose keys live in `db`, opened with `secret`; nothing is
    /// read yet (see [`open`]).
    pub fn in_db(paths: &KeysConfig, db: Db, secret: KeySecret) -> Self {
        let mut store = Self::unloaded(paths);
        store.database = Some(Database { db, secret, seen: Mutex::new(None) });
        store
    }

    pub(super) async fn reload_from_database(&self, database: &Database) -> bool {
        match self.try_reload(database).await {
            Ok(changed) => changed,
            Err(problem) => {
                match self.signing_key() {
                    Some(key) => {
                        tracing::warn!(%problem, kid = key.kid(), "the keys in the database do not load; still signing with the loaded key")
                    }
                    None => tracing::warn!(%problem, "no signing key: the token endpoint answers no_encryption_key"),
                }
                *write(&self.problem) = Some(problem);
                false
            }
        }
    }

    async fn try_reload(&self, database: &Database) -> Result<bool, String> {
        let fingerprint = signing_keys::fingerprint(&database.db).await.map_err(|e| e.to_string())?;
        if database.seen.lock().unwrap_or_else(|e| e.into_inner()).as_ref() == Some(&fingerprint) {
            return Ok(false);
        }
        let rows = signing_keys::list(&database.db).await.map_err(|e| e.to_string())?;
        let current = self.signing_key();
        let mut active = None;
        let mut retired = Vec::new();
        for row in rows {
            match (row.retired_at, row.private_sealed) {
                (None, Some(sealed)) => {
                    if let Some(key) = current.as_ref().filter(|k| k.kid() == row.kid) {
                        active = Some(Arc::clone(key));
                        continue;
                    }
                    // Argon2id and RSA parsing stay off the async threads.
                    let secret = database.secret.clone();
                    let key =
                        tokio::task::spawn_blocking(move || open_pair(&secret, &row.kid, &sealed, &row.public_pem))
                            .await
                            .map_err(|e| e.to_string())??;
                    tracing::info!(kid = key.kid(), "signing key loaded from the database");
                    active = Some(Arc::new(key));
                }
                (Some(retired_at), _) => match VerifyingKey::from_public_pem(&row.public_pem) {
                    Ok(key) => retired.push(RetiredKey { key, retired_at }),
                    Err(e) => tracing::warn!(kid = row.kid, problem = %e, "ignoring a retired key that does not load"),
                },
                (None, None) => tracing::warn!(kid = row.kid, "ignoring an active key without its private half"),
            }
        }
        if active.is_none() {
            return Err("the database holds no active signing key (run `postern keys generate`)".into());
        }
        *write(&self.problem) = None;
        *database.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(fingerprint);
        Ok(self.install(active, retired))
    }
}

fn open_pair(secret: &KeySecret, kid: &str, sealed: &[u8], public_pem: &str) -> Result<SigningKey, String> {
    let private_pem = secret.open(kid, sealed).map_err(|e| e.to_string())?;
    let key = SigningKey::from_pem(&private_pem, public_pem).map_err(|e| format!("signing key {kid}: {e}"))?;
    if key.kid() != kid {
        return Err(format!("signing key {kid}: its public key has the kid {}", key.kid()));
    }
    Ok(key)
}

/// The server's keys on PostgreSQL, ready to sign: makes the first key when
/// the database has none (instances starting together on an empty database
/// each try; the one-active-key index lets exactly one insert win), then
/// loads. An error names what to fix: the secret is missing, too short, or
/// not the one the keys were sealed with.
pub async fn open(paths: &KeysConfig, db: &Db, now: i64) -> Result<KeyStore, String> {
    let secret = secret(paths)?;
    match create_first(db, &secret, now).await {
        Ok(Some(kid)) => tracing::info!(kid, "created the first signing key in the database"),
        Ok(None) => {}
        Err(e) => return Err(format!("cannot create the first signing key: {e}")),
    }
    let keys = KeyStore::in_db(paths, db.clone(), secret);
    let database = keys.database.as_ref().expect("in_db sets the database");
    keys.try_reload(database).await?;
    Ok(keys)
}

/// The configured key secret, or why there is none.
pub fn secret(paths: &KeysConfig) -> Result<KeySecret, String> {
    let secret = paths.secret()?.ok_or(
        "on PostgreSQL the signing keys live in the database, sealed with a secret: set POSTERN_KEY_SECRET \
         (e.g. `openssl rand -base64 32`), or keys.secret_file in Leptos.toml, and keep a copy with your backups",
    )?;
    KeySecret::new(&secret).map_err(|e| e.to_string())
}

/// Inserts a new active key if there is none; its kid when this call made it.
async fn create_first(db: &Db, secret: &KeySecret, now: i64) -> Result<Option<String>, GenerateError> {
    if signing_keys::list(db).await?.iter().any(|k| k.retired_at.is_none()) {
        return Ok(None);
    }
    let (kid, public_pem, sealed) = new_sealed(secret, Alg::RS256).await?;
    match signing_keys::insert_active(db, &kid, Alg::RS256.name(), &public_pem, &sealed, now).await {
        Ok(()) => Ok(Some(kid)),
        // Another instance made the first key a moment ago: use that one.
        Err(e) if store::is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A new pair for `alg`, the private half sealed: (kid, public PEM, sealed).
async fn new_sealed(secret: &KeySecret, alg: Alg) -> Result<(String, String, Vec<u8>), GenerateError> {
    let secret = secret.clone();
    tokio::task::spawn_blocking(move || {
        let (private_pem, public_pem, kid) = new_pair(alg)?;
        let sealed = secret.seal(&kid, &private_pem)?;
        Ok((kid, public_pem, sealed))
    })
    .await
    .map_err(|e| GenerateError::Seal(SealError::Crypto(e.to_string())))?
}

/// `postern keys generate` on PostgreSQL: the first key, or with `force`
/// a new key that replaces every key at once.
pub async fn generate(db: &Db, secret: &KeySecret, force: bool, alg: Alg, now: i64) -> Result<String, GenerateError> {
    let (kid, public_pem, sealed) = new_sealed(secret, alg).await?;
    let mut w = db.write().await?;
    let existing = signing_keys::list(&mut w).await?;
    if let Some(active) = existing.iter().find(|k| k.retired_at.is_none()).filter(|_| !force) {
        return Err(GenerateError::ExistsInDatabase(active.kid.clone()));
    }
    signing_keys::delete_all(&mut w).await?;
    signing_keys::insert_active(&mut w, &kid, alg.name(), &public_pem, &sealed, now).await?;
    w.commit().await?;
    Ok(kid)
}

/// `postern keys rotate` on PostgreSQL: the active key retires (its public
/// half stays to verify the tokens it signed) and a new one signs, in one
/// transaction — every instance sees either the old set or the new one.
/// The new key has `alg`, or else the active key's algorithm.
pub async fn rotate(db: &Db, secret: &KeySecret, alg: Option<Alg>, now: i64) -> Result<Rotation, GenerateError> {
    // A rotation made with another secret would leave every instance
    // unable to open the new key: refuse it while the old one still signs.
    let active = signing_keys::list(db).await?.into_iter().find(|k| k.retired_at.is_none());
    let mut current_alg = None;
    if let Some(active) = active {
        let (secret, kid) = (secret.clone(), active.kid.clone());
        let sealed = active.private_sealed.unwrap_or_default();
        let public_pem = active.public_pem;
        let private_pem = tokio::task::spawn_blocking(move || secret.open(&kid, &sealed))
            .await
            .map_err(|e| GenerateError::Seal(SealError::Crypto(e.to_string())))??;
        current_alg = SigningKey::from_pem(&private_pem, &public_pem).ok().map(|key| key.alg());
    }
    let new_alg = alg.or(current_alg).unwrap_or_default();
    let (new_kid, public_pem, sealed) = new_sealed(secret, new_alg).await?;
    let mut w = db.write().await?;
    let retired_kid = signing_keys::retire_active(&mut w, now).await?;
    signing_keys::insert_active(&mut w, &new_kid, new_alg.name(), &public_pem, &sealed, now).await?;
    w.commit().await?;
    Ok(Rotation { retired_kid, retired_file: None, new_kid, new_alg })
}

/// Removes retired keys whose tokens have all expired (as
/// [`super::remove_expired_retired`] does for files); returns how many.
pub async fn remove_expired_retired(db: &Db, now: i64, window: i64) -> Result<u64, sqlx::Error> {
    signing_keys::delete_retired_before(db, now - window).await
}

/// Whether the keys loaded are those the database holds now (for
/// readiness): false until the first load, and after a failed one.
pub fn loaded(keys: &KeyStore) -> bool {
    keys.database.as_ref().is_some_and(|d| d.seen.lock().unwrap_or_else(|e| e.into_inner()).is_some())
        && read(&keys.problem).is_none()
}
