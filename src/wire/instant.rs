//! Instants read from outside: RFC 3339, and nothing looser.
//!
//! Every instant the crate reads (a scenario's `at`, a stored job's `createdAt`, an event's
//! `at`, an ARM script line's `at`) is an RFC 3339 `date-time` in this profile:
//! `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with an upper-case `T` and `Z`, seconds always
//! written, and an offset of at most 23:59. ISO 8601's other forms (`20260101T000000Z`,
//! `2026-01-01T00Z`, `+0530`) and offsets with seconds are refused. A leap second (`:60`) is
//! refused with a message that says so: the model's time type counts none. An instant outside
//! the range the time type holds is refused naming that range.
//!
//! One extension, so that every instant the model holds can be written and read back: a year
//! before 0000 (down to the time type's first instant, in year -9999) is written as jiff writes
//! it, in ISO 8601's expanded form: a `-` and six digits (`-009999-01-02T01:59:59Z`); the rest
//! of the text follows the same profile.
//!
//! The grammar is checked by the `time` crate's RFC 3339 parser; this module adds the profile's
//! two restrictions that parser leaves open (the `T` separator, upper-case letters) and the
//! leap-second and range messages.

use jiff::Timestamp;

/// Reads `text` as an RFC 3339 instant of the profile above, or says what is wrong with it.
///
/// # Errors
///
/// A sentence saying why `text` is not an RFC 3339 instant of the profile this crate reads
/// (a leap second, a missing offset, a looser form).
pub fn parse(text: &str) -> Result<Timestamp, String> {
    use time::format_description::well_known::Rfc3339;
    let refuse = |why: &str| {
        Err(format!(
            "`{}` is not an RFC 3339 instant (YYYY-MM-DDTHH:MM:SS[.fraction] then Z or ±HH:MM): {why}",
            shorten(text)
        ))
    };
    let bytes = text.as_bytes();
    let out_of_range =
        || refuse(&format!("outside the supported range, {} to {}", Timestamp::MIN, Timestamp::MAX));
    // A year before 0000: `-YYYYYY`, then the profile; the year is checked apart, the rest with
    // a stand-in leap year (2000) so the grammar check does not depend on it.
    let expanded = bytes.first() == Some(&b'-')
        && bytes.len() > 7
        && bytes[1..7].iter().all(u8::is_ascii_digit)
        && bytes[7] == b'-';
    let rest = if expanded { format!("2000{}", &text[7..]) } else { text.to_string() };
    if expanded && &bytes[1..7] == b"000000" {
        return refuse("the year before 0001 is written 0000, not -000000");
    }
    if rest.get(16..19) == Some(":60") {
        return refuse("leap seconds (second 60) are not accepted: the model's clock counts none");
    }
    let parsed = match time::OffsetDateTime::parse(&rest, &Rfc3339) {
        Ok(parsed) => parsed,
        Err(e) => return refuse(&e.to_string()),
    };
    if rest.as_bytes().get(10) != Some(&b'T') {
        return refuse("the date and the time are separated by an upper-case `T`");
    }
    if bytes.last() == Some(&b'z') {
        return refuse("UTC is written with an upper-case `Z`");
    }
    if expanded {
        // The grammar holds; jiff reads the expanded year itself, and says if the day does not
        // exist in that year or the instant is before its range.
        return match text.parse::<Timestamp>() {
            Ok(at) => Ok(at),
            // Either the day does not exist in that year, or the instant is before the range:
            // asked of the date itself, not read from the wording of jiff's message.
            Err(_) => match expanded_date(text) {
                Some(Err(no_such_day)) => refuse(&no_such_day.to_string()),
                Some(Ok(_)) | None => out_of_range(),
            },
        };
    }
    Timestamp::from_nanosecond(parsed.unix_timestamp_nanos()).map_or_else(|_| out_of_range(), Ok)
}

/// The civil date of a text whose grammar holds and whose year is expanded (`-YYYYYY-MM-DD…`):
/// `None` for a year before the civil calendar's (-9999), else the date or why that day does not
/// exist in that year.
fn expanded_date(text: &str) -> Option<Result<jiff::civil::Date, jiff::Error>> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i16>().ok();
    let year = number(1..7)?.checked_neg()?;
    let (month, day) = (i8::try_from(number(8..10)?).ok()?, i8::try_from(number(11..13)?).ok()?);
    (year >= -9999).then(|| jiff::civil::Date::new(year, month, day))
}

/// At most 64 characters of an untrusted text, for quoting it in a message.
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(64).flat_map(char::escape_debug).collect();
    if text.chars().nth(64).is_some() {
        short.push('…');
    }
    short
}

/// Serde `with` module for an instant read from outside: written as jiff writes it (RFC 3339 in
/// UTC), read with [`parse`].
pub mod rfc3339 {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes the instant in RFC 3339, in UTC.
    pub fn serialize<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        at.serialize(serializer)
    }

    /// Reads an RFC 3339 instant of the crate's profile.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        super::parse(&text).map_err(serde::de::Error::custom)
    }

    /// The same, for an optional instant (`null` or absent is `None`).
    pub mod option {
        use jiff::Timestamp;
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        /// Writes the instant in RFC 3339, in UTC, or `null`.
        pub fn serialize<S: Serializer>(at: &Option<Timestamp>, serializer: S) -> Result<S::Ok, S::Error> {
            at.serialize(serializer)
        }

        /// Reads an optional RFC 3339 instant of the crate's profile.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Timestamp>, D::Error> {
            match <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)? {
                None => Ok(None),
                Some(text) => super::super::parse(&text).map(Some).map_err(serde::de::Error::custom),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn the_profile_is_read() {
        assert_eq!(parse("2026-01-01T00:00:00Z").unwrap().to_string(), "2026-01-01T00:00:00Z");
        assert_eq!(parse("2026-01-01T05:30:00+05:30").unwrap().to_string(), "2026-01-01T00:00:00Z");
        assert_eq!(parse("2026-01-01T00:00:00.5-01:00").unwrap().to_string(), "2026-01-01T01:00:00.5Z");
    }

    #[test]
    fn looser_forms_are_refused() {
        for text in [
            "20260101T000000Z",
            "2026-01-01T00Z",
            "2026-01-01T00:00Z",
            "2026-01-01T00:00:00+0530",
            "2026-01-01T00:00:00+25:59:59",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00+05:30:00",
            "2026-01-01 00:00:00Z",
            "2026-01-01X00:00:00Z",
            "2026-01-01t00:00:00Z",
            "2026-01-01T00:00:00z",
            "2026-01-01T00:00:00",
            "2026-02-30T00:00:00Z",
            "+2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z ",
            "",
        ] {
            assert!(parse(text).is_err(), "{text} was accepted");
        }
    }

    #[test]
    fn a_refusal_quotes_the_text_cut_at_64_characters() {
        let e = parse("soon").unwrap_err();
        assert!(e.starts_with("`soon` is not an RFC 3339 instant"), "{e}");
        let long = "9".repeat(100);
        let e = parse(&long).unwrap_err();
        assert!(e.starts_with(&format!("`{}…`", "9".repeat(64))), "{e}");
        // Control characters are shown escaped, never written raw into a message.
        assert!(parse("a\nb").unwrap_err().starts_with("`a\\nb`"));
    }

    #[test]
    fn leap_seconds_are_refused_by_name() {
        for text in ["2016-12-31T23:59:60Z", "2026-01-01T12:00:60Z"] {
            let e = parse(text).unwrap_err();
            assert!(e.contains("leap seconds"), "{e}");
        }
    }

    #[test]
    fn out_of_range_instants_name_the_range() {
        let e = parse("9999-12-31T23:59:59Z").unwrap_err();
        assert!(e.contains("supported range") && e.contains("9999-12-30T22:00:00.999999999Z"), "{e}");
        let e = parse("-009999-01-01T00:00:00Z").unwrap_err();
        assert!(e.contains("supported range"), "{e}");
        let at = parse("0000-01-01T00:00:00-23:59").unwrap();
        assert!(at.to_string().starts_with("0000-01-01"));
    }

    #[test]
    fn every_instant_the_model_holds_is_read_back() {
        use jiff::Timestamp;
        for at in [
            Timestamp::MIN,
            Timestamp::MAX,
            Timestamp::UNIX_EPOCH,
            "-000001-06-30T12:00:00.5Z".parse().unwrap(),
        ] {
            assert_eq!(parse(&at.to_string()), Ok(at));
        }
        for text in [
            "-000000-01-01T00:00:00Z",
            "-002026-02-30T00:00:00Z",
            "-002026-01-01 00:00:00Z",
            "+002026-01-01T00:00:00Z",
            // Cut short just after the expanded year's digits: refused, not read past the end.
            "-000001",
            "-00000",
        ] {
            assert!(parse(text).is_err(), "{text} was accepted");
        }
        // A day that year lacks (its grammar is checked in a leap year) is named by jiff, not
        // called out of range.
        let e = parse("-002026-02-29T00:00:00Z").unwrap_err();
        assert!(!e.contains("supported range") && e.contains("day"), "{e}");
    }
}
