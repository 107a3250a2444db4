//! One Import/Export job and its drives, as the service shows them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::format::FormatVersion;
use crate::model::name::{DriveId, JobName};
use crate::model::state::{DriveState, JobState, JobType};

/// The most drives one job holds.
pub const MAX_DRIVES: usize = 10;

/// One disk drive of a job (`DriveStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Drive {
    /// The drive's id, usually its serial number.
    pub drive_id: DriveId,
    /// Where the drive is in its own lifecycle.
    pub state: DriveState,
    /// Bytes copied so far. Bytes reported after a cancel by a drive that was already copying
    /// count too (R-CANCEL-6).
    pub bytes_succeeded: u64,
}

/// The package the customer sends the drives in (`deliveryPackage`), as they described it: its
/// carrier and tracking number and, if they said, how many drives it holds and when it left.
/// The customer gives it when the job is created, by an update (R-UPDATE-2) or with the
/// shipment (R-FLOW-1); the job holds the latest description, and the service needs one to
/// mark the job `Shipping` through *Update Job* (R-FLOW-8). A package the job holds names at
/// least one of these details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, remote = "Self")]
pub struct PackageInfo {
    /// The carrier's name, e.g. `FedEx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    /// The carrier's tracking number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// How many drives the package holds, as the customer said (the service's `int64`; the
    /// drives themselves are the job's `driveList`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive_count: Option<i64>,
    /// When the package was shipped, as the customer wrote it (the service takes any string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_date: Option<String>,
}

impl PackageInfo {
    /// The package names none of its details: the job holds no such package.
    pub(crate) fn is_empty(&self) -> bool {
        self.carrier_name.is_none()
            && self.tracking_number.is_none()
            && self.drive_count.is_none()
            && self.ship_date.is_none()
    }
}

crate::wire::strict::strict_serde!(PackageInfo);

/// One step of a job's history (`JobStages`, after Azure Data Box): a state the job entered and
/// the instant it entered it (R-STAGE-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, remote = "Self")]
pub struct Stage {
    /// The state the job entered at this step.
    pub stage_name: JobState,
    /// The instant it entered it: the instant of the event (or timer deadline) that moved it.
    #[serde(with = "crate::wire::instant::rfc3339")]
    pub stage_time: Timestamp,
}

crate::wire::strict::strict_serde!(Stage);

/// An Import/Export job as the model knows it: what the service would show on *Get Job*, plus
/// the instants that answer every time question without another clock read.
///
/// A `Job` is read-only to its users: it changes only by the events the rules decide and apply,
/// so its invariants (see [`Job::check`]) always hold. Deserializing one checks those that hold
/// under any policy.
///
/// The instant the job was created and the one it entered its state are the first and the last
/// of its stages: the JSON shows them as `createdAt` and `stateEnteredAt` as well, and reading a
/// job checks that they agree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Job {
    /// The stored form's version, written first (see [`FORMAT_VERSION`](crate::FORMAT_VERSION)).
    pub(crate) format_version: FormatVersion,
    pub(crate) name: JobName,
    pub(crate) job_type: JobType,
    pub(crate) state: JobState,
    pub(crate) cancel_requested: bool,
    pub(crate) drive_list: Vec<Drive>,
    pub(crate) delivery_package: Option<Box<PackageInfo>>,
    pub(crate) package_overdue: bool,
    /// Never empty: `Creating` at the creation, then each state entered (R-STAGE-1). A boxed
    /// slice, sized to its stages: a job enters at most six states.
    pub(crate) stages: Box<[Stage]>,
    pub(crate) updated_at: Timestamp,
}

impl Job {
    /// The job's name: unique among the jobs that exist, and free again once it is removed
    /// (R-INPUT-2, R-GONE-2).
    pub fn name(&self) -> &JobName {
        &self.name
    }

    /// `Import` or `Export`.
    pub fn job_type(&self) -> JobType {
        self.job_type
    }

    /// Where the job is in its lifecycle: the state *Get Job* shows, which decides what it
    /// accepts now (see [`Job::capabilities`]).
    pub fn state(&self) -> JobState {
        self.state
    }

    /// `cancelRequested`: a cancel was accepted for this job. It stays `true` for the rest of the
    /// job's life.
    pub fn cancel_requested(&self) -> bool {
        self.cancel_requested
    }

    /// The job's drives (`driveList`), at most [`MAX_DRIVES`]. An import job's are named at
    /// creation; an export job has none until its package arrives.
    pub fn drive_list(&self) -> &[Drive] {
        &self.drive_list
    }

    /// The drive with this id, if the job has one (an export job has none until its package
    /// arrives).
    pub fn drive(&self, id: &str) -> Option<&Drive> {
        self.drive_list.iter().find(|d| d.drive_id.as_str() == id)
    }

    /// The package the customer said they sent, if they gave its details.
    pub fn delivery_package(&self) -> Option<&PackageInfo> {
        self.delivery_package.as_deref()
    }

    /// The package did not arrive within the shipping period: the timer R-TIMER-2 fired and the
    /// job waits in `Shipping` for the operators (or a late package, or a cancel).
    pub fn package_overdue(&self) -> bool {
        self.package_overdue
    }

    /// Every state the job entered, with the instant, oldest first: `Creating` at its creation,
    /// then each state it moved to (R-STAGE-1). The last is the job's state, entered at
    /// [`state_entered_at`](Job::state_entered_at).
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// When the job was created: its first stage.
    pub fn created_at(&self) -> jiff::Timestamp {
        self.stages.first().map_or(self.updated_at, |s| s.stage_time)
    }

    /// When the job entered its current state. The timers of `Shipping`, `Completed` and
    /// `Closed` count from here; the `Creating` clock counts from the job's last accepted
    /// update, if it had one (R-UPDATE-7).
    pub fn state_entered_at(&self) -> jiff::Timestamp {
        self.stages.last().map_or(self.updated_at, |s| s.stage_time)
    }

    /// The job's last recorded instant: no event of this job is ever recorded earlier
    /// (R-CLOCK-1).
    pub fn updated_at(&self) -> jiff::Timestamp {
        self.updated_at
    }
}
