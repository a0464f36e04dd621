//! `postern backup FILE` (README.md#backups-and-moving-to-postgresql): a consistent copy of
//! a running server's SQLite database, checked before it is given its name.

use super::new_file::{NewFile, NewFileError};
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

impl BackupError {
    fn from_new_file(e: NewFileError, shown: &str) -> Self {
        match e {
            NewFileError::Exists => BackupError::Exists(shown.to_owned()),
            NewFileError::NoFolder => BackupError::NoFolder(shown.to_owned()),
            NewFileError::Io(e) => BackupError::File(e, shown.to_owned()),
        }
    }
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
    let file = NewFile::at(target).map_err(|e| BackupError::from_new_file(e, &shown))?;

    let started = Instant::now();
    if let Err(e) = backup::vacuum_into(db, file.partial()).await {
        file.abandon();
        return Err(BackupError::Copy(e, shown));
    }
    let check = match backup::check_copy(file.partial()).await {
        Ok(check) if check.integrity == "ok" => check,
        Ok(check) => {
            file.abandon();
            return Err(BackupError::Corrupt(check.integrity, shown));
        }
        Err(e) => {
            file.abandon();
            return Err(BackupError::Copy(e, shown));
        }
    };
    let bytes = file.publish().map_err(|e| BackupError::from_new_file(e, &shown))?;
    let took = started.elapsed();
    Ok(Report { file: target.to_path_buf(), bytes, took, check })
}
