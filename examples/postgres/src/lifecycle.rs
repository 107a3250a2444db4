//! Every call into `import_export_lifecycle`, in one place: what this host asks the rules, and
//! what it derives from their answers (the write a decision needs, the index key of a deadline,
//! the stored form of a job). The rest of the host speaks SQL and never calls the crate.
//!
//! The crate's instants are nanoseconds; the `deadline` column (`timestamptz`) keeps
//! microseconds. Two rules make every timer fire exactly once across that gap:
//!
//! - a deadline is indexed **rounded up** to the next whole microsecond ([`index_key`]), so a
//!   row is never due before its timer;
//! - the sweep claims the rows due by `now` **rounded down** ([`sweep_bound`]) and fires each
//!   claimed job at the sweep's own `now` ([`fire_due`]), never at the deadline read back from
//!   the column: everything due by `now` fires, each timer at its own nanosecond deadline.
//!
//! A timer due in the last fraction of a microsecond before `now` waits for the next sweep (or
//! the next command on its job, which fires it first): late by under a microsecond, never
//! early, never twice.

use std::time::SystemTime;

use import_export_lifecycle::decider::{self, Resolution};
pub use import_export_lifecycle::{
    Command, DriveId, Error, Event, Job, JobName, JobState, JobType, Outcome, Policy, Timestamp,
};

/// The most bytes a stored record may have: the crate's own bound, which [`decode`] enforces
/// and the table's check repeats.
pub const MAX_RECORD_BYTES: usize = decider::MAX_RECORD_BYTES;

/// The resolution of the `deadline` column: `timestamptz` keeps microseconds.
const RESOLUTION: Resolution = Resolution::Microsecond;

/// What the host must store after deciding on one job: the crate's [`decider::Write`], with the
/// row to insert or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Nothing changed (a refused command with no timer due): write nothing.
    Nothing,
    /// No row was read and a job now exists: insert it (losing if the name was taken since).
    Insert(Row),
    /// A row was read and a job still holds the name (perhaps a new one, when the old one's
    /// timers removed it first): update it if its version is still the one read.
    Update(Row),
    /// A row was read and no job holds the name any more: delete it if its version is still the
    /// one read.
    Delete,
}

/// A job as one row stores it: its record and its deadline's index key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The job's JSON, as the crate writes it (`formatVersion` first).
    pub record: String,
    /// The job's next deadline rounded up to a whole microsecond, or `None` when no timer is
    /// pending.
    pub deadline: Option<SystemTime>,
}

/// Decides `command` at `now` on the job stored under its name (`None` when no row holds it),
/// and says what to write. The stored job's due timers fire first: a create whose name belongs
/// to a job whose retention ended but that no sweep removed yet removes that job, creates the
/// new one, and updates the row.
pub fn decide(
    stored: Option<Job>,
    policy: &Policy,
    now: Timestamp,
    command: &Command,
) -> (Outcome<Event>, Write) {
    let mut job = stored;
    let executed = decider::execute(&mut job, policy, now, command);
    (executed.outcome, write(executed.write, job.as_ref(), policy))
}

/// Fires every timer of a claimed job due by `now` (the sweep's instant, not the deadline read
/// from the index), each at its own deadline, and says what to write. A claimed row always
/// changes: if nothing was due after all (an index key out of step with its record), the write
/// puts the record's own deadline back in the index.
pub fn fire_due(stored: Job, policy: &Policy, now: Timestamp) -> (Vec<Event>, Write) {
    let mut job = Some(stored);
    let fired = decider::handle_timeout(&mut job, policy, now);
    let write = match (fired.write, job.as_ref()) {
        // Nothing was due after all: put the record's own deadline back in the index.
        (decider::Write::Nothing, Some(job)) => Write::Update(row(job, policy)),
        (other, after) => write(other, after, policy),
    };
    (fired.events, write)
}

/// The job as a reader sees it at `now`: the stored job with the timers a command at `now`
/// would fire first applied (`None` when they removed it). Nothing is written: the sweep, or
/// the next command, stores those timers.
pub fn show(stored: Option<Job>, policy: &Policy, now: Timestamp) -> Option<Job> {
    let mut job = stored;
    let _fired = decider::handle_timeout(&mut job, policy, now);
    job
}

/// The row a job is stored as.
pub fn row(job: &Job, policy: &Policy) -> Row {
    Row { record: encode(job), deadline: index_key(job, policy) }
}

/// The job's stored form.
pub fn encode(job: &Job) -> String {
    serde_json::to_string(job).expect("a job always serializes")
}

/// Reads the record stored under the key `name`, in one call to the crate: bounded in size,
/// strict, the format version found wherever it is, the job's consistency checked, and the job
/// the one its key names. A policy change never makes a record unreadable (R-POLICY-1), so no
/// policy is asked for. The caller names the row.
///
/// # Errors
///
/// The crate's typed [`decider::ReadError`] (an unsupported version, malformed, inconsistent,
/// another job, too large), or a key that is not a job name.
pub fn decode(record: &str, name: &str) -> Result<Job, String> {
    let expected = job_name(name)?;
    Job::read(record.as_bytes(), &expected).map_err(|e| e.to_string())
}

/// The key of the row a command is about: the name of its job.
pub fn key(command: &Command) -> &str {
    command.job().as_str()
}

/// The deadline index key of a job: its next deadline rounded **up** to a whole microsecond, so
/// the row is never due before its timer. `None` when no timer is pending (or, at the very end
/// of the time type, when rounding up leaves it; a command on the job still fires that timer).
pub fn index_key(job: &Job, policy: &Policy) -> Option<SystemTime> {
    let at = job.next_deadline(policy)?.at;
    RESOLUTION.index_key(at).and_then(|key| SystemTime::try_from(key).ok())
}

/// The bound the sweep claims due rows with: `now` rounded **down** to a whole microsecond, so
/// no claimed row's timer is still ahead of `now`.
pub fn sweep_bound(now: Timestamp) -> SystemTime {
    system_time(RESOLUTION.sweep_bound(now))
}

/// An instant as the driver takes it. jiff's conversion is fallible only where `SystemTime` is
/// narrower than the crate's range of instants (years -9999 to 9999), which no platform this
/// host runs on is.
pub fn system_time(at: Timestamp) -> SystemTime {
    SystemTime::try_from(at).expect("SystemTime holds every instant of years -9999 to 9999")
}

/// The crate's write, with the row it stores.
fn write(write: decider::Write, after: Option<&Job>, policy: &Policy) -> Write {
    match (write, after) {
        (decider::Write::Nothing, _) => Write::Nothing,
        (decider::Write::Insert, Some(job)) => Write::Insert(row(job, policy)),
        (decider::Write::Update, Some(job)) => Write::Update(row(job, policy)),
        (decider::Write::Delete, _) => Write::Delete,
        (decider::Write::Insert | decider::Write::Update, None) => {
            unreachable!("the crate inserts or updates only a job that exists")
        }
    }
}

/// A job name from the program's own text.
///
/// # Errors
///
/// The crate's reason the name is not valid, as a sentence.
pub fn job_name(text: &str) -> Result<JobName, String> {
    JobName::new(text).map_err(|e| e.to_string())
}

/// A drive id from the program's own text.
///
/// # Errors
///
/// The crate's reason the id is not valid, as a sentence.
pub fn drive_id(text: &str) -> Result<DriveId, String> {
    DriveId::new(text).map_err(|e| e.to_string())
}

/// The job's state, as the service names it.
pub fn state_of(job: &Job) -> JobState {
    job.state()
}

#[cfg(test)]
mod tests {
    use super::*;
    use import_export_lifecycle::SignedDuration;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("a valid instant")
    }

    fn created_at(at: Timestamp) -> Job {
        let command = Command::Create {
            job: job_name("job-1").expect("name"),
            job_type: JobType::Import,
            drives: vec![drive_id("D1").expect("id")],
        };
        let (outcome, write) = decide(None, &Policy::default(), at, &command);
        outcome.result.expect("created");
        assert!(matches!(write, Write::Insert(_)), "a create on no row inserts");
        let mut job = None;
        let _ = decider::execute(&mut job, &Policy::default(), at, &command);
        job.expect("a job")
    }

    /// The index key is the deadline rounded up to a whole microsecond: never before it, less
    /// than a microsecond after it, and the deadline itself when it is whole.
    #[test]
    fn r_timer_4_the_index_key_rounds_the_deadline_up_to_the_microsecond() {
        let policy = Policy::default();
        for (created, key) in [
            ("2026-01-05T09:00:00Z", "2026-01-19T09:00:00Z"),
            ("2026-01-05T09:00:00.000000001Z", "2026-01-19T09:00:00.000001Z"),
            ("2026-01-05T09:00:00.123456999Z", "2026-01-19T09:00:00.123457Z"),
            ("2026-01-05T09:00:00.123457Z", "2026-01-19T09:00:00.123457Z"),
            ("1969-12-31T23:59:59.999999001Z", "1970-01-15T00:00:00Z"),
        ] {
            let job = created_at(t(created));
            assert_eq!(index_key(&job, &policy), Some(system_time(t(key))), "created {created}");
        }
        assert_eq!(
            sweep_bound(t("2026-01-19T09:00:00.123456999Z")),
            system_time(t("2026-01-19T09:00:00.123456Z"))
        );
        assert_eq!(
            sweep_bound(t("1969-12-31T23:59:59.999999001Z")),
            system_time(t("1969-12-31T23:59:59.999999Z"))
        );
    }

    /// Around a nanosecond deadline, at every nanosecond: a row the sweep claims (key <= bound)
    /// always fires its timer at the sweep's `now`, and a due timer the sweep does not claim
    /// is due by less than a microsecond. Firing at the deadline read back from a microsecond
    /// column instead (truncated) would fire nothing: the trap this host avoids.
    #[test]
    fn r_timer_4_a_claimed_row_always_fires_and_an_unclaimed_due_one_is_under_a_microsecond_late() {
        let policy = Policy::default();
        let base = t("2026-01-05T09:00:00Z");
        for offset in (0..=1_000).step_by(7) {
            let job = created_at(base + SignedDuration::from_nanos(offset));
            let deadline = job.next_deadline(&policy).expect("a deadline").at;
            let key = index_key(&job, &policy).expect("a key");
            for step in (-1_500..=1_500).step_by(13) {
                let now = deadline + SignedDuration::from_nanos(step);
                let claimed = key <= sweep_bound(now);
                let (fired, write) = fire_due(job.clone(), &policy, now);
                if claimed {
                    assert_eq!(fired.len(), 1, "offset {offset}, now {now}: a claimed row fires");
                    assert_eq!(fired[0].at, deadline, "at its own deadline");
                    assert_eq!(write, Write::Delete, "and its write removes the row");
                } else if !fired.is_empty() {
                    assert!(step < 1_000, "offset {offset}: unclaimed {step} ns after its deadline");
                }
            }
            let truncated = Timestamp::from_microsecond(deadline.as_microsecond()).expect("in range");
            if truncated != deadline {
                assert!(fire_due(job.clone(), &policy, truncated).0.is_empty(), "the trap");
            }
        }
    }

    /// The write follows from the row read and what the decision left, not from the command.
    #[test]
    fn the_write_follows_from_the_row_read_and_what_the_decision_left() {
        let policy = Policy::default();
        let at = t("2026-01-05T09:00:00Z");
        let job = created_at(at);
        let name = job.name().clone();
        let cancel = Command::Cancel { job: name.clone() };
        let delete = Command::Delete { job: name.clone() };
        let ship_back = Command::ShipBack { job: name.clone() };
        let create = Command::Create { job: name, job_type: JobType::Export, drives: vec![] };
        // Accepted on a stored job: update. Refused with nothing due: nothing.
        assert!(matches!(decide(Some(job.clone()), &policy, at, &cancel).1, Write::Update(_)));
        assert_eq!(decide(Some(job.clone()), &policy, at, &ship_back).1, Write::Nothing);
        assert_eq!(decide(Some(job.clone()), &policy, at, &create).1, Write::Nothing, "the name is taken");
        // A delete: delete. A refused command on no row: nothing.
        assert_eq!(decide(Some(job.clone()), &policy, at, &delete).1, Write::Delete);
        assert_eq!(decide(None, &policy, at, &cancel).1, Write::Nothing);
        // Refused, but a timer fired first: the row goes (the job expired in Creating).
        let expired = at + SignedDuration::from_secs(14 * 86_400);
        assert_eq!(decide(Some(job.clone()), &policy, expired, &cancel).1, Write::Delete);
        // A create on the expired job's row: the row is updated with the new job.
        let (outcome, write) = decide(Some(job), &policy, expired, &create);
        assert_eq!(outcome.timers.len(), 1);
        let Write::Update(row) = write else { panic!("an update, not {write:?}") };
        assert_eq!(decode(&row.record, "job-1").expect("readable").created_at(), expired);
    }
}
