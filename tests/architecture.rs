//! The workspace's shape is a property the compiler cannot check alone: the pure core
//! must not regain a dependency on storage, images, async, screens or devices, and the
//! booth binary must not carry the ministry's signing tools or the test-key writers.

use std::process::Command;

/// Crates that would make the core impure: a database, image decoding, an async
/// runtime, a screen, a serial port, a camera.
const NOT_IN_CORE: [&str; 8] = [
    "rusqlite",
    "libsqlite3-sys",
    "image",
    "tokio",
    "ratatui",
    "crossterm",
    "serialport",
    "nokhwa",
];

#[test]
fn the_core_depends_on_no_database_image_async_screen_or_device_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "-p",
            "evisa-core",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--locked", "--offline"])
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"evisa-core"), "{tree}");
    assert!(crates.contains(&"ed25519-dalek"), "{tree}");
    for banned in NOT_IN_CORE {
        assert!(
            !crates.contains(&banned),
            "evisa-core depends on {banned}:\n{tree}"
        );
    }
    // Nor on any other crate of the workspace: dependencies point at the core.
    for c in crates {
        assert!(
            c == "evisa-core" || !c.starts_with("evisa-"),
            "evisa-core depends on {c}"
        );
    }
}

fn help(exe: &str, args: &[&str]) -> String {
    let out = Command::new(exe).args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "{exe} {args:?} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// The command names a `--help` lists (the first word of each indented line under
/// "Commands:").
fn commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn the_booth_binary_has_no_signing_command_and_no_test_key_writer() {
    let booth = env!("CARGO_BIN_EXE_evisa");
    let tools = env!("CARGO_BIN_EXE_evisa-issuer");
    let top = commands(&help(booth, &[]));
    assert_eq!(
        top,
        [
            "decode", "verify", "kiosk", "officer", "audit", "update", "doctor", "fleet", "help"
        ],
        "the booth's commands"
    );
    assert_eq!(commands(&help(booth, &["update"])), ["import", "help"]);
    // The ministry's side lives in the other binary.
    let tools_top = commands(&help(tools, &[]));
    for c in ["keygen", "issue", "fixtures", "simulate", "bench", "update"] {
        assert!(
            tools_top.iter().any(|t| t == c),
            "evisa-issuer lacks {c}: {tools_top:?}"
        );
    }
    assert_eq!(
        commands(&help(tools, &["update"])),
        ["sign", "keygen-root", "help"]
    );
    // And the booth refuses them as unknown commands, not as hidden ones.
    for c in ["keygen", "issue", "fixtures", "simulate", "bench"] {
        let out = Command::new(booth).arg(c).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "evisa {c}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand"));
    }
}

/// The booth binary's bytes do not hold the fixture seeds' derivation text, the
/// signing-page renderer's labels or the sample-update writer: linking them would be
/// how a test-key writer slips back in.
#[test]
fn the_booth_binary_links_no_test_key_writer_or_issuer_code() {
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_evisa")).unwrap();
    let holds = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    for marker in [
        "evisa fixture key ",
        "# Sample signed updates (TEST ONLY)",
        "wrote {n} cases",
    ] {
        assert!(!holds(marker), "the booth binary contains {marker:?}");
    }
    let tools = std::fs::read(env!("CARGO_BIN_EXE_evisa-issuer")).unwrap();
    assert!(
        tools.windows(18).any(|w| w == b"evisa fixture key "),
        "control: the tools binary does hold the fixture-key derivation"
    );
}
