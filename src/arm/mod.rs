//! The Import/Export ARM API as data: requests in, responses out, still without I/O.
//!
//! The unit a host stores is the [`Record`] of one job (the core job and its ARM details, one
//! row), with its [`BitLockerKeys`] kept apart (a vault). [`route`] says which job or list a
//! [`Request`] (method, ARM path, optional JSON body) names, [`handle_job`] answers it against
//! that job's record and says what to write back, [`list_page`] makes one page of a list; see
//! [`handle`] and [`list`]. [`Service`] is the in-memory host over these functions. Answers are
//! [`Response`]s (status, JSON body) in the service's own wire format ([`types`]). The layer
//! translates; the lifecycle's rules stay in the core, so whether a cancel or a delete is
//! accepted is the core's answer.
//!
//! | request | answer |
//! |---|---|
//! | `PUT …/jobs/{name}` with `PutJobParameters` | 201 and the job; 409 `JobAlreadyExists` if the name is taken |
//! | `GET …/jobs/{name}` | 200 and the job; 404 `JobNotFound` |
//! | `PATCH …/jobs/{name}` with `UpdateJobParameters` | 200 and the job; 409 when the job's state refuses |
//! | `DELETE …/jobs/{name}` | 200, no body; 409 `DeleteNotAllowed` |
//! | `GET …/resourceGroups/{rg}/…/jobs`, `GET /subscriptions/{s}/…/jobs` | 200 `{"value": […], "nextLink"?}`, 100 (or `$top`) per page |
//! | `POST …/jobs/{name}/listBitLockerKeys` | 200 `{"value": [{"driveId", "bitLockerKey"}]}` |
//!
//! Core refusals keep their `code()`: `JobNotFound` answers 404; `JobAlreadyExists`,
//! `CancelNotAllowed`, `DeleteNotAllowed` and `InvalidStateTransition` answer 409;
//! `DriveNotFound` and `InvalidRequest` answer 400. A malformed path or body answers 400
//! `InvalidRequest` naming the field (`properties.jobType: …`); another method, 405.
//!
//! Rules of the ARM layer itself, each in one function of [`handle`]:
//! - `PATCH`: `cancelRequested: true` cancels, `false` is refused; `state: "Shipping"` ships and
//!   needs a `deliveryPackage` and a `returnAddress`, from this or an earlier request; `""` (or
//!   no `state`) changes nothing; any other `state` is refused; shipping and cancelling in one
//!   request is refused; `driveList` is refused (drives are fixed at creation in this model).
//! - `returnAddress`, `returnShipping`, `deliveryPackage`, `logLevel`, `backupDriveManifest`
//!   change only in `Creating` and `Shipping`; `tags` in any state.
//! - `bitLockerKey` is never echoed by `GET`/`PUT`/`PATCH`: only `listBitLockerKeys` returns it.
//! - `copyStatus`, `percentComplete`, `verboseLogUri`, `errorLogUri`, `returnPackage` are never
//!   shown (the model does not know them), nor taken from a customer's input; `bytesSucceeded`
//!   appears once a drive has started copying.
//! - Names are read as ARM reads them ([`path`]): segments percent-decoded, subscription and
//!   resource group compared without regard to case, lengths and characters checked.

pub mod context;
pub mod handle;
pub mod limits;
pub mod list;
pub mod path;
pub mod record;
pub mod request;
pub mod script;
pub mod service;
pub mod types;

pub use context::{Caller, Config, Context};
pub use handle::{
    JobAnswer, JobOperation, JobRequest, ListRequest, ListScope, Route, Write, datacenter_command,
    handle_datacenter, handle_job, handle_timeout, route,
};
pub use list::list_page;
pub use path::{ListPosition, MAX_PAGE, Query, Scope, ScopeKey, Target};
pub use record::{Authors, BitLockerKeys, CustomerProperties, DriveDetails, Record};
pub use request::{Method, Request, Response};
pub use script::{MAX_LINE_BYTES, ScriptError, run_line, run_script};
pub use service::{Exchange, ScopedEvent, Service};
