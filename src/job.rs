//! One Import/Export job and its drives, as the service shows them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::format::FormatVersion;
use crate::name::{DriveId, JobName};
use crate::policy::Policy;
use crate::rules;
use crate::state::{DriveState, JobState, JobType};
use crate::timer::Deadline;

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

/// The carrier and tracking number of the package the customer sent (`deliveryPackage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, remote = "Self")]
pub struct PackageInfo {
    /// The carrier's name, e.g. `FedEx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    /// The carrier's tracking number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
}

crate::strict::strict_serde!(PackageInfo);

/// An Import/Export job as the model knows it: what the service would show on *Get Job*, plus
/// the instants that answer every time question without another clock read.
///
/// A `Job` is read-only to its users: it changes only by the events a
/// [`Registry`](crate::Registry) decides and applies, so its invariants (see
/// [`Job::check_invariants`]) always hold. Deserializing one checks them too.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, try_from = "JobRepr")]
pub struct Job {
    /// The stored form's version, written first (see [`FORMAT_VERSION`](crate::FORMAT_VERSION)).
    pub(crate) format_version: FormatVersion,
    pub(crate) name: JobName,
    pub(crate) job_type: JobType,
    pub(crate) state: JobState,
    pub(crate) cancel_requested: bool,
    pub(crate) drive_list: Vec<Drive>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delivery_package: Option<Box<PackageInfo>>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(crate) package_overdue: bool,
    #[serde(with = "crate::instant::rfc3339")]
    pub(crate) created_at: Timestamp,
    #[serde(with = "crate::instant::rfc3339")]
    pub(crate) state_entered_at: Timestamp,
    #[serde(with = "crate::instant::rfc3339")]
    pub(crate) updated_at: Timestamp,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The unchecked serde form of a [`Job`]; turned into one by [`Job::check_invariants`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, remote = "Self")]
struct JobRepr {
    format_version: FormatVersion,
    name: JobName,
    job_type: JobType,
    state: JobState,
    cancel_requested: bool,
    drive_list: Vec<Drive>,
    #[serde(default)]
    delivery_package: Option<Box<PackageInfo>>,
    #[serde(default)]
    package_overdue: bool,
    #[serde(with = "crate::instant::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "crate::instant::rfc3339")]
    state_entered_at: Timestamp,
    #[serde(with = "crate::instant::rfc3339")]
    updated_at: Timestamp,
}

crate::strict::strict_deserialize!(JobRepr);

impl TryFrom<JobRepr> for Job {
    type Error = String;
    fn try_from(r: JobRepr) -> Result<Job, String> {
        let job = Job {
            format_version: r.format_version,
            name: r.name,
            job_type: r.job_type,
            state: r.state,
            cancel_requested: r.cancel_requested,
            drive_list: r.drive_list,
            delivery_package: r.delivery_package,
            package_overdue: r.package_overdue,
            created_at: r.created_at,
            state_entered_at: r.state_entered_at,
            updated_at: r.updated_at,
        };
        job.check_invariants().map(|()| job)
    }
}

impl Job {
    /// The job's name.
    pub fn name(&self) -> &JobName {
        &self.name
    }

    /// `Import` or `Export`.
    pub fn job_type(&self) -> JobType {
        self.job_type
    }

    /// The job's state.
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

    /// One drive by id.
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

    /// When the job was created.
    pub fn created_at(&self) -> jiff::Timestamp {
        self.created_at
    }

    /// When the job entered its current state. The timers of `Creating`, `Shipping`,
    /// `Completed` and `Closed` count from here.
    pub fn state_entered_at(&self) -> jiff::Timestamp {
        self.state_entered_at
    }

    /// The job's last recorded instant: no event of this job is ever recorded earlier
    /// (R-CLOCK-1).
    pub fn updated_at(&self) -> jiff::Timestamp {
        self.updated_at
    }

    /// The next timer of this job, if one is pending (see [`Deadline`]).
    pub fn next_deadline(&self, policy: &Policy) -> Option<Deadline> {
        rules::deadline(self, policy)
    }

    /// When the service will remove the job if nothing else happens first: the end of its
    /// retention in `Completed` or `Closed`, or of the two weeks a job may sit in `Creating`.
    /// `None` while the job is under way, or when that instant is beyond the time type.
    pub fn removal_at(&self, policy: &Policy) -> Option<jiff::Timestamp> {
        self.next_deadline(policy).filter(|d| d.timer.removes_job()).map(|d| d.at)
    }

    /// What the customer may do now, without trying it: the same rules the operations apply.
    pub fn capabilities(&self, policy: &Policy) -> Capabilities {
        Capabilities {
            is_cancellable: rules::cancel(self, policy).is_ok(),
            is_deletable: rules::delete(self.state).is_ok(),
            is_shippable: rules::ship(self.state).is_ok(),
            next_deadline: self.next_deadline(policy),
        }
    }

    /// Checks the invariants every job of the model satisfies, whatever happened to it:
    ///
    /// - at most [`MAX_DRIVES`] drives, ids unique; an import job has at least one;
    /// - `createdAt <= stateEnteredAt <= updatedAt`;
    /// - each state's drives are in the states that state allows (e.g. nothing copies in
    ///   `Packaging`, nothing is at the datacenter in `Creating`), a `Closed` job was not
    ///   cancelled, a cancelled job is never waiting for a drive to start.
    ///
    /// Returns a sentence saying which one is broken. Used when deserializing and by the tests.
    pub fn check_invariants(&self) -> Result<(), String> {
        crate::invariants::check(self)
    }
}

/// What a job allows now, in the style of Azure Data Box's capability flags: a client can show
/// or hide a button without trying the operation.
///
/// New flags are added as the service's operations are: the struct is `#[non_exhaustive]`, so
/// reading its fields keeps compiling when one is added.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// A cancel would be accepted now (R-CANCEL-1, R-CANCEL-2, R-CANCEL-3).
    pub is_cancellable: bool,
    /// A delete would be accepted now (R-DELETE-1, R-DELETE-2).
    pub is_deletable: bool,
    /// Marking the job `Shipping` would be accepted now (R-FLOW-1).
    pub is_shippable: bool,
    /// The job's next timer, if one is pending.
    pub next_deadline: Option<Deadline>,
}
