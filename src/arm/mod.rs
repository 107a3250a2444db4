//! The Import/Export ARM API as data: requests in, responses out, still without I/O.
//!
//! The unit a host stores is the [`Record`] of one job (the core job and its ARM details, one
//! row), with its [`BitLockerKeys`] kept apart (a vault). [`route`] says which job or list a
//! [`Request`] (method, ARM path, optional JSON body) names, [`handle_job`] answers it against
//! that job's record and says what to write back ([`JobAnswer`]), [`list_page`] makes one page
//! of a list ([`MAX_PAGE`] jobs, or `$top`, with a `nextLink` when more remain), and
//! [`handle_timeout`] fires a record's due timers for the host's deadline sweep, keyed by
//! [`Record::next_deadline`]. Every function is pure: the same context, record, request and
//! `now` give the same answer. [`Service`] is the in-memory host over these functions. Answers are
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
//! `DriveNotFound` and `InvalidRequest` answer 400. A path of no Import/Export resource answers
//! 404 `NotFound`; a missing `api-version` 400 `MissingApiVersionParameter`, an unpublished one
//! ([`ApiVersion`]) 400 `InvalidApiVersionParameter`; a malformed name, query or body 400
//! `InvalidRequest` naming the field (`properties.jobType: …`); another method, 405. A host
//! hands the method, the target and the body to [`route_http`] and [`handle_job`] and renders
//! what comes back: refusals are data ([`Refusal`]), not responses to pick apart.
//!
//! What this layer decides itself (the lifecycle's rules, including which field may change in
//! which state and what a shipment needs, are the core's):
//! - `PATCH`: `cancelRequested: true` cancels, `false` is refused; `state: "Shipping"` ships
//!   (the core checks the state, R-FLOW-1, then that a `returnAddress` and a `deliveryPackage`
//!   are known from this or an earlier request, R-FLOW-8); `""` (or no `state`) changes
//!   nothing; any other `state` is refused; shipping and cancelling in one request is refused.
//!   The fields a body names are one core update (R-UPDATE-1 to R-UPDATE-6: `driveList` only on
//!   an import job in `Creating`, the return address until `Packaging`, `tags` in any state),
//!   decided before the ship or the cancel; the request is all or nothing.
//! - `bitLockerKey` is never echoed by `GET`/`PUT`/`PATCH`: only `listBitLockerKeys` returns it.
//! - `copyStatus`, `percentComplete`, `verboseLogUri`, `errorLogUri`, `returnPackage` are never
//!   shown (the model does not know them), nor taken from a customer's input; `bytesSucceeded`
//!   appears once a drive has started copying.
//! - Names are read as ARM reads them ([`route_http`], `docs/arm.md`): segments percent-decoded, subscription and
//!   resource group compared without regard to case, lengths and characters checked.

mod context;
mod filter;
mod handle;
pub mod limits;
mod list;
mod location;
mod operations;
mod path;
mod quote;
mod record;
mod request;
mod script;
mod service;
pub mod types;

pub use context::{Caller, Config, Context};
pub use filter::{Filter, MAX_FILTER_CHARS, MAX_FILTER_CLAUSES};
pub use handle::{
    JobAnswer, JobOperation, JobRequest, ListRequest, ListScope, ProviderRequest, Route, Write,
    datacenter_command, handle_datacenter, handle_job, handle_provider, handle_timeout, route, route_http,
};
pub use list::{list_page, list_shows};
pub use location::{
    Catalogue, LOCATION_ID_PREFIX, LOCATION_TYPE, Location, LocationProperties, MAX_CATALOGUE_BYTES,
    MAX_LOCATIONS,
};
pub use operations::operations_body;
pub use path::{ApiVersion, ListPosition, MAX_PAGE, PathError, Query, Scope, ScopeKey, Target};
pub use record::{Authors, BitLockerKeys, CustomerProperties, DriveDetails, Record};
pub use request::{Method, Refusal, Request, Response};
pub use script::{MAX_LINE_BYTES, ScriptError, run_line, run_script};
pub use service::{Exchange, ScopedEvent, Service};
