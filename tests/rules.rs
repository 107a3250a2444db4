//! One test (at least) per rule of `docs/spec.md`, named after the rule's id.
//!
//! These are the worked examples of the spec: each drives a registry through the shortest
//! history that shows the rule, with a simulated clock that starts at a fixed instant.

mod common;
use common::{drive, name, t0};

use import_export_lifecycle::{
    CancelWindow, Change, Command, DriveId, DriveState, Error, ErrorKind, Event, JobName, JobState, JobType,
    Operation, PackageInfo, Policy, Problem, Registry, Rule, SignedDuration, Timer, Timestamp,
    TransferResult, UpdateField,
};

const DAY: SignedDuration = SignedDuration::from_hours(24);
const NS: SignedDuration = SignedDuration::from_nanos(1);

/// A registry with one job, `job-1`, and a clock that moves one hour per step.
struct World {
    registry: Registry,
    now: Timestamp,
    job: JobName,
}

impl World {
    fn new(policy: Policy) -> World {
        World { registry: Registry::new(policy), now: t0(), job: name("job-1") }
    }

    /// An import job with drives D1, D2, D3 in `Creating`.
    fn import() -> World {
        World::import_with(Policy::default())
    }

    fn import_with(policy: Policy) -> World {
        let mut w = World::new(policy);
        let job = w.job.clone();
        w.ok(Command::Create {
            job,
            job_type: JobType::Import,
            drives: vec![drive("D1"), drive("D2"), drive("D3")],
        });
        w
    }

    fn step(&mut self) -> Timestamp {
        self.now += SignedDuration::from_hours(1);
        self.now
    }

    fn run(&mut self, command: Command) -> Result<Event, Error> {
        let now = self.step();
        self.registry.execute(now, &command).result
    }

    fn ok(&mut self, command: Command) -> Event {
        let shown = format!("{command:?}");
        self.run(command).unwrap_or_else(|e| panic!("{shown} refused: {e}"))
    }

    fn err(&mut self, command: Command) -> Error {
        let before = self.registry.clone();
        let shown = format!("{command:?}");
        let error = self.run(command).expect_err(&shown);
        assert_eq!(self.registry, before, "a refused {shown} changed the registry (R-REFUSE-1)");
        error
    }

    fn ship(&mut self) -> Event {
        self.ok(Command::Ship {
            job: self.job.clone(),
            carrier: Some("FedEx".into()),
            tracking_number: Some("1".into()),
        })
    }
    fn cancel(&mut self) -> Result<Event, Error> {
        self.run(Command::Cancel { job: self.job.clone() })
    }
    fn delete(&mut self) -> Result<Event, Error> {
        self.run(Command::Delete { job: self.job.clone() })
    }
    fn arrive(&mut self, drives: &[&str]) -> Event {
        self.ok(Command::PackageReceived {
            job: self.job.clone(),
            drives: drives.iter().map(|d| drive(d)).collect(),
        })
    }
    fn start(&mut self, d: &str) -> Result<Event, Error> {
        self.run(Command::StartTransfer { job: self.job.clone(), drive: drive(d) })
    }
    fn progress(&mut self, d: &str, bytes: u64) -> Result<Event, Error> {
        self.run(Command::Progress { job: self.job.clone(), drive: drive(d), bytes })
    }
    fn finish(&mut self, d: &str, result: TransferResult) -> Result<Event, Error> {
        self.run(Command::FinishTransfer { job: self.job.clone(), drive: drive(d), result })
    }
    fn ship_back(&mut self) -> Result<Event, Error> {
        self.run(Command::ShipBack { job: self.job.clone() })
    }
    fn update(&mut self, fields: &[UpdateField]) -> Result<Event, Error> {
        self.run(Command::Update {
            job: self.job.clone(),
            fields: fields.to_vec(),
            drives: vec![],
            delivery_package: None,
        })
    }

    fn state(&self) -> JobState {
        self.registry.peek("job-1").expect("job-1 exists").state()
    }
    fn drive_state(&self, d: &str) -> DriveState {
        self.registry.peek("job-1").unwrap().drive(d).unwrap().state
    }
    fn bytes(&self, d: &str) -> u64 {
        self.registry.peek("job-1").unwrap().drive(d).unwrap().bytes_succeeded
    }

    /// Drives the job (not cancelled) to `state`; D1, D2, D3 all arrive.
    fn to(state: JobState) -> World {
        let mut w = World::import();
        let steps: &[JobState] = match state {
            JobState::Creating => &[],
            JobState::Shipping => &[JobState::Shipping],
            JobState::Received => &[JobState::Shipping, JobState::Received],
            JobState::Transferring => &[JobState::Shipping, JobState::Received, JobState::Transferring],
            JobState::Packaging => {
                &[JobState::Shipping, JobState::Received, JobState::Transferring, JobState::Packaging]
            }
            JobState::Completed | JobState::Closed => &[
                JobState::Shipping,
                JobState::Received,
                JobState::Transferring,
                JobState::Packaging,
                JobState::Completed,
            ],
        };
        for s in steps {
            match s {
                JobState::Shipping => drop(w.ship()),
                JobState::Received => drop(w.arrive(&["D1", "D2", "D3"])),
                JobState::Transferring => drop(w.start("D1").unwrap()),
                JobState::Packaging => {
                    let last = if state == JobState::Closed {
                        TransferResult::CompletedMoreInfo
                    } else {
                        TransferResult::Completed
                    };
                    w.finish("D1", TransferResult::Completed).unwrap();
                    w.start("D2").unwrap();
                    w.finish("D2", TransferResult::Completed).unwrap();
                    w.start("D3").unwrap();
                    w.finish("D3", last).unwrap();
                }
                JobState::Completed | JobState::Closed | JobState::Creating => drop(w.ship_back().unwrap()),
            }
        }
        assert_eq!(w.state(), state);
        w
    }
}

const ALL_STATES: [JobState; 7] = [
    JobState::Creating,
    JobState::Shipping,
    JobState::Received,
    JobState::Transferring,
    JobState::Packaging,
    JobState::Completed,
    JobState::Closed,
];

// ---------------------------------------------------------------------------------------------
// Cancel

#[test]
fn r_cancel_1_accepted_in_creating_shipping_received_transferring() {
    for state in [JobState::Creating, JobState::Shipping, JobState::Received, JobState::Transferring] {
        let mut w = World::to(state);
        assert!(w.registry.peek("job-1").unwrap().capabilities(&Policy::default()).is_cancellable);
        let event = w.cancel().unwrap_or_else(|e| panic!("cancel refused in {state}: {e}"));
        assert!(matches!(event.change, Change::CancelRequested { .. }));
        assert!(w.registry.peek("job-1").unwrap().cancel_requested());
    }
}

#[test]
fn r_cancel_1_narrower_windows_follow_the_policy() {
    let cases = [
        (CancelWindow::CreatingOrShipping, JobState::Shipping, true),
        (CancelWindow::CreatingOrShipping, JobState::Received, false),
        (CancelWindow::CreatingOnly, JobState::Creating, true),
        (CancelWindow::CreatingOnly, JobState::Shipping, false),
    ];
    for (window, state, accepted) in cases {
        let policy = Policy { cancel_window: window, ..Policy::default() };
        let mut w = World::to(state);
        w.registry = {
            // Same history under the narrower policy.
            let mut r = Registry::new(policy);
            let log: Vec<Event> = replay_log(&w);
            for e in &log {
                r.apply(e).unwrap();
            }
            r
        };
        assert_eq!(w.registry.peek("job-1").unwrap().capabilities(&policy).is_cancellable, accepted);
        match w.cancel() {
            Ok(_) => assert!(accepted, "{window} accepted a cancel in {state}"),
            Err(e) => {
                assert!(!accepted, "{window} refused a cancel in {state}");
                assert_eq!(e.rule(), Rule::Cancel1);
            }
        }
    }
}

/// The events that built `w`'s job, recomputed from scratch by running the same history.
fn replay_log(w: &World) -> Vec<Event> {
    let job = w.registry.peek("job-1").unwrap();
    let mut out = vec![Event {
        at: job.created_at(),
        job: job.name().clone(),
        change: Change::Created {
            job_type: job.job_type(),
            drives: job.drive_list().iter().map(|d| d.drive_id.clone()).collect(),
        },
    }];
    if job.state() != JobState::Creating {
        out.push(Event {
            at: job.created_at() + SignedDuration::from_hours(1),
            job: job.name().clone(),
            change: Change::Shipped { delivery_package: job.delivery_package().cloned() },
        });
    }
    if job.state().step() >= JobState::Received.step() {
        out.push(Event {
            at: job.created_at() + SignedDuration::from_hours(2),
            job: job.name().clone(),
            change: Change::PackageReceived {
                drives: vec![drive("D1"), drive("D2"), drive("D3")],
                state: JobState::Received,
            },
        });
    }
    if job.state() == JobState::Transferring {
        out.push(Event {
            at: job.created_at() + SignedDuration::from_hours(3),
            job: job.name().clone(),
            change: Change::TransferStarted { drive: drive("D1"), state: JobState::Transferring },
        });
    }
    out
}

#[test]
fn r_cancel_2_refused_from_packaging_completed_closed() {
    for state in [JobState::Packaging, JobState::Completed, JobState::Closed] {
        let mut w = World::to(state);
        assert!(!w.registry.peek("job-1").unwrap().capabilities(&Policy::default()).is_cancellable);
        let e = w.err(Command::Cancel { job: w.job.clone() });
        assert_eq!(e, Error::CancelNotAllowed { job: name("job-1"), state, rule: Rule::Cancel2 });
        assert_eq!(e.code(), "CancelNotAllowed");
        assert!(
            !w.registry.peek("job-1").unwrap().cancel_requested(),
            "a refused cancel set cancelRequested"
        );
    }
}

#[test]
fn r_cancel_2_refused_once_packaging_even_after_an_accepted_cancel() {
    let mut w = World::to(JobState::Transferring);
    w.cancel().unwrap();
    w.finish("D1", TransferResult::Completed).unwrap();
    assert_eq!(w.state(), JobState::Packaging);
    let e = w.err(Command::Cancel { job: w.job.clone() });
    assert_eq!(e.rule(), Rule::Cancel2);
    w.ship_back().unwrap();
    let e = w.err(Command::Cancel { job: w.job.clone() });
    assert_eq!(
        e,
        Error::CancelNotAllowed { job: name("job-1"), state: JobState::Completed, rule: Rule::Cancel2 }
    );
}

#[test]
fn r_cancel_2_message_names_operation_state_and_rule() {
    let mut w = World::to(JobState::Packaging);
    let e = w.cancel().unwrap_err();
    assert_eq!(
        e.to_string(),
        "cancel refused for job 'job-1' in state Packaging: once the job is in Packaging, Completed or Closed \
         every cancel is refused, whether or not one was accepted before [R-CANCEL-2]"
    );
}

#[test]
fn r_cancel_3_repeated_cancel_is_accepted_and_changes_nothing() {
    // The states a cancelled job can still be in while accepting cancels: Shipping (waiting for
    // its package) and Transferring (a drive still copying). A cancel in Creating or Received
    // moves the job on at once (R-CANCEL-4, R-CANCEL-8).
    for state in [JobState::Shipping, JobState::Transferring] {
        let mut w = World::to(state);
        w.cancel().unwrap();
        let after_first = w.registry.peek("job-1").unwrap().clone();
        let again = w.cancel().unwrap();
        assert!(matches!(again.change, Change::CancelRequested { .. }));
        let after_second = w.registry.peek("job-1").unwrap();
        assert_eq!(after_second.state(), after_first.state());
        assert_eq!(after_second.drive_list(), after_first.drive_list());
        assert_eq!(after_second.state_entered_at(), after_first.state_entered_at());
        assert!(after_second.cancel_requested());
        // The retry is an event: the job's last recorded instant moves to it, nothing else.
        assert_eq!(after_second.updated_at(), again.at);
        assert_eq!(
            after_second.next_deadline(w.registry.policy()),
            after_first.next_deadline(w.registry.policy())
        );
    }
}

#[test]
fn r_cancel_4_cancel_in_creating_completes_at_once_and_starts_retention() {
    let mut w = World::import();
    let event = w.cancel().unwrap();
    assert_eq!(event.change, Change::CancelRequested { state: JobState::Completed });
    let job = w.registry.peek("job-1").unwrap();
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(job.state_entered_at(), event.at);
    assert_eq!(job.removal_at(w.registry.policy()), Some(event.at + 90 * DAY));
    assert!(job.drive_list().iter().all(|d| d.state == DriveState::Specified));
}

#[test]
fn r_cancel_5_cancel_in_shipping_waits_for_the_package_and_copies_nothing() {
    let mut w = World::to(JobState::Shipping);
    let event = w.cancel().unwrap();
    assert_eq!(event.change, Change::CancelRequested { state: JobState::Shipping });
    assert_eq!(w.state(), JobState::Shipping);
    assert!(w.registry.peek("job-1").unwrap().cancel_requested());
    // The package arrives: nothing is copied, the drives go straight to Packaging.
    let arrived = w.arrive(&["D1", "D2"]);
    assert_eq!(
        arrived.change,
        Change::PackageReceived { drives: vec![drive("D1"), drive("D2")], state: JobState::Packaging }
    );
    assert_eq!(w.drive_state("D1"), DriveState::Received);
    assert_eq!(w.drive_state("D3"), DriveState::NeverReceived);
    let e = w.start("D1").unwrap_err();
    assert_eq!(e.rule(), Rule::Flow3);
    assert_eq!(w.ship_back().unwrap().change, Change::ShippedBack { state: JobState::Completed });
    assert_eq!(w.drive_state("D1"), DriveState::ShippedBack);
    assert_eq!(w.drive_state("D3"), DriveState::NeverReceived);
}

#[test]
fn r_cancel_6_drives_transferring_at_the_cancel_keep_transferring_and_their_bytes_count() {
    let mut w = World::to(JobState::Transferring);
    w.progress("D1", 100).unwrap();
    let cancel = w.cancel().unwrap();
    assert_eq!(cancel.change, Change::CancelRequested { state: JobState::Transferring });
    assert_eq!(w.drive_state("D1"), DriveState::Transferring);
    w.progress("D1", 50).unwrap();
    assert_eq!(w.bytes("D1"), 150);
    let finished = w.finish("D1", TransferResult::Completed).unwrap();
    assert_eq!(
        finished.change,
        Change::TransferFinished {
            drive: drive("D1"),
            result: TransferResult::Completed,
            state: JobState::Packaging
        }
    );
    assert_eq!(w.bytes("D1"), 150);
    assert_eq!(w.drive_state("D1"), DriveState::Completed);
}

#[test]
fn r_cancel_7_no_drive_starts_a_transfer_after_a_cancel() {
    let mut w = World::to(JobState::Transferring);
    w.cancel().unwrap();
    let e = w.err(Command::StartTransfer { job: w.job.clone(), drive: drive("D2") });
    assert_eq!(
        e,
        Error::InvalidStateTransition {
            operation: Operation::StartTransfer,
            job: name("job-1"),
            state: JobState::Transferring,
            drive: None,
            rule: Rule::Cancel7
        }
    );
    assert!(
        e.to_string().contains("no drive starts a transfer after a cancel was requested [R-CANCEL-7]"),
        "{e}"
    );
    assert_eq!(w.drive_state("D2"), DriveState::Received);
}

#[test]
fn r_cancel_8_cancelled_job_goes_to_packaging_when_nothing_copies_and_ends_completed_never_closed() {
    // Cancelled in Received: nothing copies, so Packaging at once.
    let mut w = World::to(JobState::Received);
    assert_eq!(w.cancel().unwrap().change, Change::CancelRequested { state: JobState::Packaging });
    assert_eq!(w.ship_back().unwrap().change, Change::ShippedBack { state: JobState::Completed });

    // Cancelled while a drive copies, and that drive ends with errors: still Completed.
    let mut w = World::to(JobState::Transferring);
    w.cancel().unwrap();
    assert_eq!(w.state(), JobState::Transferring);
    w.finish("D1", TransferResult::CompletedMoreInfo).unwrap();
    assert_eq!(w.state(), JobState::Packaging);
    assert_eq!(w.ship_back().unwrap().change, Change::ShippedBack { state: JobState::Completed });
    assert!(["D1", "D2", "D3"].iter().all(|d| w.drive_state(d) == DriveState::ShippedBack));
}

#[test]
fn r_cancel_9_cancelled_job_with_nothing_at_the_datacenter_completes_directly() {
    // Cancel first, then the package never comes.
    let mut w = World::to(JobState::Shipping);
    w.cancel().unwrap();
    let shipped_at = w.registry.peek("job-1").unwrap().state_entered_at();
    let fired = w.registry.handle_timeout(shipped_at + 14 * DAY);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].change, Change::NeverReceived { state: JobState::Completed });
    assert!(["D1", "D2", "D3"].iter().all(|d| w.drive_state(d) == DriveState::NeverReceived));

    // The package never comes, then the customer cancels.
    let mut w = World::to(JobState::Shipping);
    let shipped_at = w.registry.peek("job-1").unwrap().state_entered_at();
    let fired = w.registry.handle_timeout(shipped_at + 14 * DAY);
    assert_eq!(fired[0].change, Change::NeverReceived { state: JobState::Shipping });
    w.now = shipped_at + 15 * DAY;
    assert_eq!(w.cancel().unwrap().change, Change::CancelRequested { state: JobState::Completed });
}

// ---------------------------------------------------------------------------------------------
// The normal flow

#[test]
fn r_flow_1_a_job_is_marked_shipping_only_from_creating() {
    for state in ALL_STATES {
        let mut w = World::to(state);
        let shippable = w.registry.peek("job-1").unwrap().capabilities(&Policy::default()).is_shippable;
        let result = w.run(Command::Ship { job: w.job.clone(), carrier: None, tracking_number: None });
        match state {
            JobState::Creating => {
                assert!(shippable);
                assert_eq!(result.unwrap().change, Change::Shipped { delivery_package: None });
                assert_eq!(w.state(), JobState::Shipping);
            }
            JobState::Shipping
            | JobState::Received
            | JobState::Transferring
            | JobState::Packaging
            | JobState::Completed
            | JobState::Closed => {
                assert!(!shippable);
                assert_eq!(result.unwrap_err().rule(), Rule::Flow1);
            }
        }
    }
}

#[test]
fn r_flow_2_import_package_marks_listed_drives_received_and_the_rest_never_received() {
    let mut w = World::to(JobState::Shipping);
    let e = w.arrive(&["D1", "D3"]);
    assert_eq!(
        e.change,
        Change::PackageReceived { drives: vec![drive("D1"), drive("D3")], state: JobState::Received }
    );
    assert_eq!(w.drive_state("D1"), DriveState::Received);
    assert_eq!(w.drive_state("D2"), DriveState::NeverReceived);
    assert_eq!(w.drive_state("D3"), DriveState::Received);
}

#[test]
fn r_flow_2_export_package_adds_its_drives() {
    let mut w = World::new(Policy::default());
    w.ok(Command::Create { job: w.job.clone(), job_type: JobType::Export, drives: vec![] });
    assert!(w.registry.peek("job-1").unwrap().drive_list().is_empty());
    w.ship();
    w.arrive(&["E1", "E2"]);
    assert_eq!(w.state(), JobState::Received);
    assert_eq!(w.drive_state("E1"), DriveState::Received);
    assert_eq!(w.drive_state("E2"), DriveState::Received);
}

#[test]
fn r_flow_2_package_refused_outside_shipping_and_for_unknown_drives() {
    for state in ALL_STATES {
        if state == JobState::Shipping {
            continue;
        }
        let mut w = World::to(state);
        let e = w.err(Command::PackageReceived { job: w.job.clone(), drives: vec![drive("D1")] });
        assert_eq!(e.rule(), Rule::Flow2, "in {state}");
    }
    let mut w = World::to(JobState::Shipping);
    let e = w.err(Command::PackageReceived { job: w.job.clone(), drives: vec![drive("D1"), drive("X9")] });
    assert_eq!(
        e,
        Error::DriveNotFound {
            operation: Operation::PackageReceived,
            job: name("job-1"),
            state: JobState::Shipping,
            drive: drive("X9")
        }
    );
}

#[test]
fn r_flow_3_a_transfer_starts_only_on_a_received_drive_and_the_job_becomes_transferring() {
    let mut w = World::to(JobState::Shipping);
    w.arrive(&["D1", "D2"]);
    assert_eq!(
        w.start("D1").unwrap().change,
        Change::TransferStarted { drive: drive("D1"), state: JobState::Transferring }
    );
    // Not a received drive: already copying, never arrived.
    for d in ["D1", "D3"] {
        let e = w.err(Command::StartTransfer { job: w.job.clone(), drive: drive(d) });
        assert_eq!(e.rule(), Rule::Flow3);
        assert!(matches!(e, Error::InvalidStateTransition { drive: Some(_), .. }));
    }
    // Not a job in Received or Transferring.
    for state in [JobState::Creating, JobState::Shipping, JobState::Packaging, JobState::Completed] {
        let mut w = World::to(state);
        assert_eq!(
            w.err(Command::StartTransfer { job: w.job.clone(), drive: drive("D1") }).rule(),
            Rule::Flow3
        );
    }
}

#[test]
fn r_flow_4_progress_and_finish_apply_only_to_a_transferring_drive() {
    let mut w = World::to(JobState::Transferring);
    for d in ["D2", "D3"] {
        let e = w.err(Command::Progress { job: w.job.clone(), drive: drive(d), bytes: 1 });
        assert_eq!(e.rule(), Rule::Flow4);
        let e = w.err(Command::FinishTransfer {
            job: w.job.clone(),
            drive: drive(d),
            result: TransferResult::Completed,
        });
        assert_eq!(e.rule(), Rule::Flow4);
    }
    w.progress("D1", 7).unwrap();
    assert_eq!(w.bytes("D1"), 7);
    w.finish("D1", TransferResult::Completed).unwrap();
    assert_eq!(
        w.err(Command::Progress { job: w.job.clone(), drive: drive("D1"), bytes: 1 }).rule(),
        Rule::Flow4
    );
}

#[test]
fn r_flow_5_the_job_goes_to_packaging_as_soon_as_no_drive_is_left_to_copy() {
    let mut w = World::to(JobState::Shipping);
    w.arrive(&["D1", "D2"]);
    w.start("D1").unwrap();
    w.start("D2").unwrap();
    w.finish("D1", TransferResult::Completed).unwrap();
    assert_eq!(w.state(), JobState::Transferring);
    let last = w.finish("D2", TransferResult::CompletedMoreInfo).unwrap();
    assert_eq!(
        last.change,
        Change::TransferFinished {
            drive: drive("D2"),
            result: TransferResult::CompletedMoreInfo,
            state: JobState::Packaging
        }
    );
}

#[test]
fn r_flow_6_ship_back_completes_a_clean_job_and_closes_one_with_errors() {
    let mut clean = World::to(JobState::Packaging);
    assert_eq!(clean.ship_back().unwrap().change, Change::ShippedBack { state: JobState::Completed });
    assert!(["D1", "D2", "D3"].iter().all(|d| clean.drive_state(d) == DriveState::ShippedBack));

    let with_errors = World::to(JobState::Closed);
    assert_eq!(with_errors.state(), JobState::Closed);

    // A drive that never arrived makes the job Closed too; it stays NeverReceived.
    let mut w = World::to(JobState::Shipping);
    w.arrive(&["D1"]);
    w.start("D1").unwrap();
    w.finish("D1", TransferResult::Completed).unwrap();
    assert_eq!(w.ship_back().unwrap().change, Change::ShippedBack { state: JobState::Closed });
    assert_eq!(w.drive_state("D1"), DriveState::ShippedBack);
    assert_eq!(w.drive_state("D2"), DriveState::NeverReceived);

    for state in [
        JobState::Creating,
        JobState::Shipping,
        JobState::Received,
        JobState::Transferring,
        JobState::Completed,
    ] {
        let mut w = World::to(state);
        assert_eq!(w.err(Command::ShipBack { job: w.job.clone() }).rule(), Rule::Flow6);
    }
}

#[test]
fn r_flow_7_states_only_move_forward_along_a_whole_life() {
    let mut w = World::import();
    let mut seen = vec![w.state()];
    w.ship();
    seen.push(w.state());
    w.arrive(&["D1", "D2", "D3"]);
    seen.push(w.state());
    for d in ["D1", "D2", "D3"] {
        w.start(d).unwrap();
        seen.push(w.state());
        w.progress(d, 10).unwrap();
        w.finish(d, TransferResult::Completed).unwrap();
        seen.push(w.state());
    }
    w.ship_back().unwrap();
    seen.push(w.state());
    assert!(seen.windows(2).all(|p| p[0].step() <= p[1].step()), "{seen:?}");
    assert_eq!(seen.first(), Some(&JobState::Creating));
    assert_eq!(seen.last(), Some(&JobState::Completed));
}

/// R-FLOW-7's order, as `JobState::step` and `JobState::is_terminal` give it to hosts (and to
/// the generated tests, which use them as oracles): written out here from the spec.
#[test]
fn r_flow_7_the_order_of_states_is_the_specs() {
    let expected = [
        (JobState::Creating, 0, false),
        (JobState::Shipping, 1, false),
        (JobState::Received, 2, false),
        (JobState::Transferring, 3, false),
        (JobState::Packaging, 4, false),
        (JobState::Completed, 5, true),
        (JobState::Closed, 5, true),
    ];
    for (state, step, terminal) in expected {
        assert_eq!((state.step(), state.is_terminal()), (step, terminal), "{state}");
    }
}

/// `len` and `is_empty` count the jobs as the registry stands, removed ones excluded.
#[test]
fn registry_len_and_is_empty_count_the_jobs_as_they_stand() {
    let mut w = World::new(Policy::default());
    assert!(w.registry.is_empty());
    assert_eq!(w.registry.len(), 0);
    let job = w.job.clone();
    w.ok(Command::Create { job, job_type: JobType::Export, drives: vec![] });
    assert!(!w.registry.is_empty());
    assert_eq!(w.registry.len(), 1);
    w.delete().unwrap();
    assert!(w.registry.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Delete and what follows

#[test]
fn r_delete_1_accepted_in_creating_completed_closed() {
    for state in [JobState::Creating, JobState::Completed, JobState::Closed] {
        let mut w = World::to(state);
        assert!(w.registry.peek("job-1").unwrap().capabilities(&Policy::default()).is_deletable);
        assert_eq!(w.delete().unwrap().change, Change::Deleted);
        assert!(w.registry.peek("job-1").is_none());
        assert_eq!(w.registry.next_deadline(), None, "a deleted job's timer is gone too");
    }
}

#[test]
fn r_delete_2_refused_in_shipping_received_transferring_packaging() {
    for state in [JobState::Shipping, JobState::Received, JobState::Transferring, JobState::Packaging] {
        let mut w = World::to(state);
        assert!(!w.registry.peek("job-1").unwrap().capabilities(&Policy::default()).is_deletable);
        let e = w.err(Command::Delete { job: w.job.clone() });
        assert_eq!(e, Error::DeleteNotAllowed { job: name("job-1"), state, rule: Rule::Delete2 });
    }
}

/// Every command, aimed at `job-1`.
fn every_command(job: &JobName) -> Vec<Command> {
    let job = job.clone();
    vec![
        Command::Ship { job: job.clone(), carrier: None, tracking_number: None },
        Command::Cancel { job: job.clone() },
        Command::Delete { job: job.clone() },
        Command::Update {
            job: job.clone(),
            fields: vec![UpdateField::ReturnAddress],
            drives: vec![],
            delivery_package: None,
        },
        Command::Update {
            job: job.clone(),
            fields: vec![UpdateField::DriveList],
            drives: vec![drive("D1")],
            delivery_package: None,
        },
        Command::PackageReceived { job: job.clone(), drives: vec![drive("D1")] },
        Command::StartTransfer { job: job.clone(), drive: drive("D1") },
        Command::Progress { job: job.clone(), drive: drive("D1"), bytes: 1 },
        Command::FinishTransfer { job: job.clone(), drive: drive("D1"), result: TransferResult::Completed },
        Command::ShipBack { job },
    ]
}

#[test]
fn r_gone_1_every_operation_on_a_deleted_or_expired_job_answers_job_not_found() {
    let mut deleted = World::import();
    deleted.delete().unwrap();
    let mut expired = World::import();
    expired.now += 14 * DAY;
    let mut retained = World::to(JobState::Closed);
    retained.now += 90 * DAY;
    for w in [&mut deleted, &mut expired, &mut retained] {
        for command in every_command(&w.job.clone()) {
            let op = command.operation();
            assert_eq!(w.run(command).unwrap_err(), Error::JobNotFound { operation: op, job: name("job-1") });
        }
        let now = w.step();
        let job = w.job.clone();
        assert_eq!(w.registry.get(now, &job).result.unwrap_err().code(), "JobNotFound");
        assert!(w.registry.list(now).result.unwrap().is_empty());
        assert!(w.registry.is_empty());
    }
}

#[test]
fn r_gone_2_a_new_job_may_take_a_removed_name_and_shares_nothing_with_the_old_one() {
    let mut w = World::to(JobState::Transferring);
    w.progress("D1", 500).unwrap();
    w.cancel().unwrap();
    w.finish("D1", TransferResult::Completed).unwrap();
    w.ship_back().unwrap();
    w.delete().unwrap();
    let created = w.ok(Command::Create { job: w.job.clone(), job_type: JobType::Export, drives: vec![] });
    let job = w.registry.peek("job-1").unwrap();
    assert_eq!(job.job_type(), JobType::Export);
    assert_eq!(job.state(), JobState::Creating);
    assert!(!job.cancel_requested());
    assert!(job.drive_list().is_empty());
    assert_eq!(job.delivery_package(), None);
    assert_eq!(job.created_at(), created.at);
    assert_eq!(w.registry.next_deadline().unwrap().at, created.at + 14 * DAY);
}

#[test]
fn r_input_2_a_name_in_use_cannot_be_created_again() {
    let mut w = World::to(JobState::Completed);
    let e = w.err(Command::Create { job: w.job.clone(), job_type: JobType::Export, drives: vec![] });
    assert_eq!(e, Error::JobAlreadyExists { job: name("job-1"), state: JobState::Completed });
    assert_eq!(
        e.to_string(),
        "create refused: the name 'job-1' is in use by a job in state Completed [R-INPUT-2]"
    );
}

// ---------------------------------------------------------------------------------------------
// Timers

#[test]
fn r_timer_1_a_job_left_in_creating_is_removed_at_creation_plus_14_days_exactly() {
    let mut w = World::import();
    let created = w.registry.peek("job-1").unwrap().created_at();
    let deadline = created + 14 * DAY;
    assert_eq!(w.registry.peek("job-1").unwrap().removal_at(w.registry.policy()), Some(deadline));
    assert!(w.registry.get(deadline - NS, &w.job.clone()).result.is_ok());
    let outcome = w.registry.get(deadline, &w.job.clone());
    assert_eq!(outcome.result.unwrap_err().code(), "JobNotFound");
    assert_eq!(
        outcome.timers,
        vec![Event { at: deadline, job: name("job-1"), change: Change::CreatingExpired }]
    );
}

#[test]
fn r_timer_2_a_package_not_arrived_14_days_after_shipping_makes_the_drives_never_received() {
    let mut w = World::to(JobState::Shipping);
    let shipped = w.registry.peek("job-1").unwrap().state_entered_at();
    let deadline = shipped + 14 * DAY;
    let next = w.registry.next_deadline().unwrap();
    assert_eq!((next.at, next.timer), (deadline, Timer::NeverReceived));
    assert!(w.registry.handle_timeout(deadline - NS).is_empty());
    assert_eq!(w.drive_state("D1"), DriveState::Specified);
    let fired = w.registry.handle_timeout(deadline);
    assert_eq!(
        fired,
        vec![Event {
            at: deadline,
            job: name("job-1"),
            change: Change::NeverReceived { state: JobState::Shipping }
        }]
    );
    assert!(["D1", "D2", "D3"].iter().all(|d| w.drive_state(d) == DriveState::NeverReceived));
    assert!(w.registry.peek("job-1").unwrap().package_overdue());
    let next = w.registry.next_deadline().unwrap();
    assert_eq!(
        (next.at, next.timer),
        (deadline + 30 * DAY, Timer::OverdueClosed),
        "the operators' wait (R-TIMER-6)"
    );
    // Decision: a late package is still accepted.
    w.now = deadline + DAY;
    w.arrive(&["D1"]);
    assert_eq!(w.state(), JobState::Received);
    assert_eq!(w.drive_state("D1"), DriveState::Received);
    assert_eq!(w.drive_state("D2"), DriveState::NeverReceived);
    assert!(!w.registry.peek("job-1").unwrap().package_overdue(), "the package is late until it arrives");
}

#[test]
fn r_timer_3_a_finished_job_is_visible_until_entered_plus_90_days_and_gone_at_that_instant() {
    for state in [JobState::Completed, JobState::Closed] {
        let mut w = World::to(state);
        let entered = w.registry.peek("job-1").unwrap().state_entered_at();
        let deadline = entered + 90 * DAY;
        let job = w.job.clone();
        assert_eq!(w.registry.peek("job-1").unwrap().removal_at(w.registry.policy()), Some(deadline));
        let before = w.registry.get(deadline - NS, &job);
        assert!(before.timers.is_empty());
        assert_eq!(before.result.unwrap().state(), state);
        let at = w.registry.get(deadline, &job);
        assert_eq!(
            at.timers,
            vec![Event { at: deadline, job: job.clone(), change: Change::RetentionExpired }]
        );
        assert!(at.result.is_err());
    }
}

#[test]
fn r_timer_3_retention_follows_the_policy() {
    let policy = Policy { retention_days: 1, ..Policy::default() };
    let mut w = World::import_with(policy);
    let cancelled = w.cancel().unwrap();
    assert_eq!(w.registry.next_deadline().unwrap().at, cancelled.at + DAY);
}

#[test]
fn r_timer_4_timers_due_at_the_same_instant_fire_in_the_order_of_their_jobs_names() {
    // Created in another order than their names' at one instant: their Creating expiries tie.
    let mut r = Registry::default();
    for job in ["job-c", "job-a", "job-b"] {
        let create = Command::Create { job: name(job), job_type: JobType::Export, drives: vec![] };
        r.execute(t0(), &create).result.unwrap();
    }
    assert_eq!(r.next_deadline().unwrap().job, name("job-a"));
    let fired = r.handle_timeout(t0() + SignedDuration::from_hours(24 * 14));
    let order: Vec<&str> = fired.iter().map(|e| e.job.as_str()).collect();
    assert_eq!(order, ["job-a", "job-b", "job-c"]);
    assert!(r.is_empty());

    // Zero-day periods: each job's timers chain at the same instant (overdue, closed by the
    // operators, retention over); a job's next timer at that instant still comes before the
    // timers of jobs whose names come later.
    let zero = Policy {
        shipping_expiry_days: 0,
        overdue_close_days: Some(0),
        retention_days: 0,
        ..Policy::default()
    };
    let mut r = Registry::new(zero);
    for job in ["job-b", "job-a"] {
        let create = Command::Create { job: name(job), job_type: JobType::Import, drives: vec![drive("D1")] };
        r.execute(t0(), &create).result.unwrap();
    }
    for job in ["job-b", "job-a"] {
        // Decided and applied on its own job only, so neither ship fires the other's timers.
        let ship = Command::Ship { job: name(job), carrier: None, tracking_number: None };
        let shipped = r.decide(t0() + SignedDuration::from_hours(1), &ship).result.unwrap();
        r.apply(&shipped).unwrap();
    }
    let fired = r.handle_timeout(t0() + SignedDuration::from_hours(1));
    let order: Vec<(&str, Option<Timer>)> = fired.iter().map(|e| (e.job.as_str(), e.timer())).collect();
    let chain = [Timer::NeverReceived, Timer::OverdueClosed, Timer::RetentionExpired];
    let expected: Vec<(&str, Option<Timer>)> =
        ["job-a", "job-b"].iter().flat_map(|job| chain.iter().map(move |t| (*job, Some(*t)))).collect();
    assert_eq!(order, expected);
    assert!(r.is_empty());
}

#[test]
fn r_timer_4_due_timers_fire_in_time_order_before_the_operation() {
    let mut r = Registry::default();
    let at = |h: i64| t0() + SignedDuration::from_hours(h);
    for (i, n) in ["c", "a", "b"].iter().enumerate() {
        let created = at(i as i64);
        r.execute(created, &Command::Create { job: name(n), job_type: JobType::Export, drives: vec![] })
            .result
            .unwrap();
    }
    // "a" was created second but "c" first: timers fire by deadline, not by name.
    let outcome =
        r.execute(at(0) + 14 * DAY + SignedDuration::from_hours(1), &Command::Cancel { job: name("b") });
    let fired: Vec<&str> = outcome.timers.iter().map(|e| e.job.as_str()).collect();
    assert_eq!(fired, ["c", "a"]);
    assert!(outcome.result.is_ok(), "b is still there: its deadline is an hour later");
    // A timer that fires can start another that is already due: both fire, in order.
    let policy = Policy { retention_days: 0, ..Policy::default() };
    let mut w = World::import_with(policy);
    w.ship();
    w.cancel().unwrap();
    let shipped = w.registry.peek("job-1").unwrap().state_entered_at();
    let fired = w.registry.handle_timeout(shipped + 14 * DAY);
    let kinds: Vec<Option<Timer>> = fired.iter().map(Event::timer).collect();
    assert_eq!(kinds, [Some(Timer::NeverReceived), Some(Timer::RetentionExpired)]);
}

#[test]
fn r_timer_5_a_deadline_beyond_the_time_type_never_fires() {
    let mut r = Registry::default();
    let late = Timestamp::MAX - DAY;
    let job = name("late");
    r.execute(late, &Command::Create { job: job.clone(), job_type: JobType::Export, drives: vec![] })
        .result
        .unwrap();
    assert_eq!(r.next_deadline(), None);
    assert!(r.handle_timeout(Timestamp::MAX).is_empty());
    assert!(r.get(Timestamp::MAX, &job).result.is_ok());
    assert_eq!(r.peek("late").unwrap().removal_at(r.policy()), None);
}

// ---------------------------------------------------------------------------------------------
// Refusals, input, clock, events

#[test]
fn r_refuse_1_a_refused_operation_changes_nothing() {
    // World::err asserts equality before and after; here, every refused command in every state.
    for state in ALL_STATES {
        let w = World::to(state);
        for command in every_command(&w.job.clone()) {
            let mut trial = World { registry: w.registry.clone(), now: w.now, job: w.job.clone() };
            let before = trial.registry.clone();
            if trial.run(command).is_err() {
                assert_eq!(trial.registry, before, "in {state}");
            }
        }
    }
}

#[test]
fn r_input_1_malformed_input_is_refused_with_a_typed_error() {
    let mut w = World::new(Policy::default());
    let job = w.job.clone();
    let eleven: Vec<DriveId> = (0..11).map(|i| drive(&format!("D{i}"))).collect();
    let cases = [
        (
            Command::Create { job: job.clone(), job_type: JobType::Import, drives: eleven },
            Problem::TooManyDrives { count: 11 },
        ),
        (
            Command::Create {
                job: job.clone(),
                job_type: JobType::Import,
                drives: vec![drive("D1"), drive("D1")],
            },
            Problem::DuplicateDrive { drive: drive("D1") },
        ),
        (Command::Create { job: job.clone(), job_type: JobType::Import, drives: vec![] }, Problem::NoDrives),
        (
            Command::Create { job: job.clone(), job_type: JobType::Export, drives: vec![drive("D1")] },
            Problem::DrivesOnExport,
        ),
    ];
    for (command, problem) in cases {
        assert_eq!(w.err(command), Error::InvalidRequest { operation: Operation::Create, problem });
    }
    let ten: Vec<DriveId> = (0..10).map(|i| drive(&format!("D{i}"))).collect();
    w.ok(Command::Create { job: job.clone(), job_type: JobType::Import, drives: ten });

    let mut w = World::to(JobState::Transferring);
    w.progress("D1", u64::MAX).unwrap();
    let e = w.err(Command::Progress { job: w.job.clone(), drive: drive("D1"), bytes: 1 });
    assert_eq!(
        e,
        Error::InvalidRequest {
            operation: Operation::Progress,
            problem: Problem::BytesOverflow { drive: drive("D1") }
        }
    );
    let e = w.err(Command::Progress { job: w.job.clone(), drive: drive("NOPE"), bytes: 1 });
    assert_eq!(e.code(), "DriveNotFound");
    let e = w.err(Command::PackageReceived { job: w.job.clone(), drives: vec![] });
    assert_eq!(e.rule(), Rule::Flow2, "the state is checked before the list");

    let mut w = World::to(JobState::Shipping);
    assert_eq!(
        w.err(Command::PackageReceived { job: w.job.clone(), drives: vec![] }).code(),
        "InvalidRequest"
    );
    let e = w.err(Command::PackageReceived { job: w.job.clone(), drives: vec![drive("D1"), drive("D1")] });
    assert_eq!(
        e,
        Error::InvalidRequest {
            operation: Operation::PackageReceived,
            problem: Problem::DuplicateDrive { drive: drive("D1") }
        }
    );
}

#[test]
fn r_input_1_a_malformed_name_is_refused_as_a_bad_request_naming_the_rule() {
    let refusal = |problem| Error::InvalidRequest { operation: Operation::Name, problem };
    assert_eq!(JobName::new(""), Err(refusal(Problem::EmptyJobName)));
    assert_eq!(JobName::new(&"x".repeat(65)), Err(refusal(Problem::JobNameTooLong { len: 65 })));
    assert_eq!(JobName::try_from("a b"), Err(refusal(Problem::JobNameCharacter { character: ' ' })));
    assert_eq!(DriveId::new(""), Err(refusal(Problem::EmptyDriveId)));
    assert_eq!(
        DriveId::try_from("dé".to_string()),
        Err(refusal(Problem::DriveIdCharacter { character: 'é' }))
    );
    let e = JobName::new("").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    assert_eq!(e.code(), "InvalidRequest");
    assert_eq!(e.rule(), Rule::Input1);
    assert!(e.to_string().ends_with("[R-INPUT-1]"), "{e}");
    // The longest well-formed name is accepted.
    assert_eq!(JobName::new(&"x".repeat(64)).unwrap().as_str().len(), 64);
}

#[test]
fn r_input_1_extreme_timestamps_are_handled_without_panicking() {
    for at in [Timestamp::MIN, Timestamp::MAX] {
        let mut r = Registry::default();
        let job = name("edge");
        r.execute(
            at,
            &Command::Create { job: job.clone(), job_type: JobType::Import, drives: vec![drive("D1")] },
        )
        .result
        .unwrap();
        r.execute(at, &Command::Ship { job: job.clone(), carrier: None, tracking_number: None })
            .result
            .unwrap();
        r.execute(Timestamp::MIN, &Command::Cancel { job: job.clone() }).result.unwrap();
        let _ = r.handle_timeout(Timestamp::MAX);
        let _ = r.get(Timestamp::MAX, &job);
        if let Some(job) = r.peek("edge") {
            job.check(r.policy()).unwrap();
        }
    }
}

#[test]
fn r_clock_1_an_earlier_now_counts_as_the_jobs_last_instant() {
    let mut w = World::to(JobState::Shipping);
    let last = w.registry.peek("job-1").unwrap().updated_at();
    let earlier = last - DAY;
    let event = w.registry.execute(earlier, &Command::Cancel { job: w.job.clone() }).result.unwrap();
    assert_eq!(event.at, last, "the cancel is recorded at the job's last instant, not before it");
    let job = w.registry.peek("job-1").unwrap();
    assert_eq!(job.updated_at(), last);
    job.check(w.registry.policy()).unwrap();
    // A new job has no history: it is created at the instant given.
    let other = name("job-2");
    let created = w
        .registry
        .execute(earlier, &Command::Create { job: other, job_type: JobType::Export, drives: vec![] })
        .result
        .unwrap();
    assert_eq!(created.at, earlier);
}

#[test]
fn r_clock_1_a_job_whose_own_timer_is_due_at_its_last_instant_fires_it_first() {
    // Zero-day retention: a job cancelled at `t` is due for removal at `t` itself. A caller whose
    // clock is an hour behind acts at the job's instant `t`, so the removal comes first.
    let policy = Policy { retention_days: 0, ..Policy::default() };
    let mut w = World::import_with(policy);
    let cancelled =
        w.registry.decide(w.now + SignedDuration::from_hours(1), &Command::Cancel { job: w.job.clone() });
    let cancelled = cancelled.result.unwrap();
    w.registry.apply(&cancelled).unwrap();
    let behind = cancelled.at - SignedDuration::from_hours(1);
    let outcome = w.registry.execute(behind, &Command::Delete { job: w.job.clone() });
    assert_eq!(
        outcome.timers,
        vec![Event { at: cancelled.at, job: name("job-1"), change: Change::RetentionExpired }]
    );
    assert_eq!(outcome.result.unwrap_err().code(), "JobNotFound");
}

#[test]
fn r_event_1_a_log_that_skips_a_due_timer_is_refused() {
    let mut w = World::to(JobState::Completed);
    let entered = w.registry.peek("job-1").unwrap().state_entered_at();
    let late_delete = Event { at: entered + 90 * DAY, job: name("job-1"), change: Change::Deleted };
    let before = w.registry.clone();
    assert!(w.registry.apply(&late_delete).is_err(), "the retention timer fires before any later event");
    assert_eq!(w.registry, before);
    let in_time = Event { at: entered + 90 * DAY - NS, job: name("job-1"), change: Change::Deleted };
    w.registry.apply(&in_time).unwrap();
}

#[test]
fn r_event_1_replaying_the_events_rebuilds_the_registry() {
    let mut r = Registry::default();
    let mut log = Vec::new();
    let j1 = name("job-1");
    let j2 = name("job-2");
    let mut now = t0();
    let mut run = |r: &mut Registry, log: &mut Vec<Event>, c: Command, dt: SignedDuration| {
        now += dt;
        let outcome = r.execute(now, &c);
        log.extend(outcome.timers);
        if let Ok(e) = outcome.result {
            log.push(e);
        }
    };
    let h = SignedDuration::from_hours(1);
    run(
        &mut r,
        &mut log,
        Command::Create {
            job: j1.clone(),
            job_type: JobType::Import,
            drives: vec![drive("D1"), drive("D2")],
        },
        h,
    );
    run(&mut r, &mut log, Command::Create { job: j2.clone(), job_type: JobType::Export, drives: vec![] }, h);
    run(
        &mut r,
        &mut log,
        Command::Ship { job: j1.clone(), carrier: Some("UPS".into()), tracking_number: None },
        h,
    );
    run(&mut r, &mut log, Command::PackageReceived { job: j1.clone(), drives: vec![drive("D1")] }, h);
    run(&mut r, &mut log, Command::StartTransfer { job: j1.clone(), drive: drive("D1") }, h);
    run(&mut r, &mut log, Command::Progress { job: j1.clone(), drive: drive("D1"), bytes: 42 }, h);
    run(&mut r, &mut log, Command::Cancel { job: j1.clone() }, h);
    run(&mut r, &mut log, Command::Cancel { job: j2.clone() }, 20 * DAY); // j2 expired first
    run(
        &mut r,
        &mut log,
        Command::FinishTransfer { job: j1.clone(), drive: drive("D1"), result: TransferResult::Completed },
        h,
    );
    run(&mut r, &mut log, Command::ShipBack { job: j1.clone() }, h);
    assert!(log.iter().any(|e| e.change == Change::CreatingExpired));
    let rebuilt = Registry::replay(Policy::default(), &log).unwrap();
    assert_eq!(rebuilt, r);
    // The log survives JSON.
    let json = serde_json::to_string(&log).unwrap();
    let back: Vec<Event> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, log);
}

#[test]
fn r_event_1_an_event_that_does_not_follow_is_refused_and_changes_nothing() {
    let mut w = World::to(JobState::Packaging);
    let before = w.registry.clone();
    let at = w.now + SignedDuration::from_hours(1);
    let forged = [
        // A cancel in Packaging.
        Event { at, job: name("job-1"), change: Change::CancelRequested { state: JobState::Packaging } },
        // A ship-back that claims the wrong final state.
        Event { at, job: name("job-1"), change: Change::ShippedBack { state: JobState::Closed } },
        // A timer that is not due.
        Event { at, job: name("job-1"), change: Change::RetentionExpired },
        // A job that does not exist.
        Event { at, job: name("job-9"), change: Change::Deleted },
        // An instant before the job's last one.
        Event { at: t0(), job: name("job-1"), change: Change::ShippedBack { state: JobState::Completed } },
    ];
    for event in &forged {
        assert!(w.registry.apply(event).is_err(), "{event:?} was applied");
        assert_eq!(w.registry, before);
    }
    // A refusal of the rules' own (the cancel) quotes that rule; an event the rules would have
    // decided otherwise quotes this one.
    assert_eq!(w.registry.apply(&forged[0]).unwrap_err().rule(), Rule::Cancel2);
    let wrong_end = w.registry.apply(&forged[1]).unwrap_err();
    assert_eq!((wrong_end.code(), wrong_end.rule()), ("InvalidRequest", Rule::Event1));
    assert!(wrong_end.to_string().ends_with("[R-EVENT-1]"), "{wrong_end}");
    let good = Event { at, job: name("job-1"), change: Change::ShippedBack { state: JobState::Completed } };
    w.registry.apply(&good).unwrap();
    assert_eq!(w.state(), JobState::Completed);
}

#[test]
fn r_event_1_registry_survives_json() {
    let w = World::to(JobState::Transferring);
    let json = serde_json::to_string(&w.registry).unwrap();
    let back: Registry = serde_json::from_str(&json).unwrap();
    assert_eq!(back, w.registry);
    // A job whose invariants do not hold is refused when deserialized.
    let broken = json.replace(
        "\"state\":\"Transferring\",\"cancelRequested\":false",
        "\"state\":\"Creating\",\"cancelRequested\":false",
    );
    assert_ne!(broken, json);
    assert!(serde_json::from_str::<Registry>(&broken).is_err());
}

/// The spec's *Which refusal wins*: the job, then its state, then R-CANCEL-7, then the request;
/// each refusal below has two reasons and answers with the first one in that order.
#[test]
fn refusal_precedence_job_then_state_then_request() {
    let code_and_rule = |e: Error| (e.code(), e.rule());

    // A malformed create (an import without drives) on a name in use: the name wins.
    let mut w = World::import();
    let job = w.job.clone();
    let e = w.err(Command::Create { job: job.clone(), job_type: JobType::Import, drives: vec![] });
    assert_eq!(code_and_rule(e), ("JobAlreadyExists", Rule::Input2));

    // A package listing a drive twice, sent to a job still in Creating: the state wins.
    let e = w.err(Command::PackageReceived { job: job.clone(), drives: vec![drive("D1"), drive("D1")] });
    assert_eq!(code_and_rule(e), ("InvalidStateTransition", Rule::Flow2));

    // The same package to a job in Shipping: the list's shape before its unknown drive.
    let mut w = World::to(JobState::Shipping);
    let e = w.err(Command::PackageReceived { job: job.clone(), drives: vec![drive("D9"), drive("D9")] });
    assert_eq!(code_and_rule(e), ("InvalidRequest", Rule::Input1));

    // A transfer start of an unknown drive: the job's state first, then the cancel, then the drive.
    assert_eq!(code_and_rule(w.start("D9").unwrap_err()), ("InvalidStateTransition", Rule::Flow3));
    let mut w = World::to(JobState::Received);
    assert_eq!(code_and_rule(w.start("D9").unwrap_err()), ("DriveNotFound", Rule::Input1));
    w.start("D1").unwrap();
    w.cancel().unwrap(); // D1 keeps copying, so the job stays Transferring (R-CANCEL-6)
    assert_eq!(code_and_rule(w.start("D9").unwrap_err()), ("InvalidStateTransition", Rule::Cancel7));

    // Progress that would overflow: on a drive not copying the drive's state wins; on a copying
    // drive the byte count is the only reason left.
    let mut w = World::to(JobState::Received);
    w.start("D1").unwrap();
    w.progress("D1", 1).unwrap();
    assert_eq!(
        code_and_rule(w.progress("D2", u64::MAX).unwrap_err()),
        ("InvalidStateTransition", Rule::Flow4)
    );
    assert_eq!(code_and_rule(w.progress("D1", u64::MAX).unwrap_err()), ("InvalidRequest", Rule::Input1));
    assert_eq!(code_and_rule(w.progress("D9", u64::MAX).unwrap_err()), ("DriveNotFound", Rule::Input1));
}

// ---------------------------------------------------------------------------------------------
// Update

/// Tries an update of `field` alone on a job driven to each state; checks that the states that
/// accept it are exactly `accepting`, that every refusal is `UpdateNotAllowed` naming the field,
/// the state and `rule`, and that a refusal changes nothing (R-REFUSE-1, via `World::err`).
fn field_changes_exactly_in(field: UpdateField, accepting: &[JobState], rule: Rule) {
    for state in ALL_STATES {
        let mut w = World::to(state);
        let drives = if field == UpdateField::DriveList { vec![drive("D1")] } else { vec![] };
        let command =
            Command::Update { job: w.job.clone(), fields: vec![field], drives, delivery_package: None };
        if accepting.contains(&state) {
            let event = w.ok(command);
            assert!(matches!(event.change, Change::Updated { .. }), "{field} in {state}: {event:?}");
            assert_eq!(w.state(), state, "an update never moves the job (R-UPDATE-6)");
        } else {
            match w.err(command) {
                Error::UpdateNotAllowed { field: f, state: s, rule: r, .. } => {
                    assert_eq!((f, s, r), (field, state, rule), "{field} in {state}")
                }
                other => panic!("{field} in {state}: {other}"),
            }
        }
    }
}

#[test]
fn r_update_1_return_address_and_return_shipping_change_until_the_job_reaches_packaging() {
    let until_packaging =
        [JobState::Creating, JobState::Shipping, JobState::Received, JobState::Transferring];
    field_changes_exactly_in(UpdateField::ReturnAddress, &until_packaging, Rule::Update1);
    field_changes_exactly_in(UpdateField::ReturnShipping, &until_packaging, Rule::Update1);
}

#[test]
fn r_update_2_the_delivery_package_changes_only_in_creating_and_shipping() {
    field_changes_exactly_in(
        UpdateField::DeliveryPackage,
        &[JobState::Creating, JobState::Shipping],
        Rule::Update2,
    );
}

/// The job holds the package's description an update gives, whole; a shipment lays the carrier
/// and tracking number it names over it; a description without its field, or naming nothing,
/// is refused and changes nothing (World::err checks).
#[test]
fn r_update_2_the_job_holds_the_package_an_update_describes() {
    let mut w = World::import();
    let job = w.job.clone();
    let package = |carrier: &str, count: Option<i64>| PackageInfo {
        carrier_name: Some(carrier.into()),
        tracking_number: Some("1Z".into()),
        drive_count: count,
        ship_date: Some("2026-01-06".into()),
    };
    let describe = |fields: Vec<UpdateField>, given: Option<PackageInfo>| Command::Update {
        job: job.clone(),
        fields,
        drives: vec![],
        delivery_package: given,
    };
    let held = |w: &World| w.registry.peek("job-1").unwrap().delivery_package().cloned();
    w.ok(describe(vec![UpdateField::DeliveryPackage], Some(package("FedEx", Some(3)))));
    assert_eq!(held(&w), Some(package("FedEx", Some(3))));
    // A new description replaces the old one whole.
    w.ok(describe(vec![UpdateField::DeliveryPackage], Some(package("DHL", None))));
    assert_eq!(held(&w), Some(package("DHL", None)));
    // Naming the field without a description (a command log of format version 1) keeps it.
    w.ok(describe(vec![UpdateField::DeliveryPackage], None));
    assert_eq!(held(&w), Some(package("DHL", None)));
    // Refused, each changing nothing.
    let e = w.err(describe(vec![UpdateField::Tags], Some(package("UPS", None))));
    assert!(
        matches!(e, Error::InvalidRequest { problem: Problem::PackageWithoutDeliveryPackage, .. }),
        "{e}"
    );
    assert_eq!(e.rule(), Rule::Update2);
    let e = w.err(describe(vec![UpdateField::DeliveryPackage], Some(PackageInfo::default())));
    assert!(matches!(e, Error::InvalidRequest { problem: Problem::EmptyPackage, .. }), "{e}");
    // The shipment names a carrier: it replaces the held one, the rest of the description stays.
    let shipped =
        w.ok(Command::Ship { job: job.clone(), carrier: Some("UPS".into()), tracking_number: None });
    let expected = PackageInfo { carrier_name: Some("UPS".into()), ..package("DHL", None) };
    assert_eq!(shipped.change, Change::Shipped { delivery_package: Some(expected.clone()) });
    assert_eq!(held(&w), Some(expected));
}

#[test]
fn r_update_3_log_level_and_backup_drive_manifest_change_before_any_copy_starts() {
    let before_copy = [JobState::Creating, JobState::Shipping, JobState::Received];
    field_changes_exactly_in(UpdateField::LogLevel, &before_copy, Rule::Update3);
    field_changes_exactly_in(UpdateField::BackupDriveManifest, &before_copy, Rule::Update3);
}

#[test]
fn r_update_4_the_drive_list_is_replaced_only_on_an_import_job_in_creating_with_the_checks_of_create() {
    field_changes_exactly_in(UpdateField::DriveList, &[JobState::Creating], Rule::Update4);
    let mut w = World::import();
    let job = w.job.clone();
    let replace = |drives: Vec<DriveId>| Command::Update {
        job: job.clone(),
        fields: vec![UpdateField::DriveList],
        drives,
        delivery_package: None,
    };
    // The new list replaces the old one, in its order, every drive Specified.
    let event = w.ok(replace(vec![drive("D9"), drive("D1")]));
    assert_eq!(
        event.change,
        Change::Updated {
            fields: vec![UpdateField::DriveList],
            drives: vec![drive("D9"), drive("D1")],
            delivery_package: None
        }
    );
    let ids: Vec<&str> =
        w.registry.peek("job-1").unwrap().drive_list().iter().map(|d| d.drive_id.as_str()).collect();
    assert_eq!(ids, ["D9", "D1"]);
    assert_eq!(w.drive_state("D9"), DriveState::Specified);
    // The checks of create (R-INPUT-1): at least one drive, at most ten, none twice.
    let code = |e: Error| (e.code(), e.rule());
    assert_eq!(code(w.err(replace(vec![]))), ("InvalidRequest", Rule::Input1));
    assert_eq!(code(w.err(replace(vec![drive("D1"), drive("D1")]))), ("InvalidRequest", Rule::Input1));
    let eleven = (1..=11).map(|i| drive(&format!("N{i}"))).collect();
    assert_eq!(code(w.err(replace(eleven))), ("InvalidRequest", Rule::Input1));
    // Drives given without naming driveList.
    let stray = Command::Update {
        job: job.clone(),
        fields: vec![UpdateField::Tags],
        drives: vec![drive("D1")],
        delivery_package: None,
    };
    assert!(matches!(w.err(stray), Error::InvalidRequest { problem: Problem::DrivesWithoutDriveList, .. }));
    // An export job names no drives: the datacenter adds those it receives.
    let mut export = World::new(Policy::default());
    export.ok(Command::Create { job: job.clone(), job_type: JobType::Export, drives: vec![] });
    let e = export.err(replace(vec![drive("E1")]));
    assert!(
        matches!(e, Error::UpdateNotAllowed { rule: Rule::Update4, state: JobState::Creating, .. }),
        "{e}"
    );
}

#[test]
fn r_update_5_tags_change_in_every_state() {
    field_changes_exactly_in(UpdateField::Tags, &ALL_STATES, Rule::Update5);
    // Cancelled, too.
    let mut w = World::to(JobState::Shipping);
    w.cancel().unwrap();
    w.update(&[UpdateField::Tags]).unwrap();
}

#[test]
fn r_update_6_an_update_names_its_fields_once_and_is_all_or_nothing() {
    let mut w = World::to(JobState::Packaging);
    // Tags alone would be accepted in Packaging; with the return address the whole update is
    // refused, naming the field that is not allowed, and nothing changes (World::err checks).
    let e = w.err(Command::Update {
        job: w.job.clone(),
        fields: vec![UpdateField::Tags, UpdateField::ReturnAddress, UpdateField::LogLevel],
        drives: vec![],
        delivery_package: None,
    });
    assert!(
        matches!(e, Error::UpdateNotAllowed { field: UpdateField::ReturnAddress, rule: Rule::Update1, .. }),
        "{e}"
    );
    assert_eq!(e.code(), "UpdateNotAllowed");
    assert_eq!(e.operation(), Operation::Update);
    assert_eq!(
        e.to_string(),
        format!(
            "update refused for job 'job-1' in state Packaging: field returnAddress: {} [R-UPDATE-1]",
            Rule::Update1.statement()
        )
    );
    // No field, or a field twice: a malformed request.
    for fields in [vec![], vec![UpdateField::Tags, UpdateField::Tags]] {
        let e = w.err(Command::Update { job: w.job.clone(), fields, drives: vec![], delivery_package: None });
        assert_eq!((e.code(), e.rule()), ("InvalidRequest", Rule::Update6));
    }
    // Accepted with every field allowed; the job's state, drives and flags do not change.
    let mut w = World::to(JobState::Received);
    let before = w.registry.peek("job-1").unwrap().clone();
    let fields = vec![UpdateField::ReturnAddress, UpdateField::LogLevel, UpdateField::Tags];
    let event = w.update(&fields).unwrap();
    assert_eq!(event.change, Change::Updated { fields, drives: vec![], delivery_package: None });
    let after = w.registry.peek("job-1").unwrap();
    assert_eq!(
        (after.state(), after.drive_list(), after.stages()),
        (before.state(), before.drive_list(), before.stages())
    );
    assert_eq!(after.updated_at(), event.at, "the update is recorded at its instant (R-CLOCK-1)");
}

#[test]
fn r_update_7_an_update_in_creating_restarts_the_clock_to_the_nanosecond_and_the_second() {
    let mut w = World::import();
    let created = w.registry.peek("job-1").unwrap().created_at();
    // Ten days in, an update: the job now lives 14 days from it, not from its creation.
    w.now = created + 10 * DAY - SignedDuration::from_hours(1);
    let updated = w.update(&[UpdateField::ReturnAddress]).unwrap().at;
    assert_eq!(updated, created + 10 * DAY);
    let deadline = updated + 14 * DAY;
    let job = w.registry.peek("job-1").unwrap();
    assert_eq!(job.removal_at(w.registry.policy()), Some(deadline));
    assert_eq!(job.state_entered_at(), created, "it is still in the Creating it entered at its creation");
    let next = w.registry.next_deadline().unwrap();
    assert_eq!((next.at, next.timer), (deadline, Timer::CreatingExpired));
    // Past the old deadline it is still there.
    assert!(w.registry.get(created + 14 * DAY, &w.job.clone()).result.is_ok());
    // Visible strictly before the new deadline, to the nanosecond and to the second ...
    for before in [deadline - NS, deadline - SignedDuration::from_secs(1)] {
        let mut r = w.registry.clone();
        let outcome = r.get(before, &w.job.clone());
        assert!(outcome.timers.is_empty() && outcome.result.is_ok(), "at {before}");
    }
    // ... gone at that instant, the timer recorded there.
    let outcome = w.registry.get(deadline, &w.job.clone());
    assert_eq!(outcome.result.unwrap_err().code(), "JobNotFound");
    assert_eq!(
        outcome.timers,
        vec![Event { at: deadline, job: name("job-1"), change: Change::CreatingExpired }]
    );
}

#[test]
fn r_update_7_an_update_outside_creating_moves_no_deadline() {
    for state in [JobState::Shipping, JobState::Completed] {
        let mut w = World::to(state);
        let before = w.registry.next_deadline();
        w.update(&[UpdateField::Tags]).unwrap();
        assert_eq!(w.registry.next_deadline(), before, "in {state}");
    }
}

#[test]
fn r_update_8_capabilities_say_which_fields_may_change_and_the_rule_refusing_each_other() {
    for state in ALL_STATES {
        let w = World::to(state);
        let job = w.registry.peek("job-1").unwrap();
        let caps = job.capabilities(w.registry.policy());
        for field in <UpdateField as strum::IntoEnumIterator>::iter() {
            let mut trial = World { registry: w.registry.clone(), now: w.now, job: w.job.clone() };
            let drives = if field == UpdateField::DriveList { vec![drive("D1")] } else { vec![] };
            let answer = trial.run(Command::Update {
                job: w.job.clone(),
                fields: vec![field],
                drives,
                delivery_package: None,
            });
            assert_eq!(caps.updatable_fields.contains(&field), answer.is_ok(), "{field} in {state}");
            assert_eq!(
                caps.refused_by.get(&field.to_string()).copied(),
                answer.err().map(|e| e.rule()),
                "{field} in {state}"
            );
        }
        assert_eq!(
            caps.is_shipping_address_editable,
            caps.updatable_fields.contains(&UpdateField::ReturnAddress)
        );
        // Every flag that is false names its rule; every true one names none.
        for (flag, value) in [
            ("isCancellable", caps.is_cancellable),
            ("isDeletable", caps.is_deletable),
            ("isShippable", caps.is_shippable),
            ("isShippingAddressEditable", caps.is_shipping_address_editable),
        ] {
            assert_eq!(caps.refused_by.contains_key(flag), !value, "{flag} in {state}");
        }
    }
    let packaging = World::to(JobState::Packaging);
    let caps = packaging.registry.peek("job-1").unwrap().capabilities(&Policy::default());
    assert_eq!(caps.updatable_fields, [UpdateField::Tags]);
    assert_eq!(caps.refused_by["isShippingAddressEditable"], Rule::Update1);
    assert_eq!(caps.refused_by["isCancellable"], Rule::Cancel2);
    let json = serde_json::to_value(&caps).unwrap();
    assert_eq!(json["isShippingAddressEditable"], false);
    assert_eq!(json["updatableFields"], serde_json::json!(["tags"]));
    assert_eq!(json["refusedBy"]["deliveryPackage"], "R-UPDATE-2");
}

// ---------------------------------------------------------------------------------------------
// The operators' close, and a job's history

/// A job whose package never came: shipped, then its drives NeverReceived 14 days later.
fn overdue(policy: Policy) -> (World, Timestamp) {
    let mut w = World::import_with(policy);
    w.ship();
    let shipped = w.registry.peek("job-1").unwrap().state_entered_at();
    let overdue_at = shipped + 14 * DAY;
    assert_eq!(w.registry.handle_timeout(overdue_at).len(), 1);
    assert!(w.registry.peek("job-1").unwrap().package_overdue());
    (w, overdue_at)
}

#[test]
fn r_timer_6_an_overdue_job_is_closed_30_days_later_and_its_retention_starts_then() {
    let (mut w, overdue_at) = overdue(Policy::default());
    let close = overdue_at + 30 * DAY;
    let next = w.registry.next_deadline().unwrap();
    assert_eq!((next.at, next.timer), (close, Timer::OverdueClosed));
    assert_eq!(
        w.registry.peek("job-1").unwrap().removal_at(w.registry.policy()),
        None,
        "not removed, closed"
    );
    // Still Shipping strictly before, to the nanosecond.
    assert!(w.registry.handle_timeout(close - NS).is_empty());
    assert_eq!(w.state(), JobState::Shipping);
    // Noticed late, recorded at its deadline.
    let fired = w.registry.handle_timeout(close + DAY);
    assert_eq!(fired, vec![Event { at: close, job: name("job-1"), change: Change::OverdueClosed }]);
    let job = w.registry.peek("job-1").unwrap();
    assert_eq!((job.state(), job.state_entered_at()), (JobState::Closed, close));
    assert!(job.drive_list().iter().all(|d| d.state == DriveState::NeverReceived));
    assert!(!job.cancel_requested());
    // Its 90 days of retention start at the close.
    assert_eq!(job.removal_at(w.registry.policy()), Some(close + 90 * DAY));
    // Closed like any finished job: deletable, not cancellable.
    assert!(w.delete().is_ok());
}

#[test]
fn r_timer_6_without_overdue_close_days_the_job_waits_in_shipping() {
    let policy: Policy = serde_json::from_str(r#"{"overdueCloseDays": null}"#).unwrap();
    assert_eq!(policy.overdue_close_days, None);
    assert_eq!(Policy::default().overdue_close_days, Some(30));
    let (mut w, overdue_at) = overdue(policy);
    assert_eq!(w.registry.next_deadline(), None, "the operators extend the wait indefinitely");
    assert!(w.registry.handle_timeout(overdue_at + 10_000 * DAY).is_empty());
    assert_eq!(w.state(), JobState::Shipping);
    // Another period is another wait.
    let (w, overdue_at) = overdue(Policy { overdue_close_days: Some(1), ..Policy::default() });
    assert_eq!(w.registry.next_deadline().unwrap().at, overdue_at + DAY);
}

#[test]
fn r_timer_6_a_package_arriving_during_the_wait_is_accepted_and_ends_the_wait() {
    let (mut w, overdue_at) = overdue(Policy::default());
    w.now = overdue_at + 29 * DAY;
    w.arrive(&["D1", "D2"]);
    assert_eq!(w.state(), JobState::Received);
    assert_eq!(w.drive_state("D3"), DriveState::NeverReceived);
    assert_eq!(w.registry.next_deadline(), None, "no operators' close once the package is here");
}

#[test]
fn r_cancel_9_a_cancel_during_the_operators_wait_completes_the_job() {
    let (mut w, overdue_at) = overdue(Policy::default());
    w.now = overdue_at + 29 * DAY;
    let event = w.cancel().unwrap();
    assert_eq!(event.change, Change::CancelRequested { state: JobState::Completed });
    let job = w.registry.peek("job-1").unwrap();
    assert_eq!(job.removal_at(w.registry.policy()), Some(event.at + 90 * DAY));
    assert_eq!(w.registry.next_deadline().unwrap().timer, Timer::RetentionExpired);
}

#[test]
fn r_stage_1_a_job_records_every_state_it_entered_in_order() {
    let mut w = World::import();
    let created = w.registry.peek("job-1").unwrap().created_at();
    w.update(&[UpdateField::Tags]).unwrap(); // no new stage: the state does not change
    let shipped = w.ship().at;
    let received = w.arrive(&["D1", "D2", "D3"]).at;
    let started = w.start("D1").unwrap().at;
    w.progress("D1", 5).unwrap(); // no new stage
    w.finish("D1", TransferResult::Completed).unwrap(); // D2 and D3 wait: still Transferring
    w.start("D2").unwrap();
    w.finish("D2", TransferResult::Completed).unwrap();
    w.start("D3").unwrap();
    let packed = w.finish("D3", TransferResult::Completed).unwrap().at;
    let done = w.ship_back().unwrap().at;
    let stages: Vec<(JobState, Timestamp)> =
        w.registry.peek("job-1").unwrap().stages().iter().map(|s| (s.stage_name, s.stage_time)).collect();
    assert_eq!(
        stages,
        [
            (JobState::Creating, created),
            (JobState::Shipping, shipped),
            (JobState::Received, received),
            (JobState::Transferring, started),
            (JobState::Packaging, packed),
            (JobState::Completed, done),
        ]
    );
    // A timer's stage is recorded at its deadline; the JSON names them as Data Box does.
    let (w, overdue_at) = overdue(Policy::default());
    let mut r = w.registry.clone();
    r.handle_timeout(overdue_at + 40 * DAY);
    let job = r.peek("job-1").unwrap();
    let last = job.stages().last().unwrap();
    assert_eq!((last.stage_name, last.stage_time), (JobState::Closed, overdue_at + 30 * DAY));
    let json = serde_json::to_value(job).unwrap();
    assert_eq!(json["stages"][0]["stageName"], "Creating");
    assert!(json["stages"][0]["stageTime"].is_string());
    assert_eq!(json["stages"].as_array().unwrap().len(), 3);
}

#[test]
fn r_event_1_updates_and_the_operators_close_replay_from_their_events() {
    let mut registry = Registry::default();
    let mut log = Vec::new();
    let job = name("job-1");
    let run = |registry: &mut Registry, log: &mut Vec<Event>, at: Timestamp, command: Command| {
        let outcome = registry.execute(at, &command);
        log.extend(outcome.timers);
        log.push(outcome.result.unwrap());
    };
    let create = Command::Create { job: job.clone(), job_type: JobType::Import, drives: vec![drive("D1")] };
    run(&mut registry, &mut log, t0(), create);
    let update = |fields: Vec<UpdateField>, drives| Command::Update {
        job: job.clone(),
        fields,
        drives,
        delivery_package: None,
    };
    run(&mut registry, &mut log, t0() + DAY, update(vec![UpdateField::DriveList], vec![drive("D2")]));
    run(
        &mut registry,
        &mut log,
        t0() + 2 * DAY,
        Command::Ship { job: job.clone(), carrier: None, tracking_number: None },
    );
    run(
        &mut registry,
        &mut log,
        t0() + 3 * DAY,
        update(vec![UpdateField::Tags, UpdateField::ReturnAddress], vec![]),
    );
    log.extend(registry.handle_timeout(t0() + 100 * DAY));
    assert!(log.iter().any(|e| e.change == Change::OverdueClosed));
    let rebuilt = Registry::replay(Policy::default(), &log).unwrap();
    assert_eq!(rebuilt, registry);
    // A forged update (one the rules refuse at that point) does not follow.
    let mut forged = Registry::replay(Policy::default(), &log[..3]).unwrap();
    let before = forged.clone();
    let wrong = Event {
        at: t0() + 3 * DAY,
        job: job.clone(),
        change: Change::Updated {
            fields: vec![UpdateField::DriveList],
            drives: vec![drive("D1")],
            delivery_package: None,
        },
    };
    assert!(forged.apply(&wrong).is_err());
    assert_eq!(forged, before);
}

/// Every "a refused input changes nothing" test compares registries: equality must see every
/// difference of policy or jobs, and ignore only the order the jobs were created in.
#[test]
fn registries_are_equal_exactly_when_they_hold_the_same_policy_and_jobs() {
    let create = |job: &str| Command::Create { job: name(job), job_type: JobType::Export, drives: vec![] };
    let build = |order: &[&str]| {
        let mut r = Registry::default();
        for job in order {
            r.execute(t0(), &create(job)).result.unwrap();
        }
        r
    };
    let ab = build(&["job-a", "job-b"]);
    // The same jobs created in another order: still equal.
    assert_eq!(ab, build(&["job-b", "job-a"]));
    // One job fewer, one job more, or another job of the same count.
    assert_ne!(ab, build(&["job-a"]));
    assert_ne!(ab, build(&["job-a", "job-b", "job-c"]));
    assert_ne!(ab, build(&["job-a", "job-c"]));
    // The same job in another state.
    let mut cancelled = ab.clone();
    cancelled.execute(t0(), &Command::Cancel { job: name("job-a") }).result.unwrap();
    assert_ne!(ab, cancelled);
    // The same jobs under another policy.
    let mut other = Registry::new(Policy { retention_days: 30, ..Policy::default() });
    for job in ["job-a", "job-b"] {
        other.execute(t0(), &create(job)).result.unwrap();
    }
    assert_ne!(ab, other);
    // Its debug form shows the policy and the jobs.
    let debug = format!("{ab:?}");
    assert!(debug.starts_with("Registry { policy: Policy {"), "{debug}");
    assert!(debug.contains("job-a") && debug.contains("job-b"), "{debug}");
}
