//! Serial framing (LineFramer, MrzFramer) and the wedge classifier on
//! arbitrary bytes split at arbitrary points: `cargo +nightly fuzz run scan_serial_framing`.
#![no_main]

use evisa_scan::{LineFramer, MrzFramer, WedgeAssembler};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (cuts, bytes) = data.split_at(data.len().min(4));
    let mut lf = LineFramer::new();
    let mut mf = MrzFramer::new();
    let mut w = WedgeAssembler::new("fuzz");
    let mut prev = 0;
    let mut points: Vec<usize> = cuts.iter().map(|&c| c as usize % (bytes.len() + 1)).collect();
    points.sort();
    points.push(bytes.len());
    for p in points {
        let chunk = &bytes[prev..p];
        prev = p;
        for line in lf.push(chunk).into_iter().flatten() {
            assert!(line.len() <= evisa_scan::framer::MAX_LINE);
            let _ = w.push_line_all(&line);
        }
        let _ = mf.push(chunk);
    }
    let _ = w.flush();
});
