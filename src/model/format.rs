//! The version of a stored form: the number a record carries so that a reader never misreads
//! a record written by another version of the crate.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The format version of the stored forms this crate writes and reads: a `Job`'s JSON, a
/// `Registry`'s and, with the `arm` feature, an ARM record's. A record carries it as its first
/// field, `"formatVersion": 1`; a reader refuses any other number (see `docs/formats.md`).
pub const FORMAT_VERSION: u32 = 1;

/// The `formatVersion` field of a stored form: it takes no memory, writes [`FORMAT_VERSION`]
/// and, when read, accepts that number only, with an error naming both numbers otherwise.
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
        struct Expect;
        impl Visitor<'_> for Expect {
            type Value = FormatVersion;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "format version {FORMAT_VERSION}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FormatVersion, E> {
                if v == u64::from(FORMAT_VERSION) {
                    Ok(FormatVersion)
                } else {
                    Err(E::custom(format_args!(
                        "unsupported format version {v}: this reader knows version {FORMAT_VERSION} only"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FormatVersion, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format_args!(
                        "unsupported format version {v}: this reader knows version {FORMAT_VERSION} only"
                    ))),
                }
            }
        }
        deserializer.deserialize_u32(Expect)
    }
}
