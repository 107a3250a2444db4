//! The SQLite file: one row per job record, BitLocker keys in a table of their own, and the
//! emulator's own settings (the virtual clock).
//!
//! ```sql
//! jobs(subscription, resource_group, name, record, deadline)   -- one row per job
//! bitlocker_keys(subscription, resource_group, name, keys)     -- the drives' keys, apart
//! emulator(key, value)                                         -- schema version, virtual clock
//! ```
//!
//! A job is keyed as ARM compares it: subscription id and resource group name in lower case,
//! the job name exactly. `deadline` is the job's next timer in whole milliseconds since the
//! Unix epoch (rounded down), indexed, so the writer finds what is due with one index range; the
//! exact instant is in the record and the core decides. Rows are read back as untrusted: a
//! row that does not parse is an error naming the row.
//!
//! The file runs in WAL mode with `synchronous=FULL`: a transaction that committed survives a
//! crash of the process or of the machine, and readers see only committed transactions.

use std::fmt;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

/// The version of this file's layout, kept in `emulator.schema`.
pub const SCHEMA_VERSION: &str = "1";

/// The largest stored value read back (a record, a key list): more is refused as damaged.
const MAX_STORED: usize = 1 << 20;

/// A job's key: subscription id and resource group name in lower case, the job name as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobKey {
    /// The subscription id, lower case.
    pub subscription: String,
    /// The resource group's name, lower case.
    pub resource_group: String,
    /// The job's name.
    pub name: String,
}

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.subscription, self.resource_group, self.name)
    }
}

/// What went wrong with the database; the message names the place.
#[derive(Debug)]
pub enum StoreError {
    /// SQLite refused.
    Sqlite(rusqlite::Error),
    /// A stored value did not read back: where, and why.
    Damaged(String),
    /// The writer is gone (the emulator is shutting down) or its batch did not commit.
    Unavailable(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Sqlite(e) => write!(f, "database: {e}"),
            StoreError::Damaged(m) => write!(f, "database: {m}"),
            StoreError::Unavailable(m) => write!(f, "database: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A file (created if absent).
    File(String),
    /// In memory, gone when the emulator stops (`--db :memory:`); one connection only.
    Memory,
}

impl Location {
    /// `:memory:` or a file path.
    pub fn parse(text: &str) -> Location {
        if text == ":memory:" { Location::Memory } else { Location::File(text.to_string()) }
    }
}

/// Opens a connection for the writer: sets WAL and `synchronous=FULL`, creates the tables if
/// the file is new and checks the layout's version if it is not.
pub fn open_writer(location: &Location) -> Result<Connection, StoreError> {
    let conn = match location {
        Location::File(path) => Connection::open(path)?,
        Location::Memory => Connection::open_in_memory()?,
    };
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    if let Location::File(_) = location {
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Damaged(format!("journal_mode: WAL refused (the file stays in {mode})")));
        }
    }
    conn.execute_batch(
        "PRAGMA synchronous=FULL;
         PRAGMA foreign_keys=OFF;
         CREATE TABLE IF NOT EXISTS emulator (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS jobs (
             subscription TEXT NOT NULL,
             resource_group TEXT NOT NULL,
             name TEXT NOT NULL,
             record TEXT NOT NULL,
             deadline INTEGER,
             PRIMARY KEY (subscription, resource_group, name)
         ) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS jobs_deadline ON jobs (deadline) WHERE deadline IS NOT NULL;
         CREATE TABLE IF NOT EXISTS bitlocker_keys (
             subscription TEXT NOT NULL,
             resource_group TEXT NOT NULL,
             name TEXT NOT NULL,
             keys TEXT NOT NULL,
             PRIMARY KEY (subscription, resource_group, name)
         ) WITHOUT ROWID;",
    )?;
    match get_setting(&conn, "schema")? {
        None => set_setting(&conn, "schema", SCHEMA_VERSION)?,
        Some(v) if v == SCHEMA_VERSION => {}
        Some(v) => {
            return Err(StoreError::Damaged(format!(
                "emulator.schema: version {v:?}, this emulator reads version {SCHEMA_VERSION}"
            )));
        }
    }
    Ok(conn)
}

/// Opens a read-only connection to a file the writer has set up.
pub fn open_reader(path: &str) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

fn checked(text: String, place: impl Fn() -> String) -> Result<String, StoreError> {
    if text.len() > MAX_STORED {
        return Err(StoreError::Damaged(format!(
            "{}: {} bytes, more than {MAX_STORED}",
            place(),
            text.len()
        )));
    }
    Ok(text)
}

/// A setting of the emulator's own (`schema`, `virtualNow`).
pub fn get_setting(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    let value: Option<String> =
        conn.query_row("SELECT value FROM emulator WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    value.map(|v| checked(v, || format!("emulator.{key}"))).transpose()
}

/// Sets a setting of the emulator's own.
pub fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO emulator (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// A job's stored record (JSON), if there is one.
pub fn get_record(conn: &Connection, key: &JobKey) -> Result<Option<String>, StoreError> {
    let record: Option<String> = conn
        .prepare_cached(
            "SELECT record FROM jobs WHERE subscription = ?1 AND resource_group = ?2 AND name = ?3",
        )?
        .query_row(params![key.subscription, key.resource_group, key.name], |r| r.get(0))
        .optional()?;
    record.map(|r| checked(r, || format!("jobs row {key}: record"))).transpose()
}

/// A job's stored BitLocker keys (JSON), if there are any.
pub fn get_keys(conn: &Connection, key: &JobKey) -> Result<Option<String>, StoreError> {
    let keys: Option<String> = conn
        .prepare_cached(
            "SELECT keys FROM bitlocker_keys WHERE subscription = ?1 AND resource_group = ?2 AND name = ?3",
        )?
        .query_row(params![key.subscription, key.resource_group, key.name], |r| r.get(0))
        .optional()?;
    keys.map(|k| checked(k, || format!("bitlocker_keys row {key}: keys"))).transpose()
}

/// Writes a job's record and its deadline (milliseconds), replacing what was there.
pub fn put_record(
    conn: &Connection,
    key: &JobKey,
    record: &str,
    deadline: Option<i64>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO jobs (subscription, resource_group, name, record, deadline) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (subscription, resource_group, name)
         DO UPDATE SET record = excluded.record, deadline = excluded.deadline",
    )?
    .execute(params![key.subscription, key.resource_group, key.name, record, deadline])?;
    Ok(())
}

/// Writes a job's BitLocker keys, replacing what was there.
pub fn put_keys(conn: &Connection, key: &JobKey, keys: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO bitlocker_keys (subscription, resource_group, name, keys) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (subscription, resource_group, name) DO UPDATE SET keys = excluded.keys",
    )?
    .execute(params![key.subscription, key.resource_group, key.name, keys])?;
    Ok(())
}

/// Removes a job: its record and its keys.
pub fn remove(conn: &Connection, key: &JobKey) -> Result<(), StoreError> {
    for table in ["jobs", "bitlocker_keys"] {
        conn.prepare_cached(&format!(
            "DELETE FROM {table} WHERE subscription = ?1 AND resource_group = ?2 AND name = ?3"
        ))?
        .execute(params![key.subscription, key.resource_group, key.name])?;
    }
    Ok(())
}

/// The jobs whose deadline (in whole milliseconds) is at or before `now_ms`, earliest first.
pub fn due(conn: &Connection, now_ms: i64) -> Result<Vec<JobKey>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT subscription, resource_group, name FROM jobs
         WHERE deadline IS NOT NULL AND deadline <= ?1 ORDER BY deadline",
    )?;
    let rows = statement.query_map([now_ms], |r| {
        Ok(JobKey { subscription: r.get(0)?, resource_group: r.get(1)?, name: r.get(2)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The earliest deadline of any job, in whole milliseconds.
pub fn next_deadline(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT MIN(deadline) FROM jobs WHERE deadline IS NOT NULL")?
        .query_row([], |r| r.get::<_, Option<i64>>(0))?)
}

/// How many jobs' deadlines (in whole milliseconds) are at or before `now_ms`.
pub fn count_due(conn: &Connection, now_ms: i64) -> Result<usize, StoreError> {
    let count: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM jobs WHERE deadline IS NOT NULL AND deadline <= ?1")?
        .query_row([now_ms], |r| r.get(0))?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// The records of a subscription's jobs (of one resource group if given), by resource group
/// then name, starting after `after` (a resource group and a name), at most `limit`.
pub fn list(
    conn: &Connection,
    subscription: &str,
    resource_group: Option<&str>,
    after: Option<(&str, &str)>,
    limit: usize,
) -> Result<Vec<(JobKey, String)>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let (after_rg, after_name) = after.unwrap_or(("", ""));
    let has_after = after.is_some();
    let mut statement = conn.prepare_cached(
        "SELECT subscription, resource_group, name, record FROM jobs
         WHERE subscription = ?1 AND (?2 IS NULL OR resource_group = ?2)
           AND (NOT ?3 OR (resource_group, name) > (?4, ?5))
         ORDER BY resource_group, name LIMIT ?6",
    )?;
    let rows = statement.query_map(
        params![subscription, resource_group, has_after, after_rg, after_name, limit],
        |r| {
            Ok((
                JobKey { subscription: r.get(0)?, resource_group: r.get(1)?, name: r.get(2)? },
                r.get::<_, String>(3)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (key, record) = row?;
        let record = checked(record, || format!("jobs row {key}: record"))?;
        out.push((key, record));
    }
    Ok(out)
}

/// The `scope` of any record stored in a scope (JSON), as its records spell it, if the scope
/// holds a job.
pub fn scope_spelling(
    conn: &Connection,
    subscription: &str,
    resource_group: &str,
) -> Result<Option<String>, StoreError> {
    let scope: Option<String> = conn
        .prepare_cached(
            "SELECT json_extract(record, '$.scope') FROM jobs WHERE subscription = ?1 AND resource_group = ?2 LIMIT 1",
        )?
        .query_row(params![subscription, resource_group], |r| r.get(0))
        .optional()?;
    Ok(scope)
}
