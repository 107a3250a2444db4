//! Helpers shared by the test files: the fixed origin of their simulated clocks, names, and the
//! case count of generated tests. Each test file uses a part of them.
#![allow(dead_code)]

use import_export_lifecycle::{Change, DriveId, Event, JobName, Timer, Timestamp};

/// The instant every simulated clock starts from, unless a test says otherwise.
pub fn t0() -> Timestamp {
    "2026-01-05T09:00:00Z".parse().unwrap()
}

/// A job name the test knows to be valid.
pub fn name(s: &str) -> JobName {
    JobName::new(s).unwrap()
}

/// A drive id the test knows to be valid.
pub fn drive(s: &str) -> DriveId {
    DriveId::new(s).unwrap()
}

/// Drive ids the test knows to be valid.
pub fn drives(ids: &[&str]) -> Vec<DriveId> {
    ids.iter().map(|d| drive(d)).collect()
}

/// The number of cases of a generated test: `PROPTEST_CASES` when set (a long local run, e.g.
/// `PROPTEST_CASES=10000 cargo test`), else the test's own `default` (what CI runs).
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// Whether an event removes its job, written out from the spec rather than asked of the crate
/// (`Event::removes_job` is what the registry itself uses): a delete (R-DELETE-1), the
/// `Creating` expiry (R-TIMER-1) and the end of retention (R-TIMER-3).
pub fn removes(event: &Event) -> bool {
    match event.change {
        Change::Deleted | Change::CreatingExpired | Change::RetentionExpired => true,
        Change::Created { .. }
        | Change::Shipped { .. }
        | Change::Updated { .. }
        | Change::CancelRequested { .. }
        | Change::PackageReceived { .. }
        | Change::TransferStarted { .. }
        | Change::TransferProgressed { .. }
        | Change::TransferFinished { .. }
        | Change::ShippedBack { .. }
        | Change::NeverReceived { .. }
        | Change::OverdueClosed => false,
    }
}

/// Whether a timer removes its job, from the spec: the `Creating` expiry and the end of
/// retention do; the shipping expiry marks drives `NeverReceived` and keeps the job, and the
/// operators' close moves it to `Closed` (R-TIMER-6).
pub fn timer_removes(timer: Timer) -> bool {
    match timer {
        Timer::CreatingExpired | Timer::RetentionExpired => true,
        Timer::NeverReceived | Timer::OverdueClosed => false,
    }
}
