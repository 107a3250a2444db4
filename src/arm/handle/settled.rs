//! A record caught up with its timers for one call, and what the call writes back.

use std::borrow::Cow;

use jiff::Timestamp;

use super::{JobAnswer, Write};
use crate::arm::context::Context;
use crate::arm::record::{BitLockerKeys, Record};
use crate::model::event::Event;
use crate::model::job::Job;

/// A record as its due timers leave it at the instant a request acts at, and their events.
pub(super) struct Settled<'r> {
    /// The record before the call.
    pub(super) before: Option<&'r Record>,
    /// The record now (borrowed while nothing changed).
    pub(super) now: Option<Cow<'r, Record>>,
    /// What happened, in order.
    pub(super) events: Vec<Event>,
}

impl<'r> Settled<'r> {
    /// Fires the record's timers due by `until(job)`, with [`Job::catch_up`].
    pub(super) fn new(
        ctx: &Context,
        record: Option<&'r Record>,
        until: impl Fn(&Job) -> Timestamp,
    ) -> Settled<'r> {
        let Some(due) = record else { return Settled { before: None, now: None, events: Vec::new() } };
        let caught = due.job().catch_up(&ctx.policy, until(due.job()));
        if caught.is_unchanged() {
            return Settled { before: record, now: record.map(Cow::Borrowed), events: caught.events };
        }
        let now = caught.job.map(|job| Cow::Owned(due.with_job(job.into_owned())));
        Settled { before: record, now, events: caught.events }
    }

    pub(super) fn record(&self) -> Option<&Record> {
        self.now.as_deref()
    }

    /// Ends the call: `answer`, with the record as it stands (a refusal keeps what the timers
    /// did and nothing else).
    pub(super) fn finish<T>(self, answer: T, keys: Write<BitLockerKeys>) -> JobAnswer<T> {
        let changed =
            matches!(self.now, Some(Cow::Owned(_))) || (self.before.is_some() && self.now.is_none());
        let record = match (changed, self.now) {
            (false, _) => Write::Unchanged,
            (true, Some(record)) => Write::Put(Box::new(record.into_owned())),
            (true, None) => Write::Remove,
        };
        let keys = match (&record, keys) {
            (Write::Remove, _) => Write::Remove,
            (_, keys) => keys,
        };
        JobAnswer { answer, record, keys, events: self.events }
    }

    /// Replaces the record with `record` (an accepted request's result).
    pub(super) fn set(&mut self, record: Option<Record>) {
        self.now = record.map(Cow::Owned);
    }
}

impl<'r> Settled<'r> {
    /// The record as the host passed it, no timer fired: for a call refused before it looks at
    /// the job.
    pub(super) fn untouched(record: Option<&'r Record>) -> Settled<'r> {
        Settled { before: record, now: record.map(Cow::Borrowed), events: Vec::new() }
    }
}
