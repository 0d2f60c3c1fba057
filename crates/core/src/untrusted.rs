//! Display of untrusted text. Strings that come from a QR payload, an MRZ, a serial line
//! or a file can hold terminal control sequences (ESC, CSI, OSC, C1 controls) and
//! bidirectional overrides; printed raw they could clear the screen, retitle the window
//! or draw a fake ACCEPT. Everything untrusted goes through [`printable`] before it
//! reaches a terminal, a log line or the kiosk screen. JSON output needs no escaping of
//! its own (serde_json escapes control characters), but may use this for consistency.

use std::borrow::Cow;

/// True for characters that a terminal interprets rather than shows, or that reorder
/// the text around them.
fn is_unsafe(c: char) -> bool {
    c.is_control() // C0, DEL and C1 (U+0080–U+009F)
        || matches!(c,
            '\u{200E}' | '\u{200F}'             // LRM, RLM
            | '\u{202A}'..='\u{202E}'           // LRE, RLE, PDF, LRO, RLO
            | '\u{2066}'..='\u{2069}'           // LRI, RLI, FSI, PDI
            | '\u{2028}' | '\u{2029}'           // line and paragraph separators
            | '\u{FEFF}'                        // zero-width no-break space / BOM
        )
}

/// `s` with every control or reordering character replaced by a visible `\u{…}` escape,
/// so the text is shown exactly as it is, never acted upon. Borrows when nothing needs
/// escaping (the common case).
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_executed() {
        let hostile = "ERIK\u{1b}[2J\u{1b}]0;ACCEPT\u{7}SSON\u{9b}31m";
        let shown = printable(hostile);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert_eq!(shown, "ERIK\\u{1b}[2J\\u{1b}]0;ACCEPT\\u{7}SSON\\u{9b}31m");
    }

    #[test]
    fn bidi_overrides_are_escaped() {
        assert_eq!(printable("AB\u{202E}CD"), "AB\\u{202e}CD");
        assert_eq!(printable("x\u{2066}y"), "x\\u{2066}y");
    }

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for s in ["ERIKSSON", "Эриксон Анна", "Ерiксон", ""] {
            assert!(matches!(printable(s), Cow::Borrowed(t) if t == s));
        }
    }
}
