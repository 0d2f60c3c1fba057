//! The command line against hostile input, through the real binary: endless and huge
//! files, images that claim to be enormous, payload strings carrying terminal control
//! sequences, test-only keys where a terminal expects real ones, and a configured
//! terminal whose database must be used. Each test names the bug it guards.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use evisa_store::store::Store;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(case: &str, file: &str) -> PathBuf {
    repo().join("fixtures/cases").join(case).join(file)
}

/// Runs the binary with stdin from `stdin` (default: empty). A hang guard, not a
/// timing check: a read that never ends would otherwise hang the test suite, so the
/// child is killed after two minutes and the test fails saying so.
fn run_with(args: &[&std::ffi::OsStr], stdin: Option<std::fs::File>) -> Output {
    let mut child = Command::new(crate::exe_for(args))
        .current_dir(repo())
        .args(args)
        .env_remove("EVISA_CONFIG")
        .env_remove("EVISA_UPDATE_ROOT")
        .env_remove("EVISA_DB")
        .stdin(stdin.map_or_else(Stdio::null, Stdio::from))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("evisa {args:?} did not return: an unbounded read");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = Output {
        status: child.wait().unwrap(),
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut out.stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut out.stderr)
        .unwrap();
    out
}

fn run(args: &[&str]) -> Output {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    run_with(&args, None)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A 4 GiB file that takes no disk space.
fn sparse(dir: &Path, name: &str) -> String {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().set_len(4 << 30).unwrap();
    p.display().to_string()
}

fn assert_too_large(o: &Output, what: &str) {
    // An update file is refused as a file (exit 1, nothing changed); the rest are
    // operational errors (exit 2).
    let code = if what.starts_with("update import") {
        1
    } else {
        2
    };
    assert_eq!(o.status.code(), Some(code), "{what}: {}", stderr(o));
    // /dev/zero as the root key is refused even before reading: others can write it.
    let writable = what.starts_with("--root-pub") && stderr(o).contains("world-writable");
    assert!(
        stderr(o).contains("is larger than") || stderr(o).contains("more than") || writable,
        "{what}: {}",
        stderr(o)
    );
}

#[test]
fn qr_file_dev_zero_and_every_other_input_is_read_with_a_cap() {
    let tmp = tempfile::tempdir().unwrap();
    let mrz = fixture("accept_tourist", "mrz.txt").display().to_string();
    let qr = fixture("accept_tourist", "qr.txt").display().to_string();
    let keys = repo().join("keys").display().to_string();
    let issuer_key = repo()
        .join("keys/test-only-secret/TEST-ONLY-issuer-2026.key")
        .display()
        .to_string();
    let visa = repo()
        .join("fixtures/visas/eriksson.toml")
        .display()
        .to_string();
    let db = tmp.path().join("t.db").display().to_string();
    drop(Store::open(Path::new(&db)).unwrap());
    // A trust store whose one key file is huge.
    let big_keys = tmp.path().join("big-keys");
    std::fs::create_dir(&big_keys).unwrap();
    sparse(&big_keys, "huge.toml");
    let big_keys = big_keys.display().to_string();
    for endless in ["/dev/zero".to_string(), sparse(tmp.path(), "big")] {
        let e = endless.as_str();
        let cases: Vec<(&str, Vec<&str>)> = vec![
            (
                "--qr-file",
                vec![
                    "verify",
                    "--qr-file",
                    e,
                    "--mrz-file",
                    &mrz,
                    "--keys",
                    &keys,
                ],
            ),
            (
                "--mrz-file",
                vec!["verify", "--qr-file", &qr, "--mrz-file", e, "--keys", &keys],
            ),
            (
                "--image",
                vec!["verify", "--image", e, "--mrz-file", &mrz, "--keys", &keys],
            ),
            ("decode", vec!["decode", e]),
            (
                "--config",
                vec![
                    "verify",
                    "--qr-file",
                    &qr,
                    "--mrz-file",
                    &mrz,
                    "--config",
                    e,
                ],
            ),
            ("kiosk --config", vec!["kiosk", "--config", e]),
            (
                "issue --visa",
                vec!["issue", "--key", &issuer_key, "--visa", e],
            ),
            ("issue --key", vec!["issue", "--key", e, "--visa", &visa]),
            (
                "update import",
                vec![
                    "update",
                    "import",
                    e,
                    "--root-pub",
                    "keys/TEST-ONLY-update-root.pub",
                    "--training",
                    "--db",
                    &db,
                    "--keys",
                    &keys,
                ],
            ),
            (
                "--root-pub",
                vec![
                    "update",
                    "import",
                    &qr,
                    "--root-pub",
                    e,
                    "--db",
                    &db,
                    "--keys",
                    &keys,
                ],
            ),
            (
                "update sign --root-key",
                vec![
                    "update",
                    "sign",
                    "--seq",
                    "1",
                    "--root-key",
                    e,
                    "--revoked-visas",
                    &qr,
                ],
            ),
            (
                "update sign --revoked-visas",
                vec![
                    "update",
                    "sign",
                    "--seq",
                    "1",
                    "--root-key",
                    "keys/test-only-secret/TEST-ONLY-update-root.key",
                    "--revoked-visas",
                    e,
                ],
            ),
            (
                "simulate --text",
                vec![
                    "simulate",
                    "--page",
                    "fixtures/visas/eriksson-page.png",
                    "--text",
                    e,
                    "--out",
                    "/nonexistent-out",
                ],
            ),
        ];
        for (what, args) in cases {
            assert_too_large(&run(&args), &format!("{what} {e}"));
        }
    }
    let o = run(&[
        "verify",
        "--qr-file",
        &qr,
        "--mrz-file",
        &mrz,
        "--keys",
        &big_keys,
    ]);
    assert_too_large(&o, "trust-store key file");
    assert!(stderr(&o).contains("huge.toml"), "{}", stderr(&o));
    // Standard input too.
    let o = run_with(
        &[
            "verify".as_ref(),
            "--qr-file".as_ref(),
            "-".as_ref(),
            "--mrz-file".as_ref(),
            mrz.as_ref(),
        ],
        Some(std::fs::File::open("/dev/zero").unwrap()),
    );
    assert_too_large(&o, "stdin");
    assert!(stderr(&o).contains("standard input"), "{}", stderr(&o));
    // The PIN of `officer add --pin-stdin` is one short line, not whatever stdin holds.
    let db = tmp.path().join("pins.db");
    let o = run_with(
        &[
            "officer".as_ref(),
            "add".as_ref(),
            "O9".as_ref(),
            "--pin-stdin".as_ref(),
            "--db".as_ref(),
            db.as_os_str(),
        ],
        Some(std::fs::File::open("/dev/zero").unwrap()),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("PIN line"), "{}", stderr(&o));
}

/// PNG bytes of a header that claims `w` × `h` pixels, followed by no real data.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01";
    png.extend_from_slice(&8u32.to_be_bytes());
    png.extend_from_slice(idat);
    png.extend_from_slice(&crc32(idat).to_be_bytes());
    png
}

#[test]
fn image_claiming_huge_dimensions_is_refused_before_allocating() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("huge.png");
    std::fs::write(&p, png_claiming(100_000, 100_000)).unwrap();
    let p = p.display().to_string();
    for args in [
        vec!["decode", p.as_str()],
        vec!["verify", "--image", &p, "--mrz", "x"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("huge.png"), "{}", stderr(&o));
        assert!(
            stderr(&o).to_lowercase().contains("limit"),
            "{}",
            stderr(&o)
        );
    }
}

const HOSTILE: &str = "ERIK\u{1b}[2J\u{1b}]0;ACCEPT\u{7}\u{9b}31m\u{202e}SSON\r\nACCEPT";

/// No byte a terminal would act on: C0 controls but the line feed, DEL, C1 controls
/// (U+0080–U+009F) and bidirectional overrides.
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for c in text.chars() {
        let bad = (c.is_control() && c != '\n')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(!bad, "{what}: raw {:?} in {text:?}", c);
    }
}

#[test]
fn payload_control_sequences_never_reach_the_terminal_raw() {
    let tmp = tempfile::tempdir().unwrap();
    let visa = std::fs::read_to_string(repo().join("fixtures/visas/eriksson.toml"))
        .unwrap()
        .replace(
            "surname = \"ERIKSSON\"",
            &format!("surname = {}", toml::Value::String(HOSTILE.into())),
        )
        .replace(
            "number = \"EV26KZ0012345\"",
            "number = \"EV\\u001b]2;x\\u0007\"",
        );
    let visa_file = tmp.path().join("hostile.toml");
    std::fs::write(&visa_file, visa).unwrap();
    let o = run(&[
        "issue",
        "--key",
        "keys/test-only-secret/TEST-ONLY-issuer-2026.key",
        "--visa",
        visa_file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let qr = stdout(&o).trim_end().to_string();
    let mrz = std::fs::read_to_string(fixture("accept_tourist", "mrz.txt")).unwrap();
    for json in [false, true] {
        let mut args = vec![
            "verify",
            "--qr",
            &qr,
            "--mrz",
            &mrz,
            "--keys",
            "keys",
            "--date",
            "2026-11-25",
        ];
        if json {
            args.push("--json");
        }
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_inert("verify stdout", &o.stdout);
        assert_inert("verify stderr", &o.stderr);
        if json {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            // JSON keeps the value exactly; only its encoding escapes it.
            assert_eq!(v["visa"]["h"]["sn"], HOSTILE);
        } else {
            assert!(stdout(&o).contains("ERIK\\u{1b}[2J"), "{}", stdout(&o));
            // The fake "ACCEPT" line stays on the holder's line.
            assert!(stdout(&o).lines().all(|l| l != "ACCEPT"), "{}", stdout(&o));
        }
    }
    // `decode` of a QR whose text is itself hostile.
    let img = evisa_issuer::qr_image(HOSTILE, 6).unwrap();
    let png = tmp.path().join("hostile.png");
    img.save(&png).unwrap();
    let o = run(&["decode", png.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_inert("decode stdout", &o.stdout);
    assert!(stdout(&o).contains("\\u{1b}"), "{}", stdout(&o));
    // An error message quoting a hostile file's content.
    let cfg = tmp.path().join("kiosk.toml");
    std::fs::write(&cfg, format!("checkpoint = \"NQZ\"\n{HOSTILE} = 1\n")).unwrap();
    let o = run(&["kiosk", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_inert("config error", &o.stderr);
    let key = tmp.path().join("keys");
    std::fs::create_dir(&key).unwrap();
    std::fs::write(key.join("k.toml"), format!("label = \"a\"\n{HOSTILE}\n")).unwrap();
    let o = run(&[
        "verify",
        "--qr",
        &qr,
        "--mrz",
        &mrz,
        "--keys",
        key.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_inert("key file error", &o.stderr);
}

fn write_config(dir: &Path, name: &str, extra: &str) -> String {
    let cfg = dir.join(name);
    std::fs::write(
        &cfg,
        format!(
            "trust_store = {:?}\ndatabase = {:?}\n{extra}",
            repo().join("keys"),
            dir.join("booth.db")
        ),
    )
    .unwrap();
    cfg.display().to_string()
}

fn verify_args(case: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "verify".into(),
        "--qr-file".into(),
        fixture(case, "qr.txt").display().to_string(),
        "--mrz-file".into(),
        fixture(case, "mrz.txt").display().to_string(),
        "--date".into(),
        "2026-11-25".into(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run_s(args: &[String]) -> Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&a)
}

#[test]
fn test_only_keys_are_not_trusted_silently_verify_warns_on_every_verdict() {
    // A plain tool run on the bundled test keys works, and says so: text and JSON,
    // ACCEPT and REJECT alike.
    for case in ["accept_tourist", "malformed_qr_base45", "unknown_key"] {
        let o = run_s(&verify_args(case, &["--keys", "keys"]));
        assert!(
            stdout(&o).contains("WARNING: TEST_ONLY_KEY")
                && stdout(&o).contains("not valid at a real border"),
            "{case}: {}",
            stdout(&o)
        );
        assert!(stdout(&o).contains("WARNING: NO_HISTORY"), "{}", stdout(&o));
        let o = run_s(&verify_args(case, &["--keys", "keys", "--json"]));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let obj = v.as_object().unwrap();
        for k in ["verdict", "reasons", "visa", "passport"] {
            assert!(obj.contains_key(k), "{k}: {v}");
        }
        assert_eq!(obj.len(), 5, "{v}");
        let w: Vec<&str> = v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert!(w.iter().any(|w| w.starts_with("TEST_ONLY_KEY: ")), "{w:?}");
        assert!(w.iter().any(|w| w.starts_with("NO_HISTORY: ")), "{w:?}");
    }
    // The signer is named when it is the test key.
    let o = run_s(&verify_args("accept_tourist", &["--keys", "keys"]));
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("signed with TEST-ONLY key keys/TEST-ONLY-issuer-2026.toml"),
        "{}",
        stdout(&o)
    );
    // The default trust store is named as such on every verdict.
    let o = run_s(&verify_args("accept_tourist", &[]));
    assert!(
        stdout(&o).contains("WARNING: DEFAULT_KEYS"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn configured_terminal_refuses_test_only_keys_outside_training_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    drop(Store::open(&tmp.path().join("booth.db")).unwrap());
    let cfg = write_config(tmp.path(), "plain.toml", "");
    let o = run_s(&verify_args("accept_tourist", &["--config", &cfg]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("TEST-ONLY-issuer-2026.toml") && stderr(&o).contains("TEST-ONLY key"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
    // Training, by the configuration or by the flag: allowed, and still said.
    for (cfg, flag) in [
        (
            write_config(tmp.path(), "training.toml", "training = true\n"),
            None,
        ),
        (
            write_config(tmp.path(), "plain.toml", ""),
            Some("--training"),
        ),
    ] {
        let mut extra = vec!["--config", cfg.as_str()];
        extra.extend(flag);
        let o = run_s(&verify_args("accept_tourist", &extra));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            stdout(&o).contains("WARNING: TEST_ONLY_KEY"),
            "{}",
            stdout(&o)
        );
        assert!(!stdout(&o).contains("NO_HISTORY"), "{}", stdout(&o));
    }
    // A test key renamed and relabelled is still known by its public key.
    let prod = tmp.path().join("prod-keys");
    std::fs::create_dir(&prod).unwrap();
    let text = std::fs::read_to_string(repo().join("keys/TEST-ONLY-issuer-2026.toml"))
        .unwrap()
        .replace(
            "TEST ONLY e-visa signer 2026 (not for production)",
            "MIA signer 2026",
        );
    std::fs::write(prod.join("mia-2026.toml"), text).unwrap();
    let cfg = tmp.path().join("prod.toml");
    std::fs::write(
        &cfg,
        format!(
            "trust_store = {:?}\ndatabase = {:?}\n",
            prod,
            tmp.path().join("booth.db")
        ),
    )
    .unwrap();
    let o = run_s(&verify_args(
        "accept_tourist",
        &["--config", cfg.to_str().unwrap()],
    ));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("mia-2026.toml"), "{}", stderr(&o));
    // The kiosk (no --demo) refuses too, before its screen opens.
    let o = run(&[
        "kiosk",
        "--keys",
        prod.to_str().unwrap(),
        "--db",
        tmp.path().join("k.db").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("mia-2026.toml"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn verify_config_uses_the_configured_database_so_a_revoked_visa_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("booth.db");
    let mut s = Store::open(&db).unwrap();
    s.revoke_visa("EV26KZ0012345", "cancelled (test)", "2026-11-01")
        .unwrap();
    drop(s);
    let cfg = write_config(tmp.path(), "training.toml", "training = true\n");
    let o = run_s(&verify_args(
        "accept_tourist",
        &["--config", &cfg, "--json"],
    ));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["reasons"][0]["code"], "VISA_REVOKED", "{v}");
    // --record uses it too.
    let o = run_s(&verify_args("accept_exit", &["--config", &cfg, "--record"]));
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    // A configured database that does not exist is an error, not an unchecked verdict.
    std::fs::remove_file(&db).unwrap();
    let o = run_s(&verify_args("accept_tourist", &["--config", &cfg]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("`database`"), "{}", stderr(&o));
    // Without any database the verdict says history was not checked.
    let o = run_s(&verify_args("accept_tourist", &["--keys", "keys"]));
    assert!(
        stdout(&o).contains("WARNING: NO_HISTORY") && stdout(&o).contains("NOT checked"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn every_key_evisa_fixtures_writes_is_known_as_test_only() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    let o = run(&[
        "fixtures",
        "--out",
        tmp.path().join("fx").to_str().unwrap(),
        "--keys",
        keys.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut seen = 0;
    for e in std::fs::read_dir(&keys).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let k =
                evisa_core::trust::parse_key_file("x.toml", &std::fs::read_to_string(&p).unwrap())
                    .unwrap();
            assert!(
                evisa_core::trust::is_test_only_key(&k.key),
                "{}",
                p.display()
            );
            seen += 1;
        }
        if p.extension().is_some_and(|x| x == "pub") {
            let k = evisa_store::import::read_root_pub(&p).unwrap();
            assert!(evisa_core::trust::is_test_only_key(&k), "{}", p.display());
            seen += 1;
        }
    }
    for e in std::fs::read_dir(keys.join("test-only-secret")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "key") {
            let k = evisa_issuer::key_from_pem(&std::fs::read_to_string(&p).unwrap()).unwrap();
            assert!(
                evisa_core::trust::is_test_only_key(&k.verifying_key()),
                "{}",
                p.display()
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 7);
}

#[cfg(target_os = "linux")]
#[test]
fn kiosk_start_removes_stale_import_staging_and_applies_the_trust_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::copy(
        repo().join("keys/TEST-ONLY-issuer-2026.toml"),
        keys.join("TEST-ONLY-issuer-2026.toml"),
    )
    .unwrap();
    let dead = (400_000u32..)
        .find(|p| !Path::new(&format!("/proc/{p}")).exists())
        .unwrap();
    let stale = tmp.path().join(format!(".keys.update-2-{dead}"));
    std::fs::create_dir(&stale).unwrap();
    let trust = evisa_store::trustdir::load_dir(&keys).unwrap();
    let e = evisa_store::import::terminal_start(&keys, &trust, false).unwrap_err();
    assert!(e.to_string().contains("TEST-ONLY-issuer-2026.toml"), "{e}");
    assert!(!stale.exists());
    std::fs::create_dir(&stale).unwrap();
    evisa_store::import::terminal_start(&keys, &trust, true).unwrap();
    assert!(!stale.exists());
}
