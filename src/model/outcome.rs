//! What an input did: the timers that fired before it, then its own result.

use serde::{Deserialize, Serialize};

use crate::model::error::Error;
use crate::model::event::Event;

/// What an input to a [`Registry`](crate::Registry) did: the timers that came due before it (applied first, in
/// time order), then its own result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "an Outcome holds the refusal, if any, and the timers that fired"]
pub struct Outcome<T> {
    /// Events of the timers that fired before the input was handled, earliest first.
    pub timers: Vec<Event>,
    /// The input's own result.
    pub result: Result<T, Error>,
}
