//! Another program's database is not ours to change (issue 8, defect 10): every command
//! that takes `--db`, pointed at another application's SQLite file or at a file that is
//! not SQLite at all, refuses with an error naming the file and leaves it (and its
//! folder) byte-identical. An evisa database carries the application id; one made
//! before the id existed still opens, and the audit commands never write.

use evisa_store::audit::AuditKind;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use evisa_store::store::{APPLICATION_ID, AuditEvent, SCHEMA_VERSION, Store, StoreError};
use rusqlite::Connection;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn case(name: &str) -> PathBuf {
    repo().join("fixtures/cases/accept_tourist").join(name)
}

/// Every file in `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect()
}

/// The commands that take `--db`, each pointed at `db` (the trust folder and the
/// update file live outside `db`'s folder).
fn commands(db: &Path, keys: &Path) -> Vec<(&'static str, Command)> {
    let exe = env!("CARGO_BIN_EXE_evisa");
    let verify = |record: bool| {
        let mut c = Command::new(exe);
        c.arg("verify")
            .args(["--date", "2026-11-25", "--checkpoint", "NQZ", "--qr-file"])
            .arg(case("qr.txt"))
            .arg("--mrz-file")
            .arg(case("mrz.txt"))
            .arg("--keys")
            .arg(keys)
            .arg("--db")
            .arg(db);
        if record {
            c.arg("--record");
        }
        c
    };
    let mut audit_verify = Command::new(exe);
    audit_verify.args(["audit", "verify", "--db"]).arg(db);
    let mut audit_export = Command::new(exe);
    audit_export.args(["audit", "export", "--db"]).arg(db);
    let mut import = Command::new(exe);
    import
        .args(["update", "import"])
        .arg(repo().join("fixtures/updates/revoked-visas-1.evu"))
        .arg("--root-pub")
        .arg(repo().join("keys/TEST-ONLY-update-root.pub"))
        // The sample root is test-only: without training mode the import would stop
        // at the trust policy before it ever looked at the database.
        .arg("--training")
        .arg("--keys")
        .arg(keys)
        .arg("--db")
        .arg(db);
    let mut officers = Command::new(exe);
    officers.args(["officer", "list", "--db"]).arg(db);
    vec![
        ("verify --db", verify(false)),
        ("verify --record --db", verify(true)),
        ("audit verify --db", audit_verify),
        ("audit export --db", audit_export),
        ("update import --db", import),
        ("officer list --db", officers),
    ]
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// Runs every command on a fresh copy of the file `make` writes and checks it refused
/// and changed nothing.
fn every_command_refuses(make: impl Fn(&Path), why: &str) {
    let keys_dir = tempfile::tempdir().unwrap();
    let keys = keys_dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    for f in std::fs::read_dir(repo().join("keys")).unwrap() {
        let f = f.unwrap();
        if f.file_type().unwrap().is_file() {
            std::fs::copy(f.path(), keys.join(f.file_name())).unwrap();
        }
    }
    let count = commands(Path::new("unused"), &keys).len();
    for i in 0..count {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("their.db");
        make(&db);
        let before = snapshot(dir.path());
        let (name, mut cmd) = commands(&db, &keys).swap_remove(i);
        let o = cmd.output().unwrap();
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {out}");
        assert!(
            out.contains(&db.display().to_string()),
            "{name}: the error does not name the file: {out}"
        );
        assert!(out.contains("not an evisa database"), "{name}: {out}");
        assert!(out.contains(why), "{name}: expected {why:?} in {out}");
        assert_eq!(
            before,
            snapshot(dir.path()),
            "{name}: the folder of {} changed",
            db.display()
        );
    }
}

#[test]
fn another_applications_sqlite_file_is_refused_untouched() {
    every_command_refuses(
        |p| {
            let c = Connection::open(p).unwrap();
            c.execute_batch(
                "CREATE TABLE songs (id INTEGER PRIMARY KEY, title TEXT);
                 INSERT INTO songs (title) VALUES ('Dombra');",
            )
            .unwrap();
        },
        "songs",
    );
}

#[test]
fn another_applications_wal_database_with_its_own_id_is_refused_untouched() {
    every_command_refuses(
        |p| {
            let c = Connection::open(p).unwrap();
            c.pragma_update(None, "journal_mode", "WAL").unwrap();
            c.pragma_update(None, "application_id", 0x1234_5678)
                .unwrap();
            c.pragma_update(None, "user_version", 7).unwrap();
            c.execute_batch("CREATE TABLE movements (x)").unwrap();
        },
        "application id 0x12345678",
    );
}

#[test]
fn a_versioned_sqlite_file_without_tables_is_refused_untouched() {
    every_command_refuses(
        |p| {
            let c = Connection::open(p).unwrap();
            c.pragma_update(None, "user_version", 5).unwrap();
        },
        "schema version 5",
    );
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_untouched() {
    every_command_refuses(
        |p| std::fs::write(p, b"this is a spreadsheet, not a database\n".repeat(200)).unwrap(),
        "not a SQLite database",
    );
}

fn app_id(p: &Path) -> i32 {
    Connection::open_with_flags(p, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap()
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_new_database_carries_the_evisa_application_id() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.db");
    drop(Store::open(&fresh).unwrap());
    assert_eq!(app_id(&fresh), APPLICATION_ID);
    // An empty file (what a crash mid-creation can leave) is a new database too.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    drop(Store::open(&empty).unwrap());
    assert_eq!(app_id(&empty), APPLICATION_ID);
}

#[test]
fn an_evisa_database_from_before_the_application_id_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    let mut s = Store::open(&db).unwrap();
    s.append_audit(&AuditEvent {
        kind: AuditKind::SignIn,
        officer: Some("o1"),
        terminal: None,
        at: "2026-11-25T09:00:00+05:00",
        details: &serde_json::json!({}),
    })
    .unwrap();
    drop(s);
    Connection::open(&db)
        .unwrap()
        .pragma_update(None, "application_id", 0)
        .unwrap();
    assert_eq!(app_id(&db), 0);
    // The audit commands read it as it is...
    let before = std::fs::read(&db).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .args(["audit", "verify", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(before, std::fs::read(&db).unwrap());
    // ...and the terminal's next open stamps the id.
    let s = Store::open(&db).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    drop(s);
    assert_eq!(app_id(&db), APPLICATION_ID);
}

#[test]
fn audit_commands_never_change_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("booth.db");
    let mut s = Store::open(&db).unwrap();
    for i in 0..3 {
        s.append_audit(&AuditEvent {
            kind: AuditKind::SignIn,
            officer: Some("o1"),
            terminal: Some("NQZ-01"),
            at: "2026-11-25T09:00:00+05:00",
            details: &serde_json::json!({ "n": i }),
        })
        .unwrap();
    }
    drop(s);
    let before = std::fs::read(&db).unwrap();
    for args in [
        &["audit", "verify", "--db"][..],
        &["audit", "export", "--db"][..],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_evisa"))
            .args(args)
            .arg(&db)
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        assert_eq!(before, std::fs::read(&db).unwrap(), "{args:?} changed it");
    }
    // An empty file is not an audit log to verify, and stays empty.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = Store::open_read_only(&empty).err().expect("opened");
    assert!(matches!(err, StoreError::NotEvisa { .. }), "{err}");
    assert_eq!(std::fs::read(&empty).unwrap(), b"");
}
