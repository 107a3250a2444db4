//! The single writer: every change goes through one thread that owns the database's write
//! connection and commits in groups.
//!
//! A request that may change something is sent here as a closure. The writer takes every
//! closure waiting (up to [`MAX_BATCH`]), runs them in order inside one transaction, each in a
//! savepoint of its own (a closure that fails leaves nothing behind), commits once, and only
//! then sends each its answer. One `fsync` thus covers a whole group of requests: that is
//! what lets durable writes (`synchronous=FULL`) outrun the disk's flush rate, and no answer
//! is ever sent for a change that is not on disk.
//!
//! Before each group the writer fires every timer due by now (see [`crate::host::sweep`]), so
//! no request sees a job whose timer should already have fired.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;

use jiff::Timestamp;
use rusqlite::Connection;
use tokio::sync::{oneshot, watch};

use import_export_lifecycle::arm::Context;

use crate::clock::{Clock, Mode};
use crate::host;
use crate::store::{self, StoreError};

/// The most closures committed in one transaction.
pub const MAX_BATCH: usize = 512;

/// What a closure sees besides the connection: the time, and the timers fired so far.
pub struct Ctx {
    clock: Arc<Clock>,
    /// The host's configuration and the service's policy.
    pub context: Arc<Context>,
    /// The virtual clock's time inside this group (moved by `POST /emulator/clock`); published
    /// to the shared clock once the group commits.
    virtual_now: Timestamp,
}

impl Ctx {
    /// Now, for the closure running.
    pub fn now(&self) -> Timestamp {
        match self.clock.mode() {
            Mode::System => crate::clock::system_now(),
            Mode::Virtual => self.virtual_now,
        }
    }

    /// The clock's mode.
    pub fn mode(&self) -> Mode {
        self.clock.mode()
    }

    /// Moves the virtual clock to `to` for the rest of the group (and, once committed, for
    /// everyone).
    pub fn set_virtual_now(&mut self, to: Timestamp) {
        self.virtual_now = to;
    }
}

/// Called once the group is committed (`true`) or rolled back (`false`).
type Deliver = Box<dyn FnOnce(bool) + Send>;
/// A closure run in the writer: whether to keep what it wrote, and how to answer.
type Op = Box<dyn FnOnce(&Connection, &mut Ctx) -> (bool, Deliver) + Send>;

/// The handle requests use to reach the writer.
#[derive(Clone)]
pub struct Writer {
    sender: mpsc::Sender<Op>,
}

/// The writer thread, to wait for at shutdown.
pub struct WriterThread {
    handle: thread::JoinHandle<()>,
}

impl WriterThread {
    /// Waits until the writer has finished its last group and closed the database. Every
    /// [`Writer`] handle must be dropped first.
    pub fn join(self) {
        if self.handle.join().is_err() {
            tracing::error!("the writer thread panicked");
        }
    }
}

impl Writer {
    /// Starts the writer on `conn`. `deadlines` receives the earliest deadline (whole milliseconds)
    /// after every commit, for the task that sleeps until it.
    pub fn start(
        conn: Connection,
        clock: Arc<Clock>,
        context: Arc<Context>,
        deadlines: watch::Sender<Option<i64>>,
    ) -> (Writer, WriterThread) {
        let (sender, receiver) = mpsc::channel::<Op>();
        let handle = thread::Builder::new()
            .name("writer".into())
            .spawn(move || run(conn, Ctx { virtual_now: clock.now(), clock, context }, receiver, deadlines))
            .unwrap_or_else(|e| panic!("cannot start the writer thread: {e}"));
        (Writer { sender }, WriterThread { handle })
    }

    /// Runs `f` in the writer, inside a group's transaction, and answers once the group is
    /// committed. If `f` fails, nothing it wrote is kept.
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut Ctx) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let op: Op = Box::new(move |conn, ctx| match f(conn, ctx) {
            Ok(value) => (
                true,
                Box::new(move |committed| {
                    let _ = tx.send(if committed {
                        Ok(value)
                    } else {
                        Err(StoreError::Unavailable("the transaction did not commit".into()))
                    });
                }),
            ),
            Err(e) => (
                false,
                Box::new(move |_| {
                    let _ = tx.send(Err(e));
                }),
            ),
        });
        self.sender.send(op).map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        rx.await.map_err(|_| {
            StoreError::Unavailable("the writer could not run the request (see its log)".into())
        })?
    }
}

fn run(
    mut conn: Connection,
    mut ctx: Ctx,
    receiver: mpsc::Receiver<Op>,
    deadlines: watch::Sender<Option<i64>>,
) {
    while let Ok(first) = receiver.recv() {
        let mut ops = vec![first];
        while ops.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(op) => ops.push(op),
                Err(_) => break,
            }
        }
        let before = ctx.virtual_now;
        let size = ops.len();
        let started = std::time::Instant::now();
        let (committed, delivers) = group(&mut conn, &mut ctx, ops);
        tracing::debug!(target: "writer", size, committed, ms = started.elapsed().as_secs_f64() * 1000.0, "group");
        if committed {
            if ctx.mode() == Mode::Virtual {
                ctx.clock.set_virtual(ctx.virtual_now);
            }
            match store::next_deadline(&conn) {
                Ok(next) => {
                    deadlines.send_if_modified(|d| std::mem::replace(d, next) != next);
                }
                Err(e) => tracing::error!("reading the next deadline: {e}"),
            }
        } else {
            ctx.virtual_now = before;
        }
        for deliver in delivers {
            deliver(committed);
        }
    }
    // Every handle is gone: the emulator is shutting down. Copy the WAL into the database file
    // and truncate it, then close: what is left is one self-contained file.
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::error!("checkpointing the WAL at shutdown: {e}");
    }
    drop(conn);
}

/// Runs one group in one transaction: the due timers, then each closure in its savepoint.
fn group(conn: &mut Connection, ctx: &mut Ctx, ops: Vec<Op>) -> (bool, Vec<Deliver>) {
    let mut delivers = Vec::with_capacity(ops.len());
    let mut txn = match conn.transaction() {
        Ok(txn) => txn,
        Err(e) => {
            tracing::error!("starting a transaction: {e}");
            let delivers = ops.into_iter().map(not_run).collect();
            return (false, delivers);
        }
    };
    // The due timers, in a savepoint of their own: a sweep that fails halfway keeps nothing.
    match txn.savepoint() {
        Ok(savepoint) => match host::sweep(&savepoint, &ctx.context, ctx.now()) {
            Ok(_) => {
                if let Err(e) = savepoint.commit() {
                    tracing::error!("releasing the timers' savepoint: {e}");
                }
            }
            Err(e) => tracing::error!("firing due timers: {e}"),
        },
        Err(e) => tracing::error!("starting the timers' savepoint: {e}"),
    }
    for op in ops {
        let savepoint = match txn.savepoint() {
            Ok(sp) => sp,
            Err(e) => {
                tracing::error!("starting a savepoint: {e}");
                delivers.push(not_run(op));
                continue;
            }
        };
        let (keep, deliver) = op(&savepoint, ctx);
        if keep {
            if let Err(e) = savepoint.commit() {
                tracing::error!("releasing a savepoint: {e}");
            }
        }
        // A savepoint dropped without commit rolls back.
        delivers.push(deliver);
    }
    let ran = std::time::Instant::now();
    let committed = txn.commit();
    tracing::trace!(target: "writer", commit_ms = ran.elapsed().as_secs_f64() * 1000.0, "commit");
    match committed {
        Ok(()) => (true, delivers),
        Err(e) => {
            tracing::error!("committing a group of {} requests: {e}", delivers.len());
            (false, delivers)
        }
    }
}

/// A closure that could not run: dropping it drops its answer's sender, and the request is
/// told the writer did not run it.
fn not_run(op: Op) -> Deliver {
    drop(op);
    Box::new(|_| {})
}
