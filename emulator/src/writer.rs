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
//! The writer knows nothing of jobs: what runs before each group (the host fires the timers
//! due) and after each commit (the host publishes the next deadline) is given to
//! [`Writer::start`] as [`Hooks`]. Before each commit it checks that the database file is
//! still the one it opened ([`store::Owner::check`]): once deleted or replaced, no group
//! commits and every write answers 503.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use jiff::Timestamp;
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::clock::{Clock, Mode};
use crate::store::{Owner, StoreError};

/// The most closures committed in one transaction.
pub const MAX_BATCH: usize = 512;

/// What a closure sees besides the connection: the time inside its group.
pub struct Ctx {
    clock: Arc<Clock>,
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

    /// Moves the virtual clock to `to` for the rest of the group (and, once committed, for
    /// everyone).
    pub fn set_virtual_now(&mut self, to: Timestamp) {
        self.virtual_now = to;
    }
}

/// What the writer runs around each group, given by the host.
pub struct Hooks {
    /// Before the group's requests, in a savepoint of its own, at the group's `now`: the due
    /// timers. An error is logged and the requests still run.
    pub before_group: BeforeGroup,
    /// After each commit, on the committed state: the next deadline.
    pub after_commit: Box<dyn FnMut(&Connection) + Send>,
}

/// Why a group did not commit, as its requests are told.
type Outcome = Result<(), String>;
/// What runs before each group's requests (the due timers), at the group's `now`.
pub type BeforeGroup = Box<dyn FnMut(&Connection, Timestamp) -> Result<(), StoreError> + Send>;
/// Called once the group is committed or rolled back.
type Deliver = Box<dyn FnOnce(&Outcome) + Send>;
/// A closure run in the writer: whether to keep what it wrote, and how to answer.
type Op = Box<dyn FnOnce(&Connection, &mut Ctx) -> (bool, Deliver) + Send>;

/// The handle requests use to reach the writer.
#[derive(Clone)]
pub struct Writer {
    sender: mpsc::Sender<Op>,
    lost: Arc<Mutex<Option<String>>>,
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
    /// Starts the writer on `conn` (of the file `owner` holds; none in memory).
    pub fn start(
        conn: Connection,
        owner: Option<Arc<Owner>>,
        clock: Arc<Clock>,
        hooks: Hooks,
    ) -> (Writer, WriterThread) {
        let (sender, receiver) = mpsc::channel::<Op>();
        let lost = Arc::new(Mutex::new(None));
        let state = State { owner, lost: Arc::clone(&lost), hooks };
        let handle = thread::Builder::new()
            .name("writer".into())
            .spawn(move || run(conn, Ctx { virtual_now: clock.now(), clock }, receiver, state))
            .unwrap_or_else(|e| panic!("cannot start the writer thread: {e}"));
        (Writer { sender, lost }, WriterThread { handle })
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
                Box::new(move |outcome: &Outcome| {
                    let _ = tx.send(match outcome {
                        Ok(()) => Ok(value),
                        Err(why) => Err(StoreError::Unavailable(why.clone())),
                    });
                }),
            ),
            Err(e) => (
                false,
                Box::new(move |_: &Outcome| {
                    let _ = tx.send(Err(e));
                }),
            ),
        });
        self.sender.send(op).map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        rx.await.map_err(|_| {
            StoreError::Unavailable("the writer could not run the request (see its log)".into())
        })?
    }

    /// Why the writer takes no more writes, if its database file was deleted or replaced.
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The writer thread's own state besides the connection.
struct State {
    owner: Option<Arc<Owner>>,
    /// Set (and logged) once, the first time the file is found gone.
    lost: Arc<Mutex<Option<String>>>,
    hooks: Hooks,
}

fn run(mut conn: Connection, mut ctx: Ctx, receiver: mpsc::Receiver<Op>, mut state: State) {
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
        let (outcome, delivers) = group(&mut conn, &mut ctx, &mut state, ops);
        tracing::debug!(target: "writer", size, committed = outcome.is_ok(), ms = started.elapsed().as_secs_f64() * 1000.0, "group");
        if outcome.is_ok() {
            if ctx.clock.mode() == Mode::Virtual {
                ctx.clock.set_virtual(ctx.virtual_now);
            }
            (state.hooks.after_commit)(&conn);
        } else {
            ctx.virtual_now = before;
        }
        for deliver in delivers {
            deliver(&outcome);
        }
    }
    // Every handle is gone: the emulator is shutting down. Copy the WAL into the database file
    // and truncate it, then close: what is left is one self-contained file.
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::error!("checkpointing the WAL at shutdown: {e}");
    }
    drop(conn);
}

/// Runs one group in one transaction: the hook before it, then each closure in its savepoint;
/// commits if the database file is still the one opened.
fn group(conn: &mut Connection, ctx: &mut Ctx, state: &mut State, ops: Vec<Op>) -> (Outcome, Vec<Deliver>) {
    let mut delivers = Vec::with_capacity(ops.len());
    let mut txn = match conn.transaction() {
        Ok(txn) => txn,
        Err(e) => {
            let why = StoreError::from(e).to_string();
            tracing::error!("starting a transaction: {why}");
            return (Err(why), ops.into_iter().map(not_run).collect());
        }
    };
    // The hook (due timers), in a savepoint of its own: one that fails halfway keeps nothing.
    match txn.savepoint() {
        Ok(savepoint) => match (state.hooks.before_group)(&savepoint, ctx.now()) {
            Ok(()) => {
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
        if keep && let Err(e) = savepoint.commit() {
            tracing::error!("releasing a savepoint: {e}");
        }
        // A savepoint dropped without commit rolls back.
        delivers.push(deliver);
    }
    if let Some(owner) = &state.owner
        && let Err(e) = owner.check()
    {
        let why = e.to_string();
        let mut lost = state.lost.lock().unwrap_or_else(|e| e.into_inner());
        if lost.is_none() {
            tracing::error!("{why}");
            *lost = Some(why.clone());
        }
        // Dropping the transaction rolls it back.
        return (Err(why), delivers);
    }
    let ran = std::time::Instant::now();
    let committed = txn.commit();
    tracing::trace!(target: "writer", commit_ms = ran.elapsed().as_secs_f64() * 1000.0, "commit");
    match committed {
        Ok(()) => (Ok(()), delivers),
        Err(e) => {
            let why = match StoreError::from(e) {
                StoreError::Unavailable(m) => format!("database: {m}"),
                other => format!("the transaction did not commit: {other}"),
            };
            tracing::error!("committing a group of {} requests: {why}", delivers.len());
            (Err(why), delivers)
        }
    }
}

/// A closure that could not run: dropping it drops its answer's sender, and the request is
/// told the writer did not run it.
fn not_run(op: Op) -> Deliver {
    drop(op);
    Box::new(|_| {})
}
