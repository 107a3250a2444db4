//! `GET /emulator/jobs`: every job the emulator holds, across subscriptions and resource
//! groups, as the page (`/emulator/ui`) draws it: state, `cancelRequested`, drives, the stages
//! the job went through, its next timer and what the customer may do now.
//!
//! It reads only: each record is the one the ARM layer stored, read back as untrusted like
//! every stored job ([`host::load_record`]; a damaged row is left out, as lists leave it out),
//! and shown as it stands at the clock's `now`. If a timer is due, the read goes to the writer,
//! which fires it first ([`Host::read`](host::Host::read)), as a `GET` does.

use std::collections::BTreeMap;

use axum::response::{IntoResponse, Response};
use import_export_lifecycle::arm::Record;
use import_export_lifecycle::{Capabilities, Drive, JobState, Policy, Stage, Timer};
use jiff::Timestamp;
use rusqlite::Connection;
use serde::Serialize;

use crate::clock::Mode;
use crate::host;
use crate::host::{Host, Shared};
use crate::refusal::store_error;
use crate::store::{self, JobKey, StoreError};

/// The most jobs one answer shows; `total` says how many the emulator holds.
pub const MAX_SHOWN: usize = 1000;

/// The answer of `GET /emulator/jobs`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// The clock's now: the instant every job is shown at.
    pub now: Timestamp,
    /// Which clock.
    pub mode: Mode,
    /// How many jobs the emulator holds (more than `jobs` shows beyond [`MAX_SHOWN`]).
    pub total: usize,
    /// The jobs, by subscription, resource group (both without regard to case) and name.
    pub jobs: Vec<JobView>,
}

/// One job as the page shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    /// Its ARM resource id.
    pub id: String,
    /// The subscription id, spelt as when the job was created.
    pub subscription: String,
    /// The resource group, spelt as when the job was created.
    pub resource_group: String,
    /// The job's name.
    pub name: String,
    /// The Azure region the customer gave.
    pub location: String,
    /// The customer's tags.
    pub tags: BTreeMap<String, String>,
    /// The job's state.
    pub state: JobState,
    /// Whether the customer asked to cancel it.
    pub cancel_requested: bool,
    /// The package did not arrive within the shipping period.
    pub package_overdue: bool,
    /// Its drives: id, state, bytes copied.
    pub drives: Vec<Drive>,
    /// Each state it entered and when, oldest first.
    pub stages: Vec<Stage>,
    /// Its next timer, if one is pending.
    pub next_deadline: Option<NextDeadline>,
    /// What the customer may do now, and the rule that refuses what they may not.
    pub capabilities: Capabilities,
}

/// A pending timer and what it will do.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NextDeadline {
    /// When it fires.
    pub at: Timestamp,
    /// Which timer.
    pub timer: Timer,
    /// Whether firing it removes the job.
    pub removes_job: bool,
}

impl JobView {
    fn of(record: &Record, policy: &Policy) -> JobView {
        let job = record.job();
        let scope = record.scope();
        JobView {
            id: format!("{scope}/providers/Microsoft.ImportExport/jobs/{}", job.name()),
            subscription: scope.subscription.clone(),
            resource_group: scope.resource_group.clone(),
            name: job.name().to_string(),
            location: record.location().to_string(),
            tags: record.tags().cloned().unwrap_or_default(),
            state: job.state(),
            cancel_requested: job.cancel_requested(),
            package_overdue: job.package_overdue(),
            drives: job.drive_list().to_vec(),
            stages: job.stages().to_vec(),
            next_deadline: record.next_deadline(policy).map(|d| NextDeadline {
                at: d.at,
                timer: d.timer,
                removes_job: job.removal_at(policy) == Some(d.at),
            }),
            capabilities: job.capabilities(policy),
        }
    }
}

/// The keys of the first `limit` jobs, by subscription, resource group and name, and how many
/// jobs there are.
fn keys(conn: &Connection, limit: usize) -> Result<(Vec<JobKey>, usize), StoreError> {
    let total: i64 = conn.prepare_cached("SELECT COUNT(*) FROM jobs")?.query_row([], |r| r.get(0))?;
    let mut statement = conn.prepare_cached(
        "SELECT subscription, resource_group, name FROM jobs ORDER BY subscription, resource_group, name LIMIT ?1",
    )?;
    let rows = statement.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
        Ok(JobKey { subscription: r.get(0)?, resource_group: r.get(1)?, name: r.get(2)? })
    })?;
    Ok((rows.collect::<Result<_, _>>()?, usize::try_from(total).unwrap_or(0)))
}

/// Every job (at most [`MAX_SHOWN`]) as it stands at `now`, or `None` if a timer is due at
/// `now`: then the writer, which fires due timers first, must answer.
fn overview(
    conn: &Connection,
    shared: &Shared,
    now: Timestamp,
    mode: Mode,
) -> Result<Option<Overview>, StoreError> {
    let policy = &shared.context.policy;
    if store::count_due(conn, host::deadline_ms(now))? > 0 {
        return Ok(None);
    }
    let (keys, total) = keys(conn, MAX_SHOWN)?;
    let mut jobs = Vec::with_capacity(keys.len());
    for key in keys {
        match host::load_record(conn, shared, &key) {
            Ok(Some(record)) => jobs.push(JobView::of(&record, policy)),
            Ok(None) | Err(StoreError::Damaged(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(Overview { now, mode, total, jobs }))
}

/// `GET /emulator/jobs`: from a reader if no timer is due, else from the writer (after it fired
/// them); from the writer with `--db :memory:`.
/// On PostgreSQL, from the database, after the instance fired what is due.
pub async fn jobs(host: &Host) -> Response {
    let mode = host.mode();
    if let Some(pg) = host.postgres() {
        return match pg.all(MAX_SHOWN).await {
            Ok((records, total, now)) => {
                let policy = &pg.shared().context.policy;
                let jobs = records.iter().map(|record| JobView::of(record, policy)).collect();
                axum::Json(Overview { now, mode, total, jobs }).into_response()
            }
            Err(e) => store_error(e),
        };
    }
    match host.read(move |conn, shared, now| overview(conn, shared, now, mode)).await {
        Ok(view) => axum::Json(view).into_response(),
        Err(e) => store_error(e),
    }
}
