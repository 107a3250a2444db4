//! The PostgreSQL host against a real server: `DATABASE_URL` names it (`.ci/postgres run cargo
//! test -p host-postgres` starts a throwaway one). Each test works in a schema of its own,
//! dropped at its end, so the tests run in parallel on one database.
//!
//! Without `DATABASE_URL` each test says why it skipped and passes, except under `CI=true`,
//! where a missing database is a failure.

use std::io::Write as _;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::SystemTime;

use host_postgres::lifecycle::{
    self, Command, DriveId, Event, Job, JobName, JobState, JobType, Policy, Timestamp,
};
use host_postgres::{DATABASE_URL, HostError, Store, Written};
use import_export_lifecycle::{Change, SignedDuration, decider};
use postgres::{Client, NoTls};

// ---------------------------------------------------------------------------------------------
// The database each test uses.

/// A schema of the test's own in the database `DATABASE_URL` names, dropped when the test ends
/// (also when it fails).
struct Scratch {
    url: String,
    schema: String,
}

impl Scratch {
    /// The test's schema, or `None` (with the reason printed) when no database is configured
    /// outside CI.
    fn new(test: &str) -> Option<Scratch> {
        let url = match std::env::var(DATABASE_URL) {
            Ok(url) => url,
            Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!(
                    "CI=true but {DATABASE_URL} is unset: CI must run these tests against a real PostgreSQL"
                )
            }
            Err(_) => {
                // Straight to the process's stderr, past the test harness's capture, so the
                // skip shows in a passing run.
                let _ = writeln!(
                    std::io::stderr(),
                    "skipped {test}: {DATABASE_URL} is unset (run: .ci/postgres run cargo test -p host-postgres)"
                );
                return None;
            }
        };
        let schema = format!("test_{test}_{}", std::process::id());
        let scratch = Scratch { url, schema };
        scratch
            .sql()
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", scratch.schema))
            .expect("drop");
        Some(scratch)
    }

    /// A new connection of the host, in this schema, under the default policy.
    fn store(&self) -> Store {
        self.store_with(Policy::default())
    }

    fn store_with(&self, policy: Policy) -> Store {
        Store::connect(&self.url, &self.schema, policy).expect("the host connects and prepares its schema")
    }

    /// A plain connection, in this schema, to look at the rows as the database holds them.
    fn sql(&self) -> Client {
        let mut client = Client::connect(&self.url, NoTls).expect("connect");
        client.batch_execute(&format!("SET search_path TO {}", self.schema)).expect("search_path");
        client
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(mut client) = Client::connect(&self.url, NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

fn t(s: &str) -> Timestamp {
    s.parse().expect("a valid instant")
}

fn name(s: &str) -> JobName {
    lifecycle::job_name(s).expect("a valid name")
}

fn drive(s: &str) -> DriveId {
    lifecycle::drive_id(s).expect("a valid id")
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n * 86_400)
}

fn nanos(n: i64) -> SignedDuration {
    SignedDuration::from_nanos(n)
}

fn create(job: &JobName) -> Command {
    Command::Create { job: job.clone(), job_type: JobType::Import, drives: vec![drive("D1")] }
}

fn ship(job: &JobName) -> Command {
    Command::Ship { job: job.clone(), carrier: Some("FedEx".into()), tracking_number: Some("1Z999".into()) }
}

fn received(job: &JobName) -> Command {
    Command::PackageReceived { job: job.clone(), drives: vec![drive("D1")] }
}

/// Runs `command` through the host and requires it accepted.
fn accept(store: &mut Store, now: Timestamp, command: &Command) -> Event {
    let outcome = store.execute(now, command).expect("the host reaches its database");
    outcome.result.unwrap_or_else(|e| panic!("{command:?} at {now} refused: {e}"))
}

/// `(version, deadline as text, record)` of a row, as the database holds it.
fn raw_row(client: &mut Client, job: &str) -> Option<(i64, Option<SystemTime>, String)> {
    client
        .query_opt("SELECT version, deadline, record FROM jobs WHERE name = $1", &[&job])
        .expect("select")
        .map(|row| (row.get(0), row.get(1), row.get(2)))
}

/// An event as comparable text (the crate's own JSON of it).
fn key(event: &Event) -> String {
    serde_json::to_string(event).expect("an event serializes")
}

// ---------------------------------------------------------------------------------------------
// A job's whole life.

/// Create -> ship -> receive -> cancel -> ship back -> the retention timer, through the host,
/// answer by answer as the crate's own in-memory host gives them; the row is gone once the
/// retention ends, and visible to the nanosecond before (R-TIMER-3).
#[test]
fn r_timer_3_create_ship_receive_cancel_ship_back_then_retention_removes_the_row() {
    let Some(db) = Scratch::new("flow") else { return };
    let mut store = db.store();
    let mut sql = db.sql();
    let job = name("job-1");
    let mut model = import_export_lifecycle::Registry::default();
    let steps = [
        ("2026-01-05T09:00:00.000000001Z", create(&job), JobState::Creating),
        ("2026-01-06T09:00:00.5Z", ship(&job), JobState::Shipping),
        ("2026-01-09T09:00:00Z", received(&job), JobState::Received),
        ("2026-01-10T09:00:00Z", Command::Cancel { job: job.clone() }, JobState::Packaging),
        ("2026-01-11T09:00:00.123456789Z", Command::ShipBack { job: job.clone() }, JobState::Completed),
    ];
    for (version, (at, command, state)) in (1..).zip(&steps) {
        let outcome = store.execute(t(at), command).expect("the host reaches its database");
        assert_eq!(
            outcome,
            model.execute(t(at), command),
            "{at}: the host answers as the in-memory registry"
        );
        let (stored_version, _, _) = raw_row(&mut sql, "job-1").expect("the row exists");
        assert_eq!(stored_version, version, "{at}: every accepted command writes once");
        assert_eq!(store.read("job-1").expect("read").expect("a row").job.state(), *state);
    }
    // A refused command (a delete while... no: a Completed job may be deleted; a cancel may not)
    // changes nothing: the row keeps its version.
    let refused =
        store.execute(t("2026-01-12T09:00:00Z"), &Command::Cancel { job: job.clone() }).expect("db");
    assert_eq!(refused.result.expect_err("a Completed job cannot be cancelled").code(), "CancelNotAllowed");
    assert_eq!(raw_row(&mut sql, "job-1").expect("row").0, 5, "a refused command writes nothing");

    // Retention: 90 days after Completed, to the nanosecond.
    let end = t("2026-01-11T09:00:00.123456789Z") + days(90);
    assert!(store.get(end - nanos(1), "job-1").expect("get").is_some(), "visible a nanosecond before");
    assert!(store.get(end, "job-1").expect("get").is_none(), "gone at the deadline");
    let (_, deadline, _) = raw_row(&mut sql, "job-1").expect("row");
    assert_eq!(
        deadline,
        Some(lifecycle::system_time(t("2026-04-11T09:00:00.123457Z"))),
        "indexed rounded up"
    );

    assert!(store.sweep(end, 10).expect("sweep").is_empty(), "the row's key is after the sweep's bound");
    let fired = store.sweep(end + nanos(1_000), 10).expect("sweep");
    assert_eq!(fired.len(), 1);
    assert_eq!(
        (fired[0].at, &fired[0].change),
        (end, &Change::RetentionExpired),
        "fired at its own deadline"
    );
    assert!(raw_row(&mut sql, "job-1").is_none(), "the row is deleted");
    assert!(store.sweep(end + days(1), 10).expect("sweep").is_empty(), "and fires nothing again");
}

// ---------------------------------------------------------------------------------------------
// Writers racing.

/// Two workers, each with its own connection, race on the same jobs: every accepted progress
/// report is in the rows (no lost update), and every accepted write bumped the version once.
/// Racing creates of one name have exactly one winner (R-INPUT-2).
#[test]
fn r_input_2_two_workers_racing_on_the_same_jobs_lose_no_update() {
    let Some(db) = Scratch::new("race") else { return };
    const JOBS: usize = 4;
    const REPORTS: i64 = 300;
    let base = t("2026-01-05T09:00:00Z");
    let names: Vec<JobName> = (0..JOBS).map(|i| name(&format!("job-{i}"))).collect();
    let mut store = db.store();
    for job in &names {
        accept(&mut store, base, &create(job));
        accept(&mut store, base + days(1), &ship(job));
        accept(&mut store, base + days(2), &received(job));
        accept(&mut store, base + days(3), &Command::StartTransfer { job: job.clone(), drive: drive("D1") });
    }

    // Each worker reports progress on every job in turn: worker 0 one byte at a time, worker 1
    // a thousand, so the bytes tell whose reports were kept.
    let start = Arc::new(Barrier::new(2));
    let workers: Vec<_> = [1_u64, 1_000]
        .into_iter()
        .enumerate()
        .map(|(w, bytes)| {
            let (store, names, start) = (db.store(), names.clone(), Arc::clone(&start));
            thread::spawn(move || {
                let mut store = store;
                let (mut accepted, mut lost) = (vec![0_u64; JOBS], 0_u32);
                start.wait();
                for n in 0..REPORTS {
                    for (j, job) in names.iter().enumerate() {
                        let now = base + days(4) + nanos(n * 10 + i64::try_from(w).expect("small"));
                        let command = Command::Progress { job: job.clone(), drive: drive("D1"), bytes };
                        let (outcome, lost_here) =
                            store.execute_counted(now, &command).expect("no worker gives up");
                        outcome.result.expect("a copying drive accepts progress");
                        accepted[j] += 1;
                        lost += lost_here;
                    }
                }
                (accepted, lost)
            })
        })
        .collect();
    let results: Vec<(Vec<u64>, u32)> = workers.into_iter().map(|w| w.join().expect("a worker")).collect();
    let lost: u32 = results.iter().map(|r| r.1).sum();
    eprintln!("two workers, {} reports each: {lost} lost races retried", REPORTS * JOBS as i64);

    let mut sql = db.sql();
    for (j, job) in names.iter().enumerate() {
        let stored = store.read(job.as_str()).expect("read").expect("row");
        let (ones, thousands) = (results[0].0[j], results[1].0[j]);
        let bytes = stored.job.drive("D1").expect("D1").bytes_succeeded;
        assert_eq!(bytes, ones + thousands * 1_000, "{job}: every accepted report counted, once");
        let version = raw_row(&mut sql, job.as_str()).expect("row").0;
        assert_eq!(
            version,
            4 + i64::try_from(ones + thousands).expect("small"),
            "{job}: one write per report"
        );
    }

    // Racing creates of the same names: one winner each, the other refused JobAlreadyExists.
    let start = Arc::new(Barrier::new(2));
    let creators: Vec<_> = (0..2)
        .map(|_| {
            let (store, start) = (db.store(), Arc::clone(&start));
            thread::spawn(move || {
                let mut store = store;
                start.wait();
                (0..50)
                    .map(|i| {
                        let command = create(&name(&format!("new-{i}")));
                        let outcome = store.execute(base, &command).expect("db");
                        match outcome.result {
                            Ok(_) => true,
                            Err(e) if e.code() == "JobAlreadyExists" => false,
                            Err(e) => panic!("unexpected refusal: {e}"),
                        }
                    })
                    .collect::<Vec<bool>>()
            })
        })
        .collect();
    let won: Vec<Vec<bool>> = creators.into_iter().map(|c| c.join().expect("a creator")).collect();
    for (i, (first, second)) in won[0].iter().zip(&won[1]).enumerate() {
        assert!(first ^ second, "new-{i}: exactly one create wins");
    }
}

/// A write decided on a stale read loses, changes nothing, and the command decided again on
/// what is stored gets the right answer (a delete of a job shipped meanwhile is refused,
/// R-DELETE-2).
#[test]
fn r_delete_2_a_write_decided_on_a_stale_row_loses_and_the_command_is_decided_again() {
    let Some(db) = Scratch::new("stale") else { return };
    let (mut first, mut second) = (db.store(), db.store());
    let job = name("job-1");
    accept(&mut first, t("2026-01-05T09:00:00Z"), &create(&job));
    let stale = second.read("job-1").expect("read").expect("row");
    accept(&mut first, t("2026-01-06T09:00:00Z"), &ship(&job));

    let delete = Command::Delete { job: job.clone() };
    let (outcome, write) =
        lifecycle::decide(Some(stale.job.clone()), second.policy(), t("2026-01-06T09:00:01Z"), &delete);
    assert!(outcome.result.is_ok(), "on the stale copy the delete looks fine");
    assert_eq!(write, lifecycle::Write::Delete);
    assert_eq!(second.write("job-1", stale.version, &write).expect("db"), Written::Lost);
    let kept = second.read("job-1").expect("read").expect("the row is still there");
    assert_eq!((kept.version, kept.job.state()), (2, JobState::Shipping), "the lost write changed nothing");

    let retried = second.execute(t("2026-01-06T09:00:01Z"), &delete).expect("db");
    assert_eq!(retried.result.expect_err("a shipped job cannot be deleted").code(), "DeleteNotAllowed");
    assert_eq!(
        second.read("job-1").expect("read").expect("row").version,
        2,
        "a refused command writes nothing"
    );
}

// ---------------------------------------------------------------------------------------------
// The sweep.

/// Thousands of jobs with nanosecond deadlines and chains of timers, swept by four sweepers
/// racing at several instants (some with nanoseconds, between a deadline and its rounded-up
/// key): every timer fires exactly once, at its own deadline, never after the instant of the
/// sweep that fired it, and after each round no row is due (R-TIMER-4).
#[test]
fn r_timer_4_racing_sweepers_fire_every_timer_exactly_once_over_thousands_of_nanosecond_deadlines() {
    let Some(db) = Scratch::new("sweep") else { return };
    const JOBS: i64 = 3_000;
    const SWEEPERS: usize = 4;
    let policy = Policy::default();
    let base = t("2026-01-05T09:00:00Z");
    let mut store = db.store();
    // What the rules fire on each job, computed in memory from the same commands.
    let mut model: Vec<Option<Job>> = Vec::new();
    for i in 0..JOBS {
        let job = name(&format!("job-{i}"));
        // Every instant has nanoseconds: 1 ms and 3 ns apart, plus a per-job fraction.
        let at = base + nanos(i * 1_000_003 + 1 + i % 997);
        let mut commands = vec![(at, create(&job))];
        match i % 3 {
            0 => {} // stays in Creating: CreatingExpired after 14 days
            1 => commands.push((at + days(1) + nanos(7), ship(&job))), // NeverReceived, OverdueClosed, RetentionExpired
            _ => {
                commands.push((at + days(1), ship(&job)));
                commands.push((at + days(2), received(&job)));
                commands.push((at + days(3), Command::Cancel { job: job.clone() }));
                commands.push((at + days(4) + nanos(123), Command::ShipBack { job: job.clone() })); // RetentionExpired
            }
        }
        let mut mine = None;
        for (now, command) in &commands {
            accept(&mut store, *now, command);
            decider::execute(&mut mine, &policy, *now, command).outcome.result.expect("accepted in memory");
        }
        model.push(mine);
    }
    let end = base + days(400);
    let mut expected: Vec<String> = model
        .iter_mut()
        .flat_map(|job| decider::handle_timeout(job, &policy, end).events)
        .map(|e| key(&e))
        .collect();
    expected.sort();
    assert_eq!(
        expected.len(),
        5_000,
        "1 timer per job left in Creating, 3 per overdue one, 1 per cancelled one"
    );

    // The rounds: through the Creating expiries (a bound in the middle of them, with
    // nanoseconds), then each later chain, then past everything.
    let rounds = [
        base + days(14) + nanos(1_500_000_437),
        base + days(15) + nanos(1_500_000_437),
        base + days(16),
        base + days(60),
        base + days(100),
        end,
    ];
    let mut fired: Vec<Event> = Vec::new();
    let mut sql = db.sql();
    for now in rounds {
        let start = Arc::new(Barrier::new(SWEEPERS));
        let sweepers: Vec<_> = (0..SWEEPERS)
            .map(|_| {
                let (store, start) = (db.store(), Arc::clone(&start));
                thread::spawn(move || {
                    let mut store = store;
                    start.wait();
                    store.sweep(now, 50).expect("a sweep")
                })
            })
            .collect();
        let mut counts = Vec::new();
        for sweeper in sweepers {
            let events = sweeper.join().expect("a sweeper");
            counts.push(events.len());
            fired.extend(events);
        }
        eprintln!("sweep at {now}: {counts:?} timers fired by the {SWEEPERS} sweepers");
        assert!(fired.iter().all(|e| e.at <= now), "no timer fires after the sweep's instant");
        let due: i64 = sql
            .query_one("SELECT count(*) FROM jobs WHERE deadline <= $1", &[&lifecycle::sweep_bound(now)])
            .expect("count")
            .get(0);
        assert_eq!(due, 0, "after the sweep at {now}, no row is due");
    }
    let mut got: Vec<String> = fired.iter().map(key).collect();
    got.sort();
    let mut unique = got.clone();
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "no timer fired twice");
    assert_eq!(got, expected, "every timer fired, each at its own nanosecond deadline");
    let rows: i64 = sql.query_one("SELECT count(*) FROM jobs", &[]).expect("count").get(0);
    assert_eq!(rows, 0, "every job's last timer removed its row");
}

/// Commands and sweepers racing on the same due jobs: a late package report on every overdue
/// job while two sweepers sweep at the same instant. Each job's NeverReceived timer fires
/// exactly once, in a sweep or first in the command's own outcome, whoever wrote first, and
/// every late package is accepted (R-TIMER-2, R-TIMER-4).
#[test]
fn r_timer_2_commands_and_sweepers_racing_on_due_jobs_fire_each_timer_once() {
    let Some(db) = Scratch::new("mixed") else { return };
    const JOBS: i64 = 300;
    let base = t("2026-01-05T09:00:00Z");
    let names: Vec<JobName> = (0..JOBS).map(|i| name(&format!("job-{i}"))).collect();
    let mut store = db.store();
    for (i, job) in (0..).zip(&names) {
        accept(&mut store, base, &create(job));
        accept(&mut store, base + days(1) + nanos(i * 1_001 + 1), &ship(job)); // due 14 days later
    }
    let now = base + days(16);
    let start = Arc::new(Barrier::new(3));
    let sweepers: Vec<_> = (0..2)
        .map(|_| {
            let (store, start) = (db.store(), Arc::clone(&start));
            thread::spawn(move || {
                let mut store = store;
                start.wait();
                store.sweep(now, 10).expect("a sweep")
            })
        })
        .collect();
    let (commands, start_too) = (db.store(), Arc::clone(&start));
    let reporter = thread::spawn(move || {
        let mut store = commands;
        start_too.wait();
        // From the last job back, to meet the sweepers (earliest first) in the middle.
        names
            .iter()
            .rev()
            .flat_map(|job| {
                let outcome = store.execute(now, &received(job)).expect("db");
                outcome.result.expect("a late package is accepted");
                outcome.timers
            })
            .collect::<Vec<Event>>()
    });
    let mut fired = reporter.join().expect("the reporter");
    let by_commands = fired.len();
    for sweeper in sweepers {
        fired.extend(sweeper.join().expect("a sweeper"));
    }
    eprintln!("{by_commands} timers fired by commands, {} by sweeps", fired.len() - by_commands);
    assert!(
        fired.iter().all(|e| matches!(e.change, Change::NeverReceived { .. })),
        "only NeverReceived was due"
    );
    let mut jobs: Vec<&str> = fired.iter().map(|e| e.job.as_str()).collect();
    jobs.sort_unstable();
    jobs.dedup();
    assert_eq!((fired.len(), jobs.len()), (300, 300), "each job's timer fired once");
    for i in 0..JOBS {
        let stored = store.read(&format!("job-{i}")).expect("read").expect("row").job;
        assert_eq!(stored.state(), JobState::Received, "job-{i}: its late package was recorded");
    }
    let due: i64 = db
        .sql()
        .query_one("SELECT count(*) FROM jobs WHERE deadline <= $1", &[&lifecycle::sweep_bound(now)])
        .expect("count")
        .get(0);
    assert_eq!(due, 0, "nothing is left due");
}

// ---------------------------------------------------------------------------------------------
// Creates on a name whose job expired.

/// A create on a name whose job's timer removed it but that no sweep has removed from the table
/// yet: decided on the stored job at `now` (its timer fires first and removes it), then the new
/// job updates the row, at once (R-GONE-1: the name is free once the job is gone). Both for a
/// job that expired in Creating and for one whose retention ended.
#[test]
fn r_gone_1_a_create_on_the_name_of_an_expired_unswept_job_takes_the_row() {
    let Some(db) = Scratch::new("reuse") else { return };
    let mut store = db.store();
    let mut sql = db.sql();

    // Expired in Creating.
    let job = name("job-1");
    let created = t("2026-01-05T09:00:00.000000999Z");
    accept(&mut store, created, &create(&job));
    let later = created + days(14);
    let outcome = store.execute(later, &create(&job)).expect("db");
    assert_eq!(
        outcome.timers.iter().map(|e| (&e.change, e.at)).collect::<Vec<_>>(),
        [(&Change::CreatingExpired, later)]
    );
    assert_eq!(outcome.result.expect("the name is free").at, later);
    let stored = store.read("job-1").expect("read").expect("row");
    assert_eq!((stored.version, stored.job.created_at()), (2, later), "the new job updated the row");

    // Retention ended.
    let job = name("job-2");
    let start = t("2026-01-05T09:00:00Z");
    accept(&mut store, start, &create(&job));
    accept(&mut store, start + nanos(1), &Command::Delete { job: job.clone() });
    assert!(raw_row(&mut sql, "job-2").is_none(), "a delete removes the row");
    accept(&mut store, start + nanos(2), &create(&job));
    accept(&mut store, start + days(1), &ship(&job));
    accept(&mut store, start + days(2), &received(&job));
    accept(&mut store, start + days(3), &Command::Cancel { job: job.clone() });
    accept(&mut store, start + days(4), &Command::ShipBack { job: job.clone() });
    let gone = start + days(94);
    let outcome = store.execute(gone + days(1), &create(&job)).expect("db");
    assert_eq!(
        outcome.timers.iter().map(|e| (&e.change, e.at)).collect::<Vec<_>>(),
        [(&Change::RetentionExpired, gone)]
    );
    outcome.result.expect("the name is free once the retention ended");
    let stored = store.read("job-2").expect("read").expect("row");
    assert_eq!(stored.job.state(), JobState::Creating);
    assert_eq!(stored.version, 6, "the row made after the delete: five writes, then the create updated it");
}

// ---------------------------------------------------------------------------------------------
// Records.

/// A job stored and read back is the same job, its record byte for byte the crate's, in every
/// state a job goes through, with nanosecond instants, a package and a cancel.
#[test]
fn a_record_round_trip_through_the_database_returns_the_same_job() {
    let Some(db) = Scratch::new("record") else { return };
    let policy = Policy::default();
    let mut store = db.store();
    let mut sql = db.sql();
    let job = name("job-1");
    let at = t("2026-01-05T09:00:00.123456789Z");
    let steps = [
        (at, create(&job)),
        (at + days(1) + nanos(1), ship(&job)),
        (at + days(2) + nanos(2), received(&job)),
        (at + days(3) + nanos(3), Command::StartTransfer { job: job.clone(), drive: drive("D1") }),
        (
            at + days(3) + nanos(4),
            Command::Progress { job: job.clone(), drive: drive("D1"), bytes: u64::MAX / 2 },
        ),
        (at + days(3) + nanos(5), Command::Cancel { job: job.clone() }),
        (
            at + days(4),
            Command::FinishTransfer {
                job: job.clone(),
                drive: drive("D1"),
                result: import_export_lifecycle::TransferResult::CompletedMoreInfo,
            },
        ),
        (at + days(5) + nanos(999), Command::ShipBack { job: job.clone() }),
    ];
    let mut model = None;
    for (now, command) in &steps {
        accept(&mut store, *now, command);
        decider::execute(&mut model, &policy, *now, command).outcome.result.expect("accepted in memory");
        let expected = model.clone().expect("a job");
        let read = store.read("job-1").expect("read").expect("row").job;
        assert_eq!(read, expected, "{command:?}: the job read back is the job written");
        let (_, _, record) = raw_row(&mut sql, "job-1").expect("row");
        assert_eq!(record, lifecycle::encode(&expected), "the record is kept byte for byte");
    }
}

/// Why the record is `text`: `jsonb` reorders a record's keys and keeps only the last of two
/// equal keys, so it does not keep what the crate wrote. The crate reads a record whatever the
/// order of its keys (a newer version is refused for its version through `jsonb` too), and
/// refuses a record with a duplicate key, which only `text` lets it see.
#[test]
fn a_jsonb_column_would_reorder_the_record_and_hide_its_version() {
    let Some(db) = Scratch::new("jsonb") else { return };
    let mut store = db.store();
    let mut sql = db.sql();
    accept(&mut store, t("2026-01-05T09:00:00Z"), &create(&name("job-1")));
    let (_, _, record) = raw_row(&mut sql, "job-1").expect("row");
    assert!(record.starts_with("{\"formatVersion\":2,"), "the crate writes the version first: {record}");
    let mut through_jsonb = |text: &str| -> String {
        sql.query_one("SELECT ($1::text)::jsonb::text", &[&text]).expect("jsonb").get(0)
    };
    let reordered = through_jsonb(&record);
    assert!(!reordered.starts_with("{\"formatVersion\""), "jsonb moves the version: {reordered}");

    // A record from a newer crate: version 3, with a field version 2 does not know.
    let newer = record.replacen("{\"formatVersion\":2,", "{\"formatVersion\":3,", 1).replacen(
        '}',
        ",\"tags\":{}}",
        1,
    );
    let as_text = lifecycle::decode(&newer, "job-1").expect_err("version 3 is refused");
    assert!(as_text.contains("unsupported format version 3"), "{as_text}");
    let as_jsonb = lifecycle::decode(&through_jsonb(&newer), "job-1").expect_err("refused too");
    assert!(
        as_jsonb.contains("unsupported format version 3"),
        "through jsonb, for its version too: {as_jsonb}"
    );
    // And a record read back through jsonb, keys reordered, reads as written.
    assert_eq!(
        lifecycle::decode(&reordered, "job-1").expect("readable"),
        lifecycle::decode(&record, "job-1").expect("readable")
    );

    // Two equal keys: jsonb silently keeps the last one.
    let twice = record.replacen("{\"formatVersion\":2,", "{\"formatVersion\":2,\"formatVersion\":3,", 1);
    let kept = through_jsonb(&twice);
    assert_eq!(kept.matches("formatVersion").count(), 1, "jsonb drops one of them: {kept}");
    assert!(lifecycle::decode(&twice, "job-1").is_err(), "the crate refuses a record with a duplicate key");
}

/// A row the host cannot read is refused with the row's name: malformed JSON, a record of
/// another job, a version this host never writes, a record over the size bound.
#[test]
fn an_unreadable_row_is_refused_naming_the_row() {
    let Some(db) = Scratch::new("unreadable") else { return };
    let mut store = db.store();
    let mut sql = db.sql();
    accept(&mut store, t("2026-01-05T09:00:00Z"), &create(&name("good")));
    let (_, _, record) = raw_row(&mut sql, "good").expect("row");
    let cases = [
        ("malformed", 1_i64, "{\"formatVersion\":1,".to_string(), "EOF"),
        ("other", 1, record.clone(), "the record is job \"good\""),
        ("zero", 0, record.replace("\"good\"", "\"zero\""), "version 0"),
    ];
    for (job, version, text, says) in &cases {
        sql.execute("INSERT INTO jobs (name, version, record) VALUES ($1, 1, $2)", &[job, text])
            .expect("insert");
        if *version != 1 {
            // The table refuses a version below 1 itself; bypass the check to play a corrupt row.
            sql.batch_execute("ALTER TABLE jobs DROP CONSTRAINT jobs_version_check").expect("alter");
            sql.execute("UPDATE jobs SET version = $2 WHERE name = $1", &[job, version]).expect("update");
        }
        let error = store.read(job).expect_err("refused");
        let text = error.to_string();
        assert!(matches!(error, HostError::Record { .. }), "{text}");
        assert!(text.starts_with(&format!("row \"{job}\" of table jobs: ")) && text.contains(says), "{text}");
        // A command on it is refused the same way, and writes nothing.
        let command = Command::Cancel { job: name(job) };
        assert!(store.execute(t("2026-01-06T09:00:00Z"), &command).is_err());
        assert_eq!(raw_row(&mut sql, job).expect("still there").2, *text_of(&cases, job));
    }
    let huge = "x".repeat(lifecycle::MAX_RECORD_BYTES + 1);
    let refused = sql.execute("INSERT INTO jobs (name, version, record) VALUES ('huge', 1, $1)", &[&huge]);
    assert!(refused.is_err(), "the table refuses a record over the bound");
    assert!(lifecycle::decode(&huge, "huge").expect_err("refused").contains("more than 65536"));
}

fn text_of<'a>(cases: &'a [(&str, i64, String, &str)], job: &str) -> &'a String {
    &cases.iter().find(|c| c.0 == job).expect("a case").2
}

// ---------------------------------------------------------------------------------------------
// The schema.

/// The tables are created on first use; a database holding another version of them, or a
/// `jobs` table this host did not make, is refused with a message that says so, and left as it
/// was.
#[test]
fn a_schema_of_another_version_is_refused_with_a_clear_message() {
    let Some(db) = Scratch::new("version") else { return };
    drop(db.store());
    let mut sql = db.sql();
    let version: i32 = sql.query_one("SELECT version FROM schema_version", &[]).expect("version").get(0);
    assert_eq!(version, host_postgres::schema::SCHEMA_VERSION);
    drop(db.store()); // a second start finds the tables and accepts them

    sql.execute("UPDATE schema_version SET version = 2", &[]).expect("update");
    let refused = Store::connect(&db.url, &db.schema, Policy::default()).err().expect("refused");
    assert!(matches!(refused, HostError::SchemaVersion { found: 2, known: 1, .. }), "{refused}");
    assert!(
        refused.to_string().contains("holds version 2 of this host's tables; this program knows version 1")
    );
    let version: i32 = sql.query_one("SELECT version FROM schema_version", &[]).expect("version").get(0);
    assert_eq!(version, 2, "the refused database is left as it was");

    sql.batch_execute("DROP TABLE schema_version").expect("drop");
    let refused = Store::connect(&db.url, &db.schema, Policy::default()).err().expect("refused");
    assert!(matches!(refused, HostError::ForeignTables { .. }), "{refused}");

    let refused =
        Store::connect(&db.url, "Robert'); DROP TABLE jobs; --", Policy::default()).err().expect("refused");
    assert!(matches!(refused, HostError::SchemaName(_)), "{refused}");
}

/// Several processes starting on an empty database at once: one creates the tables, every one
/// ends up using them.
#[test]
fn several_hosts_starting_at_once_create_the_tables_once() {
    let Some(db) = Scratch::new("startup") else { return };
    let db = Arc::new(db);
    let start = Arc::new(Barrier::new(4));
    let hosts: Vec<_> = (0..4)
        .map(|i| {
            let (db, start) = (Arc::clone(&db), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                let mut store = db.store();
                accept(&mut store, t("2026-01-05T09:00:00Z"), &create(&name(&format!("job-{i}"))));
            })
        })
        .collect();
    for host in hosts {
        host.join().expect("every host starts");
    }
    let rows: i64 = db.sql().query_one("SELECT count(*) FROM jobs", &[]).expect("count").get(0);
    assert_eq!(rows, 4);
}

// ---------------------------------------------------------------------------------------------
// What happens under a policy whose days are all zero: every timer is due at once.

/// Under a policy of zero days, a job's timers chain at the same instant; the sweep fires the
/// whole chain of a claimed job in one go, each event once, and a host whose index stored only
/// whole microseconds still finds the job due.
#[test]
fn r_timer_4_a_chain_of_timers_due_at_once_fires_whole_in_one_sweep() {
    let Some(db) = Scratch::new("chain") else { return };
    let policy = Policy {
        retention_days: 0,
        creating_expiry_days: 1,
        shipping_expiry_days: 0,
        overdue_close_days: Some(0),
        ..Policy::default()
    };
    let mut store = db.store_with(policy);
    let job = name("job-1");
    let at = t("2026-01-05T09:00:00.000000001Z");
    accept(&mut store, at, &create(&job));
    accept(&mut store, at + nanos(1), &ship(&job)); // NeverReceived, OverdueClosed, RetentionExpired: all at once
    let fired = store.sweep(at + nanos(1_000), 10).expect("sweep");
    let changes: Vec<_> = fired.iter().map(|e| e.change.clone()).collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(fired.iter().all(|e| e.at == at + nanos(1)), "each at its own deadline");
    assert!(store.read("job-1").expect("read").is_none());
}

/// A deployment shortens its retention from 90 to 30 days: a row stored under the old policy
/// (a job cancelled, given new tags 46 days into its retention) still reads, the host re-indexes
/// it under the new policy, and the sweep removes it once, at its last recorded instant, so its
/// history never runs backwards (R-POLICY-1).
#[test]
fn r_policy_1_a_policy_change_never_makes_a_row_unreadable_and_its_timer_fires_once() {
    let Some(db) = Scratch::new("policy") else { return };
    let mut old = db.store();
    let job = name("job-1");
    let at = t("2026-01-05T09:00:00Z");
    accept(&mut old, at, &create(&job));
    accept(&mut old, at + days(1), &Command::Cancel { job: job.clone() });
    let tags = Command::Update {
        job: job.clone(),
        fields: vec![import_export_lifecycle::UpdateField::Tags],
        drives: vec![],
        delivery_package: None,
    };
    let tagged = at + days(47);
    accept(&mut old, tagged, &tags);
    drop(old);

    let mut new = db.store_with(Policy { retention_days: 30, ..Policy::default() });
    let read = new.read("job-1").expect("readable under the new policy").expect("row");
    assert_eq!(read.job.next_deadline(new.policy()).expect("a deadline").at, tagged);
    assert_eq!(new.reindex(100).expect("re-indexed"), 1, "one row's key moved");
    let mut sql = db.sql();
    assert_eq!(raw_row(&mut sql, "job-1").expect("row").1, Some(lifecycle::system_time(tagged)));
    let fired = new.sweep(at + days(60), 10).expect("swept");
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].at, tagged, "at its last recorded instant, never before it");
    assert!(raw_row(&mut sql, "job-1").is_none(), "the row is gone");
    assert!(new.sweep(at + days(61), 10).expect("swept").is_empty(), "and fires once");
}
