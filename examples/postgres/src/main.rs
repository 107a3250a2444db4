//! The PostgreSQL host, run once: a job's whole life on a real database, with the two cases a
//! database host gets wrong most easily (a deadline with nanoseconds in a microsecond column,
//! and a create on a name whose job expired but was not swept yet).
//!
//! ```sh
//! .ci/postgres run cargo run -p host-postgres     # a throwaway cluster, then this program
//! DATABASE_URL=postgresql://user@host/db cargo run -p host-postgres
//! ```
//!
//! It owns the schema `host_postgres_demo` of that database: it drops and recreates it on
//! every run, and touches nothing else.

use std::process::ExitCode;

use host_postgres::lifecycle::{self, Command, JobType, Policy, Timestamp};
use host_postgres::{DATABASE_URL, HostError, Store};

const SCHEMA: &str = "host_postgres_demo";

type Failure = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let Ok(url) = std::env::var(DATABASE_URL) else {
        eprintln!("host-postgres: set {DATABASE_URL} to a PostgreSQL URL (postgresql://USER@HOST:PORT/DB)");
        return ExitCode::from(2);
    };
    match run(&url) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("host-postgres: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(url: &str) -> Result<(), Failure> {
    reset(url)?;
    let mut store = Store::connect(url, SCHEMA, Policy::default())?;
    let t = |s: &str| s.parse::<Timestamp>().expect("a valid instant");
    let job1 = lifecycle::job_name("job-1")?;
    let d1 = lifecycle::drive_id("D1")?;

    // Create, ship, receive, cancel (nothing copies yet, so the job goes to Packaging), ship
    // the drives back: Completed, and its 90 days of retention start.
    let steps = [
        (
            "2026-01-05T09:00:00.123456789Z",
            "create",
            Command::Create { job: job1.clone(), job_type: JobType::Import, drives: vec![d1.clone()] },
        ),
        (
            "2026-01-06T09:00:00Z",
            "ship",
            Command::Ship { job: job1.clone(), carrier: Some("FedEx".into()), tracking_number: None },
        ),
        (
            "2026-01-09T09:00:00Z",
            "packageReceived",
            Command::PackageReceived { job: job1.clone(), drives: vec![d1] },
        ),
        ("2026-01-10T09:00:00Z", "cancel", Command::Cancel { job: job1.clone() }),
        ("2026-01-11T09:00:00.987654321Z", "shipBack", Command::ShipBack { job: job1.clone() }),
    ];
    for (at, op, command) in &steps {
        store.execute(t(at), command)?.result?;
        println!("{at:<31}  {op:<16} accepted: {}", store.describe("job-1")?);
    }

    // The retention ends at ...09:00:00.987654321Z; the row is indexed at ...987655 (rounded
    // up). A sweep at the deadline itself claims nothing (its bound, rounded down, is
    // ...987654); a sweep a microsecond later fires the timer, at its own nanosecond deadline.
    let deadline = "2026-04-11T09:00:00.987654321Z";
    println!("sweep at {deadline}: {} timer(s) fired", store.sweep(t(deadline), 100)?.len());
    let later = "2026-04-11T09:00:00.987655Z";
    for event in store.sweep(t(later), 100)? {
        println!("sweep at {later}: fired at {}: {:?}", event.at, event.change);
    }
    println!("job-1 after the sweep: {}", store.describe("job-1")?);

    // job-2 sits in Creating; its two weeks end, no sweep runs, and the name is asked for
    // again: the create fires the old job's timer (removing it) and updates the row.
    let create =
        Command::Create { job: lifecycle::job_name("job-2")?, job_type: JobType::Export, drives: vec![] };
    store.execute(t("2026-05-01T00:00:00Z"), &create)?.result?;
    println!("job-2 created: {}", store.describe("job-2")?);
    let again = store.execute(t("2026-05-20T00:00:00Z"), &create)?;
    again.result?;
    println!(
        "job-2 created again, 19 days later and never swept: {} timer(s) fired first ({:?}), then accepted: {}",
        again.timers.len(),
        again.timers.iter().map(|e| &e.change).collect::<Vec<_>>(),
        store.describe("job-2")?
    );
    Ok(())
}

/// Drops the demo's own schema, so that every run starts empty.
fn reset(url: &str) -> Result<(), HostError> {
    let mut config: postgres::Config =
        url.parse().map_err(|e: postgres::Error| HostError::Url(e.to_string()))?;
    config.connect_timeout(std::time::Duration::from_secs(10));
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(|source| HostError::Database { during: "connecting", source })?;
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        .map_err(|source| HostError::Database { during: "dropping the demo schema", source })
}
