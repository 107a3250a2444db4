//! Evolving: how an event the rules decided changes a job (creates it, changes it, removes
//! it). The one place a job changes; deciding (`decide`) says which event, this applies it.

use jiff::Timestamp;

use crate::model::event::{Change, Event};
use crate::model::format::FormatVersion;
use crate::model::job::{Drive, Job, Stage};
use crate::model::name::{DriveId, JobName};
use crate::model::state::{DriveState, JobState, JobType};
use crate::model::update::UpdateField;

/// Folds an event the rules decided into the job: creates it, changes it, or removes it.
/// Unchecked: the event must come from [`decide`] or have passed [`check_follows`].
pub(crate) fn evolve(job: &mut Option<Job>, event: &Event) {
    match evolve_in(job.as_mut(), event) {
        Fate::Created(new) => *job = Some(new),
        Fate::Removed => *job = None,
        Fate::Kept => {}
    }
}

/// What folding one event did to the job's existence; the job itself, if it exists, has
/// already changed in place.
pub(crate) enum Fate {
    /// The event created this job.
    Created(Job),
    /// The job still exists (or still does not).
    Kept,
    /// The event removed the job.
    Removed,
}

/// The one place an event changes a job: a `Created` event makes it, an event that removes it
/// ends it, any other event evolves it in place. Hosts that keep jobs in other shapes (the
/// registry's boxes) go through here too.
pub(crate) fn evolve_in(job: Option<&mut Job>, event: &Event) -> Fate {
    match job {
        // Only a `Created` event makes a job; any other event names no job that exists.
        None => match &event.change {
            Change::Created { job_type, drives } => {
                Fate::Created(Job::created(event.at, event.job.clone(), *job_type, drives))
            }
            Change::Shipped { .. }
            | Change::Updated { .. }
            | Change::CancelRequested { .. }
            | Change::Deleted
            | Change::PackageReceived { .. }
            | Change::TransferStarted { .. }
            | Change::TransferProgressed { .. }
            | Change::TransferFinished { .. }
            | Change::ShippedBack { .. }
            | Change::CreatingExpired
            | Change::NeverReceived { .. }
            | Change::OverdueClosed
            | Change::RetentionExpired => Fate::Kept,
        },
        Some(_) if event.removes_job() => Fate::Removed,
        Some(existing) => {
            existing.evolve(event.at, &event.change);
            Fate::Kept
        }
    }
}

impl Job {
    /// A new job, as a `Created` event makes it.
    pub(crate) fn created(at: Timestamp, name: JobName, job_type: JobType, drives: &[DriveId]) -> Job {
        Job {
            format_version: FormatVersion,
            name,
            job_type,
            state: JobState::Creating,
            cancel_requested: false,
            drive_list: specified(drives),
            delivery_package: None,
            package_overdue: false,
            stages: Box::new([Stage { stage_name: JobState::Creating, stage_time: at }]),
            updated_at: at,
        }
    }

    /// Folds one event of this job into it. Total: an event that names a drive the job does not
    /// have changes that drive not at all (the registry checks events before they get here).
    pub(crate) fn evolve(&mut self, at: Timestamp, change: &Change) {
        let state = match change {
            Change::Created { .. } | Change::Deleted | Change::CreatingExpired | Change::RetentionExpired => {
                None
            }
            Change::Updated { fields, drives, delivery_package } => {
                if fields.contains(&UpdateField::DriveList) {
                    self.drive_list = specified(drives);
                }
                if let Some(package) = delivery_package {
                    self.delivery_package = Some(Box::new(package.clone()));
                }
                None
            }
            Change::Shipped { delivery_package } => {
                if let Some(package) = delivery_package {
                    self.delivery_package = Some(Box::new(package.clone()));
                }
                Some(JobState::Shipping)
            }
            Change::CancelRequested { state } => {
                self.cancel_requested = true;
                Some(*state)
            }
            Change::PackageReceived { drives, state } => {
                self.package_overdue = false;
                self.drive_list = package_contents(self, drives);
                Some(*state)
            }
            Change::TransferStarted { drive, state } => {
                self.set_drive(drive, |d| d.state = DriveState::Transferring);
                Some(*state)
            }
            Change::TransferProgressed { drive, bytes } => {
                self.set_drive(drive, |d| d.bytes_succeeded = d.bytes_succeeded.saturating_add(*bytes));
                None
            }
            Change::TransferFinished { drive, result, state } => {
                self.set_drive(drive, |d| d.state = DriveState::from(*result));
                Some(*state)
            }
            Change::ShippedBack { state } => {
                for d in &mut self.drive_list {
                    if d.state.is_at_datacenter() {
                        d.state = DriveState::ShippedBack;
                    }
                }
                Some(*state)
            }
            Change::NeverReceived { state } => {
                self.package_overdue = true;
                for d in &mut self.drive_list {
                    d.state = never_received(d.state);
                }
                Some(*state)
            }
            Change::OverdueClosed => Some(JobState::Closed),
        };
        if let Some(state) = state {
            if state != self.state {
                self.state = state;
                // R-STAGE-1: states only move forward (R-FLOW-7), so the history holds at most
                // one stage per state; it grows by exactly one, with no spare room.
                let entered = at.max(self.state_entered_at());
                let mut stages = std::mem::take(&mut self.stages).into_vec();
                stages.reserve_exact(1);
                stages.push(Stage { stage_name: state, stage_time: entered });
                self.stages = stages.into_boxed_slice();
            }
        }
        self.updated_at = at.max(self.updated_at);
    }

    fn set_drive(&mut self, id: &DriveId, change: impl FnOnce(&mut Drive)) {
        if let Some(drive) = self.drive_list.iter_mut().find(|d| &d.drive_id == id) {
            change(drive);
        }
    }
}

/// An import job's drives as named by the customer: `Specified`, nothing copied.
fn specified(drives: &[DriveId]) -> Vec<Drive> {
    drives
        .iter()
        .map(|id| Drive { drive_id: id.clone(), state: DriveState::Specified, bytes_succeeded: 0 })
        .collect()
}

/// R-FLOW-2: the drive list once a package holding `arrived` came in. An import job's listed
/// drives become `Received` and the rest `NeverReceived`; an export job's drives are the listed
/// ones, `Received`.
pub(crate) fn package_contents(job: &Job, arrived: &[DriveId]) -> Vec<Drive> {
    match job.job_type {
        JobType::Import => job
            .drive_list
            .iter()
            .map(|d| Drive {
                state: if arrived.contains(&d.drive_id) {
                    DriveState::Received
                } else {
                    DriveState::NeverReceived
                },
                ..d.clone()
            })
            .collect(),
        JobType::Export => arrived
            .iter()
            .map(|id| Drive { drive_id: id.clone(), state: DriveState::Received, bytes_succeeded: 0 })
            .collect(),
    }
}

/// R-TIMER-2: what the never-received timer does to one drive: a drive still expected is
/// `NeverReceived`; any other keeps its state.
pub(crate) fn never_received(state: DriveState) -> DriveState {
    match state {
        DriveState::Specified => DriveState::NeverReceived,
        DriveState::Received
        | DriveState::NeverReceived
        | DriveState::Transferring
        | DriveState::Completed
        | DriveState::CompletedMoreInfo
        | DriveState::ShippedBack => state,
    }
}
