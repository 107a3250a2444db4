//! A job's stored form: the JSON a host writes (with its format version), and reading it back,
//! checked against the invariants (R-INPUT-3, R-STAGE-1).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::format::FormatVersion;
use crate::model::job::{Drive, Job, PackageInfo, Stage};
use crate::model::name::JobName;
use crate::model::state::{JobState, JobType};

fn is_false(b: &bool) -> bool {
    !*b
}

/// The serde form a [`Job`] is written as.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobOut<'a> {
    format_version: FormatVersion,
    name: &'a JobName,
    job_type: JobType,
    state: JobState,
    cancel_requested: bool,
    drive_list: &'a [Drive],
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery_package: Option<&'a PackageInfo>,
    #[serde(skip_serializing_if = "is_false")]
    package_overdue: &'a bool,
    stages: &'a [Stage],
    #[serde(with = "crate::wire::instant::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "crate::wire::instant::rfc3339")]
    state_entered_at: Timestamp,
    #[serde(with = "crate::wire::instant::rfc3339")]
    updated_at: Timestamp,
}

impl Serialize for Job {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        JobOut {
            format_version: self.format_version,
            name: &self.name,
            job_type: self.job_type,
            state: self.state,
            cancel_requested: self.cancel_requested,
            drive_list: &self.drive_list,
            delivery_package: self.delivery_package.as_deref(),
            package_overdue: &self.package_overdue,
            stages: &self.stages,
            created_at: self.created_at(),
            state_entered_at: self.state_entered_at(),
            updated_at: self.updated_at,
        }
        .serialize(serializer)
    }
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
    stages: Vec<Stage>,
    #[serde(with = "crate::wire::instant::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "crate::wire::instant::rfc3339")]
    state_entered_at: Timestamp,
    #[serde(with = "crate::wire::instant::rfc3339")]
    updated_at: Timestamp,
}

crate::wire::strict::strict_deserialize!(JobRepr);

impl TryFrom<JobRepr> for Job {
    type Error = String;
    fn try_from(r: JobRepr) -> Result<Job, String> {
        // `createdAt` and `stateEnteredAt` are written for readers; the job holds them once, as
        // its first and last stages (R-STAGE-1), and they must agree.
        let first = r.stages.first().map(|s| s.stage_time);
        let last = r.stages.last().map(|s| s.stage_time);
        if first != Some(r.created_at) || last != Some(r.state_entered_at) {
            return Err(format!(
                "job '{}' in state {}: {}",
                r.name,
                r.state,
                crate::lifecycle::invariants::STAGES_BROKEN
            ));
        }
        let job = Job {
            format_version: r.format_version,
            name: r.name,
            job_type: r.job_type,
            state: r.state,
            cancel_requested: r.cancel_requested,
            drive_list: r.drive_list,
            delivery_package: r.delivery_package,
            package_overdue: r.package_overdue,
            stages: r.stages.into_boxed_slice(),
            updated_at: r.updated_at,
        };
        job.check_invariants().map(|()| job)
    }
}

impl<'de> Deserialize<'de> for Job {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The trait's `deserialize` (strict: objects only), not the unchecked remote one.
        let repr = <JobRepr as Deserialize>::deserialize(deserializer)?;
        Job::try_from(repr).map_err(serde::de::Error::custom)
    }
}
