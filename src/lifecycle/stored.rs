//! A job's stored form: the JSON a host writes (with its format version), and reading it back,
//! checked against the invariants (R-INPUT-3, R-STAGE-1).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::format::FormatVersion;
#[cfg(feature = "json")]
use crate::model::format::{FORMAT_VERSION, is_known};
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

/// The unchecked serde form of a [`Job`]; turned into one by `Job::check_invariants`.
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

/// The most bytes a job's stored record may have: a job has at most ten drives and a handful
/// of stages, a few kilobytes of JSON. [`Job::read`] refuses a larger record unread.
pub const MAX_RECORD_BYTES: usize = 65_536;

/// Why [`Job::read`] refused a stored record. Each variant says what a host does next: a record
/// of another version needs another version of the crate, a malformed or inconsistent one is
/// damaged or forged (an operator looks at it), one of another job is stored under the wrong key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The record is larger than [`MAX_RECORD_BYTES`].
    #[error("the record has {bytes} bytes, more than {max}")]
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The most a record may have.
        max: usize,
    },
    /// The record carries a `formatVersion` this crate does not read, wherever the key is in
    /// the object (a store such as PostgreSQL's `jsonb` reorders keys).
    #[error("{}", crate::model::format::unsupported(found))]
    UnsupportedVersion {
        /// The version the record carries.
        found: u64,
        /// The newest version this crate reads (it reads every version from 1 to this one).
        known: u32,
    },
    /// The record is not a job's JSON: not JSON, a key given twice, a field missing, unknown or
    /// of the wrong type.
    #[error("{path}: {message}")]
    Malformed {
        /// Where in the record (`driveList[0].state`; `.` for the record as a whole).
        path: String,
        /// What is wrong there.
        message: String,
    },
    /// The record is a job's JSON, but no history of the rules produces it (R-INPUT-3).
    #[error("{invariant}")]
    Inconsistent {
        /// The invariant it breaks, as a sentence naming the job and its state.
        invariant: String,
    },
    /// The record is well formed and consistent, but it is another job than the one its key
    /// names.
    #[error("the record is job {found:?}, not {expected:?}")]
    OtherJob {
        /// The name the key gave.
        expected: JobName,
        /// The name the record holds.
        found: JobName,
    },
}

#[cfg(feature = "json")]
impl Job {
    /// Reads a job's stored record, the JSON its `Serialize` wrote, stored under the key
    /// `expected`: the one call a host makes to read a record back (R-INPUT-3). It is bounded
    /// in size, strict (a key given twice is refused, at any depth, even when the store keeps
    /// the last one), finds `formatVersion` wherever the store put it, and checks the job's
    /// consistency and its name.
    ///
    /// No policy is asked for: a policy change applies to what happens next and never makes a
    /// stored record unreadable (R-POLICY-1). A deadline the current policy puts at or before the
    /// job's last recorded instant fires at that instant.
    ///
    /// # Errors
    ///
    /// [`ReadError`]: too large, an unsupported format version, malformed (naming the place),
    /// inconsistent (naming the invariant), or another job than `expected`.
    ///
    /// With the `json` feature (a default one).
    pub fn read(record: &[u8], expected: &JobName) -> Result<Job, ReadError> {
        if record.len() > MAX_RECORD_BYTES {
            return Err(ReadError::TooLarge { bytes: record.len(), max: MAX_RECORD_BYTES });
        }
        let malformed = |path: String, message: String| ReadError::Malformed { path, message };
        let mut de = serde_json::Deserializer::from_slice(record);
        let value: serde_json::Value =
            serde_path_to_error::deserialize(crate::wire::strict::Strict::object(&mut de))
                .map_err(|e| malformed(e.path().to_string(), e.into_inner().to_string()))?;
        de.end().map_err(|e| malformed(".".to_string(), e.to_string()))?;
        match value.get("formatVersion") {
            None => return Err(malformed(".".to_string(), "missing field `formatVersion`".to_string())),
            Some(version) => match version.as_u64() {
                Some(found) if is_known(found) => {}
                Some(found) => return Err(ReadError::UnsupportedVersion { found, known: FORMAT_VERSION }),
                None => {
                    return Err(malformed(
                        "formatVersion".to_string(),
                        format!("expected a format version, found {version}"),
                    ));
                }
            },
        }
        let repr: JobRepr = serde_path_to_error::deserialize(crate::wire::strict::Strict::new(&value))
            .map_err(|e| malformed(e.path().to_string(), e.into_inner().to_string()))?;
        let job = Job::try_from(repr).map_err(|invariant| ReadError::Inconsistent { invariant })?;
        if &job.name != expected {
            return Err(ReadError::OtherJob { expected: expected.clone(), found: job.name });
        }
        Ok(job)
    }
}
