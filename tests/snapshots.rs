//! Reviewed snapshots of what the core shows the world: the full transition table, every error
//! message it can produce, and the JSON form of a job in each state. A change to any of them is a
//! change of behaviour a person must look at (`INSTA_UPDATE=no` in CI: nothing is ever written
//! there).

mod common;
use common::{drive, drives, name, t0};

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::fmt::Write as _;

use import_export_lifecycle::scenarios::{Effect, Input, explore};
use import_export_lifecycle::{
    CancelWindow, Change, Command, DriveId, Error, Event, Job, JobName, JobState, JobType, Operation,
    PackageInfo, Policy, Problem, Registry, Rule, SignedDuration, Timestamp, TransferResult, UpdateField,
};
use strum::IntoEnumIterator;

const HOUR: SignedDuration = SignedDuration::from_hours(1);
const DAY: SignedDuration = SignedDuration::from_hours(24);

// ---------------------------------------------------------------------------------------------
// (a) The transition table

fn situation_name(state: JobState, cancel_requested: bool) -> String {
    if cancel_requested { format!("{state} · cancelRequested") } else { state.to_string() }
}

fn input_name(input: Input) -> String {
    match input {
        Input::Operation(op) => op.to_string(),
        Input::Timer(timer) => format!("timer {timer}"),
    }
}

fn effect_name(effect: &Effect) -> String {
    match effect {
        Effect::Moves(state) => format!("→ {state}"),
        Effect::Stays => "stays".into(),
        Effect::Removed => "removed".into(),
        Effect::Refused { code, rule } => format!("✗ {code} ({rule})"),
    }
}

/// One line per cell: `situation | input | outcome; outcome; …`.
fn table_lines(policy: &Policy) -> Vec<String> {
    explore(policy)
        .table
        .iter()
        .map(|cell| {
            let effects: Vec<String> = cell.effects.iter().map(effect_name).collect();
            format!(
                "{} | {} | {}",
                situation_name(cell.situation.state, cell.situation.cancel_requested),
                input_name(cell.input),
                effects.join("; ")
            )
        })
        .collect()
}

/// The whole table under the default policy: every situation (state and cancel flag) one job
/// reaches, every input, every outcome seen.
#[test]
fn transition_table_under_the_default_policy() {
    let exploration = explore(&Policy::default());
    let mut out =
        format!("{} configurations, {} transitions\n\n", exploration.configurations, exploration.transitions);
    for line in table_lines(&Policy::default()) {
        let _ = writeln!(out, "{line}");
    }
    // Every state is a row, and every operation that changes something is a column.
    for state in JobState::iter() {
        assert!(out.contains(&format!("\n{state} | ")), "no row for {state}");
    }
    insta::assert_snapshot!("transition_table", out);
}

/// The narrower cancel windows (R-CANCEL-1) change only the cells listed here.
#[test]
fn transition_table_under_the_narrower_cancel_windows_differs_only_in_cancel() {
    let default: BTreeSet<String> = table_lines(&Policy::default()).into_iter().collect();
    let mut out = String::new();
    for window in [CancelWindow::CreatingOrShipping, CancelWindow::CreatingOnly] {
        let policy = Policy { cancel_window: window, ..Policy::default() };
        let lines: BTreeSet<String> = table_lines(&policy).into_iter().collect();
        let _ = writeln!(out, "## {window}: cells only in the default table");
        for line in default.difference(&lines) {
            let _ = writeln!(out, "- {line}");
        }
        let _ = writeln!(out, "## {window}: cells only under {window}");
        for line in lines.difference(&default) {
            let _ = writeln!(out, "+ {line}");
        }
        out.push('\n');
    }
    insta::assert_snapshot!("transition_table_narrower_cancel_windows", out);
}

// ---------------------------------------------------------------------------------------------
// (b) Every error message

/// The rules some refusal quotes. Exhaustive on purpose: a new rule does not compile until it is
/// classified here, and the test below checks the classification against what the core says.
fn quoted_by_a_refusal(rule: Rule) -> bool {
    match rule {
        Rule::Cancel1
        | Rule::Cancel2
        | Rule::Cancel7
        | Rule::Flow1
        | Rule::Flow2
        | Rule::Flow3
        | Rule::Flow4
        | Rule::Flow6
        | Rule::Flow8
        | Rule::Delete2
        | Rule::Update1
        | Rule::Update2
        | Rule::Update3
        | Rule::Update4
        | Rule::Update6
        | Rule::Gone1
        | Rule::Input1
        | Rule::Input2
        | Rule::Event1 => true,
        Rule::Input3
        | Rule::Cancel3
        | Rule::Cancel4
        | Rule::Cancel5
        | Rule::Cancel6
        | Rule::Cancel8
        | Rule::Cancel9
        | Rule::Flow5
        | Rule::Flow7
        | Rule::Delete1
        | Rule::Update5
        | Rule::Update7
        | Rule::Update8
        | Rule::Gone2
        | Rule::Timer1
        | Rule::Timer2
        | Rule::Timer3
        | Rule::Timer4
        | Rule::Timer5
        | Rule::Timer6
        | Rule::Timer7
        | Rule::Policy1
        | Rule::Stage1
        | Rule::Refuse1
        | Rule::Clock1
        // Refusals of the ARM layer, not of the core: the ARM tests check them.
        | Rule::Put1
        | Rule::Put2
        | Rule::Put3
        | Rule::Put4 => false,
    }
}

/// Which variant an error is; exhaustive, so a new variant must be added to the list.
fn error_variant(e: &Error) -> usize {
    match e {
        Error::JobNotFound { .. } => 0,
        Error::JobAlreadyExists { .. } => 1,
        Error::CancelNotAllowed { .. } => 2,
        Error::DeleteNotAllowed { .. } => 3,
        Error::InvalidStateTransition { .. } => 4,
        Error::DriveNotFound { .. } => 5,
        Error::InvalidRequest { .. } => 6,
        Error::UpdateNotAllowed { .. } => 7,
    }
}
const ERROR_VARIANTS: usize = 8;

/// Which variant a problem is; exhaustive, so a new variant must be added to the list.
fn problem_variant(p: &Problem) -> usize {
    match p {
        Problem::EmptyJobName => 0,
        Problem::JobNameTooLong { .. } => 1,
        Problem::JobNameCharacter { .. } => 2,
        Problem::EmptyDriveId => 3,
        Problem::DriveIdTooLong { .. } => 4,
        Problem::DriveIdCharacter { .. } => 5,
        Problem::TooManyDrives { .. } => 6,
        Problem::DuplicateDrive { .. } => 7,
        Problem::NoDrives => 8,
        Problem::DrivesOnExport => 9,
        Problem::EventDoesNotFollow => 10,
        Problem::BytesOverflow { .. } => 11,
        Problem::NoUpdateField => 12,
        Problem::DuplicateUpdateField { .. } => 13,
        Problem::DrivesWithoutDriveList => 14,
        Problem::ShipNeeds { .. } => 15,
        Problem::PackageWithoutDeliveryPackage => 16,
        Problem::EmptyPackage => 17,
    }
}
const PROBLEM_VARIANTS: usize = 18;

/// The job's state an error names, if it names one.
fn error_state(e: &Error) -> Option<JobState> {
    match e {
        Error::JobAlreadyExists { state, .. }
        | Error::CancelNotAllowed { state, .. }
        | Error::DeleteNotAllowed { state, .. }
        | Error::UpdateNotAllowed { state, .. }
        | Error::InvalidStateTransition { state, .. }
        | Error::DriveNotFound { state, .. } => Some(*state),
        Error::JobNotFound { .. } | Error::InvalidRequest { .. } => None,
    }
}

/// Every command worth trying on a job with drive ids `ids` (its own, or an export package's).
fn commands(job: &JobName, job_type: JobType, ids: &[DriveId]) -> Vec<Command> {
    let job = job.clone();
    let mut out = vec![
        Command::Create { job: job.clone(), job_type, drives: Vec::new() },
        Command::Ship { job: job.clone(), carrier: None, tracking_number: None },
        Command::Cancel { job: job.clone() },
        Command::Delete { job: job.clone() },
        Command::ShipBack { job: job.clone() },
        Command::PackageReceived { job: job.clone(), drives: ids.to_vec() },
        Command::PackageReceived { job: job.clone(), drives: ids[..1].to_vec() },
        Command::PackageReceived { job: job.clone(), drives: drives(&["X9"]) },
        Command::PackageReceived { job: job.clone(), drives: Vec::new() },
        Command::PackageReceived { job: job.clone(), drives: vec![ids[0].clone(), ids[0].clone()] },
        Command::PackageReceived {
            job: job.clone(),
            drives: (1..=11).map(|i| drive(&format!("P{i}"))).collect(),
        },
        Command::Update { job: job.clone(), fields: Vec::new(), drives: Vec::new(), delivery_package: None },
        Command::Update {
            job: job.clone(),
            fields: vec![UpdateField::Tags, UpdateField::Tags],
            drives: Vec::new(),
            delivery_package: None,
        },
        Command::Update {
            job: job.clone(),
            fields: vec![UpdateField::Tags],
            drives: ids.to_vec(),
            delivery_package: None,
        },
        Command::Update {
            job: job.clone(),
            fields: vec![UpdateField::DriveList],
            drives: Vec::new(),
            delivery_package: None,
        },
        Command::Update {
            job: job.clone(),
            fields: vec![UpdateField::DriveList],
            drives: vec![ids[0].clone(), ids[0].clone()],
            delivery_package: None,
        },
        Command::Update {
            job: job.clone(),
            fields: vec![UpdateField::Tags],
            drives: Vec::new(),
            delivery_package: Some(PackageInfo {
                carrier_name: Some("FedEx".into()),
                ..PackageInfo::default()
            }),
        },
        Command::Update {
            job: job.clone(),
            fields: vec![UpdateField::DeliveryPackage],
            drives: Vec::new(),
            delivery_package: Some(PackageInfo::default()),
        },
    ];
    for field in UpdateField::iter() {
        let given = if field == UpdateField::DriveList { ids.to_vec() } else { Vec::new() };
        out.push(Command::Update {
            job: job.clone(),
            fields: vec![field],
            drives: given,
            delivery_package: None,
        });
    }
    for id in ids.iter().chain(std::iter::once(&drive("X9"))) {
        out.push(Command::StartTransfer { job: job.clone(), drive: id.clone() });
        for bytes in [1, u64::MAX] {
            out.push(Command::Progress { job: job.clone(), drive: id.clone(), bytes });
        }
        for result in TransferResult::iter() {
            out.push(Command::FinishTransfer { job: job.clone(), drive: id.clone(), result });
        }
    }
    out
}

/// Every refusal the commands give on one job (an import job with D1, D2; an export job whose
/// package holds E1, E2), in every configuration it reaches, under `policy`.
fn refusals_of_one_job(policy: &Policy, errors: &mut Vec<Error>) {
    let job = name("job");
    for (job_type, created, ids) in [
        (JobType::Import, drives(&["D1", "D2"]), drives(&["D1", "D2"])),
        (JobType::Export, Vec::new(), drives(&["E1", "E2"])),
    ] {
        let mut start = Registry::new(*policy);
        start.execute(t0(), &Command::Create { job: job.clone(), job_type, drives: created }).result.unwrap();
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([start]);
        while let Some(registry) = queue.pop_front() {
            let Some(current) = registry.peek("job") else { continue };
            let key = serde_json::json!([
                current.state(),
                current.cancel_requested(),
                current.package_overdue(),
                current
                    .drive_list()
                    .iter()
                    .map(|d| (d.drive_id.as_str(), d.state, d.bytes_succeeded.min(2)))
                    .collect::<Vec<_>>(),
            ]);
            if !seen.insert(key.to_string()) {
                continue;
            }
            // R-FLOW-8: a host's shipment without its details, where the state would accept it.
            for known in [&[][..], &[UpdateField::ReturnAddress][..]] {
                if let Err(e @ Error::InvalidRequest { .. }) = current.may_ship_with(policy, known) {
                    errors.push(e);
                }
            }
            let now = current.updated_at() + HOUR;
            let mut tries = commands(&job, job_type, &ids);
            tries.push(Command::Create { job: job.clone(), job_type, drives: ids.clone() });
            for command in tries {
                let mut next = registry.clone();
                match next.execute(now, &command).result {
                    Ok(_) => queue.push_back(next),
                    Err(e) => errors.push(e),
                }
            }
            if let Some(deadline) = registry.next_deadline() {
                let mut next = registry.clone();
                next.handle_timeout(deadline.at);
                queue.push_back(next);
            }
        }
    }
}

/// Every refusal of an operation on a name no job holds, and the refusals of malformed creates.
fn refusals_without_a_job(errors: &mut Vec<Error>) {
    let mut registry = Registry::default();
    let ghost = name("ghost");
    for job_type in JobType::iter() {
        for command in commands(&ghost, job_type, &drives(&["D1"])) {
            if let Command::Create { .. } = command {
                continue;
            }
            errors.push(registry.execute(t0(), &command).result.unwrap_err());
        }
    }
    if let Err(e) = registry.get(t0(), &ghost).result {
        errors.push(e);
    }
    let creates = [
        (JobType::Import, Vec::new()),
        (JobType::Export, drives(&["E1"])),
        (JobType::Import, drives(&["D1", "D1"])),
        (JobType::Import, (1..=11).map(|i| drive(&format!("D{i}"))).collect()),
    ];
    for (job_type, drives) in creates {
        let command = Command::Create { job: ghost.clone(), job_type, drives };
        errors.push(registry.execute(t0(), &command).result.unwrap_err());
    }
    assert!(registry.is_empty(), "a refused create created a job");
}

/// Every refusal of `Registry::apply` (R-EVENT-1): events that do not follow.
fn refusals_of_replay(errors: &mut Vec<Error>) {
    let job = name("job");
    let mut registry = Registry::default();
    let create = Command::Create { job: job.clone(), job_type: JobType::Import, drives: drives(&["D1"]) };
    let created = registry.execute(t0(), &create).result.unwrap();
    let at = |d: SignedDuration| t0() + d;
    let forged = [
        // A job created twice.
        created.clone(),
        // An event whose state is not what the rules decide.
        Event {
            at: at(HOUR),
            job: job.clone(),
            change: Change::CancelRequested { state: JobState::Packaging },
        },
        // A command event after the job's timer came due, without the timer's event.
        Event { at: at(DAY * 15), job: job.clone(), change: Change::Shipped { delivery_package: None } },
        // A timer event before its deadline.
        Event { at: at(DAY), job: job.clone(), change: Change::CreatingExpired },
        // The wrong timer at the deadline.
        Event { at: at(DAY * 14), job: job.clone(), change: Change::RetentionExpired },
        // A timer event on a job that does not exist.
        Event { at: at(HOUR), job: name("ghost"), change: Change::RetentionExpired },
        // A command event on a job that does not exist.
        Event { at: at(HOUR), job: name("ghost"), change: Change::Deleted },
    ];
    for event in &forged {
        let before = registry.clone();
        errors.push(registry.apply(event).expect_err(&format!("{event:?}")));
        assert_eq!(registry, before, "a refused event changed the registry");
    }
}

/// The problems a malformed name gives, as `JobName::new`, `DriveId::new` and deserializing a
/// command report them.
fn name_problems() -> Vec<(Problem, String)> {
    let mut out = Vec::new();
    let long = "a".repeat(65);
    for text in ["", long.as_str(), "job 1", "jöb"] {
        let problem = problem_of(JobName::new(text).unwrap_err());
        let json = serde_json::json!({"op": "cancel", "job": text}).to_string();
        let serde = serde_json::from_str::<Command>(&json).unwrap_err().to_string();
        out.push((problem, serde));
    }
    for text in ["", long.as_str(), "D/1", "dé"] {
        let problem = problem_of(DriveId::new(text).unwrap_err());
        let json = serde_json::json!({"op": "startTransfer", "job": "job", "drive": text}).to_string();
        let serde = serde_json::from_str::<Command>(&json).unwrap_err().to_string();
        out.push((problem, serde));
    }
    out
}

/// How `JobName::new` and `DriveId::new` refuse a malformed name: one refusal of each problem.
fn name_refusals() -> Vec<Error> {
    let long = "a".repeat(65);
    let jobs = ["", long.as_str(), "job 1"].map(|text| JobName::new(text).unwrap_err());
    let drives = ["", long.as_str(), "D/1"].map(|text| DriveId::new(text).unwrap_err());
    jobs.into_iter().chain(drives).collect()
}

/// The problem of a refused name: always an `InvalidRequest` of the `name` operation.
fn problem_of(e: Error) -> Problem {
    match e {
        Error::InvalidRequest { operation: Operation::Name, problem } => problem,
        other => panic!("a malformed name gave {other:?}"),
    }
}

/// What an error says without the names it quotes: its JSON form with the job name and drive
/// ids blanked.
fn shape_of(e: &Error) -> String {
    let mut value = serde_json::to_value(e).unwrap();
    let object = value.as_object_mut().unwrap();
    object.remove("job");
    match object.get_mut("drive") {
        Some(serde_json::Value::Array(pair)) => pair[0] = "_".into(),
        Some(other) => *other = "_".into(),
        None => {}
    }
    if let Some(problem) = object.get_mut("problem").and_then(|p| p.as_object_mut()) {
        problem.remove("drive");
    }
    value.to_string()
}

fn line(e: &Error) -> String {
    format!("{} | {} | {e}", e.code(), e.rule())
}

/// Every message the core can refuse with, one per line: `code | rule | message`, sorted.
/// Complete by construction: every error variant, every problem, every rule a refusal quotes
/// (checked against an exhaustive classification of `Rule`), every operation that can be
/// refused and every (operation, state) pair in which it can be refused appear.
#[test]
fn every_error_message_the_core_produces() {
    let mut errors = Vec::new();
    for window in CancelWindow::iter() {
        refusals_of_one_job(&Policy { cancel_window: window, ..Policy::default() }, &mut errors);
    }
    refusals_without_a_job(&mut errors);
    refusals_of_replay(&mut errors);
    let problems = name_problems();
    errors.extend(name_refusals());

    // Every variant of Error and Problem is shown.
    let variants: BTreeSet<usize> = errors.iter().map(error_variant).collect();
    assert_eq!(variants, (0..ERROR_VARIANTS).collect(), "an Error variant is never produced");
    let mut problem_seen: BTreeSet<usize> = problems.iter().map(|(p, _)| problem_variant(p)).collect();
    for e in &errors {
        if let Error::InvalidRequest { problem, .. } = e {
            problem_seen.insert(problem_variant(problem));
        }
    }
    assert_eq!(problem_seen, (0..PROBLEM_VARIANTS).collect(), "a Problem variant is never produced");

    // The rules quoted are exactly the rules classified as refusing.
    let quoted: BTreeSet<Rule> = errors.iter().map(Error::rule).collect();
    let expected: BTreeSet<Rule> = Rule::iter().filter(|r| quoted_by_a_refusal(*r)).collect();
    assert_eq!(quoted, expected, "the rules the refusals quote differ from the classification");

    // Every operation but `list` can be refused, and each refusal names its operation.
    let operations: BTreeSet<Operation> = errors.iter().map(Error::operation).collect();
    let refusable: BTreeSet<Operation> = Operation::iter()
        .filter(|op| match op {
            Operation::List => false,
            Operation::Create
            | Operation::Ship
            | Operation::Update
            | Operation::Cancel
            | Operation::Delete
            | Operation::Get
            | Operation::PackageReceived
            | Operation::StartTransfer
            | Operation::Progress
            | Operation::FinishTransfer
            | Operation::ShipBack
            | Operation::Replay
            | Operation::Name => true,
        })
        .collect();
    assert_eq!(operations, refusable);

    // Every (command operation, state) pair has a refusal, except the ones that accept every
    // well-formed input: ship and cancel in Creating, delete where it is allowed, ship-back in
    // Packaging.
    let pairs: BTreeSet<(Operation, JobState)> =
        errors.iter().filter_map(|e| error_state(e).map(|s| (e.operation(), s))).collect();
    let mut missing = Vec::new();
    for op in [
        Operation::Create,
        Operation::Ship,
        Operation::Update,
        Operation::Cancel,
        Operation::Delete,
        Operation::PackageReceived,
        Operation::StartTransfer,
        Operation::Progress,
        Operation::FinishTransfer,
        Operation::ShipBack,
    ] {
        for state in JobState::iter() {
            if !pairs.contains(&(op, state)) {
                missing.push(format!("{op} in {state}"));
            }
        }
    }
    assert_eq!(
        missing,
        [
            "ship in Creating",
            "cancel in Creating",
            "delete in Creating",
            "delete in Completed",
            "delete in Closed",
            "shipBack in Packaging",
        ]
    );

    // Every message quotes the rule of its error, and the statement where it names a state.
    for e in &errors {
        let text = e.to_string();
        assert!(text.ends_with(&format!("[{}]", e.rule())), "{text}");
        if let Error::CancelNotAllowed { rule, .. }
        | Error::DeleteNotAllowed { rule, .. }
        | Error::UpdateNotAllowed { rule, .. }
        | Error::InvalidStateTransition { rule, .. } = e
        {
            assert!(text.contains(rule.statement()), "{text}");
        }
    }

    // One line per situation: the first error (in the deterministic order of the walk) of each
    // shape, so a message that differs only in the drive id it names is shown once.
    let mut shapes: BTreeMap<String, String> = BTreeMap::new();
    for e in &errors {
        shapes.entry(shape_of(e)).or_insert_with(|| line(e));
    }
    let lines: BTreeSet<&String> = shapes.values().collect();
    let mut out = String::from("# Refusals: code | rule | message\n");
    for l in &lines {
        let _ = writeln!(out, "{l}");
    }
    out.push_str("\n# Malformed names: problem | rule | message | deserializing a command\n");
    for (problem, serde) in &problems {
        let variant = serde_json::to_value(problem).unwrap()["problem"].as_str().unwrap().to_string();
        let _ = writeln!(out, "{variant} | {} | {problem} | {serde}", Rule::Input1);
    }
    insta::assert_snapshot!("error_messages", out);
}

// ---------------------------------------------------------------------------------------------
// (c) The JSON form of a job in each state

struct History {
    registry: Registry,
    now: Timestamp,
    job: JobName,
}

impl History {
    fn new(job_type: JobType, ids: &[&str]) -> History {
        let mut h = History { registry: Registry::default(), now: t0(), job: name("job-1") };
        let job = h.job.clone();
        h.run(Command::Create { job, job_type, drives: drives(ids) });
        h
    }

    fn import() -> History {
        History::new(JobType::Import, &["D1", "D2"])
    }

    fn run(&mut self, command: Command) -> &mut History {
        let shown = format!("{command:?}");
        self.registry.execute(self.now, &command).result.unwrap_or_else(|e| panic!("{shown}: {e}"));
        self.now += HOUR;
        self
    }

    fn ship(&mut self) -> &mut History {
        let job = self.job.clone();
        self.run(Command::Ship { job, carrier: Some("FedEx".into()), tracking_number: Some("1Z999".into()) })
    }
    fn cancel(&mut self) -> &mut History {
        let job = self.job.clone();
        self.run(Command::Cancel { job })
    }
    fn arrive(&mut self, ids: &[&str]) -> &mut History {
        let job = self.job.clone();
        self.run(Command::PackageReceived { job, drives: drives(ids) })
    }
    fn start(&mut self, id: &str) -> &mut History {
        let job = self.job.clone();
        self.run(Command::StartTransfer { job, drive: drive(id) })
    }
    fn progress(&mut self, id: &str, bytes: u64) -> &mut History {
        let job = self.job.clone();
        self.run(Command::Progress { job, drive: drive(id), bytes })
    }
    fn finish(&mut self, id: &str, result: TransferResult) -> &mut History {
        let job = self.job.clone();
        self.run(Command::FinishTransfer { job, drive: drive(id), result })
    }
    fn ship_back(&mut self) -> &mut History {
        let job = self.job.clone();
        self.run(Command::ShipBack { job })
    }
    /// Lets the job's timer fire.
    fn wait_for_timer(&mut self) -> &mut History {
        let deadline = self.registry.next_deadline().expect("a pending timer");
        assert_eq!(self.registry.handle_timeout(deadline.at).len(), 1);
        self.now = deadline.at + HOUR;
        self
    }

    fn job(&self) -> Job {
        self.registry.peek(self.job.as_str()).expect("the job exists").clone()
    }
}

/// `(label, job)` for a job in every state, with and without `cancelRequested`, and with
/// `packageOverdue`.
fn jobs_in_each_state() -> Vec<(&'static str, Job)> {
    use TransferResult::{Completed, CompletedMoreInfo};
    vec![
        ("Creating (import, two drives)", History::import().job()),
        ("Creating (export, no drives yet)", History::new(JobType::Export, &[]).job()),
        ("Shipping", History::import().ship().job()),
        ("Shipping · cancelRequested", History::import().ship().cancel().job()),
        ("Shipping · packageOverdue", History::import().ship().wait_for_timer().job()),
        ("Received (D2 missing from the package)", History::import().ship().arrive(&["D1"]).job()),
        (
            "Transferring (D1 copying, D2 waiting)",
            History::import().ship().arrive(&["D1", "D2"]).start("D1").progress("D1", 1 << 30).job(),
        ),
        (
            "Transferring · cancelRequested",
            History::import().ship().arrive(&["D1", "D2"]).start("D1").progress("D1", 1 << 30).cancel().job(),
        ),
        (
            "Packaging",
            History::import()
                .ship()
                .arrive(&["D1", "D2"])
                .start("D1")
                .finish("D1", Completed)
                .start("D2")
                .finish("D2", Completed)
                .job(),
        ),
        (
            "Packaging · cancelRequested (cancelled in Received)",
            History::import().ship().arrive(&["D1", "D2"]).cancel().job(),
        ),
        (
            "Completed (clean import)",
            History::import()
                .ship()
                .arrive(&["D1", "D2"])
                .start("D1")
                .progress("D1", 1000)
                .finish("D1", Completed)
                .start("D2")
                .progress("D2", 2000)
                .finish("D2", Completed)
                .ship_back()
                .job(),
        ),
        (
            "Completed (clean export)",
            History::new(JobType::Export, &[])
                .ship()
                .arrive(&["E1"])
                .start("E1")
                .progress("E1", 500)
                .finish("E1", Completed)
                .ship_back()
                .job(),
        ),
        ("Completed · cancelRequested (cancelled in Creating)", History::import().cancel().job()),
        (
            "Completed · cancelRequested (copy errors, cancelled while copying)",
            History::import()
                .ship()
                .arrive(&["D1", "D2"])
                .start("D1")
                .cancel()
                .finish("D1", CompletedMoreInfo)
                .ship_back()
                .job(),
        ),
        (
            "Completed · cancelRequested · packageOverdue",
            History::import().ship().cancel().wait_for_timer().job(),
        ),
        (
            "Closed (D2 never received)",
            History::import().ship().arrive(&["D1"]).start("D1").finish("D1", Completed).ship_back().job(),
        ),
        (
            "Closed (copy errors)",
            History::import()
                .ship()
                .arrive(&["D1", "D2"])
                .start("D1")
                .finish("D1", CompletedMoreInfo)
                .start("D2")
                .finish("D2", Completed)
                .ship_back()
                .job(),
        ),
    ]
}

/// The JSON form (`serde_json` pretty) of a job in each state, as *Get Job* would show it.
#[test]
fn job_json_in_each_state() {
    let jobs = jobs_in_each_state();
    let mut covered: BTreeMap<(JobState, bool, bool), usize> = BTreeMap::new();
    let mut out = String::new();
    for (label, job) in &jobs {
        job.check(&Policy::default()).unwrap_or_else(|e| panic!("{label}: {e}"));
        let json = serde_json::to_string_pretty(job).unwrap();
        let back: Job = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, job, "{label}: the JSON form does not round-trip");
        *covered.entry((job.state(), job.cancel_requested(), job.package_overdue())).or_default() += 1;
        let _ = writeln!(out, "## {label}\n{json}\n");
    }
    for state in JobState::iter() {
        assert!(covered.keys().any(|(s, _, _)| *s == state), "no job in {state}");
    }
    assert!(covered.keys().any(|&(_, cancelled, _)| cancelled));
    assert!(covered.keys().any(|&(_, _, overdue)| overdue));
    insta::assert_snapshot!("job_json", out);
}
