//! Names chosen by the customer: the job's name and the drives' ids.
//!
//! Both are validated once, when they are made, so every `JobName` and `DriveId` in the model is
//! well formed. They are cheap to clone (a shared, immutable string), which lets events and
//! errors name a job without copying it.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Problem;

/// The most characters a job name or a drive id may have (decision, see `docs/spec.md`, R-INPUT-1).
pub const MAX_NAME_LEN: usize = 64;

/// Checks the shape shared by job names and drive ids: 1 to 64 ASCII letters, digits, `-`, `_`
/// or `.`.
fn check(text: &str, empty: Problem, too_long: Problem, bad: fn(char) -> Problem) -> Result<(), Problem> {
    if text.is_empty() {
        return Err(empty);
    }
    if text.len() > MAX_NAME_LEN {
        return Err(too_long);
    }
    match text.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        Some(c) => Err(bad(c)),
        None => Ok(()),
    }
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $empty:expr, $too_long:expr, $bad:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(Arc<str>);

        impl $ty {
            /// Validates `text` and makes the name, or says what is wrong with it.
            ///
            /// # Errors
            ///
            /// The [`Problem`] of a name that is empty, longer than [`MAX_NAME_LEN`] or holds a character
            /// other than ASCII letters, digits, `-`, `_` and `.` (R-INPUT-1).
            pub fn new(text: &str) -> Result<Self, Problem> {
                check(text, $empty, $too_long(text.len()), $bad)?;
                Ok(Self(Arc::from(text)))
            }

            /// The name as the customer wrote it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $ty {
            type Error = Problem;
            fn try_from(text: String) -> Result<Self, Problem> {
                Self::new(&text)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = Problem;
            fn try_from(text: &str) -> Result<Self, Problem> {
                Self::new(text)
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
    JobName,
    Problem::EmptyJobName,
    |len| Problem::JobNameTooLong { len },
    |character| Problem::JobNameCharacter { character }
);

name_type!(
    /// The id of a disk drive (`driveId`), usually its serial number.
    ///
    /// 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
    DriveId,
    Problem::EmptyDriveId,
    |len| Problem::DriveIdTooLong { len },
    |character| Problem::DriveIdCharacter { character }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_input_1_names_are_checked() {
        assert_eq!(JobName::new(""), Err(Problem::EmptyJobName));
        assert_eq!(JobName::new(&"a".repeat(65)), Err(Problem::JobNameTooLong { len: 65 }));
        assert!(JobName::new(&"a".repeat(64)).is_ok());
        assert_eq!(JobName::new("a b"), Err(Problem::JobNameCharacter { character: ' ' }));
        assert_eq!(DriveId::new("é"), Err(Problem::DriveIdCharacter { character: 'é' }));
        assert_eq!(DriveId::new(""), Err(Problem::EmptyDriveId));
        assert_eq!(JobName::new("job-1.a_B").unwrap().as_str(), "job-1.a_B");
    }

    #[test]
    fn r_input_1_names_are_checked_when_deserialized() {
        assert!(serde_json::from_str::<JobName>("\"\"").is_err());
        assert!(serde_json::from_str::<DriveId>("\"a b\"").is_err());
        let name: JobName = serde_json::from_str("\"job-1\"").unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"job-1\"");
    }
}
