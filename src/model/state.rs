//! The states a job and its drives pass through, spelled exactly as the service spells them.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumCount, EnumIter, EnumString, IntoStaticStr};

/// Whether data goes into Azure Storage (`Import`) or out of it (`Export`): `jobType`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    EnumIter,
    EnumCount,
    IntoStaticStr,
)]
pub enum JobType {
    /// The customer ships drives full of data; the service copies it into the storage account.
    /// The drives are named when the job is created.
    Import,
    /// The customer ships empty drives; the service copies blobs onto them. The job starts with
    /// no drives: the service adds the ones it received.
    Export,
}

/// The state of a job (`state` in `JobDetails`).
///
/// A job only moves forward through these states, in this order; `Completed` and `Closed` are
/// both final, and a job in either is removed by the service after the retention period.
///
/// ```text
///  Creating ──ship──▶ Shipping ──package──▶ Received ──start──▶ Transferring ──last finish──▶ Packaging ──ship back──▶ Completed | Closed
///     │                  │  (cancel: straight on to Packaging once nothing is copying)             ▲
///     └──cancel──────────┴──(cancel with nothing at the datacenter)────────────────────────────────┘ Completed
/// ```
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    EnumIter,
    EnumCount,
    IntoStaticStr,
)]
pub enum JobState {
    /// The job exists; its drives are assumed not to have been shipped yet.
    Creating,
    /// The customer said the package is on its way to the datacenter.
    Shipping,
    /// The package has arrived and its drives have been logged.
    Received,
    /// At least one drive has started copying.
    Transferring,
    /// Every drive has been processed (or, after a cancel, none is copying any more); the drives
    /// wait to be shipped back.
    Packaging,
    /// Finished: drives shipped back without errors, or the job was cancelled. Kept for the
    /// retention period, then removed.
    Completed,
    /// Finished: drives shipped back, and there were errors. Kept for the retention period, then
    /// removed.
    Closed,
}

impl JobState {
    /// Where the state stands on the one forward path of the lifecycle; `Completed` and `Closed`
    /// share the last step. A job's step never decreases (R-FLOW-7).
    pub fn step(self) -> u8 {
        match self {
            JobState::Creating => 0,
            JobState::Shipping => 1,
            JobState::Received => 2,
            JobState::Transferring => 3,
            JobState::Packaging => 4,
            JobState::Completed | JobState::Closed => 5,
        }
    }

    /// `Completed` or `Closed`: the job is finished and only waits for its retention to end.
    pub fn is_terminal(self) -> bool {
        self.step() == 5
    }
}

/// The state of one drive (`state` in `DriveStatus`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    EnumIter,
    EnumCount,
    IntoStaticStr,
)]
pub enum DriveState {
    /// An import drive named when the job was created, not yet at the datacenter.
    Specified,
    /// The drive is at the datacenter and waits to be copied (the first state of an export drive).
    Received,
    /// The drive did not arrive: missing from its package, or the package never came.
    NeverReceived,
    /// The drive is being copied.
    Transferring,
    /// The copy finished without errors.
    Completed,
    /// The copy finished with errors or warnings (see the drive's logs).
    CompletedMoreInfo,
    /// The drive was sent back to the customer's return address.
    ShippedBack,
}

impl DriveState {
    /// The drive is physically at the datacenter (and so goes back at ship-back).
    pub fn is_at_datacenter(self) -> bool {
        match self {
            DriveState::Received
            | DriveState::Transferring
            | DriveState::Completed
            | DriveState::CompletedMoreInfo => true,
            DriveState::Specified | DriveState::NeverReceived | DriveState::ShippedBack => false,
        }
    }
}

/// How a drive's copy ended, as reported by the datacenter with *transfer finished*.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    EnumIter,
    EnumCount,
    IntoStaticStr,
)]
pub enum TransferResult {
    /// Copied without errors.
    Completed,
    /// Copied with errors or warnings.
    CompletedMoreInfo,
}

impl From<TransferResult> for DriveState {
    fn from(result: TransferResult) -> DriveState {
        match result {
            TransferResult::Completed => DriveState::Completed,
            TransferResult::CompletedMoreInfo => DriveState::CompletedMoreInfo,
        }
    }
}
