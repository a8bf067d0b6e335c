//! Text from the backend, the cache or the disk is escaped before it reaches a terminal: a
//! control character (an ESC starting a sequence that clears the screen, a carriage return
//! that overwrites a line) or a bidirectional override would let an answer rewrite what the
//! user sees. They are shown as Rust escapes (`\u{1b}`), so nothing is lost to the reader.
//!
//! Every human output path calls this on the text it did not write itself; the colour codes
//! [`crate::style::Style`] adds come after. JSON output is escaped the JSON way instead
//! ([`crate::render::json_text`]): serde escapes C0 controls in strings, and the rest of what
//! is refused here (DEL, C1 controls such as the 8-bit CSI, bidirectional controls) is written
//! as `\u` escapes there, the same JSON value.

use std::borrow::Cow;

/// Whether `c` may reach a terminal as itself.
pub(crate) fn harmless(c: char) -> bool {
    !c.is_control() && !is_bidi_control(c)
}

/// The format characters that reorder text on screen (Unicode's bidirectional controls).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character (newlines included) and bidirectional control shown
/// as an escape; borrowed when there is none.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if text.chars().all(harmless) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if harmless(c) {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    Cow::Owned(out)
}

/// [`escape`] line by line: the newlines of a multi-line text are kept, everything else is
/// escaped.
pub(crate) fn escape_lines(text: &str) -> Cow<'_, str> {
    if text.chars().all(|c| c == '\n' || harmless(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.split('\n').map(escape).collect::<Vec<_>>().join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        let hostile = "\x1b[2J\x1b[Hpims: all good\r\u{9b}31m\u{202e}txt.exe\x07";
        let shown = escape(hostile);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert!(!shown.contains('\u{202e}'), "{shown}");
        assert!(shown.contains("\\u{1b}[2J"), "{shown}");
        assert!(shown.contains("\\r"), "{shown}");
    }

    #[test]
    fn plain_text_is_borrowed_and_unicode_kept() {
        assert!(matches!(escape("deviceActivation é ✓"), Cow::Borrowed(_)));
        assert_eq!(escape("a\nb"), "a\\nb");
    }

    #[test]
    fn lines_keep_their_newlines() {
        assert_eq!(
            escape_lines("{\n  \"a\": \"\x1b[2J\"\n}"),
            "{\n  \"a\": \"\\u{1b}[2J\"\n}"
        );
        assert!(matches!(escape_lines("a\nb\n"), Cow::Borrowed(_)));
    }
}
