//! Keyboard-wedge classification: what a USB HID scanner or MRZ reader types
//! into the terminal, one line at a time, turned into [`ScanEvent`]s. A line
//! with `KZV1:` or an AIM prefix is a code; two consecutive MRZ lines (or both
//! on one line separated by spaces) are an MRZ; a lone MRZ line waits for its
//! partner and becomes `MrzIncomplete` if something else comes; anything else
//! is a `Code` (the kiosk tells the officer it is not an e-visa).

use super::ScanEvent;
use super::framer::strip_aim;
use super::mrzlines::{
    MrzAssembler, MrzOutcome, is_mrz_charset, is_mrz_line, lines_needed, normalise,
};
use std::collections::VecDeque;

/// Pure line classifier for keyboard-wedge input.
#[derive(Debug, Clone)]
pub struct WedgeAssembler {
    source: String,
    mrz: MrzAssembler,
    queued: VecDeque<ScanEvent>,
}

impl WedgeAssembler {
    pub fn new(source: impl Into<String>) -> Self {
        WedgeAssembler {
            source: source.into(),
            mrz: MrzAssembler::new(),
            queued: VecDeque::new(),
        }
    }

    /// Feed one typed line (CR/LF may be present). Returns the next event;
    /// when one line yields two (an `MrzIncomplete` for a lone MRZ line, then
    /// the new line's own event) the second is kept for [`Self::next_event`].
    pub fn push_line(&mut self, line: &str) -> Option<ScanEvent> {
        let evs = self.classify(line);
        self.queued.extend(evs);
        self.queued.pop_front()
    }

    /// Events still queued from earlier lines.
    pub fn next_event(&mut self) -> Option<ScanEvent> {
        self.queued.pop_front()
    }

    /// All events a line produces (including queued ones), in order.
    pub fn push_line_all(&mut self, line: &str) -> Vec<ScanEvent> {
        let evs = self.classify(line);
        self.queued.extend(evs);
        self.queued.drain(..).collect()
    }

    /// Give up on a lone MRZ line (call on an idle timeout).
    pub fn flush(&mut self) -> Option<ScanEvent> {
        self.mrz.flush().map(|_| ScanEvent::MrzIncomplete {
            source: self.source.clone(),
        })
    }

    fn classify(&mut self, line: &str) -> Vec<ScanEvent> {
        let line = line.trim_matches(|c: char| c.is_control() || c == ' ');
        if line.is_empty() {
            return Vec::new();
        }
        let stripped = strip_aim(line);
        if stripped.len() != line.len() || stripped.starts_with("KZV1:") {
            let mut out: Vec<ScanEvent> = self.flush().into_iter().collect();
            out.push(ScanEvent::Code {
                source: self.source.clone(),
                text: stripped.to_string(),
            });
            return out;
        }
        // a whole document typed on one line, lines separated by spaces
        let parts: Vec<String> = line
            .split(' ')
            .filter(|p| !p.is_empty())
            .map(normalise)
            .collect();
        if parts.len() > 1
            && is_mrz_line(&parts[0])
            && parts
                .iter()
                .all(|p| is_mrz_charset(p) && p.len() == parts[0].len())
            && parts.len() == lines_needed(parts[0].len())
        {
            let mut out: Vec<ScanEvent> = self.flush().into_iter().collect();
            out.push(ScanEvent::Mrz {
                source: self.source.clone(),
                text: parts.join("\n"),
            });
            return out;
        }
        self.mrz
            .push_line(line)
            .into_iter()
            .map(|o| match o {
                MrzOutcome::Mrz(text) => ScanEvent::Mrz {
                    source: self.source.clone(),
                    text,
                },
                MrzOutcome::Incomplete => ScanEvent::MrzIncomplete {
                    source: self.source.clone(),
                },
                MrzOutcome::Other(text) => ScanEvent::Code {
                    source: self.source.clone(),
                    text,
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    const L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";

    fn code(t: &str) -> ScanEvent {
        ScanEvent::Code {
            source: "kbd".into(),
            text: t.into(),
        }
    }

    #[test]
    fn codes() {
        let mut w = WedgeAssembler::new("kbd");
        assert_eq!(w.push_line("KZV1:ABC\r\n"), Some(code("KZV1:ABC")));
        assert_eq!(w.push_line("]Q1KZV1:ABC"), Some(code("KZV1:ABC")));
        assert_eq!(w.push_line("hello world"), Some(code("hello world")));
        assert_eq!(w.push_line("   "), None);
    }

    #[test]
    fn mrz_two_lines_and_one_line() {
        let mut w = WedgeAssembler::new("kbd");
        let mrz = ScanEvent::Mrz {
            source: "kbd".into(),
            text: format!("{L1}\n{L2}"),
        };
        assert_eq!(w.push_line(L1), None);
        assert_eq!(w.push_line(L2), Some(mrz.clone()));
        assert_eq!(w.push_line(&format!("{L1} {L2}")), Some(mrz));
    }

    #[test]
    fn lone_mrz_line_then_code() {
        let mut w = WedgeAssembler::new("kbd");
        assert_eq!(w.push_line(L1), None);
        assert_eq!(
            w.push_line("KZV1:X"),
            Some(ScanEvent::MrzIncomplete {
                source: "kbd".into()
            })
        );
        assert_eq!(w.next_event(), Some(code("KZV1:X")));
        assert_eq!(w.next_event(), None);
        assert_eq!(w.push_line(L2), None);
        assert_eq!(
            w.flush(),
            Some(ScanEvent::MrzIncomplete {
                source: "kbd".into()
            })
        );
    }
}
