//! The keyboard wedge: a USB scanner or passport reader "types" a whole code and
//! Enter. This module turns one finished line into a [`ScanEvent`], and pairs the two
//! typed MRZ lines of a passport. (To be replaced by `scan::WedgeAssembler`, which has
//! the same `push_line` interface, when the scanning branch is merged.)

use crate::config::KEYBOARD;
use crate::mrz::TD3_LINE;
use crate::scan::ScanEvent;

/// True for one TD3 MRZ line: 44 characters of `A-Z`, `0-9` and `<`.
pub fn is_mrz_line(s: &str) -> bool {
    s.len() == TD3_LINE
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'<')
}

/// Classifies one complete line typed by a wedge device:
/// - `KZV1:…`, or an AIM prefix `]Q1`…`]Q6` (stripped): a [`ScanEvent::Code`];
/// - both TD3 lines on one line, separated by a space: a [`ScanEvent::Mrz`];
/// - a single 44-character MRZ line: `None` — half an MRZ, see [`Wedge`];
/// - an empty line: `None`;
/// - any other text: a `Code` (the kiosk then says it is not an e-visa).
pub fn classify_wedge_line(line: &str) -> Option<ScanEvent> {
    let line = line.trim_matches(['\r', '\n']);
    let code = |text: &str| {
        Some(ScanEvent::Code {
            source: KEYBOARD.into(),
            text: text.to_string(),
        })
    };
    if let [b']', b'Q', b'1'..=b'6', ..] = line.as_bytes() {
        return code(&line[3..]);
    }
    if line.starts_with("KZV1:") {
        return code(line);
    }
    let trimmed = line.trim();
    if trimmed.is_empty() || is_mrz_line(trimmed) {
        return None;
    }
    if let Some((a, b)) = trimmed.split_once(' ')
        && is_mrz_line(a)
        && is_mrz_line(b.trim())
    {
        return Some(ScanEvent::Mrz {
            source: KEYBOARD.into(),
            text: format!("{a}\n{}", b.trim()),
        });
    }
    code(line)
}

/// Joins wedge lines into events, holding the first MRZ line until its partner comes.
/// Its methods mirror `scan::WedgeAssembler` (`new`, `push_line`, `next_event`,
/// `flush`), so the kiosk switches to that one by changing the type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wedge {
    source: String,
    half: Option<String>,
}

impl Wedge {
    pub fn new(source: impl Into<String>) -> Self {
        Wedge {
            source: source.into(),
            half: None,
        }
    }

    /// One typed line (CR/LF may be present) → the event it completes, if any.
    pub fn push_line(&mut self, line: &str) -> Option<ScanEvent> {
        let trimmed = line.trim();
        if is_mrz_line(trimmed) {
            return match self.half.take() {
                Some(first) => Some(ScanEvent::Mrz {
                    source: self.source.clone(),
                    text: format!("{first}\n{trimmed}"),
                }),
                None => {
                    self.half = Some(trimmed.to_string());
                    None
                }
            };
        }
        classify_wedge_line(line)
    }

    /// True while the first MRZ line waits for the second.
    pub fn has_half(&self) -> bool {
        self.half.is_some()
    }

    /// Events left over from earlier lines (this assembler never queues any).
    pub fn next_event(&mut self) -> Option<ScanEvent> {
        None
    }

    /// Gives up on a waiting half (time-out, Esc, next traveller).
    pub fn flush(&mut self) -> Option<ScanEvent> {
        self.half.take().map(|_| ScanEvent::MrzIncomplete {
            source: self.source.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    const L2: &str = "L898902C36UTO7408122F3104150ZE184226B<<<<<16";

    fn code(t: &str) -> Option<ScanEvent> {
        Some(ScanEvent::Code {
            source: "keyboard".into(),
            text: t.into(),
        })
    }

    #[test]
    fn classifies_lines() {
        assert_eq!(classify_wedge_line("KZV1:ABC"), code("KZV1:ABC"));
        assert_eq!(classify_wedge_line("]Q3KZV1:ABC\r"), code("KZV1:ABC"));
        assert_eq!(
            classify_wedge_line("https://example.org/x"),
            code("https://example.org/x")
        );
        assert_eq!(classify_wedge_line(L1), None);
        assert_eq!(classify_wedge_line("   "), None);
        assert_eq!(
            classify_wedge_line(&format!("{L1} {L2}")),
            Some(ScanEvent::Mrz {
                source: "keyboard".into(),
                text: format!("{L1}\n{L2}")
            })
        );
    }

    #[test]
    fn pairs_two_mrz_lines_and_clears() {
        let mut w = Wedge::new("keyboard");
        assert_eq!(w.push_line(L1), None);
        assert!(w.has_half());
        assert_eq!(
            w.push_line(L2),
            Some(ScanEvent::Mrz {
                source: "keyboard".into(),
                text: format!("{L1}\n{L2}")
            })
        );
        assert!(!w.has_half());
        w.push_line(L1);
        assert!(w.flush().is_some());
        assert_eq!(w.push_line(L2), None, "a cleared half never pairs");
        // A QR between the two lines does not disturb the pair.
        assert_eq!(w.push_line("KZV1:X"), code("KZV1:X"));
        assert!(w.has_half());
    }
}
