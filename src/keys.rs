//! The signing keys on disk (SPEC §3): generating them, loading them, and
//! telling the back office when they are missing or too open.

use crate::config::KeysConfig;
use crate::oauth::jwt::{KeyError, SigningKey};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The warning shown on the back office when there is no usable key (SPEC §3, verbatim).
pub const MISSING_KEYS_WARNING: &str = "OAuth authorization is not available as encryption keys configuration was not complete. Please contact your administrator.";

/// How often a server without keys looks for them again.
const RETRY_EVERY: Duration = Duration::from_secs(5);

/// What the back office shows about the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHealth {
    /// The `kid` of the key that signs tokens, if any.
    pub active_kid: Option<String>,
    /// Why there is no key, for the administrator (never sent to clients).
    pub problem: Option<String>,
    /// True when the private key file can be read by group or others.
    pub private_key_exposed: bool,
}

/// The loaded signing key. Without one the server still runs, answers
/// `no_encryption_key`, and looks for the files again now and then, so that
/// `postern keys generate` takes effect without a restart.
pub struct KeyStore {
    paths: KeysConfig,
    current: RwLock<Option<Arc<SigningKey>>>,
    problem: RwLock<Option<String>>,
    last_attempt: Mutex<Instant>,
}

impl KeyStore {
    pub fn load(paths: &KeysConfig) -> Self {
        let store = Self::unloaded(paths);
        store.try_load();
        store
    }

    /// A store that has not read the files yet (for commands that sign nothing).
    pub fn unloaded(paths: &KeysConfig) -> Self {
        Self {
            paths: paths.clone(),
            current: RwLock::new(None),
            problem: RwLock::new(None),
            last_attempt: Mutex::new(Instant::now()),
        }
    }

    fn try_load(&self) {
        match read_pair(&self.paths.private_key, &self.paths.public_key) {
            Ok(key) => {
                tracing::info!(kid = key.kid(), private_key = %self.paths.private_key.display(), "signing key loaded");
                *write(&self.current) = Some(Arc::new(key));
                *write(&self.problem) = None;
            }
            Err(problem) => {
                tracing::warn!(%problem, "no signing key: the token endpoint answers no_encryption_key until keys exist (run `postern keys generate`)");
                *write(&self.problem) = Some(problem);
            }
        }
    }

    /// The key that signs new tokens, if there is one.
    pub fn signing_key(&self) -> Option<Arc<SigningKey>> {
        if let Some(key) = read(&self.current).as_ref() {
            return Some(Arc::clone(key));
        }
        let retry = {
            let mut last = self.last_attempt.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.elapsed() >= RETRY_EVERY;
            if due {
                *last = Instant::now();
            }
            due
        };
        if retry {
            self.try_load();
        }
        read(&self.current).clone()
    }

    pub fn health(&self) -> KeyHealth {
        let active_kid = self.signing_key().map(|k| k.kid().to_owned());
        KeyHealth {
            problem: if active_kid.is_some() { None } else { read(&self.problem).clone() },
            active_kid,
            private_key_exposed: readable_by_others(&self.paths.private_key),
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
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
    #[error("{0} already exists; pass --force to replace it (tokens signed with the old key stop verifying)")]
    Exists(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("key generation failed: {0}")]
    Rsa(String),
}

/// Generates an RSA-2048 key pair: private key PKCS#8 PEM with mode 0600,
/// public key SPKI PEM. Returns the new key's `kid`.
pub fn generate(paths: &KeysConfig, force: bool) -> Result<String, GenerateError> {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    for path in [&paths.private_key, &paths.public_key] {
        if !force && path.exists() {
            return Err(GenerateError::Exists(path.clone()));
        }
    }
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(|e| GenerateError::Rsa(e.to_string()))?;
    let private_pem = private.to_pkcs8_pem(LineEnding::LF).map_err(|e| GenerateError::Rsa(e.to_string()))?;
    let public_pem =
        private.to_public_key().to_public_key_pem(LineEnding::LF).map_err(|e| GenerateError::Rsa(e.to_string()))?;
    write_file(&paths.private_key, private_pem.as_bytes(), 0o600)?;
    write_file(&paths.public_key, public_pem.as_bytes(), 0o644)?;
    let key = SigningKey::from_pem(&private_pem, &public_pem).map_err(|e| GenerateError::Rsa(e.to_string()))?;
    Ok(key.kid().to_owned())
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
        KeysConfig { private_key: dir.join("var/private.key"), public_key: dir.join("var/public.key") }
    }

    #[test]
    fn generate_writes_a_private_key_only_the_owner_can_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let kid = generate(&paths, false).unwrap();
        let mode = fs::metadata(&paths.private_key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let store = KeyStore::load(&paths);
        assert_eq!(store.health(), KeyHealth { active_kid: Some(kid), problem: None, private_key_exposed: false });
    }

    #[test]
    fn generate_refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let first = generate(&paths, false).unwrap();
        assert!(matches!(generate(&paths, false), Err(GenerateError::Exists(_))));
        let second = generate(&paths, true).unwrap();
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
        generate(&paths, false).unwrap();
        fs::set_permissions(&paths.private_key, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(KeyStore::load(&paths).health().private_key_exposed);
    }
}
