//! Files a command writes once and never overwrites (`postern backup`,
//! `postern export`): written beside their name as `NAME.partial`, and
//! given the name only when whole, so a file with that name is never half
//! of one.

use std::path::{Path, PathBuf};

/// Why the file was not made.
#[derive(Debug)]
pub enum NewFileError {
    /// A file has the name already.
    Exists,
    /// The folder to write in does not exist.
    NoFolder,
    Io(std::io::Error),
}

/// A file being made at `target`.
#[derive(Debug)]
pub struct NewFile {
    target: PathBuf,
    partial: PathBuf,
}

impl NewFile {
    /// Checks that `target` can be made, and removes the partial file a
    /// run that was cut off left (never a whole file, never named as one).
    pub fn at(target: &Path) -> Result<Self, NewFileError> {
        if target.exists() {
            return Err(NewFileError::Exists);
        }
        let folder = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !folder.is_dir() {
            return Err(NewFileError::NoFolder);
        }
        let mut partial = target.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let _ = std::fs::remove_file(&partial);
        Ok(Self { target: target.to_path_buf(), partial })
    }

    /// Where to write.
    pub fn partial(&self) -> &Path {
        &self.partial
    }

    /// Gives the written file its name; its size. A link, not a rename: it
    /// fails rather than replace a file that appeared at the name meanwhile.
    pub fn publish(self) -> Result<u64, NewFileError> {
        let linked = std::fs::hard_link(&self.partial, &self.target);
        let _ = std::fs::remove_file(&self.partial);
        match linked {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(NewFileError::Exists),
            Err(e) => Err(NewFileError::Io(e)),
            Ok(()) => std::fs::metadata(&self.target).map(|m| m.len()).map_err(NewFileError::Io),
        }
    }

    /// Removes what was written (the work failed).
    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.partial);
    }
}
