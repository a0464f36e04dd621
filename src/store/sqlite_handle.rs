//! SQLite's C API on the write connection's own handle, for the one write
//! that is worth it: the token writer's group commit
//! ([`super::token_writer`]).
//!
//! sqlx runs each SQLite connection on a thread of its own and hands every
//! statement to it over a channel: a statement costs two thread wake-ups
//! besides its work, and each wake-up of that thread preempted a worker
//! in the middle of an RSA signature. Through
//! [`sqlx::SqliteConnection::lock_handle`] the connection's thread waits while
//! the calling thread uses the connection itself; a transaction of the
//! token writer (`BEGIN`, its rows, `COMMIT`) then runs on the tokio worker
//! in one go, with one hand-over of the connection instead of three
//! statements' worth. The statements here are few and small (a few rows'
//! inserts, microseconds each), so running them on a worker is like the
//! signature it runs anyway; the one step that could wait, `BEGIN
//! IMMEDIATE` when another process holds SQLite's write lock, does not
//! wait here ([`Handle::try_begin`]): the caller then writes the sqlx way,
//! whose busy handler waits on SQLite's thread.
//!
//! Everything `unsafe` in Postern is in this file. Its rules: a [`Handle`]
//! lives only while the connection is locked (it borrows the lock); a
//! [`Statement`] borrows its `Handle`, so it is finalized before the lock
//! is given back; text and blobs are bound with `SQLITE_TRANSIENT`
//! (SQLite copies them); no column is read (a `RETURNING` row only says
//! that its row was written).

use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;
use std::ffi::{c_int, CStr, CString};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// A SQLite error of this API, as sqlx would report it (its message and
/// code, no statement text: that holds no secret here, but logs stay short).
#[derive(Debug)]
pub struct SqliteError {
    code: c_int,
    message: String,
}

impl std::fmt::Display for SqliteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteError {}

impl sqlx::error::DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                sqlx::error::ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => sqlx::error::ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => sqlx::error::ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => sqlx::error::ErrorKind::CheckViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}

/// The connection while its thread waits: borrowed from the lock.
pub struct Handle<'l> {
    db: NonNull<ffi::sqlite3>,
    _lock: PhantomData<&'l ()>,
}

impl<'l> Handle<'l> {
    pub fn new(locked: &'l mut LockedSqliteHandle<'_>) -> Self {
        Self { db: locked.as_raw_handle(), _lock: PhantomData }
    }

    fn raw(&self) -> *mut ffi::sqlite3 {
        self.db.as_ptr()
    }

    /// The connection's last error, for a result code `rc`.
    fn error(&self, rc: c_int) -> SqliteError {
        // SAFETY: the handle is open while it is locked; sqlite3_errmsg
        // returns a NUL-terminated string owned by SQLite, copied at once.
        let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.raw())) }.to_string_lossy().into_owned();
        SqliteError { code: unsafe { ffi::sqlite3_extended_errcode(self.raw()) }.max(rc), message }
    }

    /// Runs statements without parameters or results.
    pub fn execute(&self, sql: &CStr) -> Result<(), SqliteError> {
        // SAFETY: a valid handle and a NUL-terminated text; no callback.
        let rc =
            unsafe { ffi::sqlite3_exec(self.raw(), sql.as_ptr(), None, std::ptr::null_mut(), std::ptr::null_mut()) };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.error(rc))
        }
    }

    /// `BEGIN IMMEDIATE` without waiting: `Ok(false)` when another
    /// connection holds SQLite's write lock (the caller should wait for it
    /// elsewhere, not on a tokio worker).
    pub fn try_begin(&self) -> Result<bool, SqliteError> {
        // SAFETY: a valid handle. The busy timeout is the connection's, set
        // again right after (sqlx sets it once, when it connects).
        let rc = unsafe { ffi::sqlite3_busy_timeout(self.raw(), 0) };
        debug_assert_eq!(rc, ffi::SQLITE_OK);
        let begun = self.execute(c"BEGIN IMMEDIATE");
        unsafe { ffi::sqlite3_busy_timeout(self.raw(), super::BUSY_TIMEOUT.as_millis() as c_int) };
        match begun {
            Ok(()) => Ok(true),
            Err(e) if e.code & 0xff == ffi::SQLITE_BUSY => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether a transaction is open (SQLite ends one itself after some errors).
    pub fn in_transaction(&self) -> bool {
        // SAFETY: a valid handle.
        unsafe { ffi::sqlite3_get_autocommit(self.raw()) == 0 }
    }

    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>, SqliteError> {
        let text =
            CString::new(sql).map_err(|_| SqliteError { code: ffi::SQLITE_MISUSE, message: "NUL in SQL".into() })?;
        let mut stmt = std::ptr::null_mut();
        // SAFETY: a valid handle, a NUL-terminated text (-1: up to the NUL),
        // an out pointer; no tail wanted.
        let rc = unsafe { ffi::sqlite3_prepare_v2(self.raw(), text.as_ptr(), -1, &mut stmt, std::ptr::null_mut()) };
        match NonNull::new(stmt) {
            Some(raw) if rc == ffi::SQLITE_OK => Ok(Statement { raw, handle: self }),
            Some(raw) => {
                // SAFETY: a statement SQLite gave, finalized once.
                unsafe { ffi::sqlite3_finalize(raw.as_ptr()) };
                Err(self.error(rc))
            }
            None if rc == ffi::SQLITE_OK => {
                Err(SqliteError { code: ffi::SQLITE_MISUSE, message: "empty statement".into() })
            }
            None => Err(self.error(rc)),
        }
    }
}

/// A value to bind.
pub enum Value<'v> {
    Int(i64),
    Text(&'v str),
    Blob(&'v [u8]),
    Null,
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl<'v> From<&'v str> for Value<'v> {
    fn from(v: &'v str) -> Self {
        Value::Text(v)
    }
}

impl<'v, T: Into<Value<'v>>> From<Option<T>> for Value<'v> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A prepared statement of a [`Handle`], finalized when dropped.
pub struct Statement<'h> {
    raw: NonNull<ffi::sqlite3_stmt>,
    handle: &'h Handle<'h>,
}

impl Statement<'_> {
    /// Binds `values` to the parameters 1, 2, … (after a reset).
    pub fn bind(&mut self, values: &[Value<'_>]) -> Result<(), SqliteError> {
        let s = self.raw.as_ptr();
        // SAFETY: a valid statement; text and blobs are copied by SQLite
        // (SQLITE_TRANSIENT), their lengths given in bytes.
        unsafe {
            ffi::sqlite3_reset(s);
            ffi::sqlite3_clear_bindings(s);
        }
        for (i, value) in values.iter().enumerate() {
            let n = c_int::try_from(i + 1).unwrap_or(c_int::MAX);
            let rc = unsafe {
                match value {
                    Value::Int(v) => ffi::sqlite3_bind_int64(s, n, *v),
                    Value::Text(v) => ffi::sqlite3_bind_text64(
                        s,
                        n,
                        v.as_ptr().cast(),
                        v.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Value::Blob(v) => {
                        ffi::sqlite3_bind_blob64(s, n, v.as_ptr().cast(), v.len() as u64, ffi::SQLITE_TRANSIENT())
                    }
                    Value::Null => ffi::sqlite3_bind_null(s, n),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(self.handle.error(rc));
            }
        }
        Ok(())
    }

    /// Steps once: `Ok(true)` when a row is there to read.
    pub fn step(&mut self) -> Result<bool, SqliteError> {
        // SAFETY: a valid statement of a locked handle.
        match unsafe { ffi::sqlite3_step(self.raw.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            rc => Err(self.handle.error(rc)),
        }
    }
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        // SAFETY: finalized once, before the handle's lock is given back
        // (the statement borrows the handle).
        unsafe { ffi::sqlite3_finalize(self.raw.as_ptr()) };
    }
}
