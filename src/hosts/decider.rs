//! One job, decided on its own: the functions a host calls with the record it stores.
//!
//! A real service keeps one record per job (a row, a document, a key) and never holds a whole
//! region in memory. For such a host the job is the unit it owns, as a connection is in
//! `quinn-proto`: it loads the job a request names (or finds none), asks this module what
//! happens, writes the result back, and indexes the job by [`Job::next_deadline`] to know when
//! to come back. [`Registry`](crate::Registry) is one such host, in memory; it goes through
//! these same functions, so no rule is decided twice.
//!
//! The state of one job is an `Option<Job>`: `None` before it is created and once it is
//! removed (deleted, expired in `Creating`, or at the end of its retention). The functions are
//! the decider pattern's, with timers as data:
//!
//! - [`decide`]: what a command at `now` does, without changing anything: the job's own timers
//!   due by then (their events, earliest first), then the command's event or its refusal. There
//!   is no way to get a command's event without the timers that come before it.
//! - [`apply`]: folds one recorded event in, after checking it is exactly what the rules decide
//!   at its instant (R-EVENT-1); an event that does not follow is refused and changes nothing.
//!   For hosts that store events and rebuild jobs from them.
//! - [`execute`]: [`decide`] and fold in what was decided, in one step, for hosts that store
//!   the job itself; it says what to store as a [`Write`].
//! - [`handle_timeout`]: fires the job's timers due at `now`, for the host's deadline sweep and
//!   before the host shows the job; it says what to store as a [`Write`].
//!
//! Each kind of host has one path, and keeps to it:
//!
//! | the host stores | it reads with | a command | the deadline sweep | it indexes by |
//! |---|---|---|---|---|
//! | the job, one record each | [`Job::read`] | [`execute`], then stores its [`Write`] | [`handle_timeout`] at `now`, then stores its [`Write`] | [`Job::next_deadline`], rounded by [`Resolution::index_key`] |
//! | the events, one log each | [`apply`] of each event, in order | [`decide`], then appends its timers' events and its event | [`handle_timeout`] on the rebuilt job, then appends its events | [`Job::next_deadline`] |
//! | nothing: all jobs in memory | — | [`Registry::execute`](crate::Registry::execute) | [`Registry::handle_timeout`](crate::Registry::handle_timeout) | (its own index) |
//!
//! A job some function has just caught up is the job to show: no host computes a timer's
//! deadline or fires one itself.
//!
//! Every function is pure: the same job, policy, input and `now` give the same answer.
//!
//! ```
//! use import_export_lifecycle::{decider, Command, DriveId, JobName, JobState, JobType, Policy, Timestamp};
//!
//! let t = |s: &str| s.parse::<Timestamp>().unwrap();
//! let policy = Policy::default();
//! let name = JobName::new("job-1").unwrap();
//!
//! // The host's record for "job-1": nothing yet.
//! let mut record = None;
//! let create = Command::Create { job: name.clone(), job_type: JobType::Import, drives: vec![DriveId::new("D1").unwrap()] };
//! let created = decider::execute(&mut record, &policy, t("2026-01-05T09:00:00Z"), &create);
//! created.outcome.result.unwrap();
//! assert_eq!(created.write, decider::Write::Insert);
//!
//! // The host indexes the record by its deadline: 14 days in Creating (R-TIMER-1).
//! let deadline = record.as_ref().and_then(|job| job.next_deadline(&policy)).unwrap();
//! assert_eq!(deadline.at, t("2026-01-19T09:00:00Z"));
//!
//! // A command that comes after the deadline sees the timer fire first, and the job gone.
//! let ship = Command::Ship { job: name.clone(), carrier: None, tracking_number: None };
//! let executed = decider::execute(&mut record, &policy, t("2026-01-20T09:00:00Z"), &ship);
//! assert_eq!(executed.outcome.timers.len(), 1);
//! assert_eq!(executed.outcome.result.unwrap_err().code(), "JobNotFound");
//! assert!(record.is_none());
//! assert_eq!(executed.write, decider::Write::Delete); // the timer removed the job
//! ```

use std::borrow::Cow;

use jiff::Timestamp;

use crate::lifecycle::catch_up::catch_up;
use crate::lifecycle::decide;
use crate::lifecycle::evolve::evolve;
use crate::model::command::Command;
use crate::model::error::{Error, Operation, Problem};
use crate::model::event::Event;
use crate::model::job::Job;
use crate::model::outcome::Outcome;
use crate::model::policy::Policy;

pub use crate::lifecycle::stored::{MAX_RECORD_BYTES, ReadError};
pub use crate::model::write::{Resolution, Write};

pub use crate::lifecycle::catch_up::CaughtUp;

/// Decides `command` at `now` on `job` (the job the command names, or `None` if there is
/// none), without changing anything.
///
/// The job's own timers due by the instant the command acts at (`max(now, updatedAt)`,
/// R-CLOCK-1) come first, in `timers`, earliest first (R-TIMER-4); the command is then decided
/// on the job as those timers leave it. Folding `timers` and then `result`'s event into the job,
/// in that order, is what [`execute`] does.
pub fn decide(job: Option<&Job>, policy: &Policy, now: Timestamp, command: &Command) -> Outcome<Event> {
    let caught = catch_up(job, policy, |j| j.acting_instant(now));
    let result = decide::decide_for(caught.job.as_deref(), policy, now, command);
    Outcome { timers: caught.events, result }
}

/// Folds one recorded event into `job`, after checking that it follows: it is exactly the event
/// the rules decide for its command at its instant, with every timer of the job due by then
/// already applied, or exactly the event of the job's timer due at its instant (R-EVENT-1).
///
/// An event that does not follow is refused with the error deciding it gives (or
/// `InvalidRequest`), and `job` is left as it was.
///
/// # Errors
///
/// The error deciding the event's command gives, or `InvalidRequest`
/// ([`Problem::EventDoesNotFollow`]), when the event is not
/// exactly what the rules decide at its instant (R-EVENT-1); `job` is left as it was.
pub fn apply(job: &mut Option<Job>, policy: &Policy, event: &Event) -> Result<(), Error> {
    check_follows(job.as_ref(), policy, event)?;
    evolve(job, event);
    Ok(())
}

/// What [`execute`] did: the [`Outcome`] of the command (the timers that fired before it, then
/// its event or its refusal) and what the host must store for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the host must store what `write` says"]
pub struct Executed {
    /// The timers that fired before the command, then the command's event or its refusal.
    pub outcome: Outcome<Event>,
    /// What to store: nothing, the job inserted, the job updated, or the record deleted.
    pub write: Write,
}

/// What [`handle_timeout`] did: the events of the timers that fired, and what the host must
/// store for them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the host must store what `write` says"]
pub struct Fired {
    /// The events of the timers that fired, earliest first (R-TIMER-4).
    pub events: Vec<Event>,
    /// What to store: nothing (nothing was due), the job updated, or the record deleted.
    pub write: Write,
}

/// Decides `command` at `now` on `job`, as [`decide`] does, and folds what was decided into
/// `job`: its due timers, then the command's event if it was accepted. A refused command
/// changes nothing but the timers that fired before it. [`Executed::write`] says what the host
/// stores: a create on the name of a job whose timers removed it first (its retention ended,
/// no sweep removed it yet) is an [`Write::Update`] of the record read, not an insert.
pub fn execute(job: &mut Option<Job>, policy: &Policy, now: Timestamp, command: &Command) -> Executed {
    let existed = job.is_some();
    let outcome = decide(job.as_ref(), policy, now, command);
    for event in outcome.timers.iter().chain(outcome.result.as_ref().ok()) {
        evolve(job, event);
    }
    let changed = !outcome.timers.is_empty() || outcome.result.is_ok();
    Executed { write: Write::between(existed, changed, job.is_some()), outcome }
}

/// Fires every timer of `job` due at `now`, each at its own deadline, earliest first: the
/// timers a command at `now` would fire first (due by `max(now, updatedAt)`, R-CLOCK-1). A timer
/// that fires may start another (a cancelled job whose package never came completes and starts
/// its retention); that one fires too if it is due.
///
/// The deadline sweep calls it with its own `now`, never with the deadline it read back from
/// its index (which a store may have rounded, R-TIMER-7). A host about to show a job calls it
/// too, and may leave [`Fired::write`] to the sweep or the next command, which fire the same
/// timers first.
pub fn handle_timeout(job: &mut Option<Job>, policy: &Policy, now: Timestamp) -> Fired {
    let existed = job.is_some();
    let caught = catch_up(job.as_ref(), policy, |j| j.acting_instant(now));
    if caught.is_unchanged() {
        return Fired { events: caught.events, write: Write::Nothing };
    }
    let CaughtUp { job: after, events } = caught;
    let after = after.map(Cow::into_owned);
    *job = after;
    Fired { events, write: Write::between(existed, true, job.is_some()) }
}

/// R-EVENT-1: `event` is exactly what the rules decide for `job` at the event's instant.
pub(crate) fn check_follows(job: Option<&Job>, policy: &Policy, event: &Event) -> Result<(), Error> {
    let does_not_follow =
        || Error::InvalidRequest { operation: Operation::Replay, problem: Problem::EventDoesNotFollow };
    if job.is_some_and(|j| j.name != event.job) {
        return Err(does_not_follow());
    }
    let expected = match event.command() {
        Some(command) => {
            // A command event comes after every timer of its job due by its instant.
            if job.is_some_and(|j| j.due_timer(policy, event.at).is_some()) {
                return Err(does_not_follow());
            }
            decide::decide_for(job, policy, event.at, &command)?
        }
        None => {
            let job = job
                .ok_or_else(|| Error::JobNotFound { operation: Operation::Replay, job: event.job.clone() })?;
            job.due_timer(policy, event.at).filter(|due| due.at == event.at).ok_or_else(does_not_follow)?
        }
    };
    if &expected == event { Ok(()) } else { Err(does_not_follow()) }
}
