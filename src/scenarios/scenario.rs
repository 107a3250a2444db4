//! Scenario files: small stories of one or more jobs, written by hand, replayed by
//! [`replay`](super::replay).
//!
//! ```json
//! {
//!   "title": "Cancel while a drive is copying",
//!   "policy": { "retentionDays": 90, "creatingExpiryDays": 14, "shippingExpiryDays": 14 },
//!   "steps": [
//!     { "at": "2026-01-05T09:00:00Z", "op": "create", "job": "job-1", "type": "Import", "drives": ["D1", "D2"] },
//!     { "at": "2026-01-06T09:00:00Z", "op": "ship", "job": "job-1", "carrier": "FedEx", "trackingNumber": "123" },
//!     { "at": "2026-01-10T10:00:00Z", "op": "cancel", "job": "job-1" }
//!   ]
//! }
//! ```
//!
//! `title` and `policy` are optional. The operations and their fields are those of
//! [`Command`] (`create`, `ship`, `cancel`, `delete`, `packageReceived`, `startTransfer`,
//! `progress`, `finishTransfer`, `shipBack`) plus the reads `get` (`job`) and `list`. Steps'
//! `at` never decrease. A malformed file is refused with a [`ScenarioError`] naming the step
//! and the field.

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::command::Command;
use crate::model::error::Operation;
use crate::model::name::JobName;
use crate::model::policy::Policy;

/// A story to replay: a title, the policy it runs under, and its steps in time order.
///
/// Read from JSON only through [`Scenario::from_json`]'s checks: deserializing a `Scenario`
/// with serde runs them too (steps in time order, every field of every step, the caps), and
/// reads strictly (no array for an object, no key twice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scenario {
    /// What the story shows, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The durations and cancel window the story runs under (the service's, unless given).
    #[serde(default)]
    pub policy: Policy,
    /// The steps, oldest first.
    pub steps: Vec<Step>,
}

/// One step of a scenario: an input at an instant. Deserializing one checks it field by field,
/// as [`Scenario::from_json`] checks each step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// When the step happens.
    #[serde(with = "crate::wire::instant::rfc3339")]
    pub at: Timestamp,
    /// What happens.
    #[serde(flatten)]
    pub action: Action,
}

/// What a step does: a command, or one of the two reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Action {
    /// A command that may change a job.
    Command(Command),
    /// A read: `get` or `list`.
    Read(Read),
}

/// The reads a scenario may make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields, remote = "Self")]
pub enum Read {
    /// Read one job.
    Get {
        /// The job.
        job: JobName,
    },
    /// List every job.
    List,
}

crate::wire::strict::strict_serde!(Read);

impl<'de> Deserialize<'de> for Scenario {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(crate::wire::strict::Strict::object(deserializer))?;
        Scenario::from_value(&value).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(crate::wire::strict::Strict::object(deserializer))?;
        parse_step(&value, 1).map_err(|e| {
            let field = e.field.map(|f| format!("field `{f}`: ")).unwrap_or_default();
            serde::de::Error::custom(format_args!("{field}{}", e.message))
        })
    }
}

impl Action {
    /// The operation the step performs.
    pub fn operation(&self) -> Operation {
        match self {
            Action::Command(command) => command.operation(),
            Action::Read(Read::Get { .. }) => Operation::Get,
            Action::Read(Read::List) => Operation::List,
        }
    }
}

/// Why a scenario file was refused: where (the step, 1-based, and the field) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[error("{}{}: {message}", step.map(|n| format!("step {n}")).unwrap_or_else(|| "scenario".into()), field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
pub struct ScenarioError {
    /// The step, counting from 1; `None` for the file as a whole.
    pub step: Option<usize>,
    /// The field, where one is to blame.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ScenarioError {
    fn new(step: Option<usize>, field: Option<&str>, message: impl Into<String>) -> Self {
        // A message may quote the input: it reaches a terminal escaped.
        let escape = |text: &str| crate::wire::text::escape_control(text).into_owned();
        ScenarioError { step, field: field.map(escape), message: escape(&message.into()) }
    }
}

/// The largest scenario file read, in bytes (8 MiB: about 40,000 steps of the usual size).
pub const MAX_SCENARIO_BYTES: usize = 8 << 20;
/// The most steps a scenario holds.
pub const MAX_STEPS: usize = 100_000;
/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 1_000;

impl Scenario {
    /// Reads a scenario from its JSON text, checking every step field by field. A text longer
    /// than [`MAX_SCENARIO_BYTES`], more than [`MAX_STEPS`] steps or a title longer than
    /// [`MAX_TITLE_CHARS`] are refused, naming the cap.
    ///
    /// # Errors
    ///
    /// A [`ScenarioError`] naming the step and the field that does not fit: malformed or
    /// duplicated JSON, an unknown field, steps out of time order, a file over
    /// [`MAX_SCENARIO_BYTES`] or [`MAX_STEPS`].
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(ScenarioError::new(
                None,
                None,
                format!("the file holds more than {MAX_SCENARIO_BYTES} bytes, the most a scenario may hold"),
            ));
        }
        let value = crate::wire::strict::located_value_from_json(text).map_err(|(e, path)| {
            // Name the step and the field the reader was in when it stopped.
            let (step, mut field) = path.as_ref().map(located).unwrap_or_default();
            let message = e.to_string();
            // A key refused as a duplicate is the field to blame, though the path stops before it.
            if let Some(key) = crate::wire::strict::duplicate_key(&message) {
                field = Some(key.to_string());
            }
            ScenarioError::new(step, field.as_deref(), message)
        })?;
        Scenario::from_value(&value)
    }

    /// Checks a JSON value as a scenario, as [`Scenario::from_json`] checks its text.
    fn from_value(value: &Value) -> Result<Scenario, ScenarioError> {
        let Value::Object(top) = value else {
            return Err(ScenarioError::new(None, None, "a scenario is a JSON object"));
        };
        for key in top.keys() {
            if !matches!(key.as_str(), "title" | "policy" | "steps") {
                return Err(ScenarioError::new(
                    None,
                    Some(key),
                    "unknown field; expected title, policy or steps",
                ));
            }
        }
        let title = match top.get("title") {
            None | Some(Value::Null) => None,
            Some(v) => Some(parse::<String>(v, None, "title")?),
        };
        if title.as_ref().is_some_and(|t| t.chars().count() > MAX_TITLE_CHARS) {
            return Err(ScenarioError::new(
                None,
                Some("title"),
                format!("longer than {MAX_TITLE_CHARS} characters, the most a title may hold"),
            ));
        }
        let policy = match top.get("policy") {
            None | Some(Value::Null) => Policy::default(),
            Some(v) => parse::<Policy>(v, None, "policy")?,
        };
        let Some(Value::Array(raw_steps)) = top.get("steps") else {
            return Err(ScenarioError::new(None, Some("steps"), "missing, or not an array of steps"));
        };
        if raw_steps.len() > MAX_STEPS {
            return Err(ScenarioError::new(
                None,
                Some("steps"),
                format!("{} steps, more than {MAX_STEPS}, the most a scenario may hold", raw_steps.len()),
            ));
        }
        let mut steps = Vec::with_capacity(raw_steps.len());
        for (i, raw) in raw_steps.iter().enumerate() {
            let n = i + 1;
            let step = parse_step(raw, n)?;
            if let Some(previous) = steps.last().map(|s: &Step| s.at) {
                if step.at < previous {
                    return Err(ScenarioError::new(
                        Some(n),
                        Some("at"),
                        format!(
                            "{} is earlier than the previous step's {previous}; steps never go back in time",
                            step.at
                        ),
                    ));
                }
            }
            steps.push(step);
        }
        Ok(Scenario { title, policy, steps })
    }
}

fn parse_step(raw: &Value, n: usize) -> Result<Step, ScenarioError> {
    let Value::Object(fields) = raw else {
        return Err(ScenarioError::new(Some(n), None, "a step is a JSON object"));
    };
    let at: Timestamp = match fields.get("at") {
        Some(Value::String(text)) => {
            crate::wire::instant::parse(text).map_err(|e| ScenarioError::new(Some(n), Some("at"), e))?
        }
        Some(_) => {
            return Err(ScenarioError::new(
                Some(n),
                Some("at"),
                "not a string; every step has an RFC 3339 instant",
            ));
        }
        None => {
            return Err(ScenarioError::new(
                Some(n),
                Some("at"),
                "missing; every step has an RFC 3339 instant",
            ));
        }
    };
    let op = match fields.get("op") {
        Some(Value::String(op)) => op.as_str(),
        Some(_) => return Err(ScenarioError::new(Some(n), Some("op"), "not a string")),
        None => return Err(ScenarioError::new(Some(n), Some("op"), "missing")),
    };
    let Some(allowed) = crate::model::command::fields_of(op) else {
        return Err(ScenarioError::new(
            Some(n),
            Some("op"),
            format!(
                "unknown operation `{op}`; expected create, ship, update, cancel, delete, get, list, packageReceived, \
                 startTransfer, progress, finishTransfer or shipBack"
            ),
        ));
    };
    for key in fields.keys() {
        if key != "at" && key != "op" && !allowed.iter().any(|(name, _)| name == key) {
            return Err(ScenarioError::new(Some(n), Some(key), format!("unknown field for `{op}`")));
        }
    }
    for (name, required) in allowed {
        match fields.get(*name) {
            Some(v) => check_field(v, n, name)?,
            None if *required => {
                return Err(ScenarioError::new(Some(n), Some(name), format!("missing; `{op}` needs it")));
            }
            None => {}
        }
    }
    // Every field has been checked on its own; what is left to fail is their combination.
    let mut rest: Map<String, Value> = fields.clone();
    rest.remove("at");
    let action = parse::<Action>(&Value::Object(rest), Some(n), "op")?;
    Ok(Step { at, action })
}

/// Checks one field's value against the type it has in every operation that takes it.
fn check_field(value: &Value, n: usize, name: &str) -> Result<(), ScenarioError> {
    use crate::model::name::DriveId;
    use crate::model::state::{JobType, TransferResult};
    match name {
        "job" => parse::<JobName>(value, Some(n), name).map(drop),
        "type" => parse::<JobType>(value, Some(n), name).map(drop),
        "drives" => parse::<Vec<DriveId>>(value, Some(n), name).map(drop),
        "fields" => parse::<Vec<crate::model::update::UpdateField>>(value, Some(n), name).map(drop),
        "drive" => parse::<DriveId>(value, Some(n), name).map(drop),
        "bytes" => parse::<u64>(value, Some(n), name).map(drop),
        "result" => parse::<TransferResult>(value, Some(n), name).map(drop),
        "carrier" | "trackingNumber" => parse::<Option<String>>(value, Some(n), name).map(drop),
        _ => Err(ScenarioError::new(Some(n), Some(name), "unknown field")),
    }
}

fn parse<T: DeserializeOwned>(value: &Value, step: Option<usize>, field: &str) -> Result<T, ScenarioError> {
    crate::wire::strict::from_value(value).map_err(|e| ScenarioError::new(step, Some(field), e.to_string()))
}

/// The step (from 1) and the field a reader's path points at: `steps[2].bytes` is step 3,
/// field `bytes`; `policy.retentionDays` is field `policy`.
fn located(path: &serde_path_to_error::Path) -> (Option<usize>, Option<String>) {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = path.iter().collect();
    match segments.as_slice() {
        [Segment::Map { key }, Segment::Seq { index }, rest @ ..] if key == "steps" => {
            let field = match rest.first() {
                Some(Segment::Map { key }) => Some(key.clone()),
                Some(Segment::Seq { .. } | Segment::Enum { .. } | Segment::Unknown) | None => None,
            };
            (Some(index + 1), field)
        }
        [Segment::Map { key }, ..] => (None, Some(key.clone())),
        [Segment::Seq { .. } | Segment::Enum { .. } | Segment::Unknown, ..] | [] => (None, None),
    }
}
