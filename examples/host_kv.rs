//! A host that keeps one record per job in a key-value store, as a real service does with a
//! database: load the record a request names, decide, write it back with a conditional write
//! (optimistic concurrency), and keep an index of the records' deadlines for the timer sweep.
//!
//! The store here is an in-memory map standing in for a table; what matters is the shape of the
//! calls. The crate does not know about versions or indexes: it decides on one `Option<Job>`.
//!
//! ```sh
//! cargo run --example host_kv
//! ```

use std::collections::{BTreeMap, BTreeSet};

use import_export_lifecycle::{
    Command, DriveId, Event, Job, JobName, JobType, Outcome, Policy, Timestamp, decider,
};

/// One stored row: the job's JSON (its stored form, with `formatVersion`) and a version number
/// that every write bumps.
struct Row {
    version: u64,
    json: String,
}

/// The table, and its secondary index: `(deadline, job)` for every record with a pending timer.
#[derive(Default)]
struct Store {
    rows: BTreeMap<String, Row>,
    deadlines: BTreeSet<(Timestamp, String)>,
}

/// A conditional write lost the race: someone wrote the record since it was read.
#[derive(Debug)]
struct Conflict;

impl Store {
    /// Reads a record: its version (0 when there is none) and the job.
    fn read(&self, name: &str) -> (u64, Option<Job>) {
        match self.rows.get(name) {
            Some(row) => {
                let name = JobName::new(name).expect("the store's keys are job names");
                (
                    row.version,
                    Some(Job::read(row.json.as_bytes(), &name).expect("the store holds valid records")),
                )
            }
            None => (0, None),
        }
    }

    /// Writes (or deletes) a record if its version is still `expected`, and moves its index
    /// entry: `UPDATE jobs SET json = ?, version = version + 1, deadline = ? WHERE name = ? AND
    /// version = ?` in SQL, a `ConditionExpression` in DynamoDB, an `If-Match` ETag in Cosmos DB.
    fn write_if(
        &mut self,
        name: &str,
        expected: u64,
        job: Option<&Job>,
        policy: &Policy,
    ) -> Result<(), Conflict> {
        let current = self.rows.get(name).map_or(0, |row| row.version);
        if current != expected {
            return Err(Conflict);
        }
        let old = self.read(name).1.and_then(|j| j.next_deadline(policy));
        if let Some(d) = old {
            self.deadlines.remove(&(d.at, name.to_string()));
        }
        match job {
            Some(job) => {
                let json = serde_json::to_string(job).expect("a job always serializes");
                self.rows.insert(name.to_string(), Row { version: current + 1, json });
                if let Some(d) = job.next_deadline(policy) {
                    self.deadlines.insert((d.at, name.to_string()));
                }
            }
            None => {
                self.rows.remove(name);
            }
        }
        Ok(())
    }
}

/// Handles one command: read, decide, conditional write; on a lost race, read again and
/// decide again (the command is decided on what is really stored).
fn handle(store: &mut Store, policy: &Policy, now: Timestamp, command: &Command) -> Outcome<Event> {
    loop {
        let (version, mut job) = store.read(command.job().as_str());
        let executed = decider::execute(&mut job, policy, now, command);
        // The crate says what to store: nothing, or the record (inserted, updated or deleted).
        if executed.write == decider::Write::Nothing
            || store.write_if(command.job().as_str(), version, job.as_ref(), policy).is_ok()
        {
            return executed.outcome;
        }
    }
}

/// The timer sweep: every record due by `now`, earliest first, fired at `now` (each timer at its
/// own deadline; never at the key read back from the index, which a store may have rounded).
fn sweep(store: &mut Store, policy: &Policy, now: Timestamp) -> Vec<Event> {
    let mut fired = Vec::new();
    while let Some((at, name)) = store.deadlines.first().cloned() {
        if at > now {
            break;
        }
        let (version, mut job) = store.read(&name);
        let due = decider::handle_timeout(&mut job, policy, now);
        if store.write_if(&name, version, job.as_ref(), policy).is_ok() {
            fired.extend(due.events);
        }
    }
    fired
}

fn main() {
    let t = |s: &str| s.parse::<Timestamp>().expect("a valid instant");
    let policy = Policy::default();
    let mut store = Store::default();
    let job = JobName::new("job-1").expect("a valid name");
    let d1 = DriveId::new("D1").expect("a valid id");

    let create = Command::Create { job: job.clone(), job_type: JobType::Import, drives: vec![d1] };
    handle(&mut store, &policy, t("2026-01-05T09:00:00Z"), &create).result.expect("created");

    // Two front ends read the same version; the customer's ship wins the race, so the second
    // front end's delete is decided again on the shipped job, and refused (R-DELETE-2).
    let (version, read_by_second) = store.read("job-1");
    let ship = Command::Ship { job: job.clone(), carrier: Some("FedEx".into()), tracking_number: None };
    handle(&mut store, &policy, t("2026-01-06T09:00:00Z"), &ship).result.expect("shipped");
    let mut stale = read_by_second;
    let delete = Command::Delete { job: job.clone() };
    let decided_on_stale = decider::execute(&mut stale, &policy, t("2026-01-06T09:00:01Z"), &delete);
    assert!(decided_on_stale.outcome.result.is_ok(), "on the stale copy the delete looks fine");
    assert!(
        store.write_if("job-1", version, stale.as_ref(), &policy).is_err(),
        "but the write loses the race"
    );
    let retried = handle(&mut store, &policy, t("2026-01-06T09:00:01Z"), &delete);
    println!("delete after the race: {}", retried.result.expect_err("a shipped job cannot be deleted"));

    // The package never arrives: the sweep marks the drive NeverReceived 14 days later.
    for event in sweep(&mut store, &policy, t("2026-02-01T00:00:00Z")) {
        println!("{}  timer {:?} on {}", event.at, event.change, event.job);
    }
    let (version, job_now) = store.read("job-1");
    println!(
        "job-1 at version {version}: {:?}, packageOverdue = {}",
        job_now.as_ref().map(Job::state),
        job_now.as_ref().is_some_and(Job::package_overdue)
    );
}
