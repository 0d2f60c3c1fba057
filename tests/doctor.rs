//! `evisa doctor` through the real binary, on real booths in temporary folders (the
//! sample TEST-ONLY keys, a training configuration, a database made by `evisa officer
//! add`): a good booth can serve; a corrupted database, a broken audit chain, a
//! world-writable configuration, a missing device, a clock set back, a missing
//! database, TEST-ONLY keys outside training and an invalid configuration each fail
//! the check they belong to, and the exit status says so. The JSON report keeps its
//! documented shape.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use evisa_store::audit::AuditKind;
use evisa_store::store::{AuditEvent, Store};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn evisa() -> Command {
    Command::new(env!("CARGO_BIN_EXE_evisa"))
}

struct Booth {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    config: PathBuf,
    db: PathBuf,
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A training booth laid out as the package lays it out: configuration beside its
/// pinned root key, a private state folder with the database, the trust folder with
/// the sample keys (no secrets), one supervisor. `extra` is appended to the
/// configuration (device sections).
fn booth_with(extra: &str) -> Booth {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    chmod(&dir, 0o755);
    let keys = dir.join("keys");
    std::fs::create_dir(&keys).unwrap();
    chmod(&keys, 0o755);
    for f in ["TEST-ONLY-issuer-2026.toml", "TEST-ONLY-revoked-2025.toml"] {
        std::fs::copy(repo().join("keys").join(f), keys.join(f)).unwrap();
        chmod(&keys.join(f), 0o644);
    }
    let root = dir.join("update-root.pub");
    std::fs::copy(repo().join("keys/TEST-ONLY-update-root.pub"), &root).unwrap();
    chmod(&root, 0o644);
    let state = dir.join("state");
    std::fs::create_dir(&state).unwrap();
    chmod(&state, 0o700);
    let config = dir.join("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "database = \"state/evisa.db\"\ntrust_store = \"keys\"\nupdate_root_key = \"update-root.pub\"\ntraining = true\n{extra}"
        ),
    )
    .unwrap();
    chmod(&config, 0o640);
    let mut child = evisa()
        .args([
            "officer",
            "add",
            "sup1",
            "--role",
            "supervisor",
            "--pin-stdin",
        ])
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"246810\n").unwrap();
    assert!(child.wait().unwrap().success(), "officer add");
    Booth {
        _tmp: tmp,
        db: state.join("evisa.db"),
        dir,
        config,
    }
}

fn booth() -> Booth {
    booth_with("")
}

fn doctor(config: &Path, json: bool) -> Output {
    let mut c = evisa();
    c.arg("doctor").arg("--config").arg(config);
    if json {
        c.arg("--json");
    }
    c.env_remove("EVISA_CONFIG").output().unwrap()
}

/// The exit code and the JSON report.
fn report(config: &Path) -> (i32, Value) {
    let out = doctor(config, true);
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
    (out.status.code().unwrap(), v)
}

/// The check named `name` in a report.
fn check<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {v}"))
}

fn failed(v: &Value) -> Vec<String> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

const EVERY_CHECK: [&str; 9] = [
    "config",
    "trust_store",
    "update_root",
    "database",
    "trust_update",
    "officers",
    "clock",
    "disk",
    "permissions",
];

#[test]
fn a_good_training_booth_can_serve() {
    let b = booth();
    let (code, v) = report(&b.config);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["ok"], true);
    assert_eq!(failed(&v), Vec::<String>::new());
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, EVERY_CHECK);
    // Training and a booth whose keys were never updated serve, with a warning each.
    assert_eq!(check(&v, "config")["severity"], "warning");
    assert_eq!(check(&v, "trust_update")["severity"], "warning");
    for name in [
        "trust_store",
        "update_root",
        "database",
        "officers",
        "clock",
    ] {
        assert_eq!(check(&v, name)["severity"], "pass", "{name}: {v:#}");
    }
    assert!(
        check(&v, "database")["detail"]
            .as_str()
            .unwrap()
            .contains("audit chain intact")
    );
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let b = booth_with("[sources.serial_scanner]\nport = \"/nonexistent/tty\"\n");
    let (code, v) = report(&b.config);
    assert_eq!(code, 1);
    let top: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(top, ["ok", "checks"]);
    assert_eq!(v["ok"], false);
    for c in v["checks"].as_array().unwrap() {
        let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "ok", "severity", "detail"], "{c}");
        assert!(c["name"].is_string() && c["detail"].is_string(), "{c}");
        let severity = c["severity"].as_str().unwrap();
        assert!(["pass", "warning", "failure"].contains(&severity), "{c}");
        // `ok` is false exactly for a failure.
        assert_eq!(c["ok"].as_bool().unwrap(), severity != "failure", "{c}");
    }
}

#[test]
fn the_human_report_marks_every_check_and_says_whether_the_booth_can_serve() {
    let b = booth_with("[sources.serial_mrz]\nport = \"/nonexistent/tty\"\n");
    let out = doctor(&b.config, false);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("✔ database: "), "{text}");
    assert!(text.contains("⚠ config: "), "{text}");
    assert!(text.contains("✘ device.serial_mrz: "), "{text}");
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("the booth CANNOT serve: 1 check(s) failed"),
        "{text}"
    );
    let b = booth();
    let text = String::from_utf8(doctor(&b.config, false).stdout).unwrap();
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("the booth can serve"),
        "{text}"
    );
}

#[test]
fn a_corrupted_database_fails_the_database_check() {
    let b = booth();
    // Every page but the first (the schema) overwritten: the file still opens as an
    // evisa database, and SQLite's integrity check finds the damage.
    let mut bytes = std::fs::read(&b.db).unwrap();
    assert!(bytes.len() > 3 * 4096, "{} bytes", bytes.len());
    for (i, byte) in bytes.iter_mut().enumerate().skip(4096) {
        *byte = (i % 251) as u8;
    }
    std::fs::write(&b.db, &bytes).unwrap();
    let (code, v) = report(&b.config);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(failed(&v), ["database"], "{v:#}");
    // The checks that need the database say they could not run, without failing twice.
    assert_eq!(check(&v, "clock")["severity"], "warning");
}

#[test]
fn a_broken_audit_chain_fails_the_database_check() {
    let b = booth();
    let conn = rusqlite::Connection::open(&b.db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_no_update; UPDATE audit SET details = '{\"forged\":1}' WHERE seq = 1;",
    )
    .unwrap();
    drop(conn);
    let (code, v) = report(&b.config);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(failed(&v), ["database"], "{v:#}");
    let detail = check(&v, "database")["detail"].as_str().unwrap();
    assert!(detail.contains("audit chain BROKEN at row 1"), "{detail}");
}

#[test]
fn a_world_writable_config_fails_the_permissions_check_and_group_writable_warns() {
    let b = booth();
    chmod(&b.config, 0o646);
    let (code, v) = report(&b.config);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(failed(&v), ["permissions"], "{v:#}");
    let detail = check(&v, "permissions")["detail"].as_str().unwrap();
    assert!(detail.contains("kiosk.toml is world-writable"), "{detail}");
    chmod(&b.config, 0o660);
    let (code, v) = report(&b.config);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(check(&v, "permissions")["severity"], "warning");
    // The state folder is held to the same bar.
    chmod(&b.config, 0o640);
    chmod(&b.dir.join("state"), 0o777);
    let (code, v) = report(&b.config);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(failed(&v), ["permissions"], "{v:#}");
}

#[test]
fn a_missing_serial_device_fails_its_device_check() {
    let b = booth_with(
        "[sources.serial_scanner]\nport = \"/nonexistent/ttyUSB-scanner\"\n\
         [sources.serial_mrz]\nport = \"/dev/null\"\n\
         [sources.camera]\ndevice = 63\n",
    );
    let (code, v) = report(&b.config);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        failed(&v),
        ["device.serial_scanner", "device.camera"],
        "{v:#}"
    );
    let detail = check(&v, "device.serial_scanner")["detail"]
        .as_str()
        .unwrap();
    assert!(
        detail.contains("/nonexistent/ttyUSB-scanner is missing"),
        "{detail}"
    );
    // A device that is there and opens passes: the check tells them apart.
    let mrz = check(&v, "device.serial_mrz");
    assert_eq!(mrz["severity"], "pass", "{mrz}");
    assert!(
        check(&v, "device.camera")["detail"]
            .as_str()
            .unwrap()
            .contains("/dev/video63")
    );
    // A path that exists but is no device is refused too.
    let b = booth_with("[sources.serial_scanner]\nport = \"/etc/hostname\"\n");
    let (_, v) = report(&b.config);
    assert!(
        check(&v, "device.serial_scanner")["detail"]
            .as_str()
            .unwrap()
            .contains("is not a device")
    );
}

#[test]
fn a_clock_before_the_last_recorded_decision_fails_the_clock_check() {
    let b = booth();
    let mut s = Store::open(&b.db).unwrap();
    s.append_audit(&AuditEvent {
        kind: AuditKind::Verdict,
        officer: Some("sup1"),
        terminal: Some("kiosk-1"),
        at: "2099-01-01T09:00:00+05:00",
        details: &serde_json::json!({"verdict": "ACCEPT", "codes": []}),
    })
    .unwrap();
    drop(s);
    let (code, v) = report(&b.config);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(failed(&v), ["clock"], "{v:#}");
    let detail = check(&v, "clock")["detail"].as_str().unwrap();
    assert!(
        detail.contains("BEFORE the last recorded event (verdict at 2099-01-01T09:00:00+05:00"),
        "{detail}"
    );
}

#[test]
fn a_missing_database_fails_and_the_doctor_does_not_create_it() {
    let b = booth();
    for e in std::fs::read_dir(b.dir.join("state")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let (code, v) = report(&b.config);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(failed(&v), ["database"], "{v:#}");
    assert!(!b.db.exists(), "the doctor created a database");
    assert_eq!(
        std::fs::read_dir(b.dir.join("state")).unwrap().count(),
        0,
        "the doctor left files in the state folder"
    );
}

#[test]
fn test_only_keys_outside_training_fail_the_trust_checks() {
    let b = booth();
    let text = std::fs::read_to_string(&b.config)
        .unwrap()
        .replace("training = true", "training = false");
    std::fs::write(&b.config, text).unwrap();
    let (code, v) = report(&b.config);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(failed(&v), ["trust_store", "update_root"], "{v:#}");
    assert!(
        check(&v, "trust_store")["detail"]
            .as_str()
            .unwrap()
            .contains("TEST-ONLY")
    );
}

#[test]
fn an_invalid_config_fails_and_nothing_else_is_checked() {
    let b = booth();
    std::fs::write(&b.config, "chekpoint = \"NQZ\"\n").unwrap();
    let (code, v) = report(&b.config);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["checks"].as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(failed(&v), ["config"]);
    assert!(
        check(&v, "config")["detail"]
            .as_str()
            .unwrap()
            .contains("chekpoint")
    );
    let (code, v) = report(&b.dir.join("missing.toml"));
    assert_eq!(code, 1);
    assert_eq!(failed(&v), ["config"]);
}

#[test]
fn a_usage_error_exits_2() {
    let out = evisa().args(["doctor", "--jsn"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

fn issuer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_evisa-issuer"))
}

fn run_ok(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A booth set up as docs/install.md says, with a ministry made up here (fresh keys,
/// not the TEST-ONLY samples) and no training: an empty trust folder filled by a
/// signed trust update, the update root pinned.
fn configured_booth() -> Booth {
    let b = booth();
    let ministry = b.dir.join("ministry");
    let issuers = ministry.join("issuers");
    std::fs::create_dir_all(&issuers).unwrap();
    let today = evisa_store::terminal::kazakhstan_today();
    run_ok(
        issuer()
            .args(["keygen", "--name", "issuer-a", "--not-before"])
            .arg((today - time::Duration::days(1)).to_string())
            .arg("--not-after")
            .arg((today + time::Duration::days(365)).to_string())
            .arg("--out")
            .arg(&issuers),
    );
    run_ok(
        issuer()
            .args(["update", "keygen-root", "--name", "root"])
            .arg("--out")
            .arg(&ministry),
    );
    let update = b.dir.join("trust-1.evu");
    run_ok(
        issuer()
            .args(["update", "sign", "--seq", "1", "--root-key"])
            .arg(ministry.join("root.key"))
            .arg("--keys")
            .arg(&issuers)
            .arg("--out")
            .arg(&update),
    );
    let root = b.dir.join("update-root.pub");
    std::fs::copy(ministry.join("root.pub"), &root).unwrap();
    chmod(&root, 0o644);
    for e in std::fs::read_dir(b.dir.join("keys")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let text = std::fs::read_to_string(&b.config)
        .unwrap()
        .replace("training = true", "training = false");
    std::fs::write(&b.config, text).unwrap();
    run_ok(
        evisa()
            .args(["update", "import", "--officer", "sup1"])
            .arg(&update)
            .arg("--config")
            .arg(&b.config),
    );
    b
}

#[test]
fn a_booth_set_up_as_documented_passes_every_check_without_training() {
    let b = configured_booth();
    let (code, v) = report(&b.config);
    assert_eq!(code, 0, "{v:#}");
    for c in v["checks"].as_array().unwrap() {
        assert_eq!(c["severity"], "pass", "{c}");
    }
    assert!(
        check(&v, "trust_update")["detail"]
            .as_str()
            .unwrap()
            .starts_with("last applied: trust update #1 on "),
        "{v:#}"
    );
}

#[test]
fn an_old_trust_update_warns_and_the_booth_still_serves() {
    let b = configured_booth();
    let conn = rusqlite::Connection::open(&b.db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER applied_updates_no_update;
         UPDATE applied_updates SET applied_at = '2020-01-01T09:00:00+05:00';",
    )
    .unwrap();
    drop(conn);
    let (code, v) = report(&b.config);
    assert_eq!(code, 0, "{v:#}");
    let c = check(&v, "trust_update");
    assert_eq!(c["severity"], "warning", "{c}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("older than 30 days (`trust_update_max_age_days`)"),
        "{c}"
    );
}

#[test]
fn a_booth_whose_every_account_is_locked_cannot_serve() {
    let b = booth();
    let conn = rusqlite::Connection::open(&b.db).unwrap();
    conn.execute("UPDATE officers SET locked = 1", []).unwrap();
    drop(conn);
    let (code, v) = report(&b.config);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(failed(&v), ["officers"], "{v:#}");
    assert!(
        check(&v, "officers")["detail"]
            .as_str()
            .unwrap()
            .contains("nobody can sign in")
    );
}

/// A training booth with a `[fleet]` section for a booth role on a real cluster.
fn fleet_booth(s: &crate::fleet::Server) -> Booth {
    s.admin
        .add_booth("nqz-1", "booth_nqz_1", "pwdoctor1", "NQZ")
        .unwrap();
    let b = booth_with(&format!(
        "terminal_id = \"nqz-1\"\n\n[fleet]\nhost = \"127.0.0.1\"\nport = {}\n\
         dbname = \"evisa_fleet\"\nuser = \"booth_nqz_1\"\ncredentials = \"fleet.pass\"\n\
         connect_timeout_ms = 2000\n",
        s.pg.port()
    ));
    let creds = b.dir.join("fleet.pass");
    std::fs::write(&creds, "pwdoctor1\n").unwrap();
    chmod(&creds, 0o600);
    b
}

#[test]
fn doctor_fleet_link_and_clock_pass_with_a_reachable_server() {
    let s = crate::fleet::server();
    let b = fleet_booth(&s);
    let (code, v) = report(&b.config);
    assert_eq!(check(&v, "fleet")["severity"], "pass", "{v}");
    let d = check(&v, "fleet")["detail"].as_str().unwrap();
    assert!(
        d.contains("0 decision(s) waiting") && d.contains("0 open conflict(s)"),
        "{d}"
    );
    assert_eq!(check(&v, "clock.fleet")["severity"], "pass", "{v}");
    assert_eq!(code, 0, "{v}");
}

#[test]
fn doctor_fleet_credentials_readable_by_others_fail_naming_the_file() {
    let s = crate::fleet::server();
    let b = fleet_booth(&s);
    chmod(&b.dir.join("fleet.pass"), 0o644);
    let (code, v) = report(&b.config);
    assert_eq!(check(&v, "fleet")["severity"], "failure", "{v}");
    let d = check(&v, "fleet")["detail"].as_str().unwrap();
    assert!(d.contains("fleet.pass") && d.contains("chmod 600"), "{d}");
    assert_eq!(code, 1, "{v}");
}

#[test]
fn doctor_fleet_unreachable_server_warns_that_the_booth_serves_provisionally() {
    let mut s = crate::fleet::server();
    let b = fleet_booth(&s);
    s.pg.stop().unwrap();
    let (code, v) = report(&b.config);
    let c = check(&v, "fleet");
    assert_eq!(c["severity"], "warning", "{v}");
    let d = c["detail"].as_str().unwrap();
    assert!(
        d.contains("unreachable") && d.contains("PROVISIONAL") && d.contains("waiting"),
        "{d}"
    );
    assert_eq!(check(&v, "clock.fleet")["severity"], "warning", "{v}");
    assert_eq!(code, 0, "the booth serves offline: {v}");
}
