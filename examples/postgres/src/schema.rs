//! The tables, created on first use and versioned: a database holding another version of them
//! is refused, not misread.

use postgres::Client;

use crate::error::{HostError, db};
use crate::lifecycle::MAX_RECORD_BYTES;

/// The version of the tables below. A program that changes them bumps it and migrates.
pub const SCHEMA_VERSION: i32 = 1;

/// Creates the tables, or checks the ones that are there.
///
/// One row per job: its name (the key), a `version` every write bumps (the optimistic
/// concurrency check), the job's record as `text` (kept byte for byte: `jsonb` would reorder
/// its keys and silently keep the last of two equal ones), and its next deadline, indexed for
/// the sweep. `schema_version` holds one row.
fn statements() -> String {
    format!(
        "CREATE TABLE schema_version (
             singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
             version integer NOT NULL
         );
         CREATE TABLE jobs (
             name text PRIMARY KEY,
             version bigint NOT NULL CHECK (version > 0),
             record text NOT NULL CHECK (octet_length(record) <= {MAX_RECORD_BYTES}),
             deadline timestamptz
         );
         CREATE INDEX jobs_deadline ON jobs (deadline) WHERE deadline IS NOT NULL;
         INSERT INTO schema_version (version) VALUES ({SCHEMA_VERSION});"
    )
}

/// Checks that `schema` is a plain identifier, safe to write into a statement unquoted.
pub fn check_name(schema: &str) -> Result<(), HostError> {
    let mut chars = schema.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && schema.len() <= 63 {
        Ok(())
    } else {
        Err(HostError::SchemaName(schema.to_string()))
    }
}

/// Makes `schema` the connection's namespace and creates the tables in it if it has none, or
/// checks their version. Several processes starting at once are serialized by an advisory lock,
/// so exactly one creates the tables.
pub fn prepare(client: &mut Client, schema: &str) -> Result<(), HostError> {
    check_name(schema)?;
    let mut tx = client.transaction().map_err(db("beginning the schema check"))?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtext('host-postgres schema'))", &[])
        .map_err(db("taking the schema lock"))?;
    tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}; SET LOCAL search_path TO {schema}"))
        .map_err(db("creating the schema"))?;
    let tables = tx
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL, to_regclass('jobs') IS NOT NULL", &[])
        .map_err(db("looking for the tables"))?;
    match (tables.get::<_, bool>(0), tables.get::<_, bool>(1)) {
        (true, _) => {
            let found: i32 = tx
                .query_one("SELECT version FROM schema_version", &[])
                .map_err(db("reading the schema version"))?
                .get(0);
            if found != SCHEMA_VERSION {
                return Err(HostError::SchemaVersion {
                    schema: schema.to_string(),
                    found,
                    known: SCHEMA_VERSION,
                });
            }
        }
        (false, true) => return Err(HostError::ForeignTables { schema: schema.to_string() }),
        (false, false) => tx.batch_execute(&statements()).map_err(db("creating the tables"))?,
    }
    tx.commit().map_err(db("committing the schema"))?;
    client.batch_execute(&format!("SET search_path TO {schema}")).map_err(db("choosing the schema"))
}
