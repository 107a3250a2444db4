//! The fields a customer may change with *Update Job*, besides `cancelRequested` and `state`
//! (those are [`Command::Cancel`](crate::Command::Cancel) and
//! [`Command::Ship`](crate::Command::Ship)).

use serde::{Deserialize, Serialize};
use strum::{Display, EnumCount, EnumIter, IntoStaticStr};

/// One field of the *Update Job* body, spelled as the REST specification spells it.
///
/// The core does not hold the fields' values (a return address, a log level): a host keeps them.
/// It decides which field may change in which state (R-UPDATE-1 to R-UPDATE-5), and holds the
/// one value it needs, the drive list.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumIter,
    EnumCount,
    IntoStaticStr,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum UpdateField {
    /// Where the drives go back to (R-UPDATE-1).
    ReturnAddress,
    /// The carrier and account the drives go back with (R-UPDATE-1).
    ReturnShipping,
    /// The carrier and tracking number of the package the customer sends (R-UPDATE-2).
    DeliveryPackage,
    /// How much the copy logs (R-UPDATE-3).
    LogLevel,
    /// Whether the service keeps a copy of the drive manifests (R-UPDATE-3).
    BackupDriveManifest,
    /// An import job's drives (R-UPDATE-4): the new list replaces the old one.
    DriveList,
    /// The resource's tags (R-UPDATE-5).
    Tags,
}
