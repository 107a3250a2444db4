//! The jobs of one service (or one region, or one test), keyed by name, with their timers.

use std::collections::BTreeSet;
use std::fmt;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
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

/// Where a job lives in the registry: its place in the slab of jobs, fixed while it exists.
type Slot = usize;

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
/// Timers due at the same instant fire in the order of their jobs' names.
#[derive(Clone)]
pub struct Registry {
    policy: Policy,
    /// The jobs, each in a slot of its own while it exists (`None` once removed). Jobs created
    /// together lie together, so the timers that fall due together touch neighbouring memory.
    slots: Vec<Option<Job>>,
    /// The slots removed jobs left, reused by the next jobs created.
    free: Vec<Slot>,
    /// The slot of each job, found by the hash of its name and compared with the name the job
    /// holds: the name is stored once, in the job.
    index: HashTable<Slot>,
    hasher: DefaultHashBuilder,
    /// Every pending timer's instant and the slot of its job, earliest first; kept in step with
    /// the jobs by [`fold`]. Which timer it is follows from the job's state.
    timers: BTreeSet<(Timestamp, Slot)>,
}

/// Two registries are equal when they hold the same policy and the same jobs by name, wherever
/// each keeps them.
impl PartialEq for Registry {
    fn eq(&self, other: &Registry) -> bool {
        self.policy == other.policy
            && self.len() == other.len()
            && self.iter().all(|job| other.peek(job.name.as_str()) == Some(job))
    }
}

impl Eq for Registry {}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").field("policy", &self.policy).field("jobs", &self.by_name()).finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new(Policy::default())
    }
}

impl Registry {
    /// An empty registry whose timers follow `policy`.
    pub fn new(policy: Policy) -> Registry {
        Registry {
            policy,
            slots: Vec::new(),
            free: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            timers: BTreeSet::new(),
        }
    }

    /// The durations and cancel window this registry applies.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// How many jobs exist, as the registry stands (timers not yet handled included).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// No job exists, as the registry stands.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The earliest pending timer: call [`handle_timeout`](Registry::handle_timeout) at or after
    /// its instant. `None` when no timer is pending. O(log n), and O(k) more when k timers are
    /// due at that same instant (the first of them by name).
    pub fn next_deadline(&self) -> Option<Deadline> {
        let &(at, first) = self.timers.first()?;
        self.job_at(self.first_by_name(at, first))?.next_deadline(&self.policy)
    }

    /// Fires every timer due at `now` (deadline `<= now`), earliest first, and returns their
    /// events; timers due at the same instant fire in the order of their jobs' names. A timer
    /// that fires may start another one on the same job (a cancelled job whose package never
    /// came goes to `Completed` and starts its retention); that one fires too if it is due.
    /// Costs O(log n) per timer fired and O(log n) when none is due; no name is hashed.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Vec<Event> {
        let mut fired = Vec::new();
        while let Some(&(at, first)) = self.timers.first() {
            if at > now {
                break;
            }
            let mut due = self.timers.range((at, first)..).take_while(|(t, _)| *t == at);
            let (_, second) = (due.next(), due.next());
            if second.is_none() {
                self.fire(at, first, now, &mut fired);
                continue;
            }
            // Several timers due at `at`: sorted by their jobs' names once, then fired in turn.
            let mut tied: Vec<Slot> = self
                .timers
                .range((at, first)..)
                .take_while(|(t, _)| *t == at)
                .map(|&(_, slot)| slot)
                .collect();
            tied.sort_by(|a, b| self.name_at(*a).cmp(&self.name_at(*b)));
            for slot in tied {
                self.fire(at, slot, now, &mut fired);
                // A zero-day period can start the job's next timer at this same instant: it
                // takes its place among the others by name, so the group is sorted again.
                if self.timers.contains(&(at, slot)) {
                    break;
                }
            }
        }
        fired
    }

    /// Fires the timer due at `at` on the job in `slot`, pushing its event onto `fired`.
    fn fire(&mut self, at: Timestamp, slot: Slot, now: Timestamp, fired: &mut Vec<Event>) {
        let due = self.slots.get_mut(slot).and_then(Option::as_mut).and_then(|job| {
            let event = job.due_timer(&self.policy, now)?;
            Some((job, event))
        });
        let Some((job, event)) = due else {
            // Cannot happen: `fold` keeps the index in step with the jobs. Dropping the orphan
            // keeps the sweep finite all the same.
            self.timers.remove(&(at, slot));
            return;
        };
        if fold(&self.policy, &mut self.timers, slot, job, &event) {
            self.remove(slot);
        }
        fired.push(event);
    }

    /// The name of the job in `slot`, for ordering timers due at the same instant.
    fn name_at(&self, slot: Slot) -> Option<&str> {
        self.job_at(slot).map(|job| job.name.as_str())
    }

    /// Of the timers due at `at` (`first` the first of them in the index), the one whose job's
    /// name comes first. Only instants shared by several timers cost more than one step.
    fn first_by_name(&self, at: Timestamp, first: Slot) -> Slot {
        let tied = self.timers.range((at, first)..).take_while(|(t, _)| *t == at).map(|&(_, slot)| slot);
        tied.min_by(|a, b| self.name_at(*a).cmp(&self.name_at(*b))).unwrap_or(first)
    }

    /// Decides what `command` at `now` does, without changing anything: the timers of the
    /// command's job due by the instant it acts at, then the command's event or its refusal, as
    /// [`decider::decide`] answers on that job. [`execute`](Registry::execute) folds the same
    /// events in (after firing every other job's due timers, which do not bear on this command).
    pub fn decide(&self, now: Timestamp, command: &Command) -> Outcome<Event> {
        decider::decide(self.peek(command.job().as_str()), &self.policy, now, command)
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
        // One lookup for the check and the fold (and one more to remove the job).
        match self.slot_of(event.job.as_str()) {
            Some(slot) => {
                let Some(job) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
                    return Err(Error::JobNotFound { operation: Operation::Replay, job: event.job.clone() });
                };
                decider::check_follows(Some(job), &self.policy, event)?;
                if fold(&self.policy, &mut self.timers, slot, job, event) {
                    self.remove(slot);
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
        let outcome = decider::decide(self.peek(command.job().as_str()), &self.policy, now, command);
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
            .peek(name.as_str())
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
            .iter()
            .filter_map(|job| job.due_timer(&self.policy, job.acting_instant(now)).map(|e| (e.at, e.job)))
            .collect();
        own.sort_unstable();
        for (_, name) in own {
            timers.extend(self.fire_own(now, &name));
        }
        Outcome { timers, result: Ok(self.by_name()) }
    }

    /// Every job, by name.
    fn by_name(&self) -> Vec<&Job> {
        let mut jobs: Vec<&Job> = self.iter().collect();
        jobs.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        jobs
    }

    /// The events of job `name`'s timers due by the instant a command at `now` acts on it at,
    /// as [`Job::catch_up`] fires them before a command; empty (and allocating nothing) when
    /// none is due.
    fn own_due(&self, now: Timestamp, name: &JobName) -> Vec<Event> {
        match self.peek(name.as_str()) {
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
        self.job_at(self.slot_of(name)?)
    }

    /// Every job as the registry stands, in no particular order, without applying timers.
    pub fn iter(&self) -> impl Iterator<Item = &Job> {
        self.slots.iter().flatten()
    }

    /// The job in `slot`, if one is there.
    fn job_at(&self, slot: Slot) -> Option<&Job> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    /// The slot of the job named `name`: one hash of the name, compared with the job's own.
    fn slot_of(&self, name: &str) -> Option<Slot> {
        let hash = self.hasher.hash_one(name);
        let slots = &self.slots;
        self.index
            .find(hash, |&slot| {
                slots.get(slot).and_then(Option::as_ref).is_some_and(|job| job.name.as_str() == name)
            })
            .copied()
    }

    /// Folds a decided event into the jobs and keeps the timer index in step. One hash lookup
    /// of the job's name (and one more to remove it); the timer index changes only when the
    /// job's deadline does.
    fn commit(&mut self, event: &Event) {
        let found = self.slot_of(event.job.as_str());
        match found.and_then(|slot| Some((slot, self.slots.get_mut(slot)?.as_mut()?))) {
            Some((slot, job)) => {
                if fold(&self.policy, &mut self.timers, slot, job, event) {
                    self.remove(slot);
                }
            }
            None => self.create(event),
        }
    }

    /// Folds a decided event into a job the registry does not hold: a `create` adds it, with
    /// its timer.
    fn create(&mut self, event: &Event) {
        if let Fate::Created(job) = evolve::evolve_in(None, event) {
            self.insert(job);
        }
    }

    /// Adds a job the registry does not hold, in a free slot or a new one, with its timer.
    fn insert(&mut self, job: Job) {
        let hash = self.hasher.hash_one(job.name.as_str());
        let deadline = job.next_deadline(&self.policy).map(|d| d.at);
        let slot = match self.free.pop() {
            Some(slot) => {
                if let Some(free) = self.slots.get_mut(slot) {
                    *free = Some(job);
                }
                slot
            }
            None => {
                self.slots.push(Some(job));
                self.slots.len() - 1
            }
        };
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(hash, slot, |&slot| {
            slots.get(slot).and_then(Option::as_ref).map_or(0, |job| hasher.hash_one(job.name.as_str()))
        });
        if let Some(at) = deadline {
            self.timers.insert((at, slot));
        }
    }

    /// Removes the job in `slot` (its timer is already gone: `fold` removed it) and frees the
    /// slot.
    fn remove(&mut self, slot: Slot) {
        let Some(job) = self.slots.get_mut(slot).and_then(Option::take) else { return };
        let hash = self.hasher.hash_one(job.name.as_str());
        if let Ok(entry) = self.index.find_entry(hash, |&s| s == slot) {
            entry.remove();
        }
        self.free.push(slot);
    }
}

/// Folds a decided event into the job in `slot` and keeps the timer index in step; `true` when
/// the event removes the job (the caller removes it). The timer index changes only when the
/// job's deadline does.
fn fold(
    policy: &Policy,
    timers: &mut BTreeSet<(Timestamp, Slot)>,
    slot: Slot,
    job: &mut Job,
    event: &Event,
) -> bool {
    let old = job.next_deadline(policy).map(|d| d.at);
    let fate = evolve::evolve_in(Some(job), event);
    let new = match fate {
        Fate::Removed => None,
        Fate::Kept | Fate::Created(_) => job.next_deadline(policy).map(|d| d.at),
    };
    if old != new {
        if let Some(at) = old {
            timers.remove(&(at, slot));
        }
        if let Some(at) = new {
            timers.insert((at, slot));
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
        RegistryRepr { format_version: FormatVersion, policy: self.policy, jobs: self.by_name() }
            .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Registry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = RegistryRepr::<Job>::deserialize(crate::wire::strict::Strict::object(deserializer))?;
        let mut registry = Registry::new(repr.policy);
        for job in repr.jobs {
            job.check(&registry.policy).map_err(serde::de::Error::custom)?;
            if registry.slot_of(job.name.as_str()).is_some() {
                return Err(serde::de::Error::custom(format!("job '{}' appears twice", job.name)));
            }
            registry.insert(job);
        }
        Ok(registry)
    }
}
