//! One Import/Export job and its drives, as the service shows them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Operation, Problem};
use crate::format::FormatVersion;
use crate::name::{DriveId, JobName};
use crate::policy::Policy;
use crate::rule::Rule;
use crate::rules::{self, Act};
use crate::state::{DriveState, JobState, JobType};
use crate::timer::Deadline;
use crate::update::UpdateField;

/// The most drives one job holds.
pub const MAX_DRIVES: usize = 10;

/// One disk drive of a job (`DriveStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Drive {
    /// The drive's id, usually its serial number.
    pub drive_id: DriveId,
    /// Where the drive is in its own lifecycle.
    pub state: DriveState,
    /// Bytes copied so far. Bytes reported after a cancel by a drive that was already copying
    /// count too (R-CANCEL-6).
    pub bytes_succeeded: u64,
}

/// The carrier and tracking number of the package the customer sent (`deliveryPackage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, remote = "Self")]
pub struct PackageInfo {
    /// The carrier's name, e.g. `FedEx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    /// The carrier's tracking number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
}

crate::strict::strict_serde!(PackageInfo);

/// One step of a job's history (`JobStages`, after Azure Data Box): a state the job entered and
/// the instant it entered it (R-STAGE-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, remote = "Self")]
pub struct Stage {
    /// The state the job entered at this step.
    pub stage_name: JobState,
    /// The instant it entered it: the instant of the event (or timer deadline) that moved it.
    #[serde(with = "crate::instant::rfc3339")]
    pub stage_time: Timestamp,
}

crate::strict::strict_serde!(Stage);

/// An Import/Export job as the model knows it: what the service would show on *Get Job*, plus
/// the instants that answer every time question without another clock read.
///
/// A `Job` is read-only to its users: it changes only by the events a
/// [`Registry`](crate::Registry) decides and applies, so its invariants (see
/// [`Job::check_invariants`]) always hold. Deserializing one checks them too.
///
/// The instant the job was created and the one it entered its state are the first and the last
/// of its stages: the JSON shows them as `createdAt` and `stateEnteredAt` as well, and reading a
/// job checks that they agree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "JobRepr")]
pub struct Job {
    /// The stored form's version, written first (see [`FORMAT_VERSION`](crate::FORMAT_VERSION)).
    pub(crate) format_version: FormatVersion,
    pub(crate) name: JobName,
    pub(crate) job_type: JobType,
    pub(crate) state: JobState,
    pub(crate) cancel_requested: bool,
    pub(crate) drive_list: Vec<Drive>,
    pub(crate) delivery_package: Option<Box<PackageInfo>>,
    pub(crate) package_overdue: bool,
    /// Never empty: `Creating` at the creation, then each state entered (R-STAGE-1). A boxed
    /// slice, sized to its stages: a job enters at most six states.
    pub(crate) stages: Box<[Stage]>,
    pub(crate) updated_at: Timestamp,
}

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
    #[serde(with = "crate::instant::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "crate::instant::rfc3339")]
    state_entered_at: Timestamp,
    #[serde(with = "crate::instant::rfc3339")]
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

/// The unchecked serde form of a [`Job`]; turned into one by [`Job::check_invariants`].
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
    #[serde(with = "crate::instant::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "crate::instant::rfc3339")]
    state_entered_at: Timestamp,
    #[serde(with = "crate::instant::rfc3339")]
    updated_at: Timestamp,
}

crate::strict::strict_deserialize!(JobRepr);

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
                crate::invariants::STAGES_BROKEN
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

impl Job {
    /// The job's name: unique among the jobs that exist, and free again once it is removed
    /// (R-INPUT-2, R-GONE-2).
    pub fn name(&self) -> &JobName {
        &self.name
    }

    /// `Import` or `Export`.
    pub fn job_type(&self) -> JobType {
        self.job_type
    }

    /// Where the job is in its lifecycle: the state *Get Job* shows, which decides what it
    /// accepts now (see [`Job::capabilities`]).
    pub fn state(&self) -> JobState {
        self.state
    }

    /// `cancelRequested`: a cancel was accepted for this job. It stays `true` for the rest of the
    /// job's life.
    pub fn cancel_requested(&self) -> bool {
        self.cancel_requested
    }

    /// The job's drives (`driveList`), at most [`MAX_DRIVES`]. An import job's are named at
    /// creation; an export job has none until its package arrives.
    pub fn drive_list(&self) -> &[Drive] {
        &self.drive_list
    }

    /// The drive with this id, if the job has one (an export job has none until its package
    /// arrives).
    pub fn drive(&self, id: &str) -> Option<&Drive> {
        self.drive_list.iter().find(|d| d.drive_id.as_str() == id)
    }

    /// The package the customer said they sent, if they gave its details.
    pub fn delivery_package(&self) -> Option<&PackageInfo> {
        self.delivery_package.as_deref()
    }

    /// The package did not arrive within the shipping period: the timer R-TIMER-2 fired and the
    /// job waits in `Shipping` for the operators (or a late package, or a cancel).
    pub fn package_overdue(&self) -> bool {
        self.package_overdue
    }

    /// Every state the job entered, with the instant, oldest first: `Creating` at its creation,
    /// then each state it moved to (R-STAGE-1). The last is the job's state, entered at
    /// [`state_entered_at`](Job::state_entered_at).
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// When the job was created: its first stage.
    pub fn created_at(&self) -> jiff::Timestamp {
        self.stages.first().map_or(self.updated_at, |s| s.stage_time)
    }

    /// When the job entered its current state. The timers of `Shipping`, `Completed` and
    /// `Closed` count from here; the `Creating` clock counts from the job's last accepted
    /// update, if it had one (R-UPDATE-7).
    pub fn state_entered_at(&self) -> jiff::Timestamp {
        self.stages.last().map_or(self.updated_at, |s| s.stage_time)
    }

    /// The job's last recorded instant: no event of this job is ever recorded earlier
    /// (R-CLOCK-1).
    pub fn updated_at(&self) -> jiff::Timestamp {
        self.updated_at
    }

    /// The next timer of this job, if one is pending (see [`Deadline`]).
    pub fn next_deadline(&self, policy: &Policy) -> Option<Deadline> {
        rules::deadline(self, policy)
    }

    /// When the service will remove the job if nothing else happens first: the end of its
    /// retention in `Completed` or `Closed`, or of the two weeks a job may sit in `Creating`.
    /// `None` while the job is under way, or when that instant is beyond the time type.
    pub fn removal_at(&self, policy: &Policy) -> Option<jiff::Timestamp> {
        self.next_deadline(policy).filter(|d| crate::decide::fire(self, d).removes_job()).map(|d| d.at)
    }

    /// What the customer may do now, without trying it: the same rules the operations apply
    /// (R-UPDATE-8).
    pub fn capabilities(&self, policy: &Policy) -> Capabilities {
        let may = |act| rules::may(self, policy, act);
        let cancel = may(Act::Cancel);
        let delete = may(Act::Delete);
        let ship = may(Act::Ship);
        let address = may(Act::Update(UpdateField::ReturnAddress));
        let mut refused_by = std::collections::BTreeMap::new();
        for (flag, answer) in [
            ("isCancellable", cancel),
            ("isDeletable", delete),
            ("isShippable", ship),
            ("isShippingAddressEditable", address),
        ] {
            if let Err(rule) = answer {
                refused_by.insert(flag.to_string(), rule);
            }
        }
        let mut updatable_fields = Vec::new();
        for field in <UpdateField as strum::IntoEnumIterator>::iter() {
            match may(Act::Update(field)) {
                Ok(()) => updatable_fields.push(field),
                Err(rule) => {
                    refused_by.insert(field.to_string(), rule);
                }
            }
        }
        Capabilities {
            is_cancellable: cancel.is_ok(),
            is_deletable: delete.is_ok(),
            is_shippable: ship.is_ok(),
            is_shipping_address_editable: address.is_ok(),
            updatable_fields,
            refused_by,
            next_deadline: self.next_deadline(policy),
        }
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
        rules::ship_with(self, policy, known).map_err(|(rule, missing)| match missing {
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

    /// Checks the invariants every job of the model satisfies, whatever happened to it:
    ///
    /// - at most [`MAX_DRIVES`] drives, ids unique; an import job has at least one;
    /// - `createdAt <= stateEnteredAt <= updatedAt`;
    /// - each state's drives are in the states that state allows (e.g. nothing copies in
    ///   `Packaging`, nothing is at the datacenter in `Creating`), a `Closed` job was not
    ///   cancelled, a cancelled job is never waiting for a drive to start; a finished job
    ///   shipped a drive back, unless a cancel or the operators' close (R-TIMER-6) ended it
    ///   before anything arrived;
    /// - only a drive that started copying has `bytesSucceeded`;
    /// - a job in `Creating` entered it when created and has no `deliveryPackage`;
    /// - its stages are its history: `Creating` at `createdAt`, forward in order, its state at
    ///   `stateEnteredAt` last (R-STAGE-1).
    ///
    /// Returns a sentence saying which one is broken. Used when deserializing and by the tests.
    ///
    /// # Errors
    ///
    /// A sentence naming the job, its state and the invariant it breaks.
    pub fn check_invariants(&self) -> Result<(), String> {
        crate::invariants::check(self)
    }

    /// Checks that the rules can reach this job under `policy`: [`check_invariants`] and what
    /// the policy decides besides: no instant recorded at or after a timer that fires first
    /// (`updatedAt` before the job's own deadline), a package overdue only once the shipping
    /// period ended, a job the operators closed closed at the end of their wait, a cancel only
    /// in a state the cancel window accepts. A job passes if and
    /// only if some history under `policy` reaches it (proved by enumeration in the tests).
    ///
    /// Deserializing a `Job` on its own checks [`check_invariants`] only (the policy is not in
    /// its JSON); a host that stores jobs one by one calls this after reading one.
    /// Deserializing a [`Registry`](crate::Registry) checks every job with its policy.
    ///
    /// [`check_invariants`]: Job::check_invariants
    ///
    /// # Errors
    ///
    /// A sentence naming the job, its state and what no history under `policy` reaches.
    pub fn check(&self, policy: &Policy) -> Result<(), String> {
        crate::invariants::check_under(self, policy)
    }
}

/// What a job allows now, in the style of Azure Data Box's capability flags: a client can show
/// or hide a button without trying the operation.
///
/// New flags are added as the service's operations are: the struct is `#[non_exhaustive]`, so
/// reading its fields keeps compiling when one is added.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// A cancel would be accepted now (R-CANCEL-1, R-CANCEL-2, R-CANCEL-3).
    pub is_cancellable: bool,
    /// A delete would be accepted now (R-DELETE-1, R-DELETE-2).
    pub is_deletable: bool,
    /// Marking the job `Shipping` would be accepted now (R-FLOW-1).
    pub is_shippable: bool,
    /// An update of the return address (`returnAddress`) would be accepted now: until the job
    /// reaches `Packaging` (R-UPDATE-1). Azure Data Box's flag of the same name.
    pub is_shipping_address_editable: bool,
    /// Every field an update may name now (R-UPDATE-1 to R-UPDATE-5), in the order of
    /// [`UpdateField`].
    pub updatable_fields: Vec<UpdateField>,
    /// For each flag above that is `false`, and each field an update may not name now, the rule
    /// that refuses it, keyed by the flag's or the field's JSON name (`isCancellable`,
    /// `returnAddress`, …): a client can say why without trying (R-UPDATE-8).
    pub refused_by: std::collections::BTreeMap<String, Rule>,
    /// The job's next timer, if one is pending.
    pub next_deadline: Option<Deadline>,
}
