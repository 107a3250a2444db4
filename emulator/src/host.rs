//! The emulator as a host of the crate's ARM layer: it loads the one record a request names,
//! lets [`arm::handle_job`] (or [`arm::handle_datacenter`], [`arm::handle_timeout`],
//! [`arm::list_page`]) answer, and writes back what the answer says. No ARM or lifecycle rule
//! is decided here: this module only moves records between SQLite and the pure functions.

use import_export_lifecycle::arm::{
    self, BitLockerKeys, Context, JobOperation, JobRequest, ListRequest, ListScope, Record, Response, Scope,
    Write,
};
use import_export_lifecycle::{Command, Event, Policy};
use jiff::Timestamp;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;

use crate::store::{self, JobKey, StoreError};
use crate::writer::Ctx;

/// A timer (or request) event, with the job it happened to.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Happened {
    /// The job's ARM resource id.
    pub id: String,
    /// What happened, at its own instant.
    pub event: Event,
}

/// The key a record is stored under.
pub fn key_of(scope: &Scope, name: &str) -> JobKey {
    let key = scope.key();
    JobKey { subscription: key.subscription, resource_group: key.resource_group, name: name.to_string() }
}

/// The job's ARM resource id (the scope as the record spells it).
fn id_of(scope: &Scope, name: &str) -> String {
    format!("{scope}/providers/Microsoft.ImportExport/jobs/{name}")
}

/// A deadline as the `jobs.deadline` column keeps it: whole milliseconds, rounded down.
pub fn deadline_ms(at: Timestamp) -> i64 {
    at.as_millisecond()
}

/// Reads a stored record back, as untrusted input: strictly, and checked against the policy
/// like every stored job (R-INPUT-3: a job no history reaches under it is refused). The error
/// names the row.
fn parse_record(key: &JobKey, text: &str, policy: &Policy) -> Result<Record, StoreError> {
    let record: Record = serde_json::from_str(text)
        .map_err(|e| StoreError::Damaged(format!("jobs row {key}: record: {e}")))?;
    record
        .job()
        .check(policy)
        .map_err(|e| StoreError::Damaged(format!("jobs row {key}: record: job: {e}")))?;
    Ok(record)
}

fn parse_keys(key: &JobKey, text: &str) -> Result<BitLockerKeys, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Damaged(format!("bitlocker_keys row {key}: keys: {e}")))
}

/// The record stored under `key`, if any.
pub fn load_record(conn: &Connection, key: &JobKey, policy: &Policy) -> Result<Option<Record>, StoreError> {
    store::get_record(conn, key)?.map(|text| parse_record(key, &text, policy)).transpose()
}

fn load_keys(conn: &Connection, key: &JobKey) -> Result<Option<BitLockerKeys>, StoreError> {
    store::get_keys(conn, key)?.map(|text| parse_keys(key, &text)).transpose()
}

fn to_json<T: Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Damaged(format!("{what}: cannot be written: {e}")))
}

/// Writes back what an answer says about one job.
fn write_back(
    conn: &Connection,
    context: &Context,
    key: &JobKey,
    record: Write<Record>,
    keys: Write<BitLockerKeys>,
) -> Result<(), StoreError> {
    match record {
        Write::Unchanged => {}
        Write::Put(record) => {
            let deadline = record.next_deadline(&context.policy).map(|d| deadline_ms(d.at));
            store::put_record(conn, key, &to_json(&*record, "record")?, deadline)?;
        }
        Write::Remove => store::remove(conn, key)?,
    }
    match keys {
        Write::Unchanged => {}
        Write::Put(keys) => store::put_keys(conn, key, &to_json(&*keys, "keys")?)?,
        Write::Remove => store::remove(conn, key)?,
    }
    Ok(())
}

/// Logs what happened to a job (never a key: events carry none): a timer that fired at `info`
/// (nothing else tells of it), a request's own event at `debug` (its request line tells of it).
fn log_events(id: &str, events: &[Event]) -> Vec<Happened> {
    events
        .iter()
        .map(|event| {
            if event.timer().is_some() {
                tracing::info!(target: "events", job = %id, at = %event.at, change = ?event.change, "timer fired");
            } else {
                tracing::debug!(target: "events", job = %id, at = %event.at, change = ?event.change, "event");
            }
            Happened { id: id.to_string(), event: event.clone() }
        })
        .collect()
}

/// The scope as the records already stored in it spell it, or as the request spells it if it
/// holds none yet: a new job's record keeps its scope's first spelling.
fn stored_spelling(conn: &Connection, scope: &Scope) -> Result<Scope, StoreError> {
    let key = scope.key();
    match store::scope_spelling(conn, &key.subscription, &key.resource_group)? {
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            StoreError::Damaged(format!(
                "jobs rows of {}/{}: record.scope: {e}",
                key.subscription, key.resource_group
            ))
        }),
        None => Ok(scope.clone()),
    }
}

/// Answers a request on one job, in the writer: loads its record (and keys), answers, writes
/// back. A refusal writes nothing (but what due timers did).
pub fn job(
    conn: &Connection,
    ctx: &Ctx,
    context: &Context,
    request: &JobRequest,
    body: Option<&Value>,
) -> Result<Response, StoreError> {
    let key = key_of(&request.scope, request.name.as_str());
    let record = load_record(conn, &key, &context.policy)?;
    let keys = match request.operation {
        JobOperation::ListBitLockerKeys => load_keys(conn, &key)?,
        JobOperation::Create | JobOperation::Get | JobOperation::Update | JobOperation::Delete => None,
    };
    let request = match (&request.operation, &record) {
        (JobOperation::Create, None) => {
            JobRequest { scope: stored_spelling(conn, &request.scope)?, ..request.clone() }
        }
        _ => request.clone(),
    };
    let answer = arm::handle_job(context, record.as_ref(), keys.as_ref(), ctx.now(), &request, body);
    let scope = record.as_ref().map_or(&request.scope, Record::scope);
    log_events(&id_of(scope, request.name.as_str()), &answer.events);
    write_back(conn, context, &key, answer.record, answer.keys)?;
    Ok(answer.answer)
}

/// Answers a request that changes nothing (`GET`, `listBitLockerKeys`) from a reader, or says
/// `None` if it would change something (a due timer): then the writer answers it.
pub fn read_job(
    conn: &Connection,
    context: &Context,
    now: Timestamp,
    request: &JobRequest,
) -> Result<Option<Response>, StoreError> {
    let key = key_of(&request.scope, request.name.as_str());
    let record = load_record(conn, &key, &context.policy)?;
    let keys = match request.operation {
        JobOperation::ListBitLockerKeys => load_keys(conn, &key)?,
        JobOperation::Create | JobOperation::Get | JobOperation::Update | JobOperation::Delete => None,
    };
    let answer = arm::handle_job(context, record.as_ref(), keys.as_ref(), now, request, None);
    match (answer.record, answer.keys) {
        (Write::Unchanged, Write::Unchanged) => Ok(Some(answer.answer)),
        _ => Ok(None),
    }
}

/// One page of a list. `arm::list_page` shows each job as its due timers leave it at `now`
/// (and leaves out a job they remove), so the page reads one row more than it shows, plus one
/// for each job whose timer is due: enough whatever those timers do.
pub fn read_list(
    conn: &Connection,
    context: &Context,
    now: Timestamp,
    request: &ListRequest,
) -> Result<Response, StoreError> {
    let size = request.query.top.unwrap_or(arm::MAX_PAGE).clamp(1, arm::MAX_PAGE);
    let due = store::count_due(conn, deadline_ms(now))?;
    let after = request.query.skip_token.as_ref();
    let (subscription, resource_group) = match &request.scope {
        ListScope::ResourceGroup(scope) => {
            let key = scope.key();
            (key.subscription, Some(key.resource_group))
        }
        ListScope::Subscription(subscription) => (subscription.to_ascii_lowercase(), None),
    };
    let rows = store::list(
        conn,
        &subscription,
        resource_group.as_deref(),
        after.map(|p| (p.resource_group.as_str(), p.name.as_str())),
        size.saturating_add(1).saturating_add(due),
    )?;
    let records = rows
        .iter()
        .map(|(key, text)| parse_record(key, text, &context.policy))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(arm::list_page(context, now, request, &records))
}

/// Applies a datacenter operation to the job its path names, in the writer.
pub fn datacenter(
    conn: &Connection,
    ctx: &Ctx,
    context: &Context,
    scope: &Scope,
    command: &Command,
) -> Result<Result<(), arm::Refusal>, StoreError> {
    let key = key_of(scope, command.job().as_str());
    let record = load_record(conn, &key, &context.policy)?;
    let answer = arm::handle_datacenter(context, record.as_ref(), ctx.now(), command);
    let scope = record.as_ref().map_or(scope, Record::scope);
    log_events(&id_of(scope, command.job().as_str()), &answer.events);
    write_back(conn, context, &key, answer.record, answer.keys)?;
    Ok(answer.answer)
}

/// Fires every timer due at `now`, each at its own deadline: the deadline sweep. The writer
/// runs it before every group of requests; the virtual clock runs it when it moves.
pub fn sweep(conn: &Connection, context: &Context, now: Timestamp) -> Result<Vec<Happened>, StoreError> {
    let mut fired = Vec::new();
    for key in store::due(conn, deadline_ms(now))? {
        // A damaged row cannot fire: it is named in the log and the others go on.
        let record = match load_record(conn, &key, &context.policy) {
            Ok(Some(record)) => record,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!("{e}: its timer cannot fire");
                continue;
            }
        };
        let answer = arm::handle_timeout(context, &record, now);
        fired.extend(log_events(&id_of(record.scope(), key.name.as_str()), &answer.events));
        write_back(conn, context, &key, answer.record, answer.keys)?;
    }
    Ok(fired)
}
