//! One request answered against one record: the functions a host calls with the row it stores.
//!
//! A host that keeps one [`Record`] per job (a row, a document) answers a request in three
//! steps: [`route`] says which job (or which list) the request names; the host loads that job's
//! record (and, for `listBitLockerKeys`, its [`BitLockerKeys`]); [`handle_job`] answers and says
//! what to write back ([`JobAnswer`]). Every function is pure: the same context, record, request
//! and `now` give the same answer. [`Service`](super::Service) is one such host, in memory; it
//! goes through these same functions, so no ARM rule is decided twice.
//!
//! Timers are data here as in the core: a record whose timer is due by the instant a request
//! acts at sees it fire first, inside the call, and the answer reports its event before the
//! request's own; a record removed by its timer answers 404 and is to be deleted, with its keys.
//! [`handle_timeout`] fires a record's due timers for the host's deadline sweep, and
//! [`Record::next_deadline`] is the key of the host's deadline index.

mod create;
mod datacenter;
mod delete;
mod drives;
mod read;
mod route;
mod settled;
mod update;

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use datacenter::{datacenter_command, handle_datacenter};
pub use route::{route, route_http};
use settled::Settled;

use super::context::Context;
use super::path::{Query, Scope};
use super::record::{BitLockerKeys, Record};
use super::request::{Response, error};
use crate::model::event::Event;
use crate::model::name::JobName;

/// What a host does with a stored value after a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "the host writes this back"]
pub enum Write<T> {
    /// Nothing changed: no write needed.
    Unchanged,
    /// Store this value (it replaces the old one, or is new).
    Put(Box<T>),
    /// Delete the stored value: the job is gone.
    Remove,
}

impl<T> Write<T> {
    /// The stored value after the write, given the one before it.
    pub fn apply(self, stored: Option<T>) -> Option<T> {
        match self {
            Write::Unchanged => stored,
            Write::Put(value) => Some(*value),
            Write::Remove => None,
        }
    }
}

/// What one call did to one job: its answer, what to write back, and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "the record and keys must be written back"]
pub struct JobAnswer<T> {
    /// The answer to send.
    pub answer: T,
    /// What becomes of the job's record.
    pub record: Write<Record>,
    /// What becomes of the job's BitLocker keys.
    pub keys: Write<BitLockerKeys>,
    /// What happened to the job, in order: the timers that fired first, then the request's own
    /// event, if it made one.
    pub events: Vec<Event>,
}

/// What a request does to the job it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobOperation {
    /// `PUT`: Create Job.
    Create,
    /// `GET`: Get Job.
    Get,
    /// `PATCH`: Update Job Properties.
    Update,
    /// `DELETE`: Delete Job.
    Delete,
    /// `POST …/listBitLockerKeys`.
    ListBitLockerKeys,
}

/// A request aimed at one job: its scope and name, and what it asks. The body stays in the
/// [`Request`](super::Request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRequest {
    /// The job's subscription and resource group, as the request spelt them.
    pub scope: Scope,
    /// The job's name.
    pub name: JobName,
    /// What the request asks.
    pub operation: JobOperation,
}

/// Whose jobs a list shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListScope {
    /// One resource group's.
    ResourceGroup(Scope),
    /// One subscription's, every resource group.
    Subscription(String),
}

/// A `GET` of a list of jobs, one page of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRequest {
    /// Whose jobs.
    pub scope: ListScope,
    /// `api-version`, `$top` and where the previous page ended.
    pub query: Query,
    /// The path without its query, as sent: the base of `nextLink`.
    pub path: String,
}

/// What a request names: one job, or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Route {
    /// A request on one job: answer it with [`handle_job`].
    Job(JobRequest),
    /// A list: answer it with [`list_page`](super::list_page).
    List(ListRequest),
    /// A read of the provider itself, which holds no job: answer it with [`handle_provider`].
    Provider(ProviderRequest),
}

/// A `GET` of the provider's own resources: its locations and its operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProviderRequest {
    /// *List Locations*.
    Locations,
    /// *Get Location*, by the name the path gave (either spelling, [`Catalogue::get`](super::Catalogue::get)).
    Location(String),
    /// *List Operations*.
    Operations,
}

/// Answers a read of the provider: the context's catalogue of locations, one of them (404
/// `NotFound` for a name it does not hold), or the provider's operations. Needs no record.
pub fn handle_provider(ctx: &Context, request: &ProviderRequest) -> Response {
    let locations = &ctx.config.locations;
    let body = match request {
        ProviderRequest::Locations => locations.list_body(),
        ProviderRequest::Operations => super::operations::operations_body(),
        ProviderRequest::Location(name) => match locations.get(name) {
            Some(location) => match serde_json::to_value(location) {
                Ok(body) => body,
                Err(e) => return error(500, "InternalError", e.to_string()).response(),
            },
            None => {
                return error(
                    404,
                    "NotFound",
                    format!(
                        "location {} is not one Microsoft.ImportExport ships to; it ships to {}",
                        super::quote::quote(name),
                        locations.names()
                    ),
                )
                .response();
            }
        },
    };
    Response { status: 200, body: Some(body) }
}

/// Parses `value` as `T`, naming the field that does not fit (`properties.jobType: …`).
pub(crate) fn parse<T: DeserializeOwned>(value: &Value, prefix: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(crate::wire::strict::Strict::object(value)).map_err(|e| {
        let path = e.path().to_string();
        let field = match (prefix.is_empty(), path.as_str()) {
            (_, ".") => prefix.to_string(),
            (true, _) => path,
            (false, _) => format!("{prefix}.{path}"),
        };
        format!("{}: {}", if field.is_empty() { "body" } else { &field }, e.inner())
    })
}

/// Answers one ARM request on one job.
///
/// `record` is the job's stored record (`None` if there is none), `keys` its BitLocker keys
/// (read only by `listBitLockerKeys`; other requests may pass `None`), `body` the request's
/// JSON body. The record's timers due by the instant the request acts at (`max(now,
/// updatedAt)`) fire first; then the request is answered on the record as they left it. A
/// refused request changes nothing but what those timers did.
///
/// The host passes the record stored under `request`'s scope (compared without regard to case,
/// [`Scope::key`](super::Scope::key)) and name; a record of another job is a host error,
/// answered 500 and written nowhere. A new job's record keeps `request.scope`'s spelling: a host
/// that already holds jobs in that scope passes the spelling it has.
pub fn handle_job(
    ctx: &Context,
    record: Option<&Record>,
    keys: Option<&BitLockerKeys>,
    now: Timestamp,
    request: &JobRequest,
    body: Option<&Value>,
) -> JobAnswer<Response> {
    if let Some(other) = record.filter(|r| r.name() != &request.name || r.scope_key() != request.scope.key())
    {
        return JobAnswer {
            answer: error(
                500,
                "InternalError",
                format!("the host passed the record of {}/…/jobs/{}", other.scope(), other.name()),
            )
            .response(),
            record: Write::Unchanged,
            keys: Write::Unchanged,
            events: Vec::new(),
        };
    }
    let settled = Settled::new(ctx, record, |job| job.acting_instant(now));
    let body = body.filter(|b| !b.is_null());
    match request.operation {
        JobOperation::Create => create::create(ctx, settled, now, request, body),
        JobOperation::Get => read::get(ctx, settled, &request.name),
        JobOperation::Update => update::update(ctx, settled, now, &request.name, body),
        JobOperation::Delete => delete::delete(ctx, settled, now, &request.name),
        JobOperation::ListBitLockerKeys => read::bit_locker_keys(settled, keys, &request.name),
    }
}

/// The job's ARM resource as a response.
pub(super) fn view(ctx: &Context, record: &Record, status: u16) -> Response {
    match serde_json::to_value(record.resource(&ctx.config)) {
        Ok(body) => Response { status, body: Some(body) },
        Err(e) => error(500, "InternalError", e.to_string()).response(),
    }
}

/// Fires the record's timers due at `now` (deadline `<= now`), earliest first: the host's
/// deadline sweep, for a record its index says is due. A record removed by its timer is to be
/// deleted, with its keys.
pub fn handle_timeout(ctx: &Context, record: &Record, now: Timestamp) -> JobAnswer<()> {
    Settled::new(ctx, Some(record), |_| now).finish((), Write::Unchanged)
}
