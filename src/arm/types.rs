//! The Import/Export ARM API's JSON, type by type, with the service's own field names
//! (api-version 2016-11-01 to 2021-01-01).
//!
//! Input is tolerant: unknown fields are ignored and every optional field may be absent or
//! `null`. Output omits what is absent and never invents a value the model does not know.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Skips `None` fields on output; every optional field of these types uses it.
macro_rules! wire_struct {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }
    };
}

wire_struct! {
    /// A job as ARM shows it (`PUT`/`GET`/`PATCH` response, list item).
    pub struct JobResponse {
        /// Its ARM resource id: `/subscriptions/…/resourceGroups/…/providers/Microsoft.ImportExport/jobs/{name}`.
        id: String,
        /// The job's name.
        name: String,
        /// Always `Microsoft.ImportExport/jobs`.
        #[serde(rename = "type")]
        resource_type: String,
        /// The Azure region.
        location: String,
        /// The customer's tags.
        tags: BTreeMap<String, String>,
        /// The job's details.
        properties: JobDetails,
        /// Who created and last changed the resource, and when.
        system_data: SystemData,
        /// The job's managed identity.
        identity: IdentityDetails,
    }
}

wire_struct! {
    /// `JobDetails`: everything about a job.
    pub struct JobDetails {
        /// The storage account the data goes to or comes from.
        storage_account_id: String,
        /// `Import` or `Export`.
        job_type: String,
        /// Where the drives go back to.
        return_address: ReturnAddress,
        /// The customer's carrier account for the return.
        return_shipping: ReturnShipping,
        /// The datacenter's address, where the customer ships the drives.
        shipping_information: ShippingInformation,
        /// The package the customer sent.
        delivery_package: PackageInformation,
        /// The package the drives came back in.
        return_package: PackageInformation,
        /// The blob container for the job's logs.
        diagnostics_path: String,
        /// `Error` or `Verbose`.
        log_level: String,
        /// Whether the drive manifests are backed up.
        backup_drive_manifest: bool,
        /// The job's state, e.g. `Creating`.
        state: String,
        /// Whether a cancel was requested.
        cancel_requested: bool,
        /// Overall progress.
        percent_complete: i64,
        /// For export jobs: the blobs that did not fit on the drives.
        incomplete_blob_list_uri: String,
        /// The drives.
        drive_list: Vec<DriveStatus>,
        /// For export jobs: which blobs to export.
        export: Export,
        /// The ARM provisioning state.
        provisioning_state: String,
        /// The key that encrypts the BitLocker keys.
        encryption_key: EncryptionKeyDetails,
    }
}

wire_struct! {
    /// `DriveStatus`: one drive of a job.
    pub struct DriveStatus {
        /// The drive's id.
        drive_id: String,
        /// The drive's BitLocker key (given on create; never shown by `GET`).
        bit_locker_key: String,
        /// The manifest file's path on the drive.
        manifest_file: String,
        /// The manifest's hash.
        manifest_hash: String,
        /// The drive header's hash.
        drive_header_hash: String,
        /// The drive's state, e.g. `Specified`.
        state: String,
        /// The copy's status, once the drive is copying.
        copy_status: String,
        /// The copy's progress.
        percent_complete: i64,
        /// The verbose log of the copy.
        verbose_log_uri: String,
        /// The error log of the copy.
        error_log_uri: String,
        /// The manifest's location.
        manifest_uri: String,
        /// Bytes copied.
        bytes_succeeded: u64,
    }
}

wire_struct! {
    /// `ReturnAddress`.
    pub struct ReturnAddress {
        /// The recipient.
        recipient_name: String,
        /// First street line.
        street_address1: String,
        /// Second street line.
        street_address2: String,
        /// City.
        city: String,
        /// State or province.
        state_or_province: String,
        /// Postal code.
        postal_code: String,
        /// Country or region.
        country_or_region: String,
        /// Phone.
        phone: String,
        /// E-mail.
        email: String,
    }
}

wire_struct! {
    /// `ReturnShipping`: the customer's carrier account for the return.
    pub struct ReturnShipping {
        /// The carrier.
        carrier_name: String,
        /// The account number with that carrier.
        carrier_account_number: String,
    }
}

wire_struct! {
    /// `ShippingInformation`: the datacenter's address (supplied by the host's configuration).
    pub struct ShippingInformation {
        /// The recipient.
        recipient_name: String,
        /// First street line.
        street_address1: String,
        /// Second street line.
        street_address2: String,
        /// City.
        city: String,
        /// State or province.
        state_or_province: String,
        /// Postal code.
        postal_code: String,
        /// Country or region.
        country_or_region: String,
        /// Phone.
        phone: String,
        /// Anything else.
        additional_information: String,
    }
}

wire_struct! {
    /// `PackageInfomation` (sic, in the service's specification): a shipped package.
    pub struct PackageInformation {
        /// The carrier.
        carrier_name: String,
        /// The carrier's tracking number.
        tracking_number: String,
        /// How many drives are in it.
        drive_count: i64,
        /// When it was shipped.
        ship_date: String,
    }
}

wire_struct! {
    /// `Export`: which blobs an export job copies.
    pub struct Export {
        /// The blobs, by path or prefix.
        blob_list: BlobList,
        /// A blob holding the blob list.
        blob_list_blob_path: String,
    }
}

wire_struct! {
    /// `BlobList`.
    pub struct BlobList {
        /// Blob paths.
        blob_path: Vec<String>,
        /// Blob path prefixes.
        blob_path_prefix: Vec<String>,
    }
}

wire_struct! {
    /// `EncryptionKeyDetails`.
    pub struct EncryptionKeyDetails {
        /// `MicrosoftManaged` or `CustomerManaged`.
        kek_type: String,
        /// The key's URL.
        kek_url: String,
        /// The key vault's resource id.
        #[serde(rename = "kekVaultResourceID")]
        kek_vault_resource_id: String,
    }
}

wire_struct! {
    /// `systemData`: who created and last changed the resource, and when.
    pub struct SystemData {
        /// Who created it.
        created_by: String,
        /// What kind of identity created it.
        created_by_type: String,
        /// When it was created.
        created_at: String,
        /// Who changed it last.
        last_modified_by: String,
        /// What kind of identity changed it last.
        last_modified_by_type: String,
        /// When it was last changed.
        last_modified_at: String,
    }
}

wire_struct! {
    /// `IdentityDetails`.
    pub struct IdentityDetails {
        /// `None`, `SystemAssigned` or `UserAssigned`.
        #[serde(rename = "type")]
        identity_type: String,
        /// The principal.
        principal_id: String,
        /// The tenant.
        tenant_id: String,
    }
}

wire_struct! {
    /// `PutJobParameters`: the body of Create Job (`PUT`).
    pub struct PutJobParameters {
        /// The Azure region.
        location: String,
        /// Tags.
        tags: BTreeMap<String, String>,
        /// The job's details.
        properties: JobDetails,
    }
}

wire_struct! {
    /// `UpdateJobParameters`: the body of Update Job Properties (`PATCH`).
    pub struct UpdateJobParameters {
        /// Tags, replacing the job's.
        tags: BTreeMap<String, String>,
        /// The properties to change.
        properties: UpdateJobProperties,
    }
}

wire_struct! {
    /// The `properties` of an Update Job Properties request.
    pub struct UpdateJobProperties {
        /// `true` asks for a cancel; `false` is refused.
        cancel_requested: bool,
        /// `Shipping` marks the job shipped; an empty string changes nothing.
        state: String,
        /// A new return address.
        return_address: ReturnAddress,
        /// A new return carrier account.
        return_shipping: ReturnShipping,
        /// The package the customer sent.
        delivery_package: PackageInformation,
        /// `Error` or `Verbose`.
        log_level: String,
        /// Whether to back up the drive manifests.
        backup_drive_manifest: bool,
        /// Drive details (not supported by this model: refused).
        drive_list: Vec<DriveStatus>,
    }
}

/// The ARM error body: `{"error": {"code", "message", "target"?, "details"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorBody,
}

wire_struct! {
    /// The inside of an ARM error body.
    pub struct ErrorBody {
        /// A stable code: the core error's `code()`, or `InvalidRequest` for a malformed request.
        code: String,
        /// What went wrong, naming the field or the rule.
        message: String,
        /// The field or resource concerned.
        target: String,
        /// More errors.
        details: Vec<ErrorBody>,
    }
}
