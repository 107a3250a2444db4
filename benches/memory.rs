//! Bytes per job in a registry of 1,000,000 jobs, counted by a global allocator (live heap bytes
//! after building minus before), not estimated from type sizes.
//!
//! Three counts, from the least to the most the process pays: the bytes the registry asks for;
//! the bytes glibc's allocator actually hands out for them (`malloc_usable_size`, which rounds
//! each request up to its chunk size); and those plus glibc's 8-byte header per chunk, the heap
//! the registry really occupies. The resident set's growth is printed as a cross-check.
//!
//! ```text
//! cargo bench --bench memory
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

use import_export_lifecycle::{Command, DriveId, JobName, JobType, Registry, SignedDuration, Timestamp};

/// Counts live heap bytes: requested, usable (after the allocator's rounding), and chunks.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static USABLE: AtomicUsize = AtomicUsize::new(0);
static CHUNKS: AtomicUsize = AtomicUsize::new(0);

// glibc's own size of a block it handed out (this machine's allocator is glibc's).
unsafe extern "C" {
    fn malloc_usable_size(ptr: *mut c_void) -> usize;
}

/// The usable size of a live block (0 for null).
fn usable(ptr: *mut u8) -> usize {
    if ptr.is_null() {
        return 0;
    }
    // SAFETY: `ptr` is a live block of the system allocator (glibc), as the function requires.
    unsafe { malloc_usable_size(ptr.cast()) }
}

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout, forwarded.
        let ptr = unsafe { System.alloc(layout) };
        USABLE.fetch_add(usable(ptr), Ordering::Relaxed);
        CHUNKS.fetch_add(usize::from(!ptr.is_null()), Ordering::Relaxed);
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        USABLE.fetch_sub(usable(ptr), Ordering::Relaxed);
        CHUNKS.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = usable(ptr);
        // SAFETY: forwarded unchanged.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            USABLE.fetch_add(usable(new), Ordering::Relaxed);
            USABLE.fetch_sub(old, Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const JOBS: usize = 1_000_000;

/// Per job of a registry of `JOBS` jobs: requested, usable and occupied (usable plus glibc's
/// 8-byte chunk header) heap bytes, and the growth of the resident set.
struct PerJob {
    requested: f64,
    usable: f64,
    occupied: f64,
    resident: f64,
}

/// The process's resident set, in bytes, from `/proc/self/statm` (pages of 4 KiB here).
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()).unwrap_or(0) * 4096
}

fn snapshot() -> [usize; 4] {
    [LIVE.load(Ordering::Relaxed), USABLE.load(Ordering::Relaxed), CHUNKS.load(Ordering::Relaxed), resident()]
}

/// A registry of `JOBS` jobs in `Creating`, each with `drives` drives (import) or none (export).
fn per_job(drives: usize) -> PerJob {
    let origin: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let drive_ids: Vec<DriveId> = (0..drives).map(|d| DriveId::new(&format!("WD-{d:08}")).unwrap()).collect();
    // The registry keeps the names it is given: they are part of what a job costs, so they are
    // made inside the counted span.
    let before = snapshot();
    let mut registry = Registry::default();
    for i in 0..JOBS {
        let job = JobName::new(&format!("job-{i:07}")).unwrap();
        let (job_type, list) = if drives == 0 {
            (JobType::Export, Vec::new())
        } else {
            (JobType::Import, drive_ids.iter().map(|d| DriveId::new(d.as_str()).unwrap()).collect())
        };
        let at = origin + SignedDuration::from_secs(i as i64);
        let outcome = registry.execute(at, &Command::Create { job, job_type, drives: list });
        assert!(outcome.result.is_ok());
    }
    let after = snapshot();
    assert_eq!(registry.len(), JOBS);
    let per = |i: usize| (after[i] as f64 - before[i] as f64) / JOBS as f64;
    let result =
        PerJob { requested: per(0), usable: per(1), occupied: per(1) + 8.0 * per(2), resident: per(3) };
    drop(registry);
    result
}

fn main() {
    let empty = per_job(0);
    let ten = per_job(10);
    let drive = |f: fn(&PerJob) -> f64| (f(&ten) - f(&empty)) / 10.0;
    println!("machine: {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    println!("registry of {JOBS} jobs, each in Creating with its timer pending (live heap bytes, counted):");
    println!("                              requested     usable   occupied   resident growth");
    for (label, job) in [("per job without drives", &empty), ("per job with ten drives", &ten)] {
        println!(
            "  {label:<26} {:>8.1} B {:>8.1} B {:>8.1} B {:>8.1} B",
            job.requested, job.usable, job.occupied, job.resident
        );
    }
    println!(
        "  {:<26} {:>8.1} B {:>8.1} B {:>8.1} B {:>8.1} B",
        "per drive",
        drive(|j| j.requested),
        drive(|j| j.usable),
        drive(|j| j.occupied),
        drive(|j| j.resident)
    );
    println!(
        "memory per job without drives, occupied: {:.1} B against the goal of 256 B ({:.2}x); per drive {:.1} B against 128 B",
        empty.occupied,
        empty.occupied / 256.0,
        drive(|j| j.occupied)
    );
    println!("targets: <= 256 B per job without drives, <= 128 B per drive (resident growth of the");
    println!("second registry reuses pages the first one freed, so it understates)");
}
