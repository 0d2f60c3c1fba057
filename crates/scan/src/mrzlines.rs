//! Recognising and assembling machine-readable-zone lines as readers deliver
//! them (not parsing them: that is the `mrz` module's job). Normalisation:
//! surrounding whitespace is trimmed and `_` — which some readers send for the
//! filler — becomes `<` (`_` never occurs in an MRZ, so this loses nothing);
//! lower case is *not* folded, so ordinary text is not mistaken for an MRZ.

/// Normalise one line as a reader delivered it.
pub fn normalise(line: &str) -> String {
    line.trim().replace('_', "<")
}

/// Does this (normalised) line look like one MRZ line: 30 (TD1), 36 (TD2) or
/// 44 (TD3) characters of `A–Z 0–9 <`, with at least one filler?
pub fn is_mrz_line(line: &str) -> bool {
    is_mrz_charset(line) && line.contains('<')
}

/// Right length and alphabet only: enough for a line after the first (a TD3
/// second line with a full personal-number field has no filler at all).
pub fn is_mrz_charset(line: &str) -> bool {
    matches!(line.len(), 30 | 36 | 44)
        && line
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'<')
}

/// Lines a document of this line length has (TD1: 3, TD2/TD3: 2).
pub fn lines_needed(len: usize) -> usize {
    if len == 30 { 3 } else { 2 }
}

/// What the assembler makes of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MrzOutcome {
    /// A complete document, lines joined with `'\n'`.
    Mrz(String),
    /// Part of a document arrived, then something else or nothing.
    Incomplete,
    /// A line that is not MRZ-like (returned unchanged).
    Other(String),
}

/// Groups consecutive MRZ lines into documents.
#[derive(Debug, Default, Clone)]
pub struct MrzAssembler {
    pending: Vec<String>,
}

impl MrzAssembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Lines of a document still waiting for the rest.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// One plain line.
    pub fn push_line(&mut self, line: &str) -> Vec<MrzOutcome> {
        let mut out = Vec::new();
        let n = normalise(line);
        let continues =
            self.pending.first().is_some_and(|p| p.len() == n.len()) && is_mrz_charset(&n);
        if continues || is_mrz_line(&n) {
            if self.pending.first().is_some_and(|p| p.len() != n.len()) {
                self.pending.clear();
                out.push(MrzOutcome::Incomplete);
            }
            self.pending.push(n);
            if self.pending.len() == lines_needed(self.pending[0].len()) {
                out.push(MrzOutcome::Mrz(self.pending.join("\n")));
                self.pending.clear();
            }
        } else {
            if let Some(o) = self.flush() {
                out.push(o);
            }
            out.push(MrzOutcome::Other(line.to_string()));
        }
        out
    }

    /// A whole block (STX … ETX): complete, incomplete or not an MRZ.
    pub fn push_block(&mut self, lines: &[String]) -> Vec<MrzOutcome> {
        let mut out: Vec<MrzOutcome> = self.flush().into_iter().collect();
        let norm: Vec<String> = lines
            .iter()
            .map(|l| normalise(l))
            .filter(|l| !l.is_empty())
            .collect();
        let mrz: Vec<&String> = match norm.iter().position(|l| is_mrz_line(l)) {
            Some(first) => norm[first..].iter().filter(|l| is_mrz_charset(l)).collect(),
            None => Vec::new(),
        };
        if mrz.is_empty() {
            out.extend(lines.iter().map(|l| MrzOutcome::Other(l.clone())));
        } else if mrz.len() == lines_needed(mrz[0].len())
            && mrz.iter().all(|l| l.len() == mrz[0].len())
        {
            out.push(MrzOutcome::Mrz(
                mrz.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ));
        } else {
            out.push(MrzOutcome::Incomplete);
        }
        out
    }

    /// Give up on a partial document (inter-line timeout).
    pub fn flush(&mut self) -> Option<MrzOutcome> {
        if self.pending.is_empty() {
            None
        } else {
            self.pending.clear();
            Some(MrzOutcome::Incomplete)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const TD3: [&str; 2] = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    pub const TD1: [&str; 3] = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];

    #[test]
    fn td3_and_td1_assemble() {
        let mut a = MrzAssembler::new();
        assert!(a.push_line(TD3[0]).is_empty());
        assert_eq!(a.push_line(TD3[1]), vec![MrzOutcome::Mrz(TD3.join("\n"))]);
        assert!(a.push_line(TD1[0]).is_empty());
        assert!(a.push_line(TD1[1]).is_empty());
        assert_eq!(a.push_line(TD1[2]), vec![MrzOutcome::Mrz(TD1.join("\n"))]);
    }

    #[test]
    fn lone_line_then_other_is_incomplete() {
        let mut a = MrzAssembler::new();
        assert!(a.push_line(TD3[0]).is_empty());
        assert_eq!(
            a.push_line("hello"),
            vec![MrzOutcome::Incomplete, MrzOutcome::Other("hello".into())]
        );
        assert!(a.push_line(TD3[0]).is_empty());
        assert_eq!(a.flush(), Some(MrzOutcome::Incomplete));
        assert_eq!(a.flush(), None);
    }

    #[test]
    fn underscore_padding_becomes_filler() {
        let mut a = MrzAssembler::new();
        let l0 = TD3[0].replace('<', "_");
        assert!(a.push_line(&l0).is_empty());
        assert_eq!(a.push_line(TD3[1]), vec![MrzOutcome::Mrz(TD3.join("\n"))]);
    }

    #[test]
    fn second_line_without_filler() {
        let mut a = MrzAssembler::new();
        let l2 = "L898902C36UTO7408122F1204159ZE184226B1234510";
        assert!(a.push_line(TD3[0]).is_empty());
        assert_eq!(
            a.push_line(l2),
            vec![MrzOutcome::Mrz(format!("{}\n{l2}", TD3[0]))]
        );
        // but such a line alone is not taken for an MRZ
        assert_eq!(a.push_line(l2), vec![MrzOutcome::Other(l2.into())]);
    }

    #[test]
    fn blocks() {
        let mut a = MrzAssembler::new();
        let b: Vec<String> = TD3.iter().map(|s| s.to_string()).collect();
        assert_eq!(a.push_block(&b), vec![MrzOutcome::Mrz(TD3.join("\n"))]);
        assert_eq!(a.push_block(&b[..1]), vec![MrzOutcome::Incomplete]);
    }
}
