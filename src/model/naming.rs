//! R-INPUT-1 for names: what makes a job name or a drive id well formed, and the [`Problem`]
//! each malformed one gives. Every [`JobName`] and [`DriveId`] is made here (or deserialized
//! through here), so every one in the model is well formed.

use serde::{Deserialize, Deserializer};

use crate::model::error::{Error, Operation, Problem};
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

/// Reads a name from any string a format gives, borrowed or not, without copying it first.
struct NameVisitor<T>(fn(&str) -> Result<T, Problem>);

impl<T> serde::de::Visitor<'_> for NameVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a name of 1 to 64 ASCII letters, digits, '-', '_' or '.'")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
        (self.0)(text).map_err(E::custom)
    }
}

macro_rules! checked_name {
    ($ty:ident, $empty:expr, $too_long:expr, $bad:expr) => {
        impl $ty {
            /// Validates `text` and makes the name, or says why it is refused.
            ///
            /// # Errors
            ///
            /// [`Error::InvalidRequest`] with [`Operation::Name`] and the [`Problem`] of a name
            /// that is empty, longer than [`MAX_NAME_LEN`] or holds a character other than ASCII
            /// letters, digits, `-`, `_` and `.` (R-INPUT-1). Its [`Error::kind`] is
            /// [`ErrorKind::BadRequest`](crate::ErrorKind::BadRequest).
            pub fn new(text: &str) -> Result<Self, Error> {
                Self::parse(text)
                    .map_err(|problem| Error::InvalidRequest { operation: Operation::Name, problem })
            }

            /// Validates `text` and makes the name, or gives the bare [`Problem`], for callers
            /// that place it in a refusal of their own (a path segment, a field of a body).
            pub(crate) fn parse(text: &str) -> Result<Self, Problem> {
                check(text, $empty, $too_long(text.len()), $bad)?;
                Ok(Self::checked(text))
            }
        }

        impl TryFrom<String> for $ty {
            type Error = Error;
            fn try_from(text: String) -> Result<Self, Error> {
                Self::new(&text)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = Error;
            fn try_from(text: &str) -> Result<Self, Error> {
                Self::new(text)
            }
        }

        /// A name read from JSON is checked as [`new`](Self::new) checks it; a malformed one is
        /// refused with the [`Problem`]'s sentence at its place in the document.
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(NameVisitor($ty::parse))
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
        assert_eq!(JobName::parse(""), Err(Problem::EmptyJobName));
        assert_eq!(JobName::parse(&"a".repeat(65)), Err(Problem::JobNameTooLong { len: 65 }));
        assert!(JobName::parse(&"a".repeat(64)).is_ok());
        assert_eq!(JobName::parse("a b"), Err(Problem::JobNameCharacter { character: ' ' }));
        assert_eq!(DriveId::parse("é"), Err(Problem::DriveIdCharacter { character: 'é' }));
        assert_eq!(DriveId::parse(""), Err(Problem::EmptyDriveId));
        assert_eq!(JobName::new("job-1.a_B").unwrap().as_str(), "job-1.a_B");
    }

    #[test]
    fn r_input_1_names_are_checked_when_deserialized() {
        assert!(serde_json::from_str::<JobName>("\"\"").is_err());
        assert!(serde_json::from_str::<DriveId>("\"a b\"").is_err());
        // Not a string at all: the message says what a name is.
        let number = serde_json::from_str::<JobName>("5").unwrap_err().to_string();
        assert!(number.contains("expected a name of 1 to 64 ASCII letters"), "{number}");
        let name: JobName = serde_json::from_str("\"job-1\"").unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"job-1\"");
    }
}
