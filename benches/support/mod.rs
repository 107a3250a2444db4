//! What the benchmarks share: the million-job registry, its spread over the lifecycle, and
//! the two replay logs, built the same way for `lifecycle` (divan) and `floors` (each ratio
//! beside its floor).

// Each benchmark uses part of this.
#![allow(dead_code)]

use std::sync::LazyLock;

use import_export_lifecycle::{
    Command, DriveId, Event, JobName, JobType, Registry, SignedDuration, Timestamp, TransferResult,
};

pub const MILLION: usize = 1_000_000;
pub const DAY: SignedDuration = SignedDuration::from_hours(24);

pub fn origin() -> Timestamp {
    Timestamp::UNIX_EPOCH + SignedDuration::from_hours(24 * 365 * 56)
}

pub fn name(i: usize) -> JobName {
    JobName::new(&format!("job-{i:07}")).unwrap()
}

pub fn ten_drives() -> Vec<DriveId> {
    (0..10).map(|d| DriveId::new(&format!("WD-{d:04}")).unwrap()).collect()
}

pub fn run(registry: &mut Registry, at: Timestamp, command: Command) {
    let outcome = registry.execute(at, &command);
    assert!(outcome.result.is_ok(), "{command:?}: {:?}", outcome.result);
}

/// `n` jobs spread over the lifecycle, each created one second after the previous one: 40% in
/// `Creating` (removed 14 days after creation), 20% `Shipping` (shipped a day after creation, so
/// their package is overdue 15 days after creation), 10% `Transferring` with ten drives (no
/// timer), 30% cancelled at once and `Completed` (removed after 90 days). The earliest
/// deadlines are all `Creating` removals.
pub fn spread(n: usize) -> Registry {
    let mut registry = Registry::default();
    let drives = ten_drives();
    for i in 0..n {
        let job = name(i);
        let at = origin() + SignedDuration::from_secs(i as i64);
        match i % 10 {
            0..=3 => {
                run(&mut registry, at, Command::Create { job, job_type: JobType::Export, drives: vec![] })
            }
            4 | 5 => {
                run(
                    &mut registry,
                    at,
                    Command::Create { job: job.clone(), job_type: JobType::Export, drives: vec![] },
                );
                run(&mut registry, at + DAY, Command::Ship { job, carrier: None, tracking_number: None });
            }
            6 => transferring(&mut registry, at, job, &drives),
            _ => {
                run(
                    &mut registry,
                    at,
                    Command::Create { job: job.clone(), job_type: JobType::Export, drives: vec![] },
                );
                run(&mut registry, at, Command::Cancel { job });
            }
        }
    }
    registry
}

/// An import job with ten drives, the first of them copying.
pub fn transferring(registry: &mut Registry, at: Timestamp, job: JobName, drives: &[DriveId]) {
    run(
        registry,
        at,
        Command::Create { job: job.clone(), job_type: JobType::Import, drives: drives.to_vec() },
    );
    run(registry, at, Command::Ship { job: job.clone(), carrier: None, tracking_number: None });
    run(registry, at, Command::PackageReceived { job: job.clone(), drives: drives.to_vec() });
    run(registry, at, Command::StartTransfer { job, drive: drives[0].clone() });
}

/// The million-job registry, plus two targets: a cancelled job with ten drives, one still
/// copying (job-0000006, cancelled), and one in `Packaging` (job-0000016).
pub static MILLION_JOBS: LazyLock<Registry> = LazyLock::new(|| {
    let mut registry = spread(MILLION);
    let at = origin() + SignedDuration::from_secs(MILLION as i64);
    run(&mut registry, at, Command::Cancel { job: name(6) });
    let drives = ten_drives();
    run(&mut registry, at, Command::Cancel { job: name(16) });
    run(
        &mut registry,
        at,
        Command::FinishTransfer {
            job: name(16),
            drive: drives[0].clone(),
            result: TransferResult::Completed,
        },
    );
    assert_eq!(
        registry.peek(name(16).as_str()).unwrap().state(),
        import_export_lifecycle::JobState::Packaging
    );
    registry
});

/// An instant after every job's last event and before any deadline.
pub fn quiet_now() -> Timestamp {
    origin() + SignedDuration::from_secs(MILLION as i64 + 60) + DAY
}

/// An event log of 1,000,000 events from 83,334 import jobs with two drives, each living 12
/// events (create to ship-back), their lives interleaved: every job is created, then every job
/// is shipped, and so on, so the registry grows to all 83,334 jobs and the events of one job
/// are far apart in the log. The log is cut at 1,000,000 events (the last 8 ship-backs).
pub static INTERLEAVED_LOG: LazyLock<Vec<Event>> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let drives: Vec<DriveId> = ten_drives().into_iter().take(2).collect();
    let jobs = MILLION.div_ceil(12);
    let life = |job: JobName| {
        let mut commands = vec![
            Command::Create { job: job.clone(), job_type: JobType::Import, drives: drives.clone() },
            Command::Ship { job: job.clone(), carrier: None, tracking_number: None },
            Command::PackageReceived { job: job.clone(), drives: drives.clone() },
        ];
        for drive in &drives {
            commands.push(Command::StartTransfer { job: job.clone(), drive: drive.clone() });
            commands.push(Command::Progress { job: job.clone(), drive: drive.clone(), bytes: 7 });
            commands.push(Command::Progress { job: job.clone(), drive: drive.clone(), bytes: 7 });
            commands.push(Command::FinishTransfer {
                job: job.clone(),
                drive: drive.clone(),
                result: TransferResult::Completed,
            });
        }
        commands.push(Command::ShipBack { job });
        commands
    };
    let lives: Vec<Vec<Command>> = (0..jobs).map(|i| life(name(i))).collect();
    let mut log = Vec::with_capacity(MILLION + 12);
    for step in 0..12 {
        for (i, commands) in lives.iter().enumerate() {
            // One hour per step, 10 ms between jobs: every deadline stays days away.
            let at = origin()
                + SignedDuration::from_hours(step as i64)
                + SignedDuration::from_millis(10 * i as i64);
            let outcome = registry.execute(at, &commands[step]);
            log.extend(outcome.timers);
            log.push(outcome.result.unwrap());
        }
    }
    assert_eq!(registry.len(), jobs);
    log.truncate(MILLION);
    log
});

/// An event log of 1,000,000 events, one job after another: 76,923 import jobs with two drives,
/// each living 13 events (create to delete), and the create of a 76,924th. The registry never
/// holds more than one job, so this measures the rules' own work with everything in cache.
pub static SEQUENTIAL_LOG: LazyLock<Vec<Event>> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let mut log = Vec::with_capacity(MILLION);
    let drives: Vec<DriveId> = ten_drives().into_iter().take(2).collect();
    let mut i = 0;
    while log.len() < MILLION {
        let job = name(i);
        let at = origin() + SignedDuration::from_secs(10 * i as i64);
        let mut commands = vec![
            Command::Create { job: job.clone(), job_type: JobType::Import, drives: drives.clone() },
            Command::Ship { job: job.clone(), carrier: None, tracking_number: None },
            Command::PackageReceived { job: job.clone(), drives: drives.clone() },
        ];
        for drive in &drives {
            commands.push(Command::StartTransfer { job: job.clone(), drive: drive.clone() });
            commands.push(Command::Progress { job: job.clone(), drive: drive.clone(), bytes: 7 });
            commands.push(Command::Progress { job: job.clone(), drive: drive.clone(), bytes: 7 });
            commands.push(Command::FinishTransfer {
                job: job.clone(),
                drive: drive.clone(),
                result: TransferResult::Completed,
            });
        }
        commands.push(Command::ShipBack { job: job.clone() });
        commands.push(Command::Delete { job });
        for command in commands {
            let outcome = registry.execute(at, &command);
            log.extend(outcome.timers);
            log.push(outcome.result.unwrap());
        }
        i += 1;
    }
    log.truncate(MILLION);
    log
});

/// The instant at which exactly `due` of `registry`'s timers are due.
pub fn instant_with_due(registry: &Registry, due: usize) -> Timestamp {
    let mut deadlines: Vec<Timestamp> =
        registry.iter().filter_map(|job| job.next_deadline(registry.policy())).map(|d| d.at).collect();
    deadlines.sort_unstable();
    deadlines[due - 1]
}

/// How many random targets the `random_job` benchmarks visit, in a fixed shuffled order.
pub const TARGETS: usize = 1 << 16;

/// `TARGETS` indices below `MILLION / 10`, shuffled by a fixed xorshift: job `10 * i + kind`
/// is the `i`-th job of that kind in the spread.
pub fn shuffled(kind: usize) -> Vec<usize> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..TARGETS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            10 * (state as usize % (MILLION / 10)) + kind
        })
        .collect()
}

/// `n` export jobs in `Creating`, created one second apart from [`origin`]: the small registry
/// whose every timer is due in `handle_timeout_10k_due_of_10k`.
pub fn creating(n: usize) -> Registry {
    let mut registry = Registry::default();
    for i in 0..n {
        let at = origin() + SignedDuration::from_secs(i as i64);
        run(&mut registry, at, Command::Create { job: name(i), job_type: JobType::Export, drives: vec![] });
    }
    registry
}
