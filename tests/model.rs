//! A reference model of the lifecycle, written from `docs/spec.md` alone, and a
//! `proptest-state-machine` test that drives the model and the real [`Registry`] with the same
//! generated steps and compares every answer and every observable state after every step.
//!
//! The model is deliberately plain: a `BTreeMap` of jobs, one function per operation, the rule
//! ids in comments. It does not use anything of the crate but its public data types (to build
//! the inputs and the expected answers), so a rule broken in the crate makes the two disagree.
//!
//! Where the spec leaves a choice open, the model takes these readings (each is commented where
//! it is made):
//!
//! - when several rules refuse one input, any of their refusals is a right answer here; a command
//!   on a missing job answers `JobNotFound` first. (The spec's *Which refusal wins* fixes the
//!   order; `refusal_precedence_job_then_state_then_request` in `tests/rules.rs` proves it, so
//!   the model stays simple);
//! - a cancel in `Packaging`, `Completed` or `Closed` names R-CANCEL-2, one outside a narrower
//!   window in an earlier state names R-CANCEL-1;
//! - a repeated cancel (R-CANCEL-3) changes nothing but `updatedAt`: it is recorded, and a job's
//!   history must not go backwards (R-CLOCK-1);
//! - `packageOverdue` is cleared when the (late) package arrives and kept otherwise;
//! - reads (`get`, `list`) record nothing, so they fire the timers due at `now` and do not raise
//!   `now` to a job's last instant;
//! - timers of different jobs due at the same instant may fire in any order;
//! - an update's refusals: any field the job's state refuses (R-UPDATE-1 to R-UPDATE-5), a
//!   malformed list of fields (R-UPDATE-6) or of drives (R-INPUT-1, R-UPDATE-4) is a right
//!   answer; the model keeps the instant of the last accepted update, which the spec's Creating
//!   clock counts from (R-UPDATE-7).
//!
//! Left out on purpose: serde, event replay (R-EVENT-1), `decide`/`apply` used separately,
//! malformed job names (a `JobName` cannot hold one), package details beyond the carrier. Other
//! test families cover them.
//!
//! `PROPTEST_CASES` raises (or lowers) the number of generated histories.

mod common;
use common::cases;

use std::collections::BTreeMap;

use import_export_lifecycle::{
    CancelWindow, Change, Command, DriveId, DriveState, Event, Job, JobName, JobState, JobType, Operation,
    PackageInfo, Policy, Registry, Rule, SignedDuration, Timer, Timestamp, TransferResult, UpdateField,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use strum::IntoEnumIterator;

/// How many steps a generated history has.
const STEPS: std::ops::Range<usize> = 1..80;

/// The default number of generated histories.
const CASES: u32 = 768;

fn config() -> Config {
    Config {
        cases: cases(CASES),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/model.txt"))),
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The reference model.
// ---------------------------------------------------------------------------------------------

/// One drive: its id, its state and `bytesSucceeded`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct MDrive {
    id: &'static str,
    state: DriveState,
    bytes: u64,
}

/// One job, as the spec's "The model" section lists its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
struct MJob {
    job_type: JobType,
    state: JobState,
    cancel_requested: bool,
    drives: Vec<MDrive>,
    package: Option<PackageInfo>,
    package_overdue: bool,
    created: Timestamp,
    entered: Timestamp,
    updated: Timestamp,
    /// The job's creation or its last accepted update, whichever is later (R-UPDATE-7).
    last_update: Timestamp,
    /// Each state entered and when (R-STAGE-1).
    stages: Vec<(JobState, Timestamp)>,
}

/// A refusal as the model predicts it: which operation, the error code and the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Refusal {
    operation: Operation,
    code: &'static str,
    rule: Rule,
}

/// Every refusal that applies to an input. Where several rules refuse the same input the spec
/// does not say which one the answer names, so any of them is a right answer.
type Refusals = Vec<Refusal>;

fn refuse<T>(operation: Operation, code: &'static str, rule: Rule) -> Result<T, Refusals> {
    Err(vec![Refusal { operation, code, rule }])
}

/// Collects the refusals that apply to one input.
struct Checks {
    operation: Operation,
    found: Refusals,
}

impl Checks {
    fn new(operation: Operation) -> Checks {
        Checks { operation, found: Vec::new() }
    }

    fn refuse_if(&mut self, applies: bool, code: &'static str, rule: Rule) {
        if applies {
            self.found.push(Refusal { operation: self.operation, code, rule });
        }
    }

    /// `Ok` when no rule refuses.
    fn done(self) -> Result<(), Refusals> {
        if self.found.is_empty() { Ok(()) } else { Err(self.found) }
    }
}

/// What the model says the last step answers.
#[derive(Clone, Debug)]
enum Expected {
    Nothing,
    Command { timers: Vec<Event>, result: Result<Event, Refusals> },
    Get { timers: Vec<Event>, result: Result<MJob, Refusals> },
    List { timers: Vec<Event>, names: Vec<&'static str> },
    Timeout { timers: Vec<Event> },
}

/// The whole model: the policy, the generator's clock (the `now` of the last step), the jobs by
/// name, and the answer the last step must give.
#[derive(Clone, Debug)]
struct Model {
    policy: Policy,
    /// The registry under test is `Registry::default()`, whose policy must be the spec's.
    default_registry: bool,
    clock: Timestamp,
    jobs: BTreeMap<&'static str, MJob>,
    expected: Expected,
}

fn job_name(name: &str) -> JobName {
    JobName::new(name).unwrap()
}

fn drive_id(id: &str) -> DriveId {
    DriveId::new(id).unwrap()
}

/// `t + days` (a day is 86,400 s), or `None` when it is beyond the time type (R-TIMER-5).
fn days_after(t: Timestamp, days: u32) -> Option<Timestamp> {
    t.checked_add(SignedDuration::from_secs(i64::from(days) * 86_400)).ok()
}

/// The job's one pending timer, derived from its state (spec, "Time and boundaries").
fn timer_of(job: &MJob, policy: &Policy) -> Option<(Timestamp, Timer)> {
    match job.state {
        // R-TIMER-1, R-UPDATE-7: from the creation or the last accepted update.
        JobState::Creating => {
            days_after(job.last_update, policy.creating_expiry_days).map(|d| (d, Timer::CreatingExpired))
        }
        // R-TIMER-2: only while the package is not yet overdue.
        JobState::Shipping if !job.package_overdue => {
            days_after(job.entered, policy.shipping_expiry_days).map(|d| (d, Timer::NeverReceived))
        }
        // R-TIMER-6: once it is overdue, the operators' wait, if they do not wait for ever.
        JobState::Shipping => days_after(job.entered, policy.shipping_expiry_days)
            .and_then(|overdue| days_after(overdue, policy.overdue_close_days?))
            .map(|d| (d, Timer::OverdueClosed)),
        JobState::Received | JobState::Transferring | JobState::Packaging => None,
        // R-TIMER-3
        JobState::Completed | JobState::Closed => {
            days_after(job.entered, policy.retention_days).map(|d| (d, Timer::RetentionExpired))
        }
    }
}

/// The instant the job would be removed if nothing else happened.
fn removal_of(job: &MJob, policy: &Policy) -> Option<Timestamp> {
    match timer_of(job, policy) {
        Some((at, Timer::CreatingExpired | Timer::RetentionExpired)) => Some(at),
        Some((_, Timer::NeverReceived | Timer::OverdueClosed)) | None => None,
    }
}

fn at_datacenter(state: DriveState) -> bool {
    match state {
        DriveState::Received
        | DriveState::Transferring
        | DriveState::Completed
        | DriveState::CompletedMoreInfo => true,
        DriveState::Specified | DriveState::NeverReceived | DriveState::ShippedBack => false,
    }
}

/// Moves the job to `state`; the timers count from the instant it entered it.
fn enter(job: &mut MJob, state: JobState, at: Timestamp) {
    if job.state != state {
        job.state = state;
        job.entered = at;
        job.stages.push((state, at)); // R-STAGE-1
    }
}

impl Model {
    fn new(policy: Option<Policy>, clock: Timestamp) -> Model {
        Model {
            policy: policy.unwrap_or(SPEC_DEFAULT),
            default_registry: policy.is_none(),
            clock,
            jobs: BTreeMap::new(),
            expected: Expected::Nothing,
        }
    }

    /// The earliest pending timer of all jobs (ties: by name).
    fn earliest_timer(&self) -> Option<(Timestamp, &'static str, Timer)> {
        self.jobs
            .iter()
            .filter_map(|(name, job)| timer_of(job, &self.policy).map(|(at, t)| (at, *name, t)))
            .min()
    }

    /// R-TIMER-4: fires every timer due at `now`, earliest first.
    fn fire_due(&mut self, now: Timestamp, fired: &mut Vec<Event>) {
        while let Some((at, name, timer)) = self.earliest_timer() {
            if at > now {
                break;
            }
            fired.push(self.fire(name, at, timer));
        }
    }

    /// R-CLOCK-1 with R-TIMER-4: the job's own timers due by its own instant `at` fire first.
    fn catch_up(&mut self, name: &'static str, at: Timestamp, fired: &mut Vec<Event>) {
        while let Some((deadline, timer)) = self.jobs.get(name).and_then(|job| timer_of(job, &self.policy)) {
            if deadline > at {
                break;
            }
            fired.push(self.fire(name, deadline, timer));
        }
    }

    /// One timer fires; its event is recorded at its deadline `at`.
    fn fire(&mut self, name: &'static str, at: Timestamp, timer: Timer) -> Event {
        let change = match timer {
            // R-TIMER-1, R-GONE-1
            Timer::CreatingExpired => {
                self.jobs.remove(name);
                Change::CreatingExpired
            }
            // R-TIMER-3, R-GONE-1
            Timer::RetentionExpired => {
                self.jobs.remove(name);
                Change::RetentionExpired
            }
            // R-TIMER-2: the drives become NeverReceived, the job waits in Shipping (overdue) ...
            Timer::NeverReceived => {
                let job = self.jobs.get_mut(name).unwrap();
                for drive in &mut job.drives {
                    drive.state = DriveState::NeverReceived;
                }
                job.package_overdue = true;
                job.updated = job.updated.max(at);
                // ... unless it was cancelled: nothing is at the datacenter (R-CANCEL-5, R-CANCEL-9).
                if job.cancel_requested {
                    enter(job, JobState::Completed, at);
                }
                Change::NeverReceived { state: job.state }
            }
            // R-TIMER-6: the operators close the job; its retention starts at the deadline.
            Timer::OverdueClosed => {
                let job = self.jobs.get_mut(name).unwrap();
                job.updated = job.updated.max(at);
                enter(job, JobState::Closed, at);
                Change::OverdueClosed
            }
        };
        Event { at, job: job_name(name), change }
    }

    /// A command: due timers (R-TIMER-4), the job's own instant (R-CLOCK-1), then the operation.
    fn command(&mut self, now: Timestamp, op: &Op) -> Expected {
        let mut timers = Vec::new();
        self.fire_due(now, &mut timers);
        let name = op.job().unwrap();
        let at = self.jobs.get(name).map_or(now, |job| now.max(job.updated));
        self.catch_up(name, at, &mut timers);
        let result = match op {
            Op::Create { job, job_type, drives } => self.create(job, *job_type, drives, now),
            Op::Ship { .. }
            | Op::Update { .. }
            | Op::Cancel { .. }
            | Op::Delete { .. }
            | Op::PackageReceived { .. }
            | Op::StartTransfer { .. }
            | Op::Progress { .. }
            | Op::FinishTransfer { .. }
            | Op::ShipBack { .. } => self.on_job(name, op, at),
            Op::Get { .. } | Op::List | Op::HandleTimeout => unreachable!("not a command"),
        };
        Expected::Command { timers, result }
    }

    /// Create (R-INPUT-1, R-INPUT-2). A new job has no history and takes `now` (R-CLOCK-1).
    fn create(
        &mut self,
        name: &'static str,
        job_type: JobType,
        drives: &[&'static str],
        now: Timestamp,
    ) -> Result<Event, Refusals> {
        let mut no = Checks::new(Operation::Create);
        // R-INPUT-1: an import job has 1 to 10 distinct drives, an export job none.
        let malformed = match job_type {
            JobType::Import => drives.is_empty() || drives.len() > 10 || has_duplicates(drives),
            JobType::Export => !drives.is_empty(),
        };
        no.refuse_if(malformed, "InvalidRequest", Rule::Input1);
        // R-INPUT-2
        no.refuse_if(self.jobs.contains_key(name), "JobAlreadyExists", Rule::Input2);
        no.done()?;
        let job = MJob {
            job_type,
            state: JobState::Creating,
            cancel_requested: false,
            drives: drives.iter().map(|&id| MDrive { id, state: DriveState::Specified, bytes: 0 }).collect(),
            package: None,
            package_overdue: false,
            created: now,
            entered: now,
            updated: now,
            last_update: now,
            stages: vec![(JobState::Creating, now)],
        };
        self.jobs.insert(name, job);
        let drives = drives.iter().map(|id| drive_id(id)).collect();
        Ok(Event { at: now, job: job_name(name), change: Change::Created { job_type, drives } })
    }

    /// Every other command: the operation works on a copy of the job, kept only if accepted, so
    /// a refusal changes nothing (R-REFUSE-1).
    fn on_job(&mut self, name: &'static str, op: &Op, at: Timestamp) -> Result<Event, Refusals> {
        let operation = op.operation();
        let Some(old) = self.jobs.get(name) else {
            return refuse(operation, "JobNotFound", Rule::Gone1); // R-GONE-1
        };
        let mut job = old.clone();
        let policy = self.policy;
        let change = match op {
            Op::Ship { carrier, .. } => ship(&mut job, at, *carrier)?,
            Op::Update { fields, drives, .. } => update(&mut job, at, fields, drives)?,
            Op::Cancel { .. } => cancel(&mut job, at, &policy)?,
            Op::Delete { .. } => delete(&job)?,
            Op::PackageReceived { drives, .. } => package_received(&mut job, at, drives)?,
            Op::StartTransfer { drive, .. } => start_transfer(&mut job, at, drive)?,
            Op::Progress { drive, bytes, .. } => progress(&mut job, at, drive, *bytes)?,
            Op::FinishTransfer { drive, result, .. } => finish_transfer(&mut job, at, drive, *result)?,
            Op::ShipBack { .. } => ship_back(&mut job, at)?,
            Op::Create { .. } | Op::Get { .. } | Op::List | Op::HandleTimeout => unreachable!(),
        };
        if change == Change::Deleted {
            self.jobs.remove(name);
        } else {
            self.jobs.insert(name, job);
        }
        Ok(Event { at, job: job_name(name), change })
    }

    /// Get: due timers, then the job's own timers due by the instant a command would act at
    /// (R-CLOCK-1: a read and a command agree on whether the job exists, R-GONE-1), then the job
    /// as it stands. A read records nothing of its own.
    fn get(&mut self, now: Timestamp, name: &'static str) -> Expected {
        let mut timers = Vec::new();
        self.fire_due(now, &mut timers);
        let at = self.jobs.get(name).map_or(now, |job| now.max(job.updated));
        self.catch_up(name, at, &mut timers);
        let result = match self.jobs.get(name) {
            Some(job) => Ok(job.clone()),
            None => refuse(Operation::Get, "JobNotFound", Rule::Gone1),
        };
        Expected::Get { timers, result }
    }

    /// List: as `get`, for every job, the earliest own timer first.
    fn list(&mut self, now: Timestamp) -> Expected {
        let mut timers = Vec::new();
        self.fire_due(now, &mut timers);
        let mut own: Vec<(Timestamp, &'static str)> = self
            .jobs
            .iter()
            .filter_map(|(name, job)| {
                timer_of(job, &self.policy)
                    .filter(|(d, _)| *d <= now.max(job.updated))
                    .map(|(d, _)| (d, *name))
            })
            .collect();
        own.sort();
        for (_, name) in own {
            let at = self.jobs.get(name).map_or(now, |job| now.max(job.updated));
            self.catch_up(name, at, &mut timers);
        }
        Expected::List { timers, names: self.jobs.keys().copied().collect() }
    }

    fn handle_timeout(&mut self, now: Timestamp) -> Expected {
        let mut timers = Vec::new();
        self.fire_due(now, &mut timers);
        Expected::Timeout { timers }
    }
}

fn has_duplicates(ids: &[&str]) -> bool {
    ids.iter().enumerate().any(|(i, id)| ids[..i].contains(id))
}

/// R-FLOW-1
fn ship(job: &mut MJob, at: Timestamp, carrier: Option<&'static str>) -> Result<Change, Refusals> {
    let mut no = Checks::new(Operation::Ship);
    no.refuse_if(job.state != JobState::Creating, "InvalidStateTransition", Rule::Flow1);
    no.done()?;
    let package = carrier.map(|c| PackageInfo {
        carrier_name: Some(c.to_string()),
        tracking_number: None,
        ..PackageInfo::default()
    });
    job.package = package.clone();
    enter(job, JobState::Shipping, at);
    job.updated = at;
    Ok(Change::Shipped { delivery_package: package })
}

/// Which states accept a change of `field` (R-UPDATE-1 to R-UPDATE-5), and the rule.
fn update_window(job_type: JobType, field: UpdateField) -> (Vec<JobState>, Rule) {
    use JobState::{Closed, Completed, Creating, Packaging, Received, Shipping, Transferring};
    match field {
        UpdateField::ReturnAddress | UpdateField::ReturnShipping => {
            (vec![Creating, Shipping, Received, Transferring], Rule::Update1)
        }
        UpdateField::DeliveryPackage => (vec![Creating, Shipping], Rule::Update2),
        UpdateField::LogLevel | UpdateField::BackupDriveManifest => {
            (vec![Creating, Shipping, Received], Rule::Update3)
        }
        UpdateField::DriveList => match job_type {
            JobType::Import => (vec![Creating], Rule::Update4),
            JobType::Export => (vec![], Rule::Update4),
        },
        UpdateField::Tags => {
            (vec![Creating, Shipping, Received, Transferring, Packaging, Completed, Closed], Rule::Update5)
        }
    }
}

/// R-UPDATE-1 to R-UPDATE-7: all or nothing; the state stays; the drive list is replaced.
fn update(
    job: &mut MJob,
    at: Timestamp,
    fields: &[UpdateField],
    drives: &[&'static str],
) -> Result<Change, Refusals> {
    let mut no = Checks::new(Operation::Update);
    // R-UPDATE-6: at least one field, each once.
    let duplicate = fields.iter().enumerate().any(|(i, f)| fields[..i].contains(f));
    no.refuse_if(fields.is_empty() || duplicate, "InvalidRequest", Rule::Update6);
    for field in fields {
        let (states, rule) = update_window(job.job_type, *field);
        no.refuse_if(!states.contains(&job.state), "UpdateNotAllowed", rule);
    }
    let names_drives = fields.contains(&UpdateField::DriveList);
    // R-UPDATE-4: the drive list has the checks of create (R-INPUT-1) and comes only with driveList.
    no.refuse_if(
        names_drives && (drives.is_empty() || drives.len() > 10 || has_duplicates(drives)),
        "InvalidRequest",
        Rule::Input1,
    );
    no.refuse_if(!names_drives && !drives.is_empty(), "InvalidRequest", Rule::Update4);
    no.done()?;
    if names_drives {
        job.drives = drives.iter().map(|&id| MDrive { id, state: DriveState::Specified, bytes: 0 }).collect();
    }
    job.updated = at;
    job.last_update = at;
    Ok(Change::Updated {
        fields: fields.to_vec(),
        drives: if names_drives { drives.iter().map(|id| drive_id(id)).collect() } else { Vec::new() },
        delivery_package: None,
    })
}

/// R-CANCEL-1 to R-CANCEL-9
fn cancel(job: &mut MJob, at: Timestamp, policy: &Policy) -> Result<Change, Refusals> {
    let op = Operation::Cancel;
    let state = job.state;
    // R-CANCEL-2: never from Packaging on, whatever happened before.
    if matches!(state, JobState::Packaging | JobState::Completed | JobState::Closed) {
        return refuse(op, "CancelNotAllowed", Rule::Cancel2);
    }
    // R-CANCEL-1: the policy's window.
    let in_window = match policy.cancel_window {
        CancelWindow::BeforePackaging => true,
        CancelWindow::CreatingOrShipping => matches!(state, JobState::Creating | JobState::Shipping),
        CancelWindow::CreatingOnly => state == JobState::Creating,
    };
    if !in_window {
        return refuse(op, "CancelNotAllowed", Rule::Cancel1);
    }
    // The cancel is recorded at `at`: `updatedAt` is the job's last recorded instant, and a
    // history must not go backwards (R-CLOCK-1), so even a repeated cancel moves it.
    job.updated = at;
    // R-CANCEL-3: a repeated cancel is accepted and changes nothing else.
    if job.cancel_requested {
        return Ok(Change::CancelRequested { state });
    }
    job.cancel_requested = true;
    let copying = job.drives.iter().any(|d| d.state == DriveState::Transferring);
    let arrived = job.drives.iter().any(|d| at_datacenter(d.state));
    let next = match state {
        // R-CANCEL-4
        JobState::Creating => JobState::Completed,
        // R-CANCEL-5 (waits for the package), or R-CANCEL-9 (the package is already overdue).
        JobState::Shipping if job.package_overdue => JobState::Completed,
        JobState::Shipping => JobState::Shipping,
        // R-CANCEL-6, R-CANCEL-8, R-CANCEL-9
        JobState::Received | JobState::Transferring if copying => JobState::Transferring,
        JobState::Received | JobState::Transferring if arrived => JobState::Packaging,
        JobState::Received | JobState::Transferring => JobState::Completed,
        JobState::Packaging | JobState::Completed | JobState::Closed => unreachable!("refused above"),
    };
    enter(job, next, at);
    Ok(Change::CancelRequested { state: next })
}

/// R-DELETE-1, R-DELETE-2
fn delete(job: &MJob) -> Result<Change, Refusals> {
    match job.state {
        JobState::Creating | JobState::Completed | JobState::Closed => Ok(Change::Deleted),
        JobState::Shipping | JobState::Received | JobState::Transferring | JobState::Packaging => {
            refuse(Operation::Delete, "DeleteNotAllowed", Rule::Delete2)
        }
    }
}

/// R-FLOW-2 (with R-INPUT-1 for the package's shape, R-CANCEL-5 / R-CANCEL-8 after a cancel).
fn package_received(job: &mut MJob, at: Timestamp, drives: &[&'static str]) -> Result<Change, Refusals> {
    let mut no = Checks::new(Operation::PackageReceived);
    // R-INPUT-1: a package lists 1 to 10 distinct drives ...
    let malformed = drives.is_empty() || drives.len() > 10 || has_duplicates(drives);
    no.refuse_if(malformed, "InvalidRequest", Rule::Input1);
    // R-FLOW-2: ... arrives only for a job in Shipping ...
    no.refuse_if(job.state != JobState::Shipping, "InvalidStateTransition", Rule::Flow2);
    // ... and an import package holds only the job's own drives.
    let unknown = drives.iter().any(|id| !job.drives.iter().any(|d| d.id == *id));
    no.refuse_if(job.job_type == JobType::Import && unknown, "DriveNotFound", Rule::Input1);
    no.done()?;
    match job.job_type {
        JobType::Import => {
            for drive in &mut job.drives {
                drive.state =
                    if drives.contains(&drive.id) { DriveState::Received } else { DriveState::NeverReceived };
            }
        }
        JobType::Export => {
            job.drives =
                drives.iter().map(|&id| MDrive { id, state: DriveState::Received, bytes: 0 }).collect();
        }
    }
    // `packageOverdue` says the package is late: once it is here, it no longer is. (The spec
    // leaves this open; the model reads the flag literally. A job that never gets its package
    // keeps the flag, also in Completed.)
    job.package_overdue = false;
    // A cancelled job copies nothing: straight to Packaging (R-CANCEL-5, R-CANCEL-8).
    let next = if job.cancel_requested { JobState::Packaging } else { JobState::Received };
    enter(job, next, at);
    job.updated = at;
    Ok(Change::PackageReceived { drives: drives.iter().map(|id| drive_id(id)).collect(), state: next })
}

fn drive_state(job: &MJob, id: &str) -> Option<DriveState> {
    job.drives.iter().find(|d| d.id == id).map(|d| d.state)
}

fn drive_mut<'j>(job: &'j mut MJob, id: &str) -> &'j mut MDrive {
    job.drives.iter_mut().find(|d| d.id == id).unwrap()
}

/// R-FLOW-3, R-CANCEL-7
fn start_transfer(job: &mut MJob, at: Timestamp, id: &str) -> Result<Change, Refusals> {
    let mut no = Checks::new(Operation::StartTransfer);
    let job_copies = matches!(job.state, JobState::Received | JobState::Transferring);
    no.refuse_if(!job_copies, "InvalidStateTransition", Rule::Flow3);
    no.refuse_if(job.cancel_requested, "InvalidStateTransition", Rule::Cancel7);
    match drive_state(job, id) {
        None => no.refuse_if(true, "DriveNotFound", Rule::Input1),
        Some(state) => no.refuse_if(state != DriveState::Received, "InvalidStateTransition", Rule::Flow3),
    }
    no.done()?;
    drive_mut(job, id).state = DriveState::Transferring;
    enter(job, JobState::Transferring, at);
    job.updated = at;
    Ok(Change::TransferStarted { drive: drive_id(id), state: JobState::Transferring })
}

/// R-FLOW-4, R-CANCEL-6; a count past `u64::MAX` is refused (R-INPUT-1).
fn progress(job: &mut MJob, at: Timestamp, id: &str, bytes: u64) -> Result<Change, Refusals> {
    let mut no = Checks::new(Operation::Progress);
    match job.drives.iter().find(|d| d.id == id) {
        None => no.refuse_if(true, "DriveNotFound", Rule::Input1),
        Some(drive) => {
            no.refuse_if(drive.state != DriveState::Transferring, "InvalidStateTransition", Rule::Flow4);
            no.refuse_if(drive.bytes.checked_add(bytes).is_none(), "InvalidRequest", Rule::Input1);
        }
    }
    no.done()?;
    drive_mut(job, id).bytes += bytes;
    job.updated = at;
    Ok(Change::TransferProgressed { drive: drive_id(id), bytes })
}

/// R-FLOW-4, R-FLOW-5, R-CANCEL-6, R-CANCEL-8
fn finish_transfer(
    job: &mut MJob,
    at: Timestamp,
    id: &str,
    result: TransferResult,
) -> Result<Change, Refusals> {
    let mut no = Checks::new(Operation::FinishTransfer);
    match drive_state(job, id) {
        None => no.refuse_if(true, "DriveNotFound", Rule::Input1),
        Some(state) => no.refuse_if(state != DriveState::Transferring, "InvalidStateTransition", Rule::Flow4),
    }
    no.done()?;
    drive_mut(job, id).state = match result {
        TransferResult::Completed => DriveState::Completed,
        TransferResult::CompletedMoreInfo => DriveState::CompletedMoreInfo,
    };
    // Left to copy: a drive copying, or (without a cancel) a drive waiting to start.
    let left = job.drives.iter().any(|d| {
        d.state == DriveState::Transferring || (!job.cancel_requested && d.state == DriveState::Received)
    });
    if !left {
        enter(job, JobState::Packaging, at);
    }
    job.updated = at;
    Ok(Change::TransferFinished { drive: drive_id(id), result, state: job.state })
}

/// R-FLOW-6, R-CANCEL-8
fn ship_back(job: &mut MJob, at: Timestamp) -> Result<Change, Refusals> {
    let mut no = Checks::new(Operation::ShipBack);
    no.refuse_if(job.state != JobState::Packaging, "InvalidStateTransition", Rule::Flow6);
    no.done()?;
    // A drive that did not complete cleanly (or never arrived) is an error; a cancelled job
    // always ends in Completed (R-CANCEL-8).
    let clean = job.drives.iter().all(|d| d.state == DriveState::Completed);
    for drive in &mut job.drives {
        if at_datacenter(drive.state) {
            drive.state = DriveState::ShippedBack;
        }
    }
    let end = if clean || job.cancel_requested { JobState::Completed } else { JobState::Closed };
    enter(job, end, at);
    job.updated = at;
    Ok(Change::ShippedBack { state: end })
}

// ---------------------------------------------------------------------------------------------
// Steps: a move of the clock, then one input.
// ---------------------------------------------------------------------------------------------

const JOBS: [&str; 3] = ["a", "b", "c"];
const DRIVES: [&str; 3] = ["D1", "D2", "D3"];
const UNKNOWN_DRIVE: &str = "X9";
const ELEVEN: [&str; 11] = ["D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9", "D10", "D11"];

/// How the clock moves before a step. Deadline moves are resolved against the model when the
/// step is applied, so they still hit the deadline after shrinking.
#[derive(Clone, Copy, Debug)]
enum Move {
    Same,
    Nano,
    Secs(u32),
    Days(u32),
    ToNextDeadline,
    JustBeforeNextDeadline,
    BackNano,
    BackSecs(u32),
    BackDays(u32),
}

#[derive(Clone, Debug)]
enum Op {
    Create { job: &'static str, job_type: JobType, drives: Vec<&'static str> },
    Ship { job: &'static str, carrier: Option<&'static str> },
    Update { job: &'static str, fields: Vec<UpdateField>, drives: Vec<&'static str> },
    Cancel { job: &'static str },
    Delete { job: &'static str },
    Get { job: &'static str },
    List,
    PackageReceived { job: &'static str, drives: Vec<&'static str> },
    StartTransfer { job: &'static str, drive: &'static str },
    Progress { job: &'static str, drive: &'static str, bytes: u64 },
    FinishTransfer { job: &'static str, drive: &'static str, result: TransferResult },
    ShipBack { job: &'static str },
    HandleTimeout,
}

#[derive(Clone, Debug)]
struct Step {
    time: Move,
    op: Op,
}

impl Op {
    fn job(&self) -> Option<&'static str> {
        match self {
            Op::Create { job, .. }
            | Op::Ship { job, .. }
            | Op::Update { job, .. }
            | Op::Cancel { job }
            | Op::Delete { job }
            | Op::Get { job }
            | Op::PackageReceived { job, .. }
            | Op::StartTransfer { job, .. }
            | Op::Progress { job, .. }
            | Op::FinishTransfer { job, .. }
            | Op::ShipBack { job } => Some(job),
            Op::List | Op::HandleTimeout => None,
        }
    }

    fn operation(&self) -> Operation {
        match self {
            Op::Create { .. } => Operation::Create,
            Op::Ship { .. } => Operation::Ship,
            Op::Update { .. } => Operation::Update,
            Op::Cancel { .. } => Operation::Cancel,
            Op::Delete { .. } => Operation::Delete,
            Op::Get { .. } => Operation::Get,
            Op::List => Operation::List,
            Op::HandleTimeout => unreachable!("handle_timeout is not an operation on a job"),
            Op::PackageReceived { .. } => Operation::PackageReceived,
            Op::StartTransfer { .. } => Operation::StartTransfer,
            Op::Progress { .. } => Operation::Progress,
            Op::FinishTransfer { .. } => Operation::FinishTransfer,
            Op::ShipBack { .. } => Operation::ShipBack,
        }
    }

    /// The registry's command for this step, if it is one.
    fn command(&self) -> Option<Command> {
        let ids = |ids: &[&str]| ids.iter().map(|id| drive_id(id)).collect::<Vec<_>>();
        Some(match self {
            Op::Create { job, job_type, drives } => {
                Command::Create { job: job_name(job), job_type: *job_type, drives: ids(drives) }
            }
            Op::Ship { job, carrier } => Command::Ship {
                job: job_name(job),
                carrier: carrier.map(str::to_string),
                tracking_number: None,
            },
            Op::Update { job, fields, drives } => Command::Update {
                job: job_name(job),
                fields: fields.clone(),
                drives: ids(drives),
                delivery_package: None,
            },
            Op::Cancel { job } => Command::Cancel { job: job_name(job) },
            Op::Delete { job } => Command::Delete { job: job_name(job) },
            Op::PackageReceived { job, drives } => {
                Command::PackageReceived { job: job_name(job), drives: ids(drives) }
            }
            Op::StartTransfer { job, drive } => {
                Command::StartTransfer { job: job_name(job), drive: drive_id(drive) }
            }
            Op::Progress { job, drive, bytes } => {
                Command::Progress { job: job_name(job), drive: drive_id(drive), bytes: *bytes }
            }
            Op::FinishTransfer { job, drive, result } => {
                Command::FinishTransfer { job: job_name(job), drive: drive_id(drive), result: *result }
            }
            Op::ShipBack { job } => Command::ShipBack { job: job_name(job) },
            Op::Get { .. } | Op::List | Op::HandleTimeout => return None,
        })
    }
}

fn shift(t: Timestamp, nanos: i128) -> Timestamp {
    let d = SignedDuration::from_nanos_i128(nanos);
    t.checked_add(d).unwrap_or(if nanos >= 0 { Timestamp::MAX } else { Timestamp::MIN })
}

const SEC: i128 = 1_000_000_000;
const DAY: i128 = 86_400 * SEC;

impl Model {
    fn moved(&self, time: Move) -> Timestamp {
        let next = self.earliest_timer().map(|(at, _, _)| at);
        match time {
            Move::Same => self.clock,
            Move::Nano => shift(self.clock, 1),
            Move::Secs(n) => shift(self.clock, i128::from(n) * SEC),
            Move::Days(n) => shift(self.clock, i128::from(n) * DAY),
            Move::ToNextDeadline => next.unwrap_or(self.clock),
            Move::JustBeforeNextDeadline => next.map_or(self.clock, |at| shift(at, -1)),
            Move::BackNano => shift(self.clock, -1),
            Move::BackSecs(n) => shift(self.clock, -i128::from(n) * SEC),
            Move::BackDays(n) => shift(self.clock, -i128::from(n) * DAY),
        }
    }

    fn step(mut self, step: &Step) -> Model {
        let now = self.moved(step.time);
        self.clock = now;
        self.expected = match &step.op {
            Op::Get { job } => self.get(now, job),
            Op::List => self.list(now),
            Op::HandleTimeout => self.handle_timeout(now),
            op @ (Op::Create { .. }
            | Op::Ship { .. }
            | Op::Update { .. }
            | Op::Cancel { .. }
            | Op::Delete { .. }
            | Op::PackageReceived { .. }
            | Op::StartTransfer { .. }
            | Op::Progress { .. }
            | Op::FinishTransfer { .. }
            | Op::ShipBack { .. }) => self.command(now, op),
        };
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Generators.
// ---------------------------------------------------------------------------------------------

/// The service's durations as the spec states them (R-TIMER-1 to R-TIMER-3, R-CANCEL-1), written
/// out here rather than taken from `Policy::default()`.
const SPEC_DEFAULT: Policy = Policy {
    retention_days: 90,
    creating_expiry_days: 14,
    shipping_expiry_days: 14,
    overdue_close_days: Some(30),
    cancel_window: CancelWindow::BeforePackaging,
};

/// `None`: the registry's default policy; else small periods (0 to 3 days) and any window.
fn arb_policy() -> impl Strategy<Value = Option<Policy>> {
    let days = prop_oneof![1 => Just(0u32), 6 => 1u32..=3];
    let window = prop_oneof![
        6 => Just(CancelWindow::BeforePackaging),
        1 => Just(CancelWindow::CreatingOrShipping),
        1 => Just(CancelWindow::CreatingOnly),
    ];
    let close = prop_oneof![1 => Just(None), 4 => days.clone().prop_map(Some)];
    prop_oneof![
        1 => Just(None),
        2 => (days.clone(), days.clone(), days, close, window).prop_map(|(r, c, s, o, w)| Some(Policy {
            retention_days: r,
            creating_expiry_days: c,
            shipping_expiry_days: s,
            overdue_close_days: o,
            cancel_window: w,
        })),
    ]
}

fn arb_start() -> impl Strategy<Value = Timestamp> {
    let usual: Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
    prop_oneof![
        8 => Just(usual),
        // Near the end of the time type: some deadlines do not exist (R-TIMER-5).
        1 => (0i128..=4 * DAY).prop_map(|back| shift(Timestamp::MAX, -back)),
        1 => (0i128..=DAY).prop_map(|up| shift(Timestamp::MIN, up)),
    ]
}

fn arb_move() -> impl Strategy<Value = Move> {
    prop_oneof![
        4 => Just(Move::Same),
        2 => Just(Move::Nano),
        3 => (1u32..=7200).prop_map(Move::Secs),
        2 => (1u32..=20).prop_map(Move::Days),
        1 => (80u32..=100).prop_map(Move::Days),
        3 => Just(Move::ToNextDeadline),
        2 => Just(Move::JustBeforeNextDeadline),
        1 => Just(Move::BackNano),
        1 => (1u32..=7200).prop_map(Move::BackSecs),
        1 => (1u32..=20).prop_map(Move::BackDays),
    ]
}

/// A set of drives: usually a few of D1..D3, sometimes malformed or unknown.
fn arb_drive_set() -> impl Strategy<Value = Vec<&'static str>> {
    prop_oneof![
        8 => proptest::sample::subsequence(DRIVES.to_vec(), 1..=3).prop_shuffle(),
        1 => Just(vec![]),
        1 => Just(vec!["D1", "D1"]),
        1 => Just(vec![UNKNOWN_DRIVE]),
        1 => Just(vec!["D1", UNKNOWN_DRIVE]),
        1 => Just(ELEVEN.to_vec()),
    ]
}

/// The fields of an update: usually one or a few, sometimes none or one twice.
fn arb_fields() -> impl Strategy<Value = Vec<UpdateField>> {
    let all: Vec<UpdateField> = UpdateField::iter().collect();
    prop_oneof![
        6 => proptest::sample::subsequence(all.clone(), 1..=3).prop_shuffle(),
        2 => proptest::sample::select(all).prop_map(|f| vec![f]),
        1 => Just(vec![]),
        1 => Just(vec![UpdateField::Tags, UpdateField::Tags]),
    ]
}

fn arb_bytes() -> impl Strategy<Value = u64> {
    prop_oneof![1 => Just(0u64), 4 => 1u64..=1 << 20, 2 => (0u64..=2).prop_map(|k| u64::MAX - k)]
}

fn arb_result() -> impl Strategy<Value = TransferResult> {
    prop_oneof![Just(TransferResult::Completed), Just(TransferResult::CompletedMoreInfo)]
}

/// Any input on any name.
fn arb_any_op() -> BoxedStrategy<Op> {
    let job = proptest::sample::select(JOBS.to_vec());
    let drive = proptest::sample::select(vec!["D1", "D2", "D3", UNKNOWN_DRIVE]);
    let export_drives = prop_oneof![5 => Just(vec![]), 1 => Just(vec!["D1"])];
    prop_oneof![
        3 => (job.clone(), arb_drive_set())
            .prop_map(|(job, drives)| Op::Create { job, job_type: JobType::Import, drives }),
        2 => (job.clone(), export_drives)
            .prop_map(|(job, drives)| Op::Create { job, job_type: JobType::Export, drives }),
        2 => (job.clone(), proptest::option::of(Just("FedEx"))).prop_map(|(job, carrier)| Op::Ship { job, carrier }),
        2 => job.clone().prop_map(|job| Op::Cancel { job }),
        3 => (job.clone(), arb_fields(), prop_oneof![3 => Just(vec![]), 1 => arb_drive_set()])
            .prop_map(|(job, fields, drives)| {
                // A drive list comes with driveList, mostly (R-UPDATE-4).
                let drives = if fields.contains(&UpdateField::DriveList) && drives.is_empty() { vec!["D2"] } else { drives };
                Op::Update { job, fields, drives }
            }),
        2 => job.clone().prop_map(|job| Op::Delete { job }),
        2 => job.clone().prop_map(|job| Op::Get { job }),
        1 => Just(Op::List),
        2 => Just(Op::HandleTimeout),
        2 => (job.clone(), arb_drive_set()).prop_map(|(job, drives)| Op::PackageReceived { job, drives }),
        2 => (job.clone(), drive.clone()).prop_map(|(job, drive)| Op::StartTransfer { job, drive }),
        2 => (job.clone(), drive.clone(), arb_bytes()).prop_map(|(job, drive, bytes)| Op::Progress { job, drive, bytes }),
        2 => (job.clone(), drive, arb_result())
            .prop_map(|(job, drive, result)| Op::FinishTransfer { job, drive, result }),
        2 => job.prop_map(|job| Op::ShipBack { job }),
    ]
    .boxed()
}

/// Inputs that move the model's jobs along their lifecycle, so histories reach every state.
fn progress_ops(model: &Model) -> Vec<Op> {
    let mut ops = Vec::new();
    for job in JOBS {
        let Some(j) = model.jobs.get(job) else {
            ops.push(Op::Create { job, job_type: JobType::Import, drives: vec!["D1", "D2"] });
            ops.push(Op::Create { job, job_type: JobType::Import, drives: vec!["D3"] });
            ops.push(Op::Create { job, job_type: JobType::Export, drives: vec![] });
            continue;
        };
        let in_state = |s: DriveState| j.drives.iter().filter(move |d| d.state == s).map(|d| d.id);
        match j.state {
            JobState::Creating => {
                ops.push(Op::Update { job, fields: vec![UpdateField::ReturnAddress], drives: vec![] });
                if j.job_type == JobType::Import {
                    ops.push(Op::Update {
                        job,
                        fields: vec![UpdateField::DriveList],
                        drives: vec!["D3", "D1"],
                    });
                }
                ops.push(Op::Ship { job, carrier: None });
                ops.push(Op::Ship { job, carrier: None });
                ops.push(Op::Ship { job, carrier: Some("FedEx") });
                ops.push(Op::Cancel { job });
            }
            JobState::Shipping => {
                let all: Vec<_> = match j.job_type {
                    JobType::Import => j.drives.iter().map(|d| d.id).collect(),
                    JobType::Export => vec!["D1", "D2"],
                };
                ops.push(Op::PackageReceived { job, drives: all.clone() });
                ops.push(Op::PackageReceived { job, drives: all.clone() });
                ops.push(Op::PackageReceived { job, drives: all });
                ops.push(Op::Cancel { job });
                ops.push(Op::Update { job, fields: vec![UpdateField::DeliveryPackage], drives: vec![] });
            }
            JobState::Received => {
                for drive in in_state(DriveState::Received) {
                    ops.push(Op::StartTransfer { job, drive });
                }
                ops.push(Op::Cancel { job });
            }
            JobState::Transferring => {
                for drive in in_state(DriveState::Transferring) {
                    ops.push(Op::Progress { job, drive, bytes: 1000 });
                    ops.push(Op::FinishTransfer { job, drive, result: TransferResult::Completed });
                    ops.push(Op::FinishTransfer { job, drive, result: TransferResult::Completed });
                    ops.push(Op::FinishTransfer { job, drive, result: TransferResult::CompletedMoreInfo });
                }
                for drive in in_state(DriveState::Received) {
                    ops.push(Op::StartTransfer { job, drive });
                }
                if let Some(drive) = in_state(DriveState::Transferring).next() {
                    ops.push(Op::Progress { job, drive, bytes: u64::MAX - 1 });
                }
                ops.push(Op::Cancel { job });
            }
            JobState::Packaging => {
                ops.push(Op::ShipBack { job });
                ops.push(Op::ShipBack { job });
            }
            JobState::Completed | JobState::Closed => {
                ops.push(Op::Get { job });
                ops.push(Op::Delete { job });
            }
        }
    }
    ops
}

struct LifecycleModel;

impl ReferenceStateMachine for LifecycleModel {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        (arb_policy(), arb_start()).prop_map(|(policy, start)| Model::new(policy, start)).boxed()
    }

    fn transitions(model: &Model) -> BoxedStrategy<Step> {
        let along = progress_ops(model);
        let op = if along.is_empty() {
            arb_any_op()
        } else {
            prop_oneof![4 => proptest::sample::select(along), 2 => arb_any_op()].boxed()
        };
        (arb_move(), op).prop_map(|(time, op)| Step { time, op }).boxed()
    }

    fn apply(model: Model, step: &Step) -> Model {
        model.step(step)
    }
}

// ---------------------------------------------------------------------------------------------
// Comparing the registry with the model.
// ---------------------------------------------------------------------------------------------

/// Everything observable about one job, in plain data.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    name: String,
    job_type: JobType,
    state: JobState,
    cancel_requested: bool,
    drives: Vec<(String, DriveState, u64)>,
    package: Option<PackageInfo>,
    package_overdue: bool,
    created: Timestamp,
    entered: Timestamp,
    updated: Timestamp,
    next_deadline: Option<(Timestamp, Timer)>,
    removal_at: Option<Timestamp>,
    stages: Vec<(JobState, Timestamp)>,
    /// `Job::capabilities`: would a cancel, a delete, a ship, a change of the return address be
    /// accepted now?
    may: (bool, bool, bool, bool),
    /// `Job::capabilities`: the fields an update may name, and the rule refusing each other one.
    fields: (Vec<UpdateField>, Vec<(String, Rule)>),
}

fn seen_real(job: &Job, policy: &Policy) -> Seen {
    Seen {
        name: job.name().to_string(),
        job_type: job.job_type(),
        state: job.state(),
        cancel_requested: job.cancel_requested(),
        drives: job
            .drive_list()
            .iter()
            .map(|d| (d.drive_id.to_string(), d.state, d.bytes_succeeded))
            .collect(),
        package: job.delivery_package().cloned(),
        package_overdue: job.package_overdue(),
        created: job.created_at(),
        entered: job.state_entered_at(),
        updated: job.updated_at(),
        next_deadline: job.next_deadline(policy).map(|d| {
            assert_eq!(d.job, *job.name(), "a job's deadline names the job");
            (d.at, d.timer)
        }),
        removal_at: job.removal_at(policy),
        stages: job.stages().iter().map(|s| (s.stage_name, s.stage_time)).collect(),
        may: {
            let c = job.capabilities(policy);
            assert_eq!(c.next_deadline, job.next_deadline(policy));
            (c.is_cancellable, c.is_deletable, c.is_shippable, c.is_shipping_address_editable)
        },
        fields: {
            let c = job.capabilities(policy);
            let fields: Vec<String> = UpdateField::iter().map(|f| f.to_string()).collect();
            let refused = c.refused_by.into_iter().filter(|(k, _)| fields.contains(k)).collect();
            (c.updatable_fields, refused)
        },
    }
}

fn seen_model(name: &str, job: &MJob, policy: &Policy) -> Seen {
    Seen {
        name: name.to_string(),
        job_type: job.job_type,
        state: job.state,
        cancel_requested: job.cancel_requested,
        drives: job.drives.iter().map(|d| (d.id.to_string(), d.state, d.bytes)).collect(),
        package: job.package.clone(),
        package_overdue: job.package_overdue,
        created: job.created,
        entered: job.entered,
        updated: job.updated,
        next_deadline: timer_of(job, policy),
        removal_at: removal_of(job, policy),
        stages: job.stages.clone(),
        // What the customer may do: the operation itself, tried on a copy.
        may: (
            cancel(&mut job.clone(), job.updated, policy).is_ok(),
            delete(job).is_ok(),
            ship(&mut job.clone(), job.updated, None).is_ok(),
            update_window(job.job_type, UpdateField::ReturnAddress).0.contains(&job.state),
        ),
        fields: {
            let (mut ok, mut refused) = (Vec::new(), Vec::new());
            for field in UpdateField::iter() {
                let (states, rule) = update_window(job.job_type, field);
                if states.contains(&job.state) {
                    ok.push(field);
                } else {
                    refused.push((field.to_string(), rule));
                }
            }
            refused.sort();
            (ok, refused)
        },
    }
}

/// Timer events in time order; between jobs, events at one instant may come in any order.
fn check_timers(real: &[Event], expected: &[Event]) {
    assert!(real.windows(2).all(|w| w[0].at <= w[1].at), "timers not in time order: {real:#?}");
    let by_instant = |events: &[Event]| {
        let mut events = events.to_vec();
        events.sort_by(|a, b| (a.at, &a.job).cmp(&(b.at, &b.job)));
        events
    };
    assert_eq!(by_instant(real), by_instant(expected), "timers that fired");
}

fn check_refusal(real: &import_export_lifecycle::Error, expected: &Refusals) {
    let seen = Refusal { operation: real.operation(), code: real.code(), rule: real.rule() };
    assert!(expected.contains(&seen), "refused with {seen:?} ({real}); the model allows {expected:?}");
}

struct RegistryAgainstModel;

impl StateMachineTest for RegistryAgainstModel {
    type SystemUnderTest = Registry;
    type Reference = LifecycleModel;

    fn init_test(model: &Model) -> Registry {
        if model.default_registry { Registry::default() } else { Registry::new(model.policy) }
    }

    fn apply(mut registry: Registry, model: &Model, step: Step) -> Registry {
        let now = model.clock;
        let policy = model.policy;
        let real_policy = *registry.policy();
        match (&step.op, &model.expected) {
            (Op::Get { job }, Expected::Get { timers, result }) => {
                let outcome = registry.get(now, &job_name(job));
                check_timers(&outcome.timers, timers);
                match (&outcome.result, result) {
                    (Ok(real), Ok(expected)) => {
                        assert_eq!(seen_real(real, &real_policy), seen_model(job, expected, &policy), "get")
                    }
                    (Err(real), Err(expected)) => check_refusal(real, expected),
                    (real, expected) => panic!("get answered {real:?}, the model {expected:?}"),
                }
            }
            (Op::List, Expected::List { timers, names }) => {
                let outcome = registry.list(now);
                check_timers(&outcome.timers, timers);
                let real: Vec<String> =
                    outcome.result.unwrap().iter().map(|j| j.name().to_string()).collect();
                assert_eq!(real, *names, "list");
            }
            (Op::HandleTimeout, Expected::Timeout { timers }) => {
                let real = registry.handle_timeout(now);
                check_timers(&real, timers);
            }
            (op, Expected::Command { timers, result }) => {
                let command = op.command().unwrap();
                let outcome = registry.execute(now, &command);
                check_timers(&outcome.timers, timers);
                match (&outcome.result, result) {
                    (Ok(real), Ok(expected)) => assert_eq!(real, expected, "the command's event"),
                    (Err(real), Err(expected)) => check_refusal(real, expected),
                    (real, expected) => panic!("{command:?} answered {real:?}, the model {expected:?}"),
                }
            }
            (op, expected) => unreachable!("{op:?} with {expected:?}"),
        }
        registry
    }

    fn check_invariants(registry: &Registry, model: &Model) {
        let policy = model.policy;
        assert_eq!(*registry.policy(), policy, "the registry's policy");
        let mut real: Vec<&Job> = registry.iter().collect();
        real.sort_by(|a, b| a.name().cmp(b.name()));
        let names: Vec<&str> = real.iter().map(|j| j.name().as_str()).collect();
        let expected: Vec<&str> = model.jobs.keys().copied().collect();
        assert_eq!(names, expected, "the jobs that exist");
        assert_eq!(registry.len(), model.jobs.len());
        for job in real {
            let name = job.name().as_str();
            assert_eq!(
                seen_real(job, registry.policy()),
                seen_model(name, &model.jobs[name], &policy),
                "job '{name}'"
            );
            assert_eq!(job.check(registry.policy()), Ok(()));
        }
        let next = registry.next_deadline();
        assert_eq!(next.as_ref().map(|d| d.at), model.earliest_timer().map(|(at, _, _)| at), "next_deadline");
        if let Some(d) = next {
            let job = &model.jobs[d.job.as_str()];
            assert_eq!(timer_of(job, &policy), Some((d.at, d.timer)), "next_deadline's job and timer");
        }
    }
}

prop_state_machine! {
    #![proptest_config(config())]

    /// The registry and the reference model agree on every answer (events, timers, refusals with
    /// their code and rule, reads) and on every job's observable state after every step.
    #[test]
    fn model_and_registry_agree_on_every_answer_and_every_state(sequential STEPS => RegistryAgainstModel);
}

/// The generated histories reach every job state often: counts, over the default number of
/// histories, how many reach each state (and a cancelled job in it), and checks that none is
/// rare. Run with `--nocapture` to see the figures.
#[test]
fn generated_histories_reach_every_job_state() {
    let histories = cases(CASES);
    let strategy = LifecycleModel::sequential_strategy(STEPS);
    let mut runner = TestRunner::deterministic();
    let states: Vec<JobState> = JobState::iter().collect();
    let mut reached: BTreeMap<String, u32> = BTreeMap::new();
    let mut steps = 0usize;
    let mut refused = 0usize;
    for _ in 0..histories {
        let (mut model, transitions, _) = strategy.new_tree(&mut runner).unwrap().current();
        let mut seen = std::collections::BTreeSet::new();
        for step in &transitions {
            let now = model.moved(step.time);
            if step.op.job().and_then(|name| model.jobs.get(name)).is_some_and(|job| now < job.updated) {
                seen.insert("command earlier than its job's last instant".to_string());
            }
            model = model.step(step);
            steps += 1;
            if matches!(&model.expected, Expected::Command { result: Err(_), .. }) {
                refused += 1;
            }
            for job in model.jobs.values() {
                seen.insert(format!("{:?}", job.state));
                let cancelled = if job.cancel_requested { "cancelled" } else { "not cancelled" };
                seen.insert(format!("{:?}, {cancelled}", job.state));
                if job.package_overdue {
                    seen.insert("package overdue".to_string());
                }
                if timer_of(job, &model.policy).is_none()
                    && matches!(job.state, JobState::Creating | JobState::Completed | JobState::Closed)
                {
                    seen.insert("deadline beyond the time type".to_string());
                }
            }
            let fired = match &model.expected {
                Expected::Command { timers, .. }
                | Expected::Get { timers, .. }
                | Expected::List { timers, .. }
                | Expected::Timeout { timers } => timers.clone(),
                Expected::Nothing => Vec::new(),
            };
            for event in fired {
                seen.insert(format!("timer {:?}", event.timer().unwrap()));
                if event.at > model.clock {
                    seen.insert("timer fired at the job's own later instant".to_string());
                }
            }
        }
        for what in seen {
            *reached.entry(what).or_default() += 1;
        }
    }
    eprintln!("{histories} histories, {steps} steps, {refused} commands refused; histories reaching:");
    for (what, n) in &reached {
        eprintln!("  {what:<44} {n:>5} ({:.0}%)", f64::from(*n) * 100.0 / f64::from(histories));
    }
    for state in states {
        let n = reached.get(&format!("{state:?}")).copied().unwrap_or(0);
        assert!(n * 10 >= histories, "only {n} of {histories} histories reach {state:?}");
    }
}
