#![no_main]
//! Update files arrive on removable media: `update::parse` must never panic on any
//! input. (Register in fuzz/Cargo.toml as `[[bin]] name = "update_parse"`; run
//! `cargo +nightly fuzz run update_parse`, seeding the corpus with
//! `fixtures/updates/*.evu`.)

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The sample updates' root (its public half is all `parse` needs).
    let (_, public) = evisa_core::trust::TEST_ONLY_KEYS
        .iter()
        .find(|(name, _)| *name == evisa_core::update::TEST_ROOT_NAME)
        .expect("the test-only root is listed");
    let root = ed25519_dalek::VerifyingKey::from_bytes(public).expect("a valid key");
    let _ = evisa_core::update::parse(data, &root);
});
