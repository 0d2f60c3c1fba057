//! Untrusted QR text (and its decoded bytes) through the whole verification path.
#![no_main]

use evisa_core::payload;
use evisa_core::rules::{self, Checkpoint, Direction, History};
use evisa_core::trust::TrustStore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let trust = TrustStore::default();
    let at = Checkpoint {
        date: time::macros::date!(2026 - 11 - 25),
        code: "NQZ".into(),
        direction: Direction::Entry,
    };
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = rules::decide(&rules::read_visa(text, &trust), text, &History::default(), &at);
    }
    // The same bytes as a COSE message and as a claims map, past the transport layer.
    let _ = payload::parse_cose(data);
    let _ = payload::parse_claims(data);
    let wrapped = payload::wrap_transport(data, data.first().is_some_and(|b| b & 1 == 1));
    let _ = rules::read_visa(&wrapped, &trust);
});
