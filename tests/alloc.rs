//! The polling paths allocate nothing: `get`, `progress` and a refused cancel, on a job with ten
//! drives, counted by a global allocator. The command is built before counting
//! starts, as a host parses a request before asking the model.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use import_export_lifecycle::{
    Command, DriveId, JobName, JobState, JobType, Registry, SignedDuration, Timestamp, TransferResult,
};

/// Counts allocations made by the current thread (tests run on several threads at once).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; only a thread-local
// counter (const-initialised, so touching it never allocates) is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same layout, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations_during<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (ALLOCATIONS.with(Cell::get) - before, out)
}

/// 1,000 jobs; `job-7` has ten drives and one copying; `job-8` is in Packaging.
fn registry() -> (Registry, Timestamp) {
    let mut registry = Registry::default();
    let t0: Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
    let drives: Vec<DriveId> = (0..10).map(|d| DriveId::new(&format!("D{d}")).unwrap()).collect();
    let mut at = t0;
    for i in 0..1_000 {
        at += SignedDuration::from_secs(1);
        let job = JobName::new(&format!("job-{i}")).unwrap();
        let mut run = |c: Command| registry.execute(at, &c).result.unwrap();
        if i == 7 || i == 8 {
            run(Command::Create { job: job.clone(), job_type: JobType::Import, drives: drives.clone() });
            run(Command::Ship { job: job.clone(), carrier: None, tracking_number: None });
            run(Command::PackageReceived { job: job.clone(), drives: drives.clone() });
            run(Command::StartTransfer { job: job.clone(), drive: drives[0].clone() });
            if i == 8 {
                run(Command::Cancel { job: job.clone() });
                run(Command::FinishTransfer {
                    job,
                    drive: drives[0].clone(),
                    result: TransferResult::Completed,
                });
            }
        } else {
            run(Command::Create { job, job_type: JobType::Export, drives: vec![] });
        }
    }
    (registry, at + SignedDuration::from_secs(60))
}

#[test]
fn get_progress_and_refused_cancel_allocate_nothing() {
    let (mut registry, now) = registry();
    let job = JobName::new("job-7").unwrap();
    let progress = Command::Progress { job: job.clone(), drive: DriveId::new("D0").unwrap(), bytes: 4096 };
    let refused = Command::Cancel { job: JobName::new("job-8").unwrap() };
    assert_eq!(registry.peek("job-8").unwrap().state(), JobState::Packaging);

    let (n, ok) = allocations_during(|| registry.get(now, &job).result.is_ok());
    assert!(ok);
    assert_eq!(n, 0, "get allocated");

    let (n, ok) = allocations_during(|| registry.execute(now, &progress).result.is_ok());
    assert!(ok);
    assert_eq!(n, 0, "progress allocated");

    let (n, code) = allocations_during(|| registry.execute(now, &refused).result.map_err(|e| e.code()));
    assert_eq!(code, Err("CancelNotAllowed"));
    assert_eq!(n, 0, "a refused cancel allocated");

    assert_eq!(registry.peek("job-7").unwrap().drive("D0").unwrap().bytes_succeeded, 4096);
}

/// The counter works: a path that does allocate (create) is seen.
#[test]
fn the_counter_sees_allocations() {
    let (mut registry, now) = registry();
    let create =
        Command::Create { job: JobName::new("new").unwrap(), job_type: JobType::Export, drives: vec![] };
    let (n, ok) = allocations_during(|| registry.execute(now, &create).result.is_ok());
    assert!(ok);
    assert!(n > 0);
}
