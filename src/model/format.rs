//! The version of a stored form: the number a record carries so that a reader never misreads
//! a record written by another version of the crate.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The format version of the stored forms this crate writes: a `Job`'s JSON, a `Registry`'s
/// and, with the `arm` feature, an ARM record's. A record carries it as its first field,
/// `"formatVersion": 2`. A reader reads every version from 1 to this one and refuses any other
/// number (see `docs/formats.md`, which says what each version changed).
pub const FORMAT_VERSION: u32 = 2;

/// The oldest format version this crate still reads.
pub(crate) const OLDEST_FORMAT_VERSION: u32 = 1;

/// The `formatVersion` field of a stored form: it takes no memory, writes [`FORMAT_VERSION`]
/// and, when read, accepts every version this crate reads, with an error naming the number and
/// the versions it knows otherwise.
///
/// It is written first, so a reader meets it before any field another version may have added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FormatVersion;

impl Serialize for FormatVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(FORMAT_VERSION)
    }
}

impl<'de> Deserialize<'de> for FormatVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ReadVersion::deserialize(deserializer).map(|_| FormatVersion)
    }
}

/// The version a record was written in, for the readers of the forms that changed between
/// versions (an ARM record of version 1 kept the delivery package beside the job).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadVersion(pub(crate) u32);

/// Whether this crate reads records of format version `found`.
pub(crate) fn is_known(found: u64) -> bool {
    (u64::from(OLDEST_FORMAT_VERSION)..=u64::from(FORMAT_VERSION)).contains(&found)
}

/// The sentence that refuses a record of format version `found`.
pub(crate) fn unsupported(found: impl fmt::Display) -> String {
    format!(
        "unsupported format version {found}: this reader knows versions {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}"
    )
}

impl<'de> Deserialize<'de> for ReadVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Expect;
        impl Visitor<'_> for Expect {
            type Value = ReadVersion;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a format version from {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ReadVersion, E> {
                match u32::try_from(v) {
                    Ok(version) if is_known(v) => Ok(ReadVersion(version)),
                    Ok(_) | Err(_) => Err(E::custom(unsupported(v))),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ReadVersion, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(unsupported(v))),
                }
            }
        }
        deserializer.deserialize_u32(Expect)
    }
}
