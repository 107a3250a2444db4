//! What is true of every job, whatever happened to it. Written apart from the rules that move
//! jobs, so that checking one against the other means something.

use crate::job::{Job, MAX_DRIVES};
use crate::state::{DriveState, JobState, JobType};

/// The phrase of the broken history invariant (R-STAGE-1), also used when a stored job's
/// `createdAt` or `stateEnteredAt` disagrees with its stages.
pub(crate) const STAGES_BROKEN: &str = "its stages are not its history (Creating at createdAt, forward in order, ending in its state at stateEnteredAt)";

/// Checks every invariant of `job`; the error says which one is broken.
pub(crate) fn check(job: &Job) -> Result<(), String> {
    let fail = |what: &str| Err(format!("job '{}' in state {}: {what}", job.name, job.state));
    let drives = &job.drive_list;
    if drives.len() > MAX_DRIVES {
        return fail("more than ten drives");
    }
    for (i, d) in drives.iter().enumerate() {
        if drives[..i].iter().any(|e| e.drive_id == d.drive_id) {
            return fail("a drive id appears twice");
        }
    }
    if !(job.created_at() <= job.state_entered_at() && job.state_entered_at() <= job.updated_at) {
        return fail("its instants are out of order (createdAt <= stateEnteredAt <= updatedAt)");
    }
    // R-STAGE-1: the history starts with Creating at the creation, moves forward one state at a
    // time, never back in time, and ends with the job's state as it entered it.
    let stages = &job.stages;
    let first_ok = stages.first().is_some_and(|s| s.stage_name == JobState::Creating);
    let last_ok = stages.last().is_some_and(|s| s.stage_name == job.state);
    let forward = stages
        .windows(2)
        .all(|w| w[0].stage_name.step() < w[1].stage_name.step() && w[0].stage_time <= w[1].stage_time);
    if !(first_ok && last_ok && forward) {
        return fail(STAGES_BROKEN);
    }
    let count = |pred: fn(DriveState) -> bool| drives.iter().filter(|d| pred(d.state)).count();
    let all = |pred: fn(DriveState) -> bool| count(pred) == drives.len();
    let any = |pred: fn(DriveState) -> bool| count(pred) > 0;
    let arrived = job.state.step() >= JobState::Received.step() && any(|s| s != DriveState::Specified);
    match job.job_type {
        JobType::Import if drives.is_empty() => return fail("an import job without drives"),
        JobType::Export if !drives.is_empty() && !arrived => {
            return fail("an export job with drives before its package");
        }
        JobType::Import | JobType::Export => {}
    }
    // An overdue package is waited for in Shipping; the job keeps the flag if it ends without it:
    // cancelled (Completed) or closed by the operators with no drive ever received (Closed).
    let none_arrived = drives.iter().all(|d| d.state == DriveState::NeverReceived);
    if job.package_overdue
        && !(job.state == JobState::Shipping
            || (job.state == JobState::Completed && job.cancel_requested)
            || (job.state == JobState::Closed && !job.cancel_requested && none_arrived))
    {
        return fail("its package is overdue outside Shipping");
    }
    let ok = match job.state {
        JobState::Creating => !job.cancel_requested && all(|s| s == DriveState::Specified),
        JobState::Shipping => {
            if job.package_overdue {
                all(|s| s == DriveState::NeverReceived)
            } else {
                all(|s| s == DriveState::Specified)
            }
        }
        JobState::Received => {
            !job.cancel_requested
                && all(|s| matches!(s, DriveState::Received | DriveState::NeverReceived))
                && any(|s| s == DriveState::Received)
        }
        JobState::Transferring => {
            let copying = any(|s| s == DriveState::Transferring);
            let started = any(|s| {
                matches!(s, DriveState::Transferring | DriveState::Completed | DriveState::CompletedMoreInfo)
            });
            let waiting = any(|s| s == DriveState::Received);
            all(|s| !matches!(s, DriveState::Specified | DriveState::ShippedBack))
                && (copying || (!job.cancel_requested && started && waiting))
        }
        JobState::Packaging => {
            all(|s| !matches!(s, DriveState::Specified | DriveState::Transferring | DriveState::ShippedBack))
                && any(|s| s.is_at_datacenter())
                && (job.cancel_requested || !any(|s| s == DriveState::Received))
        }
        JobState::Completed | JobState::Closed => {
            let nothing_left = !any(|s| s.is_at_datacenter());
            let shape = if job.cancel_requested {
                job.state == JobState::Completed
            } else if job.state == JobState::Completed {
                all(|s| s == DriveState::ShippedBack)
            } else {
                all(|s| matches!(s, DriveState::ShippedBack | DriveState::NeverReceived))
            };
            nothing_left && shape
        }
    };
    if ok { Ok(()) } else { fail("its drives or cancelRequested do not fit its state") }
}
