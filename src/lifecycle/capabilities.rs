//! What a job allows now, without trying: the capability flags, asked of the same rules the
//! operations apply (R-UPDATE-8).

use serde::{Deserialize, Serialize};

use crate::lifecycle::rules::{self, Act};
use crate::model::job::Job;
use crate::model::policy::Policy;
use crate::model::rule::Rule;
use crate::model::timer::Deadline;
use crate::model::update::UpdateField;

impl Job {
    /// What the customer may do now, without trying it: the same rules the operations apply
    /// (R-UPDATE-8).
    pub fn capabilities(&self, policy: &Policy) -> Capabilities {
        let may = |act| rules::may(self, policy, act);
        let cancel = may(Act::Cancel);
        let delete = may(Act::Delete);
        let ship = may(Act::Ship);
        let address = may(Act::Update(UpdateField::ReturnAddress));
        let mut refused_by = std::collections::BTreeMap::new();
        for (flag, answer) in [
            ("isCancellable", cancel),
            ("isDeletable", delete),
            ("isShippable", ship),
            ("isShippingAddressEditable", address),
        ] {
            if let Err(rule) = answer {
                refused_by.insert(flag.to_string(), rule);
            }
        }
        let mut updatable_fields = Vec::new();
        for field in <UpdateField as strum::IntoEnumIterator>::iter() {
            match may(Act::Update(field)) {
                Ok(()) => updatable_fields.push(field),
                Err(rule) => {
                    refused_by.insert(field.to_string(), rule);
                }
            }
        }
        Capabilities {
            is_cancellable: cancel.is_ok(),
            is_deletable: delete.is_ok(),
            is_shippable: ship.is_ok(),
            is_shipping_address_editable: address.is_ok(),
            updatable_fields,
            refused_by,
            next_deadline: self.next_deadline(policy),
        }
    }
}

/// What a job allows now, in the style of Azure Data Box's capability flags: a client can show
/// or hide a button without trying the operation.
///
/// New flags are added as the service's operations are: the struct is `#[non_exhaustive]`, so
/// reading its fields keeps compiling when one is added.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// A cancel would be accepted now (R-CANCEL-1, R-CANCEL-2, R-CANCEL-3).
    pub is_cancellable: bool,
    /// A delete would be accepted now (R-DELETE-1, R-DELETE-2).
    pub is_deletable: bool,
    /// Marking the job `Shipping` would be accepted now (R-FLOW-1).
    pub is_shippable: bool,
    /// An update of the return address (`returnAddress`) would be accepted now: until the job
    /// reaches `Packaging` (R-UPDATE-1). Azure Data Box's flag of the same name.
    pub is_shipping_address_editable: bool,
    /// Every field an update may name now (R-UPDATE-1 to R-UPDATE-5), in the order of
    /// [`UpdateField`].
    pub updatable_fields: Vec<UpdateField>,
    /// For each flag above that is `false`, and each field an update may not name now, the rule
    /// that refuses it, keyed by the flag's or the field's JSON name (`isCancellable`,
    /// `returnAddress`, …): a client can say why without trying (R-UPDATE-8).
    pub refused_by: std::collections::BTreeMap<String, Rule>,
    /// The job's next timer, if one is pending.
    pub next_deadline: Option<Deadline>,
}
