#![no_main]
//! Update files arrive on removable media: `update::parse` must never panic on any
//! input. (Register in fuzz/Cargo.toml as `[[bin]] name = "update_parse"`; run
//! `cargo +nightly fuzz run update_parse`, seeding the corpus with
//! `fixtures/updates/*.evu`.)

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let root = evisa_testkit::samples::test_root_key().verifying_key();
    let _ = evisa_core::update::parse(data, &root);
});
