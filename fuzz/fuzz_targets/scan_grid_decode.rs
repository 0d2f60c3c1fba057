//! Attacker-chosen module matrices straight into the project's QR grid
//! decoder (format, RS correction, segments): an answer or an error, never a
//! panic. First byte picks the version; the rest are the modules, one bit each.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&v, rest)) = data.split_first() else {
        return;
    };
    let dim = 17 + 4 * (1 + usize::from(v) % 40);
    let dark: Vec<bool> = (0..dim * dim)
        .map(|i| rest.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1))
        .collect();
    let _ = evisa_scan::decode_grid(dim, &dark);
});
