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
                let stored = store::decode_row(&self.policy, name, row.get(1), row.get(2))?;
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
