//! What a refusal says: which operation, on which job, in which state, and the rule behind it.

use std::fmt;

use serde::{Deserialize, Serialize};
use strum::{Display, EnumIter, IntoStaticStr};
use thiserror::Error as ThisError;

use crate::model::name::{DriveId, JobName, MAX_NAME_LEN};
use crate::model::rule::Rule;
use crate::model::state::{DriveState, JobState};
use crate::model::update::UpdateField;

/// The operations a job can be asked to perform, by the customer or by the datacenter.
///
/// Spelled as in scenario files (`packageReceived`, `startTransfer`, …).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumIter,
    IntoStaticStr,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum Operation {
    /// Customer: create a job (Create Job, `PUT`).
    Create,
    /// Customer: say the package is on its way (Update Job Properties with `state: "Shipping"`).
    Ship,
    /// Customer: change some fields of the job (Update Job Properties).
    Update,
    /// Customer: ask for a cancel (Update Job Properties with `cancelRequested: true`).
    Cancel,
    /// Customer: delete the job (Delete Job).
    Delete,
    /// Customer: read one job (Get Job).
    Get,
    /// Customer: list jobs.
    List,
    /// Datacenter: the package arrived, with the drives it held.
    PackageReceived,
    /// Datacenter: a drive starts copying.
    StartTransfer,
    /// Datacenter: a copying drive reports bytes copied.
    Progress,
    /// Datacenter: a drive's copy ended.
    FinishTransfer,
    /// Datacenter: the drives were shipped back to the customer.
    ShipBack,
    /// Host: fold a recorded event into a registry ([`Registry::apply`](crate::Registry::apply)).
    Replay,
    /// Anyone: make a job name or a drive id from text ([`JobName::new`], [`DriveId::new`]),
    /// refused when the text is not a well-formed name (R-INPUT-1).
    Name,
}

/// Why an operation was refused. Every variant names the operation and, where one exists, the
/// job, its state and the rule; [`Error::code`] gives a stable machine-readable code.
///
/// A refused operation changes nothing (R-REFUSE-1).
#[derive(Debug, Clone, PartialEq, Eq, ThisError, Serialize, Deserialize)]
#[serde(tag = "code", rename_all_fields = "camelCase")]
pub enum Error {
    /// No job has that name: it never existed, was deleted, or was removed by a timer.
    #[error("{operation} refused: there is no job named '{job}' [{}]", Rule::Gone1)]
    JobNotFound {
        /// The operation that was refused.
        operation: Operation,
        /// The name asked for.
        job: JobName,
    },
    /// A job with that name already exists.
    #[error("create refused: the name '{job}' is in use by a job in state {state} [{}]", Rule::Input2)]
    JobAlreadyExists {
        /// The name asked for.
        job: JobName,
        /// The state of the job that holds the name.
        state: JobState,
    },
    /// The job's state does not accept a cancel.
    #[error("cancel refused for job '{job}' in state {state}: {} [{rule}]", rule.statement())]
    CancelNotAllowed {
        /// The name of the job that refused.
        job: JobName,
        /// Its state when the cancel arrived.
        state: JobState,
        /// The rule that refuses it.
        rule: Rule,
    },
    /// The job's state does not accept a delete.
    #[error("delete refused for job '{job}' in state {state}: {} [{rule}]", rule.statement())]
    DeleteNotAllowed {
        /// The name of the job that refused.
        job: JobName,
        /// Its state when the delete arrived.
        state: JobState,
        /// The rule that refuses it.
        rule: Rule,
    },
    /// The job's state does not accept a change of one of the fields an update names; the
    /// whole update is refused (R-UPDATE-6).
    #[error("update refused for job '{job}' in state {state}: field {field}: {} [{rule}]", rule.statement())]
    UpdateNotAllowed {
        /// The name of the job that refused.
        job: JobName,
        /// Its state when the update arrived.
        state: JobState,
        /// The first field named that may not change now.
        field: UpdateField,
        /// The rule that refuses it.
        rule: Rule,
    },
    /// The operation cannot happen in the job's (or the drive's) current state.
    #[error("{operation} refused for job '{job}' in state {state}{}: {} [{rule}]", DrivePart(drive.as_ref()), rule.statement())]
    InvalidStateTransition {
        /// The operation that was refused.
        operation: Operation,
        /// The name of the job that refused.
        job: JobName,
        /// The job's state.
        state: JobState,
        /// The drive concerned and its state, for operations on one drive.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drive: Option<(DriveId, DriveState)>,
        /// The rule that refuses it.
        rule: Rule,
    },
    /// The job has no drive with that id.
    #[error(
        "{operation} refused for job '{job}' in state {state}: it has no drive '{drive}' [{}]",
        Rule::Input1
    )]
    DriveNotFound {
        /// The operation that was refused.
        operation: Operation,
        /// The name of the job that refused.
        job: JobName,
        /// The job's state.
        state: JobState,
        /// The drive id asked for.
        drive: DriveId,
    },
    /// The request itself is malformed: it would be refused in any state. A job that exists is
    /// asked about its state first, so a malformed request on a job in the wrong state answers
    /// with the state's refusal (see `docs/spec.md`, *Which refusal wins*).
    #[error("{operation} refused: {problem} [{}]", problem.rule())]
    InvalidRequest {
        /// The operation that was refused.
        operation: Operation,
        /// What is wrong with it.
        problem: Problem,
    },
}

/// What kind of refusal an [`Error`] is, independent of any protocol: a host maps it to its
/// own answers (HTTP 404, 409 and 400; gRPC's `NOT_FOUND`, `FAILED_PRECONDITION` and
/// `INVALID_ARGUMENT`) without the ARM layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Display, EnumIter)]
pub enum ErrorKind {
    /// The job named does not exist (`JobNotFound`): nothing to act on.
    NotFound,
    /// The job exists but its state refuses the operation, or the name is taken (`JobAlreadyExists`,
    /// `CancelNotAllowed`, `DeleteNotAllowed`, `UpdateNotAllowed`, `InvalidStateTransition`):
    /// the same request may succeed on another state.
    Conflict,
    /// The request itself is wrong whatever the job's state (`DriveNotFound`, `InvalidRequest`).
    BadRequest,
}

impl Error {
    /// A stable, machine-readable code: the variant's name (`CancelNotAllowed`, …). The same
    /// string is the `code` field of the error's JSON form.
    pub fn code(&self) -> &'static str {
        match self {
            Error::JobNotFound { .. } => "JobNotFound",
            Error::JobAlreadyExists { .. } => "JobAlreadyExists",
            Error::CancelNotAllowed { .. } => "CancelNotAllowed",
            Error::DeleteNotAllowed { .. } => "DeleteNotAllowed",
            Error::UpdateNotAllowed { .. } => "UpdateNotAllowed",
            Error::InvalidStateTransition { .. } => "InvalidStateTransition",
            Error::DriveNotFound { .. } => "DriveNotFound",
            Error::InvalidRequest { .. } => "InvalidRequest",
        }
    }

    /// The kind of refusal, for a host to map to its protocol's answers.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::JobNotFound { .. } => ErrorKind::NotFound,
            Error::JobAlreadyExists { .. }
            | Error::CancelNotAllowed { .. }
            | Error::DeleteNotAllowed { .. }
            | Error::UpdateNotAllowed { .. }
            | Error::InvalidStateTransition { .. } => ErrorKind::Conflict,
            Error::DriveNotFound { .. } | Error::InvalidRequest { .. } => ErrorKind::BadRequest,
        }
    }

    /// The rule behind the refusal.
    pub fn rule(&self) -> Rule {
        match self {
            Error::JobNotFound { .. } => Rule::Gone1,
            Error::JobAlreadyExists { .. } => Rule::Input2,
            Error::CancelNotAllowed { rule, .. }
            | Error::DeleteNotAllowed { rule, .. }
            | Error::UpdateNotAllowed { rule, .. }
            | Error::InvalidStateTransition { rule, .. } => *rule,
            Error::DriveNotFound { .. } => Rule::Input1,
            Error::InvalidRequest { problem, .. } => problem.rule(),
        }
    }

    /// The operation that was refused.
    pub fn operation(&self) -> Operation {
        match self {
            Error::JobNotFound { operation, .. }
            | Error::InvalidStateTransition { operation, .. }
            | Error::DriveNotFound { operation, .. }
            | Error::InvalidRequest { operation, .. } => *operation,
            Error::JobAlreadyExists { .. } => Operation::Create,
            Error::CancelNotAllowed { .. } => Operation::Cancel,
            Error::DeleteNotAllowed { .. } => Operation::Delete,
            Error::UpdateNotAllowed { .. } => Operation::Update,
        }
    }
}

/// Formats the optional drive of an [`Error::InvalidStateTransition`].
struct DrivePart<'a>(Option<&'a (DriveId, DriveState)>);

impl fmt::Display for DrivePart<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some((drive, state)) => write!(f, " (drive '{drive}' is {state})"),
            None => Ok(()),
        }
    }
}

/// What is malformed in a request (R-INPUT-1), independent of any job's state.
#[derive(Debug, Clone, PartialEq, Eq, ThisError, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Problem {
    /// A job name must not be empty.
    #[error("the job name is empty")]
    EmptyJobName,
    /// A job name has at most [`MAX_NAME_LEN`] characters.
    #[error("the job name has {len} characters, more than {MAX_NAME_LEN}")]
    JobNameTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A job name holds only ASCII letters, digits, `-`, `_` and `.`.
    #[error("the job name holds {character:?}; only ASCII letters, digits, '-', '_' and '.' are allowed")]
    JobNameCharacter {
        /// The first character not allowed.
        character: char,
    },
    /// A drive id must not be empty.
    #[error("a drive id is empty")]
    EmptyDriveId,
    /// A drive id has at most [`MAX_NAME_LEN`] characters.
    #[error("a drive id has {len} characters, more than {MAX_NAME_LEN}")]
    DriveIdTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A drive id holds only ASCII letters, digits, `-`, `_` and `.`.
    #[error("a drive id holds {character:?}; only ASCII letters, digits, '-', '_' and '.' are allowed")]
    DriveIdCharacter {
        /// The first character not allowed.
        character: char,
    },
    /// A job holds at most [`MAX_DRIVES`](crate::MAX_DRIVES) drives.
    #[error("{count} drives given; a job holds at most {}", crate::MAX_DRIVES)]
    TooManyDrives {
        /// How many were given.
        count: usize,
    },
    /// The same drive id appears twice.
    #[error("drive '{drive}' is listed twice")]
    DuplicateDrive {
        /// The repeated id.
        drive: DriveId,
    },
    /// An import job is created with at least one drive, and a package holds at least one.
    #[error("no drive is listed; at least one is needed")]
    NoDrives,
    /// An export job is created without drives: the service adds the ones it receives.
    #[error("an export job is created without drives; the datacenter adds the drives it receives")]
    DrivesOnExport,
    /// An update names no field (R-UPDATE-6).
    #[error("the update names no field; it changes at least one")]
    NoUpdateField,
    /// An update names the same field twice (R-UPDATE-6).
    #[error("the update names field {field} twice")]
    DuplicateUpdateField {
        /// The repeated field.
        field: UpdateField,
    },
    /// An update gives drives without naming `driveList` among its fields (R-UPDATE-4).
    #[error("the update gives drives but does not name driveList among its fields")]
    DrivesWithoutDriveList,
    /// An update gives a package's description but does not name `deliveryPackage` among its
    /// fields (R-UPDATE-2).
    #[error("the update gives a package but does not name deliveryPackage among its fields")]
    PackageWithoutDeliveryPackage,
    /// An update gives a package that names none of its details: no carrier, tracking number,
    /// drive count or ship date (R-UPDATE-2).
    #[error(
        "the package names none of its details: a carrier, a tracking number, a drive count or a ship date"
    )]
    EmptyPackage,
    /// A recorded event is not what the rules decide in the state it is applied to (R-EVENT-1).
    #[error("the event does not follow from the registry's state: the rules decide otherwise")]
    EventDoesNotFollow,
    /// A job is marked `Shipping` through *Update Job* only once this field is known (R-FLOW-8).
    #[error("marking the job Shipping needs its {field}, given in this request or an earlier one")]
    ShipNeeds {
        /// The field that is missing.
        field: UpdateField,
    },
    /// The drive's `bytesSucceeded` would go past the largest count the model holds.
    #[error("drive '{drive}' would count more than {} bytes", u64::MAX)]
    BytesOverflow {
        /// The drive.
        drive: DriveId,
    },
}

impl Problem {
    /// The rule a request with this problem breaks: R-EVENT-1 for a recorded event that does not
    /// follow, R-UPDATE-6 for an update's list of fields, R-UPDATE-4 for drives given without
    /// `driveList`, R-UPDATE-2 for a package given without `deliveryPackage` or naming nothing, R-FLOW-8 for a shipment whose details are missing, R-INPUT-1 for every other malformed input.
    pub fn rule(&self) -> Rule {
        match self {
            Problem::EventDoesNotFollow => Rule::Event1,
            Problem::NoUpdateField | Problem::DuplicateUpdateField { .. } => Rule::Update6,
            Problem::DrivesWithoutDriveList => Rule::Update4,
            Problem::PackageWithoutDeliveryPackage | Problem::EmptyPackage => Rule::Update2,
            Problem::ShipNeeds { .. } => Rule::Flow8,
            Problem::EmptyJobName
            | Problem::JobNameTooLong { .. }
            | Problem::JobNameCharacter { .. }
            | Problem::EmptyDriveId
            | Problem::DriveIdTooLong { .. }
            | Problem::DriveIdCharacter { .. }
            | Problem::TooManyDrives { .. }
            | Problem::DuplicateDrive { .. }
            | Problem::NoDrives
            | Problem::DrivesOnExport
            | Problem::BytesOverflow { .. } => Rule::Input1,
        }
    }
}
