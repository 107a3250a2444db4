//! `DELETE`: Delete Job, as the core decides it (R-DELETE-1, R-DELETE-2).

use jiff::Timestamp;

use super::settled::Settled;
use super::{JobAnswer, Write};
use crate::arm::context::Context;
use crate::arm::request::{Response, refusal};
use crate::hosts::decider;
use crate::model::command::Command;
use crate::model::error::{Error, Operation};
use crate::model::name::JobName;

/// `DELETE`: 200 without a body and the record removed, or the core's refusal.
pub(super) fn delete(
    ctx: &Context,
    mut settled: Settled<'_>,
    now: Timestamp,
    name: &JobName,
) -> JobAnswer<Response> {
    let Some(current) = settled.record() else {
        let e = Error::JobNotFound { operation: Operation::Delete, job: name.clone() };
        return settled.finish(refusal(&e).response(), Write::Unchanged);
    };
    let mut job = Some(current.job().clone());
    let outcome =
        decider::execute(&mut job, &ctx.policy, now, &Command::Delete { job: name.clone() }).outcome;
    match outcome.result {
        Ok(event) => {
            let after = job.map(|job| current.with_job(job));
            settled.events.extend(outcome.timers);
            settled.events.push(event);
            settled.set(after);
            settled.finish(Response { status: 200, body: None }, Write::Unchanged)
        }
        Err(e) => settled.finish(refusal(&e).response(), Write::Unchanged),
    }
}
