//! Readers: a few threads with read-only connections answer what changes nothing (a `GET`,
//! a list, `listBitLockerKeys`) beside the writer. In WAL mode a reader sees only committed
//! transactions, so nothing it answers can be lost by a crash.
//!
//! With `--db :memory:` there is a single connection, the writer's, and reads go there.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::{self, StoreError};

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The pool of reader threads.
pub struct Readers {
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    handles: Mutex<Vec<thread::JoinHandle<()>>>,
}

impl Readers {
    /// Starts `count` readers on the file at `path` (which the writer has already set up).
    pub fn start(path: &str, count: usize) -> Result<Readers, StoreError> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut handles = Vec::new();
        for i in 0..count.max(1) {
            let mut conn = store::open_reader(path)?;
            let receiver = Arc::clone(&receiver);
            let handle = thread::Builder::new()
                .name(format!("reader-{i}"))
                .spawn(move || {
                    loop {
                        let job = match receiver.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut conn),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| StoreError::Unavailable(format!("cannot start a reader thread: {e}")))?;
            handles.push(handle);
        }
        Ok(Readers { sender: Mutex::new(Some(sender)), handles: Mutex::new(handles) })
    }

    /// Runs `f` on a reader's connection, inside one read transaction (one snapshot).
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = conn.transaction().map_err(StoreError::from).and_then(|txn| {
                let out = f(&txn);
                // A read transaction has nothing to keep.
                drop(txn);
                out
            });
            let _ = tx.send(result);
        });
        let sent = match self.sender.lock() {
            Ok(guard) => guard.as_ref().map(|s| s.send(job).is_ok()).unwrap_or(false),
            Err(_) => false,
        };
        if !sent {
            return Err(StoreError::Unavailable("the readers have stopped".into()));
        }
        rx.await.map_err(|_| StoreError::Unavailable("the readers have stopped".into()))?
    }

    /// Stops the readers once the work they have is done, and closes their connections.
    pub fn stop(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let handles = self.handles.lock().map(|mut h| std::mem::take(&mut *h)).unwrap_or_default();
        for handle in handles {
            let _ = handle.join();
        }
    }
}
