//! The jobs of one service (or one region, or one test), keyed by name, with their timers.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use serde::{Deserialize, Serialize, Serializer};

use crate::hosts::decider;
use crate::lifecycle::evolve::{self, Fate};
use crate::model::command::Command;
use crate::model::error::{Error, Operation};
use crate::model::event::Event;
use crate::model::format::FormatVersion;
use crate::model::job::Job;
use crate::model::name::JobName;
use crate::model::outcome::Outcome;
use crate::model::policy::Policy;
use crate::model::timer::Deadline;

/// Every job of a service, keyed by name, and the timers pending on them.
///
/// A registry never reads a clock: every input carries `now`, and the caller asks
/// [`next_deadline`](Registry::next_deadline) when to come back and calls
/// [`handle_timeout`](Registry::handle_timeout) then, as with `quinn-proto`'s
/// `poll_timeout` / `handle_timeout`. Every operation applies the timers due at its `now` first
/// (R-TIMER-4), so no caller ever sees a job that should already be gone.
///
/// Inputs are decided and applied in two steps: [`decide`](Registry::decide) turns a command
/// into an [`Event`] without changing anything, [`apply`](Registry::apply) folds an event in.
/// [`execute`](Registry::execute) does both. A host that stores the events can rebuild the
/// registry with [`Registry::replay`] (R-EVENT-1).
///
/// Timers due at the same instant fire in the order of their jobs' names (R-TIMER-4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    policy: Policy,
    /// Boxed so the table's buckets stay small: a million jobs fit in half the memory.
    jobs: HashMap<JobName, Box<Job>>,
    /// Every pending timer's instant and job, earliest first; kept in step with `jobs` by
    /// [`Registry::commit`]. Which timer it is follows from the job's state.
    timers: BTreeSet<(Timestamp, JobName)>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new(Policy::default())
    }
}

impl Registry {
    /// An empty registry whose timers follow `policy`.
    pub fn new(policy: Policy) -> Registry {
        Registry { policy, jobs: HashMap::new(), timers: BTreeSet::new() }
    }

    /// The durations and cancel window this registry applies.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// How many jobs exist, as the registry stands (timers not yet handled included).
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// No job exists, as the registry stands.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// The earliest pending timer: call [`handle_timeout`](Registry::handle_timeout) at or after
    /// its instant. `None` when no timer is pending. O(log n).
    pub fn next_deadline(&self) -> Option<Deadline> {
        let (_, name) = self.timers.first()?;
        self.jobs.get(name)?.next_deadline(&self.policy)
    }

    /// Fires every timer due at `now` (deadline `<= now`), earliest first, and returns their
    /// events. A timer that fires may start another one on the same job (a cancelled job whose
    /// package never came goes to `Completed` and starts its retention); that one fires too if
    /// it is due. Costs O(log n) per timer fired and O(log n) when none is due.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Vec<Event> {
        let mut fired = Vec::new();
        while let Some((at, name)) = self.timers.first() {
            if *at > now {
                break;
            }
            // One lookup per fired timer (and one more for a job the timer removes).
            let Some((job, event)) = self
                .jobs
                .get_mut(name)
                .and_then(|job| job.due_timer(&self.policy, now).map(|event| (job, event)))
            else {
                // Cannot happen: commit keeps the index in step with the jobs. Dropping the
                // orphan keeps the loop finite all the same.
                let orphan = (*at, name.clone());
                self.timers.remove(&orphan);
                continue;
            };
            if fold(&self.policy, &mut self.timers, job, &event) {
                self.jobs.remove(&event.job);
            }
            fired.push(event);
        }
        fired
    }

    /// Decides what `command` at `now` does, without changing anything: the timers of the
    /// command's job due by the instant it acts at, then the command's event or its refusal, as
    /// [`decider::decide`] answers on that job. [`execute`](Registry::execute) folds the same
    /// events in (after firing every other job's due timers, which do not bear on this command).
    pub fn decide(&self, now: Timestamp, command: &Command) -> Outcome<Event> {
        decider::decide(self.jobs.get(command.job()).map(|job| &**job), &self.policy, now, command)
    }

    /// Folds one recorded event into the registry, after checking it is exactly what the rules
    /// decide in the registry's present state (R-EVENT-1): the event its command decides at its
    /// instant, or the event of the job's due timer. An event that does not follow is refused
    /// with the error deciding it gives (or `InvalidRequest`), and nothing changes.
    ///
    /// # Errors
    ///
    /// As [`decider::apply`]: the refusal of an event that does not follow (R-EVENT-1); nothing
    /// changes.
    pub fn apply(&mut self, event: &Event) -> Result<(), Error> {
        // One lookup for the check and the fold (and one more to insert or remove the job).
        match self.jobs.get_mut(&event.job) {
            Some(job) => {
                decider::check_follows(Some(&**job), &self.policy, event)?;
                if fold(&self.policy, &mut self.timers, job, event) {
                    self.jobs.remove(&event.job);
                }
            }
            None => {
                decider::check_follows(None, &self.policy, event)?;
                self.create(event);
            }
        }
        Ok(())
    }

    /// Rebuilds a registry from its events, oldest first (R-EVENT-1). On the first event that does
    /// not follow, returns its index and why.
    ///
    /// # Errors
    ///
    /// The index of the first event that does not follow, and why (R-EVENT-1).
    pub fn replay<'e>(
        policy: Policy,
        events: impl IntoIterator<Item = &'e Event>,
    ) -> Result<Registry, (usize, Error)> {
        let mut registry = Registry::new(policy);
        for (i, event) in events.into_iter().enumerate() {
            registry.apply(event).map_err(|e| (i, e))?;
        }
        Ok(registry)
    }

    /// Applies the timers due at `now`, then decides and applies `command` on its job with
    /// [`decider::execute`]'s rules.
    ///
    /// The command acts on its job at the job's own instant, `max(now, updatedAt)` (R-CLOCK-1),
    /// which is later than `now` when the caller's clock is behind the job's history; the job's
    /// own timers due by that instant fire first (R-TIMER-4). (With periods of at least a day
    /// this never happens: a job's deadline is always after its last instant.)
    pub fn execute(&mut self, now: Timestamp, command: &Command) -> Outcome<Event> {
        let mut timers = self.handle_timeout(now);
        let outcome =
            decider::decide(self.jobs.get(command.job()).map(|job| &**job), &self.policy, now, command);
        for event in outcome.timers.iter().chain(outcome.result.as_ref().ok()) {
            self.commit(event);
        }
        timers.extend(outcome.timers);
        Outcome { timers, result: outcome.result }
    }

    /// *Get Job*: applies the timers due at `now`, and the job's own timer if it is due by the
    /// instant a command at `now` would act at (`max(now, updatedAt)`, R-CLOCK-1), then reads
    /// the job. So a read and a command at the same `now` always agree on whether the job
    /// exists, even when the caller's clock is behind the job's history; every timer fired is
    /// in `timers`.
    pub fn get(&mut self, now: Timestamp, name: &JobName) -> Outcome<&Job> {
        let mut timers = self.handle_timeout(now);
        timers.extend(self.fire_own(now, name));
        let result = self
            .jobs
            .get(name)
            .map(|job| &**job)
            .ok_or_else(|| Error::JobNotFound { operation: Operation::Get, job: name.clone() });
        Outcome { timers, result }
    }

    /// *List Jobs*: applies the timers due at `now`, and every job's own timer due by the
    /// instant a command at `now` would act on it at (as [`get`](Registry::get) does), then
    /// lists every job, by name.
    pub fn list(&mut self, now: Timestamp) -> Outcome<Vec<&Job>> {
        let mut timers = self.handle_timeout(now);
        // Only a job whose timer is due by its own last instant (a zero-day period that started
        // then) is left; the common case collects nothing and allocates nothing.
        let mut own: Vec<(Timestamp, JobName)> = self
            .jobs
            .values()
            .filter_map(|job| job.due_timer(&self.policy, job.acting_instant(now)).map(|e| (e.at, e.job)))
            .collect();
        own.sort_unstable();
        for (_, name) in own {
            timers.extend(self.fire_own(now, &name));
        }
        let mut jobs: Vec<&Job> = self.jobs.values().map(|job| &**job).collect();
        jobs.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Outcome { timers, result: Ok(jobs) }
    }

    /// The events of job `name`'s timers due by the instant a command at `now` acts on it at,
    /// as [`Job::catch_up`] fires them before a command; empty (and allocating nothing) when
    /// none is due.
    fn own_due(&self, now: Timestamp, name: &JobName) -> Vec<Event> {
        match self.jobs.get(name) {
            Some(job) => job.catch_up(&self.policy, job.acting_instant(now)).events,
            None => Vec::new(),
        }
    }

    /// Fires the timers of job `name` due by the instant a command at `now` acts on it at.
    fn fire_own(&mut self, now: Timestamp, name: &JobName) -> Vec<Event> {
        let fired = self.own_due(now, name);
        for event in &fired {
            self.commit(event);
        }
        fired
    }

    /// The job with this name as the registry stands, without applying timers: for hosts that
    /// call [`handle_timeout`](Registry::handle_timeout) themselves, and for tests.
    pub fn peek(&self, name: &str) -> Option<&Job> {
        self.jobs.get(name).map(|job| &**job)
    }

    /// Every job as the registry stands, in no particular order, without applying timers.
    pub fn iter(&self) -> impl Iterator<Item = &Job> {
        self.jobs.values().map(|job| &**job)
    }

    /// Folds a decided event into the jobs and keeps the timer index in step. One hash lookup
    /// of the job's name (and one more to insert or remove it); the timer index changes only
    /// when the job's deadline does.
    fn commit(&mut self, event: &Event) {
        match self.jobs.get_mut(&event.job) {
            Some(job) => {
                if fold(&self.policy, &mut self.timers, job, event) {
                    self.jobs.remove(&event.job);
                }
            }
            None => self.create(event),
        }
    }

    /// Folds a decided event into a job the registry does not hold: a `create` adds it, with
    /// its timer.
    fn create(&mut self, event: &Event) {
        if let Fate::Created(job) = evolve::evolve_in(None, event) {
            if let Some(new) = job.next_deadline(&self.policy) {
                self.timers.insert((new.at, new.job));
            }
            self.jobs.insert(event.job.clone(), Box::new(job));
        }
    }
}

/// Folds a decided event into a job the registry holds and keeps the timer index in step;
/// `true` when the event removes the job (the caller removes it from the table). The timer
/// index changes only when the job's deadline does.
fn fold(policy: &Policy, timers: &mut BTreeSet<(Timestamp, JobName)>, job: &mut Job, event: &Event) -> bool {
    let old = job.next_deadline(policy).map(|d| d.at);
    let fate = evolve::evolve_in(Some(job), event);
    let new = match fate {
        Fate::Removed => None,
        Fate::Kept | Fate::Created(_) => job.next_deadline(policy).map(|d| d.at),
    };
    if old != new {
        if let Some(at) = old {
            timers.remove(&(at, event.job.clone()));
        }
        if let Some(at) = new {
            timers.insert((at, event.job.clone()));
        }
    }
    match fate {
        Fate::Removed => true,
        Fate::Kept | Fate::Created(_) => false,
    }
}

/// The serde form of a registry: its policy and its jobs, by name. Timers are not stored: they
/// follow from the jobs.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegistryRepr<J> {
    format_version: FormatVersion,
    policy: Policy,
    jobs: Vec<J>,
}

impl Serialize for Registry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut jobs: Vec<&Job> = self.jobs.values().map(|job| &**job).collect();
        jobs.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        RegistryRepr { format_version: FormatVersion, policy: self.policy, jobs }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Registry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = RegistryRepr::<Job>::deserialize(crate::wire::strict::Strict::object(deserializer))?;
        let mut registry = Registry::new(repr.policy);
        for job in repr.jobs {
            job.check(&registry.policy).map_err(serde::de::Error::custom)?;
            if registry.jobs.contains_key(&job.name) {
                return Err(serde::de::Error::custom(format!("job '{}' appears twice", job.name)));
            }
            if let Some(deadline) = job.next_deadline(&registry.policy) {
                registry.timers.insert((deadline.at, deadline.job));
            }
            registry.jobs.insert(job.name.clone(), Box::new(job));
        }
        Ok(registry)
    }
}
