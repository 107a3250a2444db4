//! What is true of every job, whatever happened to it. Written apart from the rules that move
//! jobs, so that checking one against the other means something.

use crate::lifecycle::rules;
use crate::model::job::{Job, MAX_DRIVES, PackageInfo};
use crate::model::policy::Policy;

use crate::model::state::{DriveState, JobState, JobType};

/// The phrase of the broken history invariant (R-STAGE-1), also used when a stored job's
/// `createdAt` or `stateEnteredAt` disagrees with its stages.
pub(crate) const STAGES_BROKEN: &str = "its stages are not its history (Creating at createdAt, forward in order, ending in its state at stateEnteredAt)";

/// Checks every invariant of `job` that holds under any policy; the error says which one is
/// broken.
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
        if d.bytes_succeeded > 0 && !has_copied(d.state) {
            return fail("a drive that never started copying has bytesSucceeded");
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
    if job.delivery_package.as_deref().is_some_and(PackageInfo::is_empty) {
        return fail("a deliveryPackage names at least one of its details");
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
        // An export job's drives are those its package held, Received on arrival (R-FLOW-2).
        JobType::Export if any(|s| matches!(s, DriveState::Specified | DriveState::NeverReceived)) => {
            return fail("an export job's drive is one its package held: never Specified nor NeverReceived");
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
                // A cancelled job whose package never came ends Completed at once (R-CANCEL-9).
                !job.cancel_requested && all(|s| s == DriveState::NeverReceived)
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
            let shipped_back = any(|s| s == DriveState::ShippedBack)
                && all(|s| matches!(s, DriveState::ShippedBack | DriveState::NeverReceived))
                && !job.package_overdue;
            // The package never came: every drive NeverReceived (an export job has none).
            let never_came = job.package_overdue && all(|s| s == DriveState::NeverReceived);
            if job.cancel_requested {
                // Cancelled in Creating (nothing ever shipped), cancelled while its package never
                // came (R-TIMER-2), or shipped back from Packaging (R-CANCEL-8); always Completed.
                let in_creating = all(|s| s == DriveState::Specified) && !job.package_overdue;
                job.state == JobState::Completed && (in_creating || never_came || shipped_back)
            } else if job.state == JobState::Completed {
                // Every drive came, copied cleanly and went back (R-FLOW-6).
                shipped_back && all(|s| s == DriveState::ShippedBack)
            } else {
                // Shipped back with errors (R-FLOW-6), or closed by the operators once its
                // package was overdue long enough (R-TIMER-6).
                shipped_back || never_came
            }
        }
    };
    if !ok {
        return fail("its drives or cancelRequested do not fit its state");
    }
    if !job.stages.windows(2).all(|w| step_taken(job, w[0].stage_name, w[1].stage_name)) {
        return fail(STAGES_NOT_TAKEN);
    }
    // A job went through Transferring exactly when a drive started copying: in Packaging, a
    // drive copied; once shipped back, bytes copied say so (R-FLOW-3, R-FLOW-5).
    let transferred = job.stages.iter().any(|s| s.stage_name == JobState::Transferring);
    let copied = any(|s| matches!(s, DriveState::Completed | DriveState::CompletedMoreInfo));
    let evidence = match job.state {
        JobState::Packaging => transferred == copied,
        JobState::Completed | JobState::Closed => {
            transferred || drives.iter().all(|d| d.bytes_succeeded == 0)
        }
        JobState::Creating | JobState::Shipping | JobState::Received | JobState::Transferring => true,
    };
    if !evidence {
        return fail(STAGES_NOT_TAKEN);
    }
    Ok(())
}

/// The phrase of a history that takes a step the rules never take.
pub(crate) const STAGES_NOT_TAKEN: &str = "its stages take a step the rules never take";

/// Whether a job such as `job` can have gone from stage `from` straight to stage `to`: the
/// lifecycle's edges, and what each says of the job that took it (R-FLOW-1 to R-FLOW-6,
/// R-CANCEL-4, R-CANCEL-5, R-CANCEL-8, R-CANCEL-9, R-TIMER-2, R-TIMER-6).
fn step_taken(job: &Job, from: JobState, to: JobState) -> bool {
    let cancelled = job.cancel_requested;
    let overdue = job.package_overdue;
    let shipped_back = job.drive_list.iter().any(|d| d.state == DriveState::ShippedBack);
    match (from, to) {
        // Ship; a package; the first start; the last copy ends.
        (JobState::Creating, JobState::Shipping)
        | (JobState::Shipping, JobState::Received)
        | (JobState::Received, JobState::Transferring)
        | (JobState::Transferring, JobState::Packaging) => true,
        // A cancel in Creating completes the job, nothing shipped (R-CANCEL-4).
        (JobState::Creating, JobState::Completed) => cancelled && !overdue && !shipped_back,
        // A cancelled job's package arrives, or it is cancelled once arrived: nothing copies.
        (JobState::Shipping | JobState::Received, JobState::Packaging) => cancelled,
        // A cancelled job whose package never came (R-CANCEL-9); the operators close an overdue
        // one (R-TIMER-6).
        (JobState::Shipping, JobState::Completed) => cancelled && overdue,
        (JobState::Shipping, JobState::Closed) => !cancelled && overdue,
        // Ship-back (R-FLOW-6).
        (JobState::Packaging, JobState::Completed | JobState::Closed) => shipped_back,
        (
            JobState::Creating,
            JobState::Creating
            | JobState::Received
            | JobState::Transferring
            | JobState::Packaging
            | JobState::Closed,
        )
        | (JobState::Shipping, JobState::Creating | JobState::Shipping | JobState::Transferring)
        | (
            JobState::Received,
            JobState::Creating
            | JobState::Shipping
            | JobState::Received
            | JobState::Completed
            | JobState::Closed,
        )
        | (
            JobState::Transferring,
            JobState::Creating
            | JobState::Shipping
            | JobState::Received
            | JobState::Transferring
            | JobState::Completed
            | JobState::Closed,
        )
        | (
            JobState::Packaging,
            JobState::Creating
            | JobState::Shipping
            | JobState::Received
            | JobState::Transferring
            | JobState::Packaging,
        )
        | (
            JobState::Completed | JobState::Closed,
            JobState::Creating
            | JobState::Shipping
            | JobState::Received
            | JobState::Transferring
            | JobState::Packaging
            | JobState::Completed
            | JobState::Closed,
        ) => false,
    }
}

/// Checks what `policy` decides besides: the job's instants against its timers, and a
/// cancelled job against the cancel window. With [`check`], a job passes if and only if the
/// rules can reach it under `policy`.
pub(crate) fn check_under(job: &Job, policy: &Policy) -> Result<(), String> {
    check(job)?;
    let fail =
        |what: &str| Err(format!("job '{}' in state {} under its policy: {what}", job.name, job.state));
    let entered = job.state_entered_at();
    // A timer due by the job's last instant fires before anything is recorded at that instant
    // (R-TIMER-4, R-CLOCK-1); it is due at that very instant only when its period is zero days
    // and it started counting then.
    if let Some(timer) = rules::pending(job, policy) {
        let zero = timer.since == timer.at;
        if timer.at < job.updated_at || (timer.at == job.updated_at && !zero) {
            return fail("something is recorded at or after its own timer's deadline, which fires first");
        }
    }
    if job.package_overdue {
        // Overdue from the instant the job was marked Shipping + the shipping period (R-TIMER-2).
        let shipped = job.stages.iter().find(|s| s.stage_name == JobState::Shipping).map(|s| s.stage_time);
        let overdue = shipped.and_then(|shipped| rules::overdue_at(shipped, policy));
        let overdue_at = match job.state {
            JobState::Shipping => overdue.is_some_and(|at| at <= job.updated_at),
            // Cancelled during the operators' wait (R-CANCEL-9).
            JobState::Completed => overdue.is_some_and(|at| at <= entered),
            // Closed by the operators at the end of their wait, recorded then (R-TIMER-6).
            JobState::Closed => shipped
                .and_then(|shipped| rules::overdue_closed_at(shipped, policy))
                .is_some_and(|at| at == entered),
            JobState::Creating | JobState::Received | JobState::Transferring | JobState::Packaging => false,
        };
        if !overdue_at {
            return fail(
                "its package is overdue before the shipping period ended, or it is closed at another instant than the operators close it",
            );
        }
    }
    if job.cancel_requested {
        // Where the cancel was accepted, read from the history: a cancel in Shipping takes the
        // package straight to Packaging, one in Received skips Transferring, one in Creating
        // ends the job there (R-CANCEL-4, R-CANCEL-5, R-CANCEL-8).
        let seen = |state| job.stages.iter().any(|s| s.stage_name == state);
        let cancelled_in = [JobState::Transferring, JobState::Received, JobState::Shipping]
            .into_iter()
            .find(|state| seen(*state))
            .unwrap_or(JobState::Creating);
        if !rules::cancel_window_holds(policy, cancelled_in) {
            return fail("it was cancelled in a state its cancel window does not accept");
        }
    }
    Ok(())
}

/// A drive in this state may have copied bytes.
fn has_copied(state: DriveState) -> bool {
    match state {
        DriveState::Transferring
        | DriveState::Completed
        | DriveState::CompletedMoreInfo
        | DriveState::ShippedBack => true,
        DriveState::Specified | DriveState::Received | DriveState::NeverReceived => false,
    }
}

impl Job {
    /// The invariants every job of the model satisfies, whatever happened to it and under any
    /// policy (the first list of [`Job::check`]); deserializing a `Job` (and so [`Job::read`])
    /// runs this check.
    ///
    /// Crate-private: a host asks [`Job::check`], which runs this check first.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        crate::lifecycle::invariants::check(self)
    }

    /// Checks that the rules can reach this job under `policy`, the question "does some history
    /// under `policy` reach this job", for audits and tests. A job passes if and only if some
    /// history under `policy` reaches it (proved by enumeration in the tests).
    ///
    /// It holds the invariants every job holds under any policy, checked whenever a `Job` is
    /// deserialized:
    ///
    /// - at most [`MAX_DRIVES`] drives, ids unique; an import job has at least one;
    /// - `createdAt <= stateEnteredAt <= updatedAt`;
    /// - each state's drives are in the states that state allows (e.g. nothing copies in
    ///   `Packaging`, nothing is at the datacenter in `Creating`), a `Closed` job was not
    ///   cancelled, a cancelled job is never waiting for a drive to start; a finished job
    ///   shipped a drive back, unless a cancel or the operators' close (R-TIMER-6) ended it
    ///   before anything arrived;
    /// - only a drive that started copying has `bytesSucceeded`;
    /// - a job in `Creating` entered it when created; a `deliveryPackage` names at least one
    ///   detail;
    /// - its stages are its history: `Creating` at `createdAt`, forward in order, its state at
    ///   `stateEnteredAt` last (R-STAGE-1);
    ///
    /// and what the policy decides besides: no instant recorded at or after a timer that fires
    /// first (`updatedAt` before the job's own deadline), a package overdue only once the
    /// shipping period ended, a job the operators closed closed at the end of their wait, a
    /// cancel only in a state the cancel window accepts.
    ///
    /// Reading a stored record does not run the policy's part: [`Job::read`] and deserializing a
    /// `Job` check only what holds under any policy, since a policy changed since the record was
    /// written never makes it unreadable (R-POLICY-1). Deserializing a
    /// [`Registry`](crate::Registry) runs this check on every job with the registry's policy.
    ///
    /// # Errors
    ///
    /// A sentence naming the job, its state and what no history under `policy` reaches.
    pub fn check(&self, policy: &Policy) -> Result<(), String> {
        crate::lifecycle::invariants::check_under(self, policy)
    }
}
