//! The signing keys (docs/architecture.md#signing-keys): generating them,
//! loading them, and telling the back office when they are missing or too
//! open. On SQLite they are files; on PostgreSQL they live in the database,
//! sealed (`database`, `sealed`), so that every instance signs alike.

pub mod database;
pub mod sealed;

use crate::config::KeysConfig;
use crate::oauth::jwt::{Alg, KeyError, SigningKey, VerifyingKey};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

/// The warning shown on the back office when there is no usable key, word
/// for word: people, tests and the end-to-end suite look for this sentence
/// (docs/architecture.md#signing-keys).
pub const MISSING_KEYS_WARNING: &str = "OAuth authorization is not available as encryption keys configuration was not complete. Please contact your administrator.";

/// What the back office shows about the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHealth {
    /// The `kid` of the key that signs tokens, if any.
    pub active_kid: Option<String>,
    /// Its algorithm (`RS256`, `ES256`, `EdDSA`), from the same look.
    pub active_alg: Option<&'static str>,
    /// Why there is no key, for the administrator (never sent to clients).
    pub problem: Option<String>,
    /// True when the private key file can be read by group or others.
    pub private_key_exposed: bool,
}

/// A public key that no longer signs, kept to verify the tokens it signed.
#[derive(Debug, Clone)]
pub struct RetiredKey {
    pub key: VerifyingKey,
    /// When `postern keys rotate` replaced it (Unix seconds).
    pub retired_at: i64,
}

/// The keys in use: the one that signs, and the retired ones that may still
/// verify live tokens.
#[derive(Debug, Default)]
pub struct Ring {
    pub active: Option<Arc<SigningKey>>,
    pub retired: Vec<RetiredKey>,
}

impl Ring {
    /// The keys that may have signed a token still alive at `now`: the
    /// active one, and the retired ones whose tokens cannot all have expired
    /// (`window`: the longest a token lives, plus slack).
    pub fn verifying(&self, now: i64, window: i64) -> impl Iterator<Item = &VerifyingKey> {
        self.active
            .iter()
            .map(|k| &k.verifying)
            .chain(self.retired.iter().filter(move |r| r.retired_at + window > now).map(|r| &r.key))
    }
}

/// The loaded keys. Without a signing key the server still runs and answers
/// `no_encryption_key`. [`KeyStore::reload_if_changed`], called every few
/// seconds by the server, picks up `postern keys generate` and `postern keys
/// rotate` without a restart.
pub struct KeyStore {
    paths: KeysConfig,
    /// Where the keys live on PostgreSQL; `None`: the key files.
    database: Option<database::Database>,
    ring: RwLock<Arc<Ring>>,
    problem: RwLock<Option<String>>,
    /// What the key files looked like when last loaded.
    seen: Mutex<Option<Fingerprint>>,
}

/// Size and modification time of every key file, to notice a change cheaply.
type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

impl KeyStore {
    pub fn load(paths: &KeysConfig) -> Self {
        let store = Self::unloaded(paths);
        store.reload_if_changed();
        store
    }

    /// A store that has not read the files yet (for commands that sign nothing).
    pub fn unloaded(paths: &KeysConfig) -> Self {
        Self {
            paths: paths.clone(),
            database: None,
            ring: RwLock::new(Arc::new(Ring::default())),
            problem: RwLock::new(None),
            seen: Mutex::new(None),
        }
    }

    /// Looks again where the keys live (the files, or the database) and
    /// takes what changed; true if the keys in use changed. The server calls
    /// it every `maintenance.key_reload_interval` seconds.
    pub async fn refresh(self: &Arc<Self>) -> bool {
        match &self.database {
            Some(database) => self.reload_from_database(database).await,
            None => {
                let keys = Arc::clone(self);
                // File reads and RSA parsing stay off the async threads.
                tokio::task::spawn_blocking(move || keys.reload_if_changed()).await.unwrap_or(false)
            }
        }
    }

    /// True when the keys live in the database (PostgreSQL).
    pub fn in_database(&self) -> bool {
        self.database.is_some()
    }

    /// Reads the key files again if any of them changed; true if the keys
    /// in use changed. A pair that does not load (half-written by a rotation
    /// in progress, or removed) leaves the loaded signing key in use.
    pub fn reload_if_changed(&self) -> bool {
        if self.database.is_some() {
            return false;
        }
        let fingerprint = fingerprint(&self.paths);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.as_ref() == Some(&fingerprint) {
            return false;
        }
        let retired = read_retired(&self.paths.retired_dir());
        let current = Arc::clone(&read(&self.ring));
        let active = match read_pair(&self.paths.private_key, &self.paths.public_key) {
            Ok(key) => {
                if current.active.as_ref().is_none_or(|k| k.kid() != key.kid()) {
                    tracing::info!(kid = key.kid(), private_key = %self.paths.private_key.display(), "signing key loaded");
                }
                *write(&self.problem) = None;
                *seen = Some(fingerprint);
                Some(Arc::new(key))
            }
            Err(problem) => {
                match &current.active {
                    Some(key) => {
                        tracing::warn!(%problem, kid = key.kid(), "the key files do not load; still signing with the loaded key")
                    }
                    None => {
                        tracing::warn!(%problem, "no signing key: the token endpoint answers no_encryption_key until keys exist (run `postern keys generate`)")
                    }
                }
                *write(&self.problem) = Some(problem);
                // Not remembered as seen: look again next time.
                current.active.clone()
            }
        };
        drop(current);
        self.install(active, retired)
    }

    /// The key that signs new tokens, if there is one.
    pub fn signing_key(&self) -> Option<Arc<SigningKey>> {
        read(&self.ring).active.clone()
    }

    /// The active and retired keys.
    pub fn ring(&self) -> Arc<Ring> {
        Arc::clone(&read(&self.ring))
    }

    pub fn health(&self) -> KeyHealth {
        let active = self.signing_key();
        let active_kid = active.as_ref().map(|k| k.kid().to_owned());
        // In the database the secret that seals the keys is what must stay private.
        let private = match &self.database {
            Some(_) => self.paths.secret_file.as_deref(),
            None => Some(self.paths.private_key.as_path()),
        };
        KeyHealth {
            problem: if active_kid.is_some() { None } else { read(&self.problem).clone() },
            active_kid,
            active_alg: active.map(|k| k.alg().name()),
            private_key_exposed: private.is_some_and(readable_by_others),
        }
    }

    /// Replaces the keys in use; true if they changed.
    fn install(&self, active: Option<Arc<SigningKey>>, retired: Vec<RetiredKey>) -> bool {
        let current = Arc::clone(&read(&self.ring));
        let active_kid = active.as_ref().map(|k| k.kid().to_owned());
        let retired: Vec<RetiredKey> =
            retired.into_iter().filter(|r| Some(r.key.kid()) != active_kid.as_deref()).collect();
        let changed = active_kid.as_deref() != current.active.as_ref().map(|k| k.kid())
            || retired.iter().map(|r| r.key.kid()).ne(current.retired.iter().map(|r| r.key.kid()));
        *write(&self.ring) = Arc::new(Ring { active, retired });
        changed
    }
}

fn fingerprint(paths: &KeysConfig) -> Fingerprint {
    let mut files = vec![paths.private_key.clone(), paths.public_key.clone()];
    if let Ok(entries) = fs::read_dir(paths.retired_dir()) {
        let mut retired: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        retired.sort();
        files.extend(retired);
    }
    files
        .into_iter()
        .map(|path| {
            let meta = fs::metadata(&path).ok();
            let len = meta.as_ref().map_or(u64::MAX, |m| m.len());
            let modified = meta.and_then(|m| m.modified().ok());
            (path, len, modified)
        })
        .collect()
}

/// The retired public keys: files named `<retired_at>-<kid>.pem`. A file
/// that does not parse is reported and skipped.
fn read_retired(dir: &Path) -> Vec<RetiredKey> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut keys: Vec<RetiredKey> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let retired_at = retired_at(&path)?;
            match fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|pem| VerifyingKey::from_public_pem(&pem).map_err(|e| e.to_string()))
            {
                Ok(key) => Some(RetiredKey { key, retired_at }),
                Err(problem) => {
                    tracing::warn!(file = %path.display(), %problem, "ignoring a retired key that does not load");
                    None
                }
            }
        })
        .collect();
    keys.sort_by(|a, b| b.retired_at.cmp(&a.retired_at).then_with(|| a.key.kid().cmp(b.key.kid())));
    keys
}

fn retired_at(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?.strip_suffix(".pem")?;
    let (at, kid) = name.split_once('-')?;
    (!kid.is_empty()).then_some(())?;
    at.parse().ok()
}

pub(crate) fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

fn read_pair(private: &Path, public: &Path) -> Result<SigningKey, String> {
    let private_pem =
        fs::read_to_string(private).map_err(|e| format!("cannot read the private key {}: {e}", private.display()))?;
    let public_pem =
        fs::read_to_string(public).map_err(|e| format!("cannot read the public key {}: {e}", public.display()))?;
    SigningKey::from_pem(&private_pem, &public_pem).map_err(|e: KeyError| format!("{}: {e}", private.display()))
}

#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).map(|m| m.permissions().mode() & 0o077 != 0).unwrap_or(false)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> bool {
    false
}

/// Why `postern keys generate` did not write keys.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{0} already exists; use `postern keys rotate` to replace the key while tokens it signed keep verifying (or --force to replace it at once: they stop verifying)")]
    Exists(PathBuf),
    #[error("the database already holds a signing key ({0}); use `postern keys rotate` to replace it while tokens it signed keep verifying (or --force to replace every key at once: they stop verifying)")]
    ExistsInDatabase(String),
    #[error("{0}")]
    Seal(#[from] sealed::SealError),
    #[error("the database refused the key: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("key generation failed: {0}")]
    Generate(String),
}

/// Generates a key pair for `alg`: private key PKCS#8 PEM with mode 0600,
/// public key SPKI PEM. Returns the new key's `kid`.
pub fn generate(paths: &KeysConfig, force: bool, alg: Alg) -> Result<String, GenerateError> {
    for path in [&paths.private_key, &paths.public_key] {
        if !force && path.exists() {
            return Err(GenerateError::Exists(path.clone()));
        }
    }
    let (private_pem, public_pem, kid) = new_pair(alg)?;
    write_file(&paths.private_key, private_pem.as_bytes(), 0o600)?;
    write_file(&paths.public_key, public_pem.as_bytes(), 0o644)?;
    Ok(kid)
}

/// What `postern keys rotate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The key that stopped signing, kept for verification; `None` when
    /// there was no usable key (the rotation then only generated one).
    pub retired_kid: Option<String>,
    pub retired_file: Option<PathBuf>,
    pub new_kid: String,
    pub new_alg: Alg,
}

/// Makes a new signing key active and keeps the old public key in the
/// retired folder, so that tokens it signed verify until they expire. The
/// retired key is written first and the private key last: a crash in
/// between leaves the old pair in use, never a lost key. The new key has
/// `alg`, or else the old key's algorithm.
pub fn rotate(paths: &KeysConfig, alg: Option<Alg>, now: i64) -> Result<Rotation, GenerateError> {
    let old = read_pair(&paths.private_key, &paths.public_key).ok();
    let new_alg = alg.or(old.as_ref().map(SigningKey::alg)).unwrap_or_default();
    let mut retired_file = None;
    if let Some(old) = &old {
        let pem = fs::read(&paths.public_key)
            .map_err(|source| GenerateError::Write { path: paths.public_key.clone(), source })?;
        let file = paths.retired_dir().join(format!("{now}-{}.pem", old.kid()));
        write_file(&file, &pem, 0o644)?;
        retired_file = Some(file);
    }
    let (private_pem, public_pem, new_kid) = new_pair(new_alg)?;
    write_file(&paths.public_key, public_pem.as_bytes(), 0o644)?;
    write_file(&paths.private_key, private_pem.as_bytes(), 0o600)?;
    Ok(Rotation { retired_kid: old.map(|k| k.kid().to_owned()), retired_file, new_kid, new_alg })
}

/// The key files as they are, for `postern export` and `postern import`
/// (docs/export-format.md).
#[derive(Debug, Default, Clone)]
pub struct KeyFiles {
    pub active: Option<ActiveFiles>,
    pub retired: Vec<RetiredFile>,
}

/// The signing pair.
#[derive(Clone)]
pub struct ActiveFiles {
    pub kid: String,
    pub private_pem: String,
    pub public_pem: String,
    /// When the pair was written (the private file's modification time).
    pub created_at: i64,
}

impl std::fmt::Debug for ActiveFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveFiles")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// A retired public key.
#[derive(Debug, Clone)]
pub struct RetiredFile {
    pub kid: String,
    pub public_pem: String,
    pub retired_at: i64,
}

/// Reads the key files: the pair (if there is one; a pair that does not
/// load is an error, not a missing key) and the retired public keys.
pub fn read_files(paths: &KeysConfig) -> Result<KeyFiles, String> {
    let active = if paths.private_key.exists() || paths.public_key.exists() {
        let key = read_pair(&paths.private_key, &paths.public_key)?;
        let read = |path: &Path| fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
        let created_at = fs::metadata(&paths.private_key)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        Some(ActiveFiles {
            kid: key.kid().to_owned(),
            private_pem: read(&paths.private_key)?,
            public_pem: read(&paths.public_key)?,
            created_at,
        })
    } else {
        None
    };
    let mut retired = Vec::new();
    if let Ok(entries) = fs::read_dir(paths.retired_dir()) {
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            let Some(retired_at) = retired_at(&path) else { continue };
            let pem = fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let key = VerifyingKey::from_public_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))?;
            retired.push(RetiredFile { kid: key.kid().to_owned(), public_pem: pem, retired_at });
        }
    }
    retired.sort_by(|a, b| b.retired_at.cmp(&a.retired_at).then_with(|| a.kid.cmp(&b.kid)));
    Ok(KeyFiles { active, retired })
}

/// Writes imported keys as key files. A pair already there with another
/// kid retires first (its public key keeps verifying, as after `postern
/// keys rotate`). Returns the files this call created, for the caller to
/// remove if what it belongs to fails.
pub fn write_files(paths: &KeysConfig, files: &KeyFiles, now: i64) -> Result<Vec<PathBuf>, GenerateError> {
    fn keep(path: PathBuf, bytes: &[u8], mode: u32, created: &mut Vec<PathBuf>) -> Result<(), GenerateError> {
        let new = !path.exists();
        write_file(&path, bytes, mode)?;
        if new {
            created.push(path);
        }
        Ok(())
    }
    let mut created = Vec::new();
    for key in &files.retired {
        let file = paths.retired_dir().join(format!("{}-{}.pem", key.retired_at, key.kid));
        if !file.exists() {
            keep(file, key.public_pem.as_bytes(), 0o644, &mut created)?;
        }
    }
    if let Some(active) = &files.active {
        if let Some(old) = read_pair(&paths.private_key, &paths.public_key).ok().filter(|old| old.kid() != active.kid) {
            let pem = fs::read(&paths.public_key)
                .map_err(|source| GenerateError::Write { path: paths.public_key.clone(), source })?;
            keep(paths.retired_dir().join(format!("{now}-{}.pem", old.kid())), &pem, 0o644, &mut created)?;
        }
        keep(paths.public_key.clone(), active.public_pem.as_bytes(), 0o644, &mut created)?;
        keep(paths.private_key.clone(), active.private_pem.as_bytes(), 0o600, &mut created)?;
    }
    Ok(created)
}

/// Removes retired keys whose tokens have all expired (`window` as in
/// [`Ring::verifying`]); returns how many.
pub fn remove_expired_retired(paths: &KeysConfig, now: i64, window: i64) -> usize {
    let Ok(entries) = fs::read_dir(paths.retired_dir()) else { return 0 };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|path| retired_at(path).is_some_and(|at| at + window <= now))
        .filter(|path| match fs::remove_file(path) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot remove an expired retired key");
                false
            }
        })
        .count()
}

/// A new key pair for `alg`: (private PEM, public PEM, kid).
pub(crate) fn new_pair(alg: Alg) -> Result<(String, String, String), GenerateError> {
    let (private_pem, public_pem) =
        SigningKey::generate_pem(alg).map_err(|e| GenerateError::Generate(e.to_string()))?;
    let key = SigningKey::from_pem(&private_pem, &public_pem).map_err(|e| GenerateError::Generate(e.to_string()))?;
    Ok((private_pem, public_pem, key.kid().to_owned()))
}

/// Writes through a temporary file and a rename, so a crash never leaves half a key.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), GenerateError> {
    let err = |source| GenerateError::Write { path: path.to_owned(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file = options.open(&tmp).map_err(err)?;
    #[cfg(unix)]
    {
        // The mode given to open() is masked by the umask and ignored for an existing file.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode)).map_err(err)?;
    }
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(err)?;
    fs::rename(&tmp, path).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(dir: &Path) -> KeysConfig {
        KeysConfig {
            private_key: dir.join("var/private.key"),
            public_key: dir.join("var/public.key"),
            retired_dir: None,
            ..Default::default()
        }
    }

    #[test]
    fn generate_writes_a_private_key_only_the_owner_can_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let kid = generate(&paths, false, Alg::RS256).unwrap();
        let mode = fs::metadata(&paths.private_key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let store = KeyStore::load(&paths);
        assert_eq!(
            store.health(),
            KeyHealth { active_kid: Some(kid), active_alg: Some("RS256"), problem: None, private_key_exposed: false }
        );
    }

    #[test]
    fn generate_refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let first = generate(&paths, false, Alg::RS256).unwrap();
        assert!(matches!(generate(&paths, false, Alg::RS256), Err(GenerateError::Exists(_))));
        let second = generate(&paths, true, Alg::RS256).unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn missing_keys_are_reported_and_exposed_keys_flagged() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let store = KeyStore::load(&paths);
        let health = store.health();
        assert_eq!(health.active_kid, None);
        assert!(health.problem.unwrap().contains("private key"));
        generate(&paths, false, Alg::RS256).unwrap();
        fs::set_permissions(&paths.private_key, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(KeyStore::load(&paths).health().private_key_exposed);
    }

    #[test]
    fn rotate_keeps_the_old_public_key_and_a_running_store_picks_the_new_one_up() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let first = generate(&paths, false, Alg::RS256).unwrap();
        let store = KeyStore::load(&paths);
        assert!(!store.reload_if_changed(), "nothing changed yet");
        let rotation = rotate(&paths, None, 1_000).unwrap();
        assert_eq!(rotation.retired_kid.as_deref(), Some(first.as_str()));
        assert_ne!(rotation.new_kid, first);
        assert_eq!(rotation.retired_file.unwrap(), dir.path().join(format!("var/retired_keys/1000-{first}.pem")));

        assert_eq!(store.signing_key().unwrap().kid(), first, "loaded keys stay until the store looks again");
        assert!(store.reload_if_changed());
        let ring = store.ring();
        assert_eq!(ring.active.as_ref().unwrap().kid(), rotation.new_kid);
        let kids = |now| ring.verifying(now, 3_600).map(|k| k.kid().to_owned()).collect::<Vec<_>>();
        assert_eq!(kids(4_599), [rotation.new_kid.clone(), first.clone()]);
        assert_eq!(kids(4_600), std::slice::from_ref(&rotation.new_kid), "gone once its tokens have expired");

        assert_eq!(remove_expired_retired(&paths, 4_599, 3_600), 0);
        assert_eq!(remove_expired_retired(&paths, 4_600, 3_600), 1);
        assert!(store.reload_if_changed());
        assert!(store.ring().retired.is_empty());
    }

    #[test]
    fn a_half_written_pair_leaves_the_loaded_key_signing() {
        let dir = tempfile::tempdir().unwrap();
        let keys = paths(dir.path());
        let first = generate(&keys, false, Alg::RS256).unwrap();
        let store = KeyStore::load(&keys);
        // A new public key without its private key, as in the middle of a rotation.
        let other = tempfile::tempdir().unwrap();
        generate(
            &KeysConfig {
                private_key: other.path().join("k"),
                public_key: other.path().join("p"),
                retired_dir: None,
                ..Default::default()
            },
            false,
            Alg::RS256,
        )
        .unwrap();
        fs::copy(other.path().join("p"), &keys.public_key).unwrap();
        store.reload_if_changed();
        assert_eq!(store.signing_key().unwrap().kid(), first);
        // Without any loaded key, a rotation just makes the first one.
        let fresh = tempfile::tempdir().unwrap();
        let fresh_paths = paths(fresh.path());
        let rotation = rotate(&fresh_paths, None, 5).unwrap();
        assert_eq!(rotation.retired_kid, None);
        assert_eq!(KeyStore::load(&fresh_paths).signing_key().unwrap().kid(), rotation.new_kid);
    }
}
