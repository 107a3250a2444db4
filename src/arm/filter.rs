//! `$filter` on the job lists: the equality filters clients send, and nothing else.
//!
//! ```text
//! filter  = clause *( 1*SP "and" 1*SP clause )
//! clause  = field 1*SP "eq" 1*SP literal
//! field   = "state" / "properties/state" / "jobType" / "properties/jobType" / "name"
//! literal = "'" *( any character but "'" / "''" ) "'"
//! ```
//!
//! Keywords and field names are matched without regard to case; a state or job type is one of
//! the service's own (`Creating`, `Import`, …, without regard to case), a name is compared
//! exactly, as job names are. A list shows the jobs every clause holds for, as each job stands
//! at the list's instant (a job whose timer moved it is filtered by its new state). Anything
//! else (`ne`, `or`, functions, parentheses, another field) is refused, naming the part that
//! is not supported, rather than silently ignored.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use strum::IntoEnumIterator;

use super::quote::quote;
use crate::Job;
use crate::{JobState, JobType};

/// The longest `$filter` read, in characters.
pub const MAX_FILTER_CHARS: usize = 1024;

/// The most clauses one `$filter` joins with `and`.
pub const MAX_FILTER_CLAUSES: usize = 16;

/// A parsed `$filter`: every clause must hold. Its serde form is its text, read back with
/// [`Filter::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    clauses: Vec<Clause>,
    text: String,
}

impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Filter::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One `field eq 'value'`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Clause {
    State(JobState),
    JobType(JobType),
    Name(String),
}

impl Filter {
    /// Reads a `$filter` value (already percent-decoded), by the grammar of the module.
    ///
    /// # Errors
    ///
    /// A message starting `query `$filter`:` that names the part not supported, the state or
    /// job type that is not the service's, an unterminated literal, or a filter over
    /// [`MAX_FILTER_CHARS`] characters or [`MAX_FILTER_CLAUSES`] clauses.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let refuse = |what: String| format!("query `$filter`: {what}");
        if text.chars().count() > MAX_FILTER_CHARS {
            return Err(refuse(format!("longer than {MAX_FILTER_CHARS} characters")));
        }
        let mut rest = text.trim_start();
        let mut clauses = Vec::new();
        loop {
            let (clause, after) = clause(rest).map_err(refuse)?;
            clauses.push(clause);
            if clauses.len() > MAX_FILTER_CLAUSES {
                return Err(refuse(format!("more than {MAX_FILTER_CLAUSES} clauses")));
            }
            let after = after.trim_start();
            if after.is_empty() {
                return Ok(Filter { clauses, text: text.to_string() });
            }
            rest = match keyword(after, "and") {
                Some(next) => next,
                None => return Err(refuse(unsupported(after))),
            };
        }
    }

    /// The filter as it was given: what a `nextLink` repeats.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `job`, as it stands at the list's instant, is in the filtered list.
    pub fn matches(&self, job: &Job) -> bool {
        self.clauses.iter().all(|clause| match clause {
            Clause::State(state) => job.state() == *state,
            Clause::JobType(job_type) => job.job_type() == *job_type,
            Clause::Name(name) => job.name().as_str() == name,
        })
    }
}

/// One clause at the start of `text`, and what follows it.
fn clause(text: &str) -> Result<(Clause, &str), String> {
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    let (field, rest) = text.split_at(end);
    let field = field.to_ascii_lowercase();
    let field = field.strip_prefix("properties/").filter(|f| *f != "name").unwrap_or(&field);
    if !matches!(field, "state" | "jobtype" | "name") {
        return Err(unsupported(text));
    }
    let rest = keyword(rest.trim_start(), "eq").ok_or_else(|| unsupported(text))?;
    let (value, rest) = literal(rest)?;
    let clause = match field {
        "state" => Clause::State(one_of::<JobState>(&value, "state")?),
        "jobtype" => Clause::JobType(one_of::<JobType>(&value, "jobType")?),
        _ => Clause::Name(value),
    };
    Ok((clause, rest))
}

/// `text` without the keyword `word` (any case) and the spaces after it, if it starts so.
fn keyword<'t>(text: &'t str, word: &str) -> Option<&'t str> {
    let head = text.get(..word.len())?;
    let rest = &text[word.len()..];
    (head.eq_ignore_ascii_case(word) && rest.starts_with(char::is_whitespace)).then(|| rest.trim_start())
}

/// A quoted literal at the start of `text` (`''` is a quote inside it), and what follows.
fn literal(text: &str) -> Result<(String, &str), String> {
    let Some(body) = text.strip_prefix('\'') else { return Err(unsupported(text)) };
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            value.push(c);
            continue;
        }
        if body[i + 1..].starts_with('\'') {
            value.push('\'');
            chars.next();
            continue;
        }
        return Ok((value, &body[i + 1..]));
    }
    Err(format!("{} has no closing quote", quote(text)))
}

/// A state or job type as the service spells it, compared without regard to case.
fn one_of<T: IntoEnumIterator + Copy + Into<&'static str>>(value: &str, field: &str) -> Result<T, String> {
    T::iter().find(|t| Into::<&'static str>::into(*t).eq_ignore_ascii_case(value)).ok_or_else(|| {
        let names: Vec<&'static str> = T::iter().map(Into::into).collect();
        format!("{field} {} is not one of {}", quote(value), names.join(", "))
    })
}

fn unsupported(part: &str) -> String {
    format!(
        "{} is not supported: a filter is `state eq '…'`, `jobType eq '…'` or `name eq '…'`, joined by `and`",
        quote(part)
    )
}
