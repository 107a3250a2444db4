//! `GET` of one job, and `POST …/listBitLockerKeys`: reads, after the job's due timers.

use serde_json::Value;

use super::settled::Settled;
use super::{JobAnswer, Write, view};
use crate::arm::context::Context;
use crate::arm::record::BitLockerKeys;
use crate::arm::request::{Response, refusal};
use crate::model::error::{Error, Operation};
use crate::model::name::JobName;

/// `GET`: the job as its timers left it, or 404.
pub(super) fn get(ctx: &Context, settled: Settled<'_>, name: &JobName) -> JobAnswer<Response> {
    let answer = match settled.record() {
        Some(record) => view(ctx, record, 200),
        None => refusal(&Error::JobNotFound { operation: Operation::Get, job: name.clone() }).response(),
    };
    settled.finish(answer, Write::Unchanged)
}

/// `POST …/listBitLockerKeys`: the key of each of the job's drives that has one, or 404.
pub(super) fn bit_locker_keys(
    settled: Settled<'_>,
    keys: Option<&BitLockerKeys>,
    name: &JobName,
) -> JobAnswer<Response> {
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
        None => refusal(&Error::JobNotFound { operation: Operation::Get, job: name.clone() }).response(),
    };
    settled.finish(answer, Write::Unchanged)
}
