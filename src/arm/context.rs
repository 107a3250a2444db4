//! What a host supplies to every answer: its configuration and the service's policy.

use serde::{Deserialize, Serialize};

use super::location::Catalogue;
use super::types::{EncryptionKeyDetails, IdentityDetails};
use crate::model::policy::Policy;

/// What the host supplies: the values the service would fill in that the model cannot know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Config {
    /// The locations the host ships to: a job's `location` must be one of them, and its
    /// datacenter's address is the job's `shippingInformation`. The built-in catalogue when
    /// absent.
    pub locations: Catalogue,
    /// `provisioningState` of every job.
    pub provisioning_state: String,
    /// `identity` of every job.
    pub identity: IdentityDetails,
    /// `encryptionKey` of a job created without one.
    pub encryption_key: EncryptionKeyDetails,
    /// Who sends the requests: `systemData.createdBy`/`lastModifiedBy` and their types
    /// (omitted when `None`).
    pub caller: Option<Caller>,
}

/// The identity behind the requests, for `systemData`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Caller {
    /// `createdBy` / `lastModifiedBy`.
    pub name: String,
    /// `createdByType` / `lastModifiedByType`, e.g. `User` or `Application`.
    pub kind: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            locations: Catalogue::builtin(),
            provisioning_state: "Succeeded".into(),
            identity: IdentityDetails { identity_type: Some("None".into()), ..IdentityDetails::default() },
            encryption_key: EncryptionKeyDetails {
                kek_type: Some("MicrosoftManaged".into()),
                ..EncryptionKeyDetails::default()
            },
            caller: None,
        }
    }
}

/// Everything an answer depends on besides the record, the request and `now`: the host's
/// [`Config`] and the service's [`Policy`]. A host keeps one and passes it to every call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Context {
    /// What the host fills in.
    pub config: Config,
    /// The service's durations and cancel window.
    pub policy: Policy,
}
