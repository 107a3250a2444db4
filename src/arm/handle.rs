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

use std::borrow::Cow;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::context::Context;
use super::path::{self, Query, Scope, Target};
use super::record::{Authors, BitLockerKeys, CustomerProperties, DriveDetails, Record};
use super::request::{Method, Request, Response, error, invalid, refusal};
use super::types::{DriveStatus, PutJobParameters, UpdateJobParameters, UpdateJobProperties};
use crate::command::Command;
use crate::decider;
use crate::error::{Error, Operation};
use crate::event::Event;
use crate::job::Job;
use crate::name::{DriveId, JobName};
use crate::rules;
use crate::state::JobType;
use crate::update::UpdateField;

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
/// [`Request`].
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
}

/// Says what `request` names, or answers it at once: 400 for a malformed path or query (the
/// message names the part), 405 for a method the path does not take.
pub fn route(request: &Request) -> Result<Route, Response> {
    let parsed = path::parse(&request.path).map_err(invalid)?;
    let job = |scope, name, operation| Ok(Route::Job(JobRequest { scope, name, operation }));
    match (request.method, parsed.target) {
        (Method::Put, Target::Job { scope, name }) => job(scope, name, JobOperation::Create),
        (Method::Get, Target::Job { scope, name }) => job(scope, name, JobOperation::Get),
        (Method::Patch, Target::Job { scope, name }) => job(scope, name, JobOperation::Update),
        (Method::Delete, Target::Job { scope, name }) => job(scope, name, JobOperation::Delete),
        (Method::Post, Target::BitLockerKeys { scope, name }) => {
            job(scope, name, JobOperation::ListBitLockerKeys)
        }
        (Method::Get, Target::ResourceGroupJobs { scope }) => Ok(Route::List(ListRequest {
            scope: ListScope::ResourceGroup(scope),
            query: parsed.query,
            path: parsed.path,
        })),
        (Method::Get, Target::SubscriptionJobs { subscription }) => Ok(Route::List(ListRequest {
            scope: ListScope::Subscription(subscription),
            query: parsed.query,
            path: parsed.path,
        })),
        (method, _) => {
            Err(error(405, "InvalidRequest", format!("method {method} is not allowed on this path")))
        }
    }
}

/// Parses `value` as `T`, naming the field that does not fit (`properties.jobType: …`).
pub(crate) fn parse<T: DeserializeOwned>(value: &Value, prefix: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(crate::strict::Strict::object(value)).map_err(|e| {
        let path = e.path().to_string();
        let field = match (prefix.is_empty(), path.as_str()) {
            (_, ".") => prefix.to_string(),
            (true, _) => path,
            (false, _) => format!("{prefix}.{path}"),
        };
        format!("{}: {}", if field.is_empty() { "body" } else { &field }, e.inner())
    })
}

/// The fields an Update Job body changes, in the order the core checks them: the core decides
/// which may change in the job's state (R-UPDATE-1 to R-UPDATE-6); this layer only keeps their
/// values.
fn updated_fields(p: &UpdateJobProperties, tags: bool) -> Vec<UpdateField> {
    let given = [
        (p.return_address.is_some(), UpdateField::ReturnAddress),
        (p.return_shipping.is_some(), UpdateField::ReturnShipping),
        (p.delivery_package.is_some(), UpdateField::DeliveryPackage),
        (p.log_level.is_some(), UpdateField::LogLevel),
        (p.backup_drive_manifest.is_some(), UpdateField::BackupDriveManifest),
        (p.drive_list.is_some(), UpdateField::DriveList),
        (tags, UpdateField::Tags),
    ];
    given.into_iter().filter(|(named, _)| *named).map(|(_, field)| field).collect()
}

/// A `driveList` as the customer gives it (on `PUT`, or on `PATCH` to replace it): the drive ids
/// for the core, the manifest details the record keeps, and the BitLocker keys, kept apart.
type GivenDrives = (Vec<DriveId>, Vec<DriveDetails>, BTreeMap<DriveId, String>);

/// Reads a `driveList`, naming the drive that does not fit (`properties.driveList[1].driveId`).
/// Only the customer's own fields of a drive are kept; its state, copy status, logs and bytes
/// are the service's.
fn given_drives(list: &[DriveStatus]) -> Result<GivenDrives, Response> {
    let (mut drives, mut details, mut keys) = (Vec::new(), Vec::new(), BTreeMap::new());
    for (i, drive) in list.iter().enumerate() {
        let Some(id) = drive.drive_id.as_deref() else {
            return Err(invalid(format!("properties.driveList[{i}].driveId: missing")));
        };
        let id = DriveId::new(id).map_err(|e| invalid(format!("properties.driveList[{i}].driveId: {e}")))?;
        drives.push(id.clone());
        if let Some(key) = &drive.bit_locker_key {
            keys.insert(id.clone(), key.clone());
        }
        if drive.manifest_file.is_some() || drive.manifest_hash.is_some() || drive.drive_header_hash.is_some()
        {
            details.push(DriveDetails {
                drive_id: id,
                manifest_file: drive.manifest_file.clone(),
                manifest_hash: drive.manifest_hash.clone(),
                drive_header_hash: drive.drive_header_hash.clone(),
            });
        }
    }
    Ok((drives, details, keys))
}

/// A record as its due timers leave it at the instant a request acts at, and their events.
struct Settled<'r> {
    /// The record before the call.
    before: Option<&'r Record>,
    /// The record now (borrowed while nothing changed).
    now: Option<Cow<'r, Record>>,
    /// What happened, in order.
    events: Vec<Event>,
}

impl<'r> Settled<'r> {
    /// Fires the record's timers due by `at(job)`.
    fn new(ctx: &Context, record: Option<&'r Record>, at: impl Fn(&Job) -> Timestamp) -> Settled<'r> {
        let due = record.filter(|r| r.next_deadline(&ctx.policy).is_some_and(|d| d.at <= at(r.job())));
        let Some(due) = due else {
            return Settled { before: record, now: record.map(Cow::Borrowed), events: Vec::new() };
        };
        let mut job = Some(due.job().clone());
        let events = decider::handle_timeout(&mut job, &ctx.policy, at(due.job()));
        Settled { before: record, now: job.map(|job| Cow::Owned(due.with_job(job))), events }
    }

    fn record(&self) -> Option<&Record> {
        self.now.as_deref()
    }

    /// Ends the call: `answer`, with the record as it stands (a refusal keeps what the timers
    /// did and nothing else).
    fn finish<T>(self, answer: T, keys: Write<BitLockerKeys>) -> JobAnswer<T> {
        let changed =
            matches!(self.now, Some(Cow::Owned(_))) || (self.before.is_some() && self.now.is_none());
        let record = match (changed, self.now) {
            (false, _) => Write::Unchanged,
            (true, Some(record)) => Write::Put(Box::new(record.into_owned())),
            (true, None) => Write::Remove,
        };
        let keys = match (&record, keys) {
            (Write::Remove, _) => Write::Remove,
            (_, keys) => keys,
        };
        JobAnswer { answer, record, keys, events: self.events }
    }

    /// Replaces the record with `record` (an accepted request's result).
    fn set(&mut self, record: Option<Record>) {
        self.now = record.map(Cow::Owned);
    }
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
            ),
            record: Write::Unchanged,
            keys: Write::Unchanged,
            events: Vec::new(),
        };
    }
    let mut settled = Settled::new(ctx, record, |job| rules::instant(job, now));
    let body = body.filter(|b| !b.is_null());
    let name = &request.name;
    let not_found = |operation| refusal(&Error::JobNotFound { operation, job: name.clone() });
    match request.operation {
        JobOperation::Create => create(ctx, settled, now, request, body),
        JobOperation::Get => {
            let answer = match settled.record() {
                Some(record) => view(ctx, record, 200),
                None => not_found(Operation::Get),
            };
            settled.finish(answer, Write::Unchanged)
        }
        JobOperation::Update => match update(ctx, settled.record(), now, name, body) {
            Ok((record, keys, events)) => {
                let answer = view(ctx, &record, 200);
                settled.events.extend(events);
                // A body that changes nothing leaves the stored record as it is: no write.
                if settled.record() != Some(&record) {
                    settled.set(Some(record));
                }
                // A new drive list brings its own BitLocker keys (R-UPDATE-4).
                let keys = keys.map_or(Write::Unchanged, |keys| Write::Put(Box::new(keys)));
                settled.finish(answer, keys)
            }
            Err(answer) => settled.finish(answer, Write::Unchanged),
        },
        JobOperation::Delete => {
            let Some(current) = settled.record() else {
                return settled.finish(not_found(Operation::Delete), Write::Unchanged);
            };
            let mut job = Some(current.job().clone());
            let outcome =
                decider::execute(&mut job, &ctx.policy, now, &Command::Delete { job: name.clone() });
            match outcome.result {
                Ok(event) => {
                    let after = job.map(|job| current.with_job(job));
                    settled.events.extend(outcome.timers);
                    settled.events.push(event);
                    settled.set(after);
                    settled.finish(Response { status: 200, body: None }, Write::Unchanged)
                }
                Err(e) => settled.finish(refusal(&e), Write::Unchanged),
            }
        }
        JobOperation::ListBitLockerKeys => {
            let answer = match settled.record() {
                Some(record) => {
                    let value: Vec<Value> = record
                        .job()
                        .drive_list()
                        .iter()
                        .filter_map(|d| {
                            let key = keys?.get(d.drive_id.as_str())?;
                            Some(serde_json::json!({ "driveId": d.drive_id, "bitLockerKey": key }))
                        })
                        .collect();
                    Response { status: 200, body: Some(serde_json::json!({ "value": value })) }
                }
                None => not_found(Operation::Get),
            };
            settled.finish(answer, Write::Unchanged)
        }
    }
}

/// The job's ARM resource as a response.
fn view(ctx: &Context, record: &Record, status: u16) -> Response {
    match serde_json::to_value(record.resource(&ctx.config)) {
        Ok(body) => Response { status, body: Some(body) },
        Err(e) => error(500, "InternalError", e.to_string()),
    }
}

/// `PUT`: the new record and its keys, or the refusal.
fn create(
    ctx: &Context,
    mut settled: Settled<'_>,
    now: Timestamp,
    request: &JobRequest,
    body: Option<&Value>,
) -> JobAnswer<Response> {
    let made = (|| {
        let Some(body) = body else { return Err(invalid("body: Create Job needs a body")) };
        let put: PutJobParameters = parse(body, "").map_err(invalid)?;
        super::limits::check(&put).map_err(invalid)?;
        let Some(location) = put.location else { return Err(invalid("location: missing")) };
        let Some(given) = put.properties else { return Err(invalid("properties: missing")) };
        let job_type = match given.job_type.as_deref() {
            Some("Import") => JobType::Import,
            Some("Export") => JobType::Export,
            Some(other) => {
                return Err(invalid(format!(
                    "properties.jobType: {} is neither Import nor Export",
                    path::quote(other)
                )));
            }
            None => return Err(invalid("properties.jobType: missing")),
        };
        let (drives, details, keys) = given_drives(given.drive_list.as_deref().unwrap_or_default())?;
        let command = Command::Create { job: request.name.clone(), job_type, drives };
        let mut job = settled.record().map(|r| r.job().clone());
        let outcome = decider::execute(&mut job, &ctx.policy, now, &command);
        let event = outcome.result.map_err(|e| refusal(&e))?;
        let Some(job) = job else { return Err(error(500, "InternalError", "the created job is not there")) };
        // Two drives of one id are refused by the core before we get here; the details follow it.
        let properties = CustomerProperties {
            storage_account_id: given.storage_account_id,
            return_address: given.return_address,
            return_shipping: given.return_shipping,
            delivery_package: given.delivery_package,
            diagnostics_path: given.diagnostics_path,
            log_level: given.log_level,
            backup_drive_manifest: given.backup_drive_manifest,
            export: given.export,
            encryption_key: Some(given.encryption_key.unwrap_or_else(|| ctx.config.encryption_key.clone())),
            drive_list: details,
        };
        let authors =
            Authors { created_by: ctx.config.caller.clone(), last_modified_by: ctx.config.caller.clone() };
        let record = Record::new(request.scope.clone(), job, location, put.tags, properties, authors);
        Ok((record, BitLockerKeys::new(keys), outcome.timers, event))
    })();
    match made {
        Ok((record, keys, timers, event)) => {
            let answer = view(ctx, &record, 201);
            settled.events.extend(timers);
            settled.events.push(event);
            settled.set(Some(record));
            settled.finish(answer, Write::Put(Box::new(keys)))
        }
        Err(answer) => settled.finish(answer, Write::Unchanged),
    }
}

/// `PATCH`: the changed record, the new BitLocker keys if the drive list was replaced, and the
/// events of its commands, or the refusal.
///
/// The core decides: the fields the body changes are one `update` command (R-UPDATE-1 to
/// R-UPDATE-6; in `Creating` it restarts the two-week clock, R-UPDATE-7), then `state:
/// "Shipping"` is a `ship` and `cancelRequested: true` a `cancel`. They are decided in that order
/// on a copy of the job, and the request is all or nothing: if one is refused, nothing changes.
/// This layer keeps the values the core does not hold (addresses, carrier, log level, tags, the
/// drives' manifest details). Every accepted command is an event, so `systemData.lastModifiedAt`
/// (the job's last recorded instant) moves with it; a body that changes nothing is answered 200
/// and records nothing.
fn update(
    ctx: &Context,
    current: Option<&Record>,
    now: Timestamp,
    name: &JobName,
    body: Option<&Value>,
) -> Result<(Record, Option<BitLockerKeys>, Vec<Event>), Response> {
    let Some(body) = body else { return Err(invalid("body: Update Job Properties needs a body")) };
    let update: UpdateJobParameters = parse(body, "").map_err(invalid)?;
    super::limits::check(&update).map_err(invalid)?;
    let props = update.properties.unwrap_or_default();
    if props.cancel_requested == Some(false) {
        return Err(invalid(
            "properties.cancelRequested: only true is accepted (a cancel cannot be withdrawn)",
        ));
    }
    let ship = match props.state.as_deref() {
        None | Some("") => false,
        Some("Shipping") => true,
        Some(other) => {
            return Err(invalid(format!(
                "properties.state: {}; only \"Shipping\" (or \"\" for no change) is accepted",
                path::quote(other)
            )));
        }
    };
    let cancel = props.cancel_requested == Some(true);
    if ship && cancel {
        return Err(invalid(
            "properties: a request either ships (state) or cancels (cancelRequested), not both",
        ));
    }
    let fields = updated_fields(&props, update.tags.is_some());
    let new_drives = props.drive_list.as_deref().map(given_drives).transpose()?;
    let Some(current) = current else {
        return Err(refusal(&Error::JobNotFound { operation: Operation::Update, job: name.clone() }));
    };
    let given = current.properties();
    let mut commands = Vec::new();
    if !fields.is_empty() {
        let drives = new_drives.as_ref().map(|(ids, _, _)| ids.clone()).unwrap_or_default();
        commands.push(Command::Update { job: name.clone(), fields, drives });
    }
    if cancel {
        commands.push(Command::Cancel { job: name.clone() });
    } else if ship {
        if props.return_address.is_none() && given.return_address.is_none() {
            return Err(invalid(
                "properties.returnAddress: needed to mark the job Shipping, in this or an earlier request",
            ));
        }
        let Some(package) = props.delivery_package.as_ref().or(given.delivery_package.as_ref()) else {
            return Err(invalid(
                "properties.deliveryPackage: needed to mark the job Shipping, in this or an earlier request",
            ));
        };
        commands.push(Command::Ship {
            job: name.clone(),
            carrier: package.carrier_name.clone(),
            tracking_number: package.tracking_number.clone(),
        });
    }
    let mut record = current.clone();
    if commands.is_empty() {
        return Ok((record, None, Vec::new()));
    }
    let mut job = Some(current.job().clone());
    let mut events = Vec::new();
    for command in &commands {
        let outcome = decider::execute(&mut job, &ctx.policy, now, command);
        let event = outcome.result.map_err(|e| refusal(&e))?;
        events.extend(outcome.timers);
        events.push(event);
    }
    match job {
        Some(job) => *record.job_mut() = job,
        None => return Err(error(500, "InternalError", "the updated job is not there")),
    }
    let p = record.properties_mut();
    p.return_address = props.return_address.or(p.return_address.take());
    p.return_shipping = props.return_shipping.or(p.return_shipping.take());
    p.delivery_package = props.delivery_package.or(p.delivery_package.take());
    p.log_level = props.log_level.or(p.log_level.take());
    p.backup_drive_manifest = props.backup_drive_manifest.or(p.backup_drive_manifest.take());
    let keys = new_drives.map(|(_, details, keys)| {
        p.drive_list = details;
        BitLockerKeys::new(keys)
    });
    if update.tags.is_some() {
        record.set_tags(update.tags);
    }
    record.set_last_modified_by(ctx.config.caller.clone());
    Ok((record, keys, events))
}

/// Reads a datacenter operation aimed at a job by its ARM path: `{"op": "packageReceived" |
/// "startTransfer" | "progress" | "finishTransfer" | "shipBack", …}` with the fields of a
/// scenario step. Gives the job's scope and the core command, or the refusal (a 400 and its
/// ARM error body).
pub fn datacenter_command(path: &str, operation: &Value) -> Result<(Scope, Command), Response> {
    let (scope, name) = match path::parse(path).map_err(invalid)?.target {
        Target::Job { scope, name } => (scope, name),
        Target::BitLockerKeys { .. } | Target::ResourceGroupJobs { .. } | Target::SubscriptionJobs { .. } => {
            return Err(invalid("path: a datacenter operation names one job"));
        }
    };
    let Value::Object(fields) = operation else {
        return Err(invalid("a datacenter operation is a JSON object"));
    };
    let mut fields = fields.clone();
    fields.insert("job".into(), Value::String(name.to_string()));
    let command: Command = parse(&Value::Object(fields), "").map_err(invalid)?;
    Ok((scope, command))
}

/// Applies a datacenter operation (a core command of the datacenter's: `PackageReceived`,
/// `StartTransfer`, `Progress`, `FinishTransfer`, `ShipBack`) to the job's record, after its due
/// timers, as [`handle_job`] does for a customer's request. A customer's command is refused
/// (400): it comes as an ARM request. A refusal is the response a host sends: its status (404
/// for an unknown job, 409 when the job's state refuses, 400 for a wrong request) and ARM error
/// body, as every other refusal of the ARM layer.
pub fn handle_datacenter(
    ctx: &Context,
    record: Option<&Record>,
    now: Timestamp,
    command: &Command,
) -> JobAnswer<Result<(), Response>> {
    let refuse = |settled: Settled<'_>, response: Response| settled.finish(Err(response), Write::Unchanged);
    match command {
        Command::PackageReceived { .. }
        | Command::StartTransfer { .. }
        | Command::Progress { .. }
        | Command::FinishTransfer { .. }
        | Command::ShipBack { .. } => {}
        Command::Create { .. }
        | Command::Ship { .. }
        | Command::Update { .. }
        | Command::Cancel { .. }
        | Command::Delete { .. } => {
            let settled = Settled { before: record, now: record.map(Cow::Borrowed), events: Vec::new() };
            return refuse(settled, invalid("op: a customer operation; send it as an ARM request"));
        }
    }
    if let Some(other) = record.filter(|r| r.name() != command.job()) {
        let settled = Settled { before: record, now: record.map(Cow::Borrowed), events: Vec::new() };
        let message = format!("the host passed the record of job '{}'", other.name());
        return refuse(settled, error(500, "InternalError", message));
    }
    let mut settled = Settled::new(ctx, record, |job| rules::instant(job, now));
    let Some(current) = settled.record() else {
        let e = Error::JobNotFound { operation: command.operation(), job: command.job().clone() };
        return refuse(settled, refusal(&e));
    };
    let mut job = Some(current.job().clone());
    let outcome = decider::execute(&mut job, &ctx.policy, now, command);
    match (outcome.result, job) {
        (Ok(event), Some(job)) => {
            let record = current.with_job(job);
            settled.events.extend(outcome.timers);
            settled.events.push(event);
            settled.set(Some(record));
            settled.finish(Ok(()), Write::Unchanged)
        }
        (Ok(_), None) => refuse(settled, error(500, "InternalError", "the job vanished")),
        (Err(e), _) => refuse(settled, refusal(&e)),
    }
}

/// Fires the record's timers due at `now` (deadline `<= now`), earliest first: the host's
/// deadline sweep, for a record its index says is due. A record removed by its timer is to be
/// deleted, with its keys.
pub fn handle_timeout(ctx: &Context, record: &Record, now: Timestamp) -> JobAnswer<()> {
    Settled::new(ctx, Some(record), |_| now).finish((), Write::Unchanged)
}
