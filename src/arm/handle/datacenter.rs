//! The datacenter's operations on a job, sent by its ARM path: package received, copies, ship-back.

use jiff::Timestamp;
use serde_json::Value;

use super::settled::Settled;
use super::{JobAnswer, Write, parse};
use crate::arm::context::Context;
use crate::arm::path::{self, Scope, Target};
use crate::arm::record::Record;
use crate::arm::request::{Refusal, error, invalid, refusal};
use crate::hosts::decider;
use crate::model::command::Command;
use crate::model::error::Error;

/// Reads a datacenter operation aimed at a job by its ARM path: `{"op": "packageReceived" |
/// "startTransfer" | "progress" | "finishTransfer" | "shipBack", …}` with the fields of a
/// scenario step. Gives the job's scope and the core command, or the refusal (a 400 and its
/// ARM error body).
///
/// # Errors
///
/// A 400 [`Refusal`] naming the part: a path that does not name one job, an operation that is
/// not a JSON object, or one whose fields do not make a datacenter command.
pub fn datacenter_command(path: &str, operation: &Value) -> Result<(Scope, Command), Refusal> {
    // The path is a field of the datacenter's body: whatever is wrong with it is a 400.
    let parsed = path::parse(path).map_err(|e| invalid(e.to_string()))?;
    let (scope, name) = match parsed.target {
        Target::Job { scope, name } => (scope, name),
        Target::BitLockerKeys { .. }
        | Target::ResourceGroupJobs { .. }
        | Target::SubscriptionJobs { .. }
        | Target::Locations
        | Target::Location { .. }
        | Target::Operations => {
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
/// timers, as [`handle_job`](super::handle_job) does for a customer's request. A customer's command is refused
/// (400): it comes as an ARM request. A refusal is the response a host sends: its status (404
/// for an unknown job, 409 when the job's state refuses, 400 for a wrong request) and ARM error
/// body, as every other refusal of the ARM layer.
pub fn handle_datacenter(
    ctx: &Context,
    record: Option<&Record>,
    now: Timestamp,
    command: &Command,
) -> JobAnswer<Result<(), Refusal>> {
    let refuse = |settled: Settled<'_>, response: Refusal| settled.finish(Err(response), Write::Unchanged);
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
            let settled = Settled::untouched(record);
            return refuse(settled, invalid("op: a customer operation; send it as an ARM request"));
        }
    }
    if let Some(other) = record.filter(|r| r.name() != command.job()) {
        let settled = Settled::untouched(record);
        let message = format!("the host passed the record of job '{}'", other.name());
        return refuse(settled, error(500, "InternalError", message));
    }
    let mut settled = Settled::new(ctx, record, |job| job.acting_instant(now));
    let Some(current) = settled.record() else {
        let e = Error::JobNotFound { operation: command.operation(), job: command.job().clone() };
        return refuse(settled, refusal(&e));
    };
    let mut job = Some(current.job().clone());
    let outcome = decider::execute(&mut job, &ctx.policy, now, command).outcome;
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
