//! The `jobs` table: a connection to it, and the statements that read and write one row.

use std::time::Duration;

use postgres::{Client, Config, GenericClient, NoTls};

use crate::error::{HostError, db};
use crate::lifecycle::{self, Job, Policy, Row, Write};
use crate::schema;

/// How long the host waits to connect, for a statement, or for a row lock, before it gives up
/// with an error: no call of this host waits for ever.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One connection to the database, in one schema, deciding under one policy. Not shared between
/// threads: each worker opens its own.
pub struct Store {
    pub(crate) client: Client,
    pub(crate) policy: Policy,
}

/// A stored job and the version of its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The row's version: a conditional write succeeds only while it is unchanged.
    pub version: i64,
    /// The job, read and checked.
    pub job: Job,
}

/// Whether a conditional write took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The row was written (or there was nothing to write).
    Won,
    /// Another writer changed the row (or took the name) since it was read: decide again.
    Lost,
}

impl Store {
    /// Connects to `url` (a libpq connection string or `postgresql://` URL), makes `schema` the
    /// connection's namespace, and creates the tables there or checks their version.
    ///
    /// # Errors
    ///
    /// A malformed URL, a failed connection, or a schema of another version (or not this host's).
    pub fn connect(url: &str, schema: &str, policy: Policy) -> Result<Store, HostError> {
        let mut config: Config = url.parse().map_err(|e: postgres::Error| HostError::Url(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("host-postgres");
        }
        let mut client = config.connect(NoTls).map_err(db("connecting"))?;
        let ms = TIMEOUT.as_millis();
        client
            .batch_execute(&format!(
                "SET statement_timeout = {ms}; SET lock_timeout = {ms}; SET idle_in_transaction_session_timeout = {}",
                6 * ms
            ))
            .map_err(db("setting the session's timeouts"))?;
        schema::prepare(&mut client, schema)?;
        Ok(Store { client, policy })
    }

    /// The policy this store decides under.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Reads the row named `name`, if there is one.
    ///
    /// # Errors
    ///
    /// A database error, or a row that is not a job this program can read (naming the row).
    pub fn read(&mut self, name: &str) -> Result<Option<Stored>, HostError> {
        read_row(&mut self.client, name, "SELECT version, record FROM jobs WHERE name = $1")
    }

    /// Writes what a decision on the row read at `version` says (`version` is ignored for an
    /// insert): the insert loses if the name is taken, an update or a delete loses if the row's
    /// version changed.
    ///
    /// # Errors
    ///
    /// A database error.
    pub fn write(&mut self, name: &str, version: i64, write: &Write) -> Result<Written, HostError> {
        write_row(&mut self.client, name, version, write)
    }
}

/// Reads one row with `select` (`version`, `record` by `name = $1`), checks it, and decodes it.
pub(crate) fn read_row(
    client: &mut impl GenericClient,
    name: &str,
    select: &str,
) -> Result<Option<Stored>, HostError> {
    let Some(row) = client.query_opt(select, &[&name]).map_err(db("reading a job"))? else {
        return Ok(None);
    };
    decode_row(name, row.get(0), row.get(1)).map(Some)
}

/// Checks one row read from the table: its version, and its record against its key.
pub(crate) fn decode_row(name: &str, version: i64, record: &str) -> Result<Stored, HostError> {
    let problem = |problem: String| HostError::Record { job: name.to_string(), problem };
    if version < 1 {
        return Err(problem(format!("version {version} is not a version this host writes")));
    }
    let job = lifecycle::decode(record, name).map_err(problem)?;
    Ok(Stored { version, job })
}

/// The three statements that change the table, each conditional.
pub(crate) fn write_row(
    client: &mut impl GenericClient,
    name: &str,
    version: i64,
    write: &Write,
) -> Result<Written, HostError> {
    let rows = match write {
        Write::Nothing => return Ok(Written::Won),
        Write::Insert(Row { record, deadline }) => client
            .execute(
                "INSERT INTO jobs (name, version, record, deadline) VALUES ($1, 1, $2, $3)
                 ON CONFLICT (name) DO NOTHING",
                &[&name, record, deadline],
            )
            .map_err(db("inserting a job"))?,
        Write::Update(Row { record, deadline }) => client
            .execute(
                "UPDATE jobs SET version = version + 1, record = $3, deadline = $4
                 WHERE name = $1 AND version = $2",
                &[&name, &version, record, deadline],
            )
            .map_err(db("updating a job"))?,
        Write::Delete => client
            .execute("DELETE FROM jobs WHERE name = $1 AND version = $2", &[&name, &version])
            .map_err(db("deleting a job"))?,
    };
    Ok(if rows == 1 { Written::Won } else { Written::Lost })
}

impl Store {
    /// One row as the database holds it, for people: `version 3, deadline 2026-…, Completed`,
    /// or `no row`.
    ///
    /// # Errors
    ///
    /// A database error, or an unreadable row.
    pub fn describe(&mut self, name: &str) -> Result<String, HostError> {
        let row = self
            .client
            .query_opt("SELECT version, deadline::text, record FROM jobs WHERE name = $1", &[&name])
            .map_err(db("reading a job"))?;
        let Some(row) = row else { return Ok("no row".to_string()) };
        let stored = decode_row(name, row.get(0), row.get(2))?;
        let deadline: Option<String> = row.get(1);
        Ok(format!(
            "row version {}, deadline {}, state {}",
            stored.version,
            deadline.as_deref().unwrap_or("none"),
            lifecycle::state_of(&stored.job)
        ))
    }
}
