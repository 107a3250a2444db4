//! The PostgreSQL database (`--db postgres://…`): the same three tables as the SQLite file, in
//! the connection's schema (its `search_path`), shared by any number of emulator processes.
//!
//! ```sql
//! jobs(subscription, resource_group, name, version, record, deadline)  -- one row per job
//! bitlocker_keys(subscription, resource_group, name, keys)             -- the drives' keys, apart
//! emulator(key, value)                                                 -- schema version, virtual clock
//! ```
//!
//! Keys and the deadline are kept as in the SQLite file (the deadline in whole milliseconds,
//! rounded down), text columns in the `C` collation so that lists page in the same byte order.
//! `version` counts the row's writes. Every statement here runs inside a transaction the host
//! opened; the row lock (`FOR UPDATE`) a write takes is what serializes racing writes to one
//! job, and the virtual clock is guarded by an advisory lock ([`CLOCK_LOCK`]): shared by every
//! transaction that reads the time, exclusive for the one that moves it.
//!
//! Connections come from a pool (`deadpool-postgres`); one lost (the server restarted, the
//! network cut) is dropped and replaced by the pool, and until then the request answers 503.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Transaction};
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Config, NoTls};

use crate::store::{JobKey, ListedRow, MAX_STORED, StoreError};

/// The version of this layout, kept in `emulator.schema` (the PostgreSQL layout's own).
pub const SCHEMA_VERSION: &str = "1";

/// How many connections one emulator process keeps at most.
pub const POOL_SIZE: usize = 16;

/// How long to wait to connect, for a pooled connection, for a statement or a lock before the
/// request answers 503: no request waits for ever on the database.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The advisory lock around the virtual clock: taken shared by every transaction that reads
/// the time, exclusive by a clock move, so a move sees no request in flight and every
/// request sees one time throughout.
pub const CLOCK_LOCK: i64 = 0x1e_0001;

/// The advisory lock that makes creating the tables (or checking their version) one at a time
/// when several emulators start together.
const SCHEMA_LOCK: i64 = 0x1e_0002;

/// The tables of this layout: a schema holding any other is another application's.
const OURS: [&str; 3] = ["emulator", "jobs", "bitlocker_keys"];

/// Whether `--db` names a PostgreSQL database.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// What a failed transaction asks of its caller.
#[derive(Debug)]
pub enum Failed {
    /// The database refused or is unreachable: the request's answer.
    Store(StoreError),
    /// The transaction lost a race (a name created meanwhile, a serialization failure or a
    /// deadlock): nothing was kept; run it again.
    Retry,
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Self {
        Failed::Store(e)
    }
}

/// Maps a driver error on `place`: a lost or refused connection, a timeout, a server that
/// shuts down or lacks resources is `Unavailable` (503, try again); a lost race is [`Failed::Retry`];
/// anything else names the server's message (500).
pub fn failed(place: &'static str) -> impl Fn(tokio_postgres::Error) -> Failed {
    move |e| {
        let Some(code) = e.code() else {
            // No SQLSTATE: the connection is gone, or never came.
            return Failed::Store(StoreError::Unavailable(format!(
                "PostgreSQL: {place}: the connection failed ({e}); retry when the database is back"
            )));
        };
        if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED {
            return Failed::Retry;
        }
        let message = e.as_db_error().map_or_else(|| e.to_string(), |db| db.message().to_string());
        let class = &code.code()[..2];
        // 08 connection, 53 resources, 57 operator intervention (shutdown, a statement or lock timeout).
        if matches!(class, "08" | "53" | "57") || *code == SqlState::LOCK_NOT_AVAILABLE {
            return Failed::Store(StoreError::Unavailable(format!(
                "PostgreSQL: {place}: {message} ({}); retry",
                code.code()
            )));
        }
        Failed::Store(StoreError::Postgres(format!("{place}: {message} ({})", code.code())))
    }
}

/// A driver error on `place`, as the caller's answer (a lost race, retried no more, is 503).
pub fn store_failed(place: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| match failed(place)(e) {
        Failed::Store(e) => e,
        Failed::Retry => StoreError::Unavailable(format!("PostgreSQL: {place}: lost a race; retry")),
    }
}

/// The pool of connections to `url`. TLS to the database is not offered: `sslmode=require`
/// is refused here, before connecting (`disable` and `prefer`, the default, connect in plain).
///
/// # Errors
/// `url` is not a PostgreSQL URL, or asks for TLS.
pub fn pool(url: &str) -> Result<Pool, String> {
    let mut config: Config = url.parse().map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
    match config.get_ssl_mode() {
        SslMode::Disable | SslMode::Prefer => {}
        _ => {
            return Err(
                "sslmode=require: this emulator does not speak TLS to PostgreSQL; use sslmode=disable (or prefer) on a trusted network, or a TLS tunnel".into(),
            );
        }
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("import-export-emulator");
    }
    let ms = TIMEOUT.as_millis();
    let ours = format!(
        "-c statement_timeout={ms} -c lock_timeout={ms} -c idle_in_transaction_session_timeout={}",
        12 * ms
    );
    let options = match config.get_options() {
        Some(given) => format!("{given} {ours}"),
        None => ours,
    };
    config.options(&options);
    let manager =
        Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(TIMEOUT))
        .create_timeout(Some(TIMEOUT))
        .recycle_timeout(Some(TIMEOUT))
        .build()
        .map_err(|e| format!("connection pool: {e}"))
}

/// A connection from the pool; a pool that cannot give one (the server is down, every
/// connection busy for [`TIMEOUT`]) is `Unavailable`.
///
/// # Errors
/// No connection could be had.
pub async fn connection(pool: &Pool) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|e| {
        StoreError::Unavailable(format!("PostgreSQL: no connection ({e}); retry when the database is back"))
    })
}

/// Creates the tables in the connection's schema if it holds none, or checks that it holds
/// this layout, of this version. One emulator at a time does so ([`SCHEMA_LOCK`]). A schema
/// that holds other tables, or this layout of another version, is refused unchanged.
///
/// # Errors
/// The database refused, or holds another layout.
pub async fn prepare(pool: &Pool) -> Result<(), StoreError> {
    let mut client = connection(pool).await?;
    let txn = client.transaction().await.map_err(store_failed("starting a transaction"))?;
    txn.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await
        .map_err(store_failed("locking the schema"))?;
    let schema: Option<String> = txn
        .query_one("SELECT current_schema()::text", &[])
        .await
        .map_err(store_failed("reading the schema"))?
        .get(0);
    let Some(schema) = schema else {
        return Err(StoreError::Damaged(
            "no schema to create tables in: the search_path names none that exists".into(),
        ));
    };
    let tables: Vec<String> = txn
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
            &[&schema],
        )
        .await
        .map_err(store_failed("listing the tables"))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let foreign: Vec<&String> = tables.iter().filter(|t| !OURS.contains(&t.as_str())).collect();
    if !foreign.is_empty() || (!tables.is_empty() && !tables.iter().any(|t| t == "emulator")) {
        let shown = if foreign.is_empty() {
            "no emulator table".to_string()
        } else {
            foreign.iter().map(|t| format!("{t:?}")).collect::<Vec<_>>().join(", ")
        };
        return Err(StoreError::Damaged(format!(
            "schema {schema:?} holds another application's tables ({shown}); the emulator uses only an empty schema or one of its own, and has changed nothing"
        )));
    }
    txn.batch_execute(
        r#"CREATE TABLE IF NOT EXISTS emulator (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
           CREATE TABLE IF NOT EXISTS jobs (
               subscription TEXT COLLATE "C" NOT NULL,
               resource_group TEXT COLLATE "C" NOT NULL,
               name TEXT COLLATE "C" NOT NULL,
               version BIGINT NOT NULL,
               record TEXT NOT NULL,
               deadline BIGINT,
               PRIMARY KEY (subscription, resource_group, name)
           );
           CREATE INDEX IF NOT EXISTS jobs_deadline ON jobs (deadline) WHERE deadline IS NOT NULL;
           CREATE TABLE IF NOT EXISTS bitlocker_keys (
               subscription TEXT COLLATE "C" NOT NULL,
               resource_group TEXT COLLATE "C" NOT NULL,
               name TEXT COLLATE "C" NOT NULL,
               keys TEXT NOT NULL,
               PRIMARY KEY (subscription, resource_group, name)
           );"#,
    )
    .await
    .map_err(store_failed("creating the tables"))?;
    match get_setting(&txn, "schema").await? {
        None => set_setting(&txn, "schema", SCHEMA_VERSION).await?,
        Some(v) if v == SCHEMA_VERSION => {}
        Some(v) => {
            return Err(StoreError::Damaged(format!(
                "emulator.schema: version {v:?}, this emulator reads version {SCHEMA_VERSION} (PostgreSQL layout); use another database or schema"
            )));
        }
    }
    txn.commit().await.map_err(store_failed("committing the schema"))?;
    Ok(())
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

/// Takes the clock's advisory lock for the rest of the transaction: shared to read the time,
/// exclusive to move it.
///
/// # Errors
/// The database refused.
pub async fn lock_clock(txn: &Transaction<'_>, exclusive: bool) -> Result<(), Failed> {
    let sql = if exclusive {
        "SELECT pg_advisory_xact_lock($1)"
    } else {
        "SELECT pg_advisory_xact_lock_shared($1)"
    };
    let statement = txn.prepare_cached(sql).await.map_err(failed("locking the clock"))?;
    txn.execute(&statement, &[&CLOCK_LOCK]).await.map_err(failed("locking the clock"))?;
    Ok(())
}

/// A setting of the emulator's own (`schema`, `virtualNow`).
///
/// # Errors
/// The database refused, or the value is too large.
pub async fn get_setting(txn: &Transaction<'_>, key: &str) -> Result<Option<String>, StoreError> {
    let statement = txn
        .prepare_cached("SELECT value FROM emulator WHERE key = $1")
        .await
        .map_err(store_failed("reading a setting"))?;
    let row = txn.query_opt(&statement, &[&key]).await.map_err(store_failed("reading a setting"))?;
    row.map(|r| checked(r.get(0), || format!("emulator.{key}"))).transpose()
}

/// Sets a setting of the emulator's own.
///
/// # Errors
/// The database refused.
pub async fn set_setting(txn: &Transaction<'_>, key: &str, value: &str) -> Result<(), StoreError> {
    txn.execute(
        "INSERT INTO emulator (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&key, &value],
    )
    .await
    .map_err(store_failed("writing a setting"))?;
    Ok(())
}

/// A job's record (JSON), locked for this transaction if `lock` (a write decides on it).
///
/// # Errors
/// The database refused, or the record is too large.
pub async fn get_record(txn: &Transaction<'_>, key: &JobKey, lock: bool) -> Result<Option<String>, Failed> {
    let sql = if lock {
        "SELECT record FROM jobs WHERE subscription = $1 AND resource_group = $2 AND name = $3 FOR UPDATE"
    } else {
        "SELECT record FROM jobs WHERE subscription = $1 AND resource_group = $2 AND name = $3"
    };
    let statement = txn.prepare_cached(sql).await.map_err(failed("reading a job"))?;
    let row = txn
        .query_opt(&statement, &[&key.subscription, &key.resource_group, &key.name])
        .await
        .map_err(failed("reading a job"))?;
    Ok(row.map(|r| checked(r.get(0), || format!("jobs row {key}: record"))).transpose()?)
}

/// A job's BitLocker keys (JSON), if there are any.
///
/// # Errors
/// The database refused, or the keys are too large.
pub async fn get_keys(txn: &Transaction<'_>, key: &JobKey) -> Result<Option<String>, Failed> {
    let statement = txn
        .prepare_cached(
            "SELECT keys FROM bitlocker_keys WHERE subscription = $1 AND resource_group = $2 AND name = $3",
        )
        .await
        .map_err(failed("reading keys"))?;
    let row = txn
        .query_opt(&statement, &[&key.subscription, &key.resource_group, &key.name])
        .await
        .map_err(failed("reading keys"))?;
    Ok(row.map(|r| checked(r.get(0), || format!("bitlocker_keys row {key}: keys"))).transpose()?)
}

/// Writes a job's record and deadline: a new row if `new` (and [`Failed::Retry`] if another
/// transaction created the name meanwhile: the one winner of racing creates), else the row
/// this transaction holds locked.
///
/// # Errors
/// The database refused, or the name was taken meanwhile.
pub async fn put_record(
    txn: &Transaction<'_>,
    key: &JobKey,
    new: bool,
    record: &str,
    deadline: Option<i64>,
) -> Result<(), Failed> {
    let sql = if new {
        "INSERT INTO jobs (subscription, resource_group, name, version, record, deadline)
         VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT DO NOTHING"
    } else {
        "UPDATE jobs SET version = version + 1, record = $4, deadline = $5
         WHERE subscription = $1 AND resource_group = $2 AND name = $3"
    };
    let statement = txn.prepare_cached(sql).await.map_err(failed("writing a job"))?;
    let rows = txn
        .execute(&statement, &[&key.subscription, &key.resource_group, &key.name, &record, &deadline])
        .await
        .map_err(failed("writing a job"))?;
    if rows == 1 { Ok(()) } else { Err(Failed::Retry) }
}

/// Writes a job's BitLocker keys, replacing what was there.
///
/// # Errors
/// The database refused.
pub async fn put_keys(txn: &Transaction<'_>, key: &JobKey, keys: &str) -> Result<(), Failed> {
    let statement = txn
        .prepare_cached(
            "INSERT INTO bitlocker_keys (subscription, resource_group, name, keys) VALUES ($1, $2, $3, $4)
             ON CONFLICT (subscription, resource_group, name) DO UPDATE SET keys = excluded.keys",
        )
        .await
        .map_err(failed("writing keys"))?;
    txn.execute(&statement, &[&key.subscription, &key.resource_group, &key.name, &keys])
        .await
        .map_err(failed("writing keys"))?;
    Ok(())
}

/// Removes a job's row of `table` (`jobs` or `bitlocker_keys`).
///
/// # Errors
/// The database refused.
pub async fn remove(txn: &Transaction<'_>, table: Table, key: &JobKey) -> Result<(), Failed> {
    let sql = match table {
        Table::Jobs => "DELETE FROM jobs WHERE subscription = $1 AND resource_group = $2 AND name = $3",
        Table::Keys => {
            "DELETE FROM bitlocker_keys WHERE subscription = $1 AND resource_group = $2 AND name = $3"
        }
    };
    let statement = txn.prepare_cached(sql).await.map_err(failed("removing a row"))?;
    txn.execute(&statement, &[&key.subscription, &key.resource_group, &key.name])
        .await
        .map_err(failed("removing a row"))?;
    Ok(())
}

/// A table a row is removed from.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    /// `jobs`: the record.
    Jobs,
    /// `bitlocker_keys`: the keys.
    Keys,
}

/// At most `limit` jobs due at `now_ms` (deadline at or before), earliest first, each with its
/// record, locked for this transaction. With `skip_locked`, a row another transaction holds
/// is passed over (it decides on the row itself, and catches its timers up); without, the
/// statement waits for it.
///
/// # Errors
/// The database refused.
pub async fn due(
    txn: &Transaction<'_>,
    now_ms: i64,
    limit: usize,
    skip_locked: bool,
) -> Result<Vec<ListedRow>, Failed> {
    let sql = if skip_locked {
        "SELECT subscription, resource_group, name, record FROM jobs WHERE deadline <= $1
         ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED"
    } else {
        "SELECT subscription, resource_group, name, record FROM jobs WHERE deadline <= $1
         ORDER BY deadline LIMIT $2 FOR UPDATE"
    };
    let statement = txn.prepare_cached(sql).await.map_err(failed("reading due timers"))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = txn.query(&statement, &[&now_ms, &limit]).await.map_err(failed("reading due timers"))?;
    Ok(rows.iter().map(listed).collect())
}

fn listed(row: &tokio_postgres::Row) -> (JobKey, Result<String, StoreError>) {
    let key = JobKey { subscription: row.get(0), resource_group: row.get(1), name: row.get(2) };
    let record = checked(row.get(3), || format!("jobs row {key}: record"));
    (key, record)
}

/// The earliest deadlines (milliseconds), at most `limit`, each with its job.
///
/// # Errors
/// The database refused.
pub async fn next_deadlines(txn: &Transaction<'_>, limit: usize) -> Result<Vec<(JobKey, i64)>, Failed> {
    let statement = txn
        .prepare_cached(
            "SELECT subscription, resource_group, name, deadline FROM jobs WHERE deadline IS NOT NULL
             ORDER BY deadline LIMIT $1",
        )
        .await
        .map_err(failed("reading the next deadline"))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = txn.query(&statement, &[&limit]).await.map_err(failed("reading the next deadline"))?;
    Ok(rows
        .iter()
        .map(|r| (JobKey { subscription: r.get(0), resource_group: r.get(1), name: r.get(2) }, r.get(3)))
        .collect())
}

/// How many jobs are due at `now_ms`.
///
/// # Errors
/// The database refused.
pub async fn count_due(txn: &Transaction<'_>, now_ms: i64) -> Result<usize, Failed> {
    let statement = txn
        .prepare_cached("SELECT COUNT(*) FROM jobs WHERE deadline <= $1")
        .await
        .map_err(failed("counting due timers"))?;
    let count: i64 =
        txn.query_one(&statement, &[&now_ms]).await.map_err(failed("counting due timers"))?.get(0);
    Ok(usize::try_from(count).unwrap_or(0))
}

/// One list page's rows, as [`crate::store::list`] gives them: a subscription's jobs (of one
/// resource group if given), by resource group then name, after `after`, at most `limit`.
///
/// # Errors
/// The database refused.
pub async fn list(
    txn: &Transaction<'_>,
    subscription: &str,
    resource_group: Option<&str>,
    after: Option<(&str, &str)>,
    limit: usize,
) -> Result<Vec<ListedRow>, Failed> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let (after_rg, after_name) = after.unwrap_or(("", ""));
    // An empty position sorts before every name, so one statement per grouping serves both the
    // first page and the next ones, each one range of the primary key.
    let (sql, group) = match resource_group {
        None => (
            "SELECT subscription, resource_group, name, record FROM jobs
             WHERE subscription = $1 AND (resource_group, name) > ($3, $4)
             ORDER BY resource_group, name LIMIT $2",
            after_rg,
        ),
        Some(group) => (
            "SELECT subscription, resource_group, name, record FROM jobs
             WHERE subscription = $1 AND resource_group = $3 AND name > $4 ORDER BY name LIMIT $2",
            group,
        ),
    };
    let statement = txn.prepare_cached(sql).await.map_err(failed("listing jobs"))?;
    let rows = txn
        .query(&statement, &[&subscription, &limit, &group, &after_name])
        .await
        .map_err(failed("listing jobs"))?;
    Ok(rows.iter().map(listed).collect())
}

/// The `scope` (JSON) of a record stored in a scope, as its records spell it, if it holds one
/// that reads (a damaged row is passed over).
///
/// # Errors
/// The database refused.
pub async fn scope_spelling(
    txn: &Transaction<'_>,
    subscription: &str,
    resource_group: &str,
) -> Result<Option<String>, Failed> {
    let statement = txn
        .prepare_cached(
            "SELECT record FROM jobs WHERE subscription = $1 AND resource_group = $2 ORDER BY name LIMIT 8",
        )
        .await
        .map_err(failed("reading a scope's spelling"))?;
    let rows = txn
        .query(&statement, &[&subscription, &resource_group])
        .await
        .map_err(failed("reading a scope's spelling"))?;
    Ok(rows.iter().find_map(|row| {
        let text: String = row.get(0);
        let value: serde_json::Value = serde_json::from_str(&text).ok()?;
        value.get("scope").filter(|s| s.is_object()).map(ToString::to_string)
    }))
}

/// The first `limit` jobs by subscription, resource group and name, and how many there are.
///
/// # Errors
/// The database refused.
pub async fn all(txn: &Transaction<'_>, limit: usize) -> Result<(Vec<ListedRow>, usize), Failed> {
    let total: i64 =
        txn.query_one("SELECT COUNT(*) FROM jobs", &[]).await.map_err(failed("counting jobs"))?.get(0);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = txn
        .query(
            "SELECT subscription, resource_group, name, record FROM jobs
             ORDER BY subscription, resource_group, name LIMIT $1",
            &[&limit],
        )
        .await
        .map_err(failed("listing jobs"))?;
    Ok((rows.iter().map(listed).collect(), usize::try_from(total).unwrap_or(0)))
}
