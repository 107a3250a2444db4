//! The service's own clocks: what fires when nobody asks.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use strum::{Display, EnumIter};

use crate::model::name::JobName;

/// A timer the service runs on a job. At most one is pending per job at a time; which one, and
/// when it fires, follow from the job's state and the [`Policy`](crate::Policy).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Display, EnumIter,
)]
pub enum Timer {
    /// The job stayed in `Creating` for the whole creating period: the service deletes it
    /// (R-TIMER-1).
    CreatingExpired,
    /// The package did not arrive within the shipping period: the job's drives become
    /// `NeverReceived` (R-TIMER-2).
    NeverReceived,
    /// The package was overdue for the operators' whole wait: they move the job from `Shipping`
    /// to `Closed` (R-TIMER-6).
    OverdueClosed,
    /// The job's retention in `Completed` or `Closed` ended: the service removes it (R-TIMER-3).
    RetentionExpired,
}

/// A pending timer: which one, on which job, and the instant it fires.
///
/// The job is visible, unchanged by this timer, at every instant strictly before `at`; at `at`
/// the timer has fired (R-TIMER-4).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Deadline {
    /// The instant the timer fires.
    #[serde(with = "crate::wire::instant::rfc3339")]
    pub at: Timestamp,
    /// The name of the job whose timer this is.
    pub job: JobName,
    /// Which of the service's clocks fires, and so what it does to the job.
    pub timer: Timer,
}
