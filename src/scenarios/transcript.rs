//! Replaying a scenario: the story as it happened, one line per timer and per step.
//!
//! In JSON, a timer line is `{"at", "timer", "job"}` and a step line is
//! `{"step", "at", "op", "ok": true, "job": VIEW}` (`"jobs": [VIEW…]` for `list`, no `job` for
//! `delete`) or `{"step", "at", "op", "ok": false, "error": {"code", "message"}}`. A step line
//! that shows no job view (a refusal, a delete) also carries `"target"`: the job it was aimed
//! at, so every line of a transcript says which job it is about.

use std::collections::VecDeque;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::scenario::{Action, Read, Scenario, Step};
use crate::hosts::registry::Registry;
use crate::model::error::Operation;
use crate::model::job::{Drive, Job, Stage};
use crate::model::name::JobName;
use crate::model::policy::Policy;
use crate::model::state::{JobState, JobType};
use crate::model::timer::Timer;
use crate::wire::text::escape_control;

/// What a reader of a transcript sees of a job: the service's names, and when the service will
/// remove it if nothing else happens first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    /// The job's name.
    pub name: JobName,
    /// `Import` or `Export`.
    pub job_type: JobType,
    /// The job's state.
    pub state: JobState,
    /// A cancel was accepted.
    pub cancel_requested: bool,
    /// The drives, with their states and bytes copied.
    pub drive_list: Vec<Drive>,
    /// When the service removes the job if nothing else happens first (R-TIMER-1, R-TIMER-3).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::wire::instant::rfc3339::option"
    )]
    pub removal_at: Option<Timestamp>,
    /// Every state the job entered, with the instant, oldest first (R-STAGE-1).
    pub stages: Vec<Stage>,
}

impl JobView {
    /// The view of `job` under `policy`.
    pub fn new(job: &Job, policy: &Policy) -> JobView {
        JobView {
            name: job.name().clone(),
            job_type: job.job_type(),
            state: job.state(),
            cancel_requested: job.cancel_requested(),
            drive_list: job.drive_list().to_vec(),
            removal_at: job.removal_at(policy),
            stages: job.stages().to_vec(),
        }
    }
}

/// The error part of a refused step: the error's [`code`](crate::Error::code) and its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorView {
    /// The stable code, e.g. `CancelNotAllowed`.
    pub code: String,
    /// The message: operation, job, state, reason and rule id.
    pub message: String,
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    /// Accepted; the job as it is afterwards.
    Job(JobView),
    /// `list`: every job.
    Jobs(Vec<JobView>),
    /// Accepted, and the job is gone (`delete`).
    Removed,
    /// Refused; nothing changed.
    Refused(ErrorView),
}

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Line {
    /// A timer came due before the next step: `{"at", "timer", "job"}`.
    Timer {
        /// Its deadline.
        #[serde(with = "crate::wire::instant::rfc3339")]
        at: Timestamp,
        /// Which timer.
        timer: Timer,
        /// The job it fired on.
        job: JobName,
    },
    /// A step: `{"step", "at", "op", "ok", "job" | "jobs" | "error"}`.
    Step(StepLine),
}

/// A step's line of a transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "StepRepr", try_from = "StepRepr")]
pub struct StepLine {
    /// The step's number in its scenario, from 1.
    pub step: usize,
    /// When it happened.
    pub at: Timestamp,
    /// What it was.
    pub op: Operation,
    /// The job it aimed at, if any (not for `list`).
    pub target: Option<JobName>,
    /// How it ended.
    pub result: StepResult,
}

/// The flat JSON form of a [`StepLine`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StepRepr {
    step: usize,
    #[serde(with = "crate::wire::instant::rfc3339")]
    at: Timestamp,
    op: Operation,
    ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<JobName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job: Option<JobView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jobs: Option<Vec<JobView>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ErrorView>,
}

impl From<StepLine> for StepRepr {
    fn from(line: StepLine) -> StepRepr {
        let (ok, job, jobs, error) = match line.result {
            StepResult::Job(view) => (true, Some(view), None, None),
            StepResult::Jobs(views) => (true, None, Some(views), None),
            StepResult::Removed => (true, None, None, None),
            StepResult::Refused(e) => (false, None, None, Some(e)),
        };
        // The target is said only where the line would not name the job otherwise.
        let target = match (&job, &jobs) {
            (Some(_), _) | (_, Some(_)) => None,
            (None, None) => line.target,
        };
        StepRepr { step: line.step, at: line.at, op: line.op, ok, target, job, jobs, error }
    }
}

impl TryFrom<StepRepr> for StepLine {
    type Error = &'static str;
    fn try_from(r: StepRepr) -> Result<StepLine, &'static str> {
        let target = r.target.clone().or_else(|| r.job.as_ref().map(|j| j.name.clone()));
        let result = match (r.ok, r.job, r.jobs, r.error) {
            (true, Some(view), None, None) => StepResult::Job(view),
            (true, None, Some(views), None) => StepResult::Jobs(views),
            (true, None, None, None) => StepResult::Removed,
            (false, None, None, Some(e)) => StepResult::Refused(e),
            _ => {
                return Err(
                    "a step line has ok=true with at most one of job or jobs, or ok=false with an error",
                );
            }
        };
        Ok(StepLine { step: r.step, at: r.at, op: r.op, target, result })
    }
}

/// A replayed scenario: its title and its lines, in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// The scenario's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Timer and step lines, in the order they happened.
    pub lines: Vec<Line>,
}

/// Replays `scenario` on an empty registry under its policy: before each step, the timers due at
/// its instant; then the step. Collects every line: for a long scenario, iterate [`Replay`]
/// instead, which decides one step at a time and holds no line it has handed out.
pub fn replay(scenario: &Scenario) -> Transcript {
    Transcript { title: scenario.title.clone(), lines: Replay::new(scenario).collect() }
}

/// The lines of a replay, decided one step at a time, in order: the timers due before a step,
/// then the step's line. It holds the registry and at most one step's lines, so a host can write
/// each line as soon as it is decided, whatever the length of the story.
#[derive(Debug, Clone)]
pub struct Replay<'s> {
    steps: std::iter::Enumerate<std::slice::Iter<'s, Step>>,
    policy: Policy,
    registry: Registry,
    pending: VecDeque<Line>,
}

impl<'s> Replay<'s> {
    /// The replay of `scenario` on an empty registry under its policy.
    pub fn new(scenario: &'s Scenario) -> Replay<'s> {
        Replay {
            steps: scenario.steps.iter().enumerate(),
            policy: scenario.policy,
            registry: Registry::new(scenario.policy),
            pending: VecDeque::new(),
        }
    }

    /// Decides step `i` and queues its lines.
    fn step(&mut self, i: usize, step: &Step) {
        let policy = self.policy;
        let registry = &mut self.registry;
        let refused = |e: crate::model::error::Error| {
            StepResult::Refused(ErrorView { code: e.code().to_string(), message: e.to_string() })
        };
        let (timers, result, target) = match &step.action {
            Action::Command(command) => {
                let outcome = registry.execute(step.at, command);
                let result = match outcome.result {
                    Ok(event) if event.removes_job() => StepResult::Removed,
                    Ok(event) => match registry.peek(event.job.as_str()) {
                        Some(job) => StepResult::Job(JobView::new(job, &policy)),
                        None => StepResult::Removed,
                    },
                    Err(e) => refused(e),
                };
                (outcome.timers, result, Some(command.job().clone()))
            }
            Action::Read(Read::Get { job }) => {
                let outcome = registry.get(step.at, job);
                let result = match outcome.result {
                    Ok(found) => StepResult::Job(JobView::new(found, &policy)),
                    Err(e) => refused(e),
                };
                (outcome.timers, result, Some(job.clone()))
            }
            Action::Read(Read::List) => {
                let outcome = registry.list(step.at);
                let result = match outcome.result {
                    Ok(jobs) => {
                        StepResult::Jobs(jobs.into_iter().map(|j| JobView::new(j, &policy)).collect())
                    }
                    Err(e) => refused(e),
                };
                (outcome.timers, result, None)
            }
        };
        self.pending.extend(timers.into_iter().filter_map(|event| {
            event.timer().map(|timer| Line::Timer { at: event.at, timer, job: event.job })
        }));
        self.pending.push_back(Line::Step(StepLine {
            step: i + 1,
            at: step.at,
            op: step.action.operation(),
            target,
            result,
        }));
    }
}

impl Iterator for Replay<'_> {
    type Item = Line;
    fn next(&mut self) -> Option<Line> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Some(line);
            }
            let (i, step) = self.steps.next()?;
            self.step(i, step);
        }
    }
}

impl Line {
    /// The line in JSON, without a newline.
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
    }

    /// The line of the text timeline, without a newline: instant, step, operation, job, outcome,
    /// details, in columns of fixed width (a longer cell pushes the rest of its line along).
    /// Control characters are shown escaped (`\u{1b}`, `\n`), so no text from the input can
    /// move the cursor, recolour the terminal or start a line of its own.
    pub fn to_text(&self) -> String {
        const WIDTHS: [usize; 5] = [20, 9, 16, 12, 12];
        let row = text_row(self);
        let mut line = String::new();
        for (cell, w) in row.iter().zip(WIDTHS) {
            let _ = write!(line, "{:<w$}  ", escape_control(cell));
        }
        line.push_str(&escape_control(&row[5]));
        line.trim_end().to_string()
    }
}

impl Transcript {
    /// The transcript as JSON lines, one per line, each ending in a newline.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(&line.to_json());
            out.push('\n');
        }
        out
    }

    /// The heading of the text timeline: the title, escaped as [`Line::to_text`] escapes, then a
    /// blank line.
    pub fn text_heading(title: &str) -> String {
        format!("{}\n\n", escape_control(title))
    }

    /// The transcript as a timeline a person reads at a glance: its heading (if it has a
    /// title), then one [`Line::to_text`] per line.
    pub fn to_text(&self) -> String {
        let mut out = self.title.as_deref().map(Transcript::text_heading).unwrap_or_default();
        for line in &self.lines {
            out.push_str(&line.to_text());
            out.push('\n');
        }
        out
    }
}

/// The cells of one text line: instant, step, operation, job, outcome, details.
fn text_row(line: &Line) -> [String; 6] {
    match line {
        Line::Timer { at, timer, job } => {
            let outcome = match timer {
                Timer::CreatingExpired | Timer::RetentionExpired => "removed",
                Timer::NeverReceived => "drives NeverReceived",
                Timer::OverdueClosed => "Closed",
            };
            [
                at.to_string(),
                "timer".into(),
                timer.to_string(),
                job.to_string(),
                outcome.into(),
                String::new(),
            ]
        }
        Line::Step(step) => {
            let target = step.target.as_ref().map(|j| j.to_string()).unwrap_or_else(|| "-".into());
            let (outcome, details) = match &step.result {
                StepResult::Job(view) => (view.state.to_string(), job_details(view, step.at)),
                StepResult::Jobs(views) => (
                    format!("{} job{}", views.len(), if views.len() == 1 { "" } else { "s" }),
                    views
                        .iter()
                        .map(|v| match entered_before(v, step.at) {
                            Some(since) => format!("{} {} since {since}", v.name, v.state),
                            None => format!("{} {}", v.name, v.state),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                StepResult::Removed => ("removed".into(), String::new()),
                StepResult::Refused(e) => ("REFUSED".into(), format!("{}: {}", e.code, e.message)),
            };
            [
                step.at.to_string(),
                format!("step {}", step.step),
                step.op.to_string(),
                target,
                outcome,
                details,
            ]
        }
    }
}

/// The job's details on a line at `at`: when it entered its state (its last stage, R-STAGE-1)
/// if that was before the line, its cancel, its drives, and when it will be removed.
fn job_details(view: &JobView, at: Timestamp) -> String {
    let mut parts = Vec::new();
    if let Some(since) = entered_before(view, at) {
        parts.push(format!("since {since}"));
    }
    if view.cancel_requested {
        parts.push("cancelRequested".to_string());
    }
    for d in &view.drive_list {
        parts.push(format!("{} {} {}", d.drive_id, d.state, human_bytes(d.bytes_succeeded)));
    }
    if let Some(at) = view.removal_at {
        parts.push(format!("removal at {at}"));
    }
    parts.join(" · ")
}

/// When the job entered its state, if before `at`: a line at which the job enters its state
/// says when by its own instant, so the lines of a timeline together show the job's stages.
fn entered_before(view: &JobView, at: Timestamp) -> Option<Timestamp> {
    view.stages.last().map(|stage| stage.stage_time).filter(|&entered| entered < at)
}

/// Bytes in decimal units with at most one decimal: `0 B`, `1.5 kB`, `400 GB`, `1 TB`.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut unit = 0;
    let mut scale: u128 = 1;
    while unit + 1 < UNITS.len() && u128::from(n) >= scale * 1000 {
        scale *= 1000;
        unit += 1;
    }
    let tenths = u128::from(n) * 10 / scale;
    let (whole, tenth) = (tenths / 10, tenths % 10);
    let unit = UNITS.get(unit).copied().unwrap_or("B");
    if tenth == 0 { format!("{whole} {unit}") } else { format!("{whole}.{tenth} {unit}") }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn bytes_read_as_people_write_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(400_000_000_000), "400 GB");
        assert_eq!(human_bytes(1_000_000_000_000), "1 TB");
        assert_eq!(human_bytes(u64::MAX), "18.4 EB");
    }
}
