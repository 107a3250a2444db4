//! The deadline sweep: claims due rows with `FOR UPDATE SKIP LOCKED`, so any number of sweepers
//! (and the request path's conditional writes) share the work without firing a timer twice.

use crate::error::{HostError, db};
use crate::lifecycle::{self, Event, Timestamp, Write};
use crate::store::{self, Store, Written};

/// The sweep's statement: the due rows earliest first, each locked for this transaction, rows
/// another sweeper holds skipped.
const CLAIM: &str = "SELECT name, version, record FROM jobs
                     WHERE deadline <= $1
                     ORDER BY deadline
                     LIMIT $2
                     FOR UPDATE SKIP LOCKED";

impl Store {
    /// Fires every timer due by `now`, `batch` rows per transaction, until no row is due that
    /// another sweeper does not hold. Returns the events fired and committed by this sweeper.
    ///
    /// Each claimed job is fired at `now`, not at the deadline its row is indexed by: the index
    /// keeps microseconds, the timers nanoseconds (see [`lifecycle`]).
    ///
    /// # Errors
    ///
    /// A database error, or a claimed row this program cannot read (its batch is rolled back;
    /// the row stays due and the next sweep meets it again: it needs an operator). The timers
    /// of the batches committed before the error stay fired in the table but are not returned.
    pub fn sweep(&mut self, now: Timestamp, batch: i64) -> Result<Vec<Event>, HostError> {
        let bound = lifecycle::sweep_bound(now);
        let mut fired = Vec::new();
        loop {
            let mut tx = self.client.transaction().map_err(db("beginning a sweep"))?;
            let claimed = tx.query(CLAIM, &[&bound, &batch]).map_err(db("claiming due jobs"))?;
            if claimed.is_empty() {
                tx.commit().map_err(db("ending a sweep"))?;
                return Ok(fired);
            }
            let mut committed = Vec::new();
            for row in &claimed {
                let name: &str = row.get(0);
                let stored = store::decode_row(name, row.get(1), row.get(2))?;
                let (events, write) = lifecycle::fire_due(stored.job, &self.policy, now);
                debug_assert!(!matches!(write, Write::Nothing | Write::Insert(_)));
                // The row is locked: its version cannot have changed since it was claimed.
                match store::write_row(&mut tx, name, stored.version, &write)? {
                    Written::Won => committed.extend(events),
                    Written::Lost => {
                        return Err(HostError::Record {
                            job: name.to_string(),
                            problem: "the row changed while this sweep held its lock".to_string(),
                        });
                    }
                }
            }
            tx.commit().map_err(db("committing a sweep"))?;
            fired.extend(committed);
        }
    }
}

impl Store {
    /// After a change of the policy this store decides under: puts every row's deadline key
    /// back in step with its record under the current policy, `batch` rows per statement, and
    /// returns how many keys moved. Until it has run, a row whose deadline came earlier is swept
    /// late (a command or a read on it still fires its timer on time), and one whose deadline
    /// went later is claimed early, fires nothing, and is re-indexed by the sweep. A record
    /// never becomes unreadable by a policy change (R-POLICY-1).
    ///
    /// # Errors
    ///
    /// A database error, or a row this program cannot read.
    pub fn reindex(&mut self, batch: i64) -> Result<u64, HostError> {
        let mut moved = 0;
        let mut after = String::new();
        loop {
            let rows = self
                .client
                .query(
                    "SELECT name, version, record, deadline FROM jobs WHERE name > $1 ORDER BY name LIMIT $2",
                    &[&after, &batch],
                )
                .map_err(db("reading jobs to re-index"))?;
            let Some(last) = rows.last() else { return Ok(moved) };
            after = last.get::<_, String>(0);
            for row in &rows {
                let name: &str = row.get(0);
                let stored = store::decode_row(name, row.get(1), row.get(2))?;
                let key = lifecycle::index_key(&stored.job, &self.policy);
                let old: Option<std::time::SystemTime> = row.get(3);
                if key != old {
                    // Only the index moves: the record and its version stay as they are.
                    moved += self
                        .client
                        .execute(
                            "UPDATE jobs SET deadline = $3 WHERE name = $1 AND version = $2",
                            &[&name, &stored.version, &key],
                        )
                        .map_err(db("re-indexing a job"))?;
                }
            }
        }
    }
}
