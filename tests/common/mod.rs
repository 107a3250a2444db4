//! Helpers shared by the test files: the fixed origin of their simulated clocks, names, and the
//! case count of generated tests. Each test file uses a part of them.
#![allow(dead_code)]

use import_export_lifecycle::{DriveId, JobName, Timestamp};

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
