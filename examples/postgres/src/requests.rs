//! A request on one job: read its row, decide, write conditionally; on a lost race, read again
//! and decide again on what is really stored.

use crate::error::HostError;
use crate::lifecycle::{self, Command, Event, Job, Outcome, Timestamp};
use crate::store::{Store, Written};

/// How many lost races in a row a request tolerates before it gives up. Each loss means
/// another writer's write took effect, so the job moves on; a request that loses this often is
/// on a job written far faster than it can be decided.
pub const MAX_ATTEMPTS: u32 = 100;

impl Store {
    /// Handles `command` at `now`: the job's due timers first, then the command, stored with one
    /// conditional write (nothing is written for a refused command with no timer due).
    ///
    /// # Errors
    ///
    /// A database error, an unreadable row, or [`MAX_ATTEMPTS`] lost races.
    pub fn execute(&mut self, now: Timestamp, command: &Command) -> Result<Outcome<Event>, HostError> {
        Ok(self.execute_counted(now, command)?.0)
    }

    /// [`execute`](Store::execute), also telling how many races it lost on the way.
    ///
    /// # Errors
    ///
    /// As [`execute`](Store::execute).
    pub fn execute_counted(
        &mut self,
        now: Timestamp,
        command: &Command,
    ) -> Result<(Outcome<Event>, u32), HostError> {
        let name = lifecycle::key(command);
        for lost in 0..MAX_ATTEMPTS {
            let stored = self.read(name)?;
            let version = stored.as_ref().map_or(0, |s| s.version);
            let (outcome, write) = lifecycle::decide(stored.map(|s| s.job), &self.policy, now, command);
            match self.write(name, version, &write)? {
                Written::Won => return Ok((outcome, lost)),
                Written::Lost => continue,
            }
        }
        Err(HostError::Contended { job: name.to_string(), attempts: MAX_ATTEMPTS })
    }

    /// The job named `name` as a reader sees it at `now` (*Get Job*): its due timers applied,
    /// `None` if there is none or they removed it. Writes nothing.
    ///
    /// # Errors
    ///
    /// A database error, or an unreadable row.
    pub fn get(&mut self, now: Timestamp, name: &str) -> Result<Option<Job>, HostError> {
        let stored = self.read(name)?;
        Ok(lifecycle::show(stored.map(|s| s.job), &self.policy, now))
    }
}
