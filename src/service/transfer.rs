//! `postern export FILE` and `postern import FILE` (docs/export-format.md):
//! everything a server needs to go on serving, in one file that either
//! engine reads, so that a SQLite installation moves to PostgreSQL (and
//! back) with its clients, people, consents, live grants and keys.
//!
//! The file is JSON lines: a header naming the format version and every
//! table's columns, one line per row (`{"users": [1, "admin", …]}`), and a
//! last line with the rows per table. An import is one write transaction:
//! a file that is cut short, names what this build does not know, or holds
//! a row the database refuses changes nothing.

use super::new_file::{NewFile, NewFileError};
use crate::config::KeysConfig;
use crate::keys::sealed::{KeySecret, SealError};
use crate::keys::{self, ActiveFiles, KeyFiles, RetiredFile};
use crate::oauth::jwt::{SigningKey, VerifyingKey};
use crate::store::transfer::{self, Cell, Kind, Table, Written, SIGNING_KEYS, TABLES};
use crate::store::{self, signing_keys, Db, Engine};
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What the first line says the file is.
pub const FORMAT: &str = "postern-export";
/// The version of the format this build writes and the newest it reads.
/// 2 added what OpenID Connect keeps: `nonce`, `auth_time` and `claims` of
/// codes and grants, and `oauth_application_post_logout_redirect_uris`.
/// Version 1 files are still read (docs/export-format.md#versions).
pub const VERSION: i64 = 2;

/// Why an export or an import did not happen. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("{0} exists already: name a new file (an export never overwrites one)")]
    Exists(String),
    #[error("cannot write {0}: its folder does not exist")]
    NoFolder(String),
    #[error("cannot read {0}: {1}")]
    Open(String, #[source] std::io::Error),
    #[error("cannot write {0}: {1}")]
    File(String, #[source] std::io::Error),
    #[error("the database does not match this Postern's export format ({}): it was migrated by another version of Postern; run that version's export/import", .0.join("; "))]
    Schema(Vec<String>),
    #[error("the signing keys are sealed with the key secret in the export, and none is set: set POSTERN_KEY_SECRET (e.g. `openssl rand -base64 32`) or keys.secret_file, and keep it apart from the file — the import needs the same secret")]
    NoSecret,
    #[error("{0}")]
    Secret(String),
    #[error("{0}")]
    Keys(String),
    #[error("{0} is not a Postern export (its first line is not an export header)")]
    NotAnExport(String),
    #[error("{file} was written in export format {version}; this Postern reads format {VERSION} and older: import it with the Postern that wrote it, or a newer one")]
    Newer { file: String, version: i64 },
    #[error("line {line}: {problem}; nothing was imported")]
    Bad { line: u64, problem: String },
    #[error("{0} ends before its last line (the rows per table): the file is incomplete (an export cut off, or a partial copy); nothing was imported")]
    Truncated(String),
    #[error("the database already holds {}: import into a new, empty database (before Postern is started on it: a first start creates an administrator and a key), or pass --merge to add the file's rows to what is there (a row with the same key is replaced by the file's)", .0.join(", "))]
    NotEmpty(Vec<String>),
    #[error("the database: {0}; nothing was imported")]
    Database(#[from] sqlx::Error),
    #[error("{lines} ({table}): the database refused the row: {source}; nothing was imported")]
    Refused { lines: String, table: &'static str, source: sqlx::Error },
}

/// Rows per table, in the order of the file.
pub type Counts = Vec<(&'static str, u64)>;

#[derive(Debug)]
pub struct ExportReport {
    pub file: PathBuf,
    pub bytes: u64,
    pub took: Duration,
    /// Every table, the signing keys last.
    pub counts: Counts,
}

#[derive(Debug)]
pub struct ImportReport {
    pub took: Duration,
    /// The engine and time the file names.
    pub from_engine: String,
    pub exported_at: i64,
    /// Rows read per table, the signing keys last.
    pub counts: Counts,
    /// Merged: rows that were there already, and rows added under a new id.
    pub already_there: u64,
    pub renumbered: u64,
    /// Rows per table in the database once committed (the signing keys
    /// counted as the target keeps them: rows, or key files).
    pub stored: Counts,
}

fn every_table() -> impl Iterator<Item = &'static Table> {
    TABLES.iter().chain(std::iter::once(&SIGNING_KEYS))
}

impl TransferError {
    fn from_new_file(e: NewFileError, shown: &str) -> Self {
        match e {
            NewFileError::Exists => TransferError::Exists(shown.to_owned()),
            NewFileError::NoFolder => TransferError::NoFolder(shown.to_owned()),
            NewFileError::Io(e) => TransferError::File(shown.to_owned(), e),
        }
    }
}

fn secret(paths: &KeysConfig) -> Result<KeySecret, TransferError> {
    let secret = paths.secret().map_err(TransferError::Secret)?.ok_or(TransferError::NoSecret)?;
    KeySecret::new(&secret).map_err(|e| TransferError::Secret(e.to_string()))
}

/// Argon2id and RSA stay off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, TransferError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| TransferError::Keys(e.to_string()))?.map_err(TransferError::Keys)
}

fn to_json(cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Int(v) => json!(v),
        Cell::Text(v) => json!(v),
        Cell::Bool(v) => json!(v),
        Cell::Bytes(v) => json!(base64::engine::general_purpose::STANDARD.encode(v)),
    }
}

fn from_json(value: &Value, kind: Kind) -> Option<Cell> {
    Some(match (value, kind) {
        (Value::Null, _) => Cell::Null,
        (Value::Number(n), Kind::Int) => Cell::Int(n.as_i64()?),
        (Value::String(s), Kind::Text) => Cell::Text(s.clone()),
        (Value::Bool(b), Kind::Bool) => Cell::Bool(*b),
        (Value::String(s), Kind::Bytes) => Cell::Bytes(base64::engine::general_purpose::STANDARD.decode(s).ok()?),
        _ => return None,
    })
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "an integer",
        Kind::Text => "a string",
        Kind::Bool => "true or false",
        Kind::Bytes => "base64 bytes",
    }
}

/// The `alg` of a public key (its PEM was read and checked already).
fn algorithm(public_pem: &str) -> String {
    crate::oauth::jwt::VerifyingKey::from_public_pem(public_pem).map(|k| k.alg).unwrap_or_default().name().to_owned()
}

/// The signing keys as rows of [`SIGNING_KEYS`].
fn key_rows(files: &KeyFiles, sealed_active: Option<Vec<u8>>) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    if let (Some(active), Some(sealed)) = (&files.active, sealed_active) {
        rows.push(vec![
            Cell::Text(active.kid.clone()),
            Cell::Text(algorithm(&active.public_pem)),
            Cell::Text(active.public_pem.clone()),
            Cell::Bytes(sealed),
            Cell::Int(active.created_at),
            Cell::Null,
        ]);
    }
    for key in &files.retired {
        rows.push(vec![
            Cell::Text(key.kid.clone()),
            Cell::Text(algorithm(&key.public_pem)),
            Cell::Text(key.public_pem.clone()),
            Cell::Null,
            Cell::Int(key.retired_at),
            Cell::Int(key.retired_at),
        ]);
    }
    rows
}

/// A signing-key row, read back: (kid, public PEM, sealed private half, created, retired).
struct KeyRow {
    kid: String,
    public_pem: String,
    sealed: Option<Vec<u8>>,
    created_at: i64,
    retired_at: Option<i64>,
}

fn key_row(cells: &[Cell]) -> Option<KeyRow> {
    let text = |i: usize| match &cells[i] {
        Cell::Text(s) => Some(s.clone()),
        _ => None,
    };
    let int = |i: usize| match &cells[i] {
        Cell::Int(v) => Some(*v),
        _ => None,
    };
    let sealed = match &cells[3] {
        Cell::Bytes(b) => Some(b.clone()),
        _ => None,
    };
    Some(KeyRow { kid: text(0)?, public_pem: text(2)?, sealed, created_at: int(4)?, retired_at: int(5) })
}

/// The retired keys of the file as key files; a public key that does not
/// load refuses the import (it would verify nothing).
fn retired_files(rows: &[KeyRow]) -> Result<Vec<RetiredFile>, TransferError> {
    let mut retired = Vec::new();
    for key in rows {
        let Some(retired_at) = key.retired_at else { continue };
        let loaded = VerifyingKey::from_public_pem(&key.public_pem)
            .map_err(|e| TransferError::Keys(format!("the retired signing key {}: {e}", key.kid)))?;
        if loaded.kid() != key.kid {
            return Err(TransferError::Keys(format!(
                "the retired signing key {}: its public key has the kid {}",
                key.kid,
                loaded.kid()
            )));
        }
        retired.push(RetiredFile { kid: key.kid.clone(), public_pem: key.public_pem.clone(), retired_at });
    }
    Ok(retired)
}

/// Opens the active key's private half with `secret` and checks it pairs
/// with its public half and kid: an export or import never carries a key
/// that would not sign.
async fn open_active(secret: &KeySecret, key: &KeyRow) -> Result<String, TransferError> {
    let (secret, kid, sealed, public_pem) =
        (secret.clone(), key.kid.clone(), key.sealed.clone().unwrap_or_default(), key.public_pem.clone());
    blocking(move || {
        let private_pem = secret.open(&kid, &sealed).map_err(|e| match e {
            SealError::WrongSecret { kid } => format!(
                "the signing key {kid} does not open with this key secret: set POSTERN_KEY_SECRET to the secret of the server the export comes from"
            ),
            e => e.to_string(),
        })?;
        let key = SigningKey::from_pem(&private_pem, &public_pem).map_err(|e| format!("signing key {kid}: {e}"))?;
        if key.kid() != kid {
            return Err(format!("signing key {kid}: its public key has the kid {}", key.kid()));
        }
        Ok(private_pem)
    })
    .await
}

/// Writes everything `db` holds to `target` (a new file, mode 0600: it
/// holds password hashes and secret hashes), read as one snapshot while
/// the server goes on. The file is written as `target.partial` and named
/// `target` once complete.
pub async fn export(db: &Db, paths: &KeysConfig, target: &Path, now: i64) -> Result<ExportReport, TransferError> {
    let shown = target.display().to_string();
    let file = NewFile::at(target).map_err(|e| TransferError::from_new_file(e, &shown))?;
    let problems = transfer::undescribed(db).await?;
    if !problems.is_empty() {
        return Err(TransferError::Schema(problems));
    }
    // Asked for before anything is read: a key to seal needs the secret.
    // (The key files themselves are read once, after the rows.)
    if db.engine() == Engine::Sqlite && (paths.private_key.exists() || paths.public_key.exists()) {
        secret(paths)?;
    }

    let started = Instant::now();
    let counts = match write_export(db, paths, file.partial(), now).await {
        Ok(counts) => counts,
        Err(e) => {
            file.abandon();
            return Err(e);
        }
    };
    let bytes = file.publish().map_err(|e| TransferError::from_new_file(e, &shown))?;
    Ok(ExportReport { file: target.to_path_buf(), bytes, took: started.elapsed(), counts })
}

async fn write_export(db: &Db, paths: &KeysConfig, partial: &Path, now: i64) -> Result<Counts, TransferError> {
    let shown = partial.display().to_string();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(partial).map_err(|e| TransferError::File(shown.clone(), e))?;
    let mut out = BufWriter::new(file);
    let io = |e: std::io::Error| TransferError::File(shown.clone(), e);

    let tables: Map<String, Value> = every_table()
        .map(|t| (t.name.to_owned(), json!(t.columns.iter().map(|c| c.name).collect::<Vec<_>>())))
        .collect();
    let header = json!({
        "format": FORMAT,
        "version": VERSION,
        "postern": env!("CARGO_PKG_VERSION"),
        "engine": db.engine().name(),
        "schema": store::schema_version(db).await?,
        "exported_at": now,
        "tables": tables,
    });
    writeln!(out, "{header}").map_err(io)?;

    let mut snapshot: Vec<&'static Table> = TABLES.iter().collect();
    if db.engine() == Engine::Postgres {
        snapshot.push(&SIGNING_KEYS);
    }
    let mut database_keys = Vec::new();
    let read = transfer::read_snapshot(db, &snapshot, |table, cells| {
        let row: Vec<Value> = cells.iter().map(to_json).collect();
        if table.name == SIGNING_KEYS.name {
            database_keys.push(cells);
        }
        serde_json::to_writer(&mut out, &json!({ table.name: row }))?;
        out.write_all(b"\n")
    })
    .await;
    let mut counts: Counts = match read {
        Ok(counts) => snapshot.iter().map(|t| t.name).zip(counts).collect(),
        Err(transfer::ReadError::Database(e)) => return Err(e.into()),
        Err(transfer::ReadError::Write(e)) => return Err(io(e)),
    };
    if db.engine() == Engine::Postgres {
        // Sealed by the server: the secret must open them, or the import
        // (which needs the same secret) could not.
        if let Some(active) = database_keys.iter().filter_map(|cells| key_row(cells)).find(|k| k.retired_at.is_none()) {
            open_active(&secret(paths)?, &active).await?;
        }
    } else {
        // On SQLite the keys are files, read once the rows are: a rotation
        // during the export has then put the key of every token the rows
        // name in them (the new pair, the old public key retired).
        let files = keys::read_files(paths).map_err(TransferError::Keys)?;
        let sealed = match &files.active {
            Some(active) => {
                let secret = secret(paths)?;
                let (kid, pem) = (active.kid.clone(), active.private_pem.clone());
                Some(blocking(move || secret.seal(&kid, &pem).map_err(|e| e.to_string())).await?)
            }
            None => None,
        };
        let file_keys = key_rows(&files, sealed);
        for cells in &file_keys {
            let row: Vec<Value> = cells.iter().map(to_json).collect();
            writeln!(out, "{}", json!({ SIGNING_KEYS.name: row })).map_err(io)?;
        }
        counts.push((SIGNING_KEYS.name, file_keys.len() as u64));
    }
    let end: Map<String, Value> = counts.iter().map(|(t, n)| ((*t).to_owned(), json!(n))).collect();
    writeln!(out, "{}", json!({ "end": end })).map_err(io)?;
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(counts)
}

/// The header of an export, read.
struct Header {
    /// The format version the file was written in.
    version: i64,
    engine: String,
    exported_at: i64,
    /// Per table of the file: where each of the file's columns goes.
    columns: HashMap<&'static str, Vec<usize>>,
}

fn read_header(line: &str, shown: &str) -> Result<Header, TransferError> {
    let bad = |problem: String| TransferError::Bad { line: 1, problem };
    let header: Value = serde_json::from_str(line).map_err(|_| TransferError::NotAnExport(shown.to_owned()))?;
    if header["format"] != FORMAT {
        return Err(TransferError::NotAnExport(shown.to_owned()));
    }
    let version = header["version"].as_i64().ok_or_else(|| bad("the header has no format version".into()))?;
    if version > VERSION {
        return Err(TransferError::Newer { file: shown.to_owned(), version });
    }
    if version < 1 {
        return Err(bad(format!("format version {version} does not exist")));
    }
    let tables = header["tables"].as_object().ok_or_else(|| bad("the header does not list the tables".into()))?;
    let mut columns = HashMap::new();
    for (name, names) in tables {
        let table = transfer::table_named(name)
            .filter(|t| t.since <= version)
            .ok_or_else(|| bad(format!("table {name} is not part of export format {version}")))?;
        let names = names.as_array().ok_or_else(|| bad(format!("the columns of {name} are not a list")))?;
        let mut places = Vec::with_capacity(names.len());
        for column in names {
            let column = column.as_str().unwrap_or_default();
            let place = table
                .column(column)
                .filter(|&place| table.columns[place].since <= version)
                .ok_or_else(|| bad(format!("column {name}.{column} is not part of export format {version}")))?;
            if places.contains(&place) {
                return Err(bad(format!("column {name}.{column} is named twice")));
            }
            places.push(place);
        }
        // A column added after the file's version is not in it: its rows
        // get NULL there (such columns are nullable: transfer::undescribed).
        if let Some(missing) = table.columns.iter().enumerate().find(|(i, c)| c.since <= version && !places.contains(i))
        {
            return Err(bad(format!("column {name}.{} is missing", missing.1.name)));
        }
        columns.insert(table.name, places);
    }
    Ok(Header {
        version,
        engine: header["engine"].as_str().unwrap_or("an unknown engine").to_owned(),
        exported_at: header["exported_at"].as_i64().unwrap_or(0),
        columns,
    })
}

/// Rows of one table waiting to be written together.
#[derive(Default)]
struct Pending {
    table: Option<&'static Table>,
    /// The file's line of the first row.
    first: u64,
    last: u64,
    rows: Vec<Vec<Cell>>,
}

impl Pending {
    fn push(&mut self, table: &'static Table, line: u64, cells: Vec<Cell>) {
        if self.rows.is_empty() {
            self.first = line;
        }
        self.table = Some(table);
        self.last = line;
        self.rows.push(cells);
    }

    /// Writes the rows waiting; how many were there already.
    async fn flush(
        &mut self,
        w: &mut store::Write,
        writers: &HashMap<&'static str, transfer::Writer>,
    ) -> Result<u64, TransferError> {
        let Some(table) = self.table.filter(|_| !self.rows.is_empty()) else { return Ok(0) };
        let writer = &writers[table.name];
        let already = writer.write_many(w, &self.rows).await.map_err(|source| TransferError::Refused {
            lines: if self.first == self.last {
                format!("line {}", self.first)
            } else {
                format!("one of lines {}–{}", self.first, self.last)
            },
            table: table.name,
            source,
        })?;
        self.rows.clear();
        Ok(already)
    }
}

/// Reads `source` into `db` in one write transaction; see the module
/// documentation. Without `merge` the database must be empty (but for the
/// roles its schema made, which the file's replace).
pub async fn import(
    db: &Db,
    paths: &KeysConfig,
    source: &Path,
    merge: bool,
    now: i64,
) -> Result<ImportReport, TransferError> {
    let shown = source.display().to_string();
    let file = std::fs::File::open(source).map_err(|e| TransferError::Open(shown.clone(), e))?;
    let mut lines = BufReader::new(file).lines();
    let first = match lines.next() {
        Some(line) => line.map_err(|e| TransferError::Open(shown.clone(), e))?,
        None => return Err(TransferError::NotAnExport(shown)),
    };
    let header = read_header(&first, &shown)?;
    let problems = transfer::undescribed(db).await?;
    if !problems.is_empty() {
        return Err(TransferError::Schema(problems));
    }
    let existing_files =
        if db.engine() == Engine::Sqlite { Some(keys::read_files(paths).map_err(TransferError::Keys)?) } else { None };
    if !merge {
        let mut held: Vec<String> = transfer::tables_with_rows(db).await?.into_iter().map(str::to_owned).collect();
        if existing_files.as_ref().is_some_and(|f| f.active.is_some()) {
            held.push(format!("a signing key ({})", paths.private_key.display()));
        }
        if !held.is_empty() {
            return Err(TransferError::NotEmpty(held));
        }
    }

    let started = Instant::now();
    let mut w = db.write().await?;
    match merge {
        false => {
            transfer::clear(&mut w, TABLES.iter().find(|t| t.name == "roles").expect("roles is a table")).await?;
        }
        true => w.makes_stale().await?,
    }
    let mut writers: HashMap<&'static str, transfer::Writer> = HashMap::new();
    let mut pending = Pending::default();
    let postgres = db.engine() == Engine::Postgres;
    let mut read: HashMap<&'static str, u64> = HashMap::new();
    let mut keys_read = Vec::new();
    let (mut already_there, mut renumbered) = (0, 0);
    let mut end = None;
    let mut number = 1u64;
    for line in lines {
        number += 1;
        let line = line.map_err(|e| TransferError::Open(shown.clone(), e))?;
        if end.is_some() {
            if line.trim().is_empty() {
                continue;
            }
            return Err(TransferError::Bad { line: number, problem: "a line follows the last line".into() });
        }
        let bad = |problem: String| TransferError::Bad { line: number, problem };
        let value: Value = serde_json::from_str(&line).map_err(|e| bad(format!("not JSON ({e})")))?;
        let Some((name, row)) = value.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next()) else {
            return Err(bad("a line is an object with one member: the table, and the row".into()));
        };
        if name == "end" {
            end = Some(row.clone());
            continue;
        }
        let table =
            transfer::table_named(name).ok_or_else(|| bad(format!("table {name} is not part of the format")))?;
        let places = header.columns.get(table.name).ok_or_else(|| bad(format!("the header does not list {name}")))?;
        let values = row.as_array().filter(|v| v.len() == places.len()).ok_or_else(|| {
            bad(format!("a row of {name} is a list of its {} columns, in the header's order", places.len()))
        })?;
        let mut cells = vec![Cell::Null; table.columns.len()];
        for (value, &place) in values.iter().zip(places) {
            let column = table.columns[place];
            cells[place] = from_json(value, column.kind)
                .ok_or_else(|| bad(format!("{name}.{} is {}, not {value}", column.name, kind_name(column.kind))))?;
        }
        *read.entry(table.name).or_default() += 1;
        if table.name == SIGNING_KEYS.name {
            let key = key_row(&cells).ok_or_else(|| bad("a signing key needs its kid, public key and times".into()))?;
            if key.retired_at.is_none() == key.sealed.is_none() {
                return Err(bad(format!(
                    "signing key {}: an active key has its sealed private half, a retired one none",
                    key.kid
                )));
            }
            keys_read.push((number, cells));
            continue;
        }
        if pending.table.is_some_and(|t| t.name != table.name) {
            already_there += pending.flush(&mut w, &writers).await?;
        }
        let writer = writers.entry(table.name).or_insert_with(|| transfer::Writer::new(table, merge));
        // PostgreSQL: many rows a statement, one round trip each. SQLite
        // runs in the process: a row a statement is faster there.
        if writer.batches() && postgres {
            pending.push(table, number, cells);
            if pending.rows.len() >= writer.batch() {
                already_there += pending.flush(&mut w, &writers).await?;
            }
            continue;
        }
        match writer.write(&mut w, &cells).await {
            Ok(Written::Stored) => {}
            Ok(Written::AlreadyThere) => already_there += 1,
            Ok(Written::Renumbered) => renumbered += 1,
            Err(source) => {
                return Err(TransferError::Refused { lines: format!("line {number}"), table: table.name, source })
            }
        }
    }
    already_there += pending.flush(&mut w, &writers).await?;
    let Some(end) = end else { return Err(TransferError::Truncated(shown)) };
    let counts: Counts = every_table().map(|t| (t.name, read.get(t.name).copied().unwrap_or(0))).collect();
    for (table, n) in &counts {
        let expected = end[*table].as_u64();
        // A table added after the file's version is not counted: it has no rows.
        let newer = transfer::table_named(table).is_some_and(|t| t.since > header.version);
        if expected != Some(*n) && !(newer && expected.is_none() && *n == 0) {
            return Err(TransferError::Bad {
                line: number,
                problem: format!(
                    "the last line counts {table}: {}, the file holds {n}: the file was changed or is damaged",
                    expected.map_or("nothing".to_owned(), |e| e.to_string())
                ),
            });
        }
    }
    transfer::renumber_identities(&mut w).await?;

    let rows: Vec<KeyRow> = keys_read.iter().filter_map(|(_, cells)| key_row(cells)).collect();
    let active = rows.iter().filter(|k| k.retired_at.is_none()).collect::<Vec<_>>();
    if active.len() > 1 {
        return Err(TransferError::Keys("the file holds more than one active signing key".into()));
    }
    let private_pem = match active.first() {
        Some(key) => Some(open_active(&secret(paths)?, key).await?),
        None => None,
    };
    let mut created = Vec::new();
    match db.engine() {
        Engine::Postgres => {
            retired_files(&rows)?;
            if let Some(key) = active.first() {
                let current = signing_keys::list(&mut w).await?;
                if current.iter().any(|k| k.retired_at.is_none() && k.kid != key.kid) {
                    signing_keys::retire_active(&mut w, now).await?;
                }
            }
            let writer = transfer::Writer::new(&SIGNING_KEYS, merge);
            for (line, cells) in &keys_read {
                match writer.write(&mut w, cells).await {
                    Ok(Written::AlreadyThere) => already_there += 1,
                    Ok(_) => {}
                    Err(source) => {
                        return Err(TransferError::Refused {
                            lines: format!("line {line}"),
                            table: SIGNING_KEYS.name,
                            source,
                        })
                    }
                }
            }
        }
        Engine::Sqlite => {
            let files = KeyFiles {
                active: active.first().zip(private_pem).map(|(key, private_pem)| ActiveFiles {
                    kid: key.kid.clone(),
                    private_pem,
                    public_pem: key.public_pem.clone(),
                    created_at: key.created_at,
                }),
                retired: retired_files(&rows)?,
            };
            created = keys::write_files(paths, &files, now).map_err(|e| TransferError::Keys(e.to_string()))?;
        }
    }
    if let Err(e) = w.commit().await {
        for file in created {
            let _ = std::fs::remove_file(file);
        }
        return Err(e.into());
    }
    let took = started.elapsed();
    let numbers = transfer::count(db, &TABLES.iter().collect::<Vec<_>>()).await?;
    let mut stored: Counts = TABLES.iter().map(|t| t.name).zip(numbers.into_iter().map(|n| n as u64)).collect();
    let keys_stored = match db.engine() {
        Engine::Postgres => signing_keys::list(db).await?.len(),
        Engine::Sqlite => {
            let files = keys::read_files(paths).map_err(TransferError::Keys)?;
            files.retired.len() + usize::from(files.active.is_some())
        }
    };
    stored.push((SIGNING_KEYS.name, keys_stored as u64));
    Ok(ImportReport {
        took,
        from_engine: header.engine,
        exported_at: header.exported_at,
        counts,
        already_there,
        renumbered,
        stored,
    })
}
