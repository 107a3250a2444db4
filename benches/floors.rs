//! Each of the core's ratios printed beside its floor, measured in the same run, in alternation
//! (floor, then the measured path, round after round), with the heap allocations per operation:
//!
//! - `handle_timeout` firing 10,000 timers among 1,000,000 jobs against 10,000 among 10,000;
//! - replay of 1,000,000 events whose jobs interleave against the same count job after job;
//! - `get`, an accepted `cancel` and `progress` on a random job among 1,000,000 against a bare
//!   `HashMap` lookup of the same keys in the same order.
//!
//! The registries and logs are those of `benches/lifecycle.rs` (`benches/support`). Each round
//! times one pass: the 65,536 random targets once (mean per operation; the four operations
//! alternate in slices of 4,096), one `handle_timeout` on a fresh clone (cloned outside the
//! timing), one replay. The figure printed is the median of
//! the rounds, and a ratio the median of the rounds' ratios; the first pass of `cancel` changes each job (later ones repeat, R-CANCEL-3).
//! Memory per job is `cargo bench --bench memory`.
//!
//! ```text
//! cargo bench --bench floors
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use import_export_lifecycle::{Command, JobName, Policy, Registry};

mod support;
use support::*;

/// Counts allocations (calls to `alloc` and `realloc`).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same layout, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Rounds per pair: the figure is their median.
const ROUNDS: usize = 5;

/// One timed pass: its time and its allocations.
// A benchmark reads the machine's clock to time the model; the model itself never does.
#[allow(clippy::disallowed_methods)]
fn timed<T>(f: impl FnOnce() -> T) -> (Duration, usize, T) {
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    let started = Instant::now();
    let out = black_box(f());
    let took = started.elapsed();
    (took, ALLOCATIONS.load(Ordering::Relaxed) - allocations, out)
}

/// Medians over rounds of (seconds per unit, allocations per unit).
#[derive(Default)]
struct Series {
    seconds: Vec<f64>,
    allocations: Vec<f64>,
}

impl Series {
    fn push(&mut self, took: Duration, allocations: usize, units: usize) {
        self.seconds.push(took.as_secs_f64() / units as f64);
        self.allocations.push(allocations as f64 / units as f64);
    }
    fn median(&self) -> f64 {
        median(&self.seconds)
    }
    fn allocations(&self) -> f64 {
        median(&self.allocations)
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The median of the rounds' ratios `over / under`: each round's pair shared the same moment.
fn ratio(over: &Series, under: &Series) -> f64 {
    let ratios: Vec<f64> = over.seconds.iter().zip(&under.seconds).map(|(a, b)| a / b).collect();
    median(&ratios)
}

fn all(values: &[f64], scale: f64) -> String {
    values.iter().map(|v| format!("{:.1}", v * scale)).collect::<Vec<_>>().join(", ")
}

fn timers() {
    let many = &*MILLION_JOBS;
    let few = creating(10_000);
    let (at_many, at_few) = (instant_with_due(many, 10_000), instant_with_due(&few, 10_000));
    let (mut of_many, mut of_few) = (Series::default(), Series::default());
    for _ in 0..ROUNDS {
        let mut registry = few.clone();
        let (took, allocations, fired) = timed(|| registry.handle_timeout(at_few).len());
        assert_eq!(fired, 10_000);
        of_few.push(took, allocations, fired);
        drop(registry);
        let mut registry = many.clone();
        let (took, allocations, fired) = timed(|| registry.handle_timeout(at_many).len());
        assert_eq!(fired, 10_000);
        of_many.push(took, allocations, fired);
    }
    println!(
        "timers   handle_timeout, 10,000 due of 1,000,000: {:.2} ms ({} ms); floor 10,000 due of 10,000: {:.2} ms ({} ms); ratio {:.2}x (goal <= 2x); allocations per fired timer {:.2} / {:.2}",
        of_many.median() * 1e4 * 1e3,
        all(&of_many.seconds, 1e7),
        of_few.median() * 1e4 * 1e3,
        all(&of_few.seconds, 1e7),
        ratio(&of_many, &of_few),
        of_many.allocations(),
        of_few.allocations(),
    );
}

fn replay() {
    let (interleaved, sequential) = (&*INTERLEAVED_LOG, &*SEQUENTIAL_LOG);
    let (mut mixed, mut straight) = (Series::default(), Series::default());
    for _ in 0..ROUNDS {
        let (took, allocations, jobs) =
            timed(|| Registry::replay(Policy::default(), sequential).map(|r| r.len()).unwrap());
        assert!(jobs <= 1);
        straight.push(took, allocations, sequential.len());
        let (took, allocations, jobs) =
            timed(|| Registry::replay(Policy::default(), interleaved).map(|r| r.len()).unwrap());
        assert!(jobs > 80_000);
        mixed.push(took, allocations, interleaved.len());
    }
    println!(
        "replay   1,000,000 events interleaved: {:.2} M events/s ({} ms); floor job after job: {:.2} M events/s ({} ms); ratio {:.2}x slower (goal >= 5 M/s interleaved); allocations per event {:.2} / {:.2}",
        1e-6 / mixed.median(),
        all(&mixed.seconds, 1e9),
        1e-6 / straight.median(),
        all(&straight.seconds, 1e9),
        ratio(&mixed, &straight),
        mixed.allocations(),
        straight.allocations(),
    );
}

fn random_job() {
    let map: HashMap<JobName, Box<[u64; 13]>> = (0..MILLION).map(|i| (name(i), Box::new([0; 13]))).collect();
    let names: Vec<JobName> = shuffled(6).into_iter().map(name).collect();
    let cancels: Vec<Command> = names.iter().map(|job| Command::Cancel { job: job.clone() }).collect();
    let drive = ten_drives()[0].clone();
    let progresses: Vec<Command> = names
        .iter()
        .map(|job| Command::Progress { job: job.clone(), drive: drive.clone(), bytes: 1 })
        .collect();
    let now = quiet_now();
    // One registry for get and cancel, one for progress (a cancelled job still takes progress,
    // but keep each path on the jobs as `lifecycle`'s random_job benchmarks see them).
    let mut registry = MILLION_JOBS.clone();
    let mut for_progress = MILLION_JOBS.clone();
    let (mut floor, mut get, mut cancel, mut progress) =
        (Series::default(), Series::default(), Series::default(), Series::default());
    // Each round alternates the four in slices of `SLICE` targets, so that they share the
    // machine's load as evenly as one thread can make them. At each step the four take slices a
    // quarter of the targets apart, so none finds in the caches the jobs another just touched
    // (the registries share their names).
    const SLICE: usize = 4096;
    let slices = TARGETS / SLICE;
    for _ in 0..ROUNDS {
        let mut sums = [(Duration::ZERO, 0usize, 0usize); 4];
        for step in 0..slices {
            let range = |k: usize| {
                let start = (step + k * slices / 4) % slices * SLICE;
                start..start + SLICE
            };
            let mut add = |k: usize, (took, allocations, ok): (Duration, usize, usize)| {
                sums[k].0 += took;
                sums[k].1 += allocations;
                sums[k].2 += ok;
            };
            add(0, timed(|| names[range(0)].iter().filter(|n| map.contains_key(black_box(*n))).count()));
            add(
                1,
                timed(|| {
                    names[range(1)].iter().filter(|n| registry.get(now, black_box(n)).result.is_ok()).count()
                }),
            );
            add(
                2,
                timed(|| {
                    cancels[range(2)]
                        .iter()
                        .filter(|c| registry.execute(now, black_box(c)).result.is_ok())
                        .count()
                }),
            );
            add(
                3,
                timed(|| {
                    progresses[range(3)]
                        .iter()
                        .filter(|c| for_progress.execute(now, black_box(c)).result.is_ok())
                        .count()
                }),
            );
        }
        for ((series, (took, allocations, ok)), what) in [&mut floor, &mut get, &mut cancel, &mut progress]
            .into_iter()
            .zip(sums)
            .zip(["floor", "get", "cancel", "progress"])
        {
            assert!(ok > TARGETS * 99 / 100, "{what}: {ok} of {TARGETS} succeeded");
            series.push(took, allocations, TARGETS);
        }
    }
    let f = floor.median();
    println!(
        "random   job among 1,000,000 (mean of {TARGETS} per round): floor bare HashMap lookup {:.0} ns ({} ns), {:.2} allocations",
        f * 1e9,
        all(&floor.seconds, 1e9),
        floor.allocations()
    );
    for (what, series) in [("get", &get), ("cancel", &cancel), ("progress", &progress)] {
        println!(
            "random   {what:<8} {:.0} ns ({} ns): {:.2}x the floor (goal <= 2x); allocations per operation {:.2}",
            series.median() * 1e9,
            all(&series.seconds, 1e9),
            ratio(series, &floor),
            series.allocations()
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter word picks one pair.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wanted = |what: &str| filter.is_empty() || filter.iter().any(|f| what.contains(f.as_str()));
    println!(
        "{} cores; medians of {ROUNDS} rounds, each round's figure in parentheses",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    if wanted("random") {
        random_job();
    }
    if wanted("timers") {
        timers();
    }
    if wanted("replay") {
        replay();
    }
}
