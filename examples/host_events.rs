//! An event-sourced host: it stores each job's events, not the job. A job is rebuilt by folding
//! its events with `decider::apply`, which checks every event against the rules (R-EVENT-1), so a
//! corrupted or forged log is refused rather than believed. A command appends the events
//! `decider::decide` returns (the job's due timers, then the command's), conditional on the log's
//! length (optimistic concurrency).
//!
//! ```sh
//! cargo run --example host_events
//! ```

use std::collections::BTreeMap;

use import_export_lifecycle::{
    Command, DriveId, Error, Event, Job, JobName, JobType, Policy, Timestamp, TransferResult, decider,
};

/// Every job's events, oldest first, as stored JSON lines.
#[derive(Default)]
struct EventStore {
    logs: BTreeMap<String, Vec<String>>,
}

impl EventStore {
    /// Rebuilds a job from its log: `None` if it never existed or was removed.
    fn load(&self, policy: &Policy, name: &str) -> Result<(usize, Option<Job>), Error> {
        let mut job = None;
        let lines = self.logs.get(name).map_or(&[][..], Vec::as_slice);
        for line in lines {
            let event: Event = serde_json::from_str(line).expect("the store holds valid event lines");
            decider::apply(&mut job, policy, &event)?;
        }
        Ok((lines.len(), job))
    }

    /// Appends events if the log still has `expected` lines.
    fn append_if(&mut self, name: &str, expected: usize, events: &[Event]) -> bool {
        let log = self.logs.entry(name.to_string()).or_default();
        if log.len() != expected {
            return false;
        }
        log.extend(events.iter().map(|e| serde_json::to_string(e).expect("an event always serializes")));
        true
    }
}

fn execute(
    store: &mut EventStore,
    policy: &Policy,
    now: Timestamp,
    command: &Command,
) -> Result<Event, Error> {
    loop {
        let (length, job) = store.load(policy, command.job().as_str())?;
        let outcome = decider::decide(job.as_ref(), policy, now, command);
        let mut events = outcome.timers;
        events.extend(outcome.result.clone().ok());
        if store.append_if(command.job().as_str(), length, &events) {
            return outcome.result;
        }
    }
}

fn main() {
    let t = |s: &str| s.parse::<Timestamp>().expect("a valid instant");
    let policy = Policy::default();
    let mut store = EventStore::default();
    let job = JobName::new("job-1").expect("a valid name");
    let d1 = DriveId::new("D1").expect("a valid id");

    let life = [
        (
            "2026-01-05T09:00:00Z",
            Command::Create { job: job.clone(), job_type: JobType::Import, drives: vec![d1.clone()] },
        ),
        ("2026-01-06T09:00:00Z", Command::Ship { job: job.clone(), carrier: None, tracking_number: None }),
        ("2026-01-09T09:00:00Z", Command::PackageReceived { job: job.clone(), drives: vec![d1.clone()] }),
        ("2026-01-10T09:00:00Z", Command::StartTransfer { job: job.clone(), drive: d1.clone() }),
        ("2026-01-10T10:00:00Z", Command::Cancel { job: job.clone() }),
        ("2026-01-10T11:00:00Z", Command::Progress { job: job.clone(), drive: d1.clone(), bytes: 1 << 30 }),
        (
            "2026-01-11T09:00:00Z",
            Command::FinishTransfer {
                job: job.clone(),
                drive: d1.clone(),
                result: TransferResult::Completed,
            },
        ),
        ("2026-01-12T09:00:00Z", Command::ShipBack { job: job.clone() }),
        // 90 days after Completed the retention timer has fired: the job is gone.
        ("2026-04-12T09:00:00Z", Command::Delete { job: job.clone() }),
    ];
    for (at, command) in &life {
        match execute(&mut store, &policy, t(at), command) {
            Ok(event) => println!("{at}  {:?}", event.change),
            Err(refusal) => println!("{at}  refused: {refusal}"),
        }
    }
    for line in &store.logs["job-1"] {
        println!("  {line}");
    }

    // A forged line is refused when the job is rebuilt, naming why.
    let mut forged = store.logs["job-1"].clone();
    forged.insert(2, r#"{"at":"2026-01-07T00:00:00Z","job":"job-1","event":"deleted"}"#.to_string());
    let tampered = EventStore { logs: BTreeMap::from([("job-1".to_string(), forged)]) };
    println!("rebuilding a tampered log: {}", tampered.load(&policy, "job-1").expect_err("refused"));
}
