//! What can go wrong between this host and its database, each error naming the place.

use thiserror::Error;

/// A failure of the host, not a refusal of the rules (those are the crate's `Error`, inside an
/// `Outcome`).
#[derive(Debug, Error)]
pub enum HostError {
    /// `DATABASE_URL` is missing or not a connection string.
    #[error("DATABASE_URL: {0}")]
    Url(String),
    /// The database refused or dropped a statement.
    #[error("PostgreSQL, {during}: {source}")]
    Database {
        /// What the host was doing.
        during: &'static str,
        /// The driver's error.
        source: postgres::Error,
    },
    /// The database holds this host's tables at another schema version.
    #[error(
        "schema {schema}: the database holds version {found} of this host's tables; this program knows version {known} only (migrate it, or use another schema)"
    )]
    SchemaVersion {
        /// The PostgreSQL schema (namespace).
        schema: String,
        /// The version stored.
        found: i32,
        /// The version this program writes.
        known: i32,
    },
    /// The namespace holds a `jobs` table this host did not make.
    #[error(
        "schema {schema}: a table `jobs` exists without this host's `schema_version`: not this host's tables"
    )]
    ForeignTables {
        /// The PostgreSQL schema (namespace).
        schema: String,
    },
    /// A schema name that is not a plain lower-case identifier.
    #[error(
        "schema name {0:?}: use 1 to 63 lower-case ASCII letters, digits or `_`, not starting with a digit"
    )]
    SchemaName(String),
    /// A stored row that is not a job this program can read.
    #[error("row {job:?} of table jobs: {problem}")]
    Record {
        /// The row's key.
        job: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A command lost the conditional write this many times in a row.
    #[error("job {job:?}: gave up after losing {attempts} writes in a row to other writers")]
    Contended {
        /// The job.
        job: String,
        /// How many times it lost.
        attempts: u32,
    },
}

/// Wraps a driver error with what the host was doing.
pub(crate) fn db(during: &'static str) -> impl FnOnce(postgres::Error) -> HostError {
    move |source| HostError::Database { during, source }
}
