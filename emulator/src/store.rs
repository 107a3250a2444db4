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
use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};

/// The version of this file's layout, kept in `emulator.schema`.
pub const SCHEMA_VERSION: &str = "1";

/// The largest stored value (a record, a key list): the host writes none larger, and a larger
/// one read back is refused as damaged.
pub const MAX_STORED: usize = 1 << 20;

/// The tables and indexes of this layout: a file holding anything else is another
/// application's, and is refused unchanged.
const OURS: [&str; 4] = ["emulator", "jobs", "jobs_deadline", "bitlocker_keys"];

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
    /// PostgreSQL refused (`--db postgres://…`): where, and the server's message.
    Postgres(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Sqlite(e) => write!(f, "database: {e}"),
            StoreError::Damaged(m) => write!(f, "database: {m}"),
            StoreError::Unavailable(m) => write!(f, "database: {m}"),
            StoreError::Postgres(m) => write!(f, "database: PostgreSQL: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    /// A full disk is the one SQLite error that says the emulator cannot take writes for now
    /// (503), and says so; the others are errors (500).
    fn from(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(ErrorCode::DiskFull) {
            return StoreError::Unavailable(format!(
                "the disk is full (SQLITE_FULL): nothing of this request was kept; free space and retry ({e})"
            ));
        }
        StoreError::Sqlite(e)
    }
}

/// The process's hold on its database file, kept for the process's life: an exclusive lock
/// (`flock`) that a second emulator on the same file fails to take, and the file's identity,
/// compared with what the path names before every commit.
///
/// The lock is on the database file itself, through a descriptor of its own that stays open
/// until every SQLite connection is closed: SQLite's own locks are POSIX record locks, which
/// `flock` does not touch on Linux and macOS, but which closing any descriptor of the file
/// would drop, so this one is closed last.
#[derive(Debug)]
pub struct Owner {
    file: File,
    path: PathBuf,
}

impl Owner {
    /// Takes the file at `path` (creating it, empty, if absent) for this process.
    ///
    /// # Errors
    /// The file is held by another process (`in use`), or cannot be opened.
    pub fn claim(path: &str) -> Result<Owner, StoreError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| StoreError::Unavailable(format!("cannot open: {e}")))?;
        // On Windows a whole-file lock would also lock out SQLite's own handles: there the
        // file is neither locked nor watched (`same_file` cannot tell there).
        #[cfg(not(unix))]
        let locked: Result<(), TryLockError> = Ok(());
        #[cfg(unix)]
        let locked = file.try_lock();
        match locked {
            Ok(()) => Ok(Owner { file, path: PathBuf::from(path) }),
            Err(TryLockError::WouldBlock) => Err(StoreError::Unavailable(
                "in use by another process (another emulator holds its lock); stop it or give another --db"
                    .into(),
            )),
            Err(TryLockError::Error(e)) => Err(StoreError::Unavailable(format!("cannot lock: {e}"))),
        }
    }

    /// Whether the path still names the file this process opened.
    ///
    /// # Errors
    /// The file was deleted, or the path now names another file: what is written from now on
    /// would go where no one reads it.
    pub fn check(&self) -> Result<(), StoreError> {
        let lost = |how: &str| {
            StoreError::Unavailable(format!(
                "the database file {} was {how} while the emulator ran: writes are refused from now on (nothing after this is acknowledged); restart the emulator",
                self.path.display()
            ))
        };
        let held = self.file.metadata().map_err(|e| lost(&format!("unreadable ({e})")))?;
        let named = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(_) => return Err(lost("deleted")),
        };
        if !same_file(&held, &named) {
            return Err(lost("deleted or replaced"));
        }
        Ok(())
    }
}

#[cfg(unix)]
fn same_file(held: &std::fs::Metadata, named: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    held.nlink() > 0 && held.dev() == named.dev() && held.ino() == named.ino()
}

#[cfg(not(unix))]
fn same_file(_held: &std::fs::Metadata, _named: &std::fs::Metadata) -> bool {
    true
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

/// Opens a connection for the writer: refuses a file of another application before changing
/// anything, then sets WAL and `synchronous=FULL`, creates the tables if the file is new and
/// checks the layout's version if it is not.
pub fn open_writer(location: &Location) -> Result<Connection, StoreError> {
    let conn = match location {
        Location::File(path) => Connection::open(path)?,
        Location::Memory => Connection::open_in_memory()?,
    };
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    refuse_foreign(&conn)?;
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

/// Refuses a database that holds anything but this layout (read only: nothing is changed).
fn refuse_foreign(conn: &Connection) -> Result<(), StoreError> {
    let mut statement = conn.prepare(
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let objects = statement
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let foreign: Vec<String> = objects
        .iter()
        .filter(|(_, name)| !OURS.contains(&name.as_str()))
        .map(|(kind, name)| format!("{kind} {name:?}"))
        .collect();
    let has_settings = objects.iter().any(|(kind, name)| kind == "table" && name == "emulator");
    if !foreign.is_empty() || (!objects.is_empty() && !has_settings) {
        let shown = if foreign.is_empty() { "no emulator table".to_string() } else { foreign.join(", ") };
        return Err(StoreError::Damaged(format!(
            "holds another application's tables ({shown}); the emulator opens only a new file or one of its own, and has changed nothing"
        )));
    }
    Ok(())
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

/// Removes a job's record (its row of `jobs`).
pub fn remove_record(conn: &Connection, key: &JobKey) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM jobs WHERE subscription = ?1 AND resource_group = ?2 AND name = ?3")?
        .execute(params![key.subscription, key.resource_group, key.name])?;
    Ok(())
}

/// Removes a job's BitLocker keys (its row of `bitlocker_keys`).
pub fn remove_keys(conn: &Connection, key: &JobKey) -> Result<(), StoreError> {
    conn.prepare_cached(
        "DELETE FROM bitlocker_keys WHERE subscription = ?1 AND resource_group = ?2 AND name = ?3",
    )?
    .execute(params![key.subscription, key.resource_group, key.name])?;
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

/// The earliest deadline, in whole milliseconds, of a job `skip` does not name (a damaged row,
/// whose timer cannot fire): one index range, as long as the rows skipped.
pub fn next_deadline(conn: &Connection, skip: impl Fn(&JobKey) -> bool) -> Result<Option<i64>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT subscription, resource_group, name, deadline FROM jobs WHERE deadline IS NOT NULL ORDER BY deadline",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let key = JobKey { subscription: row.get(0)?, resource_group: row.get(1)?, name: row.get(2)? };
        if !skip(&key) {
            return Ok(Some(row.get(3)?));
        }
    }
    Ok(None)
}

/// How many jobs' deadlines (in whole milliseconds) are at or before `now_ms`.
pub fn count_due(conn: &Connection, now_ms: i64) -> Result<usize, StoreError> {
    let count: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM jobs WHERE deadline IS NOT NULL AND deadline <= ?1")?
        .query_row([now_ms], |r| r.get(0))?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// A row of a list: its key, and its record's text or why it cannot be read.
pub type ListedRow = (JobKey, Result<String, StoreError>);

/// The statement of one list page: the rows of one subscription (and resource group), in list
/// order, after a position. Each is one range of the primary key, so a page costs the same at
/// the start and at the end of a large list (keyset pagination; the test reads the query plan).
fn list_sql(in_group: bool, after: bool) -> &'static str {
    match (in_group, after) {
        (false, false) => {
            "SELECT subscription, resource_group, name, record FROM jobs
             WHERE subscription = ?1 ORDER BY resource_group, name LIMIT ?2"
        }
        (false, true) => {
            "SELECT subscription, resource_group, name, record FROM jobs
             WHERE subscription = ?1 AND (resource_group, name) > (?3, ?4)
             ORDER BY resource_group, name LIMIT ?2"
        }
        (true, false) => {
            "SELECT subscription, resource_group, name, record FROM jobs
             WHERE subscription = ?1 AND resource_group = ?3 ORDER BY name LIMIT ?2"
        }
        (true, true) => {
            "SELECT subscription, resource_group, name, record FROM jobs
             WHERE subscription = ?1 AND resource_group = ?3 AND name > ?4 ORDER BY name LIMIT ?2"
        }
    }
}

/// The records of a subscription's jobs (of one resource group if given), by resource group
/// then name, starting after `after` (a resource group and a name), at most `limit`. A row
/// whose record cannot be read (not text, too large) is given with its error, and the others
/// still are.
pub fn list(
    conn: &Connection,
    subscription: &str,
    resource_group: Option<&str>,
    after: Option<(&str, &str)>,
    limit: usize,
) -> Result<Vec<ListedRow>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let (after_rg, after_name) = after.unwrap_or(("", ""));
    let mut statement = conn.prepare_cached(list_sql(resource_group.is_some(), after.is_some()))?;
    let group = resource_group.unwrap_or(after_rg);
    let mut rows = match (resource_group.is_some(), after.is_some()) {
        (false, false) => statement.query(params![subscription, limit])?,
        (false, true) => statement.query(params![subscription, limit, after_rg, after_name])?,
        (true, false) => statement.query(params![subscription, limit, group])?,
        (true, true) => statement.query(params![subscription, limit, group, after_name])?,
    };
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let key = JobKey { subscription: row.get(0)?, resource_group: row.get(1)?, name: row.get(2)? };
        let record = match row.get::<_, rusqlite::types::Value>(3)? {
            rusqlite::types::Value::Text(text) => checked(text, || format!("jobs row {key}: record")),
            other => Err(StoreError::Damaged(format!(
                "jobs row {key}: record: {}, not text",
                match other {
                    rusqlite::types::Value::Null => "null",
                    rusqlite::types::Value::Integer(_) => "an integer",
                    rusqlite::types::Value::Real(_) => "a real",
                    rusqlite::types::Value::Blob(_) => "a blob",
                    rusqlite::types::Value::Text(_) => "text",
                }
            ))),
        };
        out.push((key, record));
    }
    Ok(out)
}

/// The `scope` of any record stored in a scope (JSON), as its records spell it, if the scope
/// holds a job whose record has one (a damaged row is passed over).
pub fn scope_spelling(
    conn: &Connection,
    subscription: &str,
    resource_group: &str,
) -> Result<Option<String>, StoreError> {
    let scope: Option<String> = conn
        .prepare_cached(
            "SELECT json_extract(record, '$.scope') FROM jobs WHERE subscription = ?1 AND resource_group = ?2
             AND json_valid(record) AND json_type(record, '$.scope') = 'object' LIMIT 1",
        )?
        .query_row(params![subscription, resource_group], |r| r.get(0))
        .optional()?;
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(conn: &Connection, sql: &str) -> String {
        let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let unbound = vec![rusqlite::types::Value::Null; statement.parameter_count()];
        let rows =
            statement.query_map(rusqlite::params_from_iter(unbound), |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }

    /// Each list page is one range of the primary key: SQLite searches it (no scan of the table,
    /// no sort), whether the page is the first or comes after a position.
    #[test]
    fn list_pages_are_one_index_range() {
        let conn = open_writer(&Location::Memory).unwrap();
        for (in_group, after) in [(false, false), (false, true), (true, false), (true, true)] {
            let plan = plan(&conn, list_sql(in_group, after));
            assert!(
                plan.starts_with("SEARCH jobs USING PRIMARY KEY (subscription=?"),
                "{in_group} {after}: {plan}"
            );
            assert!(!plan.contains("SCAN") && !plan.contains("TEMP B-TREE"), "{in_group} {after}: {plan}");
            if after {
                assert!(plan.contains('>'), "the position bounds the range, not a filter: {plan}");
            }
        }
    }

    /// Reading the last page of a large subscription costs what the first does: the statement
    /// steps through the page's rows only (SQLite's own count of virtual-machine steps).
    #[test]
    fn list_last_page_costs_what_the_first_does() {
        let conn = open_writer(&Location::Memory).unwrap();
        let jobs = 20_000;
        for i in 0..jobs {
            let key = JobKey {
                subscription: "s".into(),
                resource_group: format!("rg{}", i % 7),
                name: format!("job-{i:06}"),
            };
            put_record(&conn, &key, "{}", None).unwrap();
        }
        let steps = |after: Option<(&str, &str)>| {
            let rows = list(&conn, "s", None, after, 101).unwrap();
            assert_eq!(rows.len(), 101);
            let statement = conn.prepare_cached(list_sql(false, after.is_some())).unwrap();
            let steps = statement.get_status(rusqlite::StatementStatus::VmStep);
            statement.reset_status(rusqlite::StatementStatus::VmStep);
            steps
        };
        let first = steps(None);
        let last = steps(Some(("rg6", "job-000000")));
        assert!(first > 0);
        assert!(last < first * 2 && first < last * 2, "first page {first} steps, last page {last}");
    }

    /// SQLITE_FULL (here from a page limit, as a full disk gives it) says the disk is full, as
    /// a 503 (`Unavailable`), not a bare "did not commit".
    #[test]
    fn a_full_disk_says_so() {
        let conn = open_writer(&Location::Memory).unwrap();
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        conn.query_row(&format!("PRAGMA max_page_count = {}", pages + 2), [], |_| Ok(())).unwrap();
        let key = JobKey { subscription: "s".into(), resource_group: "rg".into(), name: "big".into() };
        let e = put_record(&conn, &key, &"x".repeat(64 * 1024), None).unwrap_err();
        assert!(
            matches!(&e, StoreError::Unavailable(m) if m.starts_with("the disk is full (SQLITE_FULL)")),
            "{e}"
        );
    }

    #[test]
    fn foreign_tables_are_refused_before_anything_changes() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY)").unwrap();
        let e = refuse_foreign(&conn).unwrap_err().to_string();
        assert!(e.contains("another application's tables (table \"invoices\")"), "{e}");
        let ours = open_writer(&Location::Memory).unwrap();
        assert!(refuse_foreign(&ours).is_ok());
    }
}
