//! The entry point: ARM requests in, ARM responses out, over the lifecycle core.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::path::{self, Scope, Target};
use super::types::{
    DriveStatus, EncryptionKeyDetails, ErrorBody, ErrorResponse, IdentityDetails, JobDetails, JobResponse,
    PackageInformation, PutJobParameters, ShippingInformation, SystemData, UpdateJobParameters,
    UpdateJobProperties,
};
use crate::command::Command;
use crate::error::Error;
use crate::event::Event;
use crate::job::Job;
use crate::name::{DriveId, JobName};
use crate::policy::Policy;
use crate::registry::Registry;
use crate::state::{DriveState, JobState, JobType};

/// What the host supplies: the values the service would fill in that the model cannot know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Config {
    /// The datacenter's address, shown as `shippingInformation` (omitted when `None`).
    pub shipping_information: Option<ShippingInformation>,
    /// `provisioningState` of every job.
    pub provisioning_state: String,
    /// `identity` of every job.
    pub identity: IdentityDetails,
    /// `encryptionKey` of a job created without one.
    pub encryption_key: EncryptionKeyDetails,
    /// Who sends the requests: `systemData.createdBy`/`lastModifiedBy` and their types
    /// (omitted when `None`).
    pub caller: Option<Caller>,
}

/// The identity behind the requests, for `systemData`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Caller {
    /// `createdBy` / `lastModifiedBy`.
    pub name: String,
    /// `createdByType` / `lastModifiedByType`, e.g. `User` or `Application`.
    pub kind: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            shipping_information: None,
            provisioning_state: "Succeeded".into(),
            identity: IdentityDetails { identity_type: Some("None".into()), ..IdentityDetails::default() },
            encryption_key: EncryptionKeyDetails {
                kek_type: Some("MicrosoftManaged".into()),
                ..EncryptionKeyDetails::default()
            },
            caller: None,
        }
    }
}

/// An HTTP method of the ARM API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "UPPERCASE")]
#[strum(serialize_all = "UPPERCASE")]
pub enum Method {
    /// Read a job, or list jobs.
    Get,
    /// Create a job.
    Put,
    /// Update a job's properties (cancel, ship, addresses, …).
    Patch,
    /// Delete a job.
    Delete,
    /// An action: `listBitLockerKeys`.
    Post,
}

/// A request, as data: method, ARM path (with its query), optional JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path, e.g. `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ImportExport/jobs/j`.
    pub path: String,
    /// The JSON body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// A response, as data: status code and JSON body (none for `DELETE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// A timer that fired in one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopedEvent {
    /// The job's subscription and resource group.
    pub scope: Scope,
    /// What happened.
    pub event: Event,
}

/// What one input did: the timers that came due first, then its own answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange<T> {
    /// Timers that fired before the input, earliest first within each scope.
    pub timers: Vec<ScopedEvent>,
    /// The answer.
    pub answer: T,
}

/// What ARM knows of a job and the core does not: location, tags and the customer's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<BTreeMap<String, String>>,
    properties: JobDetails,
}

/// Jobs of every subscription and resource group, answering ARM requests.
///
/// One core [`Registry`] per scope (subscription and resource group): the same job name in two
/// resource groups is two jobs. Like the registry, the service never reads a clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    config: Config,
    policy: Policy,
    scopes: Vec<ScopeState>,
}

/// One scope's registry and the ARM details of its jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopeState {
    scope: Scope,
    registry: Registry,
    details: BTreeMap<JobName, Details>,
}

impl ScopeState {
    fn details(&self, name: &JobName) -> Option<&Details> {
        self.details.get(name)
    }
    fn details_mut(&mut self, name: &JobName) -> Option<&mut Details> {
        self.details.get_mut(name)
    }
    /// Drops the details of jobs the core no longer has.
    fn prune(&mut self) {
        let registry = &self.registry;
        self.details.retain(|name, _| registry.peek(name.as_str()).is_some());
    }
}

/// The body of a refusal.
fn error(status: u16, code: &str, message: impl Into<String>) -> Response {
    let body = ErrorResponse {
        error: ErrorBody { code: Some(code.into()), message: Some(message.into()), ..ErrorBody::default() },
    };
    Response { status, body: serde_json::to_value(body).ok() }
}

fn invalid(message: impl Into<String>) -> Response {
    error(400, "InvalidRequest", message)
}

/// A core refusal as an ARM answer: 404 for an unknown job, 409 when the job's state refuses,
/// 400 when the request itself is wrong. The code is the core error's `code()`.
fn refusal(e: &Error) -> Response {
    let status = match e {
        Error::JobNotFound { .. } => 404,
        Error::JobAlreadyExists { .. }
        | Error::CancelNotAllowed { .. }
        | Error::DeleteNotAllowed { .. }
        | Error::InvalidStateTransition { .. } => 409,
        Error::DriveNotFound { .. } | Error::InvalidRequest { .. } => 400,
    };
    error(status, e.code(), e.to_string())
}

/// Parses `value` as `T`, naming the field that does not fit (`properties.jobType: …`).
fn parse<T: DeserializeOwned>(value: &Value, prefix: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = match (prefix.is_empty(), path.as_str()) {
            (_, ".") => prefix.to_string(),
            (true, _) => path,
            (false, _) => format!("{prefix}.{path}"),
        };
        format!("{}: {}", if field.is_empty() { "body" } else { &field }, e.inner())
    })
}

/// ARM's own rule for Update Job Properties: the customer's addresses, carrier account,
/// delivery package, log level and manifest backup may change only while the drives are still
/// with the customer or on their way (`Creating`, `Shipping`); tags may change in any state.
fn fields_updatable(state: JobState) -> bool {
    match state {
        JobState::Creating | JobState::Shipping => true,
        JobState::Received
        | JobState::Transferring
        | JobState::Packaging
        | JobState::Completed
        | JobState::Closed => false,
    }
}

/// The customer fields of an update that `fields_updatable` governs, by JSON name.
fn updated_fields(p: &UpdateJobProperties) -> Vec<&'static str> {
    let mut out = Vec::new();
    if p.return_address.is_some() {
        out.push("returnAddress");
    }
    if p.return_shipping.is_some() {
        out.push("returnShipping");
    }
    if p.delivery_package.is_some() {
        out.push("deliveryPackage");
    }
    if p.log_level.is_some() {
        out.push("logLevel");
    }
    if p.backup_drive_manifest.is_some() {
        out.push("backupDriveManifest");
    }
    out
}

impl Service {
    /// A service with no jobs.
    pub fn new(config: Config, policy: Policy) -> Service {
        Service { config, policy, scopes: Vec::new() }
    }

    /// The earliest pending timer of any scope.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.scopes.iter().filter_map(|s| s.registry.next_deadline()).map(|d| d.at).min()
    }

    /// Fires every timer due at `now`, in every scope.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Vec<ScopedEvent> {
        let mut fired = Vec::new();
        for state in &mut self.scopes {
            let events = state.registry.handle_timeout(now);
            if !events.is_empty() {
                fired.extend(
                    events.into_iter().map(|event| ScopedEvent { scope: state.scope.clone(), event }),
                );
                state.prune();
            }
        }
        fired
    }

    /// Answers one ARM request at `now`, after the timers due at `now`.
    pub fn handle(&mut self, now: Timestamp, request: &Request) -> Exchange<Response> {
        let timers = self.handle_timeout(now);
        let answer = self.answer(now, request);
        Exchange { timers, answer }
    }

    /// Applies a datacenter operation (`packageReceived`, `startTransfer`, `progress`,
    /// `finishTransfer`, `shipBack`, with the fields of a scenario step) to the job at `path`.
    pub fn datacenter(
        &mut self,
        now: Timestamp,
        path: &str,
        operation: &Value,
    ) -> Exchange<Result<(), ErrorBody>> {
        let timers = self.handle_timeout(now);
        let answer = self.datacenter_answer(now, path, operation).map_err(|r| {
            r.body
                .and_then(|b| serde_json::from_value::<ErrorResponse>(b).ok())
                .map(|e| e.error)
                .unwrap_or_default()
        });
        Exchange { timers, answer }
    }

    fn datacenter_answer(&mut self, now: Timestamp, path: &str, operation: &Value) -> Result<(), Response> {
        let (scope, name) = match path::parse(path).map_err(invalid)?.target {
            Target::Job { scope, name } => (scope, name),
            Target::BitLockerKeys { .. }
            | Target::ResourceGroupJobs { .. }
            | Target::SubscriptionJobs { .. } => {
                return Err(invalid("path: a datacenter operation names one job"));
            }
        };
        let Value::Object(fields) = operation else {
            return Err(invalid("a datacenter operation is a JSON object"));
        };
        let mut fields = fields.clone();
        fields.insert("job".into(), Value::String(name.to_string()));
        let command: Command = parse(&Value::Object(fields), "").map_err(invalid)?;
        match command {
            Command::PackageReceived { .. }
            | Command::StartTransfer { .. }
            | Command::Progress { .. }
            | Command::FinishTransfer { .. }
            | Command::ShipBack { .. } => {}
            Command::Create { .. }
            | Command::Ship { .. }
            | Command::Cancel { .. }
            | Command::Delete { .. } => {
                return Err(invalid("op: a customer operation; send it as an ARM request"));
            }
        }
        let Some(state) = self.scopes.iter_mut().find(|s| s.scope == scope) else {
            return Err(refusal(&Error::JobNotFound { operation: command.operation(), job: name }));
        };
        state.registry.execute(now, &command).result.map(drop).map_err(|e| refusal(&e))
    }

    fn answer(&mut self, now: Timestamp, request: &Request) -> Response {
        let path = match path::parse(&request.path) {
            Ok(path) => path,
            Err(message) => return invalid(message),
        };
        let body = request.body.as_ref().filter(|b| !b.is_null());
        match (request.method, path.target) {
            (Method::Put, Target::Job { scope, name }) => self.create(now, scope, name, body),
            (Method::Get, Target::Job { scope, name }) => match self.view(&scope, &name) {
                Some(view) => Response { status: 200, body: Some(view) },
                None => refusal(&Error::JobNotFound { operation: crate::Operation::Get, job: name }),
            },
            (Method::Patch, Target::Job { scope, name }) => self.update(now, scope, name, body),
            (Method::Delete, Target::Job { scope, name }) => self.delete(now, scope, name),
            (Method::Get, Target::ResourceGroupJobs { scope }) => self.list(|s| *s == scope, path.top),
            (Method::Get, Target::SubscriptionJobs { subscription }) => {
                self.list(|s| s.subscription == subscription, path.top)
            }
            (Method::Post, Target::BitLockerKeys { scope, name }) => self.bitlocker_keys(&scope, &name),
            (method, _) => {
                error(405, "InvalidRequest", format!("method {method} is not allowed on this path"))
            }
        }
    }

    fn create(&mut self, now: Timestamp, scope: Scope, name: JobName, body: Option<&Value>) -> Response {
        let Some(body) = body else { return invalid("body: Create Job needs a body") };
        let put: PutJobParameters = match parse(body, "") {
            Ok(put) => put,
            Err(message) => return invalid(message),
        };
        let Some(location) = put.location.clone() else { return invalid("location: missing") };
        let Some(mut properties) = put.properties.clone() else { return invalid("properties: missing") };
        let job_type = match properties.job_type.as_deref() {
            Some("Import") => JobType::Import,
            Some("Export") => JobType::Export,
            Some(other) => {
                return invalid(format!("properties.jobType: {other:?} is neither Import nor Export"));
            }
            None => return invalid("properties.jobType: missing"),
        };
        let mut drives = Vec::new();
        for (i, drive) in properties.drive_list.iter().flatten().enumerate() {
            let Some(id) = drive.drive_id.as_deref() else {
                return invalid(format!("properties.driveList[{i}].driveId: missing"));
            };
            match DriveId::new(id) {
                Ok(id) => drives.push(id),
                Err(e) => return invalid(format!("properties.driveList[{i}].driveId: {e}")),
            }
        }
        let command = Command::Create { job: name.clone(), job_type, drives };
        // A new scope exists only once a job is created in it: a refusal changes nothing.
        let index = match self.scopes.iter().position(|s| s.scope == scope) {
            Some(index) => index,
            None => {
                let trial = Registry::new(self.policy);
                if let Err(e) = trial.decide(now, &command).result {
                    return refusal(&e);
                }
                self.scopes.push(ScopeState {
                    scope: scope.clone(),
                    registry: trial,
                    details: BTreeMap::new(),
                });
                self.scopes.sort_by(|a, b| a.scope.cmp(&b.scope));
                match self.scopes.iter().position(|s| s.scope == scope) {
                    Some(index) => index,
                    None => return error(500, "InternalError", "scope vanished"),
                }
            }
        };
        let Some(state) = self.scopes.get_mut(index) else {
            return error(500, "InternalError", "scope vanished");
        };
        if let Err(e) = state.registry.execute(now, &command).result {
            return refusal(&e);
        }
        // Keep only what the customer supplies; the service computes the rest.
        properties.state = None;
        properties.cancel_requested = None;
        properties.percent_complete = None;
        properties.shipping_information = None;
        properties.return_package = None;
        properties.incomplete_blob_list_uri = None;
        properties.provisioning_state = None;
        if properties.encryption_key.is_none() {
            properties.encryption_key = Some(self.config.encryption_key.clone());
        }
        state.details.insert(name.clone(), Details { location, tags: put.tags, properties });
        match self.view(&scope, &name) {
            Some(view) => Response { status: 201, body: Some(view) },
            None => error(500, "InternalError", "the created job is not there"),
        }
    }

    fn update(&mut self, now: Timestamp, scope: Scope, name: JobName, body: Option<&Value>) -> Response {
        let Some(body) = body else { return invalid("body: Update Job Properties needs a body") };
        let update: UpdateJobParameters = match parse(body, "") {
            Ok(update) => update,
            Err(message) => return invalid(message),
        };
        let props = update.properties.clone().unwrap_or_default();
        if props.cancel_requested == Some(false) {
            return invalid(
                "properties.cancelRequested: only true is accepted (a cancel cannot be withdrawn)",
            );
        }
        let ship = match props.state.as_deref() {
            None | Some("") => false,
            Some("Shipping") => true,
            Some(other) => {
                return invalid(format!(
                    "properties.state: {other:?}; only \"Shipping\" (or \"\" for no change) is accepted"
                ));
            }
        };
        let cancel = props.cancel_requested == Some(true);
        if ship && cancel {
            return invalid(
                "properties: a request either ships (state) or cancels (cancelRequested), not both",
            );
        }
        if props.drive_list.is_some() {
            return invalid(
                "properties.driveList: changing drives after creation is not supported by this model",
            );
        }
        let Some(state) = self.scopes.iter_mut().find(|s| s.scope == scope) else {
            return refusal(&Error::JobNotFound { operation: crate::Operation::Ship, job: name });
        };
        let (Some(job), Some(details)) = (state.registry.peek(name.as_str()), state.details(&name)) else {
            return refusal(&Error::JobNotFound { operation: crate::Operation::Ship, job: name });
        };
        let fields = updated_fields(&props);
        if !fields.is_empty() && !fields_updatable(job.state()) {
            return error(
                409,
                "InvalidStateTransition",
                format!(
                    "update of properties.{} refused for job '{name}' in state {}: the customer's addresses, carrier, \
                     delivery package, log level and manifest backup change only in Creating or Shipping",
                    fields.join(", properties."),
                    job.state()
                ),
            );
        }
        let command = if cancel {
            Some(Command::Cancel { job: name.clone() })
        } else if ship {
            if props.return_address.is_none() && details.properties.return_address.is_none() {
                return invalid(
                    "properties.returnAddress: needed to mark the job Shipping, in this or an earlier request",
                );
            }
            let package = props.delivery_package.as_ref().or(details.properties.delivery_package.as_ref());
            let Some(package) = package else {
                return invalid(
                    "properties.deliveryPackage: needed to mark the job Shipping, in this or an earlier request",
                );
            };
            Some(Command::Ship {
                job: name.clone(),
                carrier: package.carrier_name.clone(),
                tracking_number: package.tracking_number.clone(),
            })
        } else {
            None
        };
        if let Some(command) = command {
            if let Err(e) = state.registry.execute(now, &command).result {
                return refusal(&e);
            }
        }
        if let Some(details) = state.details_mut(&name) {
            let p = &mut details.properties;
            p.return_address = props.return_address.or(p.return_address.take());
            p.return_shipping = props.return_shipping.or(p.return_shipping.take());
            p.delivery_package = props.delivery_package.or(p.delivery_package.take());
            p.log_level = props.log_level.or(p.log_level.take());
            p.backup_drive_manifest = props.backup_drive_manifest.or(p.backup_drive_manifest.take());
            if update.tags.is_some() {
                details.tags = update.tags;
            }
        }
        match self.view(&scope, &name) {
            Some(view) => Response { status: 200, body: Some(view) },
            None => refusal(&Error::JobNotFound { operation: crate::Operation::Get, job: name }),
        }
    }

    fn delete(&mut self, now: Timestamp, scope: Scope, name: JobName) -> Response {
        let Some(state) = self.scopes.iter_mut().find(|s| s.scope == scope) else {
            return refusal(&Error::JobNotFound { operation: crate::Operation::Delete, job: name });
        };
        match state.registry.execute(now, &Command::Delete { job: name }).result {
            Ok(_) => {
                state.prune();
                Response { status: 200, body: None }
            }
            Err(e) => refusal(&e),
        }
    }

    fn list(&self, in_scope: impl Fn(&Scope) -> bool, top: Option<usize>) -> Response {
        let mut value = Vec::new();
        for state in self.scopes.iter().filter(|s| in_scope(&s.scope)) {
            let mut jobs: Vec<&Job> = state.registry.iter().collect();
            jobs.sort_by(|a, b| a.name().cmp(b.name()));
            value.extend(jobs.into_iter().filter_map(|job| self.view(&state.scope, job.name())));
        }
        if let Some(top) = top {
            value.truncate(top);
        }
        Response { status: 200, body: Some(serde_json::json!({ "value": value })) }
    }

    fn bitlocker_keys(&self, scope: &Scope, name: &JobName) -> Response {
        let Some(details) = self.scopes.iter().find(|s| &s.scope == scope).and_then(|s| s.details(name))
        else {
            return refusal(&Error::JobNotFound { operation: crate::Operation::Get, job: name.clone() });
        };
        let value: Vec<Value> = details
            .properties
            .drive_list
            .iter()
            .flatten()
            .filter_map(|d| {
                let key = d.bit_locker_key.as_ref()?;
                Some(serde_json::json!({ "driveId": d.drive_id, "bitLockerKey": key }))
            })
            .collect();
        Response { status: 200, body: Some(serde_json::json!({ "value": value })) }
    }

    /// The job's ARM resource as JSON, if the job exists.
    fn view(&self, scope: &Scope, name: &JobName) -> Option<Value> {
        let state = self.scopes.iter().find(|s| &s.scope == scope)?;
        let job = state.registry.peek(name.as_str())?;
        let details = state.details(name)?;
        serde_json::to_value(self.resource(scope, job, details)).ok()
    }

    fn resource(&self, scope: &Scope, job: &Job, details: &Details) -> JobResponse {
        let given = &details.properties;
        let extras = |id: &DriveId| {
            given
                .drive_list
                .iter()
                .flatten()
                .find(|d| d.drive_id.as_deref() == Some(id.as_str()))
                .cloned()
                .unwrap_or_default()
        };
        let drive_list = job
            .drive_list()
            .iter()
            .map(|drive| {
                let started = match drive.state {
                    DriveState::Transferring | DriveState::Completed | DriveState::CompletedMoreInfo => true,
                    DriveState::ShippedBack => drive.bytes_succeeded > 0,
                    DriveState::Specified | DriveState::Received | DriveState::NeverReceived => false,
                };
                let extra = extras(&drive.drive_id);
                DriveStatus {
                    drive_id: Some(drive.drive_id.to_string()),
                    bit_locker_key: None,
                    state: Some(drive.state.to_string()),
                    bytes_succeeded: started.then_some(drive.bytes_succeeded),
                    ..extra
                }
            })
            .collect();
        let system_data = SystemData {
            created_by: self.config.caller.as_ref().map(|c| c.name.clone()),
            created_by_type: self.config.caller.as_ref().map(|c| c.kind.clone()),
            created_at: Some(job.created_at().to_string()),
            last_modified_by: self.config.caller.as_ref().map(|c| c.name.clone()),
            last_modified_by_type: self.config.caller.as_ref().map(|c| c.kind.clone()),
            last_modified_at: Some(job.updated_at().to_string()),
        };
        let package = job.delivery_package();
        let delivery_package = given.delivery_package.clone().or_else(|| {
            package.map(|p| PackageInformation {
                carrier_name: p.carrier_name.clone(),
                tracking_number: p.tracking_number.clone(),
                ..PackageInformation::default()
            })
        });
        JobResponse {
            id: Some(format!("{scope}/providers/Microsoft.ImportExport/jobs/{}", job.name())),
            name: Some(job.name().to_string()),
            resource_type: Some("Microsoft.ImportExport/jobs".into()),
            location: Some(details.location.clone()),
            tags: details.tags.clone(),
            properties: Some(JobDetails {
                job_type: Some(job.job_type().to_string()),
                shipping_information: self.config.shipping_information.clone(),
                delivery_package,
                state: Some(job.state().to_string()),
                cancel_requested: Some(job.cancel_requested()),
                drive_list: Some(drive_list),
                provisioning_state: Some(self.config.provisioning_state.clone()),
                ..given.clone()
            }),
            system_data: Some(system_data),
            identity: Some(self.config.identity.clone()),
        }
    }
}
