//! The emulator as a host of the crate's ARM layer: it loads the one record a request names,
//! lets [`arm::handle_job`] (or [`arm::handle_datacenter`], [`arm::handle_timeout`],
//! [`arm::list_page`]) answer, and writes back what the answer says. No ARM or lifecycle rule
//! is decided here: this module only moves records between the database and the pure functions.
//!
//! The layers run one way: the HTTP face calls a [`Host`] (the one context object: the engine,
//! the clock, the ARM layer's context and the rows found damaged). On SQLite it runs its
//! functions in the [`Writer`] or the [`Readers`] over the [`store`]; on PostgreSQL
//! ([`postgres`]) each request is a transaction over [`crate::pg_store`]. Both engines decide
//! with the same functions (`decide_job`, `decide_read`, `decide_datacenter`,
//! `decide_timeout`, `Page`), between their read and their write. The writer knows nothing
//! of jobs: the host gives it the sweep to run before each group and the deadline to publish
//! after each commit ([`hooks`]).
//!
//! Every write is explicit: a record put or removed, keys put or removed, each its own
//! statement, as the ARM layer's answer says.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::{Arc, Mutex};

use import_export_lifecycle::arm::{
    self, BitLockerKeys, Context, JobOperation, JobRequest, ListRequest, ListScope, Record, Response, Scope,
    Write,
};
use import_export_lifecycle::{Command, Event, Policy};
use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::clock::{Clock, Mode};
use crate::readers::Readers;
use crate::store::{self, JobKey, StoreError};
use crate::writer::{Ctx, Hooks, Writer};

pub mod postgres;

/// At most this many fired events are listed in a clock move's answer (the earliest); the
/// answer also says how many fired in all, and whether the list was cut.
pub const MAX_FIRED_SHOWN: usize = 1000;

/// A record a request may store: [`store::MAX_STORED`] less room for what timers add later (a
/// stage each, at most six), so that whatever is accepted reads back.
const MAX_ACCEPTED: usize = store::MAX_STORED - 16 * 1024;

/// A timer (or request) event, with the job it happened to.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Happened {
    /// The job's ARM resource id.
    pub id: String,
    /// What happened, at its own instant.
    pub event: Event,
}

/// The rows found damaged since the emulator started: each named once in the log, listed by
/// `/emulator/health`, skipped by lists, and its timer never retried.
#[derive(Debug, Default)]
pub struct Damaged {
    rows: Mutex<BTreeMap<JobKey, String>>,
}

impl Damaged {
    /// Remembers a damaged row; logs it the first time.
    fn note(&self, key: &JobKey, error: &StoreError) {
        let mut rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        if !rows.contains_key(key) {
            tracing::error!(
                "{error}: the row is skipped by lists and its timer does not fire until it is repaired and the emulator restarted"
            );
            rows.insert(key.clone(), error.to_string());
        }
    }

    /// Whether `key` is a row found damaged.
    pub fn contains(&self, key: &JobKey) -> bool {
        self.rows.lock().unwrap_or_else(|e| e.into_inner()).contains_key(key)
    }

    /// How many rows were found damaged.
    pub fn len(&self) -> usize {
        self.rows.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The damaged rows, each with why.
    fn list(&self) -> Vec<Value> {
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        rows.iter().map(|(key, why)| json!({"row": key.to_string(), "error": why})).collect()
    }
}

/// What the host's functions share wherever they run: the ARM layer's context (configuration
/// and policy) and the rows found damaged.
#[derive(Debug, Default)]
pub struct Shared {
    /// The host's configuration and the service's policy.
    pub context: Context,
    /// The rows found damaged.
    pub damaged: Damaged,
}

/// The emulator's host: what every HTTP handler calls. Its functions are the one store
/// interface the HTTP face sees; each engine implements them: SQLite (one writer thread, its
/// readers) here, PostgreSQL (a pool shared with other emulator processes) in [`postgres`].
pub struct Host {
    engine: Engine,
    clock: Arc<Clock>,
    shared: Arc<Shared>,
}

/// Where the jobs are kept.
enum Engine {
    /// A SQLite file (or `:memory:`): the writer, and the readers (none in memory).
    Sqlite { writer: Writer, readers: Option<Arc<Readers>> },
    /// A PostgreSQL database shared by any number of emulators.
    Postgres(postgres::Pg),
}

/// Where `POST /emulator/clock` moves the virtual clock.
pub enum Target {
    /// Forward by a duration.
    Advance(SignedDuration),
    /// To an instant (not before the clock's).
    Set(Timestamp),
}

impl Target {
    /// Where the clock goes from `current`: `Err(message)` for a move backwards or out of range.
    fn from(&self, current: Timestamp) -> Result<Timestamp, String> {
        let to = match self {
            Target::Advance(d) => current.checked_add(*d).map_err(|e| format!("advanceSeconds: {e}"))?,
            Target::Set(t) => *t,
        };
        if to < current {
            return Err(format!("set: {to} is before the clock's {current}; the clock only moves forward"));
        }
        Ok(to)
    }
}

/// A committed clock move: the new time, the first [`MAX_FIRED_SHOWN`] events fired (by time),
/// how many fired in all.
pub struct Moved {
    /// The clock's new time.
    pub now: Timestamp,
    /// The earliest events fired, in time order.
    pub fired: Vec<Happened>,
    /// How many events fired in all.
    pub count: usize,
}

/// What the writer runs around each group: the sweep before, the next deadline (of a row not
/// damaged) published after each commit, for the task that sleeps until it.
pub fn hooks(shared: Arc<Shared>, deadlines: watch::Sender<Option<i64>>) -> Hooks {
    let before = Arc::clone(&shared);
    Hooks {
        before_group: Box::new(move |conn, now| sweep(conn, &before, now, &mut Fired::new(0))),
        after_commit: Box::new(move |conn| {
            match store::next_deadline(conn, |key| shared.damaged.contains(key)) {
                Ok(next) => {
                    deadlines.send_if_modified(|d| std::mem::replace(d, next) != next);
                }
                Err(e) => tracing::error!("reading the next deadline: {e}"),
            }
        }),
    }
}

impl Host {
    /// The host over a started writer and readers (none with `--db :memory:`).
    pub fn new(
        writer: Writer,
        readers: Option<Arc<Readers>>,
        clock: Arc<Clock>,
        shared: Arc<Shared>,
    ) -> Host {
        Host { engine: Engine::Sqlite { writer, readers }, clock, shared }
    }

    /// The host over a PostgreSQL database whose tables [`crate::pg_store::prepare`] made.
    pub fn on_postgres(pg: postgres::Pg) -> Host {
        let (clock, shared) = (pg.clock(), pg.shared());
        Host { engine: Engine::Postgres(pg), clock, shared }
    }

    /// Now, as every emulator on the database sees it: on PostgreSQL a virtual clock is read
    /// from the database.
    ///
    /// # Errors
    /// The database refused.
    pub async fn shared_now(&self) -> Result<Timestamp, StoreError> {
        match &self.engine {
            Engine::Sqlite { .. } => Ok(self.clock.now()),
            Engine::Postgres(pg) => pg.now().await,
        }
    }

    /// The clock's mode.
    pub fn mode(&self) -> Mode {
        self.clock.mode()
    }

    /// At startup: fires every timer that came due while the emulator was down (the writer's
    /// first group does), moves a virtual clock to `move_to` if given, and stores its time.
    /// (On PostgreSQL the clock was settled by [`postgres::Pg::start`].)
    ///
    /// # Errors
    /// The database refused.
    pub async fn rebuild(&self, move_to: Option<Timestamp>) -> Result<(), StoreError> {
        let writer = match &self.engine {
            Engine::Sqlite { writer, .. } => writer,
            Engine::Postgres(_) => return Ok(()),
        };
        let shared = Arc::clone(&self.shared);
        let mode = self.clock.mode();
        writer
            .run(move |conn, ctx| {
                if mode == Mode::Virtual {
                    if let Some(to) = move_to {
                        sweep(conn, &shared, to, &mut Fired::new(0))?;
                        ctx.set_virtual_now(to);
                    }
                    store::set_setting(conn, "virtualNow", &ctx.now().to_string())?;
                }
                Ok(())
            })
            .await
    }

    /// `/emulator/health`: the rows found damaged, and why writes are refused if they are.
    pub fn health(&self) -> (Vec<Value>, Option<String>) {
        let lost = match &self.engine {
            Engine::Sqlite { writer, .. } => writer.lost(),
            Engine::Postgres(_) => None,
        };
        (self.shared.damaged.list(), lost)
    }

    /// The PostgreSQL engine, if the jobs are there.
    pub fn postgres(&self) -> Option<&postgres::Pg> {
        match &self.engine {
            Engine::Sqlite { .. } => None,
            Engine::Postgres(pg) => Some(pg),
        }
    }

    /// A read of the provider (its locations, its operations): no store, only the context.
    pub fn provider(&self, request: &arm::ProviderRequest) -> Response {
        arm::handle_provider(&self.shared.context, request)
    }

    /// Answers a request on one job: a read from a reader if nothing is due, else (and every
    /// write) in the writer.
    ///
    /// # Errors
    /// The database refused, or the job's row is damaged.
    pub async fn job(&self, request: JobRequest, body: Option<Value>) -> Result<Response, StoreError> {
        let (writer, readers) = match &self.engine {
            Engine::Sqlite { writer, readers } => (writer, readers),
            Engine::Postgres(pg) => return pg.job(&request, body.as_ref()).await,
        };
        if let (Some(readers), JobOperation::Get | JobOperation::ListBitLockerKeys) =
            (readers, &request.operation)
        {
            let (shared, now, job) = (Arc::clone(&self.shared), self.clock.now(), request.clone());
            if let Some(answer) = readers.run(move |conn| read_job(conn, &shared, now, &job)).await? {
                return Ok(answer);
            }
        }
        let shared = Arc::clone(&self.shared);
        writer.run(move |conn, ctx| job(conn, ctx, &shared, &request, body.as_ref())).await
    }

    /// One page of a list, from a reader (from the writer with `--db :memory:`).
    ///
    /// # Errors
    /// The database refused.
    pub async fn list(&self, request: ListRequest) -> Result<Response, StoreError> {
        let shared = Arc::clone(&self.shared);
        match &self.engine {
            Engine::Sqlite { readers: Some(readers), .. } => {
                let now = self.clock.now();
                readers.run(move |conn| read_list(conn, &shared, now, &request)).await
            }
            Engine::Sqlite { writer, readers: None } => {
                writer.run(move |conn, ctx| read_list(conn, &shared, ctx.now(), &request)).await
            }
            Engine::Postgres(pg) => pg.list(&request).await,
        }
    }

    /// Applies a datacenter operation to the job its path names.
    ///
    /// # Errors
    /// The database refused, or the job's row is damaged.
    pub async fn datacenter(
        &self,
        scope: Scope,
        command: Command,
    ) -> Result<Result<(), arm::Refusal>, StoreError> {
        let writer = match &self.engine {
            Engine::Sqlite { writer, .. } => writer,
            Engine::Postgres(pg) => return pg.datacenter(&scope, &command).await,
        };
        let shared = Arc::clone(&self.shared);
        writer.run(move |conn, ctx| datacenter(conn, ctx, &shared, &scope, &command)).await
    }

    /// A read of its own (`GET /emulator/jobs`) on SQLite: `f` answers from a reader at the
    /// clock's now, or says `None` if a timer is due; then the writer fires what is due and `f`
    /// answers there. With `--db :memory:`, in the writer. (PostgreSQL: [`Host::postgres`].)
    ///
    /// # Errors
    /// The database refused, or `f` still says `None` after the sweep.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection, &Shared, Timestamp) -> Result<Option<T>, StoreError> + Clone + Send + 'static,
    {
        let (writer, readers) = match &self.engine {
            Engine::Sqlite { writer, readers } => (writer, readers),
            Engine::Postgres(_) => {
                return Err(StoreError::Unavailable("a SQLite read asked of a PostgreSQL emulator".into()));
            }
        };
        if let Some(readers) = readers {
            let (shared, now, read) = (Arc::clone(&self.shared), self.clock.now(), f.clone());
            if let Some(answer) = readers.run(move |conn| read(conn, &shared, now)).await? {
                return Ok(answer);
            }
        }
        let shared = Arc::clone(&self.shared);
        writer
            .run(move |conn, ctx| {
                // The writer swept before this group; a system clock may have moved since.
                let now = ctx.now();
                sweep(conn, &shared, now, &mut Fired::new(0))?;
                f(conn, &shared, now)?.ok_or_else(|| {
                    StoreError::Unavailable(format!("a timer is still due at {now} after the sweep"))
                })
            })
            .await
    }

    /// Moves the virtual clock, firing every timer due on the way, each at its own deadline.
    /// `Ok(Err(message))` is a refused move (backwards, out of range): nothing changed.
    ///
    /// # Errors
    /// The database refused.
    pub async fn move_clock(&self, target: Target) -> Result<Result<Moved, String>, StoreError> {
        let writer = match &self.engine {
            Engine::Sqlite { writer, .. } => writer,
            Engine::Postgres(pg) => return pg.move_clock(&target).await,
        };
        let shared = Arc::clone(&self.shared);
        writer
            .run(move |conn, ctx| {
                let to = match target.from(ctx.now()) {
                    Ok(to) => to,
                    Err(message) => return Ok(Err(message)),
                };
                let mut fired = Fired::new(MAX_FIRED_SHOWN);
                sweep(conn, &shared, to, &mut fired)?;
                store::set_setting(conn, "virtualNow", &to.to_string())?;
                ctx.set_virtual_now(to);
                let count = fired.total;
                Ok(Ok(Moved { now: to, fired: fired.into_sorted(), count }))
            })
            .await
    }
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

/// The record stored under `key`, if any; a damaged one is remembered as such.
pub fn load_record(conn: &Connection, shared: &Shared, key: &JobKey) -> Result<Option<Record>, StoreError> {
    store::get_record(conn, key)?.map(|text| read_record(shared, key, &text)).transpose()
}

/// A stored record's text read back (either engine's); a damaged one is remembered as such.
fn read_record(shared: &Shared, key: &JobKey, text: &str) -> Result<Record, StoreError> {
    let parsed = parse_record(key, text, &shared.context.policy);
    if let Err(e @ StoreError::Damaged(_)) = &parsed {
        shared.damaged.note(key, e);
    }
    parsed
}

fn load_keys(conn: &Connection, key: &JobKey) -> Result<Option<BitLockerKeys>, StoreError> {
    store::get_keys(conn, key)?.map(|text| parse_keys(key, &text)).transpose()
}

fn to_json<T: Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Damaged(format!("{what}: cannot be written: {e}")))
}

/// What an answer writes about one job, encoded, not yet written.
struct Encoded {
    record: Write<(String, Option<i64>)>,
    keys: Write<String>,
}

impl Encoded {
    fn new(
        context: &Context,
        record: Write<Record>,
        keys: Write<BitLockerKeys>,
    ) -> Result<Encoded, StoreError> {
        let record = match record {
            Write::Unchanged => Write::Unchanged,
            Write::Put(record) => {
                let deadline = record.next_deadline(&context.policy).map(|d| deadline_ms(d.at));
                Write::Put(Box::new((to_json(&*record, "record")?, deadline)))
            }
            Write::Remove => Write::Remove,
        };
        let keys = match keys {
            Write::Unchanged => Write::Unchanged,
            Write::Put(keys) => Write::Put(Box::new(to_json(&*keys, "keys")?)),
            Write::Remove => Write::Remove,
        };
        Ok(Encoded { record, keys })
    }

    /// The size of the largest value it puts.
    fn largest(&self) -> usize {
        let record = match &self.record {
            Write::Put(put) => put.0.len(),
            Write::Unchanged | Write::Remove => 0,
        };
        let keys = match &self.keys {
            Write::Put(put) => put.len(),
            Write::Unchanged | Write::Remove => 0,
        };
        record.max(keys)
    }

    /// Writes it: each change its own statement.
    fn write(self, conn: &Connection, key: &JobKey) -> Result<(), StoreError> {
        match self.record {
            Write::Unchanged => {}
            Write::Put(put) => store::put_record(conn, key, &put.0, put.1)?,
            Write::Remove => store::remove_record(conn, key)?,
        }
        match self.keys {
            Write::Unchanged => {}
            Write::Put(keys) => store::put_keys(conn, key, &keys)?,
            Write::Remove => store::remove_keys(conn, key)?,
        }
        Ok(())
    }
}

/// The refusal of a request whose record would be larger than the emulator stores.
fn too_large(bytes: usize) -> Response {
    Response {
        status: 400,
        body: Some(json!({"error": {"code": "InvalidRequest", "message": format!(
            "body: the job would be stored in {bytes} bytes, more than the {MAX_ACCEPTED} the emulator accepts"
        )}})),
    }
}

/// Logs what happened to a job (never a key: events carry none): a timer that fired at `info`
/// (nothing else tells of it), a request's own event at `debug` (its request line tells of it).
fn log_events(id: &str, events: &[Event], fired: &mut Fired) {
    for event in events {
        if event.timer().is_some() {
            tracing::info!(target: "events", job = %id, at = %event.at, change = ?event.change, "timer fired");
        } else {
            tracing::debug!(target: "events", job = %id, at = %event.at, change = ?event.change, "event");
        }
        fired.push(id, event);
    }
}

/// The scope as the records already stored in it spell it (`stored`, their `scope` as JSON),
/// or as the request spells it if it holds none yet: a new job's record keeps its scope's first
/// spelling. A spelling that does not read (a damaged row) is passed over.
fn spelling(stored: Option<String>, scope: &Scope) -> Scope {
    stored.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_else(|| scope.clone())
}

/// The decision on one job request, on the record (and keys) loaded: the answer, and what to
/// write (`None` for a record too large: the answer refuses it and nothing is written). The
/// events are logged. Both engines decide here.
fn decide_job(
    shared: &Shared,
    record: Option<&Record>,
    keys: Option<&BitLockerKeys>,
    now: Timestamp,
    request: &JobRequest,
    body: Option<&Value>,
) -> Result<(Response, Option<Encoded>), StoreError> {
    let context = &shared.context;
    let answer = arm::handle_job(context, record, keys, now, request, body);
    let encoded = Encoded::new(context, answer.record, answer.keys)?;
    if encoded.largest() > MAX_ACCEPTED {
        return Ok((too_large(encoded.largest()), None));
    }
    let scope = record.map_or(&request.scope, Record::scope);
    log_events(&id_of(scope, request.name.as_str()), &answer.events, &mut Fired::new(0));
    Ok((answer.answer, Some(encoded)))
}

/// The answer of a request that changes nothing (`GET`, `listBitLockerKeys`) on the record
/// loaded, or `None` if it would change something (a due timer): then it is answered as a
/// write.
fn decide_read(
    shared: &Shared,
    record: Option<&Record>,
    keys: Option<&BitLockerKeys>,
    now: Timestamp,
    request: &JobRequest,
) -> Option<Response> {
    let answer = arm::handle_job(&shared.context, record, keys, now, request, None);
    match (answer.record, answer.keys) {
        (Write::Unchanged, Write::Unchanged) => Some(answer.answer),
        _ => None,
    }
}

/// The decision on a datacenter operation, on the record loaded; its events are logged.
fn decide_datacenter(
    shared: &Shared,
    record: Option<&Record>,
    now: Timestamp,
    scope: &Scope,
    command: &Command,
) -> Result<(Result<(), arm::Refusal>, Encoded), StoreError> {
    let answer = arm::handle_datacenter(&shared.context, record, now, command);
    let scope = record.map_or(scope, Record::scope);
    log_events(&id_of(scope, command.job().as_str()), &answer.events, &mut Fired::new(0));
    Ok((answer.answer, Encoded::new(&shared.context, answer.record, answer.keys)?))
}

/// The due timers of one job fired at `now`, each at its own deadline, counted in `fired`.
fn decide_timeout(
    shared: &Shared,
    key: &JobKey,
    record: &Record,
    now: Timestamp,
    fired: &mut Fired,
) -> Result<Encoded, StoreError> {
    let answer = arm::handle_timeout(&shared.context, record, now);
    log_events(&id_of(record.scope(), key.name.as_str()), &answer.events, fired);
    Encoded::new(&shared.context, answer.record, answer.keys)
}

/// Answers a request on one job, in the writer: loads its record (and keys), answers, writes
/// back. A refusal writes nothing (but what due timers did), nor does a record too large.
fn job(
    conn: &Connection,
    ctx: &Ctx,
    shared: &Shared,
    request: &JobRequest,
    body: Option<&Value>,
) -> Result<Response, StoreError> {
    let key = key_of(&request.scope, request.name.as_str());
    let record = load_record(conn, shared, &key)?;
    let keys = match request.operation {
        JobOperation::ListBitLockerKeys => load_keys(conn, &key)?,
        JobOperation::Create | JobOperation::Get | JobOperation::Update | JobOperation::Delete => None,
    };
    let request = match (&request.operation, &record) {
        (JobOperation::Create, None) => {
            let stored = store::scope_spelling(
                conn,
                &request.scope.key().subscription,
                &request.scope.key().resource_group,
            )?;
            JobRequest { scope: spelling(stored, &request.scope), ..request.clone() }
        }
        _ => request.clone(),
    };
    let (answer, encoded) = decide_job(shared, record.as_ref(), keys.as_ref(), ctx.now(), &request, body)?;
    if let Some(encoded) = encoded {
        encoded.write(conn, &key)?;
    }
    Ok(answer)
}

/// Answers a request that changes nothing (`GET`, `listBitLockerKeys`) from a reader, or says
/// `None` if it would change something (a due timer): then the writer answers it.
fn read_job(
    conn: &Connection,
    shared: &Shared,
    now: Timestamp,
    request: &JobRequest,
) -> Result<Option<Response>, StoreError> {
    let key = key_of(&request.scope, request.name.as_str());
    let record = load_record(conn, shared, &key)?;
    let keys = match request.operation {
        JobOperation::ListBitLockerKeys => load_keys(conn, &key)?,
        JobOperation::Create | JobOperation::Get | JobOperation::Update | JobOperation::Delete => None,
    };
    Ok(decide_read(shared, record.as_ref(), keys.as_ref(), now, request))
}

/// One list page being read. `arm::list_page` shows each job as its due timers leave it at
/// `now` (and leaves out a job they remove), so the page reads one row more than it shows,
/// plus one for each job whose timer is due: enough whatever those timers do. A damaged row is
/// skipped (and remembered), and as many more rows read in its place.
struct Page {
    request: ListRequest,
    now: Timestamp,
    subscription: String,
    resource_group: Option<String>,
    wanted: usize,
    after: Option<(String, String)>,
    records: Vec<Record>,
}

impl Page {
    /// A page of `request` at `now`, with `due` timers due then.
    fn new(request: &ListRequest, now: Timestamp, due: usize) -> Page {
        let size = request.query.top.unwrap_or(arm::MAX_PAGE).clamp(1, arm::MAX_PAGE);
        let (subscription, resource_group) = match &request.scope {
            ListScope::ResourceGroup(scope) => {
                let key = scope.key();
                (key.subscription, Some(key.resource_group))
            }
            ListScope::Subscription(subscription) => (subscription.to_ascii_lowercase(), None),
        };
        let after = request
            .query
            .skip_token
            .as_ref()
            .map(|p| (p.resource_group.clone(), p.name.as_str().to_string()));
        Page {
            request: request.clone(),
            now,
            subscription,
            resource_group,
            wanted: size.saturating_add(1).saturating_add(due),
            after,
            records: Vec::new(),
        }
    }

    /// How many rows to read next.
    fn asked(&self) -> usize {
        self.wanted - self.records.len()
    }

    /// The position to read after.
    fn after(&self) -> Option<(&str, &str)> {
        self.after.as_ref().map(|(rg, name)| (rg.as_str(), name.as_str()))
    }

    /// Takes the rows read (`asked` were); says whether the page has all it needs.
    fn take(&mut self, shared: &Shared, rows: Vec<store::ListedRow>, asked: usize) -> bool {
        let read = rows.len();
        for (key, text) in rows {
            self.after = Some((key.resource_group.clone(), key.name.clone()));
            match text.and_then(|text| parse_record(&key, &text, &shared.context.policy)) {
                // A row the list does not show (its `$filter` leaves it out) is not kept: a
                // sparse filter reads further, in batches, with the page's memory bounded.
                Ok(record) if arm::list_shows(&shared.context, self.now, &self.request, &record) => {
                    self.records.push(record);
                }
                Ok(_) => {}
                Err(e) => shared.damaged.note(&key, &e),
            }
        }
        self.records.len() >= self.wanted || read < asked
    }

    /// The page's answer at `now`.
    fn answer(&self, shared: &Shared, now: Timestamp, request: &ListRequest) -> Response {
        arm::list_page(&shared.context, now, request, &self.records)
    }
}

/// One page of a list (see [`Page`]).
fn read_list(
    conn: &Connection,
    shared: &Shared,
    now: Timestamp,
    request: &ListRequest,
) -> Result<Response, StoreError> {
    let mut page = Page::new(request, now, store::count_due(conn, deadline_ms(now))?);
    loop {
        let asked = page.asked();
        let rows =
            store::list(conn, &page.subscription, page.resource_group.as_deref(), page.after(), asked)?;
        if page.take(shared, rows, asked) {
            break;
        }
    }
    Ok(page.answer(shared, now, request))
}

/// Applies a datacenter operation to the job its path names, in the writer.
fn datacenter(
    conn: &Connection,
    ctx: &Ctx,
    shared: &Shared,
    scope: &Scope,
    command: &Command,
) -> Result<Result<(), arm::Refusal>, StoreError> {
    let key = key_of(scope, command.job().as_str());
    let record = load_record(conn, shared, &key)?;
    let (answer, encoded) = decide_datacenter(shared, record.as_ref(), ctx.now(), scope, command)?;
    encoded.write(conn, &key)?;
    Ok(answer)
}

/// Fires every timer due at `now`, each at its own deadline: the deadline sweep. The writer
/// runs it before every group of requests; the virtual clock runs it when it moves. A damaged
/// row cannot fire: it is named once in the log and skipped from then on.
fn sweep(conn: &Connection, shared: &Shared, now: Timestamp, fired: &mut Fired) -> Result<(), StoreError> {
    for key in store::due(conn, deadline_ms(now))? {
        if shared.damaged.contains(&key) {
            continue;
        }
        let record = match load_record(conn, shared, &key) {
            Ok(Some(record)) => record,
            Ok(None) => continue,
            Err(StoreError::Damaged(_)) => continue,
            Err(e) => return Err(e),
        };
        decide_timeout(shared, &key, &record, now, fired)?.write(conn, &key)?;
    }
    Ok(())
}

/// The events fired, counted, the earliest [`Fired::limit`] of them kept (by time, then by the
/// order they fired in): a clock move firing 100,000 timers holds a bounded answer.
struct Fired {
    limit: usize,
    total: usize,
    kept: BinaryHeap<Kept>,
}

struct Kept {
    at: Timestamp,
    order: usize,
    happened: Happened,
}

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Kept {}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kept {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

impl Fired {
    fn new(limit: usize) -> Fired {
        Fired { limit, total: 0, kept: BinaryHeap::new() }
    }

    fn push(&mut self, id: &str, event: &Event) {
        self.total += 1;
        if self.limit == 0 {
            return;
        }
        let kept = Kept {
            at: event.at,
            order: self.total,
            happened: Happened { id: id.to_string(), event: event.clone() },
        };
        if self.kept.len() < self.limit {
            self.kept.push(kept);
        } else if self.kept.peek().is_some_and(|latest| kept < *latest) {
            self.kept.pop();
            self.kept.push(kept);
        }
    }

    fn into_sorted(self) -> Vec<Happened> {
        self.kept.into_sorted_vec().into_iter().map(|k| k.happened).collect()
    }
}
