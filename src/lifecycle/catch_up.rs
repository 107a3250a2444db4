//! Catching a job up with its clock: what its own timers did by a given instant, each applied
//! at its own deadline. Every caller that needs a job "as of now" (deciding a command, reading
//! a job, the deadline sweep, the registry, the ARM layer's requests and lists) goes through
//! [`Job::catch_up`]; nothing else fires a timer.

use std::borrow::Cow;

use jiff::Timestamp;

use crate::lifecycle::decide;
use crate::lifecycle::evolve::evolve;
use crate::model::event::Event;
use crate::model::job::Job;
use crate::model::policy::Policy;

/// A job as its timers due by some instant leave it, and what they did.
///
/// `job` borrows the job it started from while no timer was due (the common case: no copy, no
/// allocation); it is `None` once a timer removed the job (R-GONE-1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the caught-up job replaces the one it came from"]
pub struct CaughtUp<'j> {
    /// The job after its due timers, or `None` if one removed it.
    pub job: Option<Cow<'j, Job>>,
    /// The events of the timers that fired, earliest first (R-TIMER-4).
    pub events: Vec<Event>,
}

impl CaughtUp<'_> {
    /// No timer was due: the job is the one it started from.
    pub fn is_unchanged(&self) -> bool {
        self.events.is_empty()
    }
}

impl Job {
    /// The job as its timers due by `until` (deadline `<= until`) leave it, each fired at its
    /// own deadline, earliest first (R-TIMER-4); a timer that fires may start another (a
    /// cancelled job whose package never came completes and starts its retention), which fires
    /// too if it is due by `until`.
    ///
    /// The deadline sweep passes its `now`; a host about to show a job or decide a command on it
    /// at `now` passes the instant the command acts at, `max(now, updatedAt)` (R-CLOCK-1; see
    /// [`Job::acting_instant`]).
    pub fn catch_up(&self, policy: &Policy, until: Timestamp) -> CaughtUp<'_> {
        let Some(first) = self.due_timer(policy, until) else {
            return CaughtUp { job: Some(Cow::Borrowed(self)), events: Vec::new() };
        };
        let mut job = Some(self.clone());
        let mut events = Vec::new();
        let mut next = Some(first);
        while let Some(event) = next {
            evolve(&mut job, &event);
            events.push(event);
            next = job.as_ref().and_then(|j| j.due_timer(policy, until));
        }
        CaughtUp { job: job.map(Cow::Owned), events }
    }

    /// When the service will remove the job if nothing else happens first: the end of its
    /// retention in `Completed` or `Closed`, or of the two weeks a job may sit in `Creating`.
    /// `None` while the job is under way, or when that instant is beyond the time type.
    pub fn removal_at(&self, policy: &Policy) -> Option<jiff::Timestamp> {
        self.next_deadline(policy).filter(|d| decide::fire(self, d).removes_job()).map(|d| d.at)
    }

    /// The instant a command sent at `now` acts on this job: `now`, or the job's last recorded
    /// instant if `now` is earlier, since a job's history never goes backwards (R-CLOCK-1).
    pub fn acting_instant(&self, now: Timestamp) -> Timestamp {
        crate::lifecycle::rules::instant(self, now)
    }

    /// The event of this job's pending timer, if its deadline is `<= until`: one step of
    /// [`Job::catch_up`], for hosts (the registry's sweep) that interleave the timers of many
    /// jobs in time order.
    pub(crate) fn due_timer(&self, policy: &Policy, until: Timestamp) -> Option<Event> {
        let deadline = self.next_deadline(policy).filter(|d| d.at <= until)?;
        Some(decide::fire(self, &deadline))
    }
}

/// [`Job::catch_up`] on a job that may not exist: nothing is due on no job.
pub(crate) fn catch_up<'j>(
    job: Option<&'j Job>,
    policy: &Policy,
    until: impl Fn(&Job) -> Timestamp,
) -> CaughtUp<'j> {
    match job {
        Some(job) => job.catch_up(policy, until(job)),
        None => CaughtUp { job: None, events: Vec::new() },
    }
}
