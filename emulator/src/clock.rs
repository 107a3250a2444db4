//! The emulator's clock: the machine's (`system`) or one that only tests move (`virtual`).
//!
//! The lifecycle core never reads a clock; this is the one place the emulator does. A virtual
//! clock stands still until `POST /emulator/clock` moves it forward; its value is stored in the
//! database with the jobs, so a restart resumes where it stopped.

use std::sync::Mutex;

use jiff::Timestamp;
use serde::Serialize;

/// Which clock answers `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The machine's clock; timers fire when their deadline comes.
    System,
    /// A clock that stands still until moved by `POST /emulator/clock`.
    Virtual,
}

/// The current time, as the emulator sees it.
#[derive(Debug)]
pub struct Clock {
    mode: Mode,
    /// The virtual clock's time (unused in `system` mode). Moved only by the writer, after the
    /// move is committed.
    virtual_now: Mutex<Timestamp>,
}

/// The machine's clock.
#[allow(
    clippy::disallowed_methods,
    reason = "the emulator is the host: it reads the clock the core is given"
)]
pub fn system_now() -> Timestamp {
    Timestamp::now()
}

impl Clock {
    /// A clock in `mode`; a virtual one starts at `start`.
    pub fn new(mode: Mode, start: Timestamp) -> Clock {
        Clock { mode, virtual_now: Mutex::new(start) }
    }

    /// Which clock this is.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        match self.mode {
            Mode::System => system_now(),
            Mode::Virtual => *self.virtual_now.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a virtual clock to `to` (the writer calls this once the move is committed).
    pub fn set_virtual(&self, to: Timestamp) {
        *self.virtual_now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

/// Where the clock starts: on the virtual clock, the database's time if it has one (a
/// `start` may only move it forward), else `start`, else now; on the system clock, now.
///
/// # Errors
/// `start` is before the database's virtual time.
pub fn start_at(
    mode: Mode,
    stored: Option<Timestamp>,
    start: Option<Timestamp>,
) -> Result<Timestamp, String> {
    match (mode, stored, start) {
        (Mode::Virtual, Some(stored), Some(start)) if start < stored => Err(format!(
            "--start {start}: the database's virtual clock is already at {stored}; it only moves forward"
        )),
        (Mode::Virtual, Some(stored), Some(start)) => Ok(start.max(stored)),
        (Mode::Virtual, Some(stored), None) => Ok(stored),
        (_, _, Some(start)) => Ok(start),
        (_, _, None) => Ok(system_now()),
    }
}
