//! What a host stores after one input on one job: the write follows from the decision, so no
//! host works it out from the command or from whether it read a row.

use jiff::Timestamp;

/// What a host that keeps one record per job must store after one of the per-job functions of
/// [`decider`](crate::decider): derived from whether a job existed before, whether anything
/// happened (an accepted command, a timer fired) and whether a job holds the name after.
///
/// The record to store for [`Write::Insert`] and [`Write::Update`] is the job the function left
/// in its `&mut Option<Job>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use = "the host must store what the decision changed"]
pub enum Write {
    /// Nothing changed (a refused command with no timer due, nothing due): write nothing.
    Nothing,
    /// No job existed and one now does (a create): insert its record, losing if the name was
    /// taken since it was read (then read again and decide again).
    Insert,
    /// A job existed and a job still holds the name: replace the record read (perhaps by a new
    /// job, when the old one's timers removed it before a create), if it is still the one read.
    Update,
    /// A job existed and no job holds the name any more (deleted, expired): delete the record
    /// read, if it is still the one read.
    Delete,
}

impl Write {
    /// The write after an input on a job that `existed` (or not), that `changed` something, and
    /// after which a job `exists` (or not).
    pub(crate) fn between(existed: bool, changed: bool, exists: bool) -> Write {
        match (changed, existed, exists) {
            (false, _, _) | (true, false, false) => Write::Nothing,
            (true, false, true) => Write::Insert,
            (true, true, true) => Write::Update,
            (true, true, false) => Write::Delete,
        }
    }
}

/// The time resolution of the store that indexes deadlines (a `timestamptz` column keeps
/// microseconds, many document stores milliseconds). The crate's instants are nanoseconds:
/// a deadline indexed at a coarser resolution is rounded **up** ([`Resolution::index_key`]), so
/// a record is never due in the index before its timer, and the sweep claims the records due by
/// `now` rounded **down** ([`Resolution::sweep_bound`]) and passes its own `now` to
/// [`decider::handle_timeout`](crate::decider::handle_timeout), never the key it read back.
/// Every timer then fires exactly once, at its own nanosecond deadline, at most one unit of the
/// resolution after it is due (R-TIMER-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// Nanoseconds: the crate's own resolution; keys are the deadlines themselves.
    Nanosecond,
    /// Microseconds (PostgreSQL's `timestamptz`, `timestamp`).
    Microsecond,
    /// Milliseconds (JavaScript's `Date`, many document stores).
    Millisecond,
}

impl Resolution {
    /// Nanoseconds in one unit of this resolution.
    fn unit(self) -> i128 {
        match self {
            Resolution::Nanosecond => 1,
            Resolution::Microsecond => 1_000,
            Resolution::Millisecond => 1_000_000,
        }
    }

    /// The index key of a deadline at `at`: `at` rounded up to a whole unit, so a record is
    /// never due in the index before its timer. `None` when rounding up leaves the time type (at
    /// its very end; a command on the job still fires that timer).
    pub fn index_key(self, at: Timestamp) -> Option<Timestamp> {
        let unit = self.unit();
        let ns = at.as_nanosecond();
        let up = ns.div_euclid(unit) * unit + if ns.rem_euclid(unit) == 0 { 0 } else { unit };
        Timestamp::from_nanosecond(up).ok()
    }

    /// The bound a sweep at `now` claims due records with (`key <= bound`): `now` rounded down
    /// to a whole unit, so every claimed record's timer is due by `now`.
    pub fn sweep_bound(self, now: Timestamp) -> Timestamp {
        let unit = self.unit();
        let down = now.as_nanosecond().div_euclid(unit) * unit;
        // Rounding down stays at or after the time type's start, whose nanosecond is whole.
        Timestamp::from_nanosecond(down).unwrap_or(Timestamp::MIN)
    }
}
