//! `PUT`: Create Job.

use jiff::Timestamp;
use serde_json::Value;

use super::drives::given_drives;
use super::settled::Settled;
use super::{JobAnswer, JobRequest, Write, parse, view};
use crate::arm::context::Context;
use crate::arm::path;
use crate::arm::record::{Authors, BitLockerKeys, CustomerProperties, Record};
use crate::arm::request::{Response, error, invalid, refusal};
use crate::arm::types::PutJobParameters;
use crate::hosts::decider;
use crate::model::command::Command;
use crate::model::state::JobType;

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
                    path::quote(other)
                )));
            }
            None => return Err(invalid("properties.jobType: missing")),
        };
        let (drives, details, keys) = given_drives(given.drive_list.as_deref().unwrap_or_default())?;
        let command = Command::Create { job: request.name.clone(), job_type, drives };
        let mut job = settled.record().map(|r| r.job().clone());
        let outcome = decider::execute(&mut job, &ctx.policy, now, &command).outcome;
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
        Err(answer) => settled.finish(answer.response(), Write::Unchanged),
    }
}
