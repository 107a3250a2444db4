//! The tooling around the rules (feature `scenarios`): scenario files and their replay into
//! transcripts, and the explorer that walks every reachable situation of a job (it writes
//! `docs/lifecycle.md`). None of it decides anything: each drives a
//! [`Registry`](crate::Registry) and reports what the rules did.
//!
//! - [`Scenario`]: a JSON file of timed [`Step`]s (commands, reads, clock moves), read strictly
//!   and bounded ([`MAX_SCENARIO_BYTES`], [`MAX_STEPS`]); [`ScenarioError`] names the step and
//!   the field that does not fit.
//! - [`replay`]: runs a scenario and gives its [`Transcript`], [`Line`] by line, the text
//!   `cargo run --example replay` prints and the snapshots hold.
//! - [`explore`]: every [`Situation`] a job reaches and what each [`Input`] does there.

mod explore;
mod scenario;
mod transcript;

pub use explore::{Cell, Effect, Exploration, Input, Situation, explore};
pub use scenario::{
    Action, MAX_SCENARIO_BYTES, MAX_STEPS, MAX_TITLE_CHARS, Read, Scenario, ScenarioError, Step,
};
pub use transcript::{ErrorView, JobView, Line, Replay, StepLine, StepResult, Transcript, replay};
