//! The simplest host: every job in memory, in a `Registry`.
//!
//! The registry keeps the jobs by name and an index of their deadlines; the host passes `now` to
//! every call, asks `next_deadline` when to come back and calls `handle_timeout` then. Fit for
//! tests, a CLI, or an emulator whose jobs fit in one process.
//!
//! ```sh
//! cargo run --example host_registry
//! ```

use import_export_lifecycle::{Command, DriveId, JobName, JobType, Registry, Timestamp};

fn main() {
    let t = |s: &str| s.parse::<Timestamp>().expect("a valid instant");
    let job = JobName::new("job-1").expect("a valid name");
    let mut registry = Registry::default();

    let steps = [
        (
            "2026-01-05T09:00:00Z",
            Command::Create {
                job: job.clone(),
                job_type: JobType::Import,
                drives: vec![DriveId::new("D1").expect("a valid id")],
            },
        ),
        ("2026-01-06T09:00:00Z", Command::Cancel { job: job.clone() }),
        ("2026-01-07T09:00:00Z", Command::Delete { job: job.clone() }),
    ];
    for (at, command) in &steps {
        let outcome = registry.execute(t(at), command);
        match outcome.result {
            Ok(event) => println!("{at}  {:?} -> {:?}", command, event.change),
            Err(refusal) => println!("{at}  {:?} refused: {refusal}", command),
        }
    }

    // A second job left in Creating: the host sleeps until its deadline, then fires it.
    let other = JobName::new("job-2").expect("a valid name");
    let create = Command::Create { job: other, job_type: JobType::Export, drives: vec![] };
    registry.execute(t("2026-01-08T09:00:00Z"), &create).result.expect("created");
    let deadline = registry.next_deadline().expect("a job in Creating has a deadline");
    println!("next deadline: {} ({}) on {}", deadline.at, deadline.timer, deadline.job);
    for event in registry.handle_timeout(deadline.at) {
        println!("{}  timer {:?} on {}", event.at, event.change, event.job);
    }
    assert!(registry.is_empty());
}
