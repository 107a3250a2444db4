//! A pure model of the lifecycle of an **Azure Import/Export job**, and above all of its
//! cancel, delete and retention rules.
//!
//! A customer creates a job, ships disk drives to an Azure datacenter, the datacenter copies
//! data to or from Azure Storage and ships the drives back. Along the way the customer may
//! cancel (accepted only before the job reaches `Packaging`, carried out on a best-effort
//! basis: drives already copying keep copying) and delete (only before shipping or once
//! finished), and the service removes finished jobs after 90 days.
//!
//! This crate decides, for any job, any input and any instant, what the service does: it never
//! reads a clock, touches a file or opens a socket. The caller passes `now` to every input, asks
//! [`Registry::next_deadline`] when the next timer is due and calls
//! [`Registry::handle_timeout`] then; every other input applies the due timers first anyway.
//! That makes the same rules usable inside a service, an emulator, a CLI that wants to know
//! whether a cancel will be refused, and a test suite that moves time by 90 days in a
//! microsecond.
//!
//! # Example
//!
//! ```
//! use import_export_lifecycle::{Command, DriveId, JobName, JobState, JobType, Registry, Timestamp};
//!
//! let t = |s: &str| s.parse::<Timestamp>().unwrap();
//! let job = JobName::new("job-1").unwrap();
//! let (d1, d2) = (DriveId::new("D1").unwrap(), DriveId::new("D2").unwrap());
//! let mut registry = Registry::default();
//!
//! let steps = [
//!     ("2026-01-05T09:00:00Z", Command::Create { job: job.clone(), job_type: JobType::Import, drives: vec![d1.clone(), d2.clone()] }),
//!     ("2026-01-06T09:00:00Z", Command::Ship { job: job.clone(), carrier: None, tracking_number: None }),
//!     ("2026-01-09T09:00:00Z", Command::PackageReceived { job: job.clone(), drives: vec![d1.clone(), d2.clone()] }),
//!     ("2026-01-10T09:00:00Z", Command::StartTransfer { job: job.clone(), drive: d1.clone() }),
//!     ("2026-01-10T10:00:00Z", Command::Cancel { job: job.clone() }),
//! ];
//! for (at, command) in &steps {
//!     registry.execute(t(at), command).result.unwrap();
//! }
//!
//! // D1 was copying when the cancel came: it may go on (R-CANCEL-6). D2 may not start (R-CANCEL-7).
//! let refused = registry.execute(t("2026-01-10T11:00:00Z"), &Command::StartTransfer { job: job.clone(), drive: d2 });
//! assert_eq!(refused.result.unwrap_err().code(), "InvalidStateTransition");
//! let more = Command::Progress { job: job.clone(), drive: d1.clone(), bytes: 1 << 30 };
//! registry.execute(t("2026-01-10T12:00:00Z"), &more).result.unwrap();
//!
//! // Once D1 finishes, nothing copies: the job packs its drives and, shipped back, completes.
//! let finish = Command::FinishTransfer { job: job.clone(), drive: d1, result: import_export_lifecycle::TransferResult::CompletedMoreInfo };
//! registry.execute(t("2026-01-11T09:00:00Z"), &finish).result.unwrap();
//! registry.execute(t("2026-01-12T09:00:00Z"), &Command::ShipBack { job: job.clone() }).result.unwrap();
//! let completed = registry.get(t("2026-01-12T09:00:00Z"), &job).result.unwrap();
//! assert_eq!(completed.state(), JobState::Completed); // never Closed after a cancel (R-CANCEL-8)
//!
//! // 90 days later, to the second, it is gone (R-TIMER-3).
//! assert_eq!(registry.next_deadline().unwrap().at, t("2026-04-12T09:00:00Z"));
//! assert!(registry.get(t("2026-04-12T08:59:59Z"), &job).result.is_ok());
//! assert_eq!(registry.get(t("2026-04-12T09:00:00Z"), &job).result.unwrap_err().code(), "JobNotFound");
//! ```
//!
//! # The calling contract
//!
//! As in `quinn-proto`, the crate holds no state of its own and does no I/O; the host does.
//!
//! - **The host owns** the jobs, the clock and the storage: either a [`Registry`] (every job in
//!   memory, with its timer index), or one record per job (`Option<Job>`, a row or a document)
//!   that it passes to the functions of [`decider`]. It also owns the index of deadlines that
//!   tells it when to come back.
//! - **The host stores** a job's JSON as [`Job`] serializes it (it carries its
//!   [`FORMAT_VERSION`]), or the [`Event`]s in order; a [`Registry`] serializes whole. Reading
//!   back is untrusted: a host that stores jobs one by one reads a record with [`Job::read`]
//!   (one call: size, strictness, the version wherever the key is, consistency, the name; typed
//!   [`decider::ReadError`]s), a [`Registry`] checks every job against its policy when it
//!   deserializes, and [`Registry::replay`] or [`decider::apply`] check each event
//!   (R-INPUT-3, R-EVENT-1). A policy change never makes a record unreadable (R-POLICY-1).
//! - **When it calls what.** Every input goes in with the `now` of the host's clock:
//!   [`Registry::execute`] or [`decider::execute`], which says what to store as a
//!   [`decider::Write`] (nothing, insert, update, delete). Before it shows a job it calls
//!   [`Registry::get`]/[`Registry::list`] or [`decider::handle_timeout`], which fire the timers
//!   due first. It indexes each job by [`Job::next_deadline`] (rounded up to its store's
//!   [`decider::Resolution`] with `index_key`; the [`Registry`] keeps its own index, asked with
//!   [`Registry::next_deadline`]) and calls [`Registry::handle_timeout`] or
//!   [`decider::handle_timeout`] with its sweep's own `now`, never the key it read back
//!   (R-TIMER-7). Every one of these applies the job's due timers at their own deadlines,
//!   through [`Job::catch_up`], before anything else. After a policy change it re-indexes every
//!   record under the new policy.
//! - **What it must never do**: change a job other than by the events this crate decided (a
//!   [`Job`] has no setters); write anything for a refused input (a refusal changes nothing,
//!   R-REFUSE-1; only the timers that fired before it are to be written); answer a customer from
//!   [`Registry::peek`] or [`Registry::iter`], which apply no timer; read the clock inside a
//!   decision or pass different clocks to one job (an earlier `now` counts as the job's last
//!   instant, R-CLOCK-1, but a host whose clocks disagree sees timers late).
//!
//! # The model in brief
//!
//! - [`Registry`]: every job, by name, and their timers. Inputs go in as [`Command`]s with
//!   `now`; what happened comes out as [`Event`]s, or an [`Error`] that names the operation,
//!   the state and the [`Rule`] that refused it.
//! - [`Job`], [`Drive`]: what *Get Job* shows, with the service's own names ([`JobState`],
//!   [`DriveState`], `cancelRequested`, `driveList`, `bytesSucceeded`).
//! - [`Policy`]: the service's durations (90 days of retention, 14 days in `Creating` counted
//!   from the last update, 14 days for a package to arrive, 30 more before the operators close a
//!   job whose package never came) and the cancel window.
//! - [`Command::Update`]: the customer's *Update Job*, naming the [`UpdateField`]s it changes;
//!   the rules say which field may change in which state.
//! - [`Job::capabilities`]: what the customer may do now, without trying, and the rule behind
//!   each refusal.
//! - [`Job::stages`]: every state the job entered, and when.
//!
//! The rules themselves are numbered in `docs/spec.md`; every one has a test named after it.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The model's nouns: names, states, jobs, commands, events, timers, the policy, the rules' ids,
// errors. They say what things are; they decide nothing.
mod model;
// The lifecycle's decisions: which rule allows what, deciding a command, evolving a job by an
// event, catching up with timers, the invariants, the checked stored form.
mod lifecycle;
// The hosts over the decisions: the per-job functions and the in-memory registry.
mod hosts;
// Reading and writing JSON strictly, instants, and text for messages.
mod wire;
// The ARM API as data, over the hosts.
#[cfg(feature = "arm")]
pub mod arm;
// The tooling around the rules: scenarios, transcripts, the explorer.
#[cfg(feature = "scenarios")]
pub mod scenarios;

pub use hosts::decider;
pub use wire::{instant, strict, text};

pub use hosts::registry::Registry;
pub use jiff::{SignedDuration, Timestamp};
pub use lifecycle::capabilities::Capabilities;
pub use model::command::Command;
pub use model::error::{Error, ErrorKind, Operation, Problem};
pub use model::event::{Change, Event};
pub use model::format::{FORMAT_VERSION, FormatVersion};
pub use model::job::{Drive, Job, MAX_DRIVES, PackageInfo, Stage};
pub use model::name::{DriveId, JobName, MAX_NAME_LEN};
pub use model::outcome::Outcome;
pub use model::policy::{CancelWindow, Policy};
pub use model::rule::Rule;
pub use model::state::{DriveState, JobState, JobType, TransferResult};
pub use model::timer::{Deadline, Timer};
pub use model::update::UpdateField;

/// The README's example, compiled and run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
