//! JSON lines in, JSON lines out: the engine of `cargo run --example arm -- FILE`.
//!
//! Each input line is a request, `{"at": RFC3339, "method": …, "path": …, "body": …}`, or a
//! datacenter operation aimed at a job by its path, `{"at": …, "path": ".../jobs/{name}", "op":
//! "packageReceived" | "startTransfer" | "progress" | "finishTransfer" | "shipBack", …}` with the
//! fields of a scenario step. Each output line is `{"status", "body"}` for a request,
//! `{"ok": true}` or `{"ok": false, "error": {…}}` for a datacenter operation, preceded by one
//! `{"at", "timer", "job", "scope"}` line per timer that came due before it. Blank lines are
//! skipped.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::request::{Method, Request};
use super::service::{ScopedEvent, Service};
use super::types::ErrorBody;
use crate::model::timer::Timer;

/// Why an input line was not understood: its number (from 1), the field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("line {line}{}: {message}", field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
pub struct ScriptError {
    /// The line, counting from 1.
    pub line: usize,
    /// The field to blame, if one is.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// A timer line: `{"at", "timer", "job", "scope"}`.
#[derive(Serialize)]
struct TimerLine {
    at: Timestamp,
    timer: Timer,
    job: String,
    scope: String,
}

/// A refused datacenter operation: `{"ok": false, "error": {…}}`.
#[derive(Serialize)]
struct OperationFailed {
    ok: bool,
    error: ErrorBody,
}

/// Appends one JSON line; serializing these types cannot fail, but a failure would still be shown.
fn push_line(out: &mut Vec<String>, line: Result<String, serde_json::Error>) {
    out.push(match line {
        Ok(text) => text,
        Err(e) => json!({ "error": e.to_string() }).to_string(),
    });
}

/// The longest input line read, in bytes (64 KiB: an ARM request body is a few KiB).
pub const MAX_LINE_BYTES: usize = 64 << 10;

/// Runs every line of `text` against `service` and returns the output lines, each ending in a
/// newline. Stops at the first line it cannot read. For a long script, call [`run_line`] per
/// line and write its answers as they come.
///
/// # Errors
///
/// A [`ScriptError`] naming the line (and the field) that is not a request or an operation;
/// refusals of the requests themselves are answers, not errors.
pub fn run_script(service: &mut Service, text: &str) -> Result<String, ScriptError> {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        for answer in run_line(service, i + 1, line)? {
            out.push_str(&answer);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Runs one input line, numbered `n` (from 1), against `service` and returns its output lines,
/// without newlines: a timer line per timer that came due, then the answer. A blank line has no
/// output; a line longer than [`MAX_LINE_BYTES`] or that cannot be read is refused, naming the
/// line and the field, and changes nothing.
///
/// # Errors
///
/// A [`ScriptError`] naming line `n` (and the field) when it is not a request or an operation;
/// refusals of the request itself are answers, not errors.
pub fn run_line(service: &mut Service, n: usize, line: &str) -> Result<Vec<String>, ScriptError> {
    let mut out = Vec::new();
    {
        if line.trim().is_empty() {
            return Ok(out);
        }
        // A message may quote the input: it reaches a terminal escaped.
        let escape = |text: &str| crate::wire::text::escape_control(text).into_owned();
        let fail = |field: Option<&str>, message: String| ScriptError {
            line: n,
            field: field.map(escape),
            message: escape(&message),
        };
        if line.len() > MAX_LINE_BYTES {
            return Err(fail(
                None,
                format!("longer than {MAX_LINE_BYTES} bytes (MAX_LINE_BYTES), the most a line may hold"),
            ));
        }
        let value = crate::wire::strict::value_from_json(line).map_err(|e| fail(None, e.to_string()))?;
        let Value::Object(mut fields) = value else {
            return Err(fail(None, "a line is a JSON object".into()));
        };
        let at: Timestamp = match fields.remove("at") {
            Some(Value::String(text)) => {
                crate::wire::instant::parse(&text).map_err(|e| fail(Some("at"), e))?
            }
            Some(_) => return Err(fail(Some("at"), "not a string: an RFC 3339 instant".into())),
            None => return Err(fail(Some("at"), "missing".into())),
        };
        let path = match fields.remove("path") {
            Some(Value::String(path)) => path,
            Some(_) => return Err(fail(Some("path"), "not a string".into())),
            None => return Err(fail(Some("path"), "missing".into())),
        };
        let (timers, answer) = if let Some(method) = fields.remove("method") {
            let method: Method =
                serde_json::from_value(method).map_err(|e| fail(Some("method"), e.to_string()))?;
            let body = fields.remove("body");
            if let Some(extra) = fields.keys().next() {
                return Err(fail(Some(extra), "unknown field in a request line".into()));
            }
            let exchange = service.handle(at, &Request { method, path, body });
            (exchange.timers, serde_json::to_string(&exchange.answer))
        } else if let Some(op) = fields.get("op") {
            check_datacenter_fields(op, &fields).map_err(|(field, message)| fail(Some(&field), message))?;
            let exchange = service.datacenter(at, &path, &Value::Object(fields));
            let answer = match exchange.answer {
                Ok(()) => serde_json::to_string(&json!({ "ok": true })),
                Err(refusal) => {
                    serde_json::to_string(&OperationFailed { ok: false, error: refusal.error_body() })
                }
            };
            (exchange.timers, answer)
        } else {
            return Err(fail(
                Some("method"),
                "a line has a `method` (a request) or an `op` (a datacenter operation)".into(),
            ));
        };
        for ScopedEvent { scope, event } in timers {
            if let Some(timer) = event.timer() {
                let line =
                    TimerLine { at: event.at, timer, job: event.job.to_string(), scope: scope.to_string() };
                push_line(&mut out, serde_json::to_string(&line));
            }
        }
        push_line(&mut out, answer);
    }
    Ok(out)
}

/// The fields of a datacenter line besides `at` and `path`: `op`, one of the datacenter's
/// operations, and that operation's own fields (the job comes from the path). Names the field
/// to blame.
fn check_datacenter_fields(
    op: &Value,
    fields: &serde_json::Map<String, Value>,
) -> Result<(), (String, String)> {
    let datacenter = ["packageReceived", "startTransfer", "progress", "finishTransfer", "shipBack"];
    let op = match op {
        Value::String(op) if datacenter.contains(&op.as_str()) => op.as_str(),
        Value::String(_)
        | Value::Null
        | Value::Bool(_)
        | Value::Number(_)
        | Value::Array(_)
        | Value::Object(_) => {
            return Err((
                "op".into(),
                format!("not a datacenter operation; expected one of {}", datacenter.join(", ")),
            ));
        }
    };
    let allowed = crate::model::command::fields_of(op).unwrap_or_default();
    for key in fields.keys() {
        if key != "op" && (key == "job" || !allowed.iter().any(|(name, _)| name == key)) {
            let takes: Vec<&str> = allowed.iter().map(|(name, _)| *name).filter(|n| *n != "job").collect();
            let takes = if takes.is_empty() { "no field".to_string() } else { takes.join(", ") };
            return Err((
                key.clone(),
                format!(
                    "unknown field for `{op}`, which takes {takes} besides at, path and op (the job is the path's)"
                ),
            ));
        }
    }
    Ok(())
}
