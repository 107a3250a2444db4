//! What happened: the facts a [`Registry`](crate::Registry) records, and how each one changes a
//! job.
//!
//! Events are the output of deciding and the input of applying. A host that stores them can
//! rebuild its registry by replaying them (R-EVENT-1). Each event carries the job's state after
//! it, so a log reads as a story without replaying it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::command::Command;
use crate::model::job::PackageInfo;
use crate::model::name::{DriveId, JobName};
use crate::model::state::{JobState, JobType, TransferResult};
use crate::model::timer::Timer;
use crate::model::update::UpdateField;

/// Something that happened to one job at one instant.
///
/// JSON: `{"at": "2026-01-10T10:00:00Z", "job": "job-1", "event": "cancelRequested",
/// "state": "Transferring"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Event {
    /// When it happened. For a timer, its deadline.
    #[serde(with = "crate::wire::instant::rfc3339")]
    pub at: Timestamp,
    /// The name of the job it happened to.
    pub job: JobName,
    /// What happened.
    #[serde(flatten)]
    pub change: Change,
}

crate::wire::strict::strict_serde!(Event);

/// What happened to a job. Events that may move the job carry its `state` afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Change {
    /// The job was created, in `Creating`.
    Created {
        /// `Import` or `Export`.
        job_type: JobType,
        /// An import job's drives, `Specified`.
        drives: Vec<DriveId>,
    },
    /// The customer marked the job `Shipping`.
    Shipped {
        /// The package's carrier and tracking number, if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivery_package: Option<PackageInfo>,
    },
    /// An update was accepted: these fields changed, the job's state did not (R-UPDATE-6). In
    /// `Creating` its clock restarts (R-UPDATE-7).
    Updated {
        /// The fields that changed, as the update named them.
        fields: Vec<UpdateField>,
        /// The new drive list, when `fields` holds `driveList`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        drives: Vec<DriveId>,
        /// The package's new description, when `fields` holds `deliveryPackage` and the update
        /// gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivery_package: Option<PackageInfo>,
    },
    /// A cancel was accepted; `cancelRequested` is now `true`.
    CancelRequested {
        /// The job's state after the cancel.
        state: JobState,
    },
    /// The customer deleted the job: it is gone.
    Deleted,
    /// The package arrived with these drives.
    PackageReceived {
        /// The drives in the package.
        drives: Vec<DriveId>,
        /// The job's state afterwards.
        state: JobState,
    },
    /// A drive started copying.
    TransferStarted {
        /// The drive of the job, by id.
        drive: DriveId,
        /// The job's state afterwards.
        state: JobState,
    },
    /// A copying drive copied more bytes.
    TransferProgressed {
        /// The drive of the job, by id.
        drive: DriveId,
        /// Bytes copied in this step.
        bytes: u64,
    },
    /// A drive's copy ended.
    TransferFinished {
        /// The drive of the job, by id.
        drive: DriveId,
        /// How it ended.
        result: TransferResult,
        /// The job's state afterwards.
        state: JobState,
    },
    /// The drives went back to the customer.
    ShippedBack {
        /// The job's final state, `Completed` or `Closed`.
        state: JobState,
    },
    /// Timer: the job stayed in `Creating` too long and is gone.
    CreatingExpired,
    /// Timer: the package did not arrive; the drives are `NeverReceived`.
    NeverReceived {
        /// The job's state afterwards.
        state: JobState,
    },
    /// Timer: the package stayed overdue for the operators' whole wait; they moved the job to
    /// `Closed` (R-TIMER-6).
    OverdueClosed,
    /// Timer: the job's retention ended and it is gone.
    RetentionExpired,
}

impl Event {
    /// The timer that produced this event, if a timer did.
    pub fn timer(&self) -> Option<Timer> {
        match self.change {
            Change::CreatingExpired => Some(Timer::CreatingExpired),
            Change::NeverReceived { .. } => Some(Timer::NeverReceived),
            Change::OverdueClosed => Some(Timer::OverdueClosed),
            Change::RetentionExpired => Some(Timer::RetentionExpired),
            Change::Created { .. }
            | Change::Shipped { .. }
            | Change::Updated { .. }
            | Change::CancelRequested { .. }
            | Change::Deleted
            | Change::PackageReceived { .. }
            | Change::TransferStarted { .. }
            | Change::TransferProgressed { .. }
            | Change::TransferFinished { .. }
            | Change::ShippedBack { .. } => None,
        }
    }

    /// The job no longer exists after this event. Crate-private: a host learns it from the
    /// [`Write::Delete`](crate::decider::Write::Delete) a per-job function answers, and a
    /// pending timer's from [`Job::removal_at`](crate::Job::removal_at).
    pub(crate) fn removes_job(&self) -> bool {
        match self.change {
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

    /// The command that produces this event, for the events a command produces (timers have
    /// none). Used to check an event against the rules when it is applied (R-EVENT-1).
    pub(crate) fn command(&self) -> Option<Command> {
        let job = self.job.clone();
        Some(match &self.change {
            Change::Created { job_type, drives } => {
                Command::Create { job, job_type: *job_type, drives: drives.clone() }
            }
            Change::Shipped { delivery_package } => {
                let package = delivery_package.clone().unwrap_or_default();
                Command::Ship { job, carrier: package.carrier_name, tracking_number: package.tracking_number }
            }
            Change::Updated { fields, drives, delivery_package } => Command::Update {
                job,
                fields: fields.clone(),
                drives: drives.clone(),
                delivery_package: delivery_package.clone(),
            },
            Change::CancelRequested { .. } => Command::Cancel { job },
            Change::Deleted => Command::Delete { job },
            Change::PackageReceived { drives, .. } => {
                Command::PackageReceived { job, drives: drives.clone() }
            }
            Change::TransferStarted { drive, .. } => Command::StartTransfer { job, drive: drive.clone() },
            Change::TransferProgressed { drive, bytes } => {
                Command::Progress { job, drive: drive.clone(), bytes: *bytes }
            }
            Change::TransferFinished { drive, result, .. } => {
                Command::FinishTransfer { job, drive: drive.clone(), result: *result }
            }
            Change::ShippedBack { .. } => Command::ShipBack { job },
            Change::CreatingExpired
            | Change::NeverReceived { .. }
            | Change::OverdueClosed
            | Change::RetentionExpired => return None,
        })
    }
}
