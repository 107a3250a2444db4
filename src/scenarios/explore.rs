//! The lifecycle explored from the code's own rules: every configuration one job can reach, and
//! what every input does in each. `docs/lifecycle.md` (state diagram and transition table) is
//! generated from it, so the documents cannot drift from the rules.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator;

use crate::hosts::registry::Registry;
use crate::model::command::Command;
use crate::model::error::Operation;
use crate::model::job::Job;
use crate::model::name::{DriveId, JobName};
use crate::model::policy::Policy;
use crate::model::rule::Rule;
use crate::model::state::{DriveState, JobState, JobType, TransferResult};
use crate::model::timer::Timer;
use crate::model::update::UpdateField;

/// An input of the exploration: an operation, or the job's pending timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Input {
    /// A command (`get` and `list` never change anything and are left out).
    Operation(Operation),
    /// The job's timer came due.
    Timer(Timer),
}

/// What an input did to a job in a given state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Effect {
    /// Accepted; the job moved to this state.
    Moves(JobState),
    /// Accepted; the job stayed in its state (its drives or flags may have changed).
    Stays,
    /// Accepted; the job is gone.
    Removed,
    /// Refused with this error code, by this rule.
    Refused {
        /// The error's code.
        code: String,
        /// The rule that refused it.
        rule: Rule,
    },
}

/// Where a job stands, as far as the table is concerned: its state and whether a cancel was
/// accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Situation {
    /// The job's state.
    pub state: JobState,
    /// A cancel was accepted.
    pub cancel_requested: bool,
}

/// Every configuration one job can reach from its creation (an import job with two drives, an
/// export job), and what every input does in each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exploration {
    /// How many distinct configurations (state, flags, each drive's state and whether it has
    /// copied bytes) were reached.
    pub configurations: usize,
    /// How many (configuration, input) pairs were tried.
    pub transitions: usize,
    /// For each situation and input, every effect seen, in order.
    pub table: Vec<Cell>,
}

/// One cell of the transition table: what an input did in a situation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// The job's state and cancel flag before the input.
    pub situation: Situation,
    /// The input.
    pub input: Input,
    /// Every effect seen, in order.
    pub effects: Vec<Effect>,
}

type Table = BTreeMap<Situation, BTreeMap<Input, BTreeSet<Effect>>>;

/// What identifies a configuration: the job minus its instants and byte counts.
type Key = (JobType, JobState, bool, bool, Vec<(DriveId, DriveState, bool)>);

fn key(job: &Job) -> Key {
    (
        job.job_type(),
        job.state(),
        job.cancel_requested(),
        job.package_overdue(),
        job.drive_list().iter().map(|d| (d.drive_id.clone(), d.state, d.bytes_succeeded > 0)).collect(),
    )
}

/// Every non-empty subset of `ids`, in a fixed order.
fn subsets(ids: &[DriveId]) -> Vec<Vec<DriveId>> {
    (1u32..(1 << ids.len()))
        .map(|mask| {
            ids.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, id)| id.clone()).collect()
        })
        .collect()
}

/// Every command worth trying on `job` (drive ids of the job, and of an export package).
fn commands(job: &Job, export_drives: &[DriveId]) -> Vec<Command> {
    let name = job.name().clone();
    let own: Vec<DriveId> = job.drive_list().iter().map(|d| d.drive_id.clone()).collect();
    let drives: Vec<DriveId> = match job.job_type() {
        JobType::Import => own.clone(),
        JobType::Export => export_drives.to_vec(),
    };
    let mut out = vec![
        Command::Create { job: name.clone(), job_type: job.job_type(), drives: own.clone() },
        Command::Ship { job: name.clone(), carrier: None, tracking_number: None },
        Command::Cancel { job: name.clone() },
        Command::Delete { job: name.clone() },
        Command::ShipBack { job: name.clone() },
    ];
    // Each field on its own, so the table shows which rule refuses which field; the drive list
    // replaced by the job's own drives (an export job's by its package's).
    for field in UpdateField::iter() {
        let given = if field == UpdateField::DriveList { drives.clone() } else { Vec::new() };
        out.push(Command::Update {
            job: name.clone(),
            fields: vec![field],
            drives: given,
            delivery_package: None,
        });
    }
    for package in subsets(&drives) {
        out.push(Command::PackageReceived { job: name.clone(), drives: package });
    }
    for drive in &drives {
        out.push(Command::StartTransfer { job: name.clone(), drive: drive.clone() });
        out.push(Command::Progress { job: name.clone(), drive: drive.clone(), bytes: 1 });
        for result in TransferResult::iter() {
            out.push(Command::FinishTransfer { job: name.clone(), drive: drive.clone(), result });
        }
    }
    out
}

/// Explores the lifecycle under `policy`, breadth first, from a new import job with drives
/// `D1`, `D2` and a new export job whose package may hold `E1`, `E2`. Time moves one hour per
/// command, or jumps to the job's deadline for its timer.
pub fn explore(policy: &Policy) -> Exploration {
    let origin: Timestamp = Timestamp::UNIX_EPOCH;
    let job = JobName::new("job").ok();
    let ids = |names: [&str; 2]| names.iter().filter_map(|n| DriveId::new(n).ok()).collect::<Vec<_>>();
    let (import_drives, export_drives) = (ids(["D1", "D2"]), ids(["E1", "E2"]));
    let mut seen: BTreeSet<Key> = BTreeSet::new();
    let mut queue: VecDeque<Registry> = VecDeque::new();
    for (job_type, drives) in [(JobType::Import, import_drives), (JobType::Export, Vec::new())] {
        let Some(job) = job.clone() else { continue };
        let mut registry = Registry::new(*policy);
        if registry.execute(origin, &Command::Create { job, job_type, drives }).result.is_ok() {
            queue.push_back(registry);
        }
    }
    let (mut configurations, mut transitions) = (0, 0);
    let mut table: Table = BTreeMap::new();
    while let Some(registry) = queue.pop_front() {
        let Some(job) = registry.iter().next() else { continue };
        if !seen.insert(key(job)) {
            continue;
        }
        configurations += 1;
        let situation = Situation { state: job.state(), cancel_requested: job.cancel_requested() };
        let name = job.name().clone();
        let now = job.updated_at().checked_add(SignedDuration::from_hours(1)).unwrap_or(Timestamp::MAX);
        let mut tries: Vec<(Input, Registry, Effect)> = Vec::new();
        for command in commands(job, &export_drives) {
            let mut next = registry.clone();
            let effect = match next.execute(now, &command).result {
                Ok(event) => effect_on(&next, &name, situation.state, event.removes_job()),
                Err(e) => Effect::Refused { code: e.code().to_string(), rule: e.rule() },
            };
            tries.push((Input::Operation(command.operation()), next, effect));
        }
        if let Some(deadline) = registry.next_deadline() {
            let mut next = registry.clone();
            let removed = next.handle_timeout(deadline.at).iter().any(|e| e.removes_job());
            let effect = effect_on(&next, &name, situation.state, removed);
            tries.push((Input::Timer(deadline.timer), next, effect));
        }
        for (input, next, effect) in tries {
            transitions += 1;
            if let Effect::Moves(_) | Effect::Stays = effect {
                queue.push_back(next);
            }
            table.entry(situation).or_default().entry(input).or_default().insert(effect);
        }
    }
    let table = table
        .into_iter()
        .flat_map(|(situation, row)| {
            row.into_iter().map(move |(input, effects)| Cell {
                situation,
                input,
                effects: effects.into_iter().collect(),
            })
        })
        .collect();
    Exploration { configurations, transitions, table }
}

impl Exploration {
    /// `docs/lifecycle.md`: a Mermaid state diagram and the transition table, with the counts.
    pub fn to_markdown(&self) -> String {
        let table = self.grouped();
        let mut out = String::new();
        out.push_str("# Lifecycle of an Import/Export job\n\n");
        out.push_str(
            "Generated from the code's own rules by `import_export_lifecycle::explore` (run \
             `cargo run --example lifecycle > docs/lifecycle.md`); `tests/lifecycle_doc.rs` fails \
             when this file differs from what the code generates. Do not edit it by hand.\n\n",
        );
        let _ = writeln!(
            out,
            "The exploration starts from a new import job with drives `D1`, `D2` and a new export job \
             (package with `E1`, `E2`), tries every operation on every drive in every configuration \
             it reaches, and fires the job's timer: {} configurations, {} transitions, under the \
             default policy.\n",
            self.configurations, self.transitions
        );
        out.push_str("## State diagram\n\n");
        out.push_str("Edges are labelled with the operations and timers that take them; `(cancelled)` marks an edge only a job with `cancelRequested` takes. A self-loop marks the states in which the customer's `update` is accepted (it never moves a job, R-UPDATE-6); other inputs that leave the state unchanged are in the table only.\n\n");
        out.push_str("```mermaid\nstateDiagram-v2\n    [*] --> Creating: create\n");
        let mut edges: BTreeMap<(JobState, Option<JobState>), BTreeSet<String>> = BTreeMap::new();
        for (situation, inputs) in &table {
            for (input, effects) in inputs {
                for effect in effects {
                    let to = match effect {
                        Effect::Moves(to) => Some(*to),
                        Effect::Removed => None,
                        // The customer's update never moves a job: its self-loops show where
                        // it is accepted (R-UPDATE-6).
                        Effect::Stays if *input == Input::Operation(Operation::Update) => {
                            Some(situation.state)
                        }
                        Effect::Stays | Effect::Refused { .. } => continue,
                    };
                    let cancelled_only = situation.cancel_requested
                        && *input != Input::Operation(Operation::Cancel)
                        && !reached_without_cancel(&table, situation.state, *input, effect);
                    let label =
                        format!("{}{}", input_name(*input), if cancelled_only { " (cancelled)" } else { "" });
                    edges.entry((situation.state, to)).or_default().insert(label);
                }
            }
        }
        for ((from, to), labels) in &edges {
            let to = to.map(|s| s.to_string()).unwrap_or_else(|| "[*]".into());
            let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
            let _ = writeln!(out, "    {from} --> {to}: {}", labels.join(", "));
        }
        out.push_str("```\n\n## Transition table\n\n");
        out.push_str("Rows: the job's state, and whether a cancel was accepted. Columns: the inputs. A cell lists every outcome seen: `→ State` (moves), `stays` (accepted, state unchanged), `removed`, or `✗ Code (rule)` (refused, nothing changes). Where a cell holds several outcomes, the job's drives decide (e.g. whether another drive is still copying). `get` and `list` always answer and change nothing.\n\n");
        let inputs: Vec<Input> = Operation::iter()
            .filter(|op| {
                !matches!(op, Operation::Get | Operation::List | Operation::Replay | Operation::Name)
            })
            .map(Input::Operation)
            .chain(std::iter::once(Input::Timer(Timer::CreatingExpired)))
            .collect();
        let header: Vec<String> = inputs
            .iter()
            .map(|i| if let Input::Timer(_) = i { "timer".to_string() } else { input_name(*i) })
            .collect();
        let _ = writeln!(out, "| state | {} |", header.join(" | "));
        let _ = writeln!(out, "|---|{}", "---|".repeat(header.len()));
        for (situation, row) in &table {
            let name = if situation.cancel_requested {
                format!("{} · cancelRequested", situation.state)
            } else {
                situation.state.to_string()
            };
            let cells: Vec<String> = inputs
                .iter()
                .map(|input| match input {
                    Input::Timer(_) => {
                        let timers: Vec<String> = row
                            .iter()
                            .filter_map(|(i, effects)| match i {
                                Input::Timer(t) => Some(format!("{t}: {}", effect_list(effects))),
                                Input::Operation(_) => None,
                            })
                            .collect();
                        if timers.is_empty() { "—".to_string() } else { timers.join("<br>") }
                    }
                    Input::Operation(_) => row.get(input).map(effect_list).unwrap_or_else(|| "—".into()),
                })
                .collect();
            let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
        }
        out
    }

    fn grouped(&self) -> Table {
        let mut table: Table = BTreeMap::new();
        for cell in &self.table {
            table
                .entry(cell.situation)
                .or_default()
                .entry(cell.input)
                .or_default()
                .extend(cell.effects.iter().cloned());
        }
        table
    }
}

/// Whether a job in `state` without `cancelRequested` also takes `input` to `effect`.
fn reached_without_cancel(table: &Table, state: JobState, input: Input, effect: &Effect) -> bool {
    table
        .get(&Situation { state, cancel_requested: false })
        .and_then(|row| row.get(&input))
        .is_some_and(|effects| effects.contains(effect))
}

/// What an accepted input did to the job named `name`, once in `next`.
fn effect_on(next: &Registry, name: &JobName, before: JobState, removed: bool) -> Effect {
    match next.peek(name.as_str()) {
        _ if removed => Effect::Removed,
        Some(after) if after.state() == before => Effect::Stays,
        Some(after) => Effect::Moves(after.state()),
        None => Effect::Removed,
    }
}

fn input_name(input: Input) -> String {
    match input {
        Input::Operation(op) => op.to_string(),
        Input::Timer(timer) => timer.to_string(),
    }
}

fn effect_list(effects: &BTreeSet<Effect>) -> String {
    let shown: Vec<String> = effects
        .iter()
        .map(|e| match e {
            Effect::Moves(state) => format!("→ {state}"),
            Effect::Stays => "stays".to_string(),
            Effect::Removed => "removed".to_string(),
            Effect::Refused { code, rule } => format!("✗ {code} ({rule})"),
        })
        .collect();
    shown.join("<br>")
}
