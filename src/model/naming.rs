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

/// Reads a name from any string a format gives, borrowed or not, without copying it first,
/// or from bytes that are UTF-8 (as binary formats give strings).
struct NameVisitor<T> {
    /// What the name is, for the message about a value that is not a string: "a job name".
    what: &'static str,
    parse: fn(&str) -> Result<T, Problem>,
}

impl<T> serde::de::Visitor<'_> for NameVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: a string of 1 to {MAX_NAME_LEN} ASCII letters, digits, '-', '_' or '.'", self.what)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
        (self.parse)(text).map_err(E::custom)
    }

    fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<T, E> {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.visit_str(text),
            Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(bytes), &self)),
        }
    }
}

macro_rules! checked_name {
    ($ty:ident, $what:literal, $empty:expr, $too_long:expr, $bad:expr) => {
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
                deserializer.deserialize_str(NameVisitor { what: $what, parse: $ty::parse })
            }
        }
    };
}

checked_name!(
    JobName,
    "a job name",
    Problem::EmptyJobName,
    |len| Problem::JobNameTooLong { len },
    |character| { Problem::JobNameCharacter { character } }
);

checked_name!(
    DriveId,
    "a drive id",
    Problem::EmptyDriveId,
    |len| Problem::DriveIdTooLong { len },
    |character| { Problem::DriveIdCharacter { character } }
);

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
        assert!(number.contains("expected a job name: a string of 1 to 64 ASCII letters"), "{number}");
        // Bytes, as binary formats give strings: read when they are UTF-8.
        use serde::de::value::{BytesDeserializer, Error as ValueError};
        let bytes = |b: &'static [u8]| JobName::deserialize(BytesDeserializer::<ValueError>::new(b));
        assert_eq!(bytes(b"job-1").unwrap().as_str(), "job-1");
        assert!(bytes(b"job 1").unwrap_err().to_string().contains("holds ' '"));
        assert!(bytes(b"\xff").is_err());
        let id = serde_json::from_str::<DriveId>("[]").unwrap_err().to_string();
        assert!(id.contains("expected a drive id: a string of 1 to 64"), "{id}");
        let name: JobName = serde_json::from_str("\"job-1\"").unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"job-1\"");
    }
}
