//! The root package's one integration-test binary: every file beside this one is a
//! module of it, so a test build links one binary instead of one per file. The tests
//! drive the real binaries (`evisa`, the booth, and `evisa-issuer`, the tools) and
//! real files, databases, processes and terminals.

mod architecture;
mod audit_tamper;
mod cases;
mod cli;
mod doctor;
mod fleet;
mod fleet_chaos;
mod fleet_updates;
mod foreign_db;
mod hostile_cli;
mod hostile_core;
mod kiosk_cli;
mod kiosk_pty;
mod kiosk_view;
mod mrz_corruption;
mod packaging;
mod properties;
mod scan_decode;
mod scan_props;
mod scan_replay;
mod scan_serial;
mod store_crash;
mod store_durability;
mod store_race;
mod update_crash;
mod update_import;

/// The binary that carries a command: the ministry and developer tools (signing,
/// fixtures, simulator, benchmarks) live in `evisa-issuer`, never in the booth's
/// `evisa`.
pub fn exe_for<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> &'static str {
    let word = |i: usize| args.get(i).and_then(|a| a.as_ref().to_str()).unwrap_or("");
    match (word(0), word(1)) {
        ("keygen" | "issue" | "fixtures" | "simulate" | "bench", _)
        | ("update", "sign" | "keygen-root") => env!("CARGO_BIN_EXE_evisa-issuer"),
        _ => env!("CARGO_BIN_EXE_evisa"),
    }
}
