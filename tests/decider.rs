//! The per-job functions of `decider`, one job at a time: what a host that stores one record
//! per job relies on. The property that a JSON-record host answers exactly as the `Registry`
//! is in `tests/properties.rs` (`per_job_host_answers_exactly_as_the_registry`).

mod common;
use common::{drives, name, t0};

use import_export_lifecycle::{
    Change, Command, Event, Job, JobState, JobType, Policy, Registry, SignedDuration, Timer, decider,
};
#[cfg(feature = "json")]
use import_export_lifecycle::{FORMAT_VERSION, PackageInfo, UpdateField};

const DAY: SignedDuration = SignedDuration::from_secs(86_400);
const NS: SignedDuration = SignedDuration::from_nanos(1);

fn create() -> Command {
    Command::Create { job: name("job-1"), job_type: JobType::Import, drives: drives(&["D1"]) }
}

/// A job created at `t0()`, as a host would hold it.
fn created() -> Option<Job> {
    let mut job = None;
    decider::execute(&mut job, &Policy::default(), t0(), &create()).outcome.result.unwrap();
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
    let refused = decider::execute(&mut job, &policy, t0() + DAY, &ship_back).outcome;
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
    assert_eq!(outcome.outcome, decided);
    assert_eq!(outcome.write, decider::Write::Update);
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
    decider::execute(&mut job, &policy, t0() + DAY, &ship).outcome.result.unwrap();
    decider::execute(&mut job, &policy, t0() + 2 * DAY, &Command::Cancel { job: name("job-1") })
        .outcome
        .result
        .unwrap();
    let never = t0() + DAY + 14 * DAY;
    assert!(decider::handle_timeout(&mut job, &policy, never - NS).events.is_empty());
    let fired = decider::handle_timeout(&mut job, &policy, never + 200 * DAY);
    assert_eq!(fired.write, decider::Write::Delete);
    let timers: Vec<(Option<Timer>, _)> = fired.events.iter().map(|e| (e.timer(), e.at)).collect();
    assert_eq!(
        timers,
        vec![(Some(Timer::NeverReceived), never), (Some(Timer::RetentionExpired), never + 90 * DAY)]
    );
    assert!(job.is_none(), "removed at the end of its retention");
    assert!(decider::handle_timeout(&mut job, &policy, never + 400 * DAY).events.is_empty());
}

/// A removed job leaves nothing behind: its name, created again, is a new job (R-GONE-2).
#[test]
fn r_gone_2_a_name_created_again_after_removal_is_a_new_job() {
    let policy = Policy::default();
    let mut job = created();
    decider::execute(&mut job, &policy, t0() + DAY, &Command::Delete { job: name("job-1") })
        .outcome
        .result
        .unwrap();
    assert!(job.is_none());
    let again = Command::Create { job: name("job-1"), job_type: JobType::Export, drives: vec![] };
    decider::execute(&mut job, &policy, t0() + 2 * DAY, &again).outcome.result.unwrap();
    let job = job.unwrap();
    assert_eq!(
        (job.job_type(), job.created_at(), job.drive_list().len()),
        (JobType::Export, t0() + 2 * DAY, 0)
    );
}

/// The write follows from the decision: an insert for a create on no record, an update for an
/// accepted command, nothing for a refusal with nothing due, a delete when the job goes.
#[test]
fn r_refuse_1_the_write_follows_from_the_decision() {
    use decider::Write;
    let policy = Policy::default();
    let mut none = None;
    assert_eq!(decider::execute(&mut none, &policy, t0(), &create()).write, Write::Insert);
    let mut nothing = None;
    let cancel = Command::Cancel { job: name("job-1") };
    assert_eq!(decider::execute(&mut nothing, &policy, t0(), &cancel).write, Write::Nothing);
    let mut job = created();
    let before = job.clone();
    let idle = decider::handle_timeout(&mut job, &policy, t0() + DAY);
    assert_eq!(
        (idle.events.len(), idle.write, &job),
        (0, Write::Nothing, &before),
        "nothing due writes nothing"
    );
    let refused = decider::execute(&mut job, &policy, t0() + DAY, &Command::ShipBack { job: name("job-1") });
    assert_eq!((refused.write, &job), (Write::Nothing, &before), "a refusal writes nothing");
    assert_eq!(decider::execute(&mut job, &policy, t0() + DAY, &create()).write, Write::Nothing);
    assert_eq!(decider::execute(&mut job, &policy, t0() + DAY, &cancel).write, Write::Update);
    let delete = Command::Delete { job: name("job-1") };
    assert_eq!(decider::execute(&mut job, &policy, t0() + 2 * DAY, &delete).write, Write::Delete);
    assert_eq!(decider::handle_timeout(&mut job, &policy, t0() + 900 * DAY).write, Write::Nothing);
    // Refused, but the job expired first: the record goes.
    let mut expired = created();
    let late = decider::execute(&mut expired, &policy, t0() + 14 * DAY, &cancel);
    assert_eq!((late.outcome.timers.len(), late.write), (1, Write::Delete));
}

/// A create on the name of a job whose timer removed it but that no sweep removed yet: the old
/// job's timer fires first, the create is accepted, and the record read is updated (an insert
/// would conflict with it for ever).
#[test]
fn r_gone_2_a_create_after_the_old_jobs_expiry_updates_the_record_it_read() {
    let policy = Policy::default();
    let mut job = created();
    let expired = t0() + 14 * DAY + NS;
    let again = Command::Create { job: name("job-1"), job_type: JobType::Export, drives: vec![] };
    let executed = decider::execute(&mut job, &policy, expired, &again);
    assert_eq!(executed.outcome.timers.len(), 1, "the old job's expiry fired first");
    executed.outcome.result.unwrap();
    assert_eq!(executed.write, decider::Write::Update);
    assert_eq!(job.unwrap().created_at(), expired);
}

/// A store that keeps microseconds or milliseconds: every deadline indexed rounded up, every
/// sweep claiming by its `now` rounded down and firing at its `now`, fires every timer exactly
/// once, at its own nanosecond deadline, never before it and at most one unit after it.
#[test]
fn r_timer_7_every_timer_fires_once_with_microsecond_and_millisecond_deadlines() {
    use decider::Resolution;
    let policy = Policy::default();
    for resolution in [Resolution::Nanosecond, Resolution::Microsecond, Resolution::Millisecond] {
        let unit = match resolution {
            Resolution::Nanosecond => 1,
            Resolution::Microsecond => 1_000,
            Resolution::Millisecond => 1_000_000,
        };
        // 1,000 jobs created at nanosecond offsets; an index of (key, job number).
        let mut jobs: Vec<Option<Job>> = Vec::new();
        let mut index = std::collections::BTreeSet::new();
        for i in 0..1_000i64 {
            let mut job = None;
            let at = t0() + SignedDuration::from_nanos(i * 7_919 + i % 3);
            decider::execute(&mut job, &policy, at, &create()).outcome.result.unwrap();
            let deadline = job.as_ref().unwrap().next_deadline(&policy).unwrap().at;
            let key = resolution.index_key(deadline).unwrap();
            assert!(
                key >= deadline && key.duration_since(deadline) < SignedDuration::from_nanos(unit),
                "{resolution:?}"
            );
            index.insert((key, i as usize));
            jobs.push(job);
        }
        // Sweeps every 333 ns from before the first deadline to after the last.
        let first = t0() + 14 * DAY;
        let mut fired = vec![0u32; jobs.len()];
        let mut now = first - SignedDuration::from_micros(5);
        while !index.is_empty() {
            assert!(now < first + SignedDuration::from_secs(1), "{resolution:?}: a sweep never ends");
            let bound = resolution.sweep_bound(now);
            while let Some(&(key, i)) = index.first().filter(|(key, _)| *key <= bound) {
                index.remove(&(key, i));
                let deadline = jobs[i].as_ref().unwrap().next_deadline(&policy).unwrap().at;
                let done = decider::handle_timeout(&mut jobs[i], &policy, now);
                assert_eq!(done.events.len(), 1, "{resolution:?}: a claimed job fires");
                assert_eq!(done.events[0].at, deadline, "at its own deadline");
                assert!(
                    now.duration_since(deadline) < SignedDuration::from_nanos(unit + 333),
                    "late by under a unit and a step"
                );
                assert_eq!(done.write, decider::Write::Delete);
                fired[i] += 1;
            }
            now += SignedDuration::from_nanos(333);
        }
        assert!(fired.iter().all(|n| *n == 1), "{resolution:?}: every timer fired exactly once");
        // Firing at the key read back (truncated) instead of `now` is the trap: nothing fires.
        if resolution != Resolution::Nanosecond {
            let mut job = None;
            decider::execute(&mut job, &policy, t0() + NS, &create()).outcome.result.unwrap();
            let deadline = job.as_ref().unwrap().next_deadline(&policy).unwrap().at;
            let read_back = resolution.sweep_bound(deadline);
            assert!(decider::handle_timeout(&mut job, &policy, read_back).events.is_empty());
        }
    }
}

/// A cancelled job whose tags changed 46 days into its retention, read after the deployment's
/// retention became 30 days: readable, its removal fires at its last recorded instant (not
/// before it, so its history never runs backwards), and exactly once.
#[cfg(feature = "json")]
#[test]
fn r_policy_1_a_shorter_retention_never_makes_a_record_unreadable_nor_history_run_backwards() {
    use import_export_lifecycle::UpdateField;
    let old = Policy::default();
    let mut job = created();
    decider::execute(&mut job, &old, t0() + DAY, &Command::Cancel { job: name("job-1") })
        .outcome
        .result
        .unwrap();
    assert_eq!(job.as_ref().unwrap().state(), JobState::Completed);
    let tags = Command::Update {
        job: name("job-1"),
        fields: vec![UpdateField::Tags],
        drives: vec![],
        delivery_package: None,
    };
    let tagged = t0() + 47 * DAY;
    decider::execute(&mut job, &old, tagged, &tags).outcome.result.unwrap();
    let record = serde_json::to_vec(job.as_ref().unwrap()).unwrap();

    let new = Policy { retention_days: 30, ..Policy::default() };
    let read = Job::read(&record, &name("job-1")).expect("a policy change never makes a record unreadable");
    let deadline = read.next_deadline(&new).unwrap();
    assert_eq!(deadline.at, tagged, "due at its last recorded instant, not 30 days after completing");
    assert_eq!(read.removal_at(&new), Some(tagged));
    let mut stored = Some(read);
    let fired = decider::handle_timeout(&mut stored, &new, t0() + 60 * DAY);
    assert_eq!(fired.events.len(), 1);
    assert_eq!((fired.events[0].at, fired.events[0].timer()), (tagged, Some(Timer::RetentionExpired)));
    assert!(fired.events[0].at >= job.as_ref().unwrap().updated_at(), "history never runs backwards");
    assert_eq!(fired.write, decider::Write::Delete);
    // Under the policy it was stored with, nothing changes: 90 days after completing.
    assert_eq!(job.unwrap().next_deadline(&old).unwrap().at, t0() + 91 * DAY);
}

/// A longer policy moves a deadline later, a shorter one earlier but never before the job's
/// last instant: the host re-indexes every record after a change (R-POLICY-1).
#[test]
fn r_policy_1_deadlines_follow_the_new_policy_from_the_jobs_last_instant() {
    let mut job = created();
    let longer = Policy { creating_expiry_days: 20, ..Policy::default() };
    let shorter = Policy { creating_expiry_days: 0, ..Policy::default() };
    let j = job.as_ref().unwrap();
    assert_eq!(j.next_deadline(&longer).unwrap().at, t0() + 20 * DAY);
    assert_eq!(j.next_deadline(&shorter).unwrap().at, t0());
    let fired = decider::handle_timeout(&mut job, &shorter, t0());
    assert_eq!((fired.events.len(), fired.write), (1, decider::Write::Delete));
}

/// One call reads a stored record: through a store that reorders keys (a JSON value with sorted
/// keys, as PostgreSQL's `jsonb` does), the version is found and checked wherever it is; a key
/// given twice, another version, a malformed field, an inconsistent job and another job's
/// record are each refused with their own typed error (R-INPUT-3).
#[cfg(feature = "json")]
#[test]
fn r_input_3_one_call_reads_a_stored_record_with_typed_errors() {
    use decider::ReadError;
    let job = created().unwrap();
    let written = serde_json::to_string(&job).unwrap();
    assert!(written.starts_with(&format!(r#"{{"formatVersion":{FORMAT_VERSION},"#)));
    // Reordered: serde_json's map sorts keys, so formatVersion is no longer first.
    let value: serde_json::Value = serde_json::from_str(&written).unwrap();
    let reordered = serde_json::to_string(&value).unwrap();
    assert!(!reordered.starts_with(r#"{"formatVersion""#), "{reordered}");
    assert_eq!(Job::read(reordered.as_bytes(), &name("job-1")).unwrap(), job);
    assert_eq!(Job::read(written.as_bytes(), &name("job-1")).unwrap(), job);

    let newer = u64::from(FORMAT_VERSION) + 1;
    let mut v2 = value.clone();
    v2["formatVersion"] = newer.into();
    v2["aNewField"] = true.into();
    let v2 = serde_json::to_string(&v2).unwrap();
    assert!(v2.find("aNewField") < v2.find("formatVersion"), "the new field comes first");
    assert_eq!(
        Job::read(v2.as_bytes(), &name("job-1")),
        Err(ReadError::UnsupportedVersion { found: newer, known: FORMAT_VERSION })
    );

    let twice = written.replacen(
        r#""cancelRequested":false"#,
        r#""cancelRequested":false,"cancelRequested":true"#,
        1,
    );
    let Err(ReadError::Malformed { message, .. }) = Job::read(twice.as_bytes(), &name("job-1")) else {
        panic!("a key given twice is refused")
    };
    assert!(message.contains("duplicate key `cancelRequested`"), "{message}");

    let mut bad = value.clone();
    bad["driveList"][0]["state"] = "Lost".into();
    let bad = serde_json::to_string(&bad).unwrap();
    let Err(ReadError::Malformed { path, .. }) = Job::read(bad.as_bytes(), &name("job-1")) else {
        panic!("a malformed field is refused")
    };
    assert_eq!(path, "driveList[0].state");

    let mut forged = value.clone();
    forged["state"] = "Shipping".into();
    let forged = serde_json::to_string(&forged).unwrap();
    assert!(matches!(Job::read(forged.as_bytes(), &name("job-1")), Err(ReadError::Inconsistent { .. })));

    assert_eq!(
        Job::read(written.as_bytes(), &name("job-2")),
        Err(ReadError::OtherJob { expected: name("job-2"), found: name("job-1") })
    );
    // The cap is inclusive: a record of exactly MAX_RECORD_BYTES (padded with the whitespace JSON
    // allows) reads, one byte more is refused before it is parsed.
    let mut exact = written.clone().into_bytes();
    exact.resize(decider::MAX_RECORD_BYTES, b' ');
    assert_eq!(Job::read(&exact, &name("job-1")).unwrap(), job);
    exact.push(b' ');
    assert_eq!(
        Job::read(&exact, &name("job-1")),
        Err(ReadError::TooLarge { bytes: decider::MAX_RECORD_BYTES + 1, max: decider::MAX_RECORD_BYTES })
    );
    let huge = vec![b' '; decider::MAX_RECORD_BYTES + 1];
    assert!(matches!(Job::read(&huge, &name("job-1")), Err(ReadError::TooLarge { .. })));
    assert!(matches!(Job::read(b"[1]", &name("job-1")), Err(ReadError::Malformed { .. })));
}

/// A record of format version 1, as a host stored it (`tests/fixtures/job-format-1.json`, pretty
/// printed, so its whitespace differs from what the crate writes), still reads: the same job as
/// the commands that made it give, written back in the current form.
#[cfg(feature = "json")]
#[test]
fn r_input_3_a_stored_record_of_format_version_1_still_reads() {
    let fixture = include_str!("fixtures/job-format-1.json");
    let read = Job::read(fixture.as_bytes(), &name("job-1")).expect("a version-1 record reads");
    let policy = Policy::default();
    let mut job = created();
    let ship = Command::Ship {
        job: name("job-1"),
        carrier: Some("FedEx".into()),
        tracking_number: Some("123456789".into()),
    };
    decider::execute(&mut job, &policy, t0() + DAY, &ship).outcome.result.unwrap();
    assert_eq!(Some(&read), job.as_ref());
    let mut compact: serde_json::Value = serde_json::from_str(fixture).unwrap();
    compact["formatVersion"] = FORMAT_VERSION.into();
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        compact,
        "written back field for field, in the current version"
    );
}

/// A stored job of format version 2 (kept in `tests/fixtures/job-format-2.json`): a job in
/// `Creating` whose package the customer described before shipping, with its drive count and
/// ship date, which version 1 could not hold. It reads as the commands that made it give.
#[cfg(feature = "json")]
#[test]
fn r_input_3_a_stored_record_of_format_version_2_reads() {
    let fixture = include_str!("fixtures/job-format-2.json");
    let read = Job::read(fixture.as_bytes(), &name("job-1")).expect("a version-2 record reads");
    let policy = Policy::default();
    let mut job = created();
    let package = PackageInfo {
        carrier_name: Some("FedEx".into()),
        tracking_number: Some("123456789".into()),
        drive_count: Some(1),
        ship_date: Some("2026-01-06".into()),
    };
    let update = Command::Update {
        job: name("job-1"),
        fields: vec![UpdateField::DeliveryPackage],
        drives: vec![],
        delivery_package: Some(package),
    };
    decider::execute(&mut job, &policy, t0() + DAY, &update).outcome.result.unwrap();
    assert_eq!(Some(&read), job.as_ref());
    let compact: serde_json::Value = serde_json::from_str(fixture).unwrap();
    assert_eq!(serde_json::to_value(&read).unwrap(), compact, "written back field for field");
}
