//! `postern backup FILE` (README.md#backups-and-moving-to-postgresql): a consistent copy of
//! a running server's SQLite database, checked before it is given its name.

use crate::store::backup::{self, CopyCheck};
use crate::store::{Db, Engine};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A finished backup.
#[derive(Debug)]
pub struct Report {
    pub file: PathBuf,
    pub bytes: u64,
    pub took: Duration,
    pub check: CopyCheck,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists already: name a new file (a backup never overwrites one)")]
    Exists(String),
    #[error("cannot write {0}: its folder does not exist")]
    NoFolder(String),
    #[error(
        "a PostgreSQL database is backed up with PostgreSQL's own tools: pg_dump --format=custom --file=postern.dump '{0}' \
         (restore with pg_restore --clean --dbname=…). Keep the key secret (POSTERN_KEY_SECRET or keys.secret_file) \
         beside the dump, apart from it: the signing keys in the dump are sealed with it, and a dump without it \
         cannot sign or verify a token"
    )]
    Postgres(String),
    #[error("the copy failed: {0}; nothing was written at {1}")]
    Copy(#[source] sqlx::Error, String),
    #[error("the copy failed its integrity check ({0}); it was removed, and nothing was written at {1}")]
    Corrupt(String, String),
    #[error("cannot finish the copy at {1}: {0}")]
    File(#[source] std::io::Error, String),
}

/// Copies the database into `target`, a file that must not exist yet. The
/// copy is written beside it as `<target>.partial`, checked
/// (`integrity_check`, rows per table), and only then given the target's
/// name: a file with that name is always a whole, checked backup.
pub async fn backup(db: &Db, url: &str, target: &Path) -> Result<Report, BackupError> {
    let shown = target.display().to_string();
    if db.engine() == Engine::Postgres {
        return Err(BackupError::Postgres(crate::store::redact(url)));
    }
    if target.exists() {
        return Err(BackupError::Exists(shown));
    }
    let folder = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(BackupError::NoFolder(shown));
    }
    let mut partial = target.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    // Left by a backup that was cut off: never a backup, never named as one.
    let _ = std::fs::remove_file(&partial);

    let started = Instant::now();
    if let Err(e) = backup::vacuum_into(db, &partial).await {
        let _ = std::fs::remove_file(&partial);
        return Err(BackupError::Copy(e, shown));
    }
    let check = match backup::check_copy(&partial).await {
        Ok(check) if check.integrity == "ok" => check,
        Ok(check) => {
            let _ = std::fs::remove_file(&partial);
            return Err(BackupError::Corrupt(check.integrity, shown));
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(BackupError::Copy(e, shown));
        }
    };
    // A link, not a rename: it fails rather than replace a file that
    // appeared at the target meanwhile.
    let linked = std::fs::hard_link(&partial, target);
    let _ = std::fs::remove_file(&partial);
    match linked {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(BackupError::Exists(shown)),
        Err(e) => return Err(BackupError::File(e, shown)),
        Ok(()) => {}
    }
    let took = started.elapsed();
    let bytes = std::fs::metadata(target).map(|m| m.len()).map_err(|e| BackupError::File(e, shown))?;
    Ok(Report { file: target.to_path_buf(), bytes, took, check })
}
