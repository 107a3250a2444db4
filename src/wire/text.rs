//! Text from outside, made safe to show: a title, a name or a quoted value in an error message
//! reaches a terminal with every control character escaped.

use std::borrow::Cow;

/// `text` with every control character (C0, DEL, C1) and every character that reorders the text
/// around it (the bidirectional marks, embeddings, overrides and isolates) written as an escape
/// (`\n`, `\u{1b}`), so it cannot move the cursor, recolour a terminal, start a line of its own
/// or hide what follows. Any other text comes back unchanged, without a copy.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::escape_control;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_control("plain — é"), "plain — é");
        assert_eq!(escape_control("a\nb"), "a\\nb");
        assert_eq!(escape_control("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(escape_control("\u{9b}\u{7f}\u{202e}"), "\\u{9b}\\u{7f}\\u{202e}");
    }
}
