//! How the ARM layer quotes a value it refuses: escaped as Rust escapes a string, and cut short,
//! so a hostile or huge value never makes a message unreadable or unbounded.

/// At most this many characters of a refused value are quoted in a message.
const QUOTED: usize = 40;

/// `text`, quoted for an error message: escaped, and cut after [`QUOTED`] characters, with
/// the full count said.
pub(crate) fn quote(text: &str) -> String {
    let count = text.chars().count();
    if count <= QUOTED {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(QUOTED).collect();
        format!("{head:?}… ({count} characters)")
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quote_escapes_and_cuts_long_values() {
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        let long = "x".repeat(41);
        assert_eq!(quote(&long), format!("{:?}… (41 characters)", "x".repeat(40)));
        assert_eq!(quote(&"x".repeat(40)), format!("{:?}", "x".repeat(40)));
    }
}
