//! The job invariants (checked whenever a `Job` is deserialized or read with `Job::read`) on jobs
//! written by hand: each broken job breaks exactly one invariant and must be refused with the
//! sentence that names it; each valid job sits on a boundary of an invariant and must be accepted.
//!
//! What is valid comes from `docs/spec.md` (the rules that make a job what it is), not from the
//! checker's code. `Job` has no public constructor, so every job here is built as the JSON the
//! crate reads and writes (see `tests/snapshots/snapshots__job_json.snap`).

mod common;

use import_export_lifecycle::{DriveState, Job, JobState, JobType, SignedDuration, Timestamp};
use serde_json::{Value, json};

use DriveState::{
    Completed as DriveCompleted, CompletedMoreInfo, NeverReceived, Received as DriveReceived, ShippedBack,
    Specified, Transferring as Copying,
};
use JobState::{Closed, Completed, Creating, Packaging, Received, Shipping, Transferring};
use JobType::{Export, Import};

/// The phrases of `src/invariants.rs`, one per invariant.
const TOO_MANY_DRIVES: &str = "more than ten drives";
const DUPLICATE_ID: &str = "a drive id appears twice";
const INSTANTS: &str = "its instants are out of order";
const IMPORT_WITHOUT_DRIVES: &str = "an import job without drives";
const EXPORT_DRIVES_EARLY: &str = "an export job with drives before its package";
const OVERDUE_OUTSIDE_SHIPPING: &str = "its package is overdue outside Shipping";
const SHAPE: &str = "its drives or cancelRequested do not fit its state";
const STAGES: &str = "its stages are not its history";

/// One hour after `common::t0()`, times `n`.
fn hours(n: i64) -> Timestamp {
    common::t0() + SignedDuration::from_hours(n)
}

/// A job's JSON, field by field: what the tests vary, with ordinary defaults for the rest.
struct JobJson {
    job_type: JobType,
    state: JobState,
    cancel_requested: bool,
    package_overdue: bool,
    drives: Vec<(String, DriveState, u64)>,
    instants: [Timestamp; 3],
    /// The stages, when a test gives them; else `Creating` at `createdAt`, then the job's state at
    /// `stateEnteredAt`.
    stages: Option<Vec<(JobState, Timestamp)>>,
}

/// A job of `job_type` in `state`, not cancelled, not overdue, without drives, created at `t0`,
/// in its state since an hour later (a `Creating` job: since its creation) and last updated an
/// hour after that.
fn job(job_type: JobType, state: JobState) -> JobJson {
    let created = if state == Creating { hours(1) } else { hours(0) };
    JobJson {
        job_type,
        state,
        cancel_requested: false,
        package_overdue: false,
        drives: Vec::new(),
        instants: [created, hours(1), hours(2)],
        stages: None,
    }
}

impl JobJson {
    fn cancelled(mut self) -> Self {
        self.cancel_requested = true;
        self
    }

    fn overdue(mut self) -> Self {
        self.package_overdue = true;
        self
    }

    /// The drives `D1`, `D2`, … in these states, with some bytes on those that copied.
    fn drives(mut self, states: &[DriveState]) -> Self {
        self.drives = states
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let bytes = match s {
                    Copying | DriveCompleted | CompletedMoreInfo | ShippedBack => 1000 * (i as u64 + 1),
                    Specified | DriveReceived | NeverReceived => 0,
                };
                (format!("D{}", i + 1), s, bytes)
            })
            .collect();
        self
    }

    /// The drives exactly as given: id, state, bytes.
    fn drive_list(mut self, drives: &[(&str, DriveState, u64)]) -> Self {
        self.drives = drives.iter().map(|&(id, s, b)| (id.to_string(), s, b)).collect();
        self
    }

    /// `createdAt`, `stateEnteredAt`, `updatedAt`.
    fn instants(mut self, created: Timestamp, entered: Timestamp, updated: Timestamp) -> Self {
        self.instants = [created, entered, updated];
        self
    }

    /// The stages exactly as given.
    fn stages(mut self, stages: &[(JobState, Timestamp)]) -> Self {
        self.stages = Some(stages.to_vec());
        self
    }

    fn to_json(&self) -> Value {
        let drives: Vec<Value> = self
            .drives
            .iter()
            .map(|(id, state, bytes)| json!({ "driveId": id, "state": state, "bytesSucceeded": bytes }))
            .collect();
        let [created, entered, updated] = self.instants;
        let stages = self.stages.clone().unwrap_or_else(|| {
            // The history the rules take to such a job: the states on the way at `createdAt`,
            // its own at `stateEnteredAt`.
            let copied =
                self.drives.iter().any(|(_, s, b)| *b > 0 || matches!(s, DriveCompleted | CompletedMoreInfo));
            let nothing_shipped = self.drives.iter().all(|(_, s, _)| *s == Specified);
            let way: &[JobState] = match self.state {
                Creating => &[],
                Shipping | Received | Transferring => &[Creating, Shipping, Received, Transferring],
                Packaging if copied || !self.cancel_requested => {
                    &[Creating, Shipping, Received, Transferring]
                }
                Packaging => &[Creating, Shipping],
                Completed | Closed if self.cancel_requested && nothing_shipped && !self.package_overdue => {
                    &[Creating]
                }
                Completed | Closed if self.package_overdue => &[Creating, Shipping],
                Completed | Closed if copied || !self.cancel_requested => {
                    &[Creating, Shipping, Received, Transferring, Packaging]
                }
                Completed | Closed => &[Creating, Shipping, Packaging],
            };
            let mut stages: Vec<(JobState, Timestamp)> = std::iter::once(Creating)
                .chain(way.iter().copied().filter(|s| *s != Creating))
                .take_while(|s| s.step() < self.state.step())
                .map(|s| (s, created))
                .collect();
            stages.push((self.state, entered));
            if self.state == Creating {
                stages.truncate(1);
            }
            stages
        });
        let stages: Vec<Value> =
            stages.iter().map(|(name, time)| json!({ "stageName": name, "stageTime": time })).collect();
        json!({
            "formatVersion": 1,
            "name": "job-1",
            "jobType": self.job_type,
            "state": self.state,
            "cancelRequested": self.cancel_requested,
            "driveList": drives,
            "packageOverdue": self.package_overdue,
            "stages": stages,
            "createdAt": created,
            "stateEnteredAt": entered,
            "updatedAt": updated,
        })
    }

    /// The job must deserialize: deserializing checks every invariant.
    #[track_caller]
    fn accepted(&self) {
        let json = self.to_json();
        if let Err(e) = serde_json::from_value::<Job>(json.clone()) {
            panic!("a valid job was refused: {e}\n{json:#}");
        }
    }

    /// The job must be refused, and the error must name the broken invariant.
    #[track_caller]
    fn refused(&self, invariant: &str) {
        let json = self.to_json();
        match serde_json::from_value::<Job>(json.clone()) {
            Ok(job) => panic!("a job breaking \"{invariant}\" was accepted: {job:?}\n{json:#}"),
            Err(e) => assert!(
                e.to_string().contains(invariant),
                "refused for another reason than \"{invariant}\": {e}\n{json:#}"
            ),
        }
    }
}

#[test]
fn a_job_holds_at_most_ten_drives() {
    job(Import, Creating).drives(&[Specified; 10]).accepted();
    job(Import, Creating).drives(&[Specified; 11]).refused(TOO_MANY_DRIVES);
    job(Export, Received).drives(&[DriveReceived; 10]).accepted();
    job(Export, Received).drives(&[DriveReceived; 11]).refused(TOO_MANY_DRIVES);
}

#[test]
fn a_jobs_drive_ids_are_unique() {
    job(Import, Creating).drive_list(&[("D1", Specified, 0), ("D2", Specified, 0)]).accepted();
    job(Import, Creating).drive_list(&[("D1", Specified, 0), ("D1", Specified, 0)]).refused(DUPLICATE_ID);
    let far_apart = [("D1", Specified, 0), ("D2", Specified, 0), ("D3", Specified, 0), ("D1", Specified, 0)];
    job(Import, Creating).drive_list(&far_apart).refused(DUPLICATE_ID);
}

#[test]
fn created_at_state_entered_at_and_updated_at_never_go_backwards() {
    let ns = SignedDuration::from_nanos(1);
    let t = hours(5);
    let creating = || job(Import, Shipping).drives(&[Specified]);
    creating().instants(t, t, t).accepted();
    creating().instants(t - ns, t, t + ns).accepted();
    // Entered before it was created, though before its last update.
    creating().instants(t, t - ns, t).refused(INSTANTS);
    // Updated before it entered its state, though entered after it was created.
    creating().instants(t, t, t - ns).refused(INSTANTS);
    creating().instants(t - ns, t + ns, t).refused(INSTANTS);
}

#[test]
fn an_import_job_has_drives_and_an_export_job_has_none_until_its_package_arrives() {
    // An import job names its drives at creation (R-INPUT-1).
    job(Import, Creating).refused(IMPORT_WITHOUT_DRIVES);
    job(Import, Creating).drives(&[Specified]).accepted();
    // An export job starts with none, and the package adds them as Received (R-FLOW-2).
    job(Export, Creating).accepted();
    job(Export, Shipping).accepted();
    job(Export, Shipping).overdue().accepted();
    job(Export, Creating).drives(&[Specified]).refused(EXPORT_DRIVES_EARLY);
    job(Export, Shipping).drives(&[Specified]).refused(EXPORT_DRIVES_EARLY);
    // The shipping expiry has no drive of an export job to mark NeverReceived.
    job(Export, Shipping).overdue().drives(&[NeverReceived]).refused(EXPORT_DRIVES_EARLY);
    // A cancel before the package ends it with no drives; drives it never received cannot be there.
    job(Export, Completed).cancelled().accepted();
    job(Export, Completed).cancelled().drives(&[Specified]).refused(EXPORT_DRIVES_EARLY);
    // Once the package arrived, the export job has its drives in every later state.
    job(Export, Received).drives(&[DriveReceived, DriveReceived]).accepted();
    job(Export, Transferring).drives(&[Copying, DriveReceived]).accepted();
    job(Export, Packaging).drives(&[DriveCompleted, CompletedMoreInfo]).accepted();
    job(Export, Completed).drives(&[ShippedBack]).accepted();
    job(Export, Closed).drives(&[ShippedBack, ShippedBack]).accepted();
    job(Export, Completed).cancelled().drives(&[ShippedBack]).accepted();
}

#[test]
fn an_export_jobs_drives_are_the_ones_its_package_held() {
    const HELD: &str = "an export job's drive is one its package held";
    job(Export, Received).drives(&[DriveReceived, DriveReceived]).accepted();
    // An import job's listed drive the package lacked is NeverReceived; an export job has none.
    job(Import, Received).drives(&[DriveReceived, NeverReceived]).accepted();
    job(Export, Received).drives(&[DriveReceived, NeverReceived]).refused(HELD);
    job(Export, Transferring).drives(&[Copying, NeverReceived]).refused(HELD);
    job(Export, Completed).cancelled().drives(&[ShippedBack, Specified]).refused(HELD);
}

#[test]
fn a_delivery_package_names_at_least_one_detail() {
    const EMPTY: &str = "a deliveryPackage names at least one of its details";
    let with = |package: Value| {
        let mut json = job(Import, Shipping).drives(&[Specified]).to_json();
        json["deliveryPackage"] = package;
        serde_json::from_value::<Job>(json)
    };
    with(json!({ "carrierName": "UPS" })).unwrap();
    with(json!({ "trackingNumber": "1Z" })).unwrap();
    with(json!({ "driveCount": 1 })).unwrap();
    with(json!({ "shipDate": "2026-01-05" })).unwrap();
    let e = with(json!({})).unwrap_err().to_string();
    assert!(e.contains(EMPTY), "{e}");
}

#[test]
fn a_package_is_overdue_only_in_shipping_or_in_the_job_a_cancel_or_the_operators_ended_while_overdue() {
    // R-TIMER-2: the drives become NeverReceived and the job waits in Shipping.
    job(Import, Shipping).overdue().drives(&[NeverReceived, NeverReceived]).accepted();
    // A cancelled job whose package never came does not wait: it is Completed at once, whether
    // the cancel or the timer came first (R-CANCEL-9).
    job(Import, Shipping).overdue().cancelled().drives(&[NeverReceived]).refused(SHAPE);
    // A cancel then ends it in Completed, and it keeps the flag (R-CANCEL-9, R-TIMER-2).
    job(Import, Completed).cancelled().overdue().drives(&[NeverReceived, NeverReceived]).accepted();
    // A late package clears the flag: no later state has it, cancelled or not.
    job(Import, Creating).overdue().drives(&[Specified]).refused(OVERDUE_OUTSIDE_SHIPPING);
    job(Import, Received).overdue().drives(&[DriveReceived, NeverReceived]).refused(OVERDUE_OUTSIDE_SHIPPING);
    job(Import, Transferring).overdue().drives(&[Copying]).refused(OVERDUE_OUTSIDE_SHIPPING);
    let cancelled_copying = job(Import, Transferring).cancelled().overdue().drives(&[Copying, DriveReceived]);
    cancelled_copying.refused(OVERDUE_OUTSIDE_SHIPPING);
    job(Import, Packaging).overdue().drives(&[DriveCompleted]).refused(OVERDUE_OUTSIDE_SHIPPING);
    job(Import, Packaging).cancelled().overdue().drives(&[DriveReceived]).refused(OVERDUE_OUTSIDE_SHIPPING);
    // The operators close a job whose package never came: Closed, every drive NeverReceived,
    // the flag kept (R-TIMER-6).
    job(Import, Closed).overdue().drives(&[NeverReceived, NeverReceived]).accepted();
    job(Export, Closed).overdue().accepted();
    // Otherwise only a cancel ends a job without its package: a Completed job that was not
    // cancelled, or a Closed one with a drive shipped back, got its package.
    job(Import, Completed).overdue().drives(&[ShippedBack]).refused(OVERDUE_OUTSIDE_SHIPPING);
    job(Import, Closed).overdue().drives(&[ShippedBack, NeverReceived]).refused(OVERDUE_OUTSIDE_SHIPPING);
}

#[test]
fn r_stage_1_a_job_whose_stages_are_not_its_history_is_refused() {
    let (h0, h1) = (hours(0), hours(1));
    let shipping = || job(Import, Shipping).drives(&[Specified]);
    shipping().stages(&[(Creating, h0), (Shipping, h1)]).accepted();
    let received = job(Import, Received).drives(&[DriveReceived]);
    received.stages(&[(Creating, h0), (Shipping, h0), (Received, h1)]).accepted();
    // No history, or one that does not start with Creating at the creation.
    shipping().stages(&[]).refused(STAGES);
    shipping().stages(&[(Shipping, h1)]).refused(STAGES);
    shipping().stages(&[(Creating, h1), (Shipping, h1)]).refused(STAGES);
    // One that does not end in the job's state as it entered it.
    shipping().stages(&[(Creating, h0)]).refused(STAGES);
    shipping().stages(&[(Creating, h0), (Shipping, h0)]).refused(STAGES);
    shipping().stages(&[(Creating, h0), (Shipping, h1), (Received, h1)]).refused(STAGES);
    // A state twice, a step back, or time going back.
    shipping().stages(&[(Creating, h0), (Shipping, h0), (Shipping, h1)]).refused(STAGES);
    let back = job(Import, Received).drives(&[DriveReceived]);
    back.stages(&[(Creating, h0), (Received, h0), (Shipping, h0), (Received, h1)]).refused(STAGES);
    let early = job(Import, Received).drives(&[DriveReceived]);
    early
        .stages(&[(Creating, h0), (Shipping, h1), (Received, h1 - SignedDuration::from_nanos(1))])
        .refused(STAGES);
}

#[test]
fn creating_and_shipping_jobs_hold_only_drives_not_yet_shipped() {
    job(Import, Creating).drives(&[Specified, Specified]).accepted();
    job(Import, Creating).drives(&[Specified, DriveReceived]).refused(SHAPE);
    job(Import, Creating).drives(&[NeverReceived]).refused(SHAPE);
    // A cancel in Creating completes the job at once (R-CANCEL-4).
    job(Import, Creating).cancelled().drives(&[Specified]).refused(SHAPE);
    job(Export, Creating).cancelled().refused(SHAPE);
    // A cancel in Shipping waits for the package (R-CANCEL-5).
    job(Import, Shipping).drives(&[Specified, Specified]).accepted();
    job(Import, Shipping).cancelled().drives(&[Specified, Specified]).accepted();
    job(Import, Shipping).drives(&[Specified, NeverReceived]).refused(SHAPE);
    job(Import, Shipping).drives(&[DriveReceived]).refused(SHAPE);
    // Overdue: every drive NeverReceived, none still Specified (R-TIMER-2).
    job(Import, Shipping).overdue().drives(&[NeverReceived, Specified]).refused(SHAPE);
}

#[test]
fn a_received_job_is_not_cancelled_copies_nothing_and_holds_a_received_drive() {
    // R-FLOW-2: listed drives Received, the others NeverReceived.
    job(Import, Received).drives(&[DriveReceived, NeverReceived]).accepted();
    job(Import, Received).drives(&[DriveReceived, DriveReceived]).accepted();
    // A package lists at least one drive.
    job(Import, Received).drives(&[NeverReceived, NeverReceived]).refused(SHAPE);
    // A cancel in Received sends the job to Packaging at once (R-CANCEL-8).
    job(Import, Received).cancelled().drives(&[DriveReceived, DriveReceived]).refused(SHAPE);
    // A drive that started copying makes the job Transferring (R-FLOW-3).
    job(Import, Received).drives(&[Copying, DriveReceived]).refused(SHAPE);
    job(Import, Received).drives(&[DriveCompleted, DriveReceived]).refused(SHAPE);
    job(Import, Received).drives(&[Specified, DriveReceived]).refused(SHAPE);
}

#[test]
fn a_transferring_job_is_copying_or_waits_for_a_drive_to_start_and_then_is_not_cancelled() {
    // Copying, with or without a cancel (R-CANCEL-6), with drives waiting or done.
    job(Import, Transferring).drives(&[Copying, DriveReceived]).accepted();
    job(Import, Transferring).cancelled().drives(&[Copying, DriveReceived]).accepted();
    job(Import, Transferring).drives(&[Copying, DriveCompleted, CompletedMoreInfo, NeverReceived]).accepted();
    job(Import, Transferring).cancelled().drives(&[Copying]).accepted();
    // Between two drives: one done, one waiting to start.
    job(Import, Transferring).drives(&[DriveCompleted, DriveReceived]).accepted();
    job(Import, Transferring).drives(&[CompletedMoreInfo, DriveReceived, NeverReceived]).accepted();
    // ... but after a cancel no drive starts (R-CANCEL-7): it goes to Packaging (R-CANCEL-8).
    job(Import, Transferring).cancelled().drives(&[DriveCompleted, DriveReceived]).refused(SHAPE);
    // Nothing copying and nothing left to copy: it is in Packaging (R-FLOW-5).
    job(Import, Transferring).drives(&[DriveCompleted, NeverReceived]).refused(SHAPE);
    job(Import, Transferring).drives(&[DriveCompleted, CompletedMoreInfo]).refused(SHAPE);
    // Nothing started: it is still Received (R-FLOW-3).
    job(Import, Transferring).drives(&[DriveReceived, DriveReceived]).refused(SHAPE);
    job(Import, Transferring).drives(&[DriveReceived, NeverReceived]).refused(SHAPE);
    // No drive is still on its way or already shipped back.
    job(Import, Transferring).drives(&[Copying, Specified]).refused(SHAPE);
    job(Import, Transferring).drives(&[Copying, ShippedBack]).refused(SHAPE);
}

#[test]
fn a_packaging_job_holds_drives_at_the_datacenter_none_copying_and_none_waiting_unless_cancelled() {
    job(Import, Packaging).drives(&[DriveCompleted, CompletedMoreInfo, NeverReceived]).accepted();
    // Cancelled in Received or between drives: drives never copied wait to go back (R-CANCEL-8).
    job(Import, Packaging).cancelled().drives(&[DriveReceived, DriveReceived]).accepted();
    job(Import, Packaging).cancelled().drives(&[DriveCompleted, DriveReceived, NeverReceived]).accepted();
    // Without a cancel a Received drive is still to copy (R-FLOW-5).
    job(Import, Packaging).drives(&[DriveCompleted, DriveReceived]).refused(SHAPE);
    // Nothing copies in Packaging, cancelled or not.
    job(Import, Packaging).drives(&[Copying, DriveCompleted]).refused(SHAPE);
    job(Import, Packaging).cancelled().drives(&[Copying, DriveReceived]).refused(SHAPE);
    // Nothing is shipped back or still on its way before ship-back.
    job(Import, Packaging).drives(&[ShippedBack, DriveCompleted]).refused(SHAPE);
    job(Import, Packaging).cancelled().drives(&[Specified, DriveReceived]).refused(SHAPE);
    // Something to ship back: with nothing at the datacenter a cancelled job completes directly
    // (R-CANCEL-9), and one that was not cancelled never got here.
    job(Import, Packaging).drives(&[NeverReceived, NeverReceived]).refused(SHAPE);
    job(Import, Packaging).cancelled().drives(&[NeverReceived]).refused(SHAPE);
}

#[test]
fn completed_and_closed_jobs_have_nothing_left_at_the_datacenter_and_closed_means_errors_without_a_cancel() {
    // Completed: shipped back without errors (R-FLOW-6).
    job(Import, Completed).drives(&[ShippedBack, ShippedBack]).accepted();
    job(Import, Completed).drives(&[ShippedBack, NeverReceived]).refused(SHAPE);
    // Closed: shipped back with errors; a drive that never arrived is one (R-FLOW-6).
    job(Import, Closed).drives(&[ShippedBack, ShippedBack]).accepted();
    job(Import, Closed).drives(&[ShippedBack, NeverReceived]).accepted();
    job(Import, Closed).drives(&[ShippedBack, Specified]).refused(SHAPE);
    // A cancelled job ends Completed, whatever its drives went through (R-CANCEL-4, -8, -9)...
    job(Import, Completed).cancelled().drives(&[Specified, Specified]).accepted();
    job(Import, Completed).cancelled().drives(&[ShippedBack, ShippedBack]).accepted();
    job(Import, Completed).cancelled().drives(&[ShippedBack, NeverReceived]).accepted();
    job(Import, Completed).cancelled().overdue().drives(&[NeverReceived]).accepted();
    // Its package never came only if it is overdue: a package always holds a drive.
    job(Import, Completed).cancelled().drives(&[NeverReceived]).refused(SHAPE);
    // Finished without a cancel means a drive went back: an export job had drives.
    job(Export, Completed).refused(SHAPE);
    job(Import, Closed).drives(&[NeverReceived, NeverReceived]).refused(SHAPE);
    // A cancel in Creating leaves the drives Specified; a shipped-back job has none left so.
    job(Import, Completed).cancelled().drives(&[ShippedBack, Specified]).refused(SHAPE);
    // ... never Closed (R-CANCEL-8).
    job(Import, Closed).cancelled().drives(&[ShippedBack, ShippedBack]).refused(SHAPE);
    job(Import, Closed).cancelled().drives(&[ShippedBack, NeverReceived]).refused(SHAPE);
    // Ship-back sends every drive at the datacenter back, cancelled or not.
    for at_datacenter in [DriveReceived, Copying, DriveCompleted, CompletedMoreInfo] {
        job(Import, Completed).drives(&[ShippedBack, at_datacenter]).refused(SHAPE);
        job(Import, Completed).cancelled().drives(&[ShippedBack, at_datacenter]).refused(SHAPE);
        job(Import, Closed).drives(&[ShippedBack, at_datacenter]).refused(SHAPE);
    }
}

#[test]
fn r_input_3_a_jobs_stages_take_only_the_steps_the_rules_take() {
    const NOT_TAKEN: &str = "its stages take a step the rules never take";
    let (h0, h1) = (hours(0), hours(1));
    // Finished without a cancel: shipped back from Packaging, after copying.
    let done = || job(Import, Completed).drives(&[ShippedBack]);
    done()
        .stages(&[
            (Creating, h0),
            (Shipping, h0),
            (Received, h0),
            (Transferring, h0),
            (Packaging, h0),
            (Completed, h1),
        ])
        .accepted();
    done().stages(&[(Creating, h0), (Completed, h1)]).refused(NOT_TAKEN);
    done().stages(&[(Creating, h0), (Shipping, h0), (Packaging, h0), (Completed, h1)]).refused(NOT_TAKEN);
    // A cancel in Creating completes the job there; a cancel in Shipping goes to Packaging
    // when the package comes, without Received.
    let cancelled = || job(Import, Completed).cancelled().drives(&[Specified]);
    cancelled().stages(&[(Creating, h0), (Completed, h1)]).accepted();
    cancelled().stages(&[(Creating, h0), (Shipping, h0), (Completed, h1)]).refused(NOT_TAKEN);
    let packed = || job(Import, Packaging).cancelled().drives(&[DriveReceived]);
    packed().stages(&[(Creating, h0), (Shipping, h0), (Packaging, h1)]).accepted();
    packed().stages(&[(Creating, h0), (Shipping, h0), (Received, h0), (Packaging, h1)]).accepted();
    // Through Transferring means a drive copied.
    packed()
        .stages(&[(Creating, h0), (Shipping, h0), (Received, h0), (Transferring, h0), (Packaging, h1)])
        .refused(NOT_TAKEN);
    // A cancel in Creating: nothing was shipped back, and the package was never overdue.
    let shipped_back = job(Import, Completed).cancelled().drives(&[ShippedBack]);
    shipped_back.stages(&[(Creating, h0), (Completed, h1)]).refused(NOT_TAKEN);
    let overdue = job(Import, Completed).cancelled().overdue().drives(&[NeverReceived]);
    overdue.stages(&[(Creating, h0), (Completed, h1)]).refused(NOT_TAKEN);
    // Overdue in Shipping, then cancelled: Completed from Shipping (R-CANCEL-9)...
    let waited = || job(Import, Completed).cancelled().overdue().drives(&[NeverReceived]);
    waited().stages(&[(Creating, h0), (Shipping, h0), (Completed, h1)]).accepted();
    // ... but the operators' close of an overdue job is never a cancel (R-TIMER-6), and a job
    // goes from Shipping to Closed only by that close: a shipped-back one went through Packaging.
    let closed_early = job(Import, Closed).drives(&[ShippedBack]);
    closed_early.stages(&[(Creating, h0), (Shipping, h0), (Closed, h1)]).refused(NOT_TAKEN);
    let closed = job(Import, Closed).overdue().drives(&[NeverReceived]);
    closed.stages(&[(Creating, h0), (Shipping, h0), (Closed, h1)]).accepted();
    // No state is skipped on the way to Received.
    job(Import, Received)
        .drives(&[DriveReceived])
        .stages(&[(Creating, h0), (Received, h1)])
        .refused(NOT_TAKEN);
}
