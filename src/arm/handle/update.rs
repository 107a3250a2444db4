//! `PATCH`: Update Job Properties: an update, then a ship or a cancel, all or nothing.

use jiff::Timestamp;
use serde_json::Value;

use super::drives::given_drives;
use super::settled::Settled;
use super::{JobAnswer, Write, parse, view};
use crate::arm::context::Context;
use crate::arm::quote::quote;
use crate::arm::record::{BitLockerKeys, Record, package_info};
use crate::arm::request::{Refusal, Response, error, invalid, refusal};
use crate::arm::types::{UpdateJobParameters, UpdateJobProperties};
use crate::hosts::decider;
use crate::model::command::Command;
use crate::model::error::{Error, Operation, Problem};
use crate::model::event::Event;
use crate::model::name::JobName;
use crate::model::update::UpdateField;

/// `PATCH` on the job as its timers left it: the answer and what to write back.
pub(super) fn update(
    ctx: &Context,
    mut settled: Settled<'_>,
    now: Timestamp,
    name: &JobName,
    body: Option<&Value>,
) -> JobAnswer<Response> {
    match changed(ctx, settled.record(), now, name, body) {
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
        Err(answer) => settled.finish(answer.response(), Write::Unchanged),
    }
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
fn changed(
    ctx: &Context,
    current: Option<&Record>,
    now: Timestamp,
    name: &JobName,
    body: Option<&Value>,
) -> Result<(Record, Option<BitLockerKeys>, Vec<Event>), Refusal> {
    let Some(body) = body else { return Err(invalid("body: Update Job Properties needs a body")) };
    let update: UpdateJobParameters = parse(body, "").map_err(invalid)?;
    crate::arm::limits::check(&update).map_err(invalid)?;
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
                quote(other)
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
        // The package's description is the core job's (R-UPDATE-2); this layer keeps no copy.
        let delivery_package = props.delivery_package.as_ref().map(package_info);
        commands.push(Command::Update { job: name.clone(), fields, drives, delivery_package });
    }
    if cancel {
        commands.push(Command::Cancel { job: name.clone() });
    } else if ship {
        // The package the job ships with is the one it holds, given by this request's update
        // or an earlier one.
        commands.push(Command::Ship { job: name.clone(), carrier: None, tracking_number: None });
    }
    let return_address_known = props.return_address.is_some() || given.return_address.is_some();
    let mut record = current.clone();
    if commands.is_empty() {
        return Ok((record, None, Vec::new()));
    }
    let mut job = Some(current.job().clone());
    let mut events = Vec::new();
    for command in &commands {
        if let (Command::Ship { .. }, Some(settled)) = (command, &job) {
            // R-FLOW-8: what the job knows once this request's update is in.
            let known: Vec<UpdateField> = [
                (return_address_known, UpdateField::ReturnAddress),
                (settled.delivery_package().is_some(), UpdateField::DeliveryPackage),
            ]
            .into_iter()
            .filter_map(|(known, field)| known.then_some(field))
            .collect();
            settled.may_ship_with(&ctx.policy, &known).map_err(|e| ship_refusal(&e))?;
        }
        let outcome = decider::execute(&mut job, &ctx.policy, now, command).outcome;
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

/// A refusal of a shipment as ARM answers it: a missing detail (R-FLOW-8) is a 400 whose
/// message starts with the field, as every other 400 of a body does.
fn ship_refusal(e: &Error) -> Refusal {
    match e {
        Error::InvalidRequest { problem: Problem::ShipNeeds { field }, .. } => invalid(format!(
            "properties.{field}: needed to mark the job Shipping, in this or an earlier request [{}]",
            e.rule()
        )),
        Error::JobNotFound { .. }
        | Error::JobAlreadyExists { .. }
        | Error::CancelNotAllowed { .. }
        | Error::DeleteNotAllowed { .. }
        | Error::UpdateNotAllowed { .. }
        | Error::InvalidStateTransition { .. }
        | Error::DriveNotFound { .. }
        | Error::InvalidRequest { .. } => refusal(e),
    }
}
