//! R-INPUT-1 for names: what makes a job name or a drive id well formed, and the [`Problem`]
//! each malformed one gives. Every [`JobName`] and [`DriveId`] is made here (or deserialized
//! through here), so every one in the model is well formed.

use crate::model::error::Problem;
use crate::model::name::{DriveId, JobName, MAX_NAME_LEN};

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

macro_rules! checked_name {
    ($ty:ident, $empty:expr, $too_long:expr, $bad:expr) => {
        impl $ty {
            /// Validates `text` and makes the name, or says what is wrong with it.
            ///
            /// # Errors
            ///
            /// The [`Problem`] of a name that is empty, longer than [`MAX_NAME_LEN`] or holds a character
            /// other than ASCII letters, digits, `-`, `_` and `.` (R-INPUT-1).
            pub fn new(text: &str) -> Result<Self, Problem> {
                check(text, $empty, $too_long(text.len()), $bad)?;
                Ok(Self::checked(text))
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
    };
}

checked_name!(JobName, Problem::EmptyJobName, |len| Problem::JobNameTooLong { len }, |character| {
    Problem::JobNameCharacter { character }
});

checked_name!(DriveId, Problem::EmptyDriveId, |len| Problem::DriveIdTooLong { len }, |character| {
    Problem::DriveIdCharacter { character }
});

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
