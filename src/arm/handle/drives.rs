//! A customer's `driveList`: the ids for the core, the manifest details and the keys apart.

use std::collections::BTreeMap;

use crate::arm::record::DriveDetails;
use crate::arm::request::{Refusal, invalid};
use crate::arm::types::DriveStatus;
use crate::model::name::DriveId;

/// A `driveList` as the customer gives it (on `PUT`, or on `PATCH` to replace it): the drive ids
/// for the core, the manifest details the record keeps, and the BitLocker keys, kept apart.
pub(super) type GivenDrives = (Vec<DriveId>, Vec<DriveDetails>, BTreeMap<DriveId, String>);

/// Reads a `driveList`, naming the drive that does not fit (`properties.driveList[1].driveId`).
/// Only the customer's own fields of a drive are kept; its state, copy status, logs and bytes
/// are the service's.
pub(super) fn given_drives(list: &[DriveStatus]) -> Result<GivenDrives, Refusal> {
    let (mut drives, mut details, mut keys) = (Vec::new(), Vec::new(), BTreeMap::new());
    for (i, drive) in list.iter().enumerate() {
        let Some(id) = drive.drive_id.as_deref() else {
            return Err(invalid(format!("properties.driveList[{i}].driveId: missing")));
        };
        let id =
            DriveId::parse(id).map_err(|e| invalid(format!("properties.driveList[{i}].driveId: {e}")))?;
        drives.push(id.clone());
        if let Some(key) = &drive.bit_locker_key {
            keys.insert(id.clone(), key.clone());
        }
        if drive.manifest_file.is_some() || drive.manifest_hash.is_some() || drive.drive_header_hash.is_some()
        {
            details.push(DriveDetails {
                drive_id: id,
                manifest_file: drive.manifest_file.clone(),
                manifest_hash: drive.manifest_hash.clone(),
                drive_header_hash: drive.drive_header_hash.clone(),
            });
        }
    }
    Ok((drives, details, keys))
}
