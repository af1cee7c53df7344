//! Text for a terminal, from values an org controls. Anyone who may create a connected app or a
//! profile chooses its name, so a name could carry ANSI/OSC escape sequences (recolour the
//! screen, set the window title, write a link) or a newline that forges a line of the report
//! (a fake `CRITICAL (0)` header). The table passes every such value through [`visible`].

use std::borrow::Cow;
use std::fmt::Write;

/// `s` with every control character shown as an escape instead of acting: `\n`, `\r`, `\t`,
/// `\x1b` for the other ASCII controls (and DEL), `\u{85}` above ASCII. The Unicode
/// direction overrides and isolates, and the line and paragraph separators, are shown the same
/// way, since they reorder or break what a reader sees. Other text is returned unchanged.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(acts) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if acts(c) && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if acts(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// True for a character that changes the terminal or the layout rather than printing.
fn acts(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(visible("Sales App"), "Sales App");
        assert_eq!(visible("Zürich → 東京"), "Zürich → 東京");
        assert_eq!(
            visible("a\u{1b}]0;owned\u{7}b"),
            "a\\x1b]0;owned\\x07b",
            "OSC title sequence"
        );
        assert_eq!(
            visible("app\n\nCRITICAL (0)\r\n"),
            "app\\n\\nCRITICAL (0)\\r\\n"
        );
        assert_eq!(visible("\u{7f}\u{85}\t"), "\\x7f\\u{85}\\t");
        assert_eq!(visible("abc\u{202e}fed"), "abc\\u{202e}fed");
    }
}
