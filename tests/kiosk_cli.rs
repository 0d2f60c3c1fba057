//! The kiosk's command-line side through the real binary: configuration errors are
//! reported before any screen opens, and `evisa officer add|unlock|list` manage the
//! accounts (PINs on standard input), including lifting a lock-out.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use evisa_store::officers::SignIn;
use evisa_store::store::Store;

fn evisa(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The program may exit before reading (a refused command): a closed pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_wrong_setting_is_named_before_the_screen_opens() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kiosk.toml");
    for (text, setting) in [
        ("direction = \"inbound\"\n", "`direction`"),
        (
            "[sources.serial_scanner]\nport = \"\"\n",
            "`sources.serial_scanner.port`",
        ),
        ("checkpont = \"NQZ\"\n", "checkpont"),
    ] {
        std::fs::write(&cfg, text).unwrap();
        let o = evisa(&["kiosk", "--config", cfg.to_str().unwrap()], "");
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(setting), "{setting}: {}", stderr(&o));
        // Nothing was drawn: no alternate screen was entered.
        assert!(o.stdout.is_empty());
    }
    let o = evisa(&["kiosk", "--config", "/nonexistent/kiosk.toml"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/kiosk.toml"));
    let o = evisa(&["kiosk", "--keys", "/nonexistent-keys", "--demo"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nonexistent-keys"), "{}", stderr(&o));
    let o = evisa(&["kiosk", "--demo", "--date", "25.11.2026"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--date"), "{}", stderr(&o));
}

#[test]
fn officer_accounts_and_unlock_by_a_supervisor() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let d = db.to_str().unwrap();
    let add = |id: &str, role: &str, pin: &str| {
        evisa(
            &[
                "officer",
                "add",
                id,
                "--role",
                role,
                "--pin-stdin",
                "--db",
                d,
            ],
            &format!("{pin}\n"),
        )
    };
    assert!(add("O1", "officer", "1234").status.success());
    assert!(add("S1", "supervisor", "987654").status.success());
    let o = add("O2", "officer", "12");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("4 to 12 digits"));
    assert_eq!(add("O1", "officer", "5555").status.code(), Some(2));

    // Five wrong PINs lock O1.
    {
        let mut s = Store::open(Path::new(d)).unwrap();
        for _ in 0..5 {
            s.check_pin("O1", "0000").unwrap();
        }
        assert_eq!(s.check_pin("O1", "1234").unwrap(), SignIn::Locked);
    }
    let list = evisa(&["officer", "list", "--db", d], "");
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("O1") && text.contains("LOCKED"), "{text}");
    assert!(text.contains("S1") && text.contains("supervisor"), "{text}");

    // An officer cannot unlock; a wrong supervisor PIN cannot either.
    let unlock = |by: &str, pin: &str| {
        evisa(
            &[
                "officer",
                "unlock",
                "O1",
                "--supervisor",
                by,
                "--pin-stdin",
                "--db",
                d,
            ],
            &format!("{pin}\n"),
        )
    };
    assert!(add("O3", "officer", "4321").status.success());
    let o = unlock("O3", "4321");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a supervisor"), "{}", stderr(&o));
    let o = unlock("S1", "111111");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("wrong supervisor"), "{}", stderr(&o));
    assert!(unlock("S1", "987654").status.success());
    let mut s = Store::open(Path::new(d)).unwrap();
    assert!(matches!(
        s.check_pin("O1", "1234").unwrap(),
        SignIn::Ok { .. }
    ));
    // Every account change is in the audit log.
    let n: i64 = s
        .connection()
        .query_row(
            "SELECT count(*) FROM audit WHERE kind = 'settings_change'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 4, "three adds and one unlock");
}

/// Bug: `kiosk --demo --db real.db` signed the built-in supervisor in on the real
/// database without a PIN. Demo mode only runs on its in-memory database: with a real
/// one it refuses to start (exit 2) and leaves the file untouched.
#[test]
fn demo_mode_refuses_a_real_database_instead_of_a_supervisor_without_a_pin() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("real.db");
    let o = evisa(
        &[
            "officer",
            "add",
            "O1",
            "--pin-stdin",
            "--db",
            db.to_str().unwrap(),
        ],
        "1234\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(&db).unwrap();

    let o = evisa(&["kiosk", "--demo", "--db", db.to_str().unwrap()], "");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--demo") && stderr(&o).contains("--db"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty(), "a screen was opened");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the database changed");

    // A configuration naming a database is refused the same way...
    let cfg = dir.path().join("kiosk.toml");
    std::fs::write(&cfg, format!("database = {:?}\n", db.to_str().unwrap())).unwrap();
    let o = evisa(&["kiosk", "--demo", "--config", cfg.to_str().unwrap()], "");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("`database`"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&db).unwrap(), before, "the database changed");
    // ...and a nonexistent one is not created.
    let fresh = dir.path().join("fresh.db");
    let o = evisa(&["kiosk", "--demo", "--db", fresh.to_str().unwrap()], "");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!fresh.exists());
}
