//! The per-job functions of `decider`, one job at a time: what a host that stores one record
//! per job relies on. The property that a JSON-record host answers exactly as the `Registry`
//! is in `tests/properties.rs` (`per_job_host_answers_exactly_as_the_registry`).

mod common;
use common::{drives, name, t0};

use import_export_lifecycle::{
    Change, Command, Event, Job, JobState, JobType, Policy, Registry, SignedDuration, Timer, decider,
};

const DAY: SignedDuration = SignedDuration::from_secs(86_400);
const NS: SignedDuration = SignedDuration::from_nanos(1);

fn create() -> Command {
    Command::Create { job: name("job-1"), job_type: JobType::Import, drives: drives(&["D1"]) }
}

/// A job created at `t0()`, as a host would hold it.
fn created() -> Option<Job> {
    let mut job = None;
    decider::execute(&mut job, &Policy::default(), t0(), &create()).result.unwrap();
    job
}

/// The case an in-memory registry once got wrong: a `Creating` job whose 14 days had passed was
/// answered `Deleted` by `decide`, and that event was then refused by `apply`. Deciding now
/// gives the expiry first, and the delete's answer on the job as the expiry leaves it.
#[test]
fn r_timer_4_decide_gives_the_jobs_due_timers_before_the_commands_answer() {
    let policy = Policy::default();
    let job = created();
    let late = t0() + 14 * DAY;
    let delete = Command::Delete { job: name("job-1") };
    let decided = decider::decide(job.as_ref(), &policy, late, &delete);
    assert_eq!(
        decided.timers,
        vec![Event { at: t0() + 14 * DAY, job: name("job-1"), change: Change::CreatingExpired }]
    );
    assert_eq!(decided.result.unwrap_err().code(), "JobNotFound");
    // One nanosecond earlier the job is still there and the delete is its answer.
    let in_time = decider::decide(job.as_ref(), &policy, late - NS, &delete);
    assert!(in_time.timers.is_empty());
    assert_eq!(in_time.result.unwrap().change, Change::Deleted);
    // The registry's decide answers the same, and changes nothing.
    let mut registry = Registry::default();
    registry.execute(t0(), &create()).result.unwrap();
    let before = registry.clone();
    let on_registry = registry.decide(late, &delete);
    assert_eq!(on_registry.timers.len(), 1);
    assert_eq!(on_registry.result.unwrap_err().code(), "JobNotFound");
    assert_eq!(registry, before);
}

/// `decide` changes nothing: the job it was given is exactly as before, whatever it answered.
#[test]
fn r_refuse_1_deciding_changes_nothing_and_a_refused_execute_changes_nothing_but_its_timers() {
    let policy = Policy::default();
    let mut job = created();
    let before = job.clone();
    let ship_back = Command::ShipBack { job: name("job-1") };
    let refused = decider::execute(&mut job, &policy, t0() + DAY, &ship_back);
    assert_eq!(refused.result.unwrap_err().code(), "InvalidStateTransition");
    assert!(refused.timers.is_empty());
    assert_eq!(job, before, "a refused command changes nothing");
    let _ = decider::decide(job.as_ref(), &policy, t0() + 30 * DAY, &ship_back);
    assert_eq!(job, before, "deciding changes nothing, even when a timer is due");
}

/// `execute` folds exactly what `decide` answered: the timers, then the command's event.
#[test]
fn r_event_1_execute_is_decide_then_apply_of_what_it_decided() {
    let policy = Policy::default();
    let start = created();
    let ship = Command::Ship { job: name("job-1"), carrier: Some("FedEx".into()), tracking_number: None };
    let now = t0() + DAY;
    let decided = decider::decide(start.as_ref(), &policy, now, &ship);
    let mut applied = start.clone();
    for event in decided.timers.iter().chain(decided.result.as_ref().ok()) {
        decider::apply(&mut applied, &policy, event).unwrap();
    }
    let mut executed = start;
    let outcome = decider::execute(&mut executed, &policy, now, &ship);
    assert_eq!(outcome, decided);
    assert_eq!(executed, applied);
    assert_eq!(executed.unwrap().state(), JobState::Shipping);
}

/// `apply` refuses an event that does not follow, and the job stays as it was: another job's
/// event, an event before a due timer, a timer that is not due, a forged state.
#[test]
fn r_event_1_apply_refuses_an_event_that_does_not_follow_and_changes_nothing() {
    let policy = Policy::default();
    let mut job = created();
    let before = job.clone();
    let forged = [
        // Another job's cancel, folded into job-1's record.
        Event {
            at: t0() + DAY,
            job: name("job-2"),
            change: Change::CancelRequested { state: JobState::Completed },
        },
        // A ship recorded after the job's 14 days in Creating: the expiry comes first.
        Event { at: t0() + 15 * DAY, job: name("job-1"), change: Change::Shipped { delivery_package: None } },
        // The Creating expiry a day early.
        Event { at: t0() + 13 * DAY, job: name("job-1"), change: Change::CreatingExpired },
        // A cancel that claims the wrong state afterwards.
        Event {
            at: t0() + DAY,
            job: name("job-1"),
            change: Change::CancelRequested { state: JobState::Shipping },
        },
        // A second create of a name that exists.
        Event {
            at: t0() + DAY,
            job: name("job-1"),
            change: Change::Created { job_type: JobType::Export, drives: vec![] },
        },
    ];
    for event in &forged {
        assert!(decider::apply(&mut job, &policy, event).is_err(), "{event:?} was applied");
        assert_eq!(job, before, "{event:?} changed the job");
    }
    // An event on no job at all, other than a create, is refused too.
    let mut none = None;
    let cancel = Event {
        at: t0(),
        job: name("job-1"),
        change: Change::CancelRequested { state: JobState::Completed },
    };
    assert_eq!(decider::apply(&mut none, &policy, &cancel).unwrap_err().code(), "JobNotFound");
    assert!(none.is_none());
}

/// A chain of timers on one job fires each at its own deadline: a job cancelled in `Shipping`
/// whose package never comes completes when its drives become `NeverReceived` (R-CANCEL-9), and
/// its 90 days of retention start then.
#[test]
fn r_timer_4_handle_timeout_fires_a_jobs_chain_of_timers_each_at_its_deadline() {
    let policy = Policy::default();
    let mut job = created();
    let ship = Command::Ship { job: name("job-1"), carrier: None, tracking_number: None };
    decider::execute(&mut job, &policy, t0() + DAY, &ship).result.unwrap();
    decider::execute(&mut job, &policy, t0() + 2 * DAY, &Command::Cancel { job: name("job-1") })
        .result
        .unwrap();
    let never = t0() + DAY + 14 * DAY;
    assert!(decider::handle_timeout(&mut job, &policy, never - NS).is_empty());
    let fired = decider::handle_timeout(&mut job, &policy, never + 200 * DAY);
    let timers: Vec<(Option<Timer>, _)> = fired.iter().map(|e| (e.timer(), e.at)).collect();
    assert_eq!(
        timers,
        vec![(Some(Timer::NeverReceived), never), (Some(Timer::RetentionExpired), never + 90 * DAY)]
    );
    assert!(job.is_none(), "removed at the end of its retention");
    assert!(decider::handle_timeout(&mut job, &policy, never + 400 * DAY).is_empty());
}

/// A removed job leaves nothing behind: its name, created again, is a new job (R-GONE-2).
#[test]
fn r_gone_2_a_name_created_again_after_removal_is_a_new_job() {
    let policy = Policy::default();
    let mut job = created();
    decider::execute(&mut job, &policy, t0() + DAY, &Command::Delete { job: name("job-1") }).result.unwrap();
    assert!(job.is_none());
    let again = Command::Create { job: name("job-1"), job_type: JobType::Export, drives: vec![] };
    decider::execute(&mut job, &policy, t0() + 2 * DAY, &again).result.unwrap();
    let job = job.unwrap();
    assert_eq!(
        (job.job_type(), job.created_at(), job.drive_list().len()),
        (JobType::Export, t0() + 2 * DAY, 0)
    );
}
