//! What a job can be asked to do: the inputs of the lifecycle.

use serde::{Deserialize, Serialize};

use crate::model::error::Operation;
use crate::model::job::PackageInfo;
use crate::model::name::{DriveId, JobName};
use crate::model::state::{JobType, TransferResult};
use crate::model::update::UpdateField;

/// One input to a [`Registry`](crate::Registry): a customer operation or a datacenter report.
///
/// In JSON a command reads as a step of a scenario file, without its instant:
/// `{"op": "startTransfer", "job": "job-1", "drive": "D1"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "op",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields,
    remote = "Self"
)]
pub enum Command {
    /// Customer: create a job. An import job names its drives (1 to 10); an export job names
    /// none (the datacenter adds the drives it receives).
    Create {
        /// The new job's name; no other job may hold it (R-INPUT-2).
        job: JobName,
        /// `Import` or `Export`.
        #[serde(rename = "type")]
        job_type: JobType,
        /// An import job's drives.
        #[serde(default)]
        drives: Vec<DriveId>,
    },
    /// Customer: the package is on its way (Update Job Properties with `state: "Shipping"`),
    /// with its carrier and tracking number if known (R-FLOW-1).
    Ship {
        /// The name of the job the command acts on.
        job: JobName,
        /// The carrier's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        carrier: Option<String>,
        /// The carrier's tracking number.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tracking_number: Option<String>,
    },
    /// Customer: change some of the job's fields (Update Job Properties), naming the fields it
    /// changes: all of them or none (R-UPDATE-1 to R-UPDATE-6). The job's state stays; in
    /// `Creating` the two-week clock restarts (R-UPDATE-7).
    Update {
        /// The name of the job the command acts on.
        job: JobName,
        /// The fields the update changes, at least one, each once.
        fields: Vec<UpdateField>,
        /// The new drive list, when `fields` holds `driveList` (and only then): it replaces
        /// the old one, with the checks of `create` (R-UPDATE-4).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        drives: Vec<DriveId>,
        /// The package's new description, when `fields` holds `deliveryPackage` (and only then;
        /// R-UPDATE-2): it replaces the one the job holds. A command that names
        /// `deliveryPackage` without one (as command logs of format version 1 do) leaves the
        /// job's package as it is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivery_package: Option<PackageInfo>,
    },
    /// Customer: cancel the job (Update Job Properties with `cancelRequested: true`), carried
    /// out on a best-effort basis (R-CANCEL-1 to R-CANCEL-9).
    Cancel {
        /// The name of the job the command acts on.
        job: JobName,
    },
    /// Customer: delete the job (R-DELETE-1, R-DELETE-2).
    Delete {
        /// The name of the job the command acts on.
        job: JobName,
    },
    /// Datacenter: the job's package arrived holding these drives (R-FLOW-2).
    PackageReceived {
        /// The name of the job the command acts on.
        job: JobName,
        /// The drives found in the package.
        drives: Vec<DriveId>,
    },
    /// Datacenter: a drive starts copying (R-FLOW-3, R-CANCEL-7).
    StartTransfer {
        /// The name of the job the command acts on.
        job: JobName,
        /// The drive of that job the command acts on, by id.
        drive: DriveId,
    },
    /// Datacenter: a copying drive copied `bytes` more bytes (R-FLOW-4, R-CANCEL-6).
    Progress {
        /// The name of the job the command acts on.
        job: JobName,
        /// The drive of that job the command acts on, by id.
        drive: DriveId,
        /// Bytes copied in this step, added to the drive's `bytesSucceeded`.
        bytes: u64,
    },
    /// Datacenter: a drive's copy ended (R-FLOW-4, R-FLOW-5).
    FinishTransfer {
        /// The name of the job the command acts on.
        job: JobName,
        /// The drive of that job the command acts on, by id.
        drive: DriveId,
        /// `Completed` or `CompletedMoreInfo`.
        result: TransferResult,
    },
    /// Datacenter: the drives went back to the customer (R-FLOW-6).
    ShipBack {
        /// The name of the job the command acts on.
        job: JobName,
    },
}

crate::wire::strict::strict_serde!(Command);

impl Command {
    /// The job the command is aimed at.
    pub fn job(&self) -> &JobName {
        match self {
            Command::Create { job, .. }
            | Command::Ship { job, .. }
            | Command::Update { job, .. }
            | Command::Cancel { job }
            | Command::Delete { job }
            | Command::PackageReceived { job, .. }
            | Command::StartTransfer { job, .. }
            | Command::Progress { job, .. }
            | Command::FinishTransfer { job, .. }
            | Command::ShipBack { job } => job,
        }
    }

    /// Which operation the command is.
    pub fn operation(&self) -> Operation {
        match self {
            Command::Create { .. } => Operation::Create,
            Command::Ship { .. } => Operation::Ship,
            Command::Update { .. } => Operation::Update,
            Command::Cancel { .. } => Operation::Cancel,
            Command::Delete { .. } => Operation::Delete,
            Command::PackageReceived { .. } => Operation::PackageReceived,
            Command::StartTransfer { .. } => Operation::StartTransfer,
            Command::Progress { .. } => Operation::Progress,
            Command::FinishTransfer { .. } => Operation::FinishTransfer,
            Command::ShipBack { .. } => Operation::ShipBack,
        }
    }
}

/// The fields each operation takes in its JSON form (a scenario step, an ARM script's
/// datacenter line), besides `at` and `op`: (name, required). `get` and `list` are reads.
#[cfg(any(feature = "arm", feature = "scenarios"))]
pub(crate) fn fields_of(op: &str) -> Option<&'static [(&'static str, bool)]> {
    Some(match op {
        "create" => &[("job", true), ("type", true), ("drives", false)],
        "ship" => &[("job", true), ("carrier", false), ("trackingNumber", false)],
        "update" => &[("job", true), ("fields", true), ("drives", false), ("deliveryPackage", false)],
        "cancel" | "delete" | "get" | "shipBack" => &[("job", true)],
        "list" => &[],
        "packageReceived" => &[("job", true), ("drives", true)],
        "startTransfer" => &[("job", true), ("drive", true)],
        "progress" => &[("job", true), ("drive", true), ("bytes", true)],
        "finishTransfer" => &[("job", true), ("drive", true), ("result", true)],
        _ => return None,
    })
}
