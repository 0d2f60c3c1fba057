//! Untrusted MRZ text, as a passport reader or a typing officer may deliver it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = evisa_core::mrz::parse(text, time::macros::date!(2026 - 11 - 25));
    }
});
