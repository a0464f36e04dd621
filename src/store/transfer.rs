//! The tables as `postern export` and `postern import` see them
//! (docs/export-format.md): every column of every table, with the kind of
//! value it holds on both engines, read as one snapshot and written back
//! row by row inside one write.
//!
//! The description is checked against the database ([`undescribed`]):
//! a column this build does not know (a newer Postern migrated the
//! database) stops an export instead of being left out of it.

use super::{run, Db, Engine, Write};
use futures_util::TryStreamExt;

/// What a column holds, the same on both engines (SQLite keeps booleans as
/// integers; PostgreSQL has BOOLEAN; BLOB and BYTEA are both bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Bool,
    Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// The format version that added the column. A file of an older
    /// version does not list it, and its rows get NULL there (such a
    /// column is nullable: [`undescribed`] checks).
    pub since: i64,
}

impl Column {
    /// The column, added in format `version`.
    const fn since(self, version: i64) -> Column {
        Column { since: version, ..self }
    }
}

const fn int(name: &'static str) -> Column {
    Column { name, kind: Kind::Int, since: 1 }
}
const fn text(name: &'static str) -> Column {
    Column { name, kind: Kind::Text, since: 1 }
}
const fn boolean(name: &'static str) -> Column {
    Column { name, kind: Kind::Bool, since: 1 }
}
const fn bytes(name: &'static str) -> Column {
    Column { name, kind: Kind::Bytes, since: 1 }
}

/// A table: its columns, and the columns of its primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub key: &'static [&'static str],
    /// Rows are only ever added (the audit log, the outbox): merged, a row
    /// whose id is taken by another row is added under a new id.
    pub append_only: bool,
    /// The format version that added the table: a file of an older version
    /// has none of its rows.
    pub since: i64,
}

impl Table {
    /// Whether the database numbers the rows (an `id` key).
    pub fn numbered(&self) -> bool {
        self.key == ["id"]
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

const fn table(name: &'static str, columns: &'static [Column], key: &'static [&'static str]) -> Table {
    Table { name, columns, key, append_only: false, since: 1 }
}

/// Every table Postern keeps but the signing keys and the rate limits,
/// parents before children: the order a database can be filled in without
/// breaking a foreign key.
pub const TABLES: &[Table] = &[
    table("organizations", &[int("id"), text("name"), int("created_at")], &["id"]),
    table(
        "roles",
        &[
            int("id"),
            text("name"),
            text("description"),
            boolean("administrator"),
            int("app_view"),
            int("app_create"),
            int("app_edit"),
            int("app_delete"),
            boolean("built_in"),
            int("created_at"),
            int("updated_at"),
        ],
        &["id"],
    ),
    table(
        "users",
        &[
            int("id"),
            text("username"),
            text("email"),
            text("password_hash"),
            int("role_id"),
            text("language"),
            boolean("enabled"),
            int("created_at"),
            int("updated_at"),
        ],
        &["id"],
    ),
    table("user_organizations", &[int("user_id"), int("organization_id")], &["user_id", "organization_id"]),
    table(
        "customer_users",
        &[
            int("id"),
            int("organization_id"),
            text("username"),
            text("email"),
            text("password_hash"),
            text("language"),
            boolean("enabled"),
            int("created_at"),
            int("updated_at"),
        ],
        &["id"],
    ),
    table(
        "oauth_applications",
        &[
            int("id"),
            int("organization_id"),
            text("name"),
            text("client_id"),
            bytes("secret_hash"),
            boolean("active"),
            text("grant_type"),
            text("kind"),
            int("owner_user_id"),
            int("owner_customer_user_id"),
            boolean("confidential"),
            boolean("skip_consent"),
            int("last_used_at"),
            int("created_at"),
            int("updated_at"),
        ],
        &["id"],
    ),
    table(
        "oauth_application_redirect_uris",
        &[int("application_id"), int("position"), text("uri")],
        &["application_id", "position"],
    ),
    Table {
        since: 2,
        ..table(
            "oauth_application_post_logout_redirect_uris",
            &[int("application_id"), int("position"), text("uri")],
            &["application_id", "position"],
        )
    },
    table(
        "oauth_grants",
        &[
            int("id"),
            int("application_id"),
            int("user_id"),
            int("customer_user_id"),
            text("scope"),
            int("created_at"),
            int("expires_at"),
            int("revoked_at"),
            text("revoked_reason"),
            int("auth_time").since(2),
            text("claims").since(2),
        ],
        &["id"],
    ),
    table(
        "oauth_access_tokens",
        &[
            text("jti"),
            int("application_id"),
            text("grant_type"),
            int("user_id"),
            int("customer_user_id"),
            text("scope"),
            int("issued_at"),
            int("expires_at"),
            int("revoked_at"),
            int("grant_id"),
        ],
        &["jti"],
    ),
    table(
        "oauth_authorization_codes",
        &[
            bytes("code_hash"),
            int("application_id"),
            int("user_id"),
            int("customer_user_id"),
            text("redirect_uri"),
            boolean("redirect_uri_sent"),
            text("scope"),
            text("code_challenge"),
            int("created_at"),
            int("expires_at"),
            int("used_at"),
            int("grant_id"),
            text("nonce").since(2),
            int("auth_time").since(2),
            text("claims").since(2),
        ],
        &["code_hash"],
    ),
    table(
        "oauth_refresh_tokens",
        &[bytes("token_hash"), int("grant_id"), int("issued_at"), int("expires_at"), int("rotated_at")],
        &["token_hash"],
    ),
    table(
        "oauth_consents",
        &[int("id"), int("application_id"), int("user_id"), int("customer_user_id"), text("scope"), int("granted_at")],
        &["id"],
    ),
    table("sessions", &[bytes("token_hash"), int("user_id"), int("created_at"), int("expires_at")], &["token_hash"]),
    table(
        "customer_sessions",
        &[bytes("token_hash"), int("customer_user_id"), int("created_at"), int("expires_at")],
        &["token_hash"],
    ),
    table("settings", &[text("key"), text("value"), int("updated_at")], &["key"]),
    Table {
        append_only: true,
        ..table(
            "email_outbox",
            &[
                int("id"),
                text("recipient"),
                text("subject"),
                text("body"),
                text("status"),
                text("error"),
                int("created_at"),
                int("sent_at"),
            ],
            &["id"],
        )
    },
    Table {
        append_only: true,
        ..table(
            "audit_log",
            &[
                int("id"),
                int("at"),
                text("event"),
                int("user_id"),
                int("customer_user_id"),
                text("username"),
                int("application_id"),
                text("application_name"),
                text("client_id"),
                text("ip"),
                text("detail"),
            ],
            &["id"],
        )
    },
];

/// The signing keys as the export carries them. A table on PostgreSQL;
/// on SQLite the keys are files (`crate::keys`), turned into these rows.
pub static SIGNING_KEYS: Table = table(
    "signing_keys",
    &[
        text("kid"),
        text("algorithm"),
        text("public_pem"),
        bytes("private_sealed"),
        int("created_at"),
        int("retired_at"),
    ],
    &["kid"],
);

/// The table called `name` ([`TABLES`] or [`SIGNING_KEYS`]).
pub fn table_named(name: &str) -> Option<&'static Table> {
    TABLES.iter().chain(std::iter::once(&SIGNING_KEYS)).find(|t| t.name == name)
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl Cell {
    /// Whether the value can be stored in a column of `kind`.
    pub fn fits(&self, kind: Kind) -> bool {
        matches!(
            (self, kind),
            (Cell::Null, _)
                | (Cell::Int(_), Kind::Int)
                | (Cell::Text(_), Kind::Text)
                | (Cell::Bool(_), Kind::Bool)
                | (Cell::Bytes(_), Kind::Bytes)
        )
    }
}

/// Why an export stopped: the database, or the writer of its rows.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Write(#[from] std::io::Error),
}

/// Reads a row's cells by the kinds of `columns`.
macro_rules! cells {
    ($row:expr, $columns:expr) => {{
        use sqlx::Row;
        let mut cells = Vec::with_capacity($columns.len());
        for (i, column) in $columns.iter().enumerate() {
            cells.push(match column.kind {
                Kind::Int => $row.try_get::<Option<i64>, _>(i)?.map_or(Cell::Null, Cell::Int),
                Kind::Text => $row.try_get::<Option<String>, _>(i)?.map_or(Cell::Null, Cell::Text),
                Kind::Bool => $row.try_get::<Option<bool>, _>(i)?.map_or(Cell::Null, Cell::Bool),
                Kind::Bytes => $row.try_get::<Option<Vec<u8>>, _>(i)?.map_or(Cell::Null, Cell::Bytes),
            });
        }
        cells
    }};
}

/// Binds `cell` as a value of `kind` (a NULL typed by its column, which
/// PostgreSQL needs).
macro_rules! bind_cell {
    ($query:expr, $kind:expr, $cell:expr) => {
        match ($kind, $cell) {
            (_, Cell::Int(v)) => $query.bind(*v),
            (_, Cell::Text(v)) => $query.bind(v.as_str()),
            (_, Cell::Bool(v)) => $query.bind(*v),
            (_, Cell::Bytes(v)) => $query.bind(v.as_slice()),
            (Kind::Int, Cell::Null) => $query.bind(None::<i64>),
            (Kind::Text, Cell::Null) => $query.bind(None::<String>),
            (Kind::Bool, Cell::Null) => $query.bind(None::<bool>),
            (Kind::Bytes, Cell::Null) => $query.bind(None::<Vec<u8>>),
        }
    };
}

fn select(table: &Table) -> String {
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    format!("SELECT {} FROM {} ORDER BY {}", columns.join(", "), table.name, table.key.join(", "))
}

/// Reads every row of `tables` as one snapshot of the database (one read
/// transaction: writers go on meanwhile, and what they commit after it
/// began is not in it), handing each row to `each`, table by table in the
/// order given. Returns the rows read per table.
pub async fn read_snapshot(
    db: &Db,
    tables: &[&'static Table],
    mut each: impl FnMut(&'static Table, Vec<Cell>) -> std::io::Result<()>,
) -> Result<Vec<u64>, ReadError> {
    // PostgreSQL: one snapshot for every statement of the transaction.
    let snapshot =
        (db.engine() == Engine::Postgres).then_some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    let mut counts = Vec::with_capacity(tables.len());
    run!(db, |c| {
        // SQLite: a read transaction sees the database as of its first read.
        let mut tx = sqlx::Connection::begin(&mut *c).await?;
        if let Some(sql) = snapshot {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        for table in tables {
            let sql = select(table);
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            let mut n = 0u64;
            while let Some(row) = rows.try_next().await? {
                each(table, cells!(row, table.columns))?;
                n += 1;
            }
            counts.push(n);
        }
        tx.rollback().await?;
    });
    Ok(counts)
}

/// The differences between [`TABLES`] (and, on PostgreSQL, the signing
/// keys) and the database's own tables and columns, as readable lines;
/// empty when this build describes every column there is. Not described,
/// and not exported: the migrations' own table, and SQLite's
/// `id_high_water` (kept by its triggers as rows are written).
pub async fn undescribed(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let engine = db.engine();
    let list_tables = match engine {
        Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('_sqlx_migrations', 'id_high_water') ORDER BY name"
        }
        Engine::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()
             AND table_type = 'BASE TABLE' AND table_name NOT IN ('_sqlx_migrations', 'rate_limits') ORDER BY 1"
        }
    };
    // Each column's name, and whether it takes NULL.
    let list_columns = match engine {
        Engine::Sqlite => "SELECT name, \"notnull\" = 0 FROM pragma_table_info($1) ORDER BY cid",
        Engine::Postgres => {
            "SELECT column_name::text, is_nullable = 'YES' FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
        }
    };
    let present: Vec<String> = run!(db, |c| sqlx::query_scalar(list_tables).fetch_all(&mut *c).await?);
    let described: Vec<&Table> = match engine {
        Engine::Sqlite => TABLES.iter().collect(),
        Engine::Postgres => TABLES.iter().chain(std::iter::once(&SIGNING_KEYS)).collect(),
    };
    let mut problems = Vec::new();
    for name in &present {
        if !described.iter().any(|t| t.name == name) {
            problems.push(format!("table {name} is not part of the export format"));
        }
    }
    for table in described {
        if !present.iter().any(|p| p == table.name) {
            problems.push(format!("table {} is missing from the database", table.name));
            continue;
        }
        let columns: Vec<(String, bool)> =
            run!(db, |c| sqlx::query_as(list_columns).bind(table.name).fetch_all(&mut *c).await?);
        for (column, _) in &columns {
            if table.column(column).is_none() {
                problems.push(format!("column {}.{column} is not part of the export format", table.name));
            }
        }
        for column in table.columns {
            match columns.iter().find(|(c, _)| c == column.name) {
                None => problems.push(format!("column {}.{} is missing from the database", table.name, column.name)),
                // An older file has no value for it: the import writes NULL.
                Some((_, false)) if column.since > 1 => problems.push(format!(
                    "column {}.{} is NOT NULL, but files of export formats before {} have no value for it",
                    table.name, column.name, column.since
                )),
                Some(_) => {}
            }
        }
    }
    Ok(problems)
}

/// The tables of [`TABLES`] (but `roles`, which the schema fills) and, on
/// PostgreSQL, the signing keys, that hold at least one row.
pub async fn tables_with_rows(db: &Db) -> Result<Vec<&'static str>, sqlx::Error> {
    let mut tables: Vec<&'static Table> = TABLES.iter().filter(|t| t.name != "roles").collect();
    if db.engine() == Engine::Postgres {
        tables.push(&SIGNING_KEYS);
    }
    let mut found = Vec::new();
    for table in tables {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", table.name);
        let any: bool = run!(db, |c| sqlx::query_scalar(&sql).fetch_one(&mut *c).await?);
        if any {
            found.push(table.name);
        }
    }
    Ok(found)
}

/// Rows per table, counted by the database.
pub async fn count(db: &Db, tables: &[&Table]) -> Result<Vec<i64>, sqlx::Error> {
    let mut counts = Vec::with_capacity(tables.len());
    for table in tables {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name);
        counts.push(run!(db, |c| sqlx::query_scalar(&sql).fetch_one(&mut *c).await?));
    }
    Ok(counts)
}

/// Removes every row of `table` (an import into an empty database clears
/// what the schema seeded: the built-in roles).
pub async fn clear(w: &mut Write, table: &Table) -> Result<u64, sqlx::Error> {
    w.makes_stale().await?;
    let sql = format!("DELETE FROM {}", table.name);
    Ok(run!(w, |c| sqlx::query(&sql).execute(&mut *c).await?.rows_affected()))
}

/// The statements that write one table's rows, made once per table.
#[derive(Debug)]
pub struct Writer {
    table: &'static Table,
    insert: String,
    /// `INSERT INTO t (columns) VALUES` and what follows the values (the
    /// conflict clause), for rows written many at a time.
    head: String,
    tail: String,
    /// Append-only tables, merged: whether the taken id holds this very row.
    same: Option<String>,
    /// Append-only tables, merged: the row under a new id.
    renumbered: Option<String>,
}

/// What [`Writer::write`] did with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Added, or (merged) put in place of the row with its key.
    Stored,
    /// Merged: the database held this very row already.
    AlreadyThere,
    /// Merged into an append-only table whose id was taken: added under a new id.
    Renumbered,
}

impl Writer {
    /// `merge`: a row whose key is taken replaces the row there (an
    /// append-only table's row is added under a new id instead, unless the
    /// same row is there already). Without it a taken key is an error.
    pub fn new(table: &'static Table, merge: bool) -> Self {
        let names: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
        let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
        let head = format!("INSERT INTO {} ({}) VALUES", table.name, names.join(", "));
        let mut tail = String::new();
        let (mut same, mut renumbered) = (None, None);
        if merge {
            let key = table.key.join(", ");
            let rest: Vec<String> =
                names.iter().filter(|n| !table.key.contains(n)).map(|n| format!("{n} = excluded.{n}")).collect();
            if table.append_only || rest.is_empty() {
                tail = format!(" ON CONFLICT ({key}) DO NOTHING");
            } else {
                tail = format!(" ON CONFLICT ({key}) DO UPDATE SET {}", rest.join(", "));
            }
            if table.append_only {
                let all: Vec<String> =
                    names.iter().enumerate().map(|(i, n)| format!("{n} IS NOT DISTINCT FROM ${}", i + 1)).collect();
                same = Some(format!("SELECT COUNT(*) FROM {} WHERE {}", table.name, all.join(" AND ")));
                let unnumbered: Vec<&str> = names.iter().copied().filter(|n| *n != "id").collect();
                let placeholders: Vec<String> = (1..=unnumbered.len()).map(|i| format!("${i}")).collect();
                renumbered = Some(format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    table.name,
                    unnumbered.join(", "),
                    placeholders.join(", ")
                ));
            }
        }
        let insert = format!("{head} ({}){tail}", placeholders.join(", "));
        Self { table, insert, head, tail, same, renumbered }
    }

    /// How many rows [`Writer::write_many`] takes at once: a few hundred,
    /// and well below the engines' limit on parameters (SQLite 32,766).
    pub fn batch(&self) -> usize {
        (16_000 / self.table.columns.len()).min(500)
    }

    /// Whether rows can go many at a time: not an append-only table being
    /// merged, where each row is looked at alone.
    pub fn batches(&self) -> bool {
        self.same.is_none()
    }

    /// Writes up to [`Writer::batch`] rows in one statement; returns how
    /// many were there already (merged into a table whose every column is
    /// its key).
    pub async fn write_many(&self, w: &mut Write, rows: &[Vec<Cell>]) -> Result<u64, sqlx::Error> {
        let columns = self.table.columns;
        let width = columns.len();
        let mut sql = String::with_capacity(self.head.len() + rows.len() * width * 6 + self.tail.len());
        sql.push_str(&self.head);
        for r in 0..rows.len() {
            sql.push_str(if r == 0 { " (" } else { ", (" });
            for c in 0..width {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push('$');
                sql.push_str(&(r * width + c + 1).to_string());
            }
            sql.push(')');
        }
        sql.push_str(&self.tail);
        let stored = run!(&mut *w, |c| {
            let mut query = sqlx::query(&sql);
            for cells in rows {
                for (column, cell) in columns.iter().zip(cells) {
                    query = bind_cell!(query, column.kind, cell);
                }
            }
            query.execute(&mut *c).await?.rows_affected()
        });
        Ok((rows.len() as u64).saturating_sub(stored))
    }

    /// Writes one row, its cells in the order of the table's columns.
    pub async fn write(&self, w: &mut Write, cells: &[Cell]) -> Result<Written, sqlx::Error> {
        let columns = self.table.columns;
        let stored = run!(&mut *w, |c| {
            let mut query = sqlx::query(&self.insert);
            for (column, cell) in columns.iter().zip(cells) {
                query = bind_cell!(query, column.kind, cell);
            }
            query.execute(&mut *c).await?.rows_affected()
        });
        if stored > 0 {
            return Ok(Written::Stored);
        }
        let (Some(same), Some(renumbered)) = (&self.same, &self.renumbered) else {
            // Every column is the key: the row is there already.
            return Ok(Written::AlreadyThere);
        };
        let there: i64 = run!(&mut *w, |c| {
            let mut query = sqlx::query_scalar(same);
            for (column, cell) in columns.iter().zip(cells) {
                query = bind_cell!(query, column.kind, cell);
            }
            query.fetch_one(&mut *c).await?
        });
        if there > 0 {
            return Ok(Written::AlreadyThere);
        }
        run!(&mut *w, |c| {
            let mut query = sqlx::query(renumbered);
            for (column, cell) in columns.iter().zip(cells).filter(|(column, _)| column.name != "id") {
                query = bind_cell!(query, column.kind, cell);
            }
            query.execute(&mut *c).await?.rows_affected()
        });
        Ok(Written::Renumbered)
    }
}

/// After rows were written with their ids (PostgreSQL): moves each
/// table's identity past the highest id, so that the next row the server
/// adds does not collide. SQLite numbers from the highest rowid by itself.
pub async fn renumber_identities(w: &mut Write) -> Result<(), sqlx::Error> {
    if w.engine() != Engine::Postgres {
        return Ok(());
    }
    for table in TABLES.iter().filter(|t| t.numbered()) {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{0}', 'id'), COALESCE((SELECT max(id) FROM {0}), 0) + 1, false)",
            table.name
        );
        run!(&mut *w, |c| sqlx::query(&sql).execute(&mut *c).await?.rows_affected());
    }
    Ok(())
}
