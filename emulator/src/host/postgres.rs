//! The host's functions on PostgreSQL (`--db postgres://…`), for any number of emulator
//! processes on one database. Each request is one transaction, decided by the same functions
//! as on SQLite ([`decide_job`](super::decide_job) and the others) between a read and a write:
//!
//! - a write locks the job's row (`SELECT … FOR UPDATE`) before it decides, so racing writes
//!   to one job, through any instances, take turns and none is lost; a create inserts only if
//!   the name is still free (`ON CONFLICT DO NOTHING`), and the loser of a race decides again
//!   on the winner's record;
//! - the virtual clock is the database's `emulator.virtualNow`: every transaction that reads
//!   it takes the clock's advisory lock shared, a clock move takes it exclusive, so a move
//!   waits for the requests in flight and fires every due timer exactly once, in one answer;
//! - on the system clock each instance sleeps to the earliest deadline in the database (at
//!   most [`POLL`]: how soon it learns of an earlier one another instance wrote) and fires what
//!   is due, claiming rows with `FOR UPDATE SKIP LOCKED`, so instances sweeping together fire
//!   each timer once;
//! - nothing is answered before its transaction commits; a lost connection answers 503 and the
//!   pool connects again when the database is back.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Pool, Transaction};
use import_export_lifecycle::Command;
use import_export_lifecycle::arm::{
    BitLockerKeys, JobOperation, JobRequest, ListRequest, Record, Refusal, Response, Scope, Write,
};
use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::Notify;

use super::{
    Encoded, Fired, MAX_FIRED_SHOWN, Moved, Page, Shared, Target, deadline_ms, decide_datacenter, decide_job,
    decide_read, decide_timeout, key_of, parse_keys, read_record, spelling,
};
use crate::clock::{self, Clock, Mode};
use crate::pg_store::{self, Failed, Table};
use crate::store::{JobKey, StoreError};

/// The longest an instance on the system clock sleeps between sweeps: a deadline another
/// instance wrote, earlier than any this one knew, fires at most this late (a read of the job
/// meanwhile sees it fired: every decision catches its job's due timers up first).
pub const POLL: Duration = Duration::from_secs(1);

/// How many due rows one system-clock sweep transaction claims.
const BATCH: usize = 64;

/// How often a transaction that lost a race is run again before the request answers 503.
const ATTEMPTS: u32 = 8;

/// Runs `$body` (which may use `?` on [`Failed`]) in a transaction named `$txn` on a pooled
/// connection, and commits it; a lost race runs it again.
macro_rules! in_transaction {
    ($pg:expr, |$txn:ident| $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut client = pg_store::connection(&$pg.pool).await?;
            let $txn =
                client.transaction().await.map_err(pg_store::store_failed("starting a transaction"))?;
            let result: Result<_, Failed> = async { $body }.await;
            let failure = match result {
                Ok(value) => match $txn.commit().await {
                    Ok(()) => break Ok(value),
                    Err(e) => pg_store::failed("committing")(e),
                },
                Err(failure) => failure,
            };
            match failure {
                Failed::Retry if attempt < ATTEMPTS => continue,
                Failed::Retry => {
                    break Err(StoreError::Unavailable(format!(
                        "PostgreSQL: lost {ATTEMPTS} races in a row for the same rows; retry"
                    )));
                }
                Failed::Store(e) => break Err(e),
            }
        }
    }};
}

/// The PostgreSQL engine: the pool, this instance's clock mode and last-seen time, what the
/// host's functions share, and the wake-up of this instance's timer task.
#[derive(Clone)]
pub struct Pg {
    pool: Pool,
    clock: Arc<Clock>,
    shared: Arc<Shared>,
    wake: Arc<Notify>,
}

impl Pg {
    /// The engine over `pool` (whose tables [`pg_store::prepare`] made).
    pub fn new(pool: Pool, clock: Arc<Clock>, shared: Arc<Shared>) -> Pg {
        Pg { pool, clock, shared, wake: Arc::new(Notify::new()) }
    }

    /// This instance's clock.
    pub fn clock(&self) -> Arc<Clock> {
        Arc::clone(&self.clock)
    }

    /// What the host's functions share.
    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Closes the pool: its connections end.
    pub fn close(&self) {
        self.pool.close();
    }

    /// At startup, on the virtual clock: takes the database's time, or gives it `start` (or
    /// now) on a database that has none; a `start` later than the database's moves the clock
    /// there for every instance, firing what comes due. `Ok(Err(message))`: `start` is before
    /// the database's time, and nothing changed.
    ///
    /// # Errors
    /// The database refused.
    pub async fn start(&self, start: Option<Timestamp>) -> Result<Result<Timestamp, String>, StoreError> {
        if self.clock.mode() == Mode::System {
            return Ok(Ok(clock::system_now()));
        }
        let settled = in_transaction!(self, |txn| {
            pg_store::lock_clock(&txn, true).await?;
            let stored = read_virtual(&txn).await?;
            let to = match clock::start_at(Mode::Virtual, stored, start) {
                Ok(to) => to,
                Err(message) => return Ok(Err(message)),
            };
            if stored.is_some_and(|stored| to > stored) {
                self.sweep_in(&txn, to, false, &mut Fired::new(0)).await?;
            }
            if stored != Some(to) {
                pg_store::set_setting(&txn, "virtualNow", &to.to_string()).await?;
            }
            Ok(Ok(to))
        })?;
        if let Ok(to) = settled {
            self.clock.set_virtual(to);
        }
        Ok(settled)
    }

    /// Now, as every instance sees it.
    ///
    /// # Errors
    /// The database refused.
    pub async fn now(&self) -> Result<Timestamp, StoreError> {
        if self.clock.mode() == Mode::System {
            return Ok(clock::system_now());
        }
        in_transaction!(self, |txn| Ok(self.virtual_now(&txn).await?.unwrap_or_else(clock::system_now)))
    }

    /// On the virtual clock, the database's time, read under the clock's shared lock (so no
    /// move happens until this transaction ends); `None` on the system clock, whose time is
    /// read once the rows are (see [`Pg::job`]).
    async fn virtual_now(&self, txn: &Transaction<'_>) -> Result<Option<Timestamp>, Failed> {
        if self.clock.mode() == Mode::System {
            return Ok(None);
        }
        pg_store::lock_clock(txn, false).await?;
        let now = read_virtual(txn).await?.ok_or_else(|| {
            StoreError::Damaged(
                "emulator.virtualNow: missing (an emulator on the system clock made this database?)".into(),
            )
        })?;
        if now > self.clock.now() {
            self.clock.set_virtual(now);
        }
        Ok(Some(now))
    }

    /// The record stored under `key`, locked for the transaction if `lock`.
    async fn load(&self, txn: &Transaction<'_>, key: &JobKey, lock: bool) -> Result<Option<Record>, Failed> {
        let text = pg_store::get_record(txn, key, lock).await?;
        Ok(text.map(|text| read_record(&self.shared, key, &text)).transpose()?)
    }

    async fn load_keys(&self, txn: &Transaction<'_>, key: &JobKey) -> Result<Option<BitLockerKeys>, Failed> {
        let text = pg_store::get_keys(txn, key).await?;
        Ok(text.map(|text| parse_keys(key, &text)).transpose()?)
    }

    /// Writes what a decision says about the job under `key`, whose row the transaction holds
    /// locked if it `existed`.
    async fn write(
        &self,
        txn: &Transaction<'_>,
        key: &JobKey,
        existed: bool,
        encoded: Encoded,
    ) -> Result<(), Failed> {
        match encoded.record {
            Write::Unchanged => {}
            Write::Put(put) => {
                pg_store::put_record(txn, key, !existed, &put.0, put.1).await?;
                if put.1.is_some() {
                    self.wake.notify_one();
                }
            }
            Write::Remove => pg_store::remove(txn, Table::Jobs, key).await?,
        }
        match encoded.keys {
            Write::Unchanged => {}
            Write::Put(keys) => pg_store::put_keys(txn, key, &keys).await?,
            Write::Remove => pg_store::remove(txn, Table::Keys, key).await?,
        }
        Ok(())
    }

    /// Answers a request on one job: a read in a transaction that locks nothing if it changes
    /// nothing, else in one that locks the job's row.
    ///
    /// # Errors
    /// The database refused, or the job's row is damaged.
    pub async fn job(&self, request: &JobRequest, body: Option<&Value>) -> Result<Response, StoreError> {
        let key = key_of(&request.scope, request.name.as_str());
        let wants_keys = match request.operation {
            JobOperation::ListBitLockerKeys => true,
            JobOperation::Create | JobOperation::Get | JobOperation::Update | JobOperation::Delete => false,
        };
        if matches!(request.operation, JobOperation::Get | JobOperation::ListBitLockerKeys) {
            let read = in_transaction!(self, |txn| {
                let early = self.virtual_now(&txn).await?;
                let record = self.load(&txn, &key, false).await?;
                let keys = if wants_keys { self.load_keys(&txn, &key).await? } else { None };
                // On the system clock, now is read after the record: it is no earlier than
                // anything the record says happened.
                let now = early.unwrap_or_else(clock::system_now);
                Ok(decide_read(&self.shared, record.as_ref(), keys.as_ref(), now, request))
            })?;
            if let Some(answer) = read {
                return Ok(answer);
            }
        }
        in_transaction!(self, |txn| {
            let early = self.virtual_now(&txn).await?;
            let record = self.load(&txn, &key, true).await?;
            let now = early.unwrap_or_else(clock::system_now);
            let keys = if wants_keys { self.load_keys(&txn, &key).await? } else { None };
            let request = match (&request.operation, &record) {
                (JobOperation::Create, None) => {
                    let scope = request.scope.key();
                    let stored =
                        pg_store::scope_spelling(&txn, &scope.subscription, &scope.resource_group).await?;
                    JobRequest { scope: spelling(stored, &request.scope), ..request.clone() }
                }
                _ => request.clone(),
            };
            let (answer, encoded) =
                decide_job(&self.shared, record.as_ref(), keys.as_ref(), now, &request, body)?;
            if let Some(encoded) = encoded {
                self.write(&txn, &key, record.is_some(), encoded).await?;
            }
            Ok(answer)
        })
    }

    /// Applies a datacenter operation to the job its path names, its row locked.
    ///
    /// # Errors
    /// The database refused, or the job's row is damaged.
    pub async fn datacenter(
        &self,
        scope: &Scope,
        command: &Command,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let key = key_of(scope, command.job().as_str());
        in_transaction!(self, |txn| {
            let early = self.virtual_now(&txn).await?;
            let record = self.load(&txn, &key, true).await?;
            let now = early.unwrap_or_else(clock::system_now);
            let (answer, encoded) = decide_datacenter(&self.shared, record.as_ref(), now, scope, command)?;
            self.write(&txn, &key, record.is_some(), encoded).await?;
            Ok(answer)
        })
    }

    /// One page of a list, in one snapshot-free read transaction (see [`Page`]).
    ///
    /// # Errors
    /// The database refused.
    pub async fn list(&self, request: &ListRequest) -> Result<Response, StoreError> {
        in_transaction!(self, |txn| {
            let now = self.virtual_now(&txn).await?.unwrap_or_else(clock::system_now);
            let mut page = Page::new(request, now, pg_store::count_due(&txn, deadline_ms(now)).await?);
            loop {
                let asked = page.asked();
                let rows = pg_store::list(
                    &txn,
                    &page.subscription,
                    page.resource_group.as_deref(),
                    page.after(),
                    asked,
                )
                .await?;
                if page.take(&self.shared, rows, asked) {
                    break;
                }
            }
            Ok(page.answer(&self.shared, now, request))
        })
    }

    /// Every job for the overview (at most `limit`), how many there are, and the time they are
    /// shown at. On the system clock, what is due fires first.
    ///
    /// # Errors
    /// The database refused.
    pub async fn all(&self, limit: usize) -> Result<(Vec<Record>, usize, Timestamp), StoreError> {
        if self.clock.mode() == Mode::System {
            self.sweep_due().await?;
        }
        in_transaction!(self, |txn| {
            let early = self.virtual_now(&txn).await?;
            let (rows, total) = pg_store::all(&txn, limit).await?;
            let now = early.unwrap_or_else(clock::system_now);
            let records = rows
                .into_iter()
                .filter_map(|(key, text)| text.and_then(|text| read_record(&self.shared, &key, &text)).ok())
                .collect();
            Ok((records, total, now))
        })
    }

    /// Moves the virtual clock for every instance, firing every timer due on the way, each at
    /// its own deadline, under the clock's exclusive lock: moves through several instances at
    /// once take turns, and each timer fired is in exactly one move's answer.
    ///
    /// # Errors
    /// The database refused.
    pub async fn move_clock(&self, target: &Target) -> Result<Result<Moved, String>, StoreError> {
        let moved = in_transaction!(self, |txn| {
            pg_store::lock_clock(&txn, true).await?;
            let current = read_virtual(&txn).await?.unwrap_or_else(|| self.clock.now());
            let to = match target.from(current) {
                Ok(to) => to,
                Err(message) => return Ok(Err(message)),
            };
            let mut fired = Fired::new(MAX_FIRED_SHOWN);
            self.sweep_in(&txn, to, false, &mut fired).await?;
            pg_store::set_setting(&txn, "virtualNow", &to.to_string()).await?;
            Ok(Ok((to, fired)))
        })?;
        Ok(moved.map(|(to, fired)| {
            self.clock.set_virtual(to);
            let count = fired.total;
            Moved { now: to, fired: fired.into_sorted(), count }
        }))
    }

    /// Fires the timers due at `now` in this transaction: every one (waiting for rows others
    /// hold) when the clock moves, or at most [`BATCH`], passing over rows others hold, on the
    /// system clock. Says how many rows it claimed, and how many of those it changed.
    async fn sweep_in(
        &self,
        txn: &Transaction<'_>,
        now: Timestamp,
        skip_locked: bool,
        fired: &mut Fired,
    ) -> Result<(usize, usize), Failed> {
        let limit = if skip_locked { BATCH + self.shared.damaged.len() } else { usize::MAX / 2 };
        let rows = pg_store::due(txn, deadline_ms(now), limit, skip_locked).await?;
        let (claimed, mut changed) = (rows.len(), 0);
        for (key, text) in rows {
            if self.shared.damaged.contains(&key) {
                continue;
            }
            let record = match text.and_then(|text| read_record(&self.shared, &key, &text)) {
                Ok(record) => record,
                Err(StoreError::Damaged(_)) => continue,
                Err(e) => return Err(Failed::Store(e)),
            };
            let encoded = decide_timeout(&self.shared, &key, &record, now, fired)?;
            if !matches!(encoded.record, Write::Unchanged) {
                changed += 1;
            }
            self.write(txn, &key, true, encoded).await?;
        }
        Ok((claimed, changed))
    }

    /// On the system clock: fires what is due now, a batch per transaction, until a batch
    /// claims fewer rows than it may or changes none. Says how many rows it changed.
    ///
    /// # Errors
    /// The database refused.
    pub async fn sweep_due(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let (claimed, changed) = in_transaction!(self, |txn| {
                let now = clock::system_now();
                self.sweep_in(&txn, now, true, &mut Fired::new(0)).await
            })?;
            total += changed;
            if claimed < BATCH || changed == 0 {
                return Ok(total);
            }
        }
    }

    /// The earliest deadline (milliseconds) of a row not found damaged.
    async fn next_deadline(&self) -> Result<Option<i64>, StoreError> {
        let skip = self.shared.damaged.len();
        let rows = in_transaction!(self, |txn| pg_store::next_deadlines(&txn, skip + 1).await)?;
        Ok(rows.into_iter().find(|(key, _)| !self.shared.damaged.contains(key)).map(|(_, ms)| ms))
    }

    /// On the system clock, for the process's life: fire what is due, then sleep until the
    /// earliest deadline in the database, at most [`POLL`], or until this instance writes a
    /// deadline; and again. A database that is down is tried again every [`POLL`].
    pub async fn run_timers(self) {
        loop {
            let changed = match self.sweep_due().await {
                Ok(changed) => changed,
                Err(e) => {
                    tracing::warn!("firing due timers: {e}");
                    0
                }
            };
            let wait = match self.next_deadline().await {
                Ok(Some(ms)) => {
                    let now_ms = clock::system_now().as_millisecond();
                    // The column rounds down: wake one millisecond after the exact deadline.
                    let wait = Duration::from_millis(u64::try_from(ms + 1 - now_ms).unwrap_or(0));
                    // A due row that did not fire (another instance holds it) is not retried at once.
                    if wait.is_zero() && changed == 0 { Duration::from_millis(50) } else { wait.min(POLL) }
                }
                Ok(None) => POLL,
                Err(e) => {
                    tracing::warn!("reading the next deadline: {e}");
                    POLL
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.wake.notified() => {}
            }
        }
    }
}

/// The database's virtual time, if it has one.
async fn read_virtual(txn: &Transaction<'_>) -> Result<Option<Timestamp>, Failed> {
    let Some(text) = pg_store::get_setting(txn, "virtualNow").await? else { return Ok(None) };
    let now = text
        .parse::<Timestamp>()
        .map_err(|e| StoreError::Damaged(format!("emulator.virtualNow: {text:?} is not RFC 3339: {e}")))?;
    Ok(Some(now))
}
