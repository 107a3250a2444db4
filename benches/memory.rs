//! Bytes per job in a registry of 1,000,000 jobs, counted by a global allocator (live heap bytes
//! after building minus before), not estimated from type sizes.
//!
//! ```text
//! cargo bench --bench memory
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use import_export_lifecycle::{Command, DriveId, JobName, JobType, Registry, SignedDuration, Timestamp};

/// Counts live heap bytes (requested sizes; the system allocator's own rounding is not seen).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const JOBS: usize = 1_000_000;

/// Live bytes per job of a registry of `JOBS` jobs made by `command(i)`, with `finish` applied.
fn bytes_per_job(drives: usize) -> f64 {
    let origin: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let drive_ids: Vec<DriveId> = (0..drives).map(|d| DriveId::new(&format!("WD-{d:08}")).unwrap()).collect();
    // The commands are built (and their names allocated) before counting starts... but the
    // registry keeps the names: they are part of what a job costs, so they are made inside.
    let before = LIVE.load(Ordering::Relaxed);
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
    let after = LIVE.load(Ordering::Relaxed);
    assert_eq!(registry.len(), JOBS);
    let per_job = (after - before) as f64 / JOBS as f64;
    drop(registry);
    per_job
}

fn main() {
    let empty = bytes_per_job(0);
    let ten = bytes_per_job(10);
    println!("machine: {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    println!("registry of {JOBS} jobs, each in Creating with its timer pending (live heap bytes, counted):");
    println!("  per job without drives:   {empty:>7.1} B   (target <= 256)");
    println!("  per job with ten drives:  {ten:>7.1} B");
    println!("  per drive:                {:>7.1} B   (target <= 128)", (ten - empty) / 10.0);
}
