//! Timings of the lifecycle's operations, on one job and on a registry of a million jobs.
//!
//! ```text
//! cargo bench --bench lifecycle
//! ```
//!
//! Every registry is built before timing starts; the clock is simulated from a fixed origin.
//! divan reports the median, mean, fastest and slowest sample, and (through its allocation
//! profiler) the heap allocations each benchmark makes per iteration.

use divan::{Bencher, black_box};
use import_export_lifecycle::{Command, JobName, JobType, Policy, Registry, SignedDuration, TransferResult};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

mod support;
use support::*;

/// One operation on a job with ten drives, in a registry of a million jobs.
mod one_operation {
    use super::*;

    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn get(bencher: Bencher) {
        let mut registry = MILLION_JOBS.clone();
        let (now, job) = (quiet_now(), name(6));
        bencher.bench_local(|| registry.get(now, black_box(&job)).result.is_ok());
    }

    /// A cancel accepted on a cancelled job whose drive still copies (the retry a client sends).
    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn cancel(bencher: Bencher) {
        let mut registry = MILLION_JOBS.clone();
        let (now, command) = (quiet_now(), Command::Cancel { job: name(6) });
        bencher.bench_local(|| registry.execute(now, black_box(&command)).result.is_ok());
    }

    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn progress(bencher: Bencher) {
        let mut registry = MILLION_JOBS.clone();
        let command = Command::Progress { job: name(6), drive: ten_drives()[0].clone(), bytes: 1 };
        let now = quiet_now();
        bencher.bench_local(|| registry.execute(now, black_box(&command)).result.is_ok());
    }

    /// A cancel refused in `Packaging`: the path a polling client hits.
    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn refused_cancel(bencher: Bencher) {
        let mut registry = MILLION_JOBS.clone();
        let (now, command) = (quiet_now(), Command::Cancel { job: name(16) });
        bencher.bench_local(|| registry.execute(now, black_box(&command)).result.is_err());
    }
}

/// The same operations through the per-job functions of `decider`, on a job a host has already
/// loaded (the cancelled job with ten drives, one copying, and the job in `Packaging`): what a
/// host with one record per job pays once the record is in memory, to compare with
/// `one_operation`, the registry's hot path.
mod per_job {
    use super::*;
    use import_export_lifecycle::{Job, decider};

    fn loaded(i: usize) -> Option<Job> {
        MILLION_JOBS.peek(name(i).as_str()).cloned()
    }

    /// `decider::execute`: decide and fold in, in one call.
    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn execute_cancel(bencher: Bencher) {
        let (mut job, policy) = (loaded(6), Policy::default());
        let (now, command) = (quiet_now(), Command::Cancel { job: name(6) });
        bencher.bench_local(|| {
            decider::execute(&mut job, &policy, now, black_box(&command)).outcome.result.is_ok()
        });
    }

    /// `decider::decide`, then `decider::apply` of its event (which checks it again, R-EVENT-1):
    /// the event-sourced host's path.
    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn decide_then_apply_cancel(bencher: Bencher) {
        let (mut job, policy) = (loaded(6), Policy::default());
        let (now, command) = (quiet_now(), Command::Cancel { job: name(6) });
        bencher.bench_local(|| {
            let event = decider::decide(job.as_ref(), &policy, now, black_box(&command)).result.unwrap();
            decider::apply(&mut job, &policy, &event).is_ok()
        });
    }

    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn execute_progress(bencher: Bencher) {
        let (mut job, policy) = (loaded(6), Policy::default());
        let command = Command::Progress { job: name(6), drive: ten_drives()[0].clone(), bytes: 1 };
        let now = quiet_now();
        bencher.bench_local(|| {
            decider::execute(&mut job, &policy, now, black_box(&command)).outcome.result.is_ok()
        });
    }

    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn execute_refused_cancel(bencher: Bencher) {
        let (mut job, policy) = (loaded(16), Policy::default());
        let (now, command) = (quiet_now(), Command::Cancel { job: name(16) });
        bencher.bench_local(|| {
            decider::execute(&mut job, &policy, now, black_box(&command)).outcome.result.is_err()
        });
    }

    /// A job with ten drives written as its stored JSON and read back (with its checks): what a
    /// host with one JSON record per job pays per request on top of the decision.
    #[divan::bench(sample_count = 1000, sample_size = 10)]
    fn job_json_round_trip(bencher: Bencher) {
        let job = loaded(6).unwrap();
        bencher.bench_local(|| {
            let json = serde_json::to_string(black_box(&job)).unwrap();
            serde_json::from_str::<Job>(&json).unwrap()
        });
    }
}

/// One job's whole life with ten drives, create to removal, on a registry of its own.
#[divan::bench]
fn whole_life(bencher: Bencher) {
    let drives = ten_drives();
    let job = name(1);
    bencher.bench_local(|| {
        let mut registry = Registry::default();
        let mut at = origin();
        let mut step = |registry: &mut Registry, command: Command| {
            at += SignedDuration::from_hours(1);
            run(registry, at, command);
        };
        step(
            &mut registry,
            Command::Create { job: job.clone(), job_type: JobType::Import, drives: drives.clone() },
        );
        step(
            &mut registry,
            Command::Ship { job: job.clone(), carrier: Some("FedEx".into()), tracking_number: None },
        );
        step(&mut registry, Command::PackageReceived { job: job.clone(), drives: drives.clone() });
        for drive in &drives {
            step(&mut registry, Command::StartTransfer { job: job.clone(), drive: drive.clone() });
            step(&mut registry, Command::Progress { job: job.clone(), drive: drive.clone(), bytes: 1 << 40 });
            step(
                &mut registry,
                Command::FinishTransfer {
                    job: job.clone(),
                    drive: drive.clone(),
                    result: TransferResult::Completed,
                },
            );
        }
        step(&mut registry, Command::ShipBack { job: job.clone() });
        let removed = registry.handle_timeout(at + 91 * DAY);
        assert_eq!(removed.len(), 1);
        registry
    });
}

/// A registry of a million jobs as a whole.
mod million_jobs {
    use super::*;

    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn next_deadline(bencher: Bencher) {
        let registry = &*MILLION_JOBS;
        bencher.bench_local(|| black_box(registry).next_deadline());
    }

    /// 10,000 of 1,000,000 jobs are due (1%).
    #[divan::bench(sample_count = 7, sample_size = 1)]
    fn handle_timeout_10k_due_of_1m(bencher: Bencher) {
        let now = instant_with_due(&MILLION_JOBS, 10_000);
        bencher.with_inputs(|| MILLION_JOBS.clone()).bench_local_refs(|registry| {
            let fired = registry.handle_timeout(now);
            assert_eq!(fired.len(), 10_000);
            fired
        });
    }

    /// 1,000 of 1,000,000 jobs are due: a tenth of the work of the 1% case.
    #[divan::bench(sample_count = 7, sample_size = 1)]
    fn handle_timeout_1k_due_of_1m(bencher: Bencher) {
        let now = instant_with_due(&MILLION_JOBS, 1_000);
        bencher.with_inputs(|| MILLION_JOBS.clone()).bench_local_refs(|registry| {
            let fired = registry.handle_timeout(now);
            assert_eq!(fired.len(), 1_000);
            fired
        });
    }

    fn due_of(bencher: Bencher, registry: &Registry, due: usize) {
        let now = instant_with_due(registry, due);
        bencher.with_inputs(|| registry.clone()).bench_local_refs(|registry| {
            let fired = registry.handle_timeout(now);
            assert_eq!(fired.len(), due);
            fired
        });
    }

    /// 10,000 of 100,000 jobs are due.
    #[divan::bench(sample_count = 7, sample_size = 1)]
    fn handle_timeout_10k_due_of_100k(bencher: Bencher) {
        due_of(bencher, &spread(100_000), 10_000);
    }

    /// 10,000 of 10,000 jobs are due: 10,000 jobs in `Creating`, all removed, the same work as
    /// the 1% case with a hundred times fewer jobs around.
    #[divan::bench(sample_count = 7, sample_size = 1)]
    fn handle_timeout_10k_due_of_10k(bencher: Bencher) {
        due_of(bencher, &creating(10_000), 10_000);
    }
}

/// Replays 1,000,000 events, one job after another, into an empty registry (every event checked
/// against the rules).
#[divan::bench(sample_count = 7, sample_size = 1)]
fn replay_1m_events_sequential(bencher: Bencher) {
    let log = &*SEQUENTIAL_LOG;
    bencher
        .counter(divan::counter::ItemsCount::new(log.len()))
        .bench_local(|| Registry::replay(Policy::default(), log).map(|r| r.len()).unwrap());
}

/// Replays 1,000,000 events of 83,334 interleaved lives into an empty registry, which grows to
/// all of them: what a host restarting from its log pays.
#[divan::bench(sample_count = 7, sample_size = 1)]
fn replay_1m_events_interleaved(bencher: Bencher) {
    let log = &*INTERLEAVED_LOG;
    bencher
        .counter(divan::counter::ItemsCount::new(log.len()))
        .bench_local(|| Registry::replay(Policy::default(), log).map(|r| r.len()).unwrap());
}

/// The same operations as [`one_operation`], each on a different job picked at random among
/// the million (65,536 targets visited in a shuffled order), so that the job, its name and its
/// hash bucket are rarely in the processor's caches: what a host serving many clients sees.
/// `bare_map_lookup` is the floor: a lookup in a plain `HashMap` of a million boxed values with
/// the same keys, visited in the same order.
mod random_job {
    use std::collections::HashMap;

    use super::*;

    fn cycle<'a, T>(items: &'a [T]) -> impl FnMut() -> &'a T {
        let mut k = 0;
        move || {
            k = (k + 1) % items.len();
            &items[k]
        }
    }

    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn bare_map_lookup(bencher: Bencher) {
        let map: HashMap<JobName, Box<[u64; 13]>> =
            (0..MILLION).map(|i| (name(i), Box::new([0; 13]))).collect();
        let names: Vec<JobName> = shuffled(6).into_iter().map(name).collect();
        let mut next = cycle(&names);
        bencher.bench_local(|| map.contains_key(black_box(next())));
    }

    /// A `Transferring` import job with ten drives, one of them copying.
    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn get(bencher: Bencher) {
        let mut registry = MILLION_JOBS.clone();
        let names: Vec<JobName> = shuffled(6).into_iter().map(name).collect();
        let now = quiet_now();
        let mut next = cycle(&names);
        bencher.bench_local(|| registry.get(now, black_box(next())).result.is_ok());
    }

    /// A cancel accepted on a `Transferring` job with ten drives, one copying (the first cancel
    /// of a job changes it, repeats change nothing: R-CANCEL-3).
    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn cancel(bencher: Bencher) {
        let mut registry = MILLION_JOBS.clone();
        let commands: Vec<Command> =
            shuffled(6).into_iter().map(|i| Command::Cancel { job: name(i) }).collect();
        let now = quiet_now();
        let mut next = cycle(&commands);
        bencher.bench_local(|| registry.execute(now, black_box(next())).result.is_ok());
    }

    /// Progress on the copying drive of a `Transferring` job with ten drives.
    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn progress(bencher: Bencher) {
        let mut registry = MILLION_JOBS.clone();
        let drive = ten_drives()[0].clone();
        let commands: Vec<Command> = shuffled(6)
            .into_iter()
            .map(|i| Command::Progress { job: name(i), drive: drive.clone(), bytes: 1 })
            .collect();
        let now = quiet_now();
        let mut next = cycle(&commands);
        bencher.bench_local(|| registry.execute(now, black_box(next())).result.is_ok());
    }

    /// A cancel refused on a `Completed` job (R-CANCEL-2), without drives (the spread has no
    /// finished ten-drive jobs; the refusal reads only the job's state): what a polling client
    /// hits.
    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn refused_cancel(bencher: Bencher) {
        let mut registry = MILLION_JOBS.clone();
        let commands: Vec<Command> =
            shuffled(7).into_iter().map(|i| Command::Cancel { job: name(i) }).collect();
        let now = quiet_now();
        let mut next = cycle(&commands);
        bencher.bench_local(|| registry.execute(now, black_box(next())).result.is_err());
    }
}
