//! The Import/Export ARM API as data: requests in, responses out, still without I/O.
//!
//! [`Service`] keeps one core [`Registry`](crate::Registry) per subscription and resource group
//! and answers [`Request`]s (method, ARM path, optional JSON body) with [`Response`]s (status,
//! JSON body) in the service's own wire format ([`types`]). It translates; the lifecycle's
//! rules stay in the core, so whether a cancel or a delete is accepted is the core's answer.
//!
//! | request | answer |
//! |---|---|
//! | `PUT …/jobs/{name}` with `PutJobParameters` | 201 and the job; 409 `JobAlreadyExists` if the name is taken |
//! | `GET …/jobs/{name}` | 200 and the job; 404 `JobNotFound` |
//! | `PATCH …/jobs/{name}` with `UpdateJobParameters` | 200 and the job; 409 when the job's state refuses |
//! | `DELETE …/jobs/{name}` | 200, no body; 409 `DeleteNotAllowed` |
//! | `GET …/resourceGroups/{rg}/…/jobs`, `GET /subscriptions/{s}/…/jobs` | 200 `{"value": […]}`, at most `$top` |
//! | `POST …/jobs/{name}/listBitLockerKeys` | 200 `{"value": [{"driveId", "bitLockerKey"}]}` |
//!
//! Core refusals keep their `code()`: `JobNotFound` answers 404; `JobAlreadyExists`,
//! `CancelNotAllowed`, `DeleteNotAllowed` and `InvalidStateTransition` answer 409;
//! `DriveNotFound` and `InvalidRequest` answer 400. A malformed path or body answers 400
//! `InvalidRequest` naming the field (`properties.jobType: …`); another method, 405.
//!
//! Rules of the ARM layer itself, each in one function of [`service`]:
//! - `PATCH`: `cancelRequested: true` cancels, `false` is refused; `state: "Shipping"` ships and
//!   needs a `deliveryPackage` and a `returnAddress`, from this or an earlier request; `""` (or
//!   no `state`) changes nothing; any other `state` is refused; shipping and cancelling in one
//!   request is refused; `driveList` is refused (drives are fixed at creation in this model).
//! - `returnAddress`, `returnShipping`, `deliveryPackage`, `logLevel`, `backupDriveManifest`
//!   change only in `Creating` and `Shipping`; `tags` in any state.
//! - `bitLockerKey` is never echoed by `GET`/`PUT`/`PATCH`: only `listBitLockerKeys` returns it.
//! - `copyStatus`, `percentComplete` and `returnPackage` are never shown (the model does not know
//!   them); `bytesSucceeded` appears once a drive has started copying.

pub mod context;
pub mod handle;
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
