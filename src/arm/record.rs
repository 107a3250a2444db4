//! The ARM record of one job: the unit a host stores, one row per job. Its BitLocker keys are
//! kept apart, in [`BitLockerKeys`], for a host to store elsewhere (a vault).
//!
//! A [`Record`] holds the core [`Job`] and what ARM knows of it besides: its scope (subscription
//! and resource group), location, tags, the properties the customer gave that the lifecycle
//! does not hold (addresses, carrier account, log level, storage account, encryption key, the
//! drives' manifest fields; the delivery package is the core job's) and who created and last
//! changed it (`systemData`). Only
//! [`handle_job`](super::handle_job) and its siblings make or change one, so the core job and its
//! ARM details never drift apart.
//!
//! Stored form (JSON), `formatVersion` first:
//!
//! ```json
//! {"formatVersion": 2,
//!  "scope": {"subscription": "s", "resourceGroup": "rg"},
//!  "job": { …the core job's JSON… },
//!  "location": "West US", "tags": {"team": "data"},
//!  "properties": {"logLevel": "Verbose", "driveList": [{"driveId": "D1", "manifestFile": "…"}]},
//!  "systemData": {"createdBy": {"name": "ann", "kind": "User"}}}
//! ```
//!
//! A reader refuses a `formatVersion` it does not know (the crate's [`FormatVersion`]) rather
//! than misread it, and refuses unknown fields. A record of version 1 kept the delivery package
//! in `properties.deliveryPackage` as well as in the job; reading one moves it into the job. The record never holds a BitLocker key: its
//! form has no field for one.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::context::{Caller, Config};
use super::path::{ListPosition, Scope, ScopeKey};
use super::types::{
    DriveStatus, EncryptionKeyDetails, Export, JobDetails, JobResponse, PackageInformation, ReturnAddress,
    ReturnShipping, SystemData,
};
use crate::model::format::{FormatVersion, ReadVersion};
use crate::model::job::{Job, PackageInfo};
use crate::model::name::{DriveId, JobName};
use crate::model::policy::Policy;
use crate::model::state::DriveState;
use crate::model::timer::Deadline;

/// What the customer said about one drive, besides its BitLocker key: the manifest's file and
/// hashes. The drive's state, copy status, logs and bytes are the service's, never stored from
/// a customer's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DriveDetails {
    /// The drive.
    pub drive_id: DriveId,
    /// The manifest file's path on the drive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_file: Option<String>,
    /// The manifest's hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_hash: Option<String>,
    /// The drive header's hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive_header_hash: Option<String>,
}

/// The job's properties as the customer gave them (on `PUT`, changed by `PATCH`): only the
/// fields a customer owns. The service's own fields (`state`, `cancelRequested`,
/// `percentComplete`, `shippingInformation`, `returnPackage`, `provisioningState`, …) are
/// computed when the job is shown, never stored from input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerProperties {
    /// The storage account the data goes to or comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account_id: Option<String>,
    /// Where the drives go back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_address: Option<ReturnAddress>,
    /// The customer's carrier account for the return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_shipping: Option<ReturnShipping>,
    /// The blob container for the job's logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics_path: Option<String>,
    /// `Error` or `Verbose`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
    /// Whether the drive manifests are backed up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_drive_manifest: Option<bool>,
    /// For export jobs: which blobs to export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<Export>,
    /// The key that encrypts the BitLocker keys (the host's default when the customer gave none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<EncryptionKeyDetails>,
    /// The drives' manifest details, by drive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drive_list: Vec<DriveDetails>,
    /// The package as a record of format version 1 kept it, beside the job: read, moved into
    /// the job when the record is read, never written. The job holds the package
    /// ([`Job::delivery_package`]).
    #[serde(default, rename = "deliveryPackage", skip_serializing)]
    pub(crate) delivery_package_v1: Option<PackageInformation>,
}

/// Who created the job and who changed it last, for `systemData` (the instants are the job's
/// own `createdAt` and `updatedAt`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Authors {
    /// Who created it, if the host named a caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Caller>,
    /// Who changed it last through ARM, if the host named a caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<Caller>,
}

/// The ARM record of one job: the core job and its ARM details, stored as one row. See the
/// module's documentation for its form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, try_from = "RecordRepr")]
pub struct Record {
    format_version: FormatVersion,
    scope: Scope,
    job: Job,
    location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<BTreeMap<String, String>>,
    properties: Box<CustomerProperties>,
    #[serde(default)]
    system_data: Authors,
}

/// The unchecked form of a [`Record`], checked by `TryFrom`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, remote = "Self")]
struct RecordRepr {
    format_version: ReadVersion,
    scope: Scope,
    job: Job,
    location: String,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    properties: Box<CustomerProperties>,
    #[serde(default)]
    system_data: Authors,
}

crate::wire::strict::strict_deserialize!(RecordRepr);

impl TryFrom<RecordRepr> for Record {
    type Error = String;
    fn try_from(mut r: RecordRepr) -> Result<Record, String> {
        r.scope.check().map_err(|e| format!("scope: {e}"))?;
        // Format version 1 kept the package the customer described beside the job; the job
        // holds it from version 2 on. The customer's description was what the job showed.
        match (r.format_version, r.properties.delivery_package_v1.take()) {
            (_, None) => {}
            (ReadVersion(1), Some(package)) => {
                let package = package_info(&package);
                if !package.is_empty() {
                    r.job.delivery_package = Some(Box::new(package));
                }
            }
            (ReadVersion(_), Some(_)) => {
                return Err("properties.deliveryPackage: a record of format version 2 or later keeps \
                            the package in its job (job.deliveryPackage)"
                    .to_string());
            }
        }
        for (i, drive) in r.properties.drive_list.iter().enumerate() {
            if r.job.drive(drive.drive_id.as_str()).is_none() {
                return Err(format!(
                    "properties.driveList[{i}]: drive '{}' is not a drive of job '{}'",
                    drive.drive_id, r.job.name
                ));
            }
            if r.properties.drive_list[..i].iter().any(|d| d.drive_id == drive.drive_id) {
                return Err(format!("properties.driveList[{i}]: drive '{}' appears twice", drive.drive_id));
            }
        }
        Ok(Record {
            format_version: FormatVersion,
            scope: r.scope,
            job: r.job,
            location: r.location,
            tags: r.tags,
            properties: r.properties,
            system_data: r.system_data,
        })
    }
}

impl Record {
    /// A record as [`handle_job`](super::handle_job) creates it.
    pub(crate) fn new(
        scope: Scope,
        job: Job,
        location: String,
        tags: Option<BTreeMap<String, String>>,
        properties: CustomerProperties,
        system_data: Authors,
    ) -> Record {
        Record {
            format_version: FormatVersion,
            scope,
            job,
            location,
            tags,
            properties: Box::new(properties),
            system_data,
        }
    }

    /// The job's subscription and resource group, spelt as when the job was created.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The job's name.
    pub fn name(&self) -> &JobName {
        self.job.name()
    }

    /// The core job.
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// The Azure region.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The customer's tags.
    pub fn tags(&self) -> Option<&BTreeMap<String, String>> {
        self.tags.as_ref()
    }

    /// The properties the customer gave.
    pub fn properties(&self) -> &CustomerProperties {
        &self.properties
    }

    /// Who created the job and who changed it last.
    pub fn system_data(&self) -> &Authors {
        &self.system_data
    }

    /// The job's next timer: the key a host indexes the record by, to know when to call
    /// [`handle_timeout`](super::handle_timeout).
    pub fn next_deadline(&self, policy: &Policy) -> Option<Deadline> {
        self.job.next_deadline(policy)
    }

    /// Where the record sits in a list: by resource group (without regard to case), then name.
    pub fn list_position(&self) -> ListPosition {
        ListPosition { resource_group: self.scope.key().resource_group, name: self.job.name().clone() }
    }

    /// The key of the record's scope (see [`Scope::key`]).
    pub fn scope_key(&self) -> ScopeKey {
        self.scope.key()
    }

    pub(crate) fn job_mut(&mut self) -> &mut Job {
        &mut self.job
    }

    pub(crate) fn with_job(&self, job: Job) -> Record {
        Record { job, ..self.clone() }
    }

    pub(crate) fn properties_mut(&mut self) -> &mut CustomerProperties {
        &mut self.properties
    }

    pub(crate) fn set_tags(&mut self, tags: Option<BTreeMap<String, String>>) {
        self.tags = tags;
    }

    pub(crate) fn set_last_modified_by(&mut self, caller: Option<Caller>) {
        self.system_data.last_modified_by = caller;
    }

    /// The job's ARM resource, as `GET` shows it.
    pub fn resource(&self, config: &Config) -> JobResponse {
        let job = &self.job;
        let given = &*self.properties;
        let drive_list = job
            .drive_list()
            .iter()
            .map(|drive| {
                // bytesSucceeded shows once a drive has started copying.
                let started = match drive.state {
                    DriveState::Transferring | DriveState::Completed | DriveState::CompletedMoreInfo => true,
                    DriveState::ShippedBack => drive.bytes_succeeded > 0,
                    DriveState::Specified | DriveState::Received | DriveState::NeverReceived => false,
                };
                let details = given.drive_list.iter().find(|d| d.drive_id == drive.drive_id);
                DriveStatus {
                    drive_id: Some(drive.drive_id.to_string()),
                    manifest_file: details.and_then(|d| d.manifest_file.clone()),
                    manifest_hash: details.and_then(|d| d.manifest_hash.clone()),
                    drive_header_hash: details.and_then(|d| d.drive_header_hash.clone()),
                    state: Some(drive.state.to_string()),
                    bytes_succeeded: started.then_some(drive.bytes_succeeded),
                    ..DriveStatus::default()
                }
            })
            .collect();
        let created_by = self.system_data.created_by.as_ref();
        let modified_by = self.system_data.last_modified_by.as_ref();
        let system_data = SystemData {
            created_by: created_by.map(|c| c.name.clone()),
            created_by_type: created_by.map(|c| c.kind.clone()),
            created_at: Some(job.created_at().to_string()),
            last_modified_by: modified_by.map(|c| c.name.clone()),
            last_modified_by_type: modified_by.map(|c| c.kind.clone()),
            last_modified_at: Some(job.updated_at().to_string()),
        };
        let delivery_package = job.delivery_package().map(|p| PackageInformation {
            carrier_name: p.carrier_name.clone(),
            tracking_number: p.tracking_number.clone(),
            drive_count: p.drive_count,
            ship_date: p.ship_date.clone(),
        });
        JobResponse {
            id: Some(format!("{}/providers/Microsoft.ImportExport/jobs/{}", self.scope, job.name())),
            name: Some(job.name().to_string()),
            resource_type: Some("Microsoft.ImportExport/jobs".into()),
            location: Some(self.location.clone()),
            tags: self.tags.clone(),
            properties: Some(JobDetails {
                storage_account_id: given.storage_account_id.clone(),
                job_type: Some(job.job_type().to_string()),
                return_address: given.return_address.clone(),
                return_shipping: given.return_shipping.clone(),
                shipping_information: config.locations.get(&self.location).map(|l| l.shipping_information()),
                delivery_package,
                diagnostics_path: given.diagnostics_path.clone(),
                log_level: given.log_level.clone(),
                backup_drive_manifest: given.backup_drive_manifest,
                state: Some(job.state().to_string()),
                cancel_requested: Some(job.cancel_requested()),
                drive_list: Some(drive_list),
                export: given.export.clone(),
                provisioning_state: Some(config.provisioning_state.clone()),
                encryption_key: given.encryption_key.clone(),
                ..JobDetails::default()
            }),
            system_data: Some(system_data),
            identity: Some(config.identity.clone()),
        }
    }
}

/// The package a customer described on the wire, as the core job holds it.
pub(crate) fn package_info(package: &PackageInformation) -> PackageInfo {
    PackageInfo {
        carrier_name: package.carrier_name.clone(),
        tracking_number: package.tracking_number.clone(),
        drive_count: package.drive_count,
        ship_date: package.ship_date.clone(),
    }
}

/// The BitLocker keys of one job's drives, by drive: secrets a host stores apart from the
/// [`Record`] (e.g. in a vault). Only `listBitLockerKeys` shows them, and only while the job
/// exists. `Debug` names the drives and never prints a key.
///
/// Stored form: `{"formatVersion": 1, "keys": {"D1": "…"}}`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, remote = "Self")]
pub struct BitLockerKeys {
    format_version: FormatVersion,
    keys: BTreeMap<DriveId, String>,
}

crate::wire::strict::strict_serde!(BitLockerKeys);

impl fmt::Debug for BitLockerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitLockerKeys")
            .field("drives", &self.keys.keys().collect::<Vec<_>>())
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl BitLockerKeys {
    /// The keys given, by drive.
    pub(crate) fn new(keys: BTreeMap<DriveId, String>) -> BitLockerKeys {
        BitLockerKeys { format_version: FormatVersion, keys }
    }

    /// The key of one drive.
    pub fn get(&self, drive: &str) -> Option<&str> {
        self.keys.get(drive).map(String::as_str)
    }

    /// The drives that have a key, by id.
    pub fn drives(&self) -> impl Iterator<Item = &DriveId> {
        self.keys.keys()
    }

    /// No drive has a key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
