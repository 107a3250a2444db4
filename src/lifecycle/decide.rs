//! Deciding: from a job (or its absence), a command and an instant to the one event that
//! follows, or the refusal that says why not. Pure: nothing here changes anything.

use jiff::Timestamp;

use crate::lifecycle::evolve::{never_received, package_contents};
use crate::lifecycle::rules::{self, Act};
use crate::model::command::Command;
use crate::model::error::{Error, Operation, Problem};
use crate::model::event::{Change, Event};
use crate::model::job::{Job, MAX_DRIVES, PackageInfo};
use crate::model::name::DriveId;
use crate::model::policy::Policy;
use crate::model::rule::Rule;
use crate::model::state::{DriveState, JobState, JobType};
use crate::model::timer::{Deadline, Timer};
use crate::model::update::UpdateField;

/// Decides `command` at `now` given the job its name designates, if one exists: for callers
/// that have already looked it up.
pub(crate) fn decide_for(
    existing: Option<&Job>,
    policy: &Policy,
    now: Timestamp,
    command: &Command,
) -> Result<Event, Error> {
    let operation = command.operation();
    let name = command.job();
    if let Command::Create { job, job_type, drives } = command {
        if let Some(other) = existing {
            return Err(Error::JobAlreadyExists { job: job.clone(), state: other.state });
        }
        check_drive_list(operation, drives)?;
        match (job_type, drives.is_empty()) {
            (JobType::Import, true) => return Err(invalid(operation, Problem::NoDrives)),
            (JobType::Export, false) => return Err(invalid(operation, Problem::DrivesOnExport)),
            (JobType::Import, false) | (JobType::Export, true) => {}
        }
        let change = Change::Created { job_type: *job_type, drives: drives.clone() };
        return Ok(Event { at: now, job: job.clone(), change });
    }
    let Some(job) = existing else {
        return Err(Error::JobNotFound { operation, job: name.clone() });
    };
    let at = rules::instant(job, now);
    let change = decide_on(job, policy, command)?;
    Ok(Event { at, job: job.name.clone(), change })
}

/// Decides a command aimed at an existing job.
fn decide_on(job: &Job, policy: &Policy, command: &Command) -> Result<Change, Error> {
    let operation = command.operation();
    let refuse = |rule| Error::InvalidStateTransition {
        operation,
        job: job.name.clone(),
        state: job.state,
        drive: None,
        rule,
    };
    match command {
        Command::Create { .. } => Err(Error::JobAlreadyExists { job: job.name.clone(), state: job.state }),
        Command::Ship { carrier, tracking_number, .. } => {
            rules::may(job, policy, Act::Ship).map_err(refuse)?;
            // The package the job ships with: the one it holds, with the details the shipment
            // names laid over it (R-UPDATE-2).
            let mut package = job.delivery_package.as_deref().cloned().unwrap_or_default();
            if let Some(carrier) = carrier {
                package.carrier_name = Some(carrier.clone());
            }
            if let Some(tracking_number) = tracking_number {
                package.tracking_number = Some(tracking_number.clone());
            }
            let delivery_package = (!package.is_empty()).then_some(package);
            Ok(Change::Shipped { delivery_package })
        }
        Command::Update { fields, drives, delivery_package, .. } => {
            update(job, policy, operation, fields, drives, delivery_package.as_ref())
        }
        Command::Cancel { .. } => {
            rules::may(job, policy, Act::Cancel).map_err(|rule| Error::CancelNotAllowed {
                job: job.name.clone(),
                state: job.state,
                rule,
            })?;
            let awaiting_package = job.state == JobState::Shipping && !job.package_overdue;
            let state = rules::settle(job.state, true, awaiting_package, drive_states(job));
            Ok(Change::CancelRequested { state })
        }
        Command::Delete { .. } => {
            rules::may(job, policy, Act::Delete).map_err(|rule| Error::DeleteNotAllowed {
                job: job.name.clone(),
                state: job.state,
                rule,
            })?;
            Ok(Change::Deleted)
        }
        Command::PackageReceived { drives, .. } => {
            rules::may(job, policy, Act::ReceivePackage).map_err(refuse)?;
            check_drive_list(operation, drives)?;
            if drives.is_empty() {
                return Err(invalid(operation, Problem::NoDrives));
            }
            match job.job_type {
                JobType::Import => {
                    if let Some(unknown) = drives.iter().find(|id| job.drive(id.as_str()).is_none()) {
                        return Err(drive_not_found(job, operation, unknown));
                    }
                }
                JobType::Export => {}
            }
            let contents = package_contents(job, drives);
            let state =
                rules::settle(job.state, job.cancel_requested, false, contents.iter().map(|d| d.state));
            Ok(Change::PackageReceived { drives: drives.clone(), state })
        }
        Command::StartTransfer { drive, .. } => {
            rules::may(job, policy, Act::StartTransfer).map_err(refuse)?;
            let (id, _) = drive_in(job, operation, drive, DriveState::Received, Rule::Flow3)?;
            let state = settle_with(job, id, DriveState::Transferring);
            Ok(Change::TransferStarted { drive: id.clone(), state })
        }
        Command::Progress { drive, bytes, .. } => {
            let (id, current) = drive_in(job, operation, drive, DriveState::Transferring, Rule::Flow4)?;
            if current.checked_add(*bytes).is_none() {
                return Err(invalid(operation, Problem::BytesOverflow { drive: id.clone() }));
            }
            Ok(Change::TransferProgressed { drive: id.clone(), bytes: *bytes })
        }
        Command::FinishTransfer { drive, result, .. } => {
            let (id, _) = drive_in(job, operation, drive, DriveState::Transferring, Rule::Flow4)?;
            let state = settle_with(job, id, DriveState::from(*result));
            Ok(Change::TransferFinished { drive: id.clone(), result: *result, state })
        }
        Command::ShipBack { .. } => {
            rules::may(job, policy, Act::ShipBack).map_err(refuse)?;
            Ok(Change::ShippedBack { state: rules::ship_back(job.cancel_requested, drive_states(job)) })
        }
    }
}

/// The event a due timer produces on its job (R-TIMER-1, R-TIMER-2, R-TIMER-3).
pub(crate) fn fire(job: &Job, deadline: &Deadline) -> Event {
    let change = match deadline.timer {
        Timer::CreatingExpired => Change::CreatingExpired,
        Timer::RetentionExpired => Change::RetentionExpired,
        Timer::OverdueClosed => Change::OverdueClosed,
        Timer::NeverReceived => Change::NeverReceived {
            state: rules::settle(
                job.state,
                job.cancel_requested,
                false,
                job.drive_list.iter().map(|d| never_received(d.state)),
            ),
        },
    };
    Event { at: deadline.at, job: job.name.clone(), change }
}

/// R-UPDATE-1 to R-UPDATE-6: an update is checked whole before anything changes. The list of
/// fields first (without it there is no state to ask about), then each field against the job's
/// state, in the order named, then the request's drives.
fn update(
    job: &Job,
    policy: &Policy,
    operation: Operation,
    fields: &[UpdateField],
    drives: &[DriveId],
    delivery_package: Option<&PackageInfo>,
) -> Result<Change, Error> {
    if fields.is_empty() {
        return Err(invalid(operation, Problem::NoUpdateField));
    }
    for (i, field) in fields.iter().enumerate() {
        if fields[..i].contains(field) {
            return Err(invalid(operation, Problem::DuplicateUpdateField { field: *field }));
        }
    }
    for field in fields {
        rules::may(job, policy, Act::Update(*field)).map_err(|rule| Error::UpdateNotAllowed {
            job: job.name.clone(),
            state: job.state,
            field: *field,
            rule,
        })?;
    }
    if fields.contains(&UpdateField::DriveList) {
        // R-UPDATE-4: the checks of `create` for an import job's drives.
        check_drive_list(operation, drives)?;
        if drives.is_empty() {
            return Err(invalid(operation, Problem::NoDrives));
        }
    } else if !drives.is_empty() {
        return Err(invalid(operation, Problem::DrivesWithoutDriveList));
    }
    match delivery_package {
        // R-UPDATE-2: the package's new description comes with the field that names it.
        Some(_) if !fields.contains(&UpdateField::DeliveryPackage) => {
            return Err(invalid(operation, Problem::PackageWithoutDeliveryPackage));
        }
        Some(package) if package.is_empty() => return Err(invalid(operation, Problem::EmptyPackage)),
        Some(_) | None => {}
    }
    Ok(Change::Updated {
        fields: fields.to_vec(),
        drives: drives.to_vec(),
        delivery_package: delivery_package.cloned(),
    })
}

fn drive_states(job: &Job) -> impl Iterator<Item = DriveState> + '_ {
    job.drive_list.iter().map(|d| d.state)
}

/// The state the job settles in once drive `id` is in `new` (R-FLOW-3, R-FLOW-5, R-CANCEL-8).
fn settle_with(job: &Job, id: &DriveId, new: DriveState) -> JobState {
    let drives = job.drive_list.iter().map(|d| if &d.drive_id == id { new } else { d.state });
    rules::settle(job.state, job.cancel_requested, false, drives)
}

/// Finds drive `id` of the job and checks it is in state `wanted`; returns the job's own copy of
/// the id (so events share it) and the drive's byte count.
fn drive_in<'j>(
    job: &'j Job,
    operation: Operation,
    id: &DriveId,
    wanted: DriveState,
    rule: Rule,
) -> Result<(&'j DriveId, u64), Error> {
    let Some(drive) = job.drive_list.iter().find(|d| &d.drive_id == id) else {
        return Err(drive_not_found(job, operation, id));
    };
    if drive.state != wanted {
        return Err(Error::InvalidStateTransition {
            operation,
            job: job.name.clone(),
            state: job.state,
            drive: Some((drive.drive_id.clone(), drive.state)),
            rule,
        });
    }
    Ok((&drive.drive_id, drive.bytes_succeeded))
}

fn drive_not_found(job: &Job, operation: Operation, id: &DriveId) -> Error {
    Error::DriveNotFound { operation, job: job.name.clone(), state: job.state, drive: id.clone() }
}

fn invalid(operation: Operation, problem: Problem) -> Error {
    Error::InvalidRequest { operation, problem }
}

/// R-INPUT-1: at most ten drives, no id twice.
fn check_drive_list(operation: Operation, drives: &[DriveId]) -> Result<(), Error> {
    if drives.len() > MAX_DRIVES {
        return Err(invalid(operation, Problem::TooManyDrives { count: drives.len() }));
    }
    for (i, id) in drives.iter().enumerate() {
        if drives[..i].contains(id) {
            return Err(invalid(operation, Problem::DuplicateDrive { drive: id.clone() }));
        }
    }
    Ok(())
}
