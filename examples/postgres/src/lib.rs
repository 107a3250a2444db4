//! A host of `import_export_lifecycle`'s per-job functions on PostgreSQL: one row per job, a
//! version column for optimistic concurrency, the job's record as `text`, and a deadline index
//! swept with `FOR UPDATE SKIP LOCKED`. `docs/embedding.md` walks through it.
//!
//! - [`lifecycle`]: every call into the crate, and what the host derives from its answers.
//! - [`schema`]: the tables, created on first use and versioned.
//! - [`Store`]: one connection; [`Store::execute`] handles a command, [`Store::get`] shows a
//!   job, [`Store::sweep`] fires the due timers.
//!
//! The host never reads a clock: `now` is the caller's, as for the crate.

#![forbid(unsafe_code)]

pub mod error;
pub mod lifecycle;
mod requests;
pub mod schema;
mod store;
mod sweep;

pub use error::HostError;
pub use requests::MAX_ATTEMPTS;
pub use store::{Store, Stored, Written};

/// The environment variable holding the database's URL.
pub const DATABASE_URL: &str = "DATABASE_URL";
