//! Byte-stream framing for serial devices, pure and fuzzable: [`LineFramer`]
//! assembles CR, LF or CRLF terminated lines across arbitrary chunk
//! boundaries (dropping over-long or non-UTF-8 lines), [`MrzFramer`] adds
//! STX (0x02) … ETX (0x03) blocks as DESKO-style MRZ readers send them, and
//! [`strip_aim`] removes an AIM symbology identifier (`]Q1`, `]d2`, …).

/// Longest line accepted, in bytes; longer ones are dropped whole.
pub const MAX_LINE: usize = 8 * 1024;

/// Why a line was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// More than [`MAX_LINE`] bytes before the terminator.
    #[error("line longer than {max} bytes dropped", max = MAX_LINE)]
    TooLong,
    /// The line is not valid UTF-8.
    #[error("line of {len} bytes is not valid UTF-8, dropped")]
    InvalidUtf8 { len: usize },
}

/// Feed bytes in, get complete lines out. Empty lines are skipped.
#[derive(Debug, Default, Clone)]
pub struct LineFramer {
    buf: Vec<u8>,
    overlong: bool,
    /// The previous chunk ended in CR: a leading LF belongs to it.
    after_cr: bool,
}

impl LineFramer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed a chunk; returns the lines it completed, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<String, FrameError>> {
        let mut out = Vec::new();
        for &b in bytes {
            self.push_byte(b, &mut out);
        }
        out
    }

    fn push_byte(&mut self, b: u8, out: &mut Vec<Result<String, FrameError>>) {
        let after_cr = std::mem::replace(&mut self.after_cr, false);
        match b {
            b'\n' if after_cr => {}
            b'\r' | b'\n' => {
                self.after_cr = b == b'\r';
                if let Some(r) = self.finish() {
                    out.push(r);
                }
            }
            _ => {
                if self.overlong {
                    return;
                }
                if self.buf.len() >= MAX_LINE {
                    self.overlong = true;
                    self.buf.clear();
                    return;
                }
                self.buf.push(b);
            }
        }
    }

    fn finish(&mut self) -> Option<Result<String, FrameError>> {
        if std::mem::replace(&mut self.overlong, false) {
            self.buf.clear();
            return Some(Err(FrameError::TooLong));
        }
        if self.buf.is_empty() {
            return None;
        }
        let bytes = std::mem::take(&mut self.buf);
        let len = bytes.len();
        match String::from_utf8(bytes) {
            Ok(s) => {
                let t = s.trim_matches(|c: char| c.is_control() || c == ' ');
                if t.is_empty() {
                    None
                } else {
                    Some(Ok(t.to_string()))
                }
            }
            Err(_) => Some(Err(FrameError::InvalidUtf8 { len })),
        }
    }

    /// Bytes waiting for a terminator.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Remove an AIM symbology identifier: `]` followed by two ASCII alphanumerics
/// (`]Q1` … `]Q6` for QR, `]d2`, `]C0`, …).
pub fn strip_aim(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 3 && b[0] == b']' && b[1].is_ascii_alphanumeric() && b[2].is_ascii_alphanumeric()
    {
        &s[3..]
    } else {
        s
    }
}

/// What an MRZ reader's byte stream contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MrzFrame {
    /// A plain CR/LF-terminated line.
    Line(String),
    /// The lines of one STX … ETX block.
    Block(Vec<String>),
    /// Something dropped (with the reason).
    Dropped(FrameError),
}

const STX: u8 = 0x02;
const ETX: u8 = 0x03;

/// Framing for serial MRZ readers: STX … ETX blocks and plain lines.
#[derive(Debug, Default, Clone)]
pub struct MrzFramer {
    lines: LineFramer,
    block: Option<Vec<u8>>,
    block_overlong: bool,
}

impl MrzFramer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, bytes: &[u8]) -> Vec<MrzFrame> {
        let mut out = Vec::new();
        for &b in bytes {
            match (b, self.block.as_mut()) {
                (STX, _) => {
                    // a new block starts (an unterminated one is discarded)
                    self.block = Some(Vec::new());
                    self.block_overlong = false;
                    self.lines = LineFramer::new();
                }
                (ETX, Some(_)) => {
                    let data = self.block.take().unwrap_or_default();
                    if std::mem::replace(&mut self.block_overlong, false) {
                        out.push(MrzFrame::Dropped(FrameError::TooLong));
                        continue;
                    }
                    let mut lf = LineFramer::new();
                    let mut lines = Vec::new();
                    for r in lf.push(&data).into_iter().chain(lf.push(b"\n")) {
                        match r {
                            Ok(l) => lines.push(l),
                            Err(e) => out.push(MrzFrame::Dropped(e)),
                        }
                    }
                    if !lines.is_empty() {
                        out.push(MrzFrame::Block(lines));
                    }
                }
                (_, Some(block)) => {
                    if block.len() >= MAX_LINE {
                        self.block_overlong = true;
                    } else {
                        block.push(b);
                    }
                }
                (_, None) => {
                    for r in self.lines.push(&[b]) {
                        out.push(match r {
                            Ok(l) => MrzFrame::Line(l),
                            Err(e) => MrzFrame::Dropped(e),
                        });
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: Vec<Result<String, FrameError>>) -> Vec<String> {
        v.into_iter().map(|r| r.expect("line")).collect()
    }

    #[test]
    fn crlf_split_across_chunks_is_one_terminator() {
        let mut f = LineFramer::new();
        assert!(f.push(b"KZV1:AB").is_empty());
        assert_eq!(ok(f.push(b"C\r")), vec!["KZV1:ABC"]);
        assert!(f.push(b"\nNEXT").is_empty());
        assert_eq!(ok(f.push(b"\n")), vec!["NEXT"]);
    }

    #[test]
    fn every_split_point_gives_the_same_lines() {
        let data = b"]Q1KZV1:ONE\r\nTWO\nTHREE\r";
        for cut in 0..data.len() {
            let mut f = LineFramer::new();
            let mut got = ok(f.push(&data[..cut]));
            got.extend(ok(f.push(&data[cut..])));
            assert_eq!(got, vec!["]Q1KZV1:ONE", "TWO", "THREE"], "cut at {cut}");
        }
    }

    #[test]
    fn overlong_and_invalid_lines_are_dropped_and_framing_recovers() {
        let mut f = LineFramer::new();
        let long = vec![b'A'; MAX_LINE + 10];
        assert!(f.push(&long).is_empty());
        assert_eq!(
            f.push(b"\r\nOK\r\n"),
            vec![Err(FrameError::TooLong), Ok("OK".to_string())]
        );
        assert_eq!(
            f.push(b"\xff\xfe\n"),
            vec![Err(FrameError::InvalidUtf8 { len: 2 })]
        );
        assert_eq!(ok(f.push(b"AFTER\n")), vec!["AFTER"]);
        // exactly MAX_LINE bytes is still accepted
        let mut f = LineFramer::new();
        let mut max = vec![b'B'; MAX_LINE];
        max.push(b'\n');
        assert_eq!(f.push(&max).len(), 1);
        assert!(f.push(&max)[0].is_ok());
    }

    #[test]
    fn aim_prefixes_are_stripped() {
        for p in ["]Q1", "]Q2", "]Q3", "]Q4", "]Q5", "]Q6", "]d2", "]C0"] {
            assert_eq!(strip_aim(&format!("{p}KZV1:X")), "KZV1:X");
        }
        assert_eq!(strip_aim("KZV1:X"), "KZV1:X");
        assert_eq!(strip_aim("]Q"), "]Q");
        assert_eq!(strip_aim("]é1"), "]é1");
    }

    #[test]
    fn stx_etx_blocks_and_plain_lines() {
        let mut f = MrzFramer::new();
        let mut got = f.push(b"\x02LINE1\rLI");
        got.extend(f.push(b"NE2\r\x03PLAIN\r\n"));
        assert_eq!(
            got,
            vec![
                MrzFrame::Block(vec!["LINE1".into(), "LINE2".into()]),
                MrzFrame::Line("PLAIN".into())
            ]
        );
    }
}
