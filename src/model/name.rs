//! Names chosen by the customer: the job's name and the drives' ids.
//!
//! Both are validated once, when they are made, so every `JobName` and `DriveId` in the model is
//! well formed. They are cheap to clone (a shared, immutable string), which lets events and
//! errors name a job without copying it.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// The most characters a job name or a drive id may have (decision, see `docs/spec.md`, R-INPUT-1).
pub const MAX_NAME_LEN: usize = 64;

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(into = "String")]
        pub struct $ty(Arc<str>);

        impl $ty {
            /// The name as the customer wrote it.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Makes the name from text [`naming`](crate::model::naming) has checked.
            pub(crate) fn checked(text: &str) -> Self {
                Self(Arc::from(text))
            }
        }

        impl From<$ty> for String {
            fn from(name: $ty) -> String {
                name.0.to_string()
            }
        }

        impl Borrow<str> for $ty {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }
    };
}

name_type!(
    /// The name of an Import/Export job (`jobName` in the ARM path, `name` in the resource).
    ///
    /// 1 to 64 ASCII letters, digits, `-`, `_` or `.`. The service keys jobs by this name within
    /// a resource group; the model keys a [`Registry`](crate::Registry) by it.
    JobName
);

name_type!(
    /// The id of a disk drive (`driveId`), usually its serial number.
    ///
    /// 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
    DriveId
);
