//! The lifecycle's decisions, each in one function: which state accepts which operation, where
//! a job stands after its drives changed, how it ends, and when its timer fires.
//!
//! Every function here is pure and total. The operations ([`decide`](crate::decide)) and the
//! capability flags ([`Job::capabilities`](crate::Job::capabilities)) both ask these functions,
//! so what a job says it allows is what it does.

use jiff::Timestamp;

use crate::job::Job;
use crate::policy::{CancelWindow, Policy};
use crate::rule::Rule;
use crate::state::{DriveState, JobState};
use crate::timer::{Deadline, Timer};

/// R-CANCEL-1, R-CANCEL-2 (and R-CANCEL-3: an accepting state accepts again): may this job be
/// cancelled now? `Err` holds the rule that refuses it.
pub(crate) fn cancel(job: &Job, policy: &Policy) -> Result<(), Rule> {
    let window_open = match job.state {
        JobState::Packaging | JobState::Completed | JobState::Closed => return Err(Rule::Cancel2),
        JobState::Creating => true,
        JobState::Shipping => match policy.cancel_window {
            CancelWindow::BeforePackaging | CancelWindow::CreatingOrShipping => true,
            CancelWindow::CreatingOnly => false,
        },
        JobState::Received | JobState::Transferring => match policy.cancel_window {
            CancelWindow::BeforePackaging => true,
            CancelWindow::CreatingOrShipping | CancelWindow::CreatingOnly => false,
        },
    };
    if window_open { Ok(()) } else { Err(Rule::Cancel1) }
}

/// R-DELETE-1, R-DELETE-2: may a job in this state be deleted?
pub(crate) fn delete(state: JobState) -> Result<(), Rule> {
    match state {
        JobState::Creating | JobState::Completed | JobState::Closed => Ok(()),
        JobState::Shipping | JobState::Received | JobState::Transferring | JobState::Packaging => {
            Err(Rule::Delete2)
        }
    }
}

/// R-FLOW-1: may a job in this state be marked `Shipping`?
pub(crate) fn ship(state: JobState) -> Result<(), Rule> {
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

/// R-TIMER-1, R-TIMER-2, R-TIMER-3, R-TIMER-5: the job's pending timer, if any. It counts from
/// the instant the job entered its state; a deadline past the end of time never comes.
pub(crate) fn deadline(job: &Job, policy: &Policy) -> Option<Deadline> {
    let (timer, period) = match job.state {
        JobState::Creating => (Timer::CreatingExpired, policy.creating_expiry()),
        JobState::Shipping if !job.package_overdue => (Timer::NeverReceived, policy.shipping_expiry()),
        JobState::Completed | JobState::Closed => (Timer::RetentionExpired, policy.retention()),
        JobState::Shipping | JobState::Received | JobState::Transferring | JobState::Packaging => {
            return None;
        }
    };
    let at = job.state_entered_at.checked_add(period).ok()?;
    Some(Deadline { at, job: job.name.clone(), timer })
}
