//! The lifecycle's decisions, each in one function: which state accepts which operation, where
//! a job stands after its drives changed, how it ends, and when its timer fires.
//!
//! Every function here is pure and total. Whether something may happen to a job now, and if
//! not which rule refuses it, is answered by one function, [`may`]: deciding a command
//! ([`decide`](crate::lifecycle::decide)), the capability flags
//! ([`Job::capabilities`](crate::Job::capabilities)) and the ARM layer's preconditions
//! ([`ship_with`]) all ask it, so what a job says it allows is what it does.

use jiff::Timestamp;

use crate::model::error::{Error, Operation, Problem};
use crate::model::job::Job;
use crate::model::policy::{CancelWindow, Policy};
use crate::model::rule::Rule;
use crate::model::state::{DriveState, JobState, JobType};
use crate::model::timer::{Deadline, Timer};
use crate::model::update::UpdateField;

/// What may be asked of a job that exists, as far as its state (and the policy) decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Act {
    /// Mark the job `Shipping` (R-FLOW-1).
    Ship,
    /// Change one field (R-UPDATE-1 to R-UPDATE-5).
    Update(UpdateField),
    /// Cancel (R-CANCEL-1, R-CANCEL-2).
    Cancel,
    /// Delete (R-DELETE-1, R-DELETE-2).
    Delete,
    /// Receive the package (R-FLOW-2).
    ReceivePackage,
    /// Start copying a drive (R-FLOW-3, then R-CANCEL-7).
    StartTransfer,
    /// Ship the drives back (R-FLOW-6).
    ShipBack,
}

/// The one answer to "may `act` happen to `job` now, and if not, which rule refuses it". The
/// checks of one drive (R-FLOW-3, R-FLOW-4) and of the request's shape come after this one
/// (see `docs/spec.md`, *Which refusal wins*).
pub(crate) fn may(job: &Job, policy: &Policy, act: Act) -> Result<(), Rule> {
    match act {
        Act::Ship => ship(job.state),
        Act::Update(field) => update(job, field),
        Act::Cancel => cancel(job, policy),
        Act::Delete => delete(job.state),
        Act::ReceivePackage => match job.state {
            JobState::Shipping => Ok(()),
            JobState::Creating
            | JobState::Received
            | JobState::Transferring
            | JobState::Packaging
            | JobState::Completed
            | JobState::Closed => Err(Rule::Flow2),
        },
        Act::StartTransfer => match job.state {
            JobState::Received | JobState::Transferring if job.cancel_requested => Err(Rule::Cancel7),
            JobState::Received | JobState::Transferring => Ok(()),
            JobState::Creating
            | JobState::Shipping
            | JobState::Packaging
            | JobState::Completed
            | JobState::Closed => Err(Rule::Flow3),
        },
        Act::ShipBack => match job.state {
            JobState::Packaging => Ok(()),
            JobState::Creating
            | JobState::Shipping
            | JobState::Received
            | JobState::Transferring
            | JobState::Completed
            | JobState::Closed => Err(Rule::Flow6),
        },
    }
}

/// R-FLOW-8: the fields a job must have, given in the request that ships it or an earlier one,
/// to be marked `Shipping` through *Update Job*, in the order they are checked.
pub(crate) const NEEDED_TO_SHIP: [UpdateField; 2] =
    [UpdateField::ReturnAddress, UpdateField::DeliveryPackage];

/// R-FLOW-1, then R-FLOW-8: may the job be marked `Shipping` now, given the fields `known` of
/// it? The state first: a job that may not ship is refused by its state whatever the request
/// names; then each field of [`NEEDED_TO_SHIP`], in order. `Err` names the rule and, for
/// R-FLOW-8, the field that is missing.
pub(crate) fn ship_with(
    job: &Job,
    policy: &Policy,
    known: &[UpdateField],
) -> Result<(), (Rule, Option<UpdateField>)> {
    may(job, policy, Act::Ship).map_err(|rule| (rule, None))?;
    match NEEDED_TO_SHIP.into_iter().find(|field| !known.contains(field)) {
        Some(missing) => Err((Rule::Flow8, Some(missing))),
        None => Ok(()),
    }
}

/// R-CANCEL-1, R-CANCEL-2 (and R-CANCEL-3: an accepting state accepts again): may this job be
/// cancelled now? `Err` holds the rule that refuses it.
fn cancel(job: &Job, policy: &Policy) -> Result<(), Rule> {
    match job.state {
        JobState::Packaging | JobState::Completed | JobState::Closed => Err(Rule::Cancel2),
        JobState::Creating | JobState::Shipping | JobState::Received | JobState::Transferring => {
            if cancel_window_holds(policy, job.state) {
                Ok(())
            } else {
                Err(Rule::Cancel1)
            }
        }
    }
}

/// R-CANCEL-1: the policy's cancel window holds `state`.
pub(crate) fn cancel_window_holds(policy: &Policy, state: JobState) -> bool {
    match state {
        JobState::Packaging | JobState::Completed | JobState::Closed => false,
        JobState::Creating => true,
        JobState::Shipping => match policy.cancel_window {
            CancelWindow::BeforePackaging | CancelWindow::CreatingOrShipping => true,
            CancelWindow::CreatingOnly => false,
        },
        JobState::Received | JobState::Transferring => match policy.cancel_window {
            CancelWindow::BeforePackaging => true,
            CancelWindow::CreatingOrShipping | CancelWindow::CreatingOnly => false,
        },
    }
}

/// R-DELETE-1, R-DELETE-2: may a job in this state be deleted?
fn delete(state: JobState) -> Result<(), Rule> {
    match state {
        JobState::Creating | JobState::Completed | JobState::Closed => Ok(()),
        JobState::Shipping | JobState::Received | JobState::Transferring | JobState::Packaging => {
            Err(Rule::Delete2)
        }
    }
}

/// R-FLOW-1: may a job in this state be marked `Shipping`?
fn ship(state: JobState) -> Result<(), Rule> {
    match state {
        JobState::Creating => Ok(()),
        JobState::Shipping
        | JobState::Received
        | JobState::Transferring
        | JobState::Packaging
        | JobState::Completed
        | JobState::Closed => Err(Rule::Flow1),
    }
}

/// R-UPDATE-1 to R-UPDATE-5: may this field of this job change now? `Err` holds the rule that
/// refuses it. The drive list's own checks (those of `create`) are the request's, not the
/// state's, and are made when the update is decided.
fn update(job: &Job, field: UpdateField) -> Result<(), Rule> {
    use JobState::{Closed, Completed, Creating, Packaging, Received, Shipping, Transferring};
    let (allowed, rule) = match (field, job.state) {
        // R-UPDATE-1: the drives go back from Packaging on; until then the return may change.
        (
            UpdateField::ReturnAddress | UpdateField::ReturnShipping,
            Creating | Shipping | Received | Transferring,
        ) => (true, Rule::Update1),
        (UpdateField::ReturnAddress | UpdateField::ReturnShipping, Packaging | Completed | Closed) => {
            (false, Rule::Update1)
        }
        // R-UPDATE-2: the package the customer sends, while it is theirs or on its way.
        (UpdateField::DeliveryPackage, Creating | Shipping) => (true, Rule::Update2),
        (UpdateField::DeliveryPackage, Received | Transferring | Packaging | Completed | Closed) => {
            (false, Rule::Update2)
        }
        // R-UPDATE-3: how the copy runs, before it starts.
        (UpdateField::LogLevel | UpdateField::BackupDriveManifest, Creating | Shipping | Received) => {
            (true, Rule::Update3)
        }
        (
            UpdateField::LogLevel | UpdateField::BackupDriveManifest,
            Transferring | Packaging | Completed | Closed,
        ) => (false, Rule::Update3),
        // R-UPDATE-4: the drives are named before they are shipped, and only an import names them.
        (UpdateField::DriveList, Creating) => (job.job_type == JobType::Import, Rule::Update4),
        (UpdateField::DriveList, Shipping | Received | Transferring | Packaging | Completed | Closed) => {
            (false, Rule::Update4)
        }
        // R-UPDATE-5
        (
            UpdateField::Tags,
            Creating | Shipping | Received | Transferring | Packaging | Completed | Closed,
        ) => (true, Rule::Update5),
    };
    if allowed { Ok(()) } else { Err(rule) }
}

/// Where a job that is not yet in `Packaging` stands, given its drives (R-FLOW-2, R-FLOW-3,
/// R-FLOW-5, R-CANCEL-5, R-CANCEL-8, R-CANCEL-9):
///
/// - still waiting for its package: `Shipping`;
/// - a drive is copying: `Transferring`;
/// - not cancelled and a drive waits to be copied: `Received`, or `Transferring` once some
///   drive has been copied;
/// - otherwise, something is at the datacenter: `Packaging`;
/// - otherwise (nothing arrived and nothing will): `Completed` if cancelled, else the job stays
///   where it is and waits for the operators.
pub(crate) fn settle(
    state: JobState,
    cancel_requested: bool,
    awaiting_package: bool,
    drives: impl IntoIterator<Item = DriveState>,
) -> JobState {
    if awaiting_package {
        return JobState::Shipping;
    }
    let (mut copying, mut waiting, mut copied, mut at_datacenter) = (false, false, false, false);
    for drive in drives {
        match drive {
            DriveState::Transferring => copying = true,
            DriveState::Received => waiting = true,
            DriveState::Completed | DriveState::CompletedMoreInfo => copied = true,
            DriveState::Specified | DriveState::NeverReceived | DriveState::ShippedBack => {}
        }
        at_datacenter |= drive.is_at_datacenter();
    }
    if copying {
        JobState::Transferring
    } else if waiting && !cancel_requested {
        if copied { JobState::Transferring } else { JobState::Received }
    } else if at_datacenter {
        JobState::Packaging
    } else if cancel_requested {
        JobState::Completed
    } else {
        state
    }
}

/// R-FLOW-6, R-CANCEL-8: the state a job in `Packaging` ends in when its drives are shipped
/// back. A cancelled job ends `Completed` whatever its drives went through; any other job ends
/// `Completed` only if every drive completed cleanly (a drive that never arrived, or copied with
/// errors, makes it `Closed`).
pub(crate) fn ship_back(cancel_requested: bool, drives: impl IntoIterator<Item = DriveState>) -> JobState {
    let clean = drives.into_iter().all(|d| match d {
        DriveState::Completed => true,
        DriveState::Specified
        | DriveState::Received
        | DriveState::NeverReceived
        | DriveState::Transferring
        | DriveState::CompletedMoreInfo
        | DriveState::ShippedBack => false,
    });
    if cancel_requested || clean { JobState::Completed } else { JobState::Closed }
}

/// R-CLOCK-1: the instant a command acts on `job` when the caller says `now`. A job's history
/// never goes backwards, so an earlier `now` counts as the job's last recorded instant.
pub(crate) fn instant(job: &Job, now: Timestamp) -> Timestamp {
    now.max(job.updated_at)
}

/// R-TIMER-1, R-TIMER-2, R-TIMER-3, R-TIMER-5, R-TIMER-6, R-UPDATE-7: the job's pending timer,
/// if any; a deadline past the end of time never comes.
///
/// The timers of `Shipping` and of the finished states count from the instant the job entered
/// its state. The `Creating` clock counts from the job's last recorded instant, `updatedAt`: in
/// `Creating` the only events that keep the job there are accepted updates, so that instant is
/// its last accepted update, or its creation (R-UPDATE-7). The operators' close counts from the
/// end of the shipping period, when the package became overdue (R-TIMER-6).
///
/// R-POLICY-1: a deadline that the policy puts at or before the job's last recorded instant (a
/// policy changed since the job was stored, say a shorter retention) fires at that instant, so
/// the job's history never runs backwards. Under the policy a job was stored with, its deadline
/// is never before that instant (R-TIMER-4), and this changes nothing.
pub(crate) fn deadline(job: &Job, policy: &Policy) -> Option<Deadline> {
    let pending = pending(job, policy)?;
    Some(Deadline { at: pending.at.max(job.updated_at), job: job.name.clone(), timer: pending.timer })
}

/// A job's pending timer: which one, the instant its period counts from, and when it fires.
pub(crate) struct Pending {
    /// Which timer.
    pub(crate) timer: Timer,
    /// The instant its period started (its deadline when the period is zero days).
    pub(crate) since: Timestamp,
    /// The instant it fires.
    pub(crate) at: Timestamp,
}

/// The job's pending timer (see [`deadline`]), with the instant it counts from; `None` when no
/// timer is pending or its deadline is past the end of time.
pub(crate) fn pending(job: &Job, policy: &Policy) -> Option<Pending> {
    let (timer, since, period) = match job.state {
        JobState::Creating => (Timer::CreatingExpired, job.updated_at, policy.creating_expiry()),
        JobState::Shipping if !job.package_overdue => {
            (Timer::NeverReceived, job.state_entered_at(), policy.shipping_expiry())
        }
        JobState::Shipping => {
            (Timer::OverdueClosed, overdue_at(job.state_entered_at(), policy)?, policy.overdue_close()?)
        }
        JobState::Completed | JobState::Closed => {
            (Timer::RetentionExpired, job.state_entered_at(), policy.retention())
        }
        JobState::Received | JobState::Transferring | JobState::Packaging => return None,
    };
    Some(Pending { timer, since, at: after(since, period)? })
}

/// R-TIMER-2: the instant a package sent at `shipped` (the job marked `Shipping`) becomes
/// overdue: the end of the shipping period.
pub(crate) fn overdue_at(shipped: Timestamp, policy: &Policy) -> Option<Timestamp> {
    after(shipped, policy.shipping_expiry())
}

/// R-TIMER-6: the instant the operators close a job marked `Shipping` at `shipped` whose
/// package never came; `None` if they never do.
pub(crate) fn overdue_closed_at(shipped: Timestamp, policy: &Policy) -> Option<Timestamp> {
    after(overdue_at(shipped, policy)?, policy.overdue_close()?)
}

/// `from + period`, or `None` past the end of the time type (R-TIMER-5).
fn after(from: Timestamp, period: jiff::SignedDuration) -> Option<Timestamp> {
    from.checked_add(period).ok()
}

impl Job {
    /// The next timer of this job, if one is pending (see [`Deadline`]).
    pub fn next_deadline(&self, policy: &Policy) -> Option<Deadline> {
        deadline(self, policy)
    }

    /// Whether the job may be marked `Shipping` now by a host that requires its details first,
    /// as the ARM API's *Update Job* does: R-FLOW-1 (the state), then R-FLOW-8 (a
    /// `returnAddress`, then a `deliveryPackage`, among the fields `known` of the job, from the
    /// request or an earlier one). The core's [`Command::Ship`](crate::Command::Ship) itself
    /// needs no details; this is the check a host adds before sending it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidStateTransition`] naming R-FLOW-1 when the job's state refuses a
    /// shipment (whatever is known), else [`Error::InvalidRequest`] with
    /// [`Problem::ShipNeeds`] naming the first missing field (R-FLOW-8).
    pub fn may_ship_with(&self, policy: &Policy, known: &[UpdateField]) -> Result<(), Error> {
        ship_with(self, policy, known).map_err(|(rule, missing)| match missing {
            Some(field) => {
                Error::InvalidRequest { operation: Operation::Ship, problem: Problem::ShipNeeds { field } }
            }
            None => Error::InvalidStateTransition {
                operation: Operation::Ship,
                job: self.name.clone(),
                state: self.state,
                drive: None,
                rule,
            },
        })
    }
}
