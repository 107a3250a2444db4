//! Properties over generated whole histories.
//!
//! Every property here runs *whole histories*: sequences of customer and datacenter commands,
//! reads and `handle_timeout` calls on three job names (`job-1`..`job-3`) and four drive ids
//! (`D1`..`D3`, plus `DX`, which no import job names), at generated instants: the same as the
//! previous one, 1 ns to a day later, days later, exactly at the next deadline or 1 ns before it,
//! earlier than the previous one, and at or near `Timestamp::MIN` / `Timestamp::MAX`.
//!
//! The generator is biased towards histories that go somewhere: most steps are [`Op::Advance`],
//! "the next step of a normal life" of a job, resolved when the step runs against the job's
//! state (create it, ship it, receive its package, start, progress or finish a drive, ship it
//! back, delete it). The others are raw operations aimed anywhere, most of them refused. The
//! test `generator_reaches_every_state_and_a_cancel_while_transferring` measures and guards the
//! coverage (run it with `--nocapture` to see the figures).
//!
//! A history is a `Vec` of small `Debug` steps, so proptest shrinks it to a short one; a failure
//! prints the shrunk steps *and* the trace of what they did (instant, concrete command, answer,
//! timers fired).
//!
//! Case counts: `PROPTEST_CASES` overrides every default here, e.g.
//! `PROPTEST_CASES=10000 cargo test --test properties` for a long local run. Failures are kept in
//! `proptest-regressions/properties.txt` and replayed first.

mod common;
use common::{cases, removes, t0};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{Debug, Write as _};

use import_export_lifecycle::scenarios::{
    Action, JobView, Read, Scenario, Step as ScenarioStep, Transcript, replay,
};
use import_export_lifecycle::{
    CancelWindow, Capabilities, Change, Command, Deadline, Drive, DriveId, DriveState, Error, Event, Job,
    JobName, JobState, JobType, Operation, Outcome, PackageInfo, Policy, Problem, Registry, Rule,
    SignedDuration, Timer, Timestamp, TransferResult, UpdateField,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{FileFailurePersistence, TestCaseError, TestRunner};
use serde::Serialize;
use serde::de::DeserializeOwned;
use strum::IntoEnumIterator;

const NS: SignedDuration = SignedDuration::from_nanos(1);
const SECOND: SignedDuration = SignedDuration::from_secs(1);
const DAY: SignedDuration = SignedDuration::from_secs(86_400);

// ---------------------------------------------------------------------------------------------
// Configuration

fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/properties.txt",
        ))),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// What a history is made of

/// One of the three job names of a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum J {
    J1,
    J2,
    J3,
}

impl J {
    const ALL: [J; 3] = [J::J1, J::J2, J::J3];

    fn name(self) -> JobName {
        JobName::new(match self {
            J::J1 => "job-1",
            J::J2 => "job-2",
            J::J3 => "job-3",
        })
        .unwrap()
    }
}

/// A drive id: `D1`..`D3` are the ones import jobs name; `DX` is named by no import job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum D {
    D1,
    D2,
    D3,
    DX,
}

impl D {
    fn id(self) -> DriveId {
        DriveId::new(match self {
            D::D1 => "D1",
            D::D2 => "D2",
            D::D3 => "D3",
            D::DX => "DX",
        })
        .unwrap()
    }
}

/// What a `create` asks for.
#[derive(Debug, Clone)]
enum Kind {
    /// An import job with these drives (possibly none, repeated or `DX`: then refused).
    Import(Vec<D>),
    /// An export job (no drives).
    Export,
    /// An import job with eleven drives: refused (R-INPUT-1).
    ElevenDrives,
}

/// When a step happens, relative to the previous step's instant (or to the registry's timers).
#[derive(Debug, Clone, Copy)]
enum When {
    Same,
    PlusNanos(i64),
    PlusSecs(i64),
    PlusDays(i64),
    /// Exactly at the registry's next deadline (or `Same` when there is none).
    AtNextDeadline,
    /// 1 ns before the registry's next deadline.
    BeforeNextDeadline,
    /// Exactly at this job's own deadline (or `Same`).
    AtDeadlineOf(J),
    /// 1 ns before this job's own deadline.
    BeforeDeadlineOf(J),
    /// Earlier than the previous step, by this many seconds.
    BackSecs(i64),
    Min,
    Max,
    /// `Timestamp::MIN` plus this many seconds.
    NearMin(i64),
    /// `Timestamp::MAX` minus this many nanoseconds.
    NearMax(i64),
}

/// What a step does. `Advance` is resolved against the registry when the step runs.
#[derive(Debug, Clone)]
enum Op {
    Create(J, Kind),
    Ship(J),
    /// An update naming the fields `mask` chooses (none when 0), with the drives given.
    Update(J, u8, Vec<D>),
    Cancel(J),
    Delete(J),
    Get(J),
    List,
    Package(J, Vec<D>),
    Start(J, D),
    Progress(J, D, u64),
    Finish(J, D, TransferResult),
    ShipBack(J),
    Timeout,
    /// The next step of a normal life of the job, the `pick`-th of those its state allows:
    /// create it if it does not exist, ship it, receive its package (a `pick`-chosen subset of
    /// its drives), start/progress/finish a drive, ship it back, delete or read it once finished.
    Advance(J, u8),
}

#[derive(Debug, Clone)]
struct Step {
    at: When,
    op: Op,
}

/// The policy a history runs under. `Default` is `Registry::default()`; the properties then
/// expect the documented durations *literally* (90, 14, 14 days), not `Policy::default()`'s.
#[derive(Debug, Clone, Copy)]
enum Rules {
    Default,
    Custom(Policy),
}

impl Rules {
    fn policy(self) -> Policy {
        match self {
            Rules::Default => Policy::default(),
            Rules::Custom(p) => p,
        }
    }

    fn registry(self) -> Registry {
        match self {
            Rules::Default => Registry::default(),
            Rules::Custom(p) => Registry::new(p),
        }
    }

    /// The retention the spec promises: 90 days by default (R-TIMER-3), else the policy's days.
    fn retention(self) -> SignedDuration {
        match self {
            Rules::Default => 90 * DAY,
            Rules::Custom(p) => SignedDuration::from_secs(i64::from(p.retention_days) * 86_400),
        }
    }

    /// The states whose cancel is accepted (R-CANCEL-1): by default exactly these four.
    fn cancel_window(self) -> &'static [JobState] {
        let window = match self {
            Rules::Default => CancelWindow::BeforePackaging,
            Rules::Custom(p) => p.cancel_window,
        };
        match window {
            CancelWindow::BeforePackaging => {
                &[JobState::Creating, JobState::Shipping, JobState::Received, JobState::Transferring]
            }
            CancelWindow::CreatingOrShipping => &[JobState::Creating, JobState::Shipping],
            CancelWindow::CreatingOnly => &[JobState::Creating],
        }
    }
}

#[derive(Debug, Clone)]
struct History {
    rules: Rules,
    start: Timestamp,
    steps: Vec<Step>,
}

// ---------------------------------------------------------------------------------------------
// Generators

/// `t + d`, saturating at the ends of the time type.
fn shift(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(if d.is_negative() { Timestamp::MIN } else { Timestamp::MAX })
}

fn arb_j() -> impl Strategy<Value = J> + Clone {
    prop_oneof![3 => Just(J::J1), 2 => Just(J::J2), 1 => Just(J::J3)]
}

fn arb_d() -> impl Strategy<Value = D> + Clone {
    prop_oneof![3 => Just(D::D1), 3 => Just(D::D2), 3 => Just(D::D3), 1 => Just(D::DX)]
}

fn arb_known_d() -> impl Strategy<Value = D> + Clone {
    prop_oneof![Just(D::D1), Just(D::D2), Just(D::D3)]
}

fn arb_bytes() -> impl Strategy<Value = u64> + Clone {
    prop_oneof![
        2 => Just(0u64),
        4 => 1u64..=1 << 20,
        1 => (1u64 << 40)..=(1u64 << 62),
        2 => Just(u64::MAX),
    ]
}

fn arb_result() -> impl Strategy<Value = TransferResult> + Clone {
    prop_oneof![2 => Just(TransferResult::Completed), 1 => Just(TransferResult::CompletedMoreInfo)]
}

fn arb_kind() -> impl Strategy<Value = Kind> + Clone {
    prop_oneof![
        6 => prop::collection::vec(arb_known_d(), 1..=3).prop_map(Kind::Import),
        3 => Just(Kind::Export),
        1 => prop::collection::vec(arb_d(), 0..=4).prop_map(Kind::Import),
        1 => Just(Kind::ElevenDrives),
    ]
}

fn arb_op() -> impl Strategy<Value = Op> + Clone {
    prop_oneof![
        36 => (arb_j(), any::<u8>()).prop_map(|(j, pick)| Op::Advance(j, pick)),
        3 => (arb_j(), arb_kind()).prop_map(|(j, k)| Op::Create(j, k)),
        1 => arb_j().prop_map(Op::Ship),
        2 => (arb_j(), any::<u8>(), prop::collection::vec(arb_d(), 0..=2)).prop_map(|(j, m, d)| Op::Update(j, m, d)),
        2 => arb_j().prop_map(Op::Cancel),
        2 => arb_j().prop_map(Op::Delete),
        1 => arb_j().prop_map(Op::Get),
        1 => Just(Op::List),
        1 => (arb_j(), prop::collection::vec(arb_d(), 0..=4)).prop_map(|(j, d)| Op::Package(j, d)),
        2 => (arb_j(), arb_d()).prop_map(|(j, d)| Op::Start(j, d)),
        2 => (arb_j(), arb_d(), arb_bytes()).prop_map(|(j, d, b)| Op::Progress(j, d, b)),
        1 => (arb_j(), arb_d(), arb_result()).prop_map(|(j, d, r)| Op::Finish(j, d, r)),
        1 => arb_j().prop_map(Op::ShipBack),
        2 => Just(Op::Timeout),
    ]
}

/// `extremes` weighs the jumps to the ends of the time type (out of about 75).
fn arb_when(extremes: u32) -> impl Strategy<Value = When> + Clone {
    prop_oneof![
        6 => Just(When::Same),
        6 => (1i64..=1_000).prop_map(When::PlusNanos),
        30 => (1i64..=86_400).prop_map(When::PlusSecs),
        6 => (1i64..=40).prop_map(When::PlusDays),
        5 => Just(When::AtNextDeadline),
        5 => Just(When::BeforeNextDeadline),
        3 => arb_j().prop_map(When::AtDeadlineOf),
        3 => arb_j().prop_map(When::BeforeDeadlineOf),
        4 => (1i64..=30 * 86_400).prop_map(When::BackSecs),
        extremes => prop_oneof![
            Just(When::Min),
            Just(When::Max),
            (1i64..=200 * 86_400).prop_map(When::NearMin),
            prop_oneof![Just(1i64), 1i64..=i64::MAX].prop_map(When::NearMax),
        ],
    ]
}

fn arb_window() -> impl Strategy<Value = CancelWindow> + Clone {
    prop_oneof![
        2 => Just(CancelWindow::BeforePackaging),
        1 => Just(CancelWindow::CreatingOrShipping),
        1 => Just(CancelWindow::CreatingOnly),
    ]
}

fn arb_rules() -> impl Strategy<Value = Rules> + Clone {
    let retention = prop_oneof![Just(90u32), Just(0u32), Just(1u32), Just(89u32), Just(91u32), 0u32..=400];
    let close = prop_oneof![1 => Just(None), 3 => (0u32..=40).prop_map(Some)];
    let custom = (retention, 0u32..=20, 0u32..=20, close, arb_window()).prop_map(|(r, c, s, o, w)| {
        Rules::Custom(Policy {
            retention_days: r,
            creating_expiry_days: c,
            shipping_expiry_days: s,
            overdue_close_days: o,
            cancel_window: w,
        })
    });
    prop_oneof![3 => Just(Rules::Default), 1 => custom]
}

fn arb_start() -> impl Strategy<Value = Timestamp> + Clone {
    prop_oneof![
        16 => Just(t0()),
        1 => Just(Timestamp::MIN),
        1 => Just(shift(Timestamp::MIN, DAY)),
        1 => Just(shift(Timestamp::MAX, -120 * DAY)),
        1 => Just(shift(Timestamp::MAX, -NS)),
        1 => Just(Timestamp::MAX),
    ]
}

fn arb_history_with(max_len: usize, extremes: u32) -> impl Strategy<Value = History> {
    let step = (arb_when(extremes), arb_op()).prop_map(|(at, op)| Step { at, op });
    let history = (arb_rules(), arb_start(), prop::collection::vec(step, 1..=max_len))
        .prop_map(|(rules, start, steps)| History { rules, start, steps });
    Pruned(history)
}

/// A history strategy whose shrinking ends with extra passes that delete steps one at a time
/// until no single deletion keeps the failure. proptest's `vec` tries each deletion once, before
/// it simplifies the steps; a step simplified later (a jump made `Same`, a pick made 0) often
/// makes earlier-kept steps deletable, and the trailing steps after the failure always are.
#[derive(Debug)]
struct Pruned<S>(S);

impl<S: Strategy<Value = History>> Strategy for Pruned<S> {
    type Tree = PrunedTree<S::Tree>;
    type Value = History;

    fn new_tree(&self, runner: &mut TestRunner) -> proptest::strategy::NewTree<Self> {
        let inner = self.0.new_tree(runner)?;
        Ok(PrunedTree { inner, pruning: false, keep: Vec::new(), next: 0, last: None, progress: false })
    }
}

struct PrunedTree<T> {
    inner: T,
    /// In the deletion passes (the inner tree is done).
    pruning: bool,
    /// Which of the inner history's steps are kept.
    keep: Vec<bool>,
    /// The next step to try deleting.
    next: usize,
    /// The step deleted last, until the runner says whether the failure stayed.
    last: Option<usize>,
    /// A deletion kept the failure during this pass.
    progress: bool,
}

impl<T: ValueTree<Value = History>> PrunedTree<T> {
    fn start_pruning(&mut self) {
        self.pruning = true;
        self.keep = vec![true; self.inner.current().steps.len()];
        self.next = 0;
        self.progress = false;
    }
}

impl<T: ValueTree<Value = History>> ValueTree for PrunedTree<T> {
    type Value = History;

    fn current(&self) -> History {
        let mut history = self.inner.current();
        if self.pruning {
            let keep = &self.keep;
            history.steps =
                history.steps.into_iter().zip(keep).filter(|(_, k)| **k).map(|(s, _)| s).collect();
        }
        history
    }

    fn simplify(&mut self) -> bool {
        if !self.pruning {
            if self.inner.simplify() {
                return true;
            }
            self.start_pruning();
        }
        // The runner asks again: the last deletion kept the failure.
        if self.last.take().is_some() {
            self.progress = true;
        }
        loop {
            if self.next >= self.keep.len() {
                if !self.progress {
                    return false;
                }
                self.next = 0;
                self.progress = false;
            }
            let ix = self.next;
            self.next += 1;
            if self.keep[ix] && self.keep.iter().filter(|k| **k).count() > 1 {
                self.keep[ix] = false;
                self.last = Some(ix);
                return true;
            }
        }
    }

    fn complicate(&mut self) -> bool {
        if !self.pruning {
            if self.inner.complicate() {
                return true;
            }
            // The inner tree gave up: prune what it left (the runner tests it again first).
            self.start_pruning();
            return true;
        }
        match self.last.take() {
            Some(ix) => {
                self.keep[ix] = true;
                true
            }
            None => false,
        }
    }
}

fn arb_history() -> impl Strategy<Value = History> {
    arb_history_with(40, 1)
}

// ---------------------------------------------------------------------------------------------
// Running a history

/// A step, resolved against the registry: what was actually asked.
#[derive(Debug, Clone, PartialEq)]
enum Input {
    Command(Command),
    Get(JobName),
    List,
    Timeout,
}

/// What the input answered.
#[derive(Debug, Clone)]
enum Answer {
    Event(Result<Event, Error>),
    Job(Result<Job, Error>),
    Jobs(Result<Vec<Job>, Error>),
    Fired,
}

/// One step as it ran.
struct Record {
    now: Timestamp,
    input: Input,
    /// The registry before the step.
    before: Registry,
    /// `before` with the timers the step fired applied: what the input itself met.
    pre: Registry,
    /// The registry after the step.
    after: Registry,
    /// The timers the step fired, in order.
    timers: Vec<Event>,
    answer: Answer,
}

impl Record {
    /// Every event the step recorded: its timers, then its own.
    fn events(&self) -> impl Iterator<Item = &Event> {
        let own = match &self.answer {
            Answer::Event(Ok(e)) => Some(e),
            Answer::Event(Err(_)) | Answer::Job(_) | Answer::Jobs(_) | Answer::Fired => None,
        };
        self.timers.iter().chain(own)
    }

    fn command(&self) -> Option<&Command> {
        match &self.input {
            Input::Command(c) => Some(c),
            Input::Get(_) | Input::List | Input::Timeout => None,
        }
    }

    fn result(&self) -> Option<&Result<Event, Error>> {
        match &self.answer {
            Answer::Event(r) => Some(r),
            Answer::Job(_) | Answer::Jobs(_) | Answer::Fired => None,
        }
    }
}

struct Run {
    rules: Rules,
    start: Timestamp,
    records: Vec<Record>,
    /// Every event, in the order recorded.
    log: Vec<Event>,
}

impl Run {
    fn policy(&self) -> Policy {
        self.rules.policy()
    }

    fn last(&self) -> &Registry {
        &self.records.last().expect("a history has at least one step").after
    }

    fn last_now(&self) -> Timestamp {
        self.records.last().map_or(self.start, |r| r.now)
    }

    /// The history as it ran, one line per step, for failure messages.
    fn trace(&self) -> String {
        let mut out = format!("history under {:?}, starting {}:\n", self.rules, self.start);
        for (i, r) in self.records.iter().enumerate() {
            let _ = write!(out, "  #{i:<2} {}  {}", r.now, show_input(&r.input));
            let answer = match &r.answer {
                Answer::Event(Ok(e)) => format!("Ok {:?} at {}", e.change, e.at),
                Answer::Event(Err(e)) | Answer::Job(Err(e)) | Answer::Jobs(Err(e)) => {
                    format!("Err {}: {e}", e.code())
                }
                Answer::Job(Ok(job)) => format!("Ok {} {}", job.name(), job.state()),
                Answer::Jobs(Ok(jobs)) => {
                    let shown: Vec<String> =
                        jobs.iter().map(|j| format!("{} {}", j.name(), j.state())).collect();
                    format!("Ok [{}]", shown.join(", "))
                }
                Answer::Fired => "fired".to_string(),
            };
            let _ = write!(out, "  ->  {answer}");
            for t in &r.timers {
                let _ = write!(out, "   [timer {} {:?} at {}]", t.job, t.change, t.at);
            }
            out.push('\n');
        }
        out
    }
}

fn show_input(input: &Input) -> String {
    match input {
        Input::Command(c) => format!("{c:?}"),
        Input::Get(j) => format!("get {j}"),
        Input::List => "list".to_string(),
        Input::Timeout => "handle_timeout".to_string(),
    }
}

/// `before` with `timers` applied, in order: the registry an input met once its due timers
/// fired. Each timer event must apply (R-EVENT-1, R-TIMER-4).
fn with_timers(before: &Registry, timers: &[Event]) -> Result<Registry, String> {
    let mut pre = before.clone();
    for e in timers {
        pre.apply(e).map_err(|err| format!("the timer event {e:?} does not apply to the registry: {err}"))?;
    }
    Ok(pre)
}

/// A non-empty subset of `items`, chosen by `mask`.
fn subset<T: Clone>(items: &[T], mask: u8) -> Vec<T> {
    if items.is_empty() {
        return Vec::new();
    }
    let n = items.len().min(7);
    let m = usize::from(mask) % ((1usize << n) - 1) + 1;
    items.iter().take(n).enumerate().filter(|(i, _)| m & (1 << i) != 0).map(|(_, x)| x.clone()).collect()
}

/// `Op::Advance`: the `pick`-th next step of a normal life of job `j`.
fn advance(registry: &Registry, j: J, pick: u8) -> Input {
    let job = j.name();
    let Some(current) = registry.peek(job.as_str()) else {
        let command = if pick % 4 == 3 {
            Command::Create { job, job_type: JobType::Export, drives: vec![] }
        } else {
            let drives = subset(&[D::D1, D::D2, D::D3], pick >> 2).into_iter().map(D::id).collect();
            Command::Create { job, job_type: JobType::Import, drives }
        };
        return Input::Command(command);
    };
    let command = match current.state() {
        // Now and then an update first: in Creating it restarts the clock (R-UPDATE-7).
        JobState::Creating | JobState::Shipping if pick % 16 == 15 => Command::Update {
            job,
            fields: vec![UpdateField::ReturnAddress, UpdateField::Tags],
            drives: vec![],
            delivery_package: None,
        },
        JobState::Creating => Command::Ship {
            job,
            carrier: (pick % 2 == 0).then(|| "FedEx".to_string()),
            tracking_number: (pick % 3 == 0).then(|| "1Z999".to_string()),
        },
        JobState::Shipping => {
            let drives = match current.job_type() {
                JobType::Import => {
                    let own: Vec<DriveId> = current.drive_list().iter().map(|d| d.drive_id.clone()).collect();
                    // Mostly the whole package; sometimes part of it.
                    if pick % 3 == 0 { subset(&own, pick >> 2) } else { own }
                }
                JobType::Export => {
                    subset(&[D::D1, D::D2, D::D3, D::DX], pick).into_iter().map(D::id).collect()
                }
            };
            Command::PackageReceived { job, drives }
        }
        JobState::Received | JobState::Transferring if pick % 8 == 7 && !current.cancel_requested() => {
            // A cancel while the datacenter works: the case R-CANCEL-6 and R-CANCEL-7 are about.
            Command::Cancel { job }
        }
        JobState::Received | JobState::Transferring => {
            let waiting = current.drive_list().iter().filter(|d| d.state == DriveState::Received);
            let copying = current.drive_list().iter().filter(|d| d.state == DriveState::Transferring);
            let waiting: Vec<DriveId> = waiting.map(|d| d.drive_id.clone()).collect();
            let copying: Vec<DriveId> = copying.map(|d| d.drive_id.clone()).collect();
            let which = usize::from(pick >> 2);
            let start = !current.cancel_requested() && !waiting.is_empty();
            if start && (pick % 2 == 0 || copying.is_empty()) {
                Command::StartTransfer { job, drive: waiting[which % waiting.len()].clone() }
            } else if copying.is_empty() {
                return Input::Get(job);
            } else {
                let drive = copying[which % copying.len()].clone();
                // A quarter progress reports (half of them after a cancel: R-CANCEL-6).
                if pick % 4 == 1 || (current.cancel_requested() && pick % 4 == 2) {
                    Command::Progress { job, drive, bytes: u64::from(pick) * 1_000 }
                } else {
                    // Mostly clean copies; a third end with errors, which closes the job.
                    let result = if (pick >> 4) % 3 == 0 {
                        TransferResult::CompletedMoreInfo
                    } else {
                        TransferResult::Completed
                    };
                    Command::FinishTransfer { job, drive, result }
                }
            }
        }
        JobState::Packaging => Command::ShipBack { job },
        JobState::Completed | JobState::Closed => {
            if pick % 3 == 0 {
                Command::Delete { job }
            } else {
                return Input::Get(job);
            }
        }
    };
    Input::Command(command)
}

fn resolve_op(registry: &Registry, op: &Op) -> Input {
    let c = |command| Input::Command(command);
    match op {
        Op::Create(j, kind) => {
            let (job_type, drives) = match kind {
                Kind::Import(ds) => (JobType::Import, ds.iter().map(|d| d.id()).collect()),
                Kind::Export => (JobType::Export, vec![]),
                Kind::ElevenDrives => {
                    (JobType::Import, (0..11).map(|i| DriveId::new(&format!("M{i}")).unwrap()).collect())
                }
            };
            c(Command::Create { job: j.name(), job_type, drives })
        }
        Op::Ship(j) => c(Command::Ship { job: j.name(), carrier: None, tracking_number: None }),
        Op::Update(j, mask, ds) => {
            let fields: Vec<UpdateField> = UpdateField::iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, f)| f)
                .collect();
            c(Command::Update {
                job: j.name(),
                fields,
                drives: ds.iter().map(|d| d.id()).collect(),
                delivery_package: None,
            })
        }
        Op::Cancel(j) => c(Command::Cancel { job: j.name() }),
        Op::Delete(j) => c(Command::Delete { job: j.name() }),
        Op::Get(j) => Input::Get(j.name()),
        Op::List => Input::List,
        Op::Package(j, ds) => {
            c(Command::PackageReceived { job: j.name(), drives: ds.iter().map(|d| d.id()).collect() })
        }
        Op::Start(j, d) => c(Command::StartTransfer { job: j.name(), drive: d.id() }),
        Op::Progress(j, d, bytes) => c(Command::Progress { job: j.name(), drive: d.id(), bytes: *bytes }),
        Op::Finish(j, d, result) => {
            c(Command::FinishTransfer { job: j.name(), drive: d.id(), result: *result })
        }
        Op::ShipBack(j) => c(Command::ShipBack { job: j.name() }),
        Op::Timeout => Input::Timeout,
        Op::Advance(j, pick) => advance(registry, *j, *pick),
    }
}

fn resolve_when(when: When, last: Timestamp, registry: &Registry) -> Timestamp {
    let own = |j: J| registry.peek(j.name().as_str()).and_then(|job| job.next_deadline(registry.policy()));
    match when {
        When::Same => last,
        When::PlusNanos(n) => shift(last, SignedDuration::from_nanos(n)),
        When::PlusSecs(n) => shift(last, SignedDuration::from_secs(n)),
        When::PlusDays(n) => shift(last, SignedDuration::from_secs(n * 86_400)),
        When::AtNextDeadline => registry.next_deadline().map_or(last, |d| d.at),
        When::BeforeNextDeadline => registry.next_deadline().map_or(last, |d| shift(d.at, -NS)),
        When::AtDeadlineOf(j) => own(j).map_or(last, |d| d.at),
        When::BeforeDeadlineOf(j) => own(j).map_or(last, |d| shift(d.at, -NS)),
        When::BackSecs(n) => shift(last, SignedDuration::from_secs(-n)),
        When::Min => Timestamp::MIN,
        When::Max => Timestamp::MAX,
        When::NearMin(n) => shift(Timestamp::MIN, SignedDuration::from_secs(n)),
        When::NearMax(n) => shift(Timestamp::MAX, -SignedDuration::from_nanos(n)),
    }
}

/// Runs one input on `registry` at `now`: (timers fired, answer).
fn perform(registry: &mut Registry, now: Timestamp, input: &Input) -> (Vec<Event>, Answer) {
    match input {
        Input::Command(command) => {
            let Outcome { timers, result } = registry.execute(now, command);
            (timers, Answer::Event(result))
        }
        Input::Get(job) => {
            let Outcome { timers, result } = registry.get(now, job);
            (timers, Answer::Job(result.cloned()))
        }
        Input::List => {
            let Outcome { timers, result } = registry.list(now);
            (timers, Answer::Jobs(result.map(|jobs| jobs.into_iter().cloned().collect())))
        }
        Input::Timeout => (registry.handle_timeout(now), Answer::Fired),
    }
}

fn run(history: &History) -> Run {
    let mut registry = history.rules.registry();
    let mut now = history.start;
    let mut records = Vec::with_capacity(history.steps.len());
    let mut log = Vec::new();
    for step in &history.steps {
        now = resolve_when(step.at, now, &registry);
        let input = resolve_op(&registry, &step.op);
        let before = registry.clone();
        let (timers, answer) = perform(&mut registry, now, &input);
        // A timer event that does not apply is a broken R-EVENT-1 / R-TIMER-4; property 7 says
        // so with the trace. The other properties then see the registry as it was.
        let pre = with_timers(&before, &timers).unwrap_or_else(|_| before.clone());
        let record = Record { now, input, before, pre, after: registry.clone(), timers, answer };
        log.extend(record.events().cloned());
        records.push(record);
    }
    Run { rules: history.rules, start: history.start, records, log }
}

/// Turns a check's verdict into proptest's, with the trace of the history.
fn verdict(run: &Run, result: Result<(), String>) -> Result<(), TestCaseError> {
    result.map_err(|e| TestCaseError::fail(format!("{e}\n{}", run.trace())))
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// Every command aimed at `job`, with drive `D1`.
fn every_command(job: &JobName) -> Vec<Command> {
    let d1 = D::D1.id();
    vec![
        Command::Ship { job: job.clone(), carrier: None, tracking_number: None },
        Command::Update {
            job: job.clone(),
            fields: vec![UpdateField::ReturnAddress],
            drives: vec![],
            delivery_package: None,
        },
        Command::Update {
            job: job.clone(),
            fields: vec![UpdateField::Tags],
            drives: vec![],
            delivery_package: None,
        },
        Command::Update {
            job: job.clone(),
            fields: vec![UpdateField::DriveList],
            drives: vec![d1.clone()],
            delivery_package: None,
        },
        Command::Cancel { job: job.clone() },
        Command::Delete { job: job.clone() },
        Command::PackageReceived { job: job.clone(), drives: vec![d1.clone()] },
        Command::StartTransfer { job: job.clone(), drive: d1.clone() },
        Command::Progress { job: job.clone(), drive: d1.clone(), bytes: 1 },
        Command::FinishTransfer { job: job.clone(), drive: d1.clone(), result: TransferResult::Completed },
        Command::FinishTransfer { job: job.clone(), drive: d1, result: TransferResult::CompletedMoreInfo },
        Command::ShipBack { job: job.clone() },
    ]
}

/// Every command worth trying on `job` as it stands: each operation, on each of its drives and `DX`.
fn commands_for(job: &Job) -> Vec<Command> {
    let name = job.name().clone();
    let mut drives: Vec<DriveId> = job.drive_list().iter().map(|d| d.drive_id.clone()).collect();
    drives.push(D::DX.id());
    let mut out = every_command(&name);
    out.push(Command::Create { job: name.clone(), job_type: JobType::Export, drives: vec![] });
    out.push(Command::PackageReceived { job: name.clone(), drives: drives.clone() });
    for d in drives {
        out.push(Command::StartTransfer { job: name.clone(), drive: d.clone() });
        out.push(Command::Progress { job: name.clone(), drive: d.clone(), bytes: 5 });
        out.push(Command::Progress { job: name.clone(), drive: d.clone(), bytes: u64::MAX });
        for result in TransferResult::iter() {
            out.push(Command::FinishTransfer { job: name.clone(), drive: d.clone(), result });
        }
    }
    out
}

/// Drives `job` on `registry` to the end of its life, one second per command: cancel first if
/// `cancel` (and the cancel window allows it), ship, receive every drive (`D1`, `D2` for an
/// export job), copy each (finishing with `result`), ship back. Returns the last instant used.
fn finish_life(
    registry: &mut Registry,
    mut now: Timestamp,
    job: &JobName,
    cancel: bool,
    result: TransferResult,
) -> Timestamp {
    for _ in 0..40 {
        let Some(current) = registry.peek(job.as_str()) else { break };
        let name = job.clone();
        let command = if cancel
            && !current.cancel_requested()
            && current.capabilities(registry.policy()).is_cancellable
        {
            Command::Cancel { job: name }
        } else {
            match current.state() {
                JobState::Creating => Command::Ship { job: name, carrier: None, tracking_number: None },
                JobState::Shipping => {
                    let drives = match current.job_type() {
                        JobType::Import => current.drive_list().iter().map(|d| d.drive_id.clone()).collect(),
                        JobType::Export => vec![D::D1.id(), D::D2.id()],
                    };
                    Command::PackageReceived { job: name, drives }
                }
                JobState::Received | JobState::Transferring => {
                    let copying = current.drive_list().iter().find(|d| d.state == DriveState::Transferring);
                    let waiting = current.drive_list().iter().find(|d| d.state == DriveState::Received);
                    match (copying, waiting) {
                        (Some(d), _) => {
                            Command::FinishTransfer { job: name, drive: d.drive_id.clone(), result }
                        }
                        (None, Some(d)) => Command::StartTransfer { job: name, drive: d.drive_id.clone() },
                        (None, None) => break,
                    }
                }
                JobState::Packaging => Command::ShipBack { job: name },
                JobState::Completed | JobState::Closed => break,
            }
        };
        now = shift(now, SECOND);
        if registry.execute(now, &command).result.is_err() {
            break;
        }
    }
    now
}

// ---------------------------------------------------------------------------------------------
// Property 1: R-GONE-1, R-GONE-2

/// The names removed (deleted, or by a timer) and not yet taken again, checked step by step.
fn check_gone(run: &Run) -> Result<(), String> {
    let mut gone: BTreeSet<JobName> = BTreeSet::new();
    for (i, r) in run.records.iter().enumerate() {
        for t in &r.timers {
            ensure!(!gone.contains(&t.job), "#{i}: a timer fired on removed job {}: {t:?}", t.job);
            if removes(t) {
                gone.insert(t.job.clone());
            }
        }
        match (&r.input, &r.answer) {
            (Input::Command(Command::Create { job, .. }), Answer::Event(result)) => match result {
                Ok(_) => {
                    gone.remove(job);
                }
                Err(e) => ensure!(
                    !gone.contains(job) || e.code() != "JobAlreadyExists",
                    "#{i}: creating removed job {job} was refused as if it still existed: {e}"
                ),
            },
            (Input::Command(command), Answer::Event(result)) => {
                let job = command.job();
                if gone.contains(job) {
                    let expected = Error::JobNotFound { operation: command.operation(), job: job.clone() };
                    ensure!(
                        result.as_ref().err() == Some(&expected),
                        "#{i}: {command:?} on removed job {job} answered {result:?}, not JobNotFound"
                    );
                }
                if let Ok(e) = result {
                    if removes(e) {
                        gone.insert(e.job.clone());
                    }
                }
            }
            (Input::Get(job), Answer::Job(result)) => {
                if gone.contains(job) {
                    ensure!(
                        matches!(result, Err(Error::JobNotFound { operation: Operation::Get, .. })),
                        "#{i}: get of removed job {job} answered {result:?}"
                    );
                }
            }
            (Input::List, Answer::Jobs(result)) => {
                let jobs = result.as_ref().map_err(|e| format!("#{i}: list refused: {e}"))?;
                for job in jobs {
                    ensure!(!gone.contains(job.name()), "#{i}: list shows removed job {}", job.name());
                }
            }
            (Input::Timeout, Answer::Fired) => {}
            (input, answer) => return Err(format!("#{i}: {input:?} answered {answer:?}")),
        }
        for job in &gone {
            ensure!(r.after.peek(job.as_str()).is_none(), "#{i}: removed job {job} is still in the registry");
            ensure!(r.after.iter().all(|j| j.name() != job), "#{i}: removed job {job} is still iterated");
            // Every operation, at this instant and at the end of time, answers JobNotFound.
            for at in [r.now, Timestamp::MAX] {
                for command in every_command(job) {
                    let mut probe = r.after.clone();
                    let outcome = probe.execute(at, &command);
                    let expected = Error::JobNotFound { operation: command.operation(), job: job.clone() };
                    ensure!(
                        outcome.result.as_ref().err() == Some(&expected),
                        "#{i}: at {at}, {command:?} on removed job {job} answered {:?}",
                        outcome.result
                    );
                    ensure!(
                        outcome.timers.iter().all(|t| &t.job != job),
                        "#{i}: at {at}, a timer fired on removed job {job}"
                    );
                }
                let mut probe = r.after.clone();
                let got = probe.get(at, job).result.err();
                ensure!(
                    got == Some(Error::JobNotFound { operation: Operation::Get, job: job.clone() }),
                    "#{i}: at {at}, get of removed job {job} answered {got:?}"
                );
                let mut probe = r.after.clone();
                let listed =
                    probe.list(at).result.map_err(|e| e.to_string())?.iter().any(|j| j.name() == job);
                ensure!(!listed, "#{i}: at {at}, list shows removed job {job}");
                let mut probe = r.after.clone();
                ensure!(
                    probe.handle_timeout(at).iter().all(|t| &t.job != job),
                    "#{i}: at {at}, handle_timeout fired a timer of removed job {job}"
                );
            }
        }
    }
    Ok(())
}

/// A job made by a create shares nothing with any job that held its name before: it is exactly
/// the job the command describes, at the instant given; and replaying only its own events on an
/// empty registry gives the same job, at every step.
fn check_fresh(run: &Run) -> Result<(), String> {
    // The events of each name since its last creation.
    let mut lives: BTreeMap<JobName, Vec<Event>> = BTreeMap::new();
    for (i, r) in run.records.iter().enumerate() {
        for e in r.events() {
            if let Change::Created { .. } = e.change {
                lives.insert(e.job.clone(), Vec::new());
            }
            if let Some(life) = lives.get_mut(&e.job) {
                life.push(e.clone());
            }
            if removes(e) {
                lives.remove(&e.job);
            }
        }
        if let (Input::Command(Command::Create { job, job_type, drives }), Answer::Event(Ok(event))) =
            (&r.input, &r.answer)
        {
            ensure!(event.at == r.now, "#{i}: a new job is created at the instant given, not {}", event.at);
            let new = r.after.peek(job.as_str()).ok_or(format!("#{i}: created job {job} is not there"))?;
            ensure!(new.state() == JobState::Creating, "#{i}: new job {job} is in {}", new.state());
            ensure!(new.job_type() == *job_type, "#{i}: new job {job} has the wrong type");
            ensure!(!new.cancel_requested(), "#{i}: new job {job} starts with cancelRequested");
            ensure!(!new.package_overdue(), "#{i}: new job {job} starts with its package overdue");
            ensure!(new.delivery_package().is_none(), "#{i}: new job {job} starts with a package");
            let fresh: Vec<Drive> = drives
                .iter()
                .map(|id| Drive { drive_id: id.clone(), state: DriveState::Specified, bytes_succeeded: 0 })
                .collect();
            ensure!(new.drive_list() == fresh, "#{i}: new job {job} has drives {:?}", new.drive_list());
            ensure!(
                new.created_at() == r.now && new.state_entered_at() == r.now && new.updated_at() == r.now,
                "#{i}: new job {job} does not start at {}: {new:?}",
                r.now
            );
        }
        for job in r.after.iter() {
            let life =
                lives.get(job.name()).ok_or(format!("#{i}: job {} has no Created event", job.name()))?;
            let alone = Registry::replay(run.policy(), life).map_err(|(k, e)| {
                format!("#{i}: job {}'s own events do not replay at {k}: {e}", job.name())
            })?;
            ensure!(
                alone.peek(job.name().as_str()) == Some(job),
                "#{i}: job {} differs from its own events replayed alone: {job:?} vs {:?}",
                job.name(),
                alone.peek(job.name().as_str())
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 2: R-CANCEL-1

/// A cancel on job `job` of `before` at `now`: its answer and the state it met.
fn check_one_cancel(
    rules: Rules,
    before: &Registry,
    timers: &[Event],
    after: &Registry,
    job: &JobName,
    result: &Result<Event, Error>,
) -> Result<(), String> {
    let pre = with_timers(before, timers)?;
    let Some(met) = pre.peek(job.as_str()) else {
        ensure!(
            result.as_ref().err()
                == Some(&Error::JobNotFound { operation: Operation::Cancel, job: job.clone() }),
            "a cancel of absent job {job} answered {result:?}"
        );
        return Ok(());
    };
    let state = met.state();
    let accepted = rules.cancel_window().contains(&state);
    ensure!(
        met.capabilities(&rules.policy()).is_cancellable == accepted,
        "isCancellable of {job} in {state} is not {accepted}"
    );
    match result {
        Ok(event) => {
            ensure!(accepted, "a cancel of {job} was accepted in {state}");
            ensure!(
                matches!(event.change, Change::CancelRequested { .. }),
                "a cancel recorded {:?}",
                event.change
            );
            let now = after.peek(job.as_str()).ok_or(format!("cancelled job {job} vanished"))?;
            ensure!(now.cancel_requested(), "an accepted cancel left {job} without cancelRequested");
        }
        Err(e) => {
            ensure!(!accepted, "a cancel of {job} was refused in {state}: {e}");
            let rule = match state {
                JobState::Packaging | JobState::Completed | JobState::Closed => Rule::Cancel2,
                JobState::Creating | JobState::Shipping | JobState::Received | JobState::Transferring => {
                    Rule::Cancel1
                }
            };
            ensure!(
                *e == Error::CancelNotAllowed { job: job.clone(), state, rule },
                "a cancel of {job} in {state} was refused with {e:?}, not by {rule}"
            );
        }
    }
    Ok(())
}

/// Every cancel of the history, and a cancel of every job after every step (on a copy).
fn check_cancel_window(run: &Run) -> Result<(), String> {
    for (i, r) in run.records.iter().enumerate() {
        if let (Some(Command::Cancel { job }), Some(result)) = (r.command(), r.result()) {
            check_one_cancel(run.rules, &r.before, &r.timers, &r.after, job, result)
                .map_err(|e| format!("#{i}: {e}"))?;
        }
        for job in r.after.iter() {
            let mut probe = r.after.clone();
            let outcome = probe.execute(r.now, &Command::Cancel { job: job.name().clone() });
            check_one_cancel(run.rules, &r.after, &outcome.timers, &probe, job.name(), &outcome.result)
                .map_err(|e| format!("#{i}, probing a cancel at {}: {e}", r.now))?;
        }
    }
    Ok(())
}

/// A delete of `job` met after `timers`: accepted exactly in Creating, Completed and Closed
/// (R-DELETE-1), refused by R-DELETE-2 otherwise, and `isDeletable` agrees.
fn check_one_delete(
    rules: Rules,
    before: &Registry,
    timers: &[Event],
    after: &Registry,
    job: &JobName,
    result: &Result<Event, Error>,
) -> Result<(), String> {
    let pre = with_timers(before, timers)?;
    let Some(met) = pre.peek(job.as_str()) else {
        ensure!(
            result.as_ref().err()
                == Some(&Error::JobNotFound { operation: Operation::Delete, job: job.clone() }),
            "a delete of absent job {job} answered {result:?}"
        );
        return Ok(());
    };
    let state = met.state();
    let accepted = [JobState::Creating, JobState::Completed, JobState::Closed].contains(&state);
    ensure!(
        met.capabilities(&rules.policy()).is_deletable == accepted,
        "isDeletable of {job} in {state} is not {accepted}"
    );
    match result {
        Ok(event) => {
            ensure!(accepted, "a delete of {job} was accepted in {state}");
            ensure!(event.change == Change::Deleted, "a delete recorded {:?}", event.change);
            ensure!(after.peek(job.as_str()).is_none(), "deleted job {job} is still there");
        }
        Err(e) => {
            ensure!(!accepted, "a delete of {job} was refused in {state}: {e}");
            let expected = Error::DeleteNotAllowed { job: job.clone(), state, rule: Rule::Delete2 };
            ensure!(*e == expected, "a delete of {job} in {state} was refused with {e:?}");
        }
    }
    Ok(())
}

/// Every delete of the history, and a delete of every job after every step (on a copy).
fn check_delete_window(run: &Run) -> Result<(), String> {
    for (i, r) in run.records.iter().enumerate() {
        if let (Some(Command::Delete { job }), Some(result)) = (r.command(), r.result()) {
            check_one_delete(run.rules, &r.before, &r.timers, &r.after, job, result)
                .map_err(|e| format!("#{i}: {e}"))?;
        }
        for job in r.after.iter() {
            let mut probe = r.after.clone();
            let outcome = probe.execute(r.now, &Command::Delete { job: job.name().clone() });
            check_one_delete(run.rules, &r.after, &outcome.timers, &probe, job.name(), &outcome.result)
                .map_err(|e| format!("#{i}, probing a delete at {}: {e}", r.now))?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 3: R-CANCEL-6, R-CANCEL-7

/// No transfer starts on a job with `cancelRequested`, in the history or on a copy after any
/// step.
fn check_no_start_after_cancel(run: &Run) -> Result<(), String> {
    for (i, r) in run.records.iter().enumerate() {
        for e in r.events() {
            if let Change::TransferStarted { drive, .. } = &e.change {
                let met = r.pre.peek(e.job.as_str()).ok_or(format!("#{i}: a transfer started on no job"))?;
                ensure!(
                    !met.cancel_requested(),
                    "#{i}: drive {drive} of cancelled job {} started copying",
                    e.job
                );
            }
        }
        if let (Some(Command::StartTransfer { job, .. }), Some(result)) = (r.command(), r.result()) {
            if let Some(met) = r.pre.peek(job.as_str()).filter(|j| j.cancel_requested()) {
                ensure!(result.is_err(), "#{i}: a transfer started on cancelled job {job}");
                if matches!(met.state(), JobState::Received | JobState::Transferring) {
                    let rule = result.as_ref().err().map(Error::rule);
                    ensure!(rule == Some(Rule::Cancel7), "#{i}: refused by {rule:?}, not R-CANCEL-7");
                }
            }
        }
        for job in r.after.iter().filter(|j| j.cancel_requested()) {
            for d in job.drive_list().iter().map(|d| d.drive_id.clone()).chain([D::DX.id()]) {
                let mut probe = r.after.clone();
                let command = Command::StartTransfer { job: job.name().clone(), drive: d.clone() };
                let result = probe.execute(r.now, &command).result;
                ensure!(
                    result.is_err(),
                    "#{i}: on a copy, drive {d} of cancelled job {} started",
                    job.name()
                );
            }
        }
    }
    Ok(())
}

/// The drives copying at an accepted cancel may still report progress and finish, and every
/// byte reported counts: each drive's `bytesSucceeded` is the sum of its job's progress events.
fn check_transferring_at_cancel_go_on(run: &Run) -> Result<(), String> {
    let mut bytes: BTreeMap<(JobName, DriveId), u64> = BTreeMap::new();
    // The drives copying when each job's cancel was accepted.
    let mut at_cancel: BTreeMap<JobName, BTreeSet<DriveId>> = BTreeMap::new();
    for (i, r) in run.records.iter().enumerate() {
        for e in r.events() {
            match &e.change {
                Change::Created { .. } => {
                    bytes.retain(|(job, _), _| job != &e.job);
                    at_cancel.remove(&e.job);
                }
                Change::TransferProgressed { drive, bytes: n } => {
                    let sum = bytes.entry((e.job.clone(), drive.clone())).or_insert(0);
                    *sum = sum.checked_add(*n).ok_or(format!("#{i}: accepted progress overflows"))?;
                }
                Change::CancelRequested { .. } => {
                    if let Some(job) = r.pre.peek(e.job.as_str()).filter(|j| !j.cancel_requested()) {
                        let copying = job
                            .drive_list()
                            .iter()
                            .filter(|d| d.state == DriveState::Transferring)
                            .map(|d| d.drive_id.clone())
                            .collect();
                        at_cancel.insert(e.job.clone(), copying);
                    }
                }
                Change::Shipped { .. }
                | Change::Updated { .. }
                | Change::Deleted
                | Change::PackageReceived { .. }
                | Change::TransferStarted { .. }
                | Change::TransferFinished { .. }
                | Change::ShippedBack { .. }
                | Change::CreatingExpired
                | Change::NeverReceived { .. }
                | Change::OverdueClosed
                | Change::RetentionExpired => {}
            }
        }
        for job in r.after.iter() {
            for d in job.drive_list() {
                let sum = bytes.get(&(job.name().clone(), d.drive_id.clone())).copied().unwrap_or(0);
                ensure!(
                    d.bytes_succeeded == sum,
                    "#{i}: drive {} of {} counts {} bytes, its progress reports {sum}",
                    d.drive_id,
                    job.name(),
                    d.bytes_succeeded
                );
            }
        }
        // In the history: progress or finish of a drive that was copying at the cancel, still copying.
        if let (Some(command), Some(result)) = (r.command(), r.result()) {
            let (job, drive, n) = match command {
                Command::Progress { job, drive, bytes } => (job, drive, Some(*bytes)),
                Command::FinishTransfer { job, drive, .. } => (job, drive, None),
                Command::Create { .. }
                | Command::Ship { .. }
                | Command::Update { .. }
                | Command::Cancel { .. }
                | Command::Delete { .. }
                | Command::PackageReceived { .. }
                | Command::StartTransfer { .. }
                | Command::ShipBack { .. } => continue,
            };
            let copying = r.pre.peek(job.as_str()).and_then(|j| j.drive(drive.as_str())).filter(|d| {
                d.state == DriveState::Transferring
                    && n.is_none_or(|n| d.bytes_succeeded.checked_add(n).is_some())
            });
            let was_at_cancel = at_cancel.get(job).is_some_and(|set| set.contains(drive));
            if copying.is_some() && was_at_cancel {
                ensure!(
                    result.is_ok(),
                    "#{i}: {command:?}, a drive copying at the cancel, was refused: {result:?}"
                );
            }
        }
        // On a copy, right after an accepted cancel: every drive copying then progresses,
        // finishes, and its bytes count; then the job packs (R-CANCEL-8) and completes.
        let accepted_cancel = matches!(
            (r.command(), r.result()),
            (Some(Command::Cancel { .. }), Some(Ok(Event { change: Change::CancelRequested { .. }, .. })))
        );
        if accepted_cancel {
            let job = r.command().map(Command::job).cloned().ok_or("no job")?;
            let copying = at_cancel.get(&job).cloned().unwrap_or_default();
            let mut probe = r.after.clone();
            let mut now = r.now;
            for (k, d) in copying.iter().enumerate() {
                let before =
                    probe.peek(job.as_str()).and_then(|j| j.drive(d.as_str())).map(|d| d.bytes_succeeded);
                let Some(before) = before else { return Err(format!("#{i}: drive {d} of {job} vanished")) };
                let n = 7u64.min(u64::MAX - before);
                let progress = Command::Progress { job: job.clone(), drive: d.clone(), bytes: n };
                probe.execute(now, &progress).result.map_err(|e| format!("#{i}: after the cancel, {e}"))?;
                let after =
                    probe.peek(job.as_str()).and_then(|j| j.drive(d.as_str())).map(|d| d.bytes_succeeded);
                ensure!(
                    after == Some(before + n),
                    "#{i}: {n} bytes of drive {d} after the cancel did not count"
                );
                let result =
                    if k % 2 == 0 { TransferResult::CompletedMoreInfo } else { TransferResult::Completed };
                now = shift(now, NS);
                let finish = Command::FinishTransfer { job: job.clone(), drive: d.clone(), result };
                probe.execute(now, &finish).result.map_err(|e| format!("#{i}: after the cancel, {e}"))?;
                let drive = probe.peek(job.as_str()).and_then(|j| j.drive(d.as_str())).cloned();
                ensure!(
                    drive.as_ref().is_some_and(
                        |x| x.state == DriveState::from(result) && x.bytes_succeeded == before + n
                    ),
                    "#{i}: drive {d} finished after the cancel as {drive:?}"
                );
            }
            if !copying.is_empty() {
                let state = probe.peek(job.as_str()).map(Job::state);
                ensure!(
                    state == Some(JobState::Packaging),
                    "#{i}: once nothing of cancelled {job} copies it is in {state:?}, not Packaging"
                );
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 4: R-CANCEL-8

/// Every cancelled job that is finished is `Completed`, in the history and when any cancelled
/// job is driven to its end on a copy with every copy ending in errors (`CompletedMoreInfo`).
fn check_cancelled_ends_completed(run: &Run) -> Result<(), String> {
    for (i, r) in run.records.iter().enumerate() {
        for e in r.events() {
            if let Change::ShippedBack { state } = e.change {
                let cancelled = r.pre.peek(e.job.as_str()).is_some_and(Job::cancel_requested);
                ensure!(
                    !cancelled || state == JobState::Completed,
                    "#{i}: cancelled {} shipped back {state}",
                    e.job
                );
            }
        }
        for job in r.after.iter().filter(|j| j.cancel_requested()) {
            ensure!(
                !job.state().is_terminal() || job.state() == JobState::Completed,
                "#{i}: cancelled job {} is {}",
                job.name(),
                job.state()
            );
            if job.state() == JobState::Transferring {
                ensure!(
                    job.drive_list().iter().any(|d| d.state == DriveState::Transferring),
                    "#{i}: cancelled job {} stays in Transferring with nothing copying",
                    job.name()
                );
            }
            if !job.state().is_terminal() {
                let mut probe = r.after.clone();
                let end =
                    finish_life(&mut probe, r.now, job.name(), false, TransferResult::CompletedMoreInfo);
                if let Some(ended) = probe.peek(job.name().as_str()) {
                    ensure!(
                        !ended.state().is_terminal() || ended.state() == JobState::Completed,
                        "#{i}: cancelled job {} driven to its end at {end} is {}",
                        job.name(),
                        ended.state()
                    );
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 5: R-TIMER-3

/// A fraction of a retention period, log-uniform: `Log(u)` is `retention^u` nanoseconds.
#[derive(Debug, Clone, Copy)]
enum Epsilon {
    OneNano,
    Log(f64),
}

impl Epsilon {
    /// ε, between 1 ns and `retention` (`None` when the retention is 0).
    fn within(self, retention: SignedDuration) -> Option<SignedDuration> {
        let span = i64::try_from(retention.as_nanos()).ok()?;
        if span < 1 {
            return None;
        }
        let ns = match self {
            Epsilon::OneNano => 1,
            // `span` is below 2^63: rounding through f64 only moves ε by a few ns.
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            Epsilon::Log(u) => ((span as f64).powf(u).round() as i64).clamp(1, span),
        };
        Some(SignedDuration::from_nanos(ns))
    }
}

fn arb_epsilons() -> impl Strategy<Value = Vec<Epsilon>> {
    let one = prop_oneof![1 => Just(Epsilon::OneNano), 4 => (0.0f64..=1.0).prop_map(Epsilon::Log)];
    prop::collection::vec(one, 1..=4)
}

/// One finished job: visible and unchanged at `entered + retention - ε` for every ε, gone at
/// `entered + retention`, through `get`, `list` and `handle_timeout`.
fn check_retention_of(
    rules: Rules,
    registry: &Registry,
    job: &Job,
    epsilons: &[Epsilon],
    checked: &mut usize,
) -> Result<(), String> {
    let name = job.name();
    let retention = rules.retention();
    let Ok(end) = job.state_entered_at().checked_add(retention) else {
        // R-TIMER-5: a deadline beyond the time type never comes.
        let mut probe = registry.clone();
        ensure!(probe.get(Timestamp::MAX, name).result.is_ok(), "{name}'s unwritable deadline came");
        return Ok(());
    };
    *checked += 1;
    let deadline = job.next_deadline(registry.policy());
    ensure!(
        deadline.as_ref().map(|d| (d.at, d.timer)) == Some((end, Timer::RetentionExpired)),
        "{name} entered {} at {}: its deadline is {deadline:?}, not {end}",
        job.state(),
        job.state_entered_at()
    );
    let mut eps: Vec<SignedDuration> = epsilons.iter().filter_map(|e| e.within(retention)).collect();
    if retention > SignedDuration::ZERO {
        eps.push(NS);
    }
    for e in eps {
        let at = end - e;
        let mut probe = registry.clone();
        let seen = probe.get(at, name).result.cloned();
        ensure!(seen.as_ref() == Ok(job), "{name} at end - {e:?} ({at}) is {seen:?}, not unchanged");
        let listed = probe.list(at).result.map_err(|x| x.to_string())?.iter().any(|j| j.name() == name);
        ensure!(listed, "{name} at end - {e:?} ({at}) is not listed");
        let mut probe = registry.clone();
        let fired = probe.handle_timeout(at);
        ensure!(fired.iter().all(|t| t.job != *name), "{name}: a timer fired at end - {e:?}: {fired:?}");
        ensure!(probe.peek(name.as_str()) == Some(job), "{name} changed by handle_timeout at end - {e:?}");
    }
    let mut probe = registry.clone();
    let got = probe.get(end, name).result.err();
    ensure!(
        got == Some(Error::JobNotFound { operation: Operation::Get, job: name.clone() }),
        "{name} at entered + retention ({end}) answers {got:?}, not JobNotFound"
    );
    let mut probe = registry.clone();
    let fired = probe.handle_timeout(end);
    let expected = Event { at: end, job: name.clone(), change: Change::RetentionExpired };
    ensure!(fired.contains(&expected), "{name}: handle_timeout({end}) fired {fired:?}, not its retention");
    ensure!(probe.peek(name.as_str()).is_none(), "{name} is still there after handle_timeout({end})");
    Ok(())
}

fn check_retention(run: &Run, epsilons: &[Epsilon], finish_with: TransferResult) -> Result<usize, String> {
    let mut seen: BTreeSet<(JobName, Timestamp, Timestamp)> = BTreeSet::new();
    let mut checked = 0;
    for (i, r) in run.records.iter().enumerate() {
        for job in r.after.iter().filter(|j| j.state().is_terminal()) {
            if seen.insert((job.name().clone(), job.created_at(), job.state_entered_at())) {
                check_retention_of(run.rules, &r.after, job, epsilons, &mut checked)
                    .map_err(|e| format!("#{i}: {e}"))?;
            }
        }
    }
    // And every job of the end of the history, driven to its end (cancelled or not).
    for (k, j) in J::ALL.iter().enumerate() {
        let mut registry = run.last().clone();
        let end = finish_life(&mut registry, run.last_now(), &j.name(), k == 1, finish_with);
        if let Some(job) = registry.peek(j.name().as_str()).filter(|job| job.state().is_terminal()) {
            let job = job.clone();
            check_retention_of(run.rules, &registry, &job, epsilons, &mut checked)
                .map_err(|e| format!("{} driven to its end at {end}: {e}", j.name()))?;
        }
    }
    Ok(checked)
}

// ---------------------------------------------------------------------------------------------
// Property 6: R-FLOW-7

fn check_forward(run: &Run) -> Result<(), String> {
    for (i, r) in run.records.iter().enumerate() {
        let recreated: BTreeSet<&JobName> =
            r.events().filter(|e| matches!(e.change, Change::Created { .. })).map(|e| &e.job).collect();
        for (from, to, what) in [(&r.before, &r.pre, "its timers"), (&r.pre, &r.after, "the input")] {
            for new in to.iter() {
                if recreated.contains(new.name()) {
                    continue;
                }
                let Some(old) = from.peek(new.name().as_str()) else { continue };
                let (a, b) = (old.state(), new.state());
                ensure!(b.step() >= a.step(), "#{i}: {what} moved {} back from {a} to {b}", new.name());
                ensure!(
                    !a.is_terminal() || a == b,
                    "#{i}: {what} moved finished {} from {a} to {b}",
                    new.name()
                );
                ensure!(
                    a != b || old.state_entered_at() == new.state_entered_at(),
                    "#{i}: {} stayed in {a} but its stateEnteredAt moved",
                    new.name()
                );
                ensure!(new.created_at() == old.created_at(), "#{i}: {}'s createdAt moved", new.name());
                ensure!(
                    new.updated_at() >= old.updated_at(),
                    "#{i}: {}'s updatedAt went back (R-CLOCK-1)",
                    new.name()
                );
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 7: R-EVENT-1

fn check_replay(run: &Run) -> Result<(), String> {
    let mut replica = run.rules.registry();
    for (i, r) in run.records.iter().enumerate() {
        with_timers(&r.before, &r.timers).map_err(|e| format!("#{i}: {e}"))?;
        for e in r.events() {
            replica.apply(e).map_err(|err| format!("#{i}: {e:?} does not apply to the replica: {err}"))?;
        }
        ensure!(replica == r.after, "#{i}: the replica differs from the registry after the step");
    }
    let rebuilt = Registry::replay(run.policy(), &run.log).map_err(|(k, e)| format!("event {k}: {e}"))?;
    ensure!(&rebuilt == run.last(), "Registry::replay of the log differs from the registry");
    let json = serde_json::to_string(&run.log).map_err(|e| e.to_string())?;
    let log: Vec<Event> = serde_json::from_str(&json).map_err(|e| format!("{e}: {json}"))?;
    ensure!(log == run.log, "the log changed through JSON");
    let rebuilt = Registry::replay(run.policy(), &log).map_err(|(k, e)| format!("event {k}: {e}"))?;
    ensure!(&rebuilt == run.last(), "replaying the log read back from JSON differs from the registry");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 8: R-REFUSE-1

fn check_refusals(run: &Run) -> Result<usize, String> {
    let mut refusals = 0;
    for (i, r) in run.records.iter().enumerate() {
        let refused = match &r.answer {
            Answer::Event(result) => result.is_err(),
            Answer::Job(result) => result.is_err(),
            Answer::Jobs(result) => result.is_err(),
            Answer::Fired => false,
        };
        if refused {
            refusals += 1;
            let pre = with_timers(&r.before, &r.timers).map_err(|e| format!("#{i}: {e}"))?;
            ensure!(pre == r.after, "#{i}: the refused {} changed the registry", show_input(&r.input));
        }
        // Every command on every job, on a copy: a refusal changes nothing.
        for job in r.after.iter() {
            for command in commands_for(job) {
                let mut probe = r.after.clone();
                let before = probe.clone();
                let decided = probe.decide(r.now, &command);
                ensure!(probe == before, "#{i}: deciding {command:?} changed the registry");
                let outcome = probe.execute(r.now, &command);
                if outcome.result.is_err() {
                    refusals += 1;
                    let pre = with_timers(&before, &outcome.timers).map_err(|e| format!("#{i}: {e}"))?;
                    ensure!(
                        pre == probe,
                        "#{i}: on a copy at {}, the refused {command:?} changed the registry: {:?}",
                        r.now,
                        outcome.result
                    );
                }
                // Deciding gives the command's answer and its own job's due timers, whatever
                // other jobs' timers execute fired besides.
                ensure!(
                    decided.result == outcome.result,
                    "#{i}: decide said {decided:?}, execute did {outcome:?}"
                );
                let own: Vec<&Event> = outcome.timers.iter().filter(|e| &e.job == command.job()).collect();
                ensure!(
                    decided.timers.iter().collect::<Vec<_>>() == own,
                    "#{i}: decide's timers {:?} are not execute's {own:?}",
                    decided.timers
                );
            }
        }
    }
    Ok(refusals)
}

// ---------------------------------------------------------------------------------------------
// The per-job host: one JSON record per job and a deadline index, through `decider` alone

/// A host that keeps each job as its stored JSON, one record per name, and an index of the
/// records' deadlines, and reaches the rules only through the per-job functions of `decider`:
/// what an embedder with a key-value store does.
struct JsonHost {
    policy: Policy,
    records: BTreeMap<JobName, String>,
    deadlines: BTreeSet<(Timestamp, JobName)>,
}

impl JsonHost {
    fn load(&self, name: &JobName) -> Result<Option<Job>, String> {
        self.records
            .get(name)
            .map(|json| {
                Job::read(json.as_bytes(), name).map_err(|e| format!("record {name} does not read back: {e}"))
            })
            .transpose()
    }

    /// Writes the job back (or removes its record) and moves its index entry, after checking
    /// that the write the crate said is the one the records need.
    fn store(
        &mut self,
        name: &JobName,
        before: Option<&Job>,
        after: Option<&Job>,
        write: import_export_lifecycle::decider::Write,
    ) -> Result<(), String> {
        use import_export_lifecycle::decider::Write;
        // Nothing only when nothing changed; otherwise the kind follows from existence.
        let needed = match (before, after) {
            (b, a) if write == Write::Nothing => {
                ensure!(b == a, "{name}: the crate said Nothing, but the job changed");
                Write::Nothing
            }
            (None, Some(_)) => Write::Insert,
            (Some(_), Some(_)) => Write::Update,
            (Some(_), None) => Write::Delete,
            (None, None) => Write::Nothing,
        };
        ensure!(write == needed, "{name}: the crate said {write:?}, the records need {needed:?}");
        if let Some(d) = before.and_then(|j| j.next_deadline(&self.policy)) {
            self.deadlines.remove(&(d.at, name.clone()));
        }
        match after {
            Some(job) => {
                let json = serde_json::to_string(job).map_err(|e| e.to_string())?;
                self.records.insert(name.clone(), json);
                if let Some(d) = job.next_deadline(&self.policy) {
                    self.deadlines.insert((d.at, name.clone()));
                }
            }
            None => {
                self.records.remove(name);
            }
        }
        Ok(())
    }

    /// The deadline sweep: the earliest due record first, each fired at its own deadline.
    fn sweep(&mut self, now: Timestamp) -> Result<Vec<Event>, String> {
        let mut fired = Vec::new();
        while let Some((at, name)) = self.deadlines.first().cloned() {
            if at > now {
                break;
            }
            let before = self.load(&name)?;
            let mut job = before.clone();
            let fired_now = import_export_lifecycle::decider::handle_timeout(&mut job, &self.policy, at);
            ensure!(!fired_now.events.is_empty(), "the index said {name} was due at {at}, but nothing fired");
            self.store(&name, before.as_ref(), job.as_ref(), fired_now.write)?;
            fired.extend(fired_now.events);
        }
        Ok(fired)
    }

    /// `decider::handle_timeout` at a reader's `now` on one record, stored back.
    fn read(&mut self, now: Timestamp, name: &JobName) -> Result<Vec<Event>, String> {
        let before = self.load(name)?;
        let mut job = before.clone();
        let fired = import_export_lifecycle::decider::handle_timeout(&mut job, &self.policy, now);
        self.store(name, before.as_ref(), job.as_ref(), fired.write)?;
        Ok(fired.events)
    }

    fn perform(&mut self, now: Timestamp, input: &Input) -> Result<(Vec<Event>, Answer), String> {
        let mut timers = self.sweep(now)?;
        let answer = match input {
            Input::Command(command) => {
                let name = command.job();
                let before = self.load(name)?;
                let mut job = before.clone();
                let executed =
                    import_export_lifecycle::decider::execute(&mut job, &self.policy, now, command);
                self.store(name, before.as_ref(), job.as_ref(), executed.write)?;
                let outcome = executed.outcome;
                timers.extend(outcome.timers);
                Answer::Event(outcome.result)
            }
            Input::Get(name) => {
                timers.extend(self.read(now, name)?);
                Answer::Job(
                    self.load(name)?
                        .ok_or_else(|| Error::JobNotFound { operation: Operation::Get, job: name.clone() }),
                )
            }
            Input::List => {
                // The jobs a command at `now` would find due first, earliest first.
                let mut due = Vec::new();
                for name in self.records.keys() {
                    if let Some(job) = self.load(name)? {
                        let at = now.max(job.updated_at());
                        if let Some(d) = job.next_deadline(&self.policy).filter(|d| d.at <= at) {
                            due.push((d.at, name.clone()));
                        }
                    }
                }
                due.sort();
                for (_, name) in due {
                    timers.extend(self.read(now, &name)?);
                }
                let mut jobs = Vec::new();
                for name in self.records.keys() {
                    jobs.extend(self.load(name)?);
                }
                Answer::Jobs(Ok(jobs))
            }
            Input::Timeout => Answer::Fired,
        };
        Ok((timers, answer))
    }
}

/// The same answer, compared by value (`Answer` holds errors and jobs, which compare).
fn same_answer(a: &Answer, b: &Answer) -> bool {
    match (a, b) {
        (Answer::Event(x), Answer::Event(y)) => x == y,
        (Answer::Job(x), Answer::Job(y)) => x == y,
        (Answer::Jobs(x), Answer::Jobs(y)) => x == y,
        (Answer::Fired, Answer::Fired) => true,
        (Answer::Event(_) | Answer::Job(_) | Answer::Jobs(_) | Answer::Fired, _) => false,
    }
}

/// Replays the history's inputs on a [`JsonHost`]: every answer, every fired timer and, after
/// every step, every job must be exactly the registry's.
fn check_per_job_host(run: &Run) -> Result<(), String> {
    let mut host = JsonHost { policy: run.policy(), records: BTreeMap::new(), deadlines: BTreeSet::new() };
    for (i, r) in run.records.iter().enumerate() {
        let (timers, answer) = host.perform(r.now, &r.input)?;
        ensure!(timers == r.timers, "#{i}: the host fired {timers:?}, the registry {:?}", r.timers);
        ensure!(
            same_answer(&answer, &r.answer),
            "#{i}: the host answered {answer:?}, the registry {:?}",
            r.answer
        );
        let mut jobs = Vec::new();
        for name in host.records.keys() {
            jobs.extend(host.load(name)?);
        }
        let mut expected: Vec<Job> = r.after.iter().cloned().collect();
        expected.sort_by(|a, b| a.name().cmp(b.name()));
        ensure!(jobs == expected, "#{i}: the host holds {jobs:?}, the registry {expected:?}");
        let next = host.deadlines.first().map(|(at, _)| *at);
        ensure!(
            next == r.after.next_deadline().map(|d| d.at),
            "#{i}: the host's next deadline {next:?} is not the registry's {:?}",
            r.after.next_deadline()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 9: R-INPUT-1

fn check_invariants(run: &Run) -> Result<(), String> {
    for (i, r) in run.records.iter().enumerate() {
        for job in r.after.iter() {
            job.check(r.after.policy()).map_err(|e| format!("#{i}: {e}"))?;
            let _ = job.capabilities(r.after.policy());
            let _ = job.removal_at(r.after.policy());
            let _ = JobView::new(job, r.after.policy());
        }
        let _ = r.after.next_deadline();
        ensure!(r.after.len() <= J::ALL.len(), "#{i}: more jobs than names");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 10: serde

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) -> Result<(), String> {
    let json = serde_json::to_string(value).map_err(|e| format!("{value:?} does not serialize: {e}"))?;
    let back: T = serde_json::from_str(&json).map_err(|e| format!("{json} does not deserialize: {e}"))?;
    ensure!(&back == value, "{value:?} came back from {json} as {back:?}");
    let again = serde_json::to_string(&back).map_err(|e| e.to_string())?;
    ensure!(again == json, "{json} serializes again as {again}");
    Ok(())
}

fn check_serde(run: &Run) -> Result<(), String> {
    round_trip(&run.policy())?;
    round_trip(&run.log)?;
    let mut steps = Vec::new();
    let mut at = run.start;
    for r in &run.records {
        round_trip(&r.after)?;
        round_trip(&r.now)?;
        round_trip(&r.after.next_deadline())?;
        let outcome = Outcome {
            timers: r.timers.clone(),
            result: r.result().cloned().unwrap_or(Ok(Event {
                at: r.now,
                job: J::J1.name(),
                change: Change::Deleted,
            })),
        };
        round_trip(&outcome)?;
        for e in r.events() {
            round_trip(e)?;
            round_trip(&e.change)?;
            round_trip(&e.job)?;
            if let Some(timer) = e.timer() {
                round_trip(&timer)?;
            }
        }
        match &r.answer {
            Answer::Event(Err(e)) | Answer::Job(Err(e)) | Answer::Jobs(Err(e)) => {
                round_trip(e)?;
                round_trip(&e.rule())?;
                round_trip(&e.operation())?;
                if let Error::InvalidRequest { problem, .. } = e {
                    round_trip(problem)?;
                }
            }
            Answer::Event(Ok(_)) | Answer::Job(Ok(_)) | Answer::Jobs(Ok(_)) | Answer::Fired => {}
        }
        for job in r.after.iter() {
            round_trip(job)?;
            round_trip(job.name())?;
            round_trip(&job.state())?;
            round_trip(&job.job_type())?;
            round_trip(&JobView::new(job, r.after.policy()))?;
            let caps: Capabilities = job.capabilities(r.after.policy());
            round_trip(&caps)?;
            if let Some(p) = job.delivery_package() {
                round_trip(p)?;
            }
            for d in job.drive_list() {
                round_trip(d)?;
                round_trip(&d.drive_id)?;
                round_trip(&d.state)?;
            }
            if let Some(deadline) = job.next_deadline(r.after.policy()) {
                round_trip::<Deadline>(&deadline)?;
            }
        }
        // The same history as a scenario (instants made non-decreasing), and its transcript.
        at = at.max(r.now);
        let action = match &r.input {
            Input::Command(c) => {
                round_trip(c)?;
                Some(Action::Command(c.clone()))
            }
            Input::Get(job) => Some(Action::Read(Read::Get { job: job.clone() })),
            Input::List => Some(Action::Read(Read::List)),
            Input::Timeout => None,
        };
        if let Some(action) = action {
            steps.push(ScenarioStep { at, action });
        }
    }
    let scenario = Scenario { title: Some("generated".into()), policy: run.policy(), steps };
    round_trip(&scenario)?;
    let transcript: Transcript = replay(&scenario);
    round_trip(&transcript)?;
    for line in &transcript.lines {
        round_trip(line)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 11: next_deadline

fn check_next_deadline(run: &Run) -> Result<(), String> {
    for (i, r) in run.records.iter().enumerate() {
        let registry = &r.after;
        let next = registry.next_deadline();
        let earliest = registry.iter().filter_map(|j| j.next_deadline(registry.policy())).map(|d| d.at).min();
        ensure!(
            next.as_ref().map(|d| d.at) == earliest,
            "#{i}: next_deadline is {next:?}, the jobs' earliest deadline {earliest:?}"
        );
        match next {
            Some(d) => {
                if let Ok(just_before) = d.at.checked_sub(NS) {
                    let mut probe = registry.clone();
                    let fired = probe.handle_timeout(just_before);
                    ensure!(fired.is_empty(), "#{i}: handle_timeout 1 ns before {d:?} fired {fired:?}");
                    ensure!(
                        &probe == registry,
                        "#{i}: handle_timeout 1 ns before {d:?} changed the registry"
                    );
                }
                let mut probe = registry.clone();
                let fired = probe.handle_timeout(d.at);
                let first = fired.first();
                ensure!(
                    first.is_some_and(|e| e.at == d.at && e.job == d.job && e.timer() == Some(d.timer)),
                    "#{i}: handle_timeout at {d:?} fired {fired:?}"
                );
            }
            None => {
                let mut probe = registry.clone();
                let fired = probe.handle_timeout(Timestamp::MAX);
                ensure!(fired.is_empty(), "#{i}: no deadline, yet handle_timeout(MAX) fired {fired:?}");
                ensure!(
                    &probe == registry,
                    "#{i}: no deadline, yet handle_timeout(MAX) changed the registry"
                );
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The properties

proptest! {
    #![proptest_config(config(256))]

    /// R-GONE-2: a job made by a create, whether or not its name was used before, is exactly the
    /// new job the command describes (no cancelRequested, no package, fresh drives with 0 bytes,
    /// createdAt = the create's instant), and at every later step it equals the job rebuilt
    /// from its own events alone on an empty registry: nothing of an earlier holder leaks in.
    #[test]
    fn r_gone_2_a_job_that_takes_a_removed_name_shares_nothing_with_the_old_one(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_fresh(&run))?;
    }

    /// R-CANCEL-1 (with R-CANCEL-2): a cancel is accepted exactly in Creating, Shipping, Received
    /// and Transferring (by default; the narrower windows when the policy says so), in the state
    /// the job is in once its due timers fired. Checked on every cancel of the history and on a
    /// cancel of every job after every step (on a copy); `isCancellable` agrees, and a refusal
    /// names R-CANCEL-2 from Packaging on, R-CANCEL-1 before.
    #[test]
    fn r_cancel_1_a_cancel_is_accepted_exactly_in_creating_shipping_received_transferring(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_cancel_window(&run))?;
    }

    /// R-DELETE-1 (with R-DELETE-2; not one of the eleven lifecycle properties, added because no other
    /// property notices a delete accepted in the wrong state): a delete is accepted exactly in
    /// Creating, Completed and Closed, in the state the job is in once its due timers fired, on
    /// every delete of the history and on a delete of every job after every step (on a copy);
    /// `isDeletable` agrees and a refusal names R-DELETE-2.
    #[test]
    fn r_delete_1_a_delete_is_accepted_exactly_in_creating_completed_closed_in_any_history(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_delete_window(&run))?;
    }

    /// R-CANCEL-7: no drive of a job with `cancelRequested` ever starts a transfer: no
    /// `transferStarted` event follows a cancel, every start in the history on such a job is
    /// refused (by R-CANCEL-7 when the job is in Received or Transferring), and so is a start of
    /// each of its drives tried on a copy after every step.
    #[test]
    fn r_cancel_7_no_drive_starts_a_transfer_after_a_cancel_in_any_history(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_no_start_after_cancel(&run))?;
    }

    /// R-CANCEL-6: every drive copying when a cancel is accepted can still report progress and
    /// finish (in the history, and all of them on a copy right after the cancel, after which the
    /// job is in Packaging), and every byte reported counts: after every step each drive's
    /// `bytesSucceeded` is the sum of its job's progress events.
    #[test]
    fn r_cancel_6_drives_copying_at_the_cancel_progress_and_finish_and_their_bytes_count(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_transferring_at_cancel_go_on(&run))?;
    }

    /// R-CANCEL-8: a cancelled job that is finished is `Completed`, never `Closed`: checked on
    /// every job after every step, on every ship-back, and by driving every unfinished cancelled
    /// job to its end on a copy with every copy ending with errors (which makes a job that was
    /// not cancelled `Closed`). A cancelled job is never in Transferring with nothing copying.
    #[test]
    fn r_cancel_8_a_cancelled_job_that_finishes_is_completed_never_closed(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_cancelled_ends_completed(&run))?;
    }

    /// R-FLOW-7: between any two consecutive registries of a history (before the step, once
    /// its timers fired, after it) a job's state never goes back along Creating, Shipping,
    /// Received, Transferring, Packaging, Completed | Closed, a finished job never changes
    /// state, and its instants never go back.
    #[test]
    fn r_flow_7_a_jobs_state_only_moves_forward_in_every_history(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_forward(&run))?;
    }

    /// A host that keeps one JSON record per job and a deadline index, and calls only the
    /// per-job functions of `decider`, answers every input exactly as the `Registry` does:
    /// the same timers fired (in the same order, at the same instants), the same answers, the
    /// same jobs and the same next deadline after every step.
    #[test]
    fn per_job_host_answers_exactly_as_the_registry(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_per_job_host(&run))?;
    }

    /// R-EVENT-1: the events of a history (timers and commands, in order) applied one by one to
    /// an empty registry under the same policy give, after every step, exactly the registry of
    /// the history; `Registry::replay` of the whole log (also once read back from JSON) gives the
    /// final one.
    #[test]
    fn r_event_1_replaying_the_log_of_any_history_rebuilds_the_registry(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_replay(&run))?;
    }

    /// R-TIMER-4 (property 11): after every step, `next_deadline` is the earliest of the jobs'
    /// deadlines; `handle_timeout` 1 ns before it fires nothing and changes nothing, and at it
    /// fires that very timer first; with no deadline, `handle_timeout(Timestamp::MAX)` fires
    /// nothing.
    #[test]
    fn r_timer_4_next_deadline_is_the_first_instant_at_which_handle_timeout_changes_anything(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_next_deadline(&run))?;
    }

    /// R-INPUT-1 (property 9): no history panics, however extreme: instants at and near
    /// `Timestamp::MIN` / `MAX` (a third of the jumps of these histories go there), earlier
    /// instants, unknown jobs and drives, empty, repeated and eleven-drive lists, `u64::MAX`
    /// bytes; and every job passes `Job::check` under its registry's policy after every step.
    #[test]
    fn r_input_1_no_history_panics_and_every_job_keeps_its_invariants(history in arb_history_with(40, 25)) {
        let run = run(&history);
        verdict(&run, check_invariants(&run))?;
    }
}

proptest! {
    #![proptest_config(config(384))]

    /// R-TIMER-3 (property 5): every job that is finished at some step of a history (and every
    /// job of the end of the history, driven to its end) is visible and unchanged through `get`,
    /// `list` and `handle_timeout` at `stateEnteredAt + retention - ε` for ε log-uniform over
    /// 1 ns..retention and ε = 1 ns, and gone at `stateEnteredAt + retention` exactly. The
    /// retention is the literal 90 days for the default policy, else the policy's (0, 1, 89,
    /// 91, up to 400 days).
    #[test]
    fn r_timer_3_a_finished_job_is_visible_until_entered_plus_retention_minus_any_epsilon_and_gone_then(
        history in arb_history(),
        epsilons in arb_epsilons(),
        clean in any::<bool>(),
    ) {
        let run = run(&history);
        let result = if clean { TransferResult::Completed } else { TransferResult::CompletedMoreInfo };
        verdict(&run, check_retention(&run, &epsilons, result).map(drop))?;
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// R-GONE-1: once a job is deleted or removed by a timer, every operation on its name
    /// (ship, cancel, delete, package, start, progress, finish, ship back, get, list, and the
    /// timers) answers `JobNotFound` / leaves it out, in the history and probed on a copy after
    /// every step at that step's instant and at `Timestamp::MAX`, until a create takes the name.
    #[test]
    fn r_gone_1_a_removed_job_is_never_visible_again_until_a_new_one_takes_the_name(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_gone(&run))?;
    }

    /// R-REFUSE-1: every refused input of the history leaves the registry equal to what it was
    /// once the input's due timers fired; after every step, every command on every job (each
    /// operation, each drive, `DX`, `u64::MAX` bytes) tried on a copy: if refused, the copy is
    /// unchanged too. `decide` never changes anything.
    #[test]
    fn r_refuse_1_every_refused_operation_leaves_the_registry_unchanged(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_refusals(&run).map(drop))?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// Property 10 (no rule of its own; R-EVENT-1 relies on it for registries and logs): every
    /// public data type met in a history survives JSON unchanged and serializes again to the
    /// same text: Registry, Job, Drive, PackageInfo, Event, Change, Command, Outcome, Error,
    /// Problem, Rule, Operation, Deadline, Timer, Policy, Capabilities, JobView, names, states,
    /// instants, and the history as a Scenario with its Transcript and Lines.
    #[test]
    fn serde_round_trips_every_public_data_type_unchanged(history in arb_history()) {
        let run = run(&history);
        verdict(&run, check_serde(&run))?;
    }
}

// ---------------------------------------------------------------------------------------------
// The generator's reach

/// What a sample of histories reached, as the fraction of histories in which each happened.
#[derive(Default)]
struct Reach {
    histories: usize,
    states: BTreeMap<String, usize>,
    other: BTreeMap<&'static str, usize>,
}

impl Reach {
    fn note(&mut self, run: &Run) {
        self.histories += 1;
        let mut states = BTreeSet::new();
        let mut other = BTreeSet::new();
        let mut removed = BTreeSet::new();
        for r in &run.records {
            for job in r.after.iter() {
                states.insert(job.state().to_string());
                if job.state() == JobState::Completed && job.cancel_requested() {
                    other.insert("cancelled job Completed");
                }
            }
            if r.now == Timestamp::MIN || r.now == Timestamp::MAX {
                other.insert("instant MIN or MAX");
            }
            if let (Some(Command::Cancel { job }), Some(Ok(_))) = (r.command(), r.result()) {
                if r.pre.peek(job.as_str()).is_some_and(|j| j.state() == JobState::Transferring) {
                    other.insert("cancel accepted in Transferring");
                }
            }
            if let (Some(Command::Cancel { .. }), Some(Err(_))) = (r.command(), r.result()) {
                other.insert("cancel refused");
            }
            for e in r.events() {
                match &e.change {
                    Change::CreatingExpired => {
                        other.insert("timer CreatingExpired");
                    }
                    Change::NeverReceived { .. } => {
                        other.insert("timer NeverReceived");
                    }
                    Change::OverdueClosed => {
                        other.insert("timer OverdueClosed");
                    }
                    Change::Updated { .. } => {
                        other.insert("update accepted");
                    }
                    Change::RetentionExpired => {
                        other.insert("timer RetentionExpired");
                    }
                    Change::Deleted => {
                        other.insert("delete accepted");
                    }
                    Change::Created { .. } if removed.contains(&e.job) => {
                        other.insert("a removed name taken again");
                    }
                    Change::TransferProgressed { .. } => {
                        if r.pre.peek(e.job.as_str()).is_some_and(Job::cancel_requested) {
                            other.insert("progress after a cancel");
                        }
                    }
                    Change::Created { .. }
                    | Change::Shipped { .. }
                    | Change::CancelRequested { .. }
                    | Change::PackageReceived { .. }
                    | Change::TransferStarted { .. }
                    | Change::TransferFinished { .. }
                    | Change::ShippedBack { .. } => {}
                }
                if removes(e) {
                    removed.insert(e.job.clone());
                }
            }
            if let Answer::Event(Err(Error::JobNotFound { job, .. })) = &r.answer {
                if removed.contains(job) {
                    other.insert("an operation on a removed name");
                }
            }
        }
        for s in states {
            *self.states.entry(s).or_default() += 1;
        }
        for o in other {
            *self.other.entry(o).or_default() += 1;
        }
    }

    fn percent(&self, n: usize) -> usize {
        n * 100 / self.histories.max(1)
    }
}

/// The generator reaches every job state, a cancel accepted in Transferring, every timer, a
/// re-created name and the extreme instants in a good share of histories (figures printed with
/// `--nocapture`). A fixed seed: the figures are the same on every run.
#[test]
fn generator_reaches_every_state_and_a_cancel_while_transferring() {
    let mut runner = TestRunner::deterministic();
    let strategy = arb_history();
    let mut reach = Reach::default();
    let sample = 500;
    for _ in 0..sample {
        let history = strategy.new_tree(&mut runner).unwrap().current();
        reach.note(&run(&history));
    }
    let mut lines = Vec::new();
    for state in JobState::iter() {
        let n = reach.states.get(&state.to_string()).copied().unwrap_or(0);
        lines.push((format!("state {state}"), reach.percent(n)));
    }
    for (what, n) in &reach.other {
        lines.push(((*what).to_string(), reach.percent(*n)));
    }
    println!("share of {sample} generated histories that reached:");
    for (what, pct) in &lines {
        println!("  {what:<40} {pct:>3}%");
    }
    for (what, pct) in &lines {
        let floor = if what.starts_with("state ") { 10 } else { 5 };
        assert!(*pct >= floor, "only {pct}% of the histories reach {what}, less than {floor}%");
    }
    for needed in ["cancel accepted in Transferring", "a removed name taken again", "timer NeverReceived"] {
        assert!(reach.other.contains_key(needed), "no history reaches {needed}");
    }
}

/// Serde of the types a history does not produce: every rule, state, timer, window, operation,
/// problem, and the exploration of the lifecycle.
#[test]
fn serde_round_trips_every_enumerated_value_unchanged() {
    for rule in Rule::iter() {
        round_trip(&rule).unwrap();
    }
    for state in JobState::iter() {
        round_trip(&state).unwrap();
    }
    for state in DriveState::iter() {
        round_trip(&state).unwrap();
    }
    for t in JobType::iter() {
        round_trip(&t).unwrap();
    }
    for t in TransferResult::iter() {
        round_trip(&t).unwrap();
    }
    for t in Timer::iter() {
        round_trip(&t).unwrap();
    }
    for w in CancelWindow::iter() {
        round_trip(&w).unwrap();
    }
    for op in Operation::iter() {
        round_trip(&op).unwrap();
    }
    for at in [Timestamp::MIN, Timestamp::MAX, shift(Timestamp::MAX, -NS), t0()] {
        round_trip(&at).unwrap();
    }
    let d = D::D1.id();
    for problem in [
        Problem::EmptyJobName,
        Problem::JobNameTooLong { len: 65 },
        Problem::JobNameCharacter { character: 'é' },
        Problem::EmptyDriveId,
        Problem::DriveIdTooLong { len: 99 },
        Problem::DriveIdCharacter { character: ' ' },
        Problem::TooManyDrives { count: 11 },
        Problem::DuplicateDrive { drive: d.clone() },
        Problem::NoDrives,
        Problem::DrivesOnExport,
        Problem::EventDoesNotFollow,
        Problem::BytesOverflow { drive: d },
    ] {
        round_trip(&problem).unwrap();
        round_trip(&Error::InvalidRequest { operation: Operation::Replay, problem }).unwrap();
    }
    round_trip(&PackageInfo::default()).unwrap();
    round_trip(&Policy { retention_days: u32::MAX, ..Policy::default() }).unwrap();
    round_trip(&import_export_lifecycle::scenarios::explore(&Policy::default())).unwrap();
}

// ---------------------------------------------------------------------------------------------
// R-GONE-1, R-CLOCK-1: one truth about existence.

/// Policies whose periods are zero or one day: a timer can be due at the very instant its job
/// entered its state, which is where a read and a command once disagreed.
fn arb_zero_day_rules() -> impl Strategy<Value = Rules> + Clone {
    let days = prop_oneof![Just(0u32), Just(1u32)];
    let close = prop_oneof![Just(None), Just(Some(0u32)), Just(Some(1u32))];
    (days.clone(), days.clone(), days, close, arb_window()).prop_map(|(r, c, s, o, w)| {
        Rules::Custom(Policy {
            retention_days: r,
            creating_expiry_days: c,
            shipping_expiry_days: s,
            overdue_close_days: o,
            cancel_window: w,
        })
    })
}

fn arb_zero_day_history() -> impl Strategy<Value = History> {
    let step = (arb_when(0), arb_op()).prop_map(|(at, op)| Step { at, op });
    Pruned(
        (arb_zero_day_rules(), Just(t0()), prop::collection::vec(step, 1..=40))
            .prop_map(|(rules, start, steps)| History { rules, start, steps }),
    )
}

/// After every step, at its instant, an hour and a day earlier (a clock gone back) and a day
/// later: `get`, `list` and a command agree on whether each job exists; and every event the
/// calls reported, timers included, rebuilds the registry: nothing fired unreported.
fn check_one_truth(run: &Run) -> Result<(), String> {
    for (i, record) in run.records.iter().enumerate() {
        for at in [
            record.now,
            shift(record.now, -SignedDuration::from_hours(1)),
            shift(record.now, -DAY),
            shift(record.now, DAY),
        ] {
            for j in J::ALL {
                let name = j.name();
                let read = record.after.clone().get(at, &name).result.is_ok();
                let listed = record
                    .after
                    .clone()
                    .list(at)
                    .result
                    .is_ok_and(|jobs| jobs.iter().any(|job| *job.name() == name));
                let decided = record.after.decide(at, &Command::Cancel { job: name.clone() });
                let commanded = !matches!(decided.result, Err(Error::JobNotFound { .. }));
                ensure!(
                    read == listed && read == commanded,
                    "after step #{i}, at {at}: {name} exists for get: {read}, for list: {listed}, for a command: {commanded}"
                );
            }
        }
    }
    let rebuilt = Registry::replay(run.policy(), &run.log)
        .map_err(|(i, e)| format!("event #{i} does not follow: {e}"))?;
    ensure!(
        rebuilt == *run.last(),
        "the reported events do not rebuild the registry: something fired unreported"
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    /// R-GONE-1 under zero- and one-day policies with clocks that go back: a read and a command
    /// agree, at every instant, on whether a job exists, and whatever fired was reported.
    #[test]
    fn r_gone_1_a_read_and_a_command_agree_on_existence_at_every_instant(history in arb_zero_day_history()) {
        let run = run(&history);
        verdict(&run, check_one_truth(&run))?;
    }
}
