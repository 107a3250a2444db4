//! The numbered rules of the lifecycle.
//!
//! Every rule has an id (`R-CANCEL-2`), a one-sentence statement, a row in `docs/spec.md` and
//! at least one test whose name starts with the id in snake case (`r_cancel_2_…`). Errors name
//! the rule that refused them, so a refusal can be traced to the sentence of the spec behind it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use strum::{EnumCount, EnumIter, IntoEnumIterator};

/// A numbered rule of the lifecycle. `Display` and serde use its id, e.g. `R-CANCEL-2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, EnumCount)]
pub enum Rule {
    /// R-CANCEL-1
    Cancel1,
    /// R-CANCEL-2
    Cancel2,
    /// R-CANCEL-3
    Cancel3,
    /// R-CANCEL-4
    Cancel4,
    /// R-CANCEL-5
    Cancel5,
    /// R-CANCEL-6
    Cancel6,
    /// R-CANCEL-7
    Cancel7,
    /// R-CANCEL-8
    Cancel8,
    /// R-CANCEL-9
    Cancel9,
    /// R-FLOW-1
    Flow1,
    /// R-FLOW-2
    Flow2,
    /// R-FLOW-3
    Flow3,
    /// R-FLOW-4
    Flow4,
    /// R-FLOW-5
    Flow5,
    /// R-FLOW-6
    Flow6,
    /// R-FLOW-7
    Flow7,
    /// R-FLOW-8
    Flow8,
    /// R-PUT-1
    Put1,
    /// R-PUT-2
    Put2,
    /// R-PUT-3
    Put3,
    /// R-PUT-4
    Put4,
    /// R-DELETE-1
    Delete1,
    /// R-DELETE-2
    Delete2,
    /// R-UPDATE-1
    Update1,
    /// R-UPDATE-2
    Update2,
    /// R-UPDATE-3
    Update3,
    /// R-UPDATE-4
    Update4,
    /// R-UPDATE-5
    Update5,
    /// R-UPDATE-6
    Update6,
    /// R-UPDATE-7
    Update7,
    /// R-UPDATE-8
    Update8,
    /// R-GONE-1
    Gone1,
    /// R-GONE-2
    Gone2,
    /// R-TIMER-1
    Timer1,
    /// R-TIMER-2
    Timer2,
    /// R-TIMER-3
    Timer3,
    /// R-TIMER-4
    Timer4,
    /// R-TIMER-5
    Timer5,
    /// R-TIMER-6
    Timer6,
    /// R-TIMER-7
    Timer7,
    /// R-POLICY-1
    Policy1,
    /// R-STAGE-1
    Stage1,
    /// R-REFUSE-1
    Refuse1,
    /// R-INPUT-1
    Input1,
    /// R-INPUT-2
    Input2,
    /// R-INPUT-3
    Input3,
    /// R-CLOCK-1
    Clock1,
    /// R-EVENT-1
    Event1,
}

impl Rule {
    /// The rule's id as written in `docs/spec.md`, e.g. `R-CANCEL-2`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Cancel1 => "R-CANCEL-1",
            Rule::Cancel2 => "R-CANCEL-2",
            Rule::Cancel3 => "R-CANCEL-3",
            Rule::Cancel4 => "R-CANCEL-4",
            Rule::Cancel5 => "R-CANCEL-5",
            Rule::Cancel6 => "R-CANCEL-6",
            Rule::Cancel7 => "R-CANCEL-7",
            Rule::Cancel8 => "R-CANCEL-8",
            Rule::Cancel9 => "R-CANCEL-9",
            Rule::Flow1 => "R-FLOW-1",
            Rule::Flow2 => "R-FLOW-2",
            Rule::Flow3 => "R-FLOW-3",
            Rule::Flow4 => "R-FLOW-4",
            Rule::Flow5 => "R-FLOW-5",
            Rule::Flow6 => "R-FLOW-6",
            Rule::Flow7 => "R-FLOW-7",
            Rule::Flow8 => "R-FLOW-8",
            Rule::Put1 => "R-PUT-1",
            Rule::Put2 => "R-PUT-2",
            Rule::Put3 => "R-PUT-3",
            Rule::Put4 => "R-PUT-4",
            Rule::Delete1 => "R-DELETE-1",
            Rule::Delete2 => "R-DELETE-2",
            Rule::Update1 => "R-UPDATE-1",
            Rule::Update2 => "R-UPDATE-2",
            Rule::Update3 => "R-UPDATE-3",
            Rule::Update4 => "R-UPDATE-4",
            Rule::Update5 => "R-UPDATE-5",
            Rule::Update6 => "R-UPDATE-6",
            Rule::Update7 => "R-UPDATE-7",
            Rule::Update8 => "R-UPDATE-8",
            Rule::Gone1 => "R-GONE-1",
            Rule::Gone2 => "R-GONE-2",
            Rule::Timer1 => "R-TIMER-1",
            Rule::Timer2 => "R-TIMER-2",
            Rule::Timer3 => "R-TIMER-3",
            Rule::Timer4 => "R-TIMER-4",
            Rule::Timer5 => "R-TIMER-5",
            Rule::Timer6 => "R-TIMER-6",
            Rule::Timer7 => "R-TIMER-7",
            Rule::Policy1 => "R-POLICY-1",
            Rule::Stage1 => "R-STAGE-1",
            Rule::Refuse1 => "R-REFUSE-1",
            Rule::Input1 => "R-INPUT-1",
            Rule::Input2 => "R-INPUT-2",
            Rule::Input3 => "R-INPUT-3",
            Rule::Clock1 => "R-CLOCK-1",
            Rule::Event1 => "R-EVENT-1",
        }
    }

    /// The rule in one sentence, as `docs/spec.md` states it. Refusals quote it as their reason.
    pub fn statement(self) -> &'static str {
        match self {
            Rule::Cancel1 => {
                "a cancel is accepted only in the states of the policy's cancel window; by default before the job reaches Packaging: in Creating, Shipping, Received or Transferring"
            }
            Rule::Cancel2 => {
                "once the job is in Packaging, Completed or Closed every cancel is refused, whether or not one was accepted before"
            }
            Rule::Cancel3 => {
                "a repeated cancel on a job still in an accepting state is accepted and changes nothing"
            }
            Rule::Cancel4 => "a cancel in Creating completes the job at once, and its retention starts then",
            Rule::Cancel5 => {
                "a cancel in Shipping leaves the job in Shipping with cancelRequested until its package arrives or its drives become NeverReceived; arrived drives are not copied"
            }
            Rule::Cancel6 => {
                "drives that are Transferring when a cancel arrives keep transferring: their progress and finish are accepted and their bytes count"
            }
            Rule::Cancel7 => "no drive starts a transfer after a cancel was requested",
            Rule::Cancel8 => {
                "a cancelled job with drives at the datacenter goes to Packaging as soon as no drive is transferring, and on ship-back to Completed, never Closed"
            }
            Rule::Cancel9 => "a cancelled job with nothing at the datacenter ends in Completed directly",
            Rule::Flow1 => "a job is marked Shipping only from Creating",
            Rule::Flow2 => {
                "a package is received only by a job in Shipping: the job becomes Received; an import job's listed drives become Received and the others NeverReceived; an export job's listed drives are added as Received"
            }
            Rule::Flow3 => {
                "a transfer starts only on a Received drive of a job in Received or Transferring, and the job becomes Transferring"
            }
            Rule::Flow4 => "transfer progress and finish apply only to a drive that is Transferring",
            Rule::Flow5 => "a job goes to Packaging as soon as no drive is left to copy",
            Rule::Flow6 => {
                "drives are shipped back only from Packaging: the drives at the datacenter become ShippedBack and the job Completed if every drive completed cleanly, else Closed"
            }
            Rule::Flow7 => {
                "a job's state only moves forward along Creating, Shipping, Received, Transferring, Packaging, Completed or Closed"
            }
            Rule::Flow8 => {
                "a job is marked Shipping through Update Job only once its returnAddress and its deliveryPackage are known, from that request or an earlier one; a job whose state refuses the shipment is refused by its state first"
            }
            Rule::Put1 => {
                "a Create Job (`PUT`) on a job that exists, with the same properties, answers 200 and changes nothing"
            }
            Rule::Put2 => {
                "a Create Job on a job that exists, changing fields Update Job may change, is decided as that Update Job, under the same rules and refusals (R-UPDATE-1 to R-UPDATE-7); its tags are replaced whole"
            }
            Rule::Put3 => {
                "a Create Job on a job that exists is refused 409 `PropertyChangeNotAllowed`, naming the field, when it changes what no update can change: `jobType`, `storageAccountId`, `location`, `diagnosticsPath`, `export`, `encryptionKey`"
            }
            Rule::Put4 => {
                "a job's `location` is one the host's catalogue of locations holds (either spelling); another is refused 400 `LocationNotAvailableForResourceType`. A job shows its location's datacenter address as `shippingInformation`"
            }
            Rule::Delete1 => "a delete is accepted in Creating, Completed and Closed",
            Rule::Delete2 => "a delete is refused in Shipping, Received, Transferring and Packaging",
            Rule::Update1 => {
                "an update may change returnAddress and returnShipping until the job reaches Packaging: in Creating, Shipping, Received or Transferring"
            }
            Rule::Update2 => {
                "an update may change deliveryPackage while the drives are with the customer or on their way: in Creating or Shipping"
            }
            Rule::Update3 => {
                "an update may change logLevel and backupDriveManifest before any copy starts: in Creating, Shipping or Received"
            }
            Rule::Update4 => {
                "an update may change driveList only on an import job in Creating, with the checks of create, and the new list replaces the old one; drives are given only with driveList"
            }
            Rule::Update5 => "an update may change tags in any state",
            Rule::Update6 => {
                "an update names at least one field, each once, and is all or nothing: if one field may not change, the whole update is refused naming that field, the state and the rule; an accepted update never moves the job to another state"
            }
            Rule::Update7 => {
                "an update accepted in Creating restarts the Creating clock (R-TIMER-1) at the update's instant; an update in any other state moves no deadline"
            }
            Rule::Update8 => {
                "a job's capabilities say, for each update field, whether an update of it would be accepted now, and for each flag that is false the rule that refuses it"
            }
            Rule::Gone1 => {
                "after a delete, or once a timer removed it, every operation on the job's name answers JobNotFound"
            }
            Rule::Gone2 => {
                "a removed job's name can be used by a new job that shares nothing with the old one"
            }
            Rule::Timer1 => {
                "a job still in Creating is removed creatingExpiryDays after its Creating clock started, at its creation unless an update restarted it (R-UPDATE-7); it is visible strictly before that instant"
            }
            Rule::Timer2 => {
                "a job still waiting for its package at the instant it was marked Shipping plus shippingExpiryDays has its drives set to NeverReceived"
            }
            Rule::Timer3 => {
                "a job in Completed or Closed is removed at the instant it entered that state plus retentionDays; it is visible strictly before that instant"
            }
            Rule::Timer4 => {
                "a timer fires at its deadline exactly, due timers fire in time order, and every operation applies the timers due at its instant first"
            }
            Rule::Timer5 => {
                "a deadline beyond the largest instant the time type can hold never comes, so that timer never fires"
            }
            Rule::Timer6 => {
                "a job whose package is overdue and that gets neither its package nor a cancel by its NeverReceived deadline plus overdueCloseDays moves from Shipping to Closed at that instant, and its retention starts then; without overdueCloseDays it waits in Shipping"
            }
            Rule::Timer7 => {
                "a host whose store keeps deadlines at a coarser resolution indexes each deadline rounded up to that resolution, claims the jobs indexed by its sweep's instant rounded down, and fires each at the sweep's instant, so every timer fires exactly once, at its own deadline"
            }
            Rule::Policy1 => {
                "a policy change applies to what happens next: a stored job stays readable, and a deadline the new policy puts at or before the job's last recorded instant fires at that instant, so its history never goes backwards"
            }
            Rule::Stage1 => {
                "a job records each state it entered and the instant it entered it, in order, from Creating at its creation; no state is entered twice"
            }
            Rule::Refuse1 => "a refused operation changes nothing",
            Rule::Input1 => {
                "malformed input is refused with a typed error: empty or over-long names, bad characters, duplicate drive ids, more than ten drives, byte counts that overflow"
            }
            Rule::Input3 => {
                "a stored job is read only if it is one the rules can produce: a forged or corrupted one is refused, naming what is wrong; a policy change alone never makes it unreadable"
            }
            Rule::Input2 => {
                "a job name is used by one job at a time: creating a job whose name is in use is refused"
            }
            Rule::Clock1 => {
                "an instant earlier than a job's last recorded instant counts as that last instant for that job, so its history never goes backwards"
            }
            Rule::Event1 => {
                "replaying the events of a registry from nothing rebuilds the same registry; an event that does not follow from the state it is applied to is refused"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        Rule::iter()
            .find(|rule| rule.id() == id)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown rule id `{id}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal's stored form names its rule by id; reading it back gives that very rule.
    #[test]
    fn every_rule_reads_back_from_its_id() {
        for rule in Rule::iter() {
            let json = serde_json::to_string(&rule).unwrap();
            assert_eq!(json, format!("\"{}\"", rule.id()));
            assert_eq!(serde_json::from_str::<Rule>(&json).unwrap(), rule);
        }
        let unknown = serde_json::from_str::<Rule>("\"R-NOPE-1\"").unwrap_err().to_string();
        assert!(unknown.contains("unknown rule id `R-NOPE-1`"), "{unknown}");
    }
}
