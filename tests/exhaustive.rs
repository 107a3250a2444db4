//! The exhaustive check: every reachable state of one job with up to three drives,
//! every operation in every state, every invariant on every state and every transition.
//!
//! # What is enumerated
//!
//! Four job shapes, each explored on its own, breadth first, from its `create` at a fixed
//! instant: an import job with drives `D1`; with `D1`, `D2`; with `D1`, `D2`, `D3`; and an export
//! job (its package may hold `E1`; `E1`, `E2`; or `E1`, `E2`, `E3`). A state is a whole
//! [`Registry`] holding that one job, or holding nothing once the job was removed (the *removed*
//! state, kept once per shape).
//!
//! In every state every operation is applied to a clone of the registry: `create` on the name
//! in use; `ship` with and without a carrier; `update` of each field alone (the drive list
//! replaced by the job's own), of every field but the drive list at once, and the malformed
//! updates (no field, a field twice, drives without `driveList`, an empty, a repeated and an
//! eleven-drive list); `cancel`; `delete`; `shipBack`; `packageReceived`
//! with every non-empty subset of an import job's drives (the three prefixes `E1`, `E1 E2`,
//! `E1 E2 E3` for an export job) and with the malformed packages (no drive, a drive twice, eleven
//! drives, and for an import job a drive it does not have: an export package may hold any id); `startTransfer`, `progress` of 0, 1 and `u64::MAX` bytes and
//! `finishTransfer` with both results, on every drive id of the job and on an unknown one
//! (`X9`); `get`; `list`; and `handle_timeout`. In the removed state the same commands (all of
//! which must answer `JobNotFound`), `get`, `list`, and a `create` that takes the name again.
//!
//! # How time is abstracted
//!
//! The rules look at instants only through the job's one pending deadline `D` (its state's
//! period after `stateEnteredAt`) and through R-CLOCK-1 (`max(now, updatedAt)`). So the instants
//! where something can change, relative to the job's last instant `u = updatedAt`, are tried in
//! every state: `u - 1h` (earlier than the job's history: R-CLOCK-1 says it must act exactly
//! as `u`, which is checked rather than explored), `u` (the same instant), `u + 1h` (a little
//! later), and, when a deadline is pending, `D - 1ns` and `D` (the timer fires first). The timer
//! itself is driven by `handle_timeout` at `D - 1ns` (nothing may happen), `D` (it fires) and
//! `D + 1h` (it fires, recorded at `D`).
//!
//! # The state key
//!
//! Two registries are the same abstract state when their jobs agree on everything but instants,
//! byte counts and the delivery package (their stages, the states they went through, are part
//! of the key: where a cancel came decides what the stored-form check accepts):
//!
//! - instants are replaced by the distance from `updatedAt` to the pending deadline, in three
//!   classes: no deadline, more than an hour away (the "a little later" instant is still before
//!   it), at most an hour away (after an accepted command at `D - 1ns`). No rule reads
//!   `createdAt` or `updatedAt` except through these relations, and `stateEnteredAt` only
//!   through `D`. The durations themselves are *not* abstracted away: in every state the
//!   deadline is checked against the spec's own periods (14, 14 and 90 days, written in this
//!   file, not read from `Policy`), so a wrong period fails even though the key ignores it.
//! - `bytesSucceeded` is abstracted to zero / non-zero / saturated (`u64::MAX`): with the
//!   amounts tried (0, 1, `u64::MAX`) acceptance depends only on that class (only `+0` fits a
//!   saturated drive, `+u64::MAX` fits only an empty one).
//! - the delivery package (carrier, tracking number) is read by no rule; both forms of `ship`
//!   are tried, and the state reached first stands for both.
//!
//! Each abstract state is explored from the first concrete registry that reached it; the
//! search is finite because states only move forward and the key has finitely many values.
//!
//! # What is checked
//!
//! Every check has a name ([`Check`]); a test per check asserts that it never failed, so a broken
//! rule fails the test named after it, with a shortest history (in abstract states) that breaks
//! it. The walk runs once per test binary (a `OnceLock`) and takes about 5 s of CPU in a debug
//! build.
//!
//! A model checker such as `stateright` would give the same breadth-first search, state count
//! and counterexample paths, but not more here: it dedupes states by their `Hash`, so the
//! abstraction above would still have to be written (as a wrapper around `Registry`), and its
//! properties are predicates on one state, so every transition property (pre-state against
//! post-state, refusal against the registry before) would have to be smuggled into the state.
//! The hand loop needs no dependency and checks transitions directly.
//!
//! # The stored-form check is complete (R-INPUT-3)
//!
//! Every job the walk reaches passes `Job::check` and its registry reads back from JSON. And
//! over a bounded domain (the four shapes' drive ids, up to three drives, every state, both
//! flags, every drive state, byte counts zero or not, every history of stages from `Creating`
//! to the job's state; drives taken as a multiset, since neither the rules nor the check tell
//! drives apart by position), the check accepts a job at some ordering of its instants (equal
//! or an hour apart, and the shipping and closing periods apart) with or without a delivery
//! package exactly when the walk reaches it, up to its instants: under the default policy, and
//! with up to two drives under each narrower cancel window.
//!
//! Not caught by this file: an input that makes the core loop forever (the walk hangs instead of
//! failing).

mod common;
use common::{drive, drives, name, removes, t0, timer_removes};

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::OnceLock;

use import_export_lifecycle::{
    Change, Command, DriveId, DriveState, Error, Event, Job, JobName, JobState, JobType, Policy, Registry,
    Rule, SignedDuration, Timer, Timestamp, TransferResult, UpdateField,
};
use serde::Deserialize as _;
use strum::IntoEnumIterator;

const HOUR: SignedDuration = SignedDuration::from_hours(1);
const NS: SignedDuration = SignedDuration::from_nanos(1);
const DAY_SECS: i64 = 86_400;
/// The spec's periods (docs/spec.md, "Time and boundaries"; R-TIMER-1, R-TIMER-2, R-TIMER-3).
const CREATING_EXPIRY: SignedDuration = SignedDuration::from_secs(14 * DAY_SECS);
const SHIPPING_EXPIRY: SignedDuration = SignedDuration::from_secs(14 * DAY_SECS);
/// R-TIMER-6: the operators wait 30 days after the package became overdue.
const OVERDUE_CLOSE: SignedDuration = SignedDuration::from_secs(30 * DAY_SECS);
const RETENTION: SignedDuration = SignedDuration::from_secs(90 * DAY_SECS);

/// The job shapes explored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    Import1,
    Import2,
    Import3,
    Export,
}

const SHAPES: [Shape; 4] = [Shape::Import1, Shape::Import2, Shape::Import3, Shape::Export];

impl Shape {
    fn job_type(self) -> JobType {
        match self {
            Shape::Import1 | Shape::Import2 | Shape::Import3 => JobType::Import,
            Shape::Export => JobType::Export,
        }
    }

    /// The drives named at creation.
    fn created_drives(self) -> Vec<DriveId> {
        match self {
            Shape::Import1 => drives(&["D1"]),
            Shape::Import2 => drives(&["D1", "D2"]),
            Shape::Import3 => drives(&["D1", "D2", "D3"]),
            Shape::Export => Vec::new(),
        }
    }

    /// The drive ids the job has or may come to have.
    fn own_drives(self) -> Vec<DriveId> {
        match self {
            Shape::Import1 | Shape::Import2 | Shape::Import3 => self.created_drives(),
            Shape::Export => drives(&["E1", "E2", "E3"]),
        }
    }

    /// Well-formed packages: every non-empty subset of an import job's drives; prefixes for
    /// an export job.
    fn packages(self) -> Vec<Vec<DriveId>> {
        let own = self.own_drives();
        match self.job_type() {
            JobType::Import => (1u32..(1 << own.len()))
                .map(|mask| {
                    own.iter()
                        .enumerate()
                        .filter(|(i, _)| mask & (1 << i) != 0)
                        .map(|(_, d)| d.clone())
                        .collect()
                })
                .collect(),
            JobType::Export => (1..=own.len()).map(|n| own[..n].to_vec()).collect(),
        }
    }

    fn create(self, job: &JobName) -> Command {
        Command::Create { job: job.clone(), job_type: self.job_type(), drives: self.created_drives() }
    }
}

/// Every command tried in every state, on the job `job` of shape `shape`.
fn commands(shape: Shape, job: &JobName) -> Vec<Command> {
    let job = job.clone();
    let own = shape.own_drives();
    let mut out = vec![
        shape.create(&job),
        Command::Ship {
            job: job.clone(),
            carrier: Some("FedEx".into()),
            tracking_number: Some("1Z9".into()),
        },
        Command::Ship { job: job.clone(), carrier: None, tracking_number: None },
        Command::Cancel { job: job.clone() },
        Command::Delete { job: job.clone() },
        Command::ShipBack { job: job.clone() },
    ];
    // Updates: each field alone (the drive list replaced by the job's own, so the walk stays on
    // the shapes above), every field but the drive list at once, and the malformed ones.
    let update = |fields: &[UpdateField], drives: Vec<DriveId>| Command::Update {
        job: job.clone(),
        fields: fields.to_vec(),
        drives,
        delivery_package: None,
    };
    for field in UpdateField::iter() {
        let given = if field == UpdateField::DriveList { own.clone() } else { Vec::new() };
        out.push(update(&[field], given));
    }
    let all_but_drives: Vec<UpdateField> =
        UpdateField::iter().filter(|f| *f != UpdateField::DriveList).collect();
    out.push(update(&all_but_drives, Vec::new()));
    out.push(update(&[], Vec::new()));
    out.push(update(&[UpdateField::Tags, UpdateField::Tags], Vec::new()));
    out.push(update(&[UpdateField::Tags], own.clone()));
    out.push(update(&[UpdateField::DriveList], Vec::new()));
    out.push(update(&[UpdateField::DriveList], vec![own[0].clone(), own[0].clone()]));
    out.push(update(&[UpdateField::DriveList], (1..=11).map(|i| drive(&format!("P{i}"))).collect()));
    let mut packages = shape.packages();
    match shape.job_type() {
        // For an import job a package naming a drive the job does not have is malformed; for
        // an export job it is a well-formed package like the prefixes, so it is left out.
        JobType::Import => {
            packages.push(drives(&["X9"]));
            packages.push(vec![own[0].clone(), drive("X9")]);
        }
        JobType::Export => {}
    }
    packages.push(Vec::new());
    packages.push(vec![own[0].clone(), own[0].clone()]);
    packages.push((1..=11).map(|i| drive(&format!("P{i}"))).collect());
    for package in packages {
        out.push(Command::PackageReceived { job: job.clone(), drives: package });
    }
    for id in own.iter().chain(std::iter::once(&drive("X9"))) {
        out.push(Command::StartTransfer { job: job.clone(), drive: id.clone() });
        for bytes in [0, 1, u64::MAX] {
            out.push(Command::Progress { job: job.clone(), drive: id.clone(), bytes });
        }
        for result in TransferResult::iter() {
            out.push(Command::FinishTransfer { job: job.clone(), drive: id.clone(), result });
        }
    }
    out
}

/// The properties checked; each has its own test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Check {
    /// `Job::check` under the run's policy on every state reached and after every transition.
    JobInvariants,
    /// R-FLOW-7: `JobState::step` never decreases (commands and timers).
    ForwardOnly,
    /// R-REFUSE-1: a refused command leaves the registry as the due timers left it.
    RefusalChangesNothing,
    /// R-CANCEL-1/2: a cancel is accepted iff the job is in Creating, Shipping, Received or
    /// Transferring; refused in Packaging, Completed, Closed by R-CANCEL-2.
    CancelWindow,
    /// R-DELETE-1/2: a delete is accepted iff Creating, Completed, Closed, and removes the job.
    DeleteWindow,
    /// R-CANCEL-7: no transfer starts on a job with `cancelRequested`, and the refusal names
    /// R-CANCEL-7.
    NoStartAfterCancel,
    /// R-CANCEL-4/8/9: a cancelled job in a terminal state is Completed; a cancel in Creating
    /// completes the job at once.
    CancelledEndsCompleted,
    /// `cancelRequested` is set only by an accepted cancel and never cleared.
    CancelFlag,
    /// R-CANCEL-3/6: a cancel changes no drive (copying drives keep copying), a repeated cancel
    /// changes nothing but `updatedAt`, and a cancelled job's copying drive still reports
    /// progress and finishes.
    CopyingContinues,
    /// `bytesSucceeded` of a drive never decreases.
    BytesNeverDecrease,
    /// R-GONE-1/2: a removed job answers JobNotFound to everything; its name takes a new job
    /// equal to a fresh one.
    RemovedIsGone,
    /// R-EVENT-1: the events an execute produced (timers, then the command's) re-apply to the
    /// pre-state and give the same registry; a log that skips a due timer is refused.
    EventsReapply,
    /// `Job::capabilities` agrees with what `decide` accepts; `decide` agrees with `execute`.
    CapabilitiesAgree,
    /// R-UPDATE-1..6: an update is accepted exactly when every field it names may change in the
    /// job's state (the spec's table, written in this file); a refusal names the first field
    /// refused, the state and the rule; an accepted one never moves the job and replaces the
    /// drive list only when it names it.
    UpdateFields,
    /// R-UPDATE-7: an update accepted in Creating moves the Creating deadline to its instant plus
    /// 14 days; elsewhere an update leaves the deadline where it was.
    UpdateRestartsCreatingClock,
    /// R-STAGE-1: the stages grow by the state entered, at its instant, exactly when the state
    /// changes, and never otherwise.
    Stages,
    /// R-TIMER-1..4: deadlines are the spec's periods after `stateEnteredAt`, the job is
    /// unchanged at `D - 1ns`, the timer fires at `D` and is recorded at `D`.
    Deadlines,
    /// R-CLOCK-1: a command at an instant earlier than the job's last acts exactly as at the last
    /// instant, and no event is recorded before the job's last instant.
    EarlierInstant,
    /// R-INPUT-3: every job reached, at the instants it was reached at, passes `Job::check`
    /// under the policy, and survives its own JSON (the stored form refuses nothing reachable).
    ReachableIsAccepted,
}

/// How a state was reached, for counterexamples.
enum Trace {
    Start(Shape),
    Step(Rc<Trace>, String),
}

fn show(trace: &Trace) -> String {
    match trace {
        Trace::Start(shape) => format!("create {shape:?} at t0"),
        Trace::Step(before, step) => format!("{} → {step}", show(before)),
    }
}

fn offset(at: Timestamp) -> String {
    let d = at.duration_since(t0());
    let sign = if d.is_negative() { "-" } else { "+" };
    let d = d.abs();
    let secs = d.as_secs();
    let parts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3600, "h"),
        (secs % 3600, "s"),
        (i64::from(d.subsec_nanos()), "ns"),
    ];
    let mut s = String::from("t0");
    if !d.is_zero() {
        s.push_str(sign);
        for (n, unit) in parts {
            if n != 0 {
                let _ = write!(s, "{n}{unit}");
            }
        }
    }
    s
}

fn describe(command: &Command) -> String {
    match command {
        Command::Create { job_type, drives, .. } => format!("create {job_type} {drives:?}"),
        Command::Ship { carrier, .. } => format!("ship (carrier {carrier:?})"),
        Command::Update { fields, drives, .. } => format!("update {fields:?} {drives:?}"),
        Command::Cancel { .. } => "cancel".into(),
        Command::Delete { .. } => "delete".into(),
        Command::ShipBack { .. } => "shipBack".into(),
        Command::PackageReceived { drives, .. } => format!("packageReceived {drives:?}"),
        Command::StartTransfer { drive, .. } => format!("startTransfer {drive}"),
        Command::Progress { drive, bytes, .. } => format!("progress {drive} {bytes}"),
        Command::FinishTransfer { drive, result, .. } => format!("finishTransfer {drive} {result}"),
    }
}

/// The abstract state key (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Removed,
    Job {
        state: JobState,
        cancel_requested: bool,
        package_overdue: bool,
        drives: Vec<(DriveId, DriveState, Bytes)>,
        /// The states the job went through: which one a cancel came in decides what the
        /// stored-form check accepts (R-INPUT-3).
        stages: Vec<JobState>,
        deadline: Due,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Bytes {
    Zero,
    Some,
    Saturated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Due {
    None,
    Far,
    WithinAnHour,
}

fn key(registry: &Registry, policy: &Policy) -> Key {
    let Some(job) = registry.iter().next() else { return Key::Removed };
    let deadline = match job.next_deadline(policy) {
        None => Due::None,
        Some(d) if d.at.duration_since(job.updated_at()) > HOUR => Due::Far,
        Some(_) => Due::WithinAnHour,
    };
    Key::Job {
        state: job.state(),
        cancel_requested: job.cancel_requested(),
        package_overdue: job.package_overdue(),
        stages: job.stages().iter().map(|s| s.stage_name).collect(),
        drives: job
            .drive_list()
            .iter()
            .map(|d| {
                let bytes = match d.bytes_succeeded {
                    0 => Bytes::Zero,
                    u64::MAX => Bytes::Saturated,
                    _ => Bytes::Some,
                };
                (d.drive_id.clone(), d.state, bytes)
            })
            .collect(),
        deadline,
    }
}

/// A job's JSON form without `updatedAt`.
fn without_updated_at(job: &Job) -> serde_json::Value {
    let mut value = serde_json::to_value(job).unwrap();
    value.as_object_mut().unwrap().remove("updatedAt");
    value
}

/// The state an event says its job is in afterwards, for the events that carry one.
fn event_state(event: &Event) -> Option<JobState> {
    match &event.change {
        Change::CancelRequested { state }
        | Change::PackageReceived { state, .. }
        | Change::TransferStarted { state, .. }
        | Change::TransferFinished { state, .. }
        | Change::ShippedBack { state }
        | Change::NeverReceived { state } => Some(*state),
        Change::OverdueClosed => Some(JobState::Closed),
        Change::Created { .. }
        | Change::Shipped { .. }
        | Change::Updated { .. }
        | Change::Deleted
        | Change::TransferProgressed { .. }
        | Change::CreatingExpired
        | Change::RetentionExpired => None,
    }
}

/// The state in the per-state table: a job state, or removed.
fn row(registry: &Registry) -> Option<JobState> {
    registry.iter().next().map(Job::state)
}

/// What the exploration of one shape found.
#[derive(Default)]
struct ShapeReport {
    /// Every job reached (visited or as a successor), up to its instants (see `Reached`).
    reached: HashSet<Reached>,
    states: usize,
    transitions: usize,
    per_state: BTreeMap<Option<JobState>, usize>,
}

/// What the whole exploration found.
#[derive(Default)]
struct Report {
    shapes: BTreeMap<Shape, ShapeReport>,
    /// For each check, how often it failed and the first few failures.
    violations: BTreeMap<Check, (usize, Vec<String>)>,
}

struct Explorer<'a> {
    policy: Policy,
    job: JobName,
    shape: Shape,
    report: &'a mut Report,
    transitions: usize,
}

struct Node {
    registry: Registry,
    trace: Rc<Trace>,
    /// The instant the job was removed (for the removed state).
    removed_at: Timestamp,
}

impl Explorer<'_> {
    fn fail(&mut self, check: Check, trace: &Trace, what: String) {
        let entry = self.report.violations.entry(check).or_default();
        entry.0 += 1;
        if entry.1.len() < 5 {
            entry.1.push(format!("{what}\n      after: {}", show(trace)));
        }
    }

    fn ensure(&mut self, check: Check, ok: bool, trace: &Trace, what: impl FnOnce() -> String) {
        if !ok {
            self.fail(check, trace, what());
        }
    }

    fn explore(&mut self) {
        let mut start = Registry::new(self.policy);
        let created = start.execute(t0(), &self.shape.create(&self.job));
        assert!(created.result.is_ok(), "{:?}", created.result);
        let mut seen: HashSet<Key> = HashSet::new();
        let mut queue = VecDeque::new();
        seen.insert(key(&start, &self.policy));
        queue.push_back(Node { registry: start, trace: Rc::new(Trace::Start(self.shape)), removed_at: t0() });
        let mut report = ShapeReport::default();
        while let Some(node) = queue.pop_front() {
            report.states += 1;
            // The stored form of every state reached reads back, checked, as the same registry.
            let stored = serde_json::to_string(&node.registry)
                .map_err(|e| e.to_string())
                .and_then(|text| serde_json::from_str::<Registry>(&text).map_err(|e| e.to_string()));
            self.ensure(
                Check::ReachableIsAccepted,
                stored.as_ref() == Ok(&node.registry),
                &node.trace,
                || format!("the stored form does not read back: {:?}", stored.err()),
            );
            *report.per_state.entry(row(&node.registry)).or_default() += 1;
            let successors = match node.registry.iter().next() {
                Some(_) => self.visit_job(&node),
                None => self.visit_removed(&node),
            };
            for (next, step, removed_at) in successors {
                if let Some(job) = next.iter().next() {
                    report.reached.insert(reached(job));
                    let checked = job.check(&self.policy);
                    self.ensure(Check::ReachableIsAccepted, checked.is_ok(), &node.trace, || {
                        format!("{step}: reached {job:?}, refused: {checked:?}")
                    });
                }
                let k = key(&next, &self.policy);
                if seen.insert(k) {
                    let trace = Rc::new(Trace::Step(node.trace.clone(), step));
                    queue.push_back(Node { registry: next, trace, removed_at });
                }
            }
        }
        report.transitions = self.transitions;
        self.report.shapes.insert(self.shape, report);
    }

    /// The removed state: every command answers JobNotFound, reads show nothing, and the name
    /// takes a new job equal to a fresh one.
    fn visit_removed(&mut self, node: &Node) -> Vec<(Registry, String, Timestamp)> {
        let trace = &*node.trace;
        let empty = Registry::new(self.policy);
        self.ensure(Check::RemovedIsGone, node.registry == empty, trace, || {
            format!("a removed job left something behind: {:?}", node.registry)
        });
        for now in [node.removed_at - HOUR, node.removed_at, node.removed_at + HOUR] {
            for command in commands(self.shape, &self.job) {
                self.transitions += 1;
                let mut after = node.registry.clone();
                let out = after.execute(now, &command);
                if let Command::Create { .. } = command {
                    let mut fresh = Registry::new(self.policy);
                    let expected = fresh.execute(now, &command);
                    self.ensure(Check::RemovedIsGone, out == expected && after == fresh, trace, || {
                        format!("{} at {}: the new job is not a fresh one", describe(&command), offset(now))
                    });
                    continue;
                }
                let gone = matches!(&out.result, Err(Error::JobNotFound { job, .. }) if *job == self.job);
                self.ensure(
                    Check::RemovedIsGone,
                    gone && out.timers.is_empty() && after == node.registry,
                    trace,
                    || format!("{} at {} on a removed job: {:?}", describe(&command), offset(now), out),
                );
            }
            self.transitions += 3;
            let mut after = node.registry.clone();
            let got = after.get(now, &self.job).result.cloned();
            let listed = after.list(now).result.map(|jobs| jobs.len());
            let fired = after.handle_timeout(now);
            self.ensure(
                Check::RemovedIsGone,
                matches!(got, Err(Error::JobNotFound { .. })) && listed == Ok(0) && fired.is_empty(),
                trace,
                || format!("reads at {} on a removed job: {got:?} {listed:?} {fired:?}", offset(now)),
            );
        }
        Vec::new()
    }

    /// A state with the job: check the state, then every operation at every instant.
    fn visit_job(&mut self, node: &Node) -> Vec<(Registry, String, Timestamp)> {
        let trace = &*node.trace;
        let registry = &node.registry;
        let job = registry.iter().next().expect("a job").clone();
        self.check_state(trace, registry, &job);
        let mut successors = Vec::new();
        let u = job.updated_at();
        let deadline = job.next_deadline(&self.policy);
        let mut instants = vec![u, u + HOUR];
        if let Some(d) = &deadline {
            instants.extend([d.at - NS, d.at]);
        }
        instants.sort();
        instants.dedup();
        for &now in &instants {
            self.transitions += self.visit_instant(node, &job, now, &mut successors);
        }
        // The timer, driven by the host.
        if let Some(d) = deadline {
            self.transitions += 3;
            let mut before = registry.clone();
            let early = before.handle_timeout(d.at - NS);
            let visible = before.get(d.at - NS, &self.job).result.cloned();
            self.ensure(
                Check::Deadlines,
                early.is_empty() && before == *registry && visible.as_ref() == Ok(&job),
                trace,
                || format!("at D - 1ns ({}) the job is not visible unchanged: {early:?}", offset(d.at - NS)),
            );
            let mut at = registry.clone();
            let fired = at.handle_timeout(d.at);
            let mut late = registry.clone();
            let fired_late = late.handle_timeout(d.at + HOUR);
            self.ensure(
                Check::Deadlines,
                fired.len() == 1 && fired[0].at == d.at && fired[0].timer() == Some(d.timer),
                trace,
                || {
                    format!(
                        "handle_timeout at D = {} fired {fired:?}, expected one {}",
                        offset(d.at),
                        d.timer
                    )
                },
            );
            self.ensure(Check::Deadlines, fired_late == fired && late == at, trace, || {
                format!("a timer noticed an hour late was not recorded at its deadline: {fired_late:?}")
            });
            let removes = timer_removes(d.timer);
            let remaining = at.peek(self.job.as_str()).cloned();
            self.ensure(Check::Deadlines, removes == remaining.is_none(), trace, || {
                format!("{} fired; job afterwards: {remaining:?}", d.timer)
            });
            self.check_transition(trace, "handle_timeout at D", &job, &at, &fired);
            let mut replayed = registry.clone();
            let reapplied = fired.iter().all(|e| replayed.apply(e).is_ok());
            self.ensure(Check::EventsReapply, reapplied && replayed == at, trace, || {
                format!("the timer events {fired:?} do not re-apply to the same registry")
            });
            successors.push((at, format!("timer {} at {}", d.timer, offset(d.at)), d.at));
        }
        successors
    }

    /// Every command, `get` and `list` at `now`; returns how many transitions were tried.
    fn visit_instant(
        &mut self,
        node: &Node,
        job: &Job,
        now: Timestamp,
        successors: &mut Vec<(Registry, String, Timestamp)>,
    ) -> usize {
        let trace = &*node.trace;
        let registry = &node.registry;
        let mut tried = 0;
        // The registry once the due timers fired: what every input at `now` acts on.
        let mut base = registry.clone();
        let fired = base.handle_timeout(now.max(job.updated_at()));
        let current = base.peek(self.job.as_str()).cloned();
        if let Some(current) = &current {
            let at = now.max(current.updated_at());
            self.check_capabilities(trace, &base, current, at);
        }
        for command in commands(self.shape, &self.job) {
            tried += 1;
            let mut after = registry.clone();
            let out = after.execute(now, &command);
            let step = format!("{} at {}", describe(&command), offset(now));
            self.ensure(Check::Deadlines, out.timers == fired, trace, || {
                format!("{step}: the timers applied first were {:?}, expected {fired:?}", out.timers)
            });
            let decided = base.decide(now, &command);
            self.ensure(Check::CapabilitiesAgree, decided.result == out.result, trace, || {
                format!("{step}: decide says {decided:?}, execute did {:?}", out.result)
            });
            self.check_command(trace, &step, &command, current.as_ref(), &base, &after, &out.result, now);
            if let Ok(event) = &out.result {
                self.check_replay(trace, &step, registry, &fired, event, &after);
            }
            self.check_transition(trace, &step, job, &after, &out.timers);
            // R-CLOCK-1: an hour before the job's last instant acts exactly as the last instant.
            if now == job.updated_at() {
                tried += 1;
                let mut earlier = registry.clone();
                let early = earlier.execute(now - HOUR, &command);
                self.ensure(Check::EarlierInstant, early == out && earlier == after, trace, || {
                    format!("{step}: an hour earlier gave {:?}, at the last instant {:?}", early, out)
                });
            }
            if out.result.is_ok() || !out.timers.is_empty() {
                let last = out.timers.iter().chain(out.result.as_ref().ok()).map(|e| e.at).max();
                let removed_at = last.unwrap_or(now);
                successors.push((after, step, removed_at));
            }
        }
        // Reads change nothing but the due timers.
        tried += 2;
        let mut read = registry.clone();
        let got = read.get(now, &self.job);
        let (got_timers, got) = (got.timers, got.result.cloned());
        let listed = read.list(now).result.map(|jobs| jobs.into_iter().cloned().collect::<Vec<_>>());
        let expected: Result<Job, ()> = current.clone().ok_or(());
        self.ensure(
            Check::RefusalChangesNothing,
            read == base
                && got_timers == fired
                && got.as_ref().map_err(|_| ()) == expected.as_ref().map_err(|_| ())
                && listed.as_ref().ok() == Some(&current.iter().cloned().collect::<Vec<_>>()),
            trace,
            || format!("get/list at {} changed something or showed the wrong job: {got:?}", offset(now)),
        );
        if current.is_none() {
            self.ensure(Check::RemovedIsGone, matches!(got, Err(Error::JobNotFound { .. })), trace, || {
                format!("get at {} of a removed job answered {got:?}", offset(now))
            });
        }
        tried
    }

    /// Checks on one state.
    fn check_state(&mut self, trace: &Trace, registry: &Registry, job: &Job) {
        if let Err(e) = job.check(registry.policy()) {
            self.fail(Check::JobInvariants, trace, format!("state: {e}: {job:?}"));
        }
        let deadline = job.next_deadline(&self.policy);
        // The Creating clock counts from the job's last accepted update (or its creation): in
        // Creating the only events that keep the job there are updates, so that is `updatedAt`
        // (R-UPDATE-7, checked on its own by `UpdateRestartsCreatingClock`). The operators' close
        // counts from the end of the shipping period (R-TIMER-6).
        let (expected, from) = match job.state() {
            JobState::Creating => (Some((Timer::CreatingExpired, CREATING_EXPIRY)), job.updated_at()),
            JobState::Shipping if !job.package_overdue() => {
                (Some((Timer::NeverReceived, SHIPPING_EXPIRY)), job.state_entered_at())
            }
            JobState::Shipping => {
                (Some((Timer::OverdueClosed, SHIPPING_EXPIRY + OVERDUE_CLOSE)), job.state_entered_at())
            }
            JobState::Completed | JobState::Closed => {
                (Some((Timer::RetentionExpired, RETENTION)), job.state_entered_at())
            }
            JobState::Received | JobState::Transferring | JobState::Packaging => {
                (None, job.state_entered_at())
            }
        };
        let actual = deadline.as_ref().map(|d| (d.timer, d.at.duration_since(from)));
        self.ensure(Check::Deadlines, actual == expected, trace, || {
            format!("job in {} has deadline {actual:?}, the spec says {expected:?}", job.state())
        });
        self.ensure(Check::Deadlines, registry.next_deadline() == deadline, trace, || {
            format!(
                "Registry::next_deadline {:?} differs from the job's {deadline:?}",
                registry.next_deadline()
            )
        });
        if let Some(d) = &deadline {
            self.ensure(Check::Deadlines, d.at > job.updated_at(), trace, || {
                format!("the pending deadline {} is not after the job's last instant", offset(d.at))
            });
        }
    }

    /// Capabilities at `at` agree with what `decide` accepts there.
    fn check_capabilities(&mut self, trace: &Trace, base: &Registry, job: &Job, at: Timestamp) {
        let caps = job.capabilities(&self.policy);
        let name = self.job.clone();
        let accepts = |command: Command| base.decide(at, &command).result.is_ok();
        let cancel = accepts(Command::Cancel { job: name.clone() });
        let delete = accepts(Command::Delete { job: name.clone() });
        let ship = accepts(Command::Ship { job: name.clone(), carrier: None, tracking_number: None });
        // R-UPDATE-8: each field's flag is what a one-field update would answer, and each field
        // refused names the rule the refusal names.
        for field in UpdateField::iter() {
            let drives = if field == UpdateField::DriveList { self.shape.own_drives() } else { Vec::new() };
            let answer = base
                .decide(
                    at,
                    &Command::Update {
                        job: name.clone(),
                        fields: vec![field],
                        drives,
                        delivery_package: None,
                    },
                )
                .result;
            let listed = caps.updatable_fields.contains(&field);
            let why = caps.refused_by.get(&field.to_string()).copied();
            let ok = match &answer {
                Ok(_) => listed && why.is_none(),
                Err(Error::UpdateNotAllowed { rule, .. }) => !listed && why == Some(*rule),
                Err(_) => false,
            };
            self.ensure(Check::CapabilitiesAgree, ok, trace, || {
                format!("capabilities say {field} {listed} ({why:?}), an update answers {answer:?}")
            });
        }
        let address = caps.refused_by.get("isShippingAddressEditable").copied();
        self.ensure(
            Check::CapabilitiesAgree,
            caps.is_shipping_address_editable == caps.updatable_fields.contains(&UpdateField::ReturnAddress)
                && caps.is_shipping_address_editable == address.is_none(),
            trace,
            || format!("isShippingAddressEditable disagrees with returnAddress: {caps:?}"),
        );
        self.ensure(
            Check::CapabilitiesAgree,
            (caps.is_cancellable, caps.is_deletable, caps.is_shippable) == (cancel, delete, ship)
                && caps.next_deadline == job.next_deadline(&self.policy),
            trace,
            || format!("capabilities {caps:?}, decide accepts cancel {cancel}, delete {delete}, ship {ship}"),
        );
    }

    /// Checks tied to the command that was tried. `before` is the job once the due timers
    /// fired (`None` if a timer removed it), `base` that registry, `after` the registry after.
    #[allow(clippy::too_many_arguments)]
    fn check_command(
        &mut self,
        trace: &Trace,
        step: &str,
        command: &Command,
        before: Option<&Job>,
        base: &Registry,
        after: &Registry,
        result: &Result<Event, Error>,
        now: Timestamp,
    ) {
        let post = after.peek(self.job.as_str());
        let Some(before) = before else {
            let gone = matches!(result, Err(Error::JobNotFound { .. }));
            let created = matches!(command, Command::Create { .. }) && result.is_ok();
            self.ensure(Check::RemovedIsGone, gone || created, trace, || {
                format!("{step}: after the timer removed the job the command answered {result:?}")
            });
            return;
        };
        if let Err(e) = result {
            self.ensure(Check::RefusalChangesNothing, after == base, trace, || {
                format!("{step}: refused with {e} but the registry changed: {post:?}")
            });
        }
        if let Ok(event) = result {
            self.ensure(Check::EarlierInstant, event.at == now.max(before.updated_at()), trace, || {
                format!(
                    "{step}: event recorded at {}, job's last instant {}",
                    offset(event.at),
                    offset(before.updated_at())
                )
            });
        }
        let state = before.state();
        match command {
            Command::Cancel { .. } => {
                let window = matches!(
                    state,
                    JobState::Creating | JobState::Shipping | JobState::Received | JobState::Transferring
                );
                let ok = match result {
                    Ok(_) => window && post.is_some_and(Job::cancel_requested),
                    Err(Error::CancelNotAllowed { rule: Rule::Cancel2, state: s, .. }) => {
                        !window && *s == state
                    }
                    Err(_) => false,
                };
                self.ensure(Check::CancelWindow, ok, trace, || {
                    format!("{step}: cancel in {state} answered {result:?}")
                });
                if let (Ok(_), Some(post)) = (result, post) {
                    let same_drives = post.drive_list() == before.drive_list();
                    let repeat_changes_nothing =
                        !before.cancel_requested() || without_updated_at(post) == without_updated_at(before);
                    self.ensure(
                        Check::CopyingContinues,
                        same_drives && repeat_changes_nothing,
                        trace,
                        || format!("{step}: the cancel changed {before:?} into {post:?}"),
                    );
                }
                if result.is_ok() && state == JobState::Creating {
                    self.ensure(
                        Check::CancelledEndsCompleted,
                        post.map(Job::state) == Some(JobState::Completed),
                        trace,
                        || {
                            format!(
                                "{step}: a cancel in Creating left the job in {:?} (R-CANCEL-4)",
                                post.map(Job::state)
                            )
                        },
                    );
                }
            }
            Command::Delete { .. } => {
                let window = matches!(state, JobState::Creating | JobState::Completed | JobState::Closed);
                let ok = match result {
                    Ok(_) => window && post.is_none(),
                    Err(Error::DeleteNotAllowed { rule: Rule::Delete2, state: s, .. }) => {
                        !window && *s == state
                    }
                    Err(_) => false,
                };
                self.ensure(Check::DeleteWindow, ok, trace, || {
                    format!("{step}: delete in {state} answered {result:?}")
                });
            }
            Command::StartTransfer { drive, .. } => {
                if before.cancel_requested() {
                    // A drive waiting to be copied in a job that copies is refused only because
                    // of the cancel, and the refusal says so.
                    let waiting =
                        before.drive(drive.as_str()).is_some_and(|d| d.state == DriveState::Received)
                            && matches!(state, JobState::Received | JobState::Transferring);
                    let ok = match result {
                        Ok(_) => false,
                        Err(e) => !waiting || e.rule() == Rule::Cancel7,
                    };
                    self.ensure(Check::NoStartAfterCancel, ok, trace, || {
                        format!("{step}: startTransfer on a cancelled job in {state} answered {result:?}")
                    });
                }
            }
            Command::Create { .. } => {
                self.ensure(
                    Check::RefusalChangesNothing,
                    matches!(result, Err(Error::JobAlreadyExists { state: s, .. }) if *s == state),
                    trace,
                    || format!("{step}: create on a name in use answered {result:?}"),
                );
            }
            Command::Progress { drive, bytes, .. } => {
                let copying = before.drive(drive.as_str()).filter(|d| d.state == DriveState::Transferring);
                if let (true, Some(d)) = (before.cancel_requested(), copying) {
                    let fits = d.bytes_succeeded.checked_add(*bytes);
                    let counted = post.and_then(|p| p.drive(drive.as_str())).map(|p| p.bytes_succeeded);
                    self.ensure(
                        Check::CopyingContinues,
                        result.is_ok() == fits.is_some() && (fits.is_none() || counted == fits),
                        trace,
                        || {
                            format!(
                                "{step}: progress on a drive copying in a cancelled job answered {result:?}"
                            )
                        },
                    );
                }
            }
            Command::FinishTransfer { drive, .. } => {
                let copying =
                    before.drive(drive.as_str()).is_some_and(|d| d.state == DriveState::Transferring);
                if before.cancel_requested() && copying {
                    self.ensure(Check::CopyingContinues, result.is_ok(), trace, || {
                        format!("{step}: finishing a drive copying in a cancelled job answered {result:?}")
                    });
                }
            }
            Command::Update { fields, drives, .. } => {
                self.check_update(step, trace, before, post, fields, drives, result)
            }
            Command::Ship { .. } | Command::ShipBack { .. } | Command::PackageReceived { .. } => {}
        }
        if let (Ok(_), false, Some(post)) = (result, matches!(command, Command::Cancel { .. }), post) {
            self.ensure(
                Check::CancelFlag,
                post.cancel_requested() == before.cancel_requested(),
                trace,
                || {
                    format!(
                        "{step}: cancelRequested went from {} to {}",
                        before.cancel_requested(),
                        post.cancel_requested()
                    )
                },
            );
        }
        if let (Ok(event), Some(post)) = (result, post) {
            let carried = event_state(event);
            self.ensure(Check::EventsReapply, carried.is_none_or(|s| s == post.state()), trace, || {
                format!("{step}: the event says the job is in {carried:?}, the job is in {}", post.state())
            });
        }
    }

    /// R-UPDATE-1..7 on one update tried on `before`.
    #[allow(clippy::too_many_arguments)]
    fn check_update(
        &mut self,
        step: &str,
        trace: &Trace,
        before: &Job,
        post: Option<&Job>,
        fields: &[UpdateField],
        drives: &[DriveId],
        result: &Result<Event, Error>,
    ) {
        use JobState::{Closed, Completed, Creating, Packaging, Received, Shipping, Transferring};
        let state = before.state();
        // The spec's table (R-UPDATE-1 to R-UPDATE-5), written out here.
        let allowed = |field: UpdateField| -> Result<(), Rule> {
            let (states, rule): (&[JobState], Rule) = match field {
                UpdateField::ReturnAddress | UpdateField::ReturnShipping => {
                    (&[Creating, Shipping, Received, Transferring], Rule::Update1)
                }
                UpdateField::DeliveryPackage => (&[Creating, Shipping], Rule::Update2),
                UpdateField::LogLevel | UpdateField::BackupDriveManifest => {
                    (&[Creating, Shipping, Received], Rule::Update3)
                }
                UpdateField::DriveList if self.shape.job_type() == JobType::Import => {
                    (&[Creating], Rule::Update4)
                }
                UpdateField::DriveList => (&[], Rule::Update4),
                UpdateField::Tags => (
                    &[Creating, Shipping, Received, Transferring, Packaging, Completed, Closed],
                    Rule::Update5,
                ),
            };
            if states.contains(&state) { Ok(()) } else { Err(rule) }
        };
        let duplicate = fields.iter().enumerate().any(|(i, f)| fields[..i].contains(f));
        let first_refused = fields.iter().find_map(|f| allowed(*f).err().map(|rule| (*f, rule)));
        let names_drives = fields.contains(&UpdateField::DriveList);
        let well_formed_drives = if names_drives {
            !drives.is_empty()
                && drives.len() <= 10
                && !drives.iter().enumerate().any(|(i, d)| drives[..i].contains(d))
        } else {
            drives.is_empty()
        };
        let ok = match (result, first_refused) {
            _ if fields.is_empty() || duplicate => {
                matches!(result, Err(Error::InvalidRequest { .. }))
                    && result.as_ref().err().map(Error::rule) == Some(Rule::Update6)
            }
            (Err(Error::UpdateNotAllowed { field, state: s, rule, .. }), Some((f, r))) => {
                (*field, *s, *rule) == (f, state, r)
            }
            (Err(Error::InvalidRequest { .. }), None) => !well_formed_drives,
            (Ok(_), None) => {
                well_formed_drives
                    && post.is_some_and(|p| {
                        let drives_now: Vec<&DriveId> = p.drive_list().iter().map(|d| &d.drive_id).collect();
                        let expected: Vec<&DriveId> = if names_drives {
                            drives.iter().collect()
                        } else {
                            before.drive_list().iter().map(|d| &d.drive_id).collect()
                        };
                        p.state() == state
                            && p.cancel_requested() == before.cancel_requested()
                            && drives_now == expected
                    })
            }
            _ => false,
        };
        self.ensure(Check::UpdateFields, ok, trace, || format!("{step}: in {state} answered {result:?}"));
        if let (Ok(event), Some(post)) = (result, post) {
            let expected = if state == Creating {
                event.at.checked_add(CREATING_EXPIRY).ok()
            } else {
                before.next_deadline(&self.policy).map(|d| d.at)
            };
            let now = post.next_deadline(&self.policy).map(|d| d.at);
            self.ensure(Check::UpdateRestartsCreatingClock, now == expected, trace, || {
                format!("{step}: the deadline is {now:?} after an update in {state}, expected {expected:?}")
            });
        }
    }

    /// The events of an execute re-apply to the pre-state and give the same registry; without
    /// the timer events the command's event is refused and changes nothing.
    fn check_replay(
        &mut self,
        trace: &Trace,
        step: &str,
        pre: &Registry,
        fired: &[Event],
        event: &Event,
        after: &Registry,
    ) {
        let mut replayed = pre.clone();
        let timers_ok = fired.iter().all(|e| replayed.apply(e).is_ok());
        let applied = replayed.apply(event);
        self.ensure(Check::EventsReapply, timers_ok && applied.is_ok() && replayed == *after, trace, || {
            format!("{step}: re-applying {fired:?} then {event:?} gave {applied:?}")
        });
        if !fired.is_empty() {
            let mut skipped = pre.clone();
            let refused = skipped.apply(event);
            self.ensure(Check::EventsReapply, refused.is_err() && skipped == *pre, trace, || {
                format!("{step}: {event:?} applied without the due timers {fired:?}: {refused:?}")
            });
        }
    }

    /// Checks between the job before any timer (`job`) and the registry after the transition.
    fn check_transition(&mut self, trace: &Trace, step: &str, job: &Job, after: &Registry, timers: &[Event]) {
        let Some(post) = after.peek(self.job.as_str()) else { return };
        if let Err(e) = post.check(after.policy()) {
            self.fail(Check::JobInvariants, trace, format!("{step}: {e}: {post:?}"));
        }
        // A job removed by a timer and created again is a new job: nothing to compare.
        if timers.iter().any(removes) {
            return;
        }
        self.ensure(Check::ForwardOnly, post.state().step() >= job.state().step(), trace, || {
            format!("{step}: {} went back to {}", job.state(), post.state())
        });
        self.ensure(Check::CancelFlag, !job.cancel_requested() || post.cancel_requested(), trace, || {
            format!("{step}: cancelRequested went back to false")
        });
        self.ensure(
            Check::CancelledEndsCompleted,
            !(post.cancel_requested() && post.state().is_terminal()) || post.state() == JobState::Completed,
            trace,
            || format!("{step}: a cancelled job ended in {}", post.state()),
        );
        for d in job.drive_list() {
            if let Some(p) = post.drive(d.drive_id.as_str()) {
                self.ensure(Check::BytesNeverDecrease, p.bytes_succeeded >= d.bytes_succeeded, trace, || {
                    format!(
                        "{step}: drive {} went from {} to {} bytes",
                        d.drive_id, d.bytes_succeeded, p.bytes_succeeded
                    )
                });
            }
        }
        let expected_stages: Vec<_> = if post.state() == job.state() {
            job.stages().to_vec()
        } else {
            let mut grown = job.stages().to_vec();
            grown.push(import_export_lifecycle::Stage {
                stage_name: post.state(),
                stage_time: post.state_entered_at(),
            });
            grown
        };
        self.ensure(Check::Stages, post.stages() == expected_stages, trace, || {
            format!("{step}: stages went from {:?} to {:?}", job.stages(), post.stages())
        });
        self.ensure(Check::EarlierInstant, post.updated_at() >= job.updated_at(), trace, || {
            format!(
                "{step}: updatedAt went back from {} to {}",
                offset(job.updated_at()),
                offset(post.updated_at())
            )
        });
    }
}

fn exploration() -> &'static Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT.get_or_init(|| {
        // The spec's default durations, checked here once so the policy cannot drift unseen.
        let policy = Policy::default();
        let mut report = Report::default();
        for shape in SHAPES {
            let mut explorer =
                Explorer { policy, job: name("job"), shape, report: &mut report, transitions: 0 };
            explorer.explore();
        }
        report
    })
}

fn assert_holds(check: Check) {
    let report = exploration();
    if let Some((count, examples)) = report.violations.get(&check) {
        panic!("{check:?} fails on {count} transitions, e.g.:\n  - {}", examples.join("\n  - "));
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn exhaustive_exploration_finds_no_violation_of_any_check() {
    let report = exploration();
    let mut shown = String::new();
    for (check, (count, examples)) in &report.violations {
        let _ = writeln!(shown, "{check:?}: {count} failures, e.g.\n  - {}", examples.join("\n  - "));
    }
    assert!(report.violations.is_empty(), "{shown}");
}

#[test]
fn exhaustive_state_and_transition_counts() {
    let report = exploration();
    let mut out = String::new();
    let _ = writeln!(out, "{:<8} {:>7} {:>12}", "shape", "states", "transitions");
    let (mut states, mut transitions) = (0, 0);
    for (shape, r) in &report.shapes {
        let _ = writeln!(out, "{:<8} {:>7} {:>12}", format!("{shape:?}"), r.states, r.transitions);
        states += r.states;
        transitions += r.transitions;
    }
    let _ = writeln!(out, "{:<8} {:>7} {:>12}", "total", states, transitions);
    let _ = writeln!(out, "\nstates per JobState:");
    let _ = write!(out, "{:<13}", "state");
    for shape in SHAPES {
        let _ = write!(out, " {:>8}", format!("{shape:?}"));
    }
    out.push('\n');
    let rows = JobState::iter().map(Some).chain(std::iter::once(None));
    for state in rows {
        let label = state.map(|s| s.to_string()).unwrap_or_else(|| "(removed)".into());
        let _ = write!(out, "{label:<13}");
        for shape in SHAPES {
            let n = report.shapes[&shape].per_state.get(&state).copied().unwrap_or(0);
            let _ = write!(out, " {n:>8}");
        }
        out.push('\n');
    }
    // Every state and the removed state is reached by every shape.
    for shape in SHAPES {
        let per_state = &report.shapes[&shape].per_state;
        for state in JobState::iter().map(Some).chain(std::iter::once(None)) {
            assert!(per_state.contains_key(&state), "{shape:?} never reaches {state:?}");
        }
    }
    insta::assert_snapshot!("exhaustive_counts", out);
}

#[test]
fn job_invariants_hold_in_every_reachable_state_and_after_every_transition() {
    assert_holds(Check::JobInvariants);
}

#[test]
fn r_update_6_every_reachable_update_is_accepted_exactly_when_every_field_may_change() {
    assert_holds(Check::UpdateFields);
}

#[test]
fn r_update_7_every_update_accepted_in_creating_restarts_its_clock_and_no_other_moves_a_deadline() {
    assert_holds(Check::UpdateRestartsCreatingClock);
}

#[test]
fn r_stage_1_every_reachable_transition_adds_one_stage_exactly_when_the_state_changes() {
    assert_holds(Check::Stages);
}

#[test]
fn r_flow_7_no_reachable_transition_moves_a_job_backwards() {
    assert_holds(Check::ForwardOnly);
}

#[test]
fn r_refuse_1_no_reachable_refusal_changes_the_registry() {
    assert_holds(Check::RefusalChangesNothing);
}

#[test]
fn r_cancel_1_a_cancel_is_accepted_exactly_in_its_window_in_every_reachable_state() {
    assert_holds(Check::CancelWindow);
}

#[test]
fn r_delete_1_a_delete_is_accepted_exactly_in_creating_completed_closed_in_every_reachable_state() {
    assert_holds(Check::DeleteWindow);
}

#[test]
fn r_cancel_7_no_reachable_cancelled_job_starts_a_transfer() {
    assert_holds(Check::NoStartAfterCancel);
}

#[test]
fn r_cancel_8_every_reachable_cancelled_job_that_ends_ends_completed() {
    assert_holds(Check::CancelledEndsCompleted);
}

#[test]
fn cancel_requested_is_set_only_by_an_accepted_cancel_and_never_cleared() {
    assert_holds(Check::CancelFlag);
}

#[test]
fn r_cancel_6_in_every_reachable_cancelled_job_copying_drives_keep_copying_and_their_bytes_count() {
    assert_holds(Check::CopyingContinues);
}

#[test]
fn bytes_succeeded_never_decreases_on_any_reachable_transition() {
    assert_holds(Check::BytesNeverDecrease);
}

#[test]
fn r_gone_1_a_removed_job_answers_job_not_found_to_every_operation_at_every_instant() {
    assert_holds(Check::RemovedIsGone);
}

#[test]
fn r_event_1_every_reachable_transition_reapplies_from_its_events() {
    assert_holds(Check::EventsReapply);
}

#[test]
fn capabilities_and_decide_agree_with_execute_in_every_reachable_state() {
    assert_holds(Check::CapabilitiesAgree);
}

#[test]
fn r_timer_4_every_reachable_deadline_is_the_specs_period_and_fires_exactly_then() {
    assert_holds(Check::Deadlines);
}

#[test]
fn r_clock_1_an_earlier_instant_acts_as_the_jobs_last_in_every_reachable_state() {
    assert_holds(Check::EarlierInstant);
}

// ---------------------------------------------------------------------------------------------
// R-INPUT-3: the stored-form check is complete. Over a bounded domain (up to three drives,
// every state, flag and drive state, byte counts 0 or not, a delivery package or none, the
// orderings of its instants), a job passes `Job::check` if and only if the walk above reaches
// it, up to its instants.

/// A job up to its instants, and its byte counts up to zero or not.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Reached {
    job_type: JobType,
    state: JobState,
    cancel_requested: bool,
    package_overdue: bool,
    drives: Vec<(DriveId, DriveState, bool)>,
    /// Its stages, without their instants; empty in the domain, where every history is tried.
    stages: Vec<JobState>,
}

fn reached(job: &Job) -> Reached {
    canonical(Reached {
        job_type: job.job_type(),
        state: job.state(),
        cancel_requested: job.cancel_requested(),
        package_overdue: job.package_overdue(),
        drives: job
            .drive_list()
            .iter()
            .map(|d| (d.drive_id.clone(), d.state, d.bytes_succeeded > 0))
            .collect(),
        stages: job.stages().iter().map(|s| s.stage_name).collect(),
    })
}

/// The job with its drives' (state, bytes) sorted, given to its drive ids in their order.
fn canonical(mut job: Reached) -> Reached {
    let mut ids: Vec<DriveId> = job.drives.iter().map(|(id, _, _)| id.clone()).collect();
    ids.sort();
    let mut values: Vec<(DriveState, bool)> = job.drives.iter().map(|&(_, s, b)| (s, b)).collect();
    values.sort();
    job.drives = ids.into_iter().zip(values).map(|(id, (s, b))| (id, s, b)).collect();
    job
}

/// Every job of the domain, up to its instants: the shapes the walk explores, with every
/// combination of state, flags, delivery package, drive states and zero or non-zero bytes.
fn domain(max_drives: usize) -> Vec<Reached> {
    let mut shapes: Vec<(JobType, Vec<DriveId>)> = SHAPES
        .iter()
        .filter(|s| s.job_type() == JobType::Import && s.created_drives().len() <= max_drives)
        .map(|s| (JobType::Import, s.created_drives()))
        .collect();
    for n in 0..=max_drives {
        let ids: Vec<String> = (1..=n).map(|i| format!("E{i}")).collect();
        shapes.push((JobType::Export, ids.iter().map(|id| drive(id)).collect()));
    }
    let drive_values: Vec<(DriveState, bool)> =
        DriveState::iter().flat_map(|s| [(s, false), (s, true)]).collect();
    let mut out = Vec::new();
    for (job_type, ids) in shapes {
        // Every multiset of (state, bytes) over the drives, given to them in order: the check and
        // the rules treat drives alike, so one order per multiset stands for all (the jobs
        // reached are put in the same order by `canonical`).
        let mut assignments: Vec<Vec<(DriveId, DriveState, bool)>> = vec![Vec::new()];
        for id in &ids {
            assignments = assignments
                .into_iter()
                .flat_map(|a| {
                    let last = a.last().map(|&(_, s, b)| (s, b));
                    drive_values.iter().filter(move |&&v| last.is_none_or(|l| l <= v)).map(move |&(s, b)| {
                        let mut a = a.clone();
                        a.push((id.clone(), s, b));
                        a
                    })
                })
                .collect();
        }
        for state in JobState::iter() {
            for cancel_requested in [false, true] {
                for package_overdue in [false, true] {
                    for drives in &assignments {
                        out.push(Reached {
                            job_type,
                            state,
                            cancel_requested,
                            package_overdue,
                            drives: drives.clone(),
                            stages: Vec::new(),
                        });
                    }
                }
            }
        }
    }
    out
}

/// The JSON of `job` with instants `createdAt`, `stateEnteredAt`, `updatedAt`, a delivery
/// package or none, and its stages: `Creating` at `createdAt`, the states `between` at
/// `createdAt` too, then its state at `stateEnteredAt`.
fn stored(
    job: &Reached,
    [created, entered, updated]: [Timestamp; 3],
    delivery_package: bool,
    between: &[JobState],
) -> serde_json::Value {
    let mut stages = vec![serde_json::json!({ "stageName": JobState::Creating, "stageTime": created })];
    if job.state != JobState::Creating {
        for state in between {
            stages.push(serde_json::json!({ "stageName": state, "stageTime": created }));
        }
        stages.push(serde_json::json!({ "stageName": job.state, "stageTime": entered }));
    }
    let drives: Vec<serde_json::Value> = job
        .drives
        .iter()
        .map(|(id, state, bytes)| {
            serde_json::json!({ "driveId": id, "state": state, "bytesSucceeded": u64::from(*bytes) })
        })
        .collect();
    let mut value = serde_json::json!({
        "formatVersion": 1,
        "name": "job",
        "jobType": job.job_type,
        "state": job.state,
        "cancelRequested": job.cancel_requested,
        "driveList": drives,
        "packageOverdue": job.package_overdue,
        "stages": stages,
        "createdAt": created,
        "stateEnteredAt": entered,
        "updatedAt": updated,
    });
    if delivery_package {
        value["deliveryPackage"] = serde_json::json!({ "carrierName": "FedEx" });
    }
    value
}

/// The orderings of a job's three instants the check tells apart, with the policy's distances:
/// `createdAt` equal to or before `stateEnteredAt`, that equal to or before `updatedAt`, and
/// the shipping period (and the operators' closing period after it) between them. The first one tried per state is the one its
/// policy-free rules allow.
fn instant_orderings(state: JobState) -> Vec<[Timestamp; 3]> {
    let t = t0();
    let first = match state {
        JobState::Creating => [t, t, t + HOUR],
        JobState::Completed | JobState::Closed => [t, t + HOUR, t + HOUR],
        JobState::Shipping | JobState::Received | JobState::Transferring | JobState::Packaging => {
            [t, t + HOUR, t + 2 * HOUR]
        }
    };
    vec![
        first,
        [t, t, t],
        [t, t, t + HOUR],
        [t, t + HOUR, t + HOUR],
        [t, t + HOUR, t + 2 * HOUR],
        [t, t + HOUR, t + HOUR + SHIPPING_EXPIRY],
        [t, t + HOUR + SHIPPING_EXPIRY, t + HOUR + SHIPPING_EXPIRY],
        [t, t + HOUR + SHIPPING_EXPIRY + OVERDUE_CLOSE, t + HOUR + SHIPPING_EXPIRY + OVERDUE_CLOSE],
        [t, t + SHIPPING_EXPIRY + OVERDUE_CLOSE, t + SHIPPING_EXPIRY + OVERDUE_CLOSE],
    ]
}

/// The histories (stages, from `Creating` to its state) under which the check accepts `job` at
/// some ordering of its instants, with or without a delivery package (which no rule reads;
/// `ship` is tried both ways, and the walk keeps the first state reached). A refusal for its
/// drives or flags holds whatever the history, instants or package (those rules read none of
/// them), so it ends the search; a history the rules never take ends that history's.
fn accepted_histories(job: &Reached, policy: &Policy) -> Vec<Reached> {
    let middle: Vec<JobState> =
        JobState::iter().filter(|s| s.step() > 0 && s.step() < job.state.step()).collect();
    let mut accepted = Vec::new();
    for mask in 0..1u32 << middle.len() {
        let between: Vec<JobState> =
            middle.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, s)| *s).collect();
        'history: for delivery_package in [false, true] {
            for instants in instant_orderings(job.state) {
                let checked = Job::deserialize(&stored(job, instants, delivery_package, &between))
                    .map_err(|e| e.to_string())
                    .and_then(|j| j.check(policy));
                match checked {
                    Ok(()) => {
                        let mut stages = vec![JobState::Creating];
                        if job.state != JobState::Creating {
                            stages.extend(&between);
                            stages.push(job.state);
                        }
                        accepted.push(Reached { stages, ..job.clone() });
                        break 'history;
                    }
                    Err(e) if e.contains("take a step the rules never take") => break 'history,
                    Err(e)
                        if e.contains("instants")
                            || e.contains("under its policy")
                            || e.contains("stages")
                            || e.contains("deliveryPackage") => {}
                    // A rule on its drives or flags: no history, instant or package changes it.
                    Err(_) => return accepted,
                }
            }
        }
    }
    accepted
}

#[test]
fn r_input_3_the_stored_job_check_accepts_exactly_the_jobs_the_rules_reach() {
    let report = exploration();
    assert_complete(&Policy::default(), report, 3);
}

/// The same under the two narrower cancel windows, with up to two drives (the window rules read
/// no count of drives; this keeps the test's time down): the check reads the window too. The
/// walk's own checks assume the default window, so only what it reaches is read here.
#[test]
fn r_input_3_the_check_is_complete_under_every_cancel_window() {
    use import_export_lifecycle::CancelWindow;
    for cancel_window in [CancelWindow::CreatingOrShipping, CancelWindow::CreatingOnly] {
        let policy = Policy { cancel_window, ..Policy::default() };
        let mut report = Report::default();
        for shape in [Shape::Import1, Shape::Import2, Shape::Export] {
            Explorer { policy, job: name("job"), shape, report: &mut report, transitions: 0 }.explore();
        }
        assert_complete(&policy, &report, 2);
    }
}

/// Over the domain, the jobs `policy`'s check accepts are exactly those `report`'s walk reached.
fn assert_complete(policy: &Policy, report: &Report, max_drives: usize) {
    let reachable: std::collections::BTreeSet<Reached> = report
        .shapes
        .values()
        .flat_map(|r| r.reached.iter().cloned())
        .filter(|job| job.drives.len() <= max_drives)
        .collect();
    let policy = *policy;
    let domain = domain(max_drives);
    let accepted: std::collections::BTreeSet<Reached> =
        domain.iter().flat_map(|job| accepted_histories(job, &policy)).collect();
    let forged: Vec<&Reached> = accepted.difference(&reachable).collect();
    let refused: Vec<&Reached> = reachable.difference(&accepted).collect();
    let few =
        |jobs: &[&Reached]| jobs.iter().take(4).map(|j| format!("{j:?}")).collect::<Vec<_>>().join("\n  ");
    assert!(forged.is_empty(), "{} accepted, yet no history reaches them:\n  {}", forged.len(), few(&forged));
    assert!(refused.is_empty(), "{} reached, yet refused:\n  {}", refused.len(), few(&refused));
    assert!(
        reachable.iter().all(|job| domain.contains(&Reached { stages: Vec::new(), ..job.clone() })),
        "the domain holds every reachable job"
    );
    assert!(reachable.len() > 20 && domain.len() > 1_000, "{} of {}", reachable.len(), domain.len());
}

#[test]
fn r_input_3_every_reached_job_passes_the_check_and_survives_its_stored_form() {
    assert_holds(Check::ReachableIsAccepted);
}
