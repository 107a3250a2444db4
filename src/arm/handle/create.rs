//! `PUT`: Create Job, which ARM defines as create-or-update.
//!
//! On a name no job holds, the job is created (201). On an existing job (as its due timers left
//! it) the same `PUT` answers 200 and changes nothing (R-PUT-1); one that changes fields Update
//! Job may change is decided as that update, under its rules (R-PUT-2); one that changes what
//! no update can (`jobType`, `storageAccountId`, `location`, `diagnosticsPath`, `export`,
//! `encryptionKey`) is refused 409 `PropertyChangeNotAllowed`, naming the field (R-PUT-3). A
//! job's `location` must be one the context's catalogue holds (R-PUT-4).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;

use super::drives::given_drives;
use super::settled::Settled;
use super::{JobAnswer, JobRequest, Write, parse, view};
use crate::arm::context::Context;
use crate::arm::quote::quote;
use crate::arm::record::{Authors, BitLockerKeys, CustomerProperties, DriveDetails, Record, package_info};
use crate::arm::request::{Refusal, Response, error, invalid, refusal};
use crate::arm::types::{JobDetails, PutJobParameters};
use crate::hosts::decider;
use crate::model::command::Command;
use crate::model::event::Event;
use crate::model::name::DriveId;
use crate::model::rule::Rule;
use crate::model::state::JobType;
use crate::model::update::UpdateField;

/// `PUT`: the new record and its keys, or the refusal.
pub(super) fn create(
    ctx: &Context,
    mut settled: Settled<'_>,
    now: Timestamp,
    request: &JobRequest,
    body: Option<&Value>,
) -> JobAnswer<Response> {
    let made = (|| {
        let Some(body) = body else { return Err(invalid("body: Create Job needs a body")) };
        let put: PutJobParameters = parse(body, "").map_err(invalid)?;
        crate::arm::limits::check(&put).map_err(invalid)?;
        let Some(location) = put.location else { return Err(invalid("location: missing")) };
        let Some(given) = put.properties else { return Err(invalid("properties: missing")) };
        let job_type = match given.job_type.as_deref() {
            Some("Import") => JobType::Import,
            Some("Export") => JobType::Export,
            Some(other) => {
                return Err(invalid(format!(
                    "properties.jobType: {} is neither Import nor Export",
                    quote(other)
                )));
            }
            None => return Err(invalid("properties.jobType: missing")),
        };
        let (drives, details, keys) = given_drives(given.drive_list.as_deref().unwrap_or_default())?;
        if ctx.config.locations.get(&location).is_none() {
            return Err(error(
                400,
                "LocationNotAvailableForResourceType",
                format!(
                    "location {}: Microsoft.ImportExport/jobs is not available there; it is in {} [{}]",
                    quote(&location),
                    ctx.config.locations.names(),
                    Rule::Put4.id()
                ),
            ));
        }
        if let Some(existing) = settled.record() {
            let given_list = given.drive_list.as_ref().map(|_| (&drives, &details));
            return Ok(Put::Existing(replacing(
                existing, ctx, &location, job_type, &given, given_list, put.tags,
            )?));
        }
        let mut commands = vec![Command::Create { job: request.name.clone(), job_type, drives }];
        if let Some(package) = &given.delivery_package {
            // The package's description is the core job's: the creation's first update
            // (R-UPDATE-2), decided at the same instant.
            commands.push(Command::Update {
                job: request.name.clone(),
                fields: vec![UpdateField::DeliveryPackage],
                drives: Vec::new(),
                delivery_package: Some(package_info(package)),
            });
        }
        let mut job = settled.record().map(|r| r.job().clone());
        let mut events = Vec::new();
        for command in &commands {
            let outcome = decider::execute(&mut job, &ctx.policy, now, command).outcome;
            events.extend(outcome.timers);
            events.push(outcome.result.map_err(|e| refusal(&e))?);
        }
        let Some(job) = job else { return Err(error(500, "InternalError", "the created job is not there")) };
        // Two drives of one id are refused by the core before we get here; the details follow it.
        let properties = CustomerProperties {
            storage_account_id: given.storage_account_id,
            return_address: given.return_address,
            return_shipping: given.return_shipping,
            diagnostics_path: given.diagnostics_path,
            log_level: given.log_level,
            backup_drive_manifest: given.backup_drive_manifest,
            export: given.export,
            encryption_key: Some(given.encryption_key.unwrap_or_else(|| ctx.config.encryption_key.clone())),
            drive_list: details,
            delivery_package_v1: None,
        };
        let authors =
            Authors { created_by: ctx.config.caller.clone(), last_modified_by: ctx.config.caller.clone() };
        let record = Record::new(request.scope.clone(), job, location, put.tags, properties, authors);
        Ok(Put::New(Box::new(record), BitLockerKeys::new(keys), events))
    })();
    match made {
        Ok(Put::Existing(update)) => super::update::update(ctx, settled, now, &request.name, Some(&update)),
        Ok(Put::New(record, keys, events)) => {
            let answer = view(ctx, &record, 201);
            settled.events.extend(events);
            settled.set(Some(*record));
            settled.finish(answer, Write::Put(Box::new(keys)))
        }
        Err(answer) => settled.finish(answer.response(), Write::Unchanged),
    }
}

/// What a `PUT` turned out to be.
enum Put {
    /// A new job: its record, keys, and its events: the timers that fired before (on a name
    /// whose job they removed), its creation and, if the `PUT` described the package, the
    /// update that records it.
    New(Box<Record>, BitLockerKeys, Vec<Event>),
    /// A `PUT` on an existing job: the Update Job body of what it changes (R-PUT-2).
    Existing(Value),
}

/// R-PUT-1 to R-PUT-3: the Update Job body of what a `PUT` changes on `existing` (empty when it
/// changes nothing), or the refusal of a change no update can make.
///
/// A field the `PUT` leaves out keeps its value (the model cannot clear an address); `tags` are
/// the resource's and are replaced whole, as ARM replaces them. A drive list is compared by its
/// ids and manifest details; BitLocker keys are not read here, so a `PUT` that changes only a
/// key changes nothing.
fn replacing(
    existing: &Record,
    ctx: &Context,
    location: &str,
    job_type: JobType,
    given: &JobDetails,
    given_list: Option<(&Vec<DriveId>, &Vec<DriveDetails>)>,
    tags: Option<BTreeMap<String, String>>,
) -> Result<Value, Refusal> {
    let held = existing.properties();
    let same_location =
        match (ctx.config.locations.get(location), ctx.config.locations.get(existing.location())) {
            (Some(a), Some(b)) => a.id == b.id,
            _ => location == existing.location(),
        };
    let fixed: [(&str, bool); 6] = [
        ("properties.jobType", job_type == existing.job().job_type()),
        ("properties.storageAccountId", given.storage_account_id == held.storage_account_id),
        ("location", same_location),
        (
            "properties.diagnosticsPath",
            given.diagnostics_path.is_none() || given.diagnostics_path == held.diagnostics_path,
        ),
        ("properties.export", given.export.is_none() || given.export == held.export),
        (
            "properties.encryptionKey",
            given.encryption_key.is_none() || given.encryption_key == held.encryption_key,
        ),
    ];
    if let Some((field, _)) = fixed.iter().find(|(_, same)| !same) {
        return Err(error(
            409,
            "PropertyChangeNotAllowed",
            format!(
                "{field}: job '{}' exists and its {field} cannot change; Create Job on an existing job changes only what Update Job may [{}]",
                existing.name(),
                Rule::Put3.id()
            ),
        ));
    }
    let mut properties = serde_json::Map::new();
    let mut changed = |name: &str, value: Result<Value, serde_json::Error>| -> Result<(), Refusal> {
        let value = value.map_err(|e| error(500, "InternalError", e.to_string()))?;
        properties.insert(name.to_string(), value);
        Ok(())
    };
    if given.return_address.is_some() && given.return_address != held.return_address {
        changed("returnAddress", serde_json::to_value(&given.return_address))?;
    }
    if given.return_shipping.is_some() && given.return_shipping != held.return_shipping {
        changed("returnShipping", serde_json::to_value(&given.return_shipping))?;
    }
    if let Some(package) = &given.delivery_package {
        if Some(&package_info(package)) != existing.job().delivery_package() {
            changed("deliveryPackage", serde_json::to_value(package))?;
        }
    }
    if given.log_level.is_some() && given.log_level != held.log_level {
        changed("logLevel", serde_json::to_value(&given.log_level))?;
    }
    if given.backup_drive_manifest.is_some() && given.backup_drive_manifest != held.backup_drive_manifest {
        changed("backupDriveManifest", serde_json::to_value(given.backup_drive_manifest))?;
    }
    if let (Some(list), Some((ids, details))) = (&given.drive_list, given_list) {
        let held_ids: Vec<&DriveId> = existing.job().drive_list().iter().map(|d| &d.drive_id).collect();
        if ids.iter().collect::<Vec<_>>() != held_ids || *details != held.drive_list {
            changed("driveList", serde_json::to_value(list))?;
        }
    }
    let mut body = serde_json::Map::new();
    body.insert("properties".into(), Value::Object(properties));
    let tags = tags.unwrap_or_default();
    if existing.tags().map_or(!tags.is_empty(), |held| *held != tags) {
        let tags = serde_json::to_value(tags).map_err(|e| error(500, "InternalError", e.to_string()))?;
        body.insert("tags".into(), tags);
    }
    Ok(Value::Object(body))
}
